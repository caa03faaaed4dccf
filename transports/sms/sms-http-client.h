/* sms-http-client.h — a small HTTP/1.1 GET client with keep-alive, for
 * Kannel's sendsms over plain http:// (sms-kannel.h; https:// goes through
 * libsoup there). Kannel answers every sendsms with one short line; per
 * message libsoup's client cost more CPU than everything else Causeway does
 * for it, and Causeway shares the host with Kannel.
 *
 * At most max_conns connections to one host:port (at most 8 being opened at
 * once: Kannel listens with a backlog of 10), each carrying one request
 * at a time (no pipelining: a request waits for a free connection) and kept
 * open for the next; a connection idle for idle_s, or closed by the server,
 * is closed. A request on a kept connection that the server closed before
 * answering a byte is sent once more on a new connection (the server dropped
 * the connection as the request arrived; libsoup does the same). The answer
 * must carry Content-Length or end with the connection; chunked answers are
 * refused (Kannel never sends them). Bounds: the answer head as in
 * sms-http.h, its body at most CW_SMS_HTTP_CLIENT_BODY_MAX bytes.
 *
 * Lifetime: done runs on the main loop, never from inside
 * cw_sms_http_client_get(); after cw_sms_http_client_free() none runs.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SMS_HTTP_CLIENT_BODY_MAX 65536

typedef struct CwSmsHttpClient CwSmsHttpClient;

/* status: the HTTP status, or 0 with error set (refused, reset, timeout, a
 * malformed answer); reason: the status line's reason phrase (borrowed,
 * NUL-terminated, may be empty; any bytes); body: len bytes (borrowed; not
 * NUL-terminated). */
typedef void (*CwSmsHttpDone)(guint status, const char *reason, const char *body, gsize len,
                              const char *error, gpointer data);

/* host: a name or an IP literal (resolved by GIO on each connect). timeout_s:
 * per request, 0 = none. */
CwSmsHttpClient *cw_sms_http_client_new(const char *host, guint16 port, guint max_conns,
                                        guint timeout_s, guint idle_s);
void cw_sms_http_client_free(CwSmsHttpClient *c); /* NULL-safe */

/* GET target (an escaped "/path?query"); done is called exactly once. The
 * target is wiped from memory once sent (it may hold a password). */
void cw_sms_http_client_get(CwSmsHttpClient *c, const char *target, CwSmsHttpDone done,
                            gpointer data);

/* Connections open or opening, and requests waiting for one. */
guint cw_sms_http_client_connections(CwSmsHttpClient *c);
guint cw_sms_http_client_waiting(CwSmsHttpClient *c);

G_END_DECLS
