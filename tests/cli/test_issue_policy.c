/* The engine against the CA's CT policy (ct.policy): spares started when logs
 * fail, stopping only on a compliant set, refusing what cannot comply before
 * signing, and resuming a failed issuance from the store. Real ctca-testlog
 * processes on loopback. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctca/issue.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define MAX_LOGS 4

static char *dir, *ctca, ca_dir[300], roots[320], log_list[320], csr[320];
static th_testlog logs[MAX_LOGS];
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

/* Sets ct.policy in the CA's config, dropping min_scts/min_operators. */
static void set_policy(const char *policy)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.json", ca_dir);
    size_t len = 0;
    uint8_t *buf = th_read_file(path, &len);
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    cr_assert_not_null(root);
    cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "ct");
    cJSON_DeleteItemFromObjectCaseSensitive(ct, "min_scts");
    cJSON_DeleteItemFromObjectCaseSensitive(ct, "min_operators");
    cJSON_DeleteItemFromObjectCaseSensitive(ct, "policy");
    cJSON_AddStringToObject(ct, "policy", policy);
    char *json = cJSON_Print(root);
    th_write_file(path, json, strlen(json));
    free(json);
    cJSON_Delete(root);
}

/* Starts logs named by "OPERATOR:NAME" with extra flags, and writes a log
 * list dated now (Chrome's policy refuses a list 70 days old). */
static void start_logs(size_t n, const char *const *specs, const char *const *extra)
{
    n_logs = n;
    for (size_t i = 0; i < n; i++) {
        char op[16], name[16];
        cr_assert_eq(sscanf(specs[i], "%15[^:]:%15s", op, name), 2);
        th_testlog_start(&logs[i], dir, name, op, roots, extra[i]);
    }
    th_log_list_write(log_list, logs, n);
    size_t len = 0;
    uint8_t *buf = th_read_file(log_list, &len);
    char *ts = strstr((char *)buf, "\"log_list_timestamp\":\"");
    cr_assert_not_null(ts);
    char now[32];
    ctca_time_format_rfc3339(ctca_now_ms(), now, sizeof now);
    /* "YYYY-MM-DDTHH:MM:SS" over the date's same 19 characters; its "Z" stays. */
    memcpy(ts + strlen("\"log_list_timestamp\":\""), now, 19);
    th_write_file(log_list, buf, len);
    free(buf);
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

/* --fallback fail: these tests judge synchronous issuance alone. */
static int issue(char **output)
{
    return th_run(output,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                  " --fallback fail",
                  ctca, ca_dir, csr, log_list, dir);
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
    start_logs(4, specs, extra);
    set_policy("chrome");
    char *out = NULL;
    cr_assert_eq(issue(&out), 0, "ctca issue: %s", out);
    cr_assert_geq(count(out, "HTTP 503"), 1, "a failing log is reported: %s", out);
    cr_assert_not_null(strstr(out, logs[3].url), "the spare was tried: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-list '%s'"
                              " --policy chrome --json",
                        ctca, dir, roots, log_list),
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
    start_logs(4, specs, extra);
    set_policy("chrome");
    char *out = NULL;
    cr_assert_eq(issue(&out), 1, "ctca issue: %s", out);
    cr_assert_not_null(strstr(out, "not_diverse_scts"), "the failed rule is named: %s", out);
    cr_assert_not_null(strstr(out, logs[3].url), "every spare was tried: %s", out);
    free(out);
    char path[400];
    snprintf(path, sizeof path, "%s/site.pem", dir);
    cr_assert_neq(access(path, F_OK), 0, "no certificate written");
}

Test(issue_policy, stale_log_list_is_refused_before_anything_is_signed, .init = init_ca,
     .fini = teardown, .timeout = 60)
{
    const char *specs[] = {"A:a1", "B:b1"};
    const char *extra[] = {"", ""};
    start_logs(2, specs, extra);
    th_log_list_write(log_list, logs, 2); /* dated 2025-01-01 */
    set_policy("chrome");
    char *out = NULL;
    cr_assert_neq(issue(&out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "days old"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "sqlite3 '%s/ctca.db' 'SELECT count(*) FROM certs'", ca_dir), 0,
                 "%s", out);
    cr_assert_str_eq(out, "0\n", "nothing journaled: %s", out);
    free(out);
}

Test(issue_policy, policy_and_min_scts_together_are_a_config_error, .init = init_ca,
     .fini = teardown, .timeout = 60)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.json", ca_dir);
    size_t len = 0;
    uint8_t *buf = th_read_file(path, &len);
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(root, "ct"), "policy", "apple");
    char *json = cJSON_Print(root);
    th_write_file(path, json, strlen(json));
    free(json);
    cJSON_Delete(root);
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
    start_logs(2, specs, down);
    char *out = NULL;
    cr_assert_eq(issue(&out), 1, "%s", out);
    const char *p = strstr(out, "serial ");
    cr_assert_not_null(p, "%s", out);
    char serial[64];
    cr_assert_eq(sscanf(p, "serial %63[0-9a-f]", serial), 1);
    free(out);
    for (size_t i = 0; i < n_logs; i++)
        th_testlog_stop(&logs[i]);
    const char *up[] = {"", ""};
    start_logs(2, specs, up);

    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    ctca_ctclient *client = NULL;
    ctca_issuance *is = NULL;
    ctca_errbuf eb = {{0}};
    char db[400];
    snprintf(db, sizeof db, "%s/ctca.db", ca_dir);
    cr_assert_eq(ctca_ca_open(ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_store_open(db, &store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_resume(ca, store, serial, log_list, ctca_now_ms(), &is, &eb),
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
    snprintf(pem, sizeof pem, "%s/resumed.der", dir);
    th_write_file(pem, res.cert, res.cert_len);
    ctca_store_cert_cleanup(&rec);
    ctca_issue_result_cleanup(&res);

    /* A record that is issued cannot be resumed again. */
    ctca_issuance *again = NULL;
    cr_assert_eq(ctca_issuance_resume(ca, store, serial, log_list, ctca_now_ms(), &again, &eb),
                 CTCA_ERR_STORE_CONFLICT);
    ctca_issuance_free(is);
    ctca_ctclient_free(client);
    ctca_store_close(store);
    ctca_ca_free(ca);

    cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'",
                        ctca, pem, roots, logs[0].pub, logs[1].pub),
                 0, "ctca verify of the resumed certificate: %s", out);
    free(out);
}
