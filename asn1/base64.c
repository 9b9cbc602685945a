/* Strict RFC 4648 base64. OpenSSL's EVP_DecodeBlock accepts whitespace and
 * non-canonical padding bits, and log IDs and keys from log lists must compare
 * byte for byte, so decoding is done here. Encoding uses OpenSSL. */
#include "ctca/asn1.h"

#include <openssl/evp.h>
#include <stdlib.h>

ctca_err ctca_base64_encode(const uint8_t *p, size_t n, char **out)
{
    if (n > (size_t)INT32_MAX / 4 * 3 - 3)
        return CTCA_ERR_VALUE_RANGE;
    size_t cap = (n + 2) / 3 * 4 + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return CTCA_ERR_NOMEM;
    EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    *out = s;
    return CTCA_OK;
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ctca_err ctca_base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len)
{
    if (n % 4 != 0)
        return CTCA_ERR_BASE64;
    size_t pad = 0;
    if (n > 0 && s[n - 1] == '=')
        pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
    size_t len = n / 4 * 3 - pad;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return CTCA_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4];
        for (int k = 0; k < 4; k++) {
            bool is_pad = last && (size_t)k >= 4 - pad;
            v[k] = is_pad ? (s[i + k] == '=' ? 0 : -1) : sextet(s[i + k]);
            if (v[k] < 0)
                goto bad;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        /* Canonical form: the bits under the padding are zero. */
        if ((last && pad == 1 && (w & 0xff)) || (last && pad == 2 && (w & 0xffff)))
            goto bad;
        uint8_t bytes[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        size_t take = last ? 3 - pad : 3;
        for (size_t k = 0; k < take; k++)
            buf[o++] = bytes[k];
    }
    *out = buf;
    *out_len = len;
    return CTCA_OK;
bad:
    free(buf);
    return CTCA_ERR_BASE64;
}
