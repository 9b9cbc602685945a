/* Delivering stored SCTs (ctca/deliver.h): the x509_entry SCTs of one
 * certificate as one list, and the serverinfo file and OCSP extension that
 * carry it. One scheme per CT version says how; nothing else here asks which
 * version it has. */
#include "ctca/deliver.h"

#include <stdlib.h>
#include <string.h>

#include "core/x509/x509_int.h"
#include "ctca/sct.h"
#include "ctca/transitem.h"
#include "ctca/util.h"

/* How one CT version delivers. */
typedef struct delivery_scheme {
    int ct_version;
    /* list: records (n >= 1, all of this version) parsed and re-encoded
     * into one list. */
    ctca_err (*list)(const ctca_store_sct *const *records, size_t n, uint8_t **out,
                     size_t *out_len);
    ctca_err empty;             /* the codec's error for a list of none */
    const uint8_t *ocsp_oid;    /* the SingleResponse extension's extnID */
    size_t ocsp_oid_len;
    uint16_t tls_extension;     /* the serverinfo's extension type; 0: no serverinfo */
    const char *serverinfo_label;
} delivery_scheme;

static ctca_view record_bytes(const ctca_store_sct *r)
{
    return ctca_view_make(r->sct, r->sct_len);
}

/* RFC 6962 3.3: SignedCertificateTimestampList. */
static ctca_err v1_list(const ctca_store_sct *const *records, size_t n, uint8_t **out,
                        size_t *out_len)
{
    ctca_sct *scts = calloc(n, sizeof *scts);
    size_t parsed = 0;
    ctca_err rc = scts == NULL ? CTCA_ERR_NOMEM : CTCA_OK;
    for (; rc == CTCA_OK && parsed < n; parsed++)
        if ((rc = ctca_sct_parse(record_bytes(records[parsed]), &scts[parsed])) != CTCA_OK)
            break;
    if (rc == CTCA_OK)
        rc = ctca_sct_list_serialize(scts, n, out, out_len);
    for (size_t i = 0; i < parsed; i++)
        ctca_sct_cleanup(&scts[i]);
    free(scts);
    return rc;
}

/* RFC 9162 6.3: TransItemList. */
static ctca_err v2_list(const ctca_store_sct *const *records, size_t n, uint8_t **out,
                        size_t *out_len)
{
    ctca_transitem *items = calloc(n, sizeof *items);
    size_t parsed = 0;
    ctca_err rc = items == NULL ? CTCA_ERR_NOMEM : CTCA_OK;
    for (; rc == CTCA_OK && parsed < n; parsed++)
        if ((rc = ctca_transitem_parse(record_bytes(records[parsed]), &items[parsed])) !=
            CTCA_OK)
            break;
    if (rc == CTCA_OK)
        rc = ctca_transitem_list_serialize(items, n, out, out_len);
    for (size_t i = 0; i < parsed; i++)
        ctca_transitem_cleanup(&items[i]);
    free(items);
    return rc;
}

static const delivery_scheme schemes[] = {
    {.ct_version = 1,
     .list = v1_list,
     .empty = CTCA_ERR_SCT_LIST_EMPTY,
     .ocsp_oid = CTCA_OID_CT_OCSP_SCT_LIST,
     .ocsp_oid_len = sizeof CTCA_OID_CT_OCSP_SCT_LIST,
     /* signed_certificate_timestamp, RFC 6962 3.3.1 */
     .tls_extension = 18,
     .serverinfo_label = "SERVERINFOV2 FOR signed_certificate_timestamp"},
    /* RFC 9162's transparency_info TLS extension is not one OpenSSL serves. */
    {.ct_version = 2,
     .list = v2_list,
     .empty = CTCA_ERR_TRANSITEM_LIST_EMPTY,
     .ocsp_oid = CTCA_OID_TRANSPARENCY_INFO,
     .ocsp_oid_len = sizeof CTCA_OID_TRANSPARENCY_INFO},
};

static const delivery_scheme *scheme_of(int ct_version)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].ct_version == ct_version)
            return &schemes[i];
    return NULL;
}

ctca_err ctca_delivery_from_records(const ctca_store_sct_list *stored, int ct_version,
                                    ctca_delivery *out)
{
    memset(out, 0, sizeof *out);
    const delivery_scheme *s = scheme_of(ct_version);
    if (s == NULL)
        return CTCA_ERR_USAGE;
    out->ct_version = ct_version;
    if (stored->count == 0)
        return CTCA_OK;
    const ctca_store_sct **picked = calloc(stored->count, sizeof *picked);
    if (picked == NULL)
        return CTCA_ERR_NOMEM;
    size_t n = 0;
    /* The SCTs of the certificate itself, not of its precertificate (those
     * are embedded, or were never enough to embed). */
    for (size_t i = 0; i < stored->count; i++)
        if (stored->items[i].entry_type == CTCA_ENTRY_X509 &&
            stored->items[i].ct_version == ct_version)
            picked[n++] = &stored->items[i];
    ctca_err rc = n > 0 ? s->list(picked, n, &out->list, &out->list_len) : CTCA_OK;
    free(picked);
    if (rc == CTCA_OK)
        out->n = n;
    return rc;
}

ctca_err ctca_delivery_load(ctca_store *store, const char *serial, int ct_version,
                            ctca_delivery *out)
{
    ctca_store_sct_list stored = {0};
    memset(out, 0, sizeof *out);
    CTCA_GUARD(ctca_store_list_scts(store, serial, &stored));
    ctca_err rc = ctca_delivery_from_records(&stored, ct_version, out);
    ctca_store_sct_list_cleanup(&stored);
    return rc;
}

void ctca_delivery_cleanup(ctca_delivery *d)
{
    if (d == NULL)
        return;
    free(d->list);
    memset(d, 0, sizeof *d);
}

/* OpenSSL's serverinfo version 2 context: SSL_EXT_CLIENT_HELLO |
 * SSL_EXT_TLS1_2_SERVER_HELLO | SSL_EXT_TLS1_3_CERTIFICATE |
 * SSL_EXT_IGNORE_ON_RESUMPTION, numerically, so that a client's request is
 * answered in a TLS 1.2 ServerHello or in TLS 1.3's leaf CertificateEntry. */
#define SERVERINFO_CONTEXT 0x11c0u

ctca_err ctca_delivery_serverinfo_pem(const ctca_delivery *d, char **pem)
{
    *pem = NULL;
    const delivery_scheme *s = scheme_of(d->ct_version);
    if (s == NULL || s->tls_extension == 0)
        return CTCA_ERR_USAGE;
    if (d->n == 0)
        return CTCA_ERR_SCT_LIST_EMPTY;
    if (d->list_len > 0xffff)
        return CTCA_ERR_VALUE_RANGE;
    uint8_t *block = NULL;
    size_t block_len = 0;
    ctca_builder b;
    ctca_builder_init(&b, 8 + 0xffff);
    ctca_builder_add_u16(&b, (uint16_t)(SERVERINFO_CONTEXT >> 16));
    ctca_builder_add_u16(&b, (uint16_t)(SERVERINFO_CONTEXT & 0xffff));
    ctca_builder_add_u16(&b, s->tls_extension);
    /* extension_data<0..2^16-1> is the list, its own length prefix included. */
    ctca_builder_open_tls_vec(&b, 2, 0, 0xffff);
    ctca_builder_add_bytes(&b, d->list, d->list_len);
    ctca_builder_close(&b);
    CTCA_GUARD(ctca_builder_finish(&b, &block, &block_len));
    ctca_err rc = ctca_pem_encode(block, block_len, s->serverinfo_label, pem);
    free(block);
    return rc;
}

ctca_err ctca_delivery_ocsp_extension(const ctca_delivery *d, uint8_t **der, size_t *der_len)
{
    *der = NULL;
    *der_len = 0;
    const delivery_scheme *s = scheme_of(d->ct_version);
    if (s == NULL)
        return CTCA_ERR_USAGE;
    if (d->n == 0)
        return s->empty;
    /* Non-critical, so the DEFAULT FALSE is not encoded; the extnValue is
     * the DER OCTET STRING of the list (RFC 6962 3.3, RFC 9162 7.1). */
    ctca_builder b;
    ctca_builder_init(&b, CTCA_DER_MAX_LEN);
    ctca_builder_open_der(&b, CTCA_DER_SEQUENCE);
    ctca_builder_add_der_oid(&b, s->ocsp_oid, s->ocsp_oid_len);
    ctca_builder_open_der(&b, CTCA_DER_OCTET_STRING);
    ctca_builder_add_der(&b, CTCA_DER_OCTET_STRING, d->list, d->list_len);
    ctca_builder_close(&b);
    ctca_builder_close(&b);
    return ctca_builder_finish(&b, der, der_len);
}
