/* The CA directory: creating it (ctca init) and opening it, the self-signed
 * root, and subject strings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ca/ca_int.h"
#include "core/ct/cms_int.h"
#include "ctca/loglist.h"
#include "ctca/store.h"
#include "ctca/util.h"

#define ROOT_DEFAULT_DAYS 3650
#define ROOT_MAX_DAYS 9132 /* CA/B BR 6.3.2: 25 years */
#define ROOT_DEFAULT_SUBJECT "CN=ctca Root CA"
#define NAME_MAX_RDNS 16

static const uint8_t oid_bc[] = {0x55, 0x1d, 0x13};

/* ---- small helpers ------------------------------------------------------------ */

/* join: dir/name, or name itself when absolute; malloc'd. */
static char *join(const char *dir, const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* check_ca_cert: cert (DER) is a v3 CA:TRUE certificate allowed to sign
 * certificates, whose key is key's public half, of a type ctca signs with. */
static ctca_err check_ca_cert(ctca_view cert, EVP_PKEY *key, const char *path, ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    const unsigned char *p = cert.data;
    X509 *x = d2i_X509(NULL, &p, (long)cert.len);
    if (x == NULL || p != cert.data + cert.len) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CERT_MALFORMED, "%s: not a certificate", path);
        goto out;
    }
    uint32_t flags = X509_get_extension_flags(x);
    if ((flags & EXFLAG_INVALID) != 0 || X509_get_version(x) != X509_VERSION_3 ||
        (flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "%s: not a CA certificate (a v3 certificate with basicConstraints "
                             "CA:TRUE is required)",
                             path);
        goto out;
    }
    if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: its keyUsage lacks keyCertSign", path);
        goto out;
    }
    uint8_t alg[32];
    size_t alg_len;
    const EVP_MD *md;
    if (ctca_key_sig_alg(key, alg, &alg_len, &md) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_KEY_UNSUPPORTED,
                             "%s: the CA key must be RSA 2048..8192, ECDSA P-256 or P-384", path);
        goto out;
    }
    if (X509_get0_pubkey(x) == NULL || EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "%s: the certificate's public key does not match the CA key", path);
        goto out;
    }
out:
    X509_free(x);
    return rc;
}

/* ---- the certificate chain in ca.pem ------------------------------------------------ */

void ctca_ca_chain_cleanup(ctca_ca_chain *chain)
{
    for (size_t i = 0; i < chain->n; i++)
        free(chain->der[i]);
    memset(chain, 0, sizeof *chain);
}

static ctca_err chain_add(ctca_ca_chain *chain, const uint8_t *der, size_t len, const char *path,
                          ctca_errbuf *eb)
{
    if (chain->n == CTCA_CA_MAX_CHAIN)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: more than %d certificates", path,
                               CTCA_CA_MAX_CHAIN);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return CTCA_ERR_NOMEM;
    memcpy(copy, der, len);
    chain->der[chain->n] = copy;
    chain->len[chain->n++] = len;
    return CTCA_OK;
}

/* chain_read_pem: every PEM block of buf, each of which must be a CERTIFICATE.
 * PEM_read_bio skips text outside blocks and reports the end of the input as
 * PEM_R_NO_START_LINE; any other failure is a malformed block. */
static ctca_err chain_read_pem(const uint8_t *buf, size_t len, const char *path,
                               ctca_ca_chain *chain, ctca_errbuf *eb)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_OK;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long n = 0;
    ERR_clear_error();
    while (rc == CTCA_OK) {
        if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: PEM block %zu is malformed", path,
                                     chain->n + 1);
            break;
        }
        if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0')
            rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                                 "%s: PEM block %zu is \"%s\", not a plain CERTIFICATE; the file "
                                 "holds the CA certificate and its issuers only",
                                 path, chain->n + 1, name);
        else
            rc = chain_add(chain, data, (size_t)n, path, eb);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = header = NULL;
        data = NULL;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (rc == CTCA_OK && chain->n == 0)
        rc = ctca_errbuf_set(eb, CTCA_ERR_PEM, "%s: no PEM block labelled \"CERTIFICATE\"", path);
    return rc;
}

static X509 *parse_x509(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* check_issuer: certificate i of chain issued certificate i - 1 (its subject
 * is that one's issuer name and its key verifies that one's signature) and
 * is a CA certificate. */
static ctca_err check_issuer(const ctca_ca_chain *chain, size_t i, const char *path,
                             ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    X509 *child = parse_x509(chain->der[i - 1], chain->len[i - 1]);
    X509 *x = parse_x509(chain->der[i], chain->len[i]);
    if (child == NULL || x == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: certificate %zu is not a DER certificate",
                             path, child == NULL ? i : i + 1);
        goto out;
    }
    if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(child)) != 0) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "%s: certificate %zu is not the issuer of certificate %zu (its "
                             "subject is not that one's issuer name); list the CA certificate "
                             "first, then each issuer in turn",
                             path, i + 1, i);
        goto out;
    }
    EVP_PKEY *pub = X509_get0_pubkey(x);
    if (pub == NULL || X509_verify(child, pub) != 1) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "%s: certificate %zu's key does not verify certificate %zu's "
                             "signature",
                             path, i + 1, i);
        goto out;
    }
    if (X509_check_ca(x) == 0)
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: certificate %zu is not a CA certificate",
                             path, i + 1);
out:
    ERR_clear_error();
    X509_free(child);
    X509_free(x);
    return rc;
}

ctca_err ctca_ca_chain_load(const char *path, EVP_PKEY *key, ctca_ca_chain *chain,
                            ctca_errbuf *eb)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CTCA_GUARD(ctca_file_read(path, CTCA_FILE_MAX, &buf, &len, eb));
    ctca_err rc;
    if (len > 0 && buf[0] == 0x30) /* DER: one certificate, no trailing bytes */
        rc = chain_add(chain, buf, len, path, eb);
    else
        rc = chain_read_pem(buf, len, path, chain, eb);
    if (rc != CTCA_OK)
        goto out;
    if ((rc = check_ca_cert(ctca_view_make(chain->der[0], chain->len[0]), key, path, eb)) !=
        CTCA_OK)
        goto out;
    for (size_t i = 1; i < chain->n && rc == CTCA_OK; i++)
        rc = check_issuer(chain, i, path, eb);
out:
    free(buf);
    return rc;
}

ctca_err ctca_ca_chain_to_pem(const ctca_ca_chain *chain, char **out)
{
    ctca_view certs[CTCA_CA_MAX_CHAIN];
    for (size_t i = 0; i < chain->n; i++)
        certs[i] = ctca_view_make(chain->der[i], chain->len[i]);
    return ctca_pem_encode_certs(certs, chain->n, out);
}

/* ---- subject strings ------------------------------------------------------------ */

static const struct {
    const char *name;
    uint8_t oid[3];
    size_t max;
} attr_types[] = {
    {"CN", {0x55, 0x04, 0x03}, 64},  {"O", {0x55, 0x04, 0x0a}, 64},
    {"OU", {0x55, 0x04, 0x0b}, 64},  {"C", {0x55, 0x04, 0x06}, 2},
    {"L", {0x55, 0x04, 0x07}, 128},  {"ST", {0x55, 0x04, 0x08}, 128},
};

typedef struct rdn {
    size_t type;
    char value[257];
    size_t len;
} rdn;

static ctca_err parse_rdn(const char **sp, rdn *r, ctca_errbuf *eb)
{
    const char *s = *sp;
    while (*s == ' ')
        s++;
    const char *eq = strchr(s, '=');
    if (eq == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "subject: \"%s\" lacks '='", s);
    size_t tlen = (size_t)(eq - s), i;
    for (i = 0; i < sizeof attr_types / sizeof attr_types[0]; i++)
        if (strlen(attr_types[i].name) == tlen && strncasecmp(s, attr_types[i].name, tlen) == 0)
            break;
    if (i == sizeof attr_types / sizeof attr_types[0])
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                               "subject: unsupported attribute \"%.*s\" (CN, O, OU, C, L, ST)",
                               (int)tlen, s);
    r->type = i;
    r->len = 0;
    size_t chars = 0;
    for (s = eq + 1; *s != '\0' && *s != ','; s++) {
        if (*s == '+')
            return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                                   "subject: multi-valued RDNs ('+') are not supported");
        if (*s == '\\' && s[1] != '\0')
            s++;
        if ((unsigned char)*s < 0x20 || *s == 0x7f || r->len + 1 >= sizeof r->value)
            return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "subject: %s value is invalid or too long",
                                   attr_types[i].name);
        chars += ((unsigned char)*s & 0xc0) != 0x80;
        r->value[r->len++] = *s;
    }
    r->value[r->len] = '\0';
    if (chars == 0 || chars > attr_types[i].max)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "subject: %s must have 1..%zu characters",
                               attr_types[i].name, attr_types[i].max);
    if (attr_types[i].max == 2 &&
        !(r->value[0] >= 'A' && r->value[0] <= 'Z' && r->value[1] >= 'A' && r->value[1] <= 'Z'))
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                               "subject: C must be a two-letter upper-case country code");
    *sp = s;
    return CTCA_OK;
}

ctca_err ctca_name_from_string(const char *s, uint8_t **out, size_t *out_len, ctca_errbuf *eb)
{
    rdn rdns[NAME_MAX_RDNS];
    size_t n = 0;
    for (;;) {
        if (n == NAME_MAX_RDNS)
            return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "subject: more than %d attributes",
                                   NAME_MAX_RDNS);
        CTCA_GUARD(parse_rdn(&s, &rdns[n++], eb));
        if (*s == '\0')
            break;
        s++; /* ',' */
    }
    ctca_builder b;
    ctca_builder_init(&b, 8192);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    /* RFC 4514 2.1: the string lists the RDNs from the last to the first. */
    for (size_t i = n; i-- > 0;) {
        const rdn *r = &rdns[i];
        ctca_builder_open_der(&b, CTCA_DER_SET);
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(&b, attr_types[r->type].oid, 3);
        /* RFC 5280 4.1.2.4: countryName is a PrintableString; others UTF8String. */
        ctca_builder_add_der(&b,
                             attr_types[r->type].max == 2 ? CTCA_DER_PRINTABLE_STRING
                                                          : CTCA_DER_UTF8_STRING,
                             (const uint8_t *)r->value, r->len);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    ctca_err rc = ctca_builder_finish(&b, out, out_len);
    ctca_builder_cleanup(&b);
    return rc;
}

/* ---- the root ------------------------------------------------------------------- */

ctca_err ctca_ca_build_root(const ctca_signer *signer, ctca_view subject, const uint8_t *serial,
                            size_t serial_len, int64_t now, unsigned days, uint8_t **cert,
                            size_t *cert_len)
{
    uint8_t ski[20], *spki = NULL, *tbs = NULL;
    size_t spki_len = 0, tbs_len = 0;
    ctca_view alg = ctca_signer_get0_alg(signer);
    ctca_builder b;
    ctca_builder_init(&b, 64 * 1024);
    ctca_err rc = ctca_key_spki(ctca_signer_get0_public(signer), &spki, &spki_len);
    if (rc != CTCA_OK || (rc = ctca_key_id(ctca_view_make(spki, spki_len), ski)) != CTCA_OK)
        goto out;
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_add_der_u64(&b, 2);
    ctca_builder_close(&b);
    ctca_builder_add_der_uint_bytes(&b, serial, serial_len);
    ctca_builder_add_view(&b, alg);
    ctca_builder_add_view(&b, subject);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_time(&b, now);
    ctca_builder_add_der_time(&b, now + (int64_t)days * 86400 - 1);
    ctca_builder_close(&b);
    ctca_builder_add_view(&b, subject);
    ctca_builder_add_bytes(&b, spki, spki_len);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    /* basicConstraints CA:TRUE, critical, no path length constraint */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, oid_bc, sizeof oid_bc);
    ctca_builder_add_der_bool(&b, true);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_bool(&b, true);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_tbs_add_key_usage(&b, 1u << 5 | 1u << 6); /* keyCertSign, cRLSign */
    ctca_tbs_add_ski(&b, ski);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    if ((rc = ctca_builder_finish(&b, &tbs, &tbs_len)) != CTCA_OK)
        goto out;
    rc = ctca_signer_sign_tbs(signer, ctca_view_make(tbs, tbs_len), cert, cert_len);
out:
    ctca_builder_cleanup(&b);
    free(spki);
    free(tbs);
    return rc;
}

/* ---- ctca init ------------------------------------------------------------------- */

ctca_err ctca_key_type_parse(const char *s, ctca_key_type *out)
{
    static const struct {
        const char *name;
        ctca_key_type type;
    } types[] = {{"ec-p256", CTCA_KEY_EC_P256},
                 {"ec-p384", CTCA_KEY_EC_P384},
                 {"rsa-2048", CTCA_KEY_RSA_2048},
                 {"rsa-3072", CTCA_KEY_RSA_3072}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return CTCA_OK;
        }
    }
    return CTCA_ERR_USAGE;
}

static EVP_PKEY *generate_key(ctca_key_type type)
{
    switch (type) {
    case CTCA_KEY_EC_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case CTCA_KEY_EC_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case CTCA_KEY_RSA_2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case CTCA_KEY_RSA_3072:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    }
    return NULL;
}

/* prepare_dir: dir must not exist (it is created 0700) or be an empty directory. */
static ctca_err prepare_dir(const char *dir, bool *created, ctca_errbuf *eb)
{
    *created = false;
    if (mkdir(dir, 0700) == 0) {
        *created = true;
        return CTCA_OK;
    }
    if (errno != EEXIST)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (d == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return ctca_errbuf_set(eb, CTCA_ERR_IO,
                               "%s exists and is not empty; ctca init needs a new or empty "
                               "directory",
                               dir);
    return CTCA_OK;
}

static ctca_err write_key(const char *path, EVP_PKEY *key, ctca_errbuf *eb)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_OK;
    char *data = NULL;
    /* PEM_write_bio_PrivateKey writes PKCS#8 ("PRIVATE KEY"). */
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = CTCA_ERR_CRYPTO;
    } else {
        long n = BIO_get_mem_data(bio, &data);
        rc = ctca_file_write_atomic(path, data, (size_t)n, 0600, eb);
    }
    BIO_free(bio);
    return rc;
}

static ctca_err import_ca(const ctca_init_params *pp, EVP_PKEY **key, ctca_ca_chain *chain,
                          ctca_errbuf *eb)
{
    CTCA_GUARD(ctca_key_file_load(pp->import_key, false, key, eb));
    return ctca_ca_chain_load(pp->import_cert, *key, chain, eb);
}

static ctca_err new_root(const ctca_init_params *pp, EVP_PKEY **key, ctca_ca_chain *chain,
                         ctca_errbuf *eb)
{
    uint8_t *name = NULL, serial[CTCA_SERIAL_LEN];
    size_t name_len = 0;
    ctca_signer *signer = NULL;
    unsigned days = pp->validity_days != 0 ? pp->validity_days : ROOT_DEFAULT_DAYS;
    if (days > ROOT_MAX_DAYS)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "--validity-days must be 1..%d", ROOT_MAX_DAYS);
    if (pp->key_type > CTCA_KEY_RSA_3072)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "unknown key type");
    CTCA_GUARD(ctca_name_from_string(pp->subject != NULL ? pp->subject : ROOT_DEFAULT_SUBJECT,
                                     &name, &name_len, eb));
    ctca_err rc = ctca_serial_generate(pp->rand, pp->rand_ctx, serial);
    if (rc != CTCA_OK)
        goto out;
    *key = generate_key(pp->key_type);
    if (*key == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CRYPTO, "generating the CA key failed");
        goto out;
    }
    if ((rc = ctca_signer_from_key(*key, &signer)) != CTCA_OK)
        goto out;
    rc = ctca_ca_build_root(signer, ctca_view_make(name, name_len), serial, sizeof serial, pp->now,
                            days, &chain->der[0], &chain->len[0]);
    if (rc == CTCA_OK)
        chain->n = 1;
out:
    ctca_signer_free(signer);
    free(name);
    return rc;
}

enum { F_KEY, F_CERT, F_PRECA_KEY, F_PRECA_CERT, F_CONFIG, F_STORE, F_COUNT };

/* new_preca: ctca init --preca: the PreCA's key and certificate, written
 * before the config that names them. */
static ctca_err new_preca(const ctca_init_params *pp, EVP_PKEY *ca_key, const ctca_ca_chain *chain,
                          char *const *paths, bool *written, ctca_errbuf *eb)
{
    EVP_PKEY *key = NULL;
    ctca_signer *ca_signer = NULL;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    char *pem = NULL;
    ctca_err rc = ctca_signer_from_key(ca_key, &ca_signer);
    if (rc != CTCA_OK ||
        (rc = ctca_preca_make(ca_signer, ctca_view_make(chain->der[0], chain->len[0]), pp->now,
                              pp->rand, pp->rand_ctx, &key, &cert, &cert_len, eb)) != CTCA_OK)
        goto out;
    if ((rc = write_key(paths[F_PRECA_KEY], key, eb)) != CTCA_OK)
        goto out;
    written[F_PRECA_KEY] = true;
    if ((rc = ctca_pem_encode(cert, cert_len, "CERTIFICATE", &pem)) != CTCA_OK ||
        (rc = ctca_file_write_atomic(paths[F_PRECA_CERT], pem, strlen(pem), 0644, eb)) != CTCA_OK)
        goto out;
    written[F_PRECA_CERT] = true;
out:
    ctca_signer_free(ca_signer);
    EVP_PKEY_free(key);
    free(cert);
    free(pem);
    return rc;
}

ctca_err ctca_ca_init(const ctca_init_params *pp, ctca_errbuf *eb)
{
    static const char *const names[F_COUNT] = {CTCA_CA_KEY_FILE,       CTCA_CA_CERT_FILE,
                                               CTCA_CA_PRECA_KEY_FILE, CTCA_CA_PRECA_CERT_FILE,
                                               CTCA_CA_CONFIG_FILE,    CTCA_CA_STORE_FILE};
    ctca_err rc = CTCA_OK;
    char *paths[F_COUNT] = {NULL}, *log_list = NULL, *json = NULL, *pem = NULL;
    bool written[F_COUNT] = {false}, created_dir = false;
    EVP_PKEY *key = NULL;
    ctca_ca_chain chain = {0};
    ctca_config *check = NULL;
    ctca_store *store = NULL;

    if (pp->dir == NULL || pp->dir[0] == '\0')
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "a CA directory is required");
    if ((pp->import_cert == NULL) != (pp->import_key == NULL))
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE,
                               "--ca-cert and --ca-key must be given together");
    if (pp->log_list != NULL && (log_list = realpath(pp->log_list, NULL)) == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", pp->log_list, strerror(errno));
    if (log_list != NULL) {
        /* Recorded only when it is one: every issuance would fail on it. */
        ctca_log_list *check_list = NULL;
        rc = ctca_log_list_load(log_list, &check_list, eb);
        ctca_log_list_free(check_list);
        if (rc != CTCA_OK) {
            free(log_list);
            return rc;
        }
    }
    for (int i = 0; i < F_COUNT; i++) {
        if ((paths[i] = join(pp->dir, names[i])) == NULL) {
            rc = CTCA_ERR_NOMEM;
            goto out;
        }
    }
    if ((rc = prepare_dir(pp->dir, &created_dir, eb)) != CTCA_OK)
        goto out;
    rc = pp->import_cert != NULL ? import_ca(pp, &key, &chain, eb) : new_root(pp, &key, &chain, eb);
    if (rc != CTCA_OK)
        goto out;
    if ((rc = write_key(paths[F_KEY], key, eb)) != CTCA_OK)
        goto out;
    written[F_KEY] = true;
    if ((rc = ctca_ca_chain_to_pem(&chain, &pem)) != CTCA_OK ||
        (rc = ctca_file_write_atomic(paths[F_CERT], pem, strlen(pem), 0644, eb)) != CTCA_OK)
        goto out;
    written[F_CERT] = true;
    if (pp->preca && (rc = new_preca(pp, key, &chain, paths, written, eb)) != CTCA_OK)
        goto out;
    if ((rc = ctca_config_default_json(log_list, pp->preca, &json)) != CTCA_OK)
        goto out;
    /* What init writes must be what open accepts. */
    ctca_errbuf inner = {{0}};
    if (ctca_config_parse(json, strlen(json), &check, &inner) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_INTERNAL, "default config: %s", inner.msg);
        goto out;
    }
    if ((rc = ctca_file_write_atomic(paths[F_CONFIG], json, strlen(json), 0644, eb)) != CTCA_OK)
        goto out;
    written[F_CONFIG] = true;
    written[F_STORE] = true; /* SQLite may have created it even when opening fails */
    rc = ctca_store_create(paths[F_STORE], &store, eb);
out:
    if (rc != CTCA_OK) {
        for (int i = F_COUNT; i-- > 0;) {
            if (!written[i])
                continue;
            unlink(paths[i]);
            if (i == F_STORE) {
                char side[PATH_MAX];
                snprintf(side, sizeof side, "%s-wal", paths[i]);
                unlink(side);
                snprintf(side, sizeof side, "%s-shm", paths[i]);
                unlink(side);
            }
        }
        if (created_dir)
            rmdir(pp->dir);
    }
    ctca_store_close(store);
    ctca_config_free(check);
    for (int i = 0; i < F_COUNT; i++)
        free(paths[i]);
    free(log_list);
    free(json);
    free(pem);
    ctca_ca_chain_cleanup(&chain);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- ctca_ca_open ------------------------------------------------------------------ */

ctca_err ctca_tbs_key_id(const ctca_tbs_fields *tbs, uint8_t out[CTCA_KEY_ID_MAX],
                        size_t *out_len)
{
    ctca_ext ext;
    bool found = false;
    CTCA_GUARD(ctca_ext_find(tbs->ext_list, CTCA_OID_SKI, sizeof CTCA_OID_SKI, &ext, &found));
    if (!found) {
        *out_len = 20;
        return ctca_key_id(tbs->spki, out);
    }
    ctca_view v = ext.value, id;
    if (ctca_der_get(&v, CTCA_DER_OCTET_STRING, &id) != CTCA_OK ||
        ctca_view_expect_empty(v) != CTCA_OK || id.len == 0 || id.len > CTCA_KEY_ID_MAX)
        return CTCA_ERR_CERT_MALFORMED;
    memcpy(out, id.data, id.len);
    *out_len = id.len;
    return CTCA_OK;
}

/* The policy issuance must meet: ct.policy, or the min_scts/min_operators rule
 * as a policy of one band. */
static ctca_err load_policy(ctca_ca *ca, ctca_errbuf *eb)
{
    const ctca_ct_settings *ct = ctca_config_get0_ct(ca->cfg);
    if (ct->policy == NULL) {
        ctca_policy *p = &ca->policy;
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%u SCTs of %u operators", ct->min_scts,
                 ct->min_operators);
        p->bands[0] = (ctca_policy_band){INT64_MAX, ct->min_scts, 0};
        p->n_bands = 1;
        p->counted_states = CTCA_STATE_BIT(CTCA_LOG_STATE_QUALIFIED) |
                            CTCA_STATE_BIT(CTCA_LOG_STATE_USABLE) |
                            CTCA_STATE_BIT(CTCA_LOG_STATE_READONLY);
        p->current_states = p->counted_states;
        p->min_operators = ct->min_operators;
        return CTCA_OK;
    }
    if (strcmp(ct->policy, "chrome") == 0 || strcmp(ct->policy, "apple") == 0)
        return ctca_policy_load(ct->policy, &ca->policy, eb);
    char *path = join(ca->dir, ct->policy);
    if (path == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = ctca_policy_load(path, &ca->policy, eb);
    free(path);
    if (rc != CTCA_OK && eb != NULL) {
        char inner[sizeof eb->msg];
        memcpy(inner, eb->msg, sizeof inner);
        ctca_errbuf_set(eb, rc, "ct.policy: %s", inner);
    }
    return rc;
}

static ctca_err open_parts(ctca_ca *ca, ctca_errbuf *eb)
{
    char *cfg_path = join(ca->dir, CTCA_CA_CONFIG_FILE), *cert_path = NULL, *key_path = NULL;
    char *preca_cert = NULL, *preca_key = NULL;
    ctca_err rc = CTCA_ERR_NOMEM;
    if (cfg_path == NULL)
        goto out;
    if ((rc = ctca_config_load(cfg_path, &ca->cfg, eb)) != CTCA_OK)
        goto out;
    rc = CTCA_ERR_NOMEM;
    cert_path = join(ca->dir, ctca_config_get0_ca_cert(ca->cfg));
    key_path = join(ca->dir, ctca_config_get0_ca_key(ca->cfg));
    ca->store_path = join(ca->dir, ctca_config_get0_store(ca->cfg));
    if (cert_path == NULL || key_path == NULL || ca->store_path == NULL)
        goto out;
    const char *ll = ctca_config_get0_log_list(ca->cfg);
    if (ll != NULL && (ca->log_list_path = join(ca->dir, ll)) == NULL)
        goto out;
    if ((rc = load_policy(ca, eb)) != CTCA_OK)
        goto out;
    if ((rc = ctca_signer_load_file(key_path, true, &ca->signer, eb)) != CTCA_OK ||
        (rc = ctca_ca_chain_load(cert_path, ctca_signer_get0_public(ca->signer), &ca->chain,
                                 eb)) != CTCA_OK)
        goto out;
    ca->cert = ca->chain.der[0];
    ca->cert_len = ca->chain.len[0];
    ctca_cert_parts parts;
    if ((rc = ctca_cert_get_tbs_fields(ctca_view_make(ca->cert, ca->cert_len), &parts,
                                       &ca->tbs)) != CTCA_OK ||
        (rc = ctca_tbs_key_id(&ca->tbs, ca->key_id, &ca->key_id_len)) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, rc, "%s: %s", cert_path, ctca_err_str(rc));
        goto out;
    }
    ctca_view validity = ca->tbs.validity, times;
    if (ctca_der_get(&validity, CTCA_DER_SEQUENCE, &times) != CTCA_OK ||
        ctca_der_get_time(&times, &ca->not_before) != CTCA_OK ||
        ctca_der_get_time(&times, &ca->not_after) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CERT_MALFORMED, "%s: malformed validity", cert_path);
        goto out;
    }
    if (EVP_Digest(ca->tbs.spki.data, ca->tbs.spki.len, ca->issuer_key_hash, NULL, EVP_sha256(),
                   NULL) != 1) {
        rc = CTCA_ERR_CRYPTO;
        goto out;
    }
    if (ctca_config_get0_preca_cert(ca->cfg) != NULL) {
        rc = CTCA_ERR_NOMEM;
        preca_cert = join(ca->dir, ctca_config_get0_preca_cert(ca->cfg));
        preca_key = join(ca->dir, ctca_config_get0_preca_key(ca->cfg));
        if (preca_cert != NULL && preca_key != NULL)
            rc = ctca_preca_open(ca, preca_cert, preca_key, eb);
    }
out:
    free(preca_cert);
    free(preca_key);
    free(cfg_path);
    free(cert_path);
    free(key_path);
    return rc;
}

ctca_err ctca_ca_open(const char *dir, ctca_ca **out, ctca_errbuf *eb)
{
    *out = NULL;
    ctca_ca *ca = calloc(1, sizeof *ca);
    if (ca == NULL)
        return CTCA_ERR_NOMEM;
    ca->dir = strdup(dir);
    ctca_err rc = ca->dir == NULL ? CTCA_ERR_NOMEM : open_parts(ca, eb);
    if (rc != CTCA_OK) {
        ctca_ca_free(ca);
        return rc;
    }
    *out = ca;
    return CTCA_OK;
}

void ctca_ca_free(ctca_ca *ca)
{
    if (ca == NULL)
        return;
    ctca_signer_free(ca->signer);
    ctca_signer_free(ca->preca_signer);
    free(ca->preca_cert);
    ctca_config_free(ca->cfg);
    ctca_ca_chain_cleanup(&ca->chain);
    free(ca->dir);
    free(ca->store_path);
    free(ca->log_list_path);
    free(ca);
}

ctca_view ctca_ca_get0_cert(const ctca_ca *ca)
{
    return ctca_view_make(ca->cert, ca->cert_len);
}

size_t ctca_ca_chain_len(const ctca_ca *ca)
{
    return ca->chain.n;
}

ctca_view ctca_ca_get0_chain_cert(const ctca_ca *ca, size_t i)
{
    if (i >= ca->chain.n)
        return ctca_view_make(NULL, 0);
    return ctca_view_make(ca->chain.der[i], ca->chain.len[i]);
}

ctca_view ctca_ca_get0_subject(const ctca_ca *ca)
{
    return ca->tbs.subject;
}

ctca_view ctca_ca_get0_spki(const ctca_ca *ca)
{
    return ca->tbs.spki;
}

const uint8_t *ctca_ca_get0_issuer_key_hash(const ctca_ca *ca)
{
    return ca->issuer_key_hash;
}

ctca_view ctca_ca_get0_sig_alg(const ctca_ca *ca)
{
    return ctca_signer_get0_alg(ca->signer);
}

const ctca_signer *ctca_ca_get0_signer(const ctca_ca *ca)
{
    return ca->signer;
}

ctca_err ctca_ca_sign_tbs(const ctca_ca *ca, ctca_view tbs, uint8_t **cert, size_t *cert_len)
{
    return ctca_signer_sign_tbs(ca->signer, tbs, cert, cert_len);
}

ctca_err ctca_ca_sign_cms_precert(const ctca_ca *ca, ctca_view tbs, uint8_t **out,
                                  size_t *out_len)
{
    return ctca_cms_precert_build(ca->signer, ctca_view_make(ca->key_id, ca->key_id_len), tbs,
                                  out, out_len);
}

ctca_err ctca_ca_check_cms_signer(const ctca_ca *ca)
{
    return ctca_cms_precert_check_signer(ca->signer);
}

const ctca_config *ctca_ca_get0_config(const ctca_ca *ca)
{
    return ca->cfg;
}

const char *ctca_ca_get0_dir(const ctca_ca *ca)
{
    return ca->dir;
}

const char *ctca_ca_get0_store_path(const ctca_ca *ca)
{
    return ca->store_path;
}

const char *ctca_ca_get0_log_list_path(const ctca_ca *ca)
{
    return ca->log_list_path;
}

ctca_err ctca_ca_load_log_list(const ctca_ca *ca, const char *path, ctca_log_list **out,
                               ctca_errbuf *eb)
{
    const char *ll = path != NULL ? path : ca->log_list_path;
    *out = NULL;
    if (ll == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "no log list: set log_list in the config or pass --log-list");
    return ctca_log_list_load(ll, out, eb);
}

const ctca_policy *ctca_ca_get0_policy(const ctca_ca *ca)
{
    return &ca->policy;
}

ctca_view ctca_ca_get0_preca_cert(const ctca_ca *ca)
{
    return ctca_view_make(ca->preca_cert, ca->preca_cert_len);
}
