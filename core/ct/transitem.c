/* RFC 9162 TransItems (ctca/transitem.h): one reader and one writer per
 * structure of sections 4.5-4.12 and 6.3, the signed inputs of SCTs and STHs,
 * and the checks a CA and a TLS client make on them. */
#include "ctca/transitem.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/ct/logkey_int.h"

/* opaque TBSCertificate<1..2^24-1> (4.7). */
#define TBS_VEC_MAX 0xffffffu
#define EXT_VEC_MAX 0xffffu
#define SIG_VEC_MAX 0xffffu
/* The largest item: an entry with a full TBS and a full extension vector. */
#define ITEM_MAX ((size_t)TBS_VEC_MAX + EXT_VEC_MAX + 256)

const char *ctca_trans_type_name(unsigned type)
{
    switch (type) {
    case CTCA_TT_X509_ENTRY_V2:
        return "x509_entry_v2";
    case CTCA_TT_PRECERT_ENTRY_V2:
        return "precert_entry_v2";
    case CTCA_TT_X509_SCT_V2:
        return "x509_sct_v2";
    case CTCA_TT_PRECERT_SCT_V2:
        return "precert_sct_v2";
    case CTCA_TT_STH_V2:
        return "signed_tree_head_v2";
    case CTCA_TT_CONSISTENCY_PROOF_V2:
        return "consistency_proof_v2";
    case CTCA_TT_INCLUSION_PROOF_V2:
        return "inclusion_proof_v2";
    }
    return "unknown";
}

/* ---- log IDs ----------------------------------------------------------------- */

ctca_err ctca_log_id_v2_from_string(const char *s, ctca_log_id_v2 *out)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    CTCA_GUARD(ctca_oid_from_string(s, out->oid, sizeof out->oid, &len));
    /* Any OID has at least one contents octet; LogID needs two. */
    if (len < CTCA_LOG_ID_OID_MIN)
        return CTCA_ERR_VALUE_RANGE;
    out->len = len;
    return CTCA_OK;
}

ctca_err ctca_log_id_v2_to_string(const ctca_log_id_v2 *id, char *buf, size_t buf_len)
{
    return ctca_oid_to_string(ctca_view_make(id->oid, id->len), buf, buf_len);
}

bool ctca_log_id_v2_eq(const ctca_log_id_v2 *a, const ctca_log_id_v2 *b)
{
    return ctca_view_eq(ctca_view_make(a->oid, a->len), ctca_view_make(b->oid, b->len));
}

static bool log_id_ok(const ctca_log_id_v2 *id)
{
    return id->len >= CTCA_LOG_ID_OID_MIN && id->len <= CTCA_LOG_ID_OID_MAX &&
           ctca_oid_is_valid(ctca_view_make(id->oid, id->len));
}

/* ---- pieces shared by the structures ------------------------------------------ */

static bool is_entry(unsigned t)
{
    return t == CTCA_TT_X509_ENTRY_V2 || t == CTCA_TT_PRECERT_ENTRY_V2;
}

static bool is_sct(unsigned t)
{
    return t == CTCA_TT_X509_SCT_V2 || t == CTCA_TT_PRECERT_SCT_V2;
}

static bool is_proof(unsigned t)
{
    return t == CTCA_TT_CONSISTENCY_PROOF_V2 || t == CTCA_TT_INCLUSION_PROOF_V2;
}

bool ctca_transitem_is_sct(const ctca_transitem *item)
{
    return is_sct(item->type);
}

static ctca_err check_type(uint16_t t)
{
    /* 10.2.3: 0x0000..0x00FF is reserved so that v1 SCTs are told apart. */
    if (t < CTCA_TT_X509_ENTRY_V2)
        return CTCA_ERR_TRANSITEM_RFC6962;
    if (t > CTCA_TT_INCLUSION_PROOF_V2)
        return CTCA_ERR_TRANSITEM_TYPE;
    return CTCA_OK;
}

/* 4.6: Extension { uint16 extension_type; opaque extension_data<0..2^16-1>; },
 * at most one per type, ordered by type. */
static ctca_err check_extensions(ctca_view v)
{
    long prev = -1;
    while (v.len > 0) {
        uint16_t type;
        ctca_view data;
        CTCA_GUARD(ctca_view_get_u16(&v, &type));
        CTCA_GUARD(ctca_tls_get_vec(&v, 2, 0, EXT_VEC_MAX, &data));
        if ((long)type <= prev)
            return CTCA_ERR_TRANSITEM_EXTENSIONS;
        prev = type;
    }
    return CTCA_OK;
}

static ctca_err dup_view(ctca_view v, uint8_t **out, size_t *out_len)
{
    /* Empty vectors stay non-NULL so "present, empty" is never "unset". */
    *out = malloc(v.len > 0 ? v.len : 1);
    if (*out == NULL)
        return CTCA_ERR_NOMEM;
    if (v.len > 0)
        memcpy(*out, v.data, v.len);
    *out_len = v.len;
    return CTCA_OK;
}

static ctca_err read_log_id(ctca_view *v, ctca_log_id_v2 *out)
{
    ctca_view c = *v, id;
    CTCA_GUARD(ctca_tls_get_vec(&c, 1, CTCA_LOG_ID_OID_MIN, CTCA_LOG_ID_OID_MAX, &id));
    if (!ctca_oid_is_valid(id))
        return CTCA_ERR_DER_OID;
    memcpy(out->oid, id.data, id.len);
    out->len = id.len;
    *v = c;
    return CTCA_OK;
}

/* NodeHash and issuer_key_hash are opaque<32..2^8-1> sized to the log's hash,
 * which can only be SHA-256 (10.2.1). */
static ctca_err read_hash(ctca_view *v, uint8_t out[CTCA_HASH_LEN])
{
    ctca_view c = *v, h;
    CTCA_GUARD(ctca_tls_get_vec(&c, 1, 32, 0xff, &h));
    if (h.len != CTCA_HASH_LEN)
        return CTCA_ERR_HASH_LEN;
    memcpy(out, h.data, CTCA_HASH_LEN);
    *v = c;
    return CTCA_OK;
}

static ctca_err read_extensions(ctca_view *v, ctca_transitem *it)
{
    ctca_view c = *v, ext;
    CTCA_GUARD(ctca_tls_get_vec(&c, 2, 0, EXT_VEC_MAX, &ext));
    CTCA_GUARD(check_extensions(ext));
    CTCA_GUARD(dup_view(ext, &it->extensions, &it->extensions_len));
    *v = c;
    return CTCA_OK;
}

static ctca_err read_signature(ctca_view *v, ctca_transitem *it)
{
    ctca_view sig;
    CTCA_GUARD(ctca_tls_get_vec(v, 2, 1, SIG_VEC_MAX, &sig));
    return dup_view(sig, &it->signature, &it->signature_len);
}

/* NodeHash path<0..2^16-1> (4.11, 4.12). */
static ctca_err read_path(ctca_view *v, ctca_transitem *it)
{
    ctca_view path;
    CTCA_GUARD(ctca_tls_get_vec(v, 2, 0, 0xffff, &path));
    it->path = calloc(CTCA_PROOF_MAX_NODES, CTCA_HASH_LEN);
    if (it->path == NULL)
        return CTCA_ERR_NOMEM;
    while (path.len > 0) {
        if (it->path_len == CTCA_PROOF_MAX_NODES)
            return CTCA_ERR_PROOF_TOO_LONG;
        CTCA_GUARD(read_hash(&path, it->path[it->path_len]));
        it->path_len++;
    }
    return CTCA_OK;
}

/* ---- parsing ------------------------------------------------------------------- */

static ctca_err read_body(ctca_view *v, ctca_transitem *it)
{
    ctca_view tbs;
    switch (it->type) {
    case CTCA_TT_X509_ENTRY_V2:
    case CTCA_TT_PRECERT_ENTRY_V2: /* TimestampedCertificateEntryDataV2, 4.7 */
        CTCA_GUARD(ctca_view_get_u64(v, &it->timestamp));
        CTCA_GUARD(read_hash(v, it->issuer_key_hash));
        CTCA_GUARD(ctca_tls_get_vec(v, 3, 1, TBS_VEC_MAX, &tbs));
        CTCA_GUARD(dup_view(tbs, &it->tbs, &it->tbs_len));
        return read_extensions(v, it);
    case CTCA_TT_X509_SCT_V2:
    case CTCA_TT_PRECERT_SCT_V2: /* SignedCertificateTimestampDataV2, 4.8 */
        CTCA_GUARD(read_log_id(v, &it->log_id));
        CTCA_GUARD(ctca_view_get_u64(v, &it->timestamp));
        CTCA_GUARD(read_extensions(v, it));
        return read_signature(v, it);
    case CTCA_TT_STH_V2: /* SignedTreeHeadDataV2 with TreeHeadDataV2, 4.9-4.10 */
        CTCA_GUARD(read_log_id(v, &it->log_id));
        CTCA_GUARD(ctca_view_get_u64(v, &it->timestamp));
        CTCA_GUARD(ctca_view_get_u64(v, &it->tree_size));
        CTCA_GUARD(read_hash(v, it->root_hash));
        CTCA_GUARD(read_extensions(v, it));
        return read_signature(v, it);
    case CTCA_TT_CONSISTENCY_PROOF_V2: /* 4.11 */
        CTCA_GUARD(read_log_id(v, &it->log_id));
        CTCA_GUARD(ctca_view_get_u64(v, &it->tree_size));
        CTCA_GUARD(ctca_view_get_u64(v, &it->tree_size_2));
        return read_path(v, it);
    case CTCA_TT_INCLUSION_PROOF_V2: /* 4.12 */
        CTCA_GUARD(read_log_id(v, &it->log_id));
        CTCA_GUARD(ctca_view_get_u64(v, &it->tree_size));
        CTCA_GUARD(ctca_view_get_u64(v, &it->leaf_index));
        return read_path(v, it);
    }
    return CTCA_ERR_TRANSITEM_TYPE;
}

ctca_err ctca_transitem_parse(ctca_view in, ctca_transitem *out)
{
    ctca_transitem it;
    uint16_t type;
    memset(&it, 0, sizeof it);
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_view_get_u16(&in, &type));
    CTCA_GUARD(check_type(type));
    it.type = (ctca_trans_type)type;
    ctca_err rc = read_body(&in, &it);
    if (rc == CTCA_OK)
        rc = ctca_view_expect_empty(in);
    if (rc != CTCA_OK) {
        ctca_transitem_cleanup(&it);
        return rc;
    }
    *out = it;
    return CTCA_OK;
}

ctca_err ctca_transitem_parse_as(ctca_view in, ctca_trans_type a, ctca_trans_type b,
                                 ctca_transitem *out)
{
    CTCA_GUARD(ctca_transitem_parse(in, out));
    if (out->type != a && out->type != b) {
        ctca_transitem_cleanup(out);
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    }
    return CTCA_OK;
}

void ctca_transitem_cleanup(ctca_transitem *item)
{
    if (item == NULL)
        return;
    free(item->tbs);
    free(item->extensions);
    free(item->signature);
    free(item->path);
    memset(item, 0, sizeof *item);
}

/* ---- writing ------------------------------------------------------------------- */

/* What the writer refuses before writing: the parser's checks that the builder's
 * TLS bounds do not already make. */
static ctca_err check_item(const ctca_transitem *it)
{
    CTCA_GUARD(check_type((uint16_t)it->type));
    if (!is_entry(it->type) && !log_id_ok(&it->log_id))
        return CTCA_ERR_DER_OID;
    if (is_proof(it->type) && it->path_len > CTCA_PROOF_MAX_NODES)
        return CTCA_ERR_PROOF_TOO_LONG;
    if (!is_proof(it->type))
        CTCA_GUARD(check_extensions(ctca_view_make(it->extensions, it->extensions_len)));
    return CTCA_OK;
}

static void write_log_id(ctca_builder *b, const ctca_log_id_v2 *id)
{
    ctca_builder_open_tls_vec(b, 1, CTCA_LOG_ID_OID_MIN, CTCA_LOG_ID_OID_MAX);
    ctca_builder_add_bytes(b, id->oid, id->len);
    ctca_builder_close(b);
}

static void write_hash(ctca_builder *b, const uint8_t h[CTCA_HASH_LEN])
{
    ctca_builder_add_u8(b, CTCA_HASH_LEN);
    ctca_builder_add_bytes(b, h, CTCA_HASH_LEN);
}

static void write_vec(ctca_builder *b, unsigned prefix, size_t min, size_t max,
                      const uint8_t *p, size_t n)
{
    ctca_builder_open_tls_vec(b, prefix, min, max);
    ctca_builder_add_bytes(b, p, n);
    ctca_builder_close(b);
}

/* TimestampedCertificateEntryDataV2 (4.7). */
static void write_entry_data(ctca_builder *b, uint64_t timestamp,
                             const uint8_t issuer_key_hash[CTCA_HASH_LEN], ctca_view tbs,
                             const uint8_t *ext, size_t ext_len)
{
    ctca_builder_add_u64(b, timestamp);
    write_hash(b, issuer_key_hash);
    write_vec(b, 3, 1, TBS_VEC_MAX, tbs.data, tbs.len);
    write_vec(b, 2, 0, EXT_VEC_MAX, ext, ext_len);
}

/* TreeHeadDataV2 (4.9). */
static void write_tree_head(ctca_builder *b, const ctca_transitem *it)
{
    ctca_builder_add_u64(b, it->timestamp);
    ctca_builder_add_u64(b, it->tree_size);
    write_hash(b, it->root_hash);
    write_vec(b, 2, 0, EXT_VEC_MAX, it->extensions, it->extensions_len);
}

static void write_item(ctca_builder *b, const ctca_transitem *it)
{
    ctca_builder_add_u16(b, (uint16_t)it->type);
    switch (it->type) {
    case CTCA_TT_X509_ENTRY_V2:
    case CTCA_TT_PRECERT_ENTRY_V2:
        write_entry_data(b, it->timestamp, it->issuer_key_hash,
                         ctca_view_make(it->tbs, it->tbs_len), it->extensions,
                         it->extensions_len);
        return;
    case CTCA_TT_X509_SCT_V2:
    case CTCA_TT_PRECERT_SCT_V2:
        write_log_id(b, &it->log_id);
        ctca_builder_add_u64(b, it->timestamp);
        write_vec(b, 2, 0, EXT_VEC_MAX, it->extensions, it->extensions_len);
        write_vec(b, 2, 1, SIG_VEC_MAX, it->signature, it->signature_len);
        return;
    case CTCA_TT_STH_V2:
        write_log_id(b, &it->log_id);
        write_tree_head(b, it);
        write_vec(b, 2, 1, SIG_VEC_MAX, it->signature, it->signature_len);
        return;
    case CTCA_TT_CONSISTENCY_PROOF_V2:
    case CTCA_TT_INCLUSION_PROOF_V2:
        write_log_id(b, &it->log_id);
        ctca_builder_add_u64(b, it->tree_size);
        ctca_builder_add_u64(b, it->type == CTCA_TT_INCLUSION_PROOF_V2 ? it->leaf_index
                                                                     : it->tree_size_2);
        ctca_builder_open_tls_vec(b, 2, 0, 0xffff);
        for (size_t i = 0; i < it->path_len; i++)
            write_hash(b, it->path[i]);
        ctca_builder_close(b);
        return;
    }
}

ctca_err ctca_transitem_serialize(const ctca_transitem *item, uint8_t **out, size_t *out_len)
{
    CTCA_GUARD(check_item(item));
    ctca_builder b;
    ctca_builder_init(&b, ITEM_MAX);
    write_item(&b, item);
    return ctca_builder_finish(&b, out, out_len);
}

/* ---- lists ----------------------------------------------------------------------- */

void ctca_transitem_list_cleanup(ctca_transitem_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        ctca_transitem_cleanup(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

ctca_err ctca_transitem_list_parse(ctca_view in, ctca_transitem_list *out)
{
    ctca_err rc;
    ctca_view body;
    ctca_transitem_list list = {NULL, 0};
    memset(out, 0, sizeof *out);
    /* 6.3: SerializedTransItem trans_item_list<1..2^16-1>; an empty list gets
     * its own code, as a CA is the one likely to produce it. */
    if ((rc = ctca_tls_get_vec(&in, 2, 0, 0xffff, &body)) != CTCA_OK ||
        (rc = ctca_view_expect_empty(in)) != CTCA_OK)
        goto out;
    if (body.len == 0) {
        rc = CTCA_ERR_TRANSITEM_LIST_EMPTY;
        goto out;
    }
    list.items = calloc(CTCA_TRANSITEM_LIST_MAX, sizeof *list.items);
    if (list.items == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    while (body.len > 0) {
        ctca_view one;
        if ((rc = ctca_tls_get_vec(&body, 2, 1, CTCA_TRANSITEM_MAX_LEN, &one)) != CTCA_OK)
            goto out;
        if (list.n == CTCA_TRANSITEM_LIST_MAX) {
            rc = CTCA_ERR_TRANSITEM_LIST_TOO_LONG;
            goto out;
        }
        if ((rc = ctca_transitem_parse(one, &list.items[list.n])) != CTCA_OK)
            goto out;
        list.n++;
    }
    *out = list;
    list.items = NULL;
    list.n = 0;
out:
    ctca_transitem_list_cleanup(&list);
    return rc;
}

ctca_err ctca_transitem_list_serialize(const ctca_transitem *items, size_t n, uint8_t **out,
                                       size_t *out_len)
{
    if (n == 0)
        return CTCA_ERR_TRANSITEM_LIST_EMPTY;
    if (n > CTCA_TRANSITEM_LIST_MAX)
        return CTCA_ERR_TRANSITEM_LIST_TOO_LONG;
    for (size_t i = 0; i < n; i++)
        CTCA_GUARD(check_item(&items[i]));
    ctca_builder b;
    ctca_builder_init(&b, 2 + 0xffff);
    ctca_builder_open_tls_vec(&b, 2, 1, 0xffff);
    for (size_t i = 0; i < n; i++) {
        ctca_builder_open_tls_vec(&b, 2, 1, CTCA_TRANSITEM_MAX_LEN);
        write_item(&b, &items[i]);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    return ctca_builder_finish(&b, out, out_len);
}

/* ---- signed inputs ------------------------------------------------------------------ */

ctca_err ctca_sct_v2_signed_input(const ctca_transitem *sct, const ctca_entry_v2 *entry,
                                  uint8_t **out, size_t *out_len)
{
    if (!is_sct(sct->type))
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    /* 8.1.3: the entry's type follows the SCT's; timestamp and extensions are
     * copied from the SCT, the rest is the verifier's own. */
    ctca_builder b;
    ctca_builder_init(&b, ITEM_MAX);
    ctca_builder_add_u16(&b, sct->type == CTCA_TT_X509_SCT_V2 ? CTCA_TT_X509_ENTRY_V2
                                                             : CTCA_TT_PRECERT_ENTRY_V2);
    write_entry_data(&b, sct->timestamp, entry->issuer_key_hash, entry->tbs, sct->extensions,
                     sct->extensions_len);
    return ctca_builder_finish(&b, out, out_len);
}

static ctca_err sha256_prefixed(uint8_t prefix, const uint8_t *a, size_t an, const uint8_t *b,
                                size_t bn, uint8_t out[CTCA_HASH_LEN])
{
    ctca_err rc = CTCA_ERR_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, &prefix, 1) == 1 && EVP_DigestUpdate(ctx, a, an) == 1 &&
        (bn == 0 || EVP_DigestUpdate(ctx, b, bn) == 1) && EVP_DigestFinal_ex(ctx, out, NULL) == 1)
        rc = CTCA_OK;
    EVP_MD_CTX_free(ctx);
    return rc;
}

ctca_err ctca_sct_v2_leaf_hash(const ctca_transitem *sct, const ctca_entry_v2 *entry,
                               uint8_t out[CTCA_HASH_LEN])
{
    uint8_t *leaf = NULL;
    size_t leaf_len = 0;
    CTCA_GUARD(ctca_sct_v2_signed_input(sct, entry, &leaf, &leaf_len));
    /* 4.7: leaves are hashed as HASH(0x00 || TransItem). */
    ctca_err rc = sha256_prefixed(0x00, leaf, leaf_len, NULL, 0, out);
    free(leaf);
    return rc;
}

ctca_err ctca_sth_v2_signed_input(const ctca_transitem *sth, uint8_t **out, size_t *out_len)
{
    if (sth->type != CTCA_TT_STH_V2)
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    ctca_builder b;
    ctca_builder_init(&b, 64 + EXT_VEC_MAX);
    write_tree_head(&b, sth);
    return ctca_builder_finish(&b, out, out_len);
}

/* ---- verification ------------------------------------------------------------------- */

/* The checks every signed v2 artifact shares: its log, then a key that can sign
 * v2 artifacts (10.2.2 lists no RSA scheme). */
static ctca_err check_log(const ctca_transitem *item, const ctca_log_v2 *log)
{
    if (!ctca_log_id_v2_eq(&item->log_id, &log->log_id))
        return CTCA_ERR_SCT_LOG_ID_MISMATCH;
    if (ctca_log_key_sig_alg(log->key) != CTCA_SIGALG_ECDSA)
        return CTCA_ERR_KEY_UNSUPPORTED;
    return CTCA_OK;
}

ctca_err ctca_sct_v2_verify(const ctca_transitem *sct, const ctca_log_v2 *log,
                            const ctca_entry_v2 *entry, uint64_t now_ms)
{
    if (!is_sct(sct->type))
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    CTCA_GUARD(check_log(sct, log));
    if (sct->timestamp > now_ms)
        return CTCA_ERR_SCT_FUTURE;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    CTCA_GUARD(ctca_sct_v2_signed_input(sct, entry, &msg, &msg_len));
    ctca_err rc = ctca_log_key_verify(log->key, msg, msg_len, sct->signature, sct->signature_len);
    free(msg);
    return rc;
}

ctca_err ctca_sth_v2_verify(const ctca_transitem *sth, const ctca_log_v2 *log)
{
    if (sth->type != CTCA_TT_STH_V2)
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    CTCA_GUARD(check_log(sth, log));
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    CTCA_GUARD(ctca_sth_v2_signed_input(sth, &msg, &msg_len));
    ctca_err rc = ctca_log_key_verify(log->key, msg, msg_len, sth->signature, sth->signature_len);
    free(msg);
    return rc;
}

ctca_err ctca_inclusion_v2_verify(const ctca_transitem *proof, const ctca_transitem *sth,
                                  const uint8_t leaf_hash[CTCA_HASH_LEN])
{
    if (proof->type != CTCA_TT_INCLUSION_PROOF_V2 || sth->type != CTCA_TT_STH_V2)
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    if (!ctca_log_id_v2_eq(&proof->log_id, &sth->log_id))
        return CTCA_ERR_SCT_LOG_ID_MISMATCH;
    if (proof->tree_size != sth->tree_size || proof->leaf_index >= proof->tree_size)
        return CTCA_ERR_PROOF_INVALID;
    /* 2.1.3.2, step by step. */
    uint64_t fn = proof->leaf_index, sn = proof->tree_size - 1;
    uint8_t r[CTCA_HASH_LEN];
    memcpy(r, leaf_hash, CTCA_HASH_LEN);
    for (size_t i = 0; i < proof->path_len; i++) {
        const uint8_t *p = proof->path[i];
        if (sn == 0)
            return CTCA_ERR_PROOF_INVALID;
        if ((fn & 1) || fn == sn) {
            CTCA_GUARD(sha256_prefixed(0x01, p, CTCA_HASH_LEN, r, CTCA_HASH_LEN, r));
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            CTCA_GUARD(sha256_prefixed(0x01, r, CTCA_HASH_LEN, p, CTCA_HASH_LEN, r));
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, sth->root_hash, CTCA_HASH_LEN) != 0)
        return CTCA_ERR_PROOF_INVALID;
    return CTCA_OK;
}
