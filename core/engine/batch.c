/* Batch signing (ctca/batch.h): a pool of signing threads around the issuance
 * engine's steps, and one driving thread (the caller's) that owns the shared
 * ctca_ctclient and does every store write.
 *
 * The store commits with an fsync, and SQLite lets one connection write at a
 * time, so one write per step and per thread would make the disk the limit.
 * Instead the workers only compute (and read the store through their own
 * connections), and the driver writes everything one loop iteration gathers
 * (journal entries, precertificates, SCTs from the client's callbacks, final
 * certificates) in one batch, commits it, and only then lets each item go on:
 * a journaled TBS to be signed, a stored precertificate to the logs, SCTs to
 * the final certificate, a stored final certificate to its output file.
 *
 * An item (one CSR file) goes: worker (look up by CSR digest; prepare or
 * resume) -> driver (journal) -> worker (sign the precertificate) -> driver
 * (store it; submit) -> driver (SCTs) -> worker (build the final certificate)
 * -> driver (store it) -> worker (write the PEM) -> driver (count). Items change
 * hands only through the two mutex-protected queues, so one issuance is never
 * in two steps at once. */
#define _GNU_SOURCE /* strdup */
#include "ctca/batch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/failpoint_int.h"
#include "core/engine/batch_files_int.h"
#include "core/engine/owner_int.h"
#include "ctca/ctclient.h"
#include "ctca/issue.h"
#include "ctca/loglist.h"
#include "ctca/store.h"
#include "ctca/util.h"

/* How long the driver lets the client wait for logs when workers may hand it
 * something meanwhile (their results wait for the next iteration), and when
 * they may not. */
#define POLL_BUSY_MS 2
#define POLL_IDLE_MS 100

typedef enum stage {
    /* on a worker */
    W_LOOKUP = 0, /* find the CSR's record; then prepare, resume, or skip */
    W_SIGN,       /* sign the journaled precertificate TBS */
    W_BUILD,      /* build and check the final certificate */
    W_OUTPUT,     /* write OUT_DIR/<name>.pem */
    /* back to the driver */
    D_PREPARED,   /* to journal */
    D_RESUMED,    /* to submit (its precertificate was stored by an earlier run) */
    D_SIGNED,     /* to store the precertificate */
    D_BUILT,      /* to store the final certificate */
    D_UNMET,      /* to apply the fallback */
    D_DONE,       /* to count */
    /* written in the driver's open batch, waiting for its commit */
    C_JOURNALED,
    C_PRECERT,
    C_FINAL,
    C_DEFERRED,
    C_CLAIMED,    /* a resumed record this run now owns */
    C_RELOOK,     /* its journal was refused: the CSR got a record meanwhile */
    COLLECTING    /* its SCTs are being collected on the client */
} stage;

typedef enum outcome {
    OUT_ISSUED = 0,
    OUT_ALREADY,
    OUT_DEFERRED,
    OUT_IN_PROGRESS, /* its record is another live process's */
    OUT_FAILED
} outcome;

typedef struct item {
    struct item *next;
    char name[CTCA_BATCH_MAX_NAME + 1];
    stage stage;
    ctca_issuance *is;
    ctca_issue_result res; /* from W_BUILD on */
    outcome outcome;
    ctca_err err;
    bool queued;        /* deferred to the queue by this run */
    bool was_deferred;  /* resumed from the queue's hands */
    bool relooked;      /* looked up again after a refused journal */
    ctca_store_unfinished seen; /* a resumed record as looked up, to claim */
    char serial[41];
    ctca_errbuf eb;
} item;

typedef struct queue {
    item *head, *tail;
} queue;

typedef struct batch {
    const ctca_ca *ca;
    const ctca_batch_options *opt;
    const ctca_log_list *log_list;
    ctca_batch_names names; /* output names two CSR files share */
    ctca_store_owner self; /* this process, as records name their owners */
    bool self_known;
    int64_t recover_after_ms; /* queue.recover_after_ms */
    int64_t (*clock_ms)(void *arg); /* opt's, or ctca_now_ms */
    void *clock_arg;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    queue work, done;
    bool stop;
} batch;

typedef struct worker {
    batch *b;
    ctca_store *store; /* read only */
    pthread_t thread;
    bool started;
} worker;

static int64_t default_clock(void *arg)
{
    (void)arg;
    return ctca_now_ms();
}

/* The run's wall clock (ctca_batch_options.clock_ms). */
static int64_t now_ms(const batch *b)
{
    return b->clock_ms(b->clock_arg);
}

static void queue_push(queue *q, item *it)
{
    it->next = NULL;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
}

static item *queue_pop(queue *q)
{
    item *it = q->head;
    if (it) {
        q->head = it->next;
        if (q->head == NULL)
            q->tail = NULL;
    }
    return it;
}

/* Ends the item as failed: its issuance (if any) is dropped, whatever the
 * store already holds for it stays there. */
static void fail_item(item *it, ctca_err err)
{
    it->outcome = OUT_FAILED;
    it->err = err;
    if (it->eb.msg[0] == '\0')
        snprintf(it->eb.msg, sizeof it->eb.msg, "%s", ctca_err_str(err));
    ctca_issuance_free(it->is);
    it->is = NULL;
    ctca_issue_result_cleanup(&it->res);
    it->stage = D_DONE;
}

/* ---- worker steps (no store writes) ---------------------------------------- */

/* Whether this run may resume record u, by the queue's takeover rule (README
 * "ctca queue run"): its owner provably ended, or its liveness cannot be told
 * from here (another kernel or PID namespace, or no owner recorded) and the
 * record has not changed for queue.recover_after_ms. A running owner keeps
 * it however slow, this process included (another CSR file of this run with
 * the same request is on it). */
static bool may_resume(const batch *b, const ctca_store_unfinished *u, int64_t now,
                       ctca_owner_liveness *l)
{
    *l = CTCA_OWNER_UNKNOWN;
    if (u->has_owner && b->self_known)
        *l = ctca_owner_liveness_of(&u->owner, &b->self);
    if (*l != CTCA_OWNER_UNKNOWN)
        return *l == CTCA_OWNER_DEAD;
    return u->updated_ms < now - b->recover_after_ms;
}

/* Says in it->eb whose record u is: alive when its owner was found running. */
static void owner_reason(item *it, const ctca_store_unfinished *u, bool alive, int64_t now)
{
    if (!u->has_owner)
        ctca_errbuf_set(&it->eb, CTCA_ERR_IN_PROGRESS,
                        "serial %s changed %lld s ago and names no owner: it is resumed once "
                        "unchanged for queue.recover_after_ms",
                        u->serial, (long long)((now - u->updated_ms) / 1000));
    else if (alive)
        ctca_errbuf_set(&it->eb, CTCA_ERR_IN_PROGRESS,
                        "serial %s is being issued by pid %lld on %s", u->serial, (long long)u->owner.pid, u->owner.host);
    else
        ctca_errbuf_set(&it->eb, CTCA_ERR_IN_PROGRESS,
                        "serial %s is being issued by pid %lld on %s (another kernel or PID "
                        "namespace: it is resumed once unchanged for queue.recover_after_ms)",
                        u->serial, (long long)u->owner.pid, u->owner.host);
}

/* Ends the item as in progress (the reason in it->eb): its record belongs to
 * another process, which (or, once it ends, a queue worker or a re-run)
 * finishes it. */
static void in_progress_item(item *it)
{
    it->err = CTCA_ERR_IN_PROGRESS;
    it->outcome = OUT_IN_PROGRESS;
    ctca_issuance_free(it->is);
    it->is = NULL;
    it->stage = D_DONE;
}

/* Looks the CSR up by digest; then skips it (issued: only its output is
 * checked), leaves it to the live process that owns its unfinished record,
 * resumes it (a precertificate without a final certificate, whose owner is
 * gone: the driver claims it before going on), or prepares a new issuance. */
static void step_lookup(batch *b, ctca_store *store, item *it)
{
    const ctca_batch_options *opt = b->opt;
    if (ctca_batch_names_shared(&b->names, it->name)) {
        char stem[CTCA_BATCH_MAX_NAME + 1];
        ctca_batch_stem(it->name, stem, sizeof stem);
        ctca_errbuf_set(&it->eb, CTCA_ERR_USAGE,
                        "another CSR file would also be written to %s.pem: rename one", stem);
        fail_item(it, CTCA_ERR_USAGE);
        return;
    }
    uint8_t digest[32];
    ctca_err rc = ctca_batch_csr_digest(opt->csr_dir, it->name, digest, &it->eb);
    if (rc != CTCA_OK) {
        fail_item(it, rc);
        return;
    }
    ctca_store_cert rec = {0};
    ctca_owner_liveness owner = CTCA_OWNER_UNKNOWN;
    const char *profile = opt->profile ? opt->profile : CTCA_DEFAULT_PROFILE;
    rc = ctca_store_get_cert_by_csr(store, digest, profile, &rec);
    if (rc != CTCA_OK && rc != CTCA_ERR_STORE_NOT_FOUND) {
        ctca_errbuf_set(&it->eb, rc, "looking the CSR up: %s", ctca_store_errmsg(store));
        fail_item(it, rc);
        return;
    }
    int64_t now = now_ms(b);
    /* An unfinished record's owner is read before the resume reads the
     * record, so that the claim, which holds only if nothing changed since,
     * covers what was resumed. */
    bool unfinished = rc == CTCA_OK && rec.state != CTCA_STORE_ISSUED;
    if (rc == CTCA_OK && rec.state == CTCA_STORE_ISSUED) {
        snprintf(it->serial, sizeof it->serial, "%s", rec.serial);
        rc = ctca_batch_write_output(opt->out_dir, it->name, rec.final_der, rec.final_len,
                                     &it->eb);
        it->outcome = OUT_ALREADY;
        it->stage = D_DONE;
    } else if (unfinished &&
               (rc = ctca_store_get_unfinished(store, rec.serial, &it->seen)) != CTCA_OK) {
        ctca_errbuf_set(&it->eb, rc, "reading serial %s: %s", rec.serial,
                        ctca_store_errmsg(store));
    } else if (unfinished && !may_resume(b, &it->seen, now, &owner)) {
        /* Also a journaled record: its live owner is about to sign it, and a
         * fresh start here would issue a second certificate for the CSR. */
        snprintf(it->serial, sizeof it->serial, "%s", rec.serial);
        owner_reason(it, &it->seen, owner == CTCA_OWNER_ALIVE, now);
        in_progress_item(it);
    } else if (unfinished && rec.state != CTCA_STORE_JOURNALED) {
        rc = ctca_issuance_resume(b->ca, store, rec.serial, b->log_list, NULL, now, &it->is,
                                  &it->eb);
        if (rc == CTCA_OK)
            ctca_issuance_set_clock(it->is, b->clock_ms, b->clock_arg);
        it->was_deferred = rec.state == CTCA_STORE_DEFERRED;
        it->stage = D_RESUMED;
    } else {
        /* Nothing on record, or a journaled TBS that was never signed and
         * whose owner is gone: start afresh (that serial stays journaled,
         * never signed). The journal refuses this if the CSR got a record
         * meanwhile (another run, on any host), so it is issued once. */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", opt->csr_dir, it->name);
        ctca_issue_request req = {.csr_path = path, .profile = opt->profile,
                                  .log_list_path = opt->log_list_path,
                                  .log_list = b->log_list, .now_ms = now,
                                  .clock_ms = b->clock_ms, .clock_arg = b->clock_arg,
                                  .once_per_csr = true,
                                  .supersedes = unfinished ? &it->seen : NULL};
        rc = ctca_issuance_prepare(b->ca, store, &req, &it->is, &it->eb);
        it->stage = D_PREPARED;
    }
    ctca_store_cert_cleanup(&rec);
    if (rc != CTCA_OK)
        fail_item(it, rc);
    else if (it->is)
        snprintf(it->serial, sizeof it->serial, "%s", ctca_issuance_serial(it->is));
}

static void step_build(ctca_store *store, item *it)
{
    ctca_err rc = ctca_issuance_build_final(it->is, store, &it->res, &it->eb);
    if (rc == CTCA_OK) {
        it->stage = D_BUILT;
    } else if (rc == CTCA_ERR_POLICY_UNMET) {
        it->err = rc;
        it->stage = D_UNMET;
    } else {
        fail_item(it, rc);
    }
}

static void run_step(batch *b, ctca_store *store, item *it)
{
    ctca_err rc;
    switch (it->stage) {
    case W_LOOKUP:
        step_lookup(b, store, it);
        return;
    case W_SIGN:
        rc = ctca_issuance_sign_precert(it->is, &it->eb);
        if (rc != CTCA_OK)
            fail_item(it, rc);
        else
            it->stage = D_SIGNED;
        return;
    case W_BUILD:
        step_build(store, it);
        return;
    case W_OUTPUT:
        rc = ctca_batch_write_output(b->opt->out_dir, it->name, it->res.cert, it->res.cert_len,
                                     &it->eb);
        if (rc != CTCA_OK) {
            ctca_errbuf why = it->eb;
            ctca_errbuf_set(&it->eb, rc, "serial %s is issued and stored, but %s", it->serial,
                            why.msg);
            fail_item(it, rc);
            return;
        }
        it->outcome = OUT_ISSUED;
        ctca_issue_result_cleanup(&it->res);
        ctca_issuance_free(it->is);
        it->is = NULL;
        it->stage = D_DONE;
        return;
    default:
        fail_item(it, CTCA_ERR_INTERNAL);
        return;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    batch *b = w->b;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (b->work.head == NULL && !b->stop)
            pthread_cond_wait(&b->work_cv, &b->mu);
        item *it = b->stop ? NULL : queue_pop(&b->work);
        pthread_mutex_unlock(&b->mu);
        if (it == NULL)
            return NULL;
        run_step(b, w->store, it);
        pthread_mutex_lock(&b->mu);
        queue_push(&b->done, it);
        pthread_cond_signal(&b->done_cv);
        pthread_mutex_unlock(&b->mu);
    }
}

/* ---- the summary -------------------------------------------------------------- */

/* Room for one more problem; the array doubles, so memory follows the number
 * of problems, not of CSRs. */
static bool grow_problems(ctca_batch_summary *sum)
{
    size_t n = sum->n_problems;
    if (n > 0 && (n & (n - 1)) != 0)
        return true; /* not a power of two: the last doubling left room */
    ctca_batch_problem *p = realloc(sum->problems, (n ? 2 * n : 1) * sizeof *p);
    if (p == NULL)
        return false;
    sum->problems = p;
    return true;
}

static void record(ctca_batch_summary *sum, item *it)
{
    switch (it->outcome) {
    case OUT_ISSUED: sum->issued++; return;
    case OUT_ALREADY: sum->already_issued++; return;
    case OUT_DEFERRED: sum->deferred++; break;
    case OUT_IN_PROGRESS: sum->in_progress++; break;
    case OUT_FAILED: sum->failed++; break;
    }
    if (sum->n_problems == CTCA_BATCH_MAX_REPORTED || !grow_problems(sum)) {
        sum->unlisted++;
        return;
    }
    ctca_batch_problem *p = &sum->problems[sum->n_problems];
    p->csr = strdup(it->name);
    p->reason = strdup(it->eb.msg);
    if (p->csr == NULL || p->reason == NULL) {
        free(p->csr);
        free(p->reason);
        sum->unlisted++;
        return;
    }
    p->err = it->err;
    p->deferred = it->outcome == OUT_DEFERRED;
    p->in_progress = it->outcome == OUT_IN_PROGRESS;
    p->queued = it->queued;
    snprintf(p->serial, sizeof p->serial, "%s", it->serial);
    sum->n_problems++;
}

/* ---- setting up ----------------------------------------------------------------- */

static ctca_err check_options(const ctca_batch_options *opt, ctca_errbuf *eb)
{
    if (opt->csr_dir == NULL || opt->out_dir == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "a CSR directory and an output directory "
                                                   "are required");
    if (opt->jobs > CTCA_BATCH_MAX_JOBS)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "jobs: at most %d", CTCA_BATCH_MAX_JOBS);
    if (opt->window > CTCA_BATCH_MAX_WINDOW)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "window: at most %d", CTCA_BATCH_MAX_WINDOW);
    return ctca_batch_dirs_check(opt->csr_dir, opt->out_dir, eb);
}

/* The log list every new issuance of the run shares (read only). */
static ctca_err load_log_list(const ctca_ca *ca, const char *path, ctca_log_list **out,
                              ctca_errbuf *eb)
{
    const char *ll = path ? path : ctca_ca_get0_log_list_path(ca);
    if (ll == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "no log list: set log_list in the config or pass --log-list");
    return ctca_log_list_load(ll, out, eb);
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > CTCA_BATCH_MAX_JOBS ? (unsigned)CTCA_BATCH_MAX_JOBS : (unsigned)n;
}

/* ---- the driver ------------------------------------------------------------------ */

typedef struct driver {
    batch *b;
    ctca_ctclient *client;
    ctca_store *store; /* the only connection that writes */
    ctca_batch_csrs csrs; /* the pass that feeds the run */
    bool dir_done;
    size_t window;
    size_t in_flight;  /* items between their file being read and their count */
    size_t at_workers; /* items queued for or running on a worker */
    item **collecting;
    size_t n_collecting;
    queue written;     /* items whose writes wait for the batch's commit */
    item *free_items;
    ctca_batch_summary *sum;
    int64_t t0_ms;
} driver;

static item *item_get(driver *d)
{
    item *it = d->free_items;
    if (it)
        d->free_items = it->next;
    else if ((it = malloc(sizeof *it)) == NULL)
        return NULL;
    memset(it, 0, sizeof *it);
    return it;
}

static void item_free(item *it)
{
    ctca_issuance_free(it->is);
    ctca_issue_result_cleanup(&it->res);
    free(it);
}

static void to_workers(driver *d, item *it, stage st)
{
    batch *b = d->b;
    it->stage = st;
    pthread_mutex_lock(&b->mu);
    queue_push(&b->work, it);
    pthread_cond_signal(&b->work_cv);
    pthread_mutex_unlock(&b->mu);
    d->at_workers++;
}

/* Reads CSR names until the window is full. */
static ctca_err feed(driver *d)
{
    const char *name;
    while (!d->dir_done && d->in_flight < d->window) {
        if (!ctca_batch_csrs_next(&d->csrs, &name)) {
            d->dir_done = true;
            break;
        }
        item *it = item_get(d);
        if (it == NULL)
            return CTCA_ERR_NOMEM;
        snprintf(it->name, sizeof it->name, "%s", name);
        d->in_flight++;
        to_workers(d, it, W_LOOKUP);
    }
    return CTCA_OK;
}

static void count(driver *d, item *it)
{
    record(d->sum, it);
    d->in_flight--;
    it->next = d->free_items;
    d->free_items = it;
    const ctca_batch_options *opt = d->b->opt;
    if (opt->progress) {
        const ctca_batch_summary *s = d->sum;
        ctca_batch_progress p = {
            .done = s->issued + s->already_issued + s->deferred + s->in_progress + s->failed,
            .total = s->total, .issued = s->issued,
            .elapsed_s = (double)(now_ms(d->b) - d->t0_ms) / 1000.0};
        opt->progress(&p, opt->progress_arg);
    }
}

static void start_collecting(driver *d, item *it)
{
    const ctca_ct_settings *ct = ctca_config_get0_ct(ctca_ca_get0_config(d->b->ca));
    uint64_t deadline = ctca_ctclient_now_ms(d->client) + ct->deadline_ms;
    ctca_err rc = ctca_issuance_start(it->is, d->client, d->store, deadline);
    if (rc != CTCA_OK) {
        /* Nothing was submitted: the record keeps its precertificate. */
        ctca_errbuf_set(&it->eb, rc, "starting the submissions: %s", ctca_err_str(rc));
        fail_item(it, rc);
        count(d, it);
        return;
    }
    it->stage = COLLECTING;
    d->collecting[d->n_collecting++] = it;
}

/* The policy was not met by the deadline: the fallback decides, as in
 * ctca_issue (a fallback that cannot be taken marks the record failed). Its
 * writes go in the open batch; *next is where the item goes after the commit. */
static ctca_err fall_back(driver *d, item *it, stage *next)
{
    const ctca_batch_options *opt = d->b->opt;
    ctca_fallback f = opt->fallback != CTCA_FALLBACK_CONFIG
                          ? opt->fallback
                          : ctca_config_get0_ct(ctca_ca_get0_config(d->b->ca))->fallback;
    ctca_errbuf reason = it->eb, inner = {{0}};
    it->err = CTCA_ERR_POLICY_UNMET;
    if (f == CTCA_FALLBACK_UNEMBEDDED &&
        ctca_issuance_finish_unembedded(it->is, d->store, &it->res, &inner) == CTCA_OK) {
        *next = C_FINAL;
        return CTCA_OK;
    }
    if (f == CTCA_FALLBACK_DEFER &&
        ctca_issuance_defer(it->is, d->store, reason.msg, NULL, &inner) == CTCA_OK) {
        it->err = CTCA_ERR_DEFERRED;
        it->queued = true;
        *next = C_DEFERRED;
        return CTCA_OK;
    }
    if (ctca_store_mark_failed(d->store, it->serial, reason.msg, now_ms(d->b)) != CTCA_OK)
        return ctca_errbuf_set(&it->eb, CTCA_ERR_STORE, "%s (and recording it: %s)",
                               reason.msg, ctca_store_errmsg(d->store));
    if (inner.msg[0] != '\0')
        ctca_errbuf_set(&it->eb, CTCA_ERR_POLICY_UNMET, "%s (and the %s fallback: %s)",
                        reason.msg, ctca_fallback_name(f), inner.msg);
    *next = C_DEFERRED;
    return CTCA_OK;
}

/* Makes this process the owner of a record it resumes, in the open batch,
 * so that no queue worker or other run takes it meanwhile (a queue worker
 * claims the records it finishes too). A lost claim means another process
 * moved the record on since the lookup: the item is theirs. */
static ctca_err claim(driver *d, item *it, stage *next)
{
    const batch *b = d->b;
    bool won = false;
    ctca_store_unfinished now;
    ctca_err rc = ctca_store_claim(d->store, &it->seen, b->self_known ? &b->self : NULL,
                                   now_ms(b), &won);
    if (rc == CTCA_OK && !won)
        rc = ctca_store_get_unfinished(d->store, it->serial, &now);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(&it->eb, rc, "claiming serial %s: %s", it->serial,
                               ctca_store_errmsg(d->store));
    if (won) {
        *next = C_CLAIMED;
        return CTCA_OK;
    }
    if (now.state == CTCA_STORE_ISSUED)
        ctca_errbuf_set(&it->eb, CTCA_ERR_IN_PROGRESS,
                        "serial %s was issued by another process meanwhile: a re-run writes "
                        "its certificate",
                        it->serial);
    else
        owner_reason(it, &now, true, now_ms(b));
    in_progress_item(it);
    *next = D_DONE;
    return CTCA_OK;
}

/* The driver's part of an item a worker handed back: its store write, in the
 * open batch. */
static void handle_returned(driver *d, item *it)
{
    ctca_err rc = CTCA_OK;
    stage next = D_DONE;
    switch (it->stage) {
    case D_PREPARED:
        rc = ctca_issuance_journal(it->is, d->store, &it->eb);
        next = C_JOURNALED;
        if (rc == CTCA_ERR_STORE_DUPLICATE) {
            /* Another process journaled the CSR since the lookup: look again
             * once this batch is committed, and leave it to its owner if it
             * happens twice. */
            it->serial[0] = '\0'; /* never journaled */
            if (!it->relooked) {
                rc = CTCA_OK;
                next = C_RELOOK;
            } else {
                in_progress_item(it);
                count(d, it);
                return;
            }
        }
        break;
    case D_SIGNED:
        rc = ctca_issuance_store_precert(it->is, d->store, &it->eb);
        next = C_PRECERT;
        break;
    case D_BUILT:
        rc = ctca_issuance_store_final(it->is, d->store, &it->res, &it->eb);
        /* The queue's items for a deferred issuance finished here are done. */
        if (rc == CTCA_OK && it->was_deferred &&
            ctca_store_queue_settle(d->store, it->serial, CTCA_ENTRY_PRECERT,
                                    "not needed: the certificate was issued by ctca batch",
                                    now_ms(d->b), NULL) != CTCA_OK)
            rc = ctca_errbuf_set(&it->eb, CTCA_ERR_STORE, "settling its queue items: %s",
                                 ctca_store_errmsg(d->store));
        next = C_FINAL;
        break;
    case D_UNMET:
        rc = fall_back(d, it, &next);
        break;
    case D_RESUMED:
        rc = claim(d, it, &next);
        if (rc == CTCA_OK && next == D_DONE) {
            count(d, it);
            return;
        }
        break;
    case D_DONE:
        count(d, it);
        return;
    default:
        rc = CTCA_ERR_INTERNAL;
        break;
    }
    if (rc != CTCA_OK) {
        fail_item(it, rc);
        count(d, it);
        return;
    }
    it->stage = next;
    queue_push(&d->written, it);
}

/* Commits the batch, then lets every item it held go on; when the commit
 * fails, none of them does (their writes are not in the store). */
static void commit(driver *d)
{
    ctca_err rc = ctca_store_batch_commit(d->store);
    item *it;
    while ((it = queue_pop(&d->written)) != NULL) {
        if (rc != CTCA_OK) {
            ctca_errbuf_set(&it->eb, rc, "committing to the store: %s",
                            ctca_store_errmsg(d->store));
            fail_item(it, rc);
            count(d, it);
            continue;
        }
        switch (it->stage) {
        case C_JOURNALED: to_workers(d, it, W_SIGN); break;
        case C_PRECERT: start_collecting(d, it); break;
        case C_CLAIMED:
            CTCA_TEST_PAUSE("batch-claimed");
            start_collecting(d, it);
            break;
        case C_FINAL: to_workers(d, it, W_OUTPUT); break;
        case C_RELOOK:
            ctca_issuance_free(it->is);
            it->is = NULL;
            it->relooked = true;
            it->eb.msg[0] = '\0';
            to_workers(d, it, W_LOOKUP);
            break;
        default: /* C_DEFERRED */
            it->outcome = OUT_DEFERRED;
            ctca_issuance_free(it->is);
            it->is = NULL;
            ctca_issue_result_cleanup(&it->res);
            count(d, it);
            break;
        }
    }
}

/* Hands every issuance whose collection is over (its SCTs committed) to the
 * workers to build the final certificate. */
static void collect(driver *d)
{
    size_t k = 0;
    for (size_t i = 0; i < d->n_collecting; i++) {
        item *it = d->collecting[i];
        if (ctca_issuance_collected(it->is))
            to_workers(d, it, W_BUILD);
        else
            d->collecting[k++] = it;
    }
    d->n_collecting = k;
}

/* One iteration: take what the workers handed back, write it and the SCTs
 * that arrive meanwhile in one batch, commit, and move everything on. */
static ctca_err iterate(driver *d, ctca_errbuf *eb)
{
    batch *b = d->b;
    pthread_mutex_lock(&b->mu);
    /* With nothing to run on the client, wait for the workers. */
    while (b->done.head == NULL && d->n_collecting == 0 && d->at_workers > 0)
        pthread_cond_wait(&b->done_cv, &b->mu);
    item *returned = b->done.head;
    b->done.head = b->done.tail = NULL;
    pthread_mutex_unlock(&b->mu);

    ctca_err rc = ctca_store_batch_begin(d->store);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "%s", ctca_store_errmsg(d->store));
    while (returned) {
        item *it = returned;
        returned = it->next;
        d->at_workers--;
        handle_returned(d, it);
    }
    if (d->n_collecting > 0) {
        /* Writes waiting for the commit: only a quick pass before it. */
        uint32_t wait = d->written.head ? 0 : d->at_workers > 0 ? POLL_BUSY_MS : POLL_IDLE_MS;
        rc = ctca_ctclient_run(d->client, wait, NULL);
        if (rc != CTCA_OK)
            ctca_errbuf_set(eb, rc, "driving the log submissions: %s", ctca_err_str(rc));
    }
    commit(d);
    collect(d);
    return rc;
}

ctca_err ctca_batch_run(const ctca_ca *ca, const ctca_batch_options *opt,
                        ctca_batch_summary *sum, ctca_errbuf *eb)
{
    memset(sum, 0, sizeof *sum);
    CTCA_GUARD(check_options(opt, eb));
    ctca_log_list *list = NULL;
    CTCA_GUARD(load_log_list(ca, opt->log_list_path, &list, eb));
    const ctca_queue_settings *qs = ctca_config_get0_queue(ctca_ca_get0_config(ca));
    batch b = {.ca = ca, .opt = opt, .log_list = list, .recover_after_ms = qs->recover_after_ms,
               .clock_ms = opt->clock_ms ? opt->clock_ms : default_clock,
               .clock_arg = opt->clock_ms ? opt->clock_arg : NULL};
    b.self_known = ctca_owner_self(&b.self);
    driver d = {.b = &b, .window = opt->window ? opt->window : CTCA_BATCH_DEFAULT_WINDOW,
                .sum = sum, .t0_ms = now_ms(&b)};
    unsigned jobs = opt->jobs ? opt->jobs : default_jobs();
    worker *workers = calloc(jobs, sizeof *workers);
    d.collecting = calloc(d.window, sizeof *d.collecting);
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.work_cv, NULL);
    pthread_cond_init(&b.done_cv, NULL);
    ctca_err rc = CTCA_ERR_NOMEM;
    if (workers == NULL || d.collecting == NULL)
        goto out;
    if ((rc = ctca_batch_names_scan(opt->csr_dir, &b.names, &sum->total, eb)) != CTCA_OK)
        goto out;
    const char *store_path = ctca_ca_get0_store_path(ca);
    if ((rc = ctca_store_open(store_path, &d.store, eb)) != CTCA_OK)
        goto out;
    for (unsigned i = 0; i < jobs; i++) {
        workers[i].b = &b;
        if ((rc = ctca_store_open(store_path, &workers[i].store, eb)) != CTCA_OK)
            goto out;
    }
    const ctca_ct_settings *ct = ctca_config_get0_ct(ctca_ca_get0_config(ca));
    /* Enough kept-alive connections per log for the whole window over HTTP/1.1
     * (over HTTP/2 the transfers share one). */
    long per_host = d.window < 64 ? (long)d.window : 64;
    ctca_ctclient_config ccfg = {.log_timeout_ms = ct->log_timeout_ms,
                                 .max_host_connections = per_host,
                                 .max_connections = 8 * per_host};
    if ((rc = ctca_ctclient_new(&ccfg, &d.client)) != CTCA_OK)
        goto out;
    if ((rc = ctca_batch_csrs_open(opt->csr_dir, &d.csrs, eb)) != CTCA_OK)
        goto out;
    for (unsigned i = 0; i < jobs; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
            rc = ctca_errbuf_set(eb, CTCA_ERR_NOMEM, "cannot start signing thread %u", i);
            goto out;
        }
        workers[i].started = true;
    }
    for (;;) {
        if ((rc = feed(&d)) != CTCA_OK || d.in_flight == 0 || (rc = iterate(&d, eb)) != CTCA_OK)
            break;
    }
    sum->elapsed_s = (double)(now_ms(&b) - d.t0_ms) / 1000.0;
    if (rc == CTCA_OK)
        rc = ctca_batch_write_summary(opt, sum, eb);
out:
    pthread_mutex_lock(&b.mu);
    b.stop = true;
    pthread_cond_broadcast(&b.work_cv);
    pthread_mutex_unlock(&b.mu);
    for (unsigned i = 0; workers && i < jobs; i++)
        if (workers[i].started)
            pthread_join(workers[i].thread, NULL);
    /* After a failed run items may be anywhere: the client goes first, so no
     * callback can reach an issuance freed below. */
    ctca_ctclient_free(d.client);
    for (size_t i = 0; i < d.n_collecting; i++)
        item_free(d.collecting[i]);
    queue *queues[] = {&b.work, &b.done, &d.written};
    for (size_t q = 0; q < sizeof queues / sizeof queues[0]; q++)
        for (item *it = queue_pop(queues[q]); it; it = queue_pop(queues[q]))
            item_free(it);
    while (d.free_items) {
        item *it = d.free_items;
        d.free_items = it->next;
        free(it);
    }
    ctca_batch_csrs_close(&d.csrs);
    for (unsigned i = 0; workers && i < jobs; i++)
        ctca_store_close(workers[i].store);
    ctca_store_close(d.store); /* rolls back a batch a failure left open */
    free(workers);
    free(d.collecting);
    ctca_batch_names_cleanup(&b.names);
    ctca_log_list_free(list);
    pthread_cond_destroy(&b.work_cv);
    pthread_cond_destroy(&b.done_cv);
    pthread_mutex_destroy(&b.mu);
    return rc;
}

void ctca_batch_summary_cleanup(ctca_batch_summary *sum)
{
    for (size_t i = 0; sum->problems && i < sum->n_problems; i++) {
        free(sum->problems[i].csr);
        free(sum->problems[i].reason);
    }
    free(sum->problems);
    memset(sum, 0, sizeof *sum);
}
