/* store.c — SQLite persistence of users, their values, contacts and rooms. */
#define G_LOG_DOMAIN "causeway"
#include "store.h"

#include <causeway/metrics.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>

#define STORE_BUSY_TIMEOUT_MS 5000

/* Migration N (1-based) brings the schema from version N-1 to N: its SQL
 * (constant DDL), then its C step (data conversions) if it has one. Append
 * only: never edit a migration that has shipped. */
static gboolean store_migrate_3(CwStore *store, GError **error);
typedef struct {
    const char *sql;                                     /* may be NULL */
    gboolean (*convert)(CwStore *store, GError **error); /* may be NULL */
} StoreMigration;
static const StoreMigration store_migrations[] = {
    /* 1 */
    { "CREATE TABLE users ("
    "  jid        TEXT PRIMARY KEY NOT NULL,"
    "  registered INTEGER NOT NULL" /* unix time, seconds */
    ");"
    "CREATE TABLE user_values ("
    "  user   TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,"
    "  scope  TEXT NOT NULL,"
    "  key    TEXT NOT NULL,"
    "  value  TEXT NOT NULL," /* cw_secrets_encrypt() text when secret = 1 */
    "  secret INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),"
    "  PRIMARY KEY (user, scope, key)"
    ");"
    "CREATE TABLE contacts ("
    "  user      TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,"
    "  jid       TEXT NOT NULL,"
    "  legacy_id TEXT NOT NULL,"
    "  name      TEXT,"
    "  PRIMARY KEY (user, jid)"
    ");"
    "CREATE INDEX contacts_by_legacy_id ON contacts(user, legacy_id);"
    "CREATE TABLE rooms ("
    "  user     TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,"
    "  jid      TEXT NOT NULL,"
    "  nick     TEXT NOT NULL,"
    "  password TEXT," /* always cw_secrets_encrypt() text, or NULL */
    "  PRIMARY KEY (user, jid)"
    ");", NULL },
    /* 2: which of the user's resources (full JIDs) are in each room, to put
     * them back after a restart. */
    { "CREATE TABLE room_resources ("
    "  user     TEXT NOT NULL,"
    "  jid      TEXT NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  PRIMARY KEY (user, jid, resource),"
    "  FOREIGN KEY (user, jid) REFERENCES rooms(user, jid) ON DELETE CASCADE"
    ");"
    "CREATE INDEX room_resources_by_resource ON room_resources(user, resource);", NULL },
    /* 3: secrets become AEAD ciphertexts bound to their row (secrets.h); keys
     * now flagged encrypted (after_connect) are encrypted. */
    { NULL, store_migrate_3 },
    /* 4: the legacy side's roster group of a contact (NULL = the default). */
    { "ALTER TABLE contacts ADD COLUMN grp TEXT;", NULL },
};
G_STATIC_ASSERT(G_N_ELEMENTS(store_migrations) == CW_STORE_SCHEMA_VERSION);

struct CwStore {
    sqlite3 *db;
    CwSecrets *secrets; /* borrowed; may be NULL */
    GHashTable *stmts;  /* SQL text (a literal) -> prepared sqlite3_stmt */
    CwMetricsHistogram *step_seconds; /* NULL without a metrics registry */
    gint64 data_version;              /* cw_store_changed_elsewhere; -1 before the first call */
};

G_DEFINE_QUARK(cw-store-error-quark, cw_store_error)

/* A cached statement borrowed for one use: g_autoptr(CwStmt) resets it and
 * clears its bindings at the end of the scope, which also ends its read. */
typedef sqlite3_stmt CwStmt;
static void store_stmt_release(CwStmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwStmt, store_stmt_release)

static void store_stmt_finalize(gpointer st)
{
    sqlite3_finalize(st);
}

/* Set error for SQLite result rc: BUSY/LOCKED and FULL get their own codes,
 * anything else fallback. The message is "<op>: <sqlite3_errmsg>". */
static void store_set_error(CwStore *store, GError **error, int rc, CwStoreError fallback,
                            const char *op)
{
    CwStoreError code = fallback;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = CW_STORE_ERROR_BUSY;
        break;
    case SQLITE_FULL:
        code = CW_STORE_ERROR_FULL;
        break;
    }
    const char *msg = store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc);
    g_set_error(error, CW_STORE_ERROR, code, "%s: %s", op, msg);
}

/* The cached statement for sql, with n text parameters bound (?1..?n; a
 * NULL argument binds SQL NULL). NULL + error if it cannot be prepared. */
static CwStmt *store_stmt_valist(CwStore *store, const char *op, const char *sql,
                                 GError **error, int n, va_list ap)
{
    sqlite3_stmt *st = g_hash_table_lookup(store->stmts, sql);
    if (st == NULL) {
        int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) {
            store_set_error(store, error, rc, CW_STORE_ERROR_QUERY, op);
            return NULL;
        }
        g_hash_table_insert(store->stmts, (gpointer)sql, st);
    }
    for (int i = 1; i <= n; i++) {
        const char *text = va_arg(ap, const char *);
        int rc = text != NULL ? sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT)
                              : sqlite3_bind_null(st, i);
        if (rc != SQLITE_OK) {
            store_set_error(store, error, rc, CW_STORE_ERROR_QUERY, op);
            store_stmt_release(st);
            return NULL;
        }
    }
    return st;
}

static CwStmt *store_stmt(CwStore *store, const char *op, const char *sql, GError **error,
                          int n, ...)
{
    va_list ap;
    va_start(ap, n);
    CwStmt *st = store_stmt_valist(store, op, sql, error, n, ap);
    va_end(ap);
    return st;
}

/* sqlite3_step, timed into causeway_store_statement_seconds (two vDSO clock reads). */
static int
store_timed_step(CwStore *store, sqlite3_stmt *st)
{
    gint64 t0 = g_get_monotonic_time();
    int rc = sqlite3_step(st);
    cw_metrics_observe(store->step_seconds, (g_get_monotonic_time() - t0) / 1e6);
    return rc;
}

/* Step st to completion (a statement returning no rows). */
static gboolean store_step_done(CwStore *store, CwStmt *st, const char *op, GError **error)
{
    int rc = store_timed_step(store, st);
    if (rc == SQLITE_DONE)
        return TRUE;
    store_set_error(store, error, rc, CW_STORE_ERROR_QUERY, op);
    return FALSE;
}

/* Step a query: TRUE with *row set on SQLITE_ROW or SQLITE_DONE, FALSE + error otherwise. */
static gboolean store_step_row(CwStore *store, CwStmt *st, const char *op, gboolean *row,
                               GError **error)
{
    int rc = store_timed_step(store, st);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return TRUE;
    store_set_error(store, error, rc, CW_STORE_ERROR_QUERY, op);
    return FALSE;
}

/* Prepare, bind n text parameters and run a statement that returns no rows. */
static gboolean store_exec(CwStore *store, const char *op, const char *sql, GError **error,
                           int n, ...)
{
    va_list ap;
    va_start(ap, n);
    g_autoptr(CwStmt) st = store_stmt_valist(store, op, sql, error, n, ap);
    va_end(ap);
    return st != NULL && store_step_done(store, st, op, error);
}

/* One integer from a query without parameters (PRAGMA user_version, count). */
static gboolean store_query_int(CwStore *store, const char *op, const char *sql,
                                gint64 *out, GError **error)
{
    g_autoptr(CwStmt) st = store_stmt(store, op, sql, error, 0);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, error))
        return FALSE;
    *out = row ? sqlite3_column_int64(st, 0) : 0;
    return TRUE;
}

static char *store_column_dup(CwStmt *st, int col)
{
    return g_strdup((const char *)sqlite3_column_text(st, col));
}

/* The row identity a ciphertext is bound to (AEAD associated data), so a
 * ciphertext copied into another row, user or table does not decrypt. */
#define STORE_VALUE_BINDING(user, scope, key) \
    ((const char *const[]){ "user_values", (user), (scope), (key), NULL })
#define STORE_ROOM_BINDING(user, room_jid) \
    ((const char *const[]){ "rooms", (user), (room_jid), NULL })

/* Encrypted text of plaintext bound to binding (NULL stays NULL). */
static char *store_encrypt(CwStore *store, const char *plaintext, const char *const *binding)
{
    return plaintext != NULL ? cw_secrets_encrypt(store->secrets, plaintext, binding) : NULL;
}

/* Plaintext of a stored secret; what names the value in the error message. */
static char *store_decrypt(CwStore *store, const char *ciphertext, const char *const *binding,
                           const char *what, GError **error)
{
    if (ciphertext == NULL)
        return NULL;
    if (store->secrets == NULL) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT,
                    "decrypting %s: the store was opened without a key", what);
        return NULL;
    }
    g_autoptr(GError) local = NULL;
    char *plaintext = cw_secrets_decrypt(store->secrets, ciphertext, binding, &local);
    if (plaintext == NULL)
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT, "decrypting %s: %s", what,
                    local->message);
    return plaintext;
}

/* ---- migration 3: bind every ciphertext to its row ----------------------- */

/* Keys that schema 2 stored in clear and that are now stored encrypted
 * (fields whose form marks them CW_FIELD_ENCRYPTED): migration 3 encrypts
 * them. after_connect: the IRC transport's commands, often holding an
 * IDENTIFY password. */
static const char *const store_newly_secret_keys[] = { "after_connect", NULL };

/* Re-encrypt one ciphertext: version 1 (unbound) when v1, else plaintext in clear. */
static char *store_rebind(CwStore *store, const char *stored, gboolean v1,
                          const char *const *binding, const char *what, GError **error)
{
    if (!v1)
        return cw_secrets_encrypt(store->secrets, stored, binding);
    g_autoptr(GError) local = NULL;
    char *plain = cw_secrets_decrypt_v1(store->secrets, stored, &local);
    if (plain == NULL) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE, "migration 3: decrypting %s: %s",
                    what, local->message);
        return NULL;
    }
    char *bound = cw_secrets_encrypt(store->secrets, plain, binding);
    cw_secrets_free_plaintext(plain);
    return bound;
}

/* Version-1 secretbox ciphertexts become version-2 AEAD ciphertexts bound to
 * their row, and the newly secret keys are encrypted. Runs inside the
 * migration transaction: any failure rolls the whole upgrade back, so an old
 * database is never left half converted. Needs the key when there is
 * anything to convert. */
static gboolean store_migrate_3(CwStore *store, GError **error)
{
    const char *op = "migration 3";
    g_autoptr(GString) in_keys = g_string_new(NULL);
    for (const char *const *k = store_newly_secret_keys; *k != NULL; k++)
        g_string_append_printf(in_keys, "%s?%u", in_keys->len ? ", " : "",
                               (unsigned)(k - store_newly_secret_keys) + 1);
    /* Only ?N placeholders are spliced in; the key names are bound. */
    g_autofree char *values_sql =
        g_strdup_printf("SELECT user, scope, key, value, secret FROM user_values "
                        "WHERE secret = 1 OR key IN (%s)", in_keys->str);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, values_sql, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && store_newly_secret_keys[i] != NULL; i++)
        rc = sqlite3_bind_text(st, i + 1, store_newly_secret_keys[i], -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        store_set_error(store, error, rc, CW_STORE_ERROR_MIGRATE, op);
        sqlite3_finalize(st);
        return FALSE;
    }
    /* Collect first, then update: no writes to a table while reading it. */
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 4; c++)
            g_ptr_array_add(rows, g_strdup((const char *)sqlite3_column_text(st, c)));
        g_ptr_array_add(rows, g_strdup(sqlite3_column_int(st, 4) ? "1" : "0"));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_set_error(store, error, rc, CW_STORE_ERROR_MIGRATE, op);
        return FALSE;
    }
    rc = sqlite3_prepare_v2(store->db, "SELECT user, jid, password FROM rooms "
                            "WHERE password IS NOT NULL", -1, &st, NULL);
    g_autoptr(GPtrArray) rooms = g_ptr_array_new_with_free_func(g_free);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        for (int c = 0; c < 3; c++)
            g_ptr_array_add(rooms, g_strdup((const char *)sqlite3_column_text(st, c)));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_set_error(store, error, rc, CW_STORE_ERROR_MIGRATE, op);
        return FALSE;
    }
    if ((rows->len > 0 || rooms->len > 0) && store->secrets == NULL) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE,
                    "%s: the database holds secrets to convert but the store was opened "
                    "without a key", op);
        return FALSE;
    }
    for (guint i = 0; i < rows->len; i += 5) {
        const char *user = rows->pdata[i], *scope = rows->pdata[i + 1], *key = rows->pdata[i + 2];
        gboolean v1 = *(const char *)rows->pdata[i + 4] == '1';
        g_autofree char *what = g_strdup_printf("value %s/%s of %s", scope, key, user);
        g_autofree char *bound = store_rebind(store, rows->pdata[i + 3],
                                              v1, STORE_VALUE_BINDING(user, scope, key), what, error);
        if (bound == NULL ||
            !store_exec(store, op,
                        "UPDATE user_values SET value = ?4, secret = 1 "
                        "WHERE user = ?1 AND scope = ?2 AND key = ?3",
                        error, 4, user, scope, key, bound))
            return FALSE;
        if (!v1) /* a clear value: wipe our copy */
            sodium_memzero(rows->pdata[i + 3], strlen(rows->pdata[i + 3]));
    }
    for (guint i = 0; i < rooms->len; i += 3) {
        const char *user = rooms->pdata[i], *jid = rooms->pdata[i + 1];
        g_autofree char *what = g_strdup_printf("password of room %s of %s", jid, user);
        g_autofree char *bound =
            store_rebind(store, rooms->pdata[i + 2], TRUE, STORE_ROOM_BINDING(user, jid), what, error);
        if (bound == NULL ||
            !store_exec(store, op, "UPDATE rooms SET password = ?3 WHERE user = ?1 AND jid = ?2",
                        error, 3, user, jid, bound))
            return FALSE;
    }
    if (rows->len > 0 || rooms->len > 0)
        g_info("store: bound %u stored secrets to their rows", rows->len / 5 + rooms->len / 3);
    return TRUE;
}

/* ---- open, migrate, close ---------------------------------------------- */

static gboolean store_migrate(CwStore *store, GError **error)
{
    gint64 version = 0;
    if (!store_query_int(store, "reading schema version", "PRAGMA user_version", &version,
                         error))
        return FALSE;
    if (version == CW_STORE_SCHEMA_VERSION)
        return TRUE; /* the usual case: no write lock needed */

    /* BEGIN IMMEDIATE takes the write lock, so two processes opening a new
     * database cannot both migrate it; re-read the version under the lock. */
    if (!store_exec(store, "starting migration", "BEGIN IMMEDIATE", error, 0) ||
        !store_query_int(store, "reading schema version", "PRAGMA user_version", &version,
                         error))
        goto rollback;
    if (version < 0 || version > CW_STORE_SCHEMA_VERSION) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE,
                    "database schema version %" G_GINT64_FORMAT
                    " is not supported (this Causeway knows 0 to %d)",
                    version, CW_STORE_SCHEMA_VERSION);
        goto rollback;
    }
    for (gint64 v = version + 1; v <= CW_STORE_SCHEMA_VERSION; v++) {
        /* Constant DDL without data, so sqlite3_exec (which prepares each
         * statement in turn) is safe here; user_version takes no parameter. */
        const StoreMigration *m = &store_migrations[v - 1];
        g_autofree char *sql = g_strdup_printf("%s; PRAGMA user_version = %" G_GINT64_FORMAT,
                                               m->sql ? m->sql : "", v);
        int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            g_autofree char *op = g_strdup_printf("migration %" G_GINT64_FORMAT, v);
            store_set_error(store, error, rc, CW_STORE_ERROR_MIGRATE, op);
            goto rollback;
        }
        if (m->convert != NULL && !m->convert(store, error))
            goto rollback; /* user_version too is rolled back */
        g_info("store: migrated schema to version %" G_GINT64_FORMAT, v);
    }
    if (store_exec(store, "committing migration", "COMMIT", error, 0))
        return TRUE;
rollback:
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
}

/* Connection settings: WAL journal, foreign keys. */
static gboolean store_setup(CwStore *store, const char *path, GError **error)
{
    const char *op = "setting up database";
    g_autoptr(CwStmt) wal = store_stmt(store, op, "PRAGMA journal_mode = WAL", error, 0);
    gboolean row = FALSE;
    if (wal == NULL || !store_step_row(store, wal, op, &row, error))
        return FALSE;
    const char *mode = row ? (const char *)sqlite3_column_text(wal, 0) : NULL;
    if (g_strcmp0(mode, "wal") != 0)
        g_warning("store %s: WAL journal mode unavailable, using %s", path, mode);
    return store_exec(store, op, "PRAGMA foreign_keys = ON", error, 0);
}

CwStore *cw_store_open(const char *path, CwSecrets *secrets, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    /* Create the file ourselves so it is 0600: it lists users and contacts.
     * SQLite gives the -wal and -shm files the mode of the database file. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_OPEN, "opening %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    close(fd);

    g_autoptr(CwStore) store = g_new0(CwStore, 1);
    static const double bounds[] = { 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1 };
    store->step_seconds = cw_metrics_histogram("causeway_store_statement_seconds",
                                               "Time of one SQLite statement step in the core store",
                                               bounds, G_N_ELEMENTS(bounds));
    store->secrets = secrets;
    store->data_version = -1;
    store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, store_stmt_finalize);
    int rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        g_autofree char *op = g_strdup_printf("opening %s", path);
        store_set_error(store, error, rc, CW_STORE_ERROR_OPEN, op);
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);

    if (!store_setup(store, path, error) || !store_migrate(store, error)) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    return g_steal_pointer(&store);
}

gboolean cw_store_count_secrets(CwStore *store, gint64 *out, GError **error)
{
    return store_query_int(store, "counting secrets",
                           "SELECT (SELECT count(*) FROM user_values WHERE secret = 1)"
                           " + (SELECT count(*) FROM rooms WHERE password IS NOT NULL)",
                           out, error);
}

/* Decrypt the first secret row of st (columns: the binding's fields, then
 * the ciphertext); TRUE when there is none or it decrypts. */
static gboolean store_check_first(CwStore *store, CwStmt *st, const char *table, int fields,
                                  const char *op, GError **error)
{
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, error))
        return FALSE;
    if (!row)
        return TRUE;
    g_assert(fields <= 3);
    const char *binding[5] = { table, NULL, NULL, NULL, NULL }; /* table, up to 3 fields, NULL */
    for (int i = 0; i < fields; i++)
        binding[i + 1] = (const char *)sqlite3_column_text(st, i);
    const char *ciphertext = (const char *)sqlite3_column_text(st, fields);
    g_autoptr(GError) local = NULL;
    g_autofree char *plain = store_decrypt(store, ciphertext, binding, "a stored secret", &local);
    if (plain != NULL) {
        sodium_memzero(plain, strlen(plain));
        return TRUE;
    }
    g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT,
                "the key does not decrypt the secrets stored here (%s): they were written "
                "with another key file; restore the one they were written with", local->message);
    return FALSE;
}

gboolean cw_store_check_key(CwStore *store, GError **error)
{
    const char *op = "checking the key";
    g_autoptr(CwStmt) values = store_stmt(store, op,
                                          "SELECT user, scope, key, value FROM user_values"
                                          " WHERE secret = 1 LIMIT 1", error, 0);
    if (!store_check_first(store, values, "user_values", 3, op, error))
        return FALSE;
    g_autoptr(CwStmt) rooms = store_stmt(store, op,
                                         "SELECT user, jid, password FROM rooms"
                                         " WHERE password IS NOT NULL LIMIT 1", error, 0);
    return store_check_first(store, rooms, "rooms", 2, op, error);
}

void cw_store_close(CwStore *store)
{
    if (store == NULL)
        return;
    g_clear_pointer(&store->stmts, g_hash_table_destroy); /* finalizes statements */
    if (store->db != NULL && sqlite3_close(store->db) != SQLITE_OK)
        g_warning("store: closing: %s", sqlite3_errmsg(store->db));
    g_free(store);
}

void cw_store_set_busy_timeout(CwStore *store, int ms)
{
    g_return_if_fail(store != NULL);
    sqlite3_busy_timeout(store->db, ms);
}

int cw_store_schema_version(CwStore *store)
{
    g_return_val_if_fail(store != NULL, -1);
    g_autoptr(GError) error = NULL;
    gint64 version = -1;
    if (!store_query_int(store, "reading schema version", "PRAGMA user_version", &version,
                         &error)) {
        g_warning("store: %s", error->message);
        return -1;
    }
    return (int)version;
}

gboolean cw_store_check_integrity(CwStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    const char *op = "integrity check";
    g_autoptr(CwStmt) st = store_stmt(store, op, "PRAGMA integrity_check", error, 0);
    if (st == NULL)
        return FALSE;
    g_autoptr(GString) problems = g_string_new(NULL);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        if (g_strcmp0(line, "ok") != 0)
            g_string_append_printf(problems, "%s%s", problems->len ? "; " : "", line);
    }
    if (row) /* the loop stopped on an error */
        return FALSE;
    if (problems->len > 0) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_QUERY, "%s: %s", op, problems->str);
        return FALSE;
    }
    return TRUE;
}

/* ---- users -------------------------------------------------------------- */

gboolean cw_store_user_add(CwStore *store, const char *bare_jid, GError **error)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL, FALSE);
    const char *op = "adding user";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "INSERT INTO users (jid, registered) VALUES (?1, ?2) "
                                      "ON CONFLICT (jid) DO NOTHING",
                                      error, 1, bare_jid);
    if (st == NULL)
        return FALSE;
    sqlite3_bind_int64(st, 2, g_get_real_time() / G_USEC_PER_SEC);
    return store_step_done(store, st, op, error);
}

gboolean cw_store_user_exists(CwStore *store, const char *bare_jid)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL, FALSE);
    const char *op = "looking up user";
    g_autoptr(GError) error = NULL;
    g_autoptr(CwStmt) st =
        store_stmt(store, op, "SELECT 1 FROM users WHERE jid = ?1", &error, 1, bare_jid);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, &error))
        g_warning("store: %s", error->message);
    return row;
}

gboolean cw_store_user_remove(CwStore *store, const char *bare_jid, GError **error)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL, FALSE);
    return store_exec(store, "removing user", "DELETE FROM users WHERE jid = ?1", error, 1,
                      bare_jid);
}

GPtrArray *cw_store_user_list(CwStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    const char *op = "listing users";
    g_autoptr(CwStmt) st = store_stmt(store, op, "SELECT jid FROM users ORDER BY jid", error, 0);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func(g_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row)
        g_ptr_array_add(users, store_column_dup(st, 0));
    return row ? NULL : g_steal_pointer(&users);
}

gint64 cw_store_user_count(CwStore *store)
{
    g_return_val_if_fail(store != NULL, -1);
    g_autoptr(GError) error = NULL;
    gint64 count = -1;
    if (!store_query_int(store, "counting users", "SELECT count(*) FROM users", &count, &error)) {
        g_warning("store: %s", error->message);
        return -1;
    }
    return count;
}

/* ---- values ------------------------------------------------------------- */

gboolean cw_store_value_set(CwStore *store, const char *user, const char *scope,
                            const char *key, const char *value, gboolean secret,
                            GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && scope != NULL && key != NULL, FALSE);
    g_return_val_if_fail(value == NULL || !secret || store->secrets != NULL, FALSE);

    if (value == NULL)
        return store_exec(store, "deleting value",
                          "DELETE FROM user_values WHERE user = ?1 AND scope = ?2 AND key = ?3",
                          error, 3, user, scope, key);

    const char *op = "storing value";
    g_autofree char *encrypted =
        secret ? store_encrypt(store, value, STORE_VALUE_BINDING(user, scope, key)) : NULL;
    g_autoptr(CwStmt) st =
        store_stmt(store, op,
                   "INSERT INTO user_values (user, scope, key, value, secret) "
                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user, scope, key) "
                   "DO UPDATE SET value = excluded.value, secret = excluded.secret",
                   error, 4, user, scope, key, secret ? encrypted : value);
    if (st == NULL)
        return FALSE;
    sqlite3_bind_int(st, 5, secret ? 1 : 0);
    return store_step_done(store, st, op, error);
}

/* Plaintext of the value in column 0 of st (secret flag in column 1). */
static char *store_value_plain(CwStore *store, CwStmt *st, const char *user, const char *scope,
                               const char *key, GError **error)
{
    const char *text = (const char *)sqlite3_column_text(st, 0);
    if (!sqlite3_column_int(st, 1))
        return g_strdup(text);
    g_autofree char *what = g_strdup_printf("value %s/%s", scope, key);
    return store_decrypt(store, text, STORE_VALUE_BINDING(user, scope, key), what, error);
}

char *cw_store_value_get(CwStore *store, const char *user, const char *scope,
                         const char *key, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && scope != NULL && key != NULL, NULL);
    const char *op = "reading value";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT value, secret FROM user_values "
                                      "WHERE user = ?1 AND scope = ?2 AND key = ?3",
                                      error, 3, user, scope, key);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, error) || !row)
        return NULL;
    return store_value_plain(store, st, user, scope, key, error);
}

GHashTable *cw_store_values_get_all(CwStore *store, const char *user, const char *scope,
                                    GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && scope != NULL, NULL);
    const char *op = "reading values";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT value, secret, key FROM user_values "
                                      "WHERE user = ?1 AND scope = ?2",
                                      error, 2, user, scope);
    if (st == NULL)
        return NULL;
    g_autoptr(GHashTable) values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row) {
        const char *key = (const char *)sqlite3_column_text(st, 2);
        char *value = store_value_plain(store, st, user, scope, key, error);
        if (value == NULL)
            return NULL;
        g_hash_table_insert(values, g_strdup(key), value);
    }
    return row ? NULL : g_steal_pointer(&values);
}

GPtrArray *cw_store_scope_list(CwStore *store, const char *user, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL, NULL);
    const char *op = "listing scopes";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT DISTINCT scope FROM user_values WHERE user = ?1 "
                                      "ORDER BY scope",
                                      error, 1, user);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) scopes = g_ptr_array_new_with_free_func(g_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row)
        g_ptr_array_add(scopes, g_strdup((const char *)sqlite3_column_text(st, 0)));
    return row ? NULL : g_steal_pointer(&scopes);
}

gboolean cw_store_value_is_secret(CwStore *store, const char *user, const char *scope,
                                  const char *key)
{
    g_return_val_if_fail(store != NULL && user != NULL && scope != NULL && key != NULL, FALSE);
    const char *op = "reading value flags";
    g_autoptr(GError) error = NULL;
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT secret FROM user_values "
                                      "WHERE user = ?1 AND scope = ?2 AND key = ?3",
                                      &error, 3, user, scope, key);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, &error)) {
        g_warning("store: %s", error->message);
        return FALSE;
    }
    return row && sqlite3_column_int(st, 0) != 0;
}

gboolean cw_store_scope_clear(CwStore *store, const char *user, const char *scope,
                              GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && scope != NULL, FALSE);
    return store_exec(store, "clearing scope",
                      "DELETE FROM user_values WHERE user = ?1 AND scope = ?2", error, 2, user,
                      scope);
}

/* ---- contacts ----------------------------------------------------------- */

void cw_stored_contact_free(CwStoredContact *c)
{
    if (c == NULL)
        return;
    g_free(c->jid);
    g_free(c->legacy_id);
    g_free(c->name);
    g_free(c->group);
    g_free(c);
}

gboolean cw_store_contact_add(CwStore *store, const char *user, const char *contact_jid,
                              const char *legacy_id, const char *name, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && contact_jid != NULL, FALSE);
    g_return_val_if_fail(legacy_id != NULL, FALSE);
    return store_exec(store, "storing contact",
                      "INSERT INTO contacts (user, jid, legacy_id, name) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT (user, jid) "
                      "DO UPDATE SET legacy_id = excluded.legacy_id, name = excluded.name",
                      error, 4, user, contact_jid, legacy_id, name);
}

gboolean cw_store_contact_remove(CwStore *store, const char *user, const char *contact_jid,
                                 GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && contact_jid != NULL, FALSE);
    return store_exec(store, "removing contact",
                      "DELETE FROM contacts WHERE user = ?1 AND jid = ?2", error, 2, user,
                      contact_jid);
}

gboolean cw_store_contact_set_group(CwStore *store, const char *user, const char *contact_jid,
                                    const char *group, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && contact_jid != NULL, FALSE);
    return store_exec(store, "setting a contact's group",
                      "UPDATE contacts SET grp = ?3 WHERE user = ?1 AND jid = ?2", error, 3, user,
                      contact_jid, group);
}

GPtrArray *cw_store_contact_list(CwStore *store, const char *user, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL, NULL);
    const char *op = "listing contacts";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT jid, legacy_id, name, grp FROM contacts "
                                      "WHERE user = ?1 ORDER BY jid",
                                      error, 1, user);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) contacts =
        g_ptr_array_new_with_free_func((GDestroyNotify)cw_stored_contact_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row) {
        CwStoredContact *c = g_new0(CwStoredContact, 1);
        c->jid = store_column_dup(st, 0);
        c->legacy_id = store_column_dup(st, 1);
        c->name = store_column_dup(st, 2);
        c->group = store_column_dup(st, 3);
        g_ptr_array_add(contacts, c);
    }
    return row ? NULL : g_steal_pointer(&contacts);
}

/* ---- rooms -------------------------------------------------------------- */

void cw_stored_room_free(CwStoredRoom *r)
{
    if (r == NULL)
        return;
    g_free(r->room_jid);
    g_free(r->nick);
    g_free(r->password);
    g_free(r);
}

gboolean cw_store_room_add(CwStore *store, const char *user, const char *room_jid,
                           const char *nick, const char *password, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && room_jid != NULL, FALSE);
    g_return_val_if_fail(nick != NULL, FALSE);
    g_return_val_if_fail(password == NULL || store->secrets != NULL, FALSE);
    g_autofree char *encrypted = store_encrypt(store, password, STORE_ROOM_BINDING(user, room_jid));
    return store_exec(store, "storing room",
                      "INSERT INTO rooms (user, jid, nick, password) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT (user, jid) "
                      "DO UPDATE SET nick = excluded.nick, password = excluded.password",
                      error, 4, user, room_jid, nick, encrypted);
}

gboolean cw_store_room_remove(CwStore *store, const char *user, const char *room_jid,
                              GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && room_jid != NULL, FALSE);
    return store_exec(store, "removing room", "DELETE FROM rooms WHERE user = ?1 AND jid = ?2",
                      error, 2, user, room_jid);
}

/* The rows of st as CwStoredRoom* (jid, nick, encrypted password), or NULL. */
static GPtrArray *store_read_rooms(CwStore *store, CwStmt *st, const char *user, const char *op,
                                   GError **error)
{
    g_autoptr(GPtrArray) rooms = g_ptr_array_new_with_free_func((GDestroyNotify)cw_stored_room_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row) {
        CwStoredRoom *r = g_new0(CwStoredRoom, 1);
        g_ptr_array_add(rooms, r);
        r->room_jid = store_column_dup(st, 0);
        r->nick = store_column_dup(st, 1);
        const char *encrypted = (const char *)sqlite3_column_text(st, 2);
        if (encrypted == NULL)
            continue;
        g_autofree char *what = g_strdup_printf("password of room %s", r->room_jid);
        r->password =
            store_decrypt(store, encrypted, STORE_ROOM_BINDING(user, r->room_jid), what, error);
        if (r->password == NULL)
            return NULL;
    }
    return row ? NULL : g_steal_pointer(&rooms);
}

GPtrArray *cw_store_room_list(CwStore *store, const char *user, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL, NULL);
    const char *op = "listing rooms";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT jid, nick, password FROM rooms "
                                      "WHERE user = ?1 ORDER BY jid",
                                      error, 1, user);
    return st ? store_read_rooms(store, st, user, op, error) : NULL;
}

gboolean cw_store_room_resource_add(CwStore *store, const char *user, const char *room_jid,
                                    const char *resource, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && room_jid != NULL, FALSE);
    g_return_val_if_fail(resource != NULL, FALSE);
    return store_exec(store, "storing room resource",
                      "INSERT OR IGNORE INTO room_resources (user, jid, resource) VALUES (?1, ?2, ?3)",
                      error, 3, user, room_jid, resource);
}

gboolean cw_store_room_resource_remove(CwStore *store, const char *user, const char *room_jid,
                                       const char *resource, GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && room_jid != NULL, FALSE);
    g_return_val_if_fail(resource != NULL, FALSE);
    return store_exec(store, "removing room resource",
                      "DELETE FROM room_resources WHERE user = ?1 AND jid = ?2 AND resource = ?3",
                      error, 3, user, room_jid, resource);
}

GPtrArray *cw_store_rooms_of_resource(CwStore *store, const char *user, const char *resource,
                                      GError **error)
{
    g_return_val_if_fail(store != NULL && user != NULL && resource != NULL, NULL);
    const char *op = "listing a resource's rooms";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT rooms.jid, rooms.nick, rooms.password FROM rooms JOIN room_resources "
                                      "ON rooms.user = room_resources.user AND rooms.jid = room_resources.jid "
                                      "WHERE rooms.user = ?1 AND room_resources.resource = ?2 "
                                      "ORDER BY rooms.jid",
                                      error, 2, user, resource);
    return st ? store_read_rooms(store, st, user, op, error) : NULL;
}

/* ---- transactions ------------------------------------------------------- */

gboolean cw_store_transaction(CwStore *store, gboolean (*fn)(CwStore *, gpointer, GError **),
                              gpointer data, GError **error)
{
    g_return_val_if_fail(store != NULL && fn != NULL, FALSE);
    g_return_val_if_fail(sqlite3_get_autocommit(store->db), FALSE); /* not nestable */

    if (!store_exec(store, "starting transaction", "BEGIN IMMEDIATE", error, 0))
        return FALSE;
    if (fn(store, data, error) &&
        store_exec(store, "committing transaction", "COMMIT", error, 0))
        return TRUE;
    /* SQLite may already have rolled back on its own (e.g. after SQLITE_FULL). */
    if (!sqlite3_get_autocommit(store->db) &&
        !store_exec(store, "rolling back transaction", "ROLLBACK", NULL, 0))
        g_warning("store: rolling back failed: %s", sqlite3_errmsg(store->db));
    return FALSE;
}

/* ---- administration ----------------------------------------------------- */

/* An existing database for the admin commands: no creation, no migration. */
static CwStore *
store_open_existing(const char *path, gboolean writable, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_OPEN, "opening %s: no such database",
                    path);
        return NULL;
    }
    g_autoptr(CwStore) store = g_new0(CwStore, 1);
    store->data_version = -1;
    store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, store_stmt_finalize);
    int rc = sqlite3_open_v2(path, &store->db,
                             writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        g_autofree char *op =
            g_strdup_printf("opening %s%s", path, writable ? "" : " read-only");
        store_set_error(store, error, rc, CW_STORE_ERROR_OPEN, op);
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
    gint64 version = -1;
    if (!store_query_int(store, "reading schema version", "PRAGMA user_version", &version,
                         error)) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    if (version != CW_STORE_SCHEMA_VERSION) {
        g_set_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE,
                    "%s: database schema version %" G_GINT64_FORMAT " is not the %d this "
                    "Causeway reads; start the service once to migrate it, or use the "
                    "causeway that wrote it", path, version, CW_STORE_SCHEMA_VERSION);
        return NULL;
    }
    /* The deletion relies on ON DELETE CASCADE, which is per connection. */
    if (writable && !store_exec(store, "setting up database", "PRAGMA foreign_keys = ON", error, 0)) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    return g_steal_pointer(&store);
}

CwStore *
cw_store_open_readonly(const char *path, GError **error)
{
    return store_open_existing(path, FALSE, error);
}

CwStore *
cw_store_open_admin(const char *path, GError **error)
{
    return store_open_existing(path, TRUE, error);
}

void
cw_store_user_info_free(CwStoreUserInfo *info)
{
    if (!info)
        return;
    g_free(info->jid);
    g_free(info);
}

/* Counts per user with one pass over each table's (user, ...) primary key. */
#define STORE_USER_INFO_SELECT                                                             \
    "SELECT u.jid, u.registered,"                                                          \
    " (SELECT count(*) FROM user_values v WHERE v.user = u.jid),"                           \
    " (SELECT count(*) FROM user_values v WHERE v.user = u.jid AND v.secret = 1),"          \
    " (SELECT count(*) FROM contacts c WHERE c.user = u.jid),"                              \
    " (SELECT count(*) FROM rooms r WHERE r.user = u.jid),"                                 \
    " (SELECT count(*) FROM room_resources rr WHERE rr.user = u.jid) FROM users u "

static CwStoreUserInfo *
store_user_info_row(CwStmt *st)
{
    CwStoreUserInfo *info = g_new0(CwStoreUserInfo, 1);
    info->jid = store_column_dup(st, 0);
    info->registered = sqlite3_column_int64(st, 1);
    info->values = sqlite3_column_int64(st, 2);
    info->secrets = sqlite3_column_int64(st, 3);
    info->contacts = sqlite3_column_int64(st, 4);
    info->rooms = sqlite3_column_int64(st, 5);
    info->room_resources = sqlite3_column_int64(st, 6);
    return info;
}

CwStoreUserInfo *
cw_store_user_info(CwStore *store, const char *bare_jid, GError **error)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL, NULL);
    const char *op = "reading user summary";
    g_autoptr(CwStmt) st =
        store_stmt(store, op, STORE_USER_INFO_SELECT "WHERE u.jid = ?1", error, 1, bare_jid);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, error) || !row)
        return NULL;
    return store_user_info_row(st);
}

GPtrArray *
cw_store_user_infos(CwStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    const char *op = "listing user summaries";
    g_autoptr(CwStmt) st = store_stmt(store, op, STORE_USER_INFO_SELECT "ORDER BY u.jid", error, 0);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) infos =
        g_ptr_array_new_with_free_func((GDestroyNotify)cw_store_user_info_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row)
        g_ptr_array_add(infos, store_user_info_row(st));
    return row ? NULL : g_steal_pointer(&infos);
}

void
cw_store_setting_free(CwStoreSetting *s)
{
    if (!s)
        return;
    g_free(s->scope);
    g_free(s->key);
    g_free(s->value);
    g_free(s);
}

GPtrArray *
cw_store_user_settings(CwStore *store, const char *bare_jid, GError **error)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL, NULL);
    const char *op = "listing settings";
    /* The ciphertext of a secret is not even read. */
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT scope, key, secret, "
                                      "CASE WHEN secret = 0 THEN value END FROM user_values "
                                      "WHERE user = ?1 ORDER BY scope, key",
                                      error, 1, bare_jid);
    if (st == NULL)
        return NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)cw_store_setting_free);
    gboolean row = FALSE;
    while (store_step_row(store, st, op, &row, error) && row) {
        CwStoreSetting *s = g_new0(CwStoreSetting, 1);
        s->scope = store_column_dup(st, 0);
        s->key = store_column_dup(st, 1);
        s->secret = sqlite3_column_int(st, 2) != 0;
        s->value = s->secret ? NULL : store_column_dup(st, 3);
        g_ptr_array_add(out, s);
    }
    return row ? NULL : g_steal_pointer(&out);
}

gboolean
cw_store_stats(CwStore *store, CwStoreStats *stats, GError **error)
{
    g_return_val_if_fail(store != NULL && stats != NULL, FALSE);
    const char *op = "reading statistics";
    g_autoptr(CwStmt) st = store_stmt(store, op,
                                      "SELECT (SELECT count(*) FROM users), "
                                      "(SELECT count(*) FROM contacts), "
                                      "(SELECT count(*) FROM rooms), "
                                      "(SELECT count(*) FROM room_resources)",
                                      error, 0);
    gboolean row = FALSE;
    if (st == NULL || !store_step_row(store, st, op, &row, error))
        return FALSE;
    *stats = (CwStoreStats){ 0 };
    if (row) {
        stats->users = sqlite3_column_int64(st, 0);
        stats->contacts = sqlite3_column_int64(st, 1);
        stats->rooms = sqlite3_column_int64(st, 2);
        stats->room_resources = sqlite3_column_int64(st, 3);
    }
    return TRUE;
}

typedef struct {
    const char *jid;
    CwStoreUserInfo *removed;
} StoreDeleteJob;

static gboolean
store_delete_job(CwStore *store, gpointer data, GError **error)
{
    StoreDeleteJob *job = data;
    g_autoptr(GError) local = NULL;
    job->removed = cw_store_user_info(store, job->jid, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    /* ON DELETE CASCADE takes values, contacts, rooms and room resources. */
    return job->removed == NULL || cw_store_user_remove(store, job->jid, error);
}

gboolean
cw_store_user_delete(CwStore *store, const char *bare_jid, CwStoreUserInfo **removed,
                     GError **error)
{
    g_return_val_if_fail(store != NULL && bare_jid != NULL && removed != NULL, FALSE);
    StoreDeleteJob job = { bare_jid, NULL };
    *removed = NULL;
    if (!cw_store_transaction(store, store_delete_job, &job, error)) {
        cw_store_user_info_free(job.removed);
        return FALSE;
    }
    *removed = job.removed;
    return TRUE;
}

typedef struct {
    gint64 values, rooms;
} StoreForgetJob;

static gboolean
store_forget_job(CwStore *store, gpointer data, GError **error)
{
    StoreForgetJob *job = data;
    if (!store_exec(store, "forgetting secret values", "DELETE FROM user_values WHERE secret = 1",
                    error, 0))
        return FALSE;
    job->values = sqlite3_changes(store->db);
    if (!store_exec(store, "forgetting room passwords",
                    "UPDATE rooms SET password = NULL WHERE password IS NOT NULL", error, 0))
        return FALSE;
    job->rooms = sqlite3_changes(store->db);
    return TRUE;
}

gboolean
cw_store_forget_secrets(CwStore *store, gint64 *values, gint64 *rooms, GError **error)
{
    g_return_val_if_fail(store != NULL && values != NULL && rooms != NULL, FALSE);
    StoreForgetJob job = { 0, 0 };
    if (!cw_store_transaction(store, store_forget_job, &job, error))
        return FALSE;
    *values = job.values;
    *rooms = job.rooms;
    return TRUE;
}

gboolean
cw_store_changed_elsewhere(CwStore *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_autoptr(GError) error = NULL;
    gint64 version = 0;
    if (!store_query_int(store, "reading data version", "PRAGMA data_version", &version,
                         &error)) {
        g_warning("store: %s", error->message);
        return FALSE;
    }
    gboolean changed = store->data_version >= 0 && version != store->data_version;
    store->data_version = version;
    return changed;
}
