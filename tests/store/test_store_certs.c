/* Certificate records: the journaled -> precert -> issued/failed life cycle,
 * idempotent retries, one TBS per serial, and refusal of illegal moves. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

TestSuite(store_certs, .init = store_setup, .fini = store_teardown);

static const uint8_t TBS_A[] = {0x30, 0x05, 0x02, 0x03, 0x01, 0x02, 0x03};
static const uint8_t TBS_B[] = {0x30, 0x05, 0x02, 0x03, 0x01, 0x02, 0x04};
static const uint8_t PRE_A[] = {0x30, 0x03, 0x0a, 0x01, 0x01};
static const uint8_t PRE_B[] = {0x30, 0x03, 0x0a, 0x01, 0x02};
static const uint8_t FIN_A[] = {0x30, 0x04, 0x0a, 0x02, 0x01, 0x01};
static const uint8_t FIN_B[] = {0x30, 0x04, 0x0a, 0x02, 0x01, 0x02};
static uint8_t DIGEST[32];

static ctca_store_journal_entry entry(const char *serial, const uint8_t *tbs, size_t len)
{
    memset(DIGEST, 0xd1, sizeof DIGEST);
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = DIGEST, .tbs = tbs, .tbs_len = len,
                                  .not_before = 1700000000, .not_after = 1707776000,
                                  .now_ms = 1000};
    return e;
}

static void journal(const char *serial)
{
    ctca_store_journal_entry e = entry(serial, TBS_A, sizeof TBS_A);
    OK(ctca_store_journal(S, &e));
}

static ctca_store_state state_of(const char *serial)
{
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, serial, &c));
    ctca_store_state st = c.state;
    ctca_store_cert_cleanup(&c);
    return st;
}

static size_t audit_count(const char *event)
{
    ctca_store_audit_list l;
    OK(ctca_store_audit_read(S, 0, CTCA_STORE_AUDIT_PAGE_MAX, &l));
    size_t n = 0;
    for (size_t i = 0; i < l.count; i++)
        n += strcmp(l.items[i].event, event) == 0;
    ctca_store_audit_list_cleanup(&l);
    return n;
}

Test(store_certs, journal_then_precert_then_final_round_trips_every_field)
{
    ctca_store_journal_entry e = entry("01ff", TBS_A, sizeof TBS_A);
    e.ct_version = 2;
    e.profile = "mtls-client";
    OK(ctca_store_journal(S, &e));

    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "01ff", &c));
    cr_assert_str_eq(c.serial, "01ff");
    cr_assert_eq(c.state, CTCA_STORE_JOURNALED);
    cr_assert_str_eq(c.profile, "mtls-client");
    cr_assert_eq(c.ct_version, 2);
    cr_assert_arr_eq(c.csr_sha256, DIGEST, 32);
    cr_assert_eq(c.tbs_len, sizeof TBS_A);
    cr_assert_arr_eq(c.tbs, TBS_A, sizeof TBS_A);
    cr_assert_null(c.precert_der);
    cr_assert_null(c.final_der);
    cr_assert_null(c.last_error);
    cr_assert_eq(c.not_before, 1700000000);
    cr_assert_eq(c.not_after, 1707776000);
    cr_assert_eq(c.created_ms, 1000);
    cr_assert_eq(c.updated_ms, 1000);
    ctca_store_cert_cleanup(&c);

    OK(ctca_store_put_precert(S, "01ff", PRE_A, sizeof PRE_A, 2000));
    cr_assert_eq(state_of("01ff"), CTCA_STORE_PRECERT);
    OK(ctca_store_put_final(S, "01ff", FIN_A, sizeof FIN_A, 3000));

    OK(ctca_store_get_cert(S, "01ff", &c));
    cr_assert_eq(c.state, CTCA_STORE_ISSUED);
    cr_assert_arr_eq(c.tbs, TBS_A, sizeof TBS_A);
    cr_assert_eq(c.precert_len, sizeof PRE_A);
    cr_assert_arr_eq(c.precert_der, PRE_A, sizeof PRE_A);
    cr_assert_eq(c.final_len, sizeof FIN_A);
    cr_assert_arr_eq(c.final_der, FIN_A, sizeof FIN_A);
    cr_assert_eq(c.created_ms, 1000);
    cr_assert_eq(c.updated_ms, 3000);
    ctca_store_cert_cleanup(&c);
    cr_assert_str_eq(ctca_store_state_name(CTCA_STORE_ISSUED), "issued");

    /* Each transition was journaled with the change, in order. */
    ctca_store_audit_list l;
    OK(ctca_store_audit_read(S, 0, 10, &l));
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(l.items[0].event, "cert.journaled");
    cr_assert_str_eq(l.items[1].event, "cert.precert");
    cr_assert_str_eq(l.items[2].event, "cert.issued");
    cr_assert_str_eq(l.items[2].serial, "01ff");
    cr_assert_eq(l.items[2].at_ms, 3000);
    ctca_store_audit_list_cleanup(&l);
}

Test(store_certs, rejournaling_the_same_entry_is_idempotent)
{
    journal("2a");
    ctca_store_journal_entry e = entry("2a", TBS_A, sizeof TBS_A);
    e.now_ms = 9999; /* a retry happens later; that is not a difference */
    OK(ctca_store_journal(S, &e));
    OK(ctca_store_journal(S, &e));
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "2a", &c));
    cr_assert_eq(c.created_ms, 1000, "the retry did not rewrite the record");
    ctca_store_cert_cleanup(&c);
    cr_assert_eq(audit_count("cert.journaled"), 1);
}

Test(store_certs, a_different_tbs_for_a_journaled_serial_is_a_conflict)
{
    journal("2a");
    ctca_store_journal_entry e = entry("2a", TBS_B, sizeof TBS_B);
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_journal(S, &e));
    cr_assert_not_null(strstr(ctca_store_errmsg(S), "TBSCertificate"));

    /* The first TBS is still the only one. */
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "2a", &c));
    cr_assert_arr_eq(c.tbs, TBS_A, sizeof TBS_A);
    ctca_store_cert_cleanup(&c);

    /* Same for a serial that has moved on. */
    OK(ctca_store_put_precert(S, "2a", PRE_A, sizeof PRE_A, 2000));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_journal(S, &e));
}

Test(store_certs, rejournaling_with_other_request_fields_is_a_conflict)
{
    journal("2a");
    ctca_store_journal_entry e = entry("2a", TBS_A, sizeof TBS_A);
    e.profile = "other";
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_journal(S, &e));
    e = entry("2a", TBS_A, sizeof TBS_A);
    e.ct_version = 2;
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_journal(S, &e));
    uint8_t other[32] = {0};
    e = entry("2a", TBS_A, sizeof TBS_A);
    e.csr_sha256 = other;
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_journal(S, &e));
}

Test(store_certs, final_before_precert_is_refused)
{
    journal("3b");
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_put_final(S, "3b", FIN_A, sizeof FIN_A, 2000));
    cr_assert_eq(state_of("3b"), CTCA_STORE_JOURNALED);
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "3b", &c));
    cr_assert_null(c.final_der);
    ctca_store_cert_cleanup(&c);
}

Test(store_certs, unknown_serials_are_not_found)
{
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_put_precert(S, "4c", PRE_A, sizeof PRE_A, 1));
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_put_final(S, "4c", FIN_A, sizeof FIN_A, 1));
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_mark_failed(S, "4c", "timeout", 1));
    ctca_store_cert c;
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_get_cert(S, "4c", &c));
    cr_assert_null(c.tbs, "output zeroed on failure");
    ctca_store_cert_cleanup(&c);
    bool exists = true;
    OK(ctca_store_serial_exists(S, "4c", &exists));
    cr_assert_not(exists);
    journal("4c");
    OK(ctca_store_serial_exists(S, "4c", &exists));
    cr_assert(exists);
}

Test(store_certs, precert_again_same_bytes_ok_other_bytes_conflict)
{
    journal("5d");
    OK(ctca_store_put_precert(S, "5d", PRE_A, sizeof PRE_A, 2000));
    OK(ctca_store_put_precert(S, "5d", PRE_A, sizeof PRE_A, 2500));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_put_precert(S, "5d", PRE_B, sizeof PRE_B, 2600));
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "5d", &c));
    cr_assert_arr_eq(c.precert_der, PRE_A, sizeof PRE_A);
    cr_assert_eq(c.updated_ms, 2000, "an idempotent repeat writes nothing");
    ctca_store_cert_cleanup(&c);
    cr_assert_eq(audit_count("cert.precert"), 1);
    /* Still fine once issued. */
    OK(ctca_store_put_final(S, "5d", FIN_A, sizeof FIN_A, 3000));
    OK(ctca_store_put_precert(S, "5d", PRE_A, sizeof PRE_A, 3100));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_put_precert(S, "5d", PRE_B, sizeof PRE_B, 3200));
}

Test(store_certs, final_again_same_bytes_ok_other_bytes_conflict)
{
    journal("5e");
    OK(ctca_store_put_precert(S, "5e", PRE_A, sizeof PRE_A, 2000));
    OK(ctca_store_put_final(S, "5e", FIN_A, sizeof FIN_A, 3000));
    OK(ctca_store_put_final(S, "5e", FIN_A, sizeof FIN_A, 3100));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_put_final(S, "5e", FIN_B, sizeof FIN_B, 3200));
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "5e", &c));
    cr_assert_arr_eq(c.final_der, FIN_A, sizeof FIN_A);
    ctca_store_cert_cleanup(&c);
}

Test(store_certs, failed_keeps_the_precert_and_a_retry_can_complete_it)
{
    journal("6f");
    OK(ctca_store_put_precert(S, "6f", PRE_A, sizeof PRE_A, 2000));
    OK(ctca_store_mark_failed(S, "6f", "policy unmet: 1 of 2 SCTs", 3000));
    OK(ctca_store_mark_failed(S, "6f", "policy unmet: 0 of 2 SCTs", 3500));
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "6f", &c));
    cr_assert_eq(c.state, CTCA_STORE_FAILED);
    cr_assert_str_eq(c.last_error, "policy unmet: 0 of 2 SCTs");
    cr_assert_arr_eq(c.precert_der, PRE_A, sizeof PRE_A);
    ctca_store_cert_cleanup(&c);
    /* A failed record still holds its precertificate binding. */
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_put_precert(S, "6f", PRE_B, sizeof PRE_B, 3600));

    OK(ctca_store_put_final(S, "6f", FIN_A, sizeof FIN_A, 4000));
    cr_assert_eq(state_of("6f"), CTCA_STORE_ISSUED);
}

Test(store_certs, mark_failed_is_refused_before_precert_and_after_issue)
{
    journal("70");
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_mark_failed(S, "70", "x", 2000));
    cr_assert_eq(state_of("70"), CTCA_STORE_JOURNALED);
    OK(ctca_store_put_precert(S, "70", PRE_A, sizeof PRE_A, 2000));
    OK(ctca_store_put_final(S, "70", FIN_A, sizeof FIN_A, 3000));
    EXPECT(CTCA_ERR_STORE_CONFLICT, ctca_store_mark_failed(S, "70", "x", 4000));
    cr_assert_eq(state_of("70"), CTCA_STORE_ISSUED);
}

Test(store_certs, malformed_arguments_are_refused_before_any_write)
{
    const char *bad[] = {"", "7", "ABCD", "0a1", "00ab", "zz", "0x12",
                         "0102030405060708090a0b0c0d0e0f101112131415"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ctca_store_journal_entry e = entry(bad[i], TBS_A, sizeof TBS_A);
        EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
    }
    ctca_store_journal_entry e = entry("01", TBS_A, 0);
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
    e = entry("01", TBS_A, sizeof TBS_A);
    e.ct_version = 3;
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
    e = entry("01", TBS_A, sizeof TBS_A);
    e.not_after = e.not_before - 1;
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
    e = entry("01", TBS_A, sizeof TBS_A);
    e.profile = "";
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
    /* 20 octets is the RFC 5280 maximum and is accepted. */
    journal("0102030405060708090a0b0c0d0e0f1011121314");
    bool exists = true;
    OK(ctca_store_serial_exists(S, "01", &exists));
    cr_assert_not(exists);
}

Test(store_certs, lookup_by_csr_digest_finds_the_most_recent_record)
{
    ctca_store_journal_entry e = entry("81", TBS_A, sizeof TBS_A);
    e.now_ms = 1000;
    OK(ctca_store_journal(S, &e));
    e = entry("82", TBS_B, sizeof TBS_B);
    e.now_ms = 5000;
    OK(ctca_store_journal(S, &e));
    uint8_t other[32];
    memset(other, 0xee, sizeof other);
    e = entry("83", TBS_A, sizeof TBS_A);
    e.csr_sha256 = other;
    e.now_ms = 9000;
    OK(ctca_store_journal(S, &e));

    ctca_store_cert c;
    OK(ctca_store_get_cert_by_csr(S, DIGEST, "tls-server", &c));
    cr_assert_str_eq(c.serial, "82");
    ctca_store_cert_cleanup(&c);
    uint8_t none[32] = {0};
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_get_cert_by_csr(S, none, "tls-server", &c));
}

/* A CSR issued under one profile is not issued under another. */
Test(store_certs, lookup_by_csr_digest_is_per_profile)
{
    journal("84");
    ctca_store_journal_entry e = entry("85", TBS_B, sizeof TBS_B);
    e.profile = "tls-client";
    OK(ctca_store_journal(S, &e));
    ctca_store_cert c;
    OK(ctca_store_get_cert_by_csr(S, DIGEST, "tls-server", &c));
    cr_assert_str_eq(c.serial, "84");
    ctca_store_cert_cleanup(&c);
    OK(ctca_store_get_cert_by_csr(S, DIGEST, "tls-client", &c));
    cr_assert_str_eq(c.serial, "85");
    ctca_store_cert_cleanup(&c);
    EXPECT(CTCA_ERR_STORE_NOT_FOUND, ctca_store_get_cert_by_csr(S, DIGEST, "other", &c));
}

/* The order is the store's, not the callers' clocks: a record journaled
 * later by a host whose clock is behind is still the latest. */
Test(store_certs, lookup_by_csr_digest_takes_the_last_journaled)
{
    ctca_store_journal_entry e = entry("86", TBS_A, sizeof TBS_A);
    e.now_ms = 9000;
    OK(ctca_store_journal(S, &e));
    e = entry("87", TBS_B, sizeof TBS_B);
    e.now_ms = 2000;
    OK(ctca_store_journal(S, &e));
    ctca_store_cert c;
    OK(ctca_store_get_cert_by_csr(S, DIGEST, "tls-server", &c));
    cr_assert_str_eq(c.serial, "87");
    ctca_store_cert_cleanup(&c);
}

/* once_per_csr: the journal itself refuses a second record for one CSR and
 * profile, whatever became of the first, so two processes that both looked
 * the CSR up and found nothing cannot both issue it. */
Test(store_certs, once_per_csr_refuses_a_second_record)
{
    ctca_store_journal_entry e = entry("a1", TBS_A, sizeof TBS_A);
    e.once_per_csr = true;
    OK(ctca_store_journal(S, &e));
    e = entry("a2", TBS_B, sizeof TBS_B);
    e.once_per_csr = true;
    EXPECT(CTCA_ERR_STORE_DUPLICATE, ctca_store_journal(S, &e));
    cr_assert(strstr(ctca_store_errmsg(S), "serial a1 (journaled)") != NULL, "%s",
              ctca_store_errmsg(S));
    OK(ctca_store_put_precert(S, "a1", PRE_A, sizeof PRE_A, 2000));
    OK(ctca_store_put_final(S, "a1", FIN_A, sizeof FIN_A, 3000));
    EXPECT(CTCA_ERR_STORE_DUPLICATE, ctca_store_journal(S, &e));
    bool exists = true;
    OK(ctca_store_serial_exists(S, "a2", &exists));
    cr_assert_not(exists);
    /* the same CSR under another profile, and without once_per_csr */
    e.profile = "tls-client";
    OK(ctca_store_journal(S, &e));
    e = entry("a3", TBS_B, sizeof TBS_B);
    OK(ctca_store_journal(S, &e));
    /* an identical retry of the journaled serial is still fine */
    e = entry("a1", TBS_A, sizeof TBS_A);
    e.once_per_csr = true;
    OK(ctca_store_journal(S, &e));
}

/* A journaled record whose owner is gone may be superseded by exactly one
 * new record, and only while it is as the caller saw it. */
Test(store_certs, once_per_csr_supersedes_only_the_record_seen)
{
    ctca_store_owner dead = {.host = "h", .kernel = "k", .pid = 42, .start = 7};
    ctca_store_journal_entry e = entry("b1", TBS_A, sizeof TBS_A);
    e.owner = &dead;
    OK(ctca_store_journal(S, &e));
    ctca_store_unfinished seen;
    OK(ctca_store_get_unfinished(S, "b1", &seen));

    /* once the record moved on (claimed), the view is stale */
    ctca_store_unfinished moved = seen;
    moved.updated_ms = 1;
    e = entry("b2", TBS_B, sizeof TBS_B);
    e.once_per_csr = true;
    e.supersedes = &moved;
    EXPECT(CTCA_ERR_STORE_DUPLICATE, ctca_store_journal(S, &e));
    e.supersedes = NULL;
    EXPECT(CTCA_ERR_STORE_DUPLICATE, ctca_store_journal(S, &e));

    e.supersedes = &seen;
    OK(ctca_store_journal(S, &e));
    /* a second process superseding the same record loses */
    e = entry("b3", TBS_B, sizeof TBS_B);
    e.once_per_csr = true;
    e.supersedes = &seen;
    EXPECT(CTCA_ERR_STORE_DUPLICATE, ctca_store_journal(S, &e));
    cr_assert(strstr(ctca_store_errmsg(S), "serial b2") != NULL, "%s", ctca_store_errmsg(S));
    /* supersedes without once_per_csr is a misuse */
    e.once_per_csr = false;
    EXPECT(CTCA_ERR_VALUE_RANGE, ctca_store_journal(S, &e));
}

/* The schema enforces the invariants too: raw SQL cannot delete a record,
 * rewrite a journaled TBS or a stored precertificate, or skip a state. */
Test(store_certs, raw_sql_cannot_delete_or_rewrite_records)
{
    journal("90");
    OK(ctca_store_put_precert(S, "90", PRE_A, sizeof PRE_A, 2000));
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    const char *attempts[] = {
        "DELETE FROM certs WHERE serial = '90'",
        "UPDATE certs SET tbs = x'3000' WHERE serial = '90'",
        "UPDATE certs SET precert = x'3001' WHERE serial = '90'",
        "UPDATE certs SET state = 'journaled', precert = NULL WHERE serial = '90'",
        "DELETE FROM audit",
        "UPDATE audit SET event = 'nothing'",
    };
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++)
        cr_assert_neq(sqlite3_exec(db, attempts[i], NULL, NULL, NULL), SQLITE_OK, "%s",
                      attempts[i]);
    sqlite3_close(db);
    ctca_store_cert c;
    OK(ctca_store_get_cert(S, "90", &c));
    cr_assert_eq(c.state, CTCA_STORE_PRECERT);
    cr_assert_arr_eq(c.tbs, TBS_A, sizeof TBS_A);
    cr_assert_arr_eq(c.precert_der, PRE_A, sizeof PRE_A);
    ctca_store_cert_cleanup(&c);
    OK(ctca_store_integrity_check(S));
}
