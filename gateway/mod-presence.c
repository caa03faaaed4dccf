/* mod-presence.c — users' presence: resources, sessions (first online / last offline), subscriptions, probes. */
#define G_LOG_DOMAIN "causeway"
#include <string.h>

#include "muc.h"
#include "roster.h"
#include "router.h"
#include "stanza.h"

static CwShow
parse_show(xmpp_stanza_t *presence)
{
    g_autofree char *show = cw_stanza_child_text(presence, "show", NULL);
    if (!show)
        return CW_SHOW_ONLINE;
    if (!strcmp(show, "chat"))
        return CW_SHOW_CHAT;
    if (!strcmp(show, "away"))
        return CW_SHOW_AWAY;
    if (!strcmp(show, "xa"))
        return CW_SHOW_XA;
    if (!strcmp(show, "dnd"))
        return CW_SHOW_DND;
    return CW_SHOW_ONLINE;
}

/* Sessions matter for users the transport serves: registered ones, or
 * anyone when registration is optional. */
static gboolean
has_session(CwGateway *gw, CwUser *user)
{
    return user->registered || !gw->requires_registration;
}

static void
resource_available(CwRequest *req)
{
    CwUser *user = req->user;
    CwGateway *gw = req->gw;
    const char *resource = req->from_resource ? req->from_resource : "";
    CwShow show = parse_show(req->stanza);
    gboolean new_resource = !g_hash_table_contains(user->resources, resource);
    g_hash_table_replace(user->resources, g_strdup(resource), GINT_TO_POINTER(show));
    g_autofree char *status = cw_stanza_child_text(req->stanza, "status", NULL);
    gboolean changed = user->show != show || g_strcmp0(user->status, status) != 0;
    user->show = show;
    g_free(user->status);
    user->status = g_steal_pointer(&status);

    if (!has_session(gw, user))
        return;
    if (!user->online) {
        user->online = TRUE;
        g_info("%s is online", user->jid);
        if (user->registered)
            cw_gateway_send_own_presence(gw, user->jid, NULL);
        if (gw->ops->user_online)
            gw->ops->user_online(user);
    } else if (changed && gw->ops->user_presence) {
        gw->ops->user_presence(user, show, user->status);
    }
    if (new_resource && user->registered)
        cw_muc_restore(user, req->from);
}

/* A resource going offline. A registered user's server tells the gateway
 * JID itself (in their roster since registration) when a resource really
 * goes; an unavailable presence sent to one contact only is not that: the
 * server sends one when the user removes the contact from their roster (just
 * before the unsubscribe), and a client sends one to appear offline to that
 * contact. Ending the session there would log the user out of the legacy
 * network in the middle of removing a contact. */
static void
resource_unavailable(CwRequest *req)
{
    if (req->to_node && req->user->registered)
        return;
    cw_user_resource_gone(req->user, req->from_resource ? req->from_resource : "");
}

static void
reply_presence(CwRequest *req, const char *type)
{
    g_autoptr(xmpp_stanza_t) p = cw_stanza_new(cw_gateway_ctx(req->gw), "presence", NULL);
    xmpp_stanza_set_from(p, req->to);
    xmpp_stanza_set_to(p, req->from_bare);
    if (type)
        xmpp_stanza_set_type(p, type);
    cw_gateway_send(req->gw, p);
}

typedef struct {
    char *user_jid, *legacy_id;
} GroupedAdd;

static void
on_contact_group(CwGateway *gw, const char *group, gpointer data)
{
    GroupedAdd *a = data;
    CwUser *user = cw_gateway_lookup_user(gw, a->user_jid);
    if (user)
        gw->ops->add_contact_in_group(user, a->legacy_id, group);
    g_free(a->user_jid);
    g_free(a->legacy_id);
    g_free(a);
}

static void
contact_subscription(CwRequest *req, gboolean subscribe)
{
    CwGateway *gw = req->gw;
    g_autofree char *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    if (!legacy) {
        cw_request_error(req, "jid-malformed", "That is not a valid address on this network.");
        return;
    }
    if (subscribe) {
        if (gw->requires_registration && !req->user->registered) {
            cw_request_error(req, "registration-required", "Register with the gateway first.");
            return;
        }
        g_autofree char *jid = cw_legacy_id_to_jid(gw, legacy);
        g_autoptr(GError) error = NULL;
        if (jid && !cw_limits_check_contact(gw, req->user, jid, &error)) {
            cw_request_error(req, error->domain == CW_LIMITS_ERROR ? CW_LIMITS_CONDITION
                                                                   : "internal-server-error",
                             error->message);
            return;
        }
        reply_presence(req, "subscribed");
        if (gw->ops->add_contact_in_group) {
            /* The client put the item in its roster (with a group) before
             * subscribing: read it before the transport adds the contact,
             * whose roster push would overwrite the group. */
            GroupedAdd *a = g_new0(GroupedAdd, 1);
            a->user_jid = g_strdup(req->from_bare);
            a->legacy_id = g_strdup(legacy);
            g_autofree char *contact_jid = cw_legacy_id_to_jid(gw, legacy);
            cw_roster_read_group(gw, req->from_bare, contact_jid, on_contact_group, a);
        } else if (gw->ops->add_contact) {
            gw->ops->add_contact(req->user, legacy);
        }
    } else {
        reply_presence(req, "unsubscribed");
        if (gw->ops->remove_contact)
            gw->ops->remove_contact(req->user, legacy);
    }
}

static void
probe(CwRequest *req)
{
    CwUser *user = req->user;
    if (!req->to_node) {
        cw_gateway_send_own_presence(req->gw, req->from_bare, user->registered ? NULL : "unavailable");
        return;
    }
    g_autofree char *legacy = cw_gateway_node_to_legacy(req->gw, req->to_node);
    gpointer show = legacy ? g_hash_table_lookup(user->contact_presence, legacy) : NULL;
    if (show)
        cw_legacy_contact_presence(user, legacy, GPOINTER_TO_INT(show), NULL);
    else
        reply_presence(req, "unavailable");
}

static void
presence(CwRequest *req)
{
    const char *type = req->type;
    if (req->from_server)
        return; /* the server's own presence carries nothing for us */
    g_autofree char *room_id = NULL;
    if (cw_muc_is_room_request(req, &room_id)) {
        cw_muc_handle_presence(req, room_id);
        return;
    }
    if (xmpp_stanza_get_child_by_name_and_ns(req->stanza, "x", "http://jabber.org/protocol/muc")) {
        /* A join to something that is not a room here: say so, or the
         * client waits forever. */
        if (!*type)
            cw_request_error(req, "item-not-found",
                             req->to_node ? "There is no such room on this gateway."
                                          : "Join a room as room@service/nick.");
        return;
    }
    if (!*type) {
        resource_available(req);
    } else if (!strcmp(type, "unavailable")) {
        resource_unavailable(req);
    } else if (!strcmp(type, "probe")) {
        probe(req);
    } else if (!strcmp(type, "subscribe") || !strcmp(type, "unsubscribe")) {
        gboolean sub = !strcmp(type, "subscribe");
        if (req->to_node)
            contact_subscription(req, sub);
        else if (sub && req->user->registered)
            reply_presence(req, "subscribed");
        else if (!sub)
            reply_presence(req, "unsubscribed");
    } else if (!strcmp(type, "subscribed") || !strcmp(type, "unsubscribed") || !strcmp(type, "error")) {
        /* Answers to our own requests: nothing to do. */
    } else {
        cw_request_error(req, "bad-request", "Unknown presence type.");
    }
}

static const CwHandler handlers[] = { { "presence", "*", NULL, presence }, { 0 } };
const CwModule cw_mod_presence = { "presence", NULL, handlers };
