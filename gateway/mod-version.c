/* mod-version.c — XEP-0092 software version of the gateway. */
#include "router.h"
#include "stanza.h"

#define NS_VERSION "jabber:iq:version"

static void
version(CwRequest *req)
{
    if (req->to_node) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    xmpp_stanza_t *q = cw_stanza_new(cw_gateway_ctx(req->gw), "query", NS_VERSION);
    cw_stanza_add_text_child(q, "name", NULL, "Causeway");
    cw_stanza_add_text_child(q, "version", NULL, CW_VERSION);
    cw_request_result(req, q);
}

static const char *const features[] = { NS_VERSION, NULL };
static const CwHandler handlers[] = { { "iq", "get", NS_VERSION, version }, { 0 } };
const CwModule cw_mod_version = { "version", features, handlers };
