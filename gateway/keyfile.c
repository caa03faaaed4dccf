/* keyfile.c — typed config key reads with one-line errors naming file, section and key. */
#include <causeway/keyfile.h>

#include <errno.h>
#include <stdarg.h>


char *
cw_keyfile_get_string(GKeyFile *kf, const char *group, const char *key, const char *def)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    if (v)
        g_strstrip(v);
    return v && *v ? g_steal_pointer(&v) : g_strdup(def);
}

gboolean
cw_keyfile_get_uint(GKeyFile *kf, const char *file, const char *group, const char *key,
                    guint64 def, guint64 min, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    if (!v) {
        *out = def;
        return TRUE;
    }
    g_strstrip(v);
    if (!g_ascii_string_to_unsigned(v, 10, min, max, out, NULL)) {
        cw_keyfile_error(error, file, group, key,
                         "'%s' is not a number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                         "; write a whole number in that range",
                         v, min, max);
        return FALSE;
    }
    return TRUE;
}

gboolean
cw_keyfile_get_bool(GKeyFile *kf, const char *file, const char *group, const char *key,
                    gboolean def, gboolean *out, GError **error)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    if (!v) {
        *out = def;
        return TRUE;
    }
    g_strstrip(v);
    if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !g_strcmp0(v, "1"))
        *out = TRUE;
    else if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") || !g_strcmp0(v, "0"))
        *out = FALSE;
    else {
        cw_keyfile_error(error, file, group, key, "'%s' is not a boolean; write true or false", v);
        return FALSE;
    }
    return TRUE;
}

gboolean
cw_keyfile_get_seconds_ms(GKeyFile *kf, const char *file, const char *group, const char *key,
                          double def, double min_s, double max_s, guint *out_ms, GError **error)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    double secs = def;
    if (v) {
        g_strstrip(v);
        char *end = NULL;
        errno = 0;
        secs = g_ascii_strtod(v, &end);
        /* Written so that NaN ("nan" parses) fails too: converting it is undefined. */
        if (errno || !end || *end || end == v || !(secs >= min_s && secs <= max_s)) {
            cw_keyfile_error(error, file, group, key,
                             "'%s' is not a duration; write seconds from %g to %g, e.g. 2.5", v,
                             min_s, max_s);
            return FALSE;
        }
    }
    *out_ms = (guint)(secs * 1000.0 + 0.5);
    return TRUE;
}

gboolean
cw_keyfile_get_duration(GKeyFile *kf, const char *file, const char *group, const char *key,
                        double def_s, double min_s, double max_s, double *out_s, GError **error)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    *out_s = def_s;
    if (!v)
        return TRUE;
    g_strstrip(v);
    char *end = NULL;
    errno = 0;
    double n = g_ascii_strtod(v, &end);
    double unit = 1;
    if (end && end != v && *end) {
        static const struct { char suffix; double seconds; } units[] = {
            { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
        };
        unit = 0;
        for (gsize i = 0; i < G_N_ELEMENTS(units) && end[1] == '\0'; i++)
            if (g_ascii_tolower(*end) == units[i].suffix)
                unit = units[i].seconds;
        if (unit)
            end++;
    }
    double secs = n * unit;
    /* Written so that NaN fails too. */
    if (errno || !end || *end || end == v || !unit || !(secs >= min_s && secs <= max_s)) {
        cw_keyfile_error(error, file, group, key,
                         "'%s' is not a duration from %gs to %gs; write a number with s, m, "
                         "h or d, e.g. 90s, 5m, 30d", v, min_s, max_s);
        return FALSE;
    }
    *out_s = secs;
    return TRUE;
}

G_DEFINE_QUARK(causeway-config-error-quark, cw_config_error)

void
cw_keyfile_error(GError **error, const char *file, const char *group, const char *key,
              const char *fmt, ...)
{
 va_list ap;
    va_start(ap, fmt);
    g_autofree char *raw = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* One line, whatever the quoted value holds (GKeyFile turns "\n" in a
     * value into a newline): control characters are shown escaped. */
    GString *line = g_string_new(NULL);
    for (const char *p = raw; *p; p++) {
        if (*p == '\n')
            g_string_append(line, "\\n");
        else if (*p == '\r')
            g_string_append(line, "\\r");
        else if (*p == '\t')
            g_string_append(line, "\\t");
        else if ((guchar)*p < 0x20 || *p == 0x7f)
            g_string_append_printf(line, "\\x%02x", (guchar)*p);
        else
            g_string_append_c(line, *p);
    }
    g_autofree char *msg = g_string_free(line, FALSE);
    if (key)
        g_set_error(error, CW_CONFIG_ERROR, 0, "%s: [%s] %s: %s", file, group, key, msg);
    else
        g_set_error(error, CW_CONFIG_ERROR, 0, "%s: [%s]: %s", file, group, msg);
}
