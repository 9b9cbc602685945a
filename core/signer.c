/* Signing TBSCertificates with the CA key (a key file today; an HSM later
 * would sit behind the same ctca_sign_tbs_with shape).
 *
 * Threads: every call builds its own EVP_MD_CTX; the EVP_PKEY is shared and
 * only read, as TLS servers share one key across connections. */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca_int.h"

/* AlgorithmIdentifiers, encoded exactly as RFC 5758 3.2 (ECDSA: parameters
 * absent) and RFC 4055 5 (RSA PKCS#1 v1.5: parameters NULL) require. */
static const uint8_t alg_sha256_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t alg_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};

ctca_err ctca_key_sig_alg(EVP_PKEY *key, uint8_t alg[32], size_t *alg_len, const EVP_MD **md)
{
    const uint8_t *a = NULL;
    size_t n = 0;
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 2048 || bits > 8192)
            return CTCA_ERR_KEY_UNSUPPORTED;
        a = alg_sha256_rsa;
        n = sizeof alg_sha256_rsa;
        *md = EVP_sha256();
    } else if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(key, group, sizeof group, &glen) != 1)
            return CTCA_ERR_KEY_UNSUPPORTED;
        if (strcmp(group, "prime256v1") == 0) {
            a = alg_ecdsa_sha256;
            n = sizeof alg_ecdsa_sha256;
            *md = EVP_sha256();
        } else if (strcmp(group, "secp384r1") == 0) {
            a = alg_ecdsa_sha384;
            n = sizeof alg_ecdsa_sha384;
            *md = EVP_sha384();
        } else {
            return CTCA_ERR_KEY_UNSUPPORTED;
        }
    } else {
        return CTCA_ERR_KEY_UNSUPPORTED;
    }
    memcpy(alg, a, n);
    *alg_len = n;
    return CTCA_OK;
}

ctca_err ctca_key_id(ctca_view spki, uint8_t out[20])
{
    ctca_view body, alg, bits;
    if (ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body) != CTCA_OK ||
        ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg) != CTCA_OK ||
        ctca_der_get_bit_string(&body, &bits) != CTCA_OK ||
        ctca_view_expect_empty(body) != CTCA_OK || ctca_view_expect_empty(spki) != CTCA_OK)
        return CTCA_ERR_CERT_MALFORMED;
    /* SHA-1 here is an identifier, not a security property (RFC 5280 4.2.1.2). */
    if (EVP_Digest(bits.data, bits.len, out, NULL, EVP_sha1(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    return CTCA_OK;
}

ctca_err ctca_sign_bytes_with(EVP_PKEY *key, const EVP_MD *md, ctca_view data, uint8_t **sig,
                             size_t *sig_len)
{
    ctca_err rc = CTCA_ERR_CRYPTO;
    uint8_t *s = NULL;
    size_t n = 0;
    *sig = NULL;
    *sig_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &n, data.data, data.len) != 1)
        goto out;
    s = malloc(n);
    if (s == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, s, &n, data.data, data.len) != 1)
        goto out;
    /* A faulty signature (e.g. an RSA-CRT fault) can leak the key; never release one unchecked. */
    EVP_MD_CTX_free(ctx);
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestVerify(ctx, s, n, data.data, data.len) != 1)
        goto out;
    *sig = s;
    *sig_len = n;
    s = NULL;
    rc = CTCA_OK;
out:
    EVP_MD_CTX_free(ctx);
    free(s);
    return rc;
}

ctca_err ctca_sign_tbs_with(EVP_PKEY *key, const EVP_MD *md, ctca_view alg, ctca_view tbs,
                            uint8_t **cert, size_t *cert_len)
{
    ctca_err rc = CTCA_OK;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    *cert = NULL;
    *cert_len = 0;

    ctca_tbs_fields fields;
    rc = ctca_tbs_parse(tbs, &fields);
    if (rc != CTCA_OK)
        goto out;
    /* RFC 5280 4.1.1.2: the outer signatureAlgorithm MUST equal the TBS's signature field. */
    if (!ctca_view_eq(fields.signature, alg)) {
        rc = CTCA_ERR_SIG_ALG_MISMATCH;
        goto out;
    }
    if ((rc = ctca_sign_bytes_with(key, md, tbs, &sig, &sig_len)) != CTCA_OK)
        goto out;
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(&b, tbs);
    ctca_builder_add_view(&b, alg);
    ctca_builder_add_der_bit_string(&b, sig, sig_len);
    ctca_builder_close(&b);
    rc = ctca_builder_finish(&b, cert, cert_len);
out:
    ctca_builder_cleanup(&b);
    free(sig);
    return rc;
}

ctca_err ctca_ca_sign_tbs(const ctca_ca *ca, ctca_view tbs, uint8_t **cert, size_t *cert_len)
{
    return ctca_sign_tbs_with(ca->key, ca->md, ctca_view_make(ca->sig_alg, ca->sig_alg_len), tbs,
                              cert, cert_len);
}

ctca_err ctca_ca_sign_bytes(const ctca_ca *ca, ctca_view data, uint8_t **sig, size_t *sig_len)
{
    return ctca_sign_bytes_with(ca->key, ca->md, data, sig, sig_len);
}
