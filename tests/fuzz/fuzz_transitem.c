/* Fuzz target: a TransItem or TransItemList that parses serializes back to the
 * same bytes, and an SCT's signed input can be built for it. */
#include <stdlib.h>
#include <string.h>

#include "ctca/transitem.h"

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

    ctca_transitem it = {0};
    if (ctca_transitem_parse(in, &it) == CTCA_OK) {
        if (ctca_transitem_serialize(&it, &out, &n) != CTCA_OK)
            abort();
        same_or_abort(out, n, data, size);
        free(out);
        ctca_entry_v2 entry = {.tbs = in};
        if (ctca_transitem_is_sct(&it)) {
            if (ctca_sct_v2_signed_input(&it, &entry, &out, &n) != CTCA_OK)
                abort();
            free(out);
        }
        ctca_transitem_cleanup(&it);
    }

    ctca_transitem_list list = {0};
    if (ctca_transitem_list_parse(in, &list) == CTCA_OK) {
        if (ctca_transitem_list_serialize(list.items, list.n, &out, &n) != CTCA_OK)
            abort();
        same_or_abort(out, n, data, size);
        free(out);
        ctca_transitem_list_cleanup(&list);
    }
    return 0;
}
