/* core/ct/cms_int.h - building RFC 9162 3.2 CMS precertificates (cms.c), for
 * the issuance engine. Internal: a public function that signs a CMS over any
 * TBS would sign what was never journaled. */
#ifndef CTCA_CORE_CMS_INT_H
#define CTCA_CORE_CMS_INT_H

#include "core/x509/signer_int.h"
#include "ctca/cms.h"

/* ctca_cms_precert_check_signer: CTCA_OK when s can sign CMS
 * precertificates (its signature algorithm uses SHA-256),
 * CTCA_ERR_KEY_UNSUPPORTED otherwise (ctca/cms.h says why): checked before
 * anything is journaled. */
CTCA_RESULT ctca_cms_precert_check_signer(const ctca_signer *s);

/* ctca_cms_precert_build: the CMS precertificate over tbs (a TBSCertificate
 * element signed with s's algorithm, without 1.3.101.75 and without the CT
 * poison, else CTCA_ERR_CMS_MALFORMED; CTCA_ERR_SIG_ALG_MISMATCH when its
 * signature field is not s's algorithm) signed by s, the signature verified
 * before it is returned, with key_id (the signer certificate's
 * subjectKeyIdentifier, or its RFC 5280 method-1 key ID) as the sid. *out
 * malloc'd, caller frees. Thread-safe. */
CTCA_RESULT ctca_cms_precert_build(const ctca_signer *s, ctca_view key_id, ctca_view tbs,
                                   uint8_t **out, size_t *out_len);

#endif
