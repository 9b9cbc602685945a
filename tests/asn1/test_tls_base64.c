/* TLS vectors are read within their declared bounds; base64 is canonical only. */
#include <criterion/criterion.h>
#include <string.h>

#include "ctca/asn1.h"

#define V(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

Test(tls, integers_big_endian)
{
    ctca_view v = ctca_view_make(V(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 1, 2, 3, 4, 5, 6, 7, 8));
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    cr_assert_eq(ctca_view_get_u8(&v, &a), CTCA_OK);
    cr_assert_eq(ctca_view_get_u16(&v, &b), CTCA_OK);
    cr_assert_eq(ctca_view_get_u24(&v, &c), CTCA_OK);
    cr_assert_eq(ctca_view_get_u64(&v, &d), CTCA_OK);
    cr_assert_eq(a, 0x01);
    cr_assert_eq(b, 0x0203);
    cr_assert_eq(c, 0x040506);
    cr_assert_eq(d, 0x0102030405060708ull);
    cr_assert_eq(ctca_view_get_u8(&v, &a), CTCA_ERR_TRUNCATED);
}

Test(tls, short_integer_leaves_cursor)
{
    const uint8_t in[] = {1, 2, 3};
    ctca_view v = ctca_view_make(in, sizeof in);
    uint64_t d;
    cr_assert_eq(ctca_view_get_u64(&v, &d), CTCA_ERR_TRUNCATED);
    cr_assert_eq(v.len, 3);
}

Test(tls, vector_bounds_and_truncation)
{
    ctca_view out;
    ctca_view v = ctca_view_make(V(0x00, 0x02, 0xaa, 0xbb, 0xcc));
    cr_assert_eq(ctca_tls_get_vec(&v, 2, 1, 10, &out), CTCA_OK);
    cr_assert_eq(out.len, 2);
    cr_assert_eq(out.data[1], 0xbb);
    cr_assert_eq(ctca_view_expect_empty(v), CTCA_ERR_TRAILING_DATA);

    v = ctca_view_make(V(0x00, 0x00));
    cr_assert_eq(ctca_tls_get_vec(&v, 2, 1, 10, &out), CTCA_ERR_TLS_LENGTH_RANGE, "below min");
    cr_assert_eq(v.len, 2);
    v = ctca_view_make(V(0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(ctca_tls_get_vec(&v, 1, 0, 10, &out), CTCA_ERR_TLS_LENGTH_RANGE, "above max");
    v = ctca_view_make(V(0x00, 0x00, 0x05, 1, 2));
    cr_assert_eq(ctca_tls_get_vec(&v, 3, 0, 100, &out), CTCA_ERR_TRUNCATED, "u24 past end");
    cr_assert_eq(v.len, 5);
    v = ctca_view_make(V(0x00));
    cr_assert_eq(ctca_tls_get_vec(&v, 2, 0, 100, &out), CTCA_ERR_TRUNCATED, "short prefix");
}

Test(base64, encodes_rfc4648_vectors)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *s;
        cr_assert_eq(ctca_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), &s), CTCA_OK);
        cr_assert_str_eq(s, enc[i]);
        uint8_t *back;
        size_t n;
        cr_assert_eq(ctca_base64_decode(s, strlen(s), &back, &n), CTCA_OK);
        cr_assert_eq(n, strlen(plain[i]));
        cr_assert_arr_eq(back, plain[i], n);
        free(s);
        free(back);
    }
}

Test(base64, rejects_non_canonical_forms)
{
    const char *bad[] = {"Zg=",   "Zg",    "Zh==",     /* non-zero bits under padding */
                         "Zm9=",  "Z===",  "Zm 9v",    /* whitespace */
                         "Zm9v\n", "=m9v", "Zm=v",     "Zm9v====", "Zm9-", "Zm9_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *out = NULL;
        size_t n;
        cr_assert_eq(ctca_base64_decode(bad[i], strlen(bad[i]), &out, &n), CTCA_ERR_BASE64,
                     "accepted \"%s\"", bad[i]);
    }
}

Test(calendar, days_round_trip_across_eras)
{
    for (int64_t d = -800000; d < 3000000; d += 997) {
        int y;
        unsigned m, dd;
        ctca_civil_from_days(d, &y, &m, &dd);
        cr_assert_eq(ctca_days_from_civil(y, m, dd), d);
    }
    cr_assert_eq(ctca_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(ctca_days_in_month(2000, 2), 29);
    cr_assert_eq(ctca_days_in_month(1900, 2), 28);
}
