/* The issuance state machine (ctca/issue.h). This file only coordinates: the
 * bytes are built by tbs/ca, parsed and verified by sct/precert, judged by
 * policy, stored by the store and fetched by the ctclient. */
#include "ctca/issue.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/failpoint_int.h"
#include "core/ca/ca_int.h"
#include "core/engine/owner_int.h"
#include "core/engine/scheme_int.h"
#include "core/engine/selection_int.h"
#include "ctca/cms.h"
#include "ctca/loglist.h"
#include "ctca/policy.h"
#include "ctca/transparency.h"
#include "ctca/util.h"

#define SERIAL_ATTEMPTS 8

_Static_assert(CTCA_PRECERT_CHAIN_MAX <= CTCA_CTCLIENT_MAX_CHAIN,
               "a precertificate, a PreCA and all of ca.pem fit one submission");

/* Where an issuance is in DESIGN.md's pipeline. Each step runs only from the
 * states it lists (step_allowed), as Boulder's one-use issuance token is
 * redeemed once: nothing is signed before it is journaled, no final
 * certificate is built before the precertificate is stored, and none twice. */
typedef enum issuance_step {
    S_PREPARED = 0, /* checked, serial and TBS chosen; nothing written */
    S_JOURNALED,    /* the TBS is in the store */
    S_SIGNED,       /* the precertificate is signed, not yet stored */
    S_STORED,       /* the precertificate is stored (or the record was resumed) */
    S_COLLECTING,   /* submissions started */
    S_BUILT,        /* the final certificate is signed and checked, not yet stored */
    S_DEFERRED,     /* handed to the queue */
    S_DONE,         /* a certificate is stored */
    S_COUNT_
} issuance_step;

static const char *const step_names[S_COUNT_] = {
    [S_PREPARED] = "prepared",   [S_JOURNALED] = "journaled", [S_SIGNED] = "signed",
    [S_STORED] = "stored",       [S_COLLECTING] = "collecting", [S_BUILT] = "built",
    [S_DEFERRED] = "deferred",   [S_DONE] = "done"};

/* The submission to candidate i (is->cands[i], core/engine/selection_int.h). */
typedef struct cand_run {
    uint64_t job;
    ctca_issue_log_outcome outcome; /* once tried */
} cand_run;

struct ctca_issuance {
    issuance_step step;
    const ctca_ca *ca;
    const ctca_policy *policy;
    const ctca_ct_settings *ct;
    const ctca_log_list *list; /* own_list or the request's */
    ctca_log_list *own_list;
    ctca_candidate *cands; /* the logs the precertificate may go to, in selection order */
    cand_run *runs;        /* one per candidate */
    size_t n_cands;
    size_t *tried; /* candidate indices in the order they were started */
    size_t n_tried;
    ctca_policy_sct *scts; /* verified SCTs, stored ones first (capacity n_cands + stored) */
    size_t n_scts;
    /* CT 1.0 SCTs verified on arrival, with their keys (capacity n_cands):
     * the release check need not verify them again (ctca_sct_memo). */
    ctca_sct *arrived;
    const ctca_log_key **arrived_keys;
    size_t n_arrived;
    size_t needed; /* SCTs the policy's band asks for */
    char serial[41];
    const char *profile_name;    /* borrowed from the CA's config */
    const ctca_ct_scheme *scheme; /* the CT version's (ctca/scheme.h) */
    uint8_t csr_sha256[32];      /* for the journal */
    bool once_per_csr;           /* ctca_issue_request's, for the journal */
    ctca_fallback fallback;      /* the request's or the record's; never _CONFIG */
    bool has_supersedes;
    ctca_store_unfinished supersedes;
    /* The journaled TBS: for CT 1.0 the precertificate's (with the poison), for
     * CT 2.0 the final TBS minus 1.3.101.75, which is the CMS eContent. */
    uint8_t *tbs;
    size_t tbs_len;
    uint8_t *precert; /* CT 1.0: a certificate; CT 2.0: a CMS precertificate */
    size_t precert_len;
    bool preca;          /* CT 1.0: the CA's PreCA signs the precertificate */
    uint8_t *final_base; /* with a PreCA: the journaled TBS as the CA issues it (poison
                            kept), which the final TBS is made from; else NULL */
    size_t final_base_len;
    ctca_ct_entry entry; /* what the logs sign, and the submitted chain */
    int64_t not_before_ms, not_after_ms;
    int64_t now_ms;
    int64_t (*clock_ms)(void *arg);
    void *clock_arg;
    /* collection */
    ctca_ctclient *client;
    ctca_store *store;
    uint64_t deadline_ms;
    size_t in_flight;
    bool compliant;
    bool stopped; /* a store failure: an SCT we cannot keep is not used */
    ctca_err store_err;
    char store_msg[256];
};

static int64_t default_clock(void *arg)
{
    (void)arg;
    return ctca_now_ms();
}

static int64_t clock_now(const ctca_issuance *is)
{
    return is->clock_ms(is->clock_arg);
}

#define AT(s) (1u << (s))

/* CTCA_OK when is may run step name now: its state is one of allowed (a
 * mask of AT(state)); a collection still running counts as not collected. */
static ctca_err step_allowed(const ctca_issuance *is, unsigned allowed, const char *name,
                             ctca_errbuf *eb)
{
    bool running = is->step == S_COLLECTING && !ctca_issuance_collected(is);
    if ((allowed & AT(is->step)) != 0 && !running)
        return CTCA_OK;
    return ctca_errbuf_set(eb, CTCA_ERR_STEP_ORDER, "serial %s: %s while the issuance is %s%s",
                           is->serial, name, step_names[is->step],
                           running ? " and its submissions are running" : "");
}

static void set_outcome(ctca_issue_log_outcome *o, ctca_err err, const char *detail)
{
    o->err = err;
    free(o->detail);
    o->detail = strdup(detail);
}

static bool policy_met(const ctca_issuance *is, ctca_policy_result *why)
{
    ctca_policy_result local;
    ctca_policy_result *r = why ? why : &local;
    return ctca_policy_evaluate(is->policy, is->list, is->not_before_ms, is->not_after_ms,
                                is->scts, is->n_scts, clock_now(is), r) == CTCA_OK &&
           r->verdict == CTCA_VERDICT_COMPLIANT;
}

/* "log A: reason; log B: reason" for the record and the caller. */
static void outcomes_summary(const ctca_issuance *is, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < is->n_tried && pos < len; k++) {
        const ctca_candidate *c = &is->cands[is->tried[k]];
        const ctca_issue_log_outcome *o = &is->runs[is->tried[k]].outcome;
        int n = snprintf(buf + pos, len - pos, "%s%s: %s", k ? "; " : "", c->log->url,
                         o->err == CTCA_OK ? "SCT obtained"
                         : o->detail && o->detail[0] ? o->detail
                                                     : ctca_err_str(o->err));
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    if (is->n_tried == 0)
        snprintf(buf, len, "no log was tried");
}

/* ---- collection ------------------------------------------------------------ */

static bool on_log_result(const ctca_ctresult *r, void *arg);

static ctca_err start_one(ctca_issuance *is, size_t i)
{
    ctca_candidate *c = &is->cands[i];
    cand_run *run = &is->runs[i];
    ctca_ctlog_request req = {.base_url = c->log->url,
                              .timeout_ms = is->ct->log_timeout_ms,
                              .user = (void *)(uintptr_t)i};
    ctca_ctsubmission sub = {
        .endpoint = is->scheme->ops->endpoint[CTCA_ENTRY_PRECERT],
        .chain = is->entry.chain, .chain_len = is->entry.chain_len,
        .logs = &req, .n_logs = 1, .deadline_ms = is->deadline_ms,
        .cb = on_log_result, .cb_arg = is,
    };
    run->outcome.description = strdup(c->log->description ? c->log->description : "");
    run->outcome.url = strdup(c->log->url);
    is->tried[is->n_tried++] = i;
    ctca_err rc = ctca_ctclient_start(is->client, &sub, &run->job);
    if (rc != CTCA_OK) {
        c->state = CTCA_CAND_FAILED;
        set_outcome(&run->outcome, rc, "could not start the submission");
        return rc;
    }
    c->state = CTCA_CAND_IN_FLIGHT;
    run->outcome.err = CTCA_ERR_TIMEOUT;
    run->outcome.detail = strdup("no answer before the deadline");
    is->in_flight++;
    return CTCA_OK;
}

/* Keeps enough submissions going: as many as the policy still needs plus one
 * (so one hung log does not hold issuance to its timeout), and at least one
 * while the SCTs in hand do not comply. */
static void top_up(ctca_issuance *is)
{
    if (is->compliant || is->stopped ||
        ctca_ctclient_now_ms(is->client) >= is->deadline_ms)
        return;
    size_t want = ctca_selection_wanted(is->needed, is->n_scts);
    size_t i;
    while (is->in_flight < want && ctca_selection_next(is->cands, is->n_cands, &i))
        (void)start_one(is, i); /* a log that cannot start is failed; try the next */
}

static void stop_all(ctca_issuance *is)
{
    for (size_t i = 0; i < is->n_cands; i++) {
        if (is->cands[i].state == CTCA_CAND_IN_FLIGHT) {
            ctca_ctclient_cancel(is->client, is->runs[i].job);
            is->cands[i].state = CTCA_CAND_FAILED;
            set_outcome(&is->runs[i].outcome, CTCA_ERR_TIMEOUT,
                        "not needed: abandoned once the policy was met");
            is->in_flight--;
        }
    }
}

/* A log's answer verified over the precertificate entry by the scheme; CT
 * 1.0 SCTs are kept for the release check's memo. */
static ctca_err verify_answer(ctca_issuance *is, const ctca_log_info *log, ctca_view bytes,
                              uint64_t *timestamp)
{
    ctca_ct_answer a = {0};
    bool keep = is->n_arrived < is->n_cands;
    ctca_err rc = is->scheme->ops->verify(&is->entry, log, log->key, bytes,
                                          (uint64_t)clock_now(is), keep, &a);
    *timestamp = a.timestamp;
    if (rc == CTCA_OK && a.has_sct) {
        is->arrived_keys[is->n_arrived] = log->key;
        is->arrived[is->n_arrived++] = a.sct;
    }
    return rc;
}

static bool on_log_result(const ctca_ctresult *r, void *arg)
{
    ctca_issuance *is = arg;
    ctca_candidate *c = &is->cands[(uintptr_t)r->user];
    ctca_issue_log_outcome *o = &is->runs[(uintptr_t)r->user].outcome;
    is->in_flight--;
    c->state = CTCA_CAND_FAILED;
    o->elapsed_ms = r->elapsed_ms;
    if (r->err != CTCA_OK) {
        set_outcome(o, r->err, r->detail);
        top_up(is);
        return true;
    }
    uint64_t timestamp = 0;
    ctca_err rc = verify_answer(is, c->log, r->sct, &timestamp);
    if (rc != CTCA_OK) {
        char why[160];
        snprintf(why, sizeof why, "SCT rejected: %s", ctca_err_str(rc));
        set_outcome(o, rc, why);
        top_up(is);
        return true;
    }
    /* The store keys SCTs by the log's key hash for both versions: a log
     * list gives every log one, and a key serves one log (RFC 9162 4.1). */
    rc = ctca_store_add_sct(is->store, is->serial, c->log->log_id, CTCA_ENTRY_PRECERT,
                            (int)is->scheme->ct_version, timestamp, r->sct.data, r->sct.len,
                            is->now_ms);
    if (rc == CTCA_OK)
        CTCA_TEST_PAUSE("sct");
    if (rc != CTCA_OK) {
        is->store_err = rc;
        snprintf(is->store_msg, sizeof is->store_msg, "storing the SCT from %s: %s",
                 c->log->url, ctca_store_errmsg(is->store));
        set_outcome(o, rc, is->store_msg);
        is->stopped = true;
        stop_all(is);
        return true;
    }
    ctca_policy_sct *p = &is->scts[is->n_scts++];
    memcpy(p->log_id, c->log->log_id, CTCA_LOG_ID_LEN);
    p->timestamp_ms = timestamp;
    p->delivery = CTCA_SCT_EMBEDDED;
    c->state = CTCA_CAND_OK;
    set_outcome(o, CTCA_OK, "");
    if (policy_met(is, NULL)) {
        is->compliant = true;
        stop_all(is);
    } else {
        top_up(is);
    }
    return true;
}

/* ---- setting up -------------------------------------------------------------- */

static ctca_issuance *issuance_new(const ctca_ca *ca, int64_t now_ms)
{
    ctca_issuance *is = calloc(1, sizeof *is);
    if (is == NULL)
        return NULL;
    is->ca = ca;
    is->policy = ctca_ca_get0_policy(ca);
    is->ct = ctca_config_get0_ct(ctca_ca_get0_config(ca));
    is->now_ms = now_ms;
    is->clock_ms = default_clock;
    return is;
}

void ctca_issuance_set_clock(ctca_issuance *is, int64_t (*clock_ms)(void *arg), void *clock_arg)
{
    is->clock_ms = clock_ms ? clock_ms : default_clock;
    is->clock_arg = clock_ms ? clock_arg : NULL;
}

/* Loads the log list (unless list is given) and the candidates for the
 * validity in is: every log a CA may submit to, ordered across operators. */
static ctca_err select_logs(ctca_issuance *is, const ctca_log_list *list,
                            const char *log_list_path, size_t stored, ctca_errbuf *eb)
{
    const char *ll = log_list_path ? log_list_path : ctca_ca_get0_log_list_path(is->ca);
    if (list == NULL) {
        CTCA_GUARD(ctca_ca_load_log_list(is->ca, log_list_path, &is->own_list, eb));
        list = is->own_list;
    }
    if (ll == NULL)
        ll = "the log list";
    is->list = list;
    ctca_policy_need need;
    ctca_errbuf why = {{0}};
    ctca_err prc = ctca_policy_requirement(is->policy, is->not_before_ms, is->not_after_ms,
                                           is->list, clock_now(is), &need, &why);
    if (prc != CTCA_OK) /* a list too old is named by its path */
        return need.rule == CTCA_RULE_LOG_LIST_AGE ? ctca_errbuf_set(eb, prc, "%s: %s", ll, why.msg)
                                                   : ctca_errbuf_set(eb, prc, "%s", why.msg);
    is->needed = need.scts;

    const ctca_log_info **logs = NULL;
    size_t n = 0;
    ctca_err rc = ctca_log_list_select(is->list, is->not_after_ms, is->ct->allow_test_logs,
                                       is->scheme->ct_version, SIZE_MAX, &logs, &n);
    if (rc == CTCA_ERR_NO_LOGS)
        return ctca_errbuf_set(eb, rc, "%s: no usable or qualified %s log accepts a "
                               "certificate with this notAfter",
                               ll, is->scheme->logs);
    CTCA_GUARD(rc);
    is->cands = calloc(n, sizeof *is->cands);
    is->runs = calloc(n, sizeof *is->runs);
    is->tried = calloc(n, sizeof *is->tried);
    is->scts = calloc(n + stored + 1, sizeof *is->scts);
    is->arrived = calloc(n + 1, sizeof *is->arrived);
    is->arrived_keys = calloc(n + 1, sizeof *is->arrived_keys);
    if (is->cands == NULL || is->runs == NULL || is->tried == NULL || is->scts == NULL || is->arrived == NULL ||
        is->arrived_keys == NULL) {
        free(logs);
        return CTCA_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        is->cands[i].log = logs[i];
    is->n_cands = n;
    free(logs);
    for (size_t i = 0; i < n; i++)
        if (is->cands[i].log->key == NULL)
            return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "log %s: key: %s",
                                   is->cands[i].log->url, ctca_err_str(CTCA_ERR_KEY_UNSUPPORTED));
    return CTCA_OK;
}

/* The signed entry and the submitted chain, once the precertificate exists,
 * and the TBS the final certificate is made from. */
static ctca_err prepare_entry(ctca_issuance *is)
{
    const struct ctca_scheme_ops *ops = is->scheme->ops;
    ctca_view tbs = ctca_view_make(is->tbs, is->tbs_len);
    CTCA_GUARD(ops->precert_entry(is->ca, tbs, ctca_view_make(is->precert, is->precert_len),
                                  &is->entry));
    is->entry.not_before_ms = is->not_before_ms;
    is->preca = is->entry.preca;
    return ops->final_base(is->ca, &is->entry, tbs, &is->final_base, &is->final_base_len);
}

/* A fresh serial: random, and new to the store. */
static ctca_err allocate_serial(ctca_store *store, uint8_t serial[CTCA_SERIAL_LEN], char *hex,
                                size_t hex_len)
{
    for (int attempt = 0; attempt < SERIAL_ATTEMPTS; attempt++) {
        bool exists = true;
        CTCA_GUARD(ctca_serial_generate(NULL, NULL, serial));
        CTCA_GUARD(ctca_serial_to_hex(serial, CTCA_SERIAL_LEN, hex, hex_len));
        CTCA_GUARD(ctca_store_serial_exists(store, hex, &exists));
        if (!exists)
            return CTCA_OK;
    }
    return CTCA_ERR_STORE_CONFLICT;
}

/* Everything of begin before the first store write (reads only), into an
 * allocated issuance, so ctca_issue can report the serial of a later failure. */
static ctca_err prepare_into(ctca_issuance *is, ctca_store *store, const ctca_issue_request *req,
                             ctca_errbuf *eb)
{
    const ctca_ca *ca = is->ca;
    ctca_issuance_set_clock(is, req->clock_ms, req->clock_arg);
    const char *name = req->profile ? req->profile : CTCA_DEFAULT_PROFILE;
    const ctca_profile *profile = ctca_config_get0_profile(ctca_ca_get0_config(ca), name);
    if (profile == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_PROFILE, "no profile named \"%s\" in the config", name);
    is->profile_name = profile->name;
    is->once_per_csr = req->once_per_csr;
    is->fallback = req->fallback != CTCA_FALLBACK_CONFIG ? req->fallback : is->ct->fallback;
    if (req->supersedes != NULL) {
        is->supersedes = *req->supersedes;
        is->has_supersedes = true;
    }
    unsigned ct_version = req->ct_version ? req->ct_version : profile->ct_version;
    if ((is->scheme = ctca_ct_scheme_for(ct_version)) == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_USAGE, "CT version %u: expected 1 or 2", ct_version);
    is->preca = profile->preca && ctca_ca_get0_preca_cert(ca).len > 0;
    CTCA_GUARD(is->scheme->ops->check_request(ca, profile->name, is->preca, eb));
    ctca_csr *csr = NULL;
    uint8_t serial[CTCA_SERIAL_LEN];
    ctca_err rc = ctca_csr_load(req->csr_path, &csr, eb);
    if (rc != CTCA_OK || (rc = ctca_csr_check_profile(csr, profile, eb)) != CTCA_OK)
        goto out;
    memcpy(is->csr_sha256, ctca_csr_get0_digest(csr), sizeof is->csr_sha256);
    int64_t now_s = req->now_ms / 1000;
    int64_t not_after_s = now_s + (int64_t)profile->validity_days * 86400 - 1;
    is->not_before_ms = now_s * 1000;
    is->not_after_ms = not_after_s * 1000;
    if ((rc = select_logs(is, req->log_list, req->log_list_path, 0, eb)) != CTCA_OK)
        goto out;

    if ((rc = allocate_serial(store, serial, is->serial, sizeof is->serial)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "allocating a serial: %s", ctca_store_errmsg(store));
        goto out;
    }
    rc = is->scheme->ops->build_tbs(ca, profile, csr, serial, CTCA_SERIAL_LEN, now_s, is->preca,
                                    &is->tbs, &is->tbs_len, eb);
out:
    ctca_csr_free(csr);
    return rc;
}

ctca_err ctca_issuance_journal(ctca_issuance *is, ctca_store *store, ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AT(S_PREPARED), "journaling", eb));
    /* The owner lets a queue worker on this host tell a slow issuance from a
     * dead one (core/engine/owner.c). */
    ctca_store_owner self;
    bool owned = ctca_owner_self(&self);
    ctca_store_journal_entry je = {
        .serial = is->serial, .profile = is->profile_name,
        .ct_version = (int)is->scheme->ct_version,
        .csr_sha256 = is->csr_sha256, .tbs = is->tbs, .tbs_len = is->tbs_len,
        .not_before = is->not_before_ms / 1000, .not_after = is->not_after_ms / 1000,
        .now_ms = is->now_ms, .owner = owned ? &self : NULL,
        .once_per_csr = is->once_per_csr,
        .supersedes = is->has_supersedes ? &is->supersedes : NULL,
        .fallback = ctca_fallback_name(is->fallback),
        .log_list_path = is->list->path,
        .log_list_sha256 = is->list->path != NULL ? is->list->sha256 : NULL,
    };
    ctca_err rc = ctca_store_journal(store, &je);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "journaling: %s", ctca_store_errmsg(store));
    is->step = S_JOURNALED;
    CTCA_TEST_PAUSE("journaled");
    return CTCA_OK;
}

ctca_err ctca_issuance_sign_precert(ctca_issuance *is, ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AT(S_JOURNALED), "signing the precertificate", eb));
    ctca_view tbs = ctca_view_make(is->tbs, is->tbs_len);
    ctca_err rc = is->scheme->ops->sign_precert(is->ca, is->preca, tbs, &is->precert,
                                                &is->precert_len);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "signing the precertificate: %s", ctca_err_str(rc));
    CTCA_GUARD(prepare_entry(is));
    is->step = S_SIGNED;
    return CTCA_OK;
}

ctca_err ctca_issuance_store_precert(ctca_issuance *is, ctca_store *store, ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AT(S_SIGNED), "storing the precertificate", eb));
    ctca_err rc = ctca_store_put_precert(store, is->serial, is->precert, is->precert_len,
                                         is->now_ms);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "storing the precertificate: %s",
                               ctca_store_errmsg(store));
    is->step = S_STORED;
    CTCA_TEST_PAUSE("precert");
    return CTCA_OK;
}

/* begin, into an allocated issuance (see prepare_into). */
static ctca_err begin_into(ctca_issuance *is, ctca_store *store, const ctca_issue_request *req,
                           ctca_errbuf *eb)
{
    CTCA_GUARD(prepare_into(is, store, req, eb));
    CTCA_GUARD(ctca_issuance_journal(is, store, eb));
    CTCA_GUARD(ctca_issuance_sign_precert(is, eb));
    return ctca_issuance_store_precert(is, store, eb);
}

/* Allocates an issuance and runs step on it; frees it on failure. */
static ctca_err new_issuance(const ctca_ca *ca, ctca_store *store, const ctca_issue_request *req,
                             ctca_err (*step)(ctca_issuance *, ctca_store *,
                                              const ctca_issue_request *, ctca_errbuf *),
                             ctca_issuance **out, ctca_errbuf *eb)
{
    *out = NULL;
    ctca_issuance *is = issuance_new(ca, req->now_ms);
    if (is == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = step(is, store, req, eb);
    if (rc != CTCA_OK) {
        ctca_issuance_free(is);
        return rc;
    }
    *out = is;
    return CTCA_OK;
}

ctca_err ctca_issuance_begin(const ctca_ca *ca, ctca_store *store, const ctca_issue_request *req,
                             ctca_issuance **out, ctca_errbuf *eb)
{
    return new_issuance(ca, store, req, begin_into, out, eb);
}

ctca_err ctca_issuance_prepare(const ctca_ca *ca, ctca_store *store,
                               const ctca_issue_request *req, ctca_issuance **out,
                               ctca_errbuf *eb)
{
    return new_issuance(ca, store, req, prepare_into, out, eb);
}

/* The stored precert_entry SCTs of is's serial and CT version, as verified policy SCTs:
 * each was verified before it was stored. Logs with one are not tried again. */
static ctca_err take_stored_scts(ctca_issuance *is, const ctca_store_sct_list *stored)
{
    for (size_t i = 0; i < stored->count; i++) {
        const ctca_store_sct *s = &stored->items[i];
        if (s->entry_type != CTCA_ENTRY_PRECERT || !ctca_scheme_owns_sct(is->scheme, s))
            continue;
        ctca_policy_sct *p = &is->scts[is->n_scts++];
        memcpy(p->log_id, s->log_id, CTCA_LOG_ID_LEN);
        p->timestamp_ms = s->timestamp_ms;
        p->delivery = CTCA_SCT_EMBEDDED;
        for (size_t c = 0; c < is->n_cands; c++)
            if (memcmp(is->cands[c].log->log_id, s->log_id, CTCA_LOG_ID_LEN) == 0)
                is->cands[c].state = CTCA_CAND_OK;
    }
    return CTCA_OK;
}

ctca_err ctca_issuance_resume(const ctca_ca *ca, ctca_store *store, const char *serial,
                              const ctca_log_list *list, const char *log_list_path,
                              int64_t now_ms, ctca_issuance **out, ctca_errbuf *eb)
{
    *out = NULL;
    ctca_store_cert rec = {0};
    ctca_store_sct_list stored = {0};
    ctca_issuance *is = issuance_new(ca, now_ms);
    ctca_err rc = is == NULL ? CTCA_ERR_NOMEM : ctca_store_get_cert(store, serial, &rec);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "serial %s: %s", serial,
                        is ? ctca_store_errmsg(store) : ctca_err_str(rc));
        goto out;
    }
    if (rec.precert_der == NULL || rec.final_der != NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_STORE_CONFLICT,
                             "serial %s is %s: only a record with a precertificate and no "
                             "final certificate can be resumed",
                             serial, ctca_store_state_name(rec.state));
        goto out;
    }
    if ((rc = ctca_store_list_scts(store, serial, &stored)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "serial %s: reading its SCTs: %s", serial,
                        ctca_store_errmsg(store));
        goto out;
    }
    snprintf(is->serial, sizeof is->serial, "%s", rec.serial);
    /* What the request chose holds for whoever finishes it. */
    is->fallback = is->ct->fallback;
    if (rec.fallback != NULL && ctca_fallback_parse(rec.fallback, &is->fallback) != CTCA_OK) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_STORE, "serial %s: journaled fallback \"%s\" is unknown",
                             serial, rec.fallback);
        goto out;
    }
    if ((is->scheme = ctca_ct_scheme_for((unsigned)rec.ct_version)) == NULL) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_STORE, "serial %s: unknown CT version %d", serial,
                             rec.ct_version);
        goto out;
    }
    is->not_before_ms = rec.not_before * 1000;
    is->not_after_ms = rec.not_after * 1000;
    is->tbs = rec.tbs;
    is->tbs_len = rec.tbs_len;
    is->precert = rec.precert_der;
    is->precert_len = rec.precert_len;
    rec.tbs = rec.precert_der = NULL;
    if ((rc = select_logs(is, list, log_list_path, stored.count, eb)) != CTCA_OK ||
        (rc = take_stored_scts(is, &stored)) != CTCA_OK)
        goto out;
    rc = prepare_entry(is);
    is->step = S_STORED;
out:
    ctca_store_sct_list_cleanup(&stored);
    ctca_store_cert_cleanup(&rec);
    if (rc != CTCA_OK) {
        ctca_issuance_free(is);
        return rc;
    }
    *out = is;
    return CTCA_OK;
}

ctca_err ctca_issuance_start(ctca_issuance *is, ctca_ctclient *client, ctca_store *store,
                             uint64_t deadline_ms)
{
    CTCA_GUARD(step_allowed(is, AT(S_STORED), "starting the submissions", NULL));
    is->step = S_COLLECTING;
    is->client = client;
    is->store = store;
    is->deadline_ms = deadline_ms;
    if (policy_met(is, NULL)) {
        is->compliant = true;
        return CTCA_OK;
    }
    top_up(is);
    return CTCA_OK;
}

bool ctca_issuance_collected(const ctca_issuance *is)
{
    if (is->compliant || is->stopped)
        return true;
    return is->in_flight == 0;
}

const char *ctca_issuance_serial(const ctca_issuance *is)
{
    return is->serial;
}

/* ---- the final certificate ---------------------------------------------------- */

/* The SCTs to embed and the logs to check them with: every stored
 * precert_entry SCT of the issuance's scheme from a log of the list (the
 * store keeps the first SCT per log, see ctca/store.h, so this is what was
 * kept, not what just arrived). */
typedef struct embed_set {
    ctca_store_sct_list stored; /* owns the SCTs' bytes */
    ctca_view *scts;
    const ctca_log_info **logs;
    ctca_policy_sct *pscts;
    size_t n;
} embed_set;

static void embed_set_cleanup(embed_set *e)
{
    ctca_store_sct_list_cleanup(&e->stored);
    free(e->scts);
    free(e->logs);
    free(e->pscts);
}

static ctca_err load_embed_set(ctca_issuance *is, ctca_store *store, embed_set *e)
{
    ctca_err rc = ctca_store_list_scts(store, is->serial, &e->stored);
    if (rc != CTCA_OK)
        return rc;
    size_t count = e->stored.count;
    e->scts = calloc(count + 1, sizeof *e->scts);
    e->logs = calloc(count + 1, sizeof *e->logs);
    e->pscts = calloc(count + 1, sizeof *e->pscts);
    if (e->scts == NULL || e->logs == NULL || e->pscts == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        const ctca_store_sct *s = &e->stored.items[i];
        const ctca_log_info *log = ctca_log_list_find(is->list, s->log_id);
        if (s->entry_type != CTCA_ENTRY_PRECERT || !ctca_scheme_owns_sct(is->scheme, s) ||
            log == NULL || log->key == NULL || !ctca_scheme_speaks(is->scheme, log))
            continue;
        e->scts[e->n] = ctca_view_make(s->sct, s->sct_len);
        e->logs[e->n] = log; /* borrowed from the list */
        memcpy(e->pscts[e->n].log_id, s->log_id, CTCA_LOG_ID_LEN);
        e->pscts[e->n].timestamp_ms = s->timestamp_ms;
        e->pscts[e->n].delivery = CTCA_SCT_EMBEDDED;
        e->n++;
    }
    return CTCA_OK;
}

/* Nothing unchecked or unstored leaves the engine. */
static void drop_cert(ctca_issue_result *res)
{
    free(res->cert);
    res->cert = NULL;
    res->cert_len = 0;
    res->n_embedded = 0;
}

/* Copies what is known into res: the serial, the precertificate, and each
 * tried log's outcome in the order tried. */
static ctca_err fill_result(const ctca_issuance *is, ctca_issue_result *res)
{
    snprintf(res->serial, sizeof res->serial, "%s", is->serial);
    res->ct_version = is->scheme->ct_version;
    if (is->precert != NULL && res->precert == NULL) {
        if ((res->precert = malloc(is->precert_len)) == NULL)
            return CTCA_ERR_NOMEM;
        memcpy(res->precert, is->precert, is->precert_len);
        res->precert_len = is->precert_len;
    }
    if (is->n_tried == 0 || res->logs != NULL) /* a fallback after finish: filled */
        return CTCA_OK;
    if ((res->logs = calloc(is->n_tried, sizeof *res->logs)) == NULL)
        return CTCA_ERR_NOMEM;
    res->n_logs = is->n_tried;
    for (size_t k = 0; k < is->n_tried; k++) {
        const ctca_issue_log_outcome *o = &is->runs[is->tried[k]].outcome;
        ctca_issue_log_outcome *d = &res->logs[k];
        *d = *o;
        d->description = strdup(o->description ? o->description : "");
        d->url = strdup(o->url ? o->url : "");
        d->detail = strdup(o->detail ? o->detail : "");
        if (d->description == NULL || d->url == NULL || d->detail == NULL)
            return CTCA_ERR_NOMEM;
    }
    return CTCA_OK;
}

/* The final TBS: the scheme puts the SCTs into the TBS the CA issues (RFC
 * 6962 3.3: in the poison's place; RFC 9162 7.1.2: after the CMS eContent's
 * extensions). */
static ctca_err final_tbs_of(const ctca_issuance *is, const embed_set *e, uint8_t **out,
                             size_t *out_len)
{
    ctca_view tbs = is->final_base != NULL ? ctca_view_make(is->final_base, is->final_base_len)
                                           : ctca_view_make(is->tbs, is->tbs_len);
    return is->scheme->ops->final_tbs(tbs, e->scts, e->n, out, out_len);
}

/* The PreCA that signed is's precertificate; empty when the CA did. */
static ctca_view preca_of(const ctca_issuance *is)
{
    return is->preca ? ctca_ca_get0_preca_cert(is->ca) : ctca_view_make(NULL, 0);
}

static ctca_err sign_final(ctca_issuance *is, const embed_set *e, ctca_issue_result *res,
                           ctca_errbuf *eb)
{
    uint8_t *final_tbs = NULL;
    size_t final_tbs_len = 0;
    ctca_err rc;
    if ((rc = final_tbs_of(is, e, &final_tbs, &final_tbs_len)) != CTCA_OK ||
        (rc = ctca_ca_sign_tbs(is->ca, ctca_view_make(final_tbs, final_tbs_len), &res->cert,
                               &res->cert_len)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "building the final certificate: %s", ctca_err_str(rc));
        goto out;
    }
    ctca_view cert = ctca_view_make(res->cert, res->cert_len);
    ctca_view precert = ctca_view_make(is->precert, is->precert_len);
    uint64_t now = (uint64_t)clock_now(is);
    const ctca_sct_memo memo = {.tbs = is->entry.v1.tbs,
                                .issuer_key_hash = is->entry.v1.issuer_key_hash,
                                .scts = is->arrived,
                                .keys = is->arrived_keys,
                                .n = is->n_arrived};
    rc = is->scheme->ops->release_check(cert, precert, preca_of(is),
                                        ctca_ca_get0_issuer_key_hash(is->ca), e->logs, e->n,
                                        &memo, now, eb);
    res->n_embedded = e->n;
out:
    if (rc != CTCA_OK)
        drop_cert(res);
    free(final_tbs);
    return rc;
}

/* A revoked precertificate (ctca revoke) is never followed by a certificate:
 * the queue, a batch re-run or a racing issuance stop here. */
static ctca_err refuse_if_revoked(const ctca_issuance *is, ctca_store *store, ctca_errbuf *eb)
{
    ctca_store_revocation r;
    ctca_err rc = ctca_store_get_revocation(store, is->serial, &r);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "serial %s: reading its revocation: %s", is->serial,
                               ctca_store_errmsg(store));
    if (r.revoked)
        return ctca_errbuf_set(eb, CTCA_ERR_REVOKED,
                               "serial %s was revoked: no certificate is issued for it",
                               is->serial);
    return CTCA_OK;
}

/* After the precertificate is stored and its collection (if started) is over. */
#define AFTER_COLLECTION (AT(S_STORED) | AT(S_COLLECTING))

ctca_err ctca_issuance_build_final(ctca_issuance *is, ctca_store *store, ctca_issue_result *res,
                                   ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AFTER_COLLECTION, "building the final certificate", eb));
    CTCA_GUARD(fill_result(is, res));
    CTCA_GUARD(refuse_if_revoked(is, store, eb));
    if (is->store_err != CTCA_OK)
        return ctca_errbuf_set(eb, is->store_err, "%s", is->store_msg);
    embed_set e = {0};
    ctca_err rc = load_embed_set(is, store, &e);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reading stored SCTs: %s", ctca_store_errmsg(store));
        goto out;
    }
    ctca_policy_result why;
    if (ctca_policy_evaluate(is->policy, is->list, is->not_before_ms, is->not_after_ms, e.pscts,
                             e.n, clock_now(is), &why) != CTCA_OK ||
        why.verdict != CTCA_VERDICT_COMPLIANT) {
        char summary[2048];
        outcomes_summary(is, summary, sizeof summary);
        rc = ctca_errbuf_set(eb, CTCA_ERR_POLICY_UNMET, "policy %s not met (%s: %s): %s",
                             is->policy->name, ctca_verdict_name(why.verdict), why.failed_rule,
                             summary);
        goto out;
    }
    if ((rc = sign_final(is, &e, res, eb)) == CTCA_OK)
        is->step = S_BUILT;
out:
    embed_set_cleanup(&e);
    return rc;
}

ctca_err ctca_issuance_store_final(ctca_issuance *is, ctca_store *store, ctca_issue_result *res,
                                   ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AT(S_BUILT), "storing the final certificate", eb));
    CTCA_TEST_PAUSE("final");
    ctca_err rc = ctca_store_put_final(store, is->serial, res->cert, res->cert_len, is->now_ms);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "storing the certificate: %s", ctca_store_errmsg(store));
        drop_cert(res); /* nothing unstored leaves the engine */
        return rc;
    }
    is->step = S_DONE;
    return CTCA_OK;
}

ctca_err ctca_issuance_finish(ctca_issuance *is, ctca_store *store, ctca_issue_result *res,
                              ctca_errbuf *eb)
{
    CTCA_GUARD(ctca_issuance_build_final(is, store, res, eb));
    return ctca_issuance_store_final(is, store, res, eb);
}

/* ---- fallbacks ------------------------------------------------------------------ */

ctca_err ctca_issuance_defer(ctca_issuance *is, ctca_store *store, const char *reason,
                             size_t *n_queued, ctca_errbuf *eb)
{
    ctca_store_queue_items items = {0};
    uint8_t *exclude = NULL, *ids = NULL;
    size_t n_exclude = 0, active = 0, waiting = 0, n = 0;
    if (n_queued != NULL)
        *n_queued = 0;
    CTCA_GUARD(step_allowed(is, AFTER_COLLECTION | AT(S_DEFERRED), "deferring", eb));
    ctca_err rc = ctca_store_queue_list(store, is->serial, 0, CTCA_STORE_QUEUE_PAGE_MAX, &items);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reading the queue of %s: %s", is->serial,
                        ctca_store_errmsg(store));
        goto out;
    }
    exclude = calloc(items.count + 1, CTCA_LOG_ID_LEN);
    ids = calloc(is->n_cands + 1, CTCA_LOG_ID_LEN);
    if (exclude == NULL || ids == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < items.count; i++) {
        const ctca_store_queue_item *it = &items.items[i];
        if (it->entry_type != CTCA_ENTRY_PRECERT)
            continue;
        memcpy(exclude + n_exclude++ * CTCA_LOG_ID_LEN, it->log_id, CTCA_LOG_ID_LEN);
        bool live = it->state == CTCA_QUEUE_PENDING || it->state == CTCA_QUEUE_LEASED;
        waiting += live;
        /* An item not tried again before this issuance's deadline (a long
         * Retry-After, an open breaker) is spent for choosing spares: waiting
         * for it cannot help in time, another log might. */
        active += live && (it->state == CTCA_QUEUE_LEASED ||
                           it->next_attempt_ms <= is->now_ms + (int64_t)is->ct->deadline_ms);
    }
    size_t want = ctca_selection_spares(is->needed, is->n_scts, active);
    n = ctca_selection_pick(is->cands, is->n_cands, true, exclude, n_exclude, want, ids);
    if (n == 0 && waiting == 0) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_NO_LOGS,
                             "serial %s: every eligible log has been tried", is->serial);
        goto out;
    }
    if (n == 0)
        goto out; /* enough is pending, or no spare is left: nothing changes */
    if ((rc = ctca_store_defer(store, is->serial, reason, ids, n, is->now_ms)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "deferring %s: %s", is->serial, ctca_store_errmsg(store));
        goto out;
    }
    if (n_queued != NULL)
        *n_queued = n;
    is->step = S_DEFERRED;
out:
    free(exclude);
    free(ids);
    ctca_store_queue_items_cleanup(&items);
    return rc;
}

ctca_err ctca_issuance_finish_unembedded(ctca_issuance *is, ctca_store *store,
                                         ctca_issue_result *res, ctca_errbuf *eb)
{
    CTCA_GUARD(step_allowed(is, AFTER_COLLECTION, "issuing without embedded SCTs", eb));
    CTCA_GUARD(fill_result(is, res));
    CTCA_GUARD(refuse_if_revoked(is, store, eb));
    uint8_t *ids = calloc(is->n_cands + 1, CTCA_LOG_ID_LEN);
    if (ids == NULL)
        return CTCA_ERR_NOMEM;
    size_t n = ctca_selection_pick(is->cands, is->n_cands, false, NULL, 0,
                                   ctca_selection_wanted(is->needed, 0), ids);
    /* The precertificate TBS minus the poison (CT 2.0: the journaled TBS, the
     * CMS eContent) is the certificate's TBS: the final TBS of DESIGN.md step
     * 4 with no SCTs to add. */
    ctca_view tbs = is->scheme->ops->unembedded_tbs(ctca_view_make(is->tbs, is->tbs_len),
                                                    &is->entry);
    ctca_err rc = ctca_ca_sign_tbs(is->ca, tbs, &res->cert, &res->cert_len);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "signing the certificate: %s", ctca_err_str(rc));
        goto out;
    }
    if ((rc = ctca_unembedded_cert_check(ctca_view_make(res->cert, res->cert_len),
                                         ctca_view_make(is->precert, is->precert_len),
                                         preca_of(is), eb)) != CTCA_OK)
        goto out;
    CTCA_TEST_PAUSE("final");
    if ((rc = ctca_store_put_final_queued(store, is->serial, res->cert, res->cert_len, ids, n,
                                          is->now_ms)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "storing the certificate: %s", ctca_store_errmsg(store));
        goto out;
    }
    res->n_embedded = 0;
    res->n_queued = n;
    is->step = S_DONE;
out:
    if (rc != CTCA_OK)
        drop_cert(res);
    free(ids);
    return rc;
}

void ctca_issuance_free(ctca_issuance *is)
{
    if (is == NULL)
        return;
    for (size_t i = 0; i < is->n_cands; i++) {
        free(is->runs[i].outcome.description);
        free(is->runs[i].outcome.url);
        free(is->runs[i].outcome.detail);
    }
    free(is->cands);
    free(is->runs);
    free(is->tried);
    free(is->scts);
    for (size_t i = 0; i < is->n_arrived; i++)
        ctca_sct_cleanup(&is->arrived[i]);
    free(is->arrived);
    free(is->arrived_keys);
    ctca_log_list_free(is->own_list);
    free(is->tbs);
    free(is->precert);
    ctca_ct_entry_cleanup(&is->entry);
    free(is->final_base);
    free(is);
}

/* ---- one certificate --------------------------------------------------------- */

ctca_fallback ctca_issuance_fallback(const ctca_issuance *is)
{
    return is->fallback;
}

void ctca_issuance_set_fallback(ctca_issuance *is, ctca_fallback f)
{
    if (f != CTCA_FALLBACK_CONFIG)
        is->fallback = f;
}

ctca_err ctca_issuance_fall_back(ctca_issuance *is, ctca_store *store, const char *reason,
                                 ctca_issue_result *res, ctca_errbuf *eb)
{
    char why[sizeof eb->msg];
    snprintf(why, sizeof why, "%s", reason && reason[0] ? reason : "CT policy not met");
    ctca_fallback f = is->fallback;
    ctca_errbuf inner = {{0}};
    if (f == CTCA_FALLBACK_UNEMBEDDED &&
        ctca_issuance_finish_unembedded(is, store, res, &inner) == CTCA_OK)
        return CTCA_OK;
    if (f == CTCA_FALLBACK_DEFER &&
        ctca_issuance_defer(is, store, why, &res->n_queued, &inner) == CTCA_OK)
        return ctca_errbuf_set(eb, CTCA_ERR_DEFERRED, "%s", why);
    /* fail, or a fallback that could not be taken: the record fails, its
     * precertificate kept. */
    if (ctca_store_mark_failed(store, is->serial, why, is->now_ms) != CTCA_OK)
        return ctca_errbuf_set(eb, CTCA_ERR_STORE, "%s (and recording the failure: %s)", why,
                               ctca_store_errmsg(store));
    if (inner.msg[0] != '\0')
        return ctca_errbuf_set(eb, CTCA_ERR_POLICY_UNMET, "%s (and the %s fallback: %s)", why,
                               ctca_fallback_name(f), inner.msg);
    return ctca_errbuf_set(eb, CTCA_ERR_POLICY_UNMET, "%s", why);
}

ctca_err ctca_issue(const ctca_ca *ca, const ctca_issue_request *req, ctca_issue_result *res,
                    ctca_errbuf *eb)
{
    memset(res, 0, sizeof *res);
    ctca_store *store = NULL;
    ctca_ctclient *client = NULL;
    ctca_issuance *is = issuance_new(ca, req->now_ms);
    if (is == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = ctca_store_open(ctca_ca_get0_store_path(ca), &store, eb);
    if (rc != CTCA_OK)
        goto out;
    if ((rc = begin_into(is, store, req, eb)) != CTCA_OK) {
        snprintf(res->serial, sizeof res->serial, "%s", is->serial);
        goto out;
    }
    ctca_ctclient_config ccfg = {.log_timeout_ms = is->ct->log_timeout_ms};
    if ((rc = ctca_ctclient_new(&ccfg, &client)) != CTCA_OK ||
        (rc = ctca_issuance_start(is, client, store,
                                  ctca_ctclient_now_ms(client) + is->ct->deadline_ms)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "submitting to logs: %s", ctca_err_str(rc));
        goto out;
    }
    while (!ctca_issuance_collected(is)) {
        if ((rc = ctca_ctclient_run(client, 1000, NULL)) != CTCA_OK) {
            ctca_errbuf_set(eb, rc, "submitting to logs: %s", ctca_err_str(rc));
            goto out;
        }
    }
    rc = ctca_issuance_finish(is, store, res, eb);
    if (rc == CTCA_ERR_POLICY_UNMET)
        rc = ctca_issuance_fall_back(is, store, eb->msg, res, eb);
out:
    ctca_issuance_free(is);
    ctca_ctclient_free(client);
    ctca_store_close(store);
    return rc;
}

void ctca_issue_result_cleanup(ctca_issue_result *res)
{
    free(res->cert);
    free(res->precert);
    for (size_t i = 0; i < res->n_logs; i++) {
        free(res->logs[i].description);
        free(res->logs[i].url);
        free(res->logs[i].detail);
    }
    free(res->logs);
    memset(res, 0, sizeof *res);
}
