/* test-irc-conn.c — CwIrcConn against scripted IRC servers on 127.0.0.1 (a thread with
 * plain sockets each): PING floods with and without reading, the send-queue cap, unsent
 * lines reported by origin, and no callback after free. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "irc/irc-conn.h"

typedef enum {
    SERVER_FLOOD_READING,     /* PINGs as fast as possible, count the PONGs */
    SERVER_FLOOD_NOT_READING, /* PINGs with long tokens, never read */
    SERVER_SINK,              /* read and discard until the client closes */
} ServerMode;

#define FLOOD_ROUNDS 8
#define FLOOD_PER_ROUND 500 /* 500 PONGs of 210 bytes: about 100 KiB */
#define FLOOD_PINGS (FLOOD_ROUNDS * FLOOD_PER_ROUND)

typedef struct {
    ServerMode mode;
    int listen_fd;
    guint16 port;
    GThread *thread;
    gint done;   /* atomic: the script is over */
    gint go;     /* atomic: the client is ready, flood away */
    guint pongs; /* lines received (the client only sends PONGs here) */
    gsize sent;  /* bytes sent */
    gboolean peer_closed;
} Server;

static gpointer
server_main(gpointer data)
{
    Server *srv = data;
    int fd = accept(srv->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    char rbuf[65536];
    if (srv->mode == SERVER_FLOOD_READING) {
        /* Rounds of: a burst of PINGs, a pause without reading (our answers
         * fill the socket, a write of ours waits while more PONGs are
         * queued behind it), then read them all. Each round stays well
         * under CW_IRC_CONN_SEND_MAX. */
        while (!g_atomic_int_get(&srv->go) && g_get_monotonic_time() < deadline)
            g_usleep(1000);
        for (guint round = 0; round < FLOOD_ROUNDS && !srv->peer_closed; round++) {
            GString *out = g_string_new(NULL);
            for (guint i = 0; i < FLOOD_PER_ROUND; i++)
                g_string_append_printf(out, "PING :%0200u\r\n", round * FLOOD_PER_ROUND + i);
            gsize off = 0;
            while (off < out->len) {
                ssize_t n = send(fd, out->str + off, out->len - off, MSG_NOSIGNAL);
                if (n <= 0) {
                    srv->peer_closed = TRUE;
                    break;
                }
                off += (gsize)n;
            }
            srv->sent += off;
            g_string_free(out, TRUE);
            g_usleep(150 * 1000);
            guint want = (round + 1) * FLOOD_PER_ROUND;
            while (srv->pongs < want && g_get_monotonic_time() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                    continue;
                ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
                if (n <= 0) {
                    srv->peer_closed = TRUE;
                    break;
                }
                for (ssize_t i = 0; i < n; i++)
                    srv->pongs += rbuf[i] == '\n';
            }
        }
    } else if (srv->mode == SERVER_FLOOD_NOT_READING) {
        GString *ping = g_string_new("PING :");
        while (ping->len < 400)
            g_string_append_c(ping, 'x');
        g_string_append(ping, "\r\n");
        GString *batch = g_string_new(NULL);
        for (int i = 0; i < 100; i++)
            g_string_append_len(batch, ping->str, ping->len);
        struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        /* 64 MB of PINGs at most: far more PONG than the cap allows */
        while (srv->sent < 64 * 1024 * 1024 && g_get_monotonic_time() < deadline) {
            ssize_t n = send(fd, batch->str, batch->len, MSG_NOSIGNAL);
            if (n > 0) {
                srv->sent += (gsize)n;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                /* Our receive side is full too? Check the client is still there. */
                char c;
                ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
                if (r == 0) {
                    srv->peer_closed = TRUE;
                    break;
                }
                continue;
            }
            srv->peer_closed = TRUE; /* EPIPE / ECONNRESET: the client closed */
            break;
        }
        g_string_free(batch, TRUE);
        g_string_free(ping, TRUE);
    } else {
        while (g_get_monotonic_time() < deadline) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            if (poll(&p, 1, 100) <= 0)
                continue;
            ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
            if (n <= 0) {
                srv->peer_closed = TRUE;
                break;
            }
            for (ssize_t i = 0; i < n; i++)
                srv->pongs += rbuf[i] == '\n';
        }
    }
    close(fd);
    g_atomic_int_set(&srv->done, 1);
    return NULL;
}

static Server *
server_start(ServerMode mode)
{
    Server *srv = g_new0(Server, 1);
    srv->mode = mode;
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(srv->listen_fd, >=, 0);
    if (mode != SERVER_SINK) {
        int small = 4096; /* inherited by the accepted socket: the kernel holds little for us */
        setsockopt(srv->listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(bind(srv->listen_fd, (struct sockaddr *)&a, sizeof a), ==, 0);
    g_assert_cmpint(listen(srv->listen_fd, 4), ==, 0);
    socklen_t len = sizeof a;
    getsockname(srv->listen_fd, (struct sockaddr *)&a, &len);
    srv->port = ntohs(a.sin_port);
    srv->thread = g_thread_new("scripted-ircd", server_main, srv);
    return srv;
}

static void
server_join(Server *srv)
{
    g_thread_join(srv->thread);
    close(srv->listen_fd);
}

/* ---- the client side ---- */

typedef struct {
    int connected, closed;
    gboolean in_call; /* inside a cw_irc_conn_* call of ours */
    gboolean closed_in_call;
    GError *error;
    GPtrArray *unsent; /* CwIrcOrigin *, referenced */
    gsize unsent_bytes_at_close;
} Events;

static void
on_connected(CwIrcConn *conn, gpointer data)
{
    ((Events *)data)->connected++;
}

static void
on_line(CwIrcConn *conn, const CwIrcLine *line, gpointer data)
{
}

static void
on_closed(CwIrcConn *conn, const GError *error, GPtrArray *unsent, gpointer data)
{
    Events *ev = data;
    ev->closed++;
    ev->closed_in_call |= ev->in_call;
    g_clear_error(&ev->error);
    ev->error = error ? g_error_copy(error) : NULL;
    ev->unsent_bytes_at_close = cw_irc_conn_unsent_bytes(conn);
    if (!ev->unsent)
        ev->unsent = g_ptr_array_new_with_free_func((GDestroyNotify)cw_irc_origin_unref);
    for (guint i = 0; i < unsent->len; i++)
        g_ptr_array_add(ev->unsent, cw_irc_origin_ref(unsent->pdata[i]));
}

static const CwIrcConnEvents events = {
    .connected = on_connected,
    .line = on_line,
    .closed = on_closed,
};

static void
events_clear(Events *ev)
{
    g_clear_error(&ev->error);
    g_clear_pointer(&ev->unsent, g_ptr_array_unref);
}

static CwIrcConn *
connect_to(Server *srv, Events *ev, guint burst, guint interval_ms)
{
    CwIrcConnParams p = {
        .host = "127.0.0.1",
        .port = srv->port,
        .flood_burst = burst,
        .flood_interval_ms = interval_ms,
    };
    CwIrcConn *conn = cw_irc_conn_new(&p, &events, ev);
    cw_irc_conn_connect(conn);
    return conn;
}

/* Run the loop until pred or timeout_s; TRUE if pred came true. */
static gboolean
run_until(gboolean (*pred)(gpointer), gpointer data, guint timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (!pred(data) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    return pred(data);
}

static gboolean
is_connected(gpointer data)
{
    return ((Events *)data)->connected > 0 || ((Events *)data)->closed > 0;
}

static gboolean
is_closed(gpointer data)
{
    return ((Events *)data)->closed > 0;
}

static gboolean
server_done(gpointer data)
{
    return g_atomic_int_get(&((Server *)data)->done) != 0;
}

/* Make the kernel hold little of what the client sends to port (its
 * autotuned send buffer would otherwise absorb megabytes): find the client's
 * socket among our fds by its peer. */
static void
shrink_client_sndbuf(guint16 port)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int type = 0;
        socklen_t tlen = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
            continue;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET ||
            ntohs(peer.sin_port) != port)
            continue;
        int small = 4096;
        g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), ==, 0);
        return;
    }
    g_assert_not_reached();
}

/* Finding 7: PINGs from a server that reads our PONGs. Before the fix the
 * PONGs were appended to the buffer of a pending write (ASan:
 * heap-use-after-free in the write path, or PONGs lost or garbled). */
static void
test_ping_flood_reading(void)
{
    Server *srv = server_start(SERVER_FLOOD_READING);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 0, 0);
    g_assert_true(run_until(is_connected, &ev, 10));
    shrink_client_sndbuf(srv->port);
    g_atomic_int_set(&srv->go, 1);
    g_assert_true(run_until(server_done, srv, 40));
    server_join(srv);
    g_assert_cmpuint(srv->pongs, ==, FLOOD_PINGS); /* every PING answered, whole lines */
    g_assert_false(srv->peer_closed);
    cw_irc_conn_free(conn);
    events_clear(&ev);
    g_free(srv);
}

/* Finding 7: a server that floods PINGs and never reads. Before the fix the
 * PONGs piled up without limit (RSS 10 -> 206 MB); now the connection closes
 * at CW_IRC_CONN_SEND_MAX with a clear error. */
static void
test_ping_flood_not_reading(void)
{
    Server *srv = server_start(SERVER_FLOOD_NOT_READING);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 0, 0);
    g_assert_true(run_until(is_closed, &ev, 40));
    g_assert_nonnull(ev.error);
    g_assert_true(strstr(ev.error->message, "send queue overflow: the server is not reading"));
    g_assert_cmpuint(ev.unsent_bytes_at_close, <=, CW_IRC_CONN_SEND_MAX);
    g_assert_false(ev.closed_in_call);
    cw_irc_conn_free(conn); /* closes the socket: the server's send fails */
    server_join(srv);
    g_assert_true(srv->peer_closed);
    events_clear(&ev);
    g_free(srv);
}

/* Finding 9: lines still in the paced queue when cw_irc_conn_close() is
 * called are reported by origin, each message once, and from the main loop. */
static void
test_close_reports_unsent_origins(void)
{
    Server *srv = server_start(SERVER_SINK);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 1, 60000); /* one line, then one a minute */
    g_assert_true(run_until(is_connected, &ev, 10));
    g_assert_cmpint(ev.connected, ==, 1);
    g_autoptr(CwIrcOrigin) first = cw_irc_origin_new("#a%irc.example", "id-1");
    g_autoptr(CwIrcOrigin) second = cw_irc_origin_new("bob%irc.example", "id-2");
    ev.in_call = TRUE;
    g_assert_true(cw_irc_conn_send_from(conn, "PRIVMSG #a :one", first)); /* goes out now */
    g_assert_true(cw_irc_conn_send_from(conn, "PRIVMSG #a :two", first));
    g_assert_true(cw_irc_conn_send_from(conn, "PRIVMSG #a :three", first));
    g_assert_true(cw_irc_conn_send_from(conn, "PRIVMSG bob :hi", second));
    g_assert_true(cw_irc_conn_send(conn, "AWAY"));
    g_assert_cmpuint(cw_irc_conn_queue_length(conn), ==, 4);
    cw_irc_conn_close(conn, "bye");
    ev.in_call = FALSE;
    g_assert_cmpint(ev.closed, ==, 0); /* never from inside the call */
    g_assert_true(run_until(is_closed, &ev, 10));
    g_assert_null(ev.error);
    g_assert_cmpuint(ev.unsent->len, ==, 2); /* once per message, AWAY has no origin */
    g_assert_true(g_ptr_array_find(ev.unsent, first, NULL));
    g_assert_true(g_ptr_array_find(ev.unsent, second, NULL));
    cw_irc_conn_free(conn);
    server_join(srv);
    g_assert_cmpuint(srv->pongs, ==, 2); /* "one" and QUIT */
    events_clear(&ev);
    g_free(srv);
}

/* A user's own flood fills the paced queue: lines past CW_IRC_CONN_SEND_MAX
 * are refused, the connection stays up. */
static void
test_paced_queue_refuses_when_full(void)
{
    Server *srv = server_start(SERVER_SINK);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 1, 60000);
    g_assert_true(run_until(is_connected, &ev, 10));
    g_autofree char *line = g_strdup_printf("PRIVMSG #a :%0400d", 0);
    guint accepted = 0;
    while (cw_irc_conn_send(conn, line) && accepted < 10000)
        accepted++;
    gsize per_line = strlen(line) + 2;
    g_assert_cmpuint(accepted, >=, CW_IRC_CONN_SEND_MAX / per_line);
    g_assert_cmpuint(accepted, <=, CW_IRC_CONN_SEND_MAX / per_line + 1);
    g_assert_cmpuint(cw_irc_conn_queue_room(conn), <, per_line);
    g_assert_cmpuint(cw_irc_conn_unsent_bytes(conn), <=, CW_IRC_CONN_SEND_MAX + per_line);
    g_assert_true(cw_irc_conn_is_connected(conn));
    gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC / 5;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    g_assert_cmpint(ev.closed, ==, 0);
    g_assert_true(cw_irc_conn_send_now(conn, "PONG :still up"));
    cw_irc_conn_free(conn);
    server_join(srv);
    events_clear(&ev);
    g_free(srv);
}

/* The lifetime rule: freed with a close report pending and lines queued, the
 * conn calls nothing back, and what the lines held is released (ASan/LSan). */
static void
test_free_cancels_callbacks(void)
{
    Server *srv = server_start(SERVER_SINK);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 1, 60000);
    g_assert_true(run_until(is_connected, &ev, 10));
    g_autoptr(CwIrcOrigin) o = cw_irc_origin_new("#a%irc.example", "id-1");
    for (int i = 0; i < 5; i++)
        cw_irc_conn_send_from(conn, "PRIVMSG #a :x", o);
    cw_irc_conn_close(conn, "bye"); /* report scheduled */
    cw_irc_conn_free(conn);
    gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC / 5;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    g_assert_cmpint(ev.closed, ==, 0);
    g_assert_cmpint(o->refs, ==, 1); /* what the lines held went with the conn */
    server_join(srv);
    events_clear(&ev);
    g_free(srv);
}

/* A connect that fails is reported from the main loop, not from connect(). */
static void
test_failed_connect_reported_later(void)
{
    Server *srv = server_start(SERVER_SINK);
    guint16 port = srv->port;
    /* A port nobody listens on: take one, then give it up. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    srv->port = ntohs(a.sin_port);
    Events ev = { 0 };
    CwIrcConn *conn = connect_to(srv, &ev, 0, 0);
    srv->port = port;
    g_assert_true(run_until(is_closed, &ev, 10));
    g_assert_nonnull(ev.error);
    g_assert_cmpint(ev.connected, ==, 0);
    cw_irc_conn_free(conn);
    /* let the sink's accept() return */
    Events ev2 = { 0 };
    CwIrcConn *c2 = connect_to(srv, &ev2, 0, 0);
    g_assert_true(run_until(is_connected, &ev2, 10));
    cw_irc_conn_free(c2);
    server_join(srv);
    events_clear(&ev);
    events_clear(&ev2);
    g_free(srv);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/conn/ping-flood-reading", test_ping_flood_reading);
    g_test_add_func("/irc/conn/ping-flood-not-reading", test_ping_flood_not_reading);
    g_test_add_func("/irc/conn/close-reports-unsent", test_close_reports_unsent_origins);
    g_test_add_func("/irc/conn/paced-queue-full", test_paced_queue_refuses_when_full);
    g_test_add_func("/irc/conn/free-cancels-callbacks", test_free_cancels_callbacks);
    g_test_add_func("/irc/conn/failed-connect", test_failed_connect_reported_later);
    return g_test_run();
}
