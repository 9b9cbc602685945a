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

ctca_err ctca_ctclient_chain_json(const ctca_view *chain, size_t n, uint8_t **out,
                                  size_t *out_len)
{
    ctca_err err = CTCA_OK;
    ctca_builder b;
    char *b64 = NULL;

    ctca_builder_init(&b, CTCA_CTCLIENT_MAX_REQUEST);
    if (chain == NULL || n == 0 || n > CTCA_CTCLIENT_MAX_CHAIN) {
        err = CTCA_ERR_VALUE_RANGE;
        goto out;
    }
    static const char head[] = "{\"chain\":[";
    ctca_builder_add_bytes(&b, (const uint8_t *)head, sizeof head - 1);
    for (size_t i = 0; i < n; i++) {
        if (chain[i].data == NULL || chain[i].len == 0 ||
            chain[i].len > CTCA_CTCLIENT_MAX_CERT_LEN) {
            err = CTCA_ERR_VALUE_RANGE;
            goto out;
        }
        err = ctca_base64_encode(chain[i].data, chain[i].len, &b64);
        if (err != CTCA_OK)
            goto out;
        if (i > 0)
            ctca_builder_add_u8(&b, ',');
        /* Base64 needs no JSON escaping. */
        ctca_builder_add_u8(&b, '"');
        ctca_builder_add_bytes(&b, (const uint8_t *)b64, strlen(b64));
        ctca_builder_add_u8(&b, '"');
        free(b64);
        b64 = NULL;
    }
    ctca_builder_add_bytes(&b, (const uint8_t *)"]}", 2);
    err = ctca_builder_finish(&b, out, out_len);
out:
    free(b64);
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

ctca_err ctca_ctclient_parse_sct_response(ctca_view body, uint8_t **sct, size_t *sct_len,
                                          char *detail, size_t detail_len)
{
    ctca_err err = CTCA_OK;
    char *text = NULL;
    cJSON *root = NULL;
    sct_fields f = {0};

    if (body.len == 0 || memchr(body.data, '\0', body.len) != NULL) {
        err = bad(detail, detail_len, "body is empty or holds a NUL byte");
        goto out;
    }
    text = malloc(body.len + 1);
    if (text == NULL) {
        err = CTCA_ERR_NOMEM;
        goto out;
    }
    memcpy(text, body.data, body.len);
    text[body.len] = '\0';
    /* require_null_terminated: nothing but whitespace may follow the value. */
    root = cJSON_ParseWithOpts(text, NULL, 1);
    if (root == NULL) {
        err = bad(detail, detail_len, "body is not JSON");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        err = bad(detail, detail_len, "body is not a JSON object");
        goto out;
    }
    err = read_fields(text, body.len, root, &f, detail, detail_len);
    if (err != CTCA_OK)
        goto out;
    err = build_sct(&f, sct, sct_len, detail, detail_len);
out:
    free(f.id);
    free(f.ext);
    free(f.sig);
    cJSON_Delete(root);
    free(text);
    return err;
}
