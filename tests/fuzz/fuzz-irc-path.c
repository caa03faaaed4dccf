/* fuzz-irc-path.c — libFuzzer harness of the whole IRC->XMPP path, checked by a strict XML parser.
 *
 * One gateway process is built once with the real IRC transport
 * (cw_irc_transport) and connected, through the real component code, to a
 * fake XMPP server on a loopback socket (the XEP-0114 handshake is done once,
 * at start-up). Each input then plays one user's session:
 *
 *   1. alice@example.org comes online; resource r joins #chan%irc.test and
 *      #other%irc.test, resource r2 joins #chan (presences through
 *      cw_router_dispatch, as the server would hand them over). The IRC
 *      session is created and starts connecting, but the main loop does not
 *      run while an input plays, so it never connects: the harness plays the
 *      server instead.
 *   2. A fixed registration: CAP LS (every cap the transport wants), the
 *      ACK of whatever it requested, 001, 005, and for each channel JOIN,
 *      332, 353, 366 — so both rooms are joined on the XMPP side.
 *   3. The input: raw bytes cut into lines by the transport's own
 *      CwIrcLineBuffer (LF, CR LF, overlong lines dropped), each parsed with
 *      cw_irc_line_parse() and handled as the connection would: PING is
 *      answered by the connection (skipped here), then cw_irc_cap_feed() (the
 *      CAP/registration machine, which still follows CAP NEW/DEL/ACK and
 *      nick errors), then cw_irc_events_handle_line(). A line that starts
 *      with '<' is instead a <message/> or <presence/> from the XMPP user
 *      (default from alice@example.org/r, to #chan%irc.test@irc.fuzz), so
 *      inputs can mix both directions (a groupchat message, then its
 *      echo-message; a nick change, then NICK...). Other stanzas are ignored.
 *   4. Every user is dropped (which frees the IRC sessions and cancels their
 *      connects), then the main loop runs until the component has written
 *      everything and the fake server has read it.
 *
 * The check: everything the gateway wrote to the server during the input —
 * exactly the bytes of the component stream — is parsed by expat (the parser
 * libstrophe, and so most components' servers, use; namespace-aware), one
 * parser per input, inside a synthetic <stream:stream> header, fed
 * incrementally as the bytes arrive. Any XML error (bad UTF-8, a character
 * that is not an XML 1.0 Char such as U+FFFE/U+FFFF or a C0 control, broken
 * escaping, unbound prefixes, mismatched tags), a stanza that is not
 * message/presence/iq in jabber:component:accept, a stanza left unfinished,
 * or a 'to' / 'from' that is not a valid JID (cw_jid_is_valid), or a 'from'
 * outside the component's domain, aborts: a server would close the stream,
 * or bounce the stanza, and every user of the gateway would lose it.
 * GLib criticals abort too (fuzz-common.h).
 *
 * Nothing in the core or the transport is changed for the harness. GIO's
 * default resolver is replaced by one that fails every lookup at once (no
 * DNS query leaves the machine, whatever server name an input uses) and the
 * proxy resolver is the dummy one.
 *
 * CW_FUZZ_LOG=1 prints the gateway's logs; CW_FUZZ_DUMP=1 prints the stream
 * of each input; CW_FUZZ_STREAM=FILE saves a broken stream (its first line:
 * the offset of the error and what broke) for triage.
 */
#include "fuzz-common.h"

#include <causeway/jid.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.h"
#include "gateway.h"
#include "irc/irc-events.h"
#include "irc/irc-line.h"
#include "irc/irc-session.h"
#include "router.h"
#include "stanza.h"

#define DOMAIN "irc.fuzz"
#define SECRET "s3cret"
#define SERVER "irc.test"
#define BARE "alice@example.org"
#define USER_R BARE "/r"
#define USER_R2 BARE "/r2"
#define NICK "alice"
#define ROOM_CHAN "#chan%" SERVER "@" DOMAIN
#define ROOM_OTHER "#other%" SERVER "@" DOMAIN
#define STREAM_HEADER                                                                            \
    "<stream:stream xmlns='jabber:component:accept' "                                            \
    "xmlns:stream='http://etherx.jabber.org/streams' from='" DOMAIN "' id='fuzz'>"
#define NS_COMPONENT "jabber:component:accept"
#define MAX_XMPP_LINES 32

extern const CwTransportOps cw_irc_transport;

static CwGateway *gw;
static char *data_dir;
static int listen_fd = -1, server_fd = -1;
static gboolean dump;

/* ---- a resolver that resolves nothing (no DNS from a fuzzer) ---- */

#define FUZZ_TYPE_RESOLVER (fuzz_resolver_get_type())
G_DECLARE_FINAL_TYPE(FuzzResolver, fuzz_resolver, FUZZ, RESOLVER, GResolver)
struct _FuzzResolver {
    GResolver parent;
};
G_DEFINE_TYPE(FuzzResolver, fuzz_resolver, G_TYPE_RESOLVER)

static GList *
fuzz_lookup_by_name(GResolver *r, const char *host, GCancellable *c, GError **error)
{
    g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "fuzzing: %s not resolved",
                host);
    return NULL;
}

static void
fuzz_lookup_by_name_async(GResolver *r, const char *host, GCancellable *c, GAsyncReadyCallback cb,
                          gpointer data)
{
    GTask *task = g_task_new(r, c, cb, data);
    g_task_return_new_error(task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                            "fuzzing: %s not resolved", host);
    g_object_unref(task);
}

static void
fuzz_lookup_by_name_with_flags_async(GResolver *r, const char *host, GResolverNameLookupFlags flags,
                                     GCancellable *c, GAsyncReadyCallback cb, gpointer data)
{
    fuzz_lookup_by_name_async(r, host, c, cb, data);
}

static GList *
fuzz_lookup_by_name_with_flags(GResolver *r, const char *host, GResolverNameLookupFlags flags,
                               GCancellable *c, GError **error)
{
    return fuzz_lookup_by_name(r, host, c, error);
}

static GList *
fuzz_lookup_finish(GResolver *r, GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}

static void
fuzz_resolver_class_init(FuzzResolverClass *klass)
{
    GResolverClass *rc = G_RESOLVER_CLASS(klass);
    rc->lookup_by_name = fuzz_lookup_by_name;
    rc->lookup_by_name_async = fuzz_lookup_by_name_async;
    rc->lookup_by_name_finish = fuzz_lookup_finish;
    rc->lookup_by_name_with_flags = fuzz_lookup_by_name_with_flags;
    rc->lookup_by_name_with_flags_async = fuzz_lookup_by_name_with_flags_async;
    rc->lookup_by_name_with_flags_finish = fuzz_lookup_finish;
}

static void
fuzz_resolver_init(FuzzResolver *r)
{
}

/* ---- the stream check: expat, one parser per input ---- */

typedef struct {
    XML_Parser parser;
    int depth;          /* 1 inside <stream:stream>, 2 inside a stanza */
    GString *seen;      /* every byte of this input's stream, header included */
    gsize stanza_start; /* offset in seen of the stanza being parsed */
} StreamCheck;

static StreamCheck check;

/* Print the stanza around offset (or the tail) and abort. */
G_GNUC_NORETURN static void
stream_broken(const char *what, gsize offset)
{
    gsize from = MIN(check.stanza_start, offset);
    if (offset > from + 2048)
        from = offset - 2048;
    gsize to = MIN(check.seen->len, offset + 256);
    fprintf(stderr, "fuzz-irc-path: the component stream is broken: %s\n", what);
    fprintf(stderr, "fuzz-irc-path: at byte %zu of the stream; the bytes from %zu to %zu:\n",
            offset, from, to);
    for (gsize i = from; i < to; i++) {
        guchar c = (guchar)check.seen->str[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02X", c);
    }
    fputc('\n', stderr);
    const char *save = getenv("CW_FUZZ_STREAM");
    if (save) {
        /* For triage scripts: the offset, a newline, then the stream. */
        g_autofree char *head = g_strdup_printf("%zu %s\n", offset, what);
        g_autoptr(GString) all = g_string_new(head);
        g_string_append_len(all, check.seen->str, check.seen->len);
        g_file_set_contents(save, all->str, all->len, NULL);
    }
    abort();
}

static gsize
current_offset(void)
{
    XML_Index i = XML_GetCurrentByteIndex(check.parser);
    return i < 0 ? check.seen->len : (gsize)i;
}

static const char *
attr(const XML_Char **atts, const char *name)
{
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static void
check_address(const char *name, const char *value, gboolean from)
{
    if (!value) {
        if (!from) {
            g_autofree char *what = g_strdup_printf("a stanza without '%s'", name);
            stream_broken(what, current_offset());
        }
        return; /* a missing 'from' is stamped by the server */
    }
    if (!cw_jid_is_valid(value)) {
        g_autofree char *what = g_strdup_printf("'%s' is not a valid JID", name);
        stream_broken(what, current_offset());
    }
    if (from) {
        g_autofree char *node = NULL, *domain = NULL, *resource = NULL;
        if (!cw_jid_split(value, &node, &domain, &resource) || g_ascii_strcasecmp(domain, DOMAIN))
            stream_broken("'from' is not on the component's domain", current_offset());
    }
}

static void XMLCALL
on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    check.depth++;
    if (check.depth == 1) /* our own header */
        return;
    if (check.depth != 2)
        return;
    check.stanza_start = current_offset();
    if (strcmp(name, NS_COMPONENT " message") != 0 && strcmp(name, NS_COMPONENT " presence") != 0 &&
        strcmp(name, NS_COMPONENT " iq") != 0) {
        g_autofree char *what = g_strdup_printf("a top-level element that is no stanza: %s", name);
        stream_broken(what, current_offset());
    }
    check_address("to", attr(atts, "to"), FALSE);
    check_address("from", attr(atts, "from"), TRUE);
}

static void XMLCALL
on_end(void *data, const XML_Char *name)
{
    check.depth--;
    if (check.depth <= 0)
        stream_broken("the gateway closed the stream", current_offset());
}

static void
check_begin(void)
{
    check.parser = XML_ParserCreateNS("UTF-8", ' ');
    XML_SetElementHandler(check.parser, on_start, on_end);
    check.depth = 0;
    check.stanza_start = 0;
    check.seen = g_string_new(NULL);
    static const char header[] = STREAM_HEADER;
    g_string_append_len(check.seen, header, sizeof header - 1);
    if (XML_Parse(check.parser, header, sizeof header - 1, 0) != XML_STATUS_OK)
        g_error("fuzz-irc-path: expat refuses the stream header");
}

static void
check_feed(const char *bytes, gsize len)
{
    g_string_append_len(check.seen, bytes, len);
    if (XML_Parse(check.parser, bytes, (int)len, 0) != XML_STATUS_OK) {
        g_autofree char *what = g_strdup_printf(
            "not well-formed XML: %s (expat)", XML_ErrorString(XML_GetErrorCode(check.parser)));
        stream_broken(what, current_offset());
    }
}

static void
check_end(void)
{
    if (check.depth != 1)
        stream_broken("a stanza is unfinished after everything was written", check.seen->len);
    if (dump)
        fprintf(stderr, "---- stream (%zu bytes)\n%s\n", check.seen->len, check.seen->str);
    XML_ParserFree(check.parser);
    check.parser = NULL;
    g_string_free(check.seen, TRUE);
    check.seen = NULL;
}

/* ---- the fake XMPP server ---- */

/* Read what the gateway wrote; TRUE if anything came. into: NULL to discard. */
static gboolean
server_read(GString *into)
{
    char buf[65536];
    gboolean any = FALSE;
    for (;;) {
        ssize_t n = recv(server_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            any = TRUE;
            if (into)
                g_string_append_len(into, buf, n);
            else if (check.parser)
                check_feed(buf, (gsize)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return any;
        if (n < 0 && errno == EINTR)
            continue;
        g_error("fuzz-irc-path: the gateway closed its component connection");
    }
}

static void
server_write(const char *text)
{
    gsize len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = send(server_fd, text + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            g_error("fuzz-irc-path: write to the gateway: %s", g_strerror(errno));
        done += (gsize)n;
    }
}

/* Run the main loop until cond(arg) or 5 s passed. */
static gboolean
iterate_until(gboolean (*cond)(gpointer), gpointer arg)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!cond(arg)) {
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    return TRUE;
}

static gboolean
accepted(gpointer arg)
{
    if (server_fd < 0)
        server_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    return server_fd >= 0;
}

typedef struct {
    GString *in;
    const char *needle;
} Wait;

static gboolean
has_needle(gpointer arg)
{
    Wait *w = arg;
    server_read(w->in);
    return strstr(w->in->str, w->needle) != NULL;
}

static gboolean
connected(gpointer arg)
{
    server_read(NULL);
    return cw_component_is_connected(gw->component);
}

static guint16
listen_loopback(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listen_fd, 1) != 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0)
        g_error("fuzz-irc-path: cannot listen on 127.0.0.1: %s", g_strerror(errno));
    return ntohs(sa.sin_port);
}

/* The XEP-0114 handshake, server side (the secret is not checked here:
 * test-router.c does that). */
static void
server_handshake(void)
{
    cw_component_start(gw->component);
    if (!iterate_until(accepted, NULL))
        g_error("fuzz-irc-path: the gateway did not connect");
    g_autoptr(GString) in = g_string_new(NULL);
    Wait header = { in, "<stream:stream" };
    if (!iterate_until(has_needle, &header))
        g_error("fuzz-irc-path: no stream header from the gateway: %s", in->str);
    server_write("<?xml version='1.0'?>" STREAM_HEADER);
    Wait hs = { in, "</handshake>" };
    if (!iterate_until(has_needle, &hs))
        g_error("fuzz-irc-path: no handshake from the gateway: %s", in->str);
    server_write("<handshake/>");
    if (!iterate_until(connected, NULL))
        g_error("fuzz-irc-path: the gateway did not take the handshake");
}

/* Run the main loop until the gateway has written everything and the server
 * has read it (into the stream check). */
static void
drain(void)
{
    int quiet = 0;
    for (int rounds = 0; quiet < 2; rounds++) {
        if (rounds > 100000) {
            fprintf(stderr, "fuzz-irc-path: the main loop never goes idle\n");
            abort();
        }
        gboolean progress = FALSE;
        for (int i = 0; i < 1000 && g_main_context_iteration(NULL, FALSE); i++)
            progress = TRUE;
        if (server_read(NULL))
            progress = TRUE;
        if (!progress && cw_component_backlog(gw->component) == 0) {
            quiet++;
            if (quiet == 1) {
                /* The last bytes may be on their way through the kernel. */
                struct pollfd p = { .fd = server_fd, .events = POLLIN };
                poll(&p, 1, 0);
            }
        } else {
            quiet = 0;
        }
    }
}

/* ---- the gateway ---- */

static void
remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static void
teardown(void)
{
    g_clear_pointer(&gw, cw_gateway_free);
    if (data_dir)
        remove_tree(data_dir);
    g_clear_pointer(&data_dir, g_free);
    if (server_fd >= 0)
        close(server_fd);
    if (listen_fd >= 0)
        close(listen_fd);
    server_fd = listen_fd = -1;
}

static void
setup(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmpl = g_strdup("/dev/shm/cw-fuzz-irc-path-XXXXXX");
    data_dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && g_mkdtemp(tmpl)
                   ? g_steal_pointer(&tmpl)
                   : g_dir_make_tmp("cw-fuzz-irc-path-XXXXXX", &error);
    if (!data_dir)
        g_error("fuzz-irc-path: no data dir: %s", error->message);
    guint16 port = listen_loopback();

    g_autofree char *path = g_build_filename(data_dir, "causeway.ini", NULL);
    g_autofree char *ini = g_strdup_printf("[xmpp]\n"
                                           "host = 127.0.0.1\n"
                                           "port = %u\n"
                                           "[gateway]\n"
                                           "data_dir = %s\n"
                                           "allowed_domains = example.org\n"
                                           "[transport:irc]\n"
                                           "type = irc\n"
                                           "domain = " DOMAIN "\n"
                                           "secret = " SECRET "\n"
                                           "irc_servers = *\n",
                                           port, data_dir);
    if (!g_file_set_contents(path, ini, -1, &error))
        g_error("fuzz-irc-path: %s", error->message);
    CwConfig *config = cw_config_load(path, &error);
    if (!config)
        g_error("fuzz-irc-path: %s", error->message);
    gw = cw_gateway_new(config, "irc", &error);
    if (!gw)
        g_error("fuzz-irc-path: %s", error->message);
    CW_FUZZ_CHECK(gw->ops == &cw_irc_transport);
    server_handshake();
    drain();
    atexit(teardown);
}

/* Forget everything the input did: drop every user (which ends their IRC
 * sessions), unregister any that registered. */
static void
reset_state(void)
{
    GList *jids = g_hash_table_get_keys(gw->users);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    for (GList *l = jids; l; l = l->next)
        g_ptr_array_add(keys, g_strdup(l->data));
    g_list_free(jids);
    for (guint i = 0; i < keys->len; i++) {
        CwUser *user = g_hash_table_lookup(gw->users, keys->pdata[i]);
        if (user && user->registered)
            cw_account_unregister(user, NULL);
    }
    g_hash_table_remove_all(gw->users);
    g_autoptr(GPtrArray) stored = cw_store_user_list(gw->store, NULL);
    for (guint i = 0; stored && i < stored->len; i++)
        cw_store_user_remove(gw->store, stored->pdata[i], NULL);
    if (gw->adhoc_sessions)
        g_hash_table_remove_all(gw->adhoc_sessions);
}

/* ---- the XMPP side ---- */

static void
dispatch_xml(const char *xml, const char *default_from, const char *default_to)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(cw_gateway_ctx(gw), xml);
    if (!s)
        return;
    const char *name = xmpp_stanza_get_name(s);
    if (name && (!strcmp(name, "message") || !strcmp(name, "presence"))) {
        if (!xmpp_stanza_get_from(s))
            xmpp_stanza_set_from(s, default_from);
        if (!xmpp_stanza_get_to(s))
            xmpp_stanza_set_to(s, default_to);
        cw_router_dispatch(gw, s);
    }
    xmpp_stanza_release(s);
}

static void
join(const char *from, const char *room)
{
    g_autofree char *xml =
        g_strdup_printf("<presence from='%s' to='%s/" NICK "'>"
                        "<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x>"
                        "</presence>",
                        from, room);
    dispatch_xml(xml, from, room);
}

/* ---- the IRC side ---- */

static CwIrcSession *
session(void)
{
    CwUser *user = cw_gateway_lookup_user(gw, BARE);
    return user ? cw_irc_session_lookup(user, SERVER) : NULL;
}

/* What irc-session.c's on_line() does with a line from the connection
 * (after irc-conn.c answered PINGs), with the lines to send dropped: the
 * connection is not up. The cap machine's failure path is the same as
 * there (a copy: that function is static). */
static void
handle_line(CwIrcSession *s, const CwIrcLine *line, GPtrArray *sent)
{
    if (strcmp(line->command, "PING") == 0)
        return;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    gboolean consumed = cw_irc_cap_feed(s->cap, line, out);
    if (sent)
        g_ptr_array_extend_and_steal(sent, g_steal_pointer(&out));
    if (cw_irc_cap_state(s->cap) == CW_IRC_CAP_STATE_FAILED) {
        g_autofree char *text = g_strdup_printf("Cannot log in to %s: %s", s->server,
                                                cw_irc_cap_fail_reason(s->cap));
        g_autofree char *id = cw_irc_session_user_id(s, NULL);
        CwMessage msg = { .body = text };
        cw_legacy_message(s->user, id, &msg);
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, s->channels);
        while (g_hash_table_iter_next(&it, NULL, &value))
            cw_legacy_room_join_failed(s->user, ((CwIrcChannel *)value)->room_id,
                                       "not-authorized", text);
        g_hash_table_remove_all(s->channels);
        cw_irc_session_quit(s, NULL);
        return;
    }
    if (!consumed)
        cw_irc_events_handle_line(s, line);
}

/* One raw line from the server; FALSE once there is no session to feed. */
static gboolean
feed(const char *raw, GPtrArray *sent)
{
    CwIrcSession *s = session();
    if (!s || !s->cap)
        return FALSE;
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(raw);
    if (line)
        handle_line(s, line, sent);
    return TRUE;
}

static gboolean
register_session(void)
{
    CwIrcSession *s = session();
    if (!s || !s->cap || cw_irc_cap_state(s->cap) != CW_IRC_CAP_STATE_NEW)
        return FALSE;
    /* What on_connected() does once TCP is up. */
    g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(s->cap, sent);
    g_ptr_array_set_size(sent, 0);
    feed(":" SERVER " CAP * LS :multi-prefix message-tags server-time away-notify account-notify "
         "extended-join account-tag userhost-in-names cap-notify echo-message sasl",
         sent);
    for (guint i = 0; i < sent->len; i++) {
        const char *req = sent->pdata[i];
        if (!g_str_has_prefix(req, "CAP REQ "))
            continue;
        const char *caps = req + strlen("CAP REQ ");
        g_autofree char *ack = g_strdup_printf(":" SERVER " CAP " NICK " ACK %s", caps);
        feed(ack, NULL);
    }
    static const char *const lines[] = {
        ":" SERVER " 001 " NICK " :Welcome to the Fuzz IRC network " NICK,
        ":" SERVER " 005 " NICK " PREFIX=(qaohv)~&@%+ CHANTYPES=#& MONITOR=100 NETWORK=Fuzz "
        ":are supported by this server",
        ":" SERVER " 375 " NICK " :- " SERVER " Message of the day -",
        ":" SERVER " 372 " NICK " :- Be nice",
        ":" SERVER " 376 " NICK " :End of /MOTD command.",
        ":" NICK "!u@gw.example JOIN #chan",
        ":" SERVER " 332 " NICK " #chan :Welcome to #chan",
        ":" SERVER " 353 " NICK " = #chan :" NICK " ~owner @op %half +voice bob",
        ":" SERVER " 366 " NICK " #chan :End of /NAMES list.",
        ":" NICK "!u@gw.example JOIN #other",
        ":" SERVER " 353 " NICK " = #other :@" NICK " carol",
        ":" SERVER " 366 " NICK " #other :End of /NAMES list.",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
        if (!feed(lines[i], NULL))
            return FALSE;
    s = session();
    return s && s->registered;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    dump = getenv("CW_FUZZ_DUMP") != NULL;
    /* Before GIO picks its defaults: no proxy look-ups, no DNS. */
    g_setenv("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
    g_autoptr(GResolver) resolver = g_object_new(FUZZ_TYPE_RESOLVER, NULL);
    g_resolver_set_default(resolver);
    setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_begin();

    dispatch_xml("<presence/>", USER_R, DOMAIN);
    join(USER_R, ROOM_CHAN);
    join(USER_R, ROOM_OTHER);
    join(USER_R2, ROOM_CHAN);
    CW_FUZZ_CHECK(register_session());

    g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
    cw_irc_line_buffer_push(buf, data, size);
    cw_irc_line_buffer_push(buf, "\n", 1); /* the last line ends too */
    char *raw;
    guint xmpp_lines = 0;
    while ((raw = cw_irc_line_buffer_next(buf, NULL))) {
        if (raw[0] == '<') {
            if (xmpp_lines++ < MAX_XMPP_LINES)
                dispatch_xml(raw, USER_R, ROOM_CHAN);
        } else if (!feed(raw, NULL)) {
            g_free(raw);
            break;
        }
        g_free(raw);
    }

    reset_state();
    drain();
    check_end();
    return 0;
}
