/* muc.h — the XEP-0045 facade: legacy group chats as MUC rooms.
 *
 * The core's per-user room state (CwRoom) and the XMPP side of it: joins,
 * leaves and nick changes from presences, groupchat messages, subject changes,
 * private messages, room disco#info and XEP-0410 self-ping. The legacy side
 * reports through the cw_legacy_room_* / cw_legacy_occupant_* calls in core.h
 * (implemented in muc.c).
 */
#pragma once
#include "router.h"

G_BEGIN_DECLS

/* Is the request addressed to a room (or an occupant of one)? Needs the
 * transport's is_room op; sets *room_id (allocated) when TRUE. */
gboolean cw_muc_is_room_request(CwRequest *req, char **room_id);

void cw_muc_handle_presence(CwRequest *req, const char *room_id);
void cw_muc_handle_message(CwRequest *req, const char *room_id);
void cw_muc_handle_disco_info(CwRequest *req, const char *room_id);
void cw_muc_handle_ping(CwRequest *req, const char *room_id);
/* muc#admin get/set on a room (XEP-0045 §8.2 kick, §9.1 ban, through the
 * transport's kick/ban ops; other items and list retrieval:
 * feature-not-implemented) and muc#owner (room configuration: always
 * feature-not-implemented). */
void cw_muc_handle_admin(CwRequest *req, const char *room_id);
void cw_muc_handle_owner(CwRequest *req, const char *room_id);
/* A message to a contact carrying a XEP-0249 direct invitation
 * (<x xmlns='jabber:x:conference' jid='ROOM'/>) to one of the gateway's
 * rooms: handed to the transport's invite op (or answered with an error),
 * TRUE; FALSE when the message has none. */
gboolean cw_muc_handle_direct_invite(CwRequest *req);

/* Most rooms listed in one disco#items answer. */
#define CW_ROOM_LIST_MAX 200
/* A pending disco#items answer for req (see cw_room_list_* in core.h). */
CwRoomList *cw_room_list_new(CwRequest *req);

/* The full JIDs of the user's resources in the room (borrowed keys), or NULL. */
GList *cw_muc_room_resources(CwUser *user, const char *room_id);

/* A registered user's resource came online: put it back into the rooms it
 * was in when the gateway stopped (crash, kill -9, restart), rejoining the
 * legacy side. It first gets its self-presence unavailable with 110 and
 * 333 (what its client holds of the room is stale: a crash told it
 * nothing), then the room state as after a join once the legacy side is
 * back in. */
void cw_muc_restore(CwUser *user, const char *resource);

/* The resources (resource parts, allocated) of the user in any room. */
GList *cw_muc_user_resources(CwUser *user);
/* The user's resource is gone without a word (resume.h): out of every room,
 * rooms left with no resource are left on the legacy side; the stored rows
 * stay so that cw_muc_restore() puts the resource back when it returns. */
void cw_muc_resource_lost(CwUser *user, const char *resource);

/* An administrator disconnected the user (admin.h): every joined resource
 * gets its self-presence unavailable with status, every room is left on the
 * legacy side; the stored rows stay, so cw_muc_restore() rejoins them when
 * the user comes back. */
void cw_muc_user_disconnected(CwUser *user, const char *status);
/* The user's last resource went away: leave every room. */
void cw_muc_user_offline(CwUser *user);
/* Free the user's room table (user teardown). */
void cw_muc_user_clear(CwUser *user);
/* Number of rooms the user is in (stats). */
guint cw_muc_room_count(CwUser *user);

G_END_DECLS
