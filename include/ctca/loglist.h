/* ctca/loglist.h - Chrome v3 CT log lists (log_list.json / all_logs_list.json),
 * with ctca's extension for RFC 9162 logs: "ct_version": 2 and "log_id_oid"
 * (README, "Log lists"), since the published schema has no CT 2.0 logs.
 *
 * Parsing is strict about what it uses: a missing or mistyped field, a log ID
 * that is not SHA-256 of the key, or a bad timestamp is an error naming the
 * field (e.g. "operators[2].logs[0].log_id"). Unknown fields are ignored, as
 * the published schema grows. */
#ifndef CTCA_LOGLIST_H
#define CTCA_LOGLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"
#include "ctca/sct.h"
#include "ctca/transitem.h"

#define CTCA_LOG_LIST_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define CTCA_LOG_LIST_MAX_LOGS 4096

typedef enum ctca_log_state {
    CTCA_LOG_STATE_NONE = 0, /* the list gives no state */
    CTCA_LOG_STATE_PENDING,
    CTCA_LOG_STATE_QUALIFIED,
    CTCA_LOG_STATE_USABLE,
    CTCA_LOG_STATE_READONLY,
    CTCA_LOG_STATE_RETIRED,
    CTCA_LOG_STATE_REJECTED
} ctca_log_state;

typedef struct ctca_prev_operator {
    char *name;
    int64_t end_ms; /* the operator ran the log until this time */
} ctca_prev_operator;

typedef struct ctca_log_info {
    char *description;    /* may be NULL */
    const char *operator_name; /* borrowed from the list's operators */
    size_t operator_index;
    uint8_t log_id[CTCA_LOG_ID_LEN]; /* SHA-256 of the key, for every log */
    unsigned ct_version;     /* 1 (RFC 6962, the default) or 2 (RFC 9162) */
    ctca_log_id_v2 log_id_v2; /* ct_version 2: the log's OID log ID */
    uint8_t *key_der; /* DER SubjectPublicKeyInfo */
    size_t key_len;
    /* key_der parsed once at load, owned by the list; NULL when ctca cannot use
     * it (issuance then refuses the log). Only read, so threads may share it. */
    ctca_log_key *key;
    char *url;            /* RFC 6962 url, or static-ct-api submission_url */
    char *monitoring_url; /* tiled logs only */
    bool tiled;
    int64_t mmd_s;
    ctca_log_state state;
    int64_t state_ms;
    bool has_interval;
    int64_t interval_start_ms; /* inclusive */
    int64_t interval_end_ms;   /* exclusive */
    char *log_type; /* NULL, "test", "monitoring_only", ... */
    ctca_prev_operator *previous_operators;
    size_t n_previous_operators;
} ctca_log_info;

typedef struct ctca_log_list {
    char *version; /* may be NULL */
    int64_t timestamp_ms;
    char **operators;
    size_t n_operators;
    ctca_log_info *logs;
    size_t n_logs;
    /* The file it was loaded from (ctca_log_list_load: as given) and the
     * SHA-256 of its bytes, which issuances record; path NULL when parsed
     * from memory. */
    char *path;
    uint8_t sha256[32];
} ctca_log_list;

/* ctca_log_list_parse: parses a v3 list from json[0..len). Caller frees *out
 * with ctca_log_list_free. Errors are CTCA_ERR_LOG_LIST (or CTCA_ERR_JSON for
 * text that is not JSON) with the field named in eb. */
CTCA_RESULT ctca_log_list_parse(const char *json, size_t len, ctca_log_list **out,
                                ctca_errbuf *eb);
/* ctca_log_list_load: reads and parses path (at most CTCA_LOG_LIST_MAX_BYTES). */
CTCA_RESULT ctca_log_list_load(const char *path, ctca_log_list **out, ctca_errbuf *eb);
/* ctca_log_list_free: accepts NULL. */
void ctca_log_list_free(ctca_log_list *list);
/* ctca_log_list_find: the log with log_id, borrowed from list; NULL if none. */
const ctca_log_info *ctca_log_list_find(const ctca_log_list *list,
                                        const uint8_t log_id[CTCA_LOG_ID_LEN]);
/* ctca_log_list_find_oid: the RFC 9162 log whose OID log ID is oid, borrowed
 * from list; NULL if none. */
const ctca_log_info *ctca_log_list_find_oid(const ctca_log_list *list, const ctca_log_id_v2 *oid);
/* ctca_log_state_name: "usable", "retired", ... ("none" for no state). */
const char *ctca_log_state_name(ctca_log_state state);

/* ctca_log_list_select: logs of protocol ct_version (1 or 2) a CA may submit
 * a certificate expiring at not_after_ms to: state usable or qualified,
 * temporal interval (when given) covering not_after_ms, and not of log_type
 * "test" or "monitoring_only" unless allow_test_logs. Ordered round-robin across operators so that any prefix
 * spans as many operators as it can, at most max entries. *out is a malloc'd
 * array of pointers borrowed from list (caller frees the array only);
 * CTCA_ERR_NO_LOGS when none qualifies. */
CTCA_RESULT ctca_log_list_select(const ctca_log_list *list, int64_t not_after_ms,
                                 bool allow_test_logs, unsigned ct_version, size_t max,
                                 const ctca_log_info ***out, size_t *n_out);

#endif
