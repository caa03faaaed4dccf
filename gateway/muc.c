/* muc.c — XEP-0045 facade: per-user rooms, occupants, subject, history; both directions. */
#define G_LOG_DOMAIN "causeway"
#include "muc.h"

#include <causeway/jid.h>
#include <causeway/strpool.h>
#include <string.h>

#include "safetext.h"
#include "stanza.h"

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_DELAY "urn:xmpp:delay"
#define NS_SID "urn:xmpp:sid:0"
#define NS_CONFERENCE "jabber:x:conference"
#define MAX_INVITES 10 /* <invite/> elements acted on in one message */

/* How one occupant looks to the user: immutable and shared. Every user in
 * a channel of N people holds N occupants, mostly the very same N (same
 * role, affiliation and real JID): one pooled copy each instead of N^2. */
typedef struct {
    const char *real_jid; /* pooled (strpool.h), may be NULL */
    guint8 role;          /* CwRole */
    guint8 affiliation;   /* CwAffiliation */
    guint refs;
} Occupant;

static GHashTable *occupant_pool; /* Occupant* set */

static guint
occupant_hash(gconstpointer p)
{
    const Occupant *o = p;
    return (o->real_jid ? g_str_hash(o->real_jid) : 0) ^ ((guint)o->role << 8 | o->affiliation);
}

static gboolean
occupant_equal(gconstpointer a, gconstpointer b)
{
    const Occupant *x = a, *y = b;
    return x->role == y->role && x->affiliation == y->affiliation &&
           g_strcmp0(x->real_jid, y->real_jid) == 0;
}

static const Occupant *
occupant_ref(CwRole role, CwAffiliation affiliation, const char *real_jid)
{
    if (!occupant_pool)
        occupant_pool = g_hash_table_new(occupant_hash, occupant_equal);
    Occupant key = { .real_jid = real_jid, .role = role, .affiliation = affiliation };
    Occupant *o = g_hash_table_lookup(occupant_pool, &key);
    if (!o) {
        o = g_new0(Occupant, 1);
        o->real_jid = cw_str_ref(real_jid);
        o->role = role;
        o->affiliation = affiliation;
        g_hash_table_add(occupant_pool, o);
    }
    o->refs++;
    return o;
}

static void
occupant_unref(gpointer p)
{
    Occupant *o = p;
    if (--o->refs > 0)
        return;
    g_hash_table_remove(occupant_pool, o);
    cw_str_unref(o->real_jid);
    g_free(o);
    if (g_hash_table_size(occupant_pool) == 0)
        g_clear_pointer(&occupant_pool, g_hash_table_unref);
}

typedef struct {
    char *nick, *body, *id;
    gint64 timestamp_us;
} HistoryEntry;

typedef struct CwRoom CwRoom;

/* One room's occupants as every user in it sees them, for a transport whose
 * rooms look the same to everyone (ops->shared_rooms): one set per room id
 * instead of one per user (N users in a room of N: N sets of N). Each user's
 * CwRoom keeps only its own view: its nick, its self-presence, its resources.
 * Lives while some user has a room of that id. */
typedef struct {
    char *id;
    GHashTable *occupants; /* pooled nick -> pooled Occupant */
    GHashTable *rooms;     /* CwRoom* set: every user's room of this id */
} SharedRoom;

struct CwRoom {
    CwUser *user;         /* the owner (borrowed) */
    char *id;             /* legacy room id */
    char *jid;            /* bare room JID */
    char *nick;           /* ours: requested until joined, then the actual one */
    char *requested_nick;
    char *password;       /* the one joined with, or NULL */
    GHashTable *resources; /* full JIDs of the user's resources in the room */
    GHashTable *occupants; /* pooled nick -> pooled Occupant (others and ourselves);
                            * with shared, the shared set (borrowed) */
    SharedRoom *shared;    /* ops->shared_rooms: the room's one occupant set */
    const Occupant *self;  /* shared: how the user was last shown to itself (a reference) */
    char *subject, *subject_nick;
    GQueue history;        /* HistoryEntry, oldest first */
    gboolean joined;
    gboolean lost;         /* out for a while, the transport rejoins (cw_legacy_room_lost) */
};

static const char *const role_names[] = { "none", "visitor", "participant", "moderator" };
static const char *const affiliation_names[] = { "none", "member", "admin", "owner" };

static void
history_entry_free(gpointer p)
{
    HistoryEntry *h = p;
    g_free(h->nick);
    g_free(h->body);
    g_free(h->id);
    g_free(h);
}

static SharedRoom *
shared_lookup(CwGateway *gw, const char *room_id)
{
    return gw->ops->shared_rooms && gw->shared_rooms ? g_hash_table_lookup(gw->shared_rooms, room_id)
                                                     : NULL;
}

static void
shared_attach(CwRoom *room)
{
    CwGateway *gw = room->user->gw;
    if (!gw->shared_rooms)
        gw->shared_rooms = g_hash_table_new(g_str_hash, g_str_equal);
    SharedRoom *sh = g_hash_table_lookup(gw->shared_rooms, room->id);
    if (!sh) {
        sh = g_new0(SharedRoom, 1);
        sh->id = g_strdup(room->id);
        sh->occupants = g_hash_table_new_full(g_str_hash, g_str_equal, cw_str_unref_notify,
                                              occupant_unref);
        sh->rooms = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_insert(gw->shared_rooms, sh->id, sh);
    }
    g_hash_table_add(sh->rooms, room);
    room->shared = sh;
    room->occupants = sh->occupants;
}

static void
shared_detach(CwRoom *room)
{
    CwGateway *gw = room->user->gw;
    SharedRoom *sh = g_steal_pointer(&room->shared);
    room->occupants = NULL;
    g_hash_table_remove(sh->rooms, room);
    if (g_hash_table_size(sh->rooms) > 0)
        return;
    g_hash_table_remove(gw->shared_rooms, sh->id);
    g_hash_table_unref(sh->occupants);
    g_hash_table_unref(sh->rooms);
    g_free(sh->id);
    g_free(sh);
    if (g_hash_table_size(gw->shared_rooms) == 0)
        g_clear_pointer(&gw->shared_rooms, g_hash_table_unref);
}

/* Set the shared room's self occupant (a reference of its own; NULL clears). */
static void
room_set_self(CwRoom *room, const Occupant *o)
{
    const Occupant *old = room->self;
    room->self = o ? occupant_ref(o->role, o->affiliation, o->real_jid) : NULL;
    if (old)
        occupant_unref((gpointer)old);
}

/* How the user is shown to itself in room. */
static const Occupant *
room_self(CwRoom *room)
{
    if (room->shared && room->self)
        return room->self;
    return room->nick ? g_hash_table_lookup(room->occupants, room->nick) : NULL;
}

static void
room_free(gpointer p)
{
    CwRoom *room = p;
    if (room->shared)
        shared_detach(room);
    else
        g_hash_table_unref(room->occupants);
    room_set_self(room, NULL);
    g_free(room->id);
    g_free(room->jid);
    g_free(room->nick);
    g_free(room->requested_nick);
    g_free(room->password);
    g_hash_table_unref(room->resources);
    g_free(room->subject);
    g_free(room->subject_nick);
    g_queue_clear_full(&room->history, history_entry_free);
    g_free(room);
}

static GHashTable *
rooms_of(CwUser *user)
{
    if (!user->rooms)
        user->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    return user->rooms;
}

static CwRoom *
room_lookup(CwUser *user, const char *room_id)
{
    return user->rooms ? g_hash_table_lookup(user->rooms, room_id) : NULL;
}

/* A new room with one resource, joined on the legacy side. */
static CwRoom *
room_new(CwUser *user, const char *room_id, const char *room_jid, const char *nick,
         const char *password, const char *resource)
{
    CwRoom *room = g_new0(CwRoom, 1);
    room->user = user;
    room->id = g_strdup(room_id);
    room->jid = g_strdup(room_jid);
    room->nick = g_strdup(nick);
    room->requested_nick = g_strdup(nick);
    room->password = g_strdup(password);
    room->resources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (user->gw->ops->shared_rooms)
        shared_attach(room);
    else
        room->occupants = g_hash_table_new_full(g_str_hash, g_str_equal, cw_str_unref_notify,
                                                occupant_unref);
    g_queue_init(&room->history);
    g_hash_table_add(room->resources, g_strdup(resource));
    g_hash_table_insert(rooms_of(user), room->id, room);
    return room;
}

static void
room_join(CwUser *user, const char *room_id, const char *room_jid, const char *nick,
          const char *password, const char *resource)
{
    CwRoom *room = room_new(user, room_id, room_jid, nick, password, resource);
    user->gw->ops->join_room(user, room_id, nick, room->password);
}

/* ---- persistence: a registered user's rooms survive a restart ----
 * Which of the user's resources are in which room is stored while they are
 * there; after a restart (crash, kill, upgrade) a resource that comes back
 * online is put back into its rooms (see cw_muc_restore). Failures are
 * logged: the room works, it just would not come back by itself. */

static gboolean
persisted(CwUser *user)
{
    return user->registered && user->gw->store;
}

static void
store_warn(const char *what, GError *error)
{
    g_warning("store: %s: %s", what, error ? error->message : "unknown error");
}

static void
persist_room(CwUser *user, CwRoom *room)
{
    if (!persisted(user))
        return;
    g_autoptr(GError) error = NULL;
    if (!cw_store_room_add(user->gw->store, user->jid, room->jid, room->nick, room->password, &error)) {
        store_warn("keeping a room", error);
        return;
    }
    GHashTableIter it;
    gpointer resource;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &resource, NULL))
        if (!cw_store_room_resource_add(user->gw->store, user->jid, room->jid, resource, &error)) {
            store_warn("keeping a room's resource", error);
            return;
        }
}

static void
persist_resource_gone(CwUser *user, CwRoom *room, const char *resource)
{
    g_autoptr(GError) error = NULL;
    if (persisted(user) && (room->joined || room->lost) &&
        !cw_store_room_resource_remove(user->gw->store, user->jid, room->jid, resource, &error))
        store_warn("forgetting a room's resource", error);
}

static void
room_remove(CwUser *user, CwRoom *room)
{
    g_autoptr(GError) error = NULL;
    if (persisted(user) && !cw_store_room_remove(user->gw->store, user->jid, room->jid, &error))
        store_warn("forgetting a room", error);
    g_hash_table_remove(user->rooms, room->id);
}

gboolean
cw_muc_is_room_request(CwRequest *req, char **room_id)
{
    CwGateway *gw = req->gw;
    if (!req->to_node || !gw->ops->is_room)
        return FALSE;
    g_autofree char *legacy = cw_gateway_node_to_legacy(gw, req->to_node);
    if (!legacy || !gw->ops->is_room(gw, legacy))
        return FALSE;
    *room_id = g_steal_pointer(&legacy);
    return TRUE;
}

/* ---- stanzas to the user's joined resources ---- */

static xmpp_stanza_t *
occupant_presence(CwGateway *gw, CwRoom *room, const char *to, const char *nick, const Occupant *o,
                  gboolean unavailable, const int *codes, const char *new_nick, const char *reason)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    xmpp_stanza_t *p = cw_stanza_new(ctx, "presence", NULL);
    g_autofree char *from = g_strdup_printf("%s/%s", room->jid, nick);
    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    if (unavailable)
        xmpp_stanza_set_type(p, "unavailable");
    xmpp_stanza_t *x = cw_stanza_add_child(p, cw_stanza_new(ctx, "x", NS_MUC_USER));
    xmpp_stanza_t *item = cw_stanza_add_child(x, cw_stanza_new(ctx, "item", NULL));
    xmpp_stanza_set_attribute(item, "affiliation", affiliation_names[o ? o->affiliation : 0]);
    xmpp_stanza_set_attribute(item, "role", unavailable ? "none" : role_names[o ? o->role : 0]);
    if (o && o->real_jid)
        xmpp_stanza_set_attribute(item, "jid", o->real_jid);
    if (new_nick)
        xmpp_stanza_set_attribute(item, "nick", new_nick);
    if (reason)
        cw_stanza_add_text_child(item, "reason", NULL, reason);
    for (const int *c = codes; c && *c; c++) {
        xmpp_stanza_t *st = cw_stanza_add_child(x, cw_stanza_new(ctx, "status", NULL));
        char code[8];
        g_snprintf(code, sizeof code, "%d", *c);
        xmpp_stanza_set_attribute(st, "code", code);
    }
    return p;
}

/* The user's self-presence unavailable with 110 and 333 (XEP-0045: removed
 * for a technical reason) and status (may be NULL) to one resource. */
static void
send_self_lost(CwGateway *gw, CwRoom *room, const char *to, const char *status)
{
    static const int codes[] = { 110, 333, 0 };
    g_autoptr(xmpp_stanza_t) p = occupant_presence(gw, room, to, room->nick, NULL, TRUE, codes, NULL, NULL);
    if (status)
        cw_stanza_add_text_child(p, "status", NULL, status);
    cw_gateway_send(gw, p);
}

/* Send one occupant's presence to every joined resource (self codes added
 * when nick is ours). */
static void
broadcast_presence(CwUser *user, CwRoom *room, const char *nick, const Occupant *o,
                   gboolean unavailable, const int *codes, const int *self_codes,
                   const char *new_nick, const char *reason)
{
    gboolean self = g_strcmp0(nick, room->nick) == 0;
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL)) {
        g_autoptr(xmpp_stanza_t) p = occupant_presence(user->gw, room, to, nick, o, unavailable,
                                                       self ? self_codes : codes, new_nick, reason);
        cw_gateway_send(user->gw, p);
    }
}

static xmpp_stanza_t *
groupchat_message(CwGateway *gw, CwRoom *room, const char *to, const char *nick, const char *id)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    xmpp_stanza_t *m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_type(m, "groupchat");
    if (nick) {
        g_autofree char *from = g_strdup_printf("%s/%s", room->jid, nick);
        xmpp_stanza_set_from(m, from);
    } else {
        xmpp_stanza_set_from(m, room->jid);
    }
    xmpp_stanza_set_to(m, to);
    if (id)
        xmpp_stanza_set_id(m, id);
    return m;
}

static void
send_subject(CwGateway *gw, CwRoom *room, const char *to)
{
    g_autoptr(xmpp_stanza_t) m = groupchat_message(gw, room, to, room->subject_nick, NULL);
    cw_stanza_add_text_child(m, "subject", NULL, room->subject ? room->subject : "");
    cw_gateway_send(gw, m);
}

static void
send_history_entry(CwGateway *gw, CwRoom *room, const char *to, const HistoryEntry *h)
{
    g_autoptr(xmpp_stanza_t) m = groupchat_message(gw, room, to, h->nick, h->id);
    cw_stanza_add_text_child(m, "body", NULL, h->body);
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(h->timestamp_us / G_USEC_PER_SEC);
    g_autofree char *stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    xmpp_stanza_t *d = cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(gw), "delay", NS_DELAY));
    xmpp_stanza_set_attribute(d, "from", room->jid);
    xmpp_stanza_set_attribute(d, "stamp", stamp);
    cw_gateway_send(gw, m);
}

/* The whole join sequence for one resource (XEP-0045 §7.2). */
static void
send_room_state(CwUser *user, CwRoom *room, const char *to)
{
    CwGateway *gw = user->gw;
    GHashTableIter it;
    gpointer nick, value;
    g_hash_table_iter_init(&it, room->occupants);
    while (g_hash_table_iter_next(&it, &nick, &value)) {
        if (g_strcmp0(nick, room->nick) == 0)
            continue;
        g_autoptr(xmpp_stanza_t) p = occupant_presence(gw, room, to, nick, value, FALSE, NULL, NULL, NULL);
        cw_gateway_send(gw, p);
    }
    int codes[4] = { 100, 110, 0, 0 };
    if (room->requested_nick && g_strcmp0(room->requested_nick, room->nick) != 0)
        codes[2] = 210;
    g_autoptr(xmpp_stanza_t) self = occupant_presence(gw, room, to, room->nick, room_self(room),
                                                      FALSE, codes, NULL, NULL);
    cw_gateway_send(gw, self);
    for (GList *l = room->history.head; l; l = l->next)
        send_history_entry(gw, room, to, l->data);
    send_subject(gw, room, to);
}

static void
send_self_unavailable(CwUser *user, CwRoom *room, const char *to, const char *status)
{
    static const int codes[] = { 110, 0 };
    g_autoptr(xmpp_stanza_t) p = occupant_presence(user->gw, room, to, room->nick, NULL, TRUE, codes,
                                                   NULL, NULL);
    if (status)
        cw_stanza_add_text_child(p, "status", NULL, status);
    cw_gateway_send(user->gw, p);
}

/* ---- XMPP -> legacy ---- */

static void
presence_error(CwRequest *req, const char *condition, const char *text)
{
    cw_request_error(req, condition, text);
}

void
cw_muc_handle_presence(CwRequest *req, const char *room_id)
{
    CwGateway *gw = req->gw;
    CwUser *user = req->user;
    const char *type = req->type;
    CwRoom *room = room_lookup(user, room_id);

    if (!strcmp(type, "unavailable") || !strcmp(type, "error")) {
        if (!room || !g_hash_table_contains(room->resources, req->from))
            return;
        /* An error bounce means the resource is gone only when it answers
         * our own presence in the room; one about another occupant's
         * presence (the server refusing its JID, say) says nothing of it. */
        if (!strcmp(type, "error") && g_strcmp0(req->to_resource, room->nick) != 0 &&
            g_strcmp0(req->to_resource, room->requested_nick) != 0)
            return;
        if (!strcmp(type, "unavailable"))
            send_self_unavailable(user, room, req->from, NULL);
        persist_resource_gone(user, room, req->from);
        g_hash_table_remove(room->resources, req->from);
        if (g_hash_table_size(room->resources) == 0) {
            g_autofree char *status = cw_stanza_child_text(req->stanza, "status", NULL);
            g_autofree char *id = g_strdup(room->id);
            room_remove(user, room);
            if (gw->ops->leave_room)
                gw->ops->leave_room(user, id, status);
        }
        return;
    }
    if (*type) /* probe, subscribe...: rooms do not take part */
        return;

    const char *nick = req->to_resource;
    if (!nick || !*nick) {
        presence_error(req, "jid-malformed", "Join a room as room@service/nick.");
        return;
    }
    if (!gw->ops->join_room) {
        presence_error(req, "service-unavailable", NULL);
        return;
    }
    if (gw->requires_registration && !user->registered) {
        presence_error(req, "registration-required", "Register with the gateway first.");
        return;
    }
    g_autoptr(GError) limit = NULL;
    if (!room && !cw_limits_check(&gw->config->limits, CW_LIMIT_ROOMS, cw_muc_room_count(user), &limit)) {
        /* Refused here, so nothing of it reaches the legacy network. */
        presence_error(req, CW_LIMITS_CONDITION, limit->message);
        return;
    }
    if (!room) {
        g_autofree char *bare = cw_jid_make(req->to_node, cw_gateway_domain(gw), NULL);
        xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "x", NS_MUC);
        g_autofree char *password = x ? cw_stanza_child_text(x, "password", NULL) : NULL;
        room_join(user, room_id, bare, nick, password, req->from);
        return;
    }
    if (!g_hash_table_contains(room->resources, req->from)) {
        /* Another of the user's clients joins: it shares the legacy session. */
        g_hash_table_add(room->resources, g_strdup(req->from));
        if (room->joined) {
            send_room_state(user, room, req->from);
            persist_room(user, room);
        }
        return;
    }
    if (room->joined && g_strcmp0(nick, room->nick) != 0) {
        if (!gw->ops->change_nick) {
            presence_error(req, "not-acceptable", "Nick changes are not supported here.");
            return;
        }
        g_free(room->requested_nick);
        room->requested_nick = g_strdup(nick);
        gw->ops->change_nick(user, room_id, nick);
        return;
    }
    /* The same resource joins again with the same nick: its client lost
     * the room (a reconnect, e.g. after the server restarted) and waits
     * for the join sequence. */
    if (room->joined)
        send_room_state(user, room, req->from);
}

/* The legacy id of an invitee's JID (a contact of this gateway), or NULL
 * with *why set. */
static char *
invitee_legacy_id(CwGateway *gw, const char *jid, const char **why)
{
    g_autofree char *node = NULL, *domain = NULL;
    *why = "Only contacts of this gateway can be invited to its rooms.";
    if (!jid || !cw_jid_split(jid, &node, &domain, NULL) || !node
        || g_strcmp0(domain, cw_gateway_domain(gw)) != 0)
        return NULL;
    char *legacy = cw_gateway_node_to_legacy(gw, node);
    if (legacy && gw->ops->is_room && gw->ops->is_room(gw, legacy)) {
        *why = "A room cannot be invited.";
        g_clear_pointer(&legacy, g_free);
    }
    return legacy;
}

/* Refused before anything reaches the legacy network: *why says why. */
static gboolean
can_invite(CwRequest *req, CwRoom *room, const char **condition, const char **why)
{
    if (!req->gw->ops->invite) {
        *condition = "feature-not-implemented";
        *why = "This legacy network has no invitations.";
        return FALSE;
    }
    if (!room || !room->joined || !g_hash_table_contains(room->resources, req->from)) {
        *condition = "not-acceptable";
        *why = "Join the room before inviting someone.";
        return FALSE;
    }
    return TRUE;
}

/* XEP-0045 §7.8.2: <x xmlns='muc#user'><invite to='contact'><reason/></invite></x>. */
static void
mediated_invites(CwRequest *req, CwRoom *room, const char *room_id, xmpp_stanza_t *x)
{
    CwGateway *gw = req->gw;
    const char *condition, *why;
    if (!can_invite(req, room, &condition, &why)) {
        cw_request_error(req, condition, why);
        return;
    }
    guint n = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c && n < MAX_INVITES; c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!name || strcmp(name, "invite") != 0)
            continue;
        n++;
        g_autofree char *legacy = invitee_legacy_id(gw, xmpp_stanza_get_attribute(c, "to"), &why);
        if (!legacy) {
            cw_request_error(req, "item-not-found", why);
            return;
        }
        g_autofree char *reason = cw_stanza_child_text(c, "reason", NULL);
        gw->ops->invite(req->user, room_id, legacy, reason && *reason ? reason : NULL);
    }
}

gboolean
cw_muc_handle_direct_invite(CwRequest *req)
{
    CwGateway *gw = req->gw;
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "x", NS_CONFERENCE);
    if (!x || !req->to_node || !gw->ops->is_room)
        return FALSE;
    const char *room_jid = xmpp_stanza_get_attribute(x, "jid");
    g_autofree char *node = NULL, *domain = NULL;
    g_autofree char *room_id = room_jid && cw_jid_split(room_jid, &node, &domain, NULL) && node
                                   && !g_strcmp0(domain, cw_gateway_domain(gw))
                                   ? cw_gateway_node_to_legacy(gw, node) : NULL;
    if (!room_id || !gw->ops->is_room(gw, room_id)) {
        cw_request_error(req, "item-not-found",
                         "Only rooms of this gateway can be invited to by its contacts.");
        return TRUE;
    }
    const char *condition, *why;
    CwRoom *room = room_lookup(req->user, room_id);
    if (!can_invite(req, room, &condition, &why)) {
        cw_request_error(req, condition, why);
        return TRUE;
    }
    g_autofree char *legacy = invitee_legacy_id(gw, req->to, &why);
    if (!legacy) {
        cw_request_error(req, "item-not-found", why);
        return TRUE;
    }
    const char *reason = xmpp_stanza_get_attribute(x, "reason");
    gw->ops->invite(req->user, room_id, legacy, reason && *reason ? reason : NULL);
    return TRUE;
}

void
cw_muc_handle_message(CwRequest *req, const char *room_id)
{
    CwGateway *gw = req->gw;
    CwUser *user = req->user;
    if (!strcmp(req->type, "error"))
        return;
    CwRoom *room = room_lookup(user, room_id);
    g_autofree char *body = cw_stanza_child_text(req->stanza, "body", NULL);
    CwMessage msg = { .body = body, .id = xmpp_stanza_get_id(req->stanza) };

    if (req->to_resource) {
        /* A private message to an occupant. */
        if (!body || !*body)
            return;
        if (!gw->ops->send_private) {
            cw_request_error(req, "feature-not-implemented", "Private messages are not supported here.");
            return;
        }
        if (!room || !room->joined) {
            cw_request_error(req, "not-acceptable", "Join the room first.");
            return;
        }
        gw->ops->send_private(user, room_id, req->to_resource, &msg);
        return;
    }
    xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name_and_ns(req->stanza, "x", NS_MUC_USER);
    if (mx && xmpp_stanza_get_child_by_name(mx, "decline"))
        return; /* declining a legacy invitation: it was never accepted */
    if (mx && xmpp_stanza_get_child_by_name(mx, "invite")) {
        mediated_invites(req, room, room_id, mx);
        return;
    }
    if (!room || !room->joined || !g_hash_table_contains(room->resources, req->from)) {
        cw_request_error(req, "not-acceptable", "You are not in this room.");
        return;
    }
    xmpp_stanza_t *subject = xmpp_stanza_get_child_by_name(req->stanza, "subject");
    if (subject && !body) {
        if (!gw->ops->set_subject) {
            cw_request_error(req, "forbidden", "The subject cannot be changed here.");
            return;
        }
        g_autofree char *text = cw_stanza_child_text(req->stanza, "subject", NULL);
        gw->ops->set_subject(user, room_id, text);
        return;
    }
    if (!body || !*body)
        return;
    if (!gw->ops->send_groupchat) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    gw->ops->send_groupchat(user, room_id, &msg);
}

/* The nick or legacy id an outcast item names: its nick, else its jid (an
 * occupant's JID in the room: the nick; a contact of this gateway: its
 * legacy id; any other JID as it is, for a legacy network of JIDs). */
static char *
ban_target(CwRequest *req, CwRoom *room, xmpp_stanza_t *item)
{
    const char *nick = xmpp_stanza_get_attribute(item, "nick");
    if (nick && *nick)
        return g_strdup(nick);
    const char *jid = xmpp_stanza_get_attribute(item, "jid");
    g_autofree char *node = NULL, *domain = NULL, *resource = NULL;
    if (!jid || !cw_jid_split(jid, &node, &domain, &resource))
        return NULL;
    if (g_strcmp0(domain, cw_gateway_domain(req->gw)) != 0)
        return g_strdup(jid);
    g_autofree char *bare = cw_jid_bare(jid);
    if (resource && !g_strcmp0(bare, room->jid))
        return g_steal_pointer(&resource);
    return node ? invitee_legacy_id(req->gw, jid, &(const char *){ NULL }) : NULL;
}

void
cw_muc_handle_admin(CwRequest *req, const char *room_id)
{
    CwGateway *gw = req->gw;
    if (!strcmp(req->type, "get")) {
        cw_request_error(req, "feature-not-implemented",
                         "Member, admin, owner and outcast lists are not available through this gateway.");
        return;
    }
    CwRoom *room = room_lookup(req->user, room_id);
    if (!room || !room->joined || !g_hash_table_contains(room->resources, req->from)) {
        cw_request_error(req, "not-acceptable", "You are not in this room.");
        return;
    }
    guint n = 0;
    for (xmpp_stanza_t *item = xmpp_stanza_get_children(req->payload); item;
         item = xmpp_stanza_get_next(item)) {
        const char *name = xmpp_stanza_get_name(item);
        if (!name || strcmp(name, "item") != 0)
            continue;
        if (++n > MAX_INVITES) {
            cw_request_error(req, "policy-violation", "Too many items in one request.");
            return;
        }
        const char *role = xmpp_stanza_get_attribute(item, "role");
        const char *aff = xmpp_stanza_get_attribute(item, "affiliation");
        g_autofree char *reason = cw_stanza_child_text(item, "reason", NULL);
        if (reason && !*reason)
            g_clear_pointer(&reason, g_free);
        g_autoptr(GError) error = NULL;
        gboolean ok;
        if (!g_strcmp0(role, "none") && !aff) {
            const char *nick = xmpp_stanza_get_attribute(item, "nick");
            if (!nick || !*nick) {
                cw_request_error(req, "bad-request", "A kick names the occupant's nick.");
                return;
            }
            if (!gw->ops->kick) {
                cw_request_error(req, "feature-not-implemented", "This legacy network has no kicks.");
                return;
            }
            ok = gw->ops->kick(req->user, room_id, nick, reason, &error);
        } else if (!g_strcmp0(aff, "outcast") && !role) {
            g_autofree char *who = ban_target(req, room, item);
            if (!who) {
                cw_request_error(req, "bad-request", "A ban names a JID (or a nick).");
                return;
            }
            if (!gw->ops->ban) {
                cw_request_error(req, "feature-not-implemented", "This legacy network has no bans.");
                return;
            }
            ok = gw->ops->ban(req->user, room_id, who, reason, &error);
        } else {
            cw_request_error(req, "feature-not-implemented",
                             "Only kicks (role none) and bans (affiliation outcast) are available here.");
            return;
        }
        if (!ok) {
            cw_request_error(req, error ? cw_error_condition_for(error) : "undefined-condition",
                             error ? error->message : NULL);
            return;
        }
    }
    if (n == 0) {
        cw_request_error(req, "bad-request", "No item in the request.");
        return;
    }
    cw_request_result(req, NULL);
}

void
cw_muc_handle_owner(CwRequest *req, const char *room_id)
{
    (void)room_id;
    cw_request_error(req, "feature-not-implemented",
                     "Room configuration (and destruction) is not available through this gateway: "
                     "configure the room on the legacy network.");
}

void
cw_muc_handle_disco_info(CwRequest *req, const char *room_id)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(req->gw);
    xmpp_stanza_t *q = cw_stanza_new(ctx, "query", "http://jabber.org/protocol/disco#info");
    if (req->to_resource) {
        /* An occupant: XEP-0045 leaves it to the service; answer like a client. */
        xmpp_stanza_t *id = cw_stanza_add_child(q, cw_stanza_new(ctx, "identity", NULL));
        xmpp_stanza_set_attribute(id, "category", "client");
        xmpp_stanza_set_attribute(id, "type", "pc");
        cw_request_result(req, q);
        return;
    }
    xmpp_stanza_t *id = cw_stanza_add_child(q, cw_stanza_new(ctx, "identity", NULL));
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name", room_id);
    static const char *const features[] = {
        "http://jabber.org/protocol/disco#info", NS_MUC, "muc_nonanonymous", "muc_open",
        "muc_public", "muc_temporary", "muc_unmoderated", NS_SID,
        "http://jabber.org/protocol/muc#self-ping-optimization", "urn:xmpp:ping", NULL,
    };
    for (const char *const *f = features; *f; f++) {
        xmpp_stanza_t *feat = cw_stanza_add_child(q, cw_stanza_new(ctx, "feature", NULL));
        xmpp_stanza_set_attribute(feat, "var", *f);
    }
    cw_request_result(req, q);
}

void
cw_muc_handle_ping(CwRequest *req, const char *room_id)
{
    /* XEP-0410: answered here, never forwarded to a legacy user. */
    CwRoom *room = room_lookup(req->user, room_id);
    if (!req->to_resource) {
        cw_request_result(req, NULL);
        return;
    }
    if (room && room->joined && g_hash_table_contains(room->resources, req->from) &&
        g_strcmp0(room->nick, req->to_resource) == 0) {
        cw_request_result(req, NULL);
        return;
    }
    cw_request_error(req, "not-acceptable", "You are not joined to this room with that nick.");
}

void
cw_muc_user_offline(CwUser *user)
{
    if (!user->rooms)
        return;
    GList *ids = g_hash_table_get_keys(user->rooms);
    for (GList *l = ids; l; l = l->next) {
        g_autofree char *id = g_strdup(l->data);
        room_remove(user, room_lookup(user, id));
        if (user->gw->ops->leave_room)
            user->gw->ops->leave_room(user, id, NULL);
    }
    g_list_free(ids);
}

GList *
cw_muc_user_resources(CwUser *user)
{
    GList *out = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer value;
    if (user->rooms)
        g_hash_table_iter_init(&it, user->rooms);
    while (user->rooms && g_hash_table_iter_next(&it, NULL, &value)) {
        GHashTableIter rit;
        gpointer full;
        g_hash_table_iter_init(&rit, ((CwRoom *)value)->resources);
        while (g_hash_table_iter_next(&rit, &full, NULL)) {
            char *resource = cw_jid_resource(full);
            if (resource && g_hash_table_add(seen, g_strdup(resource)))
                out = g_list_prepend(out, resource);
            else
                g_free(resource);
        }
    }
    return out;
}

void
cw_muc_resource_lost(CwUser *user, const char *resource)
{
    if (!user->rooms)
        return;
    GList *ids = g_hash_table_get_keys(user->rooms);
    for (GList *l = ids; l; l = l->next) {
        CwRoom *room = room_lookup(user, l->data);
        GList *fulls = g_hash_table_get_keys(room->resources);
        for (GList *f = fulls; f; f = f->next) {
            g_autofree char *r = cw_jid_resource(f->data);
            if (g_strcmp0(r, resource) == 0)
                g_hash_table_remove(room->resources, f->data);
        }
        g_list_free(fulls);
        if (g_hash_table_size(room->resources) > 0)
            continue;
        /* The stored rows stay: the resource is put back when it returns. */
        g_autofree char *id = g_strdup(room->id);
        g_hash_table_remove(user->rooms, id);
        if (user->gw->ops->leave_room)
            user->gw->ops->leave_room(user, id, NULL);
    }
    g_list_free(ids);
}

void
cw_muc_user_disconnected(CwUser *user, const char *status)
{
    if (!user->rooms)
        return;
    /* Copies: leaving a room on the legacy side may call back into rooms. */
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, user->rooms);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(ids, g_strdup(key));
    for (guint i = 0; i < ids->len; i++) {
        const char *id = ids->pdata[i];
        CwRoom *room = room_lookup(user, id);
        if (!room)
            continue;
        GHashTableIter rit;
        gpointer to;
        g_hash_table_iter_init(&rit, room->resources);
        while (g_hash_table_iter_next(&rit, &to, NULL))
            send_self_unavailable(user, room, to, status);
        /* The stored rows stay: cw_muc_restore() rejoins at the return. */
        g_hash_table_remove(user->rooms, id);
        if (user->gw->ops->leave_room)
            user->gw->ops->leave_room(user, id, status);
    }
}

void
cw_muc_restore(CwUser *user, const char *resource)
{
    CwGateway *gw = user->gw;
    if (!persisted(user) || !gw->ops->join_room)
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) stored = cw_store_rooms_of_resource(gw->store, user->jid, resource, &error);
    if (!stored) {
        store_warn("reading a resource's rooms", error);
        return;
    }
    for (guint i = 0; i < stored->len; i++) {
        CwStoredRoom *r = stored->pdata[i];
        g_autofree char *node = NULL, *domain = NULL;
        g_autofree char *room_id = cw_jid_split(r->room_jid, &node, &domain, NULL) && node
                                       ? cw_gateway_node_to_legacy(gw, node) : NULL;
        if (!room_id || g_strcmp0(domain, cw_gateway_domain(gw)) != 0) {
            cw_store_room_remove(gw->store, user->jid, r->room_jid, NULL);
            continue;
        }
        /* What the client holds of the room (its occupants) went stale with
         * the process that told it (a crash says nothing): out for a
         * technical reason (333), and the whole join sequence follows once
         * the transport is in the room again. */
        static const char restarted[] = "The gateway restarted; back in the room once it has joined again.";
        CwRoom *room = room_lookup(user, room_id);
        if (room) {
            /* Already back (another resource restored it): join this one too. */
            if (!g_hash_table_contains(room->resources, resource)) {
                g_hash_table_add(room->resources, g_strdup(resource));
                send_self_lost(gw, room, resource, restarted);
                if (room->joined)
                    send_room_state(user, room, resource);
            }
            continue;
        }
        g_info("%s: putting %s back into %s after a restart", user->jid, resource, r->room_jid);
        room = room_new(user, room_id, r->room_jid, r->nick, r->password, resource);
        send_self_lost(gw, room, resource, restarted);
        gw->ops->join_room(user, room_id, r->nick, room->password);
    }
}

void
cw_muc_user_clear(CwUser *user)
{
    g_clear_pointer(&user->rooms, g_hash_table_unref);
}

guint
cw_muc_room_count(CwUser *user)
{
    return user->rooms ? g_hash_table_size(user->rooms) : 0;
}

/* ---- legacy -> XMPP (core.h) ---- */

/* Set nick's occupant (a NULL real_jid keeps the one known). */
static const Occupant *
occupant_set(CwRoom *room, const char *nick, CwRole role, CwAffiliation affiliation,
             const char *real_jid)
{
    const Occupant *old = g_hash_table_lookup(room->occupants, nick);
    const Occupant *o = occupant_ref(role, affiliation, real_jid ? real_jid : old ? old->real_jid : NULL);
    /* An existing key stays; the reference passed for it is dropped. */
    g_hash_table_insert(room->occupants, (gpointer)cw_str_ref(nick), (gpointer)o);
    return o;
}

void
cw_legacy_room_joined(CwUser *user, const char *room_id, const char *nick, CwRole role,
                      CwAffiliation affiliation)
{
    g_return_if_fail(user && room_id && nick);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    if (!nick)
        return;
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return; /* the user left meanwhile */
    g_free(room->nick);
    room->nick = g_strdup(nick);
    if (room->shared) {
        /* The user's own view; the shared set stays the transport's. */
        const Occupant *known = g_hash_table_lookup(room->occupants, nick);
        const Occupant *o = occupant_ref(role == CW_ROLE_NONE ? CW_ROLE_PARTICIPANT : role,
                                         affiliation, known ? known->real_jid : NULL);
        room_set_self(room, o);
        occupant_unref((gpointer)o);
    } else {
        occupant_set(room, nick, role == CW_ROLE_NONE ? CW_ROLE_PARTICIPANT : role, affiliation,
                     NULL);
    }
    room->joined = TRUE;
    room->lost = FALSE;
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL))
        send_room_state(user, room, to);
    g_free(room->requested_nick);
    room->requested_nick = g_strdup(nick);
    persist_room(user, room);
}

void
cw_legacy_room_join_failed(CwUser *user, const char *room_id, const char *condition,
                           const char *text)
{
    g_return_if_fail(user && room_id && condition);
    condition = cw_error_condition_checked(condition);
    cw_stanza_count_error(condition);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_TEXT_BOUNDARY(text, CW_TEXT_MAX_TEXT);
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    xmpp_ctx_t *ctx = cw_gateway_ctx(user->gw);
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL)) {
        g_autoptr(xmpp_stanza_t) p = cw_stanza_new(ctx, "presence", NULL);
        g_autofree char *from = g_strdup_printf("%s/%s", room->jid, room->requested_nick);
        xmpp_stanza_set_from(p, from);
        xmpp_stanza_set_to(p, to);
        xmpp_stanza_set_type(p, "error");
        cw_stanza_add_child(p, cw_stanza_new(ctx, "x", NS_MUC));
        xmpp_stanza_t *error = cw_stanza_add_child(p, cw_stanza_new(ctx, "error", NULL));
        xmpp_stanza_set_type(error, cw_error_type_for(condition));
        cw_stanza_add_child(error, cw_stanza_new(ctx, condition, CW_NS_STANZAS));
        if (text)
            cw_stanza_add_text_child(error, "text", CW_NS_STANZAS, text);
        cw_gateway_send(user->gw, p);
    }
    room_remove(user, room);
}

void
cw_legacy_room_left(CwUser *user, const char *room_id, const char *status)
{
    g_return_if_fail(user && room_id);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_TEXT_BOUNDARY(status, CW_TEXT_MAX_TEXT);
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL))
        send_self_unavailable(user, room, to, status);
    room_remove(user, room);
}

void
cw_legacy_room_lost(CwUser *user, const char *room_id, const char *status)
{
    g_return_if_fail(user && room_id);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_TEXT_BOUNDARY(status, CW_TEXT_MAX_TEXT);
    CwRoom *room = room_lookup(user, room_id);
    if (!room || !room->joined)
        return;
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL))
        send_self_lost(user->gw, room, to, status);
    room->joined = FALSE;
    room->lost = TRUE;
    g_free(room->requested_nick);
    room->requested_nick = g_strdup(room->nick);
    if (room->shared)
        room_set_self(room, NULL); /* the set is the others' too */
    else
        g_hash_table_remove_all(room->occupants);
    g_queue_clear_full(&room->history, history_entry_free);
    g_queue_init(&room->history);
}

void
cw_legacy_room_invite(CwUser *user, const char *room_id, const char *inviter_id,
                      const char *inviter_nick, const char *reason, const char *password)
{
    g_return_if_fail(user && room_id);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_ID_BOUNDARY(inviter_id);
    CW_NICK_BOUNDARY(inviter_nick);
    CW_TEXT_BOUNDARY(reason, CW_TEXT_MAX_TEXT);
    CW_TEXT_BOUNDARY(password, CW_TEXT_MAX_NAME);
    CwGateway *gw = user->gw;
    g_autofree char *room_jid = cw_legacy_id_to_jid(gw, room_id);
    if (!room_jid || !cw_jid_is_valid(room_jid))
        return;
    g_autofree char *inviter = inviter_id     ? cw_legacy_id_to_jid(gw, inviter_id)
                               : inviter_nick ? g_strconcat(room_jid, "/", inviter_nick, NULL)
                                              : NULL;
    if (inviter && !cw_jid_is_valid(inviter))
        g_clear_pointer(&inviter, g_free);
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_from(m, room_jid);
    xmpp_stanza_set_to(m, user->jid);
    char *uuid = xmpp_uuid_gen(ctx);
    xmpp_stanza_set_id(m, uuid);
    xmpp_free(ctx, uuid);
    g_autofree char *body = g_strdup_printf("%s invites you to the room %s%s%s", inviter ? inviter : "Someone",
                                            room_jid, reason ? ": " : ".", reason ? reason : "");
    cw_stanza_add_text_child(m, "body", NULL, body);
    xmpp_stanza_t *x = cw_stanza_add_child(m, cw_stanza_new(ctx, "x", NS_MUC_USER));
    xmpp_stanza_t *inv = cw_stanza_add_child(x, cw_stanza_new(ctx, "invite", NULL));
    if (inviter)
        xmpp_stanza_set_attribute(inv, "from", inviter);
    if (reason)
        cw_stanza_add_text_child(inv, "reason", NULL, reason);
    if (password)
        cw_stanza_add_text_child(x, "password", NULL, password);
    cw_gateway_send(gw, m);
}

/* ---- occupants: one user's room, or every user's room of a shared set ---- */

static void
send_occupant_left(CwRoom *room, const char *nick, const Occupant *o, const char *status)
{
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL)) {
        g_autoptr(xmpp_stanza_t) p = occupant_presence(room->user->gw, room, to, nick, o, TRUE, NULL,
                                                       NULL, NULL);
        if (status)
            cw_stanza_add_text_child(p, "status", NULL, status);
        cw_gateway_send(room->user->gw, p);
    }
}

/* old_nick is now new_nick in room (its table already changed): 303 then
 * the new presence; the room's own nick follows when it was old_nick. */
static void
room_renamed(CwRoom *room, const char *old_nick, const char *new_nick, const Occupant *o)
{
    CwUser *user = room->user;
    gboolean self = g_strcmp0(old_nick, room->nick) == 0;
    if (self)
        o = room_self(room) ? room_self(room) : o;
    if (room->joined) {
        static const int codes[] = { 303, 0 };
        static const int self_codes[] = { 303, 110, 0 };
        broadcast_presence(user, room, old_nick, o, TRUE, codes, self_codes, new_nick, NULL);
    }
    if (self) {
        g_free(room->nick);
        room->nick = g_strdup(new_nick);
        if (room->joined)
            persist_room(user, room);
    }
    if (room->joined) {
        static const int self_codes[] = { 110, 0 };
        broadcast_presence(user, room, new_nick, o, FALSE, NULL, self_codes, NULL, NULL);
    }
}

static void
send_kick(CwRoom *room, const char *nick, const Occupant *o, gboolean self, const char *actor,
          const char *reason)
{
    CwUser *user = room->user;
    static const int codes[] = { 307, 0 };
    static const int self_codes[] = { 307, 110, 0 };
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL)) {
        g_autoptr(xmpp_stanza_t) p = occupant_presence(user->gw, room, to, nick, o, TRUE,
                                                       self ? self_codes : codes, NULL, reason);
        if (actor && *actor) {
            /* XEP-0045 §8.2: who kicked, by the name the legacy network gives */
            xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(p, "x", NS_MUC_USER);
            xmpp_stanza_t *item = x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;
            xmpp_stanza_t *a = item ? cw_stanza_add_child(item, cw_stanza_new(cw_gateway_ctx(user->gw),
                                                                              "actor", NULL)) : NULL;
            if (a)
                xmpp_stanza_set_attribute(a, "nick", actor);
        }
        cw_gateway_send(user->gw, p);
    }
}

/* Is room, of a shared set, the user whose own nick is nick? */
static gboolean
is_own(CwRoom *room, const char *nick)
{
    return room->joined && g_strcmp0(room->nick, nick) == 0;
}

static void
shared_joined(SharedRoom *sh, const char *nick, CwRole role, CwAffiliation affiliation,
              const char *real_jid)
{
    const Occupant *old = g_hash_table_lookup(sh->occupants, nick);
    const Occupant *o = occupant_ref(role, affiliation, real_jid ? real_jid : old ? old->real_jid : NULL);
    if (o == old) { /* pooled: the same occupant, nothing changed */
        occupant_unref((gpointer)o);
        return;
    }
    g_hash_table_insert(sh->occupants, (gpointer)cw_str_ref(nick), (gpointer)o);
    static const int self_codes[] = { 110, 0 };
    GHashTableIter it;
    gpointer p;
    g_hash_table_iter_init(&it, sh->rooms);
    while (g_hash_table_iter_next(&it, &p, NULL)) {
        CwRoom *room = p;
        if (!room->joined)
            continue;
        if (is_own(room, nick)) {
            if (room->self == o)
                continue; /* the user knows (its own join or mode came first) */
            room_set_self(room, o);
        }
        broadcast_presence(room->user, room, nick, o, FALSE, NULL, self_codes, NULL, NULL);
    }
}

static void
shared_left(SharedRoom *sh, const char *nick, const char *status)
{
    const Occupant *o = g_hash_table_lookup(sh->occupants, nick);
    if (!o)
        return;
    GHashTableIter it;
    gpointer p;
    g_hash_table_iter_init(&it, sh->rooms);
    while (g_hash_table_iter_next(&it, &p, NULL)) {
        CwRoom *room = p;
        if (room->joined && !is_own(room, nick)) /* the user's own leave: cw_legacy_room_left */
            send_occupant_left(room, nick, o, status);
    }
    g_hash_table_remove(sh->occupants, nick);
}

static void
shared_renamed(SharedRoom *sh, CwRoom *mine, const char *old_nick, const char *new_nick)
{
    gpointer key, value;
    if (!g_hash_table_steal_extended(sh->occupants, old_nick, &key, &value)) {
        /* Not in the set (told already, or the user's own nick not yet
         * reported): only the caller's own rename is left to tell. */
        if (mine && is_own(mine, old_nick))
            room_renamed(mine, old_nick, new_nick, NULL);
        return;
    }
    cw_str_unref(key);
    const Occupant *o = value;
    g_hash_table_insert(sh->occupants, (gpointer)cw_str_ref(new_nick), (gpointer)o);
    GHashTableIter it;
    gpointer p;
    g_hash_table_iter_init(&it, sh->rooms);
    while (g_hash_table_iter_next(&it, &p, NULL)) {
        CwRoom *room = p;
        if (room->joined && !is_own(room, new_nick)) /* renamed itself already */
            room_renamed(room, old_nick, new_nick, o);
    }
}

static void
shared_kicked(SharedRoom *sh, const char *nick, const char *actor, const char *reason)
{
    const Occupant *o = g_hash_table_lookup(sh->occupants, nick);
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    GHashTableIter it;
    gpointer p;
    g_hash_table_iter_init(&it, sh->rooms);
    while (g_hash_table_iter_next(&it, &p, NULL)) {
        CwRoom *room = p;
        gboolean self = is_own(room, nick);
        if (!room->joined || (!o && !self))
            continue;
        send_kick(room, nick, self ? room_self(room) : o, self, actor, reason);
        if (self)
            g_ptr_array_add(out, room);
    }
    g_hash_table_remove(sh->occupants, nick);
    for (guint i = 0; i < out->len; i++) {
        CwRoom *room = out->pdata[i];
        room_remove(room->user, room); /* may free sh: it is not used after */
    }
}

guint
cw_legacy_room_occupant_count(CwUser *user, const char *room_id)
{
    g_return_val_if_fail(user && room_id, 0);
    if (user->gw->ops->shared_rooms) {
        SharedRoom *sh = shared_lookup(user->gw, room_id);
        return sh ? g_hash_table_size(sh->occupants) : 0;
    }
    CwRoom *room = room_lookup(user, room_id);
    return room ? g_hash_table_size(room->occupants) : 0;
}

void
cw_legacy_occupant_joined(CwUser *user, const char *room_id, const char *nick, CwRole role,
                          CwAffiliation affiliation, const char *real_id)
{
    g_return_if_fail(user && room_id && nick);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    if (!nick)
        return;
    CW_ID_BOUNDARY(real_id);
    if (user->gw->ops->shared_rooms) {
        SharedRoom *sh = shared_lookup(user->gw, room_id);
        if (!sh)
            return; /* nobody is in the room */
        g_autofree char *real_jid = real_id ? cw_legacy_id_to_jid(user->gw, real_id) : NULL;
        shared_joined(sh, nick, role == CW_ROLE_NONE ? CW_ROLE_PARTICIPANT : role, affiliation,
                      real_jid);
        return;
    }
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    g_autofree char *real_jid = real_id ? cw_legacy_id_to_jid(user->gw, real_id) : NULL;
    const Occupant *o = occupant_set(room, nick, role == CW_ROLE_NONE ? CW_ROLE_PARTICIPANT : role,
                                     affiliation, real_jid);
    if (room->joined) {
        static const int self_codes[] = { 110, 0 };
        broadcast_presence(user, room, nick, o, FALSE, NULL, self_codes, NULL, NULL);
    }
}

void
cw_legacy_occupant_left(CwUser *user, const char *room_id, const char *nick, const char *status)
{
    g_return_if_fail(user && room_id && nick);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    if (!nick)
        return;
    CW_TEXT_BOUNDARY(status, CW_TEXT_MAX_TEXT);
    if (user->gw->ops->shared_rooms) {
        SharedRoom *sh = shared_lookup(user->gw, room_id);
        if (sh)
            shared_left(sh, nick, status);
        return;
    }
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    const Occupant *o = g_hash_table_lookup(room->occupants, nick);
    if (!o)
        return;
    if (room->joined)
        send_occupant_left(room, nick, o, status);
    g_hash_table_remove(room->occupants, nick);
}

void
cw_legacy_occupant_renamed(CwUser *user, const char *room_id, const char *old_nick,
                           const char *new_nick)
{
    g_return_if_fail(user && room_id && old_nick && new_nick);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(old_nick);
    if (!old_nick)
        return;
    CW_NICK_BOUNDARY(new_nick);
    if (!new_nick)
        return;
    if (user->gw->ops->shared_rooms) {
        SharedRoom *sh = shared_lookup(user->gw, room_id);
        if (sh)
            shared_renamed(sh, room_lookup(user, room_id), old_nick, new_nick);
        return;
    }
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    gpointer key, value;
    if (!g_hash_table_steal_extended(room->occupants, old_nick, &key, &value))
        return;
    cw_str_unref(key);
    const Occupant *o = value;
    g_hash_table_insert(room->occupants, (gpointer)cw_str_ref(new_nick), (gpointer)o);
    room_renamed(room, old_nick, new_nick, o);
}

void
cw_legacy_occupant_kicked(CwUser *user, const char *room_id, const char *nick, const char *actor,
                          const char *reason)
{
    g_return_if_fail(user && room_id && nick);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    if (!nick)
        return;
    CW_TEXT_BOUNDARY(actor, CW_TEXT_MAX_NAME);
    CW_TEXT_BOUNDARY(reason, CW_TEXT_MAX_TEXT);
    if (user->gw->ops->shared_rooms) {
        SharedRoom *sh = shared_lookup(user->gw, room_id);
        if (sh)
            shared_kicked(sh, nick, actor, reason);
        return;
    }
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    const Occupant *o = g_hash_table_lookup(room->occupants, nick);
    gboolean self = g_strcmp0(nick, room->nick) == 0;
    if (room->joined)
        send_kick(room, nick, o, self, actor, reason);
    if (self)
        room_remove(user, room);
    else
        g_hash_table_remove(room->occupants, nick);
}

void
cw_legacy_room_subject(CwUser *user, const char *room_id, const char *nick, const char *subject)
{
    g_return_if_fail(user && room_id);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    CW_TEXT_BOUNDARY(subject, CW_TEXT_MAX_TEXT);
    CwRoom *room = room_lookup(user, room_id);
    if (!room)
        return;
    g_free(room->subject);
    room->subject = g_strdup(subject ? subject : "");
    g_free(room->subject_nick);
    room->subject_nick = g_strdup(nick);
    if (!room->joined)
        return;
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL))
        send_subject(user->gw, room, to);
}

void
cw_legacy_room_message(CwUser *user, const char *room_id, const char *nick, const CwMessage *msg)
{
    g_return_if_fail(user && room_id && msg && msg->body);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    CW_MESSAGE_BOUNDARY(msg);
    CwRoom *room = room_lookup(user, room_id);
    if (!room || !room->joined)
        return;
    CwGateway *gw = user->gw;
    /* A short XEP-0359 stanza-id (cw_short_id: 9-12 characters instead of a
     * 36-character UUID), also the message id unless the line reflects an
     * XMPP user's own message, whose id the client matches. */
    char sid[CW_SHORT_ID_SIZE];
    cw_short_id(sid);
    g_autofree char *stamp = NULL;
    if (msg->timestamp) {
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(msg->timestamp / G_USEC_PER_SEC);
        stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    }
    /* One stanza per user per line in every channel: the hottest path,
     * written as text (no libstrophe tree). */
    GHashTableIter it;
    gpointer to;
    g_hash_table_iter_init(&it, room->resources);
    while (g_hash_table_iter_next(&it, &to, NULL)) {
        GString *out = cw_gateway_begin_xml(gw);
        if (!out)
            break;
        g_string_append(out, "<message type=\"groupchat\" from=\"");
        cw_xml_append_escaped(out, room->jid, TRUE);
        if (nick) {
            g_string_append_c(out, '/');
            cw_xml_append_escaped(out, nick, TRUE);
        }
        g_string_append_c(out, '"');
        cw_xml_append_attr(out, "to", to);
        cw_xml_append_attr(out, "id", msg->id ? msg->id : sid);
        g_string_append(out, "><body>");
        cw_xml_append_escaped(out, msg->body, FALSE);
        g_string_append(out, "</body><stanza-id xmlns=\"" NS_SID "\"");
        cw_xml_append_attr(out, "id", sid);
        cw_xml_append_attr(out, "by", room->jid);
        g_string_append(out, "/>");
        if (stamp) {
            g_string_append(out, "<delay xmlns=\"" NS_DELAY "\"");
            cw_xml_append_attr(out, "from", room->jid);
            cw_xml_append_attr(out, "stamp", stamp);
            g_string_append(out, "/>");
        }
        g_string_append(out, "</message>");
        cw_gateway_end_xml(gw);
    }

    if (gw->room_history_max == 0)
        return;
    HistoryEntry *h = g_new0(HistoryEntry, 1);
    h->nick = g_strdup(nick);
    h->body = g_strdup(msg->body);
    h->timestamp_us = msg->timestamp ? msg->timestamp : g_get_real_time();
    g_queue_push_tail(&room->history, h);
    while (room->history.length > gw->room_history_max)
        history_entry_free(g_queue_pop_head(&room->history));
}

void
cw_legacy_room_private(CwUser *user, const char *room_id, const char *nick, const CwMessage *msg)
{
    g_return_if_fail(user && room_id && nick && msg && msg->body);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_NICK_BOUNDARY(nick);
    if (!nick)
        return;
    CW_MESSAGE_BOUNDARY(msg);
    CwRoom *room = room_lookup(user, room_id);
    CwGateway *gw = user->gw;
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autofree char *room_jid = cw_legacy_id_to_jid(gw, room_id);
    if (!room && !room_jid)
        return; /* an id no JID can carry */
    g_autofree char *from = g_strdup_printf("%s/%s", room ? room->jid : room_jid, nick);
    g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_type(m, "chat");
    xmpp_stanza_set_from(m, from);
    xmpp_stanza_set_to(m, user->jid);
    char *uuid = xmpp_uuid_gen(ctx);
    xmpp_stanza_set_id(m, msg->id ? msg->id : uuid);
    xmpp_free(ctx, uuid);
    cw_stanza_add_text_child(m, "body", NULL, msg->body);
    cw_stanza_add_child(m, cw_stanza_new(ctx, "x", NS_MUC_USER));
    cw_gateway_send(gw, m);
}

void
cw_gateway_set_room_history(CwGateway *gw, guint max_messages)
{
    gw->room_history_max = max_messages;
}

/* ---- room listings ---- */

struct CwRoomList {
    CwGateway *gw;
    xmpp_stanza_t *request; /* a copy of the disco#items iq */
    xmpp_stanza_t *query;
};

CwRoomList *
cw_room_list_new(CwRequest *req)
{
    CwRoomList *list = g_new0(CwRoomList, 1);
    list->gw = req->gw;
    list->request = xmpp_stanza_copy(req->stanza);
    list->query = cw_stanza_new(cw_gateway_ctx(req->gw), "query",
                                "http://jabber.org/protocol/disco#items");
    return list;
}

void
cw_room_list_add(CwRoomList *list, const char *room_id, const char *name)
{
    g_return_if_fail(list && room_id);
    CW_ID_BOUNDARY(room_id);
    if (!room_id)
        return;
    CW_TEXT_BOUNDARY(name, CW_TEXT_MAX_TEXT);
    g_autofree char *jid = cw_legacy_id_to_jid(list->gw, room_id);
    if (!jid || !cw_jid_is_valid(jid))
        return;
    xmpp_stanza_t *item = cw_stanza_add_child(list->query,
                                              cw_stanza_new(cw_gateway_ctx(list->gw), "item", NULL));
    xmpp_stanza_set_attribute(item, "jid", jid);
    if (name && g_utf8_validate(name, -1, NULL))
        xmpp_stanza_set_attribute(item, "name", name);
}

void
cw_room_list_done(CwRoomList *list, const char *condition, const char *text)
{
    g_return_if_fail(list);
    CW_TEXT_BOUNDARY(text, CW_TEXT_MAX_TEXT);
    if (condition) {
        g_autoptr(xmpp_stanza_t) reply = cw_reply_error(list->request, condition, text);
        if (reply)
            cw_gateway_send(list->gw, reply);
        xmpp_stanza_release(list->query);
    } else {
        g_autoptr(xmpp_stanza_t) reply = cw_iq_result(list->request);
        cw_stanza_add_child(reply, list->query);
        cw_gateway_send(list->gw, reply);
    }
    xmpp_stanza_release(list->request);
    g_free(list);
}

GList *
cw_muc_room_resources(CwUser *user, const char *room_id)
{
    CwRoom *room = room_lookup(user, room_id);
    return room ? g_hash_table_get_keys(room->resources) : NULL;
}
