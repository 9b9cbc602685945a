#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

char *th_upstream(const char *rel)
{
    return join(CTCA_SHARED_DIR "/vectors/upstream", rel);
}

char *th_bin(const char *name)
{
    return join(CTCA_BINARY_DIR, name);
}

uint8_t *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

uint8_t *th_read_pem_der(const char *path, size_t *len)
{
    BIO *bio = BIO_new_file(path, "r");
    cr_assert_not_null(bio, "cannot open %s", path);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long n = 0;
    cr_assert(PEM_read_bio(bio, &name, &header, &data, &n) == 1, "no PEM in %s", path);
    BIO_free(bio);
    OPENSSL_free(name);
    OPENSSL_free(header);
    uint8_t *out = malloc((size_t)n ? (size_t)n : 1);
    cr_assert_not_null(out);
    memcpy(out, data, (size_t)n);
    OPENSSL_free(data);
    *len = (size_t)n;
    return out;
}

void th_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

int th_run(char **output, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd - 8, fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && (size_t)n < sizeof cmd - 8, "command too long");
    strcat(cmd, " 2>&1");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen failed");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

char *th_tmpdir(void)
{
    char tmpl[] = "/tmp/ctca-test-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

void th_rmdir(const char *path)
{
    if (path != NULL && strncmp(path, "/tmp/ctca-test-", 15) == 0)
        cr_expect_eq(th_run(NULL, "rm -rf '%s'", path), 0);
}
