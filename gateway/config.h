/* config.h — the INI configuration (GKeyFile) turned into typed values.
 *
 * [xmpp]            host, port, reconnect_min, reconnect_max, resume_grace (seconds), server_domain
 * [gateway]         data_dir, key_file, allowed_domains, admins, log, log_user_jids, and the per-user
 *                   limits (user-limits.h: max_rooms_per_user, ...)
 * [metrics]         listen (HOST:PORT of the /metrics and /health endpoint; absent = off)
 * [transport:NAME]  type, domain, secret, host, port, server_domain, resume_grace, and the keys the
 *                   transport type declares (CwTransportOps.config_keys)
 *
 * Every error is one line: "FILE: [group] key: what is wrong; what to do".
 */
#pragma once
#include <causeway/keyfile.h>
#include <glib.h>

#include "user-limits.h"

G_BEGIN_DECLS

typedef struct CwTransportOps CwTransportOps;

typedef struct {
    char *name;    /* NAME of [transport:NAME] */
    char *group;   /* "transport:NAME" */
    char *type;
    const CwTransportOps *ops;
    char *domain;
    char *secret;
    char *host;    /* XMPP server for this component ([xmpp] host unless overridden) */
    guint16 port;
    char *server_domain; /* the XMPP server's own domain (default: domain minus its first label) */
    guint resume_grace_ms; /* [xmpp] resume_grace unless overridden */
} CwTransportConfig;

typedef struct {
    char *path;
    GKeyFile *kf;             /* for transport-specific keys */
    char *data_dir;
    /* The key that encrypts stored passwords: an absolute path, by default
     * data_dir/causeway.key. Outside data_dir it can live on another disk
     * and out of the database's backups (a backup with both reveals every
     * stored password). */
    char *key_file;
    char **allowed_domains;   /* NULL-terminated, lower-case; empty = all allowed */
    char **admins;            /* bare JIDs */
    CwLimits limits;          /* per-user limits (user-limits.h) */
    guint reconnect_min_ms, reconnect_max_ms;
    guint resume_grace_ms;    /* after a reconnect: resources not heard from by then are gone */
    char *metrics_listen;     /* [metrics] listen, NULL when off */
    int log_target;           /* [gateway] log: CwLogTarget (auto, stderr, journal) */
    gboolean log_hash_users;  /* [gateway] log_user_jids = hash */
    GPtrArray *transports;    /* CwTransportConfig* */
} CwConfig;

CwConfig *cw_config_load(const char *path, GError **error);
/* Same, from text in memory; path is used in messages (unit tests). */
CwConfig *cw_config_load_data(const char *data, const char *path, GError **error);
void cw_config_free(CwConfig *config);
CwTransportConfig *cw_config_transport(CwConfig *config, const char *name);

gboolean cw_config_domain_allowed(CwConfig *config, const char *domain);
gboolean cw_config_is_admin(CwConfig *config, const char *bare_jid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwConfig, cw_config_free)

G_END_DECLS
