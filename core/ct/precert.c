/* What a log signed for a precertificate (RFC 6962 3.1-3.2), reconstructed from
 * the precertificate, from the final certificate, or from a precertificate
 * issued by a Precertificate Signing Certificate; and the verification of the
 * SCTs embedded in a final certificate (ctca/sct.h). */
#include "ctca/sct.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"

/* The CT extensions of one TBS, after ctca_tbs_parse refused duplicates. */
typedef struct ct_exts {
    ctca_ext poison, sct_list;
    bool has_poison, has_sct_list;
} ct_exts;

static ctca_err find_ct_exts(const ctca_tbs_fields *f, ct_exts *out)
{
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON,
                             &out->poison, &out->has_poison));
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST,
                             &out->sct_list, &out->has_sct_list));
    /* A precertificate is never a final certificate (RFC 6962 3.1, 3.3). */
    if (out->has_poison && out->has_sct_list)
        return CTCA_ERR_POISON_AND_SCT_LIST;
    return CTCA_OK;
}

/* Parses precert and checks its poison, the guards every precert path shares. */
static ctca_err precert_fields(ctca_view precert, ctca_cert_parts *parts, ctca_tbs_fields *f)
{
    ct_exts ct;
    CTCA_GUARD(ctca_cert_get_tbs_fields(precert, parts, f));
    CTCA_GUARD(find_ct_exts(f, &ct));
    if (!ct.has_poison)
        return CTCA_ERR_NOT_PRECERT;
    if (!ctca_ext_is_valid_poison(&ct.poison))
        return CTCA_ERR_POISON_MALFORMED;
    return CTCA_OK;
}

ctca_err ctca_precert_tbs_from_precert(ctca_view precert, uint8_t **tbs, size_t *tbs_len)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    CTCA_GUARD(precert_fields(precert, &parts, &f));
    return ctca_tbs_replace_ext(parts.tbs, CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON,
                                ctca_view_make(NULL, 0), CTCA_ERR_NOT_PRECERT, tbs, tbs_len);
}

ctca_err ctca_precert_tbs_from_final(ctca_view cert, uint8_t **tbs, size_t *tbs_len)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ct_exts ct;
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    CTCA_GUARD(find_ct_exts(&f, &ct));
    if (!ct.has_sct_list)
        return CTCA_ERR_NO_SCT_LIST;
    return ctca_tbs_replace_ext(parts.tbs, CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST,
                                ctca_view_make(NULL, 0), CTCA_ERR_NO_SCT_LIST, tbs, tbs_len);
}

ctca_err ctca_precert_tbs_from_preca_precert(ctca_view precert, ctca_view preca_cert,
                                             uint8_t **tbs, size_t *tbs_len)
{
    ctca_cert_parts parts, preca_parts;
    ctca_tbs_fields f, preca;
    ctca_ext preca_aki;
    bool preca_has_aki;
    CTCA_GUARD(precert_fields(precert, &parts, &f));
    CTCA_GUARD(ctca_cert_get_tbs_fields(preca_cert, &preca_parts, &preca));
    /* A PreCA that did not issue the precert would yield a TBS no log signed. */
    if (!ctca_view_eq(f.issuer, preca.subject))
        return CTCA_ERR_ISSUER_MISMATCH;
    CTCA_GUARD(ctca_ext_find(preca.ext_list, CTCA_OID_AKI, sizeof CTCA_OID_AKI, &preca_aki,
                             &preca_has_aki));
    /* RFC 6962 3.1: the log signs the TBS as the final issuer will sign it: the
     * issuer is the PreCA's issuer, and the AKI becomes the PreCA's own AKI
     * (which names the final issuer's key). When the PreCA has no AKI, neither
     * will the final certificate; when the precert has none, the PreCA's is
     * added, as logs do. */
    ctca_ext_edit edits[2] = {
        {CTCA_OID_CT_POISON, sizeof CTCA_OID_CT_POISON, {NULL, 0}, CTCA_ERR_NOT_PRECERT},
        {CTCA_OID_AKI, sizeof CTCA_OID_AKI,
         preca_has_aki ? preca_aki.element : ctca_view_make(NULL, 0), CTCA_OK},
    };
    return ctca_tbs_edit(parts.tbs, preca.issuer, edits, 2, tbs, tbs_len);
}

ctca_err ctca_cert_issuer_key_hash(ctca_view issuer_cert, uint8_t out[CTCA_LOG_ID_LEN])
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    CTCA_GUARD(ctca_cert_get_tbs_fields(issuer_cert, &parts, &f));
    if (EVP_Digest(f.spki.data, f.spki.len, out, NULL, EVP_sha256(), NULL) != 1)
        return CTCA_ERR_CRYPTO;
    return CTCA_OK;
}

ctca_err ctca_cert_get_sct_list(ctca_view cert, ctca_sct_list *out)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ct_exts ct;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    CTCA_GUARD(find_ct_exts(&f, &ct));
    if (!ct.has_sct_list)
        return CTCA_ERR_NO_SCT_LIST;
    /* RFC 6962 3.3: extnValue is an OCTET STRING whose contents are the DER of
     * another OCTET STRING holding the TLS-encoded list. */
    ctca_view v = ct.sct_list.value, list;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_OCTET_STRING, &list));
    CTCA_GUARD(ctca_view_expect_empty(v));
    return ctca_sct_list_parse(list, out);
}

ctca_err ctca_cert_check_issuer(ctca_view cert, ctca_view issuer_cert)
{
    ctca_cert_parts parts, iparts;
    ctca_tbs_fields f, issuer;
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    CTCA_GUARD(ctca_cert_get_tbs_fields(issuer_cert, &iparts, &issuer));
    /* RFC 5280 7.1 allows some normalization, but a CA compares its own names
     * byte for byte: they are what it wrote. */
    if (!ctca_view_eq(f.issuer, issuer.subject))
        return CTCA_ERR_ISSUER_MISMATCH;
    return CTCA_OK;
}

void ctca_sct_checks_cleanup(ctca_sct_checks *checks)
{
    if (checks == NULL)
        return;
    for (size_t i = 0; i < checks->n; i++)
        ctca_sct_cleanup(&checks->items[i].sct);
    free(checks->items);
    memset(checks, 0, sizeof *checks);
}

static const ctca_log_key *find_key(const uint8_t log_id[CTCA_LOG_ID_LEN],
                                    const ctca_log_key *const *keys, size_t n_keys)
{
    for (size_t i = 0; i < n_keys; i++)
        if (memcmp(ctca_log_key_get0_id(keys[i]), log_id, CTCA_LOG_ID_LEN) == 0)
            return keys[i];
    return NULL;
}

ctca_err ctca_cert_verify_embedded_scts(ctca_view cert, ctca_view issuer_cert,
                                        const ctca_log_key *const *keys, size_t n_keys,
                                        uint64_t now_ms, ctca_sct_checks *out)
{
    ctca_err rc;
    ctca_sct_list list = {NULL, 0};
    ctca_sct_checks checks = {NULL, 0, 0, 0, 0};
    ctca_signed_entry entry = {.type = CTCA_ENTRY_PRECERT};
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    memset(out, 0, sizeof *out);

    if ((rc = ctca_cert_get_sct_list(cert, &list)) != CTCA_OK ||
        (rc = ctca_cert_check_issuer(cert, issuer_cert)) != CTCA_OK ||
        (rc = ctca_cert_issuer_key_hash(issuer_cert, entry.issuer_key_hash)) != CTCA_OK ||
        (rc = ctca_precert_tbs_from_final(cert, &tbs, &tbs_len)) != CTCA_OK)
        goto out;
    entry.tbs = ctca_view_make(tbs, tbs_len);
    checks.items = calloc(list.n, sizeof *checks.items);
    if (checks.items == NULL) {
        rc = CTCA_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < list.n; i++) {
        ctca_sct_check *c = &checks.items[i];
        /* Ownership of the SCT moves from the list to the result. */
        c->sct = list.scts[i];
        memset(&list.scts[i], 0, sizeof list.scts[i]);
        checks.n++;
        c->key = find_key(c->sct.log_id, keys, n_keys);
        c->status = c->key == NULL ? CTCA_ERR_SCT_UNKNOWN_LOG
                                   : ctca_sct_verify(&c->sct, c->key, &entry, now_ms);
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
    ctca_sct_checks_cleanup(&checks);
    ctca_sct_list_cleanup(&list);
    free(tbs);
    return rc;
}
