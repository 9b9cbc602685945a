/* RFC 9162 in certificates (ctca/transparency.h): the Transparency Information
 * extension, the TBS its SCTs cover, and their verification. */
#include "ctca/transparency.h"

#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/cms.h"

ctca_err ctca_tbs_add_transparency_info(ctca_view tbs, ctca_view item_list, uint8_t **out,
                                        size_t *out_len)
{
    ctca_tbs_fields f;
    ctca_ext ext;
    bool found = false;
    ctca_transitem_list check;
    *out = NULL;
    *out_len = 0;
    CTCA_GUARD(ctca_tbs_parse(tbs, &f));
    CTCA_GUARD(ctca_ext_find(f.ext_list, CTCA_OID_TRANSPARENCY_INFO,
                             sizeof CTCA_OID_TRANSPARENCY_INFO, &ext, &found));
    if (found)
        return CTCA_ERR_EXT_DUPLICATE;
    CTCA_GUARD(ctca_transitem_list_parse(item_list, &check));
    ctca_transitem_list_cleanup(&check);

    /* 7.1: non-critical (DEFAULT FALSE, so not encoded), extnValue an OCTET
     * STRING holding the DER OCTET STRING of the TransItemList. */
    uint8_t *ti = NULL;
    size_t ti_len = 0;
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, CTCA_OID_TRANSPARENCY_INFO, sizeof CTCA_OID_TRANSPARENCY_INFO);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, item_list.data, item_list.len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    CTCA_GUARD(ctca_builder_finish(&b, &ti, &ti_len));
    ctca_ext_edit append = {CTCA_OID_TRANSPARENCY_INFO, sizeof CTCA_OID_TRANSPARENCY_INFO,
                            ctca_view_make(ti, ti_len), CTCA_OK};
    ctca_err rc = ctca_tbs_edit(tbs, ctca_view_make(NULL, 0), &append, 1, out, out_len);
    free(ti);
    return rc;
}

/* The Transparency Information extension of a TBS, found. */
static ctca_err find_ti(const ctca_tbs_fields *f, ctca_ext *ext)
{
    bool found = false;
    CTCA_GUARD(ctca_ext_find(f->ext_list, CTCA_OID_TRANSPARENCY_INFO,
                             sizeof CTCA_OID_TRANSPARENCY_INFO, ext, &found));
    return found ? CTCA_OK : CTCA_ERR_NO_TRANSPARENCY_INFO;
}

ctca_err ctca_cert_get_transparency_info(ctca_view cert, ctca_transitem_list *out)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ctca_ext ext;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    CTCA_GUARD(find_ti(&f, &ext));
    ctca_view v = ext.value, list;
    CTCA_GUARD(ctca_der_get(&v, CTCA_DER_OCTET_STRING, &list));
    CTCA_GUARD(ctca_view_expect_empty(v));
    return ctca_transitem_list_parse(list, out);
}

ctca_err ctca_v2_tbs_from_final(ctca_view cert, uint8_t **tbs, size_t *tbs_len)
{
    ctca_cert_parts parts;
    ctca_tbs_fields f;
    ctca_ext ext;
    *tbs = NULL;
    *tbs_len = 0;
    CTCA_GUARD(ctca_cert_get_tbs_fields(cert, &parts, &f));
    CTCA_GUARD(find_ti(&f, &ext));
    /* 8.1.2: both kinds of embedded SCTs go, so v1 and v2 SCTs can coexist. */
    ctca_ext_edit edits[2] = {
        {CTCA_OID_TRANSPARENCY_INFO, sizeof CTCA_OID_TRANSPARENCY_INFO, {NULL, 0},
         CTCA_ERR_NO_TRANSPARENCY_INFO},
        {CTCA_OID_CT_SCT_LIST, sizeof CTCA_OID_CT_SCT_LIST, {NULL, 0}, CTCA_OK},
    };
    return ctca_tbs_edit(parts.tbs, ctca_view_make(NULL, 0), edits, 2, tbs, tbs_len);
}

void ctca_v2_checks_cleanup(ctca_v2_checks *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        ctca_transitem_cleanup(&c->items[i].sct);
    free(c->items);
    memset(c, 0, sizeof *c);
}

ctca_err ctca_embedded_sct_v2_verify(const ctca_transitem *sct, const ctca_log_v2 *log,
                                     const ctca_entry_v2 *entry, uint64_t now_ms)
{
    /* 7.1.2: an SCT in a certificate is about its precertificate. */
    if (sct->type != CTCA_TT_PRECERT_SCT_V2)
        return CTCA_ERR_TRANSITEM_WRONG_TYPE;
    if (log == NULL)
        return CTCA_ERR_SCT_UNKNOWN_LOG;
    return ctca_sct_v2_verify(sct, log, entry, now_ms);
}

ctca_err ctca_final_cert_check_v2(ctca_view final, ctca_view cms,
                                  const uint8_t issuer_key_hash[CTCA_HASH_LEN],
                                  const ctca_log_v2 *logs, size_t n_logs, uint64_t now_ms,
                                  ctca_errbuf *eb)
{
    ctca_cms_precert p;
    ctca_transitem_list items = {NULL, 0};
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    ctca_err rc;
    if ((rc = ctca_cms_precert_parse(cms, &p)) != CTCA_OK ||
        (rc = ctca_v2_tbs_from_final(final, &tbs, &tbs_len)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reconstructing the TBS: %s", ctca_err_str(rc));
        goto out;
    }
    if (!ctca_view_eq(ctca_view_make(tbs, tbs_len), p.tbs)) {
        rc = ctca_errbuf_set(eb, CTCA_ERR_TBS_MISMATCH,
                             "final TBS minus 1.3.101.75 differs from the CMS eContent");
        goto out;
    }
    if ((rc = ctca_cert_get_transparency_info(final, &items)) != CTCA_OK) {
        ctca_errbuf_set(eb, rc, "reading the Transparency Information: %s", ctca_err_str(rc));
        goto out;
    }
    ctca_entry_v2 entry = {.tbs = p.tbs};
    memcpy(entry.issuer_key_hash, issuer_key_hash, CTCA_HASH_LEN);
    for (size_t i = 0; i < items.n; i++) {
        const ctca_log_v2 *log = NULL;
        for (size_t k = 0; k < n_logs && log == NULL; k++)
            if (ctca_log_id_v2_eq(&logs[k].log_id, &items.items[i].log_id))
                log = &logs[k];
        rc = ctca_embedded_sct_v2_verify(&items.items[i], log, &entry, now_ms);
        if (rc != CTCA_OK) {
            ctca_errbuf_set(eb, rc, "embedded TransItem %zu (%s): %s", i,
                            ctca_trans_type_name(items.items[i].type), ctca_err_str(rc));
            goto out;
        }
    }
out:
    ctca_transitem_list_cleanup(&items);
    free(tbs);
    return rc;
}
