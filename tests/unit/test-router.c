/* test-router.c — a whole gateway process driven in-process against a fake XMPP server (XEP-0114). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "gateway.h"
#include "stanza.h"

#define DOMAIN "loop.test"
#define SECRET "s3cret-for-tests"
#define ALICE "alice@example.org/phone"
#define MALLORY "mallory@evil.example/laptop"
#define WAIT_MS 3000 /* the longest any one wait may take */

/* A fake XMPP server with one accepted component connection, and the
 * gateway connected to it. Everything is torn down in fixture_teardown. */
typedef struct {
    char *dir;                  /* data_dir */
    GSocketListener *listener;  /* 127.0.0.1, ephemeral port */
    guint16 port;
    GSocketConnection *conn;    /* the server side of the component connection */
    GSocket *sock;              /* borrowed from conn */
    GSource *in_source;
    GString *in;                /* bytes from the gateway not yet consumed */
    gboolean eof;
    char *stream_id;
    CwGateway *gw;
    xmpp_ctx_t *ctx;            /* parses what the gateway sends */
} Fixture;

/* ---- waiting on the main context ---- */

static gboolean on_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition)(Fixture *f, gconstpointer arg);

/* Iterate the default main context until done() holds; FALSE on timeout. */
static gboolean iterate_until(Fixture *f, Condition done, gconstpointer arg)
{
    gboolean expired = FALSE;
    guint timer = g_timeout_add(WAIT_MS, on_deadline, &expired);
    while (!done(f, arg) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(timer);
    return done(f, arg);
}

/* ---- the server side of the socket ---- */

static gboolean on_server_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    Fixture *f = data;
    char buf[16384];
    for (;;) {
        g_autoptr(GError) error = NULL;
        gssize n = g_socket_receive(sock, buf, sizeof buf, NULL, &error);
        if (n > 0) {
            g_string_append_len(f->in, buf, n);
            continue;
        }
        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return G_SOURCE_CONTINUE;
        f->eof = TRUE; /* closed, or reset */
        f->in_source = NULL;
        return G_SOURCE_REMOVE;
    }
}

static void on_accepted(GObject *source, GAsyncResult *res, gpointer data)
{
    Fixture *f = data;
    g_autoptr(GError) error = NULL;
    f->conn = g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), res, NULL, &error);
    g_assert_no_error(error);
    f->sock = g_socket_connection_get_socket(f->conn);
    g_socket_set_blocking(f->sock, FALSE);
    /* Stanzas go out one small write at a time: no Nagle delay. */
    g_assert_true(g_socket_set_option(f->sock, IPPROTO_TCP, TCP_NODELAY, 1, &error));
    GSource *s = g_socket_create_source(f->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(s, G_SOURCE_FUNC(on_server_readable), f, NULL);
    g_source_attach(s, NULL);
    f->in_source = s;
    g_source_unref(s); /* the context keeps it until it is destroyed */
}

static gboolean is_accepted(Fixture *f, gconstpointer arg)
{
    return f->conn != NULL;
}

static gboolean can_write(Fixture *f, gconstpointer arg)
{
    return g_socket_condition_check(f->sock, G_IO_OUT) != 0;
}

/* Write all of text, letting the gateway run whenever the socket is full. */
static void server_write(Fixture *f, const char *text)
{
    gsize len = strlen(text), done = 0;
    while (done < len) {
        g_autoptr(GError) error = NULL;
        gssize n = g_socket_send(f->sock, text + done, len - done, NULL, &error);
        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_assert_true(iterate_until(f, can_write, NULL));
            continue;
        }
        g_assert_no_error(error);
        done += (gsize)n;
    }
}

/* Length of the first complete element in s (after white space), 0 if it is
 * not all there yet. Enough XML for what libstrophe writes: attribute values
 * are quoted, '<' in text is escaped. */
static gsize element_length(const char *s, gsize len)
{
    gsize i = 0;
    int depth = 0;
    while (i < len && g_ascii_isspace(s[i]))
        i++;
    while (i < len) {
        if (s[i] != '<') {
            i++;
            continue;
        }
        gsize j = i + 1;
        char quote = 0;
        for (; j < len; j++) {
            if (quote) {
                if (s[j] == quote)
                    quote = 0;
            } else if (s[j] == '"' || s[j] == '\'') {
                quote = s[j];
            } else if (s[j] == '>') {
                break;
            }
        }
        if (j >= len)
            return 0;
        if (s[i + 1] == '/')
            depth--;
        else if (s[j - 1] != '/')
            depth++;
        i = j + 1;
        if (depth <= 0)
            return i;
    }
    return 0;
}

static gboolean has_element(Fixture *f, gconstpointer arg)
{
    return f->eof || element_length(f->in->str, f->in->len) > 0;
}

/* The next element the gateway sent, as text (consumed from the buffer). */
static char *next_element_text(Fixture *f)
{
    if (!iterate_until(f, has_element, NULL))
        g_error("no stanza from the gateway within %d ms; have: '%s'", WAIT_MS, f->in->str);
    gsize n = element_length(f->in->str, f->in->len);
    if (n == 0)
        g_error("the gateway closed the stream; have: '%s'", f->in->str);
    char *text = g_strstrip(g_strndup(f->in->str, n));
    g_string_erase(f->in, 0, (gssize)n);
    if (g_test_verbose())
        g_test_message("<- %.300s", text);
    return text;
}

/* The next stanza the gateway sent, parsed (release it). */
static xmpp_stanza_t *next_stanza(Fixture *f)
{
    g_autofree char *text = next_element_text(f);
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(f->ctx, text);
    if (!s)
        g_error("cannot parse what the gateway sent: '%s'", text);
    return s;
}

static void send_stanza(Fixture *f, const char *xml)
{
    if (g_test_verbose())
        g_test_message("-> %.300s", xml);
    server_write(f, xml);
}

/* ---- the XEP-0114 handshake, server side ---- */

static gboolean has_stream_header(Fixture *f, gconstpointer arg)
{
    const char *start = strstr(f->in->str, "<stream:stream");
    return f->eof || (start && strchr(start, '>'));
}

/* Whether a start tag carries name=value, with either quote. */
static gboolean tag_has_attr(const char *tag, const char *name, const char *value)
{
    g_autofree char *dq = g_strdup_printf(" %s=\"%s\"", name, value);
    g_autofree char *sq = g_strdup_printf(" %s='%s'", name, value);
    return strstr(tag, dq) || strstr(tag, sq);
}

static gboolean is_connected(Fixture *f, gconstpointer arg)
{
    return cw_component_is_connected(f->gw->component);
}

static void server_handshake(Fixture *f)
{
    g_assert_true(iterate_until(f, has_stream_header, NULL));
    const char *start = strstr(f->in->str, "<stream:stream");
    g_assert_nonnull(start);
    const char *end = strchr(start, '>');
    g_autofree char *header = g_strndup(start, (gsize)(end - start + 1));
    g_string_erase(f->in, 0, end + 1 - f->in->str);
    g_assert_true(tag_has_attr(header, "xmlns", "jabber:component:accept"));
    g_assert_true(tag_has_attr(header, "xmlns:stream", "http://etherx.jabber.org/streams"));
    g_assert_true(tag_has_attr(header, "to", DOMAIN));

    g_autofree char *reply = g_strdup_printf(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
        "xmlns:stream='http://etherx.jabber.org/streams' from='%s' id='%s'>",
        DOMAIN, f->stream_id);
    server_write(f, reply);

    g_autoptr(xmpp_stanza_t) hs = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_name(hs), ==, "handshake");
    char *hex = xmpp_stanza_get_text(hs);
    g_autofree char *input = g_strconcat(f->stream_id, SECRET, NULL);
    g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA1, input, -1);
    g_assert_cmpstr(hex, ==, want);
    xmpp_free(f->ctx, hex);

    server_write(f, "<handshake/>");
    g_assert_true(iterate_until(f, is_connected, NULL));
}

/* ---- fixture ---- */

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    xmpp_initialize();
    f->ctx = xmpp_ctx_new(NULL, NULL);
    f->in = g_string_new(NULL);
    f->stream_id = g_strdup_printf("stream-%08x", g_random_int());
    f->dir = g_dir_make_tmp("cw-router-XXXXXX", &error);
    g_assert_no_error(error);

    f->listener = g_socket_listener_new();
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_socket_listener_add_address(f->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                  NULL, &bound, &error);
    g_assert_no_error(error);
    f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_assert_cmpuint(f->port, >, 0);
    g_socket_listener_accept_async(f->listener, NULL, on_accepted, f);

    g_autofree char *ini = g_strdup_printf("[xmpp]\n"
                                           "host = 127.0.0.1\n"
                                           "port = %u\n"
                                           "reconnect_min = 0.05\n"
                                           "reconnect_max = 0.2\n"
                                           "server_domain = example.org\n"
                                           "[gateway]\n"
                                           "data_dir = %s\n"
                                           "allowed_domains = example.org\n"
                                           "[transport:loop]\n"
                                           "type = loopback\n"
                                           "domain = " DOMAIN "\n"
                                           "secret = " SECRET "\n",
                                           f->port, f->dir);
    CwConfig *config = cw_config_load_data(ini, "test-router.ini", &error);
    g_assert_no_error(error);
    f->gw = cw_gateway_new(config, "loop", &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->gw);

    cw_component_start(f->gw->component);
    g_assert_true(iterate_until(f, is_accepted, NULL));
    server_handshake(f);
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_assert_cmpint(g_rmdir(path), ==, 0);
    } else {
        g_assert_cmpint(g_unlink(path), ==, 0);
    }
}

static void expect_ping_result(Fixture *f, const char *id);

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    /* Whatever the test sent was answered exactly as it expected: the next
     * thing back is the reply to this ping. */
    if (f->conn && !f->eof)
        expect_ping_result(f, "teardown");

    g_clear_pointer(&f->gw, cw_gateway_free);
    if (f->in_source)
        g_source_destroy(f->in_source);
    f->in_source = NULL;
    if (f->conn)
        g_io_stream_close(G_IO_STREAM(f->conn), NULL, NULL);
    g_clear_object(&f->conn);
    g_socket_listener_close(f->listener);
    g_clear_object(&f->listener);
    /* Let the listener's cancelled or finished sources go. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->stream_id);
    g_string_free(f->in, TRUE);
    xmpp_ctx_free(f->ctx);
    xmpp_shutdown();
}

/* ---- assertions on replies ---- */

static void send_ping(Fixture *f, const char *from, const char *id)
{
    g_autofree char *xml = g_strdup_printf(
        "<iq type='get' id='%s' from='%s' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
        id, from);
    send_stanza(f, xml);
}

static void expect_ping_result(Fixture *f, const char *id)
{
    send_ping(f, ALICE, id);
    g_autoptr(xmpp_stanza_t) r = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "iq");
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, id);
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, DOMAIN);
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, ALICE);
    g_assert_null(cw_stanza_first_element(r));
}

/* An error reply: <name type='error' id=id from=from to=to><error type=etype><cond/>. */
static void assert_error_reply(xmpp_stanza_t *r, const char *name, const char *id, const char *from,
                               const char *to, const char *etype, const char *condition)
{
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, name);
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "error");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, id);
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, from);
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, to);
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name(r, "error");
    g_assert_nonnull(error);
    g_assert_cmpstr(xmpp_stanza_get_type(error), ==, etype);
    xmpp_stanza_t *cond = cw_stanza_first_element(error);
    g_assert_nonnull(cond);
    g_assert_cmpstr(xmpp_stanza_get_name(cond), ==, condition);
    g_assert_cmpstr(xmpp_stanza_get_ns(cond), ==, CW_NS_STANZAS);
    /* Only the condition and an optional <text/>. */
    xmpp_stanza_t *next = xmpp_stanza_get_next(cond);
    while (next && !xmpp_stanza_is_tag(next))
        next = xmpp_stanza_get_next(next);
    if (next) {
        g_assert_cmpstr(xmpp_stanza_get_name(next), ==, "text");
        g_assert_cmpstr(xmpp_stanza_get_ns(next), ==, CW_NS_STANZAS);
    }
}

/* ---- stanzas answered with an error ---- */

typedef struct {
    const char *name;
    const char *xml;
    const char *stanza, *id, *from, *to; /* the expected reply */
    const char *etype, *condition;
} ErrorCase;

static const ErrorCase error_cases[] = {
    { "iq-get-unhandled",
      "<iq type='get' id='u1' from='" ALICE "' to='" DOMAIN "'>"
      "<query xmlns='urn:example:nothing'/></iq>",
      "iq", "u1", DOMAIN, ALICE, "cancel", "service-unavailable" },
    { "iq-set-unhandled",
      "<iq type='set' id='u2' from='" ALICE "' to='" DOMAIN "'>"
      "<query xmlns='urn:example:nothing'><item/></query></iq>",
      "iq", "u2", DOMAIN, ALICE, "cancel", "service-unavailable" },
    { "iq-get-unhandled-to-contact",
      "<iq type='get' id='u3' from='" ALICE "' to='echo@" DOMAIN "/x'>"
      "<query xmlns='urn:example:nothing'/></iq>",
      "iq", "u3", "echo@" DOMAIN "/x", ALICE, "cancel", "service-unavailable" },
    { "iq-no-child", "<iq type='get' id='n1' from='" ALICE "' to='" DOMAIN "'/>",
      "iq", "n1", DOMAIN, ALICE, "modify", "bad-request" },
    { "iq-only-text-child", "<iq type='set' id='n2' from='" ALICE "' to='" DOMAIN "'>hello</iq>",
      "iq", "n2", DOMAIN, ALICE, "modify", "bad-request" },
    { "iq-no-id",
      "<iq type='get' from='" ALICE "' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", NULL, DOMAIN, ALICE, "modify", "bad-request" },
    { "iq-bad-type",
      "<iq type='fetch' id='t1' from='" ALICE "' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "t1", DOMAIN, ALICE, "modify", "bad-request" },
    { "iq-no-type",
      "<iq id='t2' from='" ALICE "' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "t2", DOMAIN, ALICE, "modify", "bad-request" },
    { "iq-forbidden-domain",
      "<iq type='get' id='f1' from='" MALLORY "' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "f1", DOMAIN, MALLORY, "auth", "forbidden" },
    { "iq-forbidden-domain-unhandled",
      "<iq type='get' id='f2' from='" MALLORY "' to='" DOMAIN "'>"
      "<query xmlns='urn:example:nothing'/></iq>",
      "iq", "f2", DOMAIN, MALLORY, "auth", "forbidden" },
    { "message-forbidden-domain",
      "<message type='chat' id='m1' from='" MALLORY "' to='echo@" DOMAIN "'><body>hi</body></message>",
      "message", "m1", "echo@" DOMAIN, MALLORY, "auth", "forbidden" },
    { "presence-forbidden-domain",
      "<presence id='p1' from='" MALLORY "' to='" DOMAIN "'/>",
      "presence", "p1", DOMAIN, MALLORY, "auth", "forbidden" },
    { "iq-other-domain",
      "<iq type='get' id='o1' from='" ALICE "' to='other.test'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "o1", DOMAIN, ALICE, "cancel", "item-not-found" },
    { "message-other-domain",
      "<message type='chat' id='o2' from='" ALICE "' to='bob@other.test'><body>hi</body></message>",
      "message", "o2", DOMAIN, ALICE, "cancel", "item-not-found" },
    { "iq-malformed-to",
      "<iq type='get' id='j1' from='" ALICE "' to='a@@" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "j1", DOMAIN, ALICE, "modify", "jid-malformed" },
    { "iq-missing-to",
      "<iq type='get' id='j2' from='" ALICE "'><ping xmlns='urn:xmpp:ping'/></iq>",
      "iq", "j2", DOMAIN, ALICE, "modify", "jid-malformed" },
    { "message-unregistered",
      "<message type='chat' id='r1' from='" ALICE "' to='echo@" DOMAIN "'><body>hi</body></message>",
      "message", "r1", "echo@" DOMAIN, ALICE, "auth", "registration-required" },
};

static void test_error_reply(Fixture *f, gconstpointer data)
{
    const ErrorCase *c = data;
    send_stanza(f, c->xml);
    g_autoptr(xmpp_stanza_t) r = next_stanza(f);
    assert_error_reply(r, c->stanza, c->id, c->from, c->to, c->etype, c->condition);
}

/* ---- stanzas that get no reply at all ---- */

typedef struct {
    const char *name;
    const char *xml;
} SilentCase;

static const SilentCase silent_cases[] = {
    { "iq-result", "<iq type='result' id='x1' from='" ALICE "' to='" DOMAIN "'/>" },
    { "iq-result-with-payload",
      "<iq type='result' id='x2' from='" ALICE "' to='" DOMAIN "'>"
      "<query xmlns='jabber:iq:version'><name>x</name></query></iq>" },
    { "iq-error",
      "<iq type='error' id='x3' from='" ALICE "' to='" DOMAIN "'><error type='cancel'>"
      "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" },
    { "iq-error-forbidden-domain",
      "<iq type='error' id='x4' from='" MALLORY "' to='" DOMAIN "'><error type='cancel'>"
      "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" },
    { "iq-result-other-domain", "<iq type='result' id='x5' from='" ALICE "' to='other.test'/>" },
    { "message-error-forbidden-domain",
      "<message type='error' id='x6' from='" MALLORY "' to='echo@" DOMAIN "'><error type='cancel'>"
      "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>" },
    { "message-error", "<message type='error' id='x7' from='" ALICE "' to='echo@" DOMAIN "'/>" },
    { "malformed-from-iq",
      "<iq type='get' id='x8' from='@@' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>" },
    { "malformed-from-message",
      "<message type='chat' id='x9' from='@@' to='echo@" DOMAIN "'><body>hi</body></message>" },
    { "malformed-from-presence", "<presence from='@@' to='" DOMAIN "'/>" },
    { "missing-from-iq", "<iq type='get' id='x10' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>" },
    { "empty-from-iq",
      "<iq type='get' id='x11' from='' to='" DOMAIN "'><ping xmlns='urn:xmpp:ping'/></iq>" },
    { "unknown-element", "<foo xmlns='urn:example:foo' from='" ALICE "' to='" DOMAIN "'/>" },
    { "server-message-no-privilege",
      "<message from='example.org' to='" DOMAIN "'><body>motd</body></message>" },
};

static void test_silent(Fixture *f, gconstpointer data)
{
    const SilentCase *c = data;
    send_stanza(f, c->xml);
    /* The first thing back is the reply to the ping sent after it. */
    expect_ping_result(f, "after-silent");
    g_assert_true(cw_component_is_connected(f->gw->component));
}

/* ---- individual cases ---- */

static void test_ping(Fixture *f, gconstpointer data)
{
    expect_ping_result(f, "p1");
    expect_ping_result(f, "p2");
    g_assert_cmpuint(cw_component_stanzas_in(f->gw->component), ==, 2);
    g_assert_cmpuint(cw_component_stanzas_out(f->gw->component), ==, 2);
}

/* allowed_domains = example.org: users of other servers are refused, ours served. */
static void test_allowed_domains(Fixture *f, gconstpointer data)
{
    send_ping(f, MALLORY, "evil");
    g_autoptr(xmpp_stanza_t) r = next_stanza(f);
    assert_error_reply(r, "iq", "evil", DOMAIN, MALLORY, "auth", "forbidden");
    expect_ping_result(f, "good");
    /* Case does not matter. */
    send_ping(f, "Carol@EXAMPLE.Org/r", "upper");
    g_autoptr(xmpp_stanza_t) r2 = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_type(r2), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(r2), ==, "upper");
    /* A sub-domain is another domain. */
    send_ping(f, "dave@sub.example.org/r", "sub");
    g_autoptr(xmpp_stanza_t) r3 = next_stanza(f);
    assert_error_reply(r3, "iq", "sub", DOMAIN, "dave@sub.example.org/r", "auth", "forbidden");
    /* Nobody was remembered. */
    g_assert_cmpuint(g_hash_table_size(f->gw->users), ==, 0);
}

/* Senders without a localpart: only our own server (server_domain) may skip
 * allowed_domains, and no bare domain is an account: it cannot register
 * (or open legacy connections), only ask the gateway what it is. */
#define REGISTER_SET(from, id)                                                             \
    "<iq type='set' id='" id "' from='" from "' to='" DOMAIN "'>"                          \
    "<query xmlns='jabber:iq:register'><username>u</username><password>p</password>"       \
    "</query></iq>"
static void test_bare_domains(Fixture *f, gconstpointer data)
{
    send_stanza(f, REGISTER_SET("evil.example", "b1"));
    g_autoptr(xmpp_stanza_t) r1 = next_stanza(f);
    assert_error_reply(r1, "iq", "b1", DOMAIN, "evil.example", "auth", "forbidden");
    send_stanza(f, REGISTER_SET("example.org", "b2"));
    g_autoptr(xmpp_stanza_t) r2 = next_stanza(f);
    assert_error_reply(r2, "iq", "b2", DOMAIN, "example.org", "auth", "forbidden");
    send_stanza(f, REGISTER_SET("example.org/res", "b3"));
    g_autoptr(xmpp_stanza_t) r3 = next_stanza(f);
    assert_error_reply(r3, "iq", "b3", DOMAIN, "example.org/res", "auth", "forbidden");
    /* A room join from a bare domain: no session, no error either. */
    send_stanza(f, "<presence from='example.org' to='#c%irc.test@" DOMAIN "/n'>"
                   "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
    /* Asking what the gateway is stays possible for our server, not others. */
    send_ping(f, "example.org", "b4");
    g_autoptr(xmpp_stanza_t) r4 = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_type(r4), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(r4), ==, "b4");
    send_ping(f, "evil.example", "b5");
    g_autoptr(xmpp_stanza_t) r5 = next_stanza(f);
    assert_error_reply(r5, "iq", "b5", DOMAIN, "evil.example", "auth", "forbidden");
    g_assert_false(cw_store_user_exists(f->gw->store, "evil.example"));
    g_assert_false(cw_store_user_exists(f->gw->store, "example.org"));
    g_assert_cmpint(cw_store_user_count(f->gw->store), ==, 0);
    g_assert_cmpuint(g_hash_table_size(f->gw->users), ==, 0);
}

static void test_disco_info(Fixture *f, gconstpointer data)
{
    send_stanza(f, "<iq type='get' id='d1' from='" ALICE "' to='" DOMAIN "'>"
                   "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    g_autoptr(xmpp_stanza_t) r = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "iq");
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "d1");
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, DOMAIN);
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, ALICE);
    xmpp_stanza_t *query = xmpp_stanza_get_child_by_name_and_ns(
        r, "query", "http://jabber.org/protocol/disco#info");
    g_assert_nonnull(query);

    guint identities = 0;
    g_autoptr(GPtrArray) features = g_ptr_array_new();
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(query); c; c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        const char *name = xmpp_stanza_get_name(c);
        if (!strcmp(name, "identity")) {
            identities++;
            g_assert_cmpstr(xmpp_stanza_get_attribute(c, "category"), ==, "gateway");
            g_assert_cmpstr(xmpp_stanza_get_attribute(c, "type"), ==, "loopback");
        } else if (!strcmp(name, "feature")) {
            g_ptr_array_add(features, (gpointer)xmpp_stanza_get_attribute(c, "var"));
        } else {
            g_error("unexpected <%s/> in disco#info", name);
        }
    }
    g_assert_cmpuint(identities, ==, 1);
    g_ptr_array_add(features, NULL);
    const char *const *vars = (const char *const *)features->pdata;
    g_assert_true(g_strv_contains(vars, "urn:xmpp:ping"));
    g_assert_true(g_strv_contains(vars, "jabber:iq:register"));
    g_assert_true(g_strv_contains(vars, "http://jabber.org/protocol/disco#info"));
    g_assert_false(g_strv_contains(vars, "urn:example:nothing"));
    /* Sorted and without duplicates (XEP-0115 hashes depend on it). */
    for (guint i = 1; vars[i]; i++)
        g_assert_cmpint(strcmp(vars[i - 1], vars[i]), <, 0);
}

typedef struct {
    const char *name;
    const char *xml;
    const char *ns;     /* expected privilege_ns; NULL: unchanged (none) */
    CwRosterPerm perm;
    gboolean refused;   /* answered with forbidden */
} PrivilegeCase;

static const PrivilegeCase privilege_cases[] = {
    { "v2-both",
      "<message from='example.org' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:2'>"
      "<perm access='roster' type='both'/></privilege></message>",
      "urn:xmpp:privilege:2", CW_ROSTER_PERM_BOTH, FALSE },
    { "v1-get",
      "<message from='example.org' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:1'>"
      "<perm access='message' type='outgoing'/><perm access='roster' type='get'/></privilege></message>",
      "urn:xmpp:privilege:1", CW_ROSTER_PERM_GET, FALSE },
    { "v2-no-roster",
      "<message from='example.org' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:2'>"
      "<perm access='message' type='outgoing'/></privilege></message>",
      "urn:xmpp:privilege:2", CW_ROSTER_PERM_NONE, FALSE },
    /* Only our own server (server_domain) may grant it. */
    { "from-other-server",
      "<message from='evil.example' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:2'>"
      "<perm access='roster' type='both'/></privilege></message>",
      NULL, CW_ROSTER_PERM_NONE, TRUE },
    { "from-server-resource",
      "<message from='example.org/x' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:2'>"
      "<perm access='roster' type='both'/></privilege></message>",
      NULL, CW_ROSTER_PERM_NONE, TRUE },
    /* Not from a server at all. */
    { "from-user",
      "<message from='" ALICE "' to='" DOMAIN "'><privilege xmlns='urn:xmpp:privilege:2'>"
      "<perm access='roster' type='both'/></privilege></message>",
      NULL, CW_ROSTER_PERM_NONE, FALSE },
};

static void test_privilege(Fixture *f, gconstpointer data)
{
    const PrivilegeCase *c = data;
    g_assert_null(f->gw->privilege_ns);
    g_assert_cmpint(f->gw->roster_perm, ==, CW_ROSTER_PERM_NONE);
    send_stanza(f, c->xml);
    if (c->refused) {
        g_autoptr(xmpp_stanza_t) r = next_stanza(f);
        g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "error");
        g_assert_nonnull(xmpp_stanza_get_child_by_name(xmpp_stanza_get_child_by_name(r, "error"), "forbidden"));
    }
    expect_ping_result(f, "after-privilege"); /* no other reply; and it was processed */
    g_assert_cmpstr(f->gw->privilege_ns, ==, c->ns);
    g_assert_cmpint(f->gw->roster_perm, ==, c->perm);
}

/* A 100 kB body to the gateway JID: answered with the help text. */
static void test_big_message(Fixture *f, gconstpointer data)
{
    const gsize size = 100 * 1024;
    g_autofree char *body = g_malloc(size + 1);
    memset(body, 'x', size);
    body[size] = '\0';
    g_autofree char *xml = g_strdup_printf(
        "<message type='chat' id='big' from='" ALICE "' to='" DOMAIN "'><body>%s</body></message>",
        body);
    send_stanza(f, xml);
    g_autoptr(xmpp_stanza_t) r = next_stanza(f);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "message");
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, DOMAIN);
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, "alice@example.org");
    g_autofree char *text = cw_stanza_child_text(r, "body", NULL);
    g_assert_nonnull(text);
    g_assert_true(g_str_has_prefix(text, "This is Causeway"));
    g_assert_nonnull(strstr(text, "(Unknown command: xxx"));

    /* The same to a contact: refused without echoing the body back. */
    g_autofree char *xml2 = g_strdup_printf(
        "<message type='chat' id='big2' from='" ALICE "' to='echo@" DOMAIN "'><body>%s</body></message>",
        body);
    send_stanza(f, xml2);
    g_autofree char *raw = next_element_text(f);
    g_assert_cmpuint(strlen(raw), <, 1024);
    g_autoptr(xmpp_stanza_t) r2 = xmpp_stanza_new_from_string(f->ctx, raw);
    assert_error_reply(r2, "message", "big2", "echo@" DOMAIN, ALICE, "auth",
                       "registration-required");
}

/* Many stanzas in one write: each answered, in order. */
static void test_pipelined(Fixture *f, gconstpointer data)
{
    GString *batch = g_string_new(NULL);
    for (int i = 0; i < 50; i++)
        g_string_append_printf(batch,
                               "<iq type='get' id='b%d' from='" ALICE "' to='" DOMAIN "'>"
                               "<ping xmlns='urn:xmpp:ping'/></iq>",
                               i);
    send_stanza(f, batch->str);
    g_string_free(batch, TRUE);
    for (int i = 0; i < 50; i++) {
        g_autoptr(xmpp_stanza_t) r = next_stanza(f);
        g_autofree char *id = g_strdup_printf("b%d", i);
        g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "result");
        g_assert_cmpstr(xmpp_stanza_get_id(r), ==, id);
    }
}

/* ---- flow control ---- */

static gboolean is_uncongested(Fixture *f, gconstpointer arg)
{
    return !cw_component_is_congested(f->gw->component);
}

/* The server stops reading: the gateway's output backs up until it reports
 * congestion (so transports stop reading); once the server reads again,
 * every stanza arrives, in order, and the congestion ends. */
static void test_congestion(Fixture *f, gconstpointer data)
{
    CwComponent *comp = f->gw->component;
    g_source_destroy(f->in_source);
    f->in_source = NULL;

    xmpp_ctx_t *ctx = cw_gateway_ctx(f->gw);
    g_autofree char *body = g_strnfill(16 * 1024, 'z');
    int sent = 0;
    while (!cw_component_is_congested(comp)) {
        g_assert_cmpint(sent, <, 4096); /* 64 MB without congestion: broken */
        g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
        g_autofree char *id = g_strdup_printf("flow%d", sent++);
        xmpp_stanza_set_id(m, id);
        xmpp_stanza_set_to(m, ALICE);
        xmpp_stanza_set_from(m, DOMAIN);
        cw_stanza_add_text_child(m, "body", NULL, body);
        g_assert_true(cw_component_send(comp, m));
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
    /* Congestion starts above 4 MB waiting; a chunk may have gone to
     * libstrophe since, but it lasts until under 1 MB (hysteresis). */
    g_assert_cmpuint(cw_component_backlog(comp), >, 1024 * 1024);
    g_test_message("congested after %d stanzas of 16 kB", sent);

    /* The server reads again. */
    GSource *s = g_socket_create_source(f->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(s, G_SOURCE_FUNC(on_server_readable), f, NULL);
    g_source_attach(s, NULL);
    f->in_source = s;
    g_source_unref(s);
    for (int i = 0; i < sent; i++) {
        g_autoptr(xmpp_stanza_t) m = next_stanza(f);
        g_autofree char *id = g_strdup_printf("flow%d", i);
        g_assert_cmpstr(xmpp_stanza_get_id(m), ==, id);
        g_autofree char *text = cw_stanza_child_text(m, "body", NULL);
        g_assert_cmpstr(text, ==, body);
    }
    g_assert_true(iterate_until(f, is_uncongested, NULL));
    g_assert_cmpuint(cw_component_backlog(comp), ==, 0);
}

/* ---- the libstrophe 0.12 stream-management work-around ---- */

static void test_sm_workaround(void)
{
    xmpp_initialize();
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);

    /* Without the work-around a component conn has no SM state; 0.12's
     * stanza path dereferences it (the crash every other test here would
     * show under ASan). */
    xmpp_conn_t *plain = xmpp_conn_new(ctx);
    g_assert_null(xmpp_conn_get_sm_state(plain));

    xmpp_conn_t *conn = cw_component_conn_new_with_sm_state(ctx);
    g_assert_nonnull(conn);
    g_assert_true(xmpp_conn_is_disconnected(conn));
    xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(conn); /* detaches it */
    g_assert_nonnull(sm);
    g_assert_null(xmpp_conn_get_sm_state(conn));
    g_assert_cmpint(xmpp_conn_set_sm_state(conn, sm), ==, 0); /* give it back */

    xmpp_conn_release(plain);
    xmpp_conn_release(conn); /* frees the state */
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/router/sm-workaround", test_sm_workaround);

#define ADD(path, data, fn) \
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
    ADD("/router/ping", NULL, test_ping);
    ADD("/router/allowed-domains", NULL, test_allowed_domains);
    ADD("/router/bare-domains", NULL, test_bare_domains);
    ADD("/router/disco-info", NULL, test_disco_info);
    ADD("/router/big-message", NULL, test_big_message);
    ADD("/router/pipelined", NULL, test_pipelined);
    ADD("/router/congestion", NULL, test_congestion);
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *path = g_strdup_printf("/router/error/%s", error_cases[i].name);
        ADD(path, &error_cases[i], test_error_reply);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(silent_cases); i++) {
        g_autofree char *path = g_strdup_printf("/router/silent/%s", silent_cases[i].name);
        ADD(path, &silent_cases[i], test_silent);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(privilege_cases); i++) {
        g_autofree char *path = g_strdup_printf("/router/privilege/%s", privilege_cases[i].name);
        ADD(path, &privilege_cases[i], test_privilege);
    }
#undef ADD
    return g_test_run();
}
