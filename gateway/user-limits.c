/* user-limits.c — the core's per-user limits table: config keys, defaults, checks where resources are created. */
#define G_LOG_DOMAIN "causeway"
#include "user-limits.h"

#include <causeway/keyfile.h>
#include <string.h>

#include "gateway.h"

G_DEFINE_QUARK(causeway-limits-error-quark, cw_limits_error)

typedef struct {
    const char *key;
    guint def, max;
    const char *what;  /* "You have N <what>" */
    const char *hint;  /* what the user can do */
} LimitSpec;

static const LimitSpec specs[CW_LIMIT_COUNT] = {
    [CW_LIMIT_ROOMS] = { "max_rooms_per_user", 100, 100000, "rooms joined or being joined",
                         "leave a room first" },
    [CW_LIMIT_CONTACTS] = { "max_contacts_per_user", 500, 1000000, "contacts on this gateway",
                            "remove a contact first" },
    [CW_LIMIT_SCOPES] = { "max_settings_scopes_per_user", 20, 100000,
                          "entities with stored settings (e.g. servers configured)",
                          "clear the settings of one you no longer use, or unregister to start over" },
};

const char *const cw_limits_keys[] = { "max_rooms_per_user", "max_contacts_per_user",
                                       "max_settings_scopes_per_user", NULL };

const char *
cw_limits_key(CwLimit which)
{
    g_return_val_if_fail(which < CW_LIMIT_COUNT, NULL);
    return specs[which].key;
}

guint
cw_limits_default(CwLimit which)
{
    g_return_val_if_fail(which < CW_LIMIT_COUNT, 0);
    return specs[which].def;
}

gboolean
cw_limits_load(CwLimits *limits, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    for (guint i = 0; i < CW_LIMIT_COUNT; i++) {
        guint64 v;
        if (!cw_keyfile_get_uint(kf, file, group, specs[i].key, specs[i].def, 1, specs[i].max, &v, error))
            return FALSE;
        limits->max[i] = (guint)v;
    }
    return TRUE;
}

gboolean
cw_limits_check(const CwLimits *limits, CwLimit which, guint used, GError **error)
{
    g_return_val_if_fail(limits != NULL && which < CW_LIMIT_COUNT, FALSE);
    if (used < limits->max[which])
        return TRUE;
    g_set_error(error, CW_LIMITS_ERROR, CW_LIMITS_ERROR_REACHED,
                "You have %u %s, the most this gateway allows per user (%s = %u); %s.", used,
                specs[which].what, specs[which].key, limits->max[which], specs[which].hint);
    return FALSE;
}

gboolean
cw_limits_scope_counts(const char *scope)
{
    return scope && *scope && strcmp(scope, "settings") != 0;
}

gboolean
cw_limits_check_scope(const CwLimits *limits, CwStore *store, const char *user, const char *scope,
                      GError **error)
{
    if (!cw_limits_scope_counts(scope))
        return TRUE;
    g_autoptr(GPtrArray) scopes = cw_store_scope_list(store, user, error);
    if (!scopes)
        return FALSE;
    guint counted = 0;
    for (guint i = 0; i < scopes->len; i++) {
        if (strcmp(scopes->pdata[i], scope) == 0)
            return TRUE; /* changing what is there creates nothing */
        counted += cw_limits_scope_counts(scopes->pdata[i]);
    }
    return cw_limits_check(limits, CW_LIMIT_SCOPES, counted, error);
}

gboolean
cw_limits_check_contact(CwGateway *gw, CwUser *user, const char *contact_jid, GError **error)
{
    guint used = 0;
    if (user->registered) {
        g_autoptr(GPtrArray) contacts = cw_store_contact_list(gw->store, user->jid, error);
        if (!contacts)
            return FALSE;
        for (guint i = 0; i < contacts->len; i++)
            if (g_strcmp0(((CwStoredContact *)contacts->pdata[i])->jid, contact_jid) == 0)
                return TRUE;
        used = contacts->len;
    } else if (user->unstored_contacts) {
        if (g_hash_table_contains(user->unstored_contacts, contact_jid))
            return TRUE;
        used = g_hash_table_size(user->unstored_contacts);
    }
    return cw_limits_check(&gw->config->limits, CW_LIMIT_CONTACTS, used, error);
}

void
cw_limits_note_contact(CwUser *user, const char *contact_jid, gboolean added)
{
    if (added) {
        if (!user->unstored_contacts)
            user->unstored_contacts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(user->unstored_contacts, g_strdup(contact_jid));
    } else if (user->unstored_contacts) {
        g_hash_table_remove(user->unstored_contacts, contact_jid);
    }
}
