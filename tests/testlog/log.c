/* The log proper: chain checks, sequencing, SCT and STH signatures. */
#include "tests/testlog/testlog.h"

#include <openssl/core_names.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/asn1.h"
#include "ctca/util.h"

/* 2.5.29.37 extKeyUsage and 1.3.6.1.4.1.11129.2.4.4 (RFC 6962 3.1 Precertificate
 * Signing Certificate), as encoded arcs. */
static const uint8_t OID_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_PRECERT_SIGNING[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                              0xd6, 0x79, 0x02, 0x04, 0x04};

/* ---- small helpers ------------------------------------------------------- */

ctca_err tl_sha256(const uint8_t *p, size_t n, uint8_t out[TL_HASH_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != TL_HASH_LEN)
        return CTCA_ERR_CRYPTO;
    return CTCA_OK;
}

uint8_t *tl_memdup(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

void tl_sct_out_cleanup(tl_sct_out *s)
{
    free(s->ext);
    free(s->sig);
    memset(s, 0, sizeof *s);
}

uint64_t tl_log_now_ms(const tl_log *log)
{
    int64_t t = log->sct.fixed_time ? log->sct.fixed_time_ms : ctca_now_ms();
    return t < 0 ? 0 : (uint64_t)t;
}

/* ---- the 32-byte-key index ----------------------------------------------- */

static size_t slot_of(const uint8_t key[TL_HASH_LEN], size_t cap)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | key[i];
    return (size_t)(h & (cap - 1));
}

static bool index_get(const tl_index *ix, const uint8_t key[TL_HASH_LEN], size_t *value)
{
    if (ix->cap == 0)
        return false;
    for (size_t i = slot_of(key, ix->cap);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->slots[i].used)
            return false;
        if (memcmp(ix->slots[i].key, key, TL_HASH_LEN) == 0) {
            *value = ix->slots[i].value;
            return true;
        }
    }
}

static void index_place(struct tl_slot *slots, size_t cap, const uint8_t key[TL_HASH_LEN],
                        size_t value)
{
    size_t i = slot_of(key, cap);
    while (slots[i].used)
        i = (i + 1) & (cap - 1);
    memcpy(slots[i].key, key, TL_HASH_LEN);
    slots[i].value = value;
    slots[i].used = true;
}

static ctca_err index_put(tl_index *ix, const uint8_t key[TL_HASH_LEN], size_t value)
{
    if ((ix->n + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 1024;
        struct tl_slot *slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return CTCA_ERR_NOMEM;
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i].used)
                index_place(slots, cap, ix->slots[i].key, ix->slots[i].value);
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    index_place(ix->slots, ix->cap, key, value);
    ix->n++;
    return CTCA_OK;
}

/* ---- keys and roots -------------------------------------------------------- */

static ctca_err load_key(tl_log *log, const char *path, ctca_errbuf *eb)
{
    static const char *labels[] = {"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"};
    uint8_t *pem = NULL, *der = NULL;
    size_t pem_len = 0, der_len = 0;
    ctca_err rc = ctca_file_read(path, CTCA_FILE_MAX, &pem, &pem_len, eb);
    if (rc != CTCA_OK)
        return rc;
    rc = CTCA_ERR_PEM;
    for (size_t i = 0; i < sizeof labels / sizeof *labels && rc != CTCA_OK; i++)
        rc = ctca_pem_decode(pem, pem_len, labels[i], &der, &der_len);
    free(pem);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "%s: no unencrypted PEM private key", path);

    const unsigned char *p = der;
    log->key = d2i_AutoPrivateKey(NULL, &p, (long)der_len);
    bool whole = log->key != NULL && p == der + der_len;
    free(der);
    if (!whole)
        return ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED, "%s: unreadable private key", path);

    if (EVP_PKEY_is_a(log->key, "EC")) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(log->key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof group, &glen) != 1 ||
            strcmp(group, "prime256v1") != 0)
            return ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED,
                                   "%s: ECDSA log keys must be P-256", path);
        log->sig_alg = CTCA_SIGALG_ECDSA;
    } else if (EVP_PKEY_is_a(log->key, "RSA")) {
        if (EVP_PKEY_get_bits(log->key) < 2048)
            return ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED,
                                   "%s: RSA log keys must have >= 2048 bits", path);
        log->sig_alg = CTCA_SIGALG_RSA;
    } else {
        return ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED,
                               "%s: log keys are ECDSA P-256 or RSA", path);
    }

    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(log->key, &spki);
    if (n <= 0)
        return ctca_errbuf_set(eb, CTCA_ERR_CRYPTO, "%s: cannot encode the public key", path);
    log->spki = tl_memdup(spki, (size_t)n);
    log->spki_len = (size_t)n;
    OPENSSL_free(spki);
    if (log->spki == NULL)
        return CTCA_ERR_NOMEM;
    return tl_sha256(log->spki, log->spki_len, log->log_id);
}

ctca_err tl_parse_cert(ctca_view der, X509 **out)
{
    const unsigned char *p = der.data;
    if (der.len == 0 || der.len > CTCA_DER_MAX_LEN)
        return CTCA_ERR_CERT_MALFORMED;
    *out = d2i_X509(NULL, &p, (long)der.len);
    if (*out == NULL)
        return CTCA_ERR_CERT_MALFORMED;
    if (p != der.data + der.len) {
        X509_free(*out);
        *out = NULL;
        return CTCA_ERR_TRAILING_DATA;
    }
    return CTCA_OK;
}

static ctca_err add_root(tl_log *log, uint8_t *der, size_t der_len)
{
    X509 *x = NULL;
    ctca_err rc = tl_parse_cert(ctca_view_make(der, der_len), &x);
    if (rc != CTCA_OK)
        return rc;
    size_t n = log->n_roots + 1;
    X509 **roots = realloc(log->roots, n * sizeof *roots);
    if (roots != NULL)
        log->roots = roots;
    uint8_t **rd = realloc(log->root_der, n * sizeof *rd);
    if (rd != NULL)
        log->root_der = rd;
    size_t *rl = realloc(log->root_der_len, n * sizeof *rl);
    if (rl != NULL)
        log->root_der_len = rl;
    if (roots == NULL || rd == NULL || rl == NULL) {
        X509_free(x);
        return CTCA_ERR_NOMEM;
    }
    log->roots[log->n_roots] = x;
    log->root_der[log->n_roots] = der;
    log->root_der_len[log->n_roots] = der_len;
    log->n_roots = n;
    return CTCA_OK;
}

/* Every "CERTIFICATE" block of a PEM file: each block is handed to
 * ctca_pem_decode on its own, cut at its END line. */
static ctca_err load_roots(tl_log *log, const char *path, ctca_errbuf *eb)
{
    static const char end[] = "-----END CERTIFICATE-----";
    uint8_t *pem = NULL;
    size_t pem_len = 0;
    ctca_err rc = ctca_file_read(path, CTCA_FILE_MAX, &pem, &pem_len, eb);
    if (rc != CTCA_OK)
        return rc;
    const char *s = (const char *)pem;
    const char *at;
    while (rc == CTCA_OK && (at = strstr(s, end)) != NULL) {
        const char *stop = at + sizeof end - 1;
        uint8_t *der = NULL;
        size_t der_len = 0;
        rc = ctca_pem_decode((const uint8_t *)s, (size_t)(stop - s), "CERTIFICATE", &der,
                             &der_len);
        if (rc == CTCA_OK) {
            rc = add_root(log, der, der_len);
            if (rc != CTCA_OK)
                free(der);
        }
        s = stop;
    }
    free(pem);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "%s: certificate %zu: %s", path, log->n_roots + 1,
                               ctca_err_str(rc));
    if (log->n_roots == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_PEM, "%s: no certificates", path);
    return CTCA_OK;
}

/* RFC 9162 logs sign with ecdsa_secp256r1_sha256 (10.2.2) and are named by an
 * OID (4.4). */
static ctca_err set_log_id_v2(tl_log *log, const char *key_path, ctca_errbuf *eb)
{
    if (log->sig_alg != CTCA_SIGALG_ECDSA)
        return ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED,
                               "%s: an RFC 9162 log key must be ECDSA P-256", key_path);
    if (log->sct.has_log_id_oid) {
        log->log_id_v2 = log->sct.log_id_oid;
        return CTCA_OK;
    }
    char oid[64];
    uint32_t n = (uint32_t)log->log_id[0] << 24 | (uint32_t)log->log_id[1] << 16 |
                 (uint32_t)log->log_id[2] << 8 | log->log_id[3];
    snprintf(oid, sizeof oid, "1.3.101.80.%u", n);
    return ctca_log_id_v2_from_string(oid, &log->log_id_v2);
}

ctca_err tl_log_init(tl_log *log, const char *key_path, const char *roots_path,
                     const tl_sct_opts *opts, ctca_errbuf *eb)
{
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->ca_mu, NULL);
    tl_merkle_init(&log->tree);
    log->sct = *opts;
    if (log->sct.ct_version == 0)
        log->sct.ct_version = 1;
    CTCA_GUARD(load_key(log, key_path, eb));
    if (log->sct.ct_version == 2)
        CTCA_GUARD(set_log_id_v2(log, key_path, eb));
    if (roots_path != NULL)
        CTCA_GUARD(load_roots(log, roots_path, eb));
    return CTCA_OK;
}

void tl_log_cleanup(tl_log *log)
{
    EVP_PKEY_free(log->key);
    free(log->spki);
    for (size_t i = 0; i < log->n_roots; i++) {
        X509_free(log->roots[i]);
        free(log->root_der[i]);
    }
    free(log->roots);
    free(log->root_der);
    free(log->root_der_len);
    for (size_t i = 0; i < log->n_ca_certs; i++) {
        X509_free(log->ca_certs[i].x);
        free(log->ca_certs[i].der);
    }
    pthread_mutex_destroy(&log->ca_mu);
    for (size_t i = 0; i < log->n_entries; i++) {
        tl_entry *e = &log->entries[i];
        free(e->leaf);
        free(e->extra);
        free(e->ext);
        free(e->sig);
    }
    free(log->entries);
    free(log->by_identity.slots);
    free(log->by_leaf_hash.slots);
    tl_merkle_cleanup(&log->tree);
    pthread_mutex_destroy(&log->mu);
    memset(log, 0, sizeof *log);
}

/* ---- signing ------------------------------------------------------------------- */

ctca_err tl_log_sign(const tl_log *log, const uint8_t *data, size_t len, bool raw,
                     uint8_t **out, size_t *out_len)
{
    ctca_err rc = CTCA_ERR_CRYPTO;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    /* RFC 6962 2.1.4: RSASSA-PKCS1-v1_5 (OpenSSL's RSA default) or ECDSA, SHA-256. */
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, log->key) != 1 ||
        EVP_DigestSign(ctx, NULL, &sig_len, data, len) != 1)
        goto out;
    sig = malloc(sig_len);
    if (sig == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, sig, &sig_len, data, len) != 1)
        goto out;
    if (raw) {
        *out = sig;
        *out_len = sig_len;
        sig = NULL;
        rc = CTCA_OK;
        goto out;
    }
    ctca_builder b;
    ctca_builder_init(&b, 70000);
    ctca_builder_add_u8(&b, CTCA_HASH_SHA256);
    ctca_builder_add_u8(&b, log->sig_alg);
    ctca_builder_open_tls_vec(&b, 2, 0, CTCA_SCT_MAX_SIGNATURE);
    ctca_builder_add_bytes(&b, sig, sig_len);
    ctca_builder_close(&b);
    rc = ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- certificate checks --------------------------------------------------------- */

/* Finds extension oid in a DER certificate; value borrows its extnValue
 * contents. Walks Certificate -> TBSCertificate -> [3] extensions. */
static ctca_err cert_find_ext(ctca_view cert, const uint8_t *oid, size_t oid_len,
                              ctca_view *value, bool *found)
{
    ctca_view c, tbs, skip, exts_wrap, exts;
    bool present = false;
    *found = false;
    CTCA_GUARD(ctca_der_get(&cert, CTCA_DER_SEQUENCE, &c));
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_SEQUENCE, &tbs));
    CTCA_GUARD(ctca_der_get_optional(&tbs, CTCA_DER_CTX_C(0), &skip, &present));
    CTCA_GUARD(ctca_der_get_integer(&tbs, &skip));
    for (int i = 0; i < 5; i++) /* signature, issuer, validity, subject, spki */
        CTCA_GUARD(ctca_der_get(&tbs, CTCA_DER_SEQUENCE, &skip));
    CTCA_GUARD(ctca_der_get_optional(&tbs, CTCA_DER_CTX(1), &skip, &present));
    CTCA_GUARD(ctca_der_get_optional(&tbs, CTCA_DER_CTX(2), &skip, &present));
    CTCA_GUARD(ctca_der_get_optional(&tbs, CTCA_DER_CTX_C(3), &exts_wrap, &present));
    CTCA_GUARD(ctca_view_expect_empty(tbs));
    if (!present)
        return CTCA_OK;
    CTCA_GUARD(ctca_der_get(&exts_wrap, CTCA_DER_SEQUENCE, &exts));
    CTCA_GUARD(ctca_view_expect_empty(exts_wrap));
    while (exts.len > 0) {
        ctca_view ext, ext_oid, val;
        bool critical = false;
        CTCA_GUARD(ctca_der_get(&exts, CTCA_DER_SEQUENCE, &ext));
        CTCA_GUARD(ctca_der_get_oid(&ext, &ext_oid));
        if (ctca_der_peek(ext, CTCA_DER_BOOLEAN))
            CTCA_GUARD(ctca_der_get_bool(&ext, &critical));
        CTCA_GUARD(ctca_der_get(&ext, CTCA_DER_OCTET_STRING, &val));
        CTCA_GUARD(ctca_view_expect_empty(ext));
        if (ctca_oid_eq(ext_oid, oid, oid_len)) {
            if (*found)
                return CTCA_ERR_EXT_DUPLICATE;
            *found = true;
            *value = val;
        }
    }
    return CTCA_OK;
}

/* RFC 6962 3.1: a Precertificate Signing Certificate carries the CT EKU. */
static ctca_err is_precert_signing_cert(ctca_view cert, bool *out)
{
    ctca_view val, seq;
    bool found = false;
    *out = false;
    CTCA_GUARD(cert_find_ext(cert, OID_EKU, sizeof OID_EKU, &val, &found));
    if (!found)
        return CTCA_OK;
    CTCA_GUARD(ctca_der_get(&val, CTCA_DER_SEQUENCE, &seq));
    CTCA_GUARD(ctca_view_expect_empty(val));
    while (seq.len > 0) {
        ctca_view oid;
        CTCA_GUARD(ctca_der_get_oid(&seq, &oid));
        if (ctca_oid_eq(oid, OID_PRECERT_SIGNING, sizeof OID_PRECERT_SIGNING))
            *out = true;
    }
    return CTCA_OK;
}

bool tl_issued_by(X509 *child, X509 *parent)
{
    EVP_PKEY *pk = X509_get0_pubkey(parent);
    return pk != NULL &&
           X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) == 0 &&
           X509_verify(child, pk) == 1;
}

ctca_err tl_log_ca_cert(tl_log *log, ctca_view der, X509 **x, bool *owned)
{
    *x = NULL;
    *owned = false;
    pthread_mutex_lock(&log->ca_mu);
    for (size_t i = 0; i < log->n_ca_certs && *x == NULL; i++)
        if (ctca_view_eq(der, ctca_view_make(log->ca_certs[i].der, log->ca_certs[i].der_len)))
            *x = log->ca_certs[i].x;
    pthread_mutex_unlock(&log->ca_mu);
    if (*x != NULL)
        return CTCA_OK;
    X509 *parsed = NULL;
    CTCA_GUARD(tl_parse_cert(der, &parsed));
    uint8_t *copy = tl_memdup(der.data, der.len);
    pthread_mutex_lock(&log->ca_mu);
    if (copy != NULL && log->n_ca_certs < TL_CA_CACHE) {
        /* Another thread may have added it meanwhile: a duplicate costs a slot only. */
        log->ca_certs[log->n_ca_certs++] = (struct tl_ca_cert){copy, der.len, parsed};
        copy = NULL;
    } else {
        *owned = true;
    }
    pthread_mutex_unlock(&log->ca_mu);
    free(copy);
    *x = parsed;
    return CTCA_OK;
}

bool tl_der_issued_by(ctca_view child, X509 *parent)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    bool rsa = false;
    EVP_PKEY *pk = X509_get0_pubkey(parent);
    if (pk == NULL || ctca_cert_get_tbs_fields(child, &parts, &f) != CTCA_OK)
        return false;
    ctca_view alg;
    ctca_view alg_elem = parts.sig_alg;
    const char *md = ctca_der_get(&alg_elem, CTCA_DER_SEQUENCE, &alg) == CTCA_OK
                         ? ctca_sig_alg_md(alg, &rsa)
                         : NULL;
    if (md == NULL || rsa != (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)) {
        X509 *x = NULL;
        bool ok = tl_parse_cert(child, &x) == CTCA_OK && tl_issued_by(x, parent);
        X509_free(x);
        return ok;
    }
    const unsigned char *p = f.issuer.data;
    X509_NAME *issuer = d2i_X509_NAME(NULL, &p, (long)f.issuer.len);
    bool ok = issuer != NULL && X509_NAME_cmp(issuer, X509_get_subject_name(parent)) == 0;
    X509_NAME_free(issuer);
    EVP_MD_CTX *ctx = ok ? EVP_MD_CTX_new() : NULL;
    ok = ctx != NULL && EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pk, NULL) == 1 &&
         EVP_DigestVerify(ctx, parts.signature.data, parts.signature.len, parts.tbs.data,
                          parts.tbs.len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* A checked chain: the submitted certificates plus the root when the
 * submitter left it out. Views borrow the request or the log's roots. */
typedef struct chain_info {
    ctca_view certs[TL_MAX_CHAIN + 1];
    size_t n;
} chain_info;

static ctca_err check_chain(tl_log *log, const ctca_view *chain, size_t n, chain_info *ci,
                            ctca_errbuf *eb)
{
    /* x[i] parses chain[i] for i >= 1 (CA certificates, from the cache);
     * the leaf is checked from its DER. */
    X509 *x[TL_MAX_CHAIN] = {0};
    bool owned[TL_MAX_CHAIN] = {0};
    ctca_err rc = CTCA_OK;
    ci->n = 0;
    if (n == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "empty chain");
    if (n > TL_MAX_CHAIN)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "chain longer than %d certificates",
                               TL_MAX_CHAIN);
    for (size_t i = 0; i < n; i++) {
        ctca_cert_parts parts;
        ctca_tbs_fields f;
        rc = i == 0 ? ctca_cert_get_tbs_fields(chain[0], &parts, &f)
                    : tl_log_ca_cert(log, chain[i], &x[i], &owned[i]);
        if (rc != CTCA_OK) {
            rc = ctca_errbuf_set(eb, rc, "chain[%zu] is not a DER certificate", i);
            goto out;
        }
        ci->certs[ci->n++] = chain[i];
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (!(i == 0 ? tl_der_issued_by(chain[0], x[1]) : tl_issued_by(x[i], x[i + 1]))) {
            rc = ctca_errbuf_set(eb, CTCA_ERR_SIG_INVALID,
                                 "chain[%zu] is not issued by chain[%zu]", i, i + 1);
            goto out;
        }
    }
    if (log->n_roots == 0) /* no --roots: any chain whose links verify */
        goto out;
    for (size_t r = 0; r < log->n_roots; r++)
        if (ctca_view_eq(chain[n - 1],
                         ctca_view_make(log->root_der[r], log->root_der_len[r])))
            goto out;
    for (size_t r = 0; r < log->n_roots; r++) {
        if (n == 1 ? tl_der_issued_by(chain[0], log->roots[r])
                   : tl_issued_by(x[n - 1], log->roots[r])) {
            ci->certs[ci->n++] = ctca_view_make(log->root_der[r], log->root_der_len[r]);
            goto out;
        }
    }
    rc = ctca_errbuf_set(eb, CTCA_ERR_SIG_INVALID,
                         "chain does not end at (or under) an accepted root");
out:
    for (size_t i = 0; i < n && i < TL_MAX_CHAIN; i++)
        if (owned[i])
            X509_free(x[i]);
    return rc;
}

/* ---- sequencing --------------------------------------------------------------- */

/* What the log signs for an entry, plus its dedupe identity. */
typedef struct signed_entry {
    ctca_signed_entry e;
    uint8_t *tbs; /* owned, precert only */
    size_t tbs_len;
    uint8_t identity[TL_HASH_LEN];
} signed_entry;

static ctca_err build_signed_entry(ctca_entry_type type, const chain_info *ci,
                                   signed_entry *se, ctca_errbuf *eb)
{
    memset(se, 0, sizeof *se);
    se->e.type = type;
    ctca_view leaf = ci->certs[0];
    uint8_t *tmp = NULL;
    size_t tmp_len = 0;
    ctca_err rc = ctca_precert_tbs_from_precert(leaf, &tmp, &tmp_len);
    if (type == CTCA_ENTRY_X509) {
        free(tmp);
        if (rc == CTCA_OK)
            return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                                   "add-chain: the leaf is a precertificate (CT poison)");
        if (rc != CTCA_ERR_NOT_PRECERT)
            return ctca_errbuf_set(eb, rc, "add-chain: leaf: %s", ctca_err_str(rc));
        se->e.leaf_cert = leaf;
    } else {
        if (rc != CTCA_OK)
            return ctca_errbuf_set(eb, rc, "add-pre-chain: leaf: %s", ctca_err_str(rc));
        size_t issuer = 1;
        bool preca = false;
        if (ci->n > 1) {
            rc = is_precert_signing_cert(ci->certs[1], &preca);
            if (rc != CTCA_OK) {
                free(tmp);
                return ctca_errbuf_set(eb, rc, "add-pre-chain: chain[1]: %s",
                                       ctca_err_str(rc));
            }
        }
        if (preca) {
            /* RFC 6962 3.2: the TBS names the final issuer, and the issuer key
             * hash is that of the CA above the Precertificate Signing Certificate. */
            free(tmp);
            tmp = NULL;
            issuer = 2;
            rc = ctca_precert_tbs_from_preca_precert(leaf, ci->certs[1], &tmp, &tmp_len);
            if (rc != CTCA_OK)
                return ctca_errbuf_set(eb, rc, "add-pre-chain: PreCA rewrite: %s",
                                       ctca_err_str(rc));
        }
        se->tbs = tmp;
        se->tbs_len = tmp_len;
        if (issuer >= ci->n)
            return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                                   "add-pre-chain: the chain lacks the precertificate's issuer");
        rc = ctca_cert_issuer_key_hash(ci->certs[issuer], se->e.issuer_key_hash);
        if (rc != CTCA_OK)
            return ctca_errbuf_set(eb, rc, "add-pre-chain: issuer: %s", ctca_err_str(rc));
        se->e.tbs = ctca_view_make(se->tbs, se->tbs_len);
    }

    /* Identity: the entry type and what the log signs for it, timestamp aside. */
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN + 64);
    ctca_builder_add_u16(&b, (uint16_t)type);
    if (type == CTCA_ENTRY_X509) {
        ctca_builder_add_view(&b, se->e.leaf_cert);
    } else {
        ctca_builder_add_bytes(&b, se->e.issuer_key_hash, CTCA_LOG_ID_LEN);
        ctca_builder_add_view(&b, se->e.tbs);
    }
    uint8_t *id = NULL;
    size_t id_len = 0;
    rc = ctca_builder_finish(&b, &id, &id_len);
    ctca_builder_cleanup(&b);
    if (rc == CTCA_OK)
        rc = tl_sha256(id, id_len, se->identity);
    free(id);
    return rc;
}

/* RFC 6962 4.6 extra_data: for x509_entry the certificate_chain (everything
 * after the leaf); for precert_entry the PrecertChainEntry. */
static ctca_err build_extra(ctca_entry_type type, const chain_info *ci, uint8_t **out,
                            size_t *out_len)
{
    ctca_builder b;
    ctca_builder_init(&b, (size_t)TL_MAX_BODY * 2);
    if (type == CTCA_ENTRY_PRECERT) {
        ctca_builder_open_tls_vec(&b, 3, 1, 0xffffff);
        ctca_builder_add_view(&b, ci->certs[0]);
        ctca_builder_close(&b);
    }
    ctca_builder_open_tls_vec(&b, 3, 0, 0xffffff);
    for (size_t i = 1; i < ci->n; i++) {
        ctca_builder_open_tls_vec(&b, 3, 1, 0xffffff);
        ctca_builder_add_view(&b, ci->certs[i]);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    ctca_err rc = ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    return rc;
}

/* static-ct-api: Extension { leaf_index(0), opaque<0..2^16-1> = 40-bit index }. */
static ctca_err build_extensions(const tl_log *log, uint64_t index, uint8_t **out,
                                 size_t *out_len)
{
    ctca_builder b;
    ctca_builder_init(&b, CTCA_SCT_MAX_EXTENSIONS);
    if (log->sct.static_ct) {
        if (index >> 40)
            return CTCA_ERR_VALUE_RANGE;
        ctca_builder_add_u8(&b, 0);
        ctca_builder_open_tls_vec(&b, 2, 0, 0xffff);
        ctca_builder_add_u8(&b, (uint8_t)(index >> 32));
        ctca_builder_add_u8(&b, (uint8_t)(index >> 24));
        ctca_builder_add_u8(&b, (uint8_t)(index >> 16));
        ctca_builder_add_u8(&b, (uint8_t)(index >> 8));
        ctca_builder_add_u8(&b, (uint8_t)index);
        ctca_builder_close(&b);
    }
    ctca_err rc = ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    return rc;
}

static ctca_err copy_sct_out(const tl_entry *e, uint64_t index, bool duplicate, tl_sct_out *out)
{
    out->timestamp = e->timestamp;
    out->index = index;
    out->duplicate = duplicate;
    out->ext = tl_memdup(e->ext, e->ext_len);
    out->ext_len = e->ext_len;
    out->sig = tl_memdup(e->sig, e->sig_len);
    out->sig_len = e->sig_len;
    if (out->ext == NULL || out->sig == NULL) {
        tl_sct_out_cleanup(out);
        return CTCA_ERR_NOMEM;
    }
    return CTCA_OK;
}

ctca_err tl_log_append_locked(tl_log *log, tl_entry *e)
{
    size_t index = log->n_entries;
    CTCA_GUARD(tl_leaf_hash(e->leaf, e->leaf_len, e->leaf_hash));
    if (log->n_entries == log->cap_entries) {
        size_t cap = log->cap_entries ? log->cap_entries * 2 : 256;
        tl_entry *p = realloc(log->entries, cap * sizeof *p);
        if (p == NULL)
            return CTCA_ERR_NOMEM;
        log->entries = p;
        log->cap_entries = cap;
    }
    /* Reserve the index slots first so that the append cannot half-fail. */
    CTCA_GUARD(index_put(&log->by_identity, e->identity, index));
    ctca_err rc = index_put(&log->by_leaf_hash, e->leaf_hash, index);
    if (rc == CTCA_OK)
        rc = tl_merkle_append(&log->tree, e->leaf_hash);
    if (rc != CTCA_OK)
        abort(); /* the indexes now name an entry that does not exist */
    log->entries[log->n_entries++] = *e;
    return CTCA_OK;
}

bool tl_log_find_locked(const tl_log *log, const uint8_t identity[TL_HASH_LEN], size_t *index)
{
    return index_get(&log->by_identity, identity, index);
}

/* Called with log->mu held: a new entry at the end of the log. */
static ctca_err sequence_locked(tl_log *log, ctca_entry_type type, const chain_info *ci,
                                const signed_entry *se, tl_sct_out *out)
{
    ctca_err rc;
    tl_entry e;
    memset(&e, 0, sizeof e);
    uint64_t index = log->n_entries;
    int64_t ts = (int64_t)tl_log_now_ms(log) + log->sct.time_offset_ms;
    e.timestamp = ts < 0 ? 0 : (uint64_t)ts;
    memcpy(e.identity, se->identity, TL_HASH_LEN);

    uint8_t *input = NULL;
    size_t input_len = 0;
    rc = build_extensions(log, index, &e.ext, &e.ext_len);
    if (rc != CTCA_OK)
        goto fail;
    ctca_sct sct;
    memset(&sct, 0, sizeof sct);
    sct.version = 0;
    memcpy(sct.log_id, log->log_id, CTCA_LOG_ID_LEN);
    sct.timestamp = e.timestamp;
    sct.extensions = e.ext;
    sct.extensions_len = e.ext_len;
    sct.hash_alg = CTCA_HASH_SHA256;
    sct.sig_alg = log->sig_alg;
    rc = ctca_sct_signed_input(&sct, &se->e, &input, &input_len);
    if (rc != CTCA_OK)
        goto fail;
    rc = tl_log_sign(log, input, input_len, true, &e.sig, &e.sig_len);
    free(input);
    if (rc != CTCA_OK)
        goto fail;
    rc = ctca_merkle_tree_leaf(&sct, &se->e, &e.leaf, &e.leaf_len);
    if (rc != CTCA_OK)
        goto fail;
    rc = build_extra(type, ci, &e.extra, &e.extra_len);
    if (rc != CTCA_OK)
        goto fail;
    rc = tl_log_append_locked(log, &e);
    if (rc != CTCA_OK)
        goto fail;
    return copy_sct_out(&log->entries[index], index, false, out);
fail:
    free(e.ext);
    free(e.sig);
    free(e.leaf);
    free(e.extra);
    return rc;
}

ctca_err tl_log_submit(tl_log *log, ctca_entry_type type, const ctca_view *chain, size_t n,
                       tl_sct_out *out, ctca_errbuf *eb)
{
    chain_info ci;
    signed_entry se;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(check_chain(log, chain, n, &ci, eb));
    ctca_err rc = build_signed_entry(type, &ci, &se, eb);
    if (rc != CTCA_OK) {
        free(se.tbs);
        return rc;
    }
    pthread_mutex_lock(&log->mu);
    size_t index = 0;
    if (index_get(&log->by_identity, se.identity, &index))
        rc = copy_sct_out(&log->entries[index], index, true, out);
    else
        rc = sequence_locked(log, type, &ci, &se, out);
    pthread_mutex_unlock(&log->mu);
    free(se.tbs);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "cannot log the entry: %s", ctca_err_str(rc));
    return CTCA_OK;
}

/* ---- reading the log ----------------------------------------------------------- */

size_t tl_log_size(tl_log *log)
{
    pthread_mutex_lock(&log->mu);
    size_t n = log->n_entries;
    pthread_mutex_unlock(&log->mu);
    return n;
}

ctca_err tl_log_get_sth(tl_log *log, tl_sth *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&log->mu);
    out->tree_size = log->n_entries;
    ctca_err rc = tl_merkle_root(&log->tree, log->n_entries, out->root);
    pthread_mutex_unlock(&log->mu);
    CTCA_GUARD(rc);
    out->timestamp = tl_log_now_ms(log);

    /* RFC 6962 3.5 TreeHeadSignature. */
    ctca_builder b;
    ctca_builder_init(&b, 64);
    ctca_builder_add_u8(&b, 0); /* v1 */
    ctca_builder_add_u8(&b, 1); /* tree_hash */
    ctca_builder_add_u64(&b, out->timestamp);
    ctca_builder_add_u64(&b, out->tree_size);
    ctca_builder_add_bytes(&b, out->root, TL_HASH_LEN);
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    rc = ctca_builder_finish(&b, &tbs, &tbs_len);
    ctca_builder_cleanup(&b);
    CTCA_GUARD(rc);
    rc = tl_log_sign(log, tbs, tbs_len, false, &out->sig, &out->sig_len);
    free(tbs);
    return rc;
}

ctca_err tl_log_copy_entry(tl_log *log, size_t i, uint8_t **leaf, size_t *leaf_len,
                           uint8_t **extra, size_t *extra_len)
{
    ctca_err rc = CTCA_OK;
    pthread_mutex_lock(&log->mu);
    if (i >= log->n_entries) {
        rc = CTCA_ERR_STORE_NOT_FOUND;
    } else {
        const tl_entry *e = &log->entries[i];
        *leaf = tl_memdup(e->leaf, e->leaf_len);
        *leaf_len = e->leaf_len;
        *extra = tl_memdup(e->extra, e->extra_len);
        *extra_len = e->extra_len;
        if (*leaf == NULL || *extra == NULL) {
            free(*leaf);
            free(*extra);
            *leaf = *extra = NULL;
            rc = CTCA_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

ctca_err tl_log_audit_path(tl_log *log, uint64_t index, uint64_t tree_size, tl_proof *out,
                           ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    pthread_mutex_lock(&log->mu);
    if (tree_size > log->n_entries)
        rc = ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "tree_size %llu exceeds the log's %zu",
                             (unsigned long long)tree_size, log->n_entries);
    else if (index >= tree_size)
        rc = ctca_errbuf_set(eb, CTCA_ERR_STORE_NOT_FOUND,
                             "leaf %llu is not in a tree of size %llu",
                             (unsigned long long)index, (unsigned long long)tree_size);
    else
        rc = tl_merkle_audit_path(&log->tree, (size_t)index, (size_t)tree_size, out);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

ctca_err tl_log_proof_by_hash(tl_log *log, const uint8_t leaf_hash[TL_HASH_LEN],
                              uint64_t tree_size, uint64_t *index, tl_proof *out,
                              ctca_errbuf *eb)
{
    size_t i = 0;
    pthread_mutex_lock(&log->mu);
    bool found = index_get(&log->by_leaf_hash, leaf_hash, &i);
    pthread_mutex_unlock(&log->mu);
    if (!found)
        return ctca_errbuf_set(eb, CTCA_ERR_STORE_NOT_FOUND, "no leaf with that hash");
    *index = i;
    return tl_log_audit_path(log, i, tree_size, out, eb);
}

ctca_err tl_log_consistency(tl_log *log, uint64_t first, uint64_t second, tl_proof *out,
                            ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    pthread_mutex_lock(&log->mu);
    if (second > log->n_entries || first == 0 || first > second)
        rc = ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE,
                             "need 0 < first <= second <= %zu", log->n_entries);
    else
        rc = tl_merkle_consistency(&log->tree, (size_t)first, (size_t)second, out);
    pthread_mutex_unlock(&log->mu);
    return rc;
}
