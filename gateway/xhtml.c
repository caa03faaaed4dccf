/* xhtml.c — XEP-0071 XHTML-IM elements to and from body-content XML text. */
#define G_LOG_DOMAIN "causeway"
#include "xhtml.h"

#include <string.h>

#include "causeway/core.h"
#include "stanza.h"

xmpp_stanza_t *
cw_xhtml_element(xmpp_ctx_t *ctx, const char *fragment)
{
    if (!fragment || strlen(fragment) > CW_XHTML_MAX || !g_utf8_validate(fragment, -1, NULL))
        return NULL;
    g_autofree char *doc = g_strdup_printf("<body xmlns='" CW_NS_XHTML "'>%s</body>", fragment);
    xmpp_stanza_t *body = xmpp_stanza_new_from_string(ctx, doc);
    if (!body) {
        g_debug("xhtml: dropping an XHTML-IM body that does not parse");
        return NULL;
    }
    xmpp_stanza_t *html = cw_stanza_new(ctx, "html", CW_NS_XHTML_IM);
    cw_stanza_add_child(html, body);
    return html;
}

char *
cw_xhtml_body_of(xmpp_stanza_t *message)
{
    xmpp_stanza_t *html = xmpp_stanza_get_child_by_name_and_ns(message, "html", CW_NS_XHTML_IM);
    xmpp_stanza_t *body = html ? xmpp_stanza_get_child_by_name_and_ns(html, "body", CW_NS_XHTML) : NULL;
    if (!body)
        return NULL;
    GString *out = g_string_new(NULL);
    gboolean too_long = FALSE;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(body); c && !too_long; c = xmpp_stanza_get_next(c)) {
        char *buf = NULL;
        size_t len = 0;
        if (xmpp_stanza_to_text(c, &buf, &len) != 0 || !buf)
            continue;
        if (out->len + len <= CW_XHTML_MAX)
            g_string_append_len(out, buf, len);
        else
            too_long = TRUE;
        xmpp_free(xmpp_stanza_get_context(c), buf);
    }
    if (out->len == 0 || too_long) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}
