/* ctca/ocsp.h - OCSP responses (RFC 6960) as a way SCTs reach a relying party:
 * the SingleResponse for a certificate, the SCT list in its singleExtensions
 * (1.3.6.1.4.1.11129.2.4.5, RFC 6962 3.3), and the response's signature.
 *
 * Parsing is strict DER through ctca_view: DER errors keep their own codes,
 * well-formed DER that is not a basic OCSP response is
 * CTCA_ERR_OCSP_MALFORMED. Freshness (thisUpdate/nextUpdate) is reported, not
 * judged: a CT policy check does not depend on it. */
#ifndef CTCA_OCSP_H
#define CTCA_OCSP_H

#include <stdbool.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

/* Certificates carried in a response (the delegated responder's) we look at. */
#define CTCA_OCSP_MAX_CERTS 8

typedef enum ctca_ocsp_cert_status {
    CTCA_OCSP_GOOD = 0,
    CTCA_OCSP_REVOKED,
    CTCA_OCSP_UNKNOWN
} ctca_ocsp_cert_status;

/* What a checked response says about the certificate. */
typedef struct ctca_ocsp_info {
    ctca_ocsp_cert_status cert_status;
    int64_t produced_at_ms;
    int64_t this_update_ms;
    bool delegated; /* signed by a delegated responder certificate, not the issuer */
} ctca_ocsp_info;

/* ctca_ocsp_response_check: response is a DER OCSPResponse (status
 * successful, a BasicOCSPResponse) about cert, issued by issuer_cert. Finds
 * the SingleResponse whose CertID names cert's serial with issuer_cert's name
 * and key hashes (SHA-1 or SHA-2), and checks the response's signature by
 * issuer_cert's key, or by a certificate in the response's certs that
 * issuer_cert issued with the id-kp-OCSPSigning EKU and that the responder ID
 * names. The whole response is parsed before the certificates are looked
 * at. *sct_list borrows the TLS SignedCertificateTimestampList of that
 * SingleResponse's SCT extension from response (len 0 when it has none).
 * Errors: DER codes and CTCA_ERR_OCSP_MALFORMED for bytes that are not a
 * basic response, CTCA_ERR_OCSP_STATUS for an unsuccessful one,
 * CTCA_ERR_ISSUER_MISMATCH, CTCA_ERR_OCSP_NO_MATCH, CTCA_ERR_OCSP_SIGNER (no
 * acceptable signer), CTCA_ERR_SIG_INVALID, CTCA_ERR_SIG_ALG_UNSUPPORTED;
 * eb says which part. */
CTCA_RESULT ctca_ocsp_response_check(ctca_view response, ctca_view cert, ctca_view issuer_cert,
                                     ctca_ocsp_info *info, ctca_view *sct_list,
                                     ctca_errbuf *eb);

/* ctca_ocsp_cert_status_name: "good", "revoked", "unknown". */
const char *ctca_ocsp_cert_status_name(ctca_ocsp_cert_status status);

#endif
