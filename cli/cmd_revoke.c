/* ctca revoke: records a serial as revoked in the store, for the OCSP
 * responder. A revocation is final. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/ocsp.h"
#include "ctca/store.h"
#include "ctca/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca revoke --ca DIR SERIAL [--reason NAME] [--at RFC3339]\n"
            "\n"
            "Revokes the certificate (or precertificate) with SERIAL; 'ctca ocsp' then\n"
            "answers revoked for it. A revocation is final.\n"
            "\n"
            "  --ca DIR         CA directory made by 'ctca init'\n"
            "  --reason NAME    RFC 5280 CRLReason: unspecified (default), keyCompromise,\n"
            "                   cACompromise, affiliationChanged, superseded,\n"
            "                   cessationOfOperation, privilegeWithdrawn, aACompromise\n"
            "  --at RFC3339     the revocation time (default now; not in the future)\n"
            "\n"
            "exit status: 0 revoked; 1 already revoked, or never signed (nothing to\n"
            "revoke); 2 usage or input error (unknown serial or reason)\n");
}

typedef struct revoke_args {
    const char *dir, *serial, *reason, *at;
} revoke_args;

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_args(int argc, char **argv, revoke_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (cli_take_value("revoke", argc, argv, &i, "--ca", &a->dir, &error) ||
                   cli_take_value("revoke", argc, argv, &i, "--reason", &a->reason, &error) ||
                   cli_take_value("revoke", argc, argv, &i, "--at", &a->at, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else if (!cli_take_operand("revoke", argv[i], "serial", &a->serial)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (a->dir == NULL || a->serial == NULL) {
        cli_error("revoke: --ca and a SERIAL are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

int cli_cmd_revoke(int argc, char **argv)
{
    revoke_args a;
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    char serial[CTCA_STORE_SERIAL_MAX + 3];
    if (!cli_normalize_serial(a.serial, serial)) {
        cli_error("revoke: '%s' is not a serial (hex digits, at most 20 octets)", a.serial);
        return CLI_EXIT_USAGE;
    }
    int reason = CTCA_REASON_UNSPECIFIED;
    if (a.reason != NULL && ctca_revocation_reason_parse(a.reason, &reason) != CTCA_OK) {
        cli_error("revoke: --reason '%s' is not an RFC 5280 CRLReason ctca revokes with "
                  "(certificateHold is not supported: a revocation is final)",
                  a.reason);
        return CLI_EXIT_USAGE;
    }
    int64_t now = ctca_now_ms(), at = now;
    if (a.at != NULL && ctca_time_parse_rfc3339(a.at, &at) != CTCA_OK) {
        cli_error("revoke: --at '%s' is not an RFC 3339 time", a.at);
        return CLI_EXIT_USAGE;
    }
    if (at > now) {
        cli_error("revoke: --at %s is in the future", a.at);
        return CLI_EXIT_USAGE;
    }

    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_ca_open(a.dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(a.dir, rc, &eb);
        goto out;
    }
    if ((rc = ctca_store_open(ctca_ca_get0_store_path(ca), &store, &eb)) != CTCA_OK) {
        cli_error_code("revoke", rc, &eb);
        goto out;
    }
    rc = ctca_store_revoke(store, serial, reason, at, now);
    if (rc == CTCA_ERR_STORE_NOT_FOUND) {
        cli_error("revoke: no certificate with serial %s in %s", serial, a.dir);
        goto out;
    }
    if (rc != CTCA_OK) {
        cli_error("revoke: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
        status = CLI_EXIT_FAIL;
        goto out;
    }
    char when[32];
    ctca_time_format_rfc3339(at, when, sizeof when);
    printf("revoked serial %s (%s) at %s\n", serial, ctca_revocation_reason_name(reason), when);
    status = CLI_EXIT_OK;
out:
    ctca_store_close(store);
    ctca_ca_free(ca);
    return status;
}
