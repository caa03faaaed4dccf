/* metrics-http.c — /metrics and /health over HTTP (libsoup 3 server). */
#define G_LOG_DOMAIN "causeway"
#include "metrics-http.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

struct CwMetricsHttp {
    SoupServer *server;
    CwMetricsBodyFn body_fn;
    CwMetricsHealthFn health_fn;
    gpointer data;
};

gboolean
cw_metrics_listen_parse(const char *listen, char **host, guint16 *port, char **why)
{
    const char *colon;
    g_autofree char *h = NULL;
    if (!listen || !*listen) {
        *why = g_strdup("is empty");
        return FALSE;
    }
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':') {
            *why = g_strdup_printf("'%s' is not [IPV6]:PORT", listen);
            return FALSE;
        }
        h = g_strndup(listen + 1, close - listen - 1);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) {
            *why = g_strdup_printf("'%s' has no port", listen);
            return FALSE;
        }
        h = g_strndup(listen, colon - listen);
        if (strchr(h, ':')) {
            *why = g_strdup_printf("'%s': write an IPv6 address in brackets, [ADDR]:PORT", listen);
            return FALSE;
        }
    }
    if (!g_hostname_is_ip_address(h)) {
        *why = g_strdup_printf("'%s' is not a numeric IP address", h);
        return FALSE;
    }
    char *end = NULL;
    guint64 p = g_ascii_strtoull(colon + 1, &end, 10);
    if (!colon[1] || *end || p == 0 || p > 65535) {
        *why = g_strdup_printf("'%s' is not a port from 1 to 65535", colon + 1);
        return FALSE;
    }
    *host = g_steal_pointer(&h);
    *port = (guint16)p;
    return TRUE;
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
    CwMetricsHttp *http = data;
    const char *method = soup_server_message_get_method(msg);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        char *body = http->body_fn(http->data);
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
                                         SOUP_MEMORY_TAKE, body, strlen(body));
    } else if (strcmp(path, "/health") == 0) {
        GString *reason = g_string_new(NULL);
        gboolean ok = http->health_fn(reason, http->data);
        if (ok && reason->len == 0)
            g_string_append(reason, "ok\n");
        soup_server_message_set_status(msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                       NULL);
        gsize len = reason->len;
        soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_TAKE,
                                         g_string_free(reason, FALSE), len);
    } else {
        soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    }
}

CwMetricsHttp *
cw_metrics_http_new(const char *listen, CwMetricsBodyFn body_fn, CwMetricsHealthFn health_fn,
                    gpointer data, GError **error)
{
    g_autofree char *host = NULL, *why = NULL;
    guint16 port;
    if (!cw_metrics_listen_parse(listen, &host, &port, &why)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "[metrics] listen: %s", why);
        return NULL;
    }
    CwMetricsHttp *http = g_new0(CwMetricsHttp, 1);
    http->body_fn = body_fn;
    http->health_fn = health_fn;
    http->data = data;
    http->server = soup_server_new("server-header", "causeway", NULL);
    soup_server_add_handler(http->server, NULL, on_request, http, NULL);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new_from_string(host, port);
    if (!soup_server_listen(http->server, addr, 0, error)) {
        g_prefix_error(error, "[metrics] listen = %s: ", listen);
        cw_metrics_http_free(http);
        return NULL;
    }
    g_message("metrics on http://%s/metrics and /health", listen);
    return http;
}

void
cw_metrics_http_free(CwMetricsHttp *http)
{
    if (!http)
        return;
    if (http->server) {
        soup_server_disconnect(http->server);
        g_object_unref(http->server);
    }
    g_free(http);
}
