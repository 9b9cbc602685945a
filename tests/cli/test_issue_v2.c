/* End to end, CT 2.0 (RFC 9162): `ctca init`, three `ctca-testlog
 * --ct-version 2` logs, `ctca issue --ct-version 2`, then `ctca verify` under a
 * policy, OpenSSL's cms -verify on the CMS precertificate (its eContent is the
 * final TBS minus 1.3.101.75), the store read back, and one flipped byte of
 * the TBS or of an SCT making verification fail. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/issue.h"
#include "ctca/store.h"
#include "ctca/transparency.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static th_ca fx;
static char policy[320];

static void init_ca_with(const char *init_args)
{
    th_ca_init(&fx, init_args);
    th_ca_csr(&fx, "DNS:www.example.com");
    /* Three SCTs from two operators, for issuing and for verifying, so that
     * every log's SCT is embedded and each one counts; no RFC 6962 log is
     * required (these are RFC 9162 logs). */
    snprintf(policy, sizeof policy, "%s/policy.json", fx.dir);
    const char *p = "{\"lifetime_bands\":[{\"max_days\":398,\"scts\":3}],\"min_operators\":2,"
                    "\"counted_states\":[\"usable\"]}";
    th_write_file(policy, p, strlen(p));
}

static void init_ca(void)
{
    init_ca_with("");
}

/* Logs "a1", "a2" (operator A) and "b1" (B) with extra flags each; v1 adds a
 * fourth, RFC 6962 log "v1" of operator C. */
static void start_logs(const char *a1, const char *a2, const char *b1, bool v1)
{
    const char *specs[] = {"A:a1", "A:a2", "B:b1", "C:v1"}, *extra[] = {a1, a2, b1, ""};
    th_ca_start_logs(&fx, v1 ? 4 : 3, specs, extra);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

static int issue(const char *extra, char **out)
{
    return th_run(out,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem' "
                  "--precert-out '%s/pre.pem' %s",
                  fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir, fx.dir, extra);
}

static int verify(const char *cert, char **out)
{
    return th_run(out, "'%s' verify '%s' --issuer '%s' --log-list '%s' --policy '%s' --json",
                  fx.ctca, cert, fx.roots, fx.log_list, policy);
}

/* tests/cli/rfc9162_verify.py: exit 0 when every embedded v2 SCT verifies. */
static int independent(const char *cert, char **out)
{
    return th_run(out, "python3 '%s/tests/cli/rfc9162_verify.py' '%s' '%s' '%s'", CTCA_SOURCE_DIR,
                  cert, fx.roots, fx.log_list);
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static uint8_t *read_cert(const char *name, size_t *len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", fx.dir, name);
    return th_read_pem_der(path, len);
}

static void write_cert(const char *name, const uint8_t *der, size_t len)
{
    char path[400], *pem = NULL;
    snprintf(path, sizeof path, "%s/%s", fx.dir, name);
    cr_assert_eq(ctca_pem_encode(der, len, "CERTIFICATE", &pem), CTCA_OK);
    th_write_file(path, pem, strlen(pem));
    free(pem);
}

Test(issue_v2, issued_certificate_verifies_and_a_flipped_byte_fails, .init = init_ca,
     .fini = teardown, .timeout = 120)
{
    const char *v2 = "--ct-version 2";
    start_logs(v2, v2, v2, false);
    th_ca_config_set(&fx, "ct", "min_scts", "3"); /* init writes 2 */
    char *out = NULL;
    cr_assert_eq(issue("--ct-version 2", &out), 0, "ctca issue: %s", out);
    cr_expect_not_null(strstr(out, "embedded RFC 9162 SCTs"), "%s", out);
    char serial[64] = "";
    cr_assert_eq(sscanf(strstr(out, "issued serial "), "issued serial %63s", serial), 1, "%s",
                 out);
    free(out);

    /* The chain verifies, and the extension is there, non-critical. */
    char cert_path[400];
    snprintf(cert_path, sizeof cert_path, "%s/site.pem", fx.dir);
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s'", fx.roots, cert_path), 0, "%s",
                 out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout -text", cert_path), 0);
    cr_expect_not_null(strstr(out, "1.3.101.75:"), "%s", out);
    cr_expect_null(strstr(out, "1.3.101.75: critical"), "%s", out);
    cr_expect_null(strstr(out, "CT Precertificate SCTs"), "no RFC 6962 list: %s", out);
    free(out);

    /* OpenSSL checks the CMS precertificate and outputs exactly the final TBS
     * minus 1.3.101.75. */
    cr_assert_eq(th_run(&out,
                        "openssl cms -verify -inform PEM -binary -noverify -certfile '%s' "
                        "-in '%s/pre.pem' -out '%s/econtent.der'",
                        fx.roots, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    size_t cert_len = 0, ec_len = 0, tbs_len = 0;
    uint8_t *cert = read_cert("site.pem", &cert_len), *tbs = NULL;
    char ec_path[400];
    snprintf(ec_path, sizeof ec_path, "%s/econtent.der", fx.dir);
    uint8_t *ec = th_read_file(ec_path, &ec_len);
    cr_assert_eq(ctca_v2_tbs_from_final(ctca_view_make(cert, cert_len), &tbs, &tbs_len), CTCA_OK);
    cr_expect(ec_len == tbs_len && memcmp(ec, tbs, tbs_len) == 0,
              "CMS eContent == final TBS minus 1.3.101.75");
    free(ec);
    free(tbs);
    cr_assert_eq(th_run(&out, "openssl cms -cmsout -print -inform PEM -in '%s/pre.pem'", fx.dir),
                 0);
    cr_expect_not_null(strstr(out, "eContentType: undefined (1.3.101.78)"), "%s", out);
    cr_expect_not_null(strstr(out, "d.subjectKeyIdentifier"), "%s", out);
    free(out);

    /* ctca verify: every v2 SCT verifies and the policy is met. */
    cr_assert_eq(verify(cert_path, &out), 0, "ctca verify: %s", out);
    cr_expect_not_null(strstr(out, "\"verdict\":\"compliant\""), "%s", out);
    cr_expect_not_null(strstr(out, "\"ct_version\":2"), "%s", out);
    cr_expect_not_null(strstr(out, "\"log_id_oid\":\"1.3.101.80."), "%s", out);
    cr_expect_not_null(strstr(out, "\"valid_count\":3"), "%s", out);
    free(out);
    /* And with an independent implementation: pyca/cryptography for X.509 and
     * ECDSA, the RFC 9162 structures decoded from the text. */
    cr_assert_eq(independent(cert_path, &out), 0, "%s", out);
    cr_expect_eq(count(out, ": valid"), 3, "%s", out);
    free(out);

    /* One flipped byte of the TBS (the DNS name): the SCTs no longer verify. */
    uint8_t *bad = malloc(cert_len);
    memcpy(bad, cert, cert_len);
    uint8_t *name = memmem(bad, cert_len, "www.example.com", 15);
    cr_assert_not_null(name);
    name[0] ^= 0x01;
    write_cert("tbs-flipped.pem", bad, cert_len);
    snprintf(cert_path, sizeof cert_path, "%s/tbs-flipped.pem", fx.dir);
    cr_expect_eq(verify(cert_path, &out), 1, "%s", out);
    cr_expect_not_null(strstr(out, "\"status\":\"invalid_signature\""), "%s", out);
    cr_expect_not_null(strstr(out, "\"valid_count\":0"), "%s", out);
    free(out);
    cr_expect_eq(independent(cert_path, &out), 1, "%s", out);
    cr_expect_eq(count(out, ": invalid signature"), 3, "%s", out);
    free(out);

    /* One flipped byte of an SCT: the last byte of the extension is the last
     * SCT's signature. */
    memcpy(bad, cert, cert_len);
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ctca_ext ext;
    bool found = false;
    cr_assert_eq(ctca_cert_get_tbs_fields(ctca_view_make(bad, cert_len), &parts, &f), CTCA_OK);
    cr_assert_eq(ctca_ext_find(f.ext_list, CTCA_OID_TRANSPARENCY_INFO,
                               sizeof CTCA_OID_TRANSPARENCY_INFO, &ext, &found),
                 CTCA_OK);
    cr_assert(found);
    bad[ext.value.data + ext.value.len - 1 - bad] ^= 0x01;
    write_cert("sct-flipped.pem", bad, cert_len);
    snprintf(cert_path, sizeof cert_path, "%s/sct-flipped.pem", fx.dir);
    cr_expect_eq(verify(cert_path, &out), 1, "%s", out);
    cr_expect_not_null(strstr(out, "\"valid_count\":2"), "%s", out);
    cr_expect_not_null(strstr(out, "\"invalid_count\":1"), "%s", out);
    free(out);
    cr_expect_eq(independent(cert_path, &out), 1, "%s", out);
    cr_expect_eq(count(out, ": invalid signature"), 1, "%s", out);
    free(out);
    free(bad);

    /* The store: a CT 2.0 record whose precertificate is the CMS, and its SCTs
     * kept as TransItems with ct_version 2. */
    char db[400];
    snprintf(db, sizeof db, "%s/ctca.db", fx.ca_dir);
    ctca_store *st = NULL;
    cr_assert_eq(ctca_store_open(db, &st, NULL), CTCA_OK);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(st, serial, &rec), CTCA_OK);
    cr_expect_eq(rec.ct_version, 2);
    cr_expect_eq(rec.state, CTCA_STORE_ISSUED);
    size_t pre_len = 0;
    uint8_t *pre = NULL;
    char pre_path[400];
    snprintf(pre_path, sizeof pre_path, "%s/pre.pem", fx.dir);
    size_t pem_len = 0;
    uint8_t *pem = th_read_file(pre_path, &pem_len);
    cr_assert_eq(ctca_pem_decode(pem, pem_len, "CMS", &pre, &pre_len), CTCA_OK);
    cr_expect(rec.precert_len == pre_len && memcmp(rec.precert_der, pre, pre_len) == 0);
    ctca_store_sct_list scts = {0};
    cr_assert_eq(ctca_store_list_scts(st, serial, &scts), CTCA_OK);
    cr_expect_eq(scts.count, 3);
    for (size_t i = 0; i < scts.count; i++) {
        cr_expect_eq(scts.items[i].ct_version, 2);
        ctca_transitem it;
        cr_expect_eq(ctca_transitem_parse_as(
                         ctca_view_make(scts.items[i].sct, scts.items[i].sct_len),
                         CTCA_TT_PRECERT_SCT_V2, CTCA_TT_PRECERT_SCT_V2, &it),
                     CTCA_OK);
        ctca_transitem_cleanup(&it);
    }
    ctca_store_sct_list_cleanup(&scts);
    ctca_store_cert_cleanup(&rec);
    ctca_store_close(st);
    free(pem);
    free(pre);
    free(cert);

    /* Without a log list, log keys alone cannot name RFC 9162 logs. */
    snprintf(cert_path, sizeof cert_path, "%s/site.pem", fx.dir);
    cr_expect_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", fx.ctca, cert_path,
                        fx.roots, fx.logs[0].pub),
                 2, "%s", out);
    cr_expect_not_null(strstr(out, "--log-list"), "%s", out);
    free(out);
}

Test(issue_v2, each_version_uses_only_its_own_logs, .init = init_ca, .fini = teardown,
     .timeout = 120)
{
    /* One log of each version per operator would not do for v1: give v1 two. */
    const char *v2 = "--ct-version 2";
    start_logs(v2, "", v2, true); /* a2 and v1 are RFC 6962 logs (operators A and C) */
    char *out = NULL;
    cr_assert_eq(issue("--ct-version 2", &out), 0, "%s", out);
    cr_expect_not_null(strstr(out, fx.logs[0].url), "%s", out);
    cr_expect_not_null(strstr(out, fx.logs[2].url), "%s", out);
    cr_expect_null(strstr(out, fx.logs[1].url), "no v1 log for a v2 issuance: %s", out);
    cr_expect_null(strstr(out, fx.logs[3].url), "no v1 log for a v2 issuance: %s", out);
    free(out);
    cr_assert_eq(issue("", &out), 0, "%s", out);
    cr_expect_not_null(strstr(out, "embedded SCTs"), "%s", out);
    cr_expect_null(strstr(out, fx.logs[0].url), "no v2 log for a v1 issuance: %s", out);
    cr_expect_null(strstr(out, fx.logs[2].url), "no v2 log for a v1 issuance: %s", out);
    free(out);
    char cert_path[400];
    snprintf(cert_path, sizeof cert_path, "%s/site.pem", fx.dir);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout -text", cert_path), 0);
    cr_expect_not_null(strstr(out, "CT Precertificate SCTs"), "%s", out);
    cr_expect_null(strstr(out, "1.3.101.75"), "%s", out);
    free(out);
}

Test(issue_v2, profile_ct_version_selects_rfc9162, .init = init_ca, .fini = teardown,
     .timeout = 120)
{
    const char *v2 = "--ct-version 2";
    start_logs(v2, v2, v2, false);
    char cfg[400];
    snprintf(cfg, sizeof cfg, "%s/ctca.json", fx.ca_dir);
    size_t len = 0;
    char *json = (char *)th_read_file(cfg, &len);
    char *at = strstr(json, "\"validity_days\"");
    cr_assert_not_null(at);
    size_t head = (size_t)(at - json);
    static const char ins[] = "\"ct_version\": 2, ";
    char *edited = malloc(len + sizeof ins);
    memcpy(edited, json, head);
    memcpy(edited + head, ins, sizeof ins - 1);
    memcpy(edited + head + sizeof ins - 1, json + head, len - head);
    th_write_file(cfg, edited, len + sizeof ins - 1);
    free(json);
    free(edited);
    char *out = NULL;
    cr_assert_eq(issue("", &out), 0, "%s", out);
    cr_expect_not_null(strstr(out, "embedded RFC 9162 SCTs"), "%s", out);
    free(out);
    /* --ct-version overrides the profile. */
    cr_expect_eq(issue("--ct-version 1", &out), 1, "no RFC 6962 log in the list: %s", out);
    cr_expect_not_null(strstr(out, "RFC 6962"), "%s", out);
    free(out);
    cr_expect_eq(issue("--ct-version 3", &out), 2, "%s", out);
    free(out);
}

static void init_p384(void)
{
    init_ca_with("--key-type ec-p384");
}

Test(issue_v2, p384_ca_is_refused_before_anything_is_journaled, .init = init_p384,
     .fini = teardown, .timeout = 120)
{
    const char *v2 = "--ct-version 2";
    start_logs(v2, v2, v2, false);
    char *out = NULL;
    cr_expect_eq(issue("--ct-version 2", &out), 2, "%s", out);
    cr_expect_not_null(strstr(out, "SHA-256"), "%s", out);
    free(out);
    char db[400];
    snprintf(db, sizeof db, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(th_run(&out, "sqlite3 '%s' 'SELECT count(*) FROM certs'", db), 0, "%s", out);
    cr_expect_eq(atoi(out), 0, "nothing journaled: %s", out);
    free(out);
}

/* ctca.json's "ct" values: a deadline far shorter than the logs' latency, so
 * issuance falls back, and a log timeout that lets a queue run wait for them. */
static void slow_logs_config(void)
{
    th_ca_config_set(&fx, "ct", "deadline_ms", "300");
}

Test(issue_v2, deferred_v2_issuance_is_finished_by_the_queue, .init = init_ca, .fini = teardown,
     .timeout = 120)
{
    const char *slow = "--ct-version 2 --latency-ms 1500";
    start_logs(slow, slow, slow, false);
    slow_logs_config();
    char *out = NULL, serial[64] = "";
    cr_assert_eq(issue("--ct-version 2", &out), 75, "deferred: %s", out);
    cr_assert_not_null(strstr(out, "deferred: serial "), "%s", out);
    cr_assert_eq(sscanf(strstr(out, "deferred: serial "), "deferred: serial %63s", serial), 1);
    free(out);
    /* The queue submits the CMS precertificate with submit-entry and finishes
     * the certificate as ctca issue would have. */
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --log-list '%s' --once", fx.ctca, fx.ca_dir,
                        fx.log_list),
                 0, "%s", out);
    free(out);
    char cert[400];
    snprintf(cert, sizeof cert, "%s/got.pem", fx.dir);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s'", fx.ctca, fx.ca_dir, serial, cert),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-list '%s' --policy '%s'",
                        fx.ctca, cert, fx.roots, fx.log_list, policy),
                 0, "%s", out);
    cr_expect_not_null(strstr(out, "RFC 9162"), "%s", out);
    free(out);
}

Test(issue_v2, unembedded_v2_certificate_is_logged_with_submit_entry, .init = init_ca,
     .fini = teardown, .timeout = 120)
{
    const char *slow = "--ct-version 2 --latency-ms 1500";
    start_logs(slow, slow, slow, false);
    slow_logs_config();
    char *out = NULL, serial[64] = "";
    cr_assert_eq(issue("--ct-version 2 --fallback unembedded", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "without embedded SCTs"), "%s", out);
    cr_assert_eq(sscanf(strstr(out, "issued serial "), "issued serial %63s", serial), 1, "%s",
                 out);
    free(out);
    /* Its TBS is the CMS eContent: no poison, no Transparency Information. */
    char cert[400];
    snprintf(cert, sizeof cert, "%s/site.pem", fx.dir);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout -text", cert), 0);
    cr_expect_null(strstr(out, "1.3.101.75"), "%s", out);
    cr_expect_null(strstr(out, "Poison"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "openssl cms -verify -inform PEM -binary -noverify -certfile '%s' "
                        "-in '%s/pre.pem' -out '%s/econtent.der' && openssl x509 -in '%s' "
                        "-outform DER | openssl asn1parse -inform DER -strparse 4 -out "
                        "'%s/tbs.der' >/dev/null && cmp '%s/econtent.der' '%s/tbs.der'",
                        fx.roots, fx.dir, fx.dir, cert, fx.dir, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --log-list '%s' --once", fx.ctca, fx.ca_dir,
                        fx.log_list),
                 0, "%s", out);
    free(out);
    /* x509_sct_v2 TransItems, kept with ct_version 2 for the certificate. */
    char db[400];
    snprintf(db, sizeof db, "%s/ctca.db", fx.ca_dir);
    ctca_store *st = NULL;
    cr_assert_eq(ctca_store_open(db, &st, NULL), CTCA_OK);
    ctca_store_sct_list scts = {0};
    cr_assert_eq(ctca_store_list_scts(st, serial, &scts), CTCA_OK);
    size_t x509 = 0;
    for (size_t i = 0; i < scts.count; i++) {
        if (scts.items[i].entry_type != 0)
            continue;
        x509++;
        cr_expect_eq(scts.items[i].ct_version, 2);
        ctca_transitem it;
        cr_expect_eq(ctca_transitem_parse_as(
                         ctca_view_make(scts.items[i].sct, scts.items[i].sct_len),
                         CTCA_TT_X509_SCT_V2, CTCA_TT_X509_SCT_V2, &it),
                     CTCA_OK);
        ctca_transitem_cleanup(&it);
    }
    cr_expect_geq(x509, 2, "x509 SCTs stored: %zu", x509);
    ctca_store_sct_list_cleanup(&scts);
    ctca_store_close(st);

    /* ctca get delivers them as a TransItemList, and the precertificate as CMS. */
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/got.pem' --scts-out '%s/list.bin'",
                        fx.ctca, fx.ca_dir, serial, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    char path[400];
    snprintf(path, sizeof path, "%s/list.bin", fx.dir);
    size_t len = 0;
    uint8_t *bin = th_read_file(path, &len);
    ctca_transitem_list list;
    cr_assert_eq(ctca_transitem_list_parse(ctca_view_make(bin, len), &list), CTCA_OK);
    cr_expect_eq(list.n, x509);
    cr_expect_eq(list.items[0].type, CTCA_TT_X509_SCT_V2);
    ctca_transitem_list_cleanup(&list);
    free(bin);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --serverinfo-out '%s/si.pem'", fx.ctca,
                        fx.ca_dir, serial, fx.dir),
                 2, "OpenSSL's serverinfo carries RFC 6962 SCTs only: %s", out);
    cr_assert_not_null(strstr(out, "CT 2.0 certificate"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "'%s' get --ca '%s' %s --precert --out '%s/pre2.pem' && cmp "
                        "'%s/pre.pem' '%s/pre2.pem'",
                        fx.ctca, fx.ca_dir, serial, fx.dir, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
}
