/* ctca batch: a directory of CSRs in, certificates out. The work is
 * ctca_batch_run; this file reads arguments, shows progress and reports. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctca/batch.h"
#include "ctca/ca.h"

#define LISTED_PROBLEMS 20 /* on the terminal; summary.json lists them all */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ctca batch --ca DIR CSR_DIR --out OUT_DIR [--profile NAME] [--jobs N]\n"
            "                  [--log-list FILE] [--fallback defer|fail|unembedded]\n"
            "\n"
            "Issues a certificate with embedded SCTs for every CSR file (PEM or DER) in\n"
            "CSR_DIR, writing OUT_DIR/<name>.pem for CSR <name>[.ext] and OUT_DIR/summary.json.\n"
            "Signing runs on N threads; all log submissions share one connection pool.\n"
            "Re-running skips CSRs already issued and finishes interrupted or deferred ones\n"
            "(not those another running process is issuing: they are reported in progress).\n"
            "\n"
            "  --ca DIR          CA directory made by 'ctca init'\n"
            "  --out DIR         output directory (created when missing)\n"
            "  --profile NAME    profile from the config (default tls-server)\n"
            "  --jobs N          signing threads (default: the online CPUs)\n"
            "  --log-list FILE   v3 log list to use instead of the configured one\n"
            "  --fallback MODE   when the logs do not give enough SCTs by the deadline\n"
            "                    (default: ct.fallback in the config): defer to the queue,\n"
            "                    fail (re-run later), or issue unembedded\n"
            "\n"
            "exit status: 0 every CSR issued (now or before); 1 some CSR failed;\n"
            "75 none failed but some are deferred or in progress (re-run later);\n"
            "2 usage or input error\n");
}

static bool parse_jobs(const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > CTCA_BATCH_MAX_JOBS)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Returns -1 when parsing succeeded, else the exit status. */
static int parse_args(int argc, char **argv, const char **ca_dir, ctca_batch_options *o)
{
    const char *jobs = NULL, *fallback = NULL;
    for (int i = 1; i < argc; i++) {
        bool error = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (cli_take_value("batch", argc, argv, &i, "--ca", ca_dir, &error) ||
                   cli_take_value("batch", argc, argv, &i, "--out", &o->out_dir, &error) ||
                   cli_take_value("batch", argc, argv, &i, "--profile", &o->profile, &error) ||
                   cli_take_value("batch", argc, argv, &i, "--jobs", &jobs, &error) ||
                   cli_take_value("batch", argc, argv, &i, "--fallback", &fallback, &error) ||
                   cli_take_value("batch", argc, argv, &i, "--log-list", &o->log_list_path,
                                  &error)) {
            if (error)
                return CLI_EXIT_USAGE;
        } else if (!cli_take_operand("batch", argv[i], "CSR directory", &o->csr_dir)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (*ca_dir == NULL || o->csr_dir == NULL || o->out_dir == NULL) {
        cli_error("batch: --ca, a CSR directory and --out are required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (jobs != NULL && !parse_jobs(jobs, &o->jobs)) {
        cli_error("batch: --jobs %s: expected 1..%d", jobs, CTCA_BATCH_MAX_JOBS);
        return CLI_EXIT_USAGE;
    }
    if (fallback != NULL && ctca_fallback_parse(fallback, &o->fallback) != CTCA_OK) {
        cli_error("batch: --fallback %s: expected defer, fail or unembedded", fallback);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The terminal's progress line, redrawn at most four times a second. */
typedef struct progress_line {
    double last_s;
    bool drawn;
} progress_line;

static void show_progress(const ctca_batch_progress *p, void *arg)
{
    progress_line *pl = arg;
    if (p->done < p->total && p->elapsed_s - pl->last_s < 0.25)
        return;
    pl->last_s = p->elapsed_s;
    pl->drawn = true;
    double rate = p->elapsed_s > 0 ? (double)p->done / p->elapsed_s : 0;
    fprintf(stderr, "\r  %zu/%zu CSRs, %.1f/s", p->done, p->total, rate);
    if (rate > 0 && p->done < p->total)
        fprintf(stderr, ", ETA %.0f s  ", (double)(p->total - p->done) / rate);
    else
        fputs("           ", stderr);
}

int cli_cmd_batch(int argc, char **argv)
{
    const char *ca_dir = NULL;
    ctca_batch_options opt = {0};
    int status = parse_args(argc, argv, &ca_dir, &opt);
    if (status >= 0)
        return status;
    progress_line pl = {0};
    if (isatty(STDERR_FILENO)) {
        opt.progress = show_progress;
        opt.progress_arg = &pl;
    }

    ctca_errbuf eb = {{0}};
    ctca_ca *ca = NULL;
    ctca_err rc = ctca_ca_open(ca_dir, &ca, &eb);
    if (rc != CTCA_OK) {
        cli_error_code(ca_dir, rc, &eb);
        return CLI_EXIT_USAGE;
    }
    ctca_batch_summary sum = {0};
    rc = ctca_batch_run(ca, &opt, &sum, &eb);
    if (pl.drawn)
        fputc('\n', stderr);
    if (rc != CTCA_OK) {
        cli_error_code("batch", rc, &eb);
        status = ctca_err_category_of(rc) == CTCA_CAT_INPUT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto done;
    }
    for (size_t i = 0; i < sum.n_problems && i < LISTED_PROBLEMS; i++)
        cli_error("%s: %s%s", sum.problems[i].csr,
                  sum.problems[i].in_progress ? "in progress: "
                  : !sum.problems[i].deferred ? ""
                  : sum.problems[i].queued    ? "deferred to the queue: "
                                              : "deferred (marked failed; re-run later): ",
                  sum.problems[i].reason);
    size_t problems = sum.deferred + sum.in_progress + sum.failed;
    if (problems > LISTED_PROBLEMS)
        cli_error("... and %zu more, all in %s/summary.json", problems - LISTED_PROBLEMS,
                  opt.out_dir);
    printf("%zu CSRs: %zu issued, %zu already issued, %zu deferred, %zu in progress, %zu failed"
           " in %.1f s (%.1f certificates/s); summary in %s/summary.json\n",
           sum.total, sum.issued, sum.already_issued, sum.deferred, sum.in_progress, sum.failed,
           sum.elapsed_s, sum.elapsed_s > 0 ? (double)sum.issued / sum.elapsed_s : 0.0,
           opt.out_dir);
    /* An in-progress CSR is finished by its owner, or by a queue worker or a
     * re-run once that has ended: like a deferred one, nothing failed. */
    status = sum.failed > 0                            ? CLI_EXIT_FAIL
             : sum.deferred + sum.in_progress > 0      ? CLI_EXIT_DEFERRED
                                                       : CLI_EXIT_OK;
done:
    ctca_batch_summary_cleanup(&sum);
    ctca_ca_free(ca);
    return status;
}
