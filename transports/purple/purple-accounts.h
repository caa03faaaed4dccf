/* purple-accounts.h — the purple transport's state and its index of
 * libpurple accounts: which user's session a PurpleAccount is, and its
 * connection. The lowest layer of the transport's own files: the session
 * (purple-session.c), the buddy list (purple-buddies.c) and the chats
 * (purple-chats.c) all stand on it, and it calls none of them.
 *
 * Contract: the transport (purple-transport.c) owns one CwPurpleTransport
 * per process; a CwPurpleSession hangs off its CwUser (cw_user_set_data)
 * and goes with it (purple-session.c creates and frees it). An account is
 * bound to at most one session, and a session to at most one account,
 * through cw_purple_accounts_bind/_unbind only. Not for other transports.
 */
#pragma once
#include <causeway/transport.h>
#include <purple.h>

#include "purple-form.h"

G_BEGIN_DECLS

typedef struct CwPurpleTransport {
    CwGateway *gw;
    char *file, *group;      /* for config errors found at init */
    char *protocol;
    guint reconnect_max_ms;
    CwPurpleForm *form;
    GHashTable *sessions;    /* PurpleAccount * -> CwPurpleSession * (borrowed) */
    gboolean quitting;       /* deinit: libpurple's teardown signals are ignored */
    char *last_notify;       /* the last notification without an account, and when */
    gint64 last_notify_at;
} CwPurpleTransport;

typedef struct CwPurpleSession {
    CwPurpleTransport *t;
    CwUser *user;
    PurpleAccount *account;  /* NULL until the first login (cw_purple_accounts_bind) */
    gboolean wanted;         /* should be connected (the user is online or stays connected) */
    guint attempt;           /* reconnects since the last sign-on */
    guint retry;             /* reconnect timer */
    GHashTable *rooms;       /* purple-chats.c: casefolded chat name -> CwPurpleRoom * */
    GList *listings;         /* purple-chats.c: room lists under way */
} CwPurpleSession;

static inline CwPurpleTransport *
cw_purple_transport_of(CwGateway *gw)
{
    return cw_gateway_get_data(gw);
}

/* The session of a libpurple account, or NULL (not ours, or quitting:
 * libpurple's teardown signals find no session). */
CwPurpleSession *cw_purple_accounts_session(CwPurpleTransport *t, PurpleAccount *account);
/* The session's account when it is connected, its PurpleConnection; else NULL. */
PurpleConnection *cw_purple_accounts_connection(CwPurpleSession *s);
/* The session's account is account from now on (s has none). */
void cw_purple_accounts_bind(CwPurpleSession *s, PurpleAccount *account);
/* The session lets go of its account (NULL when it had none), which is no
 * one's any more: returned for the caller to disable or delete. */
PurpleAccount *cw_purple_accounts_unbind(CwPurpleSession *s);

G_END_DECLS
