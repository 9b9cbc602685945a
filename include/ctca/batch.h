/* ctca/batch.h - batch signing: a directory of CSRs in, a directory of
 * certificates with embedded SCTs out.
 *
 * ctca_batch_run issues a certificate for every CSR file (PEM or DER) in a
 * directory with the issuance engine's steps (ctca/issue.h): a pool of signing
 * threads, each with its own store connection, begins and finishes issuances
 * (CSR checks, journal, precertificate, final certificate); the calling thread
 * drives every log submission of every issuance on one shared ctca_ctclient,
 * so connections to each log are kept alive and issuances wait for logs
 * together instead of one after another. At most `window` issuances are in
 * flight, so memory does not grow with the number of CSRs.
 *
 * Resumable, by CSR digest and profile (ctca_store_get_cert_by_csr): a CSR
 * whose latest record under the run's profile is issued is not issued again (its output file is rewritten when
 * missing or different); one whose record holds a precertificate without a
 * final certificate (killed mid-way, failed, or deferred to the queue) is
 * resumed with the SCTs already stored; anything else starts afresh. A CSR
 * that cannot be issued is reported and does not stop the others.
 *
 * A record is resumed only when its owner (core/engine/owner_int.h) is gone, by the
 * queue worker's takeover rule: provably ended, or unknown from here and
 * unchanged for queue.recover_after_ms. The run then claims it
 * (ctca_store_claim) and is its owner. A record whose owner still runs (a
 * ctca issue, another ctca batch, a queue worker), or that another process
 * claimed first, is left to it and reported in progress; so is a record only
 * journaled whose owner runs (it is about to sign it: a fresh start would
 * issue the CSR twice). The journal itself refuses a second record for one
 * CSR and profile (once_per_csr, in the store's transaction), so runs started
 * together over one directory, on one host or many, issue each CSR once: a
 * CSR another run journaled first is looked up again and left to it.
 *
 * When the logs do not give SCTs meeting the CT policy by the deadline, the
 * fallback decides as for ctca_issue: "defer" hands the issuance to the queue
 * (ctca_issuance_defer), "fail" marks the record failed, "unembedded" issues
 * the certificate without embedded SCTs and queues its add-chain.
 *
 * Outputs: OUT_DIR/<name>.pem for CSR file <name>[.ext] (the final certificate),
 * and OUT_DIR/summary.json:
 *   {"csr_dir", "out_dir", "total", "issued", "already_issued", "deferred",
 *    "in_progress", "failed", "elapsed_s", "rate_per_s",
 *    "deferred_csrs": [{"csr", "serial", "queued", "reason"}],
 *    "in_progress_csrs": [{"csr", "serial", "reason"}],
 *    "failed_csrs": [{"csr", "error", "reason"}]}
 * where "issued" counts certificates issued by this run (with the unembedded
 * fallback, some without embedded SCTs), "deferred" CSRs whose precertificate
 * is on record but whose SCTs did not meet the CT policy by the deadline
 * ("queued": handed to the queue by the defer fallback, else marked failed; a
 * queue worker or a re-run finishes them), and rate_per_s is issued /
 * elapsed_s. */
#ifndef CTCA_BATCH_H
#define CTCA_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/ca.h"
#include "ctca/error.h"

#define CTCA_BATCH_DEFAULT_WINDOW 256 /* issuances in flight */
#define CTCA_BATCH_MAX_WINDOW 4096
#define CTCA_BATCH_MAX_JOBS 256       /* signing threads */
#define CTCA_BATCH_MAX_FILES 1000000  /* CSR files per directory */
#define CTCA_BATCH_MAX_REPORTED 10000 /* deferred, in progress, failed CSRs listed by name */

/* Where a run stands, for a progress display. */
typedef struct ctca_batch_progress {
    size_t done;      /* CSRs finished one way or another */
    size_t total;     /* CSR files found */
    size_t issued;    /* issued by this run */
    double elapsed_s; /* since the run started */
} ctca_batch_progress;

typedef struct ctca_batch_options {
    const char *csr_dir;
    const char *out_dir;       /* created (mode 0755) when missing; not csr_dir */
    const char *profile;       /* NULL: CTCA_DEFAULT_PROFILE */
    const char *log_list_path; /* NULL: the CA's configured list */
    unsigned jobs;             /* signing threads, 1..MAX_JOBS; 0: the online CPUs */
    ctca_fallback fallback;    /* CTCA_FALLBACK_CONFIG (0): the CA's ct.fallback */
    size_t window;             /* issuances in flight, 1..MAX_WINDOW; 0: DEFAULT_WINDOW */
    /* Called on the calling thread after every finished CSR; NULL for none. */
    void (*progress)(const ctca_batch_progress *p, void *arg);
    void *progress_arg;
    /* The wall clock in ms since the epoch, for everything the run dates or
     * times: queue.recover_after_ms, claims, records marked failed, the
     * validity, audit journal and SCT checks of its issuances, elapsed_s.
     * Called from the signing threads too, so it must be thread-safe. NULL:
     * ctca_now_ms. Tests pin it instead of sleeping. */
    int64_t (*clock_ms)(void *arg);
    void *clock_arg;
} ctca_batch_options;

/* One CSR that was not issued. Strings are owned by the summary. */
typedef struct ctca_batch_problem {
    char *csr;       /* file name within csr_dir */
    char serial[41]; /* "" when nothing was journaled */
    bool deferred;   /* deferred (queued or marked failed), not failed */
    bool queued;     /* deferred to the queue */
    bool in_progress; /* its record is another running process's */
    ctca_err err;
    char *reason;
} ctca_batch_problem;

typedef struct ctca_batch_summary {
    size_t total, issued, already_issued, deferred, in_progress, failed;
    ctca_batch_problem *problems; /* deferred, in progress and failed CSRs, at most
                                     MAX_REPORTED */
    size_t n_problems;
    size_t unlisted;              /* problems beyond MAX_REPORTED, counted only */
    double elapsed_s;
} ctca_batch_summary;

/* ctca_batch_run: issues a certificate for every regular, non-hidden file in
 * opt->csr_dir (see the header comment) and writes the outputs and
 * OUT_DIR/summary.json. Returns CTCA_OK when the run went through, whatever
 * happened to single CSRs (see *sum: the caller releases it with
 * ctca_batch_summary_cleanup, also after a failure); an error only for what
 * stops the whole run (unreadable directories, bad options, a store or log
 * list that cannot be opened), with the reason in eb. */
CTCA_RESULT ctca_batch_run(const ctca_ca *ca, const ctca_batch_options *opt,
                           ctca_batch_summary *sum, ctca_errbuf *eb);

/* ctca_batch_summary_cleanup: frees sum's problems and zeroes it. */
void ctca_batch_summary_cleanup(ctca_batch_summary *sum);

#endif
