/* Fuzz target: an SCT or SCT list that parses serializes back to the same
 * bytes, and the signed input can be built for it. */
#include <stdlib.h>
#include <string.h>

#include "ctca/sct.h"

static void same_or_abort(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn || (an > 0 && memcmp(a, b, an) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_view in = ctca_view_make(data, size);
    uint8_t *out = NULL;
    size_t n = 0;

    ctca_sct sct = {0};
    if (ctca_sct_parse(in, &sct) == CTCA_OK) {
        if (ctca_sct_serialize(&sct, &out, &n) != CTCA_OK)
            abort();
        same_or_abort(out, n, data, size);
        free(out);
        ctca_signed_entry entry = {.type = CTCA_ENTRY_PRECERT, .tbs = ctca_view_make(data, size)};
        if (ctca_sct_signed_input(&sct, &entry, &out, &n) == CTCA_OK)
            free(out);
        ctca_sct_cleanup(&sct);
    }

    ctca_sct_list list = {0};
    if (ctca_sct_list_parse(in, &list) == CTCA_OK) {
        if (ctca_sct_list_serialize(list.scts, list.n, &out, &n) != CTCA_OK)
            abort();
        same_or_abort(out, n, data, size);
        free(out);
        ctca_sct_list_cleanup(&list);
    }
    return 0;
}
