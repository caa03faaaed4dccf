/* test-admin.c — unit tests for administration: report lines (admin-report.c),
 * the audit record (admin-log.c), JID normalisation and user reports
 * (admin.c), and the store's admin queries (store.c). */
#include <causeway/admin.h>

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "admin.h"
#include "sms/sms-admin.h"
#include "sms/sms-store.h"
#include "store.h"

#define PASSWORD "Hunter2-plaintext-Secret"

/* ---- one-line values ---- */

static void
test_value_line(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "", "" },
        { "plain text", "plain text" },
        { "back\\slash", "back\\\\slash" },
        { "tab\there", "tab\\there" },
        { "two\nlines", "two\\nlines" },
        { "cr\r", "cr\\r" },
        { "bell\a del\x7f", "bell\\x07 del\\x7F" },
        { "caf\xc3\xa9 \xf0\x9f\x91\x8b", "caf\xc3\xa9 \xf0\x9f\x91\x8b" }, /* valid UTF-8 kept */
        { "bad \xff\xfe end", "bad \\xFF\\xFE end" },
        { "cut \xc3", "cut \\xC3" },                                /* truncated sequence */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *line = cw_admin_value_line(cases[i].in);
        g_assert_cmpstr(line, ==, cases[i].out);
    }
    g_autofree char *null = cw_admin_value_line(NULL);
    g_assert_cmpstr(null, ==, "");
}

static void
test_report_format_cannot_forge_lines(void)
{
    g_autoptr(CwAdminReport) r = cw_admin_report_new();
    cw_admin_report_add(r, "jid", "%s", "alice@example.org");
    cw_admin_report_add(r, "setting", "%s", "nick=x\nusers: 999");
    cw_admin_report_add(r, "count", "%d", 3);
    g_assert_cmpuint(cw_admin_report_len(r), ==, 3);
    g_assert_cmpstr(cw_admin_report_key(r, 1), ==, "setting");
    g_assert_cmpstr(cw_admin_report_value(r, 2), ==, "3");
    g_assert_cmpstr(cw_admin_report_lookup(r, "count"), ==, "3");
    g_assert_null(cw_admin_report_lookup(r, "users"));
    g_autofree char *text = cw_admin_report_format(r);
    g_assert_cmpstr(text, ==, "jid: alice@example.org\nsetting: nick=x\\nusers: 999\ncount: 3\n");

    g_autoptr(CwAdminReport) all = cw_admin_report_new();
    cw_admin_report_add(all, "transport", "irc");
    cw_admin_report_append(all, "sms_", r);
    g_assert_cmpuint(cw_admin_report_len(all), ==, 4);
    g_assert_cmpstr(cw_admin_report_key(all, 1), ==, "sms_jid");
    g_assert_cmpstr(cw_admin_report_lookup(all, "sms_count"), ==, "3");
}

static void
test_report_bad_key_is_a_bug(void)
{
    if (g_test_subprocess()) {
        g_autoptr(CwAdminReport) r = cw_admin_report_new();
        cw_admin_report_add(r, "Bad Key", "x");
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*key_is_valid*");
}

static void
test_record(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const char *fields[] = { "irc", "alice@example.org", NULL, "a\tb", "line\nbreak" };
    cw_admin_append_record(out, fields, G_N_ELEMENTS(fields));
    g_assert_cmpstr(out->str, ==, "irc\talice@example.org\t-\ta\\tb\tline\\nbreak\n");
    g_auto(GStrv) cols = g_strsplit(out->str, "\t", -1);
    g_assert_cmpuint(g_strv_length(cols), ==, 5); /* no field adds a column */
}

/* ---- JIDs ---- */

static void
test_normalize_jid(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "alice@example.org", "alice@example.org" },
        { "Alice@Example.ORG", "alice@example.org" },
        { "alice@example.org/phone", NULL }, /* a full JID is no account */
        { "example.org", NULL },             /* a domain is no account */
        { "", NULL },
        { "not a jid", NULL },
        { "@example.org", NULL },
        { "alice@", NULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *jid = cw_admin_normalize_jid(cases[i].in);
        g_assert_cmpstr(jid, ==, cases[i].out);
    }
    g_assert_null(cw_admin_normalize_jid(NULL));
}

/* ---- the audit record ---- */

typedef struct {
    char *message, *admin, *user;
    GLogLevelFlags level;
    guint n;
} Captured;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    Captured *c = data;
    c->n++;
    c->level = level;
    g_clear_pointer(&c->message, g_free);
    g_clear_pointer(&c->admin, g_free);
    g_clear_pointer(&c->user, g_free);
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            c->message = g_strdup(fields[i].value);
        else if (strcmp(fields[i].key, "CAUSEWAY_ADMIN") == 0)
            c->admin = g_strdup(fields[i].value);
        else if (strcmp(fields[i].key, "CAUSEWAY_USER") == 0)
            c->user = g_strdup(fields[i].value);
    }
    return G_LOG_WRITER_HANDLED;
}

static void
test_audit_record(void)
{
    if (g_test_subprocess()) { /* the writer can be set once per process */
        Captured c = { 0 };
        g_log_set_writer_func(capture_writer, &c, NULL);
        cw_admin_log("boss@example.org/laptop", "alice@example.org", "deleted %s (%d contacts)",
                     "alice@example.org", 2);
        g_assert_cmpuint(c.n, ==, 1);
        g_assert_cmpint(c.level & G_LOG_LEVEL_MASK, ==, G_LOG_LEVEL_MESSAGE);
        g_assert_cmpstr(c.message, ==,
                        "admin boss@example.org/laptop: deleted alice@example.org (2 contacts)");
        g_assert_cmpstr(c.admin, ==, "boss@example.org/laptop");
        g_assert_cmpstr(c.user, ==, "alice@example.org");
        cw_admin_log("root (shell, uid 0)", NULL, "listed the users of %s", "all transports");
        g_assert_cmpuint(c.n, ==, 2);
        g_assert_cmpstr(c.message, ==, "admin root (shell, uid 0): listed the users of all transports");
        g_assert_null(c.user); /* no target, no CAUSEWAY_USER field */
        g_free(c.message);
        g_free(c.admin);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

/* ---- the store's admin queries ---- */

typedef struct {
    char *dir, *db_path;
    CwSecrets *secrets;
    CwStore *store;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("cw-admin-XXXXXX", &error);
    g_assert_no_error(error);
    f->db_path = g_build_filename(f->dir, "loop.db", NULL);
    g_autofree char *key = g_build_filename(f->dir, "key", NULL);
    f->secrets = cw_secrets_open(key, &error);
    g_assert_no_error(error);
    f->store = cw_store_open(f->db_path, f->secrets, &error);
    g_assert_no_error(error);
    /* alice: 3 values (1 secret), 2 contacts, 1 room with 1 resource; bob: nothing else */
    const char *a = "alice@example.org";
    g_assert_true(cw_store_user_add(f->store, a, NULL));
    g_assert_true(cw_store_user_add(f->store, "bob@example.org", NULL));
    g_assert_true(cw_store_value_set(f->store, a, "", "username", "alice-legacy", FALSE, NULL));
    g_assert_true(cw_store_value_set(f->store, a, "", "password", PASSWORD, TRUE, NULL));
    g_assert_true(cw_store_value_set(f->store, a, "server:irc.example.net", "nick", "al\nice",
                                     FALSE, NULL));
    g_assert_true(cw_store_contact_add(f->store, a, "echo@gw.example", "echo", "Echo", NULL));
    g_assert_true(cw_store_contact_add(f->store, a, "bot@gw.example", "bot", NULL, NULL));
    g_assert_true(cw_store_room_add(f->store, a, "#c%irc@gw.example", "al", NULL, NULL));
    g_assert_true(cw_store_room_resource_add(f->store, a, "#c%irc@gw.example", "phone", NULL));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_store_close);
    g_clear_pointer(&f->secrets, cw_secrets_free);
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->db_path);
    g_free(f->dir);
}

static void
raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
}

static int
raw_user_version(const char *path)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void
test_store_user_info(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwStore) ro = cw_store_open_readonly(f->db_path, &error);
    g_assert_no_error(error);
    g_autoptr(CwStoreUserInfo) info = cw_store_user_info(ro, "alice@example.org", &error);
    g_assert_no_error(error);
    g_assert_nonnull(info);
    g_assert_cmpstr(info->jid, ==, "alice@example.org");
    g_assert_cmpint(info->values, ==, 3);
    g_assert_cmpint(info->secrets, ==, 1);
    g_assert_cmpint(info->contacts, ==, 2);
    g_assert_cmpint(info->rooms, ==, 1);
    g_assert_cmpint(info->room_resources, ==, 1);
    g_assert_cmpint(ABS(info->registered - g_get_real_time() / G_USEC_PER_SEC), <, 60);
    g_assert_null(cw_store_user_info(ro, "nobody@example.org", &error));
    g_assert_no_error(error); /* absent is no error */

    g_autoptr(GPtrArray) all = cw_store_user_infos(ro, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 2);
    g_assert_cmpstr(((CwStoreUserInfo *)all->pdata[0])->jid, ==, "alice@example.org");
    g_assert_cmpstr(((CwStoreUserInfo *)all->pdata[1])->jid, ==, "bob@example.org");
    g_assert_cmpint(((CwStoreUserInfo *)all->pdata[1])->contacts, ==, 0);

    CwStoreStats stats;
    g_assert_true(cw_store_stats(ro, &stats, &error));
    g_assert_cmpint(stats.users, ==, 2);
    g_assert_cmpint(stats.contacts, ==, 2);
    g_assert_cmpint(stats.rooms, ==, 1);
    g_assert_cmpint(stats.room_resources, ==, 1);

    /* read-only means read-only */
    g_assert_false(cw_store_user_add(ro, "eve@example.org", &error));
    g_assert_nonnull(error);
}

static void
test_store_settings_never_secret(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwStore) ro = cw_store_open_readonly(f->db_path, &error);
    g_autoptr(GPtrArray) s = cw_store_user_settings(ro, "alice@example.org", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(s->len, ==, 3);
    CwStoreSetting *pw = s->pdata[0]; /* sorted by (scope, key): "" password, "" username, server */
    g_assert_cmpstr(pw->key, ==, "password");
    g_assert_true(pw->secret);
    g_assert_null(pw->value);
    g_assert_cmpstr(((CwStoreSetting *)s->pdata[1])->value, ==, "alice-legacy");
    g_assert_cmpstr(((CwStoreSetting *)s->pdata[2])->scope, ==, "server:irc.example.net");

    /* the report: "(secret)", one line per value, a newline escaped */
    g_autoptr(CwAdminReport) r = cw_admin_report_new();
    g_assert_cmpint(cw_admin_user_report(ro, "irc", NULL, NULL, "alice@example.org", r, &error), ==,
                    CW_ADMIN_OK);
    g_autofree char *text = cw_admin_report_format(r);
    g_assert_nonnull(strstr(text, "transport: irc\njid: alice@example.org\nregistered: "));
    g_assert_nonnull(strstr(text, "field: password=(secret)\n"));
    g_assert_nonnull(strstr(text, "field: username=alice-legacy\n"));
    g_assert_nonnull(strstr(text, "setting: server:irc.example.net nick=al\\nice\n"));
    g_assert_nonnull(strstr(text, "secrets: 1\ncontacts: 2\nrooms: 1\n"));
    g_assert_null(strstr(text, PASSWORD));
    g_autoptr(CwAdminReport) none = cw_admin_report_new();
    g_assert_cmpint(cw_admin_user_report(ro, "irc", NULL, NULL, "nobody@example.org", none, &error),
                    ==, CW_ADMIN_NOT_FOUND);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_admin_report_len(none), ==, 0);
}

static void
test_store_delete_cascades(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwStore) adm = cw_store_open_admin(f->db_path, &error);
    g_assert_no_error(error);
    CwStoreUserInfo *removed = NULL;
    g_assert_true(cw_store_user_delete(adm, "alice@example.org", &removed, &error));
    g_assert_no_error(error);
    g_assert_nonnull(removed);
    g_assert_cmpint(removed->contacts, ==, 2);
    g_assert_cmpint(removed->values, ==, 3);
    cw_store_user_info_free(removed);
    /* every row of hers went (foreign keys are on in the admin connection) */
    CwStoreStats stats;
    g_assert_true(cw_store_stats(f->store, &stats, &error));
    g_assert_cmpint(stats.users, ==, 1);
    g_assert_cmpint(stats.contacts, ==, 0);
    g_assert_cmpint(stats.rooms, ==, 0);
    g_assert_cmpint(stats.room_resources, ==, 0);
    g_autoptr(GPtrArray) left = cw_store_user_settings(f->store, "alice@example.org", &error);
    g_assert_cmpuint(left->len, ==, 0);
    /* a second time: nothing, no error */
    g_assert_true(cw_store_user_delete(adm, "alice@example.org", &removed, &error));
    g_assert_null(removed);
}

static void
test_store_changed_elsewhere(Fixture *f, gconstpointer data)
{
    g_assert_false(cw_store_changed_elsewhere(f->store)); /* the baseline */
    g_assert_false(cw_store_changed_elsewhere(f->store));
    g_assert_true(cw_store_user_add(f->store, "carol@example.org", NULL)); /* our own write */
    g_assert_false(cw_store_changed_elsewhere(f->store));
    g_autoptr(CwStore) adm = cw_store_open_admin(f->db_path, NULL);
    CwStoreUserInfo *removed = NULL;
    g_assert_true(cw_store_user_delete(adm, "bob@example.org", &removed, NULL));
    cw_store_user_info_free(removed);
    g_assert_true(cw_store_changed_elsewhere(f->store)); /* another connection's commit */
    g_assert_false(cw_store_changed_elsewhere(f->store));
    g_assert_false(cw_store_user_exists(f->store, "bob@example.org"));
}

static void
test_store_other_schema_refused(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_store_close);
    /* older (the running service not migrated yet), newer (another build) */
    static const int versions[] = { CW_STORE_SCHEMA_VERSION - 1, 999 };
    for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
        g_autofree char *sql = g_strdup_printf("PRAGMA user_version = %d", versions[i]);
        raw_exec(f->db_path, sql);
        g_autofree char *number = g_strdup_printf("%d", versions[i]);
        g_autoptr(GError) error = NULL;
        g_assert_null(cw_store_open_readonly(f->db_path, &error));
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE);
        g_assert_nonnull(strstr(error->message, number));
        g_clear_error(&error);
        g_assert_null(cw_store_open_admin(f->db_path, &error));
        g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_MIGRATE);
        g_assert_cmpint(raw_user_version(f->db_path), ==, versions[i]); /* not migrated */
    }
    /* and a missing file is never created */
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = g_build_filename(f->dir, "none.db", NULL);
    g_assert_null(cw_store_open_admin(missing, &error));
    g_assert_error(error, CW_STORE_ERROR, CW_STORE_ERROR_OPEN);
    g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
}

/* The SMS part of --delete-user: a missing file is no data (and is not
 * created); a store of an older or newer schema is refused, not migrated. */
static void
test_sms_delete_refuses_other_schema(Fixture *f, gconstpointer data)
{
    g_autofree char *prefix = g_build_filename(f->dir, "sms", NULL);
    g_autofree char *path = g_strconcat(prefix, "-sms.db", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwAdminReport) r = cw_admin_report_new();
    g_assert_true(cw_sms_admin_user_delete(prefix, "alice@example.org", r, &error)); /* no file */
    g_assert_no_error(error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_autoptr(CwSmsStore) store = cw_sms_store_open(path, &error);
    g_assert_no_error(error);
    g_clear_pointer(&store, cw_sms_store_close);
    static const int versions[] = { 0, 999 }; /* older (the service not migrated yet), newer */
    for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
        g_autofree char *sql = g_strdup_printf("PRAGMA user_version = %d", versions[i]);
        raw_exec(path, sql);
        g_assert_false(cw_sms_admin_user_delete(prefix, "alice@example.org", r, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        g_assert_cmpint(raw_user_version(path), ==, versions[i]); /* untouched */
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/admin/value-line", test_value_line);
    g_test_add_func("/admin/report-format", test_report_format_cannot_forge_lines);
    g_test_add_func("/admin/report-bad-key", test_report_bad_key_is_a_bug);
    g_test_add_func("/admin/record", test_record);
    g_test_add_func("/admin/normalize-jid", test_normalize_jid);
    g_test_add_func("/admin/audit-record", test_audit_record);
#define ADD(name, fn) g_test_add("/admin/store/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("user-info", test_store_user_info);
    ADD("settings-never-secret", test_store_settings_never_secret);
    ADD("delete-cascades", test_store_delete_cascades);
    ADD("changed-elsewhere", test_store_changed_elsewhere);
    ADD("other-schema-refused", test_store_other_schema_refused);
    ADD("sms-delete-other-schema", test_sms_delete_refuses_other_schema);
    return g_test_run();
}
