/* The upstream RFC 6962 vectors (tests/data/upstream/README.md): log IDs,
 * issuer key hashes, signed inputs (length and SHA-256), TBS reconstructions,
 * signatures by the EC and RSA test logs, Merkle leaf hashes, and the order of
 * ctca_sct_verify's checks. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/sct.h"
#include "tests/helpers.h"

#define CT "certificate-transparency/"
#define EC_KEY CT "ct-server-key-public.pem"
#define RSA_KEY CT "rsa/ct-server-key-public-rsa.pem"
/* A time after every upstream SCT. */
#define LATER 1400000000000ull

static uint8_t *up(const char *rel, size_t *len)
{
    char *p = th_upstream(rel);
    uint8_t *d = th_read_file(p, len);
    free(p);
    return d;
}

static uint8_t *up_pem(const char *rel, size_t *len)
{
    char *p = th_upstream(rel);
    uint8_t *d = th_read_pem_der(p, len);
    free(p);
    return d;
}

static ctca_log_key *key(const char *rel)
{
    char *p = th_upstream(rel);
    ctca_log_key *k = NULL;
    cr_assert_eq(ctca_log_key_from_pem_file(p, &k), CTCA_OK, "%s", rel);
    free(p);
    return k;
}

static ctca_sct proof(const char *rel)
{
    size_t len;
    uint8_t *d = up(rel, &len);
    ctca_sct s;
    cr_assert_eq(ctca_sct_parse(ctca_view_make(d, len), &s), CTCA_OK, "%s", rel);
    free(d);
    return s;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void expect_sha256(const uint8_t *p, size_t n, const char *want, const char *what)
{
    uint8_t d[32];
    char h[65];
    cr_assert_eq(EVP_Digest(p, n, d, NULL, EVP_sha256(), NULL), 1);
    hex(d, 32, h);
    cr_expect_str_eq(h, want, "%s: SHA-256 %s, want %s", what, h, want);
}

static void expect_hex32(const uint8_t *p, const char *want, const char *what)
{
    char h[65];
    hex(p, 32, h);
    cr_expect_str_eq(h, want, "%s: %s, want %s", what, h, want);
}

static void expect_b64_32(const uint8_t *p, const char *want, const char *what)
{
    char *b = NULL;
    cr_assert_eq(ctca_base64_encode(p, 32, &b), CTCA_OK);
    cr_expect_str_eq(b, want, "%s", what);
    free(b);
}

static void ikh(const char *rel, uint8_t out[32])
{
    size_t len;
    uint8_t *c = up_pem(rel, &len);
    cr_assert_eq(ctca_cert_issuer_key_hash(ctca_view_make(c, len), out), CTCA_OK, "%s", rel);
    free(c);
}

Test(sct_upstream, log_ids_are_sha256_of_the_spki)
{
    ctca_log_key *ec = key(EC_KEY), *rsa = key(RSA_KEY);
    ctca_log_key *pilot = key(CT "google-ct-pilot-server-key-public.pem");
    ctca_log_key *dev = key(CT "google-ct-dev-server-key-public.pem");
    expect_hex32(ctca_log_key_get0_id(ec),
                 "df1c2ec11500945247a96168325ddc5c7959e8f7c6d388fc002e0bbd3f74d764", "EC log");
    expect_b64_32(ctca_log_key_get0_id(ec), "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=",
                  "EC log b64");
    expect_hex32(ctca_log_key_get0_id(rsa),
                 "a0242cba62245617b3b0abc627eb294c920cf47fa3cbf39dbd2183217d15b206", "RSA log");
    expect_b64_32(ctca_log_key_get0_id(pilot), "pLkJkLQYWBSHuxOizGdwCjw1mAT5G9+443fNDsgN3BA=",
                  "pilot");
    expect_b64_32(ctca_log_key_get0_id(dev), "qD5zA4ui8quWzjrk9Z6R/RV9jwAq4mYIiO7fM6I31z8=",
                  "dev");
    cr_expect_eq(ctca_log_key_sig_alg(ec), CTCA_SIGALG_ECDSA);
    cr_expect_eq(ctca_log_key_sig_alg(rsa), CTCA_SIGALG_RSA);
    ctca_view spki = ctca_log_key_get0_spki(ec);
    expect_sha256(spki.data, spki.len,
                  "df1c2ec11500945247a96168325ddc5c7959e8f7c6d388fc002e0bbd3f74d764", "spki");
    ctca_log_key_free(ec);
    ctca_log_key_free(rsa);
    ctca_log_key_free(pilot);
    ctca_log_key_free(dev);
    ctca_log_key_free(NULL);
}

Test(sct_upstream, log_keys_outside_p256_and_rsa2048_are_refused)
{
    /* The test PKI's RSA-1024 CA key is too small for a log. */
    size_t len;
    uint8_t *ca = up_pem(CT "ca-cert.pem", &len);
    const unsigned char *p = ca;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    cr_assert_not_null(x);
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    cr_assert_gt(spki_len, 0);
    ctca_log_key *k = NULL;
    cr_expect_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)spki_len), &k),
                 CTCA_ERR_KEY_UNSUPPORTED);
    OPENSSL_free(spki);
    X509_free(x);
    free(ca);

    /* A P-384 key. */
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
    cr_assert_not_null(p384);
    spki = NULL;
    spki_len = i2d_PUBKEY(p384, &spki);
    cr_expect_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)spki_len), &k),
                 CTCA_ERR_KEY_UNSUPPORTED);
    OPENSSL_free(spki);
    EVP_PKEY_free(p384);

    /* A valid SPKI with a trailing byte, and a truncated one. */
    ctca_log_key *ec = key(EC_KEY);
    ctca_view v = ctca_log_key_get0_spki(ec);
    uint8_t buf[200];
    cr_assert_lt(v.len, sizeof buf);
    memcpy(buf, v.data, v.len);
    buf[v.len] = 0;
    cr_expect_eq(ctca_log_key_from_spki(ctca_view_make(buf, v.len + 1), &k),
                 CTCA_ERR_TRAILING_DATA);
    cr_expect_eq(ctca_log_key_from_spki(ctca_view_make(buf, v.len - 1), &k),
                 CTCA_ERR_TRUNCATED);
    ctca_log_key_free(ec);

    /* A file that is not a key names itself in the error buffer. */
    char *path = th_upstream(CT "ca-cert.pem");
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_log_key_load(path, &k, &eb), CTCA_ERR_PEM);
    cr_expect(strstr(eb.msg, "ca-cert.pem") != NULL, "%s", eb.msg);
    free(path);
}

Test(sct_upstream, issuer_key_hashes_match_the_readme)
{
    uint8_t h[32];
    ikh(CT "ca-cert.pem", h);
    expect_hex32(h, "02adddca08b8bf9861f035940c940156d8350fdff899a6239c6bd77255b8f8fc",
                 "ca-cert");
    ikh(CT "intermediate-cert.pem", h);
    expect_hex32(h, "6fa870e52e065a34243667409e8bfdf29ffa9e49c731525c167b30e8ad6a7516",
                 "intermediate-cert");
    ikh(CT "ca-pre-cert.pem", h);
    expect_hex32(h, "610630a996004ca2f81975b756f5a3be70c58857a36886d1081ec48fa014a1b2",
                 "ca-pre-cert");
}

/* An x509_entry proof over a whole certificate. */
static void check_x509_proof(const char *cert_rel, const char *proof_rel, const char *key_rel,
                             size_t want_len, const char *want_sha)
{
    size_t cert_len, in_len;
    uint8_t *cert = up_pem(cert_rel, &cert_len), *in = NULL;
    ctca_sct sct = proof(proof_rel);
    ctca_log_key *k = key(key_rel);
    ctca_signed_entry e = {.type = CTCA_ENTRY_X509, .leaf_cert = ctca_view_make(cert, cert_len)};
    cr_assert_eq(ctca_sct_signed_input(&sct, &e, &in, &in_len), CTCA_OK);
    if (want_sha != NULL) {
        cr_expect_eq(in_len, want_len, "%s", proof_rel);
        expect_sha256(in, in_len, want_sha, proof_rel);
    }
    cr_expect_eq(ctca_sct_verify(&sct, k, &e, LATER), CTCA_OK, "%s", proof_rel);
    free(in);
    ctca_log_key_free(k);
    ctca_sct_cleanup(&sct);
    free(cert);
}

Test(sct_upstream, x509_entry_proofs_verify_with_ec_and_rsa_logs)
{
    check_x509_proof(CT "test-cert.pem", CT "test-cert.proof", EC_KEY, 735,
                     "aef0364bdb51ce67ed4dc6fa1eb22c33bc6efe3c93702de97cab37b72def83ba");
    check_x509_proof(CT "test-cert.pem", CT "rsa/test-cert-rsa.proof", RSA_KEY, 735,
                     "aef0364bdb51ce67ed4dc6fa1eb22c33bc6efe3c93702de97cab37b72def83ba");
    check_x509_proof(CT "test-intermediate-cert.pem", CT "test-intermediate-cert.proof", EC_KEY,
                     748, "a3d15f687b9ebf5193075eff9dc24a4e430caa85274c9a7697c84ce8ffd0ddf8");
}

typedef struct precert_case {
    const char *precert, *final, *preca, *issuer, *proof, *rsa_proof;
    size_t tbs_len;
    const char *tbs_sha;
    size_t in_len;
    const char *in_sha;
} precert_case;

static const precert_case precert_cases[] = {
    {CT "test-embedded-pre-cert.pem", CT "test-embedded-cert.pem", NULL, CT "ca-cert.pem",
     CT "test-embedded-pre-cert.proof", CT "rsa/test-embedded-pre-cert-rsa.proof", 567,
     "f891a12ef5a416b880296328e399ac1fce0b3d794781d11b62b33375beb3a956", 616,
     "09812696b22e8fda8e629fd934165d87451823d6af750ff922e80418f69752a7"},
    {CT "test-embedded-with-preca-pre-cert.pem", CT "test-embedded-with-preca-cert.pem",
     CT "ca-pre-cert.pem", CT "ca-cert.pem", CT "test-embedded-with-preca-pre-cert.proof", NULL,
     567, "ec0a5bbfd458d15ae617620513d7f6005ae279e205173fb4c7454b13b73e534e", 616,
     "27e69e77c6d87a35d7418899c509a200eccc3c3253fbef39045fa31ccd519f3a"},
    {CT "test-embedded-with-intermediate-pre-cert.pem",
     CT "test-embedded-with-intermediate-cert.pem", NULL, CT "intermediate-cert.pem",
     CT "test-embedded-with-intermediate-pre-cert.proof", NULL, 580,
     "12d50d813422057980770c419f2584fa45c73ca8e6390a0fbfe7f3c555c0e657", 629,
     "5194fc7b341c295ad700569e669bbe647ccc9d4813df44fb9be92601078bf5d4"},
    {CT "test-embedded-with-intermediate-preca-pre-cert.pem",
     CT "test-embedded-with-intermediate-preca-cert.pem", CT "intermediate-pre-cert.pem",
     CT "intermediate-cert.pem", CT "test-embedded-with-intermediate-preca-pre-cert.proof", NULL,
     0, "fc2823b68d4364f4e355122aa04c57184d36d71fb4067a50d1ea8a60a5a53e8b", 629,
     "805e652aa96ddc03f7e3dcc07c68e19e8eb3c6939886636660ad54f90aca7270"},
};

Test(sct_upstream, precert_entry_proofs_reconstruct_the_tbs_and_verify)
{
    ctca_log_key *ec = key(EC_KEY), *rsa = key(RSA_KEY);
    for (size_t i = 0; i < sizeof precert_cases / sizeof precert_cases[0]; i++) {
        const precert_case *c = &precert_cases[i];
        size_t pre_len, fin_len, tbs_len, fin_tbs_len, in_len;
        uint8_t *pre = up_pem(c->precert, &pre_len), *fin = up_pem(c->final, &fin_len);
        uint8_t *tbs = NULL, *fin_tbs = NULL, *in = NULL;
        if (c->preca != NULL) {
            size_t preca_len;
            uint8_t *preca = up_pem(c->preca, &preca_len);
            cr_assert_eq(ctca_precert_tbs_from_preca_precert(ctca_view_make(pre, pre_len),
                                                             ctca_view_make(preca, preca_len),
                                                             &tbs, &tbs_len),
                         CTCA_OK, "%s", c->precert);
            free(preca);
        } else {
            cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &tbs,
                                                       &tbs_len),
                         CTCA_OK, "%s", c->precert);
        }
        if (c->tbs_len != 0)
            cr_expect_eq(tbs_len, c->tbs_len, "%s", c->precert);
        expect_sha256(tbs, tbs_len, c->tbs_sha, c->precert);
        /* The same bytes come out of the final certificate minus its SCT list. */
        cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(fin, fin_len), &fin_tbs,
                                                 &fin_tbs_len),
                     CTCA_OK);
        cr_expect(ctca_view_eq(ctca_view_make(tbs, tbs_len),
                               ctca_view_make(fin_tbs, fin_tbs_len)),
                  "%s: final TBS minus SCT list differs", c->final);

        ctca_sct sct = proof(c->proof);
        ctca_signed_entry e = {.type = CTCA_ENTRY_PRECERT, .tbs = ctca_view_make(tbs, tbs_len)};
        ikh(c->issuer, e.issuer_key_hash);
        cr_assert_eq(ctca_sct_signed_input(&sct, &e, &in, &in_len), CTCA_OK);
        cr_expect_eq(in_len, c->in_len, "%s", c->proof);
        expect_sha256(in, in_len, c->in_sha, c->proof);
        cr_expect_eq(ctca_sct_verify(&sct, ec, &e, LATER), CTCA_OK, "%s", c->proof);
        if (c->preca != NULL) {
            /* RFC 6962 3.2: the issuer key hash is the final issuer's, never the PreCA's. */
            ctca_signed_entry wrong = e;
            ikh(c->preca, wrong.issuer_key_hash);
            cr_expect_eq(ctca_sct_verify(&sct, ec, &wrong, LATER), CTCA_ERR_SIG_INVALID,
                         "%s with the PreCA's key hash", c->proof);
        }
        if (c->rsa_proof != NULL) {
            ctca_sct rs = proof(c->rsa_proof);
            cr_expect_eq(rs.timestamp, sct.timestamp);
            cr_expect_eq(ctca_sct_verify(&rs, rsa, &e, LATER), CTCA_OK, "%s", c->rsa_proof);
            ctca_sct_cleanup(&rs);
        }
        ctca_sct_cleanup(&sct);
        free(in);
        free(tbs);
        free(fin_tbs);
        free(pre);
        free(fin);
    }
    ctca_log_key_free(ec);
    ctca_log_key_free(rsa);
}

Test(sct_upstream, precert_signed_input_starts_as_the_readme_says)
{
    size_t pre_len, tbs_len, in_len;
    uint8_t *pre = up_pem(CT "test-embedded-pre-cert.pem", &pre_len), *tbs = NULL, *in = NULL;
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &tbs, &tbs_len),
                 CTCA_OK);
    ctca_sct sct = proof(CT "test-embedded-pre-cert.proof");
    ctca_signed_entry e = {.type = CTCA_ENTRY_PRECERT, .tbs = ctca_view_make(tbs, tbs_len)};
    ikh(CT "ca-cert.pem", e.issuer_key_hash);
    cr_assert_eq(ctca_sct_signed_input(&sct, &e, &in, &in_len), CTCA_OK);
    /* 00 00 0000013ddb27df93 0001 <IKH> <u24 567> <TBS> 0000 */
    static const uint8_t head[] = {0x00, 0x00, 0x00, 0x00, 0x01, 0x3d, 0xdb,
                                   0x27, 0xdf, 0x93, 0x00, 0x01};
    cr_expect(memcmp(in, head, sizeof head) == 0);
    cr_expect(memcmp(in + 12, e.issuer_key_hash, 32) == 0);
    cr_expect(in[44] == 0x00 && in[45] == 0x02 && in[46] == 0x37, "u24 TBS length 567");
    cr_expect(memcmp(in + 47, tbs, tbs_len) == 0);
    cr_expect(in[in_len - 2] == 0 && in[in_len - 1] == 0, "empty CtExtensions");
    ctca_sct_cleanup(&sct);
    free(in);
    free(tbs);
    free(pre);
}

Test(sct_upstream, merkle_leaf_hashes_match_certificate_transparency_go)
{
    size_t len;
    uint8_t h[32];
    uint8_t *cert = up_pem(CT "test-cert.pem", &len);
    ctca_sct sct = proof(CT "test-cert.proof");
    ctca_signed_entry e = {.type = CTCA_ENTRY_X509, .leaf_cert = ctca_view_make(cert, len)};
    cr_assert_eq(ctca_merkle_leaf_hash(&sct, &e, h), CTCA_OK);
    expect_b64_32(h, "BKZLZGMbAnDW0gQWjNJNCyS2IgweWn76YW3tFlu3AuY=", "test-cert leaf");
    ctca_sct_cleanup(&sct);
    free(cert);

    size_t tbs_len;
    uint8_t *pre = up_pem(CT "test-embedded-pre-cert.pem", &len), *tbs = NULL;
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, len), &tbs, &tbs_len),
                 CTCA_OK);
    sct = proof(CT "test-embedded-pre-cert.proof");
    ctca_signed_entry pe = {.type = CTCA_ENTRY_PRECERT, .tbs = ctca_view_make(tbs, tbs_len)};
    ikh(CT "ca-cert.pem", pe.issuer_key_hash);
    cr_assert_eq(ctca_merkle_leaf_hash(&sct, &pe, h), CTCA_OK);
    expect_b64_32(h, "mbk+d5FDW3oNZJCbOi828rqC3hf+qhigTWVGcXEZq1U=", "precert leaf");
    ctca_sct_cleanup(&sct);
    free(tbs);
    free(pre);
}

Test(sct_upstream, verify_checks_log_id_then_algorithm_then_time_then_signature)
{
    size_t len;
    uint8_t *cert = up_pem(CT "test-cert.pem", &len);
    ctca_signed_entry e = {.type = CTCA_ENTRY_X509, .leaf_cert = ctca_view_make(cert, len)};
    ctca_log_key *ec = key(EC_KEY), *rsa = key(RSA_KEY);
    ctca_sct sct = proof(CT "test-cert.proof");

    /* Every check fails at once: the first in order is reported. */
    ctca_sct bad = sct;
    bad.hash_alg = 2;
    bad.timestamp = LATER + 1;
    cr_expect_eq(ctca_sct_verify(&bad, rsa, &e, LATER), CTCA_ERR_SCT_LOG_ID_MISMATCH);
    cr_expect_eq(ctca_sct_verify(&bad, ec, &e, LATER), CTCA_ERR_SIG_ALG_MISMATCH);
    bad.hash_alg = CTCA_HASH_SHA256;
    bad.sig_alg = CTCA_SIGALG_RSA;
    cr_expect_eq(ctca_sct_verify(&bad, ec, &e, LATER), CTCA_ERR_SIG_ALG_MISMATCH);
    bad.sig_alg = CTCA_SIGALG_ECDSA;
    cr_expect_eq(ctca_sct_verify(&bad, ec, &e, LATER), CTCA_ERR_SCT_FUTURE);
    /* now == timestamp is not the future. */
    cr_expect_eq(ctca_sct_verify(&sct, ec, &e, sct.timestamp), CTCA_OK);
    cr_expect_eq(ctca_sct_verify(&sct, ec, &e, sct.timestamp - 1), CTCA_ERR_SCT_FUTURE);
    /* As upstream's verify_test: a fake timestamp breaks the signature. */
    bad.timestamp = 1234567;
    cr_expect_eq(ctca_sct_verify(&bad, ec, &e, LATER), CTCA_ERR_SIG_INVALID);
    /* The wrong entry type, and a flipped signature byte. */
    ctca_signed_entry pe = {.type = CTCA_ENTRY_PRECERT, .tbs = e.leaf_cert};
    cr_expect_eq(ctca_sct_verify(&sct, ec, &pe, LATER), CTCA_ERR_SIG_INVALID);
    sct.signature[sct.signature_len - 1] ^= 1;
    cr_expect_eq(ctca_sct_verify(&sct, ec, &e, LATER), CTCA_ERR_SIG_INVALID);
    /* A signature that is not even DER. */
    sct.signature[0] = 0x31;
    cr_expect_eq(ctca_sct_verify(&sct, ec, &e, LATER), CTCA_ERR_SIG_INVALID);

    ctca_sct_cleanup(&sct);
    ctca_log_key_free(ec);
    ctca_log_key_free(rsa);
    free(cert);
}

Test(sct_upstream, embedded_scts_of_the_final_certs_verify_and_the_hacked_one_does_not)
{
    ctca_log_key *keys[2] = {key(EC_KEY), key(RSA_KEY)};
    static const char *const certs[][2] = {
        {CT "test-embedded-cert.pem", CT "ca-cert.pem"},
        {CT "test-embedded-with-preca-cert.pem", CT "ca-cert.pem"},
        {CT "test-embedded-with-intermediate-cert.pem", CT "intermediate-cert.pem"},
        {CT "test-embedded-with-intermediate-preca-cert.pem", CT "intermediate-cert.pem"},
        {CT "test-invalid-embedded-cert.pem", CT "ca-cert.pem"},
    };
    for (size_t i = 0; i < 5; i++) {
        size_t cl, il;
        uint8_t *c = up_pem(certs[i][0], &cl), *is = up_pem(certs[i][1], &il);
        ctca_sct_checks r;
        cr_assert_eq(ctca_cert_verify_embedded_scts(ctca_view_make(c, cl),
                                                    ctca_view_make(is, il),
                                                    (const ctca_log_key *const *)keys, 2,
                                                    LATER, &r),
                     CTCA_OK, "%s", certs[i][0]);
        cr_assert_eq(r.n, 1);
        cr_expect_eq(r.items[0].key, keys[0]);
        cr_expect_eq(r.items[0].status, i < 4 ? CTCA_OK : CTCA_ERR_SIG_INVALID, "%s",
                     certs[i][0]);
        cr_expect_eq(r.n_valid, i < 4 ? 1u : 0u);
        cr_expect_eq(r.n_invalid, i < 4 ? 0u : 1u);
        ctca_sct_checks_cleanup(&r);

        /* With only the RSA key the EC log's SCT is from an unknown log. */
        cr_assert_eq(ctca_cert_verify_embedded_scts(ctca_view_make(c, cl),
                                                    ctca_view_make(is, il),
                                                    (const ctca_log_key *const *)keys + 1, 1,
                                                    LATER, &r),
                     CTCA_OK);
        cr_expect_eq(r.items[0].status, CTCA_ERR_SCT_UNKNOWN_LOG);
        cr_expect_null(r.items[0].key);
        cr_expect_eq(r.n_unknown, 1);
        ctca_sct_checks_cleanup(&r);
        free(c);
        free(is);
    }

    /* The wrong issuer, and a certificate with no SCT list. */
    size_t cl, il;
    uint8_t *c = up_pem(CT "test-embedded-cert.pem", &cl);
    uint8_t *is = up_pem(CT "intermediate-cert.pem", &il);
    ctca_sct_checks r;
    cr_expect_eq(ctca_cert_verify_embedded_scts(ctca_view_make(c, cl), ctca_view_make(is, il),
                                                (const ctca_log_key *const *)keys, 2, LATER,
                                                &r),
                 CTCA_ERR_ISSUER_MISMATCH);
    cr_expect_eq(r.n, 0);
    free(c);
    c = up_pem(CT "test-cert.pem", &cl);
    cr_expect_eq(ctca_cert_verify_embedded_scts(ctca_view_make(c, cl), ctca_view_make(is, il),
                                                (const ctca_log_key *const *)keys, 2, LATER,
                                                &r),
                 CTCA_ERR_NO_SCT_LIST);
    free(c);
    free(is);
    ctca_log_key_free(keys[0]);
    ctca_log_key_free(keys[1]);
}
