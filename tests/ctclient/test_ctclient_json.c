/* The ctclient's pure pieces: add-chain answers to SCT bytes, request bodies,
 * URL joining and Retry-After, without any network. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctclient/ctclient_int.h"
#include "tests/helpers.h"

/* id = 00..1f, timestamp 1700000000123, extensions 01 02 03,
 * signature = DigitallySigned{sha256, ecdsa, de ad be ef}. */
#define GOOD_ID "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define GOOD_SIG "BAMABN6tvu8="
static const uint8_t good_sct[] = {
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x00,
    0x03, 0x01, 0x02, 0x03, 0x04, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};

static ctca_err parse(const char *json, uint8_t **sct, size_t *len, char *detail)
{
    return ctca_ctclient_parse_sct_response(ctca_view_make((const uint8_t *)json, strlen(json)),
                                            sct, len, detail, 160);
}

static void expect_bad(const char *json, const char *why)
{
    uint8_t *sct = NULL;
    size_t len = 0;
    char detail[160] = "";
    ctca_err err = parse(json, &sct, &len, detail);
    cr_expect_eq(err, CTCA_ERR_BAD_RESPONSE, "%s: got %s for %s", why, ctca_err_name(err), json);
    cr_expect_null(sct, "%s: no SCT on failure", why);
    cr_expect_neq(detail[0], '\0', "%s: a detail is given", why);
    free(sct);
}

Test(ctclient_json, known_response_gives_exact_sct_bytes)
{
    const char *json = "{\"sct_version\":0,\"id\":\"" GOOD_ID "\",\"timestamp\":1700000000123,"
                       "\"extensions\":\"AQID\",\"signature\":\"" GOOD_SIG "\"}";
    uint8_t *sct = NULL;
    size_t len = 0;
    char detail[160];
    cr_assert_eq(parse(json, &sct, &len, detail), CTCA_OK, "%s", detail);
    cr_assert_eq(len, sizeof good_sct);
    cr_assert_arr_eq(sct, good_sct, sizeof good_sct);
    free(sct);
}

Test(ctclient_json, upstream_proof_round_trips_through_json)
{
    /* A real log's SCT: split it into the JSON a log would send, then rebuild. */
    char *path = th_upstream("certificate-transparency/test-embedded-pre-cert.proof");
    size_t plen = 0;
    uint8_t *proof = th_read_file(path, &plen);
    cr_assert_gt(plen, 47u);
    cr_assert_eq(proof[41], 0);
    cr_assert_eq(proof[42], 0, "upstream proof has empty extensions");
    uint64_t ts = 0;
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | proof[33 + i];
    cr_assert_eq(ts, 1365181456275ull);
    char *id = NULL, *sig = NULL;
    cr_assert_eq(ctca_base64_encode(proof + 1, 32, &id), CTCA_OK);
    cr_assert_eq(ctca_base64_encode(proof + 43, plen - 43, &sig), CTCA_OK);
    char json[1024];
    snprintf(json, sizeof json,
             "{ \"signature\" : \"%s\", \"unknown\": [1, {\"x\": \"}\"}], \"timestamp\": %llu,"
             " \"extensions\": \"\", \"id\": \"%s\", \"sct_version\": 0 }\n",
             sig, (unsigned long long)ts, id);
    uint8_t *sct = NULL;
    size_t len = 0;
    char detail[160];
    cr_assert_eq(parse(json, &sct, &len, detail), CTCA_OK, "%s", detail);
    cr_assert_eq(len, plen);
    cr_assert_arr_eq(sct, proof, plen);
    free(sct);
    free(id);
    free(sig);
    free(proof);
    free(path);
}

Test(ctclient_json, escaped_key_names_are_the_same_member)
{
    /* cJSON decodes "\u0074imestamp" as timestamp; the exact-integer reader must too. */
    const char *json = "{\"sct_version\":0,\"id\":\"" GOOD_ID "\",\"\\u0074imestamp\":1700000000123,"
                       "\"extensions\":\"AQID\",\"signature\":\"" GOOD_SIG "\"}";
    uint8_t *sct = NULL;
    size_t len = 0;
    char detail[160];
    cr_assert_eq(parse(json, &sct, &len, detail), CTCA_OK, "%s", detail);
    cr_assert_arr_eq(sct, good_sct, sizeof good_sct);
    free(sct);
}

Test(ctclient_json, largest_timestamp_is_exact)
{
    /* 2^63 - 1 is not representable as a double; the SCT must still carry it exactly. */
    const char *json = "{\"sct_version\":0,\"id\":\"" GOOD_ID "\",\"timestamp\":9223372036854775807,"
                       "\"extensions\":\"\",\"signature\":\"BAMAAA==\"}";
    uint8_t *sct = NULL;
    size_t len = 0;
    char detail[160];
    cr_assert_eq(parse(json, &sct, &len, detail), CTCA_OK, "%s", detail);
    cr_assert_eq(len, 1 + 32 + 8 + 2 + 4u);
    static const uint8_t ts[8] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cr_assert_arr_eq(sct + 33, ts, 8);
    free(sct);
}

#define PRE "{\"sct_version\":0,\"id\":\"" GOOD_ID "\","
#define SIG ",\"extensions\":\"\",\"signature\":\"" GOOD_SIG "\"}"

Test(ctclient_json, malformed_responses_are_bad_response)
{
    expect_bad("", "empty body");
    expect_bad("not json", "garbage");
    expect_bad("[1,2]", "top level array");
    expect_bad("\"str\"", "top level string");
    expect_bad(PRE "\"timestamp\":1" SIG " x", "trailing garbage");
    expect_bad(PRE "\"timestamp\":1" SIG "{}", "two documents");
    expect_bad(PRE "\"timestamp\":\"1700000000123\"" SIG, "timestamp as string");
    expect_bad(PRE "\"timestamp\":1.5" SIG, "fractional timestamp");
    expect_bad(PRE "\"timestamp\":1.0" SIG, "timestamp with a fraction part");
    expect_bad(PRE "\"timestamp\":1e3" SIG, "timestamp with an exponent");
    expect_bad(PRE "\"timestamp\":-1" SIG, "negative timestamp");
    expect_bad(PRE "\"timestamp\":-0" SIG, "negative zero timestamp");
    expect_bad(PRE "\"timestamp\":9223372036854775808" SIG, "timestamp of 2^63");
    expect_bad(PRE "\"timestamp\":1,\"timestamp\":2" SIG, "duplicated timestamp");
    expect_bad(PRE "\"timestamp\":null" SIG, "null timestamp");
    expect_bad("{\"sct_version\":1,\"id\":\"" GOOD_ID "\",\"timestamp\":1" SIG, "sct_version 1");
    expect_bad("{\"sct_version\":0.0,\"id\":\"" GOOD_ID "\",\"timestamp\":1" SIG,
               "sct_version 0.0");
    expect_bad("{\"sct_version\":\"0\",\"id\":\"" GOOD_ID "\",\"timestamp\":1" SIG,
               "sct_version as string");
    expect_bad("{\"id\":\"" GOOD_ID "\",\"timestamp\":1" SIG, "missing sct_version");
    /* 31 bytes */
    expect_bad("{\"sct_version\":0,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\","
               "\"timestamp\":1" SIG,
               "id of 31 bytes");
    expect_bad("{\"sct_version\":0,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\","
               "\"timestamp\":1" SIG,
               "id of 33 bytes");
    expect_bad("{\"sct_version\":0,\"id\":\" " GOOD_ID "\",\"timestamp\":1" SIG,
               "id with whitespace");
    expect_bad("{\"sct_version\":0,\"id\":7,\"timestamp\":1" SIG, "id as number");
    expect_bad(PRE "\"timestamp\":1,\"extensions\":\"AQI\",\"signature\":\"" GOOD_SIG "\"}",
               "extensions not canonical base64");
    expect_bad(PRE "\"timestamp\":1,\"signature\":\"" GOOD_SIG "\"}", "missing extensions");
    expect_bad(PRE "\"timestamp\":1,\"extensions\":\"\",\"signature\":\"BAMABN6tvu8A\"}",
               "signature with a trailing byte");
    expect_bad(PRE "\"timestamp\":1,\"extensions\":\"\",\"signature\":\"BAMABd6tvu8=\"}",
               "signature length beyond its bytes");
    expect_bad(PRE "\"timestamp\":1,\"extensions\":\"\",\"signature\":\"BA==\"}",
               "signature truncated before its algorithms");
    expect_bad(PRE "\"timestamp\":1,\"extensions\":\"\",\"signature\":{}}",
               "signature as object");
    static const char nul_body[] = PRE "\"timestamp\":1" SIG;
    uint8_t buf[sizeof nul_body + 1];
    memcpy(buf, nul_body, sizeof nul_body); /* the NUL is part of the body */
    uint8_t *sct = NULL;
    size_t len = 0;
    cr_expect_eq(ctca_ctclient_parse_sct_response(ctca_view_make(buf, sizeof nul_body), &sct,
                                                  &len, NULL, 0),
                 CTCA_ERR_BAD_RESPONSE, "NUL byte in the body");
}

Test(ctclient_json, request_body_is_the_base64_chain)
{
    static const uint8_t a[] = {0x30, 0x03, 0x02, 0x01, 0x01}, b[] = {0xff};
    ctca_view chain[2] = {ctca_view_make(a, sizeof a), ctca_view_make(b, sizeof b)};
    uint8_t *body = NULL;
    size_t len = 0;
    cr_assert_eq(ctca_ctclient_chain_json(chain, 2, &body, &len), CTCA_OK);
    const char *want = "{\"chain\":[\"MAMCAQE=\",\"/w==\"]}";
    cr_assert_eq(len, strlen(want));
    cr_assert_arr_eq(body, want, len);
    free(body);
}

Test(ctclient_json, request_caps_are_enforced)
{
    static const uint8_t a[] = {0x30, 0x00};
    ctca_view chain[CTCA_CTCLIENT_MAX_CHAIN + 1];
    for (size_t i = 0; i < CTCA_CTCLIENT_MAX_CHAIN + 1; i++)
        chain[i] = ctca_view_make(a, sizeof a);
    uint8_t *body = NULL;
    size_t len = 0;
    cr_expect_eq(ctca_ctclient_chain_json(chain, CTCA_CTCLIENT_MAX_CHAIN + 1, &body, &len),
                 CTCA_ERR_VALUE_RANGE, "too many certificates");
    cr_expect_eq(ctca_ctclient_chain_json(chain, 0, &body, &len), CTCA_ERR_VALUE_RANGE,
                 "empty chain");
    chain[0] = ctca_view_make(a, 0);
    cr_expect_eq(ctca_ctclient_chain_json(chain, 1, &body, &len), CTCA_ERR_VALUE_RANGE,
                 "empty certificate");
    cr_expect_null(body);
    chain[0] = ctca_view_make(a, sizeof a);
    cr_assert_eq(ctca_ctclient_chain_json(chain, CTCA_CTCLIENT_MAX_CHAIN, &body, &len), CTCA_OK);
    free(body);
}

Test(ctclient_json, urls_are_joined_and_validated)
{
    char *u = NULL;
    cr_assert_eq(ctca_ctclient_url("https://ct.example.net/2025h1/", "ct/v1/add-chain", &u),
                 CTCA_OK);
    cr_expect_str_eq(u, "https://ct.example.net/2025h1/ct/v1/add-chain");
    free(u);
    cr_assert_eq(ctca_ctclient_url("http://127.0.0.1:4711", "ct/v1/add-pre-chain", &u), CTCA_OK);
    cr_expect_str_eq(u, "http://127.0.0.1:4711/ct/v1/add-pre-chain");
    free(u);
    cr_assert_eq(ctca_ctclient_url("https://ct.example.net/log", "ct/v1/get-sth", &u), CTCA_OK);
    cr_expect_str_eq(u, "https://ct.example.net/log/ct/v1/get-sth");
    free(u);

    const char *bad_urls[] = {"",
                              "ftp://ct.example.net/",
                              "file:///etc/passwd",
                              "ct.example.net/",
                              "https://ct.example.net/?a=b",
                              "https://ct.example.net/#x",
                              "https://user:pw@ct.example.net/",
                              "https://ct.example.net/ log/",
                              "https://ct.example.net/\n",
                              "https:///path/"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
        u = NULL;
        cr_expect_eq(ctca_ctclient_url(bad_urls[i], "ct/v1/add-chain", &u), CTCA_ERR_CONFIG,
                     "accepted base URL '%s'", bad_urls[i]);
        cr_expect_null(u);
    }
    cr_expect_eq(ctca_ctclient_url("https://ct.example.net/", "/ct/v1/get-sth", &u),
                 CTCA_ERR_CONFIG, "path with a leading slash");
    cr_expect_eq(ctca_ctclient_url("https://ct.example.net/", "ct/v1/get sth", &u),
                 CTCA_ERR_CONFIG, "path with a space");
}

Test(ctclient_json, retry_after_delta_seconds)
{
    long v = -1;
    cr_expect(ctca_ctclient_parse_retry_after("Retry-After: 120\r\n", 18, &v));
    cr_expect_eq(v, 120);
    cr_expect(ctca_ctclient_parse_retry_after("retry-after:7", 13, &v));
    cr_expect_eq(v, 7);
    const char *big = "Retry-After: 99999999999999999999\r\n";
    cr_expect(ctca_ctclient_parse_retry_after(big, strlen(big), &v));
    cr_expect_eq(v, 2147483647L, "clamped");
    v = -1;
    const char *date = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n";
    cr_expect_not(ctca_ctclient_parse_retry_after(date, strlen(date), &v), "HTTP-date");
    cr_expect_not(ctca_ctclient_parse_retry_after("Retry-After: -5\r\n", 17, &v));
    cr_expect_not(ctca_ctclient_parse_retry_after("Retry-After: 5x\r\n", 17, &v));
    cr_expect_not(ctca_ctclient_parse_retry_after("Retry-After:\r\n", 14, &v));
    cr_expect_not(ctca_ctclient_parse_retry_after("X-Retry-After: 5\r\n", 18, &v));
    cr_expect_eq(v, -1);
}

Test(ctclient_json, duplicated_unknown_fields_and_nul_are_refused)
{
    /* Unknown fields are ignored (RFC 6962 clients do), but not twice. */
    expect_bad(PRE "\"timestamp\":1,\"x\":1,\"x\":2" SIG, "duplicated unknown field");
    expect_bad(PRE "\"timestamp\":1,\"x\":\"a\\u0000b\"" SIG, "\\u0000 in an ignored field");
    char detail[160] = "";
    uint8_t *sct = NULL;
    size_t len = 0;
    cr_expect_eq(parse(PRE "\"timestamp\":1,\"timestamp\":2" SIG, &sct, &len, detail),
                 CTCA_ERR_BAD_RESPONSE);
    cr_expect_str_eq(detail, "field timestamp: duplicate key");
    cr_expect_eq(parse(PRE "\"timestamp\":1.0" SIG, &sct, &len, detail), CTCA_ERR_BAD_RESPONSE);
    cr_expect_str_eq(detail, "field timestamp: not an integer in range");
}
