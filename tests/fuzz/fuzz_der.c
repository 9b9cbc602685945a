/* Fuzz target: any input the strict DER reader accepts, walked as a tree and
 * rebuilt through ctca_builder, gives back the same bytes (STYLE.md habit 3). */
#include <stdlib.h>
#include <string.h>

#include "ctca/asn1.h"

#define MAX_DEPTH 12

static void rebuild(ctca_view v, ctca_builder *b, int depth)
{
    while (v.len > 0) {
        uint8_t tag;
        ctca_view contents;
        if (ctca_der_get_any(&v, &tag, &contents, NULL) != CTCA_OK)
            abort(); /* the caller checked the whole level already */
        if ((tag & CTCA_DER_CONSTRUCTED) && depth < MAX_DEPTH) {
            ctca_builder_open_der(b, tag);
            rebuild(contents, b, depth + 1);
            ctca_builder_close(b);
        } else {
            ctca_builder_add_der(b, tag, contents.data, contents.len);
        }
    }
}

/* True when every level of v parses as a sequence of TLVs. */
static int well_formed(ctca_view v, int depth)
{
    while (v.len > 0) {
        uint8_t tag;
        ctca_view contents;
        if (ctca_der_get_any(&v, &tag, &contents, NULL) != CTCA_OK)
            return 0;
        if ((tag & CTCA_DER_CONSTRUCTED) && depth < MAX_DEPTH && !well_formed(contents, depth + 1))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_view v = ctca_view_make(data, size);
    if (!well_formed(v, 0))
        return 0;
    ctca_builder b;
    ctca_builder_init(&b, size + 16);
    rebuild(v, &b, 0);
    uint8_t *out = NULL;
    size_t n = 0;
    if (ctca_builder_finish(&b, &out, &n) != CTCA_OK || n != size ||
        (size > 0 && memcmp(out, data, size) != 0))
        abort();
    free(out);
    return 0;
}
