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

/* Put contact_jid (with display name, may be NULL) into the user's roster, in
 * group (NULL: the gateway's domain); again for an item already there updates
 * its name and group (a roster push replaces the item). The subscription
 * fallback carries the name (XEP-0172 nick) but no group: the user's client
 * chooses it. */
void cw_roster_add(CwGateway *gw, const char *user_jid, const char *contact_jid, const char *name,
                   const char *group);
/* The group the user put contact_jid in, read from their roster (XEP-0356
 * "get" or "both"): callback gets the item's first group, or NULL (no such
 * item, no group, an error, no permission: then called at once). user_jid
 * and data are the caller's; the callback runs once (with group NULL when
 * the connection drops first), or never when the process shuts down with
 * the read pending (like every pending iq's data, not freed then). */
typedef void (*CwRosterGroupCallback)(CwGateway *gw, const char *group, gpointer data);
void cw_roster_read_group(CwGateway *gw, const char *user_jid, const char *contact_jid,
                          CwRosterGroupCallback callback, gpointer data);
/* May the gateway push into rosters (XEP-0356 set or both granted)? */
gboolean cw_roster_can_push(CwGateway *gw);
/* Take contact_jid out of the user's roster (and end both subscriptions). */
void cw_roster_remove(CwGateway *gw, const char *user_jid, const char *contact_jid);

G_END_DECLS
