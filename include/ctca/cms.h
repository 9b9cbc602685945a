/* ctca/cms.h - RFC 9162 3.2 CMS precertificates: parsed and verified by a
 * log (or anyone checking the CA). The issuance engine builds them
 * (ctca/issue.h); signing one is not a public function.
 *
 * The profile, exactly: a DER ContentInfo holding SignedData v3;
 * digestAlgorithms = { SHA-256 } (the only hash of RFC 9162 10.2.1);
 * encapContentInfo with eContentType 1.3.101.78 and eContent the
 * TBSCertificate of the final certificate minus the Transparency Information
 * extension (1.3.101.75); no certificates, no CRLs; one SignerInfo v3 with a
 * subjectKeyIdentifier sid, digestAlgorithm SHA-256, signedAttrs holding only
 * content-type (1.3.101.78) and message-digest (SHA-256 of eContent),
 * signatureAlgorithm equal to the TBS's signature field, and no
 * unsignedAttrs.
 *
 * Because CMS verifiers hash the signed attributes with digestAlgorithm, a
 * CA whose signature algorithm does not use SHA-256 (ecdsa-with-SHA384 of a
 * P-384 key) cannot meet both "digestAlgorithm is SHA-256" and
 * "signatureAlgorithm equals the TBS's": such a CA is refused
 * (CTCA_ERR_KEY_UNSUPPORTED) rather than made to sign something verifiers
 * read differently. */
#ifndef CTCA_CMS_H
#define CTCA_CMS_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

/* A parsed CMS precertificate; every view borrows the parsed DER. */
typedef struct ctca_cms_precert {
    ctca_view tbs;           /* eContent: the TBSCertificate element */
    ctca_view signer_key_id; /* sid: the signer's subjectKeyIdentifier */
    ctca_view sig_alg;       /* signatureAlgorithm element (= the TBS's signature field) */
    ctca_view signed_attrs;  /* the SignerInfo's [0] IMPLICIT SignedAttributes element */
    ctca_view message_digest; /* the message-digest attribute's value (32 bytes) */
    ctca_view signature;
} ctca_cms_precert;

/* ctca_cms_precert_parse: der must be exactly one CMS precertificate of the
 * profile above. DER errors keep their codes (CTCA_ERR_TRUNCATED, ...); a
 * departure from the profile (other content type or version, certificates or
 * CRLs present, several signers or digest algorithms, an issuerAndSerialNumber
 * sid, other or unsorted signed attributes, unsigned attributes, an eContent
 * that is not a TBSCertificate or carries 1.3.101.75 or the CT poison) is
 * CTCA_ERR_CMS_MALFORMED; a signatureAlgorithm other than the TBS's is
 * CTCA_ERR_SIG_ALG_MISMATCH. *out is zeroed on failure. */
CTCA_RESULT ctca_cms_precert_parse(ctca_view der, ctca_cms_precert *out);

/* ctca_cms_precert_verify: issuer_cert (DER) signed p: the TBS's issuer is its
 * subject and the sid its key identifier (CTCA_ERR_ISSUER_MISMATCH), the
 * message digest is SHA-256 of eContent and the signature over the signed
 * attributes verifies with its key (CTCA_ERR_SIG_INVALID), the algorithm
 * being sha256WithRSAEncryption or ecdsa-with-SHA256 for a key of that kind
 * (CTCA_ERR_SIG_ALG_MISMATCH). */
CTCA_RESULT ctca_cms_precert_verify(const ctca_cms_precert *p, ctca_view issuer_cert);

#endif
