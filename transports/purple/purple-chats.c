/* purple-chats.c — libpurple chats (prpl-jabber MUCs, prpl-irc channels) as
 * the core's XEP-0045 rooms; room lists through libpurple's PurpleRoomlist.
 *
 * Room ids are "ROOM%SERVER" (purple-room.h). libpurple knows a chat by its
 * chat name (prpl get_chat_name of the join components: "room@server" for
 * prpl-jabber, "#chan" for prpl-irc); the session keeps a CwPurpleRoom per
 * room the user is in or joining, by the casefolded chat name.
 *
 * Reflection of the user's own messages: libpurple writes our sends to the
 * chat flagged PURPLE_MESSAGE_SEND (prpl-irc at once, prpl-jabber when the
 * MUC reflects them). That echo is the reflection, with the XMPP id and body
 * of the oldest message sent and not yet echoed; nothing is reflected
 * otherwise. */
#define G_LOG_DOMAIN "causeway-purple"
#include "purple-core.h"
#include "purple-html.h"
#include "purple-buddies.h"
#include "purple-chats.h"
#include "purple-room.h"

#include <string.h>

#define JOIN_FALLBACK_MS 10000   /* chat-joined but we never appeared: joined anyway */
#define ROOM_LIST_TIMEOUT_MS 20000
#define MAX_UNECHOED 64

typedef enum { ROOM_PENDING, ROOM_JOINING, ROOM_JOINED } RoomState;

typedef struct {
    char *id, *body;
} Sent;

struct CwPurpleRoom {
    CwPurpleSession *s;
    char *id;       /* the core's room id */
    char *name;     /* libpurple's chat name */
    char *key;      /* casefolded name */
    char *nick, *password;
    RoomState state;
    gboolean lost;      /* was joined, the connection dropped: rejoined at sign-on */
    gboolean in_conv;   /* chat-joined seen */
    guint fallback;     /* JOIN_FALLBACK_MS timer */
    guint fail_idle;    /* chat-join-failed: reported from idle (the prpl's error text follows) */
    char *fail_text;
    char *kick_text;    /* a SYSTEM line saying we were kicked */
    char *subject;      /* the last one told to the core ("" once joined without one) */
    GQueue sent;        /* Sent *: our messages libpurple has not echoed yet */
};

typedef struct CwPurpleRoomListing {
    CwPurpleSession *s;
    CwRoomList *list;
    PurpleRoomlist *rl;
    char *server;
    guint max, count;
    guint timer;
    guint full;         /* idle: max reached, finished outside the prpl's call */
} Listing;

static void
sent_free(gpointer p)
{
    Sent *m = p;
    g_free(m->id);
    g_free(m->body);
    g_free(m);
}

static void
room_free(gpointer p)
{
    CwPurpleRoom *r = p;
    if (r->fallback)
        g_source_remove(r->fallback);
    if (r->fail_idle)
        g_source_remove(r->fail_idle);
    g_queue_clear_full(&r->sent, sent_free);
    g_free(r->id);
    g_free(r->name);
    g_free(r->key);
    g_free(r->nick);
    g_free(r->password);
    g_free(r->fail_text);
    g_free(r->kick_text);
    g_free(r->subject);
    g_free(r);
}

static GHashTable *
rooms_of(CwPurpleSession *s)
{
    if (!s->rooms)
        s->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    return s->rooms;
}

static void
room_remove(CwPurpleRoom *r)
{
    g_hash_table_remove(rooms_of(r->s), r->key);
}

static PurplePluginProtocolInfo *
prpl_info_of(CwPurpleSession *s)
{
    PurplePlugin *prpl = cw_purple_core_find_protocol(s->t->protocol);
    return prpl ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
}

static gboolean
is_jabber(CwPurpleSession *s)
{
    return g_strcmp0(s->t->protocol, "prpl-jabber") == 0;
}

static gboolean
is_irc(CwPurpleSession *s)
{
    return g_strcmp0(s->t->protocol, "prpl-irc") == 0;
}

/* The server an account is on, for prpls whose chats live on the account's
 * server (prpl-irc: "nick@irc.example.net"); NULL when the account name does
 * not say (or for prpl-jabber, whose rooms are on any MUC service). */
static const char *
account_server(CwPurpleSession *s)
{
    if (is_jabber(s) || !s->account)
        return NULL;
    const char *at = strrchr(purple_account_get_username(s->account), '@');
    return at && at[1] ? at + 1 : NULL;
}

/* Is server one this session's chats can be on? Else *why says what is. */
static gboolean
server_ok(CwPurpleSession *s, const char *server, char **why)
{
    const char *mine = account_server(s);
    if (!mine || !g_ascii_strcasecmp(mine, server))
        return TRUE;
    *why = g_strdup_printf("Your legacy account is on %s: its rooms are ROOM%%%s.", mine, mine);
    return FALSE;
}

/* libpurple's chat name of a room id (room@server for prpl-jabber). */
static char *
chat_name_of(CwPurpleSession *s, const char *room, const char *server)
{
    return is_jabber(s) ? g_strdup_printf("%s@%s", room, server) : g_strdup(room);
}

static CwPurpleRoom *
room_by_name(CwPurpleSession *s, const char *name)
{
    if (!s || !s->rooms || !name)
        return NULL;
    g_autofree char *key = g_utf8_casefold(name, -1);
    return g_hash_table_lookup(s->rooms, key);
}

static CwPurpleRoom *
room_by_id(CwPurpleSession *s, const char *room_id)
{
    g_autofree char *room = NULL, *server = NULL;
    if (!s || !cw_purple_room_id_parse(room_id, &room, &server))
        return NULL;
    g_autofree char *name = chat_name_of(s, room, server);
    return room_by_name(s, name);
}

static CwPurpleSession *
session_of_conv(CwPurpleTransport *t, PurpleConversation *conv)
{
    if (!conv || purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_CHAT)
        return NULL;
    return cw_purple_accounts_session(t, purple_conversation_get_account(conv));
}

static CwPurpleRoom *
room_of_conv(CwPurpleTransport *t, PurpleConversation *conv)
{
    return room_by_name(session_of_conv(t, conv), purple_conversation_get_name(conv));
}

static PurpleConversation *
conv_of(CwPurpleRoom *r)
{
    if (!r->s->account)
        return NULL;
    PurpleConversation *conv =
        purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT, r->name, r->s->account);
    if (conv && purple_conv_chat_has_left(PURPLE_CONV_CHAT(conv)))
        return NULL;
    return conv;
}

/* ---- joining ---- */

/* Ask libpurple to join r (the session is connected). */
static void
room_join_now(CwPurpleRoom *r)
{
    CwPurpleSession *s = r->s;
    PurpleConnection *gc = cw_purple_accounts_connection(s);
    PurplePluginProtocolInfo *info = prpl_info_of(s);
    g_autofree char *room = NULL, *server = NULL;
    cw_purple_room_id_parse(r->id, &room, &server);
    if (!gc || !info || !info->join_chat || !info->chat_info) {
        cw_legacy_room_join_failed(s->user, r->id, "feature-not-implemented",
                                   "This legacy network has no group chats.");
        room_remove(r);
        return;
    }
    GHashTable *comp = info->chat_info_defaults ? info->chat_info_defaults(gc, r->name) : NULL;
    if (!comp)
        comp = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    /* The prpls' tables have static keys (their chat_info identifiers). */
    GList *entries = info->chat_info(gc);
    for (GList *l = entries; l; l = l->next) {
        struct proto_chat_entry *e = l->data;
        const char *v = NULL;
        if (!strcmp(e->identifier, "room") || !strcmp(e->identifier, "channel"))
            v = room;
        else if (!strcmp(e->identifier, "server"))
            v = server;
        else if (!strcmp(e->identifier, "handle") || !strcmp(e->identifier, "nick"))
            v = r->nick;
        else if (!strcmp(e->identifier, "password"))
            v = r->password;
        if (v && *v)
            g_hash_table_replace(comp, (gpointer)e->identifier, g_strdup(v));
    }
    g_list_free_full(entries, g_free);
    if (info->get_chat_name) {
        /* libpurple's own idea of the chat's name (what chat-joined will say) */
        g_autofree char *name = info->get_chat_name(comp);
        if (name && *name && g_strcmp0(name, r->name)) {
            g_autofree char *key = g_utf8_casefold(name, -1);
            if (!g_hash_table_contains(rooms_of(s), key)) {
                g_hash_table_steal(rooms_of(s), r->key);
                g_free(r->name);
                g_free(r->key);
                r->name = g_steal_pointer(&name);
                r->key = g_steal_pointer(&key);
                g_hash_table_insert(rooms_of(s), r->key, r);
            }
        }
    }
    r->state = ROOM_JOINING;
    g_info("%s: joining %s", cw_user_jid(s->user), r->name);
    serv_join_chat(gc, comp);
    g_hash_table_unref(comp);
}

void
cw_purple_chats_join(CwPurpleSession *s, const char *room_id, const char *nick,
                     const char *password)
{
    g_autofree char *room = NULL, *server = NULL;
    if (!cw_purple_room_id_parse(room_id, &room, &server)) {
        cw_legacy_room_join_failed(s->user, room_id, "item-not-found",
                                   "Not a room address (ROOM%SERVER).");
        return;
    }
    g_autofree char *why = NULL;
    if (!server_ok(s, server, &why)) {
        cw_legacy_room_join_failed(s->user, room_id, "item-not-found", why);
        return;
    }
    g_autofree char *name = chat_name_of(s, room, server);
    CwPurpleRoom *r = room_by_name(s, name);
    if (r) {
        PurpleConversation *conv = r->state == ROOM_JOINED ? conv_of(r) : NULL;
        if (conv) {
            /* another resource of the user: already in */
            PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
            const char *mine = purple_conv_chat_get_nick(chat);
            if (!mine || !*mine)
                mine = r->nick;
            PurpleConvChatBuddy *me = mine ? purple_conv_chat_cb_find(chat, mine) : NULL;
            PurpleConvChatBuddyFlags flags = me ? me->flags : PURPLE_CBFLAGS_NONE;
            cw_legacy_room_joined(s->user, r->id, mine, cw_purple_room_role(flags),
                                  cw_purple_room_affiliation(flags));
        }
        return; /* joining: the answer comes */
    }
    r = g_new0(CwPurpleRoom, 1);
    r->s = s;
    r->id = g_strdup(room_id);
    r->name = g_steal_pointer(&name);
    r->key = g_utf8_casefold(r->name, -1);
    r->nick = g_strdup(nick);
    r->password = g_strdup(password);
    g_queue_init(&r->sent);
    g_hash_table_insert(rooms_of(s), r->key, r);
    if (cw_purple_accounts_connection(s))
        room_join_now(r);
    /* else ROOM_PENDING: joined at signed-on */
}

static void
announce_joined(CwPurpleRoom *r, PurpleConversation *conv)
{
    if (r->state == ROOM_JOINED)
        return;
    r->state = ROOM_JOINED;
    r->lost = FALSE;
    if (r->fallback) {
        g_source_remove(r->fallback);
        r->fallback = 0;
    }
    PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
    const char *nick = purple_conv_chat_get_nick(chat);
    if (!nick || !*nick)
        nick = r->nick;
    PurpleConvChatBuddy *me = nick ? purple_conv_chat_cb_find(chat, nick) : NULL;
    PurpleConvChatBuddyFlags flags = me ? me->flags : PURPLE_CBFLAGS_NONE;
    g_free(r->nick);
    r->nick = g_strdup(nick);
    if (!r->subject)
        r->subject = g_strdup(""); /* the core sends the empty subject with the join */
    g_info("%s: in %s as %s", cw_user_jid(r->s->user), r->name, nick);
    cw_legacy_room_joined(r->s->user, r->id, nick, cw_purple_room_role(flags),
                          cw_purple_room_affiliation(flags));
}

static gboolean
join_fallback(gpointer data)
{
    CwPurpleRoom *r = data;
    r->fallback = 0;
    PurpleConversation *conv = conv_of(r);
    if (conv)
        announce_joined(r, conv);
    return G_SOURCE_REMOVE;
}

typedef struct {
    CwPurpleTransport *t;
    PurpleAccount *account;
    char *name;
} Unwanted;

static gboolean
leave_unwanted(gpointer data)
{
    Unwanted *u = data;
    CwPurpleSession *s = cw_purple_accounts_session(u->t, u->account);
    if (s && s->account && !room_by_name(s, u->name)) {
        PurpleConversation *conv =
            purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT, u->name, s->account);
        if (conv)
            purple_conversation_destroy(conv);
    }
    g_free(u->name);
    g_free(u);
    return G_SOURCE_REMOVE;
}

static void
on_chat_joined(PurpleConversation *conv, gpointer data)
{
    CwPurpleTransport *t = data;
    CwPurpleSession *s = session_of_conv(t, conv);
    if (!s)
        return;
    CwPurpleRoom *r = room_by_name(s, purple_conversation_get_name(conv));
    if (!r) {
        /* not asked for (the user left meanwhile, or an invitation the prpl
         * accepted): left again, outside the prpl's call */
        Unwanted *u = g_new0(Unwanted, 1);
        u->t = t;
        u->account = s->account;
        u->name = g_strdup(purple_conversation_get_name(conv));
        g_idle_add(leave_unwanted, u);
        return;
    }
    r->in_conv = TRUE;
    r->state = ROOM_JOINING;
    if (!r->fallback)
        r->fallback = g_timeout_add(JOIN_FALLBACK_MS, join_fallback, r);
}

/* The occupants libpurple added (one batch, after its chat-buddy-joined
 * signals): the others are occupants; once the user is among them the room
 * is joined (XEP-0045 order: occupants, then self). */
static void
on_chat_users_added(PurpleConversation *conv, GList *cbuddies, gboolean new_arrivals,
                    gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r)
        return;
    const char *mine = purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv));
    gboolean self = FALSE;
    for (GList *l = cbuddies; l; l = l->next) {
        PurpleConvChatBuddy *cb = l->data;
        const char *name = purple_conv_chat_cb_get_name(cb);
        if (!name)
            continue;
        if (mine && !g_utf8_collate(name, mine)) {
            self = TRUE;
            continue;
        }
        PurpleConvChatBuddyFlags flags = cb->flags;
        cw_legacy_occupant_joined(r->s->user, r->id, name, cw_purple_room_role(flags),
                                  cw_purple_room_affiliation(flags), NULL);
    }
    if (self)
        announce_joined(r, conv);
}

static void
on_chat_buddy_flags(PurpleConversation *conv, const char *name, PurpleConvChatBuddyFlags old,
                    PurpleConvChatBuddyFlags now, gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r || !name)
        return;
    CwRole role = cw_purple_room_role(now);
    CwAffiliation aff = cw_purple_room_affiliation(now);
    if (role == cw_purple_room_role(old) && aff == cw_purple_room_affiliation(old))
        return; /* typing, away */
    const char *mine = purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv));
    if (mine && !g_utf8_collate(name, mine))
        return;
    cw_legacy_occupant_joined(r->s->user, r->id, name, role, aff, NULL);
}

static void
on_chat_buddy_left(PurpleConversation *conv, const char *name, const char *reason, gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r || !name)
        return;
    g_autofree char *text = reason && *reason ? cw_purple_html_to_text(reason) : NULL;
    g_autofree char *actor = NULL, *why = NULL;
    if (cw_purple_room_kick_text(text, &actor, &why))
        cw_legacy_occupant_kicked(r->s->user, r->id, name, actor, why);
    else
        cw_legacy_occupant_left(r->s->user, r->id, name, text && *text ? text : NULL);
}

static void
on_chat_renamed(PurpleConversation *conv, const char *old_name, const char *new_name,
                gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r || !old_name || !new_name)
        return;
    if (r->nick && !g_utf8_collate(old_name, r->nick)) {
        g_free(r->nick);
        r->nick = g_strdup(new_name);
    }
    cw_legacy_occupant_renamed(r->s->user, r->id, old_name, new_name);
}

static void
on_chat_topic(PurpleConversation *conv, const char *who, const char *topic, gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r || !g_strcmp0(r->subject, topic ? topic : ""))
        return; /* prpl-jabber repeats the subject it had */
    g_free(r->subject);
    r->subject = g_strdup(topic ? topic : "");
    cw_legacy_room_subject(r->s->user, r->id, who && *who ? who : NULL, r->subject);
}

static void
on_chat_write(PurpleConversation *conv, const char *who, const char *html,
              PurpleMessageFlags flags, time_t mtime, gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r)
        return;
    if (flags & (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_NO_LOG)
        || !who || !*who) {
        /* libpurple's remarks; one saying we were kicked explains the chat-left that follows */
        g_autofree char *text = cw_purple_html_to_text(html);
        if (text && strstr(text, "kicked") && (flags & PURPLE_MESSAGE_SYSTEM)) {
            g_free(r->kick_text);
            r->kick_text = g_steal_pointer(&text);
        }
        return;
    }
    gboolean delayed = (flags & PURPLE_MESSAGE_DELAYED) != 0;
    CwMessage msg = { .timestamp = delayed && mtime > 0 ? (gint64)mtime * G_USEC_PER_SEC : 0 };
    g_autofree char *body = cw_purple_html_to_text(html);
    Sent *mine = NULL;
    if ((flags & PURPLE_MESSAGE_SEND) && !delayed && !g_queue_is_empty(&r->sent)) {
        /* the oldest unechoed message with this text (older ones the
         * network dropped go); else the oldest */
        GList *hit = NULL;
        for (GList *l = r->sent.head; l && !hit; l = l->next)
            if (!g_strcmp0(((Sent *)l->data)->body, body))
                hit = l;
        if (hit)
            while (r->sent.head != hit)
                sent_free(g_queue_pop_head(&r->sent));
        mine = g_queue_pop_head(&r->sent);
    }
    msg.body = body;
    if (mine) {
        msg.id = mine->id;
        msg.body = mine->body;
    }
    if (msg.body && *msg.body)
        cw_legacy_room_message(r->s->user, r->id, who, &msg);
    if (mine)
        sent_free(mine);
}

static gboolean
report_join_failed(gpointer data)
{
    CwPurpleRoom *r = data;
    r->fail_idle = 0;
    /* prpl-jabber: "Error joining chat ROOM/NICK: ...: Conflict" -- the
     * reason is the last part (the room's name says nothing) */
    const char *why = r->fail_text ? g_strrstr(r->fail_text, ": ") : NULL;
    why = why ? why + 2 : r->fail_text;
    g_autofree char *text = why && *why
                                ? g_strdup_printf("The legacy network refused the join: %s", why)
                                : g_strdup("The legacy network refused the join.");
    cw_legacy_room_join_failed(r->s->user, r->id, cw_purple_room_condition(why), text);
    room_remove(r);
    return G_SOURCE_REMOVE;
}

static gboolean
text_names_room(const char *text, CwPurpleRoom *r)
{
    g_autofree char *low = g_utf8_casefold(text, -1);
    return strstr(low, r->key) != NULL;
}

static void
on_chat_join_failed(PurpleConnection *gc, GHashTable *components, gpointer data)
{
    CwPurpleTransport *t = data;
    CwPurpleSession *s = cw_purple_accounts_session(t, purple_connection_get_account(gc));
    PurplePluginProtocolInfo *info = s ? prpl_info_of(s) : NULL;
    if (!info || !info->get_chat_name || !components)
        return;
    g_autofree char *name = info->get_chat_name(components);
    CwPurpleRoom *r = room_by_name(s, name);
    if (!r || r->state == ROOM_JOINED || r->fail_idle)
        return;
    /* The prpl tells why in an error notification, just before or after. */
    if (t->last_notify && g_get_monotonic_time() - t->last_notify_at < G_USEC_PER_SEC
        && text_names_room(t->last_notify, r))
        r->fail_text = g_strdup(t->last_notify);
    r->fail_idle = g_idle_add(report_join_failed, r);
}

gboolean
cw_purple_chats_note_notify(CwPurpleTransport *t, const char *text)
{
    if (!t || !text)
        return FALSE;
    g_free(t->last_notify);
    t->last_notify = g_strdup(text);
    t->last_notify_at = g_get_monotonic_time();
    GHashTableIter si;
    gpointer sv;
    g_hash_table_iter_init(&si, t->sessions);
    while (g_hash_table_iter_next(&si, NULL, &sv)) {
        CwPurpleSession *s = sv;
        if (!s->rooms)
            continue;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, s->rooms);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            CwPurpleRoom *r = v;
            if (r->state != ROOM_JOINED && text_names_room(text, r)) {
                if (r->fail_idle && !r->fail_text)
                    r->fail_text = g_strdup(text);
                return TRUE; /* said in the join error (or in the one to come) */
            }
        }
    }
    return FALSE;
}

static void
on_chat_left(PurpleConversation *conv, gpointer data)
{
    CwPurpleRoom *r = room_of_conv(data, conv);
    if (!r)
        return;
    CwPurpleSession *s = r->s;
    if (r->state == ROOM_PENDING)
        return; /* the connection is going (rooms_down): rejoined at sign-on */
    if (r->state != ROOM_JOINED) {
        if (!r->fail_idle)
            r->fail_idle = g_idle_add(report_join_failed, r);
        return;
    }
    g_autofree char *actor = NULL, *why = NULL;
    if (r->kick_text && cw_purple_room_kick_text(r->kick_text, &actor, &why))
        cw_legacy_occupant_kicked(s->user, r->id, r->nick, actor, why);
    else if (r->kick_text)
        cw_legacy_occupant_kicked(s->user, r->id, r->nick, NULL, r->kick_text);
    else
        cw_legacy_room_left(s->user, r->id, NULL);
    room_remove(r);
}

/* ---- session life ---- */

void
cw_purple_chats_connected(CwPurpleSession *s)
{
    if (!s->rooms)
        return;
    GList *rooms = g_hash_table_get_values(s->rooms);
    for (GList *l = rooms; l; l = l->next) {
        CwPurpleRoom *r = l->data;
        if (r->state == ROOM_PENDING)
            room_join_now(r);
    }
    g_list_free(rooms);
}

static void listing_finish(Listing *ls, const char *condition, const char *text);

/* The connection is going (signing-off, before libpurple leaves each chat;
 * again at signed-off). When the session reconnects (s->wanted: the error
 * was not fatal and the user still wants it), every room stays to be joined
 * again at sign-on: a joined one is lost (the user is told, XEP-0045 status
 * 333); else the joined and lost ones are left and the user told. Joins
 * under way are asked again at sign-on either way (a session not wanted any
 * more has no rooms: the core left them when the user went offline). */
static void
rooms_down(CwPurpleSession *s)
{
    if (!s->rooms)
        return;
    GList *rooms = g_hash_table_get_values(s->rooms);
    for (GList *l = rooms; l; l = l->next) {
        CwPurpleRoom *r = l->data;
        if (r->fail_idle)
            continue; /* its join failure is being reported */
        if (r->state == ROOM_JOINED || r->lost) {
            if (!s->wanted) {
                cw_legacy_room_left(s->user, r->id, "Disconnected from the legacy network.");
                room_remove(r);
                continue;
            }
            if (r->state == ROOM_JOINED) {
                g_info("%s: lost %s; rejoining when reconnected", cw_user_jid(s->user), r->name);
                cw_legacy_room_lost(s->user, r->id,
                                    "Disconnected from the legacy network; back in the room "
                                    "once reconnected.");
            }
            r->lost = TRUE;
        }
        r->state = ROOM_PENDING;
        r->in_conv = FALSE;
        g_clear_pointer(&r->kick_text, g_free);
        g_queue_clear_full(&r->sent, sent_free);
        g_queue_init(&r->sent);
        if (r->fallback) {
            g_source_remove(r->fallback);
            r->fallback = 0;
        }
    }
    g_list_free(rooms);
}

static void
on_signing_off(PurpleConnection *gc, gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, purple_connection_get_account(gc));
    if (s)
        rooms_down(s);
}

void
cw_purple_chats_disconnected(CwPurpleSession *s)
{
    while (s->listings)
        listing_finish(s->listings->data, "remote-server-timeout",
                       "Disconnected from the legacy network.");
    rooms_down(s);
}

void
cw_purple_chats_free(CwPurpleSession *s)
{
    while (s->listings)
        listing_finish(s->listings->data, "service-unavailable", "The session ended.");
    g_clear_pointer(&s->rooms, g_hash_table_destroy);
}

/* ---- the user's actions ---- */

void
cw_purple_chats_leave(CwPurpleSession *s, const char *room_id, const char *status)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    if (!r)
        return;
    PurpleConversation *conv = conv_of(r);
    room_remove(r);
    if (conv)
        purple_conversation_destroy(conv); /* serv_chat_leave first */
}

void
cw_purple_chats_send(CwPurpleSession *s, const char *room_id, const CwMessage *msg)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r && r->state == ROOM_JOINED ? conv_of(r) : NULL;
    if (!conv || !cw_purple_accounts_connection(s)) {
        cw_legacy_error(s->user, room_id, msg->id, "not-acceptable",
                        "You are not in this room on the legacy network (yet).");
        return;
    }
    Sent *m = g_new0(Sent, 1);
    m->id = g_strdup(msg->id);
    m->body = g_strdup(msg->body ? msg->body : "");
    g_queue_push_tail(&r->sent, m);
    while (g_queue_get_length(&r->sent) > MAX_UNECHOED)
        sent_free(g_queue_pop_head(&r->sent));
    g_autofree char *html = cw_purple_text_to_html(m->body);
    /* the echo (prpl-irc: now, inside this call) is the reflection */
    purple_conv_chat_send(PURPLE_CONV_CHAT(conv), html);
}

void
cw_purple_chats_set_subject(CwPurpleSession *s, const char *room_id, const char *subject)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r ? conv_of(r) : NULL;
    PurpleConnection *gc = cw_purple_accounts_connection(s);
    PurplePluginProtocolInfo *info = prpl_info_of(s);
    if (!conv || !gc) {
        cw_legacy_error(s->user, room_id, NULL, "not-acceptable", "You are not in this room.");
        return;
    }
    if (!info || !info->set_chat_topic) {
        cw_legacy_error(s->user, room_id, NULL, "feature-not-implemented",
                        "This legacy network cannot change a room's subject.");
        return;
    }
    info->set_chat_topic(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)),
                         subject ? subject : "");
}

void
cw_purple_chats_change_nick(CwPurpleSession *s, const char *room_id, const char *nick)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r ? conv_of(r) : NULL;
    if (!conv) {
        cw_legacy_error(s->user, room_id, NULL, "not-acceptable", "You are not in this room.");
        return;
    }
    if (!nick || !*nick || strchr(nick, '\n')) {
        cw_legacy_error(s->user, room_id, NULL, "jid-malformed", "Not a nickname.");
        return;
    }
    g_autofree char *cmd = g_strdup_printf("nick %s", nick);
    g_autofree char *markup = g_markup_escape_text(cmd, -1);
    char *err = NULL;
    PurpleCmdStatus st = purple_cmd_do_command(conv, cmd, markup, &err);
    if (st != PURPLE_CMD_STATUS_OK) {
        g_autofree char *text = g_strdup_printf(
            "This legacy network does not let you change your nickname here%s%s.",
            err ? ": " : "", err ? err : "");
        cw_legacy_error(s->user, room_id, NULL,
                        st == PURPLE_CMD_STATUS_NOT_FOUND || st == PURPLE_CMD_STATUS_WRONG_PRPL
                            ? "feature-not-implemented" : "not-acceptable",
                        text);
    }
    g_free(err);
    /* the prpl reports the change (chat_rename_user) when the network confirms it */
}

void
cw_purple_chats_send_private(CwPurpleSession *s, const char *room_id, const char *nick,
                             const CwMessage *msg)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r ? conv_of(r) : NULL;
    PurpleConnection *gc = cw_purple_accounts_connection(s);
    if (!conv || !gc) {
        cw_legacy_error(s->user, room_id, msg->id, "not-acceptable", "You are not in this room.");
        return;
    }
    PurplePluginProtocolInfo *info = prpl_info_of(s);
    g_autofree char *to = NULL;
    if (is_jabber(s))
        to = g_strdup_printf("%s/%s", purple_conversation_get_name(conv), nick); /* MUC PM */
    else if (info && info->get_cb_real_name)
        to = info->get_cb_real_name(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), nick);
    else if (is_irc(s))
        to = g_strdup(nick);
    if (!to) {
        cw_legacy_error(s->user, room_id, msg->id, "feature-not-implemented",
                        "This legacy network has no private messages to room occupants.");
        return;
    }
    PurpleConversation *im =
        purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, to, s->account);
    if (!im)
        im = purple_conversation_new(PURPLE_CONV_TYPE_IM, s->account, to);
    g_autofree char *html = cw_purple_text_to_html(msg->body ? msg->body : "");
    purple_conv_im_send(PURPLE_CONV_IM(im), html);
}

gboolean
cw_purple_chats_private_in(CwPurpleSession *s, const char *who, const CwMessage *msg)
{
    if (!is_jabber(s) || !who || !s->rooms)
        return FALSE;
    const char *slash = strchr(who, '/');
    if (!slash || !slash[1])
        return FALSE;
    g_autofree char *bare = g_strndup(who, slash - who);
    CwPurpleRoom *r = room_by_name(s, bare);
    if (!r)
        return FALSE;
    cw_legacy_room_private(s->user, r->id, slash + 1, msg);
    return TRUE;
}

/* ---- invitations ---- */

/* The room id of libpurple's chat name ("room@server" for prpl-jabber, the
 * channel on the account's server for the others), or NULL. */
static char *
room_id_of_name(CwPurpleSession *s, const char *name)
{
    if (!name)
        return NULL;
    if (is_jabber(s)) {
        const char *at = strrchr(name, '@');
        if (!at || at == name)
            return NULL;
        g_autofree char *room = g_strndup(name, at - name);
        return cw_purple_room_id_format(room, at + 1);
    }
    const char *server = account_server(s);
    return server ? cw_purple_room_id_format(name, server) : NULL;
}

/* chat-invited: told to the user as an invitation from the room (they accept
 * by joining it); libpurple is told no at once (-1: the plugin's reject_chat,
 * which prpl-jabber and prpl-irc do not have, so the inviter hears nothing),
 * since nothing here may wait for the user. */
static gint
on_chat_invited(PurpleAccount *account, const char *inviter, const char *name,
                const char *message, GHashTable *components, gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, account);
    if (!s)
        return 0;
    g_autofree char *room_id = room_id_of_name(s, name);
    if (!room_id) {
        g_info("%s: an invitation to %s, which is no room address here", cw_user_jid(s->user),
               name ? name : "?");
        return -1;
    }
    g_autofree char *who = inviter ? g_strdup(inviter) : NULL;
    const char *nick = NULL;
    char *slash = who && is_jabber(s) ? strchr(who, '/') : NULL;
    if (slash) {
        *slash = '\0';
        /* A semi-anonymous MUC names the inviter by its occupant JID
         * (room@service/nick): an occupant of that room; any other JID is
         * the inviter's own, whose bare JID is its contact. */
        if (!g_ascii_strcasecmp(who, name) && slash[1]) {
            nick = slash + 1;
            who[0] = '\0';
        }
    }
    const char *password = components ? g_hash_table_lookup(components, "password") : NULL;
    g_autofree char *reason = message && *message ? cw_purple_html_to_text(message) : NULL;
    g_info("%s: invited to %s", cw_user_jid(s->user), name);
    cw_legacy_room_invite(s->user, room_id, who && *who ? who : NULL, nick,
                          reason && *reason ? reason : NULL, password && *password ? password : NULL);
    return -1;
}

void
cw_purple_chats_invite(CwPurpleSession *s, const char *room_id, const char *who,
                       const char *reason)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r && r->state == ROOM_JOINED ? conv_of(r) : NULL;
    PurpleConnection *gc = cw_purple_accounts_connection(s);
    PurplePluginProtocolInfo *info = prpl_info_of(s);
    if (!conv || !gc) {
        cw_legacy_error(s->user, room_id, NULL, "not-acceptable", "You are not in this room.");
        return;
    }
    if (!info || !info->chat_invite) {
        cw_legacy_error(s->user, room_id, NULL, "feature-not-implemented",
                        "This legacy network has no invitations.");
        return;
    }
    g_autofree char *name = is_jabber(s) ? g_strdup(who) : cw_purple_buddies_name(s, who);
    if (!name || !*name || strpbrk(name, "\r\n")) {
        cw_legacy_error(s->user, room_id, NULL, "jid-malformed", "Not a contact to invite.");
        return;
    }
    g_info("%s: inviting someone to %s", cw_user_jid(s->user), r->name);
    serv_chat_invite(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), reason ? reason : "", name);
}

/* ---- moderation (the plugin's /kick and /ban commands) ---- */

static gboolean
has_command(PurpleConversation *conv, const char *command)
{
    GList *cmds = purple_cmd_list(conv);
    gboolean has = g_list_find_custom(cmds, command, (GCompareFunc)g_strcmp0) != NULL;
    g_list_free(cmds);
    return has;
}

/* Run the plugin's command line cmd (its first word is command, for the
 * error text). */
static gboolean
run_command(CwPurpleRoom *r, PurpleConversation *conv, const char *command, const char *cmd,
            GError **error)
{
    g_autofree char *markup = g_markup_escape_text(cmd, -1);
    char *err = NULL;
    PurpleCmdStatus st = purple_cmd_do_command(conv, cmd, markup, &err);
    gboolean ok = st == PURPLE_CMD_STATUS_OK;
    if (!ok) {
        int code = st == PURPLE_CMD_STATUS_NOT_FOUND || st == PURPLE_CMD_STATUS_WRONG_PRPL
                           || st == PURPLE_CMD_STATUS_WRONG_TYPE
                       ? CW_CONDITION_FEATURE_NOT_IMPLEMENTED
                   : st == PURPLE_CMD_STATUS_FAILED ? CW_CONDITION_ITEM_NOT_FOUND
                                                    : CW_CONDITION_NOT_ACCEPTABLE;
        g_set_error(error, CW_CONDITION_ERROR, code, "The legacy network's /%s failed%s%s.", command,
                    err ? ": " : "", err ? err : "");
    } else {
        g_info("%s: /%s in %s", cw_user_jid(r->s->user), command, r->name);
    }
    g_free(err);
    return ok;
}

static gboolean
moderate(CwPurpleSession *s, const char *room_id, const char *command, const char *who,
         const char *reason, GError **error)
{
    CwPurpleRoom *r = room_by_id(s, room_id);
    PurpleConversation *conv = r && r->state == ROOM_JOINED ? conv_of(r) : NULL;
    if (!conv || !cw_purple_accounts_connection(s)) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "You are not in this room on the legacy network (yet).");
        return FALSE;
    }
    gboolean ban = !strcmp(command, "ban");
    /* prpl-irc has no /ban: an IRC ban is a ban mask on the channel
     * (MODE +b NICK!*@*, through its /mode) and a kick when NICK is in. */
    gboolean irc_ban = ban && !has_command(conv, command) && is_irc(s) && has_command(conv, "mode");
    if (!irc_ban && !has_command(conv, command)) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_FEATURE_NOT_IMPLEMENTED,
                    "This legacy network has no %s command.", command);
        return FALSE;
    }
    /* What the network would refuse, refused here: it would tell libpurple
     * only (prpl-jabber sends its muc#admin request without waiting for the
     * answer). A kick needs a moderator, a ban an admin or owner (XEP-0045). */
    PurpleConvChat *chat = PURPLE_CONV_CHAT(conv);
    const char *mine = purple_conv_chat_get_nick(chat);
    PurpleConvChatBuddy *me = mine ? purple_conv_chat_cb_find(chat, mine) : NULL;
    PurpleConvChatBuddyFlags flags = me ? me->flags : PURPLE_CBFLAGS_NONE;
    gboolean may = ban ? cw_purple_room_affiliation(flags) >= CW_AFFILIATION_ADMIN
                       : cw_purple_room_role(flags) == CW_ROLE_MODERATOR;
    if (!may) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ALLOWED,
                    ban ? "Only the room's admins and owners may ban."
                        : "Only the room's moderators may kick.");
        return FALSE;
    }
    /* The command line splits on spaces: one word for whom */
    if (!who || !*who || strpbrk(who, " \t\r\n") || (reason && strpbrk(reason, "\r\n"))) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "This legacy network's /%s takes a name without spaces and a one-line reason.",
                    command);
        return FALSE;
    }
    if (irc_ban && strpbrk(who, "!@*?,")) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "An IRC ban through this gateway names a nick (not a mask or an address).");
        return FALSE;
    }
    gboolean in = purple_conv_chat_cb_find(chat, who) != NULL;
    if (!ban && !in) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "No occupant %s in this room.", who);
        return FALSE;
    }
    if (irc_ban) {
        g_autofree char *mode = g_strdup_printf("mode +b %s!*@*", who);
        if (!run_command(r, conv, "mode", mode, error))
            return FALSE;
        if (!in)
            return TRUE;
        command = "kick";
    }
    g_autofree char *cmd = reason ? g_strdup_printf("%s %s %s", command, who, reason)
                                  : g_strdup_printf("%s %s", command, who);
    return run_command(r, conv, command, cmd, error);
}

gboolean
cw_purple_chats_kick(CwPurpleSession *s, const char *room_id, const char *nick, const char *reason,
                     GError **error)
{
    return moderate(s, room_id, "kick", nick, reason, error);
}

gboolean
cw_purple_chats_ban(CwPurpleSession *s, const char *room_id, const char *who, const char *reason,
                    GError **error)
{
    return moderate(s, room_id, "ban", who, reason, error);
}

/* ---- room lists ---- */

static void
listing_finish(Listing *ls, const char *condition, const char *text)
{
    CwPurpleSession *s = ls->s;
    s->listings = g_list_remove(s->listings, ls);
    if (ls->timer)
        g_source_remove(ls->timer);
    if (ls->full)
        g_source_remove(ls->full);
    if (ls->rl) {
        PurpleRoomlist *rl = ls->rl;
        ls->rl = NULL;
        rl->ui_data = NULL;
        if (purple_roomlist_get_in_progress(rl))
            purple_roomlist_cancel_get_list(rl);
        purple_roomlist_unref(rl);
    }
    cw_room_list_done(ls->list, condition, text);
    g_free(ls->server);
    g_free(ls);
}

static gboolean
listing_timeout(gpointer data)
{
    Listing *ls = data;
    ls->timer = 0;
    if (ls->count)
        listing_finish(ls, NULL, NULL);
    else
        listing_finish(ls, "remote-server-timeout", "The legacy network did not list its rooms in time.");
    return G_SOURCE_REMOVE;
}

static gboolean
listing_full(gpointer data)
{
    Listing *ls = data;
    ls->full = 0;
    listing_finish(ls, NULL, NULL);
    return G_SOURCE_REMOVE;
}

static void
rl_add_room(PurpleRoomlist *rl, PurpleRoomlistRoom *room)
{
    Listing *ls = rl->ui_data;
    if (!ls || purple_roomlist_room_get_type(room) != PURPLE_ROOMLIST_ROOMTYPE_ROOM)
        return;
    if (ls->count >= ls->max)
        return;
    g_autofree char *id = cw_purple_room_id_format(purple_roomlist_room_get_name(room), ls->server);
    if (!id)
        return;
    const char *name = NULL;
    GList *f = purple_roomlist_get_fields(rl);
    GList *v = purple_roomlist_room_get_fields(room);
    for (; f && v; f = f->next, v = v->next) {
        PurpleRoomlistField *field = f->data;
        const char *fname = field->name;
        if (purple_roomlist_field_get_type(field) == PURPLE_ROOMLIST_FIELD_STRING && v->data
            && *(const char *)v->data
            && (!g_strcmp0(fname, "description") || !g_strcmp0(fname, "topic"))) {
            name = v->data;
            break;
        }
    }
    cw_room_list_add(ls->list, id, name);
    /* Enough: cancelled from idle (prpl-jabber adds its rooms in a loop
     * over the list it holds; cancelling inside would pull it away). */
    if (++ls->count >= ls->max && !ls->full)
        ls->full = g_idle_add(listing_full, ls);
}

static void
rl_in_progress(PurpleRoomlist *rl, gboolean in_progress)
{
    Listing *ls = rl->ui_data;
    if (ls && !in_progress)
        listing_finish(ls, NULL, NULL);
}

static void
rl_destroy(PurpleRoomlist *rl)
{
    Listing *ls = rl->ui_data;
    if (ls) {
        ls->rl = NULL;
        listing_finish(ls, NULL, NULL);
    }
}

static PurpleRoomlistUiOps roomlist_ops = {
    .add_room = rl_add_room,
    .in_progress = rl_in_progress,
    .destroy = rl_destroy,
};

void
cw_purple_chats_list(CwPurpleSession *s, const char *legacy_id, guint max_items, CwRoomList *list)
{
    PurpleConnection *gc = cw_purple_accounts_connection(s);
    PurplePluginProtocolInfo *info = prpl_info_of(s);
    if (!gc) {
        cw_room_list_done(list, "recipient-unavailable", "Not connected to the legacy network (yet).");
        return;
    }
    if (!info || !info->roomlist_get_list) {
        cw_room_list_done(list, "feature-not-implemented", "This legacy network lists no rooms.");
        return;
    }
    g_autofree char *probe = cw_purple_room_id_format("x", legacy_id);
    g_autofree char *why = NULL;
    if (!probe || !server_ok(s, legacy_id, &why)) {
        cw_room_list_done(list, "item-not-found",
                          why ? why : "Not a server of the legacy network: no rooms here.");
        return;
    }
    if (max_items == 0) {
        cw_room_list_done(list, NULL, NULL);
        return;
    }
    /* prpl-jabber asks which conference server to list: this one */
    if (is_jabber(s))
        cw_purple_core_answer_next_input(s->account, legacy_id);
    PurpleRoomlist *rl = purple_roomlist_get_list(gc);
    cw_purple_core_answer_next_input(NULL, NULL);
    if (!rl) {
        cw_room_list_done(list, "service-unavailable", "The legacy network did not list rooms.");
        return;
    }
    Listing *ls = g_new0(Listing, 1);
    ls->s = s;
    ls->list = list;
    ls->rl = rl;
    purple_roomlist_ref(rl);
    rl->ui_data = ls;
    ls->server = g_strdup(legacy_id);
    ls->max = max_items;
    s->listings = g_list_prepend(s->listings, ls);
    ls->timer = g_timeout_add(ROOM_LIST_TIMEOUT_MS, listing_timeout, ls);
}

void
cw_purple_chats_signals_connect(CwPurpleTransport *t)
{
    purple_roomlist_set_ui_ops(&roomlist_ops);
    void *convs = purple_conversations_get_handle();
    purple_signal_connect(convs, "chat-joined", t, PURPLE_CALLBACK(on_chat_joined), t);
    purple_signal_connect(convs, "chat-left", t, PURPLE_CALLBACK(on_chat_left), t);
    purple_signal_connect(convs, "chat-join-failed", t, PURPLE_CALLBACK(on_chat_join_failed), t);
    purple_signal_connect(convs, "chat-buddy-flags", t, PURPLE_CALLBACK(on_chat_buddy_flags), t);
    purple_signal_connect(convs, "chat-buddy-left", t, PURPLE_CALLBACK(on_chat_buddy_left), t);
    purple_signal_connect(convs, "chat-topic-changed", t, PURPLE_CALLBACK(on_chat_topic), t);
    purple_signal_connect(convs, "chat-invited", t, PURPLE_CALLBACK(on_chat_invited), t);
    purple_signal_connect(purple_connections_get_handle(), "signing-off", t,
                          PURPLE_CALLBACK(on_signing_off), t);
}

/* purple-core's events for chats (the UI ops without a signal) */
void
cw_purple_chats_event_renamed(PurpleConversation *conv, const char *old_name,
                              const char *new_name, gpointer data)
{
    on_chat_renamed(conv, old_name, new_name, data);
}

void
cw_purple_chats_event_write(PurpleConversation *conv, const char *who, const char *html,
                            PurpleMessageFlags flags, time_t mtime, gpointer data)
{
    on_chat_write(conv, who, html, flags, mtime, data);
}

void
cw_purple_chats_event_users_added(PurpleConversation *conv, GList *cbuddies,
                                  gboolean new_arrivals, gpointer data)
{
    on_chat_users_added(conv, cbuddies, new_arrivals, data);
}
