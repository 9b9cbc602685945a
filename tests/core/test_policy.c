/* CT policy evaluation: Chrome's and Apple's rules over in-memory log lists,
 * with the time of check pinned. */
#include <criterion/criterion.h>
#include <string.h>

#include "ctca/policy.h"

#define DAY CTCA_DAY_MS
#define T0 ((int64_t)1735689600000) /* 2025-01-01T00:00:00Z */
#define AT (T0 + 10 * DAY)

static char *op_names[] = {"A", "B", "C"};
static ctca_log_info logs[6];
static ctca_log_list list;

/* Six logs, usable, RFC 6962: 0 and 1 run by A, 2 and 3 by B, 4 and 5 by C. */
static void setup(void)
{
    memset(logs, 0, sizeof logs);
    for (size_t i = 0; i < 6; i++) {
        logs[i].log_id[0] = (uint8_t)(i + 1);
        logs[i].operator_index = i / 2;
        logs[i].operator_name = op_names[i / 2];
        logs[i].state = CTCA_LOG_STATE_USABLE;
        logs[i].state_ms = T0 - 300 * DAY;
    }
    memset(&list, 0, sizeof list);
    list.timestamp_ms = T0;
    list.operators = op_names;
    list.n_operators = 3;
    list.logs = logs;
    list.n_logs = 6;
}

static ctca_policy_sct sct(size_t log, int64_t ts, ctca_sct_delivery d)
{
    ctca_policy_sct s;
    memset(&s, 0, sizeof s);
    s.log_id[0] = (uint8_t)(log + 1);
    s.timestamp_ms = (uint64_t)ts;
    s.delivery = d;
    return s;
}

static ctca_verdict judge(const char *policy, int64_t lifetime_ms, const ctca_policy_sct *scts,
                          size_t n, int64_t at_ms, ctca_policy_result *r)
{
    ctca_policy p;
    if (strcmp(policy, "chrome") == 0)
        ctca_policy_chrome(&p);
    else
        ctca_policy_apple(&p);
    cr_assert_eq(ctca_policy_evaluate(&p, &list, T0, T0 + lifetime_ms, scts, n, at_ms, r),
                 CTCA_OK);
    return r->verdict;
}

/* SCTs from logs idx[0..n) at T0 + 1 day, embedded. */
static ctca_verdict judge_logs(const char *policy, int64_t lifetime_ms, const size_t *idx,
                               size_t n, ctca_policy_result *r)
{
    ctca_policy_sct s[8];
    memset(s, 0, sizeof s);
    for (size_t i = 0; i < n; i++)
        s[i] = sct(idx[i], T0 + DAY, CTCA_SCT_EMBEDDED);
    return judge(policy, lifetime_ms, s, n, AT, r);
}

TestSuite(policy, .init = setup);

static void lifetime_table(const char *policy)
{
    ctca_policy_result r;
    const size_t two[] = {0, 2}, three[] = {0, 1, 2};
    cr_expect_eq(judge_logs(policy, 179 * DAY, two, 2, &r), CTCA_VERDICT_COMPLIANT, "%s 179 d",
                 policy);
    cr_expect_eq(judge_logs(policy, 180 * DAY, two, 2, &r), CTCA_VERDICT_COMPLIANT, "%s 180 d",
                 policy);
    cr_expect_eq(judge_logs(policy, 180 * DAY + 1000, two, 2, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS,
                 "%s 180 d + 1 s with 2", policy);
    cr_expect_eq(judge_logs(policy, 180 * DAY + 1000, three, 3, &r), CTCA_VERDICT_COMPLIANT,
                 "%s 180 d + 1 s with 3: %s", policy, r.failed_rule);
    cr_expect_eq(judge_logs(policy, 365 * DAY, two, 2, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS,
                 "%s 1 year with 2", policy);
    cr_expect_eq(judge_logs(policy, 365 * DAY, three, 3, &r), CTCA_VERDICT_COMPLIANT,
                 "%s 1 year with 3", policy);
}

Test(policy, chrome_lifetime_table_179_180_180plus1s_1year) { lifetime_table("chrome"); }
Test(policy, apple_lifetime_table_179_180_180plus1s_1year) { lifetime_table("apple"); }

Test(policy, apple_beyond_398_days_never_complies)
{
    ctca_policy_result r;
    const size_t four[] = {0, 2, 4, 1};
    cr_expect_eq(judge_logs("apple", 398 * DAY, four, 3, &r), CTCA_VERDICT_COMPLIANT);
    cr_expect_eq(judge_logs("apple", 398 * DAY + 1000, four, 4, &r),
                 CTCA_VERDICT_NOT_ENOUGH_SCTS);
}

Test(policy, same_operator_is_not_diverse_different_operators_comply)
{
    ctca_policy_result r;
    const size_t same[] = {0, 1}, diff[] = {0, 2};
    cr_expect_eq(judge_logs("chrome", 90 * DAY, same, 2, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect(strstr(r.failed_rule, "operators") != NULL, "rule: %s", r.failed_rule);
    cr_expect_eq(judge_logs("chrome", 90 * DAY, diff, 2, &r), CTCA_VERDICT_COMPLIANT);
    cr_expect_eq(judge_logs("apple", 90 * DAY, same, 2, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect_eq(judge_logs("apple", 90 * DAY, diff, 2, &r), CTCA_VERDICT_COMPLIANT);
}

Test(policy, apple_counts_at_most_two_per_operator_above_180_days)
{
    ctca_policy_result r;
    const size_t aab[] = {0, 1, 2};
    ctca_log_info *l = &logs[2];
    l->operator_name = "A"; /* all three now A's */
    cr_expect_eq(judge_logs("apple", 365 * DAY, aab, 3, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    l->operator_name = "B";
    cr_expect_eq(judge_logs("apple", 365 * DAY, aab, 3, &r), CTCA_VERDICT_COMPLIANT);
}

Test(policy, operator_switch_uses_operator_at_sct_time_positive_and_negative)
{
    /* Log 1 (now A's) was B's until T0 + 5 days. */
    ctca_prev_operator prev[] = {{"B", T0 + 5 * DAY}};
    logs[1].previous_operators = prev;
    logs[1].n_previous_operators = 1;
    ctca_policy_result r;
    ctca_policy_sct before[] = {sct(0, T0 + DAY, 0), sct(1, T0 + 5 * DAY - 1, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, before, 2, AT, &r), CTCA_VERDICT_COMPLIANT,
                 "%s", r.failed_rule);
    ctca_policy_sct after[] = {sct(0, T0 + DAY, 0), sct(1, T0 + 5 * DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, after, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
}

Test(policy, multiple_operator_switches_pick_the_earliest_end_after_the_sct)
{
    ctca_prev_operator prev[] = {{"C", T0 + 9 * DAY}, {"B", T0 + 3 * DAY}};
    logs[1].previous_operators = prev;
    logs[1].n_previous_operators = 2;
    cr_expect_str_eq(ctca_log_operator_at(&logs[1], T0), "B");
    cr_expect_str_eq(ctca_log_operator_at(&logs[1], T0 + 3 * DAY), "C");
    cr_expect_str_eq(ctca_log_operator_at(&logs[1], T0 + 9 * DAY), "A");
}

Test(policy, retired_log_counts_only_for_scts_before_retirement)
{
    logs[2].state = CTCA_LOG_STATE_RETIRED;
    logs[2].state_ms = T0 + 2 * DAY;
    ctca_policy_result r;
    ctca_policy_sct before[] = {sct(0, T0 + DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, before, 2, AT, &r), CTCA_VERDICT_COMPLIANT);
    ctca_policy_sct after[] = {sct(0, T0 + 3 * DAY, 0), sct(2, T0 + 3 * DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, after, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
}

Test(policy, retired_sct_after_retirement_never_counts_even_with_earlier_issuance)
{
    /* Chromium's DoesNotConformWithDisqualifiedLogAfterDisqualificationDate:
     * issued (earliest SCT) before the retirement, this SCT after it. */
    logs[2].state = CTCA_LOG_STATE_RETIRED;
    logs[2].state_ms = T0 + 2 * DAY;
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(2, T0 + 3 * DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_LOG_COUNT, "%s", r.failed_rule);
    cr_expect_eq(judge("apple", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
}

Test(policy, chrome_needs_issuance_before_retirement_apple_only_the_sct)
{
    /* The retired log's SCT predates its retirement, but the certificate was
     * issued (earliest SCT from a current log) after it. */
    logs[2].state = CTCA_LOG_STATE_RETIRED;
    logs[2].state_ms = T0 + 2 * DAY;
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + 3 * DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_expect_eq(judge("apple", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_COMPLIANT, "%s",
                 r.failed_rule);
}

Test(policy, retirement_after_time_of_check_has_not_happened)
{
    /* Both logs retired, one only after the time of check: it is still
     * approved then, so the "one current log" rule holds. */
    logs[0].state = logs[2].state = CTCA_LOG_STATE_RETIRED;
    logs[0].state_ms = T0 + 2 * DAY;
    logs[2].state_ms = AT + DAY;
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_COMPLIANT);
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, AT + 2 * DAY, &r),
                 CTCA_VERDICT_NOT_ENOUGH_SCTS, "no current log once both are retired");
    cr_expect(strstr(r.failed_rule, "at the time of check") != NULL, "%s", r.failed_rule);
    cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_CURRENT_LOG);
    cr_expect_str_eq(ctca_policy_rule_name(r.rule), "embedded_current_log");
}

Test(policy, pending_and_rejected_logs_never_count)
{
    logs[2].state = CTCA_LOG_STATE_PENDING;
    logs[4].state = CTCA_LOG_STATE_REJECTED;
    ctca_policy_result r;
    const size_t idx[] = {0, 2, 4};
    /* One SCT counts: as in Chromium, a lone SCT fails operator diversity. */
    cr_expect_eq(judge_logs("chrome", 90 * DAY, idx, 3, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect(strstr(r.failed_rule, "1 found") != NULL, "%s", r.failed_rule);
    cr_expect_eq(judge_logs("apple", 90 * DAY, idx, 3, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
}

Test(policy, duplicate_scts_from_one_log_count_once)
{
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(0, T0 + 2 * DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 365 * DAY, s, 3, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_expect(strstr(r.failed_rule, "3 distinct logs") != NULL, "%s", r.failed_rule);
}

Test(policy, unknown_logs_do_not_count)
{
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(40, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    ctca_policy_sct none[] = {sct(40, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, none, 1, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
}

Test(policy, log_list_70_days_old_is_not_timely)
{
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, T0 + 70 * DAY - 1, &r),
                 CTCA_VERDICT_COMPLIANT);
    cr_expect_eq(judge("chrome", 90 * DAY, s, 2, T0 + 70 * DAY, &r), CTCA_VERDICT_NOT_TIMELY);
    cr_expect(strstr(r.failed_rule, "70 days") != NULL, "%s", r.failed_rule);
    cr_expect_str_eq(ctca_verdict_name(r.verdict), "not_timely");
}

Test(policy, tls_scts_need_two_current_logs_of_distinct_operators)
{
    ctca_policy_result r;
    ctca_policy_sct ok[] = {sct(0, T0 + DAY, CTCA_SCT_TLS), sct(2, T0 + DAY, CTCA_SCT_TLS)};
    cr_expect_eq(judge("chrome", 365 * DAY, ok, 2, AT, &r), CTCA_VERDICT_COMPLIANT);
    ctca_policy_sct pooled[] = {sct(0, T0 + DAY, CTCA_SCT_TLS), sct(2, T0 + DAY, CTCA_SCT_OCSP)};
    cr_expect_eq(judge("chrome", 365 * DAY, pooled, 2, AT, &r), CTCA_VERDICT_COMPLIANT);
    ctca_policy_sct same[] = {sct(0, T0 + DAY, CTCA_SCT_TLS), sct(1, T0 + DAY, CTCA_SCT_TLS)};
    cr_expect_eq(judge("chrome", 365 * DAY, same, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect(strstr(r.failed_rule, "TLS") != NULL, "%s", r.failed_rule);
    cr_expect_eq(r.rule, CTCA_RULE_TLS_OPERATORS);
    logs[2].state = CTCA_LOG_STATE_RETIRED; /* retired later than the SCTs: still no */
    logs[2].state_ms = T0 + 2 * DAY;
    cr_expect_eq(judge("chrome", 365 * DAY, ok, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
}

Test(policy, chrome_pools_embedded_with_tls_and_ocsp_apple_does_not)
{
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, CTCA_SCT_EMBEDDED), sct(2, T0 + DAY, CTCA_SCT_OCSP)};
    cr_expect_eq(judge("chrome", 365 * DAY, s, 2, AT, &r), CTCA_VERDICT_COMPLIANT, "%s",
                 r.failed_rule);
    cr_expect_eq(judge("apple", 365 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect_eq(r.rule, CTCA_RULE_TLS_OPERATORS, "%s", r.failed_rule);
    /* Only from logs current at the time of check. */
    logs[0].state = CTCA_LOG_STATE_RETIRED;
    logs[0].state_ms = T0 + 2 * DAY;
    cr_expect_eq(judge("chrome", 365 * DAY, s, 2, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    /* Embedded SCTs alone never use the TLS criteria. */
    logs[0].state = CTCA_LOG_STATE_USABLE;
    ctca_policy_sct emb[] = {sct(0, T0 + DAY, 0), sct(2, T0 + DAY, 0)};
    cr_expect_eq(judge("chrome", 365 * DAY, emb, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_LOG_COUNT);
}

Test(policy, rules_in_chromium_order_current_operators_then_count)
{
    ctca_policy_result r;
    const size_t one[] = {0}, same[] = {0, 1};
    cr_expect_eq(judge_logs("chrome", 365 * DAY, NULL, 0, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_CURRENT_LOG);
    cr_expect_eq(judge_logs("chrome", 365 * DAY, one, 1, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_OPERATORS);
    cr_expect_eq(judge_logs("chrome", 365 * DAY, same, 2, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect_str_eq(ctca_policy_rule_name(r.rule), "embedded_operators");
}

Test(policy, retired_scts_that_do_not_count_still_show_diversity_first)
{
    /* Chromium reports "not enough" when a retired log's late SCT brings the
     * second operator; among the SCTs that count one operator is still not
     * enough for chrome-ct_policy.md once the count is met. */
    logs[4].state = CTCA_LOG_STATE_RETIRED;
    logs[4].state_ms = T0 + 2 * DAY;
    ctca_policy_result r;
    ctca_policy_sct two[] = {sct(0, T0 + DAY, 0), sct(4, T0 + 3 * DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, two, 2, AT, &r), CTCA_VERDICT_NOT_ENOUGH_SCTS);
    ctca_policy_sct three[] = {sct(0, T0 + DAY, 0), sct(1, T0 + DAY, 0), sct(4, T0 + 3 * DAY, 0)};
    cr_expect_eq(judge("chrome", 90 * DAY, three, 3, AT, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS);
    cr_expect(strstr(r.failed_rule, "among the SCTs that count") != NULL, "%s", r.failed_rule);
}

Test(policy, negative_lifetime_falls_in_the_first_band)
{
    ctca_policy p;
    ctca_policy_chrome(&p);
    ctca_policy_result r;
    ctca_policy_sct s[] = {sct(0, T0 + DAY, 0), sct(2, T0 + DAY, 0)};
    cr_assert_eq(ctca_policy_evaluate(&p, &list, T0, T0 - 365 * DAY, s, 2, AT, &r), CTCA_OK);
    cr_expect_eq(r.verdict, CTCA_VERDICT_COMPLIANT, "%s", r.failed_rule);
}

Test(policy, apple_and_chrome_need_an_rfc6962_log)
{
    logs[0].tiled = logs[2].tiled = true;
    ctca_policy_result r;
    const size_t idx[] = {0, 2};
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "chrome" : "apple";
        cr_expect_eq(judge_logs(name, 90 * DAY, idx, 2, &r), CTCA_VERDICT_NOT_DIVERSE_SCTS,
                     "%s", name);
        cr_expect(strstr(r.failed_rule, "RFC 6962") != NULL, "%s", r.failed_rule);
        cr_expect_eq(r.rule, CTCA_RULE_EMBEDDED_RFC6962_LOG);
    }
    logs[2].tiled = false;
    cr_expect_eq(judge_logs("chrome", 90 * DAY, idx, 2, &r), CTCA_VERDICT_COMPLIANT, "%s",
                 r.failed_rule);
}

/* ---- ctca_policy_requirement: how many SCTs from whom ----------------------- */

static ctca_err need_of(const ctca_policy *p, int64_t lifetime_ms, int64_t at_ms,
                        ctca_policy_need *n, ctca_errbuf *eb)
{
    return ctca_policy_requirement(p, T0, T0 + lifetime_ms, &list, at_ms, n, eb);
}

Test(policy, requirement_follows_the_lifetime_bands)
{
    ctca_policy chrome, apple;
    ctca_policy_chrome(&chrome);
    ctca_policy_apple(&apple);
    ctca_policy_need n;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(need_of(&chrome, 180 * DAY, AT, &n, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(n.scts, 2);
    cr_expect_eq(n.operators, 2);
    cr_expect_eq(n.band, &chrome.bands[0]);
    cr_expect_eq(n.rule, CTCA_RULE_NONE);
    cr_assert_eq(need_of(&chrome, 180 * DAY + 1000, AT, &n, &eb), CTCA_OK);
    cr_expect_eq(n.scts, 3);
    cr_expect_eq(n.band, &chrome.bands[1]);
    cr_assert_eq(need_of(&apple, 398 * DAY, AT, &n, &eb), CTCA_OK);
    cr_expect_eq(n.scts, 3);
    cr_expect_eq(n.band->max_per_operator, 2);
    cr_assert_eq(need_of(&apple, -DAY, AT, &n, &eb), CTCA_OK, "a negative lifetime: first band");
    cr_expect_eq(n.band, &apple.bands[0]);
}

Test(policy, requirement_asks_an_sct_per_operator_when_the_band_asks_fewer)
{
    ctca_policy p;
    ctca_policy_chrome(&p);
    p.bands[0].scts = 1;
    p.min_operators = 3;
    ctca_policy_need n;
    cr_assert_eq(need_of(&p, 90 * DAY, AT, &n, NULL), CTCA_OK);
    cr_expect_eq(n.scts, 3);
    cr_expect_eq(n.operators, 3);
    cr_expect_eq(n.band->scts, 1, "the band itself is unchanged");
}

Test(policy, requirement_refuses_a_lifetime_beyond_the_last_band)
{
    ctca_policy p;
    ctca_policy_apple(&p);
    ctca_policy_need n;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(need_of(&p, 398 * DAY + 1000, AT, &n, &eb), CTCA_ERR_POLICY_UNMET);
    cr_expect_eq(n.rule, CTCA_RULE_LIFETIME);
    cr_expect_null(n.band);
    cr_expect_str_eq(eb.msg, "a lifetime of 399 days is longer than policy apple allows");
}

Test(policy, requirement_refuses_a_log_list_as_old_as_the_policy_allows)
{
    ctca_policy p;
    ctca_policy_chrome(&p);
    ctca_policy_need n;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(need_of(&p, 90 * DAY, T0 + 70 * DAY - 1, &n, &eb), CTCA_OK);
    cr_assert_eq(need_of(&p, 90 * DAY, T0 + 70 * DAY, &n, &eb), CTCA_ERR_POLICY_UNMET);
    cr_expect_eq(n.rule, CTCA_RULE_LOG_LIST_AGE);
    cr_expect_eq(n.list_age_ms, 70 * DAY);
    cr_expect_str_eq(eb.msg, "the log list is 70 days old; policy chrome needs one younger "
                             "than 70 days: fetch a fresh list");
    /* The age is checked first: a lifetime too long too still names the list. */
    cr_assert_eq(need_of(&p, 4000 * DAY, T0 + 71 * DAY, &n, &eb), CTCA_ERR_POLICY_UNMET);
    cr_expect_eq(n.rule, CTCA_RULE_LOG_LIST_AGE);
    /* Apple's policy has no age check. */
    ctca_policy_apple(&p);
    cr_expect_eq(need_of(&p, 90 * DAY, T0 + 4000 * DAY, &n, &eb), CTCA_OK);
}

Test(policy, requirement_and_evaluation_agree_on_the_count)
{
    /* The evaluator complies with exactly the SCTs the requirement asks for,
     * one per operator first. */
    ctca_policy p;
    ctca_policy_chrome(&p);
    const int64_t lifetimes[] = {90 * DAY, 180 * DAY, 181 * DAY, 398 * DAY};
    for (size_t k = 0; k < sizeof lifetimes / sizeof lifetimes[0]; k++) {
        ctca_policy_need n;
        cr_assert_eq(need_of(&p, lifetimes[k], AT, &n, NULL), CTCA_OK);
        const size_t spread[] = {0, 2, 4};
        ctca_policy_result r;
        cr_expect_eq(judge_logs("chrome", lifetimes[k], spread, n.scts, &r),
                     CTCA_VERDICT_COMPLIANT, "%zu: %s", k, r.failed_rule);
        cr_expect_neq(judge_logs("chrome", lifetimes[k], spread, n.scts - 1, &r),
                      CTCA_VERDICT_COMPLIANT, "%zu", k);
    }
}

Test(policy, requirement_bad_arguments_are_internal)
{
    ctca_policy p;
    ctca_policy_chrome(&p);
    ctca_policy_need n;
    cr_expect_eq(ctca_policy_requirement(NULL, T0, T0 + DAY, &list, AT, &n, NULL),
                 CTCA_ERR_INTERNAL);
    cr_expect_eq(ctca_policy_requirement(&p, T0, T0 + DAY, NULL, AT, &n, NULL), CTCA_ERR_INTERNAL);
    cr_expect_eq(ctca_policy_requirement(&p, T0, T0 + DAY, &list, AT, NULL, NULL),
                 CTCA_ERR_INTERNAL);
}
