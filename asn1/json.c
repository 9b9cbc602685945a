/* The strict JSON reader of asn1/json_int.h, and ctca's JSON writer.
 *
 * jansson parses (exact json_int_t integers, duplicate keys refused, a depth
 * limit of its own). What jansson reports without a field path (a duplicate
 * key, a number too large, an integer written -0) is located here by parsing
 * once more with the offending token replaced by a marker string and finding
 * the marker in the tree: the path then comes from the same parser that read
 * the document, not from a second scanner of the text. */
#include "asn1/json_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/asn1.h"

#define PATH_LEN 256

/* U+10FFFF (a noncharacter) and \u0001: no real document uses this as a key or
 * a string, and if one did the marker would be found twice or in the wrong
 * place, which only makes the message less precise. */
static const char marker_json[] = "\"\\uDBFF\\uDFFF\\u0001ctca\"";
static const char marker[] = "\xF4\x8F\xBF\xBF\x01"
                             "ctca";

/* ---- paths ------------------------------------------------------------- */

static size_t path_write(const ctca_json_node *n, char *buf, size_t len)
{
    if (n == NULL || n->up == NULL)
        return 0;
    size_t at = path_write(n->up, buf, len);
    int w;
    if (n->key != NULL)
        w = snprintf(buf + at, len - at, "%s%s", at > 0 ? "." : "", n->key);
    else
        w = snprintf(buf + at, len - at, "[%zu]", n->index);
    if (w < 0)
        return at;
    return at + (size_t)w < len ? at + (size_t)w : len - 1;
}

void ctca_json_path(const ctca_json_node *n, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    path_write(n, buf, len);
}

static ctca_err vfail(const ctca_json_node *n, ctca_errbuf *eb, const char *fmt, va_list ap)
{
    char path[PATH_LEN], msg[sizeof eb->msg];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ctca_json_path(n, path, sizeof path);
    if (path[0] == '\0')
        return ctca_errbuf_set(eb, n->fmt->code, "%s", msg);
    return ctca_errbuf_set(eb, n->fmt->code, "%s%s: %s", n->fmt->path_prefix, path, msg);
}

ctca_err ctca_json_fail(const ctca_json_node *n, ctca_errbuf *eb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctca_err rc = vfail(n, eb, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- navigation -------------------------------------------------------- */

ctca_json_node ctca_json_root(const ctca_json_format *fmt, const json_t *root)
{
    return (ctca_json_node){.v = root, .fmt = fmt};
}

ctca_json_node ctca_json_member(const ctca_json_node *obj, const char *key)
{
    const json_t *v = json_is_object(obj->v) ? json_object_get(obj->v, key) : NULL;
    return (ctca_json_node){.v = v, .up = obj, .key = key, .fmt = obj->fmt};
}

ctca_json_node ctca_json_element(const ctca_json_node *arr, size_t i)
{
    const json_t *v = json_is_array(arr->v) ? json_array_get(arr->v, i) : NULL;
    return (ctca_json_node){.v = v, .up = arr, .index = i, .fmt = arr->fmt};
}

/* ---- values ------------------------------------------------------------ */

bool ctca_json_int_in(const json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!json_is_integer(v))
        return false;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return false;
    *out = (int64_t)x;
    return true;
}

ctca_err ctca_json_get_int(const ctca_json_node *n, bool required, int64_t lo, int64_t hi,
                           int64_t *out, ctca_errbuf *eb)
{
    if (n->v == NULL)
        return required ? ctca_json_fail(n, eb, "missing") : CTCA_OK;
    if (!ctca_json_int_in(n->v, lo, hi, out))
        return ctca_json_fail(n, eb, "expected an integer in %lld..%lld", (long long)lo,
                              (long long)hi);
    return CTCA_OK;
}

const char *ctca_json_string(const ctca_json_node *n)
{
    return json_is_string(n->v) ? json_string_value(n->v) : NULL;
}

ctca_err ctca_json_check_keys(const ctca_json_node *obj, const char *const *known,
                              ctca_errbuf *eb)
{
    if (obj->fmt->unknown != CTCA_JSON_UNKNOWN_REFUSE || !json_is_object(obj->v))
        return CTCA_OK;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj->v, key, val)
    {
        bool ok = false;
        for (size_t i = 0; known[i] != NULL && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            ctca_json_node m = ctca_json_member(obj, key);
            return ctca_json_fail(&m, eb, "%s", obj->fmt->unknown_msg);
        }
    }
    return CTCA_OK;
}

/* ---- locating a token by its byte range --------------------------------- */

typedef struct finder {
    bool as_key;    /* look for a member named marker, else a string value */
    const char *name; /* the member's real name, for the path */
    char *path;
    size_t path_len;
    bool found;
} finder;

static void find_marker(const ctca_json_node *n, finder *f)
{
    if (f->found)
        return;
    if (json_is_string(n->v) && !f->as_key && strcmp(json_string_value(n->v), marker) == 0) {
        ctca_json_path(n, f->path, f->path_len);
        f->found = true;
    } else if (json_is_object(n->v)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)n->v, key, val)
        {
            ctca_json_node m = ctca_json_member(n, key);
            if (f->as_key && strcmp(key, marker) == 0) {
                m.key = f->name;
                ctca_json_path(&m, f->path, f->path_len);
                f->found = true;
            }
            find_marker(&m, f);
        }
    } else if (json_is_array(n->v)) {
        for (size_t i = 0; i < json_array_size(n->v); i++) {
            ctca_json_node e = ctca_json_element(n, i);
            find_marker(&e, f);
        }
    }
}

/* The path of the key (as_key) or value at text[start..end), found by parsing
 * the text with that token replaced by the marker. */
static bool locate(const ctca_json_format *fmt, const char *text, size_t len, size_t start,
                   size_t end, bool as_key, char *path, size_t path_len)
{
    finder f = {.as_key = as_key, .path = path, .path_len = path_len};
    json_t *name = NULL, *root = NULL;
    size_t mlen = sizeof marker_json - 1, n = start + mlen + (len - end);
    char *copy = malloc(n);
    if (copy == NULL)
        return false;
    memcpy(copy, text, start);
    memcpy(copy + start, marker_json, mlen);
    memcpy(copy + start + mlen, text + end, len - end);
    if (as_key) {
        name = json_loadb(text + start, end - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        f.name = json_string_value(name);
    }
    root = json_loadb(copy, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (root != NULL && (!as_key || f.name != NULL)) {
        ctca_json_node r = ctca_json_root(fmt, root);
        find_marker(&r, &f);
    }
    json_decref(root);
    json_decref(name);
    free(copy);
    return f.found;
}

/* The start of the string token whose closing quote is at text[close]: the
 * nearest quote before it that no backslash escapes. */
static bool key_start(const char *text, size_t close, size_t *start)
{
    for (size_t q = close; q-- > 0;) {
        if (text[q] != '"')
            continue;
        size_t bs = 0;
        while (bs < q && text[q - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0) {
            *start = q;
            return true;
        }
    }
    return false;
}

static bool number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* An integer written "-0" outside any string: jansson reads it as 0, and a field
 * that is signed by a log (an SCT timestamp) must not have two spellings. The
 * text is known to be valid JSON here, so strings are the only context. */
static bool negative_zero(const char *text, size_t len, size_t *at)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '-' && i + 1 < len && text[i + 1] == '0' &&
                   (i + 2 == len || !number_char(text[i + 2]))) {
            *at = i;
            return true;
        }
    }
    return false;
}

/* ---- parsing ----------------------------------------------------------- */

static ctca_err located(const ctca_json_format *fmt, const char *text, size_t len,
                        size_t start, size_t end, bool as_key, const char *what,
                        size_t pos, ctca_errbuf *eb)
{
    char path[PATH_LEN];
    if (locate(fmt, text, len, start, end, as_key, path, sizeof path))
        return ctca_errbuf_set(eb, fmt->code, "%s%s: %s", fmt->path_prefix, path, what);
    return ctca_errbuf_set(eb, fmt->code, "%s near byte %zu", what, pos);
}

static ctca_err syntax_error(const ctca_json_format *fmt, const char *text, size_t len,
                             const json_error_t *je, ctca_errbuf *eb)
{
    size_t pos = je->position > 0 ? (size_t)je->position : 0, start = 0;
    if (pos > len)
        pos = len;
    switch (json_error_code(je)) {
    case json_error_duplicate_key:
        /* jansson stops just after the repeated key's closing quote. */
        if (pos > 0 && text[pos - 1] == '"' && key_start(text, pos - 1, &start))
            return located(fmt, text, len, start, pos, true, "duplicate key", pos, eb);
        return ctca_errbuf_set(eb, fmt->code, "duplicate key near byte %zu", pos);
    case json_error_numeric_overflow:
        /* jansson stops just after the number. */
        start = pos;
        while (start > 0 && number_char(text[start - 1]))
            start--;
        return located(fmt, text, len, start, pos, false,
                       "number beyond the range of 64-bit integers and doubles", pos, eb);
    case json_error_end_of_input_expected:
        return ctca_errbuf_set(eb, fmt->syntax_code,
                               "trailing bytes after the JSON document (byte %zu)",
                               pos > 0 ? pos - 1 : 0);
    default:
        return ctca_errbuf_set(eb, fmt->syntax_code,
                               "JSON syntax error near byte %zu (line %d, column %d): "
                               "not valid JSON: %s",
                               pos, je->line, je->column, je->text);
    }
}

/* Depth and \u0000, with the path of the first offender. */
static ctca_err walk(const ctca_json_node *n, size_t depth, ctca_errbuf *eb)
{
    if (json_is_string(n->v)) {
        if (strlen(json_string_value(n->v)) != json_string_length(n->v))
            return ctca_json_fail(n, eb, "string holds \\u0000, which is refused");
        return CTCA_OK;
    }
    if (!json_is_object(n->v) && !json_is_array(n->v))
        return CTCA_OK;
    if (depth > n->fmt->max_depth)
        return ctca_json_fail(n, eb, "nested deeper than %zu levels", n->fmt->max_depth);
    if (json_is_array(n->v)) {
        for (size_t i = 0; i < json_array_size(n->v); i++) {
            ctca_json_node e = ctca_json_element(n, i);
            CTCA_GUARD(walk(&e, depth + 1, eb));
        }
        return CTCA_OK;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)n->v, key, val)
    {
        ctca_json_node m = ctca_json_member(n, key);
        CTCA_GUARD(walk(&m, depth + 1, eb));
    }
    return CTCA_OK;
}

ctca_err ctca_json_parse(const ctca_json_format *fmt, const char *text, size_t len,
                         json_t **root, ctca_errbuf *eb)
{
    *root = NULL;
    if (len > fmt->max_bytes)
        return ctca_errbuf_set(eb, fmt->code, "larger than %zu bytes", fmt->max_bytes);
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL)
        return ctca_errbuf_set(eb, fmt->syntax_code, "a NUL byte at byte %zu",
                               (size_t)(nul - text));
    /* JSON_ALLOW_NUL lets walk() name the field a \u0000 is in; it is refused
     * there. jansson itself refuses one in a key. */
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                             &je);
    if (doc == NULL)
        return syntax_error(fmt, text, len, &je, eb);
    size_t at = 0;
    ctca_err rc = CTCA_OK;
    ctca_json_node r = ctca_json_root(fmt, doc);
    if (negative_zero(text, len, &at))
        rc = located(fmt, text, len, at, at + 2, false, "-0 is not an integer that is accepted",
                     at, eb);
    else
        rc = walk(&r, 1, eb);
    if (rc != CTCA_OK) {
        json_decref(doc);
        return rc;
    }
    *root = doc;
    return CTCA_OK;
}

/* ---- writing ----------------------------------------------------------- */

#define PRINT_MAX ((size_t)64 * 1024 * 1024)

static void put(ctca_builder *b, const char *s)
{
    ctca_builder_add_bytes(b, (const uint8_t *)s, strlen(s));
}

static void tabs(ctca_builder *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ctca_builder_add_u8(b, '\t');
}

static void put_string(ctca_builder *b, const char *s, size_t n)
{
    ctca_builder_add_u8(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        char u[8];
        if (esc == NULL && c < 0x20) {
            snprintf(u, sizeof u, "\\u%04x", c);
            esc = u;
        }
        if (esc != NULL)
            put(b, esc);
        else
            ctca_builder_add_u8(b, c);
    }
    ctca_builder_add_u8(b, '"');
}

/* A real as cJSON wrote one: whole numbers of int range without a fraction,
 * else the shortest of 15 or 17 significant digits that reads back. */
static void put_real(ctca_builder *b, double d)
{
    char s[64];
    if (!isfinite(d))
        snprintf(s, sizeof s, "null");
    else if (d == floor(d) && d >= -2147483648.0 && d <= 2147483647.0)
        snprintf(s, sizeof s, "%.0f", d);
    else {
        snprintf(s, sizeof s, "%1.15g", d);
        if (strtod(s, NULL) != d)
            snprintf(s, sizeof s, "%1.17g", d);
    }
    put(b, s);
}

static void put_value(ctca_builder *b, const json_t *v, bool pretty, unsigned depth)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        size_t left = json_object_size(v);
        put(b, pretty ? "{\n" : "{");
        json_object_foreach((json_t *)v, key, val)
        {
            if (pretty)
                tabs(b, depth + 1);
            put_string(b, key, strlen(key));
            put(b, pretty ? ":\t" : ":");
            put_value(b, val, pretty, depth + 1);
            if (--left > 0)
                put(b, ",");
            if (pretty)
                put(b, "\n");
        }
        if (pretty)
            tabs(b, depth);
        put(b, "}");
        break;
    }
    case JSON_ARRAY:
        put(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                put(b, pretty ? ", " : ",");
            put_value(b, json_array_get(v, i), pretty, depth + 1);
        }
        put(b, "]");
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put(b, num);
        break;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        put(b, "true");
        break;
    case JSON_FALSE:
        put(b, "false");
        break;
    case JSON_NULL:
    default:
        put(b, "null");
        break;
    }
}

ctca_err ctca_json_print(const json_t *v, bool pretty, char **out)
{
    if (v == NULL)
        return CTCA_ERR_NOMEM; /* a failed json_*() constructor */
    ctca_builder b;
    ctca_builder_init(&b, PRINT_MAX);
    put_value(&b, v, pretty, 0);
    ctca_builder_add_u8(&b, '\0');
    uint8_t *buf = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_builder_finish(&b, &buf, &len));
    *out = (char *)buf;
    return CTCA_OK;
}
