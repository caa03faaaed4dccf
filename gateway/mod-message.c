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
#include "xhtml.h"

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_RECEIPTS "urn:xmpp:receipts"
#define NS_ADDRESS "http://jabber.org/protocol/address"

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

/* XEP-0033: the legacy ids of the to/cc addresses of a multicast message,
 * or NULL after answering the error (every address must be one of ours). */
static GPtrArray *
multicast_targets(CwRequest *req, xmpp_stanza_t *addresses)
{
    CwGateway *gw = req->gw;
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    for (xmpp_stanza_t *a = xmpp_stanza_get_children(addresses); a; a = xmpp_stanza_get_next(a)) {
        const char *name = xmpp_stanza_get_name(a), *type = xmpp_stanza_get_type(a);
        if (!name || strcmp(name, "address") != 0 || !type ||
            (strcmp(type, "to") != 0 && strcmp(type, "cc") != 0))
            continue;
        const char *jid = xmpp_stanza_get_attribute(a, "jid");
        g_autofree char *node = jid ? xmpp_jid_node(cw_gateway_ctx(gw), jid) : NULL;
        g_autofree char *domain = jid ? xmpp_jid_domain(cw_gateway_ctx(gw), jid) : NULL;
        char *legacy = node && domain && g_ascii_strcasecmp(domain, cw_gateway_domain(gw)) == 0
                           ? cw_gateway_node_to_legacy(gw, node) : NULL;
        if (!legacy) {
            g_autofree char *text = g_strdup_printf(
                "Cannot send to %.80s: every address must be on %s. %s", jid ? jid : "(no jid)",
                cw_gateway_domain(gw), gw->ops->address_help ? gw->ops->address_help : "");
            cw_request_error(req, "jid-malformed", text);
            return NULL;
        }
        g_ptr_array_add(ids, legacy);
        if (ids->len > CW_MULTICAST_MAX) {
            cw_request_error(req, "policy-violation", "Too many addresses in one message.");
            return NULL;
        }
    }
    if (ids->len == 0) {
        cw_request_error(req, "bad-request", "No to or cc address.");
        return NULL;
    }
    return g_steal_pointer(&ids);
}

static void
multicast(CwRequest *req, xmpp_stanza_t *addresses, const char *body)
{
    CwGateway *gw = req->gw;
    if (gw->requires_registration && !req->user->registered) {
        cw_request_error(req, "registration-required", "Register with the gateway first.");
        return;
    }
    g_autoptr(GPtrArray) ids = multicast_targets(req, addresses);
    if (!ids)
        return;
    CwMessage msg = {
        .body = body,
        .id = xmpp_stanza_get_id(req->stanza),
        .want_receipt = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "request", NS_RECEIPTS) != NULL,
        .sender = req->from,
    };
    for (guint i = 0; i < ids->len; i++)
        gw->ops->send_message(req->user, ids->pdata[i], &msg);
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
    if (cw_muc_handle_direct_invite(req)) /* XEP-0249, to a contact */
        return;
    g_autofree char *body = cw_stanza_child_text(req->stanza, "body", NULL);
    if (!req->to_node) {
        xmpp_stanza_t *addresses =
            gw->ops->multicast ? xmpp_stanza_get_child_by_name_and_ns(req->stanza, "addresses", NS_ADDRESS)
                               : NULL;
        if (addresses && body && *body && gw->ops->send_message)
            multicast(req, addresses, body);
        else if (body && *body)
            gateway_message(req, body);
        return;
    }
    if (gw->requires_registration && !req->user->registered) {
        cw_request_error(req, "registration-required", "Register with the gateway first.");
        return;
    }
    g_autofree char *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    if (!legacy) {
        cw_request_error(req, "jid-malformed",
                         gw->ops->address_help ? gw->ops->address_help
                                               : "That is not a valid address on this network.");
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
    g_autofree char *xhtml = cw_xhtml_body_of(req->stanza);
    CwMessage msg = {
        .body = body,
        .id = xmpp_stanza_get_id(req->stanza),
        .want_receipt = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "request", NS_RECEIPTS) != NULL,
        .sender = req->from,
        .xhtml = xhtml,
    };
    gw->ops->send_message(req->user, legacy, &msg);
}

static const char *const features[] = { NS_CHATSTATES, NS_RECEIPTS, NULL };
static const CwHandler handlers[] = { { "message", "*", NULL, message }, { 0 } };
const CwModule cw_mod_message = { "message", features, handlers };
