/* notify.h — the systemd notification protocol (sd_notify) without libsystemd.
 *
 * Datagrams to $NOTIFY_SOCKET (AF_UNIX; a leading '@' means the abstract
 * namespace). cw_notify_init() takes NOTIFY_SOCKET and WATCHDOG_USEC (honoured
 * only when WATCHDOG_PID is unset or ours) and unsets them, so children never
 * talk to systemd in the supervisor's name. Everything is a no-op outside
 * systemd. Sends are non-blocking; a lost datagram is not retried.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

void cw_notify_init(void);
void cw_notify_deinit(void);       /* stops the watchdog timer */
void cw_notify_send(const char *state); /* e.g. "READY=1", "STATUS=...", "STOPPING=1" */
void cw_notify_status(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Start WATCHDOG=1 pings at half of WATCHDOG_USEC (when set) on the default main loop. */
void cw_notify_watchdog_start(void);

G_END_DECLS
