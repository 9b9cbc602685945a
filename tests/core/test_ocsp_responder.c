/* The OCSP responder signs through ctca_signer: with a kind of signer whose
 * private key is not an EVP_PKEY the responder could reach (as a PKCS#11
 * key will not be), as the CA itself and as a delegated responder, it
 * answers with responses OpenSSL's OCSP client verifies, carrying the
 * stored SCTs and the nonce, and the delegated certificate once. */
#include <criterion/criterion.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ocsp/ocsp_int.h"
#include "tests/core/test_ca_helpers.h"

static char *dir;
static ctca_ca *ca;
static ctca_store *store;

#define SERIAL "0a1b2c3d4e5f"

/* A v1 SCT written out by hand (RFC 6962 3.2): what the store would hold
 * for the certificate after `ctca queue run`. The responder delivers, it
 * does not verify. */
static const uint8_t STORED_SCT[] = {0x00, [1 ... 32] = 0x5c, 0, 0, 1, 0x8b, 0, 0, 0, 0, 0, 0,
                              4, 3, 0, 2, 0xaa, 0xbb};

static void setup(void)
{
    dir = th_tmpdir();
    ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(ctca_ca_get0_store_path(ca), &store, &eb), CTCA_OK, "%s",
                 eb.msg);
    /* An issued record without embedded SCTs and one x509_entry SCT; the
     * responder reads only its state and SCTs, so its bytes are stand-ins. */
    static const uint8_t tbs[] = {0x30, 0x03, 0x02, 0x01, 0x01}, der[] = {0x30, 0x00};
    static uint8_t digest[32], log_id[32];
    ctca_store_journal_entry e = {.serial = SERIAL, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .not_before = TCA_NOW, .not_after = TCA_NOW + 86400,
                                  .now_ms = TCA_NOW * 1000};
    memset(log_id, 0x5c, sizeof log_id);
    cr_assert_eq(ctca_store_journal(store, &e), CTCA_OK);
    cr_assert_eq(ctca_store_put_precert(store, SERIAL, der, sizeof der, TCA_NOW * 1000), CTCA_OK);
    cr_assert_eq(ctca_store_put_final(store, SERIAL, der, sizeof der, TCA_NOW * 1000), CTCA_OK);
    cr_assert_eq(ctca_store_add_sct(store, SERIAL, log_id, CTCA_ENTRY_X509, 1, 0x018b00000000,
                                    STORED_SCT, sizeof STORED_SCT, TCA_NOW * 1000),
                 CTCA_OK);
}

static void teardown(void)
{
    ctca_store_close(store);
    ctca_ca_free(ca);
    th_rmdir(dir);
    free(dir);
}

TestSuite(ocsp_responder, .init = setup, .fini = teardown, .timeout = 120);

/* ---- a kind of signer that is not a "file" ----------------------------------- */

/* Stands for a device: the key lives in the kind's own state, and the
 * responder sees only ctca_signer_ops. */
typedef struct device {
    EVP_PKEY *key;
    int signatures;
} device;

static int devices_freed;

static ctca_err device_sign(void *impl, const EVP_MD *md, ctca_view msg, uint8_t **sig,
                            size_t *sig_len)
{
    device *d = impl;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    cr_assert_not_null(ctx);
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, md, NULL, d->key), 1);
    cr_assert_eq(EVP_DigestSign(ctx, NULL, &n, msg.data, msg.len), 1);
    *sig = malloc(n);
    cr_assert_not_null(*sig);
    cr_assert_eq(EVP_DigestSign(ctx, *sig, &n, msg.data, msg.len), 1);
    *sig_len = n;
    EVP_MD_CTX_free(ctx);
    d->signatures++;
    return CTCA_OK;
}

static void device_free(void *impl)
{
    device *d = impl;
    EVP_PKEY_free(d->key);
    free(d);
    devices_freed++;
}

static const ctca_signer_ops device_ops = {.kind = "device", .sign = device_sign,
                                           .free = device_free};

/* A "device" signer over the PEM key at dir/name; *d its state (owned by the signer). */
static ctca_signer *device_signer(const char *name, device **d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    EVP_PKEY *key = NULL;
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_key_file_load(path, false, &key, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_key_spki(key, &spki, &spki_len), CTCA_OK);
    const unsigned char *p = spki;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki_len);
    free(spki);
    cr_assert_not_null(pub);
    *d = calloc(1, sizeof **d);
    cr_assert_not_null(*d);
    (*d)->key = key;
    ctca_signer *s = NULL;
    cr_assert_eq(ctca_signer_new(&device_ops, *d, pub, &s), CTCA_OK);
    return s;
}

/* ---- answering ------------------------------------------------------------------ */

/* dir/resp.der: r's answer to openssl's request (with a nonce) for SERIAL;
 * returns what `openssl ocsp` says reading it as the answer to that request,
 * checking the signature against ca.pem (malloc'd). */
static char *respond_and_check(const ctca_ocsp_responder *r)
{
    char *out = NULL, path[512];
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca/ca.pem' -serial 0x%s -reqout '%s/req.der'",
                        dir, SERIAL, dir),
                 0, "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/req.der", dir);
    size_t req_len = 0;
    uint8_t *req = th_read_file(path, &req_len), *resp = NULL;
    size_t resp_len = 0;
    ctca_ocsp_answer answer;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ocsp_respond(r, store, ctca_view_make(req, req_len), ctca_now_ms(), &resp,
                                   &resp_len, &answer, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(answer.status, CTCA_OCSP_SUCCESSFUL, "%s", eb.msg);
    cr_assert_eq(answer.n, 1);
    cr_expect_eq(answer.items[0].cert_status, CTCA_OCSP_GOOD);
    cr_expect_eq(answer.items[0].n_scts, 1);
    snprintf(path, sizeof path, "%s/resp.der", dir);
    th_write_file(path, resp, resp_len);
    free(req);
    free(resp);
    th_run(&out,
           "openssl ocsp -reqin '%s/req.der' -respin '%s/resp.der' -issuer '%s/ca/ca.pem'"
           " -CAfile '%s/ca/ca.pem' -resp_text",
           dir, dir, dir, dir);
    return out;
}

/* What openssl ocsp says of a good answer with the stored SCT, signed by a
 * key ca.pem vouches for, answering the request's nonce. */
static void expect_verified(const char *out)
{
    cr_expect_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_expect_not_null(strstr(out, "Cert Status: good"), "%s", out);
    cr_expect_not_null(strstr(out, "CT Certificate SCTs"), "the stored SCT: %s", out);
    cr_expect_null(strstr(out, "WARNING"), "the nonce is echoed: %s", out);
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

Test(ocsp_responder, a_ca_key_that_is_no_file_signs_responses_openssl_verifies)
{
    device *d = NULL;
    ctca_signer *key = device_signer("ca/ca.key", &d);
    ctca_ocsp_responder *r = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ocsp_responder_new_with(ca, key, ctca_view_make(NULL, 0), &r, &eb), CTCA_OK,
                 "%s", eb.msg);
    char *out = respond_and_check(r);
    cr_expect_eq(d->signatures, 1, "the device signed the ResponseData");
    expect_verified(out);
    cr_expect_eq(count(out, "BEGIN CERTIFICATE"), 0, "the client has the CA's: %s", out);
    free(out);
    devices_freed = 0;
    ctca_ocsp_responder_free(r);
    cr_expect_eq(devices_freed, 1);
}

Test(ocsp_responder, a_delegated_responder_key_that_is_no_file_signs_responses_openssl_verifies)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                        " -nodes -keyout resp.key -subj '/CN=OCSP responder' -out resp.csr &&"
                        " printf 'extendedKeyUsage = OCSPSigning\\n' > resp.ext && openssl x509"
                        " -req -in resp.csr -CA ca/ca.pem -CAkey ca/ca.key -days 30 -extfile"
                        " resp.ext -outform DER -out resp.der",
                        dir),
                 0, "%s", out);
    free(out);
    char path[512];
    snprintf(path, sizeof path, "%s/resp.der", dir);
    size_t cert_len = 0;
    uint8_t *cert = th_read_file(path, &cert_len);
    device *d = NULL;
    ctca_signer *key = device_signer("resp.key", &d);
    ctca_ocsp_responder *r = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ocsp_responder_new_with(ca, key, ctca_view_make(cert, cert_len), &r, &eb),
                 CTCA_OK, "%s", eb.msg);
    free(cert);
    out = respond_and_check(r);
    cr_expect_eq(d->signatures, 1);
    expect_verified(out);
    cr_expect_eq(count(out, "Subject: CN=OCSP responder"), 1, "sent once: %s", out);
    free(out);
    ctca_ocsp_responder_free(r);
}

Test(ocsp_responder, a_key_that_is_not_the_cas_cannot_sign_as_the_ca)
{
    cr_assert_eq(th_run(NULL, "cd '%s' && openssl genpkey -algorithm EC -pkeyopt"
                              " ec_paramgen_curve:P-256 -out other.key",
                        dir),
                 0);
    device *d = NULL;
    devices_freed = 0;
    ctca_signer *key = device_signer("other.key", &d);
    ctca_ocsp_responder *r = (ctca_ocsp_responder *)1;
    ctca_errbuf eb = {{0}};
    cr_expect_eq(ctca_ocsp_responder_new_with(ca, key, ctca_view_make(NULL, 0), &r, &eb),
                 CTCA_ERR_CONFIG);
    cr_expect_null(r);
    cr_expect_not_null(strstr(eb.msg, "not the CA's"), "%s", eb.msg);
    cr_expect_eq(devices_freed, 1, "the key is released on failure too");
}
