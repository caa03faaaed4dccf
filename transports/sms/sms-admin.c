/* sms-admin.c — SMS numbers, outbox and conversations in the admin commands. */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-admin.h"

#include "sms-store.h"

static char *
sms_db_path(const char *file_prefix)
{
    return g_strconcat(file_prefix, "-sms.db", NULL);
}

/* The read-only store, or NULL: with error set on failure, unset when the
 * file does not exist (no data yet). */
static CwSmsStore *
sms_open_readonly(const char *file_prefix, GError **error)
{
    g_autofree char *path = sms_db_path(file_prefix);
    g_autoptr(GError) local = NULL;
    CwSmsStore *store = cw_sms_store_open_readonly(path, &local);
    if (!store && !g_error_matches(local, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND))
        g_propagate_error(error, g_steal_pointer(&local));
    return store;
}

static const char *
claim_state_name(CwSmsClaimState state)
{
    return state == CW_SMS_CLAIM_ACTIVE ? "active" : state == CW_SMS_CLAIM_PENDING ? "pending" : "none";
}

gboolean
cw_sms_admin_user_info(const char *file_prefix, const char *jid, CwAdminReport *report,
                       GError **error)
{
    g_autoptr(CwSmsStore) store = sms_open_readonly(file_prefix, error);
    if (!store)
        return error == NULL || *error == NULL;
    g_autofree char *number = NULL;
    CwSmsClaimState state = cw_sms_claim_of(store, jid, &number);
    if (number) {
        cw_admin_report_add(report, "sms_number", "%s", number);
        cw_admin_report_add(report, "sms_number_state", "%s", claim_state_name(state));
    }
    gint64 messages = 0, conversations = 0;
    if (!cw_sms_user_counts(store, jid, &messages, &conversations, error))
        return FALSE;
    cw_admin_report_add(report, "sms_messages", "%" G_GINT64_FORMAT, messages);
    cw_admin_report_add(report, "sms_conversations", "%" G_GINT64_FORMAT, conversations);
    return TRUE;
}

gboolean
cw_sms_admin_user_delete(const char *file_prefix, const char *jid, CwAdminReport *report,
                         GError **error)
{
    g_autofree char *path = sms_db_path(file_prefix);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return TRUE; /* the transport never ran: nothing of the user's */
    /* Never migrate under the running service (perhaps of another version):
     * a schema this build does not know is refused first, so the read-write
     * open below finds nothing to migrate. */
    g_autoptr(CwSmsStore) check = cw_sms_store_open_readonly(path, error);
    if (!check)
        return FALSE;
    g_clear_pointer(&check, cw_sms_store_close);
    g_autoptr(CwSmsStore) store = cw_sms_store_open(path, error);
    if (!store)
        return FALSE;
    CwSmsForgotten f;
    if (!cw_sms_user_forget(store, jid, &f, error))
        return FALSE;
    if (f.number)
        cw_admin_report_add(report, "sms_number_released", "%s", f.number);
    cw_admin_report_add(report, "sms_messages_removed", "%" G_GINT64_FORMAT, f.messages);
    cw_admin_report_add(report, "sms_conversations_removed", "%" G_GINT64_FORMAT,
                        f.conversations);
    cw_sms_forgotten_clear(&f);
    return TRUE;
}

gboolean
cw_sms_admin_stats(const char *file_prefix, CwAdminReport *report, GError **error)
{
    g_autoptr(CwSmsStore) store = sms_open_readonly(file_prefix, error);
    gint64 active = 0, pending = 0, depth = 0, oldest = 0;
    if (store) {
        g_autoptr(GPtrArray) claims = cw_sms_claim_list(store, CW_SMS_CLAIM_NONE, error);
        if (!claims)
            return FALSE;
        for (guint i = 0; i < claims->len; i++) {
            CwSmsClaim *c = claims->pdata[i];
            active += c->state == CW_SMS_CLAIM_ACTIVE;
            pending += c->state == CW_SMS_CLAIM_PENDING;
        }
        depth = cw_sms_outbox_depth(store, &oldest);
        if (depth < 0) {
            g_set_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_QUERY,
                        "reading the SMS outbox depth failed");
            return FALSE;
        }
    } else if (error && *error) {
        return FALSE;
    }
    gint64 age = depth > 0 && oldest > 0 ? (g_get_real_time() - oldest) / G_USEC_PER_SEC : 0;
    cw_admin_report_add(report, "sms_claims_active", "%" G_GINT64_FORMAT, active);
    cw_admin_report_add(report, "sms_claims_pending", "%" G_GINT64_FORMAT, pending);
    cw_admin_report_add(report, "sms_outbox_depth", "%" G_GINT64_FORMAT, depth);
    cw_admin_report_add(report, "sms_outbox_oldest_age", "%" G_GINT64_FORMAT, age < 0 ? 0 : age);
    return TRUE;
}
