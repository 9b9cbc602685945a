/* The CA directory through the library: what ctca_ca_init writes, what
 * ctca_ca_open accepts and refuses, imported CAs, subject strings. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/core/test_ca_helpers.h"

static char *dir;

static void setup(void)
{
    dir = th_tmpdir();
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(ca, .init = setup, .fini = teardown, .timeout = 60);

static ctca_err init_at(const char *cadir, ctca_init_params *p, ctca_errbuf *eb)
{
    p->dir = cadir;
    if (p->now == 0)
        p->now = TCA_NOW;
    return ctca_ca_init(p, eb);
}

static bool exists(const char *d, const char *name)
{
    char *p = tca_path(d, name);
    bool e = access(p, F_OK) == 0;
    free(p);
    return e;
}

Test(ca, init_writes_four_files_with_the_key_0600_and_open_reads_them)
{
    char *cadir = tca_path(dir, "ca");
    char *logs = tca_path(dir, "logs.json");
    th_log_list_write(logs, NULL, 0, 1700000000000); /* init refuses what is not a log list */
    uint8_t start = 0x80;
    ctca_init_params p = {.key_type = CTCA_KEY_EC_P256, .log_list = logs,
                          .rand = tca_counting_rand, .rand_ctx = &start};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_OK, "%s", eb.msg);
    cr_assert(exists(cadir, "ca.key") && exists(cadir, "ca.pem") && exists(cadir, "ctca.json") &&
              exists(cadir, "ctca.db"));
    struct stat st;
    char *key = tca_path(cadir, "ca.key");
    cr_assert_eq(stat(key, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(cadir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    size_t n = 0;
    uint8_t *pem = th_read_file(key, &n);
    cr_assert(n > 27 && memcmp(pem, "-----BEGIN PRIVATE KEY-----", 27) == 0, "PKCS#8 PEM");
    free(pem);

    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    char *store = tca_path(cadir, "ctca.db");
    cr_assert_str_eq(ctca_ca_get0_store_path(ca), store);
    cr_assert_str_eq(ctca_ca_get0_log_list_path(ca), logs, "absolute, as given under /tmp");
    cr_assert_str_eq(ctca_ca_get0_dir(ca), cadir);
    ctca_view spki = ctca_ca_get0_spki(ca);
    uint8_t h[32];
    cr_assert_eq(EVP_Digest(spki.data, spki.len, h, NULL, EVP_sha256(), NULL), 1);
    cr_assert_arr_eq(ctca_ca_get0_issuer_key_hash(ca), h, 32);
    cr_assert_not_null(ctca_config_get0_profile(ctca_ca_get0_config(ca), "tls-server"));
    cr_assert_not_null(ctca_config_get0_profile(ctca_ca_get0_config(ca), "tls-client"));
    /* The injected randomness is the root's serial (top bit cleared). */
    char *ca_pem = tca_path(cadir, "ca.pem");
    char *out = NULL;
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout -serial -startdate", ca_pem), 0);
    cr_assert_not_null(strstr(out, "serial=8182838485868788898A8B8C8D8E8F"), "%s", out);
    cr_assert_not_null(strstr(out, "notBefore=Jan  1 00:00:00 2026 GMT"), "%s", out);
    free(out);
    ctca_ca_free(ca);
    free(ca_pem);
    free(store);
    free(key);
    free(logs);
    free(cadir);
}

static void expect_key_refused(mode_t mode)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    ctca_ca_free(ca);
    char *cadir = tca_path(dir, "ca");
    char *key = tca_path(cadir, "ca.key");
    cr_assert_eq(chmod(key, mode), 0);
    ctca_errbuf eb = {{0}};
    ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_ERR_KEY_PERMISSIONS, "%s", eb.msg);
    cr_assert_null(ca);
    cr_assert_not_null(strstr(eb.msg, key), "names the file: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "chmod 600"), "says the fix: %s", eb.msg);
    cr_assert_eq(chmod(key, 0600), 0);
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    ctca_ca_free(ca);
    free(key);
    free(cadir);
}

Test(ca, group_readable_key_is_refused)
{
    expect_key_refused(0640);
}

Test(ca, world_readable_key_is_refused)
{
    expect_key_refused(0604);
}

Test(ca, non_empty_dir_is_refused_and_left_alone_while_an_empty_one_is_used)
{
    char *cadir = tca_path(dir, "full");
    cr_assert_eq(mkdir(cadir, 0755), 0);
    char *other = tca_path(cadir, "notes.txt");
    th_write_file(other, "x", 1);
    ctca_init_params p = {.key_type = CTCA_KEY_EC_P256};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, "not empty"), "%s", eb.msg);
    cr_assert(exists(cadir, "notes.txt") && !exists(cadir, "ca.key"));
    unlink(other);
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_OK, "%s", eb.msg);
    free(other);
    free(cadir);
}

/* make_openssl_ca: an externally made CA (cert + key) in dir; ca_true picks
 * basicConstraints CA:TRUE or CA:FALSE. */
static void make_openssl_ca(const char *name, bool ca_true)
{
    char *out = NULL;
    int st = th_run(&out,
                    "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 "
                    "-nodes -keyout %s.key -out %s.pem -days 30 -subj '/CN=Imported %s' "
                    "-addext 'basicConstraints=critical,CA:%s' "
                    "-addext 'keyUsage=critical,keyCertSign,cRLSign'",
                    dir, name, name, name, ca_true ? "TRUE" : "FALSE");
    cr_assert_eq(st, 0, "%s", out);
    free(out);
}

Test(ca, imported_ca_is_used_verbatim)
{
    make_openssl_ca("ext", true);
    char *cert = tca_path(dir, "ext.pem"), *key = tca_path(dir, "ext.key");
    char *cadir = tca_path(dir, "ca");
    ctca_init_params p = {.import_cert = cert, .import_key = key};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_OK, "%s", eb.msg);
    ctca_ca *ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_OK, "%s", eb.msg);
    size_t n = 0;
    uint8_t *der = th_read_pem_der(cert, &n);
    ctca_view v = ctca_ca_get0_cert(ca);
    cr_assert_eq(v.len, n);
    cr_assert_arr_eq(v.data, der, n);
    static const uint8_t ecdsa384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
    cr_assert(ctca_view_eq(ctca_ca_get0_sig_alg(ca), ctca_view_make(ecdsa384, sizeof ecdsa384)));
    free(der);
    ctca_ca_free(ca);
    free(cadir);
    free(cert);
    free(key);
}

Test(ca, imported_cert_without_ca_true_is_refused_and_nothing_is_left)
{
    make_openssl_ca("leaf", false);
    char *cert = tca_path(dir, "leaf.pem"), *key = tca_path(dir, "leaf.key");
    char *cadir = tca_path(dir, "ca");
    ctca_init_params p = {.import_cert = cert, .import_key = key};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "CA:TRUE"), "%s", eb.msg);
    cr_assert_neq(access(cadir, F_OK), 0, "the directory init created is removed");
    free(cadir);
    free(cert);
    free(key);
}

Test(ca, imported_cert_and_key_must_match)
{
    make_openssl_ca("one", true);
    make_openssl_ca("two", true);
    char *cert = tca_path(dir, "one.pem"), *key = tca_path(dir, "two.key");
    char *cadir = tca_path(dir, "ca");
    ctca_init_params p = {.import_cert = cert, .import_key = key};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "does not match"), "%s", eb.msg);
    p.import_key = NULL;
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_ERR_USAGE, "cert without key");
    free(cadir);
    free(cert);
    free(key);
}

Test(ca, missing_log_list_is_refused)
{
    char *cadir = tca_path(dir, "ca");
    ctca_init_params p = {.log_list = "/nonexistent/logs.json"};
    ctca_errbuf eb = {{0}};
    cr_assert_eq(init_at(cadir, &p, &eb), CTCA_ERR_IO);
    cr_assert_neq(access(cadir, F_OK), 0);
    free(cadir);
}

Test(ca, open_reports_a_bad_config_with_the_file_and_field)
{
    ctca_ca *ca = tca_make_ca(dir, CTCA_KEY_EC_P256);
    ctca_ca_free(ca);
    char *cfg = tca_path(dir, "ca/ctca.json");
    const char *bad = "{\"ca_cert\": \"ca.pem\", \"ca_key\": \"ca.key\", \"store\": \"ctca.db\", "
                      "\"profiles\": {\"tls-server\": {\"validity_days\": true}}}";
    th_write_file(cfg, bad, strlen(bad));
    char *cadir = tca_path(dir, "ca");
    ctca_errbuf eb = {{0}};
    ca = NULL;
    cr_assert_eq(ctca_ca_open(cadir, &ca, &eb), CTCA_ERR_CONFIG);
    cr_assert_not_null(strstr(eb.msg, "ctca.json: profiles.tls-server.validity_days"), "%s", eb.msg);
    free(cadir);
    free(cfg);
}

static void expect_name(const char *s, const char *openssl_form)
{
    uint8_t *der = NULL;
    size_t len = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_name_from_string(s, &der, &len, &eb), CTCA_OK, "%s: %s", s, eb.msg);
    const unsigned char *p = der;
    X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)len);
    cr_assert_not_null(n);
    cr_assert_eq(p, der + len);
    char buf[256];
    BIO *bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    int r = BIO_read(bio, buf, sizeof buf - 1);
    buf[r > 0 ? r : 0] = '\0';
    cr_assert_str_eq(buf, openssl_form);
    BIO_free(bio);
    X509_NAME_free(n);
    free(der);
}

Test(ca, subject_strings_follow_rfc4514_order)
{
    expect_name("CN=Example CA,O=Example", "O = Example, CN = Example CA");
    expect_name("CN=Example CA, O=Example\\, Inc.,C=NL", "C = NL, O = \"Example, Inc.\", CN = Example CA");
    uint8_t *der = NULL;
    size_t len = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_name_from_string("CN=a+O=b", &der, &len, &eb), CTCA_ERR_USAGE);
    cr_assert_eq(ctca_name_from_string("XX=a", &der, &len, &eb), CTCA_ERR_USAGE);
    cr_assert_eq(ctca_name_from_string("C=Netherlands", &der, &len, &eb), CTCA_ERR_USAGE);
    cr_assert_eq(ctca_name_from_string("CN=", &der, &len, &eb), CTCA_ERR_USAGE);
    cr_assert_eq(ctca_name_from_string("", &der, &len, &eb), CTCA_ERR_USAGE);
}

Test(ca, key_type_names)
{
    ctca_key_type t;
    cr_assert_eq(ctca_key_type_parse("rsa-3072", &t), CTCA_OK);
    cr_assert_eq(t, CTCA_KEY_RSA_3072);
    cr_assert_eq(ctca_key_type_parse("ec-p384", &t), CTCA_OK);
    cr_assert_eq(t, CTCA_KEY_EC_P384);
    cr_assert_eq(ctca_key_type_parse("ed25519", &t), CTCA_ERR_USAGE);
}
