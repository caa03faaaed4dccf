/* caps.h — XEP-0115 entity capabilities of the gateway JID, and its disco identity. */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

#define CW_CAPS_NODE "https://causeway.invalid/caps"

/* The identity name shown in disco: the transport's description. */
const char *cw_caps_identity_name(CwGateway *gw);
/* The verification string (base64 SHA-1) over identity and features (allocated). */
char *cw_caps_compute_ver(CwGateway *gw);
/* <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node=... ver=.../> */
xmpp_stanza_t *cw_caps_element(CwGateway *gw);

G_END_DECLS
