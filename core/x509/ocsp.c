/* OCSP responses carrying SCTs (ctca/ocsp.h): strict parsing of the
 * OCSPResponse / BasicOCSPResponse structure of RFC 6960 4.2.1, the
 * SingleResponse for one certificate, and the response's signature. */
#include "ctca/ocsp.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "core/x509/x509_int.h"

/* Encoded OID arcs. */
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_KP_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t OID_SHA2[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02}; /* + 1..3 */
static const uint8_t OID_PKCS1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01}; /* + 11..13 */
static const uint8_t OID_ECDSA_SHA2[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03}; /* + 2..4 */

/* A certificate's parts that OCSP needs, borrowed from its DER. */
typedef struct cert_info {
    ctca_view der;
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ctca_view key_bits; /* subjectPublicKey BIT STRING contents */
} cert_info;

static ctca_err cert_info_parse(ctca_view der, cert_info *out)
{
    ctca_view spki, body, alg;
    out->der = der;
    CTCA_GUARD(ctca_cert_get_tbs_fields(der, &out->parts, &out->f));
    spki = out->f.spki;
    CTCA_GUARD(ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg));
    return ctca_der_get_bit_string(&body, &out->key_bits);
}

const EVP_MD *ctca_ocsp_hash_md(ctca_view oid)
{
    if (ctca_oid_eq(oid, OID_SHA1, sizeof OID_SHA1))
        return EVP_sha1();
    if (oid.len != sizeof OID_SHA2 + 1 || memcmp(oid.data, OID_SHA2, sizeof OID_SHA2) != 0)
        return NULL;
    switch (oid.data[sizeof OID_SHA2]) {
    case 1:
        return EVP_sha256();
    case 2:
        return EVP_sha384();
    case 3:
        return EVP_sha512();
    }
    return NULL;
}

/* An AlgorithmIdentifier: oid, and params (the rest of its contents). */
static ctca_err get_alg(ctca_view *v, ctca_view *oid, ctca_view *params)
{
    ctca_view c = *v, body;
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get_oid(&body, oid));
    *params = body;
    *v = c;
    return CTCA_OK;
}

/* The digest and key type of a signature AlgorithmIdentifier: RSA PKCS#1 v1.5
 * (parameters NULL, RFC 4055 5) or ECDSA (parameters absent, RFC 5758 3.2),
 * with SHA-256, SHA-384 or SHA-512. */
static ctca_err sig_alg(ctca_view alg_element, const EVP_MD **md, int *key_type)
{
    static const uint8_t der_null[] = {0x05, 0x00};
    ctca_view v = alg_element, oid, params;
    CTCA_GUARD(get_alg(&v, &oid, &params));
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
    if (oid.len == sizeof OID_PKCS1 + 1 && memcmp(oid.data, OID_PKCS1, sizeof OID_PKCS1) == 0 &&
        oid.data[sizeof OID_PKCS1] >= 11 && oid.data[sizeof OID_PKCS1] <= 13 &&
        ctca_view_eq(params, ctca_view_make(der_null, sizeof der_null))) {
        *md = mds[oid.data[sizeof OID_PKCS1] - 11];
        *key_type = EVP_PKEY_RSA;
        return CTCA_OK;
    }
    if (oid.len == sizeof OID_ECDSA_SHA2 + 1 &&
        memcmp(oid.data, OID_ECDSA_SHA2, sizeof OID_ECDSA_SHA2) == 0 &&
        oid.data[sizeof OID_ECDSA_SHA2] >= 2 && oid.data[sizeof OID_ECDSA_SHA2] <= 4 &&
        params.len == 0) {
        *md = mds[oid.data[sizeof OID_ECDSA_SHA2] - 2];
        *key_type = EVP_PKEY_EC;
        return CTCA_OK;
    }
    return CTCA_ERR_SIG_ALG_UNSUPPORTED;
}

/* sig over data verifies with the key of spki under alg_element. */
static ctca_err verify_signed(ctca_view spki, ctca_view alg_element, ctca_view data,
                              ctca_view sig)
{
    const EVP_MD *md = NULL;
    int key_type = 0;
    CTCA_GUARD(sig_alg(alg_element, &md, &key_type));
    const unsigned char *p = spki.data;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)spki.len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ctca_err rc = CTCA_OK;
    if (key == NULL || ctx == NULL)
        rc = key == NULL ? CTCA_ERR_KEY_UNSUPPORTED : CTCA_ERR_NOMEM;
    else if (EVP_PKEY_get_base_id(key) != key_type)
        rc = CTCA_ERR_SIG_ALG_MISMATCH;
    else if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1 ||
             EVP_DigestVerify(ctx, sig.data, sig.len, data.data, data.len) != 1)
        rc = CTCA_ERR_SIG_INVALID;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return rc;
}

/* A GeneralizedTime, the only time type RFC 6960 uses. */
static ctca_err get_gtime(ctca_view *v, int64_t *ms)
{
    int64_t s;
    if (!ctca_der_peek(*v, CTCA_DER_GENERALIZED_TIME))
        return CTCA_ERR_OCSP_MALFORMED;
    CTCA_GUARD(ctca_der_get_time(v, &s));
    *ms = s * 1000;
    return CTCA_OK;
}

/* Walks an Extensions SEQUENCE's contents (SIZE (1..MAX)) and returns the SCT
 * list extension's extnValue contents in *sct_ext (len 0 when absent). */
static ctca_err scan_extensions(ctca_view list, ctca_view *sct_ext)
{
    *sct_ext = ctca_view_make(NULL, 0);
    if (list.len == 0)
        return CTCA_ERR_OCSP_MALFORMED;
    bool found = false;
    while (list.len > 0) {
        ctca_ext ext;
        CTCA_GUARD(ctca_ext_next(&list, &ext));
        if (!ctca_oid_eq(ext.oid, CTCA_OID_CT_OCSP_SCT_LIST, sizeof CTCA_OID_CT_OCSP_SCT_LIST))
            continue;
        if (found)
            return CTCA_ERR_EXT_DUPLICATE;
        found = true;
        *sct_ext = ext.value;
    }
    return CTCA_OK;
}

/* [n] EXPLICIT Extensions OPTIONAL: *present and the list's contents. */
static ctca_err get_explicit_extensions(ctca_view *v, unsigned n, ctca_view *list, bool *present)
{
    ctca_view outer;
    CTCA_GUARD(ctca_der_get_optional(v, CTCA_DER_CTX_C(n), &outer, present));
    if (!*present)
        return CTCA_OK;
    CTCA_GUARD(ctca_der_get(&outer, CTCA_DER_SEQUENCE, list));
    return ctca_view_expect_empty(outer);
}

typedef struct single_response {
    ctca_view hash_oid, name_hash, key_hash, serial; /* CertID; serial the INTEGER element */
    ctca_ocsp_cert_status status;
    int64_t this_update_ms;
    ctca_view sct_list; /* TLS list of the SCT list extension; len 0: none */
} single_response;

/* CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
 * RevokedInfo, unknown [2] IMPLICIT NULL }. */
static ctca_err get_cert_status(ctca_view *v, ctca_ocsp_cert_status *out)
{
    ctca_view c = *v, contents;
    uint8_t tag;
    CTCA_GUARD(ctca_der_get_any(&c, &tag, &contents, NULL));
    if ((tag == CTCA_DER_CTX(0) || tag == CTCA_DER_CTX(2)) && contents.len == 0) {
        *out = tag == CTCA_DER_CTX(0) ? CTCA_OCSP_GOOD : CTCA_OCSP_UNKNOWN;
    } else if (tag == CTCA_DER_CTX_C(1)) {
        int64_t when;
        bool has_reason;
        ctca_view reason;
        CTCA_GUARD(get_gtime(&contents, &when));
        CTCA_GUARD(ctca_der_get_optional(&contents, CTCA_DER_CTX_C(0), &reason, &has_reason));
        CTCA_GUARD(ctca_view_expect_empty(contents));
        *out = CTCA_OCSP_REVOKED;
    } else {
        return CTCA_ERR_OCSP_MALFORMED;
    }
    *v = c;
    return CTCA_OK;
}

static ctca_err get_single(ctca_view *v, single_response *out)
{
    ctca_view c = *v, body, cert_id, params, serial, magnitude, next_outer;
    bool present;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_der_get(&c, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &cert_id));
    CTCA_GUARD(get_alg(&cert_id, &out->hash_oid, &params));
    CTCA_GUARD(ctca_der_get(&cert_id, CTCA_DER_OCTET_STRING, &out->name_hash));
    CTCA_GUARD(ctca_der_get(&cert_id, CTCA_DER_OCTET_STRING, &out->key_hash));
    CTCA_GUARD(ctca_der_get_element(&cert_id, CTCA_DER_INTEGER, &out->serial));
    serial = out->serial;
    CTCA_GUARD(ctca_der_get_integer(&serial, &magnitude));
    CTCA_GUARD(ctca_view_expect_empty(cert_id));
    CTCA_GUARD(get_cert_status(&body, &out->status));
    CTCA_GUARD(get_gtime(&body, &out->this_update_ms));
    CTCA_GUARD(ctca_der_get_optional(&body, CTCA_DER_CTX_C(0), &next_outer, &present));
    if (present) {
        int64_t next;
        CTCA_GUARD(get_gtime(&next_outer, &next));
        CTCA_GUARD(ctca_view_expect_empty(next_outer));
    }
    ctca_view exts, sct_ext = ctca_view_make(NULL, 0);
    CTCA_GUARD(get_explicit_extensions(&body, 1, &exts, &present));
    if (present)
        CTCA_GUARD(scan_extensions(exts, &sct_ext));
    CTCA_GUARD(ctca_view_expect_empty(body));
    if (sct_ext.len > 0) {
        /* RFC 6962 3.3: as in the certificate extension, an OCTET STRING holding
         * the TLS-encoded list, which is never empty. */
        CTCA_GUARD(ctca_der_get(&sct_ext, CTCA_DER_OCTET_STRING, &out->sct_list));
        CTCA_GUARD(ctca_view_expect_empty(sct_ext));
        if (out->sct_list.len == 0)
            return CTCA_ERR_SCT_LIST_EMPTY;
    }
    *v = c;
    return CTCA_OK;
}

/* The parts of a BasicOCSPResponse, borrowed from the response. */
typedef struct basic_response {
    ctca_view tbs;           /* tbsResponseData element: what is signed */
    bool by_key;             /* ResponderID: byKey, else byName */
    ctca_view responder;     /* the Name element or the KeyHash contents */
    int64_t produced_at_ms;
    ctca_view responses;     /* contents of SEQUENCE OF SingleResponse */
    ctca_view sig_alg;       /* element */
    ctca_view signature;     /* bits */
    ctca_view certs[CTCA_OCSP_MAX_CERTS];
    size_t n_certs;
} basic_response;

static ctca_err get_response_data(ctca_view tbs, basic_response *b)
{
    ctca_view body, id, exts;
    bool present;
    CTCA_GUARD(ctca_der_get(&tbs, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_view_expect_empty(tbs));
    /* version [0] EXPLICIT DEFAULT v1: DER never encodes the default, and v1
     * is the only version. */
    if (ctca_der_peek(body, CTCA_DER_CTX_C(0)))
        return CTCA_ERR_OCSP_MALFORMED;
    if (ctca_der_peek(body, CTCA_DER_CTX_C(1))) {
        CTCA_GUARD(ctca_der_get(&body, CTCA_DER_CTX_C(1), &id));
        CTCA_GUARD(ctca_der_get_element(&id, CTCA_DER_SEQUENCE, &b->responder));
        b->by_key = false;
    } else if (ctca_der_peek(body, CTCA_DER_CTX_C(2))) {
        CTCA_GUARD(ctca_der_get(&body, CTCA_DER_CTX_C(2), &id));
        CTCA_GUARD(ctca_der_get(&id, CTCA_DER_OCTET_STRING, &b->responder));
        if (b->responder.len != 20) /* KeyHash: a SHA-1 hash */
            return CTCA_ERR_OCSP_MALFORMED;
        b->by_key = true;
    } else {
        return CTCA_ERR_OCSP_MALFORMED;
    }
    CTCA_GUARD(ctca_view_expect_empty(id));
    CTCA_GUARD(get_gtime(&body, &b->produced_at_ms));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &b->responses));
    if (b->responses.len == 0)
        return CTCA_ERR_OCSP_MALFORMED;
    for (ctca_view r = b->responses; r.len > 0;) {
        single_response s;
        CTCA_GUARD(get_single(&r, &s));
    }
    CTCA_GUARD(get_explicit_extensions(&body, 1, &exts, &present));
    if (present) {
        ctca_view unused;
        CTCA_GUARD(scan_extensions(exts, &unused));
    }
    return ctca_view_expect_empty(body);
}

/* OCSPResponse -> BasicOCSPResponse. status names the unsuccessful status. */
static ctca_err parse_response(ctca_view der, basic_response *b, unsigned *status)
{
    ctca_view v = der, body, st, bytes_outer, bytes, type, inner, basic, certs_outer, certs;
    bool present;
    memset(b, 0, sizeof *b);
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_view_expect_empty(v));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_ENUMERATED, &st));
    if (st.len != 1 || st.data[0] > 6 || st.data[0] == 4) /* 4 is unused (RFC 6960 4.2.1) */
        return CTCA_ERR_OCSP_MALFORMED;
    *status = st.data[0];
    CTCA_GUARD(ctca_der_get_optional(&body, CTCA_DER_CTX_C(0), &bytes_outer, &present));
    CTCA_GUARD(ctca_view_expect_empty(body));
    if (*status != 0)
        return present ? CTCA_ERR_OCSP_MALFORMED : CTCA_ERR_OCSP_STATUS;
    if (!present)
        return CTCA_ERR_OCSP_MALFORMED;
    CTCA_GUARD(ctca_der_get(&bytes_outer, CTCA_DER_SEQUENCE, &bytes));
    CTCA_GUARD(ctca_view_expect_empty(bytes_outer));
    CTCA_GUARD(ctca_der_get_oid(&bytes, &type));
    if (!ctca_oid_eq(type, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC))
        return CTCA_ERR_OCSP_MALFORMED;
    CTCA_GUARD(ctca_der_get(&bytes, CTCA_DER_OCTET_STRING, &inner));
    CTCA_GUARD(ctca_view_expect_empty(bytes));

    CTCA_GUARD(ctca_der_get(&inner, CTCA_DER_SEQUENCE, &basic));
    CTCA_GUARD(ctca_view_expect_empty(inner));
    CTCA_GUARD(ctca_der_get_element(&basic, CTCA_DER_SEQUENCE, &b->tbs));
    CTCA_GUARD(ctca_der_get_element(&basic, CTCA_DER_SEQUENCE, &b->sig_alg));
    CTCA_GUARD(ctca_der_get_bit_string(&basic, &b->signature));
    CTCA_GUARD(ctca_der_get_optional(&basic, CTCA_DER_CTX_C(0), &certs_outer, &present));
    CTCA_GUARD(ctca_view_expect_empty(basic));
    if (present) {
        CTCA_GUARD(ctca_der_get(&certs_outer, CTCA_DER_SEQUENCE, &certs));
        CTCA_GUARD(ctca_view_expect_empty(certs_outer));
        while (certs.len > 0) {
            if (b->n_certs == CTCA_OCSP_MAX_CERTS)
                return CTCA_ERR_OCSP_MALFORMED;
            CTCA_GUARD(ctca_der_get_element(&certs, CTCA_DER_SEQUENCE, &b->certs[b->n_certs]));
            b->n_certs++;
        }
    }
    return get_response_data(b->tbs, b);
}

/* The SingleResponse about the certificate whose serial is serial (an INTEGER
 * element) issued by issuer. */
static ctca_err find_single(ctca_view responses, ctca_view serial, const cert_info *issuer,
                            single_response *out, bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    while (responses.len > 0) {
        single_response s;
        CTCA_GUARD(get_single(&responses, &s));
        const EVP_MD *md = ctca_ocsp_hash_md(s.hash_oid);
        if (*found || md == NULL || !ctca_view_eq(s.serial, serial))
            continue;
        uint8_t name_hash[EVP_MAX_MD_SIZE], key_hash[EVP_MAX_MD_SIZE];
        unsigned n1 = 0, n2 = 0;
        if (EVP_Digest(issuer->f.subject.data, issuer->f.subject.len, name_hash, &n1, md,
                       NULL) != 1 ||
            EVP_Digest(issuer->key_bits.data, issuer->key_bits.len, key_hash, &n2, md, NULL) != 1)
            return CTCA_ERR_CRYPTO;
        if (ctca_view_eq(s.name_hash, ctca_view_make(name_hash, n1)) &&
            ctca_view_eq(s.key_hash, ctca_view_make(key_hash, n2))) {
            *out = s;
            *found = true;
        }
    }
    return CTCA_OK;
}

/* Whether the responder ID names c. */
static ctca_err names(const basic_response *b, const cert_info *c, bool *out)
{
    if (!b->by_key) {
        *out = ctca_view_eq(b->responder, c->f.subject);
        return CTCA_OK;
    }
    uint8_t h[20];
    if (EVP_Digest(c->key_bits.data, c->key_bits.len, h, NULL, EVP_sha1(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    *out = ctca_view_eq(b->responder, ctca_view_make(h, sizeof h));
    return CTCA_OK;
}

static bool has_ocsp_signing_eku(const cert_info *c)
{
    ctca_ext ext;
    bool found = false;
    if (ctca_ext_find(c->f.ext_list, CTCA_OID_EKU, sizeof CTCA_OID_EKU, &ext, &found) != CTCA_OK ||
        !found)
        return false;
    ctca_view v = ext.value, seq, oid;
    if (ctca_der_get(&v, CTCA_DER_SEQUENCE, &seq) != CTCA_OK)
        return false;
    while (seq.len > 0) {
        if (ctca_der_get_oid(&seq, &oid) != CTCA_OK)
            return false;
        if (ctca_oid_eq(oid, OID_KP_OCSP_SIGNING, sizeof OID_KP_OCSP_SIGNING))
            return true;
    }
    return false;
}

static ctca_err validity_ms(const cert_info *c, int64_t *nb, int64_t *na)
{
    ctca_view v = c->f.validity, body;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get_time(&body, nb));
    CTCA_GUARD(ctca_der_get_time(&body, na));
    *nb *= 1000;
    *na *= 1000;
    return CTCA_OK;
}

/* The signer's key: issuer's when the responder ID names it, else that of a
 * delegated responder certificate in the response (RFC 6960 4.2.2.2). */
static ctca_err find_signer(const basic_response *b, const cert_info *issuer, ctca_view *spki,
                            bool *delegated, ctca_errbuf *eb)
{
    bool match;
    CTCA_GUARD(names(b, issuer, &match));
    if (match) {
        *spki = issuer->f.spki;
        *delegated = false;
        return CTCA_OK;
    }
    for (size_t i = 0; i < b->n_certs; i++) {
        cert_info c;
        ctca_err rc = cert_info_parse(b->certs[i], &c);
        if (rc != CTCA_OK)
            return ctca_errbuf_set(eb, rc, "certificate %zu of the response: %s", i + 1,
                                   ctca_err_str(rc));
        CTCA_GUARD(names(b, &c, &match));
        if (!match)
            continue;
        int64_t nb, na;
        if (!ctca_view_eq(c.f.issuer, issuer->f.subject) ||
            verify_signed(issuer->f.spki, c.parts.sig_alg, c.parts.tbs, c.parts.signature) !=
                CTCA_OK)
            return ctca_errbuf_set(eb, CTCA_ERR_OCSP_SIGNER,
                                   "the responder certificate was not issued by the issuer");
        if (!has_ocsp_signing_eku(&c))
            return ctca_errbuf_set(eb, CTCA_ERR_OCSP_SIGNER,
                                   "the responder certificate lacks the id-kp-OCSPSigning "
                                   "extended key usage");
        CTCA_GUARD(validity_ms(&c, &nb, &na));
        if (b->produced_at_ms < nb || b->produced_at_ms > na)
            return ctca_errbuf_set(eb, CTCA_ERR_OCSP_SIGNER,
                                   "the responder certificate was not valid when the response "
                                   "was produced");
        *spki = c.f.spki;
        *delegated = true;
        return CTCA_OK;
    }
    return ctca_errbuf_set(eb, CTCA_ERR_OCSP_SIGNER,
                           "the responder ID names neither the issuer nor a certificate in "
                           "the response");
}

static const char *status_text(unsigned status)
{
    static const char *const names_[] = {"successful", "malformedRequest", "internalError",
                                         "tryLater",   "(unused)",         "sigRequired",
                                         "unauthorized"};
    return status < sizeof names_ / sizeof names_[0] ? names_[status] : "unknown";
}

ctca_err ctca_ocsp_response_check(ctca_view response, ctca_view cert, ctca_view issuer_cert,
                                  ctca_ocsp_info *info, ctca_view *sct_list, ctca_errbuf *eb)
{
    basic_response b;
    cert_info leaf, issuer;
    single_response s;
    unsigned status = 0;
    bool found = false;
    ctca_err rc;
    memset(info, 0, sizeof *info);
    *sct_list = ctca_view_make(NULL, 0);

    /* The whole structure first: a malformed response is that, whatever it is
     * about. */
    rc = parse_response(response, &b, &status);
    if (rc == CTCA_ERR_OCSP_STATUS)
        return ctca_errbuf_set(eb, rc, "the responder answered %s (%u)", status_text(status),
                               status);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "%s", ctca_err_str(rc));
    if ((rc = cert_info_parse(cert, &leaf)) != CTCA_OK ||
        (rc = cert_info_parse(issuer_cert, &issuer)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "certificate: %s", ctca_err_str(rc));
    if (!ctca_view_eq(leaf.f.issuer, issuer.f.subject))
        return ctca_errbuf_set(eb, CTCA_ERR_ISSUER_MISMATCH, "%s",
                               ctca_err_str(CTCA_ERR_ISSUER_MISMATCH));
    if ((rc = find_single(b.responses, leaf.f.serial, &issuer, &s, &found)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "%s", ctca_err_str(rc));
    if (!found)
        return ctca_errbuf_set(eb, CTCA_ERR_OCSP_NO_MATCH,
                               "no response names this certificate's serial number and "
                               "issuer (name and key hashes)");
    ctca_view spki;
    bool delegated = false;
    CTCA_GUARD(find_signer(&b, &issuer, &spki, &delegated, eb));
    rc = verify_signed(spki, b.sig_alg, b.tbs, b.signature);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "the response signature by %s: %s",
                               delegated ? "the responder certificate's key" : "the issuer's key",
                               ctca_err_str(rc));
    *sct_list = s.sct_list;
    info->cert_status = s.status;
    info->produced_at_ms = b.produced_at_ms;
    info->this_update_ms = s.this_update_ms;
    info->delegated = delegated;
    return CTCA_OK;
}

const char *ctca_ocsp_cert_status_name(ctca_ocsp_cert_status status)
{
    switch (status) {
    case CTCA_OCSP_GOOD:
        return "good";
    case CTCA_OCSP_REVOKED:
        return "revoked";
    case CTCA_OCSP_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}
