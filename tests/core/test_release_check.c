/* The release check (ctca/release.h, core/ct/release.c), on its own.
 * ctca_final_cert_check, for CT 1.0: a final certificate is
 * released only when its TBS minus the SCT list is the precertificate's TBS
 * minus the poison and every embedded SCT verifies. With a memo of SCTs the
 * engine verified on arrival, only an SCT equal to a memo entry, under the
 * same key and over the same entry bytes, is spared a second verification:
 * every other case is still verified and still refused. SCTs are signed here
 * with a real P-256 log key. ctca_unembedded_cert_check: a certificate issued
 * without SCTs carries exactly the precertificate's TBS minus the poison (CT
 * 1.0, with or without a PreCA) or the CMS eContent (CT 2.0). */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/release.h"
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

Test(release_check, a_memo_hit_spares_verification_for_the_same_entry_and_key)
{
    /* The memo is trusted for exactly what it names: a tampered SCT the memo
     * lists under the very key and entry is not verified again. */
    ctca_sct bad;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &bad);
    bad.signature[bad.signature_len - 1] ^= 0x01;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &bad, 1, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&bad, keys, 1);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_OK);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), NULL), CTCA_ERR_SIG_INVALID);
    free(cert);
    ctca_sct_cleanup(&bad);
}

Test(release_check, a_memo_under_another_key_or_issuer_spares_nothing)
{
    ctca_sct bad;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &bad);
    bad.signature[bad.signature_len - 1] ^= 0x01;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), &bad, 1, &cert, &cert_len);
    /* The same log's key, loaded again: the memo names another key object. */
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(log_pkey, &spki);
    ctca_log_key *again = NULL;
    cr_assert_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)n), &again), CTCA_OK);
    OPENSSL_free(spki);
    const ctca_log_key *other_keys[] = {again};
    ctca_sct_memo memo = memo_of(&bad, other_keys, 1);
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_SIG_INVALID);
    /* The right key, but the memo's entry names another issuer. */
    const ctca_log_key *keys[] = {log_key};
    uint8_t other_issuer[CTCA_LOG_ID_LEN];
    memcpy(other_issuer, ctca_ca_get0_issuer_key_hash(ca), CTCA_LOG_ID_LEN);
    other_issuer[0] ^= 0x01;
    memo = memo_of(&bad, keys, 1);
    memo.issuer_key_hash = other_issuer;
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_SIG_INVALID);
    /* A memo without an issuer key hash holds nothing. */
    memo.issuer_key_hash = NULL;
    cr_expect_eq(check(ctca_view_make(cert, cert_len), &memo), CTCA_ERR_SIG_INVALID);
    ctca_log_key_free(again);
    free(cert);
    ctca_sct_cleanup(&bad);
}

Test(release_check, a_memo_hit_on_one_sct_still_verifies_the_others)
{
    ctca_sct scts[2];
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &scts[0]);
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &scts[1]);
    scts[1].timestamp -= 1; /* its signature no longer covers it */
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(precert, precert_len), scts, 2, &cert, &cert_len);
    const ctca_log_key *keys[] = {log_key};
    ctca_sct_memo memo = memo_of(&scts[0], keys, 1);
    ctca_errbuf eb = {{0}};
    ctca_log_key *vkeys[] = {log_key};
    cr_expect_eq(ctca_final_cert_check(ctca_view_make(cert, cert_len),
                                       ctca_view_make(precert, precert_len),
                                       ctca_view_make(NULL, 0),
                                       ctca_ca_get0_issuer_key_hash(ca), vkeys, 1, &memo,
                                       (uint64_t)TCA_NOW * 1000, &eb),
                 CTCA_ERR_SIG_INVALID);
    cr_expect_str_eq(eb.msg, "embedded SCT 1: signature does not verify", "%s", eb.msg);
    free(cert);
    ctca_sct_cleanup(&scts[0]);
    ctca_sct_cleanup(&scts[1]);
}

Test(release_check, a_tbs_mismatch_names_what_differs)
{
    uint8_t *other = NULL;
    size_t other_len = 0;
    make_precert("other", &other, &other_len);
    ctca_sct sct;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(other, other_len), &sct, 1, &cert, &cert_len);
    ctca_errbuf eb = {{0}};
    ctca_log_key *keys[] = {log_key};
    cr_expect_eq(ctca_final_cert_check(ctca_view_make(cert, cert_len),
                                       ctca_view_make(precert, precert_len),
                                       ctca_view_make(NULL, 0),
                                       ctca_ca_get0_issuer_key_hash(ca), keys, 1, NULL,
                                       (uint64_t)TCA_NOW * 1000, &eb),
                 CTCA_ERR_TBS_MISMATCH);
    cr_expect_str_eq(eb.msg, "final TBS minus SCT list differs from precert TBS minus poison");
    ctca_sct_cleanup(&sct);
    free(cert);
    free(other);
}

/* ---- without embedded SCTs ------------------------------------------------- */

static ctca_err unembedded(ctca_view cert, ctca_view pre, ctca_view preca, ctca_errbuf *eb)
{
    return ctca_unembedded_cert_check(cert, pre, preca, eb);
}

Test(release_check, ct1_unembedded_is_the_precert_tbs_minus_the_poison)
{
    uint8_t *cert = NULL, *bad = NULL, *other = NULL, *other_tbs = NULL;
    size_t cert_len = 0, bad_len = 0, other_len = 0, other_tbs_len = 0;
    ctca_errbuf eb = {{0}};
    ctca_view pre = ctca_view_make(precert, precert_len), none = ctca_view_make(NULL, 0);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(entry_tbs, entry_tbs_len), &cert, &cert_len),
                 CTCA_OK);
    cr_expect_eq(unembedded(ctca_view_make(cert, cert_len), pre, none, &eb), CTCA_OK, "%s",
                 eb.msg);
    /* Another precertificate's TBS, and one carrying an SCT list: refused. */
    make_precert("other", &other, &other_len);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(other, other_len), &other_tbs,
                                               &other_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(other_tbs, other_tbs_len), &bad, &bad_len),
                 CTCA_OK);
    cr_expect_eq(unembedded(ctca_view_make(bad, bad_len), pre, none, &eb), CTCA_ERR_TBS_MISMATCH);
    cr_expect_str_eq(eb.msg, "certificate TBS differs from precert TBS minus poison");
    free(bad);
    bad = NULL;
    ctca_sct sct;
    make_sct(ctca_view_make(entry_tbs, entry_tbs_len), &sct);
    make_final(pre, &sct, 1, &bad, &bad_len);
    cr_expect_eq(unembedded(ctca_view_make(bad, bad_len), pre, none, &eb), CTCA_ERR_TBS_MISMATCH);
    /* The precertificate itself still has the poison. */
    cr_expect_eq(unembedded(pre, pre, none, &eb), CTCA_ERR_TBS_MISMATCH);
    ctca_sct_cleanup(&sct);
    free(cert);
    free(bad);
    free(other);
    free(other_tbs);
}

Test(release_check, ct1_unembedded_with_a_preca_is_the_tbs_rewritten_to_the_ca)
{
    char *cadir = tca_path(dir, "preca-ca");
    ctca_init_params p = {.dir = cadir,
                          .key_type = CTCA_KEY_EC_P256,
                          .subject = "CN=Test CA,O=ctca tests,C=NL",
                          .validity_days = 3650,
                          .now = TCA_NOW - 86400,
                          .preca = true};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ca_init(&p, &eb), CTCA_OK, "%s", eb.msg);
    ctca_ca *pca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &pca, &eb), CTCA_OK, "%s", eb.msg);
    ctca_view preca = ctca_ca_get0_preca_cert(pca);
    cr_assert_gt(preca.len, 0);

    char *path = tca_make_csr(dir, "pleaf", KEY_P256, "/", "DNS:example.com");
    ctca_csr *csr = tca_load_csr(path);
    const ctca_profile *prof = ctca_config_get0_profile(ctca_ca_get0_config(pca), "tls-server");
    uint8_t serial[CTCA_SERIAL_LEN], *direct = NULL, *tbs = NULL, *pre = NULL, *fin_tbs = NULL,
                                     *cert = NULL;
    size_t direct_len = 0, tbs_len = 0, pre_len = 0, fin_tbs_len = 0, cert_len = 0;
    cr_assert_eq(ctca_serial_generate(NULL, NULL, serial), CTCA_OK);
    cr_assert_eq(ctca_tbs_build_precert(pca, prof, csr, serial, sizeof serial, TCA_NOW, &direct,
                                        &direct_len, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_tbs_to_preca(pca, ctca_view_make(direct, direct_len), &tbs, &tbs_len, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_preca_sign_tbs(pca, ctca_view_make(tbs, tbs_len), &pre, &pre_len), CTCA_OK);
    ctca_view vpre = ctca_view_make(pre, pre_len);
    cr_assert_eq(ctca_precert_tbs_from_preca_precert(vpre, preca, &fin_tbs, &fin_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(pca, ctca_view_make(fin_tbs, fin_tbs_len), &cert, &cert_len),
                 CTCA_OK);
    ctca_view vcert = ctca_view_make(cert, cert_len);
    cr_expect_eq(unembedded(vcert, vpre, preca, &eb), CTCA_OK, "%s", eb.msg);
    /* Judged as if the CA had signed the precertificate: the issuer differs. */
    cr_expect_eq(unembedded(vcert, vpre, ctca_view_make(NULL, 0), &eb), CTCA_ERR_TBS_MISMATCH);
    free(cert);
    free(fin_tbs);
    free(pre);
    free(tbs);
    free(direct);
    ctca_csr_free(csr);
    free(path);
    ctca_ca_free(pca);
    free(cadir);
}

Test(release_check, ct2_unembedded_is_the_cms_econtent)
{
    uint8_t *tbs = NULL, *other = NULL, *cms = NULL, *cert = NULL, *bad = NULL;
    size_t tbs_len = 0, other_len = 0, cms_len = 0, cert_len = 0, bad_len = 0;
    tca_v2_tbs(ca, dir, "v2leaf", &tbs, &tbs_len);
    tca_v2_tbs(ca, dir, "v2other", &other, &other_len);
    cr_assert_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(tbs, tbs_len), &cms, &cms_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(tbs, tbs_len), &cert, &cert_len), CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(other, other_len), &bad, &bad_len), CTCA_OK);
    ctca_errbuf eb = {{0}};
    ctca_view vcms = ctca_view_make(cms, cms_len), none = ctca_view_make(NULL, 0);
    cr_expect_eq(unembedded(ctca_view_make(cert, cert_len), vcms, none, &eb), CTCA_OK, "%s",
                 eb.msg);
    cr_expect_eq(unembedded(ctca_view_make(bad, bad_len), vcms, none, &eb),
                 CTCA_ERR_TBS_MISMATCH);
    cr_expect_str_eq(eb.msg, "certificate TBS differs from the CMS eContent");
    free(tbs);
    free(other);
    free(cms);
    free(cert);
    free(bad);
}
