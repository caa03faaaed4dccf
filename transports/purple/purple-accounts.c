/* purple-accounts.c — which session a libpurple account is, and its
 * connection (purple-accounts.h). */
#include "purple-accounts.h"

CwPurpleSession *
cw_purple_accounts_session(CwPurpleTransport *t, PurpleAccount *account)
{
    if (!t || t->quitting || !account)
        return NULL;
    return g_hash_table_lookup(t->sessions, account);
}

PurpleConnection *
cw_purple_accounts_connection(CwPurpleSession *s)
{
    if (!s->account || !purple_account_is_connected(s->account))
        return NULL;
    return purple_account_get_connection(s->account);
}

void
cw_purple_accounts_bind(CwPurpleSession *s, PurpleAccount *account)
{
    g_return_if_fail(s && account && !s->account);
    s->account = account;
    g_hash_table_insert(s->t->sessions, account, s);
}

PurpleAccount *
cw_purple_accounts_unbind(CwPurpleSession *s)
{
    PurpleAccount *a = s->account;
    if (a) {
        g_hash_table_remove(s->t->sessions, a);
        s->account = NULL;
    }
    return a;
}
