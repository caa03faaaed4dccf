/* sms-http-client.c — keep-alive HTTP/1.1 GETs on plain sockets (see sms-http-client.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-http-client.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "sms-http.h"
#include "sms-poll.h"

#define READ_CHUNK 4096
#define IN_MAX (CW_SMS_HTTP_HEAD_MAX + CW_SMS_HTTP_CLIENT_BODY_MAX)
#define SWEEP_S 5
/* Connections opened at once: Kannel listens with a backlog of 10 (gwlib
 * make_server_socket), and a SYN it drops costs a second of retransmit. */
#define OPENING_MAX 8

typedef struct Call Call;
typedef struct Conn Conn;
typedef struct Connecting Connecting;

struct CwSmsHttpClient {
    char *host, *host_header;
    guint16 port;
    guint max_conns, timeout_s, idle_s;
    GSocketClient *connector;
    GHashTable *conns;   /* Conn * (owned): connected */
    GQueue idle;         /* Conn * of conns with no call */
    GHashTable *opening; /* Connecting * (each freed by its callback) */
    GQueue waiting;      /* Call * (owned) for a connection */
    CwSmsPoll *poll;     /* the connections' sockets */
    guint sweep_id;
};

struct Call {
    CwSmsHttpClient *c;
    char *request; /* the whole request head (wiped when freed) */
    gsize request_len;
    CwSmsHttpDone done;
    gpointer data;
    guint timer;
    gboolean retried;
    Connecting *connecting; /* while its connection is being opened */
    Conn *conn;             /* while it is on a connection */
};

struct Conn {
    CwSmsHttpClient *c;
    GSocketConnection *gconn; /* owns the socket */
    int fd;
    CwSmsPollWatch *watch; /* in c->poll, for its life; its condition changed in place */
    GIOCondition cond;
    Call *call;      /* NULL: idle */
    gboolean reused; /* carried a request before this one */
    gsize out_sent;  /* of call->request */
    char *in;
    gsize in_len, in_cap, scanned;
    gint64 idle_since;
};

struct Connecting {
    CwSmsHttpClient *c; /* NULL once the client is freed */
    Call *call;         /* NULL once the call ended (timeout, free) */
    GCancellable *cancel;
};

static void start_call(CwSmsHttpClient *c, Call *call);
static void conn_io(Conn *k, GIOCondition cond);

static void
call_free(Call *call)
{
    if (call->timer)
        g_source_remove(call->timer);
    if (call->request) {
        memset(call->request, 0, call->request_len);
        g_free(call->request);
    }
    g_free(call);
}

/* Hand the result to the caller and free the call (detached from any
 * connection by the caller). */
static void
call_finish(Call *call, guint status, const char *reason, const char *body, gsize len,
            const char *error)
{
    CwSmsHttpDone done = call->done;
    gpointer data = call->data;
    call_free(call);
    done(status, reason ? reason : "", body, len, error, data);
}

/* ---- connections ---- */

static void
conn_ready(CwSmsPollWatch *w, int fd, GIOCondition revents, gpointer data)
{
    conn_io(data, revents); /* may free the connection and remove w */
}

static void
conn_set_cond(Conn *k, GIOCondition want)
{
    want |= G_IO_HUP | G_IO_ERR;
    if (want != k->cond) {
        cw_sms_poll_modify(k->watch, want);
        k->cond = want;
    }
}

static void
conn_free(Conn *k)
{
    cw_sms_poll_remove(k->watch);
    if (k->call) {
        k->call->conn = NULL;
        call_free(k->call);
    }
    if (k->gconn) {
        g_io_stream_close(G_IO_STREAM(k->gconn), NULL, NULL);
        g_object_unref(k->gconn);
    }
    g_free(k->in);
    g_free(k);
}

/* Close k (its call already taken off); a waiting call may use the slot. */
static void
conn_close(Conn *k)
{
    CwSmsHttpClient *c = k->c;
    g_queue_remove(&c->idle, k);
    g_hash_table_remove(c->conns, k); /* frees it */
    Call *next = g_queue_pop_head(&c->waiting);
    if (next)
        start_call(c, next);
}

static guint
slots_used(CwSmsHttpClient *c)
{
    return g_hash_table_size(c->conns) + g_hash_table_size(c->opening);
}

/* Write what is left of the request. FALSE when the connection broke. */
static gboolean
conn_send(Conn *k)
{
    Call *call = k->call;
    while (k->out_sent < call->request_len) {
        ssize_t n = send(k->fd, call->request + k->out_sent, call->request_len - k->out_sent,
                         MSG_NOSIGNAL);
        if (n > 0) {
            k->out_sent += (gsize)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_set_cond(k, G_IO_IN | G_IO_OUT);
            return TRUE;
        } else {
            return FALSE;
        }
    }
    /* sent: the password in it is not needed any more */
    memset(call->request, 0, call->request_len);
    conn_set_cond(k, G_IO_IN);
    return TRUE;
}

static void
conn_start(Conn *k, Call *call)
{
    g_queue_remove(&k->c->idle, k);
    k->call = call;
    call->conn = k;
    k->out_sent = 0;
    k->in_len = 0;
    k->scanned = 0;
    if (!conn_send(k)) /* broken: the watch reports it, never from inside the caller */
        conn_set_cond(k, G_IO_IN | G_IO_OUT);
}

/* The call on k failed. A kept connection the server closed before any byte
 * of the answer: once more on a fresh one. */
static void
conn_fail(Conn *k, const char *error, gboolean maybe_stale)
{
    Call *call = k->call;
    k->call = NULL;
    CwSmsHttpClient *c = k->c;
    gboolean again = call && maybe_stale && k->reused && k->in_len == 0 && !call->retried;
    if (call)
        call->conn = NULL;
    conn_close(k);
    if (!call)
        return;
    if (again) {
        g_debug("sendsms connection was closed by the server: the request goes out again");
        call->retried = TRUE;
        start_call(c, call);
        return;
    }
    call_finish(call, 0, NULL, NULL, 0, error);
}

/* The answer is complete: keep or close the connection, then report. */
static void
conn_done(Conn *k, const CwSmsHttpResponse *resp, gsize len)
{
    CwSmsHttpClient *c = k->c;
    Call *call = k->call;
    k->call = NULL;
    call->conn = NULL;
    gsize used = resp->head_len + len;
    gboolean keep = resp->keep_alive && k->in_len == used; /* nothing unasked-for after it */
    /* the body is in k->in, which the next call reuses */
    g_autofree char *body = g_memdup2(k->in + resp->head_len, len ? len : 1);
    g_autofree char *reason = g_strndup(k->in + resp->reason_at, resp->reason_len);
    if (keep) {
        k->reused = TRUE;
        k->in_len = 0;
        k->scanned = 0;
        k->idle_since = g_get_monotonic_time();
        g_queue_push_tail(&c->idle, k);
        Call *next = g_queue_pop_head(&c->waiting);
        if (next)
            conn_start(k, next);
    } else {
        conn_close(k);
    }
    call_finish(call, resp->status, reason, body, len, NULL);
}

/* What k->in holds: nothing complete yet (TRUE), or the call finished or
 * failed (FALSE: k may be gone). */
static gboolean
conn_parse(Conn *k, gboolean eof)
{
    for (;;) {
        CwSmsHttpResponse resp;
        const char *why;
        CwSmsHttpParse r = cw_sms_http_parse_response(k->in, k->in_len, k->scanned, &resp, &why);
        if (r == CW_SMS_HTTP_INCOMPLETE) {
            k->scanned = k->in_len;
            if (!eof)
                return TRUE;
            conn_fail(k, k->in_len ? "the connection ended inside the answer"
                                   : "the server closed the connection without answering",
                      TRUE);
            return FALSE;
        }
        if (r == CW_SMS_HTTP_BAD) {
            g_autofree char *text = g_strdup_printf("malformed HTTP answer: %s", why);
            conn_fail(k, text, FALSE);
            return FALSE;
        }
        if (resp.status < 200) { /* 100 Continue and the like: the answer follows */
            memmove(k->in, k->in + resp.head_len, k->in_len - resp.head_len);
            k->in_len -= resp.head_len;
            k->scanned = 0;
            continue;
        }
        if (resp.chunked) {
            conn_fail(k, "chunked HTTP answers are not taken", FALSE);
            return FALSE;
        }
        if (resp.has_length && resp.content_length > CW_SMS_HTTP_CLIENT_BODY_MAX) {
            conn_fail(k, "HTTP answer too large", FALSE);
            return FALSE;
        }
        gsize have = k->in_len - resp.head_len;
        k->scanned = 0; /* the head is parsed again with more of the body */
        if (resp.has_length && have >= resp.content_length) {
            conn_done(k, &resp, (gsize)resp.content_length);
            return FALSE;
        }
        if (!resp.has_length && eof) { /* the body ran to the end of the connection */
            resp.keep_alive = FALSE;
            conn_done(k, &resp, have);
            return FALSE;
        }
        if (eof) {
            conn_fail(k, "the connection ended inside the answer", FALSE);
            return FALSE;
        }
        return TRUE;
    }
}

static void
conn_io(Conn *k, GIOCondition cond)
{
    if (!k->call) {
        /* idle: the server closed it (or sent what nobody asked for) */
        conn_close(k);
        return;
    }
    if ((cond & G_IO_OUT) && !conn_send(k)) {
        conn_fail(k, g_strerror(errno), TRUE);
        return;
    }
    if (!(cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
        return;
    if (k->in_cap - k->in_len < READ_CHUNK && k->in_cap < IN_MAX) {
        k->in_cap = MIN(MAX(k->in_cap * 2, k->in_len + READ_CHUNK), IN_MAX);
        k->in = g_realloc(k->in, k->in_cap);
    }
    if (k->in_len == k->in_cap) {
        conn_fail(k, "HTTP answer too large", FALSE);
        return;
    }
    ssize_t n = recv(k->fd, k->in + k->in_len, k->in_cap - k->in_len, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_fail(k, g_strerror(errno), TRUE);
        return;
    }
    k->in_len += (gsize)n;
    conn_parse(k, n == 0);
}

/* ---- connecting ---- */

static void
on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    Connecting *o = data;
    g_autoptr(GError) error = NULL;
    GSocketConnection *gconn =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
    CwSmsHttpClient *c = o->c;
    Call *call = o->call;
    if (c)
        g_hash_table_remove(c->opening, o);
    g_object_unref(o->cancel);
    g_free(o);
    if (!c || !call) { /* the client or the call is gone */
        if (gconn) {
            g_io_stream_close(G_IO_STREAM(gconn), NULL, NULL);
            g_object_unref(gconn);
        }
        if (c) { /* the call timed out: the slot may serve a waiting one */
            Call *next = g_queue_pop_head(&c->waiting);
            if (next)
                start_call(c, next);
        }
        return;
    }
    call->connecting = NULL;
    if (!gconn) {
        g_autofree char *text = g_strdup_printf("cannot connect to %s: %s", c->host_header,
                                                error->message);
        Call *next = g_queue_pop_head(&c->waiting);
        call_finish(call, 0, NULL, NULL, 0, text);
        if (next)
            start_call(c, next);
        return;
    }
    Conn *k = g_new0(Conn, 1);
    k->c = c;
    k->gconn = gconn;
    GSocket *sock = g_socket_connection_get_socket(gconn);
    k->fd = g_socket_get_fd(sock);
    /* one write per request: it must not wait for the ACK of the last */
    g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    k->cond = G_IO_IN | G_IO_HUP | G_IO_ERR;
    k->watch = cw_sms_poll_add(c->poll, k->fd, k->cond, conn_ready, k);
    if (!k->watch) {
        g_autofree char *text = g_strdup_printf("cannot watch the connection to %s: %s",
                                                c->host_header, g_strerror(errno));
        k->gconn = NULL;
        g_free(k);
        g_io_stream_close(G_IO_STREAM(gconn), NULL, NULL);
        g_object_unref(gconn);
        Call *next = g_queue_pop_head(&c->waiting);
        call_finish(call, 0, NULL, NULL, 0, text);
        if (next)
            start_call(c, next);
        return;
    }
    g_hash_table_add(c->conns, k);
    conn_start(k, call);
    /* the next connects, OPENING_MAX at a time */
    while (c->waiting.length > 0 && g_hash_table_size(c->opening) < OPENING_MAX &&
           slots_used(c) < c->max_conns)
        start_call(c, g_queue_pop_head(&c->waiting));
}

static gboolean
on_timeout(gpointer data)
{
    Call *call = data;
    call->timer = 0;
    CwSmsHttpClient *c = call->c;
    g_autofree char *text = g_strdup_printf("no answer within %u s", c->timeout_s);
    if (call->conn) {
        Conn *k = call->conn;
        k->call = NULL;
        call->conn = NULL;
        conn_close(k); /* what it would answer can no longer be matched */
    } else if (call->connecting) {
        call->connecting->call = NULL;
        g_cancellable_cancel(call->connecting->cancel);
        call->connecting = NULL;
    } else {
        g_queue_remove(&c->waiting, call);
    }
    call_finish(call, 0, NULL, NULL, 0, text);
    return G_SOURCE_REMOVE;
}

static void
start_call(CwSmsHttpClient *c, Call *call)
{
    Conn *k = g_queue_peek_head(&c->idle);
    if (k) {
        conn_start(k, call);
        return;
    }
    if (slots_used(c) >= c->max_conns || g_hash_table_size(c->opening) >= OPENING_MAX) {
        g_queue_push_tail(&c->waiting, call);
        return;
    }
    Connecting *o = g_new0(Connecting, 1);
    o->c = c;
    o->call = call;
    o->cancel = g_cancellable_new();
    call->connecting = o;
    g_hash_table_add(c->opening, o);
    g_socket_client_connect_to_host_async(c->connector, c->host, c->port, o->cancel, on_connected,
                                          o);
}

static gboolean
on_sweep(gpointer data)
{
    CwSmsHttpClient *c = data;
    gint64 limit = g_get_monotonic_time() - (gint64)c->idle_s * G_USEC_PER_SEC;
    for (GList *l = c->idle.head; l;) {
        Conn *k = l->data;
        l = l->next;
        if (k->idle_since < limit)
            conn_close(k);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- API ---- */

CwSmsHttpClient *
cw_sms_http_client_new(const char *host, guint16 port, guint max_conns, guint timeout_s,
                       guint idle_s)
{
    g_return_val_if_fail(host != NULL && *host && max_conns >= 1, NULL);
    g_autoptr(GError) error = NULL;
    CwSmsPoll *poll = cw_sms_poll_new(&error);
    if (!poll) {
        g_warning("sendsms client: %s", error->message);
        return NULL;
    }
    CwSmsHttpClient *c = g_new0(CwSmsHttpClient, 1);
    c->poll = poll;
    c->host = g_strdup(host);
    /* an IPv6 literal in brackets */
    c->host_header = strchr(host, ':') ? g_strdup_printf("[%s]:%u", host, port)
                                       : g_strdup_printf("%s:%u", host, port);
    c->port = port;
    c->max_conns = max_conns;
    c->timeout_s = timeout_s;
    c->idle_s = idle_s ? idle_s : 60;
    c->connector = g_socket_client_new();
    /* straight to the server: a proxy from the environment would see the password */
    g_socket_client_set_enable_proxy(c->connector, FALSE);
    c->conns = g_hash_table_new_full(NULL, NULL, (GDestroyNotify)conn_free, NULL);
    c->opening = g_hash_table_new(NULL, NULL);
    g_queue_init(&c->idle);
    g_queue_init(&c->waiting);
    c->sweep_id = g_timeout_add_seconds(SWEEP_S, on_sweep, c);
    return c;
}

void
cw_sms_http_client_free(CwSmsHttpClient *c)
{
    if (!c)
        return;
    g_clear_handle_id(&c->sweep_id, g_source_remove);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, c->opening);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        Connecting *o = key;
        o->c = NULL;
        if (o->call)
            call_free(o->call);
        o->call = NULL;
        g_cancellable_cancel(o->cancel);
    }
    g_hash_table_destroy(c->opening);
    g_queue_clear(&c->idle);
    g_hash_table_destroy(c->conns); /* frees their calls, no callback */
    Call *call;
    while ((call = g_queue_pop_head(&c->waiting)))
        call_free(call);
    cw_sms_poll_free(c->poll);
    g_object_unref(c->connector);
    g_free(c->host);
    g_free(c->host_header);
    g_free(c);
}

void
cw_sms_http_client_get(CwSmsHttpClient *c, const char *target, CwSmsHttpDone done, gpointer data)
{
    g_return_if_fail(c != NULL && target != NULL && done != NULL);
    Call *call = g_new0(Call, 1);
    call->c = c;
    call->done = done;
    call->data = data;
    call->request = g_strdup_printf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Causeway\r\n\r\n",
                                    target, c->host_header);
    call->request_len = strlen(call->request);
    if (c->timeout_s)
        call->timer = g_timeout_add_seconds(c->timeout_s, on_timeout, call);
    start_call(c, call); /* every failure is reported from the main loop */
}

guint
cw_sms_http_client_connections(CwSmsHttpClient *c)
{
    g_return_val_if_fail(c != NULL, 0);
    return slots_used(c);
}

guint
cw_sms_http_client_waiting(CwSmsHttpClient *c)
{
    g_return_val_if_fail(c != NULL, 0);
    return g_queue_get_length(&c->waiting);
}
