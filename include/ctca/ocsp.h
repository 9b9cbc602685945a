/* ctca/ocsp.h - OCSP (RFC 6960) as a way SCTs reach a relying party: checking
 * a response (the SingleResponse for a certificate, the SCT list in its
 * singleExtensions, 1.3.6.1.4.1.11129.2.4.5, RFC 6962 3.3, and the response's
 * signature), and answering requests from the store as the CA's responder.
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
#include "ctca/store.h"

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

/* ---- revocation reasons ---------------------------------------------------- */

/* ctca_revocation_reason_parse: the CTCA_REASON_* code (ctca/store.h) of an
 * RFC 5280 5.3.1 CRLReason name: unspecified, keyCompromise, cACompromise,
 * affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn,
 * aACompromise. certificateHold and removeFromCRL (a revocation is final) and
 * anything else: CTCA_ERR_USAGE. */
CTCA_RESULT ctca_revocation_reason_parse(const char *name, int *code);
/* ctca_revocation_reason_name: the name of a CTCA_REASON_* code; static,
 * "unknown" for any other value. */
const char *ctca_revocation_reason_name(int code);

/* ---- the responder ---------------------------------------------------------- */

#define CTCA_OCSP_REQUEST_MAX_LEN 16384 /* bytes of one DER OCSPRequest */
#define CTCA_OCSP_MAX_REQUESTS 16       /* CertIDs in one request (RFC 5019: one) */
#define CTCA_OCSP_NONCE_MAX 32          /* RFC 8954 2.1 */

/* OCSPResponseStatus values (RFC 6960 4.2.1) the responder answers with. */
typedef enum ctca_ocsp_response_status {
    CTCA_OCSP_SUCCESSFUL = 0,
    CTCA_OCSP_MALFORMED_REQUEST = 1,
    CTCA_OCSP_INTERNAL_ERROR = 2,
    CTCA_OCSP_UNAUTHORIZED = 6
} ctca_ocsp_response_status;

/* ctca_ocsp_response_status_name: "successful", "malformedRequest",
 * "internalError", "unauthorized"; static. */
const char *ctca_ocsp_response_status_name(ctca_ocsp_response_status status);

/* What a response said, per CertID of the request, in request order. */
typedef struct ctca_ocsp_answer {
    ctca_ocsp_response_status status;
    size_t n; /* SingleResponses (0 unless successful) */
    struct {
        char serial[CTCA_STORE_SERIAL_MAX + 1]; /* "" when not a serial ctca can issue */
        ctca_ocsp_cert_status cert_status;
        bool other_issuer;  /* the CertID names another issuer (answered unknown) */
        int reason;         /* CTCA_REASON_*, when revoked */
        size_t n_scts;      /* SCTs in its 1.3.6.1.4.1.11129.2.4.5 extension */
    } items[CTCA_OCSP_MAX_REQUESTS];
} ctca_ocsp_answer;

typedef struct ctca_ocsp_responder ctca_ocsp_responder;
/* ctca/ca.h includes this header (through ctca/policy.h), so the CA is
 * declared here rather than included. */
typedef struct ctca_ca ctca_ca;

/* ctca_ocsp_responder_new: a responder for ca (borrowed; it must outlive the
 * responder) with its "ocsp" settings: responses valid validity_hours, signed
 * by the CA key or, when configured, by the delegated responder key, whose
 * certificate must match it, be issued (name and signature) by the CA and
 * carry the id-kp-OCSPSigning EKU (else CTCA_ERR_CONFIG naming the file; the
 * key file's mode is checked as the CA key's). Caller owns *out
 * (ctca_ocsp_responder_free). */
CTCA_RESULT ctca_ocsp_responder_new(const ctca_ca *ca, ctca_ocsp_responder **out,
                                    ctca_errbuf *eb);
/* ctca_ocsp_responder_free: accepts NULL. */
void ctca_ocsp_responder_free(ctca_ocsp_responder *r);

/* ctca_ocsp_respond: the DER OCSPResponse answering request (a DER
 * OCSPRequest, at most CTCA_OCSP_REQUEST_MAX_LEN bytes) from store, at
 * now_ms. The request is parsed strictly (DER, no version field, at most
 * CTCA_OCSP_MAX_REQUESTS CertIDs, no unknown critical extension, a nonce of
 * 1..CTCA_OCSP_NONCE_MAX octets); anything else is answered
 * malformedRequest. Its signature, if any, is not checked: the responder
 * answers anyone. Each CertID (SHA-1 or SHA-2 hashes) naming this CA gets
 * good (a signed record), revoked (time and reason; no reasonCode for
 * unspecified, as CA/B BR 7.2.2 and 7.3 ask) or unknown (a serial never signed or not
 * in the store); one naming another issuer gets unknown, and a request naming
 * only other issuers is answered unauthorized (RFC 5019 2.2.3). A
 * SingleResponse carries the certificate's stored x509_entry SCTs (RFC 6962)
 * in 1.3.6.1.4.1.11129.2.4.5 when there are any; thisUpdate is now_ms,
 * nextUpdate validity_hours later, producedAt now_ms too; the nonce is
 * echoed. The response (responder ID byKey) is signed by the CA's key or the
 * delegated responder's, which then sends its certificate; neither key
 * leaves its signer. A store failure is answered internalError.
 * Returns CTCA_OK whenever *response (malloc'd, caller frees) holds a
 * response to send, successful or not (answer->status; eb says why a request
 * was refused); an error only when none could be built. */
CTCA_RESULT ctca_ocsp_respond(const ctca_ocsp_responder *r, ctca_store *store, ctca_view request,
                              int64_t now_ms, uint8_t **response, size_t *response_len,
                              ctca_ocsp_answer *answer, ctca_errbuf *eb);

#endif
