/* test-stanza.c — the send-path serialiser against libstrophe's own parser and serialiser. */
#include <string.h>

#include "stanza.h"

static xmpp_ctx_t *ctx;

/* Same element tree: names, attributes (any order), text, children in order. */
static void assert_same_tree(xmpp_stanza_t *a, xmpp_stanza_t *b)
{
    g_assert_cmpint(xmpp_stanza_is_text(a), ==, xmpp_stanza_is_text(b));
    if (xmpp_stanza_is_text(a)) {
        g_assert_cmpstr(xmpp_stanza_get_text_ptr(a), ==, xmpp_stanza_get_text_ptr(b));
        return;
    }
    g_assert_cmpstr(xmpp_stanza_get_name(a), ==, xmpp_stanza_get_name(b));
    int count = xmpp_stanza_get_attribute_count(a);
    g_assert_cmpint(count, ==, xmpp_stanza_get_attribute_count(b));
    const char *attrs[64];
    g_assert_cmpint(count * 2, <=, (int)G_N_ELEMENTS(attrs));
    int n = xmpp_stanza_get_attributes(a, attrs, count * 2);
    for (int i = 0; i + 1 < n; i += 2)
        g_assert_cmpstr(xmpp_stanza_get_attribute(b, attrs[i]), ==, attrs[i + 1]);
    xmpp_stanza_t *ca = xmpp_stanza_get_children(a), *cb = xmpp_stanza_get_children(b);
    for (; ca && cb; ca = xmpp_stanza_get_next(ca), cb = xmpp_stanza_get_next(cb))
        assert_same_tree(ca, cb);
    g_assert_null(ca);
    g_assert_null(cb);
}

static char *serialize(xmpp_stanza_t *s)
{
    GString *out = g_string_new("prefix|");
    cw_stanza_serialize(out, s);
    g_assert_true(g_str_has_prefix(out->str, "prefix|")); /* appends */
    g_string_erase(out, 0, strlen("prefix|"));
    return g_string_free(out, FALSE);
}

/* Parse xml, serialise it, parse that: the same tree; and libstrophe's own
 * serialisation of both trees is the same length (same escaping). */
static void check_round_trip(const char *xml)
{
    g_autoptr(xmpp_stanza_t) parsed = xmpp_stanza_new_from_string(ctx, xml);
    g_assert_nonnull(parsed);
    g_autofree char *ours = serialize(parsed);
    g_autoptr(xmpp_stanza_t) again = xmpp_stanza_new_from_string(ctx, ours);
    if (!again)
        g_error("libstrophe cannot parse what we wrote: %s", ours);
    assert_same_tree(parsed, again);
    g_autofree char *theirs = cw_stanza_to_string(parsed);
    g_assert_cmpuint(strlen(ours), ==, strlen(theirs));
}

static void test_round_trips(void)
{
    static const char *const cases[] = {
        "<presence/>",
        "<message to='a@b/c' from='d@e' type='chat' id='1'><body>hello</body></message>",
        "<message to='a@b'><body>&lt;script&gt; &amp; &quot;q&quot; 'a' ]]&gt;</body></message>",
        "<iq id='x&amp;y' to='&lt;&gt;&quot;&apos;' type='get'><query xmlns='urn:x'/></iq>",
        "<message to='a@b'><body>ünïcödé 串 🙂</body><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<item role='participant' affiliation='none' jid='n%s@irc.example'/>"
        "<status code='100'/><status code='110'/></x></message>",
        "<message to='a@b'><body>mixed <b>bold</b> tail</body></message>",
        "<presence to='a@b'><status></status><c xmlns='http://jabber.org/protocol/caps' "
        "hash='sha-1' node='n' ver='v+/='/></presence>",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        check_round_trip(cases[i]);
}

/* Built with the API (no parser involved): the escapes we promise. */
static void test_escaping(void)
{
    g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_attribute(m, "to", "a\"b<c>&d");
    cw_stanza_add_text_child(m, "body", NULL, "1 < 2 && 3 > \"2\"");
    g_autofree char *xml = serialize(m);
    g_assert_cmpstr(xml, ==,
                    "<message to=\"a&quot;b&lt;c&gt;&amp;d\"><body>1 &lt; 2 &amp;&amp; 3 &gt; &quot;2&quot;</body></message>");
}

/* White space survives a parser's normalisation; other controls, which XML
 * cannot carry at all, are dropped rather than breaking the stream. */
static void test_controls(void)
{
    g_autoptr(xmpp_stanza_t) m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_attribute(m, "id", "x\ny\tz\r\x01!");
    cw_stanza_add_text_child(m, "body", NULL, "a\rb\nc\td\x01\x07\x1f" "e");
    g_autofree char *xml = serialize(m);
    g_assert_cmpstr(xml, ==, "<message id=\"x&#10;y&#9;z&#13;!\"><body>a&#13;b\nc\tde</body></message>");
    g_autoptr(xmpp_stanza_t) again = xmpp_stanza_new_from_string(ctx, xml);
    g_assert_nonnull(again);
    g_assert_cmpstr(xmpp_stanza_get_id(again), ==, "x\ny\tz\r!");
    g_autofree char *body = cw_stanza_child_text(again, "body", NULL);
    g_assert_cmpstr(body, ==, "a\rb\nc\tde");

    GString *out = g_string_new(NULL);
    cw_xml_append_escaped(out, "q\"\n", FALSE);
    cw_xml_append_attr(out, "k", "q\"\n");
    cw_xml_append_attr(out, "none", NULL);
    g_assert_cmpstr(out->str, ==, "q&quot;\n k=\"q&quot;&#10;\"");
    g_string_free(out, TRUE);
}

/* More attributes than the serialiser's stack array holds. */
static void test_many_attributes(void)
{
    g_autoptr(xmpp_stanza_t) e = cw_stanza_new(ctx, "x", "urn:many");
    for (int i = 0; i < 40; i++) {
        char key[16], value[16];
        g_snprintf(key, sizeof key, "k%d", i);
        g_snprintf(value, sizeof value, "v%d", i);
        xmpp_stanza_set_attribute(e, key, value);
    }
    g_autofree char *xml = serialize(e);
    g_autoptr(xmpp_stanza_t) again = xmpp_stanza_new_from_string(ctx, xml);
    g_assert_nonnull(again);
    g_assert_cmpint(xmpp_stanza_get_attribute_count(again), ==, 41);
    g_assert_cmpstr(xmpp_stanza_get_attribute(again, "k39"), ==, "v39");
    g_assert_cmpstr(xmpp_stanza_get_ns(again), ==, "urn:many");
}

/* cw_short_id: unique, short, and only characters safe in any attribute */
static void
test_short_id(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char id[CW_SHORT_ID_SIZE];
    for (int i = 0; i < 300000; i++) {
        gsize n = cw_short_id(id);
        g_assert_cmpuint(n, ==, strlen(id));
        g_assert_cmpuint(n, >=, 9);
        g_assert_cmpuint(n, <=, 12);
        for (gsize k = 0; k < n; k++)
            g_assert_true(g_ascii_isalnum(id[k]) || id[k] == '-' || id[k] == '_');
        g_assert_true(g_hash_table_add(seen, g_strdup(id)));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/stanza/serialize/round-trips", test_round_trips);
    g_test_add_func("/stanza/serialize/escaping", test_escaping);
    g_test_add_func("/stanza/serialize/many-attributes", test_many_attributes);
    g_test_add_func("/stanza/serialize/controls", test_controls);
    g_test_add_func("/stanza/short-id", test_short_id);
    int rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
