/* resume.c — after a component reconnect, resources not heard from again within the grace period are dropped. */
#define G_LOG_DOMAIN "causeway"
#include "resume.h"

#include <string.h>

#include "muc.h"
#include "stanza.h"

/* "bare/resource" of a user's resource (bare as the user object keeps it). */
static char *
resource_key(CwUser *user, const char *resource)
{
    return g_strconcat(user->jid, "/", resource, NULL);
}

static void
add_unconfirmed(CwGateway *gw, CwUser *user, const char *resource)
{
    g_hash_table_add(gw->unconfirmed, resource_key(user, resource));
}

/* Ping a resource: a client that is still there answers (and is confirmed
 * by that answer, as by any stanza from it: router.c). */
static void
ping(CwGateway *gw, const char *full_jid)
{
    g_autoptr(xmpp_stanza_t) iq = cw_iq_new(cw_gateway_ctx(gw), "get", cw_gateway_domain(gw), full_jid);
    cw_stanza_add_child(iq, cw_stanza_new(cw_gateway_ctx(gw), "ping", "urn:xmpp:ping"));
    cw_gateway_send_iq(gw, iq, NULL, NULL);
}

static gboolean
on_grace_over(gpointer data)
{
    CwGateway *gw = data;
    gw->resume_timer_id = 0;
    g_autoptr(GHashTable) gone = g_steal_pointer(&gw->unconfirmed);
    gw->unconfirmed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, gone);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_autofree char *bare = NULL, *resource = NULL;
        const char *slash = strchr(key, '/');
        bare = g_strndup(key, slash - (const char *)key);
        resource = g_strdup(slash + 1);
        CwUser *user = cw_gateway_lookup_user(gw, bare);
        if (!user)
            continue;
        g_info("%s/%s did not come back after the reconnect: dropping it", bare, resource);
        cw_muc_resource_lost(user, resource);
        cw_user_resource_gone(user, resource);
        cw_gateway_forget_user(gw, user);
    }
    return G_SOURCE_REMOVE;
}

void
cw_resume_begin(CwGateway *gw)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, gw->users);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwUser *user = value;
        GHashTableIter rit;
        gpointer resource;
        g_hash_table_iter_init(&rit, user->resources);
        while (g_hash_table_iter_next(&rit, &resource, NULL))
            add_unconfirmed(gw, user, resource);
        GList *in_rooms = cw_muc_user_resources(user);
        for (GList *l = in_rooms; l; l = l->next)
            add_unconfirmed(gw, user, l->data);
        g_list_free_full(in_rooms, g_free);
    }
    if (g_hash_table_size(gw->unconfirmed) == 0)
        return;
    g_message("component reconnected: %u resource(s) must show they are still there within %u s",
              g_hash_table_size(gw->unconfirmed), (gw->tconf->resume_grace_ms + 999) / 1000);
    g_hash_table_iter_init(&it, gw->unconfirmed);
    gpointer key;
    while (g_hash_table_iter_next(&it, &key, NULL))
        ping(gw, key);
    g_clear_handle_id(&gw->resume_timer_id, g_source_remove);
    gw->resume_timer_id = g_timeout_add(gw->tconf->resume_grace_ms, on_grace_over, gw);
}

void
cw_resume_confirm(CwUser *user, const char *resource)
{
    CwGateway *gw = user->gw;
    if (!resource || g_hash_table_size(gw->unconfirmed) == 0)
        return;
    g_autofree char *key = resource_key(user, resource);
    g_hash_table_remove(gw->unconfirmed, key);
}

void
cw_resume_deinit(CwGateway *gw)
{
    g_clear_handle_id(&gw->resume_timer_id, g_source_remove);
    if (gw->unconfirmed)
        g_hash_table_remove_all(gw->unconfirmed);
}
