/* ca.pem as a bundle: the CA certificate followed by its issuers. What
 * ctca_ca_init copies and ctca_ca_open loads, and the bundles both refuse. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/core/test_ca_helpers.h"

static char *dir;

/* mk_ca: a CA certificate NAME.pem/NAME.key (P-256, CA:TRUE, keyCertSign)
 * with subject /CN=subject, self-signed when issuer is NULL, else signed by
 * issuer.pem/issuer.key. */
static void mk_ca(const char *name, const char *subject, const char *issuer)
{
    char *out = NULL;
    int st;
    if (issuer == NULL)
        st = th_run(&out,
                    "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                    " -nodes -keyout %s.key -out %s.pem -days 3650 -subj '/CN=%s'"
                    " -addext 'basicConstraints=critical,CA:TRUE'"
                    " -addext 'keyUsage=critical,keyCertSign,cRLSign'",
                    dir, name, name, subject);
    else
        st = th_run(&out,
                    "cd '%s' && printf 'basicConstraints=critical,CA:TRUE\\n"
                    "keyUsage=critical,keyCertSign,cRLSign\\n' > %s.ext"
                    " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                    " -keyout %s.key -out %s.csr -subj '/CN=%s'"
                    " && openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -set_serial 7"
                    " -days 3000 -extfile %s.ext -out %s.pem",
                    dir, name, name, name, subject, name, issuer, issuer, name, name);
    cr_assert_eq(st, 0, "making %s: %s", name, out);
    free(out);
}

/* bundle: dir/name = the concatenation of the named files in dir. */
static char *bundle(const char *name, const char *files)
{
    char *path = tca_path(dir, name), *out = NULL;
    cr_assert_eq(th_run(&out, "cd '%s' && cat %s > %s", dir, files, name), 0, "%s", out);
    free(out);
    return path;
}

static void setup(void)
{
    dir = th_tmpdir();
    mk_ca("root", "Chain Root", NULL);
    mk_ca("int", "Chain Intermediate", "root");
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(ca_chain, .init = setup, .fini = teardown, .timeout = 60);

/* init_with: ctca_ca_init importing cert (a bundle) with key dir/key_name. */
static ctca_err init_with(const char *cert, const char *key_name, ctca_errbuf *eb)
{
    char *cadir = tca_path(dir, "ca"), *key = tca_path(dir, key_name);
    ctca_init_params p = {.dir = cadir, .import_cert = cert, .import_key = key, .now = TCA_NOW};
    ctca_err rc = ctca_ca_init(&p, eb);
    free(cadir);
    free(key);
    return rc;
}

/* open_with_ca_pem: a CA directory for the CA called name, whose ca.pem is
 * then replaced by the bundle files, opened. */
static ctca_err open_with_ca_pem(const char *name, const char *files, ctca_errbuf *eb)
{
    char file[64];
    snprintf(file, sizeof file, "%s.pem", name);
    char *cert = tca_path(dir, file);
    snprintf(file, sizeof file, "%s.key", name);
    ctca_errbuf ieb = {{0}};
    cr_assert_eq(init_with(cert, file, &ieb), CTCA_OK, "%s", ieb.msg);
    free(cert);
    char *out = NULL;
    cr_assert_eq(th_run(&out, "cd '%s' && cat %s > ca/ca.pem", dir, files), 0, "%s", out);
    free(out);
    char *cadir = tca_path(dir, "ca");
    ctca_ca *ca = NULL;
    ctca_err rc = ctca_ca_open(cadir, &ca, eb);
    ctca_ca_free(ca);
    free(cadir);
    return rc;
}

static void assert_der_eq(ctca_view v, const char *name)
{
    char *path = tca_path(dir, name);
    size_t n = 0;
    uint8_t *der = th_read_pem_der(path, &n);
    cr_assert_eq(v.len, n, "%s", name);
    cr_assert_arr_eq(v.data, der, n, "%s", name);
    free(der);
    free(path);
}

Test(ca_chain, init_copies_a_two_cert_bundle_and_open_returns_both_in_order)
{
    char *b = bundle("bundle.pem", "int.pem root.pem");
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_with(b, "int.key", &eb), CTCA_OK, "%s", eb.msg);
    size_t blen = 0, clen = 0;
    uint8_t *want = th_read_file(b, &blen);
    char *ca_pem = tca_path(dir, "ca/ca.pem");
    uint8_t *got = th_read_file(ca_pem, &clen);
    cr_assert_eq(clen, blen, "ca.pem is the whole bundle");
    cr_assert_arr_eq(got, want, blen);

    char *cadir = tca_path(dir, "ca");
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_ca_chain_len(ca), 2);
    assert_der_eq(ctca_ca_get0_chain_cert(ca, 0), "int.pem");
    assert_der_eq(ctca_ca_get0_chain_cert(ca, 1), "root.pem");
    assert_der_eq(ctca_ca_get0_cert(ca), "int.pem");
    cr_assert_eq(ctca_ca_get0_chain_cert(ca, 2).len, 0, "past the end: empty");
    ctca_ca_free(ca);
    free(cadir);
    free(ca_pem);
    free(got);
    free(want);
    free(b);
}

Test(ca_chain, single_certificate_ca_pem_is_a_chain_of_one)
{
    char *cert = tca_path(dir, "int.pem");
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_with(cert, "int.key", &eb), CTCA_OK, "%s", eb.msg);
    char *cadir = tca_path(dir, "ca");
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert_eq(ctca_ca_chain_len(ca), 1);
    assert_der_eq(ctca_ca_get0_chain_cert(ca, 0), "int.pem");
    ctca_ca_free(ca);
    free(cadir);
    free(cert);
}

Test(ca_chain, issuers_out_of_order_are_refused_naming_file_and_position)
{
    mk_ca("int2", "Chain Intermediate 2", "int");
    ctca_errbuf eb = {{0}};
    /* int2 <- int <- root, listed int2, root, int */
    cr_assert_eq(open_with_ca_pem("int2", "int2.pem root.pem int.pem", &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "ca.pem"), "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "certificate 2 is not the issuer of certificate 1"), "%s",
                       eb.msg);
}

Test(ca_chain, init_refuses_a_bundle_out_of_order_and_leaves_nothing)
{
    mk_ca("int2", "Chain Intermediate 2", "int");
    char *b = bundle("bad.pem", "int2.pem root.pem int.pem");
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_with(b, "int2.key", &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "bad.pem: certificate 2"), "%s", eb.msg);
    char *cadir = tca_path(dir, "ca");
    cr_assert_neq(access(cadir, F_OK), 0, "the directory init created is removed");
    free(cadir);
    free(b);
}

Test(ca_chain, issuer_with_the_right_name_but_another_key_is_refused)
{
    mk_ca("fake", "Chain Root", NULL); /* same subject as root, different key */
    ctca_errbuf eb = {{0}};
    cr_assert_eq(open_with_ca_pem("int", "int.pem fake.pem", &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "ca.pem: certificate 2's key does not verify"), "%s",
                       eb.msg);
}

Test(ca_chain, non_certificate_block_is_refused)
{
    ctca_errbuf eb = {{0}};
    cr_assert_eq(open_with_ca_pem("int", "int.pem root.key", &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "ca.pem: PEM block 2 is \"PRIVATE KEY\""), "%s", eb.msg);
}

Test(ca_chain, malformed_block_is_refused)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "cd '%s' && printf -- '-----BEGIN CERTIFICATE-----\\n!!!!\\n"
                              "-----END CERTIFICATE-----\\n' > junk.pem", dir),
                 0, "%s", out);
    free(out);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(open_with_ca_pem("int", "int.pem junk.pem", &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "ca.pem: PEM block 2 is malformed"), "%s", eb.msg);
}

Test(ca_chain, more_than_the_cap_is_refused)
{
    ctca_errbuf eb = {{0}};
    /* A self-signed root issues itself, so only the count is wrong. */
    const char *nine = "int.pem root.pem root.pem root.pem root.pem root.pem root.pem root.pem"
                       " root.pem";
    cr_assert_eq(open_with_ca_pem("int", nine, &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "more than 8 certificates"), "%s", eb.msg);
}
