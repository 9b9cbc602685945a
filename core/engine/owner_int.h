/* core/engine/owner_int.h - which process owns an unfinished issuance, and whether
 * it still runs (Linux /proc). The issuance engine names itself owner when
 * it journals; the queue worker asks before taking a record over. */
#ifndef CTCA_CORE_OWNER_INT_H
#define CTCA_CORE_OWNER_INT_H

#include <stdbool.h>

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

#endif
