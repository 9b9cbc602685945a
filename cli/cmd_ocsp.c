/* ctca ocsp respond|serve: the CA's OCSP responder (RFC 6960), answering from
 * the store with each certificate's status and its x509_entry SCTs. serve is
 * an HTTP server (RFC 6960 appendix A, RFC 5019) on libmicrohttpd. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "cli.h"
#include "ctca/ca.h"
#include "ctca/ocsp.h"
#include "ctca/store.h"
#include "ctca/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca ocsp respond --ca DIR --request REQ.der --out RESP.der\n"
            "       ctca ocsp serve --ca DIR --listen HOST:PORT [--max-connections N]\n"
            "                       [--per-ip-connections N] [--timeout SECONDS]\n"
            "\n"
            "Answers OCSP requests for the CA's certificates from its store: good, revoked\n"
            "(see 'ctca revoke') or unknown, with the certificate's x509_entry SCTs in the\n"
            "SingleResponse (1.3.6.1.4.1.11129.2.4.5); signed by the CA key or the\n"
            "delegated responder of ctca.json's \"ocsp\" settings.\n"
            "\n"
            "  respond          answer the DER OCSPRequest in REQ.der into RESP.der\n"
            "  serve            an HTTP responder: POST / with the DER request, or GET\n"
            "                   /BASE64 (RFC 5019); PORT 0 picks a free port; runs until\n"
            "                   SIGTERM or SIGINT\n"
            "  --max-connections N     connections served at once (default 4096; more\n"
            "                   are refused at accept)\n"
            "  --per-ip-connections N  of those, from one client address (default 64)\n"
            "  --timeout SECONDS       an idle connection is closed after this (default 10)\n"
            "\n"
            "exit status (respond): 0 a successful response; 1 unauthorized (no\n"
            "certificate of this CA asked about) or internalError; 2 a malformed\n"
            "request (the malformedRequest response is still written), or a usage or\n"
            "input error\n");
}

/* Prints what a response said, one line per certificate asked about. */
static void print_answer(FILE *f, const char *prefix, const ctca_ocsp_answer *a)
{
    if (a->status != CTCA_OCSP_SUCCESSFUL) {
        fprintf(f, "%s%s\n", prefix, ctca_ocsp_response_status_name(a->status));
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        fprintf(f, "%sserial %s: %s", prefix, a->items[i].serial[0] ? a->items[i].serial : "-",
                ctca_ocsp_cert_status_name(a->items[i].cert_status));
        if (a->items[i].other_issuer)
            fprintf(f, " (another issuer)");
        if (a->items[i].cert_status == CTCA_OCSP_REVOKED)
            fprintf(f, " (%s)", ctca_revocation_reason_name(a->items[i].reason));
        fprintf(f, ", %zu SCT%s\n", a->items[i].n_scts, a->items[i].n_scts == 1 ? "" : "s");
    }
}

/* The CA, its store and a responder, as both subcommands need them. */
typedef struct responder_env {
    ctca_ca *ca;
    ctca_store *store;
    ctca_ocsp_responder *responder;
} responder_env;

static void env_cleanup(responder_env *e)
{
    ctca_ocsp_responder_free(e->responder);
    ctca_store_close(e->store);
    ctca_ca_free(e->ca);
    memset(e, 0, sizeof *e);
}

static bool env_open(const char *cmd, const char *dir, responder_env *e)
{
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_ca_open(dir, &e->ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(dir, rc, &eb);
        return false;
    }
    /* A responder only reads: it works on a read-only CA directory. */
    if ((rc = ctca_store_open_ex(ctca_ca_get0_store_path(e->ca), CTCA_STORE_READONLY, &e->store,
                                 &eb)) != CTCA_OK ||
        (rc = ctca_ocsp_responder_new(e->ca, &e->responder, &eb)) != CTCA_OK) {
        cli_error_code(cmd, rc, &eb);
        return false;
    }
    return true;
}

/* ---- respond ------------------------------------------------------------------ */

static int cmd_respond(int argc, char **argv)
{
    const char *dir = NULL, *request = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (cli_take_value("ocsp respond", argc, argv, &i, "--ca", &dir, &error) ||
                   cli_take_value("ocsp respond", argc, argv, &i, "--request", &request,
                                  &error) ||
                   cli_take_value("ocsp respond", argc, argv, &i, "--out", &out, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("ocsp respond: unknown argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || request == NULL || out == NULL) {
        cli_error("ocsp respond: --ca, --request and --out are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    responder_env e = {0};
    ctca_errbuf eb = {{0}};
    uint8_t *req = NULL, *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    ctca_ocsp_answer answer;
    int status = CLI_EXIT_USAGE;
    ctca_err rc = ctca_file_read(request, CTCA_OCSP_REQUEST_MAX_LEN, &req, &req_len, &eb);
    if (rc != CTCA_OK) {
        cli_error_code("ocsp respond: --request", rc, &eb);
        goto out;
    }
    if (!env_open("ocsp respond", dir, &e))
        goto out;
    rc = ctca_ocsp_respond(e.responder, e.store, ctca_view_make(req, req_len), ctca_now_ms(),
                           &resp, &resp_len, &answer, &eb);
    if (rc != CTCA_OK) {
        cli_error_code("ocsp respond", rc, &eb);
        status = CLI_EXIT_FAIL;
        goto out;
    }
    if ((rc = ctca_file_write_atomic(out, resp, resp_len, 0644, &eb)) != CTCA_OK) {
        cli_error_code("ocsp respond: writing", rc, &eb);
        status = CLI_EXIT_FAIL;
        goto out;
    }
    print_answer(stdout, "", &answer);
    if (answer.status != CTCA_OCSP_SUCCESSFUL)
        cli_error("ocsp respond: answered %s: %s", ctca_ocsp_response_status_name(answer.status),
                  eb.msg);
    status = answer.status == CTCA_OCSP_SUCCESSFUL        ? CLI_EXIT_OK
             : answer.status == CTCA_OCSP_MALFORMED_REQUEST ? CLI_EXIT_USAGE
                                                            : CLI_EXIT_FAIL;
out:
    free(req);
    free(resp);
    env_cleanup(&e);
    return status;
}

/* ---- serve -------------------------------------------------------------------- */

/* A request body as it arrives; too_big once it passed the cap. */
typedef struct http_body {
    uint8_t buf[CTCA_OCSP_REQUEST_MAX_LEN];
    size_t len;
    bool too_big;
} http_body;

/* The responder answers on libmicrohttpd's single internal thread, the only
 * one that touches the store once serving has begun. */
typedef struct server {
    responder_env env;
    uint32_t max_age; /* seconds a GET response may be cached: its validity */
} server;

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const uint8_t *p,
                                  size_t n, const char *type, const char *cache_control)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (cache_control != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET /{base64 of the DER request} (RFC 6960 A.1): libmicrohttpd has already
 * undone the URL encoding; a request over the cap or not base64 is answered
 * malformedRequest like any other bad request. */
static bool get_request(const char *url, http_body *body)
{
    while (url[0] == '/')
        url++;
    uint8_t *der = NULL;
    size_t n = 0;
    bool ok = ctca_base64_decode(url, strlen(url), &der, &n) == CTCA_OK &&
              n <= sizeof body->buf;
    if (ok) {
        memcpy(body->buf, der, n);
        body->len = n;
    }
    free(der);
    return ok;
}

static enum MHD_Result answer(server *s, struct MHD_Connection *c, const char *method,
                              const char *url, http_body *body)
{
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    /* An unusable body becomes an empty request, which is malformed. */
    if (body->too_big || (get && !get_request(url, body)))
        body->len = 0;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    ctca_ocsp_answer a;
    ctca_errbuf eb = {{0}};
    ctca_err rc = ctca_ocsp_respond(s->env.responder, s->env.store,
                                    ctca_view_make(body->buf, body->len), ctca_now_ms(), &resp,
                                    &resp_len, &a, &eb);
    if (rc != CTCA_OK) {
        cli_error_code("ocsp serve", rc, &eb);
        return MHD_NO;
    }
    char prefix[64], cache[96];
    snprintf(prefix, sizeof prefix, "%s: ", method);
    print_answer(stdout, prefix, &a);
    if (a.status != CTCA_OCSP_SUCCESSFUL && eb.msg[0] != '\0')
        fprintf(stdout, "%s  %s\n", prefix, eb.msg);
    fflush(stdout);
    /* RFC 5019 6.2: a GET response may be cached until it expires. */
    snprintf(cache, sizeof cache, "max-age=%u, public, no-transform, must-revalidate",
             (unsigned)s->max_age);
    enum MHD_Result ret =
        send_bytes(c, MHD_HTTP_OK, resp, resp_len, "application/ocsp-response",
                   get && a.status == CTCA_OCSP_SUCCESSFUL ? cache : NULL);
    free(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_body *body = *con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return send_bytes(c, MHD_HTTP_METHOD_NOT_ALLOWED, (const uint8_t *)"", 0, NULL, NULL);
    if (body == NULL) {
        if ((body = calloc(1, sizeof *body)) == NULL)
            return MHD_NO;
        *con_cls = body;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (body->too_big || n > sizeof body->buf - body->len)
            body->too_big = true; /* keep draining; answer malformedRequest at the end */
        else {
            memcpy(body->buf + body->len, upload_data, n);
            body->len += n;
        }
        return MHD_YES;
    }
    return answer(cls, c, method, url, body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* HOST:PORT, HOST an IPv4 address or localhost. */
static bool parse_listen(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - s) >= sizeof host)
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return false;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
                     &sa->sin_addr) == 1;
}

/* Limits of ctca ocsp serve. One client address must not exhaust the
 * server (about 1,020 idle connections once made it reset everyone, when it
 * used select() and 30 s idle timeouts). */
#define SERVE_MAX_CONNECTIONS 4096
#define SERVE_PER_IP_CONNECTIONS 64
#define SERVE_TIMEOUT_S 10
#define SERVE_LIMIT_MAX 65536

static bool parse_count(const char *s, unsigned max, unsigned *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || v < 1 || v > (long)max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* The descriptors the connection limit needs (plus the store, the listening
 * socket and stdio): the soft limit is raised toward the hard one, and the
 * connection limit lowered to fit when the hard one is lower. */
static unsigned fit_fd_limit(unsigned max_conn)
{
    struct rlimit rl;
    const rlim_t spare = 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return max_conn;
    rlim_t want = (rlim_t)max_conn + spare;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        return rl.rlim_cur > 2 * spare ? (unsigned)(rl.rlim_cur - spare) : 1;
    return max_conn;
}

static int cmd_serve(int argc, char **argv)
{
    const char *dir = NULL, *listen = NULL, *max_c = NULL, *per_ip = NULL, *timeout = NULL;
    unsigned max_conn = SERVE_MAX_CONNECTIONS, ip_conn = SERVE_PER_IP_CONNECTIONS,
             timeout_s = SERVE_TIMEOUT_S;
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (cli_take_value("ocsp serve", argc, argv, &i, "--ca", &dir, &error) ||
                   cli_take_value("ocsp serve", argc, argv, &i, "--listen", &listen, &error) ||
                   cli_take_value("ocsp serve", argc, argv, &i, "--max-connections", &max_c,
                                  &error) ||
                   cli_take_value("ocsp serve", argc, argv, &i, "--per-ip-connections", &per_ip,
                                  &error) ||
                   cli_take_value("ocsp serve", argc, argv, &i, "--timeout", &timeout, &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else {
            cli_error("ocsp serve: unknown argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    struct sockaddr_in sa;
    if (dir == NULL || listen == NULL) {
        cli_error("ocsp serve: --ca and --listen are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!parse_listen(listen, &sa)) {
        cli_error("ocsp serve: --listen '%s' is not IPV4-ADDRESS:PORT", listen);
        return CLI_EXIT_USAGE;
    }
    if ((max_c != NULL && !parse_count(max_c, SERVE_LIMIT_MAX, &max_conn)) ||
        (per_ip != NULL && !parse_count(per_ip, SERVE_LIMIT_MAX, &ip_conn)) ||
        (timeout != NULL && !parse_count(timeout, 3600, &timeout_s))) {
        cli_error("ocsp serve: --max-connections and --per-ip-connections take 1..%d, "
                  "--timeout 1..3600 seconds",
                  SERVE_LIMIT_MAX);
        return CLI_EXIT_USAGE;
    }
    unsigned fitted = fit_fd_limit(max_conn);
    if (fitted < max_conn) {
        fprintf(stderr, "ctca: ocsp serve: the open-file limit allows %u connections, not %u\n",
                fitted, max_conn);
        max_conn = fitted;
    }
    if (ip_conn > max_conn)
        ip_conn = max_conn;
    server s = {0};
    if (!env_open("ocsp serve", dir, &s.env)) {
        env_cleanup(&s.env);
        return CLI_EXIT_USAGE;
    }
    s.max_age = ctca_config_get0_ocsp(ctca_ca_get0_config(s.env.ca))->validity_hours * 3600;
    /* Blocked before the server's thread starts, so it inherits the mask and
     * only sigwait below takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* epoll (or poll): select() cannot watch a descriptor at or above
     * FD_SETSIZE, so past about 1,020 connections every new client was reset. */
    unsigned flags = MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
                         ? MHD_USE_EPOLL_INTERNAL_THREAD
                         : MHD_USE_POLL_INTERNAL_THREAD;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, ip_conn, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned int)1024, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (info == NULL || getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) != 0) {
        cli_error("ocsp serve: cannot listen on %s", listen);
        if (d != NULL)
            MHD_stop_daemon(d);
        env_cleanup(&s.env);
        return CLI_EXIT_FAIL;
    }
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &bound.sin_addr, addr, sizeof addr);
    printf("listening on http://%s:%u/\n", addr, (unsigned)ntohs(bound.sin_port));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    env_cleanup(&s.env);
    return CLI_EXIT_OK;
}

int cli_cmd_ocsp(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "respond") == 0)
        return cmd_respond(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    cli_error("ocsp: respond or serve expected");
    usage(stderr);
    return CLI_EXIT_USAGE;
}
