/* ctca.json: strict parsing into ctca_config, and the defaults ctca init writes.
 *
 * Strict means: the document is one JSON object with nothing after it, no key
 * appears twice (asn1/json.c refuses duplicates), unknown keys are refused, and
 * every value has exactly the type and range its field allows. Errors name the
 * field by its path ("profiles.tls-server.validity_days"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn1/json_int.h"
#include "core/ca/ca_int.h"
#include "ctca/util.h"

struct ctca_config {
    char *ca_cert;
    char *ca_key;
    char *preca_cert;
    char *preca_key;
    char *store;
    char *log_list;
    ctca_ct_settings ct;
    ctca_queue_settings queue;
    ctca_ocsp_settings ocsp;
    ctca_profile *profiles;
    size_t profile_count;
};

/* A typo in ctca.json must not silently leave a default in force. */
static const ctca_json_format config_format = {
    .code = CTCA_ERR_CONFIG,
    .syntax_code = CTCA_ERR_JSON,
    .max_bytes = CTCA_CONFIG_MAX_BYTES,
    .max_depth = 16,
    .unknown = CTCA_JSON_UNKNOWN_REFUSE,
    .unknown_msg = "unknown key",
    .path_prefix = "",
};

/* ---- generic field readers -------------------------------------------------- */

static ctca_err get_object(const ctca_json_node *obj, const char *key, bool required,
                           ctca_json_node *out, ctca_errbuf *eb)
{
    *out = ctca_json_member(obj, key);
    if (out->v == NULL)
        return required ? ctca_json_fail(out, eb, "missing") : CTCA_OK;
    if (!json_is_object(out->v))
        return ctca_json_fail(out, eb, "expected an object");
    return CTCA_OK;
}

/* get_uint: an integer in [min, max]; *out keeps its default when optional and absent. */
static ctca_err get_uint(const ctca_json_node *obj, const char *key, bool required, uint32_t min,
                         uint32_t max, uint32_t *out, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, key);
    int64_t v = *out;
    CTCA_GUARD(ctca_json_get_int(&n, required, min, max, &v, eb));
    *out = (uint32_t)v;
    return CTCA_OK;
}

/* get_bool: true or false; absent leaves *out as it is. */
static ctca_err get_bool(const ctca_json_node *obj, const char *key, bool *out, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, key);
    if (n.v == NULL)
        return CTCA_OK;
    if (!json_is_boolean(n.v))
        return ctca_json_fail(&n, eb, "expected true or false");
    *out = json_is_true(n.v);
    return CTCA_OK;
}

/* get_string: a non-empty string of at most max bytes, or (nullable) null or
 * absent giving NULL. *out is a copy, caller frees. */
static ctca_err get_string(const ctca_json_node *obj, const char *key, bool required,
                           bool nullable, size_t max, char **out, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, key);
    *out = NULL;
    if (n.v == NULL)
        return required ? ctca_json_fail(&n, eb, "missing") : CTCA_OK;
    if (nullable && json_is_null(n.v))
        return CTCA_OK;
    const char *s = ctca_json_string(&n);
    if (s == NULL || s[0] == '\0' || strlen(s) > max)
        return ctca_json_fail(&n, eb, "expected a non-empty string%s",
                              nullable ? " or null" : "");
    *out = strdup(s);
    return *out == NULL ? CTCA_ERR_NOMEM : CTCA_OK;
}

/* get_string_array: a non-empty (unless allow_empty) array of distinct strings;
 * each is handed to each_fn. */
typedef ctca_err (*item_fn)(const char *s, const ctca_json_node *at, void *ctx,
                            ctca_errbuf *eb);

static ctca_err get_string_array(const ctca_json_node *obj, const char *key, bool required,
                                 bool allow_empty, size_t max_items, item_fn each, void *ctx,
                                 ctca_errbuf *eb)
{
    ctca_json_node arr = ctca_json_member(obj, key);
    if (arr.v == NULL)
        return required ? ctca_json_fail(&arr, eb, "missing") : CTCA_OK;
    if (!json_is_array(arr.v))
        return ctca_json_fail(&arr, eb, "expected an array of strings");
    size_t n = json_array_size(arr.v);
    for (size_t i = 0; i < n; i++) {
        ctca_json_node it = ctca_json_element(&arr, i);
        if (i >= max_items)
            return ctca_json_fail(&arr, eb, "more than %zu entries", max_items);
        const char *s = ctca_json_string(&it);
        if (s == NULL)
            return ctca_json_fail(&it, eb, "expected a string");
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(arr.v, j)), s) == 0)
                return ctca_json_fail(&it, eb, "duplicate \"%s\"", s);
        CTCA_GUARD(each(s, &it, ctx, eb));
    }
    if (n == 0 && !allow_empty)
        return ctca_json_fail(&arr, eb, "must not be empty");
    return CTCA_OK;
}

/* ---- OIDs -------------------------------------------------------------------- */

bool ctca_oid_from_dotted(const char *s, ctca_oid *out)
{
    return ctca_oid_from_string(s, out->der, sizeof out->der, &out->len) == CTCA_OK;
}

/* ---- profiles ---------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} ku_names[] = {
    {"digitalSignature", CTCA_KU_DIGITAL_SIGNATURE},   {"contentCommitment", CTCA_KU_CONTENT_COMMITMENT},
    {"nonRepudiation", CTCA_KU_CONTENT_COMMITMENT},    {"keyEncipherment", CTCA_KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", CTCA_KU_DATA_ENCIPHERMENT},   {"keyAgreement", CTCA_KU_KEY_AGREEMENT},
};

static const struct {
    const char *name;
    const char *dotted;
} eku_names[] = {
    {"serverAuth", "1.3.6.1.5.5.7.3.1"},      {"clientAuth", "1.3.6.1.5.5.7.3.2"},
    {"codeSigning", "1.3.6.1.5.5.7.3.3"},     {"emailProtection", "1.3.6.1.5.5.7.3.4"},
    {"timeStamping", "1.3.6.1.5.5.7.3.8"},    {"OCSPSigning", "1.3.6.1.5.5.7.3.9"},
};

static const struct {
    const char *name;
    unsigned bit;
} san_names[] = {
    {"dns", CTCA_SAN_DNS}, {"ip", CTCA_SAN_IP}, {"email", CTCA_SAN_EMAIL}, {"uri", CTCA_SAN_URI},
};

static ctca_err ku_item(const char *s, const ctca_json_node *at, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    for (size_t i = 0; i < sizeof ku_names / sizeof ku_names[0]; i++) {
        if (strcmp(s, ku_names[i].name) == 0) {
            if (pr->key_usage & ku_names[i].bit)
                return ctca_json_fail(at, eb, "\"%s\" repeats a usage", s);
            pr->key_usage |= ku_names[i].bit;
            return CTCA_OK;
        }
    }
    return ctca_json_fail(at, eb,
                          "unknown key usage \"%s\" (allowed: digitalSignature, "
                          "contentCommitment, keyEncipherment, dataEncipherment, keyAgreement)",
                          s);
}

static ctca_err eku_item(const char *s, const ctca_json_node *at, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    const char *dotted = s;
    for (size_t i = 0; i < sizeof eku_names / sizeof eku_names[0]; i++)
        if (strcmp(s, eku_names[i].name) == 0)
            dotted = eku_names[i].dotted;
    ctca_oid oid;
    if (!ctca_oid_from_dotted(dotted, &oid))
        return ctca_json_fail(at, eb,
                              "\"%s\" is neither a known extended key usage (serverAuth, "
                              "clientAuth, codeSigning, emailProtection, timeStamping, "
                              "OCSPSigning) nor a dotted OID",
                              s);
    for (size_t i = 0; i < pr->eku_count; i++)
        if (pr->eku[i].len == oid.len && memcmp(pr->eku[i].der, oid.der, oid.len) == 0)
            return ctca_json_fail(at, eb, "\"%s\" repeats a usage", s);
    pr->eku[pr->eku_count++] = oid;
    return CTCA_OK;
}

static ctca_err policy_item(const char *s, const ctca_json_node *at, void *ctx,
                            ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    ctca_oid oid;
    if (!ctca_oid_from_dotted(s, &oid))
        return ctca_json_fail(at, eb, "\"%s\" is not a dotted OID", s);
    pr->policies[pr->policy_count++] = oid;
    return CTCA_OK;
}

static ctca_err san_item(const char *s, const ctca_json_node *at, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    for (size_t i = 0; i < sizeof san_names / sizeof san_names[0]; i++) {
        if (strcmp(s, san_names[i].name) == 0) {
            pr->allowed_san_types |= san_names[i].bit;
            return CTCA_OK;
        }
    }
    return ctca_json_fail(at, eb, "unknown SAN type \"%s\" (allowed: dns, ip, email, uri)", s);
}

static bool url_ok(const char *s)
{
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return false;
    for (const char *q = s; *q != '\0'; q++)
        if (*q <= 0x20 || *q >= 0x7f)
            return false;
    return strlen(s) > 8;
}

static ctca_err get_url(const ctca_json_node *obj, const char *key, const char **out,
                        ctca_errbuf *eb)
{
    char *s = NULL;
    CTCA_GUARD(get_string(obj, key, false, true, CTCA_PROFILE_MAX_URL, &s, eb));
    if (s != NULL && !url_ok(s)) {
        free(s);
        ctca_json_node n = ctca_json_member(obj, key);
        return ctca_json_fail(&n, eb, "expected an http:// or https:// URL of printable ASCII");
    }
    *out = s;
    return CTCA_OK;
}

static bool profile_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CTCA_PROFILE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void profile_cleanup(ctca_profile *pr)
{
    free((char *)pr->name);
    free((char *)pr->ocsp_url);
    free((char *)pr->ca_issuers_url);
    free((char *)pr->crl_url);
    memset(pr, 0, sizeof *pr);
}

static ctca_err parse_profile(const ctca_json_node *obj, ctca_profile *pr, ctca_errbuf *eb)
{
    static const char *const keys[] = {
        "validity_days", "key_usage", "ext_key_usage", "allowed_san_types", "subject",
        "ocsp_url",      "ca_issuers_url", "crl_url",   "policy_oids",       "ct_version",
        "preca",         NULL};
    if (!json_is_object(obj->v))
        return ctca_json_fail(obj, eb, "expected an object");
    CTCA_GUARD(ctca_json_check_keys(obj, keys, eb));
    uint32_t days = 0;
    CTCA_GUARD(get_uint(obj, "validity_days", true, 1, CTCA_PROFILE_MAX_VALIDITY_DAYS, &days, eb));
    pr->validity_days = days;
    uint32_t ct_version = 1;
    CTCA_GUARD(get_uint(obj, "ct_version", false, 1, 2, &ct_version, eb));
    pr->ct_version = ct_version;
    pr->preca = true;
    CTCA_GUARD(get_bool(obj, "preca", &pr->preca, eb));
    CTCA_GUARD(get_string_array(obj, "key_usage", true, false, 8, ku_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "ext_key_usage", true, false, CTCA_PROFILE_MAX_OIDS,
                                eku_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "allowed_san_types", true, false, 4, san_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "policy_oids", false, true, CTCA_PROFILE_MAX_OIDS,
                                policy_item, pr, eb));
    char *mode = NULL;
    CTCA_GUARD(get_string(obj, "subject", false, false, 32, &mode, eb));
    pr->subject = CTCA_SUBJECT_EMPTY;
    if (mode != NULL) {
        if (strcmp(mode, "cn_first_dns") == 0)
            pr->subject = CTCA_SUBJECT_CN_FIRST_DNS;
        else if (strcmp(mode, "cn_from_csr") == 0)
            pr->subject = CTCA_SUBJECT_CN_FROM_CSR;
        else if (strcmp(mode, "empty") != 0) {
            free(mode);
            ctca_json_node n = ctca_json_member(obj, "subject");
            return ctca_json_fail(&n, eb,
                                  "expected \"empty\", \"cn_first_dns\" or \"cn_from_csr\"");
        }
        free(mode);
    }
    CTCA_GUARD(get_url(obj, "ocsp_url", &pr->ocsp_url, eb));
    CTCA_GUARD(get_url(obj, "ca_issuers_url", &pr->ca_issuers_url, eb));
    CTCA_GUARD(get_url(obj, "crl_url", &pr->crl_url, eb));
    return CTCA_OK;
}

static const char *const fallback_names[] = {
    [CTCA_FALLBACK_CONFIG] = "config",
    [CTCA_FALLBACK_DEFER] = "defer",
    [CTCA_FALLBACK_FAIL] = "fail",
    [CTCA_FALLBACK_UNEMBEDDED] = "unembedded",
};

const char *ctca_fallback_name(ctca_fallback f)
{
    if ((int)f < 0 || (size_t)f >= sizeof fallback_names / sizeof fallback_names[0])
        return "unknown";
    return fallback_names[f];
}

ctca_err ctca_fallback_parse(const char *s, ctca_fallback *out)
{
    for (int f = CTCA_FALLBACK_DEFER; f <= CTCA_FALLBACK_UNEMBEDDED; f++) {
        if (s != NULL && strcmp(s, fallback_names[f]) == 0) {
            *out = (ctca_fallback)f;
            return CTCA_OK;
        }
    }
    return CTCA_ERR_CONFIG;
}

static ctca_err parse_fallback(const ctca_json_node *obj, ctca_ct_settings *ct, ctca_errbuf *eb)
{
    char *name = NULL;
    CTCA_GUARD(get_string(obj, "fallback", false, false, 32, &name, eb));
    if (name == NULL)
        return CTCA_OK;
    ctca_err rc = ctca_fallback_parse(name, &ct->fallback);
    free(name);
    if (rc != CTCA_OK) {
        ctca_json_node n = ctca_json_member(obj, "fallback");
        return ctca_json_fail(&n, eb, "expected \"defer\", \"fail\" or \"unembedded\"");
    }
    return CTCA_OK;
}

static ctca_err parse_queue(const ctca_json_node *root, ctca_queue_settings *q, ctca_errbuf *eb)
{
    static const char *const keys[] = {"max_attempts", "backoff_base_ms", "backoff_max_ms",
                                       "breaker_failures", "breaker_cooldown_ms", "lease_ms",
                                       "recover_after_ms", "batch", NULL};
    *q = (ctca_queue_settings){.max_attempts = 10, .backoff_base_ms = 1000,
                               .backoff_max_ms = 3600000, .breaker_failures = 5,
                               .breaker_cooldown_ms = 60000, .lease_ms = 120000,
                               .recover_after_ms = 300000, .batch = 64};
    ctca_json_node obj;
    CTCA_GUARD(get_object(root, "queue", false, &obj, eb));
    if (obj.v == NULL)
        return CTCA_OK;
    CTCA_GUARD(ctca_json_check_keys(&obj, keys, eb));
    uint32_t attempts = q->max_attempts, failures = q->breaker_failures, batch = q->batch;
    CTCA_GUARD(get_uint(&obj, "max_attempts", false, 1, 1000, &attempts, eb));
    CTCA_GUARD(get_uint(&obj, "backoff_base_ms", false, 1, 86400000,
                        &q->backoff_base_ms, eb));
    CTCA_GUARD(get_uint(&obj, "backoff_max_ms", false, 1, 604800000,
                        &q->backoff_max_ms, eb));
    CTCA_GUARD(get_uint(&obj, "breaker_failures", false, 1, 1000, &failures, eb));
    CTCA_GUARD(get_uint(&obj, "breaker_cooldown_ms", false, 1, 86400000,
                        &q->breaker_cooldown_ms, eb));
    CTCA_GUARD(get_uint(&obj, "lease_ms", false, 1000, 86400000, &q->lease_ms, eb));
    CTCA_GUARD(get_uint(&obj, "recover_after_ms", false, 0, 604800000,
                        &q->recover_after_ms, eb));
    CTCA_GUARD(get_uint(&obj, "batch", false, 1, 1024, &batch, eb));
    if (q->backoff_max_ms < q->backoff_base_ms)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "queue.backoff_max_ms: %u is below queue.backoff_base_ms (%u)",
                               (unsigned)q->backoff_max_ms, (unsigned)q->backoff_base_ms);
    q->max_attempts = attempts;
    q->breaker_failures = failures;
    q->batch = batch;
    return CTCA_OK;
}

static ctca_err parse_ocsp(const ctca_json_node *root, ctca_ocsp_settings *o, ctca_errbuf *eb)
{
    static const char *const keys[] = {"validity_hours", "responder_cert", "responder_key",
                                       NULL};
    o->validity_hours = 96;
    ctca_json_node obj;
    CTCA_GUARD(get_object(root, "ocsp", false, &obj, eb));
    if (obj.v == NULL)
        return CTCA_OK;
    CTCA_GUARD(ctca_json_check_keys(&obj, keys, eb));
    /* CA/B Forum Baseline Requirements 4.9.10: a response's validity interval
     * is at least eight hours and at most ten days. */
    CTCA_GUARD(get_uint(&obj, "validity_hours", false, 8, 240, &o->validity_hours, eb));
    CTCA_GUARD(get_string(&obj, "responder_cert", false, true, 4096, &o->responder_cert,
                          eb));
    CTCA_GUARD(get_string(&obj, "responder_key", false, true, 4096, &o->responder_key,
                          eb));
    if ((o->responder_cert == NULL) != (o->responder_key == NULL))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "ocsp.%s: missing (a delegated responder needs both "
                               "responder_cert and responder_key)",
                               o->responder_cert == NULL ? "responder_cert" : "responder_key");
    return CTCA_OK;
}

static ctca_err parse_ct(const ctca_json_node *root, ctca_ct_settings *ct, ctca_errbuf *eb)
{
    static const char *const keys[] = {"log_timeout_ms", "deadline_ms", "min_scts",
                                       "min_operators", "policy", "allow_test_logs",
                                       "fallback", NULL};
    ct->log_timeout_ms = 10000;
    ct->deadline_ms = 20000;
    ct->min_scts = 2;
    ct->min_operators = 2;
    ct->fallback = CTCA_FALLBACK_DEFER;
    ctca_json_node obj;
    CTCA_GUARD(get_object(root, "ct", false, &obj, eb));
    if (obj.v == NULL)
        return CTCA_OK;
    CTCA_GUARD(ctca_json_check_keys(&obj, keys, eb));
    uint32_t v = ct->min_scts, w = ct->min_operators;
    CTCA_GUARD(get_uint(&obj, "log_timeout_ms", false, 1, 600000, &ct->log_timeout_ms, eb));
    CTCA_GUARD(get_uint(&obj, "deadline_ms", false, 1, 3600000, &ct->deadline_ms, eb));
    CTCA_GUARD(get_uint(&obj, "min_scts", false, 1, 64, &v, eb));
    CTCA_GUARD(get_uint(&obj, "min_operators", false, 1, 64, &w, eb));
    CTCA_GUARD(get_string(&obj, "policy", false, true, 4096, &ct->policy, eb));
    CTCA_GUARD(get_bool(&obj, "allow_test_logs", &ct->allow_test_logs, eb));
    CTCA_GUARD(parse_fallback(&obj, ct, eb));
    if (ct->policy != NULL) {
        const char *other = json_object_get(obj.v, "min_scts") != NULL        ? "min_scts"
                            : json_object_get(obj.v, "min_operators") != NULL ? "min_operators"
                                                                               : NULL;
        if (other != NULL)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                                   "ct.%s: not used with ct.policy (the policy decides how "
                                   "many SCTs are needed); remove one of them",
                                   other);
    }
    if (w > v)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "ct.min_operators: %u exceeds ct.min_scts (%u)", (unsigned)w,
                               (unsigned)v);
    ct->min_scts = v;
    ct->min_operators = w;
    return CTCA_OK;
}

static ctca_err parse_profiles(const ctca_json_node *root, ctca_config *cfg, ctca_errbuf *eb)
{
    ctca_json_node profiles;
    CTCA_GUARD(get_object(root, "profiles", true, &profiles, eb));
    size_t n = json_object_size(profiles.v);
    if (n == 0)
        return ctca_json_fail(&profiles, eb, "must name at least one profile");
    if (n > CTCA_CONFIG_MAX_PROFILES)
        return ctca_json_fail(&profiles, eb, "more than %d profiles", CTCA_CONFIG_MAX_PROFILES);
    cfg->profiles = calloc(n, sizeof *cfg->profiles);
    if (cfg->profiles == NULL)
        return CTCA_ERR_NOMEM;
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)profiles.v, name, val)
    {
        ctca_json_node p = ctca_json_member(&profiles, name);
        if (!profile_name_ok(name))
            return ctca_json_fail(&p, eb, "a profile name is 1..%d of [A-Za-z0-9._-]",
                                  CTCA_PROFILE_NAME_MAX);
        ctca_profile *pr = &cfg->profiles[cfg->profile_count++];
        pr->name = strdup(name);
        if (pr->name == NULL)
            return CTCA_ERR_NOMEM;
        CTCA_GUARD(parse_profile(&p, pr, eb));
    }
    return CTCA_OK;
}

static ctca_err parse_root(const ctca_json_node *root, ctca_config *cfg, ctca_errbuf *eb)
{
    static const char *const keys[] = {"ca_cert", "ca_key", "preca_cert", "preca_key", "store",
                                       "log_list", "ct",    "queue",      "ocsp",      "profiles",
                                       NULL};
    if (!json_is_object(root->v))
        return ctca_json_fail(root, eb, "the document must be a JSON object");
    CTCA_GUARD(ctca_json_check_keys(root, keys, eb));
    CTCA_GUARD(get_string(root, "ca_cert", true, false, 4096, &cfg->ca_cert, eb));
    CTCA_GUARD(get_string(root, "ca_key", true, false, 4096, &cfg->ca_key, eb));
    CTCA_GUARD(get_string(root, "preca_cert", false, true, 4096, &cfg->preca_cert, eb));
    CTCA_GUARD(get_string(root, "preca_key", false, true, 4096, &cfg->preca_key, eb));
    if ((cfg->preca_cert == NULL) != (cfg->preca_key == NULL))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: set preca_cert and preca_key together (or neither)",
                               cfg->preca_cert == NULL ? "preca_cert" : "preca_key");
    CTCA_GUARD(get_string(root, "store", true, false, 4096, &cfg->store, eb));
    CTCA_GUARD(get_string(root, "log_list", false, true, 4096, &cfg->log_list, eb));
    CTCA_GUARD(parse_ct(root, &cfg->ct, eb));
    CTCA_GUARD(parse_queue(root, &cfg->queue, eb));
    CTCA_GUARD(parse_ocsp(root, &cfg->ocsp, eb));
    return parse_profiles(root, cfg, eb);
}

ctca_err ctca_config_parse(const char *json, size_t len, ctca_config **out, ctca_errbuf *eb)
{
    *out = NULL;
    json_t *doc = NULL;
    CTCA_GUARD(ctca_json_parse(&config_format, json, len, &doc, eb));
    ctca_err rc = CTCA_OK;
    ctca_config *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    ctca_json_node root = ctca_json_root(&config_format, doc);
    rc = parse_root(&root, cfg, eb);
    if (rc != CTCA_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    ctca_config_free(cfg);
    json_decref(doc);
    return rc;
}

ctca_err ctca_config_load(const char *path, ctca_config **out, ctca_errbuf *eb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    CTCA_GUARD(ctca_file_read(path, CTCA_CONFIG_MAX_BYTES, &buf, &len, eb));
    ctca_errbuf inner = {{0}};
    ctca_err rc = ctca_config_parse((const char *)buf, len, out, &inner);
    if (rc != CTCA_OK)
        ctca_errbuf_set(eb, rc, "%s: %s", path, inner.msg);
    free(buf);
    return rc;
}

void ctca_config_free(ctca_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->ca_cert);
    free(cfg->ca_key);
    free(cfg->preca_cert);
    free(cfg->preca_key);
    free(cfg->store);
    free(cfg->log_list);
    free(cfg->ocsp.responder_cert);
    free(cfg->ocsp.responder_key);
    free(cfg->ct.policy);
    for (size_t i = 0; i < cfg->profile_count; i++)
        profile_cleanup(&cfg->profiles[i]);
    free(cfg->profiles);
    free(cfg);
}

const ctca_ct_settings *ctca_config_get0_ct(const ctca_config *cfg)
{
    return &cfg->ct;
}

const ctca_queue_settings *ctca_config_get0_queue(const ctca_config *cfg)
{
    return &cfg->queue;
}

const ctca_ocsp_settings *ctca_config_get0_ocsp(const ctca_config *cfg)
{
    return &cfg->ocsp;
}

const char *ctca_config_get0_log_list(const ctca_config *cfg)
{
    return cfg->log_list;
}

const char *ctca_config_get0_ca_cert(const ctca_config *cfg)
{
    return cfg->ca_cert;
}

const char *ctca_config_get0_ca_key(const ctca_config *cfg)
{
    return cfg->ca_key;
}

const char *ctca_config_get0_preca_cert(const ctca_config *cfg)
{
    return cfg->preca_cert;
}

const char *ctca_config_get0_preca_key(const ctca_config *cfg)
{
    return cfg->preca_key;
}

const char *ctca_config_get0_store(const ctca_config *cfg)
{
    return cfg->store;
}

const ctca_profile *ctca_config_get0_profile(const ctca_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->profile_count; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

size_t ctca_config_profile_count(const ctca_config *cfg)
{
    return cfg->profile_count;
}

const ctca_profile *ctca_config_get0_profile_at(const ctca_config *cfg, size_t i)
{
    return i < cfg->profile_count ? &cfg->profiles[i] : NULL;
}

/* ---- defaults ------------------------------------------------------------ */

static json_t *string_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *default_profile(unsigned days, const char *const *ku, size_t nku,
                               const char *const *eku, size_t neku, const char *const *sans,
                               size_t nsans, const char *subject)
{
    /* json_pack fails as a whole (NULL) when any member cannot be made; "o"
     * takes over the arrays, also on failure. */
    return json_pack("{s:i, s:o, s:o, s:o, s:s, s:n, s:n, s:n, s:[]}", "validity_days", (int)days,
                     "key_usage", string_array(ku, nku), "ext_key_usage",
                     string_array(eku, neku), "allowed_san_types", string_array(sans, nsans),
                     "subject", subject, "ocsp_url", "ca_issuers_url", "crl_url",
                     "policy_oids");
}

static bool set_new(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

ctca_err ctca_config_default_json(const char *log_list, bool preca, char **out)
{
    /* tls-server: a CA/B BR 7.1.2.7 subscriber certificate (keyEncipherment
     * is applied only to RSA keys, by the builder); tls-client: an mTLS client
     * certificate. No policy OIDs by default: a public CA adds its CA/B one
     * (2.23.140.1.2.1 for DV), a private PKI must not assert it. */
    static const char *const srv_ku[] = {"digitalSignature", "keyEncipherment"};
    static const char *const srv_eku[] = {"serverAuth"};
    static const char *const srv_san[] = {"dns", "ip"};
    static const char *const cli_ku[] = {"digitalSignature"};
    static const char *const cli_eku[] = {"clientAuth"};
    static const char *const cli_san[] = {"email", "uri", "dns"};
    ctca_err rc = CTCA_ERR_NOMEM;
    char *text = NULL;
    json_t *root = json_object(), *profiles = json_object();
    if (root == NULL || profiles == NULL)
        goto out;
    if (!set_new(root, "ca_cert", json_string(CTCA_CA_CERT_FILE)) ||
        !set_new(root, "ca_key", json_string(CTCA_CA_KEY_FILE)) ||
        !set_new(root, "store", json_string(CTCA_CA_STORE_FILE)))
        goto out;
    if (preca && (!set_new(root, "preca_cert", json_string(CTCA_CA_PRECA_CERT_FILE)) ||
                  !set_new(root, "preca_key", json_string(CTCA_CA_PRECA_KEY_FILE))))
        goto out;
    /* A path is bytes; the file is written as they are, as before. */
    if (!set_new(root, "log_list", log_list != NULL ? json_string_nocheck(log_list) : json_null()))
        goto out;
    if (!set_new(root, "ct",
                 json_pack("{s:i, s:i, s:i, s:i, s:s}", "log_timeout_ms", 10000, "deadline_ms",
                           20000, "min_scts", 2, "min_operators", 2, "fallback", "defer")))
        goto out;
    if (!set_new(profiles, "tls-server",
                 default_profile(90, srv_ku, 2, srv_eku, 1, srv_san, 2, "cn_first_dns")) ||
        !set_new(profiles, "tls-client",
                 default_profile(90, cli_ku, 1, cli_eku, 1, cli_san, 3, "cn_from_csr")))
        goto out;
    json_t *p = profiles;
    profiles = NULL;
    if (!set_new(root, "profiles", p))
        goto out;
    if ((rc = ctca_json_print(root, true, &text)) != CTCA_OK)
        goto out;
    size_t n = strlen(text);
    rc = CTCA_ERR_NOMEM;
    *out = malloc(n + 2);
    if (*out != NULL) {
        memcpy(*out, text, n);
        memcpy(*out + n, "\n", 2);
        rc = CTCA_OK;
    }
out:
    free(text);
    json_decref(profiles);
    json_decref(root);
    return rc;
}
