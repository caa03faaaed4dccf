/* caps.c — XEP-0115: the verification string over our disco identity and features. */
#include "caps.h"

#include "router.h"
#include "stanza.h"

const char *
cw_caps_identity_name(CwGateway *gw)
{
    return gw->ops->description ? gw->ops->description : "Causeway gateway";
}

char *
cw_caps_compute_ver(CwGateway *gw)
{
    /* XEP-0115 §5.1: category/type/lang/name< then each feature<, sorted. */
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "gateway/%s//%s<", gw->ops->disco_type, cw_caps_identity_name(gw));
    g_autoptr(GPtrArray) features = cw_router_features(gw);
    for (guint i = 0; i < features->len; i++)
        g_string_append_printf(s, "%s<", (const char *)features->pdata[i]);
    guint8 digest[20];
    gsize len = sizeof digest;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, (const guchar *)s->str, s->len);
    g_checksum_get_digest(sum, digest, &len);
    g_checksum_free(sum);
    g_string_free(s, TRUE);
    return g_base64_encode(digest, len);
}

xmpp_stanza_t *
cw_caps_element(CwGateway *gw)
{
    xmpp_stanza_t *c = cw_stanza_new(cw_gateway_ctx(gw), "c", "http://jabber.org/protocol/caps");
    xmpp_stanza_set_attribute(c, "hash", "sha-1");
    xmpp_stanza_set_attribute(c, "node", CW_CAPS_NODE);
    xmpp_stanza_set_attribute(c, "ver", gw->caps_ver);
    return c;
}
