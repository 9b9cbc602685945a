/* The store as the commands see it: a lost store (deleted or truncated
 * ctca.db) is refused by every command, never silently recreated; only
 * ctca init creates one. Commands that only read (get, queue list, ocsp
 * respond) work on a CA directory they cannot write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"

static th_ca fx;
static char db[400];

static void setup(void)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    snprintf(db, sizeof db, "%s/ctca.db", fx.ca_dir);
    th_log_list_write(fx.log_list, NULL, 0, (int64_t)time(NULL) * 1000);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

TestSuite(store_cli, .init = setup, .fini = teardown, .timeout = 60);

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

/* Each command that opens the store, as an operator would run it. */
static void assert_every_command_refuses(const char *why)
{
    char cmds[5][1200];
    snprintf(cmds[0], sizeof cmds[0], "'%s' queue list --ca '%s'", fx.ctca, fx.ca_dir);
    snprintf(cmds[1], sizeof cmds[1], "'%s' queue run --ca '%s' --once --log-list '%s'", fx.ctca,
             fx.ca_dir, fx.log_list);
    snprintf(cmds[2], sizeof cmds[2], "'%s' get --ca '%s' 0a --out '%s/x.pem'", fx.ctca,
             fx.ca_dir, fx.dir);
    snprintf(cmds[3], sizeof cmds[3],
             "'%s' issue --ca '%s' --csr '%s' --out '%s/x.pem' --log-list '%s'", fx.ctca,
             fx.ca_dir, fx.csr, fx.dir, fx.log_list);
    snprintf(cmds[4], sizeof cmds[4], "mkdir -p '%s/csrs' && cp '%s' '%s/csrs/' && "
             "'%s' batch --ca '%s' '%s/csrs' --out '%s/out' --log-list '%s'",
             fx.dir, fx.csr, fx.dir, fx.ctca, fx.ca_dir, fx.dir, fx.dir, fx.log_list);
    for (size_t i = 0; i < 5; i++) {
        char *out = NULL;
        int st = th_run(&out, "%s", cmds[i]);
        cr_assert(st != 0 && st != 75, "exit %d for %s:\n%s", st, cmds[i], out);
        assert_contains(out, db);
        assert_contains(out, why);
        assert_contains(out, "ctca init");
        free(out);
    }
}

Test(store_cli, a_deleted_store_is_refused_by_every_command_and_not_recreated)
{
    cr_assert_eq(unlink(db), 0);
    assert_every_command_refuses("missing");
    cr_assert_eq(access(db, F_OK), -1, "a command created a new empty store");
}

Test(store_cli, a_truncated_store_is_refused_by_every_command_and_left_empty)
{
    cr_assert_eq(truncate(db, 0), 0);
    assert_every_command_refuses("empty");
    struct stat st;
    cr_assert_eq(stat(db, &st), 0);
    cr_assert_eq(st.st_size, 0, "a command gave the empty file a new schema");
}

/* The commands that only read, run as nobody on a copy of the CA directory
 * that nobody owns but cannot write (0555): SQLite cannot create its WAL
 * index there, and they used to fail "attempt to write a readonly
 * database". Needs root (to change user); skipped otherwise. */
Test(store_cli, read_only_commands_work_on_a_ca_directory_they_cannot_write)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to run the commands as another user");
    const char *specs[] = {"A:a1", "B:b1"};
    th_ca_start_logs(&fx, 2, specs, NULL);
    char *out = NULL, serial[64];
    cr_assert_eq(th_run(&out, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem' "
                              "--log-list '%s'",
                        fx.ctca, fx.ca_dir, fx.csr, fx.dir, fx.log_list),
                 0, "%s", out);
    const char *p = strstr(out, "issued serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p + 14, "%63[0-9a-f]", serial), 1);
    free(out);
    cr_assert_eq(th_run(&out, "openssl ocsp -issuer '%s/ca.pem' -cert '%s/site.pem' -reqout "
                              "'%s/req.der'",
                        fx.ca_dir, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "chmod 0755 '%s' && chmod 0644 '%s/req.der' '%s' && "
                              "cp -a '%s' '%s/ro' && mkdir '%s/w' && "
                              "chown -R 65534:65534 '%s/ro' '%s/w' && chmod 0555 '%s/ro'",
                        fx.dir, fx.dir, fx.log_list, fx.ca_dir, fx.dir, fx.dir, fx.dir, fx.dir,
                        fx.dir),
                 0, "%s", out);
    free(out);
    char as_nobody[1200];
    snprintf(as_nobody, sizeof as_nobody,
             "setpriv --reuid=65534 --regid=65534 --clear-groups '%s'", fx.ctca);
    cr_assert_eq(th_run(&out, "%s get --ca '%s/ro' %s --out '%s/w/site.pem'", as_nobody, fx.dir,
                        serial, fx.dir),
                 0, "ctca get: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "cmp '%s/site.pem' '%s/w/site.pem'", fx.dir, fx.dir), 0, "%s",
                 out);
    free(out);
    cr_assert_eq(th_run(&out, "%s queue list --ca '%s/ro'", as_nobody, fx.dir), 0,
                 "ctca queue list: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "%s ocsp respond --ca '%s/ro' --request '%s/req.der' --out "
                              "'%s/w/resp.der'",
                        as_nobody, fx.dir, fx.dir, fx.dir),
                 0, "ctca ocsp respond: %s", out);
    assert_contains(out, "good");
    free(out);
    /* nothing was written into the read-only copy */
    cr_assert_eq(th_run(&out, "ls -A '%s/ro'", fx.dir), 0);
    cr_assert_null(strstr(out, "-wal"), "%s", out);
    cr_assert_null(strstr(out, "-shm"), "%s", out);
    free(out);
    /* and a command that writes is refused there, naming the store */
    int st = th_run(&out, "%s revoke --ca '%s/ro' %s", as_nobody, fx.dir, serial);
    cr_assert_neq(st, 0, "%s", out);
    free(out);
    th_run(NULL, "chmod 0755 '%s/ro'", fx.dir);
}
