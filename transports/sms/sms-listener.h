/* sms-listener.h — the HTTP listener Kannel calls back: MO messages at /mo and
 * delivery reports at /dlr (sms-callback.h has the parameters). A small
 * HTTP/1.1 server of its own on the main loop (sms-http.h parses the
 * request heads): Kannel's smsbox makes one or two callbacks per SMS, and
 * libsoup's server cost several times what the callback itself does.
 *
 * Every request must carry token=SECRET (compared in constant time): without
 * it, 403 and nothing else happens. Only GET (and POST with a form body,
 * for hand-made callers) on the two paths; anything else 404/405. A
 * malformed MO or DLR: 400 with the reason (Kannel logs it). The answer to a
 * good callback is 200 with an empty body — smsbox would text a non-empty
 * body back to the phone — unless the handler says the transport cannot take
 * it now (503: the XMPP side is down; Kannel retries with its
 * http-request-retry). The socket listens with a backlog of 1024.
 *
 * HTTP: keep-alive (HTTP/1.1 by default, 1.0 with Connection: keep-alive),
 * pipelined requests answered in order, Expect: 100-continue honoured; no
 * chunked bodies (501). A request that cannot be framed (bad head, 413, 431,
 * 501) is answered and the connection closed.
 * Limits: request line and headers as in sms-http.h; query/body longer than
 * CW_SMS_CALLBACK_MAX: 413; at most CW_SMS_LISTENER_MAX_CONNS connections at
 * once (more are closed at accept); a request must be complete within
 * CW_SMS_LISTENER_REQUEST_S of its first byte and a keep-alive connection
 * idle for CW_SMS_LISTENER_IDLE_S is closed; while 64 KiB of answers are
 * unread by the peer no more requests are read from it.
 *
 * Lifetime: no handler runs after cw_sms_listener_free(); a handler must not
 * free the listener.
 */
#pragma once
#include <glib.h>

#include "sms-callback.h"

G_BEGIN_DECLS

#define CW_SMS_LISTENER_MAX_CONNS 1024
#define CW_SMS_LISTENER_REQUEST_S 20
#define CW_SMS_LISTENER_IDLE_S 60

typedef enum {
    CW_SMS_CALLBACK_TAKEN,   /* 200 */
    CW_SMS_CALLBACK_LATER,   /* 503: try again later */
} CwSmsCallbackAnswer;

typedef struct {
    /* mo and dlr are borrowed for the call. */
    CwSmsCallbackAnswer (*mo)(const CwSmsMo *mo, gpointer data);
    CwSmsCallbackAnswer (*dlr)(const CwSmsDlr *dlr, gpointer data);
} CwSmsListenerHandlers;

typedef struct CwSmsListener CwSmsListener;

/* Listen on address ("127.0.0.1:13100", "[::1]:13100", "0.0.0.0:13100").
 * NULL with an error naming the address (in use, bad form). */
CwSmsListener *cw_sms_listener_new(const char *address, const char *token,
                                   const CwSmsListenerHandlers *handlers, gpointer data,
                                   GError **error);
void cw_sms_listener_free(CwSmsListener *l); /* NULL-safe */
/* The port it listens on (useful with port 0). */
guint cw_sms_listener_port(CwSmsListener *l);
/* Counters: requests refused for a missing/bad token, malformed, taken. */
guint64 cw_sms_listener_refused(CwSmsListener *l);
guint64 cw_sms_listener_malformed(CwSmsListener *l);
guint64 cw_sms_listener_taken(CwSmsListener *l);
/* Connections open now. */
guint cw_sms_listener_connections(CwSmsListener *l);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsListener, cw_sms_listener_free)

G_END_DECLS
