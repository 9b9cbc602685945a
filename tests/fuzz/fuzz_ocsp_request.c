/* Fuzz target: OCSP request parsing (what `ctca ocsp serve` reads from
 * anyone) is memory-safe (ASan checks it), and what it accepts is bounded:
 * 1..CTCA_OCSP_MAX_REQUESTS CertIDs inside the input, a nonce of at most
 * CTCA_OCSP_NONCE_MAX octets. */
#include <stdlib.h>

#include "core/ocsp/ocsp_int.h"

/* v lies within data[0..size). */
static bool inside(ctca_view v, const uint8_t *data, size_t size)
{
    return v.len == 0 || (v.data >= data && v.data + v.len <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_ocsp_request r;
    if (ctca_ocsp_request_parse(ctca_view_make(data, size), &r, NULL) != CTCA_OK)
        return 0;
    if (r.n == 0 || r.n > CTCA_OCSP_MAX_REQUESTS || r.nonce.len > CTCA_OCSP_NONCE_MAX + 2 ||
        !inside(r.nonce, data, size))
        abort();
    for (size_t i = 0; i < r.n; i++)
        if (r.certs[i].cert_id.len == 0 || !inside(r.certs[i].cert_id, data, size))
            abort();
    return 0;
}
