/* ctca/transparency.h - RFC 9162 in certificates: the Transparency Information
 * extension (1.3.101.75, 7.1.2), the TBSCertificate a precert_sct_v2 covers
 * (8.1.2), verification of the SCTs a certificate embeds against a log list,
 * and the CA's release check for a CT 2.0 certificate.
 *
 * The extension's extnValue is an OCTET STRING holding the TransItemList
 * (7.1: the list is wrapped once more, as RFC 6962's SCT list is). */
#ifndef CTCA_TRANSPARENCY_H
#define CTCA_TRANSPARENCY_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"
#include "ctca/loglist.h"
#include "ctca/transitem.h"

/* ctca_tbs_add_transparency_info: tbs (a TBSCertificate element without
 * 1.3.101.75: CTCA_ERR_EXT_DUPLICATE otherwise) with the Transparency
 * Information extension appended, non-critical, holding item_list (a
 * TransItemList, parsed strictly first). So the result minus the extension is
 * tbs byte for byte. *out malloc'd, caller frees. */
CTCA_RESULT ctca_tbs_add_transparency_info(ctca_view tbs, ctca_view item_list, uint8_t **out,
                                           size_t *out_len);

/* ctca_cert_get_transparency_info: the TransItemList in cert's 1.3.101.75
 * extension (CTCA_ERR_NO_TRANSPARENCY_INFO when absent). Caller owns *out
 * (ctca_transitem_list_cleanup). */
CTCA_RESULT ctca_cert_get_transparency_info(ctca_view cert, ctca_transitem_list *out);

/* ctca_v2_tbs_from_final: RFC 9162 8.1.2: cert's TBSCertificate without
 * 1.3.101.75 (CTCA_ERR_NO_TRANSPARENCY_INFO when absent) and without an RFC
 * 6962 SCT list. *tbs malloc'd, caller frees. */
CTCA_RESULT ctca_v2_tbs_from_final(ctca_view cert, uint8_t **tbs, size_t *tbs_len);

/* The verdict on one SCT TransItem embedded in a certificate. */
typedef struct ctca_v2_sct_check {
    ctca_transitem sct;       /* owned by the enclosing ctca_v2_checks */
    const ctca_log_info *log; /* the list's log with the SCT's OID; NULL: unknown */
    ctca_err status;          /* CTCA_OK, CTCA_ERR_SCT_UNKNOWN_LOG,
                               * CTCA_ERR_TRANSITEM_WRONG_TYPE (an x509_sct_v2 cannot
                               * be about the certificate holding it, 7.1.2), or a
                               * ctca_sct_v2_verify error */
} ctca_v2_sct_check;

typedef struct ctca_v2_checks {
    ctca_v2_sct_check *items; /* the SCTs, in list order */
    size_t n;
    size_t n_valid, n_invalid, n_unknown;
    size_t n_other; /* STHs and proofs beside the SCTs: not checked here */
} ctca_v2_checks;

/* ctca_embedded_sct_v2_verify: the verdict on one TransItem embedded in a
 * certificate, for the log of its OID (NULL when unknown:
 * CTCA_ERR_SCT_UNKNOWN_LOG): an SCT about the precertificate (RFC 9162 7.1.2;
 * CTCA_ERR_TRANSITEM_WRONG_TYPE otherwise) that verifies over entry at now_ms
 * (ctca_sct_v2_verify). */
CTCA_RESULT ctca_embedded_sct_v2_verify(const ctca_transitem *sct, const ctca_log_v2 *log,
                                        const ctca_entry_v2 *entry, uint64_t now_ms);

/* ctca_cert_verify_embedded_v2: checks every SCT in cert's Transparency
 * Information as a precert_sct_v2 over the 8.1.2 TBS with issuer_cert's key
 * hash (issuer_cert must have issued cert: CTCA_ERR_ISSUER_MISMATCH), with
 * the key of the list's RFC 9162 log of the SCT's OID, at now_ms. Fails only
 * when the inputs are unusable (malformed, CTCA_ERR_NO_TRANSPARENCY_INFO);
 * per-SCT verdicts are in *out (ctca_v2_checks_cleanup; zeroed on failure). */
CTCA_RESULT ctca_cert_verify_embedded_v2(ctca_view cert, ctca_view issuer_cert,
                                         const ctca_log_list *list, uint64_t now_ms,
                                         ctca_v2_checks *out);
/* ctca_v2_checks_cleanup: frees and zeroes c; accepts a zeroed one. */
void ctca_v2_checks_cleanup(ctca_v2_checks *c);

/* ctca_final_cert_check_v2: the release check for CT 2.0: final's TBS minus
 * 1.3.101.75 equals the eContent of the CMS precertificate cms byte for byte
 * (CTCA_ERR_TBS_MISMATCH), and every item of its Transparency Information is
 * a precert_sct_v2 that verifies with the log among logs[0..n_logs) of its
 * OID, over that TBS and issuer_key_hash, at now_ms (the first failure's
 * error, with which SCT in eb). */
CTCA_RESULT ctca_final_cert_check_v2(ctca_view final, ctca_view cms,
                                     const uint8_t issuer_key_hash[CTCA_HASH_LEN],
                                     const ctca_log_v2 *logs, size_t n_logs, uint64_t now_ms,
                                     ctca_errbuf *eb);

#endif
