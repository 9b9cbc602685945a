/* Owners of unfinished records: recorded with the journal entry, listed with
 * the records, handed over by a claim that exactly one claimer wins, and the
 * schema migration (version 3) that brought them. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_owners, .init = store_setup, .fini = store_teardown);

static const ctca_store_owner ISSUER = {.host = "ca1", .kernel = "boot-a/pid:[1]", .pid = 4242,
                                        .start = 777};
static const ctca_store_owner WORKER = {.host = "ca1", .kernel = "boot-a/pid:[1]", .pid = 5151,
                                        .start = 888};

static ctca_err journal(const char *serial, const ctca_store_owner *owner, int64_t now)
{
    uint8_t digest[32], tbs[16] = {0x30, 0x0e};
    memset(digest, 0x5a, sizeof digest);
    memcpy(tbs + 2, serial, strlen(serial));
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .not_before = 1700000000, .not_after = 1700086400,
                                  .now_ms = now, .owner = owner};
    return ctca_store_journal(S, &e);
}

static void precert(const char *serial, int64_t now)
{
    uint8_t pre[] = {0x30, 0x01, 0x01};
    OK(ctca_store_put_precert(S, serial, pre, sizeof pre, now));
}

static ctca_store_unfinished_list unfinished(ctca_store_state st)
{
    ctca_store_unfinished_list l;
    OK(ctca_store_list_unfinished(S, st, NULL, 100, &l));
    return l;
}

static size_t audit_count(const char *event, const char *needle)
{
    ctca_store_audit_list a;
    OK(ctca_store_audit_read(S, 0, CTCA_STORE_AUDIT_PAGE_MAX, &a));
    size_t n = 0;
    for (size_t i = 0; i < a.count; i++)
        n += strcmp(a.items[i].event, event) == 0 && strstr(a.items[i].detail, needle) != NULL;
    ctca_store_audit_list_cleanup(&a);
    return n;
}

Test(store_owners, the_journal_records_the_owner_and_the_list_returns_it)
{
    OK(journal("6a01", &ISSUER, 1000));
    OK(journal("6a02", NULL, 1001));
    OK(journal("6a03", &ISSUER, 1002));
    precert("6a01", 1100);
    precert("6a02", 1101);
    /* An identical retry changes nothing, whoever asks. */
    OK(journal("6a01", &WORKER, 1200));

    ctca_store_unfinished_list l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[0].serial, "6a01");
    cr_assert_eq(l.items[0].state, CTCA_STORE_PRECERT);
    cr_assert_eq(l.items[0].updated_ms, 1100);
    cr_assert(l.items[0].has_owner);
    cr_assert_str_eq(l.items[0].owner.host, "ca1");
    cr_assert_str_eq(l.items[0].owner.kernel, "boot-a/pid:[1]");
    cr_assert_eq(l.items[0].owner.pid, 4242);
    cr_assert_eq(l.items[0].owner.start, 777);
    cr_assert_str_eq(l.items[1].serial, "6a02");
    cr_assert_not(l.items[1].has_owner);
    ctca_store_unfinished_list_cleanup(&l);
    l = unfinished(CTCA_STORE_JOURNALED);
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].serial, "6a03");
    ctca_store_unfinished_list_cleanup(&l);

    /* Paging by serial. */
    OK(ctca_store_list_unfinished(S, CTCA_STORE_PRECERT, "6a01", 1, &l));
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].serial, "6a02");
    ctca_store_unfinished_list_cleanup(&l);

    /* Issued records are not unfinished. */
    uint8_t fin[] = {0x30, 0x01, 0x02};
    OK(ctca_store_put_final(S, "6a01", fin, sizeof fin, 1300));
    l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.count, 1);
    ctca_store_unfinished_list_cleanup(&l);
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_list_unfinished(S, CTCA_STORE_ISSUED, NULL, 10, &l));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_list_unfinished(S, CTCA_STORE_PRECERT, NULL, 0, &l));
}

Test(store_owners, a_malformed_owner_is_refused_before_anything_is_written)
{
    ctca_store_owner bad = ISSUER;
    bad.pid = 0;
    EXPECT(CTCA_ERR_VALUE_RANGE, journal("6b01", &bad, 1000));
    bad = ISSUER;
    bad.kernel[0] = '\0';
    EXPECT(CTCA_ERR_VALUE_RANGE, journal("6b01", &bad, 1000));
    bad = ISSUER;
    bad.start = -1;
    EXPECT(CTCA_ERR_VALUE_RANGE, journal("6b01", &bad, 1000));
    bool exists = true;
    OK(ctca_store_serial_exists(S, "6b01", &exists));
    cr_assert_not(exists);
}

Test(store_owners, a_claim_hands_the_record_over_once)
{
    OK(journal("6c01", &ISSUER, 1000));
    precert("6c01", 1100);
    ctca_store_unfinished_list l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.count, 1);
    ctca_store_unfinished seen = l.items[0];
    ctca_store_unfinished_list_cleanup(&l);

    bool claimed = false;
    OK(ctca_store_claim(S, &seen, &WORKER, 5000, &claimed));
    cr_assert(claimed);
    l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.items[0].owner.pid, 5151, "the worker owns it now");
    cr_assert_eq(l.items[0].owner.start, 888);
    cr_assert_eq(l.items[0].updated_ms, 5000);
    ctca_store_unfinished_list_cleanup(&l);
    cr_assert_eq(audit_count("cert.claimed", "owner: host=ca1 pid=5151 start=888"), 1);
    cr_assert_eq(audit_count("cert.claimed", "was: host=ca1 pid=4242 start=777"), 1);

    /* A second claimer that saw the record before the first claim loses. */
    ctca_store_owner other = WORKER;
    other.pid = 6161;
    OK(ctca_store_claim(S, &seen, &other, 5001, &claimed));
    cr_assert_not(claimed);
    l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.items[0].owner.pid, 5151);
    cr_assert_eq(l.items[0].updated_ms, 5000);
    ctca_store_unfinished_list_cleanup(&l);
    cr_assert_eq(audit_count("cert.claimed", ""), 1);

    /* Nor does a claim of a record that moved on (issued meanwhile). */
    l = unfinished(CTCA_STORE_PRECERT);
    seen = l.items[0];
    ctca_store_unfinished_list_cleanup(&l);
    uint8_t fin[] = {0x30, 0x01, 0x02};
    OK(ctca_store_put_final(S, "6c01", fin, sizeof fin, 6000));
    OK(ctca_store_claim(S, &seen, &other, 6001, &claimed));
    cr_assert_not(claimed);
}

Test(store_owners, a_record_without_an_owner_can_be_claimed_and_gains_one)
{
    OK(journal("6d01", NULL, 1000));
    precert("6d01", 1100);
    ctca_store_unfinished_list l = unfinished(CTCA_STORE_PRECERT);
    ctca_store_unfinished seen = l.items[0];
    ctca_store_unfinished_list_cleanup(&l);
    bool claimed = false;
    /* A claimer that cannot name itself only marks the record as touched. */
    OK(ctca_store_claim(S, &seen, NULL, 2000, &claimed));
    cr_assert(claimed);
    l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_not(l.items[0].has_owner);
    cr_assert_eq(l.items[0].updated_ms, 2000);
    seen = l.items[0];
    ctca_store_unfinished_list_cleanup(&l);
    OK(ctca_store_claim(S, &seen, &WORKER, 3000, &claimed));
    cr_assert(claimed);
    l = unfinished(CTCA_STORE_PRECERT);
    cr_assert(l.items[0].has_owner);
    cr_assert_eq(l.items[0].owner.pid, 5151);
    ctca_store_unfinished_list_cleanup(&l);
    cr_assert_eq(audit_count("cert.claimed", "was: none"), 2);
    strcpy(seen.serial, "6dff");
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_claim(S, &seen, &WORKER, 4000, &claimed));
}

/* The one-record read a caller resuming by serial claims from: any state,
 * with or without an owner, as the list would give it. */
Test(store_owners, one_record_is_read_by_serial_in_any_state_with_its_owner)
{
    ctca_store_unfinished u;
    OK(journal("6e01", &ISSUER, 1000));
    OK(journal("6e02", NULL, 1001));
    OK(ctca_store_get_unfinished(S, "6e01", &u));
    cr_assert_str_eq(u.serial, "6e01");
    cr_assert_eq(u.state, CTCA_STORE_JOURNALED);
    cr_assert_eq(u.updated_ms, 1000);
    cr_assert(u.has_owner);
    cr_assert_str_eq(u.owner.host, "ca1");
    cr_assert_str_eq(u.owner.kernel, "boot-a/pid:[1]");
    cr_assert_eq(u.owner.pid, 4242);
    cr_assert_eq(u.owner.start, 777);

    precert("6e01", 1100);
    OK(ctca_store_mark_failed(S, "6e01", "no SCTs", 1200));
    OK(ctca_store_get_unfinished(S, "6e01", &u));
    cr_assert_eq(u.state, CTCA_STORE_FAILED, "records past precert are read too");
    cr_assert_eq(u.updated_ms, 1200);
    bool claimed = false;
    OK(ctca_store_claim(S, &u, &WORKER, 1300, &claimed));
    cr_assert(claimed, "what was read is what a claim compares");
    OK(ctca_store_get_unfinished(S, "6e01", &u));
    cr_assert_eq(u.owner.pid, 5151);
    cr_assert_eq(u.updated_ms, 1300);

    OK(ctca_store_get_unfinished(S, "6e02", &u));
    cr_assert_eq(u.state, CTCA_STORE_JOURNALED);
    cr_assert_not(u.has_owner);
    cr_assert_eq(u.owner.pid, 0);

    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_get_unfinished(S, "6eff", &u));
    cr_assert_eq(u.serial[0], '\0', "zeroed on failure");
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_get_unfinished(S, "6E01", &u));
}

static void raw_exec_fails(const char *sql, const char *why)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_neq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s succeeded", sql);
    cr_assert_not_null(strstr(sqlite3_errmsg(db), why), "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* A version-2 store (queue, no owners) migrates: its unfinished records have
 * no owner (the time rule applies to them), new ones get one, and owners
 * are never deleted. */
Test(store_owners, a_version_2_store_migrates_with_its_unfinished_records_ownerless)
{
    ctca_store_close(S);
    S = NULL;
    th_rmdir(dir);
    free(dir);
    dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/ctca.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    for (int v = 0; v < 2; v++)
        cr_assert_eq(sqlite3_exec(db, st_migration_sql(v), NULL, NULL, NULL), SQLITE_OK,
                     "migration %d: %s", v + 1, sqlite3_errmsg(db));
    cr_assert_eq(
        sqlite3_exec(db,
                     "PRAGMA user_version = 2;"
                     "INSERT INTO certs (id, serial, state, profile, ct_version, csr_sha256, tbs,"
                     " precert, final, not_before, not_after, created_ms, updated_ms, last_error)"
                     " VALUES (3, '6e01', 'precert', 'p', 1, zeroblob(32), x'3000', x'3001',"
                     " NULL, 1, 2, 3, 4, NULL);"
                     "INSERT INTO queue (serial, log_id, entry_type, state, attempts,"
                     " next_attempt_ms, created_ms, updated_ms)"
                     " VALUES ('6e01', zeroblob(32), 1, 'pending', 0, 5, 5, 5);",
                     NULL, NULL, NULL),
        SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &S, &eb), CTCA_OK, "open: %s", eb.msg);
    ctca_store_unfinished_list l = unfinished(CTCA_STORE_PRECERT);
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].serial, "6e01");
    cr_assert_eq(l.items[0].updated_ms, 4);
    cr_assert_not(l.items[0].has_owner);
    ctca_store_unfinished_list_cleanup(&l);
    size_t counts[4];
    OK(ctca_store_queue_count(S, "6e01", 1, counts));
    cr_assert_eq(counts[CTCA_QUEUE_PENDING], 1);
    OK(ctca_store_integrity_check(S));

    OK(journal("6e02", &ISSUER, 1000));
    l = unfinished(CTCA_STORE_JOURNALED);
    cr_assert_eq(l.count, 1);
    cr_assert(l.items[0].has_owner);
    ctca_store_unfinished_list_cleanup(&l);
    raw_exec_fails("DELETE FROM owners", "never deleted");
    /* Foreign keys hold on the store's own connection. */
    cr_assert_neq(sqlite3_exec(S->db, "INSERT INTO owners VALUES ('ffff', 'h', 'k', 1, 1, 1)",
                               NULL, NULL, NULL),
                  SQLITE_OK);
    cr_assert_not_null(strstr(sqlite3_errmsg(S->db), "FOREIGN KEY"), "%s",
                       sqlite3_errmsg(S->db));
}
