/* The libcurl machinery: one multi handle per client, jobs of transfers, and a
 * run loop that enforces per-log timeouts and job deadlines itself so that
 * abandoning a hung log costs one curl_multi_remove_handle, not a wait. */
#include "ctclient/ctclient_int.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job job;

typedef struct xfer {
    job *job;
    CURL *easy; /* non-NULL while in flight */
    size_t index;
    void *user;
    char *url;
    uint64_t expiry_ms;
    size_t max_body;
    uint8_t *buf; /* the body so far, NUL-terminated when non-NULL */
    size_t len, cap;
    bool too_large, nomem;
    long retry_after;
    char curl_err[CURL_ERROR_SIZE];
    char detail[192];
} xfer;

struct job {
    uint64_t id;
    bool parse_sct; /* add-chain answers become SCTs; GET bodies are returned as-is */
    bool v2;        /* the answers are RFC 9162 submit-entry's */
    bool stopped;
    ctca_ctclient_cb cb;
    void *cb_arg;
    uint64_t start_ms;
    uint8_t *post; /* request body shared by the job's transfers; NULL for GET */
    size_t post_len;
    size_t n_xfers, n_live;
    job *prev, *next;
    xfer xfers[];
};

struct ctca_ctclient {
    CURLM *multi;
    size_t max_body;
    uint32_t connect_timeout_ms, log_timeout_ms;
    char *ca_file, *user_agent;
    uint64_t (*now)(void *);
    void *clock_arg;
    struct curl_slist *post_headers;
    job *head, *tail;
    uint64_t next_id;
    size_t n_active;
    bool in_run;
    uint64_t delivered; /* callbacks run so far, to let run() return on progress */
};

/* ---- process-wide libcurl initialization ------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe; it runs once and libcurl then stays
 * initialized for the life of the process (no curl_global_cleanup). */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- clock ------------------------------------------------------------- */

static uint64_t monotonic_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ctca_ctclient_now_ms(const ctca_ctclient *c)
{
    return c->now(c->clock_arg);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- client ------------------------------------------------------------ */

static char *dup_or_null(const char *s, bool *fail)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *fail = true;
    return d;
}

ctca_err ctca_ctclient_new(const ctca_ctclient_config *cfg, ctca_ctclient **out)
{
    static const ctca_ctclient_config defaults = {0};
    ctca_err err = CTCA_ERR_NOMEM;
    ctca_ctclient *c = NULL;
    bool fail = false;

    if (out == NULL)
        return CTCA_ERR_INTERNAL;
    *out = NULL;
    if (cfg == NULL)
        cfg = &defaults;
    if (pthread_once(&curl_once, curl_init) != 0 || curl_init_rc != CURLE_OK)
        return CTCA_ERR_HTTP;

    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto out;
    c->max_body = cfg->max_body ? cfg->max_body : CTCA_CTCLIENT_DEFAULT_MAX_BODY;
    c->connect_timeout_ms =
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : CTCA_CTCLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
    c->log_timeout_ms =
        cfg->log_timeout_ms ? cfg->log_timeout_ms : CTCA_CTCLIENT_DEFAULT_LOG_TIMEOUT_MS;
    c->now = cfg->now_ms ? cfg->now_ms : monotonic_ms;
    c->clock_arg = cfg->clock_arg;
    c->next_id = 1;
    c->ca_file = dup_or_null(cfg->ca_file, &fail);
    c->user_agent = dup_or_null(cfg->user_agent ? cfg->user_agent : "ctca/0.1", &fail);
    if (fail)
        goto out;

    c->multi = curl_multi_init();
    if (c->multi == NULL)
        goto out;
    /* The pool is what keeps a log's connection warm between issuances. */
    /* A batch of thousands of submissions must not open thousands of sockets to
     * one log: past the per-host cap, curl queues transfers (their timeouts run). */
    if (curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
                          cfg->max_connections > 0 ? cfg->max_connections : 64L) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          cfg->max_host_connections > 0 ? cfg->max_host_connections : 8L) !=
            CURLM_OK) {
        err = CTCA_ERR_HTTP;
        goto out;
    }

    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h == NULL)
        goto out;
    c->post_headers = h;
    /* A chain is a few KiB: a 100-continue round trip would only add latency. */
    h = curl_slist_append(c->post_headers, "Expect:");
    if (h == NULL)
        goto out;
    c->post_headers = h;

    *out = c;
    c = NULL;
    err = CTCA_OK;
out:
    ctca_ctclient_free(c);
    return err;
}

/* ---- transfers --------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    /* A cap exceeded aborts the transfer: never hand on a truncated body. */
    if (n > x->max_body - x->len) {
        x->too_large = true;
        return 0;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 1024;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (cap > x->max_body + 1)
            cap = x->max_body + 1;
        uint8_t *nb = realloc(x->buf, cap);
        if (nb == NULL) {
            x->nomem = true;
            return 0;
        }
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, p, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    long v;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
        x->retry_after = -1; /* a new response (after 1xx) starts over */
    else if (ctca_ctclient_parse_retry_after(p, n, &v))
        /* A log's ask is honoured up to a cap: one answer must not hold a
         * submission for days (999999 s once held an issuance 11.6 days). */
        x->retry_after = v < CTCA_CTCLIENT_RETRY_AFTER_MAX_S ? v : CTCA_CTCLIENT_RETRY_AFTER_MAX_S;
    return n;
}

static CURL *easy_new(ctca_ctclient *c, job *j, xfer *x)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, x->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PRIVATE, x) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              /* A log that redirects is misconfigured or hijacked: report the 3xx. */
              curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms) ==
                  CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body) ==
                  CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEDATA, x) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_HEADERDATA, x) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075700
    /* Abandoning a transfer still resolving must not join the resolver thread. */
    ok = ok && curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L) == CURLE_OK;
#endif
    if (ok && c->ca_file != NULL)
        ok = curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    if (ok && j->post != NULL)
        ok = curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)j->post) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->post_len) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->post_headers) == CURLE_OK;
    else if (ok)
        ok = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    if (!ok) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

/* Takes x out of the multi handle; its connection returns to the pool when
 * the exchange completed, and is closed when it was cut short. */
static void detach(ctca_ctclient *c, xfer *x)
{
    if (x->easy == NULL)
        return;
    curl_multi_remove_handle(c->multi, x->easy);
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    x->job->n_live--;
    c->n_active--;
}

/* Frees j; its live transfers must have been detached, so an easy handle left
 * is one that was never added to the multi handle. */
static void job_free(job *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n_xfers; i++) {
        xfer *x = &j->xfers[i];
        if (x->easy != NULL)
            curl_easy_cleanup(x->easy);
        free(x->url);
        free(x->buf);
    }
    free(j->post);
    free(j);
}

static void unlink_job(ctca_ctclient *c, job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        c->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        c->tail = j->prev;
    j->prev = j->next = NULL;
}

/* Frees finished jobs; never runs while a callback may hold a job. */
static void reap(ctca_ctclient *c)
{
    job *j = c->head;
    while (j != NULL) {
        job *next = j->next;
        if (j->n_live == 0) {
            unlink_job(c, j);
            job_free(j);
        }
        j = next;
    }
}

static void stop_job(ctca_ctclient *c, job *j)
{
    j->stopped = true;
    for (size_t i = 0; i < j->n_xfers; i++)
        detach(c, &j->xfers[i]);
}

static void deliver(ctca_ctclient *c, job *j, ctca_ctresult *r)
{
    if (j->stopped)
        return;
    r->elapsed_ms = ctca_ctclient_now_ms(c) - j->start_ms;
    c->delivered++;
    if (j->cb(r, j->cb_arg))
        stop_job(c, j);
}

static void body_snippet(const xfer *x, char *out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < x->len && k + 1 < n && i < 96; i++) {
        uint8_t b = x->buf[i];
        out[k++] = (b >= 0x20 && b < 0x7f) ? (char)b : '.';
    }
    out[k] = '\0';
}

/* Turns a finished transfer into its result; x is already detached. */
static void complete(ctca_ctclient *c, xfer *x, CURLcode rc, long status)
{
    job *j = x->job;
    uint8_t *sct = NULL;
    size_t sct_len = 0;
    ctca_ctclient_entry_answer entry = {0};
    ctca_ctresult r = {.index = x->index, .user = x->user, .http_status = status,
                       .retry_after = x->retry_after, .detail = x->detail};
    r.body = ctca_view_make(x->buf, x->len);

    if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        r.err = CTCA_ERR_BODY_TOO_LARGE;
        snprintf(x->detail, sizeof x->detail, "body exceeds %zu bytes", x->max_body);
    } else if (x->nomem) {
        r.err = CTCA_ERR_NOMEM;
        snprintf(x->detail, sizeof x->detail, "out of memory reading the body");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        r.err = CTCA_ERR_TIMEOUT;
        snprintf(x->detail, sizeof x->detail, "%.180s",
                 x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
    } else if (rc != CURLE_OK) {
        r.err = CTCA_ERR_HTTP;
        snprintf(x->detail, sizeof x->detail, "%.180s",
                 x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        char snip[100];
        /* An RFC 9162 log names its error ("badChain: ..."). */
        if (!j->v2 || !ctca_ctclient_problem(r.body, snip, sizeof snip))
            body_snippet(x, snip, sizeof snip);
        r.err = CTCA_ERR_HTTP_STATUS;
        snprintf(x->detail, sizeof x->detail, "HTTP %ld%s%s", status, snip[0] ? ": " : "",
                 snip);
    } else if (j->v2) {
        r.err = ctca_ctclient_parse_entry_response(r.body, &entry, x->detail, sizeof x->detail);
        if (r.err == CTCA_OK) {
            r.sct = ctca_view_make(entry.sct, entry.sct_len);
            r.sth = ctca_view_make(entry.sth, entry.sth_len);
            r.inclusion = ctca_view_make(entry.inclusion, entry.inclusion_len);
            snprintf(x->detail, sizeof x->detail, "SCT TransItem of %zu bytes", entry.sct_len);
        }
    } else if (j->parse_sct) {
        r.err = ctca_ctclient_parse_sct_response(r.body, &sct, &sct_len, x->detail,
                                                 sizeof x->detail);
        if (r.err == CTCA_OK) {
            r.sct = ctca_view_make(sct, sct_len);
            snprintf(x->detail, sizeof x->detail, "SCT of %zu bytes", sct_len);
        }
    } else {
        r.err = CTCA_OK;
        snprintf(x->detail, sizeof x->detail, "HTTP 200, %zu bytes", x->len);
    }
    deliver(c, j, &r);
    free(sct);
    ctca_ctclient_entry_answer_cleanup(&entry);
}

static void drain_done(ctca_ctclient *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        /* m is invalidated by remove_handle: copy what is needed first. */
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        long status = 0;
        /* remove_handle drops a removed transfer's message, so e is live here. */
        if (curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv) != CURLE_OK || priv == NULL)
            continue;
        xfer *x = (xfer *)priv;
        (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        detach(c, x);
        complete(c, x, rc, status);
    }
}

static void expire(ctca_ctclient *c, uint64_t now)
{
    for (job *j = c->head; j != NULL; j = j->next) {
        for (size_t i = 0; i < j->n_xfers && j->n_live > 0; i++) {
            xfer *x = &j->xfers[i];
            if (x->easy == NULL || x->expiry_ms > now)
                continue;
            long status = 0;
            (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
            detach(c, x);
            snprintf(x->detail, sizeof x->detail, "no answer after %llu ms",
                     (unsigned long long)(now - j->start_ms));
            ctca_ctresult r = {.err = CTCA_ERR_TIMEOUT, .index = x->index, .user = x->user,
                               .http_status = status, .retry_after = x->retry_after,
                               .detail = x->detail};
            r.body = ctca_view_make(x->buf, x->len);
            deliver(c, j, &r);
        }
    }
}

static uint64_t next_expiry(const ctca_ctclient *c)
{
    uint64_t t = UINT64_MAX;
    for (const job *j = c->head; j != NULL; j = j->next)
        for (size_t i = 0; i < j->n_xfers && j->n_live > 0; i++)
            if (j->xfers[i].easy != NULL && j->xfers[i].expiry_ms < t)
                t = j->xfers[i].expiry_ms;
    return t;
}

ctca_err ctca_ctclient_run(ctca_ctclient *c, uint32_t timeout_ms, size_t *n_active)
{
    ctca_err err = CTCA_OK;
    if (c == NULL || c->in_run)
        return CTCA_ERR_INTERNAL;
    c->in_run = true;
    uint64_t before = c->delivered;
    uint64_t end = add_sat(ctca_ctclient_now_ms(c), timeout_ms);

    for (;;) {
        int running = 0;
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            err = CTCA_ERR_HTTP;
            goto out;
        }
        drain_done(c);
        uint64_t now = ctca_ctclient_now_ms(c);
        expire(c, now);
        if (c->delivered != before || c->n_active == 0 || now >= end)
            break;
        uint64_t until = next_expiry(c);
        if (until > end)
            until = end;
        uint64_t wait = until > now ? until - now : 0;
        if (wait > INT_MAX)
            wait = INT_MAX;
        if (curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL) != CURLM_OK) {
            err = CTCA_ERR_HTTP;
            goto out;
        }
    }
out:
    c->in_run = false;
    reap(c);
    if (n_active != NULL)
        *n_active = c->n_active;
    return err;
}

/* ---- jobs -------------------------------------------------------------- */

static job *find_job(const ctca_ctclient *c, uint64_t id)
{
    for (job *j = c->head; j != NULL; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

void ctca_ctclient_cancel(ctca_ctclient *c, uint64_t job_id)
{
    if (c == NULL)
        return;
    job *j = find_job(c, job_id);
    if (j == NULL)
        return;
    stop_job(c, j);
    if (!c->in_run)
        reap(c);
}

typedef struct log_target {
    const char *base_url;
    uint32_t timeout_ms;
    void *user;
} log_target;

/* Builds and launches a job: everything is validated and allocated before the
 * first transfer is added, so a failure queues nothing. post is taken. */
static ctca_err job_start(ctca_ctclient *c, bool parse_sct, bool v2, uint8_t *post,
                          size_t post_len,
                          const char *path, const ctca_ctlog_request *logs, size_t n_logs,
                          uint64_t deadline_ms, ctca_ctclient_cb cb, void *cb_arg,
                          uint64_t *job_id)
{
    ctca_err err = CTCA_OK;
    size_t added = 0;
    job *j = calloc(1, sizeof *j + n_logs * sizeof(xfer));
    if (j == NULL) {
        free(post);
        return CTCA_ERR_NOMEM;
    }
    j->post = post;
    j->post_len = post_len;
    j->parse_sct = parse_sct;
    j->v2 = v2;
    j->cb = cb;
    j->cb_arg = cb_arg;
    j->n_xfers = n_logs;
    j->start_ms = ctca_ctclient_now_ms(c);

    for (size_t i = 0; i < n_logs; i++) {
        xfer *x = &j->xfers[i];
        x->job = j;
        x->index = i;
        x->user = logs[i].user;
        x->max_body = c->max_body;
        x->retry_after = -1;
        uint32_t t = logs[i].timeout_ms ? logs[i].timeout_ms : c->log_timeout_ms;
        x->expiry_ms = add_sat(j->start_ms, t);
        if (x->expiry_ms > deadline_ms)
            x->expiry_ms = deadline_ms;
        err = ctca_ctclient_url(logs[i].base_url, path, &x->url);
        if (err != CTCA_OK)
            goto out;
        x->easy = easy_new(c, j, x);
        if (x->easy == NULL) {
            err = CTCA_ERR_NOMEM;
            goto out;
        }
    }
    for (; added < n_logs; added++) {
        if (curl_multi_add_handle(c->multi, j->xfers[added].easy) != CURLM_OK) {
            err = CTCA_ERR_NOMEM;
            goto out;
        }
        j->n_live++;
        c->n_active++;
    }
    j->id = c->next_id++;
    j->prev = c->tail;
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j;
    c->tail = j;
    if (job_id != NULL)
        *job_id = j->id;
    j = NULL;
out:
    if (j != NULL) {
        /* Detach what was added, then drop the rest unadded. */
        for (size_t i = 0; i < added; i++)
            detach(c, &j->xfers[i]);
        job_free(j);
    }
    return err;
}

static const char *endpoint_path(ctca_ct_endpoint e)
{
    switch (e) {
    case CTCA_CT_ADD_CHAIN:
        return "ct/v1/add-chain";
    case CTCA_CT_ADD_PRE_CHAIN:
        return "ct/v1/add-pre-chain";
    case CTCA_CT_SUBMIT_ENTRY_X509:
    case CTCA_CT_SUBMIT_ENTRY_PRECERT:
        return "ct/v2/submit-entry";
    }
    return NULL;
}

ctca_err ctca_ctclient_start(ctca_ctclient *c, const ctca_ctsubmission *sub, uint64_t *job_id)
{
    uint8_t *post = NULL;
    size_t post_len = 0;
    if (c == NULL || sub == NULL || sub->cb == NULL)
        return CTCA_ERR_INTERNAL;
    const char *path = endpoint_path(sub->endpoint);
    if (path == NULL)
        return CTCA_ERR_INTERNAL;
    if (sub->n_logs == 0 || sub->logs == NULL)
        return CTCA_ERR_NO_LOGS;
    if (sub->n_logs > CTCA_CTCLIENT_MAX_LOGS)
        return CTCA_ERR_VALUE_RANGE;
    bool v2 = sub->endpoint == CTCA_CT_SUBMIT_ENTRY_X509 ||
              sub->endpoint == CTCA_CT_SUBMIT_ENTRY_PRECERT;
    if (v2)
        /* RFC 9162 5.1's own numbers, 1 and 2 (see ctca/ctclient.h). */
        CTCA_GUARD(ctca_ctclient_entry_json(sub->endpoint == CTCA_CT_SUBMIT_ENTRY_PRECERT ? 2 : 1,
                                            sub->chain, sub->chain_len, &post, &post_len));
    else
        CTCA_GUARD(ctca_ctclient_chain_json(sub->chain, sub->chain_len, &post, &post_len));
    return job_start(c, true, v2, post, post_len, path, sub->logs, sub->n_logs,
                     sub->deadline_ms, sub->cb, sub->cb_arg, job_id);
}

/* Drives c until job id has no transfer left in flight. */
static ctca_err wait_job(ctca_ctclient *c, uint64_t id)
{
    for (;;) {
        job *j = find_job(c, id);
        if (j == NULL || j->n_live == 0)
            return CTCA_OK;
        ctca_err err = ctca_ctclient_run(c, 1000, NULL);
        if (err != CTCA_OK) {
            ctca_ctclient_cancel(c, id);
            return err;
        }
    }
}

ctca_err ctca_ctclient_submit(ctca_ctclient *c, const ctca_ctsubmission *sub)
{
    uint64_t id = 0;
    if (c == NULL || c->in_run)
        return CTCA_ERR_INTERNAL;
    CTCA_GUARD(ctca_ctclient_start(c, sub, &id));
    return wait_job(c, id);
}

typedef struct get_state {
    ctca_err err;
    long status;
    uint8_t *body;
    size_t body_len;
    char detail[192];
} get_state;

static bool get_cb(const ctca_ctresult *r, void *arg)
{
    get_state *g = arg;
    g->err = r->err;
    g->status = r->http_status;
    snprintf(g->detail, sizeof g->detail, "%s", r->detail);
    if (r->err == CTCA_OK) {
        g->body = malloc(r->body.len + 1);
        if (g->body == NULL) {
            g->err = CTCA_ERR_NOMEM;
        } else {
            if (r->body.len)
                memcpy(g->body, r->body.data, r->body.len);
            g->body[r->body.len] = '\0';
            g->body_len = r->body.len;
        }
    }
    return true;
}

ctca_err ctca_ctclient_get(ctca_ctclient *c, const char *base_url, const char *path,
                           uint64_t deadline_ms, uint8_t **body, size_t *body_len,
                           long *http_status, ctca_errbuf *eb)
{
    get_state g = {.err = CTCA_ERR_INTERNAL};
    uint64_t id = 0;
    if (c == NULL || c->in_run || body == NULL || body_len == NULL)
        return CTCA_ERR_INTERNAL;
    if (http_status != NULL)
        *http_status = 0;
    ctca_ctlog_request log = {.base_url = base_url};
    ctca_err err =
        job_start(c, false, false, NULL, 0, path, &log, 1, deadline_ms, get_cb, &g, &id);
    if (err != CTCA_OK)
        return ctca_errbuf_set(eb, err, "GET %s: %s", path ? path : "(null)",
                               ctca_err_str(err));
    err = wait_job(c, id);
    if (err == CTCA_OK && g.err != CTCA_OK)
        err = ctca_errbuf_set(eb, g.err, "GET %s: %s", path, g.detail);
    if (http_status != NULL)
        *http_status = g.status;
    if (err != CTCA_OK)
        goto out;
    *body = g.body;
    *body_len = g.body_len;
    g.body = NULL;
out:
    free(g.body);
    return err;
}

void ctca_ctclient_free(ctca_ctclient *c)
{
    if (c == NULL)
        return;
    while (c->head != NULL) {
        job *j = c->head;
        stop_job(c, j);
        unlink_job(c, j);
        job_free(j);
    }
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->post_headers);
    free(c->ca_file);
    free(c->user_agent);
    free(c);
}
