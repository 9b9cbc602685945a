/* store/scts.c - SCTs, kept per (serial, log, entry type). */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ctca_err check_sct_args(ctca_store *s, const char *serial, const uint8_t *log_id,
                               int entry_type, int ct_version, uint64_t timestamp_ms,
                               const uint8_t *sct, size_t len)
{
    CTCA_GUARD(st_check_serial(s, serial));
    if (log_id == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "SCT log ID is missing");
    if (entry_type != 0 && entry_type != 1)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "SCT entry type %d is neither 0 nor 1",
                       entry_type);
    if (ct_version != 1 && ct_version != 2)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "CT version %d is neither 1 nor 2", ct_version);
    if (timestamp_ms > (uint64_t)INT64_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "SCT timestamp does not fit an int64");
    return st_check_blob(s, "SCT", sct, len, CTCA_STORE_SCT_MAX_LEN);
}

/* An SCT can only exist for an entry that was signed and stored: a precert_entry
 * for a stored precertificate, an x509_entry for a stored final certificate. */
ctca_err st_check_entry_signed(ctca_store *s, const char *serial, int entry_type)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, "SELECT precert IS NOT NULL, final IS NOT NULL FROM certs"
                         " WHERE serial = ?1",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_step_row(s, st, "looking up the serial", &row));
    if (!row) {
        err = st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "serial %s is not in the store", serial);
        goto out;
    }
    if (sqlite3_column_int(st, entry_type == 1 ? 0 : 1) == 0)
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT,
                      "serial %s has no stored %s for a %s SCT", serial,
                      entry_type == 1 ? "precertificate" : "final certificate",
                      entry_type == 1 ? "precert_entry" : "x509_entry");
out:
    st_release(s, st);
    return err;
}

/* Looks for the SCT already kept for this key: *found, and *same when it is
 * the very one being added. */
static ctca_err find_existing(ctca_store *s, const char *serial, const uint8_t *log_id,
                              int entry_type, int ct_version, uint64_t timestamp_ms,
                              const uint8_t *sct, size_t len, bool *found, bool *same)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    *same = false;
    ST_TRY(st_prepare(s, "SELECT ct_version, timestamp_ms, sct FROM scts"
                         " WHERE serial = ?1 AND log_id = ?2 AND entry_type = ?3",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_blob(s, st, 2, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_i64(s, st, 3, entry_type));
    ST_TRY(st_step_row(s, st, "looking up the SCT", found));
    if (*found) {
        const void *v = sqlite3_column_blob(st, 2);
        int vn = sqlite3_column_bytes(st, 2);
        *same = sqlite3_column_int(st, 0) == ct_version &&
                (uint64_t)sqlite3_column_int64(st, 1) == timestamp_ms && v != NULL &&
                vn >= 0 && (size_t)vn == len && memcmp(v, sct, len) == 0;
    }
out:
    st_release(s, st);
    return err;
}

static ctca_err count_scts(ctca_store *s, const char *serial, int64_t *n)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, "SELECT count(*) FROM scts WHERE serial = ?1", &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_step_row(s, st, "counting SCTs", &row));
    *n = row ? sqlite3_column_int64(st, 0) : 0;
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_add_sct(ctca_store *s, const char *serial, const uint8_t *log_id,
                            int entry_type, int ct_version, uint64_t timestamp_ms,
                            const uint8_t *sct, size_t len, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool began = false, found = false, same = false;
    int64_t n = 0;
    char detail[2 * CTCA_STORE_LOG_ID_LEN + 96];
    char log_hex[2 * CTCA_STORE_LOG_ID_LEN + 1];
    CTCA_GUARD(check_sct_args(s, serial, log_id, entry_type, ct_version, timestamp_ms, sct, len));
    st_hex(log_id, CTCA_STORE_LOG_ID_LEN, log_hex);
    snprintf(detail, sizeof detail, "log_id=%s entry_type=%d ct_version=%d timestamp=%llu",
             log_hex, entry_type, ct_version, (unsigned long long)timestamp_ms);

    ST_TRY(st_begin(s));
    began = true;
    ST_TRY(st_check_entry_signed(s, serial, entry_type));
    ST_TRY(find_existing(s, serial, log_id, entry_type, ct_version, timestamp_ms, sct, len,
                         &found, &same));
    if (found) {
        /* The first SCT stays: it may already be embedded in a signed
         * certificate, and replacing it would make that certificate's SCT
         * unrecoverable from the store. The newcomer is only audited. */
        if (!same)
            ST_TRY(st_audit_append(s, now_ms, "sct.kept_first", serial, detail));
        goto out;
    }
    ST_TRY(count_scts(s, serial, &n));
    if (n >= CTCA_STORE_MAX_SCTS) {
        err = st_fail(s, CTCA_ERR_SCT_LIST_TOO_LONG, "serial %s already has %d SCTs", serial,
                      CTCA_STORE_MAX_SCTS);
        goto out;
    }
    ST_TRY(st_prepare(s,
                      "INSERT INTO scts (serial, log_id, entry_type, ct_version, timestamp_ms,"
                      " sct, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_blob(s, st, 2, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_i64(s, st, 3, entry_type));
    ST_TRY(st_bind_i64(s, st, 4, ct_version));
    ST_TRY(st_bind_i64(s, st, 5, (int64_t)timestamp_ms));
    ST_TRY(st_bind_blob(s, st, 6, sct, len));
    ST_TRY(st_bind_i64(s, st, 7, now_ms));
    ST_TRY(st_step_done(s, st, "storing the SCT"));
    ST_TRY(st_audit_append(s, now_ms, "sct.stored", serial, detail));
out:
    st_release(s, st);
    return st_end(s, began, err);
}

/* Appends the row st is positioned on to l, growing it geometrically. */
static ctca_err append_row(ctca_store *s, sqlite3_stmt *st, ctca_store_sct_list *l,
                           size_t *cap)
{
    if (l->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        ctca_store_sct *p = realloc(l->items, ncap * sizeof *p);
        if (p == NULL)
            return st_fail(s, CTCA_ERR_NOMEM, "growing the SCT list");
        l->items = p;
        *cap = ncap;
    }
    ctca_store_sct *it = &l->items[l->count];
    memset(it, 0, sizeof *it);
    const void *id = sqlite3_column_blob(st, 0);
    if (id == NULL || sqlite3_column_bytes(st, 0) != CTCA_STORE_LOG_ID_LEN)
        return st_fail(s, CTCA_ERR_STORE, "stored SCT has a malformed log ID");
    memcpy(it->log_id, id, CTCA_STORE_LOG_ID_LEN);
    it->entry_type = sqlite3_column_int(st, 1);
    it->ct_version = sqlite3_column_int(st, 2);
    it->timestamp_ms = (uint64_t)sqlite3_column_int64(st, 3);
    CTCA_GUARD(st_col_blob_dup(s, st, 4, &it->sct, &it->sct_len));
    l->count++;
    return CTCA_OK;
}

ctca_err ctca_store_list_scts(ctca_store *s, const char *serial, ctca_store_sct_list *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool exists = false, row = false, began = false;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(st_check_serial(s, serial));

    /* One read transaction, so the existence check and the rows agree. */
    ST_TRY(st_begin_read(s));
    began = true;
    ST_TRY(ctca_store_serial_exists(s, serial, &exists));
    if (!exists) {
        err = st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "serial %s is not in the store", serial);
        goto out;
    }
    /* One row past the cap tells "too many" from "exactly the cap". */
    ST_TRY(st_prepare(s,
                      "SELECT log_id, entry_type, ct_version, timestamp_ms, sct FROM scts"
                      " WHERE serial = ?1 ORDER BY id LIMIT ?2",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_i64(s, st, 2, CTCA_STORE_MAX_SCTS + 1));
    for (;;) {
        ST_TRY(st_step_row(s, st, "reading SCTs", &row));
        if (!row)
            break;
        if (out->count == CTCA_STORE_MAX_SCTS) {
            err = st_fail(s, CTCA_ERR_SCT_LIST_TOO_LONG,
                          "serial %s has more than %d SCTs stored", serial,
                          CTCA_STORE_MAX_SCTS);
            goto out;
        }
        ST_TRY(append_row(s, st, out, &cap));
    }
out:
    st_release(s, st);
    /* A read transaction has nothing to commit; ending it either way is fine. */
    err = st_end(s, began, err);
    if (err != CTCA_OK)
        ctca_store_sct_list_cleanup(out);
    return err;
}

void ctca_store_sct_list_cleanup(ctca_store_sct_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].sct);
    free(l->items);
    memset(l, 0, sizeof *l);
}
