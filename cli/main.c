#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"init", cli_cmd_init, "create a CA directory (key, root certificate, config, store)"},
    {"issue", cli_cmd_issue, "issue a certificate with embedded SCTs from a CSR"},
    {"verify", cli_cmd_verify, "verify the SCTs embedded in a certificate"},
    {"batch", cli_cmd_batch, "issue certificates for a directory of CSRs"},
    {"get", cli_cmd_get, "write a stored certificate (final or precertificate) and its SCTs"},
    {"queue", cli_cmd_queue, "list, run or retry the queue of log submissions"},
    {"backfill", cli_cmd_backfill, "queue issued certificates for logging to another log"},
    {"revoke", cli_cmd_revoke, "revoke a certificate (or precertificate) by serial"},
    {"ocsp", cli_cmd_ocsp, "answer OCSP requests (one, or as an HTTP server) with SCTs"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ctca <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'ctca <command> --help' describes a command's options.\n");
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ctca: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_error_code(const char *what, ctca_err code, const ctca_errbuf *eb)
{
    if (eb != NULL && eb->msg[0] != '\0')
        cli_error("%s: %s: %s", what, ctca_err_str(code), eb->msg);
    else
        cli_error("%s: %s", what, ctca_err_str(code));
}

bool cli_take_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                    const char **out, bool *error)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *out = a + n + 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        cli_error("%s: %s needs a value", cmd, name);
        *error = true;
        return true;
    }
    *out = argv[++*i];
    return true;
}

bool cli_take_operand(const char *cmd, const char *arg, const char *what, const char **slot)
{
    if (arg[0] == '-' && arg[1] != '\0') {
        cli_error("%s: unknown option '%s'", cmd, arg);
        return false;
    }
    if (*slot != NULL) {
        cli_error("%s: one %s only ('%s' and '%s')", cmd, what, *slot, arg);
        return false;
    }
    *slot = arg;
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
