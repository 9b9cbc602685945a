/* Log selection (core/engine/selection_int.h): which candidates an issuance
 * submits to, and which a fallback queues, spread across operators. */
#include "core/engine/selection_int.h"

#include <string.h>

bool ctca_selection_next(const ctca_candidate *c, size_t n, size_t *out)
{
    /* Pass 0: only operators with neither an SCT nor a submission in flight;
     * pass 1: any untried log. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (c[i].state != CTCA_CAND_UNTRIED)
                continue;
            bool busy = false;
            for (size_t j = 0; pass == 0 && j < n && !busy; j++)
                busy = c[j].state != CTCA_CAND_UNTRIED && c[j].state != CTCA_CAND_FAILED &&
                       c[j].log->operator_index == c[i].log->operator_index;
            if (!busy) {
                *out = i;
                return true;
            }
        }
    }
    return false;
}

static bool id_in(const uint8_t *ids, size_t n, const uint8_t *id)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(ids + i * CTCA_LOG_ID_LEN, id, CTCA_LOG_ID_LEN) == 0)
            return true;
    return false;
}

size_t ctca_selection_pick(const ctca_candidate *c, size_t n_cands, bool skip_with_sct,
                           const uint8_t *exclude, size_t n_exclude, size_t want, uint8_t *out)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_cands && n < want; i++) {
            if ((skip_with_sct && c[i].state == CTCA_CAND_OK) ||
                id_in(out, n, c[i].log->log_id) || id_in(exclude, n_exclude, c[i].log->log_id))
                continue;
            bool covered = false;
            for (size_t j = 0; pass == 0 && j < n_cands && !covered; j++)
                covered = c[j].log->operator_index == c[i].log->operator_index &&
                          ((skip_with_sct && c[j].state == CTCA_CAND_OK) ||
                           id_in(out, n, c[j].log->log_id));
            if (!covered)
                memcpy(out + n++ * CTCA_LOG_ID_LEN, c[i].log->log_id, CTCA_LOG_ID_LEN);
        }
    }
    return n;
}

size_t ctca_selection_wanted(size_t needed, size_t in_hand)
{
    return needed + 1 > in_hand ? needed + 1 - in_hand : 1;
}

size_t ctca_selection_spares(size_t needed, size_t in_hand, size_t active)
{
    /* An item not tried again before the deadline is not active (the
     * caller's judgement): it cannot help in time, another log might. */
    if (active > 0 && in_hand + active >= needed + 1)
        return 0;
    return ctca_selection_wanted(needed, in_hand + active);
}
