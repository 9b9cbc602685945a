/* Revocation: which records can be revoked, that a revocation is final and
 * journaled, and the schema migration that brought it. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_revocations, .init = store_setup, .fini = store_teardown);

/* A record taken to state st (journaled, precert, deferred, failed or issued). */
static void record(const char *serial, ctca_store_state st)
{
    uint8_t digest[32], tbs[16] = {0x30, 0x0e}, pre[] = {0x30, 0x01, 0x01},
                        fin[] = {0x30, 0x01, 0x02}, log[32];
    memset(digest, 0x5a, sizeof digest);
    memset(log, 0xa0, sizeof log);
    memcpy(tbs + 2, serial, strlen(serial) < 14 ? strlen(serial) : 14);
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .not_before = 1700000000, .not_after = 1700086400,
                                  .now_ms = 1000};
    OK(ctca_store_journal(S, &e));
    if (st == CTCA_STORE_JOURNALED)
        return;
    OK(ctca_store_put_precert(S, serial, pre, sizeof pre, 1001));
    if (st == CTCA_STORE_DEFERRED)
        OK(ctca_store_defer(S, serial, "logs down", log, 1, 1002));
    else if (st == CTCA_STORE_FAILED)
        OK(ctca_store_mark_failed(S, serial, "logs down", 1002));
    else if (st == CTCA_STORE_ISSUED)
        OK(ctca_store_put_final(S, serial, fin, sizeof fin, 1002));
}

/* The last audit entry's event and detail. */
static void last_audit(char event[64], char detail[256])
{
    ctca_store_audit_list a;
    int64_t after = 0;
    event[0] = detail[0] = '\0';
    for (;;) {
        OK(ctca_store_audit_read(S, after, CTCA_STORE_AUDIT_PAGE_MAX, &a));
        if (a.count == 0)
            break;
        snprintf(event, 64, "%s", a.items[a.count - 1].event);
        snprintf(detail, 256, "%s", a.items[a.count - 1].detail);
        after = a.items[a.count - 1].seq;
        ctca_store_audit_list_cleanup(&a);
    }
    ctca_store_audit_list_cleanup(&a);
}

Test(store_revocations, an_issued_certificate_is_revoked_with_its_reason_time_and_audit_entry)
{
    record("1a01", CTCA_STORE_ISSUED);
    ctca_store_revocation r;
    OK(ctca_store_get_revocation(S, "1a01", &r));
    cr_assert_not(r.revoked);
    OK(ctca_store_revoke(S, "1a01", CTCA_REASON_KEY_COMPROMISE, 1699999999000, 5000));
    OK(ctca_store_get_revocation(S, "1a01", &r));
    cr_assert(r.revoked);
    cr_assert_eq(r.reason, CTCA_REASON_KEY_COMPROMISE);
    cr_assert_eq(r.revoked_ms, 1699999999000);
    cr_assert_eq(r.recorded_ms, 5000);
    char event[64], detail[256];
    last_audit(event, detail);
    cr_assert_str_eq(event, "cert.revoked");
    cr_assert_str_eq(detail, "reason=1 revoked_ms=1699999999000 state=issued");
    /* The record itself is untouched: revocation is not a state. */
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "1a01", &c));
    cr_assert_eq(c.state, CTCA_STORE_ISSUED);
    ctca_store_cert_cleanup(&c);
}

Test(store_revocations, every_signed_record_can_be_revoked_but_not_a_journaled_one)
{
    record("2a01", CTCA_STORE_PRECERT);
    record("2a02", CTCA_STORE_DEFERRED);
    record("2a03", CTCA_STORE_FAILED);
    record("2a04", CTCA_STORE_JOURNALED);
    OK(ctca_store_revoke(S, "2a01", CTCA_REASON_SUPERSEDED, 1, 2));
    OK(ctca_store_revoke(S, "2a02", CTCA_REASON_CESSATION_OF_OPERATION, 1, 2));
    OK(ctca_store_revoke(S, "2a03", CTCA_REASON_UNSPECIFIED, 1, 2));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_revoke(S, "2a04", CTCA_REASON_UNSPECIFIED, 1, 2));
    cr_assert_not_null(strstr(ctca_store_errmsg(S), "never signed"), "%s", ctca_store_errmsg(S));
    ctca_store_revocation r;
    OK(ctca_store_get_revocation(S, "2a04", &r));
    cr_assert_not(r.revoked);
    OK(ctca_store_get_revocation(S, "2a02", &r));
    cr_assert(r.revoked);
    cr_assert_eq(r.reason, CTCA_REASON_CESSATION_OF_OPERATION);
}

Test(store_revocations, a_revocation_is_final_the_first_one_stays)
{
    record("3a01", CTCA_STORE_ISSUED);
    OK(ctca_store_revoke(S, "3a01", CTCA_REASON_SUPERSEDED, 100, 200));
    EXPECT(CTCA_ERR_STORE_CONFLICT,
           ctca_store_revoke(S, "3a01", CTCA_REASON_KEY_COMPROMISE, 300, 400));
    cr_assert_not_null(strstr(ctca_store_errmsg(S), "already revoked"), "%s",
                       ctca_store_errmsg(S));
    ctca_store_revocation r;
    OK(ctca_store_get_revocation(S, "3a01", &r));
    cr_assert_eq(r.reason, CTCA_REASON_SUPERSEDED);
    cr_assert_eq(r.revoked_ms, 100);
    /* Not even raw SQL changes or removes it. */
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql[] = {"UPDATE revocations SET reason = 1", "DELETE FROM revocations"};
    for (size_t i = 0; i < 2; i++) {
        cr_assert_neq(sqlite3_exec(db, sql[i], NULL, NULL, NULL), SQLITE_OK, "%s", sql[i]);
        cr_assert_not_null(strstr(sqlite3_errmsg(db), "final"), "%s", sqlite3_errmsg(db));
    }
    sqlite3_close(db);
}

Test(store_revocations, hold_unused_and_out_of_range_reasons_are_refused)
{
    record("4a01", CTCA_STORE_ISSUED);
    const int bad[] = {-1, 6, 7, 8, 11, 255};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_revoke(S, "4a01", bad[i], 1, 2));
    const int good[] = {0, 1, 2, 3, 4, 5, 9, 10};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "4b%02x", (unsigned)i + 1);
        record(serial, CTCA_STORE_ISSUED);
        OK(ctca_store_revoke(S, serial, good[i], 1, 2));
    }
}

Test(store_revocations, an_unknown_or_malformed_serial_is_refused)
{
    ctca_store_revocation r;
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_revoke(S, "5a01", CTCA_REASON_UNSPECIFIED, 1, 2));
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_get_revocation(S, "5a01", &r));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_revoke(S, "05a", CTCA_REASON_UNSPECIFIED, 1, 2));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_get_revocation(S, "5A01", &r));
}

/* A store one version older than this build migrates, keeping its records,
 * which can then be revoked. */
Test(store_revocations, the_previous_schema_migrates_and_its_records_can_be_revoked)
{
    ctca_store_close(S);
    S = NULL;
    th_rmdir(dir);
    free(dir);
    dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/ctca.db", dir);
    int prev = ctca_store_schema_version() - 1;
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    for (int v = 0; v < prev; v++)
        cr_assert_eq(sqlite3_exec(db, st_migration_sql(v), NULL, NULL, NULL), SQLITE_OK,
                     "step %d: %s", v, sqlite3_errmsg(db));
    char sql[512];
    snprintf(sql, sizeof sql,
             "PRAGMA user_version = %d;"
             "INSERT INTO certs (serial, state, profile, ct_version, csr_sha256, tbs, precert,"
             " final, not_before, not_after, created_ms, updated_ms)"
             " VALUES ('6a01', 'issued', 'p', 1, zeroblob(32), x'3000', x'3001', x'3002',"
             " 1, 2, 3, 4);",
             prev);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &S, &eb), CTCA_OK, "open: %s", eb.msg);
    OK(ctca_store_revoke(S, "6a01", CTCA_REASON_KEY_COMPROMISE, 10, 20));
    ctca_store_revocation r;
    OK(ctca_store_get_revocation(S, "6a01", &r));
    cr_assert(r.revoked);
    OK(ctca_store_integrity_check(S));
}
