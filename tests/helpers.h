/* Shared test helpers: reading files, locating vectors and built binaries,
 * running commands. Tests may include internal headers; these helpers do not. */
#ifndef CTCA_TESTS_HELPERS_H
#define CTCA_TESTS_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Path of a file under ../shared/vectors/upstream/ (static buffer per call site
 * is not kept: the result is malloc'd, caller frees). */
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
/* th_log_list_write: writes a v3 log list of logs (grouped by operator) to path;
 * RFC 9162 logs in ctca's extended format (ct_version, log_id_oid). */
void th_log_list_write(const char *path, th_testlog *logs, size_t n);

#endif
