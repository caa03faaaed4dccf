/* fuzz-dataform.c — libFuzzer harness for dataform.c and form.c: submitted XEP-0004 forms.
 *
 * The input is parsed as XML (xmpp_stanza_new_from_string). The element
 * itself, and its x:data child when it has one, go through
 * cw_dataform_parse_submit() (with and without a FORM_TYPE to match), the
 * element through cw_dataform_parse_legacy(); every table that comes out is
 * checked by cw_form_validate() against a spec with one field of every type.
 * Validation must either leave the table exactly as it was (FALSE) or leave
 * only values that obey the spec (TRUE) — and then validating again changes
 * nothing. Forms are also built back from the values.
 */
#include "fuzz-common.h"

#include <gio/gio.h>

#include "causeway/jid.h"
#include "dataform.h"

#define FORM_TYPE "urn:xmpp:causeway:fuzz"

static const char *const colours[] = { "red", "green", "blue", "", NULL };

static const CwFormField fields[] = {
    { .var = "username", .label = "User name", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .legacy_name = "username" },
    { .var = "password", .label = "Password", .type = CW_FIELD_TEXT_PRIVATE, .required = TRUE,
      .legacy_name = "password" },
    { .var = "motd", .label = "Message", .type = CW_FIELD_TEXT_MULTI, .legacy_name = "misc",
      .desc = "Several lines" },
    { .var = "tls", .label = "Use TLS", .type = CW_FIELD_BOOLEAN, .default_value = "1" },
    { .var = "away", .type = CW_FIELD_BOOLEAN }, /* no label, no default */
    { .var = "colour", .label = "Colour", .type = CW_FIELD_LIST_SINGLE, .options = colours,
      .default_value = "red" },
    { .var = "owner", .label = "Owner", .type = CW_FIELD_JID_SINGLE, .legacy_name = "email" },
    { .var = "notice", .label = "Read this", .type = CW_FIELD_FIXED,
      .default_value = "Fixed text" },
    { .var = "token", .type = CW_FIELD_HIDDEN, .default_value = "t0k3n" },
    { .var = "nick", .label = "Nick", .type = CW_FIELD_TEXT_SINGLE, .legacy_name = "nick" },
};
static const CwFormSpec spec = {
    .title = "Fuzz form",
    .instructions = "Every field type",
    .fields = fields,
    .n_fields = G_N_ELEMENTS(fields),
};

static xmpp_ctx_t *ctx;

static GHashTable *
copy_values(GHashTable *values)
{
    GHashTable *copy = cw_values_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(copy, g_strdup(k), g_strdup(v));
    return copy;
}

static gboolean
values_equal(GHashTable *a, GHashTable *b)
{
    if (g_hash_table_size(a) != g_hash_table_size(b))
        return FALSE;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_strcmp0(v, g_hash_table_lookup(b, k)) != 0)
            return FALSE;
    return TRUE;
}

/* What cw_form_validate() promises about a table it accepted. */
static void
check_valid(GHashTable *values)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const CwFormField *f = cw_form_spec_field(&spec, k);
        CW_FUZZ_CHECK(f != NULL && f->type != CW_FIELD_FIXED);
        const char *s = v;
        CW_FUZZ_CHECK(s != NULL && *s);
        CW_FUZZ_CHECK(strlen(s) <= 4096);
        CW_FUZZ_CHECK(g_utf8_validate(s, -1, NULL));
        if (f->type != CW_FIELD_TEXT_MULTI)
            CW_FUZZ_CHECK(strpbrk(s, "\r\n") == NULL);
        if (f->type == CW_FIELD_BOOLEAN)
            CW_FUZZ_CHECK(strcmp(s, "1") == 0 || strcmp(s, "0") == 0);
        if (f->type == CW_FIELD_LIST_SINGLE)
            CW_FUZZ_CHECK(g_strv_contains(f->options, s));
        if (f->type == CW_FIELD_JID_SINGLE)
            CW_FUZZ_CHECK(cw_jid_is_valid(s));
    }
    for (gsize i = 0; i < spec.n_fields; i++) {
        const CwFormField *f = &spec.fields[i];
        if (f->required)
            CW_FUZZ_CHECK(g_hash_table_contains(values, f->var));
        if (f->default_value && f->type != CW_FIELD_FIXED)
            CW_FUZZ_CHECK(g_hash_table_contains(values, f->var));
    }
}

static void
check_validate(GHashTable *values)
{
    g_autoptr(GHashTable) before = copy_values(values);
    g_autoptr(GError) error = NULL;
    if (!cw_form_validate(&spec, values, &error)) {
        CW_FUZZ_CHECK(error != NULL && error->domain == G_IO_ERROR && error->message[0]);
        CW_FUZZ_CHECK(values_equal(values, before));
    } else {
        CW_FUZZ_CHECK(error == NULL);
        check_valid(values);
        g_autoptr(GHashTable) once = copy_values(values);
        CW_FUZZ_CHECK(cw_form_validate(&spec, values, NULL));
        CW_FUZZ_CHECK(values_equal(values, once));
    }

    /* Whatever the values, forms can be built from them. */
    xmpp_stanza_t *form = cw_dataform_build(ctx, &spec, "form", FORM_TYPE, values);
    xmpp_stanza_t *query = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(query, "query");
    cw_dataform_add_legacy_fields(query, &spec, values);
    char *text = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(form, &text, &len) == 0)
        xmpp_free(ctx, text);
    xmpp_stanza_release(form);
    xmpp_stanza_release(query);
}

static void
check_submit(xmpp_stanza_t *x)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) values = cw_dataform_parse_submit(x, NULL, &error);
    if (!values) {
        CW_FUZZ_CHECK(error != NULL && error->message[0]);
        return;
    }
    CW_FUZZ_CHECK(error == NULL);
    CW_FUZZ_CHECK(!g_hash_table_contains(values, "FORM_TYPE"));

    g_autoptr(GError) error2 = NULL;
    g_autoptr(GHashTable) typed = cw_dataform_parse_submit(x, FORM_TYPE, &error2);
    CW_FUZZ_CHECK((typed == NULL) == (error2 != NULL));
    if (typed)
        CW_FUZZ_CHECK(values_equal(values, typed));
    check_validate(values);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = cw_fuzz_string(data, size);
    xmpp_stanza_t *stanza = xmpp_stanza_new_from_string(ctx, xml);
    if (!stanza)
        return 0;

    check_submit(stanza);
    xmpp_stanza_t *x = cw_dataform_find(stanza);
    if (x)
        check_submit(x);
    /* A form one level further down, as in <iq><query><x/></query></iq>. */
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c)) {
        xmpp_stanza_t *inner = xmpp_stanza_is_tag(c) ? cw_dataform_find(c) : NULL;
        if (inner)
            check_submit(inner);
    }

    g_autoptr(GHashTable) legacy = cw_dataform_parse_legacy(stanza, &spec);
    CW_FUZZ_CHECK(legacy != NULL);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, legacy);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const CwFormField *f = cw_form_spec_field(&spec, k);
        CW_FUZZ_CHECK(f != NULL && f->legacy_name != NULL);
    }
    check_validate(legacy);
    /* The first child too (the query of an iq). */
    xmpp_stanza_t *child = xmpp_stanza_get_children(stanza);
    while (child && !xmpp_stanza_is_tag(child))
        child = xmpp_stanza_get_next(child);
    if (child) {
        g_autoptr(GHashTable) inner = cw_dataform_parse_legacy(child, &spec);
        check_validate(inner);
    }
    xmpp_stanza_release(stanza);
    return 0;
}
