/* test-irc-address.c — IRC legacy ids, case folding and name comparison. */
#include "irc/irc-address.h"

static void test_casefold(void)
{
    g_autofree char *f = cw_irc_casefold("Nick[A]\\B~");
    g_assert_cmpstr(f, ==, "nick{a}|b^");
}

static void test_name_equal(void)
{
    static const struct {
        const char *a, *b;
        gboolean equal;
    } cases[] = {
        { "nick", "nick", TRUE },     { "Nick", "nICK", TRUE },   { "a[b]", "A{B}", TRUE },
        { "x\\y~", "X|Y^", TRUE },    { "nick", "nick_", FALSE }, { "nick_", "nick", FALSE },
        { "", "", TRUE },             { "a", "", FALSE },         { "ab", "ac", FALSE },
        { "ünï", "ünï", TRUE },       { NULL, NULL, TRUE },       { "a", NULL, FALSE },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(cw_irc_name_equal(cases[i].a, cases[i].b), ==, cases[i].equal);
        g_assert_cmpint(cw_irc_name_equal(cases[i].b, cases[i].a), ==, cases[i].equal);
        if (cases[i].a && cases[i].b) {
            /* the same answer as comparing the folded copies */
            g_autofree char *fa = cw_irc_casefold(cases[i].a);
            g_autofree char *fb = cw_irc_casefold(cases[i].b);
            g_assert_cmpint(g_str_equal(fa, fb), ==, cases[i].equal);
        }
    }
}

static void test_address(void)
{
    CwIrcAddress a = cw_irc_address_parse("#chan%irc.example.net", NULL);
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_CHANNEL);
    g_assert_cmpstr(a.name, ==, "#chan");
    g_assert_cmpstr(a.server, ==, "irc.example.net");
    cw_irc_address_clear(&a);

    a = cw_irc_address_parse("nick", "irc.default");
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_USER);
    g_assert_cmpstr(a.server, ==, "irc.default");
    cw_irc_address_clear(&a);

    /* With a default server, servers stay reachable: a nick has no dot, and
     * the default server's own name is the server. */
    const char *servers[][2] = { { "irc.libera.chat", "irc.libera.chat" },
                                 { "127.0.0.1", "127.0.0.1" },
                                 { "IRC.Default", "irc.default" },
                                 { "localhost", "localhost" } };
    for (gsize i = 0; i < G_N_ELEMENTS(servers); i++) {
        a = cw_irc_address_parse(servers[i][0], i == 3 ? "localhost" : "irc.default");
        g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_SERVER);
        g_assert_null(a.name);
        g_assert_cmpstr(a.server, ==, servers[i][1]);
        cw_irc_address_clear(&a);
    }
    a = cw_irc_address_parse("#chan", "irc.default");
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_CHANNEL);
    g_assert_cmpstr(a.server, ==, "irc.default");
    cw_irc_address_clear(&a);
    a = cw_irc_address_parse("#chan.with.dots", "irc.default");
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_CHANNEL);
    g_assert_cmpstr(a.name, ==, "#chan.with.dots");
    cw_irc_address_clear(&a);

    a = cw_irc_address_parse("irc.example.net", NULL);
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_SERVER);
    g_assert_null(a.name);
    cw_irc_address_clear(&a);

    a = cw_irc_address_parse("bad nick%irc.example.net", NULL);
    g_assert_cmpint(a.kind, ==, CW_IRC_ADDRESS_INVALID);
    cw_irc_address_clear(&a);

    g_autofree char *id = cw_irc_address_format("#chan", "irc.example.net");
    g_assert_cmpstr(id, ==, "#chan%irc.example.net");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/address/casefold", test_casefold);
    g_test_add_func("/irc/address/name-equal", test_name_equal);
    g_test_add_func("/irc/address/parse-format", test_address);
    return g_test_run();
}
