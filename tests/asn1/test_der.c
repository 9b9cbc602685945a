/* Strict DER reading: every malformed form has its own error code, and a
 * failed read leaves the cursor where it was. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "ctca/asn1.h"

#define V(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Parameters are copied to Criterion's worker processes, so they hold their
 * bytes inline rather than pointers. */
typedef struct {
    char name[40];
    uint8_t in[8];
    size_t len;
    ctca_err want;
} any_case;

#define C(name, want, ...) {name, {__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), want}

static any_case any_cases[] = {
    {"empty input", {0}, 0, CTCA_ERR_TRUNCATED},
    C("tag only", CTCA_ERR_TRUNCATED, 0x30),
    C("high tag", CTCA_ERR_DER_HIGH_TAG, 0x1f, 0x01, 0x00),
    C("indefinite length", CTCA_ERR_DER_LENGTH_INDEFINITE, 0x30, 0x80, 0x00, 0x00),
    C("long form for short length", CTCA_ERR_DER_LENGTH_NONMINIMAL, 0x04, 0x81, 0x05, 1, 2, 3, 4, 5),
    C("leading zero length octet", CTCA_ERR_DER_LENGTH_NONMINIMAL, 0x04, 0x82, 0x00, 0x80),
    C("five length octets", CTCA_ERR_DER_LENGTH_TOO_LONG, 0x04, 0x85, 1, 0, 0, 0, 0),
    C("length past cap", CTCA_ERR_DER_LENGTH_TOO_LONG, 0x04, 0x84, 0x7f, 0xff, 0xff, 0xff),
    C("truncated long length", CTCA_ERR_TRUNCATED, 0x04, 0x82, 0x01),
    C("contents shorter than length", CTCA_ERR_TRUNCATED, 0x04, 0x03, 1, 2),
    C("long length past end", CTCA_ERR_TRUNCATED, 0x04, 0x81, 0x80, 0x00),
};

ParameterizedTestParameters(der, malformed_tlv_rejected_with_exact_code)
{
    return cr_make_param_array(any_case, any_cases, sizeof any_cases / sizeof any_cases[0]);
}

ParameterizedTest(any_case *c, der, malformed_tlv_rejected_with_exact_code)
{
    ctca_view v = ctca_view_make(c->in, c->len), contents;
    uint8_t tag = 0;
    ctca_err rc = ctca_der_get_any(&v, &tag, &contents, NULL);
    cr_assert_eq(rc, c->want, "%s: got %s", c->name, ctca_err_name(rc));
    cr_assert_eq(v.data, (const uint8_t *)c->in, "%s: cursor moved on failure", c->name);
    cr_assert_eq(v.len, c->len, "%s: cursor moved on failure", c->name);
}

Test(der, long_form_length_read_exactly)
{
    uint8_t buf[3 + 200] = {0x04, 0x81, 200};
    ctca_view v = ctca_view_make(buf, sizeof buf), contents, element;
    uint8_t tag;
    cr_assert_eq(ctca_der_get_any(&v, &tag, &contents, &element), CTCA_OK);
    cr_assert_eq(tag, CTCA_DER_OCTET_STRING);
    cr_assert_eq(contents.len, 200);
    cr_assert_eq(contents.data, buf + 3);
    cr_assert_eq(element.len, sizeof buf);
    cr_assert_eq(v.len, 0);
}

Test(der, wrong_tag_leaves_cursor)
{
    const uint8_t in[] = {0x02, 0x01, 0x05};
    ctca_view v = ctca_view_make(in, sizeof in), contents;
    cr_assert_eq(ctca_der_get(&v, CTCA_DER_SEQUENCE, &contents), CTCA_ERR_DER_TAG);
    cr_assert_eq(v.len, sizeof in);
}

Test(der, optional_absent_is_not_an_error)
{
    const uint8_t in[] = {0x02, 0x01, 0x05};
    ctca_view v = ctca_view_make(in, sizeof in), contents;
    bool present = true;
    cr_assert_eq(ctca_der_get_optional(&v, CTCA_DER_CTX_C(0), &contents, &present), CTCA_OK);
    cr_assert(!present);
    cr_assert_eq(v.len, sizeof in);
}

Test(der, integer_minimality)
{
    const struct {
        const uint8_t *in;
        size_t len;
        ctca_err want;
    } cases[] = {
        {V(0x02, 0x00), CTCA_ERR_DER_INTEGER},
        {V(0x02, 0x02, 0x00, 0x7f), CTCA_ERR_DER_INTEGER},
        {V(0x02, 0x02, 0xff, 0x80), CTCA_ERR_DER_INTEGER},
        {V(0x02, 0x02, 0x00, 0x80), CTCA_OK},
        {V(0x02, 0x01, 0x00), CTCA_OK},
        {V(0x02, 0x01, 0x80), CTCA_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_view v = ctca_view_make(cases[i].in, cases[i].len), c;
        cr_assert_eq(ctca_der_get_integer(&v, &c), cases[i].want, "case %zu", i);
    }
}

Test(der, u64_range)
{
    uint64_t x;
    ctca_view v = ctca_view_make(V(0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    cr_assert_eq(ctca_der_get_u64(&v, &x), CTCA_OK);
    cr_assert_eq(x, UINT64_MAX);
    v = ctca_view_make(V(0x02, 0x01, 0xff));
    cr_assert_eq(ctca_der_get_u64(&v, &x), CTCA_ERR_VALUE_RANGE, "negative refused");
    v = ctca_view_make(V(0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(ctca_der_get_u64(&v, &x), CTCA_ERR_VALUE_RANGE, "2^64 refused");
}

Test(der, boolean_null_bitstring_strict)
{
    bool b;
    ctca_view v = ctca_view_make(V(0x01, 0x01, 0x01));
    cr_assert_eq(ctca_der_get_bool(&v, &b), CTCA_ERR_DER_BOOLEAN, "BER true (0x01) refused");
    v = ctca_view_make(V(0x01, 0x01, 0xff));
    cr_assert_eq(ctca_der_get_bool(&v, &b), CTCA_OK);
    cr_assert(b);
    v = ctca_view_make(V(0x05, 0x01, 0x00));
    cr_assert_eq(ctca_der_get_null(&v), CTCA_ERR_DER_NULL);
    ctca_view bits;
    v = ctca_view_make(V(0x03, 0x02, 0x01, 0xfe));
    cr_assert_eq(ctca_der_get_bit_string(&v, &bits), CTCA_ERR_DER_BIT_STRING);
    v = ctca_view_make(V(0x03, 0x00));
    cr_assert_eq(ctca_der_get_bit_string(&v, &bits), CTCA_ERR_DER_BIT_STRING);
}

Test(der, oid_validation_and_text)
{
    /* 1.3.6.1.4.1.11129.2.4.3, the CT poison. */
    const uint8_t poison[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};
    uint8_t enc[2 + sizeof poison] = {0x06, sizeof poison};
    memcpy(enc + 2, poison, sizeof poison);
    ctca_view v = ctca_view_make(enc, sizeof enc), c;
    cr_assert_eq(ctca_der_get_oid(&v, &c), CTCA_OK);
    cr_assert(ctca_oid_eq(c, poison, sizeof poison));
    char text[64];
    cr_assert_eq(ctca_oid_to_string(c, text, sizeof text), CTCA_OK);
    cr_assert_str_eq(text, "1.3.6.1.4.1.11129.2.4.3");
    cr_assert_eq(ctca_oid_to_string(c, text, 8), CTCA_ERR_VALUE_RANGE);

    v = ctca_view_make(V(0x06, 0x00));
    cr_assert_eq(ctca_der_get_oid(&v, &c), CTCA_ERR_DER_OID, "empty OID");
    v = ctca_view_make(V(0x06, 0x02, 0x2b, 0x86));
    cr_assert_eq(ctca_der_get_oid(&v, &c), CTCA_ERR_DER_OID, "unterminated arc");
    v = ctca_view_make(V(0x06, 0x03, 0x2b, 0x80, 0x01));
    cr_assert_eq(ctca_der_get_oid(&v, &c), CTCA_ERR_DER_OID, "0x80 padding in arc");
}

Test(der, oid_from_text_round_trips_and_refuses_malformed_text)
{
    static const char *const good[] = {"1.3.6.1.4.1.11129.2.4.3", "1.3.101.8192",
                                       "1.3.101.80.127", "2.999.1", "0.39"};
    uint8_t buf[127];
    size_t len = 0;
    char text[128];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_assert_eq(ctca_oid_from_string(good[i], buf, sizeof buf, &len), CTCA_OK, "%s", good[i]);
        cr_assert_eq(ctca_oid_to_string(ctca_view_make(buf, len), text, sizeof text), CTCA_OK);
        cr_expect_str_eq(text, good[i]);
    }
    /* RFC 9162 10.2.5: 1.3.101.8192 is four octets. */
    cr_assert_eq(ctca_oid_from_string("1.3.101.8192", buf, sizeof buf, &len), CTCA_OK);
    const uint8_t want[] = {0x2b, 0x65, 0xc0, 0x00};
    cr_expect(len == sizeof want && memcmp(buf, want, len) == 0);

    static const char *const bad[] = {"", "1", "3.1", "1.40", "1.2.", "1..2", ".1.2",
                                      "1.02", "1.2.x", "1.2 ", "-1.2",
                                      "1.99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(ctca_oid_from_string(bad[i], buf, sizeof buf, &len), CTCA_ERR_DER_OID,
                     "\"%s\"", bad[i]);
    cr_expect_eq(ctca_oid_from_string("1.3.101.8192", buf, 3, &len), CTCA_ERR_VALUE_RANGE);
}

Test(der, times_utc_and_generalized)
{
    int64_t t;
    ctca_view v = ctca_view_make((const uint8_t *)"\x17\x0d" "130405170416Z", 15);
    cr_assert_eq(ctca_der_get_time(&v, &t), CTCA_OK);
    cr_assert_eq(t, 1365181456); /* 2013-04-05T17:04:16Z */
    v = ctca_view_make((const uint8_t *)"\x18\x0f" "20500101000000Z", 17);
    cr_assert_eq(ctca_der_get_time(&v, &t), CTCA_OK);
    cr_assert_eq(t, 2524608000);
    v = ctca_view_make((const uint8_t *)"\x17\x0d" "490101000000Z", 15);
    cr_assert_eq(ctca_der_get_time(&v, &t), CTCA_OK);
    cr_assert_eq(t, 2493072000, "UTCTime 49 is 2049");

    const char *bad[] = {"\x17\x0d" "130230000000Z", "\x17\x0d" "130405250000Z",
                         "\x17\x0d" "1304051704160", "\x17\x0b" "1304051704Z",
                         "\x17\x0d" "13040517041aZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = ctca_view_make((const uint8_t *)bad[i], 2 + (size_t)(uint8_t)bad[i][1]);
        cr_assert_eq(ctca_der_get_time(&v, &t), CTCA_ERR_DER_TIME, "bad time %zu", i);
    }
}

Test(der, builder_round_trips_times)
{
    const int64_t times[] = {0, 1365181456, 2524607999, 2524608000, 253402300799};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        ctca_builder b;
        ctca_builder_init(&b, 64);
        ctca_builder_add_der_time(&b, times[i]);
        uint8_t *out;
        size_t n;
        cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_OK);
        ctca_view v = ctca_view_make(out, n);
        int64_t t;
        cr_assert_eq(ctca_der_get_time(&v, &t), CTCA_OK);
        cr_assert_eq(t, times[i]);
        cr_assert_eq(out[0], times[i] < 2524608000 ? CTCA_DER_UTC_TIME : CTCA_DER_GENERALIZED_TIME);
        free(out);
    }
}

Test(der, builder_writes_generalized_time_in_any_year)
{
    static const struct {
        int64_t t;
        const char *der;
    } cases[] = {
        {0, "\x18\x0f" "19700101000000Z"},
        {1365181456, "\x18\x0f" "20130405170416Z"}, /* a UTCTime year too */
        {253402300799, "\x18\x0f" "99991231235959Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctca_builder b;
        ctca_builder_init(&b, 64);
        ctca_builder_add_der_generalized_time(&b, cases[i].t);
        uint8_t *out;
        size_t n;
        cr_assert_eq(ctca_builder_finish(&b, &out, &n), CTCA_OK);
        cr_expect_eq(n, 17);
        cr_expect(memcmp(out, cases[i].der, 17) == 0, "case %zu", i);
        free(out);
    }
    ctca_builder b;
    ctca_builder_init(&b, 64);
    ctca_builder_add_der_generalized_time(&b, 253402300800); /* year 10000 */
    uint8_t *out = NULL;
    size_t n = 0;
    cr_expect_eq(ctca_builder_finish(&b, &out, &n), CTCA_ERR_VALUE_RANGE);
}
