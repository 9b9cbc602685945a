/* store/open.c - opening a store, schema migrations, integrity checks. */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Schema migrations, applied in order: migrations[i] takes user_version i to
 * i + 1. Append only; never edit a step that has shipped, since stores in the
 * field already ran it.
 *
 * Version 1. Why the triggers: the invariants "one serial, one TBS" and "a
 * signed precertificate is never lost" are too important to rest on the C code
 * alone, so the schema itself refuses to delete a record, rewrite bytes once
 * written, take an illegal state transition, or edit the audit journal. */
static const char *const migrations[] = {
    "CREATE TABLE certs ("
    "  id INTEGER PRIMARY KEY,"
    "  serial TEXT NOT NULL UNIQUE CHECK ("
    "    length(serial) BETWEEN 2 AND 40 AND length(serial) % 2 = 0"
    "    AND serial NOT GLOB '*[^0-9a-f]*' AND substr(serial, 1, 2) <> '00'),"
    "  state TEXT NOT NULL CHECK (state IN ('journaled', 'precert', 'issued', 'failed')),"
    "  profile TEXT NOT NULL CHECK (length(profile) > 0),"
    "  ct_version INTEGER NOT NULL CHECK (ct_version IN (1, 2)),"
    "  csr_sha256 BLOB NOT NULL CHECK (length(csr_sha256) = 32),"
    "  tbs BLOB NOT NULL CHECK (length(tbs) > 0),"
    "  precert BLOB CHECK (precert IS NULL OR length(precert) > 0),"
    "  final BLOB CHECK (final IS NULL OR length(final) > 0),"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL CHECK (not_after >= not_before),"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  CHECK (state <> 'journaled' OR (precert IS NULL AND final IS NULL)),"
    "  CHECK (state NOT IN ('precert', 'failed') OR (precert IS NOT NULL AND final IS NULL)),"
    "  CHECK (state <> 'issued' OR (precert IS NOT NULL AND final IS NOT NULL))"
    ") STRICT;"
    "CREATE INDEX certs_by_csr ON certs (csr_sha256, created_ms);"
    "CREATE TRIGGER certs_no_delete BEFORE DELETE ON certs BEGIN"
    "  SELECT RAISE(ABORT, 'certificate records are never deleted');"
    "END;"
    "CREATE TRIGGER certs_immutable BEFORE UPDATE ON certs WHEN"
    "  NEW.id IS NOT OLD.id OR NEW.serial IS NOT OLD.serial OR NEW.tbs IS NOT OLD.tbs"
    "  OR NEW.profile IS NOT OLD.profile OR NEW.ct_version IS NOT OLD.ct_version"
    "  OR NEW.csr_sha256 IS NOT OLD.csr_sha256 OR NEW.not_before IS NOT OLD.not_before"
    "  OR NEW.not_after IS NOT OLD.not_after OR NEW.created_ms IS NOT OLD.created_ms"
    "  OR (OLD.precert IS NOT NULL AND NEW.precert IS NOT OLD.precert)"
    "  OR (OLD.final IS NOT NULL AND NEW.final IS NOT OLD.final)"
    "BEGIN SELECT RAISE(ABORT, 'journaled and signed bytes of a record are immutable'); END;"
    "CREATE TRIGGER certs_transitions BEFORE UPDATE OF state ON certs WHEN NOT ("
    "  NEW.state = OLD.state"
    "  OR (OLD.state = 'journaled' AND NEW.state = 'precert')"
    "  OR (OLD.state = 'precert' AND NEW.state IN ('failed', 'issued'))"
    "  OR (OLD.state = 'failed' AND NEW.state = 'issued'))"
    "BEGIN SELECT RAISE(ABORT, 'illegal certificate state transition'); END;"

    "CREATE TABLE scts ("
    "  id INTEGER PRIMARY KEY,"
    "  serial TEXT NOT NULL REFERENCES certs (serial),"
    "  log_id BLOB NOT NULL CHECK (length(log_id) = 32),"
    "  entry_type INTEGER NOT NULL CHECK (entry_type IN (0, 1)),"
    "  ct_version INTEGER NOT NULL CHECK (ct_version IN (1, 2)),"
    "  timestamp_ms INTEGER NOT NULL CHECK (timestamp_ms >= 0),"
    "  sct BLOB NOT NULL CHECK (length(sct) BETWEEN 1 AND 65535),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (serial, log_id, entry_type)"
    ") STRICT;"
    "CREATE TRIGGER scts_no_update BEFORE UPDATE ON scts BEGIN"
    "  SELECT RAISE(ABORT, 'stored SCTs are immutable');"
    "END;"
    "CREATE TRIGGER scts_no_delete BEFORE DELETE ON scts BEGIN"
    "  SELECT RAISE(ABORT, 'stored SCTs are never deleted');"
    "END;"

    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at_ms INTEGER NOT NULL,"
    "  event TEXT NOT NULL CHECK (length(event) > 0),"
    "  serial TEXT,"
    "  detail TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX audit_by_serial ON audit (serial, seq);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit journal is append-only');"
    "END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit journal is append-only');"
    "END;"
    "PRAGMA application_id = 1668572001;", /* CTCA_STORE_APPLICATION_ID */

    /* Version 2: deferred issuance and the queue of log submissions.
     *
     * certs gains the 'deferred' state. SQLite cannot change a CHECK in place,
     * so the table is rebuilt (lang_altertable.html, "other kinds of schema
     * changes"; migrate() turns foreign keys off around the step and checks
     * them before committing) with its rows, ids and triggers unchanged.
     *
     * queue holds one row per (serial, log, entry type) to submit; rows are
     * never deleted and a done row is final. breakers holds each log's
     * circuit breaker. */
    "CREATE TABLE certs_v2 ("
    "  id INTEGER PRIMARY KEY,"
    "  serial TEXT NOT NULL UNIQUE CHECK ("
    "    length(serial) BETWEEN 2 AND 40 AND length(serial) % 2 = 0"
    "    AND serial NOT GLOB '*[^0-9a-f]*' AND substr(serial, 1, 2) <> '00'),"
    "  state TEXT NOT NULL CHECK (state IN"
    "    ('journaled', 'precert', 'deferred', 'issued', 'failed')),"
    "  profile TEXT NOT NULL CHECK (length(profile) > 0),"
    "  ct_version INTEGER NOT NULL CHECK (ct_version IN (1, 2)),"
    "  csr_sha256 BLOB NOT NULL CHECK (length(csr_sha256) = 32),"
    "  tbs BLOB NOT NULL CHECK (length(tbs) > 0),"
    "  precert BLOB CHECK (precert IS NULL OR length(precert) > 0),"
    "  final BLOB CHECK (final IS NULL OR length(final) > 0),"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL CHECK (not_after >= not_before),"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  CHECK (state <> 'journaled' OR (precert IS NULL AND final IS NULL)),"
    "  CHECK (state NOT IN ('precert', 'deferred', 'failed')"
    "         OR (precert IS NOT NULL AND final IS NULL)),"
    "  CHECK (state <> 'issued' OR (precert IS NOT NULL AND final IS NOT NULL))"
    ") STRICT;"
    "INSERT INTO certs_v2 (id, serial, state, profile, ct_version, csr_sha256, tbs, precert,"
    "  final, not_before, not_after, created_ms, updated_ms, last_error)"
    " SELECT id, serial, state, profile, ct_version, csr_sha256, tbs, precert, final,"
    "  not_before, not_after, created_ms, updated_ms, last_error FROM certs;"
    "DROP TABLE certs;"
    "ALTER TABLE certs_v2 RENAME TO certs;"
    "CREATE INDEX certs_by_csr ON certs (csr_sha256, created_ms);"
    "CREATE INDEX certs_by_state ON certs (state, updated_ms);"
    "CREATE TRIGGER certs_no_delete BEFORE DELETE ON certs BEGIN"
    "  SELECT RAISE(ABORT, 'certificate records are never deleted');"
    "END;"
    "CREATE TRIGGER certs_immutable BEFORE UPDATE ON certs WHEN"
    "  NEW.id IS NOT OLD.id OR NEW.serial IS NOT OLD.serial OR NEW.tbs IS NOT OLD.tbs"
    "  OR NEW.profile IS NOT OLD.profile OR NEW.ct_version IS NOT OLD.ct_version"
    "  OR NEW.csr_sha256 IS NOT OLD.csr_sha256 OR NEW.not_before IS NOT OLD.not_before"
    "  OR NEW.not_after IS NOT OLD.not_after OR NEW.created_ms IS NOT OLD.created_ms"
    "  OR (OLD.precert IS NOT NULL AND NEW.precert IS NOT OLD.precert)"
    "  OR (OLD.final IS NOT NULL AND NEW.final IS NOT OLD.final)"
    "BEGIN SELECT RAISE(ABORT, 'journaled and signed bytes of a record are immutable'); END;"
    "CREATE TRIGGER certs_transitions BEFORE UPDATE OF state ON certs WHEN NOT ("
    "  NEW.state = OLD.state"
    "  OR (OLD.state = 'journaled' AND NEW.state = 'precert')"
    "  OR (OLD.state = 'precert' AND NEW.state IN ('deferred', 'failed', 'issued'))"
    "  OR (OLD.state = 'deferred' AND NEW.state IN ('failed', 'issued'))"
    "  OR (OLD.state = 'failed' AND NEW.state IN ('deferred', 'issued')))"
    "BEGIN SELECT RAISE(ABORT, 'illegal certificate state transition'); END;"

    "CREATE TABLE queue ("
    "  id INTEGER PRIMARY KEY,"
    "  serial TEXT NOT NULL REFERENCES certs (serial),"
    "  log_id BLOB NOT NULL CHECK (length(log_id) = 32),"
    "  entry_type INTEGER NOT NULL CHECK (entry_type IN (0, 1)),"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'parked')),"
    "  attempts INTEGER NOT NULL CHECK (attempts >= 0),"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  lease_owner TEXT,"
    "  lease_expiry_ms INTEGER,"
    "  last_error TEXT,"
    "  note TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  UNIQUE (serial, log_id, entry_type),"
    "  CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_expiry_ms IS NOT NULL))"
    ") STRICT;"
    "CREATE INDEX queue_due ON queue (state, next_attempt_ms);"
    "CREATE INDEX queue_by_log ON queue (log_id, entry_type);"
    "CREATE TRIGGER queue_no_delete BEFORE DELETE ON queue BEGIN"
    "  SELECT RAISE(ABORT, 'queue items are never deleted');"
    "END;"
    "CREATE TRIGGER queue_identity BEFORE UPDATE ON queue WHEN"
    "  NEW.id IS NOT OLD.id OR NEW.serial IS NOT OLD.serial OR NEW.log_id IS NOT OLD.log_id"
    "  OR NEW.entry_type IS NOT OLD.entry_type OR NEW.created_ms IS NOT OLD.created_ms"
    " BEGIN SELECT RAISE(ABORT, 'a queue item keeps its identity'); END;"
    "CREATE TRIGGER queue_done_is_final BEFORE UPDATE ON queue WHEN OLD.state = 'done'"
    " BEGIN SELECT RAISE(ABORT, 'a done queue item is final'); END;"

    "CREATE TABLE breakers ("
    "  log_id BLOB PRIMARY KEY CHECK (length(log_id) = 32),"
    "  state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),"
    "  failures INTEGER NOT NULL CHECK (failures >= 0),"
    "  open_until_ms INTEGER NOT NULL,"
    "  probe_owner TEXT,"
    "  probe_expiry_ms INTEGER,"
    "  updated_ms INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER breakers_no_delete BEFORE DELETE ON breakers BEGIN"
    "  SELECT RAISE(ABORT, 'breakers are never deleted');"
    "END;",

    /* Version 3: the owner of an unfinished record, the process issuing it
     * (written with its journal entry) or the queue worker that took it over
     * (ctca_store_claim). kernel names the boot and PID namespace in which pid
     * and start_ticks (its start time, /proc/PID/stat) identify one process,
     * so a worker sharing them can tell whether the owner still runs. A
     * record journaled before this version has no row: the time rule
     * (queue.recover_after_ms) applies to it. */
    "CREATE TABLE owners ("
    "  serial TEXT PRIMARY KEY REFERENCES certs (serial),"
    "  host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 255),"
    "  kernel TEXT NOT NULL CHECK (length(kernel) BETWEEN 1 AND 128),"
    "  pid INTEGER NOT NULL CHECK (pid > 0),"
    "  start_ticks INTEGER NOT NULL CHECK (start_ticks >= 0),"
    "  since_ms INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER owners_no_delete BEFORE DELETE ON owners BEGIN"
    "  SELECT RAISE(ABORT, 'owners are never deleted');"
    "END;",

    /* Version 4: revocation. One row per revoked serial, never updated nor
     * deleted: a revocation is final (certificateHold is not supported, so
     * there is nothing to undo). reason is an RFC 5280 5.3.1 CRLReason code
     * other than certificateHold (6), 7 (unused) and removeFromCRL (8). That
     * only a signed record can be revoked is checked by ctca_store_revoke. */
    "CREATE TABLE revocations ("
    "  serial TEXT PRIMARY KEY REFERENCES certs (serial),"
    "  reason INTEGER NOT NULL CHECK (reason IN (0, 1, 2, 3, 4, 5, 9, 10)),"
    "  revoked_ms INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations BEGIN"
    "  SELECT RAISE(ABORT, 'a revocation is final');"
    "END;"
    "CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations BEGIN"
    "  SELECT RAISE(ABORT, 'a revocation is final');"
    "END;",

    /* Version 5: what a request chose, journaled with its record so that
     * whoever finishes it (a queue worker taking over, a batch re-run)
     * honours it: the fallback mode, and the log list it was issued with
     * (the path as given and the SHA-256 of the bytes read). Written with
     * the journal entry, never changed. Records journaled before this
     * version have no row. */
    "CREATE TABLE choices ("
    "  serial TEXT PRIMARY KEY REFERENCES certs (serial),"
    "  fallback TEXT CHECK (fallback IS NULL OR fallback IN ('fail', 'defer', 'unembedded')),"
    "  log_list_path TEXT CHECK (log_list_path IS NULL"
    "    OR length(log_list_path) BETWEEN 1 AND 4096),"
    "  log_list_sha256 BLOB CHECK (log_list_sha256 IS NULL OR length(log_list_sha256) = 32),"
    "  CHECK ((log_list_path IS NULL) = (log_list_sha256 IS NULL))"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER choices_no_update BEFORE UPDATE ON choices BEGIN"
    "  SELECT RAISE(ABORT, 'a request''s choices are journaled once');"
    "END;"
    "CREATE TRIGGER choices_no_delete BEFORE DELETE ON choices BEGIN"
    "  SELECT RAISE(ABORT, 'a request''s choices are journaled once');"
    "END;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

_Static_assert(CTCA_STORE_APPLICATION_ID == 1668572001, "application_id in migration 1");

int ctca_store_schema_version(void)
{
    return SCHEMA_VERSION;
}

const char *ctca_store_errmsg(const ctca_store *s)
{
    return s ? s->eb.msg : "";
}

/* Reads a single-integer pragma such as user_version. */
static ctca_err pragma_int(ctca_store *s, const char *sql, int64_t *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, sql, &st));
    ST_TRY(st_step_row(s, st, sql, &row));
    if (!row) {
        err = st_fail(s, CTCA_ERR_STORE, "%s returned nothing", sql);
        goto out;
    }
    *out = sqlite3_column_int64(st, 0);
out:
    st_release(s, st);
    return err;
}

/* Reads a single-text pragma and compares it with want (case-insensitively). */
static ctca_err pragma_text_is(ctca_store *s, const char *sql, const char *want, bool *is)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    *is = false;
    ST_TRY(st_prepare(s, sql, &st));
    ST_TRY(st_step_row(s, st, sql, &row));
    const unsigned char *v = row ? sqlite3_column_text(st, 0) : NULL;
    *is = v != NULL && sqlite3_stricmp((const char *)v, want) == 0;
out:
    st_release(s, st);
    return err;
}

/* Refuses databases that are not ctca stores or are newer than this build. Runs
 * inside the migration transaction so the answer cannot change under us. */
static ctca_err check_identity(ctca_store *s, int64_t version)
{
    int64_t app_id = 0, tables = 0;
    CTCA_GUARD(pragma_int(s, "PRAGMA application_id", &app_id));
    if (version > SCHEMA_VERSION)
        return st_fail(s, CTCA_ERR_STORE,
                       "store schema version %lld is newer than this ctca supports (%d); "
                       "upgrade ctca",
                       (long long)version, SCHEMA_VERSION);
    if (version < 0 || (app_id != 0 && app_id != CTCA_STORE_APPLICATION_ID) ||
        (version > 0 && app_id != CTCA_STORE_APPLICATION_ID))
        return st_fail(s, CTCA_ERR_STORE, "database is not a ctca store (application_id %lld)",
                       (long long)app_id);
    if (version == 0) {
        CTCA_GUARD(pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables));
        if (tables != 0)
            return st_fail(s, CTCA_ERR_STORE,
                           "database is not a ctca store (it has tables but no ctca schema)");
    }
    return CTCA_OK;
}

/* Applies one migration step per transaction until the schema is current.
 * BEGIN IMMEDIATE serialises concurrent openers: the second one waits, then
 * re-reads user_version and finds nothing left to do. */
static ctca_err migrate(ctca_store *s, unsigned flags)
{
    ctca_err err = CTCA_OK;
    int64_t seen = 0;
    /* The common case, an up-to-date store, needs no write lock: opening must
     * not queue behind another process's writes. */
    CTCA_GUARD(pragma_int(s, "PRAGMA user_version", &seen));
    if (seen == SCHEMA_VERSION)
        return check_identity(s, seen);
    /* An empty database where a store should be is a store lost (deleted or
     * truncated): making a new one would silently forget every record, so a
     * batch re-run would issue everything again. Only ctca init creates. */
    if (seen == 0 && (flags & CTCA_STORE_CREATE) == 0) {
        CTCA_GUARD(check_identity(s, seen));
        return st_fail(s, CTCA_ERR_STORE_MISSING,
                       "the database is empty (no ctca schema): the store is lost; restore it "
                       "from a backup (only 'ctca init' creates a store)");
    }
    if ((flags & CTCA_STORE_READONLY) != 0) {
        CTCA_GUARD(check_identity(s, seen));
        return st_fail(s, CTCA_ERR_STORE,
                       "store schema version %lld is older than this ctca's (%d) and it was "
                       "opened read-only; any command that writes to it upgrades it",
                       (long long)seen, SCHEMA_VERSION);
    }
    /* A step may rebuild a table others reference; foreign keys can only be
     * switched off outside a transaction, and each step checks them itself
     * before it commits. */
    CTCA_GUARD(st_exec(s, "PRAGMA foreign_keys = OFF"));
    for (;;) {
        int64_t version = 0;
        bool current = false;
        ST_TRY(st_begin(s));
        err = pragma_int(s, "PRAGMA user_version", &version);
        if (err == CTCA_OK)
            err = check_identity(s, version);
        current = err == CTCA_OK && version == SCHEMA_VERSION;
        if (err == CTCA_OK && !current) {
            char bump[64];
            snprintf(bump, sizeof bump, "PRAGMA user_version = %d", (int)version + 1);
            err = st_exec(s, migrations[version]);
            if (err == CTCA_OK)
                err = st_foreign_key_check(s);
            if (err == CTCA_OK)
                err = st_exec(s, bump);
            if (err != CTCA_OK) {
                char step[sizeof s->eb.msg];
                snprintf(step, sizeof step, "%s", s->eb.msg);
                err = st_fail(s, err, "migrating schema to version %d: %s",
                              (int)version + 1, step);
            }
        }
        ST_TRY(st_end(s, true, err));
        if (current)
            break;
    }
out:
    if (err == CTCA_OK)
        return st_exec(s, "PRAGMA foreign_keys = ON");
    ctca_errbuf keep = s->eb;
    ctca_err on = st_exec(s, "PRAGMA foreign_keys = ON");
    (void)on; /* the connection is closed on this path anyway */
    s->eb = keep;
    return err;
}

/* Switching a new file to WAL takes an exclusive lock, and SQLite answers
 * SQLITE_BUSY there without calling the busy handler (it cannot tell a wait
 * from a deadlock), so two processes creating one store at once would see a
 * spurious failure. Retry within the busy timeout instead. */
static ctca_err enable_wal(ctca_store *s, bool *wal)
{
    ctca_err err = CTCA_OK;
    for (int waited = 0;; waited += 10) {
        err = pragma_text_is(s, "PRAGMA journal_mode = WAL", "wal", wal);
        if (err == CTCA_OK || (sqlite3_errcode(s->db) != SQLITE_BUSY &&
                               sqlite3_errcode(s->db) != SQLITE_LOCKED))
            return err;
        if (waited >= CTCA_STORE_BUSY_TIMEOUT_MS)
            return err;
        sqlite3_sleep(10);
    }
}

/* Connection settings that must hold before the schema is touched. */
static ctca_err configure(ctca_store *s, unsigned flags)
{
    bool wal = false;
    /* Defensive mode forbids writable_schema and similar footguns; an untrusted
     * schema may not call application functions from triggers or views. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    if (sqlite3_busy_timeout(s->db, CTCA_STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
        return st_sqlite_err(s, "setting the busy timeout");
    CTCA_GUARD(st_exec(s, "PRAGMA foreign_keys = ON"));
    /* A reader leaves the journal mode to the writers (switching is a write). */
    if ((flags & CTCA_STORE_READONLY) != 0)
        return CTCA_OK;
    CTCA_GUARD(enable_wal(s, &wal));
    if (!wal)
        return st_fail(s, CTCA_ERR_STORE, "the database refused WAL journal mode");
    /* FULL syncs the WAL at every commit: "stored" means on disk, even across a
     * power loss, which NORMAL does not promise in WAL mode. */
    CTCA_GUARD(st_exec(s, "PRAGMA synchronous = FULL"));
    return CTCA_OK;
}

/* uri_of: "file:PATH?QUERY" with PATH percent-encoded where a URI needs it
 * (sqlite.org/uri.html); malloc'd. */
static char *uri_of(const char *path, const char *query)
{
    size_t n = strlen(path), cap = 5 + 3 * n + 1 + strlen(query) + 1;
    char *u = malloc(cap), *w = u;
    if (u == NULL)
        return NULL;
    w += sprintf(w, "file:");
    for (const char *p = path; *p != '\0'; p++) {
        if (*p == '?' || *p == '#' || *p == '%')
            w += sprintf(w, "%%%02X", (unsigned char)*p);
        else
            *w++ = *p;
    }
    sprintf(w, "?%s", query);
    return u;
}

/* dir_writable: whether we may create files (the WAL index) beside path. */
static bool dir_writable(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return access(".", W_OK) == 0;
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) > 0 ? (int)(slash - path) : 1,
                     path);
    return n > 0 && (size_t)n < sizeof dir && access(dir, W_OK) == 0;
}

/* wal_empty: no write-ahead log beside path, or an empty one: nothing a
 * writer has not checkpointed into the database file. */
static bool wal_empty(const char *path)
{
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) != 0 ? errno == ENOENT : st.st_size == 0;
}

/* open_db: the connection for flags. A reader in a directory it cannot
 * write (a read-only CA directory) cannot create the WAL index SQLite
 * needs to read a WAL database; when no write-ahead log is there either,
 * the database file alone is the whole store and is opened immutable
 * (no locks, no WAL index). A write-ahead log that cannot be read is
 * reported: the store must not be read without it. */
static ctca_err open_db(ctca_store *s, const char *path, unsigned flags)
{
    if ((flags & CTCA_STORE_READONLY) == 0) {
        int o = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
        if ((flags & CTCA_STORE_CREATE) != 0)
            o |= SQLITE_OPEN_CREATE;
        int rc = sqlite3_open_v2(path, &s->db, o, NULL);
        if (rc == SQLITE_OK)
            return CTCA_OK;
        if (s->db == NULL)
            return st_fail(s, CTCA_ERR_NOMEM, "opening the database: out of memory");
        if ((flags & CTCA_STORE_CREATE) == 0 && rc == SQLITE_CANTOPEN &&
            access(path, F_OK) != 0 && errno == ENOENT)
            return st_fail(s, CTCA_ERR_STORE_MISSING,
                           "the database file is missing: the store is lost, restore it from a "
                           "backup (only 'ctca init' creates a store)");
        return st_sqlite_err(s, "opening the database");
    }
    bool immutable = !dir_writable(path) && wal_empty(path);
    char *uri = uri_of(path, immutable ? "immutable=1" : "mode=ro");
    if (uri == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "opening the database: out of memory");
    int rc = sqlite3_open_v2(uri, &s->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, NULL);
    free(uri);
    if (rc == SQLITE_OK)
        return CTCA_OK;
    if (s->db == NULL)
        return st_fail(s, CTCA_ERR_NOMEM, "opening the database: out of memory");
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return st_fail(s, CTCA_ERR_STORE_MISSING,
                       "the database file is missing: the store is lost, restore it from a "
                       "backup (only 'ctca init' creates a store)");
    return st_sqlite_err(s, "opening the database read-only");
}

ctca_err ctca_store_open_ex(const char *path, unsigned flags, ctca_store **out, ctca_errbuf *eb)
{
    ctca_err err = CTCA_OK;
    ctca_store *s = NULL;
    if (out == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "no place for the opened store");
    *out = NULL;
    /* "" and ":memory:" would give a private temporary database: nothing
     * written there is durable, which is the store's whole point. */
    if (path == NULL || path[0] == '\0' || strcmp(path, ":memory:") == 0)
        return ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "store path must name a file");
    if ((flags & ~(CTCA_STORE_CREATE | CTCA_STORE_READONLY)) != 0 ||
        flags == (CTCA_STORE_CREATE | CTCA_STORE_READONLY))
        return ctca_errbuf_set(eb, CTCA_ERR_VALUE_RANGE, "store %s: invalid open flags", path);
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return ctca_errbuf_set(eb, CTCA_ERR_NOMEM, "allocating the store");
    /* A zero-length file is an empty SQLite database to SQLite: refused
     * before anything (the switch to WAL) writes to it. */
    struct stat st;
    if ((flags & CTCA_STORE_CREATE) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size == 0) {
        err = st_fail(s, CTCA_ERR_STORE_MISSING,
                      "the database file is empty (0 bytes): the store is lost, restore it "
                      "from a backup (only 'ctca init' creates a store)");
        goto out;
    }
    ST_TRY(open_db(s, path, flags));
    sqlite3_extended_result_codes(s->db, 1);
    ST_TRY(configure(s, flags));
    ST_TRY(migrate(s, flags));
    s->eb.msg[0] = '\0';
    *out = s;
    s = NULL;
out:
    if (err != CTCA_OK)
        ctca_errbuf_set(eb, err, "store %s: %s", path, s->eb.msg);
    ctca_store_close(s);
    return err;
}

ctca_err ctca_store_open(const char *path, ctca_store **out, ctca_errbuf *eb)
{
    return ctca_store_open_ex(path, 0, out, eb);
}

ctca_err ctca_store_create(const char *path, ctca_store **out, ctca_errbuf *eb)
{
    return ctca_store_open_ex(path, CTCA_STORE_CREATE, out, eb);
}

void ctca_store_close(ctca_store *s)
{
    if (s == NULL)
        return;
    /* With the kept statements finalized this closes for real (and
     * checkpoints the WAL when we are the last user). */
    st_cache_clear(s);
    sqlite3_close_v2(s->db);
    free(s);
}

ctca_err ctca_store_integrity_check(ctca_store *s)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, "PRAGMA integrity_check", &st));
    ST_TRY(st_step_row(s, st, "PRAGMA integrity_check", &row));
    const unsigned char *v = row ? sqlite3_column_text(st, 0) : NULL;
    if (v == NULL || strcmp((const char *)v, "ok") != 0) {
        err = st_fail(s, CTCA_ERR_STORE, "integrity check failed: %s",
                      v ? (const char *)v : "no answer");
        goto out;
    }
    ST_TRY(st_foreign_key_check(s));
out:
    st_release(s, st);
    return err;
}

ctca_err st_foreign_key_check(ctca_store *s)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    ST_TRY(st_prepare(s, "PRAGMA foreign_key_check", &st));
    ST_TRY(st_step_row(s, st, "PRAGMA foreign_key_check", &row));
    if (row) {
        const unsigned char *table = sqlite3_column_text(st, 0);
        err = st_fail(s, CTCA_ERR_STORE, "foreign key check failed in table %s, row %lld",
                      table ? (const char *)table : "?",
                      (long long)sqlite3_column_int64(st, 1));
    }
out:
    st_release(s, st);
    return err;
}

const char *st_migration_sql(int version)
{
    return version >= 0 && version < SCHEMA_VERSION ? migrations[version] : NULL;
}
