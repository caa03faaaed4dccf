/* user-limits.h — the core's per-user limits: one table of [gateway] keys, each
 * with a default, enforced where the resource is created.
 *
 *   max_rooms_per_user = 100: rooms joined or being joined at once; checked
 *     in cw_muc_handle_presence() before the transport's join_room (a
 *     refused join never reaches the legacy network).
 *   max_contacts_per_user = 500: legacy contacts subscribed to (registered
 *     users: the store's; others: this process's); checked in
 *     contact_subscription() (mod-presence.c) before the transport's add_contact.
 *   max_settings_scopes_per_user = 20: entities (e.g. IRC servers) with
 *     stored settings; checked in the ad-hoc Configure of an entity and in
 *     cw_user_set_value(), before a new scope's first value.
 *
 * A refusal is a CW_LIMITS_ERROR whose message names the limit, its key and
 * value and what to do; its XMPP condition is policy-violation. Only the user
 * over a limit is refused: the limits are per user. The transports' own
 * limits are keys of their sections (IRC: transports/irc/irc-policy.h).
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct CwStore CwStore;
typedef struct CwGateway CwGateway;
typedef struct CwUser CwUser;

#define CW_LIMITS_ERROR (cw_limits_error_quark())
GQuark cw_limits_error_quark(void);
#define CW_LIMITS_ERROR_REACHED 0
/* The XMPP condition of every CW_LIMITS_ERROR. */
#define CW_LIMITS_CONDITION "policy-violation"

typedef enum {
    CW_LIMIT_ROOMS,
    CW_LIMIT_CONTACTS,
    CW_LIMIT_SCOPES,
    CW_LIMIT_COUNT
} CwLimit;

typedef struct {
    guint max[CW_LIMIT_COUNT];
} CwLimits;

/* The keys of the table, NULL-terminated (for the [gateway] key check). */
extern const char *const cw_limits_keys[];
const char *cw_limits_key(CwLimit which);
guint cw_limits_default(CwLimit which);

/* Read the table from group (absent keys: the defaults); an error names the
 * file, the key and the range. */
gboolean cw_limits_load(CwLimits *limits, GKeyFile *kf, const char *file, const char *group,
                        GError **error);

/* May one more be created when used are in use? FALSE with the error. */
gboolean cw_limits_check(const CwLimits *limits, CwLimit which, guint used, GError **error);

/* Whether values in scope count as a settings scope: "" (registration) and
 * "settings" (the Configure form) are every user's and do not. */
gboolean cw_limits_scope_counts(const char *scope);
/* May user store a value in scope? Yes when the scope is not counted, or
 * already holds values, or the user has fewer counted scopes than allowed.
 * A store error refuses (and is returned). */
gboolean cw_limits_check_scope(const CwLimits *limits, CwStore *store, const char *user,
                               const char *scope, GError **error);

/* May user subscribe to the contact contact_jid (bare)? A contact already
 * counted is always allowed. Registered users are counted from the store;
 * others from cw_limits_note_contact(). */
gboolean cw_limits_check_contact(CwGateway *gw, CwUser *user, const char *contact_jid,
                                 GError **error);
/* Keep count of an unregistered user's contacts (added or removed). */
void cw_limits_note_contact(CwUser *user, const char *contact_jid, gboolean added);

G_END_DECLS
