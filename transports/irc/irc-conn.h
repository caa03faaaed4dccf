/* irc-conn.h — one connection to an IRC server on GIO: asynchronous connect
 * (DNS, IPv4/IPv6), TLS with certificate verification (or a pinned SHA-256
 * fingerprint, or none when the admin says so), lines in, and a send queue
 * with flood control (a burst, then one line per interval).
 *
 * Knows no IRC beyond lines and keep-alive: PINGs from the server are answered
 * here, and when nothing has arrived for a while the connection PINGs the
 * server itself and closes when no answer comes. One process-wide timer does
 * that for every connection (an idle process wakes once per tick, not once
 * per connection).
 *
 * Lines sent must not contain CR, LF or NUL: cw_irc_conn_send() refuses them.
 *
 * Lifetime (the rule for every asynchronous piece of this file):
 * - The owner holds the one reference cw_irc_conn_new() returns and gives it
 *   up with cw_irc_conn_free(), at any time, from inside a callback too. No
 *   callback runs after that.
 * - Every GLib source the conn adds (pacing, close timer, connect-slot
 *   lease, the report of its end) is kept by id in the conn and removed when
 *   it closes or is freed. Every GIO operation (connect, TLS handshake,
 *   write) runs with the conn's GCancellable, which free cancels, and holds
 *   a reference to the conn until its callback, which touches nothing of the
 *   owner's once the conn is closed or freed. Bytes being written belong to
 *   the conn and are not touched until that write completes.
 * - No callback runs from inside a cw_irc_conn_*() call: `closed` always
 *   comes from the main loop afterwards. So a caller's own state is intact
 *   when cw_irc_conn_send() returns, even if the connection failed in it.
 *
 * Limits: whatever a server makes us hold is bounded. Unsent output is
 * capped (CW_IRC_CONN_SEND_MAX): a server that does not read while it
 * makes us answer (PING floods) is disconnected with "send queue overflow:
 * the server is not reading"; a user who sends faster than flood control
 * lets out gets lines refused once the paced queue is full. Lines in are cut at CW_IRC_LINE_MAX
 * (irc-line.h).
 */
#pragma once
#include <gio/gio.h>

#include "irc-line.h"

G_BEGIN_DECLS

typedef struct CwIrcConn CwIrcConn;

/* Most bytes one connection holds unsent, twice: in the paced queue (what
 * we send: a line past it is refused, the connection stays) and in the
 * output buffer with the bytes being written (what the server makes us
 * send unpaced, PONGs: past it the connection closes with "send queue
 * overflow: the server is not reading"). Paced lines enter the output
 * buffer only while it is nearly empty. */
#define CW_IRC_CONN_SEND_MAX (256 * 1024)

/* Where a queued line came from: the XMPP message (its legacy id and
 * XMPP id) it is part of. Reference-counted and shared by every line of one
 * message, so the owner can answer each message that was not sent once,
 * however many lines it was cut into; `answered` records that it was. */
typedef struct {
    int refs;
    char *legacy_id; /* room id or nick%server */
    char *msg_id;    /* may be NULL */
    gboolean answered;
} CwIrcOrigin;

CwIrcOrigin *cw_irc_origin_new(const char *legacy_id, const char *msg_id);
CwIrcOrigin *cw_irc_origin_ref(CwIrcOrigin *origin);
void cw_irc_origin_unref(CwIrcOrigin *origin); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwIrcOrigin, cw_irc_origin_unref)

typedef struct {
    const char *host;
    guint16 port;
    /* Resolve host first and connect only to its public addresses
     * (cw_irc_policy_address_allowed()); when it has none, the closed
     * callback gets a CW_IRC_POLICY_ERROR_ADDRESS error naming them, and no
     * TCP connection is made. For servers allowed through `irc_servers = *`. */
    gboolean public_only;
    gboolean tls;
    gboolean tls_verify;          /* verify the certificate against the system CAs and host */
    const char *tls_fingerprint;  /* accept exactly this SHA-256 (hex, colons optional) */
    /* Certificate with its private key presented to the server (SASL
     * EXTERNAL, CertFP), from the user's own store rows (irc-cert.h), never
     * a file; the conn keeps a reference. May be NULL. */
    GTlsCertificate *client_cert;
    guint flood_burst;            /* lines sent at once before pacing; 0 = no flood control */
    guint flood_interval_ms;      /* then one line per interval */
} CwIrcConnParams;

typedef struct {
    /* TCP (and TLS) are up: send registration. */
    void (*connected)(CwIrcConn *conn, gpointer user_data);
    /* One line from the server (PING already answered). */
    void (*line)(CwIrcConn *conn, const CwIrcLine *line, gpointer user_data);
    /* The connection is gone (error NULL when cw_irc_conn_close() was
     * called); always from the main loop, never from inside a call into the
     * conn. unsent: the distinct CwIrcOrigin * of the queued lines that were
     * not sent (dropped by cw_irc_conn_close() or by the failure), each
     * once, lines without an origin not counted; borrowed for the call.
     * The conn may be freed from here. */
    void (*closed)(CwIrcConn *conn, const GError *error, GPtrArray *unsent, gpointer user_data);
} CwIrcConnEvents;

CwIrcConn *cw_irc_conn_new(const CwIrcConnParams *params, const CwIrcConnEvents *events,
                           gpointer user_data);
/* Closes without callbacks. NULL-safe. */
void cw_irc_conn_free(CwIrcConn *conn);

/* Start connecting. At most 8 TCP connects start at once to one host:port
 * (a burst of users would overflow a small listen backlog); the others wait
 * their turn, which comes when one is done or has taken 20 ms. */
void cw_irc_conn_connect(CwIrcConn *conn);
gboolean cw_irc_conn_is_connected(CwIrcConn *conn);

/* Queue a line (without CR/LF) behind the flood control. FALSE (nothing
 * queued) if it holds CR, LF or NUL, the connection is not up, or the queue
 * has no room for it (cw_irc_conn_queue_room()). */
gboolean cw_irc_conn_send(CwIrcConn *conn, const char *line);
/* The same for a line of a message: origin (may be NULL) gets a reference
 * that the line holds until it is written or reported unsent. */
gboolean cw_irc_conn_send_from(CwIrcConn *conn, const char *line, CwIrcOrigin *origin);
/* Send ahead of the queue, unpaced (PONG, registration, QUIT). Past
 * CW_IRC_CONN_SEND_MAX unsent unpaced bytes: FALSE, and the connection
 * closes with an error (reported from the main loop). */
gboolean cw_irc_conn_send_now(CwIrcConn *conn, const char *line);
guint cw_irc_conn_queue_length(CwIrcConn *conn);
/* Bytes held unsent (queue + output buffer + being written). */
gsize cw_irc_conn_unsent_bytes(CwIrcConn *conn);
/* Bytes the paced queue still takes (with "\r\n" per line). */
gsize cw_irc_conn_queue_room(CwIrcConn *conn);

/* Send QUIT (if message is not NULL), flush what can be flushed, close.
 * Queued lines are dropped and reported in `closed` as unsent. The closed
 * callback runs from the main loop afterwards. */
void cw_irc_conn_close(CwIrcConn *conn, const char *quit_message);

/* Round-trip time of the last keep-alive PING, in ms (0 = not measured). */
guint cw_irc_conn_lag_ms(CwIrcConn *conn);

/* Flow control for the whole process: while paused, no connection reads
 * (the server's lines wait in the kernel and the server's send queue) and
 * keep-alive timeouts are suspended. */
void cw_irc_conn_pause_reading(gboolean paused);

/* Keep-alive tuning for the whole process (tests): ping after idle_s
 * seconds of silence, close when no reply after timeout_s more. */
void cw_irc_conn_set_keepalive(guint idle_s, guint timeout_s);

G_END_DECLS
