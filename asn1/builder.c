/* ctca_builder: one buffer, nested children whose lengths are patched on close,
 * a size cap and a sticky error (see ctca/asn1.h). */
#include "ctca/asn1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctca_builder_init(ctca_builder *b, size_t max_len)
{
    memset(b, 0, sizeof *b);
    b->max = max_len;
}

void ctca_builder_cleanup(ctca_builder *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
    b->depth = 0;
}

ctca_err ctca_builder_error(const ctca_builder *b)
{
    return b->err;
}

static void fail(ctca_builder *b, ctca_err e)
{
    if (b->err == CTCA_OK)
        b->err = e;
}

/* Makes room for n more bytes; returns false (with the sticky error set) when
 * that would pass the cap or memory runs out. */
static bool reserve(ctca_builder *b, size_t n)
{
    if (b->err != CTCA_OK)
        return false;
    if (n > b->max || b->len > b->max - n) {
        fail(b, CTCA_ERR_BUILDER_CAP);
        return false;
    }
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
    uint8_t *p = realloc(b->buf, cap);
    if (p == NULL) {
        fail(b, CTCA_ERR_NOMEM);
        return false;
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

void ctca_builder_add_bytes(ctca_builder *b, const uint8_t *p, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n > 0)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void ctca_builder_add_view(ctca_builder *b, ctca_view v)
{
    ctca_builder_add_bytes(b, v.data, v.len);
}

static void add_be(ctca_builder *b, uint64_t x, unsigned n)
{
    uint8_t tmp[8];
    for (unsigned i = 0; i < n; i++)
        tmp[i] = (uint8_t)(x >> (8 * (n - 1 - i)));
    ctca_builder_add_bytes(b, tmp, n);
}

void ctca_builder_add_u8(ctca_builder *b, uint8_t x)
{
    add_be(b, x, 1);
}

void ctca_builder_add_u16(ctca_builder *b, uint16_t x)
{
    add_be(b, x, 2);
}

void ctca_builder_add_u24(ctca_builder *b, uint32_t x)
{
    if (x > 0xffffff) {
        fail(b, CTCA_ERR_VALUE_RANGE);
        return;
    }
    add_be(b, x, 3);
}

void ctca_builder_add_u64(ctca_builder *b, uint64_t x)
{
    add_be(b, x, 8);
}

static void open_child(ctca_builder *b, unsigned kind, size_t len_bytes, size_t min, size_t max)
{
    if (b->err != CTCA_OK)
        return;
    if (b->depth == CTCA_BUILDER_MAX_DEPTH) {
        fail(b, CTCA_ERR_BUILDER_MISUSE);
        return;
    }
    size_t start = b->len;
    if (!reserve(b, len_bytes))
        return;
    memset(b->buf + b->len, 0, len_bytes);
    b->len += len_bytes;
    b->open[b->depth].start = start;
    b->open[b->depth].kind = kind;
    b->open[b->depth].min = min;
    b->open[b->depth].max = max;
    b->depth++;
}

void ctca_builder_open_tls_vec(ctca_builder *b, unsigned prefix_bytes, size_t min, size_t max)
{
    if (prefix_bytes < 1 || prefix_bytes > 3) {
        fail(b, CTCA_ERR_BUILDER_MISUSE);
        return;
    }
    open_child(b, prefix_bytes, prefix_bytes, min, max);
}

void ctca_builder_open_der(ctca_builder *b, uint8_t tag)
{
    if ((tag & 0x1f) == 0x1f) {
        fail(b, CTCA_ERR_DER_HIGH_TAG);
        return;
    }
    ctca_builder_add_u8(b, tag);
    /* One length octet for now; close() widens it when the contents need it. */
    open_child(b, 0, 1, 0, CTCA_DER_MAX_LEN);
}

static void close_tls(ctca_builder *b, size_t start, unsigned n, size_t min, size_t max)
{
    size_t len = b->len - start - n;
    if (len < min || len > max || (n < 8 && len >> (8 * n))) {
        fail(b, CTCA_ERR_VALUE_RANGE);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        b->buf[start + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
}

static void close_der(ctca_builder *b, size_t start)
{
    size_t len = b->len - start - 1;
    if (len > CTCA_DER_MAX_LEN) {
        fail(b, CTCA_ERR_VALUE_RANGE);
        return;
    }
    if (len < 0x80) {
        b->buf[start] = (uint8_t)len;
        return;
    }
    unsigned extra = 1;
    while (extra < 4 && (len >> (8 * extra)) != 0)
        extra++;
    if (!reserve(b, extra))
        return;
    memmove(b->buf + start + 1 + extra, b->buf + start + 1, len);
    b->len += extra;
    b->buf[start] = (uint8_t)(0x80 | extra);
    for (unsigned i = 0; i < extra; i++)
        b->buf[start + 1 + i] = (uint8_t)(len >> (8 * (extra - 1 - i)));
}

void ctca_builder_close(ctca_builder *b)
{
    if (b->err != CTCA_OK)
        return;
    if (b->depth == 0) {
        fail(b, CTCA_ERR_BUILDER_MISUSE);
        return;
    }
    b->depth--;
    unsigned kind = b->open[b->depth].kind;
    if (kind == 0)
        close_der(b, b->open[b->depth].start);
    else
        close_tls(b, b->open[b->depth].start, kind, b->open[b->depth].min,
                  b->open[b->depth].max);
}

ctca_err ctca_builder_finish(ctca_builder *b, uint8_t **out, size_t *out_len)
{
    if (b->err == CTCA_OK && b->depth != 0)
        fail(b, CTCA_ERR_BUILDER_MISUSE);
    if (b->err == CTCA_OK && b->buf == NULL)
        reserve(b, 1);
    if (b->err != CTCA_OK) {
        ctca_err e = b->err;
        ctca_builder_cleanup(b);
        return e;
    }
    *out = b->buf;
    *out_len = b->len;
    b->buf = NULL;
    b->len = b->cap = 0;
    return CTCA_OK;
}

/* ---- DER conveniences --------------------------------------------------- */

void ctca_builder_add_der(ctca_builder *b, uint8_t tag, const uint8_t *p, size_t n)
{
    ctca_builder_open_der(b, tag);
    ctca_builder_add_bytes(b, p, n);
    ctca_builder_close(b);
}

void ctca_builder_add_der_bool(ctca_builder *b, bool x)
{
    uint8_t v = x ? 0xff : 0x00;
    ctca_builder_add_der(b, CTCA_DER_BOOLEAN, &v, 1);
}

void ctca_builder_add_der_null(ctca_builder *b)
{
    ctca_builder_add_der(b, CTCA_DER_NULL, NULL, 0);
}

void ctca_builder_add_der_uint_bytes(ctca_builder *b, const uint8_t *p, size_t n)
{
    while (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    ctca_builder_open_der(b, CTCA_DER_INTEGER);
    if (n == 0 || (p[0] & 0x80))
        ctca_builder_add_u8(b, 0);
    ctca_builder_add_bytes(b, p, n);
    ctca_builder_close(b);
}

void ctca_builder_add_der_u64(ctca_builder *b, uint64_t x)
{
    uint8_t tmp[8];
    for (unsigned i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(x >> (8 * (7 - i)));
    ctca_builder_add_der_uint_bytes(b, tmp, sizeof tmp);
}

void ctca_builder_add_der_oid(ctca_builder *b, const uint8_t *oid, size_t n)
{
    /* An OID the reader would refuse is never written. */
    if (!ctca_oid_is_valid(ctca_view_make(oid, n))) {
        fail(b, CTCA_ERR_DER_OID);
        return;
    }
    ctca_builder_add_der(b, CTCA_DER_OID, oid, n);
}

void ctca_builder_add_der_bit_string(ctca_builder *b, const uint8_t *p, size_t n)
{
    ctca_builder_open_der(b, CTCA_DER_BIT_STRING);
    ctca_builder_add_u8(b, 0);
    ctca_builder_add_bytes(b, p, n);
    ctca_builder_close(b);
}

/* t as calendar fields; false outside years 0..9999. */
static bool civil_time(int64_t t, int *y, unsigned *m, unsigned *d, unsigned *hh, unsigned *mm,
                       unsigned *ss)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    ctca_civil_from_days(days, y, m, d);
    *hh = (unsigned)(secs / 3600);
    *mm = (unsigned)(secs / 60 % 60);
    *ss = (unsigned)(secs % 60);
    return *y >= 0 && *y <= 9999;
}

void ctca_builder_add_der_generalized_time(ctca_builder *b, int64_t t)
{
    int y;
    unsigned m, d, hh, mm, ss;
    if (!civil_time(t, &y, &m, &d, &hh, &mm, &ss)) {
        fail(b, CTCA_ERR_VALUE_RANGE);
        return;
    }
    char buf[20];
    snprintf(buf, sizeof buf, "%04d%02u%02u%02u%02u%02uZ", y, m, d, hh, mm, ss);
    ctca_builder_add_der(b, CTCA_DER_GENERALIZED_TIME, (const uint8_t *)buf, 15);
}

void ctca_builder_add_der_time(ctca_builder *b, int64_t t)
{
    int y;
    unsigned m, d, hh, mm, ss;
    /* Out of range, or outside UTCTime's years: GeneralizedTime says which. */
    if (!civil_time(t, &y, &m, &d, &hh, &mm, &ss) || y < 1950 || y >= 2050) {
        ctca_builder_add_der_generalized_time(b, t);
        return;
    }
    char buf[20];
    snprintf(buf, sizeof buf, "%02d%02u%02u%02u%02u%02uZ", y % 100, m, d, hh, mm, ss);
    ctca_builder_add_der(b, CTCA_DER_UTC_TIME, (const uint8_t *)buf, 13);
}
