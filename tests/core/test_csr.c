/* CSRs: accepted keys, refused inputs with their exact codes, and the SAN rules
 * of the tls-server and tls-client profiles. CSRs come from `openssl req`. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "tests/core/test_ca_helpers.h"

static char *dir;
static ctca_config *cfg;

static void setup(void)
{
    dir = th_tmpdir();
    char *json = NULL;
    cr_assert_eq(ctca_config_default_json(NULL, false, &json), CTCA_OK);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_config_parse(json, strlen(json), &cfg, &eb), CTCA_OK, "%s", eb.msg);
    free(json);
}

static void teardown(void)
{
    ctca_config_free(cfg);
    th_rmdir(dir);
    free(dir);
}

TestSuite(csr, .init = setup, .fini = teardown, .timeout = 60);

static ctca_err load(const char *path, ctca_csr **csr, ctca_errbuf *eb)
{
    return ctca_csr_load(path, csr, eb);
}

static void expect_load_error(const char *path, ctca_err code, const char *needle)
{
    ctca_csr *csr = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = load(path, &csr, &eb);
    cr_assert_eq(rc, code, "got %s (%s)", ctca_err_name(rc), eb.msg);
    cr_assert_null(csr);
    if (needle != NULL)
        cr_assert_not_null(strstr(eb.msg, needle), "\"%s\" lacks \"%s\"", eb.msg, needle);
}

/* check: the CSR against the named default profile. */
static ctca_err check(const char *path, const char *profile, ctca_errbuf *eb)
{
    ctca_csr *csr = tca_load_csr(path);
    ctca_err rc = ctca_csr_check_profile(csr, ctca_config_get0_profile(cfg, profile), eb);
    ctca_csr_free(csr);
    return rc;
}

static void expect_profile_error(const char *san, const char *profile, const char *needle)
{
    char *path = tca_make_csr(dir, "p", KEY_P256, "/CN=x", san);
    ctca_errbuf eb = {{0}};
    ctca_err rc = check(path, profile, &eb);
    cr_assert_eq(rc, CTCA_ERR_PROFILE, "%s on %s: got %s", san ? san : "(none)", profile,
                 ctca_err_name(rc));
    cr_assert_not_null(strstr(eb.msg, needle), "\"%s\" lacks \"%s\"", eb.msg, needle);
    free(path);
}

static void expect_profile_ok(const char *san, const char *profile)
{
    char *path = tca_make_csr(dir, "p", KEY_P256, "/CN=x", san);
    ctca_errbuf eb = {{0}};
    ctca_err rc = check(path, profile, &eb);
    cr_assert_eq(rc, CTCA_OK, "%s on %s: %s: %s", san, profile, ctca_err_name(rc), eb.msg);
    free(path);
}

/* ---- accepted keys ---------------------------------------------------------------- */

static void accepts(const char *newkey, bool rsa)
{
    char *path = tca_make_csr(dir, "ok", newkey, "/CN=www.example.com",
                              "DNS:www.example.com,IP:192.0.2.1");
    ctca_csr *csr = tca_load_csr(path);
    cr_assert_eq(ctca_csr_key_is_rsa(csr), rsa);
    cr_assert_eq(ctca_csr_san_count(csr), 2);
    cr_assert_eq(ctca_csr_get0_san(csr, 0)->type, CTCA_SAN_DNS);
    cr_assert_str_eq((const char *)ctca_csr_get0_san(csr, 0)->value, "www.example.com");
    const ctca_san *ip = ctca_csr_get0_san(csr, 1);
    cr_assert_eq(ip->type, CTCA_SAN_IP);
    cr_assert_eq(ip->len, 4);
    cr_assert_arr_eq(ip->value, ((uint8_t[]){192, 0, 2, 1}), 4);
    cr_assert_str_eq(ctca_csr_get0_cn(csr), "www.example.com");

    /* The SPKI is the CSR's own bytes, and the digest is SHA-256 of the DER. */
    size_t der_len = 0;
    uint8_t *der = th_read_pem_der(path, &der_len);
    uint8_t digest[32];
    cr_assert_eq(EVP_Digest(der, der_len, digest, NULL, EVP_sha256(), NULL), 1);
    cr_assert_arr_eq(ctca_csr_get0_digest(csr), digest, 32);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der_len);
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(X509_REQ_get0_pubkey(req), &spki);
    ctca_view v = ctca_csr_get0_spki(csr);
    cr_assert_eq(v.len, (size_t)n);
    cr_assert_arr_eq(v.data, spki, v.len);
    cr_assert(v.data > ctca_csr_get0_digest(csr) || v.data < ctca_csr_get0_digest(csr));
    OPENSSL_free(spki);
    X509_REQ_free(req);
    free(der);
    ctca_csr_free(csr);
    free(path);
}

Test(csr, p256_is_accepted_with_sans_spki_and_digest)
{
    accepts(KEY_P256, false);
}

Test(csr, p384_is_accepted)
{
    accepts(KEY_P384, false);
}

Test(csr, rsa2048_is_accepted)
{
    accepts(KEY_RSA2048, true);
}

Test(csr, der_input_is_accepted)
{
    char *path = tca_make_csr(dir, "d", KEY_P256, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    char *dpath = tca_path(dir, "d.der");
    th_write_file(dpath, der, len);
    ctca_csr *csr = tca_load_csr(dpath);
    cr_assert_eq(ctca_csr_san_count(csr), 1);
    ctca_csr_free(csr);
    free(der);
    free(dpath);
    free(path);
}

/* ---- refused inputs ----------------------------------------------------------------- */

Test(csr, garbage_is_malformed)
{
    char *path = tca_path(dir, "garbage");
    th_write_file(path, "this is not a CSR\n", 18);
    expect_load_error(path, CTCA_ERR_CSR_MALFORMED, NULL);
    th_write_file(path, "\x30\x03\x02\x01\x00", 5); /* DER, but not a CertificationRequest */
    expect_load_error(path, CTCA_ERR_CSR_MALFORMED, NULL);
    free(path);
}

/* A file with two requests issued the first one silently. */
Test(csr, a_file_with_two_pem_blocks_is_refused)
{
    char *one = tca_make_csr(dir, "one", KEY_P256, "/CN=one", "DNS:one.example.com");
    char *two = tca_make_csr(dir, "two", KEY_P256, "/CN=two", "DNS:two.example.com");
    size_t l1 = 0, l2 = 0;
    uint8_t *a = th_read_file(one, &l1), *b = th_read_file(two, &l2);
    uint8_t *both = malloc(l1 + l2);
    memcpy(both, a, l1);
    memcpy(both + l1, b, l2);
    char *path = tca_path(dir, "both.csr");
    th_write_file(path, both, l1 + l2);
    expect_load_error(path, CTCA_ERR_CSR_MALFORMED, "2 PEM blocks");
    /* the same request twice, too */
    char *cert = tca_path(dir, "twice.csr");
    uint8_t *again = malloc(2 * l1);
    memcpy(again, a, l1);
    memcpy(again + l1, a, l1);
    th_write_file(cert, again, 2 * l1);
    expect_load_error(cert, CTCA_ERR_CSR_MALFORMED, "2 PEM blocks");
    /* each alone is accepted */
    ctca_csr *csr = tca_load_csr(one);
    ctca_csr_free(csr);
    free(again);
    free(cert);
    free(path);
    free(both);
    free(a);
    free(b);
    free(one);
    free(two);
}

Test(csr, truncated_der_is_malformed)
{
    char *path = tca_make_csr(dir, "t", KEY_P256, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    char *tpath = tca_path(dir, "t.der");
    th_write_file(tpath, der, len - 10);
    expect_load_error(tpath, CTCA_ERR_CSR_MALFORMED, NULL);
    ctca_csr *csr = NULL;
    cr_assert_eq(ctca_csr_parse(ctca_view_make(der, len - 1), &csr, NULL), CTCA_ERR_CSR_MALFORMED);
    free(der);
    free(tpath);
    free(path);
}

Test(csr, trailing_bytes_are_malformed_in_der_and_inside_pem)
{
    char *path = tca_make_csr(dir, "tr", KEY_P256, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    uint8_t *longer = malloc(len + 2);
    memcpy(longer, der, len);
    longer[len] = 0x05;
    longer[len + 1] = 0x00;
    char *tpath = tca_path(dir, "tr.der");
    th_write_file(tpath, longer, len + 2);
    expect_load_error(tpath, CTCA_ERR_CSR_MALFORMED, NULL);
    char *ppath = tca_write_pem(dir, "tr2.pem", longer, len + 2, "CERTIFICATE REQUEST");
    expect_load_error(ppath, CTCA_ERR_CSR_MALFORMED, "trailing");
    free(ppath);
    free(longer);
    free(der);
    free(tpath);
    free(path);
}

Test(csr, flipped_signature_byte_fails_the_signature_check)
{
    char *path = tca_make_csr(dir, "s", KEY_P256, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    der[len - 1] ^= 0x01; /* the last byte of the signature BIT STRING */
    char *bpath = tca_write_pem(dir, "bad.csr", der, len, "CERTIFICATE REQUEST");
    expect_load_error(bpath, CTCA_ERR_CSR_SIGNATURE, NULL);
    free(bpath);
    free(der);
    free(path);
}

Test(csr, flipped_rsa_signature_byte_fails_the_signature_check)
{
    char *path = tca_make_csr(dir, "s", KEY_RSA2048, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    der[len - 7] ^= 0x80;
    ctca_csr *csr = NULL;
    cr_assert_eq(ctca_csr_parse(ctca_view_make(der, len), &csr, NULL), CTCA_ERR_CSR_SIGNATURE);
    free(der);
    free(path);
}

Test(csr, sha384_and_sha512_signatures_are_accepted)
{
    accepts(KEY_P256 " -sha384", false);
    accepts(KEY_RSA2048 " -sha512", true);
}

Test(csr, sha1_signatures_are_refused_naming_the_accepted_ones)
{
    char *path = tca_make_csr(dir, "s1", KEY_RSA2048 " -sha1", "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_SIGNATURE,
                      "not RSA PKCS#1 v1.5 with SHA-256, SHA-384 or SHA-512");
    free(path);
    path = tca_make_csr(dir, "s2", KEY_P256 " -sha1", "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_SIGNATURE, "not ECDSA with SHA-256");
    free(path);
}

Test(csr, rsa_pss_signatures_are_refused)
{
    char *path = tca_make_csr(dir, "pss", KEY_RSA2048 " -sigopt rsa_padding_mode:pss", "/CN=x",
                              "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_SIGNATURE, "not RSA PKCS#1 v1.5");
    free(path);
}

Test(csr, an_ec_point_off_the_curve_is_no_key)
{
    char *path = tca_make_csr(dir, "off", KEY_P256, "/CN=x", "DNS:example.com");
    size_t len = 0;
    uint8_t *der = th_read_pem_der(path, &len);
    /* The uncompressed point follows the P-256 AlgorithmIdentifier and the
     * BIT STRING header (03 42 00 04); its last byte is y's. */
    static const uint8_t hdr[] = {0x03, 0x42, 0x00, 0x04};
    uint8_t *at = memmem(der, len, hdr, sizeof hdr);
    cr_assert_not_null(at);
    at[sizeof hdr + 63] ^= 0x01;
    char *bpath = tca_write_pem(dir, "off.bad", der, len, "CERTIFICATE REQUEST");
    expect_load_error(bpath, CTCA_ERR_CSR_KEY, "cannot be decoded");
    free(bpath);
    free(der);
    free(path);
}

Test(csr, rsa1024_is_refused_naming_the_key)
{
    char *path = tca_make_csr(dir, "r", KEY_RSA1024, "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_KEY, "RSA-1024");
    expect_load_error(path, CTCA_ERR_CSR_KEY, "allowed: RSA 2048..8192 bits, ECDSA P-256 or P-384");
    free(path);
}

Test(csr, p521_is_refused_naming_the_curve)
{
    char *path = tca_make_csr(dir, "e", KEY_P521, "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_KEY, "secp521r1");
    free(path);
}

Test(csr, secp256k1_is_refused_naming_the_curve)
{
    char *path = tca_make_csr(dir, "k", KEY_K256, "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_KEY, "secp256k1");
    free(path);
}

Test(csr, ed25519_is_refused_naming_the_key)
{
    char *path = tca_make_csr(dir, "ed", KEY_ED25519, "/CN=x", "DNS:example.com");
    expect_load_error(path, CTCA_ERR_CSR_KEY, "ED25519");
    free(path);
}

Test(csr, missing_file_is_io)
{
    char *path = tca_path(dir, "absent.csr");
    expect_load_error(path, CTCA_ERR_IO, NULL);
    free(path);
}

/* ---- SAN rules -------------------------------------------------------------------------- */

Test(csr, tls_server_accepts_dns_ip_and_wildcards)
{
    expect_profile_ok("DNS:example.com,DNS:*.example.com,IP:192.0.2.7,IP:2001:db8::1", "tls-server");
}

Test(csr, tls_server_refuses_no_san)
{
    expect_profile_error(NULL, "tls-server", "requests no subjectAltName");
}

Test(csr, tls_server_refuses_email_and_uri_naming_the_san)
{
    expect_profile_error("DNS:example.com,email:a@example.com", "tls-server",
                         "SAN email:a@example.com: type email is not allowed by profile "
                         "tls-server (allowed: dns, ip)");
    expect_profile_error("URI:https://example.com/", "tls-server", "type uri is not allowed");
}

Test(csr, malformed_dns_names_are_refused_with_the_reason)
{
    expect_profile_error("DNS:bad_name.example.com", "tls-server",
                         "SAN DNS:bad_name.example.com: malformed dns name");
    expect_profile_error("DNS:-a.example.com", "tls-server", "starts or ends with '-'");
    expect_profile_error("DNS:*.com", "tls-server", "wildcard must be followed");
    expect_profile_error("DNS:a.*.example.com", "tls-server", "wildcard");
    expect_profile_error("DNS:a..example.com", "tls-server", "empty label");
    expect_profile_error("DNS:example.com.", "tls-server", "ends with a dot");
    expect_profile_error("DNS:192.0.2.1", "tls-server", "IP address belongs in an IP SAN");
    expect_profile_error("DNS:"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
                         "tls-server", "longer than 63");
}

Test(csr, duplicate_sans_are_refused)
{
    expect_profile_error("DNS:example.com,DNS:EXAMPLE.com", "tls-server", "requested twice");
}

Test(csr, tls_client_accepts_email_uri_dns)
{
    expect_profile_ok("email:alice@example.com,URI:spiffe://example.org/ns/a,DNS:client.example",
                      "tls-client");
}

Test(csr, tls_client_refuses_ip_and_no_san)
{
    expect_profile_error("IP:192.0.2.1", "tls-client", "type ip is not allowed by profile tls-client");
    expect_profile_error(NULL, "tls-client", "requests no subjectAltName");
}

Test(csr, tls_client_refuses_malformed_email_and_uri)
{
    expect_profile_error("email:alice", "tls-client", "no '@'");
    expect_profile_error("email:al..ice@example.com", "tls-client", "misplaced dot");
    expect_profile_error("URI:no-scheme", "tls-client", "scheme");
}

Test(csr, other_name_san_is_refused_as_unsupported)
{
    char *path = tca_make_csr(dir, "o", KEY_P256, "/CN=x",
                              "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com");
    expect_load_error(path, CTCA_ERR_PROFILE, "SAN of type otherName: not supported");
    free(path);
}

Test(csr, tls_client_refuses_two_common_names)
{
    char *path = tca_make_csr(dir, "cn", KEY_P256, "/CN=alice/CN=bob", "email:a@example.com");
    ctca_errbuf eb = {{0}};
    ctca_err rc = check(path, "tls-client", &eb);
    cr_assert_eq(rc, CTCA_ERR_PROFILE);
    cr_assert_not_null(strstr(eb.msg, "more than one commonName"), "%s", eb.msg);
    free(path);
}
