/* asn1/json.c: the strict reader names the field of every error, refuses
 * duplicate keys, \u0000, -0 and too-deep or too-large input, reads integers
 * exactly and range-checks them before converting; the writer keeps cJSON's
 * layout. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "asn1/json_int.h"

static const ctca_json_format strict = {
    .code = CTCA_ERR_CONFIG,
    .syntax_code = CTCA_ERR_JSON,
    .max_bytes = 4096,
    .max_depth = 4,
    .unknown = CTCA_JSON_UNKNOWN_REFUSE,
    .unknown_msg = "unknown key",
    .path_prefix = "",
};

static const ctca_json_format lenient = {
    .code = CTCA_ERR_BAD_RESPONSE,
    .syntax_code = CTCA_ERR_BAD_RESPONSE,
    .max_bytes = 4096,
    .max_depth = 4,
    .unknown = CTCA_JSON_UNKNOWN_IGNORE,
    .unknown_msg = "unknown field",
    .path_prefix = "field ",
};

static json_t *parse_ok(const ctca_json_format *f, const char *text)
{
    json_t *doc = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_json_parse(f, text, strlen(text), &doc, &eb), CTCA_OK, "%s: %s", text,
                 eb.msg);
    cr_assert_not_null(doc);
    return doc;
}

/* expect_refused: text fails to parse with code and a message starting with want. */
static void expect_refused(const ctca_json_format *f, const char *text, ctca_err code,
                           const char *want)
{
    json_t *doc = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_json_parse(f, text, strlen(text), &doc, &eb);
    cr_expect_eq(rc, code, "%s: got %s (%s)", text, ctca_err_name(rc), eb.msg);
    cr_expect_null(doc, "%s: no document on failure", text);
    cr_expect(strncmp(eb.msg, want, strlen(want)) == 0, "%s: \"%s\" does not start with \"%s\"",
              text, eb.msg, want);
    json_decref(doc);
}

Test(json, errors_name_the_field_path)
{
    ctca_json_format deep = strict;
    deep.max_depth = 8;
    json_t *doc = parse_ok(&deep, "{\"operators\":[{},{},{\"logs\":[{\"key\":\"!\"}]}]}");
    ctca_json_node root = ctca_json_root(&deep, doc);
    ctca_json_node ops = ctca_json_member(&root, "operators");
    ctca_json_node op = ctca_json_element(&ops, 2);
    ctca_json_node logs = ctca_json_member(&op, "logs");
    ctca_json_node log = ctca_json_element(&logs, 0);
    ctca_json_node key = ctca_json_member(&log, "key");
    cr_assert_str_eq(ctca_json_string(&key), "!");
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_json_fail(&key, &eb, "not base64"), CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "operators[2].logs[0].key: not base64");
    /* An absent member still has a path; the root has none. */
    ctca_json_node url = ctca_json_member(&log, "url");
    cr_expect_null(url.v);
    cr_expect_eq(ctca_json_get_int(&url, true, 0, 1, &(int64_t){0}, &eb), CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "operators[2].logs[0].url: missing");
    cr_expect_eq(ctca_json_fail(&root, &eb, "the document must be a JSON object"),
                 CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "the document must be a JSON object");
    json_decref(doc);
}

Test(json, a_format_may_prefix_its_paths)
{
    json_t *doc = parse_ok(&lenient, "{\"id\":3}");
    ctca_json_node root = ctca_json_root(&lenient, doc);
    ctca_json_node id = ctca_json_member(&root, "id");
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_json_fail(&id, &eb, "not a string"), CTCA_ERR_BAD_RESPONSE);
    cr_expect_str_eq(eb.msg, "field id: not a string");
    json_decref(doc);
}

Test(json, duplicate_keys_are_refused_naming_the_key)
{
    expect_refused(&strict, "{\"a\":1,\"a\":2}", CTCA_ERR_CONFIG, "a: duplicate key");
    expect_refused(&strict, "{\"a\":{\"b\":[{\"c\":1},{\"d\":1, \"c\":0, \"d\":2}]}}",
                   CTCA_ERR_CONFIG, "a.b[1].d: duplicate key");
    /* The same member spelt with an escape, and a key holding an escaped quote. */
    expect_refused(&strict, "{\"timestamp\":1,\"\\u0074imestamp\":2}", CTCA_ERR_CONFIG,
                   "timestamp: duplicate key");
    expect_refused(&strict, "{\"p\":{\"x\\\"y\":1, \"x\\\"y\" : 2}}", CTCA_ERR_CONFIG,
                   "p.x\"y: duplicate key");
    /* Duplicates are refused even where unknown keys are ignored. */
    expect_refused(&lenient, "{\"extra\":[1],\"extra\":[2]}", CTCA_ERR_BAD_RESPONSE,
                   "field extra: duplicate key");
}

Test(json, nul_in_strings_is_refused)
{
    expect_refused(&strict, "{\"a\":[\"x\",\"y\\u0000z\"]}", CTCA_ERR_CONFIG,
                   "a[1]: string holds \\u0000");
    expect_refused(&strict, "{\"k\\u0000\":1}", CTCA_ERR_JSON, "JSON syntax error");
    /* A raw NUL byte is not JSON at all. */
    static const char raw[] = "{\"a\":\"x\0y\"}";
    json_t *doc = NULL;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_json_parse(&strict, raw, sizeof raw - 1, &doc, &eb), CTCA_ERR_JSON);
    cr_expect_str_eq(eb.msg, "a NUL byte at byte 7");
    cr_expect_null(doc);
}

Test(json, integers_beyond_2_to_the_53_are_exact)
{
    json_t *doc = parse_ok(&strict, "{\"a\":9007199254740993,\"b\":9223372036854775807,"
                                    "\"c\":-9223372036854775808}");
    ctca_json_node root = ctca_json_root(&strict, doc);
    ctca_json_node a = ctca_json_member(&root, "a"), b = ctca_json_member(&root, "b"),
                   c = ctca_json_member(&root, "c");
    int64_t v = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_json_get_int(&a, true, 0, INT64_MAX, &v, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(v, 9007199254740993LL, "2^53 + 1 is not a double");
    cr_assert_eq(ctca_json_get_int(&b, true, 0, INT64_MAX, &v, &eb), CTCA_OK, "%s", eb.msg);
    cr_expect_eq(v, INT64_MAX);
    cr_assert(ctca_json_int_in(c.v, INT64_MIN, 0, &v));
    cr_expect_eq(v, INT64_MIN);
    json_decref(doc);
}

Test(json, out_of_range_integers_are_refused_before_any_conversion)
{
    json_t *doc = parse_ok(&strict, "{\"profiles\":{\"tls-server\":{\"validity_days\":3651,"
                                    "\"big\":9223372036854775807,\"neg\":-1}}}");
    ctca_json_node root = ctca_json_root(&strict, doc);
    ctca_json_node ps = ctca_json_member(&root, "profiles");
    ctca_json_node p = ctca_json_member(&ps, "tls-server");
    ctca_json_node days = ctca_json_member(&p, "validity_days");
    ctca_json_node big = ctca_json_member(&p, "big"), neg = ctca_json_member(&p, "neg");
    int64_t v = 42;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_json_get_int(&days, true, 1, 3650, &v, &eb), CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "profiles.tls-server.validity_days: expected an integer in 1..3650");
    cr_expect_eq(ctca_json_get_int(&big, true, 0, UINT32_MAX, &v, &eb), CTCA_ERR_CONFIG);
    cr_expect_eq(ctca_json_get_int(&neg, true, 0, 10, &v, &eb), CTCA_ERR_CONFIG);
    cr_expect_eq(v, 42, "a refused value leaves *out alone");
    json_decref(doc);
    /* Beyond 64 bits: refused while parsing, with the field named. */
    expect_refused(&strict, "{\"a\":[1,{\"n\":99999999999999999999}]}", CTCA_ERR_CONFIG,
                   "a[1].n: number beyond the range");
    expect_refused(&strict, "{\"a\":-9223372036854775809}", CTCA_ERR_CONFIG,
                   "a: number beyond the range");
}

Test(json, huge_or_fractional_reals_are_not_integers)
{
    json_t *doc = parse_ok(&strict, "{\"a\":1e300,\"b\":1.0,\"c\":1e3,\"d\":-1e308}");
    ctca_json_node root = ctca_json_root(&strict, doc);
    static const char *const keys[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        ctca_json_node n = ctca_json_member(&root, keys[i]);
        int64_t v = 0;
        ctca_errbuf eb = {{0}};
        cr_expect_eq(ctca_json_get_int(&n, true, 0, INT64_MAX, &v, &eb), CTCA_ERR_CONFIG, "%s",
                     keys[i]);
        cr_expect(strstr(eb.msg, "expected an integer") != NULL, "%s", eb.msg);
    }
    json_decref(doc);
    expect_refused(&strict, "{\"x\":{\"max_days\":1e400}}", CTCA_ERR_CONFIG,
                   "x.max_days: number beyond the range");
}

Test(json, negative_zero_is_refused_as_an_integer)
{
    expect_refused(&strict, "{\"s\":\"-0\",\"t\":[-0]}", CTCA_ERR_CONFIG,
                   "t[0]: -0 is not an integer");
    /* Inside a string or as a real it is nothing special. */
    json_decref(parse_ok(&strict, "{\"s\":\"a\\\"-0\",\"r\":-0.0,\"e\":-0e1}"));
}

Test(json, depth_and_size_are_capped)
{
    json_decref(parse_ok(&strict, "{\"a\":[[{\"b\":1}]]}")); /* four levels */
    expect_refused(&strict, "{\"a\":[[{\"b\":[]}]]}", CTCA_ERR_CONFIG,
                   "a[0][0].b: nested deeper than 4 levels");
    expect_refused(&strict, "[[[[[1]]]]]", CTCA_ERR_CONFIG, "[0][0][0][0]: nested deeper");
    /* Far past jansson's own limit: still an error, not a crash. */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    ctca_json_format big = strict;
    big.max_bytes = 2 * n;
    json_t *doc = NULL;
    ctca_errbuf eb = {{0}};
    cr_expect_neq(ctca_json_parse(&big, deep, 2 * n, &doc, &eb), CTCA_OK);
    cr_expect_null(doc);
    free(deep);

    char text[4098];
    memset(text, ' ', sizeof text - 1);
    text[0] = '1';
    text[sizeof text - 1] = '\0';
    expect_refused(&strict, text, CTCA_ERR_CONFIG, "larger than 4096 bytes");
    text[sizeof text - 2] = '\0';
    json_decref(parse_ok(&strict, text));
}

Test(json, syntax_errors_and_trailing_bytes)
{
    expect_refused(&strict, "{\"a\":", CTCA_ERR_JSON, "JSON syntax error near byte");
    expect_refused(&strict, "{} {}", CTCA_ERR_JSON, "trailing bytes after the JSON document");
    expect_refused(&strict, "", CTCA_ERR_JSON, "JSON syntax error");
    expect_refused(&lenient, "{\"a\":1} x", CTCA_ERR_BAD_RESPONSE, "trailing bytes");
    /* Any value may be the document; callers decide what the root must be. */
    json_decref(parse_ok(&strict, " \"str\" "));
}

Test(json, unknown_keys_follow_the_format)
{
    static const char *const known[] = {"a", NULL};
    const char *text = "{\"a\":1,\"o\":{\"colour\":1}}";
    json_t *doc = parse_ok(&strict, text);
    ctca_json_node root = ctca_json_root(&strict, doc);
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_json_check_keys(&root, known, &eb), CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "o: unknown key");
    ctca_json_node o = ctca_json_member(&root, "o");
    cr_expect_eq(ctca_json_check_keys(&o, known, &eb), CTCA_ERR_CONFIG);
    cr_expect_str_eq(eb.msg, "o.colour: unknown key");
    json_decref(doc);
    doc = parse_ok(&lenient, text);
    root = ctca_json_root(&lenient, doc);
    cr_expect_eq(ctca_json_check_keys(&root, known, &eb), CTCA_OK);
    json_decref(doc);
}

Test(json, printer_keeps_the_cjson_layout_and_exact_integers)
{
    json_t *v = json_pack("{s:s, s:I, s:{s:[s,s], s:[]}, s:[{s:b}], s:n, s:f, s:f}", "a",
                          "x\"\t\x01", "big", (json_int_t)9007199254740993LL, "o", "l", "p",
                          "q", "e", "arr", "k", 1, "z", "r", 2.0, "s", 0.5);
    char *out = NULL;
    cr_assert_eq(ctca_json_print(v, true, &out), CTCA_OK);
    cr_expect_str_eq(out, "{\n"
                          "\t\"a\":\t\"x\\\"\\t\\u0001\",\n"
                          "\t\"big\":\t9007199254740993,\n"
                          "\t\"o\":\t{\n"
                          "\t\t\"l\":\t[\"p\", \"q\"],\n"
                          "\t\t\"e\":\t[]\n"
                          "\t},\n"
                          "\t\"arr\":\t[{\n"
                          "\t\t\t\"k\":\ttrue\n"
                          "\t\t}],\n"
                          "\t\"z\":\tnull,\n"
                          "\t\"r\":\t2,\n"
                          "\t\"s\":\t0.5\n"
                          "}");
    free(out);
    cr_assert_eq(ctca_json_print(v, false, &out), CTCA_OK);
    cr_expect_str_eq(out, "{\"a\":\"x\\\"\\t\\u0001\",\"big\":9007199254740993,\"o\":{\"l\":"
                          "[\"p\",\"q\"],\"e\":[]},\"arr\":[{\"k\":true}],\"z\":null,"
                          "\"r\":2,\"s\":0.5}");
    free(out);
    json_decref(v);
}
