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
 */
#pragma once
#include <gio/gio.h>

#include "irc-line.h"

G_BEGIN_DECLS

typedef struct CwIrcConn CwIrcConn;

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
    const char *client_cert_file; /* PEM certificate + key for SASL EXTERNAL; may be NULL */
    guint flood_burst;            /* lines sent at once before pacing; 0 = no flood control */
    guint flood_interval_ms;      /* then one line per interval */
} CwIrcConnParams;

typedef struct {
    /* TCP (and TLS) are up: send registration. */
    void (*connected)(CwIrcConn *conn, gpointer user_data);
    /* One line from the server (PING already answered). */
    void (*line)(CwIrcConn *conn, const CwIrcLine *line, gpointer user_data);
    /* The connection is gone (error NULL when cw_irc_conn_close() was called).
     * Lines still queued were not sent: *unsent holds them (owned by the
     * callee only during the call). The conn may be freed from here. */
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
 * queued) if it holds CR, LF or NUL, or the connection is not up. */
gboolean cw_irc_conn_send(CwIrcConn *conn, const char *line);
/* Send ahead of the queue, unpaced (PONG, registration, QUIT). */
gboolean cw_irc_conn_send_now(CwIrcConn *conn, const char *line);
guint cw_irc_conn_queue_length(CwIrcConn *conn);

/* Send QUIT (if message is not NULL), flush what can be flushed, close.
 * The closed callback runs from the main loop afterwards. */
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
