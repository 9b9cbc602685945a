/* ctca/issue.h - the issuance engine: CSR in, certificate with embedded SCTs out.
 *
 * ctca_issue runs the pipeline of DESIGN.md: validate the CSR against the
 * profile, allocate a fresh serial, journal the precertificate TBS in the
 * store, sign the precertificate, submit it to the selected logs in parallel,
 * verify and store each SCT as it arrives, stop once the CT requirement
 * (ct.min_scts distinct logs of ct.min_operators distinct operators) is met,
 * then build the final TBS, prove it corresponds to the precertificate byte
 * for byte, sign it, verify every embedded SCT against the final certificate,
 * and store it. When the requirement is not met by the deadline the record is
 * marked failed with every log's outcome; the precertificate stays on record. */
#ifndef CTCA_ISSUE_H
#define CTCA_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "ctca/ca.h"
#include "ctca/error.h"
#include "ctca/sct.h"

typedef struct ctca_issue_request {
    const char *csr_path;      /* PEM or DER */
    const char *profile;       /* NULL: "tls-server" */
    const char *log_list_path; /* NULL: the CA's configured list */
    int64_t now_ms;            /* wall clock for validity and the audit journal */
    /* The wall clock for SCT timestamp checks as SCTs arrive; NULL = ctca_now_ms. */
    int64_t (*clock_ms)(void *arg);
    void *clock_arg;
} ctca_issue_request;

/* What happened at one log. Strings are owned by the result. */
typedef struct ctca_issue_log_outcome {
    char *description;
    char *url;
    ctca_err err;  /* CTCA_OK when its SCT was verified and stored */
    char *detail;  /* human reason ("" on success) */
    uint64_t elapsed_ms;
} ctca_issue_log_outcome;

typedef struct ctca_issue_result {
    char serial[41];     /* lower-case hex */
    uint8_t *cert;       /* final certificate DER (NULL unless issued) */
    size_t cert_len;
    uint8_t *precert;    /* precertificate DER (NULL if never signed) */
    size_t precert_len;
    size_t n_embedded;   /* SCTs embedded in cert */
    ctca_issue_log_outcome *logs;
    size_t n_logs;
} ctca_issue_result;

/* ctca_issue: issues one certificate (see the header comment). On CTCA_OK
 * res->cert holds the final certificate. On failure res still holds what is
 * known (serial, precert, per-log outcomes) and eb the reason; the store keeps
 * every record. The caller releases res with ctca_issue_result_cleanup in both
 * cases. */
CTCA_RESULT ctca_issue(const ctca_ca *ca, const ctca_issue_request *req, ctca_issue_result *res,
                       ctca_errbuf *eb);

/* ctca_issue_result_cleanup: frees res's buffers and zeroes it. */
void ctca_issue_result_cleanup(ctca_issue_result *res);

/* ctca_final_cert_check: the release check of DESIGN.md: final's TBS minus the
 * SCT list equals precert's TBS minus the poison byte for byte
 * (CTCA_ERR_TBS_MISMATCH), and every SCT embedded in final verifies with one
 * of keys over the precert entry for issuer_key_hash at now_ms (the first
 * failing SCT's error). */
CTCA_RESULT ctca_final_cert_check(ctca_view final, ctca_view precert,
                                  const uint8_t issuer_key_hash[CTCA_LOG_ID_LEN],
                                  ctca_log_key *const *keys, size_t n_keys, uint64_t now_ms,
                                  ctca_errbuf *eb);

#endif
