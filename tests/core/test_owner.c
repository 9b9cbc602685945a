/* Owners of unfinished issuances: this process's identity, and whether an
 * owner still runs, told apart from one that died (killed, reaped or not)
 * or whose pid now names another process, and from an owner in another
 * kernel or PID namespace (unknown: the time rule decides). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine/owner_int.h"

static ctca_store_owner self(void)
{
    ctca_store_owner me;
    cr_assert(ctca_owner_self(&me), "Linux /proc tells who we are");
    return me;
}

/* A child that waits to be killed, and its identity as it would journal it. */
static ctca_store_owner child(pid_t *pid)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    *pid = fork();
    cr_assert_geq(*pid, 0);
    if (*pid == 0) {
        ctca_store_owner me;
        bool ok = ctca_owner_self(&me);
        (void)!write(fds[1], &me, sizeof me);
        if (ok)
            for (;;)
                pause();
        _exit(1);
    }
    close(fds[1]);
    ctca_store_owner o;
    cr_assert_eq(read(fds[0], &o, sizeof o), (ssize_t)sizeof o);
    close(fds[0]);
    cr_assert_eq(o.pid, *pid, "a fork's child names itself, not its parent");
    return o;
}

Test(owner, this_process_is_alive_with_a_kernel_and_start_time)
{
    ctca_store_owner me = self();
    cr_assert_eq(me.pid, getpid());
    cr_assert_gt(me.start, 0);
    cr_assert_gt(strlen(me.host), 0);
    cr_assert_not_null(strstr(me.kernel, "/pid:["), "%s", me.kernel);
    ctca_store_owner again = self();
    cr_assert_eq(again.start, me.start);
    cr_assert_str_eq(again.kernel, me.kernel);
    cr_assert_eq(ctca_owner_liveness_of(&me, &me), CTCA_OWNER_ALIVE);
}

Test(owner, a_running_process_is_alive_and_a_killed_one_dead_reaped_or_not)
{
    ctca_store_owner me = self();
    pid_t pid;
    ctca_store_owner o = child(&pid);
    cr_assert_str_eq(o.kernel, me.kernel);
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_ALIVE);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    /* Not reaped yet: a zombie does no work. */
    for (int i = 0; i < 500 && ctca_owner_liveness_of(&o, &me) == CTCA_OWNER_ALIVE; i++)
        usleep(10000);
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_DEAD);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_DEAD);
}

Test(owner, a_pid_reused_by_another_process_is_dead)
{
    ctca_store_owner me = self(), o = me;
    /* This very pid, started at another time: another process. */
    o.start = me.start + 1;
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_DEAD);
    pid_t pid;
    ctca_store_owner c = child(&pid);
    c.start = 0;
    cr_assert_eq(ctca_owner_liveness_of(&c, &me), CTCA_OWNER_DEAD);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

Test(owner, an_owner_of_another_kernel_or_namespace_is_unknown_even_with_a_live_pid)
{
    ctca_store_owner me = self(), o = me;
    snprintf(o.kernel, sizeof o.kernel, "another-boot/pid:[4026531836]");
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_UNKNOWN);
    o = me;
    o.pid = 1;
    snprintf(o.kernel, sizeof o.kernel, "%s", "elsewhere");
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_UNKNOWN);
    /* The host name is for people: the same kernel decides. */
    o = me;
    snprintf(o.host, sizeof o.host, "renamed");
    cr_assert_eq(ctca_owner_liveness_of(&o, &me), CTCA_OWNER_ALIVE);
}

/* The one takeover rule (batch and queue ask it alike). */
Test(owner, the_takeover_rule)
{
    ctca_store_owner me = {.host = "h", .kernel = "k", .pid = 10, .start = 1};
    ctca_store_unfinished u = {.serial = "01", .updated_ms = 1000, .has_owner = true};
    u.owner = me;
    /* a dead owner: at once, whatever the time */
    cr_assert(ctca_owner_may_take_over(&u, CTCA_OWNER_DEAD, &me, false, 1000, 60000));
    /* a live owner: never, however long unchanged */
    u.owner.pid = 11;
    cr_assert_not(ctca_owner_may_take_over(&u, CTCA_OWNER_ALIVE, &me, true, 1e9, 0));
    /* this process: its own (batch), or its own abandoned claim (queue) */
    u.owner.pid = 10;
    cr_assert_not(ctca_owner_may_take_over(&u, CTCA_OWNER_ALIVE, &me, false, 1e9, 0));
    cr_assert_not(ctca_owner_may_take_over(&u, CTCA_OWNER_ALIVE, &me, true, 61000, 60000));
    cr_assert(ctca_owner_may_take_over(&u, CTCA_OWNER_ALIVE, &me, true, 61001, 60000));
    /* liveness unknown: the time rule, -1 meaning at once */
    cr_assert_not(ctca_owner_may_take_over(&u, CTCA_OWNER_UNKNOWN, &me, false, 61000, 60000));
    cr_assert(ctca_owner_may_take_over(&u, CTCA_OWNER_UNKNOWN, &me, false, 61001, 60000));
    cr_assert(ctca_owner_may_take_over(&u, CTCA_OWNER_UNKNOWN, NULL, false, 1000, -1));
    u.has_owner = false;
    cr_assert(ctca_owner_may_take_over(&u, CTCA_OWNER_UNKNOWN, NULL, false, 61001, 60000));
}
