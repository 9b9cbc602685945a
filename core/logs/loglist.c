/* Chrome v3 log list loading and CA-side log selection (ctca/loglist.h). */
#include "ctca/loglist.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn1/json_int.h"
#include "ctca/asn1.h"
#include "ctca/util.h"

/* Chrome's clients, like ct-go's loglist3, read the fields they know and skip
 * the rest, so that a newer list still loads. */
static const ctca_json_format list_format = {
    .code = CTCA_ERR_LOG_LIST,
    .syntax_code = CTCA_ERR_JSON,
    .max_bytes = CTCA_LOG_LIST_MAX_BYTES,
    .max_depth = 32,
    .unknown = CTCA_JSON_UNKNOWN_IGNORE,
    .unknown_msg = "unknown key",
    .path_prefix = "",
};

static ctca_err get_string(const ctca_json_node *obj, const char *field, bool required,
                           char **out, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, field);
    *out = NULL;
    if (n.v == NULL)
        return required ? ctca_json_fail(&n, eb, "missing") : CTCA_OK;
    const char *s = ctca_json_string(&n);
    if (s == NULL)
        return ctca_json_fail(&n, eb, "must be a string");
    *out = strdup(s);
    return *out ? CTCA_OK : CTCA_ERR_NOMEM;
}

static ctca_err get_time(const ctca_json_node *obj, const char *field, int64_t *out,
                         ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, field);
    if (n.v == NULL)
        return ctca_json_fail(&n, eb, "missing");
    const char *s = ctca_json_string(&n);
    if (s == NULL || ctca_time_parse_rfc3339(s, out) != CTCA_OK)
        return ctca_json_fail(&n, eb, "must be an RFC 3339 timestamp");
    return CTCA_OK;
}

static ctca_err get_b64(const ctca_json_node *obj, const char *field, uint8_t **out, size_t *len,
                        ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(obj, field);
    if (n.v == NULL)
        return ctca_json_fail(&n, eb, "missing");
    if (!json_is_string(n.v))
        return ctca_json_fail(&n, eb, "must be a base64 string");
    ctca_err rc = ctca_base64_decode(json_string_value(n.v), json_string_length(n.v), out, len);
    if (rc == CTCA_ERR_BASE64)
        return ctca_json_fail(&n, eb, "is not valid base64");
    return rc;
}

static const char *const state_names[] = {"none",   "pending", "qualified", "usable",
                                          "readonly", "retired", "rejected"};

const char *ctca_log_state_name(ctca_log_state state)
{
    return (size_t)state < sizeof state_names / sizeof state_names[0] ? state_names[state]
                                                                       : "unknown";
}

static ctca_err parse_state(const ctca_json_node *log, ctca_log_info *li, ctca_errbuf *eb)
{
    ctca_json_node st = ctca_json_member(log, "state");
    if (st.v == NULL)
        return CTCA_OK;
    if (!json_is_object(st.v) || json_object_size(st.v) != 1)
        return ctca_json_fail(&st, eb, "must be an object with exactly one state");
    const char *name = json_object_iter_key(json_object_iter((json_t *)st.v));
    ctca_json_node inner = ctca_json_member(&st, name);
    for (size_t i = 1; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp(name, state_names[i]) != 0)
            continue;
        if (!json_is_object(inner.v))
            return ctca_json_fail(&inner, eb, "must be an object");
        li->state = (ctca_log_state)i;
        CTCA_GUARD(get_time(&inner, "timestamp", &li->state_ms, eb));
        ctca_json_node fth = ctca_json_member(&inner, "final_tree_head");
        if (li->state == CTCA_LOG_STATE_READONLY && !json_is_object(fth.v))
            return ctca_json_fail(&fth, eb, "missing");
        return CTCA_OK;
    }
    return ctca_json_fail(&inner, eb, "is not a known log state");
}

static ctca_err parse_interval(const ctca_json_node *log, ctca_log_info *li, ctca_errbuf *eb)
{
    ctca_json_node ti = ctca_json_member(log, "temporal_interval");
    if (ti.v == NULL)
        return CTCA_OK;
    if (!json_is_object(ti.v))
        return ctca_json_fail(&ti, eb, "must be an object");
    CTCA_GUARD(get_time(&ti, "start_inclusive", &li->interval_start_ms, eb));
    CTCA_GUARD(get_time(&ti, "end_exclusive", &li->interval_end_ms, eb));
    if (li->interval_end_ms <= li->interval_start_ms) {
        ctca_json_node end = ctca_json_member(&ti, "end_exclusive");
        return ctca_json_fail(&end, eb, "must be after start_inclusive");
    }
    li->has_interval = true;
    return CTCA_OK;
}

static ctca_err parse_prev_operators(const ctca_json_node *log, ctca_log_info *li,
                                     ctca_errbuf *eb)
{
    ctca_json_node po = ctca_json_member(log, "previous_operators");
    if (po.v == NULL)
        return CTCA_OK;
    if (!json_is_array(po.v))
        return ctca_json_fail(&po, eb, "must be an array");
    size_t n = json_array_size(po.v);
    li->previous_operators = calloc(n + 1, sizeof *li->previous_operators);
    if (li->previous_operators == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        ctca_json_node e = ctca_json_element(&po, i);
        if (!json_is_object(e.v))
            return ctca_json_fail(&e, eb, "must be an object");
        ctca_prev_operator *op = &li->previous_operators[li->n_previous_operators++];
        CTCA_GUARD(get_string(&e, "name", true, &op->name, eb));
        CTCA_GUARD(get_time(&e, "end_time", &op->end_ms, eb));
    }
    return CTCA_OK;
}

/* ctca's extension for RFC 9162 logs (README, "Log lists"): "ct_version" 1
 * (the default) or 2, and for 2 "log_id_oid", the log's OID in dotted form. */
static ctca_err parse_version(const ctca_json_node *log, bool tiled, ctca_log_info *li,
                              ctca_errbuf *eb)
{
    ctca_json_node v = ctca_json_member(log, "ct_version");
    ctca_json_node oid = ctca_json_member(log, "log_id_oid");
    int64_t version = 1;
    if (v.v != NULL && !ctca_json_int_in(v.v, 1, 2, &version))
        return ctca_json_fail(&v, eb, "must be 1 or 2");
    li->ct_version = (unsigned)version;
    if (li->ct_version == 1) {
        if (oid.v != NULL)
            return ctca_json_fail(&oid, eb, "is only for logs with ct_version 2");
        return CTCA_OK;
    }
    if (tiled)
        return ctca_json_fail(&v, eb, "must be 1 for a tiled (static-ct-api) log");
    if (oid.v == NULL)
        return ctca_json_fail(&oid, eb, "missing (required with ct_version 2)");
    const char *dotted = ctca_json_string(&oid);
    if (dotted == NULL || ctca_log_id_v2_from_string(dotted, &li->log_id_v2) != CTCA_OK)
        return ctca_json_fail(&oid, eb,
                              "must be a dotted OID whose DER contents are 2..127 octets");
    return CTCA_OK;
}

static ctca_err parse_log(const ctca_json_node *log, bool tiled, ctca_log_info *li,
                          ctca_errbuf *eb)
{
    if (!json_is_object(log->v))
        return ctca_json_fail(log, eb, "must be an object");
    li->tiled = tiled;
    CTCA_GUARD(get_string(log, "description", false, &li->description, eb));
    CTCA_GUARD(get_b64(log, "key", &li->key_der, &li->key_len, eb));
    CTCA_GUARD(parse_version(log, tiled, li, eb));
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(li->key_der, li->key_len, digest);
    /* An RFC 9162 log is named by its OID; log_id (the key hash, which ctca
     * uses to tell logs apart) may then be left out. */
    ctca_json_node idn = ctca_json_member(log, "log_id");
    if (li->ct_version == 2 && idn.v == NULL) {
        memcpy(li->log_id, digest, CTCA_LOG_ID_LEN);
    } else {
        uint8_t *id = NULL;
        size_t id_len = 0;
        CTCA_GUARD(get_b64(log, "log_id", &id, &id_len, eb));
        bool id_ok = id_len == CTCA_LOG_ID_LEN;
        if (id_ok)
            memcpy(li->log_id, id, CTCA_LOG_ID_LEN);
        free(id);
        if (!id_ok)
            return ctca_json_fail(&idn, eb, "must be 32 bytes");
        if (memcmp(digest, li->log_id, CTCA_LOG_ID_LEN) != 0)
            return ctca_json_fail(&idn, eb, "is not the SHA-256 of the log's key");
    }
    /* Once here rather than per use: OpenSSL 3 key decoding costs far more
     * than an SCT verification. A key ctca cannot use stays NULL, so a list
     * naming one still loads. */
    if (ctca_log_key_from_spki(ctca_view_make(li->key_der, li->key_len), &li->key) != CTCA_OK)
        li->key = NULL;
    if (tiled) {
        CTCA_GUARD(get_string(log, "submission_url", true, &li->url, eb));
        CTCA_GUARD(get_string(log, "monitoring_url", true, &li->monitoring_url, eb));
    } else {
        CTCA_GUARD(get_string(log, "url", true, &li->url, eb));
    }
    ctca_json_node mmd = ctca_json_member(log, "mmd");
    if (mmd.v == NULL)
        return ctca_json_fail(&mmd, eb, "missing");
    if (!ctca_json_int_in(mmd.v, 0, 1000000000, &li->mmd_s))
        return ctca_json_fail(&mmd, eb, "must be a non-negative whole number of seconds");
    CTCA_GUARD(get_string(log, "log_type", false, &li->log_type, eb));
    CTCA_GUARD(parse_state(log, li, eb));
    CTCA_GUARD(parse_interval(log, li, eb));
    return parse_prev_operators(log, li, eb);
}

static const char *const log_kinds[] = {"logs", "tiled_logs"};

static ctca_err count_logs(const ctca_json_node *ops, size_t *n, ctca_errbuf *eb)
{
    *n = 0;
    for (size_t i = 0; i < json_array_size(ops->v); i++) {
        const json_t *op = json_array_get(ops->v, i);
        for (int k = 0; k < 2; k++) {
            const json_t *arr = json_is_object(op) ? json_object_get(op, log_kinds[k]) : NULL;
            if (json_is_array(arr))
                *n += json_array_size(arr);
        }
    }
    if (*n > CTCA_LOG_LIST_MAX_LOGS)
        return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "more than %d logs",
                               CTCA_LOG_LIST_MAX_LOGS);
    return CTCA_OK;
}

static ctca_err parse_operators(const ctca_json_node *root, ctca_log_list *list,
                                ctca_errbuf *eb)
{
    ctca_json_node ops = ctca_json_member(root, "operators");
    if (!json_is_array(ops.v))
        return ctca_json_fail(&ops, eb, ops.v ? "must be an array" : "missing");
    size_t n_logs;
    CTCA_GUARD(count_logs(&ops, &n_logs, eb));
    size_t n_ops = json_array_size(ops.v);
    list->operators = calloc(n_ops + 1, sizeof *list->operators);
    list->logs = calloc(n_logs + 1, sizeof *list->logs);
    if (list->operators == NULL || list->logs == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n_ops; i++) {
        ctca_json_node op = ctca_json_element(&ops, i);
        if (!json_is_object(op.v))
            return ctca_json_fail(&op, eb, "must be an object");
        CTCA_GUARD(get_string(&op, "name", true, &list->operators[i], eb));
        list->n_operators++;
        for (int k = 0; k < 2; k++) {
            ctca_json_node arr = ctca_json_member(&op, log_kinds[k]);
            if (arr.v == NULL && k == 1)
                continue;
            if (!json_is_array(arr.v))
                return ctca_json_fail(&arr, eb, arr.v ? "must be an array" : "missing");
            for (size_t j = 0; j < json_array_size(arr.v); j++) {
                ctca_json_node log = ctca_json_element(&arr, j);
                ctca_log_info *li = &list->logs[list->n_logs++];
                li->operator_name = list->operators[i];
                li->operator_index = i;
                CTCA_GUARD(parse_log(&log, k == 1, li, eb));
                ctca_json_node id = ctca_json_member(&log, "log_id");
                if (ctca_log_list_find(list, li->log_id) != li)
                    return ctca_json_fail(&id, eb, "appears twice in the list");
                ctca_json_node oid = ctca_json_member(&log, "log_id_oid");
                if (li->ct_version == 2 && ctca_log_list_find_oid(list, &li->log_id_v2) != li)
                    return ctca_json_fail(&oid, eb, "appears twice in the list");
            }
        }
    }
    return CTCA_OK;
}

ctca_err ctca_log_list_parse(const char *json, size_t len, ctca_log_list **out, ctca_errbuf *eb)
{
    json_t *doc = NULL;
    CTCA_GUARD(ctca_json_parse(&list_format, json, len, &doc, eb));
    ctca_err rc = CTCA_OK;
    ctca_log_list *list = calloc(1, sizeof *list);
    if (list == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    ctca_json_node root = ctca_json_root(&list_format, doc);
    if (!json_is_object(doc)) {
        rc = ctca_json_fail(&root, eb, "top level must be a JSON object");
        goto out;
    }
    if ((rc = get_string(&root, "version", false, &list->version, eb)) != CTCA_OK ||
        (rc = get_time(&root, "log_list_timestamp", &list->timestamp_ms, eb)) != CTCA_OK ||
        (rc = parse_operators(&root, list, eb)) != CTCA_OK)
        goto out;
    *out = list;
    list = NULL;
out:
    ctca_log_list_free(list);
    json_decref(doc);
    return rc;
}

ctca_err ctca_log_list_load(const char *path_name, ctca_log_list **out, ctca_errbuf *eb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_file_read(path_name, CTCA_LOG_LIST_MAX_BYTES, &buf, &len, eb));
    ctca_errbuf inner = {{0}};
    ctca_err rc = ctca_log_list_parse((const char *)buf, len, out, &inner);
    if (rc == CTCA_OK && EVP_Digest(buf, len, (*out)->sha256, NULL, EVP_sha256(), NULL) != 1)
        rc = CTCA_ERR_CRYPTO;
    if (rc == CTCA_OK && ((*out)->path = strdup(path_name)) == NULL)
        rc = CTCA_ERR_NOMEM;
    free(buf);
    if (rc != CTCA_OK) {
        ctca_log_list_free(*out);
        *out = NULL;
        ctca_errbuf_set(eb, rc, "%s: %s", path_name, inner.msg[0] ? inner.msg : ctca_err_str(rc));
    }
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
    free(list->path);
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
