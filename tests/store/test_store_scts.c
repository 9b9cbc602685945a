/* SCTs (one kept per serial, log and entry type; the first one wins; capped
 * lists) and the append-only audit journal. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_scts, .init = store_setup, .fini = store_teardown);
TestSuite(store_audit, .init = store_setup, .fini = store_teardown);

static const uint8_t TBS[] = {0x30, 0x03, 0x02, 0x01, 0x05};
static const uint8_t PRE[] = {0x30, 0x03, 0x0a, 0x01, 0x01};
static const uint8_t FIN[] = {0x30, 0x03, 0x0a, 0x01, 0x02};
static const uint8_t SCT_A[] = {0x00, 0xaa, 0xbb, 0xcc};
static const uint8_t SCT_B[] = {0x00, 0xdd, 0xee};

static void log_id(uint8_t id[32], unsigned n)
{
    memset(id, 0, 32);
    id[0] = (uint8_t)(n >> 8);
    id[1] = (uint8_t)n;
}

/* A record for serial in state precert (and issued when final). */
static void record(const char *serial, bool final)
{
    uint8_t digest[32] = {1};
    ctca_store_journal_entry e = {.serial = serial, .profile = "p", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = TBS, .tbs_len = sizeof TBS,
                                  .now_ms = 1};
    OK(ctca_store_journal(S, &e));
    OK(ctca_store_put_precert(S, serial, PRE, sizeof PRE, 2));
    if (final)
        OK(ctca_store_put_final(S, serial, FIN, sizeof FIN, 3));
}

Test(store_scts, added_scts_list_back_in_order_with_every_field)
{
    record("0c", true);
    uint8_t a[32], b[32];
    log_id(a, 1);
    log_id(b, 2);
    OK(ctca_store_add_sct(S, "0c", a, 1, 1, 1700000000123ull, SCT_A, sizeof SCT_A, 10));
    OK(ctca_store_add_sct(S, "0c", b, 0, 2, 1700000000456ull, SCT_B, sizeof SCT_B, 11));

    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "0c", &l));
    cr_assert_eq(l.count, 2);
    cr_assert_arr_eq(l.items[0].log_id, a, 32);
    cr_assert_eq(l.items[0].entry_type, 1);
    cr_assert_eq(l.items[0].ct_version, 1);
    cr_assert_eq(l.items[0].timestamp_ms, 1700000000123ull);
    cr_assert_eq(l.items[0].sct_len, sizeof SCT_A);
    cr_assert_arr_eq(l.items[0].sct, SCT_A, sizeof SCT_A);
    cr_assert_arr_eq(l.items[1].log_id, b, 32);
    cr_assert_eq(l.items[1].entry_type, 0);
    cr_assert_eq(l.items[1].ct_version, 2);
    cr_assert_arr_eq(l.items[1].sct, SCT_B, sizeof SCT_B);
    ctca_store_sct_list_cleanup(&l);
    ctca_store_sct_list_cleanup(&l); /* safe on a zeroed list */
}

Test(store_scts, a_serial_without_scts_lists_empty_and_an_unknown_one_is_not_found)
{
    record("0d", false);
    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "0d", &l));
    cr_assert_eq(l.count, 0);
    ctca_store_sct_list_cleanup(&l);
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_list_scts(S, "0e", &l));
    uint8_t a[32];
    log_id(a, 1);
    EXPECT(CTCA_ERR_STORE_NOT_FOUND,
           ctca_store_add_sct(S, "0e", a, 1, 1, 5, SCT_A, sizeof SCT_A, 10));
}

Test(store_scts, adding_the_identical_sct_again_is_ok_and_stores_one)
{
    record("1a", false);
    uint8_t a[32];
    log_id(a, 7);
    OK(ctca_store_add_sct(S, "1a", a, 1, 1, 5, SCT_A, sizeof SCT_A, 10));
    OK(ctca_store_add_sct(S, "1a", a, 1, 1, 5, SCT_A, sizeof SCT_A, 20));
    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "1a", &l));
    cr_assert_eq(l.count, 1);
    ctca_store_sct_list_cleanup(&l);
}

Test(store_scts, a_different_sct_for_the_same_key_keeps_the_first)
{
    record("1b", false);
    uint8_t a[32];
    log_id(a, 7);
    OK(ctca_store_add_sct(S, "1b", a, 1, 1, 5, SCT_A, sizeof SCT_A, 10));
    OK(ctca_store_add_sct(S, "1b", a, 1, 1, 6, SCT_B, sizeof SCT_B, 20));
    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "1b", &l));
    cr_assert_eq(l.count, 1);
    cr_assert_eq(l.items[0].timestamp_ms, 5);
    cr_assert_arr_eq(l.items[0].sct, SCT_A, sizeof SCT_A);
    ctca_store_sct_list_cleanup(&l);

    /* The ignored SCT leaves a trace in the audit journal. */
    ctca_store_audit_list al;
    OK(ctca_store_audit_read(S, 0, 100, &al));
    cr_assert_str_eq(al.items[al.count - 1].event, "sct.kept_first");
    cr_assert_str_eq(al.items[al.count - 1].serial, "1b");
    ctca_store_audit_list_cleanup(&al);
}

Test(store_scts, one_log_may_give_a_precert_and_an_x509_sct)
{
    record("1c", true);
    uint8_t a[32];
    log_id(a, 7);
    OK(ctca_store_add_sct(S, "1c", a, 1, 1, 5, SCT_A, sizeof SCT_A, 10));
    OK(ctca_store_add_sct(S, "1c", a, 0, 1, 6, SCT_B, sizeof SCT_B, 20));
    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "1c", &l));
    cr_assert_eq(l.count, 2);
    ctca_store_sct_list_cleanup(&l);
}

Test(store_scts, an_sct_needs_its_signed_entry_stored_first)
{
    uint8_t digest[32] = {1}, a[32];
    log_id(a, 7);
    ctca_store_journal_entry e = {.serial = "1d", .profile = "p", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = TBS, .tbs_len = sizeof TBS};
    OK(ctca_store_journal(S, &e));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_add_sct(S, "1d", a, 1, 1, 5, SCT_A, 4, 10));
    OK(ctca_store_put_precert(S, "1d", PRE, sizeof PRE, 2));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_add_sct(S, "1d", a, 0, 1, 5, SCT_A, 4, 10));
    OK(ctca_store_add_sct(S, "1d", a, 1, 1, 5, SCT_A, 4, 10));
}

Test(store_scts, malformed_sct_arguments_are_refused)
{
    record("1e", true);
    uint8_t a[32], big[CTCA_STORE_SCT_MAX_LEN + 1];
    log_id(a, 7);
    memset(big, 0, sizeof big);
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_add_sct(S, "1e", a, 2, 1, 5, SCT_A, 4, 10));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_add_sct(S, "1e", a, 1, 0, 5, SCT_A, 4, 10));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_add_sct(S, "1e", a, 1, 1, 5, SCT_A, 0, 10));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_add_sct(S, "1e", NULL, 1, 1, 5, SCT_A, 4, 10));
    EXPECT(CTCA_ERR_VALUE_RANGE,
           ctca_store_add_sct(S, "1e", a, 1, 1, UINT64_MAX, SCT_A, 4, 10));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_add_sct(S, "1e", a, 1, 1, 5, big, sizeof big, 10));
    OK(ctca_store_add_sct(S, "1e", a, 1, 1, 5, big, sizeof big - 1, 10));
}

Test(store_scts, the_list_is_capped_and_an_overflow_is_an_error_not_a_truncation)
{
    record("2f", false);
    uint8_t id[32];
    for (unsigned i = 0; i < CTCA_STORE_MAX_SCTS; i++) {
        log_id(id, i);
        OK(ctca_store_add_sct(S, "2f", id, 1, 1, i, SCT_A, sizeof SCT_A, 10));
    }
    log_id(id, CTCA_STORE_MAX_SCTS);
    EXPECT(CTCA_ERR_SCT_LIST_TOO_LONG,
           ctca_store_add_sct(S, "2f", id, 1, 1, 1, SCT_A, sizeof SCT_A, 10));

    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "2f", &l));
    cr_assert_eq(l.count, CTCA_STORE_MAX_SCTS);
    cr_assert_eq(l.items[CTCA_STORE_MAX_SCTS - 1].timestamp_ms, CTCA_STORE_MAX_SCTS - 1);
    ctca_store_sct_list_cleanup(&l);

    /* A store written past the cap by other means is reported, not cut. */
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "INSERT INTO scts (serial, log_id, entry_type, ct_version,"
                              " timestamp_ms, sct, created_ms)"
                              " VALUES ('2f', zeroblob(32), 0, 1, 1, x'00', 1)",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    EXPECT(CTCA_ERR_SCT_LIST_TOO_LONG, ctca_store_list_scts(S, "2f", &l));
    cr_assert_eq(l.count, 0);
    cr_assert_null(l.items);
}

Test(store_scts, stored_scts_cannot_be_replaced_or_deleted_by_raw_sql)
{
    record("3a", false);
    uint8_t a[32];
    log_id(a, 1);
    OK(ctca_store_add_sct(S, "3a", a, 1, 1, 5, SCT_A, sizeof SCT_A, 10));
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_neq(sqlite3_exec(db, "UPDATE scts SET sct = x'01'", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_neq(sqlite3_exec(db, "DELETE FROM scts", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ctca_store_sct_list l;
    OK(ctca_store_list_scts(S, "3a", &l));
    cr_assert_eq(l.count, 1);
    cr_assert_arr_eq(l.items[0].sct, SCT_A, sizeof SCT_A);
    ctca_store_sct_list_cleanup(&l);
}

Test(store_audit, entries_read_back_in_order_with_paging)
{
    OK(ctca_store_audit(S, 100, "batch.start", NULL, "dir=/srv/csr"));
    OK(ctca_store_audit(S, 200, "operator.note", "7a", NULL));
    OK(ctca_store_audit(S, 300, "batch.end", NULL, ""));

    ctca_store_audit_list l;
    OK(ctca_store_audit_read(S, 0, 2, &l));
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[0].event, "batch.start");
    cr_assert_null(l.items[0].serial);
    cr_assert_str_eq(l.items[0].detail, "dir=/srv/csr");
    cr_assert_eq(l.items[0].at_ms, 100);
    cr_assert_str_eq(l.items[1].serial, "7a");
    cr_assert_str_eq(l.items[1].detail, "");
    cr_assert_lt(l.items[0].seq, l.items[1].seq);
    int64_t last = l.items[1].seq;
    ctca_store_audit_list_cleanup(&l);

    OK(ctca_store_audit_read(S, last, 2, &l));
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].event, "batch.end");
    last = l.items[0].seq;
    ctca_store_audit_list_cleanup(&l);
    OK(ctca_store_audit_read(S, last, 2, &l));
    cr_assert_eq(l.count, 0);
    ctca_store_audit_list_cleanup(&l);
}

Test(store_audit, bad_arguments_are_refused)
{
    ctca_store_audit_list l;
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_audit(S, 1, "", NULL, NULL));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_audit(S, 1, NULL, NULL, NULL));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_audit(S, 1, "e", "XYZ", NULL));
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_audit_read(S, 0, 0, &l));
    EXPECT(CTCA_ERR_VALUE_RANGE,
           ctca_store_audit_read(S, 0, CTCA_STORE_AUDIT_PAGE_MAX + 1, &l));
    char *long_detail = malloc(CTCA_STORE_TEXT_MAX + 2);
    cr_assert_not_null(long_detail);
    memset(long_detail, 'a', CTCA_STORE_TEXT_MAX + 1);
    long_detail[CTCA_STORE_TEXT_MAX + 1] = '\0';
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_audit(S, 1, "e", NULL, long_detail));
    long_detail[CTCA_STORE_TEXT_MAX] = '\0';
    OK(ctca_store_audit(S, 1, "e", NULL, long_detail));
    free(long_detail);
}
