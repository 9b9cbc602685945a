/* The files of ctca batch (core/engine/batch_files_int.h): the CSR
 * directory, output names, the output certificates and summary.json. */
#define _GNU_SOURCE /* dirfd, fstatat */
#include "core/engine/batch_files_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asn1/json_int.h"
#include "ctca/util.h"

/* ---- the directories ---------------------------------------------------------- */

ctca_err ctca_batch_dirs_check(const char *csr_dir, const char *out_dir, ctca_errbuf *eb)
{
    struct stat in, out;
    if (stat(csr_dir, &in) != 0 || !S_ISDIR(in.st_mode))
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: not a directory", csr_dir);
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", out_dir, strerror(errno));
    if (stat(out_dir, &out) != 0 || !S_ISDIR(out.st_mode))
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: not a directory", out_dir);
    if (in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                               "the output directory must not be the CSR directory");
    return CTCA_OK;
}

ctca_err ctca_batch_csrs_open(const char *csr_dir, ctca_batch_csrs *c, ctca_errbuf *eb)
{
    if ((c->dir = opendir(csr_dir)) == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", csr_dir, strerror(errno));
    return CTCA_OK;
}

bool ctca_batch_csrs_next(ctca_batch_csrs *c, const char **name)
{
    struct dirent *e;
    while ((e = readdir(c->dir)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.' || strlen(e->d_name) > CTCA_BATCH_MAX_NAME ||
            fstatat(dirfd(c->dir), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        *name = e->d_name;
        return true;
    }
    return false;
}

void ctca_batch_csrs_close(ctca_batch_csrs *c)
{
    if (c->dir)
        closedir(c->dir);
    c->dir = NULL;
}

/* ---- output names ------------------------------------------------------------- */

void ctca_batch_stem(const char *name, char *out, size_t len)
{
    const char *dot = strrchr(name, '.');
    size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    snprintf(out, len, "%.*s", (int)n, name);
}

/* FNV-1a: only compares output names within one directory. */
static uint64_t stem_hash(const char *name)
{
    char stem[CTCA_BATCH_MAX_NAME + 1];
    ctca_batch_stem(name, stem, sizeof stem);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = stem; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool ctca_batch_names_shared(const ctca_batch_names *n, const char *name)
{
    uint64_t h = stem_hash(name);
    return n->n_dup_stems > 0 &&
           bsearch(&h, n->dup_stems, n->n_dup_stems, sizeof h, cmp_u64) != NULL;
}

ctca_err ctca_batch_names_scan(const char *csr_dir, ctca_batch_names *out, size_t *total,
                               ctca_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    ctca_batch_csrs d = {0};
    CTCA_GUARD(ctca_batch_csrs_open(csr_dir, &d, eb));
    uint64_t *hashes = NULL;
    size_t n = 0, cap = 0;
    const char *name;
    ctca_err rc = CTCA_OK;
    while (ctca_batch_csrs_next(&d, &name)) {
        if (n == CTCA_BATCH_MAX_FILES) {
            rc = ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "%s: more than %d CSR files",
                                 csr_dir, CTCA_BATCH_MAX_FILES);
            goto out;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            uint64_t *p = realloc(hashes, ncap * sizeof *p);
            if (p == NULL) {
                rc = CTCA_ERR_NOMEM;
                goto out;
            }
            hashes = p;
            cap = ncap;
        }
        hashes[n++] = stem_hash(name);
    }
    qsort(hashes, n, sizeof *hashes, cmp_u64);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        if (hashes[i] == hashes[i - 1] && (dups == 0 || hashes[dups - 1] != hashes[i]))
            hashes[dups++] = hashes[i]; /* in place: dups <= i - 1 */
    out->dup_stems = hashes;
    out->n_dup_stems = dups;
    hashes = NULL;
    *total = n;
out:
    free(hashes);
    ctca_batch_csrs_close(&d);
    return rc;
}

void ctca_batch_names_cleanup(ctca_batch_names *n)
{
    free(n->dup_stems);
    memset(n, 0, sizeof *n);
}

/* ---- CSR files ------------------------------------------------------------------ */

ctca_err ctca_batch_csr_digest(const char *csr_dir, const char *name, uint8_t digest[32],
                               ctca_errbuf *eb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", csr_dir, name);
    uint8_t *der = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_der_or_pem_load(path, "CERTIFICATE REQUEST", &der, &len, eb));
    /* The same digest ctca_csr_get0_digest gives the store's journal. */
    ctca_err rc = EVP_Digest(der, len, digest, NULL, EVP_sha256(), NULL) == 1 ? CTCA_OK
                                                                                : CTCA_ERR_CRYPTO;
    free(der);
    return rc;
}

/* ---- outputs ---------------------------------------------------------------------- */

ctca_err ctca_batch_write_output(const char *out_dir, const char *name, const uint8_t *der,
                                 size_t len, ctca_errbuf *eb)
{
    char stem[CTCA_BATCH_MAX_NAME + 1], path[4096];
    ctca_batch_stem(name, stem, sizeof stem);
    if (snprintf(path, sizeof path, "%s/%s.pem", out_dir, stem) >= (int)sizeof path)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s/%s.pem: path too long", out_dir, stem);
    char *pem = NULL;
    uint8_t *old = NULL;
    size_t old_len = 0;
    ctca_err rc = ctca_pem_encode(der, len, "CERTIFICATE", &pem);
    if (rc != CTCA_OK)
        return rc;
    size_t pem_len = strlen(pem);
    if (ctca_file_read(path, pem_len + 1, &old, &old_len, NULL) != CTCA_OK || old_len != pem_len ||
        memcmp(old, pem, pem_len) != 0)
        /* No fsync: the store holds every certificate durably, and a re-run
         * rewrites an output that is missing or differs. */
        rc = ctca_file_write(path, pem, pem_len, 0644, CTCA_WRITE_NO_FSYNC, eb);
    free(old);
    free(pem);
    return rc;
}

/* ---- summary.json ------------------------------------------------------------------ */

/* File names and error text are bytes: json_string_nocheck writes them as they
 * are, as summary.json always did. */
static bool put_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, json_string_nocheck(v)) == 0;
}

static bool put_int(json_t *o, const char *key, size_t v)
{
    return json_object_set_new(o, key, json_integer((json_int_t)v)) == 0;
}

static json_t *problem_json(const ctca_batch_problem *p)
{
    json_t *o = json_object();
    bool ok = o != NULL && put_str(o, "csr", p->csr) &&
              (p->deferred ? put_str(o, "serial", p->serial) &&
                                 json_object_set_new(o, "queued", json_boolean(p->queued)) == 0
               : p->in_progress ? put_str(o, "serial", p->serial)
                                : put_str(o, "error", ctca_err_name(p->err))) &&
              put_str(o, "reason", p->reason);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

ctca_err ctca_batch_write_summary(const ctca_batch_options *opt, const ctca_batch_summary *sum,
                                  ctca_errbuf *eb)
{
    json_t *j = json_object(), *def = json_array(), *busy = json_array(), *fail = json_array();
    ctca_err rc = CTCA_ERR_NOMEM;
    char *text = NULL;
    double rate = sum->elapsed_s > 0 ? (double)sum->issued / sum->elapsed_s : 0;
    if (j == NULL || def == NULL || busy == NULL || fail == NULL)
        goto out;
    for (size_t i = 0; i < sum->n_problems; i++) {
        const ctca_batch_problem *p = &sum->problems[i];
        if (json_array_append_new(p->deferred ? def : p->in_progress ? busy : fail,
                                  problem_json(p)) != 0)
            goto out;
    }
    if (!put_str(j, "csr_dir", opt->csr_dir) || !put_str(j, "out_dir", opt->out_dir) ||
        !put_int(j, "total", sum->total) || !put_int(j, "issued", sum->issued) ||
        !put_int(j, "already_issued", sum->already_issued) ||
        !put_int(j, "deferred", sum->deferred) || !put_int(j, "in_progress", sum->in_progress) ||
        !put_int(j, "failed", sum->failed) || !put_int(j, "unlisted", sum->unlisted) ||
        json_object_set_new(j, "elapsed_s", json_real(sum->elapsed_s)) != 0 ||
        json_object_set_new(j, "rate_per_s", json_real(rate)) != 0)
        goto out;
    /* json_object_set_new takes the array over, also when it fails. */
    int set = json_object_set_new(j, "deferred_csrs", def);
    set |= json_object_set_new(j, "in_progress_csrs", busy);
    set |= json_object_set_new(j, "failed_csrs", fail);
    def = busy = fail = NULL;
    if (set != 0)
        goto out;
    if ((rc = ctca_json_print(j, true, &text)) != CTCA_OK)
        goto out;
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", opt->out_dir);
    rc = ctca_file_write_atomic(path, text, strlen(text), 0644, eb);
out:
    free(text);
    json_decref(def);
    json_decref(busy);
    json_decref(fail);
    json_decref(j);
    return rc;
}
