/* keyfile.h — typed reads of config keys for the core and the transports.
 *
 * An absent key gives the default; a present one must parse, else the error
 * is one line: "FILE: [group] key: what is wrong; what to do".
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* The error domain of every configuration error (code 0). */
#define CW_CONFIG_ERROR (cw_config_error_quark())
GQuark cw_config_error_quark(void);

/* A whole number in [min, max]. */
gboolean cw_keyfile_get_uint(GKeyFile *kf, const char *file, const char *group, const char *key,
                             guint64 def, guint64 min, guint64 max, guint64 *out, GError **error);
/* true/false, yes/no, 1/0 (case-insensitive). */
gboolean cw_keyfile_get_bool(GKeyFile *kf, const char *file, const char *group, const char *key,
                             gboolean def, gboolean *out, GError **error);
/* Seconds (decimals allowed) in [min_s, max_s], returned in milliseconds. */
gboolean cw_keyfile_get_seconds_ms(GKeyFile *kf, const char *file, const char *group,
                                   const char *key, double def, double min_s, double max_s,
                                   guint *out_ms, GError **error);
/* A duration: a number with an optional unit, s (the default), m, h or d
 * ("90", "5m", "1.5h", "30d"), in [min_s, max_s] seconds; *out_s in seconds. */
gboolean cw_keyfile_get_duration(GKeyFile *kf, const char *file, const char *group,
                                 const char *key, double def_s, double min_s, double max_s,
                                 double *out_s, GError **error);
/* The trimmed string, or a copy of def when absent or empty (def may be NULL). */
char *cw_keyfile_get_string(GKeyFile *kf, const char *group, const char *key, const char *def);

/* Set a configuration error, one line whatever the values quoted in it hold
 * (control characters escaped): "FILE: [group] key: what is wrong; what to
 * do"; key may be NULL. Used by the core and by a transport's own checks. */
void cw_keyfile_error(GError **error, const char *file, const char *group, const char *key,
                      const char *fmt, ...) G_GNUC_PRINTF(5, 6);

G_END_DECLS
