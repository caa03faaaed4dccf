/* purple-session.c — one user's libpurple account: log in with the stored
 * registration, reconnect with backoff, fatal errors mark it failing. */
#define G_LOG_DOMAIN "causeway-purple"
#include "purple-buddies.h"
#include "purple-chats.h"
#include "purple-core.h"
#include "purple-session.h"

#include <causeway/backoff.h>

static void
session_free(gpointer p)
{
    CwPurpleSession *s = p;
    if (s->retry)
        g_source_remove(s->retry);
    cw_purple_chats_free(s);
    PurpleAccount *a = cw_purple_accounts_unbind(s);
    if (a && !s->t->quitting)
        purple_account_set_enabled(a, CW_PURPLE_UI_ID, FALSE);
    g_free(s);
}

CwPurpleSession *
cw_purple_session_get(CwPurpleTransport *t, CwUser *user, gboolean create)
{
    CwPurpleSession *s = cw_user_get_data(user);
    if (s || !create || !cw_user_is_registered(user))
        return s;
    s = g_new0(CwPurpleSession, 1);
    s->t = t;
    s->user = user;
    cw_user_set_data(user, s, session_free);
    return s;
}

/* The user's registration values, as the form's vars (password included). */
static GHashTable *
stored_values(CwPurpleSession *s)
{
    GHashTable *values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const char *const *var = cw_purple_form_vars(s->t->form); *var; var++) {
        char *v = cw_user_get_value(s->user, "", *var);
        if (v)
            g_hash_table_insert(values, g_strdup(*var), v);
    }
    return values;
}

/* Find or create the account for the stored registration; options applied. */
static PurpleAccount *
prepare_account(CwPurpleSession *s, GHashTable *values)
{
    CwPurpleTransport *t = s->t;
    g_autofree char *name = cw_purple_form_username(t->form, values);
    if (!name)
        return NULL;
    if (s->account && g_strcmp0(purple_account_get_username(s->account), name) != 0) {
        /* The registration changed the account name: the old account goes. */
        purple_accounts_delete(cw_purple_accounts_unbind(s));
    }
    if (!s->account) {
        PurpleAccount *a = purple_accounts_find(name, t->protocol);
        CwPurpleSession *other = cw_purple_accounts_session(t, a);
        if (other && other != s)
            return NULL; /* another user's: refused by the caller */
        if (!a) {
            a = purple_account_new(name, t->protocol);
            purple_accounts_add(a);
        }
        cw_purple_accounts_bind(s, a);
    }
    purple_account_set_remember_password(s->account, FALSE);
    cw_purple_form_apply(t->form, values, s->account);
    return s->account;
}

void
cw_purple_session_login(CwPurpleSession *s)
{
    s->wanted = TRUE;
    if (s->retry) {
        g_source_remove(s->retry);
        s->retry = 0;
    }
    if (s->account && !purple_account_is_disconnected(s->account))
        return;
    g_autofree char *failing = cw_user_get_value(s->user, CW_PURPLE_SCOPE, CW_PURPLE_FAILING);
    if (failing) {
        g_autofree char *text = g_strdup_printf(
            "Not logging in: the last login failed (%s). Change your registration (register "
            "again or use the Configure command) to try again.", failing);
        cw_legacy_gateway_message(s->user, text);
        return;
    }
    g_autoptr(GHashTable) values = stored_values(s);
    PurpleAccount *a = prepare_account(s, values);
    if (!a) {
        cw_legacy_gateway_message(s->user, "Not logging in: another user of this gateway has "
                                           "registered the same account.");
        return;
    }
    const char *password = g_hash_table_lookup(values, CW_PURPLE_FORM_PASSWORD);
    if (cw_purple_form_needs_password(s->t->form) && !password) {
        cw_legacy_gateway_message(s->user, "Not logging in: no password is stored; register "
                                           "again with your password.");
        return;
    }
    g_info("%s: logging in to %s", cw_user_jid(s->user), s->t->protocol);
    /* The password lives in libpurple's memory only while logging in (never
     * in accounts.xml: remember_password is off): prpl-jabber's SASL offers
     * password mechanisms only when the account has one, so it stays until
     * signed-on or the attempt ends (clear_password). */
    purple_account_set_password(a, password);
    purple_account_set_status(a, "available", TRUE, NULL);
    purple_account_set_enabled(a, CW_PURPLE_UI_ID, TRUE);
    if (purple_account_is_disconnected(a))
        purple_account_connect(a);
}

void
cw_purple_session_logout(CwPurpleSession *s)
{
    s->wanted = FALSE;
    if (s->retry) {
        g_source_remove(s->retry);
        s->retry = 0;
    }
    if (s->account) {
        purple_account_set_enabled(s->account, CW_PURPLE_UI_ID, FALSE);
        if (!purple_account_is_disconnected(s->account))
            purple_account_disconnect(s->account);
    }
}

void
cw_purple_session_forget(CwPurpleSession *s)
{
    cw_purple_session_logout(s);
    PurpleAccount *a = cw_purple_accounts_unbind(s);
    if (a)
        purple_accounts_delete(a);
}

/* ---- connection signals ---- */

static void
clear_password(CwPurpleSession *s)
{
    if (s->account && purple_account_get_password(s->account))
        purple_account_set_password(s->account, NULL);
}

static gboolean
retry_now(gpointer data)
{
    CwPurpleSession *s = data;
    s->retry = 0;
    if (s->wanted)
        cw_purple_session_login(s);
    return G_SOURCE_REMOVE;
}

static void
on_signed_on(PurpleConnection *gc, gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, purple_connection_get_account(gc));
    if (!s)
        return;
    clear_password(s);
    g_info("%s: signed on to %s", cw_user_jid(s->user), s->t->protocol);
    if (s->attempt > 0)
        cw_legacy_gateway_message(s->user, "Reconnected.");
    s->attempt = 0;
    cw_purple_buddies_sync(s);
    cw_purple_chats_connected(s);
}

static void
on_signed_off(PurpleConnection *gc, gpointer data)
{
    CwPurpleSession *s = cw_purple_accounts_session(data, purple_connection_get_account(gc));
    if (!s)
        return;
    clear_password(s);
    cw_purple_buddies_all_offline(s);
    cw_purple_chats_disconnected(s);
}

static void
on_connection_error(PurpleConnection *gc, PurpleConnectionError reason, const char *text,
                    gpointer data)
{
    CwPurpleTransport *t = data;
    CwPurpleSession *s = cw_purple_accounts_session(t, purple_connection_get_account(gc));
    if (!s)
        return;
    clear_password(s);
    if (purple_connection_error_is_fatal(reason)) {
        g_message("%s: login to %s failed: %s", cw_user_jid(s->user), t->protocol, text);
        cw_user_set_value(s->user, CW_PURPLE_SCOPE, CW_PURPLE_FAILING, text ? text : "error",
                          FALSE);
        g_autofree char *msg = g_strdup_printf(
            "Login failed: %s. Your registration is kept; correct it (register again or use "
            "the Configure command) and this gateway will log in again.", text ? text : "error");
        cw_legacy_gateway_message(s->user, msg);
        s->wanted = FALSE;
        return;
    }
    guint delay = cw_backoff_delay_ms(CW_PURPLE_RECONNECT_MIN_MS, t->reconnect_max_ms, s->attempt++);
    g_autofree char *msg = g_strdup_printf("Disconnected: %s. Reconnecting in %u s.",
                                           text ? text : "error", (delay + 999) / 1000);
    cw_legacy_gateway_message(s->user, msg);
    g_info("%s: %s; reconnect in %u ms", cw_user_jid(s->user), text ? text : "error", delay);
    if (s->wanted && !s->retry)
        s->retry = g_timeout_add(delay, retry_now, s);
}

void
cw_purple_session_signals_connect(CwPurpleTransport *t)
{
    void *handle = purple_connections_get_handle();
    purple_signal_connect(handle, "signed-on", t, PURPLE_CALLBACK(on_signed_on), t);
    purple_signal_connect(handle, "signed-off", t, PURPLE_CALLBACK(on_signed_off), t);
    purple_signal_connect(handle, "connection-error", t, PURPLE_CALLBACK(on_connection_error), t);
}
