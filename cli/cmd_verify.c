/* ctca verify: checks the SCTs embedded in a certificate against log keys, or
 * (with --log-list) against a log list and a CT policy. The checking is
 * ctca_cert_verify_embedded_scts / ctca_cert_check_policy; this file reads
 * arguments and files and presents the verdicts. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/asn1.h"
#include "ctca/loglist.h"
#include "ctca/ocsp.h"
#include "ctca/policy.h"
#include "ctca/scheme.h"
#include "ctca/sct.h"
#include "ctca/transparency.h"
#include "ctca/util.h"

#define MAX_LOG_KEYS 64

typedef struct verify_args {
    const char *cert;
    const char *issuer;
    const char *log_keys[MAX_LOG_KEYS];
    size_t n_log_keys;
    const char *at;
    const char *log_list;
    const char *policy;
    const char *tls_scts;
    const char *ocsp_response;
    bool json;
} verify_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca verify CERT --issuer ISSUER_CERT --log-key LOG_PUBKEY [--log-key ...]\n"
            "                   [--at RFC3339] [--json]\n"
            "       ctca verify CERT --issuer ISSUER_CERT --log-list FILE\n"
            "                   [--policy chrome|apple|FILE] [--tls-scts FILE]\n"
            "                   [--ocsp-response FILE]\n"
            "                   [--log-key LOG_PUBKEY ...] [--at RFC3339] [--json]\n"
            "\n"
            "Verifies every SCT embedded in CERT (PEM or DER) as a precertificate entry\n"
            "issued by ISSUER_CERT, against the log public keys given (PEM or DER SPKI).\n"
            "With --log-list, the keys come from the v3 log list, every SCT is reported,\n"
            "and the SCTs that verify are judged by the CT policy.\n"
            "\n"
            "  --issuer FILE   the certificate of CERT's issuer (PEM or DER)\n"
            "  --log-key FILE  a log's public key; repeat for several logs\n"
            "  --log-list FILE a v3 log list (log_list.json): keys, states, operators\n"
            "  --policy P      chrome (default), apple, or a custom policy JSON file\n"
            "  --tls-scts FILE a TLS SignedCertificateTimestampList (binary) delivered\n"
            "                  with CERT, as in an OpenSSL serverinfo SCT extension\n"
            "  --ocsp-response FILE  an OCSP response (DER, or PEM \"OCSP RESPONSE\") about\n"
            "                  CERT, signed by ISSUER_CERT or its delegated responder; the\n"
            "                  SCTs in its SCT list extension are judged with the TLS ones\n"
            "  --at TIME       the time to check against (default: now); an SCT\n"
            "                  timestamped later is invalid\n"
            "  --json          print a JSON object instead of text\n"
            "\n"
            "exit status: 0 every SCT from a known log verifies and at least one does\n"
            "(with --log-list: the SCTs comply with the policy); 1 an SCT from a known\n"
            "log is invalid, or none verifies (with --log-list: not compliant);\n"
            "2 usage or input error\n");
}

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_args(int argc, char **argv, verify_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        bool error = false;
        const char *val = NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (cli_take_value("verify", argc, argv, &i, "--issuer", &a->issuer, &error) ||
                   cli_take_value("verify", argc, argv, &i, "--at", &a->at, &error) ||
                   cli_take_value("verify", argc, argv, &i, "--log-list", &a->log_list, &error) ||
                   cli_take_value("verify", argc, argv, &i, "--policy", &a->policy, &error) ||
                   cli_take_value("verify", argc, argv, &i, "--tls-scts", &a->tls_scts, &error) ||
                   cli_take_value("verify", argc, argv, &i, "--ocsp-response", &a->ocsp_response,
                                  &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else if (cli_take_value("verify", argc, argv, &i, "--log-key", &val, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
            if (a->n_log_keys == MAX_LOG_KEYS) {
                cli_error("verify: at most %d --log-key options", MAX_LOG_KEYS);
                return CLI_EXIT_USAGE;
            }
            a->log_keys[a->n_log_keys++] = val;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("verify: unknown option '%s'", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        } else if (a->cert == NULL) {
            a->cert = argv[i];
        } else {
            cli_error("verify: unexpected argument '%s' (one certificate at a time)", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if ((a->policy != NULL || a->tls_scts != NULL || a->ocsp_response != NULL) &&
        a->log_list == NULL) {
        cli_error("verify: --policy, --tls-scts and --ocsp-response need --log-list");
        return CLI_EXIT_USAGE;
    }
    if (a->cert == NULL || a->issuer == NULL || (a->n_log_keys == 0 && a->log_list == NULL)) {
        cli_error("verify: %s is required", a->cert == NULL     ? "a certificate"
                                            : a->issuer == NULL ? "--issuer"
                                                                : "--log-key or --log-list");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The machine-readable status and the human reason of one verdict. */
static const char *status_name(ctca_err status)
{
    switch (status) {
    case CTCA_OK:
        return "valid";
    case CTCA_ERR_SIG_INVALID:
        return "invalid_signature";
    case CTCA_ERR_SCT_FUTURE:
        return "future_timestamp";
    case CTCA_ERR_SCT_UNKNOWN_LOG:
        return "unknown_log";
    case CTCA_ERR_SIG_ALG_MISMATCH:
        return "algorithm_mismatch";
    default:
        return "error";
    }
}

static void reason(const ctca_sct_check *c, int64_t at_ms, char *buf, size_t len)
{
    char at[40];
    switch (c->status) {
    case CTCA_OK:
        snprintf(buf, len, "signature verifies");
        break;
    case CTCA_ERR_SCT_FUTURE:
        ctca_time_format_rfc3339(at_ms, at, sizeof at);
        snprintf(buf, len, "timestamp is later than %s", at);
        break;
    case CTCA_ERR_SIG_ALG_MISMATCH:
        if (c->key == NULL) {
            snprintf(buf, len, "SCT uses hash %u / signature %u, which the log key does not",
                     c->sct.hash_alg, c->sct.sig_alg);
            break;
        }
        snprintf(buf, len, "SCT uses hash %u / signature %u, the log key needs SHA-256 / %u",
                 c->sct.hash_alg, c->sct.sig_alg, ctca_log_key_sig_alg(c->key));
        break;
    default:
        snprintf(buf, len, "%s", ctca_err_str(c->status));
        break;
    }
}

static int print_text(const char *path, const ctca_sct_checks *checks, int64_t at_ms)
{
    printf("%s: %zu SCT%s, %zu valid, %zu invalid, %zu from unknown logs\n", path, checks->n,
           checks->n == 1 ? "" : "s", checks->n_valid, checks->n_invalid, checks->n_unknown);
    for (size_t i = 0; i < checks->n; i++) {
        const ctca_sct_check *c = &checks->items[i];
        char *log_id = NULL, ts[40], why[160];
        if (ctca_base64_encode(c->sct.log_id, CTCA_LOG_ID_LEN, &log_id) != CTCA_OK) {
            cli_error("verify: out of memory");
            return CLI_EXIT_USAGE;
        }
        ctca_time_format_rfc3339((int64_t)c->sct.timestamp, ts, sizeof ts);
        reason(c, at_ms, why, sizeof why);
        if (c->status == CTCA_OK)
            printf("SCT %zu: log %s at %s (%llu): valid\n", i, log_id, ts,
                   (unsigned long long)c->sct.timestamp);
        else if (c->status == CTCA_ERR_SCT_UNKNOWN_LOG)
            printf("SCT %zu: log %s at %s (%llu): unknown log\n", i, log_id, ts,
                   (unsigned long long)c->sct.timestamp);
        else
            printf("SCT %zu: log %s at %s (%llu): invalid: %s\n", i, log_id, ts,
                   (unsigned long long)c->sct.timestamp, why);
        free(log_id);
    }
    return CLI_EXIT_OK;
}

static int print_json(const char *path, const ctca_sct_checks *checks, int64_t at_ms,
                      bool ok)
{
    int rc = CLI_EXIT_USAGE;
    char *log_id = NULL;
    json_t *root = json_object(), *scts = json_array();
    if (!cli_json_set(root, "certificate", cli_json_str(path)) ||
        !cli_json_set(root, "at", json_integer(at_ms)) || !cli_json_set(root, "scts", scts))
        goto out;
    for (size_t i = 0; i < checks->n; i++) {
        const ctca_sct_check *c = &checks->items[i];
        char ts[40], why[160];
        json_t *o = json_object();
        if (json_array_append_new(scts, o) != 0)
            goto out;
        if (ctca_base64_encode(c->sct.log_id, CTCA_LOG_ID_LEN, &log_id) != CTCA_OK)
            goto out;
        ctca_time_format_rfc3339((int64_t)c->sct.timestamp, ts, sizeof ts);
        reason(c, at_ms, why, sizeof why);
        if (!cli_json_set(o, "log_id", json_string(log_id)) ||
            !cli_json_set(o, "timestamp", json_integer((json_int_t)c->sct.timestamp)) ||
            !cli_json_set(o, "time", json_string(ts)) ||
            !cli_json_set(o, "status", json_string(status_name(c->status))) ||
            !cli_json_set(o, "reason", cli_json_str(why)))
            goto out;
        free(log_id);
        log_id = NULL;
    }
    if (!cli_json_set(root, "valid_count", json_integer((json_int_t)checks->n_valid)) ||
        !cli_json_set(root, "invalid_count", json_integer((json_int_t)checks->n_invalid)) ||
        !cli_json_set(root, "unknown_count", json_integer((json_int_t)checks->n_unknown)) ||
        !cli_json_set(root, "ok", json_boolean(ok)))
        goto out;
    /* One line: easy to grep, pipe to jq, or store per certificate. */
    if (!cli_json_print(root))
        goto out;
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK)
        cli_error("verify: out of memory");
    free(log_id);
    json_decref(root);
    return rc;
}

static const char *delivery_name(ctca_sct_delivery d)
{
    return d == CTCA_SCT_EMBEDDED ? "embedded" : d == CTCA_SCT_TLS ? "tls" : "ocsp";
}

/* How an SCT names its log: the base64 key hash (RFC 6962), or the OID
 * (RFC 9162). *out malloc'd. */
static ctca_err log_name(const ctca_policy_sct_check *c, char **out)
{
    if (!ctca_ct_scheme_for(c->ct_version)->log_id_oid)
        return ctca_base64_encode(c->sct.log_id, CTCA_LOG_ID_LEN, out);
    char oid[512];
    CTCA_GUARD(ctca_log_id_v2_to_string(&c->sct_v2.log_id, oid, sizeof oid));
    *out = strdup(oid);
    return *out ? CTCA_OK : CTCA_ERR_NOMEM;
}

/* The status of one SCT in policy mode: verified SCTs from logs outside the
 * list (known only through --log-key) are valid but never count. */
static void policy_sct_line(const ctca_policy_sct_check *c, size_t i, int64_t at_ms)
{
    char *log_id = NULL, ts[40], why[160];
    if (log_name(c, &log_id) != CTCA_OK)
        return;
    ctca_time_format_rfc3339((int64_t)c->sct.timestamp, ts, sizeof ts);
    ctca_sct_check plain = {c->sct, NULL, c->status};
    reason(&plain, at_ms, why, sizeof why);
    char where[200] = "not in the log list";
    if (c->log != NULL)
        snprintf(where, sizeof where, "%s, operator %s, %s",
                 c->log->description ? c->log->description : "(no description)",
                 ctca_log_operator_at(c->log, (int64_t)c->sct.timestamp),
                 ctca_log_state_name(c->log->state));
    printf("SCT %zu (%s%s): log %s (%s) at %s: %s%s\n", i, delivery_name(c->delivery),
           ctca_ct_scheme_for(c->ct_version)->sct_tag, log_id, where, ts,
           c->status == CTCA_OK                   ? "valid"
           : c->status == CTCA_ERR_SCT_UNKNOWN_LOG ? "unknown log"
                                                   : "invalid: ",
           c->status == CTCA_OK || c->status == CTCA_ERR_SCT_UNKNOWN_LOG ? "" : why);
    free(log_id);
}

/* "ocsp": {"cert_status", "produced_at", "this_update", "signer"}. */
static bool add_ocsp_json(json_t *root, const ctca_ocsp_info *info)
{
    char produced[40], this_update[40];
    ctca_time_format_rfc3339(info->produced_at_ms, produced, sizeof produced);
    ctca_time_format_rfc3339(info->this_update_ms, this_update, sizeof this_update);
    return cli_json_set(root, "ocsp",
                        json_pack("{s:s, s:s, s:s, s:s}", "cert_status",
                                  ctca_ocsp_cert_status_name(info->cert_status), "produced_at",
                                  produced, "this_update", this_update, "signer",
                                  info->delegated ? "delegated" : "issuer"));
}

static int print_policy_json(const char *path, const ctca_policy *policy,
                             const ctca_cert_policy_report *r, int64_t at_ms)
{
    int rc = CLI_EXIT_USAGE;
    char *log_id = NULL;
    json_t *root = json_object(), *scts = json_array();
    bool ok = r->result.verdict == CTCA_VERDICT_COMPLIANT;
    if (!cli_json_set(root, "certificate", cli_json_str(path)) ||
        !cli_json_set(root, "at", json_integer(at_ms)) ||
        !cli_json_set(root, "policy", cli_json_str(policy->name)) ||
        !cli_json_set(root, "scts", scts))
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        const ctca_policy_sct_check *c = &r->items[i];
        ctca_sct_check plain = {c->sct, NULL, c->status};
        char ts[40], why[160];
        json_t *o = json_object();
        if (json_array_append_new(scts, o) != 0)
            goto out;
        if (log_name(c, &log_id) != CTCA_OK)
            goto out;
        ctca_time_format_rfc3339((int64_t)c->sct.timestamp, ts, sizeof ts);
        reason(&plain, at_ms, why, sizeof why);
        if (!cli_json_set(o, ctca_ct_scheme_for(c->ct_version)->log_id_field,
                          json_string(log_id)) ||
            !cli_json_set(o, "ct_version", json_integer(c->ct_version)) ||
            !cli_json_set(o, "delivery", json_string(delivery_name(c->delivery))) ||
            !cli_json_set(o, "timestamp", json_integer((json_int_t)c->sct.timestamp)) ||
            !cli_json_set(o, "time", json_string(ts)) ||
            !cli_json_set(o, "status", json_string(status_name(c->status))) ||
            !cli_json_set(o, "reason", cli_json_str(why)))
            goto out;
        if (c->log != NULL &&
            (!cli_json_set(o, "log_state", json_string(ctca_log_state_name(c->log->state))) ||
             !cli_json_set(o, "operator",
                           cli_json_str(ctca_log_operator_at(c->log, (int64_t)c->sct.timestamp)))))
            goto out;
        free(log_id);
        log_id = NULL;
    }
    if (r->has_ocsp && !add_ocsp_json(root, &r->ocsp))
        goto out;
    if (!cli_json_set(root, "valid_count", json_integer((json_int_t)r->n_valid)) ||
        !cli_json_set(root, "invalid_count", json_integer((json_int_t)r->n_invalid)) ||
        !cli_json_set(root, "unknown_count", json_integer((json_int_t)r->n_unknown)) ||
        !cli_json_set(root, "verdict", json_string(ctca_verdict_name(r->result.verdict))) ||
        !cli_json_set(root, "failed_rule",
                      ok ? json_null() : cli_json_str(r->result.failed_rule)) ||
        !cli_json_set(root, "failed_rule_id",
                      ok ? json_null() : json_string(ctca_policy_rule_name(r->result.rule))) ||
        !cli_json_set(root, "ok", json_boolean(ok)))
        goto out;
    if (!cli_json_print(root))
        goto out;
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK)
        cli_error("verify: out of memory");
    free(log_id);
    json_decref(root);
    return rc;
}

/* Policy mode: everything comes from the library; exit status follows the verdict. */
static int verify_policy(const verify_args *a, ctca_view cert, ctca_view issuer,
                         ctca_log_key *const *keys, int64_t at_ms)
{
    int rc = CLI_EXIT_USAGE;
    ctca_errbuf eb = {{0}};
    ctca_err err;
    ctca_log_list *list = NULL;
    ctca_policy policy;
    uint8_t *tls = NULL, *ocsp = NULL;
    size_t tls_len = 0, ocsp_len = 0;
    ctca_cert_policy_report report;
    memset(&report, 0, sizeof report);

    if ((err = ctca_log_list_load(a->log_list, &list, &eb)) != CTCA_OK) {
        cli_error_code("verify: --log-list", err, &eb);
        goto out;
    }
    eb.msg[0] = '\0';
    if ((err = ctca_policy_load(a->policy ? a->policy : "chrome", &policy, &eb)) != CTCA_OK) {
        cli_error_code("verify: --policy", err, &eb);
        goto out;
    }
    eb.msg[0] = '\0';
    if (a->tls_scts != NULL &&
        (err = ctca_file_read(a->tls_scts, CTCA_FILE_MAX, &tls, &tls_len, &eb)) != CTCA_OK) {
        cli_error_code("verify: --tls-scts", err, &eb);
        goto out;
    }
    if (a->tls_scts != NULL && tls_len == 0) {
        cli_error("verify: --tls-scts %s: empty file", a->tls_scts);
        goto out;
    }
    eb.msg[0] = '\0';
    if (a->ocsp_response != NULL &&
        (err = ctca_der_or_pem_load(a->ocsp_response, "OCSP RESPONSE", &ocsp, &ocsp_len, &eb)) !=
            CTCA_OK) {
        cli_error_code("verify: --ocsp-response", err, &eb);
        goto out;
    }
    eb.msg[0] = '\0';
    ctca_cert_policy_input in = {cert,
                                 issuer,
                                 ctca_view_make(tls, tls_len),
                                 ctca_view_make(ocsp, ocsp_len),
                                 (const ctca_log_key *const *)keys,
                                 a->n_log_keys};
    err = ctca_cert_check_policy(&in, list, &policy, at_ms, &report, &eb);
    if (err != CTCA_OK) {
        cli_error("verify: %s: %s", a->cert, eb.msg[0] ? eb.msg : ctca_err_str(err));
        goto out;
    }
    bool ok = report.result.verdict == CTCA_VERDICT_COMPLIANT;
    if (a->json) {
        rc = print_policy_json(a->cert, &policy, &report, at_ms);
    } else {
        printf("%s: %zu SCT%s, %zu valid, %zu invalid, %zu from unknown logs\n", a->cert,
               report.n, report.n == 1 ? "" : "s", report.n_valid, report.n_invalid,
               report.n_unknown);
        if (report.has_ocsp) {
            char produced[40];
            ctca_time_format_rfc3339(report.ocsp.produced_at_ms, produced, sizeof produced);
            printf("OCSP response: certificate %s, produced at %s, signed by %s\n",
                   ctca_ocsp_cert_status_name(report.ocsp.cert_status), produced,
                   report.ocsp.delegated ? "a delegated responder" : "the issuer");
        }
        for (size_t i = 0; i < report.n; i++)
            policy_sct_line(&report.items[i], i, at_ms);
        printf("policy %s: %s%s%s\n", policy.name, ctca_verdict_name(report.result.verdict),
               ok ? "" : ": ", report.result.failed_rule);
        rc = CLI_EXIT_OK;
    }
    if (rc == CLI_EXIT_OK && !ok) {
        rc = CLI_EXIT_FAIL;
        if (!a->json)
            cli_error("verify: %s: not compliant with policy %s: %s", a->cert, policy.name,
                      report.result.failed_rule);
    }
out:
    ctca_cert_policy_report_cleanup(&report);
    ctca_log_list_free(list);
    free(tls);
    free(ocsp);
    return rc;
}

int cli_cmd_verify(int argc, char **argv)
{
    verify_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;

    ctca_errbuf eb = {{0}};
    ctca_err err;
    uint8_t *cert = NULL, *issuer = NULL;
    size_t cert_len = 0, issuer_len = 0;
    ctca_log_key *keys[MAX_LOG_KEYS] = {NULL};
    ctca_sct_checks checks = {NULL, 0, 0, 0, 0};
    int64_t at_ms = 0;
    rc = CLI_EXIT_USAGE;

    if (a.at != NULL) {
        if (ctca_time_parse_rfc3339(a.at, &at_ms) != CTCA_OK || at_ms < 0) {
            cli_error("verify: --at '%s': not an RFC 3339 time such as 2024-05-01T12:00:00Z",
                      a.at);
            goto out;
        }
    } else {
        at_ms = ctca_now_ms();
    }
    if ((err = ctca_der_or_pem_load(a.cert, "CERTIFICATE", &cert, &cert_len, &eb)) != CTCA_OK ||
        (err = ctca_der_or_pem_load(a.issuer, "CERTIFICATE", &issuer, &issuer_len, &eb)) !=
            CTCA_OK) {
        cli_error_code("verify", err, &eb);
        goto out;
    }
    /* Checked on its own first so that a later failure is the certificate's. */
    uint8_t issuer_key_hash[CTCA_LOG_ID_LEN];
    if ((err = ctca_cert_issuer_key_hash(ctca_view_make(issuer, issuer_len), issuer_key_hash)) !=
        CTCA_OK) {
        cli_error("verify: %s: not a usable certificate: %s", a.issuer, ctca_err_str(err));
        goto out;
    }
    for (size_t i = 0; i < a.n_log_keys; i++) {
        eb.msg[0] = '\0';
        if ((err = ctca_log_key_load(a.log_keys[i], &keys[i], &eb)) != CTCA_OK) {
            cli_error_code("verify: --log-key", err, &eb);
            goto out;
        }
    }
    if (a.log_list != NULL) {
        rc = verify_policy(&a, ctca_view_make(cert, cert_len), ctca_view_make(issuer, issuer_len),
                           keys, at_ms);
        goto out;
    }
    err = ctca_cert_verify_embedded_scts(ctca_view_make(cert, cert_len),
                                         ctca_view_make(issuer, issuer_len),
                                         (const ctca_log_key *const *)keys, a.n_log_keys,
                                         (uint64_t)at_ms, &checks);
    if (err == CTCA_ERR_ISSUER_MISMATCH) {
        cli_error("verify: %s: %s (it was not issued by %s)", a.cert, ctca_err_str(err),
                  a.issuer);
        goto out;
    }
    ctca_transitem_list v2 = {NULL, 0};
    if (err == CTCA_ERR_NO_SCT_LIST &&
        ctca_cert_get_transparency_info(ctca_view_make(cert, cert_len), &v2) == CTCA_OK) {
        ctca_transitem_list_cleanup(&v2);
        cli_error("verify: %s: its SCTs are RFC 9162 TransItems (1.3.101.75), whose logs are "
                  "named by OID: verify them with --log-list",
                  a.cert);
        goto out;
    }
    if (err != CTCA_OK) {
        /* CT-level problems speak for themselves; anything else means the bytes
         * are not a certificate ctca can read. */
        bool ct_level = err == CTCA_ERR_NO_SCT_LIST || err == CTCA_ERR_POISON_AND_SCT_LIST ||
                        err == CTCA_ERR_SCT_VERSION || err == CTCA_ERR_SCT_LIST_EMPTY ||
                        err == CTCA_ERR_SCT_LIST_TOO_LONG;
        cli_error("verify: %s: %s%s", a.cert, ct_level ? "" : "not a valid certificate: ",
                  ctca_err_str(err));
        goto out;
    }

    bool ok = checks.n_invalid == 0 && checks.n_valid > 0;
    rc = a.json ? print_json(a.cert, &checks, at_ms, ok) : print_text(a.cert, &checks, at_ms);
    if (rc == CLI_EXIT_OK && !ok) {
        rc = CLI_EXIT_FAIL;
        if (!a.json)
            cli_error("verify: %s: %s", a.cert,
                      checks.n_invalid > 0 ? "an SCT from a known log is invalid"
                                           : "no SCT verifies against the given log keys");
    }
out:
    ctca_sct_checks_cleanup(&checks);
    for (size_t i = 0; i < a.n_log_keys; i++)
        ctca_log_key_free(keys[i]);
    free(cert);
    free(issuer);
    return rc;
}
