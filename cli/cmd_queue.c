/* ctca queue: the queue of log submissions (deferred issuances, certificates
 * issued without embedded SCTs, back-fills). `list` reads the store, `run`
 * is the worker, `retry` brings parked items back. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/loglist.h"
#include "ctca/queue.h"
#include "ctca/store.h"
#include "ctca/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca queue list --ca DIR [--serial SERIAL] [--json]\n"
            "       ctca queue run --ca DIR (--once | --daemon) [--log-list FILE]\n"
            "                      [--owner NAME] [--quiet]\n"
            "       ctca queue retry --ca DIR (--serial SERIAL | --log LOG | --all)\n"
            "                        [--dry-run] [--log-list FILE]\n"
            "\n"
            "  list   every queued submission: serial, log, entry (precert: add-pre-chain\n"
            "         for a deferred issuance; x509: add-chain of an issued certificate),\n"
            "         state (pending, leased, done, parked), attempts, next attempt,\n"
            "         last error, and how it ended; then each log's circuit breaker\n"
            "  --ca DIR         CA directory made by 'ctca init'\n"
            "  --serial SERIAL  only this certificate's items\n"
            "  --json           one JSON object: {\"items\":[...],\"breakers\":[...]}\n"
            "  run    takes over issuances whose process died, submits the items due to\n"
            "         their logs (several workers may share a store), verifies and stores\n"
            "         each SCT, finishes deferred issuances once their SCTs meet the CT\n"
            "         policy, retries failures with backoff and parks what gives up\n"
            "  --once           handle what is due now, then exit\n"
            "  --daemon         keep running until SIGTERM or SIGINT\n"
            "  --log-list FILE  v3 log list to use instead of the configured one\n"
            "  --owner NAME     lease owner name (default HOST:PID:RANDOM)\n"
            "  --quiet          no line per item, only the summary\n"
            "  retry  makes parked items pending again (no attempts, due now): add-chain\n"
            "         items, and add-pre-chain items of deferred issuances; those of a\n"
            "         failed issuance are refused ('ctca batch' resumes it from its CSR)\n"
            "  --serial SERIAL  this certificate's parked items\n"
            "  --log LOG        parked items for LOG (base64 log ID, URL or description in\n"
            "                   the log list), and close its circuit breaker\n"
            "  --all            every parked item\n"
            "  --dry-run        print what would be done, change nothing\n"
            "  --log-list FILE  v3 log list to find LOG in instead of the configured one\n"
            "\n"
            "exit status: list: 0 listed; run: 0 nothing left, 1 an item was\n"
            "parked or an issuance failed in this run (or the run could not proceed),\n"
            "75 (--once) work is left: items pending or leased elsewhere, or issuances\n"
            "unfinished; retry: 0 every matching parked item\n"
            "requeued (possibly none), 1 some were refused; 2 usage or input error\n");
}

typedef struct queue_args {
    const char *dir, *serial;
    bool json;
} queue_args;

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_list_args(int argc, char **argv, queue_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (cli_take_value("queue list", argc, argv, &i, "--ca", &a->dir, &error) ||
                   cli_take_value("queue list", argc, argv, &i, "--serial", &a->serial,
                                  &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("queue list: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (a->dir == NULL) {
        cli_error("queue list: --ca is required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* "description (url)" of a log from the configured list, else its base64 ID. */
static void log_name(const ctca_log_list *list, const uint8_t *log_id, char *buf, size_t n)
{
    const ctca_log_info *log = list ? ctca_log_list_find(list, log_id) : NULL;
    if (log != NULL) {
        snprintf(buf, n, "%s", log->description ? log->description : log->url);
        return;
    }
    char *b64 = NULL;
    if (ctca_base64_encode(log_id, CTCA_LOG_ID_LEN, &b64) == CTCA_OK)
        snprintf(buf, n, "%s", b64);
    else
        snprintf(buf, n, "?");
    free(b64);
}

static void time_or_dash(int64_t ms, char *buf, size_t n)
{
    if (ms <= 0)
        snprintf(buf, n, "-");
    else
        ctca_time_format_rfc3339(ms, buf, n);
}

static bool add_item_json(json_t *arr, const ctca_store_queue_item *it, const char *log)
{
    char *b64 = NULL, next[40], lease[40];
    json_t *o = json_object();
    if (json_array_append_new(arr, o) != 0 ||
        ctca_base64_encode(it->log_id, CTCA_LOG_ID_LEN, &b64) != CTCA_OK)
        return false;
    time_or_dash(it->next_attempt_ms, next, sizeof next);
    time_or_dash(it->lease_expiry_ms, lease, sizeof lease);
    bool ok = cli_json_set(o, "id", json_integer(it->id)) &&
              cli_json_set(o, "serial", cli_json_str(it->serial)) &&
              cli_json_set(o, "log_id", json_string(b64)) &&
              cli_json_set(o, "log", cli_json_str(log)) &&
              cli_json_set(o, "entry", json_string(it->entry_type == 1 ? "precert" : "x509")) &&
              cli_json_set(o, "state", json_string(ctca_store_queue_state_name(it->state))) &&
              cli_json_set(o, "attempts", json_integer(it->attempts)) &&
              cli_json_set(o, "next_attempt", json_string(next)) &&
              (it->lease_owner[0] ? cli_json_set(o, "lease_owner", cli_json_str(it->lease_owner)) &&
                                        cli_json_set(o, "lease_expiry", json_string(lease))
                                  : cli_json_set(o, "lease_owner", json_null())) &&
              cli_json_set(o, "last_error",
                           it->last_error ? cli_json_str(it->last_error) : json_null()) &&
              cli_json_set(o, "note", it->note ? cli_json_str(it->note) : json_null());
    free(b64);
    return ok;
}

static void print_item(const ctca_store_queue_item *it, const char *log)
{
    char next[40];
    time_or_dash(it->next_attempt_ms, next, sizeof next);
    printf("%s  %-7s %-7s attempts=%u next=%s log=%s", it->serial,
           it->entry_type == 1 ? "precert" : "x509", ctca_store_queue_state_name(it->state),
           it->attempts, it->state == CTCA_QUEUE_PENDING ? next : "-", log);
    if (it->lease_owner[0]) {
        char lease[40];
        time_or_dash(it->lease_expiry_ms, lease, sizeof lease);
        printf(" lease=%s until %s", it->lease_owner, lease);
    }
    if (it->last_error)
        printf(" last_error=\"%s\"", it->last_error);
    if (it->note)
        printf(" note=\"%s\"", it->note);
    printf("\n");
}

/* Distinct log IDs of the items listed so far, for the breaker report. */
typedef struct log_set {
    uint8_t (*ids)[CTCA_LOG_ID_LEN];
    size_t n, cap;
} log_set;

static bool log_set_add(log_set *s, const uint8_t *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->ids[i], id, CTCA_LOG_ID_LEN) == 0)
            return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        void *p = realloc(s->ids, cap * sizeof *s->ids);
        if (p == NULL)
            return false;
        s->ids = p;
        s->cap = cap;
    }
    memcpy(s->ids[s->n++], id, CTCA_LOG_ID_LEN);
    return true;
}

static int list_cmd(int argc, char **argv)
{
    queue_args a;
    int status = parse_list_args(argc, argv, &a);
    if (status >= 0)
        return status;
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    ctca_log_list *list = NULL;
    log_set logs = {0};
    json_t *root = NULL, *items = NULL, *breakers = NULL;
    size_t total = 0;
    status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_ca_open(a.dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(a.dir, rc, &eb);
        goto out;
    }
    if ((rc = ctca_store_open_ex(ctca_ca_get0_store_path(ca), CTCA_STORE_READONLY, &store,
                                 &eb)) != CTCA_OK) {
        cli_error_code("queue list", rc, &eb);
        goto out;
    }
    /* Names are a convenience: without a readable list, logs show as IDs. */
    const char *ll = ctca_ca_get0_log_list_path(ca);
    if (ll != NULL && ctca_log_list_load(ll, &list, NULL) != CTCA_OK)
        list = NULL;
    if (a.json && ((root = json_object()) == NULL ||
                   !cli_json_set(root, "items", items = json_array()) ||
                   !cli_json_set(root, "breakers", breakers = json_array())))
        goto nomem;
    for (int64_t after = 0;;) {
        ctca_store_queue_items page;
        rc = ctca_store_queue_list(store, a.serial, after, CTCA_STORE_QUEUE_PAGE_MAX, &page);
        if (rc != CTCA_OK) {
            cli_error("queue list: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
            goto out;
        }
        bool ok = true;
        for (size_t i = 0; i < page.count && ok; i++) {
            char name[256];
            log_name(list, page.items[i].log_id, name, sizeof name);
            ok = log_set_add(&logs, page.items[i].log_id);
            if (a.json)
                ok = ok && add_item_json(items, &page.items[i], name);
            else
                print_item(&page.items[i], name);
        }
        total += page.count;
        if (page.count > 0)
            after = page.items[page.count - 1].id;
        size_t n = page.count;
        ctca_store_queue_items_cleanup(&page);
        if (!ok)
            goto nomem;
        if (n < CTCA_STORE_QUEUE_PAGE_MAX)
            break;
    }
    for (size_t i = 0; i < logs.n; i++) {
        ctca_store_breaker b;
        char name[256], until[40];
        if ((rc = ctca_store_breaker_get(store, logs.ids[i], &b)) != CTCA_OK) {
            cli_error("queue list: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
            goto out;
        }
        log_name(list, logs.ids[i], name, sizeof name);
        time_or_dash(b.state == CTCA_BREAKER_CLOSED ? 0 : b.open_until_ms, until, sizeof until);
        if (!a.json) {
            printf("breaker log=%s %s failures=%u%s%s\n", name,
                   ctca_store_breaker_state_name(b.state), b.failures,
                   b.state == CTCA_BREAKER_OPEN ? " open_until=" : "",
                   b.state == CTCA_BREAKER_OPEN ? until : "");
            continue;
        }
        if (json_array_append_new(breakers,
                                  json_pack("{s:o, s:s, s:I, s:s}", "log", cli_json_str(name),
                                            "state", ctca_store_breaker_state_name(b.state),
                                            "failures", (json_int_t)b.failures, "open_until",
                                            until)) != 0)
            goto nomem;
    }
    if (a.json) {
        if (!cli_json_print(root))
            goto nomem;
    } else if (total == 0) {
        printf("the queue is empty\n");
    }
    status = CLI_EXIT_OK;
    goto out;
nomem:
    cli_error("queue list: out of memory");
    status = CLI_EXIT_FAIL;
out:
    json_decref(root);
    free(logs.ids);
    ctca_log_list_free(list);
    ctca_store_close(store);
    ctca_ca_free(ca);
    return status;
}

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int run_cmd(int argc, char **argv)
{
    const char *dir = NULL, *log_list = NULL, *owner = NULL;
    bool once = false, daemon = false, quiet = false;
    for (int i = 2; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (strcmp(argv[i], "--daemon") == 0) {
            daemon = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (cli_take_value("queue run", argc, argv, &i, "--ca", &dir, &error) ||
                   cli_take_value("queue run", argc, argv, &i, "--log-list", &log_list, &error) ||
                   cli_take_value("queue run", argc, argv, &i, "--owner", &owner, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("queue run: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || once == daemon) {
        cli_error("queue run: --ca and one of --once or --daemon are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_err rc = ctca_ca_open(dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(dir, rc, &eb);
        return CLI_EXIT_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ctca_queue_run_opts o = {.owner = owner, .log_list_path = log_list, .once = once,
                             .stop = &stop_flag, .progress = quiet ? NULL : stdout};
    ctca_queue_stats st;
    rc = ctca_queue_run(ca, &o, &st, &eb);
    ctca_ca_free(ca);
    printf("queue run: %zu submitted, %zu SCTs stored, %zu to retry, %zu parked, %zu not "
           "needed; %zu issuances completed, %zu failed, %zu taken over; %zu items pending, "
           "%zu leased by other workers, %zu issuances unfinished\n",
           st.submitted, st.done, st.retried, st.parked, st.settled, st.issued, st.failed,
           st.recovered, st.pending, st.leased, st.unfinished);
    if (rc != CTCA_OK) {
        cli_error_code("queue run", rc, &eb);
        return ctca_err_category_of(rc) == CTCA_CAT_INPUT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (st.parked > 0 || st.failed > 0)
        return CLI_EXIT_FAIL;
    bool left = st.pending > 0 || st.leased > 0 || st.unfinished > 0;
    return left && once ? CLI_EXIT_DEFERRED : CLI_EXIT_OK;
}

/* ---- retry ------------------------------------------------------------------- */

typedef struct retry_args {
    const char *dir, *serial, *log, *log_list;
    bool all, dry_run;
} retry_args;

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_retry_args(int argc, char **argv, retry_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--all") == 0) {
            a->all = true;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            a->dry_run = true;
        } else if (cli_take_value("queue retry", argc, argv, &i, "--ca", &a->dir, &error) ||
                   cli_take_value("queue retry", argc, argv, &i, "--serial", &a->serial,
                                  &error) ||
                   cli_take_value("queue retry", argc, argv, &i, "--log", &a->log, &error) ||
                   cli_take_value("queue retry", argc, argv, &i, "--log-list", &a->log_list,
                                  &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("queue retry: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    /* --all is explicit so that a forgotten filter never retries everything. */
    if (a->dir == NULL || a->all == (a->serial != NULL || a->log != NULL)) {
        cli_error("queue retry: --ca and either --all or --serial and/or --log are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* Why item it of a record in state st (its last error: why) is not retried. */
static void print_refused(const ctca_store_queue_item *it, const char *log, ctca_store_state st,
                          const char *why)
{
    char reason[CTCA_STORE_TEXT_MAX + 200];
    if (st == CTCA_STORE_FAILED)
        snprintf(reason, sizeof reason,
                 "its issuance failed (%s); the queue does not resume a failed issuance: "
                 "'ctca batch' resumes it from its CSR",
                 why ? why : "no reason recorded");
    else if (st == CTCA_STORE_ISSUED)
        snprintf(reason, sizeof reason,
                 "the certificate was issued: its precertificate SCTs are not needed");
    else
        snprintf(reason, sizeof reason, "the record is %s, not waiting for the queue",
                 ctca_store_state_name(st));
    cli_error("queue retry: serial %s %s log=%s: not retried: %s", it->serial,
              it->entry_type == 1 ? "precert" : "x509", log, reason);
}

/* Requeues (or, dry, lists) every parked item matching a, page by page;
 * *requeued and *refused get the counts. */
static ctca_err retry_items(ctca_store *store, const retry_args *a, const char *serial,
                            const ctca_log_info *log, const ctca_log_list *list,
                            size_t *requeued, size_t *refused)
{
    ctca_store_cert rec = {0};
    ctca_err rc = CTCA_OK;
    for (int64_t after = 0;;) {
        ctca_store_queue_items rq, rf;
        rc = ctca_store_queue_retry(store, serial, log ? log->log_id : NULL, after,
                                    CTCA_STORE_QUEUE_PAGE_MAX, a->dry_run, ctca_now_ms(), &rq,
                                    &rf);
        if (rc != CTCA_OK)
            break;
        for (size_t i = 0; i < rq.count; i++) {
            const ctca_store_queue_item *it = &rq.items[i];
            char name[256];
            log_name(list, it->log_id, name, sizeof name);
            printf("%s serial %s %s log=%s (parked: %s)\n",
                   a->dry_run ? "would requeue" : "requeued", it->serial,
                   it->entry_type == 1 ? "precert" : "x509", name,
                   it->note ? it->note : it->last_error ? it->last_error : "no reason recorded");
            after = it->id > after ? it->id : after;
        }
        for (size_t i = 0; i < rf.count && rc == CTCA_OK; i++) {
            const ctca_store_queue_item *it = &rf.items[i];
            char name[256];
            log_name(list, it->log_id, name, sizeof name);
            if (strcmp(rec.serial, it->serial) != 0) {
                ctca_store_cert_cleanup(&rec);
                rc = ctca_store_get_cert(store, it->serial, &rec);
            }
            if (rc == CTCA_OK)
                print_refused(it, name, rec.state, rec.last_error);
            after = it->id > after ? it->id : after;
        }
        size_t n = rq.count + rf.count;
        *requeued += rq.count;
        *refused += rf.count;
        ctca_store_queue_items_cleanup(&rq);
        ctca_store_queue_items_cleanup(&rf);
        if (rc != CTCA_OK || n < CTCA_STORE_QUEUE_PAGE_MAX)
            break;
    }
    ctca_store_cert_cleanup(&rec);
    return rc;
}

/* --log: the log's breaker is closed by hand (the operator says it is back). */
static ctca_err reset_breaker(ctca_store *store, const retry_args *a, const ctca_log_info *log,
                              const char *name)
{
    ctca_store_breaker b;
    ctca_err rc = a->dry_run ? ctca_store_breaker_get(store, log->log_id, &b)
                             : ctca_store_breaker_reset(store, log->log_id, ctca_now_ms(), &b);
    if (rc != CTCA_OK || (b.state == CTCA_BREAKER_CLOSED && b.failures == 0))
        return rc;
    char until[40] = "";
    if (b.state == CTCA_BREAKER_OPEN)
        time_or_dash(b.open_until_ms, until, sizeof until);
    printf("%s the breaker of log=%s (it was %s%s%s, %u failures)\n",
           a->dry_run ? "would close" : "closed", name, ctca_store_breaker_state_name(b.state),
           until[0] ? " until " : "", until, b.failures);
    return CTCA_OK;
}

static int retry_cmd(int argc, char **argv)
{
    retry_args a;
    int status = parse_retry_args(argc, argv, &a);
    if (status >= 0)
        return status;
    char serial[CTCA_STORE_SERIAL_MAX + 3];
    if (a.serial != NULL && !cli_normalize_serial(a.serial, serial)) {
        cli_error("queue retry: '%s' is not a serial (hex digits, at most 20 octets)", a.serial);
        return CLI_EXIT_USAGE;
    }
    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_store *store = NULL;
    ctca_log_list *list = NULL;
    const ctca_log_info *log = NULL;
    size_t requeued = 0, refused = 0;
    status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_ca_open(a.dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(a.dir, rc, &eb);
        goto out;
    }
    const char *ll = a.log_list ? a.log_list : ctca_ca_get0_log_list_path(ca);
    if (a.log != NULL && ll == NULL) {
        cli_error("queue retry: no log list to find --log in: set log_list in the config or "
                  "pass --log-list");
        goto out;
    }
    if (ll != NULL && (rc = ctca_log_list_load(ll, &list, &eb)) != CTCA_OK) {
        if (a.log != NULL) {
            cli_error_code("queue retry", rc, &eb);
            goto out;
        }
        list = NULL; /* only for names: logs then show as IDs */
    }
    /* An item for a log outside the list would only be parked again. */
    if (a.log != NULL && (log = cli_find_log(list, a.log)) == NULL) {
        cli_error("queue retry: no log '%s' in %s (give its base64 log ID, URL or description)",
                  a.log, ll);
        goto out;
    }
    if ((rc = ctca_store_open(ctca_ca_get0_store_path(ca), &store, &eb)) != CTCA_OK) {
        cli_error_code("queue retry", rc, &eb);
        goto out;
    }
    bool exists = true;
    if (a.serial != NULL && (rc = ctca_store_serial_exists(store, serial, &exists)) == CTCA_OK &&
        !exists) {
        cli_error("queue retry: no certificate with serial %s in %s", serial, a.dir);
        goto out;
    }
    if (rc == CTCA_OK)
        rc = retry_items(store, &a, a.serial ? serial : NULL, log, list, &requeued, &refused);
    if (rc == CTCA_OK && log != NULL) {
        char name[256];
        log_name(list, log->log_id, name, sizeof name);
        rc = reset_breaker(store, &a, log, name);
    }
    if (rc != CTCA_OK) {
        cli_error("queue retry: %s: %s", ctca_err_str(rc), ctca_store_errmsg(store));
        status = CLI_EXIT_FAIL;
        goto out;
    }
    printf("queue retry: %zu item%s %s, %zu refused%s%s%s\n", requeued,
           requeued == 1 ? "" : "s", a.dry_run ? "would be requeued" : "requeued", refused,
           requeued > 0 && !a.dry_run ? "; 'ctca queue run --ca " : "",
           requeued > 0 && !a.dry_run ? a.dir : "",
           requeued > 0 && !a.dry_run ? " --once' submits them" : "");
    status = refused > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    ctca_store_close(store);
    ctca_log_list_free(list);
    ctca_ca_free(ca);
    return status;
}

int cli_cmd_queue(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return list_cmd(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run_cmd(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "retry") == 0)
        return retry_cmd(argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    cli_error("queue: expected a subcommand: list, run or retry");
    usage(stderr);
    return CLI_EXIT_USAGE;
}
