/* ctca/policy.h - CT policies (Chrome, Apple, custom files for private PKIs)
 * and their verdict on a certificate's verified SCTs.
 *
 * A policy is data (ctca_policy): lifetime bands giving the number of SCTs
 * from distinct logs, which log states count, operator diversity, and how the
 * log list's age is judged. ctca_policy_chrome and ctca_policy_apple fill in
 * the published policies; ctca_policy_parse reads a custom one. The time of
 * check is always a parameter. */
#ifndef CTCA_POLICY_H
#define CTCA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"
#include "ctca/loglist.h"
#include "ctca/ocsp.h"
#include "ctca/sct.h"

#define CTCA_POLICY_MAX_BANDS 8
#define CTCA_POLICY_FILE_MAX ((size_t)64 * 1024)
#define CTCA_DAY_MS ((int64_t)86400 * 1000)

typedef enum ctca_sct_delivery {
    CTCA_SCT_EMBEDDED = 0,
    CTCA_SCT_TLS,
    CTCA_SCT_OCSP
} ctca_sct_delivery;

/* One SCT that verified, as the policy sees it. */
typedef struct ctca_policy_sct {
    uint8_t log_id[CTCA_LOG_ID_LEN];
    uint64_t timestamp_ms;
    ctca_sct_delivery delivery;
} ctca_policy_sct;

typedef enum ctca_verdict {
    CTCA_VERDICT_COMPLIANT = 0,
    CTCA_VERDICT_NOT_ENOUGH_SCTS,
    CTCA_VERDICT_NOT_DIVERSE_SCTS,
    CTCA_VERDICT_NOT_TIMELY
} ctca_verdict;

/* Which rule a non-compliant verdict failed, for machines (the text in
 * failed_rule is for people). */
typedef enum ctca_policy_rule {
    CTCA_RULE_NONE = 0,
    CTCA_RULE_LOG_LIST_AGE,          /* the log list is too old: not timely */
    CTCA_RULE_LIFETIME,              /* longer than the policy's last band */
    CTCA_RULE_EMBEDDED_CURRENT_LOG,  /* too few embedded SCTs from current logs */
    CTCA_RULE_EMBEDDED_OPERATORS,    /* too few distinct operators */
    CTCA_RULE_EMBEDDED_RFC6962_LOG,  /* no counted SCT from an RFC 6962 log */
    CTCA_RULE_EMBEDDED_LOG_COUNT,    /* too few distinct counting logs */
    CTCA_RULE_EMBEDDED_OPERATOR_CAP, /* enough logs, but too many of one operator */
    CTCA_RULE_TLS_NOT_ACCEPTED,      /* the policy accepts embedded SCTs only */
    CTCA_RULE_TLS_OPERATORS,
    CTCA_RULE_TLS_RFC6962_LOG,
    CTCA_RULE_TLS_LOG_COUNT
} ctca_policy_rule;

typedef struct ctca_policy_result {
    ctca_verdict verdict;
    ctca_policy_rule rule;  /* CTCA_RULE_NONE when compliant */
    char failed_rule[256];  /* empty when compliant */
} ctca_policy_result;

/* Certificates whose lifetime (notAfter - notBefore) is at most
 * max_lifetime_ms need scts SCTs from distinct counting logs, of which at most
 * max_per_operator (0: no cap) count per log operator. */
typedef struct ctca_policy_band {
    int64_t max_lifetime_ms;
    unsigned scts;
    unsigned max_per_operator;
} ctca_policy_band;

/* Log states as bit sets: CTCA_STATE_BIT(CTCA_LOG_STATE_USABLE) | ... */
#define CTCA_STATE_BIT(s) (1u << (unsigned)(s))

typedef struct ctca_policy {
    char name[64];
    ctca_policy_band bands[CTCA_POLICY_MAX_BANDS]; /* ascending max_lifetime_ms */
    size_t n_bands;           /* a lifetime beyond the last band never complies */
    unsigned counted_states;  /* embedded SCTs from logs in these states count */
    unsigned current_states;  /* "approved at the time of check" */
    unsigned min_current;     /* embedded SCTs needed from logs in current_states */
    unsigned min_operators;   /* distinct operators among counted embedded SCTs */
    bool retired_by_earliest; /* an SCT from a Retired log counts when it predates
                               * the retirement and (Chrome) so does the earliest
                               * SCT from a log current at the time of check */
    bool require_rfc6962;     /* at least one counted SCT from a non-tiled log */
    int64_t max_list_age_ms;  /* a log list this old or older is not timely; 0: no check */
    unsigned tls_scts;        /* TLS/OCSP SCTs (pooled) needed from current logs;
                               * 0: only embedded SCTs can comply */
    unsigned tls_min_operators;
    bool tls_pools_embedded;  /* with at least one TLS/OCSP SCT, embedded SCTs from
                               * current logs join the pool (Chrome) */
} ctca_policy;

/* ctca_policy_chrome: Chrome's CT policy (chrome-ct_policy.md): embedded, >= 2
 * distinct logs for a lifetime <= 180 days, 3 above; >= 1 from a
 * Qualified/Usable/ReadOnly log; >= 2 operators; >= 1 from an RFC 6962 (not
 * static-ct-api) log; TLS/OCSP: 2 from current logs of distinct operators,
 * embedded ones from current logs pooled in; log list younger than 70 days. */
void ctca_policy_chrome(ctca_policy *out);
/* ctca_policy_apple: Apple's CT policy: 2 SCTs (at most 1 per operator) up to
 * 180 days (a day being 86,400 s, any remainder a whole day), 3 (at most 2 per
 * operator) for 181-398 days, >= 1 from a currently approved log, >= 1 from
 * an RFC 6962 log. No log-list age check. */
void ctca_policy_apple(ctca_policy *out);

/* ctca_policy_parse: a custom policy (JSON, at most CTCA_POLICY_FILE_MAX
 * bytes):
 *   {"name": "corp",                                    optional
 *    "lifetime_bands": [{"max_days": 90, "scts": 1, "max_per_operator": 0}, ...],
 *    "min_operators": 1,
 *    "counted_states": ["usable", "qualified", "readonly", "retired"],
 *    "current_states": ["usable"],            optional, default counted minus retired
 *    "min_current": 1,                        optional, default 1
 *    "retired_judged_by": "earliest_sct",     optional: or "each_sct"
 *    "require_rfc6962": false,                optional
 *    "max_log_list_age_days": 0,              optional, 0 = no check
 *    "tls": {"scts": 2, "min_operators": 2,   optional; absent: embedded only
 *            "pool_embedded": false}}         optional
 * Strict: unknown fields, wrong types and out-of-range values are
 * CTCA_ERR_CONFIG with the field path in eb ("lifetime_bands[1].scts: ..."). */
CTCA_RESULT ctca_policy_parse(const char *json, size_t len, ctca_policy *out, ctca_errbuf *eb);
/* ctca_policy_load: "chrome", "apple", or the path of a custom policy file. */
CTCA_RESULT ctca_policy_load(const char *name_or_path, ctca_policy *out, ctca_errbuf *eb);

/* ctca_policy_evaluate: the verdict of policy on the verified SCTs scts[0..n)
 * of a certificate valid from not_before_ms to not_after_ms, with list's log
 * states and operators, at time of check at_ms. SCTs from logs not in list do
 * not count; several SCTs from one log count once; a negative lifetime falls
 * in the first band. Rules are checked in Chromium's order (current log,
 * operators, RFC 6962 log, count), and when TLS/OCSP SCTs from current logs
 * were presented the verdict is theirs. Fails only on bad arguments
 * (CTCA_ERR_INTERNAL); the verdict is in *out. */
CTCA_RESULT ctca_policy_evaluate(const ctca_policy *policy, const ctca_log_list *list,
                                 int64_t not_before_ms, int64_t not_after_ms,
                                 const ctca_policy_sct *scts, size_t n, int64_t at_ms,
                                 ctca_policy_result *out);

/* What a policy asks of a certificate's embedded SCTs for its lifetime: the
 * one home of the band and count arithmetic, asked by the evaluator and by
 * the issuance engine alike. */
typedef struct ctca_policy_need {
    const ctca_policy_band *band; /* the lifetime's band, borrowed from the policy;
                                   * NULL unless CTCA_OK */
    unsigned scts;                /* SCTs to collect from distinct logs: the band's
                                   * count, and at least one per operator needed */
    unsigned operators;           /* distinct log operators needed */
    ctca_policy_rule rule;        /* CTCA_RULE_NONE, or what failed: LOG_LIST_AGE, LIFETIME */
    int64_t list_age_ms;          /* at now_ms */
} ctca_policy_need;

/* ctca_policy_requirement: how many SCTs from how many operators policy
 * needs for a certificate valid from not_before_ms to not_after_ms, judged
 * with list at now_ms, into *out. CTCA_ERR_POLICY_UNMET, with out->rule and a
 * message in eb, when list is as old as the policy's max_list_age_ms or
 * older (CTCA_RULE_LOG_LIST_AGE, checked first) or the lifetime is longer
 * than its last band (CTCA_RULE_LIFETIME); CTCA_ERR_INTERNAL on bad
 * arguments. */
CTCA_RESULT ctca_policy_requirement(const ctca_policy *policy, int64_t not_before_ms,
                                    int64_t not_after_ms, const ctca_log_list *list,
                                    int64_t now_ms, ctca_policy_need *out, ctca_errbuf *eb);

/* ctca_verdict_name: "compliant", "not_enough_scts", "not_diverse_scts",
 * "not_timely". */
const char *ctca_verdict_name(ctca_verdict verdict);
/* ctca_policy_rule_name: "log_list_age", "embedded_operators", ... ("none"
 * for CTCA_RULE_NONE). */
const char *ctca_policy_rule_name(ctca_policy_rule rule);

/* ctca_log_operator_at: the name of the operator running log at time_ms
 * (previous_operators, then the current one); borrowed from log. */
const char *ctca_log_operator_at(const ctca_log_info *log, int64_t time_ms);

/* ---- checking a certificate ------------------------------------------------ */

/* One SCT presented with a certificate and its verification. */
typedef struct ctca_policy_sct_check {
    ctca_sct sct;               /* owned by the enclosing report */
    unsigned ct_version;        /* 1; or 2 for an RFC 9162 SCT from 1.3.101.75: then sct
                                 * holds only its timestamp and, when its log (found by
                                 * OID) is in the list, that log's key hash as log_id */
    ctca_transitem sct_v2;      /* ct_version 2: the SCT TransItem, owned by the report */
    ctca_sct_delivery delivery;
    const ctca_log_info *log;   /* borrowed from the list; NULL when not in it */
    ctca_err status;            /* CTCA_OK, CTCA_ERR_SCT_UNKNOWN_LOG, or why it fails */
} ctca_policy_sct_check;

/* What ctca_cert_check_policy judges: a final certificate, its issuer, and
 * the SCTs delivered beside it. Views are borrowed; len 0 means absent. */
typedef struct ctca_cert_policy_input {
    ctca_view cert;          /* DER final certificate; embedded SCTs, if any */
    ctca_view issuer_cert;   /* DER certificate of cert's issuer */
    ctca_view tls_sct_list;  /* a TLS SignedCertificateTimestampList over cert */
    ctca_view ocsp_response; /* a DER OCSPResponse about cert (ctca/ocsp.h) */
    const ctca_log_key *const *extra_keys; /* logs outside the list: verified, never counted */
    size_t n_extra;
} ctca_cert_policy_input;

typedef struct ctca_cert_policy_report {
    ctca_policy_sct_check *items; /* embedded first (RFC 6962, then RFC 9162), then TLS,
                                   * then OCSP, in list order */
    size_t n;
    size_t n_valid, n_invalid, n_unknown;
    int64_t not_before_ms, not_after_ms;
    bool has_ocsp;                /* an OCSP response was given and checked */
    ctca_ocsp_info ocsp;
    ctca_policy_result result;
} ctca_cert_policy_report;

/* ctca_cert_check_policy: verifies every SCT embedded in in->cert (a final
 * certificate issued by in->issuer_cert; none is fine) as a precert entry,
 * RFC 9162 SCTs of its Transparency Information with the keys of list's
 * ct_version 2 logs of their OIDs (ctca/transparency.h),
 * and every SCT of in->tls_sct_list and of in->ocsp_response's SCT extension
 * as an x509_entry of in->cert, against the keys of list's logs and
 * in->extra_keys, then judges the SCTs that verified under policy at at_ms.
 * Fails on unusable input (malformed certificate, SCT list or OCSP response,
 * issuer mismatch, an OCSP response not about cert or not signed by its
 * issuer or delegated responder), with context in eb; per-SCT results and
 * the verdict are in *out, which the caller releases with
 * ctca_cert_policy_report_cleanup (zeroed on failure). */
CTCA_RESULT ctca_cert_check_policy(const ctca_cert_policy_input *in, const ctca_log_list *list,
                                   const ctca_policy *policy, int64_t at_ms,
                                   ctca_cert_policy_report *out, ctca_errbuf *eb);
/* ctca_cert_policy_report_cleanup: accepts a zeroed report. */
void ctca_cert_policy_report_cleanup(ctca_cert_policy_report *report);

#endif
