/* ctca/ctclient.h - talking to Certificate Transparency logs over HTTP(S).
 *
 * A ctca_ctclient owns one libcurl multi handle whose connection pool outlives
 * single calls, so consecutive submissions to a log reuse its connection (and,
 * over HTTP/2, multiplex on it). Everything runs on the caller's thread; a
 * client is not thread-safe (use one per thread).
 *
 * The core is asynchronous: ctca_ctclient_start queues one chain for several
 * logs (a "job"), ctca_ctclient_run drives every job in flight and invokes the
 * job's callback as each log's answer arrives. New jobs may be started at any
 * time, including from a callback. ctca_ctclient_submit is the blocking
 * convenience built on the same two calls.
 *
 * Deadlines are ABSOLUTE milliseconds on the client's monotonic clock
 * (ctca_ctclient_now_ms; injectable through the config), so one issuance
 * deadline can be handed down unchanged. Per-log timeouts are relative to the
 * job's start.
 *
 * Every log answer is bounded: the body is capped (an oversized body is an
 * error, never truncated), the JSON is parsed strictly, and a successful
 * add-chain/add-pre-chain answer is re-serialized as an RFC 6962 3.2 SCT; a
 * successful RFC 9162 submit-entry answer's "sct" is checked to be one
 * well-formed x509_sct_v2/precert_sct_v2 TransItem. The client guarantees
 * that SCT is well-formed only; verifying it is the core's. */
#ifndef CTCA_CTCLIENT_H
#define CTCA_CTCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

#define CTCA_CTCLIENT_DEFAULT_MAX_BODY ((size_t)64 * 1024)
#define CTCA_CTCLIENT_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define CTCA_CTCLIENT_DEFAULT_LOG_TIMEOUT_MS 30000u
#define CTCA_CTCLIENT_MAX_CHAIN 16        /* certificates per submission */
#define CTCA_CTCLIENT_MAX_CERT_LEN 65536  /* bytes per DER certificate */
#define CTCA_CTCLIENT_MAX_LOGS 64         /* logs per job */
#define CTCA_CTCLIENT_MAX_URL_LEN 2048
#define CTCA_CTCLIENT_NO_DEADLINE UINT64_MAX

typedef struct ctca_ctclient ctca_ctclient;

/* Options; a zeroed struct (or a NULL pointer) means the defaults. */
typedef struct ctca_ctclient_config {
    size_t max_body;             /* response body cap in bytes; 0 = 64 KiB */
    uint32_t connect_timeout_ms; /* 0 = 5 s */
    uint32_t log_timeout_ms;     /* per-log timeout when a request gives 0; 0 = 30 s */
    long max_connections;        /* size of the connection pool; 0 = 64 */
    long max_host_connections;   /* open connections per log host; 0 = 8 (more transfers
                                    queue, or share one HTTP/2 connection) */
    const char *ca_file;         /* PEM trust anchors for https logs; NULL = system store */
    const char *user_agent;      /* NULL = "ctca/<version>" */
    /* The monotonic clock in ms used for deadlines; NULL = CLOCK_MONOTONIC. */
    uint64_t (*now_ms)(void *clock_arg);
    void *clock_arg;
} ctca_ctclient_config;

/* ctca_ctclient_new: a client with cfg's options (cfg may be NULL; strings are
 * copied). Initializes libcurl once per process. Caller owns *out
 * (ctca_ctclient_free). */
CTCA_RESULT ctca_ctclient_new(const ctca_ctclient_config *cfg, ctca_ctclient **out);

/* ctca_ctclient_free: abandons every transfer in flight without invoking
 * callbacks, closes the pooled connections and frees c. Accepts NULL. Must not
 * be called from a callback. */
void ctca_ctclient_free(ctca_ctclient *c);

/* ctca_ctclient_now_ms: the current time of c's clock, the clock every
 * deadline_ms is measured on. */
uint64_t ctca_ctclient_now_ms(const ctca_ctclient *c);

typedef enum ctca_ct_endpoint {
    CTCA_CT_ADD_CHAIN = 0,     /* RFC 6962 4.1: POST ct/v1/add-chain */
    CTCA_CT_ADD_PRE_CHAIN = 1, /* RFC 6962 4.2: POST ct/v1/add-pre-chain */
    /* RFC 9162 5.1: POST ct/v2/submit-entry, chain[0] being the submission (a
     * certificate, or a CMS precertificate) and the rest the "chain" array.
     * "type" is sent as the text writes it: 1 (x509_entry_v2) or 2
     * (precert_entry_v2), not the renumbered 0x0100/0x0101. */
    CTCA_CT_SUBMIT_ENTRY_X509 = 2,
    CTCA_CT_SUBMIT_ENTRY_PRECERT = 3
} ctca_ct_endpoint;

/* One log to submit to. base_url is borrowed until ctca_ctclient_start returns. */
typedef struct ctca_ctlog_request {
    const char *base_url; /* "https://ct.example.net/2025h1/"; a missing final '/' is added */
    uint32_t timeout_ms;  /* from the job's start; 0 = the client's log_timeout_ms */
    void *user;           /* handed back in the result */
} ctca_ctlog_request;

/* The largest Retry-After a result reports (seconds): a log asking for more
 * gets this. The queue caps it again at queue.backoff_max_ms. */
#define CTCA_CTCLIENT_RETRY_AFTER_MAX_S 3600

/* One log's outcome. Every pointer in it is borrowed and valid only during the
 * callback; copy what you keep. */
typedef struct ctca_ctresult {
    ctca_err err;         /* CTCA_OK, _HTTP, _HTTP_STATUS, _TIMEOUT, _BODY_TOO_LARGE,
                             _BAD_RESPONSE, or _NOMEM */
    size_t index;         /* position of the log in the job's logs array */
    void *user;           /* that log request's user pointer */
    long http_status;     /* 0 when no HTTP response arrived */
    long retry_after;     /* Retry-After delta-seconds, -1 when absent or an HTTP-date;
                             at most CTCA_CTCLIENT_RETRY_AFTER_MAX_S */
    uint64_t elapsed_ms;  /* from the job's start to this result */
    const char *detail;   /* short human text, never NULL */
    ctca_view sct;        /* on CTCA_OK: the serialized SCT (RFC 6962 3.2), or for
                             submit-entry the SCT TransItem (RFC 9162 4.8); else empty */
    ctca_view sth;        /* submit-entry on CTCA_OK: the signed_tree_head_v2 TransItem
                             when the log sent one; else empty */
    ctca_view inclusion;  /* likewise its inclusion_proof_v2 TransItem */
    ctca_view body;       /* the response body as received (within the cap; partial
                             on a timeout) */
} ctca_ctresult;

/* Invoked once per log of a job, as its answer arrives (or its time runs out).
 * Returns true to stop the job: its remaining transfers are abandoned at once
 * and get no callback. The callback may start and cancel jobs, but must not
 * call ctca_ctclient_run, _submit, _get or _free. */
typedef bool (*ctca_ctclient_cb)(const ctca_ctresult *result, void *cb_arg);

/* One chain for several logs. All arrays are borrowed until the starting call
 * returns (the request body and URLs are copied). */
typedef struct ctca_ctsubmission {
    ctca_ct_endpoint endpoint;
    const ctca_view *chain;           /* DER certificates, leaf (or precert) first */
    size_t chain_len;                 /* 1..CTCA_CTCLIENT_MAX_CHAIN */
    const ctca_ctlog_request *logs;
    size_t n_logs;                    /* 1..CTCA_CTCLIENT_MAX_LOGS */
    uint64_t deadline_ms;             /* absolute, on c's clock; CTCA_CTCLIENT_NO_DEADLINE */
    ctca_ctclient_cb cb;              /* required */
    void *cb_arg;
} ctca_ctsubmission;

/* ctca_ctclient_start: queues sub's chain for each of its logs; transfers
 * progress inside ctca_ctclient_run. *job_id (may be NULL) names the job for
 * ctca_ctclient_cancel. Nothing is queued on failure: CTCA_ERR_NO_LOGS for zero
 * logs, CTCA_ERR_VALUE_RANGE when a cap is exceeded or a certificate is empty,
 * CTCA_ERR_CONFIG for a base URL that is not a plain http(s) URL. */
CTCA_RESULT ctca_ctclient_start(ctca_ctclient *c, const ctca_ctsubmission *sub,
                                uint64_t *job_id);

/* ctca_ctclient_run: drives every transfer for at most timeout_ms (0 = one
 * non-blocking pass), returning early once some callback has run or nothing is
 * left in flight. Logs past their timeout or their job's deadline get a
 * CTCA_ERR_TIMEOUT result. *n_active (may be NULL) gets the number of
 * transfers still in flight. */
CTCA_RESULT ctca_ctclient_run(ctca_ctclient *c, uint32_t timeout_ms, size_t *n_active);

/* ctca_ctclient_cancel: abandons job_id's remaining transfers without
 * callbacks; an unknown or finished job is ignored. */
void ctca_ctclient_cancel(ctca_ctclient *c, uint64_t job_id);

/* ctca_ctclient_submit: the blocking form of start + run: returns once every
 * log has had its callback, the callback asked to stop, or sub->deadline_ms has
 * passed (then each unanswered log gets CTCA_ERR_TIMEOUT, unless the callback
 * stops first). A hung log does not delay the return past the deadline or the
 * stop. Also drives other jobs in flight on c. Per-log outcomes go to the
 * callback; the return value reports only a call that could not start or run. */
CTCA_RESULT ctca_ctclient_submit(ctca_ctclient *c, const ctca_ctsubmission *sub);

/* ctca_ctclient_get: GET <base_url><path> (path without a leading '/', e.g.
 * "ct/v1/get-sth"), waiting until deadline_ms at most. On CTCA_OK (status 200)
 * the caller owns *body (malloc'd, NUL-terminated for convenience, *body_len
 * excludes the NUL). *http_status (may be NULL) gets the status, 0 when none.
 * Failures are as in ctca_ctresult.err; eb (may be NULL) gets the detail. */
CTCA_RESULT ctca_ctclient_get(ctca_ctclient *c, const char *base_url, const char *path,
                              uint64_t deadline_ms, uint8_t **body, size_t *body_len,
                              long *http_status, ctca_errbuf *eb);

#endif
