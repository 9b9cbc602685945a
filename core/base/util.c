#define _GNU_SOURCE /* mkostemp */
#include "ctca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctca/asn1.h"

ctca_err ctca_file_read(const char *path, size_t cap, uint8_t **out, size_t *len,
                        ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    uint8_t *buf = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever; it is refused below like any other non-regular file. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: larger than the %zu-byte limit", path, cap);
        goto out;
    }
    size_t n = (size_t)st.st_size, got = 0;
    buf = malloc(n + 1);
    if (buf == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", path,
                                 r < 0 ? strerror(errno) : "shrank while being read");
            goto out;
        }
        got += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* refuse_special: a target that exists and is not a regular file (a device
 * such as /dev/full, a FIFO, a directory, a symbolic link) is refused: the
 * rename would replace the node itself, and a symbolic link would be replaced
 * rather than written through. */
static ctca_err refuse_special(const char *path, ctca_errbuf *eb)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return CTCA_OK;
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode))
        return CTCA_OK;
    const char *what = S_ISLNK(st.st_mode)                        ? "a symbolic link"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISDIR(st.st_mode)                        ? "a directory"
                                                                    : "not a regular file";
    return ctca_errbuf_set(eb, CTCA_ERR_IO,
                           "%s: exists and is %s; ctca replaces only regular files", path, what);
}

/* temp_in_dir: "DIR/.BASE.XXXXXX" beside path, for mkostemp. */
static bool temp_in_dir(const char *path, char *tmp, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path + 1) : 0;
    const char *base = slash != NULL ? slash + 1 : path;
    int n = snprintf(tmp, cap, "%.*s.%s.XXXXXX", dir_len, path, base);
    return base[0] != '\0' && n > 0 && (size_t)n < cap;
}

ctca_err ctca_file_write(const char *path, const void *data, size_t len, unsigned mode,
                         unsigned flags, ctca_errbuf *eb)
{
    char tmp[4096];
    if (!temp_in_dir(path, tmp, sizeof tmp))
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: not a file name, or too long", path);
    CTCA_GUARD(refuse_special(path, eb));
    /* mkostemp creates with O_EXCL: a name planted there (a symbolic link
     * to anything) makes it pick another, never write through it. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: creating a temporary file: %s", path,
                               strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    /* mkostemp makes it 0600; the mode asked for is the mode wanted. */
    if (fchmod(fd, (mode_t)mode) != 0 ||
        ((flags & CTCA_WRITE_NO_FSYNC) == 0 && fsync(fd) != 0))
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    return CTCA_OK;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", path, strerror(saved));
}

ctca_err ctca_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                                ctca_errbuf *eb)
{
    return ctca_file_write(path, data, len, mode, 0, eb);
}

ctca_err ctca_pem_decode(const uint8_t *in, size_t in_len, const char *label, uint8_t **der,
                         size_t *der_len)
{
    if (in_len > CTCA_FILE_MAX)
        return CTCA_ERR_PEM;
    BIO *bio = BIO_new_mem_buf(in, (int)in_len);
    if (bio == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_ERR_PEM;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long n = 0;
        if (PEM_read_bio(bio, &name, &header, &data, &n) != 1)
            break;
        bool match = strcmp(name, label) == 0 && header[0] == '\0';
        if (match) {
            *der = malloc(n > 0 ? (size_t)n : 1);
            if (*der == NULL) {
                rc = CTCA_ERR_NOMEM;
            } else {
                memcpy(*der, data, (size_t)n);
                *der_len = (size_t)n;
                rc = CTCA_OK;
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (match)
            break;
    }
    BIO_free(bio);
    return rc;
}

size_t ctca_pem_count_blocks(const uint8_t *in, size_t in_len)
{
    if (in_len > CTCA_FILE_MAX)
        return 0;
    BIO *bio = BIO_new_mem_buf(in, (int)in_len);
    size_t n = 0;
    for (; bio != NULL;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1)
            break;
        n++;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    BIO_free(bio);
    return n;
}

ctca_err ctca_pem_encode(const uint8_t *der, size_t der_len, const char *label, char **out)
{
    char *b64 = NULL;
    CTCA_GUARD(ctca_base64_encode(der, der_len, &b64));
    size_t b64_len = strlen(b64);
    size_t cap = b64_len + b64_len / 64 + 2 * strlen(label) + 64;
    char *s = malloc(cap);
    if (s == NULL) {
        free(b64);
        return CTCA_ERR_NOMEM;
    }
    size_t pos = (size_t)snprintf(s, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64_len; i += 64) {
        size_t n = b64_len - i < 64 ? b64_len - i : 64;
        memcpy(s + pos, b64 + i, n);
        pos += n;
        s[pos++] = '\n';
    }
    snprintf(s + pos, cap - pos, "-----END %s-----\n", label);
    free(b64);
    *out = s;
    return CTCA_OK;
}

ctca_err ctca_pem_encode_certs(const ctca_view *certs, size_t n, char **out)
{
    char *all = calloc(1, 1);
    size_t total = 0;
    if (all == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char *pem = NULL;
        ctca_err rc = ctca_pem_encode(certs[i].data, certs[i].len, "CERTIFICATE", &pem);
        size_t k = rc == CTCA_OK ? strlen(pem) : 0;
        char *grown = rc == CTCA_OK ? realloc(all, total + k + 1) : NULL;
        if (grown == NULL) {
            free(pem);
            free(all);
            return rc != CTCA_OK ? rc : CTCA_ERR_NOMEM;
        }
        all = grown;
        memcpy(all + total, pem, k + 1);
        total += k;
        free(pem);
    }
    *out = all;
    return CTCA_OK;
}

static bool is_single_der_sequence(const uint8_t *p, size_t n)
{
    ctca_view v = ctca_view_make(p, n), contents;
    return ctca_der_get(&v, CTCA_DER_SEQUENCE, &contents) == CTCA_OK && v.len == 0;
}

ctca_err ctca_der_or_pem_load(const char *path, const char *label, uint8_t **der,
                              size_t *der_len, ctca_errbuf *eb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_file_read(path, CTCA_FILE_MAX, &buf, &len, eb));
    ctca_err rc;
    if (len > 0 && buf[0] == 0x30) {
        if (is_single_der_sequence(buf, len)) {
            *der = buf;
            *der_len = len;
            return CTCA_OK;
        }
        rc = ctca_errbuf_set(eb, CTCA_ERR_CERT_MALFORMED,
                             "%s: not a well-formed DER structure (truncated or trailing bytes)",
                             path);
    } else {
        rc = ctca_pem_decode(buf, len, label, der, der_len);
        if (rc == CTCA_ERR_PEM)
            ctca_errbuf_set(eb, rc, "%s: no PEM block labelled \"%s\"", path, label);
    }
    free(buf);
    return rc;
}

static bool take_digits(const char **s, int n, int *out)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *s += n;
    *out = x;
    return true;
}

static bool take_char(const char **s, const char *set)
{
    if (**s == '\0' || strchr(set, **s) == NULL)
        return false;
    (*s)++;
    return true;
}

ctca_err ctca_time_parse_rfc3339(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, se, frac = 0;
    if (!take_digits(&s, 4, &y) || !take_char(&s, "-") || !take_digits(&s, 2, &mo) ||
        !take_char(&s, "-") || !take_digits(&s, 2, &d) || !take_char(&s, "Tt ") ||
        !take_digits(&s, 2, &h) || !take_char(&s, ":") || !take_digits(&s, 2, &mi) ||
        !take_char(&s, ":") || !take_digits(&s, 2, &se))
        return CTCA_ERR_USAGE;
    if (*s == '.') {
        s++;
        int scale = 100, ndig = 0;
        while (*s >= '0' && *s <= '9') {
            frac += (*s - '0') * scale;
            scale /= 10;
            s++;
            ndig++;
        }
        if (ndig == 0)
            return CTCA_ERR_USAGE;
    }
    int offset_min = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om;
        s++;
        if (!take_digits(&s, 2, &oh) || !take_char(&s, ":") || !take_digits(&s, 2, &om) ||
            oh > 23 || om > 59)
            return CTCA_ERR_USAGE;
        offset_min = sign * (oh * 60 + om);
    } else {
        return CTCA_ERR_USAGE;
    }
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > ctca_days_in_month(y, (unsigned)mo) ||
        h > 23 || mi > 59 || se > 60)
        return CTCA_ERR_USAGE;
    if (se == 60) /* a leap second counts as the last second of its minute */
        se = 59;
    int64_t secs = ctca_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                   mi * 60 + se - offset_min * 60;
    *ms = secs * 1000 + frac;
    return CTCA_OK;
}

void ctca_time_format_rfc3339(int64_t ms, char *buf, size_t buf_len)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t rem_ms = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int y;
    unsigned m, d;
    ctca_civil_from_days(days, &y, &m, &d);
    snprintf(buf, buf_len, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), (int)rem_ms);
}

int64_t ctca_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
