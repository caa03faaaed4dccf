/* irc-transport.c — the IRC transport: channels as MUC rooms, IRC users as contacts (CwTransportOps). */
#define G_LOG_DOMAIN "causeway-irc"
#include <causeway/jid.h>
#include <causeway/keyfile.h>
#include <causeway/transport.h>
#include <string.h>

#include "irc-address.h"
#include "irc-cert.h"
#include "irc-events.h"
#include "irc-policy.h"
#include "irc-session.h"

#include <causeway/metrics.h>
#include "irc-text.h"

/* ---- configuration ---- */

static const char *const irc_config_keys[] = {
    "default_server", "irc_port", "tls", "tls_verify", "flood_burst", "flood_interval",
    "persistent", "realname", "charset", "history", "require_registration", "reconnect_max",
    "register_timeout", "irc_servers", "irc_allow_private", "max_servers_per_user",
    "max_connections_per_server", "max_queued_bytes", NULL,
};

/* Legacy connections by state and the bytes waiting in their send queues. */
static void
collect_metrics(gpointer data)
{
    CwIrcTransport *t = data;
    guint n[4] = { 0 };
    static const char *const states[] = { "connecting", "connected", "backoff", "failing" };
    guint64 queued = 0;
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, t->sessions);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        CwIrcSession *s = k;
        if (s->registered)
            n[1]++;
        else if (s->reconnect_id)
            n[s->attempt >= 3 ? 3 : 2]++;
        else
            n[0]++;
        if (s->conn)
            queued += cw_irc_conn_unsent_bytes(s->conn);
    }
    for (guint i = 0; i < G_N_ELEMENTS(states); i++)
        cw_metrics_gauge_set("causeway_legacy_connections",
                             "Legacy network connections, by state (backoff: waiting to reconnect; "
                             "failing: after 3 or more failed attempts)", "state", states[i], n[i]);
    cw_metrics_gauge_set("causeway_legacy_queue_bytes",
                         "Bytes waiting in the legacy connections' send queues", NULL, NULL,
                         (double)queued);
}

static void
irc_transport_free(CwIrcTransport *t)
{
    g_clear_pointer(&t->sessions, g_hash_table_unref);
    g_free(t->default_server);
    g_free(t->realname);
    g_free(t->charset);
    cw_irc_policy_free(t->policy);
    g_free(t);
}

/* irc_servers, irc_allow_private and the connection limits (irc-policy.h). */
static gboolean
configure_policy(CwIrcTransport *t, GKeyFile *kf, const char *file, const char *group,
                 GError **error)
{
    CwIrcPolicy *p = t->policy = cw_irc_policy_new();
    guint64 per_user, per_server, queued;
    if (!cw_keyfile_get_bool(kf, file, group, "irc_allow_private", FALSE, &p->allow_private, error) ||
        !cw_keyfile_get_uint(kf, file, group, "max_servers_per_user",
                             CW_IRC_DEFAULT_MAX_SERVERS_PER_USER, 1, 10000, &per_user, error) ||
        !cw_keyfile_get_uint(kf, file, group, "max_connections_per_server",
                             CW_IRC_DEFAULT_MAX_CONNECTIONS_PER_SERVER, 1, 1000000, &per_server, error) ||
        !cw_keyfile_get_uint(kf, file, group, "max_queued_bytes", CW_IRC_DEFAULT_MAX_QUEUED_BYTES,
                             4096, 64 * 1024 * 1024, &queued, error))
        return FALSE;
    p->max_queued_bytes = (guint)queued;
    p->max_servers_per_user = (guint)per_user;
    p->max_connections_per_server = (guint)per_server;
    g_autofree char *list = cw_keyfile_get_string(kf, group, "irc_servers", NULL);
    g_autoptr(GError) perr = NULL;
    if (!list && !t->default_server) {
        /* No silent default: an open gateway lets users make it connect
         * anywhere, so the admin says which networks it serves. */
        cw_keyfile_error(error, file, group, "irc_servers",
                         "missing; list the IRC servers users may connect to, e.g. `irc_servers = "
                         "irc.libera.chat:6697, irc.oftc.net` (host[:port]), or write `irc_servers = *` "
                         "for any public server, or set default_server to serve that one only");
        return FALSE;
    }
    if (!list) {
        if (!cw_irc_policy_set_servers(p, t->default_server, &perr)) {
            cw_keyfile_error(error, file, group, "default_server", "%s", perr->message);
            return FALSE;
        }
        return TRUE;
    }
    if (!cw_irc_policy_set_servers(p, list, &perr)) {
        cw_keyfile_error(error, file, group, "irc_servers", "%s", perr->message);
        return FALSE;
    }
    if (t->default_server && !p->open && !cw_irc_policy_lookup(p, t->default_server)) {
        cw_keyfile_error(error, file, group, "default_server",
                         "'%s' is not in irc_servers; add it there or change default_server",
                         t->default_server);
        return FALSE;
    }
    return TRUE;
}

static gboolean
irc_configure(CwGateway *gw, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    CwIrcTransport *t = g_new0(CwIrcTransport, 1);
    guint64 port, burst, history;
    guint interval_ms;
    gboolean required;
    if (!cw_keyfile_get_uint(kf, file, group, "irc_port", 6667, 1, 65535, &port, error) ||
        !cw_keyfile_get_uint(kf, file, group, "flood_burst", 10, 0, 10000, &burst, error) ||
        !cw_keyfile_get_seconds_ms(kf, file, group, "flood_interval", 0.5, 0, 60, &interval_ms, error) ||
        !cw_keyfile_get_uint(kf, file, group, "history", 20, 0, 10000, &history, error) ||
        !cw_keyfile_get_bool(kf, file, group, "tls", FALSE, &t->tls, error) ||
        !cw_keyfile_get_bool(kf, file, group, "tls_verify", TRUE, &t->tls_verify, error) ||
        !cw_keyfile_get_bool(kf, file, group, "persistent", FALSE, &t->persistent, error) ||
        !cw_keyfile_get_bool(kf, file, group, "require_registration", FALSE, &required, error) ||
        !cw_keyfile_get_seconds_ms(kf, file, group, "reconnect_max", 60, 0.01, 3600,
                                   &t->reconnect_max_ms, error) ||
        !cw_keyfile_get_seconds_ms(kf, file, group, "register_timeout", 60, 0.1, 3600,
                                   &t->register_timeout_ms, error)) {
        irc_transport_free(t);
        return FALSE;
    }
    t->port = (guint16)port;
    t->flood_burst = (guint)burst;
    t->flood_interval_ms = interval_ms;
    g_autofree char *server = cw_keyfile_get_string(kf, group, "default_server", NULL);
    t->default_server = server ? g_ascii_strdown(server, -1) : NULL;
    t->realname = cw_keyfile_get_string(kf, group, "realname", "Causeway XMPP gateway user");
    t->charset = cw_keyfile_get_string(kf, group, "charset", "ISO-8859-1");
    if (!configure_policy(t, kf, file, group, error)) {
        irc_transport_free(t);
        return FALSE;
    }
    t->sessions = g_hash_table_new(g_direct_hash, g_direct_equal);
    t->handle_line = cw_irc_events_handle_line;
    cw_gateway_set_data(gw, t);
    cw_metrics_add_collector(collect_metrics, t);
    cw_gateway_set_room_history(gw, (guint)history);
    cw_gateway_set_requires_registration(gw, required);
    return TRUE;
}

static void
irc_deinit(CwGateway *gw)
{
    CwIrcTransport *t = cw_gateway_get_data(gw);
    cw_metrics_remove_collector(collect_metrics, t);
    if (t)
        irc_transport_free(t);
    cw_gateway_set_data(gw, NULL);
}

static CwIrcAddress
parse(CwGateway *gw, const char *legacy_id)
{
    CwIrcTransport *t = cw_gateway_get_data(gw);
    return cw_irc_address_parse(legacy_id, t ? t->default_server : NULL);
}

/* ---- registration ---- */

static const CwFormField registration_fields[] = {
    { .var = "nick", .label = "Nickname", .type = CW_FIELD_TEXT_SINGLE, .legacy_name = "nick",
      .desc = "Your IRC nick on every server (a room nick is used when empty)" },
    { .var = "username", .label = "Username (ident)", .type = CW_FIELD_TEXT_SINGLE,
      .legacy_name = "username" },
    { .var = "realname", .label = "Real name", .type = CW_FIELD_TEXT_SINGLE, .legacy_name = "name" },
};
static const CwFormSpec registration_form = {
    .title = "IRC gateway",
    .instructions = "Defaults for your IRC identity. Per-server settings (port, TLS, SASL, "
                    "NickServ) are in the ad-hoc command 'Configure server' on server@gateway.",
    .fields = registration_fields,
    .n_fields = G_N_ELEMENTS(registration_fields),
};

static gboolean
irc_check_registration(CwGateway *gw, const char *user_jid, GHashTable *values, GError **error)
{
    for (const char *const *k = (const char *const[]){ "nick", "username", NULL }; *k; k++) {
        const char *v = g_hash_table_lookup(values, *k);
        if (v && (strpbrk(v, " :!@,\r\n") || *v == '#')) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "The %s may not hold spaces, ':', '!', '@', ',' or start with '#'.", *k);
            return FALSE;
        }
    }
    return TRUE;
}

/* Per-server settings, edited with the ad-hoc "Configure server" on server@domain. */
static const char *const sasl_options[] = { "none", "plain", "external", NULL };
static const CwFormField server_fields[] = {
    { .var = "port", .label = "Port", .type = CW_FIELD_TEXT_SINGLE },
    { .var = "tls", .label = "Use TLS", .type = CW_FIELD_BOOLEAN },
    { .var = "tls_verify", .label = "Verify the TLS certificate", .type = CW_FIELD_BOOLEAN },
    { .var = "tls_fingerprint", .label = "Accept only this certificate (SHA-256)",
      .type = CW_FIELD_TEXT_SINGLE },
    { .var = "nick", .label = "Nick on this server", .type = CW_FIELD_TEXT_SINGLE },
    { .var = "sasl", .label = "SASL", .type = CW_FIELD_LIST_SINGLE, .options = sasl_options,
      .default_value = "none" },
    { .var = "sasl_account", .label = "SASL account", .type = CW_FIELD_TEXT_SINGLE },
    { .var = "sasl_password", .label = "SASL password", .type = CW_FIELD_TEXT_PRIVATE },
    /* Never a file name (issue 14: one user could name another's file): the
     * PEM text itself, in the user's own row, encrypted, never shown back.
     * The old "client_cert" path key is ignored (irc-session.c says so). */
    { .var = "client_cert_pem", .label = "Client certificate (for SASL EXTERNAL / CertFP)",
      .type = CW_FIELD_TEXT_MULTI, .flags = CW_FIELD_WRITE_ONLY,
      .max_bytes = CW_IRC_CERT_MAX_BYTES, .check = cw_irc_cert_check_field,
      .desc = "Paste the PEM certificate and its unencrypted private key, or type '"
              CW_IRC_CERT_GENERATE "' to have the gateway make one (then register the "
              "fingerprint below with the network, e.g. /msg NickServ CERT ADD "
              "<fingerprint>), or '" CW_IRC_CERT_REMOVE "' to delete it. Stored encrypted, "
              "never shown back; empty keeps the stored one." },
    { .var = "client_cert_pem_fingerprint", .label = "Client certificate fingerprint (SHA-256)",
      .type = CW_FIELD_TEXT_SINGLE, .flags = CW_FIELD_READ_ONLY,
      .desc = "Set by the gateway from the certificate above; edits are ignored." },
    { .var = "server_password", .label = "Server password (PASS)", .type = CW_FIELD_TEXT_PRIVATE },
    { .var = "nickserv_password", .label = "NickServ password", .type = CW_FIELD_TEXT_PRIVATE },
    { .var = "charset", .label = "Charset of text that is not UTF-8 (e.g. ISO-8859-15, CP1251)",
      .type = CW_FIELD_TEXT_SINGLE },
    /* Often holds "PRIVMSG NickServ :IDENTIFY <password>": stored encrypted.
     * Still shown back: users must read and edit their own commands, and it
     * goes only to their own client (the debug log redacts form values). */
    { .var = "after_connect", .label = "Commands sent after connecting", .type = CW_FIELD_TEXT_MULTI,
      .flags = CW_FIELD_ENCRYPTED },
    { .var = "persistent", .label = "Stay connected when offline", .type = CW_FIELD_BOOLEAN },
};
static const CwFormSpec server_form = {
    .title = "Configure server",
    .instructions = "Settings for your connection to this IRC server; they apply at the next connection.",
    .fields = server_fields,
    .n_fields = G_N_ELEMENTS(server_fields),
};

static const CwFormSpec *
irc_entity_settings(CwGateway *gw, const char *legacy_id, char **scope)
{
    CwIrcAddress a = parse(gw, legacy_id);
    const CwFormSpec *spec = NULL;
    CwIrcTransport *t = cw_gateway_get_data(gw);
    guint16 port;
    gboolean check;
    /* No settings (and so no stored rows) for servers the gateway does not serve. */
    if (a.kind == CW_IRC_ADDRESS_SERVER &&
        cw_irc_policy_check_server(t->policy, a.server, 0, t->port, &port, &check, NULL)) {
        *scope = g_strdup_printf("server:%s", a.server);
        spec = &server_form;
    }
    cw_irc_address_clear(&a);
    return spec;
}

/* ---- addressing ---- */

static gboolean
irc_is_room(CwGateway *gw, const char *legacy_id)
{
    CwIrcAddress a = parse(gw, legacy_id);
    gboolean room = a.kind == CW_IRC_ADDRESS_CHANNEL;
    cw_irc_address_clear(&a);
    return room;
}

/* ---- sessions ---- */

/* The user's session for server, opened if needed — unless the admin's
 * policy refuses a new one: a server not in irc_servers, a port other than
 * the one pinned there, max_servers_per_user or max_connections_per_server
 * reached. Then NULL, *error says why (cw_irc_policy_condition() gives the
 * XMPP condition), and nothing has reached the network. */
static CwIrcSession *
session_for(CwUser *user, const char *server, const char *nick, GError **error)
{
    if (cw_irc_session_lookup(user, server))
        return cw_irc_session_get(user, server, nick); /* which may restart a failed one */
    CwIrcTransport *t = cw_gateway_get_data(cw_user_gateway(user));
    g_autofree char *scope = g_strdup_printf("server:%s", server);
    g_autofree char *port_s = cw_user_get_value(user, scope, "port");
    guint64 user_port = 0;
    if (port_s && *port_s)
        g_ascii_string_to_unsigned(port_s, 10, 1, 65535, &user_port, NULL);
    guint16 port;
    gboolean check_addresses;
    CwIrcUser *u = cw_user_get_data(user);
    if (!cw_irc_policy_check_server(t->policy, server, (guint16)user_port, t->port, &port,
                                    &check_addresses, error) ||
        !cw_irc_policy_check_limits(t->policy, server, u ? g_hash_table_size(u->sessions) : 0, error)) {
        g_info("%s: refused a connection to %s: %s", cw_user_jid(user), server, (*error)->message);
        return NULL;
    }
    return cw_irc_session_get(user, server, nick);
}

static void
irc_add_contact(CwUser *user, const char *legacy_id)
{
    CwIrcAddress a = parse(cw_user_gateway(user), legacy_id);
    g_autoptr(GError) error = NULL;
    CwIrcSession *s = a.kind == CW_IRC_ADDRESS_USER ? session_for(user, a.server, NULL, &error) : NULL;
    if (s) {
        cw_legacy_contact_add(user, legacy_id, a.name);
        cw_irc_session_monitor(s, a.name);
    } else if (error) {
        cw_legacy_error(user, legacy_id, NULL, cw_irc_policy_condition(error), error->message);
    }
    cw_irc_address_clear(&a);
}

static void
irc_remove_contact(CwUser *user, const char *legacy_id)
{
    CwIrcAddress a = parse(cw_user_gateway(user), legacy_id);
    if (a.kind == CW_IRC_ADDRESS_USER) {
        cw_legacy_contact_remove(user, legacy_id);
        CwIrcSession *s = cw_irc_session_lookup(user, a.server);
        if (s) {
            cw_irc_session_unmonitor(s, a.name);
            cw_irc_session_release_if_idle(s);
        }
    }
    cw_irc_address_clear(&a);
}

/* A registered user comes online: follow the presence of their IRC contacts. */
static void
irc_user_online(CwUser *user)
{
    g_autoptr(GPtrArray) contacts = cw_user_contacts(user);
    for (guint i = 0; i < contacts->len; i++) {
        CwIrcAddress a = parse(cw_user_gateway(user), contacts->pdata[i]);
        g_autoptr(GError) error = NULL;
        /* A server no longer allowed (or over a limit): its contacts stay
         * offline; session_for() logged why. */
        CwIrcSession *s = a.kind == CW_IRC_ADDRESS_USER ? session_for(user, a.server, NULL, &error) : NULL;
        if (s)
            cw_irc_session_monitor(s, a.name);
        cw_irc_address_clear(&a);
    }
}

static void
irc_user_offline(CwUser *user)
{
    CwIrcUser *u = cw_user_get_data(user);
    if (!u)
        return;
    GList *sessions = g_hash_table_get_values(u->sessions);
    for (GList *l = sessions; l; l = l->next) {
        CwIrcSession *s = l->data;
        g_autofree char *scope = g_strdup_printf("server:%s", s->server);
        g_autofree char *persistent = cw_user_get_value(user, scope, "persistent");
        if (!s->transport->persistent && g_strcmp0(persistent, "1") != 0)
            cw_irc_session_quit(s, "Gone offline");
    }
    g_list_free(sessions);
}

static void
irc_user_presence(CwUser *user, CwShow show, const char *status)
{
    CwIrcUser *u = cw_user_get_data(user);
    if (!u)
        return;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, u->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_autofree char *line = show >= CW_SHOW_AWAY
                                    ? cw_irc_line_build("AWAY", status && *status ? status : "Away", NULL)
                                    : g_strdup("AWAY");
        cw_irc_session_send(value, line);
    }
}

static void
irc_unregistered(CwUser *user)
{
    CwIrcUser *u = cw_user_get_data(user);
    if (!u)
        return;
    GList *sessions = g_hash_table_get_values(u->sessions);
    for (GList *l = sessions; l; l = l->next)
        cw_irc_session_quit(l->data, "Unregistered");
    g_list_free(sessions);
}

/* An administrator disconnected the user: quit every session, persistent
 * ones too; the next available presence connects again. */
static void
irc_disconnect(CwUser *user)
{
    CwIrcUser *u = cw_user_get_data(user);
    if (!u)
        return;
    GList *sessions = g_hash_table_get_values(u->sessions);
    for (GList *l = sessions; l; l = l->next)
        cw_irc_session_quit(l->data, "Disconnected by the gateway's administrator");
    g_list_free(sessions);
}

/* ---- text out ---- */

static gsize
text_budget(CwIrcSession *s, const char *target)
{
    /* 512 minus CRLF minus ":nick!user@host PRIVMSG target :" as others see it
     * (user and host at their usual maxima) minus a CTCP ACTION wrapper. */
    gsize overhead = 2 + 1 + strlen(s->nick) + 1 + 10 + 1 + 63 + 9 + strlen(target) + 2 + 9;
    return overhead < 400 ? 512 - overhead : 100;
}

/* Send body (possibly several lines, "/me " actions) to target. Returns the
 * number of lines queued, 0 when not all of them could be. Every line carries
 * origin: a line accepted now and lost later is answered through it (once
 * for the message). */
static guint
send_text(CwIrcSession *s, const char *command, const char *target, const char *body,
          CwIrcOrigin *origin)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    gboolean action = g_str_has_prefix(body, "/me ");
    const char *text = action ? body + 4 : body;
    g_autoptr(GPtrArray) chunks = cw_irc_text_split(text, text_budget(s, target));
    for (guint i = 0; i < chunks->len; i++) {
        g_autofree char *payload = action ? cw_irc_ctcp_action(chunks->pdata[i]) : g_strdup(chunks->pdata[i]);
        char *line = cw_irc_line_build(command, target, payload, NULL);
        if (line)
            g_ptr_array_add(lines, line);
    }
    gsize bytes = 0;
    for (guint i = 0; i < lines->len; i++)
        bytes += strlen(lines->pdata[i]) + 2;
    gsize user_queued = bytes;
    GHashTableIter it;
    gpointer other;
    g_hash_table_iter_init(&it, s->owner->sessions);
    while (g_hash_table_iter_next(&it, NULL, &other))
        if (((CwIrcSession *)other)->conn)
            user_queued += cw_irc_conn_unsent_bytes(((CwIrcSession *)other)->conn);
    if (user_queued > s->transport->policy->max_queued_bytes) {
        /* The user's own flood, over all their connections (max_queued_bytes). */
        origin->answered = TRUE;
        g_autofree char *why = g_strdup_printf(
            "Not sent: %" G_GSIZE_FORMAT " bytes of yours are already waiting to go to IRC "
            "(max_queued_bytes = %u); try again shortly.",
            user_queued - bytes, s->transport->policy->max_queued_bytes);
        cw_legacy_error(s->user, origin->legacy_id, origin->msg_id, "resource-constraint", why);
        return 0;
    }
    if (s->registered && s->conn && cw_irc_conn_is_connected(s->conn) &&
        bytes > cw_irc_conn_queue_room(s->conn)) {
        /* Flood control holds more than CW_IRC_CONN_SEND_MAX already. */
        origin->answered = TRUE;
        g_autofree char *why = g_strdup_printf(
            "Not sent: too much is already waiting to go to %s (flood control); try again shortly.",
            s->server);
        cw_legacy_error(s->user, origin->legacy_id, origin->msg_id, "resource-constraint", why);
        return 0;
    }
    guint sent = 0;
    for (guint i = 0; i < lines->len && sent == i; i++)
        sent += cw_irc_session_send_from(s, lines->pdata[i], origin);
    return lines->len && sent == lines->len ? sent : 0;
}

static void
not_connected_error(CwUser *user, const char *legacy_id, const char *id, const char *server)
{
    g_autofree char *text = g_strdup_printf(
        "Not sent: the connection to %s is down; Causeway is reconnecting, try again shortly.", server);
    cw_legacy_error(user, legacy_id, id, "recipient-unavailable", text);
}

/* A message that could not (all) be queued: answer it, unless the session
 * already did (its lines' origin was answered when the connection failed). */
static void
message_not_sent(CwUser *user, CwIrcOrigin *origin, const char *server)
{
    if (origin->answered)
        return;
    origin->answered = TRUE;
    not_connected_error(user, origin->legacy_id, origin->msg_id, server);
}

static void
irc_send_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    CwGateway *gw = cw_user_gateway(user);
    CwIrcAddress a = parse(gw, legacy_id);
    if (a.kind == CW_IRC_ADDRESS_INVALID || a.kind == CW_IRC_ADDRESS_CHANNEL) {
        cw_legacy_error(user, legacy_id, msg->id, "item-not-found", "Not an IRC user or server address.");
        cw_irc_address_clear(&a);
        return;
    }
    g_autoptr(GError) error = NULL;
    CwIrcSession *s = session_for(user, a.server, NULL, &error);
    if (!s) {
        cw_legacy_error(user, legacy_id, msg->id, cw_irc_policy_condition(error), error->message);
        cw_irc_address_clear(&a);
        return;
    }
    g_autoptr(CwIrcOrigin) origin = cw_irc_origin_new(legacy_id, msg->id);
    gboolean ok;
    if (a.kind == CW_IRC_ADDRESS_SERVER) {
        /* To the server JID: raw IRC commands of the user's own connection. */
        g_auto(GStrv) lines = g_strsplit(msg->body, "\n", -1);
        ok = TRUE;
        for (char **l = lines; *l && ok; l++) {
            char *cmd = g_strstrip(*l);
            if (*cmd)
                ok = cw_irc_session_send_from(s, cmd[0] == '/' ? cmd + 1 : cmd, origin);
        }
    } else {
        g_autofree char *key = cw_irc_casefold(a.name);
        g_hash_table_remove(s->private_rooms, key);
        g_hash_table_replace(s->queries, g_steal_pointer(&key), g_strdup(a.name));
        cw_irc_session_note_id(s, a.name, msg->id);
        ok = send_text(s, "PRIVMSG", a.name, msg->body, origin);
    }
    if (!ok)
        message_not_sent(user, origin, a.server);
    cw_irc_address_clear(&a);
}

/* ---- rooms ---- */

static void
irc_join_room(CwUser *user, const char *room_id, const char *nick, const char *password)
{
    CwIrcAddress a = parse(cw_user_gateway(user), room_id);
    if (a.kind != CW_IRC_ADDRESS_CHANNEL) {
        cw_legacy_room_join_failed(user, room_id, "item-not-found", "Not an IRC channel address.");
        cw_irc_address_clear(&a);
        return;
    }
    g_autoptr(GError) error = NULL;
    CwIrcSession *s = session_for(user, a.server, nick, &error);
    if (!s) {
        cw_legacy_room_join_failed(user, room_id, cw_irc_policy_condition(error), error->message);
        cw_irc_address_clear(&a);
        return;
    }
    CwIrcChannel *c = cw_irc_session_channel(s, a.name);
    if (c && c->joined) {
        /* Already in (another client of the user joined first). */
        cw_irc_session_sync_room(s, c);
        cw_legacy_room_joined(user, room_id, s->nick, CW_ROLE_PARTICIPANT, CW_AFFILIATION_NONE);
    } else if (!c) {
        c = cw_irc_session_add_channel(s, a.name, room_id, password);
        if (s->registered) {
            g_autofree char *line = c->key ? cw_irc_line_build("JOIN", a.name, c->key, NULL)
                                           : cw_irc_line_build("JOIN", a.name, NULL);
            if (!line || !cw_irc_session_send(s, line)) {
                cw_legacy_room_join_failed(user, room_id, "not-acceptable", "Invalid channel name or key.");
                cw_irc_session_remove_channel(s, a.name);
            }
        }
    }
    cw_irc_address_clear(&a);
}

static void
irc_leave_room(CwUser *user, const char *room_id, const char *status)
{
    CwIrcAddress a = parse(cw_user_gateway(user), room_id);
    CwIrcSession *s = a.kind == CW_IRC_ADDRESS_CHANNEL ? cw_irc_session_lookup(user, a.server) : NULL;
    if (s && cw_irc_session_channel(s, a.name)) {
        g_autofree char *line = status && *status ? cw_irc_line_build("PART", a.name, status, NULL)
                                                  : cw_irc_line_build("PART", a.name, NULL);
        if (line && s->registered)
            cw_irc_session_send(s, line);
        cw_irc_session_remove_channel(s, a.name);
        cw_irc_session_release_if_idle(s);
    }
    cw_irc_address_clear(&a);
}

static CwIrcSession *
room_session(CwUser *user, const char *room_id, char **channel)
{
    CwIrcAddress a = parse(cw_user_gateway(user), room_id);
    CwIrcSession *s = a.kind == CW_IRC_ADDRESS_CHANNEL ? cw_irc_session_lookup(user, a.server) : NULL;
    *channel = g_steal_pointer(&a.name);
    cw_irc_address_clear(&a);
    return s;
}

static void
irc_send_groupchat(CwUser *user, const char *room_id, const CwMessage *msg)
{
    g_autofree char *chan = NULL;
    CwIrcSession *s = room_session(user, room_id, &chan);
    if (s)
        cw_irc_session_note_id(s, chan, msg->id);
    g_autoptr(CwIrcOrigin) origin = cw_irc_origin_new(room_id, msg->id);
    guint lines = s && s->registered ? send_text(s, "PRIVMSG", chan, msg->body, origin) : 0;
    if (!lines) {
        message_not_sent(user, origin, s ? s->server : "the server");
        return;
    }
    /* XEP-0045 §7.4: reflect with the id the client sent; with echo-message
     * only once the server has echoed every line (it accepted them). */
    CwIrcChannel *c = cw_irc_session_channel(s, chan);
    if (c && cw_irc_cap_has(s->cap, "echo-message")) {
        if (g_queue_get_length(&c->echoes) >= CW_IRC_CHANNEL_MAX_ECHOES) {
            /* the server is not echoing: reflect the oldest without its echo */
            CwIrcEcho *old = g_queue_pop_head(&c->echoes);
            CwMessage mine = { .body = old->body, .id = old->id };
            cw_legacy_room_message(user, room_id, s->nick, &mine);
            cw_irc_echo_free(old);
        }
        CwIrcEcho *e = g_new0(CwIrcEcho, 1);
        e->id = g_strdup(msg->id);
        e->body = g_strdup(msg->body);
        e->lines_left = lines;
        g_queue_push_tail(&c->echoes, e);
        return;
    }
    cw_legacy_room_message(user, room_id, s->nick, msg);
}

static void
irc_set_subject(CwUser *user, const char *room_id, const char *subject)
{
    g_autofree char *chan = NULL;
    CwIrcSession *s = room_session(user, room_id, &chan);
    g_autofree char *flat = g_strdelimit(g_strdup(subject ? subject : ""), "\r\n", ' ');
    g_autofree char *line = cw_irc_line_build("TOPIC", chan, flat, NULL);
    if (!s || !line || !cw_irc_session_send(s, line))
        not_connected_error(user, room_id, NULL, s ? s->server : "the server");
}

static void
irc_change_nick(CwUser *user, const char *room_id, const char *nick)
{
    g_autofree char *chan = NULL;
    CwIrcSession *s = room_session(user, room_id, &chan);
    g_autofree char *line = cw_irc_line_build("NICK", nick, NULL);
    if (!line) {
        cw_legacy_error(user, room_id, NULL, "not-acceptable", "That nick cannot be used on IRC.");
        return;
    }
    if (!s || !cw_irc_session_send(s, line))
        not_connected_error(user, room_id, NULL, s ? s->server : "the server");
}

static void
irc_send_private(CwUser *user, const char *room_id, const char *nick, const CwMessage *msg)
{
    g_autofree char *chan = NULL;
    CwIrcSession *s = room_session(user, room_id, &chan);
    if (s) {
        g_hash_table_replace(s->private_rooms, cw_irc_casefold(nick), g_strdup(room_id));
        cw_irc_session_note_id(s, nick, msg->id);
    }
    g_autoptr(CwIrcOrigin) origin = cw_irc_origin_new(room_id, msg->id);
    if (!s || !send_text(s, "PRIVMSG", nick, msg->body, origin))
        message_not_sent(user, origin, s ? s->server : "the server");
}

static void
irc_list_rooms(CwUser *user, const char *legacy_id, guint max_items, CwRoomList *list)
{
    CwIrcAddress a = parse(cw_user_gateway(user), legacy_id);
    if (a.kind != CW_IRC_ADDRESS_SERVER) {
        /* A user's JID: nothing to list. */
        cw_room_list_done(list, NULL, NULL);
        cw_irc_address_clear(&a);
        return;
    }
    g_autoptr(GError) error = NULL;
    CwIrcSession *s = session_for(user, a.server, NULL, &error);
    if (!s) {
        cw_room_list_done(list, cw_irc_policy_condition(error), error->message);
        cw_irc_address_clear(&a);
        return;
    }
    g_queue_push_tail(&s->listings, list);
    s->list_max = max_items;
    if (!cw_irc_session_send(s, "LIST"))
        cw_room_list_done(g_queue_pop_tail(&s->listings), "remote-server-timeout",
                          "The IRC server is not connected; try again shortly.");
    cw_irc_address_clear(&a);
}

static const char *const irc_features[] = { "http://jabber.org/protocol/muc", NULL };

static void
irc_congestion(CwGateway *gw, gboolean congested)
{
    cw_irc_conn_pause_reading(congested);
}

const CwTransportOps cw_irc_transport = {
    .type = "irc",
    .description = "IRC",
    .disco_type = "irc",
    .features = irc_features,
    .config_keys = irc_config_keys,
    .configure = irc_configure,
    .deinit = irc_deinit,
    .registration_form = &registration_form,
    .check_registration = irc_check_registration,
    .unregistered = irc_unregistered,
    .disconnect = irc_disconnect,
    .entity_settings = irc_entity_settings,
    .user_online = irc_user_online,
    .user_offline = irc_user_offline,
    .add_contact = irc_add_contact,
    .remove_contact = irc_remove_contact,
    .user_presence = irc_user_presence,
    .congestion = irc_congestion,
    .send_message = irc_send_message,
    .join_room = irc_join_room,
    .leave_room = irc_leave_room,
    .send_groupchat = irc_send_groupchat,
    .set_subject = irc_set_subject,
    .change_nick = irc_change_nick,
    .send_private = irc_send_private,
    .is_room = irc_is_room,
    .shared_rooms = TRUE, /* every connection in a channel sees the same members */
    .list_rooms = irc_list_rooms,
    .gateway_prompt = "IRC nick%server or #channel%server",
};
