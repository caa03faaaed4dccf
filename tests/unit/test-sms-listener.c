/* test-sms-listener.c — the MO/DLR callback listener, driven by a libsoup client. */
#include <errno.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sms/sms-listener.h"

#define TOKEN "t0k3n"

typedef struct {
    guint mos, dlrs;
    CwSmsCallbackAnswer answer;
    char *sender, *receiver, *text, *kannel_id;
    gint64 timestamp;
    gint64 message;
    guint part, type;
    char *smsc_status;
} Seen;

static CwSmsCallbackAnswer
on_mo(const CwSmsMo *mo, gpointer data)
{
    Seen *s = data;
    s->mos++;
    g_free(s->sender);
    g_free(s->receiver);
    g_free(s->text);
    g_free(s->kannel_id);
    s->sender = g_strdup(mo->sender);
    s->receiver = g_strdup(mo->receiver);
    s->text = g_strdup(mo->text);
    s->kannel_id = g_strdup(mo->kannel_id);
    s->timestamp = mo->timestamp;
    return s->answer;
}

static CwSmsCallbackAnswer
on_dlr(const CwSmsDlr *dlr, gpointer data)
{
    Seen *s = data;
    s->dlrs++;
    s->message = dlr->message;
    s->part = dlr->part;
    s->type = dlr->type;
    g_free(s->smsc_status);
    s->smsc_status = g_strdup(dlr->smsc_status);
    return s->answer;
}

static void
seen_clear(Seen *s)
{
    g_free(s->sender);
    g_free(s->receiver);
    g_free(s->text);
    g_free(s->kannel_id);
    g_free(s->smsc_status);
}

static const CwSmsListenerHandlers handlers = {.mo = on_mo, .dlr = on_dlr};

typedef struct {
    CwSmsListener *l;
    SoupSession *session;
    Seen seen;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer unused)
{
    memset(f, 0, sizeof *f);
    g_autoptr(GError) error = NULL;
    f->l = cw_sms_listener_new("127.0.0.1:0", TOKEN, &handlers, &f->seen, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->l);
    g_assert_cmpuint(cw_sms_listener_port(f->l), >, 0);
    f->session = soup_session_new();
}

static void
fixture_teardown(Fixture *f, gconstpointer unused)
{
    g_object_unref(f->session);
    cw_sms_listener_free(f->l);
    seen_clear(&f->seen);
}

typedef struct {
    gboolean done;
    GBytes *body;
    GError *error;
} Reply;

static void
on_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    Reply *r = data;
    r->body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &r->error);
    r->done = TRUE;
}

/* One request; the status, and the body (*body, g_free) and its
 * Content-Length header (-1 when absent). */
static guint
request(Fixture *f, const char *method, const char *path_query, const char *content_type,
        const char *body, char **reply, goffset *content_length)
{
    g_autofree char *url =
        g_strdup_printf("http://127.0.0.1:%u%s", cw_sms_listener_port(f->l), path_query);
    g_autoptr(SoupMessage) msg = soup_message_new(method, url);
    g_assert_nonnull(msg);
    if (body) {
        g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(msg, content_type, b);
    }
    Reply r = {0};
    soup_session_send_and_read_async(f->session, msg, G_PRIORITY_DEFAULT, NULL, on_reply, &r);
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!r.done && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(r.done);
    g_assert_no_error(r.error);
    gsize len;
    const char *data = g_bytes_get_data(r.body, &len);
    if (reply)
        *reply = g_strndup(data ? data : "", len);
    if (content_length) {
        SoupMessageHeaders *h = soup_message_get_response_headers(msg);
        const char *cl = soup_message_headers_get_one(h, "Content-Length");
        *content_length = cl ? g_ascii_strtoll(cl, NULL, 10) : -1;
    }
    g_bytes_unref(r.body);
    return soup_message_get_status(msg);
}

static guint
get(Fixture *f, const char *path_query, char **reply)
{
    return request(f, "GET", path_query, NULL, NULL, reply, NULL);
}

/* Every byte %XX. */
static char *
escape_bytes(const guint8 *b, gsize n)
{
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < n; i++)
        g_string_append_printf(s, "%%%02X", b[i]);
    return g_string_free(s, FALSE);
}

static void
test_token(Fixture *f, gconstpointer unused)
{
    const char *mo = "sender=%2B4915112345678&receiver=4711&text=hi&coding=0&charset=UTF-8";
    g_autofree char *none = g_strdup_printf("/mo?%s", mo);
    g_autofree char *wrong = g_strdup_printf("/mo?token=t0k3m&%s", mo);
    g_autofree char *prefix = g_strdup_printf("/mo?token=t0k&%s", mo);
    g_autofree char *longer = g_strdup_printf("/mo?token=t0k3nn&%s", mo);
    g_assert_cmpuint(get(f, none, NULL), ==, 403);
    g_assert_cmpuint(get(f, wrong, NULL), ==, 403);
    g_assert_cmpuint(get(f, prefix, NULL), ==, 403);
    g_assert_cmpuint(get(f, longer, NULL), ==, 403);
    g_assert_cmpuint(get(f, "/dlr?m=1&p=0&type=1", NULL), ==, 403);
    g_assert_cmpuint(f->seen.mos + f->seen.dlrs, ==, 0);
    g_assert_cmpuint(cw_sms_listener_refused(f->l), ==, 5);
    g_assert_cmpuint(cw_sms_listener_taken(f->l), ==, 0);
}

static void
test_paths_methods(Fixture *f, gconstpointer unused)
{
    g_assert_cmpuint(get(f, "/other?token=" TOKEN, NULL), ==, 404);
    g_assert_cmpuint(get(f, "/?token=" TOKEN, NULL), ==, 404);
    g_assert_cmpuint(get(f, "/mo/x?token=" TOKEN, NULL), ==, 404);
    g_assert_cmpuint(request(f, "PUT", "/mo?token=" TOKEN, "text/plain", "x", NULL, NULL), ==, 405);
    g_assert_cmpuint(request(f, "DELETE", "/dlr?token=" TOKEN, NULL, NULL, NULL, NULL), ==, 405);
    g_assert_cmpuint(request(f, "POST", "/mo", "text/plain", "token=" TOKEN, NULL, NULL), ==, 415);
    g_assert_cmpuint(f->seen.mos + f->seen.dlrs, ==, 0);
}

static void
test_too_large(Fixture *f, gconstpointer unused)
{
    g_autofree char *big = g_strnfill(CW_SMS_CALLBACK_MAX, 'x');
    g_autofree char *q = g_strdup_printf("/mo?token=" TOKEN "&sender=1&receiver=2&text=%s", big);
    g_assert_cmpuint(get(f, q, NULL), ==, 413);
    g_autofree char *form = g_strdup_printf("token=" TOKEN "&sender=1&receiver=2&text=%s", big);
    g_assert_cmpuint(
        request(f, "POST", "/mo", "application/x-www-form-urlencoded", form, NULL, NULL), ==, 413);
    g_assert_cmpuint(f->seen.mos, ==, 0);
}

static void
test_malformed(Fixture *f, gconstpointer unused)
{
    g_autofree char *reply = NULL;
    g_assert_cmpuint(get(f, "/mo?token=" TOKEN "&receiver=4711&text=hi", &reply), ==, 400);
    g_assert_nonnull(strstr(reply, "sender"));
    g_clear_pointer(&reply, g_free);
    g_assert_cmpuint(request(f, "POST", "/mo", "application/x-www-form-urlencoded",
                             "token=" TOKEN "&sender=1&receiver=2&text=%G1", &reply, NULL),
                     ==, 400);
    g_assert_cmpuint(strlen(reply), >, 0);
    g_clear_pointer(&reply, g_free);
    g_assert_cmpuint(get(f, "/dlr?token=" TOKEN "&m=1&p=0&type=3", &reply), ==, 400);
    g_assert_cmpuint(strlen(reply), >, 0);
    g_clear_pointer(&reply, g_free);
    g_assert_cmpuint(get(f, "/dlr?token=" TOKEN "&m=1&p=0&type=1&type=2", NULL), ==, 400);
    g_assert_cmpuint(cw_sms_listener_malformed(f->l), ==, 4);
    g_assert_cmpuint(f->seen.mos + f->seen.dlrs, ==, 0);
}

static void
test_mo_utf16(Fixture *f, gconstpointer unused)
{
    const char *text = "Hi 🙂 串 & = + % ok";
    g_autofree gunichar2 *u16 = g_utf8_to_utf16(text, -1, NULL, NULL, NULL);
    gsize n = 0;
    while (u16[n])
        n++;
    g_autofree guint8 *be = g_new(guint8, n * 2);
    for (gsize i = 0; i < n; i++) {
        be[2 * i] = (guint8)(u16[i] >> 8);
        be[2 * i + 1] = (guint8)(u16[i] & 0xFF);
    }
    g_autofree char *esc = escape_bytes(be, n * 2);
    g_assert_nonnull(strstr(esc, "%00"));
    g_autofree char *q = g_strdup_printf(
        "/mo?token=" TOKEN "&sender=%%2B4915112345678&receiver=4711&text=%s&coding=2"
        "&charset=UTF-16BE&id=0f3b2a1c-0000-4000-8000-000000000001&ts=1700000000&udh=",
        esc);
    g_autofree char *reply = NULL;
    goffset cl = -2;
    g_assert_cmpuint(request(f, "GET", q, NULL, NULL, &reply, &cl), ==, 200);
    g_assert_cmpstr(reply, ==, "");
    g_assert_cmpint(cl, ==, 0);
    g_assert_cmpuint(f->seen.mos, ==, 1);
    g_assert_cmpstr(f->seen.sender, ==, "+4915112345678");
    g_assert_cmpstr(f->seen.receiver, ==, "4711");
    g_assert_cmpstr(f->seen.text, ==, text);
    g_assert_cmpstr(f->seen.kannel_id, ==, "0f3b2a1c-0000-4000-8000-000000000001");
    g_assert_cmpint(f->seen.timestamp, ==, 1700000000);
    g_assert_cmpuint(cw_sms_listener_taken(f->l), ==, 1);
}

static void
test_mo_post(Fixture *f, gconstpointer unused)
{
    g_autofree char *reply = NULL;
    goffset cl = -2;
    g_assert_cmpuint(request(f, "POST", "/mo", "application/x-www-form-urlencoded",
                             "token=" TOKEN "&sender=%2B1555&receiver=4711&text=a+b%26c", &reply,
                             &cl),
                     ==, 200);
    g_assert_cmpstr(reply, ==, "");
    g_assert_cmpint(cl, ==, 0);
    g_assert_cmpstr(f->seen.text, ==, "a b&c");
    g_assert_cmpstr(f->seen.sender, ==, "+1555");
}

static void
test_dlr(Fixture *f, gconstpointer unused)
{
    g_autofree char *reply = NULL;
    goffset cl = -2;
    g_assert_cmpuint(request(f, "GET",
                             "/dlr?token=" TOKEN "&m=42&p=1&type=8&smsc_status=ACK%2F"
                             "&to=%2B4915112345678",
                             NULL, NULL, &reply, &cl),
                     ==, 200);
    g_assert_cmpstr(reply, ==, "");
    g_assert_cmpint(cl, ==, 0);
    g_assert_cmpuint(f->seen.dlrs, ==, 1);
    g_assert_cmpint(f->seen.message, ==, 42);
    g_assert_cmpuint(f->seen.part, ==, 1);
    g_assert_cmpuint(f->seen.type, ==, 8);
    g_assert_cmpstr(f->seen.smsc_status, ==, "ACK/");
    g_assert_cmpuint(get(f, "/dlr?token=" TOKEN "&m=42&p=1&type=1&smsc_status=", NULL), ==, 200);
    g_assert_cmpuint(f->seen.type, ==, 1);
    g_assert_cmpuint(cw_sms_listener_taken(f->l), ==, 2);
}

static void
test_later(Fixture *f, gconstpointer unused)
{
    f->seen.answer = CW_SMS_CALLBACK_LATER;
    g_assert_cmpuint(get(f, "/mo?token=" TOKEN "&sender=1&receiver=2&text=x", NULL), ==, 503);
    g_assert_cmpuint(get(f, "/dlr?token=" TOKEN "&m=1&p=0&type=1", NULL), ==, 503);
    g_assert_cmpuint(f->seen.mos, ==, 1);
    g_assert_cmpuint(f->seen.dlrs, ==, 1);
    g_assert_cmpuint(cw_sms_listener_taken(f->l), ==, 0);
    f->seen.answer = CW_SMS_CALLBACK_TAKEN;
    g_assert_cmpuint(get(f, "/mo?token=" TOKEN "&sender=1&receiver=2&text=x", NULL), ==, 200);
}

/* ---- the HTTP/1.1 server itself, over a plain socket ---- */

static int
raw_connect(Fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cw_sms_listener_port(f->l)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    g_assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

static void
raw_send(int fd, const char *data, gsize len)
{
    gsize sent = 0;
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (sent < len && g_get_monotonic_time() < end) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (gsize)n;
        g_main_context_iteration(NULL, FALSE);
    }
    g_assert_cmpuint(sent, ==, len);
}

/* Run the loop and read until want occurrences of "HTTP/1.1 " (not
 * counting 100 Continue) are in, or the peer closes (*closed), or 3 s. */
static char *
raw_read(int fd, guint want, gboolean *closed)
{
    GString *in = g_string_new(NULL);
    *closed = FALSE;
    gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) {
            *closed = TRUE;
            break;
        }
        if (n > 0)
            g_string_append_len(in, buf, n);
        guint count = 0;
        for (const char *p = in->str; (p = strstr(p, "HTTP/1.1 ")); p++)
            if (!g_str_has_prefix(p, "HTTP/1.1 100 "))
                count++;
        if (want && count >= want && !strstr(in->str, "Connection: close"))
            break;
        g_main_context_iteration(NULL, FALSE);
        if (n < 0)
            g_usleep(1000);
    }
    return g_string_free(in, FALSE);
}

static guint
count_of(const char *s, const char *what)
{
    guint n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

#define DLR_GET(m) "GET /dlr?token=" TOKEN "&m=" #m "&p=0&type=1 HTTP/1.1\r\nHost: x\r\n\r\n"

static void
test_http_pipelined(Fixture *f, gconstpointer unused)
{
    int fd = raw_connect(f);
    const char *three = DLR_GET(1) DLR_GET(2) "GET /dlr?token=" TOKEN "&m=3&p=0&type=1 HTTP/1.0\r\n\r\n";
    raw_send(fd, three, strlen(three));
    gboolean closed;
    g_autofree char *in = raw_read(fd, 3, &closed);
    g_assert_cmpuint(count_of(in, "HTTP/1.1 200 OK\r\n"), ==, 3);
    g_assert_true(closed); /* HTTP/1.0 without keep-alive: closed after the third */
    g_assert_cmpuint(count_of(in, "Content-Length: 0\r\n"), ==, 3);
    g_assert_cmpuint(f->seen.dlrs, ==, 3);
    g_assert_cmpint(f->seen.message, ==, 3); /* in order */
    close(fd);
}

static void
test_http_keep_alive(Fixture *f, gconstpointer unused)
{
    int fd = raw_connect(f);
    gboolean closed;
    for (int i = 0; i < 3; i++) {
        raw_send(fd, DLR_GET(7), strlen(DLR_GET(7)));
        g_autofree char *in = raw_read(fd, 1, &closed);
        g_assert_true(g_str_has_prefix(in, "HTTP/1.1 200 OK\r\n"));
        g_assert_false(closed);
    }
    g_assert_cmpuint(cw_sms_listener_connections(f->l), ==, 1);
    g_assert_cmpuint(f->seen.dlrs, ==, 3);
    /* a request a byte at a time */
    const char *req = DLR_GET(8);
    for (gsize i = 0; req[i]; i++)
        raw_send(fd, req + i, 1);
    g_autofree char *in = raw_read(fd, 1, &closed);
    g_assert_true(g_str_has_prefix(in, "HTTP/1.1 200 OK\r\n"));
    g_assert_cmpint(f->seen.message, ==, 8);
    close(fd);
    gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (cw_sms_listener_connections(f->l) > 0 && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(cw_sms_listener_connections(f->l), ==, 0);
}

static void
test_http_continue(Fixture *f, gconstpointer unused)
{
    int fd = raw_connect(f);
    const char *body = "token=" TOKEN "&sender=%2B4915112345678&receiver=4711&text=posted";
    g_autofree char *head = g_strdup_printf(
        "POST /mo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n", strlen(body));
    raw_send(fd, head, strlen(head));
    gboolean closed;
    g_autofree char *cont = raw_read(fd, 0, &closed); /* 3 s at most */
    g_assert_true(g_str_has_prefix(cont, "HTTP/1.1 100 Continue\r\n\r\n"));
    raw_send(fd, body, strlen(body));
    g_autofree char *in = raw_read(fd, 1, &closed);
    g_assert_true(g_str_has_prefix(in, "HTTP/1.1 200 OK\r\n"));
    g_assert_cmpstr(f->seen.text, ==, "posted");
    close(fd);
}

/* One request on a fresh connection: the answer's status line and whether
 * the connection was closed after it. */
static char *
raw_once(Fixture *f, const char *req, gsize len, gboolean *closed)
{
    int fd = raw_connect(f);
    raw_send(fd, req, len);
    char *in = raw_read(fd, 1, closed);
    if (!*closed) {
        g_autofree char *more = raw_read(fd, 0, closed);
    }
    close(fd);
    return in;
}

static void
test_http_refused(Fixture *f, gconstpointer unused)
{
    static const struct {
        const char *req, *status;
    } cases[] = {
        {"GARBAGE\r\n\r\n", "HTTP/1.1 400 "},
        {"GET /dlr HTTP/2.0\r\n\r\n", "HTTP/1.1 505 "},
        {"GET /dlr HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "}, /* no Host */
        {"GET /dlr HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "HTTP/1.1 400 "},
        {"GET /dlr HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         "HTTP/1.1 400 "},
        {"POST /mo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         "HTTP/1.1 501 "},
        {"POST /mo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", "HTTP/1.1 417 "},
        {"POST /mo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", "HTTP/1.1 413 "},
        {"GET /dlr\x01 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean closed;
        g_autofree char *in = raw_once(f, cases[i].req, strlen(cases[i].req), &closed);
        if (!g_str_has_prefix(in, cases[i].status))
            g_error("case %zu: %s", i, in);
        g_assert_true(closed);
    }
    /* a request line past the limit, and headers past theirs */
    GString *big = g_string_new("GET /dlr?");
    while (big->len < CW_SMS_CALLBACK_MAX + 2048)
        g_string_append(big, "aaaaaaaaaaaaaaaa");
    g_string_append(big, " HTTP/1.1\r\nHost: x\r\n\r\n");
    gboolean closed;
    g_autofree char *in = raw_once(f, big->str, big->len, &closed);
    g_assert_true(g_str_has_prefix(in, "HTTP/1.1 414 "));
    g_string_assign(big, "GET /dlr HTTP/1.1\r\nHost: x\r\n");
    while (big->len < 9000)
        g_string_append(big, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    g_string_append(big, "\r\n");
    g_autofree char *in2 = raw_once(f, big->str, big->len, &closed);
    g_assert_true(g_str_has_prefix(in2, "HTTP/1.1 431 "));
    g_string_free(big, TRUE);
    /* HEAD: the head of a 405, no body */
    const char *head = "HEAD /mo?token=" TOKEN " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    g_autofree char *in3 = raw_once(f, head, strlen(head), &closed);
    g_assert_true(g_str_has_prefix(in3, "HTTP/1.1 405 "));
    g_assert_nonnull(strstr(in3, "Allow: GET, POST\r\n"));
    g_assert_true(g_str_has_suffix(in3, "\r\n\r\n"));
    g_assert_cmpuint(f->seen.mos + f->seen.dlrs, ==, 0);
}

static void
test_bad_address(void)
{
    const char *bad[] = {"nonsense",      "127.0.0.1",      "127.0.0.1:",   "127.0.0.1:99999",
                         "127.0.0.1:80x", "localhost:8080", "[::1",         "[::1]8080",
                         "::1:8080",      ":8080",          "300.1.1.1:80", ""};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(cw_sms_listener_new(bad[i], TOKEN, &handlers, NULL, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, bad[i]));
    }
    /* in use */
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsListener) first =
        cw_sms_listener_new("127.0.0.1:0", TOKEN, &handlers, NULL, &error);
    g_assert_no_error(error);
    g_autofree char *addr = g_strdup_printf("127.0.0.1:%u", cw_sms_listener_port(first));
    g_assert_null(cw_sms_listener_new(addr, TOKEN, &handlers, NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
    g_assert_nonnull(strstr(error->message, addr));
}

static void
test_ipv6(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsListener) l = cw_sms_listener_new("[::1]:0", TOKEN, &handlers, NULL, &error);
    if (!l) {
        g_test_skip(error->message);
        return;
    }
    g_assert_cmpuint(cw_sms_listener_port(l), >, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/sms/listener/token", test_token);
    ADD("/sms/listener/paths-methods", test_paths_methods);
    ADD("/sms/listener/too-large", test_too_large);
    ADD("/sms/listener/malformed", test_malformed);
    ADD("/sms/listener/mo-utf16", test_mo_utf16);
    ADD("/sms/listener/mo-post", test_mo_post);
    ADD("/sms/listener/dlr", test_dlr);
    ADD("/sms/listener/later", test_later);
    ADD("/sms/listener/http-pipelined", test_http_pipelined);
    ADD("/sms/listener/http-keep-alive", test_http_keep_alive);
    ADD("/sms/listener/http-continue", test_http_continue);
    ADD("/sms/listener/http-refused", test_http_refused);
#undef ADD
    g_test_add_func("/sms/listener/bad-address", test_bad_address);
    g_test_add_func("/sms/listener/ipv6", test_ipv6);
    return g_test_run();
}
