/* metrics-http.h — the [metrics] HTTP endpoint (libsoup 3 server): /metrics and /health.
 *
 * GET /metrics  200, Prometheus text exposition (text/plain; version=0.0.4) from body_fn.
 * GET /health   200 "ok\n" when health_fn returns TRUE, else 503 with the reason it wrote.
 * Anything else 404. The server runs on the caller's main loop and never blocks it.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct CwMetricsHttp CwMetricsHttp;
typedef char *(*CwMetricsBodyFn)(gpointer data);                   /* returns newly allocated */
typedef gboolean (*CwMetricsHealthFn)(GString *reason, gpointer data);

/* Parse `HOST:PORT` / `[V6]:PORT` with a numeric IP. FALSE with *why (free it) on error. */
gboolean cw_metrics_listen_parse(const char *listen, char **host, guint16 *port, char **why);

CwMetricsHttp *cw_metrics_http_new(const char *listen, CwMetricsBodyFn body_fn,
                                   CwMetricsHealthFn health_fn, gpointer data, GError **error);
void cw_metrics_http_free(CwMetricsHttp *http); /* NULL-safe */

G_END_DECLS
