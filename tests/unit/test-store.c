/* test-store.c — unit tests for the SQLite store (store.c): schema, CRUD, secrets at rest, errors. */
#include "store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#define EVIL "'; DROP TABLE users; --"
#define PASSWORD "Hunter2-plaintext-Secret"

/* A temp dir with a key file and an open store; all removed at teardown. */
typedef struct {
    char *dir;
    char *db_path;
    char *key_path;
    CwSecrets *secrets;
    CwStore *store;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("cw-store-XXXXXX", &error);
    g_assert_no_error(error);
    f->db_path = g_build_filename(f->dir, "irc.db", NULL);
    f->key_path = g_build_filename(f->dir, "key", NULL);
    f->secrets = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);
    f->store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->store);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_store_close);
    g_clear_pointer(&f->secrets, cw_secrets_free);
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->db_path);
    g_free(f->key_path);
    g_free(f->dir);
}

/* ---- raw access to the database file, bypassing the store ---------------- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        g_error("%s: %s", sql, msg);
}

static gint64 raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    char *v = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static gint64 rows(const char *db_path, const char *table)
{
    sqlite3 *db = raw_open(db_path);
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
    gint64 n = raw_int(db, sql);
    sqlite3_close(db);
    return n;
}

/* Does file path (missing = empty) contain needle? */
static gboolean file_contains(const char *path, const char *needle)
{
    g_autofree char *bytes = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &bytes, &len, NULL))
        return FALSE;
    return memmem(bytes, len, needle, strlen(needle)) != NULL;
}

/* ---- tests -------------------------------------------------------------- */

static void test_migrate_and_reopen(Fixture *f, gconstpointer data)
{
    g_assert_cmpint(cw_store_schema_version(f->store), ==, CW_STORE_SCHEMA_VERSION);
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, "alice@example.org", &error));
    g_assert_no_error(error);
    g_clear_pointer(&f->store, cw_store_close);

    struct stat st;
    g_assert_cmpint(g_stat(f->db_path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    sqlite3 *db = raw_open(f->db_path);
    g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, CW_STORE_SCHEMA_VERSION);
    g_autofree char *mode = raw_text(db, "PRAGMA journal_mode");
    g_assert_cmpstr(mode, ==, "wal");
    g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                "name IN ('users', 'user_values', 'contacts', 'rooms')"),
                    ==, 4);
    sqlite3_close(db);

    /* Re-open twice: migrations are not re-run and data survives. */
    for (int i = 0; i < 2; i++) {
        f->store = cw_store_open(f->db_path, f->secrets, &error);
        g_assert_no_error(error);
        g_assert_cmpint(cw_store_schema_version(f->store), ==, CW_STORE_SCHEMA_VERSION);
        g_assert_true(cw_store_user_exists(f->store, "alice@example.org"));
        g_assert_true(cw_store_check_integrity(f->store, &error));
        g_assert_no_error(error);
        g_clear_pointer(&f->store, cw_store_close);
    }
}

static void test_newer_schema_refused(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_store_close);
    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, "PRAGMA user_version = 99");
    sqlite3_close(db);

    g_autoptr(GError) error = NULL;
    CwStore *store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE);
    g_assert_null(store);
    g_assert_nonnull(strstr(error->message, f->db_path));
    g_assert_nonnull(strstr(error->message, "99"));
}

static void test_open_error(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CwStore *store = cw_store_open(f->dir, f->secrets, &error); /* a directory */
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_OPEN);
    g_assert_null(store);
    g_assert_nonnull(strstr(error->message, f->dir));
}

static void test_users(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(cw_store_user_count(f->store), ==, 0);
    g_assert_false(cw_store_user_exists(f->store, "bob@example.org"));
    g_assert_true(cw_store_user_add(f->store, "bob@example.org", &error));
    g_assert_true(cw_store_user_add(f->store, "alice@example.org", &error));
    g_assert_true(cw_store_user_add(f->store, "bob@example.org", &error)); /* idempotent */
    g_assert_no_error(error);
    g_assert_true(cw_store_user_exists(f->store, "bob@example.org"));
    g_assert_false(cw_store_user_exists(f->store, "BOB@example.org"));
    g_assert_cmpint(cw_store_user_count(f->store), ==, 2);

    g_autoptr(GPtrArray) users = cw_store_user_list(f->store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(users->len, ==, 2);
    g_assert_cmpstr(users->pdata[0], ==, "alice@example.org");
    g_assert_cmpstr(users->pdata[1], ==, "bob@example.org");

    g_assert_true(cw_store_user_remove(f->store, "bob@example.org", &error));
    g_assert_true(cw_store_user_remove(f->store, "bob@example.org", &error)); /* absent: ok */
    g_assert_no_error(error);
    g_assert_false(cw_store_user_exists(f->store, "bob@example.org"));
    g_assert_cmpint(cw_store_user_count(f->store), ==, 1);
}

static void add_everything(Fixture *f, const char *user)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, user, &error));
    g_assert_true(cw_store_value_set(f->store, user, "", "nick", "al", FALSE, &error));
    g_assert_true(cw_store_value_set(f->store, user, "", "password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_contact_add(f->store, user, "bob%irc@gw", "bob", NULL, &error));
    g_assert_true(cw_store_room_add(f->store, user, "#c%irc@gw", "al", "key", &error));
    g_assert_no_error(error);
}

static void test_remove_cascades(Fixture *f, gconstpointer data)
{
    add_everything(f, "alice@example.org");
    add_everything(f, "carol@example.org");
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_remove(f->store, "alice@example.org", &error));
    g_assert_no_error(error);

    const char *tables[] = {"users", "user_values", "contacts", "rooms"};
    const gint64 left[] = {1, 2, 1, 1}; /* carol's rows only */
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++)
        g_assert_cmpint(rows(f->db_path, tables[i]), ==, left[i]);

    /* Re-registering starts from nothing. */
    g_assert_true(cw_store_user_add(f->store, "alice@example.org", &error));
    g_autoptr(GHashTable) values = cw_store_values_get_all(f->store, "alice@example.org", "", &error);
    g_autoptr(GPtrArray) contacts = cw_store_contact_list(f->store, "alice@example.org", &error);
    g_autoptr(GPtrArray) rooms = cw_store_room_list(f->store, "alice@example.org", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(values), ==, 0);
    g_assert_cmpuint(contacts->len, ==, 0);
    g_assert_cmpuint(rooms->len, ==, 0);
}

static void test_values(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));

    /* Absent: NULL without error. */
    g_autofree char *none = cw_store_value_get(f->store, u, "", "nick", &error);
    g_assert_no_error(error);
    g_assert_null(none);

    g_assert_true(cw_store_value_set(f->store, u, "", "nick", "al", FALSE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "nick", "alice", FALSE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "settings", "nick", "other", FALSE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "settings", "empty", "", FALSE, &error));
    g_assert_no_error(error);

    g_autofree char *nick = cw_store_value_get(f->store, u, "", "nick", &error);
    g_autofree char *pw = cw_store_value_get(f->store, u, "", "password", &error);
    g_autofree char *other = cw_store_value_get(f->store, u, "settings", "nick", &error);
    g_autofree char *empty = cw_store_value_get(f->store, u, "settings", "empty", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(nick, ==, "alice");
    g_assert_cmpstr(pw, ==, PASSWORD);
    g_assert_cmpstr(other, ==, "other");
    g_assert_cmpstr(empty, ==, "");

    g_assert_true(cw_store_value_is_secret(f->store, u, "", "password"));
    g_assert_false(cw_store_value_is_secret(f->store, u, "", "nick"));
    g_assert_false(cw_store_value_is_secret(f->store, u, "", "absent"));

    g_autoptr(GHashTable) all = cw_store_values_get_all(f->store, u, "", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(all), ==, 2);
    g_assert_cmpstr(g_hash_table_lookup(all, "nick"), ==, "alice");
    g_assert_cmpstr(g_hash_table_lookup(all, "password"), ==, PASSWORD);

    /* Overwriting a secret with a plain value clears the flag. */
    g_assert_true(cw_store_value_set(f->store, u, "", "password", "public", FALSE, &error));
    g_assert_false(cw_store_value_is_secret(f->store, u, "", "password"));

    /* NULL deletes. */
    g_assert_true(cw_store_value_set(f->store, u, "", "nick", NULL, FALSE, &error));
    g_autofree char *gone = cw_store_value_get(f->store, u, "", "nick", &error);
    g_assert_no_error(error);
    g_assert_null(gone);

    /* Clearing one scope leaves the others. */
    g_assert_true(cw_store_scope_clear(f->store, u, "settings", &error));
    g_assert_no_error(error);
    g_autoptr(GHashTable) settings = cw_store_values_get_all(f->store, u, "settings", &error);
    g_autoptr(GHashTable) account = cw_store_values_get_all(f->store, u, "", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(settings), ==, 0);
    g_assert_cmpuint(g_hash_table_size(account), ==, 1);
}

static void test_unknown_user_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(cw_store_value_set(f->store, "ghost@example.org", "", "k", "v", FALSE, &error));
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_QUERY);
    g_assert_nonnull(strstr(error->message, "storing value"));
    g_assert_nonnull(strstr(error->message, "FOREIGN KEY"));
    g_clear_error(&error);
    g_assert_false(cw_store_contact_add(f->store, "ghost@example.org", "a@b", "a", NULL, &error));
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_QUERY);
}

static void test_contacts(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_contact_add(f->store, u, "zed%irc@gw", "zed", "Zed", &error));
    g_assert_true(cw_store_contact_add(f->store, u, "bob%irc@gw", "bob", NULL, &error));
    g_assert_true(cw_store_contact_add(f->store, u, "bob%irc@gw", "Bob", "Bobby", &error));
    g_assert_no_error(error);

    g_autoptr(GPtrArray) list = cw_store_contact_list(f->store, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 2);
    CwStoredContact *c0 = list->pdata[0], *c1 = list->pdata[1];
    g_assert_cmpstr(c0->jid, ==, "bob%irc@gw");
    g_assert_cmpstr(c0->legacy_id, ==, "Bob");
    g_assert_cmpstr(c0->name, ==, "Bobby");
    g_assert_cmpstr(c1->jid, ==, "zed%irc@gw");
    g_assert_cmpstr(c1->name, ==, "Zed");
    g_assert_null(c1->group);

    /* the legacy group: set, kept by an upsert, cleared with NULL */
    g_assert_true(cw_store_contact_set_group(f->store, u, "zed%irc@gw", "Friends", &error));
    g_assert_true(cw_store_contact_add(f->store, u, "zed%irc@gw", "zed", "Zed", &error));
    g_assert_true(cw_store_contact_set_group(f->store, u, "nobody@gw", "X", &error));
    g_assert_no_error(error);
    {
        g_autoptr(GPtrArray) grouped = cw_store_contact_list(f->store, u, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(((CwStoredContact *)grouped->pdata[1])->group, ==, "Friends");
        g_assert_null(((CwStoredContact *)grouped->pdata[0])->group);
    }
    g_assert_true(cw_store_contact_set_group(f->store, u, "zed%irc@gw", NULL, &error));
    {
        g_autoptr(GPtrArray) cleared = cw_store_contact_list(f->store, u, &error);
        g_assert_null(((CwStoredContact *)cleared->pdata[1])->group);
    }

    g_assert_true(cw_store_contact_add(f->store, u, "zed%irc@gw", "zed", NULL, &error));
    g_assert_true(cw_store_contact_remove(f->store, u, "bob%irc@gw", &error));
    g_assert_true(cw_store_contact_remove(f->store, u, "nobody@gw", &error));
    g_assert_no_error(error);
    g_autoptr(GPtrArray) after = cw_store_contact_list(f->store, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(after->len, ==, 1);
    g_assert_null(((CwStoredContact *)after->pdata[0])->name);
}

static void test_rooms(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#b%irc@gw", "al", NULL, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#a%irc@gw", "al", "old", &error));
    g_assert_true(cw_store_room_add(f->store, u, "#a%irc@gw", "alice", PASSWORD, &error));
    g_assert_no_error(error);

    g_autoptr(GPtrArray) list = cw_store_room_list(f->store, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 2);
    CwStoredRoom *r0 = list->pdata[0], *r1 = list->pdata[1];
    g_assert_cmpstr(r0->room_jid, ==, "#a%irc@gw");
    g_assert_cmpstr(r0->nick, ==, "alice");
    g_assert_cmpstr(r0->password, ==, PASSWORD);
    g_assert_cmpstr(r1->room_jid, ==, "#b%irc@gw");
    g_assert_null(r1->password);

    g_assert_true(cw_store_room_remove(f->store, u, "#a%irc@gw", &error));
    g_assert_no_error(error);
    g_autoptr(GPtrArray) after = cw_store_room_list(f->store, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(after->len, ==, 1);
}

/* Which resources are in which room: kept with the room, gone with it. */
static void test_room_resources(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    const char *phone = "alice@example.org/phone", *laptop = "alice@example.org/laptop";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#a%irc@gw", "al", NULL, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#b%irc@gw", "al2", NULL, &error));
    g_assert_true(cw_store_room_resource_add(f->store, u, "#a%irc@gw", phone, &error));
    g_assert_true(cw_store_room_resource_add(f->store, u, "#a%irc@gw", phone, &error)); /* again */
    g_assert_true(cw_store_room_resource_add(f->store, u, "#a%irc@gw", laptop, &error));
    g_assert_true(cw_store_room_resource_add(f->store, u, "#b%irc@gw", laptop, &error));
    g_assert_no_error(error);
    /* no resource without its room */
    g_assert_false(cw_store_room_resource_add(f->store, u, "#nope%irc@gw", phone, &error));
    g_clear_error(&error);

    g_autoptr(GPtrArray) lap = cw_store_rooms_of_resource(f->store, u, laptop, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(lap->len, ==, 2);
    g_assert_cmpstr(((CwStoredRoom *)lap->pdata[0])->room_jid, ==, "#a%irc@gw");
    g_assert_cmpstr(((CwStoredRoom *)lap->pdata[1])->nick, ==, "al2");
    g_autoptr(GPtrArray) ph = cw_store_rooms_of_resource(f->store, u, phone, &error);
    g_assert_cmpuint(ph->len, ==, 1);

    g_assert_true(cw_store_room_resource_remove(f->store, u, "#a%irc@gw", phone, &error));
    g_autoptr(GPtrArray) ph2 = cw_store_rooms_of_resource(f->store, u, phone, &error);
    g_assert_cmpuint(ph2->len, ==, 0);
    g_assert_true(cw_store_room_remove(f->store, u, "#b%irc@gw", &error));
    g_autoptr(GPtrArray) lap2 = cw_store_rooms_of_resource(f->store, u, laptop, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(lap2->len, ==, 1);
}

/* A version 1 database (before room_resources) is migrated, data kept. */
static void test_migrate_from_v1(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, "bob@example.org", &error));
    g_clear_pointer(&f->store, cw_store_close);
    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, "DROP TABLE room_resources; ALTER TABLE contacts DROP COLUMN grp; "
                 "PRAGMA user_version = 1");
    sqlite3_close(db);
    f->store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_schema_version(f->store), ==, CW_STORE_SCHEMA_VERSION);
    g_assert_true(cw_store_user_exists(f->store, "bob@example.org"));
    g_assert_true(cw_store_room_add(f->store, "bob@example.org", "#c%irc@gw", "bob", NULL, &error));
    g_assert_true(cw_store_room_resource_add(f->store, "bob@example.org", "#c%irc@gw", "bob@example.org/r",
                                             &error));
    g_assert_no_error(error);
}

/* A schema-2 database and its key, made by the store and secrets code of
 * main at 3e2354e (tests/unit/data/make-store-v2.c says how): secretbox
 * ciphertexts not bound to their row, after_connect in clear. */
static const char store_v2_key_hex[] = "17d5617f2e56350bd55d88afaa8f8d483099bc68f4c7bec0262ba8b28071a99a";
static const char store_v2_dump[] =
    "PRAGMA foreign_keys=OFF;\n"
    "BEGIN TRANSACTION;\n"
    "CREATE TABLE users (  jid        TEXT PRIMARY KEY NOT NULL,  registered INTEGER NOT NULL);\n"
    "INSERT INTO users VALUES('alice@example.org',1796317580);\n"
    "INSERT INTO users VALUES('bob@example.org',1796317580);\n"
    "CREATE TABLE user_values (  user   TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,  scope  TEXT NOT NULL,  key    TEXT NOT NULL,  value  TEXT NOT NULL,  secret INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),  PRIMARY KEY (user, scope, key));\n"
    "INSERT INTO user_values VALUES('alice@example.org','','nick','alice',0);\n"
    "INSERT INTO user_values VALUES('alice@example.org','server:irc.example.net','sasl_password','5FR65BM/QRKO0B551wqdjgSGojH0EBzlDQiuzi4tNdedAKa/XMfkDwJbsF9Q0ypDrl6knYy+0ctL',1);\n"
    "INSERT INTO user_values VALUES('alice@example.org','server:irc.example.net','after_connect','PRIVMSG NickServ :IDENTIFY alice-ns-Secret',0);\n"
    "INSERT INTO user_values VALUES('alice@example.org','server:irc.example.net','client_cert','/home/bob/bob.pem',0);\n"
    "INSERT INTO user_values VALUES('bob@example.org','server:irc.example.net','sasl_password','wxJNnWu3jp0hDQLRgJjwF4s82H0VR3ftV/WZ7g3IvBhnuSOHFh+cxSuarzgNQGD8lHSaOkamsA==',1);\n"
    "CREATE TABLE contacts (  user      TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,  jid       TEXT NOT NULL,  legacy_id TEXT NOT NULL,  name      TEXT,  PRIMARY KEY (user, jid));\n"
    "CREATE TABLE rooms (  user     TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,  jid      TEXT NOT NULL,  nick     TEXT NOT NULL,  password TEXT,  PRIMARY KEY (user, jid));\n"
    "INSERT INTO rooms VALUES('alice@example.org','#keyed%irc.example.net@irc.localhost','alice','uv39SDy+RWROX5KsJCdhoJfWyI2E3qp0V9TT+ngaPoDNuA3pRtSzNSZqnH+M91HGP8G7Ljtu1XpG');\n"
    "INSERT INTO rooms VALUES('bob@example.org','#open%irc.example.net@irc.localhost','bob',NULL);\n"
    "CREATE TABLE room_resources (  user     TEXT NOT NULL,  jid      TEXT NOT NULL,  resource TEXT NOT NULL,  PRIMARY KEY (user, jid, resource),  FOREIGN KEY (user, jid) REFERENCES rooms(user, jid) ON DELETE CASCADE);\n"
    "CREATE INDEX contacts_by_legacy_id ON contacts(user, legacy_id);\n"
    "CREATE INDEX room_resources_by_resource ON room_resources(user, resource);\n"
    "COMMIT;\n";

/* Replace the fixture's store and key with the schema-2 database. */
static void load_store_v2(Fixture *f)
{
    g_clear_pointer(&f->store, cw_store_close);
    g_clear_pointer(&f->secrets, cw_secrets_free);
    g_unlink(f->db_path);
    guchar key[32];
    for (gsize i = 0; i < sizeof key; i++)
        key[i] = (guchar)(g_ascii_xdigit_value(store_v2_key_hex[2 * i]) << 4 |
                          g_ascii_xdigit_value(store_v2_key_hex[2 * i + 1]));
    g_assert_true(g_file_set_contents_full(f->key_path, (const char *)key, sizeof key,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, store_v2_dump);
    raw_exec(db, "PRAGMA user_version = 2");
    sqlite3_close(db);
    g_autoptr(GError) error = NULL;
    f->secrets = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);
}

static void test_migrate_from_v2_binds_secrets(Fixture *f, gconstpointer data)
{
    load_store_v2(f);
    const char *a = "alice@example.org", *b = "bob@example.org", *srv = "server:irc.example.net";
    g_assert_true(file_contains(f->db_path, "IDENTIFY alice-ns-Secret"));
    g_autofree char *old_sasl = NULL;
    {
        sqlite3 *db = raw_open(f->db_path);
        old_sasl = raw_text(db, "SELECT value FROM user_values WHERE key = 'sasl_password' AND "
                                "user = 'alice@example.org'");
        sqlite3_close(db);
    }

    /* Without the key the migration cannot convert: refused, nothing changed. */
    g_autoptr(GError) error = NULL;
    CwStore *keyless = cw_store_open(f->db_path, NULL, &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE);
    g_assert_nonnull(strstr(error->message, "without a key"));
    g_assert_null(keyless);
    g_clear_error(&error);
    g_assert_cmpint(rows(f->db_path, "pragma_user_version WHERE user_version = 2"), ==, 1);
    g_assert_cmpint(rows(f->db_path, "user_values WHERE secret = 1"), ==, 2);

    f->store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_schema_version(f->store), ==, CW_STORE_SCHEMA_VERSION);

    /* Every value reads back as the old code stored it. */
    struct { const char *user, *scope, *key, *value; gboolean secret; } want[] = {
        { a, "", "nick", "alice", FALSE },
        { a, srv, "sasl_password", "alice-sasl-Secret", TRUE },
        { a, srv, "after_connect", "PRIVMSG NickServ :IDENTIFY alice-ns-Secret", TRUE },
        { a, srv, "client_cert", "/home/bob/bob.pem", FALSE },
        { b, srv, "sasl_password", "bob-sasl-Secret", TRUE },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *v = cw_store_value_get(f->store, want[i].user, want[i].scope, want[i].key, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(v, ==, want[i].value);
        g_assert_cmpint(cw_store_value_is_secret(f->store, want[i].user, want[i].scope, want[i].key),
                        ==, want[i].secret);
    }
    g_autoptr(GPtrArray) rooms = cw_store_room_list(f->store, a, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(rooms->len, ==, 1);
    g_assert_cmpstr(((CwStoredRoom *)rooms->pdata[0])->password, ==, "alice-chan-Secret");
    g_autoptr(GPtrArray) bob_rooms = cw_store_room_list(f->store, b, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(bob_rooms->len, ==, 1);
    g_assert_null(((CwStoredRoom *)bob_rooms->pdata[0])->password);
    g_clear_pointer(&f->store, cw_store_close); /* checkpoints the WAL into the file */

    /* On disk: no command in clear, and the ciphertexts are new ones (bound). */
    g_assert_false(file_contains(f->db_path, "IDENTIFY"));
    g_assert_false(file_contains(f->db_path, old_sasl));
    g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
    g_assert_false(file_contains(wal, "IDENTIFY"));

    /* Bound now: alice's ciphertext copied onto bob's row no longer opens. */
    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, "UPDATE user_values SET value = (SELECT value FROM user_values WHERE "
                 "user = 'alice@example.org' AND key = 'sasl_password') "
                 "WHERE user = 'bob@example.org' AND key = 'sasl_password'");
    sqlite3_close(db);
    f->store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_no_error(error);
    g_autofree char *stolen = cw_store_value_get(f->store, b, srv, "sasl_password", &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
    g_assert_null(stolen);
}

/* Copying a ciphertext into another row, of the same user or another, in
 * user_values or rooms, must not yield its password under the new row. */
static void test_ciphertext_bound_to_row(Fixture *f, gconstpointer data)
{
    const char *a = "alice@example.org", *m = "mallory@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, a, &error));
    g_assert_true(cw_store_user_add(f->store, m, &error));
    g_assert_true(cw_store_value_set(f->store, a, "server:x", "sasl_password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_value_set(f->store, a, "server:x", "server_password", "mine", TRUE, &error));
    g_assert_true(cw_store_value_set(f->store, m, "server:x", "sasl_password", "mallory's", TRUE, &error));
    g_assert_true(cw_store_room_add(f->store, a, "#a%x@gw", "al", PASSWORD, &error));
    g_assert_true(cw_store_room_add(f->store, m, "#a%x@gw", "ma", "x", &error));
    g_assert_true(cw_store_room_add(f->store, a, "#b%x@gw", "al", "y", &error));
    g_assert_no_error(error);

    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, "UPDATE user_values SET value = (SELECT value FROM user_values WHERE user = "
                 "'alice@example.org' AND key = 'sasl_password') WHERE user = 'mallory@example.org' "
                 "OR key = 'server_password';"
                 "UPDATE rooms SET password = (SELECT password FROM rooms WHERE user = "
                 "'alice@example.org' AND jid = '#a%x@gw') WHERE user = 'mallory@example.org' "
                 "OR jid = '#b%x@gw';");
    sqlite3_close(db);

    struct { const char *user, *key; } moved[] = { { m, "sasl_password" }, { a, "server_password" } };
    for (gsize i = 0; i < G_N_ELEMENTS(moved); i++) {
        g_autofree char *v = cw_store_value_get(f->store, moved[i].user, "server:x", moved[i].key, &error);
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
        g_assert_null(v);
        g_clear_error(&error);
    }
    const char *room_users[] = { m, a };
    for (gsize i = 0; i < G_N_ELEMENTS(room_users); i++) {
        g_autoptr(GPtrArray) r = cw_store_room_list(f->store, room_users[i], &error);
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
        g_assert_null(r);
        g_clear_error(&error);
    }
    /* The original row still opens. */
    g_autofree char *pw = cw_store_value_get(f->store, a, "server:x", "sasl_password", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pw, ==, PASSWORD);
}

static void test_sql_metacharacters(Fixture *f, gconstpointer data)
{
    const char *ids[] = {EVIL, "a\"b", "x' OR '1'='1", "%_*?\\", "ünï©ødé"};
    g_autoptr(GError) error = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        const char *id = ids[i];
        g_assert_true(cw_store_user_add(f->store, id, &error));
        g_assert_true(cw_store_value_set(f->store, id, id, id, id, FALSE, &error));
        g_assert_true(cw_store_value_set(f->store, id, id, "pw", id, TRUE, &error));
        g_assert_true(cw_store_contact_add(f->store, id, id, id, id, &error));
        g_assert_true(cw_store_room_add(f->store, id, id, id, id, &error));
        g_assert_no_error(error);
    }
    g_assert_cmpint(cw_store_user_count(f->store), ==, G_N_ELEMENTS(ids));
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        const char *id = ids[i];
        g_assert_true(cw_store_user_exists(f->store, id));
        g_autofree char *v = cw_store_value_get(f->store, id, id, id, &error);
        g_autofree char *pw = cw_store_value_get(f->store, id, id, "pw", &error);
        g_autoptr(GPtrArray) contacts = cw_store_contact_list(f->store, id, &error);
        g_autoptr(GPtrArray) rooms = cw_store_room_list(f->store, id, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(v, ==, id);
        g_assert_cmpstr(pw, ==, id);
        g_assert_cmpuint(contacts->len, ==, 1);
        g_assert_cmpstr(((CwStoredContact *)contacts->pdata[0])->legacy_id, ==, id);
        g_assert_cmpuint(rooms->len, ==, 1);
        g_assert_cmpstr(((CwStoredRoom *)rooms->pdata[0])->password, ==, id);
    }
    /* A LIKE-style id must not match others. */
    g_assert_false(cw_store_user_exists(f->store, "%"));
    g_assert_true(cw_store_user_remove(f->store, EVIL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_user_count(f->store), ==, G_N_ELEMENTS(ids) - 1);
    g_assert_true(cw_store_check_integrity(f->store, &error));
    g_assert_no_error(error);
}

static void test_no_plaintext_on_disk(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    const char *canary = "Plain-Canary-Value"; /* not secret: proves the search works */
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "note", canary, FALSE, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#c%irc@gw", "al", PASSWORD "-room", &error));
    g_assert_no_error(error);

    g_autofree char *wal_path = g_strconcat(f->db_path, "-wal", NULL);
    const char *files[] = {f->db_path, wal_path};

    /* 1. Before any checkpoint: the data is in the WAL. */
    g_assert_true(file_contains(wal_path, canary) || file_contains(f->db_path, canary));
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
        g_assert_false(file_contains(files[i], PASSWORD));

    /* 2. After a checkpoint (the WAL keeps its frames). */
    sqlite3 *db = raw_open(f->db_path);
    raw_exec(db, "PRAGMA wal_checkpoint(FULL)");
    sqlite3_close(db);
    g_assert_true(file_contains(f->db_path, canary));
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
        g_assert_false(file_contains(files[i], PASSWORD));

    /* 3. After close. */
    g_clear_pointer(&f->store, cw_store_close);
    g_assert_true(file_contains(f->db_path, canary));
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
        g_assert_false(file_contains(files[i], PASSWORD));
}

static void test_tampered_ciphertext(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_room_add(f->store, u, "#c%irc@gw", "al", PASSWORD, &error));
    g_assert_no_error(error);

    /* Flip one bit of each stored ciphertext through a second connection. */
    sqlite3 *db = raw_open(f->db_path);
    const char *columns[][2] = {{"user_values", "value"}, {"rooms", "password"}};
    for (gsize i = 0; i < G_N_ELEMENTS(columns); i++) {
        g_autofree char *select = g_strdup_printf("SELECT %s FROM %s", columns[i][1], columns[i][0]);
        g_autofree char *text = raw_text(db, select);
        gsize len = 0;
        g_autofree guchar *raw = g_base64_decode(text, &len);
        raw[len / 2] ^= 0x10;
        g_autofree char *bad = g_base64_encode(raw, len);
        g_autofree char *update = g_strdup_printf("UPDATE %s SET %s = ?1", columns[i][0], columns[i][1]);
        sqlite3_stmt *st = NULL;
        g_assert_cmpint(sqlite3_prepare_v2(db, update, -1, &st, NULL), ==, SQLITE_OK);
        sqlite3_bind_text(st, 1, bad, -1, SQLITE_TRANSIENT);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);

    g_autofree char *pw = cw_store_value_get(f->store, u, "", "password", &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
    g_assert_null(pw);
    g_assert_nonnull(strstr(error->message, "password"));
    g_clear_error(&error);

    g_autoptr(GHashTable) all = cw_store_values_get_all(f->store, u, "", &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
    g_assert_null(all);
    g_clear_error(&error);

    g_autoptr(GPtrArray) rooms = cw_store_room_list(f->store, u, &error);
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
    g_assert_null(rooms);
}

static void test_wrong_or_no_key(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "password", PASSWORD, TRUE, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "nick", "al", FALSE, &error));
    g_assert_no_error(error);
    g_clear_pointer(&f->store, cw_store_close);

    g_autofree char *other_key = g_build_filename(f->dir, "other-key", NULL);
    g_autoptr(CwSecrets) other = cw_secrets_open(other_key, &error);
    g_assert_no_error(error);
    CwSecrets *keys[] = {other, NULL};
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autoptr(CwStore) store = cw_store_open(f->db_path, keys[i], &error);
        g_assert_no_error(error);
        g_autofree char *nick = cw_store_value_get(store, u, "", "nick", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(nick, ==, "al");
        g_autofree char *pw = cw_store_value_get(store, u, "", "password", &error);
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
        g_assert_null(pw);
        g_clear_error(&error);
    }
}

/* cw_store_check_key: the right key passes, another key is named, a store
 * without secrets passes any key; cw_store_count_secrets counts both kinds. */
static void test_check_key(Fixture *f, gconstpointer data)
{
    const char *u = "alice@example.org";
    g_autoptr(GError) error = NULL;
    gint64 n = -1;
    g_assert_true(cw_store_user_add(f->store, u, &error));
    g_assert_true(cw_store_value_set(f->store, u, "", "nick", "al", FALSE, &error));
    g_assert_true(cw_store_count_secrets(f->store, &n, &error));
    g_assert_cmpint(n, ==, 0);

    g_autofree char *other_key = g_build_filename(f->dir, "other-key", NULL);
    g_autoptr(CwSecrets) other = cw_secrets_open(other_key, &error);
    g_assert_no_error(error);
    g_clear_pointer(&f->store, cw_store_close);
    {
        g_autoptr(CwStore) store = cw_store_open(f->db_path, other, &error);
        g_assert_true(cw_store_check_key(store, &error)); /* nothing to decrypt */
        g_assert_no_error(error);
    }

    /* A room password only, then a secret value too. */
    for (int round = 0; round < 2; round++) {
        f->store = cw_store_open(f->db_path, f->secrets, &error);
        g_assert_no_error(error);
        if (round == 0)
            g_assert_true(cw_store_room_add(f->store, u, "#c%irc@gw", "al", "chan-key", &error));
        else
            g_assert_true(cw_store_value_set(f->store, u, "", "password", PASSWORD, TRUE, &error));
        g_assert_no_error(error);
        g_assert_true(cw_store_count_secrets(f->store, &n, &error));
        g_assert_cmpint(n, ==, round + 1);
        g_assert_true(cw_store_check_key(f->store, &error));
        g_assert_no_error(error);
        g_clear_pointer(&f->store, cw_store_close);

        g_autoptr(CwStore) store = cw_store_open(f->db_path, other, &error);
        g_assert_false(cw_store_check_key(store, &error));
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT);
        g_assert_nonnull(strstr(error->message, "another key file"));
        g_clear_error(&error);
    }

    /* The key lost for good: forgetting the secrets needs no key, keeps the
     * rest, and then any key passes. */
    {
        g_autoptr(CwStore) admin = cw_store_open_admin(f->db_path, &error);
        g_assert_no_error(error);
        gint64 values = -1, rooms = -1;
        g_assert_true(cw_store_forget_secrets(admin, &values, &rooms, &error));
        g_assert_no_error(error);
        g_assert_cmpint(values, ==, 1);
        g_assert_cmpint(rooms, ==, 1);
        g_assert_true(cw_store_count_secrets(admin, &n, &error));
        g_assert_cmpint(n, ==, 0);
    }
    g_autoptr(CwStore) store = cw_store_open(f->db_path, other, &error);
    g_assert_true(cw_store_check_key(store, &error));
    g_assert_no_error(error);
    g_autofree char *nick = cw_store_value_get(store, u, "", "nick", &error);
    g_assert_cmpstr(nick, ==, "al");
    g_autoptr(GPtrArray) stored = cw_store_room_list(store, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(stored->len, ==, 1);
    g_assert_null(((CwStoredRoom *)stored->pdata[0])->password);
    f->store = cw_store_open(f->db_path, f->secrets, &error);
}

static gboolean add_three(CwStore *store, gpointer data, GError **error)
{
    const char *users[] = {"u1@x", "u2@x", "u3@x"};
    for (gsize i = 0; i < G_N_ELEMENTS(users); i++)
        if (!cw_store_user_add(store, users[i], error))
            return FALSE;
    if (GPOINTER_TO_INT(data)) {
        g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "changed my mind");
        return FALSE;
    }
    return TRUE;
}

static void test_transaction(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(cw_store_transaction(f->store, add_three, GINT_TO_POINTER(1), &error));
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
    g_clear_error(&error);
    g_assert_cmpint(cw_store_user_count(f->store), ==, 0); /* rolled back */

    g_assert_true(cw_store_transaction(f->store, add_three, GINT_TO_POINTER(0), &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_user_count(f->store), ==, 3);
}

static void test_busy(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(f->store, "alice@example.org", &error));
    g_assert_no_error(error);

    sqlite3 *other = raw_open(f->db_path);
    raw_exec(other, "BEGIN EXCLUSIVE");
    cw_store_set_busy_timeout(f->store, 50);

    g_assert_false(cw_store_user_add(f->store, "bob@example.org", &error));
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "adding user"));
    g_assert_nonnull(strstr(error->message, "locked"));
    g_clear_error(&error);

    g_assert_false(cw_store_transaction(f->store, add_three, GINT_TO_POINTER(0), &error));
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_BUSY);
    g_clear_error(&error);

    /* WAL: readers are not blocked by the writer. */
    g_assert_true(cw_store_user_exists(f->store, "alice@example.org"));

    raw_exec(other, "COMMIT");
    sqlite3_close(other);
    g_assert_true(cw_store_user_add(f->store, "bob@example.org", &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_user_count(f->store), ==, 2);
}

static void test_integrity(Fixture *f, gconstpointer data)
{
    add_everything(f, "alice@example.org");
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_check_integrity(f->store, &error));
    g_assert_no_error(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/store/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("migrate-and-reopen", test_migrate_and_reopen);
    ADD("newer-schema-refused", test_newer_schema_refused);
    ADD("open-error", test_open_error);
    ADD("users", test_users);
    ADD("remove-cascades", test_remove_cascades);
    ADD("values", test_values);
    ADD("unknown-user-refused", test_unknown_user_refused);
    ADD("contacts", test_contacts);
    ADD("rooms", test_rooms);
    ADD("room-resources", test_room_resources);
    ADD("migrate-from-v1", test_migrate_from_v1);
    ADD("migrate-from-v2-binds-secrets", test_migrate_from_v2_binds_secrets);
    ADD("ciphertext-bound-to-row", test_ciphertext_bound_to_row);
    ADD("sql-metacharacters", test_sql_metacharacters);
    ADD("no-plaintext-on-disk", test_no_plaintext_on_disk);
    ADD("tampered-ciphertext", test_tampered_ciphertext);
    ADD("wrong-or-no-key", test_wrong_or_no_key);
    ADD("check-key", test_check_key);
    ADD("transaction", test_transaction);
    ADD("busy", test_busy);
    ADD("integrity", test_integrity);
#undef ADD
    return g_test_run();
}
