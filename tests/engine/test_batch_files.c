/* The files of ctca batch (core/engine/batch_files_int.h): which files of a
 * directory are CSRs, output names and their collisions, the CSR digest,
 * output certificates written once and rewritten when they differ, and
 * summary.json. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine/batch_files_int.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static char *dir;
static char csrs[400], outs[400];

static void setup(void)
{
    dir = th_tmpdir();
    snprintf(csrs, sizeof csrs, "%s/csrs", dir);
    snprintf(outs, sizeof outs, "%s/out", dir);
    cr_assert_eq(mkdir(csrs, 0755), 0);
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

static void put(const char *d, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", d, name);
    th_write_file(path, text, strlen(text));
}

Test(batch_files, the_stem_drops_the_last_extension_only)
{
    char stem[CTCA_BATCH_MAX_NAME + 1];
    ctca_batch_stem("host.csr", stem, sizeof stem);
    cr_assert_str_eq(stem, "host");
    ctca_batch_stem("host.example.der", stem, sizeof stem);
    cr_assert_str_eq(stem, "host.example");
    ctca_batch_stem("noext", stem, sizeof stem);
    cr_assert_str_eq(stem, "noext");
    ctca_batch_stem(".pem", stem, sizeof stem);
    cr_assert_str_eq(stem, ".pem", "a leading dot is not an extension");
}

/* Regular files and symlinks to them, not hidden files, directories or
 * names longer than MAX_NAME. */
Test(batch_files, a_pass_lists_regular_visible_files, .init = setup, .fini = teardown)
{
    put(csrs, "a.csr", "x");
    put(csrs, ".hidden.csr", "x");
    char path[600], target[600];
    snprintf(path, sizeof path, "%s/sub", csrs);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(target, sizeof target, "%s/a.csr", csrs);
    snprintf(path, sizeof path, "%s/link.csr", csrs);
    cr_assert_eq(symlink(target, path), 0);
    snprintf(path, sizeof path, "%s/dirlink", csrs);
    cr_assert_eq(symlink(csrs, path), 0);
    char longname[CTCA_BATCH_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    snprintf(path, sizeof path, "%s/%s", csrs, longname);
    FILE *f = fopen(path, "w"); /* ENAMETOOLONG on most file systems */
    if (f)
        fclose(f);

    ctca_batch_csrs c = {0};
    cr_assert_eq(ctca_batch_csrs_open(csrs, &c, NULL), CTCA_OK);
    const char *name;
    int a = 0, link = 0, other = 0;
    while (ctca_batch_csrs_next(&c, &name)) {
        if (strcmp(name, "a.csr") == 0)
            a++;
        else if (strcmp(name, "link.csr") == 0)
            link++;
        else
            other++;
    }
    ctca_batch_csrs_close(&c);
    ctca_batch_csrs_close(&c); /* twice: harmless */
    cr_assert_eq(a, 1);
    cr_assert_eq(link, 1);
    cr_assert_eq(other, 0);
}

Test(batch_files, a_missing_directory_is_an_io_error_naming_it, .init = setup, .fini = teardown)
{
    char missing[500];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    ctca_errbuf eb = {{0}};
    ctca_batch_csrs c = {0};
    cr_assert_eq(ctca_batch_csrs_open(missing, &c, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, missing), "%s", eb.msg);
    ctca_batch_names n;
    size_t total = 7;
    memset(&eb, 0, sizeof eb);
    cr_assert_eq(ctca_batch_names_scan(missing, &n, &total, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, "No such file"), "%s", eb.msg);
    cr_assert_eq(n.n_dup_stems, 0);
    ctca_batch_names_cleanup(&n);
}

Test(batch_files, files_sharing_an_output_name_are_found, .init = setup, .fini = teardown)
{
    put(csrs, "a.csr", "x");
    put(csrs, "a.der", "x"); /* both a.pem */
    put(csrs, "a", "x");     /* a.pem too */
    put(csrs, "b.csr", "x");
    put(csrs, "a.b.csr", "x"); /* a.b.pem */
    ctca_batch_names n;
    size_t total = 0;
    cr_assert_eq(ctca_batch_names_scan(csrs, &n, &total, NULL), CTCA_OK);
    cr_assert_eq(total, 5);
    cr_assert_eq(n.n_dup_stems, 1, "one name shared (by three files)");
    cr_assert(ctca_batch_names_shared(&n, "a.csr"));
    cr_assert(ctca_batch_names_shared(&n, "a.der"));
    cr_assert(ctca_batch_names_shared(&n, "a"));
    cr_assert(!ctca_batch_names_shared(&n, "b.csr"));
    cr_assert(!ctca_batch_names_shared(&n, "a.b.csr"));
    ctca_batch_names_cleanup(&n);
    cr_assert_null(n.dup_stems);

    cr_assert_eq(ctca_batch_names_scan(outs, &n, &total, NULL), CTCA_ERR_IO, "no such dir");
    ctca_batch_names_cleanup(&n);
}

Test(batch_files, the_output_directory_is_made_and_must_differ, .init = setup, .fini = teardown)
{
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_batch_dirs_check(csrs, outs, &eb), CTCA_OK, "%s", eb.msg);
    struct stat st;
    cr_assert_eq(stat(outs, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(ctca_batch_dirs_check(csrs, outs, &eb), CTCA_OK, "again: it exists");
    cr_assert_eq(ctca_batch_dirs_check(csrs, csrs, &eb), CTCA_ERR_USAGE);
    cr_assert_not_null(strstr(eb.msg, "must not be the CSR directory"), "%s", eb.msg);
    char missing[500];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    cr_assert_eq(ctca_batch_dirs_check(missing, outs, &eb), CTCA_ERR_IO);
    put(dir, "file", "x");
    char file[500];
    snprintf(file, sizeof file, "%s/file", dir);
    cr_assert_eq(ctca_batch_dirs_check(csrs, file, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, "not a directory"), "%s", eb.msg);
}

/* A CSR in PEM and in DER: one digest, that of its DER. */
Test(batch_files, the_csr_digest_is_the_sha256_of_its_der_from_pem_or_der, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(th_run(NULL,
                        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                        " -keyout '%s/k.pem' -subj /CN=files.example -out '%s/site.csr'"
                        " && openssl req -in '%s/site.csr' -outform DER -out '%s/site.der'",
                        dir, csrs, csrs, csrs),
                 0);
    size_t len = 0;
    char path[600];
    snprintf(path, sizeof path, "%s/site.der", csrs);
    uint8_t *der = th_read_file(path, &len);
    uint8_t want[32], got[32];
    cr_assert(EVP_Digest(der, len, want, NULL, EVP_sha256(), NULL));
    free(der);
    cr_assert_eq(ctca_batch_csr_digest(csrs, "site.csr", got, NULL), CTCA_OK);
    cr_assert_arr_eq(got, want, 32);
    memset(got, 0, sizeof got);
    cr_assert_eq(ctca_batch_csr_digest(csrs, "site.der", got, NULL), CTCA_OK);
    cr_assert_arr_eq(got, want, 32);

    put(csrs, "garbage.csr", "not a CSR");
    ctca_errbuf eb = {{0}};
    cr_assert_neq(ctca_batch_csr_digest(csrs, "garbage.csr", got, &eb), CTCA_OK);
    cr_assert_not_null(strstr(eb.msg, "garbage.csr"), "%s", eb.msg);
}

/* What a certificate's DER is does not matter here: any bytes are PEM-wrapped. */
static const uint8_t cert_a[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const uint8_t cert_b[] = {0x30, 0x03, 0x02, 0x01, 0x02};

static char *output_text(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", outs, name);
    size_t len = 0;
    uint8_t *t = th_read_file(path, &len);
    char *s = malloc(len + 1);
    memcpy(s, t, len);
    s[len] = '\0';
    free(t);
    return s;
}

Test(batch_files, an_output_is_written_once_and_rewritten_when_it_differs, .init = setup,
     .fini = teardown)
{
    cr_assert_eq(mkdir(outs, 0755), 0);
    cr_assert_eq(ctca_batch_write_output(outs, "host.csr", cert_a, sizeof cert_a, NULL), CTCA_OK);
    char *first = output_text("host.pem"), *want = NULL;
    cr_assert_eq(ctca_pem_encode(cert_a, sizeof cert_a, "CERTIFICATE", &want), CTCA_OK);
    cr_assert_str_eq(first, want);
    free(want);

    char path[600];
    snprintf(path, sizeof path, "%s/host.pem", outs);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    cr_assert_eq(ctca_batch_write_output(outs, "host.der", cert_a, sizeof cert_a, NULL), CTCA_OK);
    cr_assert_eq(stat(path, &after), 0);
    cr_assert_eq(before.st_ino, after.st_ino, "the same certificate: the file is left as it is");

    /* A second run with another certificate (or a file edited by hand). */
    cr_assert_eq(ctca_batch_write_output(outs, "host.csr", cert_b, sizeof cert_b, NULL), CTCA_OK);
    char *second = output_text("host.pem");
    cr_assert_eq(ctca_pem_encode(cert_b, sizeof cert_b, "CERTIFICATE", &want), CTCA_OK);
    cr_assert_str_eq(second, want);
    free(want);
    put(outs, "host.pem", "edited");
    cr_assert_eq(ctca_batch_write_output(outs, "host.csr", cert_b, sizeof cert_b, NULL), CTCA_OK);
    char *third = output_text("host.pem");
    cr_assert_str_eq(third, second);
    snprintf(path, sizeof path, "%s/host.pem.tmp", outs);
    cr_assert_neq(access(path, F_OK), 0, "no temporary file left");
    free(first);
    free(second);
    free(third);

    char missing[500];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_batch_write_output(missing, "host.csr", cert_a, sizeof cert_a, &eb),
                 CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, missing), "%s", eb.msg);
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v), "%s", key);
    return cJSON_GetNumberValue(v);
}

Test(batch_files, the_summary_lists_each_problem_under_its_kind, .init = setup, .fini = teardown)
{
    cr_assert_eq(mkdir(outs, 0755), 0);
    ctca_batch_problem p[3] = {
        {.csr = "late.csr", .serial = "0a", .deferred = true, .queued = true,
         .err = CTCA_ERR_DEFERRED, .reason = "logs down"},
        {.csr = "busy.csr", .serial = "0b", .in_progress = true, .err = CTCA_ERR_IN_PROGRESS,
         .reason = "pid 1"},
        {.csr = "bad.csr", .err = CTCA_ERR_USAGE, .reason = "rename one"}};
    ctca_batch_summary sum = {.total = 7, .issued = 2, .already_issued = 1, .deferred = 1,
                              .in_progress = 1, .failed = 2, .problems = p, .n_problems = 3,
                              .unlisted = 1, .elapsed_s = 4.0};
    ctca_batch_options opt = {.csr_dir = csrs, .out_dir = outs};
    cr_assert_eq(ctca_batch_write_summary(&opt, &sum, NULL), CTCA_OK);
    char *text = output_text("summary.json");
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s", text);
    free(text);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "csr_dir")), csrs);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "out_dir")), outs);
    cr_assert_eq(num(j, "total"), 7);
    cr_assert_eq(num(j, "issued"), 2);
    cr_assert_eq(num(j, "already_issued"), 1);
    cr_assert_eq(num(j, "failed"), 2);
    cr_assert_eq(num(j, "unlisted"), 1);
    cr_assert_eq(num(j, "rate_per_s"), 0.5);
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "deferred_csrs"), 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "csr")), "late.csr");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "serial")), "0a");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "queued")));
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "in_progress_csrs"), 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(b, "serial")), "0b");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(b, "reason")), "pid 1");
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "failed_csrs"), 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(f, "csr")), "bad.csr");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(f, "error")),
                     ctca_err_name(CTCA_ERR_USAGE));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "failed_csrs")), 1);
    cJSON_Delete(j);
}
