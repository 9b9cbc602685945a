/* Crash-test pause points (core/base/failpoint_int.h): compiled only with
 * -DCTCA_FAILPOINTS=ON. */
#include "core/base/failpoint_int.h"

#ifdef CTCA_FAILPOINTS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ctca_test_pause(const char *step)
{
    const char *want = getenv("CTCA_TEST_PAUSE_AT");
    if (want == NULL || strcmp(want, step) != 0)
        return;
    fprintf(stderr, "ctca: paused at %s\n", step);
    fflush(stderr);
    for (;;)
        pause();
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int ctca_no_failpoints;
#endif
