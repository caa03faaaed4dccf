/* admin-report.c — administration reports and their line formats (causeway/admin.h). */
#define G_LOG_DOMAIN "causeway"
#include <causeway/admin.h>

#include <stdarg.h>
#include <string.h>

struct CwAdminReport {
    GPtrArray *pairs; /* key, value, key, value ... (g_free) */
};

CwAdminReport *
cw_admin_report_new(void)
{
    CwAdminReport *r = g_new0(CwAdminReport, 1);
    r->pairs = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void
cw_admin_report_free(CwAdminReport *report)
{
    if (!report)
        return;
    g_ptr_array_unref(report->pairs);
    g_free(report);
}

static gboolean
key_is_valid(const char *key)
{
    if (!key || !*key)
        return FALSE;
    for (const char *p = key; *p; p++)
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '_')
            return FALSE;
    return TRUE;
}

static void
report_add_pair(CwAdminReport *report, const char *key, char *value)
{
    g_ptr_array_add(report->pairs, g_strdup(key));
    g_ptr_array_add(report->pairs, value);
}

void
cw_admin_report_add(CwAdminReport *report, const char *key, const char *fmt, ...)
{
    g_return_if_fail(report && key_is_valid(key) && fmt);
    va_list ap;
    va_start(ap, fmt);
    report_add_pair(report, key, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void
cw_admin_report_append(CwAdminReport *report, const char *prefix, const CwAdminReport *other)
{
    g_return_if_fail(report && other && report != other);
    for (guint i = 0; i + 1 < other->pairs->len; i += 2) {
        g_autofree char *key = g_strconcat(prefix ? prefix : "", other->pairs->pdata[i], NULL);
        g_return_if_fail(key_is_valid(key));
        report_add_pair(report, key, g_strdup(other->pairs->pdata[i + 1]));
    }
}

guint
cw_admin_report_len(const CwAdminReport *report)
{
    return report ? report->pairs->len / 2 : 0;
}

const char *
cw_admin_report_key(const CwAdminReport *report, guint i)
{
    g_return_val_if_fail(report && i < report->pairs->len / 2, NULL);
    return report->pairs->pdata[2 * i];
}

const char *
cw_admin_report_value(const CwAdminReport *report, guint i)
{
    g_return_val_if_fail(report && i < report->pairs->len / 2, NULL);
    return report->pairs->pdata[2 * i + 1];
}

const char *
cw_admin_report_lookup(const CwAdminReport *report, const char *key)
{
    for (guint i = 0; report && key && i + 1 < report->pairs->len; i += 2)
        if (strcmp(report->pairs->pdata[i], key) == 0)
            return report->pairs->pdata[i + 1];
    return NULL;
}

char *
cw_admin_value_line(const char *value)
{
    GString *out = g_string_new(NULL);
    const char *p = value ? value : "";
    const char *end = p + strlen(p);
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80) { /* a whole valid UTF-8 character, or one escaped byte */
            gunichar u = g_utf8_get_char_validated(p, end - p);
            if (u != (gunichar)-1 && u != (gunichar)-2) {
                const char *next = g_utf8_next_char(p);
                g_string_append_len(out, p, next - p);
                p = next;
                continue;
            }
            g_string_append_printf(out, "\\x%02X", c);
        } else if (c == '\\') {
            g_string_append(out, "\\\\");
        } else if (c == '\t') {
            g_string_append(out, "\\t");
        } else if (c == '\n') {
            g_string_append(out, "\\n");
        } else if (c == '\r') {
            g_string_append(out, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            g_string_append_printf(out, "\\x%02X", c);
        } else {
            g_string_append_c(out, (char)c);
        }
        p++;
    }
    return g_string_free(out, FALSE);
}

char *
cw_admin_report_format(const CwAdminReport *report)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; report && i + 1 < report->pairs->len; i += 2) {
        g_autofree char *line = cw_admin_value_line(report->pairs->pdata[i + 1]);
        g_string_append_printf(out, "%s: %s\n", (const char *)report->pairs->pdata[i], line);
    }
    return g_string_free(out, FALSE);
}

void
cw_admin_append_record(GString *out, const char *const *fields, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        if (i)
            g_string_append_c(out, '\t');
        if (!fields[i]) {
            g_string_append_c(out, '-');
            continue;
        }
        g_autofree char *f = cw_admin_value_line(fields[i]);
        g_string_append(out, f);
    }
    g_string_append_c(out, '\n');
}
