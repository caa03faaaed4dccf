/* mod-disco.c — XEP-0030 service discovery of the gateway (identity + module features). */
#define G_LOG_DOMAIN "causeway"
#include <string.h>

#include "adhoc.h"
#include "caps.h"
#include "muc.h"
#include "router.h"
#include "stanza.h"

#define NS_INFO "http://jabber.org/protocol/disco#info"
#define NS_ITEMS "http://jabber.org/protocol/disco#items"

static gboolean
strv_has(const char *const *strv, const char *s)
{
    return strv && g_strv_contains(strv, s);
}

static void
add_identity(xmpp_stanza_t *query, const char *category, const char *type, const char *name)
{
    xmpp_stanza_t *id = cw_stanza_add_child(query, cw_stanza_new(xmpp_stanza_get_context(query),
                                                                 "identity", NULL));
    xmpp_stanza_set_attribute(id, "category", category);
    xmpp_stanza_set_attribute(id, "type", type);
    if (name)
        xmpp_stanza_set_attribute(id, "name", name);
}

static void
add_feature(xmpp_stanza_t *query, const char *var)
{
    xmpp_stanza_t *f = cw_stanza_add_child(query, cw_stanza_new(xmpp_stanza_get_context(query),
                                                                "feature", NULL));
    xmpp_stanza_set_attribute(f, "var", var);
}

static void
disco_info(CwRequest *req)
{
    CwGateway *gw = req->gw;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    const char *node = xmpp_stanza_get_attribute(req->payload, "node");
    xmpp_stanza_t *query = cw_stanza_new(ctx, "query", NS_INFO);
    if (node)
        xmpp_stanza_set_attribute(query, "node", node);

    g_autofree char *room_id = NULL;
    if (cw_muc_is_room_request(req, &room_id)) {
        xmpp_stanza_release(query);
        cw_muc_handle_disco_info(req, room_id);
        return;
    }
    if (req->to_node) {
        /* A legacy contact: a plain client that can chat. */
        add_identity(query, "client", "pc", NULL);
        add_feature(query, NS_INFO);
        add_feature(query, "http://jabber.org/protocol/chatstates");
        if (!strv_has(gw->ops->withheld_features, "urn:xmpp:receipts"))
            add_feature(query, "urn:xmpp:receipts");
        for (const char *const *f = gw->ops->contact_features; f && *f; f++)
            add_feature(query, *f);
        cw_request_result(req, query);
        return;
    }
    g_autofree char *caps_node = g_strdup_printf("%s#%s", CW_CAPS_NODE, gw->caps_ver);
    if (node && strcmp(node, caps_node) != 0 && !cw_adhoc_is_command_node(gw, node)) {
        xmpp_stanza_release(query);
        cw_request_error(req, "item-not-found", NULL);
        return;
    }
    if (node && cw_adhoc_is_command_node(gw, node)) {
        add_identity(query, "automation", "command-node", NULL);
        add_feature(query, "http://jabber.org/protocol/commands");
        add_feature(query, "jabber:x:data");
        cw_request_result(req, query);
        return;
    }
    add_identity(query, "gateway", gw->ops->disco_type, cw_caps_identity_name(gw));
    g_autoptr(GPtrArray) features = cw_router_features(gw);
    for (guint i = 0; i < features->len; i++)
        add_feature(query, features->pdata[i]);
    cw_request_result(req, query);
}

static void
disco_items(CwRequest *req)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(req->gw);
    const char *node = xmpp_stanza_get_attribute(req->payload, "node");
    if (node && strcmp(node, CW_NS_COMMANDS) == 0) {
        cw_request_result(req, cw_adhoc_items(req));
        return;
    }
    if (req->to_node && !node && req->gw->ops->list_rooms) {
        g_autofree char *legacy = cw_gateway_node_to_legacy(req->gw, req->to_node);
        if (legacy && !(req->gw->ops->is_room && req->gw->ops->is_room(req->gw, legacy))) {
            req->gw->ops->list_rooms(req->user, legacy, CW_ROOM_LIST_MAX, cw_room_list_new(req));
            return;
        }
    }
    xmpp_stanza_t *query = cw_stanza_new(ctx, "query", NS_ITEMS);
    if (node)
        xmpp_stanza_set_attribute(query, "node", node);
    cw_request_result(req, query);
}

static const char *const features[] = { NS_INFO, NS_ITEMS, NULL };
static const CwHandler handlers[] = {
    { "iq", "get", NS_INFO, disco_info },
    { "iq", "get", NS_ITEMS, disco_items },
    { 0 },
};
const CwModule cw_mod_disco = { "disco", features, handlers };
