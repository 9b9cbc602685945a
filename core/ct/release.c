/* The release check (ctca/release.h): DESIGN.md step 5's proof, before a
 * final certificate is released, that it corresponds byte for byte to its
 * precertificate and that every embedded SCT verifies. */
#include "ctca/release.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/cms.h"

static bool sct_eq(const ctca_sct *a, const ctca_sct *b)
{
    return a->version == b->version && memcmp(a->log_id, b->log_id, CTCA_LOG_ID_LEN) == 0 &&
           a->timestamp == b->timestamp && a->hash_alg == b->hash_alg &&
           a->sig_alg == b->sig_alg &&
           ctca_view_eq(ctca_view_make(a->extensions, a->extensions_len),
                        ctca_view_make(b->extensions, b->extensions_len)) &&
           ctca_view_eq(ctca_view_make(a->signature, a->signature_len),
                        ctca_view_make(b->signature, b->signature_len));
}

/* sct, over entry, with key, is one memo holds as verified. */
static bool memo_has(const ctca_sct_memo *memo, const ctca_signed_entry *entry,
                     const ctca_sct *sct, const ctca_log_key *key)
{
    if (memo == NULL || memo->issuer_key_hash == NULL ||
        memcmp(memo->issuer_key_hash, entry->issuer_key_hash, CTCA_LOG_ID_LEN) != 0 ||
        !ctca_view_eq(memo->tbs, entry->tbs))
        return false;
    for (size_t i = 0; i < memo->n; i++)
        if (memo->keys[i] == key && sct_eq(&memo->scts[i], sct))
            return true;
    return false;
}

/* What the final certificate's TBS must be, less its SCTs or poison: the
 * precertificate's TBS minus the poison, rewritten to the final issuer when
 * preca (non-empty) signed it (RFC 6962 3.2). */
static ctca_err precert_entry_tbs(ctca_view precert, ctca_view preca, uint8_t **tbs,
                                  size_t *tbs_len)
{
    return preca.len > 0 ? ctca_precert_tbs_from_preca_precert(precert, preca, tbs, tbs_len)
                         : ctca_precert_tbs_from_precert(precert, tbs, tbs_len);
}

ctca_err ctca_final_cert_check(ctca_view final, ctca_view precert, ctca_view preca,
                               const uint8_t issuer_key_hash[CTCA_LOG_ID_LEN],
                               ctca_log_key *const *keys, size_t n_keys,
                               const ctca_sct_memo *memo, uint64_t now_ms, ctca_errbuf *eb)
{
    uint8_t *pre_tbs = NULL, *fin_tbs = NULL;
    size_t pre_len = 0, fin_len = 0;
    ctca_sct_list list = {0};
    ctca_err rc;
    if ((rc = precert_entry_tbs(precert, preca, &pre_tbs, &pre_len)) != CTCA_OK ||
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
        if (key == NULL)
            rc = CTCA_ERR_SCT_UNKNOWN_LOG;
        else if (!memo_has(memo, &entry, &list.scts[i], key))
            rc = ctca_sct_verify(&list.scts[i], key, &entry, now_ms);
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

ctca_err ctca_unembedded_cert_check(ctca_view final, ctca_view precert, ctca_view preca,
                                    ctca_errbuf *eb)
{
    uint8_t *pre_tbs = NULL;
    size_t pre_len = 0;
    ctca_cert_parts parts;
    ctca_cms_precert cms;
    /* A CT 2.0 precertificate wraps the very TBS the certificate must have. */
    bool v2 = ctca_cms_precert_parse(precert, &cms) == CTCA_OK;
    ctca_err rc = v2 ? CTCA_OK : precert_entry_tbs(precert, preca, &pre_tbs, &pre_len);
    ctca_view want = v2 ? cms.tbs : ctca_view_make(pre_tbs, pre_len);
    if (rc == CTCA_OK)
        rc = ctca_cert_split(final, &parts);
    if (rc != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reconstructing the TBS: %s", ctca_err_str(rc));
    } else if (!ctca_view_eq(parts.tbs, want)) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_TBS_MISMATCH,
                             v2 ? "certificate TBS differs from the CMS eContent"
                                : "certificate TBS differs from precert TBS minus poison");
    }
    free(pre_tbs);
    return rc;
}
