/* core/engine/scheme_int.h - what each CT version does in the pipeline
 * (scheme.c): the operations table behind ctca_ct_scheme (ctca/scheme.h).
 * The issuance engine and the queue worker call these and never compare CT
 * versions themselves. Not a public header. */
#ifndef CTCA_CORE_ENGINE_SCHEME_INT_H
#define CTCA_CORE_ENGINE_SCHEME_INT_H

#include "core/ca/ca_int.h"
#include "ctca/ctclient.h"
#include "ctca/issue.h"
#include "ctca/loglist.h"
#include "ctca/scheme.h"
#include "ctca/sct.h"
#include "ctca/store.h"
#include "ctca/transitem.h"

/* What logs sign for one record and what is submitted to them: for a
 * precertificate (RFC 6962 3.2: its TBS minus the poison, rewritten to the
 * final issuer when a PreCA signed; RFC 9162 3.2: the CMS eContent) or a
 * certificate (x509_entry). Views borrow the precertificate or certificate
 * given and tbs_owned (the journaled TBS is copied).
 * Zero it first; ctca_ct_entry_cleanup releases it. */
typedef struct ctca_ct_entry {
    ctca_entry_type type;
    ctca_signed_entry v1;
    ctca_entry_v2 v2;
    uint8_t *tbs_owned; /* the entry's TBS when it is not the journaled one */
    size_t tbs_owned_len;
    ctca_view chain[CTCA_PRECERT_CHAIN_MAX]; /* what is submitted, the entry first */
    size_t chain_len;
    bool preca; /* a PreCA signed the precertificate (CT 1.0) */
    /* The certificate's notBefore (ms; 0: unknown): a log saw the entry only
     * after it was made, so an SCT dated more than CTCA_SCT_CLOCK_SKEW_MS
     * before it is refused (CTCA_ERR_SCT_TOO_EARLY), whatever its signature. */
    int64_t not_before_ms;
} ctca_ct_entry;

/* How far a log's clock may run behind the CA's. */
#define CTCA_SCT_CLOCK_SKEW_MS (10 * 60 * 1000)

void ctca_ct_entry_cleanup(ctca_ct_entry *e);

/* A log's verified answer; sct is kept (CT 1.0, for the release check's memo)
 * when the caller asks for it. */
typedef struct ctca_ct_answer {
    uint64_t timestamp;
    bool has_sct;
    ctca_sct sct;
} ctca_ct_answer;

struct ctca_scheme_ops {
    /* Submission endpoints by entry type: [CTCA_ENTRY_X509], [CTCA_ENTRY_PRECERT]. */
    ctca_ct_endpoint endpoint[2];
    /* check_request: whether ca can issue under this scheme for a profile
     * (named in errors), with preca when the profile would use the CA's
     * PreCA; before anything is journaled. */
    CTCA_RESULT (*check_request)(const ctca_ca *ca, const char *profile, bool preca,
                                 ctca_errbuf *eb);
    /* build_tbs: the TBS to journal and sign (CT 1.0 with the poison, as the
     * PreCA issues it when preca; CT 2.0 the final TBS minus 1.3.101.75). */
    CTCA_RESULT (*build_tbs)(const ctca_ca *ca, const ctca_profile *profile, const ctca_csr *csr,
                             const uint8_t *serial, size_t serial_len, int64_t now_s, bool preca,
                             uint8_t **out, size_t *out_len, ctca_errbuf *eb);
    /* sign_precert: the precertificate of the journaled tbs. */
    CTCA_RESULT (*sign_precert)(const ctca_ca *ca, bool preca, ctca_view tbs, uint8_t **out,
                                size_t *out_len);
    /* precert_entry / cert_entry: e for a stored precertificate (tbs: the
     * journaled TBS) or a final certificate of ca. */
    CTCA_RESULT (*precert_entry)(const ctca_ca *ca, ctca_view tbs, ctca_view precert,
                                 ctca_ct_entry *e);
    CTCA_RESULT (*cert_entry)(const ctca_ca *ca, ctca_view cert, ctca_ct_entry *e);
    /* verify: a log's answer (bytes) parsed strictly and verified over e with
     * log's key at now_ms, its timestamp bounded below by e->not_before_ms;
     * a->sct kept when keep and the scheme has one. */
    CTCA_RESULT (*verify)(const ctca_ct_entry *e, const ctca_log_info *log,
                          const ctca_log_key *key, ctca_view bytes, uint64_t now_ms, bool keep,
                          ctca_ct_answer *a);
    /* final_tbs: base (the journaled TBS, as the CA issues it) with the n
     * stored SCTs scts (as logs sent them) in its extension. */
    CTCA_RESULT (*final_tbs)(ctca_view base, const ctca_view *scts, size_t n, uint8_t **out,
                             size_t *out_len);
    /* release_check: DESIGN.md step 5 for final against precert (preca: the
     * PreCA certificate that signed it, else empty), every embedded SCT
     * verified with one of logs[0..n); memo as for ctca_final_cert_check. */
    CTCA_RESULT (*release_check)(ctca_view final, ctca_view precert, ctca_view preca,
                                 const uint8_t issuer_key_hash[CTCA_HASH_LEN],
                                 const ctca_log_info *const *logs, size_t n,
                                 const ctca_sct_memo *memo, uint64_t now_ms, ctca_errbuf *eb);
    /* unembedded_tbs: the TBS of a certificate issued without SCTs. */
    ctca_view (*unembedded_tbs)(ctca_view journaled_tbs, const ctca_ct_entry *e);
    /* final_base: the journaled TBS as the CA issues it (CT 1.0 with a PreCA:
     * rewritten from the PreCA to the CA, poison kept); NULL *out: tbs as it is. */
    CTCA_RESULT (*final_base)(const ctca_ca *ca, const ctca_ct_entry *e, ctca_view tbs,
                              uint8_t **out, size_t *out_len);
};

/* ctca_scheme_of_record / _of_sct / _speaks: whether a record, a stored SCT
 * or a log belongs to scheme s. */
bool ctca_scheme_speaks(const ctca_ct_scheme *s, const ctca_log_info *log);
bool ctca_scheme_owns_sct(const ctca_ct_scheme *s, const ctca_store_sct *sct);

#endif
