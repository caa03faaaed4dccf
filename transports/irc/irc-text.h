/* irc-text.h — IRC message text: charset fallback, mIRC formatting (XEP-0393), splitting, CTCP.
 *
 * Pure functions, no I/O. Inputs may come straight from the network: they
 * never assert on content, only on programmer errors (NULL where not
 * allowed, a nonsense limit). Returned strings are newly allocated (g_free).
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Charset used when incoming bytes are not UTF-8. */
#define CW_IRC_TEXT_FALLBACK_CHARSET "ISO-8859-1"

/* Incoming bytes -> valid UTF-8. Valid UTF-8 passes through unchanged;
 * otherwise the bytes are converted from fallback_charset (NULL or "" means
 * CW_IRC_TEXT_FALLBACK_CHARSET; any g_convert()/iconv name such as "latin1",
 * "CP1252", "KOI8-R"); when that conversion fails (unknown charset, bytes
 * invalid in it too), invalid sequences are replaced with U+FFFD.
 * len -1 means NUL-terminated; the text ends at the first NUL either way.
 * NULL input gives NULL. */
char *cw_irc_text_to_utf8(const char *data, gssize len, const char *fallback_charset);

typedef enum {
    CW_IRC_STYLE_STRIP,   /* remove every formatting code */
    CW_IRC_STYLE_XEP0393, /* bold -> *text*, italic -> _text_ (XEP-0393 Message Styling) */
} CwIrcStyle;

/* Remove mIRC formatting: colours (\x03 with up to two digits of foreground
 * and ",background" of up to two digits; \x04 with RRGGBB[,RRGGBB]), bold
 * \x02, italic \x1d, underline \x1f, strikethrough \x1e, monospace \x11,
 * reverse \x16, reset \x0f, and every other C0 control except TAB (so no
 * CTCP \x01 or bell reaches XMPP, where they are invalid XML).
 * With CW_IRC_STYLE_XEP0393 a bold or italic run becomes *run* / _run_ only
 * when the result is a well-formed XEP-0393 span: the run starts the text or
 * follows whitespace, neither begins nor ends with whitespace, does not hold
 * its own marker character, and nests properly with the other style. Any
 * other run is just stripped. Input should be UTF-8 (cw_irc_text_to_utf8());
 * multi-byte characters are copied untouched. NULL gives NULL. */
char *cw_irc_text_strip_format(const char *text, CwIrcStyle style);

/* Cut outgoing text into IRC-sized pieces. Each line of text (split at LF,
 * CR LF or CR; empty lines skipped) becomes one or more chunks of at most
 * max_bytes bytes, never cutting a UTF-8 sequence. A chunk ends at the last
 * space within its limit when that space lies in the chunk's last quarter;
 * that one space is then dropped. Otherwise the cut falls on the last
 * character boundary that fits. Invalid UTF-8 is first repaired (U+FFFD).
 * max_bytes must be at least 4 (one character of any size): compute it as
 * 510 minus what surrounds the text on the wire, for example
 * ":nick!user@host PRIVMSG #chan :" (and 9 more for a CTCP ACTION).
 * Returns a GPtrArray of char * (free with g_ptr_array_unref), empty for
 * NULL or empty text; chunks hold no CR or LF. */
GPtrArray *cw_irc_text_split(const char *text, gsize max_bytes);

/* CTCP (the \x01-quoted PRIVMSG/NOTICE form). Is text a CTCP message, and
 * what does it say? "\x01ACTION waves\x01" -> command "ACTION" (ASCII
 * upper-cased), args "waves". The closing \x01 may be missing (some clients
 * omit it); args end at the first \x01 after the opening one and are ""
 * when there are none. The command must be [A-Za-z0-9_-]+, otherwise (or
 * when text does not start with \x01) FALSE. command and args may be NULL;
 * on FALSE they are left untouched. */
gboolean cw_irc_ctcp_parse(const char *text, char **command, char **args);

/* "\x01COMMAND args\x01" ("\x01COMMAND\x01" when args is NULL or ""). \x01
 * bytes inside args are removed. NULL when command is not [A-Za-z0-9_-]+. */
char *cw_irc_ctcp_build(const char *command, const char *args);

/* "\x01ACTION text\x01": what an XMPP "/me text" becomes. */
char *cw_irc_ctcp_action(const char *text);

G_END_DECLS
