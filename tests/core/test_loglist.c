/* Chrome v3 log lists: the real snapshots load with the right states, bad lists
 * are refused naming the field, and selection spans operators first. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ctca/loglist.h"
#include "tests/helpers.h"

static ctca_log_list *load_upstream(const char *rel)
{
    char *p = th_upstream(rel);
    ctca_log_list *list = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_log_list_load(p, &list, &eb);
    cr_assert_eq(rc, CTCA_OK, "%s: %s", p, eb.msg);
    free(p);
    return list;
}

Test(loglist, real_snapshot_loads_with_all_logs_and_states)
{
    ctca_log_list *l = load_upstream("x-stp-rxtls/all_logs_list.json");
    cr_assert_eq(l->n_operators, 21);
    size_t rfc6962 = 0, tiled = 0, counts[7] = {0};
    for (size_t i = 0; i < l->n_logs; i++) {
        if (l->logs[i].tiled)
            tiled++;
        else {
            rfc6962++;
            counts[l->logs[i].state]++;
        }
    }
    cr_assert_eq(rfc6962, 175);
    cr_assert_eq(tiled, 6);
    cr_assert_eq(counts[CTCA_LOG_STATE_REJECTED], 100);
    cr_assert_eq(counts[CTCA_LOG_STATE_USABLE], 33);
    cr_assert_eq(counts[CTCA_LOG_STATE_PENDING], 10);
    cr_assert_eq(counts[CTCA_LOG_STATE_RETIRED], 3);
    cr_assert_eq(counts[CTCA_LOG_STATE_READONLY], 1);
    cr_assert_eq(counts[CTCA_LOG_STATE_NONE], 28);
    ctca_log_list_free(l);
}

Test(loglist, sample_states_and_intervals)
{
    ctca_log_list *l = load_upstream("certificate-transparency-go/testdata/loglist3.json");
    size_t found = 0;
    for (size_t i = 0; i < l->n_logs; i++) {
        const ctca_log_info *li = &l->logs[i];
        if (li->description && strstr(li->description, "Aviator")) {
            cr_assert_eq(li->state, CTCA_LOG_STATE_READONLY);
            found++;
        }
        if (li->description && strstr(li->description, "Argon2020")) {
            cr_assert_eq(li->state, CTCA_LOG_STATE_QUALIFIED);
            cr_assert(li->has_interval);
            cr_assert_eq(li->interval_end_ms, 1577836800000LL);
            found++;
        }
        if (li->description && strstr(li->description, "Dubious")) {
            cr_assert_eq(li->state, CTCA_LOG_STATE_RETIRED);
            cr_assert_str_eq(li->operator_name, "Bob's CT Log Shop");
            found++;
        }
    }
    cr_assert_eq(found, 3);
    ctca_log_list_free(l);
}

Test(loglist, selection_respects_state_interval_and_spans_operators)
{
    ctca_log_list *l = load_upstream("certificate-transparency-go/testdata/loglist3.json");
    const ctca_log_info **sel = NULL;
    size_t n = 0;
    /* notAfter 2019-06-01: Argon2020 (qualified, interval to 2020) qualifies too. */
    cr_assert_eq(ctca_log_list_select(l, 1559347200000LL, false, 1, 16, &sel, &n), CTCA_OK);
    for (size_t i = 0; i < n; i++) {
        cr_assert(sel[i]->state == CTCA_LOG_STATE_USABLE ||
                  sel[i]->state == CTCA_LOG_STATE_QUALIFIED);
        cr_assert(!sel[i]->has_interval || (1559347200000LL >= sel[i]->interval_start_ms &&
                                            1559347200000LL < sel[i]->interval_end_ms));
    }
    size_t with_argon = n;
    free(sel);
    /* notAfter 2021: Argon2020's interval no longer covers it. */
    cr_assert_eq(ctca_log_list_select(l, 1622505600000LL, false, 1, 16, &sel, &n), CTCA_OK);
    cr_assert_eq(n, with_argon - 1);
    free(sel);
    ctca_log_list_free(l);

    l = load_upstream("x-stp-rxtls/all_logs_list.json");
    cr_assert_eq(ctca_log_list_select(l, 1767225600000LL /* 2026-01-01 */, false, 1, 4, &sel, &n),
                 CTCA_OK);
    cr_assert_eq(n, 4);
    cr_assert_neq(sel[0]->operator_index, sel[1]->operator_index,
                  "first two submissions span two operators");
    free(sel);
    cr_assert_eq(ctca_log_list_select(l, 4102444800000LL /* 2100 */, false, 1, 4, &sel, &n),
                 CTCA_ERR_NO_LOGS);
    ctca_log_list_free(l);
}

#define KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1/TMabLkDpCjiupacAlP7xNi0I1JYP8bQFAHDG1xhtolSY1l4QgNRzRrvSe8liE+NPWHdjGxfx3JhTsN9x8/6Q=="
#define ID "aPaY+B9kgr46jO65KB1M/HFRXWeT1ETRCmesu09P+8Q="
#define LOG(extra) "{\"log_list_timestamp\":\"2024-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\",\"email\":[],\"logs\":[{" extra "}]}]}"
#define GOOD_FIELDS "\"log_id\":\"" ID "\",\"key\":\"" KEY "\",\"url\":\"http://x/\",\"mmd\":86400"

Test(loglist, minimal_good_list_parses)
{
    const char *json = LOG(GOOD_FIELDS ",\"state\":{\"usable\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}");
    ctca_log_list *l = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(l->n_logs, 1);
    cr_assert_eq(l->logs[0].state, CTCA_LOG_STATE_USABLE);
    cr_assert_not_null(l->logs[0].key, "the key is parsed at load");
    cr_assert_arr_eq(ctca_log_key_get0_id(l->logs[0].key), l->logs[0].log_id, CTCA_LOG_ID_LEN);
    ctca_log_list_free(l);
}

Test(loglist, unusable_key_loads_without_a_parsed_key)
{
    /* A well-formed entry whose key is DER but not a key: the list loads
     * (logs ctca never uses may carry anything), the key stays NULL. */
    const char *json = LOG("\"log_id\":\"G2X2ilIshYcV9d2VHNBALcFmkXeIFL8HWYIreiV0IdA=\","
                           "\"key\":\"MAMCAQE=\",\"url\":\"http://x/\",\"mmd\":86400");
    ctca_log_list *l = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(l->n_logs, 1);
    cr_assert_null(l->logs[0].key);
    ctca_log_list_free(l);
}

Test(loglist, malformed_lists_name_the_field)
{
    const struct {
        const char *json;
        ctca_err want;
        const char *field;
    } cases[] = {
        {"{", CTCA_ERR_JSON, "JSON"},
        {"[]", CTCA_ERR_LOG_LIST, "object"},
        {"{\"operators\":[]}", CTCA_ERR_LOG_LIST, "log_list_timestamp"},
        {"{\"log_list_timestamp\":\"yesterday\",\"operators\":[]}", CTCA_ERR_LOG_LIST,
         "log_list_timestamp"},
        {"{\"log_list_timestamp\":\"2024-01-01T00:00:00Z\",\"operators\":{}}", CTCA_ERR_LOG_LIST,
         "operators"},
        {LOG("\"key\":\"" KEY "\",\"url\":\"http://x/\",\"mmd\":86400"), CTCA_ERR_LOG_LIST,
         "operators[0].logs[0].log_id: missing"},
        {LOG("\"log_id\":\"" ID "\",\"url\":\"http://x/\",\"mmd\":86400"), CTCA_ERR_LOG_LIST,
         "operators[0].logs[0].key: missing"},
        {LOG("\"log_id\":\"3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=\",\"key\":\"" KEY
             "\",\"url\":\"http://x/\",\"mmd\":86400"),
         CTCA_ERR_LOG_LIST, "SHA-256"},
        {LOG("\"log_id\":\"" ID "\",\"key\":\"" KEY "\",\"url\":7,\"mmd\":86400"),
         CTCA_ERR_LOG_LIST, "url: must be a string"},
        {LOG("\"log_id\":\"" ID "\",\"key\":\"" KEY "\",\"url\":\"http://x/\",\"mmd\":\"day\""),
         CTCA_ERR_LOG_LIST, "mmd"},
        {LOG(GOOD_FIELDS ",\"state\":{\"happy\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}"),
         CTCA_ERR_LOG_LIST, "happy"},
        {LOG(GOOD_FIELDS ",\"state\":{\"usable\":{\"timestamp\":\"2020-13-01T00:00:00Z\"}}"),
         CTCA_ERR_LOG_LIST, "state.usable.timestamp"},
        {LOG(GOOD_FIELDS ",\"state\":{\"readonly\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}"),
         CTCA_ERR_LOG_LIST, "final_tree_head"},
        {LOG(GOOD_FIELDS ",\"temporal_interval\":{\"start_inclusive\":\"2021-01-01T00:00:00Z\","
                         "\"end_exclusive\":\"2020-01-01T00:00:00Z\"}"),
         CTCA_ERR_LOG_LIST, "end_exclusive"},
        {LOG(GOOD_FIELDS ",\"previous_operators\":[{\"name\":\"B\"}]"), CTCA_ERR_LOG_LIST,
         "previous_operators[0].end_time"},
        {LOG("\"log_id\":\"not base64!\",\"key\":\"" KEY "\",\"url\":\"http://x/\",\"mmd\":1"),
         CTCA_ERR_LOG_LIST, "base64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_log_list *l = NULL;
        ctca_errbuf eb = {{0}};
        ctca_err rc = ctca_log_list_parse(cases[i].json, strlen(cases[i].json), &l, &eb);
        cr_assert_eq(rc, cases[i].want, "case %zu: got %s (%s)", i, ctca_err_name(rc), eb.msg);
        cr_assert_not_null(strstr(eb.msg, cases[i].field), "case %zu: \"%s\" lacks \"%s\"", i,
                           eb.msg, cases[i].field);
        cr_assert_null(l);
    }
}

Test(loglist, ten_megabytes_of_junk_refused)
{
    char *dir = th_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/junk.json", dir);
    size_t n = 10 * 1024 * 1024;
    char *junk = malloc(n);
    memset(junk, '{', n);
    th_write_file(path, junk, n);
    free(junk);
    ctca_log_list *l = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_list_load(path, &l, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, "limit"), "%s", eb.msg);
    th_rmdir(dir);
    free(dir);
}

/* ---- ctca's extension for RFC 9162 logs ---------------------------------------- */

#define KEY2 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpTX8XxywNfb+WvnVG2EanGmk8fuhjU+NDjuJc/ZkaY9ffevS3BabryKnauGrhWsOGr/nmt/yzgE/AMzahthkJA=="
#define USABLE ",\"state\":{\"usable\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}"
#define V2_FIELDS(oid) "\"ct_version\":2,\"log_id_oid\":\"" oid "\",\"key\":\"" KEY2 "\",\"url\":\"http://v2/\",\"mmd\":86400" USABLE
#define TWO_LOGS(a, b) "{\"log_list_timestamp\":\"2024-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\",\"email\":[],\"logs\":[{" a "},{" b "}]}]}"

Test(loglist, v2_logs_carry_version_and_oid_and_are_found_by_oid)
{
    const char *json = TWO_LOGS(GOOD_FIELDS USABLE, V2_FIELDS("1.3.101.8192"));
    ctca_log_list *l = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(l->n_logs, 2);
    cr_expect_eq(l->logs[0].ct_version, 1, "the default");
    cr_expect_eq(l->logs[1].ct_version, 2);
    ctca_log_id_v2 oid;
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8192", &oid), CTCA_OK);
    cr_expect(ctca_log_id_v2_eq(&l->logs[1].log_id_v2, &oid));
    cr_expect_eq(ctca_log_list_find_oid(l, &oid), &l->logs[1]);
    /* Without log_id, the key hash is computed (and still identifies the log). */
    cr_assert_not_null(l->logs[1].key);
    cr_expect_arr_eq(l->logs[1].log_id, ctca_log_key_get0_id(l->logs[1].key), CTCA_LOG_ID_LEN);
    cr_expect_eq(ctca_log_list_find(l, l->logs[1].log_id), &l->logs[1]);
    cr_assert_eq(ctca_log_id_v2_from_string("1.3.101.8193", &oid), CTCA_OK);
    cr_expect_null(ctca_log_list_find_oid(l, &oid));

    /* Selection takes one protocol version at a time. */
    const ctca_log_info **sel = NULL;
    size_t n = 0;
    cr_assert_eq(ctca_log_list_select(l, 1767225600000LL, false, 2, 8, &sel, &n), CTCA_OK);
    cr_expect_eq(n, 1);
    cr_expect_eq(sel[0], &l->logs[1]);
    free(sel);
    cr_assert_eq(ctca_log_list_select(l, 1767225600000LL, false, 1, 8, &sel, &n), CTCA_OK);
    cr_expect_eq(n, 1);
    cr_expect_eq(sel[0], &l->logs[0]);
    free(sel);
    ctca_log_list_free(l);

    /* Without v2 logs, a v2 selection finds none. */
    json = LOG(GOOD_FIELDS USABLE);
    cr_assert_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(ctca_log_list_select(l, 1767225600000LL, false, 2, 8, &sel, &n), CTCA_ERR_NO_LOGS);
    ctca_log_list_free(l);
}

Test(loglist, v2_extension_is_validated_strictly)
{
    const struct {
        const char *json;
        const char *field;
    } cases[] = {
        {LOG(GOOD_FIELDS ",\"ct_version\":3"), "ct_version: must be 1 or 2"},
        {LOG(GOOD_FIELDS ",\"ct_version\":\"2\""), "ct_version: must be 1 or 2"},
        {LOG(GOOD_FIELDS ",\"ct_version\":1.5"), "ct_version: must be 1 or 2"},
        {LOG(GOOD_FIELDS ",\"log_id_oid\":\"1.3.101.8192\""), "log_id_oid: is only for"},
        {LOG(GOOD_FIELDS ",\"ct_version\":1,\"log_id_oid\":\"1.3.101.8192\""),
         "log_id_oid: is only for"},
        {LOG("\"ct_version\":2,\"key\":\"" KEY2 "\",\"url\":\"http://v2/\",\"mmd\":1"),
         "log_id_oid: missing"},
        {LOG(V2_FIELDS("1.3")), "log_id_oid: must be a dotted OID"},
        {LOG(V2_FIELDS("1.3.x")), "log_id_oid: must be a dotted OID"},
        {LOG("\"ct_version\":2,\"log_id_oid\":8192,\"key\":\"" KEY2
             "\",\"url\":\"http://v2/\",\"mmd\":1"),
         "log_id_oid: must be a dotted OID"},
        /* A log_id given for a v2 log must still be its key's hash. */
        {LOG("\"log_id\":\"" ID "\"," V2_FIELDS("1.3.101.8192")), "log_id: is not the SHA-256"},
        {TWO_LOGS(V2_FIELDS("1.3.101.8192"),
                  "\"ct_version\":2,\"log_id_oid\":\"1.3.101.8192\",\"key\":\"" KEY
                  "\",\"url\":\"http://v2b/\",\"mmd\":1"),
         "operators[0].logs[1].log_id_oid: appears twice"},
        {"{\"log_list_timestamp\":\"2024-01-01T00:00:00Z\",\"operators\":[{\"name\":\"A\","
         "\"logs\":[],\"tiled_logs\":[{\"ct_version\":2,\"log_id_oid\":\"1.3.101.8192\","
         "\"key\":\"" KEY2 "\",\"submission_url\":\"http://s/\",\"monitoring_url\":\"http://m/\","
         "\"mmd\":60}]}]}",
         "tiled_logs[0].ct_version: must be 1 for a tiled"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_log_list *l = NULL;
        ctca_errbuf eb = {{0}};
        ctca_err rc = ctca_log_list_parse(cases[i].json, strlen(cases[i].json), &l, &eb);
        cr_expect_eq(rc, CTCA_ERR_LOG_LIST, "case %zu: got %s (%s)", i, ctca_err_name(rc), eb.msg);
        cr_expect_not_null(strstr(eb.msg, cases[i].field), "case %zu: \"%s\" lacks \"%s\"", i,
                           eb.msg, cases[i].field);
        ctca_log_list_free(l);
    }
}

Test(loglist, duplicate_keys_are_refused_naming_the_field)
{
    /* Unknown keys are ignored in a log list, duplicates never: two readers
     * could otherwise see two different keys for one log. */
    const char *json = LOG(GOOD_FIELDS ",\"key\":\"" KEY2 "\"");
    ctca_log_list *l = NULL;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_ERR_LOG_LIST);
    cr_expect_null(l);
    cr_expect_str_eq(eb.msg, "operators[0].logs[0].key: duplicate key");
    json = LOG(GOOD_FIELDS ",\"future\":1,\"future\":2");
    cr_expect_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_ERR_LOG_LIST);
    cr_expect_str_eq(eb.msg, "operators[0].logs[0].future: duplicate key");
    json = LOG(GOOD_FIELDS ",\"future\":1");
    cr_expect_eq(ctca_log_list_parse(json, strlen(json), &l, &eb), CTCA_OK, "%s", eb.msg);
    ctca_log_list_free(l);
}
