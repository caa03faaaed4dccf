/* store.h — persistent state of one transport: SQLite (WAL), one file per transport.
 *
 * Schema is versioned with PRAGMA user_version and upgraded by numbered
 * migrations in cw_store_open(). Every statement is prepared with bound
 * parameters. Values flagged secret are encrypted with CwSecrets before they
 * reach the database and decrypted on read; a stolen database file alone
 * reveals no password.
 *
 * Model:
 *   users        bare JID of each registered XMPP user (+ registration time)
 *   user_values  (user, scope, key) -> value, secret flag. scope "" holds the
 *                legacy account fields from the registration form; other
 *                scopes hold settings ("settings", "server:irc.example.net"...).
 *   contacts     (user, contact JID) -> legacy id, display name: contacts the
 *                gateway added to the user's roster.
 *   rooms        (user, room JID) -> nick, password (secret): rooms to rejoin
 *                after a restart.
 * Removing a user removes all of their rows (ON DELETE CASCADE); values,
 * contacts and rooms can only be stored for a user that was added (otherwise
 * CW_STORE_ERROR_QUERY, "FOREIGN KEY constraint failed").
 * Secrets: user_values.value holds cw_secrets_encrypt() text when its
 * secret column is 1, bound to { "user_values", user, scope, key };
 * rooms.password is always encrypted (or NULL), bound to { "rooms", user,
 * room JID }. A ciphertext copied into another row (or another user's) fails
 * to decrypt with CW_STORE_ERROR_DECRYPT instead of yielding someone else's
 * password. Schema 3 converted the unbound secretbox ciphertexts of schema 2
 * (and encrypted the after_connect values schema 2 kept in clear); opening a
 * schema-2 database that holds secrets needs the key.
 * The database file is created 0600 (SQLite gives -wal/-shm the same mode).
 * Ids are compared byte for byte; lists are sorted by byte order.
 * A CwStore is one SQLite connection: use it from one thread at a time.
 *
 * All functions return FALSE/NULL and set error on SQLite failure (quark
 * CW_STORE_ERROR); the error message names the operation and SQLite's text
 * (e.g. "database is locked", "disk I/O error").
 */
#pragma once
#include <glib.h>
#include "secrets.h"

G_BEGIN_DECLS

#define CW_STORE_ERROR (cw_store_error_quark())
GQuark cw_store_error_quark(void);
typedef enum {
    CW_STORE_ERROR_OPEN,
    CW_STORE_ERROR_MIGRATE,
    CW_STORE_ERROR_QUERY,
    CW_STORE_ERROR_BUSY, /* SQLITE_BUSY / LOCKED after the busy timeout */
    CW_STORE_ERROR_FULL, /* SQLITE_FULL */
    CW_STORE_ERROR_DECRYPT,
} CwStoreError;

/* Latest schema version that cw_store_open() migrates to. */
#define CW_STORE_SCHEMA_VERSION 4

typedef struct CwStore CwStore;

typedef struct {
    char *jid;        /* contact JID (bare) */
    char *legacy_id;
    char *name;       /* may be NULL */
    char *group;      /* the roster group the legacy side gives; NULL = the default */
} CwStoredContact;
void cw_stored_contact_free(CwStoredContact *c);

typedef struct {
    char *room_jid;   /* bare room JID */
    char *nick;
    char *password;   /* decrypted; may be NULL */
} CwStoredRoom;
void cw_stored_room_free(CwStoredRoom *r);

/* Open (creating if needed) the database file at path, set WAL, foreign keys,
 * busy_timeout (5 s) and run migrations (under BEGIN IMMEDIATE, so concurrent
 * openers do not both migrate). A database newer than CW_STORE_SCHEMA_VERSION
 * is refused (CW_STORE_ERROR_MIGRATE). secrets is borrowed and must outlive
 * the store; it may be NULL only if no secret value is ever written (reading
 * one then fails with CW_STORE_ERROR_DECRYPT). */
CwStore *cw_store_open(const char *path, CwSecrets *secrets, GError **error);

/* The number of encrypted values in the store (secret user values and room
 * passwords), into *out. Works on a read-only store (no key needed). */
gboolean cw_store_count_secrets(CwStore *store, gint64 *out, GError **error);

/* Whether the store's key is the one its secrets were written with: one
 * stored secret of each kind is decrypted. TRUE when they decrypt or there
 * are none; FALSE with CW_STORE_ERROR_DECRYPT ("... written with another
 * key file") otherwise, or a query error. */
gboolean cw_store_check_key(CwStore *store, GError **error);
void cw_store_close(CwStore *store); /* NULL-safe */
/* How long a statement waits for another connection's lock before failing with
 * CW_STORE_ERROR_BUSY; 5000 ms after open. For tests and tuning. */
void cw_store_set_busy_timeout(CwStore *store, int ms);
/* PRAGMA user_version; -1 on error (logged). */
int cw_store_schema_version(CwStore *store);
/* PRAGMA integrity_check == "ok"; otherwise the error lists the problems. */
gboolean cw_store_check_integrity(CwStore *store, GError **error);

/* Users. cw_store_user_add is idempotent (TRUE if it already exists), and so
 * is cw_store_user_remove (TRUE if absent). user_exists returns FALSE and
 * user_count -1 on error (logged). */
gboolean cw_store_user_add(CwStore *store, const char *bare_jid, GError **error);
gboolean cw_store_user_exists(CwStore *store, const char *bare_jid);
gboolean cw_store_user_remove(CwStore *store, const char *bare_jid, GError **error);
/* Newly allocated array of char* (g_free), sorted; NULL on error. */
GPtrArray *cw_store_user_list(CwStore *store, GError **error);
gint64 cw_store_user_count(CwStore *store);

/* Values. set with value NULL deletes the key. get returns NULL when absent
 * (error unset) or on failure (error set). Secret values are decrypted. */
gboolean cw_store_value_set(CwStore *store, const char *user, const char *scope,
                            const char *key, const char *value, gboolean secret,
                            GError **error);
char *cw_store_value_get(CwStore *store, const char *user, const char *scope,
                         const char *key, GError **error);
/* key -> value (both g_free), decrypted; empty table when none. */
GHashTable *cw_store_values_get_all(CwStore *store, const char *user,
                                    const char *scope, GError **error);
/* TRUE if the key is stored as a secret (so its value is never echoed back);
 * FALSE if absent, not secret, or on error (logged). */
gboolean cw_store_value_is_secret(CwStore *store, const char *user,
                                  const char *scope, const char *key);
gboolean cw_store_scope_clear(CwStore *store, const char *user, const char *scope,
                              GError **error);
/* The scopes the user has values in (char*, g_free), sorted; NULL on error. */
GPtrArray *cw_store_scope_list(CwStore *store, const char *user, GError **error);

/* Contacts (upsert on (user, jid)); name may be NULL. Remove is TRUE if absent. */
gboolean cw_store_contact_add(CwStore *store, const char *user, const char *contact_jid,
                              const char *legacy_id, const char *name, GError **error);
gboolean cw_store_contact_remove(CwStore *store, const char *user,
                                 const char *contact_jid, GError **error);
/* The roster group of a stored contact (NULL = the default); TRUE if absent. */
gboolean cw_store_contact_set_group(CwStore *store, const char *user, const char *contact_jid,
                                    const char *group, GError **error);
/* Array of CwStoredContact* (with free func); NULL on error. */
GPtrArray *cw_store_contact_list(CwStore *store, const char *user, GError **error);

/* Rooms (upsert on (user, room_jid)); password may be NULL, stored encrypted.
 * list: array of CwStoredRoom* (with free func), passwords decrypted; NULL on
 * error (CW_STORE_ERROR_DECRYPT if a password cannot be decrypted). */
gboolean cw_store_room_add(CwStore *store, const char *user, const char *room_jid,
                           const char *nick, const char *password, GError **error);
gboolean cw_store_room_remove(CwStore *store, const char *user, const char *room_jid,
                              GError **error);
GPtrArray *cw_store_room_list(CwStore *store, const char *user, GError **error);
/* The user's resources (full JIDs) joined to a stored room: added when a
 * resource is in the room, removed when it leaves; removing the room removes
 * them. rooms_of_resource: the CwStoredRoom* (passwords decrypted) the
 * resource is in. */
gboolean cw_store_room_resource_add(CwStore *store, const char *user, const char *room_jid,
                                    const char *resource, GError **error);
gboolean cw_store_room_resource_remove(CwStore *store, const char *user, const char *room_jid,
                                       const char *resource, GError **error);
GPtrArray *cw_store_rooms_of_resource(CwStore *store, const char *user, const char *resource,
                                      GError **error);

/* Run fn inside one transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK if fn
 * returns FALSE or COMMIT fails). For batched writes. Not nestable: fn must not
 * call cw_store_transaction. Returns FALSE with fn's error if fn fails. */
gboolean cw_store_transaction(CwStore *store, gboolean (*fn)(CwStore *, gpointer, GError **),
                              gpointer data, GError **error);

/* ---- administration (causeway --list-users, --show-user, --delete-user,
 * --stats, and the admin ad-hoc commands) ---- */

/* Open an existing database read-only: no migration, no write, no key (so no
 * secret can be decrypted through it). For the read-only admin commands,
 * safe while the service runs (WAL readers never block its writer; 5 s busy
 * timeout). A missing file is CW_STORE_ERROR_OPEN; a schema version other
 * than CW_STORE_SCHEMA_VERSION is refused (CW_STORE_ERROR_MIGRATE: start the
 * service once, or use the matching causeway). */
CwStore *cw_store_open_readonly(const char *path, GError **error);
/* The same read-write, for causeway --delete-user: never created, never
 * migrated (the running service, perhaps of another version, owns the
 * schema), foreign keys on; no key, so it cannot read or write a secret. */
CwStore *cw_store_open_admin(const char *path, GError **error);

/* A user's rows, counted (values: every user_values row, secrets: those
 * stored encrypted). */
typedef struct {
    char *jid;
    gint64 registered;     /* unix seconds */
    gint64 values, secrets, contacts, rooms, room_resources;
} CwStoreUserInfo;
void cw_store_user_info_free(CwStoreUserInfo *info); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwStoreUserInfo, cw_store_user_info_free)
/* One user's summary; NULL with error unset when the user is not registered. */
CwStoreUserInfo *cw_store_user_info(CwStore *store, const char *bare_jid, GError **error);
/* Every user's summary, sorted by JID (CwStoreUserInfo*, with free func). */
GPtrArray *cw_store_user_infos(CwStore *store, GError **error);

/* One stored value as an admin may see it: value is NULL when it is stored
 * encrypted (never decrypted for a report). */
typedef struct {
    char *scope, *key, *value;
    gboolean secret;
} CwStoreSetting;
void cw_store_setting_free(CwStoreSetting *s);
/* The user's values sorted by (scope, key) (CwStoreSetting*, with free func). */
GPtrArray *cw_store_user_settings(CwStore *store, const char *bare_jid, GError **error);

typedef struct {
    gint64 users, contacts, rooms, room_resources;
} CwStoreStats;
gboolean cw_store_stats(CwStore *store, CwStoreStats *stats, GError **error);

/* Delete the user and every row of theirs (values, secrets, contacts, rooms)
 * in one short transaction, and tell what went: *removed (allocated) holds
 * the counts read under the same lock. TRUE with *removed NULL when the user
 * was not registered. */
gboolean cw_store_user_delete(CwStore *store, const char *bare_jid, CwStoreUserInfo **removed,
                              GError **error);

/* For a key file lost for good: delete every secret value and clear every
 * room password (one transaction); the rest of each registration stays and
 * users enter those passwords again. *values and *rooms say how many went.
 * Needs no key (cw_store_open_admin). */
gboolean cw_store_forget_secrets(CwStore *store, gint64 *values, gint64 *rooms, GError **error);

/* TRUE when another connection (another process, e.g. `causeway
 * --delete-user`) committed to the database since the previous call
 * (PRAGMA data_version: it reads the WAL index, no disk I/O). The first
 * call only takes the baseline and returns FALSE. FALSE on error (logged). */
gboolean cw_store_changed_elsewhere(CwStore *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwStore, cw_store_close)

G_END_DECLS
