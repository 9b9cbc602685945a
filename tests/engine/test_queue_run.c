/* ctca_queue_run in-process on a pinned wall clock, against real
 * ctca-testlog processes: what the worker decides from "now" (backoff, lease
 * expiry, queue.recover_after_ms) happens when the clock is moved, never by
 * waiting, and not a millisecond before. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/issue.h"
#include "ctca/queue.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/engine_helpers.h"
#include "tests/helpers.h"

static th_ca fx;

static void setup(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    const char *specs[] = {"A:a1", "B:b1"};
    th_ca_start_logs(&fx, 2, specs, NULL);
    char value[400];
    snprintf(value, sizeof value, "\"%s\"", fx.log_list);
    th_ca_config_set(&fx, "", "log_list", value);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* `ctca issue` with every log stopped: deferred, an item per log queued;
 * then the logs come back. */
static void issue_deferred(void)
{
    for (size_t i = 0; i < fx.n_logs; i++)
        th_testlog_stop(&fx.logs[i]);
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem'", fx.ctca,
                        fx.ca_dir, fx.csr, fx.dir),
                 75, "%s", out);
    free(out);
}

static void logs_back(void)
{
    for (size_t i = 0; i < fx.n_logs; i++)
        th_ca_log_restart(&fx, &fx.logs[i], "");
}

static void run_at(int64_t at_ms, ctca_queue_stats *st)
{
    char *out = NULL;
    cr_assert_eq(th_queue_run_at(fx.ca_dir, at_ms, st, &out), CTCA_OK, "%s", out);
    free(out);
}

/* The first failure waits backoff_base_ms with jitter, between half of it
 * and all of it (ctca_store_queue_backoff_ms), counted on the worker's clock. */
Test(queue_run, a_failed_item_is_due_again_only_once_the_clock_passes_its_backoff,
     .init = setup, .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "backoff_base_ms", "60000");
    issue_deferred();
    int64_t t = ctca_now_ms();
    ctca_queue_stats st;
    run_at(t, &st);
    cr_assert_eq(st.submitted, 2, "both logs tried");
    cr_assert_eq(st.retried, 2, "and both failed");
    cr_assert_eq(st.pending, 2);

    logs_back();
    run_at(t, &st);
    cr_assert_eq(st.submitted, 0, "not due at the failure's time");
    run_at(t + 30000 - 1, &st);
    cr_assert_eq(st.submitted, 0, "not due before half the backoff");
    cr_assert_eq(st.pending, 2);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_DEFERRED), 1);

    run_at(t + 60000, &st);
    cr_assert_eq(st.submitted, 2);
    cr_assert_eq(st.done, 2);
    cr_assert_eq(st.issued, 1, "the deferred issuance completed");
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_ISSUED), 1);
}

/* Items a dead worker leased are leased again once its lease has expired on
 * the clock, and not before. */
Test(queue_run, items_a_dead_worker_leased_are_taken_once_the_clock_passes_the_lease,
     .init = setup, .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "lease_ms", "600000");
    issue_deferred();
    logs_back();
    int64_t t = ctca_now_ms();
    ctca_store *store = th_ca_store(&fx);
    ctca_store_queue_policy p = {.max_attempts = 10, .backoff_base_ms = 1000,
                                 .backoff_max_ms = 3600000, .breaker_failures = 5,
                                 .breaker_cooldown_ms = 60000};
    ctca_store_queue_items items = {0};
    cr_assert_eq(ctca_store_queue_lease(store, "dead-worker", t, t, 600000, 64, &p, &items),
                 CTCA_OK, "%s", ctca_store_errmsg(store));
    cr_assert_eq(items.count, 2);
    ctca_store_queue_items_cleanup(&items);
    ctca_store_close(store);

    ctca_queue_stats st;
    run_at(t + 600000 - 1, &st);
    cr_assert_eq(st.submitted, 0, "the lease still holds");
    cr_assert_eq(st.issued, 0);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_DEFERRED), 1);

    run_at(t + 600000 + 1, &st);
    cr_assert_eq(st.submitted, 2, "leased again once expired");
    cr_assert_eq(st.done, 2);
    cr_assert_eq(st.issued, 1);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_ISSUED), 1);
}

/* A precertificate whose owner cannot be checked from here (another host)
 * is taken over once unchanged for queue.recover_after_ms on the clock. */
Test(queue_run, an_owner_elsewhere_is_taken_over_once_the_clock_passes_recover_after_ms,
     .init = setup, .fini = teardown, .timeout = 120)
{
    th_ca_config_set(&fx, "queue", "recover_after_ms", "600000");
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    ctca_store *store = th_ca_store(&fx);
    ctca_issue_request req = {.csr_path = fx.csr, .now_ms = ctca_now_ms()};
    ctca_issuance *is = NULL;
    cr_assert_eq(ctca_issuance_begin(ca, store, &req, &is, &eb), CTCA_OK, "%s", eb.msg);
    ctca_store_unfinished u;
    cr_assert_eq(ctca_store_get_unfinished(store, ctca_issuance_serial(is), &u), CTCA_OK);
    ctca_issuance_free(is); /* as if its process had ended here */
    ctca_store_close(store);
    ctca_ca_free(ca);
    int64_t t = u.updated_ms; /* when the record last changed */

    char path[400];
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "UPDATE owners SET host = 'ca2',"
                              " kernel = 'another-boot/pid:[4026531836]'",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_changes(db), 1);
    sqlite3_close(db);

    ctca_queue_stats st;
    run_at(t, &st);
    cr_assert_eq(st.recovered, 0);
    run_at(t + 600000 - 1, &st);
    cr_assert_eq(st.recovered, 0, "not before recover_after_ms");
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_PRECERT), 1);

    run_at(t + 600000 + 1, &st);
    cr_assert_eq(st.recovered, 1);
    cr_assert_eq(st.issued, 1);
    cr_assert_eq(th_ca_records_in(&fx, CTCA_STORE_ISSUED), 1);
}
