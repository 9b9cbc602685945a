/* core/x509/x509_int.h - internal: splitting X.509 certificates and editing the
 * TBSCertificate without re-encoding anything that is not edited.
 *
 * Everything here reads through ctca_view and writes through ctca_builder.
 * Views returned point into the caller's input (borrowed). Parsing is strict:
 * DER errors come back with their own codes (CTCA_ERR_DER_*, CTCA_ERR_TRUNCATED,
 * CTCA_ERR_TRAILING_DATA); X.509 structure that is well-formed DER but not a
 * valid certificate (bad version, extensions in a v1/v2 certificate, an empty
 * extensions list, an explicitly encoded critical FALSE) is
 * CTCA_ERR_CERT_MALFORMED; a repeated extnID (RFC 5280 4.2) is
 * CTCA_ERR_EXT_DUPLICATE. */
#ifndef CTCA_CORE_X509_INT_H
#define CTCA_CORE_X509_INT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/asn1.h"
#include "ctca/error.h"

/* Encoded OID arcs (no tag, no length); sizeof gives the length. */
extern const uint8_t CTCA_OID_CT_POISON[10];       /* 1.3.6.1.4.1.11129.2.4.3 */
extern const uint8_t CTCA_OID_CT_SCT_LIST[10];     /* 1.3.6.1.4.1.11129.2.4.2 */
extern const uint8_t CTCA_OID_CT_OCSP_SCT_LIST[10]; /* 1.3.6.1.4.1.11129.2.4.5 */
extern const uint8_t CTCA_OID_CT_PRECERT_SIGNING[10]; /* EKU 1.3.6.1.4.1.11129.2.4.4 */
extern const uint8_t CTCA_OID_TRANSPARENCY_INFO[3]; /* 1.3.101.75 (RFC 9162 7.1) */
extern const uint8_t CTCA_OID_AKI[3];              /* 2.5.29.35 */
extern const uint8_t CTCA_OID_SKI[3];              /* 2.5.29.14 */
extern const uint8_t CTCA_OID_EKU[3];              /* 2.5.29.37 */

/* The poison extension exactly as RFC 6962 3.1 wants it: critical, value NULL. */
extern const uint8_t CTCA_CT_POISON_EXT[21];

/* Extensions per certificate we accept: a cap (duplicate detection is
 * quadratic), far above any real certificate. */
#define CTCA_X509_MAX_EXTENSIONS 256

/* A Certificate split into its three parts (RFC 5280 4.1.1). */
typedef struct ctca_cert_parts {
    ctca_view tbs;       /* the TBSCertificate element (tag and length included) */
    ctca_view sig_alg;   /* the signatureAlgorithm element */
    ctca_view signature; /* the signatureValue bits (after the unused-bits octet) */
} ctca_cert_parts;

/* ctca_sig_alg_md: the digest name ("SHA256", "SHA384", "SHA512") of a
 * signatureAlgorithm, given as its AlgorithmIdentifier's contents, when it is
 * PKCS#1 v1.5 (RFC 4055 5: NULL or absent parameters; *rsa true) or ECDSA
 * (RFC 5758 3.2: no parameters) with SHA-2; NULL for any other. */
const char *ctca_sig_alg_md(ctca_view alg, bool *rsa);

/* ctca_cert_split: cert must be exactly one Certificate SEQUENCE. The TBS is
 * only delimited here; ctca_tbs_parse checks it. */
CTCA_RESULT ctca_cert_split(ctca_view cert, ctca_cert_parts *out);

/* The fields of a TBSCertificate (RFC 5280 4.1.2), each the whole element
 * (tag and length included); optional ones have len 0 when absent. */
typedef struct ctca_tbs_fields {
    ctca_view version;     /* [0] EXPLICIT Version, absent for v1 */
    ctca_view serial;      /* INTEGER */
    ctca_view signature;   /* AlgorithmIdentifier */
    ctca_view issuer;      /* Name */
    ctca_view validity;    /* Validity */
    ctca_view subject;     /* Name */
    ctca_view spki;        /* SubjectPublicKeyInfo */
    ctca_view issuer_uid;  /* [1] IMPLICIT */
    ctca_view subject_uid; /* [2] IMPLICIT */
    ctca_view extensions;  /* [3] EXPLICIT Extensions */
    ctca_view ext_list;    /* contents of the Extensions SEQUENCE (each an Extension) */
    unsigned version_num;  /* 0 = v1, 1 = v2, 2 = v3 */
} ctca_tbs_fields;

/* ctca_tbs_parse: tbs must be exactly one TBSCertificate element. Checks every
 * field's DER, the version (v3 when extensions are present), and every
 * extension (ctca_ext_next) including that no extnID repeats. */
CTCA_RESULT ctca_tbs_parse(ctca_view tbs, ctca_tbs_fields *out);

/* One parsed Extension. */
typedef struct ctca_ext {
    ctca_view element; /* the whole Extension element */
    ctca_view oid;     /* extnID arcs */
    bool critical;
    ctca_view value;   /* contents of the extnValue OCTET STRING */
} ctca_ext;

/* ctca_ext_next: reads one Extension from *list (the contents of an
 * Extensions SEQUENCE). A failed read leaves *list unchanged. */
CTCA_RESULT ctca_ext_next(ctca_view *list, ctca_ext *out);

/* ctca_ext_find: the extension of ext_list with extnID oid; *found false when
 * none. CTCA_ERR_EXT_DUPLICATE when two have it. */
CTCA_RESULT ctca_ext_find(ctca_view ext_list, const uint8_t *oid, size_t oid_len,
                          ctca_ext *out, bool *found);

/* ctca_tbs_replace_ext: copies tbs (a DER TBSCertificate element) with the one
 * extension whose extnID is oid replaced by replacement (a complete DER
 * Extension element) in the same position, or removed when replacement.len ==
 * 0 (and when that empties the list, the [3] extensions field is dropped, RFC
 * 5280 requires SIZE(1..MAX)). if_absent is returned when no extension has that
 * oid (with if_absent == CTCA_OK, an unchanged copy is returned);
 * CTCA_ERR_EXT_DUPLICATE when two do. The replacement is checked to be one
 * well-formed Extension. *out malloc'd, caller frees. */
CTCA_RESULT ctca_tbs_replace_ext(ctca_view tbs, const uint8_t *oid, size_t oid_len,
                                 ctca_view replacement, ctca_err if_absent, uint8_t **out,
                                 size_t *out_len);

/* One edit for ctca_tbs_edit. */
typedef struct ctca_ext_edit {
    const uint8_t *oid;
    size_t oid_len;
    ctca_view replacement; /* a complete Extension element; len 0 removes */
    ctca_err if_absent;    /* returned when absent; CTCA_OK: append replacement (if any) */
} ctca_ext_edit;

/* ctca_tbs_edit: the general form: copies tbs with issuer replaced by
 * new_issuer (a Name element) when new_issuer.len > 0, and the edits applied
 * in order (an edit replaces in place, removes, or appends at the end of the
 * list). An emptied list drops the [3] field; a list created on a v1/v2 TBS is
 * CTCA_ERR_CERT_MALFORMED. The result is re-parsed before it is returned, so
 * it never holds a duplicate. *out malloc'd, caller frees. */
CTCA_RESULT ctca_tbs_edit(ctca_view tbs, ctca_view new_issuer, const ctca_ext_edit *edits,
                          size_t n_edits, uint8_t **out, size_t *out_len);

/* ctca_cert_get_tbs_fields: ctca_cert_split then ctca_tbs_parse. */
CTCA_RESULT ctca_cert_get_tbs_fields(ctca_view cert, ctca_cert_parts *parts,
                                     ctca_tbs_fields *fields);

/* ctca_ext_is_valid_poison: RFC 6962 3.1: critical, extnValue exactly NULL. */
bool ctca_ext_is_valid_poison(const ctca_ext *ext);

/* ctca_ocsp_hash_md: the digest an OCSP CertID's hashAlgorithm OID
 * (contents) names, SHA-1 or SHA-256/384/512; NULL for any other (ocsp.c;
 * the responder reads requests with it too). */
const EVP_MD *ctca_ocsp_hash_md(ctca_view oid);

#endif
