/* The ctclient against a tiny in-process HTTP/1.1 server (POSIX sockets and
 * pthreads on 127.0.0.1, port 0) that can answer well, slowly, never, with
 * garbage, too much, or an error status. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctca/ctclient.h"

/* ---- test server -------------------------------------------------------- */

#define TS_MAX_CONN 32
#define TS_MAX_REQ (2u * 1024 * 1024)

typedef struct ts_server {
    int lfd;
    int port;
    pthread_t acceptor;
    atomic_bool stop;
    atomic_int accepts;
    atomic_int requests;
    /* behaviour, set before the first request */
    int delay_ms;
    bool hang;           /* read the request, never answer */
    const char *raw;     /* written verbatim, then the connection is closed */
    bool stream_close;   /* no Content-Length: body until close */
    int status;
    const char *headers; /* extra header lines, each ending in \r\n */
    const char *body;
    size_t body_len;
    /* the last request */
    pthread_mutex_t mu;
    char method[16], path[256], content_type[128];
    char *req_body;
    size_t req_body_len;
    pthread_t conns[TS_MAX_CONN];
    int n_conns;
} ts_server;

typedef struct ts_conn {
    ts_server *s;
    int fd;
} ts_conn;

static void ts_sleep_ms(ts_server *s, int ms)
{
    for (int t = 0; t < ms && !atomic_load(&s->stop); t += 5) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static bool ts_send(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one request into buf; false on EOF, error or stop. */
static bool ts_read_request(ts_server *s, int fd, char *buf, size_t *hdr_len, size_t *total)
{
    size_t n = 0, need = 0;
    *hdr_len = 0;
    for (;;) {
        if (*hdr_len == 0) {
            char *end = NULL;
            for (size_t i = 0; i + 3 < n; i++)
                if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
                    end = buf + i;
                    break;
                }
            if (end != NULL) {
                *hdr_len = (size_t)(end - buf) + 4;
                size_t clen = 0;
                for (char *l = strstr(buf, "\r\n"); l != NULL && l < end; l = strstr(l + 2, "\r\n"))
                    if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                        clen = strtoul(l + 17, NULL, 10);
                need = *hdr_len + clen;
            }
        }
        if (*hdr_len != 0 && n >= need) {
            *total = n;
            return true;
        }
        if (n + 1 >= TS_MAX_REQ)
            return false;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 20);
        if (atomic_load(&s->stop))
            return false;
        if (r <= 0)
            continue;
        ssize_t got = recv(fd, buf + n, TS_MAX_REQ - 1 - n, 0);
        if (got <= 0)
            return false;
        n += (size_t)got;
        buf[n] = '\0';
        if (buf[0] < 'A' || buf[0] > 'Z')
            return false; /* not HTTP (a TLS ClientHello, say): hang up */
    }
}

static void ts_capture(ts_server *s, const char *buf, size_t hdr_len, size_t total)
{
    pthread_mutex_lock(&s->mu);
    sscanf(buf, "%15s %255s", s->method, s->path);
    s->content_type[0] = '\0';
    const char *ct = strcasestr(buf, "\r\nContent-Type:");
    if (ct != NULL && (size_t)(ct - buf) < hdr_len)
        sscanf(ct + 15, " %127[^\r\n]", s->content_type);
    free(s->req_body);
    s->req_body_len = total - hdr_len;
    s->req_body = malloc(s->req_body_len + 1);
    memcpy(s->req_body, buf + hdr_len, s->req_body_len);
    s->req_body[s->req_body_len] = '\0';
    pthread_mutex_unlock(&s->mu);
}

static void *ts_conn_main(void *arg)
{
    ts_conn *c = arg;
    ts_server *s = c->s;
    char *buf = malloc(TS_MAX_REQ);
    size_t hdr_len, total;
    while (ts_read_request(s, c->fd, buf, &hdr_len, &total)) {
        ts_capture(s, buf, hdr_len, total);
        atomic_fetch_add(&s->requests, 1);
        if (s->hang) {
            while (!atomic_load(&s->stop))
                ts_sleep_ms(s, 20);
            break;
        }
        ts_sleep_ms(s, s->delay_ms);
        if (s->raw != NULL) {
            ts_send(c->fd, s->raw, strlen(s->raw));
            break;
        }
        char head[512];
        if (s->stream_close) {
            snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n%s\r\n",
                     s->status, s->headers ? s->headers : "");
            ts_send(c->fd, head, strlen(head));
            ts_send(c->fd, s->body, s->body_len);
            break;
        }
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
                 s->status, s->body_len, s->headers ? s->headers : "");
        if (!ts_send(c->fd, head, strlen(head)) || !ts_send(c->fd, s->body, s->body_len))
            break;
    }
    close(c->fd);
    free(buf);
    free(c);
    return NULL;
}

static void *ts_accept_main(void *arg)
{
    ts_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&s->accepts, 1);
        int one = 1; /* header and body go out in two writes: no Nagle stall */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ts_conn *c = malloc(sizeof *c);
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        bool room = s->n_conns < TS_MAX_CONN &&
                    pthread_create(&s->conns[s->n_conns], NULL, ts_conn_main, c) == 0;
        if (room)
            s->n_conns++;
        pthread_mutex_unlock(&s->mu);
        if (!room) {
            close(fd);
            free(c);
        }
    }
    return NULL;
}

static ts_server *ts_start(int status, const char *body)
{
    ts_server *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    pthread_mutex_init(&s->mu, NULL);
    s->status = status;
    s->body = body ? body : "";
    s->body_len = strlen(s->body);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->lfd, 64), 0);
    socklen_t al = sizeof a;
    cr_assert_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->acceptor, NULL, ts_accept_main, s), 0);
    return s;
}

static void ts_stop(ts_server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->n_conns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->lfd);
    free(s->req_body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static char *ts_url(const ts_server *s, bool slash)
{
    char *u = malloc(64);
    snprintf(u, 64, "http://127.0.0.1:%d%s", s->port, slash ? "/" : "");
    return u;
}

/* ---- client side helpers ------------------------------------------------ */

#define GOOD_JSON                                                                              \
    "{\"sct_version\":0,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","             \
    "\"timestamp\":1700000000123,\"extensions\":\"AQID\",\"signature\":\"BAMABN6tvu8=\"}"
static const uint8_t good_sct[] = {
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x00,
    0x03, 0x01, 0x02, 0x03, 0x04, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};

static const uint8_t cert_a[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const uint8_t cert_b[] = {0x30, 0x03, 0x02, 0x01, 0x02, 0xff};
#define CHAIN_JSON "{\"chain\":[\"MAMCAQE=\",\"MAMCAQL/\"]}"

#define MAX_LOGS 8

typedef struct outcome {
    int calls;
    int order[MAX_LOGS]; /* indices in arrival order */
    struct {
        bool seen;
        ctca_err err;
        long status, retry_after;
        uint64_t elapsed_ms;
        uint8_t sct[256];
        size_t sct_len;
        char detail[200];
        void *user;
    } r[MAX_LOGS];
    int stop_after; /* stop once this many OK answers arrived; 0 = never */
    int oks;
} outcome;

static bool record(const ctca_ctresult *res, void *arg)
{
    outcome *o = arg;
    cr_assert_lt(res->index, (size_t)MAX_LOGS);
    cr_assert_not(o->r[res->index].seen, "log %zu reported twice", res->index);
    o->order[o->calls++] = (int)res->index;
    o->r[res->index].seen = true;
    o->r[res->index].err = res->err;
    o->r[res->index].status = res->http_status;
    o->r[res->index].retry_after = res->retry_after;
    o->r[res->index].elapsed_ms = res->elapsed_ms;
    o->r[res->index].user = res->user;
    snprintf(o->r[res->index].detail, sizeof o->r[res->index].detail, "%s", res->detail);
    cr_assert_leq(res->sct.len, sizeof o->r[0].sct);
    if (res->sct.len)
        memcpy(o->r[res->index].sct, res->sct.data, res->sct.len);
    o->r[res->index].sct_len = res->sct.len;
    if (res->err == CTCA_OK)
        o->oks++;
    return o->stop_after > 0 && o->oks >= o->stop_after;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static ctca_ctclient *client_with(const ctca_ctclient_config *cfg)
{
    ctca_ctclient *c = NULL;
    cr_assert_eq(ctca_ctclient_new(cfg, &c), CTCA_OK);
    cr_assert_not_null(c);
    return c;
}

/* Submits the two-certificate chain to servers[0..n) and records outcomes. */
static ctca_err submit_to(ctca_ctclient *c, ts_server **servers, size_t n, uint32_t timeout_ms,
                          uint64_t deadline_ms, outcome *o)
{
    ctca_view chain[2] = {ctca_view_make(cert_a, sizeof cert_a),
                          ctca_view_make(cert_b, sizeof cert_b)};
    ctca_ctlog_request logs[MAX_LOGS];
    char *urls[MAX_LOGS];
    for (size_t i = 0; i < n; i++) {
        urls[i] = ts_url(servers[i], i % 2 == 0);
        logs[i] = (ctca_ctlog_request){urls[i], timeout_ms, servers[i]};
    }
    ctca_ctsubmission sub = {.endpoint = CTCA_CT_ADD_PRE_CHAIN, .chain = chain, .chain_len = 2,
                             .logs = logs, .n_logs = n, .deadline_ms = deadline_ms,
                             .cb = record, .cb_arg = o};
    ctca_err err = ctca_ctclient_submit(c, &sub);
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    return err;
}

/* One log with one server; returns its result's error. */
static ctca_err one_log(ts_server *s, const ctca_ctclient_config *cfg, outcome *o)
{
    ctca_ctclient *c = client_with(cfg);
    cr_assert_eq(submit_to(c, &s, 1, 3000, CTCA_CTCLIENT_NO_DEADLINE, o), CTCA_OK);
    ctca_ctclient_free(c);
    cr_assert_eq(o->calls, 1);
    return o->r[0].err;
}

/* ---- tests -------------------------------------------------------------- */

Test(ctclient_http, sct_bytes_from_a_log_answer_are_exact)
{
    ts_server *s = ts_start(200, GOOD_JSON);
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_OK, "%s", o.r[0].detail);
    cr_assert_eq(o.r[0].status, 200);
    cr_assert_eq(o.r[0].retry_after, -1);
    cr_assert_eq(o.r[0].user, s);
    cr_assert_eq(o.r[0].sct_len, sizeof good_sct);
    cr_assert_arr_eq(o.r[0].sct, good_sct, sizeof good_sct);
    ts_stop(s);
}

Test(ctclient_http, request_is_a_json_chain_post_to_the_right_endpoint)
{
    ts_server *s = ts_start(200, GOOD_JSON);
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_OK, "%s", o.r[0].detail);
    cr_assert_str_eq(s->method, "POST");
    cr_assert_str_eq(s->path, "/ct/v1/add-pre-chain");
    cr_assert_str_eq(s->content_type, "application/json");
    cr_assert_eq(s->req_body_len, strlen(CHAIN_JSON));
    cr_assert_str_eq(s->req_body, CHAIN_JSON);

    /* add-chain, and a base URL without its final slash */
    ctca_ctclient *c = client_with(NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    ctca_view chain[1] = {ctca_view_make(cert_a, sizeof cert_a)};
    ctca_ctlog_request log = {url, 3000, NULL};
    outcome o2 = {0};
    ctca_ctsubmission sub = {.endpoint = CTCA_CT_ADD_CHAIN, .chain = chain, .chain_len = 1,
                             .logs = &log, .n_logs = 1,
                             .deadline_ms = CTCA_CTCLIENT_NO_DEADLINE, .cb = record,
                             .cb_arg = &o2};
    cr_assert_eq(ctca_ctclient_submit(c, &sub), CTCA_OK);
    cr_assert_eq(o2.r[0].err, CTCA_OK);
    cr_assert_str_eq(s->path, "/ct/v1/add-chain");
    cr_assert_str_eq(s->req_body, "{\"chain\":[\"MAMCAQE=\"]}");
    ctca_ctclient_free(c);
    ts_stop(s);
}

Test(ctclient_http, three_logs_answer_in_parallel)
{
    ts_server *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = ts_start(200, GOOD_JSON);
        s[i]->delay_ms = 300;
    }
    ctca_ctclient *c = client_with(NULL);
    outcome o = {0};
    uint64_t t0 = wall_ms();
    cr_assert_eq(submit_to(c, s, 3, 5000, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
    uint64_t took = wall_ms() - t0;
    cr_assert_eq(o.calls, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(o.r[i].err, CTCA_OK, "log %d: %s", i, o.r[i].detail);
    cr_assert_geq(took, 290u);
    cr_assert_lt(took, 800u, "three 300 ms logs took %llu ms: not parallel",
                 (unsigned long long)took);
    ctca_ctclient_free(c);
    for (int i = 0; i < 3; i++)
        ts_stop(s[i]);
}

Test(ctclient_http, results_arrive_as_each_log_answers)
{
    ts_server *s[3];
    int delays[3] = {400, 0, 200};
    for (int i = 0; i < 3; i++) {
        s[i] = ts_start(200, GOOD_JSON);
        s[i]->delay_ms = delays[i];
    }
    ctca_ctclient *c = client_with(NULL);
    outcome o = {0};
    cr_assert_eq(submit_to(c, s, 3, 5000, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
    cr_assert_eq(o.calls, 3);
    cr_assert_eq(o.order[0], 1);
    cr_assert_eq(o.order[1], 2);
    cr_assert_eq(o.order[2], 0);
    cr_assert_lt(o.r[1].elapsed_ms, 150u);
    cr_assert_geq(o.r[0].elapsed_ms, 390u);
    ctca_ctclient_free(c);
    for (int i = 0; i < 3; i++)
        ts_stop(s[i]);
}

Test(ctclient_http, stopping_after_two_answers_abandons_a_hung_log)
{
    ts_server *s[3] = {ts_start(200, GOOD_JSON), ts_start(200, GOOD_JSON),
                       ts_start(200, GOOD_JSON)};
    s[1]->hang = true;
    s[2]->delay_ms = 100;
    ctca_ctclient *c = client_with(NULL);
    outcome o = {.stop_after = 2};
    uint64_t t0 = wall_ms();
    cr_assert_eq(submit_to(c, s, 3, 5000, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
    uint64_t took = wall_ms() - t0;
    cr_assert_lt(took, 1000u, "returned after %llu ms with a 5 s per-log timeout",
                 (unsigned long long)took);
    cr_assert_eq(o.calls, 2, "the hung log gets no callback after the stop");
    cr_assert(o.r[0].seen && o.r[2].seen && !o.r[1].seen);
    cr_assert_eq(atomic_load(&s[1]->requests), 1, "the hung log did receive the request");
    /* The client is still usable and nothing is left in flight. */
    size_t active = 99;
    cr_assert_eq(ctca_ctclient_run(c, 0, &active), CTCA_OK);
    cr_assert_eq(active, 0u);
    ctca_ctclient_free(c);
    for (int i = 0; i < 3; i++)
        ts_stop(s[i]);
}

Test(ctclient_http, deadline_times_out_unanswered_logs)
{
    ts_server *s[3] = {ts_start(200, GOOD_JSON), ts_start(200, GOOD_JSON),
                       ts_start(200, GOOD_JSON)};
    s[1]->hang = true;
    s[2]->delay_ms = 3000;
    ctca_ctclient *c = client_with(NULL);
    outcome o = {0};
    uint64_t t0 = wall_ms();
    uint64_t deadline = ctca_ctclient_now_ms(c) + 400;
    cr_assert_eq(submit_to(c, s, 3, 5000, deadline, &o), CTCA_OK);
    uint64_t took = wall_ms() - t0;
    cr_assert_geq(took, 390u);
    cr_assert_lt(took, 900u, "deadline of 400 ms, returned after %llu ms",
                 (unsigned long long)took);
    cr_assert_eq(o.calls, 3);
    cr_assert_eq(o.r[0].err, CTCA_OK);
    cr_assert_eq(o.r[1].err, CTCA_ERR_TIMEOUT);
    cr_assert_eq(o.r[2].err, CTCA_ERR_TIMEOUT);
    cr_assert_eq(o.r[1].status, 0);
    ctca_ctclient_free(c);
    for (int i = 0; i < 3; i++)
        ts_stop(s[i]);
}

Test(ctclient_http, per_log_timeout_applies_without_a_deadline)
{
    ts_server *s[2] = {ts_start(200, GOOD_JSON), ts_start(200, GOOD_JSON)};
    s[0]->hang = true;
    ctca_ctclient *c = client_with(NULL);
    outcome o = {0};
    uint64_t t0 = wall_ms();
    cr_assert_eq(submit_to(c, s, 2, 250, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
    uint64_t took = wall_ms() - t0;
    cr_assert_geq(took, 240u);
    cr_assert_lt(took, 750u);
    cr_assert_eq(o.r[0].err, CTCA_ERR_TIMEOUT);
    cr_assert_eq(o.r[1].err, CTCA_OK);
    ctca_ctclient_free(c);
    ts_stop(s[0]);
    ts_stop(s[1]);
}

static atomic_uint_fast64_t clock_offset;
static uint64_t jumpy_clock(void *arg)
{
    (void)arg;
    return wall_ms() + 1000000u + atomic_load(&clock_offset);
}
static bool jump_on_answer(const ctca_ctresult *r, void *arg)
{
    (void)record(r, arg);
    atomic_fetch_add(&clock_offset, 120000u); /* two minutes pass, on the injected clock */
    return false;
}

Test(ctclient_http, deadlines_follow_the_injected_clock)
{
    ts_server *s[2] = {ts_start(200, GOOD_JSON), ts_start(200, GOOD_JSON)};
    s[1]->hang = true;
    ctca_ctclient_config cfg = {.now_ms = jumpy_clock};
    ctca_ctclient *c = client_with(&cfg);
    uint64_t before = wall_ms() + 1000000u;
    cr_assert_geq(ctca_ctclient_now_ms(c), before);
    cr_assert_lt(ctca_ctclient_now_ms(c), before + 1000u);
    char *u0 = ts_url(s[0], true), *u1 = ts_url(s[1], true);
    ctca_ctlog_request logs[2] = {{u0, 60000, NULL}, {u1, 60000, NULL}};
    ctca_view chain[1] = {ctca_view_make(cert_a, sizeof cert_a)};
    outcome o = {0};
    ctca_ctsubmission sub = {.endpoint = CTCA_CT_ADD_CHAIN, .chain = chain, .chain_len = 1,
                             .logs = logs, .n_logs = 2,
                             .deadline_ms = ctca_ctclient_now_ms(c) + 60000, .cb = jump_on_answer,
                             .cb_arg = &o};
    uint64_t t0 = wall_ms();
    cr_assert_eq(ctca_ctclient_submit(c, &sub), CTCA_OK);
    cr_assert_lt(wall_ms() - t0, 1000u, "the 60 s deadline passed on the injected clock");
    cr_assert_eq(o.r[0].err, CTCA_OK);
    cr_assert_eq(o.r[1].err, CTCA_ERR_TIMEOUT);
    cr_assert_geq(o.r[1].elapsed_ms, 120000u);
    free(u0);
    free(u1);
    ctca_ctclient_free(c);
    ts_stop(s[0]);
    ts_stop(s[1]);
}

typedef struct bad_case {
    const char *name;
    int status;
    const char *body;
    const char *raw;
    ctca_err want;
} bad_case;

#define SCT_HEAD "{\"sct_version\":0,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
#define SCT_TAIL ",\"extensions\":\"\",\"signature\":\"BAMABN6tvu8=\"}"

Test(ctclient_http, malformed_answers_give_exact_codes)
{
    static const bad_case cases[] = {
        {"garbage bytes instead of HTTP", 0, NULL, "\x01\xfe garbage\r\n\r\n", CTCA_ERR_HTTP},
        {"connection closed without an answer", 0, NULL, "", CTCA_ERR_HTTP},
        {"200 with a non-JSON body", 200, "<html>hello</html>", NULL, CTCA_ERR_BAD_RESPONSE},
        {"200 with a JSON array", 200, "[]", NULL, CTCA_ERR_BAD_RESPONSE},
        {"timestamp as a string", 200, SCT_HEAD "\"timestamp\":\"1700000000123\"" SCT_TAIL, NULL,
         CTCA_ERR_BAD_RESPONSE},
        {"id of 31 bytes", 200,
         "{\"sct_version\":0,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\","
         "\"timestamp\":1" SCT_TAIL,
         NULL, CTCA_ERR_BAD_RESPONSE},
        {"signature with trailing bytes", 200,
         SCT_HEAD "\"timestamp\":1,\"extensions\":\"\",\"signature\":\"BAMABN6tvu8A\"}", NULL,
         CTCA_ERR_BAD_RESPONSE},
        {"sct_version 1", 200,
         "{\"sct_version\":1,\"id\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
         "\"timestamp\":1" SCT_TAIL,
         NULL, CTCA_ERR_BAD_RESPONSE},
        {"400 from the log", 400, "{\"error\":\"bad chain\"}", NULL, CTCA_ERR_HTTP_STATUS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ts_server *s = ts_start(cases[i].status, cases[i].body);
        s->raw = cases[i].raw;
        outcome o = {0};
        ctca_err got = one_log(s, NULL, &o);
        cr_expect_eq(got, cases[i].want, "%s: want %s, got %s (%s)", cases[i].name,
                     ctca_err_name(cases[i].want), ctca_err_name(got), o.r[0].detail);
        cr_expect_eq(o.r[0].sct_len, 0u, "%s: no SCT", cases[i].name);
        cr_expect_neq(o.r[0].detail[0], '\0');
        ts_stop(s);
    }
}

Test(ctclient_http, oversized_bodies_are_refused_not_truncated)
{
    static char big[70000];
    memset(big, ' ', sizeof big - 1); /* whitespace-padded valid JSON if truncation happened */
    memcpy(big, GOOD_JSON, strlen(GOOD_JSON));

    ts_server *s = ts_start(200, big); /* with Content-Length */
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_ERR_BODY_TOO_LARGE, "%s", o.r[0].detail);
    cr_assert_eq(o.r[0].sct_len, 0u);
    ts_stop(s);

    s = ts_start(200, big); /* streamed until close: caught by the write cap */
    s->stream_close = true;
    outcome o2 = {0};
    cr_assert_eq(one_log(s, NULL, &o2), CTCA_ERR_BODY_TOO_LARGE, "%s", o2.r[0].detail);
    ts_stop(s);

    /* The cap is per client: a tiny cap refuses the normal answer, an exact one takes it. */
    s = ts_start(200, GOOD_JSON);
    ctca_ctclient_config small = {.max_body = strlen(GOOD_JSON) - 1};
    outcome o3 = {0};
    cr_assert_eq(one_log(s, &small, &o3), CTCA_ERR_BODY_TOO_LARGE);
    ctca_ctclient_config exact = {.max_body = strlen(GOOD_JSON)};
    outcome o4 = {0};
    cr_assert_eq(one_log(s, &exact, &o4), CTCA_OK, "%s", o4.r[0].detail);
    ts_stop(s);
}

Test(ctclient_http, retry_after_is_reported_on_503_and_429)
{
    ts_server *s = ts_start(503, "busy");
    s->headers = "Retry-After: 120\r\n";
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(o.r[0].status, 503);
    cr_assert_eq(o.r[0].retry_after, 120);
    cr_assert(strstr(o.r[0].detail, "503") != NULL, "%s", o.r[0].detail);
    ts_stop(s);

    s = ts_start(429, "");
    s->headers = "retry-after:7\r\n";
    outcome o2 = {0};
    cr_assert_eq(one_log(s, NULL, &o2), CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(o2.r[0].status, 429);
    cr_assert_eq(o2.r[0].retry_after, 7);
    ts_stop(s);

    s = ts_start(503, "");
    s->headers = "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n";
    outcome o3 = {0};
    cr_assert_eq(one_log(s, NULL, &o3), CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(o3.r[0].retry_after, -1, "HTTP-date form is not delta-seconds");
    ts_stop(s);
}

/* A log's Retry-After is honoured up to a cap: 999999 s once held an
 * issuance for 11.6 days. */
Test(ctclient_http, a_retry_after_beyond_the_cap_is_reported_as_the_cap)
{
    ts_server *s = ts_start(429, "");
    s->headers = "Retry-After: 999999\r\n";
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(o.r[0].retry_after, CTCA_CTCLIENT_RETRY_AFTER_MAX_S);
    ts_stop(s);
    cr_assert_eq(CTCA_CTCLIENT_RETRY_AFTER_MAX_S, 3600);
}

Test(ctclient_http, redirects_are_not_followed)
{
    ts_server *target = ts_start(200, GOOD_JSON);
    char loc[128];
    snprintf(loc, sizeof loc, "Location: http://127.0.0.1:%d/ct/v1/add-pre-chain\r\n",
             target->port);
    ts_server *s = ts_start(302, "");
    s->headers = loc;
    outcome o = {0};
    cr_assert_eq(one_log(s, NULL, &o), CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(o.r[0].status, 302);
    cr_assert_eq(atomic_load(&target->requests), 0);
    ts_stop(s);
    ts_stop(target);
}

Test(ctclient_http, unreachable_log_is_a_transport_error)
{
    ts_server *s = ts_start(200, GOOD_JSON);
    int port = s->port;
    ts_stop(s); /* nothing listens there any more */
    ctca_ctclient *c = client_with(NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    ctca_view chain[1] = {ctca_view_make(cert_a, sizeof cert_a)};
    ctca_ctlog_request log = {url, 3000, NULL};
    outcome o = {0};
    ctca_ctsubmission sub = {.endpoint = CTCA_CT_ADD_CHAIN, .chain = chain, .chain_len = 1,
                             .logs = &log, .n_logs = 1,
                             .deadline_ms = CTCA_CTCLIENT_NO_DEADLINE, .cb = record,
                             .cb_arg = &o};
    cr_assert_eq(ctca_ctclient_submit(c, &sub), CTCA_OK);
    cr_assert_eq(o.r[0].err, CTCA_ERR_HTTP, "%s", o.r[0].detail);
    cr_assert_eq(o.r[0].status, 0);

    /* https to a plain-HTTP server: the TLS handshake fails, nothing is sent */
    s = ts_start(200, GOOD_JSON);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", s->port);
    outcome o2 = {0};
    sub.cb_arg = &o2;
    cr_assert_eq(ctca_ctclient_submit(c, &sub), CTCA_OK);
    cr_assert_eq(o2.r[0].err, CTCA_ERR_HTTP, "%s", o2.r[0].detail);
    cr_assert_eq(atomic_load(&s->requests), 0);
    ts_stop(s);
    ctca_ctclient_free(c);
}

Test(ctclient_http, sequential_submits_reuse_one_connection)
{
    ts_server *s = ts_start(200, GOOD_JSON);
    ctca_ctclient *c = client_with(NULL);
    for (int i = 0; i < 3; i++) {
        outcome o = {0};
        cr_assert_eq(submit_to(c, &s, 1, 3000, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
        cr_assert_eq(o.r[0].err, CTCA_OK, "%s", o.r[0].detail);
    }
    cr_assert_eq(atomic_load(&s->requests), 3);
    cr_assert_eq(atomic_load(&s->accepts), 1, "%d connections for 3 submissions",
                 atomic_load(&s->accepts));
    ctca_ctclient_free(c);
    ts_stop(s);
}

Test(ctclient_http, connections_per_host_are_capped)
{
    ts_server *s[3];
    s[0] = s[1] = s[2] = ts_start(200, GOOD_JSON); /* three "logs" on one host */
    s[0]->delay_ms = 150;
    ctca_ctclient_config cfg = {.max_host_connections = 1};
    ctca_ctclient *c = client_with(&cfg);
    outcome o = {0};
    uint64_t t0 = wall_ms();
    cr_assert_eq(submit_to(c, s, 3, 5000, CTCA_CTCLIENT_NO_DEADLINE, &o), CTCA_OK);
    uint64_t took = wall_ms() - t0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(o.r[i].err, CTCA_OK, "log %d: %s", i, o.r[i].detail);
    cr_assert_eq(atomic_load(&s[0]->accepts), 1, "one connection for the host");
    cr_assert_eq(atomic_load(&s[0]->requests), 3);
    cr_assert_geq(took, 440u, "the three requests went one after another");
    ctca_ctclient_free(c);
    ts_stop(s[0]);
}

typedef struct async_state {
    outcome a, b;
    ctca_ctclient *c;
    ctca_err nested_run;
} async_state;

static bool record_a(const ctca_ctresult *r, void *arg)
{
    async_state *st = arg;
    size_t n = 0;
    st->nested_run = ctca_ctclient_run(st->c, 0, &n); /* must be refused */
    return record(r, &st->a);
}

static bool record_b(const ctca_ctresult *r, void *arg)
{
    async_state *st = arg;
    return record(r, &st->b);
}

Test(ctclient_http, async_jobs_accept_new_work_while_in_flight)
{
    ts_server *slow = ts_start(200, GOOD_JSON), *fast = ts_start(200, GOOD_JSON);
    slow->delay_ms = 400;
    async_state st = {.c = client_with(NULL), .nested_run = CTCA_OK};
    char *us = ts_url(slow, true), *uf = ts_url(fast, false);
    ctca_view chain[1] = {ctca_view_make(cert_a, sizeof cert_a)};
    ctca_ctlog_request la = {us, 5000, NULL}, lb = {uf, 5000, NULL};
    ctca_ctsubmission a = {.endpoint = CTCA_CT_ADD_PRE_CHAIN, .chain = chain, .chain_len = 1,
                           .logs = &la, .n_logs = 1, .deadline_ms = CTCA_CTCLIENT_NO_DEADLINE,
                           .cb = record_a, .cb_arg = &st};
    ctca_ctsubmission b = a;
    b.logs = &lb;
    b.cb = record_b;

    uint64_t ida = 0, idb = 0;
    size_t active = 0;
    cr_assert_eq(ctca_ctclient_start(st.c, &a, &ida), CTCA_OK);
    cr_assert_eq(ctca_ctclient_run(st.c, 50, &active), CTCA_OK);
    cr_assert_eq(active, 1u);
    cr_assert_eq(ctca_ctclient_start(st.c, &b, &idb), CTCA_OK);
    cr_assert_neq(ida, idb);
    uint64_t t0 = wall_ms();
    while (active > 0 && wall_ms() - t0 < 3000)
        cr_assert_eq(ctca_ctclient_run(st.c, 1000, &active), CTCA_OK);
    cr_assert_eq(active, 0u);
    cr_assert_eq(st.a.calls, 1);
    cr_assert_eq(st.b.calls, 1);
    cr_assert_eq(st.a.r[0].err, CTCA_OK);
    cr_assert_eq(st.b.r[0].err, CTCA_OK);
    cr_assert_lt(st.b.r[0].elapsed_ms, 200u, "the later job did not wait for the slow one");
    cr_assert_eq(st.nested_run, CTCA_ERR_INTERNAL, "run from a callback is refused");

    /* cancel abandons a job without a callback */
    slow->hang = true;
    outcome before = st.a;
    cr_assert_eq(ctca_ctclient_start(st.c, &a, &ida), CTCA_OK);
    cr_assert_eq(ctca_ctclient_run(st.c, 50, &active), CTCA_OK);
    cr_assert_eq(active, 1u);
    ctca_ctclient_cancel(st.c, ida);
    cr_assert_eq(ctca_ctclient_run(st.c, 0, &active), CTCA_OK);
    cr_assert_eq(active, 0u);
    cr_assert_eq(st.a.calls, before.calls);
    ctca_ctclient_cancel(st.c, ida);  /* finished: ignored */
    ctca_ctclient_cancel(st.c, 9999); /* unknown: ignored */

    /* freeing a client with work in flight returns at once */
    cr_assert_eq(ctca_ctclient_start(st.c, &a, &ida), CTCA_OK);
    cr_assert_eq(ctca_ctclient_run(st.c, 50, &active), CTCA_OK);
    t0 = wall_ms();
    ctca_ctclient_free(st.c);
    cr_assert_lt(wall_ms() - t0, 200u);
    cr_assert_eq(st.a.calls, before.calls);
    free(us);
    free(uf);
    ts_stop(slow);
    ts_stop(fast);
}

Test(ctclient_http, get_returns_the_body_or_the_status)
{
    ts_server *s = ts_start(200, "{\"tree_size\":7}");
    ctca_ctclient *c = client_with(NULL);
    char *u = ts_url(s, false);
    uint8_t *body = NULL;
    size_t len = 0;
    long status = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_ctclient_get(c, u, "ct/v1/get-sth", ctca_ctclient_now_ms(c) + 3000, &body,
                                   &len, &status, &eb),
                 CTCA_OK, "%s", eb.msg);
    cr_assert_eq(status, 200);
    cr_assert_eq(len, strlen("{\"tree_size\":7}"));
    cr_assert_str_eq((char *)body, "{\"tree_size\":7}");
    cr_assert_str_eq(s->method, "GET");
    cr_assert_str_eq(s->path, "/ct/v1/get-sth");
    free(body);
    ts_stop(s);

    s = ts_start(404, "no such thing");
    free(u);
    u = ts_url(s, true);
    body = NULL;
    cr_assert_eq(ctca_ctclient_get(c, u, "ct/v1/get-roots", CTCA_CTCLIENT_NO_DEADLINE, &body,
                                   &len, &status, &eb),
                 CTCA_ERR_HTTP_STATUS);
    cr_assert_eq(status, 404);
    cr_assert_null(body);
    cr_assert(strstr(eb.msg, "404") != NULL, "%s", eb.msg);
    ts_stop(s);

    s = ts_start(200, "{}");
    s->hang = true;
    free(u);
    u = ts_url(s, true);
    uint64_t t0 = wall_ms();
    cr_assert_eq(ctca_ctclient_get(c, u, "ct/v1/get-sth", ctca_ctclient_now_ms(c) + 200, &body,
                                   &len, &status, NULL),
                 CTCA_ERR_TIMEOUT);
    cr_assert_lt(wall_ms() - t0, 700u);
    cr_assert_eq(ctca_ctclient_get(c, "gopher://x/", "a", CTCA_CTCLIENT_NO_DEADLINE, &body, &len,
                                   &status, NULL),
                 CTCA_ERR_CONFIG);
    ts_stop(s);
    free(u);
    ctca_ctclient_free(c);
}

Test(ctclient_http, bad_submissions_are_refused_before_any_transfer)
{
    ctca_ctclient *c = client_with(NULL);
    ctca_view chain[CTCA_CTCLIENT_MAX_CHAIN + 1];
    for (size_t i = 0; i < CTCA_CTCLIENT_MAX_CHAIN + 1; i++)
        chain[i] = ctca_view_make(cert_a, sizeof cert_a);
    ctca_ctlog_request logs[CTCA_CTCLIENT_MAX_LOGS + 1];
    for (size_t i = 0; i < CTCA_CTCLIENT_MAX_LOGS + 1; i++)
        logs[i] = (ctca_ctlog_request){"http://127.0.0.1:9/", 1000, NULL};
    outcome o = {0};
    ctca_ctsubmission sub = {.endpoint = CTCA_CT_ADD_CHAIN, .chain = chain, .chain_len = 1,
                             .logs = logs, .n_logs = 1,
                             .deadline_ms = CTCA_CTCLIENT_NO_DEADLINE, .cb = record,
                             .cb_arg = &o};
    ctca_ctsubmission t = sub;
    t.n_logs = 0;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_NO_LOGS);
    t = sub;
    t.n_logs = CTCA_CTCLIENT_MAX_LOGS + 1;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_VALUE_RANGE);
    t = sub;
    t.chain_len = CTCA_CTCLIENT_MAX_CHAIN + 1;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_VALUE_RANGE);
    t = sub;
    t.chain_len = 0;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_VALUE_RANGE);
    t = sub;
    t.cb = NULL;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_INTERNAL);
    /* one bad URL among good ones refuses the whole job */
    logs[1].base_url = "ftp://127.0.0.1/";
    t = sub;
    t.n_logs = 3;
    cr_expect_eq(ctca_ctclient_submit(c, &t), CTCA_ERR_CONFIG);
    size_t active = 99;
    cr_assert_eq(ctca_ctclient_run(c, 0, &active), CTCA_OK);
    cr_expect_eq(active, 0u);
    cr_expect_eq(o.calls, 0);
    ctca_ctclient_free(c);
    ctca_ctclient_free(NULL);
}
