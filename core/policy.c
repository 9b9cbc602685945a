/* CT policy evaluation (ctca/policy.h): the built-in Chrome and Apple policies
 * as data, and one evaluator for every policy. */
#include "ctca/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define QUR_STATES                                                                      \
    (CTCA_STATE_BIT(CTCA_LOG_STATE_QUALIFIED) | CTCA_STATE_BIT(CTCA_LOG_STATE_USABLE) | \
     CTCA_STATE_BIT(CTCA_LOG_STATE_READONLY))

void ctca_policy_chrome(ctca_policy *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "chrome");
    /* chrome-ct_policy.md, "CT Compliant Certificates": <= 180 days: 2, > 180: 3. */
    out->bands[0] = (ctca_policy_band){180 * CTCA_DAY_MS, 2, 0};
    out->bands[1] = (ctca_policy_band){INT64_MAX, 3, 0};
    out->n_bands = 2;
    out->counted_states = QUR_STATES | CTCA_STATE_BIT(CTCA_LOG_STATE_RETIRED);
    out->current_states = QUR_STATES;
    out->min_current = 1;
    out->min_operators = 2;
    out->retired_by_earliest = true;
    out->max_list_age_ms = 70 * CTCA_DAY_MS; /* "CT Enforcement Timeout" */
    out->tls_scts = 2;
    out->tls_min_operators = 2;
}

void ctca_policy_apple(ctca_policy *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "apple");
    /* Apple counts whole days rounding up, so "<= 180 days" is a lifetime of at
     * most 180 * 86,400 s, and 181-398 days at most 398 * 86,400 s. */
    out->bands[0] = (ctca_policy_band){180 * CTCA_DAY_MS, 2, 1};
    out->bands[1] = (ctca_policy_band){398 * CTCA_DAY_MS, 3, 2};
    out->n_bands = 2;
    out->counted_states = QUR_STATES | CTCA_STATE_BIT(CTCA_LOG_STATE_RETIRED);
    out->current_states = QUR_STATES;
    out->min_current = 1;
    out->min_operators = 2;
    out->retired_by_earliest = false;
    out->require_rfc6962 = true;
    out->tls_scts = 2;
    out->tls_min_operators = 2;
}

const char *ctca_verdict_name(ctca_verdict verdict)
{
    switch (verdict) {
    case CTCA_VERDICT_COMPLIANT:
        return "compliant";
    case CTCA_VERDICT_NOT_ENOUGH_SCTS:
        return "not_enough_scts";
    case CTCA_VERDICT_NOT_DIVERSE_SCTS:
        return "not_diverse_scts";
    case CTCA_VERDICT_NOT_TIMELY:
        return "not_timely";
    }
    return "unknown";
}

const char *ctca_log_operator_at(const ctca_log_info *log, int64_t time_ms)
{
    /* previous_operators: each ran the log until its end_time; the one with the
     * earliest end_time after the SCT was in charge (chrome-ct_policy.md). */
    const ctca_prev_operator *best = NULL;
    for (size_t i = 0; i < log->n_previous_operators; i++) {
        const ctca_prev_operator *p = &log->previous_operators[i];
        if (time_ms < p->end_ms && (best == NULL || p->end_ms < best->end_ms))
            best = p;
    }
    return best ? best->name : log->operator_name;
}

/* What one distinct log contributes. */
typedef struct counted_log {
    const ctca_log_info *log;
    const char *operator_name; /* at its earliest SCT */
    int64_t earliest_ms;
    bool current;
} counted_log;

typedef struct tally {
    counted_log logs[CTCA_SCT_LIST_MAX * 3];
    size_t n;
} tally;

/* The state a log had at the time of check: a retirement dated after at_ms has
 * not happened yet, so the log still counts as a current one. */
static bool is_current(const ctca_policy *p, const ctca_log_info *log, int64_t at_ms)
{
    if (log->state == CTCA_LOG_STATE_RETIRED && log->state_ms > at_ms)
        return (p->current_states & QUR_STATES) != 0;
    return (p->current_states & CTCA_STATE_BIT(log->state)) != 0;
}

static bool counts(const ctca_policy *p, const ctca_log_info *log, int64_t sct_ms,
                   int64_t earliest_ms, int64_t at_ms)
{
    if (is_current(p, log, at_ms))
        return true;
    if ((p->counted_states & CTCA_STATE_BIT(log->state)) == 0)
        return false;
    if (log->state != CTCA_LOG_STATE_RETIRED)
        return true;
    int64_t ref = p->retired_by_earliest ? earliest_ms : sct_ms;
    return ref < log->state_ms;
}

static void tally_add(tally *t, const ctca_log_info *log, int64_t sct_ms, bool current)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->logs[i].log != log)
            continue;
        if (sct_ms < t->logs[i].earliest_ms) {
            t->logs[i].earliest_ms = sct_ms;
            t->logs[i].operator_name = ctca_log_operator_at(log, sct_ms);
        }
        return;
    }
    if (t->n == sizeof t->logs / sizeof t->logs[0])
        return;
    t->logs[t->n++] = (counted_log){log, ctca_log_operator_at(log, sct_ms), sct_ms, current};
}

static size_t count_operators(const tally *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->logs[j].operator_name, t->logs[i].operator_name) == 0;
        n += !seen;
    }
    return n;
}

/* Distinct logs, at most cap (0: no cap) per operator. */
static size_t count_capped(const tally *t, unsigned cap)
{
    if (cap == 0)
        return t->n;
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->logs[j].operator_name, t->logs[i].operator_name) == 0;
        if (seen)
            continue;
        size_t k = 0;
        for (size_t j = i; j < t->n; j++)
            k += strcmp(t->logs[j].operator_name, t->logs[i].operator_name) == 0;
        total += k < cap ? k : cap;
    }
    return total;
}

static bool any_rfc6962(const tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->logs[i].log->tiled)
            return true;
    return false;
}

static ctca_verdict fail(ctca_policy_result *r, ctca_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ctca_verdict fail(ctca_policy_result *r, ctca_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failed_rule, sizeof r->failed_rule, fmt, ap);
    va_end(ap);
    r->verdict = v;
    return v;
}

static ctca_verdict judge_embedded(const ctca_policy *p, const ctca_policy_band *band,
                                   const tally *t, int64_t lifetime_ms, ctca_policy_result *r)
{
    size_t capped = count_capped(t, band->max_per_operator);
    size_t n_current = 0;
    for (size_t i = 0; i < t->n; i++)
        n_current += t->logs[i].current;
    long days = (long)((lifetime_ms + CTCA_DAY_MS - 1) / CTCA_DAY_MS);
    if (capped < band->scts) {
        if (t->n >= band->scts)
            return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS,
                        "embedded SCTs: a lifetime of %ld days needs %u SCTs counting at most "
                        "%u per log operator, %zu count",
                        days, band->scts, band->max_per_operator, capped);
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "embedded SCTs: a lifetime of %ld days needs SCTs from %u distinct logs "
                    "that count, %zu found",
                    days, band->scts, t->n);
    }
    if (n_current < p->min_current)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "embedded SCTs: %u needed from logs approved (Qualified, Usable or "
                    "ReadOnly) at the time of check, %zu found",
                    p->min_current, n_current);
    size_t n_ops = count_operators(t);
    if (n_ops < p->min_operators)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS,
                    "embedded SCTs: %u distinct log operators needed, %zu found",
                    p->min_operators, n_ops);
    if (p->require_rfc6962 && !any_rfc6962(t))
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "embedded SCTs: at least one must come from an RFC 6962 log");
    r->verdict = CTCA_VERDICT_COMPLIANT;
    return CTCA_VERDICT_COMPLIANT;
}

static ctca_verdict judge_tls(const ctca_policy *p, const tally *t, ctca_policy_result *r)
{
    if (p->tls_scts == 0)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "TLS/OCSP SCTs: policy %s accepts embedded SCTs only", p->name);
    if (t->n < p->tls_scts)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "TLS/OCSP SCTs: %u needed from distinct logs approved (Qualified, Usable "
                    "or ReadOnly) at the time of check, %zu found",
                    p->tls_scts, t->n);
    size_t n_ops = count_operators(t);
    if (n_ops < p->tls_min_operators)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS,
                    "TLS/OCSP SCTs: %u distinct log operators needed, %zu found",
                    p->tls_min_operators, n_ops);
    if (p->require_rfc6962 && !any_rfc6962(t))
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                    "TLS/OCSP SCTs: at least one must come from an RFC 6962 log");
    r->verdict = CTCA_VERDICT_COMPLIANT;
    return CTCA_VERDICT_COMPLIANT;
}

ctca_err ctca_policy_evaluate(const ctca_policy *policy, const ctca_log_list *list,
                              int64_t not_before_ms, int64_t not_after_ms,
                              const ctca_policy_sct *scts, size_t n, int64_t at_ms,
                              ctca_policy_result *out)
{
    if (policy == NULL || list == NULL || out == NULL || (n > 0 && scts == NULL) ||
        not_after_ms < not_before_ms)
        return CTCA_ERR_INTERNAL;
    memset(out, 0, sizeof *out);
    if (policy->max_list_age_ms > 0 && at_ms - list->timestamp_ms >= policy->max_list_age_ms) {
        fail(out, CTCA_VERDICT_NOT_TIMELY,
                    "the log list is %lld days old at the time of check; it must be "
                    "younger than %lld days",
                    (long long)((at_ms - list->timestamp_ms) / CTCA_DAY_MS),
                    (long long)(policy->max_list_age_ms / CTCA_DAY_MS));
        return CTCA_OK;
    }

    int64_t lifetime_ms = not_after_ms - not_before_ms;
    const ctca_policy_band *band = NULL;
    for (size_t i = 0; i < policy->n_bands && band == NULL; i++)
        if (lifetime_ms <= policy->bands[i].max_lifetime_ms)
            band = &policy->bands[i];

    /* Chrome judges retirement against the earliest SCT presented, of any
     * delivery, from a log it knows. */
    int64_t earliest_ms = INT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (ctca_log_list_find(list, scts[i].log_id) != NULL &&
            (int64_t)scts[i].timestamp_ms < earliest_ms)
            earliest_ms = (int64_t)scts[i].timestamp_ms;

    tally emb_t, tls_t;
    tally *emb = &emb_t, *tls = &tls_t;
    memset(emb, 0, sizeof *emb);
    memset(tls, 0, sizeof *tls);
    size_t n_emb = 0, n_tls = 0;
    for (size_t i = 0; i < n; i++) {
        const ctca_log_info *log = ctca_log_list_find(list, scts[i].log_id);
        int64_t ts = (int64_t)scts[i].timestamp_ms;
        bool embedded = scts[i].delivery == CTCA_SCT_EMBEDDED;
        n_emb += embedded;
        n_tls += !embedded;
        if (log == NULL)
            continue;
        bool current = is_current(policy, log, at_ms);
        if (embedded && counts(policy, log, ts, earliest_ms, at_ms))
            tally_add(emb, log, ts, current);
        else if (!embedded && current) /* TLS SCTs need a log current at check */
            tally_add(tls, log, ts, true);
    }

    ctca_policy_result re = {0}, rt = {0};
    ctca_verdict ve = CTCA_VERDICT_NOT_ENOUGH_SCTS, vt = CTCA_VERDICT_NOT_ENOUGH_SCTS;
    if (band == NULL)
        ve = fail(&re, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                  "embedded SCTs: a lifetime of %lld days is longer than policy %s allows",
                  (long long)((lifetime_ms + CTCA_DAY_MS - 1) / CTCA_DAY_MS), policy->name);
    else
        ve = judge_embedded(policy, band, emb, lifetime_ms, &re);
    vt = judge_tls(policy, tls, &rt);
    if (ve == CTCA_VERDICT_COMPLIANT || vt == CTCA_VERDICT_COMPLIANT) {
        out->verdict = CTCA_VERDICT_COMPLIANT;
        return CTCA_OK;
    }
    /* Report the delivery that was tried; with both, the nearer miss. */
    bool use_tls = n_emb == 0 && n_tls > 0;
    if (n_emb > 0 && n_tls > 0 && vt == CTCA_VERDICT_NOT_DIVERSE_SCTS &&
        ve != CTCA_VERDICT_NOT_DIVERSE_SCTS)
        use_tls = true;
    *out = use_tls ? rt : re;
    return CTCA_OK;
}
