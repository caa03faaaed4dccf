/* mod-gateway.c — XEP-0100 jabber:iq:gateway: legacy id -> JID through the transport's addressing. */
#include <causeway/jid.h>

#include "router.h"
#include "stanza.h"

#define NS_GATEWAY "jabber:iq:gateway"

static void
gateway_get(CwRequest *req)
{
    xmpp_stanza_t *q = cw_stanza_new(cw_gateway_ctx(req->gw), "query", NS_GATEWAY);
    const char *prompt = req->gw->ops->gateway_prompt ? req->gw->ops->gateway_prompt : "Legacy address";
    g_autofree char *desc = g_strdup_printf("Enter the %s of the contact you would like to add.",
                                            prompt);
    cw_stanza_add_text_child(q, "desc", NULL, desc);
    cw_stanza_add_text_child(q, "prompt", NULL, prompt);
    cw_request_result(req, q);
}

static void
gateway_set(CwRequest *req)
{
    g_autofree char *legacy = cw_stanza_child_text(req->payload, "prompt", NULL);
    if (legacy)
        g_strstrip(legacy);
    g_autofree char *jid = legacy && *legacy ? cw_legacy_id_to_jid(req->gw, legacy) : NULL;
    if (!jid || !cw_jid_is_valid(jid)) {
        cw_request_error(req, "not-acceptable", "That is not a valid address on this network.");
        return;
    }
    xmpp_stanza_t *q = cw_stanza_new(cw_gateway_ctx(req->gw), "query", NS_GATEWAY);
    cw_stanza_add_text_child(q, "jid", NULL, jid);
    /* Old clients read <prompt/> (XEP-0100 §6.3). */
    cw_stanza_add_text_child(q, "prompt", NULL, jid);
    cw_request_result(req, q);
}

static const char *const features[] = { NS_GATEWAY, NULL };
static const CwHandler handlers[] = {
    { "iq", "get", NS_GATEWAY, gateway_get },
    { "iq", "set", NS_GATEWAY, gateway_set },
    { 0 },
};
const CwModule cw_mod_gateway = { "gateway", features, handlers };
