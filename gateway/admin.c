/* admin.c — administration of users: reports for the shell and ad-hoc commands,
 * disconnect and announce, and noticing deletions made by another process. */
#define G_LOG_DOMAIN "causeway"
#include "admin.h"

#include <causeway/jid.h>
#include <string.h>

#include "account.h"
#include "muc.h"
#include "safetext.h"
#include "stanza.h"

/* ---- reports ---- */

char *
cw_admin_normalize_jid(const char *jid)
{
    if (!jid || !cw_jid_is_valid(jid) || strchr(jid, '/') || !strchr(jid, '@'))
        return NULL;
    return g_utf8_strdown(jid, -1);
}

static char *
iso_time(gint64 unix_seconds)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_seconds);
    return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("-");
}

CwAdminStatus
cw_admin_user_report(CwStore *store, const char *transport, const CwTransportOps *ops,
                     const char *file_prefix, const char *jid, CwAdminReport *report,
                     GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(CwStoreUserInfo) info = cw_store_user_info(store, jid, &local);
    if (!info) {
        if (!local)
            return CW_ADMIN_NOT_FOUND;
        g_propagate_error(error, g_steal_pointer(&local));
        return CW_ADMIN_ERROR;
    }
    g_autoptr(GPtrArray) settings = cw_store_user_settings(store, jid, error);
    if (!settings)
        return CW_ADMIN_ERROR;
    g_autofree char *registered = iso_time(info->registered);
    cw_admin_report_add(report, "transport", "%s", transport);
    cw_admin_report_add(report, "jid", "%s", info->jid);
    cw_admin_report_add(report, "registered", "%s", registered);
    cw_admin_report_add(report, "values", "%" G_GINT64_FORMAT, info->values);
    cw_admin_report_add(report, "secrets", "%" G_GINT64_FORMAT, info->secrets);
    cw_admin_report_add(report, "contacts", "%" G_GINT64_FORMAT, info->contacts);
    cw_admin_report_add(report, "rooms", "%" G_GINT64_FORMAT, info->rooms);
    cw_admin_report_add(report, "room_resources", "%" G_GINT64_FORMAT, info->room_resources);
    for (guint i = 0; i < settings->len; i++) {
        CwStoreSetting *s = settings->pdata[i];
        const char *value = s->secret ? "(secret)" : s->value ? s->value : "";
        if (!*s->scope)
            cw_admin_report_add(report, "field", "%s=%s", s->key, value);
        else
            cw_admin_report_add(report, "setting", "%s %s=%s", s->scope, s->key, value);
    }
    if (ops && ops->admin_user_info && !ops->admin_user_info(file_prefix, jid, report, error))
        return CW_ADMIN_ERROR;
    return CW_ADMIN_OK;
}

void
cw_admin_user_record(GString *out, const char *transport, const CwStoreUserInfo *info)
{
    g_autofree char *registered = iso_time(info->registered);
    g_autofree char *contacts = g_strdup_printf("%" G_GINT64_FORMAT, info->contacts);
    g_autofree char *rooms = g_strdup_printf("%" G_GINT64_FORMAT, info->rooms);
    const char *fields[] = { transport, info->jid, registered, contacts, rooms };
    cw_admin_append_record(out, fields, G_N_ELEMENTS(fields));
}

void
cw_admin_report_removed(CwAdminReport *report, const CwStoreUserInfo *removed)
{
    cw_admin_report_add(report, "values_removed", "%" G_GINT64_FORMAT, removed->values);
    cw_admin_report_add(report, "secrets_removed", "%" G_GINT64_FORMAT, removed->secrets);
    cw_admin_report_add(report, "contacts_removed", "%" G_GINT64_FORMAT, removed->contacts);
    cw_admin_report_add(report, "rooms_removed", "%" G_GINT64_FORMAT, removed->rooms);
}

gboolean
cw_admin_stats_report(CwStore *store, const CwTransportOps *ops, const char *file_prefix,
                      CwAdminReport *report, GError **error)
{
    CwStoreStats stats;
    if (!cw_store_stats(store, &stats, error))
        return FALSE;
    cw_admin_report_add(report, "users", "%" G_GINT64_FORMAT, stats.users);
    cw_admin_report_add(report, "contacts", "%" G_GINT64_FORMAT, stats.contacts);
    cw_admin_report_add(report, "rooms", "%" G_GINT64_FORMAT, stats.rooms);
    cw_admin_report_add(report, "room_resources", "%" G_GINT64_FORMAT, stats.room_resources);
    return !ops || !ops->admin_stats || ops->admin_stats(file_prefix, report, error);
}

/* ---- watching the store ---- */

char *
cw_admin_file_prefix(CwGateway *gw)
{
    return g_build_filename(gw->config->data_dir, gw->tconf->name, NULL);
}

void
cw_admin_watch_check(CwGateway *gw)
{
    if (!gw->store || !cw_store_changed_elsewhere(gw->store))
        return;
    /* Someone else wrote: find our users whose registration is gone. Collect
     * first, since ending a session may change the table. */
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, gw->users);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwUser *user = value;
        if (user->registered && !cw_store_user_exists(gw->store, user->jid))
            g_ptr_array_add(gone, g_strdup(user->jid));
    }
    for (guint i = 0; i < gone->len; i++) {
        CwUser *user = cw_gateway_lookup_user(gw, gone->pdata[i]);
        if (user && user->registered)
            cw_account_removed_elsewhere(user);
    }
}

static gboolean
on_watch(gpointer data)
{
    cw_admin_watch_check(data);
    return G_SOURCE_CONTINUE;
}

void
cw_admin_watch_start(CwGateway *gw)
{
    g_return_if_fail(gw->admin_watch_id == 0);
    cw_store_changed_elsewhere(gw->store); /* the baseline */
    gw->admin_watch_id = g_timeout_add_seconds(CW_ADMIN_WATCH_SECONDS, on_watch, gw);
}

void
cw_admin_watch_stop(CwGateway *gw)
{
    g_clear_handle_id(&gw->admin_watch_id, g_source_remove);
}

/* ---- disconnect, announce ---- */

static void
send_presence(CwGateway *gw, const char *from, const char *to, const char *type,
              const char *status)
{
    g_autoptr(xmpp_stanza_t) p = cw_stanza_new(cw_gateway_ctx(gw), "presence", NULL);
    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_set_type(p, type);
    if (status)
        cw_stanza_add_text_child(p, "status", NULL, status);
    cw_gateway_send(gw, p);
}

gboolean
cw_admin_disconnect(CwUser *user, const char *reason)
{
    CwGateway *gw = user->gw;
    gboolean online = user->online;
    /* A user of rooms only (IRC needs no registration) has a session too. */
    if (!online && cw_muc_room_count(user) == 0)
        return FALSE;
    cw_muc_user_disconnected(user, reason);
    if (gw->ops->disconnect)
        gw->ops->disconnect(user);
    else if (online && gw->ops->user_offline)
        gw->ops->user_offline(user);
    GHashTableIter it;
    gpointer legacy;
    g_hash_table_iter_init(&it, user->contact_presence);
    while (g_hash_table_iter_next(&it, &legacy, NULL)) {
        g_autofree char *from = cw_legacy_id_to_jid(gw, legacy);
        if (from)
            send_presence(gw, from, user->jid, "unavailable", NULL);
    }
    g_hash_table_remove_all(user->contact_presence);
    if (online)
        send_presence(gw, cw_gateway_domain(gw), user->jid, "unavailable", reason);
    /* Forget the resources: the next available presence is a new session. */
    g_hash_table_remove_all(user->resources);
    user->online = FALSE;
    return TRUE;
}

/* The user's resources to reach: those with a presence to the gateway and
 * those in rooms (a set of resource parts, "" for the bare JID). */
static GHashTable *
reachable_resources(CwUser *user)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer resource;
    g_hash_table_iter_init(&it, user->resources);
    while (user->online && g_hash_table_iter_next(&it, &resource, NULL))
        g_hash_table_add(set, g_strdup(resource));
    GList *in_rooms = cw_muc_user_resources(user);
    for (GList *l = in_rooms; l; l = l->next)
        g_hash_table_add(set, l->data); /* owns it; a duplicate replaces (and frees) the old key */
    g_list_free(in_rooms);
    return set;
}

guint
cw_admin_announce(CwGateway *gw, const char *body, guint *users)
{
    CW_TEXT_BOUNDARY(body, CW_TEXT_MAX_TEXT);
    guint sent = 0, n_users = 0;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, gw->users);
    while (body && g_hash_table_iter_next(&it, NULL, &value)) {
        CwUser *user = value;
        g_autoptr(GHashTable) resources = reachable_resources(user);
        if (g_hash_table_size(resources) == 0)
            continue;
        n_users++;
        GHashTableIter rit;
        gpointer resource;
        g_hash_table_iter_init(&rit, resources);
        while (g_hash_table_iter_next(&rit, &resource, NULL)) {
            g_autofree char *to = *(const char *)resource
                                      ? g_strdup_printf("%s/%s", user->jid, (const char *)resource)
                                      : g_strdup(user->jid);
            g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
            xmpp_stanza_set_type(m, "headline");
            xmpp_stanza_set_from(m, cw_gateway_domain(gw));
            xmpp_stanza_set_to(m, to);
            char *uuid = xmpp_uuid_gen(ctx);
            xmpp_stanza_set_id(m, uuid);
            xmpp_free(ctx, uuid);
            cw_stanza_add_text_child(m, "body", NULL, body);
            cw_gateway_send(gw, m);
            sent++;
        }
    }
    if (users)
        *users = n_users;
    return sent;
}
