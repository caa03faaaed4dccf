/* purple-form.c — a protocol plugin's user splits and options as a data form. */
#define G_LOG_DOMAIN "causeway-purple"
#include "purple-form.h"

#include <gio/gio.h>
#include <string.h>

typedef struct {
    PurpleAccountUserSplit *split;
} SplitRef;

struct CwPurpleForm {
    char *protocol;
    CwFormSpec spec;
    GArray *fields;          /* CwFormField */
    GPtrArray *strings;      /* everything the fields point to */
    GPtrArray *splits;       /* PurpleAccountUserSplit * (borrowed from the plugin) */
    GPtrArray *options;      /* PurpleAccountOption * (borrowed), same order as option_vars */
    GPtrArray *option_vars;  /* char * (in strings) */
    GPtrArray *vars;         /* char * (in strings), NULL-terminated */
    gboolean needs_password;
};

static const char *
keep(CwPurpleForm *f, char *s)
{
    if (s)
        g_ptr_array_add(f->strings, s);
    return s;
}

static gboolean
check_integer(const CwFormField *field, GHashTable *values, GError **error)
{
    const char *v = g_hash_table_lookup(values, field->var);
    gint64 n;
    if (!g_ascii_string_to_signed(v, 10, G_MININT, G_MAXINT, &n, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: '%.40s' is not a whole number",
                    field->label ? field->label : field->var, v);
        return FALSE;
    }
    return TRUE;
}

static gboolean
reserved_var(const char *var)
{
    return !strcmp(var, CW_PURPLE_FORM_USERNAME) || !strcmp(var, CW_PURPLE_FORM_PASSWORD) ||
           !strcmp(var, CW_PURPLE_FORM_STAY_CONNECTED) || g_str_has_prefix(var, "split") ||
           g_str_has_prefix(var, "option_");
}

static void
add_field(CwPurpleForm *f, CwFormField field)
{
    g_array_append_val(f->fields, field);
    g_ptr_array_add(f->vars, (gpointer)field.var);
}

static void
add_option(CwPurpleForm *f, PurpleAccountOption *opt)
{
    const char *setting = purple_account_option_get_setting(opt);
    if (!setting || !*setting)
        return;
    const char *var = reserved_var(setting) ? keep(f, g_strconcat("option_", setting, NULL))
                                            : keep(f, g_strdup(setting));
    CwFormField field = { .var = var, .label = keep(f, g_strdup(purple_account_option_get_text(opt))) };
    switch (purple_account_option_get_type(opt)) {
    case PURPLE_PREF_STRING:
        field.type = purple_account_option_get_masked(opt) ? CW_FIELD_TEXT_PRIVATE
                                                           : CW_FIELD_TEXT_SINGLE;
        field.default_value = keep(f, g_strdup(purple_account_option_get_default_string(opt)));
        if (field.default_value && !*field.default_value)
            field.default_value = NULL;
        break;
    case PURPLE_PREF_INT:
        field.type = CW_FIELD_TEXT_SINGLE;
        field.default_value = keep(f, g_strdup_printf("%d", purple_account_option_get_default_int(opt)));
        field.check = check_integer;
        field.max_bytes = 12;
        break;
    case PURPLE_PREF_BOOLEAN:
        field.type = CW_FIELD_BOOLEAN;
        field.default_value = purple_account_option_get_default_bool(opt) ? "1" : "0";
        break;
    case PURPLE_PREF_STRING_LIST: {
        field.type = CW_FIELD_LIST_SINGLE;
        /* libpurple's list: key = the text shown, value = what is stored. */
        GPtrArray *values = g_ptr_array_new();
        GPtrArray *labels = g_ptr_array_new();
        for (GList *l = purple_account_option_get_list(opt); l; l = l->next) {
            PurpleKeyValuePair *kv = l->data;
            if (kv && kv->value) {
                g_ptr_array_add(values, (gpointer)keep(f, g_strdup(kv->value)));
                g_ptr_array_add(labels, (gpointer)keep(f, g_strdup(kv->key)));
            }
        }
        if (values->len == 0) {
            g_ptr_array_free(values, TRUE);
            g_ptr_array_free(labels, TRUE);
            return;
        }
        g_ptr_array_add(values, NULL);
        g_ptr_array_add(labels, NULL);
        field.options = (const char *const *)values->pdata;
        field.option_labels = (const char *const *)labels->pdata;
        keep(f, (char *)g_ptr_array_free(values, FALSE)); /* the arrays themselves, freed with g_free */
        keep(f, (char *)g_ptr_array_free(labels, FALSE));
        const char *def = purple_account_option_get_default_list_value(opt);
        field.default_value = def ? keep(f, g_strdup(def)) : field.options[0];
        break;
    }
    default:
        return; /* no other option type exists in 2.14 */
    }
    add_field(f, field);
    g_ptr_array_add(f->options, opt);
    g_ptr_array_add(f->option_vars, (gpointer)var);
}

CwPurpleForm *
cw_purple_form_new(PurplePlugin *prpl)
{
    g_return_val_if_fail(prpl != NULL, NULL);
    PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO(prpl);
    g_return_val_if_fail(info != NULL, NULL);
    CwPurpleForm *f = g_new0(CwPurpleForm, 1);
    f->protocol = g_strdup(purple_plugin_get_id(prpl));
    f->fields = g_array_new(FALSE, TRUE, sizeof(CwFormField));
    f->strings = g_ptr_array_new_with_free_func(g_free);
    f->splits = g_ptr_array_new();
    f->options = g_ptr_array_new();
    f->option_vars = g_ptr_array_new();
    f->vars = g_ptr_array_new();

    const char *name = purple_plugin_get_name(prpl);
    add_field(f, (CwFormField){ .var = CW_PURPLE_FORM_USERNAME, .label = "Username",
                                .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
                                .legacy_name = "username", .max_bytes = 512 });
    guint n = 0;
    for (GList *l = info->user_splits; l; l = l->next) {
        PurpleAccountUserSplit *split = l->data;
        const char *def = purple_account_user_split_get_default_value(split);
        char sep = purple_account_user_split_get_separator(split);
        add_field(f, (CwFormField){
            .var = keep(f, g_strdup_printf("split%u", ++n)),
            .label = keep(f, g_strdup(purple_account_user_split_get_text(split))),
            .type = CW_FIELD_TEXT_SINGLE,
            .default_value = def && *def ? keep(f, g_strdup(def)) : NULL,
            .desc = keep(f, g_strdup_printf("Joined to the username with '%c'", sep)),
            .max_bytes = 512,
        });
        g_ptr_array_add(f->splits, split);
    }
    gboolean no_password = (info->options & OPT_PROTO_NO_PASSWORD) != 0;
    gboolean optional = (info->options & OPT_PROTO_PASSWORD_OPTIONAL) != 0;
    f->needs_password = !no_password && !optional;
    if (!no_password)
        add_field(f, (CwFormField){ .var = CW_PURPLE_FORM_PASSWORD, .label = "Password",
                                    .type = CW_FIELD_TEXT_PRIVATE, .required = f->needs_password,
                                    .legacy_name = "password", .max_bytes = 1024 });
    for (GList *l = info->protocol_options; l; l = l->next)
        add_option(f, l->data);
    add_field(f, (CwFormField){ .var = CW_PURPLE_FORM_STAY_CONNECTED,
                                .label = "Stay connected while I am offline",
                                .type = CW_FIELD_BOOLEAN, .default_value = "0" });
    g_ptr_array_add(f->vars, NULL);

    f->spec = (CwFormSpec){
        .title = keep(f, g_strdup_printf("%s account", name ? name : f->protocol)),
        .instructions = keep(f, g_strdup_printf(
            "Your %s account: this gateway logs in with it while you are online. The password "
            "is stored encrypted.", name ? name : f->protocol)),
        .fields = (const CwFormField *)f->fields->data,
        .n_fields = f->fields->len,
    };
    return f;
}

void
cw_purple_form_free(CwPurpleForm *f)
{
    if (!f)
        return;
    g_free(f->protocol);
    g_array_unref(f->fields);
    g_ptr_array_unref(f->strings);
    g_ptr_array_unref(f->splits);
    g_ptr_array_unref(f->options);
    g_ptr_array_unref(f->option_vars);
    g_ptr_array_unref(f->vars);
    g_free(f);
}

const CwFormSpec *
cw_purple_form_spec(const CwPurpleForm *f)
{
    return &f->spec;
}

const char *
cw_purple_form_protocol(const CwPurpleForm *f)
{
    return f->protocol;
}

gboolean
cw_purple_form_needs_password(const CwPurpleForm *f)
{
    return f->needs_password;
}

const char *const *
cw_purple_form_vars(const CwPurpleForm *f)
{
    return (const char *const *)f->vars->pdata;
}

static const char *
value_of(GHashTable *values, const char *var)
{
    const char *v = values ? g_hash_table_lookup(values, var) : NULL;
    return v && *v ? v : NULL;
}

char *
cw_purple_form_username(const CwPurpleForm *f, GHashTable *values)
{
    const char *user = value_of(values, CW_PURPLE_FORM_USERNAME);
    if (!user)
        return NULL;
    GString *s = g_string_new(user);
    for (guint i = 0; i < f->splits->len; i++) {
        PurpleAccountUserSplit *split = f->splits->pdata[i];
        g_autofree char *var = g_strdup_printf("split%u", i + 1);
        const char *v = value_of(values, var);
        if (!v)
            v = purple_account_user_split_get_default_value(split);
        if (v && *v)
            g_string_append_printf(s, "%c%s", purple_account_user_split_get_separator(split), v);
    }
    return g_string_free(s, FALSE);
}

void
cw_purple_form_split_username(const CwPurpleForm *f, const char *account_name, GHashTable *values)
{
    g_autofree char *rest = g_strdup(account_name);
    for (guint i = f->splits->len; i-- > 0;) {
        PurpleAccountUserSplit *split = f->splits->pdata[i];
        char sep = purple_account_user_split_get_separator(split);
        char *c = purple_account_user_split_get_reverse(split) ? strrchr(rest, sep)
                                                               : strchr(rest, sep);
        char *var = g_strdup_printf("split%u", i + 1);
        if (c) {
            *c = '\0';
            g_hash_table_replace(values, var, g_strdup(c + 1));
        } else {
            g_hash_table_remove(values, var);
            g_free(var);
        }
    }
    g_hash_table_replace(values, g_strdup(CW_PURPLE_FORM_USERNAME), g_strdup(rest));
}

void
cw_purple_form_apply(const CwPurpleForm *f, GHashTable *values, PurpleAccount *account)
{
    for (guint i = 0; i < f->options->len; i++) {
        PurpleAccountOption *opt = f->options->pdata[i];
        const char *setting = purple_account_option_get_setting(opt);
        const char *v = value_of(values, f->option_vars->pdata[i]);
        switch (purple_account_option_get_type(opt)) {
        case PURPLE_PREF_STRING: {
            /* Never NULL: plugins compare the setting without checking
             * (prpl-jabber's ft_proxies crashes on NULL). */
            const char *def = purple_account_option_get_default_string(opt);
            purple_account_set_string(account, setting, v ? v : def ? def : "");
            break;
        }
        case PURPLE_PREF_INT: {
            gint64 n = purple_account_option_get_default_int(opt);
            if (v)
                g_ascii_string_to_signed(v, 10, G_MININT, G_MAXINT, &n, NULL);
            purple_account_set_int(account, setting, (int)n);
            break;
        }
        case PURPLE_PREF_BOOLEAN:
            purple_account_set_bool(account, setting,
                                    v ? strcmp(v, "1") == 0 || g_ascii_strcasecmp(v, "true") == 0
                                      : purple_account_option_get_default_bool(opt));
            break;
        case PURPLE_PREF_STRING_LIST:
            if (v || purple_account_option_get_default_list_value(opt))
                purple_account_set_string(account, setting,
                                          v ? v : purple_account_option_get_default_list_value(opt));
            break;
        default:
            break;
        }
    }
}
