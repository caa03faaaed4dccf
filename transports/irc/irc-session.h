/* irc-session.h — one XMPP user's connection to one IRC server, and its channels.
 *
 * Opened when the user first joins a channel or writes to someone on that
 * server; closed after the last channel is left with no 1:1 conversation
 * open (unless persistent). An unexpected disconnect is retried with backoff
 * (1 s doubling to 60 s) and every channel rejoined; while it is down, what
 * the user sends gets an error back instead of vanishing.
 */
#pragma once
#include <causeway/core.h>

#include "irc-cap.h"
#include "irc-conn.h"
#include "irc-policy.h"

G_BEGIN_DECLS

typedef struct CwIrcTransport CwIrcTransport;
typedef struct CwIrcUser CwIrcUser;
typedef struct CwIrcSession CwIrcSession;

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
    CwIrcPolicy *policy; /* irc_servers and the connection limits */
};

struct CwIrcUser {
    CwUser *user;
    GHashTable *sessions; /* server -> CwIrcSession */
};

typedef struct {
    char *name;       /* as the server spells it, once known */
    char *room_id;    /* the core's id for the room */
    char *key;
    gboolean joined;  /* 366 seen since the last (re)join */
    gboolean was_joined; /* the XMPP side already has the room (a rejoin tells only changes) */
    GHashTable *members;       /* pooled nick -> prefix chars ("@", "", ...), interned */
    GHashTable *names_pending; /* collecting 353 until 366 */
    GQueue echoes;    /* CwIrcEcho: the user's messages awaiting echo-message */
} CwIrcChannel;

/* A nick -> prefix table (members, names_pending): keys pooled (strpool.h). */
GHashTable *cw_irc_member_table_new(void);

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
    GPtrArray *pending;   /* lines to send once registered */
    char *prefix_modes, *prefix_chars;
    GString *motd;
    GHashTable *monitored; /* casefolded nick -> nick: contacts whose presence we follow */
    GHashTable *online;    /* casefolded nick -> nick: monitored contacts seen online */
    gboolean has_monitor;  /* the server offers MONITOR (else ISON polling) */
    guint ison_id;
    GQueue listings;     /* CwRoomList* waiting for LIST replies, oldest first */
    guint listed, list_max;
    guint reconnect_id, attempt;
};

/* The user's IRC state (created on demand). */
CwIrcUser *cw_irc_user_get(CwUser *user);
/* The session for server, created and connecting if absent. nick: the nick to
 * register with when a connection is made (NULL: registered nick or JID node). */
CwIrcSession *cw_irc_session_get(CwUser *user, const char *server, const char *nick);
CwIrcSession *cw_irc_session_lookup(CwUser *user, const char *server);

/* Send a line (queued until registration is complete when not yet). FALSE
 * when the connection is down or the line is unsafe. */
gboolean cw_irc_session_send(CwIrcSession *s, const char *line);
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

/* Incoming lines (irc-events.c). */
void cw_irc_session_handle_line(CwIrcSession *s, const CwIrcLine *line);
/* After 001: join channels, send what waited. */
void cw_irc_session_on_registered(CwIrcSession *s);

/* Text from the network to UTF-8 without formatting codes. */
char *cw_irc_session_text(CwIrcSession *s, const char *raw);

G_END_DECLS
