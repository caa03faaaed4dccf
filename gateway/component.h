/* component.h — one XEP-0114 component connection, driven by the GLib main loop.
 *
 * libstrophe does the stream and the handshake; this file feeds it from a
 * GSource on its socket (libstrophe has no fd getter and no reconnect), keeps
 * the socket below FD_SETSIZE (libstrophe uses select()), resolves the server
 * host asynchronously, and reconnects with exponential backoff plus jitter.
 *
 * Outcomes reported through CwComponentEvents:
 *   connected      the handshake succeeded (also after every reconnect)
 *   disconnected   the stream went away; a reconnect is already scheduled
 *   fatal          the server rejected the secret (not-authorized): no retry
 *   stanza         every stanza received while connected (borrowed)
 *   congestion     more than 4 MB wait to be written (TRUE), or the backlog
 *                  is back under 1 MB or was dropped on a disconnect (FALSE)
 * A `conflict` (another instance holds the domain) is logged and retried.
 */
#pragma once
#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

typedef struct CwComponent CwComponent;

typedef struct {
    void (*connected)(CwComponent *comp, gpointer user_data);
    void (*disconnected)(CwComponent *comp, gpointer user_data);
    void (*fatal)(CwComponent *comp, const char *reason, gpointer user_data);
    void (*stanza)(CwComponent *comp, xmpp_stanza_t *stanza, gpointer user_data);
    void (*congestion)(CwComponent *comp, gboolean congested, gpointer user_data);
} CwComponentEvents;

/* Reconnect backoff: first retry after min_ms, doubling to max_ms, +-25% jitter. */
typedef struct {
    guint min_ms;
    guint max_ms;
} CwBackoff;

CwComponent *cw_component_new(const char *domain, const char *secret, const char *host,
                              guint16 port, const CwComponentEvents *events, gpointer user_data);
void cw_component_free(CwComponent *comp); /* NULL-safe; closes the stream */
void cw_component_set_backoff(CwComponent *comp, CwBackoff backoff);

/* Start connecting (asynchronous). */
void cw_component_start(CwComponent *comp);
/* Close the stream gracefully and stop reconnecting. */
void cw_component_stop(CwComponent *comp);

gboolean cw_component_is_connected(CwComponent *comp);
const char *cw_component_domain(CwComponent *comp);
xmpp_ctx_t *cw_component_ctx(CwComponent *comp);

/* Send a stanza (the caller keeps its reference): serialised at once into
 * the output buffer, written from the main loop. Dropped with a debug log
 * when not connected; returns whether it was queued. Stanzas still buffered
 * when the stream drops are lost with it, as in any XMPP connection. */
gboolean cw_component_send(CwComponent *comp, xmpp_stanza_t *stanza);

/* Write a stanza as XML text straight into the output buffer (the hot
 * paths, where building a libstrophe tree would cost more than the rest):
 * append one complete stanza to the buffer cw_component_begin_xml() returns,
 * then call cw_component_end_xml(). NULL (nothing to write) when not
 * connected. */
GString *cw_component_begin_xml(CwComponent *comp);
void cw_component_end_xml(CwComponent *comp);

/* Flow control: whether more than 4 MB wait to be written (until the
 * backlog is back under 1 MB), and how many bytes wait. */
gboolean cw_component_is_congested(CwComponent *comp);
gsize cw_component_backlog(CwComponent *comp);

/* Stanza counters since start, for statistics. */
guint64 cw_component_stanzas_in(CwComponent *comp);
guint64 cw_component_stanzas_out(CwComponent *comp);

/* libstrophe 0.12 component connections never allocate the stream-management
 * state that its stanza path dereferences. Create a component conn that has
 * one (borrowed from a throw-away client conn). Exposed for its regression test. */
xmpp_conn_t *cw_component_conn_new_with_sm_state(xmpp_ctx_t *ctx);

G_END_DECLS
