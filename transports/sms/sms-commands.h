/* sms-commands.h — the admins' ad-hoc commands of the sms transport
 * (dedicated ownership): "Approve number claims" (sms-approve), "Assign a
 * number" (sms-assign), "Revoke a number" (sms-revoke). Each logs what the
 * admin did and tells the user concerned. */
#pragma once
#include "sms-state.h"

G_BEGIN_DECLS

extern const CwTransportCommand cw_sms_command_approve, cw_sms_command_assign,
    cw_sms_command_revoke;

/* Free what the approval form was built from (at deinit). */
void cw_sms_commands_clear(SmsTransport *t);

G_END_DECLS
