/* core/engine/owner_int.h - which process owns an unfinished issuance, and whether
 * it still runs (Linux /proc). The issuance engine names itself owner when
 * it journals; the queue worker asks before taking a record over. */
#ifndef CTCA_CORE_OWNER_INT_H
#define CTCA_CORE_OWNER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ctca/store.h"

/* ctca_owner_self: this process: host name, kernel (boot ID and PID
 * namespace), pid and start time. false when /proc cannot tell (not Linux,
 * /proc not mounted): the caller records no owner and the time rule
 * applies. Thread-safe; recomputed after a fork. */
bool ctca_owner_self(ctca_store_owner *out);

typedef enum ctca_owner_liveness {
    CTCA_OWNER_UNKNOWN = 0, /* another kernel or PID namespace, or hidden */
    CTCA_OWNER_ALIVE,       /* that very process runs */
    CTCA_OWNER_DEAD         /* it provably does not */
} ctca_owner_liveness;

/* ctca_owner_liveness_of: whether o runs, judged from self's kernel and PID
 * namespace (self from ctca_owner_self): only an owner of the same kernel
 * can be ALIVE or DEAD. DEAD when its pid is gone (kill(pid, 0) gives
 * ESRCH), is a zombie, or is another process (another start time); UNKNOWN
 * when /proc hides it. */
ctca_owner_liveness ctca_owner_liveness_of(const ctca_store_owner *o,
                                           const ctca_store_owner *self);

/* ctca_owner_may_take_over: the one takeover rule, for ctca batch resuming a
 * record and the queue worker taking one over or finishing a deferred one:
 * whether self (NULL: this process cannot name itself) may take over
 * unfinished record u at now_ms, its owner's liveness being l
 * (ctca_owner_liveness_of; callers may cache it per owner). An owner that
 * provably ended: yes. An owner that runs: no, however slow, unless it is
 * self and mine_abandoned (a queue worker's own earlier claim left
 * unfinished), which falls to the time rule. An owner whose liveness cannot
 * be told from here (another kernel or PID namespace, none recorded): the
 * time rule, yes once u has not changed for recover_after_ms (-1: at
 * once). */
bool ctca_owner_may_take_over(const ctca_store_unfinished *u, ctca_owner_liveness l,
                              const ctca_store_owner *self, bool mine_abandoned,
                              int64_t now_ms, int64_t recover_after_ms);

#endif
