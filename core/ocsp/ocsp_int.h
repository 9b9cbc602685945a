/* core/ocsp/ocsp_int.h - the responder's request parser (ocsp_responder.c),
 * for its fuzz target and tests, and a responder over a given signer. Not a
 * public header. */
#ifndef CTCA_CORE_OCSP_INT_H
#define CTCA_CORE_OCSP_INT_H

#include "core/x509/signer_int.h"
#include "ctca/asn1.h"
#include "ctca/ocsp.h"

/* One Request of an OCSPRequest's requestList; views borrow the request. */
typedef struct ctca_ocsp_req_cert {
    ctca_view cert_id;  /* the CertID element, echoed in the response */
    ctca_view hash_oid, name_hash, key_hash;
    ctca_view serial;   /* INTEGER contents */
} ctca_ocsp_req_cert;

typedef struct ctca_ocsp_request {
    ctca_ocsp_req_cert certs[CTCA_OCSP_MAX_REQUESTS];
    size_t n;
    ctca_view nonce; /* extnValue contents of the nonce extension; len 0: none */
} ctca_ocsp_request;

/* ctca_ocsp_request_parse: der as the strict, bounded OCSPRequest
 * ctca_ocsp_respond accepts (see there), into *out (views borrow der);
 * CTCA_ERR_OCSP_REQUEST with where in eb otherwise. */
CTCA_RESULT ctca_ocsp_request_parse(ctca_view der, ctca_ocsp_request *out, ctca_errbuf *eb);

/* ctca_ocsp_responder_new_with: as ctca_ocsp_responder_new, but signing
 * with key (taken, also on failure), of any kind: with cert (DER) as the
 * delegated responder's certificate, checked as the "ocsp" settings' is, or,
 * when cert is empty, as the CA itself (key must then be the CA's key:
 * CTCA_ERR_CONFIG otherwise). For signers ctca.json cannot name yet (a
 * PKCS#11 key) and for tests. */
CTCA_RESULT ctca_ocsp_responder_new_with(const ctca_ca *ca, ctca_signer *key, ctca_view cert,
                                         ctca_ocsp_responder **out, ctca_errbuf *eb);

#endif
