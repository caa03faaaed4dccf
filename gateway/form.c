/* form.c — looking up and validating submitted data form (XEP-0004) values against a CwFormSpec. */
#include "causeway/form.h"

#include <gio/gio.h>
#include <string.h>

#include "causeway/jid.h"

#define CW_FORM_VALUE_MAX 4096

const CwFormField *cw_form_spec_field(const CwFormSpec *spec, const char *var)
{
    g_return_val_if_fail(spec != NULL, NULL);

    if (var == NULL)
        return NULL;
    for (gsize i = 0; i < spec->n_fields; i++)
        if (g_strcmp0(spec->fields[i].var, var) == 0)
            return &spec->fields[i];
    return NULL;
}

gboolean cw_form_field_is_encrypted(const CwFormField *f)
{
    g_return_val_if_fail(f != NULL, FALSE);
    return f->type == CW_FIELD_TEXT_PRIVATE || (f->flags & (CW_FIELD_ENCRYPTED | CW_FIELD_WRITE_ONLY));
}

gboolean cw_form_field_is_write_only(const CwFormField *f)
{
    g_return_val_if_fail(f != NULL, FALSE);
    return f->type == CW_FIELD_TEXT_PRIVATE || (f->flags & CW_FIELD_WRITE_ONLY);
}

gboolean cw_form_field_keeps_stored(const CwFormField *f)
{
    return cw_form_field_is_write_only(f) || (f->flags & CW_FIELD_READ_ONLY);
}

/* Values may be passwords or private keys: wiped when the copy goes. */
static void cw_form_wipe_free(gpointer p)
{
    if (p != NULL)
        explicit_bzero(p, strlen(p));
    g_free(p);
}

static GHashTable *cw_form_values_copy(GHashTable *values)
{
    GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cw_form_wipe_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(copy, g_strdup(k), g_strdup(v));
    return copy;
}

/* Make values hold exactly what saved holds. */
static void cw_form_values_restore(GHashTable *values, GHashTable *saved)
{
    g_hash_table_remove_all(values);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, saved);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(values, g_strdup(k), g_strdup(v));
}

static const char *cw_form_field_name(const CwFormField *f)
{
    return f->label != NULL ? f->label : f->var;
}

/* "1"/"0" for the accepted spellings of a boolean (XML Schema's), else NULL. */
static const char *cw_form_bool_norm(const char *v)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        return "1";
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        return "0";
    return NULL;
}

static gboolean cw_form_is_option(const CwFormField *f, const char *v)
{
    for (const char *const *o = f->options; o != NULL && *o != NULL; o++)
        if (strcmp(*o, v) == 0)
            return TRUE;
    return FALSE;
}

/* Check one submitted field without touching the table. A NULL or empty value
 * counts as missing. */
static gboolean cw_form_check_field(const CwFormField *f, const char *v, GError **error)
{
    const char *name = cw_form_field_name(f);

    if (v == NULL || *v == '\0') {
        if (!f->required)
            return TRUE;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "The field \"%s\" is required.", name);
        return FALSE;
    }
    /* Length first: no point scanning megabytes for UTF-8. */
    gsize max = f->max_bytes ? f->max_bytes : CW_FORM_VALUE_MAX;
    if (strlen(v) > max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "The field \"%s\" is longer than %zu bytes.", name, max);
        return FALSE;
    }
    if (!g_utf8_validate(v, -1, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "The field \"%s\" is not valid UTF-8.", name);
        return FALSE;
    }
    if (f->type != CW_FIELD_TEXT_MULTI && strpbrk(v, "\r\n") != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "The field \"%s\" takes a single line.", name);
        return FALSE;
    }
    switch (f->type) {
    case CW_FIELD_BOOLEAN:
        if (cw_form_bool_norm(v) == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "The field \"%s\" must be true or false.", name);
            return FALSE;
        }
        break;
    case CW_FIELD_LIST_SINGLE:
        if (!cw_form_is_option(f, v)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "The field \"%s\" must be one of the offered choices.", name);
            return FALSE;
        }
        break;
    case CW_FIELD_JID_SINGLE:
        if (!cw_jid_is_valid(v)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "The field \"%s\" is not a valid JID.", name);
            return FALSE;
        }
        break;
    default:
        break;
    }
    return TRUE;
}

gboolean cw_form_validate(const CwFormSpec *spec, GHashTable *values, GError **error)
{
    g_return_val_if_fail(spec != NULL, FALSE);
    g_return_val_if_fail(values != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    /* Check everything before changing anything, so a rejected submission
     * leaves the table as it came. */
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        if (f->type != CW_FIELD_FIXED && !(f->flags & CW_FIELD_READ_ONLY)
            && !cw_form_check_field(f, g_hash_table_lookup(values, f->var), error))
            return FALSE;
    }

    /* Hooks run after the table is normalised: keep what came in, to put
     * it back if one refuses. */
    g_autoptr(GHashTable) before = NULL;
    for (gsize i = 0; i < spec->n_fields && before == NULL; i++)
        if (spec->fields[i].check != NULL)
            before = cw_form_values_copy(values);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const CwFormField *f = cw_form_spec_field(spec, key);
        if (f == NULL || f->type == CW_FIELD_FIXED || (f->flags & CW_FIELD_READ_ONLY))
            g_hash_table_iter_remove(&it);
    }

    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        const char *v = g_hash_table_lookup(values, f->var);

        if (f->type == CW_FIELD_FIXED)
            continue;
        if (v == NULL || *v == '\0') {
            if (f->default_value != NULL)
                g_hash_table_replace(values, g_strdup(f->var), g_strdup(f->default_value));
            else if (v != NULL)
                g_hash_table_remove(values, f->var);
            v = g_hash_table_lookup(values, f->var);
        }
        if (f->type == CW_FIELD_BOOLEAN && v != NULL) {
            const char *norm = cw_form_bool_norm(v);
            if (norm != NULL && strcmp(norm, v) != 0)
                g_hash_table_replace(values, g_strdup(f->var), g_strdup(norm));
        }
    }
    /* Last, so a hook sees normalised values; a failing hook changes nothing. */
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        const char *v = g_hash_table_lookup(values, f->var);
        if (f->check != NULL && v != NULL && *v != '\0' && !f->check(f, values, error)) {
            cw_form_values_restore(values, before);
            return FALSE;
        }
    }
    return TRUE;
}
