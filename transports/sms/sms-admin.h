/* sms-admin.h — the SMS transport's part of the admin commands (transport.h
 * admin_user_info / admin_user_delete / admin_stats): its own store,
 * FILE_PREFIX-sms.db, opened for one short look or one transaction.
 *
 * Lines added (documented in README "Administration"):
 *   info:   sms_number (the claimed number), sms_number_state (active|pending),
 *           sms_messages (outbox messages, finished or not),
 *           sms_conversations
 *   delete: sms_number_released, sms_messages_removed,
 *           sms_conversations_removed
 *   stats:  sms_claims_active, sms_claims_pending, sms_outbox_depth (messages
 *           not finished), sms_outbox_oldest_age (seconds; 0 when empty)
 */
#pragma once
#include <causeway/admin.h>

G_BEGIN_DECLS

gboolean cw_sms_admin_user_info(const char *file_prefix, const char *jid, CwAdminReport *report,
                                GError **error);
gboolean cw_sms_admin_user_delete(const char *file_prefix, const char *jid,
                                  CwAdminReport *report, GError **error);
gboolean cw_sms_admin_stats(const char *file_prefix, CwAdminReport *report, GError **error);

G_END_DECLS
