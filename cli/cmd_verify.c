/* ctca verify: checks the SCTs embedded in a certificate against log keys.
 * The checking is ctca_cert_verify_embedded_scts; this file reads arguments and
 * files and presents the verdicts. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/asn1.h"
#include "ctca/sct.h"
#include "ctca/util.h"

#define MAX_LOG_KEYS 64

typedef struct verify_args {
    const char *cert;
    const char *issuer;
    const char *log_keys[MAX_LOG_KEYS];
    size_t n_log_keys;
    const char *at;
    bool json;
} verify_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca verify CERT --issuer ISSUER_CERT --log-key LOG_PUBKEY [--log-key ...]\n"
            "                   [--at RFC3339] [--json]\n"
            "\n"
            "Verifies every SCT embedded in CERT (PEM or DER) as a precertificate entry\n"
            "issued by ISSUER_CERT, against the log public keys given (PEM or DER SPKI).\n"
            "\n"
            "  --issuer FILE   the certificate of CERT's issuer (PEM or DER)\n"
            "  --log-key FILE  a log's public key; repeat for several logs\n"
            "  --at TIME       the time to check against (default: now); an SCT\n"
            "                  timestamped later is invalid\n"
            "  --json          print a JSON object instead of text\n"
            "\n"
            "exit status: 0 every SCT from a known log verifies and at least one does;\n"
            "1 an SCT from a known log is invalid, or none verifies; 2 usage or input error\n");
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
        } else if (cli_take_value("verify", argc, argv, &i, "--issuer", &val, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
            a->issuer = val;
        } else if (cli_take_value("verify", argc, argv, &i, "--at", &val, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
            a->at = val;
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
    if (a->cert == NULL || a->issuer == NULL || a->n_log_keys == 0) {
        cli_error("verify: %s is required", a->cert == NULL     ? "a certificate"
                                            : a->issuer == NULL ? "--issuer"
                                                                : "--log-key");
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
    char *text = NULL, *log_id = NULL;
    cJSON *root = cJSON_CreateObject(), *scts = NULL;
    if (root == NULL || cJSON_AddStringToObject(root, "certificate", path) == NULL ||
        cJSON_AddNumberToObject(root, "at", (double)at_ms) == NULL ||
        (scts = cJSON_AddArrayToObject(root, "scts")) == NULL)
        goto out;
    for (size_t i = 0; i < checks->n; i++) {
        const ctca_sct_check *c = &checks->items[i];
        char ts[40], why[160];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(scts, o))
            goto out;
        if (ctca_base64_encode(c->sct.log_id, CTCA_LOG_ID_LEN, &log_id) != CTCA_OK)
            goto out;
        ctca_time_format_rfc3339((int64_t)c->sct.timestamp, ts, sizeof ts);
        reason(c, at_ms, why, sizeof why);
        /* ms timestamps stay below 2^53, so a JSON number holds them exactly. */
        if (cJSON_AddStringToObject(o, "log_id", log_id) == NULL ||
            cJSON_AddNumberToObject(o, "timestamp", (double)c->sct.timestamp) == NULL ||
            cJSON_AddStringToObject(o, "time", ts) == NULL ||
            cJSON_AddStringToObject(o, "status", status_name(c->status)) == NULL ||
            cJSON_AddStringToObject(o, "reason", why) == NULL)
            goto out;
        free(log_id);
        log_id = NULL;
    }
    if (cJSON_AddNumberToObject(root, "valid_count", (double)checks->n_valid) == NULL ||
        cJSON_AddNumberToObject(root, "invalid_count", (double)checks->n_invalid) == NULL ||
        cJSON_AddNumberToObject(root, "unknown_count", (double)checks->n_unknown) == NULL ||
        cJSON_AddBoolToObject(root, "ok", ok) == NULL)
        goto out;
    /* One line: easy to grep, pipe to jq, or store per certificate. */
    text = cJSON_PrintUnformatted(root);
    if (text == NULL)
        goto out;
    printf("%s\n", text);
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK)
        cli_error("verify: out of memory");
    free(log_id);
    cJSON_free(text);
    cJSON_Delete(root);
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
    err = ctca_cert_verify_embedded_scts(ctca_view_make(cert, cert_len),
                                         ctca_view_make(issuer, issuer_len),
                                         (const ctca_log_key *const *)keys, a.n_log_keys,
                                         (uint64_t)at_ms, &checks);
    if (err == CTCA_ERR_ISSUER_MISMATCH) {
        cli_error("verify: %s: %s (it was not issued by %s)", a.cert, ctca_err_str(err),
                  a.issuer);
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
