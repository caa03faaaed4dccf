/* irc-conn.c — an IRC server connection on GIO: connect, TLS, lines in, flood-controlled lines out. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-conn.h"
#include "irc-policy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define READ_CHUNK 4096 /* lines longer than this are assembled by CwIrcLineBuffer */
#define CLOSE_FLUSH_MS 2000
/* Paced lines move to the output buffer only while it holds less than this:
 * a slow server keeps them in the queue, where they are counted and
 * reported by origin if the connection fails. */
#define OUTBUF_LOW_WATER (16 * 1024)

struct CwIrcConn {
    char *host, *tls_fingerprint;
    GTlsCertificate *client_cert;
    guint16 port;
    gboolean tls, tls_verify;
    gboolean public_only;       /* connect only to the public addresses of host */
    GList *addresses;           /* GInetAddress*: public addresses still to try */
    guint flood_burst, flood_interval_ms;
    CwIrcConnEvents events;
    gpointer user_data;

    int refs;
    gboolean freed;
    GCancellable *cancel;
    GSocketConnection *tcp;
    GIOStream *stream;          /* tcp, or the TLS connection on top of it */
    CwIrcLineBuffer *lines;
    gboolean polled;            /* in the process-wide epoll set */
    gboolean connecting;        /* holds one of its target's connect slots */
    guint slot_lease_id;        /* gives the slot up if the connect takes long */
    gboolean waiting;           /* queued for a connect slot */

    GQueue queue;        /* QueuedLine *: paced lines */
    gsize queue_bytes;   /* their bytes */
    GString *outbuf;     /* bytes to write next; appended to freely */
    GString *inflight;   /* bytes of the pending write: never touched until it completes */
    gsize inflight_done; /* of which the server already took this many */
    gboolean writing;
    GPtrArray *unsent;   /* CwIrcOrigin *: lines dropped, reported in `closed` */
    GError *close_error; /* why it closed, until reported */
    guint report_id;     /* reports the close from the main loop */
    guint tokens;
    gint64 last_refill_us;
    guint pace_id, close_timer_id;

    gboolean connected, closing, closed;
    gint64 last_rx_us, ping_sent_us;
    guint lag_ms;
};

static void conn_closed(CwIrcConn *conn, const GError *error);
static void flush(CwIrcConn *conn);
static void watch_input(CwIrcConn *conn);
static void unwatch_input(CwIrcConn *conn);
static void leave_connect_queue(CwIrcConn *conn);

/* ---- queued lines and their origins ---- */

CwIrcOrigin *
cw_irc_origin_new(const char *legacy_id, const char *msg_id)
{
    CwIrcOrigin *o = g_new0(CwIrcOrigin, 1);
    o->refs = 1;
    o->legacy_id = g_strdup(legacy_id);
    o->msg_id = g_strdup(msg_id);
    return o;
}

CwIrcOrigin *
cw_irc_origin_ref(CwIrcOrigin *origin)
{
    if (origin)
        origin->refs++;
    return origin;
}

void
cw_irc_origin_unref(CwIrcOrigin *origin)
{
    if (!origin || --origin->refs > 0)
        return;
    g_free(origin->legacy_id);
    g_free(origin->msg_id);
    g_free(origin);
}

typedef struct {
    char *text; /* with "\r\n" */
    gsize len;
    CwIrcOrigin *origin;
} QueuedLine;

static void
queued_line_free(gpointer p)
{
    QueuedLine *q = p;
    g_free(q->text);
    cw_irc_origin_unref(q->origin);
    g_free(q);
}

/* Drop every paced line; their origins go to the unsent list (once each). */
static void
drop_queue(CwIrcConn *conn)
{
    if (g_queue_is_empty(&conn->queue))
        return;
    /* a set, not a scan: a full queue holds thousands of lines */
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < conn->unsent->len; i++)
        g_hash_table_add(seen, conn->unsent->pdata[i]);
    QueuedLine *q;
    while ((q = g_queue_pop_head(&conn->queue))) {
        if (q->origin && g_hash_table_add(seen, q->origin))
            g_ptr_array_add(conn->unsent, cw_irc_origin_ref(q->origin));
        queued_line_free(q);
    }
    conn->queue_bytes = 0;
}

/* ---- refcount: callbacks may free the conn ---- */

static CwIrcConn *
conn_ref(CwIrcConn *conn)
{
    conn->refs++;
    return conn;
}

static void
conn_unref(CwIrcConn *conn)
{
    if (--conn->refs > 0)
        return;
    g_clear_handle_id(&conn->pace_id, g_source_remove);
    g_clear_handle_id(&conn->close_timer_id, g_source_remove);
    g_clear_handle_id(&conn->slot_lease_id, g_source_remove);
    g_clear_handle_id(&conn->report_id, g_source_remove);
    g_queue_clear_full(&conn->queue, queued_line_free);
    g_string_free(conn->outbuf, TRUE);
    g_string_free(conn->inflight, TRUE);
    g_ptr_array_unref(conn->unsent);
    g_clear_error(&conn->close_error);
    g_clear_object(&conn->cancel);
    g_clear_object(&conn->stream);
    g_clear_object(&conn->tcp);
    cw_irc_line_buffer_free(conn->lines);
    g_free(conn->host);
    g_free(conn->tls_fingerprint);
    g_clear_object(&conn->client_cert);
    g_list_free_full(conn->addresses, g_object_unref);
    g_free(conn);
}

/* ---- keep-alive: one timer for every connection ---- */

static GList *live_conns;
static guint keepalive_id;
static guint keepalive_idle_s = 120, keepalive_timeout_s = 60;
static gboolean reading_paused;

static gboolean
on_keepalive_tick(gpointer data)
{
    if (reading_paused)
        return G_SOURCE_CONTINUE; /* silence is ours, not the server's */
    gint64 now = g_get_monotonic_time();
    GList *snapshot = g_list_copy(live_conns);
    for (GList *l = snapshot; l; l = l->next) {
        CwIrcConn *conn = l->data;
        if (!conn->connected || conn->closed)
            continue;
        if (conn->ping_sent_us && now - conn->ping_sent_us > (gint64)keepalive_timeout_s * G_USEC_PER_SEC) {
            GError *err = g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "no answer from %s for %u s (ping timeout)", conn->host,
                                      keepalive_idle_s + keepalive_timeout_s);
            conn_closed(conn, err);
            g_error_free(err);
        } else if (!conn->ping_sent_us && now - conn->last_rx_us > (gint64)keepalive_idle_s * G_USEC_PER_SEC) {
            conn->ping_sent_us = now;
            g_autofree char *ping = g_strdup_printf("PING :cw%" G_GINT64_FORMAT, now);
            cw_irc_conn_send_now(conn, ping);
        }
    }
    g_list_free(snapshot);
    return G_SOURCE_CONTINUE;
}

static void
keepalive_track(CwIrcConn *conn)
{
    live_conns = g_list_prepend(live_conns, conn);
    if (!keepalive_id)
        keepalive_id = g_timeout_add_seconds(MAX(1, MIN(keepalive_idle_s, keepalive_timeout_s) / 2),
                                             on_keepalive_tick, NULL);
}

static void
keepalive_untrack(CwIrcConn *conn)
{
    live_conns = g_list_remove(live_conns, conn);
    if (!live_conns)
        g_clear_handle_id(&keepalive_id, g_source_remove);
}

void
cw_irc_conn_set_keepalive(guint idle_s, guint timeout_s)
{
    keepalive_idle_s = MAX(1, idle_s);
    keepalive_timeout_s = MAX(1, timeout_s);
    if (keepalive_id) {
        g_source_remove(keepalive_id);
        keepalive_id = g_timeout_add_seconds(MAX(1, MIN(keepalive_idle_s, keepalive_timeout_s) / 2),
                                             on_keepalive_tick, NULL);
    }
}

/* ---- closing ---- */

static void
on_stream_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    g_io_stream_close_finish(G_IO_STREAM(source), res, NULL);
}

static gboolean
on_report_closed(gpointer data)
{
    CwIrcConn *conn = data;
    conn->report_id = 0;
    if (conn->freed)
        return G_SOURCE_REMOVE;
    g_autoptr(GPtrArray) unsent = g_steal_pointer(&conn->unsent);
    conn->unsent = g_ptr_array_new_with_free_func((GDestroyNotify)cw_irc_origin_unref);
    g_autoptr(GError) error = g_steal_pointer(&conn->close_error);
    if (conn->events.closed) {
        conn_ref(conn);
        conn->events.closed(conn, error, unsent, conn->user_data);
        conn_unref(conn);
    }
    return G_SOURCE_REMOVE;
}

/* Tear the transport down now and report once, from the main loop (see the
 * lifetime rule in irc-conn.h). error NULL: closed on request. */
static void
conn_closed(CwIrcConn *conn, const GError *error)
{
    if (conn->closed)
        return;
    conn->closed = TRUE;
    conn->connected = FALSE;
    keepalive_untrack(conn);
    unwatch_input(conn);
    leave_connect_queue(conn);
    g_clear_handle_id(&conn->pace_id, g_source_remove);
    g_clear_handle_id(&conn->close_timer_id, g_source_remove);
    g_cancellable_cancel(conn->cancel);
    if (conn->stream)
        g_io_stream_close_async(conn->stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed, NULL);

    drop_queue(conn);
    conn->close_error = error ? g_error_copy(error) : NULL;
    if (!conn->freed)
        conn->report_id = g_idle_add(on_report_closed, conn);
}

/* ---- writing ---- */

static void
on_written(GObject *source, GAsyncResult *res, gpointer data)
{
    CwIrcConn *conn = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_output_stream_write_finish(G_OUTPUT_STREAM(source), res, &error);
    conn->writing = FALSE;
    if (n < 0) {
        if (!conn->closed)
            conn_closed(conn, error);
        conn_unref(conn);
        return;
    }
    conn->inflight_done += (gsize)n;
    if (conn->inflight_done >= conn->inflight->len) {
        g_string_truncate(conn->inflight, 0);
        conn->inflight_done = 0;
    }
    flush(conn);
    conn_unref(conn);
}

static gboolean
on_pace(gpointer data)
{
    CwIrcConn *conn = data;
    conn->pace_id = 0;
    flush(conn);
    return G_SOURCE_REMOVE;
}

static void
refill_tokens(CwIrcConn *conn)
{
    if (!conn->flood_burst)
        return;
    gint64 now = g_get_monotonic_time();
    gint64 interval_us = (gint64)conn->flood_interval_ms * 1000;
    if (interval_us <= 0) {
        conn->tokens = conn->flood_burst;
        return;
    }
    gint64 earned = (now - conn->last_refill_us) / interval_us;
    if (earned > 0) {
        conn->tokens = (guint)MIN((gint64)conn->flood_burst, conn->tokens + earned);
        conn->last_refill_us += earned * interval_us;
        if (conn->tokens == conn->flood_burst)
            conn->last_refill_us = now;
    }
}

/* Move paced lines into the output buffer as tokens allow, then write. */
static void
flush(CwIrcConn *conn)
{
    if (conn->closed || !conn->stream)
        return;
    refill_tokens(conn);
    /* Paced lines wait in the queue (with their origins) while the socket is
     * backed up, rather than in the output buffer. */
    while (!g_queue_is_empty(&conn->queue) && (!conn->flood_burst || conn->tokens > 0) &&
           conn->outbuf->len + conn->inflight->len < OUTBUF_LOW_WATER) {
        QueuedLine *q = g_queue_pop_head(&conn->queue);
        conn->queue_bytes -= q->len;
        g_string_append_len(conn->outbuf, q->text, q->len);
        queued_line_free(q);
        if (conn->flood_burst)
            conn->tokens--;
    }
    if (!g_queue_is_empty(&conn->queue) && !conn->pace_id &&
        conn->outbuf->len + conn->inflight->len < OUTBUF_LOW_WATER)
        conn->pace_id = g_timeout_add(MAX(1, conn->flood_interval_ms), on_pace, conn);
    if (conn->writing)
        return; /* on_written comes back here; outbuf waits, inflight is the write's */
    if (conn->inflight->len == 0) {
        if (conn->outbuf->len == 0) {
            if (conn->closing && g_queue_is_empty(&conn->queue))
                conn_closed(conn, NULL);
            return;
        }
        /* Hand the bytes over to the write: nothing appends to them until it
         * completes (appending could move the buffer under the write). */
        GString *swap = conn->inflight;
        conn->inflight = conn->outbuf;
        conn->outbuf = swap;
        conn->inflight_done = 0;
    }
    conn->writing = TRUE;
    g_output_stream_write_async(g_io_stream_get_output_stream(conn->stream),
                                conn->inflight->str + conn->inflight_done,
                                conn->inflight->len - conn->inflight_done, G_PRIORITY_DEFAULT,
                                conn->cancel, on_written, conn_ref(conn));
}

gsize
cw_irc_conn_unsent_bytes(CwIrcConn *conn)
{
    return conn->queue_bytes + conn->outbuf->len + (conn->inflight->len - conn->inflight_done);
}

gsize
cw_irc_conn_queue_room(CwIrcConn *conn)
{
    return conn->queue_bytes < CW_IRC_CONN_SEND_MAX ? CW_IRC_CONN_SEND_MAX - conn->queue_bytes : 0;
}

/* Room for len more unpaced bytes? Else the server is not reading what it
 * makes us send: close (reported from the main loop) rather than grow. */
static gboolean
reserve(CwIrcConn *conn, gsize len)
{
    if (conn->outbuf->len + (conn->inflight->len - conn->inflight_done) + len <=
        CW_IRC_CONN_SEND_MAX)
        return TRUE;
    g_autoptr(GError) err = g_error_new(G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                                        "send queue overflow: the server is not reading "
                                        "(more than %u bytes unsent)",
                                        (guint)CW_IRC_CONN_SEND_MAX);
    g_message("%s: %s", conn->host, err->message);
    conn_closed(conn, err);
    return FALSE;
}

static gboolean
line_is_safe(const char *line)
{
    return line && *line && !strpbrk(line, "\r\n");
}

gboolean
cw_irc_conn_send_from(CwIrcConn *conn, const char *line, CwIrcOrigin *origin)
{
    if (!line_is_safe(line) || !conn->connected || conn->closing)
        return FALSE;
    QueuedLine *q = g_new0(QueuedLine, 1);
    q->text = g_strconcat(line, "\r\n", NULL);
    q->len = strlen(q->text);
    if (q->len > cw_irc_conn_queue_room(conn)) {
        /* the user's own flood: refused, the connection stays */
        queued_line_free(q);
        return FALSE;
    }
    q->origin = cw_irc_origin_ref(origin);
    g_queue_push_tail(&conn->queue, q);
    conn->queue_bytes += q->len;
    flush(conn);
    return TRUE;
}

gboolean
cw_irc_conn_send(CwIrcConn *conn, const char *line)
{
    return cw_irc_conn_send_from(conn, line, NULL);
}

gboolean
cw_irc_conn_send_now(CwIrcConn *conn, const char *line)
{
    if (!line_is_safe(line) || !conn->stream || conn->closed)
        return FALSE;
    if (!reserve(conn, strlen(line) + 2))
        return FALSE;
    g_string_append(conn->outbuf, line);
    g_string_append(conn->outbuf, "\r\n");
    flush(conn);
    return TRUE;
}

guint
cw_irc_conn_queue_length(CwIrcConn *conn)
{
    return g_queue_get_length(&conn->queue);
}

/* ---- reading ----
 * Every connection's socket sits in one process-wide epoll set, watched by
 * one GSource: a main-loop iteration costs the same with 10 or 10,000
 * connections (one GSource each would make GLib poll and check them all
 * every time). Flow control detaches that one source while paused. */

static int epoll_fd = -1;
static guint epoll_watch_id;
static guint polled_count;

static void
dispatch_line(CwIrcConn *conn, const char *raw)
{
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(raw);
    if (!line)
        return;
    if (strcmp(line->command, "PING") == 0) {
        const char *token = cw_irc_line_last_param(line);
        g_autofree char *pong = cw_irc_line_build("PONG", token ? token : "", NULL);
        if (pong)
            cw_irc_conn_send_now(conn, pong);
        return;
    }
    if (strcmp(line->command, "PONG") == 0 && conn->ping_sent_us) {
        const char *token = cw_irc_line_last_param(line);
        if (token && g_str_has_prefix(token, "cw")) {
            conn->lag_ms = (guint)((g_get_monotonic_time() - conn->ping_sent_us) / 1000);
            conn->ping_sent_us = 0;
            return;
        }
    }
    if (conn->events.line)
        conn->events.line(conn, line, conn->user_data);
}

static gboolean
conn_gone(CwIrcConn *conn)
{
    return conn->closed || conn->freed;
}

/* Read what is there and dispatch the complete lines. A plain socket gives
 * up after a few chunks, to be fair to the others (epoll is level-triggered:
 * the rest comes next time); TLS reads until it would block, since
 * decrypted bytes buffered inside GnuTLS do not wake epoll. */
#define READS_PER_WAKEUP 4

/* Reads are synchronous and the line buffer keeps what it needs: one read
 * buffer serves every connection. */
static guint8 read_buffer[READ_CHUNK];

static void
read_available(CwIrcConn *conn)
{
    GPollableInputStream *in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(conn->stream));
    for (int i = 0; (conn->tls || i < READS_PER_WAKEUP) && conn->polled && !conn_gone(conn); i++) {
        g_autoptr(GError) error = NULL;
        gssize n = g_pollable_input_stream_read_nonblocking(in, read_buffer, READ_CHUNK, NULL, &error);
        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
        if (n <= 0) {
            if (!error)
                error = g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                    "%s closed the connection", conn->host);
            conn_closed(conn, error);
            break;
        }
        conn->last_rx_us = g_get_monotonic_time();
#ifdef TCP_QUICKACK
        /* ACK at once: a server whose socket keeps Nagle on (ngIRCd) holds
         * its next line until our ACK, which Linux delays up to 40 ms. The
         * flag does not stick, so it is set again after each read. */
        int one = 1;
        setsockopt(g_socket_get_fd(g_socket_connection_get_socket(conn->tcp)), IPPROTO_TCP,
                   TCP_QUICKACK, &one, sizeof one);
#endif
        cw_irc_line_buffer_push(conn->lines, read_buffer, (gsize)n);
        char *raw;
        while (!conn_gone(conn) && (raw = cw_irc_line_buffer_next(conn->lines, NULL))) {
            dispatch_line(conn, raw);
            g_free(raw);
        }
        guint dropped = cw_irc_line_buffer_take_dropped(conn->lines);
        if (dropped)
            g_message("%s: dropped %u line(s) longer than %d bytes", conn->host, dropped,
                      CW_IRC_LINE_MAX);
    }
}

#define EVENTS_PER_WAKEUP 64

static gboolean
on_epoll(gint fd, GIOCondition cond, gpointer data)
{
    struct epoll_event events[EVENTS_PER_WAKEUP];
    int n = epoll_wait(epoll_fd, events, EVENTS_PER_WAKEUP, 0);
    /* A line handler may close (or free) another connection of the batch:
     * hold them all until the batch is done, and skip those gone. */
    for (int i = 0; i < n; i++)
        conn_ref(events[i].data.ptr);
    for (int i = 0; i < n; i++) {
        CwIrcConn *conn = events[i].data.ptr;
        if (conn->polled && !conn_gone(conn))
            read_available(conn);
    }
    for (int i = 0; i < n; i++)
        conn_unref(events[i].data.ptr);
    return G_SOURCE_CONTINUE;
}

static void
attach_epoll_watch(void)
{
    if (!epoll_watch_id && epoll_fd >= 0 && !reading_paused)
        epoll_watch_id = g_unix_fd_add(epoll_fd, G_IO_IN, on_epoll, NULL);
}

static void
watch_input(CwIrcConn *conn)
{
    if (conn->polled || !conn->connected || conn_gone(conn))
        return;
    if (epoll_fd < 0)
        epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int fd = g_socket_get_fd(g_socket_connection_get_socket(conn->tcp));
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = conn };
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        GError *err = g_error_new(G_IO_ERROR, g_io_error_from_errno(errno),
                                  "cannot watch the connection to %s: %s", conn->host, g_strerror(errno));
        conn_closed(conn, err);
        g_error_free(err);
        return;
    }
    conn->polled = TRUE;
    polled_count++;
    attach_epoll_watch();
}

static void
unwatch_input(CwIrcConn *conn)
{
    if (!conn->polled)
        return;
    conn->polled = FALSE;
    int fd = g_socket_get_fd(g_socket_connection_get_socket(conn->tcp));
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    if (--polled_count == 0) {
        g_clear_handle_id(&epoll_watch_id, g_source_remove);
        close(epoll_fd);
        epoll_fd = -1;
    }
}

void
cw_irc_conn_pause_reading(gboolean paused)
{
    if (paused == reading_paused)
        return;
    reading_paused = paused;
    if (paused) {
        g_clear_handle_id(&epoll_watch_id, g_source_remove);
        return;
    }
    gint64 now = g_get_monotonic_time();
    for (GList *l = live_conns; l; l = l->next)
        ((CwIrcConn *)l->data)->last_rx_us = now; /* the pause was not the server's silence */
    attach_epoll_watch();
}

/* ---- connecting ---- */

static void
stream_ready(CwIrcConn *conn, GIOStream *stream)
{
    conn->stream = stream;
    conn->connected = TRUE;
    conn->last_rx_us = g_get_monotonic_time();
    conn->last_refill_us = conn->last_rx_us;
    conn->tokens = conn->flood_burst;
    keepalive_track(conn);
    watch_input(conn);
    if (conn->events.connected)
        conn->events.connected(conn, conn->user_data);
}

static char *
normalise_fingerprint(const char *fp)
{
    GString *s = g_string_new(NULL);
    for (const char *p = fp; *p; p++)
        if (g_ascii_isxdigit(*p))
            g_string_append_c(s, g_ascii_tolower(*p));
    return g_string_free(s, FALSE);
}

static gboolean
on_accept_certificate(GTlsConnection *tls, GTlsCertificate *cert, GTlsCertificateFlags errors,
                      gpointer data)
{
    CwIrcConn *conn = data;
    if (conn->tls_fingerprint) {
        g_autoptr(GByteArray) der = NULL;
        g_object_get(cert, "certificate", &der, NULL);
        g_autofree char *have = der ? g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len) : NULL;
        g_autofree char *want = normalise_fingerprint(conn->tls_fingerprint);
        if (have && g_strcmp0(have, want) == 0)
            return TRUE;
        g_warning("%s: TLS certificate fingerprint %s does not match the pinned %s", conn->host,
                  have ? have : "(none)", want);
        return FALSE;
    }
    if (!conn->tls_verify) {
        g_debug("%s: accepting an unverified TLS certificate (verification is off)", conn->host);
        return TRUE;
    }
    return FALSE;
}

static void
on_handshake(GObject *source, GAsyncResult *res, gpointer data)
{
    CwIrcConn *conn = data;
    g_autoptr(GError) error = NULL;
    if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
        if (!conn->closed && !conn->freed) {
            GError *e = g_error_new(error->domain, error->code, "TLS with %s failed: %s",
                                    conn->host, error->message);
            g_object_unref(source);
            conn_closed(conn, e);
            g_error_free(e);
        } else {
            g_object_unref(source);
        }
        conn_unref(conn);
        return;
    }
    if (conn->closed || conn->freed) {
        g_object_unref(source);
        conn_unref(conn);
        return;
    }
    stream_ready(conn, G_IO_STREAM(source));
    conn_unref(conn);
}

static void
start_tls(CwIrcConn *conn)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnectable) identity = g_network_address_new(conn->host, conn->port);
    GIOStream *tls = g_tls_client_connection_new(G_IO_STREAM(conn->tcp), identity, &error);
    if (!tls) {
        conn_closed(conn, error);
        return;
    }
    if (conn->client_cert)
        g_tls_connection_set_certificate(G_TLS_CONNECTION(tls), conn->client_cert);
    g_signal_connect(tls, "accept-certificate", G_CALLBACK(on_accept_certificate), conn);
    g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, conn->cancel,
                                     on_handshake, conn_ref(conn));
}

/* ---- connect slots ----
 * At most CONNECTS_PER_TARGET TCP connects in progress to one host:port; the
 * others wait their turn. Hundreds of users reconnecting at once would
 * otherwise overflow a small listen backlog (ngIRCd's is 10: the kernel drops
 * the SYNs and TCP retries them a second later) or trip a server's
 * connection-rate limits. */
#define CONNECTS_PER_TARGET 8
/* A connect that is not done after this long is waiting for a server busy
 * accepting (or a dropped SYN's retry): its slot goes to the next one, so a
 * slow server slows the queue down instead of stopping it. */
#define CONNECT_SLOT_LEASE_MS 20

typedef struct {
    guint active;
    GQueue waiting; /* CwIrcConn*, not referenced: a conn leaves it when it closes */
} ConnectSlots;

static GHashTable *connect_slots; /* "host:port" -> ConnectSlots */

static void begin_connect(CwIrcConn *conn);

static char *
target_of(CwIrcConn *conn)
{
    return g_strdup_printf("%s:%u", conn->host, conn->port);
}

static ConnectSlots *
slots_for(CwIrcConn *conn, gboolean create)
{
    g_autofree char *key = target_of(conn);
    ConnectSlots *slots = connect_slots ? g_hash_table_lookup(connect_slots, key) : NULL;
    if (!slots && create) {
        if (!connect_slots)
            connect_slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        slots = g_new0(ConnectSlots, 1);
        g_queue_init(&slots->waiting);
        g_hash_table_insert(connect_slots, g_steal_pointer(&key), slots);
    }
    return slots;
}

static void
forget_slots_if_idle(CwIrcConn *conn, ConnectSlots *slots)
{
    if (slots->active > 0 || !g_queue_is_empty(&slots->waiting))
        return;
    g_autofree char *key = target_of(conn);
    g_hash_table_remove(connect_slots, key);
    if (g_hash_table_size(connect_slots) == 0)
        g_clear_pointer(&connect_slots, g_hash_table_unref);
}

static gboolean on_slot_lease(gpointer data);

static void
take_slot(CwIrcConn *conn, ConnectSlots *slots)
{
    conn->connecting = TRUE;
    slots->active++;
    conn->slot_lease_id = g_timeout_add(CONNECT_SLOT_LEASE_MS, on_slot_lease, conn);
    begin_connect(conn);
}

/* The conn's connect is over, its lease ran out, or it closed: give its
 * slot (or its place in the queue) to the next. */
static void
leave_connect_queue(CwIrcConn *conn)
{
    g_clear_handle_id(&conn->slot_lease_id, g_source_remove);
    if (!conn->connecting && !conn->waiting)
        return;
    ConnectSlots *slots = slots_for(conn, FALSE);
    g_return_if_fail(slots != NULL);
    if (conn->waiting) {
        g_queue_remove(&slots->waiting, conn);
        conn->waiting = FALSE;
    } else {
        conn->connecting = FALSE;
        slots->active--;
        while (slots->active < CONNECTS_PER_TARGET && !g_queue_is_empty(&slots->waiting)) {
            CwIrcConn *next = g_queue_pop_head(&slots->waiting);
            next->waiting = FALSE;
            take_slot(next, slots);
        }
    }
    forget_slots_if_idle(conn, slots);
}

static gboolean
on_slot_lease(gpointer data)
{
    CwIrcConn *conn = data;
    conn->slot_lease_id = 0;
    leave_connect_queue(conn); /* the connect itself goes on */
    return G_SOURCE_REMOVE;
}

static void connect_next_address(CwIrcConn *conn);

static void
on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    CwIrcConn *conn = data;
    g_autoptr(GError) error = NULL;
    GSocketConnection *tcp = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
    leave_connect_queue(conn);
    if (conn->closed || conn->freed) {
        g_clear_object(&tcp);
        conn_unref(conn);
        return;
    }
    if (!tcp && conn->addresses) {
        connect_next_address(conn); /* public_only: the next of the checked addresses */
        conn_unref(conn);
        return;
    }
    if (!tcp) {
        GError *e = g_error_new(error->domain, error->code, "cannot connect to %s:%u: %s",
                                conn->host, conn->port, error->message);
        conn_closed(conn, e);
        g_error_free(e);
        conn_unref(conn);
        return;
    }
    conn->tcp = tcp;
    /* The client's 30 s timeout is for connecting only: left on the socket it
     * would end every quiet connection after 30 s. Keep-alive is ours. */
    g_socket_set_timeout(g_socket_connection_get_socket(tcp), 0);
    g_socket_set_keepalive(g_socket_connection_get_socket(tcp), TRUE);
    /* Lines are batched by the send queue already; Nagle would only hold a
     * second line until the server's delayed ACK (40 ms). */
    g_socket_set_option(g_socket_connection_get_socket(tcp), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    if (conn->tls)
        start_tls(conn);
    else
        stream_ready(conn, G_IO_STREAM(g_object_ref(tcp)));
    conn_unref(conn);
}

/* ---- public ---- */

CwIrcConn *
cw_irc_conn_new(const CwIrcConnParams *params, const CwIrcConnEvents *events, gpointer user_data)
{
    CwIrcConn *conn = g_new0(CwIrcConn, 1);
    conn->refs = 1;
    conn->host = g_strdup(params->host);
    conn->port = params->port;
    conn->tls = params->tls;
    conn->tls_verify = params->tls_verify;
    conn->tls_fingerprint = params->tls_fingerprint && *params->tls_fingerprint
                                ? g_strdup(params->tls_fingerprint) : NULL;
    conn->client_cert = params->client_cert ? g_object_ref(params->client_cert) : NULL;
    conn->public_only = params->public_only;
    conn->flood_burst = params->flood_burst;
    conn->flood_interval_ms = params->flood_interval_ms;
    conn->events = *events;
    conn->user_data = user_data;
    conn->cancel = g_cancellable_new();
    conn->lines = cw_irc_line_buffer_new();
    conn->outbuf = g_string_new(NULL);
    conn->inflight = g_string_new(NULL);
    conn->unsent = g_ptr_array_new_with_free_func((GDestroyNotify)cw_irc_origin_unref);
    g_queue_init(&conn->queue);
    return conn;
}

static GSocketClient *
new_socket_client(void)
{
    GSocketClient *client = g_socket_client_new();
    g_socket_client_set_timeout(client, 30);
    return client;
}

/* Connect to the first of the addresses checked in on_resolved(). */
static void
connect_next_address(CwIrcConn *conn)
{
    GInetAddress *address = conn->addresses->data;
    conn->addresses = g_list_delete_link(conn->addresses, conn->addresses);
    g_autoptr(GSocketAddress) target = g_inet_socket_address_new(address, conn->port);
    g_object_unref(address);
    g_autoptr(GSocketClient) client = new_socket_client();
    g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(target), conn->cancel, on_connected,
                                  conn_ref(conn));
}

/* public_only: keep the public addresses, refuse when there are none. We
 * connect to exactly the addresses checked here (never resolving again), so
 * a name cannot pass the check and then resolve to 127.0.0.1. */
static void
on_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    CwIrcConn *conn = data;
    g_autoptr(GError) error = NULL;
    GList *all = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &error);
    if (conn->closed || conn->freed) {
        g_resolver_free_addresses(all);
        conn_unref(conn);
        return;
    }
    GString *refused = g_string_new(NULL);
    for (GList *l = all; l; l = l->next) {
        if (cw_irc_policy_address_allowed(FALSE, l->data)) {
            conn->addresses = g_list_append(conn->addresses, g_object_ref(l->data));
        } else {
            g_autofree char *text = g_inet_address_to_string(l->data);
            g_string_append_printf(refused, "%s%s (%s)", refused->len ? ", " : "", text,
                                   cw_irc_policy_class_name(cw_irc_policy_classify(l->data)));
        }
    }
    g_resolver_free_addresses(all);
    if (!conn->addresses) {
        GError *e = error ? g_error_new(error->domain, error->code, "cannot resolve %s: %s",
                                        conn->host, error->message)
                          : g_error_new(CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_ADDRESS,
                                        "This gateway does not connect to %s: its addresses are not "
                                        "public (%s), and this gateway connects only to public IRC "
                                        "servers besides the ones its admin lists.",
                                        conn->host, refused->str);
        if (!error)
            g_message("refused to connect to %s: %s", conn->host, refused->str);
        conn_closed(conn, e);
        g_error_free(e);
    } else {
        connect_next_address(conn);
    }
    g_string_free(refused, TRUE);
    conn_unref(conn);
}

static void
begin_connect(CwIrcConn *conn)
{
    if (conn->public_only) {
        g_autoptr(GResolver) resolver = g_resolver_get_default();
        g_resolver_lookup_by_name_async(resolver, conn->host, conn->cancel, on_resolved,
                                        conn_ref(conn));
        return;
    }
    g_autoptr(GSocketClient) client = new_socket_client();
    g_socket_client_connect_to_host_async(client, conn->host, conn->port, conn->cancel,
                                          on_connected, conn_ref(conn));
}

void
cw_irc_conn_connect(CwIrcConn *conn)
{
    if (conn->connecting || conn->waiting || conn->closed)
        return;
    ConnectSlots *slots = slots_for(conn, TRUE);
    if (slots->active >= CONNECTS_PER_TARGET) {
        conn->waiting = TRUE;
        g_queue_push_tail(&slots->waiting, conn);
        return;
    }
    take_slot(conn, slots);
}

gboolean
cw_irc_conn_is_connected(CwIrcConn *conn)
{
    return conn->connected && !conn->closing;
}

static gboolean
on_close_timeout(gpointer data)
{
    CwIrcConn *conn = data;
    conn->close_timer_id = 0;
    conn_closed(conn, NULL);
    return G_SOURCE_REMOVE;
}

void
cw_irc_conn_close(CwIrcConn *conn, const char *quit_message)
{
    if (conn->closed || conn->closing)
        return;
    if (!conn->connected) {
        conn_closed(conn, NULL);
        return;
    }
    drop_queue(conn); /* reported unsent in `closed` */
    conn->closing = TRUE;
    if (quit_message) {
        g_autofree char *quit = cw_irc_line_build("QUIT", quit_message, NULL);
        cw_irc_conn_send_now(conn, quit ? quit : "QUIT");
    } else {
        flush(conn);
    }
    if (!conn->closed)
        conn->close_timer_id = g_timeout_add(CLOSE_FLUSH_MS, on_close_timeout, conn);
}

guint
cw_irc_conn_lag_ms(CwIrcConn *conn)
{
    return conn->lag_ms;
}

void
cw_irc_conn_free(CwIrcConn *conn)
{
    if (!conn)
        return;
    conn->freed = TRUE;
    /* No callback after free: sources go now, not when the last reference
     * (a pending GIO operation's) goes. */
    g_clear_handle_id(&conn->report_id, g_source_remove);
    g_clear_handle_id(&conn->pace_id, g_source_remove);
    g_clear_handle_id(&conn->close_timer_id, g_source_remove);
    if (!conn->closed) {
        conn->closed = TRUE;
        conn->connected = FALSE;
        keepalive_untrack(conn);
        unwatch_input(conn);
        leave_connect_queue(conn);
        g_cancellable_cancel(conn->cancel);
        if (conn->stream)
            g_io_stream_close_async(conn->stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed, NULL);
    }
    conn_unref(conn);
}
