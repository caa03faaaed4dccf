/* config.c — GKeyFile INI -> typed configuration; every error names file, key and fix. */
#include "config.h"
#include "metrics-http.h"
#include "transports.h"

#include <causeway/jid.h>
#include <causeway/keyfile.h>
#include <errno.h>
#include <string.h>

static void
transport_config_free(gpointer p)
{
    CwTransportConfig *t = p;
    g_free(t->name);
    g_free(t->group);
    g_free(t->type);
    g_free(t->domain);
    g_free(t->secret);
    g_free(t->host);
    g_free(t->server_domain);
    g_free(t);
}

void
cw_config_free(CwConfig *config)
{
    if (!config)
        return;
    g_free(config->path);
    g_clear_pointer(&config->kf, g_key_file_unref);
    g_free(config->data_dir);
    g_free(config->key_file);
    g_free(config->metrics_listen);
    g_strfreev(config->allowed_domains);
    g_strfreev(config->admins);
    g_clear_pointer(&config->transports, g_ptr_array_unref);
    g_free(config);
}

/* ---- typed getters: absent keys give the default; present keys must parse ---- */

static gboolean
get_string(CwConfig *c, const char *group, const char *key, const char *def, gboolean required,
           char **out, GError **error)
{
    g_autofree char *v = g_key_file_get_string(c->kf, group, key, NULL);
    if (v)
        g_strstrip(v);
    if (!v || !*v) {
        if (required) {
            cw_keyfile_error(error, c->path, group, key, "missing; add `%s = ...` to [%s]", key,
                             group);
            return FALSE;
        }
        *out = g_strdup(def);
        return TRUE;
    }
    *out = g_steal_pointer(&v);
    return TRUE;
}

static char **
get_list(CwConfig *c, const char *group, const char *key)
{
    g_autofree char *v = g_key_file_get_string(c->kf, group, key, NULL);
    GPtrArray *items = g_ptr_array_new();
    if (v) {
        g_auto(GStrv) parts = g_strsplit_set(v, ",; \t", -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(items, g_ascii_strdown(*p, -1));
    }
    g_ptr_array_add(items, NULL);
    return (char **)g_ptr_array_free(items, FALSE);
}

static gboolean
check_known_keys(CwConfig *c, const char *group, const char *const *known,
                 const char *const *extra, GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(c->kf, group, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
        if (g_strv_contains(known, *k) || (extra && g_strv_contains(extra, *k)))
            continue;
        GString *allowed = g_string_new(NULL);
        for (const char *const *p = known; *p; p++)
            g_string_append_printf(allowed, "%s%s", allowed->len ? ", " : "", *p);
        for (const char *const *p = extra; p && *p; p++)
            g_string_append_printf(allowed, ", %s", *p);
        cw_keyfile_error(error, c->path, group, *k, "unknown key; the keys of [%s] are: %s",
                         group, allowed->str);
        g_string_free(allowed, TRUE);
        return FALSE;
    }
    return TRUE;
}

static gboolean
load_transport(CwConfig *c, const char *group, const char *xmpp_host, guint16 xmpp_port,
               const char *xmpp_server_domain, GError **error)
{
    CwTransportConfig *t = g_new0(CwTransportConfig, 1);
    g_ptr_array_add(c->transports, t);
    t->group = g_strdup(group);
    t->name = g_strdup(group + strlen("transport:"));
    if (!*t->name || strspn(t->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(t->name)) {
        cw_keyfile_error(error, c->path, group, NULL,
                         "bad transport name; use [transport:NAME] with a NAME of letters, digits, - or _");
        return FALSE;
    }
    if (!get_string(c, group, "type", NULL, TRUE, &t->type, error))
        return FALSE;
    t->ops = cw_transports_find(t->type);
    if (!t->ops) {
        cw_keyfile_error(error, c->path, group, "type", "unknown transport type '%s'; use one of: %s",
                         t->type, cw_transports_names());
        return FALSE;
    }
    static const char *const core_keys[] = { "type", "domain", "secret", "host", "port",
                                             "server_domain", "resume_grace", NULL };
    if (!check_known_keys(c, group, core_keys, t->ops->config_keys, error))
        return FALSE;
    if (!get_string(c, group, "domain", NULL, TRUE, &t->domain, error))
        return FALSE;
    g_autofree char *lower = g_ascii_strdown(t->domain, -1);
    g_free(t->domain);
    t->domain = g_steal_pointer(&lower);
    g_autofree char *node = NULL, *res = NULL;
    if (!cw_jid_split(t->domain, &node, NULL, &res) || node || res) {
        cw_keyfile_error(error, c->path, group, "domain",
                         "'%s' is not a domain; write the component's domain, e.g. irc.example.org",
                         t->domain);
        return FALSE;
    }
    if (!get_string(c, group, "secret", NULL, TRUE, &t->secret, error))
        return FALSE;
    if (!get_string(c, group, "host", xmpp_host, FALSE, &t->host, error))
        return FALSE;
    guint64 port;
    if (!cw_keyfile_get_uint(c->kf, c->path, group, "port", xmpp_port, 1, 65535, &port, error))
        return FALSE;
    t->port = (guint16)port;
    if (!cw_keyfile_get_seconds_ms(c->kf, c->path, group, "resume_grace", c->resume_grace_ms / 1000.0,
                                   0.01, 3600, &t->resume_grace_ms, error))
        return FALSE;
    /* The XMPP server's own domain: only it may send what only a server
     * sends (the XEP-0356 grant). Components are usually its subdomains. */
    const char *parent = strchr(t->domain, '.');
    if (!get_string(c, group, "server_domain",
                    xmpp_server_domain ? xmpp_server_domain : parent ? parent + 1 : t->domain, FALSE,
                    &t->server_domain, error))
        return FALSE;
    lower = g_ascii_strdown(t->server_domain, -1);
    g_free(t->server_domain);
    t->server_domain = g_steal_pointer(&lower);
    g_clear_pointer(&node, g_free);
    g_clear_pointer(&res, g_free);
    if (!cw_jid_split(t->server_domain, &node, NULL, &res) || node || res) {
        cw_keyfile_error(error, c->path, group, "server_domain",
                         "'%s' is not a domain; write the XMPP server's domain, e.g. example.org",
                         t->server_domain);
        return FALSE;
    }
    return TRUE;
}

static CwConfig *
load(GKeyFile *kf, const char *path, GError **error)
{
    g_autoptr(CwConfig) c = g_new0(CwConfig, 1);
    c->path = g_strdup(path);
    c->kf = kf;
    c->transports = g_ptr_array_new_with_free_func(transport_config_free);

    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        if (strcmp(*g, "xmpp") && strcmp(*g, "gateway") && strcmp(*g, "metrics") &&
            !g_str_has_prefix(*g, "transport:")) {
            cw_keyfile_error(error, path, *g, NULL,
                             "unknown section; sections are [xmpp], [gateway], [metrics] and "
                             "[transport:NAME]");
            return NULL;
        }
    }

    static const char *const xmpp_keys[] = { "host", "port", "reconnect_min", "reconnect_max",
                                             "server_domain", "resume_grace", NULL };
    static const char *const gateway_keys[] = { "data_dir", "key_file", "allowed_domains", "admins",
                                                "log", "log_user_jids", NULL };
    static const char *const metrics_keys[] = { "listen", NULL };
    if (!check_known_keys(c, "xmpp", xmpp_keys, NULL, error) ||
        !check_known_keys(c, "metrics", metrics_keys, NULL, error) ||
        !check_known_keys(c, "gateway", gateway_keys, cw_limits_keys, error))
        return NULL;

    g_autofree char *xmpp_host = NULL, *xmpp_server_domain = NULL;
    guint64 xmpp_port;
    if (!get_string(c, "xmpp", "host", "127.0.0.1", FALSE, &xmpp_host, error) ||
        !get_string(c, "xmpp", "server_domain", NULL, FALSE, &xmpp_server_domain, error) ||
        !cw_keyfile_get_uint(c->kf, c->path, "xmpp", "port", 5347, 1, 65535, &xmpp_port, error) ||
        !cw_keyfile_get_seconds_ms(c->kf, c->path, "xmpp", "reconnect_min", 0.5, 0.01, 86400, &c->reconnect_min_ms, error) ||
        !cw_keyfile_get_seconds_ms(c->kf, c->path, "xmpp", "reconnect_max", 60, 0.01, 86400, &c->reconnect_max_ms, error) ||
        !cw_keyfile_get_seconds_ms(c->kf, c->path, "xmpp", "resume_grace", 30, 0.01, 3600, &c->resume_grace_ms, error))
        return NULL;
    if (c->reconnect_max_ms < c->reconnect_min_ms) {
        cw_keyfile_error(error, path, "xmpp", "reconnect_max",
                         "is smaller than reconnect_min; make it at least as large");
        return NULL;
    }
    if (!get_string(c, "gateway", "data_dir", "/var/lib/causeway", FALSE, &c->data_dir, error))
        return NULL;
    g_autofree char *default_key = g_build_filename(c->data_dir, "causeway.key", NULL);
    if (!get_string(c, "gateway", "key_file", default_key, FALSE, &c->key_file, error))
        return NULL;
    /* Relative to what? The daemon's cwd is not the admin's: refuse (the
     * default follows data_dir, whatever it is). */
    if (g_key_file_has_key(c->kf, "gateway", "key_file", NULL) && !g_path_is_absolute(c->key_file)) {
        cw_keyfile_error(error, path, "gateway", "key_file",
                         "'%s' is not an absolute path; give the full path, e.g. "
                         "/etc/causeway/causeway.key", c->key_file);
        return NULL;
    }
    if (!cw_limits_load(&c->limits, kf, path, "gateway", error))
        return NULL;
    g_autofree char *log = NULL, *log_users = NULL;
    if (!get_string(c, "gateway", "log", "auto", FALSE, &log, error) ||
        !get_string(c, "gateway", "log_user_jids", "plain", FALSE, &log_users, error))
        return NULL;
    static const char *const log_targets[] = { "auto", "stderr", "journal", NULL };
    c->log_target = -1;
    for (int i = 0; log_targets[i]; i++)
        if (strcmp(log, log_targets[i]) == 0)
            c->log_target = i;
    if (c->log_target < 0) {
        cw_keyfile_error(error, path, "gateway", "log",
                         "'%s' is not a log target; use auto (the journal under systemd, else "
                         "stderr), stderr or journal", log);
        return NULL;
    }
    if (strcmp(log_users, "plain") && strcmp(log_users, "hash")) {
        cw_keyfile_error(error, path, "gateway", "log_user_jids",
                         "'%s' is not plain or hash; use plain (JIDs in CAUSEWAY_USER) or hash",
                         log_users);
        return NULL;
    }
    c->log_hash_users = strcmp(log_users, "hash") == 0;
    if (g_key_file_has_key(kf, "metrics", "listen", NULL)) {
        g_autofree char *host = NULL, *why = NULL;
        guint16 port;
        if (!get_string(c, "metrics", "listen", NULL, TRUE, &c->metrics_listen, error))
            return NULL;
        if (!cw_metrics_listen_parse(c->metrics_listen, &host, &port, &why)) {
            cw_keyfile_error(error, path, "metrics", "listen",
                             "%s; give a numeric address and port, e.g. listen = 127.0.0.1:9375 "
                             "(or remove the key to turn metrics off)", why);
            return NULL;
        }
    }
    c->allowed_domains = get_list(c, "gateway", "allowed_domains");
    c->admins = get_list(c, "gateway", "admins");
    for (char **a = c->admins; *a; a++) {
        g_autofree char *node = NULL, *res = NULL;
        if (!cw_jid_split(*a, &node, NULL, &res) || !node || res) {
            cw_keyfile_error(error, path, "gateway", "admins",
                             "'%s' is not a bare JID; list bare JIDs like admin@example.org", *a);
            return NULL;
        }
    }

    for (char **g = groups; *g; g++)
        if (g_str_has_prefix(*g, "transport:") &&
            !load_transport(c, *g, xmpp_host, (guint16)xmpp_port, xmpp_server_domain, error))
            return NULL;
    if (c->transports->len == 0) {
        g_set_error(error, CW_CONFIG_ERROR, 0,
                    "%s: no [transport:NAME] section; add one with type, domain and secret", path);
        return NULL;
    }
    for (guint i = 0; i < c->transports->len; i++) {
        CwTransportConfig *a = c->transports->pdata[i];
        for (guint j = 0; j < i; j++) {
            CwTransportConfig *b = c->transports->pdata[j];
            if (strcmp(a->domain, b->domain) == 0) {
                cw_keyfile_error(error, path, a->group, "domain",
                                 "'%s' is already the domain of [%s]; give each transport its own domain",
                                 a->domain, b->group);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&c);
}

CwConfig *
cw_config_load_data(const char *data, const char *path, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    g_autoptr(GError) kerr = NULL;
    if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &kerr)) {
        g_set_error(error, CW_CONFIG_ERROR, 0, "%s: cannot parse: %s; fix the INI syntax", path,
                    kerr->message);
        g_key_file_unref(kf);
        return NULL;
    }
    return load(kf, path, error); /* takes kf */
}

CwConfig *
cw_config_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) ferr = NULL;
    if (!g_file_get_contents(path, &data, NULL, &ferr)) {
        g_set_error(error, CW_CONFIG_ERROR, 0, "%s: cannot read the config file: %s; give an existing file with -c",
                    path, ferr->message);
        return NULL;
    }
    return cw_config_load_data(data, path, error);
}

CwTransportConfig *
cw_config_transport(CwConfig *config, const char *name)
{
    for (guint i = 0; i < config->transports->len; i++) {
        CwTransportConfig *t = config->transports->pdata[i];
        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

gboolean
cw_config_domain_allowed(CwConfig *config, const char *domain)
{
    if (!config->allowed_domains[0])
        return TRUE;
    g_autofree char *lower = g_ascii_strdown(domain, -1);
    return g_strv_contains((const char *const *)config->allowed_domains, lower);
}

gboolean
cw_config_is_admin(CwConfig *config, const char *bare_jid)
{
    g_autofree char *lower = g_ascii_strdown(bare_jid, -1);
    return g_strv_contains((const char *const *)config->admins, lower);
}
