/* End to end: issuance through a Precertificate Signing Certificate (RFC 6962
 * 3.1) against real ctca-testlog logs: the precertificate is the PreCA's, the
 * final certificate the CA's and passes ctca verify, OpenSSL's CT validation
 * and openssl verify; a deferred PreCA issuance is finished by ctca queue
 * run; and a PreCA that is not one this CA may use is refused when the CA is
 * opened, as is CT 2.0 with a PreCA. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/ca.h"
#include "ctca/issue.h"
#include "ctca/sct.h"
#include "ctca/store.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static th_ca fx;

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* A CA made with ctca init --preca, a CSR, and two logs of two operators
 * (what the default policy needs) with extra flags. */
static void setup_with(const char *extra0, const char *extra1)
{
    const char *specs[] = {"A:a1", "B:b1"}, *extra[] = {extra0, extra1};
    th_ca_init(&fx, "--preca");
    th_ca_csr(&fx, "DNS:www.example.com");
    th_ca_start_logs(&fx, 2, specs, extra);
}

static void setup_healthy(void)
{
    setup_with("", "");
}

static int issue(char **output, const char *extra)
{
    return th_run(output,
                  "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                  " --precert-out '%s/pre.pem' %s",
                  fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir, fx.dir, extra);
}

static uint8_t *load_cert(const char *dir, const char *name, size_t *len)
{
    char path[400];
    uint8_t *der = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_assert_eq(ctca_der_or_pem_load(path, "CERTIFICATE", &der, len, NULL), CTCA_OK, "%s", path);
    return der;
}

/* The final certificate: ctca verify with the logs' keys, openssl verify
 * against ca.pem, and OpenSSL's own CT validation. */
static void check_final(const char *cert)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'",
                        fx.ctca, cert, fx.roots, fx.logs[0].pub, fx.logs[1].pub),
                 0, "ctca verify: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s'", fx.roots, cert), 0,
                 "openssl verify: %s", out);
    free(out);
    th_ca_openssl_ct_check(&fx, cert, NULL);
}

/* The precertificate is the PreCA's, the final certificate the CA's, and the
 * final TBS minus its SCT list is the precertificate TBS rewritten to the CA
 * (RFC 6962 3.2), byte for byte. */
static void check_issuers_and_tbs(const char *final_name, const char *pre_name)
{
    size_t fin_len, pre_len, preca_len, ca_len, a_len, b_len;
    uint8_t *fin = load_cert(fx.dir, final_name, &fin_len);
    uint8_t *pre = load_cert(fx.dir, pre_name, &pre_len);
    uint8_t *preca = load_cert(fx.ca_dir, "preca.pem", &preca_len);
    uint8_t *ca = load_cert(fx.ca_dir, "ca.pem", &ca_len);
    ctca_view vfin = ctca_view_make(fin, fin_len), vpre = ctca_view_make(pre, pre_len);
    ctca_view vpreca = ctca_view_make(preca, preca_len), vca = ctca_view_make(ca, ca_len);
    cr_assert_eq(ctca_cert_check_issuer(vpre, vpreca), CTCA_OK, "the precert's issuer: the PreCA");
    cr_assert_eq(ctca_cert_check_issuer(vpre, vca), CTCA_ERR_ISSUER_MISMATCH);
    cr_assert_eq(ctca_cert_check_issuer(vfin, vca), CTCA_OK, "the final's issuer: the CA");
    uint8_t *a = NULL, *b = NULL;
    cr_assert_eq(ctca_precert_tbs_from_preca_precert(vpre, vpreca, &a, &a_len), CTCA_OK);
    cr_assert_eq(ctca_precert_tbs_from_final(vfin, &b, &b_len), CTCA_OK);
    cr_assert_eq(a_len, b_len);
    cr_assert_arr_eq(a, b, a_len);
    free(a);
    free(b);
    free(fin);
    free(pre);
    free(preca);
    free(ca);
}

Test(issue_preca, final_passes_ctca_verify_openssl_ct_and_chain_precert_is_the_precas,
     .init = setup_healthy, .fini = teardown, .timeout = 90)
{
    char *out = NULL, serial[64], path[400];
    cr_assert_eq(issue(&out, ""), 0, "ctca issue: %s", out);
    const char *p = strstr(out, "issued serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p, "issued serial %63[0-9a-f]", serial), 1);
    free(out);

    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    check_final(path);
    check_issuers_and_tbs("site.pem", "pre.pem");
    /* What the logs got is a path: precertificate, PreCA (CA:TRUE), CA.
     * OpenSSL knows no CT poison, hence -ignore_critical. */
    cr_assert_eq(th_run(&out,
                        "openssl verify -ignore_critical -CAfile '%s' -untrusted '%s/preca.pem'"
                        " '%s/pre.pem'",
                        fx.roots, fx.ca_dir, fx.dir),
                 0, "openssl verify of the precertificate: %s", out);
    free(out);

    /* The store keeps the PreCA's precertificate and journaled its TBS. */
    ctca_store *store = NULL;
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_cert rec = {0};
    cr_assert_eq(ctca_store_get_cert(store, serial, &rec), CTCA_OK);
    cr_assert_eq(rec.state, CTCA_STORE_ISSUED);
    size_t pre_len;
    uint8_t *pre = load_cert(fx.dir, "pre.pem", &pre_len);
    cr_assert_eq(rec.precert_len, pre_len);
    cr_assert_arr_eq(rec.precert_der, pre, pre_len);
    cr_assert(rec.tbs_len < pre_len && memmem(pre, pre_len, rec.tbs, rec.tbs_len) != NULL,
              "the journaled TBS is the one the PreCA signed");
    free(pre);
    ctca_store_cert_cleanup(&rec);
    ctca_store_close(store);

    /* ctca get --precert --chain-out gives the chain the logs got. */
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --precert --out '%s/got-pre.pem'"
                              " --chain-out '%s/got-chain.pem'",
                        fx.ctca, fx.ca_dir, serial, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "grep -c 'BEGIN CERTIFICATE' '%s/got-chain.pem'", fx.dir), 0);
    cr_assert_eq(atoi(out), 3, "precertificate, PreCA, CA: %s", out);
    free(out);
}

static void setup_logs_failing_once(void)
{
    setup_with("--fail-first 1", "--fail-first 1");
    char value[400];
    snprintf(value, sizeof value, "\"%s\"", fx.log_list);
    th_ca_config_set(&fx, "", "log_list", value);
}

Test(issue_preca, deferred_preca_issuance_is_finished_by_queue_run,
     .init = setup_logs_failing_once, .fini = teardown, .timeout = 120)
{
    char *out = NULL, serial[64], cert[400];
    cr_assert_eq(issue(&out, ""), 75, "both logs fail once: deferred: %s", out);
    const char *p = strstr(out, "deferred: serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p, "deferred: serial %63[0-9a-f]", serial), 1);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s", out);
    cr_assert_not_null(strstr(out, "issued with 2 embedded SCTs"), "%s", out);
    free(out);
    snprintf(cert, sizeof cert, "%s/got.pem", fx.dir);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s'", fx.ctca, fx.ca_dir, serial, cert),
                 0, "%s", out);
    free(out);
    check_final(cert);
    check_issuers_and_tbs("got.pem", "pre.pem");
}

static void setup_logs_down(void)
{
    setup_with("--fail-rate 1", "--fail-rate 1");
}

Test(issue_preca, unembedded_fallback_signs_the_tbs_rewritten_to_the_ca,
     .init = setup_logs_down, .fini = teardown, .timeout = 90)
{
    char *out = NULL;
    cr_assert_eq(issue(&out, "--fallback unembedded"), 0, "%s", out);
    free(out);
    size_t fin_len, pre_len, preca_len;
    uint8_t *fin = load_cert(fx.dir, "site.pem", &fin_len);
    uint8_t *pre = load_cert(fx.dir, "pre.pem", &pre_len);
    uint8_t *preca = load_cert(fx.ca_dir, "preca.pem", &preca_len);
    ctca_view vfin = ctca_view_make(fin, fin_len), vpre = ctca_view_make(pre, pre_len);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_unembedded_cert_check(vfin, vpre, ctca_view_make(preca, preca_len), &eb),
                 CTCA_OK, "its TBS is the precert TBS rewritten to the CA: %s", eb.msg);
    cr_assert_eq(ctca_unembedded_cert_check(vfin, vpre, ctca_view_make(NULL, 0), &eb),
                 CTCA_ERR_TBS_MISMATCH, "not the PreCA's TBS as it stands");
    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' '%s/site.pem'", fx.roots, fx.dir), 0,
                 "%s", out);
    free(out);
    free(fin);
    free(pre);
    free(preca);
}

Test(issue_preca, profile_preca_false_signs_precertificates_with_the_ca, .init = setup_healthy,
     .fini = teardown, .timeout = 90)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "sed -i 's/\"validity_days\":\\t90,/\"validity_days\":\\t90, "
                              "\"preca\": false,/' '%s/ctca.json'",
                        fx.ca_dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(issue(&out, ""), 0, "%s", out);
    free(out);
    size_t pre_len, ca_len;
    uint8_t *pre = load_cert(fx.dir, "pre.pem", &pre_len);
    uint8_t *ca = load_cert(fx.ca_dir, "ca.pem", &ca_len);
    cr_assert_eq(ctca_cert_check_issuer(ctca_view_make(pre, pre_len), ctca_view_make(ca, ca_len)),
                 CTCA_OK, "the CA signed the precertificate");
    free(pre);
    free(ca);
    char cert[400];
    snprintf(cert, sizeof cert, "%s/site.pem", fx.dir);
    check_final(cert);
}

Test(issue_preca, ct_version_2_with_a_preca_is_refused_before_journaling,
     .init = setup_healthy, .fini = teardown, .timeout = 60)
{
    char *out = NULL, path[400];
    cr_assert_eq(issue(&out, "--ct-version 2"), 2, "%s", out);
    cr_assert_not_null(strstr(out, "CT 2.0 (RFC 9162) has no Precertificate Signing Certificate"),
                       "%s", out);
    free(out);
    ctca_store *store = NULL;
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_serial_list l = {0};
    for (int st = CTCA_STORE_JOURNALED; st <= CTCA_STORE_DEFERRED; st++) {
        cr_assert_eq(ctca_store_list_serials(store, (ctca_store_state)st, INT64_MAX, NULL, 10, &l),
                     CTCA_OK);
        cr_assert_eq(l.count, 0, "nothing was journaled");
        ctca_store_serial_list_cleanup(&l);
    }
    ctca_store_close(store);
}

/* ---- PreCAs ctca refuses ------------------------------------------------------------ */

/* A PreCA made with OpenSSL: a P-256 key in dir/NAME.key (0600) and
 * dir/NAME.pem for it with the extensions ext (openssl x509v3_config lines),
 * signed by signer_cert/signer_key; ctca.json then names them. */
static void use_openssl_preca(const char *name, const char *ext, const char *signer_cert,
                              const char *signer_key)
{
    char *out = NULL, value[400];
    cr_assert_eq(th_run(&out,
                        "cd '%s' && printf '[v3]\\n%s\\n' > %s.cnf &&"
                        " openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
                        " -out %s.key && chmod 600 %s.key &&"
                        " openssl req -new -key %s.key -subj '/CN=Test PreCA' -out %s.csr &&"
                        " openssl x509 -req -in %s.csr -CA '%s' -CAkey '%s' -set_serial 7 -days 365"
                        " -sha256 -extfile %s.cnf -extensions v3 -out %s.pem",
                        fx.dir, ext, name, name, name, name, name, name, signer_cert, signer_key,
                        name, name),
                 0, "making %s: %s", name, out);
    free(out);
    snprintf(value, sizeof value, "\"%s/%s.pem\"", fx.dir, name);
    th_ca_config_set(&fx, "", "preca_cert", value);
    snprintf(value, sizeof value, "\"%s/%s.key\"", fx.dir, name);
    th_ca_config_set(&fx, "", "preca_key", value);
}

#define GOOD_EXT                                                                                   \
    "basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n"                        \
    "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n"

/* ctca_ca_open refuses the CA with CTCA_ERR_PRECA and a message holding why;
 * ctca issue exits 2 with it. */
static void expect_refused(const char *why)
{
    ctca_ca *ca = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ca_open(fx.ca_dir, &ca, &eb), CTCA_ERR_PRECA, "%s", eb.msg);
    cr_assert_null(ca);
    cr_assert_not_null(strstr(eb.msg, why), "%s", eb.msg);
    char *out = NULL;
    cr_assert_eq(issue(&out, ""), 2, "%s", out);
    cr_assert_not_null(strstr(out, why), "%s", out);
    free(out);
}

static void setup_ca_only(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    snprintf(fx.log_list, sizeof fx.log_list, "%s/no-logs-needed.json", fx.dir);
}

static void ca_files(char *cert, char *key)
{
    snprintf(cert, 400, "%s/ca.pem", fx.ca_dir);
    snprintf(key, 400, "%s/ca.key", fx.ca_dir);
}

Test(issue_preca, an_openssl_made_preca_is_accepted_and_used, .init = setup_healthy,
     .fini = teardown, .timeout = 90)
{
    char cert[400], key[400], *out = NULL;
    ca_files(cert, key);
    use_openssl_preca("mine", GOOD_EXT "extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4", cert, key);
    cr_assert_eq(issue(&out, ""), 0, "%s", out);
    free(out);
    size_t pre_len, preca_len;
    uint8_t *pre = load_cert(fx.dir, "pre.pem", &pre_len);
    uint8_t *preca = load_cert(fx.dir, "mine.pem", &preca_len);
    cr_assert_eq(ctca_cert_check_issuer(ctca_view_make(pre, pre_len),
                                        ctca_view_make(preca, preca_len)),
                 CTCA_OK, "the configured PreCA signed the precertificate");
    free(pre);
    free(preca);
    snprintf(cert, sizeof cert, "%s/site.pem", fx.dir);
    check_final(cert);
}

Test(issue_preca, a_preca_without_the_ct_eku_is_refused, .init = setup_ca_only, .fini = teardown,
     .timeout = 60)
{
    char cert[400], key[400];
    ca_files(cert, key);
    use_openssl_preca("noeku", GOOD_EXT, cert, key);
    expect_refused("lacks the Certificate Transparency EKU");
}

Test(issue_preca, a_preca_with_another_eku_too_is_refused, .init = setup_ca_only,
     .fini = teardown, .timeout = 60)
{
    char cert[400], key[400];
    ca_files(cert, key);
    use_openssl_preca("twoeku", GOOD_EXT "extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4,serverAuth",
                      cert, key);
    expect_refused("has extended key usages besides 1.3.6.1.4.1.11129.2.4.4");
}

Test(issue_preca, a_preca_that_is_not_a_ca_is_refused, .init = setup_ca_only, .fini = teardown,
     .timeout = 60)
{
    char cert[400], key[400];
    ca_files(cert, key);
    use_openssl_preca("leaf",
                      "basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
                      "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n"
                      "extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4",
                      cert, key);
    expect_refused("not a CA certificate; RFC 6962 3.1 makes a PreCA CA:TRUE");
}

Test(issue_preca, a_preca_another_ca_issued_is_refused, .init = setup_ca_only, .fini = teardown,
     .timeout = 60)
{
    /* Another CA with the same default subject: only the signature tells. */
    char *out = NULL, cert[400], key[400];
    cr_assert_eq(th_run(&out, "'%s' init '%s/other'", fx.ctca, fx.dir), 0, "%s", out);
    free(out);
    snprintf(cert, sizeof cert, "%s/other/ca.pem", fx.dir);
    snprintf(key, sizeof key, "%s/other/ca.key", fx.dir);
    use_openssl_preca("foreign", GOOD_EXT "extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4", cert, key);
    expect_refused("not issued by this CA");
}

Test(issue_preca, a_preca_key_that_does_not_match_is_refused, .init = setup_ca_only,
     .fini = teardown, .timeout = 60)
{
    char *out = NULL, cert[400], key[400], value[400];
    ca_files(cert, key);
    use_openssl_preca("mine", GOOD_EXT "extendedKeyUsage=1.3.6.1.4.1.11129.2.4.4", cert, key);
    cr_assert_eq(th_run(&out, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
                              " -out '%s/other.key' && chmod 600 '%s/other.key'",
                        fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    snprintf(value, sizeof value, "\"%s/other.key\"", fx.dir);
    th_ca_config_set(&fx, "", "preca_key", value);
    expect_refused("its public key does not match");
}

Test(issue_preca, batch_issues_through_the_preca, .init = setup_healthy, .fini = teardown,
     .timeout = 120)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "mkdir '%s/csrs' && cd '%s/csrs' && for i in 1 2; do openssl req -new"
                        " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k$i"
                        " -subj /CN=h$i.example.com -addext subjectAltName=DNS:h$i.example.com"
                        " -out c$i.csr || exit 1; done && rm k1 k2 && cp '%s' c3.csr",
                        fx.dir, fx.dir, fx.csr),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' batch --ca '%s' '%s/csrs' --out '%s/out' --log-list '%s'"
                              " --jobs 2",
                        fx.ctca, fx.ca_dir, fx.dir, fx.dir, fx.log_list),
                 0, "ctca batch: %s", out);
    free(out);
    char cert[400];
    for (int i = 1; i <= 3; i++) {
        snprintf(cert, sizeof cert, "%s/out/c%d.pem", fx.dir, i);
        cr_assert_eq(th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s'",
                            fx.ctca, cert, fx.roots, fx.logs[0].pub, fx.logs[1].pub),
                     0, "ctca verify c%d: %s", i, out);
        free(out);
    }
    /* c3 is site.csr, whose key OpenSSL's CT check serves it with. */
    th_ca_openssl_ct_check(&fx, cert, NULL);

    /* Every precertificate in the store is the PreCA's. */
    char path[400];
    size_t preca_len;
    uint8_t *preca = load_cert(fx.ca_dir, "preca.pem", &preca_len);
    ctca_store *store = NULL;
    snprintf(path, sizeof path, "%s/ctca.db", fx.ca_dir);
    cr_assert_eq(ctca_store_open(path, &store, NULL), CTCA_OK);
    ctca_store_serial_list l = {0};
    cr_assert_eq(ctca_store_list_serials(store, CTCA_STORE_ISSUED, INT64_MAX, NULL, 10, &l),
                 CTCA_OK);
    cr_assert_eq(l.count, 3);
    for (size_t i = 0; i < l.count; i++) {
        ctca_store_cert rec = {0};
        cr_assert_eq(ctca_store_get_cert(store, l.serials[i], &rec), CTCA_OK);
        cr_assert_eq(ctca_cert_check_issuer(ctca_view_make(rec.precert_der, rec.precert_len),
                                            ctca_view_make(preca, preca_len)),
                     CTCA_OK, "serial %s: the PreCA signed its precertificate", l.serials[i]);
        ctca_store_cert_cleanup(&rec);
    }
    ctca_store_serial_list_cleanup(&l);
    ctca_store_close(store);
    free(preca);
}
