/* test-config.c — unit tests for config.c: typed values, defaults, and one-line errors naming file, section, key and fix. */
#include <glib/gstdio.h>
#include <string.h>

#include <causeway/keyfile.h>

#include "config.h"
#include "gateway.h"
#include "transports.h"

#define PATH "/etc/causeway/test.ini"

/* A transport section that is complete, for cases about the other sections. */
#define LOOP "[transport:loop]\ntype = loopback\ndomain = loop.example.org\nsecret = s3cret\n"

/* ---- a valid config: every typed value ---- */

static const char full_config[] =
    "# comment\n"
    "[xmpp]\n"
    "host = xmpp.example.org\n"
    "port = 5348\n"
    "reconnect_min = 0.25\n"
    "reconnect_max = 30\n"
    "\n"
    "[gateway]\n"
    "data_dir = /srv/causeway\n"
    "key_file = /etc/causeway/causeway.key\n"
    "allowed_domains = Example.ORG, other.example;third.example\n"
    "admins = Boss@Example.org other@other.example\n"
    "\n"
    "[transport:loop]\n"
    "type = loopback\n"
    "domain = Loop.Example.ORG\n"
    "secret =  s3cret \n"
    "\n"
    "[transport:echo]\n"
    "type = loopback\n"
    "domain = echo.example.org\n"
    "secret = other\n"
    "host = 10.0.0.7\n"
    "port = 6000\n";

static void assert_strv(char **got, const char *const *want)
{
    g_assert_nonnull(got);
    g_assert_cmpuint(g_strv_length(got), ==, g_strv_length((char **)want));
    for (guint i = 0; want[i]; i++)
        g_assert_cmpstr(got[i], ==, want[i]);
}

static void check_full_config(CwConfig *c, const char *path)
{
    g_assert_cmpstr(c->path, ==, path);
    g_assert_nonnull(c->kf);
    g_assert_cmpuint(c->reconnect_min_ms, ==, 250);
    g_assert_cmpuint(c->reconnect_max_ms, ==, 30000);
    g_assert_cmpstr(c->data_dir, ==, "/srv/causeway");
    g_assert_cmpstr(c->key_file, ==, "/etc/causeway/causeway.key");
    static const char *const domains[] = { "example.org", "other.example", "third.example", NULL };
    assert_strv(c->allowed_domains, domains);
    static const char *const admins[] = { "boss@example.org", "other@other.example", NULL };
    assert_strv(c->admins, admins);

    g_assert_cmpuint(c->transports->len, ==, 2);
    CwTransportConfig *loop = c->transports->pdata[0];
    g_assert_cmpstr(loop->name, ==, "loop");
    g_assert_cmpstr(loop->group, ==, "transport:loop");
    g_assert_cmpstr(loop->type, ==, "loopback");
    g_assert_true(loop->ops == cw_transports_find("loopback"));
    g_assert_nonnull(loop->ops);
    g_assert_cmpstr(loop->domain, ==, "loop.example.org"); /* lower-cased */
    g_assert_cmpstr(loop->secret, ==, "s3cret");           /* stripped */
    g_assert_cmpstr(loop->host, ==, "xmpp.example.org");   /* from [xmpp] */
    g_assert_cmpuint(loop->port, ==, 5348);

    CwTransportConfig *echo = c->transports->pdata[1];
    g_assert_cmpstr(echo->name, ==, "echo");
    g_assert_cmpstr(echo->domain, ==, "echo.example.org");
    g_assert_cmpstr(echo->secret, ==, "other");
    g_assert_cmpstr(echo->host, ==, "10.0.0.7"); /* overridden */
    g_assert_cmpuint(echo->port, ==, 6000);

    g_assert_true(cw_config_transport(c, "loop") == loop);
    g_assert_true(cw_config_transport(c, "echo") == echo);
    g_assert_null(cw_config_transport(c, "nope"));
}

static void test_valid_data(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = cw_config_load_data(full_config, PATH, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c);
    check_full_config(c, PATH);
}

static void test_valid_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("cw-config-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *path = g_build_filename(dir, "causeway.ini", NULL);
    g_assert_true(g_file_set_contents(path, full_config, -1, &error));
    g_assert_no_error(error);

    CwConfig *c = cw_config_load(path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c);
    check_full_config(c, path);
    cw_config_free(c);

    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = cw_config_load_data(LOOP, PATH, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c);
    g_assert_cmpuint(c->reconnect_min_ms, ==, 500);
    g_assert_cmpuint(c->reconnect_max_ms, ==, 60000);
    g_assert_cmpstr(c->data_dir, ==, "/var/lib/causeway");
    g_assert_cmpstr(c->key_file, ==, "/var/lib/causeway/causeway.key");
    g_assert_nonnull(c->allowed_domains);
    g_assert_null(c->allowed_domains[0]);
    g_assert_nonnull(c->admins);
    g_assert_null(c->admins[0]);
    g_assert_cmpuint(c->transports->len, ==, 1);
    CwTransportConfig *t = c->transports->pdata[0];
    g_assert_cmpstr(t->host, ==, "127.0.0.1");
    g_assert_cmpuint(t->port, ==, 5347);
}

static void test_free_null(void)
{
    cw_config_free(NULL);
}

/* ---- cw_config_domain_allowed / cw_config_is_admin ---- */

static void test_domain_allowed_empty(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = cw_config_load_data("[gateway]\nallowed_domains =\n" LOOP, PATH, &error);
    g_assert_no_error(error);
    g_assert_true(cw_config_domain_allowed(c, "example.org"));
    g_assert_true(cw_config_domain_allowed(c, "EVIL.example"));
}

typedef struct {
    const char *domain;
    gboolean allowed;
} DomainCase;

static const DomainCase domain_cases[] = {
    { "example.org", TRUE },    { "EXAMPLE.org", TRUE },    { "Other.Example", TRUE },
    { "third.example", TRUE },  { "evil.example", FALSE },  { "sub.example.org", FALSE },
    { "example.org.", FALSE },  { "org", FALSE },           { "", FALSE },
};

static void test_domain_allowed(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = cw_config_load_data(full_config, PATH, &error);
    g_assert_no_error(error);
    for (gsize i = 0; i < G_N_ELEMENTS(domain_cases); i++) {
        const DomainCase *d = &domain_cases[i];
        if (cw_config_domain_allowed(c, d->domain) != d->allowed)
            g_error("cw_config_domain_allowed(\"%s\") should be %d", d->domain, d->allowed);
    }
}

static void test_is_admin(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) c = cw_config_load_data(full_config, PATH, &error);
    g_assert_no_error(error);
    g_assert_true(cw_config_is_admin(c, "boss@example.org"));
    g_assert_true(cw_config_is_admin(c, "BOSS@Example.ORG"));
    g_assert_true(cw_config_is_admin(c, "other@other.example"));
    g_assert_false(cw_config_is_admin(c, "boss@other.example"));
    g_assert_false(cw_config_is_admin(c, "mallory@example.org"));
    g_assert_false(cw_config_is_admin(c, "example.org"));
    g_assert_false(cw_config_is_admin(c, "boss@example.org/res"));

    g_autoptr(CwConfig) none = cw_config_load_data(LOOP, PATH, &error);
    g_assert_no_error(error);
    g_assert_false(cw_config_is_admin(none, "boss@example.org"));
}

/* ---- errors ---- */

typedef struct {
    const char *name;
    const char *data;
    const char *group;       /* "[group]" must appear; NULL: no section named */
    const char *key;         /* must appear after the group; NULL: none */
    const char *const *must; /* further substrings: the value, the fix hint */
} ErrorCase;

#define MUST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const ErrorCase error_cases[] = {
    { "syntax", "[xmpp\nhost = x\n" LOOP, NULL, NULL,
      MUST("cannot parse", "fix the INI syntax") },
    { "syntax-no-group", "host = x\n" LOOP, NULL, NULL, MUST("fix the INI syntax") },
    { "missing-type", "[transport:loop]\ndomain = loop.example.org\nsecret = s\n",
      "transport:loop", "type", MUST("missing", "add `type = ...` to [transport:loop]") },
    { "empty-type", "[transport:loop]\ntype =  \ndomain = loop.example.org\nsecret = s\n",
      "transport:loop", "type", MUST("missing", "add `type = ...`") },
    { "missing-domain", "[transport:loop]\ntype = loopback\nsecret = s\n", "transport:loop",
      "domain", MUST("missing", "add `domain = ...` to [transport:loop]") },
    { "missing-secret", "[transport:loop]\ntype = loopback\ndomain = loop.example.org\n",
      "transport:loop", "secret", MUST("missing", "add `secret = ...` to [transport:loop]") },
    { "bad-domain", "[transport:loop]\ntype = loopback\ndomain = a@b\nsecret = s\n",
      "transport:loop", "domain", MUST("'a@b' is not a domain", "e.g. irc.example.org") },
    { "bad-name", "[transport:]\ntype = loopback\ndomain = loop.example.org\nsecret = s\n",
      "transport:", NULL, MUST("bad transport name", "[transport:NAME]") },
    { "xmpp-port-abc", "[xmpp]\nport = abc\n" LOOP, "xmpp", "port",
      MUST("'abc' is not a number from 1 to 65535", "write a whole number") },
    { "xmpp-port-0", "[xmpp]\nport = 0\n" LOOP, "xmpp", "port",
      MUST("'0' is not a number from 1 to 65535", "write a whole number") },
    { "xmpp-port-70000", "[xmpp]\nport = 70000\n" LOOP, "xmpp", "port",
      MUST("'70000' is not a number from 1 to 65535", "write a whole number") },
    { "xmpp-port-negative", "[xmpp]\nport = -1\n" LOOP, "xmpp", "port",
      MUST("'-1' is not a number from 1 to 65535", "write a whole number") },
    { "xmpp-port-empty", "[xmpp]\nport =\n" LOOP, "xmpp", "port",
      MUST("'' is not a number", "write a whole number") },
    { "transport-port-abc", LOOP "port = abc\n", "transport:loop", "port",
      MUST("'abc' is not a number from 1 to 65535", "write a whole number") },
    { "transport-port-0", LOOP "port = 0\n", "transport:loop", "port",
      MUST("'0' is not a number from 1 to 65535") },
    { "transport-port-70000", LOOP "port = 70000\n", "transport:loop", "port",
      MUST("'70000' is not a number from 1 to 65535") },
    { "transport-port-negative", LOOP "port = -1\n", "transport:loop", "port",
      MUST("'-1' is not a number from 1 to 65535") },
    { "unknown-type", "[transport:loop]\ntype = nope\ndomain = loop.example.org\nsecret = s\n",
      "transport:loop", "type", MUST("unknown transport type 'nope'", "use one of: irc, loopback") },
    { "duplicate-domain",
      LOOP "[transport:other]\ntype = loopback\ndomain = LOOP.example.org\nsecret = t\n",
      "transport:other", "domain",
      MUST("'loop.example.org' is already the domain of [transport:loop]",
           "give each transport its own domain") },
    { "unknown-key-xmpp", "[xmpp]\nhots = x\n" LOOP, "xmpp", "hots",
      MUST("unknown key", "the keys of [xmpp] are: host, port, reconnect_min, reconnect_max") },
    { "unknown-key-gateway", "[gateway]\ndatadir = /x\n" LOOP, "gateway", "datadir",
      MUST("unknown key", "the keys of [gateway] are: data_dir, key_file, allowed_domains, admins") },
    { "key-file-relative", "[gateway]\nkey_file = keys/causeway.key\n" LOOP, "gateway", "key_file",
      MUST("'keys/causeway.key' is not an absolute path", "give the full path") },
    { "unknown-key-transport", LOOP "password = x\n", "transport:loop", "password",
      MUST("unknown key", "the keys of [transport:loop] are: type, domain, secret, host, port") },
    { "unknown-section", "[xmpp]\n[gatway]\ndata_dir = /x\n" LOOP, "gatway", NULL,
      MUST("unknown section", "sections are [xmpp], [gateway], [metrics] and [transport:NAME]") },
    { "no-transport", "[xmpp]\nhost = 127.0.0.1\n", NULL, NULL,
      MUST("no [transport:NAME] section", "add one with type, domain and secret") },
    { "empty-file", "", NULL, NULL, MUST("no [transport:NAME] section") },
    { "admin-not-jid", "[gateway]\nadmins = boss@example.org, notajid\n" LOOP, "gateway", "admins",
      MUST("'notajid' is not a bare JID", "list bare JIDs like admin@example.org") },
    { "admin-full-jid", "[gateway]\nadmins = a@b/res\n" LOOP, "gateway", "admins",
      MUST("'a@b/res' is not a bare JID", "list bare JIDs") },
    { "admin-malformed", "[gateway]\nadmins = @b\n" LOOP, "gateway", "admins",
      MUST("'@b' is not a bare JID") },
    { "reconnect-max-below-min", "[xmpp]\nreconnect_min = 10\nreconnect_max = 5\n" LOOP, "xmpp",
      "reconnect_max", MUST("smaller than reconnect_min", "make it at least as large") },
    { "reconnect-max-below-default-min", "[xmpp]\nreconnect_max = 0.1\n" LOOP, "xmpp",
      "reconnect_max", MUST("smaller than reconnect_min") },
    { "duration-words", "[xmpp]\nreconnect_min = fast\n" LOOP, "xmpp", "reconnect_min",
      MUST("'fast' is not a duration", "write seconds from 0.01 to 86400") },
    { "duration-unit", "[xmpp]\nreconnect_max = 5s\n" LOOP, "xmpp", "reconnect_max",
      MUST("'5s' is not a duration", "e.g. 2.5") },
    { "duration-zero", "[xmpp]\nreconnect_min = 0\n" LOOP, "xmpp", "reconnect_min",
      MUST("'0' is not a duration") },
    { "duration-negative", "[xmpp]\nreconnect_min = -1\n" LOOP, "xmpp", "reconnect_min",
      MUST("'-1' is not a duration") },
    { "duration-too-long", "[xmpp]\nreconnect_max = 86401\n" LOOP, "xmpp", "reconnect_max",
      MUST("'86401' is not a duration") },
    { "duration-empty", "[xmpp]\nreconnect_min =\n" LOOP, "xmpp", "reconnect_min",
      MUST("'' is not a duration") },
    /* g_ascii_strtod() parses NaN, which every range comparison lets through
     * and whose conversion to milliseconds is undefined (found by fuzz-config). */
    { "duration-nan", "[xmpp]\nreconnect_min = nan\n" LOOP, "xmpp", "reconnect_min",
      MUST("'nan' is not a duration") },
    { "duration-nan-max", "[xmpp]\nreconnect_max = -NaN\n" LOOP, "xmpp", "reconnect_max",
      MUST("'-NaN' is not a duration") },
    /* GKeyFile unescapes \n in values: the message must stay one line. */
    { "escaped-newline", "[xmpp]\nport = 1\\n2\n" LOOP, "xmpp", "port",
      MUST("'1\\n2' is not a number") },
    { "escaped-tab", "[transport:loop]\ntype = loopback\ndomain = a\\tb\nsecret = s\n",
      "transport:loop", "domain", MUST("'a\\tb' is not a domain") },
};

/* The message is one line "PATH: [group] key: what; fix". */
static void assert_config_error(const GError *error, const char *path, const char *group,
                                const char *key, const char *const *must)
{
    g_assert_nonnull(error);
    g_assert_true(error->domain == CW_CONFIG_ERROR);
    const char *msg = error->message;
    if (g_test_verbose())
        g_test_message("%s", msg);
    g_assert_null(strchr(msg, '\n'));
    g_autofree char *prefix = g_strdup_printf("%s: ", path);
    g_assert_true(g_str_has_prefix(msg, prefix));
    if (group) {
        g_autofree char *where = key ? g_strdup_printf("%s: [%s] %s: ", path, group, key)
                                     : g_strdup_printf("%s: [%s]: ", path, group);
        if (!g_str_has_prefix(msg, where))
            g_error("'%s' does not start with '%s'", msg, where);
    }
    g_assert_nonnull(strchr(msg, ';')); /* "what is wrong; what to do" */
    for (const char *const *m = must; m && *m; m++)
        if (!strstr(msg, *m))
            g_error("'%s' does not contain '%s'", msg, *m);
}

static void test_error(gconstpointer data)
{
    const ErrorCase *e = data;
    g_autoptr(GError) error = NULL;
    CwConfig *c = cw_config_load_data(e->data, PATH, &error);
    g_assert_null(c);
    assert_config_error(error, PATH, e->group, e->key, e->must);
}

/* ---- a transport type's own keys (its configure op, on a stub gateway) ---- */

typedef struct {
    const char *name;
    const char *keys; /* appended to a valid [transport:irc] */
    const char *must; /* NULL: accepted */
} IrcKeyCase;

static const IrcKeyCase irc_key_cases[] = {
    { "flood-interval", "flood_interval = 0.25\n", NULL },
    { "flood-interval-negative", "flood_interval = -1\n", "'-1' is not a duration" },
    { "flood-interval-too-long", "flood_interval = 61\n", "'61' is not a duration" },
    /* NaN passed both range checks and was converted: undefined (found by fuzz-config). */
    { "flood-interval-nan", "flood_interval = nan\n", "'nan' is not a duration" },
    { "flood-interval-inf", "flood_interval = inf\n", "'inf' is not a duration" },
    /* irc_servers (issue 14, finding 5): no silent open gateway */
    { "servers-missing", "", "[transport:irc] irc_servers: missing; list the IRC servers" },
    { "servers-empty", "irc_servers = \n", "[transport:irc] irc_servers: missing" },
    { "servers-default-only", "default_server = irc.example.net\n", NULL },
    { "servers-list", "irc_servers = irc.libera.chat:6697, irc.oftc.net [::1]:6667\n", NULL },
    { "servers-open", "irc_servers = *\nirc_allow_private = true\n", NULL },
    { "servers-bad-port", "irc_servers = irc.x:0\n",
      "[transport:irc] irc_servers: 'irc.x:0' has a bad port" },
    { "servers-bad-host", "irc_servers = irc.x, a/b\n",
      "[transport:irc] irc_servers: 'a/b' is not a host name" },
    { "servers-only-commas", "irc_servers = , ,\n", "[transport:irc] irc_servers: empty" },
    { "servers-default-not-listed", "irc_servers = irc.x\ndefault_server = irc.y\n",
      "[transport:irc] default_server: 'irc.y' is not in irc_servers" },
    { "servers-default-open", "irc_servers = *\ndefault_server = irc.y\n", NULL },
    { "allow-private-bad", "irc_servers = *\nirc_allow_private = maybe\n",
      "[transport:irc] irc_allow_private: 'maybe' is not a boolean" },
    { "servers-per-user-zero", "irc_servers = *\nmax_servers_per_user = 0\n",
      "[transport:irc] max_servers_per_user: '0' is not a number from 1 to 10000" },
    { "connections-per-server-big", "irc_servers = *\nmax_connections_per_server = 1000001\n",
      "[transport:irc] max_connections_per_server: '1000001' is not a number" },
    { "connections-per-server", "irc_servers = *\nmax_connections_per_server = 1000000\n"
      "max_servers_per_user = 10000\n", NULL },
};

static void test_irc_keys(gconstpointer data)
{
    const IrcKeyCase *k = data;
    g_autoptr(GError) error = NULL;
    /* The flood cases need a valid server list; the servers-* cases bring their own. */
    gboolean own = strstr(k->name, "servers") || strstr(k->name, "private") || strstr(k->name, "connections");
    g_autofree char *text = g_strconcat("[transport:irc]\ntype = irc\ndomain = irc.example.org\n"
                                        "secret = s\n", own ? "" : "irc_servers = irc.example.net\n",
                                        k->keys, NULL);
    g_autoptr(CwConfig) c = cw_config_load_data(text, PATH, &error);
    g_assert_no_error(error);
    CwTransportConfig *t = cw_config_transport(c, "irc");
    g_assert_nonnull(t);
    g_assert_nonnull(t->ops->configure);
    CwGateway gw = { .config = c, .tconf = t, .ops = t->ops };
    gboolean ok = t->ops->configure(&gw, c->kf, c->path, t->group, &error);
    if (!k->must) {
        g_assert_no_error(error);
        g_assert_true(ok);
        t->ops->deinit(&gw);
        return;
    }
    g_assert_false(ok);
    g_assert_nonnull(error);
    if (!strstr(error->message, k->must))
        g_error("'%s' does not contain '%s'", error->message, k->must);
    g_assert_null(cw_gateway_get_data(&gw));
}

static void test_error_missing_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("cw-config-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *path = g_build_filename(dir, "absent.ini", NULL);
    CwConfig *c = cw_config_load(path, &error);
    g_assert_null(c);
    assert_config_error(error, path, NULL, NULL,
                        MUST("cannot read the config file", "give an existing file with -c"));
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_error_file_syntax(void)
{
    /* The path of a real file appears in a parse error too. */
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("cw-config-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *path = g_build_filename(dir, "bad.ini", NULL);
    g_assert_true(g_file_set_contents(path, "[xmpp]\nport = 5347\n[broken\n", -1, &error));
    CwConfig *c = cw_config_load(path, &error);
    g_assert_null(c);
    assert_config_error(error, path, NULL, NULL, MUST("fix the INI syntax"));
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* ---- durations with units ---- */

static void
test_duration(void)
{
    static const struct { const char *value; double seconds; } good[] = {
        { "90", 90 }, { "90s", 90 }, { "5m", 300 }, { "1.5h", 5400 }, { "30d", 2592000 },
        { " 2D ", 172800 }, { "0", 0 },
    };
    static const char *const bad[] = { "m", "5x", "5mm", "-1", "nan", "1e99", "5 m", "40d" };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_string(kf, "t", "d", good[i].value);
        double out = -1;
        g_autoptr(GError) error = NULL;
        g_assert_true(cw_keyfile_get_duration(kf, PATH, "t", "d", 7, 0, 31 * 86400, &out, &error));
        g_assert_cmpfloat_with_epsilon(out, good[i].seconds, 1e-9);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_string(kf, "t", "d", bad[i]);
        double out = -1;
        g_autoptr(GError) error = NULL;
        g_assert_false(cw_keyfile_get_duration(kf, PATH, "t", "d", 7, 0, 31 * 86400, &out, &error));
        g_assert_nonnull(strstr(error->message, "[t] d"));
        g_assert_nonnull(strstr(error->message, "30d"));
        g_assert_cmpfloat(out, ==, 7); /* untouched but for the default */
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    double out = -1;
    g_assert_true(cw_keyfile_get_duration(kf, PATH, "t", "absent", 7, 0, 10, &out, NULL));
    g_assert_cmpfloat(out, ==, 7);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/valid/data", test_valid_data);
    g_test_add_func("/config/duration", test_duration);
    g_test_add_func("/config/valid/file", test_valid_file);
    g_test_add_func("/config/valid/defaults", test_defaults);
    g_test_add_func("/config/free-null", test_free_null);
    g_test_add_func("/config/domain-allowed/empty-list", test_domain_allowed_empty);
    g_test_add_func("/config/domain-allowed/list", test_domain_allowed);
    g_test_add_func("/config/is-admin", test_is_admin);
    g_test_add_func("/config/error/missing-file", test_error_missing_file);
    g_test_add_func("/config/error/file-syntax", test_error_file_syntax);
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *name = g_strdup_printf("/config/error/%s", error_cases[i].name);
        g_test_add_data_func(name, &error_cases[i], test_error);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(irc_key_cases); i++) {
        g_autofree char *name = g_strdup_printf("/config/irc-keys/%s", irc_key_cases[i].name);
        g_test_add_data_func(name, &irc_key_cases[i], test_irc_keys);
    }
    return g_test_run();
}
