/* Owners of unfinished issuances (core/engine/owner_int.h).
 *
 * Why boot ID and PID namespace rather than the host name: a pid means one
 * process only within one boot of one kernel and one PID namespace. Two
 * containers may share a host name (or be called "localhost") while their
 * pids mean different processes, and a host name survives a reboot that
 * kills every process. So the liveness of an owner is judged only by a
 * worker in the same kernel and PID namespace; for any other (a worker on
 * another host or in another container) it is unknown and the time rule
 * (queue.recover_after_ms) decides. */
#include "core/engine/owner_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of a small /proc file, without its newline. */
static bool read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, (int)n, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok && buf[0] != '\0';
}

/* Field 22 (starttime) and field 3 (state) of /proc/PID/stat. The command
 * name (field 2) may hold spaces and parentheses, so fields are counted
 * from its closing parenthesis, the last one on the line (proc(5)). */
static bool read_stat(long long pid, long long *start, char *state)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    if (!read_line(path, line, sizeof line))
        return false;
    const char *p = strrchr(line, ')');
    unsigned long long ticks = 0;
    /* after ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime priority nice num_threads
     * itrealvalue starttime */
    if (p == NULL || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
                                   " %*s %*s %*s %*s %*s %llu",
                            state, &ticks) != 2 ||
        ticks > (unsigned long long)INT64_MAX)
        return false;
    *start = (long long)ticks;
    return true;
}

static bool compute_self(ctca_store_owner *o)
{
    char boot[64], ns[64];
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    if (n <= 0 || !read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot))
        return false;
    ns[n] = '\0';
    memset(o, 0, sizeof *o);
    snprintf(o->kernel, sizeof o->kernel, "%s/%s", boot, ns);
    if (gethostname(o->host, sizeof o->host) != 0 || o->host[0] == '\0')
        snprintf(o->host, sizeof o->host, "localhost");
    o->host[sizeof o->host - 1] = '\0';
    o->pid = (int64_t)getpid();
    long long start = 0;
    char state = 0;
    if (!read_stat((long long)o->pid, &start, &state))
        return false;
    o->start = start;
    return true;
}

static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static ctca_store_owner self_cache;
static bool self_known;

bool ctca_owner_self(ctca_store_owner *out)
{
    /* Cached: the engine asks once per journaled record. A fork's child
     * inherits the cache and finds another pid in it. */
    pthread_mutex_lock(&self_lock);
    if (!self_known || self_cache.pid != (int64_t)getpid())
        self_known = compute_self(&self_cache);
    bool ok = self_known;
    if (ok)
        *out = self_cache;
    pthread_mutex_unlock(&self_lock);
    if (!ok)
        memset(out, 0, sizeof *out);
    return ok;
}

ctca_owner_liveness ctca_owner_liveness_of(const ctca_store_owner *o,
                                           const ctca_store_owner *self)
{
    if (strcmp(o->kernel, self->kernel) != 0 || o->pid <= 0 || o->pid > INT32_MAX)
        return CTCA_OWNER_UNKNOWN;
    if (o->pid == self->pid)
        return o->start == self->start ? CTCA_OWNER_ALIVE : CTCA_OWNER_DEAD;
    /* kill(pid, 0) sees through /proc's hidepid: EPERM means it exists. */
    if (kill((pid_t)o->pid, 0) != 0 && errno == ESRCH)
        return CTCA_OWNER_DEAD;
    long long start = 0;
    char state = 0;
    if (!read_stat((long long)o->pid, &start, &state))
        return CTCA_OWNER_UNKNOWN;
    if (start != o->start || state == 'Z' || state == 'X')
        return CTCA_OWNER_DEAD;
    return CTCA_OWNER_ALIVE;
}

bool ctca_owner_may_take_over(const ctca_store_unfinished *u, ctca_owner_liveness l,
                              const ctca_store_owner *self, bool mine_abandoned,
                              int64_t now_ms, int64_t recover_after_ms)
{
    if (l == CTCA_OWNER_DEAD)
        return true;
    bool mine = l == CTCA_OWNER_ALIVE && self != NULL && u->owner.pid == self->pid;
    if (l == CTCA_OWNER_ALIVE && !(mine && mine_abandoned))
        return false;
    return u->updated_ms < now_ms - recover_after_ms;
}
