/* safetext.h — the one boundary for text entering the core from a legacy network.
 *
 * Every string a transport hands to the core (bodies, nicks, subjects, tag
 * values, ids, reasons, room ids) comes from a network we do not control:
 * IRC users and servers, SMS senders, libpurple plugins. One character that
 * XML 1.0 cannot carry (U+FFFF, a C0 control, a byte that is not UTF-8) in
 * one stanza makes the XMPP server close the whole component stream, and
 * every user of the transport is dropped. So each cw_legacy_* entry point
 * passes its strings through cw_text_boundary() before anything else, and
 * the serialiser (stanza.h) enforces the same rule on whatever it writes, as
 * the last line of defence.
 *
 * "XML-safe" here means: valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) made only of XML 1.0 Chars (tab, LF,
 * CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF), and at most a given
 * number of bytes. Making text safe replaces each byte that does not start a
 * valid sequence, and each non-character U+FFFE/U+FFFF, with U+FFFD; drops
 * the C0 controls XML cannot carry; and cuts the text at a character
 * boundary at the byte limit.
 *
 * Pure functions, main thread or not.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Byte limits at the boundary. Names, ids and addresses fit a JID part
 * (RFC 7622: 1023 bytes); texts are bounded well above any legacy network's
 * message size, and far below what would hurt the XMPP server. */
#define CW_TEXT_MAX_NAME 1023
#define CW_TEXT_MAX_TEXT (64 * 1024)

/* Is c a Char of XML 1.0 (§2.2)? */
gboolean cw_text_is_xml_char(gunichar c);

/* TRUE when text (NUL-terminated) is XML-safe and at most max bytes long. */
gboolean cw_text_is_xml_safe(const char *text, gsize max);

/* The XML-safe form of text (at most max bytes); newly allocated. NULL for NULL. */
char *cw_text_make_xml_safe(const char *text, gsize max);

/* The boundary: text itself when it is already XML-safe within max bytes
 * (no copy: the common case), else its safe form, which is also stored in
 * *owned for the caller to free (g_autofree). NULL for NULL. */
const char *cw_text_boundary(const char *text, gsize max, char **owned);

/* Append text as XML character data (attribute FALSE) or as (part of) a
 * double-quoted attribute value: & < > " escaped, CR (and, in attributes,
 * tab and LF) as character references so parsers keep them, and made
 * XML-safe on the way as cw_text_make_xml_safe() does (without a length
 * limit). The serialiser's one writer of text: nothing else escapes. */
void cw_text_append_escaped(GString *out, const char *text, gboolean attribute);

/* At the top of a cw_legacy_* function: the borrowed string parameter var
 * stands for its XML-safe form (at most max bytes) for the rest of it. */
#define CW_TEXT_BOUNDARY(var, max)                                                         \
    g_autofree char *var##_safe_copy = NULL;                                               \
    var = cw_text_boundary(var, max, &var##_safe_copy)

/* The same for a const CwMessage *msg parameter: body and id made safe. */
#define CW_MESSAGE_BOUNDARY(msg)                                                           \
    CwMessage msg##_safe = *(msg);                                                         \
    g_autofree char *msg##_body_copy = NULL, *msg##_id_copy = NULL;                        \
    msg##_safe.body = cw_text_boundary((msg)->body, CW_TEXT_MAX_TEXT, &msg##_body_copy);   \
    msg##_safe.id = cw_text_boundary((msg)->id, CW_TEXT_MAX_NAME, &msg##_id_copy);         \
    msg = &msg##_safe

G_END_DECLS
