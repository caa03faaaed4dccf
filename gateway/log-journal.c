/* log-journal.c — the journal's native protocol: fields in one AF_UNIX datagram. */
#include "log-journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static int journal_fd = -1;
static struct sockaddr_un journal_addr;
static socklen_t journal_addr_len;

void
cw_journal_append_field(GString *out, const char *key, const char *value, gssize len)
{
    gsize n = len < 0 ? strlen(value) : (gsize)len;
    if (!memchr(value, '\n', n)) {
        g_string_append(out, key);
        g_string_append_c(out, '=');
        g_string_append_len(out, value, n);
        g_string_append_c(out, '\n');
        return;
    }
    g_string_append(out, key);
    g_string_append_c(out, '\n');
    guint64 le = GUINT64_TO_LE((guint64)n);
    g_string_append_len(out, (const char *)&le, sizeof le);
    g_string_append_len(out, value, n);
    g_string_append_c(out, '\n');
}

gboolean
cw_journal_stderr_is_journal(void)
{
    const char *e = g_getenv("JOURNAL_STREAM");
    if (!e)
        return FALSE;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0)
        return FALSE;
    g_autofree char *want = g_strdup_printf("%lu:%lu", (unsigned long)st.st_dev,
                                            (unsigned long)st.st_ino);
    return strcmp(e, want) == 0;
}

gboolean
cw_journal_open(void)
{
    if (journal_fd >= 0)
        return TRUE;
    const char *path = g_getenv("CAUSEWAY_JOURNAL_SOCKET");
    if (!path)
        path = JOURNAL_SOCKET;
    if (strlen(path) >= sizeof journal_addr.sun_path)
        return FALSE;
    memset(&journal_addr, 0, sizeof journal_addr);
    journal_addr.sun_family = AF_UNIX;
    strcpy(journal_addr.sun_path, path);
    journal_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    if (access(path, W_OK) != 0)
        return FALSE;
    journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (journal_fd < 0)
        return FALSE;
    /* A large record must not be cut: raise the send buffer (journald takes up to 768 KiB
     * in one datagram; beyond, sd-journal passes a memfd — we truncate messages instead). */
    int size = 8 * 1024 * 1024;
    setsockopt(journal_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return TRUE;
}

void
cw_journal_close(void)
{
    if (journal_fd >= 0)
        close(journal_fd);
    journal_fd = -1;
}

gboolean
cw_journal_send(const GString *record)
{
    if (journal_fd < 0)
        return FALSE;
    /* Blocking send, as sd_journal_send does: journald reads fast, and a record dropped on a
     * full socket would be lost silently. */
    ssize_t n;
    do
        n = sendto(journal_fd, record->str, record->len, MSG_NOSIGNAL,
                   (struct sockaddr *)&journal_addr, journal_addr_len);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)record->len;
}
