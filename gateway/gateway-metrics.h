/* gateway-metrics.h — one transport process's metrics: gauges, the snapshot to the supervisor,
 * and (run alone with --transport and [metrics] listen) its own /metrics and /health.
 *
 * Snapshot channel: the supervisor gives each child the write end of an
 * AF_UNIX SOCK_DGRAM socketpair as fd CAUSEWAY_STATS_FD. Once a second and on
 * every connect/disconnect the child sends one datagram (non-blocking; when
 * the socket is full the snapshot is dropped, the next one replaces it):
 *   "CAUSEWAY-STATS 1 connected=0|1 since=UNIX_SECONDS\n" + exposition text
 * at most CW_STATS_MAX bytes (cut at a line end beyond that, logged once).
 */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

#define CW_STATS_MAX (64 * 1024)
#define CW_STATS_FD_ENV "CAUSEWAY_STATS_FD"

void cw_gateway_metrics_start(CwGateway *gw);
void cw_gateway_metrics_stop(CwGateway *gw);
/* The component went up (TRUE) or down. */
void cw_gateway_metrics_connected(CwGateway *gw, gboolean up);

G_END_DECLS
