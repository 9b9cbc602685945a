/* Chrome v3 log list loading and CA-side log selection (ctca/loglist.h). */
#include "ctca/loglist.h"

#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/asn1.h"
#include "ctca/util.h"

/* The JSON path of the field being read, for error messages. */
typedef struct path {
    char s[160];
} path;

static ctca_err field_err(ctca_errbuf *eb, const path *p, const char *field, const char *why)
{
    return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "%s%s%s: %s", p->s, p->s[0] ? "." : "",
                           field, why);
}

static ctca_err get_string(const cJSON *obj, const path *p, const char *field, bool required,
                           char **out, ctca_errbuf *eb)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    *out = NULL;
    if (it == NULL)
        return required ? field_err(eb, p, field, "missing") : CTCA_OK;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return field_err(eb, p, field, "must be a string");
    *out = strdup(it->valuestring);
    return *out ? CTCA_OK : CTCA_ERR_NOMEM;
}

static ctca_err get_time(const cJSON *obj, const path *p, const char *field, int64_t *out,
                         ctca_errbuf *eb)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (it == NULL)
        return field_err(eb, p, field, "missing");
    if (!cJSON_IsString(it) || ctca_time_parse_rfc3339(it->valuestring, out) != CTCA_OK)
        return field_err(eb, p, field, "must be an RFC 3339 timestamp");
    return CTCA_OK;
}

static ctca_err get_b64(const cJSON *obj, const path *p, const char *field, uint8_t **out,
                        size_t *len, ctca_errbuf *eb)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (it == NULL)
        return field_err(eb, p, field, "missing");
    if (!cJSON_IsString(it))
        return field_err(eb, p, field, "must be a base64 string");
    ctca_err rc = ctca_base64_decode(it->valuestring, strlen(it->valuestring), out, len);
    if (rc == CTCA_ERR_BASE64)
        return field_err(eb, p, field, "is not valid base64");
    return rc;
}

static void sub_path(path *child, const path *parent, const char *field, long index)
{
    if (index >= 0)
        snprintf(child->s, sizeof child->s, "%s%s%s[%ld]", parent->s, parent->s[0] ? "." : "",
                 field, index);
    else
        snprintf(child->s, sizeof child->s, "%s%s%s", parent->s, parent->s[0] ? "." : "", field);
}

static const char *const state_names[] = {"none",   "pending", "qualified", "usable",
                                          "readonly", "retired", "rejected"};

const char *ctca_log_state_name(ctca_log_state state)
{
    return (size_t)state < sizeof state_names / sizeof state_names[0] ? state_names[state]
                                                                       : "unknown";
}

static ctca_err parse_state(const cJSON *log, const path *p, ctca_log_info *li, ctca_errbuf *eb)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(log, "state");
    if (st == NULL)
        return CTCA_OK;
    if (!cJSON_IsObject(st) || cJSON_GetArraySize(st) != 1)
        return field_err(eb, p, "state", "must be an object with exactly one state");
    const cJSON *inner = st->child;
    path sp;
    sub_path(&sp, p, "state", -1);
    for (size_t i = 1; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp(inner->string, state_names[i]) != 0)
            continue;
        if (!cJSON_IsObject(inner))
            return field_err(eb, &sp, inner->string, "must be an object");
        li->state = (ctca_log_state)i;
        path ip;
        sub_path(&ip, &sp, inner->string, -1);
        CTCA_GUARD(get_time(inner, &ip, "timestamp", &li->state_ms, eb));
        if (li->state == CTCA_LOG_STATE_READONLY &&
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(inner, "final_tree_head")))
            return field_err(eb, &ip, "final_tree_head", "missing");
        return CTCA_OK;
    }
    return field_err(eb, &sp, inner->string, "is not a known log state");
}

static ctca_err parse_interval(const cJSON *log, const path *p, ctca_log_info *li,
                               ctca_errbuf *eb)
{
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(log, "temporal_interval");
    if (ti == NULL)
        return CTCA_OK;
    if (!cJSON_IsObject(ti))
        return field_err(eb, p, "temporal_interval", "must be an object");
    path tp;
    sub_path(&tp, p, "temporal_interval", -1);
    CTCA_GUARD(get_time(ti, &tp, "start_inclusive", &li->interval_start_ms, eb));
    CTCA_GUARD(get_time(ti, &tp, "end_exclusive", &li->interval_end_ms, eb));
    if (li->interval_end_ms <= li->interval_start_ms)
        return field_err(eb, &tp, "end_exclusive", "must be after start_inclusive");
    li->has_interval = true;
    return CTCA_OK;
}

static ctca_err parse_prev_operators(const cJSON *log, const path *p, ctca_log_info *li,
                                     ctca_errbuf *eb)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(log, "previous_operators");
    if (po == NULL)
        return CTCA_OK;
    if (!cJSON_IsArray(po))
        return field_err(eb, p, "previous_operators", "must be an array");
    int n = cJSON_GetArraySize(po);
    li->previous_operators = calloc((size_t)n + 1, sizeof *li->previous_operators);
    if (li->previous_operators == NULL)
        return CTCA_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(po, i);
        path ep;
        sub_path(&ep, p, "previous_operators", i);
        if (!cJSON_IsObject(e))
            return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "%s: must be an object", ep.s);
        ctca_prev_operator *op = &li->previous_operators[li->n_previous_operators++];
        CTCA_GUARD(get_string(e, &ep, "name", true, &op->name, eb));
        CTCA_GUARD(get_time(e, &ep, "end_time", &op->end_ms, eb));
    }
    return CTCA_OK;
}

/* ctca's extension for RFC 9162 logs (README, "Log lists"): "ct_version" 1
 * (the default) or 2, and for 2 "log_id_oid", the log's OID in dotted form. */
static ctca_err parse_version(const cJSON *log, const path *p, bool tiled, ctca_log_info *li,
                              ctca_errbuf *eb)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(log, "ct_version");
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(log, "log_id_oid");
    li->ct_version = 1;
    if (v != NULL) {
        if (!cJSON_IsNumber(v) || (v->valuedouble != 1.0 && v->valuedouble != 2.0))
            return field_err(eb, p, "ct_version", "must be 1 or 2");
        li->ct_version = (unsigned)v->valuedouble;
    }
    if (li->ct_version == 1) {
        if (oid != NULL)
            return field_err(eb, p, "log_id_oid", "is only for logs with ct_version 2");
        return CTCA_OK;
    }
    if (tiled)
        return field_err(eb, p, "ct_version", "must be 1 for a tiled (static-ct-api) log");
    if (oid == NULL)
        return field_err(eb, p, "log_id_oid", "missing (required with ct_version 2)");
    if (!cJSON_IsString(oid) ||
        ctca_log_id_v2_from_string(oid->valuestring, &li->log_id_v2) != CTCA_OK)
        return field_err(eb, p, "log_id_oid",
                         "must be a dotted OID whose DER contents are 2..127 octets");
    return CTCA_OK;
}

static ctca_err parse_log(const cJSON *log, const path *p, bool tiled, ctca_log_info *li,
                          ctca_errbuf *eb)
{
    if (!cJSON_IsObject(log))
        return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "%s: must be an object", p->s);
    li->tiled = tiled;
    CTCA_GUARD(get_string(log, p, "description", false, &li->description, eb));
    CTCA_GUARD(get_b64(log, p, "key", &li->key_der, &li->key_len, eb));
    CTCA_GUARD(parse_version(log, p, tiled, li, eb));
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(li->key_der, li->key_len, digest);
    /* An RFC 9162 log is named by its OID; log_id (the key hash, which ctca
     * uses to tell logs apart) may then be left out. */
    if (li->ct_version == 2 && cJSON_GetObjectItemCaseSensitive(log, "log_id") == NULL) {
        memcpy(li->log_id, digest, CTCA_LOG_ID_LEN);
    } else {
        uint8_t *id = NULL;
        size_t id_len = 0;
        CTCA_GUARD(get_b64(log, p, "log_id", &id, &id_len, eb));
        bool id_ok = id_len == CTCA_LOG_ID_LEN;
        if (id_ok)
            memcpy(li->log_id, id, CTCA_LOG_ID_LEN);
        free(id);
        if (!id_ok)
            return field_err(eb, p, "log_id", "must be 32 bytes");
        if (memcmp(digest, li->log_id, CTCA_LOG_ID_LEN) != 0)
            return field_err(eb, p, "log_id", "is not the SHA-256 of the log's key");
    }
    /* Once here rather than per use: OpenSSL 3 key decoding costs far more
     * than an SCT verification. A key ctca cannot use stays NULL, so a list
     * naming one still loads. */
    if (ctca_log_key_from_spki(ctca_view_make(li->key_der, li->key_len), &li->key) != CTCA_OK)
        li->key = NULL;
    if (tiled) {
        CTCA_GUARD(get_string(log, p, "submission_url", true, &li->url, eb));
        CTCA_GUARD(get_string(log, p, "monitoring_url", true, &li->monitoring_url, eb));
    } else {
        CTCA_GUARD(get_string(log, p, "url", true, &li->url, eb));
    }
    const cJSON *mmd = cJSON_GetObjectItemCaseSensitive(log, "mmd");
    if (mmd == NULL)
        return field_err(eb, p, "mmd", "missing");
    if (!cJSON_IsNumber(mmd) || mmd->valuedouble < 0 || mmd->valuedouble > 1e9 ||
        mmd->valuedouble != (double)(int64_t)mmd->valuedouble)
        return field_err(eb, p, "mmd", "must be a non-negative whole number of seconds");
    li->mmd_s = (int64_t)mmd->valuedouble;
    CTCA_GUARD(get_string(log, p, "log_type", false, &li->log_type, eb));
    CTCA_GUARD(parse_state(log, p, li, eb));
    CTCA_GUARD(parse_interval(log, p, li, eb));
    return parse_prev_operators(log, p, li, eb);
}

static ctca_err count_logs(const cJSON *ops, size_t *n, ctca_errbuf *eb)
{
    *n = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        const char *kinds[] = {"logs", "tiled_logs"};
        for (int k = 0; k < 2; k++) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(op, kinds[k]);
            if (cJSON_IsArray(arr))
                *n += (size_t)cJSON_GetArraySize(arr);
        }
    }
    if (*n > CTCA_LOG_LIST_MAX_LOGS)
        return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "more than %d logs",
                               CTCA_LOG_LIST_MAX_LOGS);
    return CTCA_OK;
}

static ctca_err parse_operators(const cJSON *root, ctca_log_list *list, ctca_errbuf *eb)
{
    path top = {{0}};
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "operators");
    if (!cJSON_IsArray(ops))
        return field_err(eb, &top, "operators", ops ? "must be an array" : "missing");
    size_t n_logs;
    CTCA_GUARD(count_logs(ops, &n_logs, eb));
    size_t n_ops = (size_t)cJSON_GetArraySize(ops);
    list->operators = calloc(n_ops + 1, sizeof *list->operators);
    list->logs = calloc(n_logs + 1, sizeof *list->logs);
    if (list->operators == NULL || list->logs == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n_ops; i++) {
        const cJSON *op = cJSON_GetArrayItem(ops, (int)i);
        path op_path;
        sub_path(&op_path, &top, "operators", (long)i);
        if (!cJSON_IsObject(op))
            return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "%s: must be an object", op_path.s);
        CTCA_GUARD(get_string(op, &op_path, "name", true, &list->operators[i], eb));
        list->n_operators++;
        const char *kinds[] = {"logs", "tiled_logs"};
        for (int k = 0; k < 2; k++) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(op, kinds[k]);
            if (arr == NULL && k == 1)
                continue;
            if (!cJSON_IsArray(arr))
                return field_err(eb, &op_path, kinds[k], arr ? "must be an array" : "missing");
            for (int j = 0; j < cJSON_GetArraySize(arr); j++) {
                path lp;
                sub_path(&lp, &op_path, kinds[k], j);
                ctca_log_info *li = &list->logs[list->n_logs++];
                li->operator_name = list->operators[i];
                li->operator_index = i;
                CTCA_GUARD(parse_log(cJSON_GetArrayItem(arr, j), &lp, k == 1, li, eb));
                if (ctca_log_list_find(list, li->log_id) != li)
                    return field_err(eb, &lp, "log_id", "appears twice in the list");
                if (li->ct_version == 2 && ctca_log_list_find_oid(list, &li->log_id_v2) != li)
                    return field_err(eb, &lp, "log_id_oid", "appears twice in the list");
            }
        }
    }
    return CTCA_OK;
}

ctca_err ctca_log_list_parse(const char *json, size_t len, ctca_log_list **out, ctca_errbuf *eb)
{
    if (len > CTCA_LOG_LIST_MAX_BYTES)
        return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "larger than %zu bytes",
                               CTCA_LOG_LIST_MAX_BYTES);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (root == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_JSON, "not valid JSON (at byte %zu)",
                               end ? (size_t)(end - json) : (size_t)0);
    ctca_err rc = CTCA_OK;
    ctca_log_list *list = calloc(1, sizeof *list);
    if (list == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    path top = {{0}};
    if (!cJSON_IsObject(root)) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "top level must be a JSON object");
        goto out;
    }
    if ((rc = get_string(root, &top, "version", false, &list->version, eb)) != CTCA_OK ||
        (rc = get_time(root, &top, "log_list_timestamp", &list->timestamp_ms, eb)) != CTCA_OK ||
        (rc = parse_operators(root, list, eb)) != CTCA_OK)
        goto out;
    *out = list;
    list = NULL;
out:
    ctca_log_list_free(list);
    cJSON_Delete(root);
    return rc;
}

ctca_err ctca_log_list_load(const char *path_name, ctca_log_list **out, ctca_errbuf *eb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_file_read(path_name, CTCA_LOG_LIST_MAX_BYTES, &buf, &len, eb));
    ctca_errbuf inner = {{0}};
    ctca_err rc = ctca_log_list_parse((const char *)buf, len, out, &inner);
    free(buf);
    if (rc != CTCA_OK)
        ctca_errbuf_set(eb, rc, "%s: %s", path_name, inner.msg);
    return rc;
}

void ctca_log_list_free(ctca_log_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n_logs; i++) {
        ctca_log_info *li = &list->logs[i];
        free(li->description);
        free(li->key_der);
        ctca_log_key_free(li->key);
        free(li->url);
        free(li->monitoring_url);
        free(li->log_type);
        for (size_t j = 0; j < li->n_previous_operators; j++)
            free(li->previous_operators[j].name);
        free(li->previous_operators);
    }
    for (size_t i = 0; i < list->n_operators; i++)
        free(list->operators[i]);
    free(list->operators);
    free(list->logs);
    free(list->version);
    free(list);
}

const ctca_log_info *ctca_log_list_find(const ctca_log_list *list,
                                        const uint8_t log_id[CTCA_LOG_ID_LEN])
{
    for (size_t i = 0; i < list->n_logs; i++)
        if (memcmp(list->logs[i].log_id, log_id, CTCA_LOG_ID_LEN) == 0)
            return &list->logs[i];
    return NULL;
}

const ctca_log_info *ctca_log_list_find_oid(const ctca_log_list *list, const ctca_log_id_v2 *oid)
{
    for (size_t i = 0; i < list->n_logs; i++)
        if (list->logs[i].ct_version == 2 && ctca_log_id_v2_eq(&list->logs[i].log_id_v2, oid))
            return &list->logs[i];
    return NULL;
}

static bool eligible(const ctca_log_info *li, int64_t not_after_ms, bool allow_test_logs,
                     unsigned ct_version)
{
    if (li->ct_version != ct_version)
        return false;
    if (li->state != CTCA_LOG_STATE_USABLE && li->state != CTCA_LOG_STATE_QUALIFIED)
        return false;
    if (li->has_interval &&
        (not_after_ms < li->interval_start_ms || not_after_ms >= li->interval_end_ms))
        return false;
    if (li->log_type != NULL && !allow_test_logs &&
        (strcmp(li->log_type, "test") == 0 || strcmp(li->log_type, "monitoring_only") == 0))
        return false;
    return true;
}

ctca_err ctca_log_list_select(const ctca_log_list *list, int64_t not_after_ms,
                              bool allow_test_logs, unsigned ct_version, size_t max,
                              const ctca_log_info ***out, size_t *n_out)
{
    const ctca_log_info **sel = calloc(list->n_logs + 1, sizeof *sel);
    bool *taken = calloc(list->n_logs + 1, sizeof *taken);
    if (sel == NULL || taken == NULL) {
        free(sel);
        free(taken);
        return CTCA_ERR_NOMEM;
    }
    size_t n = 0;
    /* Round-robin over operators: the k-th pass takes each operator's k-th
     * eligible log, so every prefix is as operator-diverse as the list allows. */
    for (bool progress = true; progress && n < max;) {
        progress = false;
        for (size_t op = 0; op < list->n_operators && n < max; op++) {
            for (size_t i = 0; i < list->n_logs; i++) {
                const ctca_log_info *li = &list->logs[i];
                if (taken[i] || li->operator_index != op ||
                    !eligible(li, not_after_ms, allow_test_logs, ct_version))
                    continue;
                taken[i] = true;
                sel[n++] = li;
                progress = true;
                break;
            }
        }
    }
    free(taken);
    if (n == 0) {
        free(sel);
        return CTCA_ERR_NO_LOGS;
    }
    *out = sel;
    *n_out = n;
    return CTCA_OK;
}
