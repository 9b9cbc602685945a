/* The CT 1.0 release check (ctca_final_cert_check): a final certificate is
 * released only when its TBS minus the SCT list is the precertificate's TBS
 * minus the poison and every embedded SCT verifies. With a memo of SCTs the
 * engine verified on arrival, only an SCT equal to a memo entry, under the
 * same key and over the same entry bytes, is spared a second verification:
 * every other case is still verified and still refused. SCTs are signed here
 * with a real P-256 log key. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/issue.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;
static ctca_ca *ca;
static EVP_PKEY *log_pkey;
static ctca_log_key *log_key;
static uint8_t *precert, *entry_tbs;
static size_t precert_len, entry_tbs_len;

/* The precert TBS the engine builds for a new P-256 CSR, signed by the CA. */
static void make_precert(const char *name, uint8_t **cert, size_t *cert_len)
{
    char *path = tca_make_csr(dir, name, KEY_P256, "/", "DNS:example.com");
    ctca_csr *csr = tca_load_csr(path);
    const ctca_profile *p = ctca_config_get0_profile(ctca_ca_get0_config(ca), "tls-server");
    uint8_t serial[CTCA_SERIAL_LEN], *tbs = NULL;
    size_t tbs_len = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_serial_generate(NULL, NULL, serial), CTCA_OK);
    cr_assert_eq(ctca_tbs_build_precert(ca, p, csr, serial, sizeof serial, TCA_NOW, &tbs,
                                        &tbs_len, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(tbs, tbs_len), cert, cert_len), CTCA_OK);
    free(tbs);
    ctca_csr_free(csr);
    free(path);
}

static void setup(void)
{
    dir = th_tmpdir();
    ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    make_precert("leaf", &precert, &precert_len);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(precert, precert_len), &entry_tbs,
                                               &entry_tbs_len),
                 CTCA_OK);
    log_pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(log_pkey, &spki);
    cr_assert_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)n), &log_key), CTCA_OK);
    OPENSSL_free(spki);
}

static void teardown(void)
{
    ctca_log_key_free(log_key);
    EVP_PKEY_free(log_pkey);
    free(precert);
    free(entry_tbs);
    ctca_ca_free(ca);
    th_rmdir(dir);
    free(dir);
}

TestSuite(release_check, .init = setup, .fini = teardown, .timeout = 60);

static ctca_signed_entry entry_over(ctca_view tbs)
{
    ctca_signed_entry e = {.type = CTCA_ENTRY_PRECERT, .tbs = tbs};
    memcpy(e.issuer_key_hash, ctca_ca_get0_issuer_key_hash(ca), CTCA_LOG_ID_LEN);
    return e;
}

/* An RFC 6962 SCT from log_pkey over the precert entry of over_tbs. */
static void make_sct(ctca_view over_tbs, ctca_sct *sct)
{
    memset(sct, 0, sizeof *sct);
    memcpy(sct->log_id, ctca_log_key_get0_id(log_key), CTCA_LOG_ID_LEN);
    sct->timestamp = (uint64_t)TCA_NOW * 1000;
    sct->hash_alg = 4; /* sha256 */
    sct->sig_alg = ctca_log_key_sig_alg(log_key);
    ctca_signed_entry entry = entry_over(over_tbs);
    uint8_t *msg = NULL;
    size_t msg_len = 0, sig_len = 0;
    cr_assert_eq(ctca_sct_signed_input(sct, &entry, &msg, &msg_len), CTCA_OK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, log_pkey), 1);
    cr_assert_eq(EVP_DigestSign(ctx, NULL, &sig_len, msg, msg_len), 1);
    sct->signature = malloc(sig_len);
    cr_assert_eq(EVP_DigestSign(ctx, sct->signature, &sig_len, msg, msg_len), 1);
    sct->signature_len = sig_len;
    EVP_MD_CTX_free(ctx);
    free(msg);
    cr_assert_eq(ctca_sct_verify(sct, log_key, &entry, (uint64_t)TCA_NOW * 1000), CTCA_OK);
}

/* The final certificate of the precert cert with scts embedded. */
static void make_final(ctca_view pre, const ctca_sct *scts, size_t n, uint8_t **cert,
                       size_t *cert_len)
{
    uint8_t *list = NULL, *fin = NULL;
    size_t list_len = 0, fin_len = 0;
    ctca_view body = pre, cert_seq;
    cr_assert_eq(ctca_der_get(&body, CTCA_DER_SEQUENCE, &cert_seq), CTCA_OK);
    ctca_view pre_tbs;
    cr_assert_eq(ctca_der_get_element(&cert_seq, CTCA_DER_SEQUENCE, &pre_tbs), CTCA_OK);
    cr_assert_eq(ctca_sct_list_serialize(scts, n, &list, &list_len), CTCA_OK);
    cr_assert_eq(ctca_tbs_precert_to_final(pre_tbs, ctca_view_make(list, list_len), &fin,
                                           &fin_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(fin, fin_len), cert, cert_len), CTCA_OK);
    free(list);
    free(fin);
}

static ctca_err check(ctca_view cert, const ctca_sct_memo *memo)
{
    ctca_errbuf eb = {{0}};
    ctca_log_key *keys[] = {log_key};
    return ctca_final_cert_check(cert, ctca_view_make(precert, precert_len),
                                 ctca_view_make(NULL, 0), ctca_ca_get0_issuer_key_hash(ca), keys,
                                 1, memo, (uint64_t)TCA_NOW * 1000, &eb);
}

static ctca_sct_memo memo_of(const ctca_sct *scts, const ctca_log_key **keys, size_t n)
{
    return (ctca_sct_memo){.tbs = ctca_view_make(entry_tbs, entry_tbs_len),
                           .issuer_key_hash = ctca_ca_get0_issuer_key_hash(ca),
                           .scts = scts,
                           .keys = (const ctca_log_key *const *)keys,
                           .n = n};
}

Test(release_check, a_good_final_passes_with_and_without_a_memo)
{
    ctca_sct sct;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &sct, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&sct, keys, 1);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), NULL), CTCA_OK);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_OK);
    free(cert);
    ctca_sct_cleanup(&sct);
}

Test(release_check, a_tampered_sct_fails_even_when_the_memo_holds_the_good_one)
{
    ctca_sct good, bad;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &good);
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &bad);
    bad.signature[bad.signature_len - 1] ^= 0x01;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &bad, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&good, keys, 1);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), NULL), CTCA_ERR_SIG_INVALID);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_SIG_INVALID);
    free(cert);
    ctca_sct_cleanup(&good);
    ctca_sct_cleanup(&bad);
}

Test(release_check, a_memo_over_another_tbs_spares_nothing)
{
    /* An SCT signed over another precertificate's entry: the memo claims it
     * verified, but over other TBS bytes, so the check verifies and refuses. */
    uint8_t *other = NULL, *other_tbs = NULL;
    size_t other_len = 0, other_tbs_len = 0;
    make_precert("other", &other, &other_len);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(other, other_len), &other_tbs,
                                               &other_tbs_len),
                 CTCA_OK);
    ctca_sct sct;
    make_sct(ctca_view_make(other_tbs, other_tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &sct, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&sct, keys, 1);
    memo.tbs = ctca_view_make(other_tbs, other_tbs_len);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_SIG_INVALID);
    free(cert);
    free(other);
    free(other_tbs);
    ctca_sct_cleanup(&sct);
}

Test(release_check, a_final_whose_tbs_differs_is_refused_before_any_sct)
{
    uint8_t *other = NULL;
    size_t other_len = 0;
    make_precert("other", &other, &other_len);
    ctca_sct sct;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(other, other_len), &sct, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&sct, keys, 1);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_TBS_MISMATCH);
    free(cert);
    free(other);
    ctca_sct_cleanup(&sct);
}

Test(release_check, an_sct_from_a_log_not_given_is_unknown_despite_the_memo)
{
    ctca_sct sct;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &sct, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&sct, keys, 1);
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_final_cert_check(ctca_view_make(cert, cert_len),
                                       ctca_view_make(precert, precert_len),
                                       ctca_view_make(NULL, 0),
                                       ctca_ca_get0_issuer_key_hash(ca), NULL, 0, &memo,
                                       (uint64_t)TCA_NOW * 1000, &eb),
                 CTCA_ERR_SCT_UNKNOWN_LOG);
    free(cert);
    ctca_sct_cleanup(&sct);
}
