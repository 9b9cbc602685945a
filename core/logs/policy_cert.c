/* Checking a certificate's SCTs against a log list and a policy
 * (ctca/policy.h, ctca_cert_check_policy). */
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/policy.h"
#include "ctca/transparency.h"

/* ctca/transparency.h: here, since it looks the logs up in a log list. */
ctca_err ctca_cert_verify_embedded_v2(ctca_view cert, ctca_view issuer_cert,
                                      const ctca_log_list *list, uint64_t now_ms,
                                      ctca_v2_checks *out)
{
    ctca_err rc;
    ctca_transitem_list items = {NULL, 0};
    ctca_v2_checks checks = {NULL, 0, 0, 0, 0, 0};
    ctca_entry_v2 entry;
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    memset(out, 0, sizeof *out);
    if ((rc = ctca_cert_get_transparency_info(cert, &items)) != CTCA_OK ||
        (rc = ctca_cert_check_issuer(cert, issuer_cert)) != CTCA_OK ||
        (rc = ctca_cert_issuer_key_hash(issuer_cert, entry.issuer_key_hash)) != CTCA_OK ||
        (rc = ctca_v2_tbs_from_final(cert, &tbs, &tbs_len)) != CTCA_OK)
        goto out;
    entry.tbs = ctca_view_make(tbs, tbs_len);
    checks.items = calloc(items.n, sizeof *checks.items);
    if (checks.items == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < items.n; i++) {
        if (!ctca_transitem_is_sct(&items.items[i])) {
            checks.n_other++;
            continue;
        }
        ctca_v2_sct_check *c = &checks.items[checks.n++];
        /* Ownership of the item moves from the list to the result. */
        c->sct = items.items[i];
        memset(&items.items[i], 0, sizeof items.items[i]);
        c->log = ctca_log_list_find_oid(list, &c->sct.log_id);
        ctca_log_v2 log = {.log_id = c->sct.log_id, .key = c->log ? c->log->key : NULL};
        c->status = ctca_embedded_sct_v2_verify(&c->sct, c->log && c->log->key ? &log : NULL, &entry, now_ms);
        if (c->status == CTCA_OK)
            checks.n_valid++;
        else if (c->status == CTCA_ERR_SCT_UNKNOWN_LOG)
            checks.n_unknown++;
        else
            checks.n_invalid++;
    }
    *out = checks;
    memset(&checks, 0, sizeof checks);
out:
    ctca_v2_checks_cleanup(&checks);
    ctca_transitem_list_cleanup(&items);
    free(tbs);
    return rc;
}

static ctca_err cert_validity(ctca_view cert, int64_t *nb_ms, int64_t *na_ms)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    ctca_view v = f.validity, inner;
    int64_t nb, na;
    CTCA_GUARD(ctca_der_get(&v, 0x30, &inner));
    CTCA_GUARD(ctca_der_get_time(&inner, &nb));
    CTCA_GUARD(ctca_der_get_time(&inner, &na));
    CTCA_GUARD(ctca_view_expect_empty(inner));
    *nb_ms = nb * 1000;
    *na_ms = na * 1000;
    return CTCA_OK;
}

/* The keys of every log in list that has a usable key, then extra. */
static ctca_err collect_keys(const ctca_log_list *list, const ctca_log_key *const *extra,
                             size_t n_extra, ctca_log_key ***owned, size_t *n_owned,
                             const ctca_log_key ***all, size_t *n_all)
{
    *owned = calloc(list->n_logs + 1, sizeof **owned);
    *all = calloc(list->n_logs + n_extra + 1, sizeof **all);
    if (*owned == NULL || *all == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < list->n_logs; i++) {
        ctca_log_key *k = NULL;
        /* A key the list carries but ctca cannot use leaves that log unknown. */
        if (ctca_log_key_from_spki(ctca_view_make(list->logs[i].key_der, list->logs[i].key_len),
                                   &k) != CTCA_OK)
            continue;
        (*owned)[(*n_owned)++] = k;
        (*all)[(*n_all)++] = k;
    }
    for (size_t i = 0; i < n_extra; i++)
        (*all)[(*n_all)++] = extra[i];
    return CTCA_OK;
}

static const ctca_log_key *key_for(const ctca_log_key *const *keys, size_t n,
                                   const uint8_t *log_id)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(ctca_log_key_get0_id(keys[i]), log_id, CTCA_LOG_ID_LEN) == 0)
            return keys[i];
    return NULL;
}

static void tally_status(ctca_cert_policy_report *r, ctca_err status)
{
    if (status == CTCA_OK)
        r->n_valid++;
    else if (status == CTCA_ERR_SCT_UNKNOWN_LOG)
        r->n_unknown++;
    else
        r->n_invalid++;
}

/* Moves the SCTs of l into r's items, verifying each as an x509_entry of cert. */
static void add_x509_scts(ctca_cert_policy_report *r, ctca_sct_list *l, ctca_sct_delivery d,
                          ctca_view cert, const ctca_log_key *const *keys, size_t n_keys,
                          int64_t at_ms)
{
    ctca_signed_entry x509 = {CTCA_ENTRY_X509, cert, {0}, {NULL, 0}};
    for (size_t i = 0; i < l->n; i++) {
        ctca_policy_sct_check *c = &r->items[r->n++];
        c->sct = l->scts[i]; /* moved: l no longer owns it */
        memset(&l->scts[i], 0, sizeof l->scts[i]);
        c->ct_version = 1;
        c->delivery = d;
        const ctca_log_key *k = key_for(keys, n_keys, c->sct.log_id);
        c->status = k == NULL ? CTCA_ERR_SCT_UNKNOWN_LOG
                              : ctca_sct_verify(&c->sct, k, &x509, (uint64_t)at_ms);
    }
}

/* The SCT list of the OCSP response (an empty list when it carries none). */
static ctca_err ocsp_scts(const ctca_cert_policy_input *in, ctca_cert_policy_report *r,
                          ctca_sct_list *out, ctca_errbuf *eb)
{
    ctca_view list;
    ctca_errbuf inner = {{0}};
    ctca_err rc = ctca_ocsp_response_check(in->ocsp_response, in->cert, in->issuer_cert,
                                           &r->ocsp, &list, &inner);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "OCSP response: %s", inner.msg);
    r->has_ocsp = true;
    if (list.len > 0 && (rc = ctca_sct_list_parse(list, out)) != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "OCSP response: SCT list: %s", ctca_err_str(rc));
    return CTCA_OK;
}

ctca_err ctca_cert_check_policy(const ctca_cert_policy_input *in, const ctca_log_list *list,
                                const ctca_policy *policy, int64_t at_ms,
                                ctca_cert_policy_report *out, ctca_errbuf *eb)
{
    ctca_err rc;
    ctca_log_key **owned = NULL;
    const ctca_log_key **all = NULL;
    size_t n_owned = 0, n_all = 0;
    ctca_sct_checks emb = {NULL, 0, 0, 0, 0};
    ctca_v2_checks emb2 = {NULL, 0, 0, 0, 0, 0};
    ctca_sct_list tls = {NULL, 0}, ocsp = {NULL, 0};
    ctca_policy_sct *valid = NULL;
    ctca_cert_policy_report r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);

    if ((rc = cert_validity(in->cert, &r.not_before_ms, &r.not_after_ms)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "certificate validity: %s", ctca_err_str(rc));
        goto out;
    }
    if ((rc = collect_keys(list, in->extra_keys, in->n_extra, &owned, &n_owned, &all, &n_all)) !=
        CTCA_OK)
        goto out;
    if ((rc = ctca_cert_check_issuer(in->cert, in->issuer_cert)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "%s", ctca_err_str(rc));
        goto out;
    }
    rc = ctca_cert_verify_embedded_scts(in->cert, in->issuer_cert, all, n_all, (uint64_t)at_ms,
                                        &emb);
    if (rc == CTCA_ERR_NO_SCT_LIST) {
        rc = CTCA_OK; /* no embedded SCTs: the verdict says what is missing */
    } else if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "embedded SCTs: %s", ctca_err_str(rc));
        goto out;
    }
    rc = ctca_cert_verify_embedded_v2(in->cert, in->issuer_cert, list, (uint64_t)at_ms, &emb2);
    if (rc == CTCA_ERR_NO_TRANSPARENCY_INFO) {
        rc = CTCA_OK;
    } else if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "Transparency Information (RFC 9162 SCTs): %s",
                        ctca_err_str(rc));
        goto out;
    }
    if (in->tls_sct_list.len > 0 && (rc = ctca_sct_list_parse(in->tls_sct_list, &tls)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "TLS SCT list: %s", ctca_err_str(rc));
        goto out;
    }
    if (in->ocsp_response.len > 0 && (rc = ocsp_scts(in, &r, &ocsp, eb)) != CTCA_OK)
        goto out;
    r.items = calloc(emb.n + emb2.n + tls.n + ocsp.n + 1, sizeof *r.items);
    valid = calloc(emb.n + emb2.n + tls.n + ocsp.n + 1, sizeof *valid);
    if (r.items == NULL || valid == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    size_t n_valid = 0;
    for (size_t i = 0; i < emb.n; i++) {
        ctca_policy_sct_check *c = &r.items[r.n++];
        c->sct = emb.items[i].sct; /* moved: emb no longer owns it */
        memset(&emb.items[i].sct, 0, sizeof emb.items[i].sct);
        c->ct_version = 1;
        c->delivery = CTCA_SCT_EMBEDDED;
        c->status = emb.items[i].status;
    }
    for (size_t i = 0; i < emb2.n; i++) {
        ctca_policy_sct_check *c = &r.items[r.n++];
        c->ct_version = 2;
        c->sct_v2 = emb2.items[i].sct; /* moved: emb2 no longer owns it */
        memset(&emb2.items[i].sct, 0, sizeof emb2.items[i].sct);
        /* The policy counts logs by their key hash, whichever the version. */
        c->sct.timestamp = c->sct_v2.timestamp;
        if (emb2.items[i].log != NULL)
            memcpy(c->sct.log_id, emb2.items[i].log->log_id, CTCA_LOG_ID_LEN);
        c->delivery = CTCA_SCT_EMBEDDED;
        c->status = emb2.items[i].status;
    }
    add_x509_scts(&r, &tls, CTCA_SCT_TLS, in->cert, all, n_all, at_ms);
    add_x509_scts(&r, &ocsp, CTCA_SCT_OCSP, in->cert, all, n_all, at_ms);
    for (size_t i = 0; i < r.n; i++) {
        ctca_policy_sct_check *c = &r.items[i];
        c->log = c->ct_version == 2 && c->status == CTCA_ERR_SCT_UNKNOWN_LOG
                     ? NULL
                     : ctca_log_list_find(list, c->sct.log_id);
        tally_status(&r, c->status);
        if (c->status != CTCA_OK)
            continue;
        memcpy(valid[n_valid].log_id, c->sct.log_id, CTCA_LOG_ID_LEN);
        valid[n_valid].timestamp_ms = c->sct.timestamp;
        valid[n_valid].delivery = c->delivery;
        n_valid++;
    }
    if ((rc = ctca_policy_evaluate(policy, list, r.not_before_ms, r.not_after_ms, valid, n_valid,
                                   at_ms, &r.result)) != CTCA_OK)
        goto out;
    *out = r;
    memset(&r, 0, sizeof r);
out:
    ctca_cert_policy_report_cleanup(&r);
    ctca_sct_checks_cleanup(&emb);
    ctca_v2_checks_cleanup(&emb2);
    ctca_sct_list_cleanup(&tls);
    ctca_sct_list_cleanup(&ocsp);
    for (size_t i = 0; i < n_owned; i++)
        ctca_log_key_free(owned[i]);
    free(owned);
    free(all);
    free(valid);
    return rc;
}

void ctca_cert_policy_report_cleanup(ctca_cert_policy_report *report)
{
    for (size_t i = 0; i < report->n; i++) {
        ctca_sct_cleanup(&report->items[i].sct);
        ctca_transitem_cleanup(&report->items[i].sct_v2);
    }
    free(report->items);
    memset(report, 0, sizeof *report);
}
