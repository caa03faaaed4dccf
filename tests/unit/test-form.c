/* test-form.c — unit tests for form.c: field lookup and validation of submitted values. */
#include <gio/gio.h>
#include <string.h>

#include "causeway/form.h"

static const char *const networks[] = { "libera", "oftc", NULL };

static const CwFormField fields[] = {
    { .var = "username", .label = "Username", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .legacy_name = "username" },
    { .var = "password", .label = "Password", .type = CW_FIELD_TEXT_PRIVATE, .required = TRUE,
      .legacy_name = "password" },
    { .var = "tls", .label = "Use TLS", .type = CW_FIELD_BOOLEAN, .default_value = "true" },
    { .var = "away", .label = "Relay away", .type = CW_FIELD_BOOLEAN },
    { .var = "network", .label = "Network", .type = CW_FIELD_LIST_SINGLE,
      .default_value = "libera", .options = networks },
    { .var = "note", .label = "Read this", .type = CW_FIELD_FIXED, .default_value = "Hi" },
    { .var = "nick", .type = CW_FIELD_TEXT_SINGLE }, /* no label: messages use the var */
    { .var = "owner", .label = "Owner", .type = CW_FIELD_JID_SINGLE },
    { .var = "motd", .label = "Greeting", .type = CW_FIELD_TEXT_MULTI },
    { .var = "cookie", .label = "Cookie", .type = CW_FIELD_HIDDEN, .default_value = "c0" },
};

static const CwFormSpec spec = {
    .title = "Register", .instructions = "Fill in", .fields = fields,
    .n_fields = G_N_ELEMENTS(fields),
};

/* ---- cw_form_spec_field ---- */

static void test_spec_field(void)
{
    g_assert_true(cw_form_spec_field(&spec, "username") == &fields[0]);
    g_assert_true(cw_form_spec_field(&spec, "cookie") == &fields[9]);
    g_assert_true(cw_form_spec_field(&spec, "note") == &fields[5]);
    g_assert_null(cw_form_spec_field(&spec, "Username"));
    g_assert_null(cw_form_spec_field(&spec, "nosuch"));
    g_assert_null(cw_form_spec_field(&spec, ""));
    g_assert_null(cw_form_spec_field(&spec, NULL));

    static const CwFormSpec empty = { .title = "empty" };
    g_assert_null(cw_form_spec_field(&empty, "username"));
}

/* ---- cw_form_validate ---- */

#define U "username", "alice"
#define P "password", "s3cret"
#define DEFAULTS "tls", "1", "network", "libera", "cookie", "c0"

typedef struct {
    const char *name;
    const char *in[24];  /* var, value, ..., NULL */
    const char *out[24]; /* expected table on success, var, value, ..., NULL */
    const char *error;   /* expected message on failure, NULL for success */
} ValidateCase;

static const ValidateCase validate_cases[] = {
    { .name = "minimal", .in = { U, P, NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "bool-true", .in = { U, P, "tls", "true", "away", "true", NULL },
      .out = { U, P, "tls", "1", "away", "1", "network", "libera", "cookie", "c0", NULL } },
    { .name = "bool-false", .in = { U, P, "tls", "false", "away", "0", NULL },
      .out = { U, P, "tls", "0", "away", "0", "network", "libera", "cookie", "c0", NULL } },
    { .name = "bool-one", .in = { U, P, "tls", "1", "away", "false", NULL },
      .out = { U, P, "tls", "1", "away", "0", "network", "libera", "cookie", "c0", NULL } },
    { .name = "bool-empty-gets-default", .in = { U, P, "tls", "", NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "bool-empty-no-default", .in = { U, P, "away", "", NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "bool-yes", .in = { U, P, "tls", "yes", NULL },
      .error = "The field \"Use TLS\" must be true or false." },
    { .name = "bool-TRUE", .in = { U, P, "away", "TRUE", NULL },
      .error = "The field \"Relay away\" must be true or false." },
    { .name = "bool-space", .in = { U, P, "away", " 1", NULL },
      .error = "The field \"Relay away\" must be true or false." },
    { .name = "list-option", .in = { U, P, "network", "oftc", NULL },
      .out = { U, P, "tls", "1", "network", "oftc", "cookie", "c0", NULL } },
    { .name = "list-not-option", .in = { U, P, "network", "efnet", NULL },
      .error = "The field \"Network\" must be one of the offered choices." },
    { .name = "list-case", .in = { U, P, "network", "Libera", NULL },
      .error = "The field \"Network\" must be one of the offered choices." },
    { .name = "missing-username", .in = { P, NULL },
      .error = "The field \"Username\" is required." },
    { .name = "empty-password", .in = { U, "password", "", NULL },
      .error = "The field \"Password\" is required." },
    { .name = "nothing", .in = { NULL },
      .error = "The field \"Username\" is required." },
    { .name = "first-error-in-spec-order", .in = { "tls", "maybe", "password", "", NULL },
      .error = "The field \"Username\" is required." },
    { .name = "unknown-and-fixed-removed", .in = { U, P, "evil", "x", "note", "changed", "", "y", NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "empty-optional-removed", .in = { U, P, "nick", "", "motd", "", "owner", "", NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "text-kept", .in = { U, P, "nick", " Bob \\", "motd", "line1\nline2\n", NULL },
      .out = { U, P, DEFAULTS, "nick", " Bob \\", "motd", "line1\nline2\n", NULL } },
    { .name = "hidden-submitted", .in = { U, P, "cookie", "abc", NULL },
      .out = { U, P, "tls", "1", "network", "libera", "cookie", "abc", NULL } },
    { .name = "non-ascii", .in = { "username", "j\xc3\xb6hn", P, "nick", "\xe6\x97\xa5\xe6\x9c\xac", NULL },
      .out = { "username", "j\xc3\xb6hn", P, DEFAULTS, "nick", "\xe6\x97\xa5\xe6\x9c\xac", NULL } },
    { .name = "invalid-utf8-label", .in = { U, P, "motd", "ok\xff", NULL },
      .error = "The field \"Greeting\" is not valid UTF-8." },
    { .name = "invalid-utf8-var-name", .in = { U, P, "nick", "\xc3", NULL },
      .error = "The field \"nick\" is not valid UTF-8." },
    { .name = "invalid-utf8-password", .in = { U, "password", "\xed\xa0\x80", NULL },
      .error = "The field \"Password\" is not valid UTF-8." },
    { .name = "invalid-utf8-unknown-dropped", .in = { U, P, "evil", "\xff", NULL },
      .out = { U, P, DEFAULTS, NULL } },
    { .name = "jid-valid", .in = { U, P, "owner", "bob@example.com/home", NULL },
      .out = { U, P, DEFAULTS, "owner", "bob@example.com/home", NULL } },
    { .name = "jid-invalid", .in = { U, P, "owner", "bob@", NULL },
      .error = "The field \"Owner\" is not a valid JID." },
    { .name = "jid-space", .in = { U, P, "owner", "bob smith@example.com", NULL },
      .error = "The field \"Owner\" is not a valid JID." },
};

static GHashTable *table_new(const char *const *kv)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (gsize i = 0; kv[i] != NULL; i += 2)
        g_hash_table_replace(t, g_strdup(kv[i]), g_strdup(kv[i + 1]));
    return t;
}

/* The table holds exactly the pairs in kv. */
static void assert_table(GHashTable *t, const char *const *kv)
{
    guint n = 0;
    for (gsize i = 0; kv[i] != NULL; i += 2, n++)
        g_assert_cmpstr(g_hash_table_lookup(t, kv[i]), ==, kv[i + 1]);
    g_assert_cmpuint(g_hash_table_size(t), ==, n);
}

static void test_validate(gconstpointer data)
{
    const ValidateCase *c = data;
    g_autoptr(GHashTable) values = table_new(c->in);
    g_autoptr(GError) error = NULL;

    gboolean ok = cw_form_validate(&spec, values, &error);
    if (c->error == NULL) {
        g_assert_no_error(error);
        g_assert_true(ok);
        assert_table(values, c->out);
    } else {
        g_assert_false(ok);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, c->error);
        assert_table(values, c->in); /* untouched on failure */
    }
}

/* Values up to 4096 bytes are accepted, one more is not. */
static void test_validate_length(void)
{
    static const struct {
        const char *var;
        gsize len;
        const char *error;
    } cases[] = {
        { "nick", 4096, NULL },
        { "nick", 4097, "The field \"nick\" is longer than 4096 bytes." },
        { "password", 4097, "The field \"Password\" is longer than 4096 bytes." },
        { "motd", 3000, NULL },
        { "motd", 100000, "The field \"Greeting\" is longer than 4096 bytes." },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *big = g_strnfill(cases[i].len, 'x');
        const char *in[] = { U, P, cases[i].var, big, NULL };
        g_autoptr(GHashTable) values = table_new(in);
        g_autoptr(GError) error = NULL;

        gboolean ok = cw_form_validate(&spec, values, &error);
        g_assert_cmpint(ok, ==, cases[i].error == NULL);
        if (ok) {
            g_assert_no_error(error);
            g_assert_cmpstr(g_hash_table_lookup(values, cases[i].var), ==, big);
        } else {
            g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
            g_assert_cmpstr(error->message, ==, cases[i].error);
        }
    }
}

/* A NULL error is allowed; validating twice changes nothing more. */
static void test_validate_idempotent(void)
{
    const char *in[] = { U, P, "tls", "false", "nick", "", NULL };
    const char *want[] = { U, P, "tls", "0", "network", "libera", "cookie", "c0", NULL };
    g_autoptr(GHashTable) values = table_new(in);

    g_assert_true(cw_form_validate(&spec, values, NULL));
    assert_table(values, want);
    g_assert_true(cw_form_validate(&spec, values, NULL));
    assert_table(values, want);

    const char *bad[] = { U, P, "away", "nope", NULL };
    g_autoptr(GHashTable) bad_values = table_new(bad);
    g_assert_false(cw_form_validate(&spec, bad_values, NULL));
    assert_table(bad_values, bad);
}

/* ---- flags, max_bytes, check hooks ---- */

/* Upper-cases "key", derives "derived" from it; refuses "bad". */
static gboolean check_key(const CwFormField *f, GHashTable *values, GError **error)
{
    const char *v = g_hash_table_lookup(values, f->var);
    if (strcmp(v, "bad") == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "The key is bad.");
        return FALSE;
    }
    char *up = g_ascii_strup(v, -1);
    g_hash_table_replace(values, g_strdup("derived"), g_strdup_printf("from %s", v));
    g_hash_table_replace(values, g_strdup(f->var), up);
    return TRUE;
}

static const CwFormField flag_fields[] = {
    { .var = "commands", .type = CW_FIELD_TEXT_MULTI, .flags = CW_FIELD_ENCRYPTED },
    { .var = "key", .type = CW_FIELD_TEXT_MULTI, .flags = CW_FIELD_WRITE_ONLY, .max_bytes = 10000,
      .check = check_key },
    { .var = "derived", .type = CW_FIELD_TEXT_SINGLE, .flags = CW_FIELD_READ_ONLY },
    { .var = "pw", .type = CW_FIELD_TEXT_PRIVATE },
    { .var = "plain", .type = CW_FIELD_TEXT_SINGLE },
};
static const CwFormSpec flag_spec = { "Flags", NULL, flag_fields, G_N_ELEMENTS(flag_fields) };

static void test_flags(void)
{
    g_assert_true(cw_form_field_is_encrypted(&flag_fields[0]));
    g_assert_false(cw_form_field_is_write_only(&flag_fields[0]));
    g_assert_true(cw_form_field_is_encrypted(&flag_fields[1]));
    g_assert_true(cw_form_field_is_write_only(&flag_fields[1]));
    g_assert_false(cw_form_field_is_encrypted(&flag_fields[2]));
    g_assert_true(cw_form_field_keeps_stored(&flag_fields[2]));
    g_assert_true(cw_form_field_is_encrypted(&flag_fields[3]));
    g_assert_true(cw_form_field_is_write_only(&flag_fields[3]));
    g_assert_false(cw_form_field_is_encrypted(&flag_fields[4]));
    g_assert_false(cw_form_field_keeps_stored(&flag_fields[4]));
}

static GHashTable *new_values(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void test_check_hook(void)
{
    g_autoptr(GHashTable) v = new_values();
    g_hash_table_insert(v, g_strdup("key"), g_strdup("abc"));
    g_hash_table_insert(v, g_strdup("derived"), g_strdup("forged by the user"));
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_form_validate(&flag_spec, v, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(g_hash_table_lookup(v, "key"), ==, "ABC");
    g_assert_cmpstr(g_hash_table_lookup(v, "derived"), ==, "from abc");

    /* Read-only: a submitted value is dropped when no hook sets it. */
    g_autoptr(GHashTable) w = new_values();
    g_hash_table_insert(w, g_strdup("derived"), g_strdup("forged by the user"));
    g_hash_table_insert(w, g_strdup("plain"), g_strdup(""));
    g_assert_true(cw_form_validate(&flag_spec, w, &error));
    g_assert_null(g_hash_table_lookup(w, "derived"));

    /* A refusing hook: its message, and the table as it came. */
    g_autoptr(GHashTable) x = new_values();
    g_hash_table_insert(x, g_strdup("key"), g_strdup("bad"));
    g_hash_table_insert(x, g_strdup("plain"), g_strdup(""));
    g_hash_table_insert(x, g_strdup("unknown"), g_strdup("u"));
    g_assert_false(cw_form_validate(&flag_spec, x, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr(error->message, ==, "The key is bad.");
    g_assert_cmpuint(g_hash_table_size(x), ==, 3);
    g_assert_cmpstr(g_hash_table_lookup(x, "key"), ==, "bad");
    g_assert_cmpstr(g_hash_table_lookup(x, "plain"), ==, "");
    g_assert_cmpstr(g_hash_table_lookup(x, "unknown"), ==, "u");
}

static void test_max_bytes(void)
{
    g_autofree char *long_value = g_strnfill(9000, 'a');
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) v = new_values();
    g_hash_table_insert(v, g_strdup("key"), g_strdup(long_value));
    g_assert_true(cw_form_validate(&flag_spec, v, &error)); /* max_bytes 10000 */
    g_assert_no_error(error);
    g_autoptr(GHashTable) w = new_values();
    g_hash_table_insert(w, g_strdup("commands"), g_strdup(long_value)); /* default 4096 */
    g_assert_false(cw_form_validate(&flag_spec, w, &error));
    g_assert_nonnull(strstr(error->message, "longer than 4096 bytes"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/form/spec-field", test_spec_field);
    for (gsize i = 0; i < G_N_ELEMENTS(validate_cases); i++) {
        g_autofree char *path = g_strdup_printf("/form/validate/%s", validate_cases[i].name);
        g_test_add_data_func(path, &validate_cases[i], test_validate);
    }
    g_test_add_func("/form/validate-length", test_validate_length);
    g_test_add_func("/form/validate-idempotent", test_validate_idempotent);
    g_test_add_func("/form/flags", test_flags);
    g_test_add_func("/form/check-hook", test_check_hook);
    g_test_add_func("/form/max-bytes", test_max_bytes);

    return g_test_run();
}
