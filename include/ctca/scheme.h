/* ctca/scheme.h - the CT versions ctca speaks, one const table each.
 *
 * RFC 6962 (CT 1.0) and RFC 9162 (CT 2.0) share the issuance pipeline and
 * differ in how the precertificate is signed (the poison extension, or a CMS
 * SignedData), where it is submitted (add-pre-chain, or submit-entry), what
 * a log signs and answers (an SCT, or an SCT TransItem), how SCTs go into the
 * final certificate (the SCT list extension, or Transparency Information)
 * and how that certificate is release-checked. Each version is one
 * ctca_ct_scheme; the engine, the queue, batch signing and the CLI look the
 * record's scheme up once (ctca_ct_scheme_for) and then use its table,
 * never the version number. A third scheme is one more table. */
#ifndef CTCA_SCHEME_H
#define CTCA_SCHEME_H

#include <stdbool.h>

/* The engine's operations for a scheme (core/engine/scheme_int.h). */
struct ctca_scheme_ops;

typedef struct ctca_ct_scheme {
    unsigned ct_version;           /* as records, SCTs and log lists store it */
    const char *name;              /* "RFC 6962", "RFC 9162" */
    const char *logs;              /* its logs, as messages name them */
    const char *scts;              /* its SCTs, as messages name them */
    const char *precert_pem_label; /* "CERTIFICATE", or "CMS" (openssl cms -inform PEM) */
    bool precert_is_certificate;   /* an X.509 certificate (a chain can follow it) */
    bool tls_extension;            /* its SCTs fit TLS's signed_certificate_timestamp
                                      extension (serverinfo files) */
    bool preca;                    /* a Precertificate Signing Certificate may sign it */
    bool log_id_oid;               /* an SCT names its log by OID, not by key hash */
    const char *log_id_field;      /* how JSON output names an SCT's log ID */
    const char *sct_tag;           /* after "SCT n (delivery" in verify's lines */
    const struct ctca_scheme_ops *ops;
} ctca_ct_scheme;

/* ctca_ct_scheme_for: the scheme of ct_version (1 or 2), static; NULL for any
 * other. */
const ctca_ct_scheme *ctca_ct_scheme_for(unsigned ct_version);

#endif
