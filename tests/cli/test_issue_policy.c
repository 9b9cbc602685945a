/* The engine against the CA's CT policy (ct.policy): spares started when logs
 * fail, stopping only on a compliant set, refusing what cannot comply before
 * signing, and resuming a failed issuance from the store. Real ctca-testlog
 * processes on loopback. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctca/issue.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

/* 2025-01-01T00:00:00Z: a log list date Chrome's policy finds too old. */
#define STALE_MS ((int64_t)1735689600000)

static th_ca fx;

static void init_ca(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
}

/* Sets ct.policy in the CA's config, dropping min_scts/min_operators. */
static void set_policy(const char *policy)
{
    char value[200];
    snprintf(value, sizeof value, "\"%s\"", policy);
    th_ca_config_set(&fx, "ct", "min_scts", NULL);
    th_ca_config_set(&fx, "ct", "min_operators", NULL);
    th_ca_config_set(&fx, "ct", "policy", value);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* --fallback fail: these tests judge synchronous issuance alone. */
static int issue(char **output)
{
    return th_run(output,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                  " --fallback fail",
                  fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir);
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

Test(issue_policy, failing_logs_are_replaced_by_spares_until_chrome_complies, .init = init_ca,
     .fini = teardown, .timeout = 90)
{
    /* Selection order spans operators: a1, b1, a2, b2. The first wave (two
     * SCTs plus one) holds both failing logs; the first failure starts b2 as
     * a spare. b1's 503 may come after a2 and b2 comply (then it is reported
     * as abandoned), so at least one 503 is reported. */
    const char *specs[] = {"A:a1", "B:b1", "A:a2", "B:b2"};
    const char *extra[] = {"--fail-rate 1", "--fail-rate 1", "", ""};
    th_ca_start_logs(&fx, 4, specs, extra);
    set_policy("chrome");
    char *out = NULL;
    cr_assert_eq(issue(&out), 0, "ctca issue: %s", out);
    cr_assert_geq(count(out, "HTTP 503"), 1, "a failing log is reported: %s", out);
    cr_assert_not_null(strstr(out, fx.logs[3].url), "the spare was tried: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-list '%s'"
                              " --policy chrome --json",
                        fx.ctca, fx.dir, fx.roots, fx.log_list),
                 0, "ctca verify under chrome: %s", out);
    cr_assert_not_null(strstr(out, "compliant"), "%s", out);
    free(out);
}

Test(issue_policy, scts_of_one_operator_do_not_satisfy_chrome, .init = init_ca,
     .fini = teardown, .timeout = 90)
{
    /* B's only log fails: A's three logs answer, and three SCTs of one
     * operator are not diverse. Nothing is issued; the record is failed. */
    const char *specs[] = {"A:a1", "B:b1", "A:a2", "A:a3"};
    const char *extra[] = {"", "--fail-rate 1", "", ""};
    th_ca_start_logs(&fx, 4, specs, extra);
    set_policy("chrome");
    char *out = NULL;
    cr_assert_eq(issue(&out), 1, "ctca issue: %s", out);
    cr_assert_not_null(strstr(out, "not_diverse_scts"), "the failed rule is named: %s", out);
    cr_assert_not_null(strstr(out, fx.logs[3].url), "every spare was tried: %s", out);
    free(out);
    char path[400];
    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    cr_assert_neq(access(path, F_OK), 0, "no certificate written");
}

Test(issue_policy, stale_log_list_is_refused_before_anything_is_signed, .init = init_ca,
     .fini = teardown, .timeout = 60)
{
    const char *specs[] = {"A:a1", "B:b1"};
    const char *extra[] = {"", ""};
    th_ca_start_logs(&fx, 2, specs, extra);
    th_log_list_write(fx.log_list, fx.logs, 2, STALE_MS);
    set_policy("chrome");
    char *out = NULL;
    cr_assert_neq(issue(&out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "days old"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "sqlite3 '%s/ctca.db' 'SELECT count(*) FROM certs'", fx.ca_dir), 0,
                 "%s", out);
    cr_assert_str_eq(out, "0\n", "nothing journaled: %s", out);
    free(out);
}

Test(issue_policy, policy_and_min_scts_together_are_a_config_error, .init = init_ca,
     .fini = teardown, .timeout = 60)
{
    th_ca_config_set(&fx, "ct", "policy", "\"apple\"");
    char *out = NULL;
    cr_assert_eq(issue(&out), 2, "%s", out);
    cr_assert_not_null(strstr(out, "ct.min_scts"), "%s", out);
    free(out);

    set_policy("missing-policy.json");
    cr_assert_eq(issue(&out), 2, "%s", out);
    cr_assert_not_null(strstr(out, "missing-policy.json"), "%s", out);
    free(out);
}

Test(issue_policy, failed_issuance_resumes_from_the_store, .init = init_ca, .fini = teardown,
     .timeout = 90)
{
    const char *specs[] = {"A:a1", "B:b1"};
    const char *down[] = {"--fail-rate 1", "--fail-rate 1"};
    th_ca_start_logs(&fx, 2, specs, down);
    char *out = NULL;
    cr_assert_eq(issue(&out), 1, "%s", out);
    const char *p = strstr(out, "serial ");
    cr_assert_not_null(p, "%s", out);
    char serial[64];
    cr_assert_eq(sscanf(p, "serial %63[0-9a-f]", serial), 1);
    free(out);
    th_ca_stop_logs(&fx);
    const char *up[] = {"", ""};
    th_ca_start_logs(&fx, 2, specs, up);

    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    ctca_ctclient *client = NULL;
    ctca_issuance *is = NULL;
    ctca_errbuf eb = {{0}};
    char db[400];
    snprintf(db, sizeof db, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_store_open(db, &store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(
        ctca_issuance_resume(ca, store, serial, NULL, fx.log_list, ctca_now_ms(), &is, &eb),
        CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_ctclient_new(NULL, &client), CTCA_OK);
    cr_assert_eq(ctca_issuance_start(is, client, store, ctca_ctclient_now_ms(client) + 20000),
                 CTCA_OK);
    while (!ctca_issuance_collected(is))
        cr_assert_eq(ctca_ctclient_run(client, 1000, NULL), CTCA_OK);
    ctca_issue_result res = {0};
    cr_assert_eq(ctca_issuance_finish(is, store, &res, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(res.n_embedded, 2);
    cr_assert_str_eq(res.serial, serial);

    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(store, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_ISSUED);
    cr_assert_eq(rec.final_len, res.cert_len);
    cr_assert_eq(memcmp(rec.final_der, res.cert, res.cert_len), 0);
    char pem[400];
    snprintf(pem, sizeof pem, "%s/resumed.der", fx.dir);
    th_write_file(pem, res.cert, res.cert_len);
    ctca_store_cert_cleanup(&rec);
    ctca_issue_result_cleanup(&res);

    /* A record that is issued cannot be resumed again. */
    ctca_issuance *again = NULL;
    cr_assert_eq(
        ctca_issuance_resume(ca, store, serial, NULL, fx.log_list, ctca_now_ms(), &again, &eb),
        CTCA_ERR_STORE_CONFLICT);
    ctca_issuance_free(is);
    ctca_ctclient_free(client);
    ctca_store_close(store);
    ctca_ca_free(ca);

    cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'",
                        fx.ctca, pem, fx.roots, fx.logs[0].pub, fx.logs[1].pub),
                 0, "ctca verify of the resumed certificate: %s", out);
    free(out);
}
