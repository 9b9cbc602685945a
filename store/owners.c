/* store/owners.c - who is issuing an unfinished record (schema version 3).
 *
 * The store only records owners and hands them over atomically; whether an
 * owner still runs is the queue worker's question (core/engine/owner.c). */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ctca_err st_check_owner(ctca_store *s, const ctca_store_owner *o)
{
    if (o->pid <= 0 || o->start < 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "owner pid %lld or start time %lld is out of range",
                       (long long)o->pid, (long long)o->start);
    CTCA_GUARD(st_check_text(s, "owner host", o->host, CTCA_STORE_HOST_MAX, false));
    return st_check_text(s, "owner kernel", o->kernel, CTCA_STORE_KERNEL_MAX, false);
}

/* "host=H pid=P start=S kernel=K", or "none". */
static void owner_text(const ctca_store_owner *o, char *buf, size_t n)
{
    if (o == NULL)
        snprintf(buf, n, "none");
    else
        snprintf(buf, n, "host=%s pid=%lld start=%lld kernel=%s", o->host, (long long)o->pid,
                 (long long)o->start, o->kernel);
}

static ctca_err bind_owner(ctca_store *s, sqlite3_stmt *st, int first, const ctca_store_owner *o)
{
    CTCA_GUARD(st_bind_text(s, st, first, o->host));
    CTCA_GUARD(st_bind_text(s, st, first + 1, o->kernel));
    CTCA_GUARD(st_bind_i64(s, st, first + 2, o->pid));
    return st_bind_i64(s, st, first + 3, o->start);
}

ctca_err st_owner_insert(ctca_store *s, const char *serial, const ctca_store_owner *o,
                         int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ST_TRY(st_prepare(s,
                      "INSERT INTO owners (serial, host, kernel, pid, start_ticks, since_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(bind_owner(s, st, 2, o));
    ST_TRY(st_bind_i64(s, st, 6, now_ms));
    ST_TRY(st_step_done(s, st, "recording the record's owner"));
out:
    st_release(s, st);
    return err;
}

#define UNFINISHED_COLUMNS                                                              \
    "SELECT c.serial, c.state, c.updated_ms, o.host, o.kernel, o.pid, o.start_ticks"    \
    " FROM certs c LEFT JOIN owners o ON o.serial = c.serial "

/* Copies the row st is positioned on (UNFINISHED_COLUMNS) into u. */
static ctca_err read_unfinished(ctca_store *s, sqlite3_stmt *st, ctca_store_unfinished *u)
{
    memset(u, 0, sizeof *u);
    const unsigned char *serial = sqlite3_column_text(st, 0);
    if (serial == NULL || strlen((const char *)serial) > CTCA_STORE_SERIAL_MAX)
        return st_fail(s, CTCA_ERR_STORE, "record has a malformed serial");
    memcpy(u->serial, serial, strlen((const char *)serial) + 1);
    CTCA_GUARD(st_state_parse(s, sqlite3_column_text(st, 1), &u->state));
    u->updated_ms = sqlite3_column_int64(st, 2);
    if (sqlite3_column_type(st, 3) == SQLITE_NULL)
        return CTCA_OK;
    const unsigned char *host = sqlite3_column_text(st, 3), *kernel = sqlite3_column_text(st, 4);
    if (host == NULL || kernel == NULL || strlen((const char *)host) > CTCA_STORE_HOST_MAX ||
        strlen((const char *)kernel) > CTCA_STORE_KERNEL_MAX)
        return st_fail(s, CTCA_ERR_STORE, "record %s has a malformed owner", u->serial);
    u->has_owner = true;
    memcpy(u->owner.host, host, strlen((const char *)host) + 1);
    memcpy(u->owner.kernel, kernel, strlen((const char *)kernel) + 1);
    u->owner.pid = sqlite3_column_int64(st, 5);
    u->owner.start = sqlite3_column_int64(st, 6);
    return CTCA_OK;
}

ctca_err ctca_store_list_unfinished(ctca_store *s, ctca_store_state state,
                                    const char *after_serial, size_t max,
                                    ctca_store_unfinished_list *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    memset(out, 0, sizeof *out);
    if (max == 0 || max > CTCA_STORE_QUEUE_PAGE_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "page size %zu is outside 1..%d", max,
                       CTCA_STORE_QUEUE_PAGE_MAX);
    if (state != CTCA_STORE_JOURNALED && state != CTCA_STORE_PRECERT)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "records in state %s are not unfinished",
                       ctca_store_state_name(state));
    if (after_serial != NULL)
        CTCA_GUARD(st_check_serial(s, after_serial));
    out->items = calloc(max, sizeof *out->items);
    if (out->items == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "allocating %zu records", max);
    /* Paged by id, as ctca_store_list_serials is. */
    ST_TRY(st_prepare(s,
                      UNFINISHED_COLUMNS "WHERE c.state = ?3"
                                         " AND (?1 IS NULL OR c.id >"
                                         " (SELECT id FROM certs WHERE serial = ?1))"
                                         " ORDER BY c.id LIMIT ?2",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, after_serial));
    ST_TRY(st_bind_i64(s, st, 2, (int64_t)max));
    ST_TRY(st_bind_text(s, st, 3, ctca_store_state_name(state)));
    while (out->count < max) {
        ST_TRY(st_step_row(s, st, "listing unfinished records", &row));
        if (!row)
            break;
        ST_TRY(read_unfinished(s, st, &out->items[out->count]));
        out->count++;
    }
out:
    st_release(s, st);
    if (err != CTCA_OK)
        ctca_store_unfinished_list_cleanup(out);
    return err;
}

ctca_err ctca_store_get_unfinished(ctca_store *s, const char *serial,
                                   ctca_store_unfinished *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(st_check_serial(s, serial));
    ST_TRY(st_prepare(s, UNFINISHED_COLUMNS "WHERE c.serial = ?1", &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_step_row(s, st, "reading the record's owner", &row));
    if (!row) {
        err = st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "no record with serial %s", serial);
        goto out;
    }
    ST_TRY(read_unfinished(s, st, out));
out:
    st_release(s, st);
    if (err != CTCA_OK)
        memset(out, 0, sizeof *out);
    return err;
}

void ctca_store_unfinished_list_cleanup(ctca_store_unfinished_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

ctca_err st_latest_for_csr(ctca_store *s, const uint8_t *csr_sha256, const char *profile,
                           ctca_store_unfinished *out, bool *found)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    *found = false;
    ST_TRY(st_prepare(s,
                      UNFINISHED_COLUMNS "WHERE c.csr_sha256 = ?1 AND c.profile = ?2"
                                         " ORDER BY c.id DESC LIMIT 1",
                      &st));
    ST_TRY(st_bind_blob(s, st, 1, csr_sha256, CTCA_STORE_DIGEST_LEN));
    ST_TRY(st_bind_text(s, st, 2, profile));
    ST_TRY(st_step_row(s, st, "looking the CSR's records up", found));
    if (*found)
        ST_TRY(read_unfinished(s, st, out));
out:
    st_release(s, st);
    return err;
}

bool st_unfinished_same(const ctca_store_unfinished *a, const ctca_store_unfinished *b)
{
    if (a->state != b->state || a->updated_ms != b->updated_ms || a->has_owner != b->has_owner)
        return false;
    return !a->has_owner ||
           (strcmp(a->owner.host, b->owner.host) == 0 &&
            strcmp(a->owner.kernel, b->owner.kernel) == 0 && a->owner.pid == b->owner.pid &&
            a->owner.start == b->owner.start);
}

ctca_err ctca_store_claim(ctca_store *s, const ctca_store_unfinished *seen,
                          const ctca_store_owner *self, int64_t now_ms, bool *claimed)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ctca_store_unfinished now;
    char was[CTCA_STORE_HOST_MAX + CTCA_STORE_KERNEL_MAX + 80];
    char by[sizeof was], detail[2 * sizeof was + 32];
    *claimed = false;
    if (seen == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "the record to claim is missing");
    CTCA_GUARD(st_check_serial(s, seen->serial));
    if (self != NULL)
        CTCA_GUARD(st_check_owner(s, self));
    ST_TRY(st_begin(s));
    ST_TRY(ctca_store_get_unfinished(s, seen->serial, &now));
    if (!st_unfinished_same(&now, seen))
        goto out; /* it moved on: another worker claimed it, or its owner progressed */
    ST_TRY(st_prepare(s, "UPDATE certs SET updated_ms = ?1 WHERE serial = ?2", &st));
    ST_TRY(st_bind_i64(s, st, 1, now_ms));
    ST_TRY(st_bind_text(s, st, 2, seen->serial));
    ST_TRY(st_step_done(s, st, "claiming the record"));
    if (self != NULL) {
        st_release(s, st);
        st = NULL;
        ST_TRY(st_prepare(s,
                          "INSERT INTO owners (serial, host, kernel, pid, start_ticks, since_ms)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (serial) DO UPDATE SET"
                          " host = ?2, kernel = ?3, pid = ?4, start_ticks = ?5, since_ms = ?6",
                          &st));
        ST_TRY(st_bind_text(s, st, 1, seen->serial));
        ST_TRY(bind_owner(s, st, 2, self));
        ST_TRY(st_bind_i64(s, st, 6, now_ms));
        ST_TRY(st_step_done(s, st, "recording the record's new owner"));
    }
    owner_text(now.has_owner ? &now.owner : NULL, was, sizeof was);
    if (self != NULL)
        owner_text(self, by, sizeof by);
    else
        snprintf(by, sizeof by, "unknown (the claimer cannot name itself; kept)");
    snprintf(detail, sizeof detail, "state=%s owner: %s; was: %s",
             ctca_store_state_name(now.state), by, was);
    ST_TRY(st_audit_append(s, now_ms, "cert.claimed", seen->serial, detail));
    *claimed = true;
out:
    st_release(s, st);
    err = st_end(s, true, err);
    if (err != CTCA_OK)
        *claimed = false;
    return err;
}
