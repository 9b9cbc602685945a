/* ctca get: writes a stored certificate (final or precertificate) and, for
 * TLS or OCSP delivery, its x509_entry SCTs. Everything comes from the store. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/deliver.h"
#include "ctca/scheme.h"
#include "ctca/store.h"
#include "ctca/util.h"

typedef struct get_args {
    const char *dir, *serial, *out, *chain_out, *scts_out, *serverinfo_out;
    bool precert;
} get_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca get --ca DIR SERIAL --out FILE [--precert] [--chain-out FILE]\n"
            "                [--scts-out FILE] [--serverinfo-out FILE]\n"
            "\n"
            "Writes the certificate stored for SERIAL (hex, as 'ctca issue' printed it).\n"
            "\n"
            "  --ca DIR          CA directory made by 'ctca init'\n"
            "  --out FILE        the final certificate (PEM)\n"
            "  --precert         write the precertificate instead (CT 2.0: a PEM \"CMS\")\n"
            "  --chain-out FILE  the certificate followed by every certificate of ca.pem\n"
            "                    (a precertificate: preceded by its PreCA if one signed it)\n"
            "  --scts-out FILE   the SCTs logs gave for the final certificate itself\n"
            "                    (x509_entry: issued without embedded SCTs, or back-filled)\n"
            "                    as a TLS SignedCertificateTimestampList, for the TLS\n"
            "                    extension or OCSP ('ctca verify --tls-scts' checks it);\n"
            "                    for a CT 2.0 certificate an RFC 9162 TransItemList of\n"
            "                    x509_sct_v2 items, for the transparency_info extension\n"
            "  --serverinfo-out FILE  CT 1.0: the same SCTs as an OpenSSL serverinfo file\n"
            "                    (ServerInfoFile, 's_server -serverinfo'): the\n"
            "                    signed_certificate_timestamp extension for TLS 1.2 and 1.3\n"
            "\n"
            "exit status: 0 written; 1 the certificate (or any SCT for --scts-out) is not\n"
            "there and will not be; 2 usage or input error (unknown serial); 75 the\n"
            "issuance is deferred: run 'ctca queue run' (or wait for the worker) and retry\n");
}

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_args(int argc, char **argv, get_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--precert") == 0) {
            a->precert = true;
        } else if (cli_take_value("get", argc, argv, &i, "--ca", &a->dir, &error) ||
                   cli_take_value("get", argc, argv, &i, "--out", &a->out, &error) ||
                   cli_take_value("get", argc, argv, &i, "--chain-out", &a->chain_out, &error) ||
                   cli_take_value("get", argc, argv, &i, "--scts-out", &a->scts_out, &error) ||
                   cli_take_value("get", argc, argv, &i, "--serverinfo-out", &a->serverinfo_out,
                                  &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else if (!cli_take_operand("get", argv[i], "serial", &a->serial)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (a->dir == NULL || a->serial == NULL ||
        (a->out == NULL && a->chain_out == NULL && a->scts_out == NULL &&
         a->serverinfo_out == NULL)) {
        cli_error("get: --ca, a SERIAL and at least one of --out, --chain-out, --scts-out, "
                  "--serverinfo-out are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (a->precert && (a->scts_out != NULL || a->serverinfo_out != NULL)) {
        cli_error("get: --scts-out and --serverinfo-out are for the final certificate, not with "
                  "--precert");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static ctca_err write_certs(const char *path, const uint8_t *der, size_t len, const ctca_ca *ca,
                            ctca_errbuf *eb)
{
    size_t n = 1 + (ca != NULL ? ctca_ca_chain_len(ca) : 0);
    ctca_view certs[1 + CTCA_CA_MAX_CHAIN];
    for (size_t i = 0; i < n; i++)
        certs[i] = i == 0 ? ctca_view_make(der, len) : ctca_ca_get0_chain_cert(ca, i - 1);
    char *pem = NULL;
    ctca_err rc = ctca_pem_encode_certs(certs, n, &pem);
    if (rc == CTCA_OK)
        rc = ctca_file_write_atomic(path, pem, strlen(pem), 0644, eb);
    free(pem);
    return rc;
}

/* A CT 1.0 precertificate with the chain logs got for it (RFC 6962 4.2): its
 * PreCA when one signed it, then ca.pem. */
static ctca_err write_precert_chain(const char *path, const uint8_t *der, size_t len,
                                    const ctca_ca *ca, ctca_errbuf *eb)
{
    ctca_view certs[CTCA_PRECERT_CHAIN_MAX];
    size_t n = 0;
    uint8_t *entry = NULL;
    size_t entry_len = 0;
    char *pem = NULL;
    ctca_err rc = ctca_ca_precert_entry(ca, ctca_view_make(der, len), &entry, &entry_len, certs,
                                        &n, NULL);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "the precertificate was signed by neither the CA nor its "
                               "PreCA: %s", ctca_err_str(rc));
    if ((rc = ctca_pem_encode_certs(certs, n, &pem)) == CTCA_OK)
        rc = ctca_file_write_atomic(path, pem, strlen(pem), 0644, eb);
    free(pem);
    free(entry);
    return rc;
}

/* A CT 2.0 precertificate: a PEM "CMS" block, as openssl cms -inform PEM reads. */
static ctca_err write_cms(const char *path, const uint8_t *der, size_t len, ctca_errbuf *eb)
{
    char *pem = NULL;
    ctca_err rc = ctca_pem_encode(der, len, "CMS", &pem);
    if (rc == CTCA_OK)
        rc = ctca_file_write_atomic(path, pem, strlen(pem), 0644, eb);
    free(pem);
    return rc;
}

/* The serverinfo file for OpenSSL's s_server -serverinfo (ctca/deliver.h). */
static ctca_err write_serverinfo(const char *path, const ctca_delivery *d, ctca_errbuf *eb)
{
    char *pem = NULL;
    ctca_err rc = ctca_delivery_serverinfo_pem(d, &pem);
    if (rc == CTCA_ERR_VALUE_RANGE)
        return ctca_errbuf_set(eb, rc, "%s: %zu bytes of SCTs do not fit a TLS extension", path,
                               d->list_len);
    if (rc == CTCA_OK)
        rc = ctca_file_write_atomic(path, pem, strlen(pem), 0644, eb);
    free(pem);
    return rc;
}

/* Why a record has no final certificate, and the exit status that says so. */
static int not_issued(const get_args *a, const ctca_store_cert *c)
{
    if (c->state == CTCA_STORE_DEFERRED) {
        cli_error("get: serial %s is deferred: its SCTs are still being collected; run "
                  "'ctca queue run --ca %s --once' (or let the worker run) and try again",
                  c->serial, a->dir);
        return CLI_EXIT_DEFERRED;
    }
    cli_error("get: serial %s is %s, not issued%s%s", c->serial,
              ctca_store_state_name(c->state), c->last_error ? ": " : "",
              c->last_error ? c->last_error : "");
    return CLI_EXIT_FAIL;
}

int cli_cmd_get(int argc, char **argv)
{
    get_args a;
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    char serial[CTCA_STORE_SERIAL_MAX + 3];
    if (!cli_normalize_serial(a.serial, serial)) {
        cli_error("get: '%s' is not a serial (hex digits, at most 20 octets)", a.serial);
        return CLI_EXIT_USAGE;
    }

    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    ctca_store_cert c = {0};
    ctca_delivery scts = {0};
    status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_ca_open(a.dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(a.dir, rc, &eb);
        goto out;
    }
    if ((rc = ctca_store_open_ex(ctca_ca_get0_store_path(ca), CTCA_STORE_READONLY, &store,
                                  &eb)) != CTCA_OK) {
        cli_error_code("get", rc, &eb);
        goto out;
    }
    rc = ctca_store_get_cert(store, serial, &c);
    if (rc == CTCA_ERR_STORE_NOT_FOUND) {
        cli_error("get: no certificate with serial %s in %s", serial, a.dir);
        goto out;
    }
    if (rc != CTCA_OK) {
        cli_error("get: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
        status = CLI_EXIT_FAIL;
        goto out;
    }
    const uint8_t *der = a.precert ? c.precert_der : c.final_der;
    size_t der_len = a.precert ? c.precert_len : c.final_len;
    if (der == NULL) {
        status = a.precert ? (cli_error("get: serial %s has no precertificate: it was journaled "
                                        "but never signed", serial),
                              CLI_EXIT_FAIL)
                           : not_issued(&a, &c);
        goto out;
    }
    const ctca_ct_scheme *scheme = ctca_ct_scheme_for((unsigned)c.ct_version);
    if (a.serverinfo_out != NULL && !scheme->tls_extension) {
        cli_error("get: --serverinfo-out carries RFC 6962 SCTs; serial %s is a CT 2.0 "
                  "certificate (use --scts-out for its TransItemList)",
                  serial);
        goto out;
    }
    if (a.scts_out != NULL || a.serverinfo_out != NULL) {
        if ((rc = ctca_delivery_load(store, serial, c.ct_version, &scts)) != CTCA_OK) {
            cli_error("get: reading the SCTs of %s: %s", serial, ctca_err_str(rc));
            status = CLI_EXIT_FAIL;
            goto out;
        }
        if (scts.n == 0) {
            cli_error("get: serial %s has no x509_entry SCTs yet (its SCTs, if any, are "
                      "embedded; queued submissions are in 'ctca queue list')",
                      serial);
            status = CLI_EXIT_FAIL;
            goto out;
        }
    }
    if (a.precert && !scheme->precert_is_certificate && a.chain_out != NULL) {
        cli_error("get: a CT 2.0 precertificate is a CMS SignedData: use --out, not --chain-out");
        goto out;
    }
    status = CLI_EXIT_FAIL;
    if ((a.out != NULL &&
         (rc = a.precert && !scheme->precert_is_certificate
                   ? write_cms(a.out, der, der_len, &eb)
                   : write_certs(a.out, der, der_len, NULL, &eb)) !=
             CTCA_OK) ||
        (a.chain_out != NULL &&
         (rc = a.precert ? write_precert_chain(a.chain_out, der, der_len, ca, &eb)
                         : write_certs(a.chain_out, der, der_len, ca, &eb)) != CTCA_OK) ||
        (a.scts_out != NULL &&
         (rc = ctca_file_write_atomic(a.scts_out, scts.list, scts.list_len, 0644, &eb)) !=
             CTCA_OK) ||
        (a.serverinfo_out != NULL &&
         (rc = write_serverinfo(a.serverinfo_out, &scts, &eb)) != CTCA_OK)) {
        cli_error_code("get: writing", rc, &eb);
        goto out;
    }
    printf("serial %s (%s): wrote the %s%s%s", serial, ctca_store_state_name(c.state),
           a.precert ? "precertificate" : "certificate", a.chain_out ? " with its chain" : "",
           a.scts_out || a.serverinfo_out ? "" : "\n");
    if (a.scts_out != NULL || a.serverinfo_out != NULL)
        printf(" and %zu SCT%s\n", scts.n, scts.n == 1 ? "" : "s");
    status = CLI_EXIT_OK;
out:
    ctca_delivery_cleanup(&scts);
    ctca_store_cert_cleanup(&c);
    ctca_store_close(store);
    ctca_ca_free(ca);
    return status;
}
