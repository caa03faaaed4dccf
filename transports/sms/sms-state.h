/* sms-state.h — the sms transport's process-wide state, shared by its own
 * files (sms-transport.c: the core's ops; sms-commands.c: the admins' ad-hoc
 * commands). Not for other transports or the core. */
#pragma once
#include <causeway/transport.h>

#include "sms-config.h"
#include "sms-listener.h"
#include "sms-sender.h"
#include "sms-store.h"

G_BEGIN_DECLS

typedef struct SmsTransport {
    CwGateway *gw;
    CwSmsConfig *cfg;
    CwSmsStore *store;
    CwSmsKannel *kannel;
    CwSmsSender *sender;
    CwSmsListener *listener;

    /* The registration form (it lists the configured numbers). */
    CwFormField reg_fields[1];
    CwFormSpec reg_spec;
    char **reg_options;
    char *reg_desc, *reg_instructions;

    /* The approval form (it lists the pending claims); rebuilt per use. */
    CwFormField approve_fields[3];
    CwFormSpec approve_spec;
    char **approve_options;
    char *approve_listing;

    GHashTable *known_contacts; /* "jid\nnumber": already in that user's roster */
    gboolean assigning;         /* an admin's sms-assign: the claim is active at once */
    char *announce_jid;         /* set by check_registration: tell about a pending claim */
    guint64 mo_taken, mo_unknown;
} SmsTransport;

static inline SmsTransport *
cw_sms_transport_of(CwGateway *gw)
{
    return cw_gateway_get_data(gw);
}

static inline SmsTransport *
cw_sms_transport_of_user(CwUser *user)
{
    return cw_sms_transport_of(cw_user_gateway(user));
}

G_END_DECLS
