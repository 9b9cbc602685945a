/* Log public keys and SCT signature verification (ctca/sct.h). OpenSSL is used
 * for hashing and signature checks only; the SPKI is delimited by ctca_view. */
#include "ctca/sct.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "core/ct/logkey_int.h"
#include "ctca/util.h"

/* Key sizes we accept: RFC 6962 2.1.4 allows P-256 and RSA; Chrome's policy
 * wants RSA of at least 2048 bits. The upper bound only caps verification cost. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* A log key file is small; anything larger is not one. */
#define LOG_KEY_FILE_MAX ((size_t)64 * 1024)

struct ctca_log_key {
    EVP_PKEY *pkey;
    uint8_t *spki;
    size_t spki_len;
    uint8_t id[CTCA_LOG_ID_LEN];
    uint8_t sig_alg;
};

void ctca_log_key_free(ctca_log_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key->spki);
    free(key);
}

static bool is_p256(EVP_PKEY *pkey)
{
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1)
        return false;
    int nid = OBJ_txt2nid(name);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(name);
    return nid == NID_X9_62_prime256v1;
}

static ctca_err classify(EVP_PKEY *pkey, uint8_t *sig_alg)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC:
        if (!is_p256(pkey))
            return CTCA_ERR_KEY_UNSUPPORTED;
        *sig_alg = CTCA_SIGALG_ECDSA;
        return CTCA_OK;
    case EVP_PKEY_RSA: {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
            return CTCA_ERR_KEY_UNSUPPORTED;
        *sig_alg = CTCA_SIGALG_RSA;
        return CTCA_OK;
    }
    default:
        return CTCA_ERR_KEY_UNSUPPORTED;
    }
}

ctca_err ctca_log_key_from_spki(ctca_view spki, ctca_log_key **out)
{
    ctca_err rc;
    ctca_log_key *key = NULL;
    ctca_view v = spki, body, alg, bits;
    /* Strict DER framing first: OpenSSL's d2i would accept trailing bytes. */
    if ((rc = ctca_der_get(&v, CTCA_DER_SEQUENCE, &body)) != CTCA_OK ||
        (rc = ctca_view_expect_empty(v)) != CTCA_OK ||
        (rc = ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg)) != CTCA_OK ||
        (rc = ctca_der_get_bit_string(&body, &bits)) != CTCA_OK ||
        (rc = ctca_view_expect_empty(body)) != CTCA_OK)
        goto out;
    key = calloc(1, sizeof *key);
    if (key == NULL || (key->spki = malloc(spki.len)) == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    memcpy(key->spki, spki.data, spki.len);
    key->spki_len = spki.len;
    const unsigned char *p = key->spki;
    key->pkey = d2i_PUBKEY(NULL, &p, (long)key->spki_len);
    if (key->pkey == NULL || p != key->spki + key->spki_len) {
        rc = CTCA_ERR_KEY_UNSUPPORTED;
        goto out;
    }
    if ((rc = classify(key->pkey, &key->sig_alg)) != CTCA_OK)
        goto out;
    /* RFC 6962 3.2: the log ID is the SHA-256 hash of the log's public key
     * (the DER SubjectPublicKeyInfo). */
    if (EVP_Digest(key->spki, key->spki_len, key->id, NULL, EVP_sha256(), NULL) != 1) {
        rc = CTCA_ERR_CRYPTO;
        goto out;
    }
    *out = key;
    key = NULL;
    rc = CTCA_OK;
out:
    ERR_clear_error();
    ctca_log_key_free(key);
    return rc;
}

ctca_err ctca_log_key_load(const char *path, ctca_log_key **out, ctca_errbuf *eb)
{
    uint8_t *buf = NULL, *der = NULL;
    size_t len = 0, der_len = 0;
    ctca_err rc = ctca_file_read(path, LOG_KEY_FILE_MAX, &buf, &len, eb);
    if (rc != CTCA_OK)
        return rc;
    if (len > 0 && buf[0] == 0x30) {
        rc = ctca_log_key_from_spki(ctca_view_make(buf, len), out);
    } else {
        rc = ctca_pem_decode(buf, len, "PUBLIC KEY", &der, &der_len);
        if (rc == CTCA_ERR_PEM) {
            ctca_errbuf_set(eb, rc, "%s: no PEM block labelled \"PUBLIC KEY\"", path);
            goto out;
        }
        if (rc == CTCA_OK)
            rc = ctca_log_key_from_spki(ctca_view_make(der, der_len), out);
    }
    if (rc == CTCA_ERR_KEY_UNSUPPORTED)
        ctca_errbuf_set(eb, rc, "%s: not an ECDSA P-256 or RSA %d..%d-bit public key", path,
                        RSA_MIN_BITS, RSA_MAX_BITS);
    else if (rc != CTCA_OK)
        ctca_errbuf_set(eb, rc, "%s: not a DER SubjectPublicKeyInfo (%s)", path,
                        ctca_err_str(rc));
out:
    free(der);
    free(buf);
    return rc;
}

ctca_err ctca_log_key_from_pem_file(const char *path, ctca_log_key **out)
{
    return ctca_log_key_load(path, out, NULL);
}

const uint8_t *ctca_log_key_get0_id(const ctca_log_key *key)
{
    return key->id;
}

ctca_view ctca_log_key_get0_spki(const ctca_log_key *key)
{
    return ctca_view_make(key->spki, key->spki_len);
}

uint8_t ctca_log_key_sig_alg(const ctca_log_key *key)
{
    return key->sig_alg;
}

ctca_err ctca_log_key_verify(const ctca_log_key *key, const uint8_t *msg, size_t msg_len,
                            const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_ERR_CRYPTO;
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1)
        goto out;
    /* A malformed signature is an invalid one (OpenSSL may say 0 or -1). */
    rc = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1 ? CTCA_OK : CTCA_ERR_SIG_INVALID;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

ctca_err ctca_sct_verify(const ctca_sct *sct, const ctca_log_key *key,
                         const ctca_signed_entry *entry, uint64_t now_ms)
{
    if (memcmp(sct->log_id, key->id, CTCA_LOG_ID_LEN) != 0)
        return CTCA_ERR_SCT_LOG_ID_MISMATCH;
    if (sct->hash_alg != CTCA_HASH_SHA256 || sct->sig_alg != key->sig_alg)
        return CTCA_ERR_SIG_ALG_MISMATCH;
    if (sct->timestamp > now_ms)
        return CTCA_ERR_SCT_FUTURE;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    CTCA_GUARD(ctca_sct_signed_input(sct, entry, &msg, &msg_len));
    ctca_err rc = ctca_log_key_verify(key, msg, msg_len, sct->signature, sct->signature_len);
    free(msg);
    return rc;
}
