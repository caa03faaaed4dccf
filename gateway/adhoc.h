/* adhoc.h — XEP-0050 ad-hoc commands offered by the gateway JID (used by disco). */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

#define CW_NS_COMMANDS "http://jabber.org/protocol/commands"

/* <query xmlns=disco#items node=commands> listing the commands this user may run. */
xmpp_stanza_t *cw_adhoc_items(CwGateway *gw, CwUser *user, xmpp_ctx_t *ctx);
/* Is node one of our command nodes? */
gboolean cw_adhoc_is_command_node(const char *node);

G_END_DECLS
