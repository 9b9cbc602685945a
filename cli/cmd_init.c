/* ctca init: creates a CA directory. The work is ctca_ca_init; this file reads
 * arguments and reports. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca init DIR [--key-type rsa-2048|rsa-3072|ec-p256|ec-p384]\n"
            "                 [--subject \"CN=Example CA,O=Example\"] [--validity-days N]\n"
            "                 [--ca-cert PEM --ca-key PEM] [--log-list FILE] [--preca]\n"
            "\n"
            "Creates the CA directory DIR (it must not exist, or be empty) holding\n"
            "ca.key (PKCS#8 PEM, mode 0600), ca.pem, ctca.json and the store ctca.db.\n"
            "\n"
            "  --key-type T       the new root's key (default ec-p256)\n"
            "  --subject S        the new root's subject, RFC 4514 (attributes CN O OU C L\n"
            "                     ST, listed last-to-first; default \"CN=ctca Root CA\")\n"
            "  --validity-days N  the new root's validity (default 3650)\n"
            "  --ca-cert FILE     use this existing CA certificate (PEM or DER; must be\n"
            "  --ca-key FILE      CA:TRUE) and its unencrypted PEM key instead; a PEM\n"
            "                     bundle may follow the certificate with its issuers\n"
            "                     (leaf-most first), all copied to ca.pem\n"
            "  --log-list FILE    record this CT log list (stored as an absolute path)\n"
            "  --preca            also make a Precertificate Signing Certificate (RFC 6962\n"
            "                     3.1) signed by the CA, preca.pem, and its key preca.key\n"
            "                     (same type as the CA's, mode 0600), named in ctca.json:\n"
            "                     CT 1.0 precertificates are then signed by it\n"
            "\n"
            "exit status: 0 created; 1 failure; 2 usage or input error\n");
}

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_args(int argc, char **argv, ctca_init_params *p)
{
    const char *key_type = NULL, *days = NULL;
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--preca") == 0) {
            p->preca = true;
        } else if (cli_take_value("init", argc, argv, &i, "--key-type", &key_type, &error) ||
                   cli_take_value("init", argc, argv, &i, "--subject", &p->subject, &error) ||
                   cli_take_value("init", argc, argv, &i, "--validity-days", &days, &error) ||
                   cli_take_value("init", argc, argv, &i, "--ca-cert", &p->import_cert, &error) ||
                   cli_take_value("init", argc, argv, &i, "--ca-key", &p->import_key, &error) ||
                   cli_take_value("init", argc, argv, &i, "--log-list", &p->log_list, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else if (!cli_take_operand("init", argv[i], "directory", &p->dir)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (p->dir == NULL) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (key_type != NULL && ctca_key_type_parse(key_type, &p->key_type) != CTCA_OK) {
        cli_error("init: --key-type must be rsa-2048, rsa-3072, ec-p256 or ec-p384");
        return CLI_EXIT_USAGE;
    }
    if (p->import_cert != NULL && (key_type != NULL || p->subject != NULL || days != NULL)) {
        cli_error("init: --key-type, --subject and --validity-days describe a new root; "
                  "they do not apply with --ca-cert");
        return CLI_EXIT_USAGE;
    }
    if (days != NULL) {
        char *end = NULL;
        unsigned long d = strtoul(days, &end, 10);
        if (days[0] < '0' || days[0] > '9' || *end != '\0' || d == 0 || d > UINT_MAX) {
            cli_error("init: --validity-days must be a positive integer");
            return CLI_EXIT_USAGE;
        }
        p->validity_days = (unsigned)d;
    }
    return -1;
}

int cli_cmd_init(int argc, char **argv)
{
    ctca_init_params p = {.key_type = CTCA_KEY_EC_P256};
    int st = parse_args(argc, argv, &p);
    if (st >= 0)
        return st;
    p.now = ctca_now_ms() / 1000;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_ca_init(&p, &eb);
    if (rc != CTCA_OK) {
        cli_error_code("init", rc, &eb);
        return ctca_err_category_of(rc) == CTCA_CAT_INPUT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    printf("created CA directory %s: %s, %s, %s%s%s, %s\n", p.dir, CTCA_CA_KEY_FILE,
           CTCA_CA_CERT_FILE, p.preca ? CTCA_CA_PRECA_KEY_FILE ", " : "",
           p.preca ? CTCA_CA_PRECA_CERT_FILE ", " : "", CTCA_CA_CONFIG_FILE, CTCA_CA_STORE_FILE);
    return CLI_EXIT_OK;
}
