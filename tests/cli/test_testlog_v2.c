/* ctca-testlog --ct-version 2, a real process over HTTP: submit-entry through
 * the ctclient gives SCTs, STHs and inclusion proofs that verify with the core
 * (precert and x509 entries, both type spellings, dedupe), every RFC 9162
 * error type comes back as a problem document with its HTTP status, the
 * faults act on v2 SCTs, and --print-log-entry prints the extended entry. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ca/ca_int.h"
#include "ctca/cms.h"
#include "ctca/ctclient.h"
#include "ctca/transitem.h"
#include "tests/core/test_ca_helpers.h"

/* No ctca init: each test makes its CAs in process (tca_make_ca). */
static th_ca fx;

static void setup(void)
{
    th_ca_init(&fx, NULL);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

TestSuite(testlog_v2, .init = setup, .fini = teardown, .timeout = 120);

static th_testlog *start(const char *name, const char *roots, const char *args)
{
    cr_assert(fx.n_logs < TH_CA_MAX_LOGS);
    th_testlog *t = &fx.logs[fx.n_logs++];
    th_testlog_start(t, fx.dir, name, "op", roots, args);
    return t;
}

/* A CA in dir/sub, a v2 TBS and its CMS precertificate. */
typedef struct fixture {
    ctca_ca *ca;
    char roots[512];
    uint8_t *tbs, *cms;
    size_t tbs_len, cms_len;
} fixture;

static void make_fixture(fixture *f, const char *sub)
{
    char *d = tca_path(fx.dir, sub);
    cr_assert_eq(mkdir(d, 0700), 0);
    f->ca = tca_make_ca(d, CTCA_KEY_EC_P256);
    snprintf(f->roots, sizeof f->roots, "%s/ca/ca.pem", d);
    tca_v2_tbs(f->ca, d, "leaf", &f->tbs, &f->tbs_len);
    cr_assert_eq(ctca_ca_sign_cms_precert(f->ca, ctca_view_make(f->tbs, f->tbs_len), &f->cms,
                                        &f->cms_len),
                 CTCA_OK);
    free(d);
}

static void free_fixture(fixture *f)
{
    free(f->tbs);
    free(f->cms);
    ctca_ca_free(f->ca);
}

/* ---- through the ctclient --------------------------------------------------- */

typedef struct answer {
    ctca_err err;
    char detail[256];
    uint8_t *sct, *sth, *inclusion;
    size_t sct_len, sth_len, inclusion_len;
} answer;

static uint8_t *copy(ctca_view v, size_t *len)
{
    *len = v.len;
    uint8_t *p = malloc(v.len + 1);
    cr_assert_not_null(p);
    if (v.len)
        memcpy(p, v.data, v.len);
    return p;
}

static bool on_answer(const ctca_ctresult *r, void *arg)
{
    answer *a = arg;
    a->err = r->err;
    snprintf(a->detail, sizeof a->detail, "%s", r->detail);
    if (r->err == CTCA_OK) {
        a->sct = copy(r->sct, &a->sct_len);
        a->sth = copy(r->sth, &a->sth_len);
        a->inclusion = copy(r->inclusion, &a->inclusion_len);
    }
    return false;
}

static void submit(const th_testlog *t, ctca_ct_endpoint ep, const ctca_view *chain, size_t n,
                   answer *a)
{
    memset(a, 0, sizeof *a);
    ctca_ctclient *c = NULL;
    cr_assert_eq(ctca_ctclient_new(NULL, &c), CTCA_OK);
    ctca_ctlog_request log = {.base_url = t->url, .timeout_ms = 10000};
    ctca_ctsubmission sub = {.endpoint = ep, .chain = chain, .chain_len = n, .logs = &log,
                             .n_logs = 1, .deadline_ms = CTCA_CTCLIENT_NO_DEADLINE,
                             .cb = on_answer, .cb_arg = a};
    cr_assert_eq(ctca_ctclient_submit(c, &sub), CTCA_OK);
    ctca_ctclient_free(c);
}

static void free_answer(answer *a)
{
    free(a->sct);
    free(a->sth);
    free(a->inclusion);
}

static ctca_log_key *load_key(const th_testlog *t)
{
    ctca_log_key *k = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_key_load(t->pub, &k, &eb), CTCA_OK, "%s", eb.msg);
    return k;
}

/* The SCT, STH and inclusion proof of a verify against log and entry. */
static void check_answer(const answer *a, const ctca_log_v2 *log, const ctca_entry_v2 *entry,
                         ctca_trans_type sct_type)
{
    cr_assert_eq(a->err, CTCA_OK, "%s", a->detail);
    ctca_transitem sct, sth, inc;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(a->sct, a->sct_len), &sct), CTCA_OK);
    cr_expect_eq(sct.type, sct_type);
    cr_expect_eq(ctca_sct_v2_verify(&sct, log, entry, (uint64_t)ctca_now_ms() + 5000), CTCA_OK);
    cr_assert_eq(ctca_transitem_parse_as(ctca_view_make(a->sth, a->sth_len), CTCA_TT_STH_V2,
                                         CTCA_TT_STH_V2, &sth),
                 CTCA_OK);
    cr_expect_eq(ctca_sth_v2_verify(&sth, log), CTCA_OK);
    cr_assert_eq(ctca_transitem_parse_as(ctca_view_make(a->inclusion, a->inclusion_len),
                                         CTCA_TT_INCLUSION_PROOF_V2, CTCA_TT_INCLUSION_PROOF_V2,
                                         &inc),
                 CTCA_OK);
    uint8_t leaf[CTCA_HASH_LEN];
    cr_assert_eq(ctca_sct_v2_leaf_hash(&sct, entry, leaf), CTCA_OK);
    cr_expect_eq(ctca_inclusion_v2_verify(&inc, &sth, leaf), CTCA_OK, "leaf %llu of %llu",
                 (unsigned long long)inc.leaf_index, (unsigned long long)inc.tree_size);
    ctca_transitem_cleanup(&sct);
    ctca_transitem_cleanup(&sth);
    ctca_transitem_cleanup(&inc);
}

Test(testlog_v2, precert_and_x509_entries_get_verifiable_scts_sths_and_proofs)
{
    fixture f;
    make_fixture(&f, "a");
    th_testlog *t = start("v2", f.roots, "--ct-version 2 --log-id-oid 1.3.101.8192");
    ctca_log_key *key = load_key(t);
    ctca_log_v2 log = {.key = key};
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &log.log_id), CTCA_OK);
    ctca_entry_v2 entry = {.tbs = ctca_view_make(f.tbs, f.tbs_len)};
    memcpy(entry.issuer_key_hash, ctca_ca_get0_issuer_key_hash(f.ca), CTCA_HASH_LEN);

    ctca_view chain[2] = {ctca_view_make(f.cms, f.cms_len), ctca_ca_get0_cert(f.ca)};
    answer a, again;
    submit(t, CTCA_CT_SUBMIT_ENTRY_PRECERT, chain, 2, &a);
    check_answer(&a, &log, &entry, CTCA_TT_PRECERT_SCT_V2);
    /* The same submission again: the same SCT (RFC 9162 4). */
    submit(t, CTCA_CT_SUBMIT_ENTRY_PRECERT, chain, 2, &again);
    cr_assert_eq(again.err, CTCA_OK, "%s", again.detail);
    cr_expect(again.sct_len == a.sct_len && memcmp(again.sct, a.sct, a.sct_len) == 0);
    free_answer(&again);

    /* An x509_entry_v2: a certificate signed over the same TBS. */
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    cr_assert_eq(ctca_ca_sign_tbs(f.ca, ctca_view_make(f.tbs, f.tbs_len), &cert, &cert_len),
                 CTCA_OK);
    chain[0] = ctca_view_make(cert, cert_len);
    answer x;
    submit(t, CTCA_CT_SUBMIT_ENTRY_X509, chain, 2, &x);
    check_answer(&x, &log, &entry, CTCA_TT_X509_SCT_V2);
    ctca_transitem sth;
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(x.sth, x.sth_len), &sth), CTCA_OK);
    cr_expect_eq(sth.tree_size, 2, "two distinct entries");
    ctca_transitem_cleanup(&sth);

    /* get-sth serves the same tree. */
    char *body = NULL;
    cr_assert_eq(th_run(&body, "curl -sf '%sct/v2/get-sth'", t->url), 0);
    cJSON *j = cJSON_Parse(body);
    const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "sth"));
    cr_assert_not_null(b64, "%s", body);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    cr_assert_eq(ctca_base64_decode(b64, strlen(b64), &raw, &raw_len), CTCA_OK);
    cr_assert_eq(ctca_transitem_parse(ctca_view_make(raw, raw_len), &sth), CTCA_OK);
    cr_expect_eq(sth.tree_size, 2);
    cr_expect_eq(ctca_sth_v2_verify(&sth, &log), CTCA_OK);
    ctca_transitem_cleanup(&sth);
    free(raw);
    cJSON_Delete(j);
    free(body);

    free(cert);
    free_answer(&a);
    free_answer(&x);
    ctca_log_key_free(key);
    free_fixture(&f);
}

Test(testlog_v2, faults_act_on_v2_scts)
{
    fixture f;
    make_fixture(&f, "a");
    th_testlog *bad_sig = start("badsig", f.roots, "--ct-version 2 --bad-signature");
    th_testlog *wrong_id = start("wrongid", f.roots, "--ct-version 2 --wrong-log-id");
    ctca_entry_v2 entry = {.tbs = ctca_view_make(f.tbs, f.tbs_len)};
    memcpy(entry.issuer_key_hash, ctca_ca_get0_issuer_key_hash(f.ca), CTCA_HASH_LEN);
    ctca_view chain[2] = {ctca_view_make(f.cms, f.cms_len), ctca_ca_get0_cert(f.ca)};
    th_testlog *which[2] = {bad_sig, wrong_id};
    ctca_err want[2] = {CTCA_ERR_SIG_INVALID, CTCA_ERR_SCT_LOG_ID_MISMATCH};
    for (int i = 0; i < 2; i++) {
        /* The log's own ID, from its extended log-list entry. */
        char *out = NULL, *bin = th_bin("ctca-testlog");
        cr_assert_eq(th_run(&out, "'%s' --print-log-entry --ct-version 2 --listen 127.0.0.1:1 "
                                  "--key '%s'",
                            bin, which[i]->key),
                     0, "%s", out);
        cJSON *j = cJSON_Parse(out);
        ctca_log_key *key = load_key(which[i]);
        ctca_log_v2 log = {.key = key};
        cr_assert_eq(ctca_log_id_v2_from_string(
                         cJSON_GetStringValue(cJSON_GetObjectItem(j, "log_id_oid")), &log.log_id),
                     CTCA_OK, "%s", out);
        answer a;
        submit(which[i], CTCA_CT_SUBMIT_ENTRY_PRECERT, chain, 2, &a);
        cr_assert_eq(a.err, CTCA_OK, "%s", a.detail);
        ctca_transitem sct;
        cr_assert_eq(ctca_transitem_parse(ctca_view_make(a.sct, a.sct_len), &sct), CTCA_OK);
        cr_expect_eq(ctca_sct_v2_verify(&sct, &log, &entry, (uint64_t)ctca_now_ms() + 5000),
                     want[i], "%s", which[i]->name);
        ctca_transitem_cleanup(&sct);
        free_answer(&a);
        ctca_log_key_free(key);
        cJSON_Delete(j);
        free(out);
        free(bin);
    }
    free_fixture(&f);
}

/* ---- raw HTTP: every RFC 9162 error type ------------------------------------------ */

/* POSTs body to t's submit-entry; returns the HTTP status, *resp the body. */
static int post(const th_testlog *t, const char *body, char **resp)
{
    char *path = tca_path(fx.dir, "req.json"), *out = NULL;
    th_write_file(path, body, strlen(body));
    cr_assert_eq(th_run(&out,
                        "curl -s -o '%s/resp.json' -w '%%{http_code}' "
                        "-H 'Content-Type: application/json' --data-binary @'%s' "
                        "'%sct/v2/submit-entry'",
                        fx.dir, path, t->url),
                 0);
    int status = atoi(out);
    free(out);
    free(path);
    char *rp = tca_path(fx.dir, "resp.json");
    size_t len = 0;
    *resp = (char *)th_read_file(rp, &len);
    free(rp);
    return status;
}

static char *b64_of(ctca_view v)
{
    char *s = NULL;
    cr_assert_eq(ctca_base64_encode(v.data, v.len, &s), CTCA_OK);
    return s;
}

static void expect_problem(const th_testlog *t, const char *body, int status, const char *type)
{
    char *resp = NULL;
    int got = post(t, body, &resp);
    cr_expect_eq(got, status, "%s -> %d %s", type, got, resp);
    char want[128];
    snprintf(want, sizeof want, "\"type\":\"urn:ietf:params:trans:error:%s\"", type);
    cr_expect_not_null(strstr(resp, want), "%s: %s", type, resp);
    cr_expect_not_null(strstr(resp, "\"detail\":"), "%s: %s", type, resp);
    free(resp);
}

Test(testlog_v2, every_rfc9162_error_type_with_its_status)
{
    fixture f, other;
    make_fixture(&f, "a");
    make_fixture(&other, "b");
    /* The log accepts both CAs as roots. */
    char both[600];
    snprintf(both, sizeof both, "%s/both.pem", fx.dir);
    cr_assert_eq(th_run(NULL, "cat '%s' '%s' > '%s'", f.roots, other.roots, both), 0);
    th_testlog *t = start("v2", both, "--ct-version 2");
    th_testlog *only_other = start("other", other.roots, "--ct-version 2");
    th_testlog *down = start("down", both, "--ct-version 2 --shutdown");

    char *cms = b64_of(ctca_view_make(f.cms, f.cms_len));
    char *ca = b64_of(ctca_ca_get0_cert(f.ca));
    char *other_ca = b64_of(ctca_ca_get0_cert(other.ca));
    char body[16384], *resp = NULL;

    /* Both spellings of the type are accepted; an empty chain is fine when a
     * root certified the submission. */
    const char *types[] = {"2", "257"};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":%s,\"chain\":[\"%s\"]}", cms,
                 types[i], ca);
        cr_expect_eq(post(t, body, &resp), 200, "type %s: %s", types[i], resp);
        cr_expect_not_null(strstr(resp, "\"sct\":"), "%s", resp);
        free(resp);
    }
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[]}", cms);
    cr_expect_eq(post(t, body, &resp), 200, "empty chain: %s", resp);
    free(resp);

    expect_problem(t, "{\"submission\":", 400, "malformed");
    expect_problem(t, "{\"type\":2,\"chain\":[]}", 400, "malformed");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":\"2\",\"chain\":[]}", cms);
    expect_problem(t, body, 400, "malformed");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2}", cms);
    expect_problem(t, body, 400, "malformed");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":3,\"chain\":[\"%s\"]}", cms, ca);
    expect_problem(t, body, 400, "badType");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":258,\"chain\":[\"%s\"]}", cms, ca);
    expect_problem(t, body, 400, "badType");
    /* A certificate where a CMS precertificate is said to be, and the reverse. */
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"%s\"]}", ca, ca);
    expect_problem(t, body, 400, "badSubmission");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":1,\"chain\":[\"%s\"]}", cms, ca);
    expect_problem(t, body, 400, "badSubmission");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"AAAA\"]}", cms);
    expect_problem(t, body, 400, "badCertificate");
    /* chain[0] is an accepted root, but not the one that signed. */
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"%s\"]}", cms,
             other_ca);
    expect_problem(t, body, 400, "badChain");
    /* chain[1] does not certify chain[0]. */
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"%s\",\"%s\"]}", cms,
             ca, other_ca);
    expect_problem(t, body, 400, "badChain");
    /* A log that does not accept the CA. */
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"%s\"]}", cms, ca);
    expect_problem(only_other, body, 400, "unknownAnchor");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[]}", cms);
    expect_problem(only_other, body, 400, "unknownAnchor");
    snprintf(body, sizeof body, "{\"submission\":\"%s\",\"type\":2,\"chain\":[\"%s\"]}", cms, ca);
    expect_problem(down, body, 403, "shutdown");

    /* The ctclient names the error from the problem document. */
    ctca_view chain[2] = {ctca_view_make(f.cms, f.cms_len), ctca_ca_get0_cert(f.ca)};
    answer a;
    submit(only_other, CTCA_CT_SUBMIT_ENTRY_PRECERT, chain, 2, &a);
    cr_expect_eq(a.err, CTCA_ERR_HTTP_STATUS);
    cr_expect_not_null(strstr(a.detail, "HTTP 400: unknownAnchor:"), "%s", a.detail);

    /* RFC 6962 endpoints are not served by a v2 log. */
    char *out = NULL;
    cr_assert_eq(th_run(&out, "curl -s -o /dev/null -w '%%{http_code}' '%sct/v1/get-sth'", t->url),
                 0);
    cr_expect_str_eq(out, "404");
    free(out);

    free(cms);
    free(ca);
    free(other_ca);
    free_fixture(&f);
    free_fixture(&other);
}

Test(testlog_v2, print_log_entry_gives_the_extended_format)
{
    char *key = tca_path(fx.dir, "k.pem"), *out = NULL, *bin = th_bin("ctca-testlog");
    cr_assert_eq(th_run(NULL, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                              "-out '%s'",
                        key),
                 0);
    cr_assert_eq(th_run(&out, "'%s' --print-log-entry --ct-version 2 --listen 127.0.0.1:8000 "
                              "--key '%s'",
                        bin, key),
                 0, "%s", out);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "%s", out);
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "ct_version")), 2.0);
    const char *oid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "log_id_oid"));
    cr_assert_not_null(oid);
    /* The default: 1.3.101.80.N with N the key hash's first four bytes. */
    uint8_t *id = NULL;
    size_t id_len = 0;
    const char *id_b64 = cJSON_GetStringValue(cJSON_GetObjectItem(j, "log_id"));
    cr_assert_eq(ctca_base64_decode(id_b64, strlen(id_b64), &id, &id_len), CTCA_OK);
    char want[64];
    snprintf(want, sizeof want, "1.3.101.80.%u",
             (unsigned)id[0] << 24 | (unsigned)id[1] << 16 | (unsigned)id[2] << 8 | id[3]);
    cr_expect_str_eq(oid, want);
    free(id);
    cJSON_Delete(j);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' --print-log-entry --ct-version 2 --log-id-oid 1.3.101.8193 "
                              "--listen 127.0.0.1:8000 --key '%s'",
                        bin, key),
                 0, "%s", out);
    cr_expect_not_null(strstr(out, "\"log_id_oid\":\t\"1.3.101.8193\""), "%s", out);
    free(out);
    /* A v1 entry has neither field; v2-only options need --ct-version 2. */
    cr_assert_eq(th_run(&out, "'%s' --print-log-entry --listen 127.0.0.1:8000 --key '%s'", bin,
                        key),
                 0);
    cr_expect_null(strstr(out, "ct_version"), "%s", out);
    free(out);
    cr_expect_eq(th_run(NULL, "'%s' --print-log-entry --log-id-oid 1.3.101.8193 --listen "
                              "127.0.0.1:8000 --key '%s'",
                        bin, key),
                 2);
    cr_expect_eq(th_run(NULL, "'%s' --print-log-entry --ct-version 2 --log-id-oid 1.3 --listen "
                              "127.0.0.1:8000 --key '%s'",
                        bin, key),
                 2);
    /* RFC 9162 logs sign with P-256 only. */
    cr_assert_eq(th_run(NULL, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
                              "-out '%s'",
                        key),
                 0);
    cr_expect_eq(th_run(&out, "'%s' --print-log-entry --ct-version 2 --listen 127.0.0.1:8000 "
                              "--key '%s'",
                        bin, key),
                 1);
    cr_expect_not_null(strstr(out, "P-256"), "%s", out);
    free(out);
    free(bin);
    free(key);
}
