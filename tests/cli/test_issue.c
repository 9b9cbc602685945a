/* End to end: `ctca issue` against real ctca-testlog processes on loopback,
 * checked by ctca verify, by OpenSSL's own CT validation and chain
 * verification, and by reading the store back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctca/issue.h"
#include "ctca/sct.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static th_ca fx;

/* The CA, a CSR and three logs: two run by operator A, one by B; extra[i]
 * adds fault flags. */
static void setup_with(const char *extra0, const char *extra1, const char *extra2)
{
    const char *specs[] = {"A:a1", "A:a2", "B:b1"}, *extra[] = {extra0, extra1, extra2};
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com,DNS:example.com");
    th_ca_start_logs(&fx, 3, specs, extra);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

static void setup_healthy(void)
{
    setup_with("", "", "");
}

static int issue(char **output, const char *csr_path, const char *extra)
{
    return th_run(output,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                  " --precert-out '%s/site-precert.pem' --chain-out '%s/chain.pem' %s",
                  fx.ctca, fx.ca_dir, csr_path, fx.log_list, fx.dir, fx.dir, fx.dir, extra);
}

static void serial_of(const char *output, char serial[64])
{
    const char *p = strstr(output, "issued serial ");
    cr_assert_not_null(p, "no serial in: %s", output);
    cr_assert_eq(sscanf(p, "issued serial %63s", serial), 1);
}

Test(issue, certificate_has_scts_that_ctca_and_openssl_accept, .init = setup_healthy,
     .fini = teardown, .timeout = 60)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, fx.csr, ""), 0, "ctca issue: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s' --log-key '%s'",
                        fx.ctca, fx.dir, fx.roots, fx.logs[0].pub, fx.logs[1].pub,
                        fx.logs[2].pub),
                 0, "ctca verify: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/site.pem'", fx.roots, fx.dir), 0,
                 "openssl verify: %s", out);
    free(out);

    /* OpenSSL's own CT code: serve the certificate and let s_client validate
     * its SCTs against a CT log store holding the test logs' keys. */
    char cert[400];
    snprintf(cert, sizeof cert, "%s/site.pem", fx.dir);
    th_ca_openssl_ct_check(&fx, cert, NULL);
}

Test(issue, final_tbs_equals_precert_tbs_minus_poison_and_store_holds_all,
     .init = setup_healthy, .fini = teardown, .timeout = 60)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, fx.csr, ""), 0, "ctca issue: %s", out);
    char serial[64];
    serial_of(out, serial);
    free(out);

    char path[400];
    uint8_t *pre = NULL, *fin = NULL, *pre_tbs = NULL, *fin_tbs = NULL;
    size_t pre_len, fin_len, pre_tbs_len, fin_tbs_len;
    snprintf(path, sizeof path, "%s/site-precert.pem", fx.dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &pre, &pre_len, NULL), CTCA_OK);
    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &fin, &fin_len, NULL), CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &pre_tbs, &pre_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(fin, fin_len), &fin_tbs, &fin_tbs_len),
                 CTCA_OK);
    cr_assert_eq(pre_tbs_len, fin_tbs_len);
    cr_assert_arr_eq(pre_tbs, fin_tbs, pre_tbs_len);

    ctca_store *store = NULL;
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(store, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_ISSUED);
    cr_assert_eq(rec.precert_len, pre_len);
    cr_assert_arr_eq(rec.precert_der, pre, pre_len);
    cr_assert_eq(rec.final_len, fin_len);
    cr_assert_arr_eq(rec.final_der, fin, fin_len);
    ctca_store_sct_list scts = {0};
    cr_assert_eq(ctca_store_list_scts(store, serial, &scts), CTCA_OK);
    cr_assert_geq(scts.count, 2);
    ctca_sct_list embedded = {0};
    cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(fin, fin_len), &embedded), CTCA_OK);
    cr_assert_eq(embedded.n, scts.count, "every stored SCT is embedded");
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_sct_list_cleanup(&embedded);
    ctca_store_sct_list_cleanup(&scts);
    ctca_store_cert_cleanup(&rec);
    ctca_store_close(store);
    free(pre);
    free(fin);
    free(pre_tbs);
    free(fin_tbs);
}

static void setup_one_hanging(void)
{
    setup_with("", "--hang", "");
}

Test(issue, hung_log_does_not_delay_issuance, .init = setup_one_hanging, .fini = teardown,
     .timeout = 60)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    char *out = NULL;
    cr_assert_eq(issue(&out, fx.csr, ""), 0, "ctca issue: %s", out);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    /* The configured per-log timeout is 10 s; two healthy loopback logs answer
     * in milliseconds. */
    cr_assert_lt(secs, 3.0, "issuance took %.2f s with one log hanging: %s", secs, out);
    free(out);
}

/* A misbehaving log answers fast while the honest ones are slowed, so its
 * answer is processed before the requirement is met. */
static void run_bad_log_case(const char *fault)
{
    setup_with("--latency-ms 400", fault, "--latency-ms 400");
    char *out = NULL;
    cr_assert_eq(issue(&out, fx.csr, ""), 0, "ctca issue with a %s log: %s", fault, out);
    cr_assert_not_null(strstr(out, fx.logs[1].url), "the bad log's outcome is reported: %s", out);
    free(out);
    /* Only the honest logs' SCTs are embedded: with the bad log's key alone,
     * nothing verifies. */
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s' --json",
                        fx.ctca, fx.dir, fx.roots, fx.logs[1].pub),
                 1, "%s", out);
    cr_assert_not_null(strstr(out, "\"valid_count\":0") ? out : strstr(out, "\"valid_count\": 0"),
                       "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s'",
                        fx.ctca, fx.dir, fx.roots, fx.logs[0].pub, fx.logs[2].pub),
                 0, "%s", out);
    free(out);
}

Test(issue, garbage_answer_never_embedded, .fini = teardown, .timeout = 60)
{
    run_bad_log_case("--garbage");
}

Test(issue, bad_signature_never_embedded, .fini = teardown, .timeout = 60)
{
    run_bad_log_case("--bad-signature");
}

Test(issue, wrong_log_id_never_embedded, .fini = teardown, .timeout = 60)
{
    run_bad_log_case("--wrong-log-id");
}

/* Correctly signed SCTs dated 1970, or a day before the certificate's
 * notBefore, are refused like bad ones (reliability issue M5). */
Test(issue, sct_dated_1970_never_embedded, .fini = teardown, .timeout = 60)
{
    run_bad_log_case("--fixed-time-ms 1000");
}

Test(issue, sct_dated_before_the_certificate_never_embedded, .fini = teardown, .timeout = 60)
{
    run_bad_log_case("--sct-time-offset-ms -86400000");
}

static void setup_all_down(void)
{
    setup_with("--fail-rate 1", "--fail-rate 1", "--fail-rate 1");
}

Test(issue, all_logs_down_fails_clearly_and_keeps_precert, .init = setup_all_down,
     .fini = teardown, .timeout = 60)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, fx.csr, "--fallback fail"), 1, "%s", out);
    cr_assert_not_null(strstr(out, "503"), "the logs' answers are reported: %s", out);
    cr_assert_not_null(strstr(out, "stays on record"), "%s", out);
    const char *p = strstr(out, "serial ");
    cr_assert_not_null(p);
    char serial[64];
    cr_assert_eq(sscanf(p, "serial %63[0-9a-f]", serial), 1);
    free(out);

    ctca_store *store = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(store, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_FAILED);
    cr_assert_not_null(rec.precert_der);
    cr_assert_null(rec.final_der);
    cr_assert_not_null(rec.last_error);
    ctca_store_cert_cleanup(&rec);
    ctca_store_close(store);
    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    cr_assert_neq(access(path, F_OK), 0, "no certificate written");
}

/* Asserts a refused CSR signed nothing: the store journaled nothing. */
static void assert_nothing_journaled(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    if (access(path, F_OK) != 0)
        return;
    ctca_store *store = NULL;
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_audit_list l = {0};
    cr_assert_eq(ctca_store_audit_read(store, 0, 100, &l), CTCA_OK);
    for (size_t i = 0; i < l.count; i++)
        cr_assert_str_neq(l.items[i].event, "cert.journaled");
    ctca_store_audit_list_cleanup(&l);
    ctca_store_close(store);
}

Test(issue, bad_csrs_refused_and_nothing_signed, .init = setup_healthy, .fini = teardown,
     .timeout = 120)
{
    const struct {
        const char *name;
        const char *make; /* shell command writing $F */
        const char *says;
    } cases[] = {
        {"garbage", "head -c 300 /dev/urandom > \"$F\"", "CSR"},
        {"truncated", "head -c 200 '%s' > \"$F\"", "CSR"},
        {"bad signature",
         "openssl req -in '%s' -outform DER | perl -0777 -pe 'substr($_,-5,1)=chr(ord(substr($_,-5,1))^1)' > \"$F\"",
         "signature"},
        {"RSA-1024",
         "openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj /CN=x.example"
         " -addext subjectAltName=DNS:x.example -out \"$F\" 2>/dev/null",
         "RSA"},
        {"P-521",
         "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp521r1 -nodes -keyout /dev/null"
         " -subj /CN=x.example -addext subjectAltName=DNS:x.example -out \"$F\" 2>/dev/null",
         "key"},
        {"email SAN on tls-server",
         "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null"
         " -subj /CN=x.example -addext subjectAltName=email:a@x.example -out \"$F\" 2>/dev/null",
         "SAN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char bad[400], make[1200], *out = NULL;
        snprintf(bad, sizeof bad, "%s/bad%zu.csr", fx.dir, i);
        snprintf(make, sizeof make, cases[i].make, fx.csr);
        cr_assert_eq(th_run(NULL, "F='%s'; %s", bad, make), 0, "making %s", cases[i].name);
        int rc = issue(&out, bad, "");
        cr_assert_eq(rc, 2, "%s: exit %d: %s", cases[i].name, rc, out);
        cr_assert_not_null(strstr(out, cases[i].says), "%s: message: %s", cases[i].name, out);
        free(out);
    }
    assert_nothing_journaled();
}
