/* ctca_file_write and ctca_file_read (core/base/util.c), the one writer and the
 * one reader of ctca's files: a write never replaces a device, FIFO,
 * directory or symbolic link, never follows a name planted where a temporary
 * file could go, and leaves nothing beside its target; a read of a FIFO is
 * refused at once instead of waiting for a writer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <dirent.h>

#include "ctca/util.h"
#include "tests/helpers.h"

static char *dir;

static void setup(void)
{
    dir = th_tmpdir();
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(util_files, .init = setup, .fini = teardown, .timeout = 20);

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void assert_refused(const char *target, const char *what)
{
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_file_write_atomic(target, "new\n", 4, 0644, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, target), "message does not name the path: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, what), "message does not say %s: %s", what, eb.msg);
    memset(&eb, 0, sizeof eb);
    cr_assert_eq(ctca_file_write(target, "new\n", 4, 0644, CTCA_WRITE_NO_FSYNC, &eb),
                 CTCA_ERR_IO);
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

Test(util_files, a_write_gives_the_mode_asked_and_leaves_no_temporary_file)
{
    char target[512];
    path_in(target, sizeof target, "out.pem");
    mode_t old = umask(077);
    cr_assert_eq(ctca_file_write_atomic(target, "one\n", 4, 0644, NULL), CTCA_OK);
    cr_assert_eq(ctca_file_write(target, "two\n", 4, 0640, CTCA_WRITE_NO_FSYNC, NULL), CTCA_OK);
    umask(old);
    struct stat st;
    cr_assert_eq(stat(target, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640);
    size_t len = 0;
    uint8_t *got = th_read_file(target, &len);
    cr_assert_eq(len, 4);
    cr_assert_arr_eq(got, "two\n", 4);
    free(got);
    cr_assert_eq(entries(), 1, "a temporary file was left beside the target");
}

Test(util_files, a_fifo_a_symlink_and_a_directory_are_refused_and_left_as_they_are)
{
    char fifo[512], link[512], victim[512], sub[512];
    path_in(fifo, sizeof fifo, "fifo");
    path_in(link, sizeof link, "link.pem");
    path_in(victim, sizeof victim, "victim");
    path_in(sub, sizeof sub, "sub");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    th_write_file(victim, "keep\n", 5);
    cr_assert_eq(symlink(victim, link), 0);
    cr_assert_eq(mkdir(sub, 0755), 0);

    assert_refused(fifo, "a FIFO");
    assert_refused(link, "a symbolic link");
    assert_refused(sub, "a directory");

    struct stat st;
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the symbolic link was replaced");
    size_t len = 0;
    uint8_t *got = th_read_file(victim, &len);
    cr_assert_eq(len, 5);
    cr_assert_arr_eq(got, "keep\n", 5);
    free(got);
    cr_assert_eq(entries(), 4, "a temporary file was left beside the targets");
}

/* --out /dev/full once turned the machine's /dev/full into a file: the same
 * device (1, 7) made here, so the test cannot harm the real one. */
Test(util_files, a_device_node_is_refused_and_left_as_it_is)
{
    char dev[512];
    path_in(dev, sizeof dev, "full");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 7)) != 0)
        cr_skip_test("mknod: %s (needs root)", strerror(errno));
    assert_refused(dev, "a device");
    struct stat st;
    cr_assert_eq(lstat(dev, &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "the device node was replaced");
}

/* The temporary file used to be PATH.tmp.PID (PATH.tmp in ctca batch), opened
 * without O_EXCL, so a symbolic link planted there was written through. */
Test(util_files, a_symlink_planted_at_a_predictable_temporary_name_is_not_followed)
{
    char target[512], victim[512], planted[600];
    path_in(target, sizeof target, "out.pem");
    path_in(victim, sizeof victim, "victim");
    th_write_file(victim, "keep\n", 5);
    chmod(victim, 0600);
    const char *const forms[] = {"%s.tmp.%ld", "%s.tmp"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(planted, sizeof planted, forms[i], target, (long)getpid());
        cr_assert_eq(symlink(victim, planted), 0);
    }
    cr_assert_eq(ctca_file_write_atomic(target, "new\n", 4, 0644, NULL), CTCA_OK);
    cr_assert_eq(ctca_file_write(target, "new\n", 4, 0644, CTCA_WRITE_NO_FSYNC, NULL), CTCA_OK);
    size_t len = 0;
    uint8_t *got = th_read_file(victim, &len);
    cr_assert_eq(len, 5, "the planted link was written through");
    cr_assert_arr_eq(got, "keep\n", 5);
    free(got);
    struct stat st;
    cr_assert_eq(stat(victim, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "the planted link's target was chmod'ed");
    got = th_read_file(target, &len);
    cr_assert_eq(len, 4);
    free(got);
}

Test(util_files, a_path_naming_no_file_is_refused)
{
    char target[512];
    path_in(target, sizeof target, "");
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_file_write_atomic(target, "x", 1, 0644, &eb), CTCA_ERR_IO);
}

/* Opening a FIFO for reading blocks until a writer comes; the suite's timeout
 * catches a hang. */
Test(util_files, reading_a_fifo_is_refused_at_once)
{
    char fifo[512];
    path_in(fifo, sizeof fifo, "in.csr");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_file_read(fifo, CTCA_FILE_MAX, &buf, &len, &eb), CTCA_ERR_IO);
    cr_assert_not_null(strstr(eb.msg, "not a regular file"), "%s", eb.msg);
    cr_assert_eq(ctca_der_or_pem_load(fifo, "CERTIFICATE REQUEST", &buf, &len, &eb), CTCA_ERR_IO);
}
