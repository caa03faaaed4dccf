/* dataform.c — XEP-0004 data forms (and XEP-0077 legacy fields) to and from XML. */
#include "dataform.h"

#include <gio/gio.h>
#include <string.h>

#include "stanza.h"

static const char *const field_type_names[] = {
    [CW_FIELD_TEXT_SINGLE] = "text-single", [CW_FIELD_TEXT_PRIVATE] = "text-private",
    [CW_FIELD_TEXT_MULTI] = "text-multi",   [CW_FIELD_BOOLEAN] = "boolean",
    [CW_FIELD_LIST_SINGLE] = "list-single", [CW_FIELD_JID_SINGLE] = "jid-single",
    [CW_FIELD_FIXED] = "fixed",             [CW_FIELD_HIDDEN] = "hidden",
};

GHashTable *
cw_values_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
add_values(xmpp_stanza_t *field, CwFieldType type, const char *value)
{
    if (!value)
        return;
    if (type == CW_FIELD_TEXT_MULTI) {
        g_auto(GStrv) lines = g_strsplit(value, "\n", -1);
        for (char **l = lines; *l; l++)
            cw_stanza_add_text_child(field, "value", NULL, *l);
    } else {
        cw_stanza_add_text_child(field, "value", NULL, value);
    }
}

xmpp_stanza_t *
cw_dataform_build(xmpp_ctx_t *ctx, const CwFormSpec *spec, const char *type,
                  const char *form_type, GHashTable *values)
{
    xmpp_stanza_t *x = cw_stanza_new(ctx, "x", CW_NS_DATA);
    xmpp_stanza_set_type(x, type);
    if (spec->title)
        cw_stanza_add_text_child(x, "title", NULL, spec->title);
    if (spec->instructions)
        cw_stanza_add_text_child(x, "instructions", NULL, spec->instructions);
    if (form_type) {
        xmpp_stanza_t *f = cw_stanza_add_child(x, cw_stanza_new(ctx, "field", NULL));
        xmpp_stanza_set_attribute(f, "var", "FORM_TYPE");
        xmpp_stanza_set_attribute(f, "type", "hidden");
        cw_stanza_add_text_child(f, "value", NULL, form_type);
    }
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *def = &spec->fields[i];
        xmpp_stanza_t *f = cw_stanza_add_child(x, cw_stanza_new(ctx, "field", NULL));
        if (def->type != CW_FIELD_FIXED)
            xmpp_stanza_set_attribute(f, "var", def->var);
        xmpp_stanza_set_attribute(f, "type", field_type_names[def->type]);
        if (def->label)
            xmpp_stanza_set_attribute(f, "label", def->label);
        if (def->desc)
            cw_stanza_add_text_child(f, "desc", NULL, def->desc);
        if (def->required)
            cw_stanza_add_child(f, cw_stanza_new(ctx, "required", NULL));
        for (gsize j = 0; def->options && def->options[j]; j++) {
            const char *o = def->options[j];
            const char *label = def->option_labels && def->option_labels[j] && *def->option_labels[j]
                                    ? def->option_labels[j] : o;
            xmpp_stanza_t *opt = cw_stanza_add_child(f, cw_stanza_new(ctx, "option", NULL));
            xmpp_stanza_set_attribute(opt, "label", label);
            cw_stanza_add_text_child(opt, "value", NULL, o);
        }
        if (cw_form_field_is_write_only(def))
            continue; /* never echo a secret */
        const char *v = values ? g_hash_table_lookup(values, def->var) : NULL;
        if (def->type == CW_FIELD_FIXED)
            v = def->default_value ? def->default_value : def->label;
        add_values(f, def->type, v ? v : def->default_value);
    }
    return x;
}

xmpp_stanza_t *
cw_dataform_result(xmpp_ctx_t *ctx, const char *title, const char *const *vars,
                   const char *const *labels, const char *const *values)
{
    xmpp_stanza_t *x = cw_stanza_new(ctx, "x", CW_NS_DATA);
    xmpp_stanza_set_type(x, "result");
    if (title)
        cw_stanza_add_text_child(x, "title", NULL, title);
    for (gsize i = 0; vars[i]; i++) {
        xmpp_stanza_t *f = cw_stanza_add_child(x, cw_stanza_new(ctx, "field", NULL));
        xmpp_stanza_set_attribute(f, "var", vars[i]);
        xmpp_stanza_set_attribute(f, "type", "text-single");
        if (labels && labels[i])
            xmpp_stanza_set_attribute(f, "label", labels[i]);
        cw_stanza_add_text_child(f, "value", NULL, values[i]);
    }
    return x;
}

xmpp_stanza_t *
cw_dataform_find(xmpp_stanza_t *parent)
{
    return xmpp_stanza_get_child_by_name_and_ns(parent, "x", CW_NS_DATA);
}

GHashTable *
cw_dataform_parse_submit(xmpp_stanza_t *x, const char *form_type, GError **error)
{
    const char *type = xmpp_stanza_get_type(x);
    if (g_strcmp0(type, "submit") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "The data form must be of type 'submit'.");
        return NULL;
    }
    GHashTable *values = cw_values_new();
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(x); f; f = xmpp_stanza_get_next(f)) {
        if (!xmpp_stanza_is_tag(f) || g_strcmp0(xmpp_stanza_get_name(f), "field"))
            continue;
        const char *var = xmpp_stanza_get_attribute(f, "var");
        if (!var)
            continue;
        if (strcmp(var, "FORM_TYPE") == 0) {
            g_autofree char *ft = cw_stanza_child_text(f, "value", NULL);
            if (form_type && g_strcmp0(ft, form_type) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "The form's FORM_TYPE must be %s.", form_type);
                g_hash_table_unref(values);
                return NULL;
            }
            continue;
        }
        GString *joined = g_string_new(NULL);
        gboolean first = TRUE;
        for (xmpp_stanza_t *v = xmpp_stanza_get_children(f); v; v = xmpp_stanza_get_next(v)) {
            if (!xmpp_stanza_is_tag(v) || g_strcmp0(xmpp_stanza_get_name(v), "value"))
                continue;
            char *text = xmpp_stanza_get_text(v);
            if (!first)
                g_string_append_c(joined, '\n');
            g_string_append(joined, text ? text : "");
            if (text)
                xmpp_free(xmpp_stanza_get_context(x), text);
            first = FALSE;
        }
        g_hash_table_replace(values, g_strdup(var), g_string_free(joined, FALSE));
    }
    return values;
}

void
cw_dataform_add_legacy_fields(xmpp_stanza_t *query, const CwFormSpec *spec, GHashTable *values)
{
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *def = &spec->fields[i];
        if (!def->legacy_name)
            continue;
        const char *v = NULL;
        if (values && !cw_form_field_is_write_only(def))
            v = g_hash_table_lookup(values, def->var);
        cw_stanza_add_text_child(query, def->legacy_name, NULL, v);
    }
}

GHashTable *
cw_dataform_parse_legacy(xmpp_stanza_t *query, const CwFormSpec *spec)
{
    GHashTable *values = cw_values_new();
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *def = &spec->fields[i];
        if (!def->legacy_name)
            continue;
        char *text = cw_stanza_child_text(query, def->legacy_name, NULL);
        if (text)
            g_hash_table_replace(values, g_strdup(def->var), text);
    }
    return values;
}
