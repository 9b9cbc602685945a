/* RFC 9162 in certificates: the Transparency Information extension added and
 * read back, the 8.1.2 TBS, embedded v2 SCTs verified against a log list, and
 * the CA's release check refusing a TBS that is not the CMS eContent, an
 * unknown log, a tampered SCT and a non-SCT item. SCTs are signed here with a
 * real P-256 log key. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/cms.h"
#include "ctca/transparency.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;
static ctca_ca *ca;
static EVP_PKEY *log_pkey;
static ctca_log_v2 the_log;
static uint8_t *tbs, *cms;
static size_t tbs_len, cms_len;

static void setup(void)
{
    dir = th_tmpdir();
    ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    tca_v2_tbs(ca, dir, "leaf", &tbs, &tbs_len);
    cr_assert_eq(ctca_ca_sign_cms_precert(ca, ctca_view_make(tbs, tbs_len), &cms, &cms_len), CTCA_OK);
    log_pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(log_pkey, &spki);
    ctca_log_key *k = NULL;
    cr_assert_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)n), &k), CTCA_OK);
    OPENSSL_free(spki);
    the_log.key = k;
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &the_log.log_id), CTCA_OK);
}

static void teardown(void)
{
    ctca_log_key_free((ctca_log_key *)the_log.key);
    EVP_PKEY_free(log_pkey);
    free(tbs);
    free(cms);
    ctca_ca_free(ca);
    th_rmdir(dir);
    free(dir);
}

TestSuite(transparency, .init = setup, .fini = teardown, .timeout = 60);

/* A precert_sct_v2 from the_log over (CA key hash, over_tbs). */
static void make_sct(ctca_view over_tbs, ctca_transitem *sct)
{
    memset(sct, 0, sizeof *sct);
    sct->type = CTCA_TT_PRECERT_SCT_V2;
    sct->log_id = the_log.log_id;
    sct->timestamp = (uint64_t)TCA_NOW * 1000;
    sct->extensions = malloc(1);
    ctca_entry_v2 entry = {.tbs = over_tbs};
    memcpy(entry.issuer_key_hash, ctca_ca_get0_issuer_key_hash(ca), CTCA_HASH_LEN);
    uint8_t *msg = NULL;
    size_t msg_len = 0, sig_len = 0;
    cr_assert_eq(ctca_sct_v2_signed_input(sct, &entry, &msg, &msg_len), CTCA_OK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, log_pkey), 1);
    cr_assert_eq(EVP_DigestSign(ctx, NULL, &sig_len, msg, msg_len), 1);
    sct->signature = malloc(sig_len);
    cr_assert_eq(EVP_DigestSign(ctx, sct->signature, &sig_len, msg, msg_len), 1);
    sct->signature_len = sig_len;
    EVP_MD_CTX_free(ctx);
    free(msg);
}

/* The final certificate over base (a v2 TBS) with items in 1.3.101.75. */
static void make_final(ctca_view base, const ctca_transitem *items, size_t n, uint8_t **cert,
                       size_t *cert_len)
{
    uint8_t *list = NULL, *fin = NULL;
    size_t list_len = 0, fin_len = 0;
    cr_assert_eq(ctca_transitem_list_serialize(items, n, &list, &list_len), CTCA_OK);
    cr_assert_eq(ctca_tbs_add_transparency_info(base, ctca_view_make(list, list_len), &fin,
                                                &fin_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(fin, fin_len), cert, cert_len), CTCA_OK);
    free(list);
    free(fin);
}

static ctca_err release_check(ctca_view cert, const ctca_log_v2 *logs, size_t n)
{
    ctca_errbuf eb = {{0}};
    return ctca_final_cert_check_v2(cert, ctca_view_make(cms, cms_len),
                                    ctca_ca_get0_issuer_key_hash(ca), logs, n,
                                    (uint64_t)TCA_NOW * 1000, &eb);
}

Test(transparency, extension_round_trips_and_the_tbs_comes_back)
{
    ctca_transitem sct;
    make_sct(ctca_view_make(tbs, tbs_len), &sct);
    uint8_t *cert = NULL, *back = NULL;
    size_t cert_len = 0, back_len = 0;
    make_final(ctca_view_make(tbs, tbs_len), &sct, 1, &cert, &cert_len);
    ctca_transitem_list l;
    cr_assert_eq(ctca_cert_get_transparency_info(ctca_view_make(cert, cert_len), &l), CTCA_OK);
    cr_assert_eq(l.n, 1);
    cr_expect_eq(l.items[0].signature_len, sct.signature_len);
    ctca_transitem_list_cleanup(&l);
    cr_assert_eq(ctca_v2_tbs_from_final(ctca_view_make(cert, cert_len), &back, &back_len), CTCA_OK);
    cr_expect(back_len == tbs_len && memcmp(back, tbs, tbs_len) == 0,
              "final TBS minus 1.3.101.75 is the CMS eContent");
    /* Non-critical: no BOOLEAN after the OID. */
    static const uint8_t oid_then_octets[] = {0x06, 0x03, 0x2b, 0x65, 0x4b, 0x04};
    cr_expect_not_null(memmem(cert, cert_len, oid_then_octets, sizeof oid_then_octets));

    /* Added twice: refused. */
    uint8_t *twice = NULL, *list = NULL;
    size_t twice_len = 0, list_len = 0;
    cr_assert_eq(ctca_transitem_list_serialize(&sct, 1, &list, &list_len), CTCA_OK);
    cr_expect_eq(ctca_tbs_add_transparency_info(ctca_view_make(back, back_len),
                                                ctca_view_make(list, list_len), &twice,
                                                &twice_len),
                 CTCA_OK);
    uint8_t *again = NULL;
    size_t again_len = 0;
    cr_expect_eq(ctca_tbs_add_transparency_info(ctca_view_make(twice, twice_len),
                                                ctca_view_make(list, list_len), &again,
                                                &again_len),
                 CTCA_ERR_EXT_DUPLICATE);
    static const uint8_t empty_list[] = {0x00, 0x00};
    cr_expect_eq(ctca_tbs_add_transparency_info(ctca_view_make(tbs, tbs_len),
                                                ctca_view_make(empty_list, 2), &again, &again_len),
                 CTCA_ERR_TRANSITEM_LIST_EMPTY);
    /* A certificate without the extension. */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(tbs, tbs_len), &plain, &plain_len), CTCA_OK);
    cr_expect_eq(ctca_v2_tbs_from_final(ctca_view_make(plain, plain_len), &again, &again_len),
                 CTCA_ERR_NO_TRANSPARENCY_INFO);
    cr_expect_eq(ctca_cert_get_transparency_info(ctca_view_make(plain, plain_len), &l),
                 CTCA_ERR_NO_TRANSPARENCY_INFO);
    free(plain);
    free(list);
    free(twice);
    free(back);
    free(cert);
    ctca_transitem_cleanup(&sct);
}

Test(transparency, release_check_accepts_only_the_corresponding_verified_certificate)
{
    ctca_transitem sct;
    make_sct(ctca_view_make(tbs, tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(tbs, tbs_len), &sct, 1, &cert, &cert_len);
    cr_expect_eq(release_check(ctca_view_make(cert, cert_len), &the_log, 1), CTCA_OK);
    cr_expect_eq(release_check(ctca_view_make(cert, cert_len), NULL, 0), CTCA_ERR_SCT_UNKNOWN_LOG);
    free(cert);

    /* Another TBS (another serial) under the same SCT list: not the eContent. */
    uint8_t *other = NULL;
    size_t other_len = 0;
    tca_v2_tbs(ca, dir, "other", &other, &other_len);
    make_final(ctca_view_make(other, other_len), &sct, 1, &cert, &cert_len);
    cr_expect_eq(release_check(ctca_view_make(cert, cert_len), &the_log, 1), CTCA_ERR_TBS_MISMATCH);
    free(cert);

    /* The right TBS, an SCT over the other one: does not verify. */
    ctca_transitem wrong;
    make_sct(ctca_view_make(other, other_len), &wrong);
    make_final(ctca_view_make(tbs, tbs_len), &wrong, 1, &cert, &cert_len);
    cr_expect_eq(release_check(ctca_view_make(cert, cert_len), &the_log, 1), CTCA_ERR_SIG_INVALID);
    free(cert);

    /* An STH beside the SCT: the release check embeds SCTs only. */
    ctca_transitem two[2] = {sct, {.type = CTCA_TT_STH_V2, .log_id = the_log.log_id,
                                   .signature = sct.signature,
                                   .signature_len = sct.signature_len}};
    make_final(ctca_view_make(tbs, tbs_len), two, 2, &cert, &cert_len);
    cr_expect_eq(release_check(ctca_view_make(cert, cert_len), &the_log, 1),
                 CTCA_ERR_TRANSITEM_WRONG_TYPE);
    free(cert);
    ctca_transitem_cleanup(&wrong);
    ctca_transitem_cleanup(&sct);
    free(other);
}

Test(transparency, embedded_v2_scts_verify_against_a_log_list)
{
    ctca_transitem sct;
    make_sct(ctca_view_make(tbs, tbs_len), &sct);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    make_final(ctca_view_make(tbs, tbs_len), &sct, 1, &cert, &cert_len);

    ctca_view spki = ctca_log_key_get0_spki(the_log.key);
    char *key = NULL, json[1024];
    cr_assert_eq(ctca_base64_encode(spki.data, spki.len, &key), CTCA_OK);
    snprintf(json, sizeof json,
             "{\"log_list_timestamp\":\"2025-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\","
             "\"logs\":[{\"key\":\"%s\",\"url\":\"http://v2/\",\"mmd\":1,\"ct_version\":2,"
             "\"log_id_oid\":\"%s\"}]}]}",
             key, "1.3.101.8192");
    ctca_log_list *list = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &list, &eb), CTCA_OK, "%s", eb.msg);
    ctca_v2_checks checks;
    cr_assert_eq(ctca_cert_verify_embedded_v2(ctca_view_make(cert, cert_len), ctca_ca_get0_cert(ca),
                                              list, (uint64_t)TCA_NOW * 1000, &checks),
                 CTCA_OK);
    cr_assert_eq(checks.n, 1);
    cr_expect_eq(checks.items[0].status, CTCA_OK);
    cr_expect_eq(checks.items[0].log, &list->logs[0]);
    cr_expect_eq(checks.n_valid, 1);
    ctca_v2_checks_cleanup(&checks);
    /* Before the SCT's time it is from the future. */
    cr_assert_eq(ctca_cert_verify_embedded_v2(ctca_view_make(cert, cert_len), ctca_ca_get0_cert(ca),
                                              list, (uint64_t)TCA_NOW * 1000 - 1, &checks),
                 CTCA_OK);
    cr_expect_eq(checks.items[0].status, CTCA_ERR_SCT_FUTURE);
    ctca_v2_checks_cleanup(&checks);
    /* A certificate whose issuer is not the given one. */
    cr_expect_eq(ctca_cert_verify_embedded_v2(ctca_view_make(cert, cert_len),
                                              ctca_view_make(cert, cert_len), list,
                                              (uint64_t)TCA_NOW * 1000, &checks),
                 CTCA_ERR_ISSUER_MISMATCH);
    ctca_log_list_free(list);

    /* A list without that OID: the SCT is from an unknown log. */
    snprintf(json, sizeof json,
             "{\"log_list_timestamp\":\"2025-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\","
             "\"logs\":[{\"key\":\"%s\",\"url\":\"http://v2/\",\"mmd\":1,\"ct_version\":2,"
             "\"log_id_oid\":\"1.3.101.8193\"}]}]}",
             key);
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &list, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_cert_verify_embedded_v2(ctca_view_make(cert, cert_len), ctca_ca_get0_cert(ca),
                                              list, (uint64_t)TCA_NOW * 1000, &checks),
                 CTCA_OK);
    cr_expect_eq(checks.items[0].status, CTCA_ERR_SCT_UNKNOWN_LOG);
    cr_expect_eq(checks.n_unknown, 1);
    ctca_v2_checks_cleanup(&checks);
    ctca_log_list_free(list);
    free(key);
    free(cert);
    ctca_transitem_cleanup(&sct);
}
