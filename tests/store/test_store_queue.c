/* The queue of log submissions: deferral, leases (also from two connections
 * at once), retries with backoff, parking, circuit breakers, back-fill, and
 * the schema migration that brought them. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_queue, .init = store_setup, .fini = store_teardown);

static const ctca_store_queue_policy POLICY = {
    .max_attempts = 3, .backoff_base_ms = 1000, .backoff_max_ms = 8000,
    .breaker_failures = 2, .breaker_cooldown_ms = 30000,
};

static uint8_t LOGS[4][32];

static void init_logs(void)
{
    for (int i = 0; i < 4; i++)
        memset(LOGS[i], 0xa0 + i, 32);
}

/* A record in state precert (and issued when final). */
static void record(ctca_store *s, const char *serial, bool final, int64_t not_before)
{
    uint8_t digest[32], tbs[16] = {0x30, 0x0e}, pre[] = {0x30, 0x01, 0x01},
                        fin[] = {0x30, 0x01, 0x02};
    memset(digest, 0x5a, sizeof digest);
    memcpy(tbs + 2, serial, strlen(serial) < 14 ? strlen(serial) : 14);
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .not_before = not_before, .not_after = not_before + 86400,
                                  .now_ms = 1000};
    EXPECT_ON(s, CTCA_OK, ctca_store_journal(s, &e));
    EXPECT_ON(s, CTCA_OK, ctca_store_put_precert(s, serial, pre, sizeof pre, 1001));
    if (final)
        EXPECT_ON(s, CTCA_OK, ctca_store_put_final(s, serial, fin, sizeof fin, 1002));
}

static ctca_store_state state_of(const char *serial)
{
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, serial, &c));
    ctca_store_state st = c.state;
    ctca_store_cert_cleanup(&c);
    return st;
}

static ctca_store_queue_items list_all(void)
{
    ctca_store_queue_items l;
    OK(ctca_store_queue_list(S, NULL, 0, CTCA_STORE_QUEUE_PAGE_MAX, &l));
    return l;
}

static ctca_store_queue_item *find(ctca_store_queue_items *l, const char *serial, int log)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].serial, serial) == 0 && memcmp(l->items[i].log_id, LOGS[log], 32) == 0)
            return &l->items[i];
    cr_assert_fail("no item for %s at log %d", serial, log);
    return NULL;
}

static ctca_store_queue_items lease(const char *owner, int64_t now, size_t max)
{
    ctca_store_queue_items l;
    OK(ctca_store_queue_lease(S, owner, now, now, 60000, max, &POLICY, &l));
    return l;
}

Test(store_queue, defer_moves_a_precert_to_deferred_and_queues_its_logs)
{
    init_logs();
    record(S, "0a01", false, 1700000000);
    OK(ctca_store_defer(S, "0a01", "logs down", LOGS[0], 2, 5000));
    cr_assert_eq(state_of("0a01"), CTCA_STORE_DEFERRED);

    ctca_store_queue_items l = list_all();
    cr_assert_eq(l.count, 2);
    for (int i = 0; i < 2; i++) {
        ctca_store_queue_item *it = find(&l, "0a01", i);
        cr_assert_eq(it->entry_type, 1);
        cr_assert_eq(it->state, CTCA_QUEUE_PENDING);
        cr_assert_eq(it->attempts, 0);
        cr_assert_eq(it->next_attempt_ms, 5000);
        cr_assert_str_eq(it->lease_owner, "");
        cr_assert_null(it->last_error);
        cr_assert_null(it->note);
    }
    ctca_store_queue_items_cleanup(&l);

    /* Deferring again adds logs; existing items are untouched. */
    OK(ctca_store_defer(S, "0a01", "more logs", LOGS[1], 2, 6000));
    l = list_all();
    cr_assert_eq(l.count, 3);
    cr_assert_eq(find(&l, "0a01", 1)->next_attempt_ms, 5000);
    ctca_store_queue_items_cleanup(&l);

    /* The final certificate may complete a deferred record. */
    uint8_t fin[] = {0x30, 0x01, 0x09};
    OK(ctca_store_put_final(S, "0a01", fin, sizeof fin, 7000));
    cr_assert_eq(state_of("0a01"), CTCA_STORE_ISSUED);
}

Test(store_queue, defer_is_refused_for_journaled_and_issued_records)
{
    init_logs();
    record(S, "0b01", true, 1700000000);
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_defer(S, "0b01", "x", LOGS[0], 1, 5000));
    uint8_t digest[32] = {0}, tbs[] = {0x30, 0x00};
    ctca_store_journal_entry e = {.serial = "0b02", .profile = "p", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .now_ms = 1};
    OK(ctca_store_journal(S, &e));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_defer(S, "0b02", "x", LOGS[0], 1, 5000));
    record(S, "0b03", false, 1700000000);
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_defer(S, "0b03", "x", NULL, 0, 5000));
    ctca_store_queue_items l = list_all();
    cr_assert_eq(l.count, 0, "a refused deferral queues nothing");
    ctca_store_queue_items_cleanup(&l);
    /* A deferred record may still fail, and a failed one be deferred again. */
    OK(ctca_store_defer(S, "0b03", "x", LOGS[0], 1, 5000));
    OK(ctca_store_mark_failed(S, "0b03", "gave up", 6000));
    cr_assert_eq(state_of("0b03"), CTCA_STORE_FAILED);
    OK(ctca_store_defer(S, "0b03", "again", LOGS[1], 1, 7000));
    cr_assert_eq(state_of("0b03"), CTCA_STORE_DEFERRED);
}

Test(store_queue, put_final_queued_issues_and_queues_add_chain_items_together)
{
    init_logs();
    record(S, "0c01", false, 1700000000);
    uint8_t fin[] = {0x30, 0x01, 0x07};
    OK(ctca_store_put_final_queued(S, "0c01", fin, sizeof fin, LOGS[2], 2, 9000));
    cr_assert_eq(state_of("0c01"), CTCA_STORE_ISSUED);
    ctca_store_queue_items l = list_all();
    cr_assert_eq(l.count, 2);
    cr_assert_eq(find(&l, "0c01", 2)->entry_type, 0);
    cr_assert_eq(find(&l, "0c01", 3)->entry_type, 0);
    ctca_store_queue_items_cleanup(&l);

    /* Refused as a whole: no certificate and no item. */
    record(S, "0c02", false, 1700000000);
    uint8_t other[] = {0x30, 0x01, 0x08};
    OK(ctca_store_put_final(S, "0c02", other, sizeof other, 9000));
    EXPECT(CTCA_ERR_STORE_CONFLICT,
           ctca_store_put_final_queued(S, "0c02", fin, sizeof fin, LOGS[0], 1, 9001));
    size_t counts[4];
    OK(ctca_store_queue_count(S, "0c02", 0, counts));
    cr_assert_eq(counts[0] + counts[1] + counts[2] + counts[3], 0);
}

Test(store_queue, add_is_idempotent_needs_a_signed_entry_and_revives_parked_items)
{
    init_logs();
    record(S, "0d01", false, 1700000000);
    size_t added = 9;
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_queue_add(S, "0d01", 0, LOGS[0], 1, 100, &added));
    cr_assert_eq(added, 0);
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_queue_add(S, "0dff", 1, LOGS[0], 1, 100, NULL));
    OK(ctca_store_queue_add(S, "0d01", 1, LOGS[0], 2, 100, &added));
    cr_assert_eq(added, 2);
    OK(ctca_store_queue_add(S, "0d01", 1, LOGS[0], 2, 200, &added));
    cr_assert_eq(added, 0);

    ctca_store_queue_items l = lease("w", 300, 10);
    cr_assert_eq(l.count, 2);
    ctca_store_queue_failure f = {.error = "HTTP 400: bad chain", .permanent = true};
    ctca_store_queue_state st = CTCA_QUEUE_PENDING;
    OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, 400, &st));
    cr_assert_eq(st, CTCA_QUEUE_PARKED);
    ctca_store_queue_items_cleanup(&l);

    OK(ctca_store_queue_add(S, "0d01", 1, LOGS[0], 2, 500, &added));
    cr_assert_eq(added, 1, "only the parked item comes back");
    l = list_all();
    ctca_store_queue_item *it = find(&l, "0d01", 0);
    cr_assert_eq(it->state, CTCA_QUEUE_PENDING);
    cr_assert_eq(it->attempts, 0);
    cr_assert_eq(it->next_attempt_ms, 500);
    cr_assert_str_eq(it->last_error, "HTTP 400: bad chain", "the history stays");
    cr_assert_null(it->note);
    cr_assert_eq(find(&l, "0d01", 1)->state, CTCA_QUEUE_LEASED);
    ctca_store_queue_items_cleanup(&l);
}

Test(store_queue, lease_takes_due_items_once_until_the_lease_expires)
{
    init_logs();
    record(S, "0e01", false, 1700000000);
    record(S, "0e02", false, 1700000000);
    OK(ctca_store_queue_add(S, "0e01", 1, LOGS[0], 2, 1000, NULL));
    OK(ctca_store_queue_add(S, "0e02", 1, LOGS[0], 2, 5000, NULL));

    ctca_store_queue_items l;
    OK(ctca_store_queue_lease(S, "a", 2000, 2000, 10000, 10, &POLICY, &l));
    cr_assert_eq(l.count, 2, "only the items due by 2000");
    for (size_t i = 0; i < l.count; i++) {
        cr_assert_str_eq(l.items[i].serial, "0e01");
        cr_assert_eq(l.items[i].state, CTCA_QUEUE_LEASED);
        cr_assert_str_eq(l.items[i].lease_owner, "a");
        cr_assert_eq(l.items[i].lease_expiry_ms, 12000);
    }
    int64_t held = l.items[0].id;
    ctca_store_queue_items_cleanup(&l);

    OK(ctca_store_queue_lease(S, "b", 6000, 6000, 10000, 1, &POLICY, &l));
    cr_assert_eq(l.count, 1, "max is respected");
    cr_assert_str_eq(l.items[0].serial, "0e02");
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_queue_lease(S, "b", 6000, 6000, 10000, 10, &POLICY, &l));
    cr_assert_eq(l.count, 1, "a's unexpired leases are not taken");
    cr_assert_str_eq(l.items[0].serial, "0e02");
    ctca_store_queue_items_cleanup(&l);

    /* a vanished: once its lease runs out, c takes the items over. */
    OK(ctca_store_queue_lease(S, "c", 12000, 12000, 10000, 10, &POLICY, &l));
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[0].serial, "0e01");
    ctca_store_queue_items_cleanup(&l);
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_queue_complete(S, held, "a", "SCT stored", true,
                                                              12500));
    OK(ctca_store_queue_complete(S, held, "c", "SCT stored", true, 12600));
    OK(ctca_store_queue_complete(S, held, "c", "SCT stored", true, 12700));
    l = list_all();
    for (size_t i = 0; i < l.count; i++) {
        if (l.items[i].id != held)
            continue;
        cr_assert_eq(l.items[i].state, CTCA_QUEUE_DONE);
        cr_assert_str_eq(l.items[i].note, "SCT stored");
        cr_assert_str_eq(l.items[i].lease_owner, "");
        cr_assert_eq(l.items[i].updated_ms, 12600, "completing again changes nothing");
    }
    ctca_store_queue_items_cleanup(&l);
}

typedef struct leaser {
    const char *owner;
    int64_t ids[400];
    size_t n;
} leaser;

/* Leases in small batches on its own connection until nothing is left. */
static void *lease_all(void *arg)
{
    leaser *w = arg;
    ctca_store *s = NULL;
    if (ctca_store_open(path, &s, NULL) != CTCA_OK)
        return (void *)1;
    for (;;) {
        ctca_store_queue_items l;
        if (ctca_store_queue_lease(s, w->owner, 1000, 1000, 60000, 7, &POLICY, &l) != CTCA_OK) {
            ctca_store_close(s);
            return (void *)2;
        }
        size_t n = l.count;
        for (size_t i = 0; i < n && w->n < 400; i++)
            w->ids[w->n++] = l.items[i].id;
        ctca_store_queue_items_cleanup(&l);
        if (n == 0)
            break;
    }
    ctca_store_close(s);
    return NULL;
}

Test(store_queue, two_connections_leasing_concurrently_never_share_an_item, .timeout = 60)
{
    init_logs();
    char serial[8];
    for (int i = 0; i < 100; i++) {
        snprintf(serial, sizeof serial, "7f%02x", i);
        record(S, serial, false, 1700000000);
        OK(ctca_store_queue_add(S, serial, 1, LOGS[0], 2, 500, NULL));
    }
    leaser a = {.owner = "worker-a"}, b = {.owner = "worker-b"};
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, lease_all, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, lease_all, &b), 0);
    void *ra = NULL, *rb = NULL;
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    cr_assert_null(ra);
    cr_assert_null(rb);
    cr_assert_eq(a.n + b.n, 200, "every item leased: %zu + %zu", a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        for (size_t j = 0; j < b.n; j++)
            cr_assert_neq(a.ids[i], b.ids[j], "item %lld leased twice", (long long)a.ids[i]);
    ctca_store_queue_items l = list_all();
    for (size_t i = 0; i < l.count; i++) {
        bool in_a = false;
        for (size_t k = 0; k < a.n; k++)
            in_a |= a.ids[k] == l.items[i].id;
        cr_assert_str_eq(l.items[i].lease_owner, in_a ? "worker-a" : "worker-b");
    }
    ctca_store_queue_items_cleanup(&l);
}

Test(store_queue, backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after)
{
    /* Equal jitter: within [d/2, d] of the exponential delay d. */
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 1, 0, 0), 500);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 1, 0, 500), 1000);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 2, 0, 0), 1000);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 3, 0, 0), 2000);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 4, 0, 4000), 8000);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 40, 0, 4000), 8000, "capped");
    for (uint32_t r = 0; r < 5000; r += 97) {
        int64_t d = ctca_store_queue_backoff_ms(&POLICY, 2, 0, r);
        cr_assert(d >= 1000 && d <= 2000, "%lld", (long long)d);
    }
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 1, 30000, 0), 30000);
    cr_assert_eq(ctca_store_queue_backoff_ms(&POLICY, 4, 10, 4000), 8000);
}

Test(store_queue, failures_retry_with_backoff_then_park_with_the_reason)
{
    init_logs();
    record(S, "1a01", false, 1700000000);
    OK(ctca_store_queue_add(S, "1a01", 1, LOGS[0], 1, 0, NULL));
    int64_t now = 1000;
    ctca_store_queue_failure f = {.error = "HTTP 503: injected failure", .rnd = 0};
    for (unsigned attempt = 1; attempt <= 3; attempt++) {
        ctca_store_queue_items l;
        OK(ctca_store_queue_lease(S, "w", now, now, 60000, 10, &POLICY, &l));
        cr_assert_eq(l.count, 1, "attempt %u", attempt);
        ctca_store_queue_state st;
        OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, now, &st));
        ctca_store_queue_items_cleanup(&l);
        l = list_all();
        ctca_store_queue_item *it = &l.items[0];
        cr_assert_eq(it->attempts, attempt);
        cr_assert_str_eq(it->last_error, "HTTP 503: injected failure");
        if (attempt < 3) {
            cr_assert_eq(st, CTCA_QUEUE_PENDING);
            cr_assert_eq(it->next_attempt_ms, now + (attempt == 1 ? 500 : 1000));
            /* Not due before its time. */
            ctca_store_queue_items none;
            OK(ctca_store_queue_lease(S, "w", now + 1, now + 1, 60000, 10, &POLICY, &none));
            cr_assert_eq(none.count, 0);
            ctca_store_queue_items_cleanup(&none);
            now = it->next_attempt_ms;
        } else {
            cr_assert_eq(st, CTCA_QUEUE_PARKED);
            cr_assert_str_eq(it->note, "gave up after 3 attempts: HTTP 503: injected failure");
        }
        ctca_store_queue_items_cleanup(&l);
    }
    ctca_store_queue_items l;
    OK(ctca_store_queue_lease(S, "w", INT64_MAX / 2, INT64_MAX / 2, 60000, 10, &POLICY, &l));
    cr_assert_eq(l.count, 0, "a parked item is never leased");
    ctca_store_queue_items_cleanup(&l);
}

Test(store_queue, retry_after_delays_the_item_and_pauses_its_log)
{
    init_logs();
    record(S, "1b01", false, 1700000000);
    record(S, "1b02", false, 1700000000);
    OK(ctca_store_queue_add(S, "1b01", 1, LOGS[0], 1, 0, NULL));
    OK(ctca_store_queue_add(S, "1b02", 1, LOGS[0], 2, 0, NULL));
    ctca_store_queue_items l = lease("w", 1000, 1);
    cr_assert_str_eq(l.items[0].serial, "1b01");
    ctca_store_queue_failure f = {.error = "HTTP 429: rate limited", .log_fault = true,
                                  .retry_after_ms = 20000};
    OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, 1000, NULL));
    ctca_store_queue_items_cleanup(&l);

    ctca_store_breaker b;
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_OPEN);
    cr_assert_eq(b.open_until_ms, 21000);
    l = lease("w", 2000, 10);
    cr_assert_eq(l.count, 1, "log 0 rests; log 1 is served");
    cr_assert_arr_eq(l.items[0].log_id, LOGS[1], 32);
    ctca_store_queue_items_cleanup(&l);
    l = list_all();
    cr_assert_eq(find(&l, "1b01", 0)->next_attempt_ms, 21000);
    ctca_store_queue_items_cleanup(&l);
}

Test(store_queue, breaker_opens_after_failures_then_lets_one_probe_through)
{
    init_logs();
    char serial[8];
    for (int i = 0; i < 5; i++) {
        snprintf(serial, sizeof serial, "1c%02x", i);
        record(S, serial, false, 1700000000);
        OK(ctca_store_queue_add(S, serial, 1, LOGS[0], 1, 0, NULL));
    }
    ctca_store_queue_failure f = {.error = "connection refused", .log_fault = true};
    ctca_store_queue_items l = lease("w", 1000, 2);
    cr_assert_eq(l.count, 2);
    OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, 1000, NULL));
    ctca_store_breaker b;
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_CLOSED);
    cr_assert_eq(b.failures, 1);
    OK(ctca_store_queue_fail(S, l.items[1].id, "w", &f, &POLICY, 1000, NULL));
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_OPEN);
    cr_assert_eq(b.open_until_ms, 31000);

    l = lease("w", 30999, 10);
    cr_assert_eq(l.count, 0, "no item while the breaker is open");
    ctca_store_queue_items_cleanup(&l);
    l = lease("w", 31000, 10);
    cr_assert_eq(l.count, 1, "one probe after the cool-down");
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_HALF_OPEN);
    ctca_store_queue_items none = lease("x", 31001, 10);
    cr_assert_eq(none.count, 0, "no second probe while one is out");
    ctca_store_queue_items_cleanup(&none);

    /* A failed probe reopens at once. */
    OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, 32000, NULL));
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_OPEN);
    cr_assert_eq(b.open_until_ms, 62000);

    /* A successful probe closes it and everything flows again. */
    l = lease("w", 62000, 10);
    cr_assert_eq(l.count, 1);
    OK(ctca_store_queue_complete(S, l.items[0].id, "w", "SCT stored", true, 62100));
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_CLOSED);
    cr_assert_eq(b.failures, 0);
    l = lease("w", 200000, 10);
    cr_assert_eq(l.count, 4);
    ctca_store_queue_items_cleanup(&l);

    ctca_store_audit_list a;
    OK(ctca_store_audit_read(S, 0, CTCA_STORE_AUDIT_PAGE_MAX, &a));
    size_t opened = 0, closed = 0;
    for (size_t i = 0; i < a.count; i++) {
        opened += strcmp(a.items[i].event, "breaker.open") == 0;
        closed += strcmp(a.items[i].event, "breaker.closed") == 0;
    }
    ctca_store_audit_list_cleanup(&a);
    cr_assert_eq(opened, 2);
    cr_assert_eq(closed, 1);
}

Test(store_queue, a_released_item_keeps_its_attempts_and_a_permanent_failure_parks_at_once)
{
    init_logs();
    record(S, "1d01", false, 1700000000);
    OK(ctca_store_queue_add(S, "1d01", 1, LOGS[0], 1, 0, NULL));
    ctca_store_queue_items l = lease("w", 1000, 10);
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_queue_release(S, l.items[0].id, "other", 5000, 1000));
    OK(ctca_store_queue_release(S, l.items[0].id, "w", 5000, 1000));
    int64_t id = l.items[0].id;
    ctca_store_queue_items_cleanup(&l);
    l = list_all();
    cr_assert_eq(l.items[0].state, CTCA_QUEUE_PENDING);
    cr_assert_eq(l.items[0].attempts, 0);
    cr_assert_eq(l.items[0].next_attempt_ms, 5000);
    ctca_store_queue_items_cleanup(&l);

    l = lease("w", 5000, 10);
    ctca_store_queue_failure f = {.error = "log is not in the log list", .permanent = true};
    ctca_store_queue_state st;
    OK(ctca_store_queue_fail(S, id, "w", &f, &POLICY, 5000, &st));
    cr_assert_eq(st, CTCA_QUEUE_PARKED);
    ctca_store_queue_items_cleanup(&l);
    l = list_all();
    cr_assert_eq(l.items[0].attempts, 1);
    cr_assert_str_eq(l.items[0].note, "log is not in the log list");
    ctca_store_queue_items_cleanup(&l);
    ctca_store_breaker b;
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.failures, 0, "not the log's fault");
}

Test(store_queue, settle_finishes_the_remaining_items_of_a_serial)
{
    init_logs();
    record(S, "1e01", false, 1700000000);
    OK(ctca_store_queue_add(S, "1e01", 1, LOGS[0], 3, 0, NULL));
    ctca_store_queue_items l = lease("w", 1000, 1);
    OK(ctca_store_queue_complete(S, l.items[0].id, "w", "SCT stored", true, 1100));
    ctca_store_queue_items_cleanup(&l);
    l = lease("w", 1200, 1); /* held by a live worker: left alone */
    size_t n = 0;
    OK(ctca_store_queue_settle(S, "1e01", 1, "not needed: issued", 1300, &n));
    cr_assert_eq(n, 1);
    ctca_store_queue_items_cleanup(&l);
    size_t counts[4];
    OK(ctca_store_queue_count(S, "1e01", 1, counts));
    cr_assert_eq(counts[CTCA_QUEUE_DONE], 2);
    cr_assert_eq(counts[CTCA_QUEUE_LEASED], 1);
    cr_assert_eq(counts[CTCA_QUEUE_PENDING], 0);
}

Test(store_queue, backfill_queues_issued_certificates_without_an_sct_from_the_log)
{
    init_logs();
    record(S, "2a01", true, 1700000000);
    record(S, "2a02", true, 1700000000);
    record(S, "2a03", true, 1600000000); /* before --since */
    record(S, "2a04", false, 1700000000); /* not issued */
    record(S, "2a05", true, 1700000000);
    uint8_t sct[] = {0, 1, 2};
    OK(ctca_store_add_sct(S, "2a02", LOGS[3], 1, 1, 5, sct, sizeof sct, 2000));
    OK(ctca_store_queue_add(S, "2a05", 0, LOGS[3], 1, 2000, NULL));
    size_t added = 0;
    OK(ctca_store_queue_backfill(S, LOGS[3], 1650000000, 3000, &added));
    cr_assert_eq(added, 1);
    ctca_store_queue_items l = list_all();
    cr_assert_eq(l.count, 2);
    ctca_store_queue_item *it = find(&l, "2a01", 3);
    cr_assert_eq(it->entry_type, 0);
    cr_assert_eq(it->next_attempt_ms, 3000);
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_queue_backfill(S, LOGS[3], 1650000000, 4000, &added));
    cr_assert_eq(added, 0, "a second back-fill finds nothing new");
    OK(ctca_store_queue_backfill(S, LOGS[3], 0, 4000, &added));
    cr_assert_eq(added, 1, "an earlier --since reaches 2a03");
}

Test(store_queue, list_serials_filters_by_state_and_age_and_pages)
{
    init_logs();
    char serial[8];
    for (int i = 0; i < 5; i++) {
        snprintf(serial, sizeof serial, "3a%02x", i);
        record(S, serial, i == 4, 1700000000);
    }
    ctca_store_serial_list l;
    OK(ctca_store_list_serials(S, CTCA_STORE_PRECERT, INT64_MAX, NULL, 3, &l));
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(l.serials[0], "3a00");
    cr_assert_str_eq(l.serials[2], "3a02");
    ctca_store_serial_list_cleanup(&l);
    OK(ctca_store_list_serials(S, CTCA_STORE_PRECERT, INT64_MAX, "3a02", 3, &l));
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.serials[0], "3a03");
    ctca_store_serial_list_cleanup(&l);
    OK(ctca_store_list_serials(S, CTCA_STORE_PRECERT, 1001, NULL, 3, &l));
    cr_assert_eq(l.count, 0, "all were updated at 1001");
    ctca_store_serial_list_cleanup(&l);
    OK(ctca_store_list_serials(S, CTCA_STORE_ISSUED, INT64_MAX, NULL, 3, &l));
    cr_assert_eq(l.count, 1);
    ctca_store_serial_list_cleanup(&l);
}

static void raw_exec_fails(const char *sql, const char *why)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_neq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s succeeded", sql);
    cr_assert_not_null(strstr(sqlite3_errmsg(db), why), "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(store_queue, raw_sql_cannot_delete_items_or_reopen_a_done_one)
{
    init_logs();
    record(S, "4a01", false, 1700000000);
    OK(ctca_store_queue_add(S, "4a01", 1, LOGS[0], 2, 0, NULL));
    ctca_store_queue_items l = lease("w", 1000, 1);
    OK(ctca_store_queue_complete(S, l.items[0].id, "w", "SCT stored", true, 1100));
    ctca_store_queue_items_cleanup(&l);
    raw_exec_fails("DELETE FROM queue", "never deleted");
    raw_exec_fails("UPDATE queue SET state = 'pending' WHERE state = 'done'", "final");
    raw_exec_fails("UPDATE queue SET log_id = zeroblob(32) WHERE state <> 'done'", "identity");
    raw_exec_fails("UPDATE certs SET state = 'journaled'", "transition");
    raw_exec_fails("UPDATE queue SET state = 'leased' WHERE state = 'pending'", "CHECK");
}

/* Parks every item of l leased by "w" with a permanent failure reason. */
static void park_all(ctca_store_queue_items *l, const char *reason, int64_t now)
{
    for (size_t i = 0; i < l->count; i++) {
        ctca_store_queue_failure f = {.error = reason, .permanent = true};
        OK(ctca_store_queue_fail(S, l->items[i].id, "w", &f, &POLICY, now, NULL));
    }
}

static size_t audit_count(const char *event, const char *needle)
{
    ctca_store_audit_list a;
    OK(ctca_store_audit_read(S, 0, CTCA_STORE_AUDIT_PAGE_MAX, &a));
    size_t n = 0;
    for (size_t i = 0; i < a.count; i++)
        n += strcmp(a.items[i].event, event) == 0 && strstr(a.items[i].detail, needle) != NULL;
    ctca_store_audit_list_cleanup(&a);
    return n;
}

Test(store_queue, retry_requeues_wanted_parked_items_and_refuses_a_failed_issuance)
{
    init_logs();
    /* 5a01 issued (add-chain items), 5a02 deferred, 5a03 failed (precert items). */
    record(S, "5a01", false, 1700000000);
    uint8_t fin[] = {0x30, 0x01, 0x02};
    OK(ctca_store_put_final_queued(S, "5a01", fin, sizeof fin, LOGS[0], 2, 100));
    record(S, "5a02", false, 1700000000);
    OK(ctca_store_defer(S, "5a02", "logs down", LOGS[0], 2, 100));
    record(S, "5a03", false, 1700000000);
    OK(ctca_store_defer(S, "5a03", "logs down", LOGS[0], 2, 100));
    ctca_store_queue_items l = lease("w", 1000, 100);
    cr_assert_eq(l.count, 6);
    park_all(&l, "HTTP 400: unknown anchor", 1100);
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_mark_failed(S, "5a03", "the queue gave up", 1200));
    /* One item not parked: retry leaves it alone. */
    record(S, "5a04", false, 1700000000);
    OK(ctca_store_defer(S, "5a04", "logs down", LOGS[2], 1, 100));

    ctca_store_queue_items rq, rf;
    OK(ctca_store_queue_retry(S, NULL, NULL, 0, 100, true, 2000, &rq, &rf));
    cr_assert_eq(rq.count, 4, "the issued certificate's and the deferred record's items");
    cr_assert_eq(rf.count, 2, "the failed issuance's items");
    for (size_t i = 0; i < rf.count; i++)
        cr_assert_str_eq(rf.items[i].serial, "5a03");
    ctca_store_queue_items_cleanup(&rq);
    ctca_store_queue_items_cleanup(&rf);
    l = list_all();
    for (size_t i = 0; i < l.count; i++)
        cr_assert_eq(l.items[i].state,
                     strcmp(l.items[i].serial, "5a04") == 0 ? CTCA_QUEUE_PENDING
                                                              : CTCA_QUEUE_PARKED,
                     "a dry run changes nothing");
    ctca_store_queue_items_cleanup(&l);
    cr_assert_eq(audit_count("queue.retried", ""), 0);

    /* By serial and log, then everything, one item per page. */
    OK(ctca_store_queue_retry(S, "5a01", LOGS[1], 0, 100, false, 3000, &rq, &rf));
    cr_assert_eq(rq.count, 1);
    cr_assert_eq(rf.count, 0);
    cr_assert_str_eq(rq.items[0].note, "HTTP 400: unknown anchor", "the items as they were");
    ctca_store_queue_items_cleanup(&rq);
    ctca_store_queue_items_cleanup(&rf);
    l = list_all();
    ctca_store_queue_item *it = find(&l, "5a01", 1);
    cr_assert_eq(it->state, CTCA_QUEUE_PENDING);
    cr_assert_eq(it->attempts, 0);
    cr_assert_eq(it->next_attempt_ms, 3000);
    cr_assert_str_eq(it->note,
                     "retried by an operator; it was parked: HTTP 400: unknown anchor");
    cr_assert_str_eq(it->last_error, "HTTP 400: unknown anchor", "the history stays");
    cr_assert_eq(find(&l, "5a01", 0)->state, CTCA_QUEUE_PARKED);
    ctca_store_queue_items_cleanup(&l);

    size_t requeued = 0, refused = 0;
    int64_t after = 0;
    for (int pages = 0;; pages++) {
        cr_assert_lt(pages, 10);
        OK(ctca_store_queue_retry(S, NULL, NULL, after, 1, false, 4000, &rq, &rf));
        size_t n = rq.count + rf.count;
        cr_assert_leq(n, 1);
        requeued += rq.count;
        refused += rf.count;
        if (n == 1)
            after = rq.count ? rq.items[0].id : rf.items[0].id;
        ctca_store_queue_items_cleanup(&rq);
        ctca_store_queue_items_cleanup(&rf);
        if (n == 0)
            break;
    }
    cr_assert_eq(requeued, 3);
    cr_assert_eq(refused, 2);
    size_t counts[4];
    OK(ctca_store_queue_count(S, "5a02", 1, counts));
    cr_assert_eq(counts[CTCA_QUEUE_PENDING], 2, "the deferred record's items are due again");
    OK(ctca_store_queue_count(S, "5a03", 1, counts));
    cr_assert_eq(counts[CTCA_QUEUE_PARKED], 2, "a failed issuance's items stay parked");
    /* The journal keeps why each was parked, and that an operator retried it. */
    cr_assert_eq(audit_count("queue.parked", "HTTP 400: unknown anchor"), 6);
    cr_assert_eq(audit_count("queue.retried", "it was parked: HTTP 400: unknown anchor"), 4);
    cr_assert_eq(state_of("5a03"), CTCA_STORE_FAILED);

    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_queue_retry(S, "5A01", NULL, 0, 10, false, 1, &rq,
                                                        &rf));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_queue_retry(S, NULL, NULL, 0, 0, false, 1, &rq, &rf));
}

Test(store_queue, breaker_reset_closes_an_open_breaker_once_and_journals_it)
{
    init_logs();
    record(S, "5b01", false, 1700000000);
    OK(ctca_store_queue_add(S, "5b01", 1, LOGS[0], 1, 0, NULL));
    ctca_store_breaker b;
    OK(ctca_store_breaker_reset(S, LOGS[0], 500, &b));
    cr_assert_eq(b.state, CTCA_BREAKER_CLOSED, "a log never seen is closed");
    cr_assert_eq(audit_count("breaker.reset", ""), 0);
    for (int i = 0; i < 2; i++) {
        ctca_store_queue_items l = lease("w", 1000 + i * 60000, 1);
        cr_assert_eq(l.count, 1);
        ctca_store_queue_failure f = {.error = "HTTP 503", .log_fault = true};
        OK(ctca_store_queue_fail(S, l.items[0].id, "w", &f, &POLICY, 1000 + i * 60000, NULL));
        ctca_store_queue_items_cleanup(&l);
    }
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_OPEN);

    OK(ctca_store_breaker_reset(S, LOGS[0], 70000, &b));
    cr_assert_eq(b.state, CTCA_BREAKER_OPEN, "*was is the breaker before");
    cr_assert_eq(b.failures, 2);
    OK(ctca_store_breaker_get(S, LOGS[0], &b));
    cr_assert_eq(b.state, CTCA_BREAKER_CLOSED);
    cr_assert_eq(b.failures, 0);
    cr_assert_eq(audit_count("breaker.reset", "by an operator; was open, failures=2"), 1);
    /* Closed, its item is leased again before the cool-down would have ended. */
    ctca_store_queue_items l;
    OK(ctca_store_queue_lease(S, "w", 70001, INT64_MAX, 60000, 10, &POLICY, &l));
    cr_assert_eq(l.count, 1);
    ctca_store_queue_items_cleanup(&l);
    OK(ctca_store_breaker_reset(S, LOGS[0], 70002, NULL));
    cr_assert_eq(audit_count("breaker.reset", ""), 1, "a closed breaker is left as it is");
}

/* A version-1 store written before the queue existed migrates with its rows,
 * ids, SCTs and audit journal, and its triggers still hold. */
Test(store_queue, a_version_1_store_migrates_with_everything_kept)
{
    ctca_store_close(S);
    S = NULL;
    th_rmdir(dir);
    free(dir);
    dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/ctca.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, st_migration_sql(0), NULL, NULL, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    cr_assert_eq(
        sqlite3_exec(db,
                     "PRAGMA user_version = 1;"
                     "INSERT INTO certs (id, serial, state, profile, ct_version, csr_sha256, tbs,"
                     " precert, final, not_before, not_after, created_ms, updated_ms, last_error)"
                     " VALUES (7, '5a01', 'failed', 'p', 1, zeroblob(32), x'3000', x'3001', NULL,"
                     " 1, 2, 3, 4, 'logs down');"
                     "INSERT INTO scts (serial, log_id, entry_type, ct_version, timestamp_ms, sct,"
                     " created_ms) VALUES ('5a01', zeroblob(32), 1, 1, 5, x'00', 6);"
                     "INSERT INTO audit (at_ms, event, serial, detail) VALUES (8, 'old', NULL, '');",
                     NULL, NULL, NULL),
        SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &S, &eb), CTCA_OK, "open: %s", eb.msg);
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "5a01", &c));
    cr_assert_eq(c.state, CTCA_STORE_FAILED);
    cr_assert_str_eq(c.last_error, "logs down");
    cr_assert_eq(c.precert_len, 2);
    cr_assert_eq(c.updated_ms, 4);
    ctca_store_cert_cleanup(&c);
    ctca_store_sct_list scts;
    OK(ctca_store_list_scts(S, "5a01", &scts));
    cr_assert_eq(scts.count, 1);
    ctca_store_sct_list_cleanup(&scts);
    ctca_store_audit_list a;
    OK(ctca_store_audit_read(S, 0, 10, &a));
    cr_assert_eq(a.count, 1);
    cr_assert_str_eq(a.items[0].event, "old");
    ctca_store_audit_list_cleanup(&a);
    OK(ctca_store_integrity_check(S));

    init_logs();
    OK(ctca_store_defer(S, "5a01", "retry", LOGS[0], 1, 10));
    cr_assert_eq(state_of("5a01"), CTCA_STORE_DEFERRED);
    raw_exec_fails("DELETE FROM certs", "never deleted");
    raw_exec_fails("UPDATE certs SET tbs = x'3002'", "immutable");
    raw_exec_fails("DELETE FROM scts", "never deleted");
    /* Foreign keys are back on for the store's own connection. */
    cr_assert_neq(sqlite3_exec(S->db,
                               "INSERT INTO scts (serial, log_id, entry_type, ct_version,"
                               " timestamp_ms, sct, created_ms)"
                               " VALUES ('ffff', zeroblob(32), 1, 1, 5, x'00', 6)",
                               NULL, NULL, NULL),
                  SQLITE_OK);
    cr_assert_not_null(strstr(sqlite3_errmsg(S->db), "FOREIGN KEY"), "%s",
                       sqlite3_errmsg(S->db));
}
