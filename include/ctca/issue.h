/* ctca/issue.h - the issuance engine: CSR in, certificate with embedded SCTs out.
 *
 * The pipeline of DESIGN.md: validate the CSR against the profile, allocate a
 * fresh serial, journal the precertificate TBS in the store, sign the
 * precertificate, submit it to logs, verify and store each SCT as it arrives,
 * stop as soon as the SCTs meet the CA's CT policy (ctca_ca_get0_policy), then
 * build the final TBS, prove it corresponds to the precertificate byte for
 * byte, sign it, verify every embedded SCT against the final certificate, and
 * store it.
 *
 * Logs come from the log list (ctca_log_list_select: usable or qualified,
 * interval covering notAfter, ordered so that any prefix spans operators). The
 * first wave is as many logs as the policy needs for the certificate's
 * lifetime, plus one so that a single hung log costs nothing; a spare is
 * started whenever a log fails (error, bad SCT, per-log timeout) and the SCTs
 * verified or awaited fall short, or all answered without complying.
 *
 * CT 2.0 (RFC 9162), chosen per request or per profile: the journaled TBS is
 * the final TBS minus the Transparency Information extension, the
 * precertificate a CMS SignedData over it (ctca/cms.h), submitted with
 * submit-entry to the list's ct_version 2 logs; their SCT TransItems go into
 * 1.3.101.75 (ctca/transparency.h) and the release check proves the final TBS
 * minus that extension is the CMS eContent. The store keeps them with
 * ct_version 2, apart from RFC 6962 SCTs.
 *
 * A CA with a Precertificate Signing Certificate (ctca/ca.h) signs CT 1.0
 * precertificates with it (unless the profile says "preca": false): the
 * journaled TBS names the PreCA as issuer, logs get the precertificate, the
 * PreCA and ca.pem, the SCTs are verified over the TBS rewritten to the CA,
 * and the final certificate, signed by the CA, carries that TBS. CT 2.0 has
 * no PreCA: such a request is refused (CTCA_ERR_PRECA) before anything is
 * written.
 *
 * ctca_issue does everything for one certificate. The step API below lets many
 * issuances share one ctca_ctclient loop (batch signing) and lets a queue
 * worker finish an issuance later (ctca_issuance_resume). */
#ifndef CTCA_ISSUE_H
#define CTCA_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/ca.h"
#include "ctca/ctclient.h"
#include "ctca/error.h"
#include "ctca/loglist.h"
#include "ctca/release.h"
#include "ctca/sct.h"
#include "ctca/store.h"

/* The profile a request that names none is issued under. */
#define CTCA_DEFAULT_PROFILE "tls-server"

typedef struct ctca_issue_request {
    const char *csr_path;      /* PEM or DER */
    const char *profile;       /* NULL: CTCA_DEFAULT_PROFILE */
    const char *log_list_path; /* NULL: the CA's configured list */
    unsigned ct_version;       /* 1 (RFC 6962) or 2 (RFC 9162); 0: the profile's */
    /* A list already loaded, used instead of reading log_list_path (borrowed:
     * unchanged until the issuance is freed; issuances on several threads may
     * share it). NULL: load the list. */
    const ctca_log_list *log_list;
    int64_t now_ms;            /* wall clock for validity and the audit journal */
    /* The wall clock for SCT timestamp checks as SCTs arrive; NULL = ctca_now_ms. */
    int64_t (*clock_ms)(void *arg);
    void *clock_arg;
    ctca_fallback fallback;    /* CTCA_FALLBACK_CONFIG (0): the CA's ct.fallback */
    /* At most one issuance per CSR and profile (ctca batch): the journal is
     * refused with CTCA_ERR_STORE_DUPLICATE unless the CSR has no record
     * under the profile, or its latest is *supersedes (borrowed for the
     * call), unchanged: a journaled record whose owner is gone
     * (ctca_store_journal_entry). */
    bool once_per_csr;
    const ctca_store_unfinished *supersedes;
} ctca_issue_request;

/* What happened at one log. Strings are owned by the result. */
typedef struct ctca_issue_log_outcome {
    char *description;
    char *url;
    ctca_err err;  /* CTCA_OK when its SCT was verified and stored */
    char *detail;  /* human reason ("" on success) */
    uint64_t elapsed_ms;
} ctca_issue_log_outcome;

typedef struct ctca_issue_result {
    char serial[41];     /* lower-case hex */
    uint8_t *cert;       /* final certificate DER (NULL unless issued) */
    size_t cert_len;
    unsigned ct_version; /* 1 or 2, as issued */
    uint8_t *precert;    /* precertificate DER (NULL if never signed): a certificate
                            for CT 1.0, a CMS SignedData for CT 2.0 */
    size_t precert_len;
    size_t n_embedded;   /* SCTs embedded in cert */
    size_t n_queued;     /* logs queued by the fallback (defer: add-pre-chain,
                            unembedded: add-chain of cert) */
    ctca_issue_log_outcome *logs;
    size_t n_logs;
} ctca_issue_result;

/* ctca_issue: issues one certificate (see the header comment). When the policy
 * is not met by the deadline, the fallback (req->fallback, else ct.fallback;
 * journaled with the record, ctca_issuance_fall_back) decides: "fail" marks the record failed with every log's outcome and
 * returns CTCA_ERR_POLICY_UNMET; "defer" queues the logs still needed
 * (ctca_issuance_defer) and returns CTCA_ERR_DEFERRED; "unembedded" issues the
 * certificate without SCTs (ctca_issuance_finish_unembedded) and returns
 * CTCA_OK with res->n_embedded 0. The precertificate stays on record in every
 * case. On CTCA_OK
 * res->cert holds the final certificate. On failure res still holds what is
 * known (serial, precert, per-log outcomes) and eb the reason; the store keeps
 * every record. The caller releases res with ctca_issue_result_cleanup in both
 * cases. */
CTCA_RESULT ctca_issue(const ctca_ca *ca, const ctca_issue_request *req, ctca_issue_result *res,
                       ctca_errbuf *eb);

/* ctca_issue_result_cleanup: frees res's buffers and zeroes it. */
void ctca_issue_result_cleanup(ctca_issue_result *res);

/* ---- steps ----------------------------------------------------------------
 * Each step takes the store connection to use, because SQLite connections
 * belong to one thread at a time: a step may run on any thread, but one
 * issuance is never in two steps at once. The ca must outlive the issuance.
 *
 * The steps run in one order only, and each at most once (defer may repeat):
 * prepare, journal, sign_precert, store_precert (together: begin; or resume
 * instead of all four), then optionally start and, once collected,
 * build_final and store_final (together: finish), or defer, or
 * finish_unembedded. A step called out of that order changes nothing and
 * returns CTCA_ERR_STEP_ORDER: signing is reachable only through the journal,
 * so nothing is signed that was not journaled, and a final certificate only
 * after its precertificate is stored. This header has the library's only
 * ways to get a signature from the CA's keys. */

typedef struct ctca_issuance ctca_issuance;

/* ctca_issuance_begin: checks the CSR against the profile, loads the log list
 * and selects the candidate logs, then journals, signs and stores the
 * precertificate. Nothing is written when the request is refused. */
CTCA_RESULT ctca_issuance_begin(const ctca_ca *ca, ctca_store *store,
                                const ctca_issue_request *req, ctca_issuance **out,
                                ctca_errbuf *eb);

/* ctca_issuance_resume: an issuance of the journaled serial (lower-case hex),
 * rebuilt from the store: its precertificate, validity and profile, and the SCTs
 * stored for it so far. The record must hold a precertificate and no final
 * certificate (CTCA_ERR_STORE_CONFLICT otherwise). The logs come from list
 * when not NULL (borrowed: it must outlive the issuance; a batch or a queue
 * worker resuming many records loads its list once), else from
 * log_list_path, else from the CA's. now_ms is the time for the audit
 * journal. */
CTCA_RESULT ctca_issuance_resume(const ctca_ca *ca, ctca_store *store, const char *serial,
                                 const ctca_log_list *list, const char *log_list_path,
                                 int64_t now_ms, ctca_issuance **out, ctca_errbuf *eb);

/* ctca_issuance_set_clock: the wall clock it reads from now on (SCT
 * timestamp checks as SCTs arrive, the CT policy, the release check), as
 * ctca_issue_request.clock_ms sets it for a new issuance; for one from
 * ctca_issuance_resume. clock_ms NULL: ctca_now_ms. */
void ctca_issuance_set_clock(ctca_issuance *is, int64_t (*clock_ms)(void *arg), void *clock_arg);

/* ctca_issuance_start: starts submitting the precertificate on client (which
 * may carry other issuances), with the SCTs' arrival handled inside
 * ctca_ctclient_run: each is verified and stored through store, which must
 * stay usable on the thread driving client until ctca_issuance_collected.
 * deadline_ms is absolute on client's clock (ctca_ctclient_now_ms). Starting
 * an issuance that already complies starts nothing. */
CTCA_RESULT ctca_issuance_start(ctca_issuance *is, ctca_ctclient *client, ctca_store *store,
                                uint64_t deadline_ms);

/* ctca_issuance_collected: true once the SCTs comply, or nothing is in flight
 * and no spare is left to try (or the deadline passed). */
bool ctca_issuance_collected(const ctca_issuance *is);

/* ctca_issuance_serial: the serial, lower-case hex, borrowed from is. */
const char *ctca_issuance_serial(const ctca_issuance *is);

/* ctca_issuance_finish: after collection, fills res (serial, precertificate,
 * every log's outcome) and, when the stored SCTs comply, builds, signs,
 * release-checks and stores the final certificate (res->cert). Otherwise
 * CTCA_ERR_POLICY_UNMET with the failed rule and each log's outcome in eb; the
 * record is left as it is for the caller's fallback. */
CTCA_RESULT ctca_issuance_finish(ctca_issuance *is, ctca_store *store, ctca_issue_result *res,
                                 ctca_errbuf *eb);

/* ---- the steps cut at the store writes ------------------------------------
 * ctca_issuance_begin is _prepare, _journal, _sign_precert and
 * _store_precert; ctca_issuance_finish is _build_final and _store_final. A
 * caller that does all its writes on one connection in batches
 * (ctca_store_batch_begin) while other threads do the signing uses these
 * instead. _prepare and _build_final only read the store (any connection);
 * _sign_precert does not touch it; _journal, _store_precert and _store_final
 * only write. Each write must be committed before what it guards: the journal
 * entry before _sign_precert, the precertificate before _start, the final
 * certificate before res->cert is released. */

/* ctca_issuance_prepare: begin's checks, log selection, a serial new to the
 * store and the precertificate TBS; nothing is written or signed. */
CTCA_RESULT ctca_issuance_prepare(const ctca_ca *ca, ctca_store *store,
                                  const ctca_issue_request *req, ctca_issuance **out,
                                  ctca_errbuf *eb);
/* ctca_issuance_journal: journals the prepared TBS under its serial. */
CTCA_RESULT ctca_issuance_journal(ctca_issuance *is, ctca_store *store, ctca_errbuf *eb);
/* ctca_issuance_sign_precert: signs the journaled TBS (kept in is). */
CTCA_RESULT ctca_issuance_sign_precert(ctca_issuance *is, ctca_errbuf *eb);
/* ctca_issuance_store_precert: stores the signed precertificate. */
CTCA_RESULT ctca_issuance_store_precert(ctca_issuance *is, ctca_store *store, ctca_errbuf *eb);
/* ctca_issuance_build_final: finish up to the store write: fills res as
 * finish does, with res->cert signed and release-checked; CTCA_ERR_POLICY_UNMET
 * as finish. */
CTCA_RESULT ctca_issuance_build_final(ctca_issuance *is, ctca_store *store,
                                      ctca_issue_result *res, ctca_errbuf *eb);
/* ctca_issuance_store_final: stores res->cert; on failure res->cert is freed. */
CTCA_RESULT ctca_issuance_store_final(ctca_issuance *is, ctca_store *store,
                                      ctca_issue_result *res, ctca_errbuf *eb);
/* ctca_issuance_defer: hands the rest of the collection to the queue: moves
 * the record to deferred with reason (1..CTCA_STORE_TEXT_MAX bytes) and
 * queues precert_entry items for the logs still needed: enough that, with the
 * SCTs stored and the items still pending or leased, the policy's count plus
 * one is in reach, chosen in selection order across operators from logs with
 * no SCT and no item for this serial yet. Called again (by a queue worker),
 * it adds spares; a pending item due only after this issuance's deadline
 * (now + ct.deadline_ms: a long Retry-After, an open breaker) counts as spent
 * there, so a spare log is queued instead of waiting for it. *n_queued (may
 * be NULL) gets the number of new items; CTCA_ERR_NO_LOGS when none could be
 * added and none is pending: every log was tried. */
CTCA_RESULT ctca_issuance_defer(ctca_issuance *is, ctca_store *store, const char *reason,
                                size_t *n_queued, ctca_errbuf *eb);

/* ctca_issuance_finish_unembedded: the "unembedded" fallback: signs the
 * certificate whose TBS is the precertificate's minus the poison (CT 2.0: the
 * journaled TBS; no SCTs), proves that byte for byte
 * (ctca_unembedded_cert_check), and stores it with x509_entry queue items
 * (add-chain; CT 2.0: submit-entry) for as many logs as the policy needs
 * plus one, in one transaction (ctca_store_put_final_queued). res as for
 * ctca_issuance_finish, with res->n_queued set. */
CTCA_RESULT ctca_issuance_finish_unembedded(ctca_issuance *is, ctca_store *store,
                                            ctca_issue_result *res, ctca_errbuf *eb);

/* ctca_issuance_fall_back: the one fallback decision (DESIGN.md step 6), for
 * ctca_issue, batch signing and the queue alike: the SCTs did not meet the
 * policy (reason says why, kept as the record's last error) and the
 * issuance's fallback decides: "unembedded" issues the certificate without
 * embedded SCTs (ctca_issuance_finish_unembedded: CTCA_OK, res->cert),
 * "defer" hands the rest to the queue (ctca_issuance_defer:
 * CTCA_ERR_DEFERRED), "fail" marks the record failed (CTCA_ERR_POLICY_UNMET).
 * A fallback that cannot be taken marks the record failed too, saying why in
 * eb; CTCA_ERR_STORE when even that cannot be written. The precertificate
 * stays on record in every case. Writes go through store (inside the
 * caller's store batch, if one is open). */
CTCA_RESULT ctca_issuance_fall_back(ctca_issuance *is, ctca_store *store, const char *reason,
                                    ctca_issue_result *res, ctca_errbuf *eb);
/* ctca_issuance_fallback: the issuance's fallback: its request's (else the
 * CA's ct.fallback), or for a resumed record the one journaled with it, so a
 * queue worker taking over honours what the request chose. */
ctca_fallback ctca_issuance_fallback(const ctca_issuance *is);
/* ctca_issuance_set_fallback: overrides it (a batch re-run's --fallback);
 * CTCA_FALLBACK_CONFIG changes nothing. */
void ctca_issuance_set_fallback(ctca_issuance *is, ctca_fallback f);

/* ctca_issuance_free: cancels nothing (the client must no longer run is's
 * submissions: collected, or the client freed) and frees is. Accepts NULL. */
void ctca_issuance_free(ctca_issuance *is);

#endif
