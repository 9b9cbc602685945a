/* core/ocsp_int.h - internals shared by the OCSP response checker (ocsp.c),
 * the responder (ocsp_responder.c) and tests. Not a public header. */
#ifndef CTCA_CORE_OCSP_INT_H
#define CTCA_CORE_OCSP_INT_H

#include <openssl/evp.h>

#include "ctca/asn1.h"
#include "ctca/ocsp.h"

/* ctca_ocsp_hash_md: the digest a CertID's hashAlgorithm OID (contents) names,
 * SHA-1 or SHA-256/384/512; NULL for any other. */
const EVP_MD *ctca_ocsp_hash_md(ctca_view oid);

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

#endif
