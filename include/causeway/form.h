/* form.h — a transport's description of a data form (XEP-0004), free of XML.
 *
 * A transport declares its registration and settings forms as const arrays of
 * CwFormField; the core turns them into <x xmlns='jabber:x:data'/> forms and
 * into the legacy jabber:iq:register fields (XEP-0077 §3), validates what the
 * user submits and stores it.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    CW_FIELD_TEXT_SINGLE = 0,
    CW_FIELD_TEXT_PRIVATE,  /* passwords: stored encrypted, never echoed back */
    CW_FIELD_TEXT_MULTI,    /* value lines joined with '\n' */
    CW_FIELD_BOOLEAN,       /* normalised to "1" / "0" */
    CW_FIELD_LIST_SINGLE,   /* value must be one of options */
    CW_FIELD_JID_SINGLE,
    CW_FIELD_FIXED,         /* display text only, never submitted */
    CW_FIELD_HIDDEN,
} CwFieldType;

typedef struct {
    const char *var;           /* field name; also the store key */
    const char *label;
    CwFieldType type;
    gboolean required;
    const char *default_value; /* may be NULL */
    const char *const *options;/* LIST_SINGLE: NULL-terminated values */
    const char *legacy_name;   /* jabber:iq:register element (username, password, nick,
                                  ...) for clients without data forms; NULL = form only */
    const char *desc;          /* <desc/> help text; may be NULL */
} CwFormField;

typedef struct {
    const char *title;
    const char *instructions;
    const CwFormField *fields;
    gsize n_fields;
} CwFormSpec;

/* Find a field by var; NULL if absent. */
const CwFormField *cw_form_spec_field(const CwFormSpec *spec, const char *var);

/* Validate submitted values against the spec, in place.
 *
 * values: a GHashTable of char *var -> char *value that owns both, i.e. made
 * with g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free); this
 * function inserts, replaces and removes entries.
 *
 * On success: booleans normalised to "1"/"0" (exactly "true"/"1"/"false"/"0"
 * accepted), unknown vars and FIXED fields removed. An empty value counts as
 * missing: a missing optional field gets its default, or is absent from the
 * table (an empty one removed) when it has none. TEXT_MULTI values are kept
 * as submitted.
 *
 * FALSE with a user-readable message in error (G_IO_ERROR_INVALID_ARGUMENT)
 * naming the field's label (its var if it has none) when a required field is
 * missing or empty, a boolean is not a boolean, a list value is not an option,
 * a JID_SINGLE value is not a valid JID (cw_jid_is_valid()), or a value is not
 * valid UTF-8 or longer than 4096 bytes. Fields are checked in spec order and
 * the first failure is reported; on FALSE the table is left unchanged. */
gboolean cw_form_validate(const CwFormSpec *spec, GHashTable *values, GError **error);

G_END_DECLS
