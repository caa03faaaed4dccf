/* roster.h — contacts into the user's roster: XEP-0356 roster pushes when the
 * server grants the permission, else subscription presences.
 *
 * The server advertises the permission in a <message/> right after the
 * handshake, in urn:xmpp:privilege:2 (Prosody's mod_privilege) or :1
 * (ejabberd 23.01); we answer in the namespace it used. A failed push (ejabberd
 * 23.01 answers internal-server-error) falls back to subscription presences.
 */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

/* Read a <privilege/> advertisement from the server; TRUE if the message was one. */
gboolean cw_roster_handle_privilege(CwGateway *gw, xmpp_stanza_t *message);

/* Put contact_jid (with display name, may be NULL) into the user's roster. */
void cw_roster_add(CwGateway *gw, const char *user_jid, const char *contact_jid, const char *name);
/* Take contact_jid out of the user's roster (and end both subscriptions). */
void cw_roster_remove(CwGateway *gw, const char *user_jid, const char *contact_jid);

G_END_DECLS
