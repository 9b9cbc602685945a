/* The issuance state machine (ctca/issue.h). This file only coordinates: the
 * bytes are built by tbs/ca, parsed and verified by sct/precert, stored by the
 * store and fetched by the ctclient. */
#include "ctca/issue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctca/ctclient.h"
#include "ctca/loglist.h"
#include "ctca/store.h"
#include "ctca/util.h"

#define SERIAL_ATTEMPTS 8

_Static_assert(1 + CTCA_CA_MAX_CHAIN <= CTCA_CTCLIENT_MAX_CHAIN,
               "a precertificate and all of ca.pem fit one submission");

/* Everything the per-log callback needs while SCTs arrive. */
typedef struct collector {
    ctca_store *store;
    const char *serial;
    const ctca_log_info **logs;
    ctca_log_key **keys;
    size_t n;
    const ctca_signed_entry *entry;
    const ctca_ct_settings *ct;
    ctca_issue_log_outcome *outcomes;
    bool *have_sct;
    int64_t (*clock_ms)(void *);
    void *clock_arg;
    int64_t now_ms;
    ctca_err store_err; /* a store failure stops collection: an SCT we cannot keep is not used */
    char store_msg[256];
} collector;

static int64_t default_clock(void *arg)
{
    (void)arg;
    return ctca_now_ms();
}

static bool requirement_met(const collector *c)
{
    size_t logs = 0, operators = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->have_sct[i])
            continue;
        logs++;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            if (c->have_sct[j] && c->logs[j]->operator_index == c->logs[i]->operator_index)
                seen = true;
        operators += !seen;
    }
    return logs >= c->ct->min_scts && operators >= c->ct->min_operators;
}

static void set_outcome(ctca_issue_log_outcome *o, ctca_err err, const char *detail)
{
    o->err = err;
    free(o->detail);
    o->detail = strdup(detail);
}

static bool on_log_result(const ctca_ctresult *r, void *arg)
{
    collector *c = arg;
    size_t i = r->index;
    ctca_issue_log_outcome *o = &c->outcomes[i];
    o->elapsed_ms = r->elapsed_ms;
    if (r->err != CTCA_OK) {
        set_outcome(o, r->err, r->detail);
        return false;
    }
    ctca_sct sct = {0};
    ctca_err rc = ctca_sct_parse(r->sct, &sct);
    if (rc == CTCA_OK)
        rc = ctca_sct_verify(&sct, c->keys[i], c->entry,
                             (uint64_t)c->clock_ms(c->clock_arg));
    if (rc != CTCA_OK) {
        char why[160];
        snprintf(why, sizeof why, "SCT rejected: %s", ctca_err_str(rc));
        set_outcome(o, rc, why);
        ctca_sct_cleanup(&sct);
        return false;
    }
    rc = ctca_store_add_sct(c->store, c->serial, sct.log_id, CTCA_ENTRY_PRECERT, 1, sct.timestamp,
                            r->sct.data, r->sct.len, c->now_ms);
    ctca_sct_cleanup(&sct);
    if (rc != CTCA_OK) {
        c->store_err = rc;
        snprintf(c->store_msg, sizeof c->store_msg, "storing the SCT from %s: %s", o->url,
                 ctca_store_errmsg(c->store));
        set_outcome(o, rc, c->store_msg);
        return true;
    }
    set_outcome(o, CTCA_OK, "");
    c->have_sct[i] = true;
    return requirement_met(c);
}

/* "log A: reason; log B: reason" for the record and the caller. */
static void outcomes_summary(const ctca_issue_result *res, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < res->n_logs && pos < len; i++) {
        const ctca_issue_log_outcome *o = &res->logs[i];
        int n = snprintf(buf + pos, len - pos, "%s%s: %s", i ? "; " : "", o->url,
                         o->err == CTCA_OK ? "SCT obtained"
                         : o->detail && o->detail[0] ? o->detail
                                                     : ctca_err_str(o->err));
        if (n < 0)
            break;
        pos += (size_t)n;
    }
}

static ctca_err load_keys(const ctca_log_info **logs, size_t n, ctca_log_key **keys,
                          ctca_errbuf *eb)
{
    for (size_t i = 0; i < n; i++) {
        ctca_err rc = ctca_log_key_from_spki(ctca_view_make(logs[i]->key_der, logs[i]->key_len),
                                             &keys[i]);
        if (rc != CTCA_OK)
            return ctca_errbuf_set(eb, CTCA_ERR_LOG_LIST, "log %s: key: %s", logs[i]->url,
                                   ctca_err_str(rc));
    }
    return CTCA_OK;
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

/* Builds the SCT list to embed from what the store kept (not from what the
 * logs just sent: the store keeps the first SCT per log, see ctca/store.h). */
static ctca_err embedded_list(ctca_store *store, const char *serial, uint8_t **out,
                              size_t *out_len, size_t *count)
{
    ctca_store_sct_list stored = {0};
    ctca_sct *scts = NULL;
    size_t n = 0;
    ctca_err rc = ctca_store_list_scts(store, serial, &stored);
    if (rc != CTCA_OK)
        goto out;
    scts = calloc(stored.count + 1, sizeof *scts);
    if (scts == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < stored.count; i++) {
        const ctca_store_sct *s = &stored.items[i];
        if (s->entry_type != CTCA_ENTRY_PRECERT || s->ct_version != 1)
            continue;
        rc = ctca_sct_parse(ctca_view_make(s->sct, s->sct_len), &scts[n]);
        if (rc != CTCA_OK)
            goto out;
        n++;
    }
    rc = ctca_sct_list_serialize(scts, n, out, out_len);
    *count = n;
out:
    for (size_t i = 0; i < n; i++)
        ctca_sct_cleanup(&scts[i]);
    free(scts);
    ctca_store_sct_list_cleanup(&stored);
    return rc;
}

ctca_err ctca_final_cert_check(ctca_view final, ctca_view precert,
                               const uint8_t issuer_key_hash[CTCA_LOG_ID_LEN],
                               ctca_log_key *const *keys, size_t n_keys, uint64_t now_ms,
                               ctca_errbuf *eb)
{
    uint8_t *pre_tbs = NULL, *fin_tbs = NULL;
    size_t pre_len = 0, fin_len = 0;
    ctca_sct_list list = {0};
    ctca_err rc;
    if ((rc = ctca_precert_tbs_from_precert(precert, &pre_tbs, &pre_len)) != CTCA_OK ||
        (rc = ctca_precert_tbs_from_final(final, &fin_tbs, &fin_len)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reconstructing the TBS: %s", ctca_err_str(rc));
        goto out;
    }
    if (!ctca_view_eq(ctca_view_make(pre_tbs, pre_len), ctca_view_make(fin_tbs, fin_len))) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_TBS_MISMATCH,
                             "final TBS minus SCT list differs from precert TBS minus poison");
        goto out;
    }
    if ((rc = ctca_cert_get_sct_list(final, &list)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reading the embedded SCT list: %s", ctca_err_str(rc));
        goto out;
    }
    ctca_signed_entry entry = {.type = CTCA_ENTRY_PRECERT, .tbs = ctca_view_make(fin_tbs, fin_len)};
    memcpy(entry.issuer_key_hash, issuer_key_hash, CTCA_LOG_ID_LEN);
    for (size_t i = 0; i < list.n; i++) {
        const ctca_log_key *key = NULL;
        for (size_t k = 0; k < n_keys && key == NULL; k++)
            if (memcmp(ctca_log_key_get0_id(keys[k]), list.scts[i].log_id, CTCA_LOG_ID_LEN) == 0)
                key = keys[k];
        rc = key ? ctca_sct_verify(&list.scts[i], key, &entry, now_ms) : CTCA_ERR_SCT_UNKNOWN_LOG;
        if (rc != CTCA_OK) {
            ctca_errbuf_set(eb, rc, "embedded SCT %zu: %s", i, ctca_err_str(rc));
            goto out;
        }
    }
out:
    ctca_sct_list_cleanup(&list);
    free(pre_tbs);
    free(fin_tbs);
    return rc;
}

/* The state shared by the steps of one issuance, released in one place. */
typedef struct issuance {
    const ctca_ca *ca;
    const ctca_issue_request *req;
    ctca_issue_result *res;
    const ctca_profile *profile;
    const ctca_ct_settings *ct;
    ctca_csr *csr;
    ctca_log_list *list;
    const ctca_log_info **logs;
    size_t n_logs;
    ctca_log_key **keys;
    ctca_store *store;
    uint8_t serial[CTCA_SERIAL_LEN];
    uint8_t *tbs;
    size_t tbs_len;
    uint8_t *entry_tbs; /* precert TBS minus poison: what the logs sign */
    size_t entry_tbs_len;
    ctca_ctclient *client;
} issuance;

static void issuance_cleanup(issuance *is)
{
    for (size_t i = 0; is->keys && i < is->n_logs; i++)
        ctca_log_key_free(is->keys[i]);
    free(is->keys);
    free(is->logs);
    ctca_log_list_free(is->list);
    ctca_csr_free(is->csr);
    ctca_store_close(is->store);
    ctca_ctclient_free(is->client);
    free(is->tbs);
    free(is->entry_tbs);
}

/* Step 1: everything that can be refused before anything is written. */
static ctca_err prepare(issuance *is, ctca_errbuf *eb)
{
    const char *name = is->req->profile ? is->req->profile : "tls-server";
    const ctca_config *cfg = ctca_ca_get0_config(is->ca);
    is->ct = ctca_config_get0_ct(cfg);
    is->profile = ctca_config_get0_profile(cfg, name);
    if (is->profile == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_PROFILE, "no profile named \"%s\" in the config", name);
    CTCA_GUARD(ctca_csr_load(is->req->csr_path, &is->csr, eb));
    CTCA_GUARD(ctca_csr_check_profile(is->csr, is->profile, eb));

    const char *ll = is->req->log_list_path ? is->req->log_list_path
                                            : ctca_ca_get0_log_list_path(is->ca);
    if (ll == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_CONFIG,
                               "no log list: set log_list in the config or pass --log-list");
    CTCA_GUARD(ctca_log_list_load(ll, &is->list, eb));
    int64_t not_after_ms =
        (is->req->now_ms / 1000 + (int64_t)is->profile->validity_days * 86400 - 1) * 1000;
    /* Two spares beyond the requirement, so one slow or broken log per operator
     * does not fail the issuance; the selection's order spans operators first. */
    size_t max = is->ct->min_scts + 2;
    if (max > CTCA_CTCLIENT_MAX_LOGS)
        max = CTCA_CTCLIENT_MAX_LOGS;
    ctca_err rc = ctca_log_list_select(is->list, not_after_ms, false, max, &is->logs, &is->n_logs);
    if (rc == CTCA_ERR_NO_LOGS)
        return ctca_errbuf_set(eb, rc, "%s: no usable or qualified log accepts a certificate "
                               "with this notAfter", ll);
    CTCA_GUARD(rc);
    is->keys = calloc(is->n_logs, sizeof *is->keys);
    if (is->keys == NULL)
        return CTCA_ERR_NOMEM;
    return load_keys(is->logs, is->n_logs, is->keys, eb);
}

/* Step 2: journal the precert TBS, then sign and store the precertificate. */
static ctca_err journal_and_sign_precert(issuance *is, ctca_errbuf *eb)
{
    ctca_issue_result *res = is->res;
    ctca_err rc = ctca_store_open(ctca_ca_get0_store_path(is->ca), &is->store, eb);
    if (rc != CTCA_OK)
        return rc;
    if ((rc = allocate_serial(is->store, is->serial, res->serial, sizeof res->serial)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "allocating a serial: %s", ctca_store_errmsg(is->store));
    int64_t now_s = is->req->now_ms / 1000;
    CTCA_GUARD(ctca_tbs_build_precert(is->ca, is->profile, is->csr, is->serial, CTCA_SERIAL_LEN,
                                      now_s, &is->tbs, &is->tbs_len, eb));
    ctca_store_journal_entry je = {
        .serial = res->serial,
        .profile = is->profile->name,
        .ct_version = 1,
        .csr_sha256 = ctca_csr_get0_digest(is->csr),
        .tbs = is->tbs,
        .tbs_len = is->tbs_len,
        .not_before = now_s,
        .not_after = now_s + (int64_t)is->profile->validity_days * 86400 - 1,
        .now_ms = is->req->now_ms,
    };
    if ((rc = ctca_store_journal(is->store, &je)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "journaling: %s", ctca_store_errmsg(is->store));
    CTCA_GUARD(ctca_ca_sign_tbs(is->ca, ctca_view_make(is->tbs, is->tbs_len), &res->precert,
                                &res->precert_len));
    if ((rc = ctca_store_put_precert(is->store, res->serial, res->precert, res->precert_len,
                                     is->req->now_ms)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "storing the precertificate: %s",
                               ctca_store_errmsg(is->store));
    return ctca_precert_tbs_from_precert(ctca_view_make(res->precert, res->precert_len),
                                         &is->entry_tbs, &is->entry_tbs_len);
}

/* Step 3: submit to the logs in parallel; collect verified SCTs until the
 * requirement is met or the deadline passes. */
static ctca_err collect_scts(issuance *is, ctca_errbuf *eb)
{
    ctca_issue_result *res = is->res;
    res->logs = calloc(is->n_logs, sizeof *res->logs);
    bool *have = calloc(is->n_logs, sizeof *have);
    ctca_ctlog_request *reqs = calloc(is->n_logs, sizeof *reqs);
    ctca_err rc = CTCA_ERR_NOMEM;
    if (res->logs == NULL || have == NULL || reqs == NULL)
        goto out;
    res->n_logs = is->n_logs;
    for (size_t i = 0; i < is->n_logs; i++) {
        res->logs[i].description = strdup(is->logs[i]->description ? is->logs[i]->description : "");
        res->logs[i].url = strdup(is->logs[i]->url);
        res->logs[i].err = CTCA_ERR_TIMEOUT;
        res->logs[i].detail = strdup("no answer before the deadline");
        reqs[i].base_url = is->logs[i]->url;
        reqs[i].timeout_ms = is->ct->log_timeout_ms;
    }
    ctca_ctclient_config ccfg = {.log_timeout_ms = is->ct->log_timeout_ms};
    if ((rc = ctca_ctclient_new(&ccfg, &is->client)) != CTCA_OK)
        goto out;
    ctca_signed_entry entry = {.type = CTCA_ENTRY_PRECERT,
                               .tbs = ctca_view_make(is->entry_tbs, is->entry_tbs_len)};
    memcpy(entry.issuer_key_hash, ctca_ca_get0_issuer_key_hash(is->ca), CTCA_LOG_ID_LEN);
    collector c = {
        .store = is->store, .serial = res->serial, .logs = is->logs, .keys = is->keys,
        .n = is->n_logs, .entry = &entry, .ct = is->ct, .outcomes = res->logs,
        .have_sct = have,
        .clock_ms = is->req->clock_ms ? is->req->clock_ms : default_clock,
        .clock_arg = is->req->clock_arg, .now_ms = is->req->now_ms,
    };
    /* RFC 6962 4.2: the precertificate, then the chain to a root the log
     * accepts: what ca.pem holds (ctca/ca.h, ctca_ca_get0_chain_cert). */
    ctca_view chain[1 + CTCA_CA_MAX_CHAIN];
    size_t chain_len = 1 + ctca_ca_chain_len(is->ca);
    chain[0] = ctca_view_make(res->precert, res->precert_len);
    for (size_t i = 1; i < chain_len; i++)
        chain[i] = ctca_ca_get0_chain_cert(is->ca, i - 1);
    ctca_ctsubmission sub = {
        .endpoint = CTCA_CT_ADD_PRE_CHAIN, .chain = chain, .chain_len = chain_len,
        .logs = reqs, .n_logs = is->n_logs,
        .deadline_ms = ctca_ctclient_now_ms(is->client) + is->ct->deadline_ms,
        .cb = on_log_result, .cb_arg = &c,
    };
    if ((rc = ctca_ctclient_submit(is->client, &sub)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "submitting to logs: %s", ctca_err_str(rc));
        goto out;
    }
    if (c.store_err != CTCA_OK) {
        rc = ctca_errbuf_set(eb, c.store_err, "%s", c.store_msg);
        goto out;
    }
    rc = requirement_met(&c) ? CTCA_OK : CTCA_ERR_POLICY_UNMET;
out:
    free(have);
    free(reqs);
    return rc;
}

/* Step 4: final TBS from the journaled precert TBS, sign, prove, store. */
static ctca_err sign_final(issuance *is, ctca_errbuf *eb)
{
    ctca_issue_result *res = is->res;
    uint8_t *list = NULL, *final_tbs = NULL;
    size_t list_len = 0, final_tbs_len = 0;
    ctca_err rc = embedded_list(is->store, res->serial, &list, &list_len, &res->n_embedded);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reading stored SCTs: %s", ctca_store_errmsg(is->store));
        goto out;
    }
    if ((rc = ctca_tbs_precert_to_final(ctca_view_make(is->tbs, is->tbs_len),
                                        ctca_view_make(list, list_len), &final_tbs,
                                        &final_tbs_len)) != CTCA_OK ||
        (rc = ctca_ca_sign_tbs(is->ca, ctca_view_make(final_tbs, final_tbs_len), &res->cert,
                               &res->cert_len)) != CTCA_OK)
        goto out;
    int64_t (*clock)(void *) = is->req->clock_ms ? is->req->clock_ms : default_clock;
    rc = ctca_final_cert_check(ctca_view_make(res->cert, res->cert_len),
                               ctca_view_make(res->precert, res->precert_len),
                               ctca_ca_get0_issuer_key_hash(is->ca), is->keys, is->n_logs,
                               (uint64_t)clock(is->req->clock_arg), eb);
    if (rc != CTCA_OK)
        goto out;
    if ((rc = ctca_store_put_final(is->store, res->serial, res->cert, res->cert_len,
                                   is->req->now_ms)) != CTCA_OK)
        ctca_errbuf_set(eb, rc, "storing the certificate: %s", ctca_store_errmsg(is->store));
out:
    if (rc != CTCA_OK) {
        /* Nothing unchecked leaves the engine. */
        free(res->cert);
        res->cert = NULL;
        res->cert_len = 0;
    }
    free(list);
    free(final_tbs);
    return rc;
}

ctca_err ctca_issue(const ctca_ca *ca, const ctca_issue_request *req, ctca_issue_result *res,
                    ctca_errbuf *eb)
{
    memset(res, 0, sizeof *res);
    issuance is = {.ca = ca, .req = req, .res = res};
    ctca_err rc;
    if ((rc = prepare(&is, eb)) != CTCA_OK || (rc = journal_and_sign_precert(&is, eb)) != CTCA_OK)
        goto out;
    rc = collect_scts(&is, eb);
    if (rc == CTCA_ERR_POLICY_UNMET) {
        char summary[2048];
        outcomes_summary(res, summary, sizeof summary);
        ctca_errbuf_set(eb, rc, "need SCTs from %u logs of %u operators before the deadline: %s",
                        is.ct->min_scts, is.ct->min_operators, summary);
        if (ctca_store_mark_failed(is.store, res->serial, summary, req->now_ms) != CTCA_OK)
            ctca_errbuf_set(eb, rc, "%s (and recording the failure: %s)", summary,
                            ctca_store_errmsg(is.store));
        goto out;
    }
    if (rc != CTCA_OK)
        goto out;
    rc = sign_final(&is, eb);
out:
    issuance_cleanup(&is);
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
