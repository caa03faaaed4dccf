/* account.c — register / change / unregister a legacy account in the store. */
#define G_LOG_DOMAIN "causeway"
#include "account.h"

#include <gio/gio.h>

#include "dataform.h"
#include "muc.h"
#include "roster.h"

static gboolean
store_values(CwGateway *gw, const char *jid, const CwFormSpec *spec, GHashTable *values,
             GError **error)
{
    if (!cw_store_user_add(gw->store, jid, error))
        return FALSE;
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        if (f->type == CW_FIELD_FIXED)
            continue;
        const char *v = g_hash_table_lookup(values, f->var);
        if (!cw_store_value_set(gw->store, jid, "", f->var, v, cw_form_field_is_encrypted(f),
                                error))
            return FALSE;
    }
    return TRUE;
}

typedef struct {
    CwGateway *gw;
    const char *jid;
    const CwFormSpec *spec;
    GHashTable *values;
} StoreJob;

static gboolean
store_job(CwStore *store, gpointer data, GError **error)
{
    StoreJob *job = data;
    return store_values(job->gw, job->jid, job->spec, job->values, error);
}

gboolean
cw_account_register(CwUser *user, GHashTable *values, GError **error)
{
    CwGateway *gw = user->gw;
    const CwFormSpec *spec = cw_gateway_registration_form(gw);
    /* A change may leave passwords empty: keep the stored ones. */
    if (user->registered)
        for (gsize i = 0; i < spec->n_fields; i++) {
            const CwFormField *f = &spec->fields[i];
            const char *v = g_hash_table_lookup(values, f->var);
            if (cw_form_field_is_write_only(f) && (!v || !*v)) {
                char *old = cw_store_value_get(gw->store, user->jid, "", f->var, NULL);
                if (old)
                    g_hash_table_replace(values, g_strdup(f->var), old);
            }
        }
    if (!cw_form_validate(spec, values, error))
        return FALSE;
    if (gw->ops->check_registration &&
        !gw->ops->check_registration(gw, user->jid, values, error))
        return FALSE;

    StoreJob job = { gw, user->jid, spec, values };
    if (!cw_store_transaction(gw->store, store_job, &job, error))
        return FALSE;

    gboolean is_new = !user->registered;
    user->registered = TRUE;
    g_message("%s %s", is_new ? "registered" : "updated registration of", user->jid);
    if (is_new) {
        /* Appear in the user's roster: the gateway asks to see their presence. */
        cw_gateway_send_own_presence(gw, user->jid, "subscribe");
        cw_gateway_send_own_presence(gw, user->jid, NULL);
    }
    if (gw->ops->registered)
        gw->ops->registered(user, is_new);
    return TRUE;
}

/* End the user's sessions and subscriptions; contacts: the roster entries to
 * remove. The store rows are already gone. */
static void
account_forget(CwUser *user, GPtrArray *contact_jids)
{
    CwGateway *gw = user->gw;
    for (guint i = 0; contact_jids && i < contact_jids->len; i++)
        cw_roster_remove(gw, user->jid, contact_jids->pdata[i]);
    cw_gateway_send_own_presence(gw, user->jid, "unavailable");
    cw_gateway_send_own_presence(gw, user->jid, "unsubscribe");
    cw_gateway_send_own_presence(gw, user->jid, "unsubscribed");
    user->registered = FALSE;
    user->online = FALSE;
    cw_user_set_data(user, NULL, NULL);
}

static void
account_end_sessions(CwUser *user)
{
    CwGateway *gw = user->gw;
    if (gw->ops->unregistered)
        gw->ops->unregistered(user);
    cw_muc_user_offline(user);
    if (user->online && gw->ops->user_offline)
        gw->ops->user_offline(user);
}

gboolean
cw_account_unregister(CwUser *user, GError **error)
{
    CwGateway *gw = user->gw;
    account_end_sessions(user);
    g_autoptr(GPtrArray) contacts = cw_store_contact_list(gw->store, user->jid, NULL);
    if (!cw_store_user_remove(gw->store, user->jid, error))
        return FALSE;
    g_autoptr(GPtrArray) jids = g_ptr_array_new();
    for (guint i = 0; contacts && i < contacts->len; i++)
        g_ptr_array_add(jids, ((CwStoredContact *)contacts->pdata[i])->jid);
    account_forget(user, jids);
    g_message("unregistered %s", user->jid);
    return TRUE;
}

void
cw_account_removed_elsewhere(CwUser *user)
{
    CwGateway *gw = user->gw;
    /* The contact rows went with the user: the contacts whose presence the
     * session saw are the ones known to be in the roster. */
    g_autoptr(GPtrArray) jids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer legacy;
    g_hash_table_iter_init(&it, user->contact_presence);
    while (g_hash_table_iter_next(&it, &legacy, NULL)) {
        char *jid = cw_legacy_id_to_jid(gw, legacy);
        if (jid)
            g_ptr_array_add(jids, jid);
    }
    account_end_sessions(user);
    g_hash_table_remove_all(user->contact_presence);
    account_forget(user, jids);
    g_message("%s was deleted from the store by another process (causeway --delete-user): "
              "session ended", user->jid);
}

GHashTable *
cw_account_values(CwUser *user)
{
    GHashTable *values = cw_store_values_get_all(user->gw->store, user->jid, "", NULL);
    if (!values)
        return cw_values_new();
    const CwFormSpec *spec = cw_gateway_registration_form(user->gw);
    for (gsize i = 0; i < spec->n_fields; i++)
        if (cw_form_field_is_write_only(&spec->fields[i]))
            g_hash_table_remove(values, spec->fields[i].var);
    return values;
}
