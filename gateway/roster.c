/* roster.c — XEP-0356 privileged roster pushes, with subscription presences as the fallback. */
#define G_LOG_DOMAIN "causeway"
#include "roster.h"

#include <string.h>

#include "stanza.h"

#define NS_PRIVILEGE_1 "urn:xmpp:privilege:1"
#define NS_PRIVILEGE_2 "urn:xmpp:privilege:2"
#define NS_ROSTER "jabber:iq:roster"
#define NS_NICK "http://jabber.org/protocol/nick"

gboolean
cw_roster_handle_privilege(CwGateway *gw, xmpp_stanza_t *message)
{
    const char *ns = NULL;
    xmpp_stanza_t *priv = xmpp_stanza_get_child_by_name_and_ns(message, "privilege", NS_PRIVILEGE_2);
    if (priv)
        ns = NS_PRIVILEGE_2;
    else if ((priv = xmpp_stanza_get_child_by_name_and_ns(message, "privilege", NS_PRIVILEGE_1)))
        ns = NS_PRIVILEGE_1;
    if (!priv)
        return FALSE;

    CwRosterPerm perm = CW_ROSTER_PERM_NONE;
    for (xmpp_stanza_t *p = xmpp_stanza_get_children(priv); p; p = xmpp_stanza_get_next(p)) {
        if (!xmpp_stanza_is_tag(p) || g_strcmp0(xmpp_stanza_get_name(p), "perm"))
            continue;
        if (g_strcmp0(xmpp_stanza_get_attribute(p, "access"), "roster"))
            continue;
        const char *type = xmpp_stanza_get_attribute(p, "type");
        perm = !g_strcmp0(type, "both") ? CW_ROSTER_PERM_BOTH
             : !g_strcmp0(type, "set")  ? CW_ROSTER_PERM_SET
             : !g_strcmp0(type, "get")  ? CW_ROSTER_PERM_GET
                                        : CW_ROSTER_PERM_NONE;
    }
    g_free(gw->privilege_ns);
    gw->privilege_ns = g_strdup(ns);
    gw->roster_perm = perm;
    if (perm == CW_ROSTER_PERM_SET || perm == CW_ROSTER_PERM_BOTH)
        g_message("roster: %s granted roster access (%s); contacts are pushed into rosters (XEP-0356)",
                  xmpp_stanza_get_from(message), ns);
    else
        g_message("roster: %s granted no roster write access (%s); contacts are added with "
                  "subscription requests", xmpp_stanza_get_from(message), ns);
    return TRUE;
}

gboolean
cw_roster_can_push(CwGateway *gw)
{
    return gw->roster_perm == CW_ROSTER_PERM_SET || gw->roster_perm == CW_ROSTER_PERM_BOTH;
}

static void
log_fallback_once(CwGateway *gw, const char *why)
{
    if (gw->roster_fallback_logged)
        return;
    gw->roster_fallback_logged = TRUE;
    g_message("roster: %s; adding contacts with subscription requests", why);
}

static void
send_presence(CwGateway *gw, const char *from, const char *to, const char *type, const char *nick)
{
    g_autoptr(xmpp_stanza_t) p = cw_stanza_new(cw_gateway_ctx(gw), "presence", NULL);
    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    if (type)
        xmpp_stanza_set_type(p, type);
    if (nick)
        cw_stanza_add_text_child(p, "nick", NS_NICK, nick);
    cw_gateway_send(gw, p);
}

typedef struct {
    char *user_jid, *contact_jid, *name, *group;
    gboolean remove;
} PushRequest;

static void
push_request_free(PushRequest *r)
{
    g_free(r->user_jid);
    g_free(r->contact_jid);
    g_free(r->name);
    g_free(r->group);
    g_free(r);
}

static void
subscribe_fallback(CwGateway *gw, PushRequest *r)
{
    if (r->remove) {
        send_presence(gw, r->contact_jid, r->user_jid, "unsubscribe", NULL);
        send_presence(gw, r->contact_jid, r->user_jid, "unsubscribed", NULL);
    } else {
        send_presence(gw, r->contact_jid, r->user_jid, "subscribe", r->name);
    }
}

static void
on_push_reply(CwGateway *gw, xmpp_stanza_t *reply, gpointer data)
{
    PushRequest *r = data;
    if (!reply || g_strcmp0(xmpp_stanza_get_type(reply), "result") != 0) {
        if (reply) {
            g_autofree char *text = cw_stanza_to_string(reply);
            g_warning("roster: privileged roster push to %s failed (%s)", r->user_jid, text);
            log_fallback_once(gw, "the server refused a privileged roster push");
        }
        if (reply)
            subscribe_fallback(gw, r);
    }
    push_request_free(r);
}

static void
push(CwGateway *gw, PushRequest *r)
{
    if (!cw_roster_can_push(gw)) {
        log_fallback_once(gw, "the server granted no XEP-0356 roster permission");
        subscribe_fallback(gw, r);
        push_request_free(r);
        return;
    }
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autoptr(xmpp_stanza_t) iq = cw_iq_new(ctx, "set", cw_gateway_domain(gw), r->user_jid);
    xmpp_stanza_t *query = cw_stanza_add_child(iq, cw_stanza_new(ctx, "query", NS_ROSTER));
    xmpp_stanza_t *item = cw_stanza_add_child(query, cw_stanza_new(ctx, "item", NULL));
    xmpp_stanza_set_attribute(item, "jid", r->contact_jid);
    if (r->remove) {
        xmpp_stanza_set_attribute(item, "subscription", "remove");
    } else {
        xmpp_stanza_set_attribute(item, "subscription", "both");
        if (r->name)
            xmpp_stanza_set_attribute(item, "name", r->name);
        cw_stanza_add_text_child(item, "group", NULL, r->group ? r->group : cw_gateway_domain(gw));
    }
    cw_gateway_send_iq(gw, iq, on_push_reply, r);
}

void
cw_roster_add(CwGateway *gw, const char *user_jid, const char *contact_jid, const char *name,
              const char *group)
{
    PushRequest *r = g_new0(PushRequest, 1);
    r->user_jid = g_strdup(user_jid);
    r->contact_jid = g_strdup(contact_jid);
    r->name = g_strdup(name);
    r->group = g_strdup(group);
    push(gw, r);
}

void
cw_roster_remove(CwGateway *gw, const char *user_jid, const char *contact_jid)
{
    PushRequest *r = g_new0(PushRequest, 1);
    r->user_jid = g_strdup(user_jid);
    r->contact_jid = g_strdup(contact_jid);
    r->remove = TRUE;
    push(gw, r);
}

/* ---- reading a contact's group (XEP-0356 roster get) ---- */

typedef struct {
    char *contact_jid;
    CwRosterGroupCallback callback;
    gpointer data;
} GroupRead;

static void
on_roster_read(CwGateway *gw, xmpp_stanza_t *reply, gpointer data)
{
    GroupRead *r = data;
    g_autofree char *group = NULL;
    xmpp_stanza_t *query = reply && g_strcmp0(xmpp_stanza_get_type(reply), "result") == 0
                               ? xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_ROSTER)
                               : NULL;
    for (xmpp_stanza_t *it = query ? xmpp_stanza_get_children(query) : NULL; it && !group;
         it = xmpp_stanza_get_next(it)) {
        if (!xmpp_stanza_is_tag(it) || g_strcmp0(xmpp_stanza_get_name(it), "item") ||
            g_strcmp0(xmpp_stanza_get_attribute(it, "jid"), r->contact_jid))
            continue;
        group = cw_stanza_child_text(it, "group", NULL);
        break;
    }
    /* our own default group (the domain) is no choice of the user's */
    if (group && (!*group || !strcmp(group, cw_gateway_domain(gw))))
        g_clear_pointer(&group, g_free);
    r->callback(gw, group, r->data);
    g_free(r->contact_jid);
    g_free(r);
}

void
cw_roster_read_group(CwGateway *gw, const char *user_jid, const char *contact_jid,
                     CwRosterGroupCallback callback, gpointer data)
{
    if (gw->roster_perm != CW_ROSTER_PERM_GET && gw->roster_perm != CW_ROSTER_PERM_BOTH) {
        callback(gw, NULL, data);
        return;
    }
    GroupRead *r = g_new0(GroupRead, 1);
    r->contact_jid = g_strdup(contact_jid);
    r->callback = callback;
    r->data = data;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autoptr(xmpp_stanza_t) iq = cw_iq_new(ctx, "get", cw_gateway_domain(gw), user_jid);
    cw_stanza_add_child(iq, cw_stanza_new(ctx, "query", NS_ROSTER));
    cw_gateway_send_iq(gw, iq, on_roster_read, r);
}
