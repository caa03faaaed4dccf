/* test-safetext.c — the boundary for legacy text: XML-safe UTF-8, bounded; and the serialiser enforcing it. */
#include <string.h>

#include "safetext.h"
#include "stanza.h"

#define FFFD "\xEF\xBF\xBD"

/* Bytes a hostile network sends, and what the core must make of them. */
static const struct {
    const char *name, *in, *out;
} cases[] = {
    { "ascii", "hello, world", "hello, world" },
    { "utf8", "ünïcödé 串 🙂", "ünïcödé 串 🙂" },
    { "white-space", "a\tb\nc\rd", "a\tb\nc\rd" },
    { "U+FFFF", "a\xEF\xBF\xBF" "b", "a" FFFD "b" },
    { "U+FFFE", "\xEF\xBF\xBE", FFFD },
    { "U+FFFD kept", FFFD, FFFD },
    { "U+10FFFF kept", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF" },
    { "U+FDD0 kept (an XML Char)", "\xEF\xB7\x90", "\xEF\xB7\x90" },
    { "bytes FF FE", "\xFF\xFE", FFFD FFFD },
    { "C0 controls dropped", "a\x01\x08\x0B\x0C\x0E\x1F" "b", "ab" },
    { "DEL kept (an XML Char)", "a\x7F" "b", "a\x7F" "b" },
    { "C1 control kept (an XML Char)", "\xC2\x85", "\xC2\x85" },
    { "overlong slash", "\xC0\xAF", FFFD FFFD },
    { "surrogate D800", "\xED\xA0\x80", FFFD FFFD FFFD },
    { "above U+10FFFF", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD },
    { "truncated sequence", "ok\xE2\x82", "ok" FFFD FFFD },
    { "lone continuation", "\x80x", FFFD "x" },
};

static void
test_make_safe(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("%s", cases[i].name);
        g_autofree char *safe = cw_text_make_xml_safe(cases[i].in, 1000);
        g_assert_cmpstr(safe, ==, cases[i].out);
        g_assert_true(cw_text_is_xml_safe(safe, 1000));
        g_assert_cmpint(cw_text_is_xml_safe(cases[i].in, 1000), ==, strcmp(cases[i].in, cases[i].out) == 0);
    }
    g_assert_null(cw_text_make_xml_safe(NULL, 10));
    g_assert_true(cw_text_is_xml_safe(NULL, 10));
}

static void
test_limit(void)
{
    /* Cut on a character boundary, never inside one. */
    g_autofree char *a = cw_text_make_xml_safe("abcdef", 4);
    g_assert_cmpstr(a, ==, "abcd");
    g_autofree char *b = cw_text_make_xml_safe("ab串", 4); /* 串 is 3 bytes */
    g_assert_cmpstr(b, ==, "ab");
    g_autofree char *c = cw_text_make_xml_safe("a\xFF" "b", 3); /* U+FFFD is 3 bytes */
    g_assert_cmpstr(c, ==, "a");
    g_assert_false(cw_text_is_xml_safe("abcde", 4));
    g_assert_true(cw_text_is_xml_safe("abcd", 4));
}

static void
test_boundary(void)
{
    const char *clean = "plain";
    char *owned = NULL;
    g_assert_true(cw_text_boundary(clean, 100, &owned) == clean); /* no copy */
    g_assert_null(owned);
    const char *dirty = "x\xEF\xBF\xBF";
    const char *safe = cw_text_boundary(dirty, 100, &owned);
    g_assert_cmpstr(safe, ==, "x" FFFD);
    g_assert_true(safe == owned);
    g_free(owned);
    g_assert_null(cw_text_boundary(NULL, 100, &owned));
}

/* The serialiser writes only XML-safe text, whatever the tree holds: what
 * it writes parses back (libstrophe's expat), with U+FFFD for bad bytes. */
static void
test_serialiser_enforces(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        xmpp_stanza_t *m = cw_stanza_new(ctx, "message", NULL);
        xmpp_stanza_set_attribute(m, "from", cases[i].in);
        cw_stanza_add_text_child(m, "body", NULL, cases[i].in);
        GString *out = g_string_new(NULL);
        cw_stanza_serialize(out, m);
        xmpp_stanza_t *again = xmpp_stanza_new_from_string(ctx, out->str);
        if (!again)
            g_error("%s: not well-formed: %s", cases[i].name, out->str);
        g_autofree char *body = cw_stanza_child_text(again, "body", NULL);
        g_assert_cmpstr(body, ==, cases[i].out);
        g_assert_cmpstr(xmpp_stanza_get_attribute(again, "from"), ==, cases[i].out);
        xmpp_stanza_release(again);
        xmpp_stanza_release(m);
        g_string_free(out, TRUE);
    }
    /* The direct writer of the groupchat path (cw_xml_append_*) too. */
    GString *out = g_string_new("<m");
    cw_xml_append_attr(out, "id", "\xEF\xBF\xBF<\x01");
    g_string_append(out, ">");
    cw_xml_append_escaped(out, "\xFF&\xEF\xBF\xBE", FALSE);
    g_string_append(out, "</m>");
    g_assert_cmpstr(out->str, ==, "<m id=\"" FFFD "&lt;\">" FFFD "&amp;" FFFD "</m>");
    g_string_free(out, TRUE);
    xmpp_ctx_free(ctx);
}

static void
test_conditions(void)
{
    g_assert_cmpstr(cw_error_condition_checked("item-not-found"), ==, "item-not-found");
    g_assert_cmpstr(cw_error_condition_checked("x><evil/"), ==, "undefined-condition");
    g_assert_cmpstr(cw_error_condition_checked(NULL), ==, "undefined-condition");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    g_test_add_func("/safetext/make-safe", test_make_safe);
    g_test_add_func("/safetext/limit", test_limit);
    g_test_add_func("/safetext/boundary", test_boundary);
    g_test_add_func("/safetext/serialiser-enforces", test_serialiser_enforces);
    g_test_add_func("/safetext/conditions", test_conditions);
    int rc = g_test_run();
    xmpp_shutdown();
    return rc;
}
