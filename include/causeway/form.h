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
    CW_FIELD_TEXT_PRIVATE,  /* passwords: stored encrypted, never echoed back
                               (implies CW_FIELD_ENCRYPTED | CW_FIELD_WRITE_ONLY) */
    CW_FIELD_TEXT_MULTI,    /* value lines joined with '\n' */
    CW_FIELD_BOOLEAN,       /* normalised to "1" / "0" */
    CW_FIELD_LIST_SINGLE,   /* value must be one of options */
    CW_FIELD_JID_SINGLE,
    CW_FIELD_FIXED,         /* display text only, never submitted */
    CW_FIELD_HIDDEN,
} CwFieldType;

/* Flags of a field, for what its type does not say. */
typedef enum {
    /* Stored encrypted (bound to the user's row), but shown back to the user
     * in the form like any value: for text the user must be able to read
     * and edit that may hold a secret (IRC commands sent after connecting,
     * "PRIVMSG NickServ :IDENTIFY ..."). */
    CW_FIELD_ENCRYPTED = 1 << 0,
    /* Never shown back (implies ENCRYPTED); an empty submission keeps the
     * stored value. What TEXT_PRIVATE does, for fields of another type (a
     * multi-line PEM certificate and private key). */
    CW_FIELD_WRITE_ONLY = 1 << 1,
    /* Shown, never taken from the user: a submitted value is dropped (a
     * check hook may set one), and without one the stored value is kept.
     * For what the gateway computes (a certificate's fingerprint). */
    CW_FIELD_READ_ONLY = 1 << 2,
} CwFieldFlags;

typedef struct CwFormField CwFormField;

/* A field's own check, run by cw_form_validate() after every other check
 * when the field has a non-empty value: FALSE + a user-readable error
 * refuses the submission; it may replace the field's value in values (a
 * normalised form) and set the values of READ_ONLY fields derived from it.
 * It must change nothing when it fails. */
typedef gboolean (*CwFieldCheck)(const CwFormField *field, GHashTable *values, GError **error);

struct CwFormField {
    const char *var;           /* field name; also the store key */
    const char *label;
    CwFieldType type;
    gboolean required;
    const char *default_value; /* may be NULL */
    const char *const *options;/* LIST_SINGLE: NULL-terminated values */
    const char *legacy_name;   /* jabber:iq:register element (username, password, nick,
                                  ...) for clients without data forms; NULL = form only */
    const char *desc;          /* <desc/> help text; may be NULL */
    CwFieldFlags flags;
    gsize max_bytes;           /* longest value accepted; 0 = 4096 */
    CwFieldCheck check;        /* may be NULL */
    const char *const *option_labels; /* LIST_SINGLE: what each option shows, same
                                  order and length as options; NULL (or a NULL
                                  entry) shows the value itself */
};

typedef struct {
    const char *title;
    const char *instructions;
    const CwFormField *fields;
    gsize n_fields;
} CwFormSpec;

/* Stored encrypted: TEXT_PRIVATE, ENCRYPTED or WRITE_ONLY. */
gboolean cw_form_field_is_encrypted(const CwFormField *field);
/* Never echoed back, and an empty submission keeps the stored value:
 * TEXT_PRIVATE or WRITE_ONLY. */
gboolean cw_form_field_is_write_only(const CwFormField *field);
/* Without a value after cw_form_validate(), the stored value is kept
 * (rather than deleted): write-only and READ_ONLY fields. */
gboolean cw_form_field_keeps_stored(const CwFormField *field);

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
 * valid UTF-8 or longer than the field's max_bytes (4096 by default), or a
 * field's check hook refuses it. Submitted values of READ_ONLY fields are
 * dropped; then check hooks run, in spec order, after all other checks.
 * Fields are checked in spec order and the first failure is reported; on
 * FALSE the table is left unchanged. */
gboolean cw_form_validate(const CwFormSpec *spec, GHashTable *values, GError **error);

G_END_DECLS
