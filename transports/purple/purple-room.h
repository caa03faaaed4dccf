/* purple-room.h — pure pieces of the purple transport's group chats: room
 * ids, libpurple chat-buddy flags as XEP-0045 roles and affiliations, and the
 * XMPP condition of a join failure. No libpurple calls, no I/O.
 *
 * A room's legacy id is "ROOM%SERVER": "room%conference.legacy.test" for a
 * prpl-jabber MUC, "#chan%irc.example.net" for a prpl-irc channel (the core
 * escapes it per XEP-0106 in the JID). ROOM may hold '%' (the last one
 * splits); SERVER is a host name: not empty, without '@', '/', '%' or
 * whitespace. So a prpl-jabber buddy "a%b@host" is not a room.
 */
#pragma once
#include <glib.h>
#include <purple.h>
#include <causeway/core.h>

G_BEGIN_DECLS

/* Split a room id; TRUE (room and server allocated) when id is a room id. */
gboolean cw_purple_room_id_parse(const char *id, char **room, char **server);
/* "ROOM%SERVER" (allocated); NULL when either part is empty or server is not
 * a valid server part. */
char *cw_purple_room_id_format(const char *room, const char *server);

/* FOUNDER, OP, HALFOP -> moderator; else participant. */
CwRole cw_purple_room_role(PurpleConvChatBuddyFlags flags);
/* FOUNDER -> owner; OP -> admin; else none. */
CwAffiliation cw_purple_room_affiliation(PurpleConvChatBuddyFlags flags);

/* The XEP-0045 join-error condition for libpurple's text of a join failure
 * (prpl-jabber's error names, prpl-irc's numerics' texts); NULL text or no
 * match: "service-unavailable". Returns a static string. */
const char *cw_purple_room_condition(const char *text);

/* Does libpurple's text of a leave say it was a kick? The prpls word it
 * (untranslated, as the transport runs): prpl-irc and prpl-jabber for
 * another occupant "Kicked by ACTOR (REASON)" (prpl-jabber also "Kicked
 * (REASON)"), for the user "You have been kicked by ACTOR: (REASON)" or "You
 * have been kicked: (REASON)". TRUE with *actor and *reason (allocated, NULL
 * when not given; prpl-jabber's stand-in "No reason" is none). A part or
 * quit message that copies this wording reads as a kick: the prpl passes it
 * the same way. */
gboolean cw_purple_room_kick_text(const char *text, char **actor, char **reason);

G_END_DECLS
