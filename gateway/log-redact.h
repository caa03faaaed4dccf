/* log-redact.h — passwords out of the debug log: XML is rewritten with every
 * password-like value replaced, by structure, wherever it is in a stanza.
 *
 * The --debug log shows each stanza sent and received (libstrophe's "RECV: ",
 * "SENT: ", "QUEUED: " lines). The README promises that no password is
 * logged at any level, so before a line is logged its XML is parsed and
 * re-serialised with the text of these elements replaced by CW_LOG_REDACTED:
 *
 *   - any element named password, in any namespace and at any depth (XEP-0077
 *     jabber:iq:register, XEP-0045 <x xmlns='http://jabber.org/protocol/muc'>
 *     <password/>, XEP-0078 jabber:iq:auth ...); also jabber:iq:register <key/>
 *     and jabber:iq:auth <digest/> and <token/>;
 *   - SASL (urn:ietf:params:xml:ns:xmpp-sasl) auth, response, challenge,
 *     success; the XEP-0114 <handshake/>;
 *   - every <value/> of a data form (jabber:x:data) field except FORM_TYPE
 *     and fields of type boolean, list-single, list-multi or fixed. Not only
 *     text-private and *password* fields: submitted forms usually carry no
 *     type, and plain text fields hold secrets the core cannot recognise (the
 *     IRC after_connect commands with an IDENTIFY password in them).
 *
 * Element names, attributes and every other text are kept, so the log still
 * shows what was exchanged. Fails closed: text that does not parse as XML
 * (e.g. a write chunk that starts in the middle of a stanza) is not logged;
 * only its length is. XML cut off at its end (an open stream header, a
 * chunk that ends mid-stanza) is logged up to the cut, redacted by the same
 * rules; what follows the last complete tag is replaced by CW_LOG_CUT.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_LOG_REDACTED "[redacted]"
/* Ends the output of XML cut off after its last complete tag. A comment, so
 * that redacting the output again gives the same text. */
#define CW_LOG_CUT "<!--cut here: the rest is not logged-->"

/* The XML fragment text (zero or more elements, text between them allowed
 * only as whitespace at top level) re-serialised with secrets replaced;
 * allocated. NULL when text does not parse: then it must not be logged. */
char *cw_log_redact_xml(const char *text);

/* A log line that may carry XML after a label ("RECV: <iq ...>"): the label
 * kept, the rest passed through cw_log_redact_xml(). The label is one of
 * libstrophe's stream-data labels (RECV, SENT, QUEUED, Q_CONTENT, DROPPED:
 * the rest is data even without any '<', e.g. a write chunk cut inside a
 * password), else what ends at the last ": " before the first '<'. A line
 * without either is returned as is; one whose data does not parse becomes
 * "LABEL(N bytes of XML not logged: ...)". Never NULL. */
char *cw_log_redact_line(const char *line);

G_END_DECLS
