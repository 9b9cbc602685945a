/* Keys and the one signer interface (core/x509/signer_int.h): public-key
 * helpers, the "file" kind of signer, and what every signer does alike
 * (check each signature before it leaves, sign TBSCertificates). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/x509/signer_int.h"
#include "ctca/util.h"

struct ctca_signer {
    const ctca_signer_ops *ops;
    void *impl;
    EVP_PKEY *pub; /* public half only */
    uint8_t alg[32];
    size_t alg_len;
    const EVP_MD *md;
};

/* ---- public keys ---------------------------------------------------------- */

/* AlgorithmIdentifiers, encoded exactly as RFC 5758 3.2 (ECDSA: parameters
 * absent) and RFC 4055 5 (RSA PKCS#1 v1.5: parameters NULL) require. */
static const uint8_t alg_sha256_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t alg_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};

ctca_err ctca_key_sig_alg(EVP_PKEY *key, uint8_t alg[32], size_t *alg_len, const EVP_MD **md)
{
    const uint8_t *a = NULL;
    size_t n = 0;
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 2048 || bits > 8192)
            return CTCA_ERR_KEY_UNSUPPORTED;
        a = alg_sha256_rsa;
        n = sizeof alg_sha256_rsa;
        *md = EVP_sha256();
    } else if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(key, group, sizeof group, &glen) != 1)
            return CTCA_ERR_KEY_UNSUPPORTED;
        if (strcmp(group, "prime256v1") == 0) {
            a = alg_ecdsa_sha256;
            n = sizeof alg_ecdsa_sha256;
            *md = EVP_sha256();
        } else if (strcmp(group, "secp384r1") == 0) {
            a = alg_ecdsa_sha384;
            n = sizeof alg_ecdsa_sha384;
            *md = EVP_sha384();
        } else {
            return CTCA_ERR_KEY_UNSUPPORTED;
        }
    } else {
        return CTCA_ERR_KEY_UNSUPPORTED;
    }
    memcpy(alg, a, n);
    *alg_len = n;
    return CTCA_OK;
}

ctca_err ctca_key_id(ctca_view spki, uint8_t out[20])
{
    ctca_view body, alg, bits;
    if (ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body) != CTCA_OK ||
        ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg) != CTCA_OK ||
        ctca_der_get_bit_string(&body, &bits) != CTCA_OK ||
        ctca_view_expect_empty(body) != CTCA_OK || ctca_view_expect_empty(spki) != CTCA_OK)
        return CTCA_ERR_CERT_MALFORMED;
    /* SHA-1 here is an identifier, not a security property (RFC 5280 4.2.1.2). */
    if (EVP_Digest(bits.data, bits.len, out, NULL, EVP_sha1(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    return CTCA_OK;
}

ctca_err ctca_key_spki(EVP_PKEY *key, uint8_t **out, size_t *out_len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0)
        return CTCA_ERR_CRYPTO;
    *out = malloc((size_t)n);
    if (*out == NULL) {
        OPENSSL_free(der);
        return CTCA_ERR_NOMEM;
    }
    memcpy(*out, der, (size_t)n);
    *out_len = (size_t)n;
    OPENSSL_free(der);
    return CTCA_OK;
}

/* ---- the signer ------------------------------------------------------------- */

ctca_err ctca_signer_new(const ctca_signer_ops *ops, void *impl, EVP_PKEY *pub,
                         ctca_signer **out)
{
    *out = NULL;
    ctca_signer *s = calloc(1, sizeof *s);
    ctca_err rc = s == NULL ? CTCA_ERR_NOMEM : CTCA_OK;
    if (rc == CTCA_OK)
        rc = ctca_key_sig_alg(pub, s->alg, &s->alg_len, &s->md);
    if (rc != CTCA_OK) {
        free(s);
        ops->free(impl);
        EVP_PKEY_free(pub);
        return rc;
    }
    s->ops = ops;
    s->impl = impl;
    s->pub = pub;
    *out = s;
    return CTCA_OK;
}

void ctca_signer_free(ctca_signer *s)
{
    if (s == NULL)
        return;
    s->ops->free(s->impl);
    EVP_PKEY_free(s->pub);
    free(s);
}

EVP_PKEY *ctca_signer_get0_public(const ctca_signer *s)
{
    return s->pub;
}

ctca_view ctca_signer_get0_alg(const ctca_signer *s)
{
    return ctca_view_make(s->alg, s->alg_len);
}

const EVP_MD *ctca_signer_get0_md(const ctca_signer *s)
{
    return s->md;
}

const char *ctca_signer_get0_kind(const ctca_signer *s)
{
    return s->ops->kind;
}

ctca_err ctca_signer_sign(const ctca_signer *s, ctca_view msg, uint8_t **sig, size_t *sig_len)
{
    *sig = NULL;
    *sig_len = 0;
    uint8_t *out = NULL;
    size_t n = 0;
    CTCA_GUARD(s->ops->sign(s->impl, s->md, msg, &out, &n));
    /* A faulty signature (e.g. an RSA-CRT fault) can leak the key; never
     * release one unchecked, whoever made it. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, s->md, NULL, s->pub) == 1 &&
              EVP_DigestVerify(ctx, out, n, msg.data, msg.len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        free(out);
        return ctx == NULL ? CTCA_ERR_NOMEM : CTCA_ERR_CRYPTO;
    }
    *sig = out;
    *sig_len = n;
    return CTCA_OK;
}

ctca_err ctca_signer_sign_tbs(const ctca_signer *s, ctca_view tbs, uint8_t **cert,
                              size_t *cert_len)
{
    ctca_err rc = CTCA_OK;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    ctca_view alg = ctca_signer_get0_alg(s);
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    *cert = NULL;
    *cert_len = 0;

    ctca_tbs_fields fields;
    rc = ctca_tbs_parse(tbs, &fields);
    if (rc != CTCA_OK)
        goto out;
    /* RFC 5280 4.1.1.2: the outer signatureAlgorithm MUST equal the TBS's signature field. */
    if (!ctca_view_eq(fields.signature, alg)) {
        rc = CTCA_ERR_SIG_ALG_MISMATCH;
        goto out;
    }
    if ((rc = ctca_signer_sign(s, tbs, &sig, &sig_len)) != CTCA_OK)
        goto out;
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(&b, tbs);
    ctca_builder_add_view(&b, alg);
    ctca_builder_add_der_bit_string(&b, sig, sig_len);
    ctca_builder_close(&b);
    rc = ctca_builder_finish(&b, cert, cert_len);
out:
    ctca_builder_cleanup(&b);
    free(sig);
    return rc;
}

/* ---- the "file" kind --------------------------------------------------------- */

/* The "file" kind: an EVP_PKEY with its private half in this process. */
static ctca_err file_sign(void *impl, const EVP_MD *md, ctca_view data, uint8_t **sig,
                         size_t *sig_len)
{
    ctca_err rc = CTCA_ERR_CRYPTO;
    uint8_t *s = NULL;
    size_t n = 0;
    *sig = NULL;
    *sig_len = 0;
    EVP_PKEY *key = impl;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &n, data.data, data.len) != 1)
        goto out;
    s = malloc(n);
    if (s == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, s, &n, data.data, data.len) != 1)
        goto out;
    *sig = s;
    *sig_len = n;
    s = NULL;
    rc = CTCA_OK;
out:
    EVP_MD_CTX_free(ctx);
    free(s);
    return rc;
}


static void file_free(void *impl)
{
    EVP_PKEY_free(impl);
}

static const ctca_signer_ops file_ops = {.kind = "file", .sign = file_sign, .free = file_free};

/* The public half of key, as a key of its own. */
static EVP_PKEY *public_half(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    const unsigned char *p = der;
    EVP_PKEY *pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
    OPENSSL_free(der);
    return pub;
}

ctca_err ctca_signer_from_key(EVP_PKEY *key, ctca_signer **out)
{
    *out = NULL;
    EVP_PKEY *pub = public_half(key);
    if (pub == NULL)
        return CTCA_ERR_CRYPTO;
    if (!EVP_PKEY_up_ref(key)) {
        EVP_PKEY_free(pub);
        return CTCA_ERR_NOMEM;
    }
    return ctca_signer_new(&file_ops, key, pub, out);
}

/* no_passphrase: a pem_password_cb that refuses instead of prompting on a
 * terminal, noting in *u (a bool) that the key wanted a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)u = true;
    return -1;
}

static ctca_err load_key_fd(int fd, const char *path, EVP_PKEY **out, ctca_errbuf *eb)
{
    BIO *bio = BIO_new_fd(fd, BIO_NOCLOSE);
    if (bio == NULL)
        return CTCA_ERR_NOMEM;
    bool encrypted = false;
    *out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &encrypted);
    BIO_free(bio);
    if (*out == NULL && encrypted)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: the key is encrypted, and ctca takes no passphrase for key "
                               "files (an HSM key is the way to keep it locked); decrypt it "
                               "with: openssl pkey -in %s -out KEY.pem (then chmod 600 KEY.pem)",
                               path, path);
    if (*out == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: not an unencrypted PEM private key", path);
    return CTCA_OK;
}

/* Permissions are checked on the open descriptor, so there is no race. */
ctca_err ctca_key_file_load(const char *path, bool strict, EVP_PKEY **out, ctca_errbuf *eb)
{
    *out = NULL;
    /* O_NONBLOCK: a FIFO is refused by the fstat below instead of waiting
     * for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: %s", path, strerror(errno));
    ctca_err rc = CTCA_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > (off_t)CTCA_FILE_MAX) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_IO, "%s: larger than the file cap", path);
        goto out;
    }
    if (strict && (st.st_mode & 077) != 0) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_KEY_PERMISSIONS,
                             "%s has mode %04o, so group or others can read it; restrict it "
                             "with: chmod 600 %s",
                             path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    rc = load_key_fd(fd, path, out, eb);
out:
    close(fd);
    return rc;
}

ctca_err ctca_signer_load_file(const char *path, bool strict, ctca_signer **out,
                               ctca_errbuf *eb)
{
    EVP_PKEY *key = NULL;
    *out = NULL;
    CTCA_GUARD(ctca_key_file_load(path, strict, &key, eb));
    ctca_err rc = ctca_signer_from_key(key, out);
    EVP_PKEY_free(key);
    if (rc == CTCA_ERR_KEY_UNSUPPORTED)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "%s: the key must be RSA 2048..8192, ECDSA P-256 or P-384", path);
    return rc;
}
