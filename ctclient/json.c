/* Request bodies, URLs and the strict decoding of a log's add-chain answer.
 *
 * cJSON stores numbers as doubles, which cannot tell 2^60 from 2^60 + 1 nor
 * 1 from 1.0000000000000001. An SCT timestamp is signed by the log, so it must
 * come back exactly: integer fields are therefore also read from their source
 * text (raw_member) after cJSON has validated the document. */
#include "ctclient/ctclient_int.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- request side ------------------------------------------------------ */

static void add_text(ctca_builder *b, const char *s)
{
    ctca_builder_add_bytes(b, (const uint8_t *)s, strlen(s));
}

/* Appends "<b64>" for one certificate. */
static ctca_err add_b64_string(ctca_builder *b, ctca_view cert)
{
    if (cert.data == NULL || cert.len == 0 || cert.len > CTCA_CTCLIENT_MAX_CERT_LEN)
        return CTCA_ERR_VALUE_RANGE;
    char *b64 = NULL;
    CTCA_GUARD(ctca_base64_encode(cert.data, cert.len, &b64));
    /* Base64 needs no JSON escaping. */
    ctca_builder_add_u8(b, '"');
    add_text(b, b64);
    ctca_builder_add_u8(b, '"');
    free(b64);
    return CTCA_OK;
}

/* Appends the certificates certs[0..n) as comma-separated base64 strings. */
static ctca_err add_b64_strings(ctca_builder *b, const ctca_view *certs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            ctca_builder_add_u8(b, ',');
        CTCA_GUARD(add_b64_string(b, certs[i]));
    }
    return CTCA_OK;
}

ctca_err ctca_ctclient_chain_json(const ctca_view *chain, size_t n, uint8_t **out,
                                  size_t *out_len)
{
    if (chain == NULL || n == 0 || n > CTCA_CTCLIENT_MAX_CHAIN)
        return CTCA_ERR_VALUE_RANGE;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_CTCLIENT_MAX_REQUEST);
    add_text(&b, "{\"chain\":[");
    ctca_err err = add_b64_strings(&b, chain, n);
    add_text(&b, "]}");
    if (err == CTCA_OK)
        return ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    return err;
}

ctca_err ctca_ctclient_entry_json(unsigned type, const ctca_view *chain, size_t n, uint8_t **out,
                                  size_t *out_len)
{
    if (chain == NULL || n == 0 || n > CTCA_CTCLIENT_MAX_CHAIN || type > 0xffff)
        return CTCA_ERR_VALUE_RANGE;
    char type_text[32];
    snprintf(type_text, sizeof type_text, ",\"type\":%u,\"chain\":[", type);
    ctca_builder b;
    ctca_builder_init(&b, CTCA_CTCLIENT_MAX_REQUEST);
    add_text(&b, "{\"submission\":");
    ctca_err err = add_b64_string(&b, chain[0]);
    add_text(&b, type_text);
    if (err == CTCA_OK)
        err = add_b64_strings(&b, chain + 1, n - 1);
    add_text(&b, "]}");
    if (err == CTCA_OK)
        return ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    return err;
}

static bool printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* A log URL comes from a log list: refuse anything but a plain http(s) base so
 * that joining a path cannot land in a query, a fragment or another scheme. */
static bool base_url_ok(const char *base)
{
    size_t n = strlen(base);
    if (n == 0 || n > CTCA_CTCLIENT_MAX_URL_LEN || !printable_ascii(base, n))
        return false;
    if (strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0)
        return false;
    if (strpbrk(base, "?#") != NULL)
        return false;
    /* curl reads "https:///x/" as host "x"; a log list never means that. */
    if (strstr(base, ":///") != NULL)
        return false;

    bool ok = false;
    char *host = NULL, *user = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return false;
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
        goto out;
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        goto out; /* credentials in a log URL would be sent in the clear or leak */
    ok = true;
out:
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

ctca_err ctca_ctclient_url(const char *base_url, const char *path, char **out)
{
    if (base_url == NULL || path == NULL || !base_url_ok(base_url))
        return CTCA_ERR_CONFIG;
    size_t bn = strlen(base_url), pn = strlen(path);
    if (pn > CTCA_CTCLIENT_MAX_URL_LEN || !printable_ascii(path, pn) || path[0] == '/')
        return CTCA_ERR_CONFIG;
    bool slash = base_url[bn - 1] != '/';
    char *s = malloc(bn + slash + pn + 1);
    if (s == NULL)
        return CTCA_ERR_NOMEM;
    memcpy(s, base_url, bn);
    if (slash)
        s[bn] = '/';
    memcpy(s + bn + slash, path, pn);
    s[bn + slash + pn] = '\0';
    *out = s;
    return CTCA_OK;
}

/* ---- Retry-After ------------------------------------------------------- */

bool ctca_ctclient_parse_retry_after(const char *line, size_t n, long *seconds)
{
    static const char name[] = "retry-after:";
    const size_t nl = sizeof name - 1;
    if (n < nl || strncasecmp(line, name, nl) != 0)
        return false;
    size_t i = nl;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t digits = 0;
    long v = 0;
    while (i < n && line[i] >= '0' && line[i] <= '9') {
        if (v <= (INT32_MAX - 9) / 10)
            v = v * 10 + (line[i] - '0');
        else
            v = INT32_MAX;
        i++;
        digits++;
    }
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < n && line[i] == '\r')
        i++;
    if (i < n && line[i] == '\n')
        i++;
    if (digits == 0 || i != n)
        return false;
    *seconds = v;
    return true;
}

/* ---- add-chain response ------------------------------------------------ */

static ctca_err bad(char *detail, size_t detail_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ctca_err bad(char *detail, size_t detail_len, const char *fmt, ...)
{
    if (detail != NULL && detail_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, detail_len, fmt, ap);
        va_end(ap);
    }
    return CTCA_ERR_BAD_RESPONSE;
}

/* A cursor over JSON text that cJSON has already accepted; every step is still
 * bounded by the length so that a disagreement cannot run off the end. */
typedef struct jscan {
    const char *p;
    size_t n, i;
} jscan;

static void js_ws(jscan *s)
{
    while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' ||
                           s->p[s->i] == '\r'))
        s->i++;
}

static bool js_string(jscan *s)
{
    if (s->i >= s->n || s->p[s->i] != '"')
        return false;
    for (s->i++; s->i < s->n; s->i++) {
        if (s->p[s->i] == '\\')
            s->i++;
        else if (s->p[s->i] == '"') {
            s->i++;
            return true;
        }
    }
    return false;
}

static bool js_value(jscan *s)
{
    if (s->i >= s->n)
        return false;
    char c = s->p[s->i];
    if (c == '"')
        return js_string(s);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (s->i < s->n) {
            c = s->p[s->i];
            if (c == '"') {
                if (!js_string(s))
                    return false;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0) {
                s->i++;
                return true;
            }
            s->i++;
        }
        return false;
    }
    while (s->i < s->n && strchr(",}] \t\r\n", s->p[s->i]) == NULL)
        s->i++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Compares a raw JSON key (between its quotes) with an ASCII name, decoding
 * escapes the way cJSON does so that both see the same member. */
static bool js_key_is(const char *k, size_t n, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++, j++) {
        char c = k[i];
        if (c == '\\') {
            if (i + 1 >= n)
                return false;
            char e = k[++i];
            if (e == 'u') {
                if (i + 4 >= n)
                    return false;
                int v = 0;
                for (int d = 1; d <= 4; d++) {
                    int h = hexval(k[i + d]);
                    if (h < 0)
                        return false;
                    v = v * 16 + h;
                }
                if (v >= 0x80)
                    return false; /* cannot spell an ASCII name */
                c = (char)v;
                i += 4;
            } else {
                const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
                const char *at = strchr(from, e);
                if (e == '\0' || at == NULL)
                    return false;
                c = to[at - from];
            }
        }
        if (name[j] == '\0' || name[j] != c)
            return false;
    }
    return name[j] == '\0';
}

/* The source text of the top-level member name (first occurrence). */
static bool raw_member(const char *json, size_t n, const char *name, const char **val,
                       size_t *val_len)
{
    jscan s = {json, n, 0};
    js_ws(&s);
    if (s.i >= s.n || s.p[s.i] != '{')
        return false;
    s.i++;
    for (;;) {
        js_ws(&s);
        size_t k = s.i;
        if (!js_string(&s))
            return false;
        size_t kend = s.i - 1;
        js_ws(&s);
        if (s.i >= s.n || s.p[s.i] != ':')
            return false;
        s.i++;
        js_ws(&s);
        size_t v = s.i;
        if (!js_value(&s))
            return false;
        if (js_key_is(json + k + 1, kend - k - 1, name)) {
            *val = json + v;
            *val_len = s.i - v;
            return true;
        }
        js_ws(&s);
        if (s.i >= s.n || s.p[s.i] != ',')
            return false;
        s.i++;
    }
}

/* An integer literal 0|[1-9][0-9]* no greater than max. */
static bool parse_uint_literal(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || (p[0] == '0' && n > 1))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

enum { F_VERSION, F_ID, F_TIMESTAMP, F_EXTENSIONS, F_SIGNATURE, F_COUNT };
static const char *const field_names[F_COUNT] = {"sct_version", "id", "timestamp",
                                                 "extensions", "signature"};

typedef struct sct_fields {
    uint64_t timestamp;
    uint8_t *id, *ext, *sig;
    size_t id_len, ext_len, sig_len;
} sct_fields;

static ctca_err int_field(const char *json, size_t n, const cJSON *item, const char *name,
                          uint64_t max, uint64_t *out, char *detail, size_t dl)
{
    const char *raw = NULL;
    size_t raw_len = 0;
    if (!cJSON_IsNumber(item))
        return bad(detail, dl, "field %s: not a number", name);
    if (!raw_member(json, n, name, &raw, &raw_len) ||
        !parse_uint_literal(raw, raw_len, max, out))
        return bad(detail, dl, "field %s: not an integer in range", name);
    return CTCA_OK;
}

static ctca_err b64_field(const cJSON *item, const char *name, uint8_t **out, size_t *out_len,
                          char *detail, size_t dl)
{
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return bad(detail, dl, "field %s: not a string", name);
    ctca_err err = ctca_base64_decode(item->valuestring, strlen(item->valuestring), out, out_len);
    if (err == CTCA_ERR_NOMEM)
        return err;
    if (err != CTCA_OK)
        return bad(detail, dl, "field %s: not base64", name);
    return CTCA_OK;
}

static ctca_err read_fields(const char *json, size_t n, const cJSON *root, sct_fields *f,
                            char *detail, size_t dl)
{
    const cJSON *items[F_COUNT] = {NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        for (int k = 0; k < F_COUNT; k++) {
            if (it->string == NULL || strcmp(it->string, field_names[k]) != 0)
                continue;
            /* A duplicate would let two parsers read two different SCTs. */
            if (items[k] != NULL)
                return bad(detail, dl, "field %s: duplicated", field_names[k]);
            items[k] = it;
        }
    }
    for (int k = 0; k < F_COUNT; k++)
        if (items[k] == NULL)
            return bad(detail, dl, "field %s: missing", field_names[k]);

    uint64_t version = 0;
    CTCA_GUARD(int_field(json, n, items[F_VERSION], "sct_version", UINT64_MAX, &version,
                         detail, dl));
    if (version != 0)
        return bad(detail, dl, "field sct_version: %llu is not v1 (0)",
                   (unsigned long long)version);
    CTCA_GUARD(int_field(json, n, items[F_TIMESTAMP], "timestamp", (uint64_t)INT64_MAX,
                         &f->timestamp, detail, dl));
    CTCA_GUARD(b64_field(items[F_ID], "id", &f->id, &f->id_len, detail, dl));
    if (f->id_len != 32)
        return bad(detail, dl, "field id: %zu bytes, not 32", f->id_len);
    CTCA_GUARD(b64_field(items[F_EXTENSIONS], "extensions", &f->ext, &f->ext_len, detail, dl));
    if (f->ext_len > 65535)
        return bad(detail, dl, "field extensions: longer than 65535 bytes");
    CTCA_GUARD(b64_field(items[F_SIGNATURE], "signature", &f->sig, &f->sig_len, detail, dl));
    return CTCA_OK;
}

/* RFC 6962 3.2: the SCT's signature is a TLS DigitallySigned, exactly. */
static ctca_err build_sct(const sct_fields *f, uint8_t **sct, size_t *sct_len, char *detail,
                          size_t dl)
{
    ctca_view ds = ctca_view_make(f->sig, f->sig_len), sigbytes;
    uint8_t hash = 0, alg = 0;
    if (ctca_view_get_u8(&ds, &hash) != CTCA_OK || ctca_view_get_u8(&ds, &alg) != CTCA_OK ||
        ctca_tls_get_vec(&ds, 2, 0, 65535, &sigbytes) != CTCA_OK)
        return bad(detail, dl, "field signature: truncated DigitallySigned");
    if (ctca_view_expect_empty(ds) != CTCA_OK)
        return bad(detail, dl, "field signature: trailing bytes after DigitallySigned");

    ctca_builder b;
    ctca_builder_init(&b, CTCA_CTCLIENT_MAX_SCT);
    ctca_builder_add_u8(&b, 0); /* v1 */
    ctca_builder_add_bytes(&b, f->id, f->id_len);
    ctca_builder_add_u64(&b, f->timestamp);
    ctca_builder_open_tls_vec(&b, 2, 0, 65535);
    ctca_builder_add_bytes(&b, f->ext, f->ext_len);
    ctca_builder_close(&b);
    ctca_builder_add_u8(&b, hash);
    ctca_builder_add_u8(&b, alg);
    ctca_builder_open_tls_vec(&b, 2, 0, 65535);
    ctca_builder_add_view(&b, sigbytes);
    ctca_builder_close(&b);
    ctca_err err = ctca_builder_finish(&b, sct, sct_len);
    ctca_builder_cleanup(&b);
    return err;
}

/* The body as a NUL-terminated copy (*text, caller frees) parsed strictly into
 * a JSON object; NULL with *err set otherwise. */
static cJSON *parse_object(ctca_view body, char **text, char *detail, size_t dl, ctca_err *err)
{
    *err = CTCA_OK;
    if (body.len == 0 || memchr(body.data, '\0', body.len) != NULL) {
        *err = bad(detail, dl, "body is empty or holds a NUL byte");
        return NULL;
    }
    *text = malloc(body.len + 1);
    if (*text == NULL) {
        *err = CTCA_ERR_NOMEM;
        return NULL;
    }
    memcpy(*text, body.data, body.len);
    (*text)[body.len] = '\0';
    /* require_null_terminated: nothing but whitespace may follow the value. */
    cJSON *root = cJSON_ParseWithOpts(*text, NULL, 1);
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *err = bad(detail, dl, "body is not a JSON object");
        return NULL;
    }
    return root;
}

ctca_err ctca_ctclient_parse_sct_response(ctca_view body, uint8_t **sct, size_t *sct_len,
                                          char *detail, size_t detail_len)
{
    ctca_err err;
    char *text = NULL;
    sct_fields f = {0};
    cJSON *root = parse_object(body, &text, detail, detail_len, &err);
    if (root != NULL)
        err = read_fields(text, body.len, root, &f, detail, detail_len);
    if (root != NULL && err == CTCA_OK)
        err = build_sct(&f, sct, sct_len, detail, detail_len);
    free(f.id);
    free(f.ext);
    free(f.sig);
    cJSON_Delete(root);
    free(text);
    return err;
}

/* ---- submit-entry response ---------------------------------------------- */

/* RFC 9162 4.8 framing of an SCT TransItem: versioned_type, LogID<2..127>
 * holding OID contents, timestamp, Extension sct_extensions<0..2^16-1>,
 * signature<1..2^16-1>, nothing after. */
static bool sct_transitem_ok(ctca_view v, const char **why)
{
    uint16_t type = 0;
    uint64_t ts = 0;
    ctca_view id, ext, sig;
    *why = "truncated or out-of-range field";
    if (ctca_view_get_u16(&v, &type) != CTCA_OK)
        return false;
    if (type != 0x0102 && type != 0x0103) {
        *why = "not an x509_sct_v2 or precert_sct_v2 TransItem";
        return false;
    }
    if (ctca_tls_get_vec(&v, 1, 2, 127, &id) != CTCA_OK || ctca_view_get_u64(&v, &ts) != CTCA_OK ||
        ctca_tls_get_vec(&v, 2, 0, 0xffff, &ext) != CTCA_OK ||
        ctca_tls_get_vec(&v, 2, 1, 0xffff, &sig) != CTCA_OK)
        return false;
    if (!ctca_oid_is_valid(id)) {
        *why = "log ID is not an OID";
        return false;
    }
    if (v.len != 0) {
        *why = "trailing bytes";
        return false;
    }
    return true;
}

/* A TransItem whose first two bytes are type. */
static bool has_type(const uint8_t *p, size_t n, uint16_t type)
{
    return n >= 2 && (uint16_t)(p[0] << 8 | p[1]) == type;
}

void ctca_ctclient_entry_answer_cleanup(ctca_ctclient_entry_answer *a)
{
    if (a == NULL)
        return;
    free(a->sct);
    free(a->sth);
    free(a->inclusion);
    memset(a, 0, sizeof *a);
}

ctca_err ctca_ctclient_parse_entry_response(ctca_view body, ctca_ctclient_entry_answer *out,
                                            char *detail, size_t detail_len)
{
    static const char *const names[3] = {"sct", "sth", "inclusion"};
    uint8_t **bufs[3] = {&out->sct, &out->sth, &out->inclusion};
    size_t *lens[3] = {&out->sct_len, &out->sth_len, &out->inclusion_len};
    const cJSON *items[3] = {NULL};
    char *text = NULL;
    ctca_err err;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(body, &text, detail, detail_len, &err);
    if (root == NULL)
        goto out;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        for (int k = 0; k < 3; k++) {
            if (it->string == NULL || strcmp(it->string, names[k]) != 0)
                continue;
            /* A duplicate would let two parsers read two different SCTs. */
            if (items[k] != NULL) {
                err = bad(detail, detail_len, "field %s: duplicated", names[k]);
                goto out;
            }
            items[k] = it;
        }
    }
    if (items[0] == NULL) {
        err = bad(detail, detail_len, "field sct: missing");
        goto out;
    }
    for (int k = 0; k < 3; k++) {
        if (items[k] == NULL)
            continue;
        if ((err = b64_field(items[k], names[k], bufs[k], lens[k], detail, detail_len)) != CTCA_OK)
            goto out;
    }
    const char *why = NULL;
    if (!sct_transitem_ok(ctca_view_make(out->sct, out->sct_len), &why)) {
        err = bad(detail, detail_len, "field sct: %s", why);
        goto out;
    }
    if (out->sth != NULL && !has_type(out->sth, out->sth_len, 0x0104)) {
        err = bad(detail, detail_len, "field sth: not a signed_tree_head_v2 TransItem");
        goto out;
    }
    if (out->inclusion != NULL && !has_type(out->inclusion, out->inclusion_len, 0x0106)) {
        err = bad(detail, detail_len, "field inclusion: not an inclusion_proof_v2 TransItem");
        goto out;
    }
out:
    if (err != CTCA_OK)
        ctca_ctclient_entry_answer_cleanup(out);
    cJSON_Delete(root);
    free(text);
    return err;
}

bool ctca_ctclient_problem(ctca_view body, char *buf, size_t buf_len)
{
    static const char urn[] = "urn:ietf:params:trans:error:";
    char *text = NULL;
    ctca_err err;
    bool ok = false;
    cJSON *root = parse_object(body, &text, NULL, 0, &err);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "type"));
    const char *det = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "detail"));
    if (type != NULL || det != NULL) {
        if (type != NULL && strncmp(type, urn, sizeof urn - 1) == 0)
            type += sizeof urn - 1;
        snprintf(buf, buf_len, "%s%s%s", type ? type : "", type && det ? ": " : "",
                 det ? det : "");
        ok = true;
    }
    cJSON_Delete(root);
    free(text);
    return ok;
}
