/* The RFC 9162 side of the log: submit-entry's checks (4.2.1, 5.1), v2 SCTs,
 * STHs and inclusion proofs over the same Merkle tree as the v1 side. A log
 * runs one protocol version: RFC 9162 4.1 gives each log one key and one
 * version. */
#include "tests/testlog/testlog.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/cms.h"

const char *tl_problem_name(tl_problem p)
{
    switch (p) {
    case TL_PROBLEM_NONE:
        return "none";
    case TL_PROBLEM_MALFORMED:
        return "malformed";
    case TL_PROBLEM_BAD_SUBMISSION:
        return "badSubmission";
    case TL_PROBLEM_BAD_TYPE:
        return "badType";
    case TL_PROBLEM_BAD_CHAIN:
        return "badChain";
    case TL_PROBLEM_BAD_CERTIFICATE:
        return "badCertificate";
    case TL_PROBLEM_UNKNOWN_ANCHOR:
        return "unknownAnchor";
    case TL_PROBLEM_SHUTDOWN:
        return "shutdown";
    case TL_PROBLEM_INTERNAL:
        break;
    }
    return "internal";
}

void tl_v2_out_cleanup(tl_v2_out *o)
{
    free(o->sct);
    free(o->sth);
    free(o->inclusion);
    memset(o, 0, sizeof *o);
}

/* A refusal: the problem type and the reason. */
static ctca_err refuse(tl_problem *problem, tl_problem p, ctca_errbuf *eb, const char *fmt,
                       const char *arg)
{
    *problem = p;
    return ctca_errbuf_set(eb, CTCA_ERR_USAGE, fmt, arg);
}

/* The submission, checked, with what the log signs for it. */
typedef struct v2_entry {
    uint16_t type;          /* x509_entry_v2 or precert_entry_v2 */
    ctca_view issuer;       /* the certifier's DER: chain[0] or an accepted root */
    ctca_entry_v2 entry;    /* issuer key hash and TBS (borrowing the submission) */
    uint8_t identity[TL_HASH_LEN];
} v2_entry;

/* ---- chain ---------------------------------------------------------------------- */

/* 4.2.1: the chain's links verify, each is a CA, and the last is, or is
 * certified by, an accepted root (any last element when the log has no
 * --roots). x[] gets the parsed chain, freed by the caller. */
static ctca_err check_chain_v2(tl_log *log, const ctca_view *chain, size_t n, X509 **x,
                               tl_problem *problem, ctca_errbuf *eb)
{
    char at[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(at, sizeof at, "chain[%zu]", i);
        if (tl_parse_cert(chain[i], &x[i]) != CTCA_OK)
            return refuse(problem, TL_PROBLEM_BAD_CERTIFICATE, eb, "%s is not a DER certificate",
                          at);
        if (X509_check_ca(x[i]) == 0)
            return refuse(problem, TL_PROBLEM_BAD_CHAIN, eb,
                          "%s is not a CA certificate (cA or keyCertSign)", at);
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (!tl_issued_by(x[i], x[i + 1])) {
            snprintf(at, sizeof at, "chain[%zu]", i + 1);
            return refuse(problem, TL_PROBLEM_BAD_CHAIN, eb, "%s does not certify the element before it",
                          at);
        }
    }
    if (n == 0 || log->n_roots == 0)
        return CTCA_OK;
    for (size_t r = 0; r < log->n_roots; r++)
        if (ctca_view_eq(chain[n - 1], ctca_view_make(log->root_der[r], log->root_der_len[r])) ||
            tl_issued_by(x[n - 1], log->roots[r]))
            return CTCA_OK;
    return refuse(problem, TL_PROBLEM_UNKNOWN_ANCHOR, eb, "%s",
                  "the chain's last element is not, and is not certified by, an accepted root");
}

/* ---- submission ------------------------------------------------------------------- */

/* Is issuer (DER) the certifier of the submission? */
static ctca_err certified_by(bool precert, ctca_view submission, const ctca_cms_precert *cms,
                             ctca_view issuer)
{
    if (precert)
        return ctca_cms_precert_verify(cms, issuer);
    X509 *leaf = NULL, *parent = NULL;
    ctca_err rc = tl_parse_cert(submission, &leaf);
    if (rc == CTCA_OK)
        rc = tl_parse_cert(issuer, &parent);
    if (rc == CTCA_OK && !tl_issued_by(leaf, parent))
        rc = CTCA_ERR_SIG_INVALID;
    X509_free(leaf);
    X509_free(parent);
    return rc;
}

/* Parses the submission and finds its certifier: chain[0], or with an empty
 * chain an accepted root. */
static ctca_err check_submission(tl_log *log, bool precert, ctca_view submission,
                                 const ctca_view *chain, size_t n, v2_entry *e,
                                 tl_problem *problem, ctca_errbuf *eb)
{
    ctca_cms_precert cms;
    memset(&cms, 0, sizeof cms);
    ctca_err rc;
    if (precert) {
        rc = ctca_cms_precert_parse(submission, &cms);
        if (rc != CTCA_OK)
            return refuse(problem, TL_PROBLEM_BAD_SUBMISSION, eb,
                          "not an RFC 9162 3.2 CMS precertificate: %s", ctca_err_str(rc));
        e->entry.tbs = cms.tbs;
    } else {
        ctca_cert_parts parts;
        ctca_tbs_fields f;
        uint8_t *tbs = NULL;
        size_t tbs_len = 0;
        X509 *x = NULL;
        if (tl_parse_cert(submission, &x) != CTCA_OK ||
            ctca_cert_get_tbs_fields(submission, &parts, &f) != CTCA_OK)
            rc = CTCA_ERR_CERT_MALFORMED;
        else
            rc = ctca_precert_tbs_from_precert(submission, &tbs, &tbs_len);
        X509_free(x);
        free(tbs);
        if (rc != CTCA_ERR_NOT_PRECERT)
            return refuse(problem, TL_PROBLEM_BAD_SUBMISSION, eb, "%s",
                          rc == CTCA_OK ? "an RFC 6962 precertificate is not an x509_entry_v2"
                                        : "not a DER certificate");
        e->entry.tbs = parts.tbs;
    }
    if (n > 0) {
        if (certified_by(precert, submission, &cms, chain[0]) != CTCA_OK)
            return refuse(problem, TL_PROBLEM_BAD_CHAIN, eb, "%s",
                          "chain[0] is not the certifier of the submission");
        e->issuer = chain[0];
    } else {
        for (size_t r = 0; r < log->n_roots && e->issuer.len == 0; r++) {
            ctca_view root = ctca_view_make(log->root_der[r], log->root_der_len[r]);
            if (certified_by(precert, submission, &cms, root) == CTCA_OK)
                e->issuer = root;
        }
        if (e->issuer.len == 0)
            return refuse(problem, TL_PROBLEM_UNKNOWN_ANCHOR, eb, "%s",
                          "the chain is empty and no accepted root certified the submission");
    }
    e->type = precert ? CTCA_TT_PRECERT_ENTRY_V2 : CTCA_TT_X509_ENTRY_V2;
    rc = ctca_cert_issuer_key_hash(e->issuer, e->entry.issuer_key_hash);
    if (rc != CTCA_OK)
        return refuse(problem, TL_PROBLEM_BAD_CERTIFICATE, eb, "the certifier: %s",
                      ctca_err_str(rc));
    return CTCA_OK;
}

/* The dedupe identity: the entry type and what the log signs, timestamp aside. */
static ctca_err identity_of(v2_entry *e)
{
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN + 64);
    ctca_builder_add_u16(&b, e->type);
    ctca_builder_add_bytes(&b, e->entry.issuer_key_hash, CTCA_HASH_LEN);
    ctca_builder_add_view(&b, e->entry.tbs);
    uint8_t *id = NULL;
    size_t id_len = 0;
    CTCA_GUARD(ctca_builder_finish(&b, &id, &id_len));
    ctca_err rc = tl_sha256(id, id_len, e->identity);
    free(id);
    return rc;
}

/* ---- artifacts ------------------------------------------------------------------------ */

/* The SCT of a sequenced entry: its type follows the entry's (first two bytes
 * of the leaf, a TransItem). */
static ctca_err sct_of(const tl_log *log, const tl_entry *le, uint8_t **out, size_t *out_len)
{
    uint16_t entry_type = (uint16_t)(le->leaf[0] << 8 | le->leaf[1]);
    ctca_transitem sct = {
        .type = entry_type == CTCA_TT_PRECERT_ENTRY_V2 ? CTCA_TT_PRECERT_SCT_V2
                                                       : CTCA_TT_X509_SCT_V2,
        .log_id = log->log_id_v2,
        .timestamp = le->timestamp,
        .extensions = le->ext,
        .extensions_len = le->ext_len,
        .signature = le->sig,
        .signature_len = le->sig_len,
    };
    return ctca_transitem_serialize(&sct, out, out_len);
}

/* With log->mu held: the STH of a tree of tree_size entries. */
static ctca_err sth_locked(tl_log *log, size_t tree_size, uint8_t **out, size_t *out_len)
{
    ctca_transitem sth = {.type = CTCA_TT_STH_V2, .log_id = log->log_id_v2,
                          .tree_size = tree_size, .timestamp = tl_log_now_ms(log)};
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    CTCA_GUARD(tl_merkle_root(&log->tree, tree_size, sth.root_hash));
    CTCA_GUARD(ctca_sth_v2_signed_input(&sth, &tbs, &tbs_len));
    ctca_err rc = tl_log_sign(log, tbs, tbs_len, true, &sth.signature, &sth.signature_len);
    free(tbs);
    if (rc == CTCA_OK)
        rc = ctca_transitem_serialize(&sth, out, out_len);
    free(sth.signature);
    return rc;
}

/* With log->mu held: the inclusion proof of entry index in a tree of tree_size. */
static ctca_err inclusion_locked(tl_log *log, size_t index, size_t tree_size, uint8_t **out,
                                 size_t *out_len)
{
    tl_proof *proof = malloc(sizeof *proof);
    if (proof == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = tl_merkle_audit_path(&log->tree, index, tree_size, proof);
    if (rc == CTCA_OK && proof->n > CTCA_PROOF_MAX_NODES)
        rc = CTCA_ERR_PROOF_TOO_LONG;
    if (rc == CTCA_OK) {
        ctca_transitem inc = {.type = CTCA_TT_INCLUSION_PROOF_V2, .log_id = log->log_id_v2,
                              .tree_size = tree_size, .leaf_index = index,
                              .path = proof->hash, .path_len = proof->n};
        rc = ctca_transitem_serialize(&inc, out, out_len);
    }
    free(proof);
    return rc;
}

/* With log->mu held: a new entry for e, signed, at the end of the log. */
static ctca_err sequence_v2_locked(tl_log *log, const v2_entry *e, const ctca_view *chain,
                                   size_t n)
{
    tl_entry le;
    memset(&le, 0, sizeof le);
    int64_t ts = (int64_t)tl_log_now_ms(log) + log->sct.time_offset_ms;
    le.timestamp = ts < 0 ? 0 : (uint64_t)ts;
    memcpy(le.identity, e->identity, TL_HASH_LEN);
    le.ext = tl_memdup(NULL, 0);
    ctca_transitem sct = {.type = e->type == CTCA_TT_PRECERT_ENTRY_V2 ? CTCA_TT_PRECERT_SCT_V2
                                                                       : CTCA_TT_X509_SCT_V2,
                          .log_id = log->log_id_v2, .timestamp = le.timestamp,
                          .extensions = le.ext};
    /* 4.7-4.8: the signed input is the leaf, a precert_entry_v2/x509_entry_v2. */
    ctca_err rc = le.ext ? ctca_sct_v2_signed_input(&sct, &e->entry, &le.leaf, &le.leaf_len)
                         : CTCA_ERR_NOMEM;
    if (rc == CTCA_OK)
        rc = tl_log_sign(log, le.leaf, le.leaf_len, true, &le.sig, &le.sig_len);
    /* 4.3: the chain used for verification is kept with the entry. */
    ctca_builder b;
    ctca_builder_init(&b, (size_t)TL_MAX_BODY * 2);
    ctca_builder_open_tls_vec(&b, 3, 0, 0xffffff);
    ctca_builder_open_tls_vec(&b, 3, 1, 0xffffff);
    ctca_builder_add_view(&b, e->issuer);
    ctca_builder_close(&b);
    for (size_t i = 1; i < n; i++) {
        ctca_builder_open_tls_vec(&b, 3, 1, 0xffffff);
        ctca_builder_add_view(&b, chain[i]);
        ctca_builder_close(&b);
    }
    ctca_builder_close(&b);
    if (rc == CTCA_OK)
        rc = ctca_builder_finish(&b, &le.extra, &le.extra_len);
    ctca_builder_cleanup(&b);
    if (rc == CTCA_OK)
        rc = tl_log_append_locked(log, &le);
    if (rc != CTCA_OK) {
        free(le.leaf);
        free(le.extra);
        free(le.ext);
        free(le.sig);
    }
    return rc;
}

ctca_err tl_log_submit_v2(tl_log *log, bool precert, ctca_view submission, const ctca_view *chain,
                          size_t n, tl_v2_out *out, tl_problem *problem, ctca_errbuf *eb)
{
    X509 *x[TL_MAX_CHAIN] = {0};
    v2_entry e;
    memset(&e, 0, sizeof e);
    memset(out, 0, sizeof *out);
    *problem = TL_PROBLEM_NONE;
    ctca_err rc;
    if (n > TL_MAX_CHAIN) {
        rc = refuse(problem, TL_PROBLEM_BAD_CHAIN, eb, "%s", "chain too long");
        goto out;
    }
    if ((rc = check_chain_v2(log, chain, n, x, problem, eb)) != CTCA_OK ||
        (rc = check_submission(log, precert, submission, chain, n, &e, problem, eb)) != CTCA_OK)
        goto out;
    if ((rc = identity_of(&e)) != CTCA_OK)
        goto internal;
    pthread_mutex_lock(&log->mu);
    size_t index = 0;
    out->duplicate = tl_log_find_locked(log, e.identity, &index);
    if (!out->duplicate) {
        index = log->n_entries;
        rc = sequence_v2_locked(log, &e, chain, n);
    }
    /* 5.1: the entry is in the tree already, so sth and inclusion come along. */
    if (rc == CTCA_OK)
        rc = sct_of(log, &log->entries[index], &out->sct, &out->sct_len);
    if (rc == CTCA_OK)
        rc = sth_locked(log, log->n_entries, &out->sth, &out->sth_len);
    if (rc == CTCA_OK)
        rc = inclusion_locked(log, index, log->n_entries, &out->inclusion, &out->inclusion_len);
    pthread_mutex_unlock(&log->mu);
    if (rc == CTCA_OK)
        goto out;
internal:
    *problem = TL_PROBLEM_INTERNAL;
    ctca_errbuf_set(eb, rc, "cannot log the entry: %s", ctca_err_str(rc));
    tl_v2_out_cleanup(out);
out:
    for (size_t i = 0; i < TL_MAX_CHAIN; i++)
        X509_free(x[i]);
    return rc;
}

ctca_err tl_log_sth_v2(tl_log *log, uint8_t **out, size_t *out_len)
{
    pthread_mutex_lock(&log->mu);
    ctca_err rc = sth_locked(log, log->n_entries, out, out_len);
    pthread_mutex_unlock(&log->mu);
    return rc;
}
