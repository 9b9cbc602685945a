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
    /* The policy text's criteria lists end in a dangling "; and": the rule cut
     * from them is Chrome's since it accepted static-ct-api logs (2025), and
     * Chromium enforces it (DoesNotConformToCTPolicyNoRFC6962Log). */
    out->require_rfc6962 = true;
    out->max_list_age_ms = 70 * CTCA_DAY_MS; /* "CT Enforcement Timeout" */
    out->tls_scts = 2;
    out->tls_min_operators = 2;
    /* Chromium pools the SCTs of every delivery for the TLS criteria, so one
     * embedded SCT and one from OCSP comply together; all must come from logs
     * current at the time of check, as chrome-ct_policy.md requires of them. */
    out->tls_pools_embedded = true;
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

const char *ctca_policy_rule_name(ctca_policy_rule rule)
{
    static const char *const names[] = {
        "none",
        "log_list_age",
        "lifetime",
        "embedded_current_log",
        "embedded_operators",
        "embedded_rfc6962_log",
        "embedded_log_count",
        "embedded_operator_cap",
        "tls_not_accepted",
        "tls_operators",
        "tls_rfc6962_log",
        "tls_log_count",
    };
    return (size_t)rule < sizeof names / sizeof names[0] ? names[rule] : "unknown";
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
    size_t n_tls; /* TLS/OCSP-delivered SCTs added */
} tally;

/* The state a log had at the time of check: a retirement dated after at_ms has
 * not happened yet, so the log still counts as a current one. */
static bool is_current(const ctca_policy *p, const ctca_log_info *log, int64_t at_ms)
{
    if (log->state == CTCA_LOG_STATE_RETIRED && log->state_ms > at_ms)
        return (p->current_states & QUR_STATES) != 0;
    return (p->current_states & CTCA_STATE_BIT(log->state)) != 0;
}

/* Whether an embedded SCT counts. One from a Retired log must predate the
 * retirement (chrome-ct_policy.md, "Important Notes"); Chrome also requires
 * the certificate's issuance, the earliest SCT from a log that is not retired,
 * to predate it, so that a log retired mid-issuance still counts. */
static bool counts(const ctca_policy *p, const ctca_log_info *log, int64_t sct_ms,
                   int64_t issued_ms, int64_t at_ms)
{
    if (is_current(p, log, at_ms))
        return true;
    if ((p->counted_states & CTCA_STATE_BIT(log->state)) == 0)
        return false;
    if (log->state != CTCA_LOG_STATE_RETIRED)
        return true;
    if (sct_ms >= log->state_ms)
        return false;
    return !p->retired_by_earliest || issued_ms < log->state_ms;
}

static void tally_add(tally *t, const ctca_log_info *log, int64_t sct_ms, bool current,
                      bool tls)
{
    t->n_tls += tls;
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
        if (!t->logs[i].log->tiled && t->logs[i].log->ct_version != 2)
            return true;
    return false;
}

static ctca_verdict fail(ctca_policy_result *r, ctca_verdict v, ctca_policy_rule rule,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static ctca_verdict fail(ctca_policy_result *r, ctca_verdict v, ctca_policy_rule rule,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failed_rule, sizeof r->failed_rule, fmt, ap);
    va_end(ap);
    r->verdict = v;
    r->rule = rule;
    return v;
}

static long lifetime_days(int64_t lifetime_ms)
{
    return lifetime_ms <= 0 ? 0 : (long)((lifetime_ms + CTCA_DAY_MS - 1) / CTCA_DAY_MS);
}

/* The embedded criteria, in Chromium's order: a current log, operator
 * diversity, an RFC 6962 log, then the number of logs for the lifetime. t holds
 * the logs whose SCTs count; seen also those of Retired logs that do not.
 * Chromium judges diversity over seen, so a failure there is reported first;
 * chrome-ct_policy.md requires it among the SCTs that count, so it is checked
 * there too once the count is met. band is the lifetime's
 * (ctca_policy_requirement), NULL when it is longer than the policy allows. */
static ctca_verdict judge_embedded(const ctca_policy *p, int64_t lifetime_ms,
                                   const ctca_policy_band *band, const tally *t,
                                   const tally *seen, ctca_policy_result *r)
{
    long days = lifetime_days(lifetime_ms);
    if (band == NULL)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_LIFETIME,
                    "embedded SCTs: a lifetime of %ld days is longer than policy %s allows",
                    days, p->name);
    size_t n_current = 0;
    for (size_t i = 0; i < t->n; i++)
        n_current += t->logs[i].current;
    if (n_current < p->min_current)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_EMBEDDED_CURRENT_LOG,
                    "embedded SCTs: %u needed from logs approved (Qualified, Usable or "
                    "ReadOnly) at the time of check, %zu found",
                    p->min_current, n_current);
    if (t->n == 0)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_EMBEDDED_LOG_COUNT,
                    "embedded SCTs: a lifetime of %ld days needs SCTs from %u distinct logs "
                    "that count, none found",
                    days, band->scts);
    size_t n_ops = count_operators(seen);
    if (n_ops < p->min_operators)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_EMBEDDED_OPERATORS,
                    "embedded SCTs: %u distinct log operators needed, %zu found",
                    p->min_operators, n_ops);
    if (p->require_rfc6962 && !any_rfc6962(t))
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_EMBEDDED_RFC6962_LOG,
                    "embedded SCTs: at least one must come from an RFC 6962 log");
    if (t->n < band->scts)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_EMBEDDED_LOG_COUNT,
                    "embedded SCTs: a lifetime of %ld days needs SCTs from %u distinct logs "
                    "that count, %zu found",
                    days, band->scts, t->n);
    n_ops = count_operators(t);
    if (n_ops < p->min_operators)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_EMBEDDED_OPERATORS,
                    "embedded SCTs: %u distinct log operators needed among the SCTs that "
                    "count, %zu found",
                    p->min_operators, n_ops);
    size_t capped = count_capped(t, band->max_per_operator);
    if (capped < band->scts)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_EMBEDDED_OPERATOR_CAP,
                    "embedded SCTs: a lifetime of %ld days needs %u SCTs counting at most "
                    "%u per log operator, %zu count",
                    days, band->scts, band->max_per_operator, capped);
    r->verdict = CTCA_VERDICT_COMPLIANT;
    return CTCA_VERDICT_COMPLIANT;
}

static ctca_verdict judge_tls(const ctca_policy *p, const tally *t, ctca_policy_result *r)
{
    if (p->tls_scts == 0)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_TLS_NOT_ACCEPTED,
                    "TLS/OCSP SCTs: policy %s accepts embedded SCTs only", p->name);
    size_t n_ops = count_operators(t);
    if (n_ops < p->tls_min_operators)
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_TLS_OPERATORS,
                    "TLS/OCSP SCTs: %u from logs of distinct operators approved (Qualified, "
                    "Usable or ReadOnly) at the time of check needed, %zu operator%s found",
                    p->tls_min_operators, n_ops, n_ops == 1 ? "" : "s");
    if (p->require_rfc6962 && !any_rfc6962(t))
        return fail(r, CTCA_VERDICT_NOT_DIVERSE_SCTS, CTCA_RULE_TLS_RFC6962_LOG,
                    "TLS/OCSP SCTs: at least one must come from an RFC 6962 log");
    if (t->n < p->tls_scts)
        return fail(r, CTCA_VERDICT_NOT_ENOUGH_SCTS, CTCA_RULE_TLS_LOG_COUNT,
                    "TLS/OCSP SCTs: %u needed from distinct logs approved (Qualified, Usable "
                    "or ReadOnly) at the time of check, %zu found",
                    p->tls_scts, t->n);
    r->verdict = CTCA_VERDICT_COMPLIANT;
    return CTCA_VERDICT_COMPLIANT;
}

ctca_err ctca_policy_requirement(const ctca_policy *policy, int64_t not_before_ms,
                                 int64_t not_after_ms, const ctca_log_list *list,
                                 int64_t now_ms, ctca_policy_need *out, ctca_errbuf *eb)
{
    if (out == NULL)
        return CTCA_ERR_INTERNAL;
    memset(out, 0, sizeof *out);
    if (policy == NULL || list == NULL)
        return CTCA_ERR_INTERNAL;
    out->list_age_ms = now_ms - list->timestamp_ms;
    if (policy->max_list_age_ms > 0 && out->list_age_ms >= policy->max_list_age_ms) {
        out->rule = CTCA_RULE_LOG_LIST_AGE;
        return ctca_errbuf_set(eb, CTCA_ERR_POLICY_UNMET,
                               "the log list is %lld days old; policy %s needs one younger "
                               "than %lld days: fetch a fresh list",
                               (long long)(out->list_age_ms / CTCA_DAY_MS), policy->name,
                               (long long)(policy->max_list_age_ms / CTCA_DAY_MS));
    }
    int64_t lifetime = not_after_ms - not_before_ms;
    for (size_t i = 0; i < policy->n_bands && out->band == NULL; i++)
        if (lifetime <= policy->bands[i].max_lifetime_ms)
            out->band = &policy->bands[i];
    if (out->band == NULL) {
        out->rule = CTCA_RULE_LIFETIME;
        return ctca_errbuf_set(eb, CTCA_ERR_POLICY_UNMET,
                               "a lifetime of %lld days is longer than policy %s allows",
                               (long long)((lifetime + CTCA_DAY_MS - 1) / CTCA_DAY_MS),
                               policy->name);
    }
    /* Operator diversity needs an SCT per operator even when the band asks
     * for fewer. */
    out->operators = policy->min_operators;
    out->scts = out->band->scts > policy->min_operators ? out->band->scts : policy->min_operators;
    return CTCA_OK;
}

ctca_err ctca_policy_evaluate(const ctca_policy *policy, const ctca_log_list *list,
                              int64_t not_before_ms, int64_t not_after_ms,
                              const ctca_policy_sct *scts, size_t n, int64_t at_ms,
                              ctca_policy_result *out)
{
    if (policy == NULL || list == NULL || out == NULL || (n > 0 && scts == NULL))
        return CTCA_ERR_INTERNAL;
    memset(out, 0, sizeof *out);
    ctca_policy_need need;
    if (ctca_policy_requirement(policy, not_before_ms, not_after_ms, list, at_ms, &need, NULL) !=
            CTCA_OK &&
        need.rule == CTCA_RULE_LOG_LIST_AGE) {
        fail(out, CTCA_VERDICT_NOT_TIMELY, CTCA_RULE_LOG_LIST_AGE,
             "the log list is %lld days old at the time of check; it must be younger than "
             "%lld days",
             (long long)(need.list_age_ms / CTCA_DAY_MS),
             (long long)(policy->max_list_age_ms / CTCA_DAY_MS));
        return CTCA_OK;
    }

    /* The issuance time Chrome judges retirements by: the earliest SCT, of any
     * delivery, from a log not retired at the time of check. */
    int64_t issued_ms = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const ctca_log_info *log = ctca_log_list_find(list, scts[i].log_id);
        if (log != NULL && is_current(policy, log, at_ms) &&
            (int64_t)scts[i].timestamp_ms < issued_ms)
            issued_ms = (int64_t)scts[i].timestamp_ms;
    }

    tally emb_t, seen_t, tls_t;
    tally *emb = &emb_t, *seen = &seen_t, *tls = &tls_t;
    memset(emb, 0, sizeof *emb);
    memset(seen, 0, sizeof *seen);
    memset(tls, 0, sizeof *tls);
    size_t n_emb = 0;
    for (size_t i = 0; i < n; i++) {
        const ctca_log_info *log = ctca_log_list_find(list, scts[i].log_id);
        int64_t ts = (int64_t)scts[i].timestamp_ms;
        bool embedded = scts[i].delivery == CTCA_SCT_EMBEDDED;
        n_emb += embedded;
        if (log == NULL)
            continue;
        bool current = is_current(policy, log, at_ms);
        if (embedded && counts(policy, log, ts, issued_ms, at_ms))
            tally_add(emb, log, ts, current, false);
        if (embedded && (current || (policy->counted_states & CTCA_STATE_BIT(log->state))))
            tally_add(seen, log, ts, current, false);
        /* TLS and OCSP SCTs can be replaced without reissuing the certificate,
         * so they count only from logs current at the time of check. */
        if (current && (!embedded || policy->tls_pools_embedded))
            tally_add(tls, log, ts, true, !embedded);
    }

    ctca_policy_result re, rt;
    memset(&re, 0, sizeof re);
    memset(&rt, 0, sizeof rt);
    ctca_verdict ve = judge_embedded(policy, not_after_ms - not_before_ms, need.band, emb, seen,
                                     &re);
    ctca_verdict vt = tls->n_tls > 0 ? judge_tls(policy, tls, &rt)
                                     : fail(&rt, CTCA_VERDICT_NOT_ENOUGH_SCTS,
                                            CTCA_RULE_TLS_LOG_COUNT, "no TLS/OCSP SCTs");
    if (ve == CTCA_VERDICT_COMPLIANT || vt == CTCA_VERDICT_COMPLIANT) {
        out->verdict = CTCA_VERDICT_COMPLIANT;
        return CTCA_OK;
    }
    /* As Chromium does, the TLS verdict when TLS/OCSP SCTs from current logs
     * were presented; a policy without TLS criteria says so only when nothing
     * was embedded. */
    bool use_tls = tls->n_tls > 0 && (policy->tls_scts > 0 || n_emb == 0);
    *out = use_tls ? rt : re;
    return CTCA_OK;
}
