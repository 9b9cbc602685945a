/* The HTTP front end: RFC 6962 section 4 endpoints over libmicrohttpd, and the
 * fault injection that lets tests exercise a client against a misbehaving log.
 *
 * libmicrohttpd runs one thread per connection, so a handler may sleep
 * (--latency-ms) or block for good (--hang) without holding up the others;
 * tl_server_stop wakes every waiting handler before it stops the daemon. */
#include "tests/testlog/testlog.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ctca/asn1.h"

struct tl_server {
    struct MHD_Daemon *daemon;
    tl_log *log;
    tl_faults faults;
    pthread_mutex_t mu; /* guards stopping and rng */
    pthread_cond_t cv;
    bool stopping;
    uint64_t rng;
    uint64_t submissions, new_entries, duplicates; /* for /testlog/stats (v1 submissions) */
};

/* Per-request state: the body as it arrives. */
typedef struct tl_request {
    uint8_t *body;
    size_t len, cap;
    bool too_big;
} tl_request;

/* ---- waiting and randomness ---------------------------------------------- */

/* Sleeps ms milliseconds, or until the server stops (ms < 0: until it stops).
 * Returns false when the server is stopping. */
static bool server_wait(tl_server *s, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (ms > 0) {
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (ms < 0) {
            pthread_cond_wait(&s->cv, &s->mu);
        } else if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool running = !s->stopping;
    pthread_mutex_unlock(&s->mu);
    return running;
}

/* splitmix64: a seeded, reproducible sequence (--seed) for --fail-rate. */
static double server_random(tl_server *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    pthread_mutex_unlock(&s->mu);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- responses ------------------------------------------------------------- */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, char *body,
                               const char *content_type, const char *retry_after)
{
    if (body == NULL)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (retry_after != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return respond(c, status, s, "application/json", NULL);
}

static char *strdup_or_null(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* Errors: a status and {"error": reason}. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status,
                                     const char *reason)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, "error", reason) == NULL) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, status, j);
}

/* Adds name: base64(p[0..n)). */
static bool add_b64(cJSON *j, const char *name, const uint8_t *p, size_t n)
{
    char *s = NULL;
    if (ctca_base64_encode(p, n, &s) != CTCA_OK)
        return false;
    bool ok = cJSON_AddStringToObject(j, name, s) != NULL;
    free(s);
    return ok;
}

/* Adds name: n, printed exactly (cJSON numbers are doubles). */
static bool add_u64(cJSON *j, const char *name, uint64_t n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, n);
    return cJSON_AddRawToObject(j, name, buf) != NULL;
}

static bool add_b64_array(cJSON *j, const char *name, const tl_proof *p)
{
    cJSON *a = cJSON_AddArrayToObject(j, name);
    if (a == NULL)
        return false;
    for (size_t i = 0; i < p->n; i++) {
        char *s = NULL;
        if (ctca_base64_encode(p->hash[i], TL_HASH_LEN, &s) != CTCA_OK)
            return false;
        cJSON *item = cJSON_CreateString(s);
        free(s);
        if (item == NULL || !cJSON_AddItemToArray(a, item))
            return false;
    }
    return true;
}

/* ---- query arguments ------------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool arg_u64(struct MHD_Connection *c, const char *name, uint64_t *out)
{
    return parse_u64(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name), out);
}

/* ---- submissions ------------------------------------------------------------ */

/* Parses {"chain": [b64 DER, ...]}; ders[i] are malloc'd. */
static bool parse_chain(const tl_request *rq, uint8_t **ders, ctca_view *chain, size_t *n,
                        char *why, size_t why_len)
{
    *n = 0;
    cJSON *j = cJSON_ParseWithLength((const char *)rq->body, rq->len);
    bool ok = false;
    if (j == NULL || !cJSON_IsObject(j)) {
        snprintf(why, why_len, "body is not a JSON object");
        goto out;
    }
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "chain");
    if (!cJSON_IsArray(arr)) {
        snprintf(why, why_len, "\"chain\" is not an array");
        goto out;
    }
    int count = cJSON_GetArraySize(arr);
    if (count < 1 || count > TL_MAX_CHAIN) {
        snprintf(why, why_len, "\"chain\" must hold 1..%d certificates", TL_MAX_CHAIN);
        goto out;
    }
    cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        const char *s = cJSON_GetStringValue(item);
        size_t len = 0;
        if (s == NULL ||
            ctca_base64_decode(s, strlen(s), &ders[*n], &len) != CTCA_OK) {
            snprintf(why, why_len, "chain[%zu] is not a base64 string", *n);
            goto out;
        }
        chain[*n] = ctca_view_make(ders[*n], len);
        (*n)++;
    }
    ok = true;
out:
    cJSON_Delete(j);
    return ok;
}

/* RFC 9162 5: an error is a Problem Details object (RFC 7807) whose type, when
 * RFC 9162 names one, is "urn:ietf:params:trans:error:" + its name. */
static enum MHD_Result respond_problem(struct MHD_Connection *c, unsigned status,
                                       const char *type, const char *detail)
{
    char urn[96];
    cJSON *j = cJSON_CreateObject();
    snprintf(urn, sizeof urn, "urn:ietf:params:trans:error:%s", type ? type : "");
    if (j == NULL || (type != NULL && cJSON_AddStringToObject(j, "type", urn) == NULL) ||
        cJSON_AddStringToObject(j, "detail", detail) == NULL) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    char *body = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return respond(c, status, body, "application/problem+json", NULL);
}

/* An error without an RFC 9162 type, in the body style of the log's version. */
static enum MHD_Result respond_failure(tl_server *s, struct MHD_Connection *c, unsigned status,
                                       const char *reason)
{
    if (s->log->sct.ct_version == 2)
        return respond_problem(c, status, NULL, reason);
    return respond_error(c, status, reason);
}

/* The faults every submission endpoint shares; true when one of them answered
 * (*ret is then the handler's result). garbage is the endpoint's malformed
 * success body. */
/* Counts a submission; true while it is one of the first --fail-first. */
static bool count_submission(tl_server *s)
{
    pthread_mutex_lock(&s->mu);
    bool fail = s->submissions < s->faults.fail_first;
    s->submissions++;
    pthread_mutex_unlock(&s->mu);
    return fail;
}

/* A 200 answer far above any client's body cap. */
static enum MHD_Result respond_huge(struct MHD_Connection *c)
{
    static const char head[] = "{\"sct_version\":0,\"id\":\"";
    char *body = malloc(TL_HUGE_BODY + 1);
    if (body == NULL)
        return MHD_NO;
    memset(body, 'A', TL_HUGE_BODY);
    memcpy(body, head, sizeof head - 1);
    memcpy(body + TL_HUGE_BODY - 2, "\"}", 2);
    body[TL_HUGE_BODY] = '\0';
    return respond(c, MHD_HTTP_OK, body, "application/json", NULL);
}

static bool submission_fault(tl_server *s, struct MHD_Connection *c, const tl_request *rq,
                             const char *garbage, enum MHD_Result *ret)
{
    const tl_faults *f = &s->faults;
    if (count_submission(s)) {
        *ret = respond_failure(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                               "injected failure (--fail-first)");
        return true;
    }
    if (f->hang) {
        server_wait(s, -1);
        *ret = MHD_NO; /* the client never gets an answer; the connection closes at exit */
        return true;
    }
    if (f->rate_limit) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", f->retry_after_s);
        *ret = respond(c, MHD_HTTP_TOO_MANY_REQUESTS,
                       strdup_or_null("{\"error\":\"rate limited\"}"), "application/json", ra);
        return true;
    }
    if (f->fail_rate > 0 && server_random(s) < f->fail_rate) {
        *ret = respond_failure(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "injected failure");
        return true;
    }
    if (f->garbage) {
        *ret = respond(c, MHD_HTTP_OK, strdup_or_null(garbage), "application/json", NULL);
        return true;
    }
    if (f->huge_body) {
        *ret = respond_huge(c);
        return true;
    }
    if (rq->too_big) {
        *ret = respond_failure(s, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
        return true;
    }
    return false;
}

static enum MHD_Result handle_submit(tl_server *s, struct MHD_Connection *c,
                                     const tl_request *rq, ctca_entry_type type)
{
    const tl_faults *f = &s->faults;
    enum MHD_Result ret;
    if (submission_fault(s, c, rq, "{\"sct_version\":0,\"id\":\"AAAA\",\"tim", &ret))
        return ret;

    uint8_t *ders[TL_MAX_CHAIN] = {0};
    ctca_view chain[TL_MAX_CHAIN];
    size_t n = 0;
    char why[256];
    tl_sct_out sct;
    memset(&sct, 0, sizeof sct);
    if (!parse_chain(rq, ders, chain, &n, why, sizeof why)) {
        ret = respond_error(c, MHD_HTTP_BAD_REQUEST, why);
        goto out;
    }
    ctca_errbuf eb = {{0}};
    ctca_err rc = tl_log_submit(s->log, type, chain, n, &sct, &eb);
    if (rc == CTCA_ERR_NOMEM || rc == CTCA_ERR_CRYPTO || rc == CTCA_ERR_INTERNAL) {
        ret = respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, eb.msg);
        goto out;
    }
    if (rc != CTCA_OK) {
        ret = respond_error(c, MHD_HTTP_BAD_REQUEST, eb.msg[0] ? eb.msg : ctca_err_str(rc));
        goto out;
    }
    pthread_mutex_lock(&s->mu);
    if (sct.duplicate)
        s->duplicates++;
    else
        s->new_entries++;
    pthread_mutex_unlock(&s->mu);

    uint8_t log_id[CTCA_LOG_ID_LEN];
    memcpy(log_id, s->log->log_id, sizeof log_id);
    if (f->wrong_log_id)
        for (size_t i = 0; i < sizeof log_id; i++)
            log_id[i] ^= 0xff;
    if (f->bad_signature && sct.sig_len > 0)
        sct.sig[sct.sig_len - 1] ^= 0x01; /* stays well-formed DER, no longer verifies */

    /* DigitallySigned { hash, signature algorithm, opaque<0..2^16-1> }. */
    ctca_builder b;
    ctca_builder_init(&b, 70000);
    ctca_builder_add_u8(&b, CTCA_HASH_SHA256);
    ctca_builder_add_u8(&b, s->log->sig_alg);
    ctca_builder_open_tls_vec(&b, 2, 0, CTCA_SCT_MAX_SIGNATURE);
    ctca_builder_add_bytes(&b, sct.sig, sct.sig_len);
    ctca_builder_close(&b);
    uint8_t *ds = NULL;
    size_t ds_len = 0;
    rc = ctca_builder_finish(&b, &ds, &ds_len);
    ctca_builder_cleanup(&b);
    if (rc != CTCA_OK) {
        ret = respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, ctca_err_str(rc));
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    bool ok = j != NULL && cJSON_AddNumberToObject(j, "sct_version", 0) != NULL &&
              add_b64(j, "id", log_id, sizeof log_id) && add_u64(j, "timestamp", sct.timestamp) &&
              add_b64(j, "extensions", sct.ext, sct.ext_len) &&
              add_b64(j, "signature", ds, ds_len);
    free(ds);
    if (!ok) {
        cJSON_Delete(j);
        ret = MHD_NO;
        goto out;
    }
    ret = respond_json(c, MHD_HTTP_OK, j);
out:
    for (size_t i = 0; i < TL_MAX_CHAIN; i++)
        free(ders[i]);
    tl_sct_out_cleanup(&sct);
    return ret;
}

/* ---- RFC 9162 submit-entry --------------------------------------------------------- */

/* A submit-entry request (5.1), its buffers owned. */
typedef struct v2_request {
    uint8_t *submission;
    size_t submission_len;
    long type;
    uint8_t *ders[TL_MAX_CHAIN];
    ctca_view chain[TL_MAX_CHAIN];
    size_t n;
} v2_request;

static void v2_request_cleanup(v2_request *r)
{
    free(r->submission);
    for (size_t i = 0; i < r->n; i++)
        free(r->ders[i]);
    memset(r, 0, sizeof *r);
}

static bool b64_string(const cJSON *item, uint8_t **out, size_t *len)
{
    const char *str = cJSON_GetStringValue(item);
    return str != NULL && str[0] != '\0' &&
           ctca_base64_decode(str, strlen(str), out, len) == CTCA_OK;
}

/* {"submission": b64, "type": integer, "chain": [b64, ...]}: anything else is
 * "malformed", a chain too long "badChain". */
static tl_problem parse_v2_request(const tl_request *rq, v2_request *r, char *why, size_t why_len)
{
    memset(r, 0, sizeof *r);
    tl_problem p = TL_PROBLEM_MALFORMED;
    cJSON *j = rq->len ? cJSON_ParseWithLength((const char *)rq->body, rq->len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *chain = cJSON_GetObjectItemCaseSensitive(j, "chain");
    if (!cJSON_IsObject(j)) {
        snprintf(why, why_len, "body is not a JSON object");
        goto out;
    }
    if (!b64_string(cJSON_GetObjectItemCaseSensitive(j, "submission"), &r->submission,
                    &r->submission_len)) {
        snprintf(why, why_len, "\"submission\" is not a base64 string");
        goto out;
    }
    if (!cJSON_IsNumber(type) || type->valuedouble != (double)(long)type->valuedouble) {
        snprintf(why, why_len, "\"type\" is not an integer");
        goto out;
    }
    r->type = (long)type->valuedouble;
    if (!cJSON_IsArray(chain)) {
        snprintf(why, why_len, "\"chain\" is not an array");
        goto out;
    }
    if (cJSON_GetArraySize(chain) > TL_MAX_CHAIN) {
        snprintf(why, why_len, "\"chain\" holds more than %d certificates", TL_MAX_CHAIN);
        p = TL_PROBLEM_BAD_CHAIN;
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, chain)
    {
        size_t len = 0;
        if (!b64_string(item, &r->ders[r->n], &len)) {
            snprintf(why, why_len, "chain[%zu] is not a base64 string", r->n);
            goto out;
        }
        r->chain[r->n] = ctca_view_make(r->ders[r->n], len);
        r->n++;
    }
    p = TL_PROBLEM_NONE;
out:
    cJSON_Delete(j);
    return p;
}

/* --bad-signature and --wrong-log-id on a serialized SCT TransItem. */
static ctca_err v2_sct_fault(const tl_faults *f, uint8_t **sct, size_t *len)
{
    if (!f->bad_signature && !f->wrong_log_id)
        return CTCA_OK;
    ctca_transitem it;
    CTCA_GUARD(ctca_transitem_parse(ctca_view_make(*sct, *len), &it));
    if (f->bad_signature)
        it.signature[it.signature_len - 1] ^= 0x01; /* stays well-formed DER, no longer verifies */
    if (f->wrong_log_id)
        it.log_id.oid[it.log_id.len - 1] ^= 0x01; /* still an OID (the last octet's top bit is 0) */
    free(*sct);
    *sct = NULL;
    ctca_err rc = ctca_transitem_serialize(&it, sct, len);
    ctca_transitem_cleanup(&it);
    return rc;
}

static enum MHD_Result handle_submit_entry(tl_server *s, struct MHD_Connection *c,
                                           const tl_request *rq)
{
    enum MHD_Result ret;
    if (submission_fault(s, c, rq, "{\"sct\":\"AAE", &ret))
        return ret;
    if (s->faults.shutdown)
        return respond_problem(c, MHD_HTTP_FORBIDDEN, "shutdown",
                               "the log is no longer accepting submissions");
    char why[256];
    v2_request r;
    tl_v2_out out;
    memset(&out, 0, sizeof out);
    tl_problem p = parse_v2_request(rq, &r, why, sizeof why);
    if (p != TL_PROBLEM_NONE) {
        ret = respond_problem(c, MHD_HTTP_BAD_REQUEST, tl_problem_name(p), why);
        goto out;
    }
    /* 5.1 says 1 (x509_entry_v2) and 2 (precert_entry_v2), numbers from before
     * VersionedTransType was renumbered (10.2.3); both spellings are accepted. */
    bool precert;
    if (r.type == 1 || r.type == CTCA_TT_X509_ENTRY_V2) {
        precert = false;
    } else if (r.type == 2 || r.type == CTCA_TT_PRECERT_ENTRY_V2) {
        precert = true;
    } else {
        ret = respond_problem(c, MHD_HTTP_BAD_REQUEST, "badType",
                              "\"type\" is neither 1 (or 0x0100) nor 2 (or 0x0101)");
        goto out;
    }
    ctca_errbuf eb = {{0}};
    ctca_err rc = tl_log_submit_v2(s->log, precert, ctca_view_make(r.submission, r.submission_len),
                                   r.chain, r.n, &out, &p, &eb);
    if (rc != CTCA_OK) {
        ret = respond_problem(c,
                              p == TL_PROBLEM_INTERNAL ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                       : MHD_HTTP_BAD_REQUEST,
                              p == TL_PROBLEM_INTERNAL ? NULL : tl_problem_name(p), eb.msg);
        goto out;
    }
    if (v2_sct_fault(&s->faults, &out.sct, &out.sct_len) != CTCA_OK) {
        ret = respond_problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "fault injection failed");
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || !add_b64(j, "sct", out.sct, out.sct_len) ||
        !add_b64(j, "sth", out.sth, out.sth_len) ||
        !add_b64(j, "inclusion", out.inclusion, out.inclusion_len)) {
        cJSON_Delete(j);
        ret = MHD_NO;
        goto out;
    }
    ret = respond_json(c, MHD_HTTP_OK, j);
out:
    v2_request_cleanup(&r);
    tl_v2_out_cleanup(&out);
    return ret;
}

static enum MHD_Result handle_get_sth_v2(tl_server *s, struct MHD_Connection *c)
{
    uint8_t *sth = NULL;
    size_t sth_len = 0;
    if (tl_log_sth_v2(s->log, &sth, &sth_len) != CTCA_OK)
        return respond_problem(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                               "cannot sign the tree head");
    cJSON *j = cJSON_CreateObject();
    bool ok = j != NULL && add_b64(j, "sth", sth, sth_len);
    free(sth);
    if (!ok) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

/* ---- reading endpoints ---------------------------------------------------------- */

static enum MHD_Result handle_get_sth(tl_server *s, struct MHD_Connection *c)
{
    tl_sth sth;
    if (tl_log_get_sth(s->log, &sth) != CTCA_OK)
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot sign the tree head");
    cJSON *j = cJSON_CreateObject();
    bool ok = j != NULL && add_u64(j, "tree_size", sth.tree_size) &&
              add_u64(j, "timestamp", sth.timestamp) &&
              add_b64(j, "sha256_root_hash", sth.root, TL_HASH_LEN) &&
              add_b64(j, "tree_head_signature", sth.sig, sth.sig_len);
    free(sth.sig);
    if (!ok) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result handle_get_roots(tl_server *s, struct MHD_Connection *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *a = j ? cJSON_AddArrayToObject(j, "certificates") : NULL;
    if (a == NULL) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    for (size_t i = 0; i < s->log->n_roots; i++) {
        char *b64 = NULL;
        cJSON *item = NULL;
        if (ctca_base64_encode(s->log->root_der[i], s->log->root_der_len[i], &b64) == CTCA_OK)
            item = cJSON_CreateString(b64);
        free(b64);
        if (item == NULL || !cJSON_AddItemToArray(a, item)) {
            cJSON_Delete(j);
            return MHD_NO;
        }
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result handle_get_entries(tl_server *s, struct MHD_Connection *c)
{
    uint64_t start, end;
    if (!arg_u64(c, "start", &start) || !arg_u64(c, "end", &end) || start > end)
        return respond_error(c, MHD_HTTP_BAD_REQUEST,
                             "need non-negative integers start <= end");
    uint64_t size = tl_log_size(s->log);
    if (start >= size)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "start is beyond the tree size");
    if (end >= size)
        end = size - 1;
    if (end - start >= TL_MAX_ENTRIES_PER_GET)
        end = start + TL_MAX_ENTRIES_PER_GET - 1;

    cJSON *j = cJSON_CreateObject();
    cJSON *a = j ? cJSON_AddArrayToObject(j, "entries") : NULL;
    if (a == NULL) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    for (uint64_t i = start; i <= end; i++) {
        uint8_t *leaf = NULL, *extra = NULL;
        size_t leaf_len = 0, extra_len = 0;
        cJSON *e = NULL;
        bool ok = tl_log_copy_entry(s->log, (size_t)i, &leaf, &leaf_len, &extra, &extra_len) ==
                      CTCA_OK &&
                  (e = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(a, e) &&
                  add_b64(e, "leaf_input", leaf, leaf_len) &&
                  add_b64(e, "extra_data", extra, extra_len);
        free(leaf);
        free(extra);
        if (!ok) {
            cJSON_Delete(j);
            return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read entries");
        }
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result handle_proof_by_hash(tl_server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hash");
    uint64_t tree_size;
    if (h == NULL || strlen(h) > 64 || !arg_u64(c, "tree_size", &tree_size))
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "need hash and tree_size");
    /* An unescaped '+' in a query string may arrive as a space. */
    char b64[65];
    size_t n = strlen(h);
    for (size_t i = 0; i <= n; i++)
        b64[i] = h[i] == ' ' ? '+' : h[i];
    uint8_t *hash = NULL;
    size_t hash_len = 0;
    if (ctca_base64_decode(b64, n, &hash, &hash_len) != CTCA_OK || hash_len != TL_HASH_LEN) {
        free(hash);
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "hash is not a base64 SHA-256 value");
    }
    tl_proof proof;
    uint64_t index = 0;
    ctca_errbuf eb = {{0}};
    ctca_err rc = tl_log_proof_by_hash(s->log, hash, tree_size, &index, &proof, &eb);
    free(hash);
    if (rc == CTCA_ERR_STORE_NOT_FOUND)
        return respond_error(c, MHD_HTTP_NOT_FOUND, eb.msg);
    if (rc != CTCA_OK)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, eb.msg[0] ? eb.msg : ctca_err_str(rc));
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || !add_u64(j, "leaf_index", index) || !add_b64_array(j, "audit_path", &proof)) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result handle_consistency(tl_server *s, struct MHD_Connection *c)
{
    uint64_t first, second;
    if (!arg_u64(c, "first", &first) || !arg_u64(c, "second", &second))
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "need first and second");
    tl_proof proof;
    ctca_errbuf eb = {{0}};
    if (tl_log_consistency(s->log, first, second, &proof, &eb) != CTCA_OK)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, eb.msg);
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || !add_b64_array(j, "consistency", &proof)) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result handle_entry_and_proof(tl_server *s, struct MHD_Connection *c)
{
    uint64_t index, tree_size;
    if (!arg_u64(c, "leaf_index", &index) || !arg_u64(c, "tree_size", &tree_size))
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "need leaf_index and tree_size");
    tl_proof proof;
    ctca_errbuf eb = {{0}};
    if (tl_log_audit_path(s->log, index, tree_size, &proof, &eb) != CTCA_OK)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, eb.msg);
    uint8_t *leaf = NULL, *extra = NULL;
    size_t leaf_len = 0, extra_len = 0;
    if (tl_log_copy_entry(s->log, (size_t)index, &leaf, &leaf_len, &extra, &extra_len) !=
        CTCA_OK)
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the entry");
    cJSON *j = cJSON_CreateObject();
    bool ok = j != NULL && add_b64(j, "leaf_input", leaf, leaf_len) &&
              add_b64(j, "extra_data", extra, extra_len) &&
              add_b64_array(j, "audit_path", &proof);
    free(leaf);
    free(extra);
    if (!ok) {
        cJSON_Delete(j);
        return MHD_NO;
    }
    return respond_json(c, MHD_HTTP_OK, j);
}

/* ---- dispatch ---------------------------------------------------------------- */

/* An RFC 9162 log serves /ct/v2/: submit-entry, get-sth and get-anchors. */
static enum MHD_Result dispatch_v2(tl_server *s, struct MHD_Connection *c, const char *url,
                                   const char *method, const tl_request *rq)
{
    static const char prefix[] = "/ct/v2/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return respond_problem(c, MHD_HTTP_NOT_FOUND, NULL, "not an RFC 9162 endpoint");
    const char *ep = url + sizeof prefix - 1;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (strcmp(ep, "submit-entry") == 0)
        return post ? handle_submit_entry(s, c, rq)
                    : respond_problem(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "use POST");
    if (strcmp(ep, "get-sth") == 0 || strcmp(ep, "get-anchors") == 0) {
        if (!get)
            return respond_problem(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "use GET");
        return ep[4] == 's' ? handle_get_sth_v2(s, c) : handle_get_roots(s, c);
    }
    return respond_problem(c, MHD_HTTP_NOT_FOUND, NULL, "unknown endpoint");
}

static enum MHD_Result handle_stats(tl_server *s, struct MHD_Connection *c)
{
    char *body = malloc(128);
    if (body == NULL)
        return MHD_NO;
    pthread_mutex_lock(&s->mu);
    snprintf(body, 128, "{\"submissions\":%" PRIu64 ",\"new_entries\":%" PRIu64
                        ",\"duplicates\":%" PRIu64 "}",
             s->submissions, s->new_entries, s->duplicates);
    pthread_mutex_unlock(&s->mu);
    return respond(c, MHD_HTTP_OK, body, "application/json", NULL);
}

static enum MHD_Result dispatch(tl_server *s, struct MHD_Connection *c, const char *url,
                                const char *method, const tl_request *rq)
{
    while (url[0] == '/' && url[1] == '/') /* "http://host:port/" + "/ct/v1/..." */
        url++;
    if (strcmp(url, "/testlog/stats") == 0)
        return strcmp(method, MHD_HTTP_METHOD_GET) == 0
                   ? handle_stats(s, c)
                   : respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
    if (s->log->sct.ct_version == 2)
        return dispatch_v2(s, c, url, method, rq);
    static const char prefix[] = "/ct/v1/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return respond_error(c, MHD_HTTP_NOT_FOUND, "not an RFC 6962 endpoint");
    const char *ep = url + sizeof prefix - 1;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

    if (strcmp(ep, "add-chain") == 0 || strcmp(ep, "add-pre-chain") == 0) {
        if (!post)
            return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
        return handle_submit(s, c, rq,
                             ep[4] == 'p' ? CTCA_ENTRY_PRECERT : CTCA_ENTRY_X509);
    }
    static const struct {
        const char *name;
        enum MHD_Result (*fn)(tl_server *, struct MHD_Connection *);
    } gets[] = {
        {"get-sth", handle_get_sth},
        {"get-roots", handle_get_roots},
        {"get-entries", handle_get_entries},
        {"get-proof-by-hash", handle_proof_by_hash},
        {"get-sth-consistency", handle_consistency},
        {"get-entry-and-proof", handle_entry_and_proof},
    };
    for (size_t i = 0; i < sizeof gets / sizeof *gets; i++) {
        if (strcmp(ep, gets[i].name) == 0) {
            if (!get)
                return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
            return gets[i].fn(s, c);
        }
    }
    return respond_error(c, MHD_HTTP_NOT_FOUND, "unknown endpoint");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    tl_server *s = cls;
    (void)version;
    tl_request *rq = *con_cls;
    if (rq == NULL) {
        rq = calloc(1, sizeof *rq);
        if (rq == NULL)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_big || n > TL_MAX_BODY - rq->len) {
            rq->too_big = true; /* keep draining; answer 413 at the end */
            return MHD_YES;
        }
        if (rq->len + n > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + n)
                cap *= 2;
            uint8_t *p = realloc(rq->body, cap);
            if (p == NULL)
                return MHD_NO;
            rq->body = p;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        return MHD_YES;
    }
    if (s->faults.latency_ms > 0 && !server_wait(s, (long)s->faults.latency_ms))
        return MHD_NO;
    return dispatch(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    tl_request *rq = *con_cls;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---- lifecycle ---------------------------------------------------------------- */

ctca_err tl_server_start(tl_log *log, const tl_faults *faults, const char *host, uint16_t port,
                         tl_server **out, uint16_t *port_out, ctca_errbuf *eb)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    const char *bind_host = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, bind_host, &sa.sin_addr) != 1)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "--listen: %s is not an IPv4 address", host);

    tl_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return CTCA_ERR_NOMEM;
    s->log = log;
    s->faults = *faults;
    s->rng = faults->seed;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
        port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)300, MHD_OPTION_END);
    if (s->daemon == NULL) {
        tl_server_stop(s);
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "cannot listen on %s:%u", host,
                               (unsigned)port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (info == NULL || getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) != 0) {
        tl_server_stop(s);
        return ctca_errbuf_set(eb, CTCA_ERR_IO, "cannot read the bound port");
    }
    *port_out = ntohs(bound.sin_port);
    *out = s;
    return CTCA_OK;
}

void tl_server_stop(tl_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
