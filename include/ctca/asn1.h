/* ctca/asn1.h - bounds-checked reading and building of DER and TLS structures.
 *
 * Reading goes through one cursor, ctca_view: a borrowed (data, len) pair. Every
 * read checks the length once and, ON FAILURE, LEAVES THE CURSOR UNCHANGED. A
 * length-prefixed read returns a bounded sub-view that borrows the same memory.
 *
 * Writing goes through one builder, ctca_builder: a growable buffer with a size
 * cap, nested length-prefixed children whose lengths are patched when the child
 * is closed, and a sticky error: after the first failure every call is a no-op
 * and ctca_builder_finish reports that first error.
 *
 * Only low-tag-number DER is supported (tags 0..30), which is all X.509, CMS and
 * OCSP use; a DER tag is written as its identifier octet (0x30 SEQUENCE, 0xa0
 * [0] constructed, ...). No policy and no I/O live here. */
#ifndef CTCA_ASN1_H
#define CTCA_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ctca/error.h"

/* ---- reading ---------------------------------------------------------- */

typedef struct ctca_view {
    const uint8_t *data;
    size_t len;
} ctca_view;

/* ctca_view_make: a view borrowing data[0..len). */
static inline ctca_view ctca_view_make(const uint8_t *data, size_t len)
{
    ctca_view v = {data, len};
    return v;
}

/* ctca_view_eq: true when a and b hold the same bytes. */
bool ctca_view_eq(ctca_view a, ctca_view b);

/* ctca_view_expect_empty: CTCA_ERR_TRAILING_DATA unless v is fully consumed. */
CTCA_RESULT ctca_view_expect_empty(ctca_view v);

/* ctca_view_skip: consumes n bytes. */
CTCA_RESULT ctca_view_skip(ctca_view *v, size_t n);
/* ctca_view_get_bytes: out borrows the next n bytes. */
CTCA_RESULT ctca_view_get_bytes(ctca_view *v, size_t n, ctca_view *out);
/* Big-endian unsigned integers (TLS uint8/16/24/64). */
CTCA_RESULT ctca_view_get_u8(ctca_view *v, uint8_t *out);
CTCA_RESULT ctca_view_get_u16(ctca_view *v, uint16_t *out);
CTCA_RESULT ctca_view_get_u24(ctca_view *v, uint32_t *out);
CTCA_RESULT ctca_view_get_u64(ctca_view *v, uint64_t *out);

/* ctca_tls_get_vec: a TLS opaque<min..max> vector whose length prefix is
 * prefix_bytes (1, 2 or 3) long; out borrows its contents. A length outside
 * [min, max] is CTCA_ERR_TLS_LENGTH_RANGE, a short input CTCA_ERR_TRUNCATED. */
CTCA_RESULT ctca_tls_get_vec(ctca_view *v, unsigned prefix_bytes, size_t min, size_t max,
                             ctca_view *out);

/* DER tags as identifier octets. */
enum {
    CTCA_DER_BOOLEAN = 0x01,
    CTCA_DER_INTEGER = 0x02,
    CTCA_DER_BIT_STRING = 0x03,
    CTCA_DER_OCTET_STRING = 0x04,
    CTCA_DER_NULL = 0x05,
    CTCA_DER_OID = 0x06,
    CTCA_DER_ENUMERATED = 0x0a,
    CTCA_DER_UTF8_STRING = 0x0c,
    CTCA_DER_PRINTABLE_STRING = 0x13,
    CTCA_DER_IA5_STRING = 0x16,
    CTCA_DER_UTC_TIME = 0x17,
    CTCA_DER_GENERALIZED_TIME = 0x18,
    CTCA_DER_SEQUENCE = 0x30,
    CTCA_DER_SET = 0x31,
    CTCA_DER_CONSTRUCTED = 0x20,
    CTCA_DER_CONTEXT = 0x80
};
/* ctca_der_ctx: context-specific tag [n], constructed when explicit/structured. */
#define CTCA_DER_CTX(n) (CTCA_DER_CONTEXT | (n))
#define CTCA_DER_CTX_C(n) (CTCA_DER_CONTEXT | CTCA_DER_CONSTRUCTED | (n))

/* Largest DER content length we accept (and build): 16 MiB, far above any
 * certificate, CRL fragment or OCSP response ctca handles. */
#define CTCA_DER_MAX_LEN ((size_t)16 * 1024 * 1024)

/* ctca_der_get_any: reads one TLV. tag gets the identifier octet, contents the
 * value, element (may be NULL) the whole TLV. Strict DER: minimal lengths, no
 * indefinite form, no high tags. */
CTCA_RESULT ctca_der_get_any(ctca_view *v, uint8_t *tag, ctca_view *contents,
                             ctca_view *element);
/* ctca_der_get: reads one TLV that must carry tag; contents gets its value. */
CTCA_RESULT ctca_der_get(ctca_view *v, uint8_t tag, ctca_view *contents);
/* ctca_der_get_element: as ctca_der_get but element gets the whole TLV. */
CTCA_RESULT ctca_der_get_element(ctca_view *v, uint8_t tag, ctca_view *element);
/* ctca_der_peek: true when v's next identifier octet is tag. */
bool ctca_der_peek(ctca_view v, uint8_t tag);
/* ctca_der_get_optional: when the next TLV has tag, reads it into contents and
 * sets *present; otherwise *present is false and v is unchanged. */
CTCA_RESULT ctca_der_get_optional(ctca_view *v, uint8_t tag, ctca_view *contents,
                                  bool *present);
/* ctca_der_get_bool: a DER BOOLEAN (0x00 or 0xff only). */
CTCA_RESULT ctca_der_get_bool(ctca_view *v, bool *out);
/* ctca_der_get_null: a DER NULL (empty contents). */
CTCA_RESULT ctca_der_get_null(ctca_view *v);
/* ctca_der_get_integer: a minimally encoded INTEGER; contents borrows its
 * two's-complement bytes (never empty). */
CTCA_RESULT ctca_der_get_integer(ctca_view *v, ctca_view *contents);
/* ctca_der_get_u64: a non-negative INTEGER that fits in 64 bits. */
CTCA_RESULT ctca_der_get_u64(ctca_view *v, uint64_t *out);
/* ctca_der_get_oid: an OBJECT IDENTIFIER whose contents are well-formed base-128
 * arcs; contents borrows the encoded arcs (no tag, no length). */
CTCA_RESULT ctca_der_get_oid(ctca_view *v, ctca_view *contents);
/* ctca_der_get_bit_string: a BIT STRING with zero unused bits (as keys and
 * signatures are); bits borrows the bytes after the unused-bits octet. */
CTCA_RESULT ctca_der_get_bit_string(ctca_view *v, ctca_view *bits);
/* ctca_der_get_time: UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime
 * (YYYYMMDDHHMMSSZ), as RFC 5280 4.1.2.5 requires; *out is seconds since the
 * epoch (UTC). */
CTCA_RESULT ctca_der_get_time(ctca_view *v, int64_t *out);

/* ctca_oid_is_valid: true when contents are well-formed minimal base-128 arcs. */
bool ctca_oid_is_valid(ctca_view contents);

/* ctca_oid_eq: true when contents (as from ctca_der_get_oid) equals the encoded
 * OID in oid/oid_len. */
bool ctca_oid_eq(ctca_view contents, const uint8_t *oid, size_t oid_len);

/* ctca_oid_to_string: writes dotted-decimal of encoded OID contents into buf;
 * CTCA_ERR_VALUE_RANGE when buf is too small. */
CTCA_RESULT ctca_oid_to_string(ctca_view contents, char *buf, size_t buf_len);
/* ctca_oid_from_string: encodes dotted decimal ("1.3.101.8192": at least two
 * arcs, no leading zeros, first arc 0..2, second < 40 under 0 and 1) as OID
 * contents into buf; *out_len gets their length. CTCA_ERR_DER_OID for text
 * that is not such an OID, CTCA_ERR_VALUE_RANGE when buf is too small. */
CTCA_RESULT ctca_oid_from_string(const char *s, uint8_t *buf, size_t buf_len, size_t *out_len);

/* ---- building --------------------------------------------------------- */

#define CTCA_BUILDER_MAX_DEPTH 16

typedef struct ctca_builder {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;      /* the builder's size cap */
    ctca_err err;    /* sticky: the first error */
    unsigned depth;
    struct {
        size_t start;       /* offset of the length field */
        unsigned kind;      /* 0 = DER; 1..3 = TLS prefix bytes */
        size_t min, max;    /* TLS vector bounds */
    } open[CTCA_BUILDER_MAX_DEPTH];
} ctca_builder;

/* ctca_builder_init: an empty builder whose output may not exceed max_len. */
void ctca_builder_init(ctca_builder *b, size_t max_len);
/* ctca_builder_cleanup: frees b's buffer; safe on a zeroed or finished builder. */
void ctca_builder_cleanup(ctca_builder *b);
/* ctca_builder_finish: on success hands the caller the bytes (*out is malloc'd,
 * caller frees; an empty output is a non-NULL 1-byte allocation with *out_len 0)
 * and empties b. Fails with the sticky error, or CTCA_ERR_BUILDER_MISUSE when a
 * child is still open. */
CTCA_RESULT ctca_builder_finish(ctca_builder *b, uint8_t **out, size_t *out_len);
/* ctca_builder_error: the sticky error (CTCA_OK when none). */
ctca_err ctca_builder_error(const ctca_builder *b);

void ctca_builder_add_bytes(ctca_builder *b, const uint8_t *p, size_t n);
void ctca_builder_add_view(ctca_builder *b, ctca_view v);
void ctca_builder_add_u8(ctca_builder *b, uint8_t x);
void ctca_builder_add_u16(ctca_builder *b, uint16_t x);
void ctca_builder_add_u24(ctca_builder *b, uint32_t x);
void ctca_builder_add_u64(ctca_builder *b, uint64_t x);

/* ctca_builder_open_tls_vec: starts an opaque<min..max> child with a
 * prefix_bytes-long length, checked and patched by ctca_builder_close. */
void ctca_builder_open_tls_vec(ctca_builder *b, unsigned prefix_bytes, size_t min, size_t max);
/* ctca_builder_open_der: starts a DER TLV with tag; its minimal length is
 * patched by ctca_builder_close. */
void ctca_builder_open_der(ctca_builder *b, uint8_t tag);
/* ctca_builder_close: closes the innermost open child. */
void ctca_builder_close(ctca_builder *b);

/* DER conveniences, each a complete TLV. */
void ctca_builder_add_der(ctca_builder *b, uint8_t tag, const uint8_t *p, size_t n);
void ctca_builder_add_der_bool(ctca_builder *b, bool x);
void ctca_builder_add_der_null(ctca_builder *b);
void ctca_builder_add_der_u64(ctca_builder *b, uint64_t x);
/* ctca_builder_add_der_uint_bytes: a non-negative INTEGER from big-endian
 * magnitude bytes (leading zeros stripped, 0x00 prepended when the top bit is set). */
void ctca_builder_add_der_uint_bytes(ctca_builder *b, const uint8_t *p, size_t n);
/* ctca_builder_add_der_oid: an OID from its encoded arcs. */
void ctca_builder_add_der_oid(ctca_builder *b, const uint8_t *oid, size_t n);
/* ctca_builder_add_der_bit_string: a BIT STRING with zero unused bits. */
void ctca_builder_add_der_bit_string(ctca_builder *b, const uint8_t *p, size_t n);
/* ctca_builder_add_der_time: UTCTime for years 1950..2049, GeneralizedTime
 * otherwise (RFC 5280 4.1.2.5). */
void ctca_builder_add_der_time(ctca_builder *b, int64_t t);
/* ctca_builder_add_der_generalized_time: GeneralizedTime YYYYMMDDHHMMSSZ
 * whatever the year, as OCSP's times are (RFC 6960 4.2.2.1); years outside
 * 0..9999 fail with CTCA_ERR_VALUE_RANGE. */
void ctca_builder_add_der_generalized_time(ctca_builder *b, int64_t t);

/* ---- calendar (proleptic Gregorian, UTC; no libc time zone state) ---------- */

/* ctca_days_from_civil: days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
int64_t ctca_days_from_civil(int64_t y, unsigned m, unsigned d);
/* ctca_civil_from_days: the inverse of ctca_days_from_civil. */
void ctca_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);
/* ctca_days_in_month: 28..31. */
int ctca_days_in_month(int64_t y, unsigned m);

/* ---- base64 (RFC 4648, standard alphabet, padded) ------------------------ */

/* ctca_base64_encode: *out is a malloc'd NUL-terminated string, caller frees. */
CTCA_RESULT ctca_base64_encode(const uint8_t *p, size_t n, char **out);
/* ctca_base64_decode: strict: canonical padding, no whitespace, no non-zero
 * trailing bits. *out is malloc'd (non-NULL even when empty), caller frees. */
CTCA_RESULT ctca_base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len);

#endif
