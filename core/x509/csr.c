/* PKCS#10 requests (RFC 2986): a strict structural walk with ctca's DER cursor
 * (which also yields the SPKI, the subject, the signed bytes and the requested
 * SANs), then OpenSSL for the key, the self-signature and the subject's
 * commonName.
 *
 * The key of an allowed SPKI encoding is imported with EVP_PKEY_fromdata,
 * which validates it (the EC point is on the curve); OpenSSL 3.0 decodes a
 * whole X509_REQ through its decoder framework, which cost more CPU than the
 * signature check itself. Any other SPKI is refused, decoded only to name it. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/csr_int.h"
#include "core/x509/x509_int.h"
#include "ctca/util.h"

#define SAN_VALUE_MAX 1024

/* 1.2.840.113549.1.9.14 extensionRequest (PKCS #9) */
static const uint8_t oid_ext_req[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
/* 2.5.29.17 subjectAltName */
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};

/* The only SPKI AlgorithmIdentifiers ctca copies into certificates (CA/B BR
 * 7.1.3.1.1): rsaEncryption with NULL parameters, id-ecPublicKey with a named
 * curve P-256 or P-384. */
static const uint8_t alg_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                  0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
static const uint8_t alg_p256[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                   0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t alg_p384[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                   0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

#define ALLOWED_KEYS "allowed: RSA 2048..8192 bits, ECDSA P-256 or P-384"

/* What walk yields besides what struct ctca_csr keeps; views borrow csr->der. */
typedef struct csr_parts {
    ctca_view info;    /* CertificationRequestInfo, the signed bytes (whole element) */
    ctca_view subject; /* Name (whole element) */
    ctca_view sig_alg; /* AlgorithmIdentifier contents */
    ctca_view sig;     /* BIT STRING bytes */
} csr_parts;

void ctca_csr_free(ctca_csr *csr)
{
    if (csr == NULL)
        return;
    for (size_t i = 0; i < csr->san_count; i++)
        free(csr->sans[i].value);
    free(csr->sans);
    free(csr->cn);
    free(csr->der);
    free(csr);
}

static ctca_err malformed(ctca_errbuf *eb, const char *what)
{
    return ctca_errbuf_set(eb, CTCA_ERR_CSR_MALFORMED, "%s", what);
}

static const char *general_name_kind(uint8_t tag)
{
    switch (tag) {
    case CTCA_DER_CTX_C(0):
        return "otherName";
    case CTCA_DER_CTX_C(3):
        return "x400Address";
    case CTCA_DER_CTX_C(4):
        return "directoryName";
    case CTCA_DER_CTX_C(5):
        return "ediPartyName";
    case CTCA_DER_CTX(8):
        return "registeredID";
    default:
        return NULL;
    }
}

/* add_sans: the GeneralNames in the SAN extension's value. */
static ctca_err add_sans(ctca_csr *csr, ctca_view value, const char **unsupported,
                         ctca_errbuf *eb)
{
    ctca_view names;
    if (ctca_der_get(&value, CTCA_DER_SEQUENCE, &names) != CTCA_OK ||
        ctca_view_expect_empty(value) != CTCA_OK)
        return malformed(eb, "subjectAltName is not a GeneralNames SEQUENCE");
    while (names.len > 0) {
        uint8_t tag;
        ctca_view v;
        if (ctca_der_get_any(&names, &tag, &v, NULL) != CTCA_OK)
            return malformed(eb, "subjectAltName holds a malformed GeneralName");
        unsigned type = tag == CTCA_DER_CTX(2)   ? CTCA_SAN_DNS
                        : tag == CTCA_DER_CTX(7) ? CTCA_SAN_IP
                        : tag == CTCA_DER_CTX(1) ? CTCA_SAN_EMAIL
                        : tag == CTCA_DER_CTX(6) ? CTCA_SAN_URI
                                                 : 0;
        if (type == 0) {
            const char *kind = general_name_kind(tag);
            if (kind == NULL)
                return malformed(eb, "subjectAltName holds an unknown GeneralName tag");
            if (*unsupported == NULL)
                *unsupported = kind;
            continue;
        }
        if (type == CTCA_SAN_IP && v.len != 4 && v.len != 16)
            return malformed(eb, "an iPAddress SAN is neither 4 nor 16 octets");
        if (v.len > SAN_VALUE_MAX)
            return malformed(eb, "a SAN is longer than 1024 octets");
        if (csr->san_count == CTCA_CSR_MAX_SANS)
            return ctca_errbuf_set(eb, CTCA_ERR_PROFILE, "the CSR requests more than %d SANs",
                                   CTCA_CSR_MAX_SANS);
        if (csr->sans == NULL) {
            csr->sans = calloc(CTCA_CSR_MAX_SANS, sizeof *csr->sans);
            if (csr->sans == NULL)
                return CTCA_ERR_NOMEM;
        }
        ctca_san *san = &csr->sans[csr->san_count];
        san->value = malloc(v.len + 1);
        if (san->value == NULL)
            return CTCA_ERR_NOMEM;
        memcpy(san->value, v.data, v.len);
        san->value[v.len] = '\0';
        san->len = v.len;
        san->type = type;
        csr->san_count++;
    }
    return CTCA_OK;
}

/* walk_extension_request: the one extensionRequest's Extensions; one SAN at most. */
static ctca_err walk_extension_request(ctca_csr *csr, ctca_view values,
                                       const char **unsupported, ctca_errbuf *eb)
{
    ctca_view exts;
    if (ctca_der_get(&values, CTCA_DER_SEQUENCE, &exts) != CTCA_OK ||
        ctca_view_expect_empty(values) != CTCA_OK)
        return malformed(eb, "extensionRequest must hold exactly one Extensions value");
    bool seen_san = false;
    while (exts.len > 0) {
        ctca_view ext, oid, value;
        bool crit = false;
        if (ctca_der_get(&exts, CTCA_DER_SEQUENCE, &ext) != CTCA_OK ||
            ctca_der_get_oid(&ext, &oid) != CTCA_OK ||
            (ctca_der_peek(ext, CTCA_DER_BOOLEAN) && ctca_der_get_bool(&ext, &crit) != CTCA_OK))
            return malformed(eb, "extensionRequest holds a malformed Extension");
        if (ctca_der_get(&ext, CTCA_DER_OCTET_STRING, &value) != CTCA_OK ||
            ctca_view_expect_empty(ext) != CTCA_OK)
            return malformed(eb, "extensionRequest holds a malformed Extension");
        if (!ctca_oid_eq(oid, oid_san, sizeof oid_san))
            continue; /* other requested extensions are never copied */
        if (seen_san)
            return malformed(eb, "extensionRequest holds two subjectAltName extensions");
        seen_san = true;
        CTCA_GUARD(add_sans(csr, value, unsupported, eb));
    }
    return CTCA_OK;
}

/* walk: CertificationRequest ::= SEQUENCE { CertificationRequestInfo,
 * AlgorithmIdentifier, BIT STRING }, strictly, keeping the SPKI and SANs. */
static ctca_err walk(ctca_csr *csr, csr_parts *parts, const char **unsupported, ctca_errbuf *eb)
{
    ctca_view all = ctca_view_make(csr->der, csr->der_len), req, info, attrs;
    uint64_t version = 1;
    bool have_attrs = false;
    if (ctca_der_get(&all, CTCA_DER_SEQUENCE, &req) != CTCA_OK)
        return malformed(eb, "not a DER SEQUENCE");
    if (ctca_view_expect_empty(all) != CTCA_OK)
        return malformed(eb, "trailing bytes after the CSR");
    if (ctca_der_get_element(&req, CTCA_DER_SEQUENCE, &parts->info) != CTCA_OK ||
        ctca_der_get(&req, CTCA_DER_SEQUENCE, &parts->sig_alg) != CTCA_OK ||
        ctca_der_get_bit_string(&req, &parts->sig) != CTCA_OK ||
        ctca_view_expect_empty(req) != CTCA_OK)
        return malformed(eb, "not a CertificationRequest");
    ctca_view info_elem = parts->info;
    if (ctca_der_get(&info_elem, CTCA_DER_SEQUENCE, &info) != CTCA_OK)
        return malformed(eb, "not a CertificationRequest");
    if (ctca_der_get_u64(&info, &version) != CTCA_OK || version != 0 ||
        ctca_der_get_element(&info, CTCA_DER_SEQUENCE, &parts->subject) != CTCA_OK ||
        ctca_der_get_element(&info, CTCA_DER_SEQUENCE, &csr->spki) != CTCA_OK ||
        ctca_der_get_optional(&info, CTCA_DER_CTX_C(0), &attrs, &have_attrs) != CTCA_OK ||
        ctca_view_expect_empty(info) != CTCA_OK)
        return malformed(eb, "malformed CertificationRequestInfo (version 0, subject, "
                             "subjectPKInfo, attributes)");
    bool seen_ext_req = false;
    while (have_attrs && attrs.len > 0) {
        ctca_view attr, type, values;
        if (ctca_der_get(&attrs, CTCA_DER_SEQUENCE, &attr) != CTCA_OK ||
            ctca_der_get_oid(&attr, &type) != CTCA_OK ||
            ctca_der_get(&attr, CTCA_DER_SET, &values) != CTCA_OK ||
            ctca_view_expect_empty(attr) != CTCA_OK)
            return malformed(eb, "malformed attribute");
        if (!ctca_oid_eq(type, oid_ext_req, sizeof oid_ext_req))
            continue;
        if (seen_ext_req)
            return malformed(eb, "two extensionRequest attributes");
        seen_ext_req = true;
        CTCA_GUARD(walk_extension_request(csr, values, unsupported, eb));
    }
    return CTCA_OK;
}

static ctca_err check_key(ctca_csr *csr, EVP_PKEY *pkey, ctca_errbuf *eb)
{
    ctca_view spki = csr->spki, body, alg;
    if (ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body) != CTCA_OK ||
        ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &alg) != CTCA_OK)
        return malformed(eb, "malformed SubjectPublicKeyInfo");
    int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < 2048 || bits > 8192 || bits % 8 != 0)
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY, "the CSR has an RSA-%d key; " ALLOWED_KEYS,
                                   bits);
        BIGNUM *e = NULL;
        bool e_ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
                    BN_is_odd(e) && BN_num_bits(e) >= 2;
        BN_free(e);
        if (!e_ok)
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY,
                                   "the CSR's RSA key has an even or too small public exponent");
        if (!ctca_view_eq(alg, ctca_view_make(alg_rsa, sizeof alg_rsa)))
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY,
                                   "the CSR's RSA key's AlgorithmIdentifier must be rsaEncryption "
                                   "with NULL parameters");
        csr->key_is_rsa = true;
        return CTCA_OK;
    }
    if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) != 1)
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY,
                                   "the CSR has an ECDSA key with explicit curve parameters; "
                                   ALLOWED_KEYS);
        bool p256 = strcmp(group, "prime256v1") == 0, p384 = strcmp(group, "secp384r1") == 0;
        if (!p256 && !p384)
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY,
                                   "the CSR has an ECDSA key on curve %s; " ALLOWED_KEYS, group);
        ctca_view want = p256 ? ctca_view_make(alg_p256, sizeof alg_p256)
                              : ctca_view_make(alg_p384, sizeof alg_p384);
        if (!ctca_view_eq(alg, want))
            return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY,
                                   "the CSR's ECDSA key's AlgorithmIdentifier is not the "
                                   "named-curve form");
        return CTCA_OK;
    }
    const char *name = id == EVP_PKEY_RSA_PSS ? "RSASSA-PSS" : OBJ_nid2sn(id);
    return ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY, "the CSR has a%s %s key; " ALLOWED_KEYS,
                           name != NULL && strchr("AEIOU", name[0]) != NULL ? "n" : "",
                           name != NULL ? name : "unknown");
}

/* import_key: the SPKI's key when its AlgorithmIdentifier is one ctca allows
 * (*out NULL otherwise), imported and validated by the default provider. */
static ctca_err import_key(ctca_view spki, EVP_PKEY **out)
{
    ctca_view body, alg, bits;
    *out = NULL;
    if (ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body) != CTCA_OK ||
        ctca_der_get_element(&body, CTCA_DER_SEQUENCE, &alg) != CTCA_OK ||
        ctca_der_get_bit_string(&body, &bits) != CTCA_OK)
        return CTCA_OK; /* check_key names what it is */
    const char *group = NULL;
    if (ctca_view_eq(alg, ctca_view_make(alg_p256, sizeof alg_p256)))
        group = "prime256v1";
    else if (ctca_view_eq(alg, ctca_view_make(alg_p384, sizeof alg_p384)))
        group = "secp384r1";
    else if (!ctca_view_eq(alg, ctca_view_make(alg_rsa, sizeof alg_rsa)))
        return CTCA_OK;
    ctca_err rc = CTCA_ERR_NOMEM;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    if (bld == NULL)
        goto out;
    if (group != NULL) {
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, bits.data,
                                             bits.len) != 1)
            goto out;
    } else {
        /* RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent } */
        ctca_view rsa, nv, ev;
        rc = CTCA_OK; /* malformed: no key, and check_key says why */
        if (ctca_der_get(&bits, CTCA_DER_SEQUENCE, &rsa) != CTCA_OK ||
            ctca_der_get_integer(&rsa, &nv) != CTCA_OK ||
            ctca_der_get_integer(&rsa, &ev) != CTCA_OK || ctca_view_expect_empty(rsa) != CTCA_OK ||
            ctca_view_expect_empty(bits) != CTCA_OK || (nv.data[0] & 0x80) || (ev.data[0] & 0x80))
            goto out;
        rc = CTCA_ERR_NOMEM;
        if ((n = BN_bin2bn(nv.data, (int)nv.len, NULL)) == NULL ||
            (e = BN_bin2bn(ev.data, (int)ev.len, NULL)) == NULL ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
            goto out;
    }
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, group != NULL ? "EC" : "RSA", NULL)) == NULL)
        goto out;
    /* A point off the curve or a malformed modulus is no key: check_key says so. */
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
        *out = NULL;
    rc = CTCA_OK;
out:
    BN_free(n);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* verify_signature: the self-signature over the CertificationRequestInfo, by
 * an accepted algorithm matching the key. */
static ctca_err verify_signature(const ctca_csr *csr, const csr_parts *parts, EVP_PKEY *pkey,
                                 ctca_errbuf *eb)
{
    /* What the key proves possession with: SHA-1 and MD5 prove nothing today. */
    bool rsa = false;
    const char *md = ctca_sig_alg_md(parts->sig_alg, &rsa);
    if (md == NULL || rsa != csr->key_is_rsa)
        return ctca_errbuf_set(eb, CTCA_ERR_CSR_SIGNATURE,
                               "the CSR's signature algorithm is not %s with SHA-256, SHA-384 "
                               "or SHA-512",
                               csr->key_is_rsa ? "RSA PKCS#1 v1.5" : "ECDSA");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CTCA_ERR_NOMEM;
    int ok = EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pkey, NULL) == 1 &&
             EVP_DigestVerify(ctx, parts->sig.data, parts->sig.len, parts->info.data,
                              parts->info.len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ctca_errbuf_set(eb, CTCA_ERR_CSR_SIGNATURE,
                               "the CSR's self-signature does not verify with its own key");
    return CTCA_OK;
}

/* take_cn: the subject's commonName as UTF-8 (OpenSSL converts whatever string
 * type the CSR used); cn_multiple when there are several. */
static ctca_err take_cn(ctca_csr *csr, ctca_view subject, ctca_errbuf *eb)
{
    const unsigned char *p = subject.data;
    X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)subject.len);
    if (name == NULL || p != subject.data + subject.len) {
        X509_NAME_free(name);
        return malformed(eb, "OpenSSL cannot parse the subject");
    }
    ctca_err rc = CTCA_OK;
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        goto out;
    csr->cn_multiple = X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0;
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) {
        rc = malformed(eb, "the subject's commonName is not a valid string");
        goto out;
    }
    if ((size_t)n != strlen((const char *)utf8))
        rc = malformed(eb, "the subject's commonName holds a NUL character");
    else if ((csr->cn = strdup((const char *)utf8)) == NULL)
        rc = CTCA_ERR_NOMEM;
    OPENSSL_free(utf8);
out:
    X509_NAME_free(name);
    return rc;
}

ctca_err ctca_csr_parse(ctca_view der, ctca_csr **out, ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    EVP_PKEY *pkey = NULL;
    const char *unsupported = NULL;
    csr_parts parts;
    *out = NULL;
    if (der.len == 0 || der.len > CTCA_FILE_MAX)
        return malformed(eb, der.len == 0 ? "empty input" : "larger than the file cap");
    ctca_csr *csr = calloc(1, sizeof *csr);
    if (csr == NULL)
        return CTCA_ERR_NOMEM;
    csr->der = malloc(der.len);
    if (csr->der == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    memcpy(csr->der, der.data, der.len);
    csr->der_len = der.len;
    if ((rc = walk(csr, &parts, &unsupported, eb)) != CTCA_OK ||
        (rc = import_key(csr->spki, &pkey)) != CTCA_OK)
        goto out;
    if (pkey == NULL) { /* not an allowed key: decoded only to say what it is */
        const unsigned char *p = csr->spki.data;
        pkey = d2i_PUBKEY(NULL, &p, (long)csr->spki.len);
    }
    if (pkey == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CSR_KEY, "the CSR's public key cannot be decoded; "
                                                   ALLOWED_KEYS);
        goto out;
    }
    if ((rc = check_key(csr, pkey, eb)) != CTCA_OK ||
        (rc = verify_signature(csr, &parts, pkey, eb)) != CTCA_OK)
        goto out;
    if (unsupported != NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_PROFILE,
                             "SAN of type %s: not supported (allowed types: dns, ip, email, uri)",
                             unsupported);
        goto out;
    }
    if ((rc = take_cn(csr, parts.subject, eb)) != CTCA_OK)
        goto out;
    if (EVP_Digest(csr->der, csr->der_len, csr->digest, NULL, EVP_sha256(), NULL) != 1) {
        rc = CTCA_ERR_CRYPTO;
        goto out;
    }
    *out = csr;
    csr = NULL;
out:
    EVP_PKEY_free(pkey);
    ctca_csr_free(csr);
    return rc;
}

ctca_err ctca_csr_load(const char *path, ctca_csr **out, ctca_errbuf *eb)
{
    uint8_t *der = NULL;
    size_t len = 0;
    *out = NULL;
    /* A second request in the file would be ignored silently: which one
     * the operator meant is not ours to guess. */
    CTCA_GUARD(ctca_file_read(path, CTCA_FILE_MAX, &der, &len, eb));
    size_t blocks = len > 0 && der[0] != 0x30 ? ctca_pem_count_blocks(der, len) : 0;
    free(der);
    der = NULL;
    if (blocks > 1)
        return ctca_errbuf_set(eb, CTCA_ERR_CSR_MALFORMED,
                               "%s: %zu PEM blocks; a CSR file must hold exactly one request",
                               path, blocks);
    ctca_err rc = ctca_der_or_pem_load(path, "CERTIFICATE REQUEST", &der, &len, eb);
    if (rc == CTCA_ERR_PEM) /* the label older tools write */
        rc = ctca_der_or_pem_load(path, "NEW CERTIFICATE REQUEST", &der, &len, eb);
    if (rc == CTCA_ERR_PEM || rc == CTCA_ERR_CERT_MALFORMED)
        return ctca_errbuf_set(eb, CTCA_ERR_CSR_MALFORMED, "%s: %s", path,
                               rc == CTCA_ERR_PEM
                                   ? "neither a DER CSR nor a PEM CERTIFICATE REQUEST"
                                   : "not a single DER structure (truncated or trailing bytes)");
    if (rc != CTCA_OK)
        return rc;
    ctca_errbuf inner = {{0}};
    rc = ctca_csr_parse(ctca_view_make(der, len), out, &inner);
    if (rc != CTCA_OK)
        ctca_errbuf_set(eb, rc, "%s: %s", path, inner.msg);
    free(der);
    return rc;
}

ctca_view ctca_csr_get0_spki(const ctca_csr *csr)
{
    return csr->spki;
}

const uint8_t *ctca_csr_get0_digest(const ctca_csr *csr)
{
    return csr->digest;
}

size_t ctca_csr_san_count(const ctca_csr *csr)
{
    return csr->san_count;
}

const ctca_san *ctca_csr_get0_san(const ctca_csr *csr, size_t i)
{
    return i < csr->san_count ? &csr->sans[i] : NULL;
}

const char *ctca_csr_get0_cn(const ctca_csr *csr)
{
    return csr->cn;
}

bool ctca_csr_key_is_rsa(const ctca_csr *csr)
{
    return csr->key_is_rsa;
}
