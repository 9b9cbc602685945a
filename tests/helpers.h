/* Shared test helpers: reading files, locating vectors and built binaries,
 * running commands. Tests may include internal headers; these helpers do not. */
#ifndef CTCA_TESTS_HELPERS_H
#define CTCA_TESTS_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Path of a file under tests/data/upstream/ (the upstream CT vectors, see its
 * README.md); malloc'd, caller frees. */
char *th_upstream(const char *rel);
/* Path of a built binary, e.g. th_bin("ctca"); malloc'd. */
char *th_bin(const char *name);
/* Reads a whole file; aborts the test on failure. *len gets its size. Caller frees. */
uint8_t *th_read_file(const char *path, size_t *len);
/* Reads a PEM certificate/key file's first block as DER; aborts on failure. */
uint8_t *th_read_pem_der(const char *path, size_t *len);
/* Writes len bytes to path; aborts on failure. */
void th_write_file(const char *path, const void *data, size_t len);
/* Runs a shell command, capturing stdout+stderr into *output (malloc'd, may be
 * NULL when not wanted); returns the exit status (or 128+signal). */
int th_run(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A fresh temporary directory (malloc'd path), removed by th_rmdir. */
char *th_tmpdir(void);
void th_rmdir(const char *path);

/* TH_NEED_FAILPOINTS(): skips the calling test unless the build has the
 * crash tests' pause points (-DCTCA_FAILPOINTS=ON, as scripts/test.sh
 * builds); the binaries of any other build never pause. */
#ifdef CTCA_FAILPOINTS
#define TH_NEED_FAILPOINTS() ((void)0)
#else
#define TH_NEED_FAILPOINTS() cr_skip_test("needs a build with -DCTCA_FAILPOINTS=ON")
#endif

/* A running ctca-testlog process. */
typedef struct th_testlog {
    int pid;
    char name[64];
    char url[128];      /* "http://127.0.0.1:PORT/" */
    char key[512];      /* its private key file */
    char pub[512];      /* its public key file */
    char operator_name[64];
    int ct_version;     /* 2 when started with --ct-version 2 */
} th_testlog;

/* th_testlog_start: generates a P-256 key in dir and starts ctca-testlog on a
 * free loopback port accepting roots (PEM file), with extra_args (may be "");
 * aborts the test when it does not come up. */
void th_testlog_start(th_testlog *t, const char *dir, const char *name, const char *operator_name,
                      const char *roots, const char *extra_args);
/* th_testlog_stop: SIGTERM and reap; safe on a stopped log. */
void th_testlog_stop(th_testlog *t);
/* th_log_list_write: writes a v3 log list of logs (grouped by operator) to path,
 * its log_list_timestamp timestamp_ms (ms since the epoch); RFC 9162 logs in
 * ctca's extended format (ct_version, log_id_oid). */
void th_log_list_write(const char *path, th_testlog *logs, size_t n, int64_t timestamp_ms);

/* The end-to-end setup: a CA made by `ctca init` in a fresh temporary
 * directory, a CSR, real ctca-testlog logs and a log list naming them.
 * Start from a zeroed th_ca; th_ca_cleanup undoes all of it. */
#define TH_CA_MAX_LOGS 16
typedef struct th_ca {
    char *dir;          /* the temporary directory */
    char *ctca;         /* the ctca binary */
    char ca_dir[300];   /* dir/ca */
    char roots[320];    /* what the logs accept: dir/ca/ca.pem unless the test points it
                         * elsewhere before starting them */
    char log_list[320]; /* dir/log_list.json */
    char csr[320];      /* dir/site.csr, once th_ca_csr made it */
    th_testlog logs[TH_CA_MAX_LOGS];
    size_t n_logs;
} th_ca;

/* th_ca_init: the directory and paths, then `ctca init ca_dir init_args`;
 * init_args NULL: no ctca init (the test makes or imports its CA itself). */
void th_ca_init(th_ca *c, const char *init_args);
/* th_ca_csr: c->csr for CN www.example.com and subjectAltName san
 * ("DNS:www.example.com"), its P-256 key in dir/site.key. */
void th_ca_csr(th_ca *c, const char *san);
/* th_ca_start_logs: n more logs accepting c->roots, specs[i] "OPERATOR:NAME"
 * with the flags extra[i] (extra NULL: none), then c->log_list rewritten
 * over all of c's logs, dated now. */
void th_ca_start_logs(th_ca *c, size_t n, const char *const *specs, const char *const *extra);
/* th_ca_log_restart: starts t (one of c's logs, stopped) again on its port
 * with its key, accepting c->roots, with the flags extra. */
void th_ca_log_restart(const th_ca *c, th_testlog *t, const char *extra);
/* th_ca_stop_logs: stops c's logs and forgets them. */
void th_ca_stop_logs(th_ca *c);
/* th_ca_config_set: sets section.key (section "": the top level) of the CA's
 * ctca.json to the JSON text value; value NULL removes the key. */
void th_ca_config_set(const th_ca *c, const char *section, const char *key, const char *value);
/* th_ca_ctlog_cnf: writes path, an OpenSSL CT log list (CTLOG_STORE_load_file)
 * enabling c's logs. */
void th_ca_ctlog_cnf(const th_ca *c, const char *path);
/* th_ca_openssl_ct_check: OpenSSL's own CT validation: s_server serves cert
 * (PEM; its key dir/site.key), with the serverinfo file's TLS extensions when
 * not NULL, and s_client -ct must find its SCTs (embedded or from the TLS
 * extension) valid against c's logs: every SCT OpenSSL reports, and at least
 * two. */
void th_ca_openssl_ct_check(const th_ca *c, const char *cert, const char *serverinfo);
/* th_ca_cleanup: stops the logs, removes the directory and frees; c is left
 * zeroed. Safe on a zeroed or half-made th_ca. */
void th_ca_cleanup(th_ca *c);

#endif
