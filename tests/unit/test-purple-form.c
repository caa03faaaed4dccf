/* test-purple-form.c — unit tests for purple-core.c and purple-form.c: the
 * registration forms generated from real plugins (prpl-jabber, prpl-irc and a
 * third-party one, purple-discord), the account name round trip, options
 * applied to an account, and that no password reaches libpurple's files. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "purple/purple-core.h"
#include "purple/purple-form.h"

static char *dir;

static const char *
type_name(CwFieldType type)
{
    static const char *const names[] = { "text-single", "text-private", "text-multi", "boolean",
                                         "list-single", "jid-single",   "fixed",      "hidden" };
    return type < G_N_ELEMENTS(names) ? names[type] : "?";
}

static void
show(const CwFormSpec *spec)
{
    g_test_message("form \"%s\" (%zu fields)", spec->title, spec->n_fields);
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        GString *opts = g_string_new(NULL);
        for (const char *const *o = f->options; o && *o; o++)
            g_string_append_printf(opts, "%s%s", opts->len ? "|" : " [", *o);
        if (opts->len)
            g_string_append_c(opts, ']');
        g_test_message("  %-24s %-12s %s%s default=%s%s \"%s\"", f->var, type_name(f->type),
                       f->required ? "required " : "", f->check ? "checked" : "",
                       f->default_value ? f->default_value : "-", opts->str,
                       f->label ? f->label : "");
        g_string_free(opts, TRUE);
    }
}

static CwPurpleForm *
form_of(const char *id)
{
    PurplePlugin *prpl = cw_purple_core_find_protocol(id);
    if (!prpl)
        return NULL;
    CwPurpleForm *form = cw_purple_form_new(prpl);
    show(cw_purple_form_spec(form));
    return form;
}

static GHashTable *
table(const char *first, ...)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    va_list ap;
    va_start(ap, first);
    for (const char *k = first; k; k = va_arg(ap, const char *))
        g_hash_table_insert(t, g_strdup(k), g_strdup(va_arg(ap, const char *)));
    va_end(ap);
    return t;
}

static void
test_protocols(void)
{
    g_autofree char *list = cw_purple_core_protocol_list();
    g_test_message("installed protocols: %s", list);
    g_assert_nonnull(strstr(list, "prpl-jabber"));
    g_assert_nonnull(strstr(list, "prpl-irc"));
    g_assert_null(cw_purple_core_find_protocol("prpl-nonesuch"));
    g_assert_null(cw_purple_core_find_protocol("core-autoaccept")); /* a plugin, not a protocol */
}

static void
test_jabber(void)
{
    CwPurpleForm *form = form_of("prpl-jabber");
    g_assert_nonnull(form);
    const CwFormSpec *spec = cw_purple_form_spec(form);
    g_assert_cmpstr(spec->fields[0].var, ==, "username");
    const CwFormField *domain = cw_form_spec_field(spec, "split1");
    const CwFormField *resource = cw_form_spec_field(spec, "split2");
    g_assert_nonnull(domain);
    g_assert_nonnull(resource);
    g_assert_cmpstr(domain->label, ==, "Domain");
    g_assert_cmpstr(resource->label, ==, "Resource");
    const CwFormField *pw = cw_form_spec_field(spec, "password");
    g_assert_nonnull(pw);
    g_assert_cmpint(pw->type, ==, CW_FIELD_TEXT_PRIVATE);
    g_assert_false(pw->required); /* prpl-jabber has OPT_PROTO_PASSWORD_OPTIONAL (SASL EXTERNAL) */
    const CwFormField *sec = cw_form_spec_field(spec, "connection_security");
    g_assert_nonnull(sec);
    g_assert_cmpint(sec->type, ==, CW_FIELD_LIST_SINGLE);
    g_assert_true(g_strv_contains(sec->options, "opportunistic_tls"));
    g_assert_true(g_strv_contains(sec->options, "require_tls"));
    /* Each choice keeps libpurple's own text (the key of its PurpleKeyValuePair). */
    g_assert_nonnull(sec->option_labels);
    for (guint i = 0; sec->options[i]; i++) {
        if (!strcmp(sec->options[i], "opportunistic_tls"))
            g_assert_cmpstr(sec->option_labels[i], ==, "Use encryption if available");
        else if (!strcmp(sec->options[i], "require_tls"))
            g_assert_cmpstr(sec->option_labels[i], ==, "Require encryption");
    }
    const CwFormField *port = cw_form_spec_field(spec, "port");
    g_assert_nonnull(port);
    g_assert_cmpstr(port->default_value, ==, "5222");
    g_assert_nonnull(port->check);
    const CwFormField *plain = cw_form_spec_field(spec, "auth_plain_in_clear");
    g_assert_nonnull(plain);
    g_assert_cmpint(plain->type, ==, CW_FIELD_BOOLEAN);
    const CwFormField *stay = cw_form_spec_field(spec, "stay_connected");
    g_assert_nonnull(stay);
    g_assert_cmpint(stay->type, ==, CW_FIELD_BOOLEAN);

    /* A submission validates, and gives the account name. */
    g_autoptr(GHashTable) v = table("username", "alice", "split1", "legacy.example",
                                    "password", "s3cret", "port", "5333",
                                    "connection_security", "opportunistic_tls", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_form_validate(spec, v, &error));
    g_assert_no_error(error);
    g_autofree char *name = cw_purple_form_username(form, v);
    g_test_message("account name: %s", name);
    g_assert_cmpstr(name, ==, "alice@legacy.example"); /* the empty resource is left out */
    g_hash_table_replace(v, g_strdup("split2"), g_strdup("gw"));
    g_autofree char *full = cw_purple_form_username(form, v);
    g_assert_cmpstr(full, ==, "alice@legacy.example/gw");
    g_autoptr(GHashTable) back = table(NULL);
    cw_purple_form_split_username(form, full, back);
    g_assert_cmpstr(g_hash_table_lookup(back, "username"), ==, "alice");
    g_assert_cmpstr(g_hash_table_lookup(back, "split1"), ==, "legacy.example");
    g_assert_cmpstr(g_hash_table_lookup(back, "split2"), ==, "gw");

    /* Not an integer: refused by the check hook. */
    g_autoptr(GHashTable) bad = table("username", "alice", "split1", "x", "password", "p",
                                      "port", "52x", NULL);
    g_assert_false(cw_form_validate(spec, bad, &error));
    g_test_message("refused: %s", error->message);
    g_clear_error(&error);

    /* Options reach the account; the password never reaches its files. */
    PurpleAccount *a = purple_account_new(name, "prpl-jabber");
    purple_accounts_add(a);
    purple_account_set_remember_password(a, FALSE);
    cw_purple_form_apply(form, v, a);
    g_assert_cmpint(purple_account_get_int(a, "port", 0), ==, 5333);
    g_assert_cmpstr(purple_account_get_string(a, "connection_security", NULL), ==,
                    "opportunistic_tls");
    purple_account_set_password(a, "s3cret");
    purple_account_set_password(a, NULL);
    cw_purple_core_deinit(); /* writes accounts.xml, blist.xml, prefs.xml */
    g_autofree char *accounts = g_build_filename(dir, "accounts.xml", NULL);
    g_autofree char *xml = NULL;
    g_assert_true(g_file_get_contents(accounts, &xml, NULL, NULL));
    g_assert_nonnull(strstr(xml, "alice@legacy.example"));
    g_assert_null(strstr(xml, "s3cret"));
    g_autofree char *prefs = g_build_filename(dir, "prefs.xml", NULL);
    g_autofree char *pxml = NULL;
    g_assert_true(g_file_get_contents(prefs, &pxml, NULL, NULL));
    g_assert_nonnull(strstr(pxml, "<pref name='log_ims' type='bool' value='0'"));
    cw_purple_form_free(form);
}

static void
test_irc(void)
{
    CwPurpleForm *form = form_of("prpl-irc");
    g_assert_nonnull(form);
    const CwFormSpec *spec = cw_purple_form_spec(form);
    const CwFormField *server = cw_form_spec_field(spec, "split1");
    g_assert_nonnull(server);
    g_assert_cmpstr(server->label, ==, "Server");
    g_assert_cmpstr(server->default_value, ==, "irc.libera.chat");
    /* IRC's password is optional; its "username" option must not clash with ours. */
    g_assert_false(cw_purple_form_needs_password(form));
    g_assert_false(cw_form_spec_field(spec, "password")->required);
    const CwFormField *ident = cw_form_spec_field(spec, "option_username");
    g_assert_nonnull(ident);
    g_assert_cmpint(cw_form_spec_field(spec, "ssl")->type, ==, CW_FIELD_BOOLEAN);
    g_assert_cmpstr(cw_form_spec_field(spec, "port")->default_value, ==, "6667");

    g_autoptr(GHashTable) v = table("username", "alice", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_form_validate(spec, v, &error));
    g_autofree char *name = cw_purple_form_username(form, v);
    g_assert_cmpstr(name, ==, "alice@irc.libera.chat"); /* the split's default */
    g_autoptr(GHashTable) back = table(NULL);
    cw_purple_form_split_username(form, name, back);
    g_assert_cmpstr(g_hash_table_lookup(back, "username"), ==, "alice");
    g_assert_cmpstr(g_hash_table_lookup(back, "split1"), ==, "irc.libera.chat");
    cw_purple_form_free(form);
}

static void
test_discord(void)
{
    CwPurpleForm *form = form_of("prpl-eionrobb-discord");
    if (!form) {
        g_test_skip("purple-discord is not installed");
        return;
    }
    const CwFormSpec *spec = cw_purple_form_spec(form);
    g_assert_cmpstr(spec->fields[0].var, ==, "username");
    g_assert_nonnull(cw_form_spec_field(spec, "stay_connected"));
    /* Every field is one the core can validate: a list has options, an int a check. */
    for (gsize i = 0; i < spec->n_fields; i++) {
        const CwFormField *f = &spec->fields[i];
        g_assert_nonnull(f->var);
        if (f->type == CW_FIELD_LIST_SINGLE)
            g_assert_nonnull(f->options);
    }
    g_autoptr(GHashTable) v = table("username", "alice@example.com", "password", "p", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_form_validate(spec, v, &error));
    g_assert_no_error(error);
    g_autofree char *name = cw_purple_form_username(form, v);
    g_assert_cmpstr(name, ==, "alice@example.com");
    cw_purple_form_free(form);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *tmp = g_dir_make_tmp("cw-purple-XXXXXX", NULL);
    dir = g_build_filename(tmp, "purple", NULL);
    g_autoptr(GError) error = NULL;
    if (!cw_purple_core_init(dir, FALSE, NULL, NULL, &error))
        g_error("libpurple: %s", error->message);
    struct stat st;
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_cmpstr(g_getenv("GST_PLUGIN_SYSTEM_PATH_1_0"), ==, "");
    g_test_add_func("/purple/protocols", test_protocols);
    g_test_add_func("/purple/form/irc", test_irc);
    g_test_add_func("/purple/form/discord", test_discord);
    g_test_add_func("/purple/form/jabber", test_jabber); /* last: it deinits libpurple */
    int rc = g_test_run();
    cw_purple_core_deinit();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    if (system(rm) != 0)
        g_warning("could not remove %s", tmp);
    g_free(dir);
    return rc;
}
