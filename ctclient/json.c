/* Request bodies, URLs and the strict decoding of a log's answers.
 *
 * An SCT timestamp is signed by the log, so it must come back exactly: the
 * answers are read through asn1/json.c, whose integers are exact 64-bit values
 * (a real such as 1.0 or 1e3 is not an integer, whatever its value). */
#include "ctclient/ctclient_int.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asn1/json_int.h"

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

/* RFC 6962 4 clients ignore fields they do not know; a duplicate is refused (by
 * the reader) because two parsers could read two different SCTs from it. The
 * body is already capped by the client; this cap is a backstop. */
static const ctca_json_format response_format = {
    .code = CTCA_ERR_BAD_RESPONSE,
    .syntax_code = CTCA_ERR_BAD_RESPONSE,
    .max_bytes = (size_t)16 * 1024 * 1024,
    .max_depth = 16,
    .unknown = CTCA_JSON_UNKNOWN_IGNORE,
    .unknown_msg = "unknown field",
    .path_prefix = "field ",
};

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

/* The reader's error into the caller's detail buffer. */
static ctca_err to_detail(ctca_err err, const ctca_errbuf *eb, char *detail, size_t dl)
{
    if (err != CTCA_OK && err != CTCA_ERR_NOMEM)
        bad(detail, dl, "%s", eb->msg);
    return err;
}

typedef struct sct_fields {
    uint64_t timestamp;
    uint8_t *id, *ext, *sig;
    size_t id_len, ext_len, sig_len;
} sct_fields;

static ctca_err b64_field(const ctca_json_node *root, const char *name, bool required,
                          uint8_t **out, size_t *out_len, ctca_errbuf *eb)
{
    ctca_json_node n = ctca_json_member(root, name);
    if (n.v == NULL)
        return required ? ctca_json_fail(&n, eb, "missing") : CTCA_OK;
    if (!json_is_string(n.v))
        return ctca_json_fail(&n, eb, "not a string");
    ctca_err err = ctca_base64_decode(json_string_value(n.v), json_string_length(n.v), out,
                                      out_len);
    if (err == CTCA_ERR_NOMEM)
        return err;
    if (err != CTCA_OK)
        return ctca_json_fail(&n, eb, "not base64");
    return CTCA_OK;
}

static ctca_err read_fields(const ctca_json_node *root, sct_fields *f, ctca_errbuf *eb)
{
    static const char *const names[] = {"sct_version", "id", "timestamp", "extensions",
                                        "signature"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        ctca_json_node n = ctca_json_member(root, names[k]);
        if (n.v == NULL)
            return ctca_json_fail(&n, eb, "missing");
    }
    ctca_json_node version = ctca_json_member(root, "sct_version");
    ctca_json_node ts = ctca_json_member(root, "timestamp");
    int64_t t = 0;
    if (!json_is_integer(version.v))
        return ctca_json_fail(&version, eb, "not an integer");
    if (json_integer_value(version.v) != 0)
        return ctca_json_fail(&version, eb, "%" JSON_INTEGER_FORMAT " is not v1 (0)",
                              json_integer_value(version.v));
    if (!ctca_json_int_in(ts.v, 0, INT64_MAX, &t))
        return ctca_json_fail(&ts, eb, "not an integer in range");
    f->timestamp = (uint64_t)t;
    CTCA_GUARD(b64_field(root, "id", true, &f->id, &f->id_len, eb));
    ctca_json_node id = ctca_json_member(root, "id");
    if (f->id_len != 32)
        return ctca_json_fail(&id, eb, "%zu bytes, not 32", f->id_len);
    CTCA_GUARD(b64_field(root, "extensions", true, &f->ext, &f->ext_len, eb));
    ctca_json_node ext = ctca_json_member(root, "extensions");
    if (f->ext_len > 65535)
        return ctca_json_fail(&ext, eb, "longer than 65535 bytes");
    return b64_field(root, "signature", true, &f->sig, &f->sig_len, eb);
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

/* The body parsed strictly into a JSON object (*doc, caller json_decref's). */
static ctca_err parse_object(ctca_view body, json_t **doc, ctca_errbuf *eb)
{
    *doc = NULL;
    if (body.len == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_BAD_RESPONSE, "body is empty");
    CTCA_GUARD(ctca_json_parse(&response_format, (const char *)body.data, body.len, doc, eb));
    if (!json_is_object(*doc)) {
        json_decref(*doc);
        *doc = NULL;
        return ctca_errbuf_set(eb, CTCA_ERR_BAD_RESPONSE, "body is not a JSON object");
    }
    return CTCA_OK;
}

ctca_err ctca_ctclient_parse_sct_response(ctca_view body, uint8_t **sct, size_t *sct_len,
                                          char *detail, size_t detail_len)
{
    ctca_errbuf eb = {{0}};
    sct_fields f = {0};
    json_t *doc = NULL;
    ctca_err err = parse_object(body, &doc, &eb);
    ctca_json_node root = ctca_json_root(&response_format, doc);
    if (err == CTCA_OK)
        err = read_fields(&root, &f, &eb);
    err = to_detail(err, &eb, detail, detail_len);
    if (err == CTCA_OK)
        err = build_sct(&f, sct, sct_len, detail, detail_len);
    free(f.id);
    free(f.ext);
    free(f.sig);
    json_decref(doc);
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
    ctca_errbuf eb = {{0}};
    json_t *doc = NULL;
    memset(out, 0, sizeof *out);
    ctca_err err = parse_object(body, &doc, &eb);
    ctca_json_node root = ctca_json_root(&response_format, doc);
    for (int k = 0; k < 3 && err == CTCA_OK; k++)
        err = b64_field(&root, names[k], k == 0, bufs[k], lens[k], &eb);
    if ((err = to_detail(err, &eb, detail, detail_len)) != CTCA_OK)
        goto out;
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
    json_decref(doc);
    return err;
}

bool ctca_ctclient_problem(ctca_view body, char *buf, size_t buf_len)
{
    static const char urn[] = "urn:ietf:params:trans:error:";
    json_t *doc = NULL;
    bool ok = false;
    if (parse_object(body, &doc, NULL) != CTCA_OK)
        return false;
    ctca_json_node root = ctca_json_root(&response_format, doc);
    ctca_json_node tn = ctca_json_member(&root, "type"), dn = ctca_json_member(&root, "detail");
    const char *type = ctca_json_string(&tn), *det = ctca_json_string(&dn);
    if (type != NULL || det != NULL) {
        if (type != NULL && strncmp(type, urn, sizeof urn - 1) == 0)
            type += sizeof urn - 1;
        snprintf(buf, buf_len, "%s%s%s", type ? type : "", type && det ? ": " : "",
                 det ? det : "");
        ok = true;
    }
    json_decref(doc);
    return ok;
}
