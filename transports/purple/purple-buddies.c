/* purple-buddies.c — libpurple's buddy list as the user's roster (legacy id =
 * buddy name, XEP-0106-escaped by the core), presence and typing both ways. */
#define G_LOG_DOMAIN "causeway-purple"
#include "purple-buddies.h"

#include <string.h>

static CwShow
show_of(PurpleStatus *status)
{
    if (!status || !purple_status_is_online(status))
        return CW_SHOW_OFFLINE;
    switch (purple_status_type_get_primitive(purple_status_get_type(status))) {
    case PURPLE_STATUS_AWAY:
        return CW_SHOW_AWAY;
    case PURPLE_STATUS_EXTENDED_AWAY:
        return CW_SHOW_XA;
    case PURPLE_STATUS_UNAVAILABLE:
        return CW_SHOW_DND;
    case PURPLE_STATUS_OFFLINE:
    case PURPLE_STATUS_INVISIBLE:
        return CW_SHOW_OFFLINE;
    default:
        return CW_SHOW_ONLINE;
    }
}

static void
send_presence(CwPurpleSession *s, PurpleBuddy *b)
{
    PurpleStatus *status = purple_presence_get_active_status(purple_buddy_get_presence(b));
    const char *html = status ? purple_status_get_attr_string(status, "message") : NULL;
    g_autofree char *plain = html ? purple_markup_strip_html(html) : NULL;
    g_autofree char *text = plain ? purple_unescape_html(plain) : NULL;
    cw_legacy_contact_presence(s->user, purple_buddy_get_name(b), show_of(status),
                               text && *text ? text : NULL);
}

static void
add_to_roster(CwPurpleSession *s, PurpleBuddy *b)
{
    const char *name = purple_buddy_get_name(b);
    const char *alias = purple_buddy_get_alias_only(b);
    if (!alias)
        alias = purple_buddy_get_server_alias(b);
    PurpleGroup *group = purple_buddy_get_group(b);
    cw_legacy_contact_add_in_group(s->user, name, alias && strcmp(alias, name) ? alias : NULL,
                                   group ? purple_group_get_name(group) : NULL);
    send_presence(s, b);
}

void
cw_purple_buddies_sync(CwPurpleSession *s)
{
    if (!s->account)
        return;
    GSList *buddies = purple_find_buddies(s->account, NULL);
    for (GSList *l = buddies; l; l = l->next)
        add_to_roster(s, l->data);
    g_slist_free(buddies);
}

void
cw_purple_buddies_all_offline(CwPurpleSession *s)
{
    if (!s->account)
        return;
    GSList *buddies = purple_find_buddies(s->account, NULL);
    for (GSList *l = buddies; l; l = l->next)
        cw_legacy_contact_presence(s->user, purple_buddy_get_name(l->data), CW_SHOW_OFFLINE, NULL);
    g_slist_free(buddies);
}

#define DEFAULT_GROUP "Buddies" /* libpurple's own default */

void
cw_purple_buddies_add(CwPurpleSession *s, const char *name)
{
    if (!s->account || purple_find_buddy(s->account, name))
        return;
    cw_purple_buddies_add_in_group(s, name, NULL);
}

void
cw_purple_buddies_add_in_group(CwPurpleSession *s, const char *name, const char *group_name)
{
    if (!s->account)
        return;
    if (!group_name || !*group_name) {
        if (purple_find_buddy(s->account, name))
            return; /* no group asked for: an existing buddy stays where it is */
        group_name = DEFAULT_GROUP;
    }
    PurpleGroup *group = purple_find_group(group_name);
    if (!group) {
        group = purple_group_new(group_name);
        purple_blist_add_group(group, NULL);
    }
    PurpleBuddy *b = purple_find_buddy(s->account, name);
    if (b) {
        if (purple_buddy_get_group(b) == group)
            return;
        /* Moving it: libpurple tells the plugin (serv_move_buddy). */
        purple_blist_add_buddy(b, NULL, group, NULL);
        if (cw_purple_accounts_connection(s))
            add_to_roster(s, b);
        return;
    }
    b = purple_buddy_new(s->account, name, NULL);
    purple_blist_add_buddy(b, NULL, group, NULL);
    if (cw_purple_accounts_connection(s))
        purple_account_add_buddy(s->account, b);
}

void
cw_purple_buddies_remove(CwPurpleSession *s, const char *name)
{
    if (!s->account)
        return;
    GSList *buddies = purple_find_buddies(s->account, name);
    for (GSList *l = buddies; l; l = l->next) {
        PurpleBuddy *b = l->data;
        if (cw_purple_accounts_connection(s))
            purple_account_remove_buddy(s->account, b, purple_buddy_get_group(b));
        purple_blist_remove_buddy(b);
    }
    g_slist_free(buddies);
}

char *
cw_purple_buddies_name(CwPurpleSession *s, const char *who)
{
    if (!s->account)
        return g_strdup(who);
    /* The buddy's own name: prpl-jabber says "bob@host/res" in messages and
     * typing signals, which purple_find_buddy finds (its normalize drops the
     * resource). */
    PurpleBuddy *b = purple_find_buddy(s->account, who);
    if (b)
        return g_strdup(purple_buddy_get_name(b));
    const char *slash = strchr(who, '/');
    if (slash && g_strcmp0(s->t->protocol, "prpl-jabber") == 0)
        /* XMPP resources are sessions, not people: prpl-jabber's contacts
         * are bare JIDs, whether on the buddy list or not. */
        return g_strndup(who, slash - who);
    return g_strdup(who);
}

/* ---- signals ---- */

static CwPurpleSession *
session_of_buddy(CwPurpleTransport *t, PurpleBuddy *b)
{
    CwPurpleSession *s = cw_purple_accounts_session(t, purple_buddy_get_account(b));
    return s && cw_purple_accounts_connection(s) ? s : NULL;
}

static void
on_buddy_status(PurpleBuddy *b, gpointer data)
{
    CwPurpleSession *s = session_of_buddy(data, b);
    if (s)
        send_presence(s, b);
}

static void
on_buddy_status_changed(PurpleBuddy *b, PurpleStatus *old, PurpleStatus *now, gpointer data)
{
    on_buddy_status(b, data);
}

static void
on_buddy_added(PurpleBuddy *b, gpointer data)
{
    CwPurpleSession *s = session_of_buddy(data, b);
    if (s)
        add_to_roster(s, b);
}

static void
on_buddy_removed(PurpleBuddy *b, gpointer data)
{
    CwPurpleSession *s = session_of_buddy(data, b);
    if (!s)
        return;
    /* A buddy moved to another group on the legacy side is a new buddy in
     * the new group, then this one removed (prpl-jabber's roster push): the
     * contact stays, in the group of the buddy that remains. */
    GSList *same = purple_find_buddies(s->account, purple_buddy_get_name(b));
    PurpleBuddy *other = NULL;
    for (GSList *l = same; l && !other; l = l->next)
        if (l->data != b)
            other = l->data;
    g_slist_free(same);
    if (other)
        add_to_roster(s, other);
    else
        cw_legacy_contact_remove(s->user, purple_buddy_get_name(b));
}

static void
on_typing(PurpleAccount *account, const char *name, CwChatState state, CwPurpleTransport *t)
{
    CwPurpleSession *s = cw_purple_accounts_session(t, account);
    if (!s)
        return;
    g_autofree char *who = cw_purple_buddies_name(s, name);
    cw_legacy_chat_state(s->user, who, state);
}

static void
on_buddy_typing(PurpleAccount *account, const char *name, gpointer data)
{
    on_typing(account, name, CW_CHAT_STATE_COMPOSING, data);
}

static void
on_buddy_typed(PurpleAccount *account, const char *name, gpointer data)
{
    on_typing(account, name, CW_CHAT_STATE_PAUSED, data);
}

static void
on_buddy_typing_stopped(PurpleAccount *account, const char *name, gpointer data)
{
    on_typing(account, name, CW_CHAT_STATE_ACTIVE, data);
}

void
cw_purple_buddies_signals_connect(CwPurpleTransport *t)
{
    void *blist = purple_blist_get_handle();
    purple_signal_connect(blist, "buddy-status-changed", t, PURPLE_CALLBACK(on_buddy_status_changed), t);
    purple_signal_connect(blist, "buddy-signed-on", t, PURPLE_CALLBACK(on_buddy_status), t);
    purple_signal_connect(blist, "buddy-signed-off", t, PURPLE_CALLBACK(on_buddy_status), t);
    purple_signal_connect(blist, "buddy-added", t, PURPLE_CALLBACK(on_buddy_added), t);
    purple_signal_connect(blist, "buddy-removed", t, PURPLE_CALLBACK(on_buddy_removed), t);
    void *convs = purple_conversations_get_handle();
    purple_signal_connect(convs, "buddy-typing", t, PURPLE_CALLBACK(on_buddy_typing), t);
    purple_signal_connect(convs, "buddy-typed", t, PURPLE_CALLBACK(on_buddy_typed), t);
    purple_signal_connect(convs, "buddy-typing-stopped", t, PURPLE_CALLBACK(on_buddy_typing_stopped), t);
}
