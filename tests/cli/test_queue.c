/* End to end: the fallback modes of `ctca issue`, `ctca get`, `ctca queue
 * list|run` and `ctca backfill` against real ctca-testlog processes: deferred
 * issuances completed later, certificates issued without embedded SCTs and
 * logged afterwards, back-fill, two workers sharing the queue, every log fault
 * handled with its reason recorded, and kill -9 at each step. */
#define _GNU_SOURCE /* memmem */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctca/sct.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/engine_helpers.h"
#include "tests/helpers.h"

static th_ca fx;

static void init_ca(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
}

/* Two logs of two operators (what the default policy needs), with extra flags. */
static void start_logs(const char *extra0, const char *extra1)
{
    const char *specs[] = {"A:a1", "B:b1"}, *extra[] = {extra0, extra1};
    th_ca_start_logs(&fx, 2, specs, extra);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* ctca.json names the log list, for the commands that take none. */
static void config_log_list(void)
{
    char value[400];
    snprintf(value, sizeof value, "\"%s\"", fx.log_list);
    th_ca_config_set(&fx, "", "log_list", value);
}

/* The log's counters from GET /testlog/stats. */
static void log_stats(const th_testlog *t, long *submissions, long *new_entries, long *dups)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "curl -sS '%stestlog/stats'", t->url), 0, "%s", out);
    cr_assert_eq(sscanf(out, "{\"submissions\":%ld,\"new_entries\":%ld,\"duplicates\":%ld}",
                        submissions, new_entries, dups),
                 3, "%s", out);
    free(out);
}

/* `ctca queue run --once` with the wall clock pinned at at_ms: in this
 * process (th_queue_run_at), so that time passes without a sleep. Returns
 * the exit status the command gives for that outcome (cli/cmd_queue.c). */
static int queue_run_at(int64_t at_ms, char **output)
{
    ctca_queue_stats st;
    ctca_err rc = th_queue_run_at(fx.ca_dir, at_ms, &st, output);
    if (rc != CTCA_OK)
        return ctca_err_category_of(rc) == CTCA_CAT_INPUT ? 2 : 1;
    if (st.parked > 0 || st.failed > 0)
        return 1;
    return st.pending > 0 ? 75 : 0;
}

static int issue(char **output, const char *extra)
{
    return th_run(output, "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem' %s",
                  fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir, extra);
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
                        fx.ctca, fx.ca_dir, serial, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(NULL, "cmp '%s/site.pem' '%s/got.pem'", fx.dir, fx.dir), 0,
                 "get writes what issue wrote");
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/got.pem'", fx.roots, fx.dir), 0,
                 "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "grep -c 'BEGIN CERTIFICATE' '%s/chain.pem'", fx.dir), 0);
    cr_assert_eq(atoi(out), 2, "certificate and CA: %s", out);
    free(out);

    /* Upper case and a leading 0x are the same serial; the precertificate
     * carries the poison. */
    char upper[64];
    for (size_t i = 0; i <= strlen(serial); i++)
        upper[i] = (char)(serial[i] >= 'a' && serial[i] <= 'f' ? serial[i] - 32 : serial[i]);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' 0x%s --precert --out '%s/pre.pem'", fx.ctca,
                        fx.ca_dir, upper, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s/pre.pem' -noout -text", fx.dir), 0);
    cr_assert_not_null(strstr(out, "CT Precertificate Poison"), "%s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --scts-out '%s/scts.bin'", fx.ctca, fx.ca_dir,
                        serial, fx.dir),
                 1, "embedded SCTs only: nothing for TLS delivery: %s", out);
    cr_assert_not_null(strstr(out, "no x509_entry SCTs"), "%s", out);
    free(out);
    cr_assert_eq(
        th_run(&out, "'%s' get --ca '%s' 7fffffff --out '%s/x.pem'", fx.ctca, fx.ca_dir, fx.dir), 2,
        "%s", out);
    cr_assert_not_null(strstr(out, "no certificate with serial 7fffffff"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' zz --out '%s/x.pem'", fx.ctca, fx.ca_dir, fx.dir),
                 2);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s'", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "the queue is empty"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s' --json", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "{\"items\":[],\"breakers\":[]}"), "%s", out);
    free(out);
}

/* Logs that exist in the list but are not running: every submission is
 * refused at once. */
static void setup_logs_down(void)
{
    init_ca();
    start_logs("", "");
    for (size_t i = 0; i < fx.n_logs; i++)
        th_testlog_stop(&fx.logs[i]);
    config_log_list();
}

static void verify_final(const char *cert)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'",
                        fx.ctca, cert, fx.roots, fx.logs[0].pub, fx.logs[1].pub),
                 0, "ctca verify: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s'", fx.roots, cert), 0,
                 "openssl verify: %s", out);
    free(out);
}

Test(queue, deferred_when_logs_are_down_then_completed_by_queue_run, .init = setup_logs_down,
     .fini = teardown, .timeout = 120)
{
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, ""), 75, "defer is the default: %s", out);
    serial_after(out, "deferred: serial ", serial);
    cr_assert_not_null(strstr(out, "ctca get --ca"), "says how to fetch it: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/got.pem'", fx.ctca, fx.ca_dir,
                        serial, fx.dir),
                 75, "not issued yet: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s'", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_eq(strstr(strstr(out, serial) + 1, serial) != NULL, true,
                 "an item per log: %s", out);
    cr_assert_not_null(strstr(out, "precert pending"), "%s", out);
    free(out);

    /* Still down: the run fails the attempts and keeps the items. */
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75, "%s",
                 out);
    cr_assert_not_null(strstr(out, "will retry"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s' --json", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "\"attempts\":1"), "%s", out);
    cr_assert_not_null(strstr(out, "Couldn't connect") ? out : strstr(out, "onnect"), "%s", out);
    free(out);

    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    /* Due again only after the backoff (1 s base, with jitter): 2 s on. */
    cr_assert_eq(queue_run_at(ctca_now_ms() + 2000, &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "issued with 2 embedded SCTs"), "%s", out);
    free(out);

    char cert[400];
    snprintf(cert, sizeof cert, "%s/got.pem", fx.dir);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s'", fx.ctca, fx.ca_dir, serial, cert),
                 0, "%s", out);
    free(out);
    verify_final(cert);
    th_ca_openssl_ct_check(&fx, cert, NULL);
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s'", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_null(strstr(out, "pending"), "%s", out);
    cr_assert_not_null(strstr(out, "done"), "%s", out);
    free(out);
}

/* The hint printed after a deferral is a command that works as printed:
 * with --log-list when the issue had one (the CA here has none configured). */
Test(queue, the_deferral_hint_runs_as_printed, .init = init_ca, .fini = teardown, .timeout = 60)
{
    start_logs("", "");
    for (size_t i = 0; i < fx.n_logs; i++)
        th_testlog_stop(&fx.logs[i]);
    char *out = NULL;
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    const char *at = strstr(out, "'ctca queue run "), *end = at ? strstr(at + 1, "'") : NULL;
    cr_assert(at && end, "no hint: %s", out);
    char hint[1200], cmd[1600];
    snprintf(hint, sizeof hint, "%.*s", (int)(end - at - 5), at + 5); /* after "'ctca" */
    cr_assert_not_null(strstr(hint, "--log-list"), "%s", hint);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s'%s", fx.ctca, hint);
    cr_assert_eq(th_run(&out, "%s", cmd), 75, "logs still down, items kept: %s: %s", cmd, out);
    cr_assert_null(strstr(out, "no log list"), "%s", out);
    cr_assert_not_null(strstr(out, "will retry"), "%s", out);
    free(out);
}

/* A worker whose list lacks a record's log names the list the record was
 * issued with (journaled with it), so the operator knows what to pass. */
Test(queue, a_log_missing_from_the_workers_list_names_the_records_list,
     .init = setup_logs_down, .fini = teardown, .timeout = 60)
{
    char *out = NULL, other[400];
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    free(out);
    snprintf(other, sizeof other, "%s/other_list.json", fx.dir);
    th_log_list_write(other, fx.logs, 1, ctca_now_ms());
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once --log-list '%s'", fx.ctca,
                        fx.ca_dir, other),
                 1, "an item was parked: %s", out);
    char want[600];
    snprintf(want, sizeof want, "was issued with %s: pass it with --log-list", fx.log_list);
    cr_assert_not_null(strstr(out, want), "%s", out);
    cr_assert_not_null(strstr(out, "(parked)"), "%s", out);
    free(out);
}

/* Runs cmd in the background; returns its pid. */
static pid_t spawn(const char *cmd)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_status(pid_t pid)
{
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(queue, two_workers_over_200_items_submit_each_item_once, .init = setup_logs_down,
     .fini = teardown, .timeout = 300)
{
    th_ca_config_set(&fx, "queue", "batch", "16");
    char *out = NULL;
    for (int i = 0; i < 100; i++) {
        int rc = issue(&out, "");
        cr_assert_eq(rc, 75, "issue %d: %s", i, out);
        free(out);
    }
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    char cmd[2][1200];
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd[k], sizeof cmd[k],
                 "exec '%s' queue run --ca '%s' --once --quiet"
                 " --owner worker-%d >'%s/worker%d.out' 2>&1",
                 fx.ctca, fx.ca_dir, k, fx.dir, k);
        pid[k] = spawn(cmd[k]);
    }
    for (int k = 0; k < 2; k++) {
        int st = wait_status(pid[k]);
        char path[400];
        snprintf(path, sizeof path, "%s/worker%d.out", fx.dir, k);
        size_t len = 0;
        char *text = (char *)th_read_file(path, &len);
        /* 75: the other worker still held items or issuances when this one
         * ended; the run below shows nothing is left once both have. */
        cr_assert(st == 0 || st == 75, "worker %d: %.*s", k, (int)len, text);
        free(text);
    }
    char *left = NULL;
    cr_assert_eq(th_run(&left, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0,
                 "nothing is left: %s", left);
    cr_assert_not_null(strstr(left, "0 items pending, 0 leased by other workers, 0 issuances "
                                    "unfinished"),
                       "%s", left);
    free(left);
    for (size_t i = 0; i < fx.n_logs; i++) {
        long subs = 0, fresh = 0, dups = 0;
        log_stats(&fx.logs[i], &subs, &fresh, &dups);
        cr_assert_eq(subs, 100, "log %s got %ld submissions", fx.logs[i].name, subs);
        cr_assert_eq(fresh, 100);
        cr_assert_eq(dups, 0, "log %s saw %ld resubmissions", fx.logs[i].name, dups);
    }
    ctca_store *store = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    size_t counts[4];
    cr_assert_eq(ctca_store_queue_count(store, NULL, -1, counts), CTCA_OK);
    cr_assert_eq(counts[CTCA_QUEUE_DONE], 200, "done %zu pending %zu leased %zu parked %zu",
                 counts[0 + 2], counts[0], counts[1], counts[3]);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_ISSUED, INT64_MAX, NULL, 1000, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 100, "every deferred issuance completed");
    ctca_store_serial_list_cleanup(&l);
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_store_close(store);
}

/* Every x509_entry SCT stored for serial verifies over its final certificate
 * with the key of the log it names (pub: that log's key file); returns how
 * many there are from that log. */
static size_t verified_x509_scts(ctca_store *store, const char *serial, const char *pub)
{
    ctca_log_key *key = NULL;
    cr_assert_eq(ctca_log_key_load(pub, &key, NULL), CTCA_OK);
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, serial, &c), CTCA_OK);
    cr_assert_not_null(c.final_der);
    ctca_store_sct_list l;
    cr_assert_eq(ctca_store_list_scts(store, serial, &l), CTCA_OK);
    size_t n = 0;
    for (size_t i = 0; i < l.count; i++) {
        if (l.items[i].entry_type != 0 ||
            memcmp(l.items[i].log_id, ctca_log_key_get0_id(key), 32) != 0)
            continue;
        ctca_sct sct;
        cr_assert_eq(ctca_sct_parse(ctca_view_make(l.items[i].sct, l.items[i].sct_len), &sct),
                     CTCA_OK);
        ctca_signed_entry e = {.type = CTCA_ENTRY_X509,
                               .leaf_cert = ctca_view_make(c.final_der, c.final_len)};
        cr_assert_eq(ctca_sct_verify(&sct, key, &e, (uint64_t)ctca_now_ms() + 1000), CTCA_OK,
                     "serial %s", serial);
        ctca_sct_cleanup(&sct);
        n++;
    }
    ctca_store_sct_list_cleanup(&l);
    ctca_store_cert_cleanup(&c);
    ctca_log_key_free(key);
    return n;
}

Test(queue, unembedded_issues_now_and_the_queue_stores_verifiable_x509_scts,
     .init = setup_logs_down, .fini = teardown, .timeout = 120)
{
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, "--fallback unembedded"), 0, "%s", out);
    serial_after(out, "issued serial ", serial);
    cr_assert_not_null(strstr(out, "without embedded SCTs"), "%s", out);
    free(out);
    /* A plain certificate: no poison, no SCT list, valid chain, same TBS as
     * the precertificate minus the poison (the engine checked it; so does
     * this). */
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s/site.pem' -noout -text", fx.dir), 0);
    cr_assert_null(strstr(out, "Poison"), "%s", out);
    cr_assert_null(strstr(out, "CT Precertificate SCTs"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/site.pem'", fx.roots, fx.dir), 0,
                 "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --precert --out '%s/pre.pem'", fx.ctca,
                        fx.ca_dir, serial, fx.dir),
                 0, "%s", out);
    free(out);
    uint8_t *pre = NULL, *fin = NULL, *pre_tbs = NULL;
    size_t pre_len, fin_len, pre_tbs_len;
    char path[400];
    snprintf(path, sizeof path, "%s/pre.pem", fx.dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &pre, &pre_len, NULL), CTCA_OK);
    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &fin, &fin_len, NULL), CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(pre, pre_len), &pre_tbs,
                                               &pre_tbs_len),
                 CTCA_OK);
    cr_assert(fin_len > pre_tbs_len && memmem(fin, fin_len, pre_tbs, pre_tbs_len) != NULL,
              "the certificate's TBS is the precertificate's minus the poison");
    free(pre);
    free(fin);
    free(pre_tbs);

    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s'", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "x509    pending"), "%s", out);
    free(out);
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    free(out);
    ctca_store *store = th_ca_store(&fx);
    cr_assert_eq(verified_x509_scts(store, serial, fx.logs[0].pub), 1);
    cr_assert_eq(verified_x509_scts(store, serial, fx.logs[1].pub), 1);
    ctca_store_close(store);

    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/c.pem' --scts-out '%s/scts.bin'",
                        fx.ctca, fx.ca_dir, serial, fx.dir, fx.dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "and 2 SCTs"), "%s", out);
    free(out);
    th_run(&out,
           "'%s' verify '%s/c.pem' --issuer '%s' --log-list '%s' --tls-scts '%s/scts.bin'"
           " --json",
           fx.ctca, fx.dir, fx.roots, fx.log_list, fx.dir);
    cr_assert_not_null(strstr(out, "\"valid_count\":2"), "both TLS SCTs verify: %s", out);
    cr_assert_eq(strstr(out, "\"delivery\":\"tls\"") != NULL, true, "%s", out);
    free(out);
    /* The same SCTs from a TLS server, checked by OpenSSL's own CT code. */
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --serverinfo-out '%s/serverinfo.pem'",
                        fx.ctca, fx.ca_dir, serial, fx.dir),
                 0, "%s", out);
    free(out);
    char cert[300], serverinfo[300];
    snprintf(cert, sizeof cert, "%s/c.pem", fx.dir);
    snprintf(serverinfo, sizeof serverinfo, "%s/serverinfo.pem", fx.dir);
    th_ca_openssl_ct_check(&fx, cert, serverinfo);
}

static void setup_three_logs(void)
{
    init_ca();
    const char *specs[] = {"A:a1", "B:b1", "C:c1"};
    th_ca_start_logs(&fx, 3, specs, NULL);
    th_log_list_write(fx.log_list, fx.logs, 2, ctca_now_ms()); /* c1 is not listed yet */
    config_log_list();
}

Test(queue, backfill_of_100_certificates_stores_100_verified_scts, .init = setup_three_logs,
     .fini = teardown, .timeout = 300)
{
    char *out = NULL, serials[100][64];
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(issue(&out, ""), 0, "issue %d: %s", i, out);
        serial_after(out, "issued serial ", serials[i]);
        free(out);
    }
    cr_assert_eq(th_run(&out, "'%s' backfill --ca '%s' --log c1", fx.ctca, fx.ca_dir), 2,
                 "c1 is not in the list yet: %s", out);
    free(out);
    th_log_list_write(fx.log_list, fx.logs, 3, ctca_now_ms());
    cr_assert_eq(th_run(&out, "'%s' backfill --ca '%s' --log a1", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "queued 0 certificates"), "every one has a1's SCT: %s", out);
    free(out);
    cr_assert_eq(
        th_run(&out, "'%s' backfill --ca '%s' --log c1 --since 2000-01-01", fx.ctca, fx.ca_dir), 0,
        "%s", out);
    cr_assert_not_null(strstr(out, "queued 100 certificates"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' backfill --ca '%s' --log c1", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "queued 0 certificates"), "already queued: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once --quiet", fx.ctca, fx.ca_dir), 0,
                 "%s", out);
    free(out);
    long subs = 0, fresh = 0, dups = 0;
    log_stats(&fx.logs[2], &subs, &fresh, &dups);
    cr_assert_eq(fresh, 100);
    cr_assert_eq(dups, 0);
    ctca_store *store = th_ca_store(&fx);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(verified_x509_scts(store, serials[i], fx.logs[2].pub), 1, "serial %s",
                     serials[i]);
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_store_close(store);
}

/* ---- log faults ---------------------------------------------------------- */

typedef struct fault_case {
    const char *name, *flags, *reason;
} fault_case;

static const fault_case FAULTS[] = {
    {"f503", "--fail-rate 1", "HTTP 503"},
    {"f429", "--rate-limit --retry-after 30", "rate limited: HTTP 429"},
    {"fhang", "--hang", "log did not answer in time"},
    {"fgarbage", "--garbage", "log response is malformed"},
    {"fhuge", "--huge-body", "log response body exceeds its cap"},
    {"fbadsig", "--bad-signature", "SCT rejected: signature does not verify"},
    {"fwrongid", "--wrong-log-id", "SCT rejected: SCT log ID does not match the log key"},
    {"ffuture", "--sct-time-offset-ms 3600000", "SCT rejected: SCT timestamp is in the future"},
};
#define N_FAULTS (sizeof FAULTS / sizeof FAULTS[0])

/* The item of serial for the log described name in `queue list --json`. */
static cJSON *item_for(cJSON *root, const char *name)
{
    cJSON *it = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "items"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "log")), name) == 0)
            return it;
    }
    cr_assert_fail("no item for log %s", name);
    return NULL;
}

static cJSON *queue_json(void)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' queue list --ca '%s' --json", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root, "%s", out);
    free(out);
    return root;
}

static const char *str_of(cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

Test(queue, every_log_fault_is_retried_then_parked_with_its_reason, .init = setup_healthy,
     .fini = teardown, .timeout = 180)
{
    th_ca_config_set(&fx, "ct", "log_timeout_ms", "2000");
    th_ca_config_set(&fx, "queue", "max_attempts", "2");
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, ""), 0, "%s", out);
    serial_after(out, "issued serial ", serial);
    free(out);
    /* Each faulty log its own operator, listed after the two healthy ones. */
    char spec[N_FAULTS][40];
    const char *specs[N_FAULTS], *flags[N_FAULTS];
    for (size_t i = 0; i < N_FAULTS; i++) {
        snprintf(spec[i], sizeof spec[i], "%s:%s", FAULTS[i].name, FAULTS[i].name);
        specs[i] = spec[i];
        flags[i] = FAULTS[i].flags;
    }
    th_ca_start_logs(&fx, N_FAULTS, specs, flags);
    config_log_list();
    for (size_t i = 0; i < N_FAULTS; i++) {
        cr_assert_eq(
            th_run(&out, "'%s' backfill --ca '%s' --log %s", fx.ctca, fx.ca_dir, FAULTS[i].name), 0,
            "%s", out);
        free(out);
    }

    int64_t before = ctca_now_ms();
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75, "%s",
                 out);
    free(out);
    cJSON *root = queue_json();
    for (size_t i = 0; i < N_FAULTS; i++) {
        cJSON *it = item_for(root, FAULTS[i].name);
        cr_assert_str_eq(str_of(it, "state"), "pending", "%s", FAULTS[i].name);
        cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "attempts")), 1);
        cr_assert_not_null(strstr(str_of(it, "last_error"), FAULTS[i].reason), "%s: %s",
                           FAULTS[i].name, str_of(it, "last_error"));
    }
    /* 429: the retry waits for Retry-After and the log's breaker is open. */
    int64_t next = 0;
    cr_assert_eq(ctca_time_parse_rfc3339(str_of(item_for(root, "f429"), "next_attempt"), &next),
                 CTCA_OK);
    cr_assert_geq(next, before + 30000);
    cJSON *b = NULL;
    bool open429 = false;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(root, "breakers"))
        open429 |= strcmp(str_of(b, "log"), "f429") == 0 && strcmp(str_of(b, "state"), "open") == 0;
    cr_assert(open429, "the rate-limited log rests");
    cJSON_Delete(root);

    /* Due again at once: the second failure parks every item but the one
     * waiting out its Retry-After. */
    th_ca_config_set(&fx, "queue", "backoff_base_ms", "1");
    th_ca_config_set(&fx, "queue", "backoff_max_ms", "1");
    cr_assert_eq(queue_run_at(ctca_now_ms() + 1000, &out), 1, "%s", out);
    free(out);
    root = queue_json();
    for (size_t i = 0; i < N_FAULTS; i++) {
        cJSON *it = item_for(root, FAULTS[i].name);
        if (strcmp(FAULTS[i].name, "f429") == 0) {
            cr_assert_str_eq(str_of(it, "state"), "pending");
            continue;
        }
        cr_assert_str_eq(str_of(it, "state"), "parked", "%s", FAULTS[i].name);
        cr_assert_not_null(strstr(str_of(it, "note"), "gave up after 2 attempts"), "%s",
                           str_of(it, "note"));
        cr_assert_not_null(strstr(str_of(it, "note"), FAULTS[i].reason), "%s",
                           str_of(it, "note"));
    }
    cJSON_Delete(root);
    /* No faulty log's SCT was ever stored. */
    ctca_store *store = th_ca_store(&fx);
    ctca_store_sct_list l;
    cr_assert_eq(ctca_store_list_scts(store, serial, &l), CTCA_OK);
    cr_assert_eq(l.count, 2, "only the healthy logs' embedded SCTs");
    ctca_store_sct_list_cleanup(&l);
    ctca_store_close(store);
}

/* ---- Retry-After ------------------------------------------------------------ */

/* a1 asks for a day's pause (Retry-After 86400), b1 answers, c1 is a spare
 * not listed at issuance. */
static void setup_rate_limited(void)
{
    init_ca();
    const char *specs[] = {"A:a1", "B:b1", "C:c1"};
    const char *extra[] = {"--rate-limit --retry-after 86400", "", ""};
    th_ca_start_logs(&fx, 3, specs, extra);
    th_log_list_write(fx.log_list, fx.logs, 2, ctca_now_ms());
    config_log_list();
}

/* A Retry-After of 999999 s once held an issuance 11.6 days although a spare
 * log was up: the wait is capped at queue.backoff_max_ms, and an item due
 * only after the issuance's deadline is spent when spares are chosen. */
Test(queue, a_long_retry_after_is_capped_and_a_spare_log_finishes_the_issuance,
     .init = setup_rate_limited, .fini = teardown, .timeout = 120)
{
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, "--fallback defer"), 75, "%s", out);
    serial_after(out, "deferred: serial ", serial);
    free(out);
    th_log_list_write(fx.log_list, fx.logs, 3, ctca_now_ms()); /* c1 is listed now */

    int64_t before = ctca_now_ms();
    int st = 0;
    for (int run = 0; run < 3; run++) {
        st = th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir);
        free(out);
        if (th_run(NULL, "'%s' get --ca '%s' %s --out '%s/late.pem'", fx.ctca, fx.ca_dir, serial,
                   fx.dir) == 0)
            break;
    }
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/late.pem'", fx.ctca, fx.ca_dir,
                        serial, fx.dir),
                 0, "the spare log did not finish the issuance (queue run exit %d): %s", st, out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' verify '%s/late.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s' --log-key '%s'",
                        fx.ctca, fx.dir, fx.roots, fx.logs[0].pub, fx.logs[1].pub,
                        fx.logs[2].pub),
                 0, "ctca verify: %s", out);
    free(out);

    cJSON *root = queue_json();
    cJSON *it = item_for(root, "a1");
    int64_t next = 0;
    cr_assert_eq(ctca_time_parse_rfc3339(str_of(it, "next_attempt"), &next), CTCA_OK);
    cr_assert_leq(next, ctca_now_ms() + 3600000, "Retry-After was not capped: next attempt %s",
                  str_of(it, "next_attempt"));
    cr_assert_geq(next, before);
    cJSON_Delete(root);
}

/* ---- crash safety ---------------------------------------------------------- */

/* Runs cmd with CTCA_TEST_PAUSE_AT=step and waits until it reports the
 * pause; returns its pid (it stays paused until killed). */
static pid_t pause_at(const char *step, const char *cmd)
{
    TH_NEED_FAILPOINTS();
    char log[400], full[2000];
    snprintf(log, sizeof log, "%s/paused-%s.out", fx.dir, step);
    snprintf(full, sizeof full, "CTCA_TEST_PAUSE_AT=%s exec %s >'%s' 2>&1", step, cmd, log);
    pid_t pid = spawn(full);
    bool paused = false;
    for (int i = 0; i < 1000 && !paused; i++) {
        size_t len = 0;
        FILE *f = fopen(log, "r");
        if (f != NULL) {
            fclose(f);
            char *text = (char *)th_read_file(log, &len);
            char want[64];
            snprintf(want, sizeof want, "paused at %s", step);
            paused = memmem(text, len, want, strlen(want)) != NULL;
            free(text);
        }
        if (!paused) {
            cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "%s ended before pausing at %s",
                         cmd, step);
            usleep(10000);
        }
    }
    cr_assert(paused, "%s never paused at %s", cmd, step);
    return pid;
}

/* Runs cmd until it pauses at step and kills it with SIGKILL there. */
static void kill_at(const char *step, const char *cmd)
{
    pid_t pid = pause_at(step, cmd);
    kill(pid, SIGKILL);
    cr_assert_eq(wait_status(pid), 128 + SIGKILL);
}

/* After a crash and one `queue run --once` (with the clock at at_ms, or 0:
 * the command itself, now): exactly one record, issued, its final
 * certificate the precertificate's TBS plus SCTs that verify, and the store
 * intact. */
static void check_recovered_at(int64_t at_ms)
{
    char *out = NULL;
    if (at_ms == 0)
        cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s",
                     out);
    else
        cr_assert_eq(queue_run_at(at_ms, &out), 0, "%s", out);
    free(out);
    ctca_store *store = th_ca_store(&fx);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_ISSUED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 1, "the interrupted issuance was completed");
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, l.serials[0], &c), CTCA_OK);
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(c.precert_der, c.precert_len), &a,
                                               &alen),
                 CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(c.final_der, c.final_len), &b, &blen),
                 CTCA_OK);
    cr_assert(alen == blen && memcmp(a, b, alen) == 0, "one TBS for the serial");
    free(a);
    free(b);
    char cert[400];
    snprintf(cert, sizeof cert, "%s/recovered.pem", fx.dir);
    cr_assert_eq(
        th_run(&out, "'%s' get --ca '%s' %s --out '%s'", fx.ctca, fx.ca_dir, l.serials[0], cert), 0,
        "%s", out);
    free(out);
    verify_final(cert);
    for (int st = CTCA_STORE_JOURNALED; st <= CTCA_STORE_DEFERRED; st++) {
        ctca_store_serial_list other;
        cr_assert_eq(ctca_store_list_serials(store, (ctca_store_state)st, INT64_MAX, NULL, 10,
                                             &other),
                     CTCA_OK);
        cr_assert_eq(other.count, st == CTCA_STORE_ISSUED ? 1u : 0u, "state %d", st);
        ctca_store_serial_list_cleanup(&other);
    }
    ctca_store_cert_cleanup(&c);
    ctca_store_serial_list_cleanup(&l);
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_store_close(store);
}

static void check_recovered_once(void)
{
    check_recovered_at(0);
}

static void setup_listed(void)
{
    init_ca();
    start_logs("", "");
    config_log_list();
    th_ca_config_set(&fx, "queue", "recover_after_ms", "1");
    th_ca_config_set(&fx, "queue", "lease_ms", "1000");
}

static void crash_issue_at(const char *step)
{
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem'", fx.ctca,
             fx.ca_dir, fx.csr, fx.dir);
    kill_at(step, cmd);
    check_recovered_once();
}

/* Nothing was signed: the queue leaves the journaled record alone (no
 * precertificate appears for it), and a new request issues normally. */
Test(queue, issue_killed_after_journaling_leaves_an_unsigned_record_alone,
     .init = setup_listed, .fini = teardown, .timeout = 60)
{
    char cmd[1500], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem'", fx.ctca,
             fx.ca_dir, fx.csr, fx.dir);
    kill_at("journaled", cmd);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    free(out);
    ctca_store *store = th_ca_store(&fx);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_JOURNALED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 1);
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, l.serials[0], &c), CTCA_OK);
    cr_assert_null(c.precert_der, "the queue signs nothing that was only journaled");
    ctca_store_cert_cleanup(&c);
    ctca_store_serial_list_cleanup(&l);
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_store_close(store);
    cr_assert_eq(issue(&out, ""), 0, "%s", out);
    free(out);
}

Test(queue, issue_killed_after_the_precert_is_completed_by_the_queue, .init = setup_listed,
     .fini = teardown, .timeout = 60)
{
    crash_issue_at("precert");
}

/* What the request chose is journaled with its record and holds for the
 * worker that takes it over: `ctca issue --fallback fail` killed after its
 * precertificate is marked failed by the queue, not deferred (the CA's
 * ct.fallback). The record names the log list it was issued with. */
Test(queue, a_taken_over_issue_keeps_the_fallback_it_chose, .init = setup_listed,
     .fini = teardown, .timeout = 60)
{
    char cmd[1500], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem' --fallback fail "
             "--log-list '%s'",
             fx.ctca, fx.ca_dir, fx.csr, fx.dir, fx.log_list);
    kill_at("precert", cmd);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "taken over and failed (fallback fail)"), "%s", out);
    free(out);
    ctca_store *store = th_ca_store(&fx);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_FAILED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 1, "the record failed, as its request chose");
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, l.serials[0], &c), CTCA_OK);
    cr_assert_str_eq(c.fallback, "fail");
    cr_assert_str_eq(c.log_list_path, fx.log_list);
    size_t len = 0;
    uint8_t *list = th_read_file(fx.log_list, &len), digest[32];
    cr_assert_eq(EVP_Digest(list, len, digest, NULL, EVP_sha256(), NULL), 1);
    cr_assert_arr_eq(c.log_list_sha256, digest, 32);
    free(list);
    ctca_store_cert_cleanup(&c);
    ctca_store_serial_list_cleanup(&l);
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_DEFERRED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 0, "not deferred by the CA's ct.fallback");
    ctca_store_serial_list_cleanup(&l);
    ctca_store_close(store);
}

Test(queue, issue_killed_after_an_sct_is_completed_by_the_queue, .init = setup_listed,
     .fini = teardown, .timeout = 60)
{
    crash_issue_at("sct");
}

Test(queue, issue_killed_before_storing_the_final_is_completed_by_the_queue,
     .init = setup_listed, .fini = teardown, .timeout = 60)
{
    crash_issue_at("final");
}

/* A deferred issuance, then the worker killed at step and run again once its
 * lease has expired. */
static void crash_worker_at(const char *step)
{
    for (size_t i = 0; i < fx.n_logs; i++)
        th_testlog_stop(&fx.logs[i]);
    char *out = NULL;
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    free(out);
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir);
    kill_at(step, cmd);
    check_recovered_at(ctca_now_ms() + 1200); /* queue.lease_ms is 1000 */
}

Test(queue, worker_killed_after_leasing_leaves_items_to_be_leased_again,
     .init = setup_listed, .fini = teardown, .timeout = 60)
{
    crash_worker_at("queue-leased");
}

Test(queue, worker_killed_after_storing_an_sct_loses_nothing, .init = setup_listed,
     .fini = teardown, .timeout = 60)
{
    crash_worker_at("queue-sct");
}

Test(queue, worker_killed_before_finishing_the_issuance_is_finished_by_the_next,
     .init = setup_listed, .fini = teardown, .timeout = 60)
{
    crash_worker_at("queue-done");
}

Test(queue, daemon_finishes_a_deferred_issuance_once_logs_return_and_stops_on_sigterm,
     .init = setup_logs_down, .fini = teardown, .timeout = 120)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "exec '%s' queue run --ca '%s' --daemon >'%s/daemon.out' 2>&1",
             fx.ctca, fx.ca_dir, fx.dir);
    pid_t daemon = spawn(cmd);
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    serial_after(out, "deferred: serial ", serial);
    free(out);
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    int rc = 75;
    for (int i = 0; i < 300 && rc == 75; i++) {
        usleep(100000);
        rc = th_run(NULL, "'%s' get --ca '%s' %s --out '%s/got.pem'", fx.ctca, fx.ca_dir, serial,
                    fx.dir);
    }
    cr_assert_eq(rc, 0, "the daemon completed the issuance");
    char cert[400];
    snprintf(cert, sizeof cert, "%s/got.pem", fx.dir);
    verify_final(cert);
    kill(daemon, SIGTERM);
    cr_assert_eq(wait_status(daemon), 0, "a clean stop on SIGTERM");
    size_t len = 0;
    snprintf(cert, sizeof cert, "%s/daemon.out", fx.dir);
    char *text = (char *)th_read_file(cert, &len);
    cr_assert_not_null(memmem(text, len, "issued with 2 embedded SCTs", 27), "%.*s", (int)len,
                       text);
    free(text);
}

/* ---- who owns an unfinished issuance ----------------------------------------- */

static size_t audit_count(const char *event, const char *needle)
{
    ctca_store *store = th_ca_store(&fx);
    size_t n = 0;
    for (int64_t after = 0;;) {
        ctca_store_audit_list a;
        cr_assert_eq(ctca_store_audit_read(store, after, CTCA_STORE_AUDIT_PAGE_MAX, &a), CTCA_OK);
        for (size_t i = 0; i < a.count; i++)
            n += strcmp(a.items[i].event, event) == 0 && strstr(a.items[i].detail, needle) != NULL;
        size_t got = a.count;
        if (got > 0)
            after = a.items[got - 1].seq;
        ctca_store_audit_list_cleanup(&a);
        if (got < CTCA_STORE_AUDIT_PAGE_MAX)
            break;
    }
    ctca_store_close(store);
    return n;
}

static void issue_cmd(char *cmd, size_t n)
{
    snprintf(cmd, n, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem'", fx.ctca, fx.ca_dir,
             fx.csr, fx.dir);
}

/* A slow issuance (paused after storing its precertificate) runs on this
 * host: no worker takes it over, even one told to take over at once; killed,
 * it is taken over by the next run without waiting queue.recover_after_ms. */
Test(queue, a_live_issuer_is_never_taken_over_and_a_killed_one_is_at_once,
     .init = setup_listed, .fini = teardown, .timeout = 90)
{
    th_ca_config_set(&fx, "queue", "recover_after_ms", "0");
    char cmd[1500], *out = NULL;
    issue_cmd(cmd, sizeof cmd);
    pid_t pid = pause_at("precert", cmd);
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75,
                     "the live issuer's issuance is left unfinished: %s", out);
        cr_assert_not_null(strstr(out, " 0 taken over;"), "the issuer is alive: %s", out);
        cr_assert_not_null(strstr(out, "1 issuances unfinished"), "%s", out);
        free(out);
    }
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_PRECERT), 1);
    cr_assert_eq(audit_count("cert.claimed", ""), 0);

    kill(pid, SIGKILL);
    cr_assert_eq(wait_status(pid), 128 + SIGKILL);
    th_ca_config_set(&fx, "queue", "recover_after_ms", "3600000");
    check_recovered_once();
    char pid_text[64];
    snprintf(pid_text, sizeof pid_text, "pid=%d ", (int)pid);
    cr_assert_eq(audit_count("cert.claimed", pid_text), 1, "naming the dead issuer %d",
                 (int)pid);
}

/* The owner of a record journaled elsewhere (another host, or another PID
 * namespace) cannot be checked from here: the time rule decides. */
Test(queue, an_owner_on_another_host_is_taken_over_only_after_recover_after_ms,
     .init = setup_listed, .fini = teardown, .timeout = 90)
{
    th_ca_config_set(&fx, "queue", "recover_after_ms", "3600000");
    char cmd[1500], *out = NULL, db_path[400];
    issue_cmd(cmd, sizeof cmd);
    kill_at("precert", cmd);
    snprintf(db_path, sizeof db_path, "%s/ctca.db", fx.ca_dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "UPDATE owners SET host = 'ca2',"
                              " kernel = 'another-boot/pid:[4026531836]'",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_changes(db), 1);
    sqlite3_close(db);

    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75,
                 "the record is left unfinished: %s", out);
    cr_assert_not_null(strstr(out, " 0 taken over;"), "not before recover_after_ms: %s", out);
    free(out);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_PRECERT), 1);
    th_ca_config_set(&fx, "queue", "recover_after_ms", "0");
    check_recovered_once();
    cr_assert_eq(audit_count("cert.claimed", "was: host=ca2"), 1);
}

/* A deferred issuance that a `ctca batch` re-run claimed (and is paused on)
 * is the batch's: a worker submits its items but does not finish it while
 * the batch runs; once the batch is killed -9, the next worker claims it and
 * finishes it, once. */
Test(queue, a_deferred_record_a_live_batch_claimed_is_finished_only_after_the_batch_dies,
     .init = setup_logs_down, .fini = teardown, .timeout = 120)
{
    char *out = NULL, cmd[1500], csr_dir[400];
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    free(out);
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    snprintf(csr_dir, sizeof csr_dir, "%s/csrs", fx.dir);
    cr_assert_eq(th_run(NULL, "mkdir '%s' && cp '%s' '%s/'", csr_dir, fx.csr, csr_dir), 0);
    snprintf(cmd, sizeof cmd, "'%s' batch --ca '%s' '%s' --out '%s/out'", fx.ctca, fx.ca_dir,
             csr_dir, fx.dir);
    pid_t batch = pause_at("batch-claimed", cmd);
    cr_assert_eq(audit_count("cert.claimed", "state=deferred"), 1, "the batch claimed it");

    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75,
                 "the live batch's record is left unfinished: %s", out);
    cr_assert_null(strstr(out, "issued with"), "the live batch's record: %s", out);
    free(out);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_DEFERRED), 1);
    cr_assert_eq(audit_count("cert.claimed", ""), 1, "the worker claimed nothing");
    ctca_store *store = th_ca_store(&fx);
    size_t counts[4];
    cr_assert_eq(ctca_store_queue_count(store, NULL, CTCA_ENTRY_PRECERT, counts), CTCA_OK);
    ctca_store_close(store);
    cr_assert_eq(counts[CTCA_QUEUE_DONE], 2, "both SCTs are in: only the owner held it back");

    kill(batch, SIGKILL);
    cr_assert_eq(wait_status(batch), 128 + SIGKILL);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "issued with 2 embedded SCTs"), "%s", out);
    free(out);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_ISSUED), 1);
    cr_assert_eq(audit_count("cert.claimed", "state=deferred"), 2, "then the worker claimed it");
    cr_assert_eq(audit_count("cert.issued", ""), 1);
}

/* ---- an operator's retry ------------------------------------------------------- */

static cJSON *breaker_for(cJSON *root, const char *name)
{
    cJSON *b = NULL;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(root, "breakers"))
    {
        if (strcmp(str_of(b, "log"), name) == 0)
            return b;
    }
    cr_assert_fail("no breaker for log %s", name);
    return NULL;
}

Test(queue, retry_brings_parked_items_back_and_closes_the_logs_breaker,
     .init = setup_logs_down, .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "max_attempts", "1");
    th_ca_config_set(&fx, "queue", "breaker_failures", "1");
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, "--fallback unembedded"), 0, "%s", out);
    serial_after(out, "issued serial ", serial);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 1,
                 "the logs are down: both items parked: %s", out);
    free(out);
    cJSON *root = queue_json();
    for (size_t i = 0; i < fx.n_logs; i++) {
        cJSON *it = item_for(root, fx.logs[i].name);
        cr_assert_str_eq(str_of(it, "state"), "parked");
        cr_assert_not_null(strstr(str_of(it, "note"), "gave up after 1 attempts"), "%s",
                           str_of(it, "note"));
        cr_assert_str_eq(str_of(breaker_for(root, fx.logs[i].name), "state"), "open");
    }
    cJSON_Delete(root);

    /* Usage and input errors. */
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s'", fx.ctca, fx.ca_dir), 2, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --all --serial %s", fx.ctca, fx.ca_dir,
                        serial),
                 2, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --serial 7fff01", fx.ctca, fx.ca_dir), 2,
                 "%s", out);
    cr_assert_not_null(strstr(out, "no certificate with serial 7fff01"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --log nosuch", fx.ctca, fx.ca_dir), 2,
                 "%s", out);
    cr_assert_not_null(strstr(out, "no log 'nosuch'"), "%s", out);
    free(out);

    /* A dry run says what it would do and changes nothing. */
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --all --dry-run", fx.ctca, fx.ca_dir), 0,
                 "%s", out);
    cr_assert_not_null(strstr(out, "would requeue serial"), "%s", out);
    cr_assert_not_null(strstr(out, "log=a1 (parked: gave up after 1 attempts"), "%s", out);
    cr_assert_not_null(strstr(out, "log=b1"), "%s", out);
    cr_assert_not_null(strstr(out, "2 items would be requeued, 0 refused"), "%s", out);
    free(out);
    root = queue_json();
    cr_assert_str_eq(str_of(item_for(root, "a1"), "state"), "parked");
    cJSON_Delete(root);

    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
    /* --log: that log's item, and its breaker closed by hand. */
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --log a1", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "requeued serial"), "%s", out);
    cr_assert_not_null(strstr(out, "closed the breaker of log=a1 (it was open until"), "%s",
                       out);
    cr_assert_not_null(strstr(out, "1 item requeued, 0 refused"), "%s", out);
    free(out);
    root = queue_json();
    cJSON *it = item_for(root, "a1");
    cr_assert_str_eq(str_of(it, "state"), "pending");
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "attempts")), 0);
    cr_assert_not_null(strstr(str_of(it, "note"),
                              "retried by an operator; it was parked: gave up after 1 attempts"),
                       "%s", str_of(it, "note"));
    cr_assert_str_eq(str_of(breaker_for(root, "a1"), "state"), "closed");
    cr_assert_str_eq(str_of(item_for(root, "b1"), "state"), "parked");
    cr_assert_str_eq(str_of(breaker_for(root, "b1"), "state"), "open");
    cJSON_Delete(root);

    /* --serial (spelled as ctca get takes it): the other item; b1's breaker
     * stays open, so the run leaves its item waiting. */
    char upper[64];
    for (size_t i = 0; i <= strlen(serial); i++)
        upper[i] = (char)(serial[i] >= 'a' && serial[i] <= 'f' ? serial[i] - 32 : serial[i]);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --serial 0x%s", fx.ctca, fx.ca_dir,
                        upper),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "1 item requeued"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 75, "%s",
                 out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --log b1", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, "0 items requeued"), "%s", out);
    cr_assert_not_null(strstr(out, "closed the breaker of log=b1"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    free(out);
    ctca_store *store = th_ca_store(&fx);
    cr_assert_eq(verified_x509_scts(store, serial, fx.logs[0].pub), 1);
    cr_assert_eq(verified_x509_scts(store, serial, fx.logs[1].pub), 1);
    cr_assert_eq(ctca_store_integrity_check(store), CTCA_OK);
    ctca_store_close(store);
    /* The journal keeps why each item was parked and that it was retried. */
    cr_assert_eq(audit_count("queue.parked", "gave up after 1 attempts"), 2);
    cr_assert_eq(audit_count("queue.retried", "it was parked: gave up after 1 attempts"), 2);
    cr_assert_eq(audit_count("breaker.reset", "by an operator; was open"), 2);
}

Test(queue, retry_refuses_the_items_of_a_failed_issuance, .init = setup_logs_down,
     .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "max_attempts", "1");
    char *out = NULL, serial[64];
    cr_assert_eq(issue(&out, ""), 75, "%s", out);
    serial_after(out, "deferred: serial ", serial);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 1, "%s", out);
    cr_assert_not_null(strstr(out, "the queue gave up"), "every log was tried: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue retry --ca '%s' --all", fx.ctca, fx.ca_dir), 1, "%s",
                 out);
    cr_assert_not_null(strstr(out, "not retried: its issuance failed"), "%s", out);
    cr_assert_not_null(strstr(out, "'ctca batch' resumes it"), "%s", out);
    cr_assert_not_null(strstr(out, "0 items requeued, 2 refused"), "%s", out);
    free(out);
    cJSON *root = queue_json();
    cJSON *it = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "items"))
        cr_assert_str_eq(str_of(it, "state"), "parked");
    cJSON_Delete(root);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_FAILED), 1);
}
