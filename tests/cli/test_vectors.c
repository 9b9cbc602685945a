/* The conformance vectors in vectors/: each gives its expected verdict and
 * failed rule through the library (ctca_cert_check_policy) and through
 * `ctca verify --json`, with the expected exit status; the generator
 * reproduces them byte for byte; OpenSSL accepts their certificates and OCSP
 * responses; and every scenario the issue names has a vector. */
#define _GNU_SOURCE /* memmem */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/loglist.h"
#include "ctca/policy.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define VECTORS CTCA_SOURCE_DIR "/vectors"

/* One vector's case.json, and the paths of its files. */
typedef struct vec {
    char name[128];
    char dir[512];
    char policy[32];
    char at[40];
    char verdict[40];
    char rule[64]; /* "" when compliant */
    int exit_status;
    bool tls, ocsp;
    cJSON *json;
} vec;

static char *path_in(const vec *v, const char *file)
{
    size_t n = strlen(v->dir) + strlen(file) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", v->dir, file);
    return p;
}

static const char *str(const cJSON *obj, const char *name, const char *vec_name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    cr_assert(cJSON_IsString(it), "%s: case.json lacks \"%s\"", vec_name, name);
    return it->valuestring;
}

static void vec_load(const char *name, vec *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->dir, sizeof v->dir, "%s/%s", VECTORS, name);
    char *p = path_in(v, "case.json");
    size_t len = 0;
    uint8_t *text = th_read_file(p, &len);
    free(p);
    v->json = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    cr_assert_not_null(v->json, "%s: case.json is not JSON", name);
    cr_assert_str_eq(str(v->json, "name", name), name);
    snprintf(v->policy, sizeof v->policy, "%s", str(v->json, "policy", name));
    snprintf(v->at, sizeof v->at, "%s", str(v->json, "at", name));
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(v->json, "expected");
    cr_assert(cJSON_IsObject(exp), "%s: no expected", name);
    snprintf(v->verdict, sizeof v->verdict, "%s", str(exp, "verdict", name));
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(exp, "failed_rule_id");
    if (cJSON_IsString(rule))
        snprintf(v->rule, sizeof v->rule, "%s", rule->valuestring);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(exp, "exit_status");
    cr_assert(cJSON_IsNumber(st), "%s: no exit_status", name);
    v->exit_status = st->valueint;
    v->tls = cJSON_GetObjectItemCaseSensitive(v->json, "tls_scts") != NULL;
    v->ocsp = cJSON_GetObjectItemCaseSensitive(v->json, "ocsp_response") != NULL;
}

static void vec_free(vec *v)
{
    cJSON_Delete(v->json);
}

static int only_dirs(const struct dirent *e)
{
    return e->d_name[0] != '.' && strcmp(e->d_name, "keys") != 0 &&
           strcmp(e->d_name, "README.md") != 0;
}

/* The vectors' names, sorted; caller frees with free_names. */
static struct dirent **list_vectors(int *n)
{
    struct dirent **names = NULL;
    *n = scandir(VECTORS, &names, only_dirs, alphasort);
    cr_assert_gt(*n, 0, "no vectors in %s", VECTORS);
    return names;
}

static void free_names(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static uint8_t *read_pem_or_none(const vec *v, const char *file, bool present, size_t *len)
{
    *len = 0;
    if (!present)
        return NULL;
    char *p = path_in(v, file);
    uint8_t *data = th_read_file(p, len);
    free(p);
    return data;
}

TestSuite(vectors, .timeout = 240);

Test(vectors, every_vector_gives_its_verdict_through_the_library)
{
    int n = 0;
    struct dirent **names = list_vectors(&n);
    for (int i = 0; i < n; i++) {
        vec v;
        vec_load(names[i]->d_name, &v);
        char *list_path = path_in(&v, "log_list.json"), *cert_path = path_in(&v, "cert.pem"),
             *issuer_path = path_in(&v, "issuer.pem");
        ctca_log_list *list = NULL;
        ctca_policy policy;
        ctca_errbuf eb = {{0}};
        int64_t at_ms = 0;
        cr_assert_eq(ctca_log_list_load(list_path, &list, &eb), CTCA_OK, "%s: %s", v.name, eb.msg);
        cr_assert_eq(ctca_policy_load(v.policy, &policy, &eb), CTCA_OK, "%s", v.name);
        cr_assert_eq(ctca_time_parse_rfc3339(v.at, &at_ms), CTCA_OK, "%s", v.name);
        size_t cert_len = 0, issuer_len = 0, tls_len = 0, ocsp_len = 0;
        uint8_t *cert = th_read_pem_der(cert_path, &cert_len);
        uint8_t *issuer = th_read_pem_der(issuer_path, &issuer_len);
        uint8_t *tls = read_pem_or_none(&v, "tls_scts.bin", v.tls, &tls_len);
        uint8_t *ocsp = read_pem_or_none(&v, "ocsp.der", v.ocsp, &ocsp_len);
        ctca_cert_policy_input in = {ctca_view_make(cert, cert_len),
                                     ctca_view_make(issuer, issuer_len),
                                     ctca_view_make(tls, tls_len),
                                     ctca_view_make(ocsp, ocsp_len),
                                     NULL,
                                     0};
        ctca_cert_policy_report r;
        cr_assert_eq(ctca_cert_check_policy(&in, list, &policy, at_ms, &r, &eb), CTCA_OK, "%s: %s",
                     v.name, eb.msg);
        /* Every SCT in a vector is real: signed by a log of the list. */
        cr_expect_eq(r.n_invalid + r.n_unknown, 0, "%s: %zu invalid, %zu unknown", v.name,
                     r.n_invalid, r.n_unknown);
        cr_expect_eq(r.has_ocsp, v.ocsp, "%s", v.name);
        cr_expect_str_eq(ctca_verdict_name(r.result.verdict), v.verdict, "%s: %s", v.name,
                         r.result.failed_rule);
        cr_expect_str_eq(r.result.rule == CTCA_RULE_NONE ? "" : ctca_policy_rule_name(r.result.rule),
                         v.rule, "%s: %s", v.name, r.result.failed_rule);
        ctca_cert_policy_report_cleanup(&r);
        ctca_log_list_free(list);
        free(cert);
        free(issuer);
        free(tls);
        free(ocsp);
        free(list_path);
        free(cert_path);
        free(issuer_path);
        vec_free(&v);
    }
    free_names(names, n);
}

Test(vectors, every_vector_gives_its_verdict_and_exit_status_through_ctca_verify)
{
    char *ctca = th_bin("ctca");
    int n = 0;
    struct dirent **names = list_vectors(&n);
    for (int i = 0; i < n; i++) {
        vec v;
        vec_load(names[i]->d_name, &v);
        char extra[1200] = "";
        if (v.tls)
            snprintf(extra, sizeof extra, "--tls-scts '%s/tls_scts.bin'", v.dir);
        if (v.ocsp)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                     " --ocsp-response '%s/ocsp.der'", v.dir);
        char *out = NULL;
        int rc = th_run(&out,
                        "'%s' verify '%s/cert.pem' --issuer '%s/issuer.pem' --log-list"
                        " '%s/log_list.json' --policy %s --at %s --json %s 2>/dev/null",
                        ctca, v.dir, v.dir, v.dir, v.policy, v.at, extra);
        cr_expect_eq(rc, v.exit_status, "%s: exit %d: %s", v.name, rc, out);
        cJSON *o = cJSON_Parse(out);
        cr_assert_not_null(o, "%s: not JSON: %s", v.name, out);
        cr_expect_str_eq(str(o, "verdict", v.name), v.verdict, "%s", v.name);
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(o, "failed_rule_id");
        cr_expect_str_eq(cJSON_IsString(rule) ? rule->valuestring : "", v.rule, "%s: %s", v.name,
                         out);
        cr_expect_eq(cJSON_GetObjectItemCaseSensitive(o, "invalid_count")->valueint, 0, "%s",
                     v.name);
        cJSON_Delete(o);
        free(out);
        vec_free(&v);
    }
    free_names(names, n);
    free(ctca);
}

Test(vectors, regenerating_gives_byte_identical_files)
{
    char *gen = th_bin("ctca-vectors"), *dir = th_tmpdir(), *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' --keys '%s/keys' --out '%s/v'", gen, VECTORS, dir), 0, "%s",
                 out);
    free(out);
    cr_expect_eq(th_run(&out, "diff -r -x keys -x README.md '%s' '%s/v'", VECTORS, dir), 0,
                 "vectors/ differs from what ctca-vectors writes (regenerate it, see "
                 "vectors/README.md):\n%s",
                 out);
    free(out);
    th_rmdir(dir);
    free(dir);
    free(gen);
}

Test(vectors, openssl_accepts_the_certificates_and_ocsp_responses)
{
    int n = 0;
    struct dirent **names = list_vectors(&n);
    for (int i = 0; i < n; i++) {
        vec v;
        vec_load(names[i]->d_name, &v);
        char *out = NULL;
        int64_t at_ms = 0;
        cr_assert_eq(ctca_time_parse_rfc3339(v.at, &at_ms), CTCA_OK);
        cr_expect_eq(th_run(&out,
                            "openssl verify -attime %lld -CAfile '%s/issuer.pem' '%s/cert.pem'",
                            (long long)(at_ms / 1000), v.dir, v.dir),
                     0, "%s: %s", v.name, out);
        free(out);
        if (v.ocsp) {
            cr_expect_eq(th_run(&out,
                                "openssl ocsp -respin '%s/ocsp.der' -resp_text -CAfile"
                                " '%s/issuer.pem' -issuer '%s/issuer.pem' -cert '%s/cert.pem'",
                                v.dir, v.dir, v.dir, v.dir),
                         0, "%s: %s", v.name, out);
            cr_expect(strstr(out, "Response verify OK") != NULL, "%s: %s", v.name, out);
            cr_expect(strstr(out, "cert.pem: good") != NULL, "%s: %s", v.name, out);
            cr_expect(strstr(out, "CT Certificate SCTs") != NULL, "%s: %s", v.name, out);
            free(out);
        }
        vec_free(&v);
    }
    free_names(names, n);
}

Test(vectors, every_named_scenario_has_a_vector)
{
    /* The Chromium policy-enforcer scenarios and Apple's table (issue 4). */
    static const char *const required[] = {
        "chrome_embedded", "chrome_tls", "chrome_pooled_tls_ocsp", "chrome_pooled_embedded_ocsp",
        "chrome_not_enough_scts", "chrome_not_enough_unique_logs",
        "chrome_disqualified_before_date", "chrome_disqualified_after_date",
        "chrome_issuance_after_disqualification", "chrome_retirement_in_future",
        "chrome_retirement_in_past", "chrome_lifetime_179d_2scts", "chrome_lifetime_180d_2scts",
        "chrome_lifetime_180d_1s_2scts", "chrome_lifetime_180d_1s_3scts",
        "chrome_lifetime_1y_2scts", "chrome_lifetime_1y_3scts", "chrome_same_operator_tls",
        "chrome_different_operators", "chrome_operator_switch_positive",
        "chrome_operator_switch_negative", "chrome_multiple_operator_switches",
        "chrome_operator_switches_before_sct", "chrome_no_rfc6962_log", "chrome_stale_log_list",
        "apple_lifetime_180d_2scts", "apple_lifetime_180d_1s_2scts", "apple_lifetime_398d_1s",
        "apple_one_operator_180d", "apple_two_per_operator_1y", "apple_one_operator_1y",
        "apple_no_currently_approved_log", "apple_no_rfc6962_log", "apple_one_rfc6962_log",
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        vec v;
        vec_load(required[i], &v);
        cr_expect(strncmp(v.name, v.policy, strlen(v.policy)) == 0, "%s: policy %s", v.name,
                  v.policy);
        vec_free(&v);
    }
}

Test(vectors, tampered_ocsp_response_is_an_input_error)
{
    char *ctca = th_bin("ctca"), *dir = th_tmpdir(), *out = NULL;
    vec v;
    vec_load("chrome_ocsp_delegated_responder", &v);
    char *p = path_in(&v, "ocsp.der");
    size_t len = 0;
    uint8_t *der = th_read_file(p, &len);
    free(p);
    /* producedAt one second later: the signed data changes, the signature stays. */
    uint8_t *at = memmem(der, len, "20250602010000Z", 15);
    cr_assert_not_null(at);
    at[13] = '1';
    char tampered[600];
    snprintf(tampered, sizeof tampered, "%s/ocsp.der", dir);
    th_write_file(tampered, der, len);
    free(der);
    int rc = th_run(&out,
                    "'%s' verify '%s/cert.pem' --issuer '%s/issuer.pem' --log-list"
                    " '%s/log_list.json' --at %s --ocsp-response '%s'",
                    ctca, v.dir, v.dir, v.dir, v.at, tampered);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "OCSP response: the response signature by the responder") != NULL,
              "%s", out);
    free(out);
    vec_free(&v);
    th_rmdir(dir);
    free(dir);
    free(ctca);
}
