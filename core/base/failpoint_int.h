/* core/base/failpoint_int.h - crash-test pause points, in test builds only.
 *
 * CTCA_TEST_PAUSE(step) marks a point where a crash test kills the process
 * (kill -9) to prove that nothing is lost there. In a build configured with
 * -DCTCA_FAILPOINTS=ON (scripts/test.sh's) it calls ctca_test_pause; in any
 * other build it is nothing at all: no function, no step name, no
 * environment variable read, so a release library cannot be made to stop
 * by its environment (scripts/check-failpoints.sh checks the objects). */
#ifndef CTCA_CORE_FAILPOINT_INT_H
#define CTCA_CORE_FAILPOINT_INT_H

#ifdef CTCA_FAILPOINTS
/* ctca_test_pause: when the environment variable CTCA_TEST_PAUSE_AT equals
 * step, prints "ctca: paused at STEP" to stderr and blocks until the process
 * is killed, so a test can kill -9 it exactly there; otherwise returns at
 * once. The steps are named where CTCA_TEST_PAUSE is used. */
void ctca_test_pause(const char *step);
#define CTCA_TEST_PAUSE(step) ctca_test_pause(step)
#else
#define CTCA_TEST_PAUSE(step) ((void)0)
#endif

#endif
