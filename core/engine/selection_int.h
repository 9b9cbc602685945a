/* core/engine/selection_int.h - which logs an issuance submits to, and which a
 * fallback queues, over a plain array of candidates: the logs the log list
 * selected (ctca_log_list_select: any prefix spans operators), each with
 * where its submission stands. The issuance engine (issue.c) keeps the
 * array and asks; nothing here submits, stores or reads the clock. */
#ifndef CTCA_CORE_SELECTION_INT_H
#define CTCA_CORE_SELECTION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctca/loglist.h"

typedef enum ctca_cand_state {
    CTCA_CAND_UNTRIED = 0, /* not submitted to */
    CTCA_CAND_IN_FLIGHT,   /* a submission is running */
    CTCA_CAND_OK,          /* gave a verified, stored SCT (or one was stored before) */
    CTCA_CAND_FAILED       /* answered badly, timed out, or was abandoned */
} ctca_cand_state;

/* A log the precertificate may go to, in selection order. */
typedef struct ctca_candidate {
    const ctca_log_info *log; /* borrowed (log_id and operator_index are read) */
    ctca_cand_state state;
} ctca_candidate;

/* ctca_selection_next: the next of c[0..n) to submit to, into *out: the
 * first untried one of an operator with neither an SCT nor a submission in
 * flight, else the first untried one. false when none is untried. */
bool ctca_selection_next(const ctca_candidate *c, size_t n, size_t *out);

/* ctca_selection_pick: up to want logs for a fallback to queue, their IDs
 * packed into out (room for n IDs of CTCA_LOG_ID_LEN bytes), in selection
 * order: first those of operators with neither an SCT (when skip_with_sct)
 * nor a log picked so far, then any; never one in exclude[0..n_exclude) (IDs
 * packed the same way; may be NULL when n_exclude is 0), nor (when
 * skip_with_sct) one that gave an SCT. Returns how many were picked. */
size_t ctca_selection_pick(const ctca_candidate *c, size_t n, bool skip_with_sct,
                           const uint8_t *exclude, size_t n_exclude, size_t want, uint8_t *out);

/* ctca_selection_wanted: how many submissions to keep going, or logs to
 * queue, when the policy needs needed SCTs (ctca_policy_requirement) and
 * in_hand are obtained or awaited: what is still needed plus one, so that one
 * hung log costs nothing, and at least one. */
size_t ctca_selection_wanted(size_t needed, size_t in_hand);

/* ctca_selection_spares: how many more logs a deferral queues with in_hand
 * SCTs and active queued submissions that may still answer in time: none
 * when those already make the first wave's count (needed plus one), else
 * ctca_selection_wanted of both together. */
size_t ctca_selection_spares(size_t needed, size_t in_hand, size_t active);

#endif
