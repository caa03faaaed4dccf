/* sms-listener.c — the HTTP/1.1 listener for Kannel's MO and DLR callbacks, on
 * the main loop with plain non-blocking sockets (see sms-listener.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-listener.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sms-http.h"
#include "sms-poll.h"

#define LISTEN_BACKLOG 1024
#define ACCEPT_BURST 64          /* accepts per wake-up */
#define READ_CHUNK 16384
#define IN_MAX (CW_SMS_HTTP_HEAD_MAX + CW_SMS_CALLBACK_MAX)
#define OUT_HIGH 65536           /* unsent answers: stop reading requests */
#define SWEEP_S 5
/* After an answer that ends the connection, what the peer still sends (the
 * body of a refused POST) is read and dropped, up to this much or until it
 * closes, so that it reads the answer instead of a reset. */
#define LINGER_MAX (1024 * 1024)
#define LINGER_S 2

typedef struct Conn Conn;

struct CwSmsListener {
    GSocket *socket;
    int fd;
    guint accept_watch, sweep_id;
    GHashTable *conns; /* Conn * (owned) */
    CwSmsPoll *poll;   /* the connections' sockets */
    char *token;
    CwSmsListenerHandlers handlers;
    gpointer data;
    guint port;
    guint64 refused, malformed, taken, turned_away;
    gint64 date_s;     /* the second date was written for */
    char date[40];     /* "Fri, 04 Dec 2026 13:20:00 GMT" */
};

/* One accepted connection. in holds what was read and not yet answered
 * (at most IN_MAX), out the answers not yet written. */
struct Conn {
    CwSmsListener *l;
    int fd;
    CwSmsPollWatch *watch; /* in l->poll; NULL only if the kernel refused it */
    GIOCondition cond;
    char *in;
    gsize in_len, in_cap;
    gsize scanned;       /* bytes of in the head parser saw without a head's end */
    gboolean continued;  /* 100 Continue sent for the request at the start of in */
    GString *out;
    gsize out_sent;
    gboolean closing;    /* close once out is written; read nothing more */
    gint64 linger_end;   /* monotonic us; > 0: answers written, write side shut, draining */
    gsize lingered;      /* bytes dropped while draining */
    gint64 started;      /* monotonic us: the first byte of the pending request */
    gint64 last;         /* monotonic us: last byte read or written */
};

/* "host:port" or "[v6]:port", host an IP literal -> address, or NULL. */
static GInetSocketAddress *
split_address(const char *address)
{
    const char *colon;
    g_autofree char *host = NULL;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':')
            return NULL;
        host = g_strndup(address + 1, (gsize)(close - address - 1));
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon || memchr(address, ':', (gsize)(colon - address)))
            return NULL; /* a bare IPv6 address needs brackets */
        host = g_strndup(address, (gsize)(colon - address));
    }
    guint64 port;
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
        return NULL;
    g_autoptr(GInetAddress) ip = g_inet_address_new_from_string(host);
    if (!ip)
        return NULL;
    return G_INET_SOCKET_ADDRESS(g_inet_socket_address_new(ip, (guint16)port));
}

static GInetSocketAddress *
parse_address(const char *address, GError **error)
{
    GInetSocketAddress *addr = split_address(address);
    if (!addr)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "SMS listener address '%s': expected IP:PORT or [IPv6]:PORT", address);
    return addr;
}


static void conn_update_watch(Conn *c);

static void
conn_free(Conn *c)
{
    cw_sms_poll_remove(c->watch);
    if (c->fd >= 0)
        close(c->fd);
    g_free(c->in);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static void
conn_close(Conn *c)
{
    g_hash_table_remove(c->l->conns, c); /* frees it */
}

static const char *
http_date(CwSmsListener *l)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    if (now != l->date_s) {
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        g_snprintf(l->date, sizeof l->date, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                   days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                   tm.tm_hour, tm.tm_min, tm.tm_sec);
        l->date_s = now;
    }
    return l->date;
}

/* Queue one answer. text NULL: an empty body (no Content-Type). HEAD gets
 * the head only. close: the connection ends after it. */
static void
answer(Conn *c, CwSmsHttpMethod method, guint status, const char *text, const char *extra,
       gboolean close_after)
{
    gsize len = text ? strlen(text) : 0;
    g_string_append_printf(c->out,
                           "HTTP/1.1 %u %s\r\nServer: Causeway\r\nDate: %s\r\n"
                           "Content-Length: %" G_GSIZE_FORMAT "\r\n",
                           status, cw_sms_http_reason(status), http_date(c->l), len);
    if (text)
        g_string_append(c->out, "Content-Type: text/plain; charset=utf-8\r\n");
    if (extra)
        g_string_append(c->out, extra);
    if (close_after) {
        g_string_append(c->out, "Connection: close\r\n");
        c->closing = TRUE;
    }
    g_string_append(c->out, "\r\n");
    if (text && method != CW_SMS_HTTP_HEAD)
        g_string_append_len(c->out, text, (gssize)len);
}

static gboolean
path_is(const CwSmsHttpRequest *req, const char *p)
{
    return req->path_len == strlen(p) && memcmp(req->path, p, req->path_len) == 0;
}

/* One complete request (head and body); the answer is queued. */
static void
handle(Conn *c, const CwSmsHttpRequest *req, const char *body)
{
    CwSmsListener *l = c->l;
    CwSmsHttpMethod m = req->method;
    gboolean keep = req->keep_alive;
    gboolean is_mo = path_is(req, "/mo");
    if (!is_mo && !path_is(req, "/dlr")) {
        answer(c, m, 404, "not found", NULL, !keep);
        return;
    }
    const char *raw;
    gsize len;
    if (m == CW_SMS_HTTP_GET) {
        /* the raw query, decoded by sms-callback (a decoded table would cut
         * text at a %00, and UTF-16BE holds many) */
        raw = req->query ? req->query : "";
        len = req->query_len;
    } else if (m == CW_SMS_HTTP_POST) {
        if (!req->form) {
            answer(c, m, 415, "expected application/x-www-form-urlencoded", NULL, !keep);
            return;
        }
        raw = body;
        len = (gsize)req->content_length;
    } else {
        answer(c, m, 405, "method not allowed", "Allow: GET, POST\r\n", !keep);
        return;
    }
    if (len > CW_SMS_CALLBACK_MAX) {
        answer(c, m, 413, "callback too large", NULL, !keep);
        return;
    }

    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) params = cw_sms_query_parse(raw, (gssize)len, &error);
    if (!params) {
        l->malformed++;
        answer(c, m, 400, error->message, NULL, !keep);
        return;
    }
    if (!cw_sms_query_token_ok(params, l->token)) {
        l->refused++;
        answer(c, m, 403, "forbidden", NULL, !keep);
        return;
    }
    CwSmsCallbackAnswer result;
    if (is_mo) {
        CwSmsMo mo;
        if (!cw_sms_mo_parse(params, &mo, &error)) {
            l->malformed++;
            answer(c, m, 400, error->message, NULL, !keep);
            return;
        }
        result = l->handlers.mo ? l->handlers.mo(&mo, l->data) : CW_SMS_CALLBACK_TAKEN;
        cw_sms_mo_clear(&mo);
    } else {
        CwSmsDlr dlr;
        if (!cw_sms_dlr_parse(params, &dlr, &error)) {
            l->malformed++;
            answer(c, m, 400, error->message, NULL, !keep);
            return;
        }
        result = l->handlers.dlr ? l->handlers.dlr(&dlr, l->data) : CW_SMS_CALLBACK_TAKEN;
        cw_sms_dlr_clear(&dlr);
    }
    if (result == CW_SMS_CALLBACK_LATER) {
        answer(c, m, 503, "try again later", NULL, !keep);
        return;
    }
    l->taken++;
    /* empty: smsbox would text a body back to the phone */
    answer(c, m, 200, NULL, NULL, !keep);
}

static gsize
out_pending(const Conn *c)
{
    return c->out->len - c->out_sent;
}

/* Answer every complete request in in, in order, while the answers are
 * read. */
static void
process(Conn *c)
{
    while (!c->closing && c->in_len > 0 && out_pending(c) < OUT_HIGH) {
        CwSmsHttpRequest req;
        guint status;
        const char *why;
        CwSmsHttpParse r = cw_sms_http_parse(c->in, c->in_len, c->scanned, &req, &status, &why);
        if (r == CW_SMS_HTTP_INCOMPLETE) {
            c->scanned = c->in_len;
            return;
        }
        if (r == CW_SMS_HTTP_BAD) {
            c->l->malformed++;
            answer(c, CW_SMS_HTTP_GET, status, why, NULL, TRUE);
            return;
        }
        /* a body too large is refused before it is read */
        if (req.content_length > CW_SMS_CALLBACK_MAX) {
            answer(c, req.method, 413, "callback too large", NULL, TRUE);
            return;
        }
        gsize need = req.head_len + (gsize)req.content_length;
        if (c->in_len < need) {
            c->scanned = 0; /* the head is parsed again with its body */
            if (req.expect_continue && !c->continued) {
                g_string_append(c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                c->continued = TRUE;
            }
            return;
        }
        handle(c, &req, c->in + req.head_len);
        memmove(c->in, c->in + need, c->in_len - need);
        c->in_len -= need;
        c->scanned = 0;
        c->continued = FALSE;
        c->started = c->in_len ? g_get_monotonic_time() : 0;
    }
}

/* Write what out holds. FALSE when the connection broke. */
static gboolean
flush(Conn *c)
{
    while (out_pending(c) > 0) {
        ssize_t n = send(c->fd, c->out->str + c->out_sent, out_pending(c), MSG_NOSIGNAL);
        if (n > 0) {
            c->out_sent += (gsize)n;
            c->last = g_get_monotonic_time();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return FALSE;
    }
    if (c->out_sent == c->out->len) {
        g_string_truncate(c->out, 0);
        c->out_sent = 0;
    } else if (c->out_sent >= OUT_HIGH) {
        g_string_erase(c->out, 0, (gssize)c->out_sent);
        c->out_sent = 0;
    }
    return TRUE;
}

/* Read once (the loop calls again while there is more). FALSE when the
 * connection broke; *eof when the peer closed its side. */
static gboolean
read_some(Conn *c, gboolean *eof)
{
    if (c->in_cap - c->in_len < READ_CHUNK && c->in_cap < IN_MAX) {
        c->in_cap = MIN(MAX(c->in_cap * 2, c->in_len + READ_CHUNK), IN_MAX);
        c->in = g_realloc(c->in, c->in_cap);
    }
    if (c->in_len == c->in_cap)
        return TRUE; /* full: process() answers or refuses what it holds */
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n == 0) {
        *eof = TRUE;
        return TRUE;
    }
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    gint64 now = g_get_monotonic_time();
    if (c->in_len == 0)
        c->started = now;
    c->in_len += (gsize)n;
    c->last = now;
    return TRUE;
}

/* Drain after the write side is shut. FALSE: done, close. */
static gboolean
linger(Conn *c)
{
    char sink[4096];
    ssize_t n = recv(c->fd, sink, sizeof sink, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c->lingered += (gsize)n;
    return n > 0 && c->lingered <= LINGER_MAX && g_get_monotonic_time() < c->linger_end;
}

static void
on_conn_io(CwSmsPollWatch *w, int fd, GIOCondition cond, gpointer data)
{
    Conn *c = data;
    gboolean eof = FALSE;
    if (c->linger_end) {
        if (!linger(c))
            conn_close(c);
        return;
    }
    if ((cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !c->closing && out_pending(c) < OUT_HIGH) {
        if (!read_some(c, &eof)) {
            conn_close(c);
            return;
        }
        process(c);
    }
    if (!flush(c) || (eof && out_pending(c) == 0)) {
        /* broken, or the peer is gone and has every answer (a request cut
         * short is dropped) */
        conn_close(c);
        return;
    }
    if (eof)
        c->closing = TRUE;
    if (c->closing && out_pending(c) == 0) {
        shutdown(c->fd, SHUT_WR);
        c->linger_end = g_get_monotonic_time() + LINGER_S * G_USEC_PER_SEC;
    } else if (!c->closing && out_pending(c) < OUT_HIGH && c->in_len > 0 &&
               c->scanned < c->in_len) {
        process(c); /* requests held back while the answers were unread */
    }
    conn_update_watch(c);
}

/* Read while not closing and the answers are read; write while any are
 * unsent. */
static void
conn_update_watch(Conn *c)
{
    GIOCondition want = 0;
    if (c->linger_end || (!c->closing && out_pending(c) < OUT_HIGH))
        want |= G_IO_IN;
    if (out_pending(c) > 0)
        want |= G_IO_OUT;
    if (want == c->cond)
        return;
    c->cond = want;
    cw_sms_poll_modify(c->watch, want);
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer data)
{
    CwSmsListener *l = data;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                g_debug("SMS listener: accept: %s", g_strerror(errno));
            break;
        }
        if (g_hash_table_size(l->conns) >= CW_SMS_LISTENER_MAX_CONNS) {
            if (l->turned_away++ % 1000 == 0)
                g_warning("SMS listener: %u connections open, closing new ones (%" G_GUINT64_FORMAT
                          " so far)", CW_SMS_LISTENER_MAX_CONNS, l->turned_away);
            close(cfd);
            continue;
        }
        int one = 1;
        /* one write per answer; pipelined answers must not wait for an ACK */
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Conn *c = g_new0(Conn, 1);
        c->l = l;
        c->fd = cfd;
        c->out = g_string_sized_new(256);
        c->last = g_get_monotonic_time();
        c->cond = G_IO_IN;
        c->watch = cw_sms_poll_add(l->poll, cfd, c->cond, on_conn_io, c);
        g_hash_table_add(l->conns, c);
        if (!c->watch) {
            g_debug("SMS listener: cannot watch a connection: %s", g_strerror(errno));
            conn_close(c);
        }
    }
    return G_SOURCE_CONTINUE;
}

/* Close connections that stalled: a request not complete in time, answers
 * not read, or nothing at all for the idle time. */
static gboolean
on_sweep(gpointer data)
{
    CwSmsListener *l = data;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, l->conns);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        Conn *c = key;
        gboolean stalled =
            (c->in_len > 0 && now - c->started > CW_SMS_LISTENER_REQUEST_S * G_USEC_PER_SEC) ||
            (out_pending(c) > 0 && now - c->last > CW_SMS_LISTENER_REQUEST_S * G_USEC_PER_SEC) ||
            (now - c->last > CW_SMS_LISTENER_IDLE_S * G_USEC_PER_SEC) ||
            (c->linger_end && now > c->linger_end);
        if (stalled)
            g_hash_table_iter_remove(&it);
    }
    return G_SOURCE_CONTINUE;
}

CwSmsListener *
cw_sms_listener_new(const char *address, const char *token, const CwSmsListenerHandlers *handlers,
                    gpointer data, GError **error)
{
    g_return_val_if_fail(address != NULL && token != NULL && *token, NULL);
    g_return_val_if_fail(handlers != NULL, NULL);
    g_autoptr(GInetSocketAddress) addr = parse_address(address, error);
    if (!addr)
        return NULL;

    /* our own socket, for the backlog (GSocketListener's is fixed at 10) */
    g_autoptr(GError) local = NULL;
    g_autoptr(GSocket) sock = g_socket_new(g_socket_address_get_family(G_SOCKET_ADDRESS(addr)),
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &local);
    if (sock && g_socket_bind(sock, G_SOCKET_ADDRESS(addr), TRUE, &local)) {
        g_socket_set_listen_backlog(sock, LISTEN_BACKLOG);
        if (!g_socket_listen(sock, &local))
            g_clear_object(&sock);
    } else {
        g_clear_object(&sock);
    }
    if (!sock) {
        g_set_error(error, G_IO_ERROR, local->code, "SMS listener on %s: %s", address,
                    local->message);
        return NULL;
    }
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, &local);
    if (!bound) {
        g_set_error(error, G_IO_ERROR, local->code, "SMS listener on %s: %s", address,
                    local->message);
        return NULL;
    }
    g_socket_set_blocking(sock, FALSE);

    CwSmsListener *l = g_new0(CwSmsListener, 1);
    l->token = g_strdup(token);
    l->handlers = *handlers;
    l->data = data;
    l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    l->poll = cw_sms_poll_new(error);
    if (!l->poll) {
        g_free(l->token);
        g_free(l);
        return NULL;
    }
    l->conns = g_hash_table_new_full(NULL, NULL, (GDestroyNotify)conn_free, NULL);
    l->socket = g_steal_pointer(&sock);
    l->fd = g_socket_get_fd(l->socket);
    l->accept_watch = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
    l->sweep_id = g_timeout_add_seconds(SWEEP_S, on_sweep, l);
    return l;
}

void
cw_sms_listener_free(CwSmsListener *l)
{
    if (!l)
        return;
    /* every source goes with its connection: no handler runs after this */
    g_clear_handle_id(&l->accept_watch, g_source_remove);
    g_clear_handle_id(&l->sweep_id, g_source_remove);
    g_hash_table_destroy(l->conns);
    cw_sms_poll_free(l->poll);
    if (l->socket)
        g_socket_close(l->socket, NULL);
    g_clear_object(&l->socket);
    if (l->token)
        memset(l->token, 0, strlen(l->token));
    g_free(l->token);
    g_free(l);
}

guint
cw_sms_listener_port(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->port;
}

guint
cw_sms_listener_connections(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return g_hash_table_size(l->conns);
}

guint64
cw_sms_listener_refused(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->refused;
}

guint64
cw_sms_listener_malformed(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->malformed;
}

guint64
cw_sms_listener_taken(CwSmsListener *l)
{
    g_return_val_if_fail(l != NULL, 0);
    return l->taken;
}
