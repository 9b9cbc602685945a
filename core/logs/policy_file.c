/* Custom CT policy files (ctca/policy.h, ctca_policy_parse): strict JSON with
 * field paths in every error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn1/json_int.h"
#include "ctca/policy.h"
#include "ctca/util.h"

/* A policy decides what ctca accepts: a misspelt rule must not be ignored. */
static const ctca_json_format policy_format = {
    .code = CTCA_ERR_CONFIG,
    .syntax_code = CTCA_ERR_JSON,
    .max_bytes = CTCA_POLICY_FILE_MAX,
    .max_depth = 8,
    .unknown = CTCA_JSON_UNKNOWN_REFUSE,
    .unknown_msg = "unknown field",
    .path_prefix = "",
};

/* An integer member in [lo, hi]; absent: *out = dflt unless required. *out is
 * dflt on failure too, so it is never left unset. The range is checked on the
 * exact integer before anything is converted (a huge number used to be cast to
 * long long first, which is undefined behaviour). */
static ctca_err get_uint(const ctca_json_node *obj, const char *name, bool required,
                         unsigned dflt, unsigned lo, unsigned hi, unsigned *out, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, name);
    int64_t v = dflt;
    *out = dflt;
    CTCA_GUARD(ctca_json_get_int(&n, required, lo, hi, &v, eb));
    *out = (unsigned)v;
    return CTCA_OK;
}

static ctca_err get_bool(const ctca_json_node *obj, const char *name, bool *out,
                         ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, name);
    *out = json_is_true(n.v);
    if (n.v != NULL && !json_is_boolean(n.v))
        return ctca_json_fail(&n, eb, "expected true or false");
    return CTCA_OK;
}

static ctca_err get_states(const ctca_json_node *obj, const char *name, bool required,
                           unsigned *out, ctca_errbuf *eb)
{
    ctca_json_node arr = ctca_json_member(obj, name);
    if (arr.v == NULL)
        return required ? ctca_json_fail(&arr, eb, "missing") : CTCA_OK;
    if (!json_is_array(arr.v) || json_array_size(arr.v) == 0)
        return ctca_json_fail(&arr, eb, "expected a non-empty array of log states");
    *out = 0;
    for (size_t i = 0; i < json_array_size(arr.v); i++) {
        ctca_json_node e = ctca_json_element(&arr, i);
        const char *s = ctca_json_string(&e);
        bool found = false;
        for (int st = CTCA_LOG_STATE_PENDING; st <= CTCA_LOG_STATE_REJECTED && !found; st++) {
            if (s != NULL && strcmp(s, ctca_log_state_name(st)) == 0) {
                *out |= CTCA_STATE_BIT(st);
                found = true;
            }
        }
        if (!found)
            return ctca_json_fail(&e, eb,
                                  "expected one of pending, qualified, usable, readonly, "
                                  "retired, rejected");
    }
    return CTCA_OK;
}

static ctca_err parse_bands(const ctca_json_node *root, ctca_policy *p, ctca_errbuf *eb)
{
    static const char *const band_fields[] = {"max_days", "scts", "max_per_operator", NULL};
    ctca_json_node arr = ctca_json_member(root, "lifetime_bands");
    if (arr.v == NULL)
        return ctca_json_fail(&arr, eb, "missing");
    size_t n = json_is_array(arr.v) ? json_array_size(arr.v) : 0;
    if (n < 1 || n > CTCA_POLICY_MAX_BANDS)
        return ctca_json_fail(&arr, eb, "expected an array of 1..%d bands",
                              CTCA_POLICY_MAX_BANDS);
    for (size_t i = 0; i < n; i++) {
        ctca_json_node b = ctca_json_element(&arr, i);
        if (!json_is_object(b.v))
            return ctca_json_fail(&b, eb, "expected an object");
        CTCA_GUARD(ctca_json_check_keys(&b, band_fields, eb));
        unsigned days, scts, cap;
        CTCA_GUARD(get_uint(&b, "max_days", true, 0, 1, 36500, &days, eb));
        CTCA_GUARD(get_uint(&b, "scts", true, 0, 1, CTCA_SCT_LIST_MAX, &scts, eb));
        CTCA_GUARD(get_uint(&b, "max_per_operator", false, 0, 0, CTCA_SCT_LIST_MAX, &cap, eb));
        int64_t max_ms = (int64_t)days * CTCA_DAY_MS;
        if (i > 0 && max_ms <= p->bands[i - 1].max_lifetime_ms) {
            ctca_json_node d = ctca_json_member(&b, "max_days");
            return ctca_json_fail(&d, eb, "bands must be in increasing order of max_days");
        }
        p->bands[i] = (ctca_policy_band){max_ms, scts, cap};
        p->n_bands = i + 1;
    }
    return CTCA_OK;
}

static ctca_err parse_tls(const ctca_json_node *root, ctca_policy *p, ctca_errbuf *eb)
{
    static const char *const tls_fields[] = {"scts", "min_operators", "pool_embedded", NULL};
    ctca_json_node tls = ctca_json_member(root, "tls");
    if (tls.v == NULL)
        return CTCA_OK;
    if (!json_is_object(tls.v))
        return ctca_json_fail(&tls, eb, "expected an object");
    CTCA_GUARD(ctca_json_check_keys(&tls, tls_fields, eb));
    CTCA_GUARD(get_uint(&tls, "scts", true, 0, 1, CTCA_SCT_LIST_MAX, &p->tls_scts, eb));
    CTCA_GUARD(get_uint(&tls, "min_operators", true, 0, 1, CTCA_SCT_LIST_MAX,
                        &p->tls_min_operators, eb));
    return get_bool(&tls, "pool_embedded", &p->tls_pools_embedded, eb);
}

static ctca_err parse_root(const ctca_json_node *root, ctca_policy *p, ctca_errbuf *eb)
{
    static const char *const fields[] = {
        "name",        "lifetime_bands",    "min_operators",   "counted_states",
        "current_states", "min_current",    "retired_judged_by", "require_rfc6962",
        "max_log_list_age_days", "tls",     NULL};
    if (!json_is_object(root->v))
        return ctca_json_fail(root, eb, "top level: expected a JSON object");
    CTCA_GUARD(ctca_json_check_keys(root, fields, eb));
    ctca_json_node name = ctca_json_member(root, "name");
    const char *s = ctca_json_string(&name);
    if (name.v != NULL && (s == NULL || strlen(s) == 0 || strlen(s) >= sizeof p->name))
        return ctca_json_fail(&name, eb, "expected a string of 1..63 characters");
    snprintf(p->name, sizeof p->name, "%s", s ? s : "custom");
    CTCA_GUARD(parse_bands(root, p, eb));
    CTCA_GUARD(get_uint(root, "min_operators", true, 0, 1, CTCA_SCT_LIST_MAX, &p->min_operators,
                        eb));
    CTCA_GUARD(get_states(root, "counted_states", true, &p->counted_states, eb));
    p->current_states = p->counted_states & ~CTCA_STATE_BIT(CTCA_LOG_STATE_RETIRED);
    CTCA_GUARD(get_states(root, "current_states", false, &p->current_states, eb));
    CTCA_GUARD(get_uint(root, "min_current", false, 1, 0, CTCA_SCT_LIST_MAX, &p->min_current,
                        eb));
    ctca_json_node rj = ctca_json_member(root, "retired_judged_by");
    const char *by = ctca_json_string(&rj);
    p->retired_by_earliest = true;
    if (rj.v != NULL) {
        if (by != NULL && strcmp(by, "earliest_sct") == 0)
            p->retired_by_earliest = true;
        else if (by != NULL && strcmp(by, "each_sct") == 0)
            p->retired_by_earliest = false;
        else
            return ctca_json_fail(&rj, eb, "expected \"earliest_sct\" or \"each_sct\"");
    }
    CTCA_GUARD(get_bool(root, "require_rfc6962", &p->require_rfc6962, eb));
    unsigned age_days;
    CTCA_GUARD(get_uint(root, "max_log_list_age_days", false, 0, 0, 36500, &age_days, eb));
    p->max_list_age_ms = (int64_t)age_days * CTCA_DAY_MS;
    return parse_tls(root, p, eb);
}

ctca_err ctca_policy_parse(const char *json, size_t len, ctca_policy *out, ctca_errbuf *eb)
{
    json_t *doc = NULL;
    CTCA_GUARD(ctca_json_parse(&policy_format, json, len, &doc, eb));
    ctca_policy p;
    memset(&p, 0, sizeof p);
    ctca_json_node root = ctca_json_root(&policy_format, doc);
    ctca_err rc = parse_root(&root, &p, eb);
    if (rc == CTCA_OK)
        *out = p;
    json_decref(doc);
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
