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
 * -> driver (store it) -> worker (write the PEM) -> driver (count), each
 * step a row of STEPS, the one table the workers, the driver and the commit
 * ask. Items change hands only through the two mutex-protected queues, so one
 * issuance is never in two steps at once. */
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

/* Where an item is. What each stage does, where it runs and where the item
 * goes next is its row of STEPS (below): the workers, the driver and the
 * commit all ask that table. */
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
    COLLECTING,   /* its SCTs are being collected on the client */
    N_STAGES,
    /* not stages, what a step may answer */
    NEXT = N_STAGES, /* on to its row's next */
    COUNTED          /* the item is counted and gone */
} stage;

/* Where a stage's step runs. */
typedef enum place {
    ON_WORKER,    /* a signing thread, reading the store through its own connection */
    ON_DRIVER,    /* the driver, as the item reaches it; writes go in the open batch */
    AFTER_COMMIT, /* the driver, once the batch holding the item's writes committed */
    ON_CLIENT     /* no step: waiting for SCTs on the client (collect moves it on) */
} place;

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
static stage fail_item(item *it, ctca_err err)
{
    it->outcome = OUT_FAILED;
    it->err = err;
    if (it->eb.msg[0] == '\0')
        snprintf(it->eb.msg, sizeof it->eb.msg, "%s", ctca_err_str(err));
    ctca_issuance_free(it->is);
    it->is = NULL;
    ctca_issue_result_cleanup(&it->res);
    return D_DONE;
}

/* What a step gets: the run, the store connection of the thread it runs on,
 * and on the driver the driver. */
typedef struct driver driver;
typedef struct step_ctx {
    batch *b;
    ctca_store *store;
    driver *d; /* NULL on a worker */
} step_ctx;

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
    /* This run's own records are in flight here: never its to take over. */
    return ctca_owner_may_take_over(u, *l, b->self_known ? &b->self : NULL, false, now,
                                    b->recover_after_ms);
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
static stage in_progress_item(item *it)
{
    it->err = CTCA_ERR_IN_PROGRESS;
    it->outcome = OUT_IN_PROGRESS;
    ctca_issuance_free(it->is);
    it->is = NULL;
    return D_DONE;
}

/* Looks the CSR up by digest; then skips it (issued: only its output is
 * checked), leaves it to the live process that owns its unfinished record,
 * resumes it (a precertificate without a final certificate, whose owner is
 * gone: the driver claims it before going on), or prepares a new issuance. */
static stage step_lookup(step_ctx *c, item *it)
{
    batch *b = c->b;
    ctca_store *store = c->store;
    const ctca_batch_options *opt = b->opt;
    if (ctca_batch_names_shared(&b->names, it->name)) {
        char stem[CTCA_BATCH_MAX_NAME + 1];
        ctca_batch_stem(it->name, stem, sizeof stem);
        ctca_errbuf_set(&it->eb, CTCA_ERR_USAGE,
                        "another CSR file would also be written to %s.pem: rename one", stem);
        return fail_item(it, CTCA_ERR_USAGE);
    }
    uint8_t digest[32];
    ctca_err rc = ctca_batch_csr_digest(opt->csr_dir, it->name, digest, &it->eb);
    if (rc != CTCA_OK)
        return fail_item(it, rc);
    ctca_store_cert rec = {0};
    ctca_owner_liveness owner = CTCA_OWNER_UNKNOWN;
    const char *profile = opt->profile ? opt->profile : CTCA_DEFAULT_PROFILE;
    rc = ctca_store_get_cert_by_csr(store, digest, profile, &rec);
    if (rc != CTCA_OK && rc != CTCA_ERR_STORE_NOT_FOUND) {
        ctca_errbuf_set(&it->eb, rc, "looking the CSR up: %s", ctca_store_errmsg(store));
        return fail_item(it, rc);
    }
    int64_t now = now_ms(b);
    stage next = D_DONE;
    /* An unfinished record's owner is read before the resume reads the
     * record, so that the claim, which holds only if nothing changed since,
     * covers what was resumed. */
    bool unfinished = rc == CTCA_OK && rec.state != CTCA_STORE_ISSUED;
    if (rc == CTCA_OK && rec.state == CTCA_STORE_ISSUED) {
        snprintf(it->serial, sizeof it->serial, "%s", rec.serial);
        rc = ctca_batch_write_output(opt->out_dir, it->name, rec.final_der, rec.final_len,
                                     &it->eb);
        it->outcome = OUT_ALREADY;
    } else if (unfinished &&
               (rc = ctca_store_get_unfinished(store, rec.serial, &it->seen)) != CTCA_OK) {
        ctca_errbuf_set(&it->eb, rc, "reading serial %s: %s", rec.serial,
                        ctca_store_errmsg(store));
    } else if (unfinished && !may_resume(b, &it->seen, now, &owner)) {
        /* Also a journaled record: its live owner is about to sign it, and a
         * fresh start here would issue a second certificate for the CSR. */
        snprintf(it->serial, sizeof it->serial, "%s", rec.serial);
        owner_reason(it, &it->seen, owner == CTCA_OWNER_ALIVE, now);
        next = in_progress_item(it);
    } else if (unfinished && rec.state != CTCA_STORE_JOURNALED) {
        rc = ctca_issuance_resume(b->ca, store, rec.serial, b->log_list, NULL, now, &it->is,
                                  &it->eb);
        if (rc == CTCA_OK) /* a re-run's --fallback over the one journaled */
            ctca_issuance_set_fallback(it->is, opt->fallback);
        if (rc == CTCA_OK)
            ctca_issuance_set_clock(it->is, b->clock_ms, b->clock_arg);
        it->was_deferred = rec.state == CTCA_STORE_DEFERRED;
        next = D_RESUMED;
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
                                  .fallback = opt->fallback,
                                  .clock_ms = b->clock_ms, .clock_arg = b->clock_arg,
                                  .once_per_csr = true,
                                  .supersedes = unfinished ? &it->seen : NULL};
        rc = ctca_issuance_prepare(b->ca, store, &req, &it->is, &it->eb);
        next = NEXT; /* to journal */
    }
    ctca_store_cert_cleanup(&rec);
    if (rc != CTCA_OK)
        return fail_item(it, rc);
    if (it->is)
        snprintf(it->serial, sizeof it->serial, "%s", ctca_issuance_serial(it->is));
    return next;
}

static stage step_sign(step_ctx *c, item *it)
{
    (void)c;
    ctca_err rc = ctca_issuance_sign_precert(it->is, &it->eb);
    return rc != CTCA_OK ? fail_item(it, rc) : NEXT;
}

static stage step_build(step_ctx *c, item *it)
{
    ctca_err rc = ctca_issuance_build_final(it->is, c->store, &it->res, &it->eb);
    if (rc == CTCA_OK)
        return NEXT;
    if (rc == CTCA_ERR_POLICY_UNMET) {
        it->err = rc;
        return D_UNMET;
    }
    return fail_item(it, rc);
}

static stage step_output(step_ctx *c, item *it)
{
    ctca_err rc = ctca_batch_write_output(c->b->opt->out_dir, it->name, it->res.cert,
                                          it->res.cert_len, &it->eb);
    if (rc != CTCA_OK) {
        ctca_errbuf why = it->eb;
        ctca_errbuf_set(&it->eb, rc, "serial %s is issued and stored, but %s", it->serial,
                        why.msg);
        return fail_item(it, rc);
    }
    it->outcome = OUT_ISSUED;
    ctca_issue_result_cleanup(&it->res);
    ctca_issuance_free(it->is);
    it->is = NULL;
    return NEXT;
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
static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > CTCA_BATCH_MAX_JOBS ? (unsigned)CTCA_BATCH_MAX_JOBS : (unsigned)n;
}

/* ---- the driver ------------------------------------------------------------------ */

struct driver {
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
};

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

static void move(driver *d, item *it, stage next);

static void to_workers(driver *d, item *it)
{
    batch *b = d->b;
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
        move(d, it, W_LOOKUP);
    }
    return CTCA_OK;
}

/* ---- driver steps (store writes in the open batch) ------------------------------ */

/* Counts the item in the summary and frees it for the next CSR. */
static stage drive_count(step_ctx *c, item *it)
{
    driver *d = c->d;
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
    return COUNTED;
}

/* The policy was not met by the deadline: the issuance's fallback decides
 * (ctca_issuance_fall_back). Its writes go in the open batch; *next is where
 * the item goes after the commit. */
static ctca_err fall_back(driver *d, item *it, stage *next)
{
    ctca_errbuf reason = it->eb;
    ctca_err rc = ctca_issuance_fall_back(it->is, d->store, reason.msg, &it->res, &it->eb);
    switch (rc) {
    case CTCA_OK: /* issued without embedded SCTs */
        it->err = CTCA_ERR_POLICY_UNMET;
        *next = C_FINAL;
        return CTCA_OK;
    case CTCA_ERR_DEFERRED:
        it->err = CTCA_ERR_DEFERRED;
        it->queued = true;
        *next = C_DEFERRED;
        return CTCA_OK;
    case CTCA_ERR_POLICY_UNMET: /* failed, the precertificate on record */
        it->err = CTCA_ERR_POLICY_UNMET;
        *next = C_DEFERRED;
        return CTCA_OK;
    default:
        return rc;
    }
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

static stage drive_journal(step_ctx *c, item *it)
{
    ctca_err rc = ctca_issuance_journal(it->is, c->store, &it->eb);
    if (rc == CTCA_ERR_STORE_DUPLICATE) {
        /* Another process journaled the CSR since the lookup: look again
         * once this batch is committed, and leave it to its owner if it
         * happens twice. */
        it->serial[0] = '\0'; /* never journaled */
        return it->relooked ? in_progress_item(it) : C_RELOOK;
    }
    return rc != CTCA_OK ? fail_item(it, rc) : NEXT;
}

static stage drive_claim(step_ctx *c, item *it)
{
    stage next = NEXT; /* claim answers C_CLAIMED (won) or D_DONE (someone else's) */
    ctca_err rc = claim(c->d, it, &next);
    return rc != CTCA_OK ? fail_item(it, rc) : next;
}

static stage drive_store_precert(step_ctx *c, item *it)
{
    ctca_err rc = ctca_issuance_store_precert(it->is, c->store, &it->eb);
    return rc != CTCA_OK ? fail_item(it, rc) : NEXT;
}

static stage drive_store_final(step_ctx *c, item *it)
{
    ctca_err rc = ctca_issuance_store_final(it->is, c->store, &it->res, &it->eb);
    /* The queue's items for a deferred issuance finished here are done. */
    if (rc == CTCA_OK && it->was_deferred &&
        ctca_store_queue_settle(c->store, it->serial, CTCA_ENTRY_PRECERT,
                                "not needed: the certificate was issued by ctca batch",
                                now_ms(c->b), NULL) != CTCA_OK)
        rc = ctca_errbuf_set(&it->eb, CTCA_ERR_STORE, "settling its queue items: %s",
                             ctca_store_errmsg(c->store));
    return rc != CTCA_OK ? fail_item(it, rc) : NEXT;
}

static stage drive_fall_back(step_ctx *c, item *it)
{
    stage next = NEXT;
    ctca_err rc = fall_back(c->d, it, &next);
    return rc != CTCA_OK ? fail_item(it, rc) : next;
}

/* ---- after the commit --------------------------------------------------------------- */

/* Starts submitting the stored precertificate on the client. */
static stage after_precert(step_ctx *c, item *it)
{
    driver *d = c->d;
    const ctca_ct_settings *ct = ctca_config_get0_ct(ctca_ca_get0_config(d->b->ca));
    uint64_t deadline = ctca_ctclient_now_ms(d->client) + ct->deadline_ms;
    ctca_err rc = ctca_issuance_start(it->is, d->client, d->store, deadline);
    if (rc != CTCA_OK) {
        /* Nothing was submitted: the record keeps its precertificate. */
        ctca_errbuf_set(&it->eb, rc, "starting the submissions: %s", ctca_err_str(rc));
        return fail_item(it, rc);
    }
    return NEXT;
}

static stage after_claimed(step_ctx *c, item *it)
{
    CTCA_TEST_PAUSE("batch-claimed");
    return after_precert(c, it);
}

static stage after_relook(step_ctx *c, item *it)
{
    (void)c;
    ctca_issuance_free(it->is);
    it->is = NULL;
    it->relooked = true;
    it->eb.msg[0] = '\0';
    return NEXT;
}

static stage after_deferred(step_ctx *c, item *it)
{
    (void)c;
    it->outcome = OUT_DEFERRED;
    ctca_issuance_free(it->is);
    it->is = NULL;
    ctca_issue_result_cleanup(&it->res);
    return NEXT;
}

/* ---- the steps -------------------------------------------------------------------- */

/* One row per stage: where its step runs, what it does (NULL: nothing but
 * go on), and where the item goes next when the step answers NEXT; a step
 * that branches (a failure, a refused journal, an unmet policy) answers
 * the stage itself. A failed item goes to D_DONE and is counted. Items
 * change hands only between places: a worker's step always answers a
 * driver stage. */
typedef struct step {
    place where;
    stage (*run)(step_ctx *c, item *it);
    stage next;
} step;

static const step STEPS[N_STAGES] = {
    /* find the record; D_RESUMED to resume, D_DONE when issued or someone else's */
    [W_LOOKUP] = {ON_WORKER, step_lookup, D_PREPARED},
    [W_SIGN] = {ON_WORKER, step_sign, D_SIGNED},
    /* D_UNMET when the SCTs do not meet the policy */
    [W_BUILD] = {ON_WORKER, step_build, D_BUILT},
    [W_OUTPUT] = {ON_WORKER, step_output, D_DONE},
    /* C_RELOOK when the CSR got a record since the lookup */
    [D_PREPARED] = {ON_DRIVER, drive_journal, C_JOURNALED},
    /* D_DONE when another process claimed it first */
    [D_RESUMED] = {ON_DRIVER, drive_claim, C_CLAIMED},
    [D_SIGNED] = {ON_DRIVER, drive_store_precert, C_PRECERT},
    [D_BUILT] = {ON_DRIVER, drive_store_final, C_FINAL},
    /* C_FINAL when issued without embedded SCTs, else C_DEFERRED */
    [D_UNMET] = {ON_DRIVER, drive_fall_back, C_DEFERRED},
    [D_DONE] = {ON_DRIVER, drive_count, COUNTED},
    [C_JOURNALED] = {AFTER_COMMIT, NULL, W_SIGN},
    [C_PRECERT] = {AFTER_COMMIT, after_precert, COLLECTING},
    [C_FINAL] = {AFTER_COMMIT, NULL, W_OUTPUT},
    [C_DEFERRED] = {AFTER_COMMIT, after_deferred, D_DONE},
    [C_CLAIMED] = {AFTER_COMMIT, after_claimed, COLLECTING},
    [C_RELOOK] = {AFTER_COMMIT, after_relook, W_LOOKUP},
    /* collect() moves it on once its collection is over */
    [COLLECTING] = {ON_CLIENT, NULL, W_BUILD},
};

/* Runs stage st's step on it; the stage it goes to. */
static stage run_step(stage st, step_ctx *c, item *it)
{
    const step *s = &STEPS[st];
    stage got = s->run ? s->run(c, it) : NEXT;
    return got == NEXT ? s->next : got;
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
        step_ctx c = {.b = b, .store = w->store};
        it->stage = run_step(it->stage, &c, it);
        pthread_mutex_lock(&b->mu);
        queue_push(&b->done, it);
        pthread_cond_signal(&b->done_cv);
        pthread_mutex_unlock(&b->mu);
    }
}


/* Takes it to stage next and on as far as the driver can now: a driver step
 * runs at once (its writes in the open batch), until the item waits for a
 * worker, the commit or the client, or is counted. */
static void move(driver *d, item *it, stage next)
{
    step_ctx c = {.b = d->b, .store = d->store, .d = d};
    while (next != COUNTED) {
        if (next >= N_STAGES)
            next = fail_item(it, CTCA_ERR_INTERNAL);
        it->stage = next;
        switch (STEPS[next].where) {
        case ON_WORKER:
            to_workers(d, it);
            return;
        case AFTER_COMMIT:
            queue_push(&d->written, it);
            return;
        case ON_CLIENT:
            d->collecting[d->n_collecting++] = it;
            return;
        case ON_DRIVER:
            next = run_step(next, &c, it);
            break;
        default:
            next = fail_item(it, CTCA_ERR_INTERNAL);
            break;
        }
    }
}

/* Commits the batch, then lets every item it held go on; when the commit
 * fails, none of them does (their writes are not in the store). */
static void commit(driver *d)
{
    ctca_err rc = ctca_store_batch_commit(d->store);
    step_ctx c = {.b = d->b, .store = d->store, .d = d};
    item *it;
    while ((it = queue_pop(&d->written)) != NULL) {
        if (rc != CTCA_OK) {
            ctca_errbuf_set(&it->eb, rc, "committing to the store: %s",
                            ctca_store_errmsg(d->store));
            move(d, it, fail_item(it, rc));
            continue;
        }
        move(d, it, run_step(it->stage, &c, it));
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
            move(d, it, STEPS[COLLECTING].next);
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
        move(d, it, it->stage); /* a driver stage, from a worker */
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
    CTCA_GUARD(ctca_ca_load_log_list(ca, opt->log_list_path, &list, eb));
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
