/* The CA's OCSP responder (ctca/ocsp.h): strict parsing of an OCSPRequest
 * (RFC 6960 4.1.1) through ctca_view, the status of each CertID from the
 * store, and the response built and signed with OpenSSL's OCSP API. */
#include "ctca/ocsp.h"

#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ca/ca_int.h"
#include "core/ocsp/ocsp_int.h"
#include "core/x509/x509_int.h"
#include "ctca/deliver.h"
#include "ctca/util.h"

/* ---- revocation reasons --------------------------------------------------- */

static const struct {
    const char *name;
    int code;
} reasons[] = {
    {"unspecified", CTCA_REASON_UNSPECIFIED},
    {"keyCompromise", CTCA_REASON_KEY_COMPROMISE},
    {"cACompromise", CTCA_REASON_CA_COMPROMISE},
    {"affiliationChanged", CTCA_REASON_AFFILIATION_CHANGED},
    {"superseded", CTCA_REASON_SUPERSEDED},
    {"cessationOfOperation", CTCA_REASON_CESSATION_OF_OPERATION},
    {"privilegeWithdrawn", CTCA_REASON_PRIVILEGE_WITHDRAWN},
    {"aACompromise", CTCA_REASON_AA_COMPROMISE},
};

ctca_err ctca_revocation_reason_parse(const char *name, int *code)
{
    for (size_t i = 0; name != NULL && i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(name, reasons[i].name) == 0) {
            *code = reasons[i].code;
            return CTCA_OK;
        }
    }
    return CTCA_ERR_USAGE;
}

const char *ctca_revocation_reason_name(int code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            return reasons[i].name;
    return "unknown";
}

const char *ctca_ocsp_response_status_name(ctca_ocsp_response_status status)
{
    switch (status) {
    case CTCA_OCSP_SUCCESSFUL:
        return "successful";
    case CTCA_OCSP_MALFORMED_REQUEST:
        return "malformedRequest";
    case CTCA_OCSP_INTERNAL_ERROR:
        return "internalError";
    case CTCA_OCSP_UNAUTHORIZED:
        return "unauthorized";
    }
    return "unknown";
}

/* ---- the responder -------------------------------------------------------- */

/* The CA's CertID hashes under each digest a request may use. */
#define N_HASHES 4

struct ctca_ocsp_responder {
    const ctca_ca *ca;
    X509 *signer;           /* the CA certificate or the delegated responder's */
    const ctca_signer *key; /* its key: the CA's, or own */
    ctca_signer *own;       /* the delegated responder's key */
    STACK_OF(X509) *certs;  /* sent with the response: the delegated certificate */
    unsigned long flags;
    uint32_t validity_hours;
    struct {
        const EVP_MD *md;
        uint8_t name_hash[EVP_MAX_MD_SIZE], key_hash[EVP_MAX_MD_SIZE];
        unsigned len;
    } hashes[N_HASHES];
};

void ctca_ocsp_responder_free(ctca_ocsp_responder *r)
{
    if (r == NULL)
        return;
    X509_free(r->signer);
    ctca_signer_free(r->own);
    sk_X509_pop_free(r->certs, X509_free);
    free(r);
}

static X509 *x509_from(ctca_view der)
{
    const unsigned char *p = der.data;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    if (x != NULL && p != der.data + der.len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The issuer name and key hashes of the CA's CertIDs (RFC 6960 4.1.1: the
 * hash of the DER Name, and of the subjectPublicKey BIT STRING's value). */
static ctca_err ca_hashes(ctca_ocsp_responder *r)
{
    ctca_view spki = ctca_ca_get0_spki(r->ca), body, alg, key_bits;
    ctca_view subject = ctca_ca_get0_subject(r->ca);
    CTCA_GUARD(ctca_der_get(&spki, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg));
    CTCA_GUARD(ctca_der_get_bit_string(&body, &key_bits));
    const EVP_MD *mds[N_HASHES] = {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512()};
    for (size_t i = 0; i < N_HASHES; i++) {
        unsigned n1 = 0, n2 = 0;
        r->hashes[i].md = mds[i];
        if (EVP_Digest(subject.data, subject.len, r->hashes[i].name_hash, &n1, mds[i], NULL) != 1 ||
            EVP_Digest(key_bits.data, key_bits.len, r->hashes[i].key_hash, &n2, mds[i], NULL) != 1)
            return CTCA_ERR_CRYPTO;
        r->hashes[i].len = n1;
    }
    return CTCA_OK;
}

/* path as written in ctca.json, relative to the CA directory unless absolute;
 * malloc'd. */
static char *ca_path(const ctca_ca *ca, const char *path)
{
    const char *dir = path[0] == '/' ? "" : ctca_ca_get0_dir(ca);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s%s", dir, dir[0] ? "/" : "", path);
    return s;
}

/* The delegated responder of the "ocsp" settings (RFC 6960 4.2.2.2): a
 * certificate the CA issued with id-kp-OCSPSigning, and its key. */
static ctca_err load_delegated(ctca_ocsp_responder *r, const ctca_ocsp_settings *o,
                               X509 *ca_x509, ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *cert_path = ca_path(r->ca, o->responder_cert);
    char *key_path = ca_path(r->ca, o->responder_key);
    if (cert_path == NULL || key_path == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    if ((rc = ctca_der_or_pem_load(cert_path, "CERTIFICATE", &der, &der_len, eb)) != CTCA_OK ||
        (rc = ctca_signer_load_file(key_path, true, &r->own, eb)) != CTCA_OK)
        goto out;
    r->key = r->own;
    if ((r->signer = x509_from(ctca_view_make(der, der_len))) == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: not a certificate", cert_path);
        goto out;
    }
    const char *why = NULL;
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca_x509);
    if (X509_get0_pubkey(r->signer) == NULL ||
        EVP_PKEY_eq(X509_get0_pubkey(r->signer), ctca_signer_get0_public(r->key)) != 1)
        why = "does not match ocsp.responder_key";
    else if (X509_NAME_cmp(X509_get_issuer_name(r->signer), X509_get_subject_name(ca_x509)) != 0 ||
             ca_pub == NULL || X509_verify(r->signer, ca_pub) != 1)
        why = "was not issued by the CA";
    else if (!(X509_get_extension_flags(r->signer) & EXFLAG_XKUSAGE) ||
             !(X509_get_extended_key_usage(r->signer) & XKU_OCSP_SIGN))
        why = "lacks the id-kp-OCSPSigning extended key usage";
    if (why != NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: the responder certificate %s", cert_path,
                             why);
        goto out;
    }
    if ((r->certs = sk_X509_new_null()) == NULL || !X509_up_ref(r->signer) ||
        !sk_X509_push(r->certs, r->signer)) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
out:
    free(der);
    free(cert_path);
    free(key_path);
    return rc;
}

ctca_err ctca_ocsp_responder_new(const ctca_ca *ca, ctca_ocsp_responder **out, ctca_errbuf *eb)
{
    ctca_err rc = CTCA_OK;
    X509 *ca_x509 = NULL;
    const ctca_ocsp_settings *o = ctca_config_get0_ocsp(ctca_ca_get0_config(ca));
    ctca_ocsp_responder *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r == NULL)
        return CTCA_ERR_NOMEM;
    r->ca = ca;
    r->validity_hours = o->validity_hours;
    /* byKey: RFC 5019 2.2.3 prefers the smaller responder ID. */
    r->flags = OCSP_RESPID_KEY;
    if ((ca_x509 = x509_from(ctca_ca_get0_cert(ca))) == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_CERT_MALFORMED, "the CA certificate");
        goto out;
    }
    if ((rc = ca_hashes(r)) != CTCA_OK)
        goto out;
    if (o->responder_cert != NULL) {
        rc = load_delegated(r, o, ca_x509, eb);
        goto out;
    }
    /* The CA itself signs; its certificate is what the client already has. */
    r->signer = ca_x509;
    ca_x509 = NULL;
    r->key = ctca_ca_get0_signer(ca);
    r->flags |= OCSP_NOCERTS;
out:
    X509_free(ca_x509);
    if (rc != CTCA_OK)
        ctca_ocsp_responder_free(r);
    else
        *out = r;
    return rc;
}

/* ---- parsing the request --------------------------------------------------- */

static const uint8_t OID_NONCE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
#define MAX_EXTENSIONS 16

/* Records where a request is malformed and returns CTCA_ERR_OCSP_REQUEST. */
static ctca_err bad(ctca_errbuf *eb, ctca_err rc, const char *where)
{
    if (rc == CTCA_ERR_OCSP_REQUEST)
        return ctca_errbuf_set(eb, rc, "%s", where);
    return ctca_errbuf_set(eb, CTCA_ERR_OCSP_REQUEST, "%s: %s", where, ctca_err_str(rc));
}

/* Extensions (the contents of the SEQUENCE): no extnID twice, none critical
 * that we do not know, at most MAX_EXTENSIONS; *nonce gets the nonce's
 * extnValue contents when nonce is non-NULL and it is there. */
static ctca_err get_extensions(ctca_view list, ctca_view *nonce, ctca_errbuf *eb)
{
    ctca_ext seen[MAX_EXTENSIONS];
    size_t n = 0;
    if (list.len == 0)
        return bad(eb, CTCA_ERR_OCSP_REQUEST, "an empty Extensions (SIZE (1..MAX))");
    while (list.len > 0) {
        ctca_ext ext;
        ctca_err rc = ctca_ext_next(&list, &ext);
        if (rc != CTCA_OK)
            return bad(eb, rc, "an extension");
        if (n == MAX_EXTENSIONS)
            return bad(eb, CTCA_ERR_OCSP_REQUEST, "more than 16 extensions");
        for (size_t i = 0; i < n; i++)
            if (ctca_view_eq(seen[i].oid, ext.oid))
                return bad(eb, CTCA_ERR_OCSP_REQUEST, "an extension appears twice");
        seen[n++] = ext;
        bool is_nonce = ctca_oid_eq(ext.oid, OID_NONCE, sizeof OID_NONCE);
        if (is_nonce && nonce != NULL)
            *nonce = ext.value;
        else if (ext.critical)
            return bad(eb, CTCA_ERR_OCSP_REQUEST, "an unknown critical extension");
    }
    return CTCA_OK;
}

/* [n] EXPLICIT Extensions OPTIONAL. */
static ctca_err get_optional_extensions(ctca_view *v, unsigned n, ctca_view *nonce,
                                        ctca_errbuf *eb)
{
    ctca_view outer, list;
    bool present = false;
    ctca_err rc = ctca_der_get_optional(v, CTCA_DER_CTX_C(n), &outer, &present);
    if (rc == CTCA_OK && present &&
        (rc = ctca_der_get(&outer, CTCA_DER_SEQUENCE, &list)) == CTCA_OK)
        rc = ctca_view_expect_empty(outer);
    if (rc != CTCA_OK)
        return bad(eb, rc, "the extensions");
    return present ? get_extensions(list, nonce, eb) : CTCA_OK;
}

/* CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash
 * OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER }. The hash
 * algorithm's parameters are NULL or absent (RFC 5754 2). */
static ctca_err get_cert_id(ctca_view *v, ctca_ocsp_req_cert *c)
{
    static const uint8_t der_null[] = {0x05, 0x00};
    ctca_view body, alg;
    CTCA_GUARD(ctca_der_get_element(v, CTCA_DER_SEQUENCE, &c->cert_id));
    ctca_view e = c->cert_id;
    CTCA_GUARD(ctca_der_get(&e, CTCA_DER_SEQUENCE, &body));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg));
    CTCA_GUARD(ctca_der_get_oid(&alg, &c->hash_oid));
    if (alg.len != 0 && !ctca_view_eq(alg, ctca_view_make(der_null, sizeof der_null)))
        return CTCA_ERR_OCSP_REQUEST;
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_OCTET_STRING, &c->name_hash));
    CTCA_GUARD(ctca_der_get(&body, CTCA_DER_OCTET_STRING, &c->key_hash));
    CTCA_GUARD(ctca_der_get_integer(&body, &c->serial));
    return ctca_view_expect_empty(body);
}

/* Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0]
 * EXPLICIT Extensions OPTIONAL }. */
static ctca_err get_request_list(ctca_view list, ctca_ocsp_request *p, ctca_errbuf *eb)
{
    if (list.len == 0)
        return bad(eb, CTCA_ERR_OCSP_REQUEST, "the requestList is empty");
    while (list.len > 0) {
        ctca_view body;
        if (p->n == CTCA_OCSP_MAX_REQUESTS)
            return bad(eb, CTCA_ERR_OCSP_REQUEST, "more than 16 certificates in one request");
        ctca_err rc = ctca_der_get(&list, CTCA_DER_SEQUENCE, &body);
        if (rc == CTCA_OK)
            rc = get_cert_id(&body, &p->certs[p->n]);
        if (rc != CTCA_OK)
            return bad(eb, rc, "a CertID");
        CTCA_GUARD(get_optional_extensions(&body, 0, NULL, eb));
        if ((rc = ctca_view_expect_empty(body)) != CTCA_OK)
            return bad(eb, rc, "a Request");
        p->n++;
    }
    return CTCA_OK;
}

/* Nonce ::= OCTET STRING (SIZE(1..32)) inside the extnValue (RFC 8954 2.1). */
static ctca_err check_nonce(ctca_view value, ctca_errbuf *eb)
{
    ctca_view v = value, nonce;
    ctca_err rc = ctca_der_get(&v, CTCA_DER_OCTET_STRING, &nonce);
    if (rc == CTCA_OK)
        rc = ctca_view_expect_empty(v);
    if (rc != CTCA_OK)
        return bad(eb, rc, "the nonce");
    if (nonce.len < 1 || nonce.len > CTCA_OCSP_NONCE_MAX)
        return bad(eb, CTCA_ERR_OCSP_REQUEST, "a nonce outside 1..32 octets (RFC 8954)");
    return CTCA_OK;
}

/* OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0]
 * EXPLICIT Signature OPTIONAL }; TBSRequest ::= SEQUENCE { version [0]
 * EXPLICIT DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 * requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions
 * OPTIONAL }. */
ctca_err ctca_ocsp_request_parse(ctca_view der, ctca_ocsp_request *p, ctca_errbuf *eb)
{
    ctca_view v = der, req, tbs, skipped, list;
    bool present = false;
    ctca_err rc;
    memset(p, 0, sizeof *p);
    if (der.len > CTCA_OCSP_REQUEST_MAX_LEN)
        return bad(eb, CTCA_ERR_OCSP_REQUEST, "larger than 16384 bytes");
    if ((rc = ctca_der_get(&v, CTCA_DER_SEQUENCE, &req)) != CTCA_OK ||
        (rc = ctca_view_expect_empty(v)) != CTCA_OK ||
        (rc = ctca_der_get(&req, CTCA_DER_SEQUENCE, &tbs)) != CTCA_OK ||
        (rc = ctca_der_get_optional(&req, CTCA_DER_CTX_C(0), &skipped, &present)) != CTCA_OK ||
        (rc = ctca_view_expect_empty(req)) != CTCA_OK)
        return bad(eb, rc, "the OCSPRequest");
    /* DER never encodes the DEFAULT, and v1 is the only version. */
    if (ctca_der_peek(tbs, CTCA_DER_CTX_C(0)))
        return bad(eb, CTCA_ERR_OCSP_REQUEST, "an explicit version (DER omits the default v1)");
    if ((rc = ctca_der_get_optional(&tbs, CTCA_DER_CTX_C(1), &skipped, &present)) != CTCA_OK ||
        (rc = ctca_der_get(&tbs, CTCA_DER_SEQUENCE, &list)) != CTCA_OK)
        return bad(eb, rc, "the TBSRequest");
    CTCA_GUARD(get_request_list(list, p, eb));
    CTCA_GUARD(get_optional_extensions(&tbs, 2, &p->nonce, eb));
    if ((rc = ctca_view_expect_empty(tbs)) != CTCA_OK)
        return bad(eb, rc, "the TBSRequest");
    return p->nonce.len > 0 ? check_nonce(p->nonce, eb) : CTCA_OK;
}

/* ---- answering ------------------------------------------------------------- */

/* Whether c names this CA: the same hashes under a digest it may use. */
static bool names_ca(const ctca_ocsp_responder *r, const ctca_ocsp_req_cert *c)
{
    const EVP_MD *md = ctca_ocsp_hash_md(c->hash_oid);
    for (size_t i = 0; md != NULL && i < N_HASHES; i++) {
        if (r->hashes[i].md != md)
            continue;
        ctca_view name = ctca_view_make(r->hashes[i].name_hash, r->hashes[i].len);
        ctca_view key = ctca_view_make(r->hashes[i].key_hash, r->hashes[i].len);
        return ctca_view_eq(c->name_hash, name) && ctca_view_eq(c->key_hash, key);
    }
    return false;
}

/* The store's spelling of a positive INTEGER of at most 20 octets; false for
 * any other, which ctca never issues. */
static bool serial_hex(ctca_view integer, char out[CTCA_STORE_SERIAL_MAX + 1])
{
    if (integer.len == 0 || (integer.data[0] & 0x80))
        return false;
    return ctca_serial_to_hex(integer.data, integer.len, out, CTCA_STORE_SERIAL_MAX + 1) ==
           CTCA_OK;
}

/* The CT version whose SCTs responses carry: RFC 6962's, in
 * 1.3.6.1.4.1.11129.2.4.5. (A CT 2.0 certificate's TransItemList in
 * 1.3.101.75, RFC 9162 7.1.1, is ctca_delivery_ocsp_extension's too, but
 * not served yet.) */
#define OCSP_CT_VERSION 1

/* What the store says about one serial of this CA. */
typedef struct cert_state {
    int status;             /* V_OCSP_CERTSTATUS_* */
    ctca_store_revocation rev;
    ctca_delivery scts;     /* its x509_entry RFC 6962 SCTs */
} cert_state;

static ctca_err look_up(ctca_store *store, const char *serial, cert_state *cs, ctca_errbuf *eb)
{
    ctca_store_cert c = {0};
    memset(cs, 0, sizeof *cs);
    cs->status = V_OCSP_CERTSTATUS_UNKNOWN;
    ctca_err rc = ctca_store_get_cert(store, serial, &c);
    /* Only a signed precertificate commits ctca to a certificate. */
    bool signed_ = rc == CTCA_OK && c.precert_der != NULL;
    ctca_store_cert_cleanup(&c);
    if (rc == CTCA_ERR_STORE_NOT_FOUND || (rc == CTCA_OK && !signed_))
        return CTCA_OK;
    if (rc == CTCA_OK)
        rc = ctca_store_get_revocation(store, serial, &cs->rev);
    if (rc == CTCA_OK)
        rc = ctca_delivery_load(store, serial, OCSP_CT_VERSION, &cs->scts);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "serial %s: %s", serial, ctca_store_errmsg(store));
    cs->status = cs->rev.revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
    return CTCA_OK;
}

/* An extension whose extnValue holds der (a complete DER value). */
static X509_EXTENSION *extension(int nid, const uint8_t *der, size_t len)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    if (os != NULL && ASN1_OCTET_STRING_set(os, der, (int)len))
        ext = X509_EXTENSION_create_by_NID(NULL, nid, 0, os);
    ASN1_OCTET_STRING_free(os);
    return ext;
}

/* The SCT list extension (ctca/deliver.h). */
static ctca_err add_sct_ext(OCSP_SINGLERESP *single, const ctca_delivery *scts)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    CTCA_GUARD(ctca_delivery_ocsp_extension(scts, &der, &der_len));
    const unsigned char *p = der;
    X509_EXTENSION *ext = d2i_X509_EXTENSION(NULL, &p, (long)der_len);
    ctca_err rc = ext != NULL && OCSP_SINGLERESP_add_ext(single, ext, -1) ? CTCA_OK
                                                                            : CTCA_ERR_CRYPTO;
    X509_EXTENSION_free(ext);
    free(der);
    return rc;
}

/* One SingleResponse: the request's own CertID, the status, this/next
 * update, and the SCTs. */
static ctca_err add_single(OCSP_BASICRESP *bs, const ctca_ocsp_req_cert *c, const cert_state *cs,
                           ASN1_GENERALIZEDTIME *this_update, ASN1_GENERALIZEDTIME *next_update)
{
    const unsigned char *p = c->cert_id.data;
    OCSP_CERTID *id = d2i_OCSP_CERTID(NULL, &p, (long)c->cert_id.len);
    ASN1_GENERALIZEDTIME *rev_time = NULL;
    ctca_err rc = CTCA_ERR_CRYPTO;
    if (id == NULL)
        return CTCA_ERR_CRYPTO;
    int reason = -1;
    if (cs->status == V_OCSP_CERTSTATUS_REVOKED) {
        rev_time = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(cs->rev.revoked_ms / 1000));
        if (rev_time == NULL)
            goto out;
        /* CA/B BR 7.2.2, 7.3: a reasonCode, if present, is not unspecified. */
        reason = cs->rev.reason == CTCA_REASON_UNSPECIFIED ? OCSP_REVOKED_STATUS_NOSTATUS
                                                           : cs->rev.reason;
    }
    OCSP_SINGLERESP *single =
        OCSP_basic_add1_status(bs, id, cs->status, reason, rev_time, this_update, next_update);
    if (single == NULL)
        goto out;
    rc = cs->scts.n > 0 ? add_sct_ext(single, &cs->scts) : CTCA_OK;
out:
    ASN1_GENERALIZEDTIME_free(rev_time);
    OCSP_CERTID_free(id);
    return rc;
}

/* *out: a malloc'd copy of resp's DER. */
static ctca_err encode(OCSP_RESPONSE *resp, uint8_t **out, size_t *out_len)
{
    unsigned char *der = NULL;
    int n = resp != NULL ? i2d_OCSP_RESPONSE(resp, &der) : -1;
    if (n <= 0)
        return CTCA_ERR_CRYPTO;
    *out = malloc((size_t)n);
    if (*out != NULL) {
        memcpy(*out, der, (size_t)n);
        *out_len = (size_t)n;
    }
    OPENSSL_free(der);
    return *out != NULL ? CTCA_OK : CTCA_ERR_NOMEM;
}

/* An unsuccessful response: only the status (RFC 6960 4.2.1). */
static ctca_err refuse(ctca_ocsp_response_status status, ctca_ocsp_answer *answer,
                       uint8_t **out, size_t *out_len)
{
    OCSP_RESPONSE *resp = OCSP_response_create((int)status, NULL);
    memset(answer, 0, sizeof *answer);
    answer->status = status;
    ctca_err rc = encode(resp, out, out_len);
    OCSP_RESPONSE_free(resp);
    return rc;
}

/* The statuses of p's CertIDs, into states and answer; *authorized false when
 * none names this CA. */
static ctca_err statuses(const ctca_ocsp_responder *r, ctca_store *store,
                         const ctca_ocsp_request *p, cert_state *states, ctca_ocsp_answer *answer,
                         bool *authorized, ctca_errbuf *eb)
{
    *authorized = false;
    for (size_t i = 0; i < p->n; i++) {
        const ctca_ocsp_req_cert *c = &p->certs[i];
        cert_state *cs = &states[i];
        bool ours = names_ca(r, c);
        bool known = serial_hex(c->serial, answer->items[i].serial);
        answer->items[i].other_issuer = !ours;
        answer->items[i].cert_status = CTCA_OCSP_UNKNOWN;
        cs->status = V_OCSP_CERTSTATUS_UNKNOWN;
        *authorized |= ours;
        if (!ours || !known)
            continue;
        CTCA_GUARD(look_up(store, answer->items[i].serial, cs, eb));
        answer->items[i].cert_status = cs->status == V_OCSP_CERTSTATUS_GOOD ? CTCA_OCSP_GOOD
                                       : cs->status == V_OCSP_CERTSTATUS_REVOKED
                                           ? CTCA_OCSP_REVOKED
                                           : CTCA_OCSP_UNKNOWN;
        answer->items[i].reason = cs->rev.reason;
        answer->items[i].n_scts = cs->scts.n;
    }
    answer->n = p->n;
    return CTCA_OK;
}

/* The signed BasicOCSPResponse for p with the statuses in states. */
static ctca_err build_basic(const ctca_ocsp_responder *r, const ctca_ocsp_request *p,
                            const cert_state *states, int64_t now_ms, OCSP_BASICRESP **out)
{
    ctca_err rc = CTCA_ERR_NOMEM;
    time_t now = (time_t)(now_ms / 1000);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_GENERALIZEDTIME *this_update = ASN1_GENERALIZEDTIME_set(NULL, now);
    ASN1_GENERALIZEDTIME *next_update =
        ASN1_GENERALIZEDTIME_set(NULL, now + (time_t)r->validity_hours * 3600);
    X509_EXTENSION *nonce = NULL;
    if (bs == NULL || this_update == NULL || next_update == NULL)
        goto out;
    for (size_t i = 0; i < p->n; i++)
        if ((rc = add_single(bs, &p->certs[i], &states[i], this_update, next_update)) != CTCA_OK)
            goto out;
    rc = CTCA_ERR_CRYPTO;
    if (p->nonce.len > 0 &&
        ((nonce = extension(NID_id_pkix_OCSP_Nonce, p->nonce.data, p->nonce.len)) == NULL ||
         !OCSP_BASICRESP_add_ext(bs, nonce, -1)))
        goto out;
    /* OCSP_basic_sign holds the key itself: a key whose private half is
     * elsewhere cannot sign here yet. */
    EVP_PKEY *key = ctca_signer_get0_file_key(r->key);
    if (key == NULL) {
        rc = CTCA_ERR_KEY_UNSUPPORTED;
        goto out;
    }
    if (OCSP_basic_sign(bs, r->signer, key, ctca_signer_get0_md(r->key), r->certs, r->flags) != 1)
        goto out;
    *out = bs;
    bs = NULL;
    rc = CTCA_OK;
out:
    X509_EXTENSION_free(nonce);
    ASN1_GENERALIZEDTIME_free(this_update);
    ASN1_GENERALIZEDTIME_free(next_update);
    OCSP_BASICRESP_free(bs);
    return rc;
}

/* A delegated responder certificate must be valid when it signs. */
static bool signer_valid_at(const ctca_ocsp_responder *r, int64_t now_ms)
{
    time_t now = (time_t)(now_ms / 1000);
    return ASN1_TIME_cmp_time_t(X509_get0_notBefore(r->signer), now) <= 0 &&
           ASN1_TIME_cmp_time_t(X509_get0_notAfter(r->signer), now) >= 0;
}

ctca_err ctca_ocsp_respond(const ctca_ocsp_responder *r, ctca_store *store, ctca_view request,
                           int64_t now_ms, uint8_t **response, size_t *response_len,
                           ctca_ocsp_answer *answer, ctca_errbuf *eb)
{
    ctca_ocsp_request p;
    cert_state states[CTCA_OCSP_MAX_REQUESTS];
    OCSP_BASICRESP *bs = NULL;
    OCSP_RESPONSE *resp = NULL;
    bool authorized = false;
    *response = NULL;
    *response_len = 0;
    memset(answer, 0, sizeof *answer);
    memset(states, 0, sizeof states);
    if (ctca_ocsp_request_parse(request, &p, eb) != CTCA_OK)
        return refuse(CTCA_OCSP_MALFORMED_REQUEST, answer, response, response_len);
    ctca_err rc = statuses(r, store, &p, states, answer, &authorized, eb);
    if (rc == CTCA_OK && !authorized) {
        ctca_errbuf_set(eb, CTCA_ERR_OCSP_NO_MATCH,
                        "no certificate of the request was issued by this CA");
        rc = refuse(CTCA_OCSP_UNAUTHORIZED, answer, response, response_len);
        goto out;
    }
    if (rc == CTCA_OK && r->certs != NULL && !signer_valid_at(r, now_ms))
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "the delegated responder certificate is not valid now");
    if (rc == CTCA_OK && (rc = build_basic(r, &p, states, now_ms, &bs)) != CTCA_OK)
        ctca_errbuf_set(eb, rc, "signing the response");
    if (rc != CTCA_OK) {
        rc = refuse(CTCA_OCSP_INTERNAL_ERROR, answer, response, response_len);
        goto out;
    }
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    rc = encode(resp, response, response_len);
    answer->status = CTCA_OCSP_SUCCESSFUL;
out:
    for (size_t i = 0; i < CTCA_OCSP_MAX_REQUESTS; i++)
        ctca_delivery_cleanup(&states[i].scts);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    return rc;
}
