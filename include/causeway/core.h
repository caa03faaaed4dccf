/* core.h — the core API a transport calls: users, settings, and the legacy
 * side's events (cw_legacy_*), translated by the core into XMPP.
 *
 * All functions must be called on the main loop thread. Strings are borrowed
 * for the call unless stated otherwise. Legacy ids are the transport's own
 * identifiers; the core maps them to JIDs with the transport's addressing ops.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct CwGateway CwGateway; /* one per transport process */
typedef struct CwUser CwUser;       /* one per XMPP user (bare JID) known to the process */

typedef enum {
    CW_SHOW_OFFLINE = 0,
    CW_SHOW_ONLINE,
    CW_SHOW_CHAT,
    CW_SHOW_AWAY,
    CW_SHOW_XA,
    CW_SHOW_DND,
} CwShow;

typedef enum {
    CW_CHAT_STATE_NONE = 0,
    CW_CHAT_STATE_ACTIVE,
    CW_CHAT_STATE_COMPOSING,
    CW_CHAT_STATE_PAUSED,
    CW_CHAT_STATE_INACTIVE,
    CW_CHAT_STATE_GONE,
} CwChatState;

typedef struct {
    const char *body;      /* UTF-8; "/me " prefix for actions, as XMPP clients send them */
    const char *id;        /* XMPP message id (user -> legacy) or legacy id (legacy -> user); may be NULL */
    gint64 timestamp;      /* legacy -> user: unix microseconds for a delayed message, 0 = now */
    gboolean want_receipt; /* user -> legacy: XEP-0184 receipt requested */
    const char *sender;    /* user -> legacy: the full JID that sent it (errors reported
                              later go there, see cw_legacy_error_to); may be NULL */
    /* XEP-0071 XHTML-IM: the content of the XHTML <body/> (XML text, without
     * the body element), or NULL. user -> legacy: what the client sent (as
     * libstrophe serialises it; untrusted, whitelist it). legacy -> user: a
     * well-formed fragment in the XHTML namespace, only for a message with
     * formatting; body still carries the plain text. The core drops one that
     * does not parse or is longer than CW_XHTML_MAX bytes. */
    const char *xhtml;
} CwMessage;

#define CW_XHTML_MAX (64 * 1024)

/* Errors a transport returns from check_registration and from its ad-hoc
 * commands with a specific XMPP condition (any other GError is shown as
 * not-acceptable): g_set_error(error, CW_CONDITION_ERROR,
 * CW_CONDITION_CONFLICT, "..."). */
#define CW_CONDITION_ERROR (cw_condition_error_quark())
GQuark cw_condition_error_quark(void);
typedef enum {
    CW_CONDITION_CONFLICT,         /* e.g. a number another user holds */
    CW_CONDITION_FORBIDDEN,
    CW_CONDITION_NOT_ACCEPTABLE,
    CW_CONDITION_NOT_ALLOWED,
    CW_CONDITION_ITEM_NOT_FOUND,
    CW_CONDITION_SERVICE_UNAVAILABLE,
    CW_CONDITION_FEATURE_NOT_IMPLEMENTED,
} CwCondition;
/* The RFC 6120 name of a CW_CONDITION_ERROR code ("conflict", ...). */
const char *cw_condition_name(int code);

/* ---- the gateway (process) ---- */
const char *cw_gateway_domain(CwGateway *gw);
const char *cw_gateway_name(CwGateway *gw);       /* the config section's NAME */
gpointer cw_gateway_get_data(CwGateway *gw);      /* transport's process-wide state */
void cw_gateway_set_data(CwGateway *gw, gpointer data);
/* Bare JID of a user known to the process, or NULL. */
CwUser *cw_gateway_lookup_user(CwGateway *gw, const char *bare_jid);
/* Whether users must register before using the transport (default: the
 * transport's requires_registration). For transports that let the admin choose. */
void cw_gateway_set_requires_registration(CwGateway *gw, gboolean required);
/* Every registered user (from the store), as CwUser handles; free the array. */
GPtrArray *cw_gateway_registered_users(CwGateway *gw);
/* The user object of a bare JID, created (and its registration looked up)
 * when the process does not know it yet; NULL for an invalid JID. Use
 * cw_user_is_registered() before acting for it. */
CwUser *cw_gateway_user_for(CwGateway *gw, const char *bare_jid);
/* The [gateway] admins (bare JIDs), NULL-terminated; valid until the next reload. */
const char *const *cw_gateway_admins(CwGateway *gw);
/* Is bare_jid one of [gateway] admins? */
gboolean cw_gateway_is_admin(CwGateway *gw, const char *bare_jid);
/* A message from the gateway JID to every admin (bare JIDs: the server
 * stores it while they are offline). */
void cw_gateway_notify_admins(CwGateway *gw, const char *body);
/* Is the component connected to the XMPP server (stanzas reach users)? */
gboolean cw_gateway_is_connected(CwGateway *gw);
/* A file of the transport's own in the data directory: DATA_DIR/NAME-suffix
 * (allocated), e.g. suffix "sms.db". */
char *cw_gateway_data_file(CwGateway *gw, const char *suffix);

/* Register user with these registration-form values (var -> value, a table
 * that owns its strings; validated against the form, then the transport's
 * check_registration runs) or update their registration, as the XEP-0077
 * form does: for admin commands acting for a user. */
gboolean cw_user_register(CwUser *user, GHashTable *values, GError **error);
/* Unregister user (the transport's unregistered op runs). */
gboolean cw_user_unregister(CwUser *user, GError **error);

/* A record about one user: on the systemd journal (gateway/log-journal.h), CAUSEWAY_USER = bare JID (or its hash). */
#define CW_LOG_USER(level, jid, ...) \
    g_log_structured(G_LOG_DOMAIN, (level), "CAUSEWAY_USER", (jid), "MESSAGE", __VA_ARGS__)

/* ---- users ---- */
const char *cw_user_jid(CwUser *user);            /* bare JID */
CwGateway *cw_user_gateway(CwUser *user);
gboolean cw_user_is_registered(CwUser *user);
gboolean cw_user_is_online(CwUser *user);         /* has at least one available resource */
CwShow cw_user_show(CwUser *user);
/* Transport state attached to the user; destroy is called when the user object goes. */
gpointer cw_user_get_data(CwUser *user);
void cw_user_set_data(CwUser *user, gpointer data, GDestroyNotify destroy);
/* Stored values: scope "" = registration fields, "settings" = settings form,
 * anything else is the transport's own (e.g. "server:irc.example.net").
 * get returns an allocated string or NULL. */
char *cw_user_get_value(CwUser *user, const char *scope, const char *key);
gboolean cw_user_set_value(CwUser *user, const char *scope, const char *key, const char *value,
                           gboolean secret);

/* Legacy ids of the contacts the core put in the user's roster (stored),
 * as a char* array (g_free each; free the array). */
GPtrArray *cw_user_contacts(CwUser *user);

/* ---- legacy -> XMPP (one-to-one) ---- */
/* A chat message from a legacy contact to the user. */
void cw_legacy_message(CwUser *user, const char *legacy_id, const CwMessage *msg);
/* A message from the gateway itself (notices, command replies). */
void cw_legacy_gateway_message(CwUser *user, const char *body);
/* A contact's presence (CW_SHOW_OFFLINE = unavailable); status may be NULL. */
void cw_legacy_contact_presence(CwUser *user, const char *legacy_id, CwShow show,
                                const char *status);
/* Put a contact in the user's roster (XEP-0356 roster push when the server
 * grants it, else a subscription request from the contact). Remembered in the
 * store; idempotent. name may be NULL. */
void cw_legacy_contact_add(CwUser *user, const char *legacy_id, const char *name);
/* The same in a roster group (the legacy side's; NULL or "" = the gateway's
 * domain, as cw_legacy_contact_add). Called again with another name or
 * group, it updates the roster item (XEP-0356 push; the subscription
 * fallback cannot carry a group, so there the user's client keeps its own). */
void cw_legacy_contact_add_in_group(CwUser *user, const char *legacy_id, const char *name,
                                    const char *group);
/* Remove a contact from the user's roster and the store. */
void cw_legacy_contact_remove(CwUser *user, const char *legacy_id);
/* A contact's chat state. */
void cw_legacy_chat_state(CwUser *user, const char *legacy_id, CwChatState state);
/* A message the user sent (msg_id, may be NULL) could not be delivered: an
 * error stanza with the XMPP condition (e.g. "recipient-unavailable",
 * "service-unavailable") and a human text goes back from the contact's (or
 * room's) JID to the resources that sent it: the user's resources in the room
 * when legacy_id is a room they are in, else the resource of their last message. */
void cw_legacy_error(CwUser *user, const char *legacy_id, const char *msg_id,
                     const char *condition, const char *text);
/* cw_legacy_error for a failure reported long after the message (a delivery
 * report, after a restart): to is the full JID that sent it (CwMessage.sender;
 * may be NULL). When that resource is online it gets the error stanza;
 * otherwise the user's bare JID gets a chat message from the contact saying
 * what was not delivered and why, which the server stores if need be, so
 * the report is never dropped. */
void cw_legacy_error_to(CwUser *user, const char *legacy_id, const char *to, const char *msg_id,
                        const char *condition, const char *text);
/* XEP-0184: the legacy network confirmed delivery of msg_id. */
void cw_legacy_receipt(CwUser *user, const char *legacy_id, const char *msg_id);

/* ---- legacy -> XMPP (group chats, XEP-0045) ----
 * room_id is the transport's id of the room (e.g. "#chan%irc.example.net").
 * The core keeps, per user and room, the XMPP resources that joined, the
 * occupant list and the subject, and sends every presence and message to each
 * joined resource. Until cw_legacy_room_joined() the occupants and subject
 * the transport reports are only recorded; joined() then sends them in the
 * XEP-0045 order (occupants, self-presence, history, subject). */

typedef enum { CW_ROLE_NONE = 0, CW_ROLE_VISITOR, CW_ROLE_PARTICIPANT, CW_ROLE_MODERATOR } CwRole;
typedef enum {
    CW_AFFILIATION_NONE = 0,
    CW_AFFILIATION_MEMBER,
    CW_AFFILIATION_ADMIN,
    CW_AFFILIATION_OWNER,
} CwAffiliation;

/* The user is in the room as nick (status 110; 210 too when nick differs
 * from the one the user asked for). */
void cw_legacy_room_joined(CwUser *user, const char *room_id, const char *nick,
                           CwRole role, CwAffiliation affiliation);
/* Joining failed: presence error (condition e.g. "forbidden" for banned,
 * "registration-required" for invite-only, "service-unavailable" for full,
 * "not-authorized" for a bad key, "conflict" for nick in use). */
void cw_legacy_room_join_failed(CwUser *user, const char *room_id, const char *condition,
                                const char *text);
/* The user is no longer in the room (parted, or the network closed). */
void cw_legacy_room_left(CwUser *user, const char *room_id, const char *status);
/* The user is out of the room for a while (the legacy connection dropped)
 * and the transport will join it again: every joined resource gets its
 * self-presence unavailable with status codes 110 and 333 (XEP-0045: removed
 * because of a technical problem) and status; the room stays, with its
 * resources, nick, password and subject (occupants and history go), and is
 * kept in the store. The transport then reports the rejoin as a join
 * (occupants, cw_legacy_room_joined: the whole join sequence is sent to each
 * resource again), or cw_legacy_room_join_failed / cw_legacy_room_left when
 * it gives up. Messages from the user meanwhile get not-acceptable. */
void cw_legacy_room_lost(CwUser *user, const char *room_id, const char *status);
/* A legacy user invites the user to a room: a XEP-0045 mediated invitation
 * (<x xmlns='muc#user'><invite from=.../></x>, from the room's JID, with a
 * body for clients that show neither) to the user's bare JID. The inviter
 * is inviter_id, a legacy id (shown as its contact JID), or, when the
 * network names them only as an occupant of that room (a semi-anonymous
 * MUC says "room@service/nick"), inviter_nick (shown as the occupant's JID
 * in the room, as such a MUC does itself); both may be NULL (someone).
 * reason and password may be NULL. The user accepts by joining the room. */
void cw_legacy_room_invite(CwUser *user, const char *room_id, const char *inviter_id,
                           const char *inviter_nick, const char *reason, const char *password);
/* Someone is in the room (on join: each member; later: a join) or their role
 * changed. real_id: their legacy id for 1:1 (muc#non-anonymous), may be NULL. */
void cw_legacy_occupant_joined(CwUser *user, const char *room_id, const char *nick,
                               CwRole role, CwAffiliation affiliation, const char *real_id);
void cw_legacy_occupant_left(CwUser *user, const char *room_id, const char *nick,
                             const char *status);
/* A nick change (status 303); applies to the user too when old_nick is theirs. */
void cw_legacy_occupant_renamed(CwUser *user, const char *room_id, const char *old_nick,
                                const char *new_nick);
/* A kick (status 307); when nick is the user's, the user is out of the room. */
void cw_legacy_occupant_kicked(CwUser *user, const char *room_id, const char *nick,
                               const char *actor, const char *reason);
/* Shared rooms (CwTransportOps.shared_rooms): the occupant set belongs to
 * the room id, not to the user, so the transport reports each change once,
 * through any user of the gateway (user names the gateway, nothing more),
 * and the core shows it to every user whose room of that id is joined:
 * - occupant_joined/left/renamed/kicked change the room's one set and are
 *   told only when they change it (a second report of the same change does
 *   nothing: the transport need not tell which of its connections is first);
 *   an unknown nick is ignored;
 * - the user's own nick is the user's own view: a report about another
 *   user's room's own nick reaches that room as a change of its self-presence
 *   (status 110) only when it differs from what the room was told; a left
 *   about it is ignored there (cw_legacy_room_left says it), a rename or a
 *   kick is the user's own (303/307 with 110; a kick takes the room);
 * - cw_legacy_room_joined() sends the set as it is, with the user's own
 *   nick and role as given; cw_legacy_room_lost() keeps the set.
 * The number of occupants in room_id's set (0 when there is none): lets a
 * transport see whether a set made afresh needs filling. */
guint cw_legacy_room_occupant_count(CwUser *user, const char *room_id);
/* The room's subject (nick may be NULL). */
void cw_legacy_room_subject(CwUser *user, const char *room_id, const char *nick,
                            const char *subject);
/* A groupchat message from nick. For the user's own messages pass the id the
 * XMPP client sent (msg->id), so clients match the reflection. */
void cw_legacy_room_message(CwUser *user, const char *room_id, const char *nick,
                            const CwMessage *msg);
/* A private message from an occupant, shown as from room@domain/nick. */
void cw_legacy_room_private(CwUser *user, const char *room_id, const char *nick,
                            const CwMessage *msg);
/* How many groupchat messages per room the core keeps for join history
 * (XEP-0203 delayed); 0 = none. Default 20. */
void cw_gateway_set_room_history(CwGateway *gw, guint max_messages);

/* ---- asynchronous room listings (disco#items on a legacy server's JID) ---- */
typedef struct CwRoomList CwRoomList;
/* Add one room; name (may be NULL) is shown by clients. */
void cw_room_list_add(CwRoomList *list, const char *room_id, const char *name);
/* Send the listing (or, with condition not NULL, an error) and free the list.
 * A transport must call this exactly once for every list it is given. */
void cw_room_list_done(CwRoomList *list, const char *condition, const char *text);

/* Map a legacy id to its full JID (allocated). */
char *cw_legacy_id_to_jid(CwGateway *gw, const char *legacy_id);

G_END_DECLS
