/* supervisor.h — `causeway -c FILE`: one child process per [transport:NAME].
 *
 * Each child is `causeway -c FILE --transport NAME`. A child that dies is
 * restarted with backoff (1 s doubling to 60 s, +-25% jitter; reset after a minute of
 * uptime). A child that exits with status 1 (bad config) or 78 (the server
 * rejected its secret) is not restarted: the error is in its log. SIGTERM /
 * SIGINT stop every child (SIGKILL after 10 s) and exit; SIGHUP re-reads the
 * config: removed transports stop, new ones start, changed ones restart, and
 * the rest get SIGHUP to reload what they can.
 */
#pragma once
#include "config.h"
#include "log.h"

G_BEGIN_DECLS

/* Runs until stopped; returns the exit status (non-zero when every child gave up). */
int cw_supervisor_run(CwConfig *config, const char *self_exe, CwLogLevel log_level);

G_END_DECLS
