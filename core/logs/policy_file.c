/* Custom CT policy files (ctca/policy.h, ctca_policy_parse): strict JSON with
 * field paths in every error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/policy.h"
#include "ctca/util.h"

static ctca_err bad(ctca_errbuf *eb, const char *field, const char *why)
{
    return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: %s", field, why);
}

/* Refuses members of obj not in allowed (NULL-terminated); path prefixes them. */
static ctca_err only_known(const cJSON *obj, const char *const *allowed, const char *prefix,
                           ctca_errbuf *eb)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(it->string, allowed[i]) == 0;
        if (!ok)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s%s: unknown field", prefix,
                                   it->string);
    }
    return CTCA_OK;
}

/* An integer member in [lo, hi]; absent: *out = dflt unless required. *out is
 * dflt on failure too, so it is never left unset. */
static ctca_err get_uint(const cJSON *obj, const char *name, const char *field, bool required,
                         unsigned dflt, unsigned lo, unsigned hi, unsigned *out,
                         ctca_errbuf *eb)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = dflt;
    if (it == NULL)
        return required ? bad(eb, field, "missing") : CTCA_OK;
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(long long)it->valuedouble ||
        it->valuedouble < lo || it->valuedouble > hi)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected an integer in %u..%u", field,
                               lo, hi);
    *out = (unsigned)it->valuedouble;
    return CTCA_OK;
}

static ctca_err get_states(const cJSON *obj, const char *name, bool required, unsigned *out,
                           ctca_errbuf *eb)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (arr == NULL)
        return required ? bad(eb, name, "missing") : CTCA_OK;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return bad(eb, name, "expected a non-empty array of log states");
    *out = 0;
    for (int i = 0; i < cJSON_GetArraySize(arr); i++) {
        const cJSON *s = cJSON_GetArrayItem(arr, i);
        bool found = false;
        for (int st = CTCA_LOG_STATE_PENDING; st <= CTCA_LOG_STATE_REJECTED && !found; st++) {
            if (cJSON_IsString(s) && strcmp(s->valuestring, ctca_log_state_name(st)) == 0) {
                *out |= CTCA_STATE_BIT(st);
                found = true;
            }
        }
        if (!found)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                                   "%s[%d]: expected one of pending, qualified, usable, "
                                   "readonly, retired, rejected",
                                   name, i);
    }
    return CTCA_OK;
}

static ctca_err parse_bands(const cJSON *root, ctca_policy *p, ctca_errbuf *eb)
{
    static const char *const band_fields[] = {"max_days", "scts", "max_per_operator", NULL};
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "lifetime_bands");
    if (arr == NULL)
        return bad(eb, "lifetime_bands", "missing");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (n < 1 || n > CTCA_POLICY_MAX_BANDS)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "lifetime_bands: expected an array of 1..%d bands",
                               CTCA_POLICY_MAX_BANDS);
    for (int i = 0; i < n; i++) {
        const cJSON *b = cJSON_GetArrayItem(arr, i);
        char prefix[64], field[96];
        snprintf(prefix, sizeof prefix, "lifetime_bands[%d].", i);
        if (!cJSON_IsObject(b))
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "lifetime_bands[%d]: expected an object",
                                   i);
        CTCA_GUARD(only_known(b, band_fields, prefix, eb));
        unsigned days, scts, cap;
        snprintf(field, sizeof field, "%smax_days", prefix);
        CTCA_GUARD(get_uint(b, "max_days", field, true, 0, 1, 36500, &days, eb));
        snprintf(field, sizeof field, "%sscts", prefix);
        CTCA_GUARD(get_uint(b, "scts", field, true, 0, 1, CTCA_SCT_LIST_MAX, &scts, eb));
        snprintf(field, sizeof field, "%smax_per_operator", prefix);
        CTCA_GUARD(get_uint(b, "max_per_operator", field, false, 0, 0, CTCA_SCT_LIST_MAX, &cap,
                            eb));
        int64_t max_ms = (int64_t)days * CTCA_DAY_MS;
        if (i > 0 && max_ms <= p->bands[i - 1].max_lifetime_ms) {
            snprintf(field, sizeof field, "%smax_days", prefix);
            return bad(eb, field, "bands must be in increasing order of max_days");
        }
        p->bands[i] = (ctca_policy_band){max_ms, scts, cap};
        p->n_bands = (size_t)i + 1;
    }
    return CTCA_OK;
}

static ctca_err parse_root(const cJSON *root, ctca_policy *p, ctca_errbuf *eb)
{
    static const char *const fields[] = {
        "name",        "lifetime_bands",    "min_operators",   "counted_states",
        "current_states", "min_current",    "retired_judged_by", "require_rfc6962",
        "max_log_list_age_days", "tls",     NULL};
    static const char *const tls_fields[] = {"scts", "min_operators", "pool_embedded", NULL};
    if (!cJSON_IsObject(root))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "top level: expected a JSON object");
    CTCA_GUARD(only_known(root, fields, "", eb));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (name != NULL && (!cJSON_IsString(name) || strlen(name->valuestring) == 0 ||
                         strlen(name->valuestring) >= sizeof p->name))
        return bad(eb, "name", "expected a string of 1..63 characters");
    snprintf(p->name, sizeof p->name, "%s", name ? name->valuestring : "custom");
    CTCA_GUARD(parse_bands(root, p, eb));
    CTCA_GUARD(get_uint(root, "min_operators", "min_operators", true, 0, 1, CTCA_SCT_LIST_MAX,
                        &p->min_operators, eb));
    CTCA_GUARD(get_states(root, "counted_states", true, &p->counted_states, eb));
    p->current_states = p->counted_states & ~CTCA_STATE_BIT(CTCA_LOG_STATE_RETIRED);
    CTCA_GUARD(get_states(root, "current_states", false, &p->current_states, eb));
    CTCA_GUARD(get_uint(root, "min_current", "min_current", false, 1, 0, CTCA_SCT_LIST_MAX,
                        &p->min_current, eb));
    const cJSON *rj = cJSON_GetObjectItemCaseSensitive(root, "retired_judged_by");
    p->retired_by_earliest = true;
    if (rj != NULL) {
        if (cJSON_IsString(rj) && strcmp(rj->valuestring, "earliest_sct") == 0)
            p->retired_by_earliest = true;
        else if (cJSON_IsString(rj) && strcmp(rj->valuestring, "each_sct") == 0)
            p->retired_by_earliest = false;
        else
            return bad(eb, "retired_judged_by", "expected \"earliest_sct\" or \"each_sct\"");
    }
    const cJSON *r6 = cJSON_GetObjectItemCaseSensitive(root, "require_rfc6962");
    if (r6 != NULL && !cJSON_IsBool(r6))
        return bad(eb, "require_rfc6962", "expected true or false");
    p->require_rfc6962 = cJSON_IsTrue(r6);
    unsigned age_days;
    CTCA_GUARD(get_uint(root, "max_log_list_age_days", "max_log_list_age_days", false, 0, 0,
                        36500, &age_days, eb));
    p->max_list_age_ms = (int64_t)age_days * CTCA_DAY_MS;
    const cJSON *tls = cJSON_GetObjectItemCaseSensitive(root, "tls");
    if (tls != NULL) {
        if (!cJSON_IsObject(tls))
            return bad(eb, "tls", "expected an object");
        CTCA_GUARD(only_known(tls, tls_fields, "tls.", eb));
        CTCA_GUARD(get_uint(tls, "scts", "tls.scts", true, 0, 1, CTCA_SCT_LIST_MAX,
                            &p->tls_scts, eb));
        CTCA_GUARD(get_uint(tls, "min_operators", "tls.min_operators", true, 0, 1,
                            CTCA_SCT_LIST_MAX, &p->tls_min_operators, eb));
        const cJSON *pool = cJSON_GetObjectItemCaseSensitive(tls, "pool_embedded");
        if (pool != NULL && !cJSON_IsBool(pool))
            return bad(eb, "tls.pool_embedded", "expected true or false");
        p->tls_pools_embedded = cJSON_IsTrue(pool);
    }
    return CTCA_OK;
}

ctca_err ctca_policy_parse(const char *json, size_t len, ctca_policy *out, ctca_errbuf *eb)
{
    if (len > CTCA_POLICY_FILE_MAX)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "policy is larger than %zu bytes",
                               CTCA_POLICY_FILE_MAX);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (root == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_JSON, "not valid JSON (at byte %zu)",
                               end ? (size_t)(end - json) : (size_t)0);
    ctca_policy p;
    memset(&p, 0, sizeof p);
    ctca_err rc = parse_root(root, &p, eb);
    if (rc == CTCA_OK)
        *out = p;
    cJSON_Delete(root);
    return rc;
}

ctca_err ctca_policy_load(const char *name_or_path, ctca_policy *out, ctca_errbuf *eb)
{
    if (strcmp(name_or_path, "chrome") == 0) {
        ctca_policy_chrome(out);
        return CTCA_OK;
    }
    if (strcmp(name_or_path, "apple") == 0) {
        ctca_policy_apple(out);
        return CTCA_OK;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    ctca_errbuf inner = {{0}};
    ctca_err rc = ctca_file_read(name_or_path, CTCA_POLICY_FILE_MAX, &buf, &len, &inner);
    if (rc == CTCA_OK)
        rc = ctca_policy_parse((const char *)buf, len, out, &inner);
    free(buf);
    if (rc != CTCA_OK)
        ctca_errbuf_set(eb, rc, "%s: %s", name_or_path, inner.msg);
    return rc;
}
