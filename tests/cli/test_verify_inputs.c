/* ctca verify --log-list with real and broken inputs: Google's 175-log
 * snapshot loads and gives a verdict (exit 0 or 1, never 2); malformed log
 * lists and policy files exit 2 with an error naming the field. The
 * certificate is a conformance vector's (vectors/chrome_embedded). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"

#define CASE CTCA_SOURCE_DIR "/vectors/chrome_embedded"
#define AT "2025-07-02T00:00:00Z"

static char *ctca, *dir;

static void setup(void)
{
    ctca = th_bin("ctca");
    dir = th_tmpdir();
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
    free(ctca);
}

TestSuite(verify_inputs, .init = setup, .fini = teardown, .timeout = 60);

static int verify(char **out, const char *list, const char *policy, const char *at,
                  const char *extra)
{
    return th_run(out,
                  "'%s' verify '" CASE "/cert.pem' --issuer '" CASE "/issuer.pem' --log-list '%s'"
                  " --policy '%s' --at %s %s",
                  ctca, list, policy, at, extra);
}

Test(verify_inputs, real_175_log_snapshot_loads_and_gives_a_verdict)
{
    char *list = th_upstream("x-stp-rxtls/all_logs_list.json"), *out = NULL;
    /* The vector's logs are not in Google's list: every SCT is unknown. */
    cr_expect_eq(verify(&out, list, "chrome", "2025-06-10T00:00:00Z", "--json"), 1, "%s", out);
    cr_expect(strstr(out, "\"unknown_count\":3") != NULL, "%s", out);
    cr_expect(strstr(out, "\"verdict\":\"not_enough_scts\"") != NULL, "%s", out);
    free(out);
    cr_expect_eq(verify(&out, list, "apple", "2025-06-10T00:00:00Z", ""), 1, "%s", out);
    cr_expect(strstr(out, "policy apple: not_enough_scts") != NULL, "%s", out);
    free(out);
    /* Snapshot of 2025-05-05: 70 days later it is no longer timely. */
    cr_expect_eq(verify(&out, list, "chrome", "2025-07-14T12:54:12Z", "--json"), 1, "%s", out);
    cr_expect(strstr(out, "\"verdict\":\"not_timely\"") != NULL, "%s", out);
    free(out);
    /* Google's own test certificate, whose test log is not in the list either. */
    char *cert = th_upstream("certificate-transparency/test-embedded-cert.pem"),
         *ca = th_upstream("certificate-transparency/ca-cert.pem");
    cr_expect_eq(th_run(&out,
                        "'%s' verify '%s' --issuer '%s' --log-list '%s' --at 2025-06-01T00:00:00Z"
                        " --json",
                        ctca, cert, ca, list),
                 1, "%s", out);
    cr_expect(strstr(out, "\"status\":\"unknown_log\"") != NULL, "%s", out);
    free(out);
    free(cert);
    free(ca);
    free(list);
}

/* The vector's log list with one edit to its first log (or the top level). */
typedef enum { DROP, SET_STRING, SET_NUMBER } edit_kind;

static void write_edited_list(const char *path, bool top, const char *field, edit_kind k,
                              const char *value)
{
    size_t len = 0;
    uint8_t *text = th_read_file(CASE "/log_list.json", &len);
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    cr_assert_not_null(root);
    cJSON *obj = root;
    if (!top) {
        cJSON *op = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "operators"), 0);
        obj = cJSON_GetArrayItem(cJSON_GetObjectItem(op, "logs"), 0);
    }
    cr_assert_not_null(obj);
    if (strchr(field, '.') != NULL) { /* "state.usable.timestamp" */
        cJSON *usable = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "state"), "usable");
        obj = usable;
        field = strrchr(field, '.') + 1;
    }
    cJSON_DeleteItemFromObject(obj, field);
    if (k == SET_STRING)
        cJSON_AddStringToObject(obj, field, value);
    else if (k == SET_NUMBER)
        cJSON_AddNumberToObject(obj, field, atof(value));
    char *json = cJSON_Print(root);
    th_write_file(path, json, strlen(json));
    cJSON_free(json);
    cJSON_Delete(root);
}

Test(verify_inputs, malformed_log_lists_exit_2_naming_the_field)
{
    static const struct {
        bool top;
        const char *field;
        edit_kind kind;
        const char *value, *expect;
    } cases[] = {
        {true, "log_list_timestamp", DROP, NULL, "log_list_timestamp: missing"},
        {true, "log_list_timestamp", SET_STRING, "last tuesday", "log_list_timestamp: must be"},
        {true, "operators", SET_STRING, "none", "operators"},
        {false, "log_id", DROP, NULL, "operators[0].logs[0].log_id: missing"},
        {false, "key", SET_NUMBER, "7", "operators[0].logs[0].key: must be a base64 string"},
        {false, "key", SET_STRING, "not base64!", "operators[0].logs[0].key: is not valid base64"},
        /* another log's ID: SHA-256 of this key it is not */
        {false, "log_id", SET_STRING, "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=",
         "operators[0].logs[0].log_id: is not the SHA-256 of the log's key"},
        {false, "url", SET_NUMBER, "443", "operators[0].logs[0].url: must be a string"},
        {false, "mmd", SET_STRING, "a day", "operators[0].logs[0].mmd"},
        {false, "state.usable.timestamp", SET_STRING, "2025-02-30T00:00:00Z",
         "operators[0].logs[0].state.usable.timestamp"},
        {false, "state.usable.timestamp", DROP, NULL,
         "operators[0].logs[0].state.usable.timestamp: missing"},
    };
    char path[600];
    snprintf(path, sizeof path, "%s/list.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_edited_list(path, cases[i].top, cases[i].field, cases[i].kind, cases[i].value);
        char *out = NULL;
        cr_expect_eq(verify(&out, path, "chrome", AT, ""), 2, "case %zu: %s", i, out);
        cr_expect(strstr(out, "--log-list") != NULL && strstr(out, cases[i].expect) != NULL,
                  "case %zu: '%s' lacks '%s'", i, out, cases[i].expect);
        free(out);
    }
    /* The unedited list is fine: the edits made the difference. */
    char *out = NULL;
    cr_expect_eq(verify(&out, CASE "/log_list.json", "chrome", AT, ""), 0, "%s", out);
    free(out);
}

Test(verify_inputs, ten_megabytes_of_junk_as_log_list_exit_2)
{
    char path[600], *out = NULL;
    snprintf(path, sizeof path, "%s/junk.json", dir);
    size_t len = 10 * 1024 * 1024;
    char *junk = malloc(len);
    cr_assert_not_null(junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = "{[\"x\":1,]}"[i % 10];
    th_write_file(path, junk, len);
    free(junk);
    cr_expect_eq(verify(&out, path, "chrome", AT, ""), 2, "%s", out);
    cr_expect(strstr(out, "limit") != NULL, "%s", out);
    free(out);
    /* Small junk is a JSON error, also exit 2. */
    th_write_file(path, "\x01\x02garbage", 9);
    cr_expect_eq(verify(&out, path, "chrome", AT, ""), 2, "%s", out);
    cr_expect(strstr(out, "JSON") != NULL, "%s", out);
    free(out);
}

Test(verify_inputs, malformed_policy_files_exit_2_naming_the_field)
{
#define BANDS "\"lifetime_bands\":[{\"max_days\":398,\"scts\":2}]"
#define STATES "\"counted_states\":[\"usable\"]"
    static const struct {
        const char *json, *expect;
    } cases[] = {
        {"{\"min_operators\":1," STATES "}", "lifetime_bands: missing"},
        {"{" BANDS "," STATES "}", "min_operators: missing"},
        {"{" BANDS ",\"min_operators\":1}", "counted_states: missing"},
        {"{" BANDS ",\"min_operators\":\"two\"," STATES "}", "min_operators: expected an integer"},
        {"{" BANDS ",\"min_operators\":1,\"counted_states\":\"usable\"}", "counted_states: expected"},
        {"{" BANDS ",\"min_operators\":1,\"counted_states\":[\"approved\"]}", "counted_states[0]"},
        {"{\"lifetime_bands\":[{\"scts\":2}],\"min_operators\":1," STATES "}",
         "lifetime_bands[0].max_days: missing"},
        {"{" BANDS ",\"min_operators\":1," STATES ",\"tls\":{\"scts\":2}}",
         "tls.min_operators: missing"},
        {"{" BANDS ",\"min_operators\":1," STATES ",\"tls\":{\"scts\":2,\"min_operators\":2,"
         "\"pool_embedded\":\"yes\"}}",
         "tls.pool_embedded: expected true or false"},
        {"{" BANDS ",\"min_operators\":1," STATES ",\"max_log_list_age_days\":-1}",
         "max_log_list_age_days"},
        {"{" BANDS ",\"min_operators\":1," STATES ",\"minimum_operators\":2}",
         "minimum_operators: unknown field"},
        {"{" BANDS ",", "not valid JSON"},
    };
    char path[600];
    snprintf(path, sizeof path, "%s/policy.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_write_file(path, cases[i].json, strlen(cases[i].json));
        char *out = NULL;
        cr_expect_eq(verify(&out, CASE "/log_list.json", path, AT, ""), 2, "case %zu: %s", i, out);
        cr_expect(strstr(out, "--policy") != NULL && strstr(out, cases[i].expect) != NULL,
                  "case %zu: '%s' lacks '%s'", i, out, cases[i].expect);
        free(out);
    }
    char *out = NULL;
    cr_expect_eq(verify(&out, CASE "/log_list.json", "/nonexistent/policy.json", AT, ""), 2, "%s",
                 out);
    cr_expect(strstr(out, "/nonexistent/policy.json") != NULL, "%s", out);
    free(out);
    cr_expect_eq(verify(&out, CASE "/log_list.json", "chrome", "2025-13-01T00:00:00Z", ""), 2,
                 "%s", out);
    cr_expect(strstr(out, "--at") != NULL, "%s", out);
    free(out);
}
