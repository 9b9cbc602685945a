/* ctca backfill: queues add-chain submissions of already issued certificates
 * to a log (one newly added to the list, say); `ctca queue run` sends them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/loglist.h"
#include "ctca/store.h"
#include "ctca/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca backfill --ca DIR --log LOG [--since DATE] [--log-list FILE]\n"
            "\n"
            "Queues an add-chain submission to LOG of every issued certificate (notBefore\n"
            "at or after DATE) that has no SCT from LOG yet and is not queued for it;\n"
            "'ctca queue run' submits them and stores each SCT for the certificate.\n"
            "\n"
            "  --ca DIR         CA directory made by 'ctca init'\n"
            "  --log LOG        the log: its base64 log ID, URL or description in the list\n"
            "  --since DATE     YYYY-MM-DD or an RFC 3339 time (default: every certificate)\n"
            "  --log-list FILE  v3 log list to use instead of the configured one\n"
            "\n"
            "exit status: 0 queued (possibly nothing); 2 usage or input error\n");
}

static bool parse_since(const char *s, int64_t *out_s)
{
    char buf[64];
    int64_t ms = 0;
    if (strlen(s) == 10) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        s = buf;
    }
    if (ctca_time_parse_rfc3339(s, &ms) != CTCA_OK)
        return false;
    *out_s = ms / 1000;
    return true;
}

int cli_cmd_backfill(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL, *since = NULL, *log_list = NULL;
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (cli_take_value("backfill", argc, argv, &i, "--ca", &dir, &error) ||
                   cli_take_value("backfill", argc, argv, &i, "--log", &name, &error) ||
                   cli_take_value("backfill", argc, argv, &i, "--since", &since, &error) ||
                   cli_take_value("backfill", argc, argv, &i, "--log-list", &log_list, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("backfill: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || name == NULL) {
        cli_error("backfill: --ca and --log are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    int64_t since_s = INT64_MIN;
    if (since != NULL && !parse_since(since, &since_s)) {
        cli_error("backfill: --since '%s': expected YYYY-MM-DD or an RFC 3339 time", since);
        return CLI_EXIT_USAGE;
    }

    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_log_list *list = NULL;
    ctca_store *store = NULL;
    int status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_ca_open(dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(dir, rc, &eb);
        goto out;
    }
    if ((rc = ctca_ca_load_log_list(ca, log_list, &list, &eb)) != CTCA_OK) {
        cli_error_code("backfill", rc, &eb);
        goto out;
    }
    /* The worker finds the log's URL and key there: a log outside the list
     * could never be submitted to. */
    const ctca_log_info *log = cli_find_log(list, name);
    if (log == NULL) {
        cli_error("backfill: no log '%s' in %s (give its base64 log ID, URL or description)",
                  name, list->path);
        goto out;
    }
    if ((rc = ctca_store_open(ctca_ca_get0_store_path(ca), &store, &eb)) != CTCA_OK) {
        cli_error_code("backfill", rc, &eb);
        goto out;
    }
    size_t added = 0;
    if ((rc = ctca_store_queue_backfill(store, log->log_id, since_s, ctca_now_ms(), &added)) !=
        CTCA_OK) {
        cli_error("backfill: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
        status = CLI_EXIT_FAIL;
        goto out;
    }
    printf("queued %zu certificate%s for add-chain to %s; 'ctca queue run --ca %s%s%s --once' "
           "submits them\n",
           added, added == 1 ? "" : "s", log->url, dir, log_list ? " --log-list " : "",
           log_list ? log_list : "");
    status = CLI_EXIT_OK;
out:
    ctca_store_close(store);
    ctca_log_list_free(list);
    ctca_ca_free(ca);
    return status;
}
