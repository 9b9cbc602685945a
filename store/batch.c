/* store/batch.c - several writes in one transaction (ctca/store.h, batching). */
#include "store/store_int.h"

ctca_err ctca_store_batch_begin(ctca_store *s)
{
    if (s->batch)
        return st_fail(s, CTCA_ERR_STORE_CONFLICT, "a batch is already open on this connection");
    s->batch = true;
    s->batch_open = false;
    s->batch_lost = false;
    return CTCA_OK;
}

ctca_err ctca_store_batch_commit(ctca_store *s)
{
    if (!s->batch)
        return st_fail(s, CTCA_ERR_STORE_CONFLICT, "no batch is open on this connection");
    bool open = s->batch_open, lost = s->batch_lost;
    s->batch = s->batch_open = s->batch_lost = false;
    if (!open)
        return CTCA_OK;
    if (lost) {
        if (!sqlite3_get_autocommit(s->db)) {
            ctca_err rb = st_exec(s, "ROLLBACK");
            (void)rb; /* a failed ROLLBACK leaves nothing committed either */
        }
        return st_fail(s, CTCA_ERR_STORE, "the batch was rolled back: %s", s->lost.msg);
    }
    return st_end(s, true, CTCA_OK);
}
