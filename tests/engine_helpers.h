/* Helpers for tests that run the engine in-process (tests/engine/, and
 * tests/cli/ where a step needs a pinned clock): a pinned wall clock and the
 * queue worker run on it. Linked into those tests only: they use libctca. */
#ifndef CTCA_TESTS_ENGINE_HELPERS_H
#define CTCA_TESTS_ENGINE_HELPERS_H

#include <stdint.h>

#include "ctca/queue.h"
#include "ctca/store.h"
#include "tests/helpers.h"

/* A wall clock that stands still: pass th_clock_ms and a th_clock as a
 * clock_ms/clock_arg pair; the test moves now_ms by hand instead of
 * sleeping. Read-only while a run uses it, so threads may share it. */
typedef struct th_clock {
    int64_t now_ms;
} th_clock;

int64_t th_clock_ms(void *arg);

/* th_queue_run_at: `ctca queue run --once` over the CA in ca_dir, in this
 * process, with the wall clock pinned at at_ms: returns its result and fills
 * *stats; *progress (malloc'd, caller frees; may be NULL when not wanted)
 * gets its progress lines and, on failure, the error. */
ctca_err th_queue_run_at(const char *ca_dir, int64_t at_ms, ctca_queue_stats *stats,
                         char **progress);

/* th_ca_store: a connection to c's store (ctca.db in its CA directory);
 * aborts the test when it cannot be opened. Close it with ctca_store_close. */
ctca_store *th_ca_store(const th_ca *c);
/* th_ca_records_in: how many of c's records are in state st (up to 10). */
size_t th_ca_records_in(const th_ca *c, ctca_store_state st);

#endif
