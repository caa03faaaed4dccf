/* log.c — the g_log writer: "TIME LEVEL [prefix] domain: message" lines on stderr. */
#include "log.h"

#include "log-journal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static CwLogLevel threshold;
static char *log_prefix;
static gboolean to_journal, hash_users, tee_stderr;
static char *journal_transport;

static int
syslog_priority(GLogLevelFlags level)
{
    switch (level & G_LOG_LEVEL_MASK) {
    case G_LOG_LEVEL_ERROR: return 3;
    case G_LOG_LEVEL_CRITICAL: return 2;
    case G_LOG_LEVEL_WARNING: return 4;
    case G_LOG_LEVEL_MESSAGE: return 5;
    case G_LOG_LEVEL_INFO: return 6;
    default: return 7;
    }
}

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
    const char *domain = NULL, *message = NULL, *user = NULL, *admin = NULL;
    const char *code_file = NULL, *code_line = NULL, *code_func = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        const char *k = fields[i].key;
        if (fields[i].length >= 0 && strcmp(k, "MESSAGE") != 0)
            continue; /* binary values: only ours, none expected */
        if (strcmp(k, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
        else if (strcmp(k, "MESSAGE") == 0)
            message = fields[i].value;
        else if (strcmp(k, "CAUSEWAY_USER") == 0)
            user = fields[i].value;
        else if (strcmp(k, "CAUSEWAY_ADMIN") == 0)
            admin = fields[i].value;
        else if (strcmp(k, "CODE_FILE") == 0)
            code_file = fields[i].value;
        else if (strcmp(k, "CODE_LINE") == 0)
            code_line = fields[i].value;
        else if (strcmp(k, "CODE_FUNC") == 0)
            code_func = fields[i].value;
    }
    g_autofree char *escaped = message ? escape_controls(message) : NULL;
    if (escaped)
        message = escaped;
    if (to_journal) {
        GString *rec = g_string_sized_new(256);
        char prio[2] = { (char)('0' + syslog_priority(level)), 0 };
        cw_journal_append_field(rec, "MESSAGE", message ? message : "", -1);
        cw_journal_append_field(rec, "PRIORITY", prio, -1);
        cw_journal_append_field(rec, "SYSLOG_IDENTIFIER", "causeway", -1);
        cw_journal_append_field(rec, "GLIB_DOMAIN", domain ? domain : "causeway", -1);
        if (journal_transport)
            cw_journal_append_field(rec, "CAUSEWAY_TRANSPORT", journal_transport, -1);
        if (user) {
            g_autofree char *hashed = NULL;
            if (hash_users) {
                hashed = g_compute_checksum_for_string(G_CHECKSUM_SHA256, user, -1);
                hashed[16] = '\0';
            }
            cw_journal_append_field(rec, "CAUSEWAY_USER", hashed ? hashed : user, -1);
        }
        if (admin)
            cw_journal_append_field(rec, "CAUSEWAY_ADMIN", admin, -1);
        if (code_file)
            cw_journal_append_field(rec, "CODE_FILE", code_file, -1);
        if (code_line)
            cw_journal_append_field(rec, "CODE_LINE", code_line, -1);
        if (code_func)
            cw_journal_append_field(rec, "CODE_FUNC", code_func, -1);
        gboolean sent = cw_journal_send(rec);
        g_string_free(rec, TRUE);
        if (sent && !tee_stderr)
            return G_LOG_WRITER_HANDLED;
    }
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

void
cw_log_set_target(CwLogTarget target, const char *transport, gboolean hash)
{
    gboolean want = target == CW_LOG_TARGET_JOURNAL ||
                    (target == CW_LOG_TARGET_AUTO && cw_journal_stderr_is_journal());
    hash_users = hash;
    g_free(journal_transport);
    journal_transport = g_strdup(transport);
    to_journal = want && cw_journal_open();
    if (want && !to_journal)
        g_warning("cannot open the systemd journal socket; logging to stderr");
    if (!to_journal)
        cw_journal_close();
}

void
cw_log_tee_journal(CwLogTarget target, gboolean hash)
{
    hash_users = hash;
    g_clear_pointer(&journal_transport, g_free);
    tee_stderr = TRUE;
    to_journal = target != CW_LOG_TARGET_STDERR && cw_journal_open();
    if (target == CW_LOG_TARGET_JOURNAL && !to_journal)
        g_warning("cannot open the systemd journal socket; logging to stderr only");
}

void
cw_log_deinit(void)
{
    to_journal = FALSE;
    tee_stderr = FALSE;
    cw_journal_close();
    g_clear_pointer(&journal_transport, g_free);
}
