/* End to end with an imported intermediate CA: ca.pem is the bundle
 * [intermediate, root], the logs accept only the root, and `ctca issue`
 * submits the precertificate with the whole bundle (RFC 6962 4.2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"

static th_ca fx;
static char inter[320];

/* make_sub_ca: dir/name.pem and name.key, a P-256 CA:TRUE keyCertSign
 * certificate with subject /CN=subject signed by issuer.pem/issuer.key. */
static void make_sub_ca(const char *name, const char *subject, const char *issuer)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && printf 'basicConstraints=critical,CA:TRUE\\n"
                        "keyUsage=critical,keyCertSign,cRLSign\\n' > %s.ext"
                        " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                        " -nodes -keyout %s.key -out %s.csr -subj '/CN=%s'"
                        " && openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key"
                        " -set_serial 2 -days 3000 -extfile %s.ext -out %s.pem",
                        fx.dir, name, name, name, subject, name, issuer, issuer, name, name),
                 0, "making %s: %s", name, out);
    free(out);
}

/* setup_depth: a root and depth intermediates below it (int, then int2 under
 * int); the CA is the lowest one, imported with ca.pem = [lowest, ..., root].
 * inter names the intermediates' file for -untrusted. */
static void setup_depth(int depth)
{
    th_ca_init(&fx, NULL);
    /* The logs know the root only: the intermediate must come in the chain. */
    snprintf(fx.roots, sizeof fx.roots, "%s/root.pem", fx.dir);
    snprintf(inter, sizeof inter, "%s/int.pem", fx.dir);
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && openssl req -x509 -newkey ec -pkeyopt"
                        " ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem"
                        " -days 3650 -subj '/CN=Chain Test Root'"
                        " -addext 'basicConstraints=critical,CA:TRUE'"
                        " -addext 'keyUsage=critical,keyCertSign,cRLSign'",
                        fx.dir),
                 0, "making the root: %s", out);
    free(out);
    make_sub_ca("int", "Chain Test Intermediate", "root");
    const char *ca_name = "int";
    if (depth == 2) {
        make_sub_ca("int2", "Chain Test Intermediate 2", "int");
        ca_name = "int2";
        cr_assert_eq(th_run(NULL, "cd '%s' && cat int2.pem int.pem > ints.pem", fx.dir), 0);
        snprintf(inter, sizeof inter, "%s/ints.pem", fx.dir);
    }
    cr_assert_eq(th_run(NULL, "cd '%s' && cat %s root.pem > bundle.pem", fx.dir,
                        depth == 2 ? "int2.pem int.pem" : "int.pem"),
                 0);
    cr_assert_eq(th_run(&out, "'%s' init '%s' --ca-cert '%s/bundle.pem' --ca-key '%s/%s.key'",
                        fx.ctca, fx.ca_dir, fx.dir, fx.dir, ca_name),
                 0, "ctca init: %s", out);
    free(out);
    th_ca_csr(&fx, "DNS:www.example.com");
    const char *specs[] = {"A:a1", "A:a2", "B:b1"};
    th_ca_start_logs(&fx, 3, specs, NULL);
}

static void setup_one_intermediate(void)
{
    setup_depth(1);
}

static void setup_two_intermediates(void)
{
    setup_depth(2);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

/* issue_and_check: ctca issue exits 0; OpenSSL verifies the certificate to
 * the root; chain.pem holds the certificate and all of ca.pem (n_chain in
 * all), in order; ctca verify accepts the SCTs with the CA as issuer. */
static void issue_and_check(int n_chain, const char *issuer)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'"
                        " --chain-out '%s/chain.pem'",
                        fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir, fx.dir),
                 0, "ctca issue: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' -untrusted '%s' '%s/site.pem'",
                        fx.roots, inter, fx.dir),
                 0, "openssl verify: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "grep -c -- '-----BEGIN CERTIFICATE-----' '%s/chain.pem'", fx.dir),
                 0);
    cr_assert_eq(atoi(out), n_chain, "the certificate and all of ca.pem: %s", out);
    free(out);
    /* The chain-out file is in order: it verifies with the root alone. */
    cr_assert_eq(th_run(&out,
                        "openssl verify -CAfile '%s' -untrusted '%s/chain.pem' '%s/chain.pem'",
                        fx.roots, fx.dir, fx.dir),
                 0, "chain.pem: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s' --log-key '%s'",
                        fx.ctca, fx.dir, issuer, fx.logs[0].pub, fx.logs[1].pub,
                        fx.logs[2].pub),
                 0, "ctca verify: %s", out);
    free(out);
}

Test(issue_chain, intermediate_ca_issues_with_scts_from_root_only_logs_and_full_chain_out,
     .init = setup_one_intermediate, .fini = teardown, .timeout = 60)
{
    issue_and_check(3, inter);
}

/* A log accepts a chain that ends under one of its roots, so with one
 * intermediate the CA certificate alone would do; with two, the precert
 * reaches the root only through every certificate of ca.pem. */
Test(issue_chain, two_intermediates_reach_a_root_only_log_through_the_whole_bundle,
     .init = setup_two_intermediates, .fini = teardown, .timeout = 60)
{
    char int2[340];
    snprintf(int2, sizeof int2, "%s/int2.pem", fx.dir);
    issue_and_check(4, int2);
}
