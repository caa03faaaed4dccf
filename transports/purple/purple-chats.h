/* purple-chats.h — libpurple chats as the core's XEP-0045 rooms
 * ("ROOM%SERVER", purple-room.h): joins, messages, invitations, moderation,
 * rejoin after a reconnect, room lists (purple-chats.c). Stands on
 * purple-accounts.h and purple-buddies.h; the session (purple-session.c)
 * tells it when the account connects, drops and goes. */
#pragma once
#include "purple-accounts.h"

G_BEGIN_DECLS

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
