/* ctca/queue.h - the queue worker: completes deferred issuances and logs
 * certificates issued without embedded SCTs (or back-filled into a log).
 *
 * One run leases due items from the store (ctca/store.h: leases, backoff,
 * parking, per-log circuit breakers), submits each to its log on one shared
 * ctca_ctclient (one connection pool, so a log's connection is reused),
 * verifies every SCT before storing it, and records each item's outcome. A
 * deferred issuance whose stored SCTs meet the CT policy is finished exactly as
 * synchronous issuance finishes (ctca_issuance_resume + ctca_issuance_finish:
 * final TBS, signature, release check, store); one whose items are all spent
 * gets spares (ctca_issuance_defer) and, when no log is left, is marked failed.
 * An issuance whose process died after signing its precertificate is taken
 * over with the configured fallback (one only journaled was never signed and
 * is left alone): at once when its owner ran in this worker's kernel and PID
 * namespace and provably ended, never while that owner runs, and otherwise
 * (an owner elsewhere, or none recorded) once the record has not changed for
 * queue.recover_after_ms. The worker claims a record before taking it over,
 * so exactly one worker does; it claims a deferred issuance before finishing
 * it too (unless it owns it already) and leaves one alone while its owner
 * runs in the worker's kernel and PID namespace (a ctca batch re-run
 * finishing it, which claims it the same way), so the two never both finish
 * one record.
 *
 * Several workers (threads or processes, each with its own store connection)
 * may run on one store: a lease is held by one worker, and a worker killed
 * mid-item leaves its items to be leased again once the lease expires. Nothing
 * is ever dropped: an item ends done or parked with its reason. */
#ifndef CTCA_QUEUE_H
#define CTCA_QUEUE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctca/ca.h"
#include "ctca/error.h"

typedef struct ctca_queue_run_opts {
    const char *owner;         /* lease owner name; NULL: "HOST:PID:RANDOM" */
    const char *log_list_path; /* NULL: the CA's configured list */
    bool once;                 /* handle what is due at the start, then return */
    /* Without once: run until *stop becomes non-zero (a signal handler sets it). */
    volatile sig_atomic_t *stop;
    FILE *progress;            /* one line per item outcome and issuance; may be NULL */
    /* The wall clock in ms since the epoch, for everything the worker dates
     * or times: leases, backoff and breakers, what is due, recover_after_ms,
     * claims, SCT checks, the audit journal of the issuances it finishes.
     * NULL: ctca_now_ms. Tests pin it instead of sleeping. (The daemon's
     * pause between rounds and submission deadlines are real time.) */
    int64_t (*clock_ms)(void *arg);
    void *clock_arg;
} ctca_queue_run_opts;

typedef struct ctca_queue_stats {
    size_t submitted; /* items submitted to their log */
    size_t done;      /* items done with an SCT stored */
    size_t retried;   /* items that failed and wait for a retry */
    size_t parked;    /* items that gave up (see ctca queue list) */
    size_t settled;   /* items not needed any more (their issuance completed) */
    size_t issued;    /* deferred issuances completed */
    size_t failed;    /* deferred issuances given up: no log left to try, or revoked */
    size_t recovered; /* unfinished issuances taken over */
    size_t pending;   /* items left pending (waiting for a retry) when the run ended */
    size_t leased;    /* items other workers held when the run ended */
    size_t unfinished; /* issuances left unfinished (precert or deferred records) */
} ctca_queue_stats;

/* ctca_queue_run: runs the worker over ca's store (see the header comment)
 * until the work due is done (o->once) or *o->stop is set. *stats gets the
 * counts. Item outcomes are never errors of the run; a store, log-list or
 * client failure is, with the reason in eb. */
CTCA_RESULT ctca_queue_run(const ctca_ca *ca, const ctca_queue_run_opts *o,
                           ctca_queue_stats *stats, ctca_errbuf *eb);

#endif
