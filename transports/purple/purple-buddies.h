/* purple-buddies.h — libpurple's buddy list as the user's roster, presence
 * and typing both ways (purple-buddies.c). Stands on purple-accounts.h;
 * the session (purple-session.c) calls it at sign-on and sign-off. */
#pragma once
#include "purple-accounts.h"

G_BEGIN_DECLS

void cw_purple_buddies_signals_connect(CwPurpleTransport *t);
/* Put every buddy of the session's account in the roster with its presence. */
void cw_purple_buddies_sync(CwPurpleSession *s);
/* Every buddy of the session's account appears offline. */
void cw_purple_buddies_all_offline(CwPurpleSession *s);
void cw_purple_buddies_add(CwPurpleSession *s, const char *name);
/* Add a buddy in a libpurple group (created if need be; NULL or "": the
 * default "Buddies"); a buddy already there is moved into it (the plugin
 * moves it on the legacy side, prpl-jabber with a roster set). */
void cw_purple_buddies_add_in_group(CwPurpleSession *s, const char *name, const char *group);
void cw_purple_buddies_remove(CwPurpleSession *s, const char *name);
/* The buddy name for a legacy id the XMPP side used (a bare name; for
 * jabber-like names "bob@host/res" the buddy "bob@host" when it exists). */
char *cw_purple_buddies_name(CwPurpleSession *s, const char *who);

G_END_DECLS
