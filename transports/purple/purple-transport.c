/* purple-transport.c — the purple transport: one libpurple protocol plugin
 * as one component (DESIGN.md, "libpurple 2.14"). Buddies are XMPP contacts
 * (legacy id = buddy name, XEP-0106-escaped by the core); 1:1 messages,
 * presence and typing go both ways. libpurple chats are XEP-0045 rooms
 * (legacy id "ROOM%SERVER", purple-chats.c).
 *
 * The parts: purple-core (libpurple on the main loop, non-blocking UI ops),
 * purple-form (the registration form from the plugin), purple-session (the
 * account per user: login, reconnect, fatal errors), purple-buddies (roster,
 * presence, typing). This file joins them to the core.
 */
#define G_LOG_DOMAIN "causeway-purple"
#include <causeway/keyfile.h>
#include <causeway/transport.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <string.h>

#include "log.h" /* cw_log_get_level: libpurple's debug output only with --debug */
#include "purple-buddies.h"
#include "purple-chats.h"
#include "purple-core.h"
#include "purple-form.h"
#include "purple-html.h"
#include "purple-room.h"
#include "purple-session.h"

#define CW_PURPLE_DELAYED_AFTER_S 2

static const char *const config_keys[] = { "protocol", "reconnect_max", NULL };

/* ---- events from purple-core ---- */

static void
on_notify(PurpleAccount *account, const char *text, gpointer data)
{
    if (cw_purple_chats_note_notify(data, text))
        return;
    CwPurpleSession *s = cw_purple_accounts_session(data, account);
    if (s)
        cw_legacy_gateway_message(s->user, text);
    else
        g_info("libpurple: %s", text);
}

/* Policy: an authorisation request is granted, and the buddy put on the
 * list so that the user sees them in the roster (and can remove them, which
 * removes them on the legacy side too); the user is told. */
static gboolean
on_authorize(PurpleAccount *account, const char *remote_user, const char *alias,
             const char *message, gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, account);
    if (!s)
        return FALSE;
    g_autofree char *text = g_strdup_printf(
        "%s%s%s%s asked to see your presence; granted.%s%s", remote_user, alias ? " (" : "",
        alias ? alias : "", alias ? ")" : "", message && *message ? " Their message: " : "",
        message && *message ? message : "");
    cw_legacy_gateway_message(s->user, text);
    cw_purple_buddies_add(s, remote_user);
    return TRUE;
}

static void
on_im(PurpleAccount *account, const char *who, const char *html, time_t mtime, gboolean delayed,
      gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, account);
    if (!s)
        return;
    g_autofree char *body = cw_purple_html_to_text(html);
    g_autofree char *xhtml = cw_purple_html_to_xhtml(html); /* NULL for a plain message */
    /* XEP-0203: prpls flag offline (and history) messages DELAYED -- except
     * prpl-jabber's 1:1 messages: it gives the <delay/> stamp as mtime, and
     * the time of parsing for a live message, so an mtime in the past
     * (CW_PURPLE_DELAYED_AFTER_S) is a delayed message there. */
    if (!delayed && mtime > 0 && g_strcmp0(s->t->protocol, "prpl-jabber") == 0
        && mtime + CW_PURPLE_DELAYED_AFTER_S <= time(NULL))
        delayed = TRUE;
    CwMessage msg = { .body = body, .xhtml = xhtml,
                      .timestamp = delayed && mtime > 0 ? (gint64)mtime * G_USEC_PER_SEC : 0 };
    if (cw_purple_chats_private_in(s, who, &msg))
        return;
    g_autofree char *from = cw_purple_buddies_name(s, who);
    cw_legacy_message(s->user, from, &msg);
}

static const CwPurpleCoreEvents core_events = {
    .notify = on_notify,
    .authorize = on_authorize,
    .im = on_im,
    .chat_renamed = cw_purple_chats_event_renamed,
    .chat_write = cw_purple_chats_event_write,
    .chat_users_added = cw_purple_chats_event_users_added,
};

/* ---- life cycle ---- */

static gboolean
purple_configure(CwGateway *gw, GKeyFile *kf, const char *file, const char *group,
                 GError **error)
{
    g_autofree char *protocol = cw_keyfile_get_string(kf, group, "protocol", NULL);
    if (!protocol) {
        cw_keyfile_error(error, file, group, "protocol",
                         "missing; write the id of a libpurple protocol plugin, e.g. prpl-jabber");
        return FALSE;
    }
    double reconnect_max_s = 300;
    if (!cw_keyfile_get_duration(kf, file, group, "reconnect_max", 300, 1, 86400, &reconnect_max_s,
                                 error))
        return FALSE;
    CwPurpleTransport *t = g_new0(CwPurpleTransport, 1);
    t->gw = gw;
    t->file = g_strdup(file);
    t->group = g_strdup(group);
    t->protocol = g_steal_pointer(&protocol);
    t->reconnect_max_ms = (guint)(reconnect_max_s * 1000);
    if (t->reconnect_max_ms < CW_PURPLE_RECONNECT_MIN_MS)
        t->reconnect_max_ms = CW_PURPLE_RECONNECT_MIN_MS;
    t->sessions = g_hash_table_new(g_direct_hash, g_direct_equal);
    cw_gateway_set_data(gw, t);
    /* libpurple itself starts in init, in the transport's own process: the
     * supervisor stays free of it. --check looks the protocol up in
     * purple_check; a transport started alone, in init. */
    return TRUE;
}

/* Remove what libpurple wrote into the throwaway directory of --check
 * (prefs.xml, blist.xml, ...): plain files and directories, no symlink
 * followed. */
static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                remove_tree(child);
            else
                g_unlink(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

/* --check: is `protocol =` an installed plugin? libpurple is initialised
 * in a temporary directory (nothing under the data directory), asked for
 * its protocols and shut down again (about 0.1 s, the plugins probed). */
static gboolean
purple_check(CwGateway *gw, GError **error)
{
    CwPurpleTransport *t = cw_purple_transport_of(gw);
    g_autoptr(GError) tmp_error = NULL;
    g_autofree char *dir = g_dir_make_tmp("causeway-check-XXXXXX", &tmp_error);
    if (!dir) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: [%s] protocol: cannot check it, no temporary directory: %s", t->file,
                    t->group, tmp_error->message);
        return FALSE;
    }
    gboolean ok = cw_purple_core_init(dir, cw_log_get_level() >= CW_LOG_DEBUG, NULL, NULL, error);
    if (ok && !cw_purple_core_find_protocol(t->protocol)) {
        g_autofree char *installed = cw_purple_core_protocol_list();
        cw_keyfile_error(error, t->file, t->group, "protocol",
                         "'%s' is not an installed libpurple protocol; write one of %s",
                         t->protocol, installed);
        ok = FALSE;
    }
    cw_purple_core_deinit();
    remove_tree(dir);
    return ok;
}

static gboolean
purple_init(CwGateway *gw, GError **error)
{
    CwPurpleTransport *t = cw_purple_transport_of(gw);
    g_autofree char *dir = cw_gateway_data_file(gw, "purple");
    if (!cw_purple_core_init(dir, cw_log_get_level() >= CW_LOG_DEBUG, &core_events, t, error))
        return FALSE;
    PurplePlugin *prpl = cw_purple_core_find_protocol(t->protocol);
    if (!prpl) {
        g_autofree char *installed = cw_purple_core_protocol_list();
        cw_keyfile_error(error, t->file, t->group, "protocol",
                         "'%s' is not an installed libpurple protocol; write one of %s",
                         t->protocol, installed);
        return FALSE;
    }
    t->form = cw_purple_form_new(prpl);
    cw_purple_session_signals_connect(t);
    cw_purple_buddies_signals_connect(t);
    cw_purple_chats_signals_connect(t);
    g_message("purple: %s (%s), libpurple %s, files in %s", purple_plugin_get_name(prpl),
              t->protocol, purple_core_get_version(), dir);
    return TRUE;
}

static void
purple_deinit(CwGateway *gw)
{
    CwPurpleTransport *t = cw_purple_transport_of(gw);
    if (!t)
        return;
    if (cw_purple_core_is_ready()) {
        t->quitting = TRUE;
        purple_signals_disconnect_by_handle(t);
        cw_purple_core_deinit();
    }
    cw_purple_form_free(t->form);
    g_hash_table_destroy(t->sessions);
    g_free(t->last_notify);
    g_free(t->protocol);
    g_free(t->file);
    g_free(t->group);
    g_free(t);
    cw_gateway_set_data(gw, NULL);
}

/* ---- registration ---- */

static const CwFormField fallback_fields[] = {
    { .var = "username", .label = "Username", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .legacy_name = "username" },
    { .var = "password", .label = "Password", .type = CW_FIELD_TEXT_PRIVATE,
      .legacy_name = "password" },
};
/* Only seen before init (never by a user): the real form comes from the plugin. */
static const CwFormSpec fallback_form = { "libpurple account", NULL, fallback_fields,
                                          G_N_ELEMENTS(fallback_fields) };

static const CwFormSpec *
purple_registration_form(CwGateway *gw)
{
    CwPurpleTransport *t = cw_purple_transport_of(gw);
    return t && t->form ? cw_purple_form_spec(t->form) : NULL;
}

static void
purple_registered(CwUser *user, gboolean is_new)
{
    CwPurpleTransport *t = cw_purple_transport_of(cw_user_gateway(user));
    /* A changed registration may fix what failed: try again. */
    cw_user_set_value(user, CW_PURPLE_SCOPE, CW_PURPLE_FAILING, NULL, FALSE);
    CwPurpleSession *s = cw_purple_session_get(t, user, TRUE);
    if (!s)
        return;
    if (!is_new)
        cw_purple_session_logout(s);
    if (cw_user_is_online(user))
        cw_purple_session_login(s);
}

static void
purple_unregistered(CwUser *user)
{
    CwPurpleTransport *t = cw_purple_transport_of(cw_user_gateway(user));
    CwPurpleSession *s = cw_purple_session_get(t, user, FALSE);
    if (s)
        cw_purple_session_forget(s);
    cw_user_set_value(user, CW_PURPLE_SCOPE, CW_PURPLE_FAILING, NULL, FALSE);
}

/* ---- sessions ---- */

static void
purple_user_online(CwUser *user)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               TRUE);
    if (s)
        cw_purple_session_login(s);
}

static void
purple_user_offline(CwUser *user)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (!s)
        return;
    g_autofree char *stay = cw_user_get_value(user, "", CW_PURPLE_FORM_STAY_CONNECTED);
    if (g_strcmp0(stay, "1") == 0) {
        if (s->account && cw_purple_accounts_connection(s))
            purple_account_set_status(s->account, "away", TRUE, NULL);
        return;
    }
    cw_purple_session_logout(s);
}

/* An administrator disconnected the user: log out even when "stay
 * connected" is set; the next available presence logs in again. */
static void
purple_disconnect(CwUser *user)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (s)
        cw_purple_session_logout(s);
}

static void
purple_user_presence(CwUser *user, CwShow show, const char *status)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (!s || !cw_purple_accounts_connection(s))
        return;
    PurpleStatusPrimitive prim = PURPLE_STATUS_AVAILABLE;
    switch (show) {
    case CW_SHOW_AWAY:
        prim = PURPLE_STATUS_AWAY;
        break;
    case CW_SHOW_XA:
        prim = PURPLE_STATUS_EXTENDED_AWAY;
        break;
    case CW_SHOW_DND:
        prim = PURPLE_STATUS_UNAVAILABLE;
        break;
    default:
        break;
    }
    PurpleStatusType *type = purple_account_get_status_type_with_primitive(s->account, prim);
    if (!type && prim == PURPLE_STATUS_EXTENDED_AWAY)
        type = purple_account_get_status_type_with_primitive(s->account, PURPLE_STATUS_AWAY);
    if (!type)
        type = purple_account_get_status_type_with_primitive(s->account, PURPLE_STATUS_AVAILABLE);
    if (!type)
        return;
    const char *id = purple_status_type_get_id(type);
    if (status && *status && purple_status_type_get_attr(type, "message")) {
        g_autofree char *html = cw_purple_text_to_html(status);
        purple_account_set_status(s->account, id, TRUE, "message", html, NULL);
    } else {
        purple_account_set_status(s->account, id, TRUE, NULL);
    }
}

/* ---- one-to-one ---- */

static PurpleConnection *
connection_or_error(CwUser *user, const char *legacy_id, const char *msg_id,
                    CwPurpleSession **out)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    PurpleConnection *gc = s ? cw_purple_accounts_connection(s) : NULL;
    if (!gc && msg_id != (const char *)-1)
        cw_legacy_error(user, legacy_id, msg_id, "recipient-unavailable",
                        "Not connected to the legacy network (yet); try again later.");
    *out = s;
    return gc;
}

static void
purple_send_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    CwPurpleSession *s;
    if (!connection_or_error(user, legacy_id, msg->id, &s))
        return;
    /* XEP-0071: the client's formatting, whitelisted, else the plain body. */
    g_autofree char *html = cw_purple_xhtml_to_html(msg->xhtml);
    if (!html)
        html = cw_purple_text_to_html(msg->body ? msg->body : "");
    PurpleConversation *conv =
        purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, legacy_id, s->account);
    if (!conv)
        conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, s->account, legacy_id);
    /* Our own message comes back through write_im flagged SEND: not echoed. */
    purple_conv_im_send(PURPLE_CONV_IM(conv), html);
}

static void
purple_send_chat_state(CwUser *user, const char *legacy_id, CwChatState state)
{
    CwPurpleSession *s;
    PurpleConnection *gc = connection_or_error(user, legacy_id, (const char *)-1, &s);
    if (!gc || cw_purple_room_id_parse(legacy_id, NULL, NULL))
        return;
    PurpleTypingState typing = state == CW_CHAT_STATE_COMPOSING ? PURPLE_TYPING
                               : state == CW_CHAT_STATE_PAUSED  ? PURPLE_TYPED
                                                                : PURPLE_NOT_TYPING;
    serv_send_typing(gc, legacy_id, typing);
}

static void
purple_add_contact(CwUser *user, const char *legacy_id)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (s)
        cw_purple_buddies_add(s, legacy_id);
}

static void
purple_add_contact_in_group(CwUser *user, const char *legacy_id, const char *group)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (s)
        cw_purple_buddies_add_in_group(s, legacy_id, group);
}

static void
purple_remove_contact(CwUser *user, const char *legacy_id)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               FALSE);
    if (s)
        cw_purple_buddies_remove(s, legacy_id);
}

/* ---- group chats (purple-chats.c) ---- */

static CwPurpleSession *
session_of(CwUser *user)
{
    return cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user, FALSE);
}

static void
purple_join_room(CwUser *user, const char *room_id, const char *nick, const char *password)
{
    CwPurpleSession *s = cw_purple_session_get(cw_purple_transport_of(cw_user_gateway(user)), user,
                                               TRUE);
    if (!s) {
        cw_legacy_room_join_failed(user, room_id, "registration-required",
                                   "Register with this gateway first.");
        return;
    }
    cw_purple_chats_join(s, room_id, nick, password);
}

static void
purple_leave_room(CwUser *user, const char *room_id, const char *status)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_leave(s, room_id, status);
}

static void
purple_send_groupchat(CwUser *user, const char *room_id, const CwMessage *msg)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_send(s, room_id, msg);
    else
        cw_legacy_error(user, room_id, msg->id, "not-acceptable", "You are not in this room.");
}

static void
purple_set_subject(CwUser *user, const char *room_id, const char *subject)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_set_subject(s, room_id, subject);
}

static void
purple_change_nick(CwUser *user, const char *room_id, const char *nick)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_change_nick(s, room_id, nick);
}

static void
purple_send_private(CwUser *user, const char *room_id, const char *nick, const CwMessage *msg)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_send_private(s, room_id, nick, msg);
    else
        cw_legacy_error(user, room_id, msg->id, "not-acceptable", "You are not in this room.");
}

static void
purple_invite(CwUser *user, const char *room_id, const char *who, const char *reason)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        cw_purple_chats_invite(s, room_id, who, reason);
}

static gboolean
purple_kick(CwUser *user, const char *room_id, const char *nick, const char *reason, GError **error)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        return cw_purple_chats_kick(s, room_id, nick, reason, error);
    g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE, "You are not in this room.");
    return FALSE;
}

static gboolean
purple_ban(CwUser *user, const char *room_id, const char *who, const char *reason, GError **error)
{
    CwPurpleSession *s = session_of(user);
    if (s)
        return cw_purple_chats_ban(s, room_id, who, reason, error);
    g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE, "You are not in this room.");
    return FALSE;
}

static void
purple_list_rooms(CwUser *user, const char *legacy_id, guint max_items, CwRoomList *list)
{
    CwPurpleSession *s = session_of(user);
    if (!s) {
        cw_room_list_done(list, "registration-required", "Register with this gateway first.");
        return;
    }
    cw_purple_chats_list(s, legacy_id, max_items, list);
}

static gboolean
purple_is_room(CwGateway *gw, const char *legacy_id)
{
    return cw_purple_room_id_parse(legacy_id, NULL, NULL);
}

/* XEP-0071 both ways (purple-html.c). No XEP-0184: libpurple 2.14 has no
 * delivery-report API for a UI (README, "libpurple"), so no receipt is ever
 * sent and none is advertised. */
static const char *const features[] = { "http://jabber.org/protocol/xhtml-im", NULL };
static const char *const withheld_features[] = { "urn:xmpp:receipts", NULL };

const CwTransportOps cw_purple_transport = {
    .type = "purple",
    .description = "libpurple",
    .disco_type = "xmpp",
    .features = features,
    .contact_features = features,
    .withheld_features = withheld_features,
    .config_keys = config_keys,
    .configure = purple_configure,
    .check = purple_check,
    .init = purple_init,
    .deinit = purple_deinit,
    .registration_form = &fallback_form,
    .registration_form_for = purple_registration_form,
    .registered = purple_registered,
    .unregistered = purple_unregistered,
    .requires_registration = TRUE,
    .user_online = purple_user_online,
    .user_offline = purple_user_offline,
    .disconnect = purple_disconnect,
    .user_presence = purple_user_presence,
    .send_message = purple_send_message,
    .send_chat_state = purple_send_chat_state,
    .add_contact = purple_add_contact,
    .add_contact_in_group = purple_add_contact_in_group,
    .remove_contact = purple_remove_contact,
    .join_room = purple_join_room,
    .leave_room = purple_leave_room,
    .send_groupchat = purple_send_groupchat,
    .set_subject = purple_set_subject,
    .change_nick = purple_change_nick,
    .send_private = purple_send_private,
    .invite = purple_invite,
    .kick = purple_kick,
    .ban = purple_ban,
    .list_rooms = purple_list_rooms,
    .is_room = purple_is_room,
    .gateway_prompt = "Contact's user name",
};
