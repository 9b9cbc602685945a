/* The signer: the algorithm identifier per CA key type, identical inside and
 * outside the TBS; a mismatching TBS refused; signing from several threads. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "core/x509/x509_int.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;

static void setup(void)
{
    dir = th_tmpdir();
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(signer, .init = setup, .fini = teardown, .timeout = 120);

/* precert_for: a signed precertificate from ca for a fresh P-256 CSR. */
static void precert_for(ctca_ca *ca, uint8_t **tbs, size_t *tbs_len, uint8_t **cert,
                        size_t *cert_len)
{
    char *path = tca_make_csr(dir, "leaf", KEY_P256, "/", "DNS:example.com");
    ctca_csr *csr = tca_load_csr(path);
    const ctca_profile *p = ctca_config_get0_profile(ctca_ca_get0_config(ca), "tls-server");
    uint8_t serial[CTCA_SERIAL_LEN];
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_serial_generate(NULL, NULL, serial), CTCA_OK);
    cr_assert_eq(ctca_tbs_build_precert(ca, p, csr, serial, sizeof serial, TCA_NOW, tbs, tbs_len,
                                        &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(*tbs, *tbs_len), cert, cert_len), CTCA_OK);
    ctca_csr_free(csr);
    free(path);
}

static void check_key_type(ctca_key_type kt, const uint8_t *alg, size_t alg_len,
                           const char *openssl_name)
{
    ctca_ca *ca = tca_make_ca(dir, kt);
    cr_assert(ctca_view_eq(ctca_ca_get0_sig_alg(ca), ctca_view_make(alg, alg_len)));
    uint8_t *tbs = NULL, *cert = NULL;
    size_t tbs_len = 0, cert_len = 0;
    precert_for(ca, &tbs, &tbs_len, &cert, &cert_len);
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(cert, cert_len), &parts, &f), CTCA_OK);
    cr_assert(ctca_view_eq(parts.sig_alg, ctca_view_make(alg, alg_len)), "outer algorithm");
    cr_assert(ctca_view_eq(f.signature, ctca_view_make(alg, alg_len)), "inner algorithm");
    cr_assert(ctca_view_eq(parts.tbs, ctca_view_make(tbs, tbs_len)), "the TBS is wrapped verbatim");

    char *path = tca_write_pem(dir, "p.pem", cert, cert_len, "CERTIFICATE");
    char *out = NULL;
    int st = th_run(&out, "openssl verify -CAfile '%s/ca/ca.pem' -ignore_critical -attime %lld '%s'",
                    dir, (long long)TCA_NOW + 60, path);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    st = th_run(&out, "openssl x509 -in '%s' -noout -text", path);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, openssl_name), "%s", out);
    free(out);
    free(path);
    free(tbs);
    free(cert);
    ctca_ca_free(ca);
}

Test(signer, p256_ca_signs_ecdsa_with_sha256_without_parameters)
{
    static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    check_key_type(CTCA_KEY_EC_P256, alg, sizeof alg, "Signature Algorithm: ecdsa-with-SHA256");
}

Test(signer, p384_ca_signs_ecdsa_with_sha384_without_parameters)
{
    static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
    check_key_type(CTCA_KEY_EC_P384, alg, sizeof alg, "Signature Algorithm: ecdsa-with-SHA384");
}

Test(signer, rsa_ca_signs_sha256_with_rsa_with_null_parameters)
{
    static const uint8_t alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                  0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
    check_key_type(CTCA_KEY_RSA_2048, alg, sizeof alg, "Signature Algorithm: sha256WithRSAEncryption");
}

Test(signer, tbs_with_another_algorithm_is_refused)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    uint8_t *tbs = NULL, *cert = NULL;
    size_t tbs_len = 0, cert_len = 0;
    precert_for(ca, &tbs, &tbs_len, &cert, &cert_len);
    free(cert);
    cert = NULL;
    /* ecdsa-with-SHA256 -> ecdsa-with-SHA384 inside the TBS */
    static const uint8_t alg256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    uint8_t *p = memmem(tbs, tbs_len, alg256, sizeof alg256);
    cr_assert_not_null(p);
    p[sizeof alg256 - 1] = 0x03;
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(tbs, tbs_len), &cert, &cert_len),
                 CTCA_ERR_SIG_ALG_MISMATCH);
    cr_assert_null(cert);
    /* Not a TBSCertificate at all. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    cr_assert_neq(ctca_ca_sign_tbs(ca, ctca_view_make(junk, sizeof junk), &cert, &cert_len), CTCA_OK);
    cr_assert_null(cert);
    free(tbs);
    ctca_ca_free(ca);
}

typedef struct job {
    const ctca_ca *ca;
    ctca_view tbs;
    int ok;
} job;

static void *sign_many(void *arg)
{
    job *j = arg;
    X509 *issuer = NULL;
    ctca_view ca_der = ctca_ca_get0_cert(j->ca);
    const unsigned char *p = ca_der.data;
    issuer = d2i_X509(NULL, &p, (long)ca_der.len);
    for (int i = 0; i < 25; i++) {
        uint8_t *cert = NULL;
        size_t len = 0;
        if (ctca_ca_sign_tbs(j->ca, j->tbs, &cert, &len) != CTCA_OK)
            continue;
        const unsigned char *q = cert;
        X509 *x = d2i_X509(NULL, &q, (long)len);
        if (x != NULL && X509_verify(x, X509_get0_pubkey(issuer)) == 1)
            j->ok++;
        X509_free(x);
        free(cert);
    }
    X509_free(issuer);
    return NULL;
}

Test(signer, one_ca_signs_from_several_threads)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    uint8_t *tbs = NULL, *cert = NULL;
    size_t tbs_len = 0, cert_len = 0;
    precert_for(ca, &tbs, &tbs_len, &cert, &cert_len);
    pthread_t t[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){ca, ctca_view_make(tbs, tbs_len), 0};
        cr_assert_eq(pthread_create(&t[i], NULL, sign_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(jobs[i].ok, 25, "thread %d: %d of 25 signatures verified", i, jobs[i].ok);
    }
    free(tbs);
    free(cert);
    ctca_ca_free(ca);
}

/* ctca_signer_sign with the CA's signer: what the CMS precertificate uses. The signature
 * verifies with the CA certificate's key and the CA's digest, and no other. */
static void check_sign_bytes(ctca_key_type kt, const EVP_MD *md, const EVP_MD *other)
{
    ctca_ca *ca = tca_make_ca(dir, kt);
    static const uint8_t data[] = "signed attributes";
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    cr_assert_eq(ctca_signer_sign(ctca_ca_get0_signer(ca), ctca_view_make(data, sizeof data), &sig,
                                  &sig_len),
                 CTCA_OK);
    ctca_view der = ctca_ca_get0_cert(ca);
    const unsigned char *p = der.data;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    cr_assert_not_null(x);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, md, NULL, X509_get0_pubkey(x)), 1);
    cr_expect_eq(EVP_DigestVerify(ctx, sig, sig_len, data, sizeof data), 1);
    EVP_MD_CTX_free(ctx);
    ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, other, NULL, X509_get0_pubkey(x)), 1);
    cr_expect_neq(EVP_DigestVerify(ctx, sig, sig_len, data, sizeof data), 1);
    EVP_MD_CTX_free(ctx);
    X509_free(x);
    free(sig);
    ctca_ca_free(ca);
}

Test(signer, sign_bytes_uses_the_ca_key_and_digest)
{
    check_sign_bytes(CTCA_KEY_EC_P256, EVP_sha256(), EVP_sha384());
}

Test(signer, sign_bytes_with_p384_uses_sha384)
{
    check_sign_bytes(CTCA_KEY_EC_P384, EVP_sha384(), EVP_sha256());
}

Test(signer, sign_bytes_with_rsa_uses_sha256)
{
    check_sign_bytes(CTCA_KEY_RSA_2048, EVP_sha256(), EVP_sha384());
}

/* ---- the signer interface ------------------------------------------------------ */

/* A kind of signer whose device answers with a bad signature (a fault): the
 * interface checks every signature before it leaves, whoever made it. */
static ctca_err faulty_sign(void *impl, const EVP_MD *md, ctca_view msg, uint8_t **sig,
                            size_t *sig_len)
{
    (void)impl;
    (void)md;
    (void)msg;
    *sig = malloc(8);
    cr_assert_not_null(*sig);
    memset(*sig, 0x30, 8);
    *sig_len = 8;
    return CTCA_OK;
}

static int faulty_freed;

static void faulty_free(void *impl)
{
    (void)impl;
    faulty_freed++;
}

static const ctca_signer_ops faulty_ops = {.kind = "faulty", .sign = faulty_sign,
                                           .free = faulty_free};

static EVP_PKEY *public_of(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    cr_assert_not_null(pub);
    return pub;
}

Test(signer, a_signature_that_does_not_verify_never_leaves_the_signer)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    cr_assert_not_null(key);
    ctca_signer *s = NULL;
    faulty_freed = 0;
    cr_assert_eq(ctca_signer_new(&faulty_ops, NULL, public_of(key), &s), CTCA_OK);
    cr_assert_str_eq(ctca_signer_get0_kind(s), "faulty");
    static const uint8_t msg[] = "to be signed";
    uint8_t *sig = (uint8_t *)1;
    size_t sig_len = 1;
    cr_assert_eq(ctca_signer_sign(s, ctca_view_make(msg, sizeof msg), &sig, &sig_len),
                 CTCA_ERR_CRYPTO);
    cr_assert_null(sig);
    cr_assert_eq(sig_len, 0);
    ctca_signer_free(s);
    cr_assert_eq(faulty_freed, 1);
    EVP_PKEY_free(key);
}

Test(signer, a_key_ctca_does_not_sign_with_is_refused_and_released)
{
    EVP_PKEY *key = EVP_EC_gen("P-521");
    cr_assert_not_null(key);
    ctca_signer *s = (ctca_signer *)1;
    faulty_freed = 0;
    cr_assert_eq(ctca_signer_new(&faulty_ops, NULL, public_of(key), &s),
                 CTCA_ERR_KEY_UNSUPPORTED);
    cr_assert_null(s);
    cr_assert_eq(faulty_freed, 1, "the kind's state is released on failure too");
    EVP_PKEY_free(key);
}

/* The public key a signer hands out has no private half. */
Test(signer, a_file_signer_hands_out_only_the_public_key)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    cr_assert_not_null(key);
    ctca_signer *s = NULL;
    cr_assert_eq(ctca_signer_from_key(key, &s), CTCA_OK);
    EVP_PKEY *pub = ctca_signer_get0_public(s);
    cr_assert_eq(EVP_PKEY_eq(pub, key), 1);
    BIGNUM *priv = NULL;
    cr_assert_eq(EVP_PKEY_get_bn_param(pub, "priv", &priv), 0, "a private scalar leaked");
    cr_assert_eq(EVP_PKEY_get_bn_param(key, "priv", &priv), 1);
    BN_free(priv);
    cr_assert_str_eq(ctca_signer_get0_kind(s), "file");
    ctca_signer_free(s);
    EVP_PKEY_free(key);
}
