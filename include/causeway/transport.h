/* transport.h — the transport interface: what the core calls in a transport.
 *
 * A transport (irc, sms, purple, loopback) fills one const CwTransportOps with
 * designated initialisers and lists it in gateway/transports.c. The core owns
 * every XMPP detail (stanzas, forms, disco, rosters, MUC presence); a
 * transport speaks its legacy protocol and calls back up through the cw_legacy_*
 * and cw_user_* functions of <causeway/core.h>. No file under transports/
 * includes strophe.h.
 *
 * Threading: everything runs on the process's one GLib main loop; no op may
 * block. Ops return quickly and report results later through cw_legacy_*.
 *
 * Optional ops: a NULL op means the feature is not offered; the core then
 * answers the XMPP request with feature-not-implemented (or does not
 * advertise the feature in disco).
 *
 * Strings passed to ops are borrowed for the duration of the call.
 * Legacy ids are the transport's own identifiers (an IRC nick with its server,
 * a phone number, a libpurple buddy name), never escaped JIDs: the core maps
 * them to JIDs with legacy_to_node / node_to_legacy.
 */
#pragma once
#include <causeway/admin.h>
#include <causeway/core.h>
#include <causeway/form.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct CwTransportOps CwTransportOps;

/* An ad-hoc command (XEP-0050) the transport offers on the gateway JID. */
typedef struct {
    const char *node;          /* unique among the gateway's commands */
    const char *name;          /* shown by clients */
    gboolean admin_only;       /* else: registered users */
    /* First step: the form to fill (owned by the transport, valid until the
     * next call of form for this command) with *values (allocated table or
     * NULL) to show in it; or NULL when the command is done in one step
     * (then *note, allocated, is the result text). */
    const CwFormSpec *(*form)(CwUser *user, GHashTable **values, char **note);
    /* Second step, with the submitted values (not yet validated: call
     * cw_form_validate). FALSE + error (CW_CONDITION_ERROR for a specific
     * condition) leaves the session open for a corrected submission; TRUE
     * sets *note (allocated, may be NULL) to the result text. */
    gboolean (*complete)(CwUser *user, GHashTable *values, char **note, GError **error);
} CwTransportCommand;

struct CwTransportOps {
    /* ---- identity (required) ---- */
    const char *type;          /* config `type =` value, e.g. "irc" */
    const char *description;   /* one line for --help and disco identity name */
    const char *disco_type;    /* XEP-0030 identity type under category "gateway" */
    const char *const *features; /* extra disco#info features, NULL-terminated; may be NULL */
    /* Extra disco#info features of every contact JID (e.g. XHTML-IM), NULL-terminated;
     * may be NULL. */
    const char *const *contact_features;
    /* Core features this transport cannot honour, taken out of the gateway's
     * and the contacts' disco#info (e.g. urn:xmpp:receipts when the legacy
     * network gives no delivery reports); NULL-terminated; may be NULL. */
    const char *const *withheld_features;

    /* ---- life cycle ---- */
    /* Keys this type accepts in its [transport:NAME] section besides type,
     * domain, secret, host and port; NULL-terminated. Others are rejected. */
    const char *const *config_keys;
    /* Read the transport's own keys from its config section; every error
     * names the file, the key and the fix (use cw_config_error()). Optional. */
    gboolean (*configure)(CwGateway *gw, GKeyFile *kf, const char *file, const char *group,
                          GError **error);
    /* `causeway --check` only, after configure: what only the legacy
     * library can tell (libpurple: is `protocol =` an installed plugin).
     * Runs in the short-lived --check process, without store or connection;
     * it may load the library but must write nothing under the data
     * directory (a temporary directory it removes is fine) and leave nothing
     * for deinit but what configure made. Errors name file and key.
     * Optional. */
    gboolean (*check)(CwGateway *gw, GError **error);
    /* Called once the store is open, before connecting. Optional. */
    gboolean (*init)(CwGateway *gw, GError **error);
    /* Undo configure and init: close legacy connections, free state. Also
     * called when configure or init failed half-way. Optional. */
    void (*deinit)(CwGateway *gw);

    /* ---- registration (XEP-0077) ---- */
    /* The registration form (required). Fields of type TEXT_PRIVATE are
     * stored encrypted and never echoed. */
    const CwFormSpec *registration_form;
    /* A registration form that depends on the configuration (e.g. a list of
     * the numbers one may claim): returns a form owned by the transport that
     * lives until deinit; NULL falls back to registration_form. Optional. */
    const CwFormSpec *(*registration_form_for)(CwGateway *gw);
    /* Check submitted values (already validated against the form) before they
     * are stored; a FALSE return shows error->message to the user as
     * not-acceptable. Optional. */
    gboolean (*check_registration)(CwGateway *gw, const char *user_jid, GHashTable *values,
                                   GError **error);
    /* The user's account was stored (new or changed). Optional. */
    void (*registered)(CwUser *user, gboolean is_new);
    /* The user unregistered: drop legacy sessions. Called before the store
     * rows go. Optional. */
    void (*unregistered)(CwUser *user);
    /* Whether a user must register before using the transport. Unregistered
     * users of a transport that returns FALSE get a CwUser all the same. */
    gboolean requires_registration;

    /* Settings of one legacy entity (e.g. an IRC server), offered as the
     * ad-hoc command "configure" on that entity's JID. Return the form and set
     * *scope (allocated) to the store scope its values live in, or NULL when
     * the entity has no settings. Optional. */
    const CwFormSpec *(*entity_settings)(CwGateway *gw, const char *legacy_id, char **scope);

    /* Settings form for the "Configure" ad-hoc command: values live in the
     * store scope "settings". Optional (NULL: Configure edits the
     * registration fields). */
    const CwFormSpec *settings_form;

    /* ---- sessions ---- */
    /* First available resource of the user (log in to the legacy network). */
    void (*user_online)(CwUser *user);
    /* Last resource gone (log out, unless the transport keeps sessions). */
    void (*user_offline)(CwUser *user);
    /* The user's aggregate presence changed while online. Optional. */
    void (*user_presence)(CwUser *user, CwShow show, const char *status);
    /* Flow control: TRUE when the XMPP server reads slower than the
     * gateway writes (megabytes wait to be sent); stop reading from legacy
     * connections until called again with FALSE. Optional: without it the
     * backlog grows in memory. */
    void (*congestion)(CwGateway *gw, gboolean congested);

    /* ---- one-to-one ---- */
    /* A chat message from the user to a legacy contact. id is the XMPP
     * message id (may be NULL); report failure with cw_legacy_error(). */
    void (*send_message)(CwUser *user, const char *legacy_id, const CwMessage *msg);
    /* XEP-0085 chat state to a contact. Optional. */
    void (*send_chat_state)(CwUser *user, const char *legacy_id, CwChatState state);
    /* The user added / removed a contact in their roster (subscribe /
     * unsubscribe presence to a contact JID). Optional. */
    void (*add_contact)(CwUser *user, const char *legacy_id);
    /* Instead of add_contact when set: the contact and the roster group the
     * user put it in (read from their roster with XEP-0356 when the server
     * grants roster "get"; NULL when unknown or none: the legacy default).
     * Called a moment after the subscription (the roster read), for a user
     * still known to the process. Optional. */
    void (*add_contact_in_group)(CwUser *user, const char *legacy_id, const char *group);
    void (*remove_contact)(CwUser *user, const char *legacy_id);

    /* ---- group chats (XEP-0045 facade; all optional as a set) ---- */
    void (*join_room)(CwUser *user, const char *room_id, const char *nick, const char *password);
    void (*leave_room)(CwUser *user, const char *room_id, const char *status);
    void (*send_groupchat)(CwUser *user, const char *room_id, const CwMessage *msg);
    void (*set_subject)(CwUser *user, const char *room_id, const char *subject);
    void (*change_nick)(CwUser *user, const char *room_id, const char *nick);
    /* Private message to an occupant (room JID with resource). */
    void (*send_private)(CwUser *user, const char *room_id, const char *nick,
                         const CwMessage *msg);
    /* XEP-0045 mediated invitation (<invite to=.../> in a message to the
     * room) or XEP-0249 direct invitation (to a contact): invite legacy
     * contact invitee_id into the room the user is in; reason may be NULL.
     * Report failure with cw_legacy_error() (to the room id). Optional:
     * without it the core answers feature-not-implemented. */
    void (*invite)(CwUser *user, const char *room_id, const char *invitee_id, const char *reason);
    /* Moderation from a muc#admin set on the room (XEP-0045 §8.2, §9.1): kick
     * the occupant nick (role='none'), or ban who (affiliation='outcast': an
     * occupant's nick, else the legacy id of the item's jid). Return at once:
     * TRUE when the legacy network was asked (the kick shows later as an
     * occupant_kicked / occupant_left), else FALSE with a CW_CONDITION_ERROR
     * (not-allowed: the user may not; feature-not-implemented: the network
     * cannot; item-not-found: no such occupant). Optional: NULL answers
     * feature-not-implemented. */
    gboolean (*kick)(CwUser *user, const char *room_id, const char *nick, const char *reason,
                     GError **error);
    gboolean (*ban)(CwUser *user, const char *room_id, const char *who, const char *reason,
                    GError **error);
    /* disco#items on a legacy entity's JID (e.g. an IRC server): list its
     * rooms, at most max_items, through cw_room_list_add()/_done(). Optional. */
    void (*list_rooms)(CwUser *user, const char *legacy_id, guint max_items, CwRoomList *list);
    /* Is this legacy id a room (e.g. IRC "#chan%server")? Required with join_room. */
    gboolean (*is_room)(CwGateway *gw, const char *legacy_id);
    /* Rooms are the same for every user in them (an IRC channel on one
     * server: everyone sees the same members): the core keeps one occupant
     * set per room id, shared by every user's room, and the cw_legacy_occupant_*
     * calls then change that set for all of them at once (see core.h,
     * "shared rooms"). Else each user's room has its own. */
    gboolean shared_rooms;

    /* ---- addressing (optional; default: XEP-0106 escaping) ---- */
    /* legacy id -> JID localpart (allocated). */
    char *(*legacy_to_node)(CwGateway *gw, const char *legacy_id);
    /* JID localpart -> legacy id (allocated), NULL if not a valid id. */
    char *(*node_to_legacy)(CwGateway *gw, const char *node);
    /* XEP-0100 prompt text, e.g. "Phone number (E.164)". Optional. */
    const char *gateway_prompt;
    /* The text of the jid-malformed error for a JID node_to_legacy refuses,
     * saying what an address looks like. Optional. */
    const char *address_help;
    /* XEP-0033: a message to the gateway JID with <addresses/> (type to/cc)
     * is sent with send_message to every address on this domain, with the
     * same id (max CW_MULTICAST_MAX addresses; one bad address refuses the
     * whole message before anything is sent). */
    gboolean multicast;
    /* XEP-0054 vcard-temp on contact JIDs: FN/NICKNAME are the roster name
     * (else the legacy id); with vcard_tel the legacy id is also the TEL
     * NUMBER (a phone number). */
    gboolean vcard_tel;

    /* ---- ad-hoc commands of the transport, NULL-terminated; may be NULL ---- */
    const CwTransportCommand *const *commands;

    /* ---- text commands to the gateway JID ---- */
    /* A message body sent to the bare gateway JID that is not a core command
     * ("help" is answered by the core, which appends commands_help).
     * Return FALSE if unknown (the core answers with help). Optional. */
    gboolean (*gateway_command)(CwUser *user, const char *text);
    const char *commands_help;

    /* ---- administration (all optional) ---- */
    /* End every legacy session of the user now, persistent ones too (the
     * admin command "Disconnect a user"); the user stays registered and the
     * next available presence from them logs them in again. NULL: the core
     * calls user_offline instead. */
    void (*disconnect)(CwUser *user);
    /* The transport's own stores (besides the core's), for `causeway
     * --show-user / --delete-user / --stats` and the admin ad-hoc commands.
     * They run with or without a process of the transport, so they get no
     * CwGateway: file_prefix is DATA_DIR/NAME, the prefix of the paths
     * cw_gateway_data_file() gives ("-sms.db" appended: the SMS store). Each
     * opens its files itself (read-only for info and stats), keeps every
     * transaction short (the service may be running), and adds lines to
     * report; a missing file means no data, not an error. user_delete removes
     * what unregistering removes (e.g. releases SMS number claims) and
     * reports what went. Never a secret in a report. */
    gboolean (*admin_user_info)(const char *file_prefix, const char *jid, CwAdminReport *report,
                                GError **error);
    gboolean (*admin_user_delete)(const char *file_prefix, const char *jid,
                                  CwAdminReport *report, GError **error);
    gboolean (*admin_stats)(const char *file_prefix, CwAdminReport *report, GError **error);
};

#define CW_MULTICAST_MAX 50

G_END_DECLS
