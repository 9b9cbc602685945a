/* store/store_int.h - internals shared by the store's sources (and its tests).
 *
 * Conventions: each public function validates its arguments first (guards
 * before work), then runs its statements through the helpers below with one
 * `goto out` cleanup path. Every write runs inside st_begin/st_end, a BEGIN
 * IMMEDIATE transaction: taking the write lock up front lets the busy timeout
 * wait for another writer, where a deferred transaction upgrading to a writer
 * in WAL mode would fail with SQLITE_BUSY_SNAPSHOT without waiting. Inside a
 * batch (ctca_store_batch_begin) the first write opens the batch's BEGIN
 * IMMEDIATE transaction and each write is a SAVEPOINT in it, so a failed write
 * still undoes only itself. */
#ifndef CTCA_STORE_INT_H
#define CTCA_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/store.h"

/* A statement kept prepared for reuse; busy while a caller holds it. */
typedef struct st_cached {
    const char *sql;
    sqlite3_stmt *st;
    bool busy;
} st_cached;

/* Distinct statements kept per connection: more than the store has. */
#define ST_CACHE_MAX 96

struct ctca_store {
    sqlite3 *db;
    st_cached cache[ST_CACHE_MAX]; /* see st_prepare */
    size_t n_cached;
    ctca_errbuf eb;   /* context of the last failure on this connection */
    bool batch;       /* between ctca_store_batch_begin and _commit */
    bool batch_open;  /* the batch's transaction has begun (at its first write) */
    bool batch_lost;  /* SQLite rolled the batch's transaction back after a failure */
    ctca_errbuf lost; /* why */
};

/* 'ctca' in PRAGMA application_id marks a database as a ctca store. */
#define CTCA_STORE_APPLICATION_ID 0x63746361

/* Sets `err` and jumps to `out` when expr fails. */
#define ST_TRY(expr)                                                                    \
    do {                                                                                \
        err = (expr);                                                                   \
        if (err != CTCA_OK)                                                             \
            goto out;                                                                   \
    } while (0)

/* st_sqlite_err: records "what: sqlite message (code)" in s and returns
 * CTCA_ERR_STORE. */
ctca_err st_sqlite_err(ctca_store *s, const char *what);
/* st_fail: records a formatted message in s and returns code. */
ctca_err st_fail(ctca_store *s, ctca_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* st_prepare: *st for sql (a constant; values are always bound), compiled
 * once per connection and kept: a batch runs the same few statements
 * thousands of times, and compiling them was a sixth of its CPU. A statement
 * already held (a nested use) is compiled afresh. Hand it back with
 * st_release. */
CTCA_RESULT st_prepare(ctca_store *s, const char *sql, sqlite3_stmt **st);
/* st_release: resets a statement from st_prepare (dropping its bindings and
 * any read lock) for reuse, or finalizes one that is not kept; NULL is a
 * no-op. */
void st_release(ctca_store *s, sqlite3_stmt *st);
/* st_cache_clear: finalizes every kept statement (before closing). */
void st_cache_clear(ctca_store *s);
/* st_step_done: steps a statement that returns no rows. */
CTCA_RESULT st_step_done(ctca_store *s, sqlite3_stmt *st, const char *what);
/* st_step_row: steps; *row is true on SQLITE_ROW, false on SQLITE_DONE. */
CTCA_RESULT st_step_row(ctca_store *s, sqlite3_stmt *st, const char *what, bool *row);
/* st_exec: runs constant SQL without parameters (pragmas, DDL, BEGIN/COMMIT). */
CTCA_RESULT st_exec(ctca_store *s, const char *sql);

/* st_begin: BEGIN IMMEDIATE; in a batch, a SAVEPOINT in the batch's transaction. */
CTCA_RESULT st_begin(ctca_store *s);
/* st_begin_read: BEGIN (a read transaction); in a batch, as st_begin. */
CTCA_RESULT st_begin_read(ctca_store *s);
/* st_end: when began, commits (in a batch: releases the savepoint) if err is
 * CTCA_OK and rolls back (to the savepoint) otherwise; returns err, or the
 * commit's failure. */
CTCA_RESULT st_end(ctca_store *s, bool began, ctca_err err);

/* Binding helpers; each records the sqlite error on failure. */
CTCA_RESULT st_bind_text(ctca_store *s, sqlite3_stmt *st, int i, const char *v);
CTCA_RESULT st_bind_blob(ctca_store *s, sqlite3_stmt *st, int i, const uint8_t *p, size_t n);
CTCA_RESULT st_bind_i64(ctca_store *s, sqlite3_stmt *st, int i, int64_t v);
CTCA_RESULT st_bind_null(ctca_store *s, sqlite3_stmt *st, int i);

/* st_col_blob_dup: a malloc'd copy of column i (NULL with *len 0 when the column
 * is NULL). */
CTCA_RESULT st_col_blob_dup(ctca_store *s, sqlite3_stmt *st, int i, uint8_t **out, size_t *len);
/* st_col_text_dup: a malloc'd copy of column i (NULL when the column is NULL). */
CTCA_RESULT st_col_text_dup(ctca_store *s, sqlite3_stmt *st, int i, char **out);

/* Argument checks; each records why in s. */
CTCA_RESULT st_check_serial(ctca_store *s, const char *serial);
CTCA_RESULT st_check_text(ctca_store *s, const char *what, const char *v, size_t max,
                          bool may_be_empty);
CTCA_RESULT st_check_blob(ctca_store *s, const char *what, const uint8_t *p, size_t n,
                          size_t max);

/* st_foreign_key_check: CTCA_ERR_STORE naming the first row PRAGMA
 * foreign_key_check reports. */
CTCA_RESULT st_foreign_key_check(ctca_store *s);

/* st_migration_sql: the SQL that takes a store from user_version version to
 * version + 1 (NULL past the last), so tests can build older stores. */
const char *st_migration_sql(int version);

/* st_latest_for_csr: the latest record (by id) journaled for csr_sha256
 * under profile, as ctca_store_get_unfinished reads one; *found false when
 * there is none. */
CTCA_RESULT st_latest_for_csr(ctca_store *s, const uint8_t *csr_sha256, const char *profile,
                              ctca_store_unfinished *out, bool *found);
/* st_unfinished_same: a and b show one record unchanged: same state,
 * updated_ms and owner (what ctca_store_claim compares). */
bool st_unfinished_same(const ctca_store_unfinished *a, const ctca_store_unfinished *b);

/* st_check_log_ids: n packed log IDs; NULL is allowed only when n is 0. */
CTCA_RESULT st_check_log_ids(ctca_store *s, const uint8_t *log_ids, size_t n);

/* st_queue_insert: queues (serial, log_id, entry_type) inside the caller's
 * transaction as ctca_store_queue_add describes; *added (may be NULL) is set
 * when the item is new or revived. */
CTCA_RESULT st_queue_insert(ctca_store *s, const char *serial, const uint8_t *log_id,
                            int entry_type, int64_t now_ms, bool *added);

/* st_check_entry_signed: CTCA_ERR_STORE_CONFLICT unless serial's entry of
 * entry_type is signed and stored (1: the precertificate, 0: the final
 * certificate); CTCA_ERR_STORE_NOT_FOUND for an unknown serial. */
CTCA_RESULT st_check_entry_signed(ctca_store *s, const char *serial, int entry_type);

/* st_state_parse: a record state from its name in the store; CTCA_ERR_STORE
 * for anything else. */
CTCA_RESULT st_state_parse(ctca_store *s, const unsigned char *text, ctca_store_state *out);

/* st_check_owner: CTCA_ERR_VALUE_RANGE unless o's fields are in range
 * (ctca_store_owner). */
CTCA_RESULT st_check_owner(ctca_store *s, const ctca_store_owner *o);

/* st_owner_insert: records owner o (checked) of serial inside the caller's
 * transaction, as ctca_store_journal does. */
CTCA_RESULT st_owner_insert(ctca_store *s, const char *serial, const ctca_store_owner *o,
                            int64_t now_ms);

/* st_hex: lower-case hex of p[0..n) into out (2n + 1 bytes). */
void st_hex(const uint8_t *p, size_t n, char *out);

/* st_audit_append: the audit INSERT, for use inside a caller's transaction. */
CTCA_RESULT st_audit_append(ctca_store *s, int64_t now_ms, const char *event,
                            const char *serial, const char *detail);

#endif
