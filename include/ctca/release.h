/* ctca/release.h - the release check of DESIGN.md step 5: before a final
 * certificate leaves the engine, its TBS is proven to correspond byte for
 * byte to the stored precertificate's and every embedded SCT is verified.
 * Only CT-level code (precertificate TBS reconstruction, SCT codecs and
 * verification, CMS precertificates) is needed, so it lives in core/ct/
 * (release.c) and the CT-version schemes call it. The CT 2.0 check is
 * ctca_final_cert_check_v2 (ctca/transparency.h). */
#ifndef CTCA_RELEASE_H
#define CTCA_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"
#include "ctca/sct.h"

/* SCTs this process has verified, each with the key that verified it, over
 * the precert entry of tbs and issuer_key_hash (views and pointers borrowed). */
typedef struct ctca_sct_memo {
    ctca_view tbs;
    const uint8_t *issuer_key_hash;
    const ctca_sct *scts;
    const ctca_log_key *const *keys;
    size_t n;
} ctca_sct_memo;

/* ctca_final_cert_check: the release check of DESIGN.md: final's TBS minus the
 * SCT list equals precert's TBS minus the poison byte for byte
 * (CTCA_ERR_TBS_MISMATCH) or, when preca (non-empty) signed precert, that TBS
 * rewritten to the final issuer (ctca_precert_tbs_from_preca_precert), and
 * every SCT embedded in final verifies with one of keys over the precert entry
 * for issuer_key_hash (the final issuer's) at now_ms (the first failing SCT's
 * error). An embedded SCT equal field for field to one in memo
 * (may be NULL), found under the same key, is not verified a second time when
 * memo's TBS and issuer key hash equal final's byte for byte: the signature
 * check is a function of exactly those bytes, already computed. */
CTCA_RESULT ctca_final_cert_check(ctca_view final, ctca_view precert, ctca_view preca,
                                  const uint8_t issuer_key_hash[CTCA_LOG_ID_LEN],
                                  ctca_log_key *const *keys, size_t n_keys,
                                  const ctca_sct_memo *memo, uint64_t now_ms, ctca_errbuf *eb);

/* ctca_unembedded_cert_check: the release check of a certificate issued
 * without embedded SCTs: final's TBSCertificate equals precert's TBS minus the
 * poison byte for byte (CTCA_ERR_TBS_MISMATCH; rewritten to the final issuer
 * when preca, non-empty, signed precert), so it carries neither the poison nor
 * an SCT list and corresponds to the logged precertificate. For a CT 2.0
 * precertificate (a CMS SignedData) it equals the CMS eContent. */
CTCA_RESULT ctca_unembedded_cert_check(ctca_view final, ctca_view precert, ctca_view preca,
                                       ctca_errbuf *eb);

#endif
