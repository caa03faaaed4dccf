/* irc-session.h — one XMPP user's connection to one IRC server, and its channels.
 *
 * Opened when the user first joins a channel or writes to someone on that
 * server; closed after the last channel is left with no 1:1 conversation
 * open (unless persistent). An unexpected disconnect is retried with backoff
 * (1 s doubling to 60 s) and every channel rejoined; while it is down, what
 * the user sends gets an error back instead of vanishing. A session that
 * has never reached 001 gives up after CW_IRC_SESSION_MAX_FAILED_CONNECTS
 * consecutive failures (a dead or wrong host): the user is told once (a
 * notice from the server's JID and a join error for each channel) and the
 * session is forgotten. One that did register once keeps trying: the server
 * exists, it is down for a while. A connection that is up but has no 001
 * after register_timeout_ms counts as a failed connect (half of it: CAP
 * negotiation is cut short with cw_irc_cap_timeout() first), so a server
 * that accepts and never registers us does not hold messages forever.
 *
 * Every message accepted from XMPP is either sent or answered with an error
 * (recipient-unavailable), once per message however many lines it was cut
 * into: lines wait with their CwIrcOrigin (irc-conn.h) before 001 (pending)
 * and in the connection's queue, and whatever the connection reports unsent
 * or the session drops is answered.
 *
 * Lifetime (the rule for every asynchronous piece of the session): a session
 * is owned by its CwIrcUser's table and freed only through it (forget).
 * Every GLib source it adds (reconnect, ISON polling, registration timeout,
 * deferred forget) is kept by id in the session and removed in its free; it
 * holds no GIO operation of its own (its CwIrcConn does, under the rule in
 * irc-conn.h, and the session frees the conn, with no callback after that).
 * No source or callback ever holds a raw session pointer that its free does
 * not cancel. A failure found while a caller still holds the session (a
 * setup error inside cw_irc_session_get()) frees it from such a source,
 * never on the spot.
 */
#pragma once
#include <causeway/core.h>

#include "irc-cap.h"
#include "irc-chanstate.h"
#include "irc-conn.h"
#include "irc-policy.h"

G_BEGIN_DECLS

typedef struct CwIrcTransport CwIrcTransport;
typedef struct CwIrcUser CwIrcUser;
typedef struct CwIrcSession CwIrcSession;

/* Consecutive failed connects (no 001) after which a session that never
 * registered is given up. */
#define CW_IRC_SESSION_MAX_FAILED_CONNECTS 8
/* The MOTD is collected up to this many bytes or lines, then sent with a
 * "(truncated)" note. */
#define CW_IRC_MOTD_MAX_BYTES (64 * 1024)
#define CW_IRC_MOTD_MAX_LINES 1000
/* 1:1 conversations remembered per session (each IRC user who writes to
 * the user opens one): beyond it new ones are delivered, not remembered. */
#define CW_IRC_SESSION_MAX_QUERIES 1024
/* Messages awaiting their echo-message per channel: a server that offers
 * echo-message and never echoes must not make the queue grow; the oldest
 * is then reflected without waiting. */
#define CW_IRC_CHANNEL_MAX_ECHOES 256

/* Process-wide settings from [transport:NAME]. */
struct CwIrcTransport {
    char *default_server;
    guint16 port;
    gboolean tls, tls_verify;
    guint flood_burst, flood_interval_ms;
    gboolean persistent;
    char *realname;
    char *charset;
    guint reconnect_max_ms;
    guint register_timeout_ms; /* connected but no 001 after this long: close and retry */
    CwIrcPolicy *policy; /* irc_servers and the connection limits */
    GHashTable *sessions; /* every live CwIrcSession (a set, borrowed): the metrics collector */
    /* Each incoming line once CAP negotiation is past (irc-events.h's
     * cw_irc_events_handle_line, set by irc-transport.c). */
    void (*handle_line)(CwIrcSession *s, const CwIrcLine *line);
};

struct CwIrcUser {
    CwUser *user;
    GHashTable *sessions; /* server -> CwIrcSession */
};

/* One channel of one connection. What every connection in the channel
 * sees alike, its members, is kept once, in the shared state
 * (irc-chanstate.h); here only what differs: this connection's join state,
 * the NAMES it is collecting and the user's messages awaiting their echo. */
typedef struct {
    CwIrcSession *session; /* the owner (borrowed) */
    char *name;       /* as the server spells it, once known */
    char *room_id;    /* the core's id for the room */
    char *key;
    gboolean joined;  /* 366 seen since the last (re)join */
    gboolean was_joined; /* the XMPP side already has the room (a rejoin tells only changes) */
    CwIrcChanState *state;     /* shared members (one reference) */
    GHashTable *names_pending; /* collecting 353 until 366 (cw_irc_member_table_new) */
    gboolean names_capped;     /* names_pending reached CW_IRC_CHANNEL_MAX_MEMBERS (logged) */
    gboolean names_partial;    /* names_pending holds only the user's own nick (another leads) */
    GQueue echoes;    /* CwIrcEcho: the user's messages awaiting echo-message */
} CwIrcChannel;

/* A groupchat message sent with echo-message on: reflected to XMPP (with the
 * client's id) once the server has echoed all of its lines. */
typedef struct {
    char *id, *body;
    guint lines_left;
} CwIrcEcho;
void cw_irc_echo_free(gpointer echo);

struct CwIrcSession {
    CwIrcUser *owner;
    CwUser *user;
    CwIrcTransport *transport;
    char *server;
    CwIrcConn *conn;
    CwIrcCap *cap;
    char *nick;          /* current (after 001), else the one asked for */
    char *charset;       /* fallback for text that is not UTF-8 */
    gboolean registered; /* 001 seen on the current connection */
    gboolean quitting;   /* we asked to close */
    GHashTable *channels; /* casefolded name -> CwIrcChannel */
    GHashTable *queries;  /* casefolded nick -> nick: 1:1 conversations */
    GHashTable *private_rooms; /* casefolded nick -> room id: private chats opened from a room */
    GHashTable *last_ids; /* casefolded target -> XMPP id of the last message sent to it */
    GPtrArray *pending;   /* CwIrcPendingLine *: lines to send once registered */
    char *prefix_modes, *prefix_chars; /* validated ISUPPORT PREFIX (cw_irc_prefix_parse) */
    GString *motd;
    guint motd_lines;
    gboolean motd_truncated;
    GHashTable *monitored; /* casefolded nick -> nick: contacts whose presence we follow */
    GHashTable *online;    /* casefolded nick -> nick: monitored contacts seen online */
    gboolean has_monitor;  /* the server offers MONITOR (else ISON polling) */
    guint ison_id;
    GQueue listings;     /* CwRoomList* waiting for LIST replies, oldest first */
    guint listed, list_max;
    guint reconnect_id, attempt;
    gboolean ever_registered; /* 001 seen on some connection of this session */
    guint forget_id;          /* a deferred forget (a setup failure) */
    guint register_id;        /* registration timeout of the current connection */
    gboolean register_timed_out;
    gboolean revive;          /* needed again while quitting: reconnect once closed */
    char *setup_error;        /* why the setup failed: the answer to rooms joined meanwhile */
};

/* A line waiting for 001, with the message it is part of (may be NULL). */
typedef struct {
    char *line;
    CwIrcOrigin *origin;
} CwIrcPendingLine;

/* The user's IRC state (created on demand). */
CwIrcUser *cw_irc_user_get(CwUser *user);
/* The session for server, created and connecting if absent. nick: the nick to
 * register with when a connection is made (NULL: registered nick or JID node).
 * A session that is quitting (QUIT sent, waiting for the close) is revived:
 * what it held is dropped and it connects again once the old connection is
 * gone, so a join right after the last leave is not lost with it. */
CwIrcSession *cw_irc_session_get(CwUser *user, const char *server, const char *nick);
CwIrcSession *cw_irc_session_lookup(CwUser *user, const char *server);

/* Send a line (queued until registration is complete when not yet). FALSE
 * when the connection is down or the line is unsafe. */
gboolean cw_irc_session_send(CwIrcSession *s, const char *line);
/* The same for a line of a message from XMPP: if it is accepted (TRUE) and
 * later cannot be sent, origin is answered with recipient-unavailable
 * (unless already answered). On FALSE the caller answers. */
gboolean cw_irc_session_send_from(CwIrcSession *s, const char *line, CwIrcOrigin *origin);
/* Answer origin with recipient-unavailable and text, unless it already was. */
void cw_irc_session_fail_origin(CwIrcSession *s, CwIrcOrigin *origin, const char *text);
/* Close with QUIT and forget the session. */
void cw_irc_session_quit(CwIrcSession *s, const char *message);
/* Close the session if no channel and no conversation needs it. */
void cw_irc_session_release_if_idle(CwIrcSession *s);

CwIrcChannel *cw_irc_session_channel(CwIrcSession *s, const char *name);
CwIrcChannel *cw_irc_session_add_channel(CwIrcSession *s, const char *name, const char *room_id,
                                         const char *key);
void cw_irc_session_remove_channel(CwIrcSession *s, const char *name);

/* Remember the XMPP id of the last message to target (for IRC errors about it). */
void cw_irc_session_note_id(CwIrcSession *s, const char *target, const char *id);
const char *cw_irc_session_last_id(CwIrcSession *s, const char *target);

/* Legacy ids: "nick%server", "server". */
char *cw_irc_session_user_id(CwIrcSession *s, const char *nick);

/* Follow / stop following a nick's presence (MONITOR, or ISON polling). */
void cw_irc_session_monitor(CwIrcSession *s, const char *nick);
void cw_irc_session_unmonitor(CwIrcSession *s, const char *nick);
/* Report a monitored nick online or offline (only changes are sent). */
void cw_irc_session_set_online(CwIrcSession *s, const char *nick, gboolean online);
/* After 001/005: start following the monitored nicks. */
void cw_irc_session_start_monitor(CwIrcSession *s);

/* Before the user is told it is in c's room: make sure the core's occupant
 * set of the room holds the shared members (it is built once per room; a
 * room whose set was made while others kept the channel is filled here). */
void cw_irc_session_sync_room(CwIrcSession *s, CwIrcChannel *c);

/* After 001: join channels, send what waited. */
void cw_irc_session_on_registered(CwIrcSession *s);

/* Text from the network to UTF-8 without formatting codes. */
char *cw_irc_session_text(CwIrcSession *s, const char *raw);

G_END_DECLS
