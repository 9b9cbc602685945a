/* ctca-testlog, driven as a real process over HTTP (libcurl): its SCTs verify
 * with ctca_sct_verify, its Merkle tree matches an independent computation and
 * the upstream known-answer leaf hashes, and every fault flag does what it
 * says. cfssl 1.2, when installed, gets verifiable SCTs from it. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctca/asn1.h"
#include "ctca/sct.h"
#include "ctca/util.h"
#include "tests/helpers.h"

#define TRILLIAN "certificate-transparency-go/trillian/testdata/"
#define CTDATA "certificate-transparency/"

/* ---- processes ----------------------------------------------------------- */

typedef struct tlog {
    pid_t pid;
    int port;
} tlog;

static char *dir;
static tlog logs[8];
static size_t n_logs;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends sig and waits up to timeout_s; returns the wait status, or -1 when the
 * process had to be killed. */
static int stop_pid(pid_t pid, int sig, double timeout_s)
{
    int st = 0;
    kill(pid, sig);
    double until = now_s() + timeout_s;
    while (now_s() < until) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* Starts ctca-testlog with args (space-separated, no quoting) and reads its
 * "listening on" line. */
static tlog *start_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static tlog *start_log(const char *fmt, ...)
{
    cr_assert(n_logs < sizeof logs / sizeof *logs);
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    cr_assert(vsnprintf(args, sizeof args, fmt, ap) < (int)sizeof args);
    va_end(ap);
    char *argv[64];
    size_t argc = 0;
    char *bin = th_bin("ctca-testlog");
    argv[argc++] = bin;
    for (char *tok = strtok(args, " "); tok != NULL; tok = strtok(NULL, " ")) {
        cr_assert(argc < 63);
        argv[argc++] = tok;
    }
    argv[argc] = NULL;

    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[1]);
    tlog *t = &logs[n_logs++];
    t->pid = pid;
    char line[256];
    size_t len = 0;
    double until = now_s() + 10;
    while (len < sizeof line - 1 && (len == 0 || line[len - 1] != '\n') && now_s() < until) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(fds[0], line + len, 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fds[0]);
    line[len] = '\0';
    free(bin);
    cr_assert_eq(sscanf(line, "listening on http://127.0.0.1:%d/", &t->port), 1,
                 "ctca-testlog %s did not start: \"%s\"", args, line);
    return t;
}

static void setup(void)
{
    dir = th_tmpdir();
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    for (size_t i = 0; i < n_logs; i++)
        if (logs[i].pid > 0)
            stop_pid(logs[i].pid, SIGTERM, 5);
    n_logs = 0;
    th_rmdir(dir);
    free(dir);
}

TestSuite(testlog, .init = setup, .fini = teardown, .timeout = 60);

/* ---- keys and certificates ------------------------------------------------- */

static char *path_in(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Generates a log key into dir/name and returns its ctca_log_key. */
static ctca_log_key *gen_key(const char *name, bool rsa)
{
    EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    cr_assert_not_null(k);
    char *path = path_in(name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    free(path);
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(k, &spki);
    cr_assert(n > 0);
    ctca_log_key *key = NULL;
    cr_assert_eq(ctca_log_key_from_spki(ctca_view_make(spki, (size_t)n), &key), CTCA_OK);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    return key;
}

static ctca_log_key *upstream_key(const char *rel)
{
    char *p = th_upstream(rel);
    ctca_log_key *key = NULL;
    cr_assert_eq(ctca_log_key_from_pem_file(p, &key), CTCA_OK, "%s", p);
    free(p);
    return key;
}

typedef struct chain {
    uint8_t *der[16];
    size_t len[16];
    size_t n;
} chain;

static void chain_add_pem_file(chain *c, const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    cr_assert_not_null(bio, "cannot open %s", path);
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        cr_assert(c->n < 16);
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        cr_assert(n > 0);
        c->der[c->n] = malloc((size_t)n);
        memcpy(c->der[c->n], der, (size_t)n);
        c->len[c->n++] = (size_t)n;
        OPENSSL_free(der);
        X509_free(x);
    }
    BIO_free(bio);
    cr_assert(c->n > 0, "no certificates in %s", path);
}

/* A chain from upstream vector files, in order. */
static chain upstream_chain(const char *a, const char *b, const char *c3)
{
    chain c = {0};
    const char *files[] = {a, b, c3};
    for (size_t i = 0; i < 3 && files[i] != NULL; i++) {
        char *p = th_upstream(files[i]);
        chain_add_pem_file(&c, p);
        free(p);
    }
    return c;
}

static void chain_free(chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->der[i]);
    memset(c, 0, sizeof *c);
}

/* A self-signed P-256 certificate, distinct per serial. */
static chain selfsigned(EVP_PKEY *k, long serial)
{
    X509 *x = X509_new();
    cr_assert_not_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    char cn[64];
    snprintf(cn, sizeof cn, "leaf-%ld.example", serial);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
    chain c = {0};
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    cr_assert(n > 0);
    c.der[0] = malloc((size_t)n);
    memcpy(c.der[0], der, (size_t)n);
    c.len[0] = (size_t)n;
    c.n = 1;
    OPENSSL_free(der);
    X509_free(x);
    return c;
}

/* ---- HTTP ------------------------------------------------------------------- */

typedef struct http {
    long status;
    CURLcode cc;
    char *body;
    size_t len;
    char retry_after[32];
    double secs;
    struct curl_slist *hdrs;
} http;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    http *r = ud;
    r->body = realloc(r->body, r->len + sz * n + 1);
    memcpy(r->body + r->len, p, sz * n);
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    http *r = ud;
    size_t len = sz * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t i = 12, j = 0;
        while (i < len && p[i] == ' ')
            i++;
        while (i < len && p[i] != '\r' && p[i] != '\n' && j + 1 < sizeof r->retry_after)
            r->retry_after[j++] = p[i++];
        r->retry_after[j] = '\0';
    }
    return len;
}

static CURL *easy(int port, const char *path, const char *post, long timeout_ms, http *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (post != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        r->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
    }
    return c;
}

static void finish(CURL *c, http *r, CURLcode cc)
{
    r->cc = cc;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->secs);
    curl_easy_cleanup(c);
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
}

static http request(int port, const char *path, const char *post, long timeout_ms)
{
    http r;
    CURL *c = easy(port, path, post, timeout_ms, &r);
    finish(c, &r, curl_easy_perform(c));
    return r;
}

static http get(const tlog *t, const char *path)
{
    http r = request(t->port, path, NULL, 10000);
    cr_assert_eq(r.cc, CURLE_OK, "GET %s: %s", path, curl_easy_strerror(r.cc));
    return r;
}

static char *chain_json(const chain *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "chain");
    for (size_t i = 0; i < c->n; i++) {
        char *b64 = NULL;
        cr_assert_eq(ctca_base64_encode(c->der[i], c->len[i], &b64), CTCA_OK);
        cJSON_AddItemToArray(a, cJSON_CreateString(b64));
        free(b64);
    }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static http submit(const tlog *t, const char *endpoint, const chain *c)
{
    char path[64];
    snprintf(path, sizeof path, "/ct/v1/%s", endpoint);
    char *body = chain_json(c);
    http r = request(t->port, path, body, 10000);
    free(body);
    return r;
}

/* ---- decoding answers ---------------------------------------------------------- */

static cJSON *json_of(const http *r)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    cr_assert_not_null(j, "not JSON: %s", r->body);
    return j;
}

static uint8_t *b64_field(cJSON *j, const char *name, size_t *len)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    cr_assert_not_null(s, "no string %s", name);
    uint8_t *out = NULL;
    cr_assert_eq(ctca_base64_decode(s, strlen(s), &out, len), CTCA_OK, "%s not base64", name);
    return out;
}

static uint64_t u64_field(cJSON *j, const char *name)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(j, name);
    cr_assert(cJSON_IsNumber(n), "no number %s", name);
    cr_assert(n->valuedouble >= 0 && n->valuedouble < 9007199254740992.0);
    return (uint64_t)n->valuedouble;
}

/* The add-chain answer, reassembled as a serialized SCT and parsed by the
 * project's codec. */
static void sct_of(const http *r, ctca_sct *sct)
{
    cr_assert_eq(r->cc, CURLE_OK, "%s", curl_easy_strerror(r->cc));
    cr_assert_eq(r->status, 200, "status %ld: %s", r->status, r->body);
    cJSON *j = json_of(r);
    cr_assert_eq(u64_field(j, "sct_version"), 0);
    size_t id_len, ext_len, sig_len;
    uint8_t *id = b64_field(j, "id", &id_len);
    uint8_t *ext = b64_field(j, "extensions", &ext_len);
    uint8_t *sig = b64_field(j, "signature", &sig_len);
    cr_assert_eq(id_len, CTCA_LOG_ID_LEN);
    ctca_builder b;
    ctca_builder_init(&b, 1 << 20);
    ctca_builder_add_u8(&b, 0);
    ctca_builder_add_bytes(&b, id, id_len);
    ctca_builder_add_u64(&b, u64_field(j, "timestamp"));
    ctca_builder_open_tls_vec(&b, 2, 0, 0xffff);
    ctca_builder_add_bytes(&b, ext, ext_len);
    ctca_builder_close(&b);
    ctca_builder_add_bytes(&b, sig, sig_len);
    uint8_t *ser = NULL;
    size_t ser_len = 0;
    cr_assert_eq(ctca_builder_finish(&b, &ser, &ser_len), CTCA_OK);
    ctca_builder_cleanup(&b);
    cr_assert_eq(ctca_sct_parse(ctca_view_make(ser, ser_len), sct), CTCA_OK);
    free(ser);
    free(id);
    free(ext);
    free(sig);
    cJSON_Delete(j);
}

static ctca_signed_entry x509_entry(const chain *c)
{
    ctca_signed_entry e;
    memset(&e, 0, sizeof e);
    e.type = CTCA_ENTRY_X509;
    e.leaf_cert = ctca_view_make(c->der[0], c->len[0]);
    return e;
}

/* A precert entry whose TBS is computed independently (from the final
 * certificate when given, else from the precert) and whose issuer is issuer. */
typedef struct precert_entry {
    ctca_signed_entry e;
    uint8_t *tbs;
} precert_entry;

static precert_entry precert_entry_of(ctca_view precert, const char *final_pem, ctca_view issuer)
{
    precert_entry p;
    memset(&p, 0, sizeof p);
    p.e.type = CTCA_ENTRY_PRECERT;
    size_t tbs_len = 0;
    if (final_pem != NULL) {
        char *path = th_upstream(final_pem);
        size_t len = 0;
        uint8_t *final = th_read_pem_der(path, &len);
        cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(final, len), &p.tbs, &tbs_len),
                     CTCA_OK);
        free(final);
        free(path);
    } else {
        cr_assert_eq(ctca_precert_tbs_from_precert(precert, &p.tbs, &tbs_len), CTCA_OK);
    }
    p.e.tbs = ctca_view_make(p.tbs, tbs_len);
    cr_assert_eq(ctca_cert_issuer_key_hash(issuer, p.e.issuer_key_hash), CTCA_OK);
    return p;
}

static uint64_t verify_now(void)
{
    return (uint64_t)ctca_now_ms() + 1000;
}

/* ---- the Merkle tree, computed independently (RFC 6962 2.1, RFC 9162 2.1.3.2
 * and 2.1.4.2 verification) ------------------------------------------------------ */

typedef uint8_t hash32[32];

static void sha256_cat(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                       const uint8_t *c, size_t cn, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    EVP_DigestUpdate(ctx, a, an);
    EVP_DigestUpdate(ctx, b, bn);
    EVP_DigestUpdate(ctx, c, cn);
    cr_assert_eq(EVP_DigestFinal_ex(ctx, out, NULL), 1);
    EVP_MD_CTX_free(ctx);
}

static void leaf_hash_of(const uint8_t *leaf, size_t n, uint8_t out[32])
{
    static const uint8_t zero = 0;
    sha256_cat(&zero, 1, leaf, n, NULL, 0, out);
}

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    static const uint8_t one = 1;
    sha256_cat(&one, 1, l, 32, r, 32, out);
}

static void mth(const hash32 *leaves, size_t n, uint8_t out[32])
{
    if (n == 0) {
        sha256_cat(NULL, 0, NULL, 0, NULL, 0, out);
    } else if (n == 1) {
        memcpy(out, leaves[0], 32);
    } else {
        size_t k = 1;
        while (k * 2 < n)
            k *= 2;
        uint8_t l[32], r[32];
        mth(leaves, k, l);
        mth(leaves + k, n - k, r);
        node(l, r, out);
    }
}

static bool verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[32],
                             const hash32 *path, size_t n, const uint8_t root[32])
{
    if (index >= size)
        return false;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            node(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

static bool verify_consistency(uint64_t first, uint64_t second, const uint8_t first_root[32],
                               const uint8_t second_root[32], const hash32 *proof, size_t n)
{
    if (first == second)
        return n == 0 && memcmp(first_root, second_root, 32) == 0;
    hash32 path[130];
    size_t m = 0;
    if ((first & (first - 1)) == 0)
        memcpy(path[m++], first_root, 32);
    for (size_t i = 0; i < n && m < 130; i++)
        memcpy(path[m++], proof[i], 32);
    if (m == 0)
        return false;
    uint64_t fn = first - 1, sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[32], sr[32];
    memcpy(fr, path[0], 32);
    memcpy(sr, path[0], 32);
    for (size_t i = 1; i < m; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            node(path[i], fr, fr);
            node(path[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, first_root, 32) == 0 && memcmp(sr, second_root, 32) == 0;
}

/* get-entries [start, end]: leaf hashes into out; returns the count. */
static size_t fetch_leaf_hashes(const tlog *t, size_t start, size_t end, hash32 *out)
{
    char path[128];
    snprintf(path, sizeof path, "/ct/v1/get-entries?start=%zu&end=%zu", start, end);
    http r = get(t, path);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *j = json_of(&r);
    cJSON *e;
    size_t n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        size_t len = 0;
        uint8_t *leaf = b64_field(e, "leaf_input", &len);
        leaf_hash_of(leaf, len, out[n++]);
        free(leaf);
    }
    cJSON_Delete(j);
    free(r.body);
    return n;
}

typedef struct sth {
    uint64_t tree_size, timestamp;
    uint8_t root[32];
} sth;

/* get-sth, with its signature checked over the RFC 6962 3.5 TreeHeadSignature. */
static sth get_sth_verified(const tlog *t, const char *key_file)
{
    http r = get(t, "/ct/v1/get-sth");
    cr_assert_eq(r.status, 200);
    cJSON *j = json_of(&r);
    sth s;
    s.tree_size = u64_field(j, "tree_size");
    s.timestamp = u64_field(j, "timestamp");
    size_t root_len = 0, sig_len = 0;
    uint8_t *root = b64_field(j, "sha256_root_hash", &root_len);
    uint8_t *sig = b64_field(j, "tree_head_signature", &sig_len);
    cr_assert_eq(root_len, 32);
    memcpy(s.root, root, 32);

    ctca_view v = ctca_view_make(sig, sig_len), raw;
    uint8_t hash_alg, sig_alg;
    cr_assert_eq(ctca_view_get_u8(&v, &hash_alg), CTCA_OK);
    cr_assert_eq(ctca_view_get_u8(&v, &sig_alg), CTCA_OK);
    cr_assert_eq(ctca_tls_get_vec(&v, 2, 0, 0xffff, &raw), CTCA_OK);
    cr_assert_eq(ctca_view_expect_empty(v), CTCA_OK);
    cr_assert_eq(hash_alg, CTCA_HASH_SHA256);

    uint8_t tbs[50];
    ctca_builder b;
    ctca_builder_init(&b, 64);
    ctca_builder_add_u8(&b, 0);
    ctca_builder_add_u8(&b, 1);
    ctca_builder_add_u64(&b, s.timestamp);
    ctca_builder_add_u64(&b, s.tree_size);
    ctca_builder_add_bytes(&b, s.root, 32);
    uint8_t *built = NULL;
    size_t built_len = 0;
    cr_assert_eq(ctca_builder_finish(&b, &built, &built_len), CTCA_OK);
    ctca_builder_cleanup(&b);
    cr_assert_eq(built_len, sizeof tbs);

    char *kp = path_in(key_file);
    FILE *f = fopen(kp, "r");
    cr_assert_not_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    free(kp);
    cr_assert_not_null(k);
    cr_assert_eq(sig_alg, EVP_PKEY_is_a(k, "RSA") ? CTCA_SIGALG_RSA : CTCA_SIGALG_ECDSA);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    cr_assert_eq(EVP_DigestVerify(ctx, raw.data, raw.len, built, built_len), 1,
                 "STH signature does not verify");
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    free(built);
    free(root);
    free(sig);
    cJSON_Delete(j);
    free(r.body);
    return s;
}

/* Parsed MerkleTreeLeaf (borrowing the leaf buffer). */
typedef struct leaf {
    uint64_t timestamp;
    uint16_t type;
    ctca_view cert;     /* X509 */
    ctca_view ikh, tbs; /* PRECERT */
    ctca_view ext;
} leaf;

static void parse_leaf(const uint8_t *p, size_t n, leaf *out)
{
    ctca_view v = ctca_view_make(p, n);
    uint8_t version, leaf_type;
    cr_assert_eq(ctca_view_get_u8(&v, &version), CTCA_OK);
    cr_assert_eq(ctca_view_get_u8(&v, &leaf_type), CTCA_OK);
    cr_assert_eq(version, 0);
    cr_assert_eq(leaf_type, 0);
    cr_assert_eq(ctca_view_get_u64(&v, &out->timestamp), CTCA_OK);
    cr_assert_eq(ctca_view_get_u16(&v, &out->type), CTCA_OK);
    if (out->type == CTCA_ENTRY_X509) {
        cr_assert_eq(ctca_tls_get_vec(&v, 3, 1, 0xffffff, &out->cert), CTCA_OK);
    } else {
        cr_assert_eq(out->type, CTCA_ENTRY_PRECERT);
        cr_assert_eq(ctca_view_get_bytes(&v, 32, &out->ikh), CTCA_OK);
        cr_assert_eq(ctca_tls_get_vec(&v, 3, 1, 0xffffff, &out->tbs), CTCA_OK);
    }
    cr_assert_eq(ctca_tls_get_vec(&v, 2, 0, 0xffff, &out->ext), CTCA_OK);
    cr_assert_eq(ctca_view_expect_empty(v), CTCA_OK);
}

/* ---- SCTs ------------------------------------------------------------------------- */

Test(testlog, add_chain_sct_verifies_as_x509_entry_with_p256_key)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    chain c = upstream_chain(TRILLIAN "leaf00.chain", NULL, NULL);
    http r = submit(t, "add-chain", &c);
    ctca_sct sct;
    sct_of(&r, &sct);
    ctca_signed_entry e = x509_entry(&c);
    cr_assert_eq(memcmp(sct.log_id, ctca_log_key_get0_id(key), 32), 0);
    cr_assert_eq(sct.sig_alg, CTCA_SIGALG_ECDSA);
    cr_assert_eq(sct.extensions_len, 0);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
    uint64_t now = (uint64_t)ctca_now_ms();
    cr_assert(sct.timestamp <= now && sct.timestamp + 60000 > now, "timestamp is not now");
    ctca_sct_cleanup(&sct);
    free(r.body);
    chain_free(&c);
    free(roots);
    ctca_log_key_free(key);
}

Test(testlog, add_chain_sct_verifies_with_rsa_2048_key)
{
    ctca_log_key *key = gen_key("rsa.pem", true);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/rsa.pem --roots %s", dir, roots);
    chain c = upstream_chain(TRILLIAN "leaf01.chain", NULL, NULL);
    http r = submit(t, "add-chain", &c);
    ctca_sct sct;
    sct_of(&r, &sct);
    cr_assert_eq(sct.sig_alg, CTCA_SIGALG_RSA);
    ctca_signed_entry e = x509_entry(&c);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
    get_sth_verified(t, "rsa.pem");
    ctca_sct_cleanup(&sct);
    free(r.body);
    chain_free(&c);
    free(roots);
    ctca_log_key_free(key);
}

Test(testlog, add_pre_chain_sct_verifies_as_precert_entry)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    /* subleaf-pre, int-ca-2, int-ca-1, fake-ca: the issuer is chain[1]. */
    chain c = upstream_chain(TRILLIAN "subleaf-pre.chain", NULL, NULL);
    cr_assert_eq(c.n, 4);
    http r = submit(t, "add-pre-chain", &c);
    ctca_sct sct;
    sct_of(&r, &sct);
    precert_entry p = precert_entry_of(ctca_view_make(c.der[0], c.len[0]), NULL,
                                       ctca_view_make(c.der[1], c.len[1]));
    cr_assert_eq(ctca_sct_verify(&sct, key, &p.e, verify_now()), CTCA_OK);
    /* The same SCT does not verify as an x509_entry of the precert. */
    ctca_signed_entry wrong = x509_entry(&c);
    cr_assert_eq(ctca_sct_verify(&sct, key, &wrong, verify_now()), CTCA_ERR_SIG_INVALID);
    ctca_sct_cleanup(&sct);
    free(p.tbs);
    free(r.body);
    chain_free(&c);
    free(roots);
    ctca_log_key_free(key);
}

Test(testlog, add_pre_chain_sct_matches_final_cert_tbs_direct_and_preca)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(CTDATA "ca-cert.pem");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    char *ca_path = th_upstream(CTDATA "ca-cert.pem");
    size_t ca_len = 0;
    uint8_t *ca = th_read_pem_der(ca_path, &ca_len);

    /* Issued by the CA itself: [precert] alone (the log finds the root) and
     * [precert, ca] give the same entry. */
    chain direct = upstream_chain(CTDATA "test-embedded-pre-cert.pem", CTDATA "ca-cert.pem", NULL);
    chain alone = upstream_chain(CTDATA "test-embedded-pre-cert.pem", NULL, NULL);
    /* Issued by the Precertificate Signing Certificate ca-pre-cert: the log
     * rewrites the TBS to name ca-cert and hashes ca-cert's key. */
    chain preca = upstream_chain(CTDATA "test-embedded-with-preca-pre-cert.pem",
                                 CTDATA "ca-pre-cert.pem", CTDATA "ca-cert.pem");
    struct {
        chain *c;
        const char *final;
    } cases[] = {{&direct, CTDATA "test-embedded-cert.pem"},
                 {&alone, CTDATA "test-embedded-cert.pem"},
                 {&preca, CTDATA "test-embedded-with-preca-cert.pem"}};
    uint64_t first_ts = 0;
    for (size_t i = 0; i < 3; i++) {
        http r = submit(t, "add-pre-chain", cases[i].c);
        ctca_sct sct;
        sct_of(&r, &sct);
        precert_entry p = precert_entry_of(ctca_view_make(cases[i].c->der[0], cases[i].c->len[0]),
                                           cases[i].final, ctca_view_make(ca, ca_len));
        cr_assert_eq(ctca_sct_verify(&sct, key, &p.e, verify_now()), CTCA_OK, "case %zu", i);
        if (i == 0)
            first_ts = sct.timestamp;
        if (i == 1)
            cr_assert_eq(sct.timestamp, first_ts, "[precert] alone is the same entry");
        ctca_sct_cleanup(&sct);
        free(p.tbs);
        free(r.body);
    }
    /* The PreCA's own key hash is not what the log signed. */
    http r = submit(t, "add-pre-chain", &preca);
    ctca_sct sct;
    sct_of(&r, &sct);
    precert_entry p = precert_entry_of(ctca_view_make(preca.der[0], preca.len[0]),
                                       CTDATA "test-embedded-with-preca-cert.pem",
                                       ctca_view_make(preca.der[1], preca.len[1]));
    cr_assert_eq(ctca_sct_verify(&sct, key, &p.e, verify_now()), CTCA_ERR_SIG_INVALID);
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 2);
    ctca_sct_cleanup(&sct);
    free(p.tbs);
    free(r.body);
    chain_free(&direct);
    chain_free(&alone);
    chain_free(&preca);
    free(ca);
    free(ca_path);
    free(roots);
    ctca_log_key_free(key);
}

/* With the clock pinned at the upstream SCTs' timestamps and the upstream log
 * key, the leaves hash to the values certificate-transparency-go asserts. */
Test(testlog, leaf_hashes_match_upstream_known_answers)
{
    struct {
        const char *cert, *ts, *want;
        const char *endpoint;
    } cases[] = {
        {CTDATA "test-cert.pem", "1365181456089", "BKZLZGMbAnDW0gQWjNJNCyS2IgweWn76YW3tFlu3AuY=",
         "add-chain"},
        {CTDATA "test-embedded-pre-cert.pem", "1365181456275",
         "mbk+d5FDW3oNZJCbOi828rqC3hf+qhigTWVGcXEZq1U=", "add-pre-chain"},
    };
    char *key_path = th_upstream(CTDATA "ct-server-key.pem");
    char *roots = th_upstream(CTDATA "ca-cert.pem");
    ctca_log_key *key = upstream_key(CTDATA "ct-server-key-public.pem");
    for (size_t i = 0; i < 2; i++) {
        tlog *t = start_log("--listen 127.0.0.1:0 --key %s --roots %s --fixed-time-ms %s",
                            key_path, roots, cases[i].ts);
        chain c = upstream_chain(cases[i].cert, CTDATA "ca-cert.pem", NULL);
        http r = submit(t, cases[i].endpoint, &c);
        ctca_sct sct;
        sct_of(&r, &sct);
        cr_assert_eq(sct.timestamp, strtoull(cases[i].ts, NULL, 10));
        hash32 h[1];
        cr_assert_eq(fetch_leaf_hashes(t, 0, 0, h), 1);
        char *b64 = NULL;
        cr_assert_eq(ctca_base64_encode(h[0], 32, &b64), CTCA_OK);
        cr_assert_str_eq(b64, cases[i].want);
        /* and the SCT verifies with the upstream log's public key */
        if (i == 0) {
            ctca_signed_entry e = x509_entry(&c);
            cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
        } else {
            precert_entry p = precert_entry_of(ctca_view_make(c.der[0], c.len[0]), NULL,
                                               ctca_view_make(c.der[1], c.len[1]));
            cr_assert_eq(ctca_sct_verify(&sct, key, &p.e, verify_now()), CTCA_OK);
            free(p.tbs);
        }
        free(b64);
        ctca_sct_cleanup(&sct);
        free(r.body);
        chain_free(&c);
    }
    ctca_log_key_free(key);
    free(key_path);
    free(roots);
}

/* ---- the tree ------------------------------------------------------------------------ */

Test(testlog, get_sth_signature_verifies_and_tree_size_counts_entries)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    sth s = get_sth_verified(t, "ec.pem");
    cr_assert_eq(s.tree_size, 0);
    uint8_t empty[32];
    sha256_cat(NULL, 0, NULL, 0, NULL, 0, empty);
    cr_assert_eq(memcmp(s.root, empty, 32), 0, "the empty tree's hash is SHA-256(\"\")");
    const char *files[] = {TRILLIAN "leaf00.chain", TRILLIAN "leaf01.chain",
                           TRILLIAN "leaf02.chain"};
    for (size_t i = 0; i < 3; i++) {
        chain c = upstream_chain(files[i], NULL, NULL);
        http r = submit(t, "add-chain", &c);
        cr_assert_eq(r.status, 200, "%s: %s", files[i], r.body);
        free(r.body);
        chain_free(&c);
        s = get_sth_verified(t, "ec.pem");
        cr_assert_eq(s.tree_size, i + 1);
    }
    hash32 leaves[3];
    cr_assert_eq(fetch_leaf_hashes(t, 0, 2, leaves), 3);
    uint8_t root[32];
    mth(leaves, 3, root);
    cr_assert_eq(memcmp(root, s.root, 32), 0, "root is not MTH of the entries");
    free(roots);
    ctca_log_key_free(key);
}

/* 13 entries, submitted concurrently: every leaf's audit path recomputes the
 * root of every tree size that holds it, and every consistency proof between
 * tree sizes verifies. */
Test(testlog, concurrent_submissions_then_proofs_recompute_the_roots)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem", dir); /* no --roots */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    enum { N = 13 };
    chain certs[N];
    char *bodies[N];
    http rs[N];
    CURL *cs[N];
    CURLM *m = curl_multi_init();
    for (size_t i = 0; i < N; i++) {
        certs[i] = selfsigned(k, (long)i + 1);
        bodies[i] = chain_json(&certs[i]);
        cs[i] = easy(t->port, "/ct/v1/add-chain", bodies[i], 20000, &rs[i]);
        curl_multi_add_handle(m, cs[i]);
    }
    int running = 1;
    while (running) {
        cr_assert_eq(curl_multi_perform(m, &running), CURLM_OK);
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (size_t i = 0; i < N; i++) {
        curl_multi_remove_handle(m, cs[i]);
        finish(cs[i], &rs[i], CURLE_OK);
        ctca_sct sct;
        sct_of(&rs[i], &sct);
        ctca_signed_entry e = x509_entry(&certs[i]);
        cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
        ctca_sct_cleanup(&sct);
        free(rs[i].body);
        free(bodies[i]);
    }
    curl_multi_cleanup(m);

    sth s = get_sth_verified(t, "ec.pem");
    cr_assert_eq(s.tree_size, N);
    hash32 leaves[N];
    cr_assert_eq(fetch_leaf_hashes(t, 0, N - 1, leaves), N);
    hash32 roots[N + 1];
    for (size_t n = 1; n <= N; n++)
        mth(leaves, n, roots[n]);
    cr_assert_eq(memcmp(roots[N], s.root, 32), 0);

    for (size_t i = 0; i < N; i++) {
        char *b64 = NULL;
        cr_assert_eq(ctca_base64_encode(leaves[i], 32, &b64), CTCA_OK);
        char *esc = curl_easy_escape(NULL, b64, 0);
        for (size_t size = i + 1; size <= N; size++) {
            char path[256];
            snprintf(path, sizeof path, "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%zu", esc,
                     size);
            http r = get(t, path);
            cr_assert_eq(r.status, 200, "%s", r.body);
            cJSON *j = json_of(&r);
            cr_assert_eq(u64_field(j, "leaf_index"), i);
            hash32 p[64];
            size_t np = 0;
            cJSON *h;
            cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(j, "audit_path"))
            {
                uint8_t *d = NULL;
                size_t dl = 0;
                const char *hs = cJSON_GetStringValue(h);
                cr_assert_eq(ctca_base64_decode(hs, strlen(hs), &d, &dl), CTCA_OK);
                cr_assert_eq(dl, 32);
                memcpy(p[np++], d, 32);
                free(d);
            }
            cr_assert(verify_inclusion(i, size, leaves[i], p, np, roots[size]),
                      "audit path of leaf %zu in tree %zu", i, size);
            cJSON_Delete(j);
            free(r.body);
        }
        curl_free(esc);
        free(b64);
    }
    for (size_t first = 1; first <= N; first++) {
        for (size_t second = first; second <= N; second++) {
            char path[128];
            snprintf(path, sizeof path, "/ct/v1/get-sth-consistency?first=%zu&second=%zu", first,
                     second);
            http r = get(t, path);
            cr_assert_eq(r.status, 200, "%s", r.body);
            cJSON *j = json_of(&r);
            hash32 p[64];
            size_t np = 0;
            cJSON *h;
            cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(j, "consistency"))
            {
                uint8_t *d = NULL;
                size_t dl = 0;
                const char *hs = cJSON_GetStringValue(h);
                cr_assert_eq(ctca_base64_decode(hs, strlen(hs), &d, &dl), CTCA_OK);
                memcpy(p[np++], d, 32);
                free(d);
            }
            cr_assert(verify_consistency(first, second, roots[first], roots[second], p, np),
                      "consistency %zu -> %zu", first, second);
            cJSON_Delete(j);
            free(r.body);
        }
    }
    /* A hash the log never saw is 404; a tree size beyond the log is 400. */
    http r = get(t, "/ct/v1/get-proof-by-hash?hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
                    "&tree_size=13");
    cr_assert_eq(r.status, 404);
    free(r.body);
    r = get(t, "/ct/v1/get-sth-consistency?first=3&second=14");
    cr_assert_eq(r.status, 400);
    free(r.body);
    for (size_t i = 0; i < N; i++)
        chain_free(&certs[i]);
    EVP_PKEY_free(k);
    ctca_log_key_free(key);
}

Test(testlog, get_entries_returns_the_leaf_and_chain_the_sct_signed)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    chain x = upstream_chain(TRILLIAN "leaf00.chain", NULL, NULL); /* leaf, int-ca */
    chain pre = upstream_chain(TRILLIAN "subleaf-pre.chain", NULL, NULL);
    cr_assert_eq(x.n, 2);
    http r1 = submit(t, "add-chain", &x);
    http r2 = submit(t, "add-pre-chain", &pre);
    ctca_sct s1, s2;
    sct_of(&r1, &s1);
    sct_of(&r2, &s2);
    size_t root_len = 0;
    uint8_t *root = th_read_pem_der(roots, &root_len);

    http r = get(t, "/ct/v1/get-entries?start=0&end=99");
    cr_assert_eq(r.status, 200);
    cJSON *j = json_of(&r);
    cJSON *entries = cJSON_GetObjectItemCaseSensitive(j, "entries");
    cr_assert_eq(cJSON_GetArraySize(entries), 2, "end is clamped to the tree size");

    /* x509_entry: the leaf cert; extra_data = certificate_chain with the
     * root the submitter left out appended. */
    size_t ll = 0, el = 0;
    uint8_t *lb = b64_field(cJSON_GetArrayItem(entries, 0), "leaf_input", &ll);
    uint8_t *eb = b64_field(cJSON_GetArrayItem(entries, 0), "extra_data", &el);
    leaf l;
    parse_leaf(lb, ll, &l);
    cr_assert_eq(l.type, CTCA_ENTRY_X509);
    cr_assert_eq(l.timestamp, s1.timestamp);
    cr_assert(ctca_view_eq(l.cert, ctca_view_make(x.der[0], x.len[0])));
    cr_assert_eq(l.ext.len, 0);
    ctca_view ev = ctca_view_make(eb, el), list, item;
    cr_assert_eq(ctca_tls_get_vec(&ev, 3, 0, 0xffffff, &list), CTCA_OK);
    cr_assert_eq(ctca_view_expect_empty(ev), CTCA_OK);
    cr_assert_eq(ctca_tls_get_vec(&list, 3, 1, 0xffffff, &item), CTCA_OK);
    cr_assert(ctca_view_eq(item, ctca_view_make(x.der[1], x.len[1])));
    cr_assert_eq(ctca_tls_get_vec(&list, 3, 1, 0xffffff, &item), CTCA_OK);
    cr_assert(ctca_view_eq(item, ctca_view_make(root, root_len)));
    cr_assert_eq(ctca_view_expect_empty(list), CTCA_OK);
    uint8_t h[32];
    ctca_signed_entry xe = x509_entry(&x);
    uint8_t want[32];
    cr_assert_eq(ctca_merkle_leaf_hash(&s1, &xe, want), CTCA_OK);
    leaf_hash_of(lb, ll, h);
    cr_assert_eq(memcmp(h, want, 32), 0, "leaf hash differs from the SCT's entry");
    free(lb);
    free(eb);

    /* precert_entry: IKH and TBS; extra_data = PrecertChainEntry. */
    lb = b64_field(cJSON_GetArrayItem(entries, 1), "leaf_input", &ll);
    eb = b64_field(cJSON_GetArrayItem(entries, 1), "extra_data", &el);
    parse_leaf(lb, ll, &l);
    cr_assert_eq(l.type, CTCA_ENTRY_PRECERT);
    cr_assert_eq(l.timestamp, s2.timestamp);
    precert_entry p = precert_entry_of(ctca_view_make(pre.der[0], pre.len[0]), NULL,
                                       ctca_view_make(pre.der[1], pre.len[1]));
    cr_assert_eq(memcmp(l.ikh.data, p.e.issuer_key_hash, 32), 0);
    cr_assert(ctca_view_eq(l.tbs, p.e.tbs));
    ev = ctca_view_make(eb, el);
    cr_assert_eq(ctca_tls_get_vec(&ev, 3, 1, 0xffffff, &item), CTCA_OK);
    cr_assert(ctca_view_eq(item, ctca_view_make(pre.der[0], pre.len[0])));
    cr_assert_eq(ctca_tls_get_vec(&ev, 3, 0, 0xffffff, &list), CTCA_OK);
    cr_assert_eq(ctca_view_expect_empty(ev), CTCA_OK);
    for (size_t i = 1; i < pre.n; i++) {
        cr_assert_eq(ctca_tls_get_vec(&list, 3, 1, 0xffffff, &item), CTCA_OK);
        cr_assert(ctca_view_eq(item, ctca_view_make(pre.der[i], pre.len[i])));
    }
    /* The chain file ends at a re-issue of fake-ca (same name and key, other
     * validity): the log appends the accepted root it chains to. */
    cr_assert(!ctca_view_eq(ctca_view_make(pre.der[pre.n - 1], pre.len[pre.n - 1]),
                            ctca_view_make(root, root_len)));
    cr_assert_eq(ctca_tls_get_vec(&list, 3, 1, 0xffffff, &item), CTCA_OK);
    cr_assert(ctca_view_eq(item, ctca_view_make(root, root_len)));
    cr_assert_eq(ctca_view_expect_empty(list), CTCA_OK);
    cr_assert_eq(ctca_merkle_leaf_hash(&s2, &p.e, want), CTCA_OK);
    leaf_hash_of(lb, ll, h);
    cr_assert_eq(memcmp(h, want, 32), 0);
    free(lb);
    free(eb);
    free(p.tbs);
    cJSON_Delete(j);
    free(r.body);

    r = get(t, "/ct/v1/get-entries?start=2&end=5");
    cr_assert_eq(r.status, 400, "start beyond the tree");
    free(r.body);
    r = get(t, "/ct/v1/get-entries?start=1&end=0");
    cr_assert_eq(r.status, 400);
    free(r.body);
    r = get(t, "/ct/v1/get-roots");
    cr_assert_eq(r.status, 200);
    j = json_of(&r);
    cJSON *certs = cJSON_GetObjectItemCaseSensitive(j, "certificates");
    cr_assert_eq(cJSON_GetArraySize(certs), 1);
    size_t gl = 0;
    uint8_t *g = NULL;
    const char *gs = cJSON_GetStringValue(cJSON_GetArrayItem(certs, 0));
    cr_assert_eq(ctca_base64_decode(gs, strlen(gs), &g, &gl), CTCA_OK);
    cr_assert(ctca_view_eq(ctca_view_make(g, gl), ctca_view_make(root, root_len)));
    free(g);
    cJSON_Delete(j);
    free(r.body);
    ctca_sct_cleanup(&s1);
    ctca_sct_cleanup(&s2);
    free(r1.body);
    free(r2.body);
    free(root);
    chain_free(&x);
    chain_free(&pre);
    free(roots);
    ctca_log_key_free(key);
}

Test(testlog, get_entries_caps_the_range_at_256)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem", dir);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    CURL *c = NULL;
    for (long i = 0; i < 300; i++) {
        chain cert = selfsigned(k, i + 1);
        char *body = chain_json(&cert);
        http r;
        c = easy(t->port, "/ct/v1/add-chain", body, 10000, &r);
        finish(c, &r, curl_easy_perform(c));
        cr_assert_eq(r.status, 200);
        free(r.body);
        free(body);
        chain_free(&cert);
    }
    http r = get(t, "/ct/v1/get-entries?start=10&end=299");
    cr_assert_eq(r.status, 200);
    cJSON *j = json_of(&r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "entries")), 256);
    cJSON_Delete(j);
    free(r.body);
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 300);
    EVP_PKEY_free(k);
    ctca_log_key_free(key);
}

Test(testlog, resubmission_returns_the_existing_entry)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    chain c = upstream_chain(TRILLIAN "leaf00.chain", NULL, NULL);
    chain pre = upstream_chain(TRILLIAN "subleaf-pre.chain", NULL, NULL);
    ctca_sct a, b;
    http r = submit(t, "add-chain", &c);
    sct_of(&r, &a);
    free(r.body);
    usleep(20000);
    r = submit(t, "add-chain", &c);
    sct_of(&r, &b);
    free(r.body);
    cr_assert_eq(a.timestamp, b.timestamp, "a resubmission gets the first entry's SCT");
    ctca_signed_entry e = x509_entry(&c);
    cr_assert_eq(ctca_sct_verify(&b, key, &e, verify_now()), CTCA_OK);
    ctca_sct_cleanup(&a);
    ctca_sct_cleanup(&b);
    for (int i = 0; i < 2; i++) {
        r = submit(t, "add-pre-chain", &pre);
        cr_assert_eq(r.status, 200);
        free(r.body);
    }
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 2);
    chain_free(&c);
    chain_free(&pre);
    free(roots);
    ctca_log_key_free(key);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void expect_refused(const tlog *t, const char *endpoint, const chain *c, const char *why)
{
    http r = submit(t, endpoint, c);
    cr_assert_eq(r.cc, CURLE_OK);
    cr_assert_eq(r.status, 400, "%s: status %ld: %s", why, r.status, r.body);
    cJSON *j = json_of(&r);
    cr_assert_not_null(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error")));
    cJSON_Delete(j);
    free(r.body);
}

Test(testlog, chain_not_ending_at_an_accepted_root_is_refused)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    chain other = upstream_chain(TRILLIAN "leaf-1.chain", NULL, NULL); /* under fake-ca-1 */
    expect_refused(t, "add-chain", &other, "other root");
    /* leaf00 is issued by int-ca, not by int-ca-1 (same name, other key). */
    chain broken = upstream_chain(TRILLIAN "leaf00.cert", TRILLIAN "int-ca-1.cert", NULL);
    expect_refused(t, "add-chain", &broken, "link does not verify");
    /* Again, with int-ca-1 now parsed from the log's cache of CA certificates. */
    expect_refused(t, "add-chain", &broken, "link does not verify, cached issuer");
    chain garbage = {0};
    garbage.der[0] = (uint8_t *)strdup("not a certificate");
    garbage.len[0] = 17;
    garbage.n = 1;
    expect_refused(t, "add-chain", &garbage, "not DER");
    http r = request(t->port, "/ct/v1/add-chain", "{\"chain\":\"x\"}", 5000);
    cr_assert_eq(r.status, 400);
    free(r.body);
    r = request(t->port, "/ct/v1/add-chain", "[", 5000);
    cr_assert_eq(r.status, 400);
    free(r.body);
    r = request(t->port, "/ct/v1/get-sth", "{}", 5000);
    cr_assert_eq(r.status, 405, "get-sth is GET only");
    free(r.body);
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 0);
    chain_free(&other);
    chain_free(&broken);
    chain_free(&garbage);
    free(roots);
}

Test(testlog, precert_on_add_chain_and_cert_on_add_pre_chain_are_refused)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    char *roots = th_upstream(TRILLIAN "fake-ca.cert");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s", dir, roots);
    chain pre = upstream_chain(TRILLIAN "subleaf-pre.chain", NULL, NULL);
    chain plain = upstream_chain(TRILLIAN "subleaf.chain", NULL, NULL);
    expect_refused(t, "add-chain", &pre, "precert on add-chain");
    expect_refused(t, "add-pre-chain", &plain, "certificate on add-pre-chain");
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 0);
    chain_free(&pre);
    chain_free(&plain);
    free(roots);
}

Test(testlog, oversized_body_is_refused)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem", dir);
    size_t n = 2 * 1024 * 1024;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    http r = request(t->port, "/ct/v1/add-chain", big, 10000);
    cr_assert_eq(r.cc, CURLE_OK);
    cr_assert_eq(r.status, 413);
    free(r.body);
    free(big);
}

/* ---- --print-log-entry ------------------------------------------------------------------ */

Test(testlog, print_log_entry_is_a_v3_log_entry_whose_log_id_is_the_key_hash)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    char *bin = th_bin("ctca-testlog"), *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' --listen 127.0.0.1:8123 --key '%s/ec.pem' --print-log-entry"
                              " --description 'My test log'",
                        bin, dir),
                 0, "%s", out);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "%s", out);
    size_t id_len = 0, spki_len = 0;
    uint8_t *id = b64_field(j, "log_id", &id_len);
    uint8_t *spki = b64_field(j, "key", &spki_len);
    uint8_t h[32];
    sha256_cat(spki, spki_len, NULL, 0, NULL, 0, h);
    cr_assert_eq(id_len, 32);
    cr_assert_eq(memcmp(id, h, 32), 0, "log_id != SHA-256(key)");
    cr_assert_eq(memcmp(id, ctca_log_key_get0_id(key), 32), 0);
    cr_assert(ctca_view_eq(ctca_view_make(spki, spki_len), ctca_log_key_get0_spki(key)));
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "url")),
                     "http://127.0.0.1:8123/");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "description")), "My test log");
    cr_assert_eq(u64_field(j, "mmd"), 86400);
    cJSON *usable = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "state"), "usable");
    int64_t ms = 0;
    cr_assert_eq(
        ctca_time_parse_rfc3339(cJSON_GetStringValue(cJSON_GetObjectItem(usable, "timestamp")),
                                &ms),
        CTCA_OK);
    cJSON *ti = cJSON_GetObjectItem(j, "temporal_interval");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ti, "start_inclusive")),
                     "2020-01-01T00:00:00Z");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ti, "end_exclusive")),
                     "2040-01-01T00:00:00Z");
    cJSON_Delete(j);
    free(out);
    /* A port of 0 names no log. */
    cr_assert_neq(th_run(NULL, "'%s' --listen 127.0.0.1:0 --key '%s/ec.pem' --print-log-entry",
                         bin, dir),
                  0);
    free(id);
    free(spki);
    free(bin);
    ctca_log_key_free(key);
}

Test(testlog, bad_keys_and_usage_are_refused)
{
    char *bin = th_bin("ctca-testlog"), *out = NULL;
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *p = path_in("rsa1024.pem");
    FILE *f = fopen(p, "w");
    PEM_write_PrivateKey(f, small, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(small);
    cr_assert_eq(th_run(&out, "'%s' --listen 127.0.0.1:0 --key '%s'", bin, p), 1);
    cr_assert_not_null(strstr(out, "2048"), "%s", out);
    free(out);
    cr_assert_eq(th_run(NULL, "'%s' --listen 127.0.0.1 --key '%s'", bin, p), 2);
    cr_assert_eq(th_run(NULL, "'%s' --key '%s'", bin, p), 2);
    cr_assert_eq(th_run(NULL, "'%s' --listen 127.0.0.1:0 --key '%s' --fail-rate 2", bin, p), 2);
    free(p);
    free(bin);
}

/* ---- faults -------------------------------------------------------------------------- */

/* Statuses of n sequential submissions of one chain (dedupe keeps them cheap). */
static void statuses(const tlog *t, const chain *c, int n, long *out)
{
    char *body = chain_json(c);
    for (int i = 0; i < n; i++) {
        http r = request(t->port, "/ct/v1/add-chain", body, 5000);
        cr_assert_eq(r.cc, CURLE_OK);
        out[i] = r.status;
        free(r.body);
    }
    free(body);
}

Test(testlog, fail_rate_answers_that_fraction_with_503_reproducibly_per_seed)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    enum { N = 200 };
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    long a[N], b[N], other[N];
    tlog *t1 = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --fail-rate 0.3 --seed 7", dir);
    tlog *t2 = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --fail-rate 0.3 --seed 7", dir);
    tlog *t3 = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --fail-rate 0.3 --seed 8", dir);
    statuses(t1, &c, N, a);
    statuses(t2, &c, N, b);
    statuses(t3, &c, N, other);
    int fails = 0;
    bool differs = false;
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] == 200 || a[i] == 503, "status %ld", a[i]);
        fails += a[i] == 503;
        cr_assert_eq(a[i], b[i], "same seed, same answers (request %d)", i);
        differs |= a[i] != other[i];
    }
    cr_assert(fails >= 35 && fails <= 85, "%d of %d failed at rate 0.3", fails, N);
    cr_assert(differs, "another seed gives another sequence");
    /* reading endpoints are not failed */
    for (int i = 0; i < 20; i++) {
        http r = get(t1, "/ct/v1/get-sth");
        cr_assert_eq(r.status, 200);
        free(r.body);
    }
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, rate_limit_answers_429_with_retry_after)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --rate-limit --retry-after 7", dir);
    tlog *d = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --rate-limit", dir);
    http r = submit(t, "add-chain", &c);
    cr_assert_eq(r.status, 429);
    cr_assert_str_eq(r.retry_after, "7");
    free(r.body);
    r = submit(d, "add-pre-chain", &c);
    cr_assert_eq(r.status, 429);
    cr_assert_str_eq(r.retry_after, "1");
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, hang_never_answers_and_still_shuts_down_cleanly)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --hang", dir);
    char *body = chain_json(&c);
    double t0 = now_s();
    http r = request(t->port, "/ct/v1/add-chain", body, 1000);
    cr_assert_eq(r.cc, CURLE_OPERATION_TIMEDOUT, "%s", curl_easy_strerror(r.cc));
    cr_assert(now_s() - t0 >= 0.99);
    free(r.body);
    /* Leave one request hanging in the server while it is told to stop. */
    CURLM *m = curl_multi_init();
    http hr;
    CURL *h = easy(t->port, "/ct/v1/add-chain", body, 10000, &hr);
    curl_multi_add_handle(m, h);
    int running = 1;
    for (int i = 0; i < 20 && running; i++) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    r = get(t, "/ct/v1/get-sth");
    cr_assert_eq(r.status, 200, "only submissions hang");
    free(r.body);
    t0 = now_s();
    int st = stop_pid(t->pid, SIGTERM, 5);
    t->pid = 0;
    cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "unclean exit %d", st);
    cr_assert(now_s() - t0 < 3);
    curl_multi_remove_handle(m, h);
    finish(h, &hr, CURLE_OK);
    curl_multi_cleanup(m);
    free(hr.body);
    free(body);
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, garbage_answers_200_with_malformed_json)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --garbage", dir);
    http r = submit(t, "add-chain", &c);
    cr_assert_eq(r.status, 200);
    cr_assert(r.len > 0);
    cr_assert_null(cJSON_ParseWithLength(r.body, r.len), "garbage parsed: %s", r.body);
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, bad_signature_and_wrong_log_id_are_rejected_by_ctca_sct_verify)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    ctca_signed_entry e = x509_entry(&c);
    tlog *bad = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --bad-signature", dir);
    tlog *wrong = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --wrong-log-id", dir);
    ctca_sct sct;
    http r = submit(bad, "add-chain", &c);
    sct_of(&r, &sct);
    cr_assert_eq(memcmp(sct.log_id, ctca_log_key_get0_id(key), 32), 0);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_ERR_SIG_INVALID);
    ctca_sct_cleanup(&sct);
    free(r.body);
    r = submit(wrong, "add-chain", &c);
    sct_of(&r, &sct);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_ERR_SCT_LOG_ID_MISMATCH);
    /* only the ID lies: with the right ID the signature verifies */
    memcpy(sct.log_id, ctca_log_key_get0_id(key), 32);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
    ctca_sct_cleanup(&sct);
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
    ctca_log_key_free(key);
}

Test(testlog, sct_time_offset_shifts_timestamps)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    ctca_signed_entry e = x509_entry(&c);
    tlog *past = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --sct-time-offset-ms -86400000",
                           dir);
    tlog *future = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --sct-time-offset-ms 3600000",
                             dir);
    ctca_sct sct;
    uint64_t before = (uint64_t)ctca_now_ms();
    http r = submit(past, "add-chain", &c);
    uint64_t after = (uint64_t)ctca_now_ms();
    sct_of(&r, &sct);
    cr_assert(sct.timestamp >= before - 86400000 && sct.timestamp <= after - 86400000,
              "timestamp %llu not a day back", (unsigned long long)sct.timestamp);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
    hash32 h[1];
    cr_assert_eq(fetch_leaf_hashes(past, 0, 0, h), 1);
    uint8_t want[32];
    cr_assert_eq(ctca_merkle_leaf_hash(&sct, &e, want), CTCA_OK);
    cr_assert_eq(memcmp(h[0], want, 32), 0, "the leaf carries the shifted timestamp too");
    ctca_sct_cleanup(&sct);
    free(r.body);

    before = (uint64_t)ctca_now_ms();
    r = submit(future, "add-chain", &c);
    after = (uint64_t)ctca_now_ms();
    sct_of(&r, &sct);
    cr_assert(sct.timestamp >= before + 3600000 && sct.timestamp <= after + 3600000);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_ERR_SCT_FUTURE);
    cr_assert_eq(ctca_sct_verify(&sct, key, &e, after + 7200000), CTCA_OK);
    ctca_sct_cleanup(&sct);
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
    ctca_log_key_free(key);
}

Test(testlog, static_ct_leaf_index_equals_the_entry_index)
{
    ctca_log_key *key = gen_key("ec.pem", false);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --static-ct", dir);
    for (long i = 0; i < 5; i++) {
        chain c = selfsigned(k, i + 1);
        http r = submit(t, "add-chain", &c);
        ctca_sct sct;
        sct_of(&r, &sct);
        /* Extension { leaf_index(0), opaque<0..2^16-1> } holding a 40-bit index */
        ctca_view v = ctca_view_make(sct.extensions, sct.extensions_len), data;
        uint8_t type;
        cr_assert_eq(sct.extensions_len, 8);
        cr_assert_eq(ctca_view_get_u8(&v, &type), CTCA_OK);
        cr_assert_eq(type, 0);
        cr_assert_eq(ctca_tls_get_vec(&v, 2, 0, 0xffff, &data), CTCA_OK);
        cr_assert_eq(data.len, 5);
        uint64_t idx = 0;
        for (size_t b = 0; b < 5; b++)
            idx = idx << 8 | data.data[b];
        cr_assert_eq(idx, (uint64_t)i);
        ctca_signed_entry e = x509_entry(&c);
        cr_assert_eq(ctca_sct_verify(&sct, key, &e, verify_now()), CTCA_OK);
        /* the log's own index for the leaf agrees */
        uint8_t lh[32];
        cr_assert_eq(ctca_merkle_leaf_hash(&sct, &e, lh), CTCA_OK);
        char *b64 = NULL;
        cr_assert_eq(ctca_base64_encode(lh, 32, &b64), CTCA_OK);
        char *esc = curl_easy_escape(NULL, b64, 0);
        char path[256];
        snprintf(path, sizeof path, "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%ld", esc, i + 1);
        http p = get(t, path);
        cr_assert_eq(p.status, 200, "%s", p.body);
        cJSON *j = json_of(&p);
        cr_assert_eq(u64_field(j, "leaf_index"), idx);
        cJSON_Delete(j);
        free(p.body);
        curl_free(esc);
        free(b64);
        ctca_sct_cleanup(&sct);
        free(r.body);
        chain_free(&c);
    }
    EVP_PKEY_free(k);
    ctca_log_key_free(key);
}

Test(testlog, latency_delays_each_response_without_serialising_connections)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --latency-ms 600", dir);
    http r = get(t, "/ct/v1/get-sth");
    cr_assert(r.secs >= 0.6, "answered in %.3f s", r.secs);
    free(r.body);
    CURLM *m = curl_multi_init();
    http rs[4];
    CURL *cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = easy(t->port, "/ct/v1/get-sth", NULL, 10000, &rs[i]);
        curl_multi_add_handle(m, cs[i]);
    }
    double t0 = now_s();
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    double elapsed = now_s() - t0;
    for (int i = 0; i < 4; i++) {
        curl_multi_remove_handle(m, cs[i]);
        finish(cs[i], &rs[i], CURLE_OK);
        cr_assert_eq(rs[i].status, 200);
        free(rs[i].body);
    }
    curl_multi_cleanup(m);
    cr_assert(elapsed >= 0.6 && elapsed < 1.5, "4 concurrent requests took %.3f s", elapsed);
}

Test(testlog, sigterm_stops_the_log_cleanly)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem", dir);
    int st = stop_pid(t->pid, SIGTERM, 5);
    t->pid = 0;
    cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    tlog *u = start_log("--listen 127.0.0.1:0 --key %s/ec.pem", dir);
    st = stop_pid(u->pid, SIGINT, 5);
    u->pid = 0;
    cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- cfssl 1.2 as a client ----------------------------------------------------------- */

Test(testlog, cfssl_sign_gets_an_embedded_sct_that_verifies)
{
    if (th_run(NULL, "command -v cfssl") != 0) {
        cr_skip_test("cfssl is not installed (Debian golang-cfssl)");
    }
    ctca_log_key *key = gen_key("ec.pem", false);
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                        " -nodes -keyout ca-key.pem -out ca.pem -subj '/CN=ctca-testlog CA'"
                        " -days 30 -addext basicConstraints=critical,CA:TRUE"
                        " -addext keyUsage=critical,keyCertSign,cRLSign"
                        " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                        " -keyout leaf-key.pem -out leaf.csr -subj /CN=www.example.com",
                        dir),
                 0, "%s", out);
    free(out);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --roots %s/ca.pem", dir, dir);
    char cfg[512];
    int n = snprintf(cfg, sizeof cfg,
                     "{\"signing\":{\"default\":{\"expiry\":\"720h\",\"usages\":[\"signing\","
                     "\"key encipherment\",\"server auth\"],\"ct_log_servers\":"
                     "[\"http://127.0.0.1:%d\"]}}}",
                     t->port);
    char *cfg_path = path_in("cfssl.json");
    th_write_file(cfg_path, cfg, (size_t)n);
    cr_assert_eq(th_run(NULL,
                        "(cd '%s' && timeout 60 cfssl sign -ca ca.pem -ca-key ca-key.pem"
                        " -config cfssl.json -hostname www.example.com leaf.csr"
                        " >signed.json 2>cfssl.log)",
                        dir),
                 0, "cfssl sign failed (see cfssl.log)");
    char *signed_path = path_in("signed.json");
    size_t len = 0;
    uint8_t *js = th_read_file(signed_path, &len);
    cJSON *j = cJSON_ParseWithLengthOpts((const char *)js, len, NULL, false);
    cr_assert(cJSON_IsObject(j), "cfssl printed: %s", js);
    const char *pem = cJSON_GetStringValue(cJSON_GetObjectItem(j, "cert"));
    cr_assert_not_null(pem);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    cr_assert_eq(ctca_pem_decode((const uint8_t *)pem, strlen(pem), "CERTIFICATE", &cert,
                                 &cert_len),
                 CTCA_OK);

    ctca_sct_list list;
    cr_assert_eq(ctca_cert_get_sct_list(ctca_view_make(cert, cert_len), &list), CTCA_OK);
    cr_assert_eq(list.n, 1);
    char *ca_path = path_in("ca.pem");
    size_t ca_len = 0;
    uint8_t *ca = th_read_pem_der(ca_path, &ca_len);
    ctca_signed_entry e;
    memset(&e, 0, sizeof e);
    e.type = CTCA_ENTRY_PRECERT;
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    cr_assert_eq(ctca_precert_tbs_from_final(ctca_view_make(cert, cert_len), &tbs, &tbs_len),
                 CTCA_OK);
    e.tbs = ctca_view_make(tbs, tbs_len);
    cr_assert_eq(ctca_cert_issuer_key_hash(ctca_view_make(ca, ca_len), e.issuer_key_hash),
                 CTCA_OK);
    cr_assert_eq(ctca_sct_verify(&list.scts[0], key, &e, verify_now()), CTCA_OK);
    /* the log holds exactly that precert entry */
    cr_assert_eq(get_sth_verified(t, "ec.pem").tree_size, 1);
    hash32 h[1];
    cr_assert_eq(fetch_leaf_hashes(t, 0, 0, h), 1);
    uint8_t want[32];
    cr_assert_eq(ctca_merkle_leaf_hash(&list.scts[0], &e, want), CTCA_OK);
    cr_assert_eq(memcmp(h[0], want, 32), 0);
    /* and `ctca verify` accepts cfssl's certificate */
    char *ctca = th_bin("ctca"), *vout = NULL;
    char *cfssl_cert = path_in("cfssl-cert.pem");
    th_write_file(cfssl_cert, pem, strlen(pem));
    free(cfssl_cert);
    cr_assert_eq(th_run(&vout,
                        "cd '%s' && openssl pkey -in ec.pem -pubout -out ec.pub &&"
                        " '%s' verify cfssl-cert.pem --issuer ca.pem --log-key ec.pub",
                        dir, ctca),
                 0, "ctca verify of cfssl's certificate: %s", vout);
    free(vout);
    free(ctca);
    ctca_sct_list_cleanup(&list);
    free(tbs);
    free(ca);
    free(ca_path);
    free(cert);
    cJSON_Delete(j);
    free(js);
    free(signed_path);
    free(cfg_path);
    ctca_log_key_free(key);
}

Test(testlog, fail_first_answers_503_that_many_times_then_serves)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --fail-first 3", dir);
    for (int i = 0; i < 3; i++) {
        http r = submit(t, i % 2 ? "add-chain" : "add-pre-chain", &c);
        cr_assert_eq(r.status, 503, "submission %d", i);
        free(r.body);
    }
    http r = submit(t, "add-chain", &c);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, huge_body_answers_200_with_a_body_above_any_cap)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain c = selfsigned(k, 1);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --huge-body", dir);
    http r = submit(t, "add-chain", &c);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, (size_t)1024 * 1024);
    free(r.body);
    r = get(t, "/ct/v1/get-sth");
    cr_assert_eq(r.status, 200, "only submissions are affected");
    cr_assert_lt(r.len, 1024);
    free(r.body);
    chain_free(&c);
    EVP_PKEY_free(k);
}

Test(testlog, stats_count_submissions_new_entries_and_duplicates)
{
    ctca_log_key_free(gen_key("ec.pem", false));
    EVP_PKEY *k = EVP_EC_gen("P-256");
    chain a = selfsigned(k, 1), b = selfsigned(k, 2);
    tlog *t = start_log("--listen 127.0.0.1:0 --key %s/ec.pem --fail-first 1", dir);
    http r = submit(t, "add-chain", &a); /* 503 */
    free(r.body);
    for (int i = 0; i < 3; i++) {
        r = submit(t, "add-chain", &a);
        cr_assert_eq(r.status, 200);
        free(r.body);
    }
    r = submit(t, "add-chain", &b);
    free(r.body);
    r = get(t, "/testlog/stats");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"submissions\":5,\"new_entries\":2,\"duplicates\":2}");
    free(r.body);
    chain_free(&a);
    chain_free(&b);
    EVP_PKEY_free(k);
}
