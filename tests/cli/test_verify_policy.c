/* ctca verify --log-list: a real certificate issued by `ctca issue` against
 * three ctca-testlog processes, judged under log lists edited per scenario
 * (states, operators, previous operators, timestamps). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/asn1.h"
#include "ctca/sct.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define MIN_MS ((int64_t)60 * 1000)
#define DAY_MS ((int64_t)86400 * 1000)

static th_ca fx;
static char list_path[320], cert[320];
static int64_t t_before, t_after;
static char emb_ids[3][64]; /* base64 log IDs of the embedded SCTs, in order */
static size_t n_emb;

static void setup(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    snprintf(list_path, sizeof list_path, "%s/list.json", fx.dir);
    snprintf(cert, sizeof cert, "%s/site.pem", fx.dir);
    const char *specs[] = {"A:a1", "A:a2", "B:b1"};
    th_ca_start_logs(&fx, 3, specs, NULL);
    char *out = NULL;
    t_before = ctca_now_ms() - 1000;
    cr_assert_eq(th_run(&out,
                        "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s'"
                        " --chain-out '%s/chain.pem'",
                        fx.ctca, fx.ca_dir, fx.csr, fx.log_list, cert, fx.dir),
                 0, "ctca issue: %s", out);
    free(out);
    t_after = ctca_now_ms() + 1000;

    size_t der_len = 0;
    uint8_t *der = th_read_pem_der(cert, &der_len);
    ctca_sct_list scts = {NULL, 0};
    cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(der, der_len), &scts), CTCA_OK);
    cr_assert(scts.n >= 2 && scts.n <= 3, "%zu SCTs embedded", scts.n);
    n_emb = scts.n;
    for (size_t i = 0; i < n_emb; i++) {
        char *b64 = NULL;
        cr_assert_eq(ctca_base64_encode(scts.scts[i].log_id, CTCA_LOG_ID_LEN, &b64), CTCA_OK);
        snprintf(emb_ids[i], sizeof emb_ids[i], "%s", b64);
        free(b64);
    }
    ctca_sct_list_cleanup(&scts);
    free(der);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* How the scenario presents the log of embedded SCT k. */
typedef struct log_spec {
    const char *op;
    const char *state;  /* "usable", "retired", "pending", ... */
    int64_t state_ms;
    const char *prev_op; /* NULL: none */
    int64_t prev_end_ms;
} log_spec;

static void add_time(cJSON *obj, const char *name, int64_t ms)
{
    char buf[40];
    ctca_time_format_rfc3339(ms, buf, sizeof buf);
    cr_assert_not_null(cJSON_AddStringToObject(obj, name, buf));
}

/* Writes list_path: the logs of embedded SCTs 0 and 1 as specs say, any third
 * embedded one rejected (so it never counts), the others usable under "Z". */
static void write_list(int64_t list_ms, log_spec s0, log_spec s1)
{
    size_t len = 0;
    uint8_t *text = th_read_file(fx.log_list, &len);
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    cr_assert_not_null(root);
    cJSON *out = cJSON_CreateObject(), *ops = cJSON_AddArrayToObject(out, "operators");
    add_time(out, "log_list_timestamp", list_ms);
    const cJSON *op, *log;
    cJSON_ArrayForEach(op, cJSON_GetObjectItem(root, "operators"))
    {
        cJSON_ArrayForEach(log, cJSON_GetObjectItem(op, "logs"))
        {
            cJSON *l = cJSON_Duplicate(log, true);
            const char *id = cJSON_GetObjectItem(l, "log_id")->valuestring;
            log_spec spec = {"Z", "usable", t_before - DAY_MS, NULL, 0};
            if (strcmp(id, emb_ids[0]) == 0)
                spec = s0;
            else if (strcmp(id, emb_ids[1]) == 0)
                spec = s1;
            else if (n_emb == 3 && strcmp(id, emb_ids[2]) == 0)
                spec = (log_spec){"Z", "rejected", t_before - DAY_MS, NULL, 0};
            cJSON_DeleteItemFromObject(l, "state");
            cJSON *st = cJSON_AddObjectToObject(l, "state");
            cJSON *inner = cJSON_AddObjectToObject(st, spec.state);
            add_time(inner, "timestamp", spec.state_ms);
            if (spec.prev_op != NULL) {
                cJSON *prev = cJSON_AddArrayToObject(l, "previous_operators");
                cJSON *p = cJSON_CreateObject();
                cJSON_AddStringToObject(p, "name", spec.prev_op);
                add_time(p, "end_time", spec.prev_end_ms);
                cJSON_AddItemToArray(prev, p);
            }
            cJSON *dest = NULL, *o;
            cJSON_ArrayForEach(o, ops)
            {
                if (strcmp(cJSON_GetObjectItem(o, "name")->valuestring, spec.op) == 0)
                    dest = cJSON_GetObjectItem(o, "logs");
            }
            if (dest == NULL) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "name", spec.op);
                cJSON_AddArrayToObject(o, "email");
                dest = cJSON_AddArrayToObject(o, "logs");
                cJSON_AddItemToArray(ops, o);
            }
            cJSON_AddItemToArray(dest, l);
        }
    }
    char *json = cJSON_Print(out);
    th_write_file(list_path, json, strlen(json));
    cJSON_free(json);
    cJSON_Delete(out);
    cJSON_Delete(root);
}

#define USABLE(op) ((log_spec){op, "usable", t_before - DAY_MS, NULL, 0})

static int verify(char **out, const char *policy, int64_t at_ms, const char *extra)
{
    char at[40];
    ctca_time_format_rfc3339(at_ms, at, sizeof at);
    return th_run(out, "'%s' verify '%s' --issuer '%s' --log-list '%s' --policy '%s' --at %s %s",
                  fx.ctca, cert, fx.roots, list_path, policy, at, extra);
}

TestSuite(verify_policy, .init = setup, .fini = teardown, .timeout = 90);

Test(verify_policy, distinct_operators_comply_under_chrome_and_apple_exit_0)
{
    write_list(t_before - DAY_MS, USABLE("A"), USABLE("B"));
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, ""), 0, "%s", out);
    cr_expect(strstr(out, "policy chrome: compliant") != NULL, "%s", out);
    cr_expect(strstr(out, "(embedded)") != NULL && strstr(out, ": valid") != NULL, "%s", out);
    free(out);
    cr_expect_eq(verify(&out, "apple", t_after + MIN_MS, "--json"), 0, "%s", out);
    cr_expect(strstr(out, "\"verdict\":\"compliant\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"failed_rule\":null") != NULL, "%s", out);
    cr_expect(strstr(out, "\"failed_rule_id\":null") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, same_operator_is_not_diverse_exit_1)
{
    write_list(t_before - DAY_MS, USABLE("A"), USABLE("A"));
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, "--json"), 1, "%s", out);
    cr_expect(strstr(out, "\"verdict\":\"not_diverse_scts\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"failed_rule\":\"embedded SCTs: 2 distinct log operators") != NULL,
              "%s", out);
    cr_expect(strstr(out, "\"failed_rule_id\":\"embedded_operators\"") != NULL, "%s", out);
    free(out);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, ""), 1, "%s", out);
    cr_expect(strstr(out, "not compliant with policy chrome") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, operator_switch_after_the_sct_counts_the_previous_operator)
{
    log_spec switched = {"A", "usable", t_before - DAY_MS, "B", t_after + DAY_MS};
    write_list(t_before - DAY_MS, USABLE("A"), switched);
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, ""), 0, "positive: %s", out);
    free(out);
    switched.prev_end_ms = t_before - DAY_MS; /* B handed over before the SCT */
    write_list(t_before - DAY_MS, USABLE("A"), switched);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, "--json"), 1, "negative: %s", out);
    cr_expect(strstr(out, "not_diverse_scts") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, retired_log_counts_only_when_sct_predates_retirement)
{
    log_spec retired = {"B", "retired", t_after + 1000, NULL, 0};
    write_list(t_before - DAY_MS, USABLE("A"), retired);
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, ""), 0, "retired after: %s", out);
    free(out);
    retired.state_ms = t_before - MIN_MS;
    write_list(t_before - DAY_MS, USABLE("A"), retired);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, "--json"), 1, "retired before: %s",
                 out);
    cr_expect(strstr(out, "not_enough_scts") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, pending_log_does_not_count)
{
    write_list(t_before - DAY_MS, USABLE("A"), (log_spec){"B", "pending", t_before, NULL, 0});
    char *out = NULL;
    /* One SCT counts, which fails operator diversity first (Chromium's order). */
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, "--json"), 1, "%s", out);
    cr_expect(strstr(out, "not_diverse_scts") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, log_list_70_days_old_is_not_timely)
{
    write_list(t_after + MIN_MS - 70 * DAY_MS, USABLE("A"), USABLE("B"));
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, "--json"), 1, "%s", out);
    cr_expect(strstr(out, "\"verdict\":\"not_timely\"") != NULL, "%s", out);
    free(out);
}

Test(verify_policy, tls_scts_that_fail_are_reported_and_do_not_count)
{
    /* The embedded list again, as TLS SCTs: signed over the precertificate,
     * they do not verify as x509 entries. */
    size_t der_len = 0, list_len = 0;
    uint8_t *der = th_read_pem_der(cert, &der_len), *list = NULL;
    ctca_sct_list scts = {NULL, 0};
    cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(der, der_len), &scts), CTCA_OK);
    cr_assert_eq(ctca_sct_list_serialize(scts.scts, scts.n, &list, &list_len), CTCA_OK);
    char tls[400], extra[500];
    snprintf(tls, sizeof tls, "%s/tls.bin", fx.dir);
    th_write_file(tls, list, list_len);
    free(list);
    free(der);
    ctca_sct_list_cleanup(&scts);
    write_list(t_before - DAY_MS, USABLE("A"), USABLE("A"));
    snprintf(extra, sizeof extra, "--json --tls-scts '%s'", tls);
    char *out = NULL;
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, extra), 1, "%s", out);
    cr_expect(strstr(out, "\"delivery\":\"tls\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"status\":\"invalid_signature\"") != NULL, "%s", out);
    cr_expect(strstr(out, "not_diverse_scts") != NULL, "%s", out);
    free(out);
    th_write_file(tls, "junk", 4);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, extra), 2, "%s", out);
    free(out);
}

Test(verify_policy, malformed_inputs_exit_2_with_the_field_named)
{
    write_list(t_before - DAY_MS, USABLE("A"), USABLE("B"));
    char path[400], *out = NULL;
    snprintf(path, sizeof path, "%s/policy.json", fx.dir);
    const char *bad = "{\"lifetime_bands\":[{\"max_days\":90,\"scts\":\"two\"}],"
                      "\"min_operators\":1,\"counted_states\":[\"usable\"]}";
    th_write_file(path, bad, strlen(bad));
    cr_expect_eq(verify(&out, path, t_after + MIN_MS, ""), 2, "%s", out);
    cr_expect(strstr(out, "lifetime_bands[0].scts") != NULL, "%s", out);
    free(out);

    const char *good = "{\"lifetime_bands\":[{\"max_days\":398,\"scts\":1}],"
                       "\"min_operators\":1,\"counted_states\":[\"usable\"]}";
    th_write_file(path, good, strlen(good));
    cr_expect_eq(verify(&out, path, t_after + MIN_MS, ""), 0, "custom policy: %s", out);
    free(out);

    size_t len = 10 * 1024 * 1024;
    char *junk = malloc(len);
    cr_assert_not_null(junk);
    memset(junk, 'x', len);
    th_write_file(path, junk, len);
    free(junk);
    cr_expect_eq(verify(&out, path, t_after + MIN_MS, ""), 2, "10 MB policy: %s", out);
    free(out);

    th_write_file(list_path, "{\"operators\":", 13);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, ""), 2, "bad list: %s", out);
    free(out);

    cr_expect_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --policy chrome --log-key '%s'",
                        fx.ctca, cert, fx.roots, fx.logs[0].pub),
                 2, "--policy without --log-list: %s", out);
    free(out);
}

Test(verify_policy, ocsp_response_from_openssl_is_checked_and_reported)
{
    write_list(t_before - DAY_MS, USABLE("A"), USABLE("B"));
    /* openssl ocsp as the CA's responder: an index naming the certificate good. */
    cr_assert_eq(th_run(NULL,
                        "cd '%s' && serial=$(openssl x509 -in site.pem -noout -serial | cut -d="
                        " -f2) && printf 'V\\t301231000000Z\\t\\t%%s\\tunknown\\t/CN=x\\n'"
                        " \"$serial\" > index.txt && openssl ocsp -issuer '%s' -cert site.pem"
                        " -no_nonce -reqout req.der && openssl ocsp -index index.txt -rsigner"
                        " '%s' -rkey '%s/ca.key' -CA '%s' -reqin req.der -respout resp.der",
                        fx.dir, fx.roots, fx.roots, fx.ca_dir, fx.roots),
                 0);
    char extra[600], *out = NULL;
    snprintf(extra, sizeof extra, "--json --ocsp-response '%s/resp.der'", fx.dir);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, extra), 0, "%s", out);
    cr_expect(strstr(out, "\"ocsp\":{\"cert_status\":\"good\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"signer\":\"issuer\"") != NULL, "%s", out);
    free(out);
    snprintf(extra, sizeof extra, "--ocsp-response '%s/resp.der'", fx.dir);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, extra), 0, "%s", out);
    cr_expect(strstr(out, "OCSP response: certificate good") != NULL, "%s", out);
    free(out);

    /* The request is a DER SEQUENCE too, but not an OCSP response. */
    snprintf(extra, sizeof extra, "--ocsp-response '%s/req.der'", fx.dir);
    cr_expect_eq(verify(&out, "chrome", t_after + MIN_MS, extra), 2, "%s", out);
    cr_expect(strstr(out, "OCSP response") != NULL, "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --ocsp-response '%s/resp.der'"
                              " --log-key '%s'",
                        fx.ctca, cert, fx.roots, fx.dir, fx.logs[0].pub),
                 2, "--ocsp-response without --log-list: %s", out);
    free(out);
}
