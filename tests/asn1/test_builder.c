/* The builder patches lengths on close, keeps its first error, and refuses to
 * grow past its cap; what it writes reads back to the same bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include "ctca/asn1.h"

static uint8_t *finish_ok(ctca_builder *b, size_t *n)
{
    uint8_t *out = NULL;
    cr_assert_eq(ctca_builder_finish(b, &out, n), CTCA_OK);
    return out;
}

/* Tag plus minimal length octets for contents of n bytes (X.690 8.1.3). */
static size_t der_header(size_t n)
{
    return n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5;
}

Test(builder, der_lengths_are_minimal_at_every_boundary)
{
    const size_t sizes[] = {0, 1, 125, 126, 127, 128, 253, 254, 255, 256, 65535, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *payload = calloc(1, sizes[i] + 1);
        ctca_builder b;
        ctca_builder_init(&b, 1 << 20);
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, payload, sizes[i]);
        ctca_builder_close(&b);
        size_t n;
        uint8_t *out = finish_ok(&b, &n);
        size_t inner = der_header(sizes[i]) + sizes[i];
        cr_assert_eq(n, der_header(inner) + inner, "size %zu", sizes[i]);
        ctca_view v = ctca_view_make(out, n), seq, os;
        cr_assert_eq(ctca_der_get(&v, CTCA_DER_SEQUENCE, &seq), CTCA_OK, "reads back %zu", sizes[i]);
        cr_assert_eq(ctca_view_expect_empty(v), CTCA_OK);
        cr_assert_eq(ctca_der_get(&seq, CTCA_DER_OCTET_STRING, &os), CTCA_OK);
        cr_assert_eq(os.len, sizes[i]);
        free(out);
        free(payload);
    }
}

Test(builder, nested_children_patch_in_order)
{
    ctca_builder b;
    ctca_builder_init(&b, 4096);
    ctca_builder_open_tls_vec(&b, 2, 1, 65535);
    ctca_builder_open_tls_vec(&b, 2, 1, 65535);
    ctca_builder_add_u8(&b, 0xaa);
    ctca_builder_add_u64(&b, 0x0102030405060708ull);
    ctca_builder_close(&b);
    ctca_builder_add_u24(&b, 0x0a0b0c);
    ctca_builder_close(&b);
    size_t n;
    uint8_t *out = finish_ok(&b, &n);
    const uint8_t want[] = {0x00, 0x0e, 0x00, 0x09, 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c};
    cr_assert_eq(n, sizeof want);
    cr_assert_arr_eq(out, want, sizeof want);
    free(out);
}

Test(builder, tls_vector_bounds_enforced_on_close)
{
    ctca_builder b;
    ctca_builder_init(&b, 4096);
    ctca_builder_open_tls_vec(&b, 1, 2, 4);
    ctca_builder_add_u8(&b, 1);
    ctca_builder_close(&b);
    uint8_t *out;
    size_t n;
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_VALUE_RANGE, "below min");

    ctca_builder_init(&b, 4096);
    ctca_builder_open_tls_vec(&b, 1, 0, 255);
    uint8_t big[256] = {0};
    ctca_builder_add_bytes(&b, big, sizeof big);
    ctca_builder_close(&b);
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_VALUE_RANGE, "u8 prefix overflow");
}

Test(builder, cap_is_an_error_not_a_truncation)
{
    ctca_builder b;
    ctca_builder_init(&b, 8);
    uint8_t nine[9] = {0};
    ctca_builder_add_bytes(&b, nine, 4);
    ctca_builder_add_bytes(&b, nine, 5);
    cr_assert_eq(ctca_builder_error(&b), CTCA_ERR_BUILDER_CAP);
    ctca_builder_add_u8(&b, 1); /* a no-op after the sticky error */
    uint8_t *out;
    size_t n;
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_BUILDER_CAP);
}

Test(builder, cap_counts_patched_der_length_octets)
{
    ctca_builder b;
    ctca_builder_init(&b, 130);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    uint8_t body[128] = {0};
    ctca_builder_add_bytes(&b, body, sizeof body);
    ctca_builder_close(&b); /* needs 131 bytes once the length widens */
    uint8_t *out;
    size_t n;
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_BUILDER_CAP);
}

Test(builder, misuse_detected)
{
    ctca_builder b;
    ctca_builder_init(&b, 64);
    ctca_builder_close(&b);
    uint8_t *out;
    size_t n;
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_BUILDER_MISUSE, "close without open");

    ctca_builder_init(&b, 64);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_BUILDER_MISUSE, "unclosed child");

    ctca_builder_init(&b, 64);
    ctca_builder_add_u24(&b, 0x1000000);
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_VALUE_RANGE, "u24 overflow");
}

Test(builder, integers_minimal_and_positive)
{
    const struct {
        uint8_t in[4];
        size_t len;
        uint8_t want[6];
        size_t want_len;
    } cases[] = {
        {{0x00, 0x00, 0x01}, 3, {0x02, 0x01, 0x01}, 3},
        {{0x80}, 1, {0x02, 0x02, 0x00, 0x80}, 4},
        {{0x00}, 1, {0x02, 0x01, 0x00}, 3},
        {{0x7f, 0xff}, 2, {0x02, 0x02, 0x7f, 0xff}, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_builder b;
        ctca_builder_init(&b, 64);
        ctca_builder_add_der_uint_bytes(&b, cases[i].in, cases[i].len);
        size_t n;
        uint8_t *out = finish_ok(&b, &n);
        cr_assert_eq(n, cases[i].want_len, "case %zu", i);
        cr_assert_arr_eq(out, cases[i].want, n, "case %zu", i);
        free(out);
    }
}

Test(builder, invalid_oid_not_written)
{
    ctca_builder b;
    ctca_builder_init(&b, 64);
    const uint8_t bad[] = {0x2b, 0x86};
    ctca_builder_add_der_oid(&b, bad, sizeof bad);
    uint8_t *out;
    size_t n;
    cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_DER_OID);
}
