/* Profile rules for requested names: SAN syntax (RFC 5280 4.2.1.6, CA/B BR
 * 7.1.2.7.12), allowed SAN types, and the subject a profile can form. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/ca/ca_int.h"

static bool is_alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* check_labels: LDH labels separated by dots; *last_numeric when the last label
 * is all digits. */
static const char *check_labels(const uint8_t *s, size_t len, bool *last_numeric)
{
    size_t start = 0;
    *last_numeric = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-')
                return s[i] == '*' ? "a wildcard is only allowed as the whole leftmost label"
                                   : "a label holds a character other than letters, digits and '-'";
            continue;
        }
        size_t n = i - start;
        if (n == 0)
            return i == len ? "the name ends with a dot or is empty" : "the name has an empty label";
        if (n > 63)
            return "a label is longer than 63 octets";
        if (s[start] == '-' || s[i - 1] == '-')
            return "a label starts or ends with '-'";
        bool digits = true;
        for (size_t k = start; k < i; k++)
            digits = digits && s[k] >= '0' && s[k] <= '9';
        *last_numeric = digits;
        start = i + 1;
    }
    return NULL;
}

const char *ctca_dns_name_check(const uint8_t *name, size_t len)
{
    if (len == 0)
        return "the name is empty";
    if (len > 253)
        return "the name is longer than 253 octets";
    const uint8_t *s = name;
    size_t n = len;
    bool wildcard = len >= 2 && name[0] == '*' && name[1] == '.';
    if (wildcard) {
        s += 2;
        n -= 2;
    }
    bool last_numeric = false;
    const char *why = check_labels(s, n, &last_numeric);
    if (why != NULL)
        return why;
    if (last_numeric)
        return "the last label is numeric (an IP address belongs in an IP SAN)";
    if (wildcard && memchr(s, '.', n) == NULL)
        return "a wildcard must be followed by at least two labels";
    return NULL;
}

const char *ctca_email_check(const uint8_t *s, size_t len)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    if (len > 254)
        return "the address is longer than 254 octets";
    const uint8_t *at = memchr(s, '@', len);
    if (at == NULL)
        return "the address has no '@'";
    size_t local = (size_t)(at - s);
    if (local == 0 || local > 64)
        return "the local part is empty or longer than 64 octets";
    /* RFC 5321 dot-atom: no quoted local parts, no leading, trailing or double dots. */
    for (size_t i = 0; i < local; i++) {
        uint8_t c = s[i];
        if (c == '.') {
            if (i == 0 || i + 1 == local || s[i + 1] == '.')
                return "the local part has a misplaced dot";
        } else if (!is_alnum(c) && (c == 0 || strchr(atext, c) == NULL)) {
            return "the local part holds a character RFC 5321 does not allow unquoted";
        }
    }
    bool last_numeric = false;
    const char *why = check_labels(at + 1, len - local - 1, &last_numeric);
    if (why != NULL)
        return why;
    return last_numeric ? "the domain's last label is numeric" : NULL;
}

const char *ctca_uri_check(const uint8_t *s, size_t len)
{
    if (len > 1024)
        return "the URI is longer than 1024 octets";
    size_t i = 0;
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return "the URI does not start with a scheme";
    while (i < len && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == len || s[i] != ':' || i + 1 == len)
        return "the URI has no scheme or nothing after it (RFC 5280 requires an absolute URI)";
    for (; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("<>\"\\{}|^`", s[i]) != NULL)
            return "the URI holds a character RFC 3986 does not allow";
    return NULL;
}

void ctca_san_describe(const ctca_san *san, char *buf, size_t buf_len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    switch (san->type) {
    case CTCA_SAN_DNS:
        snprintf(buf, buf_len, "DNS:%.*s", (int)san->len, (const char *)san->value);
        break;
    case CTCA_SAN_EMAIL:
        snprintf(buf, buf_len, "email:%.*s", (int)san->len, (const char *)san->value);
        break;
    case CTCA_SAN_URI:
        snprintf(buf, buf_len, "URI:%.*s", (int)san->len, (const char *)san->value);
        break;
    default:
        inet_ntop(san->len == 4 ? AF_INET : AF_INET6, san->value, ip, sizeof ip);
        snprintf(buf, buf_len, "IP:%s", ip);
        break;
    }
    /* A SAN may hold bytes a terminal should not see. */
    for (char *p = buf; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
}

static const char *san_type_name(unsigned type)
{
    switch (type) {
    case CTCA_SAN_DNS:
        return "dns";
    case CTCA_SAN_IP:
        return "ip";
    case CTCA_SAN_EMAIL:
        return "email";
    default:
        return "uri";
    }
}

static void allowed_list(unsigned mask, char *buf, size_t buf_len)
{
    buf[0] = '\0';
    for (unsigned t = CTCA_SAN_DNS; t <= CTCA_SAN_URI; t <<= 1) {
        if (mask & t) {
            size_t n = strlen(buf);
            snprintf(buf + n, buf_len - n, "%s%s", n ? ", " : "", san_type_name(t));
        }
    }
}

static bool san_equal(const ctca_san *a, const ctca_san *b)
{
    if (a->type != b->type || a->len != b->len)
        return false;
    if (a->type == CTCA_SAN_DNS) /* DNS names compare case-insensitively */
        return strncasecmp((const char *)a->value, (const char *)b->value, a->len) == 0;
    return memcmp(a->value, b->value, a->len) == 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

ctca_err ctca_csr_check_profile(const ctca_csr *csr, const ctca_profile *profile,
                                ctca_errbuf *eb)
{
    char what[300], allowed[64];
    if (csr->san_count == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                               "the CSR requests no subjectAltName; profile %s requires at "
                               "least one",
                               profile->name);
    for (size_t i = 0; i < csr->san_count; i++) {
        const ctca_san *san = &csr->sans[i];
        ctca_san_describe(san, what, sizeof what);
        if ((profile->allowed_san_types & san->type) == 0) {
            allowed_list(profile->allowed_san_types, allowed, sizeof allowed);
            return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                                   "SAN %s: type %s is not allowed by profile %s (allowed: %s)",
                                   what, san_type_name(san->type), profile->name, allowed);
        }
        const char *why = NULL;
        if (san->type == CTCA_SAN_DNS)
            why = ctca_dns_name_check(san->value, san->len);
        else if (san->type == CTCA_SAN_EMAIL)
            why = ctca_email_check(san->value, san->len);
        else if (san->type == CTCA_SAN_URI)
            why = ctca_uri_check(san->value, san->len);
        if (why != NULL)
            return ctca_errbuf_set(eb, CTCA_ERR_PROFILE, "SAN %s: malformed %s name: %s", what,
                                   san_type_name(san->type), why);
        for (size_t k = 0; k < i; k++)
            if (san_equal(&csr->sans[k], san))
                return ctca_errbuf_set(eb, CTCA_ERR_PROFILE, "SAN %s: requested twice", what);
    }
    if (profile->subject == CTCA_SUBJECT_CN_FROM_CSR && csr->cn != NULL) {
        if (csr->cn_multiple)
            return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                                   "the CSR's subject holds more than one commonName");
        size_t n = utf8_chars(csr->cn);
        if (n == 0 || n > 64)
            return ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                                   "the CSR's commonName has %zu characters (1..64 allowed)", n);
    }
    return CTCA_OK;
}
