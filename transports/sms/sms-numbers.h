/* sms-numbers.h — which gateway numbers a config allows, and phone numbers as
 * users type them. Pure functions, no I/O.
 *
 * A number set is the `numbers =` config value: a comma-separated list of
 * E.164 numbers and ranges "FIRST-LAST" of numbers with the same length
 * whose digits differ only at the end (+4930123450-+4930123459). Ranges hold
 * at most CW_SMS_RANGE_MAX numbers each and the set at most CW_SMS_SET_MAX
 * entries, so a typo cannot make a set of 10^12 numbers.
 *
 * National numbers: with a default country (ISO 3166 alpha-2 "DE", "US", or a
 * calling code "49", "1"), a number without "+" or "00" is read as national:
 * the trunk prefix ("0" in most countries, "1" in NANP countries, none in
 * Italy) is dropped and the calling code put in front. Without a default
 * country only international forms are accepted.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SMS_RANGE_MAX 100000
#define CW_SMS_SET_MAX 1000

typedef struct CwSmsNumberSet CwSmsNumberSet;

/* Parse a `numbers` value. NULL with a message naming the bad entry and the
 * expected form (G_IO_ERROR_INVALID_ARGUMENT) on error. An empty spec is an
 * error too. */
CwSmsNumberSet *cw_sms_number_set_parse(const char *spec, GError **error);
void cw_sms_number_set_free(CwSmsNumberSet *set); /* NULL-safe */
/* Is e164 (normalised, "+" and digits) in the set? */
gboolean cw_sms_number_set_contains(const CwSmsNumberSet *set, const char *e164);
/* How many numbers the set holds. */
guint64 cw_sms_number_set_size(const CwSmsNumberSet *set);
/* The first n numbers of the set in config order (for forms and messages),
 * NULL-terminated, g_strfreev. */
char **cw_sms_number_set_first(const CwSmsNumberSet *set, guint n);
/* The set as the admin wrote it, normalised ("+4930123450-+4930123459, +15551230000"). */
char *cw_sms_number_set_describe(const CwSmsNumberSet *set);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsNumberSet, cw_sms_number_set_free)

/* A default country: NULL for none (only international numbers), else a
 * calling code. Returns FALSE when `value` is neither a known ISO 3166 alpha-2
 * code nor a calling code of 1 to 3 digits. *calling_code is set to the
 * digits ("49"), *trunk_prefix to the national trunk prefix ("0", "1" or "").
 * Both static strings. */
gboolean cw_sms_country_lookup(const char *value, const char **calling_code,
                               const char **trunk_prefix);

/* A number as a user typed it -> E.164 (allocated), or NULL. Spaces, dots,
 * dashes, slashes and parentheses are ignored. "+..." and "00..." are
 * international; other numbers are national in default_country (a value
 * cw_sms_country_lookup accepts, or NULL). "tel:" prefixes are accepted. */
char *cw_sms_number_parse(const char *typed, const char *default_country);

G_END_DECLS
