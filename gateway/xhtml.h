/* xhtml.h — XEP-0071 XHTML-IM: the <html/> element of a message to and from
 * the XML text of its XHTML <body/> content (CwMessage.xhtml). What may be in
 * it is the transport's business (its whitelist); the core checks only that
 * it is well-formed and bounded. */
#pragma once
#include <strophe.h>
#include <glib.h>

G_BEGIN_DECLS

#define CW_NS_XHTML_IM "http://jabber.org/protocol/xhtml-im"
#define CW_NS_XHTML "http://www.w3.org/1999/xhtml"

/* <html xmlns=xhtml-im><body xmlns=xhtml>FRAGMENT</body></html>, a new
 * reference; NULL when fragment is NULL, longer than CW_XHTML_MAX or not a
 * well-formed XML fragment. */
xmpp_stanza_t *cw_xhtml_element(xmpp_ctx_t *ctx, const char *fragment);

/* The content of message's XHTML-IM body as XML text (allocated), or NULL
 * when there is none or it is longer than CW_XHTML_MAX. */
char *cw_xhtml_body_of(xmpp_stanza_t *message);

G_END_DECLS
