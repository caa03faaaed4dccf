/* purple-session.h — the purple transport's state and one user's legacy
 * session (a PurpleAccount): log in, log out, reconnect, fatal errors.
 *
 * Contract: the transport (purple-transport.c) owns one CwPurpleTransport per
 * process; a CwPurpleSession hangs off its CwUser (cw_user_set_data) and goes
 * with it. The password is read from the store at each login, given to
 * libpurple only for the login (in memory) and cleared from the account at
 * signed-on or when the attempt fails; accounts never remember it (nothing
 * libpurple writes holds it). Not for other transports.
 */
#pragma once
#include <causeway/transport.h>
#include <purple.h>

#include "purple-form.h"

G_BEGIN_DECLS

/* The user value (scope CW_PURPLE_SCOPE) that marks a registration failing:
 * libpurple's text of the fatal error; absent when none. */
#define CW_PURPLE_SCOPE "purple"
#define CW_PURPLE_FAILING "failing"
#define CW_PURPLE_RECONNECT_MIN_MS 2000

typedef struct CwPurpleTransport {
    CwGateway *gw;
    char *file, *group;      /* for config errors found at init */
    char *protocol;
    guint reconnect_max_ms;
    CwPurpleForm *form;
    GHashTable *sessions;    /* PurpleAccount * -> CwPurpleSession * (borrowed) */
    gboolean quitting;       /* deinit: libpurple's teardown signals are ignored */
} CwPurpleTransport;

typedef struct CwPurpleSession {
    CwPurpleTransport *t;
    CwUser *user;
    PurpleAccount *account;  /* NULL until the first login */
    gboolean wanted;         /* should be connected (the user is online or stays connected) */
    guint attempt;           /* reconnects since the last sign-on */
    guint retry;             /* reconnect timer */
} CwPurpleSession;

static inline CwPurpleTransport *
cw_purple_transport_of(CwGateway *gw)
{
    return cw_gateway_get_data(gw);
}

/* The user's session, created when create (NULL for an unregistered user). */
CwPurpleSession *cw_purple_session_get(CwPurpleTransport *t, CwUser *user, gboolean create);
/* The session of a libpurple account, or NULL (not ours, or quitting). */
CwPurpleSession *cw_purple_session_of_account(CwPurpleTransport *t, PurpleAccount *account);
/* Connect now (no-op when connected or connecting, or the registration is
 * failing: then the user is told). */
void cw_purple_session_login(CwPurpleSession *s);
/* Disconnect and stop reconnecting. */
void cw_purple_session_logout(CwPurpleSession *s);
/* The connected PurpleConnection, or NULL. */
PurpleConnection *cw_purple_session_connection(CwPurpleSession *s);
/* The user unregistered: log out and delete the libpurple account (and its
 * buddies). */
void cw_purple_session_forget(CwPurpleSession *s);

/* libpurple's connection signals, connected once at init. */
void cw_purple_session_signals_connect(CwPurpleTransport *t);

/* purple-buddies.c: the buddy list as the roster, presence, typing. */
void cw_purple_buddies_signals_connect(CwPurpleTransport *t);
/* Put every buddy of the session's account in the roster with its presence. */
void cw_purple_buddies_sync(CwPurpleSession *s);
/* Every buddy of the session's account appears offline. */
void cw_purple_buddies_all_offline(CwPurpleSession *s);
void cw_purple_buddies_add(CwPurpleSession *s, const char *name);
void cw_purple_buddies_remove(CwPurpleSession *s, const char *name);
/* The buddy name for a legacy id the XMPP side used (a bare name; for
 * jabber-like names "bob@host/res" the buddy "bob@host" when it exists). */
char *cw_purple_buddies_name(CwPurpleSession *s, const char *who);

G_END_DECLS
