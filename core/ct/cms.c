/* RFC 9162 3.2 CMS precertificates (ctca/cms.h): one writer for the CA, one
 * strict reader and a verifier for logs and checkers. Structures are those of
 * RFC 5652 5.1-5.4. */
#include "ctca/cms.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "core/ct/cms_int.h"

static const uint8_t oid_signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const uint8_t oid_ct_tbs[] = {0x2b, 0x65, 0x4e}; /* id-ct-tbsCertificate 1.3.101.78 */
static const uint8_t oid_content_type[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                           0x0d, 0x01, 0x09, 0x03};
static const uint8_t oid_message_digest[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                             0x0d, 0x01, 0x09, 0x04};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
/* The two SHA-256 signature algorithms a CA key signs with (core/x509/signer.c). */
static const uint8_t alg_sha256_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

#define CMS_VERSION 3 /* SignedData and SignerInfo: v3, RFC 9162 3.2 */
#define DIGEST_LEN 32

/* The eContent rules both sides share: a TBSCertificate without the
 * Transparency Information extension (it only exists in the final
 * certificate) and without the RFC 6962 poison (which has no place in a v2
 * precertificate). */
static ctca_err check_tbs(ctca_view tbs, ctca_tbs_fields *f)
{
    ctca_ext ext;
    bool found = false;
    if (ctca_tbs_parse(tbs, f) != CTCA_OK)
        return CTCA_ERR_CMS_MALFORMED;
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_TRANSPARENCY_INFO,
                             sizeof CTCA_OID_TRANSPARENCY_INFO, &ext, &found));
    if (found)
        return CTCA_ERR_CMS_MALFORMED;
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON, &ext,
                             &found));
    return found ? CTCA_ERR_CMS_MALFORMED : CTCA_OK;
}

/* ---- building ----------------------------------------------------------------- */

/* One Attribute { attrType, SET { value } } whose value is the DER element
 * tag/contents. */
static ctca_err build_attr(const uint8_t *oid, size_t oid_len, uint8_t tag, ctca_view value,
                           uint8_t **out, size_t *out_len)
{
    ctca_builder b;
    ctca_builder_init(&b, 256);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, oid, oid_len);
    ctca_builder_open_der(&b, CTCA_DER_SET);
    ctca_builder_add_der(&b, tag, value.data, value.len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    return ctca_builder_finish(&b, out, out_len);
}

/* The SignedAttributes contents: content-type and message-digest in DER SET OF
 * order (X.690 11.6: ascending encodings). */
static ctca_err build_signed_attrs(ctca_view tbs, uint8_t **out, size_t *out_len)
{
    uint8_t digest[DIGEST_LEN];
    uint8_t *a = NULL, *m = NULL;
    size_t a_len = 0, m_len = 0;
    if (EVP_Digest(tbs.data, tbs.len, digest, NULL, EVP_sha256(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    ctca_err rc = build_attr(oid_content_type, sizeof oid_content_type, CTCA_DER_OID,
                             ctca_view_make(oid_ct_tbs, sizeof oid_ct_tbs), &a, &a_len);
    if (rc == CTCA_OK)
        rc = build_attr(oid_message_digest, sizeof oid_message_digest, CTCA_DER_OCTET_STRING,
                        ctca_view_make(digest, sizeof digest), &m, &m_len);
    if (rc == CTCA_OK) {
        size_t common = a_len < m_len ? a_len : m_len;
        int cmp = memcmp(a, m, common);
        bool a_first = cmp < 0 || (cmp == 0 && a_len < m_len);
        ctca_builder b;
        ctca_builder_init(&b, 512);
        ctca_builder_add_bytes(&b, a_first ? a : m, a_first ? a_len : m_len);
        ctca_builder_add_bytes(&b, a_first ? m : a, a_first ? m_len : a_len);
        rc = ctca_builder_finish(&b, out, out_len);
    }
    free(a);
    free(m);
    return rc;
}

static void add_sha256_alg(ctca_builder *b)
{
    /* RFC 5754 3: SHA-2 AlgorithmIdentifiers are generated with absent parameters. */
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid_sha256, sizeof oid_sha256);
    ctca_builder_close(b);
}

ctca_err ctca_cms_precert_check_signer(const ctca_signer *s)
{
    return EVP_MD_get_type(ctca_signer_get0_md(s)) == NID_sha256 ? CTCA_OK
                                                                  : CTCA_ERR_KEY_UNSUPPORTED;
}

ctca_err ctca_cms_precert_build(const ctca_signer *s, ctca_view key_id, ctca_view tbs,
                                uint8_t **out, size_t *out_len)
{
    ctca_tbs_fields f;
    uint8_t *attrs = NULL, *to_sign = NULL, *sig = NULL;
    size_t attrs_len = 0, to_sign_len = 0, sig_len = 0;
    *out = NULL;
    *out_len = 0;
    CTCA_GUARD(ctca_cms_precert_check_signer(s));
    CTCA_GUARD(check_tbs(tbs, &f));
    if (!ctca_view_eq(f.signature, ctca_signer_get0_alg(s)))
        return CTCA_ERR_SIG_ALG_MISMATCH;
    ctca_err rc = build_signed_attrs(tbs, &attrs, &attrs_len);
    if (rc != CTCA_OK)
        goto out;
    /* RFC 5652 5.4: the signature covers the attributes as an explicit SET OF. */
    ctca_builder b;
    ctca_builder_init(&b, 1024);
    ctca_builder_add_der(&b, CTCA_DER_SET, attrs, attrs_len);
    if ((rc = ctca_builder_finish(&b, &to_sign, &to_sign_len)) != CTCA_OK ||
        (rc = ctca_signer_sign(s, ctca_view_make(to_sign, to_sign_len), &sig, &sig_len)) !=
            CTCA_OK)
        goto out;

    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* ContentInfo */
    ctca_builder_add_der_oid(&b, oid_signed_data, sizeof oid_signed_data);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* SignedData */
    ctca_builder_add_der_u64(&b, CMS_VERSION);
    ctca_builder_open_der(&b, CTCA_DER_SET);
    add_sha256_alg(&b);
    ctca_builder_close(&b);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* EncapsulatedContentInfo */
    ctca_builder_add_der_oid(&b, oid_ct_tbs, sizeof oid_ct_tbs);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, tbs.data, tbs.len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_open_der(&b, CTCA_DER_SET); /* signerInfos */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* SignerInfo */
    ctca_builder_add_der_u64(&b, CMS_VERSION);
    ctca_builder_add_der(&b, CTCA_DER_CTX(0), key_id.data, key_id.len); /* sid */
    add_sha256_alg(&b);
    ctca_builder_add_der(&b, CTCA_DER_CTX_C(0), attrs, attrs_len); /* signedAttrs */
    ctca_builder_add_view(&b, ctca_signer_get0_alg(s));
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, sig, sig_len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    rc = ctca_builder_finish(&b, out, out_len);
out:
    free(attrs);
    free(to_sign);
    free(sig);
    return rc;
}

/* ---- parsing ------------------------------------------------------------------ */

/* Reads an OID that must be oid. */
static ctca_err expect_oid(ctca_view *v, const uint8_t *oid, size_t oid_len)
{
    ctca_view got;
    CTCA_GUARD(ctca_der_get_oid(v, &got));
    return ctca_oid_eq(got, oid, oid_len) ? CTCA_OK : CTCA_ERR_CMS_MALFORMED;
}

static ctca_err expect_version(ctca_view *v)
{
    uint64_t version = 0;
    CTCA_GUARD(ctca_der_get_u64(v, &version));
    return version == CMS_VERSION ? CTCA_OK : CTCA_ERR_CMS_MALFORMED;
}

/* A DigestAlgorithmIdentifier that must be SHA-256, with absent or NULL
 * parameters (RFC 5754 3 has verifiers accept both). */
static ctca_err expect_sha256(ctca_view alg_element)
{
    ctca_view v = alg_element, body;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(expect_oid(&body, oid_sha256, sizeof oid_sha256));
    if (body.len > 0)
        CTCA_GUARD(ctca_der_get_null(&body));
    return ctca_view_expect_empty(body);
}

/* An Attribute with one value: attrType, and the value's contents. */
static ctca_err read_attr(ctca_view *attrs, ctca_view *element, ctca_view *type, uint8_t *tag,
                          ctca_view *value)
{
    ctca_view attr, set;
    CTCA_GUARD(ctca_der_get_element(attrs, CTCA_DER_SEQUENCE, element));
    ctca_view e = *element;
    CTCA_GUARD(ctca_der_get(&e, CTCA_DER_SEQUENCE, &attr));
    CTCA_GUARD(ctca_der_get_oid(&attr, type));
    CTCA_GUARD(ctca_der_get(&attr, CTCA_DER_SET, &set));
    CTCA_GUARD(ctca_view_expect_empty(attr));
    CTCA_GUARD(ctca_der_get_any(&set, tag, value, NULL));
    return set.len == 0 ? CTCA_OK : CTCA_ERR_CMS_MALFORMED; /* one value only */
}

static bool der_less(ctca_view a, ctca_view b)
{
    size_t common = a.len < b.len ? a.len : b.len;
    int cmp = memcmp(a.data, b.data, common);
    return cmp < 0 || (cmp == 0 && a.len < b.len);
}

/* Exactly content-type = 1.3.101.78 and a 32-byte message-digest, in DER order. */
static ctca_err read_signed_attrs(ctca_view contents, ctca_cms_precert *out)
{
    ctca_view el[2], type, value;
    uint8_t tag;
    bool have_ct = false, have_md = false;
    for (int i = 0; i < 2; i++) {
        if (contents.len == 0)
            return CTCA_ERR_CMS_MALFORMED;
        CTCA_GUARD(read_attr(&contents, &el[i], &type, &tag, &value));
        if (ctca_oid_eq(type, oid_content_type, sizeof oid_content_type) && !have_ct) {
            if (tag != CTCA_DER_OID || !ctca_oid_eq(value, oid_ct_tbs, sizeof oid_ct_tbs))
                return CTCA_ERR_CMS_MALFORMED;
            have_ct = true;
        } else if (ctca_oid_eq(type, oid_message_digest, sizeof oid_message_digest) &&
                   !have_md) {
            if (tag != CTCA_DER_OCTET_STRING || value.len != DIGEST_LEN)
                return CTCA_ERR_CMS_MALFORMED;
            out->message_digest = value;
            have_md = true;
        } else {
            return CTCA_ERR_CMS_MALFORMED;
        }
    }
    if (contents.len != 0 || !der_less(el[0], el[1]))
        return CTCA_ERR_CMS_MALFORMED;
    return CTCA_OK;
}

static ctca_err read_signer_info(ctca_view si, ctca_view digest_alg, ctca_cms_precert *out)
{
    ctca_view alg, attrs_contents;
    CTCA_GUARD(expect_version(&si));
    /* sid: only the [0] subjectKeyIdentifier choice. */
    if (!ctca_der_peek(si, CTCA_DER_CTX(0)))
        return CTCA_ERR_CMS_MALFORMED;
    CTCA_GUARD(ctca_der_get(&si, CTCA_DER_CTX(0), &out->signer_key_id));
    if (out->signer_key_id.len == 0)
        return CTCA_ERR_CMS_MALFORMED;
    CTCA_GUARD(ctca_der_get_element(&si, CTCA_DER_SEQUENCE, &alg));
    if (!ctca_view_eq(alg, digest_alg))
        return CTCA_ERR_CMS_MALFORMED;
    if (!ctca_der_peek(si, CTCA_DER_CTX_C(0)))
        return CTCA_ERR_CMS_MALFORMED; /* signedAttrs are required */
    CTCA_GUARD(ctca_der_get_element(&si, CTCA_DER_CTX_C(0), &out->signed_attrs));
    ctca_view a = out->signed_attrs;
    CTCA_GUARD(ctca_der_get(&a, CTCA_DER_CTX_C(0), &attrs_contents));
    CTCA_GUARD(read_signed_attrs(attrs_contents, out));
    CTCA_GUARD(ctca_der_get_element(&si, CTCA_DER_SEQUENCE, &out->sig_alg));
    CTCA_GUARD(ctca_der_get(&si, CTCA_DER_OCTET_STRING, &out->signature));
    /* Nothing after the signature: unsignedAttrs MUST be omitted. */
    return si.len == 0 ? CTCA_OK : CTCA_ERR_CMS_MALFORMED;
}

static ctca_err read_signed_data(ctca_view sd, ctca_cms_precert *out)
{
    ctca_view algs, digest_alg, eci, wrap, signers, si;
    CTCA_GUARD(expect_version(&sd));
    CTCA_GUARD(ctca_der_get(&sd, CTCA_DER_SET, &algs));
    CTCA_GUARD(ctca_der_get_element(&algs, CTCA_DER_SEQUENCE, &digest_alg));
    if (algs.len != 0)
        return CTCA_ERR_CMS_MALFORMED; /* one digest algorithm, the signer's */
    CTCA_GUARD(expect_sha256(digest_alg));
    CTCA_GUARD(ctca_der_get(&sd, CTCA_DER_SEQUENCE, &eci));
    CTCA_GUARD(expect_oid(&eci, oid_ct_tbs, sizeof oid_ct_tbs));
    if (!ctca_der_peek(eci, CTCA_DER_CTX_C(0)))
        return CTCA_ERR_CMS_MALFORMED; /* eContent is required */
    CTCA_GUARD(ctca_der_get(&eci, CTCA_DER_CTX_C(0), &wrap));
    CTCA_GUARD(ctca_view_expect_empty(eci));
    CTCA_GUARD(ctca_der_get(&wrap, CTCA_DER_OCTET_STRING, &out->tbs));
    CTCA_GUARD(ctca_view_expect_empty(wrap));
    /* certificates [0] and crls [1] MUST be omitted: signerInfos comes next. */
    if (!ctca_der_peek(sd, CTCA_DER_SET))
        return CTCA_ERR_CMS_MALFORMED;
    CTCA_GUARD(ctca_der_get(&sd, CTCA_DER_SET, &signers));
    CTCA_GUARD(ctca_view_expect_empty(sd));
    CTCA_GUARD(ctca_der_get(&signers, CTCA_DER_SEQUENCE, &si));
    if (signers.len != 0)
        return CTCA_ERR_CMS_MALFORMED; /* exactly one SignerInfo */
    return read_signer_info(si, digest_alg, out);
}

ctca_err ctca_cms_precert_parse(ctca_view der, ctca_cms_precert *out)
{
    ctca_cms_precert p;
    ctca_view ci, wrap, sd;
    ctca_tbs_fields f;
    memset(&p, 0, sizeof p);
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_der_get(&der, CTCA_DER_SEQUENCE, &ci));
    CTCA_GUARD(ctca_view_expect_empty(der));
    CTCA_GUARD(expect_oid(&ci, oid_signed_data, sizeof oid_signed_data));
    CTCA_GUARD(ctca_der_get(&ci, CTCA_DER_CTX_C(0), &wrap));
    CTCA_GUARD(ctca_view_expect_empty(ci));
    CTCA_GUARD(ctca_der_get(&wrap, CTCA_DER_SEQUENCE, &sd));
    CTCA_GUARD(ctca_view_expect_empty(wrap));
    CTCA_GUARD(read_signed_data(sd, &p));
    CTCA_GUARD(check_tbs(p.tbs, &f));
    /* RFC 9162 3.2: signatureAlgorithm is the TBSCertificate's signature. */
    if (!ctca_view_eq(f.signature, p.sig_alg))
        return CTCA_ERR_SIG_ALG_MISMATCH;
    *out = p;
    return CTCA_OK;
}

/* ---- verifying -------------------------------------------------------------------- */

/* The issuer's key identifier as a CA puts it in sid: its SKI, else the RFC
 * 5280 method-1 ID (what ctca_cms_precert_build does). */
static ctca_err issuer_key_id(const ctca_tbs_fields *issuer, uint8_t *buf, size_t cap,
                              ctca_view *out)
{
    ctca_ext ski;
    bool found = false;
    CTCA_GUARD(ctca_ext_find(issuer->ext_list, CTCA_OID_SKI, sizeof CTCA_OID_SKI, &ski, &found));
    if (found) {
        ctca_view v = ski.value;
        CTCA_GUARD(ctca_der_get(&v, CTCA_DER_OCTET_STRING, out));
        return ctca_view_expect_empty(v);
    }
    if (cap < 20)
        return CTCA_ERR_INTERNAL;
    CTCA_GUARD(ctca_key_id(issuer->spki, buf));
    *out = ctca_view_make(buf, 20);
    return CTCA_OK;
}

static ctca_err verify_signature(const ctca_cms_precert *p, ctca_view spki)
{
    ctca_err rc = CTCA_ERR_SIG_INVALID;
    uint8_t *set = NULL;
    EVP_MD_CTX *ctx = NULL;
    const unsigned char *q = spki.data;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &q, (long)spki.len);
    if (key == NULL) {
        rc = CTCA_ERR_CERT_MALFORMED;
        goto out;
    }
    bool rsa = ctca_view_eq(p->sig_alg, ctca_view_make(alg_sha256_rsa, sizeof alg_sha256_rsa));
    bool ec = ctca_view_eq(p->sig_alg, ctca_view_make(alg_ecdsa_sha256, sizeof alg_ecdsa_sha256));
    if (!(rsa && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) &&
        !(ec && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)) {
        rc = CTCA_ERR_SIG_ALG_MISMATCH;
        goto out;
    }
    /* RFC 5652 5.4: signed over the attributes re-tagged as an explicit SET OF. */
    set = malloc(p->signed_attrs.len);
    ctx = EVP_MD_CTX_new();
    if (set == NULL || ctx == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    memcpy(set, p->signed_attrs.data, p->signed_attrs.len);
    set[0] = CTCA_DER_SET;
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1) {
        rc = CTCA_ERR_CRYPTO;
        goto out;
    }
    if (EVP_DigestVerify(ctx, p->signature.data, p->signature.len, set, p->signed_attrs.len) == 1)
        rc = CTCA_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(set);
    return rc;
}

ctca_err ctca_cms_precert_verify(const ctca_cms_precert *p, ctca_view issuer_cert)
{
    ctca_cert_parts parts;
    ctca_tbs_fields issuer, f;
    ctca_view kid;
    uint8_t kid_buf[20];
    uint8_t digest[DIGEST_LEN];
    CTCA_GUARD(ctca_cert_get_tbs_fields(issuer_cert, &parts, &issuer));
    CTCA_GUARD(ctca_tbs_parse(p->tbs, &f));
    if (!ctca_view_eq(f.issuer, issuer.subject))
        return CTCA_ERR_ISSUER_MISMATCH;
    CTCA_GUARD(issuer_key_id(&issuer, kid_buf, sizeof kid_buf, &kid));
    if (!ctca_view_eq(kid, p->signer_key_id))
        return CTCA_ERR_ISSUER_MISMATCH;
    if (EVP_Digest(p->tbs.data, p->tbs.len, digest, NULL, EVP_sha256(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    if (!ctca_view_eq(p->message_digest, ctca_view_make(digest, sizeof digest)))
        return CTCA_ERR_SIG_INVALID;
    return verify_signature(p, issuer.spki);
}
