/* metrics.h — the process's metrics registry (Prometheus text exposition).
 *
 * One registry per process (one transport per process). Counters and gauges
 * are plain integers/doubles touched from the main loop only: no locks, no
 * allocation once a series exists. A series is (family name, one optional
 * label pair); every sample rendered also carries the process's own labels
 * transport="NAME",type="TYPE" given to cw_metrics_init().
 *
 * Hot paths take a series pointer once with cw_metrics_counter() and then do
 * `(*p)++`; the pointer stays valid until cw_metrics_deinit().
 *
 * Collectors (cw_metrics_add_collector) run just before each render, to set
 * gauges that are cheaper to read than to track (queue lengths, outbox depth).
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; label values are escaped.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum { CW_METRIC_COUNTER, CW_METRIC_GAUGE, CW_METRIC_HISTOGRAM } CwMetricType;

/* Start / stop the registry (init/deinit in pairs; deinit frees every series). */
void cw_metrics_init(const char *transport, const char *type);
void cw_metrics_deinit(void);

/* The counter series `name{label=value}` (label may be NULL), created on first
 * use with its help text. Returns a stable pointer (NULL if not initialised). */
guint64 *cw_metrics_counter(const char *name, const char *help, const char *label,
                            const char *value);
/* Add n to a counter (a no-op when the registry is not initialised). */
void cw_metrics_count(const char *name, const char *help, const char *label, const char *value,
                      guint64 n);
/* Set a gauge series. */
void cw_metrics_gauge_set(const char *name, const char *help, const char *label,
                          const char *value, double v);
/* Drop every series of a gauge family (before a collector sets the current ones). */
void cw_metrics_gauge_clear(const char *name);

/* A histogram with fixed upper bounds (ascending, +Inf implied), no labels of
 * its own. cw_metrics_observe() is a short linear scan over the bounds and two
 * additions: cheap enough for every SQLite statement. NULL-safe. */
typedef struct CwMetricsHistogram CwMetricsHistogram;
CwMetricsHistogram *cw_metrics_histogram(const char *name, const char *help, const double *bounds,
                                         guint n_bounds);
void cw_metrics_observe(CwMetricsHistogram *h, double v);

typedef void (*CwMetricsCollector)(gpointer data);
void cw_metrics_add_collector(CwMetricsCollector fn, gpointer data);
void cw_metrics_remove_collector(CwMetricsCollector fn, gpointer data);

/* Run the collectors and render the exposition text (# HELP, # TYPE, samples). */
char *cw_metrics_render(void);

/* Append v escaped as a Prometheus label value (\\, \", \n). */
void cw_metrics_escape_label(GString *out, const char *v);

G_END_DECLS
