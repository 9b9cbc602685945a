/* The CA's OCSP responder (ctca/ocsp.h): strict parsing of an OCSPRequest
 * (RFC 6960 4.1.1) through ctca_view, the status of each CertID from the
 * store, and the response (4.2.1) built with ctca_builder and signed by a
 * ctca_signer, which never hands out its private key. OpenSSL only checks
 * the delegated responder's certificate. */
#include "ctca/ocsp.h"

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
    const ctca_signer *key;  /* signs the responses: the CA's key, or own */
    ctca_signer *own;        /* the delegated responder's key */
    X509 *delegated;         /* its certificate, or NULL when the CA signs */
    uint8_t *cert;           /* its DER, sent in each response's certs */
    size_t cert_len;
    uint8_t key_hash[20];    /* the responder ID (byKey) */
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
    X509_free(r->delegated);
    free(r->cert);
    ctca_signer_free(r->own);
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

/* The delegated responder (RFC 6960 4.2.2.2): cert, named name in errors,
 * must be a certificate for r->key that the CA issued with
 * id-kp-OCSPSigning. Keeps cert (copied) and its key hash. */
static ctca_err set_delegated(ctca_ocsp_responder *r, ctca_view cert, X509 *ca_x509,
                              const char *name, ctca_errbuf *eb)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    if ((r->delegated = x509_from(cert)) == NULL ||
        ctca_cert_get_tbs_fields(cert, &parts, &f) != CTCA_OK)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: not a certificate", name);
    const char *why = NULL;
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca_x509);
    if (X509_get0_pubkey(r->delegated) == NULL ||
        EVP_PKEY_eq(X509_get0_pubkey(r->delegated), ctca_signer_get0_public(r->key)) != 1)
        why = "does not match ocsp.responder_key";
    else if (X509_NAME_cmp(X509_get_issuer_name(r->delegated), X509_get_subject_name(ca_x509)) !=
                 0 ||
             ca_pub == NULL || X509_verify(r->delegated, ca_pub) != 1)
        why = "was not issued by the CA";
    else if (!(X509_get_extension_flags(r->delegated) & EXFLAG_XKUSAGE) ||
             !(X509_get_extended_key_usage(r->delegated) & XKU_OCSP_SIGN))
        why = "lacks the id-kp-OCSPSigning extended key usage";
    if (why != NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "%s: the responder certificate %s", name,
                               why);
    if ((r->cert = malloc(cert.len)) == NULL)
        return CTCA_ERR_NOMEM;
    memcpy(r->cert, cert.data, cert.len);
    r->cert_len = cert.len;
    return ctca_key_id(f.spki, r->key_hash);
}

/* The delegated responder of the "ocsp" settings: its certificate and key files. */
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
    rc = set_delegated(r, ctca_view_make(der, der_len), ca_x509, cert_path, eb);
out:
    free(der);
    free(cert_path);
    free(key_path);
    return rc;
}

/* The responder for ca without its signing key: validity and CertID hashes;
 * *ca_x509 the CA certificate. */
static ctca_err responder_alloc(const ctca_ca *ca, ctca_ocsp_responder **out, X509 **ca_x509,
                                ctca_errbuf *eb)
{
    const ctca_ocsp_settings *o = ctca_config_get0_ocsp(ctca_ca_get0_config(ca));
    ctca_ocsp_responder *r = calloc(1, sizeof *r);
    *out = NULL;
    *ca_x509 = NULL;
    if (r == NULL)
        return CTCA_ERR_NOMEM;
    r->ca = ca;
    r->validity_hours = o->validity_hours;
    ctca_err rc = ca_hashes(r);
    if (rc == CTCA_OK && (*ca_x509 = x509_from(ctca_ca_get0_cert(ca))) == NULL)
        rc = ctca_errbuf_set(eb, CTCA_ERR_CERT_MALFORMED, "the CA certificate");
    if (rc != CTCA_OK) {
        ctca_ocsp_responder_free(r);
        return rc;
    }
    *out = r;
    return CTCA_OK;
}

/* The CA itself signs with key: its certificate is what the client already
 * has, so none is sent. */
static ctca_err set_ca_signs(ctca_ocsp_responder *r, X509 *ca_x509, ctca_errbuf *eb)
{
    if (EVP_PKEY_eq(X509_get0_pubkey(ca_x509), ctca_signer_get0_public(r->key)) != 1)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG, "the responder key is not the CA's");
    return ctca_key_id(ctca_ca_get0_spki(r->ca), r->key_hash);
}

ctca_err ctca_ocsp_responder_new(const ctca_ca *ca, ctca_ocsp_responder **out, ctca_errbuf *eb)
{
    ctca_ocsp_responder *r = NULL;
    X509 *ca_x509 = NULL;
    const ctca_ocsp_settings *o = ctca_config_get0_ocsp(ctca_ca_get0_config(ca));
    *out = NULL;
    ctca_err rc = responder_alloc(ca, &r, &ca_x509, eb);
    if (rc == CTCA_OK && o->responder_cert != NULL) {
        rc = load_delegated(r, o, ca_x509, eb);
    } else if (rc == CTCA_OK) {
        r->key = ctca_ca_get0_signer(ca);
        rc = set_ca_signs(r, ca_x509, eb);
    }
    X509_free(ca_x509);
    if (rc != CTCA_OK)
        ctca_ocsp_responder_free(r);
    else
        *out = r;
    return rc;
}

ctca_err ctca_ocsp_responder_new_with(const ctca_ca *ca, ctca_signer *key, ctca_view cert,
                                      ctca_ocsp_responder **out, ctca_errbuf *eb)
{
    ctca_ocsp_responder *r = NULL;
    X509 *ca_x509 = NULL;
    *out = NULL;
    ctca_err rc = responder_alloc(ca, &r, &ca_x509, eb);
    if (rc != CTCA_OK) {
        ctca_signer_free(key);
        return rc;
    }
    r->key = r->own = key;
    rc = cert.len > 0 ? set_delegated(r, cert, ca_x509, "the delegated responder", eb)
                      : set_ca_signs(r, ca_x509, eb);
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
    ctca_ocsp_cert_status status;
    ctca_store_revocation rev;
    ctca_delivery scts;     /* its x509_entry RFC 6962 SCTs */
} cert_state;

static ctca_err look_up(ctca_store *store, const char *serial, cert_state *cs, ctca_errbuf *eb)
{
    ctca_store_cert c = {0};
    memset(cs, 0, sizeof *cs);
    cs->status = CTCA_OCSP_UNKNOWN;
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
    cs->status = cs->rev.revoked ? CTCA_OCSP_REVOKED : CTCA_OCSP_GOOD;
    return CTCA_OK;
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
        cs->status = CTCA_OCSP_UNKNOWN;
        *authorized |= ours;
        if (!ours || !known)
            continue;
        CTCA_GUARD(look_up(store, answer->items[i].serial, cs, eb));
        answer->items[i].cert_status = cs->status;
        answer->items[i].reason = cs->rev.reason;
        answer->items[i].n_scts = cs->scts.n;
    }
    answer->n = p->n;
    return CTCA_OK;
}

/* ---- building the response (RFC 6960 4.2.1) -------------------------------- */

static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

/* CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
 * RevokedInfo, unknown [2] IMPLICIT UnknownInfo (NULL) }; RevokedInfo ::=
 * SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT
 * CRLReason OPTIONAL }. */
static ctca_err add_cert_status(ctca_builder *b, const cert_state *cs)
{
    switch (cs->status) {
    case CTCA_OCSP_GOOD:
        ctca_builder_add_der(b, CTCA_DER_CTX(0), NULL, 0);
        return CTCA_OK;
    case CTCA_OCSP_UNKNOWN:
        ctca_builder_add_der(b, CTCA_DER_CTX(2), NULL, 0);
        return CTCA_OK;
    case CTCA_OCSP_REVOKED:
        break;
    default:
        return CTCA_ERR_INTERNAL;
    }
    int reason = cs->rev.reason;
    if (reason < CTCA_REASON_UNSPECIFIED || reason > CTCA_REASON_AA_COMPROMISE)
        return CTCA_ERR_VALUE_RANGE;
    ctca_builder_open_der(b, CTCA_DER_CTX_C(1));
    ctca_builder_add_der_generalized_time(b, cs->rev.revoked_ms / 1000);
    /* CA/B BR 7.2.2, 7.3: a reasonCode, if present, is not unspecified. */
    if (reason != CTCA_REASON_UNSPECIFIED) {
        const uint8_t code = (uint8_t)reason;
        ctca_builder_open_der(b, CTCA_DER_CTX_C(0));
        ctca_builder_add_der(b, CTCA_DER_ENUMERATED, &code, 1);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
    return CTCA_OK;
}

/* SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus,
 * thisUpdate GeneralizedTime, nextUpdate [0] EXPLICIT GeneralizedTime
 * OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }: the
 * request's own CertID, and the SCTs (ctca/deliver.h). */
static ctca_err add_single(ctca_builder *b, const ctca_ocsp_req_cert *c, const cert_state *cs,
                           int64_t this_update, int64_t next_update)
{
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    if (cs->scts.n > 0)
        CTCA_GUARD(ctca_delivery_ocsp_extension(&cs->scts, &ext, &ext_len));
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_view(b, c->cert_id);
    ctca_err rc = add_cert_status(b, cs);
    ctca_builder_add_der_generalized_time(b, this_update);
    ctca_builder_open_der(b, CTCA_DER_CTX_C(0));
    ctca_builder_add_der_generalized_time(b, next_update);
    ctca_builder_close(b);
    if (ext != NULL) {
        ctca_builder_open_der(b, CTCA_DER_CTX_C(1));
        ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
        ctca_builder_add_bytes(b, ext, ext_len);
        ctca_builder_close(b);
        ctca_builder_close(b);
    }
    ctca_builder_close(b);
    free(ext);
    return rc;
}

/* ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1 (so
 * never encoded), responderID ResponderID, producedAt GeneralizedTime,
 * responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT
 * Extensions OPTIONAL }, as DER into *out. */
static ctca_err response_data(const ctca_ocsp_responder *r, const ctca_ocsp_request *p,
                              const cert_state *states, int64_t now_ms, uint8_t **out,
                              size_t *out_len)
{
    int64_t now = now_ms / 1000;
    ctca_err rc = CTCA_OK;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    /* byKey [2] KeyHash, the SHA-1 of the responder key's subjectPublicKey
     * bits: RFC 5019 2.2.3 prefers it to the longer byName. */
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(2));
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, r->key_hash, sizeof r->key_hash);
    ctca_builder_close(&b);
    ctca_builder_add_der_generalized_time(&b, now);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    for (size_t i = 0; rc == CTCA_OK && i < p->n; i++)
        rc = add_single(&b, &p->certs[i], &states[i], now,
                        now + (int64_t)r->validity_hours * 3600);
    ctca_builder_close(&b);
    if (p->nonce.len > 0) {
        /* The request's nonce extnValue, echoed (RFC 8954 2.1), not critical. */
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(1));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(&b, OID_NONCE, sizeof OID_NONCE);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, p->nonce.data, p->nonce.len);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    if (rc != CTCA_OK) {
        ctca_builder_cleanup(&b);
        return rc;
    }
    return ctca_builder_finish(&b, out, out_len);
}

/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0]
 * EXPLICIT ResponseBytes OPTIONAL }; ResponseBytes ::= SEQUENCE {
 * responseType id-pkix-ocsp-basic, response OCTET STRING } holding basic
 * (NULL: an unsuccessful response, the status alone). */
static ctca_err ocsp_response(ctca_ocsp_response_status status, const uint8_t *basic,
                              size_t basic_len, uint8_t **out, size_t *out_len)
{
    const uint8_t code = (uint8_t)status;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der(&b, CTCA_DER_ENUMERATED, &code, 1);
    if (basic != NULL) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_der_oid(&b, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC);
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, basic, basic_len);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    return ctca_builder_finish(&b, out, out_len);
}

/* BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData,
 * signatureAlgorithm AlgorithmIdentifier, signature BIT STRING, certs [0]
 * EXPLICIT SEQUENCE OF Certificate OPTIONAL }: the ResponseData signed by
 * the responder's signer (which never hands out its key), and the delegated
 * responder's certificate when it is not the CA that signs (4.2.2.2). */
static ctca_err build_basic(const ctca_ocsp_responder *r, const ctca_ocsp_request *p,
                            const cert_state *states, int64_t now_ms, uint8_t **out,
                            size_t *out_len)
{
    uint8_t *tbs = NULL, *sig = NULL;
    size_t tbs_len = 0, sig_len = 0;
    ctca_err rc = response_data(r, p, states, now_ms, &tbs, &tbs_len);
    if (rc == CTCA_OK)
        rc = ctca_signer_sign(r->key, ctca_view_make(tbs, tbs_len), &sig, &sig_len);
    if (rc != CTCA_OK)
        goto out;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_bytes(&b, tbs, tbs_len);
    ctca_builder_add_view(&b, ctca_signer_get0_alg(r->key));
    ctca_builder_add_der_bit_string(&b, sig, sig_len);
    if (r->cert != NULL) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_bytes(&b, r->cert, r->cert_len);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    rc = ctca_builder_finish(&b, out, out_len);
out:
    free(tbs);
    free(sig);
    return rc;
}

/* An unsuccessful response: only the status (RFC 6960 4.2.1). */
static ctca_err refuse(ctca_ocsp_response_status status, ctca_ocsp_answer *answer,
                       uint8_t **out, size_t *out_len)
{
    memset(answer, 0, sizeof *answer);
    answer->status = status;
    return ocsp_response(status, NULL, 0, out, out_len);
}

/* A delegated responder certificate must be valid when it signs. */
static bool signer_valid_at(const ctca_ocsp_responder *r, int64_t now_ms)
{
    time_t now = (time_t)(now_ms / 1000);
    return ASN1_TIME_cmp_time_t(X509_get0_notBefore(r->delegated), now) <= 0 &&
           ASN1_TIME_cmp_time_t(X509_get0_notAfter(r->delegated), now) >= 0;
}

ctca_err ctca_ocsp_respond(const ctca_ocsp_responder *r, ctca_store *store, ctca_view request,
                           int64_t now_ms, uint8_t **response, size_t *response_len,
                           ctca_ocsp_answer *answer, ctca_errbuf *eb)
{
    ctca_ocsp_request p;
    cert_state states[CTCA_OCSP_MAX_REQUESTS];
    uint8_t *basic = NULL;
    size_t basic_len = 0;
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
    if (rc == CTCA_OK && r->delegated != NULL && !signer_valid_at(r, now_ms))
        rc = ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                             "the delegated responder certificate is not valid now");
    if (rc == CTCA_OK && (rc = build_basic(r, &p, states, now_ms, &basic, &basic_len)) != CTCA_OK)
        ctca_errbuf_set(eb, rc, "signing the response");
    if (rc != CTCA_OK) {
        rc = refuse(CTCA_OCSP_INTERNAL_ERROR, answer, response, response_len);
        goto out;
    }
    rc = ocsp_response(CTCA_OCSP_SUCCESSFUL, basic, basic_len, response, response_len);
    answer->status = CTCA_OCSP_SUCCESSFUL;
out:
    for (size_t i = 0; i < CTCA_OCSP_MAX_REQUESTS; i++)
        ctca_delivery_cleanup(&states[i].scts);
    free(basic);
    return rc;
}
