/* ctca-vectors: writes the CT policy conformance vectors (vectors/README.md).
 *
 *   ctca-vectors --keys vectors/keys --out vectors
 *
 * Every case gets a real certificate issued by the vectors CA, with real SCTs
 * signed by the vectors' log keys over the real precert or x509 entries, a v3
 * log list saying what each log is, and the expected verdict. All keys are
 * committed RSA keys and every time is fixed: RSA PKCS#1 v1.5 signatures are
 * deterministic, so the output is byte for byte the same on every run. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ca/ca_int.h"
#include "ctca/asn1.h"
#include "ctca/sct.h"
#include "ctca/util.h"

#define DAY ((int64_t)86400 * 1000)
#define HOUR ((int64_t)3600 * 1000)
#define SEC ((int64_t)1000)
#define T ((int64_t)1748822400000) /* 2025-06-02T00:00:00Z: issuance, SCTs */
#define AT (T + 30 * DAY)          /* the time of check */
#define LIST_AT (AT - DAY)         /* the log list's timestamp */
#define R (T + DAY)                /* when the retired logs of some cases retired */
#define CA_FROM ((int64_t)1577836800000) /* 2020-01-01 */
#define CA_TO ((int64_t)2208988800000)   /* 2040-01-01 */

#define N_LOG_KEYS 6
#define MAX_LOGS 6
#define MAX_SCTS 6

enum { EMB = 1, TLS, OCSP };

typedef struct prev_op {
    const char *name;
    int64_t end_ms;
} prev_op;

typedef struct log_def {
    int key; /* 1..N_LOG_KEYS: vectors/keys/log<key>.pem; 0 ends the list */
    const char *op;
    const char *state;
    int64_t state_ms;
    bool tiled;
    prev_op prev[2];
} log_def;

typedef struct sct_def {
    int log; /* 1-based index into the case's logs; 0 ends the list */
    int delivery;
    int64_t ts_ms;
} sct_def;

typedef struct vcase {
    const char *name;
    const char *scenario;
    const char *description;
    const char *policy;
    int64_t lifetime_ms;
    int64_t list_ms; /* 0: LIST_AT */
    log_def logs[MAX_LOGS];
    sct_def scts[MAX_SCTS];
    bool delegated_ocsp; /* the OCSP response is signed by a delegated responder */
    const char *verdict;
    const char *rule; /* NULL when compliant */
} vcase;

#define USABLE(k, op) {k, op, "usable", T - 365 * DAY, false, {{0}}}
#define TILED(k, op) {k, op, "usable", T - 365 * DAY, true, {{0}}}
#define STATE(k, op, st, ms) {k, op, st, ms, false, {{0}}}
#define SWITCHED(k, op, p1, e1, p2, e2) {k, op, "usable", T - 365 * DAY, false, {{p1, e1}, {p2, e2}}}
#define E(l) {l, EMB, T}
#define E_AT(l, ts) {l, EMB, ts}
#define S(l) {l, TLS, T}
#define S_AT(l, ts) {l, TLS, ts}
#define O(l) {l, OCSP, T}
#define CHROMIUM(t) "Chromium ChromeCTPolicyEnforcerTest." t
#define YEAR (365 * DAY)
#define OK "compliant"
#define NOT_ENOUGH "not_enough_scts"
#define NOT_DIVERSE "not_diverse_scts"

static const vcase cases[] = {
    /* ---- Chrome: Chromium's policy-enforcer scenarios ---------------------- */
    {"chrome_embedded", CHROMIUM("ConformsToCTPolicyWithEmbeddedSCTs"),
     "three embedded SCTs from logs of three operators on a 1-year certificate", "chrome", YEAR,
     0, {USABLE(1, "Op0"), USABLE(2, "Op1"), USABLE(3, "Op2")}, {E(1), E(2), E(3)}, false, OK,
     NULL},
    {"chrome_tls", CHROMIUM("ConformsToCTPolicyWithNonEmbeddedSCTs"),
     "two TLS SCTs from logs of two operators; nothing embedded", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {S(1), S(2)}, false, OK, NULL},
    {"chrome_pooled_tls_ocsp", CHROMIUM("ConformsToCTPolicyWithPooledNonEmbeddedSCTs"),
     "one SCT in a stapled OCSP response, one in the TLS extension, two operators", "chrome",
     YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1")}, {O(1), S(2)}, false, OK, NULL},
    {"chrome_pooled_embedded_ocsp", CHROMIUM("ConformsToCTPolicyWithPooledEmbeddedSCTs"),
     "one embedded SCT and one in a stapled OCSP response, two operators", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), O(2)}, false, OK, NULL},
    {"chrome_ocsp_delegated_responder", "ctca: OCSP-delivered SCTs",
     "two SCTs in an OCSP response signed by a delegated responder (OCSPSigning EKU)", "chrome",
     YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1")}, {O(1), O(2)}, true, OK, NULL},
    {"chrome_not_enough_scts", CHROMIUM("DoesNotConformToCTPolicyNotEnoughSCTs"),
     "two embedded SCTs of two operators, but a 1-year certificate needs three", "chrome", YEAR,
     0, {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_not_enough_unique_logs", CHROMIUM("DoesNotConformToCTPolicyNotEnoughUniqueEmbeddedLogs"),
     "three embedded SCTs, two from the same log: they count once", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E_AT(1, T + SEC), E(2)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_disqualified_before_date",
     CHROMIUM("ConformsWithDisqualifiedLogBeforeDisqualificationDate"),
     "a retired log's SCT from before its retirement counts", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1"), STATE(3, "Op2", "retired", R)},
     {E(1), E(2), E_AT(3, R - HOUR)}, false, OK, NULL},
    {"chrome_disqualified_after_date",
     CHROMIUM("DoesNotConformWithDisqualifiedLogAfterDisqualificationDate"),
     "a retired log's SCT from after its retirement does not count, even though the "
     "certificate was issued before",
     "chrome", YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1"), STATE(3, "Op2", "retired", R)},
     {E(1), E(2), E_AT(3, R + HOUR)}, false, NOT_ENOUGH, "embedded_log_count"},
    {"chrome_issuance_after_disqualification",
     CHROMIUM("DoesNotConformWithIssuanceDateAfterDisqualificationDate"),
     "every SCT, so the issuance, is after the log's retirement", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1"), STATE(3, "Op2", "retired", R)},
     {E_AT(3, R + HOUR), E_AT(1, R + HOUR), E_AT(2, R + HOUR)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_issuance_after_disqualification_early_sct",
     "ctca: Chrome judges retirement by the issuance (earliest SCT from a log not retired)",
     "the retired log's SCT predates its retirement, but the other SCTs, so the issuance, "
     "come after it",
     "chrome", YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1"), STATE(3, "Op2", "retired", R)},
     {E_AT(1, R + HOUR), E_AT(2, R + HOUR), E_AT(3, R - HOUR)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_retirement_in_future", CHROMIUM("ConformsWithCTPolicyFutureRetirementDateLogs"),
     "every log retires an hour after the time of check: not yet", "chrome", YEAR, 0,
     {STATE(1, "Op0", "retired", AT + HOUR), STATE(2, "Op1", "retired", AT + HOUR),
      STATE(3, "Op2", "retired", AT + HOUR)},
     {E(1), E(2), E(3)}, false, OK, NULL},
    {"chrome_retirement_in_past", CHROMIUM("DoesNotConformWithCTPolicyPastRetirementDateLogs"),
     "every log retired an hour before the time of check: no SCT from a current log", "chrome",
     YEAR, 0,
     {STATE(1, "Op0", "retired", AT - HOUR), STATE(2, "Op1", "retired", AT - HOUR),
      STATE(3, "Op2", "retired", AT - HOUR)},
     {E(1), E(2), E(3)}, false, NOT_ENOUGH, "embedded_current_log"},
    {"chrome_lifetime_179d_2scts", CHROMIUM("UpdatedSCTRequirements"),
     "179 days: two SCTs are enough", "chrome", 179 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, OK, NULL},
    {"chrome_lifetime_180d_2scts", CHROMIUM("UpdatedSCTRequirements"),
     "exactly 180 days: two SCTs are enough", "chrome", 180 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, OK, NULL},
    {"chrome_lifetime_180d_1s_2scts", CHROMIUM("UpdatedSCTRequirements"),
     "180 days and one second: two SCTs are not enough", "chrome", 180 * DAY + SEC, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_lifetime_180d_1s_3scts", CHROMIUM("UpdatedSCTRequirements"),
     "180 days and one second: three SCTs", "chrome", 180 * DAY + SEC, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1"), USABLE(3, "Op2")}, {E(1), E(2), E(3)}, false, OK,
     NULL},
    {"chrome_lifetime_1y_2scts", CHROMIUM("UpdatedSCTRequirements"),
     "one year: two SCTs are not enough", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, NOT_ENOUGH,
     "embedded_log_count"},
    {"chrome_lifetime_1y_3scts", CHROMIUM("UpdatedSCTRequirements"), "one year: three SCTs",
     "chrome", YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1"), USABLE(3, "Op2")},
     {E(1), E(2), E(3)}, false, OK, NULL},
    {"chrome_lifetime_180d_1sct", CHROMIUM("UpdatedSCTRequirements"),
     "a single SCT trips the operator diversity rule first", "chrome", 180 * DAY, 0,
     {USABLE(1, "Op0")}, {E(1)}, false, NOT_DIVERSE, "embedded_operators"},
    {"chrome_lifetime_180d_0scts", CHROMIUM("UpdatedSCTRequirements"),
     "no SCT at all (no SCT list extension)", "chrome", 180 * DAY, 0, {USABLE(1, "Op0")},
     {{0}}, false, NOT_ENOUGH, "embedded_current_log"},
    {"chrome_same_operator_tls", CHROMIUM("DoesNotConformToCTPolicyAllLogsSameOperator"),
     "two TLS SCTs from two logs of one operator", "chrome", YEAR, 0,
     {USABLE(1, "Operator"), USABLE(2, "Operator")}, {S(1), S(2)}, false, NOT_DIVERSE,
     "tls_operators"},
    {"chrome_same_operator_embedded", CHROMIUM("DoesNotConformToCTPolicyAllLogsSameOperator"),
     "two embedded SCTs from two logs of one operator on a 90-day certificate", "chrome",
     90 * DAY, 0, {USABLE(1, "Operator"), USABLE(2, "Operator")}, {E(1), E(2)}, false,
     NOT_DIVERSE, "embedded_operators"},
    {"chrome_different_operators", CHROMIUM("ConformsToCTPolicyDifferentOperators"),
     "two embedded SCTs from logs of two operators on a 90-day certificate", "chrome",
     90 * DAY, 0, {USABLE(1, "Operator 0"), USABLE(2, "Operator 1")}, {E(1), E(2)}, false, OK,
     NULL},
    {"chrome_operator_switch_positive", CHROMIUM("ConformsToPolicyDueToOperatorSwitch"),
     "both logs are now one operator's, but the second was another's until a second after "
     "its SCT",
     "chrome", YEAR, 0,
     {USABLE(1, "Same Operator"),
      SWITCHED(2, "Same Operator", "Different Operator", T + SEC, NULL, 0)},
     {S(1), S(2)}, false, OK, NULL},
    {"chrome_operator_switch_negative", CHROMIUM("DoesNotConformToPolicyDueToOperatorSwitch"),
     "two operators now, but the second log was the first operator's until a second after "
     "its SCT",
     "chrome", YEAR, 0,
     {USABLE(1, "Operator 0"), SWITCHED(2, "Operator 1", "Operator 0", T + SEC, NULL, 0)},
     {S(1), S(2)}, false, NOT_DIVERSE, "tls_operators"},
    {"chrome_multiple_operator_switches", CHROMIUM("MultipleOperatorSwitches"),
     "of two previous operators the one in charge at the SCT's time is the first log's",
     "chrome", YEAR, 0,
     {USABLE(1, "Operator 0"),
      SWITCHED(2, "Operator 1", "Different Operator", T - SEC, "Operator 0", T + SEC)},
     {S(1), S(2)}, false, NOT_DIVERSE, "tls_operators"},
    {"chrome_operator_switches_before_sct", CHROMIUM("MultipleOperatorSwitchesBeforeSCTTimestamp"),
     "both previous operators had handed over before the SCT", "chrome", YEAR, 0,
     {USABLE(1, "Same Operator"),
      SWITCHED(2, "Same Operator", "Different Operator", T - 2 * SEC,
               "Yet Another Different Operator", T - SEC)},
     {S(1), S(2)}, false, NOT_DIVERSE, "tls_operators"},
    {"chrome_not_enough_fresh_tls", CHROMIUM("DoesNotConformToCTPolicyNotEnoughFreshSCTs"),
     "a TLS SCT from a retired log never counts, even from before its retirement", "chrome",
     YEAR, 0, {USABLE(1, "Op0"), STATE(2, "Op1", "retired", R)}, {S(1), S_AT(2, R - HOUR)},
     false, NOT_DIVERSE, "tls_operators"},
    {"chrome_not_enough_fresh_embedded", CHROMIUM("DoesNotConformToCTPolicyNotEnoughFreshSCTs"),
     "one current and one retired log embedded on a 1-year certificate", "chrome", YEAR, 0,
     {USABLE(1, "Op0"), STATE(2, "Op1", "retired", R)}, {E(1), E_AT(2, R - HOUR)}, false,
     NOT_ENOUGH, "embedded_log_count"},
    {"chrome_no_rfc6962_log", CHROMIUM("DoesNotConformToCTPolicyNoRFC6962Log"),
     "three SCTs, all from static-ct-api (tiled) logs: one must come from an RFC 6962 log",
     "chrome", YEAR, 0, {TILED(1, "Op0"), TILED(2, "Op1"), TILED(3, "Op2")}, {E(1), E(2), E(3)},
     false, NOT_DIVERSE, "embedded_rfc6962_log"},
    {"chrome_stale_log_list", CHROMIUM("EnforcementDisabledByBinaryAge"),
     "the log list is 70 days old at the time of check", "chrome", YEAR, AT - 70 * DAY,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {S(1), S(2)}, false, "not_timely", "log_list_age"},
    {"chrome_log_list_almost_stale", CHROMIUM("EnforcementDisabledByBinaryAge"),
     "the log list is a second younger than 70 days", "chrome", YEAR, AT - 70 * DAY + SEC,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {S(1), S(2)}, false, OK, NULL},
    {"chrome_pending_and_rejected_logs", "chrome-log_states.md: Pending and Rejected",
     "SCTs from a pending and a rejected log never count: one SCT is left", "chrome", 90 * DAY,
     0,
     {USABLE(1, "Op0"), STATE(2, "Op1", "pending", T - DAY),
      STATE(3, "Op2", "rejected", T - DAY)},
     {E(1), E(2), E(3)}, false, NOT_DIVERSE, "embedded_operators"},

    /* ---- Apple's CT policy ------------------------------------------------ */
    {"apple_lifetime_180d_2scts", "Apple CT policy: lifetime table",
     "180 days: two SCTs from two operators", "apple", 180 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, OK, NULL},
    {"apple_lifetime_180d_1s_2scts", "Apple CT policy: lifetime table",
     "180 days and one second is 181 days (any remainder adds a day): three SCTs needed",
     "apple", 180 * DAY + SEC, 0, {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false,
     NOT_ENOUGH, "embedded_log_count"},
    {"apple_lifetime_181d_3scts", "Apple CT policy: lifetime table",
     "181 days: three SCTs, two of one operator", "apple", 181 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op0"), USABLE(3, "Op1")}, {E(1), E(2), E(3)}, false, OK,
     NULL},
    {"apple_lifetime_398d_3scts", "Apple CT policy: lifetime table",
     "398 days, the longest Apple accepts: three SCTs", "apple", 398 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1"), USABLE(3, "Op2")}, {E(1), E(2), E(3)}, false, OK,
     NULL},
    {"apple_lifetime_398d_1s", "Apple CT policy: lifetime table",
     "398 days and one second is 399 days: longer than Apple accepts", "apple",
     398 * DAY + SEC, 0, {USABLE(1, "Op0"), USABLE(2, "Op1"), USABLE(3, "Op2")},
     {E(1), E(2), E(3)}, false, NOT_ENOUGH, "lifetime"},
    {"apple_one_operator_180d", "Apple CT policy: at most one SCT per operator up to 180 days",
     "two SCTs from two logs of one operator", "apple", 90 * DAY, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op0")}, {E(1), E(2)}, false, NOT_DIVERSE,
     "embedded_operators"},
    {"apple_two_per_operator_1y", "Apple CT policy: at most two SCTs per operator above 180 days",
     "four SCTs, three of one operator: two of them and the other operator's make three",
     "apple", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op0"), USABLE(3, "Op0"), USABLE(4, "Op1")},
     {E(1), E(2), E(3), E(4)}, false, OK, NULL},
    {"apple_one_operator_1y", "Apple CT policy: at most two SCTs per operator above 180 days",
     "three SCTs all from one operator", "apple", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op0"), USABLE(3, "Op0")}, {E(1), E(2), E(3)}, false,
     NOT_DIVERSE, "embedded_operators"},
    {"apple_no_currently_approved_log", "Apple CT policy: one SCT from a currently approved log",
     "both logs retired before the time of check, after the SCTs", "apple", 90 * DAY, 0,
     {STATE(1, "Op0", "retired", AT - HOUR), STATE(2, "Op1", "retired", AT - HOUR)},
     {E(1), E(2)}, false, NOT_ENOUGH, "embedded_current_log"},
    {"apple_retired_log_with_approved_log", "Apple CT policy: one SCT from a currently approved log",
     "one retired log (SCT before retirement) and one approved log", "apple", 90 * DAY, 0,
     {STATE(1, "Op0", "retired", R), USABLE(2, "Op1")}, {E_AT(1, R - HOUR), E(2)}, false, OK,
     NULL},
    {"apple_retired_judged_by_each_sct", "Apple CT policy: retirement judged per SCT",
     "as chrome_issuance_after_disqualification_early_sct: Apple counts the retired log's SCT "
     "because that SCT predates the retirement",
     "apple", 90 * DAY, 0, {USABLE(1, "Op0"), STATE(2, "Op1", "retired", R)},
     {E_AT(1, R + HOUR), E_AT(2, R - HOUR)}, false, OK, NULL},
    {"apple_no_rfc6962_log", "Apple CT policy: one SCT from an RFC 6962 log",
     "two SCTs from static-ct-api (tiled) logs only", "apple", 90 * DAY, 0,
     {TILED(1, "Op0"), TILED(2, "Op1")}, {E(1), E(2)}, false, NOT_DIVERSE,
     "embedded_rfc6962_log"},
    {"apple_one_rfc6962_log", "Apple CT policy: one SCT from an RFC 6962 log",
     "one tiled log and one RFC 6962 log", "apple", 90 * DAY, 0,
     {TILED(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, OK, NULL},
    {"apple_tls", "Apple CT policy: SCTs via TLS or OCSP",
     "two TLS SCTs from approved logs of two operators", "apple", YEAR, 0,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {S(1), S(2)}, false, OK, NULL},
    {"apple_no_pooling_with_embedded", "Apple CT policy: SCTs via TLS or OCSP",
     "one embedded and one OCSP SCT: Apple's TLS/OCSP rule counts only delivered SCTs",
     "apple", YEAR, 0, {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), O(2)}, false, NOT_DIVERSE,
     "tls_operators"},
    {"apple_old_log_list", "Apple CT policy: no log-list age rule",
     "a log list 100 days old does not matter to Apple", "apple", 90 * DAY, AT - 100 * DAY,
     {USABLE(1, "Op0"), USABLE(2, "Op1")}, {E(1), E(2)}, false, OK, NULL},
};

/* ---- plumbing ---------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ctca-vectors: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void check(ctca_err rc, const char *what)
{
    if (rc != CTCA_OK)
        die("%s: %s", what, ctca_err_str(rc));
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    ctca_errbuf eb = {{0}};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ctca_file_write_atomic(path, data, len, 0644, &eb) != CTCA_OK)
        die("%s", eb.msg);
}

/* A JSON document with a final newline. */
static void write_json(const char *dir, const char *name, char *json)
{
    size_t n = strlen(json);
    char *text = malloc(n + 2);
    if (text == NULL)
        die("out of memory");
    memcpy(text, json, n);
    memcpy(text + n, "\n", 2);
    write_file(dir, name, text, n + 1);
    free(text);
    cJSON_free(json);
}

static void write_pem(const char *dir, const char *name, const uint8_t *der, size_t len)
{
    char *pem = NULL;
    check(ctca_pem_encode(der, len, "CERTIFICATE", &pem), name);
    write_file(dir, name, pem, strlen(pem));
    free(pem);
}

/* "2025-06-02T00:00:00Z", as Google's log lists write times. */
static void fmt_time(int64_t ms, char *buf, size_t len)
{
    ctca_time_format_rfc3339(ms, buf, len);
    char *dot = strstr(buf, ".000Z");
    if (dot != NULL)
        memcpy(dot, "Z", 2);
}

typedef struct key {
    EVP_PKEY *pkey;
    uint8_t *spki;
    size_t spki_len;
} key;

static void key_load(const char *dir, const char *name, key *k)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.pem", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (k->pkey == NULL || EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA)
        die("%s: not an RSA private key (the vectors need deterministic signatures)", path);
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0)
        die("%s: cannot encode its public key", path);
    k->spki = malloc((size_t)n);
    if (k->spki == NULL)
        die("out of memory");
    memcpy(k->spki, der, (size_t)n);
    k->spki_len = (size_t)n;
    OPENSSL_free(der);
}

static void key_free(key *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->spki);
}

/* RSA PKCS#1 v1.5 with SHA-256 over data: deterministic. *sig malloc'd. */
static void sign(EVP_PKEY *pkey, const uint8_t *data, size_t len, uint8_t **sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, sig_len, data, len) != 1 || (*sig = malloc(*sig_len)) == NULL ||
        EVP_DigestSign(ctx, *sig, sig_len, data, len) != 1)
        die("signing failed");
    EVP_MD_CTX_free(ctx);
}

static void finish(ctca_builder *b, uint8_t **out, size_t *len, const char *what)
{
    check(ctca_builder_finish(b, out, len), what);
    ctca_builder_cleanup(b);
}

/* ---- certificates --------------------------------------------------------- */

static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_O[] = {0x55, 0x04, 0x0a};
static const uint8_t OID_BC[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_KP_SERVER_AUTH[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_KP_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
static const uint8_t OID_OCSP_NOCHECK[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05};
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};

static void add_name(ctca_builder *b, const char *cn)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(b, CTCA_DER_SET);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, OID_O, sizeof OID_O);
    ctca_builder_add_der(b, CTCA_DER_UTF8_STRING, (const uint8_t *)"ctca vectors", 12);
    ctca_builder_close(b);
    ctca_builder_close(b);
    ctca_builder_open_der(b, CTCA_DER_SET);
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, OID_CN, sizeof OID_CN);
    ctca_builder_add_der(b, CTCA_DER_UTF8_STRING, (const uint8_t *)cn, strlen(cn));
    ctca_builder_close(b);
    ctca_builder_close(b);
    ctca_builder_close(b);
}

/* One Extension; value is the extnValue's contents. */
static void add_ext(ctca_builder *b, const uint8_t *oid, size_t oid_len, bool critical,
                    const uint8_t *value, size_t len)
{
    ctca_builder_open_der(b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(b, oid, oid_len);
    if (critical)
        ctca_builder_add_der_bool(b, true);
    ctca_builder_add_der(b, CTCA_DER_OCTET_STRING, value, len);
    ctca_builder_close(b);
}

static void add_key_ids(ctca_builder *b, const key *subject, const key *issuer)
{
    uint8_t id[20], value[24];
    check(ctca_key_id(ctca_view_make(subject->spki, subject->spki_len), id), "key id");
    value[0] = CTCA_DER_OCTET_STRING;
    value[1] = 20;
    memcpy(value + 2, id, 20);
    add_ext(b, CTCA_OID_SKI, sizeof CTCA_OID_SKI, false, value, 22);
    if (issuer == subject)
        return;
    check(ctca_key_id(ctca_view_make(issuer->spki, issuer->spki_len), id), "key id");
    value[0] = CTCA_DER_SEQUENCE;
    value[1] = 22;
    value[2] = CTCA_DER_CTX(0); /* keyIdentifier [0] IMPLICIT */
    value[3] = 20;
    memcpy(value + 4, id, 20);
    add_ext(b, CTCA_OID_AKI, sizeof CTCA_OID_AKI, false, value, 24);
}

typedef enum { CERT_CA, CERT_RESPONDER, CERT_LEAF } cert_kind;

/* A v3 TBSCertificate; sct_list (len 0: none) becomes the last extension. */
static void build_tbs(cert_kind kind, const uint8_t *serial, size_t serial_len, const char *cn,
                      int64_t nb_ms, int64_t na_ms, const key *subject, const key *issuer,
                      ctca_view alg, ctca_view sct_list, uint8_t **out, size_t *len)
{
    static const uint8_t bc_ca[] = {0x30, 0x03, 0x01, 0x01, 0xff};
    static const uint8_t ku_ca[] = {0x03, 0x02, 0x01, 0x86}; /* digitalSignature, keyCertSign, cRLSign */
    static const uint8_t ku_sig[] = {0x03, 0x02, 0x07, 0x80}; /* digitalSignature */
    static const uint8_t ku_leaf[] = {0x03, 0x02, 0x05, 0xa0}; /* + keyEncipherment */
    ctca_builder b, v;
    uint8_t *value = NULL;
    size_t value_len = 0;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_add_der_u64(&b, 2);
    ctca_builder_close(&b);
    ctca_builder_add_der_uint_bytes(&b, serial, serial_len);
    ctca_builder_add_view(&b, alg);
    add_name(&b, "ctca vectors CA");
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_time(&b, nb_ms / 1000);
    ctca_builder_add_der_time(&b, na_ms / 1000);
    ctca_builder_close(&b);
    add_name(&b, cn);
    ctca_builder_add_bytes(&b, subject->spki, subject->spki_len);
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(3));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    if (kind == CERT_CA) {
        add_ext(&b, OID_BC, sizeof OID_BC, true, bc_ca, sizeof bc_ca);
        add_ext(&b, OID_KU, sizeof OID_KU, true, ku_ca, sizeof ku_ca);
    } else {
        add_ext(&b, OID_KU, sizeof OID_KU, true, kind == CERT_LEAF ? ku_leaf : ku_sig,
                sizeof ku_sig);
        ctca_builder_init(&v, 4096);
        ctca_builder_open_der(&v, CTCA_DER_SEQUENCE);
        if (kind == CERT_LEAF)
            ctca_builder_add_der_oid(&v, OID_KP_SERVER_AUTH, sizeof OID_KP_SERVER_AUTH);
        else
            ctca_builder_add_der_oid(&v, OID_KP_OCSP_SIGNING, sizeof OID_KP_OCSP_SIGNING);
        ctca_builder_close(&v);
        finish(&v, &value, &value_len, "EKU");
        add_ext(&b, CTCA_OID_EKU, sizeof CTCA_OID_EKU, false, value, value_len);
        free(value);
    }
    add_key_ids(&b, subject, issuer);
    if (kind == CERT_RESPONDER) {
        static const uint8_t der_null[] = {0x05, 0x00};
        add_ext(&b, OID_OCSP_NOCHECK, sizeof OID_OCSP_NOCHECK, false, der_null, sizeof der_null);
    }
    if (kind == CERT_LEAF) {
        ctca_builder_init(&v, 4096);
        ctca_builder_open_der(&v, CTCA_DER_SEQUENCE);
        ctca_builder_add_der(&v, CTCA_DER_CTX(2), (const uint8_t *)cn, strlen(cn)); /* dNSName */
        ctca_builder_close(&v);
        finish(&v, &value, &value_len, "SAN");
        add_ext(&b, OID_SAN, sizeof OID_SAN, false, value, value_len);
        free(value);
    }
    if (sct_list.len > 0) {
        /* RFC 6962 3.3: extnValue holds an OCTET STRING holding the TLS list. */
        ctca_builder_init(&v, 65536);
        ctca_builder_add_der(&v, CTCA_DER_OCTET_STRING, sct_list.data, sct_list.len);
        finish(&v, &value, &value_len, "SCT list extension");
        add_ext(&b, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST, false, value, value_len);
        free(value);
    }
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    finish(&b, out, len, "TBSCertificate");
}

typedef struct issuer_ctx {
    key ca, responder, leaf, logs[N_LOG_KEYS];
    uint8_t log_ids[N_LOG_KEYS][CTCA_LOG_ID_LEN];
    uint8_t alg[32];
    size_t alg_len;
    uint8_t *ca_der, *responder_der;
    size_t ca_len, responder_len;
} issuer_ctx;

static void sign_cert(const issuer_ctx *ctx, const uint8_t *tbs, size_t tbs_len, uint8_t **cert,
                      size_t *cert_len)
{
    ctca_signer *signer = NULL;
    check(ctca_signer_from_key(ctx->ca.pkey, &signer), "the CA key");
    check(ctca_signer_sign_tbs(signer, ctca_view_make(tbs, tbs_len), cert, cert_len),
          "signing a certificate");
    ctca_signer_free(signer);
}

static void make_ca(issuer_ctx *ctx)
{
    static const uint8_t ca_serial[] = {0x01};
    static const uint8_t responder_serial[] = {0x02};
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    const EVP_MD *md;
    check(ctca_key_sig_alg(ctx->ca.pkey, ctx->alg, &ctx->alg_len, &md), "CA key");
    ctca_view alg = ctca_view_make(ctx->alg, ctx->alg_len), none = ctca_view_make(NULL, 0);
    build_tbs(CERT_CA, ca_serial, sizeof ca_serial, "ctca vectors CA", CA_FROM, CA_TO, &ctx->ca,
              &ctx->ca, alg, none, &tbs, &tbs_len);
    sign_cert(ctx, tbs, tbs_len, &ctx->ca_der, &ctx->ca_len);
    free(tbs);
    build_tbs(CERT_RESPONDER, responder_serial, sizeof responder_serial,
              "ctca vectors OCSP responder", CA_FROM, CA_TO, &ctx->responder, &ctx->ca, alg, none,
              &tbs, &tbs_len);
    sign_cert(ctx, tbs, tbs_len, &ctx->responder_der, &ctx->responder_len);
    free(tbs);
}

/* ---- SCTs ------------------------------------------------------------------ */

static void sign_sct(const issuer_ctx *ctx, int key_index, int64_t ts_ms,
                     const ctca_signed_entry *entry, ctca_sct *out)
{
    uint8_t *input = NULL;
    size_t input_len = 0;
    memset(out, 0, sizeof *out);
    out->version = 0;
    memcpy(out->log_id, ctx->log_ids[key_index], CTCA_LOG_ID_LEN);
    out->timestamp = (uint64_t)ts_ms;
    out->hash_alg = CTCA_HASH_SHA256;
    out->sig_alg = CTCA_SIGALG_RSA;
    check(ctca_sct_signed_input(out, entry, &input, &input_len), "SCT signed input");
    sign(ctx->logs[key_index].pkey, input, input_len, &out->signature, &out->signature_len);
    free(input);
}

/* The case's SCTs of one delivery, signed over entry, as a TLS list (len 0:
 * the case has none). */
static void sct_list_for(const issuer_ctx *ctx, const vcase *c, int delivery,
                         const ctca_signed_entry *entry, uint8_t **out, size_t *len)
{
    ctca_sct scts[MAX_SCTS];
    size_t n = 0;
    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < MAX_SCTS && c->scts[i].log != 0; i++) {
        if (c->scts[i].delivery != delivery)
            continue;
        sign_sct(ctx, c->logs[c->scts[i].log - 1].key - 1, c->scts[i].ts_ms, entry, &scts[n++]);
    }
    if (n > 0)
        check(ctca_sct_list_serialize(scts, n, out, len), "SCT list");
    for (size_t i = 0; i < n; i++)
        ctca_sct_cleanup(&scts[i]);
}

/* ---- OCSP ------------------------------------------------------------------ */

static void sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
    if (EVP_Digest(p, n, out, NULL, EVP_sha1(), NULL) != 1)
        die("SHA-1 failed");
}

/* The subjectPublicKey bits of a DER SubjectPublicKeyInfo. */
static ctca_view key_bits(const key *k)
{
    ctca_view v = ctca_view_make(k->spki, k->spki_len), body, alg, bits;
    check(ctca_der_get(&v, CTCA_DER_SEQUENCE, &body), "SPKI");
    check(ctca_der_get(&body, CTCA_DER_SEQUENCE, &alg), "SPKI");
    check(ctca_der_get_bit_string(&body, &bits), "SPKI");
    return bits;
}

/* A successful basic OCSPResponse (RFC 6960 4.2.1) saying cert is good, with
 * the SCT list in its singleExtensions (RFC 6962 3.3), signed by the CA
 * (responder ID by name) or by the delegated responder (by key, its
 * certificate included). */
static void build_ocsp(const issuer_ctx *ctx, ctca_view cert, bool delegated, ctca_view sct_list,
                       uint8_t **out, size_t *len)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f, ca;
    check(ctca_cert_get_tbs_fields(cert, &parts, &f), "certificate");
    check(ctca_cert_get_tbs_fields(ctca_view_make(ctx->ca_der, ctx->ca_len), &parts, &ca), "CA");
    const key *signer = delegated ? &ctx->responder : &ctx->ca;
    uint8_t name_hash[20], key_hash[20], signer_hash[20];
    ctca_view ca_bits = key_bits(&ctx->ca), signer_bits = key_bits(signer);
    sha1(ca.subject.data, ca.subject.len, name_hash);
    sha1(ca_bits.data, ca_bits.len, key_hash);
    sha1(signer_bits.data, signer_bits.len, signer_hash);

    ctca_builder b;
    uint8_t *tbs = NULL, *sig = NULL;
    size_t tbs_len = 0, sig_len = 0;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* ResponseData */
    if (delegated) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(2));
        ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, signer_hash, sizeof signer_hash);
    } else {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(1));
        ctca_builder_add_view(&b, ca.subject);
    }
    ctca_builder_close(&b);
    char when[20];
    /* producedAt and thisUpdate: an hour after issuance, as GeneralizedTime. */
    int64_t t = (T + HOUR) / 1000;
    int y;
    unsigned mo, d;
    ctca_civil_from_days(t / 86400, &y, &mo, &d);
    snprintf(when, sizeof when, "%04d%02u%02u%02d%02d%02dZ", y, mo, d, (int)(t % 86400 / 3600),
             (int)(t % 3600 / 60), (int)(t % 60));
    ctca_builder_add_der(&b, CTCA_DER_GENERALIZED_TIME, (const uint8_t *)when, strlen(when));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* responses */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* SingleResponse */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* CertID */
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, OID_SHA1, sizeof OID_SHA1);
    ctca_builder_add_der_null(&b);
    ctca_builder_close(&b);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, name_hash, sizeof name_hash);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, key_hash, sizeof key_hash);
    ctca_builder_add_view(&b, f.serial);
    ctca_builder_close(&b);
    ctca_builder_add_der(&b, CTCA_DER_CTX(0), NULL, 0); /* good */
    ctca_builder_add_der(&b, CTCA_DER_GENERALIZED_TIME, (const uint8_t *)when, strlen(when));
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(1));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, CTCA_OID_CT_OCSP_SCT_LIST, sizeof CTCA_OID_CT_OCSP_SCT_LIST);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, sct_list.data, sct_list.len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    ctca_builder_close(&b); /* SingleResponse */
    ctca_builder_close(&b); /* responses */
    ctca_builder_close(&b); /* ResponseData */
    finish(&b, &tbs, &tbs_len, "OCSP ResponseData");
    sign(signer->pkey, tbs, tbs_len, &sig, &sig_len);

    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der(&b, CTCA_DER_ENUMERATED, (const uint8_t *)"\0", 1); /* successful */
    ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE); /* BasicOCSPResponse */
    ctca_builder_add_bytes(&b, tbs, tbs_len);
    ctca_builder_add_bytes(&b, ctx->alg, ctx->alg_len);
    ctca_builder_add_der_bit_string(&b, sig, sig_len);
    if (delegated) {
        ctca_builder_open_der(&b, CTCA_DER_CTX_C(0));
        ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
        ctca_builder_add_bytes(&b, ctx->responder_der, ctx->responder_len);
        ctca_builder_close(&b);
        ctca_builder_close(&b);
    }
    for (int i = 0; i < 5; i++)
        ctca_builder_close(&b);
    finish(&b, out, len, "OCSP response");
    free(tbs);
    free(sig);
}

/* ---- log lists ------------------------------------------------------------- */

static void add_time(cJSON *obj, const char *name, int64_t ms)
{
    char buf[40];
    fmt_time(ms, buf, sizeof buf);
    if (cJSON_AddStringToObject(obj, name, buf) == NULL)
        die("out of memory");
}

static char *b64(const uint8_t *p, size_t n)
{
    char *s = NULL;
    check(ctca_base64_encode(p, n, &s), "base64");
    return s;
}

static cJSON *log_entry(const issuer_ctx *ctx, const log_def *l)
{
    char desc[64], url[96];
    cJSON *o = cJSON_CreateObject();
    char *id = b64(ctx->log_ids[l->key - 1], CTCA_LOG_ID_LEN);
    char *k = b64(ctx->logs[l->key - 1].spki, ctx->logs[l->key - 1].spki_len);
    snprintf(desc, sizeof desc, "ctca vectors log %d", l->key);
    snprintf(url, sizeof url, "https://log%d.vectors.ctca.example/", l->key);
    cJSON_AddStringToObject(o, "description", desc);
    cJSON_AddStringToObject(o, "log_id", id);
    cJSON_AddStringToObject(o, "key", k);
    if (l->tiled) {
        cJSON_AddStringToObject(o, "submission_url", url);
        cJSON_AddStringToObject(o, "monitoring_url", url);
    } else {
        cJSON_AddStringToObject(o, "url", url);
    }
    cJSON_AddNumberToObject(o, "mmd", 86400);
    cJSON *state = cJSON_AddObjectToObject(o, "state");
    cJSON *inner = cJSON_AddObjectToObject(state, l->state);
    add_time(inner, "timestamp", l->state_ms);
    if (l->prev[0].name != NULL) {
        cJSON *prev = cJSON_AddArrayToObject(o, "previous_operators");
        for (size_t i = 0; i < 2 && l->prev[i].name != NULL; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", l->prev[i].name);
            add_time(p, "end_time", l->prev[i].end_ms);
            cJSON_AddItemToArray(prev, p);
        }
    }
    free(id);
    free(k);
    return o;
}

/* A v3 log list: the case's logs grouped by operator, in order of appearance. */
static char *log_list(const issuer_ctx *ctx, const vcase *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    add_time(root, "log_list_timestamp", c->list_ms ? c->list_ms : LIST_AT);
    cJSON *ops = cJSON_AddArrayToObject(root, "operators");
    for (size_t i = 0; i < MAX_LOGS && c->logs[i].key != 0; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(c->logs[j].op, c->logs[i].op) == 0;
        if (seen)
            continue;
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", c->logs[i].op);
        cJSON *email = cJSON_AddArrayToObject(op, "email");
        cJSON_AddItemToArray(email, cJSON_CreateString("ct@vectors.ctca.example"));
        cJSON *logs = cJSON_AddArrayToObject(op, "logs");
        cJSON *tiled = cJSON_AddArrayToObject(op, "tiled_logs");
        for (size_t j = i; j < MAX_LOGS && c->logs[j].key != 0; j++)
            if (strcmp(c->logs[j].op, c->logs[i].op) == 0)
                cJSON_AddItemToArray(c->logs[j].tiled ? tiled : logs, log_entry(ctx, &c->logs[j]));
        cJSON_AddItemToArray(ops, op);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL)
        die("out of memory");
    return text;
}

static char *case_json(const vcase *c, bool tls, bool ocsp)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", c->name);
    cJSON_AddStringToObject(root, "scenario", c->scenario);
    cJSON_AddStringToObject(root, "description", c->description);
    cJSON_AddStringToObject(root, "policy", c->policy);
    add_time(root, "at", AT);
    cJSON_AddStringToObject(root, "certificate", "cert.pem");
    cJSON_AddStringToObject(root, "issuer", "issuer.pem");
    cJSON_AddStringToObject(root, "log_list", "log_list.json");
    if (tls)
        cJSON_AddStringToObject(root, "tls_scts", "tls_scts.bin");
    if (ocsp)
        cJSON_AddStringToObject(root, "ocsp_response", "ocsp.der");
    cJSON *exp = cJSON_AddObjectToObject(root, "expected");
    cJSON_AddStringToObject(exp, "verdict", c->verdict);
    if (c->rule != NULL)
        cJSON_AddStringToObject(exp, "failed_rule_id", c->rule);
    else
        cJSON_AddNullToObject(exp, "failed_rule_id");
    cJSON_AddNumberToObject(exp, "exit_status", c->rule != NULL ? 1 : 0);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL)
        die("out of memory");
    return text;
}

/* ---- one case --------------------------------------------------------------- */

static void write_case(const issuer_ctx *ctx, const vcase *c, const char *out_dir)
{
    char dir[1024], cn[128];
    snprintf(dir, sizeof dir, "%s/%s", out_dir, c->name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        die("%s: %s", dir, strerror(errno));
    snprintf(cn, sizeof cn, "%s.vectors.ctca.example", c->name);
    for (char *p = cn; *p; p++)
        if (*p == '_')
            *p = '-';
    /* A positive 16-byte serial derived from the case's name. */
    uint8_t serial[32];
    if (EVP_Digest(c->name, strlen(c->name), serial, NULL, EVP_sha256(), NULL) != 1)
        die("SHA-256 failed");
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x01);

    uint8_t issuer_hash[CTCA_LOG_ID_LEN];
    check(ctca_cert_issuer_key_hash(ctca_view_make(ctx->ca_der, ctx->ca_len), issuer_hash),
          "issuer key hash");
    uint8_t *tbs = NULL, *list = NULL, *cert = NULL, *final_tbs = NULL;
    size_t tbs_len = 0, list_len = 0, cert_len = 0, final_len = 0;
    ctca_view alg = ctca_view_make(ctx->alg, ctx->alg_len), none = ctca_view_make(NULL, 0);
    /* The precert entry's TBS is the final TBS without the SCT list: build
     * that first, let the logs sign it, then add the list (RFC 6962 3.2). */
    build_tbs(CERT_LEAF, serial, 16, cn, T, T + c->lifetime_ms, &ctx->leaf, &ctx->ca, alg, none,
              &tbs, &tbs_len);
    ctca_signed_entry pre = {CTCA_ENTRY_PRECERT, {NULL, 0}, {0}, ctca_view_make(tbs, tbs_len)};
    memcpy(pre.issuer_key_hash, issuer_hash, CTCA_LOG_ID_LEN);
    sct_list_for(ctx, c, EMB, &pre, &list, &list_len);
    if (list_len > 0) {
        build_tbs(CERT_LEAF, serial, 16, cn, T, T + c->lifetime_ms, &ctx->leaf, &ctx->ca, alg,
                  ctca_view_make(list, list_len), &final_tbs, &final_len);
        sign_cert(ctx, final_tbs, final_len, &cert, &cert_len);
    } else {
        sign_cert(ctx, tbs, tbs_len, &cert, &cert_len);
    }
    write_pem(dir, "cert.pem", cert, cert_len);
    write_pem(dir, "issuer.pem", ctx->ca_der, ctx->ca_len);

    ctca_signed_entry x509 = {CTCA_ENTRY_X509, ctca_view_make(cert, cert_len), {0}, {NULL, 0}};
    uint8_t *tls = NULL, *ocsp_list = NULL, *ocsp = NULL;
    size_t tls_len = 0, ocsp_list_len = 0, ocsp_len = 0;
    sct_list_for(ctx, c, TLS, &x509, &tls, &tls_len);
    sct_list_for(ctx, c, OCSP, &x509, &ocsp_list, &ocsp_list_len);
    if (tls_len > 0)
        write_file(dir, "tls_scts.bin", tls, tls_len);
    if (ocsp_list_len > 0) {
        build_ocsp(ctx, ctca_view_make(cert, cert_len), c->delegated_ocsp,
                   ctca_view_make(ocsp_list, ocsp_list_len), &ocsp, &ocsp_len);
        write_file(dir, "ocsp.der", ocsp, ocsp_len);
    }
    write_json(dir, "log_list.json", log_list(ctx, c));
    write_json(dir, "case.json", case_json(c, tls_len > 0, ocsp_len > 0));
    free(tbs);
    free(final_tbs);
    free(list);
    free(cert);
    free(tls);
    free(ocsp_list);
    free(ocsp);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ctca-vectors --keys DIR --out DIR\n"
               "\n"
               "Writes the CT policy conformance vectors into OUT/<case>/ (cert.pem,\n"
               "issuer.pem, log_list.json, tls_scts.bin and ocsp.der when used, case.json)\n"
               "with the RSA keys in DIR (ca, responder, leaf, log1..log%d .pem).\n"
               "The output is the same, byte for byte, on every run.\n",
            N_LOG_KEYS);
}

int main(int argc, char **argv)
{
    const char *keys = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            keys = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (keys == NULL || out == NULL) {
        usage(stderr);
        return 2;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        die("%s: %s", out, strerror(errno));
    issuer_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    key_load(keys, "ca", &ctx.ca);
    key_load(keys, "responder", &ctx.responder);
    key_load(keys, "leaf", &ctx.leaf);
    for (int i = 0; i < N_LOG_KEYS; i++) {
        char name[16];
        snprintf(name, sizeof name, "log%d", i + 1);
        key_load(keys, name, &ctx.logs[i]);
        if (EVP_Digest(ctx.logs[i].spki, ctx.logs[i].spki_len, ctx.log_ids[i], NULL, EVP_sha256(),
                       NULL) != 1)
            die("SHA-256 failed");
    }
    make_ca(&ctx);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        write_case(&ctx, &cases[i], out);
    printf("ctca-vectors: %zu cases written to %s\n", sizeof cases / sizeof cases[0], out);
    key_free(&ctx.ca);
    key_free(&ctx.responder);
    key_free(&ctx.leaf);
    for (int i = 0; i < N_LOG_KEYS; i++)
        key_free(&ctx.logs[i]);
    free(ctx.ca_der);
    free(ctx.responder_der);
    return 0;
}
