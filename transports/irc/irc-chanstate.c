/* irc-chanstate.c — the shared member table of an IRC channel, its leader and its lifetime. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-chanstate.h"

#include <causeway/strpool.h>
#include <string.h>

#include "irc-address.h"

struct CwIrcChanState {
    char *key;             /* server '\n' casefolded channel: the registry's key */
    guint refs;            /* attached channels */
    GHashTable *members;   /* pooled nick -> pooled prefix */
    GPtrArray *ready;      /* attached members whose connection is in the channel */
    gpointer leader;       /* one of ready, or NULL */
    GHashTable *room_ids;  /* room id -> GUINT_TO_POINTER(channels using it) */
    CwIrcChanStateResync resync;
    guint resync_id;       /* idle: ask the new leader for NAMES */
    gboolean capped;       /* CW_IRC_CHANNEL_MAX_MEMBERS reached (told once) */
};

static GHashTable *registry; /* key -> CwIrcChanState */

GHashTable *
cw_irc_member_table_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, cw_str_unref_notify, cw_str_unref_notify);
}

static void
chanstate_free(CwIrcChanState *st)
{
    g_clear_handle_id(&st->resync_id, g_source_remove);
    g_hash_table_unref(st->members);
    g_ptr_array_unref(st->ready);
    g_hash_table_unref(st->room_ids);
    g_free(st->key);
    g_free(st);
}

CwIrcChanState *
cw_irc_chanstate_attach(const char *server, const char *channel, const char *room_id,
                        gpointer member, CwIrcChanStateResync resync)
{
    g_return_val_if_fail(server && channel && room_id && member, NULL);
    g_autofree char *folded = cw_irc_casefold(channel);
    g_autofree char *key = g_strdup_printf("%s\n%s", server, folded);
    if (!registry)
        registry = g_hash_table_new(g_str_hash, g_str_equal);
    CwIrcChanState *st = g_hash_table_lookup(registry, key);
    if (!st) {
        st = g_new0(CwIrcChanState, 1);
        st->key = g_steal_pointer(&key);
        st->members = cw_irc_member_table_new();
        st->ready = g_ptr_array_new();
        st->room_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        st->resync = resync;
        g_hash_table_insert(registry, st->key, st);
    }
    st->refs++;
    guint uses = GPOINTER_TO_UINT(g_hash_table_lookup(st->room_ids, room_id));
    g_hash_table_replace(st->room_ids, g_strdup(room_id), GUINT_TO_POINTER(uses + 1));
    return st;
}

static gboolean
on_resync(gpointer data)
{
    CwIrcChanState *st = data;
    st->resync_id = 0;
    if (st->leader && st->resync)
        st->resync(st->leader);
    return G_SOURCE_REMOVE;
}

/* The lead is free: hand it to a ready member, which then resyncs. */
static void
hand_over(CwIrcChanState *st)
{
    st->leader = st->ready->len ? g_ptr_array_index(st->ready, st->ready->len - 1) : NULL;
    if (st->leader && !st->resync_id)
        st->resync_id = g_idle_add(on_resync, st);
}

void
cw_irc_chanstate_request_resync(CwIrcChanState *st)
{
    g_return_if_fail(st);
    if (st->leader && !st->resync_id)
        st->resync_id = g_idle_add(on_resync, st);
}

void
cw_irc_chanstate_set_ready(CwIrcChanState *st, gpointer member, gboolean ready)
{
    g_return_if_fail(st && member);
    gboolean was = g_ptr_array_find(st->ready, member, NULL);
    if (ready && !was) {
        g_ptr_array_add(st->ready, member);
    } else if (!ready && was) {
        g_ptr_array_remove_fast(st->ready, member);
        if (st->leader == member)
            hand_over(st);
    }
}

void
cw_irc_chanstate_detach(CwIrcChanState *st, gpointer member, const char *room_id)
{
    g_return_if_fail(st && member && st->refs > 0);
    cw_irc_chanstate_set_ready(st, member, FALSE);
    if (st->leader == member)
        hand_over(st); /* defensive: a leader is always ready */
    guint uses = GPOINTER_TO_UINT(g_hash_table_lookup(st->room_ids, room_id));
    if (uses > 1)
        g_hash_table_replace(st->room_ids, g_strdup(room_id), GUINT_TO_POINTER(uses - 1));
    else
        g_hash_table_remove(st->room_ids, room_id);
    if (--st->refs > 0)
        return;
    g_hash_table_remove(registry, st->key);
    chanstate_free(st);
    if (g_hash_table_size(registry) == 0)
        g_clear_pointer(&registry, g_hash_table_unref);
}

gboolean
cw_irc_chanstate_claim(CwIrcChanState *st, gpointer member)
{
    g_return_val_if_fail(st && member, FALSE);
    if (!st->leader) {
        if (!g_ptr_array_find(st->ready, member, NULL))
            g_ptr_array_add(st->ready, member);
        st->leader = member;
    }
    return st->leader == member;
}

gboolean
cw_irc_chanstate_is_leader(const CwIrcChanState *st, gconstpointer member)
{
    return st && member && st->leader == member;
}

gpointer
cw_irc_chanstate_leader(const CwIrcChanState *st)
{
    return st ? st->leader : NULL;
}

GHashTable *
cw_irc_chanstate_room_ids(CwIrcChanState *st)
{
    return st->room_ids;
}

const char *
cw_irc_chanstate_prefix(const CwIrcChanState *st, const char *nick)
{
    return nick ? g_hash_table_lookup(st->members, nick) : NULL;
}

guint
cw_irc_chanstate_size(const CwIrcChanState *st)
{
    return g_hash_table_size(st->members);
}

GHashTable *
cw_irc_chanstate_members(CwIrcChanState *st)
{
    return st->members;
}

gboolean
cw_irc_chanstate_set(CwIrcChanState *st, const char *nick, const char *prefix, gboolean *capped)
{
    g_return_val_if_fail(st && nick && prefix, FALSE);
    const char *old = g_hash_table_lookup(st->members, nick);
    if (old && strcmp(old, prefix) == 0)
        return FALSE;
    if (!old && g_hash_table_size(st->members) >= CW_IRC_CHANNEL_MAX_MEMBERS) {
        if (capped && !st->capped)
            *capped = TRUE;
        st->capped = TRUE;
        return FALSE;
    }
    g_hash_table_replace(st->members, (gpointer)cw_str_ref(nick), (gpointer)cw_str_ref(prefix));
    return TRUE;
}

gboolean
cw_irc_chanstate_remove(CwIrcChanState *st, const char *nick)
{
    return nick && g_hash_table_remove(st->members, nick);
}

gboolean
cw_irc_chanstate_rename(CwIrcChanState *st, const char *old_nick, const char *new_nick)
{
    gpointer key, prefix;
    if (!old_nick || !new_nick || !g_hash_table_steal_extended(st->members, old_nick, &key, &prefix))
        return FALSE;
    cw_str_unref(key);
    g_hash_table_replace(st->members, (gpointer)cw_str_ref(new_nick), prefix);
    return TRUE;
}

void
cw_irc_chanstate_replace(CwIrcChanState *st, GHashTable *fresh, const CwIrcChanStateDiff *diff,
                         gpointer data)
{
    g_return_if_fail(st && fresh);
    g_autoptr(GHashTable) old = g_steal_pointer(&st->members);
    st->members = g_hash_table_ref(fresh);
    st->capped = FALSE;
    if (!diff)
        return;
    GHashTableIter it;
    gpointer nick, prefix;
    if (diff->left) {
        g_hash_table_iter_init(&it, old);
        while (g_hash_table_iter_next(&it, &nick, &prefix))
            if (!g_hash_table_contains(fresh, nick))
                diff->left(nick, data);
    }
    if (diff->joined) {
        g_hash_table_iter_init(&it, fresh);
        while (g_hash_table_iter_next(&it, &nick, &prefix)) {
            const char *was = g_hash_table_lookup(old, nick);
            if (!was || strcmp(was, prefix) != 0)
                diff->joined(nick, prefix, data);
        }
    }
}

guint
cw_irc_chanstate_count(void)
{
    return registry ? g_hash_table_size(registry) : 0;
}
