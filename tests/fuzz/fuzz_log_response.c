/* Fuzz target: a log's add-chain and submit-entry answers and its RFC 7807
 * problem bodies (ctclient/json.c over asn1/json.c), which come from anyone a
 * log list names. Accepted answers keep the header's promises: an add-chain
 * answer becomes a v1 SCT (version 0, a 32-byte log ID, a timestamp below
 * 2^63) whose length adds up, a submit-entry answer holds a typed SCT
 * TransItem, a refused one leaves a detail and nothing allocated, and a
 * second parse agrees byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "ctclient/ctclient_int.h"

static void sct_response(ctca_view body)
{
    uint8_t *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    char detail[256] = "";
    if (ctca_ctclient_parse_sct_response(body, &a, &an, detail, sizeof detail) != CTCA_OK) {
        if (detail[0] == '\0' || a != NULL)
            abort();
        return;
    }
    /* version, id[32], timestamp, extensions<0..2^16-1>, hash, sig alg, sig<..> */
    if (an < 1 + 32 + 8 + 2 + 2 + 2 || a[0] != 0 || (a[33] & 0x80) != 0)
        abort();
    size_t ext = (size_t)a[41] << 8 | a[42];
    if (an < 43 + ext + 4)
        abort();
    size_t sig = (size_t)a[43 + ext + 2] << 8 | a[43 + ext + 3];
    if (an != 43 + ext + 4 + sig)
        abort();
    if (ctca_ctclient_parse_sct_response(body, &b, &bn, NULL, 0) != CTCA_OK || an != bn ||
        memcmp(a, b, an) != 0)
        abort();
    free(a);
    free(b);
}

static void entry_response(ctca_view body)
{
    ctca_ctclient_entry_answer a, b;
    char detail[256] = "";
    if (ctca_ctclient_parse_entry_response(body, &a, detail, sizeof detail) != CTCA_OK) {
        if (detail[0] == '\0' || a.sct != NULL || a.sth != NULL || a.inclusion != NULL)
            abort();
        ctca_ctclient_entry_answer_cleanup(&a);
        return;
    }
    if (a.sct == NULL || a.sct_len < 2 || a.sct[0] != 0x01 || (a.sct[1] != 2 && a.sct[1] != 3))
        abort();
    if (ctca_ctclient_parse_entry_response(body, &b, NULL, 0) != CTCA_OK ||
        a.sct_len != b.sct_len || memcmp(a.sct, b.sct, a.sct_len) != 0 ||
        (a.sth == NULL) != (b.sth == NULL) || (a.inclusion == NULL) != (b.inclusion == NULL))
        abort();
    ctca_ctclient_entry_answer_cleanup(&a);
    ctca_ctclient_entry_answer_cleanup(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctca_view body = ctca_view_make(data, size);
    sct_response(body);
    entry_response(body);
    char buf[128];
    if (ctca_ctclient_problem(body, buf, sizeof buf) && strlen(buf) >= sizeof buf)
        abort();
    return 0;
}
