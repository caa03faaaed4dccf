/* irc-cap.h — IRC registration as a pure state machine: IRCv3 CAP LS 302, SASL, NICK/USER.
 *
 * No I/O: the socket layer feeds it parsed lines and writes the lines it
 * produces, in order, each followed by "\r\n". A session goes:
 *
 *   cw_irc_cap_start()  -> CAP LS 302, [PASS], NICK, USER
 *   CAP * LS [*] :...   (multi-line aware) -> CAP REQ :<wanted caps the server offers>
 *   CAP * ACK / NAK     -> a NAK of several caps is retried one cap per REQ
 *                          (a REQ is all-or-nothing), then the refused ones
 *                          are simply left out
 *   AUTHENTICATE <mech> / AUTHENTICATE + / payload in 400-byte pieces
 *   900, 903 (success) or 902/904/905/906 (failure), 907, 908
 *   CAP END             -> 001 (registered)
 *
 * Only caps named in the wanted list and offered by the server are ever
 * requested; inspircd.org/poison never is, even if wanted. A server without
 * CAP (421 for CAP, or 001 with no CAP reply) registers without caps.
 * 432/433/436/437 before 001 pick another nick: nick_, nick__, nick___,
 * then up to seven bytes of nick followed by a digit (4..8); after that the
 * machine fails. After 001 it still follows CAP NEW / DEL / ACK / NAK
 * (cap-notify) and requests newly offered wanted caps (not sasl).
 *
 * Secrets: the AUTHENTICATE lines it emits hold the password (base64), the
 * PASS line the server password. Do not log them above debug level. The
 * machine keeps its own copies and wipes them when freed.
 */
#pragma once
#include <glib.h>

#include "irc-line.h"

G_BEGIN_DECLS

#define CW_IRC_CAP_ERROR (cw_irc_cap_error_quark())
GQuark cw_irc_cap_error_quark(void);

typedef enum {
    CW_IRC_CAP_ERROR_INVALID_CONFIG, /* a field the server would misread (message names it) */
} CwIrcCapError;

typedef enum {
    CW_IRC_SASL_NONE, /* no SASL */
    CW_IRC_SASL_PLAIN,
    CW_IRC_SASL_EXTERNAL, /* TLS client certificate */
} CwIrcSaslMech;

typedef enum {
    /* mechanism NONE, or the server offered no usable SASL (the reason says why) */
    CW_IRC_SASL_NOT_ATTEMPTED,
    CW_IRC_SASL_IN_PROGRESS,
    CW_IRC_SASL_SUCCEEDED,
    CW_IRC_SASL_FAILED, /* reason: the server's text, or what went wrong */
} CwIrcSaslOutcome;

typedef enum {
    CW_IRC_CAP_STATE_NEW,         /* cw_irc_cap_start() not called yet */
    CW_IRC_CAP_STATE_NEGOTIATING, /* CAP / SASL in progress */
    CW_IRC_CAP_STATE_ENDED,       /* CAP END sent (or no CAP), waiting for 001 */
    CW_IRC_CAP_STATE_REGISTERED,  /* 001 received */
    /* gave up (cw_irc_cap_fail_reason()); a QUIT was emitted: close once it is written */
    CW_IRC_CAP_STATE_FAILED,
} CwIrcCapState;

/* Strings are copied by cw_irc_cap_new(); the struct may go away after. */
typedef struct {
    const char *nick;            /* required */
    const char *username;        /* NULL: nick */
    const char *realname;        /* NULL: nick */
    const char *server_password; /* NULL: no PASS line */
    /* Caps to request when offered, in request order. NULL:
     * cw_irc_cap_default_wanted(). "sasl" is requested exactly when a
     * mechanism is configured, listed here or not. */
    const char *const *wanted_caps;
    CwIrcSaslMech sasl_mech;
    const char *sasl_account;  /* PLAIN: required; EXTERNAL: unused (the certificate names it) */
    const char *sasl_password; /* PLAIN: required */
    /* TRUE: never finish registration unauthenticated. When SASL does not
     * succeed, no CAP END is sent and the state becomes FAILED. */
    gboolean sasl_required;
} CwIrcCapConfig;

typedef struct CwIrcCap CwIrcCap;

/* multi-prefix sasl message-tags server-time away-notify account-notify
 * echo-message extended-join account-tag userhost-in-names cap-notify
 * (NULL-terminated, static). */
const char *const *cw_irc_cap_default_wanted(void);

/* NULL with CW_IRC_CAP_ERROR_INVALID_CONFIG when a field could not be sent
 * as is: empty nick, nick or username holding a space or starting with ':',
 * CR or LF anywhere, PLAIN without account or password. */
CwIrcCap *cw_irc_cap_new(const CwIrcCapConfig *config, GError **error);
void cw_irc_cap_free(CwIrcCap *cap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwIrcCap, cw_irc_cap_free)

/* Append the opening lines to out (a GPtrArray of char *, g_free): CAP LS
 * 302, PASS when configured, NICK, USER. Call once, right after connecting. */
void cw_irc_cap_start(CwIrcCap *cap, GPtrArray *out);

/* Feed every line received; lines to send are appended to out. Returns TRUE
 * when the line belonged to the negotiation and needs nothing else from the
 * caller (CAP, AUTHENTICATE, 900-908 and nick errors before 001, 421 for
 * CAP). 001 and everything else return FALSE: handle them as usual. After
 * FAILED every line returns FALSE and nothing is sent. */
gboolean cw_irc_cap_feed(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out);

/* The server stopped answering during negotiation: abort SASL if under way
 * (AUTHENTICATE *, outcome FAILED "timed out") and send CAP END (or fail
 * when SASL is required). Does nothing in other states. */
void cw_irc_cap_timeout(CwIrcCap *cap, GPtrArray *out);

CwIrcCapState cw_irc_cap_state(const CwIrcCap *cap);

/* Why the state is FAILED (borrowed), else NULL. */
const char *cw_irc_cap_fail_reason(const CwIrcCap *cap);

/* The nick sent last, or the one 001 confirmed (borrowed). */
const char *cw_irc_cap_nick(const CwIrcCap *cap);

/* Is cap enabled now (ACKed and not since deleted)? Only wanted caps count. */
gboolean cw_irc_cap_has(const CwIrcCap *cap, const char *name);

/* The enabled caps, sorted (g_strfreev). */
char **cw_irc_cap_dup_enabled(const CwIrcCap *cap);

/* What the server advertised for name (borrowed): NULL when not offered, ""
 * when offered without value, else the value ("PLAIN,EXTERNAL"). */
const char *cw_irc_cap_offered(const CwIrcCap *cap, const char *name);

/* SASL outcome; *reason (may be NULL) gets an explanation (borrowed, NULL
 * on success and when no mechanism was configured). */
CwIrcSaslOutcome cw_irc_cap_sasl_outcome(const CwIrcCap *cap, const char **reason);

/* The account the server logged us in as (900 RPL_LOGGEDIN), or NULL. */
const char *cw_irc_cap_sasl_account(const CwIrcCap *cap);

/* Longest ISUPPORT PREFIX mode list accepted (real servers have 2..7). */
#define CW_IRC_PREFIX_MAX 16

/* Parse the value of ISUPPORT PREFIX ("(qaohv)~&@%+", without "PREFIX=").
 * TRUE with *modes and *chars (g_free) when it is well-formed: "(" modes ")"
 * chars, both of the same length, 1..CW_IRC_PREFIX_MAX, printable ASCII
 * other than space, no duplicate within each, modes not holding '(' or ')'
 * and chars not holding the characters that start a channel name or a
 * parameter (#, &... are allowed as prefixes; ':' and ',' are not). Else
 * FALSE and the outputs untouched: the caller keeps what it had. An empty
 * "()" is accepted (no prefixes) as the spec allows. */
gboolean cw_irc_prefix_parse(const char *value, char **modes, char **chars);

G_END_DECLS
