/* ctca-testlog: options, the v3 log-list entry, and the serve loop. */
#include "tests/testlog/testlog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/asn1.h"

static const char usage[] =
    "usage: ctca-testlog --listen HOST:PORT --key LOGKEY.pem [options]\n"
    "\n"
    "A local RFC 6962 CT log (in memory) for tests, demos and benchmarks. It serves\n"
    "/ct/v1/{add-chain,add-pre-chain,get-sth,get-sth-consistency,get-proof-by-hash,\n"
    "get-entries,get-roots,get-entry-and-proof} (or, with --ct-version 2, RFC 9162's\n"
    "/ct/v2/ endpoints) until SIGTERM or SIGINT. Once ready it prints one line\n"
    "\"listening on http://HOST:PORT/\" to stdout.\n"
    "\n"
    "  --listen HOST:PORT      IPv4 address (or localhost); PORT 0 picks a free port\n"
    "  --key FILE              PEM private key, ECDSA P-256 or RSA >= 2048 (unencrypted);\n"
    "                          the log ID is SHA-256 of its DER SubjectPublicKeyInfo\n"
    "  --roots FILE            PEM certificates the log accepts as roots; a chain must\n"
    "                          end at one of them or be issued by one. WITHOUT --roots\n"
    "                          ANY CHAIN WHOSE LINKS VERIFY IS ACCEPTED.\n"
    "  --print-log-entry       print this log's v3 log-list entry (JSON) and exit\n"
    "  --description TEXT      description for --print-log-entry\n"
    "  --ct-version 1|2        1: RFC 6962 (default); 2: RFC 9162 instead, serving\n"
    "                          /ct/v2/{submit-entry,get-sth,get-anchors} (P-256 key);\n"
    "                          --print-log-entry then adds \"ct_version\": 2 and\n"
    "                          \"log_id_oid\" (ctca's extended log-list format)\n"
    "  --log-id-oid OID        a v2 log's ID (default 1.3.101.80.N, N from its key)\n"
    "\n"
    "Faults (the submission faults hit add-chain and add-pre-chain only):\n"
    "  --latency-ms N          delay every response by N ms (per connection)\n"
    "  --fail-rate P           answer that fraction (0..1) of submissions with 503\n"
    "  --seed N                seed of the --fail-rate draws (default 1)\n"
    "  --hang                  never answer submissions (the connection stays open\n"
    "                          until the client gives up or the log stops)\n"
    "  --garbage               answer submissions with malformed JSON and status 200\n"
    "  --rate-limit            answer submissions with 429 and Retry-After\n"
    "  --retry-after N         the Retry-After seconds of --rate-limit (default 1)\n"
    "  --fail-first N          answer the first N submissions with 503, then serve\n"
    "  --huge-body             answer submissions with status 200 and a 1 MiB body\n"
    "  --bad-signature         corrupt SCT signatures\n"
    "  --wrong-log-id          SCTs carry another log ID\n"
    "  --sct-time-offset-ms N  shift SCT (and leaf) timestamps by N ms (may be negative)\n"
    "  --fixed-time-ms T       pin the log's clock at T ms since the epoch\n"
    "  --static-ct             SCTs carry the static-ct-api leaf_index extension\n"
    "  --shutdown              v2: refuse submit-entry with the \"shutdown\" error\n"
    "\n"
    "GET /testlog/stats answers {\"submissions\":N,\"new_entries\":N,\"duplicates\":N}:\n"
    "submissions received, those sequenced as new entries, and resubmissions of an\n"
    "existing entry, so a test can tell how often a client sent the same chain.\n";

enum {
    OPT_LISTEN = 256,
    OPT_KEY,
    OPT_ROOTS,
    OPT_PRINT,
    OPT_DESCRIPTION,
    OPT_LATENCY,
    OPT_FAIL_RATE,
    OPT_SEED,
    OPT_HANG,
    OPT_GARBAGE,
    OPT_RATE_LIMIT,
    OPT_RETRY_AFTER,
    OPT_BAD_SIG,
    OPT_WRONG_ID,
    OPT_TIME_OFFSET,
    OPT_FIXED_TIME,
    OPT_STATIC_CT,
    OPT_CT_VERSION,
    OPT_LOG_ID_OID,
    OPT_SHUTDOWN,
    OPT_FAIL_FIRST,
    OPT_HUGE_BODY,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"key", required_argument, NULL, OPT_KEY},
    {"roots", required_argument, NULL, OPT_ROOTS},
    {"print-log-entry", no_argument, NULL, OPT_PRINT},
    {"description", required_argument, NULL, OPT_DESCRIPTION},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"hang", no_argument, NULL, OPT_HANG},
    {"garbage", no_argument, NULL, OPT_GARBAGE},
    {"rate-limit", no_argument, NULL, OPT_RATE_LIMIT},
    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
    {"bad-signature", no_argument, NULL, OPT_BAD_SIG},
    {"wrong-log-id", no_argument, NULL, OPT_WRONG_ID},
    {"sct-time-offset-ms", required_argument, NULL, OPT_TIME_OFFSET},
    {"fixed-time-ms", required_argument, NULL, OPT_FIXED_TIME},
    {"static-ct", no_argument, NULL, OPT_STATIC_CT},
    {"ct-version", required_argument, NULL, OPT_CT_VERSION},
    {"log-id-oid", required_argument, NULL, OPT_LOG_ID_OID},
    {"shutdown", no_argument, NULL, OPT_SHUTDOWN},
    {"fail-first", required_argument, NULL, OPT_FAIL_FIRST},
    {"huge-body", no_argument, NULL, OPT_HUGE_BODY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct options {
    const char *key, *roots, *description;
    char host[64];
    uint16_t port;
    bool have_listen, print_entry;
    tl_sct_opts sct;
    tl_faults faults;
} options;

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_listen(const char *s, options *o)
{
    const char *colon = strrchr(s, ':');
    int64_t port;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof o->host ||
        !parse_i64(colon + 1, 0, 65535, &port))
        return false;
    memcpy(o->host, s, (size_t)(colon - s));
    o->host[colon - s] = '\0';
    o->port = (uint16_t)port;
    return true;
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "ctca-testlog: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->faults.seed = 1;
    o->faults.retry_after_s = 1;
    int c;
    int64_t v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            if (!parse_listen(optarg, o))
                return bad_usage("--listen %s: expected HOST:PORT", optarg);
            o->have_listen = true;
            break;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_ROOTS:
            o->roots = optarg;
            break;
        case OPT_PRINT:
            o->print_entry = true;
            break;
        case OPT_DESCRIPTION:
            o->description = optarg;
            break;
        case OPT_LATENCY:
            if (!parse_i64(optarg, 0, 600000, &v))
                return bad_usage("--latency-ms %s: expected 0..600000", optarg);
            o->faults.latency_ms = (unsigned)v;
            break;
        case OPT_FAIL_RATE: {
            char *end = NULL;
            errno = 0;
            double p = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' || !(p >= 0.0 && p <= 1.0))
                return bad_usage("--fail-rate %s: expected a number in 0..1", optarg);
            o->faults.fail_rate = p;
            break;
        }
        case OPT_SEED:
            if (!parse_i64(optarg, 0, INT64_MAX, &v))
                return bad_usage("--seed %s: expected a non-negative integer", optarg);
            o->faults.seed = (uint64_t)v;
            break;
        case OPT_HANG:
            o->faults.hang = true;
            break;
        case OPT_GARBAGE:
            o->faults.garbage = true;
            break;
        case OPT_RATE_LIMIT:
            o->faults.rate_limit = true;
            break;
        case OPT_RETRY_AFTER:
            if (!parse_i64(optarg, 0, 86400, &v))
                return bad_usage("--retry-after %s: expected 0..86400 seconds", optarg);
            o->faults.retry_after_s = (unsigned)v;
            break;
        case OPT_BAD_SIG:
            o->faults.bad_signature = true;
            break;
        case OPT_WRONG_ID:
            o->faults.wrong_log_id = true;
            break;
        case OPT_TIME_OFFSET:
            if (!parse_i64(optarg, -(INT64_C(1) << 50), INT64_C(1) << 50, &v))
                return bad_usage("--sct-time-offset-ms %s: expected an integer", optarg);
            o->sct.time_offset_ms = v;
            break;
        case OPT_FIXED_TIME:
            if (!parse_i64(optarg, 0, INT64_C(1) << 50, &v))
                return bad_usage("--fixed-time-ms %s: expected ms since the epoch", optarg);
            o->sct.fixed_time = true;
            o->sct.fixed_time_ms = v;
            break;
        case OPT_STATIC_CT:
            o->sct.static_ct = true;
            break;
        case OPT_CT_VERSION:
            if (!parse_i64(optarg, 1, 2, &v))
                return bad_usage("--ct-version %s: expected 1 or 2", optarg);
            o->sct.ct_version = (unsigned)v;
            break;
        case OPT_LOG_ID_OID:
            if (ctca_log_id_v2_from_string(optarg, &o->sct.log_id_oid) != CTCA_OK)
                return bad_usage("--log-id-oid %s: expected a dotted OID of 2..127 octets",
                                 optarg);
            o->sct.has_log_id_oid = true;
            break;
        case OPT_SHUTDOWN:
            o->faults.shutdown = true;
            break;
        case OPT_FAIL_FIRST:
            if (!parse_i64(optarg, 0, 1000000, &v))
                return bad_usage("--fail-first %s: expected 0..1000000", optarg);
            o->faults.fail_first = (unsigned)v;
            break;
        case OPT_HUGE_BODY:
            o->faults.huge_body = true;
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            return 0;
        default:
            return bad_usage("unknown or incomplete option %s",
                             optind > 0 && optind <= argc ? argv[optind - 1] : "?");
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument %s", argv[optind]);
    if (!o->have_listen || o->key == NULL)
        return bad_usage("%s", "--listen and --key are required");
    if (o->sct.ct_version != 2 && (o->sct.has_log_id_oid || o->faults.shutdown))
        return bad_usage("%s", "--log-id-oid and --shutdown need --ct-version 2");
    if (o->sct.ct_version == 2 && o->sct.static_ct)
        return bad_usage("%s", "--static-ct is an RFC 6962 (v1) option");
    return -1; /* carry on */
}

/* The log's entry in a v3 log list (Chrome's log_list.json schema); a v2 log
 * adds ctca's two fields (README, "Log lists"). */
static int print_log_entry(const options *o, const tl_log *log)
{
    if (o->port == 0) {
        fprintf(stderr, "ctca-testlog: --print-log-entry needs a non-zero port\n");
        return 2;
    }
    char url[128], desc[160];
    snprintf(url, sizeof url, "http://%s:%u/", o->host, (unsigned)o->port);
    snprintf(desc, sizeof desc, "ctca-testlog %s:%u", o->host, (unsigned)o->port);
    char *id = NULL, *key = NULL;
    cJSON *j = cJSON_CreateObject(), *state, *usable, *ti;
    bool ok = j != NULL && ctca_base64_encode(log->log_id, CTCA_LOG_ID_LEN, &id) == CTCA_OK &&
              ctca_base64_encode(log->spki, log->spki_len, &key) == CTCA_OK &&
              cJSON_AddStringToObject(j, "description", o->description ? o->description : desc) &&
              cJSON_AddStringToObject(j, "log_id", id) && cJSON_AddStringToObject(j, "key", key) &&
              cJSON_AddStringToObject(j, "url", url) && cJSON_AddNumberToObject(j, "mmd", 86400) &&
              (state = cJSON_AddObjectToObject(j, "state")) != NULL &&
              (usable = cJSON_AddObjectToObject(state, "usable")) != NULL &&
              cJSON_AddStringToObject(usable, "timestamp", "2020-01-01T00:00:00Z") &&
              (ti = cJSON_AddObjectToObject(j, "temporal_interval")) != NULL &&
              cJSON_AddStringToObject(ti, "start_inclusive", "2020-01-01T00:00:00Z") &&
              cJSON_AddStringToObject(ti, "end_exclusive", "2040-01-01T00:00:00Z");
    char oid[512];
    if (ok && log->sct.ct_version == 2)
        ok = ctca_log_id_v2_to_string(&log->log_id_v2, oid, sizeof oid) == CTCA_OK &&
             cJSON_AddNumberToObject(j, "ct_version", 2) &&
             cJSON_AddStringToObject(j, "log_id_oid", oid);
    char *s = ok ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    free(id);
    free(key);
    if (s == NULL) {
        fprintf(stderr, "ctca-testlog: cannot build the log entry\n");
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int serve(const options *o, tl_log *log)
{
    /* Block the stop signals before any thread exists, so that every
     * libmicrohttpd thread inherits the mask and only sigwait sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    tl_server *srv = NULL;
    uint16_t port = 0;
    ctca_errbuf eb = {{0}};
    if (tl_server_start(log, &o->faults, o->host, o->port, &srv, &port, &eb) != CTCA_OK) {
        fprintf(stderr, "ctca-testlog: %s\n", eb.msg);
        return 1;
    }
    printf("listening on http://%s:%u/\n", o->host, (unsigned)port);
    fflush(stdout);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    tl_server_stop(srv);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    tl_log log;
    ctca_errbuf eb = {{0}};
    if (tl_log_init(&log, o.key, o.print_entry ? NULL : o.roots, &o.sct, &eb) != CTCA_OK) {
        fprintf(stderr, "ctca-testlog: %s\n", eb.msg);
        tl_log_cleanup(&log);
        return 1;
    }
    rc = o.print_entry ? print_log_entry(&o, &log) : serve(&o, &log);
    tl_log_cleanup(&log);
    return rc;
}
