/* Opening a store: pragmas, migrations, refusing what is not ours, durability
 * across reopen, and sharing one file between connections and processes. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctca/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"

static char *dir;
static char path[512];

static void setup(void)
{
    dir = th_tmpdir();
    snprintf(path, sizeof path, "%s/ctca.db", dir);
}

static void teardown(void)
{
    th_rmdir(dir);
    free(dir);
}

TestSuite(store_open, .init = setup, .fini = teardown);

#define OK(s, expr)                                                                     \
    do {                                                                                \
        ctca_err e_ = (expr);                                                           \
        cr_assert_eq(e_, CTCA_OK, "%s: %s (%s)", #expr, ctca_err_name(e_),              \
                     ctca_store_errmsg(s));                                             \
    } while (0)

static ctca_store *open_ok(void)
{
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    ctca_err err = ctca_store_create(path, &s, &eb);
    cr_assert_eq(err, CTCA_OK, "open: %s (%s)", ctca_err_name(err), eb.msg);
    cr_assert_not_null(s);
    return s;
}

static void journal(ctca_store *s, const char *serial, int64_t now)
{
    uint8_t digest[32], tbs[64];
    memset(digest, 0x11, sizeof digest);
    memset(tbs, 0x30, sizeof tbs);
    memcpy(tbs + 1, serial, strlen(serial) < 60 ? strlen(serial) : 60);
    ctca_store_journal_entry e = {.serial = serial, .profile = "tls-server", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .not_before = 1700000000, .not_after = 1700864000,
                                  .now_ms = now};
    OK(s, ctca_store_journal(s, &e));
}

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sqlite3_errmsg(db));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t pragma_int_at(const char *file, const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int64_t v = pragma_int(db, sql);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(store_open, wal_mode_and_durability_pragmas_are_on)
{
    ctca_store *s = open_ok();
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    cr_assert_eq(pragma_int(s->db, "PRAGMA synchronous"), 2, "synchronous is FULL");
    cr_assert_eq(pragma_int(s->db, "PRAGMA foreign_keys"), 1);
    cr_assert_eq(pragma_int(s->db, "PRAGMA busy_timeout"), CTCA_STORE_BUSY_TIMEOUT_MS);
    ctca_store_close(s);

    /* WAL is a property of the file: a plain connection sees it too. */
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(store_open, new_store_is_migrated_to_the_current_version)
{
    ctca_store *s = open_ok();
    cr_assert_eq(pragma_int(s->db, "PRAGMA user_version"), ctca_store_schema_version());
    cr_assert_eq(pragma_int(s->db, "PRAGMA application_id"), CTCA_STORE_APPLICATION_ID);
    ctca_store_close(s);
    /* Reopening an up-to-date store changes nothing. */
    s = open_ok();
    cr_assert_eq(pragma_int(s->db, "PRAGMA user_version"), ctca_store_schema_version());
    ctca_store_close(s);
}

Test(store_open, integrity_check_is_ok_on_a_fresh_and_a_used_store)
{
    ctca_store *s = open_ok();
    OK(s, ctca_store_integrity_check(s));
    journal(s, "0a1b", 1000);
    OK(s, ctca_store_integrity_check(s));
    ctca_store_close(s);
}

Test(store_open, data_survives_close_and_reopen)
{
    ctca_store *s = open_ok();
    journal(s, "7f01", 1000);
    uint8_t pre[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    OK(s, ctca_store_put_precert(s, "7f01", pre, sizeof pre, 2000));
    ctca_store_close(s);

    s = open_ok();
    ctca_store_cert c;
    OK(s, ctca_store_get_cert(s, "7f01", &c));
    cr_assert_eq(c.state, CTCA_STORE_PRECERT);
    cr_assert_eq(c.precert_len, sizeof pre);
    cr_assert_arr_eq(c.precert_der, pre, sizeof pre);
    cr_assert_eq(c.created_ms, 1000);
    cr_assert_eq(c.updated_ms, 2000);
    ctca_store_cert_cleanup(&c);
    ctca_store_close(s);
}

Test(store_open, two_connections_on_one_file_both_write)
{
    ctca_store *a = open_ok();
    ctca_store *b = open_ok();
    char serial[16];
    for (int i = 1; i <= 100; i++) {
        snprintf(serial, sizeof serial, "%02x%02x", 0xa0, i);
        journal(a, serial, i);
        snprintf(serial, sizeof serial, "%02x%02x", 0xb0, i);
        journal(b, serial, i);
    }
    /* Each sees the other's writes. */
    bool exists = false;
    OK(a, ctca_store_serial_exists(a, "b064", &exists));
    cr_assert(exists);
    OK(b, ctca_store_serial_exists(b, "a064", &exists));
    cr_assert(exists);
    ctca_store_close(a);
    ctca_store_close(b);
}

/* Holds the write lock for a while from a plain SQLite connection. */
static void *hold_write_lock(void *arg)
{
    sqlite3 *db = arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    return NULL;
}

Test(store_open, a_busy_writer_is_waited_for_not_reported)
{
    ctca_store *s = open_ok();
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "BEGIN IMMEDIATE; INSERT INTO audit (at_ms, event, detail)"
                              " VALUES (1, 'held', '')",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, hold_write_lock, db), 0);
    /* Blocks until the other connection commits, then succeeds. */
    journal(s, "0b0b", 5);
    OK(s, ctca_store_audit(s, 6, "after", NULL, NULL));
    pthread_join(t, NULL);
    sqlite3_close(db);

    ctca_store_audit_list l;
    OK(s, ctca_store_audit_read(s, 0, 10, &l));
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(l.items[0].event, "held");
    cr_assert_str_eq(l.items[1].event, "cert.journaled");
    cr_assert_str_eq(l.items[2].event, "after");
    ctca_store_audit_list_cleanup(&l);
    ctca_store_close(s);
}

Test(store_open, two_processes_write_concurrently)
{
    /* Both race to create the file and its schema, then to write. */
    pid_t pid = fork();
    cr_assert(pid >= 0);
    int base = pid == 0 ? 0xc0 : 0xd0;
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    int failures = ctca_store_create(path, &s, &eb) != CTCA_OK;
    for (int i = 0; s != NULL && i < 60; i++) {
        char serial[8];
        uint8_t digest[32] = {0}, tbs[8] = {0x30, 0x06, 0x02, 0x01, (uint8_t)base, 0x02, 0x01,
                                            (uint8_t)i};
        snprintf(serial, sizeof serial, "%02x%02x", base, i);
        ctca_store_journal_entry e = {.serial = serial, .profile = "p", .ct_version = 2,
                                      .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                      .now_ms = i};
        if (ctca_store_journal(s, &e) != CTCA_OK) {
            fprintf(stderr, "pid %d: %s\n", (int)getpid(), ctca_store_errmsg(s));
            failures++;
        }
    }
    ctca_store_close(s);
    if (pid == 0)
        _exit(failures == 0 ? 0 : 1);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed to write");
    cr_assert_eq(failures, 0, "parent failed to write: %s", eb.msg);

    s = open_ok();
    bool exists = false;
    OK(s, ctca_store_serial_exists(s, "c03b", &exists));
    cr_assert(exists);
    OK(s, ctca_store_serial_exists(s, "d03b", &exists));
    cr_assert(exists);
    cr_assert_eq(pragma_int(s->db, "SELECT count(*) FROM certs"), 120);
    OK(s, ctca_store_integrity_check(s));
    ctca_store_close(s);
}

/* What a write call reported as stored is on disk when it returns: a process
 * killed right after (no close, no checkpoint) loses none of it. */
Test(store_open, writes_survive_the_writer_being_killed)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        ctca_store *s = NULL;
        ctca_errbuf eb;
        uint8_t pre[] = {0x30, 0x00}, log[32] = {9}, sct[] = {0, 1, 2};
        if (ctca_store_create(path, &s, &eb) != CTCA_OK)
            _exit(2);
        journal(s, "5c", 1);
        if (ctca_store_put_precert(s, "5c", pre, sizeof pre, 2) != CTCA_OK ||
            ctca_store_add_sct(s, "5c", log, 1, 1, 3, sct, sizeof sct, 4) != CTCA_OK)
            _exit(3);
        raise(SIGKILL);
        _exit(4);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);

    ctca_store *s = open_ok();
    ctca_store_cert c;
    OK(s, ctca_store_get_cert(s, "5c", &c));
    cr_assert_eq(c.state, CTCA_STORE_PRECERT);
    ctca_store_cert_cleanup(&c);
    ctca_store_sct_list l;
    OK(s, ctca_store_list_scts(s, "5c", &l));
    cr_assert_eq(l.count, 1);
    ctca_store_sct_list_cleanup(&l);
    OK(s, ctca_store_integrity_check(s));
    ctca_store_close(s);
}

Test(store_open, a_newer_schema_version_is_refused)
{
    ctca_store_close(open_ok());
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", ctca_store_schema_version() + 1);
    raw_exec(sql);

    ctca_store *s = (ctca_store *)1;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, "newer"), "message: %s", eb.msg);
}

Test(store_open, a_file_that_is_not_a_database_is_refused_with_a_message)
{
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    memcpy(junk, "this is not a database\n", 23);
    th_write_file(path, junk, sizeof junk);

    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, "not a database"), "message: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, path), "message names the file: %s", eb.msg);
}

Test(store_open, another_applications_database_is_refused)
{
    raw_exec("CREATE TABLE notes (body TEXT)");
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, "not a ctca store"), "message: %s", eb.msg);
}

Test(store_open, an_unopenable_path_is_a_store_error_with_a_message)
{
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/ctca.db", dir);
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_create(bad, &s, &eb), CTCA_ERR_STORE);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, "unable to open"), "message: %s", eb.msg);
}

/* A deleted ctca.db used to be recreated empty by whatever command ran next
 * (a batch re-run then issued everything again): only ctca_store_create
 * (ctca init) creates. */
Test(store_open, a_missing_store_is_refused_and_not_created)
{
    ctca_store *s = (ctca_store *)1;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE_MISSING);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, path), "message names the file: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "missing"), "message: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "ctca init"), "message: %s", eb.msg);
    cr_assert_eq(access(path, F_OK), -1, "the store was created");
    cr_assert_eq(ctca_store_open_ex(path, CTCA_STORE_READONLY, &s, &eb), CTCA_ERR_STORE_MISSING);
    cr_assert_eq(access(path, F_OK), -1, "the store was created");
}

Test(store_open, a_zero_length_store_is_refused_and_left_as_it_is)
{
    th_write_file(path, "", 0);
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE_MISSING);
    cr_assert_null(s);
    cr_assert_not_null(strstr(eb.msg, path), "message names the file: %s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "empty"), "message: %s", eb.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 0, "the empty file was given a schema");
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    cr_assert_eq(access(wal, F_OK), -1);
    /* ctca init's way still makes a store of it */
    OK(s, ctca_store_create(path, &s, &eb));
    ctca_store_close(s);
}

/* An SQLite database with nothing in it (no ctca schema, no tables). */
Test(store_open, a_database_without_the_ctca_schema_is_refused_as_missing)
{
    raw_exec("CREATE TABLE t (x); DROP TABLE t;");
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open(path, &s, &eb), CTCA_ERR_STORE_MISSING);
    cr_assert_not_null(strstr(eb.msg, "empty"), "message: %s", eb.msg);
    cr_assert_eq(pragma_int_at(path, "SELECT count(*) FROM sqlite_schema"), 0);
}

Test(store_open, a_read_only_connection_reads_and_never_writes)
{
    ctca_store *s = open_ok();
    journal(s, "7a", 1);
    ctca_store_close(s);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);

    ctca_errbuf eb = {{0}};
    s = NULL;
    cr_assert_eq(ctca_store_open_ex(path, CTCA_STORE_READONLY, &s, &eb), CTCA_OK, "%s", eb.msg);
    bool exists = false;
    OK(s, ctca_store_serial_exists(s, "7a", &exists));
    cr_assert(exists);
    uint8_t digest[32] = {0}, tbs[2] = {0x30, 0x00};
    ctca_store_journal_entry e = {.serial = "7b", .profile = "p", .ct_version = 1,
                                  .csr_sha256 = digest, .tbs = tbs, .tbs_len = sizeof tbs,
                                  .now_ms = 2};
    cr_assert_eq(ctca_store_journal(s, &e), CTCA_ERR_STORE);
    ctca_store_close(s);
    cr_assert_eq(stat(path, &after), 0);
    cr_assert_eq(before.st_mtime, after.st_mtime);
    cr_assert_eq(before.st_size, after.st_size);
}

Test(store_open, a_read_only_open_does_not_migrate_an_older_schema)
{
    ctca_store_close(open_ok());
    raw_exec("PRAGMA user_version = 3");
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open_ex(path, CTCA_STORE_READONLY, &s, &eb), CTCA_ERR_STORE);
    cr_assert_not_null(strstr(eb.msg, "read-only"), "message: %s", eb.msg);
    cr_assert_eq(pragma_int_at(path, "PRAGMA user_version"), 3);
    cr_assert_eq(ctca_store_open_ex(path, CTCA_STORE_READONLY | CTCA_STORE_CREATE, &s, &eb),
                 CTCA_ERR_VALUE_RANGE);
}

Test(store_open, a_path_that_names_no_file_is_refused)
{
    ctca_store *s = NULL;
    ctca_errbuf eb = {{0}};
    cr_assert_eq(ctca_store_open("", &s, &eb), CTCA_ERR_VALUE_RANGE);
    cr_assert_eq(ctca_store_open(":memory:", &s, &eb), CTCA_ERR_VALUE_RANGE);
    cr_assert_eq(ctca_store_open(NULL, &s, &eb), CTCA_ERR_VALUE_RANGE);
    cr_assert_null(s);
}

Test(store_open, close_accepts_null)
{
    ctca_store_close(NULL);
}
