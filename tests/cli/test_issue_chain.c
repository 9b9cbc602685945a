/* End to end with an imported intermediate CA: ca.pem is the bundle
 * [intermediate, root], the logs accept only the root, and `ctca issue`
 * submits the precertificate with the whole bundle (RFC 6962 4.2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"

static char *dir, *ctca, ca_dir[300], root[320], inter[320], log_list[320], csr[320];
static th_testlog logs[3];
static size_t n_logs;

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
                        dir, name, name, name, subject, name, issuer, issuer, name, name),
                 0, "making %s: %s", name, out);
    free(out);
}

/* setup_depth: a root and depth intermediates below it (int, then int2 under
 * int); the CA is the lowest one, imported with ca.pem = [lowest, ..., root].
 * inter names the intermediates' file for -untrusted. */
static void setup_depth(int depth)
{
    dir = th_tmpdir();
    ctca = th_bin("ctca");
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", dir);
    snprintf(root, sizeof root, "%s/root.pem", dir);
    snprintf(inter, sizeof inter, "%s/int.pem", dir);
    snprintf(log_list, sizeof log_list, "%s/log_list.json", dir);
    snprintf(csr, sizeof csr, "%s/site.csr", dir);
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && openssl req -x509 -newkey ec -pkeyopt"
                        " ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem"
                        " -days 3650 -subj '/CN=Chain Test Root'"
                        " -addext 'basicConstraints=critical,CA:TRUE'"
                        " -addext 'keyUsage=critical,keyCertSign,cRLSign'",
                        dir),
                 0, "making the root: %s", out);
    free(out);
    make_sub_ca("int", "Chain Test Intermediate", "root");
    const char *ca_name = "int";
    if (depth == 2) {
        make_sub_ca("int2", "Chain Test Intermediate 2", "int");
        ca_name = "int2";
        cr_assert_eq(th_run(NULL, "cd '%s' && cat int2.pem int.pem > ints.pem", dir), 0);
        snprintf(inter, sizeof inter, "%s/ints.pem", dir);
    }
    cr_assert_eq(th_run(NULL, "cd '%s' && cat %s root.pem > bundle.pem", dir,
                        depth == 2 ? "int2.pem int.pem" : "int.pem"),
                 0);
    cr_assert_eq(th_run(&out, "'%s' init '%s' --ca-cert '%s/bundle.pem' --ca-key '%s/%s.key'",
                        ctca, ca_dir, dir, dir, ca_name),
                 0, "ctca init: %s", out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                        " -keyout '%s/site.key' -subj /CN=www.example.com"
                        " -addext subjectAltName=DNS:www.example.com -out '%s'",
                        dir, csr),
                 0, "%s", out);
    free(out);
    /* The logs know the root only: the intermediate must come in the chain. */
    const char *names[] = {"a1", "a2", "b1"}, *ops[] = {"A", "A", "B"};
    n_logs = 3;
    for (size_t i = 0; i < n_logs; i++)
        th_testlog_start(&logs[i], dir, names[i], ops[i], root, "");
    th_log_list_write(log_list, logs, n_logs);
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
    for (size_t i = 0; i < n_logs; i++)
        th_testlog_stop(&logs[i]);
    n_logs = 0;
    th_rmdir(dir);
    free(dir);
    free(ctca);
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
                        ctca, ca_dir, csr, log_list, dir, dir),
                 0, "ctca issue: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "openssl verify -CAfile '%s' -untrusted '%s' '%s/site.pem'", root,
                        inter, dir),
                 0, "openssl verify: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "grep -c -- '-----BEGIN CERTIFICATE-----' '%s/chain.pem'", dir), 0);
    cr_assert_eq(atoi(out), n_chain, "the certificate and all of ca.pem: %s", out);
    free(out);
    /* The chain-out file is in order: it verifies with the root alone. */
    cr_assert_eq(th_run(&out,
                        "openssl verify -CAfile '%s' -untrusted '%s/chain.pem' '%s/chain.pem'",
                        root, dir, dir),
                 0, "chain.pem: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' verify '%s/site.pem' --issuer '%s' --log-key '%s'"
                              " --log-key '%s' --log-key '%s'",
                        ctca, dir, issuer, logs[0].pub, logs[1].pub, logs[2].pub),
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
    snprintf(int2, sizeof int2, "%s/int2.pem", dir);
    issue_and_check(4, int2);
}
