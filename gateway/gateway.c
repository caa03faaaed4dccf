/* gateway.c — one transport process: wiring of config, store, component and router; main loop. */
#define G_LOG_DOMAIN "causeway"
#include "gateway.h"
#include "gateway-metrics.h"

#include <causeway/metrics.h>

#include "resume.h"
#include "admin.h"

#include <causeway/jid.h>
#include <glib-unix.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "caps.h"
#include "muc.h"
#include "roster.h"
#include "router.h"
#include "stanza.h"

/* Exit status when the server rejects our secret (EX_CONFIG): the supervisor
 * does not restart a child that exits with it. */
#define CW_EXIT_CONFIG 78

typedef struct {
    CwIqCallback callback;
    gpointer data;
} PendingIq;

static void user_free(gpointer p);

/* ---- component events ---- */

static void
on_connected(CwComponent *comp, gpointer data)
{
    CwGateway *gw = data;
    cw_gateway_metrics_connected(gw, TRUE);
    if (gw->was_connected)
        cw_resume_begin(gw); /* the resources we know may be ghosts now */
    gw->was_connected = TRUE;
    /* Sessions resume: ask the server for the presence of every registered
     * user, and show the gateway as available to them. */
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) users = cw_store_user_list(gw->store, &error);
    if (!users) {
        g_warning("cannot list registered users: %s", error->message);
        return;
    }
    for (guint i = 0; i < users->len; i++) {
        const char *jid = users->pdata[i];
        cw_gateway_send_own_presence(gw, jid, NULL);
        cw_gateway_send_own_presence(gw, jid, "probe");
    }
    g_message("component %s ready: %u registered users probed", cw_gateway_domain(gw), users->len);
}

static void
fail_pending_iqs(CwGateway *gw)
{
    g_autoptr(GHashTable) pending = g_steal_pointer(&gw->pending_iqs);
    gw->pending_iqs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, pending);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        PendingIq *p = value;
        if (p->callback)
            p->callback(gw, NULL, p->data);
    }
}

static void
on_disconnected(CwComponent *comp, gpointer data)
{
    cw_gateway_metrics_connected(data, FALSE);
    fail_pending_iqs(data);
}

static void
on_fatal(CwComponent *comp, const char *reason, gpointer data)
{
    CwGateway *gw = data;
    gw->exit_status = CW_EXIT_CONFIG;
    if (gw->loop)
        g_main_loop_quit(gw->loop);
}

static void
on_stanza(CwComponent *comp, xmpp_stanza_t *stanza, gpointer data)
{
    cw_router_dispatch(data, stanza);
}

static void
on_congestion(CwComponent *comp, gboolean congested, gpointer data)
{
    CwGateway *gw = data;
    if (gw->ops->congestion)
        gw->ops->congestion(gw, congested);
}

static const CwComponentEvents component_events = {
    .connected = on_connected,
    .disconnected = on_disconnected,
    .fatal = on_fatal,
    .stanza = on_stanza,
    .congestion = on_congestion,
};

/* ---- construction ---- */

static CwSecrets *
open_secrets(CwConfig *config, GError **error)
{
    if (g_mkdir_with_parents(config->data_dir, 0700) != 0) {
        cw_keyfile_error(error, config->path, "gateway", "data_dir",
                         "cannot create '%s': %s; point data_dir at a writable directory",
                         config->data_dir, g_strerror(errno));
        return NULL;
    }
    /* The key file may be outside data_dir (config key_file); its directory
     * is the admin's to create, with the permissions they chose. */
    return cw_secrets_open(config->key_file, error);
}

gboolean
cw_gateway_check_data_dir(CwConfig *config, GError **error)
{
    g_autoptr(CwSecrets) secrets = open_secrets(config, error);
    return secrets != NULL;
}

/* A key file that is gone while the store holds secrets written with it
 * must not be silently replaced by a new key: every stored password would
 * then fail to decrypt, one user at a time. Checked before a key is made. */
static gboolean
check_key_not_lost(CwConfig *config, const char *db_path, GError **error)
{
    if (g_file_test(config->key_file, G_FILE_TEST_EXISTS) ||
        !g_file_test(db_path, G_FILE_TEST_EXISTS))
        return TRUE;
    g_autoptr(GError) local = NULL;
    g_autoptr(CwStore) store = cw_store_open_readonly(db_path, &local);
    gint64 secrets = 0;
    if (!store || !cw_store_count_secrets(store, &secrets, &local))
        return TRUE; /* not a store we can read: cw_store_open() says why */
    if (secrets == 0)
        return TRUE;
    cw_keyfile_error(error, config->path, "gateway", "key_file",
                     "%s does not exist, but %s holds %" G_GINT64_FORMAT " secrets encrypted "
                     "with it: restore the key file from its backup (a new key cannot decrypt "
                     "them), or if it is lost for good run causeway -c %s --forget-secrets "
                     "(users then enter those passwords again)",
                     config->key_file, db_path, secrets, config->path);
    return FALSE;
}

static gboolean
open_storage(CwGateway *gw, GError **error)
{
    CwConfig *config = gw->config;
    g_autofree char *db_name = g_strdup_printf("%s.db", gw->tconf->name);
    g_autofree char *db_path = g_build_filename(config->data_dir, db_name, NULL);
    if (!check_key_not_lost(config, db_path, error))
        return FALSE;
    gw->secrets = open_secrets(config, error);
    if (!gw->secrets)
        return FALSE;
    gw->store = cw_store_open(db_path, gw->secrets, error);
    if (!gw->store)
        return FALSE;
    g_autoptr(GError) local = NULL;
    if (cw_store_check_key(gw->store, &local))
        return TRUE;
    if (g_error_matches(local, CW_STORE_ERROR, CW_STORE_ERROR_DECRYPT))
        cw_keyfile_error(error, config->path, "gateway", "key_file",
                         "%s does not match %s: %s, or if that key is lost for good run "
                         "causeway -c %s --forget-secrets", config->key_file, db_path,
                         local->message, config->path);
    else
        g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

CwGateway *
cw_gateway_new(CwConfig *config, const char *transport_name, GError **error)
{
    CwTransportConfig *t = cw_config_transport(config, transport_name);
    if (!t) {
        g_set_error(error, CW_CONFIG_ERROR, 0,
                    "%s: no [transport:%s] section; use a NAME from the config with --transport",
                    config->path, transport_name);
        cw_config_free(config);
        return NULL;
    }
    CwGateway *gw = g_new0(CwGateway, 1);
    gw->config = config;
    gw->tconf = t;
    gw->ops = t->ops;
    gw->started_us = g_get_monotonic_time();
    gw->room_history_max = 20;
    gw->requires_registration = t->ops->requires_registration;
    gw->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, user_free);
    gw->pending_iqs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gw->unconfirmed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cw_router_init();
    cw_metrics_init(t->name, t->type);

    if (gw->ops->configure &&
        !gw->ops->configure(gw, config->kf, config->path, t->group, error))
        goto fail;

    if (!open_storage(gw, error))
        goto fail;

    gw->caps_ver = cw_caps_compute_ver(gw);
    if (gw->ops->init && !gw->ops->init(gw, error))
        goto fail;

    gw->component = cw_component_new(t->domain, t->secret, t->host, t->port, &component_events, gw);
    cw_component_set_backoff(gw->component, (CwBackoff){ config->reconnect_min_ms,
                                                         config->reconnect_max_ms });
    return gw;
fail:
    cw_gateway_free(gw);
    return NULL;
}

gboolean
cw_gateway_check_transports(CwConfig *config, gboolean deep, GError **error)
{
    for (guint i = 0; i < config->transports->len; i++) {
        CwTransportConfig *t = config->transports->pdata[i];
        if (!t->ops->configure)
            continue;
        /* configure only reads keys and keeps its state in the gateway: a
         * stub without store or connection is enough, and deinit undoes it. */
        CwGateway gw = { .config = config, .tconf = t, .ops = t->ops };
        gboolean ok = t->ops->configure(&gw, config->kf, config->path, t->group, error);
        if (ok && deep && t->ops->check)
            ok = t->ops->check(&gw, error);
        if (t->ops->deinit)
            t->ops->deinit(&gw);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

void
cw_gateway_free(CwGateway *gw)
{
    if (!gw)
        return;
    if (gw->component)
        cw_component_stop(gw->component);
    cw_resume_deinit(gw);
    g_clear_pointer(&gw->unconfirmed, g_hash_table_unref);
    g_clear_pointer(&gw->users, g_hash_table_unref); /* before deinit: transports free user data */
    if (gw->ops && gw->ops->deinit) /* deinit copes with a partial init */
        gw->ops->deinit(gw);
    g_clear_pointer(&gw->pending_iqs, g_hash_table_unref);
    g_clear_pointer(&gw->adhoc_sessions, g_hash_table_unref);
    g_clear_pointer(&gw->component, cw_component_free);
    g_clear_pointer(&gw->store, cw_store_close);
    g_clear_pointer(&gw->secrets, cw_secrets_free);
    g_clear_pointer(&gw->config, cw_config_free);
    g_free(gw->privilege_ns);
    g_free(gw->caps_ver);
    cw_router_deinit();
    cw_metrics_deinit();
    g_free(gw);
}

gboolean
cw_gateway_reload(CwGateway *gw, GError **error)
{
    CwConfig *fresh = cw_config_load(gw->config->path, error);
    if (!fresh)
        return FALSE;
    /* Only what can change without a reconnect: who may use the gateway. */
    gw->config->limits = fresh->limits; /* per-user limits apply to what is created next */
    g_strfreev(gw->config->allowed_domains);
    g_strfreev(gw->config->admins);
    gw->config->allowed_domains = g_steal_pointer(&fresh->allowed_domains);
    gw->config->admins = g_steal_pointer(&fresh->admins);
    fresh->allowed_domains = g_new0(char *, 1);
    fresh->admins = g_new0(char *, 1);
    cw_config_free(fresh);
    g_message("configuration reloaded from %s", gw->config->path);
    return TRUE;
}

/* ---- running ---- */

static gboolean
on_sigterm(gpointer data)
{
    CwGateway *gw = data;
    g_message("stopping %s", cw_gateway_domain(gw));
    g_main_loop_quit(gw->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sighup(gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!cw_gateway_reload(data, &error))
        g_warning("reload failed, keeping the old configuration: %s", error->message);
    return G_SOURCE_CONTINUE;
}

static void
say_goodbye(CwGateway *gw)
{
    /* Tell online users the gateway is going away, so their clients do not
     * show stale contacts. */
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, gw->users);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwUser *user = value;
        if (user->online && user->registered)
            cw_gateway_send_own_presence(gw, user->jid, "unavailable");
    }
}

int
cw_gateway_run(CwGateway *gw)
{
    gw->loop = g_main_loop_new(NULL, FALSE);
    guint term = g_unix_signal_add(SIGTERM, on_sigterm, gw);
    guint intr = g_unix_signal_add(SIGINT, on_sigterm, gw);
    guint hup = g_unix_signal_add(SIGHUP, on_sighup, gw);
    cw_gateway_metrics_start(gw);
    cw_admin_watch_start(gw);
    cw_component_start(gw->component);
    g_main_loop_run(gw->loop);
    if (gw->exit_status == 0 && cw_component_is_connected(gw->component))
        say_goodbye(gw);
    cw_gateway_metrics_stop(gw);
    cw_admin_watch_stop(gw);
    cw_component_stop(gw->component);
    g_source_remove(term);
    g_source_remove(intr);
    g_source_remove(hup);
    g_clear_pointer(&gw->loop, g_main_loop_unref);
    return gw->exit_status;
}

/* ---- sending ---- */

void
cw_gateway_send(CwGateway *gw, xmpp_stanza_t *stanza)
{
    cw_component_send(gw->component, stanza);
}

GString *
cw_gateway_begin_xml(CwGateway *gw)
{
    return cw_component_begin_xml(gw->component);
}

void
cw_gateway_end_xml(CwGateway *gw)
{
    cw_component_end_xml(gw->component);
}

xmpp_ctx_t *
cw_gateway_ctx(CwGateway *gw)
{
    return cw_component_ctx(gw->component);
}

void
cw_gateway_send_iq(CwGateway *gw, xmpp_stanza_t *iq, CwIqCallback callback, gpointer data)
{
    const char *id = xmpp_stanza_get_id(iq);
    if (!cw_component_send(gw->component, iq)) {
        if (callback)
            callback(gw, NULL, data);
        return;
    }
    PendingIq *p = g_new0(PendingIq, 1);
    p->callback = callback;
    p->data = data;
    g_hash_table_replace(gw->pending_iqs, g_strdup(id), p);
}

gboolean
cw_gateway_complete_iq(CwGateway *gw, xmpp_stanza_t *reply)
{
    const char *id = xmpp_stanza_get_id(reply);
    gpointer key, value;
    if (!id || !g_hash_table_steal_extended(gw->pending_iqs, id, &key, &value))
        return FALSE;
    PendingIq *p = value;
    if (p->callback)
        p->callback(gw, reply, p->data);
    g_free(key);
    g_free(p);
    return TRUE;
}

void
cw_gateway_send_own_presence(CwGateway *gw, const char *to, const char *type)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autoptr(xmpp_stanza_t) p = cw_stanza_new(ctx, "presence", NULL);
    xmpp_stanza_set_from(p, cw_gateway_domain(gw));
    xmpp_stanza_set_to(p, to);
    if (type)
        xmpp_stanza_set_type(p, type);
    else
        cw_stanza_add_child(p, cw_caps_element(gw));
    cw_gateway_send(gw, p);
}

/* ---- users ---- */

static void
user_free(gpointer p)
{
    CwUser *user = p;
    cw_muc_user_clear(user);
    if (user->data_destroy)
        user->data_destroy(user->data);
    g_hash_table_unref(user->resources);
    g_hash_table_unref(user->contact_presence);
    g_clear_pointer(&user->unstored_contacts, g_hash_table_unref);
    g_free(user->status);
    g_free(user->last_from);
    g_free(user->jid);
    g_free(user);
}

CwUser *
cw_gateway_user(CwGateway *gw, const char *bare_jid)
{
    g_autofree char *key = g_utf8_strdown(bare_jid, -1);
    CwUser *user = g_hash_table_lookup(gw->users, key);
    if (user)
        return user;
    user = g_new0(CwUser, 1);
    user->gw = gw;
    user->jid = g_steal_pointer(&key);
    user->resources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    user->contact_presence = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    user->registered = cw_store_user_exists(gw->store, user->jid);
    g_hash_table_insert(gw->users, user->jid, user);
    return user;
}

void
cw_gateway_forget_user(CwGateway *gw, CwUser *user)
{
    if (user->registered || user->online || user->data || cw_muc_room_count(user) ||
        g_hash_table_size(user->resources))
        return;
    g_hash_table_remove(gw->users, user->jid);
}

char *
cw_gateway_node_to_legacy(CwGateway *gw, const char *node)
{
    if (gw->ops->node_to_legacy)
        return gw->ops->node_to_legacy(gw, node);
    return cw_jid_unescape_node(node);
}

/* ---- core.h: the gateway as transports see it ---- */

const char *
cw_gateway_domain(CwGateway *gw)
{
    return gw->tconf->domain;
}

const char *
cw_gateway_name(CwGateway *gw)
{
    return gw->tconf->name;
}

gpointer
cw_gateway_get_data(CwGateway *gw)
{
    return gw->transport_data;
}

void
cw_gateway_set_data(CwGateway *gw, gpointer data)
{
    gw->transport_data = data;
}

void
cw_gateway_set_requires_registration(CwGateway *gw, gboolean required)
{
    gw->requires_registration = required;
}

CwUser *
cw_gateway_lookup_user(CwGateway *gw, const char *bare_jid)
{
    g_autofree char *key = g_utf8_strdown(bare_jid, -1);
    return g_hash_table_lookup(gw->users, key);
}

GPtrArray *
cw_gateway_registered_users(CwGateway *gw)
{
    GPtrArray *out = g_ptr_array_new();
    g_autoptr(GPtrArray) jids = cw_store_user_list(gw->store, NULL);
    for (guint i = 0; jids && i < jids->len; i++)
        g_ptr_array_add(out, cw_gateway_user(gw, jids->pdata[i]));
    return out;
}

char *
cw_legacy_id_to_jid(CwGateway *gw, const char *legacy_id)
{
    g_autofree char *node = gw->ops->legacy_to_node ? gw->ops->legacy_to_node(gw, legacy_id)
                                                    : cw_jid_escape_node(legacy_id);
    if (!node)
        return NULL;
    char *jid = cw_jid_make(node, cw_gateway_domain(gw), NULL);
    if (!cw_jid_is_valid(jid))
        g_clear_pointer(&jid, g_free); /* e.g. a control character in a legacy id */
    return jid;
}

CwUser *
cw_gateway_user_for(CwGateway *gw, const char *bare_jid)
{
    if (!bare_jid || !cw_jid_is_valid(bare_jid) || strchr(bare_jid, '/'))
        return NULL;
    return cw_gateway_user(gw, bare_jid);
}

const char *const *
cw_gateway_admins(CwGateway *gw)
{
    return (const char *const *)gw->config->admins;
}

gboolean
cw_gateway_is_admin(CwGateway *gw, const char *bare_jid)
{
    return bare_jid && cw_config_is_admin(gw->config, bare_jid);
}

void
cw_gateway_notify_admins(CwGateway *gw, const char *body)
{
    for (char **a = gw->config->admins; a && *a; a++) {
        CwUser *admin = cw_gateway_user_for(gw, *a);
        if (admin)
            cw_legacy_gateway_message(admin, body);
    }
}

gboolean
cw_gateway_is_connected(CwGateway *gw)
{
    return gw->component && cw_component_is_connected(gw->component);
}

char *
cw_gateway_data_file(CwGateway *gw, const char *suffix)
{
    g_autofree char *name = g_strdup_printf("%s-%s", gw->tconf->name, suffix);
    return g_build_filename(gw->config->data_dir, name, NULL);
}

const CwFormSpec *
cw_gateway_registration_form(CwGateway *gw)
{
    if (gw->ops->registration_form_for) {
        const CwFormSpec *spec = gw->ops->registration_form_for(gw);
        if (spec)
            return spec;
    }
    return gw->ops->registration_form;
}
