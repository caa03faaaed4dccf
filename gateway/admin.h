/* admin.h — what an administrator does to users: the reports shared by the
 * shell commands (admin-cli.c) and the admin ad-hoc commands
 * (mod-adhoc-admin.c), and the actions on a running transport process.
 *
 * Reports hold counts and non-secret settings only: values stored encrypted
 * are shown as "(secret)" and never decrypted (the shell does not even load
 * the key file).
 *
 * A deletion from the shell while the service runs: the shell removes the
 * rows itself; the running process notices another connection's commit
 * (cw_store_changed_elsewhere, checked before each stanza it handles and
 * every CW_ADMIN_WATCH_SECONDS) and ends the session of every user of its
 * that is no longer in the store (cw_admin_watch_*).
 */
#pragma once
#include <causeway/admin.h>

#include "gateway.h"

G_BEGIN_DECLS

#define CW_ADMIN_WATCH_SECONDS 2

typedef enum {
    CW_ADMIN_OK = 0,
    CW_ADMIN_ERROR,     /* error set */
    CW_ADMIN_NOT_FOUND, /* the user is not registered (error unset) */
} CwAdminStatus;

/* The lines of one user on one transport (see README "Administration"):
 * transport, jid, registered (ISO 8601 UTC), values, secrets, contacts,
 * rooms, room_resources, then one "field: KEY=VALUE" per registration
 * field (scope "") and one "setting: SCOPE KEY=VALUE" per other value,
 * VALUE "(secret)" for encrypted ones; then the transport's own lines
 * (ops->admin_user_info with file_prefix). */
CwAdminStatus cw_admin_user_report(CwStore *store, const char *transport,
                                   const CwTransportOps *ops, const char *file_prefix,
                                   const char *jid, CwAdminReport *report, GError **error);
/* One line of a user list: TRANSPORT, JID, registered, contacts, rooms
 * (tab-separated; cw_admin_append_record). */
void cw_admin_user_record(GString *out, const char *transport, const CwStoreUserInfo *info);
/* The counts of what a deletion removed: values_removed, secrets_removed,
 * contacts_removed, rooms_removed. */
void cw_admin_report_removed(CwAdminReport *report, const CwStoreUserInfo *removed);
/* Per-transport statistics: users, contacts, rooms, room_resources, then
 * the transport's own (ops->admin_stats). */
gboolean cw_admin_stats_report(CwStore *store, const CwTransportOps *ops, const char *file_prefix,
                               CwAdminReport *report, GError **error);
/* The JID as users are keyed in the store (lower-case, like cw_gateway_user);
 * NULL if it is not a valid bare JID. */
char *cw_admin_normalize_jid(const char *jid);

/* ---- a running transport process ---- */

/* DATA_DIR/NAME: the file_prefix of this process's transport. */
char *cw_admin_file_prefix(CwGateway *gw);
/* Start / stop watching the store for deletions made by another process. */
void cw_admin_watch_start(CwGateway *gw);
void cw_admin_watch_stop(CwGateway *gw);
/* Check now (cheap when nothing changed): called before each stanza. */
void cw_admin_watch_check(CwGateway *gw);

/* "Disconnect a user": end the user's legacy sessions and tell their
 * resources (self-presence unavailable with reason from each room, each
 * room left on the legacy side; unavailable from each contact seen and from
 * the gateway), without deleting anything: the registration and the stored
 * rooms stay, and the next available presence logs the user in again (and
 * rejoins the rooms). A user in rooms only (IRC needs no registration)
 * counts as online. FALSE when the user has no session. */
gboolean cw_admin_disconnect(CwUser *user, const char *reason);
/* "Announce": a headline message from the gateway JID to every resource of
 * every user with a session (available to the gateway, or in a room).
 * Returns the number of resources it went to; *users gets the number of
 * users. The body is made XML-safe and at most CW_TEXT_MAX_TEXT bytes. */
guint cw_admin_announce(CwGateway *gw, const char *body, guint *users);

G_END_DECLS
