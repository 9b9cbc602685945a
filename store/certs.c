/* store/certs.c - certificate records: journal, precert, final, failed. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
    [CTCA_STORE_JOURNALED] = "journaled",
    [CTCA_STORE_PRECERT] = "precert",
    [CTCA_STORE_ISSUED] = "issued",
    [CTCA_STORE_FAILED] = "failed",
    [CTCA_STORE_DEFERRED] = "deferred",
};

const char *ctca_store_state_name(ctca_store_state st)
{
    if ((int)st < 0 || (size_t)st >= sizeof state_names / sizeof state_names[0])
        return "unknown";
    return state_names[st];
}

ctca_err st_state_parse(ctca_store *s, const unsigned char *text, ctca_store_state *out)
{
    for (size_t i = 0; text != NULL && i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp((const char *)text, state_names[i]) == 0) {
            *out = (ctca_store_state)i;
            return CTCA_OK;
        }
    }
    return st_fail(s, CTCA_ERR_STORE, "record has an unknown state '%s'",
                   text ? (const char *)text : "(null)");
}

/* True when column i holds exactly the n bytes at p. */
static bool col_blob_eq(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
    if (sqlite3_column_type(st, i) != SQLITE_BLOB)
        return false;
    const void *v = sqlite3_column_blob(st, i);
    int vn = sqlite3_column_bytes(st, i);
    return vn >= 0 && (size_t)vn == n && v != NULL && memcmp(v, p, n) == 0;
}

static bool col_text_eq(sqlite3_stmt *st, int i, const char *v)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL && strcmp((const char *)t, v) == 0;
}

static ctca_err check_entry(ctca_store *s, const ctca_store_journal_entry *e)
{
    if (e == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "journal entry is missing");
    CTCA_GUARD(st_check_serial(s, e->serial));
    CTCA_GUARD(st_check_text(s, "profile name", e->profile, CTCA_STORE_NAME_MAX, false));
    CTCA_GUARD(st_check_blob(s, "TBSCertificate", e->tbs, e->tbs_len, CTCA_STORE_DER_MAX_LEN));
    if (e->ct_version != 1 && e->ct_version != 2)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "CT version %d is neither 1 nor 2",
                       e->ct_version);
    if (e->csr_sha256 == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "CSR digest is missing");
    if (e->not_after < e->not_before)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "notAfter is before notBefore");
    if (e->supersedes != NULL && !e->once_per_csr)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "supersedes is for once_per_csr journals");
    if (e->supersedes != NULL)
        CTCA_GUARD(st_check_serial(s, e->supersedes->serial));
    if (e->fallback != NULL && strcmp(e->fallback, "fail") != 0 &&
        strcmp(e->fallback, "defer") != 0 && strcmp(e->fallback, "unembedded") != 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "fallback \"%s\" is not fail, defer or unembedded",
                       e->fallback);
    if (e->log_list_path != NULL) {
        CTCA_GUARD(st_check_text(s, "log list path", e->log_list_path, 4096, false));
        if (e->log_list_sha256 == NULL)
            return st_fail(s, CTCA_ERR_VALUE_RANGE, "the log list's SHA-256 is missing");
    }
    return e->owner != NULL ? st_check_owner(s, e->owner) : CTCA_OK;
}

static ctca_err insert_choices(ctca_store *s, const ctca_store_journal_entry *e)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ST_TRY(st_prepare(s,
                      "INSERT INTO choices (serial, fallback, log_list_path, log_list_sha256)"
                      " VALUES (?1, ?2, ?3, ?4)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, e->serial));
    ST_TRY(e->fallback ? st_bind_text(s, st, 2, e->fallback) : st_bind_null(s, st, 2));
    ST_TRY(e->log_list_path ? st_bind_text(s, st, 3, e->log_list_path) : st_bind_null(s, st, 3));
    ST_TRY(e->log_list_path ? st_bind_blob(s, st, 4, e->log_list_sha256, CTCA_STORE_DIGEST_LEN)
                            : st_bind_null(s, st, 4));
    ST_TRY(st_step_done(s, st, "journaling the request's choices"));
out:
    st_release(s, st);
    return err;
}

/* once_per_csr: inside the journal's transaction, so that of two processes
 * (on any hosts) journaling one CSR under one profile, the second sees the
 * first's record. The new record may follow no record, or exactly the
 * abandoned journaled one the caller saw (e->supersedes), still as it was. */
static ctca_err check_once(ctca_store *s, const ctca_store_journal_entry *e)
{
    ctca_store_unfinished latest;
    bool found = false;
    CTCA_GUARD(st_latest_for_csr(s, e->csr_sha256, e->profile, &latest, &found));
    const ctca_store_unfinished *was = e->supersedes;
    if (!found && was == NULL)
        return CTCA_OK;
    if (found && was != NULL && latest.state == CTCA_STORE_JOURNALED &&
        strcmp(latest.serial, was->serial) == 0 && st_unfinished_same(&latest, was))
        return CTCA_OK;
    if (!found)
        return st_fail(s, CTCA_ERR_STORE_CONFLICT,
                       "serial %s, which the new record was to replace, has no record for "
                       "this CSR under profile %s",
                       was->serial, e->profile);
    return st_fail(s, CTCA_ERR_STORE_DUPLICATE, "the CSR already has serial %s (%s) under profile %s",
                   latest.serial, ctca_store_state_name(latest.state), e->profile);
}

/* Compares an existing record (columns profile, ct_version, csr_sha256, tbs,
 * not_before, not_after) with e: a retry must be the very same request. */
static ctca_err same_journal(ctca_store *s, sqlite3_stmt *st, const ctca_store_journal_entry *e)
{
    const char *what = NULL;
    if (!col_blob_eq(st, 3, e->tbs, e->tbs_len))
        what = "a different TBSCertificate";
    else if (!col_text_eq(st, 0, e->profile))
        what = "a different profile";
    else if (sqlite3_column_int(st, 1) != e->ct_version)
        what = "a different CT version";
    else if (!col_blob_eq(st, 2, e->csr_sha256, CTCA_STORE_DIGEST_LEN))
        what = "a different CSR";
    else if (sqlite3_column_int64(st, 4) != e->not_before ||
             sqlite3_column_int64(st, 5) != e->not_after)
        what = "a different validity";
    if (what == NULL)
        return CTCA_OK;
    return st_fail(s, CTCA_ERR_STORE_CONFLICT, "serial %s is already journaled with %s",
                   e->serial, what);
}

ctca_err ctca_store_journal(ctca_store *s, const ctca_store_journal_entry *e)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool began = false, row = false;
    CTCA_GUARD(check_entry(s, e));

    ST_TRY(st_begin(s));
    began = true;
    ST_TRY(st_prepare(s,
                      "SELECT profile, ct_version, csr_sha256, tbs, not_before, not_after "
                      "FROM certs WHERE serial = ?1",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, e->serial));
    ST_TRY(st_step_row(s, st, "looking up the serial", &row));
    if (row) {
        ST_TRY(same_journal(s, st, e));
        goto out; /* an identical retry: nothing to write */
    }
    st_release(s, st);
    st = NULL;
    if (e->once_per_csr)
        ST_TRY(check_once(s, e));

    ST_TRY(st_prepare(s,
                      "INSERT INTO certs (serial, state, profile, ct_version, csr_sha256, tbs,"
                      " not_before, not_after, created_ms, updated_ms)"
                      " VALUES (?1, 'journaled', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, e->serial));
    ST_TRY(st_bind_text(s, st, 2, e->profile));
    ST_TRY(st_bind_i64(s, st, 3, e->ct_version));
    ST_TRY(st_bind_blob(s, st, 4, e->csr_sha256, CTCA_STORE_DIGEST_LEN));
    ST_TRY(st_bind_blob(s, st, 5, e->tbs, e->tbs_len));
    ST_TRY(st_bind_i64(s, st, 6, e->not_before));
    ST_TRY(st_bind_i64(s, st, 7, e->not_after));
    ST_TRY(st_bind_i64(s, st, 8, e->now_ms));
    ST_TRY(st_step_done(s, st, "journaling the TBSCertificate"));
    if (e->owner != NULL)
        ST_TRY(st_owner_insert(s, e->serial, e->owner, e->now_ms));
    if (e->fallback != NULL || e->log_list_path != NULL)
        ST_TRY(insert_choices(s, e));

    char detail[CTCA_STORE_NAME_MAX + 64];
    snprintf(detail, sizeof detail, "profile=%s ct_version=%d tbs_len=%zu", e->profile,
             e->ct_version, e->tbs_len);
    ST_TRY(st_audit_append(s, e->now_ms, "cert.journaled", e->serial, detail));
out:
    st_release(s, st);
    return st_end(s, began, err);
}

ctca_err ctca_store_count_state(ctca_store *s, ctca_store_state state, size_t *n)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    *n = 0;
    ST_TRY(st_prepare(s, "SELECT count(*) FROM certs WHERE state = ?1", &st));
    ST_TRY(st_bind_text(s, st, 1, ctca_store_state_name(state)));
    ST_TRY(st_step_row(s, st, "counting records", &row));
    if (row)
        *n = (size_t)sqlite3_column_int64(st, 0);
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_serial_exists(ctca_store *s, const char *serial, bool *exists)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    *exists = false;
    CTCA_GUARD(st_check_serial(s, serial));
    ST_TRY(st_prepare(s, "SELECT 1 FROM certs WHERE serial = ?1", &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_step_row(s, st, "looking up the serial", exists));
out:
    st_release(s, st);
    return err;
}

/* Reads serial's state and the given blob column (index 1) inside the
 * caller's transaction; *st stays positioned on the row. */
static ctca_err load_state(ctca_store *s, const char *sql, const char *serial,
                           sqlite3_stmt **st, ctca_store_state *state)
{
    bool row = false;
    CTCA_GUARD(st_prepare(s, sql, st));
    CTCA_GUARD(st_bind_text(s, *st, 1, serial));
    CTCA_GUARD(st_step_row(s, *st, "looking up the serial", &row));
    if (!row)
        return st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "serial %s is not in the store", serial);
    return st_state_parse(s, sqlite3_column_text(*st, 0), state);
}

/* A signed artefact that moves a record forward: where it is kept, which
 * states may take it, and what is audited. */
typedef struct signed_step {
    const char *what;       /* "precertificate", "final certificate" */
    const char *select_sql; /* ?1 serial -> state, the artefact's column */
    const char *update_sql; /* ?1 der, ?2 now_ms, ?3 serial */
    const char *event;
    unsigned from_states;   /* a bit per ctca_store_state */
    const char *refusal;    /* ends "serial S is STATE..." for the other states */
} signed_step;

static const signed_step precert_step = {
    "precertificate",
    "SELECT state, precert FROM certs WHERE serial = ?1",
    "UPDATE certs SET state = 'precert', precert = ?1, updated_ms = ?2 WHERE serial = ?3",
    "cert.precert",
    1u << CTCA_STORE_JOURNALED,
    ", not journaled",
};

/* The final certificate must correspond to a stored precertificate (DESIGN.md,
 * first invariant), so there has to be one; a deferred or failed record keeps
 * its precertificate and may still be completed. */
static const signed_step final_step = {
    "final certificate",
    "SELECT state, final FROM certs WHERE serial = ?1",
    "UPDATE certs SET state = 'issued', final = ?1, updated_ms = ?2 WHERE serial = ?3",
    "cert.issued",
    1u << CTCA_STORE_PRECERT | 1u << CTCA_STORE_DEFERRED | 1u << CTCA_STORE_FAILED,
    ": no precertificate is stored for it",
};

/* Stores der as step's artefact for serial and moves its state, with its
 * audit entry, inside the caller's transaction. The same bytes again are
 * CTCA_OK; other bytes, or a state step does not start from, are
 * CTCA_ERR_STORE_CONFLICT. */
static ctca_err put_signed_in_tx(ctca_store *s, const signed_step *step, const char *serial,
                                 const uint8_t *der, size_t len, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ctca_store_state state = CTCA_STORE_JOURNALED;
    char detail[64];
    ST_TRY(load_state(s, step->select_sql, serial, &st, &state));
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        if (!col_blob_eq(st, 1, der, len))
            err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "serial %s already has a different %s",
                          serial, step->what);
        goto out; /* the same bytes again: already stored */
    }
    if (!(step->from_states & (1u << state))) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "serial %s is %s%s", serial,
                      ctca_store_state_name(state), step->refusal);
        goto out;
    }
    st_release(s, st);
    st = NULL;
    ST_TRY(st_prepare(s, step->update_sql, &st));
    ST_TRY(st_bind_blob(s, st, 1, der, len));
    ST_TRY(st_bind_i64(s, st, 2, now_ms));
    ST_TRY(st_bind_text(s, st, 3, serial));
    ST_TRY(st_step_done(s, st, step->event));
    snprintf(detail, sizeof detail, "der_len=%zu", len);
    ST_TRY(st_audit_append(s, now_ms, step->event, serial, detail));
out:
    st_release(s, st);
    return err;
}

/* put_signed_in_tx in a transaction of its own, then n_logs queue items of
 * entry_type (none when n_logs is 0) in the same one. */
static ctca_err put_signed(ctca_store *s, const signed_step *step, const char *serial,
                           const uint8_t *der, size_t len, int entry_type,
                           const uint8_t *log_ids, size_t n_logs, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    CTCA_GUARD(st_check_serial(s, serial));
    CTCA_GUARD(st_check_blob(s, step->what, der, len, CTCA_STORE_DER_MAX_LEN));
    CTCA_GUARD(st_check_log_ids(s, log_ids, n_logs));
    ST_TRY(st_begin(s));
    err = put_signed_in_tx(s, step, serial, der, len, now_ms);
    for (size_t i = 0; err == CTCA_OK && i < n_logs; i++)
        err = st_queue_insert(s, serial, log_ids + i * CTCA_STORE_LOG_ID_LEN, entry_type,
                              now_ms, NULL);
out:
    return st_end(s, true, err);
}

ctca_err ctca_store_put_precert(ctca_store *s, const char *serial, const uint8_t *der,
                                size_t len, int64_t now_ms)
{
    return put_signed(s, &precert_step, serial, der, len, 0, NULL, 0, now_ms);
}

ctca_err ctca_store_put_final(ctca_store *s, const char *serial, const uint8_t *der, size_t len,
                              int64_t now_ms)
{
    return put_signed(s, &final_step, serial, der, len, 0, NULL, 0, now_ms);
}

ctca_err ctca_store_put_final_queued(ctca_store *s, const char *serial, const uint8_t *der,
                                     size_t len, const uint8_t *log_ids, size_t n_logs,
                                     int64_t now_ms)
{
    if (n_logs == 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "no log to queue the certificate for");
    return put_signed(s, &final_step, serial, der, len, 0, log_ids, n_logs, now_ms);
}

/* A move of a signed but unfinished record to a state with a reason. */
typedef struct reason_step {
    ctca_store_state to;
    const char *event;
    unsigned from_states; /* a bit per ctca_store_state */
} reason_step;

static const reason_step failed_step = {
    CTCA_STORE_FAILED, "cert.failed",
    1u << CTCA_STORE_PRECERT | 1u << CTCA_STORE_DEFERRED | 1u << CTCA_STORE_FAILED,
};

static const reason_step deferred_step = {
    CTCA_STORE_DEFERRED, "cert.deferred",
    1u << CTCA_STORE_PRECERT | 1u << CTCA_STORE_FAILED | 1u << CTCA_STORE_DEFERRED,
};

/* Moves serial per step with reason as its last error, then queues n_logs
 * precert_entry items, all in one transaction. */
static ctca_err move_with_reason(ctca_store *s, const reason_step *step, const char *serial,
                                 const char *reason, const uint8_t *log_ids, size_t n_logs,
                                 int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool began = false;
    ctca_store_state state = CTCA_STORE_JOURNALED;
    CTCA_GUARD(st_check_serial(s, serial));
    CTCA_GUARD(st_check_text(s, "reason", reason, CTCA_STORE_TEXT_MAX, false));
    CTCA_GUARD(st_check_log_ids(s, log_ids, n_logs));

    ST_TRY(st_begin(s));
    began = true;
    ST_TRY(load_state(s, "SELECT state FROM certs WHERE serial = ?1", serial, &st, &state));
    if (!(step->from_states & (1u << state))) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "serial %s is %s and cannot be marked %s",
                      serial, ctca_store_state_name(state), ctca_store_state_name(step->to));
        goto out;
    }
    if (step->to == CTCA_STORE_DEFERRED && n_logs == 0 && state != CTCA_STORE_DEFERRED) {
        err = st_fail(s, CTCA_ERR_VALUE_RANGE, "deferring serial %s needs logs to queue", serial);
        goto out;
    }
    st_release(s, st);
    st = NULL;
    ST_TRY(st_prepare(s,
                      "UPDATE certs SET state = ?1, last_error = ?2, updated_ms = ?3"
                      " WHERE serial = ?4",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, ctca_store_state_name(step->to)));
    ST_TRY(st_bind_text(s, st, 2, reason));
    ST_TRY(st_bind_i64(s, st, 3, now_ms));
    ST_TRY(st_bind_text(s, st, 4, serial));
    ST_TRY(st_step_done(s, st, "updating the record's state"));
    ST_TRY(st_audit_append(s, now_ms, step->event, serial, reason));
    for (size_t i = 0; i < n_logs; i++)
        ST_TRY(st_queue_insert(s, serial, log_ids + i * CTCA_STORE_LOG_ID_LEN, 1, now_ms,
                               NULL));
out:
    st_release(s, st);
    return st_end(s, began, err);
}

ctca_err ctca_store_mark_failed(ctca_store *s, const char *serial, const char *reason,
                                int64_t now_ms)
{
    return move_with_reason(s, &failed_step, serial, reason, NULL, 0, now_ms);
}

ctca_err ctca_store_defer(ctca_store *s, const char *serial, const char *reason,
                          const uint8_t *log_ids, size_t n_logs, int64_t now_ms)
{
    return move_with_reason(s, &deferred_step, serial, reason, log_ids, n_logs, now_ms);
}

ctca_err ctca_store_list_serials(ctca_store *s, ctca_store_state state,
                                 int64_t updated_before_ms, const char *after_serial,
                                 size_t max, ctca_store_serial_list *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    memset(out, 0, sizeof *out);
    if (max == 0 || max > CTCA_STORE_QUEUE_PAGE_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "page size %zu is outside 1..%d", max,
                       CTCA_STORE_QUEUE_PAGE_MAX);
    if (strcmp(ctca_store_state_name(state), "unknown") == 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "unknown record state %d", (int)state);
    if (after_serial != NULL)
        CTCA_GUARD(st_check_serial(s, after_serial));
    out->serials = calloc(max, sizeof *out->serials);
    if (out->serials == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "allocating %zu serials", max);
    /* Paging by the named record's id (never its time, which moves) keeps
     * the order stable while other connections move records on. */
    ST_TRY(st_prepare(s,
                      "SELECT serial FROM certs WHERE state = ?1 AND updated_ms < ?2"
                      " AND (?3 IS NULL OR id > (SELECT id FROM certs WHERE serial = ?3))"
                      " ORDER BY id LIMIT ?4",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, ctca_store_state_name(state)));
    ST_TRY(st_bind_i64(s, st, 2, updated_before_ms));
    ST_TRY(st_bind_text(s, st, 3, after_serial));
    ST_TRY(st_bind_i64(s, st, 4, (int64_t)max));
    while (out->count < max) {
        ST_TRY(st_step_row(s, st, "listing records", &row));
        if (!row)
            break;
        const unsigned char *v = sqlite3_column_text(st, 0);
        if (v == NULL || strlen((const char *)v) > CTCA_STORE_SERIAL_MAX) {
            err = st_fail(s, CTCA_ERR_STORE, "record has a malformed serial");
            goto out;
        }
        memcpy(out->serials[out->count++], v, strlen((const char *)v) + 1);
    }
out:
    st_release(s, st);
    if (err != CTCA_OK)
        ctca_store_serial_list_cleanup(out);
    return err;
}

void ctca_store_serial_list_cleanup(ctca_store_serial_list *l)
{
    if (l == NULL)
        return;
    free(l->serials);
    memset(l, 0, sizeof *l);
}

#define CHOICE(col) "(SELECT " col " FROM choices h WHERE h.serial = certs.serial)"
#define CERT_COLUMNS                                                                    \
    "SELECT serial, state, profile, ct_version, csr_sha256, tbs, precert, final,"       \
    " not_before, not_after, created_ms, updated_ms, last_error, " CHOICE("fallback")   \
    ", " CHOICE("log_list_path") ", " CHOICE("log_list_sha256") " FROM certs "

/* Fills out from the row st is positioned on (columns as CERT_COLUMNS). */
static ctca_err read_row(ctca_store *s, sqlite3_stmt *st, ctca_store_cert *out)
{
    const unsigned char *serial = sqlite3_column_text(st, 0);
    const void *digest = sqlite3_column_blob(st, 4);
    if (serial == NULL || strlen((const char *)serial) > CTCA_STORE_SERIAL_MAX ||
        digest == NULL || sqlite3_column_bytes(st, 4) != CTCA_STORE_DIGEST_LEN)
        return st_fail(s, CTCA_ERR_STORE, "record has a malformed serial or CSR digest");
    memcpy(out->serial, serial, strlen((const char *)serial) + 1);
    memcpy(out->csr_sha256, digest, CTCA_STORE_DIGEST_LEN);
    CTCA_GUARD(st_state_parse(s, sqlite3_column_text(st, 1), &out->state));
    CTCA_GUARD(st_col_text_dup(s, st, 2, &out->profile));
    out->ct_version = sqlite3_column_int(st, 3);
    CTCA_GUARD(st_col_blob_dup(s, st, 5, &out->tbs, &out->tbs_len));
    CTCA_GUARD(st_col_blob_dup(s, st, 6, &out->precert_der, &out->precert_len));
    CTCA_GUARD(st_col_blob_dup(s, st, 7, &out->final_der, &out->final_len));
    out->not_before = sqlite3_column_int64(st, 8);
    out->not_after = sqlite3_column_int64(st, 9);
    out->created_ms = sqlite3_column_int64(st, 10);
    out->updated_ms = sqlite3_column_int64(st, 11);
    CTCA_GUARD(st_col_text_dup(s, st, 12, &out->last_error));
    CTCA_GUARD(st_col_text_dup(s, st, 13, &out->fallback));
    CTCA_GUARD(st_col_text_dup(s, st, 14, &out->log_list_path));
    if (out->log_list_path != NULL) {
        if (sqlite3_column_bytes(st, 15) != CTCA_STORE_DIGEST_LEN)
            return st_fail(s, CTCA_ERR_STORE, "record %s has a malformed log list digest",
                           out->serial);
        memcpy(out->log_list_sha256, sqlite3_column_blob(st, 15), CTCA_STORE_DIGEST_LEN);
    }
    return CTCA_OK;
}

/* Runs a SELECT over CERT_COLUMNS and reads its first row: by serial
 * (text_key), or by CSR digest (blob_key) and profile (?2). */
static ctca_err get_one(ctca_store *s, const char *sql, const char *text_key,
                        const uint8_t *blob_key, const char *profile, ctca_store_cert *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, sql, &st));
    if (text_key != NULL)
        ST_TRY(st_bind_text(s, st, 1, text_key));
    else
        ST_TRY(st_bind_blob(s, st, 1, blob_key, CTCA_STORE_DIGEST_LEN));
    if (profile != NULL)
        ST_TRY(st_bind_text(s, st, 2, profile));
    ST_TRY(st_step_row(s, st, "reading a certificate record", &row));
    if (!row) {
        err = st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "no record for %s %s",
                      text_key ? "serial" : "this CSR digest under profile",
                      text_key ? text_key : profile);
        goto out;
    }
    ST_TRY(read_row(s, st, out));
out:
    st_release(s, st);
    if (err != CTCA_OK)
        ctca_store_cert_cleanup(out);
    return err;
}

ctca_err ctca_store_get_cert(ctca_store *s, const char *serial, ctca_store_cert *out)
{
    memset(out, 0, sizeof *out);
    CTCA_GUARD(st_check_serial(s, serial));
    return get_one(s, CERT_COLUMNS "WHERE serial = ?1", serial, NULL, NULL, out);
}

ctca_err ctca_store_get_cert_by_csr(ctca_store *s, const uint8_t *csr_sha256,
                                    const char *profile, ctca_store_cert *out)
{
    memset(out, 0, sizeof *out);
    if (csr_sha256 == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "CSR digest is missing");
    CTCA_GUARD(st_check_text(s, "profile name", profile, CTCA_STORE_NAME_MAX, false));
    /* The latest by id, the order the store created them in (created_ms
     * comes from the callers' clocks), as ctca_store_journal's once_per_csr
     * check reads it. */
    return get_one(s, CERT_COLUMNS "WHERE csr_sha256 = ?1 AND profile = ?2 ORDER BY id DESC LIMIT 1",
                   NULL, csr_sha256, profile, out);
}

void ctca_store_cert_cleanup(ctca_store_cert *c)
{
    if (c == NULL)
        return;
    free(c->profile);
    free(c->tbs);
    free(c->precert_der);
    free(c->final_der);
    free(c->last_error);
    free(c->fallback);
    free(c->log_list_path);
    memset(c, 0, sizeof *c);
}
