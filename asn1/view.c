/* Reading through ctca_view. Every function here works on a copy of the cursor
 * and commits it only on success, so a failed read leaves the caller's cursor
 * unchanged (the contract in ctca/asn1.h). */
#include "ctca/asn1.h"

#include <stdio.h>
#include <string.h>

bool ctca_view_eq(ctca_view a, ctca_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

ctca_err ctca_view_expect_empty(ctca_view v)
{
    return v.len == 0 ? CTCA_OK : CTCA_ERR_TRAILING_DATA;
}

ctca_err ctca_view_get_bytes(ctca_view *v, size_t n, ctca_view *out)
{
    if (v->len < n)
        return CTCA_ERR_TRUNCATED;
    *out = ctca_view_make(v->data, n);
    v->data += n;
    v->len -= n;
    return CTCA_OK;
}

ctca_err ctca_view_skip(ctca_view *v, size_t n)
{
    ctca_view ignored;
    return ctca_view_get_bytes(v, n, &ignored);
}

static ctca_err get_be(ctca_view *v, unsigned n, uint64_t *out)
{
    ctca_view bytes;
    CTCA_GUARD(ctca_view_get_bytes(v, n, &bytes));
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x = (x << 8) | bytes.data[i];
    *out = x;
    return CTCA_OK;
}

ctca_err ctca_view_get_u8(ctca_view *v, uint8_t *out)
{
    uint64_t x;
    CTCA_GUARD(get_be(v, 1, &x));
    *out = (uint8_t)x;
    return CTCA_OK;
}

ctca_err ctca_view_get_u16(ctca_view *v, uint16_t *out)
{
    uint64_t x;
    CTCA_GUARD(get_be(v, 2, &x));
    *out = (uint16_t)x;
    return CTCA_OK;
}

ctca_err ctca_view_get_u24(ctca_view *v, uint32_t *out)
{
    uint64_t x;
    CTCA_GUARD(get_be(v, 3, &x));
    *out = (uint32_t)x;
    return CTCA_OK;
}

ctca_err ctca_view_get_u64(ctca_view *v, uint64_t *out)
{
    return get_be(v, 8, out);
}

ctca_err ctca_tls_get_vec(ctca_view *v, unsigned prefix_bytes, size_t min, size_t max,
                          ctca_view *out)
{
    if (prefix_bytes < 1 || prefix_bytes > 3)
        return CTCA_ERR_INTERNAL;
    ctca_view c = *v;
    uint64_t len;
    CTCA_GUARD(get_be(&c, prefix_bytes, &len));
    if (len < min || len > max)
        return CTCA_ERR_TLS_LENGTH_RANGE;
    CTCA_GUARD(ctca_view_get_bytes(&c, (size_t)len, out));
    *v = c;
    return CTCA_OK;
}

/* ---- DER ---------------------------------------------------------------- */

ctca_err ctca_der_get_any(ctca_view *v, uint8_t *tag, ctca_view *contents, ctca_view *element)
{
    ctca_view c = *v;
    uint8_t t, l0;
    CTCA_GUARD(ctca_view_get_u8(&c, &t));
    if ((t & 0x1f) == 0x1f)
        return CTCA_ERR_DER_HIGH_TAG;
    CTCA_GUARD(ctca_view_get_u8(&c, &l0));
    size_t len;
    if (l0 < 0x80) {
        len = l0;
    } else if (l0 == 0x80) {
        return CTCA_ERR_DER_LENGTH_INDEFINITE;
    } else {
        unsigned n = l0 & 0x7f;
        if (n > 4)
            return CTCA_ERR_DER_LENGTH_TOO_LONG;
        uint64_t l;
        CTCA_GUARD(get_be(&c, n, &l));
        /* X.690 10.1: the shortest form, so no leading zero octet and no long
         * form for lengths below 128. */
        if (l < 0x80 || (l >> ((n - 1) * 8)) == 0)
            return CTCA_ERR_DER_LENGTH_NONMINIMAL;
        if (l > CTCA_DER_MAX_LEN)
            return CTCA_ERR_DER_LENGTH_TOO_LONG;
        len = (size_t)l;
    }
    size_t header = (size_t)(c.data - v->data);
    ctca_view value;
    CTCA_GUARD(ctca_view_get_bytes(&c, len, &value));
    *tag = t;
    *contents = value;
    if (element != NULL)
        *element = ctca_view_make(v->data, header + len);
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get(ctca_view *v, uint8_t tag, ctca_view *contents)
{
    ctca_view c = *v;
    uint8_t t;
    CTCA_GUARD(ctca_der_get_any(&c, &t, contents, NULL));
    if (t != tag)
        return CTCA_ERR_DER_TAG;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get_element(ctca_view *v, uint8_t tag, ctca_view *element)
{
    ctca_view c = *v, contents;
    uint8_t t;
    CTCA_GUARD(ctca_der_get_any(&c, &t, &contents, element));
    if (t != tag)
        return CTCA_ERR_DER_TAG;
    *v = c;
    return CTCA_OK;
}

bool ctca_der_peek(ctca_view v, uint8_t tag)
{
    return v.len > 0 && v.data[0] == tag;
}

ctca_err ctca_der_get_optional(ctca_view *v, uint8_t tag, ctca_view *contents, bool *present)
{
    *present = false;
    if (!ctca_der_peek(*v, tag))
        return CTCA_OK;
    CTCA_GUARD(ctca_der_get(v, tag, contents));
    *present = true;
    return CTCA_OK;
}

ctca_err ctca_der_get_bool(ctca_view *v, bool *out)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_BOOLEAN, &val));
    if (val.len != 1 || (val.data[0] != 0x00 && val.data[0] != 0xff))
        return CTCA_ERR_DER_BOOLEAN;
    *out = val.data[0] == 0xff;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get_null(ctca_view *v)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_NULL, &val));
    if (val.len != 0)
        return CTCA_ERR_DER_NULL;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get_integer(ctca_view *v, ctca_view *contents)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_INTEGER, &val));
    if (val.len == 0)
        return CTCA_ERR_DER_INTEGER;
    /* X.690 8.3.2: the first nine bits are never all zeros or all ones. */
    if (val.len > 1 && ((val.data[0] == 0x00 && !(val.data[1] & 0x80)) ||
                        (val.data[0] == 0xff && (val.data[1] & 0x80))))
        return CTCA_ERR_DER_INTEGER;
    *contents = val;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get_u64(ctca_view *v, uint64_t *out)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get_integer(&c, &val));
    if (val.data[0] & 0x80)
        return CTCA_ERR_VALUE_RANGE;
    if (val.data[0] == 0x00) {
        val.data++;
        val.len--;
    }
    if (val.len > 8)
        return CTCA_ERR_VALUE_RANGE;
    uint64_t x = 0;
    for (size_t i = 0; i < val.len; i++)
        x = (x << 8) | val.data[i];
    *out = x;
    *v = c;
    return CTCA_OK;
}

bool ctca_oid_is_valid(ctca_view val)
{
    if (val.len == 0 || (val.data[val.len - 1] & 0x80))
        return false;
    bool at_arc_start = true;
    for (size_t i = 0; i < val.len; i++) {
        /* X.690 8.19.2: no leading 0x80 padding octet in an arc. */
        if (at_arc_start && val.data[i] == 0x80)
            return false;
        at_arc_start = !(val.data[i] & 0x80);
    }
    return true;
}

ctca_err ctca_der_get_oid(ctca_view *v, ctca_view *contents)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_OID, &val));
    if (!ctca_oid_is_valid(val))
        return CTCA_ERR_DER_OID;
    *contents = val;
    *v = c;
    return CTCA_OK;
}

ctca_err ctca_der_get_bit_string(ctca_view *v, ctca_view *bits)
{
    ctca_view c = *v, val;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_BIT_STRING, &val));
    if (val.len == 0 || val.data[0] != 0)
        return CTCA_ERR_DER_BIT_STRING;
    *bits = ctca_view_make(val.data + 1, val.len - 1);
    *v = c;
    return CTCA_OK;
}

static bool digits(const uint8_t *p, size_t n, int *out)
{
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (p[i] - '0');
    }
    *out = x;
    return true;
}

ctca_err ctca_der_get_time(ctca_view *v, int64_t *out)
{
    ctca_view c = *v, val;
    uint8_t tag;
    CTCA_GUARD(ctca_der_get_any(&c, &tag, &val, NULL));
    int year, mon, day, hour, min, sec;
    const uint8_t *p = val.data;
    if (tag == CTCA_DER_UTC_TIME) {
        if (val.len != 13 || !digits(p, 2, &year))
            return CTCA_ERR_DER_TIME;
        year += year < 50 ? 2000 : 1900;
        p += 2;
    } else if (tag == CTCA_DER_GENERALIZED_TIME) {
        if (val.len != 15 || !digits(p, 4, &year))
            return CTCA_ERR_DER_TIME;
        p += 4;
    } else {
        return CTCA_ERR_DER_TAG;
    }
    if (!digits(p, 2, &mon) || !digits(p + 2, 2, &day) || !digits(p + 4, 2, &hour) ||
        !digits(p + 6, 2, &min) || !digits(p + 8, 2, &sec) || p[10] != 'Z')
        return CTCA_ERR_DER_TIME;
    if (mon < 1 || mon > 12 || day < 1 ||
        day > ctca_days_in_month(year, (unsigned)mon) || hour > 23 || min > 59 || sec > 59)
        return CTCA_ERR_DER_TIME;
    *out = ctca_days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
           min * 60 + sec;
    *v = c;
    return CTCA_OK;
}

bool ctca_oid_eq(ctca_view contents, const uint8_t *oid, size_t oid_len)
{
    return ctca_view_eq(contents, ctca_view_make(oid, oid_len));
}

ctca_err ctca_oid_to_string(ctca_view contents, char *buf, size_t buf_len)
{
    if (!ctca_oid_is_valid(contents))
        return CTCA_ERR_DER_OID;
    size_t pos = 0;
    uint64_t arc = 0;
    bool first = true;
    for (size_t i = 0; i < contents.len; i++) {
        if (arc > (UINT64_MAX >> 7))
            return CTCA_ERR_VALUE_RANGE;
        arc = (arc << 7) | (contents.data[i] & 0x7f);
        if (contents.data[i] & 0x80)
            continue;
        int n;
        if (first) {
            uint64_t a = arc < 80 ? arc / 40 : 2;
            n = snprintf(buf + pos, buf_len - pos, "%llu.%llu", (unsigned long long)a,
                         (unsigned long long)(arc - a * 40));
            first = false;
        } else {
            n = snprintf(buf + pos, buf_len - pos, ".%llu", (unsigned long long)arc);
        }
        if (n < 0 || (size_t)n >= buf_len - pos)
            return CTCA_ERR_VALUE_RANGE;
        pos += (size_t)n;
        arc = 0;
    }
    return CTCA_OK;
}

/* Appends arc x in base 128 (X.690 8.19.2) at buf[*len]. */
static bool put_arc(uint64_t x, uint8_t *buf, size_t buf_len, size_t *len)
{
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)(x & 0x7f);
        x >>= 7;
    } while (x != 0);
    if (k > buf_len - *len)
        return false;
    while (k > 0) {
        k--;
        buf[(*len)++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
    }
    return true;
}

ctca_err ctca_oid_from_string(const char *s, uint8_t *buf, size_t buf_len, size_t *out_len)
{
    uint64_t first = 0;
    size_t n = 0, len = 0;
    const char *q = s;
    for (;;) {
        if (*q < '0' || *q > '9')
            return CTCA_ERR_DER_OID;
        if (*q == '0' && q[1] >= '0' && q[1] <= '9')
            return CTCA_ERR_DER_OID; /* no leading zeros */
        uint64_t x = 0;
        while (*q >= '0' && *q <= '9') {
            if (x > (UINT64_MAX - 9) / 10)
                return CTCA_ERR_DER_OID;
            x = x * 10 + (uint64_t)(*q++ - '0');
        }
        if (n == 0) {
            if (x > 2)
                return CTCA_ERR_DER_OID;
            first = x;
        } else {
            /* X.690 8.19.4: the first two arcs share one subidentifier. */
            if (n == 1 && ((first < 2 && x >= 40) || x > UINT64_MAX - 80))
                return CTCA_ERR_DER_OID;
            if (!put_arc(n == 1 ? first * 40 + x : x, buf, buf_len, &len))
                return CTCA_ERR_VALUE_RANGE;
        }
        n++;
        if (*q == '\0')
            break;
        if (*q++ != '.')
            return CTCA_ERR_DER_OID;
    }
    if (n < 2)
        return CTCA_ERR_DER_OID;
    *out_len = len;
    return CTCA_OK;
}
