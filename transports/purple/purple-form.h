/* purple-form.h — the registration form (XEP-0077 + XEP-0004) of one libpurple
 * protocol plugin, generated from its user splits and protocol options.
 *
 * Contract: cw_purple_form_new(prpl) builds a CwFormSpec the form owns (valid
 * until cw_purple_form_free): field "username" (the account name before the
 * splits), one field per user split ("split1", "split2", ... in the plugin's
 * order, with its label and default), "password" (TEXT_PRIVATE; required
 * unless the plugin has OPT_PROTO_NO_PASSWORD or OPT_PROTO_PASSWORD_OPTIONAL;
 * absent with NO_PASSWORD), one field per protocol option (var = the
 * option's setting name, or "option_" + it when that would clash with ours;
 * string -> text-single, text-private when masked; int -> text-single checked
 * to be an integer; bool -> boolean; list -> list-single of its values) and
 * the boolean "stay_connected" (keep the legacy session while the user is
 * offline). Values are the validated var -> value tables of <causeway/form.h>.
 */
#pragma once
#include <causeway/form.h>
#include <glib.h>
#include <purple.h>

G_BEGIN_DECLS

#define CW_PURPLE_FORM_USERNAME "username"
#define CW_PURPLE_FORM_PASSWORD "password"
#define CW_PURPLE_FORM_STAY_CONNECTED "stay_connected"

typedef struct CwPurpleForm CwPurpleForm;

CwPurpleForm *cw_purple_form_new(PurplePlugin *prpl);
void cw_purple_form_free(CwPurpleForm *form);
const CwFormSpec *cw_purple_form_spec(const CwPurpleForm *form);
/* The protocol id the form was built for. */
const char *cw_purple_form_protocol(const CwPurpleForm *form);
/* Does logging in need a password (a "password" value)? */
gboolean cw_purple_form_needs_password(const CwPurpleForm *form);

/* The libpurple account name: username joined with each non-empty split
 * (else its default) by the split's separator (allocated; NULL without a
 * username). */
char *cw_purple_form_username(const CwPurpleForm *form, GHashTable *values);
/* The reverse, as libpurple UIs split an account name: from the last split
 * to the first, cut at the split's separator (the last one when the split is
 * "reverse", else the first). Fills "username" and the "splitN" of values. */
void cw_purple_form_split_username(const CwPurpleForm *form, const char *account_name,
                                   GHashTable *values);
/* Set every protocol option of account from values (absent: the default). */
void cw_purple_form_apply(const CwPurpleForm *form, GHashTable *values, PurpleAccount *account);
/* Every var of the form, NULL-terminated (borrowed): what the transport
 * reads back with cw_user_get_value at login. */
const char *const *cw_purple_form_vars(const CwPurpleForm *form);

G_END_DECLS
