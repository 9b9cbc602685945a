/* End to end: the fallback modes of `ctca issue`, `ctca get`, `ctca queue
 * list|run` and `ctca backfill` against real ctca-testlog processes: deferred
 * issuances completed later, certificates issued without embedded SCTs and
 * logged afterwards, back-fill, two workers sharing the queue, every log fault
 * handled with its reason recorded, and kill -9 at each step. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static char *dir, *ctca, ca_dir[300], roots[320], log_list[320], csr[320];
static th_testlog logs[4];
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
                        " -addext subjectAltName=DNS:www.example.com -out '%s'",
                        dir, csr),
                 0);
}

/* Two logs of two operators (what the default policy needs), with extra flags. */
static void start_logs(const char *extra0, const char *extra1)
{
    const char *names[] = {"a1", "b1"}, *ops[] = {"A", "B"}, *extra[] = {extra0, extra1};
    n_logs = 2;
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

static int issue(char **output, const char *extra)
{
    return th_run(output, "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem' %s",
                  ctca, ca_dir, csr, log_list, dir, extra);
}

/* The serial after `prefix` in output. */
static void serial_after(const char *output, const char *prefix, char serial[64])
{
    const char *p = strstr(output, prefix);
    cr_assert_not_null(p, "no '%s' in: %s", prefix, output);
    cr_assert_eq(sscanf(p + strlen(prefix), "%63[0-9a-f]", serial), 1, "%s", output);
}

static void setup_healthy(void)
{
    init_ca();
    start_logs("", "");
}

Test(queue, get_writes_the_stored_certificate_precert_and_chain, .init = setup_healthy,
     .fini = teardown, .timeout = 60)
{
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, ""), 0, "ctca issue: %s", out);
    serial_after(out, "issued serial ", serial);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/got.pem' --chain-out '%s/chain.pem'",
                        ctca, ca_dir, serial, dir, dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(NULL, "cmp '%s/site.pem' '%s/got.pem'", dir, dir), 0,
                 "get writes what issue wrote");
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/got.pem'", roots, dir), 0, "%s",
                 out);
    free(out);
    cr_assert_eq(th_run(&out, "grep -c 'BEGIN CERTIFICATE' '%s/chain.pem'", dir), 0);
    cr_assert_eq(atoi(out), 2, "certificate and CA: %s", out);
    free(out);

    /* Upper case and a leading 0x are the same serial; the precertificate
     * carries the poison. */
    char upper[64];
    for (size_t i = 0; i <= strlen(serial); i++)
        upper[i] = (char)(serial[i] >= 'a' && serial[i] <= 'f' ? serial[i] - 32 : serial[i]);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' 0x%s --precert --out '%s/pre.pem'", ctca,
                        ca_dir, upper, dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s/pre.pem' -noout -text", dir), 0);
    cr_assert_not_null(strstr(out, "CT Precertificate Poison"), "%s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --scts-out '%s/scts.bin'", ctca, ca_dir,
                        serial, dir),
                 1, "embedded SCTs only: nothing for TLS delivery: %s", out);
    cr_assert_not_null(strstr(out, "no x509_entry SCTs"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' 7fffffff --out '%s/x.pem'", ctca, ca_dir, dir),
                 2, "%s", out);
    cr_assert_not_null(strstr(out, "no certificate with serial 7fffffff"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' zz --out '%s/x.pem'", ctca, ca_dir, dir), 2);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s'", ctca, ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "the queue is empty"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s' --json", ctca, ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "{\"items\":[],\"breakers\":[]}"), "%s", out);
    free(out);
}
