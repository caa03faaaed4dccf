/* test-irc-policy.c — the IRC server allowlist, address classes for open gateways, connection limits. */
#include "irc/irc-policy.h"

#include <string.h>

static void test_normalise(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "irc.libera.chat", "irc.libera.chat" }, { "IRC.Libera.Chat", "irc.libera.chat" },
        { "irc.libera.chat.", "irc.libera.chat" }, { "irc.libera.chat..", "irc.libera.chat" },
        { "[::1]", "::1" },                        { "127.0.0.1", "127.0.0.1" },
        { "", NULL },                              { ".", NULL },
        { "bad host", NULL },                      { "a/b", NULL },
        { "x\r\ny", NULL },                        { NULL, NULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *n = cw_irc_policy_normalise_host(cases[i].in);
        g_assert_cmpstr(n, ==, cases[i].out);
    }
}

static void test_parse_entry(void)
{
    static const struct {
        const char *in, *host;
        guint16 port;
    } good[] = {
        { "irc.libera.chat", "irc.libera.chat", 0 },
        { "irc.libera.chat:6697", "irc.libera.chat", 6697 },
        { "IRC.OFTC.net.:6667", "irc.oftc.net", 6667 },
        { "[2001:db8::1]:6697", "2001:db8::1", 6697 },
        { "[2001:db8::1]", "2001:db8::1", 0 },
        { "2001:db8::1", "2001:db8::1", 0 },
        { "127.0.0.1:1", "127.0.0.1", 1 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *host = NULL;
        guint16 port = 1234;
        g_autoptr(GError) error = NULL;
        g_assert_true(cw_irc_policy_parse_entry(good[i].in, &host, &port, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(host, ==, good[i].host);
        g_assert_cmpuint(port, ==, good[i].port);
    }
    static const char *const bad[] = { "irc.x:0", "irc.x:65536", "irc.x:", "irc.x:66x", ":6667",
                                       "[::1]x", "[::1]:", "a b", "" };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *host = NULL;
        guint16 port = 0;
        g_autoptr(GError) error = NULL;
        g_assert_false(cw_irc_policy_parse_entry(bad[i], &host, &port, &error));
        g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED);
        g_assert_null(host);
        /* the message names the entry so the admin can find it */
        g_assert_nonnull(strstr(error->message, bad[i]));
    }
}

static void test_set_servers(void)
{
    CwIrcPolicy *p = cw_irc_policy_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_irc_policy_set_servers(p, "irc.libera.chat:6697, irc.oftc.net  ,x.y", &error));
    g_assert_no_error(error);
    g_assert_cmpuint(p->servers->len, ==, 3);
    g_assert_false(p->open);
    g_assert_nonnull(cw_irc_policy_lookup(p, "IRC.OFTC.NET."));
    g_assert_cmpuint(cw_irc_policy_lookup(p, "irc.libera.chat")->port, ==, 6697);
    g_assert_null(cw_irc_policy_lookup(p, "irc.libera.chat.evil"));
    g_assert_null(cw_irc_policy_lookup(p, "libera.chat"));

    g_assert_true(cw_irc_policy_set_servers(p, "*", &error));
    g_assert_true(p->open);
    g_assert_cmpuint(p->servers->len, ==, 0);

    g_assert_true(cw_irc_policy_set_servers(p, "*, 127.0.0.1", &error));
    g_assert_true(p->open);
    g_assert_cmpuint(p->servers->len, ==, 1);

    /* an error leaves the policy as it was */
    g_assert_false(cw_irc_policy_set_servers(p, "a.b, bad:port", &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED);
    g_clear_error(&error);
    g_assert_true(p->open);
    g_assert_cmpuint(p->servers->len, ==, 1);

    g_assert_false(cw_irc_policy_set_servers(p, " , ", &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED);
    cw_irc_policy_free(p);
}

static void test_check_server(void)
{
    CwIrcPolicy *p = cw_irc_policy_new();
    g_assert_true(cw_irc_policy_set_servers(p, "irc.libera.chat:6697, irc.oftc.net", NULL));
    guint16 port = 0;
    gboolean check = TRUE;
    g_autoptr(GError) error = NULL;

    /* pinned port: used when the user set none, and the same port is fine */
    g_assert_true(cw_irc_policy_check_server(p, "irc.libera.chat", 0, 6667, &port, &check, &error));
    g_assert_cmpuint(port, ==, 6697);
    g_assert_false(check);
    g_assert_true(cw_irc_policy_check_server(p, "IRC.libera.chat.", 6697, 6667, &port, &check, &error));
    g_assert_cmpuint(port, ==, 6697);
    /* ... another port is refused, naming the allowed one */
    g_assert_false(cw_irc_policy_check_server(p, "irc.libera.chat", 22, 6667, &port, &check, &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_PORT);
    g_assert_nonnull(strstr(error->message, "6697"));
    g_assert_cmpstr(cw_irc_policy_condition(error), ==, "not-allowed");
    g_clear_error(&error);

    /* no port in the entry: the user's, else the default */
    g_assert_true(cw_irc_policy_check_server(p, "irc.oftc.net", 0, 6667, &port, &check, &error));
    g_assert_cmpuint(port, ==, 6667);
    g_assert_true(cw_irc_policy_check_server(p, "irc.oftc.net", 7000, 6667, &port, &check, &error));
    g_assert_cmpuint(port, ==, 7000);

    /* not listed: refused with the list in the text */
    static const char *const refused[] = { "127.0.0.1", "localhost", "irc.libera.chat.evil.com",
                                           "evil", "bad host" };
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_assert_false(cw_irc_policy_check_server(p, refused[i], 0, 6667, &port, &check, &error));
        g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED);
        g_assert_nonnull(strstr(error->message, "irc.libera.chat:6697, irc.oftc.net"));
        g_clear_error(&error);
    }

    /* open: any host, addresses checked unless private ones are allowed;
     * listed hosts stay trusted (no check) and keep their pinned port */
    g_assert_true(cw_irc_policy_set_servers(p, "*, 127.0.0.1:6667", NULL));
    g_assert_true(cw_irc_policy_check_server(p, "irc.example.org", 6697, 6667, &port, &check, &error));
    g_assert_cmpuint(port, ==, 6697);
    g_assert_true(check);
    g_assert_true(cw_irc_policy_check_server(p, "127.0.0.1", 0, 6000, &port, &check, &error));
    g_assert_cmpuint(port, ==, 6667);
    g_assert_false(check);
    g_assert_false(cw_irc_policy_check_server(p, "127.0.0.1", 6668, 6000, &port, &check, &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_PORT);
    g_clear_error(&error);
    g_assert_false(cw_irc_policy_check_server(p, "bad host", 0, 6667, &port, &check, &error));
    g_clear_error(&error);
    p->allow_private = TRUE;
    g_assert_true(cw_irc_policy_check_server(p, "irc.example.org", 0, 6667, &port, &check, &error));
    g_assert_false(check);
    cw_irc_policy_free(p);
}

static void test_classify(void)
{
    static const struct {
        const char *address;
        CwIrcNetClass klass;
    } cases[] = {
        { "8.8.8.8", CW_IRC_NET_PUBLIC },
        { "130.239.18.119", CW_IRC_NET_PUBLIC },
        { "172.15.255.255", CW_IRC_NET_PUBLIC },
        { "172.32.0.1", CW_IRC_NET_PUBLIC },
        { "100.63.255.255", CW_IRC_NET_PUBLIC },
        { "100.128.0.1", CW_IRC_NET_PUBLIC },
        { "223.255.255.255", CW_IRC_NET_PUBLIC },
        { "127.0.0.1", CW_IRC_NET_LOOPBACK },
        { "127.255.255.254", CW_IRC_NET_LOOPBACK },
        { "10.0.0.1", CW_IRC_NET_PRIVATE },
        { "172.16.0.1", CW_IRC_NET_PRIVATE },
        { "172.31.255.255", CW_IRC_NET_PRIVATE },
        { "192.168.1.1", CW_IRC_NET_PRIVATE },
        { "100.64.0.1", CW_IRC_NET_CGNAT },
        { "100.127.255.255", CW_IRC_NET_CGNAT },
        { "169.254.169.254", CW_IRC_NET_LINK_LOCAL },
        { "0.0.0.0", CW_IRC_NET_UNSPECIFIED },
        { "0.1.2.3", CW_IRC_NET_UNSPECIFIED },
        { "224.0.0.1", CW_IRC_NET_MULTICAST },
        { "239.255.255.255", CW_IRC_NET_MULTICAST },
        { "255.255.255.255", CW_IRC_NET_RESERVED },
        { "240.0.0.1", CW_IRC_NET_RESERVED },
        { "192.0.0.8", CW_IRC_NET_RESERVED },
        { "198.18.0.1", CW_IRC_NET_RESERVED },
        { "2001:4860:4860::8888", CW_IRC_NET_PUBLIC },
        { "2a01:4f8::1", CW_IRC_NET_PUBLIC },
        { "::1", CW_IRC_NET_LOOPBACK },
        { "::", CW_IRC_NET_UNSPECIFIED },
        { "fe80::1", CW_IRC_NET_LINK_LOCAL },
        { "febf::1", CW_IRC_NET_LINK_LOCAL },
        { "fec0::1", CW_IRC_NET_PRIVATE },
        { "fc00::1", CW_IRC_NET_ULA },
        { "fd12:3456::1", CW_IRC_NET_ULA },
        { "ff02::1", CW_IRC_NET_MULTICAST },
        { "::ffff:127.0.0.1", CW_IRC_NET_LOOPBACK },
        { "::ffff:10.1.2.3", CW_IRC_NET_PRIVATE },
        { "::ffff:169.254.1.1", CW_IRC_NET_LINK_LOCAL },
        { "::ffff:0.0.0.0", CW_IRC_NET_UNSPECIFIED },
        { "::ffff:8.8.8.8", CW_IRC_NET_PUBLIC },
        { "64:ff9b::7f00:1", CW_IRC_NET_LOOPBACK },
        { "64:ff9b::808:808", CW_IRC_NET_PUBLIC },
        { "2002:c0a8:0101::1", CW_IRC_NET_PRIVATE },
        { "2002:0808:0808::1", CW_IRC_NET_PUBLIC },
        { "::127.0.0.1", CW_IRC_NET_RESERVED },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GInetAddress) a = g_inet_address_new_from_string(cases[i].address);
        g_assert_nonnull(a);
        if (cw_irc_policy_classify(a) != cases[i].klass)
            g_error("%s: got %s, want %s", cases[i].address,
                    cw_irc_policy_class_name(cw_irc_policy_classify(a)),
                    cw_irc_policy_class_name(cases[i].klass));
        gboolean pub = cases[i].klass == CW_IRC_NET_PUBLIC;
        g_assert_cmpint(cw_irc_policy_address_allowed(FALSE, a), ==, pub);
        gboolean never = cases[i].klass == CW_IRC_NET_MULTICAST || cases[i].klass == CW_IRC_NET_UNSPECIFIED;
        g_assert_cmpint(cw_irc_policy_address_allowed(TRUE, a), ==, !never);
    }
    g_assert_cmpstr(cw_irc_policy_class_name(CW_IRC_NET_LOOPBACK), ==, "loopback");
    g_assert_cmpstr(cw_irc_policy_class_name((CwIrcNetClass)99), ==, "unknown");
}

static void test_limits(void)
{
    CwIrcPolicy *p = cw_irc_policy_new();
    g_assert_cmpuint(p->max_servers_per_user, ==, 5);
    g_assert_cmpuint(p->max_connections_per_server, ==, 200);
    p->max_connections_per_server = 2;
    p->max_servers_per_user = 3;
    g_autoptr(GError) error = NULL;

    g_assert_true(cw_irc_policy_check_limits(p, "irc.x", 0, &error));
    cw_irc_policy_count_connection(p, "irc.x", TRUE);
    /* aliases of the same host count together */
    cw_irc_policy_count_connection(p, "IRC.X.", TRUE);
    g_assert_cmpuint(cw_irc_policy_connections(p, "irc.x"), ==, 2);
    g_assert_false(cw_irc_policy_check_limits(p, "Irc.X", 0, &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_SERVER_LIMIT);
    g_assert_nonnull(strstr(error->message, "max_connections_per_server = 2"));
    g_assert_cmpstr(cw_irc_policy_condition(error), ==, "resource-constraint");
    g_clear_error(&error);
    /* other servers are not affected */
    g_assert_true(cw_irc_policy_check_limits(p, "irc.y", 2, &error));
    g_assert_false(cw_irc_policy_check_limits(p, "irc.y", 3, &error));
    g_assert_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_USER_LIMIT);
    g_assert_nonnull(strstr(error->message, "max_servers_per_user = 3"));
    g_assert_cmpstr(cw_irc_policy_condition(error), ==, "policy-violation");
    g_clear_error(&error);

    cw_irc_policy_count_connection(p, "irc.x", FALSE);
    g_assert_true(cw_irc_policy_check_limits(p, "irc.x", 0, &error));
    cw_irc_policy_count_connection(p, "irc.x.", FALSE);
    g_assert_cmpuint(cw_irc_policy_connections(p, "irc.x"), ==, 0);
    g_assert_cmpuint(g_hash_table_size(p->connections), ==, 0);
    /* uncounting what was never counted does not wrap around */
    cw_irc_policy_count_connection(p, "irc.x", FALSE);
    g_assert_cmpuint(cw_irc_policy_connections(p, "irc.x"), ==, 0);
    cw_irc_policy_free(p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/policy/normalise", test_normalise);
    g_test_add_func("/irc/policy/parse-entry", test_parse_entry);
    g_test_add_func("/irc/policy/set-servers", test_set_servers);
    g_test_add_func("/irc/policy/check-server", test_check_server);
    g_test_add_func("/irc/policy/classify", test_classify);
    g_test_add_func("/irc/policy/limits", test_limits);
    return g_test_run();
}
