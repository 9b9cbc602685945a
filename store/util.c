/* store/util.c - statement, transaction and argument helpers. */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ctca_err st_sqlite_err(ctca_store *s, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    return ctca_errbuf_set(&s->eb, CTCA_ERR_STORE, "%s: %s (sqlite %d)", what,
                           sqlite3_errmsg(s->db), code);
}

ctca_err st_fail(ctca_store *s, ctca_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->eb.msg, sizeof s->eb.msg, fmt, ap);
    va_end(ap);
    return code;
}

static st_cached *cached_for_sql(ctca_store *s, const char *sql)
{
    /* The same constant is the same address; the text is compared only for
     * a copy of it elsewhere. */
    for (size_t i = 0; i < s->n_cached; i++)
        if (s->cache[i].sql == sql)
            return &s->cache[i];
    for (size_t i = 0; i < s->n_cached; i++)
        if (strcmp(s->cache[i].sql, sql) == 0)
            return &s->cache[i];
    return NULL;
}

ctca_err st_prepare(ctca_store *s, const char *sql, sqlite3_stmt **st)
{
    *st = NULL;
    st_cached *c = cached_for_sql(s, sql);
    if (c != NULL && !c->busy) {
        c->busy = true;
        *st = c->st;
        return CTCA_OK;
    }
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        char what[64];
        snprintf(what, sizeof what, "preparing '%.40s'", sql);
        return st_sqlite_err(s, what);
    }
    if (c == NULL && s->n_cached < ST_CACHE_MAX)
        s->cache[s->n_cached++] = (st_cached){.sql = sql, .st = *st, .busy = true};
    return CTCA_OK;
}

void st_release(ctca_store *s, sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < s->n_cached; i++) {
        if (s->cache[i].st == st) {
            /* reset's result repeats the last step's error, already reported */
            (void)sqlite3_reset(st);
            (void)sqlite3_clear_bindings(st);
            s->cache[i].busy = false;
            return;
        }
    }
    sqlite3_finalize(st);
}

void st_cache_clear(ctca_store *s)
{
    for (size_t i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cache[i].st);
    s->n_cached = 0;
}

ctca_err st_step_row(ctca_store *s, sqlite3_stmt *st, const char *what, bool *row)
{
    int rc = sqlite3_step(st);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return CTCA_OK;
    return st_sqlite_err(s, what);
}

ctca_err st_step_done(ctca_store *s, sqlite3_stmt *st, const char *what)
{
    bool row;
    CTCA_GUARD(st_step_row(s, st, what, &row));
    if (row)
        return st_fail(s, CTCA_ERR_INTERNAL, "%s: unexpected result row", what);
    return CTCA_OK;
}

ctca_err st_exec(ctca_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return CTCA_OK;
    ctca_err err = ctca_errbuf_set(&s->eb, CTCA_ERR_STORE, "%.60s: %s (sqlite %d)", sql,
                                   msg ? msg : sqlite3_errmsg(s->db),
                                   sqlite3_extended_errcode(s->db));
    sqlite3_free(msg);
    return err;
}

/* Runs one parameterless statement through the statement cache: a batch
 * opens and releases a savepoint per write. */
static ctca_err st_run(ctca_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    ctca_err err = st_prepare(s, sql, &st);
    if (err == CTCA_OK)
        err = st_step_done(s, st, sql);
    st_release(s, st);
    return err;
}

ctca_err st_begin(ctca_store *s)
{
    if (!s->batch)
        return st_run(s, "BEGIN IMMEDIATE");
    if (s->batch_lost)
        return st_fail(s, CTCA_ERR_STORE, "the batch was rolled back: %s", s->lost.msg);
    if (!s->batch_open) {
        CTCA_GUARD(st_run(s, "BEGIN IMMEDIATE"));
        s->batch_open = true;
    }
    return st_run(s, "SAVEPOINT ctca_write");
}

ctca_err st_begin_read(ctca_store *s)
{
    return s->batch ? st_begin(s) : st_run(s, "BEGIN");
}

/* Ends one write of a batch: its savepoint is released, or rolled back alone. */
static ctca_err end_savepoint(ctca_store *s, ctca_err err)
{
    if (err == CTCA_OK)
        err = st_run(s, "RELEASE ctca_write");
    if (err == CTCA_OK)
        return CTCA_OK;
    ctca_errbuf keep = s->eb;
    /* Some errors (SQLITE_FULL, SQLITE_IOERR...) roll back the whole
     * transaction, and every earlier write of the batch with it; a savepoint
     * that cannot be rolled back would let the failed write's half commit.
     * Either way the batch must not commit. */
    if (sqlite3_get_autocommit(s->db) || st_run(s, "ROLLBACK TO ctca_write") != CTCA_OK ||
        st_run(s, "RELEASE ctca_write") != CTCA_OK) {
        s->batch_lost = true;
        s->lost = keep;
    }
    s->eb = keep;
    return err;
}

ctca_err st_end(ctca_store *s, bool began, ctca_err err)
{
    if (!began)
        return err;
    if (s->batch)
        return end_savepoint(s, err);
    if (err == CTCA_OK)
        err = st_run(s, "COMMIT");
    if (err != CTCA_OK && !sqlite3_get_autocommit(s->db)) {
        /* Keep the first failure's text: the rollback's is never the cause. */
        ctca_errbuf keep = s->eb;
        ctca_err rb = st_run(s, "ROLLBACK");
        (void)rb; /* a failed ROLLBACK leaves nothing committed either */
        s->eb = keep;
    }
    return err;
}

ctca_err st_bind_text(ctca_store *s, sqlite3_stmt *st, int i, const char *v)
{
    int rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? CTCA_OK : st_sqlite_err(s, "binding a value");
}

ctca_err st_bind_blob(ctca_store *s, sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
    if (sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_STATIC) != SQLITE_OK)
        return st_sqlite_err(s, "binding a value");
    return CTCA_OK;
}

ctca_err st_bind_i64(ctca_store *s, sqlite3_stmt *st, int i, int64_t v)
{
    if (sqlite3_bind_int64(st, i, (sqlite3_int64)v) != SQLITE_OK)
        return st_sqlite_err(s, "binding a value");
    return CTCA_OK;
}

ctca_err st_bind_null(ctca_store *s, sqlite3_stmt *st, int i)
{
    if (sqlite3_bind_null(st, i) != SQLITE_OK)
        return st_sqlite_err(s, "binding a value");
    return CTCA_OK;
}

ctca_err st_col_blob_dup(ctca_store *s, sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return CTCA_OK;
    const void *p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    if (n < 0 || (p == NULL && n > 0))
        return st_sqlite_err(s, "reading a value");
    /* A 1-byte allocation for an empty blob keeps "present" distinct from NULL. */
    *out = malloc(n > 0 ? (size_t)n : 1);
    if (*out == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "copying a %d-byte value", n);
    if (n > 0)
        memcpy(*out, p, (size_t)n);
    *len = (size_t)n;
    return CTCA_OK;
}

ctca_err st_col_text_dup(ctca_store *s, sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return CTCA_OK;
    const unsigned char *p = sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    if (p == NULL || n < 0)
        return st_sqlite_err(s, "reading a value");
    *out = malloc((size_t)n + 1);
    if (*out == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "copying a %d-byte text", n);
    memcpy(*out, p, (size_t)n);
    (*out)[n] = '\0';
    return CTCA_OK;
}

ctca_err st_check_serial(ctca_store *s, const char *serial)
{
    if (serial == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "serial is missing");
    size_t n = strnlen(serial, CTCA_STORE_SERIAL_MAX + 1);
    if (n == 0 || n > CTCA_STORE_SERIAL_MAX || n % 2 != 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE,
                       "serial must be 2..%d lower-case hex digits, an even number",
                       CTCA_STORE_SERIAL_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = serial[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return st_fail(s, CTCA_ERR_VALUE_RANGE,
                           "serial must be lower-case hex (offending character at %zu)", i);
    }
    /* The minimal magnitude has no leading zero octet; one spelling per serial
     * is what makes the UNIQUE constraint mean "one serial". */
    if (serial[0] == '0' && serial[1] == '0')
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "serial has a leading zero octet");
    return CTCA_OK;
}

ctca_err st_check_text(ctca_store *s, const char *what, const char *v, size_t max,
                       bool may_be_empty)
{
    if (v == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%s is missing", what);
    size_t n = strnlen(v, max + 1);
    if (n > max)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%s is longer than %zu bytes", what, max);
    if (n == 0 && !may_be_empty)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%s is empty", what);
    return CTCA_OK;
}

ctca_err st_check_blob(ctca_store *s, const char *what, const uint8_t *p, size_t n,
                       size_t max)
{
    if (p == NULL || n == 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%s is empty", what);
    if (n > max)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%s is %zu bytes, above the %zu-byte cap",
                       what, n, max);
    return CTCA_OK;
}

void st_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

ctca_err st_check_log_ids(ctca_store *s, const uint8_t *log_ids, size_t n)
{
    if (n > 0 && log_ids == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "log IDs are missing");
    if (n > CTCA_STORE_MAX_SCTS)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "%zu logs at once is above the cap of %d", n,
                       CTCA_STORE_MAX_SCTS);
    return CTCA_OK;
}
