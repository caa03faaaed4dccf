/* account.h — registering and unregistering a user's legacy account (shared by
 * XEP-0077 and the ad-hoc commands). */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

/* Validate submitted values against the registration form (private fields
 * left empty keep their stored value), let the transport check them, store
 * them (private fields encrypted). A new registration subscribes the gateway
 * JID to the user. FALSE with a user-readable error (G_IO_ERROR_INVALID_ARGUMENT
 * for bad input, CW_STORE_ERROR for storage). Consumes nothing. */
gboolean cw_account_register(CwUser *user, GHashTable *values, GError **error);

/* Delete the user's data, tell the transport, and end the subscriptions of
 * the gateway and of every contact it added. */
gboolean cw_account_unregister(CwUser *user, GError **error);

/* The user's rows were deleted by another process (causeway --delete-user)
 * while this one holds a session: end it as cw_account_unregister does
 * (legacy sessions, rooms, the gateway's subscription, the roster entries of
 * the contacts whose presence this session saw), without touching the store. */
void cw_account_removed_elsewhere(CwUser *user);

/* Current stored registration values (never the private ones). */
GHashTable *cw_account_values(CwUser *user);

G_END_DECLS
