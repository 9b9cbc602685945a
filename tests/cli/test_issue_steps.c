/* The engine's steps cut at the store writes (ctca/issue.h): each compute
 * step leaves the store as it was, each write step moves the record one
 * state on, and inside a store batch nothing is visible to another connection
 * before the commit. Real ctca-testlog processes on loopback. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/issue.h"
#include "ctca/loglist.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static th_ca fx;
static ctca_ca *ca;
static ctca_store *store, *other;
static ctca_log_list *list;

static void setup(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    const char *specs[] = {"A:a1", "A:a2", "B:b1"};
    th_ca_start_logs(&fx, 3, specs, NULL);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_store_open(ctca_ca_get0_store_path(ca), &store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_store_open(ctca_ca_get0_store_path(ca), &other, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_log_list_load(fx.log_list, &list, &eb), CTCA_OK, "%s", eb.msg);
}

static void teardown(void)
{
    ctca_log_list_free(list);
    ctca_store_close(store);
    ctca_store_close(other);
    ctca_ca_free(ca);
    th_ca_cleanup(&fx);
}

TestSuite(issue_steps, .init = setup, .fini = teardown, .timeout = 60);

/* The state of serial as connection s sees it; -1 when it has no record. */
static int state_of(ctca_store *s, const char *serial)
{
    ctca_store_cert rec = {0};
    ctca_err rc = ctca_store_get_cert(s, serial, &rec);
    int st = rc == CTCA_ERR_STORE_NOT_FOUND ? -1 : (int)rec.state;
    cr_assert(rc == CTCA_OK || rc == CTCA_ERR_STORE_NOT_FOUND, "%s", ctca_store_errmsg(s));
    ctca_store_cert_cleanup(&rec);
    return st;
}

static void collect(ctca_issuance *is)
{
    ctca_ctclient *client = NULL;
    cr_assert_eq(ctca_ctclient_new(NULL, &client), CTCA_OK);
    cr_assert_eq(ctca_issuance_start(is, client, store, ctca_ctclient_now_ms(client) + 20000),
                 CTCA_OK);
    while (!ctca_issuance_collected(is))
        cr_assert_eq(ctca_ctclient_run(client, 1000, NULL), CTCA_OK);
    ctca_ctclient_free(client);
}

Test(issue_steps, compute_steps_write_nothing_and_write_steps_move_the_record)
{
    ctca_errbuf eb = {{0}};
    ctca_issue_request req = {.csr_path = fx.csr, .log_list = list, .now_ms = ctca_now_ms()};
    ctca_issuance *is = NULL;
    cr_assert_eq(ctca_issuance_prepare(ca, store, &req, &is, &eb), CTCA_OK, "%s", eb.msg);
    const char *serial = ctca_issuance_serial(is);
    cr_assert_eq(state_of(store, serial), -1, "prepare writes nothing");
    cr_assert_eq(ctca_issuance_journal(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_JOURNALED);
    cr_assert_eq(ctca_issuance_sign_precert(is, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_JOURNALED, "signing stores nothing");
    cr_assert_eq(ctca_issuance_store_precert(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_PRECERT);
    collect(is);
    ctca_issue_result res = {0};
    cr_assert_eq(ctca_issuance_build_final(is, other, &res, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_not_null(res.cert);
    cr_assert_geq(res.n_embedded, 2);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_PRECERT, "building stores nothing");
    cr_assert_eq(ctca_issuance_store_final(is, store, &res, &eb), CTCA_OK, "%s", eb.msg);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(other, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_ISSUED);
    cr_assert_eq(rec.final_len, res.cert_len);
    cr_assert_arr_eq(rec.final_der, res.cert, res.cert_len);
    ctca_store_cert_cleanup(&rec);
    ctca_issue_result_cleanup(&res);
    ctca_issuance_free(is);
}

Test(issue_steps, batched_writes_are_invisible_until_the_commit)
{
    ctca_errbuf eb = {{0}};
    ctca_issue_request req = {.csr_path = fx.csr, .log_list = list, .now_ms = ctca_now_ms()};
    ctca_issuance *is = NULL;
    cr_assert_eq(ctca_issuance_prepare(ca, other, &req, &is, &eb), CTCA_OK, "%s", eb.msg);
    const char *serial = ctca_issuance_serial(is);
    cr_assert_eq(ctca_store_batch_begin(store), CTCA_OK);
    cr_assert_eq(ctca_issuance_journal(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), -1, "not committed yet");
    cr_assert_eq(ctca_store_batch_commit(store), CTCA_OK, "%s", ctca_store_errmsg(store));
    cr_assert_eq(state_of(other, serial), CTCA_STORE_JOURNALED);
    cr_assert_eq(ctca_issuance_sign_precert(is, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_store_batch_begin(store), CTCA_OK);
    cr_assert_eq(ctca_issuance_store_precert(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_JOURNALED);
    cr_assert_eq(ctca_store_batch_commit(store), CTCA_OK, "%s", ctca_store_errmsg(store));
    cr_assert_eq(state_of(other, serial), CTCA_STORE_PRECERT);
    ctca_issuance_free(is);
}

Test(issue_steps, a_log_list_naming_an_unusable_key_is_refused_at_selection)
{
    /* The list's first log gets a key ctca cannot use; issuance refuses to
     * select it rather than crash or skip silently. */
    ctca_log_key *kept = list->logs[0].key;
    list->logs[0].key = NULL;
    ctca_errbuf eb = {{0}};
    ctca_issue_request req = {.csr_path = fx.csr, .log_list = list, .now_ms = ctca_now_ms()};
    ctca_issuance *is = NULL;
    ctca_err rc = ctca_issuance_prepare(ca, store, &req, &is, &eb);
    list->logs[0].key = kept;
    cr_assert_eq(rc, CTCA_ERR_LOG_LIST, "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "key"), "%s", eb.msg);
    cr_assert_null(is);
}

/* The steps refuse to run out of order (CTCA_ERR_STEP_ORDER) and change
 * nothing when they do: no signature before the journal, no final
 * certificate before the precertificate is stored, none stored twice. */
Test(issue_steps, steps_out_of_order_are_refused_and_change_nothing)
{
    ctca_errbuf eb = {{0}};
    ctca_issue_request req = {.csr_path = fx.csr, .log_list = list, .now_ms = ctca_now_ms()};
    ctca_issuance *is = NULL;
    ctca_issue_result res = {0};
    cr_assert_eq(ctca_issuance_prepare(ca, store, &req, &is, &eb), CTCA_OK, "%s", eb.msg);
    const char *serial = ctca_issuance_serial(is);

    cr_assert_eq(ctca_issuance_sign_precert(is, &eb), CTCA_ERR_STEP_ORDER,
                 "signing before the journal");
    cr_assert(strstr(eb.msg, "while the issuance is prepared") != NULL, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_store_precert(is, store, &eb), CTCA_ERR_STEP_ORDER);
    cr_assert_eq(ctca_issuance_build_final(is, store, &res, &eb), CTCA_ERR_STEP_ORDER);
    cr_assert_null(res.cert);
    cr_assert_eq(ctca_issuance_finish_unembedded(is, store, &res, &eb), CTCA_ERR_STEP_ORDER);
    cr_assert_null(res.cert);
    cr_assert_eq(ctca_issuance_defer(is, store, "no", NULL, &eb), CTCA_ERR_STEP_ORDER);
    cr_assert_eq(state_of(store, serial), -1, "nothing was written");

    cr_assert_eq(ctca_issuance_journal(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_journal(is, store, &eb), CTCA_ERR_STEP_ORDER, "journaled twice");
    cr_assert_eq(ctca_issuance_store_precert(is, store, &eb), CTCA_ERR_STEP_ORDER,
                 "storing a precertificate never signed");
    cr_assert_eq(ctca_issuance_sign_precert(is, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_sign_precert(is, &eb), CTCA_ERR_STEP_ORDER, "signed twice");
    cr_assert_eq(ctca_issuance_build_final(is, store, &res, &eb), CTCA_ERR_STEP_ORDER,
                 "a final certificate before the precertificate is stored");
    cr_assert_eq(state_of(store, serial), CTCA_STORE_JOURNALED);
    cr_assert_eq(ctca_issuance_store_precert(is, store, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_store_final(is, store, &res, &eb), CTCA_ERR_STEP_ORDER,
                 "storing a final certificate never built");

    collect(is);
    cr_assert_eq(ctca_issuance_build_final(is, store, &res, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_issuance_defer(is, store, "no", NULL, &eb), CTCA_ERR_STEP_ORDER,
                 "deferring a built certificate");
    cr_assert_eq(ctca_issuance_store_final(is, store, &res, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(state_of(other, serial), CTCA_STORE_ISSUED);
    ctca_issue_result again = {0};
    cr_assert_eq(ctca_issuance_build_final(is, store, &again, &eb), CTCA_ERR_STEP_ORDER,
                 "a second final certificate");
    cr_assert_null(again.cert);
    cr_assert_eq(ctca_issuance_finish_unembedded(is, store, &again, &eb), CTCA_ERR_STEP_ORDER);
    cr_assert_null(again.cert);
    ctca_issue_result_cleanup(&again);
    ctca_issue_result_cleanup(&res);
    ctca_issuance_free(is);
}
