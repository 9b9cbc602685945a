/* Log selection (core/engine/selection.c) over candidate arrays built by
 * hand: one log per operator first, then a second pass; which logs a
 * fallback queues, spread across operators, never one with an SCT, an
 * excluded one or one already picked; and how many are wanted. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/engine/selection_int.h"

/* Six logs in selection order: operators 0, 1, 2, 0, 1, 2 (log i has ID
 * byte i + 1). */
static ctca_log_info logs[6];
static ctca_candidate c[6];

static void setup(void)
{
    memset(logs, 0, sizeof logs);
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < 6; i++) {
        logs[i].log_id[0] = (uint8_t)(i + 1);
        logs[i].operator_index = i % 3;
        c[i].log = &logs[i];
    }
}

TestSuite(selection, .init = setup);

/* Starts candidates as ctca_selection_next picks them, k times; the order. */
static size_t start(size_t k, size_t *order)
{
    size_t n = 0, i;
    while (n < k && ctca_selection_next(c, 6, &i)) {
        cr_assert_eq(c[i].state, CTCA_CAND_UNTRIED);
        c[i].state = CTCA_CAND_IN_FLIGHT;
        order[n++] = i;
    }
    return n;
}

Test(selection, next_spreads_across_operators_then_takes_a_second_pass)
{
    size_t order[6];
    cr_assert_eq(start(6, order), 6);
    const size_t want[] = {0, 1, 2, 3, 4, 5};
    cr_expect_arr_eq(order, want, sizeof want);
    size_t i;
    cr_expect_not(ctca_selection_next(c, 6, &i), "none untried");
}

Test(selection, next_prefers_operators_without_an_sct_or_a_submission)
{
    c[0].state = CTCA_CAND_OK;        /* operator 0 has an SCT */
    c[1].state = CTCA_CAND_IN_FLIGHT; /* operator 1 is being asked */
    size_t i;
    cr_assert(ctca_selection_next(c, 6, &i));
    cr_expect_eq(i, 2);
    c[2].state = CTCA_CAND_IN_FLIGHT;
    /* Every operator is covered: the second pass takes the next untried. */
    cr_assert(ctca_selection_next(c, 6, &i));
    cr_expect_eq(i, 3);
}

Test(selection, next_treats_a_failed_log_as_leaving_its_operator_free)
{
    c[0].state = CTCA_CAND_FAILED;
    c[1].state = CTCA_CAND_OK;
    c[2].state = CTCA_CAND_IN_FLIGHT;
    size_t i;
    cr_assert(ctca_selection_next(c, 6, &i));
    cr_expect_eq(i, 3, "operator 0's other log, before operator 1's and 2's");
}

Test(selection, next_on_no_candidates_is_false)
{
    size_t i = 99;
    cr_expect_not(ctca_selection_next(c, 0, &i));
    cr_expect_eq(i, 99);
}

static size_t ids_of(const uint8_t *out, size_t n, size_t *idx)
{
    for (size_t k = 0; k < n; k++)
        idx[k] = (size_t)out[k * CTCA_LOG_ID_LEN] - 1;
    return n;
}

Test(selection, pick_spreads_across_operators_first)
{
    uint8_t out[6 * CTCA_LOG_ID_LEN];
    size_t idx[6];
    size_t n = ctca_selection_pick(c, 6, false, NULL, 0, 4, out);
    cr_assert_eq(n, 4);
    ids_of(out, n, idx);
    const size_t want[] = {0, 1, 2, 3};
    cr_expect_arr_eq(idx, want, sizeof want);
}

Test(selection, pick_skips_logs_and_operators_with_an_sct_on_the_first_pass)
{
    c[0].state = CTCA_CAND_OK;
    uint8_t out[6 * CTCA_LOG_ID_LEN];
    size_t idx[6];
    size_t n = ctca_selection_pick(c, 6, true, NULL, 0, 3, out);
    cr_assert_eq(n, 3);
    ids_of(out, n, idx);
    /* Operators 1 and 2 first; then operator 0's other log (3), never 0. */
    const size_t want[] = {1, 2, 3};
    cr_expect_arr_eq(idx, want, sizeof want);
    /* Without skip_with_sct the log with an SCT is a candidate like any. */
    n = ctca_selection_pick(c, 6, false, NULL, 0, 1, out);
    cr_assert_eq(n, 1);
    cr_expect_eq(out[0], 1);
}

Test(selection, pick_never_takes_an_excluded_log_or_one_twice)
{
    uint8_t exclude[2 * CTCA_LOG_ID_LEN] = {0};
    exclude[0] = 2;                   /* log 1 */
    exclude[CTCA_LOG_ID_LEN] = 3;     /* log 2 */
    uint8_t out[6 * CTCA_LOG_ID_LEN];
    size_t idx[6];
    size_t n = ctca_selection_pick(c, 6, true, exclude, 2, 6, out);
    cr_assert_eq(n, 4, "six less two excluded");
    ids_of(out, n, idx);
    /* An excluded log does not cover its operator: 4 and 5 come before 3. */
    const size_t want[] = {0, 4, 5, 3};
    cr_expect_arr_eq(idx, want, sizeof want);
}

Test(selection, pick_with_every_log_spent_picks_nothing)
{
    for (size_t i = 0; i < 6; i++)
        c[i].state = i % 2 ? CTCA_CAND_OK : CTCA_CAND_FAILED;
    uint8_t exclude[3 * CTCA_LOG_ID_LEN] = {0};
    for (size_t k = 0; k < 3; k++)
        exclude[k * CTCA_LOG_ID_LEN] = (uint8_t)(2 * k + 1); /* logs 0, 2, 4 */
    uint8_t out[6 * CTCA_LOG_ID_LEN];
    cr_expect_eq(ctca_selection_pick(c, 6, true, exclude, 3, 6, out), 0);
    cr_expect_eq(ctca_selection_pick(c, 6, false, NULL, 0, 0, out), 0, "want 0");
}

Test(selection, wanted_is_what_is_still_needed_plus_one_and_at_least_one)
{
    cr_expect_eq(ctca_selection_wanted(2, 0), 3);
    cr_expect_eq(ctca_selection_wanted(2, 1), 2);
    cr_expect_eq(ctca_selection_wanted(2, 2), 1);
    cr_expect_eq(ctca_selection_wanted(2, 3), 1);
    cr_expect_eq(ctca_selection_wanted(3, 7), 1);
    cr_expect_eq(ctca_selection_wanted(0, 0), 1);
}

Test(selection, spares_are_none_once_active_items_make_the_first_wave)
{
    cr_expect_eq(ctca_selection_spares(2, 0, 0), 3, "nothing queued: a first wave");
    cr_expect_eq(ctca_selection_spares(2, 1, 1), 1, "one short of needed plus one");
    cr_expect_eq(ctca_selection_spares(2, 1, 2), 0);
    cr_expect_eq(ctca_selection_spares(2, 0, 3), 0);
    /* With nothing active, SCTs alone never stop a spare: at least one. */
    cr_expect_eq(ctca_selection_spares(2, 3, 0), 1);
}
