/* purple-session.h — the purple transport's state and one user's legacy
 * session (a PurpleAccount): log in, log out, reconnect, fatal errors.
 *
 * Contract: the transport (purple-transport.c) owns one CwPurpleTransport per
 * process; a CwPurpleSession hangs off its CwUser (cw_user_set_data) and goes
 * with it. The password is read from the store at each login, given to
 * libpurple only for the login (in memory) and cleared from the account at
 * signed-on or when the attempt fails; accounts never remember it (nothing
 * libpurple writes holds it). Not for other transports.
 */
#pragma once
#include <causeway/transport.h>
#include <purple.h>

#include "purple-form.h"

G_BEGIN_DECLS

/* The user value (scope CW_PURPLE_SCOPE) that marks a registration failing:
 * libpurple's text of the fatal error; absent when none. */
#define CW_PURPLE_SCOPE "purple"
#define CW_PURPLE_FAILING "failing"
#define CW_PURPLE_RECONNECT_MIN_MS 2000

typedef struct CwPurpleTransport {
    CwGateway *gw;
    char *file, *group;      /* for config errors found at init */
    char *protocol;
    guint reconnect_max_ms;
    CwPurpleForm *form;
    GHashTable *sessions;    /* PurpleAccount * -> CwPurpleSession * (borrowed) */
    gboolean quitting;       /* deinit: libpurple's teardown signals are ignored */
    char *last_notify;       /* the last notification without an account, and when */
    gint64 last_notify_at;
} CwPurpleTransport;

typedef struct CwPurpleSession {
    CwPurpleTransport *t;
    CwUser *user;
    PurpleAccount *account;  /* NULL until the first login */
    gboolean wanted;         /* should be connected (the user is online or stays connected) */
    guint attempt;           /* reconnects since the last sign-on */
    guint retry;             /* reconnect timer */
    GHashTable *rooms;       /* purple-chats.c: casefolded chat name -> CwPurpleRoom * */
    GList *listings;         /* purple-chats.c: room lists under way */
} CwPurpleSession;

static inline CwPurpleTransport *
cw_purple_transport_of(CwGateway *gw)
{
    return cw_gateway_get_data(gw);
}

/* The user's session, created when create (NULL for an unregistered user). */
CwPurpleSession *cw_purple_session_get(CwPurpleTransport *t, CwUser *user, gboolean create);
/* The session of a libpurple account, or NULL (not ours, or quitting). */
CwPurpleSession *cw_purple_session_of_account(CwPurpleTransport *t, PurpleAccount *account);
/* Connect now (no-op when connected or connecting, or the registration is
 * failing: then the user is told). */
void cw_purple_session_login(CwPurpleSession *s);
/* Disconnect and stop reconnecting. */
void cw_purple_session_logout(CwPurpleSession *s);
/* The connected PurpleConnection, or NULL. */
PurpleConnection *cw_purple_session_connection(CwPurpleSession *s);
/* The user unregistered: log out and delete the libpurple account (and its
 * buddies). */
void cw_purple_session_forget(CwPurpleSession *s);

/* libpurple's connection signals, connected once at init. */
void cw_purple_session_signals_connect(CwPurpleTransport *t);

/* purple-buddies.c: the buddy list as the roster, presence, typing. */
void cw_purple_buddies_signals_connect(CwPurpleTransport *t);
/* Put every buddy of the session's account in the roster with its presence. */
void cw_purple_buddies_sync(CwPurpleSession *s);
/* Every buddy of the session's account appears offline. */
void cw_purple_buddies_all_offline(CwPurpleSession *s);
void cw_purple_buddies_add(CwPurpleSession *s, const char *name);
/* Add a buddy in a libpurple group (created if need be; NULL or "": the
 * default "Buddies"); a buddy already there is moved into it (the plugin
 * moves it on the legacy side, prpl-jabber with a roster set). */
void cw_purple_buddies_add_in_group(CwPurpleSession *s, const char *name, const char *group);
void cw_purple_buddies_remove(CwPurpleSession *s, const char *name);
/* The buddy name for a legacy id the XMPP side used (a bare name; for
 * jabber-like names "bob@host/res" the buddy "bob@host" when it exists). */
char *cw_purple_buddies_name(CwPurpleSession *s, const char *who);

/* purple-chats.c: libpurple chats as the core's rooms ("ROOM%SERVER",
 * purple-room.h). */
typedef struct CwPurpleRoom CwPurpleRoom;
void cw_purple_chats_signals_connect(CwPurpleTransport *t);
void cw_purple_chats_join(CwPurpleSession *s, const char *room_id, const char *nick,
                          const char *password);
void cw_purple_chats_leave(CwPurpleSession *s, const char *room_id, const char *status);
void cw_purple_chats_send(CwPurpleSession *s, const char *room_id, const CwMessage *msg);
void cw_purple_chats_set_subject(CwPurpleSession *s, const char *room_id, const char *subject);
void cw_purple_chats_change_nick(CwPurpleSession *s, const char *room_id, const char *nick);
void cw_purple_chats_send_private(CwPurpleSession *s, const char *room_id, const char *nick,
                                  const CwMessage *msg);
void cw_purple_chats_list(CwPurpleSession *s, const char *legacy_id, guint max_items,
                          CwRoomList *list);
/* Invite legacy contact who into the room (serv_chat_invite); errors go to
 * the user with cw_legacy_error. */
void cw_purple_chats_invite(CwPurpleSession *s, const char *room_id, const char *who,
                            const char *reason);
/* Kick nick / ban who (a nick or, for prpl-jabber, a JID) through the
 * plugin's /kick and /ban commands (transport.h's kick/ban contract). */
gboolean cw_purple_chats_kick(CwPurpleSession *s, const char *room_id, const char *nick,
                              const char *reason, GError **error);
gboolean cw_purple_chats_ban(CwPurpleSession *s, const char *room_id, const char *who,
                             const char *reason, GError **error);
/* An IM from who ("room@server/nick", prpl-jabber) is a private message from
 * an occupant of a room the user is in: told to the core, TRUE. */
gboolean cw_purple_chats_private_in(CwPurpleSession *s, const char *who, const CwMessage *msg);
/* A notification (libpurple's notify UI ops say no account): when it names a
 * room whose join just failed, it is that failure's text, TRUE (not to be
 * told otherwise); remembered for a join failure signalled right after. */
gboolean cw_purple_chats_note_notify(CwPurpleTransport *t, const char *text);
/* signed-on: pending joins go out, lost rooms rejoined; signing-off and
 * signed-off: while the session reconnects, joined rooms are lost
 * (cw_legacy_room_lost) and joined again at sign-on, else left; free: the
 * session goes. */
void cw_purple_chats_connected(CwPurpleSession *s);
void cw_purple_chats_disconnected(CwPurpleSession *s);
void cw_purple_chats_free(CwPurpleSession *s);
/* purple-core's chat events (CwPurpleCoreEvents). */
void cw_purple_chats_event_renamed(PurpleConversation *conv, const char *old_name,
                                   const char *new_name, gpointer data);
void cw_purple_chats_event_write(PurpleConversation *conv, const char *who, const char *html,
                                 PurpleMessageFlags flags, time_t mtime, gpointer data);
void cw_purple_chats_event_users_added(PurpleConversation *conv, GList *cbuddies,
                                       gboolean new_arrivals, gpointer data);

G_END_DECLS
