/* gateway-metrics.c — a transport process's gauges, its snapshot to the supervisor, its own endpoint. */
#define G_LOG_DOMAIN "causeway"
#include "gateway-metrics.h"

#include <causeway/metrics.h>

#include "component.h"
#include "metrics-http.h"
#include "notify.h"
#include "store.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int stats_fd;          /* -1 when not supervised */
    guint timer_id;
    gboolean connected, ever_connected, cut_logged;
    gint64 since;          /* wall clock seconds of the last connect/disconnect */
    CwMetricsHttp *http;
} GatewayMetrics;

static GatewayMetrics gm_state = { .stats_fd = -1 };
static GatewayMetrics *gm; /* one gateway per process */

static void
collect(gpointer data)
{
    CwGateway *gw = data;
    cw_metrics_gauge_set("causeway_component_connected",
                         "1 while the XEP-0114 component is connected to the XMPP server", NULL,
                         NULL, gm->connected);
    cw_metrics_gauge_set("causeway_component_state_since_seconds",
                         "Unix time of the last component connect or disconnect", NULL, NULL,
                         (double)gm->since);
    cw_metrics_gauge_set("causeway_component_backlog_bytes",
                         "Bytes queued for the XMPP server, not yet written", NULL, NULL,
                         (double)cw_component_backlog(gw->component));
    guint online = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, gw->users);
    while (g_hash_table_iter_next(&it, NULL, &v))
        online += ((CwUser *)v)->online;
    cw_metrics_gauge_set("causeway_users_online", "Users with at least one available resource",
                         NULL, NULL, online);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) users = cw_store_user_list(gw->store, &error);
    if (users)
        cw_metrics_gauge_set("causeway_users_registered", "Users registered with this transport",
                             NULL, NULL, users->len);
    cw_metrics_gauge_set("causeway_uptime_seconds", "Seconds since this transport process started",
                         NULL, NULL, (g_get_monotonic_time() - gw->started_us) / 1e6);
}

static void
send_snapshot(void)
{
    if (gm->stats_fd < 0)
        return;
    g_autofree char *body = cw_metrics_render();
    GString *dgram = g_string_new(NULL);
    g_string_printf(dgram, "CAUSEWAY-STATS 1 connected=%d since=%" G_GINT64_FORMAT "\n",
                    gm->connected, gm->since);
    g_string_append(dgram, body);
    if (dgram->len > CW_STATS_MAX) {
        char *cut = g_strrstr_len(dgram->str, CW_STATS_MAX, "\n");
        g_string_truncate(dgram, cut ? (gsize)(cut - dgram->str + 1) : 0);
        if (!gm->cut_logged)
            g_warning("metrics snapshot larger than %d bytes; the last series are left out",
                      CW_STATS_MAX);
        gm->cut_logged = TRUE;
    }
    if (send(gm->stats_fd, dgram->str, dgram->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
        errno != EAGAIN && errno != EWOULDBLOCK)
        g_debug("metrics snapshot: %s", g_strerror(errno));
    g_string_free(dgram, TRUE);
}

static gboolean
on_tick(gpointer data)
{
    send_snapshot();
    return G_SOURCE_CONTINUE;
}

static char *
http_body(gpointer data)
{
    return cw_metrics_render();
}

static gboolean
http_health(GString *reason, gpointer data)
{
    CwGateway *gw = data;
    if (gm->connected)
        return TRUE;
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(gm->since);
    g_autofree char *when = g_date_time_format_iso8601(t);
    g_string_append_printf(reason, "transport %s: component %s not connected to the XMPP server since %s\n",
                           gw->tconf->name, gw->tconf->domain, when);
    return FALSE;
}

void
cw_gateway_metrics_start(CwGateway *gw)
{
    g_return_if_fail(gm == NULL);
    gm = &gm_state;
    *gm = (GatewayMetrics){ .stats_fd = -1, .since = g_get_real_time() / G_USEC_PER_SEC };
    cw_metrics_add_collector(collect, gw);
    const char *fd = g_getenv(CW_STATS_FD_ENV);
    if (fd) {
        gm->stats_fd = (int)g_ascii_strtoll(fd, NULL, 10);
        g_unsetenv(CW_STATS_FD_ENV);
        gm->timer_id = g_timeout_add_seconds(1, on_tick, NULL);
        send_snapshot();
    } else if (gw->config->metrics_listen) {
        g_autoptr(GError) error = NULL;
        gm->http = cw_metrics_http_new(gw->config->metrics_listen, http_body, http_health, gw, &error);
        if (!gm->http)
            g_warning("%s; metrics are off", error->message);
    }
    cw_notify_watchdog_start();
    cw_notify_status("connecting %s to %s:%u", gw->tconf->domain, gw->tconf->host, gw->tconf->port);
}

void
cw_gateway_metrics_stop(CwGateway *gw)
{
    if (!gm)
        return;
    cw_notify_send("STOPPING=1");
    g_clear_handle_id(&gm->timer_id, g_source_remove);
    g_clear_pointer(&gm->http, cw_metrics_http_free);
    if (gm->stats_fd >= 0)
        close(gm->stats_fd);
    cw_metrics_remove_collector(collect, gw);
    gm = NULL;
}

void
cw_gateway_metrics_connected(CwGateway *gw, gboolean up)
{
    if (!gm)
        return;
    gm->connected = up;
    gm->since = g_get_real_time() / G_USEC_PER_SEC;
    if (up) {
        cw_metrics_count("causeway_component_connects_total",
                         "Successful component handshakes (the first one and every reconnect)",
                         NULL, NULL, 1);
        if (!gm->ever_connected)
            cw_notify_send("READY=1");
        gm->ever_connected = TRUE;
        cw_notify_status("%s connected", gw->tconf->domain);
    } else {
        cw_notify_status("%s disconnected, reconnecting", gw->tconf->domain);
    }
    send_snapshot();
}
