/* user.c — core.h's view of a user: identity, state, transport data, stored values. */
#define G_LOG_DOMAIN "causeway"
#include "gateway.h"

#include "account.h"

const char *
cw_user_jid(CwUser *user)
{
    return user->jid;
}

CwGateway *
cw_user_gateway(CwUser *user)
{
    return user->gw;
}

gboolean
cw_user_is_registered(CwUser *user)
{
    return user->registered;
}

gboolean
cw_user_is_online(CwUser *user)
{
    return user->online;
}

CwShow
cw_user_show(CwUser *user)
{
    return user->online ? user->show : CW_SHOW_OFFLINE;
}

gpointer
cw_user_get_data(CwUser *user)
{
    return user->data;
}

void
cw_user_set_data(CwUser *user, gpointer data, GDestroyNotify destroy)
{
    if (user->data && user->data_destroy && user->data != data)
        user->data_destroy(user->data);
    user->data = data;
    user->data_destroy = destroy;
}

char *
cw_user_get_value(CwUser *user, const char *scope, const char *key)
{
    g_autoptr(GError) error = NULL;
    char *v = cw_store_value_get(user->gw->store, user->jid, scope, key, &error);
    if (error)
        g_warning("cannot read %s/%s of %s: %s", scope, key, user->jid, error->message);
    return v;
}

gboolean
cw_user_set_value(CwUser *user, const char *scope, const char *key, const char *value,
                  gboolean secret)
{
    g_autoptr(GError) error = NULL;
    if (value && !cw_limits_check_scope(&user->gw->config->limits, user->gw->store, user->jid, scope,
                                        &error)) {
        g_message("not storing %s/%s of %s: %s", scope, key, user->jid, error->message);
        return FALSE;
    }
    if (!cw_store_value_set(user->gw->store, user->jid, scope, key, value, secret, &error)) {
        g_warning("cannot store %s/%s of %s: %s", scope, key, user->jid, error->message);
        return FALSE;
    }
    return TRUE;
}

GPtrArray *
cw_user_contacts(CwUser *user)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) contacts = cw_store_contact_list(user->gw->store, user->jid, &error);
    if (!contacts) {
        g_warning("cannot list the contacts of %s: %s", user->jid, error->message);
        return ids;
    }
    for (guint i = 0; i < contacts->len; i++)
        g_ptr_array_add(ids, g_strdup(((CwStoredContact *)contacts->pdata[i])->legacy_id));
    return ids;
}

void
cw_user_resource_gone(CwUser *user, const char *resource)
{
    g_hash_table_remove(user->resources, resource);
    if (g_hash_table_size(user->resources) > 0 || !user->online)
        return;
    user->online = FALSE;
    g_info("%s is offline", user->jid);
    if (user->gw->ops->user_offline)
        user->gw->ops->user_offline(user);
}

gboolean
cw_user_register(CwUser *user, GHashTable *values, GError **error)
{
    return cw_account_register(user, values, error);
}

gboolean
cw_user_unregister(CwUser *user, GError **error)
{
    return cw_account_unregister(user, error);
}
