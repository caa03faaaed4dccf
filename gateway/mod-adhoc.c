/* mod-adhoc.c — XEP-0050 ad-hoc commands: Configure, Unregister; admin: Statistics, Reload
 * (and the admin commands of mod-adhoc-admin.c). */
#define G_LOG_DOMAIN "causeway"
#include <gio/gio.h>
#include <string.h>

#include <causeway/admin.h>

#include "account.h"
#include "adhoc.h"
#include "dataform.h"
#include "router.h"
#include "stanza.h"

typedef struct {
    char *owner; /* bare JID that started the session */
    const CwAdhocCommand *command;
    char *entity; /* legacy id, for commands on an entity's JID */
    char *node;   /* the command's node */
    gint64 started_us;
} Session;

/* A session left open (the client went away between the form and its
 * submission) ends after SESSION_TTL; a user holds at most
 * SESSIONS_PER_USER at once (starting one more ends their oldest). */
#define SESSION_TTL_US (10 * 60 * G_USEC_PER_SEC)
#define SESSIONS_PER_USER 8

static void
session_free(gpointer p)
{
    Session *s = p;
    g_free(s->owner);
    g_free(s->entity);
    g_free(s->node);
    g_free(s);
}

/* Drop expired sessions, and owner's oldest while owner holds too many. */
static void
prune_sessions(GHashTable *sessions, const char *owner)
{
    gint64 now = g_get_monotonic_time();
    for (;;) {
        GHashTableIter it;
        gpointer key, value;
        const char *oldest = NULL;
        gint64 oldest_us = G_MAXINT64;
        guint owned = 0;
        g_hash_table_iter_init(&it, sessions);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            Session *s = value;
            if (now - s->started_us > SESSION_TTL_US) {
                g_hash_table_iter_remove(&it);
                continue;
            }
            if (g_strcmp0(s->owner, owner) != 0)
                continue;
            owned++;
            if (s->started_us < oldest_us) {
                oldest_us = s->started_us;
                oldest = key;
            }
        }
        if (owned < SESSIONS_PER_USER || !oldest)
            return;
        g_hash_table_remove(sessions, oldest);
    }
}

/* ---- Configure an entity (e.g. an IRC server), on its own JID ---- */

static const CwFormSpec *
entity_spec(CwRequest *req, char **legacy, char **scope)
{
    CwGateway *gw = req->gw;
    if (!req->to_node || !gw->ops->entity_settings)
        return NULL;
    *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    return *legacy ? gw->ops->entity_settings(gw, *legacy, scope) : NULL;
}

static xmpp_stanza_t *
entity_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    g_autofree char *legacy = NULL, *scope = NULL;
    const CwFormSpec *spec = entity_spec(req, &legacy, &scope);
    g_autoptr(GHashTable) values = cw_store_values_get_all(req->gw->store, req->user->jid, scope, NULL);
    for (gsize i = 0; values && i < spec->n_fields; i++)
        if (cw_form_field_is_write_only(&spec->fields[i]))
            g_hash_table_remove(values, spec->fields[i].var);
    return cw_dataform_build(cw_gateway_ctx(req->gw), spec, "form", NULL, values);
}

static gboolean
entity_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                GError **error)
{
    CwGateway *gw = req->gw;
    g_autofree char *legacy = NULL, *scope = NULL;
    const CwFormSpec *spec = entity_spec(req, &legacy, &scope);
    /* Empty private fields keep their stored value. */
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        const char *v = g_hash_table_lookup(values, f->var);
        if (cw_form_field_is_write_only(f) && (!v || !*v))
            g_hash_table_remove(values, f->var);
    }
    if (!cw_form_validate(spec, values, error))
        return FALSE;
    if (!cw_limits_check_scope(&gw->config->limits, gw->store, req->user->jid, scope, error))
        return FALSE;
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        if (f->type == CW_FIELD_FIXED)
            continue;
        const char *v = g_hash_table_lookup(values, f->var);
        if (cw_form_field_keeps_stored(f) && !v)
            continue;
        if (!cw_store_value_set(gw->store, req->user->jid, scope, f->var, v,
                                cw_form_field_is_encrypted(f), error))
            return FALSE;
    }
    *note = g_strdup("Saved; the settings apply at the next connection.");
    return TRUE;
}

static const CwAdhocCommand entity_command;

/* ---- Configure ---- */

static const CwFormSpec *
configure_spec(CwGateway *gw)
{
    return gw->ops->settings_form ? gw->ops->settings_form : cw_gateway_registration_form(gw);
}

static xmpp_stanza_t *
configure_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    CwGateway *gw = req->gw;
    g_autoptr(GHashTable) values = NULL;
    if (gw->ops->settings_form)
        values = cw_store_values_get_all(gw->store, req->user->jid, "settings", NULL);
    else
        values = cw_account_values(req->user);
    return cw_dataform_build(cw_gateway_ctx(gw), configure_spec(gw), "form", NULL, values);
}

static gboolean
configure_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                   GError **error)
{
    CwGateway *gw = req->gw;
    if (!gw->ops->settings_form) {
        if (!cw_account_register(req->user, values, error))
            return FALSE;
    } else {
        const CwFormSpec *spec = gw->ops->settings_form;
        if (!cw_form_validate(spec, values, error))
            return FALSE;
        for (gsize i = 0; i < spec->n_fields; i++) {
            const CwFormField *f = &spec->fields[i];
            if (f->type == CW_FIELD_FIXED)
                continue;
            if (!cw_store_value_set(gw->store, req->user->jid, "settings", f->var,
                                    g_hash_table_lookup(values, f->var),
                                    cw_form_field_is_encrypted(f), error))
                return FALSE;
        }
    }
    *note = g_strdup("Your settings were saved.");
    return TRUE;
}

/* ---- Unregister ---- */

static const CwFormField confirm_fields[] = {
    { .var = "confirm", .label = "Remove my account and all its data from this gateway",
      .type = CW_FIELD_BOOLEAN, .required = TRUE, .default_value = "0" },
};
static const CwFormSpec confirm_spec = { "Unregister", "This cannot be undone.", confirm_fields,
                                         G_N_ELEMENTS(confirm_fields) };

static xmpp_stanza_t *
unregister_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    return cw_dataform_build(cw_gateway_ctx(req->gw), &confirm_spec, "form", NULL, NULL);
}

static gboolean
unregister_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                    GError **error)
{
    if (!cw_form_validate(&confirm_spec, values, error))
        return FALSE;
    if (g_strcmp0(g_hash_table_lookup(values, "confirm"), "1") != 0) {
        *note = g_strdup("Nothing was removed.");
        return TRUE;
    }
    if (!cw_account_unregister(req->user, error))
        return FALSE;
    *note = g_strdup("You are unregistered; your data is gone.");
    return TRUE;
}

/* ---- Statistics (admin) ---- */

static xmpp_stanza_t *
stats_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    CwGateway *gw = req->gw;
    guint online = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, gw->users);
    while (g_hash_table_iter_next(&it, NULL, &value))
        online += ((CwUser *)value)->online;
    g_autofree char *users = g_strdup_printf("%" G_GINT64_FORMAT, cw_store_user_count(gw->store));
    g_autofree char *on = g_strdup_printf("%u", online);
    g_autofree char *in = g_strdup_printf("%" G_GUINT64_FORMAT, cw_component_stanzas_in(gw->component));
    g_autofree char *out = g_strdup_printf("%" G_GUINT64_FORMAT, cw_component_stanzas_out(gw->component));
    g_autofree char *up = g_strdup_printf("%" G_GINT64_FORMAT,
                                          (g_get_monotonic_time() - gw->started_us) / G_USEC_PER_SEC);
    const char *vars[] = { "users", "online", "stanzas_in", "stanzas_out", "uptime", NULL };
    const char *labels[] = { "Registered users", "Users online", "Stanzas received",
                             "Stanzas sent", "Uptime (seconds)", NULL };
    const char *values[] = { users, on, in, out, up, NULL };
    *result = cw_dataform_result(cw_gateway_ctx(gw), "Statistics", vars, labels, values);
    cw_admin_log(req->from, NULL, "read the statistics of %s", cw_gateway_name(gw));
    return NULL;
}

/* ---- Reload (admin) ---- */

static xmpp_stanza_t *
reload_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    g_autoptr(GError) error = NULL;
    if (cw_gateway_reload(req->gw, &error)) {
        cw_admin_log(req->from, NULL, "reloaded the configuration");
        *note = g_strdup("Configuration reloaded: allowed domains and admins are in effect.");
    } else {
        cw_admin_log(req->from, NULL, "reload of the configuration failed: %s", error->message);
        *note = g_strdup_printf("Reload failed, the old configuration stays: %s", error->message);
    }
    return NULL;
}

static const CwAdhocCommand commands[] = {
    { "configure", "Configure", CW_ADHOC_REGISTERED, configure_execute, configure_complete },
    { "unregister", "Unregister", CW_ADHOC_REGISTERED, unregister_execute, unregister_complete },
    { "stats", "Statistics", CW_ADHOC_ADMIN, stats_execute, NULL },
    { "reload", "Reload configuration", CW_ADHOC_ADMIN, reload_execute, NULL },
};

static const CwAdhocCommand entity_command = { "configure", "Configure", CW_ADHOC_REGISTERED, entity_execute,
                                        entity_complete };

static const CwTransportCommand *find_transport_command(CwGateway *gw, const char *node);
static const CwAdhocCommand transport_command;

static const CwAdhocCommand *
find_command(CwGateway *gw, const char *node)
{
    for (gsize i = 0; node && i < G_N_ELEMENTS(commands); i++)
        if (strcmp(commands[i].node, node) == 0)
            return &commands[i];
    for (gsize i = 0; node && i < cw_adhoc_admin_n_commands; i++)
        if (strcmp(cw_adhoc_admin_commands[i].node, node) == 0)
            return &cw_adhoc_admin_commands[i];
    return find_transport_command(gw, node) ? &transport_command : NULL;
}

gboolean
cw_adhoc_is_command_node(CwGateway *gw, const char *node)
{
    return find_command(gw, node) != NULL;
}

static gboolean
allowed_who(CwGateway *gw, CwUser *user, CwAdhocWho who)
{
    if (who == CW_ADHOC_ADMIN)
        return cw_config_is_admin(gw->config, user->jid);
    return user->registered;
}

static CwAdhocWho
command_who(CwGateway *gw, const CwAdhocCommand *c, const char *node)
{
    if (c == &transport_command)
        return find_transport_command(gw, node)->admin_only ? CW_ADHOC_ADMIN : CW_ADHOC_REGISTERED;
    return c->who;
}

static gboolean
allowed(CwGateway *gw, CwUser *user, const CwAdhocCommand *c, const char *node)
{
    return allowed_who(gw, user, command_who(gw, c, node));
}

static void
add_item(xmpp_stanza_t *q, CwGateway *gw, const char *node, const char *name)
{
    xmpp_stanza_t *item =
        cw_stanza_add_child(q, cw_stanza_new(xmpp_stanza_get_context(q), "item", NULL));
    xmpp_stanza_set_attribute(item, "jid", cw_gateway_domain(gw));
    xmpp_stanza_set_attribute(item, "node", node);
    xmpp_stanza_set_attribute(item, "name", name);
}

xmpp_stanza_t *
cw_adhoc_items(CwRequest *req)
{
    CwGateway *gw = req->gw;
    CwUser *user = req->user;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    xmpp_stanza_t *q = cw_stanza_new(ctx, "query", "http://jabber.org/protocol/disco#items");
    xmpp_stanza_set_attribute(q, "node", CW_NS_COMMANDS);
    if (req->to_node) {
        g_autofree char *legacy = NULL, *scope = NULL;
        if (entity_spec(req, &legacy, &scope)) {
            g_autofree char *bare = g_strdup_printf("%s@%s", req->to_node, cw_gateway_domain(gw));
            xmpp_stanza_t *item = cw_stanza_add_child(q, cw_stanza_new(ctx, "item", NULL));
            xmpp_stanza_set_attribute(item, "jid", bare);
            xmpp_stanza_set_attribute(item, "node", entity_command.node);
            xmpp_stanza_set_attribute(item, "name", "Configure server");
        }
        return q;
    }
    for (gsize i = 0; user && i < G_N_ELEMENTS(commands); i++)
        if (allowed(gw, user, &commands[i], commands[i].node))
            add_item(q, gw, commands[i].node, commands[i].name);
    for (gsize i = 0; user && i < cw_adhoc_admin_n_commands; i++) {
        const CwAdhocCommand *c = &cw_adhoc_admin_commands[i];
        if (allowed(gw, user, c, c->node))
            add_item(q, gw, c->node, c->name);
    }
    for (const CwTransportCommand *const *c = gw->ops->commands; user && c && *c; c++)
        if (allowed_who(gw, user, (*c)->admin_only ? CW_ADHOC_ADMIN : CW_ADHOC_REGISTERED))
            add_item(q, gw, (*c)->node, (*c)->name);
    return q;
}

/* ---- the transport's own commands ---- */

static const CwTransportCommand *
find_transport_command(CwGateway *gw, const char *node)
{
    for (const CwTransportCommand *const *c = gw->ops->commands; node && c && *c; c++)
        if (strcmp((*c)->node, node) == 0)
            return *c;
    return NULL;
}

static const CwTransportCommand *
request_transport_command(CwRequest *req)
{
    return find_transport_command(req->gw, xmpp_stanza_get_attribute(req->payload, "node"));
}

static xmpp_stanza_t *
transport_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    const CwTransportCommand *tc = request_transport_command(req);
    g_autoptr(GHashTable) values = NULL;
    const CwFormSpec *spec = tc->form(req->user, &values, note);
    if (!spec)
        return NULL;
    if (!tc->complete) { /* a form with nothing to submit: show it as a result */
        *result = cw_dataform_build(cw_gateway_ctx(req->gw), spec, "result", NULL, values);
        return NULL;
    }
    return cw_dataform_build(cw_gateway_ctx(req->gw), spec, "form", NULL, values);
}

static gboolean
transport_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                   GError **error)
{
    return request_transport_command(req)->complete(req->user, values, note, error);
}

/* Stands for every transport command; the node says which. */
static const CwAdhocCommand transport_command = { "(transport)", NULL, CW_ADHOC_REGISTERED, transport_execute,
                                           transport_complete };

/* ---- the protocol ---- */

static xmpp_stanza_t *
command_reply(CwRequest *req, const char *node, const char *sessionid, const char *status)
{
    xmpp_stanza_t *c = cw_stanza_new(cw_gateway_ctx(req->gw), "command", CW_NS_COMMANDS);
    xmpp_stanza_set_attribute(c, "node", node);
    if (sessionid)
        xmpp_stanza_set_attribute(c, "sessionid", sessionid);
    xmpp_stanza_set_attribute(c, "status", status);
    return c;
}

static void
add_note(xmpp_stanza_t *command, const char *type, const char *text)
{
    if (!text)
        return;
    xmpp_stanza_t *n = cw_stanza_add_text_child(command, "note", NULL, text);
    xmpp_stanza_set_attribute(n, "type", type);
}

static void
command_set(CwRequest *req)
{
    CwGateway *gw = req->gw;
    const char *node = xmpp_stanza_get_attribute(req->payload, "node");
    const char *action = xmpp_stanza_get_attribute(req->payload, "action");
    const char *sessionid = xmpp_stanza_get_attribute(req->payload, "sessionid");
    const CwAdhocCommand *cmd = find_command(gw, node);
    if (req->to_node) {
        g_autofree char *legacy = NULL, *scope = NULL;
        cmd = g_strcmp0(node, entity_command.node) == 0 && entity_spec(req, &legacy, &scope)
                  ? &entity_command : NULL;
    }
    if (!cmd) {
        cw_request_error(req, "item-not-found", "No such command.");
        return;
    }
    if (cmd == &entity_command && !req->user->registered) {
        /* Settings are kept with a registration; storing them would register
         * the user behind their back (and let anyone fill the store). */
        cw_request_error(req, "registration-required",
                         "Register with the gateway first: your settings are kept with your registration.");
        return;
    }
    gboolean admin_command = command_who(gw, cmd, node) == CW_ADHOC_ADMIN;
    if (!allowed(gw, req->user, cmd, node)) {
        if (admin_command) /* an attempt on the admin commands is worth an audit line */
            cw_admin_log(req->from, NULL, "refused %s: not an administrator of %s", node,
                         cw_gateway_name(gw));
        cw_request_error(req, "forbidden", admin_command
                                               ? "This command is for the gateway's administrators."
                                               : "Register with the gateway first.");
        return;
    }
    if (!gw->adhoc_sessions)
        gw->adhoc_sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_free);

    if (!sessionid) {
        if (action && strcmp(action, "execute") != 0) {
            cw_request_error(req, "bad-request", "Start a command with action 'execute'.");
            return;
        }
        char *note = NULL;
        xmpp_stanza_t *result = NULL;
        xmpp_stanza_t *form = cmd->execute(req, &note, &result);
        if (!form) {
            if (admin_command && cmd == &transport_command)
                cw_admin_log(req->from, NULL, "ran %s on %s", node, cw_gateway_name(gw));
            xmpp_stanza_t *c = command_reply(req, node, NULL, "completed");
            add_note(c, "info", note);
            if (result)
                cw_stanza_add_child(c, result);
            g_free(note);
            cw_request_result(req, c);
            return;
        }
        prune_sessions(gw->adhoc_sessions, req->user->jid);
        g_autofree char *sid = g_uuid_string_random();
        Session *s = g_new0(Session, 1);
        s->started_us = g_get_monotonic_time();
        s->owner = g_strdup(req->user->jid);
        s->command = cmd;
        s->entity = g_strdup(req->to_node);
        s->node = g_strdup(node);
        g_hash_table_replace(gw->adhoc_sessions, g_strdup(sid), s);
        if (result) /* a form and a result at once: the form wins */
            xmpp_stanza_release(result);
        xmpp_stanza_t *c = command_reply(req, node, sid, "executing");
        xmpp_stanza_t *actions = cw_stanza_add_child(c, cw_stanza_new(cw_gateway_ctx(gw), "actions", NULL));
        xmpp_stanza_set_attribute(actions, "execute", "complete");
        cw_stanza_add_child(actions, cw_stanza_new(cw_gateway_ctx(gw), "complete", NULL));
        cw_stanza_add_child(c, form);
        g_free(note);
        cw_request_result(req, c);
        return;
    }

    prune_sessions(gw->adhoc_sessions, NULL);
    Session *s = g_hash_table_lookup(gw->adhoc_sessions, sessionid);
    if (!s || s->command != cmd || g_strcmp0(s->node, node) != 0) {
        cw_request_error(req, "bad-request", "Unknown or expired session.");
        return;
    }
    if (g_strcmp0(s->owner, req->user->jid) != 0 || g_strcmp0(s->entity, req->to_node) != 0) {
        /* Somebody else's session: never let one user act in another's. */
        cw_request_error(req, "forbidden", "This session belongs to somebody else.");
        return;
    }
    if (g_strcmp0(action, "cancel") == 0) {
        g_hash_table_remove(gw->adhoc_sessions, sessionid);
        cw_request_result(req, command_reply(req, node, sessionid, "canceled"));
        return;
    }
    xmpp_stanza_t *x = cw_dataform_find(req->payload);
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) values = x ? cw_dataform_parse_submit(x, NULL, &error) : NULL;
    if (!values) {
        cw_request_error(req, "bad-request", error ? error->message : "Submit the form.");
        return;
    }
    char *note = NULL;
    xmpp_stanza_t *result = NULL;
    if (!cmd->complete(req, values, &note, &result, &error)) {
        g_free(note);
        if (result)
            xmpp_stanza_release(result);
        if (admin_command && cmd == &transport_command)
            cw_admin_log(req->from, NULL, "%s failed: %s", node, error->message);
        cw_request_error(req, cw_error_condition_for(error), error->message);
        return; /* the session stays open for a corrected submission */
    }
    /* The core's admin commands log their own audit records, with the
     * target; a transport's get this one besides whatever it logs. */
    if (admin_command && cmd == &transport_command)
        cw_admin_log(req->from, NULL, "ran %s on %s", node, cw_gateway_name(gw));
    g_hash_table_remove(gw->adhoc_sessions, sessionid);
    xmpp_stanza_t *c = command_reply(req, node, sessionid, "completed");
    add_note(c, "info", note);
    if (result)
        cw_stanza_add_child(c, result);
    g_free(note);
    cw_request_result(req, c);
}

static const char *const features[] = { CW_NS_COMMANDS, NULL };
static const CwHandler handlers[] = { { "iq", "set", CW_NS_COMMANDS, command_set }, { 0 } };
const CwModule cw_mod_adhoc = { "adhoc", features, handlers };
