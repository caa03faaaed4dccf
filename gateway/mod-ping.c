/* mod-ping.c — XEP-0199 XMPP ping: the gateway and its contacts answer. */
#include "muc.h"
#include "router.h"

#define NS_PING "urn:xmpp:ping"

static void
ping(CwRequest *req)
{
    g_autofree char *room_id = NULL;
    if (cw_muc_is_room_request(req, &room_id)) {
        cw_muc_handle_ping(req, room_id);
        return;
    }
    cw_request_result(req, NULL);
}

static const char *const features[] = { NS_PING, NULL };
static const CwHandler handlers[] = { { "iq", "get", NS_PING, ping }, { 0 } };
const CwModule cw_mod_ping = { "ping", features, handlers };
