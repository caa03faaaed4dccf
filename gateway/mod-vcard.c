/* mod-vcard.c — XEP-0054 vcard-temp: a contact's card (its roster name, and
 * its number when the transport's legacy ids are phone numbers), and the
 * gateway's own. XEP-0172 nicks go with roster subscriptions (roster.c). */
#define G_LOG_DOMAIN "causeway"
#include <string.h>

#include "router.h"
#include "safetext.h"
#include "stanza.h"

#define NS_VCARD "vcard-temp"

/* The name the user's roster has for contact_jid, or NULL. */
static char *
stored_name(CwRequest *req, const char *contact_jid)
{
    if (!req->user->registered)
        return NULL;
    g_autoptr(GPtrArray) contacts = cw_store_contact_list(req->gw->store, req->user->jid, NULL);
    for (guint i = 0; contacts && i < contacts->len; i++) {
        CwStoredContact *c = contacts->pdata[i];
        if (c->name && g_ascii_strcasecmp(c->jid, contact_jid) == 0)
            return g_strdup(c->name);
    }
    return NULL;
}

static void
vcard_get(CwRequest *req)
{
    CwGateway *gw = req->gw;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    xmpp_stanza_t *card = cw_stanza_new(ctx, "vCard", NS_VCARD);
    if (!req->to_node) {
        cw_stanza_add_text_child(card, "FN", NULL,
                                 gw->ops->description ? gw->ops->description : gw->ops->type);
        cw_request_result(req, card);
        return;
    }
    g_autofree char *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    if (!legacy) {
        xmpp_stanza_release(card);
        cw_request_error(req, "item-not-found", gw->ops->address_help);
        return;
    }
    g_autofree char *bare = g_strdup_printf("%s@%s", req->to_node, cw_gateway_domain(gw));
    g_autofree char *name = stored_name(req, bare);
    const char *shown = name ? name : legacy;
    CW_TEXT_BOUNDARY(shown, CW_TEXT_MAX_NAME);
    if (shown) {
        cw_stanza_add_text_child(card, "FN", NULL, shown);
        cw_stanza_add_text_child(card, "NICKNAME", NULL, shown);
    }
    if (gw->ops->vcard_tel) {
        const char *number = legacy;
        CW_TEXT_BOUNDARY(number, CW_TEXT_MAX_NAME);
        xmpp_stanza_t *tel = cw_stanza_add_child(card, cw_stanza_new(ctx, "TEL", NULL));
        cw_stanza_add_child(tel, cw_stanza_new(ctx, "CELL", NULL));
        if (number)
            cw_stanza_add_text_child(tel, "NUMBER", NULL, number);
    }
    cw_request_result(req, card);
}

static const char *const features[] = { NS_VCARD, NULL };
static const CwHandler handlers[] = { { "iq", "get", NS_VCARD, vcard_get }, { 0 } };
const CwModule cw_mod_vcard = { "vcard", features, handlers };
