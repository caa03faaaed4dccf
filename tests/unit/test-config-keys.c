/* test-config-keys.c — causeway.conf(5) documents exactly the keys the config parser accepts. */
#include <string.h>

#include "config.h"

/* The man page, from the source root (make unit runs there); CW_MAN_CONF overrides. */
#define MAN_PAGE "man/causeway.conf.5"

static void
add_key(const char *section, const char *key, gpointer data)
{
    g_hash_table_add(data, g_strdup_printf("%s %s", section, key));
}

/* ".SS [xmpp]" -> "xmpp"; ".SS \"[transport:NAME] with type = irc\"" -> "transport/irc". */
static char *
section_of(const char *heading)
{
    g_autofree char *h = g_strstrip(g_strdup(heading));
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
        h[n - 1] = '\0';
        memmove(h, h + 1, n - 1);
    }
    if (strcmp(h, "[transport:NAME]") == 0)
        return g_strdup("transport");
    if (g_str_has_prefix(h, "[transport:NAME] with type = "))
        return g_strconcat("transport/", h + strlen("[transport:NAME] with type = "), NULL);
    n = strlen(h);
    if (n > 2 && h[0] == '[' && h[n - 1] == ']')
        return g_strndup(h + 1, n - 2);
    return NULL; /* a heading that is not a section: keys under it are an error */
}

/* "section key" for every ".TP" + ".B key" of the page; fails on a key outside a section. */
static GHashTable *
man_keys(const char *text, guint *sections)
{
    GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *section = NULL;
    gboolean in_sections = FALSE;
    *sections = 0;
    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, ".SH ")) {
            in_sections = strcmp(l, ".SH DESCRIPTION") == 0;
            g_clear_pointer(&section, g_free);
        } else if (g_str_has_prefix(l, ".SS ") && in_sections) {
            g_free(section);
            section = section_of(l + 4);
            if (!section)
                g_error("%s:%u: heading %s names no section", MAN_PAGE, i + 1, l + 4);
            (*sections)++;
        } else if (strcmp(l, ".TP") == 0 && section && lines[i + 1] &&
                   g_str_has_prefix(lines[i + 1], ".B ")) {
            g_autofree char *key = g_strstrip(g_strdup(lines[i + 1] + 3));
            g_autofree char *entry = g_strdup_printf("%s %s", section, key);
            if (!g_hash_table_add(keys, g_steal_pointer(&entry)))
                g_error("%s:%u: %s [%s] is documented twice", MAN_PAGE, i + 2, key, section);
        }
    }
    return keys;
}

static void
test_man_page_keys(void)
{
    const char *path = g_getenv("CW_MAN_CONF") ? g_getenv("CW_MAN_CONF") : MAN_PAGE;
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("%s (run from the source root, as make unit does)", error->message);

    g_autoptr(GHashTable) parser = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cw_config_foreach_key(add_key, parser);
    g_assert_cmpuint(g_hash_table_size(parser), >, 40);
    guint sections;
    g_autoptr(GHashTable) man = man_keys(text, &sections);
    g_assert_cmpuint(sections, >=, 7); /* xmpp, gateway, metrics, transport, irc, sms, purple */

    GString *missing = g_string_new(NULL), *extra = g_string_new(NULL);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, parser);
    while (g_hash_table_iter_next(&it, &k, NULL))
        if (!g_hash_table_contains(man, k))
            g_string_append_printf(missing, "\n  %s", (char *)k);
    g_hash_table_iter_init(&it, man);
    while (g_hash_table_iter_next(&it, &k, NULL))
        if (!g_hash_table_contains(parser, k))
            g_string_append_printf(extra, "\n  %s", (char *)k);
    if (missing->len)
        g_test_message("keys the parser accepts that %s does not document (section key):%s", path,
                       missing->str);
    if (extra->len)
        g_test_message("keys %s documents that the parser does not accept (section key):%s", path,
                       extra->str);
    g_assert_cmpstr(missing->str, ==, "");
    g_assert_cmpstr(extra->str, ==, "");
    g_string_free(missing, TRUE);
    g_string_free(extra, TRUE);
}

/* The parse of the page itself, so a broken page format cannot pass as "nothing to compare". */
static void
test_man_parse(void)
{
    guint sections;
    g_autoptr(GHashTable) keys = man_keys(".SH NAME\n.SS [xmpp]\n.TP\n.B nope\n"
                                          ".SH DESCRIPTION\n.SS [xmpp]\n.TP\n.B host\nText.\n"
                                          ".SS \"[transport:NAME] with type = irc\"\n.TP\n.B tls\n"
                                          ".SS [transport:NAME]\n.TP\n.B type\n"
                                          ".SH EXAMPLE\n.TP\n.B stray\n",
                                          &sections);
    g_assert_cmpuint(sections, ==, 3);
    g_assert_cmpuint(g_hash_table_size(keys), ==, 3);
    g_assert_true(g_hash_table_contains(keys, "xmpp host"));
    g_assert_true(g_hash_table_contains(keys, "transport/irc tls"));
    g_assert_true(g_hash_table_contains(keys, "transport type"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config-keys/man-parse", test_man_parse);
    g_test_add_func("/config-keys/man-page", test_man_page_keys);
    return g_test_run();
}
