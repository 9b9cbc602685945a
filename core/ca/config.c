/* ctca.json: strict parsing into ctca_config, and the defaults ctca init writes.
 *
 * Strict means: the document is one JSON object with nothing after it, every
 * object is checked for unknown and duplicate keys (cJSON keeps duplicates
 * silently), and every value has exactly the type and range its field allows.
 * Errors name the field by its path ("profiles.tls-server.validity_days"). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define PATH_MAX_LEN 256

/* ---- generic field readers -------------------------------------------------- */

static void join_path(char *buf, const char *prefix, const char *key)
{
    if (prefix[0] == '\0')
        snprintf(buf, PATH_MAX_LEN, "%s", key);
    else
        snprintf(buf, PATH_MAX_LEN, "%s.%s", prefix, key);
}

/* check_keys: every key of obj is in allowed (NULL-terminated) and appears once. */
static ctca_err check_keys(const cJSON *obj, const char *path, const char *const *allowed,
                           ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN];
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        bool known = false;
        for (size_t i = 0; allowed != NULL && allowed[i] != NULL && !known; i++)
            known = strcmp(c->string, allowed[i]) == 0;
        join_path(p, path, c->string);
        if (!known)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: unknown key", p);
        for (const cJSON *d = c->next; d != NULL; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: duplicate key", p);
    }
    return CTCA_OK;
}

static ctca_err get_object(const cJSON *obj, const char *key, const char *path, bool required,
                           const cJSON **out, ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN];
    join_path(p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL)
        return required ? ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: missing", p) : CTCA_OK;
    if (!cJSON_IsObject(v))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected an object", p);
    *out = v;
    return CTCA_OK;
}

/* get_uint: an integer in [min, max]; *out keeps its default when optional and absent. */
static ctca_err get_uint(const cJSON *obj, const char *key, const char *path, bool required,
                         uint32_t min, uint32_t max, uint32_t *out, ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN];
    join_path(p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return required ? ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: missing", p) : CTCA_OK;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)min && d <= (double)max) || floor(d) != d)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected an integer in %u..%u", p,
                               (unsigned)min, (unsigned)max);
    *out = (uint32_t)d;
    return CTCA_OK;
}

/* get_bool: true or false; absent leaves *out as it is. */
static ctca_err get_bool(const cJSON *obj, const char *key, const char *path, bool *out,
                         ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN];
    join_path(p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return CTCA_OK;
    if (!cJSON_IsBool(v))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected true or false", p);
    *out = cJSON_IsTrue(v);
    return CTCA_OK;
}

/* get_string: a non-empty string of at most max bytes, or (nullable) null or
 * absent giving NULL. *out is a copy, caller frees. */
static ctca_err get_string(const cJSON *obj, const char *key, const char *path, bool required,
                           bool nullable, size_t max, char **out, ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN];
    join_path(p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL)
        return required ? ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: missing", p) : CTCA_OK;
    if (nullable && cJSON_IsNull(v))
        return CTCA_OK;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) > max)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected a non-empty string%s", p,
                               nullable ? " or null" : "");
    *out = strdup(v->valuestring);
    return *out == NULL ? CTCA_ERR_NOMEM : CTCA_OK;
}

/* get_string_array: a non-empty (unless allow_empty) array of distinct strings;
 * each is handed to each_fn. */
typedef ctca_err (*item_fn)(const char *s, const char *path, void *ctx, ctca_errbuf *eb);

static ctca_err get_string_array(const cJSON *obj, const char *key, const char *path,
                                 bool required, bool allow_empty, size_t max_items,
                                 item_fn each, void *ctx, ctca_errbuf *eb)
{
    char p[PATH_MAX_LEN], ip[PATH_MAX_LEN + 16];
    join_path(p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return required ? ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: missing", p) : CTCA_OK;
    if (!cJSON_IsArray(v))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected an array of strings", p);
    size_t n = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next, n++) {
        snprintf(ip, sizeof ip, "%s[%zu]", p, n);
        if (n >= max_items)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: more than %zu entries", p,
                                   max_items);
        if (!cJSON_IsString(c))
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected a string", ip);
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->valuestring, c->valuestring) == 0)
                return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: duplicate \"%s\"", ip,
                                       c->valuestring);
        CTCA_GUARD(each(c->valuestring, ip, ctx, eb));
    }
    if (n == 0 && !allow_empty)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: must not be empty", p);
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

static ctca_err ku_item(const char *s, const char *path, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    for (size_t i = 0; i < sizeof ku_names / sizeof ku_names[0]; i++) {
        if (strcmp(s, ku_names[i].name) == 0) {
            if (pr->key_usage & ku_names[i].bit)
                return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: \"%s\" repeats a usage", path, s);
            pr->key_usage |= ku_names[i].bit;
            return CTCA_OK;
        }
    }
    return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                           "%s: unknown key usage \"%s\" (allowed: digitalSignature, "
                           "contentCommitment, keyEncipherment, dataEncipherment, keyAgreement)",
                           path, s);
}

static ctca_err eku_item(const char *s, const char *path, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    const char *dotted = s;
    for (size_t i = 0; i < sizeof eku_names / sizeof eku_names[0]; i++)
        if (strcmp(s, eku_names[i].name) == 0)
            dotted = eku_names[i].dotted;
    ctca_oid oid;
    if (!ctca_oid_from_dotted(dotted, &oid))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: \"%s\" is neither a known extended key usage (serverAuth, "
                               "clientAuth, codeSigning, emailProtection, timeStamping, "
                               "OCSPSigning) nor a dotted OID",
                               path, s);
    for (size_t i = 0; i < pr->eku_count; i++)
        if (pr->eku[i].len == oid.len && memcmp(pr->eku[i].der, oid.der, oid.len) == 0)
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: \"%s\" repeats a usage", path, s);
    pr->eku[pr->eku_count++] = oid;
    return CTCA_OK;
}

static ctca_err policy_item(const char *s, const char *path, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    ctca_oid oid;
    if (!ctca_oid_from_dotted(s, &oid))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: \"%s\" is not a dotted OID", path, s);
    pr->policies[pr->policy_count++] = oid;
    return CTCA_OK;
}

static ctca_err san_item(const char *s, const char *path, void *ctx, ctca_errbuf *eb)
{
    ctca_profile *pr = ctx;
    for (size_t i = 0; i < sizeof san_names / sizeof san_names[0]; i++) {
        if (strcmp(s, san_names[i].name) == 0) {
            pr->allowed_san_types |= san_names[i].bit;
            return CTCA_OK;
        }
    }
    return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                           "%s: unknown SAN type \"%s\" (allowed: dns, ip, email, uri)", path, s);
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

static ctca_err get_url(const cJSON *obj, const char *key, const char *path, const char **out,
                        ctca_errbuf *eb)
{
    char *s = NULL, p[PATH_MAX_LEN];
    CTCA_GUARD(get_string(obj, key, path, false, true, CTCA_PROFILE_MAX_URL, &s, eb));
    join_path(p, path, key);
    if (s != NULL && !url_ok(s)) {
        free(s);
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: expected an http:// or https:// URL of printable ASCII", p);
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

static ctca_err parse_profile(const cJSON *obj, const char *path, ctca_profile *pr,
                              ctca_errbuf *eb)
{
    static const char *const keys[] = {
        "validity_days", "key_usage", "ext_key_usage", "allowed_san_types", "subject",
        "ocsp_url",      "ca_issuers_url", "crl_url",   "policy_oids",       "ct_version",
        "preca",         NULL};
    char p[PATH_MAX_LEN];
    if (!cJSON_IsObject(obj))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: expected an object", path);
    CTCA_GUARD(check_keys(obj, path, keys, eb));
    uint32_t days = 0;
    CTCA_GUARD(get_uint(obj, "validity_days", path, true, 1, CTCA_PROFILE_MAX_VALIDITY_DAYS,
                        &days, eb));
    pr->validity_days = days;
    uint32_t ct_version = 1;
    CTCA_GUARD(get_uint(obj, "ct_version", path, false, 1, 2, &ct_version, eb));
    pr->ct_version = ct_version;
    pr->preca = true;
    CTCA_GUARD(get_bool(obj, "preca", path, &pr->preca, eb));
    CTCA_GUARD(get_string_array(obj, "key_usage", path, true, false, 8, ku_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "ext_key_usage", path, true, false, CTCA_PROFILE_MAX_OIDS,
                                eku_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "allowed_san_types", path, true, false, 4, san_item, pr, eb));
    CTCA_GUARD(get_string_array(obj, "policy_oids", path, false, true, CTCA_PROFILE_MAX_OIDS,
                                policy_item, pr, eb));
    char *mode = NULL;
    CTCA_GUARD(get_string(obj, "subject", path, false, false, 32, &mode, eb));
    pr->subject = CTCA_SUBJECT_EMPTY;
    if (mode != NULL) {
        if (strcmp(mode, "cn_first_dns") == 0)
            pr->subject = CTCA_SUBJECT_CN_FIRST_DNS;
        else if (strcmp(mode, "cn_from_csr") == 0)
            pr->subject = CTCA_SUBJECT_CN_FROM_CSR;
        else if (strcmp(mode, "empty") != 0) {
            free(mode);
            join_path(p, path, "subject");
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                                   "%s: expected \"empty\", \"cn_first_dns\" or \"cn_from_csr\"", p);
        }
        free(mode);
    }
    CTCA_GUARD(get_url(obj, "ocsp_url", path, &pr->ocsp_url, eb));
    CTCA_GUARD(get_url(obj, "ca_issuers_url", path, &pr->ca_issuers_url, eb));
    CTCA_GUARD(get_url(obj, "crl_url", path, &pr->crl_url, eb));
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

static ctca_err parse_fallback(const cJSON *obj, ctca_ct_settings *ct, ctca_errbuf *eb)
{
    char *name = NULL;
    CTCA_GUARD(get_string(obj, "fallback", "ct", false, false, 32, &name, eb));
    if (name == NULL)
        return CTCA_OK;
    ctca_err rc = ctca_fallback_parse(name, &ct->fallback);
    free(name);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "ct.fallback: expected \"defer\", \"fail\" or \"unembedded\"");
    return CTCA_OK;
}

static ctca_err parse_queue(const cJSON *root, ctca_queue_settings *q, ctca_errbuf *eb)
{
    static const char *const keys[] = {"max_attempts", "backoff_base_ms", "backoff_max_ms",
                                       "breaker_failures", "breaker_cooldown_ms", "lease_ms",
                                       "recover_after_ms", "batch", NULL};
    *q = (ctca_queue_settings){.max_attempts = 10, .backoff_base_ms = 1000,
                               .backoff_max_ms = 3600000, .breaker_failures = 5,
                               .breaker_cooldown_ms = 60000, .lease_ms = 120000,
                               .recover_after_ms = 300000, .batch = 64};
    const cJSON *obj = NULL;
    CTCA_GUARD(get_object(root, "queue", "", false, &obj, eb));
    if (obj == NULL)
        return CTCA_OK;
    CTCA_GUARD(check_keys(obj, "queue", keys, eb));
    uint32_t attempts = q->max_attempts, failures = q->breaker_failures, batch = q->batch;
    CTCA_GUARD(get_uint(obj, "max_attempts", "queue", false, 1, 1000, &attempts, eb));
    CTCA_GUARD(get_uint(obj, "backoff_base_ms", "queue", false, 1, 86400000,
                        &q->backoff_base_ms, eb));
    CTCA_GUARD(get_uint(obj, "backoff_max_ms", "queue", false, 1, 604800000,
                        &q->backoff_max_ms, eb));
    CTCA_GUARD(get_uint(obj, "breaker_failures", "queue", false, 1, 1000, &failures, eb));
    CTCA_GUARD(get_uint(obj, "breaker_cooldown_ms", "queue", false, 1, 86400000,
                        &q->breaker_cooldown_ms, eb));
    CTCA_GUARD(get_uint(obj, "lease_ms", "queue", false, 1000, 86400000, &q->lease_ms, eb));
    CTCA_GUARD(get_uint(obj, "recover_after_ms", "queue", false, 0, 604800000,
                        &q->recover_after_ms, eb));
    CTCA_GUARD(get_uint(obj, "batch", "queue", false, 1, 1024, &batch, eb));
    if (q->backoff_max_ms < q->backoff_base_ms)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "queue.backoff_max_ms: %u is below queue.backoff_base_ms (%u)",
                               (unsigned)q->backoff_max_ms, (unsigned)q->backoff_base_ms);
    q->max_attempts = attempts;
    q->breaker_failures = failures;
    q->batch = batch;
    return CTCA_OK;
}

static ctca_err parse_ocsp(const cJSON *root, ctca_ocsp_settings *o, ctca_errbuf *eb)
{
    static const char *const keys[] = {"validity_hours", "responder_cert", "responder_key",
                                       NULL};
    o->validity_hours = 96;
    const cJSON *obj = NULL;
    CTCA_GUARD(get_object(root, "ocsp", "", false, &obj, eb));
    if (obj == NULL)
        return CTCA_OK;
    CTCA_GUARD(check_keys(obj, "ocsp", keys, eb));
    /* CA/B Forum Baseline Requirements 4.9.10: a response's validity interval
     * is at least eight hours and at most ten days. */
    CTCA_GUARD(get_uint(obj, "validity_hours", "ocsp", false, 8, 240, &o->validity_hours, eb));
    CTCA_GUARD(get_string(obj, "responder_cert", "ocsp", false, true, 4096, &o->responder_cert,
                          eb));
    CTCA_GUARD(get_string(obj, "responder_key", "ocsp", false, true, 4096, &o->responder_key,
                          eb));
    if ((o->responder_cert == NULL) != (o->responder_key == NULL))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "ocsp.%s: missing (a delegated responder needs both "
                               "responder_cert and responder_key)",
                               o->responder_cert == NULL ? "responder_cert" : "responder_key");
    return CTCA_OK;
}

static ctca_err parse_ct(const cJSON *root, ctca_ct_settings *ct, ctca_errbuf *eb)
{
    static const char *const keys[] = {"log_timeout_ms", "deadline_ms", "min_scts",
                                       "min_operators", "policy", "allow_test_logs",
                                       "fallback", NULL};
    ct->log_timeout_ms = 10000;
    ct->deadline_ms = 20000;
    ct->min_scts = 2;
    ct->min_operators = 2;
    ct->fallback = CTCA_FALLBACK_DEFER;
    const cJSON *obj = NULL;
    CTCA_GUARD(get_object(root, "ct", "", false, &obj, eb));
    if (obj == NULL)
        return CTCA_OK;
    CTCA_GUARD(check_keys(obj, "ct", keys, eb));
    uint32_t v = ct->min_scts, w = ct->min_operators;
    CTCA_GUARD(get_uint(obj, "log_timeout_ms", "ct", false, 1, 600000, &ct->log_timeout_ms, eb));
    CTCA_GUARD(get_uint(obj, "deadline_ms", "ct", false, 1, 3600000, &ct->deadline_ms, eb));
    CTCA_GUARD(get_uint(obj, "min_scts", "ct", false, 1, 64, &v, eb));
    CTCA_GUARD(get_uint(obj, "min_operators", "ct", false, 1, 64, &w, eb));
    CTCA_GUARD(get_string(obj, "policy", "ct", false, true, 4096, &ct->policy, eb));
    CTCA_GUARD(get_bool(obj, "allow_test_logs", "ct", &ct->allow_test_logs, eb));
    CTCA_GUARD(parse_fallback(obj, ct, eb));
    if (ct->policy != NULL) {
        const char *other = cJSON_GetObjectItemCaseSensitive(obj, "min_scts") ? "min_scts"
                            : cJSON_GetObjectItemCaseSensitive(obj, "min_operators")
                                ? "min_operators"
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

static ctca_err parse_root(const cJSON *root, ctca_config *cfg, ctca_errbuf *eb)
{
    static const char *const keys[] = {"ca_cert", "ca_key", "preca_cert", "preca_key", "store",
                                       "log_list", "ct",    "queue",      "ocsp",      "profiles",
                                       NULL};
    if (!cJSON_IsObject(root))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "the document must be a JSON object");
    CTCA_GUARD(check_keys(root, "", keys, eb));
    CTCA_GUARD(get_string(root, "ca_cert", "", true, false, 4096, &cfg->ca_cert, eb));
    CTCA_GUARD(get_string(root, "ca_key", "", true, false, 4096, &cfg->ca_key, eb));
    CTCA_GUARD(get_string(root, "preca_cert", "", false, true, 4096, &cfg->preca_cert, eb));
    CTCA_GUARD(get_string(root, "preca_key", "", false, true, 4096, &cfg->preca_key, eb));
    if ((cfg->preca_cert == NULL) != (cfg->preca_key == NULL))
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: set preca_cert and preca_key together (or neither)",
                               cfg->preca_cert == NULL ? "preca_cert" : "preca_key");
    CTCA_GUARD(get_string(root, "store", "", true, false, 4096, &cfg->store, eb));
    CTCA_GUARD(get_string(root, "log_list", "", false, true, 4096, &cfg->log_list, eb));
    CTCA_GUARD(parse_ct(root, &cfg->ct, eb));
    CTCA_GUARD(parse_queue(root, &cfg->queue, eb));
    CTCA_GUARD(parse_ocsp(root, &cfg->ocsp, eb));

    const cJSON *profiles = NULL;
    CTCA_GUARD(get_object(root, "profiles", "", true, &profiles, eb));
    size_t n = (size_t)cJSON_GetArraySize(profiles);
    if (n == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "profiles: must name at least one profile");
    if (n > CTCA_CONFIG_MAX_PROFILES)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "profiles: more than %d profiles",
                               CTCA_CONFIG_MAX_PROFILES);
    cfg->profiles = calloc(n, sizeof *cfg->profiles);
    if (cfg->profiles == NULL)
        return CTCA_ERR_NOMEM;
    char p[PATH_MAX_LEN];
    for (const cJSON *c = profiles->child; c != NULL; c = c->next) {
        join_path(p, "profiles", c->string);
        if (!profile_name_ok(c->string))
            return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                                   "%s: a profile name is 1..%d of [A-Za-z0-9._-]", p,
                                   CTCA_PROFILE_NAME_MAX);
        for (const cJSON *d = c->next; d != NULL; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: duplicate key", p);
        ctca_profile *pr = &cfg->profiles[cfg->profile_count++];
        pr->name = strdup(c->string);
        if (pr->name == NULL)
            return CTCA_ERR_NOMEM;
        CTCA_GUARD(parse_profile(c, p, pr, eb));
    }
    return CTCA_OK;
}

ctca_err ctca_config_parse(const char *json, size_t len, ctca_config **out, ctca_errbuf *eb)
{
    *out = NULL;
    if (len > CTCA_CONFIG_MAX_BYTES)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "larger than %zu bytes",
                               CTCA_CONFIG_MAX_BYTES);
    ctca_err rc = CTCA_OK;
    ctca_config *cfg = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (root == NULL) {
        size_t off = cJSON_GetErrorPtr() != NULL && cJSON_GetErrorPtr() >= json
                         ? (size_t)(cJSON_GetErrorPtr() - json)
                         : 0;
        return ctca_errbuf_set(eb, CTCA_ERR_JSON, "JSON syntax error near byte %zu", off);
    }
    for (const char *q = end; q < json + len; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            rc = ctca_errbuf_set(eb, CTCA_ERR_JSON, "trailing bytes after the JSON document");
            goto out;
        }
    }
    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    rc = parse_root(root, cfg, eb);
    if (rc != CTCA_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    ctca_config_free(cfg);
    cJSON_Delete(root);
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

static cJSON *default_profile(unsigned days, const char *const *ku, int nku,
                              const char *const *eku, int neku, const char *const *sans,
                              int nsans, const char *subject)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL)
        return NULL;
    bool ok = cJSON_AddNumberToObject(p, "validity_days", days) != NULL &&
              cJSON_AddItemToObject(p, "key_usage", cJSON_CreateStringArray(ku, nku)) &&
              cJSON_AddItemToObject(p, "ext_key_usage", cJSON_CreateStringArray(eku, neku)) &&
              cJSON_AddItemToObject(p, "allowed_san_types",
                                    cJSON_CreateStringArray(sans, nsans)) &&
              cJSON_AddStringToObject(p, "subject", subject) != NULL &&
              cJSON_AddNullToObject(p, "ocsp_url") != NULL &&
              cJSON_AddNullToObject(p, "ca_issuers_url") != NULL &&
              cJSON_AddNullToObject(p, "crl_url") != NULL &&
              cJSON_AddItemToObject(p, "policy_oids", cJSON_CreateArray());
    if (!ok) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
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
    cJSON *root = cJSON_CreateObject(), *ct = NULL, *profiles = NULL, *srv = NULL, *cli = NULL;
    if (root == NULL)
        goto out;
    if (cJSON_AddStringToObject(root, "ca_cert", CTCA_CA_CERT_FILE) == NULL ||
        cJSON_AddStringToObject(root, "ca_key", CTCA_CA_KEY_FILE) == NULL ||
        cJSON_AddStringToObject(root, "store", CTCA_CA_STORE_FILE) == NULL)
        goto out;
    if (preca && (cJSON_AddStringToObject(root, "preca_cert", CTCA_CA_PRECA_CERT_FILE) == NULL ||
                  cJSON_AddStringToObject(root, "preca_key", CTCA_CA_PRECA_KEY_FILE) == NULL))
        goto out;
    if ((log_list != NULL ? cJSON_AddStringToObject(root, "log_list", log_list)
                          : cJSON_AddNullToObject(root, "log_list")) == NULL)
        goto out;
    ct = cJSON_AddObjectToObject(root, "ct");
    if (ct == NULL || cJSON_AddNumberToObject(ct, "log_timeout_ms", 10000) == NULL ||
        cJSON_AddNumberToObject(ct, "deadline_ms", 20000) == NULL ||
        cJSON_AddNumberToObject(ct, "min_scts", 2) == NULL ||
        cJSON_AddNumberToObject(ct, "min_operators", 2) == NULL ||
        cJSON_AddStringToObject(ct, "fallback", "defer") == NULL)
        goto out;
    profiles = cJSON_AddObjectToObject(root, "profiles");
    if (profiles == NULL)
        goto out;
    srv = default_profile(90, srv_ku, 2, srv_eku, 1, srv_san, 2, "cn_first_dns");
    if (srv == NULL || !cJSON_AddItemToObject(profiles, "tls-server", srv))
        goto out;
    srv = NULL;
    cli = default_profile(90, cli_ku, 1, cli_eku, 1, cli_san, 3, "cn_from_csr");
    if (cli == NULL || !cJSON_AddItemToObject(profiles, "tls-client", cli))
        goto out;
    cli = NULL;
    char *text = cJSON_Print(root);
    if (text == NULL)
        goto out;
    size_t n = strlen(text);
    *out = malloc(n + 2);
    if (*out != NULL) {
        memcpy(*out, text, n);
        memcpy(*out + n, "\n", 2);
        rc = CTCA_OK;
    }
    cJSON_free(text);
out:
    cJSON_Delete(srv);
    cJSON_Delete(cli);
    cJSON_Delete(root);
    return rc;
}
