/* The ctca command-line tool: one file per subcommand, each a thin layer over
 * the public headers in include/ctca/. */
#ifndef CTCA_CLI_H
#define CTCA_CLI_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

#include "ctca/error.h"
#include "ctca/loglist.h"
#include "ctca/store.h"

/* Exit statuses shared by every subcommand. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,    /* verification failed, issuance failed */
    CLI_EXIT_USAGE = 2,   /* usage or input error */
    CLI_EXIT_DEFERRED = 75 /* EX_TEMPFAIL: issuance queued for later */
};

/* Subcommands: each takes argv with argv[0] = the subcommand's name. */
int cli_cmd_verify(int argc, char **argv);
int cli_cmd_issue(int argc, char **argv);
int cli_cmd_init(int argc, char **argv);
int cli_cmd_batch(int argc, char **argv);
int cli_cmd_get(int argc, char **argv);
int cli_cmd_queue(int argc, char **argv);
int cli_cmd_backfill(int argc, char **argv);
int cli_cmd_revoke(int argc, char **argv);
int cli_cmd_ocsp(int argc, char **argv);

/* cli_take_value: when argv[*i] is option name ("--name VALUE" or
 * "--name=VALUE"), sets *out to its value, advances *i past it and returns
 * true; a missing value prints an error for cmd and sets *error. Returns false
 * for any other argument. */
bool cli_take_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                    const char **out, bool *error);

/* cli_take_operand: arg, an argument that is no option cli_take_value took,
 * as the command's one operand (*slot, which names it as what): false, with
 * an error for cmd, when arg is an unknown option or a second operand. */
bool cli_take_operand(const char *cmd, const char *arg, const char *what, const char **slot);

/* cli_normalize_serial: the store's spelling of serial s into out:
 * lower-case hex of the minimal magnitude ("0x" prefix, colons and upper
 * case accepted). False when s is not hex or longer than 20 octets. */
bool cli_normalize_serial(const char *s, char out[CTCA_STORE_SERIAL_MAX + 3]);

/* cli_find_log: the log of list named by its base64 log ID, its URL or its
 * description (borrowed from list); NULL when none is. */
const ctca_log_info *cli_find_log(const ctca_log_list *list, const char *name);

/* The CLI writes its own JSON output with jansson; input JSON is parsed only by
 * the library. */
/* cli_json_str: s as a JSON string value; bytes that are not UTF-8 become '?',
 * so one bad byte (say in a log's error text) cannot cost the whole document. */
json_t *cli_json_str(const char *s);
/* cli_json_set: obj[key] = v, taking v over (also on failure); false when v is
 * NULL or the member cannot be set. */
bool cli_json_set(json_t *obj, const char *key, json_t *v);
/* cli_json_print: root on one line to stdout (compact, as jq reads it). */
bool cli_json_print(const json_t *root);

/* cli_error: prints "ctca: <fmt>" and a newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error_code: prints "ctca: <what>: <ctca_err_str(code)>[: <eb->msg>]". */
void cli_error_code(const char *what, ctca_err code, const ctca_errbuf *eb);

#endif
