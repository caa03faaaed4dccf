/* mod-adhoc-admin.c — the administrators' ad-hoc commands (XEP-0050, in the
 * spirit of XEP-0133): List users, Show user, Delete user, Disconnect a user,
 * Announce to all online users. Each one is logged with who ran it. */
#define G_LOG_DOMAIN "causeway"
#include <gio/gio.h>
#include <string.h>

#include "account.h"
#include "adhoc.h"
#include "admin.h"
#include "dataform.h"
#include "stanza.h"

/* At most this many JIDs in a List users result (the count is always whole). */
#define LIST_MAX_JIDS 1000

static const char *
actor(CwRequest *req)
{
    return req->from;
}

/* <field var type label> with one <value/> per line of text (NULL: none). */
static void
add_field(xmpp_stanza_t *x, const char *var, const char *type, const char *label,
          const char *const *values, gsize n)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(x);
    xmpp_stanza_t *f = cw_stanza_add_child(x, cw_stanza_new(ctx, "field", NULL));
    xmpp_stanza_set_attribute(f, "var", var);
    xmpp_stanza_set_attribute(f, "type", type);
    xmpp_stanza_set_attribute(f, "label", label);
    for (gsize i = 0; i < n; i++)
        cw_stanza_add_text_child(f, "value", NULL, values[i]);
}

static xmpp_stanza_t *
result_form(CwGateway *gw, const char *title)
{
    xmpp_stanza_t *x = cw_stanza_new(cw_gateway_ctx(gw), "x", CW_NS_DATA);
    xmpp_stanza_set_type(x, "result");
    cw_stanza_add_text_child(x, "title", NULL, title);
    return x;
}

/* The account JID of a submitted form, normalised, or NULL + error. */
static char *
submitted_jid(GHashTable *values, const CwFormSpec *spec, GError **error)
{
    if (!cw_form_validate(spec, values, error))
        return NULL;
    char *jid = cw_admin_normalize_jid(g_hash_table_lookup(values, "accountjid"));
    if (!jid)
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "Give the user's bare JID (user@domain).");
    return jid;
}

static const CwFormField jid_fields[] = {
    { .var = "accountjid", .label = "The user's bare JID", .type = CW_FIELD_JID_SINGLE,
      .required = TRUE },
};
static const CwFormSpec show_spec = { "Show user", "Whose registration to show?", jid_fields,
                                      G_N_ELEMENTS(jid_fields) };
static const CwFormSpec delete_spec = {
    "Delete user", "Delete the user's registration and all their data on this gateway (as "
                   "unregistering does). This cannot be undone.",
    jid_fields, G_N_ELEMENTS(jid_fields)
};
static const CwFormSpec disconnect_spec = {
    "Disconnect a user", "End the user's legacy sessions; their registration stays. They come "
                         "back with their next presence.",
    jid_fields, G_N_ELEMENTS(jid_fields)
};
static const CwFormField announce_fields[] = {
    { .var = "body", .label = "Announcement", .type = CW_FIELD_TEXT_MULTI, .required = TRUE },
};
static const CwFormSpec announce_spec = { "Announce to all online users",
                                          "Sent from the gateway to every online user's clients.",
                                          announce_fields, G_N_ELEMENTS(announce_fields) };

static xmpp_stanza_t *
form_of(CwRequest *req, const CwFormSpec *spec)
{
    return cw_dataform_build(cw_gateway_ctx(req->gw), spec, "form", NULL, NULL);
}

/* ---- List users ---- */

static xmpp_stanza_t *
list_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    CwGateway *gw = req->gw;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) jids = cw_store_user_list(gw->store, &error);
    if (!jids) {
        cw_admin_log(actor(req), NULL, "list users of %s: failed: %s", cw_gateway_name(gw),
                     error->message);
        *note = g_strdup_printf("Reading the users failed: %s", error->message);
        return NULL;
    }
    g_autoptr(GPtrArray) online = g_ptr_array_new();
    for (guint i = 0; i < jids->len; i++) {
        CwUser *u = cw_gateway_lookup_user(gw, jids->pdata[i]);
        if (u && u->online)
            g_ptr_array_add(online, jids->pdata[i]);
    }
    g_autofree char *n = g_strdup_printf("%u", jids->len);
    g_autofree char *n_online = g_strdup_printf("%u", online->len);
    xmpp_stanza_t *x = result_form(gw, "Registered users");
    const char *const n_values[] = { n };
    const char *const online_values[] = { n_online };
    add_field(x, "registeredusersnum", "text-single", "Registered users", n_values, 1);
    add_field(x, "registereduserjids", "jid-multi", "Registered users' JIDs",
              (const char *const *)jids->pdata, MIN(jids->len, LIST_MAX_JIDS));
    add_field(x, "onlineusersnum", "text-single", "Online users", online_values, 1);
    add_field(x, "onlineuserjids", "jid-multi", "Online users' JIDs",
              (const char *const *)online->pdata, MIN(online->len, LIST_MAX_JIDS));
    *result = x;
    if (jids->len > LIST_MAX_JIDS)
        *note = g_strdup_printf("%u users; the first %u are listed (causeway --list-users lists "
                                "all).", jids->len, LIST_MAX_JIDS);
    cw_admin_log(actor(req), NULL, "listed the users of %s (%u registered, %u online)",
                 cw_gateway_name(gw), jids->len, online->len);
    return NULL;
}

/* ---- Show user ---- */

static xmpp_stanza_t *
show_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    return form_of(req, &show_spec);
}

static gboolean
show_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
              GError **error)
{
    CwGateway *gw = req->gw;
    g_autofree char *jid = submitted_jid(values, &show_spec, error);
    if (!jid)
        return FALSE;
    g_autofree char *prefix = cw_admin_file_prefix(gw);
    g_autoptr(CwAdminReport) report = cw_admin_report_new();
    CwAdminStatus st =
        cw_admin_user_report(gw->store, cw_gateway_name(gw), gw->ops, prefix, jid, report, error);
    if (st == CW_ADMIN_ERROR) {
        cw_admin_log(actor(req), jid, "show %s: failed: %s", jid, (*error)->message);
        return FALSE;
    }
    cw_admin_log(actor(req), jid, "showed %s%s", jid,
                 st == CW_ADMIN_NOT_FOUND ? ": not registered" : "");
    if (st == CW_ADMIN_NOT_FOUND) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "%s is not registered on this gateway.", jid);
        return FALSE;
    }
    CwUser *user = cw_gateway_lookup_user(gw, jid);
    cw_admin_report_add(report, "online", "%s", user && user->online ? "yes" : "no");
    cw_admin_report_add(report, "resources", "%u", user ? g_hash_table_size(user->resources) : 0);
    g_autofree char *text = cw_admin_report_format(report);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    xmpp_stanza_t *x = result_form(gw, "User");
    add_field(x, "report", "text-multi", "Registration", (const char *const *)lines,
              g_strv_length(lines) - 1 /* the empty string after the last \n */);
    *result = x;
    return TRUE;
}

/* ---- Delete user ---- */

static xmpp_stanza_t *
delete_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    return form_of(req, &delete_spec);
}

static gboolean
delete_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                GError **error)
{
    CwGateway *gw = req->gw;
    g_autofree char *jid = submitted_jid(values, &delete_spec, error);
    if (!jid)
        return FALSE;
    g_autoptr(CwStoreUserInfo) info = cw_store_user_info(gw->store, jid, error);
    if (!info) {
        if (error && *error) {
            cw_admin_log(actor(req), jid, "delete %s: failed: %s", jid, (*error)->message);
            return FALSE;
        }
        cw_admin_log(actor(req), jid, "delete %s: not registered", jid);
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "%s is not registered on this gateway.", jid);
        return FALSE;
    }
    /* What the transport holds besides (e.g. an SMS number), to report it. */
    g_autofree char *prefix = cw_admin_file_prefix(gw);
    g_autoptr(CwAdminReport) extra = cw_admin_report_new();
    if (gw->ops->admin_user_info)
        gw->ops->admin_user_info(prefix, jid, extra, NULL);
    CwUser *user = cw_gateway_user(gw, jid);
    if (!cw_account_unregister(user, error)) {
        cw_admin_log(actor(req), jid, "delete %s: failed: %s", jid, (*error)->message);
        return FALSE;
    }
    /* An administrator deleting their own registration: the router forgets
     * req->user after this handler; doing it here would free it under it. */
    if (user != req->user)
        cw_gateway_forget_user(gw, user);
    g_autoptr(CwAdminReport) report = cw_admin_report_new();
    cw_admin_report_add(report, "transport", "%s", cw_gateway_name(gw));
    cw_admin_report_add(report, "deleted", "%s", jid);
    cw_admin_report_removed(report, info);
    const char *number = cw_admin_report_lookup(extra, "sms_number");
    if (number)
        cw_admin_report_add(report, "sms_number_released", "%s", number);
    cw_admin_log(actor(req), jid,
                 "deleted %s from %s (%" G_GINT64_FORMAT " contacts, %" G_GINT64_FORMAT
                 " rooms, %" G_GINT64_FORMAT " values)",
                 jid, cw_gateway_name(gw), info->contacts, info->rooms, info->values);
    *note = cw_admin_report_format(report);
    return TRUE;
}

/* ---- Disconnect a user ---- */

static xmpp_stanza_t *
disconnect_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    return form_of(req, &disconnect_spec);
}

static gboolean
disconnect_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                    GError **error)
{
    g_autofree char *jid = submitted_jid(values, &disconnect_spec, error);
    if (!jid)
        return FALSE;
    CwUser *user = cw_gateway_lookup_user(req->gw, jid);
    if (!user || !cw_admin_disconnect(user, "Disconnected by the gateway's administrator")) {
        cw_admin_log(actor(req), jid, "disconnect %s: no session", jid);
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "%s has no session on this gateway.", jid);
        return FALSE;
    }
    cw_admin_log(actor(req), jid, "disconnected %s", jid);
    *note = g_strdup_printf("%s is disconnected; they log in again with their next presence.", jid);
    return TRUE;
}

/* ---- Announce ---- */

static xmpp_stanza_t *
announce_execute(CwRequest *req, char **note, xmpp_stanza_t **result)
{
    return form_of(req, &announce_spec);
}

static gboolean
announce_complete(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                  GError **error)
{
    if (!cw_form_validate(&announce_spec, values, error))
        return FALSE;
    const char *body = g_hash_table_lookup(values, "body");
    if (!body || !*g_strstrip((char *)body)) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "The announcement is empty.");
        return FALSE;
    }
    guint users = 0;
    guint sent = cw_admin_announce(req->gw, body, &users);
    /* The text itself is not logged (message bodies stay out of the log). */
    cw_admin_log(actor(req), NULL, "announced %zu bytes to %u resources of %u online users",
                 strlen(body), sent, users);
    *note = g_strdup_printf("Sent to %u resources of %u online users.", sent, users);
    return TRUE;
}

const CwAdhocCommand cw_adhoc_admin_commands[] = {
    { "admin-list-users", "List users", CW_ADHOC_ADMIN, list_execute, NULL },
    { "admin-show-user", "Show user", CW_ADHOC_ADMIN, show_execute, show_complete },
    { "admin-delete-user", "Delete user", CW_ADHOC_ADMIN, delete_execute, delete_complete },
    { "admin-disconnect-user", "Disconnect a user", CW_ADHOC_ADMIN, disconnect_execute,
      disconnect_complete },
    { "admin-announce", "Announce to all online users", CW_ADHOC_ADMIN, announce_execute,
      announce_complete },
};
const gsize cw_adhoc_admin_n_commands = G_N_ELEMENTS(cw_adhoc_admin_commands);
