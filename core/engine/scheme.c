/* The CT-version schemes (ctca/scheme.h, core/engine/scheme_int.h): RFC 6962
 * and RFC 9162, each a table of what the pipeline does differently. This is
 * the one file of the engine that knows which version is which. */
#include "core/engine/scheme_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/ct/cms_int.h"
#include "core/x509/x509_int.h"
#include "ctca/cms.h"
#include "ctca/transparency.h"

void ctca_ct_entry_cleanup(ctca_ct_entry *e)
{
    free(e->tbs_owned);
    memset(e, 0, sizeof *e);
}

/* RFC 6962 4.1, RFC 9162 5.1: the entry, then what ca.pem holds. */
static void chain_from(const ctca_ca *ca, ctca_view first, ctca_ct_entry *e)
{
    e->chain_len = 1 + ctca_ca_chain_len(ca);
    e->chain[0] = first;
    for (size_t i = 1; i < e->chain_len; i++)
        e->chain[i] = ctca_ca_get0_chain_cert(ca, i - 1);
}

/* An SCT dated long before its certificate was made (1970, say) is a log's
 * fault even when its signature verifies. */
static ctca_err check_not_early(const ctca_ct_entry *e, uint64_t timestamp)
{
    if (e->not_before_ms > CTCA_SCT_CLOCK_SKEW_MS &&
        timestamp < (uint64_t)(e->not_before_ms - CTCA_SCT_CLOCK_SKEW_MS))
        return CTCA_ERR_SCT_TOO_EARLY;
    return CTCA_OK;
}

/* ---- RFC 6962 ------------------------------------------------------------------ */

static ctca_err v1_check_request(const ctca_ca *ca, const char *profile, bool preca,
                                 ctca_errbuf *eb)
{
    (void)ca;
    (void)profile;
    (void)preca;
    (void)eb;
    return CTCA_OK;
}

static ctca_err v1_build_tbs(const ctca_ca *ca, const ctca_profile *profile, const ctca_csr *csr,
                             const uint8_t *serial, size_t serial_len, int64_t now_s, bool preca,
                             uint8_t **out, size_t *out_len, ctca_errbuf *eb)
{
    CTCA_GUARD(ctca_tbs_build_precert(ca, profile, csr, serial, serial_len, now_s, out, out_len,
                                      eb));
    if (!preca)
        return CTCA_OK;
    /* The journal holds what is signed: the TBS as the PreCA issues it. */
    uint8_t *direct = *out;
    ctca_err rc = ctca_tbs_to_preca(ca, ctca_view_make(direct, *out_len), out, out_len, eb);
    free(direct);
    return rc;
}

static ctca_err v1_sign_precert(const ctca_ca *ca, bool preca, ctca_view tbs, uint8_t **out,
                                size_t *out_len)
{
    return preca ? ctca_preca_sign_tbs(ca, tbs, out, out_len)
                 : ctca_ca_sign_tbs(ca, tbs, out, out_len);
}

static ctca_err v1_precert_entry(const ctca_ca *ca, ctca_view tbs, ctca_view precert,
                                 ctca_ct_entry *e)
{
    (void)tbs;
    /* RFC 6962 3.2 and 4.2: the TBS the logs sign (rewritten to the final
     * issuer when a PreCA signed) and the chain: the precertificate, the
     * PreCA if any, then what ca.pem holds. The issuer key hash is the final
     * issuer's either way. */
    CTCA_GUARD(ctca_ca_precert_entry(ca, precert, &e->tbs_owned, &e->tbs_owned_len, e->chain,
                                     &e->chain_len, &e->preca));
    e->type = CTCA_ENTRY_PRECERT;
    e->v1.type = CTCA_ENTRY_PRECERT;
    e->v1.tbs = ctca_view_make(e->tbs_owned, e->tbs_owned_len);
    memcpy(e->v1.issuer_key_hash, ctca_ca_get0_issuer_key_hash(ca), CTCA_LOG_ID_LEN);
    return CTCA_OK;
}

static ctca_err v1_cert_entry(const ctca_ca *ca, ctca_view cert, ctca_ct_entry *e)
{
    e->type = CTCA_ENTRY_X509;
    e->v1.type = CTCA_ENTRY_X509;
    e->v1.leaf_cert = cert;
    chain_from(ca, cert, e);
    return CTCA_OK;
}

static ctca_err v1_verify(const ctca_ct_entry *e, const ctca_log_info *log,
                          const ctca_log_key *key, ctca_view bytes, uint64_t now_ms, bool keep,
                          ctca_ct_answer *a)
{
    (void)log;
    ctca_sct sct = {0};
    ctca_err rc = ctca_sct_parse(bytes, &sct);
    if (rc == CTCA_OK)
        rc = ctca_sct_verify(&sct, key, &e->v1, now_ms);
    if (rc == CTCA_OK)
        rc = check_not_early(e, sct.timestamp);
    a->timestamp = sct.timestamp;
    if (rc == CTCA_OK && keep) {
        a->sct = sct;
        a->has_sct = true;
        return CTCA_OK;
    }
    ctca_sct_cleanup(&sct);
    return rc;
}

static ctca_err v1_final_tbs(ctca_view base, const ctca_view *scts, size_t n, uint8_t **out,
                             size_t *out_len)
{
    ctca_sct *parsed = calloc(n + 1, sizeof *parsed);
    uint8_t *list = NULL;
    size_t list_len = 0, k = 0;
    if (parsed == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_OK;
    for (; k < n && rc == CTCA_OK; k++)
        rc = ctca_sct_parse(scts[k], &parsed[k]);
    /* RFC 6962 3.3: the poison's place takes the SCT list. */
    if (rc == CTCA_OK && (rc = ctca_sct_list_serialize(parsed, n, &list, &list_len)) == CTCA_OK)
        rc = ctca_tbs_precert_to_final(base, ctca_view_make(list, list_len), out, out_len);
    for (size_t i = 0; i < k; i++)
        ctca_sct_cleanup(&parsed[i]);
    free(parsed);
    free(list);
    return rc;
}

static ctca_err v1_release_check(ctca_view final, ctca_view precert, ctca_view preca,
                                 const uint8_t issuer_key_hash[CTCA_HASH_LEN],
                                 const ctca_log_info *const *logs, size_t n,
                                 const ctca_sct_memo *memo, uint64_t now_ms, ctca_errbuf *eb)
{
    ctca_log_key **keys = calloc(n + 1, sizeof *keys);
    if (keys == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        keys[i] = logs[i]->key; /* borrowed from the list */
    ctca_err rc =
        ctca_final_cert_check(final, precert, preca, issuer_key_hash, keys, n, memo, now_ms, eb);
    free(keys);
    return rc;
}

static ctca_view v1_unembedded_tbs(ctca_view journaled_tbs, const ctca_ct_entry *e)
{
    (void)journaled_tbs;
    return e->v1.tbs; /* the precertificate's TBS minus the poison */
}

static ctca_err v1_final_base(const ctca_ca *ca, const ctca_ct_entry *e, ctca_view tbs,
                              uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    return e->preca ? ctca_tbs_from_preca(ca, tbs, out, out_len) : CTCA_OK;
}

static const struct ctca_scheme_ops v1_ops = {
    .endpoint = {[CTCA_ENTRY_X509] = CTCA_CT_ADD_CHAIN, [CTCA_ENTRY_PRECERT] = CTCA_CT_ADD_PRE_CHAIN},
    .check_request = v1_check_request,
    .build_tbs = v1_build_tbs,
    .sign_precert = v1_sign_precert,
    .precert_entry = v1_precert_entry,
    .cert_entry = v1_cert_entry,
    .verify = v1_verify,
    .final_tbs = v1_final_tbs,
    .release_check = v1_release_check,
    .unembedded_tbs = v1_unembedded_tbs,
    .final_base = v1_final_base,
};

/* ---- RFC 9162 ------------------------------------------------------------------ */

static ctca_err v2_check_request(const ctca_ca *ca, const char *profile, bool preca,
                                 ctca_errbuf *eb)
{
    if (preca)
        return ctca_errbuf_set(eb, CTCA_ERR_PRECA,
                               "CT 2.0 (RFC 9162) has no Precertificate Signing Certificate, and "
                               "this CA signs profile %s's precertificates with one: issue with "
                               "CT 1.0, or set \"preca\": false in the profile",
                               profile);
    ctca_err rc = ctca_ca_check_cms_signer(ca);
    if (rc != CTCA_OK)
        return ctca_errbuf_set(eb, rc, "CT 2.0 needs a CA that signs with SHA-256 (RFC 9162 "
                               "3.2 pairs the CMS SHA-256 digest with the TBS's signature "
                               "algorithm); this CA's key does not");
    return CTCA_OK;
}

static ctca_err v2_build_tbs(const ctca_ca *ca, const ctca_profile *profile, const ctca_csr *csr,
                             const uint8_t *serial, size_t serial_len, int64_t now_s, bool preca,
                             uint8_t **out, size_t *out_len, ctca_errbuf *eb)
{
    (void)preca;
    return ctca_tbs_build_v2(ca, profile, csr, serial, serial_len, now_s, out, out_len, eb);
}

static ctca_err v2_sign_precert(const ctca_ca *ca, bool preca, ctca_view tbs, uint8_t **out,
                                size_t *out_len)
{
    (void)preca;
    return ctca_ca_sign_cms_precert(ca, tbs, out, out_len);
}

static ctca_err v2_precert_entry(const ctca_ca *ca, ctca_view tbs, ctca_view precert,
                                 ctca_ct_entry *e)
{
    /* RFC 9162 3.2: the logs sign the CMS eContent, the journaled TBS; 5.1:
     * the precertificate, then the chain to a root the log accepts. */
    if ((e->tbs_owned = malloc(tbs.len > 0 ? tbs.len : 1)) == NULL)
        return CTCA_ERR_NOMEM;
    memcpy(e->tbs_owned, tbs.data, tbs.len);
    e->tbs_owned_len = tbs.len;
    e->type = CTCA_ENTRY_PRECERT;
    e->v2.tbs = ctca_view_make(e->tbs_owned, e->tbs_owned_len);
    memcpy(e->v2.issuer_key_hash, ctca_ca_get0_issuer_key_hash(ca), CTCA_HASH_LEN);
    chain_from(ca, precert, e);
    return CTCA_OK;
}

static ctca_err v2_cert_entry(const ctca_ca *ca, ctca_view cert, ctca_ct_entry *e)
{
    /* RFC 9162 8.1.3: a certificate's entry is its own TBS. */
    ctca_cert_parts parts;
    CTCA_GUARD(ctca_cert_split(cert, &parts));
    e->type = CTCA_ENTRY_X509;
    e->v2.tbs = parts.tbs;
    memcpy(e->v2.issuer_key_hash, ctca_ca_get0_issuer_key_hash(ca), CTCA_HASH_LEN);
    chain_from(ca, cert, e);
    return CTCA_OK;
}

static ctca_err v2_verify(const ctca_ct_entry *e, const ctca_log_info *log,
                          const ctca_log_key *key, ctca_view bytes, uint64_t now_ms, bool keep,
                          ctca_ct_answer *a)
{
    (void)keep;
    ctca_trans_type want =
        e->type == CTCA_ENTRY_PRECERT ? CTCA_TT_PRECERT_SCT_V2 : CTCA_TT_X509_SCT_V2;
    ctca_transitem it;
    CTCA_GUARD(ctca_transitem_parse_as(bytes, want, want, &it));
    ctca_log_v2 v2 = {.log_id = log->log_id_v2, .key = key};
    ctca_err rc = ctca_sct_v2_verify(&it, &v2, &e->v2, now_ms);
    if (rc == CTCA_OK)
        rc = check_not_early(e, it.timestamp);
    a->timestamp = it.timestamp;
    ctca_transitem_cleanup(&it);
    return rc;
}

static ctca_err v2_final_tbs(ctca_view base, const ctca_view *scts, size_t n, uint8_t **out,
                             size_t *out_len)
{
    ctca_transitem *parsed = calloc(n + 1, sizeof *parsed);
    uint8_t *list = NULL;
    size_t list_len = 0, k = 0;
    if (parsed == NULL)
        return CTCA_ERR_NOMEM;
    ctca_err rc = CTCA_OK;
    for (; k < n && rc == CTCA_OK; k++)
        rc = ctca_transitem_parse(scts[k], &parsed[k]);
    /* RFC 9162 7.1.2: the Transparency Information follows the eContent's
     * extensions. */
    if (rc == CTCA_OK &&
        (rc = ctca_transitem_list_serialize(parsed, n, &list, &list_len)) == CTCA_OK)
        rc = ctca_tbs_add_transparency_info(base, ctca_view_make(list, list_len), out, out_len);
    for (size_t i = 0; i < k; i++)
        ctca_transitem_cleanup(&parsed[i]);
    free(parsed);
    free(list);
    return rc;
}

static ctca_err v2_release_check(ctca_view final, ctca_view precert, ctca_view preca,
                                 const uint8_t issuer_key_hash[CTCA_HASH_LEN],
                                 const ctca_log_info *const *logs, size_t n,
                                 const ctca_sct_memo *memo, uint64_t now_ms, ctca_errbuf *eb)
{
    (void)preca;
    (void)memo;
    ctca_log_v2 *v2 = calloc(n + 1, sizeof *v2);
    if (v2 == NULL)
        return CTCA_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        v2[i].log_id = logs[i]->log_id_v2;
        v2[i].key = logs[i]->key;
    }
    ctca_err rc = ctca_final_cert_check_v2(final, precert, issuer_key_hash, v2, n, now_ms, eb);
    free(v2);
    return rc;
}

static ctca_view v2_unembedded_tbs(ctca_view journaled_tbs, const ctca_ct_entry *e)
{
    (void)e;
    return journaled_tbs; /* the CMS eContent */
}

static ctca_err v2_final_base(const ctca_ca *ca, const ctca_ct_entry *e, ctca_view tbs,
                              uint8_t **out, size_t *out_len)
{
    (void)ca;
    (void)e;
    (void)tbs;
    *out = NULL;
    *out_len = 0;
    return CTCA_OK;
}

static const struct ctca_scheme_ops v2_ops = {
    .endpoint = {[CTCA_ENTRY_X509] = CTCA_CT_SUBMIT_ENTRY_X509,
                 [CTCA_ENTRY_PRECERT] = CTCA_CT_SUBMIT_ENTRY_PRECERT},
    .check_request = v2_check_request,
    .build_tbs = v2_build_tbs,
    .sign_precert = v2_sign_precert,
    .precert_entry = v2_precert_entry,
    .cert_entry = v2_cert_entry,
    .verify = v2_verify,
    .final_tbs = v2_final_tbs,
    .release_check = v2_release_check,
    .unembedded_tbs = v2_unembedded_tbs,
    .final_base = v2_final_base,
};

/* ---- the tables ------------------------------------------------------------------- */

static const ctca_ct_scheme schemes[] = {
    {.ct_version = 1, .name = "RFC 6962", .logs = "RFC 6962", .scts = "SCTs",
     .precert_pem_label = "CERTIFICATE", .precert_is_certificate = true, .tls_extension = true,
     .preca = true, .log_id_oid = false, .log_id_field = "log_id", .sct_tag = "",
     .ops = &v1_ops},
    {.ct_version = 2, .name = "RFC 9162", .logs = "RFC 9162 (ct_version 2)",
     .scts = "RFC 9162 SCTs", .precert_pem_label = "CMS", .precert_is_certificate = false,
     .tls_extension = false, .preca = false, .log_id_oid = true, .log_id_field = "log_id_oid",
     .sct_tag = ", RFC 9162", .ops = &v2_ops},
};

const ctca_ct_scheme *ctca_ct_scheme_for(unsigned ct_version)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].ct_version == ct_version)
            return &schemes[i];
    return NULL;
}

bool ctca_scheme_speaks(const ctca_ct_scheme *s, const ctca_log_info *log)
{
    return log->ct_version == s->ct_version;
}

bool ctca_scheme_owns_sct(const ctca_ct_scheme *s, const ctca_store_sct *sct)
{
    return sct->ct_version >= 0 && (unsigned)sct->ct_version == s->ct_version;
}
