/* purple-session.h — one user's legacy session (a PurpleAccount): log in,
 * log out, reconnect, fatal errors. The state it works on is in
 * purple-accounts.h; at sign-on and sign-off it tells the buddy list
 * (purple-buddies.h) and the chats (purple-chats.h).
 *
 * Contract: the session is created by cw_purple_session_get and freed with
 * its CwUser (then its chats go, and its account is disabled). The
 * password is read from the store at each login, given to libpurple only
 * for the login (in memory) and cleared from the account at signed-on or
 * when the attempt fails; accounts never remember it (nothing libpurple
 * writes holds it). Not for other transports.
 */
#pragma once
#include "purple-accounts.h"

G_BEGIN_DECLS

/* The user value (scope CW_PURPLE_SCOPE) that marks a registration failing:
 * libpurple's text of the fatal error; absent when none. */
#define CW_PURPLE_SCOPE "purple"
#define CW_PURPLE_FAILING "failing"
#define CW_PURPLE_RECONNECT_MIN_MS 2000

/* The user's session, created when create (NULL for an unregistered user). */
CwPurpleSession *cw_purple_session_get(CwPurpleTransport *t, CwUser *user, gboolean create);
/* Connect now (no-op when connected or connecting, or the registration is
 * failing: then the user is told). */
void cw_purple_session_login(CwPurpleSession *s);
/* Disconnect and stop reconnecting. */
void cw_purple_session_logout(CwPurpleSession *s);
/* The user unregistered: log out and delete the libpurple account (and its
 * buddies). */
void cw_purple_session_forget(CwPurpleSession *s);

/* libpurple's connection signals, connected once at init. */
void cw_purple_session_signals_connect(CwPurpleTransport *t);

G_END_DECLS
