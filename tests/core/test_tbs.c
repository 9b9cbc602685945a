/* Serials, the precertificate TBS and the final TBS: what OpenSSL sees in them,
 * byte-level properties (poison last, issuer and SPKI verbatim, validity), and
 * final-minus-SCT == precert-minus-poison. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "core/x509/x509_int.h"
#include "ctca/sct.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;
static ctca_ca *ca;
static ctca_config *cfg; /* profiles with every optional extension */

#define FULL_PROFILE(name, eku, sans, subject)                                                   \
    "\"" name "\": {\"validity_days\": 90, \"key_usage\": [\"digitalSignature\", "            \
    "\"keyEncipherment\"], \"ext_key_usage\": [\"" eku "\"], \"allowed_san_types\": " sans      \
    ", \"subject\": \"" subject "\", \"ocsp_url\": \"http://ocsp.example.test\", "              \
    "\"ca_issuers_url\": \"http://ca.example.test/ca.der\", \"crl_url\": "                      \
    "\"http://crl.example.test/ca.crl\", \"policy_oids\": [\"2.23.140.1.2.1\"]}"

static const char config_json[] =
    "{\"ca_cert\": \"ca.pem\", \"ca_key\": \"ca.key\", \"store\": \"ctca.db\", \"profiles\": {"
    FULL_PROFILE("tls-server", "serverAuth", "[\"dns\", \"ip\"]", "cn_first_dns") ", "
    FULL_PROFILE("tls-client", "clientAuth", "[\"email\", \"uri\", \"dns\"]", "cn_from_csr") ", "
    FULL_PROFILE("server-empty", "serverAuth", "[\"dns\", \"ip\"]", "empty")
    "}}";

static void setup(void)
{
    dir = th_tmpdir();
    ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_config_parse(config_json, strlen(config_json), &cfg, &eb), CTCA_OK, "%s",
                 eb.msg);
}

static void teardown(void)
{
    ctca_config_free(cfg);
    ctca_ca_free(ca);
    th_rmdir(dir);
    free(dir);
}

TestSuite(tbs, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(serial);

/* ---- helpers --------------------------------------------------------------------------- */

typedef struct built {
    uint8_t *tbs;
    size_t tbs_len;
    uint8_t *cert;
    size_t cert_len;
    ctca_csr *csr;
} built;

static void built_free(built *b)
{
    free(b->tbs);
    free(b->cert);
    ctca_csr_free(b->csr);
}

static built build(const char *profile, const char *newkey, const char *subj, const char *san)
{
    built b = {0};
    char *path = tca_make_csr(dir, "leaf", newkey, subj, san);
    b.csr = tca_load_csr(path);
    free(path);
    uint8_t serial[CTCA_SERIAL_LEN];
    cr_assert_eq(ctca_serial_generate(NULL, NULL, serial), CTCA_OK);
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_tbs_build_precert(ca, ctca_config_get0_profile(cfg, profile), b.csr, serial,
                                         sizeof serial, TCA_NOW, &b.tbs, &b.tbs_len, &eb);
    cr_assert_eq(rc, CTCA_OK, "%s: %s", ctca_err_name(rc), eb.msg);
    rc = ctca_ca_sign_tbs(ca, ctca_view_make(b.tbs, b.tbs_len), &b.cert, &b.cert_len);
    cr_assert_eq(rc, CTCA_OK, "%s", ctca_err_name(rc));
    return b;
}

static char *openssl_text(const char *path)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout -text", path), 0);
    return out;
}

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

/* A syntactically valid SCT list of one SCT with a dummy signature. */
static void dummy_sct_list(uint8_t **list, size_t *len)
{
    static uint8_t sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    ctca_sct sct = {.version = 0,
                    .timestamp = (uint64_t)TCA_NOW * 1000,
                    .hash_alg = CTCA_HASH_SHA256,
                    .sig_alg = CTCA_SIGALG_ECDSA,
                    .signature = sig,
                    .signature_len = sizeof sig};
    memset(sct.log_id, 0xab, sizeof sct.log_id);
    cr_assert_eq(ctca_sct_list_serialize(&sct, 1, list, len), CTCA_OK);
}

static char *verify_cmd(const char *cert_path, const char *extra, int *status)
{
    char *out = NULL;
    *status = th_run(&out, "openssl verify -CAfile '%s/ca/ca.pem' -attime %lld %s '%s'", dir,
                     (long long)TCA_NOW + 60, extra, cert_path);
    return out;
}

/* ---- serials ----------------------------------------------------------------------------- */

Test(serial, top_bit_cleared_so_the_integer_is_positive)
{
    uint8_t start = 0xff, serial[CTCA_SERIAL_LEN];
    cr_assert_eq(ctca_serial_generate(tca_counting_rand, &start, serial), CTCA_OK);
    cr_assert_eq(serial[0], 0x7f);
    cr_assert_eq(serial[1], 0x00);
    ctca_builder b;
    ctca_builder_init(&b, 64);
    ctca_builder_add_der_uint_bytes(&b, serial, sizeof serial);
    uint8_t *der = NULL;
    size_t len = 0;
    cr_assert_eq(ctca_builder_finish(&b, &der, &len), CTCA_OK);
    cr_assert_eq(len, 2 + CTCA_SERIAL_LEN, "no 0x00 pad: the top bit is clear");
    cr_assert_eq(der[2], 0x7f);
    free(der);
    char hex[41];
    cr_assert_eq(ctca_serial_to_hex(serial, sizeof serial, hex, sizeof hex), CTCA_OK);
    cr_assert_str_eq(hex, "7f000102030405060708090a0b0c0d0e");
}

static int zero_rand(void *ctx, uint8_t *buf, size_t n)
{
    int *calls = ctx;
    (*calls)++;
    memset(buf, 0, n);
    if (*calls == 2)
        buf[n - 1] = 1;
    return 1;
}

static int zero_always(void *ctx, uint8_t *buf, size_t n)
{
    (void)ctx;
    memset(buf, 0, n);
    return 1;
}

static int failing_rand(void *ctx, uint8_t *buf, size_t n)
{
    (void)ctx;
    (void)buf;
    (void)n;
    return 0;
}

Test(serial, zero_is_redrawn_and_a_broken_source_fails)
{
    int calls = 0;
    uint8_t serial[CTCA_SERIAL_LEN];
    cr_assert_eq(ctca_serial_generate(zero_rand, &calls, serial), CTCA_OK);
    cr_assert_eq(calls, 2);
    cr_assert_eq(serial[CTCA_SERIAL_LEN - 1], 1);
    cr_assert_eq(ctca_serial_generate(zero_always, NULL, serial), CTCA_ERR_CRYPTO);
    cr_assert_eq(ctca_serial_generate(failing_rand, NULL, serial), CTCA_ERR_CRYPTO);
}

Test(serial, csprng_serials_carry_127_varying_bits_and_are_positive)
{
    /* >= 64 random bits (CA/B BR 7.1): every one of the 127 low bits takes both
     * values over 256 draws (a fixed bit survives with probability 2^-255). */
    uint8_t seen_one[CTCA_SERIAL_LEN] = {0}, seen_zero[CTCA_SERIAL_LEN] = {0};
    for (int i = 0; i < 256; i++) {
        uint8_t s[CTCA_SERIAL_LEN];
        cr_assert_eq(ctca_serial_generate(NULL, NULL, s), CTCA_OK);
        cr_assert_eq(s[0] & 0x80, 0);
        for (int k = 0; k < CTCA_SERIAL_LEN; k++) {
            seen_one[k] |= s[k];
            seen_zero[k] |= (uint8_t)~s[k];
        }
    }
    cr_assert_eq(seen_one[0], 0x7f);
    for (int k = 1; k < CTCA_SERIAL_LEN; k++) {
        cr_assert_eq(seen_one[k], 0xff);
        cr_assert_eq(seen_zero[k], 0xff);
    }
}

Test(serial, hex_is_the_minimal_magnitude)
{
    char hex[41];
    uint8_t s[] = {0x00, 0x00, 0x0a, 0xff};
    cr_assert_eq(ctca_serial_to_hex(s, sizeof s, hex, sizeof hex), CTCA_OK);
    cr_assert_str_eq(hex, "0aff");
    uint8_t z[] = {0, 0};
    cr_assert_eq(ctca_serial_to_hex(z, sizeof z, hex, sizeof hex), CTCA_ERR_VALUE_RANGE);
    cr_assert_eq(ctca_serial_to_hex(s, sizeof s, hex, 4), CTCA_ERR_VALUE_RANGE);
}

/* ---- the precertificate ------------------------------------------------------------- */

Test(tbs, precert_has_profile_extensions_and_poison_last_and_critical)
{
    built b = build("tls-server", KEY_P256, "/CN=ignored.example/O=Evil Corp",
                    "DNS:www.example.com,DNS:example.com,IP:192.0.2.1");
    char *path = tca_write_pem(dir, "precert.pem", b.cert, b.cert_len, "CERTIFICATE");
    char *text = openssl_text(path);
    assert_contains(text, "Version: 3 (0x2)");
    assert_contains(text, "Signature Algorithm: ecdsa-with-SHA256");
    assert_contains(text, "Issuer: C = NL, O = ctca tests, CN = Test CA");
    assert_contains(text, "Subject: CN = www.example.com\n");
    cr_assert_null(strstr(text, "Evil"), "CSR subject attributes must not be copied");
    assert_contains(text, "X509v3 Key Usage: critical\n                Digital Signature\n");
    assert_contains(text, "X509v3 Extended Key Usage: \n                TLS Web Server Authentication");
    assert_contains(text, "X509v3 Basic Constraints: critical\n                CA:FALSE");
    assert_contains(text, "X509v3 Subject Key Identifier");
    assert_contains(text, "X509v3 Authority Key Identifier");
    assert_contains(text, "OCSP - URI:http://ocsp.example.test");
    assert_contains(text, "CA Issuers - URI:http://ca.example.test/ca.der");
    assert_contains(text, "X509v3 Subject Alternative Name: \n"
                          "                DNS:www.example.com, DNS:example.com, IP Address:192.0.2.1");
    assert_contains(text, "Policy: 2.23.140.1.2.1");
    assert_contains(text, "URI:http://crl.example.test/ca.crl");
    assert_contains(text, "CT Precertificate Poison: critical");

    /* The extensions, in their fixed order, the poison last with its exact bytes. */
    ctca_tbs_fields f;
    cr_assert_eq(ctca_tbs_parse(ctca_view_make(b.tbs, b.tbs_len), &f), CTCA_OK);
    static const uint8_t *const order[] = {
        (const uint8_t *)"\x55\x1d\x0f", (const uint8_t *)"\x55\x1d\x25",
        (const uint8_t *)"\x55\x1d\x13", (const uint8_t *)"\x55\x1d\x0e",
        (const uint8_t *)"\x55\x1d\x23", (const uint8_t *)"\x2b\x06\x01\x05\x05\x07\x01\x01",
        (const uint8_t *)"\x55\x1d\x11", (const uint8_t *)"\x55\x1d\x20",
        (const uint8_t *)"\x55\x1d\x1f", CTCA_OID_CT_POISON};
    static const size_t order_len[] = {3, 3, 3, 3, 3, 8, 3, 3, 3, 10};
    ctca_view list = f.ext_list;
    ctca_ext ext = {0};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        cr_assert_eq(ctca_ext_next(&list, &ext), CTCA_OK);
        cr_assert(ctca_oid_eq(ext.oid, order[i], order_len[i]), "extension %zu out of order", i);
    }
    cr_assert_eq(list.len, 0, "the poison is the last extension");
    cr_assert(ctca_view_eq(ext.element,
                           ctca_view_make((const uint8_t *)"\x30\x13\x06\x0a\x2b\x06\x01\x04\x01"
                                                           "\xd6\x79\x02\x04\x03\x01\x01\xff\x04"
                                                           "\x02\x05\x00",
                                          21)));
    cr_assert(ext.critical);
    /* SAN is not critical when there is a subject. */
    ctca_ext san;
    bool found = false;
    cr_assert_eq(ctca_ext_find(f.ext_list, (const uint8_t *)"\x55\x1d\x11", 3, &san, &found),
                 CTCA_OK);
    cr_assert(found && !san.critical);

    /* Issuer is the CA's subject, verbatim; SPKI is the CSR's, verbatim. */
    cr_assert(ctca_view_eq(f.issuer, ctca_ca_get0_subject(ca)));
    cr_assert(ctca_view_eq(f.spki, ctca_csr_get0_spki(b.csr)));
    cr_assert(ctca_view_eq(f.signature, ctca_ca_get0_sig_alg(ca)));
    free(text);
    free(path);
    built_free(&b);
}

Test(tbs, precert_validity_is_now_to_now_plus_days_minus_one_second)
{
    built b = build("tls-server", KEY_P256, "/", "DNS:example.com");
    ctca_tbs_fields f;
    cr_assert_eq(ctca_tbs_parse(ctca_view_make(b.tbs, b.tbs_len), &f), CTCA_OK);
    ctca_view v = f.validity, inner;
    int64_t nb = 0, na = 0;
    cr_assert_eq(ctca_der_get(&v, CTCA_DER_SEQUENCE, &inner), CTCA_OK);
    cr_assert_eq(ctca_der_get_time(&inner, &nb), CTCA_OK);
    cr_assert_eq(ctca_der_get_time(&inner, &na), CTCA_OK);
    cr_assert_eq(nb, TCA_NOW);
    cr_assert_eq(na - nb, 90 * 86400 - 1);
    built_free(&b);
}

Test(tbs, signed_precert_verifies_only_when_the_poison_is_ignored)
{
    built b = build("tls-server", KEY_P256, "/", "DNS:example.com");
    char *path = tca_write_pem(dir, "precert.pem", b.cert, b.cert_len, "CERTIFICATE");
    int st = 0;
    char *out = verify_cmd(path, "-ignore_critical", &st);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, ": OK");
    free(out);
    out = verify_cmd(path, "", &st);
    cr_assert_neq(st, 0, "the poison must make the precertificate unusable: %s", out);
    assert_contains(out, "unhandled critical extension");
    free(out);
    free(path);
    built_free(&b);
}

Test(tbs, empty_subject_makes_the_san_critical)
{
    built b = build("server-empty", KEY_P256, "/CN=www.example.com", "DNS:www.example.com");
    char *path = tca_write_pem(dir, "e.pem", b.cert, b.cert_len, "CERTIFICATE");
    char *text = openssl_text(path);
    assert_contains(text, "Subject: \n");
    assert_contains(text, "X509v3 Subject Alternative Name: critical");
    free(text);
    free(path);
    built_free(&b);
}

Test(tbs, cn_first_dns_skips_ip_sans_and_without_dns_the_subject_is_empty)
{
    built b = build("tls-server", KEY_P256, "/", "IP:192.0.2.9,DNS:a.example.com");
    char *path = tca_write_pem(dir, "a.pem", b.cert, b.cert_len, "CERTIFICATE");
    char *text = openssl_text(path);
    assert_contains(text, "Subject: CN = a.example.com\n");
    free(text);
    built_free(&b);
    b = build("tls-server", KEY_P256, "/CN=x.example.com", "IP:192.0.2.9");
    free(tca_write_pem(dir, "a.pem", b.cert, b.cert_len, "CERTIFICATE"));
    text = openssl_text(path);
    assert_contains(text, "Subject: \n");
    assert_contains(text, "X509v3 Subject Alternative Name: critical");
    free(text);
    free(path);
    built_free(&b);
}

Test(tbs, tls_client_copies_only_the_cn)
{
    built b = build("tls-client", KEY_P256, "/O=Org/CN=alice",
                    "email:alice@example.com,URI:spiffe://example.org/alice");
    char *path = tca_write_pem(dir, "c.pem", b.cert, b.cert_len, "CERTIFICATE");
    char *text = openssl_text(path);
    assert_contains(text, "Subject: CN = alice\n");
    assert_contains(text, "TLS Web Client Authentication");
    assert_contains(text, "email:alice@example.com, URI:spiffe://example.org/alice");
    free(text);
    built_free(&b);
    b = build("tls-client", KEY_P256, "/O=Org", "email:bob@example.com");
    free(tca_write_pem(dir, "c.pem", b.cert, b.cert_len, "CERTIFICATE"));
    text = openssl_text(path);
    assert_contains(text, "Subject: \n");
    free(text);
    free(path);
    built_free(&b);
}

Test(tbs, key_encipherment_only_for_rsa_keys)
{
    built b = build("tls-server", KEY_RSA2048, "/", "DNS:example.com");
    char *path = tca_write_pem(dir, "r.pem", b.cert, b.cert_len, "CERTIFICATE");
    char *text = openssl_text(path);
    assert_contains(text, "critical\n                Digital Signature, Key Encipherment\n");
    free(text);
    free(path);
    built_free(&b);
}

Test(tbs, build_refuses_profile_violations_and_bad_serials)
{
    char *p = tca_make_csr(dir, "v", KEY_P256, "/", "email:a@example.com");
    ctca_csr *csr = tca_load_csr(p);
    uint8_t *tbs = NULL, serial[CTCA_SERIAL_LEN] = {1};
    size_t len = 0;
    ctca_errbuf eb = {{0}};
    const ctca_profile *srv = ctca_config_get0_profile(cfg, "tls-server");
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, serial, sizeof serial, TCA_NOW, &tbs, &len, &eb),
                 CTCA_ERR_PROFILE);
    cr_assert_null(tbs);
    ctca_csr_free(csr);
    free(p);
    p = tca_make_csr(dir, "v", KEY_P256, "/", "DNS:example.com");
    csr = tca_load_csr(p);
    uint8_t zero[CTCA_SERIAL_LEN] = {0}, big[21] = {1};
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, zero, sizeof zero, TCA_NOW, &tbs, &len, &eb),
                 CTCA_ERR_VALUE_RANGE);
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, big, sizeof big, TCA_NOW, &tbs, &len, &eb),
                 CTCA_ERR_VALUE_RANGE);
    ctca_csr_free(csr);
    free(p);
}

/* ---- the final certificate --------------------------------------------------------------- */

Test(tbs, final_cert_verifies_and_minus_sct_equals_precert_minus_poison)
{
    built b = build("tls-server", KEY_P256, "/", "DNS:www.example.com,DNS:example.com");
    uint8_t *list = NULL, *final_tbs = NULL, *final = NULL;
    size_t list_len = 0, final_tbs_len = 0, final_len = 0;
    dummy_sct_list(&list, &list_len);
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(b.tbs, b.tbs_len),
                                           ctca_view_make(list, list_len), &final_tbs,
                                           &final_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_ca_sign_tbs(ca, ctca_view_make(final_tbs, final_tbs_len), &final, &final_len),
                 CTCA_OK);

    char *path = tca_write_pem(dir, "final.pem", final, final_len, "CERTIFICATE");
    int st = 0;
    char *out = verify_cmd(path, "", &st);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    char *text = openssl_text(path);
    assert_contains(text, "CT Precertificate SCTs");
    cr_assert_null(strstr(text, "Poison"));
    free(text);

    /* Strip each CT extension with ctca_tbs_replace_ext: the rest is identical. */
    uint8_t *a = NULL, *c = NULL;
    size_t a_len = 0, c_len = 0;
    cr_assert_eq(ctca_tbs_replace_ext(ctca_view_make(final_tbs, final_tbs_len), CTCA_OID_CT_SCT_LIST,
                                      sizeof CTCA_OID_CT_SCT_LIST, ctca_view_make(NULL, 0),
                                      CTCA_ERR_NO_SCT_LIST, &a, &a_len),
                 CTCA_OK);
    cr_assert_eq(ctca_tbs_replace_ext(ctca_view_make(b.tbs, b.tbs_len), CTCA_OID_CT_POISON,
                                      sizeof CTCA_OID_CT_POISON, ctca_view_make(NULL, 0),
                                      CTCA_ERR_NOT_PRECERT, &c, &c_len),
                 CTCA_OK);
    cr_assert_eq(a_len, c_len);
    cr_assert_arr_eq(a, c, a_len);
    /* And the same through the signed certificates (RFC 6962 3.2 reconstruction). */
    uint8_t *x = NULL, *y = NULL;
    size_t x_len = 0, y_len = 0;
    cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(final, final_len), &x, &x_len), CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_precert(ctca_view_make(b.cert, b.cert_len), &y, &y_len),
                 CTCA_OK);
    cr_assert_eq(x_len, y_len);
    cr_assert_arr_eq(x, y, x_len);
    cr_assert_arr_eq(x, a, a_len);
    /* The embedded list is the one given. */
    ctca_sct_list got = {0};
    cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(final, final_len), &got), CTCA_OK);
    cr_assert_eq(got.n, 1);
    ctca_sct_list_cleanup(&got);
    free(x);
    free(y);
    free(a);
    free(c);
    free(path);
    free(list);
    free(final_tbs);
    free(final);
    built_free(&b);
}

Test(tbs, final_needs_a_precert_tbs_and_a_well_formed_list)
{
    built b = build("tls-server", KEY_P256, "/", "DNS:example.com");
    uint8_t *list = NULL, *final_tbs = NULL, *again = NULL;
    size_t list_len = 0, final_tbs_len = 0, again_len = 0;
    dummy_sct_list(&list, &list_len);
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(b.tbs, b.tbs_len),
                                           ctca_view_make(list, list_len), &final_tbs,
                                           &final_tbs_len),
                 CTCA_OK);
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(final_tbs, final_tbs_len),
                                           ctca_view_make(list, list_len), &again, &again_len),
                 CTCA_ERR_NOT_PRECERT);
    cr_assert_null(again);
    static const uint8_t empty_list[] = {0x00, 0x00};
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(b.tbs, b.tbs_len),
                                           ctca_view_make(empty_list, 2), &again, &again_len),
                 CTCA_ERR_TLS_LENGTH_RANGE);
    uint8_t *longer = malloc(list_len + 1);
    memcpy(longer, list, list_len);
    longer[list_len] = 0;
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(b.tbs, b.tbs_len),
                                           ctca_view_make(longer, list_len + 1), &again, &again_len),
                 CTCA_ERR_TRAILING_DATA);
    cr_assert_eq(ctca_tbs_precert_to_final(ctca_view_make(b.tbs, b.tbs_len),
                                           ctca_view_make(list, list_len - 1), &again, &again_len),
                 CTCA_ERR_TRUNCATED);
    free(longer);
    free(list);
    free(final_tbs);
    built_free(&b);
}

Test(tbs, certificates_outside_the_ca_validity_are_refused)
{
    char *p = tca_make_csr(dir, "v", KEY_P256, "/", "DNS:example.com");
    ctca_csr *csr = tca_load_csr(p);
    uint8_t *tbs = NULL, serial[CTCA_SERIAL_LEN] = {1};
    size_t len = 0;
    ctca_errbuf eb = {{0}};
    const ctca_profile *srv = ctca_config_get0_profile(cfg, "tls-server");
    /* The CA is valid from TCA_NOW - 1 day for 3650 days. */
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, serial, sizeof serial, TCA_NOW - 2 * 86400,
                                        &tbs, &len, &eb),
                 CTCA_ERR_PROFILE);
    cr_assert_not_null(strstr(eb.msg, "outside the CA certificate's validity"), "%s", eb.msg);
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, serial, sizeof serial,
                                        TCA_NOW + 3600 * (int64_t)86400, &tbs, &len, &eb),
                 CTCA_ERR_PROFILE);
    cr_assert_null(tbs);
    cr_assert_eq(ctca_tbs_build_precert(ca, srv, csr, serial, sizeof serial,
                                        TCA_NOW + 3558 * (int64_t)86400, &tbs, &len, &eb),
                 CTCA_OK, "%s", eb.msg);
    free(tbs);
    ctca_csr_free(csr);
    free(p);
}
