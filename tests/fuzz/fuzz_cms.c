/* Fuzz target: the RFC 9162 CMS precertificate parser. What it accepts keeps
 * the profile's promises: every view lies inside the input, the eContent is
 * one TBSCertificate element and the message digest is 32 bytes; a second
 * parse gives the same views. */
#include <stdlib.h>
#include <string.h>

#include "ctca/cms.h"

static void inside_or_abort(ctca_view v, const uint8_t *data, size_t size)
{
    if (v.len > 0 && (v.data < data || v.data + v.len > data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_cms_precert p, q;
    if (ctca_cms_precert_parse(ctca_view_make(data, size), &p) != CTCA_OK)
        return 0;
    const ctca_view views[] = {p.tbs, p.signer_key_id, p.sig_alg, p.signed_attrs,
                               p.message_digest, p.signature};
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        inside_or_abort(views[i], data, size);
    if (p.message_digest.len != 32 || p.tbs.len < 2 || p.tbs.data[0] != 0x30)
        abort();
    if (ctca_cms_precert_parse(ctca_view_make(data, size), &q) != CTCA_OK ||
        memcmp(&p, &q, sizeof p) != 0)
        abort();
    return 0;
}
