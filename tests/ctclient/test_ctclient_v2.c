/* The ctclient's RFC 9162 submit-entry pieces, without network: the request
 * body byte for byte, the strict answer parser (sct required and framed as an
 * SCT TransItem, sth and inclusion typed, duplicates refused, unknown fields
 * ignored) and problem-detail bodies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctclient/ctclient_int.h"

/* precert_sct_v2 from 1.3.101.8192, no extensions, signature aa bb cc. */
static const uint8_t sct[] = {0x01, 0x03, 0x04, 0x2b, 0x65, 0xc0, 0x00, 0x00, 0x00, 0x01, 0x8b,
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
/* The first bytes of an STH and of an inclusion proof (only the type is checked here). */
static const uint8_t sth[] = {0x01, 0x04, 0x04, 0x2b, 0x65, 0xc0, 0x00};
static const uint8_t inclusion[] = {0x01, 0x06, 0x04, 0x2b, 0x65, 0xc0, 0x00};

static char *b64(const uint8_t *p, size_t n)
{
    char *s = NULL;
    cr_assert_eq(ctca_base64_encode(p, n, &s), CTCA_OK);
    return s;
}

static ctca_err parse(const char *json, ctca_ctclient_entry_answer *a, char *detail)
{
    return ctca_ctclient_parse_entry_response(
        ctca_view_make((const uint8_t *)json, strlen(json)), a, detail, 160);
}

Test(ctclient_v2, request_body_is_exact_and_uses_the_texts_type_numbers)
{
    static const uint8_t sub[] = {0x30, 0x01, 0x00}, ca[] = {0x30, 0x00};
    ctca_view chain[2] = {ctca_view_make(sub, sizeof sub), ctca_view_make(ca, sizeof ca)};
    uint8_t *out = NULL;
    size_t len = 0;
    cr_assert_eq(ctca_ctclient_entry_json(2, chain, 2, &out, &len), CTCA_OK);
    const char *want = "{\"submission\":\"MAEA\",\"type\":2,\"chain\":[\"MAA=\"]}";
    cr_expect(len == strlen(want) && memcmp(out, want, len) == 0, "%.*s", (int)len, out);
    free(out);
    cr_assert_eq(ctca_ctclient_entry_json(1, chain, 1, &out, &len), CTCA_OK);
    want = "{\"submission\":\"MAEA\",\"type\":1,\"chain\":[]}";
    cr_expect(len == strlen(want) && memcmp(out, want, len) == 0, "%.*s", (int)len, out);
    free(out);
    cr_expect_eq(ctca_ctclient_entry_json(2, chain, 0, &out, &len), CTCA_ERR_VALUE_RANGE);
    ctca_view empty[1] = {ctca_view_make(sub, 0)};
    cr_expect_eq(ctca_ctclient_entry_json(2, empty, 1, &out, &len), CTCA_ERR_VALUE_RANGE);
}

Test(ctclient_v2, answer_with_sct_sth_and_inclusion)
{
    char *s = b64(sct, sizeof sct), *h = b64(sth, sizeof sth), *i = b64(inclusion, sizeof inclusion);
    char json[512];
    snprintf(json, sizeof json, "{\"sct\":\"%s\",\"sth\":\"%s\",\"inclusion\":\"%s\",\"x\":[1]}", s,
             h, i);
    ctca_ctclient_entry_answer a;
    char detail[160] = "";
    cr_assert_eq(parse(json, &a, detail), CTCA_OK, "%s", detail);
    cr_expect(a.sct_len == sizeof sct && memcmp(a.sct, sct, sizeof sct) == 0);
    cr_expect_eq(a.sth_len, sizeof sth);
    cr_expect_eq(a.inclusion_len, sizeof inclusion);
    ctca_ctclient_entry_answer_cleanup(&a);
    ctca_ctclient_entry_answer_cleanup(&a);

    snprintf(json, sizeof json, "{\"sct\":\"%s\"}", s);
    cr_assert_eq(parse(json, &a, detail), CTCA_OK, "sth and inclusion are optional: %s", detail);
    cr_expect_null(a.sth);
    cr_expect_null(a.inclusion);
    ctca_ctclient_entry_answer_cleanup(&a);
    free(s);
    free(h);
    free(i);
}

static void expect_bad(const char *json, const char *why)
{
    ctca_ctclient_entry_answer a;
    char detail[160] = "";
    ctca_err err = parse(json, &a, detail);
    cr_expect_eq(err, CTCA_ERR_BAD_RESPONSE, "%s: got %s", why, ctca_err_name(err));
    cr_expect_null(a.sct, "%s: nothing kept", why);
    cr_expect_neq(detail[0], '\0', "%s: a detail is given", why);
}

/* One byte of sct changed at offset at (or cut to len bytes when at < 0). */
static char *sct_variant(int at, uint8_t value, size_t len)
{
    uint8_t v[sizeof sct + 1];
    memcpy(v, sct, sizeof sct);
    v[sizeof sct] = 0;
    if (at >= 0)
        v[at] = value;
    return b64(v, len);
}

Test(ctclient_v2, malformed_answers_are_refused)
{
    char json[512];
    char *s = b64(sct, sizeof sct), *h = b64(sth, sizeof sth);
    expect_bad("", "empty body");
    expect_bad("[]", "not an object");
    expect_bad("{\"sth\":\"AQQ=\"}", "no sct");
    expect_bad("{\"sct\":12}", "sct not a string");
    expect_bad("{\"sct\":\"!!\"}", "sct not base64");
    snprintf(json, sizeof json, "{\"sct\":\"%s\",\"sct\":\"%s\"}", s, s);
    expect_bad(json, "duplicate sct");
    snprintf(json, sizeof json, "{\"sct\":\"%s\",\"sth\":\"%s\",\"sth\":\"%s\"}", s, h, h);
    expect_bad(json, "duplicate sth");
    snprintf(json, sizeof json, "{\"sct\":\"%s\"} x", s);
    expect_bad(json, "trailing text");
    snprintf(json, sizeof json, "{\"sct\":\"%s\"}", h);
    expect_bad(json, "an STH where the SCT goes");
    snprintf(json, sizeof json, "{\"sct\":\"%s\",\"sth\":\"%s\"}", s, s);
    expect_bad(json, "an SCT where the STH goes");
    snprintf(json, sizeof json, "{\"sct\":\"%s\",\"inclusion\":\"%s\"}", s, h);
    expect_bad(json, "an STH where the inclusion proof goes");

    static const struct {
        const char *why;
        int at;
        uint8_t value;
        size_t len;
    } variants[] = {
        {"v1 SCT version", 0, 0x00, sizeof sct},
        {"unknown type", 1, 0x07, sizeof sct},
        {"log ID of one octet", 2, 0x01, sizeof sct},
        {"log ID not an OID", 6, 0x80, sizeof sct},
        {"empty signature", 18, 0x00, sizeof sct},
        {"truncated", -1, 0, sizeof sct - 1},
        {"trailing byte", -1, 0, sizeof sct + 1},
    };
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        char *v = sct_variant(variants[i].at, variants[i].value, variants[i].len);
        snprintf(json, sizeof json, "{\"sct\":\"%s\"}", v);
        expect_bad(json, variants[i].why);
        free(v);
    }
    free(s);
    free(h);
}

Test(ctclient_v2, problem_details_name_the_rfc9162_error)
{
    char buf[128];
    const char *body = "{\"type\":\"urn:ietf:params:trans:error:badChain\",\"detail\":\"no\"}";
    cr_assert(ctca_ctclient_problem(ctca_view_make((const uint8_t *)body, strlen(body)), buf,
                                    sizeof buf));
    cr_expect_str_eq(buf, "badChain: no");
    body = "{\"detail\":\"injected failure\"}";
    cr_assert(ctca_ctclient_problem(ctca_view_make((const uint8_t *)body, strlen(body)), buf,
                                    sizeof buf));
    cr_expect_str_eq(buf, "injected failure");
    body = "{\"error\":\"v1 style\"}";
    cr_expect_not(ctca_ctclient_problem(ctca_view_make((const uint8_t *)body, strlen(body)), buf,
                                        sizeof buf));
    body = "not json";
    cr_expect_not(ctca_ctclient_problem(ctca_view_make((const uint8_t *)body, strlen(body)), buf,
                                        sizeof buf));
}
