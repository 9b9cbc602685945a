/* `ctca verify` (signature mode), driven through the built binary. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"

#define CT "certificate-transparency/"
#define AT "2014-01-01T00:00:00Z"

typedef struct ctx {
    char *bin, *ec, *rsa, *ca, *inter;
} ctx;

static ctx c;

static void setup(void)
{
    c.bin = th_bin("ctca");
    c.ec = th_upstream(CT "ct-server-key-public.pem");
    c.rsa = th_upstream(CT "rsa/ct-server-key-public-rsa.pem");
    c.ca = th_upstream(CT "ca-cert.pem");
    c.inter = th_upstream(CT "intermediate-cert.pem");
}

static void teardown(void)
{
    free(c.bin);
    free(c.ec);
    free(c.rsa);
    free(c.ca);
    free(c.inter);
}

TestSuite(cli_verify, .init = setup, .fini = teardown);

Test(cli_verify, the_four_embedded_sct_certificates_verify)
{
    static const char *const certs[][2] = {
        {CT "test-embedded-cert.pem", "ca"},
        {CT "test-embedded-with-preca-cert.pem", "ca"},
        {CT "test-embedded-with-intermediate-cert.pem", "inter"},
        {CT "test-embedded-with-intermediate-preca-cert.pem", "inter"},
    };
    for (size_t i = 0; i < 4; i++) {
        char *cert = th_upstream(certs[i][0]), *out = NULL;
        const char *issuer = strcmp(certs[i][1], "ca") == 0 ? c.ca : c.inter;
        int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --log-key '%s' --at %s",
                        c.bin, cert, issuer, c.ec, c.rsa, AT);
        cr_expect_eq(rc, 0, "%s: exit %d\n%s", certs[i][0], rc, out);
        cr_expect(strstr(out, ": valid") != NULL, "%s", out);
        cr_expect(strstr(out, "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=") != NULL, "%s", out);
        free(out);
        free(cert);
    }
}

Test(cli_verify, text_line_shows_log_id_rfc3339_time_and_ms)
{
    char *cert = th_upstream(CT "test-embedded-cert.pem"), *out = NULL;
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at=%s", c.bin, cert,
                    c.ca, c.ec, AT);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "log 3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q= at "
                          "2013-04-05T17:04:16.275Z (1365181456275): valid") != NULL,
              "%s", out);
    free(out);
    free(cert);
}

Test(cli_verify, der_certificate_and_der_issuer_are_accepted)
{
    char *dir = th_tmpdir(), *out = NULL;
    char *cert = th_upstream(CT "test-embedded-cert.pem");
    cr_assert_eq(th_run(NULL, "openssl x509 -in '%s' -outform DER -out '%s/c.der' && "
                              "openssl x509 -in '%s' -outform DER -out '%s/i.der' && "
                              "openssl pkey -pubin -in '%s' -outform DER -out '%s/k.der'",
                        cert, dir, c.ca, dir, c.ec, dir),
                 0);
    int rc = th_run(&out, "'%s' verify '%s/c.der' --issuer '%s/i.der' --log-key '%s/k.der' --at %s",
                    c.bin, dir, dir, dir, AT);
    cr_expect_eq(rc, 0, "%s", out);
    free(out);
    free(cert);
    th_rmdir(dir);
    free(dir);
}

Test(cli_verify, hacked_embedded_sct_exits_1)
{
    char *cert = th_upstream(CT "test-invalid-embedded-cert.pem"), *out = NULL;
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at %s", c.bin, cert,
                    c.ca, c.ec, AT);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "invalid: signature does not verify") != NULL, "%s", out);
    free(out);
    free(cert);
}

Test(cli_verify, sct_later_than_at_exits_1)
{
    char *cert = th_upstream(CT "test-embedded-cert.pem"), *out = NULL;
    /* The SCT is from 2013-04-05T17:04:16.275Z. */
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at 2013-04-05T17:04:16Z",
                    c.bin, cert, c.ca, c.ec);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "invalid: timestamp is later than") != NULL, "%s", out);
    free(out);
    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at 2013-04-05T17:04:16.275Z",
                c.bin, cert, c.ca, c.ec);
    cr_expect_eq(rc, 0, "an SCT timestamped exactly --at is valid: %s", out);
    free(out);
    free(cert);
}

Test(cli_verify, default_time_is_now_so_upstream_scts_verify)
{
    char *cert = th_upstream(CT "test-embedded-cert.pem"), *out = NULL;
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, cert, c.ca,
                    c.ec);
    cr_expect_eq(rc, 0, "%s", out);
    free(out);
    free(cert);
}

Test(cli_verify, only_unknown_log_keys_exits_1)
{
    char *cert = th_upstream(CT "test-embedded-cert.pem"), *out = NULL;
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at %s", c.bin, cert,
                    c.ca, c.rsa, AT);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "unknown log") != NULL, "%s", out);
    free(out);
    free(cert);
}

Test(cli_verify, input_errors_exit_2_naming_the_file)
{
    char *embedded = th_upstream(CT "test-embedded-cert.pem");
    char *no_sct = th_upstream(CT "test-cert.pem");
    char *dir = th_tmpdir(), junk[512], *out = NULL;
    snprintf(junk, sizeof junk, "%s/junk.pem", dir);
    th_write_file(junk, "hello\n", 6);

    int rc = th_run(&out, "'%s' verify '%s/missing.pem' --issuer '%s' --log-key '%s'", c.bin,
                    dir, c.ca, c.ec);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "missing.pem") != NULL, "%s", out);
    free(out);

    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, junk, c.ca, c.ec);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "junk.pem") != NULL, "%s", out);
    free(out);

    /* A log key where the certificate should be: not a certificate. */
    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, c.ec, c.ca, c.ec);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "ct-server-key-public.pem") != NULL, "%s", out);
    free(out);

    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, no_sct, c.ca, c.ec);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "test-cert.pem") != NULL && strstr(out, "no embedded SCT list"),
              "%s", out);
    free(out);

    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, embedded, c.ca, junk);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "junk.pem") != NULL, "%s", out);
    free(out);

    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s'", c.bin, embedded, c.inter,
                c.ec);
    cr_expect_eq(rc, 2, "wrong issuer: %s", out);
    cr_expect(strstr(out, "intermediate-cert.pem") != NULL, "%s", out);
    free(out);

    rc = th_run(&out, "'%s' verify '%s' --issuer '%s' --log-key '%s' --at yesterday", c.bin,
                embedded, c.ca, c.ec);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "yesterday") != NULL, "%s", out);
    free(out);

    free(embedded);
    free(no_sct);
    th_rmdir(dir);
    free(dir);
}

Test(cli_verify, usage_errors_exit_2_and_help_exits_0)
{
    char *out = NULL;
    cr_expect_eq(th_run(&out, "'%s' verify", c.bin), 2, "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify x.pem --log-key k.pem", c.bin), 2, "%s", out);
    cr_expect(strstr(out, "--issuer") != NULL, "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify x.pem --issuer i.pem", c.bin), 2, "%s", out);
    cr_expect(strstr(out, "--log-key") != NULL, "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify x.pem --issuer i.pem --log-key k --bogus", c.bin), 2,
                 "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify x.pem --issuer", c.bin), 2, "%s", out);
    free(out);
    cr_expect_eq(th_run(&out, "'%s' verify --help", c.bin), 0, "%s", out);
    cr_expect(strstr(out, "usage: ctca verify") != NULL, "%s", out);
    free(out);
}

static cJSON *run_json(const char *cert_rel, const char *issuer, const char *keys, int want)
{
    char *cert = th_upstream(cert_rel), *out = NULL;
    /* stderr is merged by th_run; JSON mode writes nothing to it on exit 0/1. */
    int rc = th_run(&out, "'%s' verify '%s' --issuer '%s' %s --at %s --json", c.bin, cert,
                    issuer, keys, AT);
    cr_expect_eq(rc, want, "%s", out);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "not JSON: %s", out);
    free(out);
    free(cert);
    return j;
}

Test(cli_verify, json_output_has_scts_with_status_and_valid_count)
{
    char keys[2048];
    snprintf(keys, sizeof keys, "--log-key '%s' --log-key '%s'", c.ec, c.rsa);
    cJSON *j = run_json(CT "test-embedded-cert.pem", c.ca, keys, 0);
    cJSON *scts = cJSON_GetObjectItemCaseSensitive(j, "scts");
    cr_assert(cJSON_IsArray(scts));
    cr_assert_eq(cJSON_GetArraySize(scts), 1);
    cJSON *s = cJSON_GetArrayItem(scts, 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "log_id")),
                     "3xwuwRUAlFJHqWFoMl3cXHlZ6PfG04j8AC4LvT9012Q=");
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "timestamp")),
                 1365181456275.0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "status")),
                     "valid");
    cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "reason")));
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "valid_count")), 1.0);
    cJSON_Delete(j);

    j = run_json(CT "test-invalid-embedded-cert.pem", c.ca, keys, 1);
    s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "scts"), 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "status")),
                     "invalid_signature");
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "valid_count")), 0.0);
    cJSON_Delete(j);

    snprintf(keys, sizeof keys, "--log-key '%s'", c.rsa);
    j = run_json(CT "test-embedded-cert.pem", c.ca, keys, 1);
    s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "scts"), 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "status")),
                     "unknown_log");
    cJSON_Delete(j);
}
