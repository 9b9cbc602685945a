/* ctca_batch_run in-process on a pinned wall clock, against real
 * ctca-testlog processes: what a run decides from "now" happens when the
 * clock is moved, never by waiting. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctca/batch.h"
#include "ctca/issue.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/engine_helpers.h"
#include "tests/helpers.h"

static th_ca fx;
static char csrs[320], outs[320], csr[400];

static void setup(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    const char *specs[] = {"A:a1", "B:b1"};
    th_ca_start_logs(&fx, 2, specs, NULL);
    snprintf(csrs, sizeof csrs, "%s/csrs", fx.dir);
    snprintf(outs, sizeof outs, "%s/out", fx.dir);
    snprintf(csr, sizeof csr, "%s/site.csr", csrs);
    cr_assert_eq(mkdir(csrs, 0755), 0);
    cr_assert_eq(th_run(NULL, "cp '%s' '%s'", fx.csr, csr), 0);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

static void run_at(int64_t at_ms, ctca_batch_summary *sum)
{
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    th_clock clock = {.now_ms = at_ms};
    ctca_batch_options opt = {.csr_dir = csrs, .out_dir = outs, .log_list_path = fx.log_list,
                              .jobs = 2, .clock_ms = th_clock_ms, .clock_arg = &clock};
    cr_assert_eq(ctca_batch_run(ca, &opt, sum, &eb), CTCA_OK, "%s", eb.msg);
    ctca_ca_free(ca);
}

/* A precertificate record of csr that names no owner (as one journaled
 * before owners were recorded, store schema version 3, or by a process that
 * could not tell who it was); *updated_ms gets when it last changed. */
static void ownerless_precert(char serial[CTCA_STORE_SERIAL_MAX + 1], int64_t *updated_ms)
{
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    ctca_store *store = th_ca_store(&fx);
    ctca_issue_request req = {.csr_path = csr, .log_list_path = fx.log_list,
                              .now_ms = ctca_now_ms(), .once_per_csr = true};
    ctca_issuance *is = NULL;
    cr_assert_eq(ctca_issuance_begin(ca, store, &req, &is, &eb), CTCA_OK, "%s", eb.msg);
    snprintf(serial, CTCA_STORE_SERIAL_MAX + 1, "%s", ctca_issuance_serial(is));
    ctca_issuance_free(is); /* its process "ended" after the precertificate */
    ctca_store_close(store);
    ctca_ca_free(ca);

    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    /* The store never deletes an owner; the test does, to make the record
     * one that never had any. */
    cr_assert_eq(sqlite3_exec(db,
                              "DROP TRIGGER owners_no_delete; DELETE FROM owners;"
                              "CREATE TRIGGER owners_no_delete BEFORE DELETE ON owners BEGIN"
                              "  SELECT RAISE(ABORT, 'owners are never deleted');"
                              "END;",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    store = th_ca_store(&fx);
    ctca_store_unfinished u;
    cr_assert_eq(ctca_store_get_unfinished(store, serial, &u), CTCA_OK);
    cr_assert(!u.has_owner);
    cr_assert_eq(u.state, CTCA_STORE_PRECERT);
    *updated_ms = u.updated_ms;
    ctca_store_close(store);
}

Test(batch_run, an_ownerless_record_is_resumed_once_the_clock_passes_recover_after_ms,
     .init = setup, .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "recover_after_ms", "600000");
    char serial[CTCA_STORE_SERIAL_MAX + 1];
    int64_t t = 0;
    ownerless_precert(serial, &t);

    ctca_batch_summary sum;
    run_at(t + 600000 - 1, &sum);
    cr_assert_eq(sum.total, 1);
    cr_assert_eq(sum.in_progress, 1, "not before recover_after_ms");
    cr_assert_eq(sum.n_problems, 1);
    cr_assert_str_eq(sum.problems[0].serial, serial);
    cr_assert_not_null(strstr(sum.problems[0].reason, "names no owner"), "%s",
                       sum.problems[0].reason);
    cr_assert_not_null(strstr(sum.problems[0].reason, "changed 599 s ago"), "%s",
                       sum.problems[0].reason);
    ctca_batch_summary_cleanup(&sum);
    char pem[400];
    snprintf(pem, sizeof pem, "%s/site.pem", outs);
    cr_assert_neq(access(pem, F_OK), 0, "nothing issued");

    run_at(t + 600000 + 1, &sum);
    cr_assert_eq(sum.issued, 1, "resumed");
    cr_assert_eq(sum.in_progress + sum.failed + sum.deferred, 0);
    ctca_batch_summary_cleanup(&sum);
    cr_assert_eq(access(pem, F_OK), 0);
    ctca_store *store = th_ca_store(&fx);
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, serial, &c), CTCA_OK);
    cr_assert_eq(c.state, CTCA_STORE_ISSUED, "the same serial, resumed");
    ctca_store_cert_cleanup(&c);
    ctca_store_close(store);
}

/* The run's clock dates what it issues: a new issuance's validity starts at
 * the pinned time (five minutes ahead, so it cannot be the real one, and
 * within the skew allowed between the CA's clock and the logs' real ones,
 * which date their SCTs). */
Test(batch_run, a_new_issuance_is_dated_by_the_runs_clock, .init = setup, .fini = teardown,
     .timeout = 120)
{
    int64_t at = ctca_now_ms() + 5 * 60 * 1000;
    ctca_batch_summary sum;
    run_at(at, &sum);
    cr_assert_eq(sum.issued, 1);
    ctca_batch_summary_cleanup(&sum);
    ctca_store *store = th_ca_store(&fx);
    ctca_store_serial_list l;
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_ISSUED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 1);
    ctca_store_cert c;
    cr_assert_eq(ctca_store_get_cert(store, l.serials[0], &c), CTCA_OK);
    cr_assert_eq(c.not_before, at / 1000, "notBefore %lld for a clock at %lld",
                 (long long)c.not_before, (long long)(at / 1000));
    ctca_store_cert_cleanup(&c);
    ctca_store_serial_list_cleanup(&l);
    ctca_store_close(store);
}
