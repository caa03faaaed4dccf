/* component.c — XEP-0114 component connection: libstrophe driven from the GLib loop. */
#define G_LOG_DOMAIN "causeway"
#include "component.h"

#include <causeway/backoff.h>
#include <causeway/metrics.h>

#include "log-redact.h"
#include "log.h"
#include "stanza.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <malloc.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

struct CwComponent {
    char *domain, *secret, *host;
    guint16 port;
    CwComponentEvents events;
    gpointer user_data;
    CwBackoff backoff;

    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;      /* current attempt; a fresh conn per attempt */
    xmpp_conn_t *stale;     /* previous conn, released outside libstrophe callbacks */
    int fd;                 /* socket of the current attempt, -1 if none */
    int reserved_fd;        /* a low fd kept free for the next socket (select() limit) */
    GSource *io_source;
    GIOCondition io_cond;
    guint flush_id, retry_id, tick_id;
    GCancellable *resolving;

    gboolean connected, stopped;
    guint attempt;
    guint64 stanzas_in, stanzas_out;
    guint64 *in_kind[4], *out_kind[4]; /* metrics series: message, presence, iq, other */
    guint64 sink;                      /* where they point without a metrics registry */
    gsize out_mark;                    /* comp->out->len when the stanza being written began */
    guint64 trimmed_at_out; /* stanzas_out at the last malloc_trim() */

    GString *out;           /* serialised stanzas not yet handed to libstrophe */
    gsize out_sent;         /* bytes of out already handed over */
    gboolean congested;     /* backlog above BACKLOG_HIGH, not yet back under BACKLOG_LOW */
};

/* Stanzas are serialised into one buffer and handed to libstrophe a chunk at
 * a time, only when its own queue is empty: one write() carries many
 * stanzas, and the buffer is the backlog flow control looks at. */
#define OUT_CHUNK (256 * 1024)
#define BACKLOG_HIGH (4 * 1024 * 1024)
#define BACKLOG_LOW (1024 * 1024)

static void schedule_retry(CwComponent *comp);
static void update_watch(CwComponent *comp);

/* ---- libstrophe logging into g_log ---- */

static void
strophe_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
    /* Stanza dumps contain message bodies: debug only. Passwords are never
     * logged, even at debug: every line (stanzas in both directions, and
     * error lines such as "SM error: Stanza received was: ...") has its
     * password-like elements replaced by structure (log-redact.h), and XML
     * that cannot be checked is not logged. */
    g_autofree char *redacted = cw_log_redact_line(msg);
    gboolean problem = level == XMPP_LEVEL_ERROR || level == XMPP_LEVEL_WARN;
    g_log("causeway-strophe", problem ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_DEBUG, "%s: %s", area,
          redacted);
}
/* libstrophe formats every log line (a copy of each stanza sent and received)
 * before it calls the handler: no handler at all unless debugging. */
static xmpp_log_t strophe_logger = { NULL, NULL };

/* ---- the select() limit: keep a low fd in reserve ---- */

static void
reserve_low_fd(CwComponent *comp)
{
    if (comp->reserved_fd >= 0)
        return;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fd >= FD_SETSIZE) {
        g_warning("no file descriptor below %d is free; the XMPP connection may fail", FD_SETSIZE);
        close(fd);
        fd = -1;
    }
    comp->reserved_fd = fd;
}

static void
release_low_fd(CwComponent *comp)
{
    /* The next socket() takes the lowest free number: at most this one. */
    if (comp->reserved_fd >= 0)
        close(comp->reserved_fd);
    comp->reserved_fd = -1;
}

/* ---- stream-management work-around ---- */

static void
dummy_conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                   xmpp_stream_error_t *stream_error, void *userdata)
{
}

xmpp_conn_t *
cw_component_conn_new_with_sm_state(xmpp_ctx_t *ctx)
{
    /* A client conn allocates its SM state when xmpp_connect_client() starts;
     * a numeric broadcast address makes that fail at once without any I/O
     * (no DNS query: a host name would block the loop in getaddrinfo(), and
     * the kernel refuses TCP to broadcast in connect()). The component conn
     * then adopts the state. */
    xmpp_conn_t *client = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(client, "sm-workaround@invalid");
    xmpp_connect_client(client, "255.255.255.255", 1, dummy_conn_handler, NULL);
    xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(client);
    xmpp_conn_release(client);

    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    if (sm && xmpp_conn_set_sm_state(conn, sm) != 0) {
        g_warning("libstrophe refused the stream-management state; stanzas may crash it");
        xmpp_free_sm_state(sm);
    }
    return conn;
}

/* ---- I/O on the GLib loop ---- */

/* A burst (a join storm fans out N^2 presences) leaves megabytes of freed
 * buffers that glibc keeps, and the output buffer at its largest; give them
 * back once everything is written. */
#define TRIM_AFTER_STANZAS 20000
#define OUT_KEEP (64 * 1024)

static void
release_memory_after_burst(CwComponent *comp)
{
    if (comp->stanzas_out - comp->trimmed_at_out < TRIM_AFTER_STANZAS || !comp->conn ||
        xmpp_conn_send_queue_len(comp->conn) > 0 || comp->out->len > 0)
        return;
    comp->trimmed_at_out = comp->stanzas_out;
    if (comp->out->allocated_len > OUT_KEEP) {
        g_string_free(comp->out, TRUE);
        comp->out = g_string_sized_new(4096);
    }
    malloc_trim(0);
}

/* ---- the output buffer and flow control ---- */

static gsize
backlog(CwComponent *comp)
{
    return comp->out->len - comp->out_sent;
}

static void
update_congestion(CwComponent *comp)
{
    gboolean congested = comp->congested ? backlog(comp) > BACKLOG_LOW : backlog(comp) > BACKLOG_HIGH;
    if (congested == comp->congested)
        return;
    comp->congested = congested;
    g_debug("component %s: %s (%zu bytes waiting)", comp->domain,
            congested ? "congested" : "no longer congested", backlog(comp));
    if (comp->events.congestion)
        comp->events.congestion(comp, congested, comp->user_data);
}

static void
drop_output(CwComponent *comp)
{
    g_string_truncate(comp->out, 0);
    comp->out_sent = 0;
    update_congestion(comp);
}

/* Hand libstrophe the next chunk (up to max bytes) if its queue is empty. */
static void
feed_strophe(CwComponent *comp, gsize max)
{
    if (!comp->connected || !comp->conn || backlog(comp) == 0 ||
        xmpp_conn_send_queue_len(comp->conn) > 0)
        return;
    gsize chunk = MIN(backlog(comp), max);
    xmpp_send_raw(comp->conn, comp->out->str + comp->out_sent, chunk);
    comp->out_sent += chunk;
    if (comp->out_sent == comp->out->len) {
        g_string_truncate(comp->out, 0);
        comp->out_sent = 0;
    } else if (comp->out_sent >= BACKLOG_LOW) {
        g_string_erase(comp->out, 0, comp->out_sent);
        comp->out_sent = 0;
    }
}

static void
run_passes(CwComponent *comp)
{
    /* One extra pass: data libstrophe queues itself (stream header,
     * handshake) is written on the next pass; and the next chunk of our
     * buffer once the first went out. */
    feed_strophe(comp, OUT_CHUNK);
    xmpp_run_once(comp->ctx, 0);
    feed_strophe(comp, OUT_CHUNK);
    if (comp->ctx)
        xmpp_run_once(comp->ctx, 0);
    if (comp->stale) {
        xmpp_conn_release(comp->stale);
        comp->stale = NULL;
    }
    update_watch(comp);
    update_congestion(comp);
    release_memory_after_burst(comp);
}

static gboolean
on_io(gint fd, GIOCondition cond, gpointer data)
{
    run_passes(data);
    return G_SOURCE_CONTINUE;
}

static void
drop_watch(CwComponent *comp)
{
    if (comp->io_source) {
        g_source_destroy(comp->io_source);
        g_source_unref(comp->io_source);
        comp->io_source = NULL;
    }
    comp->io_cond = 0;
}

static void
update_watch(CwComponent *comp)
{
    if (!comp->conn || comp->fd < 0 || xmpp_conn_is_disconnected(comp->conn)) {
        drop_watch(comp);
        return;
    }
    GIOCondition want = G_IO_IN | G_IO_ERR | G_IO_HUP;
    if (xmpp_conn_is_connecting(comp->conn) || xmpp_conn_send_queue_len(comp->conn) > 0 ||
        (comp->connected && backlog(comp) > 0))
        want |= G_IO_OUT;
    if (comp->io_source && want == comp->io_cond)
        return;
    drop_watch(comp);
    comp->io_source = g_unix_fd_source_new(comp->fd, want);
    g_source_set_callback(comp->io_source, G_SOURCE_FUNC(on_io), comp, NULL);
    g_source_attach(comp->io_source, NULL);
    comp->io_cond = want;
}

static gboolean
on_flush(gpointer data)
{
    CwComponent *comp = data;
    comp->flush_id = 0;
    run_passes(comp);
    return G_SOURCE_REMOVE;
}

static gboolean
on_tick(gpointer data)
{
    /* Only while connecting: lets libstrophe enforce its connect timeout. */
    CwComponent *comp = data;
    run_passes(comp);
    return G_SOURCE_CONTINUE;
}

/* ---- connection events ---- */

static const char *const kind_names[] = { "message", "presence", "iq", "other" };

static guint
stanza_kind(const char *name)
{
    if (!name)
        return 3;
    for (guint i = 0; i < 3; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return 3;
}

static void
init_counters(CwComponent *comp)
{
    for (guint i = 0; i < 4; i++) {
        comp->in_kind[i] = cw_metrics_counter("causeway_stanzas_in_total",
                                              "Stanzas received from the XMPP server, by kind",
                                              "kind", kind_names[i]);
        comp->out_kind[i] = cw_metrics_counter("causeway_stanzas_out_total",
                                               "Stanzas sent to the XMPP server, by kind", "kind",
                                               kind_names[i]);
        if (!comp->in_kind[i])
            comp->in_kind[i] = &comp->sink;
        if (!comp->out_kind[i])
            comp->out_kind[i] = &comp->sink;
    }
}

static int
stanza_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    CwComponent *comp = userdata;
    comp->stanzas_in++;
    (*comp->in_kind[stanza_kind(xmpp_stanza_get_name(stanza))])++;
    if (comp->events.stanza)
        comp->events.stanza(comp, stanza, comp->user_data);
    return 1; /* keep the handler */
}

static void
conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
             xmpp_stream_error_t *stream_error, void *userdata)
{
    CwComponent *comp = userdata;
    if (conn != comp->conn)
        return;
    if (event == XMPP_CONN_CONNECT) {
        g_clear_handle_id(&comp->tick_id, g_source_remove);
        comp->connected = TRUE;
        comp->attempt = 0;
        g_message("component %s connected to %s:%u", comp->domain, comp->host, comp->port);
        xmpp_handler_add(conn, stanza_handler, NULL, NULL, NULL, comp);
        if (comp->events.connected)
            comp->events.connected(comp, comp->user_data);
        return;
    }

    gboolean was_connected = comp->connected;
    comp->connected = FALSE;
    drop_output(comp);
    g_clear_handle_id(&comp->tick_id, g_source_remove);
    drop_watch(comp);
    comp->fd = -1;
    reserve_low_fd(comp);

    if (stream_error && stream_error->type == XMPP_SE_NOT_AUTHORIZED) {
        g_autofree char *reason = g_strdup_printf(
            "the XMPP server at %s:%u rejected the secret for component %s (not-authorized): "
            "make secret= in this transport's section match the server's component secret",
            comp->host, comp->port, comp->domain);
        g_critical("%s", reason);
        comp->stopped = TRUE;
        if (comp->events.fatal)
            comp->events.fatal(comp, reason, comp->user_data);
        return;
    }
    if (comp->stopped)
        g_debug("component %s: closed", comp->domain);
    else if (stream_error && stream_error->type == XMPP_SE_CONFLICT)
        g_warning("component %s: the server says another connection already serves this domain "
                  "(conflict); retrying", comp->domain);
    else if (stream_error)
        g_warning("component %s: stream error %d%s%s", comp->domain, stream_error->type,
                  stream_error->text ? ": " : "", stream_error->text ? stream_error->text : "");
    else if (was_connected)
        g_warning("component %s: disconnected from %s:%u%s%s", comp->domain, comp->host, comp->port,
                  error ? ": " : "", error ? g_strerror(error) : "");
    else
        g_warning("component %s: cannot connect to %s:%u%s%s", comp->domain, comp->host, comp->port,
                  error ? ": " : "", error ? g_strerror(error) : "");

    if (was_connected && comp->events.disconnected)
        comp->events.disconnected(comp, comp->user_data);
    if (!comp->stopped)
        schedule_retry(comp);
}

/* sockopt callbacks carry no userdata: map conn -> component here. */
static GHashTable *fd_owner_by_conn;

static int
sockopt_record_fd(xmpp_conn_t *conn, void *sock)
{
    int fd = *(int *)sock;
    if (fd >= FD_SETSIZE) {
        g_warning("XMPP socket fd %d is above select()'s limit %d; refusing it", fd, FD_SETSIZE);
        return -1;
    }
    xmpp_sockopt_cb_keepalive(conn, sock);
    /* Stanzas are batched in the output buffer already: no Nagle delay. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    CwComponent *comp = fd_owner_by_conn ? g_hash_table_lookup(fd_owner_by_conn, conn) : NULL;
    if (comp)
        comp->fd = fd;
    return 0;
}

static void
connect_to(CwComponent *comp, const char *address)
{
    if (comp->conn) {
        if (fd_owner_by_conn)
            g_hash_table_remove(fd_owner_by_conn, comp->conn);
        if (comp->stale)
            xmpp_conn_release(comp->stale);
        comp->stale = comp->conn;
    }
    comp->conn = cw_component_conn_new_with_sm_state(comp->ctx);
    xmpp_conn_set_jid(comp->conn, comp->domain);
    xmpp_conn_set_pass(comp->conn, comp->secret);
    xmpp_conn_set_sockopt_callback(comp->conn, sockopt_record_fd);
    if (!fd_owner_by_conn)
        fd_owner_by_conn = g_hash_table_new(NULL, NULL);
    g_hash_table_insert(fd_owner_by_conn, comp->conn, comp);

    comp->fd = -1;
    release_low_fd(comp);
    g_debug("component %s: connecting to %s:%u (attempt %u)", comp->domain, address, comp->port,
            comp->attempt + 1);
    int rc = xmpp_connect_component(comp->conn, address, comp->port, conn_handler, comp);
    reserve_low_fd(comp);
    if (rc != 0) {
        g_warning("component %s: cannot start a connection to %s:%u", comp->domain, address,
                  comp->port);
        schedule_retry(comp);
        return;
    }
    if (!comp->tick_id)
        /* Short: libstrophe queues the handshake itself, uncounted by
         * xmpp_conn_send_queue_len(), so only a pass writes it. */
        comp->tick_id = g_timeout_add(20, on_tick, comp);
    run_passes(comp);
}

static void
on_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    CwComponent *comp = data;
    g_clear_object(&comp->resolving);
    if (!addrs) {
        g_warning("component %s: cannot resolve %s: %s", comp->domain, comp->host, error->message);
        schedule_retry(comp);
        return;
    }
    g_autofree char *address = g_inet_address_to_string(addrs->data);
    g_resolver_free_addresses(addrs);
    connect_to(comp, address);
}

static void
begin_attempt(CwComponent *comp)
{
    if (g_hostname_is_ip_address(comp->host)) {
        connect_to(comp, comp->host);
        return;
    }
    /* libstrophe would resolve with blocking getaddrinfo(): resolve here instead. */
    comp->resolving = g_cancellable_new();
    g_autoptr(GResolver) resolver = g_resolver_get_default();
    g_resolver_lookup_by_name_async(resolver, comp->host, comp->resolving, on_resolved, comp);
}

static gboolean
on_retry(gpointer data)
{
    CwComponent *comp = data;
    comp->retry_id = 0;
    begin_attempt(comp);
    return G_SOURCE_REMOVE;
}

static void
schedule_retry(CwComponent *comp)
{
    if (comp->retry_id || comp->stopped)
        return;
    guint delay = cw_backoff_delay_ms(comp->backoff.min_ms, comp->backoff.max_ms, comp->attempt);
    comp->attempt++;
    g_message("component %s: reconnecting in %u ms", comp->domain, delay);
    comp->retry_id = g_timeout_add(delay, on_retry, comp);
}

/* ---- public API ---- */

CwComponent *
cw_component_new(const char *domain, const char *secret, const char *host, guint16 port,
                 const CwComponentEvents *events, gpointer user_data)
{
    CwComponent *comp = g_new0(CwComponent, 1);
    init_counters(comp);
    comp->domain = g_strdup(domain);
    comp->secret = g_strdup(secret);
    comp->host = g_strdup(host);
    comp->port = port;
    comp->events = *events;
    comp->user_data = user_data;
    comp->backoff = (CwBackoff){ .min_ms = 500, .max_ms = 60000 };
    comp->fd = -1;
    comp->reserved_fd = -1;
    xmpp_initialize();
    comp->out = g_string_sized_new(4096);
    if (cw_log_get_level() >= CW_LOG_DEBUG)
        strophe_logger.handler = strophe_log;
    comp->ctx = xmpp_ctx_new(NULL, &strophe_logger);
    reserve_low_fd(comp);
    return comp;
}

void
cw_component_set_backoff(CwComponent *comp, CwBackoff backoff)
{
    comp->backoff = backoff;
}

void
cw_component_start(CwComponent *comp)
{
    comp->stopped = FALSE;
    if (!comp->conn || xmpp_conn_is_disconnected(comp->conn))
        begin_attempt(comp);
}

void
cw_component_stop(CwComponent *comp)
{
    /* Stopping twice (cw_gateway_free, then cw_component_free) must not
     * close the stream twice: the stream is already closing. */
    gboolean was_stopped = comp->stopped;
    comp->stopped = TRUE;
    g_clear_handle_id(&comp->retry_id, g_source_remove);
    g_clear_handle_id(&comp->tick_id, g_source_remove);
    if (comp->resolving)
        g_cancellable_cancel(comp->resolving);
    g_clear_object(&comp->resolving);
    if (!was_stopped && comp->conn && !xmpp_conn_is_disconnected(comp->conn)) {
        /* What is still buffered (the goodbye presences) goes before the close. */
        if (backlog(comp) > 0 && xmpp_conn_send_queue_len(comp->conn) == 0)
            feed_strophe(comp, backlog(comp));
        xmpp_disconnect(comp->conn);
        /* Flush the closing </stream:stream> without waiting for the server. */
        for (int i = 0; i < 4 && !xmpp_conn_is_disconnected(comp->conn); i++)
            xmpp_run_once(comp->ctx, 10);
    }
    comp->connected = FALSE;
    drop_output(comp);
    drop_watch(comp);
}

void
cw_component_free(CwComponent *comp)
{
    if (!comp)
        return;
    cw_component_stop(comp);
    g_clear_handle_id(&comp->flush_id, g_source_remove);
    if (comp->conn) {
        if (fd_owner_by_conn)
            g_hash_table_remove(fd_owner_by_conn, comp->conn);
        xmpp_conn_release(comp->conn);
    }
    if (comp->stale)
        xmpp_conn_release(comp->stale);
    if (fd_owner_by_conn && g_hash_table_size(fd_owner_by_conn) == 0)
        g_clear_pointer(&fd_owner_by_conn, g_hash_table_unref);
    xmpp_ctx_free(comp->ctx);
    xmpp_shutdown();
    if (comp->reserved_fd >= 0)
        close(comp->reserved_fd);
    g_string_free(comp->out, TRUE);
    g_free(comp->domain);
    g_free(comp->secret);
    g_free(comp->host);
    g_free(comp);
}

gboolean
cw_component_is_connected(CwComponent *comp)
{
    return comp->connected;
}

const char *
cw_component_domain(CwComponent *comp)
{
    return comp->domain;
}

xmpp_ctx_t *
cw_component_ctx(CwComponent *comp)
{
    return comp->ctx;
}

gboolean
cw_component_send(CwComponent *comp, xmpp_stanza_t *stanza)
{
    if (!comp->connected) {
        g_debug("component %s: not connected, dropping a <%s/>", comp->domain,
                xmpp_stanza_get_name(stanza));
        return FALSE;
    }
    comp->out_mark = comp->out->len;
    cw_stanza_serialize(comp->out, stanza);
    cw_component_end_xml(comp);
    return TRUE;
}

GString *
cw_component_begin_xml(CwComponent *comp)
{
    if (!comp->connected)
        return NULL;
    comp->out_mark = comp->out->len;
    return comp->out;
}

void
cw_component_end_xml(CwComponent *comp)
{
    comp->stanzas_out++;
    /* The kind from the first letter of the tag just written: <message, <presence, <iq. */
    char c = comp->out_mark + 1 < comp->out->len ? comp->out->str[comp->out_mark + 1] : 0;
    (*comp->out_kind[c == 'm' ? 0 : c == 'p' ? 1 : c == 'i' ? 2 : 3])++;
    if (!comp->congested && backlog(comp) > BACKLOG_HIGH)
        update_congestion(comp);
    /* At the sources' own priority, not idle: written after the current
     * batch of legacy reads, not after all of them (latency). */
    if (!comp->flush_id)
        comp->flush_id = g_idle_add_full(G_PRIORITY_DEFAULT, on_flush, comp, NULL);
}

gboolean
cw_component_is_congested(CwComponent *comp)
{
    return comp->congested;
}

gsize
cw_component_backlog(CwComponent *comp)
{
    return backlog(comp);
}

guint64
cw_component_stanzas_in(CwComponent *comp)
{
    return comp->stanzas_in;
}

guint64
cw_component_stanzas_out(CwComponent *comp)
{
    return comp->stanzas_out;
}
