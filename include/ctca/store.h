/* ctca/store.h - the durable store (SQLite): certificate records, SCTs, the
 * queue of log submissions with per-log circuit breakers, and the append-only
 * audit journal. No SQL lives anywhere else in ctca.
 *
 * Invariants the store enforces (DESIGN.md "Invariants"):
 *  - a serial is bound to exactly one TBSCertificate, forever: a record is
 *    never deleted and its TBS, precertificate and final certificate, once
 *    written, never change (SQL triggers refuse it even to raw SQL);
 *  - the TBS is journaled before anything is signed: a precertificate can only
 *    be stored for a journaled serial, a final certificate only after its
 *    precertificate;
 *  - every write commits with synchronous=FULL in WAL mode before it returns,
 *    so a precertificate or SCT the caller was told is stored survives a crash.
 *
 * Durability and concurrency: WAL journal, synchronous=FULL, foreign_keys=ON, a
 * 5 s busy timeout, and every write in one BEGIN IMMEDIATE transaction, so
 * several processes (and several connections) may share one database file.
 *
 * Threads: a ctca_store is one connection (opened SQLITE_OPEN_FULLMUTEX). Use
 * one ctca_store per thread; the error text of ctca_store_errmsg belongs to the
 * connection and is only meaningful to the thread that made the failing call.
 *
 * Time is injected: every write takes now_ms (ms since the epoch); the store
 * never reads the clock.
 *
 * Errors: any SQLite failure is CTCA_ERR_STORE with its context (including
 * sqlite3_errmsg) in ctca_store_errmsg. A missing record is
 * CTCA_ERR_STORE_NOT_FOUND; a write that contradicts what is stored (other
 * bytes for a serial, an illegal state transition) is CTCA_ERR_STORE_CONFLICT.
 * An invalid argument (malformed serial, ct_version not 1 or 2, empty or
 * oversized blob or text) is CTCA_ERR_VALUE_RANGE. Outputs are zeroed on
 * failure. */
#ifndef CTCA_STORE_H
#define CTCA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"

/* A serial is the lower-case hex of the DER INTEGER's minimal magnitude: an
 * even number of [0-9a-f], at most 20 octets (RFC 5280 4.1.2.2), first octet
 * non-zero ("05", "7f3a...", never "0005" or "7F"). */
#define CTCA_STORE_SERIAL_MAX 40
#define CTCA_STORE_DIGEST_LEN 32         /* SHA-256 of the CSR's DER */
#define CTCA_STORE_LOG_ID_LEN 32
#define CTCA_STORE_MAX_SCTS 256          /* per certificate; a cap, not a spec bound */
#define CTCA_STORE_SCT_MAX_LEN 65535     /* an SCT is opaque<1..2^16-1> (RFC 6962 3.3) */
#define CTCA_STORE_DER_MAX_LEN ((size_t)16 * 1024 * 1024) /* = CTCA_DER_MAX_LEN */
#define CTCA_STORE_NAME_MAX 128          /* profile names and audit event names */
#define CTCA_STORE_TEXT_MAX 8192         /* failure reasons and audit details */
#define CTCA_STORE_AUDIT_PAGE_MAX 1024   /* entries per ctca_store_audit_read */
#define CTCA_STORE_BUSY_TIMEOUT_MS 5000

typedef struct ctca_store ctca_store;

/* ---- opening ------------------------------------------------------------ */

/* Flags of ctca_store_open_ex. */
#define CTCA_STORE_CREATE 0x1u   /* create the file and schema when missing (ctca init) */
#define CTCA_STORE_READONLY 0x2u /* read only; works in a directory we cannot write */

/* ctca_store_open_ex: opens the database at path and, unless read-only, brings
 * its schema to the current version, one transaction per migration step.
 * Without CTCA_STORE_CREATE the store must exist: a missing file, a
 * zero-length one or an SQLite database without the ctca schema is refused
 * with CTCA_ERR_STORE_MISSING (a lost store is never silently replaced by an
 * empty one). With CTCA_STORE_READONLY nothing is written: a store whose
 * schema is older than this build is refused, and in a directory we cannot
 * write (so SQLite cannot make its WAL index) a store with no write-ahead log
 * beside it is read as an immutable file. A file that is not an SQLite
 * database, an SQLite database that is not a ctca store, or a store written
 * by a newer ctca (PRAGMA user_version above ctca_store_schema_version) is
 * refused with CTCA_ERR_STORE. Errors name path in eb (may be NULL). On
 * success the caller owns *out (ctca_store_close); on failure *out is NULL. */
CTCA_RESULT ctca_store_open_ex(const char *path, unsigned flags, ctca_store **out,
                               ctca_errbuf *eb);
/* ctca_store_open: ctca_store_open_ex(path, 0, ...): an existing store, read
 * and write. */
CTCA_RESULT ctca_store_open(const char *path, ctca_store **out, ctca_errbuf *eb);
/* ctca_store_create: ctca_store_open_ex(path, CTCA_STORE_CREATE, ...): opens
 * the store, creating it when missing (ctca init; tests). */
CTCA_RESULT ctca_store_create(const char *path, ctca_store **out, ctca_errbuf *eb);

/* ctca_store_close: closes and frees s; accepts NULL. */
void ctca_store_close(ctca_store *s);

/* ctca_store_schema_version: the schema version this build writes and reads. */
int ctca_store_schema_version(void);

/* ctca_store_errmsg: context of s's last failed call ("" when none); borrowed
 * from s, valid until the next call on s. */
const char *ctca_store_errmsg(const ctca_store *s);

/* ctca_store_integrity_check: CTCA_OK only when PRAGMA integrity_check says
 * "ok" and PRAGMA foreign_key_check finds nothing; otherwise CTCA_ERR_STORE with
 * the first problem in ctca_store_errmsg. */
CTCA_RESULT ctca_store_integrity_check(ctca_store *s);

/* ---- certificate records ------------------------------------------------- */

typedef enum ctca_store_state {
    CTCA_STORE_JOURNALED = 0, /* TBS written, nothing signed yet */
    CTCA_STORE_PRECERT,       /* precertificate signed and stored */
    CTCA_STORE_ISSUED,        /* final certificate stored */
    CTCA_STORE_FAILED,        /* SCT collection failed; precert kept on record */
    CTCA_STORE_DEFERRED       /* SCT collection handed to the queue (ctca_store_defer) */
} ctca_store_state;

/* ctca_store_state_name: "journaled", "precert", "issued", "failed" or
 * "deferred"; static, never NULL ("unknown" for an invalid value). */
const char *ctca_store_state_name(ctca_store_state st);

#define CTCA_STORE_HOST_MAX 255   /* owner host names */
#define CTCA_STORE_KERNEL_MAX 128 /* owner kernel identities */

/* The process that owns an unfinished record: the one that journaled it, or
 * the queue worker that took it over. kernel names the running kernel (its
 * boot ID) and the PID namespace in which pid and start (the process's start
 * time in clock ticks since boot, /proc/PID/stat field 22) name exactly one
 * process; host is for people. */
typedef struct ctca_store_owner {
    char host[CTCA_STORE_HOST_MAX + 1];     /* 1..HOST_MAX bytes */
    char kernel[CTCA_STORE_KERNEL_MAX + 1]; /* 1..KERNEL_MAX bytes */
    int64_t pid;                            /* > 0 */
    int64_t start;                          /* >= 0 */
} ctca_store_owner;

/* A record's state, last update and owner: the view ctca_store_claim
 * compares. Listed for unfinished (journaled or precert) records by
 * ctca_store_list_unfinished, read for any one by ctca_store_get_unfinished. */
typedef struct ctca_store_unfinished {
    char serial[CTCA_STORE_SERIAL_MAX + 1];
    ctca_store_state state;
    int64_t updated_ms;
    bool has_owner;         /* false: journaled before owners were recorded, or
                               by a caller that gave none */
    ctca_store_owner owner; /* meaningful when has_owner */
} ctca_store_unfinished;

/* What the issuance engine journals before signing. All pointers are borrowed
 * for the duration of the call. */
typedef struct ctca_store_journal_entry {
    const char *serial;
    const char *profile;                        /* profile name, 1..NAME_MAX bytes */
    int ct_version;                             /* 1 (RFC 6962) or 2 (RFC 9162) */
    const uint8_t *csr_sha256;                  /* CTCA_STORE_DIGEST_LEN bytes */
    const uint8_t *tbs;                         /* the TBSCertificate DER */
    size_t tbs_len;
    int64_t not_before, not_after;              /* seconds since the epoch */
    int64_t now_ms;
    const ctca_store_owner *owner;              /* the issuing process; NULL: unknown */
    /* At most one live issuance per CSR and profile (ctca batch): the entry
     * is journaled only when the latest record of csr_sha256 under profile
     * is supersedes, unchanged since the caller read it (a journaled record
     * whose owner is gone), or when there is none and supersedes is NULL. */
    bool once_per_csr;
    const ctca_store_unfinished *supersedes;
    /* What the request chose, kept with the record for whoever finishes it:
     * its fallback ("fail", "defer" or "unembedded"; NULL: none recorded)
     * and the log list it was issued with (path as given, 1..4096 bytes,
     * and CTCA_STORE_DIGEST_LEN bytes of SHA-256 of the file; both or
     * neither). */
    const char *fallback;
    const char *log_list_path;
    const uint8_t *log_list_sha256;
} ctca_store_journal_entry;

/* ctca_store_journal: inserts a record for e->serial in state journaled,
 * owned by e->owner when it is not NULL. Journaling the same entry again
 * (same TBS, profile, CT version, CSR digest and validity) is CTCA_OK and
 * changes nothing, so a crashed attempt can be retried; any difference for an
 * existing serial is CTCA_ERR_STORE_CONFLICT, which is how "one serial, one
 * TBS" is kept. A malformed owner is CTCA_ERR_VALUE_RANGE. With once_per_csr,
 * a CSR that already has another record under the profile is
 * CTCA_ERR_STORE_DUPLICATE (checked in the journal's transaction, so it
 * holds between processes and hosts sharing the store). */
CTCA_RESULT ctca_store_journal(ctca_store *s, const ctca_store_journal_entry *e);

/* ctca_store_serial_exists: *exists tells whether serial has a record. */
CTCA_RESULT ctca_store_serial_exists(ctca_store *s, const char *serial, bool *exists);

/* ctca_store_count_state: *n gets the number of records in state st. */
CTCA_RESULT ctca_store_count_state(ctca_store *s, ctca_store_state st, size_t *n);

/* ctca_store_put_precert: stores the signed precertificate der (borrowed) and
 * moves serial from journaled to precert. Storing the same bytes again, in any
 * later state, is CTCA_OK; other bytes are CTCA_ERR_STORE_CONFLICT. Unknown
 * serial: CTCA_ERR_STORE_NOT_FOUND. */
CTCA_RESULT ctca_store_put_precert(ctca_store *s, const char *serial, const uint8_t *der,
                                   size_t len, int64_t now_ms);

/* ctca_store_put_final: stores the final certificate der (borrowed) and moves
 * serial from precert, deferred or failed (a later retry may complete it) to
 * issued. Storing the same bytes again is CTCA_OK; other bytes, or a record
 * without a precertificate (journaled), are CTCA_ERR_STORE_CONFLICT. */
CTCA_RESULT ctca_store_put_final(ctca_store *s, const char *serial, const uint8_t *der,
                                 size_t len, int64_t now_ms);

/* ctca_store_put_final_queued: ctca_store_put_final and, in the same
 * transaction, an x509_entry queue item (add-chain of the final certificate)
 * for each of the n_logs log IDs (CTCA_STORE_LOG_ID_LEN bytes each, packed
 * in log_ids), as ctca_store_queue_add does. For certificates issued without
 * embedded SCTs: a crash can never leave one issued but not queued. */
CTCA_RESULT ctca_store_put_final_queued(ctca_store *s, const char *serial, const uint8_t *der,
                                        size_t len, const uint8_t *log_ids, size_t n_logs,
                                        int64_t now_ms);

/* ctca_store_mark_failed: moves serial from precert or deferred to failed
 * with reason (borrowed, 1..TEXT_MAX bytes) as its last error; on a failed
 * record it only replaces the reason. The precertificate stays on record. A
 * journaled or issued record is CTCA_ERR_STORE_CONFLICT. */
CTCA_RESULT ctca_store_mark_failed(ctca_store *s, const char *serial, const char *reason,
                                   int64_t now_ms);

/* ctca_store_defer: moves serial from precert or failed to deferred with
 * reason (1..TEXT_MAX bytes) as its last error and, in the same transaction,
 * queues a precert_entry item for each of the n_logs log IDs (packed,
 * CTCA_STORE_LOG_ID_LEN bytes each; items that exist stay as they are). A
 * deferred record may be deferred again (more logs). Journaled or issued:
 * CTCA_ERR_STORE_CONFLICT. n_logs may be 0 only for a record already
 * deferred. */
CTCA_RESULT ctca_store_defer(ctca_store *s, const char *serial, const char *reason,
                             const uint8_t *log_ids, size_t n_logs, int64_t now_ms);

/* Serials as listed by ctca_store_list_serials. */
typedef struct ctca_store_serial_list {
    char (*serials)[CTCA_STORE_SERIAL_MAX + 1]; /* owned */
    size_t count;
} ctca_store_serial_list;

/* ctca_store_list_serials: up to max (1..QUEUE_PAGE_MAX) serials of records
 * in state st last updated before updated_before_ms (INT64_MAX: any time),
 * in the order they were created, after the record named after_serial (NULL:
 * from the start; page on with the last serial returned). Caller releases *out with
 * ctca_store_serial_list_cleanup (zeroed on failure). */
CTCA_RESULT ctca_store_list_serials(ctca_store *s, ctca_store_state st,
                                    int64_t updated_before_ms, const char *after_serial,
                                    size_t max, ctca_store_serial_list *out);

/* ctca_store_serial_list_cleanup: frees l and zeroes it; accepts a zeroed l. */
void ctca_store_serial_list_cleanup(ctca_store_serial_list *l);


typedef struct ctca_store_unfinished_list {
    ctca_store_unfinished *items; /* owned */
    size_t count;
} ctca_store_unfinished_list;

/* ctca_store_list_unfinished: up to max (1..QUEUE_PAGE_MAX) records in state
 * st (journaled or precert) with their owners, in the order they were
 * created, after the record named after_serial (NULL: from the start).
 * Caller releases *out with ctca_store_unfinished_list_cleanup (zeroed on
 * failure). */
CTCA_RESULT ctca_store_list_unfinished(ctca_store *s, ctca_store_state st,
                                       const char *after_serial, size_t max,
                                       ctca_store_unfinished_list *out);

/* ctca_store_unfinished_list_cleanup: frees l and zeroes it; accepts a zeroed l. */
void ctca_store_unfinished_list_cleanup(ctca_store_unfinished_list *l);

/* ctca_store_get_unfinished: serial's record (in any state) as
 * ctca_store_list_unfinished lists one, into *out (zeroed on failure), for a
 * caller about to resume it by serial to check its owner and claim it.
 * CTCA_ERR_STORE_NOT_FOUND when absent. */
CTCA_RESULT ctca_store_get_unfinished(ctca_store *s, const char *serial,
                                      ctca_store_unfinished *out);

/* ctca_store_claim: makes self (NULL: no one; the owner then stays as it was)
 * the owner of the record seen (from ctca_store_list_unfinished or
 * ctca_store_get_unfinished) and sets its
 * updated_ms to now_ms, with a "cert.claimed" audit entry naming the previous
 * owner, all only if the record is still as seen (same state, updated_ms and
 * owner): of several workers claiming one record, exactly one gets
 * *claimed = true; the others change nothing. */
CTCA_RESULT ctca_store_claim(ctca_store *s, const ctca_store_unfinished *seen,
                             const ctca_store_owner *self, int64_t now_ms, bool *claimed);

/* A record as read back. Every pointer is owned by the struct and released by
 * ctca_store_cert_cleanup; precert_der, final_der and last_error are NULL when
 * absent. */
typedef struct ctca_store_cert {
    char serial[CTCA_STORE_SERIAL_MAX + 1];
    ctca_store_state state;
    char *profile;
    int ct_version;
    uint8_t csr_sha256[CTCA_STORE_DIGEST_LEN];
    uint8_t *tbs;
    size_t tbs_len;
    uint8_t *precert_der;
    size_t precert_len;
    uint8_t *final_der;
    size_t final_len;
    int64_t not_before, not_after;
    int64_t created_ms, updated_ms;
    char *last_error;
    /* The request's choices as journaled (ctca_store_journal_entry); NULL
     * when none were recorded (records from before schema version 5). */
    char *fallback;
    char *log_list_path;
    uint8_t log_list_sha256[CTCA_STORE_DIGEST_LEN]; /* meaningful with log_list_path */
} ctca_store_cert;

/* ctca_store_get_cert: fills *out with serial's record; the caller releases it
 * with ctca_store_cert_cleanup (also safe after a failure, *out is zeroed).
 * CTCA_ERR_STORE_NOT_FOUND when absent. */
CTCA_RESULT ctca_store_get_cert(ctca_store *s, const char *serial, ctca_store_cert *out);

/* ctca_store_get_cert_by_csr: as ctca_store_get_cert, for the latest record
 * journaled for this CSR digest (CTCA_STORE_DIGEST_LEN bytes) under profile,
 * so an interrupted batch can resume instead of issuing twice. */
CTCA_RESULT ctca_store_get_cert_by_csr(ctca_store *s, const uint8_t *csr_sha256,
                                       const char *profile, ctca_store_cert *out);

/* ctca_store_cert_cleanup: frees c's buffers and zeroes it; accepts a zeroed c. */
void ctca_store_cert_cleanup(ctca_store_cert *c);

/* ---- revocation ------------------------------------------------------------ */

/* RFC 5280 5.3.1 CRLReason codes ctca_store_revoke accepts: all but
 * certificateHold (6) and removeFromCRL (8), since a revocation is final. */
enum {
    CTCA_REASON_UNSPECIFIED = 0,
    CTCA_REASON_KEY_COMPROMISE = 1,
    CTCA_REASON_CA_COMPROMISE = 2,
    CTCA_REASON_AFFILIATION_CHANGED = 3,
    CTCA_REASON_SUPERSEDED = 4,
    CTCA_REASON_CESSATION_OF_OPERATION = 5,
    CTCA_REASON_PRIVILEGE_WITHDRAWN = 9,
    CTCA_REASON_AA_COMPROMISE = 10
};

/* ctca_store_revoke: records serial as revoked since revoked_ms (ms since the
 * epoch, the revocationTime) for reason (a CTCA_REASON_* code, else
 * CTCA_ERR_VALUE_RANGE), with a "cert.revoked" audit entry in the same
 * transaction. Any record whose precertificate was signed can be revoked,
 * whatever became of its issuance (a precertificate counts as a certificate
 * for revocation: RFC 6962 3.1 makes its signature a binding commitment); a
 * journaled record (nothing signed) and one already revoked are
 * CTCA_ERR_STORE_CONFLICT, an unknown serial CTCA_ERR_STORE_NOT_FOUND.
 * Nothing un-revokes a serial. */
CTCA_RESULT ctca_store_revoke(ctca_store *s, const char *serial, int reason, int64_t revoked_ms,
                              int64_t now_ms);

typedef struct ctca_store_revocation {
    bool revoked;
    int reason;          /* CTCA_REASON_*, when revoked */
    int64_t revoked_ms;  /* the revocationTime, when revoked */
    int64_t recorded_ms; /* when ctca_store_revoke ran, when revoked */
} ctca_store_revocation;

/* ctca_store_get_revocation: whether serial is revoked, into *out (zeroed
 * when not, and on failure). CTCA_ERR_STORE_NOT_FOUND for an unknown serial. */
CTCA_RESULT ctca_store_get_revocation(ctca_store *s, const char *serial,
                                      ctca_store_revocation *out);

/* ---- SCTs ----------------------------------------------------------------- */

typedef struct ctca_store_sct {
    uint8_t log_id[CTCA_STORE_LOG_ID_LEN]; /* the log's key hash, also for ct_version 2
                                              (whose OID is inside the TransItem) */
    int entry_type;         /* 0 x509_entry, 1 precert_entry */
    int ct_version;         /* 1 or 2 */
    uint64_t timestamp_ms;
    uint8_t *sct;           /* the serialized SCT (or RFC 9162 TransItem) */
    size_t sct_len;
} ctca_store_sct;

typedef struct ctca_store_sct_list {
    ctca_store_sct *items;  /* owned, in the order they were stored */
    size_t count;
} ctca_store_sct_list;

/* ctca_store_add_sct: stores a verified SCT (sct borrowed, 1..SCT_MAX_LEN
 * bytes) for serial. At most one SCT is kept per (serial, log_id, entry_type):
 * adding the identical SCT again is CTCA_OK; a DIFFERENT SCT for the same key
 * is also CTCA_OK but is NOT stored: the first one stays, because it may
 * already be embedded in a signed certificate. Callers must embed what
 * ctca_store_list_scts returns, not what they just received. A precert_entry
 * SCT needs a stored precertificate and an x509_entry SCT a final certificate
 * (CTCA_ERR_STORE_CONFLICT otherwise); more than CTCA_STORE_MAX_SCTS per
 * serial is CTCA_ERR_SCT_LIST_TOO_LONG. timestamp_ms must be <= INT64_MAX. */
CTCA_RESULT ctca_store_add_sct(ctca_store *s, const char *serial, const uint8_t *log_id,
                               int entry_type, int ct_version, uint64_t timestamp_ms,
                               const uint8_t *sct, size_t len, int64_t now_ms);

/* ctca_store_list_scts: every SCT stored for serial, into *out (caller
 * releases with ctca_store_sct_list_cleanup; zeroed on failure). An unknown
 * serial is CTCA_ERR_STORE_NOT_FOUND; a known one without SCTs gives count 0.
 * More than CTCA_STORE_MAX_SCTS rows is CTCA_ERR_SCT_LIST_TOO_LONG, never a
 * truncated list. */
CTCA_RESULT ctca_store_list_scts(ctca_store *s, const char *serial, ctca_store_sct_list *out);

/* ctca_store_sct_list_cleanup: frees l's entries and zeroes it; accepts a
 * zeroed l. */
void ctca_store_sct_list_cleanup(ctca_store_sct_list *l);

/* ---- batching ------------------------------------------------------------ */

/* ctca_store_batch_begin: until ctca_store_batch_commit, s's writes share one
 * transaction, so many records cost one commit (one fsync) instead of one
 * each. The transaction takes the write lock at the batch's first write and
 * holds it until the commit, blocking other connections' writes meanwhile. A
 * write that fails inside the batch still undoes only itself and returns its
 * error as usual. What the batch wrote is NOT durable, nor visible to other
 * connections, before ctca_store_batch_commit returns CTCA_OK: in particular a
 * TBS journaled in a batch must be committed before it is signed, and a
 * certificate stored in a batch must not be released before the commit.
 * CTCA_ERR_STORE_CONFLICT when a batch is already open on s. */
CTCA_RESULT ctca_store_batch_begin(ctca_store *s);

/* ctca_store_batch_commit: commits the batch's writes (CTCA_OK also for an
 * empty batch) and ends it. On CTCA_ERR_STORE nothing the batch wrote is
 * stored: the commit failed, or an earlier failure made SQLite roll the whole
 * transaction back (ctca_store_errmsg says which); the batch is over either
 * way. CTCA_ERR_STORE_CONFLICT when no batch is open. ctca_store_close rolls
 * back an uncommitted batch. */
CTCA_RESULT ctca_store_batch_commit(ctca_store *s);

/* ---- the queue of log submissions ------------------------------------------
 *
 * One item per (serial, log, entry type): a precert_entry item submits the
 * precertificate (add-pre-chain) for a deferred issuance, an x509_entry item
 * the final certificate (add-chain) for one issued without embedded SCTs or
 * back-filled into a log. Items are never deleted; they move
 *   pending -> leased -> done | pending (retry later) | parked (gave up),
 * and a parked item may be queued again (ctca_store_queue_add). A lease names
 * its owner and expires: a worker that dies leaves its items to be leased
 * again once the lease runs out, and two workers never hold one item at once.
 *
 * Each log has a circuit breaker: after policy.breaker_failures consecutive
 * failures counted against the log it opens for breaker_cooldown_ms (longer
 * when the log sent Retry-After), during which no item for the log is leased;
 * then one lease takes a single item as a probe (half-open) and its outcome
 * closes or reopens the breaker. */

#define CTCA_STORE_OWNER_MAX 128      /* lease owner names */
#define CTCA_STORE_QUEUE_PAGE_MAX 1024 /* items per lease or list call */

typedef enum ctca_store_queue_state {
    CTCA_QUEUE_PENDING = 0, /* waiting for next_attempt_ms */
    CTCA_QUEUE_LEASED,      /* a worker holds it until lease_expiry_ms */
    CTCA_QUEUE_DONE,        /* finished; final */
    CTCA_QUEUE_PARKED       /* gave up; note says why */
} ctca_store_queue_state;

/* ctca_store_queue_state_name: "pending", "leased", "done", "parked". */
const char *ctca_store_queue_state_name(ctca_store_queue_state st);

/* Retry and breaker settings; every field must be non-zero. */
typedef struct ctca_store_queue_policy {
    unsigned max_attempts;        /* failed attempts after which an item is parked */
    uint32_t backoff_base_ms;     /* delay after the first failure */
    uint32_t backoff_max_ms;      /* the exponential backoff's cap */
    unsigned breaker_failures;    /* consecutive log failures that open its breaker */
    uint32_t breaker_cooldown_ms; /* how long an open breaker stays open */
} ctca_store_queue_policy;

/* ctca_store_queue_backoff_ms: the delay before the next attempt after the
 * attempts-th failure (attempts >= 1): base * 2^(attempts-1), capped at max,
 * then "equal jitter" (half fixed, half drawn from rnd) so that items that
 * failed together do not retry together, and never less than retry_after_ms
 * (the log's Retry-After; 0 when it gave none). */
int64_t ctca_store_queue_backoff_ms(const ctca_store_queue_policy *p, unsigned attempts,
                                    int64_t retry_after_ms, uint32_t rnd);

/* An item as read back; last_error and note are owned (NULL when absent) and
 * released by ctca_store_queue_items_cleanup. */
typedef struct ctca_store_queue_item {
    int64_t id;
    char serial[CTCA_STORE_SERIAL_MAX + 1];
    uint8_t log_id[CTCA_STORE_LOG_ID_LEN];
    int entry_type;                 /* 0 x509_entry (add-chain), 1 precert_entry */
    ctca_store_queue_state state;
    unsigned attempts;              /* failed attempts so far */
    int64_t next_attempt_ms;
    char lease_owner[CTCA_STORE_OWNER_MAX + 1]; /* "" unless leased */
    int64_t lease_expiry_ms;        /* 0 unless leased */
    char *last_error;               /* the last failed attempt's error */
    char *note;                     /* how it ended: done or parked */
    int64_t created_ms, updated_ms;
} ctca_store_queue_item;

typedef struct ctca_store_queue_items {
    ctca_store_queue_item *items; /* owned */
    size_t count;
} ctca_store_queue_items;

/* ctca_store_queue_items_cleanup: frees l's entries and zeroes it; accepts a
 * zeroed l. */
void ctca_store_queue_items_cleanup(ctca_store_queue_items *l);

/* ctca_store_queue_add: queues entry_type items of serial for each of the
 * n_logs log IDs (packed, CTCA_STORE_LOG_ID_LEN bytes each), due at now_ms.
 * An existing item stays as it is, except a parked one, which is pending
 * again with a fresh attempt count. The entry must be signed and stored (as
 * for ctca_store_add_sct: CTCA_ERR_STORE_CONFLICT otherwise). *added (may be
 * NULL) gets how many items were new or revived. */
CTCA_RESULT ctca_store_queue_add(ctca_store *s, const char *serial, int entry_type,
                                 const uint8_t *log_ids, size_t n_logs, int64_t now_ms,
                                 size_t *added);

/* ctca_store_queue_backfill: queues an x509_entry item for log_id for every
 * issued certificate with notBefore >= since_s that has no SCT from that log
 * (of either entry type) and no item for it yet, in one transaction; *added
 * gets how many. */
CTCA_RESULT ctca_store_queue_backfill(ctca_store *s, const uint8_t *log_id, int64_t since_s,
                                      int64_t now_ms, size_t *added);

/* ctca_store_queue_lease: atomically (one BEGIN IMMEDIATE transaction) leases
 * up to max (1..QUEUE_PAGE_MAX) items to owner (1..OWNER_MAX bytes) until
 * now_ms + lease_ms: pending items with next_attempt_ms <= due_ms and leased
 * items whose lease has expired by now_ms, oldest due first, skipping logs
 * whose breaker is open (and taking one probe item from a log whose cool-down
 * is over). *out (caller releases with ctca_store_queue_items_cleanup) may be
 * empty. */
CTCA_RESULT ctca_store_queue_lease(ctca_store *s, const char *owner, int64_t now_ms,
                                   int64_t due_ms, uint32_t lease_ms, size_t max,
                                   const ctca_store_queue_policy *p,
                                   ctca_store_queue_items *out);

/* ctca_store_queue_complete: item id, leased by owner, is done with note
 * (1..TEXT_MAX bytes, e.g. "SCT stored"); the log's breaker closes when
 * log_ok. Completing a done item again is CTCA_OK; an item owner no longer
 * holds (another worker leased it after the lease expired) is
 * CTCA_ERR_STORE_CONFLICT. */
CTCA_RESULT ctca_store_queue_complete(ctca_store *s, int64_t id, const char *owner,
                                      const char *note, bool log_ok, int64_t now_ms);

/* A failed attempt. */
typedef struct ctca_store_queue_failure {
    const char *error;      /* 1..TEXT_MAX bytes */
    bool permanent;         /* retrying cannot help: park now */
    bool log_fault;         /* counts against the log's breaker */
    int64_t retry_after_ms; /* the log's Retry-After, 0 when none */
    uint32_t rnd;           /* a random draw for the backoff's jitter */
} ctca_store_queue_failure;

/* ctca_store_queue_fail: records a failed attempt of item id, leased by
 * owner: attempts + 1, last_error = f->error, then parked (permanent, or
 * p->max_attempts reached; the note says why) or pending again after
 * ctca_store_queue_backoff_ms. A log fault counts against the log's breaker
 * (and Retry-After keeps it open at least that long). *state (may be NULL)
 * gets the item's new state. Ownership as for ctca_store_queue_complete. */
CTCA_RESULT ctca_store_queue_fail(ctca_store *s, int64_t id, const char *owner,
                                  const ctca_store_queue_failure *f,
                                  const ctca_store_queue_policy *p, int64_t now_ms,
                                  ctca_store_queue_state *state);

/* ctca_store_queue_release: gives leased item id back (pending, due at
 * next_attempt_ms) without counting an attempt: the worker never tried it. */
CTCA_RESULT ctca_store_queue_release(ctca_store *s, int64_t id, const char *owner,
                                     int64_t next_attempt_ms, int64_t now_ms);

/* ctca_store_queue_settle: every pending or parked entry_type item of serial,
 * and every leased one whose lease expired by now_ms, is done with note: the
 * work they stood for is complete without them (say, a deferred issuance met
 * its policy through other logs). *settled (may be NULL) gets how many. */
CTCA_RESULT ctca_store_queue_settle(ctca_store *s, const char *serial, int entry_type,
                                    const char *note, int64_t now_ms, size_t *settled);

/* ctca_store_queue_retry: an operator's retry of parked items. Looks at up
 * to max (1..QUEUE_PAGE_MAX) parked items with id > after_id, in id order,
 * of serial (NULL: every serial) for log_id (NULL: every log). An item whose
 * work is still wanted, an x509_entry item (its certificate is issued) or a
 * precert_entry item of a deferred record, goes to *requeued and, unless
 * dry_run, is pending again with no attempts, due at now_ms, its note saying
 * an operator retried it and what it was parked for, and a "queue.retried"
 * audit entry with that reason. Any other (a precert_entry item of a failed,
 * issued or still running issuance) stays parked and goes to *refused. Both
 * lists hold the items as they were (caller releases both, zeroed on
 * failure); page on with the largest id in either. */
CTCA_RESULT ctca_store_queue_retry(ctca_store *s, const char *serial, const uint8_t *log_id,
                                   int64_t after_id, size_t max, bool dry_run, int64_t now_ms,
                                   ctca_store_queue_items *requeued,
                                   ctca_store_queue_items *refused);

/* ctca_store_queue_list: up to max (1..QUEUE_PAGE_MAX) items with id >
 * after_id in id order, only serial's when serial is not NULL. Page on with
 * the last id. Caller releases *out (zeroed on failure). */
CTCA_RESULT ctca_store_queue_list(ctca_store *s, const char *serial, int64_t after_id,
                                  size_t max, ctca_store_queue_items *out);

/* ctca_store_queue_count: how many of serial's (NULL: every serial's)
 * entry_type (-1: either) items are in each state (counts indexed by
 * ctca_store_queue_state). */
CTCA_RESULT ctca_store_queue_count(ctca_store *s, const char *serial, int entry_type,
                                   size_t counts[4]);

typedef enum ctca_store_breaker_state {
    CTCA_BREAKER_CLOSED = 0,
    CTCA_BREAKER_OPEN,
    CTCA_BREAKER_HALF_OPEN
} ctca_store_breaker_state;

/* ctca_store_breaker_state_name: "closed", "open", "half_open". */
const char *ctca_store_breaker_state_name(ctca_store_breaker_state st);

typedef struct ctca_store_breaker {
    uint8_t log_id[CTCA_STORE_LOG_ID_LEN];
    ctca_store_breaker_state state;
    unsigned failures;     /* consecutive log failures */
    int64_t open_until_ms; /* meaningful when open */
    int64_t updated_ms;
} ctca_store_breaker;

/* ctca_store_breaker_get: log_id's breaker; a log never seen is closed with
 * no failures. */
CTCA_RESULT ctca_store_breaker_get(ctca_store *s, const uint8_t *log_id,
                                   ctca_store_breaker *out);

/* ctca_store_breaker_reset: an operator closes log_id's breaker by hand (no
 * failures counted, no probe pending), with a "breaker.reset" audit entry;
 * *was (may be NULL) gets the breaker as it was. A closed breaker without
 * failures is left as it is. */
CTCA_RESULT ctca_store_breaker_reset(ctca_store *s, const uint8_t *log_id, int64_t now_ms,
                                     ctca_store_breaker *was);

/* ---- audit journal ------------------------------------------------------- */

/* ctca_store_audit: appends an entry (all strings borrowed; event 1..NAME_MAX
 * bytes, serial NULL or a valid serial, detail NULL or up to TEXT_MAX bytes).
 * The journal is append-only: SQL triggers refuse updates and deletes. The
 * store itself appends "cert.journaled", "cert.precert", "cert.issued",
 * "cert.failed", "cert.deferred", "cert.claimed", "cert.revoked",
 * "sct.stored", "sct.kept_first", "queue.added", "queue.done",
 * "queue.parked", "queue.retried", "queue.backfill", "breaker.open",
 * "breaker.closed" and "breaker.reset" in the same transaction as the change they record, so
 * callers need not log those. */
CTCA_RESULT ctca_store_audit(ctca_store *s, int64_t now_ms, const char *event,
                             const char *serial, const char *detail);

typedef struct ctca_store_audit_entry {
    int64_t seq;            /* strictly increasing, never reused */
    int64_t at_ms;
    char *event;
    char *serial;           /* NULL when none */
    char *detail;           /* "" when none */
} ctca_store_audit_entry;

typedef struct ctca_store_audit_list {
    ctca_store_audit_entry *items; /* owned, in seq order */
    size_t count;
} ctca_store_audit_list;

/* ctca_store_audit_read: up to max (1..AUDIT_PAGE_MAX) entries with seq >
 * after_seq, oldest first; page on with the last entry's seq. Caller releases
 * *out with ctca_store_audit_list_cleanup (zeroed on failure). */
CTCA_RESULT ctca_store_audit_read(ctca_store *s, int64_t after_seq, size_t max,
                                  ctca_store_audit_list *out);

/* ctca_store_audit_list_cleanup: frees l's entries and zeroes it; accepts a
 * zeroed l. */
void ctca_store_audit_list_cleanup(ctca_store_audit_list *l);

#endif
