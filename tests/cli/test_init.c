/* ctca init, driven as a user would: the four files, a 0600 PKCS#8 key, and a
 * root that `openssl verify` accepts and `openssl x509 -text` shows as
 * specified, for each key type; imports; refusals and exit statuses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"

static char *dir, *ctca;

static void setup(void)
{
    dir = th_tmpdir();
    ctca = th_bin("ctca");
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
    free(ctca);
}

TestSuite(init, .init = setup, .fini = teardown, .timeout = 120);

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

static void check_root(const char *key_type, const char *key_text, const char *sig_alg)
{
    char *out = NULL;
    int st = th_run(&out, "'%s' init '%s/ca' --key-type %s --subject 'CN=Example CA,O=Example' "
                          "--validity-days 730",
                    ctca, dir, key_type);
    cr_assert_eq(st, 0, "%s", out);
    free(out);

    static const char *const files[] = {"ca.key", "ca.pem", "ctca.json", "ctca.db"};
    char path[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/ca/%s", dir, files[i]);
        cr_assert_eq(access(path, F_OK), 0, "%s missing", files[i]);
    }
    struct stat sb;
    snprintf(path, sizeof path, "%s/ca/ca.key", dir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(th_run(&out, "openssl pkey -in '%s' -noout", path), 0, "%s", out);
    free(out);

    st = th_run(&out, "openssl verify -CAfile '%s/ca/ca.pem' '%s/ca/ca.pem'", dir, dir);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, "ca.pem: OK");
    free(out);

    st = th_run(&out, "openssl x509 -in '%s/ca/ca.pem' -noout -text", dir);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, "Version: 3 (0x2)");
    assert_contains(out, sig_alg);
    assert_contains(out, "Issuer: O = Example, CN = Example CA\n");
    assert_contains(out, "Subject: O = Example, CN = Example CA\n");
    assert_contains(out, key_text);
    assert_contains(out, "X509v3 Basic Constraints: critical\n                CA:TRUE\n");
    assert_contains(out, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n");
    assert_contains(out, "X509v3 Subject Key Identifier");
    free(out);

    /* 730 days less one second, and a serial of more than 64 bits */
    st = th_run(&out, "openssl x509 -in '%s/ca/ca.pem' -noout -serial -dates", dir);
    cr_assert_eq(st, 0);
    char *serial = strstr(out, "serial=");
    cr_assert_not_null(serial);
    size_t hex = strcspn(serial + 7, "\n");
    cr_assert(hex >= 17 && hex <= 32, "serial of %zu hex digits", hex);
    free(out);
    st = th_run(&out, "openssl x509 -in '%s/ca/ca.pem' -noout -checkend %d", dir, 729 * 86400);
    cr_assert_eq(st, 0, "valid for at least 729 more days: %s", out);
    free(out);
    st = th_run(&out, "openssl x509 -in '%s/ca/ca.pem' -noout -checkend %d", dir, 730 * 86400);
    cr_assert_neq(st, 0, "expires within 730 days: %s", out);
    free(out);
}

Test(init, ec_p256_root)
{
    check_root("ec-p256", "NIST CURVE: P-256", "Signature Algorithm: ecdsa-with-SHA256");
}

Test(init, ec_p384_root)
{
    check_root("ec-p384", "NIST CURVE: P-384", "Signature Algorithm: ecdsa-with-SHA384");
}

Test(init, rsa_2048_root)
{
    check_root("rsa-2048", "Public-Key: (2048 bit)", "Signature Algorithm: sha256WithRSAEncryption");
}

Test(init, rsa_3072_root)
{
    check_root("rsa-3072", "Public-Key: (3072 bit)", "Signature Algorithm: sha256WithRSAEncryption");
}

Test(init, default_is_ec_p256_and_log_list_is_recorded_absolute)
{
    char *out = NULL;
    char logs[512];
    snprintf(logs, sizeof logs, "%s/logs.json", dir);
    th_log_list_write(logs, NULL, 0, (int64_t)time(NULL) * 1000);
    int st = th_run(&out, "cd '%s' && '%s' init ca --log-list logs.json", dir, ctca);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    st = th_run(&out, "cat '%s/ca/ctca.json'", dir);
    char want[600];
    snprintf(want, sizeof want, "\"log_list\":\t\"%s/logs.json\"", dir);
    assert_contains(out, want);
    assert_contains(out, "\"tls-server\"");
    assert_contains(out, "\"tls-client\"");
    free(out);
    st = th_run(&out, "openssl x509 -in '%s/ca/ca.pem' -noout -text", dir);
    assert_contains(out, "NIST CURVE: P-256");
    assert_contains(out, "Subject: CN = ctca Root CA\n");
    free(out);
}

/* init recorded any file as the log list; every issuance then failed on it. */
Test(init, a_log_list_that_is_not_one_is_refused_with_its_reason)
{
    char *out = NULL, logs[512];
    snprintf(logs, sizeof logs, "%s/logs.json", dir);
    th_write_file(logs, "{}", 2);
    int st = th_run(&out, "cd '%s' && '%s' init ca --log-list logs.json", dir, ctca);
    cr_assert_eq(st, 2, "%s", out);
    assert_contains(out, "invalid log list");
    assert_contains(out, logs);
    assert_contains(out, "log_list_timestamp");
    free(out);
    cr_assert_neq(th_run(NULL, "test -e '%s/ca'", dir), 0, "nothing left behind");
}

Test(init, imported_ca)
{
    char *out = NULL;
    int st = th_run(&out,
                    "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ext.key "
                    "-out ext.pem -days 30 -subj '/CN=Imported' "
                    "-addext 'basicConstraints=critical,CA:TRUE' >/dev/null 2>&1 && "
                    "'%s' init ca --ca-cert ext.pem --ca-key ext.key && cmp ext.pem ca/ca.pem",
                    dir, ctca);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    st = th_run(&out, "cd '%s' && [ \"$(openssl pkey -in ext.key -pubout)\" = "
                      "\"$(openssl pkey -in ca/ca.key -pubout)\" ]",
                dir);
    cr_assert_eq(st, 0, "the imported key is the CA key: %s", out);
    free(out);
}

Test(init, imported_non_ca_is_refused_with_exit_2)
{
    char *out = NULL;
    int st = th_run(&out,
                    "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                    "-nodes -keyout leaf.key -out leaf.pem -days 30 -subj '/CN=leaf' "
                    "-addext 'basicConstraints=CA:FALSE' >/dev/null 2>&1 && "
                    "'%s' init ca --ca-cert leaf.pem --ca-key leaf.key",
                    dir, ctca);
    cr_assert_eq(st, 2, "%s", out);
    assert_contains(out, "CA:TRUE");
    free(out);
    cr_assert_neq(th_run(NULL, "test -e '%s/ca'", dir), 0, "nothing left behind");
}

/* A passphrase-protected key is refused with how to give it to ctca
 * (issue 12 item 7), not as "not a key". */
Test(init, an_encrypted_ca_key_is_refused_saying_how_to_decrypt_it)
{
    char *out = NULL;
    int st = th_run(&out,
                    "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                    "-passout pass:secret -keyout enc.key -out enc.pem -days 30 "
                    "-subj '/CN=Encrypted' -addext 'basicConstraints=critical,CA:TRUE' "
                    ">/dev/null 2>&1 && '%s' init ca --ca-cert enc.pem --ca-key enc.key",
                    dir, ctca);
    cr_assert_eq(st, 2, "%s", out);
    assert_contains(out, "the key is encrypted");
    assert_contains(out, "openssl pkey -in enc.key -out KEY.pem");
    free(out);
    cr_assert_neq(th_run(NULL, "test -e '%s/ca'", dir), 0, "nothing left behind");
}

Test(init, non_empty_dir_is_refused_with_exit_2)
{
    char *out = NULL;
    int st = th_run(&out, "mkdir '%s/ca' && touch '%s/ca/x' && '%s' init '%s/ca'", dir, dir, ctca,
                    dir);
    cr_assert_eq(st, 2, "%s", out);
    assert_contains(out, "not empty");
    free(out);
    st = th_run(&out, "rm '%s/ca/x' && '%s' init '%s/ca'", dir, ctca, dir);
    cr_assert_eq(st, 0, "an empty existing directory is fine: %s", out);
    free(out);
}

Test(init, usage_errors_exit_2)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' init '%s/ca' --key-type ed25519", ctca, dir), 2);
    assert_contains(out, "--key-type must be");
    free(out);
    cr_assert_eq(th_run(&out, "'%s' init", ctca), 2);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' init '%s/ca' --ca-cert x.pem", ctca, dir), 2);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' init '%s/ca' --validity-days -3", ctca, dir), 2);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' init '%s/ca' --subject 'CN=a+O=b'", ctca, dir), 2);
    assert_contains(out, "multi-valued");
    free(out);
    cr_assert_eq(th_run(&out, "'%s' init --help", ctca), 0);
    assert_contains(out, "usage: ctca init DIR");
    free(out);
    cr_assert_neq(th_run(NULL, "test -e '%s/ca'", dir), 0);
}

/* The commands that take one operand (cli_take_operand) refuse an unknown
 * option and a second operand, naming both, with exit 2. */
Test(init, an_unknown_option_or_a_second_operand_is_a_usage_error)
{
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"init a b", "init: one directory only ('a' and 'b')"},
        {"init a --bogus", "init: unknown option '--bogus'"},
        {"get --ca x 01 02 --out y", "get: one serial only ('01' and '02')"},
        {"revoke --ca x 01 02", "revoke: one serial only ('01' and '02')"},
        {"batch --ca x d1 d2 --out o", "batch: one CSR directory only ('d1' and 'd2')"},
        {"batch --ca x d1 -q --out o", "batch: unknown option '-q'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        cr_assert_eq(th_run(&out, "cd '%s' && '%s' %s", dir, ctca, cases[i].args), 2, "%s: %s",
                     cases[i].args, out);
        assert_contains(out, cases[i].message);
        free(out);
    }
    cr_assert_neq(th_run(NULL, "test -e '%s/a'", dir), 0, "nothing was made");
}

/* --preca: a key of the CA's type (0600) and a PreCA the CA issued: CA:TRUE
 * pathlen 0, keyCertSign, the CT EKU only, AKI = the CA's SKI, a subject named
 * after the CA's; ctca.json names both. */
static void check_preca(const char *init_args, const char *key_text, const char *subject)
{
    char *out = NULL;
    int st = th_run(&out, "'%s' init '%s/ca' --preca %s", ctca, dir, init_args);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, "preca.key, preca.pem");
    free(out);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/ca/preca.key", dir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "preca.key mode %o", sb.st_mode & 0777);
    st = th_run(&out, "openssl pkey -in '%s' -noout -text", path);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, key_text);
    free(out);
    st = th_run(&out, "openssl verify -CAfile '%s/ca/ca.pem' '%s/ca/preca.pem'", dir, dir);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    st = th_run(&out, "openssl x509 -in '%s/ca/preca.pem' -noout -text -ext "
                      "basicConstraints,keyUsage,extendedKeyUsage,authorityKeyIdentifier",
                dir);
    cr_assert_eq(st, 0, "%s", out);
    assert_contains(out, "CA:TRUE, pathlen:0");
    assert_contains(out, "Certificate Sign\n");
    assert_contains(out, "X509v3 Extended Key Usage: \n                CT Precertificate Signer\n");
    assert_contains(out, subject);
    char *ski = NULL;
    cr_assert_eq(th_run(&ski, "openssl x509 -in '%s/ca/ca.pem' -noout -ext subjectKeyIdentifier"
                              " | tail -1 | tr -d ' \\n'",
                        dir),
                 0);
    char *aki = strstr(out, "X509v3 Authority Key Identifier: \n");
    cr_assert_not_null(aki, "%s", out);
    assert_contains(aki, ski);
    free(ski);
    free(out);
    st = th_run(&out, "cat '%s/ca/ctca.json'", dir);
    assert_contains(out, "\"preca_cert\":\t\"preca.pem\"");
    assert_contains(out, "\"preca_key\":\t\"preca.key\"");
    free(out);
}

Test(init, preca_ec_p256_named_after_the_ca_cn)
{
    check_preca("--subject 'CN=Example CA,O=Example'", "NIST CURVE: P-256",
                "Subject: O = Example, CN = Example CA Precertificate Signing\n");
}

Test(init, preca_rsa_2048_for_a_ca_without_cn_gets_an_ou)
{
    check_preca("--key-type rsa-2048 --subject 'O=Example,C=DE'", "Private-Key: (2048 bit",
                "Subject: C = DE, O = Example, OU = Precertificate Signing\n");
}
