/* log.c — the g_log writer: "TIME LEVEL [prefix] domain: message" lines on stderr. */
#include "log.h"

#include <stdio.h>
#include <unistd.h>

static CwLogLevel threshold;
static char *log_prefix;

static const char *
level_name(GLogLevelFlags level)
{
    switch (level & G_LOG_LEVEL_MASK) {
    case G_LOG_LEVEL_ERROR: return "ERROR";
    case G_LOG_LEVEL_CRITICAL: return "CRITICAL";
    case G_LOG_LEVEL_WARNING: return "WARNING";
    case G_LOG_LEVEL_MESSAGE: return "NOTICE";
    case G_LOG_LEVEL_INFO: return "INFO";
    default: return "DEBUG";
    }
}

static gboolean
wanted(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE))
        return TRUE;
    if (level & G_LOG_LEVEL_INFO)
        return threshold >= CW_LOG_VERBOSE;
    return threshold >= CW_LOG_DEBUG;
}

/* One record, one line: control characters (a CR in a nick from an IRC
 * server, say) are written escaped, so no network text can forge or split
 * log lines. NULL when message needs nothing. */
static char *
escape_controls(const char *message)
{
    const char *p = message;
    while (*p && ((guchar)*p >= 0x20 && *p != 0x7f))
        p++;
    if (!*p)
        return NULL;
    GString *out = g_string_new_len(message, p - message);
    for (; *p; p++) {
        guchar c = (guchar)*p;
        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
    return g_string_free(out, FALSE);
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    if (!wanted(level))
        return G_LOG_WRITER_HANDLED;
    const char *domain = NULL, *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
        else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
    }
    g_autofree char *escaped = message ? escape_controls(message) : NULL;
    if (escaped)
        message = escaped;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    fprintf(stderr, "%s.%03d %s %s%s%s%s: %s\n", stamp, g_date_time_get_microsecond(now) / 1000,
            level_name(level), log_prefix ? "[" : "", log_prefix ? log_prefix : "",
            log_prefix ? "] " : "", domain ? domain : "causeway", message ? message : "");
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

CwLogLevel
cw_log_get_level(void)
{
    return threshold;
}

void
cw_log_init(CwLogLevel level, const char *prefix)
{
    static gboolean installed;
    threshold = level;
    cw_log_set_prefix(prefix);
    if (!installed) {
        g_log_set_writer_func(writer, NULL, NULL);
        installed = TRUE;
    }
}

void
cw_log_set_prefix(const char *prefix)
{
    g_free(log_prefix);
    log_prefix = g_strdup(prefix);
}
