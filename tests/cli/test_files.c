/* The CLI's files: an output path that is a FIFO, device or symbolic link is
 * refused and left alone (exit non-zero, the path named), a name planted
 * where ctca batch used to put its temporary file is not written through, and
 * a FIFO given as an input is refused at once instead of hanging. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tests/helpers.h"

static th_ca fx;
static char serial[64];

static void setup(void)
{
    const char *specs[] = {"A:a1", "B:b1"};
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    th_ca_start_logs(&fx, 2, specs, NULL);
}

static void setup_issued(void)
{
    setup();
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' issue --ca '%s' --csr '%s' --log-list '%s' --out '%s/site.pem'",
                        fx.ctca, fx.ca_dir, fx.csr, fx.log_list, fx.dir),
                 0, "%s", out);
    const char *p = strstr(out, "issued serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p, "issued serial %63s", serial), 1);
    free(out);
}

static void teardown(void)
{
    th_ca_cleanup(&fx);
}

TestSuite(files, .fini = teardown, .timeout = 60);

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

static void assert_file_is(const char *path, const char *want)
{
    size_t len = 0;
    uint8_t *got = th_read_file(path, &len);
    cr_assert_eq(len, strlen(want), "%s was rewritten", path);
    cr_assert_arr_eq(got, want, len);
    free(got);
}

Test(files, get_refuses_to_replace_a_fifo_a_device_or_a_symlink, .init = setup_issued)
{
    char fifo[400], link[400], victim[400], dev[400];
    snprintf(fifo, sizeof fifo, "%s/out.fifo", fx.dir);
    snprintf(link, sizeof link, "%s/out-link.pem", fx.dir);
    snprintf(victim, sizeof victim, "%s/victim", fx.dir);
    snprintf(dev, sizeof dev, "%s/full", fx.dir);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    th_write_file(victim, "keep\n", 5);
    cr_assert_eq(symlink(victim, link), 0);
    bool have_dev = mknod(dev, S_IFCHR | 0666, makedev(1, 7)) == 0;

    const char *targets[] = {fifo, link, dev};
    for (size_t i = 0; i < (have_dev ? 3u : 2u); i++) {
        char *out = NULL;
        int st = th_run(&out, "'%s' get --ca '%s' %s --out '%s'", fx.ctca, fx.ca_dir, serial,
                        targets[i]);
        cr_assert_neq(st, 0, "get --out %s: %s", targets[i], out);
        assert_contains(out, targets[i]);
        assert_contains(out, "ctca replaces only regular files");
        free(out);
    }
    struct stat sb;
    cr_assert_eq(lstat(fifo, &sb), 0);
    cr_assert(S_ISFIFO(sb.st_mode));
    cr_assert_eq(lstat(link, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode));
    assert_file_is(victim, "keep\n");
    if (have_dev) {
        cr_assert_eq(lstat(dev, &sb), 0);
        cr_assert(S_ISCHR(sb.st_mode), "the device node became a file");
    }
}

/* ctca batch wrote OUT/<stem>.pem.tmp with fopen("w"): a symbolic link there
 * was written through. */
Test(files, batch_does_not_write_through_a_link_planted_at_its_old_temporary_name, .init = setup)
{
    char csrs[400], outdir[400], planted[500], victim[400], cmd[1400];
    snprintf(csrs, sizeof csrs, "%s/csrs", fx.dir);
    snprintf(outdir, sizeof outdir, "%s/out", fx.dir);
    snprintf(victim, sizeof victim, "%s/victim", fx.dir);
    snprintf(planted, sizeof planted, "%s/site.pem.tmp", outdir);
    cr_assert_eq(mkdir(csrs, 0755), 0);
    cr_assert_eq(mkdir(outdir, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/site.csr'", fx.csr, csrs);
    cr_assert_eq(th_run(NULL, "%s", cmd), 0);
    th_write_file(victim, "keep\n", 5);
    cr_assert_eq(symlink(victim, planted), 0);

    char *out = NULL;
    int st = th_run(&out, "'%s' batch --ca '%s' '%s' --out '%s' --log-list '%s' --jobs 1",
                    fx.ctca, fx.ca_dir, csrs, outdir, fx.log_list);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    assert_file_is(victim, "keep\n");
    char pem[500];
    snprintf(pem, sizeof pem, "%s/site.pem", outdir);
    cr_assert_eq(th_run(&out, "openssl x509 -in '%s' -noout", pem), 0, "%s", out);
    free(out);
}

Test(files, a_fifo_as_the_csr_is_refused_at_once, .init = setup, .timeout = 20)
{
    char fifo[400];
    snprintf(fifo, sizeof fifo, "%s/in.csr", fx.dir);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    char *out = NULL;
    int st = th_run(&out, "timeout 10 '%s' issue --ca '%s' --csr '%s' --log-list '%s' --out "
                          "'%s/site.pem'",
                    fx.ctca, fx.ca_dir, fifo, fx.log_list, fx.dir);
    cr_assert_neq(st, 124, "ctca issue hung on a FIFO: %s", out);
    cr_assert_eq(st, 2, "%s", out);
    assert_contains(out, "not a regular file");
    free(out);
}
