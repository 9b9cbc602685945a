/* store/revocations.c - revoking a serial, and reading whether it is. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

static bool reason_ok(int reason)
{
    switch (reason) {
    case CTCA_REASON_UNSPECIFIED:
    case CTCA_REASON_KEY_COMPROMISE:
    case CTCA_REASON_CA_COMPROMISE:
    case CTCA_REASON_AFFILIATION_CHANGED:
    case CTCA_REASON_SUPERSEDED:
    case CTCA_REASON_CESSATION_OF_OPERATION:
    case CTCA_REASON_PRIVILEGE_WITHDRAWN:
    case CTCA_REASON_AA_COMPROMISE:
        return true;
    }
    return false;
}

/* serial's state and revocation row (columns: state, reason, revoked_ms,
 * created_ms; the last three NULL when not revoked); *st stays on the row. */
static ctca_err load(ctca_store *s, const char *serial, sqlite3_stmt **st)
{
    bool row = false;
    CTCA_GUARD(st_prepare(s,
                          "SELECT c.state, r.reason, r.revoked_ms, r.created_ms FROM certs c"
                          " LEFT JOIN revocations r ON r.serial = c.serial WHERE c.serial = ?1",
                          st));
    CTCA_GUARD(st_bind_text(s, *st, 1, serial));
    CTCA_GUARD(st_step_row(s, *st, "looking up the serial", &row));
    if (!row)
        return st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "serial %s is not in the store", serial);
    return CTCA_OK;
}

ctca_err ctca_store_revoke(ctca_store *s, const char *serial, int reason, int64_t revoked_ms,
                           int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool began = false;
    CTCA_GUARD(st_check_serial(s, serial));
    if (!reason_ok(reason))
        return st_fail(s, CTCA_ERR_VALUE_RANGE,
                       "CRLReason %d is not one ctca revokes with (RFC 5280 5.3.1 without "
                       "certificateHold and removeFromCRL)",
                       reason);

    ST_TRY(st_begin(s));
    began = true;
    ST_TRY(load(s, serial, &st));
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "serial %s is already revoked (reason %d)",
                      serial, sqlite3_column_int(st, 1));
        goto out;
    }
    const unsigned char *state = sqlite3_column_text(st, 0);
    if (state == NULL ||
        strcmp((const char *)state, ctca_store_state_name(CTCA_STORE_JOURNALED)) == 0) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT,
                      "serial %s was journaled but never signed: there is nothing to revoke",
                      serial);
        goto out;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "reason=%d revoked_ms=%lld state=%s", reason,
             (long long)revoked_ms, (const char *)state);
    st_release(s, st);
    st = NULL;
    ST_TRY(st_prepare(s,
                      "INSERT INTO revocations (serial, reason, revoked_ms, created_ms)"
                      " VALUES (?1, ?2, ?3, ?4)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_i64(s, st, 2, reason));
    ST_TRY(st_bind_i64(s, st, 3, revoked_ms));
    ST_TRY(st_bind_i64(s, st, 4, now_ms));
    ST_TRY(st_step_done(s, st, "recording the revocation"));
    ST_TRY(st_audit_append(s, now_ms, "cert.revoked", serial, detail));
out:
    st_release(s, st);
    return st_end(s, began, err);
}

ctca_err ctca_store_get_revocation(ctca_store *s, const char *serial,
                                   ctca_store_revocation *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(st_check_serial(s, serial));
    ST_TRY(load(s, serial, &st));
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        out->revoked = true;
        out->reason = sqlite3_column_int(st, 1);
        out->revoked_ms = sqlite3_column_int64(st, 2);
        out->recorded_ms = sqlite3_column_int64(st, 3);
    }
out:
    st_release(s, st);
    return err;
}
