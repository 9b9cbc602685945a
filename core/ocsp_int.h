/* core/ocsp_int.h - internals shared by the OCSP response checker (ocsp.c)
 * and the responder (ocsp_responder.c). Not a public header. */
#ifndef CTCA_CORE_OCSP_INT_H
#define CTCA_CORE_OCSP_INT_H

#include <openssl/evp.h>

#include "ctca/asn1.h"

/* ctca_ocsp_hash_md: the digest a CertID's hashAlgorithm OID (contents) names,
 * SHA-1 or SHA-256/384/512; NULL for any other. */
const EVP_MD *ctca_ocsp_hash_md(ctca_view oid);

#endif
