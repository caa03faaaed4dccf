/* test-limits.c — the core's per-user limits (user-limits.c): config keys, defaults, checks. */
#include "gateway.h"

#include <glib/gstdio.h>
#include <string.h>

#define BASE "[transport:loop]\ntype = loopback\ndomain = loop.test\nsecret = s\n"

static CwConfig *
load(const char *gateway_section, GError **error)
{
    g_autofree char *ini = g_strdup_printf("[gateway]\n%s\n" BASE, gateway_section);
    return cw_config_load_data(ini, "limits.ini", error);
}

static void test_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = load("", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_ROOMS], ==, 100);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_CONTACTS], ==, 500);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_SCOPES], ==, 20);
    for (guint i = 0; i < CW_LIMIT_COUNT; i++) {
        g_assert_cmpuint(c->limits.max[i], ==, cw_limits_default(i));
        g_assert_cmpstr(cw_limits_key(i), ==, cw_limits_keys[i]);
    }
    g_assert_null(cw_limits_keys[CW_LIMIT_COUNT]);
}

static void test_config(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = load("max_rooms_per_user = 3\nmax_contacts_per_user = 7\n"
                                 "max_settings_scopes_per_user = 1\n", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_ROOMS], ==, 3);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_CONTACTS], ==, 7);
    g_assert_cmpuint(c->limits.max[CW_LIMIT_SCOPES], ==, 1);

    /* bad values: one line naming the file, the section, the key and the range */
    static const struct {
        const char *line, *key;
    } bad[] = {
        { "max_rooms_per_user = 0", "max_rooms_per_user" },
        { "max_rooms_per_user = -1", "max_rooms_per_user" },
        { "max_contacts_per_user = lots", "max_contacts_per_user" },
        { "max_settings_scopes_per_user = 100001", "max_settings_scopes_per_user" },
        { "max_room_per_user = 5", "max_room_per_user" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(CwConfig) none = load(bad[i].line, &e);
        g_assert_null(none);
        g_assert_error(e, CW_CONFIG_ERROR, 0);
        g_autofree char *want = g_strdup_printf("limits.ini: [gateway] %s: ", bad[i].key);
        if (!g_str_has_prefix(e->message, want))
            g_error("%s: got '%s'", bad[i].line, e->message);
        g_assert_null(strchr(e->message, '\n'));
    }
}

static void test_check(void)
{
    CwLimits l = { .max = { [CW_LIMIT_ROOMS] = 2, [CW_LIMIT_CONTACTS] = 1, [CW_LIMIT_SCOPES] = 1 } };
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_limits_check(&l, CW_LIMIT_ROOMS, 0, &error));
    g_assert_true(cw_limits_check(&l, CW_LIMIT_ROOMS, 1, &error));
    g_assert_no_error(error);
    g_assert_false(cw_limits_check(&l, CW_LIMIT_ROOMS, 2, &error));
    g_assert_error(error, CW_LIMITS_ERROR, CW_LIMITS_ERROR_REACHED);
    g_assert_nonnull(strstr(error->message, "max_rooms_per_user = 2"));
    g_assert_nonnull(strstr(error->message, "You have 2 rooms"));
    g_clear_error(&error);
    g_assert_false(cw_limits_check(&l, CW_LIMIT_ROOMS, 5000, &error));
    g_clear_error(&error);
    g_assert_false(cw_limits_check(&l, CW_LIMIT_CONTACTS, 1, &error));
    g_assert_nonnull(strstr(error->message, "max_contacts_per_user = 1"));
}

/* A gateway with just a config and a store, for the checks that count. */
typedef struct {
    char *dir;
    CwSecrets *secrets;
    CwGateway gw;
    CwUser user;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("cw-limits-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *key = g_build_filename(f->dir, "key", NULL);
    g_autofree char *db = g_build_filename(f->dir, "t.db", NULL);
    f->secrets = cw_secrets_open(key, &error);
    g_assert_no_error(error);
    f->gw.store = cw_store_open(db, f->secrets, &error);
    g_assert_no_error(error);
    f->gw.config = load("max_contacts_per_user = 2\nmax_settings_scopes_per_user = 2\n", &error);
    g_assert_no_error(error);
    f->user.gw = &f->gw;
    f->user.jid = g_strdup("alice@example.org");
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->user.unstored_contacts, g_hash_table_unref);
    g_free(f->user.jid);
    cw_config_free(f->gw.config);
    cw_store_close(f->gw.store);
    cw_secrets_free(f->secrets);
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
}

static void test_scopes(Fixture *f, gconstpointer data)
{
    CwStore *st = f->gw.store;
    const CwLimits *l = &f->gw.config->limits;
    const char *u = f->user.jid;
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_store_user_add(st, u, &error));
    /* registration fields and the Configure form never count */
    g_assert_true(cw_store_value_set(st, u, "", "nick", "alice", FALSE, &error));
    g_assert_true(cw_store_value_set(st, u, "settings", "x", "1", FALSE, &error));
    g_assert_false(cw_limits_scope_counts(""));
    g_assert_false(cw_limits_scope_counts("settings"));
    g_assert_true(cw_limits_scope_counts("server:a"));

    for (int i = 0; i < 2; i++) {
        g_autofree char *scope = g_strdup_printf("server:s%d", i);
        g_assert_true(cw_limits_check_scope(l, st, u, scope, &error));
        g_assert_no_error(error);
        g_assert_true(cw_store_value_set(st, u, scope, "port", "6667", FALSE, &error));
    }
    /* a third entity is refused, an existing one can still change */
    g_assert_false(cw_limits_check_scope(l, st, u, "server:s2", &error));
    g_assert_error(error, CW_LIMITS_ERROR, CW_LIMITS_ERROR_REACHED);
    g_assert_nonnull(strstr(error->message, "max_settings_scopes_per_user = 2"));
    g_clear_error(&error);
    g_assert_true(cw_limits_check_scope(l, st, u, "server:s1", &error));
    g_assert_true(cw_limits_check_scope(l, st, u, "settings", &error));
    g_assert_true(cw_limits_check_scope(l, st, u, "", &error));
    /* another user is not affected */
    g_assert_true(cw_store_user_add(st, "bob@example.org", &error));
    g_assert_true(cw_limits_check_scope(l, st, "bob@example.org", "server:s2", &error));
    g_assert_no_error(error);

    /* cw_user_set_value (the transports' way to store) obeys it too */
    g_assert_false(cw_user_set_value(&f->user, "server:s9", "port", "1", FALSE));
    g_autofree char *v = cw_store_value_get(st, u, "server:s9", "port", &error);
    g_assert_null(v);
    g_assert_true(cw_user_set_value(&f->user, "server:s0", "port", "7000", FALSE));
    /* deleting a value in a new scope creates nothing and is allowed */
    g_assert_true(cw_user_set_value(&f->user, "server:s9", "port", NULL, FALSE));

    g_autoptr(GPtrArray) scopes = cw_store_scope_list(st, u, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(scopes->len, ==, 4);
    g_assert_cmpstr(scopes->pdata[0], ==, "");
    g_assert_cmpstr(scopes->pdata[1], ==, "server:s0");
    g_assert_cmpstr(scopes->pdata[3], ==, "settings");
}

static void test_contacts_registered(Fixture *f, gconstpointer data)
{
    CwStore *st = f->gw.store;
    g_autoptr(GError) error = NULL;
    f->user.registered = TRUE;
    g_assert_true(cw_store_user_add(st, f->user.jid, &error));
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "a@loop.test", &error));
    g_assert_true(cw_store_contact_add(st, f->user.jid, "a@loop.test", "a", NULL, &error));
    g_assert_true(cw_store_contact_add(st, f->user.jid, "b@loop.test", "b", NULL, &error));
    g_assert_false(cw_limits_check_contact(&f->gw, &f->user, "c@loop.test", &error));
    g_assert_error(error, CW_LIMITS_ERROR, CW_LIMITS_ERROR_REACHED);
    g_assert_nonnull(strstr(error->message, "max_contacts_per_user = 2"));
    g_clear_error(&error);
    /* subscribing again to a contact already there creates nothing */
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "b@loop.test", &error));
    g_assert_true(cw_store_contact_remove(st, f->user.jid, "a@loop.test", &error));
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "c@loop.test", &error));
}

static void test_contacts_unregistered(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "a@loop.test", &error));
    cw_limits_note_contact(&f->user, "a@loop.test", TRUE);
    cw_limits_note_contact(&f->user, "a@loop.test", TRUE); /* twice: still one */
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "b@loop.test", &error));
    cw_limits_note_contact(&f->user, "b@loop.test", TRUE);
    g_assert_false(cw_limits_check_contact(&f->gw, &f->user, "c@loop.test", &error));
    g_assert_error(error, CW_LIMITS_ERROR, CW_LIMITS_ERROR_REACHED);
    g_clear_error(&error);
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "a@loop.test", &error));
    cw_limits_note_contact(&f->user, "a@loop.test", FALSE);
    g_assert_true(cw_limits_check_contact(&f->gw, &f->user, "c@loop.test", &error));
    /* nothing was stored for them */
    g_autoptr(GPtrArray) stored = cw_store_contact_list(f->gw.store, f->user.jid, &error);
    g_assert_cmpuint(stored->len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/limits/defaults", test_defaults);
    g_test_add_func("/limits/config", test_config);
    g_test_add_func("/limits/check", test_check);
    g_test_add("/limits/scopes", Fixture, NULL, fixture_setup, test_scopes, fixture_teardown);
    g_test_add("/limits/contacts-registered", Fixture, NULL, fixture_setup, test_contacts_registered,
               fixture_teardown);
    g_test_add("/limits/contacts-unregistered", Fixture, NULL, fixture_setup,
               test_contacts_unregistered, fixture_teardown);
    return g_test_run();
}
