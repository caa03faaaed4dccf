/* fuzz-jid.c — libFuzzer harness for jid.c: splitting, building, XEP-0106 escaping round trip.
 *
 * The input is one string (up to a NUL). When it holds a LF, the parts before
 * and after it are also compared as two JIDs (cw_jid_bare_equal symmetry).
 */
#include "fuzz-common.h"

#include "causeway/jid.h"

/* Only ASCII space among the white space and control characters? Then an
 * escaped id is a clean localpart (\20 replaces the space). */
static gboolean
only_clean_or_space(const char *s)
{
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar u = g_utf8_get_char(p);
        if (u != ' ' && (g_unichar_iscntrl(u) || g_unichar_isspace(u)))
            return FALSE;
    }
    return TRUE;
}

static void
check_split(const char *s)
{
    char *node = NULL, *domain = NULL, *resource = NULL;
    gboolean ok = cw_jid_split(s, &node, &domain, &resource);
    CW_FUZZ_CHECK(ok == cw_jid_is_valid(s));
    g_autofree char *bare = cw_jid_bare(s);
    g_autofree char *res = cw_jid_resource(s);
    if (!ok) {
        CW_FUZZ_CHECK(node == NULL && domain == NULL && resource == NULL);
        CW_FUZZ_CHECK(bare == NULL && res == NULL);
        CW_FUZZ_CHECK(!cw_jid_bare_equal(s, s));
        return;
    }
    CW_FUZZ_CHECK(domain && *domain && !strchr(domain, '@') && !strchr(domain, '/'));
    CW_FUZZ_CHECK(!node || (*node && !strchr(node, '@') && !strchr(node, '/')));
    CW_FUZZ_CHECK(!resource || *resource);
    CW_FUZZ_CHECK(strlen(domain) <= CW_JID_PART_MAX);
    CW_FUZZ_CHECK(!node || strlen(node) <= CW_JID_PART_MAX);
    CW_FUZZ_CHECK(!resource || strlen(resource) <= CW_JID_PART_MAX);
    for (const char *p = domain; *p; p++)
        CW_FUZZ_CHECK(!g_ascii_isupper(*p));
    CW_FUZZ_CHECK(g_strcmp0(res, resource) == 0);
    CW_FUZZ_CHECK(cw_jid_bare_equal(s, s));

    /* Put back together, it splits into the same parts. */
    g_autofree char *again = cw_jid_make(node, domain, resource);
    char *node2 = NULL, *domain2 = NULL, *resource2 = NULL;
    CW_FUZZ_CHECK(cw_jid_split(again, &node2, &domain2, &resource2));
    CW_FUZZ_CHECK(g_strcmp0(node, node2) == 0);
    CW_FUZZ_CHECK(g_strcmp0(domain, domain2) == 0);
    CW_FUZZ_CHECK(g_strcmp0(resource, resource2) == 0);
    g_autofree char *bare2 = cw_jid_make(node, domain, NULL);
    CW_FUZZ_CHECK(g_strcmp0(bare, bare2) == 0);
    CW_FUZZ_CHECK(cw_jid_bare_equal(again, s));
    g_free(node2);
    g_free(domain2);
    g_free(resource2);
    g_free(node);
    g_free(domain);
    g_free(resource);
}

static void
check_escaping(const char *s)
{
    g_autofree char *escaped = cw_jid_escape_node(s);
    g_autofree char *unescaped = cw_jid_unescape_node(s);
    gboolean utf8 = g_utf8_validate(s, -1, NULL);

    /* Unescaping anything valid gives valid UTF-8, never longer. */
    if (utf8) {
        CW_FUZZ_CHECK(unescaped != NULL);
        CW_FUZZ_CHECK(g_utf8_validate(unescaped, -1, NULL));
        CW_FUZZ_CHECK(strlen(unescaped) <= strlen(s));
    } else {
        CW_FUZZ_CHECK(unescaped == NULL);
    }

    if (!utf8 || !*s) {
        CW_FUZZ_CHECK(escaped == NULL);
        return;
    }
    /* The round trip: every legacy id comes back as it was. */
    CW_FUZZ_CHECK(escaped != NULL);
    CW_FUZZ_CHECK(g_utf8_validate(escaped, -1, NULL));
    CW_FUZZ_CHECK(strpbrk(escaped, " \"&'/:<>@") == NULL);
    g_autofree char *back = cw_jid_unescape_node(escaped);
    CW_FUZZ_CHECK(back != NULL);
    if (strcmp(back, s) != 0) {
        fprintf(stderr, "round trip: '%s' -> '%s' -> '%s'\n", s, escaped, back);
        abort();
    }
    /* And it is a usable localpart unless the id holds characters the XEP
     * leaves alone and JIDs refuse (controls, other white space). */
    if (strlen(escaped) <= CW_JID_PART_MAX && only_clean_or_space(s)) {
        g_autofree char *jid = cw_jid_make(escaped, "gw.example", "res");
        char *node = NULL;
        CW_FUZZ_CHECK(cw_jid_split(jid, &node, NULL, NULL));
        CW_FUZZ_CHECK(g_strcmp0(node, escaped) == 0);
        g_free(node);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *s = cw_fuzz_string(data, size);
    check_split(s);
    check_escaping(s);

    const char *lf = strchr(s, '\n');
    if (lf) {
        g_autofree char *a = g_strndup(s, lf - s);
        const char *b = lf + 1;
        CW_FUZZ_CHECK(cw_jid_bare_equal(a, b) == cw_jid_bare_equal(b, a));
        check_split(a);
        check_escaping(a);
    }
    return 0;
}
