/* The queue worker (ctca/queue.h). It coordinates only: leases and outcomes
 * are the store's, submissions the ctclient's, SCT checks sct.c's, and
 * finishing an issuance the engine's (ctca/issue.h). */
#include "ctca/queue.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base/failpoint_int.h"
#include "core/engine/owner_int.h"
#include "core/engine/scheme_int.h"
#include "core/x509/x509_int.h"
#include "ctca/ctclient.h"
#include "ctca/issue.h"
#include "ctca/loglist.h"
#include "ctca/sct.h"
#include "ctca/store.h"
#include "ctca/util.h"

#define SWEEP_PAGE 256

typedef struct worker {
    const ctca_ca *ca;
    const ctca_queue_run_opts *o;
    const ctca_queue_settings *qs;
    const ctca_ct_settings *ct;
    ctca_store_queue_policy policy;
    ctca_store *store;
    ctca_ctclient *client;
    ctca_log_list *list;
    char owner[CTCA_STORE_OWNER_MAX + 1];
    ctca_store_owner self; /* this process, as records name their owners */
    bool self_known;
    ctca_queue_stats *stats;
    uint64_t rng;
    int64_t (*clock_ms)(void *arg); /* o's, or ctca_now_ms */
    void *clock_arg;
    ctca_err err; /* a failure that ends the run (set from callbacks too) */
    ctca_errbuf *eb;
} worker;

/* One leased item on its way to its log. */
typedef struct job_item {
    worker *w;
    const ctca_store_queue_item *it;
    const ctca_log_info *log;
    ctca_log_key *key;
    uint8_t *der; /* the precertificate or certificate submitted */
    size_t der_len;
    const ctca_ct_scheme *scheme; /* the record's */
    ctca_ct_entry entry;          /* what the log signs, and the submitted chain */
    bool in_flight;
} job_item;

static void progress(const worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const worker *w, const char *fmt, ...)
{
    if (w->o->progress == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->o->progress, fmt, ap);
    va_end(ap);
    fputc('\n', w->o->progress);
    fflush(w->o->progress);
}

static int64_t default_clock(void *arg)
{
    (void)arg;
    return ctca_now_ms();
}

/* The worker's wall clock (ctca_queue_run_opts.clock_ms). */
static int64_t now_ms(const worker *w)
{
    return w->clock_ms(w->clock_arg);
}

/* splitmix64: the backoff's jitter needs spread, not secrecy. */
static uint32_t next_rand(worker *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* A store failure ends the run: the queue's state can no longer be trusted
 * to be recorded. */
static ctca_err store_failed(worker *w, ctca_err rc, const char *what)
{
    if (w->err == CTCA_OK) {
        w->err = rc;
        ctca_errbuf_set(w->eb, rc, "%s: %s", what, ctca_store_errmsg(w->store));
    }
    return rc;
}

/* ---- recording an item's outcome ----------------------------------------------- */

static void item_done(worker *w, const ctca_store_queue_item *it, const char *note, bool log_ok)
{
    ctca_err rc = ctca_store_queue_complete(w->store, it->id, w->owner, note, log_ok,
                                            now_ms(w));
    if (rc == CTCA_ERR_STORE_CONFLICT) {
        progress(w, "item %lld: %s", (long long)it->id, ctca_store_errmsg(w->store));
        return;
    }
    if (rc != CTCA_OK)
        (void)store_failed(w, rc, "completing a queue item");
}

static void item_failed(worker *w, const ctca_store_queue_item *it, ctca_store_queue_failure *f)
{
    ctca_store_queue_state st = CTCA_QUEUE_PENDING;
    f->rnd = next_rand(w);
    ctca_err rc = ctca_store_queue_fail(w->store, it->id, w->owner, f, &w->policy,
                                        now_ms(w), &st);
    if (rc == CTCA_ERR_STORE_CONFLICT) {
        progress(w, "item %lld: %s", (long long)it->id, ctca_store_errmsg(w->store));
        return;
    }
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "recording a failed attempt");
        return;
    }
    if (st == CTCA_QUEUE_PARKED)
        w->stats->parked++;
    else
        w->stats->retried++;
    progress(w, "serial %s: %s: %s (%s)", it->serial, it->entry_type ? "precert" : "x509",
             f->error, st == CTCA_QUEUE_PARKED ? "parked" : "will retry");
}

/* Sorts a log's answer into retry or park, and whether it counts against
 * the log's breaker. */
static void classify(const ctca_ctresult *r, ctca_store_queue_failure *f, char *why, size_t n)
{
    f->log_fault = true;
    f->permanent = false;
    f->retry_after_ms = 0;
    if (r->err == CTCA_ERR_HTTP_STATUS && r->http_status == 429) {
        f->retry_after_ms = r->retry_after > 0 ? (int64_t)r->retry_after * 1000 : 0;
        snprintf(why, n, "rate limited: %s%s", r->detail,
                 r->retry_after >= 0 ? " (Retry-After honoured)" : "");
    } else if (r->err == CTCA_ERR_HTTP_STATUS && r->http_status >= 400 &&
               r->http_status < 500 && r->http_status != 408) {
        /* The log is up and refuses this chain: asking again cannot help. */
        f->permanent = true;
        f->log_fault = false;
        snprintf(why, n, "the log refused the submission: %s", r->detail);
    } else {
        f->log_fault = r->err != CTCA_ERR_NOMEM;
        snprintf(why, n, "%s: %s", ctca_err_str(r->err), r->detail);
    }
    f->error = why;
}

/* ---- submitting --------------------------------------------------------------------- */

/* A log's answer verified over j's entry by the record's scheme. */
static ctca_err verify_sct(const job_item *j, ctca_view bytes, uint64_t *timestamp)
{
    ctca_ct_answer a = {0};
    ctca_err rc = j->scheme->ops->verify(&j->entry, j->log, j->key, bytes,
                                         (uint64_t)now_ms(j->w), false, &a);
    *timestamp = a.timestamp;
    return rc;
}

static bool on_result(const ctca_ctresult *r, void *arg)
{
    job_item *j = arg;
    worker *w = j->w;
    const ctca_store_queue_item *it = j->it;
    char why[400];
    ctca_store_queue_failure f = {0};
    j->in_flight = false;
    w->stats->submitted++;
    if (r->err != CTCA_OK) {
        classify(r, &f, why, sizeof why);
        if (f.retry_after_ms > (int64_t)w->policy.backoff_max_ms) /* one answer, bounded */
            f.retry_after_ms = (int64_t)w->policy.backoff_max_ms;
        item_failed(w, it, &f);
        return true;
    }
    uint64_t timestamp = 0;
    ctca_err rc = verify_sct(j, r->sct, &timestamp);
    if (rc != CTCA_OK) {
        snprintf(why, sizeof why, "SCT rejected: %s", ctca_err_str(rc));
        f.error = why;
        f.log_fault = true;
        item_failed(w, it, &f);
        return true;
    }
    /* Both versions are kept under the log's key hash (ctca/store.h). */
    rc = ctca_store_add_sct(w->store, it->serial, j->log->log_id, it->entry_type,
                            (int)j->scheme->ct_version, timestamp, r->sct.data, r->sct.len,
                            now_ms(w));
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "storing an SCT");
        return true;
    }
    CTCA_TEST_PAUSE("queue-sct");
    w->stats->done++;
    item_done(w, it, "SCT stored", true);
    progress(w, "serial %s: %s SCT from %s stored", it->serial,
             it->entry_type ? "precert" : "x509", j->log->url);
    return true;
}

static void job_cleanup(job_item *j)
{
    ctca_log_key_free(j->key);
    free(j->der);
    ctca_ct_entry_cleanup(&j->entry);
}

/* Loads what item j needs and starts its submission; an item that cannot be
 * submitted is recorded here (done when not needed, parked when it never
 * can be). */
static void job_start(worker *w, job_item *j, uint64_t deadline_ms)
{
    const ctca_store_queue_item *it = j->it;
    ctca_store_cert c = {0};
    ctca_store_queue_failure f = {.permanent = true};
    char why[300];
    ctca_err rc = ctca_store_get_cert(w->store, it->serial, &c);
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "reading a queued record");
        goto out;
    }
    bool precert = it->entry_type == CTCA_ENTRY_PRECERT;
    if (precert && c.state == CTCA_STORE_ISSUED) {
        w->stats->settled++;
        item_done(w, it, "not needed: the certificate was issued", false);
        goto out;
    }
    if ((j->log = ctca_log_list_find(w->list, it->log_id)) == NULL) {
        /* Name the list the record was issued with when it is another one:
         * that is where the log was. */
        bool other = c.log_list_path != NULL &&
                     (w->list->path == NULL ||
                      memcmp(c.log_list_sha256, w->list->sha256, sizeof w->list->sha256) != 0);
        snprintf(why, sizeof why, "the log is not in the log list%s%s%s", other ? " (serial " : "",
                 other ? it->serial : "", other ? " was issued with " : "");
        if (other)
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s: pass it with --log-list)",
                     c.log_list_path);
        f.error = why;
        item_failed(w, it, &f);
        goto out;
    }
    if ((j->scheme = ctca_ct_scheme_for((unsigned)c.ct_version)) == NULL) {
        f.error = "the record has an unknown CT version";
        item_failed(w, it, &f);
        goto out;
    }
    if (!ctca_scheme_speaks(j->scheme, j->log)) {
        f.error = "the log speaks another CT version than the record's";
        item_failed(w, it, &f);
        goto out;
    }
    uint8_t **src = precert ? &c.precert_der : &c.final_der;
    size_t src_len = precert ? c.precert_len : c.final_len;
    if (*src == NULL) {
        f.error = precert ? "no precertificate is stored" : "no certificate is stored";
        item_failed(w, it, &f);
        goto out;
    }
    j->der = *src;
    j->der_len = src_len;
    *src = NULL;
    if (ctca_log_key_from_spki(ctca_view_make(j->log->key_der, j->log->key_len), &j->key) !=
        CTCA_OK) {
        f.error = "the log list's key for this log is unusable";
        item_failed(w, it, &f);
        goto out;
    }
    /* RFC 6962 3.2 and 4.2: with a PreCA, the chain holds it and the entry
     * is the TBS rewritten to the CA; RFC 9162 8.1.3: the precertificate's
     * entry is the journaled TBS (the CMS eContent), a certificate's its own
     * TBS. */
    ctca_view der = ctca_view_make(j->der, j->der_len);
    const struct ctca_scheme_ops *ops = j->scheme->ops;
    rc = precert ? ops->precert_entry(w->ca, ctca_view_make(c.tbs, c.tbs_len), der, &j->entry)
                 : ops->cert_entry(w->ca, der, &j->entry);
    j->entry.not_before_ms = c.not_before * 1000;
    if (rc != CTCA_OK) {
        snprintf(why, sizeof why, "the stored %s is unusable: %s",
                 precert ? "precertificate" : "certificate", ctca_err_str(rc));
        f.error = why;
        f.permanent = rc != CTCA_ERR_NOMEM;
        item_failed(w, it, &f);
        goto out;
    }
    ctca_ctlog_request req = {.base_url = j->log->url, .timeout_ms = w->ct->log_timeout_ms};
    ctca_ctsubmission sub = {
        .endpoint = ops->endpoint[it->entry_type],
        .chain = j->entry.chain, .chain_len = j->entry.chain_len, .logs = &req, .n_logs = 1,
        .deadline_ms = deadline_ms, .cb = on_result, .cb_arg = j,
    };
    if ((rc = ctca_ctclient_start(w->client, &sub, NULL)) != CTCA_OK) {
        snprintf(why, sizeof why, "cannot submit to %s: %s", j->log->url, ctca_err_str(rc));
        f.error = why;
        f.permanent = rc == CTCA_ERR_CONFIG;
        item_failed(w, it, &f);
        goto out;
    }
    j->in_flight = true;
out:
    ctca_store_cert_cleanup(&c);
}

/* ---- finishing issuances ---------------------------------------------------------- */

static bool same_owner(const ctca_store_owner *a, const ctca_store_owner *b)
{
    return a->pid == b->pid && a->start == b->start && strcmp(a->kernel, b->kernel) == 0 &&
           strcmp(a->host, b->host) == 0;
}

/* Whether this worker may finish deferred record serial, claiming it first
 * unless it is this worker's: a ctca batch re-run that resumes a deferred
 * record claims it too, so of the two exactly one finishes it. A record whose
 * owner runs in this kernel and PID namespace (a batch finishing it, another
 * worker) is left to that owner, or to whoever finds it ended; an owner that
 * cannot be checked from here does not hold the worker back, as before
 * owners were recorded. An issued record may be "finished": its items are
 * settled. */
static bool may_finish(worker *w, const char *serial)
{
    ctca_store_unfinished u;
    bool claimed = false;
    ctca_err rc = ctca_store_get_unfinished(w->store, serial, &u);
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "reading a deferred record's owner");
        return false;
    }
    if (u.state != CTCA_STORE_DEFERRED)
        return u.state == CTCA_STORE_ISSUED;
    ctca_owner_liveness l = CTCA_OWNER_UNKNOWN;
    if (u.has_owner && w->self_known) {
        if (same_owner(&u.owner, &w->self))
            return true; /* this worker's already */
        l = ctca_owner_liveness_of(&u.owner, &w->self);
    }
    /* A deferred record waits for no one: an owner that may be gone does
     * not hold the worker back. */
    if (!ctca_owner_may_take_over(&u, l, w->self_known ? &w->self : NULL, true, now_ms(w), -1))
        return false;
    rc = ctca_store_claim(w->store, &u, w->self_known ? &w->self : NULL, now_ms(w), &claimed);
    if (rc != CTCA_OK)
        (void)store_failed(w, rc, "claiming a deferred issuance");
    return rc == CTCA_OK && claimed;
}

static bool serial_in(char (*serials)[CTCA_STORE_SERIAL_MAX + 1], size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(serials[i], s) == 0)
            return true;
    return false;
}

static void settle_items(worker *w, const char *serial, const char *note)
{
    size_t n = 0;
    ctca_err rc = ctca_store_queue_settle(w->store, serial, CTCA_ENTRY_PRECERT, note,
                                          now_ms(w), &n);
    if (rc != CTCA_OK)
        (void)store_failed(w, rc, "settling queue items");
    w->stats->settled += n;
}

/* serial's issuance rebuilt from the store, on the worker's clock. */
static ctca_err resume(worker *w, const char *serial, ctca_issuance **is, ctca_errbuf *eb)
{
    ctca_err rc = ctca_issuance_resume(w->ca, w->store, serial, w->list, NULL, now_ms(w), is, eb);
    if (rc == CTCA_OK)
        ctca_issuance_set_clock(*is, w->clock_ms, w->clock_arg);
    return rc;
}

/* The policy is not met and nothing of serial's is leased: spares (for the
 * logs not tried and for items due too late), or give up. */
static void requeue_or_fail(worker *w, ctca_issuance *is, const char *serial, const char *why)
{
    ctca_errbuf eb = {{0}};
    size_t n = 0;
    ctca_err rc = ctca_issuance_defer(is, w->store, why, &n, &eb);
    if (rc == CTCA_OK) {
        if (n > 0)
            progress(w, "serial %s: %zu more log%s queued", serial, n, n == 1 ? "" : "s");
        return;
    }
    if (rc != CTCA_ERR_NO_LOGS) {
        (void)store_failed(w, rc, eb.msg);
        return;
    }
    char reason[CTCA_STORE_TEXT_MAX];
    snprintf(reason, sizeof reason, "the queue gave up: every eligible log was tried (see "
             "'ctca queue list'): %s", why);
    if ((rc = ctca_store_mark_failed(w->store, serial, reason, now_ms(w))) != CTCA_OK) {
        (void)store_failed(w, rc, "marking a deferred issuance failed");
        return;
    }
    w->stats->failed++;
    progress(w, "serial %s: failed: %s", serial, reason);
}

/* A revoked issuance ends: failed, its queued submissions not needed. */
static void end_revoked(worker *w, const char *serial, const char *why)
{
    ctca_err rc = ctca_store_mark_failed(w->store, serial, why, now_ms(w));
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "marking a revoked issuance failed");
        return;
    }
    settle_items(w, serial, "not needed: the serial is revoked");
    w->stats->failed++;
    progress(w, "serial %s: revoked, not issued", serial);
}

/* Finishes serial's deferred issuance when its stored SCTs comply; otherwise,
 * once nothing is pending for it, queues spares or gives up. Another live
 * owner's record is left alone (may_finish). */
static void finish_serial(worker *w, const char *serial)
{
    ctca_issuance *is = NULL;
    ctca_issue_result res = {0};
    ctca_errbuf eb = {{0}};
    size_t counts[4];
    if (!may_finish(w, serial))
        return;
    ctca_err rc = resume(w, serial, &is, &eb);
    if (rc == CTCA_ERR_STORE_CONFLICT) {
        /* Finished meanwhile (another worker): what is queued is not needed. */
        settle_items(w, serial, "not needed: the certificate was issued");
        return;
    }
    if (rc != CTCA_OK) {
        progress(w, "serial %s: cannot resume: %s", serial, eb.msg);
        if (ctca_err_category_of(rc) == CTCA_CAT_STORE)
            (void)store_failed(w, rc, eb.msg);
        return;
    }
    rc = ctca_issuance_finish(is, w->store, &res, &eb);
    if (rc == CTCA_OK) {
        w->stats->issued++;
        progress(w, "serial %s: issued with %zu embedded SCTs", serial, res.n_embedded);
        settle_items(w, serial, "not needed: the certificate was issued");
    } else if (rc == CTCA_ERR_REVOKED) {
        end_revoked(w, serial, eb.msg);
    } else if (rc == CTCA_ERR_STORE_CONFLICT) {
        settle_items(w, serial, "not needed: the certificate was issued");
    } else if (rc == CTCA_ERR_POLICY_UNMET) {
        rc = ctca_store_queue_count(w->store, serial, CTCA_ENTRY_PRECERT, counts);
        if (rc != CTCA_OK)
            (void)store_failed(w, rc, "counting queue items");
        else if (counts[CTCA_QUEUE_LEASED] == 0)
            requeue_or_fail(w, is, serial, eb.msg); /* spares for items due too late */
    } else {
        progress(w, "serial %s: cannot finish: %s", serial, eb.msg);
        if (ctca_err_category_of(rc) == CTCA_CAT_STORE)
            (void)store_failed(w, rc, eb.msg);
    }
    ctca_issue_result_cleanup(&res);
    ctca_issuance_free(is);
}

/* Deferred issuances with nothing pending: finished, given spares, or failed.
 * Catches a worker that died between its last item and the finish. */
static void sweep_deferred(worker *w)
{
    char after[CTCA_STORE_SERIAL_MAX + 1] = "";
    for (;;) {
        ctca_store_serial_list l;
        ctca_err rc = ctca_store_list_serials(w->store, CTCA_STORE_DEFERRED, INT64_MAX,
                                              after[0] ? after : NULL, SWEEP_PAGE, &l);
        if (rc != CTCA_OK) {
            (void)store_failed(w, rc, "listing deferred issuances");
            return;
        }
        for (size_t i = 0; i < l.count && w->err == CTCA_OK; i++) {
            size_t counts[4];
            rc = ctca_store_queue_count(w->store, l.serials[i], CTCA_ENTRY_PRECERT, counts);
            if (rc != CTCA_OK) {
                (void)store_failed(w, rc, "counting queue items");
                break;
            }
            if (counts[CTCA_QUEUE_PENDING] + counts[CTCA_QUEUE_LEASED] == 0)
                finish_serial(w, l.serials[i]);
        }
        size_t n = l.count;
        if (n > 0)
            memcpy(after, l.serials[n - 1], sizeof after);
        ctca_store_serial_list_cleanup(&l);
        if (n < SWEEP_PAGE || w->err != CTCA_OK)
            return;
    }
}

/* ---- taking over abandoned issuances ------------------------------------------------ */

/* Applies the configured fallback to an issuance whose process died. */
static void take_over(worker *w, const char *serial)
{
    ctca_issuance *is = NULL;
    ctca_issue_result res = {0};
    ctca_errbuf eb = {{0}};
    ctca_err rc = resume(w, serial, &is, &eb);
    if (rc != CTCA_OK) {
        progress(w, "serial %s: cannot take over: %s", serial, eb.msg);
        return;
    }
    w->stats->recovered++;
    rc = ctca_issuance_finish(is, w->store, &res, &eb);
    if (rc == CTCA_OK) {
        w->stats->issued++;
        progress(w, "serial %s: taken over and issued with %zu embedded SCTs", serial,
                 res.n_embedded);
    } else if (rc == CTCA_ERR_REVOKED) {
        end_revoked(w, serial, eb.msg);
    } else if (rc == CTCA_ERR_POLICY_UNMET) {
        /* The fallback the request chose, journaled with its record. */
        char why[CTCA_STORE_TEXT_MAX];
        snprintf(why, sizeof why, "taken over by the queue (the issuing process ended): %s",
                 eb.msg);
        ctca_issue_result_cleanup(&res);
        const char *mode = ctca_fallback_name(ctca_issuance_fallback(is));
        rc = ctca_issuance_fall_back(is, w->store, why, &res, &eb);
        if (rc == CTCA_OK)
            progress(w, "serial %s: taken over and issued without embedded SCTs", serial);
        else if (rc == CTCA_ERR_DEFERRED)
            progress(w, "serial %s: taken over and deferred", serial);
        else if (rc == CTCA_ERR_POLICY_UNMET)
            progress(w, "serial %s: taken over and failed (fallback %s)", serial, mode);
        else
            (void)store_failed(w, rc, eb.msg);
    } else {
        progress(w, "serial %s: cannot take over: %s", serial, eb.msg);
    }
    ctca_issue_result_cleanup(&res);
    ctca_issuance_free(is);
}

/* Whether precert record u is abandoned, by the takeover rule
 * (ctca_owner_may_take_over; this worker's own earlier claims left
 * unfinished fall to the time rule). *last and *last_verdict cache the
 * previous record's owner: a batch's records are listed together. */
static bool abandoned(const worker *w, const ctca_store_unfinished *u, int64_t now,
                      ctca_store_owner *last, ctca_owner_liveness *last_verdict)
{
    ctca_owner_liveness l = CTCA_OWNER_UNKNOWN;
    if (u->has_owner && w->self_known) {
        if (!same_owner(last, &u->owner)) {
            *last = u->owner;
            *last_verdict = ctca_owner_liveness_of(&u->owner, &w->self);
        }
        l = *last_verdict;
    }
    return ctca_owner_may_take_over(u, l, w->self_known ? &w->self : NULL, true, now,
                                    (int64_t)w->qs->recover_after_ms);
}

/* A precertificate is a binding commitment to issue (DESIGN.md step 2): one
 * whose process died is completed. A record only journaled was never signed
 * and commits nothing; it is left as it is (a re-run issues afresh, as ctca
 * batch does), so the queue never signs for a request nobody waits for.
 * Claiming first makes this worker the owner, so of several workers one
 * takes a record over, and the others see a live owner. */
static void recover(worker *w)
{
    int64_t now = now_ms(w);
    char after[CTCA_STORE_SERIAL_MAX + 1] = "";
    ctca_store_owner last;
    ctca_owner_liveness last_verdict = CTCA_OWNER_UNKNOWN;
    memset(&last, 0, sizeof last);
    for (;;) {
        ctca_store_unfinished_list l;
        ctca_err rc = ctca_store_list_unfinished(w->store, CTCA_STORE_PRECERT,
                                                 after[0] ? after : NULL, SWEEP_PAGE, &l);
        if (rc != CTCA_OK) {
            (void)store_failed(w, rc, "listing unfinished issuances");
            return;
        }
        for (size_t i = 0; i < l.count && w->err == CTCA_OK; i++) {
            const ctca_store_unfinished *u = &l.items[i];
            bool claimed = false;
            if (!abandoned(w, u, now, &last, &last_verdict))
                continue;
            rc = ctca_store_claim(w->store, u, w->self_known ? &w->self : NULL, now_ms(w),
                                  &claimed);
            if (rc != CTCA_OK)
                (void)store_failed(w, rc, "claiming an unfinished issuance");
            else if (claimed)
                take_over(w, u->serial);
        }
        size_t n = l.count;
        if (n > 0)
            memcpy(after, l.items[n - 1].serial, sizeof after);
        ctca_store_unfinished_list_cleanup(&l);
        if (n < SWEEP_PAGE || w->err != CTCA_OK)
            return;
    }
}

/* ---- one round ------------------------------------------------------------------------- */

/* Leases a batch due by due_ms, submits it, records every outcome, then
 * finishes the deferred issuances it touched. *leased gets the batch size. */
static void run_round(worker *w, int64_t due_ms, size_t *leased)
{
    ctca_store_queue_items items = {0};
    job_item *jobs = NULL;
    char (*touched)[CTCA_STORE_SERIAL_MAX + 1] = NULL;
    size_t n_touched = 0;
    *leased = 0;
    ctca_err rc = ctca_store_queue_lease(w->store, w->owner, now_ms(w), due_ms,
                                         w->qs->lease_ms, w->qs->batch, &w->policy, &items);
    if (rc != CTCA_OK) {
        (void)store_failed(w, rc, "leasing queue items");
        return;
    }
    *leased = items.count;
    if (items.count == 0)
        goto out;
    CTCA_TEST_PAUSE("queue-leased");
    jobs = calloc(items.count, sizeof *jobs);
    touched = calloc(items.count, sizeof *touched);
    if (jobs == NULL || touched == NULL) {
        w->err = ctca_errbuf_set(w->eb, CTCA_ERR_NOMEM, "allocating a batch");
        goto out;
    }
    /* The lease must outlive every submission, so no item is ever sent by two
     * workers at once. */
    uint32_t budget = w->ct->log_timeout_ms < w->qs->lease_ms / 2 ? w->ct->log_timeout_ms
                                                                   : w->qs->lease_ms / 2;
    uint64_t deadline = ctca_ctclient_now_ms(w->client) + budget;
    for (size_t i = 0; i < items.count && w->err == CTCA_OK; i++) {
        jobs[i].w = w;
        jobs[i].it = &items.items[i];
        job_start(w, &jobs[i], deadline);
        if (items.items[i].entry_type == CTCA_ENTRY_PRECERT &&
            !serial_in(touched, n_touched, items.items[i].serial))
            memcpy(touched[n_touched++], items.items[i].serial, CTCA_STORE_SERIAL_MAX + 1);
    }
    size_t active = 1;
    while (active > 0 && w->err == CTCA_OK) {
        if ((rc = ctca_ctclient_run(w->client, 1000, &active)) != CTCA_OK) {
            w->err = ctca_errbuf_set(w->eb, rc, "submitting to logs: %s", ctca_err_str(rc));
            break;
        }
    }
    if (w->err != CTCA_OK)
        goto out;
    CTCA_TEST_PAUSE("queue-done");
    for (size_t i = 0; i < n_touched && w->err == CTCA_OK; i++) {
        ctca_store_cert c = {0};
        if ((rc = ctca_store_get_cert(w->store, touched[i], &c)) != CTCA_OK) {
            (void)store_failed(w, rc, "reading a deferred record");
            break;
        }
        bool deferred = c.state == CTCA_STORE_DEFERRED;
        ctca_store_cert_cleanup(&c);
        if (deferred)
            finish_serial(w, touched[i]);
    }
out:
    for (size_t i = 0; jobs != NULL && i < items.count; i++)
        job_cleanup(&jobs[i]);
    free(jobs);
    free(touched);
    ctca_store_queue_items_cleanup(&items);
}

/* ---- the run ------------------------------------------------------------------------------ */

static void default_owner(worker *w)
{
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(w->owner, sizeof w->owner, "%s:%ld:%08x", host, (long)getpid(), next_rand(w));
}

static void nap(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

ctca_err ctca_queue_run(const ctca_ca *ca, const ctca_queue_run_opts *o, ctca_queue_stats *stats,
                        ctca_errbuf *eb)
{
    worker w = {.ca = ca, .o = o, .stats = stats, .eb = eb};
    memset(stats, 0, sizeof *stats);
    const ctca_config *cfg = ctca_ca_get0_config(ca);
    w.qs = ctca_config_get0_queue(cfg);
    w.ct = ctca_config_get0_ct(cfg);
    w.policy = (ctca_store_queue_policy){
        .max_attempts = w.qs->max_attempts, .backoff_base_ms = w.qs->backoff_base_ms,
        .backoff_max_ms = w.qs->backoff_max_ms, .breaker_failures = w.qs->breaker_failures,
        .breaker_cooldown_ms = w.qs->breaker_cooldown_ms};
    w.clock_ms = o->clock_ms ? o->clock_ms : default_clock;
    w.clock_arg = o->clock_ms ? o->clock_arg : NULL;
    /* A seed, not a time: two workers with one pinned clock still differ. */
    w.rng = (uint64_t)ctca_now_ms() ^ ((uint64_t)getpid() << 32);
    w.self_known = ctca_owner_self(&w.self);
    if (o->owner != NULL)
        snprintf(w.owner, sizeof w.owner, "%s", o->owner);
    else
        default_owner(&w);
    ctca_err rc = ctca_ca_load_log_list(ca, o->log_list_path, &w.list, eb);
    if (rc != CTCA_OK)
        return rc;
    ctca_ctclient_config ccfg = {.log_timeout_ms = w.ct->log_timeout_ms};
    if ((rc = ctca_store_open(ctca_ca_get0_store_path(ca), &w.store, eb)) != CTCA_OK ||
        (rc = ctca_ctclient_new(&ccfg, &w.client)) != CTCA_OK) {
        if (rc == CTCA_ERR_HTTP || rc == CTCA_ERR_NOMEM)
            ctca_errbuf_set(eb, rc, "starting the HTTP client: %s", ctca_err_str(rc));
        goto out;
    }
    recover(&w);
    sweep_deferred(&w);
    /* --once: what is due now, including what the two passes above queued. */
    int64_t due = now_ms(&w);
    while (w.err == CTCA_OK && !(o->stop != NULL && *o->stop)) {
        size_t leased = 0;
        run_round(&w, o->once ? due : now_ms(&w), &leased);
        if (w.err != CTCA_OK || leased > 0)
            continue;
        sweep_deferred(&w);
        if (o->once || (o->stop != NULL && *o->stop))
            break;
        nap(500);
        if (o->stop != NULL && *o->stop)
            break;
        recover(&w);
    }
    rc = w.err;
    if (rc == CTCA_OK) {
        size_t counts[4];
        if ((rc = ctca_store_queue_count(w.store, NULL, -1, counts)) != CTCA_OK)
            ctca_errbuf_set(eb, rc, "counting queue items: %s", ctca_store_errmsg(w.store));
        stats->pending = counts[CTCA_QUEUE_PENDING];
        stats->leased = counts[CTCA_QUEUE_LEASED];
    }
    /* What is left, so that a run never says "nothing left" while work is. */
    size_t precert = 0, deferred = 0;
    if (rc == CTCA_OK &&
        ((rc = ctca_store_count_state(w.store, CTCA_STORE_PRECERT, &precert)) != CTCA_OK ||
         (rc = ctca_store_count_state(w.store, CTCA_STORE_DEFERRED, &deferred)) != CTCA_OK))
        ctca_errbuf_set(eb, rc, "counting unfinished issuances: %s", ctca_store_errmsg(w.store));
    stats->unfinished = precert + deferred;
out:
    ctca_ctclient_free(w.client);
    ctca_store_close(w.store);
    ctca_log_list_free(w.list);
    return rc;
}
