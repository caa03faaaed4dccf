/* router.h — one dispatch table for every stanza the component receives.
 *
 * Modules (mod-*.c) each declare their disco features and handlers as a
 * const CwModule; the router keys a GHashTable on "stanza/type/namespace"
 * (e.g. "iq/get/urn:xmpp:ping"; message and presence use the type "*", one
 * handler each).
 * Before dispatch: stanzas from domains not in allowed_domains get
 * `forbidden` (server-originated stanzas such as the XEP-0356 advertisement
 * excepted); after: an unhandled get/set iq gets `service-unavailable`;
 * error and result stanzas are never answered.
 */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

typedef struct {
    CwGateway *gw;
    xmpp_stanza_t *stanza;   /* borrowed */
    const char *name;        /* "iq", "message", "presence" */
    const char *type;        /* stanza type ("get", "chat", "unavailable", ...); "" if none */
    const char *from;        /* full JID of the sender (validated) */
    char *from_bare;
    char *from_resource;     /* may be NULL */
    const char *to;
    char *to_node;           /* NULL when addressed to the gateway domain itself */
    char *to_resource;       /* may be NULL */
    xmpp_stanza_t *payload;  /* iq: its child element; else NULL */
    CwUser *user;            /* the sender's user object (created on demand) */
    gboolean from_server;    /* from a bare domain: the XMPP server itself */
} CwRequest;

typedef void (*CwHandlerFunc)(CwRequest *req);

typedef struct {
    const char *stanza;      /* "iq", "message", "presence" */
    const char *type;        /* iq: "get"/"set"; message/presence: "*" */
    const char *ns;          /* iq payload namespace; NULL for message/presence */
    CwHandlerFunc handler;
} CwHandler;

typedef struct {
    const char *name;
    const char *const *features;   /* disco#info features, NULL-terminated */
    const CwHandler *handlers;     /* terminated by an entry with handler == NULL */
} CwModule;

/* Every module, in order (defined in router.c). */
extern const CwModule *const cw_modules[];

void cw_router_init(void);
void cw_router_deinit(void);
/* Dispatch one received stanza. Never fails; answers errors as needed. */
void cw_router_dispatch(CwGateway *gw, xmpp_stanza_t *stanza);

/* Reply to req's stanza with an error (no-op for error/result stanzas). */
void cw_request_error(CwRequest *req, const char *condition, const char *text);
/* Send an iq result; payload (may be NULL) is consumed. */
void cw_request_result(CwRequest *req, xmpp_stanza_t *payload);

/* The features of all modules plus the transport's, sorted (for disco and caps). */
GPtrArray *cw_router_features(CwGateway *gw);

G_END_DECLS
