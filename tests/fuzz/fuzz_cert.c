/* Fuzz target: certificate handling is memory-safe (ASan checks it), and a
 * TBS reconstructed by dropping an extension is shorter than the certificate. */
#include <stdlib.h>

#include "ctca/sct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_view cert = ctca_view_make(data, size);
    uint8_t *tbs = NULL, hash[CTCA_LOG_ID_LEN];
    size_t tbs_len = 0;
    if (ctca_precert_tbs_from_precert(cert, &tbs, &tbs_len) == CTCA_OK) {
        if (tbs_len >= size)
            abort(); /* dropping the poison shrinks the certificate */
        free(tbs);
    }
    if (ctca_precert_tbs_from_final(cert, &tbs, &tbs_len) == CTCA_OK) {
        if (tbs_len >= size)
            abort();
        free(tbs);
    }
    ctca_sct_list list = {0};
    if (ctca_cert_get_sct_list(cert, &list) == CTCA_OK)
        ctca_sct_list_cleanup(&list);
    ctca_err rc = ctca_cert_issuer_key_hash(cert, hash);
    (void)rc; /* any result will do: this call is fuzzed for memory safety only */
    return 0;
}
