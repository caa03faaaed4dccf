/* mod-message.c — messages: to contacts (the transport sends them), to the
 * gateway JID (text commands), chat states (XEP-0085), receipts (XEP-0184),
 * and the server's XEP-0356 advertisement. */
#define G_LOG_DOMAIN "causeway"
#include <string.h>

#include "account.h"
#include "muc.h"
#include "roster.h"
#include "router.h"
#include "stanza.h"

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_RECEIPTS "urn:xmpp:receipts"

static CwChatState
parse_chat_state(xmpp_stanza_t *m)
{
    static const char *const names[] = { NULL, "active", "composing", "paused", "inactive", "gone" };
    for (gsize i = 1; i < G_N_ELEMENTS(names); i++)
        if (xmpp_stanza_get_child_by_name_and_ns(m, names[i], NS_CHATSTATES))
            return (CwChatState)i;
    return CW_CHAT_STATE_NONE;
}

static void
gateway_message(CwRequest *req, const char *body)
{
    CwGateway *gw = req->gw;
    g_autofree char *text = g_strstrip(g_strdup(body));
    if (g_ascii_strcasecmp(text, "help") != 0 && req->user->registered && gw->ops->gateway_command &&
        gw->ops->gateway_command(req->user, text))
        return;
    GString *help = g_string_new(NULL);
    g_string_append_printf(help, "This is Causeway, a gateway to %s.\n",
                           gw->ops->description ? gw->ops->description : gw->ops->type);
    if (!req->user->registered)
        g_string_append(help, "Register through your client's service discovery (or the ad-hoc "
                              "commands) to use it.\n");
    g_string_append(help, "Commands:\n  help — this text\n");
    if (gw->ops->commands_help)
        g_string_append(help, gw->ops->commands_help);
    if (g_ascii_strcasecmp(text, "help") != 0)
        g_string_append_printf(help, "\n(Unknown command: %.40s%s)", text,
                               strlen(text) > 40 ? "…" : "");
    cw_legacy_gateway_message(req->user, help->str);
    g_string_free(help, TRUE);
}

static void
message(CwRequest *req)
{
    CwGateway *gw = req->gw;
    if (req->from_server) {
        /* From our own server (router.c): the XEP-0356 advertisement, or
         * nothing we use. */
        cw_roster_handle_privilege(gw, req->stanza);
        return;
    }
    if (!strcmp(req->type, "error"))
        return;
    g_autofree char *room_id = NULL;
    if (cw_muc_is_room_request(req, &room_id)) {
        cw_muc_handle_message(req, room_id);
        return;
    }
    if (!strcmp(req->type, "groupchat")) {
        cw_request_error(req, "not-acceptable", "This address is not a group chat.");
        return;
    }
    g_autofree char *body = cw_stanza_child_text(req->stanza, "body", NULL);
    if (!req->to_node) {
        if (body && *body)
            gateway_message(req, body);
        return;
    }
    if (gw->requires_registration && !req->user->registered) {
        cw_request_error(req, "registration-required", "Register with the gateway first.");
        return;
    }
    g_autofree char *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    if (!legacy) {
        cw_request_error(req, "jid-malformed", "That is not a valid address on this network.");
        return;
    }
    CwChatState state = parse_chat_state(req->stanza);
    if (!body || !*body) {
        if (state != CW_CHAT_STATE_NONE && gw->ops->send_chat_state)
            gw->ops->send_chat_state(req->user, legacy, state);
        return;
    }
    if (!gw->ops->send_message) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    CwMessage msg = {
        .body = body,
        .id = xmpp_stanza_get_id(req->stanza),
        .want_receipt = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "request", NS_RECEIPTS) != NULL,
    };
    gw->ops->send_message(req->user, legacy, &msg);
}

static const char *const features[] = { NS_CHATSTATES, NS_RECEIPTS, NULL };
static const CwHandler handlers[] = { { "message", "*", NULL, message }, { 0 } };
const CwModule cw_mod_message = { "message", features, handlers };
