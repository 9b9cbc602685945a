/* ctca issue: one CSR in, one certificate with embedded SCTs out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/issue.h"
#include "ctca/scheme.h"
#include "ctca/util.h"

static const char usage_text[] =
    "usage: ctca issue --ca DIR --csr FILE --out CERT.pem [--profile NAME]\n"
    "                  [--chain-out FILE] [--precert-out FILE] [--log-list FILE]\n"
    "                  [--fallback defer|fail|unembedded]\n"
    "                  [--ct-version 1|2]\n"
    "\n"
    "Signs a precertificate for the CSR, collects SCTs from the CT logs in\n"
    "parallel, and writes the final certificate with the SCTs embedded.\n"
    "  --ca DIR            CA directory made by 'ctca init'\n"
    "  --csr FILE          PKCS#10 request, PEM or DER\n"
    "  --out FILE          final certificate (PEM)\n"
    "  --profile NAME      profile from the config (default tls-server)\n"
    "  --chain-out FILE    certificate followed by every certificate of ca.pem (PEM)\n"
    "  --precert-out FILE  the precertificate (PEM; CT 2.0: a \"CMS\" block)\n"
    "  --log-list FILE     v3 log list to use instead of the configured one\n"
    "  --fallback MODE     when the logs do not give enough SCTs by the deadline\n"
    "                      (default: ct.fallback in the config, else defer):\n"
    "                      defer: keep the request; 'ctca queue run' finishes it and\n"
    "                        'ctca get' fetches it; fail: give up (the precertificate\n"
    "                        stays on record); unembedded: issue now without SCTs and\n"
    "                        queue add-chain submissions of the certificate\n"
    "  --ct-version 1|2    RFC 6962 (1) or RFC 9162 (2) instead of the profile's\n"
    "Exit status: 0 issued, 1 not issued (logs), 2 usage or input error,\n"
    "75 deferred (the queue will finish it).\n";

/* write_pem: der as a PEM certificate, followed (when ca is not NULL) by every
 * certificate of the CA's ca.pem, the CA certificate first. */
static ctca_err write_pem(const char *path, const uint8_t *der, size_t len, const ctca_ca *ca,
                          ctca_errbuf *eb)
{
    size_t n = 1 + (ca != NULL ? ctca_ca_chain_len(ca) : 0);
    ctca_view certs[1 + CTCA_CA_MAX_CHAIN];
    for (size_t i = 0; i < n; i++)
        certs[i] = i == 0 ? ctca_view_make(der, len) : ctca_ca_get0_chain_cert(ca, i - 1);
    char *all = NULL;
    ctca_err rc = ctca_pem_encode_certs(certs, n, &all);
    if (rc == CTCA_OK)
        rc = ctca_file_write_atomic(path, all, strlen(all), 0644, eb);
    free(all);
    return rc;
}

/* write_precert: a CT 1.0 precertificate as a PEM certificate; a CT 2.0 one
 * as a PEM "CMS" block, which openssl cms -inform PEM reads. */
static ctca_err write_precert(const char *path, const ctca_issue_result *res, ctca_errbuf *eb)
{
    const ctca_ct_scheme *scheme = ctca_ct_scheme_for(res->ct_version);
    if (scheme->precert_is_certificate)
        return write_pem(path, res->precert, res->precert_len, NULL, eb);
    char *pem = NULL;
    ctca_err rc = ctca_pem_encode(res->precert, res->precert_len, scheme->precert_pem_label, &pem);
    if (rc == CTCA_OK)
        rc = ctca_file_write_atomic(path, pem, strlen(pem), 0644, eb);
    free(pem);
    return rc;
}

static void report_logs(const ctca_issue_result *res)
{
    for (size_t i = 0; i < res->n_logs; i++) {
        const ctca_issue_log_outcome *o = &res->logs[i];
        fprintf(stderr, "  log %s (%s): %s [%llu ms]\n", o->url,
                o->description && o->description[0] ? o->description : "-",
                o->err == CTCA_OK ? "SCT verified and stored"
                : o->detail && o->detail[0] ? o->detail
                                            : ctca_err_str(o->err),
                (unsigned long long)o->elapsed_ms);
    }
}

int cli_cmd_issue(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *chain_out = NULL, *precert_out = NULL;
    ctca_issue_request req = {0};
    static const struct option opts[] = {
        {"ca", required_argument, NULL, 'c'},          {"csr", required_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},         {"profile", required_argument, NULL, 'p'},
        {"chain-out", required_argument, NULL, 'C'},   {"precert-out", required_argument, NULL, 'P'},
        {"log-list", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {"fallback", required_argument, NULL, 'f'},
        {"ct-version", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'r': req.csr_path = optarg; break;
        case 'o': out = optarg; break;
        case 'p': req.profile = optarg; break;
        case 'C': chain_out = optarg; break;
        case 'P': precert_out = optarg; break;
        case 'l': req.log_list_path = optarg; break;
        case 'f':
            if (ctca_fallback_parse(optarg, &req.fallback) != CTCA_OK) {
                cli_error("issue: --fallback %s: expected defer, fail or unembedded", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'v':
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
                cli_error("issue: --ct-version %s: expected 1 or 2", optarg);
                return CLI_EXIT_USAGE;
            }
            req.ct_version = (unsigned)(optarg[0] - '0');
            break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: fputs(usage_text, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc || dir == NULL || req.csr_path == NULL || out == NULL) {
        cli_error("issue: --ca, --csr and --out are required");
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }

    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_err rc = ctca_ca_open(dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(dir, rc, &eb);
        return CLI_EXIT_USAGE;
    }
    req.now_ms = ctca_now_ms();
    ctca_issue_result res = {0};
    int status = CLI_EXIT_OK;
    rc = ctca_issue(ca, &req, &res, &eb);
    if (res.precert && precert_out) {
        ctca_errbuf peb = {{0}};
        if (write_precert(precert_out, &res, &peb) != CTCA_OK)
            cli_error_code("writing the precertificate", CTCA_ERR_IO, &peb);
    }
    if (rc == CTCA_ERR_DEFERRED) {
        report_logs(&res);
        cli_error("issue: %s", eb.msg);
        printf("deferred: serial %s\n", res.serial);
        /* A command that works as printed: the worker needs the list too. */
        printf("%zu log submission%s queued; 'ctca queue run --ca %s%s%s --once' (or a "
               "running 'ctca queue run --daemon') completes it, then 'ctca get --ca %s %s "
               "--out %s' writes the certificate\n",
               res.n_queued, res.n_queued == 1 ? "" : "s", dir,
               req.log_list_path ? " --log-list " : "",
               req.log_list_path ? req.log_list_path : "", dir, res.serial, out);
        status = CLI_EXIT_DEFERRED;
        goto done;
    }
    if (rc != CTCA_OK) {
        report_logs(&res);
        cli_error_code("issue", rc, &eb);
        if (res.precert != NULL) /* a refusal before signing left nothing to keep */
            cli_error("serial %s: the precertificate stays on record in the store", res.serial);
        ctca_err_category cat = ctca_err_category_of(rc);
        status = cat == CTCA_CAT_NETWORK || cat == CTCA_CAT_POLICY || cat == CTCA_CAT_VERIFY
                     ? CLI_EXIT_FAIL
                     : CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = write_pem(out, res.cert, res.cert_len, NULL, &eb)) != CTCA_OK ||
        (chain_out && (rc = write_pem(chain_out, res.cert, res.cert_len, ca, &eb)) != CTCA_OK)) {
        cli_error_code("writing the certificate", rc, &eb);
        cli_error("serial %s is issued and stored; fetch it again from the store", res.serial);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    report_logs(&res);
    if (res.cert != NULL && res.n_embedded == 0 && res.n_queued > 0)
        printf("issued serial %s without embedded SCTs (fallback unembedded): %s; add-chain "
               "queued to %zu logs, 'ctca get --scts-out' delivers their SCTs once "
               "'ctca queue run' has them\n",
               res.serial, out, res.n_queued);
    else
        printf("issued serial %s with %zu embedded %s: %s\n", res.serial, res.n_embedded,
               ctca_ct_scheme_for(res.ct_version)->scts, out);
done:
    ctca_issue_result_cleanup(&res);
    ctca_ca_free(ca);
    return status;
}
