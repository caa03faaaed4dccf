/* gateway.h — one transport process: config, store, component, router, users.
 *
 * CwGateway is the process-wide context (declared opaque in core.h for
 * transports); this header is the core's own view of it.
 */
#pragma once
#include <causeway/core.h>
#include <causeway/transport.h>
#include <strophe.h>

#include "component.h"
#include "config.h"
#include "secrets.h"
#include "store.h"

G_BEGIN_DECLS

typedef enum {
    CW_ROSTER_PERM_NONE = 0,
    CW_ROSTER_PERM_GET,
    CW_ROSTER_PERM_SET,
    CW_ROSTER_PERM_BOTH,
} CwRosterPerm;

typedef void (*CwIqCallback)(CwGateway *gw, xmpp_stanza_t *reply, gpointer data);

struct CwGateway {
    CwConfig *config;            /* owned; replaced on reload */
    CwTransportConfig *tconf;    /* borrowed from config */
    const CwTransportOps *ops;
    gpointer transport_data;

    CwSecrets *secrets;
    CwStore *store;
    CwComponent *component;
    GHashTable *users;           /* bare JID (lower-case) -> CwUser* */
    GHashTable *pending_iqs;     /* id -> PendingIq (our outgoing iqs) */
    GHashTable *adhoc_sessions;  /* sessionid -> AdhocSession */
    GHashTable *shared_rooms;    /* room id -> SharedRoom (muc.c) with ops->shared_rooms; NULL when none */

    /* XEP-0356 as advertised by the server right after the handshake. */
    char *privilege_ns;          /* "urn:xmpp:privilege:1" / ":2", or NULL */
    CwRosterPerm roster_perm;
    gboolean roster_fallback_logged;

    char *caps_ver;              /* XEP-0115 verification string */
    guint room_history_max;
    gboolean requires_registration;      /* groupchat messages kept per room for join history */
    gint64 started_us;           /* monotonic */
    gboolean was_connected;      /* the component was up before (a connect is a reconnect) */
    GHashTable *unconfirmed;     /* "bare/resource" not heard from since the reconnect (resume.h) */
    guint resume_timer_id;
    guint admin_watch_id;        /* admin.h: store changed by another process */
    int exit_status;             /* set by fatal errors before quitting */
    GMainLoop *loop;
};

struct CwUser {
    CwGateway *gw;
    char *jid;                   /* bare, as first seen (lower-case domain) */
    GHashTable *resources;       /* resource -> GINT_TO_POINTER(CwShow) of available resources */
    GHashTable *contact_presence;/* legacy id -> GINT_TO_POINTER(CwShow), last seen */
    char *last_from;             /* full JID of the user's last message: errors go there */
    CwShow show;
    char *status;
    GHashTable *rooms;           /* room id -> CwRoom (muc.c); NULL when none */
    gboolean registered;
    gboolean online;
    GHashTable *unstored_contacts; /* contact JIDs of an unregistered user (user-limits.c counts them) */
    gpointer data;
    GDestroyNotify data_destroy;
};

/* Create the data directory and open (or create) the key file, to refuse a
 * bad one before any transport starts. One-line error naming the file. */
gboolean cw_gateway_check_data_dir(CwConfig *config, GError **error);
/* Read every transport section with its type's configure op (then undo it),
 * so --check and the supervisor report a bad transport key (e.g. a missing
 * irc_servers) before any child starts. deep (--check only, never the
 * supervisor, which stays free of legacy libraries) also runs each type's
 * check op. */
gboolean cw_gateway_check_transports(CwConfig *config, gboolean deep, GError **error);

/* Build the process for one [transport:NAME] (opens key, store; inits the
 * transport). Takes ownership of config. */
CwGateway *cw_gateway_new(CwConfig *config, const char *transport_name, GError **error);
void cw_gateway_free(CwGateway *gw);
/* Connect and run the main loop until SIGTERM/SIGINT or a fatal error.
 * Returns the process exit status. */
int cw_gateway_run(CwGateway *gw);
/* Re-read the config file: allowed_domains and admins take effect at once. */
gboolean cw_gateway_reload(CwGateway *gw, GError **error);

/* Send a stanza through the component (caller keeps its reference). */
void cw_gateway_send(CwGateway *gw, xmpp_stanza_t *stanza);
/* Or write it as XML text (see cw_component_begin_xml): append one stanza to
 * the buffer returned (NULL: not connected, drop it), then end. */
GString *cw_gateway_begin_xml(CwGateway *gw);
void cw_gateway_end_xml(CwGateway *gw);
/* Send an iq get/set; callback (may be NULL) gets the result or error, or
 * NULL reply when the connection drops first. */
void cw_gateway_send_iq(CwGateway *gw, xmpp_stanza_t *iq, CwIqCallback callback, gpointer data);
/* Route an iq result/error to its pending callback; FALSE if unknown id. */
gboolean cw_gateway_complete_iq(CwGateway *gw, xmpp_stanza_t *reply);
xmpp_ctx_t *cw_gateway_ctx(CwGateway *gw);

/* The user object for a bare JID, created (and its registration looked up) if needed. */
CwUser *cw_gateway_user(CwGateway *gw, const char *bare_jid);
/* One of the user's resources is unavailable; the last one logs the user
 * out of the legacy network (transport's user_offline). */
void cw_user_resource_gone(CwUser *user, const char *resource);
/* Drop a user object that has no resources and is not registered. */
void cw_gateway_forget_user(CwGateway *gw, CwUser *user);

/* The registration form: the transport's registration_form_for, else its
 * static registration_form. */
const CwFormSpec *cw_gateway_registration_form(CwGateway *gw);

/* Legacy id <-> JID with the transport's addressing ops (default XEP-0106). */
char *cw_gateway_node_to_legacy(CwGateway *gw, const char *node);

/* The gateway's own presence (with XEP-0115 caps) to a user's bare JID. */
void cw_gateway_send_own_presence(CwGateway *gw, const char *to, const char *type);

G_END_DECLS
