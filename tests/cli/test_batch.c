/* End to end: `ctca batch` over directories of CSRs against real ctca-testlog
 * processes: every good CSR issued with SCTs that OpenSSL's own CT code
 * validates, bad ones listed with reasons, a killed run resumed without
 * issuing anything twice, deferred CSRs finished by a later run, and a CSR
 * whose record another running process owns left to it. */
#define _GNU_SOURCE /* memmem */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define N_GOOD 490
#define N_RESUME 600
#define N_BAD 10

static th_ca fx;
static char csrs[320], out[320];

/* Three logs, two of operator A and one of B, each with the flags extra. */
static void start_logs(const char *extra)
{
    const char *specs[] = {"A:a1", "A:a2", "B:b1"}, *flags[] = {extra, extra, extra};
    th_ca_start_logs(&fx, 3, specs, flags);
}

static void setup(void)
{
    th_ca_init(&fx, "");
    snprintf(csrs, sizeof csrs, "%s/csrs", fx.dir);
    snprintf(out, sizeof out, "%s/out", fx.dir);
    cr_assert_eq(mkdir(csrs, 0755), 0);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* ---- CSRs ------------------------------------------------------------------ */

/* Writes csrs/<name> for key with SAN san ("DNS:..."), PEM or DER. */
static void write_csr(const char *name, EVP_PKEY *key, const char *san, bool der)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subj = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    cr_assert(req && subj && exts && ext);
    cr_assert(sk_X509_EXTENSION_push(exts, ext));
    cr_assert(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"batch.example", -1, -1, 0));
    cr_assert(X509_REQ_set_subject_name(req, subj) && X509_REQ_set_pubkey(req, key) &&
              X509_REQ_add_extensions(req, exts) && X509_REQ_sign(req, key, EVP_sha256()));
    char path[512];
    snprintf(path, sizeof path, "%s/%s", csrs, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert(der ? i2d_X509_REQ_fp(f, req) : PEM_write_X509_REQ(f, req));
    fclose(f);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subj);
    X509_REQ_free(req);
}

/* n good CSRs host-NNNNN.csr (every 7th in DER), each for its own P-256 key. */
static void write_good_csrs(size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        char name[64], san[80];
        snprintf(name, sizeof name, "%s%05zu.csr", prefix, i);
        snprintf(san, sizeof san, "DNS:%s%05zu.batch.example", prefix, i);
        EVP_PKEY *key = EVP_EC_gen("P-256");
        cr_assert_not_null(key);
        write_csr(name, key, san, i % 7 == 3);
        EVP_PKEY_free(key);
    }
}

static const char *const bad_names[N_BAD] = {
    "bad-garbage.csr", "bad-truncated.csr", "bad-signature.csr", "bad-rsa1024.csr",
    "bad-p521.csr",    "bad-email-san.csr", "bad-empty.csr",     "bad-certificate.pem",
    "bad-not-a-csr.der", "bad-base64.csr"};

static void write_bad_csrs(void)
{
    EVP_PKEY *k = EVP_RSA_gen(1024);
    cr_assert_not_null(k);
    write_csr(bad_names[3], k, "DNS:rsa.batch.example", false);
    EVP_PKEY_free(k);
    k = EVP_EC_gen("P-521");
    cr_assert_not_null(k);
    write_csr(bad_names[4], k, "DNS:p521.batch.example", false);
    EVP_PKEY_free(k);
    k = EVP_EC_gen("P-256");
    cr_assert_not_null(k);
    write_csr(bad_names[5], k, "email:someone@batch.example", false);
    write_csr("signature.der", k, "DNS:sig.batch.example", true);
    EVP_PKEY_free(k);
    static const uint8_t not_csr[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    char path[512];
    snprintf(path, sizeof path, "%s/%s", csrs, bad_names[8]);
    th_write_file(path, not_csr, sizeof not_csr);
    snprintf(path, sizeof path, "%s/%s", csrs, bad_names[6]);
    th_write_file(path, "", 0);
    const char *b64 = "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n";
    snprintf(path, sizeof path, "%s/%s", csrs, bad_names[9]);
    th_write_file(path, b64, strlen(b64));
    cr_assert_eq(th_run(NULL,
                        "cd '%s' && head -c 300 /dev/urandom > '%s'"
                        " && head -c 200 %s00000.csr > '%s'"
                        " && perl -0777 -pe 'substr($_,-5,1)=chr(ord(substr($_,-5,1))^1)'"
                        " signature.der > '%s' && rm signature.der && cp '%s' '%s'",
                        csrs, bad_names[0], "host-", bad_names[1], bad_names[2], fx.roots,
                        bad_names[7]),
                 0);
}

/* ---- running and reading back --------------------------------------------------- */

static int batch(char **output, const char *extra)
{
    return th_run(output, "'%s' batch --ca '%s' '%s' --out '%s' --log-list '%s' --jobs 2 %s",
                  fx.ctca, fx.ca_dir, csrs, out, fx.log_list, extra);
}

static cJSON *summary(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/summary.json", out);
    size_t len = 0;
    uint8_t *text = th_read_file(path, &len);
    cJSON *j = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    cr_assert(cJSON_IsObject(j), "summary.json is not a JSON object");
    return j;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v), "summary.json: %s is not a number", key);
    return v->valuedouble;
}

static size_t count_outputs(void)
{
    DIR *d = opendir(out);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".pem") == 0;
    }
    closedir(d);
    return n;
}

/* OpenSSL's CT validation (what s_client -ct runs), in process: every SCT of
 * cert must verify against the test logs' keys, and there must be some. */
static void openssl_ct_validate(const char *cert_path, CTLOG_STORE *logstore, X509 *issuer)
{
    FILE *f = fopen(cert_path, "r");
    cr_assert_not_null(f, "%s", cert_path);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(cert, "%s", cert_path);
    STACK_OF(SCT) *scts = X509_get_ext_d2i(cert, NID_ct_precert_scts, NULL, NULL);
    cr_assert_not_null(scts, "%s has no SCT list", cert_path);
    cr_assert_geq(sk_SCT_num(scts), 2);
    CT_POLICY_EVAL_CTX *ctx = CT_POLICY_EVAL_CTX_new();
    cr_assert(CT_POLICY_EVAL_CTX_set1_cert(ctx, cert) && CT_POLICY_EVAL_CTX_set1_issuer(ctx, issuer));
    CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx, logstore);
    CT_POLICY_EVAL_CTX_set_time(ctx, (uint64_t)ctca_now_ms() + 1000);
    cr_assert_eq(SCT_LIST_validate(scts, ctx), 1, "%s: OpenSSL rejects its SCTs", cert_path);
    for (int i = 0; i < sk_SCT_num(scts); i++)
        cr_assert_eq(SCT_get_validation_status(sk_SCT_value(scts, i)), SCT_VALIDATION_STATUS_VALID,
                     "%s: SCT %d", cert_path, i);
    CT_POLICY_EVAL_CTX_free(ctx);
    SCT_LIST_free(scts);
    X509_free(cert);
}

static CTLOG_STORE *test_log_store(void)
{
    char cnf[400];
    snprintf(cnf, sizeof cnf, "%s/ct_log_list.cnf", fx.dir);
    th_ca_ctlog_cnf(&fx, cnf);
    CTLOG_STORE *s = CTLOG_STORE_new();
    cr_assert_eq(CTLOG_STORE_load_file(s, cnf), 1);
    return s;
}

/* Every "cert.issued" event of the store, and how many distinct serials. */
static void issued_events(size_t *events, size_t *journaled)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    ctca_store *s = NULL;
    cr_assert_eq(ctca_store_open(path, &s, NULL), CTCA_OK);
    *events = *journaled = 0;
    int64_t after = 0;
    for (;;) {
        ctca_store_audit_list l = {0};
        cr_assert_eq(ctca_store_audit_read(s, after, CTCA_STORE_AUDIT_PAGE_MAX, &l), CTCA_OK);
        for (size_t i = 0; i < l.count; i++) {
            *events += strcmp(l.items[i].event, "cert.issued") == 0;
            *journaled += strcmp(l.items[i].event, "cert.journaled") == 0;
        }
        size_t n = l.count;
        if (n > 0)
            after = l.items[n - 1].seq;
        ctca_store_audit_list_cleanup(&l);
        if (n == 0)
            break;
    }
    cr_assert_eq(ctca_store_integrity_check(s), CTCA_OK);
    ctca_store_close(s);
}

/* ---- tests ------------------------------------------------------------------- */

Test(batch, good_csrs_issued_with_valid_scts_bad_ones_listed, .init = setup, .fini = teardown,
     .timeout = 120)
{
    start_logs("");
    write_good_csrs(N_GOOD, "host-");
    write_bad_csrs();
    char *o = NULL;
    cr_assert_eq(batch(&o, ""), 1, "some CSRs failed, so exit 1: %s", o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "total"), N_GOOD + N_BAD);
    cr_assert_eq(num(j, "issued"), N_GOOD, "%s", o);
    cr_assert_eq(num(j, "failed"), N_BAD, "%s", o);
    cr_assert_eq(num(j, "deferred"), 0);
    cr_assert_gt(num(j, "rate_per_s"), 0);
    free(o);
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(j, "failed_csrs");
    cr_assert_eq(cJSON_GetArraySize(failed), N_BAD);
    for (size_t i = 0; i < N_BAD; i++) {
        bool found = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, failed)
        {
            const char *csr = cJSON_GetStringValue(cJSON_GetObjectItem(e, "csr"));
            const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason"));
            const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(e, "error"));
            if (csr && strcmp(csr, bad_names[i]) == 0) {
                found = true;
                cr_assert(reason && strlen(reason) > 5, "%s: no reason", csr);
                cr_assert(error && strncmp(error, "CTCA_ERR_", 9) == 0, "%s", csr);
            }
        }
        cr_assert(found, "%s is not listed as failed", bad_names[i]);
    }
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), N_GOOD, "one PEM per good CSR");

    /* OpenSSL's CT code on every certificate, ctca verify on a sample. */
    CTLOG_STORE *ls = test_log_store();
    FILE *f = fopen(fx.roots, "r");
    X509 *issuer = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    for (size_t i = 0; i < N_GOOD; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/host-%05zu.pem", out, i);
        openssl_ct_validate(path, ls, issuer);
        if (i % 60 == 0)
            cr_assert_eq(th_run(&o,
                                "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'"
                                " --log-key '%s'",
                                fx.ctca, path, fx.roots, fx.logs[0].pub, fx.logs[1].pub,
                                fx.logs[2].pub),
                         0, "ctca verify %s: %s", path, o);
        if (i % 60 == 0)
            free(o);
    }
    X509_free(issuer);
    CTLOG_STORE_free(ls);
    size_t issued = 0, journaled = 0;
    issued_events(&issued, &journaled);
    cr_assert_eq(issued, N_GOOD);
    cr_assert_eq(journaled, N_GOOD, "nothing journaled for a refused CSR");
}

/* Waits until at least min outputs exist, then kills the batch with SIGKILL. */
static void kill_midway(pid_t pid, size_t min)
{
    for (int i = 0; i < 1200 && count_outputs() < min; i++)
        usleep(25000);
    kill(pid, SIGKILL);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st), "the batch finished before it could be killed");
}

Test(batch, killed_halfway_then_rerun_completes_without_reissuing, .init = setup,
     .fini = teardown, .timeout = 180)
{
    /* Slow logs keep many issuances in flight at once, so the kill lands in
     * the middle of every stage. */
    start_logs("--latency-ms 800");
    write_good_csrs(N_RESUME, "host-");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(fx.ctca, "ctca", "batch", "--ca", fx.ca_dir, csrs, "--out", out, "--log-list",
              fx.log_list, "--jobs", "2", (char *)NULL);
        _exit(127);
    }
    kill_midway(pid, N_RESUME / 4);
    size_t before = count_outputs();
    cr_assert_lt(before, N_RESUME);
    /* What the first run wrote, to compare after the second. */
    uint8_t **pems = calloc(N_RESUME, sizeof *pems);
    size_t *lens = calloc(N_RESUME, sizeof *lens);
    cr_assert(pems && lens);
    for (size_t i = 0; i < N_RESUME; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/host-%05zu.pem", out, i);
        if (access(path, F_OK) == 0)
            pems[i] = th_read_file(path, &lens[i]);
    }

    char *o = NULL;
    cr_assert_eq(batch(&o, ""), 0, "%s", o);
    free(o);
    cJSON *j = summary();
    double issued = num(j, "issued"), already = num(j, "already_issued");
    cr_assert_eq(issued + already, N_RESUME);
    cr_assert_geq(already, before, "every certificate written before the kill is skipped");
    cr_assert_eq(num(j, "failed"), 0);
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), N_RESUME);
    for (size_t i = 0; i < N_RESUME; i++) {
        if (pems[i] == NULL)
            continue;
        char path[400];
        snprintf(path, sizeof path, "%s/host-%05zu.pem", out, i);
        size_t len = 0;
        uint8_t *now = th_read_file(path, &len);
        cr_assert(len == lens[i] && memcmp(now, pems[i], len) == 0, "%s was issued again", path);
        free(now);
        free(pems[i]);
    }
    free(pems);
    free(lens);
    size_t events = 0, journaled = 0;
    issued_events(&events, &journaled);
    cr_assert_eq(events, N_RESUME, "one issued record per CSR, over both runs");
    cr_assert_geq(journaled, N_RESUME);
}

/* The state of the store record of every deferred CSR in summary.json. */
static void assert_deferred_state(const cJSON *j, bool queued, ctca_store_state want)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    ctca_store *s = NULL;
    cr_assert_eq(ctca_store_open(path, &s, NULL), CTCA_OK);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "deferred_csrs"))
    {
        const char *serial = cJSON_GetStringValue(cJSON_GetObjectItem(e, "serial"));
        cr_assert(serial && strlen(serial) >= 16, "a deferred CSR names its serial");
        cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(e, "queued")), queued, "%s", serial);
        ctca_store_cert rec = {0};
        cr_assert_eq(ctca_store_get_cert(s, serial, &rec), CTCA_OK);
        cr_assert_eq(rec.state, want, "%s is %s", serial, ctca_store_state_name(rec.state));
        ctca_store_cert_cleanup(&rec);
    }
    ctca_store_close(s);
}

Test(batch, deferred_to_the_queue_when_logs_fail_then_finished_by_a_rerun, .init = setup,
     .fini = teardown, .timeout = 120)
{
    start_logs("--fail-rate 1");
    write_good_csrs(5, "host-");
    char *o = NULL;
    cr_assert_eq(batch(&o, ""), 75, "deferred CSRs exit 75: %s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "deferred"), 5);
    cr_assert_eq(num(j, "issued"), 0);
    assert_deferred_state(j, true, CTCA_STORE_DEFERRED); /* ct.fallback "defer" */
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), 0);

    th_ca_stop_logs(&fx);
    start_logs("");
    cr_assert_eq(batch(&o, ""), 0, "%s", o);
    free(o);
    j = summary();
    cr_assert_eq(num(j, "issued"), 5);
    cJSON_Delete(j);
    size_t events = 0, journaled = 0;
    issued_events(&events, &journaled);
    cr_assert_eq(events, 5);
    cr_assert_eq(journaled, 5, "the deferred precertificates were resumed, not re-journaled");
}

Test(batch, fallback_fail_marks_failed_and_unembedded_issues_without_scts, .init = setup,
     .fini = teardown, .timeout = 120)
{
    start_logs("--fail-rate 1");
    write_good_csrs(3, "host-");
    char *o = NULL;
    cr_assert_eq(batch(&o, "--fallback fail"), 75, "%s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "deferred"), 3);
    assert_deferred_state(j, false, CTCA_STORE_FAILED);
    cJSON_Delete(j);

    cr_assert_eq(batch(&o, "--fallback unembedded"), 0, "%s", o);
    free(o);
    j = summary();
    cr_assert_eq(num(j, "issued"), 3);
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), 3);
    cr_assert_eq(th_run(&o, "openssl x509 -in '%s/host-00001.pem' -noout -text", out), 0);
    cr_assert_null(strstr(o, "CT Precertificate SCTs"), "issued without SCTs: %s", o);
    free(o);
    cr_assert_eq(th_run(&o, "'%s' batch --ca '%s' '%s' --out '%s' --fallback sometimes", fx.ctca,
                        fx.ca_dir, csrs, out),
                 2, "%s", o);
    free(o);
}

Test(batch, usage_and_name_collisions, .init = setup, .fini = teardown, .timeout = 60)
{
    start_logs("");
    write_good_csrs(2, "host-");
    EVP_PKEY *k = EVP_EC_gen("P-256");
    write_csr("twin.csr", k, "DNS:twin.batch.example", false);
    write_csr("twin.der", k, "DNS:twin2.batch.example", true);
    EVP_PKEY_free(k);
    char *o = NULL;
    cr_assert_eq(batch(&o, ""), 1, "%s", o);
    cr_assert_not_null(strstr(o, "twin.pem"), "the collision is named: %s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "issued"), 2);
    cr_assert_eq(num(j, "failed"), 2);
    cJSON_Delete(j);

    cr_assert_eq(th_run(&o, "'%s' batch --ca '%s' '%s' --out '%s'", fx.ctca, fx.ca_dir, csrs, csrs),
                 2, "output = input directory: %s", o);
    free(o);
    cr_assert_eq(th_run(&o, "'%s' batch --ca '%s' '%s'", fx.ctca, fx.ca_dir, csrs), 2, "%s", o);
    free(o);
    cr_assert_eq(
        th_run(&o, "'%s' batch --ca '%s' '%s' --out '%s' --jobs 0", fx.ctca, fx.ca_dir, csrs, out),
        2, "%s", o);
    free(o);
    cr_assert_eq(th_run(&o, "'%s' batch --ca '%s' '%s/nope' --out '%s' --log-list '%s'", fx.ctca,
                        fx.ca_dir, fx.dir, out, fx.log_list),
                 2, "%s", o);
    free(o);
}

/* ---- records another process owns --------------------------------------------- */

/* How many audit entries named event have needle in their detail. */
static size_t audit_count(const char *event, const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    ctca_store *s = NULL;
    cr_assert_eq(ctca_store_open(path, &s, NULL), CTCA_OK);
    size_t n = 0;
    for (int64_t after = 0;;) {
        ctca_store_audit_list l = {0};
        cr_assert_eq(ctca_store_audit_read(s, after, CTCA_STORE_AUDIT_PAGE_MAX, &l), CTCA_OK);
        for (size_t i = 0; i < l.count; i++)
            n += strcmp(l.items[i].event, event) == 0 && strstr(l.items[i].detail, needle) != NULL;
        size_t got = l.count;
        if (got > 0)
            after = l.items[got - 1].seq;
        ctca_store_audit_list_cleanup(&l);
        if (got == 0)
            break;
    }
    ctca_store_close(s);
    return n;
}

/* `ctca issue` of csrs/<name>, paused (CTCA_TEST_PAUSE_AT) at step ("journaled",
 * "precert"); returns its pid, a live owner of the record. */
static pid_t issue_paused_at(const char *step, const char *name)
{
    TH_NEED_FAILPOINTS();
    char log[400], cmd[2000], want[64];
    snprintf(log, sizeof log, "%s/issue-paused.out", fx.dir);
    snprintf(want, sizeof want, "paused at %s", step);
    snprintf(cmd, sizeof cmd,
             "CTCA_TEST_PAUSE_AT=%s exec '%s' issue --ca '%s' --csr '%s/%s' --log-list '%s'"
             " --out '%s/paused.pem' >'%s' 2>&1",
             step, fx.ctca, fx.ca_dir, csrs, name, fx.log_list, fx.dir, log);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        size_t len = 0;
        char *text = access(log, F_OK) == 0 ? (char *)th_read_file(log, &len) : NULL;
        bool paused = text != NULL && memmem(text, len, want, strlen(want)) != NULL;
        free(text);
        if (paused)
            return pid;
        cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "ctca issue ended before pausing");
        usleep(10000);
    }
    cr_assert_fail("ctca issue never paused at %s", step);
    return -1;
}

/* The state of the one record of the store. */
static ctca_store_state only_record_state(char serial[CTCA_STORE_SERIAL_MAX + 1])
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    ctca_store *s = NULL;
    cr_assert_eq(ctca_store_open(path, &s, NULL), CTCA_OK);
    size_t found = 0;
    ctca_store_state st = CTCA_STORE_JOURNALED;
    for (int k = CTCA_STORE_JOURNALED; k <= CTCA_STORE_DEFERRED; k++) {
        ctca_store_serial_list l;
        cr_assert_eq(ctca_store_list_serials(s, (ctca_store_state)k, INT64_MAX, NULL, 10, &l),
                     CTCA_OK);
        if (l.count > 0) {
            st = (ctca_store_state)k;
            snprintf(serial, CTCA_STORE_SERIAL_MAX + 1, "%s", l.serials[0]);
        }
        found += l.count;
        ctca_store_serial_list_cleanup(&l);
    }
    cr_assert_eq(found, 1, "one record");
    ctca_store_close(s);
    return st;
}

/* A CSR whose precertificate a live `ctca issue` holds is not resumed by a
 * batch: it is reported in progress, naming the issuer, and left alone. Once
 * the issuer is killed -9, a re-run claims the record (the one cert.claimed,
 * naming the dead issuer), resumes and issues it, and a queue worker told to
 * take over at once finds nothing to take over. */
Test(batch, a_record_a_live_process_owns_is_in_progress_and_resumed_once_it_is_killed,
     .init = setup, .fini = teardown, .timeout = 120)
{
    start_logs("");
    write_good_csrs(1, "host-");
    pid_t issuer = issue_paused_at("precert", "host-00000.csr");
    char *o = NULL, serial[CTCA_STORE_SERIAL_MAX + 1], owner[80];
    snprintf(owner, sizeof owner, "is being issued by pid %d on ", (int)issuer);

    cr_assert_eq(batch(&o, ""), 75, "in progress exits as deferred: %s", o);
    cr_assert_not_null(strstr(o, "host-00000.csr: in progress: serial "), "%s", o);
    cr_assert_not_null(strstr(o, owner), "%s", o);
    cr_assert_not_null(strstr(o, "1 in progress, 0 failed"), "%s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "in_progress"), 1);
    cr_assert_eq(num(j, "issued") + num(j, "deferred") + num(j, "failed"), 0);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "in_progress_csrs"), 0);
    cr_assert_not_null(e);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "csr")), "host-00000.csr");
    cr_assert_not_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason")), owner));
    cr_assert_eq(only_record_state(serial), CTCA_STORE_PRECERT, "the batch left it alone");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "serial")), serial);
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), 0);
    cr_assert_eq(audit_count("cert.claimed", ""), 0, "nothing claimed from a live owner");

    kill(issuer, SIGKILL);
    int st = 0;
    cr_assert_eq(waitpid(issuer, &st, 0), issuer);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    cr_assert_eq(batch(&o, ""), 0, "%s", o);
    free(o);
    j = summary();
    cr_assert_eq(num(j, "issued"), 1);
    cr_assert_eq(num(j, "in_progress"), 0);
    cJSON_Delete(j);
    cr_assert_eq(count_outputs(), 1);
    cr_assert_eq(only_record_state(serial), CTCA_STORE_ISSUED, "the same serial, resumed");
    char host[256] = "", was[400];
    cr_assert_eq(gethostname(host, sizeof host), 0);
    snprintf(was, sizeof was, "; was: host=%s pid=%d start=", host, (int)issuer);
    cr_assert_eq(audit_count("cert.claimed", "state=precert owner: host="), 1);
    cr_assert_eq(audit_count("cert.claimed", was), 1, "the claim names the dead issuer");

    th_ca_config_set(&fx, "queue", "recover_after_ms", "0");
    cr_assert_eq(th_run(&o, "'%s' queue run --ca '%s' --once --log-list '%s'", fx.ctca, fx.ca_dir,
                        fx.log_list),
                 0, "%s", o);
    cr_assert_not_null(strstr(o, " 0 taken over;"), "%s", o);
    free(o);
    cr_assert_eq(audit_count("cert.claimed", ""), 1, "only the batch's claim");
    size_t issued = 0, journaled = 0;
    issued_events(&issued, &journaled);
    cr_assert_eq(issued, 1);
    cr_assert_eq(journaled, 1);
}

/* A live `ctca issue` that journaled a CSR's TBS but has not signed it yet is
 * about to: a batch re-run does not start that CSR afresh (which would issue
 * it twice) but reports it in progress; once the issuer is killed -9, a
 * re-run issues it under a new serial, the old one left journaled, unsigned. */
Test(batch, a_journaled_record_of_a_live_issuer_is_in_progress_not_issued_twice,
     .init = setup, .fini = teardown, .timeout = 120)
{
    start_logs("");
    write_good_csrs(1, "host-");
    pid_t issuer = issue_paused_at("journaled", "host-00000.csr");
    char *o = NULL, serial[CTCA_STORE_SERIAL_MAX + 1], owner[80];
    snprintf(owner, sizeof owner, "is being issued by pid %d on ", (int)issuer);
    cr_assert_eq(batch(&o, ""), 75, "%s", o);
    cr_assert_not_null(strstr(o, owner), "%s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "in_progress"), 1);
    cr_assert_eq(num(j, "issued"), 0);
    cJSON_Delete(j);
    cr_assert_eq(only_record_state(serial), CTCA_STORE_JOURNALED, "no second record");
    cr_assert_eq(count_outputs(), 0);

    kill(issuer, SIGKILL);
    int st = 0;
    cr_assert_eq(waitpid(issuer, &st, 0), issuer);
    cr_assert_eq(batch(&o, ""), 0, "%s", o);
    free(o);
    j = summary();
    cr_assert_eq(num(j, "issued"), 1);
    cJSON_Delete(j);
    size_t issued = 0, journaled = 0;
    issued_events(&issued, &journaled);
    cr_assert_eq(issued, 1);
    cr_assert_eq(journaled, 2, "afresh: the dead issuer's serial stays journaled");
}

#define N_RACE 300

/* Starts `ctca batch` over csrs into out_dir, its output into log. */
static pid_t batch_start(const char *out_dir, const char *log)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (freopen(log, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(126);
        execl(fx.ctca, "ctca", "batch", "--ca", fx.ca_dir, csrs, "--out", out_dir, "--log-list",
              fx.log_list, "--jobs", "2", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int batch_wait(pid_t pid)
{
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "ctca batch died");
    return WEXITSTATUS(st);
}

/* Two runs over one directory, the second started offset_us after the
 * first: each CSR is journaled and issued exactly once over both (the
 * reliability issue's H1: 217 of 300 were issued twice when started
 * together). What one run leaves to the other is in progress (exit 75), and a
 * third run afterwards issues nothing new. */
static void race(useconds_t offset_us)
{
    start_logs("--latency-ms 100");
    write_good_csrs(N_RACE, "host-");
    char out2[400], log1[400], log2[400];
    snprintf(out2, sizeof out2, "%s/out2", fx.dir);
    snprintf(log1, sizeof log1, "%s/batch1.log", fx.dir);
    snprintf(log2, sizeof log2, "%s/batch2.log", fx.dir);
    pid_t a = batch_start(out, log1);
    if (offset_us)
        usleep(offset_us);
    pid_t b = batch_start(out2, log2);
    int ra = batch_wait(a), rb = batch_wait(b);
    cr_assert(ra == 0 || ra == 75, "first run exit %d", ra);
    cr_assert(rb == 0 || rb == 75, "second run exit %d", rb);

    size_t events = 0, journaled = 0;
    issued_events(&events, &journaled);
    cr_assert_eq(events, N_RACE, "each CSR issued once over both runs, not %zu times", events);
    cr_assert_eq(journaled, N_RACE, "each CSR journaled once, not %zu times", journaled);

    char *o = NULL;
    cr_assert_eq(batch(&o, ""), 0, "%s", o);
    free(o);
    cJSON *j = summary();
    cr_assert_eq(num(j, "already_issued"), N_RACE);
    cr_assert_eq(num(j, "issued"), 0);
    cJSON_Delete(j);
    issued_events(&events, &journaled);
    cr_assert_eq(events, N_RACE);
}

Test(batch, two_runs_started_together_issue_each_csr_once, .init = setup, .fini = teardown,
     .timeout = 180)
{
    race(0);
}

Test(batch, a_run_started_later_issues_nothing_twice, .init = setup, .fini = teardown,
     .timeout = 180)
{
    race(200000);
}
