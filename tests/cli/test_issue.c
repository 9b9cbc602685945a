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

static char *dir, *ctca, ca_dir[300], roots[320], log_list[320], csr[320];
static th_testlog logs[3];
static size_t n_logs;

static void init_ca(void)
{
    dir = th_tmpdir();
    ctca = th_bin("ctca");
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", dir);
    snprintf(roots, sizeof roots, "%s/ca.pem", ca_dir);
    snprintf(log_list, sizeof log_list, "%s/log_list.json", dir);
    snprintf(csr, sizeof csr, "%s/site.csr", dir);
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' init '%s'", ctca, ca_dir), 0, "ctca init: %s", out);
    free(out);
    cr_assert_eq(th_run(NULL,
                        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                        " -keyout '%s/site.key' -subj /CN=www.example.com"
                        " -addext subjectAltName=DNS:www.example.com,DNS:example.com -out '%s'",
                        dir, csr),
                 0);
}

/* Three logs: two run by operator A, one by B; extra[i] adds fault flags. */
static void start_logs(const char *extra0, const char *extra1, const char *extra2)
{
    const char *names[] = {"a1", "a2", "b1"}, *ops[] = {"A", "A", "B"};
    const char *extra[] = {extra0, extra1, extra2};
    n_logs = 3;
    for (size_t i = 0; i < n_logs; i++)
        th_testlog_start(&logs[i], dir, names[i], ops[i], roots, extra[i]);
    th_log_list_write(log_list, logs, n_logs);
}

static void teardown(void)
{
    for (size_t i = 0; i < n_logs; i++)
        th_testlog_stop(&logs[i]);
    n_logs = 0;
    th_rmdir(dir);
    free(dir);
    free(ctca);
}

static void setup_healthy(void)
{
    init_ca();
    start_logs("", "", "");
}

static int issue(char **output, const char *csr_path, const char *extra)
{
    return th_run(output,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                  " --precert-out '%s/site-precert.pem' --chain-out '%s/chain.pem' %s",
                  ctca, ca_dir, csr_path, log_list, dir, dir, dir, extra);
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
    cr_assert_eq(issue(&out, csr, ""), 0, "ctca issue: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s' --log-key '%s'",
                        ctca, dir, roots, logs[0].pub, logs[1].pub, logs[2].pub),
                 0, "ctca verify: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/site.pem'", roots, dir), 0,
                 "openssl verify: %s", out);
    free(out);

    /* OpenSSL's own CT code: serve the certificate and let s_client validate
     * its SCTs against a CT log store holding the test logs' keys. */
    char ctlogs[400];
    snprintf(ctlogs, sizeof ctlogs, "%s/ct_log_list.cnf", dir);
    FILE *f = fopen(ctlogs, "w");
    cr_assert_not_null(f);
    fprintf(f, "enabled_logs = a1,a2,b1\n");
    for (size_t i = 0; i < n_logs; i++) {
        char *b64 = NULL;
        cr_assert_eq(th_run(&b64, "openssl pkey -pubin -in '%s' -outform DER | base64 -w0",
                            logs[i].pub),
                     0);
        fprintf(f, "[%s]\ndescription = %s\nkey = %s\n", logs[i].name, logs[i].name, b64);
        free(b64);
    }
    fclose(f);
    /* Serve with s_server on a free port (retrying another when taken) and
     * connect once it accepts. OpenSSL judges SCT timestamps against the TLS
     * session time in whole seconds (ssl_validate_ct), so an SCT younger than
     * a second counts as "future": let one second pass first. */
    sleep(1);
    char script[400];
    snprintf(script, sizeof script, "%s/s_client.sh", dir);
    f = fopen(script, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "for try in 1 2 3 4 5; do\n"
            "  port=$(( $(od -An -N2 -tu2 /dev/urandom) %% 30000 + 20000 ))\n"
            "  openssl s_server -quiet -accept 127.0.0.1:$port -cert '%s/site.pem'"
            " -key '%s/site.key' -www >/dev/null 2>&1 & srv=$!\n"
            "  for i in $(seq 1 50); do\n"
            "    kill -0 $srv 2>/dev/null || break\n"
            "    out=$(echo | openssl s_client -connect 127.0.0.1:$port -CAfile '%s' -ct"
            " -ctlogfile '%s' -verify_return_error 2>&1); rc=$?\n"
            "    case \"$out\" in *CONNECTED*) echo \"$out\"; kill $srv; exit $rc;; esac\n"
            "    sleep 0.1\n"
            "  done\n"
            "  kill $srv 2>/dev/null; wait $srv 2>/dev/null\n"
            "done\n"
            "echo 'no s_server could be started'; exit 3\n",
            dir, dir, roots, ctlogs);
    fclose(f);
    cr_assert_eq(th_run(&out, "bash '%s'", script), 0, "s_client: %s", out);
    cr_assert_not_null(strstr(out, "SCT validation status: valid"), "%s", out);
    cr_assert_null(strstr(out, "SCT validation status: invalid"), "%s", out);
    free(out);
}

Test(issue, final_tbs_equals_precert_tbs_minus_poison_and_store_holds_all,
     .init = setup_healthy, .fini = teardown, .timeout = 60)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, csr, ""), 0, "ctca issue: %s", out);
    char serial[64];
    serial_of(out, serial);
    free(out);

    char path[400];
    uint8_t *pre = NULL, *fin = NULL, *pre_tbs = NULL, *fin_tbs = NULL;
    size_t pre_len, fin_len, pre_tbs_len, fin_tbs_len;
    snprintf(path, sizeof path, "%s/site-precert.pem", dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &pre, &pre_len, NULL), CTCA_OK);
    snprintf(path, sizeof path, "%s/site.pem", dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &fin, &fin_len, NULL), CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &pre_tbs, &pre_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(fin, fin_len), &fin_tbs, &fin_tbs_len),
                 CTCA_OK);
    cr_assert_eq(pre_tbs_len, fin_tbs_len);
    cr_assert_arr_eq(pre_tbs, fin_tbs, pre_tbs_len);

    ctca_store *store = NULL;
    snprintf(path, sizeof path, "%s/ctca.db", ca_dir);
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
    init_ca();
    start_logs("", "--hang", "");
}

Test(issue, hung_log_does_not_delay_issuance, .init = setup_one_hanging, .fini = teardown,
     .timeout = 60)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    char *out = NULL;
    cr_assert_eq(issue(&out, csr, ""), 0, "ctca issue: %s", out);
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
    init_ca();
    start_logs("--latency-ms 400", fault, "--latency-ms 400");
    char *out = NULL;
    cr_assert_eq(issue(&out, csr, ""), 0, "ctca issue with a %s log: %s", fault, out);
    cr_assert_not_null(strstr(out, logs[1].url), "the bad log's outcome is reported: %s", out);
    free(out);
    /* Only the honest logs' SCTs are embedded: with the bad log's key alone,
     * nothing verifies. */
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s' --json",
                        ctca, dir, roots, logs[1].pub),
                 1, "%s", out);
    cr_assert_not_null(strstr(out, "\"valid_count\":0") ? out : strstr(out, "\"valid_count\": 0"),
                       "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s'",
                        ctca, dir, roots, logs[0].pub, logs[2].pub),
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

static void setup_all_down(void)
{
    init_ca();
    start_logs("--fail-rate 1", "--fail-rate 1", "--fail-rate 1");
}

Test(issue, all_logs_down_fails_clearly_and_keeps_precert, .init = setup_all_down,
     .fini = teardown, .timeout = 60)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, csr, "--fallback fail"), 1, "%s", out);
    cr_assert_not_null(strstr(out, "503"), "the logs' answers are reported: %s", out);
    cr_assert_not_null(strstr(out, "stays on record"), "%s", out);
    const char *p = strstr(out, "serial ");
    cr_assert_not_null(p);
    char serial[64];
    cr_assert_eq(sscanf(p, "serial %63[0-9a-f]", serial), 1);
    free(out);

    ctca_store *store = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(store, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_FAILED);
    cr_assert_not_null(rec.precert_der);
    cr_assert_null(rec.final_der);
    cr_assert_not_null(rec.last_error);
    ctca_store_cert_cleanup(&rec);
    ctca_store_close(store);
    snprintf(path, sizeof path, "%s/site.pem", dir);
    cr_assert_neq(access(path, F_OK), 0, "no certificate written");
}

static void setup_ca_only(void)
{
    init_ca();
    start_logs("", "", "");
}

/* Asserts a refused CSR signed nothing: the store journaled nothing. */
static void assert_nothing_journaled(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", ca_dir);
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

Test(issue, bad_csrs_refused_and_nothing_signed, .init = setup_ca_only, .fini = teardown,
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
        snprintf(bad, sizeof bad, "%s/bad%zu.csr", dir, i);
        snprintf(make, sizeof make, cases[i].make, csr);
        cr_assert_eq(th_run(NULL, "F='%s'; %s", bad, make), 0, "making %s", cases[i].name);
        int rc = issue(&out, bad, "");
        cr_assert_eq(rc, 2, "%s: exit %d: %s", cases[i].name, rc, out);
        cr_assert_not_null(strstr(out, cases[i].says), "%s: message: %s", cases[i].name, out);
        free(out);
    }
    assert_nothing_journaled();
}
