/* test-metrics.c — the metrics registry's exposition text (escaping, grouping) and [metrics] config. */
#include <causeway/metrics.h>
#include <string.h>

#include "config.h"
#include "metrics-http.h"

#define PATH "/etc/causeway/test.ini"
#define LOOP "[transport:loop]\ntype = loopback\ndomain = loop.example.org\nsecret = s3cret\n"

static void
test_escape(void)
{
    GString *s = g_string_new(NULL);
    cw_metrics_escape_label(s, "a\\b\"c\nd é");
    g_assert_cmpstr(s->str, ==, "a\\\\b\\\"c\\nd é");
    g_string_free(s, TRUE);
}

static void
test_render(void)
{
    cw_metrics_init("ir\"c", "irc");
    guint64 *p = cw_metrics_counter("causeway_x_total", "Things\nand \\ more", "kind", "a\nb");
    (*p) += 2;
    cw_metrics_count("causeway_x_total", NULL, "kind", "a\nb", 3);
    cw_metrics_count("causeway_x_total", NULL, NULL, NULL, 1);
    cw_metrics_gauge_set("causeway_g", "A gauge", NULL, NULL, 0.5);
    cw_metrics_gauge_set("causeway_empty", "Cleared", "state", "x", 1);
    cw_metrics_gauge_clear("causeway_empty");
    g_autofree char *text = cw_metrics_render();
    g_assert_cmpstr(text, ==,
                    "# HELP causeway_x_total Things\\nand \\\\ more\n"
                    "# TYPE causeway_x_total counter\n"
                    "causeway_x_total{transport=\"ir\\\"c\",type=\"irc\",kind=\"a\\nb\"} 5\n"
                    "causeway_x_total{transport=\"ir\\\"c\",type=\"irc\"} 1\n"
                    "# HELP causeway_g A gauge\n"
                    "# TYPE causeway_g gauge\n"
                    "causeway_g{transport=\"ir\\\"c\",type=\"irc\"} 0.5\n");
    cw_metrics_deinit();
    /* without a registry: no-ops, NULL pointers */
    g_assert_null(cw_metrics_counter("causeway_x_total", NULL, NULL, NULL));
    cw_metrics_count("causeway_x_total", NULL, NULL, NULL, 1);
}

static void
test_listen_parse(void)
{
    static const struct { const char *in, *host; guint16 port; } ok[] = {
        { "127.0.0.1:9375", "127.0.0.1", 9375 },
        { "[::1]:80", "::1", 80 },
        { "0.0.0.0:1", "0.0.0.0", 1 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autofree char *host = NULL, *why = NULL;
        guint16 port = 0;
        g_assert_true(cw_metrics_listen_parse(ok[i].in, &host, &port, &why));
        g_assert_cmpstr(host, ==, ok[i].host);
        g_assert_cmpuint(port, ==, ok[i].port);
    }
    static const char *const bad[] = { "", "9375", "localhost:9375", "127.0.0.1:", "127.0.0.1:0",
                                       "127.0.0.1:70000", "127.0.0.1:9x", "[::1:80", "::1:80" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *host = NULL, *why = NULL;
        guint16 port = 0;
        g_assert_false(cw_metrics_listen_parse(bad[i], &host, &port, &why));
        g_assert_nonnull(why);
    }
}

static void
test_config(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwConfig) off = cw_config_load_data(LOOP, PATH, &error);
    g_assert_no_error(error);
    g_assert_null(off->metrics_listen);
    g_autoptr(CwConfig) on = cw_config_load_data("[metrics]\nlisten = 127.0.0.1:9375\n" LOOP, PATH,
                                                 &error);
    g_assert_no_error(error);
    g_assert_cmpstr(on->metrics_listen, ==, "127.0.0.1:9375");

    g_assert_null(cw_config_load_data("[metrics]\nlisten = localhost:9375\n" LOOP, PATH, &error));
    g_assert_nonnull(strstr(error->message, PATH ": [metrics] listen: "));
    g_assert_nonnull(strstr(error->message, "e.g. listen = 127.0.0.1:9375"));
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
    g_assert_null(cw_config_load_data("[metrics]\nport = 9375\n" LOOP, PATH, &error));
    g_assert_nonnull(strstr(error->message, "[metrics] port: unknown key"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metrics/escape", test_escape);
    g_test_add_func("/metrics/render", test_render);
    g_test_add_func("/metrics/listen-parse", test_listen_parse);
    g_test_add_func("/metrics/config", test_config);
    return g_test_run();
}
