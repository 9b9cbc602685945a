/* ctca/deliver.h - delivering the SCTs the store holds for a certificate
 * that does not embed them (issued unembedded, or back-filled into a log):
 * its x509_entry SCTs, as one list in each form a relying party gets them:
 *
 *   - the list itself: a TLS SignedCertificateTimestampList (RFC 6962 3.3)
 *     for a CT 1.0 certificate, an RFC 9162 6.3 TransItemList of x509_sct_v2
 *     items for a CT 2.0 one (`ctca get --scts-out`);
 *   - an OpenSSL serverinfo file carrying it as TLS extension 18 for TLS 1.2
 *     and 1.3 (CT 1.0 only; `ctca get --serverinfo-out`);
 *   - the Extension an OCSP SingleResponse carries it in (singleExtensions:
 *     1.3.6.1.4.1.11129.2.4.5 for CT 1.0, RFC 6962 3.3; 1.3.101.75 for CT
 *     2.0, RFC 9162 7.1.1).
 *
 * `ctca get` and the OCSP responder both deliver through here, so what a
 * file and an OCSP response carry for one serial is the same list. */
#ifndef CTCA_DELIVER_H
#define CTCA_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/error.h"
#include "ctca/store.h"

/* The x509_entry SCTs of one certificate, encoded once. Zero-initialize;
 * ctca_delivery_cleanup releases. */
typedef struct ctca_delivery {
    int ct_version;   /* the certificate's: 1 RFC 6962, 2 RFC 9162 */
    size_t n;         /* SCTs in list; 0: none (list NULL) */
    uint8_t *list;    /* the SignedCertificateTimestampList or TransItemList */
    size_t list_len;
} ctca_delivery;

/* ctca_delivery_from_records: the stored records (borrowed) of entry type
 * x509_entry and CT version ct_version, each parsed strictly and re-encoded
 * in store order into one list, into *out (zeroed first; n 0 when there are
 * none, which is not an error). A record that does not parse keeps its codec
 * error; more than the list caps (CTCA_SCT_LIST_MAX,
 * CTCA_TRANSITEM_LIST_MAX) is CTCA_ERR_SCT_LIST_TOO_LONG or
 * CTCA_ERR_TRANSITEM_LIST_TOO_LONG; a ct_version other than 1 or 2
 * CTCA_ERR_USAGE. */
CTCA_RESULT ctca_delivery_from_records(const ctca_store_sct_list *stored, int ct_version,
                                       ctca_delivery *out);

/* ctca_delivery_load: ctca_delivery_from_records over what
 * ctca_store_list_scts returns for serial (CTCA_ERR_STORE_NOT_FOUND for an
 * unknown serial; ctca_store_errmsg says more about a store error). */
CTCA_RESULT ctca_delivery_load(ctca_store *store, const char *serial, int ct_version,
                               ctca_delivery *out);

/* ctca_delivery_cleanup: frees d's list and zeroes it; accepts a zeroed d. */
void ctca_delivery_cleanup(ctca_delivery *d);

/* ctca_delivery_serverinfo_pem: d's list as an OpenSSL serverinfo file
 * (SSL_CTX_use_serverinfo_file, 's_server -serverinfo'): one PEM block
 * "SERVERINFOV2 FOR signed_certificate_timestamp" holding a 4-byte context
 * (ClientHello, TLS 1.2 ServerHello, TLS 1.3 leaf CertificateEntry, ignored
 * on resumption), the extension type 18 and the length-prefixed list. *pem
 * malloc'd, NUL-terminated, caller frees. No SCTs: CTCA_ERR_SCT_LIST_EMPTY;
 * a list longer than an extension holds (65535 bytes): CTCA_ERR_VALUE_RANGE;
 * a CT version without a serverinfo form: CTCA_ERR_USAGE. */
CTCA_RESULT ctca_delivery_serverinfo_pem(const ctca_delivery *d, char **pem);

/* ctca_delivery_ocsp_extension: the non-critical Extension (RFC 5280 4.1)
 * that carries d's list in an OCSP SingleResponse's singleExtensions: extnID
 * 1.3.6.1.4.1.11129.2.4.5 (CT 1.0) or 1.3.101.75 (CT 2.0), extnValue an
 * OCTET STRING holding the list (both RFCs wrap it once more). *der
 * malloc'd, caller frees. No SCTs: CTCA_ERR_SCT_LIST_EMPTY or
 * CTCA_ERR_TRANSITEM_LIST_EMPTY. */
CTCA_RESULT ctca_delivery_ocsp_extension(const ctca_delivery *d, uint8_t **der,
                                         size_t *der_len);

#endif
