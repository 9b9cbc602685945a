/* Custom CT policy files: parsing with field paths, the built-in names, caps,
 * and a parsed policy's verdicts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/policy.h"
#include "tests/helpers.h"

#define GOOD                                                                              \
    "{\"name\":\"corp\",\"lifetime_bands\":[{\"max_days\":90,\"scts\":1},"                 \
    "{\"max_days\":825,\"scts\":2,\"max_per_operator\":1}],\"min_operators\":1,"           \
    "\"counted_states\":[\"usable\",\"retired\"],\"retired_judged_by\":\"each_sct\","      \
    "\"max_log_list_age_days\":30,\"tls\":{\"scts\":1,\"min_operators\":1}}"

Test(policy_file, good_file_parses_into_bands_states_and_tls)
{
    ctca_policy p;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_policy_parse(GOOD, strlen(GOOD), &p, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_str_eq(p.name, "corp");
    cr_expect_eq(p.n_bands, 2);
    cr_expect_eq(p.bands[0].max_lifetime_ms, 90 * CTCA_DAY_MS);
    cr_expect_eq(p.bands[1].scts, 2);
    cr_expect_eq(p.bands[1].max_per_operator, 1);
    cr_expect_eq(p.counted_states, CTCA_STATE_BIT(CTCA_LOG_STATE_USABLE) |
                                       CTCA_STATE_BIT(CTCA_LOG_STATE_RETIRED));
    cr_expect_eq(p.current_states, CTCA_STATE_BIT(CTCA_LOG_STATE_USABLE));
    cr_expect_eq(p.min_current, 1);
    cr_expect_not(p.retired_by_earliest);
    cr_expect_eq(p.max_list_age_ms, 30 * CTCA_DAY_MS);
    cr_expect_eq(p.tls_scts, 1);
    cr_expect_not(p.tls_pools_embedded);
    const char *pooled = "{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],"
                         "\"min_operators\":1,\"counted_states\":[\"usable\"],"
                         "\"tls\":{\"scts\":2,\"min_operators\":2,\"pool_embedded\":true}}";
    cr_assert_eq(ctca_policy_parse(pooled, strlen(pooled), &p, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect(p.tls_pools_embedded);
}

Test(policy_file, parsed_policy_gives_its_verdicts)
{
    ctca_policy p;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_policy_parse(GOOD, strlen(GOOD), &p, &eb), CTCA_OK, "%s", eb.msg);
    char *ops[] = {"corp-ct"};
    ctca_log_info log;
    memset(&log, 0, sizeof log);
    log.log_id[0] = 7;
    log.operator_name = ops[0];
    log.state = CTCA_LOG_STATE_USABLE;
    ctca_log_list list = {NULL, 1000 * CTCA_DAY_MS, ops, 1, &log, 1};
    ctca_policy_sct s = {{7}, (uint64_t)(1001 * CTCA_DAY_MS), CTCA_SCT_EMBEDDED};
    ctca_policy_result r;
    int64_t nb = 1000 * CTCA_DAY_MS, at = 1002 * CTCA_DAY_MS;
    cr_assert_eq(ctca_policy_evaluate(&p, &list, nb, nb + 90 * CTCA_DAY_MS, &s, 1, at, &r),
                 CTCA_OK);
    cr_expect_eq(r.verdict, CTCA_VERDICT_COMPLIANT, "%s", r.failed_rule);
    cr_assert_eq(ctca_policy_evaluate(&p, &list, nb, nb + 91 * CTCA_DAY_MS, &s, 1, at, &r),
                 CTCA_OK);
    cr_expect_eq(r.verdict, CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_assert_eq(ctca_policy_evaluate(&p, &list, nb, nb + 90 * CTCA_DAY_MS, &s, 1,
                                      1030 * CTCA_DAY_MS, &r),
                 CTCA_OK);
    cr_expect_eq(r.verdict, CTCA_VERDICT_NOT_TIMELY);
}

Test(policy_file, errors_name_the_field)
{
    static const struct {
        const char *json, *expect;
    } cases[] = {
        {"{\"min_operators\":1,\"counted_states\":[\"usable\"]}", "lifetime_bands: missing"},
        {"{\"lifetime_bands\":[],\"min_operators\":1,\"counted_states\":[\"usable\"]}",
         "lifetime_bands: expected an array"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1},{\"max_days\":200,\"scts\":\"3\"}],"
         "\"min_operators\":1,\"counted_states\":[\"usable\"]}",
         "lifetime_bands[1].scts: expected an integer"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1,\"extra\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"]}",
         "lifetime_bands[0].extra: unknown field"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1},{\"max_days\":90,\"scts\":2}],"
         "\"min_operators\":1,\"counted_states\":[\"usable\"]}",
         "lifetime_bands[1].max_days: bands must be in increasing order"},
        {"{\"lifetime_bands\":[{\"max_days\":90.5,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"]}",
         "lifetime_bands[0].max_days: expected an integer"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"counted_states\":[\"usable\"]}",
         "min_operators: missing"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":0,"
         "\"counted_states\":[\"usable\"]}",
         "min_operators: expected an integer in 1..64"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\",\"live\"]}",
         "counted_states[1]: expected one of"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"],\"tls\":{\"scts\":2}}",
         "tls.min_operators: missing"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"],\"retired_judged_by\":\"latest\"}",
         "retired_judged_by: expected"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"],\"require_rfc6962\":1}",
         "require_rfc6962: expected true or false"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"],\"polcy\":1}",
         "polcy: unknown field"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"],\"tls\":{\"scts\":2,\"min_operators\":2,"
         "\"pool_embedded\":1}}",
         "tls.pool_embedded: expected true or false"},
        {"[1,2]", "top level: expected a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_policy p;
        ctca_errbuf eb = {{0}};
        cr_expect_eq(ctca_policy_parse(cases[i].json, strlen(cases[i].json), &p, &eb),
                     CTCA_ERR_CONFIG, "case %zu", i);
        cr_expect(strstr(eb.msg, cases[i].expect) != NULL, "case %zu: '%s' lacks '%s'", i,
                  eb.msg, cases[i].expect);
    }
}

Test(policy_file, not_json_is_a_json_error)
{
    ctca_policy p;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_policy_parse("{\"lifetime_bands\":", 18, &p, &eb), CTCA_ERR_JSON);
}

Test(policy_file, builtin_names_and_ten_megabytes_of_junk)
{
    ctca_policy p;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_policy_load("chrome", &p, &eb), CTCA_OK);
    cr_expect_eq(p.max_list_age_ms, 70 * CTCA_DAY_MS);
    cr_expect_eq(ctca_policy_load("apple", &p, &eb), CTCA_OK);
    cr_expect(p.require_rfc6962);

    char *dir = th_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/junk.json", dir);
    size_t len = 10 * 1024 * 1024;
    char *junk = malloc(len);
    cr_assert_not_null(junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = (char)('!' + i % 90);
    th_write_file(path, junk, len);
    free(junk);
    cr_expect_neq(ctca_policy_load(path, &p, &eb), CTCA_OK);
    cr_expect(strstr(eb.msg, path) != NULL, "%s", eb.msg);
    th_rmdir(dir);
    free(dir);
}

Test(policy_file, duplicate_keys_are_refused_naming_the_field)
{
    static const struct {
        const char *json, *expect;
    } cases[] = {
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1}],\"min_operators\":1,"
         "\"min_operators\":3,\"counted_states\":[\"usable\"]}",
         "min_operators: duplicate key"},
        {"{\"lifetime_bands\":[{\"max_days\":90,\"scts\":1,\"scts\":5}],\"min_operators\":1,"
         "\"counted_states\":[\"usable\"]}",
         "lifetime_bands[0].scts: duplicate key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_policy p;
        ctca_errbuf eb = {{0}};
        cr_expect_eq(ctca_policy_parse(cases[i].json, strlen(cases[i].json), &p, &eb),
                     CTCA_ERR_CONFIG, "case %zu", i);
        cr_expect_str_eq(eb.msg, cases[i].expect, "case %zu", i);
    }
}

Test(policy_file, huge_numbers_are_range_errors_not_undefined_casts)
{
    /* Issue 12 (Low): 1e300 was cast to long long before the range check. */
    static const char *const nums[] = {"1e300", "-1e300", "1e400", "18446744073709551616",
                                       "9223372036854775807", "90.0"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"lifetime_bands\":[{\"max_days\":%s,\"scts\":1}],\"min_operators\":1,"
                 "\"counted_states\":[\"usable\"]}",
                 nums[i]);
        ctca_policy p;
        ctca_errbuf eb = {{0}};
        cr_expect_eq(ctca_policy_parse(json, strlen(json), &p, &eb), CTCA_ERR_CONFIG, "%s",
                     nums[i]);
        cr_expect(strncmp(eb.msg, "lifetime_bands[0].max_days: ", 28) == 0, "%s: %s", nums[i],
                  eb.msg);
    }
}
