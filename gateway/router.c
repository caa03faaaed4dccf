/* router.c — dispatch table (stanza, type, namespace) -> module handler, with the fallbacks. */
#define G_LOG_DOMAIN "causeway"
#include "router.h"

#include "admin.h"

#include <causeway/jid.h>
#include <string.h>

#include "resume.h"
#include "stanza.h"

extern const CwModule cw_mod_disco, cw_mod_ping, cw_mod_version, cw_mod_register,
    cw_mod_gateway, cw_mod_adhoc, cw_mod_presence, cw_mod_message, cw_mod_vcard,
    cw_mod_muc_admin;

const CwModule *const cw_modules[] = {
    &cw_mod_disco,    &cw_mod_ping,     &cw_mod_version, &cw_mod_register, &cw_mod_gateway,
    &cw_mod_adhoc,    &cw_mod_presence, &cw_mod_message, &cw_mod_vcard, &cw_mod_muc_admin, NULL,
};

static GHashTable *table; /* "stanza/type/ns" -> CwHandlerFunc */

static char *
handler_key(const char *stanza, const char *type, const char *ns)
{
    return g_strdup_printf("%s/%s/%s", stanza, type, ns ? ns : "");
}

void
cw_router_init(void)
{
    if (table)
        return;
    table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (const CwModule *const *m = cw_modules; *m; m++)
        for (const CwHandler *h = (*m)->handlers; h && h->handler; h++) {
            char *key = handler_key(h->stanza, h->type, h->ns);
            if (g_hash_table_contains(table, key))
                g_error("router: two handlers for %s (module %s)", key, (*m)->name);
            g_hash_table_insert(table, key, (gpointer)h->handler);
        }
}

void
cw_router_deinit(void)
{
    g_clear_pointer(&table, g_hash_table_unref);
}

void
cw_request_error(CwRequest *req, const char *condition, const char *text)
{
    g_autoptr(xmpp_stanza_t) reply = cw_reply_error(req->stanza, condition, text);
    if (reply)
        cw_gateway_send(req->gw, reply);
}

void
cw_request_result(CwRequest *req, xmpp_stanza_t *payload)
{
    g_autoptr(xmpp_stanza_t) reply = cw_iq_result(req->stanza);
    if (payload)
        cw_stanza_add_child(reply, payload);
    cw_gateway_send(req->gw, reply);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
cw_router_features(CwGateway *gw)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (const CwModule *const *m = cw_modules; *m; m++)
        for (const char *const *f = (*m)->features; f && *f; f++)
            g_hash_table_add(seen, (gpointer)*f);
    for (const char *const *f = gw->ops->features; f && *f; f++)
        g_hash_table_add(seen, (gpointer)*f);
    for (const char *const *f = gw->ops->withheld_features; f && *f; f++)
        g_hash_table_remove(seen, *f);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(out, key);
    g_hash_table_unref(seen);
    g_ptr_array_sort(out, compare_strings);
    return out;
}

/* An error about the 'to' address itself: sent from our own domain, not from
 * the address we do not serve (a server closes a component's stream when it
 * sends from another domain: Prosody's validate_from_addresses). */
static void
address_error(CwRequest *req, const char *condition, const char *text)
{
    g_autoptr(xmpp_stanza_t) reply = cw_reply_error(req->stanza, condition, text);
    if (!reply)
        return;
    xmpp_stanza_set_from(reply, cw_gateway_domain(req->gw));
    cw_gateway_send(req->gw, reply);
}

static void
request_clear(CwRequest *req)
{
    g_free(req->from_bare);
    g_free(req->from_resource);
    g_free(req->to_node);
    g_free(req->to_resource);
}

/* Stanzas from the component's own XMPP server (from = its bare domain),
 * e.g. the XEP-0356 grant. Any other bare domain is another component of
 * the same server or a remote server over s2s: no user, and no server of ours. */
static gboolean
is_server_stanza(CwGateway *gw, const char *from_node, const char *from_domain,
                 const char *from_resource)
{
    return from_node == NULL && from_resource == NULL &&
           g_strcmp0(from_domain, gw->tconf->server_domain) == 0;
}

static void
dispatch_to_handler(CwRequest *req, gboolean is_iq)
{
    const char *ns = req->payload ? xmpp_stanza_get_ns(req->payload) : NULL;
    g_autofree char *key = is_iq ? handler_key("iq", req->type, ns) : handler_key(req->name, "*", NULL);
    CwHandlerFunc fn = g_hash_table_lookup(table, key);
    if (!fn) {
        if (is_iq)
            cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    /* A registration deleted from the shell ends here, before the stanza
     * is served as a registered user's (admin.h). */
    cw_admin_watch_check(req->gw);
    req->user = cw_gateway_user(req->gw, req->from_bare);
    if (!strcmp(req->name, "message") && req->from_resource &&
        g_strcmp0(req->user->last_from, req->from) != 0) {
        g_free(req->user->last_from);
        req->user->last_from = g_strdup(req->from);
    }
    fn(req);
    cw_gateway_forget_user(req->gw, req->user);
}

void
cw_router_dispatch(CwGateway *gw, xmpp_stanza_t *stanza)
{
    CwRequest req = { .gw = gw, .stanza = stanza };
    req.name = xmpp_stanza_get_name(stanza);
    req.type = xmpp_stanza_get_type(stanza);
    if (!req.type)
        req.type = "";
    req.from = xmpp_stanza_get_from(stanza);
    req.to = xmpp_stanza_get_to(stanza);
    gboolean is_iq = g_strcmp0(req.name, "iq") == 0;
    gboolean answerable = strcmp(req.type, "error") != 0 && strcmp(req.type, "result") != 0;

    if (!req.name || (!is_iq && strcmp(req.name, "message") && strcmp(req.name, "presence"))) {
        g_debug("router: ignoring <%s/>", req.name ? req.name : "?");
        return;
    }
    g_autofree char *from_node = NULL, *from_domain = NULL;
    g_autofree char *to_domain = NULL;
    if (!req.from || !cw_jid_split(req.from, &from_node, &from_domain, &req.from_resource)) {
        g_debug("router: dropping <%s/> with a missing or malformed 'from'", req.name);
        goto out;
    }
    req.from_bare = cw_jid_make(from_node, from_domain, NULL);
    if (!req.to || !cw_jid_split(req.to, &req.to_node, &to_domain, &req.to_resource)) {
        if (answerable)
            address_error(&req, "jid-malformed", "The 'to' address is not a valid JID.");
        goto out;
    }
    if (strcmp(to_domain, cw_gateway_domain(gw)) != 0) {
        if (answerable)
            address_error(&req, "item-not-found", "This component does not serve that domain.");
        goto out;
    }

    if (req.from_resource && strcmp(req.type, "error") != 0 && g_hash_table_size(gw->unconfirmed) > 0) {
        /* Any stanza shows the resource is there (resume.h), answers
         * included; not an error, which the server sends for a resource
         * that is gone. */
        CwUser *sender = cw_gateway_lookup_user(gw, req.from_bare);
        if (sender)
            cw_resume_confirm(sender, req.from_resource);
    }

    if (is_iq && !answerable) {
        if (!cw_gateway_complete_iq(gw, stanza))
            g_debug("router: iq %s with unknown id from %s", req.type, req.from);
        goto out;
    }

    req.from_server = is_server_stanza(gw, from_node, from_domain, req.from_resource);
    if (!req.from_server && !cw_config_domain_allowed(gw->config, from_domain)) {
        if (answerable)
            cw_request_error(&req, "forbidden",
                             "Users of your server are not allowed to use this gateway.");
        goto out;
    }
    /* A sender without a localpart (a server, a component) is nobody's
     * account: it may ask the gateway itself what it is (disco, ping,
     * version: iq get to the bare domain), and our own server may send its
     * grants (message), nothing else: no registration, no sessions, no
     * legacy connections (a disco#items on an IRC server's JID would LIST). */
    gboolean info_query = is_iq && strcmp(req.type, "get") == 0 && !req.to_node && !req.to_resource;
    if (!from_node && !info_query && !(req.from_server && strcmp(req.name, "message") == 0)) {
        if (answerable && strcmp(req.name, "presence") != 0)
            cw_request_error(&req, "forbidden", "Only user accounts can use this gateway.");
        goto out;
    }

    if (is_iq) {
        req.payload = cw_stanza_first_element(stanza);
        if (strcmp(req.type, "get") && strcmp(req.type, "set")) {
            cw_request_error(&req, "bad-request", "An iq must be of type get, set, result or error.");
            goto out;
        }
        if (!req.payload || !xmpp_stanza_get_id(stanza)) {
            cw_request_error(&req, "bad-request", "An iq get/set needs an id and one child element.");
            goto out;
        }
    }

    dispatch_to_handler(&req, is_iq);
out:
    request_clear(&req);
}
