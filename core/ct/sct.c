/* RFC 6962 SCT codec and the structures logs sign and hash (ctca/sct.h). */
#include "ctca/sct.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Largest serialized SCT: its fixed fields plus two full 16-bit vectors. */
#define SCT_MAX_LEN (1 + CTCA_LOG_ID_LEN + 8 + 2 + CTCA_SCT_MAX_EXTENSIONS + 4 + \
                     CTCA_SCT_MAX_SIGNATURE)
/* ASN.1Cert and TBSCertificate are opaque<1..2^24-1> (RFC 6962 3.1). */
#define CERT_VEC_MAX 0xffffffu
/* Signed input and Merkle leaf: one certificate plus fixed fields and extensions. */
#define SIGNED_INPUT_MAX (64 + CTCA_LOG_ID_LEN + CERT_VEC_MAX + CTCA_SCT_MAX_EXTENSIONS)

static ctca_err dup_view(ctca_view v, uint8_t **out)
{
    /* An empty vector is kept as a non-NULL allocation so "present, empty" and
     * "never set" cannot be confused. */
    *out = malloc(v.len > 0 ? v.len : 1);
    if (*out == NULL)
        return CTCA_ERR_NOMEM;
    if (v.len > 0)
        memcpy(*out, v.data, v.len);
    return CTCA_OK;
}

void ctca_sct_cleanup(ctca_sct *sct)
{
    if (sct == NULL)
        return;
    free(sct->extensions);
    free(sct->signature);
    memset(sct, 0, sizeof *sct);
}

/* Reads one SCT from *v, leaving whatever follows it. */
static ctca_err read_sct(ctca_view *v, ctca_sct *out)
{
    ctca_view c = *v, log_id, ext, sig;
    ctca_sct s;
    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_view_get_u8(&c, &s.version));
    /* Only v1 is defined; anything after a different version has unknown layout. */
    if (s.version != 0)
        return CTCA_ERR_SCT_VERSION;
    CTCA_GUARD(ctca_view_get_bytes(&c, CTCA_LOG_ID_LEN, &log_id));
    CTCA_GUARD(ctca_view_get_u64(&c, &s.timestamp));
    CTCA_GUARD(ctca_tls_get_vec(&c, 2, 0, CTCA_SCT_MAX_EXTENSIONS, &ext));
    CTCA_GUARD(ctca_view_get_u8(&c, &s.hash_alg));
    CTCA_GUARD(ctca_view_get_u8(&c, &s.sig_alg));
    CTCA_GUARD(ctca_tls_get_vec(&c, 2, 0, CTCA_SCT_MAX_SIGNATURE, &sig));
    memcpy(s.log_id, log_id.data, CTCA_LOG_ID_LEN);
    s.extensions_len = ext.len;
    s.signature_len = sig.len;
    ctca_err rc = dup_view(ext, &s.extensions);
    if (rc == CTCA_OK)
        rc = dup_view(sig, &s.signature);
    if (rc != CTCA_OK) {
        ctca_sct_cleanup(&s);
        return rc;
    }
    *out = s;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_sct_parse(ctca_view in, ctca_sct *out)
{
    ctca_sct s;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(read_sct(&in, &s));
    ctca_err rc = ctca_view_expect_empty(in);
    if (rc != CTCA_OK) {
        ctca_sct_cleanup(&s);
        return rc;
    }
    *out = s;
    return CTCA_OK;
}

static void write_sct(ctca_builder *b, const ctca_sct *sct)
{
    ctca_builder_add_u8(b, sct->version);
    ctca_builder_add_bytes(b, sct->log_id, CTCA_LOG_ID_LEN);
    ctca_builder_add_u64(b, sct->timestamp);
    ctca_builder_open_tls_vec(b, 2, 0, CTCA_SCT_MAX_EXTENSIONS);
    ctca_builder_add_bytes(b, sct->extensions, sct->extensions_len);
    ctca_builder_close(b);
    ctca_builder_add_u8(b, sct->hash_alg);
    ctca_builder_add_u8(b, sct->sig_alg);
    ctca_builder_open_tls_vec(b, 2, 0, CTCA_SCT_MAX_SIGNATURE);
    ctca_builder_add_bytes(b, sct->signature, sct->signature_len);
    ctca_builder_close(b);
}

ctca_err ctca_sct_serialize(const ctca_sct *sct, uint8_t **out, size_t *out_len)
{
    if (sct->version != 0)
        return CTCA_ERR_SCT_VERSION;
    ctca_builder b;
    ctca_builder_init(&b, SCT_MAX_LEN);
    write_sct(&b, sct);
    return ctca_builder_finish(&b, out, out_len);
}

void ctca_sct_list_cleanup(ctca_sct_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        ctca_sct_cleanup(&list->scts[i]);
    free(list->scts);
    list->scts = NULL;
    list->n = 0;
}

ctca_err ctca_sct_list_parse(ctca_view in, ctca_sct_list *out)
{
    ctca_err rc;
    ctca_view body;
    ctca_sct_list list = {NULL, 0};
    memset(out, 0, sizeof *out);
    /* RFC 6962 3.3: SerializedSCT sct_list <1..2^16-1>. An empty list gets its
     * own code: it is the one error a CA is likely to produce by mistake. */
    if ((rc = ctca_tls_get_vec(&in, 2, 0, 0xffff, &body)) != CTCA_OK)
        goto out;
    if ((rc = ctca_view_expect_empty(in)) != CTCA_OK)
        goto out;
    if (body.len == 0) {
        rc = CTCA_ERR_SCT_LIST_EMPTY;
        goto out;
    }
    list.scts = calloc(CTCA_SCT_LIST_MAX, sizeof *list.scts);
    if (list.scts == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    while (body.len > 0) {
        ctca_view one;
        if ((rc = ctca_tls_get_vec(&body, 2, 1, 0xffff, &one)) != CTCA_OK)
            goto out;
        if (list.n == CTCA_SCT_LIST_MAX) {
            rc = CTCA_ERR_SCT_LIST_TOO_LONG;
            goto out;
        }
        if ((rc = ctca_sct_parse(one, &list.scts[list.n])) != CTCA_OK)
            goto out;
        list.n++;
    }
    *out = list;
    list.scts = NULL;
    list.n = 0;
out:
    ctca_sct_list_cleanup(&list);
    return rc;
}

ctca_err ctca_sct_list_serialize(const ctca_sct *scts, size_t n, uint8_t **out, size_t *out_len)
{
    if (n == 0)
        return CTCA_ERR_SCT_LIST_EMPTY;
    if (n > CTCA_SCT_LIST_MAX)
        return CTCA_ERR_SCT_LIST_TOO_LONG;
    ctca_builder b;
    ctca_builder_init(&b, 2 + 0xffff);
    ctca_builder_open_tls_vec(&b, 2, 1, 0xffff);
    for (size_t i = 0; i < n; i++) {
        if (scts[i].version != 0) {
            ctca_builder_cleanup(&b);
            return CTCA_ERR_SCT_VERSION;
        }
        ctca_builder_open_tls_vec(&b, 2, 1, 0xffff);
        write_sct(&b, &scts[i]);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    return ctca_builder_finish(&b, out, out_len);
}

/* TimestampedEntry minus its timestamp (RFC 6962 3.4), which is also the tail
 * of the digitally-signed struct of 3.2: entry_type, signed_entry, extensions. */
static ctca_err write_entry(ctca_builder *b, const ctca_sct *sct, const ctca_signed_entry *entry)
{
    ctca_builder_add_u16(b, (uint16_t)entry->type);
    switch (entry->type) {
    case CTCA_ENTRY_X509:
        ctca_builder_open_tls_vec(b, 3, 1, CERT_VEC_MAX);
        ctca_builder_add_view(b, entry->leaf_cert);
        ctca_builder_close(b);
        break;
    case CTCA_ENTRY_PRECERT:
        ctca_builder_add_bytes(b, entry->issuer_key_hash, CTCA_LOG_ID_LEN);
        ctca_builder_open_tls_vec(b, 3, 1, CERT_VEC_MAX);
        ctca_builder_add_view(b, entry->tbs);
        ctca_builder_close(b);
        break;
    default:
        return CTCA_ERR_VALUE_RANGE;
    }
    ctca_builder_open_tls_vec(b, 2, 0, CTCA_SCT_MAX_EXTENSIONS);
    ctca_builder_add_bytes(b, sct->extensions, sct->extensions_len);
    ctca_builder_close(b);
    return CTCA_OK;
}

/* Both structures RFC 6962 builds over an entry, the signed input (3.2) and
 * the MerkleTreeLeaf (3.4), are two one-byte tags, the timestamp and the entry. */
static ctca_err build_over_entry(const ctca_sct *sct, const ctca_signed_entry *entry,
                                 uint8_t tag0, uint8_t tag1, uint8_t **out, size_t *out_len)
{
    if (sct->version != 0)
        return CTCA_ERR_SCT_VERSION;
    ctca_builder b;
    ctca_builder_init(&b, SIGNED_INPUT_MAX);
    ctca_builder_add_u8(&b, tag0);
    ctca_builder_add_u8(&b, tag1);
    ctca_builder_add_u64(&b, sct->timestamp);
    ctca_err rc = write_entry(&b, sct, entry);
    if (rc != CTCA_OK) {
        ctca_builder_cleanup(&b);
        return rc;
    }
    return ctca_builder_finish(&b, out, out_len);
}

ctca_err ctca_sct_signed_input(const ctca_sct *sct, const ctca_signed_entry *entry,
                               uint8_t **out, size_t *out_len)
{
    /* sct_version, then SignatureType certificate_timestamp (0) */
    return build_over_entry(sct, entry, sct->version, 0, out, out_len);
}

ctca_err ctca_merkle_tree_leaf(const ctca_sct *sct, const ctca_signed_entry *entry,
                               uint8_t **out, size_t *out_len)
{
    /* Version v1 (0), then MerkleLeafType timestamped_entry (0) */
    return build_over_entry(sct, entry, 0, 0, out, out_len);
}

ctca_err ctca_merkle_leaf_hash(const ctca_sct *sct, const ctca_signed_entry *entry,
                               uint8_t out[CTCA_LOG_ID_LEN])
{
    uint8_t *leaf = NULL;
    size_t leaf_len = 0;
    CTCA_GUARD(ctca_merkle_tree_leaf(sct, entry, &leaf, &leaf_len));
    ctca_err rc = CTCA_ERR_CRYPTO;
    static const uint8_t leaf_prefix = 0x00; /* RFC 6962 2.1: leaves are hashed with 0x00 */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, &leaf_prefix, 1) != 1 ||
        EVP_DigestUpdate(ctx, leaf, leaf_len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        goto out;
    rc = CTCA_OK;
out:
    EVP_MD_CTX_free(ctx);
    free(leaf);
    return rc;
}
