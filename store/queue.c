/* store/queue.c - the queue of log submissions and each log's circuit breaker.
 *
 * Every change of an item happens in one BEGIN IMMEDIATE transaction that
 * first re-reads the item, so two connections (threads, processes) racing for
 * one item serialise on SQLite's write lock and the loser sees the winner's
 * state: a lease is taken once, and only its owner may complete or fail it. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const queue_state_names[] = {
    [CTCA_QUEUE_PENDING] = "pending",
    [CTCA_QUEUE_LEASED] = "leased",
    [CTCA_QUEUE_DONE] = "done",
    [CTCA_QUEUE_PARKED] = "parked",
};

static const char *const breaker_state_names[] = {
    [CTCA_BREAKER_CLOSED] = "closed",
    [CTCA_BREAKER_OPEN] = "open",
    [CTCA_BREAKER_HALF_OPEN] = "half_open",
};

#define N_QUEUE_STATES (sizeof queue_state_names / sizeof queue_state_names[0])
#define N_BREAKER_STATES (sizeof breaker_state_names / sizeof breaker_state_names[0])

const char *ctca_store_queue_state_name(ctca_store_queue_state st)
{
    if ((int)st < 0 || (size_t)st >= N_QUEUE_STATES)
        return "unknown";
    return queue_state_names[st];
}

const char *ctca_store_breaker_state_name(ctca_store_breaker_state st)
{
    if ((int)st < 0 || (size_t)st >= N_BREAKER_STATES)
        return "unknown";
    return breaker_state_names[st];
}

/* Maps column text to its index in names; CTCA_ERR_STORE for anything else. */
static ctca_err parse_name(ctca_store *s, const unsigned char *text, const char *const *names,
                           size_t n, int *out)
{
    for (size_t i = 0; text != NULL && i < n; i++) {
        if (strcmp((const char *)text, names[i]) == 0) {
            *out = (int)i;
            return CTCA_OK;
        }
    }
    return st_fail(s, CTCA_ERR_STORE, "unknown state '%s' in the store",
                   text ? (const char *)text : "(null)");
}

int64_t ctca_store_queue_backoff_ms(const ctca_store_queue_policy *p, unsigned attempts,
                                    int64_t retry_after_ms, uint32_t rnd)
{
    int64_t d = p->backoff_base_ms, cap = p->backoff_max_ms;
    for (unsigned i = 1; i < attempts && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    int64_t half = d / 2;
    d = d - half + (half > 0 ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
    if (d < retry_after_ms)
        d = retry_after_ms;
    return d > 0 ? d : 1;
}

/* ---- argument checks ---------------------------------------------------- */

static ctca_err check_policy(ctca_store *s, const ctca_store_queue_policy *p)
{
    if (p == NULL || p->max_attempts == 0 || p->backoff_base_ms == 0 ||
        p->backoff_max_ms < p->backoff_base_ms || p->breaker_failures == 0 ||
        p->breaker_cooldown_ms == 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE,
                       "queue policy needs non-zero attempts, backoff (base <= max) and "
                       "breaker settings");
    return CTCA_OK;
}

static ctca_err check_entry_type(ctca_store *s, int entry_type)
{
    if (entry_type != 0 && entry_type != 1)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "entry type %d is neither 0 nor 1", entry_type);
    return CTCA_OK;
}

static ctca_err check_owner(ctca_store *s, const char *owner)
{
    return st_check_text(s, "lease owner", owner, CTCA_STORE_OWNER_MAX, false);
}

/* ---- reading items -------------------------------------------------------- */

#define ITEM_FIELDS                                                                     \
    "SELECT id, serial, log_id, entry_type, state, attempts, next_attempt_ms,"          \
    " lease_owner, lease_expiry_ms, last_error, note, created_ms, updated_ms"
#define ITEM_COLUMNS ITEM_FIELDS " FROM queue "

/* Appends the row st is positioned on (ITEM_COLUMNS) to l. */
static ctca_err append_item(ctca_store *s, sqlite3_stmt *st, ctca_store_queue_items *l,
                            size_t *cap)
{
    if (l->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        ctca_store_queue_item *p = realloc(l->items, ncap * sizeof *p);
        if (p == NULL)
            return st_fail(s, CTCA_ERR_NOMEM, "growing the item list");
        l->items = p;
        *cap = ncap;
    }
    ctca_store_queue_item *it = &l->items[l->count];
    memset(it, 0, sizeof *it);
    l->count++; /* counted first, so cleanup frees a half-read item */
    const unsigned char *serial = sqlite3_column_text(st, 1);
    const void *log_id = sqlite3_column_blob(st, 2);
    const unsigned char *owner = sqlite3_column_text(st, 7);
    if (serial == NULL || strlen((const char *)serial) > CTCA_STORE_SERIAL_MAX ||
        log_id == NULL || sqlite3_column_bytes(st, 2) != CTCA_STORE_LOG_ID_LEN ||
        (owner != NULL && strlen((const char *)owner) > CTCA_STORE_OWNER_MAX))
        return st_fail(s, CTCA_ERR_STORE, "queue item has a malformed serial, log ID or owner");
    int state = 0;
    CTCA_GUARD(parse_name(s, sqlite3_column_text(st, 4), queue_state_names, N_QUEUE_STATES,
                          &state));
    it->id = sqlite3_column_int64(st, 0);
    memcpy(it->serial, serial, strlen((const char *)serial) + 1);
    memcpy(it->log_id, log_id, CTCA_STORE_LOG_ID_LEN);
    it->entry_type = sqlite3_column_int(st, 3);
    it->state = (ctca_store_queue_state)state;
    it->attempts = (unsigned)sqlite3_column_int64(st, 5);
    it->next_attempt_ms = sqlite3_column_int64(st, 6);
    if (owner != NULL)
        memcpy(it->lease_owner, owner, strlen((const char *)owner) + 1);
    it->lease_expiry_ms = sqlite3_column_int64(st, 8);
    CTCA_GUARD(st_col_text_dup(s, st, 9, &it->last_error));
    CTCA_GUARD(st_col_text_dup(s, st, 10, &it->note));
    it->created_ms = sqlite3_column_int64(st, 11);
    it->updated_ms = sqlite3_column_int64(st, 12);
    return CTCA_OK;
}

void ctca_store_queue_items_cleanup(ctca_store_queue_items *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].last_error);
        free(l->items[i].note);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- adding ---------------------------------------------------------------- */

static void item_detail(char *buf, size_t n, const uint8_t *log_id, int entry_type,
                        const char *extra)
{
    char log_hex[2 * CTCA_STORE_LOG_ID_LEN + 1];
    st_hex(log_id, CTCA_STORE_LOG_ID_LEN, log_hex);
    snprintf(buf, n, "log_id=%s entry_type=%d%s%s", log_hex, entry_type, extra ? " " : "",
             extra ? extra : "");
}

ctca_err st_queue_insert(ctca_store *s, const char *serial, const uint8_t *log_id,
                         int entry_type, int64_t now_ms, bool *added)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false, revive = false;
    char detail[2 * CTCA_STORE_LOG_ID_LEN + 64];
    if (added != NULL)
        *added = false;
    ST_TRY(st_prepare(s, "SELECT state FROM queue WHERE serial = ?1 AND log_id = ?2"
                         " AND entry_type = ?3",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_blob(s, st, 2, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_i64(s, st, 3, entry_type));
    ST_TRY(st_step_row(s, st, "looking up the queue item", &row));
    if (row) {
        const unsigned char *state = sqlite3_column_text(st, 0);
        revive = state != NULL && strcmp((const char *)state, "parked") == 0;
        if (!revive)
            goto out; /* already queued, leased or done */
    }
    st_release(s, st);
    st = NULL;
    ST_TRY(st_prepare(s,
                      revive ? "UPDATE queue SET state = 'pending', attempts = 0,"
                               " next_attempt_ms = ?4, note = NULL, updated_ms = ?4"
                               " WHERE serial = ?1 AND log_id = ?2 AND entry_type = ?3"
                             : "INSERT INTO queue (serial, log_id, entry_type, state, attempts,"
                               " next_attempt_ms, created_ms, updated_ms)"
                               " VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4)",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_blob(s, st, 2, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_i64(s, st, 3, entry_type));
    ST_TRY(st_bind_i64(s, st, 4, now_ms));
    ST_TRY(st_step_done(s, st, "queueing the item"));
    item_detail(detail, sizeof detail, log_id, entry_type, revive ? "revived" : NULL);
    ST_TRY(st_audit_append(s, now_ms, "queue.added", serial, detail));
    if (added != NULL)
        *added = true;
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_queue_add(ctca_store *s, const char *serial, int entry_type,
                              const uint8_t *log_ids, size_t n_logs, int64_t now_ms,
                              size_t *added)
{
    ctca_err err = CTCA_OK;
    size_t n = 0;
    if (added != NULL)
        *added = 0;
    CTCA_GUARD(st_check_serial(s, serial));
    CTCA_GUARD(check_entry_type(s, entry_type));
    CTCA_GUARD(st_check_log_ids(s, log_ids, n_logs));
    ST_TRY(st_begin(s));
    err = st_check_entry_signed(s, serial, entry_type);
    for (size_t i = 0; err == CTCA_OK && i < n_logs; i++) {
        bool one = false;
        err = st_queue_insert(s, serial, log_ids + i * CTCA_STORE_LOG_ID_LEN, entry_type,
                              now_ms, &one);
        n += one;
    }
    err = st_end(s, true, err);
    if (err == CTCA_OK && added != NULL)
        *added = n;
out:
    return err;
}

ctca_err ctca_store_queue_backfill(ctca_store *s, const uint8_t *log_id, int64_t since_s,
                                   int64_t now_ms, size_t *added)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    char detail[2 * CTCA_STORE_LOG_ID_LEN + 96], extra[64];
    *added = 0;
    if (log_id == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "log ID is missing");
    ST_TRY(st_begin(s));
    /* One statement: the set it selects cannot change under the insert. */
    ST_TRY(st_prepare(s,
                      "INSERT INTO queue (serial, log_id, entry_type, state, attempts,"
                      " next_attempt_ms, created_ms, updated_ms)"
                      " SELECT c.serial, ?1, 0, 'pending', 0, ?3, ?3, ?3 FROM certs c"
                      " WHERE c.state = 'issued' AND c.not_before >= ?2"
                      " AND NOT EXISTS (SELECT 1 FROM scts t"
                      "  WHERE t.serial = c.serial AND t.log_id = ?1)"
                      " AND NOT EXISTS (SELECT 1 FROM queue q"
                      "  WHERE q.serial = c.serial AND q.log_id = ?1 AND q.entry_type = 0)"
                      " ORDER BY c.id",
                      &st));
    ST_TRY(st_bind_blob(s, st, 1, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_i64(s, st, 2, since_s));
    ST_TRY(st_bind_i64(s, st, 3, now_ms));
    ST_TRY(st_step_done(s, st, "queueing the back-fill"));
    *added = (size_t)sqlite3_changes(s->db);
    snprintf(extra, sizeof extra, "since=%lld items=%zu", (long long)since_s, *added);
    item_detail(detail, sizeof detail, log_id, 0, extra);
    ST_TRY(st_audit_append(s, now_ms, "queue.backfill", NULL, detail));
out:
    st_release(s, st);
    err = st_end(s, true, err);
    if (err != CTCA_OK)
        *added = 0;
    return err;
}

/* ---- breakers ---------------------------------------------------------------- */

typedef struct breaker_row {
    bool found;
    ctca_store_breaker b;
    char probe_owner[CTCA_STORE_OWNER_MAX + 1];
    int64_t probe_expiry_ms;
} breaker_row;

static ctca_err breaker_read(ctca_store *s, const uint8_t *log_id, breaker_row *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    memcpy(out->b.log_id, log_id, CTCA_STORE_LOG_ID_LEN);
    ST_TRY(st_prepare(s, "SELECT state, failures, open_until_ms, probe_owner, probe_expiry_ms,"
                         " updated_ms FROM breakers WHERE log_id = ?1",
                      &st));
    ST_TRY(st_bind_blob(s, st, 1, log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_step_row(s, st, "reading the breaker", &out->found));
    if (!out->found)
        goto out;
    int state = 0;
    ST_TRY(parse_name(s, sqlite3_column_text(st, 0), breaker_state_names, N_BREAKER_STATES,
                      &state));
    out->b.state = (ctca_store_breaker_state)state;
    out->b.failures = (unsigned)sqlite3_column_int64(st, 1);
    out->b.open_until_ms = sqlite3_column_int64(st, 2);
    const unsigned char *owner = sqlite3_column_text(st, 3);
    if (owner != NULL)
        snprintf(out->probe_owner, sizeof out->probe_owner, "%s", (const char *)owner);
    out->probe_expiry_ms = sqlite3_column_int64(st, 4);
    out->b.updated_ms = sqlite3_column_int64(st, 5);
out:
    st_release(s, st);
    return err;
}

/* Writes r (probe_owner "" is NULL) and audits a change of state from was. */
static ctca_err breaker_write(ctca_store *s, const breaker_row *r, ctca_store_breaker_state was,
                              int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ST_TRY(st_prepare(s,
                      "INSERT INTO breakers (log_id, state, failures, open_until_ms, probe_owner,"
                      " probe_expiry_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                      " ON CONFLICT (log_id) DO UPDATE SET state = ?2, failures = ?3,"
                      " open_until_ms = ?4, probe_owner = ?5, probe_expiry_ms = ?6,"
                      " updated_ms = ?7",
                      &st));
    ST_TRY(st_bind_blob(s, st, 1, r->b.log_id, CTCA_STORE_LOG_ID_LEN));
    ST_TRY(st_bind_text(s, st, 2, ctca_store_breaker_state_name(r->b.state)));
    ST_TRY(st_bind_i64(s, st, 3, r->b.failures));
    ST_TRY(st_bind_i64(s, st, 4, r->b.open_until_ms));
    ST_TRY(st_bind_text(s, st, 5, r->probe_owner[0] ? r->probe_owner : NULL));
    if (r->probe_owner[0])
        ST_TRY(st_bind_i64(s, st, 6, r->probe_expiry_ms));
    else
        ST_TRY(st_bind_null(s, st, 6));
    ST_TRY(st_bind_i64(s, st, 7, now_ms));
    ST_TRY(st_step_done(s, st, "updating the breaker"));
    bool opened = r->b.state == CTCA_BREAKER_OPEN && was != CTCA_BREAKER_OPEN;
    bool closed = r->b.state == CTCA_BREAKER_CLOSED && was != CTCA_BREAKER_CLOSED;
    if (opened || closed) {
        char detail[2 * CTCA_STORE_LOG_ID_LEN + 96], log_hex[2 * CTCA_STORE_LOG_ID_LEN + 1];
        st_hex(r->b.log_id, CTCA_STORE_LOG_ID_LEN, log_hex);
        snprintf(detail, sizeof detail, "log_id=%s failures=%u open_until_ms=%lld", log_hex,
                 r->b.failures, (long long)r->b.open_until_ms);
        ST_TRY(st_audit_append(s, now_ms, opened ? "breaker.open" : "breaker.closed", NULL,
                               detail));
    }
out:
    st_release(s, st);
    return err;
}

/* The log answered: its breaker closes. */
static ctca_err breaker_success(ctca_store *s, const uint8_t *log_id, int64_t now_ms)
{
    breaker_row r;
    CTCA_GUARD(breaker_read(s, log_id, &r));
    if (!r.found || (r.b.state == CTCA_BREAKER_CLOSED && r.b.failures == 0))
        return CTCA_OK;
    ctca_store_breaker_state was = r.b.state;
    r.b.state = CTCA_BREAKER_CLOSED;
    r.b.failures = 0;
    r.probe_owner[0] = '\0';
    return breaker_write(s, &r, was, now_ms);
}

/* The log failed: count it; open at the threshold, after a failed probe, or
 * at once when the log asked for a pause with Retry-After. */
static ctca_err breaker_failure(ctca_store *s, const uint8_t *log_id, int64_t retry_after_ms,
                                const ctca_store_queue_policy *p, int64_t now_ms)
{
    breaker_row r;
    CTCA_GUARD(breaker_read(s, log_id, &r));
    ctca_store_breaker_state was = r.found ? r.b.state : CTCA_BREAKER_CLOSED;
    r.b.failures++;
    int64_t until = 0;
    if (retry_after_ms > 0)
        until = now_ms + retry_after_ms;
    if (was == CTCA_BREAKER_HALF_OPEN || r.b.failures >= p->breaker_failures) {
        int64_t cool = now_ms + (int64_t)p->breaker_cooldown_ms;
        if (cool > until)
            until = cool;
    }
    if (until > 0) {
        r.b.state = CTCA_BREAKER_OPEN;
        if (was != CTCA_BREAKER_OPEN || until > r.b.open_until_ms)
            r.b.open_until_ms = until;
        r.probe_owner[0] = '\0';
    }
    return breaker_write(s, &r, was, now_ms);
}

ctca_err ctca_store_breaker_reset(ctca_store *s, const uint8_t *log_id, int64_t now_ms,
                                  ctca_store_breaker *was)
{
    ctca_err err = CTCA_OK;
    breaker_row r;
    char detail[2 * CTCA_STORE_LOG_ID_LEN + 128], log_hex[2 * CTCA_STORE_LOG_ID_LEN + 1];
    if (was != NULL)
        memset(was, 0, sizeof *was);
    if (log_id == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "log ID is missing");
    ST_TRY(st_begin(s));
    ST_TRY(breaker_read(s, log_id, &r));
    if (was != NULL)
        *was = r.b;
    if (!r.found || (r.b.state == CTCA_BREAKER_CLOSED && r.b.failures == 0))
        goto out;
    ctca_store_breaker_state before = r.b.state;
    st_hex(log_id, CTCA_STORE_LOG_ID_LEN, log_hex);
    snprintf(detail, sizeof detail, "log_id=%s by an operator; was %s, failures=%u",
             log_hex, ctca_store_breaker_state_name(before), r.b.failures);
    r.b.state = CTCA_BREAKER_CLOSED;
    r.b.failures = 0;
    r.probe_owner[0] = '\0';
    ST_TRY(breaker_write(s, &r, before, now_ms));
    ST_TRY(st_audit_append(s, now_ms, "breaker.reset", NULL, detail));
out:
    err = st_end(s, true, err);
    if (err != CTCA_OK && was != NULL)
        memset(was, 0, sizeof *was);
    return err;
}

ctca_err ctca_store_breaker_get(ctca_store *s, const uint8_t *log_id, ctca_store_breaker *out)
{
    breaker_row r;
    memset(out, 0, sizeof *out);
    if (log_id == NULL)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "log ID is missing");
    CTCA_GUARD(breaker_read(s, log_id, &r));
    *out = r.b;
    return CTCA_OK;
}

/* ---- leasing ------------------------------------------------------------------ */

typedef enum { GATE_ALLOW, GATE_DENY, GATE_PROBE, GATE_PROBE_TAKEN } gate_kind;

/* One lease call's view of a log's breaker. */
typedef struct gate {
    uint8_t log_id[CTCA_STORE_LOG_ID_LEN];
    gate_kind kind;
    breaker_row row;
} gate;

static ctca_err gate_for(ctca_store *s, gate **gates, size_t *n, size_t *cap,
                         const uint8_t *log_id, int64_t now_ms, gate **out)
{
    for (size_t i = 0; i < *n; i++) {
        if (memcmp((*gates)[i].log_id, log_id, CTCA_STORE_LOG_ID_LEN) == 0) {
            *out = &(*gates)[i];
            return CTCA_OK;
        }
    }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        gate *p = realloc(*gates, ncap * sizeof *p);
        if (p == NULL)
            return st_fail(s, CTCA_ERR_NOMEM, "growing the breaker table");
        *gates = p;
        *cap = ncap;
    }
    gate *g = &(*gates)[(*n)++];
    memset(g, 0, sizeof *g);
    memcpy(g->log_id, log_id, CTCA_STORE_LOG_ID_LEN);
    CTCA_GUARD(breaker_read(s, log_id, &g->row));
    const ctca_store_breaker *b = &g->row.b;
    if (!g->row.found || b->state == CTCA_BREAKER_CLOSED)
        g->kind = GATE_ALLOW;
    else if (b->state == CTCA_BREAKER_OPEN)
        g->kind = b->open_until_ms > now_ms ? GATE_DENY : GATE_PROBE;
    else /* half-open: one probe at a time, a new one when its holder vanished */
        g->kind = g->row.probe_expiry_ms > now_ms ? GATE_DENY : GATE_PROBE;
    *out = g;
    return CTCA_OK;
}

/* Reads candidates into out, deciding per log whether its breaker lets them
 * through; nothing is written while the SELECT is open. */
static ctca_err pick(ctca_store *s, int64_t now_ms, int64_t due_ms, size_t max,
                     ctca_store_queue_items *out, gate **gates, size_t *n_gates)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    size_t cap = 0, gcap = 0;
    bool row = false;
    ST_TRY(st_prepare(s,
                      ITEM_COLUMNS "WHERE (state = 'pending' AND next_attempt_ms <= ?1)"
                                   " OR (state = 'leased' AND lease_expiry_ms <= ?2)"
                                   " ORDER BY next_attempt_ms, id",
                      &st));
    ST_TRY(st_bind_i64(s, st, 1, due_ms));
    ST_TRY(st_bind_i64(s, st, 2, now_ms));
    while (out->count < max) {
        ST_TRY(st_step_row(s, st, "reading due items", &row));
        if (!row)
            break;
        const void *log_id = sqlite3_column_blob(st, 2);
        if (log_id == NULL || sqlite3_column_bytes(st, 2) != CTCA_STORE_LOG_ID_LEN) {
            err = st_fail(s, CTCA_ERR_STORE, "queue item has a malformed log ID");
            goto out;
        }
        gate *g = NULL;
        ST_TRY(gate_for(s, gates, n_gates, &gcap, log_id, now_ms, &g));
        if (g->kind == GATE_DENY || g->kind == GATE_PROBE_TAKEN)
            continue;
        if (g->kind == GATE_PROBE)
            g->kind = GATE_PROBE_TAKEN;
        ST_TRY(append_item(s, st, out, &cap));
    }
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_queue_lease(ctca_store *s, const char *owner, int64_t now_ms,
                                int64_t due_ms, uint32_t lease_ms, size_t max,
                                const ctca_store_queue_policy *p, ctca_store_queue_items *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    gate *gates = NULL;
    size_t n_gates = 0;
    memset(out, 0, sizeof *out);
    CTCA_GUARD(check_owner(s, owner));
    CTCA_GUARD(check_policy(s, p));
    if (max == 0 || max > CTCA_STORE_QUEUE_PAGE_MAX || lease_ms == 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "lease of %zu items for %u ms is outside "
                       "1..%d items and a non-zero time", max, (unsigned)lease_ms,
                       CTCA_STORE_QUEUE_PAGE_MAX);
    int64_t expiry = now_ms + (int64_t)lease_ms;

    ST_TRY(st_begin(s));
    ST_TRY(pick(s, now_ms, due_ms, max, out, &gates, &n_gates));
    ST_TRY(st_prepare(s,
                      "UPDATE queue SET state = 'leased', lease_owner = ?1,"
                      " lease_expiry_ms = ?2, updated_ms = ?3 WHERE id = ?4",
                      &st));
    for (size_t i = 0; i < out->count; i++) {
        ctca_store_queue_item *it = &out->items[i];
        sqlite3_reset(st);
        ST_TRY(st_bind_text(s, st, 1, owner));
        ST_TRY(st_bind_i64(s, st, 2, expiry));
        ST_TRY(st_bind_i64(s, st, 3, now_ms));
        ST_TRY(st_bind_i64(s, st, 4, it->id));
        ST_TRY(st_step_done(s, st, "leasing an item"));
        it->state = CTCA_QUEUE_LEASED;
        snprintf(it->lease_owner, sizeof it->lease_owner, "%s", owner);
        it->lease_expiry_ms = expiry;
        it->updated_ms = now_ms;
    }
    for (size_t i = 0; i < n_gates; i++) {
        if (gates[i].kind != GATE_PROBE_TAKEN)
            continue;
        breaker_row r = gates[i].row;
        ctca_store_breaker_state was = r.b.state;
        r.b.state = CTCA_BREAKER_HALF_OPEN;
        snprintf(r.probe_owner, sizeof r.probe_owner, "%s", owner);
        r.probe_expiry_ms = expiry;
        ST_TRY(breaker_write(s, &r, was, now_ms));
    }
out:
    st_release(s, st);
    free(gates);
    err = st_end(s, true, err);
    if (err != CTCA_OK)
        ctca_store_queue_items_cleanup(out);
    return err;
}

/* ---- finishing an attempt ---------------------------------------------------- */

/* Reads item id inside the caller's transaction and checks that owner holds
 * its lease; *done tells a done item (for idempotent completion). */
static ctca_err load_leased(ctca_store *s, int64_t id, const char *owner,
                            ctca_store_queue_items *one, bool *done)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    size_t cap = 0;
    *done = false;
    ST_TRY(st_prepare(s, ITEM_COLUMNS "WHERE id = ?1", &st));
    ST_TRY(st_bind_i64(s, st, 1, id));
    ST_TRY(st_step_row(s, st, "reading the queue item", &row));
    if (!row) {
        err = st_fail(s, CTCA_ERR_STORE_NOT_FOUND, "queue item %lld does not exist",
                      (long long)id);
        goto out;
    }
    ST_TRY(append_item(s, st, one, &cap));
    const ctca_store_queue_item *it = &one->items[0];
    *done = it->state == CTCA_QUEUE_DONE;
    if (!*done && (it->state != CTCA_QUEUE_LEASED || strcmp(it->lease_owner, owner) != 0))
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "queue item %lld is %s%s%s, not leased by %s",
                      (long long)id, ctca_store_queue_state_name(it->state),
                      it->lease_owner[0] ? " by " : "", it->lease_owner, owner);
out:
    st_release(s, st);
    return err;
}

/* Moves item id to state with the given columns; NULL texts stay as they are. */
static ctca_err set_item(ctca_store *s, int64_t id, ctca_store_queue_state state,
                         unsigned attempts, int64_t next_attempt_ms, const char *last_error,
                         const char *note, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    ST_TRY(st_prepare(s,
                      "UPDATE queue SET state = ?1, attempts = ?2, next_attempt_ms = ?3,"
                      " lease_owner = NULL, lease_expiry_ms = NULL,"
                      " last_error = coalesce(?4, last_error), note = coalesce(?5, note),"
                      " updated_ms = ?6 WHERE id = ?7",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, ctca_store_queue_state_name(state)));
    ST_TRY(st_bind_i64(s, st, 2, attempts));
    ST_TRY(st_bind_i64(s, st, 3, next_attempt_ms));
    ST_TRY(st_bind_text(s, st, 4, last_error));
    ST_TRY(st_bind_text(s, st, 5, note));
    ST_TRY(st_bind_i64(s, st, 6, now_ms));
    ST_TRY(st_bind_i64(s, st, 7, id));
    ST_TRY(st_step_done(s, st, "updating the queue item"));
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_queue_complete(ctca_store *s, int64_t id, const char *owner,
                                   const char *note, bool log_ok, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    ctca_store_queue_items one = {0};
    bool done = false;
    char detail[CTCA_STORE_TEXT_MAX + 128];
    CTCA_GUARD(check_owner(s, owner));
    CTCA_GUARD(st_check_text(s, "note", note, CTCA_STORE_TEXT_MAX, false));
    ST_TRY(st_begin(s));
    ST_TRY(load_leased(s, id, owner, &one, &done));
    if (done)
        goto out;
    const ctca_store_queue_item *it = &one.items[0];
    ST_TRY(set_item(s, id, CTCA_QUEUE_DONE, it->attempts, it->next_attempt_ms, NULL, note,
                    now_ms));
    item_detail(detail, sizeof detail, it->log_id, it->entry_type, note);
    ST_TRY(st_audit_append(s, now_ms, "queue.done", it->serial, detail));
    if (log_ok)
        ST_TRY(breaker_success(s, it->log_id, now_ms));
out:
    ctca_store_queue_items_cleanup(&one);
    return st_end(s, true, err);
}

ctca_err ctca_store_queue_fail(ctca_store *s, int64_t id, const char *owner,
                               const ctca_store_queue_failure *f,
                               const ctca_store_queue_policy *p, int64_t now_ms,
                               ctca_store_queue_state *state)
{
    ctca_err err = CTCA_OK;
    ctca_store_queue_items one = {0};
    bool done = false;
    char note[CTCA_STORE_TEXT_MAX + 64], detail[CTCA_STORE_TEXT_MAX + 256];
    CTCA_GUARD(check_owner(s, owner));
    CTCA_GUARD(check_policy(s, p));
    if (f == NULL || f->retry_after_ms < 0)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "failure is missing or has a negative delay");
    CTCA_GUARD(st_check_text(s, "error", f->error, CTCA_STORE_TEXT_MAX, false));
    ST_TRY(st_begin(s));
    ST_TRY(load_leased(s, id, owner, &one, &done));
    if (done) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "queue item %lld is already done",
                      (long long)id);
        goto out;
    }
    const ctca_store_queue_item *it = &one.items[0];
    unsigned attempts = it->attempts + 1;
    bool park = f->permanent || attempts >= p->max_attempts;
    if (park) {
        if (f->permanent)
            snprintf(note, sizeof note, "%s", f->error);
        else
            snprintf(note, sizeof note, "gave up after %u attempts: %s", attempts, f->error);
        ST_TRY(set_item(s, id, CTCA_QUEUE_PARKED, attempts, it->next_attempt_ms, f->error,
                        note, now_ms));
        item_detail(detail, sizeof detail, it->log_id, it->entry_type, note);
        ST_TRY(st_audit_append(s, now_ms, "queue.parked", it->serial, detail));
    } else {
        int64_t next =
            now_ms + ctca_store_queue_backoff_ms(p, attempts, f->retry_after_ms, f->rnd);
        ST_TRY(set_item(s, id, CTCA_QUEUE_PENDING, attempts, next, f->error, NULL, now_ms));
    }
    if (f->log_fault)
        ST_TRY(breaker_failure(s, it->log_id, f->retry_after_ms, p, now_ms));
    if (state != NULL)
        *state = park ? CTCA_QUEUE_PARKED : CTCA_QUEUE_PENDING;
out:
    ctca_store_queue_items_cleanup(&one);
    return st_end(s, true, err);
}

ctca_err ctca_store_queue_release(ctca_store *s, int64_t id, const char *owner,
                                  int64_t next_attempt_ms, int64_t now_ms)
{
    ctca_err err = CTCA_OK;
    ctca_store_queue_items one = {0};
    bool done = false;
    CTCA_GUARD(check_owner(s, owner));
    ST_TRY(st_begin(s));
    ST_TRY(load_leased(s, id, owner, &one, &done));
    if (done) {
        err = st_fail(s, CTCA_ERR_STORE_CONFLICT, "queue item %lld is already done",
                      (long long)id);
        goto out;
    }
    ST_TRY(set_item(s, id, CTCA_QUEUE_PENDING, one.items[0].attempts, next_attempt_ms, NULL,
                    NULL, now_ms));
out:
    ctca_store_queue_items_cleanup(&one);
    return st_end(s, true, err);
}

ctca_err ctca_store_queue_settle(ctca_store *s, const char *serial, int entry_type,
                                 const char *note, int64_t now_ms, size_t *settled)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    char detail[CTCA_STORE_TEXT_MAX + 64];
    if (settled != NULL)
        *settled = 0;
    CTCA_GUARD(st_check_serial(s, serial));
    CTCA_GUARD(check_entry_type(s, entry_type));
    CTCA_GUARD(st_check_text(s, "note", note, CTCA_STORE_TEXT_MAX, false));
    ST_TRY(st_begin(s));
    ST_TRY(st_prepare(s,
                      "UPDATE queue SET state = 'done', note = ?1, lease_owner = NULL,"
                      " lease_expiry_ms = NULL, updated_ms = ?2"
                      " WHERE serial = ?3 AND entry_type = ?4 AND (state IN ('pending', 'parked')"
                      " OR (state = 'leased' AND lease_expiry_ms <= ?2))",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, note));
    ST_TRY(st_bind_i64(s, st, 2, now_ms));
    ST_TRY(st_bind_text(s, st, 3, serial));
    ST_TRY(st_bind_i64(s, st, 4, entry_type));
    ST_TRY(st_step_done(s, st, "settling queue items"));
    n = (size_t)sqlite3_changes(s->db);
    if (n > 0) {
        snprintf(detail, sizeof detail, "entry_type=%d items=%zu %s", entry_type, n, note);
        ST_TRY(st_audit_append(s, now_ms, "queue.done", serial, detail));
    }
out:
    st_release(s, st);
    err = st_end(s, true, err);
    if (err == CTCA_OK && settled != NULL)
        *settled = n;
    return err;
}

/* ---- an operator's retry ------------------------------------------------------- */

/* Reads the parked items of one retry page into requeued or refused. */
static ctca_err retry_pick(ctca_store *s, const char *serial, const uint8_t *log_id,
                           int64_t after_id, size_t max, ctca_store_queue_items *requeued,
                           ctca_store_queue_items *refused)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    size_t cap_requeued = 0, cap_refused = 0;
    bool row = false;
    /* Still wanted: an add-chain of an issued certificate, or the SCTs of
     * an issuance the queue is finishing. A failed issuance is not the
     * queue's any more (ctca batch resumes it); an issued or running one
     * needs no precertificate SCTs from the queue. */
    ST_TRY(st_prepare(s,
                      ITEM_FIELDS ", CASE (SELECT c.state FROM certs c"
                                  "  WHERE c.serial = queue.serial)"
                                  "  WHEN 'issued' THEN entry_type = 0"
                                  "  WHEN 'deferred' THEN entry_type = 1 ELSE 0 END"
                                  " FROM queue WHERE state = 'parked'"
                                  " AND (?1 IS NULL OR serial = ?1)"
                                  " AND (?2 IS NULL OR log_id = ?2) AND id > ?3"
                                  " ORDER BY id LIMIT ?4",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    if (log_id != NULL)
        ST_TRY(st_bind_blob(s, st, 2, log_id, CTCA_STORE_LOG_ID_LEN));
    else
        ST_TRY(st_bind_null(s, st, 2));
    ST_TRY(st_bind_i64(s, st, 3, after_id));
    ST_TRY(st_bind_i64(s, st, 4, (int64_t)max));
    for (;;) {
        ST_TRY(st_step_row(s, st, "reading parked items", &row));
        if (!row)
            break;
        if (sqlite3_column_int(st, 13))
            ST_TRY(append_item(s, st, requeued, &cap_requeued));
        else
            ST_TRY(append_item(s, st, refused, &cap_refused));
    }
out:
    st_release(s, st);
    return err;
}

ctca_err ctca_store_queue_retry(ctca_store *s, const char *serial, const uint8_t *log_id,
                                int64_t after_id, size_t max, bool dry_run, int64_t now_ms,
                                ctca_store_queue_items *requeued,
                                ctca_store_queue_items *refused)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    char note[CTCA_STORE_TEXT_MAX + 1], detail[CTCA_STORE_TEXT_MAX + 128];
    memset(requeued, 0, sizeof *requeued);
    memset(refused, 0, sizeof *refused);
    if (max == 0 || max > CTCA_STORE_QUEUE_PAGE_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "page size %zu is outside 1..%d", max,
                       CTCA_STORE_QUEUE_PAGE_MAX);
    if (serial != NULL)
        CTCA_GUARD(st_check_serial(s, serial));
    /* A dry run reads one statement: consistent on its own, and no write lock. */
    if (!dry_run)
        ST_TRY(st_begin(s));
    ST_TRY(retry_pick(s, serial, log_id, after_id, max, requeued, refused));
    if (dry_run)
        goto out;
    ST_TRY(st_prepare(s,
                      "UPDATE queue SET state = 'pending', attempts = 0, next_attempt_ms = ?1,"
                      " note = ?2, updated_ms = ?1 WHERE id = ?3 AND state = 'parked'",
                      &st));
    for (size_t i = 0; i < requeued->count; i++) {
        const ctca_store_queue_item *it = &requeued->items[i];
        const char *why = it->note ? it->note : it->last_error ? it->last_error : "no reason";
        snprintf(note, sizeof note, "retried by an operator; it was parked: %s", why);
        sqlite3_reset(st);
        ST_TRY(st_bind_i64(s, st, 1, now_ms));
        ST_TRY(st_bind_text(s, st, 2, note));
        ST_TRY(st_bind_i64(s, st, 3, it->id));
        ST_TRY(st_step_done(s, st, "requeueing a parked item"));
        item_detail(detail, sizeof detail, it->log_id, it->entry_type, note);
        ST_TRY(st_audit_append(s, now_ms, "queue.retried", it->serial, detail));
    }
out:
    st_release(s, st);
    if (!dry_run)
        err = st_end(s, true, err);
    if (err != CTCA_OK) {
        ctca_store_queue_items_cleanup(requeued);
        ctca_store_queue_items_cleanup(refused);
    }
    return err;
}

/* ---- reading ------------------------------------------------------------------- */

ctca_err ctca_store_queue_list(ctca_store *s, const char *serial, int64_t after_id, size_t max,
                               ctca_store_queue_items *out)
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    bool row = false;
    memset(out, 0, sizeof *out);
    if (max == 0 || max > CTCA_STORE_QUEUE_PAGE_MAX)
        return st_fail(s, CTCA_ERR_VALUE_RANGE, "page size %zu is outside 1..%d", max,
                       CTCA_STORE_QUEUE_PAGE_MAX);
    if (serial != NULL)
        CTCA_GUARD(st_check_serial(s, serial));
    ST_TRY(st_prepare(s,
                      ITEM_COLUMNS "WHERE (?1 IS NULL OR serial = ?1) AND id > ?2"
                                   " ORDER BY id LIMIT ?3",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_i64(s, st, 2, after_id));
    ST_TRY(st_bind_i64(s, st, 3, (int64_t)max));
    for (;;) {
        ST_TRY(st_step_row(s, st, "listing the queue", &row));
        if (!row)
            break;
        ST_TRY(append_item(s, st, out, &cap));
    }
out:
    st_release(s, st);
    if (err != CTCA_OK)
        ctca_store_queue_items_cleanup(out);
    return err;
}

ctca_err ctca_store_queue_count(ctca_store *s, const char *serial, int entry_type,
                                size_t counts[4])
{
    ctca_err err = CTCA_OK;
    sqlite3_stmt *st = NULL;
    bool row = false;
    memset(counts, 0, 4 * sizeof counts[0]);
    if (serial != NULL)
        CTCA_GUARD(st_check_serial(s, serial));
    if (entry_type != -1)
        CTCA_GUARD(check_entry_type(s, entry_type));
    ST_TRY(st_prepare(s,
                      "SELECT state, count(*) FROM queue WHERE (?1 IS NULL OR serial = ?1)"
                      " AND (?2 = -1 OR entry_type = ?2) GROUP BY state",
                      &st));
    ST_TRY(st_bind_text(s, st, 1, serial));
    ST_TRY(st_bind_i64(s, st, 2, entry_type));
    for (;;) {
        ST_TRY(st_step_row(s, st, "counting queue items", &row));
        if (!row)
            break;
        int state = 0;
        ST_TRY(parse_name(s, sqlite3_column_text(st, 0), queue_state_names, N_QUEUE_STATES,
                          &state));
        counts[state] = (size_t)sqlite3_column_int64(st, 1);
    }
out:
    st_release(s, st);
    return err;
}
