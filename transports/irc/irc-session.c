/* irc-session.c — a user's connection to one IRC server: open, register, reconnect, close. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-session.h"

#include <causeway/metrics.h>

#include <causeway/strpool.h>

#include <causeway/backoff.h>

#include <string.h>

#include "irc-address.h"
#include "irc-cert.h"
#include "irc-text.h"

#define RECONNECT_MIN_MS 1000

static void session_connect(CwIrcSession *s);

/* Caps we ask for. With echo-message the user's groupchat messages are
 * reflected once the server has accepted them; without, at once. */
static const char *const wanted_caps[] = {
    "multi-prefix", "message-tags", "server-time", "away-notify", "account-notify",
    "extended-join", "account-tag", "userhost-in-names", "cap-notify", "echo-message", NULL,
};

void
cw_irc_echo_free(gpointer p)
{
    CwIrcEcho *e = p;
    g_free(e->id);
    g_free(e->body);
    g_free(e);
}

static void
channel_free(gpointer p)
{
    CwIrcChannel *c = p;
    g_free(c->name);
    g_free(c->room_id);
    if (c->key)
        memset(c->key, 0, strlen(c->key));
    g_free(c->key);
    cw_irc_chanstate_detach(c->state, c, c->room_id);
    g_clear_pointer(&c->names_pending, g_hash_table_unref);
    g_queue_clear_full(&c->echoes, cw_irc_echo_free);
    g_free(c);
}

static void
pending_line_free(gpointer p)
{
    CwIrcPendingLine *pl = p;
    g_free(pl->line);
    cw_irc_origin_unref(pl->origin);
    g_free(pl);
}

void
cw_irc_session_fail_origin(CwIrcSession *s, CwIrcOrigin *origin, const char *text)
{
    if (!origin || origin->answered)
        return;
    origin->answered = TRUE;
    cw_legacy_error(s->user, origin->legacy_id, origin->msg_id, "recipient-unavailable", text);
}

/* Answer every message among the lines waiting for 001, and drop them. */
static void
fail_pending(CwIrcSession *s, const char *text)
{
    g_autoptr(GPtrArray) lines = g_steal_pointer(&s->pending);
    s->pending = g_ptr_array_new_with_free_func(pending_line_free);
    for (guint i = 0; i < lines->len; i++)
        cw_irc_session_fail_origin(s, ((CwIrcPendingLine *)lines->pdata[i])->origin, text);
}

static void
fail_listings(CwIrcSession *s, const char *text)
{
    CwRoomList *list;
    while ((list = g_queue_pop_head(&s->listings)))
        cw_room_list_done(list, "remote-server-timeout", text);
}

static void
session_free(gpointer p)
{
    CwIrcSession *s = p;
    if (s->transport->sessions)
        g_hash_table_remove(s->transport->sessions, s);
    cw_irc_policy_count_connection(s->transport->policy, s->server, FALSE);
    fail_listings(s, "The connection to the IRC server closed.");
    g_clear_handle_id(&s->reconnect_id, g_source_remove);
    g_clear_handle_id(&s->ison_id, g_source_remove);
    g_clear_handle_id(&s->forget_id, g_source_remove);
    g_clear_handle_id(&s->register_id, g_source_remove);
    g_hash_table_unref(s->monitored);
    g_hash_table_unref(s->online);
    g_clear_pointer(&s->conn, cw_irc_conn_free);
    g_clear_pointer(&s->cap, cw_irc_cap_free);
    g_hash_table_unref(s->channels);
    g_hash_table_unref(s->queries);
    g_hash_table_unref(s->private_rooms);
    g_hash_table_unref(s->last_ids);
    g_ptr_array_unref(s->pending);
    g_free(s->server);
    g_free(s->nick);
    g_free(s->charset);
    g_free(s->prefix_modes);
    g_free(s->prefix_chars);
    g_free(s->setup_error);
    if (s->motd)
        g_string_free(s->motd, TRUE);
    g_free(s);
}

static void
irc_user_free(gpointer p)
{
    CwIrcUser *u = p;
    g_hash_table_unref(u->sessions);
    g_free(u);
}

CwIrcUser *
cw_irc_user_get(CwUser *user)
{
    CwIrcUser *u = cw_user_get_data(user);
    if (!u) {
        u = g_new0(CwIrcUser, 1);
        u->user = user;
        u->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
        cw_user_set_data(user, u, irc_user_free);
    }
    return u;
}

CwIrcSession *
cw_irc_session_lookup(CwUser *user, const char *server)
{
    CwIrcUser *u = cw_user_get_data(user);
    return u ? g_hash_table_lookup(u->sessions, server) : NULL;
}

char *
cw_irc_session_user_id(CwIrcSession *s, const char *nick)
{
    return cw_irc_address_format(nick, s->server);
}

char *
cw_irc_session_text(CwIrcSession *s, const char *raw)
{
    g_autofree char *utf8 = cw_irc_text_to_utf8(raw, -1, s->charset ? s->charset : s->transport->charset);
    return cw_irc_text_strip_format(utf8, CW_IRC_STYLE_XEP0393);
}

static void
server_notice(CwIrcSession *s, const char *text)
{
    g_autofree char *id = cw_irc_session_user_id(s, NULL);
    CwMessage msg = { .body = text };
    cw_legacy_message(s->user, id, &msg);
}

/* ---- channels ---- */

CwIrcChannel *
cw_irc_session_channel(CwIrcSession *s, const char *name)
{
    g_autofree char *key = cw_irc_casefold(name);
    return g_hash_table_lookup(s->channels, key);
}

/* c took the lead of its channel from another connection: a fresh NAMES
 * (on_end_of_names) corrects whatever the two streams differed by. */
static void
resync_channel(gpointer member)
{
    CwIrcChannel *c = member;
    CwIrcSession *s = c->session;
    if (!s->registered || !c->joined)
        return;
    g_autofree char *line = cw_irc_line_build("NAMES", c->name, NULL);
    if (line && cw_irc_session_send(s, line)) {
        g_clear_pointer(&c->names_pending, g_hash_table_unref);
        c->names_pending = cw_irc_member_table_new();
        c->names_capped = FALSE;
        c->names_partial = FALSE;
    }
}

CwIrcChannel *
cw_irc_session_add_channel(CwIrcSession *s, const char *name, const char *room_id, const char *key)
{
    CwIrcChannel *c = cw_irc_session_channel(s, name);
    if (c)
        return c;
    c = g_new0(CwIrcChannel, 1);
    c->session = s;
    c->name = g_strdup(name);
    c->room_id = g_strdup(room_id);
    c->key = key && *key ? g_strdup(key) : NULL;
    c->state = cw_irc_chanstate_attach(s->server, name, room_id, c, resync_channel);
    g_hash_table_insert(s->channels, cw_irc_casefold(name), c);
    return c;
}

void
cw_irc_session_remove_channel(CwIrcSession *s, const char *name)
{
    g_autofree char *key = cw_irc_casefold(name);
    g_hash_table_remove(s->channels, key);
}

static void
send_join(CwIrcSession *s, CwIrcChannel *c)
{
    g_autofree char *line = c->key ? cw_irc_line_build("JOIN", c->name, c->key, NULL)
                                   : cw_irc_line_build("JOIN", c->name, NULL);
    if (line)
        cw_irc_conn_send_now(s->conn, line);
}

/* ---- sending ---- */

/* Lines waiting for 001 are capped like a connection's queue: a server
 * that never completes registration must not make us hold unbounded text. */
#define PENDING_MAX_LINES 1024

gboolean
cw_irc_session_send_from(CwIrcSession *s, const char *line, CwIrcOrigin *origin)
{
    if (!line || strpbrk(line, "\r\n"))
        return FALSE;
    if (!s->conn || !s->registered) {
        if (!s->reconnect_id && !s->forget_id && (!s->quitting || s->revive) && s->conn &&
            s->pending->len < PENDING_MAX_LINES) {
            CwIrcPendingLine *pl = g_new0(CwIrcPendingLine, 1);
            pl->line = g_strdup(line);
            pl->origin = cw_irc_origin_ref(origin);
            g_ptr_array_add(s->pending, pl);
            return TRUE;
        }
        return FALSE;
    }
    return cw_irc_conn_send_from(s->conn, line, origin);
}

gboolean
cw_irc_session_send(CwIrcSession *s, const char *line)
{
    return cw_irc_session_send_from(s, line, NULL);
}

void
cw_irc_session_on_registered(CwIrcSession *s)
{
    s->registered = TRUE;
    s->ever_registered = TRUE;
    g_clear_handle_id(&s->register_id, g_source_remove);
    s->attempt = 0;
    g_free(s->nick);
    s->nick = g_strdup(cw_irc_cap_nick(s->cap));
    CwUser *user = s->user;
    g_autofree char *scope = g_strdup_printf("server:%s", s->server);
    g_autofree char *nickserv = cw_user_get_value(user, scope, "nickserv_password");
    if (nickserv && *nickserv) {
        g_autofree char *text = g_strdup_printf("IDENTIFY %s", nickserv);
        g_autofree char *line = cw_irc_line_build("PRIVMSG", "NickServ", text, NULL);
        if (line)
            cw_irc_conn_send_now(s->conn, line);
        memset(nickserv, 0, strlen(nickserv));
    }
    g_autofree char *after = cw_user_get_value(user, scope, "after_connect");
    if (after) {
        g_auto(GStrv) commands = g_strsplit(after, "\n", -1);
        for (char **c = commands; *c; c++) {
            char *cmd = g_strstrip(*c);
            if (*cmd)
                cw_irc_conn_send(s->conn, cmd[0] == '/' ? cmd + 1 : cmd);
        }
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value))
        send_join(s, value);
    g_autoptr(GPtrArray) pending = g_steal_pointer(&s->pending);
    s->pending = g_ptr_array_new_with_free_func(pending_line_free);
    g_autofree char *refused = g_strdup_printf(
        "Not sent: too much is already waiting to go to %s (flood control).", s->server);
    for (guint i = 0; i < pending->len; i++) {
        CwIrcPendingLine *pl = pending->pdata[i];
        if (!cw_irc_conn_send_from(s->conn, pl->line, pl->origin))
            cw_irc_session_fail_origin(s, pl->origin, refused);
    }
    if (cw_user_show(user) >= CW_SHOW_AWAY) {
        g_autofree char *away = cw_irc_line_build("AWAY", "Away", NULL);
        cw_irc_conn_send(s->conn, away);
    }
}

/* ---- connection events ---- */

/* No 001 in time. First half: cut CAP negotiation short (a server that
 * never finishes CAP or SASL); second half: give this connection up. */
static gboolean
on_register_timeout(gpointer data)
{
    CwIrcSession *s = data;
    s->register_id = 0;
    if (s->registered || !s->conn)
        return G_SOURCE_REMOVE;
    if (cw_irc_cap_state(s->cap) == CW_IRC_CAP_STATE_NEGOTIATING) {
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        cw_irc_cap_timeout(s->cap, out);
        for (guint i = 0; i < out->len; i++)
            cw_irc_conn_send_now(s->conn, out->pdata[i]);
        if (cw_irc_cap_state(s->cap) != CW_IRC_CAP_STATE_FAILED) {
            s->register_id = g_timeout_add(MAX(1, s->transport->register_timeout_ms / 2),
                                           on_register_timeout, s);
            return G_SOURCE_REMOVE;
        }
    }
    s->register_timed_out = TRUE;
    cw_irc_conn_close(s->conn, NULL); /* on_closed retries (or gives up) */
    return G_SOURCE_REMOVE;
}

/* Every channel of s that waits for its join gets the join error, and s
 * forgets them (the session cannot serve them). */
static void
fail_channel_joins(CwIrcSession *s, const char *condition, const char *text)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value))
        cw_legacy_room_join_failed(s->user, ((CwIrcChannel *)value)->room_id, condition, text);
    g_hash_table_remove_all(s->channels);
}

static void
on_connected(CwIrcConn *conn, gpointer data)
{
    CwIrcSession *s = data;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(s->cap, out);
    for (guint i = 0; i < out->len; i++)
        cw_irc_conn_send_now(conn, out->pdata[i]);
    g_clear_handle_id(&s->register_id, g_source_remove);
    s->register_timed_out = FALSE;
    s->register_id =
        g_timeout_add(MAX(1, s->transport->register_timeout_ms / 2), on_register_timeout, s);
}

static void
on_line(CwIrcConn *conn, const CwIrcLine *line, gpointer data)
{
    CwIrcSession *s = data;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    gboolean consumed = cw_irc_cap_feed(s->cap, line, out);
    for (guint i = 0; i < out->len; i++)
        cw_irc_conn_send_now(conn, out->pdata[i]);
    if (cw_irc_cap_state(s->cap) == CW_IRC_CAP_STATE_FAILED) {
        g_autofree char *text = g_strdup_printf("Cannot log in to %s: %s", s->server,
                                                cw_irc_cap_fail_reason(s->cap));
        server_notice(s, text);
        fail_channel_joins(s, "not-authorized", text);
        cw_irc_session_quit(s, NULL);
        return;
    }
    if (!consumed)
        s->transport->handle_line(s, line);
}

static gboolean
on_reconnect(gpointer data)
{
    CwIrcSession *s = data;
    s->reconnect_id = 0;
    session_connect(s);
    return G_SOURCE_REMOVE;
}

static gboolean
session_needed(CwIrcSession *s)
{
    return g_hash_table_size(s->channels) > 0 || g_hash_table_size(s->queries) > 0 ||
           !g_queue_is_empty(&s->listings) || g_hash_table_size(s->monitored) > 0 ||
           s->transport->persistent;
}

/* Free s (and its user's IRC state when it was the last session). Every
 * message still waiting is answered first. */
static void
forget_session(CwIrcSession *s)
{
    CwIrcUser *u = s->owner;
    g_autofree char *text =
        g_strdup_printf("Not sent: the connection to %s was closed.", s->server);
    fail_pending(s, text);
    g_hash_table_remove(u->sessions, s->server); /* frees s */
    if (g_hash_table_size(u->sessions) == 0)
        cw_user_set_data(u->user, NULL, NULL); /* frees u: nothing left of this user here */
}

/* Forget a session whose setup failed. Rooms joined after the failure (the
 * join that created the session adds its room after cw_irc_session_get()
 * returns) get the setup error as their answer. */
static void
forget_failed_setup(CwIrcSession *s)
{
    g_clear_handle_id(&s->forget_id, g_source_remove);
    fail_channel_joins(s, "not-acceptable", s->setup_error ? s->setup_error : "Cannot connect.");
    forget_session(s);
}

static gboolean
on_forget(gpointer data)
{
    CwIrcSession *s = data;
    s->forget_id = 0;
    forget_failed_setup(s);
    return G_SOURCE_REMOVE;
}

/* Tell the user once that the server is given up, then forget the session. */
static void
give_up(CwIrcSession *s, const char *text)
{
    g_autofree char *escaped = cw_irc_log_escape(text);
    CW_LOG_USER(G_LOG_LEVEL_MESSAGE, cw_user_jid(s->user), "%s: %s", cw_user_jid(s->user), escaped);
    server_notice(s, text);
    fail_channel_joins(s, "remote-server-not-found", text);
    forget_session(s);
}

static void
on_closed(CwIrcConn *conn, const GError *error, GPtrArray *unsent, gpointer data)
{
    CwIrcSession *s = data;
    gboolean was_registered = s->registered;
    s->registered = FALSE;
    g_clear_handle_id(&s->register_id, g_source_remove);
    g_autofree char *timed_out =
        s->register_timed_out ? g_strdup_printf("no welcome (001) within %u s",
                                                (s->transport->register_timeout_ms + 999) / 1000)
                              : NULL;
    s->register_timed_out = FALSE;
    const char *why = error ? error->message : timed_out ? timed_out : "closed";
    g_autofree char *unsent_text = g_strdup_printf(
        "Not sent: the connection to %s closed before the message could go out (%s).", s->server,
        why);
    for (guint i = 0; i < unsent->len; i++)
        cw_irc_session_fail_origin(s, unsent->pdata[i], unsent_text);
    gboolean reviving = s->revive && session_needed(s);
    if (!reviving) {
        /* else they wait for the new connection's 001 */
        fail_pending(s, unsent_text);
        fail_listings(s, "The connection to the IRC server closed.");
    }
    g_clear_handle_id(&s->ison_id, g_source_remove);
    s->has_monitor = FALSE;
    GList *was_online = g_hash_table_get_values(s->online);
    for (GList *l = was_online; l; l = l->next)
        cw_irc_session_set_online(s, l->data, FALSE);
    g_list_free(was_online);
    if (reviving) {
        s->revive = FALSE;
        s->quitting = FALSE;
        s->attempt = 0;
        session_connect(s);
        return;
    }
    if (error && error->domain == CW_IRC_POLICY_ERROR) {
        /* The admin's policy refused the server's addresses: retrying cannot help. */
        server_notice(s, error->message);
        fail_channel_joins(s, cw_irc_policy_condition(error), error->message);
        s->quitting = TRUE;
    }
    if (s->quitting || !session_needed(s)) {
        forget_session(s);
        return;
    }
    if (!s->ever_registered && s->attempt + 1 >= CW_IRC_SESSION_MAX_FAILED_CONNECTS) {
        g_autofree char *text = g_strdup_printf(
            "Cannot connect to %s: %s. Gave up after %u attempts; join again to retry.", s->server,
            why, s->attempt + 1);
        give_up(s, text);
        return;
    }
    guint max_ms = s->transport->reconnect_max_ms;
    guint delay = cw_backoff_delay_ms(MIN(RECONNECT_MIN_MS, max_ms), max_ms, s->attempt);
    s->attempt++;
    g_autofree char *text =
        g_strdup_printf("%s %s: %s. Reconnecting in %u s.",
                        was_registered ? "Lost the connection to" : "Cannot connect to", s->server,
                        why, (delay + 999) / 1000);
    g_autofree char *escaped = cw_irc_log_escape(text);
    CW_LOG_USER(G_LOG_LEVEL_MESSAGE, cw_user_jid(s->user), "%s: %s", cw_user_jid(s->user), escaped);
    server_notice(s, text);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwIrcChannel *c = value;
        c->joined = FALSE;
        cw_irc_chanstate_set_ready(c->state, c, FALSE); /* another connection leads */
        g_queue_clear_full(&c->echoes, cw_irc_echo_free); /* reported as unsent above */
    }
    cw_metrics_count("causeway_legacy_reconnects_total",
                     "Legacy connections lost or failed and scheduled to reconnect", NULL, NULL, 1);
    s->reconnect_id = g_timeout_add(delay, on_reconnect, s);
}

static const CwIrcConnEvents conn_events = {
    .connected = on_connected,
    .line = on_line,
    .closed = on_closed,
};

static gboolean
setting_bool(const char *value, gboolean fallback)
{
    if (!value || !*value)
        return fallback;
    return strcmp(value, "1") == 0 || g_ascii_strcasecmp(value, "true") == 0;
}

/* The user's client certificate for this server, from their own rows (or
 * NULL). A "client_cert" value is a file name stored before issue 14: it
 * is never opened (it could name another user's file); the user is told
 * once, and it is deleted. */
static GTlsCertificate *
session_client_cert(CwIrcSession *s, const char *scope)
{
    g_autofree char *old_path = cw_user_get_value(s->user, scope, "client_cert");
    if (old_path && *old_path) {
        server_notice(s, "Your client certificate setting named a file on the gateway host; "
                         "files are no longer used. Paste the certificate and key (PEM) into "
                         "'Configure server', or type 'generate' there.");
        cw_user_set_value(s->user, scope, "client_cert", NULL, FALSE);
    }
    char *pem = cw_user_get_value(s->user, scope, "client_cert_pem");
    if (!pem || !*pem) {
        g_free(pem);
        return NULL;
    }
    g_autoptr(GError) error = NULL;
    GTlsCertificate *cert = cw_irc_cert_load(pem, &error);
    cw_irc_cert_free_pem(pem);
    if (!cert) {
        g_autofree char *text = g_strdup_printf("Your client certificate for %s is not used: %s",
                                                s->server, error->message);
        server_notice(s, text);
    }
    return cert;
}

static void
session_connect(CwIrcSession *s)
{
    CwUser *user = s->user;
    CwIrcTransport *t = s->transport;
    g_autofree char *scope = g_strdup_printf("server:%s", s->server);
    g_autofree char *port_s = cw_user_get_value(user, scope, "port");
    g_autofree char *tls_s = cw_user_get_value(user, scope, "tls");
    g_autofree char *verify_s = cw_user_get_value(user, scope, "tls_verify");
    g_autofree char *fingerprint = cw_user_get_value(user, scope, "tls_fingerprint");
    g_autofree char *sasl = cw_user_get_value(user, scope, "sasl");
    g_autofree char *account = cw_user_get_value(user, scope, "sasl_account");
    g_autofree char *password = cw_user_get_value(user, scope, "sasl_password");
    g_autofree char *server_password = cw_user_get_value(user, scope, "server_password");
    g_autoptr(GTlsCertificate) cert = session_client_cert(s, scope);
    g_autofree char *charset = cw_user_get_value(user, scope, "charset");
    g_free(s->charset);
    s->charset = charset && *charset ? g_steal_pointer(&charset) : NULL;
    g_autofree char *username = cw_user_get_value(user, "", "username");
    g_autofree char *realname = cw_user_get_value(user, "", "realname");
    guint64 user_port = 0;
    if (port_s && *port_s)
        g_ascii_string_to_unsigned(port_s, 10, 1, 65535, &user_port, NULL);
    /* The admin's irc_servers decides the port (and whether the addresses
     * must be public) on every (re)connect, whatever the user set since. */
    guint16 port = t->port;
    gboolean public_only = TRUE;
    g_autoptr(GError) refused = NULL;
    if (!cw_irc_policy_check_server(t->policy, s->server, (guint16)user_port, t->port, &port,
                                    &public_only, &refused)) {
        /* The user set another port than the admin pinned after the session
         * was opened (irc-transport.c checked it then): the admin's wins. */
        CW_LOG_USER(G_LOG_LEVEL_MESSAGE, cw_user_jid(user), "%s: %s", cw_user_jid(user), refused->message);
        if (!cw_irc_policy_check_server(t->policy, s->server, 0, t->port, &port, &public_only, NULL))
            public_only = TRUE;
    }

    CwIrcConnParams params = {
        .host = s->server,
        .port = port,
        .public_only = public_only,
        .tls = setting_bool(tls_s, t->tls),
        .tls_verify = setting_bool(verify_s, t->tls_verify),
        .tls_fingerprint = fingerprint,
        .client_cert = cert,
        .flood_burst = t->flood_burst,
        .flood_interval_ms = t->flood_interval_ms,
    };
    CwIrcSaslMech mech = CW_IRC_SASL_NONE;
    if (sasl && !g_ascii_strcasecmp(sasl, "plain"))
        mech = CW_IRC_SASL_PLAIN;
    else if (sasl && !g_ascii_strcasecmp(sasl, "external"))
        mech = CW_IRC_SASL_EXTERNAL;
    CwIrcCapConfig cc = {
        .nick = s->nick,
        .username = username && *username ? username : NULL,
        .realname = realname && *realname ? realname : t->realname,
        .server_password = server_password && *server_password ? server_password : NULL,
        .wanted_caps = wanted_caps,
        .sasl_mech = mech,
        .sasl_account = account && *account ? account : s->nick,
        .sasl_password = password,
    };
    g_autoptr(GError) error = NULL;
    g_clear_pointer(&s->cap, cw_irc_cap_free);
    s->cap = cw_irc_cap_new(&cc, &error);
    if (password)
        memset(password, 0, strlen(password));
    if (server_password)
        memset(server_password, 0, strlen(server_password));
    if (!s->cap) {
        g_autofree char *text = g_strdup_printf("Cannot connect to %s: %s", s->server, error->message);
        server_notice(s, text);
        fail_channel_joins(s, "not-acceptable", text);
        s->quitting = TRUE;
        g_free(s->setup_error);
        s->setup_error = g_steal_pointer(&text);
        /* Not now: our caller (a join, a message) still holds s. The id is
         * the session's, removed in its free (an unavailable presence in the
         * same batch may forget it first). */
        if (!s->forget_id)
            s->forget_id = g_idle_add(on_forget, s);
        return;
    }
    g_clear_pointer(&s->conn, cw_irc_conn_free);
    s->registered = FALSE;
    s->conn = cw_irc_conn_new(&params, &conn_events, s);
    g_debug("%s: connecting to %s:%u%s", cw_user_jid(user), s->server, params.port,
            params.tls ? " (TLS)" : "");
    cw_irc_conn_connect(s->conn);
}

CwIrcSession *
cw_irc_session_get(CwUser *user, const char *server, const char *nick)
{
    CwIrcUser *u = cw_irc_user_get(user);
    CwIrcSession *s = g_hash_table_lookup(u->sessions, server);
    if (s && s->forget_id) {
        /* Set up failed and is about to be forgotten: start over, so this
         * request gets its own answer instead of being dropped with it. */
        forget_failed_setup(s);
        u = cw_irc_user_get(user);
        s = NULL;
    }
    if (s && s->quitting && !s->revive && s->conn) {
        /* Its QUIT is on the way: what it had is being left. */
        g_hash_table_remove_all(s->channels);
        g_hash_table_remove_all(s->queries);
        g_hash_table_remove_all(s->private_rooms);
        s->revive = TRUE;
        s->registered = FALSE; /* what comes now waits for the next 001 */
    }
    if (s)
        return s;
    CwGateway *gw = cw_user_gateway(user);
    s = g_new0(CwIrcSession, 1);
    s->owner = u;
    s->user = user;
    s->transport = cw_gateway_get_data(gw);
    if (s->transport->sessions)
        g_hash_table_add(s->transport->sessions, s);
    s->server = g_strdup(server);
    g_autofree char *scope = g_strdup_printf("server:%s", server);
    g_autofree char *server_nick = cw_user_get_value(user, scope, "nick");
    g_autofree char *reg_nick = cw_user_get_value(user, "", "nick");
    if (server_nick && *server_nick)
        s->nick = g_steal_pointer(&server_nick);
    else if (reg_nick && *reg_nick)
        s->nick = g_steal_pointer(&reg_nick);
    else if (nick && *nick)
        s->nick = g_strdup(nick);
    else
        s->nick = g_strndup(cw_user_jid(user), strcspn(cw_user_jid(user), "@"));
    s->channels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, channel_free);
    s->queries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->private_rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->last_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->pending = g_ptr_array_new_with_free_func(pending_line_free);
    g_queue_init(&s->listings);
    s->monitored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->online = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->prefix_modes = g_strdup("ov");
    s->prefix_chars = g_strdup("@+");
    g_hash_table_insert(u->sessions, s->server, s);
    cw_irc_policy_count_connection(s->transport->policy, s->server, TRUE); /* max_connections_per_server */
    session_connect(s);
    return s;
}

void
cw_irc_session_quit(CwIrcSession *s, const char *message)
{
    s->quitting = TRUE;
    g_clear_handle_id(&s->reconnect_id, g_source_remove);
    if (s->conn && cw_irc_conn_is_connected(s->conn))
        cw_irc_conn_close(s->conn, message ? message : "Causeway");
    else
        forget_session(s);
}

void
cw_irc_session_release_if_idle(CwIrcSession *s)
{
    if (!session_needed(s))
        cw_irc_session_quit(s, "Leaving");
}

/* ---- contacts' presence: MONITOR, else ISON every minute ---- */

#define ISON_INTERVAL_S 60

void
cw_irc_session_set_online(CwIrcSession *s, const char *nick, gboolean online)
{
    g_autofree char *key = cw_irc_casefold(nick);
    const char *known = g_hash_table_lookup(s->monitored, key);
    if (!known || online == g_hash_table_contains(s->online, key))
        return;
    g_autofree char *id = cw_irc_session_user_id(s, known);
    if (online)
        g_hash_table_replace(s->online, g_strdup(key), g_strdup(known));
    else
        g_hash_table_remove(s->online, key);
    cw_legacy_contact_presence(s->user, id, online ? CW_SHOW_ONLINE : CW_SHOW_OFFLINE, NULL);
}

static void
send_ison(CwIrcSession *s)
{
    GString *line = g_string_new("ISON");
    GHashTableIter it;
    gpointer nick;
    g_hash_table_iter_init(&it, s->monitored);
    while (g_hash_table_iter_next(&it, NULL, &nick)) {
        if (line->len + strlen(nick) > 400) {
            cw_irc_session_send(s, line->str);
            g_string_assign(line, "ISON");
        }
        g_string_append_printf(line, " %s", (const char *)nick);
    }
    if (line->len > 4)
        cw_irc_session_send(s, line->str);
    g_string_free(line, TRUE);
}

static gboolean
on_ison_tick(gpointer data)
{
    send_ison(data);
    return G_SOURCE_CONTINUE;
}

static void
monitor_lines(CwIrcSession *s, char sign, GHashTable *nicks)
{
    GString *line = g_string_new(NULL);
    GHashTableIter it;
    gpointer nick;
    g_hash_table_iter_init(&it, nicks);
    while (g_hash_table_iter_next(&it, NULL, &nick)) {
        if (line->len && line->len + 1 + strlen(nick) > 400) {
            cw_irc_session_send(s, line->str);
            g_string_truncate(line, 0);
        }
        if (line->len)
            g_string_append_printf(line, ",%s", (const char *)nick);
        else
            g_string_printf(line, "MONITOR %c %s", sign, (const char *)nick);
    }
    if (line->len)
        cw_irc_session_send(s, line->str);
    g_string_free(line, TRUE);
}

void
cw_irc_session_start_monitor(CwIrcSession *s)
{
    if (!s->registered || g_hash_table_size(s->monitored) == 0)
        return;
    if (s->has_monitor) {
        monitor_lines(s, '+', s->monitored);
    } else if (!s->ison_id) {
        send_ison(s);
        s->ison_id = g_timeout_add_seconds(ISON_INTERVAL_S, on_ison_tick, s);
    }
}

void
cw_irc_session_monitor(CwIrcSession *s, const char *nick)
{
    g_autofree char *key = cw_irc_casefold(nick);
    if (g_hash_table_contains(s->monitored, key))
        return;
    g_hash_table_replace(s->monitored, g_strdup(key), g_strdup(nick));
    if (!s->registered)
        return;
    if (s->has_monitor) {
        g_autofree char *line = g_strdup_printf("MONITOR + %s", nick);
        cw_irc_session_send(s, line);
    } else {
        cw_irc_session_start_monitor(s);
        g_autofree char *line = g_strdup_printf("ISON %s", nick);
        cw_irc_session_send(s, line);
    }
}

void
cw_irc_session_unmonitor(CwIrcSession *s, const char *nick)
{
    g_autofree char *key = cw_irc_casefold(nick);
    if (!g_hash_table_remove(s->monitored, key))
        return;
    g_hash_table_remove(s->online, key);
    if (s->registered && s->has_monitor) {
        g_autofree char *line = g_strdup_printf("MONITOR - %s", nick);
        cw_irc_session_send(s, line);
    }
    if (g_hash_table_size(s->monitored) == 0)
        g_clear_handle_id(&s->ison_id, g_source_remove);
}

void
cw_irc_session_note_id(CwIrcSession *s, const char *target, const char *id)
{
    if (!id)
        return;
    if (g_hash_table_size(s->last_ids) > 256)
        g_hash_table_remove_all(s->last_ids); /* bounded: ids only serve recent errors */
    g_hash_table_replace(s->last_ids, cw_irc_casefold(target), g_strdup(id));
}

const char *
cw_irc_session_last_id(CwIrcSession *s, const char *target)
{
    g_autofree char *key = cw_irc_casefold(target);
    return g_hash_table_lookup(s->last_ids, key);
}
