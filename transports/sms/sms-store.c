/* sms-store.c — the SMS transport's SQLite file: claims, outbox, conversations, opt-outs. */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#define SMS_STORE_BUSY_TIMEOUT_MS 5000
#define SMS_STORE_SCHEMA_VERSION 1

/* Migration N (1-based) brings the schema from version N-1 to N: its SQL
 * (constant DDL), then its C step (data conversions) if it has one. Append
 * only: never edit a migration that has shipped.
 *
 * messages.n_parts and .delivered (how many parts are DELIVERED, kept by
 * cw_sms_part_set_state) make "finished" a column test, so depth, expire
 * and finished read partial indexes instead of counting parts per message.
 * When a message fails, its QUEUED parts become FAILED too: next_due and
 * take_due then never see parts that will not be sent. */
typedef struct {
    const char *sql;                                        /* may be NULL */
    gboolean (*convert)(CwSmsStore *store, GError **error); /* may be NULL */
} SmsMigration;
static const SmsMigration sms_migrations[] = {
    /* 1 */
    {"CREATE TABLE claims ("
     "  number TEXT PRIMARY KEY NOT NULL,"
     "  jid    TEXT NOT NULL UNIQUE,"
     "  state  INTEGER NOT NULL," /* CwSmsClaimState */
     "  since  INTEGER NOT NULL"  /* unix us: when the claim took its state */
     ");"
     "CREATE TABLE messages ("
     "  id           INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: a late DLR of a removed message must not hit a new one */
     "  jid          TEXT NOT NULL,"
     "  sender       TEXT,"
     "  xmpp_id      TEXT,"
     "  want_receipt INTEGER NOT NULL DEFAULT 0,"
     "  from_number  TEXT NOT NULL,"
     "  to_number    TEXT NOT NULL,"
     "  body         TEXT NOT NULL,"
     "  coding       INTEGER NOT NULL,"
     "  n_parts      INTEGER NOT NULL,"
     "  delivered    INTEGER NOT NULL DEFAULT 0,"
     "  created      INTEGER NOT NULL,"
     "  expires      INTEGER NOT NULL,"
     "  last_error   TEXT,"
     "  failed       INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE INDEX messages_by_jid ON messages(jid);"
     "CREATE INDEX messages_pending_created ON messages(created)"
     "  WHERE failed = 0 AND delivered < n_parts;"
     "CREATE INDEX messages_pending_expires ON messages(expires)"
     "  WHERE failed = 0 AND delivered < n_parts;"
     "CREATE INDEX messages_finished ON messages(id)"
     "  WHERE failed = 1 OR delivered >= n_parts;"
     "CREATE TABLE parts ("
     "  message      INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
     "  part         INTEGER NOT NULL,"
     "  text         TEXT NOT NULL,"
     "  state        INTEGER NOT NULL DEFAULT 0," /* CwSmsPartState */
     "  attempts     INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt INTEGER NOT NULL,"
     "  submitted_at INTEGER,"
     "  error        TEXT,"
     "  PRIMARY KEY (message, part)"
     ");"
     /* take_due walks this in order and stops at its LIMIT. */
     "CREATE INDEX parts_due ON parts(state, next_attempt, message, part);"
     "CREATE TABLE conversations ("
     "  gateway_number TEXT NOT NULL,"
     "  peer           TEXT NOT NULL,"
     "  jid            TEXT NOT NULL,"
     "  last           INTEGER NOT NULL,"
     "  PRIMARY KEY (gateway_number, peer, jid)"
     ");"
     "CREATE INDEX conversations_by_jid ON conversations(jid);"
     "CREATE TABLE optouts ("
     "  gateway_number TEXT NOT NULL,"
     "  peer           TEXT NOT NULL,"
     "  since          INTEGER NOT NULL,"
     "  PRIMARY KEY (gateway_number, peer)"
     ");",
     NULL},
};
G_STATIC_ASSERT(G_N_ELEMENTS(sms_migrations) == SMS_STORE_SCHEMA_VERSION);

struct CwSmsStore {
    sqlite3 *db;
    GHashTable *stmts; /* SQL text (a literal) -> prepared sqlite3_stmt */
    gboolean in_group; /* cw_sms_store_begin() ran BEGIN */
};

G_DEFINE_QUARK(cw - sms - store - error - quark, cw_sms_store_error)

/* A cached statement borrowed for one use: g_autoptr(SmsStmt) resets it and
 * clears its bindings at the end of the scope, which also ends its read. */
typedef sqlite3_stmt SmsStmt;
static void
sms_stmt_release(SmsStmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SmsStmt, sms_stmt_release)

static void
sms_stmt_finalize(gpointer st)
{
    sqlite3_finalize(st);
}

static void
sms_set_error(CwSmsStore *store, GError **error, int rc, CwSmsStoreError code, const char *op)
{
    const char *msg = store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc);
    g_set_error(error, CW_SMS_STORE_ERROR, code, "%s: %s", op, msg);
}

/* The cached statement for sql with its parameters bound (?1..?n) from the
 * arguments that types describes, one letter each: 't' const char * (NULL
 * binds SQL NULL), 'I' gint64, 'u' guint, 'd' int. NULL + error if it cannot
 * be prepared or bound. */
static SmsStmt *
sms_stmt(CwSmsStore *store, const char *op, const char *sql, GError **error, const char *types, ...)
{
    sqlite3_stmt *st = g_hash_table_lookup(store->stmts, sql);
    if (st == NULL) {
        int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) {
            sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_QUERY, op);
            return NULL;
        }
        g_hash_table_insert(store->stmts, (gpointer)sql, st);
    }
    va_list ap;
    va_start(ap, types);
    int rc = SQLITE_OK;
    for (int i = 0; rc == SQLITE_OK && types[i] != '\0'; i++) {
        switch (types[i]) {
        case 't': {
            const char *text = va_arg(ap, const char *);
            rc = text != NULL ? sqlite3_bind_text(st, i + 1, text, -1, SQLITE_TRANSIENT)
                              : sqlite3_bind_null(st, i + 1);
            break;
        }
        case 'I':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, gint64));
            break;
        case 'u':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, guint));
            break;
        case 'd':
            rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int));
            break;
        default:
            g_assert_not_reached();
        }
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
        sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_QUERY, op);
        sms_stmt_release(st);
        return NULL;
    }
    return st;
}

/* Step st to completion (a statement returning no rows). */
static gboolean
sms_step_done(CwSmsStore *store, SmsStmt *st, const char *op, GError **error)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return TRUE;
    sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_QUERY, op);
    return FALSE;
}

/* Step a query: TRUE with *row set on SQLITE_ROW or SQLITE_DONE, FALSE + error otherwise. */
static gboolean
sms_step_row(CwSmsStore *store, SmsStmt *st, const char *op, gboolean *row, GError **error)
{
    int rc = sqlite3_step(st);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return TRUE;
    sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_QUERY, op);
    return FALSE;
}

/* Run a statement without rows; *changes (may be NULL) gets the rows it changed. */
#define SMS_EXEC(store, op, sql, error, changes, ...)                                              \
    sms_exec_done((store), sms_stmt((store), (op), (sql), (error), __VA_ARGS__), (op), (changes),  \
                  (error))
static gboolean
sms_exec_done(CwSmsStore *store, SmsStmt *st, const char *op, gint64 *changes, GError **error)
{
    if (st == NULL)
        return FALSE;
    g_autoptr(SmsStmt) owned = st;
    if (!sms_step_done(store, owned, op, error))
        return FALSE;
    if (changes != NULL)
        *changes = sqlite3_changes64(store->db);
    return TRUE;
}

static char *
sms_column_dup(SmsStmt *st, int col)
{
    return g_strdup((const char *)sqlite3_column_text(st, col));
}

/* ---- transactions ---------------------------------------------------------- */

/* A write of several statements is atomic: outside a group it is its own
 * transaction (BEGIN IMMEDIATE takes the write lock up front, so it never
 * fails half way on a lock upgrade); inside a group it is a savepoint, so a
 * failed write leaves the group's earlier writes in place. */
static gboolean
sms_write_begin(CwSmsStore *store, GError **error)
{
    if (!store->in_group)
        return SMS_EXEC(store, "starting transaction", "BEGIN IMMEDIATE", error, NULL, "");
    if (sqlite3_get_autocommit(store->db)) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_QUERY,
                    "the group of writes was rolled back by an earlier error");
        return FALSE;
    }
    return SMS_EXEC(store, "starting write", "SAVEPOINT sms_write", error, NULL, "");
}

/* End a write begun by sms_write_begin(): commit it when ok, else undo it. */
static gboolean
sms_write_end(CwSmsStore *store, gboolean ok, GError **error)
{
    if (store->in_group) {
        if (ok)
            return SMS_EXEC(store, "ending write", "RELEASE sms_write", error, NULL, "");
        /* SQLite may have rolled the whole transaction back (SQLITE_FULL...). */
        if (!sqlite3_get_autocommit(store->db) &&
            (!SMS_EXEC(store, "undoing write", "ROLLBACK TO sms_write", NULL, NULL, "") ||
             !SMS_EXEC(store, "undoing write", "RELEASE sms_write", NULL, NULL, "")))
            g_warning("sms store: undoing a write: %s", sqlite3_errmsg(store->db));
        return FALSE;
    }
    if (ok && SMS_EXEC(store, "committing", "COMMIT", error, NULL, ""))
        return TRUE;
    if (!sqlite3_get_autocommit(store->db) &&
        !SMS_EXEC(store, "rolling back", "ROLLBACK", NULL, NULL, ""))
        g_warning("sms store: rolling back: %s", sqlite3_errmsg(store->db));
    return FALSE;
}

gboolean
cw_sms_store_begin(CwSmsStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    if (store->in_group)
        return TRUE;
    if (!SMS_EXEC(store, "starting group", "BEGIN IMMEDIATE", error, NULL, ""))
        return FALSE;
    store->in_group = TRUE;
    return TRUE;
}

/* On failure the group's writes are rolled back (they are not durable). */
gboolean
cw_sms_store_commit(CwSmsStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    if (!store->in_group)
        return TRUE;
    store->in_group = FALSE;
    if (sqlite3_get_autocommit(store->db)) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_QUERY,
                    "committing group: it was rolled back by an earlier error");
        return FALSE;
    }
    if (SMS_EXEC(store, "committing group", "COMMIT", error, NULL, ""))
        return TRUE;
    if (!sqlite3_get_autocommit(store->db) &&
        !SMS_EXEC(store, "rolling back group", "ROLLBACK", NULL, NULL, ""))
        g_warning("sms store: rolling back group: %s", sqlite3_errmsg(store->db));
    return FALSE;
}

gboolean
cw_sms_store_in_group(CwSmsStore *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return store->in_group;
}

/* ---- open, migrate, close ---------------------------------------------- */

static gboolean
sms_query_version(CwSmsStore *store, gint64 *version, GError **error)
{
    const char *op = "reading schema version";
    g_autoptr(SmsStmt) st = sms_stmt(store, op, "PRAGMA user_version", error, "");
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, error))
        return FALSE;
    *version = row ? sqlite3_column_int64(st, 0) : 0;
    return TRUE;
}

/* One step: version v-1 -> v (inside the migration transaction). */
static gboolean
sms_migrate_step(CwSmsStore *store, gint64 v, GError **error)
{
    const SmsMigration *m = &sms_migrations[v - 1];
    /* Constant DDL without data, so sqlite3_exec (which prepares each
     * statement in turn) is safe here; user_version takes no parameter. */
    g_autofree char *sql =
        g_strdup_printf("%s; PRAGMA user_version = %" G_GINT64_FORMAT, m->sql ? m->sql : "", v);
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        g_autofree char *op = g_strdup_printf("migration %" G_GINT64_FORMAT, v);
        sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_OPEN, op);
        return FALSE;
    }
    if (m->convert != NULL && !m->convert(store, error))
        return FALSE;
    g_info("sms store: migrated schema to version %" G_GINT64_FORMAT, v);
    return TRUE;
}

static gboolean
sms_migrate(CwSmsStore *store, GError **error)
{
    gint64 version = 0;
    if (!sms_query_version(store, &version, error))
        return FALSE;
    if (version == SMS_STORE_SCHEMA_VERSION)
        return TRUE; /* the usual case: no write lock needed */

    /* Under the write lock, so two processes cannot both migrate; re-read. */
    if (!SMS_EXEC(store, "starting migration", "BEGIN IMMEDIATE", error, NULL, ""))
        return FALSE;
    gboolean ok = sms_query_version(store, &version, error);
    if (ok && (version < 0 || version > SMS_STORE_SCHEMA_VERSION)) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_OPEN,
                    "schema version %" G_GINT64_FORMAT " is not supported (this Causeway "
                    "knows 0 to %d)",
                    version, SMS_STORE_SCHEMA_VERSION);
        ok = FALSE;
    }
    for (gint64 v = version + 1; ok && v <= SMS_STORE_SCHEMA_VERSION; v++)
        ok = sms_migrate_step(store, v, error);
    if (ok && SMS_EXEC(store, "committing migration", "COMMIT", error, NULL, ""))
        return TRUE;
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
}

/* WAL, every commit fsync'd, foreign keys (parts cascade with messages). */
static gboolean
sms_setup(CwSmsStore *store, const char *path, GError **error)
{
    const char *op = "setting up database";
    g_autoptr(SmsStmt) wal = sms_stmt(store, op, "PRAGMA journal_mode = WAL", error, "");
    gboolean row = FALSE;
    if (wal == NULL || !sms_step_row(store, wal, op, &row, error))
        return FALSE;
    const char *mode = row ? (const char *)sqlite3_column_text(wal, 0) : NULL;
    if (g_strcmp0(mode, "wal") != 0)
        g_warning("sms store %s: WAL journal mode unavailable, using %s", path, mode);
    return SMS_EXEC(store, op, "PRAGMA synchronous = FULL", error, NULL, "") &&
           SMS_EXEC(store, op, "PRAGMA foreign_keys = ON", error, NULL, "");
}

CwSmsStore *
cw_sms_store_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    /* Create the file ourselves so it is 0600: it holds message texts and
     * numbers. SQLite gives the -wal and -shm files the database's mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_OPEN, "opening %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    close(fd);

    g_autoptr(CwSmsStore) store = g_new0(CwSmsStore, 1);
    store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, sms_stmt_finalize);
    int rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        g_autofree char *op = g_strdup_printf("opening %s", path);
        sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_OPEN, op);
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, SMS_STORE_BUSY_TIMEOUT_MS);
    if (!sms_setup(store, path, error) || !sms_migrate(store, error)) {
        if (error != NULL && *error != NULL)
            (*error)->code = CW_SMS_STORE_ERROR_OPEN;
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    return g_steal_pointer(&store);
}

void
cw_sms_store_close(CwSmsStore *store)
{
    if (store == NULL)
        return;
    g_autoptr(GError) error = NULL;
    if (store->db != NULL && store->in_group && !cw_sms_store_commit(store, &error))
        g_warning("sms store: closing: %s", error->message);
    g_clear_pointer(&store->stmts, g_hash_table_destroy); /* finalizes statements */
    if (store->db != NULL && sqlite3_close(store->db) != SQLITE_OK)
        g_warning("sms store: closing: %s", sqlite3_errmsg(store->db));
    g_free(store);
}

/* ---- claims ---------------------------------------------------------------- */

void
cw_sms_claim_free(CwSmsClaim *c)
{
    if (c == NULL)
        return;
    g_free(c->number);
    g_free(c->jid);
    g_free(c);
}

static gboolean
sms_claim_set_locked(CwSmsStore *store, const char *number, const char *jid, CwSmsClaimState state,
                     GError **error)
{
    const char *op = "claiming number";
    g_autofree char *owner = NULL;
    CwSmsClaimState current = CW_SMS_CLAIM_NONE;
    {
        g_autoptr(SmsStmt) st = sms_stmt(
            store, op, "SELECT jid, state FROM claims WHERE number = ?1", error, "t", number);
        gboolean row = FALSE;
        if (st == NULL || !sms_step_row(store, st, op, &row, error))
            return FALSE;
        if (row) {
            owner = sms_column_dup(st, 0);
            current = sqlite3_column_int(st, 1);
        }
    }
    if (owner != NULL && strcmp(owner, jid) != 0) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_CONFLICT,
                    "%s is claimed by another address", number);
        return FALSE;
    }
    gint64 now = g_get_real_time();
    if (owner != NULL) { /* one's own number: only ever promoted to active */
        if (state != CW_SMS_CLAIM_ACTIVE || current == CW_SMS_CLAIM_ACTIVE)
            return TRUE;
        return SMS_EXEC(store, op, "UPDATE claims SET state = ?2, since = ?3 WHERE number = ?1",
                        error, NULL, "tdI", number, (int)CW_SMS_CLAIM_ACTIVE, now);
    }
    return SMS_EXEC(store, op, "DELETE FROM claims WHERE jid = ?1", error, NULL, "t", jid) &&
           SMS_EXEC(store, op,
                    "INSERT INTO claims (number, jid, state, since) VALUES (?1, ?2, ?3, ?4)", error,
                    NULL, "ttdI", number, jid, (int)state, now);
}

gboolean
cw_sms_claim_set(CwSmsStore *store, const char *number, const char *jid, CwSmsClaimState state,
                 GError **error)
{
    g_return_val_if_fail(store != NULL && number != NULL && jid != NULL, FALSE);
    g_return_val_if_fail(state == CW_SMS_CLAIM_PENDING || state == CW_SMS_CLAIM_ACTIVE, FALSE);
    if (!sms_write_begin(store, error))
        return FALSE;
    gboolean ok = sms_claim_set_locked(store, number, jid, state, error);
    return sms_write_end(store, ok, ok ? error : NULL);
}

gboolean
cw_sms_claim_release(CwSmsStore *store, const char *jid, GError **error)
{
    g_return_val_if_fail(store != NULL && jid != NULL, FALSE);
    return SMS_EXEC(store, "releasing claim", "DELETE FROM claims WHERE jid = ?1", error, NULL, "t",
                    jid);
}

gboolean
cw_sms_claim_approve(CwSmsStore *store, const char *number, GError **error)
{
    g_return_val_if_fail(store != NULL && number != NULL, FALSE);
    gint64 changes = 0;
    if (!SMS_EXEC(store, "approving claim",
                  "UPDATE claims SET state = ?2, since = ?3 WHERE number = ?1 AND state = ?4",
                  error, &changes, "tdId", number, (int)CW_SMS_CLAIM_ACTIVE, g_get_real_time(),
                  (int)CW_SMS_CLAIM_PENDING))
        return FALSE;
    if (changes == 0) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND,
                    "%s has no pending claim", number);
        return FALSE;
    }
    return TRUE;
}

/* The one claim that sql (parameter ?1 = key) finds: its state and column 0. */
static CwSmsClaimState
sms_claim_lookup(CwSmsStore *store, const char *sql, const char *key, char **out)
{
    const char *op = "reading claim";
    g_autoptr(GError) error = NULL;
    g_autoptr(SmsStmt) st = sms_stmt(store, op, sql, &error, "t", key);
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, &error)) {
        g_warning("sms store: %s", error->message);
        row = FALSE;
    }
    if (out != NULL)
        *out = row ? sms_column_dup(st, 0) : NULL;
    return row ? (CwSmsClaimState)sqlite3_column_int(st, 1) : CW_SMS_CLAIM_NONE;
}

CwSmsClaimState
cw_sms_claim_owner(CwSmsStore *store, const char *number, char **jid)
{
    g_return_val_if_fail(store != NULL && number != NULL, CW_SMS_CLAIM_NONE);
    return sms_claim_lookup(store, "SELECT jid, state FROM claims WHERE number = ?1", number, jid);
}

CwSmsClaimState
cw_sms_claim_of(CwSmsStore *store, const char *jid, char **number)
{
    g_return_val_if_fail(store != NULL && jid != NULL, CW_SMS_CLAIM_NONE);
    return sms_claim_lookup(store, "SELECT number, state FROM claims WHERE jid = ?1", jid, number);
}

GPtrArray *
cw_sms_claim_list(CwSmsStore *store, CwSmsClaimState state, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    const char *op = "listing claims";
    g_autoptr(SmsStmt) st = sms_stmt(store, op,
                                     "SELECT number, jid, state, since FROM claims "
                                     "WHERE ?1 = 0 OR state = ?1 ORDER BY number",
                                     error, "d", (int)state);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) claims = g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_claim_free);
    gboolean row = FALSE, ok;
    while ((ok = sms_step_row(store, st, op, &row, error)) && row) {
        CwSmsClaim *c = g_new0(CwSmsClaim, 1);
        c->number = sms_column_dup(st, 0);
        c->jid = sms_column_dup(st, 1);
        c->state = sqlite3_column_int(st, 2);
        c->since = sqlite3_column_int64(st, 3);
        g_ptr_array_add(claims, c);
    }
    return ok ? g_steal_pointer(&claims) : NULL;
}

/* ---- outbox ---------------------------------------------------------------- */

void
cw_sms_part_job_free(CwSmsPartJob *job)
{
    if (job == NULL)
        return;
    g_free(job->from_number);
    g_free(job->to_number);
    g_free(job->text);
    g_free(job);
}

void
cw_sms_message_free(CwSmsMessage *m)
{
    if (m == NULL)
        return;
    g_free(m->jid);
    g_free(m->sender);
    g_free(m->xmpp_id);
    g_free(m->from_number);
    g_free(m->to_number);
    g_free(m->last_error);
    g_free(m);
}

static gint64
sms_outbox_add_locked(CwSmsStore *store, const CwSmsOutgoing *m, GError **error)
{
    const char *op = "storing message";
    gint64 now = g_get_real_time();
    guint n_parts = g_strv_length((char **)m->parts);
    if (!SMS_EXEC(store, op,
                  "INSERT INTO messages (jid, sender, xmpp_id, want_receipt, from_number, "
                  "to_number, body, coding, n_parts, created, expires) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                  error, NULL, "tttdtttduII", m->jid, m->sender, m->xmpp_id,
                  m->want_receipt ? 1 : 0, m->from_number, m->to_number, m->body, m->coding,
                  n_parts, now, m->expires))
        return -1;
    gint64 id = sqlite3_last_insert_rowid(store->db);
    for (guint i = 0; i < n_parts; i++)
        if (!SMS_EXEC(store, op,
                      "INSERT INTO parts (message, part, text, state, next_attempt) "
                      "VALUES (?1, ?2, ?3, 0, ?4)",
                      error, NULL, "IutI", id, i, m->parts[i], now))
            return -1;
    return id;
}

gint64
cw_sms_outbox_add(CwSmsStore *store, const CwSmsOutgoing *m, GError **error)
{
    g_return_val_if_fail(store != NULL && m != NULL, -1);
    g_return_val_if_fail(m->jid != NULL && m->from_number != NULL && m->to_number != NULL, -1);
    g_return_val_if_fail(m->body != NULL && m->parts != NULL && m->parts[0] != NULL, -1);
    if (!sms_write_begin(store, error))
        return -1;
    gint64 id = sms_outbox_add_locked(store, m, error);
    return sms_write_end(store, id > 0, id > 0 ? error : NULL) ? id : -1;
}

static GPtrArray *
sms_take_due_locked(CwSmsStore *store, gint64 now, guint limit, GError **error)
{
    const char *op = "taking due parts";
    g_autoptr(GPtrArray) jobs =
        g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_part_job_free);
    {
        /* CROSS JOIN keeps parts the outer loop: parts_due in order, LIMIT stops it. */
        g_autoptr(SmsStmt) st =
            sms_stmt(store, op,
                     "SELECT p.message, p.part, m.n_parts, m.from_number, m.to_number, p.text, "
                     "m.coding, p.attempts FROM parts p CROSS JOIN messages m ON m.id = p.message "
                     "WHERE p.state = 0 AND p.next_attempt <= ?1 AND m.failed = 0 "
                     "ORDER BY p.next_attempt, p.message, p.part LIMIT ?2",
                     error, "Iu", now, limit);
        if (st == NULL)
            return NULL;
        gboolean row = FALSE, ok;
        while ((ok = sms_step_row(store, st, op, &row, error)) && row) {
            CwSmsPartJob *job = g_new0(CwSmsPartJob, 1);
            job->message = sqlite3_column_int64(st, 0);
            job->part = sqlite3_column_int(st, 1);
            job->n_parts = sqlite3_column_int(st, 2);
            job->from_number = sms_column_dup(st, 3);
            job->to_number = sms_column_dup(st, 4);
            job->text = sms_column_dup(st, 5);
            job->coding = sqlite3_column_int(st, 6);
            job->attempts = sqlite3_column_int(st, 7);
            job->ref = (guint8)(job->message & 0xff);
            g_ptr_array_add(jobs, job);
        }
        if (!ok)
            return NULL;
    }
    /* Marked after the read: no writes to the rows of a running scan. */
    for (guint i = 0; i < jobs->len; i++) {
        const CwSmsPartJob *job = jobs->pdata[i];
        if (!SMS_EXEC(store, op,
                      "UPDATE parts SET state = 1 WHERE message = ?1 AND part = ?2 AND state = 0",
                      error, NULL, "Iu", job->message, job->part))
            return NULL;
    }
    return g_steal_pointer(&jobs);
}

GPtrArray *
cw_sms_outbox_take_due(CwSmsStore *store, gint64 now, guint limit, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    if (limit == 0)
        return g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_part_job_free);
    if (!sms_write_begin(store, error))
        return NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GPtrArray) jobs = sms_take_due_locked(store, now, limit, &local);
    if (!sms_write_end(store, jobs != NULL, jobs != NULL ? &local : NULL)) {
        if (local != NULL)
            g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_steal_pointer(&jobs);
}

gint64
cw_sms_outbox_next_due(CwSmsStore *store)
{
    g_return_val_if_fail(store != NULL, 0);
    const char *op = "reading next due part";
    g_autoptr(GError) error = NULL;
    g_autoptr(SmsStmt) st =
        sms_stmt(store, op, "SELECT min(next_attempt) FROM parts WHERE state = 0", &error, "");
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, &error)) {
        g_warning("sms store: %s", error->message);
        return 0;
    }
    return row ? sqlite3_column_int64(st, 0) : 0; /* NULL (none queued) reads as 0 */
}

/* NOT_FOUND unless the part exists (after an update that changed nothing). */
static gboolean
sms_part_exists(CwSmsStore *store, gint64 message, guint part, GError **error)
{
    const char *op = "reading part";
    g_autoptr(SmsStmt) st =
        sms_stmt(store, op, "SELECT 1 FROM parts WHERE message = ?1 AND part = ?2", error, "Iu",
                 message, part);
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, error))
        return FALSE;
    if (!row)
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND,
                    "message %" G_GINT64_FORMAT " has no part %u", message, part);
    return row;
}

gboolean
cw_sms_part_submitted(CwSmsStore *store, gint64 message, guint part, gint64 now, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    gint64 changes = 0;
    /* max(): a part a DLR already moved further keeps its state. */
    if (!SMS_EXEC(store, "noting submission",
                  "UPDATE parts SET state = max(state, 2), submitted_at = ?3 "
                  "WHERE message = ?1 AND part = ?2 AND state >= 1",
                  error, &changes, "IuI", message, part, now))
        return FALSE;
    return changes > 0 || sms_part_exists(store, message, part, error);
}

static gboolean
sms_part_retry_locked(CwSmsStore *store, gint64 message, guint part, gint64 next_attempt,
                      const char *error_text, GError **error)
{
    const char *op = "requeueing part";
    gint64 changes = 0;
    /* Only a part in flight or submitted, of a message not failed. */
    if (!SMS_EXEC(
            store, op,
            "UPDATE parts SET state = 0, attempts = attempts + 1, next_attempt = ?3, "
            "error = coalesce(?4, error) WHERE message = ?1 AND part = ?2 "
            "AND state IN (1, 2) AND (SELECT failed FROM messages WHERE id = parts.message) = 0",
            error, &changes, "IuIt", message, part, next_attempt, error_text))
        return FALSE;
    if (changes == 0)
        return sms_part_exists(store, message, part, error);
    return error_text == NULL ||
           SMS_EXEC(store, op, "UPDATE messages SET last_error = ?2 WHERE id = ?1", error, NULL,
                    "It", message, error_text);
}

gboolean
cw_sms_part_retry(CwSmsStore *store, gint64 message, guint part, gint64 next_attempt,
                  const char *error_text, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    if (!sms_write_begin(store, error))
        return FALSE;
    gboolean ok = sms_part_retry_locked(store, message, part, next_attempt, error_text, error);
    return sms_write_end(store, ok, ok ? error : NULL);
}

/* The message fails as a whole: its parts still QUEUED will not be sent. */
static gboolean
sms_message_fail(CwSmsStore *store, gint64 message, const char *reason, GError **error)
{
    const char *op = "failing message";
    return SMS_EXEC(store, op,
                    "UPDATE messages SET failed = 1, last_error = coalesce(?2, last_error) "
                    "WHERE id = ?1",
                    error, NULL, "It", message, reason) &&
           SMS_EXEC(store, op,
                    "UPDATE parts SET state = 5, error = coalesce(?2, error) "
                    "WHERE message = ?1 AND state = 0",
                    error, NULL, "It", message, reason);
}

static gboolean
sms_part_set_state_locked(CwSmsStore *store, gint64 message, guint part, CwSmsPartState state,
                          const char *error_text, gboolean *changed, GError **error)
{
    const char *op = "setting part state";
    gint64 changes = 0;
    /* Forward only; DELIVERED (4) and FAILED (5) are final. */
    if (!SMS_EXEC(store, op,
                  "UPDATE parts SET state = ?3, error = coalesce(?4, error) "
                  "WHERE message = ?1 AND part = ?2 AND state < 4 AND state < ?3",
                  error, &changes, "Iudt", message, part, (int)state, error_text))
        return FALSE;
    *changed = changes > 0;
    if (!*changed)
        return sms_part_exists(store, message, part, error);
    if (state == CW_SMS_PART_DELIVERED)
        return SMS_EXEC(store, op, "UPDATE messages SET delivered = delivered + 1 WHERE id = ?1",
                        error, NULL, "I", message);
    if (state == CW_SMS_PART_FAILED)
        return sms_message_fail(store, message, error_text, error);
    return error_text == NULL ||
           SMS_EXEC(store, op, "UPDATE messages SET last_error = ?2 WHERE id = ?1", error, NULL,
                    "It", message, error_text);
}

gboolean
cw_sms_part_set_state(CwSmsStore *store, gint64 message, guint part, CwSmsPartState state,
                      const char *error_text, gboolean *changed, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_return_val_if_fail(state == CW_SMS_PART_ACCEPTED || state == CW_SMS_PART_DELIVERED ||
                             state == CW_SMS_PART_FAILED,
                         FALSE);
    gboolean moved = FALSE;
    if (changed != NULL)
        *changed = FALSE;
    if (!sms_write_begin(store, error))
        return FALSE;
    gboolean ok = sms_part_set_state_locked(store, message, part, state, error_text, &moved, error);
    if (!sms_write_end(store, ok, ok ? error : NULL))
        return FALSE;
    if (changed != NULL)
        *changed = moved;
    return TRUE;
}

/* Requeued parts count the attempt they lost (the request may have gone
 * out); parts of failed messages stay where they are. */
gint64
cw_sms_outbox_requeue_in_flight(CwSmsStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, -1);
    gint64 changes = 0;
    if (!SMS_EXEC(store, "requeueing parts in flight",
                  "UPDATE parts SET state = 0, attempts = attempts + 1 WHERE state = 1 "
                  "AND (SELECT failed FROM messages WHERE id = parts.message) = 0",
                  error, &changes, ""))
        return -1;
    return changes;
}

gint64
cw_sms_outbox_requeue_unconfirmed(CwSmsStore *store, gint64 older_than, GError **error)
{
    g_return_val_if_fail(store != NULL, -1);
    gint64 changes = 0;
    if (!SMS_EXEC(store, "requeueing unconfirmed parts",
                  "UPDATE parts SET state = 0, attempts = attempts + 1 WHERE state = 2 "
                  "AND submitted_at < ?1 "
                  "AND (SELECT failed FROM messages WHERE id = parts.message) = 0",
                  error, &changes, "I", older_than))
        return -1;
    return changes;
}

/* The columns sms_message_read() reads, FROM messages m. */
#define SMS_MESSAGE_COLUMNS                                                                        \
    "SELECT m.id, m.jid, m.sender, m.xmpp_id, m.from_number, m.to_number, m.last_error, "          \
    "m.want_receipt, m.failed, m.n_parts, m.delivered, m.created, m.expires, "                     \
    "(SELECT count(*) FROM parts p WHERE p.message = m.id AND p.state IN (3, 4)) "                 \
    "FROM messages m "

static CwSmsMessage *
sms_message_read(SmsStmt *st)
{
    CwSmsMessage *m = g_new0(CwSmsMessage, 1);
    m->id = sqlite3_column_int64(st, 0);
    m->jid = sms_column_dup(st, 1);
    m->sender = sms_column_dup(st, 2);
    m->xmpp_id = sms_column_dup(st, 3);
    m->from_number = sms_column_dup(st, 4);
    m->to_number = sms_column_dup(st, 5);
    m->last_error = sms_column_dup(st, 6);
    m->want_receipt = sqlite3_column_int(st, 7) != 0;
    gint64 n_parts = sqlite3_column_int64(st, 9);
    if (sqlite3_column_int(st, 8) != 0)
        m->state = CW_SMS_MESSAGE_FAILED;
    else if (sqlite3_column_int64(st, 10) >= n_parts)
        m->state = CW_SMS_MESSAGE_DELIVERED;
    else
        m->state = CW_SMS_MESSAGE_PENDING;
    m->created = sqlite3_column_int64(st, 11);
    m->expires = sqlite3_column_int64(st, 12);
    m->accepted = sqlite3_column_int64(st, 13) >= n_parts;
    return m;
}

/* Every row of st as CwSmsMessage*, or NULL + error. */
static GPtrArray *
sms_messages_read(CwSmsStore *store, SmsStmt *st, const char *op, GError **error)
{
    g_autoptr(GPtrArray) messages =
        g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_message_free);
    gboolean row = FALSE, ok;
    while ((ok = sms_step_row(store, st, op, &row, error)) && row)
        g_ptr_array_add(messages, sms_message_read(st));
    return ok ? g_steal_pointer(&messages) : NULL;
}

CwSmsMessage *
cw_sms_outbox_get(CwSmsStore *store, gint64 id, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    const char *op = "reading message";
    g_autoptr(SmsStmt) st =
        sms_stmt(store, op, SMS_MESSAGE_COLUMNS "WHERE m.id = ?1", error, "I", id);
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, error))
        return NULL;
    if (!row) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND,
                    "no message %" G_GINT64_FORMAT, id);
        return NULL;
    }
    return sms_message_read(st);
}

gboolean
cw_sms_outbox_remove(CwSmsStore *store, gint64 id, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return SMS_EXEC(store, "removing message", "DELETE FROM messages WHERE id = ?1", error, NULL,
                    "I", id);
}

static GPtrArray *
sms_expire_locked(CwSmsStore *store, gint64 now, GError **error)
{
    const char *op = "expiring messages";
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    {
        g_autoptr(SmsStmt) st =
            sms_stmt(store, op,
                     "SELECT id FROM messages WHERE failed = 0 AND "
                     "delivered < n_parts AND expires <= ?1 ORDER BY expires, id",
                     error, "I", now);
        if (st == NULL)
            return NULL;
        gboolean row = FALSE, ok;
        while ((ok = sms_step_row(store, st, op, &row, error)) && row) {
            gint64 id = sqlite3_column_int64(st, 0);
            g_array_append_val(ids, id);
        }
        if (!ok)
            return NULL;
    }
    g_autoptr(GPtrArray) messages =
        g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_message_free);
    for (guint i = 0; i < ids->len; i++) {
        gint64 id = g_array_index(ids, gint64, i);
        if (!SMS_EXEC(store, op, "UPDATE messages SET failed = 1, last_error = ?2 WHERE id = ?1",
                      error, NULL, "It", id, "expired") ||
            !SMS_EXEC(store, op,
                      "UPDATE parts SET state = 5, error = ?2 WHERE message = ?1 AND state = 0",
                      error, NULL, "It", id, "expired"))
            return NULL;
        CwSmsMessage *m = cw_sms_outbox_get(store, id, error);
        if (m == NULL)
            return NULL;
        g_ptr_array_add(messages, m);
    }
    return g_steal_pointer(&messages);
}

GPtrArray *
cw_sms_outbox_expire(CwSmsStore *store, gint64 now, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    if (!sms_write_begin(store, error))
        return NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GPtrArray) messages = sms_expire_locked(store, now, &local);
    if (!sms_write_end(store, messages != NULL, messages != NULL ? &local : NULL)) {
        if (local != NULL)
            g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    return g_steal_pointer(&messages);
}

GPtrArray *
cw_sms_outbox_finished(CwSmsStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    const char *op = "listing finished messages";
    g_autoptr(SmsStmt) st = sms_stmt(
        store, op, SMS_MESSAGE_COLUMNS "WHERE failed = 1 OR delivered >= n_parts ORDER BY m.id",
        error, "");
    return st != NULL ? sms_messages_read(store, st, op, error) : NULL;
}

gint64
cw_sms_outbox_depth(CwSmsStore *store, gint64 *oldest_created)
{
    g_return_val_if_fail(store != NULL, -1);
    const char *op = "reading outbox depth";
    g_autoptr(GError) error = NULL;
    if (oldest_created != NULL)
        *oldest_created = 0;
    g_autoptr(SmsStmt) st = sms_stmt(store, op,
                                     "SELECT count(*), min(created) FROM messages "
                                     "WHERE failed = 0 AND delivered < n_parts",
                                     &error, "");
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, &error)) {
        g_warning("sms store: %s", error->message);
        return -1;
    }
    if (oldest_created != NULL)
        *oldest_created = sqlite3_column_int64(st, 1); /* NULL reads as 0 */
    return sqlite3_column_int64(st, 0);
}

gboolean
cw_sms_outbox_remove_user(CwSmsStore *store, const char *jid, GError **error)
{
    g_return_val_if_fail(store != NULL && jid != NULL, FALSE);
    return SMS_EXEC(store, "removing messages of user", "DELETE FROM messages WHERE jid = ?1",
                    error, NULL, "t", jid);
}

/* ---- conversations ----------------------------------------------------------- */

gboolean
cw_sms_conversation_note(CwSmsStore *store, const char *gateway_number, const char *peer,
                         const char *jid, gint64 now, GError **error)
{
    g_return_val_if_fail(store != NULL && gateway_number != NULL && peer != NULL && jid != NULL,
                         FALSE);
    return SMS_EXEC(store, "noting conversation",
                    "INSERT INTO conversations (gateway_number, peer, jid, last) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (gateway_number, peer, jid) "
                    "DO UPDATE SET last = max(last, excluded.last)",
                    error, NULL, "tttI", gateway_number, peer, jid, now);
}

GPtrArray *
cw_sms_conversation_recent(CwSmsStore *store, const char *gateway_number, const char *peer,
                           gint64 since, GError **error)
{
    g_return_val_if_fail(store != NULL && gateway_number != NULL && peer != NULL, NULL);
    const char *op = "reading conversations";
    g_autoptr(SmsStmt) st =
        sms_stmt(store, op,
                 "SELECT jid FROM conversations WHERE gateway_number = ?1 AND peer = ?2 "
                 "AND last >= ?3 ORDER BY last DESC, jid",
                 error, "ttI", gateway_number, peer, since);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) jids = g_ptr_array_new_with_free_func(g_free);
    gboolean row = FALSE, ok;
    while ((ok = sms_step_row(store, st, op, &row, error)) && row)
        g_ptr_array_add(jids, sms_column_dup(st, 0));
    return ok ? g_steal_pointer(&jids) : NULL;
}

gboolean
cw_sms_conversation_forget_user(CwSmsStore *store, const char *jid, GError **error)
{
    g_return_val_if_fail(store != NULL && jid != NULL, FALSE);
    return SMS_EXEC(store, "forgetting conversations", "DELETE FROM conversations WHERE jid = ?1",
                    error, NULL, "t", jid);
}

/* ---- opt-outs ------------------------------------------------------------------ */

gboolean
cw_sms_optout_set(CwSmsStore *store, const char *gateway_number, const char *peer,
                  gboolean opted_out, GError **error)
{
    g_return_val_if_fail(store != NULL && gateway_number != NULL && peer != NULL, FALSE);
    if (opted_out)
        return SMS_EXEC(store, "noting opt-out",
                        "INSERT OR IGNORE INTO optouts (gateway_number, peer, since) "
                        "VALUES (?1, ?2, ?3)",
                        error, NULL, "ttI", gateway_number, peer, g_get_real_time());
    return SMS_EXEC(store, "removing opt-out",
                    "DELETE FROM optouts WHERE gateway_number = ?1 AND peer = ?2", error, NULL,
                    "tt", gateway_number, peer);
}

gboolean
cw_sms_optout_get(CwSmsStore *store, const char *gateway_number, const char *peer)
{
    g_return_val_if_fail(store != NULL && gateway_number != NULL && peer != NULL, FALSE);
    const char *op = "reading opt-out";
    g_autoptr(GError) error = NULL;
    g_autoptr(SmsStmt) st =
        sms_stmt(store, op, "SELECT 1 FROM optouts WHERE gateway_number = ?1 AND peer = ?2", &error,
                 "tt", gateway_number, peer);
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, &error)) {
        g_warning("sms store: %s", error->message);
        return FALSE;
    }
    return row;
}

/* ---- administration ------------------------------------------------------------ */

CwSmsStore *
cw_sms_store_open_readonly(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND,
                    "opening %s: no such database", path);
        return NULL;
    }
    g_autoptr(CwSmsStore) store = g_new0(CwSmsStore, 1);
    store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, sms_stmt_finalize);
    int rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        g_autofree char *op = g_strdup_printf("opening %s read-only", path);
        sms_set_error(store, error, rc, CW_SMS_STORE_ERROR_OPEN, op);
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, SMS_STORE_BUSY_TIMEOUT_MS);
    gint64 version = 0;
    if (!sms_query_version(store, &version, error)) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    if (version != SMS_STORE_SCHEMA_VERSION) {
        g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_OPEN,
                    "%s: schema version %" G_GINT64_FORMAT " is not the %d this Causeway reads",
                    path, version, SMS_STORE_SCHEMA_VERSION);
        return NULL;
    }
    return g_steal_pointer(&store);
}

gboolean
cw_sms_user_counts(CwSmsStore *store, const char *jid, gint64 *messages, gint64 *conversations,
                   GError **error)
{
    g_return_val_if_fail(store != NULL && jid != NULL && messages && conversations, FALSE);
    const char *op = "counting a user's SMS data";
    g_autoptr(SmsStmt) st = sms_stmt(store, op,
                                     "SELECT (SELECT count(*) FROM messages WHERE jid = ?1), "
                                     "(SELECT count(*) FROM conversations WHERE jid = ?1)",
                                     error, "t", jid);
    gboolean row = FALSE;
    if (st == NULL || !sms_step_row(store, st, op, &row, error))
        return FALSE;
    *messages = row ? sqlite3_column_int64(st, 0) : 0;
    *conversations = row ? sqlite3_column_int64(st, 1) : 0;
    return TRUE;
}

void
cw_sms_forgotten_clear(CwSmsForgotten *f)
{
    if (f)
        g_clear_pointer(&f->number, g_free);
}

gboolean
cw_sms_user_forget(CwSmsStore *store, const char *jid, CwSmsForgotten *out, GError **error)
{
    g_return_val_if_fail(store != NULL && jid != NULL && out != NULL, FALSE);
    g_return_val_if_fail(!store->in_group, FALSE);
    *out = (CwSmsForgotten){ 0 };
    if (!sms_write_begin(store, error))
        return FALSE;
    out->state = cw_sms_claim_of(store, jid, &out->number);
    gboolean ok = SMS_EXEC(store, "releasing claim", "DELETE FROM claims WHERE jid = ?1", error,
                           NULL, "t", jid) &&
                  SMS_EXEC(store, "removing messages of user", "DELETE FROM messages WHERE jid = ?1",
                           error, &out->messages, "t", jid) &&
                  SMS_EXEC(store, "forgetting conversations",
                           "DELETE FROM conversations WHERE jid = ?1", error, &out->conversations,
                           "t", jid);
    if (!sms_write_end(store, ok, error)) {
        cw_sms_forgotten_clear(out);
        return FALSE;
    }
    return TRUE;
}
