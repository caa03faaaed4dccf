/* irc-line.h — one IRC line: parse (IRCv3 message tags), build safely, cut a stream into lines.
 *
 * Pure functions, no I/O. Everything parsed here comes from the network, so
 * nothing asserts on it: malformed input yields NULL, never a crash. Lines
 * are handled without their CR/LF terminator in both directions; the socket
 * layer strips it on input (CwIrcLineBuffer) and appends "\r\n" on output.
 * Bytes are kept as they arrive (no UTF-8 check): decode text parameters
 * with cw_irc_text_to_utf8() before they leave the transport.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Longest line accepted from the network, in bytes, without CR/LF (IRCv3
 * allows 8191 bytes of tags plus a 512-byte message). */
#define CW_IRC_LINE_MAX 8192

/* Most parameters cw_irc_line_build() writes (RFC 1459/2812 limit). */
#define CW_IRC_LINE_MAX_PARAMS 15

/* One parsed line. Every field is owned by the struct. */
typedef struct {
    /* IRCv3 message tags: key (with any '+' client prefix or vendor/) ->
     * unescaped value; "" for a tag without value. Never NULL, often empty.
     * A repeated key keeps its last value. Values may hold any byte except
     * NUL, including CR and LF after unescaping. */
    GHashTable *tags;
    /* The prefix without ':' ("nick!user@host" or "irc.example.net"), or NULL.
     * nick is the part before '!'/'@' (a server name lands here too), user the
     * part between '!' and '@', host the part after '@'; each NULL when absent
     * or empty. */
    char *source;
    char *nick;
    char *user;
    char *host;
    /* "PRIVMSG", "001": ASCII upper-cased, never NULL or empty. */
    char *command;
    /* char *, in order, the trailing parameter (after " :") last and
     * without its ':'. Never NULL. No limit on the count. */
    GPtrArray *params;
} CwIrcLine;

/* Parse one line (NUL-terminated, without CR/LF). Separators are runs of
 * spaces; leading spaces are skipped. Returns NULL when there is no
 * command: NULL or empty input, only spaces, only tags, only a prefix. */
CwIrcLine *cw_irc_line_parse(const char *raw);

void cw_irc_line_free(CwIrcLine *line);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwIrcLine, cw_irc_line_free)

/* Parameter i (borrowed), or NULL when the line has fewer: safe to call with
 * any index on any line. */
const char *cw_irc_line_param(const CwIrcLine *line, guint i);

/* The last parameter (borrowed), or NULL when there are none. */
const char *cw_irc_line_last_param(const CwIrcLine *line);

/* Tag value (borrowed): NULL when absent, "" when present without value. */
const char *cw_irc_line_tag(const CwIrcLine *line, const char *key);

/* The numeric reply code (0..999) when the command is three digits, else -1. */
int cw_irc_line_numeric(const CwIrcLine *line);

/* Build a line to send, without "\r\n": COMMAND, then the parameters, the
 * last one prefixed with ':' when it is empty, holds a space or starts with
 * ':'. NULL-terminated list of parameters (there may be none).
 * Returns NULL (sends nothing) rather than let a parameter change the
 * command: when the command is not [A-Za-z0-9]+, when any parameter holds CR
 * or LF, when a parameter other than the last is empty, holds a space or
 * starts with ':', or when there are more than CW_IRC_LINE_MAX_PARAMS.
 * (C strings cannot hold NUL: text after one is not seen.)
 * The length is not limited here: split long text with cw_irc_text_split()
 * first. Free with g_free(). */
char *cw_irc_line_build(const char *command, ...) G_GNUC_NULL_TERMINATED;

/* The same with a NULL-terminated vector of parameters (may be NULL). */
char *cw_irc_line_buildv(const char *command, const char *const *params);

/* Cuts a byte stream into lines. Feed it whatever the socket returns; take
 * complete lines out with cw_irc_line_buffer_next(). A line ends at LF, and
 * a CR right before the LF is removed. Empty lines are skipped. A line
 * longer than CW_IRC_LINE_MAX bytes is dropped whole (its bytes are never
 * stored beyond that limit) and counted, so the caller can log it. A
 * partial line waits for the next chunk. */
typedef struct CwIrcLineBuffer CwIrcLineBuffer;

CwIrcLineBuffer *cw_irc_line_buffer_new(void);
void cw_irc_line_buffer_free(CwIrcLineBuffer *buf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwIrcLineBuffer, cw_irc_line_buffer_free)

/* Append len bytes (any bytes, NUL included). */
void cw_irc_line_buffer_push(CwIrcLineBuffer *buf, const void *data, gsize len);

/* The next complete line, NUL-terminated and without CR/LF (g_free), or
 * NULL when none is complete yet. *len (may be NULL) gets its length: a
 * line holding a NUL byte is longer than strlen() says, and
 * cw_irc_line_parse() sees it only up to that NUL. */
char *cw_irc_line_buffer_next(CwIrcLineBuffer *buf, gsize *len);

/* How many overlong lines were dropped since the last call; resets to 0. */
guint cw_irc_line_buffer_take_dropped(CwIrcLineBuffer *buf);

/* Bytes the buffer holds (complete lines not yet taken and the partial
 * one): never more than the complete lines plus CW_IRC_LINE_MAX + 1. */
gsize cw_irc_line_buffer_held(CwIrcLineBuffer *buf);

/* A copy of network text fit for a log line (g_free): bytes below 0x20,
 * DEL and bytes >= 0x80 that are not part of valid UTF-8 become \xNN,
 * backslash becomes \\, so a CR or an ANSI escape from a server never
 * reaches the log as such. NULL gives "(null)". Cut after 512 input bytes
 * ("..." appended). */
char *cw_irc_log_escape(const char *text);

G_END_DECLS
