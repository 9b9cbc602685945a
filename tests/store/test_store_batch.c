/* Batches: many writes, one transaction. What a batch wrote is invisible to
 * other connections and lost on close until the commit; a failed write inside
 * a batch undoes only itself; misuse is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/store.h"
#include "tests/helpers.h"
#include "tests/store/store_fixture.h"

static ctca_store *other; /* a second connection to the same file */

static void setup(void)
{
    store_setup();
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &other, &eb), CTCA_OK, "open: %s", eb.msg);
}

static void teardown(void)
{
    ctca_store_close(other);
    other = NULL;
    store_teardown();
}

TestSuite(store_batch, .init = setup, .fini = teardown);

static const uint8_t TBS[] = {0x30, 0x05, 0x02, 0x03, 0x01, 0x02, 0x03};
static const uint8_t TBS_OTHER[] = {0x30, 0x05, 0x02, 0x03, 0x01, 0x02, 0x04};
static const uint8_t PRE[] = {0x30, 0x03, 0x0a, 0x01, 0x01};
static uint8_t DIGEST[32];

static ctca_err journal(ctca_store *s, const char *serial, const uint8_t *tbs, size_t len)
{
    memset(DIGEST, 0xd1, sizeof DIGEST);
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = DIGEST, .tbs = tbs, .tbs_len = len,
                                  .not_before = 1700000000, .not_after = 1707776000,
                                  .now_ms = 1000};
    return ctca_store_journal(s, &e);
}

static bool exists(ctca_store *s, const char *serial)
{
    bool e = false;
    EXPECT_ON(s, CTCA_OK, ctca_store_serial_exists(s, serial, &e));
    return e;
}

Test(store_batch, writes_are_invisible_to_others_until_the_commit)
{
    OK(ctca_store_batch_begin(S));
    OK(journal(S, "01", TBS, sizeof TBS));
    OK(ctca_store_put_precert(S, "01", PRE, sizeof PRE, 2000));
    OK(journal(S, "02", TBS, sizeof TBS));
    cr_assert(exists(S, "01"), "the batch's own connection sees its writes");
    cr_assert_not(exists(other, "01"));
    cr_assert_not(exists(other, "02"));
    OK(ctca_store_batch_commit(S));
    cr_assert(exists(other, "01"));
    cr_assert(exists(other, "02"));
    ctca_store_cert c = {0};
    EXPECT_ON(other, CTCA_OK, ctca_store_get_cert(other, "01", &c));
    cr_assert_eq(c.state, CTCA_STORE_PRECERT);
    ctca_store_cert_cleanup(&c);
}

Test(store_batch, closing_without_commit_stores_nothing)
{
    OK(ctca_store_batch_begin(S));
    OK(journal(S, "01", TBS, sizeof TBS));
    ctca_store_close(S);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &S, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_not(exists(S, "01"));
    cr_assert_not(exists(other, "01"));
}

Test(store_batch, failed_write_undoes_only_itself)
{
    OK(journal(S, "01", TBS, sizeof TBS));
    OK(ctca_store_batch_begin(S));
    OK(journal(S, "02", TBS, sizeof TBS));
    /* Another TBS for serial 01, and a precertificate for an unknown serial. */
    EXPECT_ON(S, CTCA_ERR_STORE_CONFLICT, journal(S, "01", TBS_OTHER, sizeof TBS_OTHER));
    EXPECT_ON(S, CTCA_ERR_STORE_NOT_FOUND, ctca_store_put_precert(S, "03", PRE, sizeof PRE, 2000));
    OK(ctca_store_put_precert(S, "02", PRE, sizeof PRE, 2000));
    OK(ctca_store_batch_commit(S));
    ctca_store_cert c = {0};
    EXPECT_ON(other, CTCA_OK, ctca_store_get_cert(other, "02", &c));
    cr_assert_eq(c.state, CTCA_STORE_PRECERT);
    ctca_store_cert_cleanup(&c);
    EXPECT_ON(other, CTCA_OK, ctca_store_get_cert(other, "01", &c));
    cr_assert_eq(c.tbs_len, sizeof TBS);
    cr_assert_arr_eq(c.tbs, TBS, sizeof TBS);
    ctca_store_cert_cleanup(&c);
    cr_assert_not(exists(other, "03"));
}

Test(store_batch, reads_inside_a_batch_see_its_writes)
{
    static const uint8_t log_id[32] = {1};
    static const uint8_t sct[] = {0x00, 0x01, 0x02};
    OK(ctca_store_batch_begin(S));
    OK(journal(S, "01", TBS, sizeof TBS));
    OK(ctca_store_put_precert(S, "01", PRE, sizeof PRE, 2000));
    OK(ctca_store_add_sct(S, "01", log_id, 1, 1, 5000, sct, sizeof sct, 3000));
    ctca_store_sct_list l = {0};
    OK(ctca_store_list_scts(S, "01", &l));
    cr_assert_eq(l.count, 1);
    ctca_store_sct_list_cleanup(&l);
    EXPECT_ON(other, CTCA_ERR_STORE_NOT_FOUND, ctca_store_list_scts(other, "01", &l));
    OK(ctca_store_batch_commit(S));
    EXPECT_ON(other, CTCA_OK, ctca_store_list_scts(other, "01", &l));
    cr_assert_eq(l.count, 1);
    ctca_store_sct_list_cleanup(&l);
}

Test(store_batch, empty_batch_commits_and_other_writers_are_free)
{
    OK(ctca_store_batch_begin(S));
    /* No write yet: the batch holds no lock, so another connection writes at once. */
    EXPECT_ON(other, CTCA_OK, journal(other, "0a", TBS, sizeof TBS));
    OK(ctca_store_batch_commit(S));
    cr_assert(exists(S, "0a"));
}

Test(store_batch, misuse_is_refused)
{
    EXPECT_ON(S, CTCA_ERR_STORE_CONFLICT, ctca_store_batch_commit(S));
    OK(ctca_store_batch_begin(S));
    EXPECT_ON(S, CTCA_ERR_STORE_CONFLICT, ctca_store_batch_begin(S));
    OK(journal(S, "01", TBS, sizeof TBS));
    OK(ctca_store_batch_commit(S));
    EXPECT_ON(S, CTCA_ERR_STORE_CONFLICT, ctca_store_batch_commit(S));
    /* After the batch, writes commit one by one again. */
    OK(journal(S, "02", TBS, sizeof TBS));
    cr_assert(exists(other, "02"));
}
