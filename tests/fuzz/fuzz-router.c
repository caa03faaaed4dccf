/* fuzz-router.c — libFuzzer harness for the stanza router and all modules, loopback transport.
 *
 * One gateway process (CwGateway) is built once, like tests/unit/test-router.c
 * builds it, but never connected: each input is parsed with libstrophe and
 * handed straight to cw_router_dispatch(). Replies are built and then dropped
 * by cw_component_send() (not connected), so what is checked is that no
 * stanza, and no sequence of them, crashes, leaks or trips a sanitizer.
 *
 * Input: one or more stanzas back to back ("<iq .../><presence .../>...").
 * They are parsed inside a wrapper element, so a sequence works in one input
 * (register, then come online, then join a room...). Each is dispatched as it
 * is; one without 'to' or 'from' is dispatched again with to='loop.test'
 * and/or from='alice@example.org/r', so most inputs reach the modules. An
 * ad-hoc <command sessionid='$session'/> is given the id of a session an
 * earlier stanza of the same input opened (replies, which carry it, are not
 * seen).
 *
 * The transport is the loopback transport's ops (registration form, echo
 * contacts) plus, defined here, group chats for legacy ids starting with '#'
 * (so "#chan%irc.test@loop.test/nick" is a room) driven synchronously
 * through the cw_legacy_room_* calls, room listings and settings for
 * entities whose id holds a '.' (servers), and a few "!command" message
 * bodies that make the legacy side act (kick, rename, topic, contact
 * removal, errors...). Nothing in the core is changed for the harness.
 *
 * After each input every user is unregistered and forgotten and ad-hoc
 * sessions and XEP-0356 grants are dropped, so state stays bounded and an
 * input does not depend on the ones before it.
 */
#include "fuzz-common.h"

#include <glib/gstdio.h>

#include "account.h"
#include "gateway.h"
#include "router.h"
#include "stanza.h"

#define DOMAIN "loop.test"
#define DEFAULT_FROM "alice@example.org/r"

extern const CwTransportOps cw_loopback_transport;

static CwGateway *gw;
static char *data_dir;
static CwTransportOps fuzz_ops;
static GHashTable *room_nicks; /* "user\nroom" -> our nick there, as the legacy side knows it */

/* ---- the fuzz transport: loopback plus rooms, entity settings, commands ---- */

static char *
room_key(CwUser *user, const char *room_id)
{
    return g_strconcat(cw_user_jid(user), "\n", room_id, NULL);
}

static const char *
room_nick(CwUser *user, const char *room_id)
{
    g_autofree char *key = room_key(user, room_id);
    const char *nick = g_hash_table_lookup(room_nicks, key);
    return nick ? nick : "me";
}

static void
set_room_nick(CwUser *user, const char *room_id, const char *nick)
{
    if (nick)
        g_hash_table_replace(room_nicks, room_key(user, room_id), g_strdup(nick));
    else {
        g_autofree char *key = room_key(user, room_id);
        g_hash_table_remove(room_nicks, key);
    }
}

static gboolean
fuzz_is_room(CwGateway *g, const char *legacy_id)
{
    return legacy_id[0] == '#';
}

static void
fuzz_join_room(CwUser *user, const char *room_id, const char *nick, const char *password)
{
    if (g_strcmp0(password, "wrong") == 0) {
        cw_legacy_room_join_failed(user, room_id, "not-authorized", "Wrong channel key");
        return;
    }
    if (strcmp(nick, "taken") == 0) {
        cw_legacy_room_join_failed(user, room_id, "conflict", NULL);
        return;
    }
    cw_legacy_occupant_joined(user, room_id, "echo", CW_ROLE_MODERATOR, CW_AFFILIATION_OWNER,
                              "echo");
    cw_legacy_occupant_joined(user, room_id, "visitor", CW_ROLE_VISITOR, CW_AFFILIATION_NONE, NULL);
    g_autofree char *topic = g_strdup_printf("Welcome to %s", room_id);
    cw_legacy_room_subject(user, room_id, "echo", topic);
    /* A server may truncate or change the nick (status 210). */
    g_autofree char *actual = strlen(nick) > 16 ? g_strndup(nick, 16) : g_strdup(nick);
    set_room_nick(user, room_id, actual);
    cw_legacy_room_joined(user, room_id, actual, CW_ROLE_PARTICIPANT, CW_AFFILIATION_NONE);
}

static void
fuzz_leave_room(CwUser *user, const char *room_id, const char *status)
{
    set_room_nick(user, room_id, NULL);
}

/* "!verb a b rest": the legacy side of a room acts. */
static void
room_command(CwUser *user, const char *room_id, const char *body)
{
    g_auto(GStrv) w = g_strsplit(body + 1, " ", 3);
    guint n = g_strv_length(w);
    const char *verb = n > 0 ? w[0] : "";
    const char *a = n > 1 ? w[1] : "x";
    const char *b = n > 2 ? w[2] : NULL;
    if (!strcmp(verb, "kick")) {
        cw_legacy_occupant_kicked(user, room_id, a, "echo", b);
    } else if (!strcmp(verb, "join")) {
        cw_legacy_occupant_joined(user, room_id, a, CW_ROLE_PARTICIPANT, CW_AFFILIATION_MEMBER, b);
    } else if (!strcmp(verb, "part")) {
        cw_legacy_occupant_left(user, room_id, a, b);
    } else if (!strcmp(verb, "rename")) {
        cw_legacy_occupant_renamed(user, room_id, a, b ? b : "renamed");
        if (strcmp(a, room_nick(user, room_id)) == 0)
            set_room_nick(user, room_id, b ? b : "renamed");
    } else if (!strcmp(verb, "topic")) {
        cw_legacy_room_subject(user, room_id, n > 2 ? a : NULL, b ? b : a);
    } else if (!strcmp(verb, "left")) {
        cw_legacy_room_left(user, room_id, b);
    } else if (!strcmp(verb, "failed")) {
        cw_legacy_room_join_failed(user, room_id, "forbidden", b);
    } else if (!strcmp(verb, "pm")) {
        CwMessage m = { .body = b ? b : "hi" };
        cw_legacy_room_private(user, room_id, a, &m);
    } else if (!strcmp(verb, "say")) {
        CwMessage m = { .body = b ? b : "", .timestamp = b ? 0 : 1700000000000000 };
        cw_legacy_room_message(user, room_id, a, &m);
    }
}

static void
fuzz_send_groupchat(CwUser *user, const char *room_id, const CwMessage *msg)
{
    cw_legacy_room_message(user, room_id, room_nick(user, room_id), msg); /* the reflection */
    if (msg->body[0] == '!')
        room_command(user, room_id, msg->body);
}

static void
fuzz_set_subject(CwUser *user, const char *room_id, const char *subject)
{
    cw_legacy_room_subject(user, room_id, room_nick(user, room_id), subject);
}

static void
fuzz_change_nick(CwUser *user, const char *room_id, const char *nick)
{
    if (strcmp(nick, "taken") == 0)
        return; /* the network refused: nothing happens */
    g_autofree char *old = g_strdup(room_nick(user, room_id));
    set_room_nick(user, room_id, nick);
    cw_legacy_occupant_renamed(user, room_id, old, nick);
}

static void
fuzz_send_private(CwUser *user, const char *room_id, const char *nick, const CwMessage *msg)
{
    CwMessage echo = { .body = msg->body };
    cw_legacy_room_private(user, room_id, nick, &echo);
}

/* "!verb a b" to a contact: the legacy side of a one-to-one chat acts;
 * anything else is echoed as the loopback transport does. */
static void
fuzz_send_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    if (msg->body[0] != '!') {
        cw_loopback_transport.send_message(user, legacy_id, msg);
        return;
    }
    g_auto(GStrv) w = g_strsplit(msg->body + 1, " ", 3);
    guint n = g_strv_length(w);
    const char *verb = n > 0 ? w[0] : "";
    const char *a = n > 1 ? w[1] : legacy_id;
    const char *b = n > 2 ? w[2] : NULL;
    if (!strcmp(verb, "add"))
        cw_legacy_contact_add(user, a, b);
    else if (!strcmp(verb, "remove"))
        cw_legacy_contact_remove(user, a);
    else if (!strcmp(verb, "error"))
        cw_legacy_error(user, n > 1 ? a : NULL, msg->id, "recipient-unavailable", b);
    else if (!strcmp(verb, "away"))
        cw_legacy_contact_presence(user, a, CW_SHOW_AWAY, b);
    else if (!strcmp(verb, "offline"))
        cw_legacy_contact_presence(user, a, CW_SHOW_OFFLINE, b);
    else if (!strcmp(verb, "typing"))
        cw_legacy_chat_state(user, a, CW_CHAT_STATE_COMPOSING);
    else if (!strcmp(verb, "receipt") && msg->id)
        cw_legacy_receipt(user, a, msg->id);
    else if (!strcmp(verb, "delayed")) {
        CwMessage m = { .body = b ? b : "old", .timestamp = 1700000000000000 };
        cw_legacy_message(user, a, &m);
    }
}

static void
fuzz_remove_contact(CwUser *user, const char *legacy_id)
{
    cw_legacy_contact_remove(user, legacy_id);
}

static void
fuzz_user_presence(CwUser *user, CwShow show, const char *status)
{
    cw_legacy_contact_presence(user, "echo", show, status);
}

/* disco#items on a server's JID: a listing, answered at once; a server
 * named "down..." times out. */
static void
fuzz_list_rooms(CwUser *user, const char *legacy_id, guint max_items, CwRoomList *list)
{
    if (g_str_has_prefix(legacy_id, "down")) {
        cw_room_list_done(list, "remote-server-timeout", "The server does not answer.");
        return;
    }
    static const char *const rooms[] = { "#chan", "#caf\xc3\xa9", "#a b", "#x@y/z", "##" };
    for (gsize i = 0; i < G_N_ELEMENTS(rooms) && i < max_items; i++) {
        g_autofree char *id = g_strdup_printf("%s%%%s", rooms[i], legacy_id);
        cw_room_list_add(list, id, i % 2 ? NULL : rooms[i]);
    }
    cw_room_list_add(list, legacy_id, "\xff not UTF-8");
    cw_room_list_done(list, NULL, NULL);
}

static gboolean
fuzz_gateway_command(CwUser *user, const char *text)
{
    if (g_ascii_strcasecmp(text, "ping") != 0)
        return FALSE;
    cw_legacy_gateway_message(user, "pong");
    return TRUE;
}

static const char *const colours[] = { "red", "green", "blue", NULL };
static const CwFormField entity_fields[] = {
    { .var = "nick", .label = "Nick", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE },
    { .var = "password", .label = "Password", .type = CW_FIELD_TEXT_PRIVATE },
    { .var = "autojoin", .label = "Rooms", .type = CW_FIELD_TEXT_MULTI },
    { .var = "tls", .label = "TLS", .type = CW_FIELD_BOOLEAN, .default_value = "1" },
    { .var = "colour", .type = CW_FIELD_LIST_SINGLE, .options = colours, .default_value = "red" },
    { .var = "owner", .label = "Owner", .type = CW_FIELD_JID_SINGLE },
    { .var = "note", .label = "Settings apply at the next connection", .type = CW_FIELD_FIXED },
    { .var = "version", .type = CW_FIELD_HIDDEN, .default_value = "1" },
};
static const CwFormSpec entity_spec = { "Server settings", "Per-server settings", entity_fields,
                                        G_N_ELEMENTS(entity_fields) };

static const CwFormSpec *
fuzz_entity_settings(CwGateway *g, const char *legacy_id, char **scope)
{
    if (legacy_id[0] == '#' || !strchr(legacy_id, '.'))
        return NULL;
    *scope = g_strdup_printf("server:%s", legacy_id);
    return &entity_spec;
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
    g_clear_pointer(&room_nicks, g_hash_table_unref);
    if (data_dir)
        remove_tree(data_dir);
    g_clear_pointer(&data_dir, g_free);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static void
setup(void)
{
    g_autoptr(GError) error = NULL;
    /* tmpfs when there is one: the store commits on every registration. */
    g_autofree char *tmpl = g_strdup("/dev/shm/cw-fuzz-router-XXXXXX");
    data_dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && g_mkdtemp(tmpl)
                   ? g_steal_pointer(&tmpl)
                   : g_dir_make_tmp("cw-fuzz-router-XXXXXX", &error);
    if (!data_dir)
        g_error("fuzz-router: no data dir: %s", error->message);

    /* A real file, so the admin "reload" command can read it again. */
    g_autofree char *path = g_build_filename(data_dir, "causeway.ini", NULL);
    g_autofree char *ini = g_strdup_printf("[xmpp]\n"
                                           "host = 127.0.0.1\n"
                                           "port = 5347\n"
                                           "[gateway]\n"
                                           "data_dir = %s\n"
                                           "allowed_domains = example.org, example.net\n"
                                           "admins = admin@example.org\n"
                                           "[transport:loop]\n"
                                           "type = loopback\n"
                                           "domain = " DOMAIN "\n"
                                           "secret = s3cret\n",
                                           data_dir);
    if (!g_file_set_contents(path, ini, -1, &error))
        g_error("fuzz-router: %s", error->message);
    CwConfig *config = cw_config_load(path, &error);
    if (!config)
        g_error("fuzz-router: %s", error->message);
    gw = cw_gateway_new(config, "loop", &error);
    if (!gw)
        g_error("fuzz-router: %s", error->message);

    fuzz_ops = cw_loopback_transport;
    fuzz_ops.is_room = fuzz_is_room;
    fuzz_ops.join_room = fuzz_join_room;
    fuzz_ops.leave_room = fuzz_leave_room;
    fuzz_ops.send_groupchat = fuzz_send_groupchat;
    fuzz_ops.set_subject = fuzz_set_subject;
    fuzz_ops.change_nick = fuzz_change_nick;
    fuzz_ops.send_private = fuzz_send_private;
    fuzz_ops.list_rooms = fuzz_list_rooms;
    fuzz_ops.send_message = fuzz_send_message;
    fuzz_ops.remove_contact = fuzz_remove_contact;
    fuzz_ops.user_presence = fuzz_user_presence;
    fuzz_ops.gateway_command = fuzz_gateway_command;
    fuzz_ops.commands_help = "  ping — pong\n";
    fuzz_ops.entity_settings = fuzz_entity_settings;
    gw->ops = &fuzz_ops;
    room_nicks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    atexit(teardown);
}

/* Forget everything the input did: unregister (which also ends sessions and
 * rooms) and drop every user, ad-hoc session and XEP-0356 grant. */
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
    g_clear_pointer(&gw->privilege_ns, g_free);
    gw->roster_perm = CW_ROSTER_PERM_NONE;
    gw->roster_fallback_logged = FALSE;
    g_hash_table_remove_all(room_nicks);
    CW_FUZZ_CHECK(g_hash_table_size(gw->pending_iqs) == 0); /* nothing is ever sent */
}

/* <command sessionid='$session'/>: the id of an open session, if any. */
static void
fill_session_id(xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *command = xmpp_stanza_get_child_by_name(stanza, "command");
    if (!command || g_strcmp0(xmpp_stanza_get_attribute(command, "sessionid"), "$session") != 0)
        return;
    if (!gw->adhoc_sessions || g_hash_table_size(gw->adhoc_sessions) == 0)
        return;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, gw->adhoc_sessions);
    if (g_hash_table_iter_next(&it, &key, NULL))
        xmpp_stanza_set_attribute(command, "sessionid", key);
}

static void
dispatch(xmpp_stanza_t *stanza)
{
    fill_session_id(stanza);
    cw_router_dispatch(gw, stanza);
    gboolean no_to = xmpp_stanza_get_to(stanza) == NULL;
    gboolean no_from = xmpp_stanza_get_from(stanza) == NULL;
    if (!no_to && !no_from)
        return;
    xmpp_stanza_t *copy = xmpp_stanza_copy(stanza);
    if (no_to)
        xmpp_stanza_set_to(copy, DOMAIN);
    if (no_from)
        xmpp_stanza_set_from(copy, DEFAULT_FROM);
    cw_router_dispatch(gw, copy);
    xmpp_stanza_release(copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = cw_fuzz_string(data, size);
    g_autofree char *wrapped = g_strconcat("<fuzz>", text, "</fuzz>", NULL);
    xmpp_stanza_t *all = xmpp_stanza_new_from_string(cw_gateway_ctx(gw), wrapped);
    if (all) {
        guint n = 0;
        for (xmpp_stanza_t *c = xmpp_stanza_get_children(all); c && n < 64;
             c = xmpp_stanza_get_next(c)) {
            if (!xmpp_stanza_is_tag(c))
                continue;
            /* A stanza of its own, as the component hands them over. */
            xmpp_stanza_t *stanza = xmpp_stanza_copy(c);
            dispatch(stanza);
            xmpp_stanza_release(stanza);
            n++;
        }
        xmpp_stanza_release(all);
    }
    reset_state();
    return 0;
}
