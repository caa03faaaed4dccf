/* notify.c — sd_notify READY/STATUS/WATCHDOG/STOPPING over $NOTIFY_SOCKET, dependency-free. */
#define G_LOG_DOMAIN "causeway"
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *notify_path;
static guint64 watchdog_usec;
static guint watchdog_id;

void
cw_notify_init(void)
{
    const char *sock = g_getenv("NOTIFY_SOCKET");
    if (sock && (sock[0] == '/' || sock[0] == '@') && strlen(sock) < sizeof(((struct sockaddr_un *)0)->sun_path))
        notify_path = g_strdup(sock);
    const char *usec = g_getenv("WATCHDOG_USEC");
    const char *pid = g_getenv("WATCHDOG_PID");
    if (usec && (!pid || g_ascii_strtoull(pid, NULL, 10) == (guint64)getpid()))
        watchdog_usec = g_ascii_strtoull(usec, NULL, 10);
    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");
}

void
cw_notify_deinit(void)
{
    g_clear_handle_id(&watchdog_id, g_source_remove);
    g_clear_pointer(&notify_path, g_free);
    watchdog_usec = 0;
}

void
cw_notify_send(const char *state)
{
    if (!notify_path)
        return;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(notify_path);
    memcpy(sa.sun_path, notify_path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        g_debug("sd_notify %s: %s", notify_path, g_strerror(errno));
    close(fd);
}

void
cw_notify_status(const char *fmt, ...)
{
    if (!notify_path)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strdelimit(text, "\n", ' ');
    g_autofree char *line = g_strconcat("STATUS=", text, NULL);
    cw_notify_send(line);
}

static gboolean
on_watchdog(gpointer data)
{
    cw_notify_send("WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

void
cw_notify_watchdog_start(void)
{
    if (!notify_path || watchdog_usec == 0 || watchdog_id)
        return;
    guint ms = (guint)MAX(watchdog_usec / 2000, 1);
    cw_notify_send("WATCHDOG=1");
    watchdog_id = g_timeout_add(ms, on_watchdog, NULL);
}
