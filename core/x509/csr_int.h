/* core/x509/csr_int.h - a parsed PKCS#10 request (csr.c), for the CA's
 * profile checks and TBS building. Not a public header. */
#ifndef CTCA_CORE_X509_CSR_INT_H
#define CTCA_CORE_X509_CSR_INT_H

#include <stdbool.h>

#include "ctca/ca.h"

struct ctca_csr {
    uint8_t *der;
    size_t der_len;
    ctca_view spki;  /* borrowed from der */
    uint8_t digest[32];
    ctca_san *sans;
    size_t san_count;
    char *cn;        /* UTF-8, or NULL */
    bool cn_multiple;
    bool key_is_rsa;
};

#endif
