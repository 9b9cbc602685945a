/* store/audit.c - the append-only audit journal. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

ctca_err st_audit_append(ctca_store *s, int64_t now_ms, const char *event, const char *serial,
                         const char *detail)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ST_TRY(st_prepare(s, "INSERT INTO audit (at_ms, event, serial, detail) VALUES (?1, ?2, ?3, ?4)",
                      &st));
    ST_TRY(st_bind_i64(s, st, 1, now_ms));
    ST_TRY(st_bind_text(s, st, 2, event));
    ST_TRY(st_bind_text(s, st, 3, serial));
    ST_TRY(st_bind_text(s, st, 4, detail ? detail : ""));
    ST_TRY(st_step_done(s, st, "appending to the audit journal"));
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_audit(ctca_store *s, int64_t now_ms, const char *event, const char *serial,
                          const char *detail)
{
    CTCA_GUARD(st_check_text(s, "audit event", event, CTCA_STORE_NAME_MAX, false));
    if (serial != NULL)
        CTCA_GUARD(st_check_serial(s, serial));
    if (detail != NULL)
        CTCA_GUARD(st_check_text(s, "audit detail", detail, CTCA_STORE_TEXT_MAX, true));
    /* A single INSERT is atomic on its own; the transaction is for BEGIN
     * IMMEDIATE's wait on a busy writer. */
    CTCA_GUARD(st_begin(s));
    return st_end(s, true, st_audit_append(s, now_ms, event, serial, detail));
}

static ctca_err read_entry(ctca_store *s, sqlite3_stmt *st, ctca_store_audit_entry *e)
{
    e->seq = sqlite3_column_int64(st, 0);
    e->at_ms = sqlite3_column_int64(st, 1);
    CTCA_GUARD(st_col_text_dup(s, st, 2, &e->event));
    CTCA_GUARD(st_col_text_dup(s, st, 3, &e->serial));
    CTCA_GUARD(st_col_text_dup(s, st, 4, &e->detail));
    if (e->event == NULL || e->detail == NULL)
        return st_fail(s, CTCA_ERR_STORE, "audit entry %lld is malformed", (long long)e->seq);
    return CTCA_OK;
}

ctca_err ctca_store_audit_read(ctca_store *s, int64_t after_seq, size_t max,
                               ctca_store_audit_list *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    memset(out, 0, sizeof *out);
    if (max == 0 || max > CTCA_STORE_AUDIT_PAGE_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "audit page size %zu is outside 1..%d", max,
                       CTCA_STORE_AUDIT_PAGE_MAX);
    out->items = calloc(max, sizeof *out->items);
    if (out->items == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "allocating %zu audit entries", max);
    ST_TRY(st_prepare(s,
                      "SELECT seq, at_ms, event, serial, detail FROM audit WHERE seq > ?1"
                      " ORDER BY seq LIMIT ?2",
                      &st));
    ST_TRY(st_bind_i64(s, st, 1, after_seq));
    ST_TRY(st_bind_i64(s, st, 2, (int64_t)max));
    while (out->count < max) {
        ST_TRY(st_step_row(s, st, "reading the audit journal", &row));
        if (!row)
            break;
        /* Counted before reading so cleanup frees a half-read entry too. */
        out->count++;
        ST_TRY(read_entry(s, st, &out->items[out->count - 1]));
    }
out:
    st_release(s, st);
    if (err != CTCA_OK)
        ctca_store_audit_list_cleanup(out);
    return err;
}

void ctca_store_audit_list_cleanup(ctca_store_audit_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].event);
        free(l->items[i].serial);
        free(l->items[i].detail);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}
