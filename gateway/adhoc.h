/* adhoc.h — XEP-0050 ad-hoc commands offered by the gateway JID (used by disco). */
#pragma once
#include "router.h"

G_BEGIN_DECLS

#define CW_NS_COMMANDS "http://jabber.org/protocol/commands"

/* <query xmlns=disco#items node=commands> listing the commands this user may run on req->to. */
xmpp_stanza_t *cw_adhoc_items(CwRequest *req);
/* Is node one of our command nodes? */
gboolean cw_adhoc_is_command_node(CwGateway *gw, const char *node);

G_END_DECLS
