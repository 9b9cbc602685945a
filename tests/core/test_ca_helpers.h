/* Helpers shared by the CA building-block tests: CSRs made with `openssl req`,
 * CA directories made with ctca_ca_init at a pinned time. Static functions, so
 * each test file includes this once. */
#ifndef CTCA_TESTS_CORE_TEST_CA_HELPERS_H
#define CTCA_TESTS_CORE_TEST_CA_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "ctca/ca.h"
#include "ctca/util.h"
#include "tests/helpers.h"

/* 2026-01-01T00:00:00Z: the pinned "now" of CA and certificate validity. */
#define TCA_NOW ((int64_t)1767225600)

/* newkey arguments for `openssl req` */
#define KEY_P256 "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
#define KEY_P384 "-newkey ec -pkeyopt ec_paramgen_curve:P-384"
#define KEY_P521 "-newkey ec -pkeyopt ec_paramgen_curve:P-521"
#define KEY_K256 "-newkey ec -pkeyopt ec_paramgen_curve:secp256k1"
#define KEY_RSA2048 "-newkey rsa:2048"
#define KEY_RSA1024 "-newkey rsa:1024"
#define KEY_ED25519 "-newkey ed25519"

static inline char *tca_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* tca_make_csr: dir/name.csr (PEM) with key newkey, subject subj ("/CN=x" or
 * "/" for empty) and, when san is not NULL, subjectAltName=san. malloc'd path. */
static inline char *tca_make_csr(const char *dir, const char *name, const char *newkey,
                                 const char *subj, const char *san)
{
    char *path = NULL, *out = NULL;
    char file[256];
    snprintf(file, sizeof file, "%s.csr", name);
    path = tca_path(dir, file);
    char addext[600] = "";
    if (san != NULL)
        snprintf(addext, sizeof addext, "-addext 'subjectAltName=%s'", san);
    int st = th_run(&out, "openssl req -new %s -nodes -keyout '%s/%s.key' -subj '%s' %s -out '%s'",
                    newkey, dir, name, subj, addext, path);
    cr_assert_eq(st, 0, "openssl req failed: %s", out);
    free(out);
    return path;
}

static inline ctca_csr *tca_load_csr(const char *path)
{
    ctca_csr *csr = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_csr_load(path, &csr, &eb);
    cr_assert_eq(rc, CTCA_OK, "%s: %s: %s", path, ctca_err_name(rc), eb.msg);
    return csr;
}

/* A deterministic ctca_rand_fn: bytes counting up from *ctx. */
static inline int tca_counting_rand(void *ctx, uint8_t *buf, size_t n)
{
    uint8_t *next = ctx;
    for (size_t i = 0; i < n; i++)
        buf[i] = (*next)++;
    return 1;
}

/* tca_make_ca: dir/ca initialized with key type kt at TCA_NOW, opened. */
static inline ctca_ca *tca_make_ca(const char *dir, ctca_key_type kt)
{
    char *cadir = tca_path(dir, "ca");
    ctca_init_params p = {.dir = cadir,
                          .key_type = kt,
                          .subject = "CN=Test CA,O=ctca tests,C=NL",
                          .validity_days = 3650,
                          .now = TCA_NOW - 86400};
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_ca_init(&p, &eb);
    cr_assert_eq(rc, CTCA_OK, "ctca_ca_init: %s: %s", ctca_err_name(rc), eb.msg);
    ctca_ca *ca = NULL;
    rc = ctca_ca_open(cadir, &ca, &eb);
    cr_assert_eq(rc, CTCA_OK, "ctca_ca_open: %s: %s", ctca_err_name(rc), eb.msg);
    free(cadir);
    return ca;
}

/* tca_write_pem: writes der as a PEM block labelled label to dir/name. */
static inline char *tca_write_pem(const char *dir, const char *name, const uint8_t *der,
                                  size_t len, const char *label)
{
    char *pem = NULL, *path = tca_path(dir, name);
    cr_assert_eq(ctca_pem_encode(der, len, label, &pem), CTCA_OK);
    th_write_file(path, pem, strlen(pem));
    free(pem);
    return path;
}

/* tca_v2_tbs: the TBS the engine builds for CT 2.0 (RFC 9162,
 * ctca_tbs_build_v2) for a new P-256 CSR (dir/name.csr, DNS:example.com).
 * *tbs malloc'd. */
static inline void tca_v2_tbs(ctca_ca *ca, const char *dir, const char *name, uint8_t **tbs,
                              size_t *tbs_len)
{
    char *path = tca_make_csr(dir, name, KEY_P256, "/", "DNS:example.com");
    ctca_csr *csr = tca_load_csr(path);
    const ctca_profile *p = ctca_config_get0_profile(ctca_ca_get0_config(ca), "tls-server");
    uint8_t serial[CTCA_SERIAL_LEN];
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_serial_generate(NULL, NULL, serial), CTCA_OK);
    cr_assert_eq(ctca_tbs_build_v2(ca, p, csr, serial, sizeof serial, TCA_NOW, tbs, tbs_len, &eb),
                 CTCA_OK, "%s", eb.msg);
    ctca_csr_free(csr);
    free(path);
}

#endif
