/* admin.h — an administration report: the lines `causeway --show-user`,
 * `--delete-user` and `--stats` print, and the admin ad-hoc commands show;
 * and the audit record every administrator's action leaves in the log.
 *
 * A report is an ordered list of (key, value) pairs; a key may repeat (one
 * "sms_number" line per number). Keys are short lower-case words with '_'
 * (checked: anything else is a programmer error). Values are free text; the
 * report makes them one safe line when it is printed (cw_admin_value_line):
 * so a JID, a nick or a setting a user typed can never forge another line.
 * A report never holds a secret: code that fills one reports a secret value
 * as "(secret)", never its text, and never decrypts it.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct CwAdminReport CwAdminReport;

CwAdminReport *cw_admin_report_new(void);
void cw_admin_report_free(CwAdminReport *report); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwAdminReport, cw_admin_report_free)

/* Append key: value (value printf-formatted). */
void cw_admin_report_add(CwAdminReport *report, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Append every pair of other, each key prefixed with prefix (may be NULL). */
void cw_admin_report_append(CwAdminReport *report, const char *prefix, const CwAdminReport *other);
guint cw_admin_report_len(const CwAdminReport *report);
const char *cw_admin_report_key(const CwAdminReport *report, guint i);
const char *cw_admin_report_value(const CwAdminReport *report, guint i);
/* The value of the first pair with key, or NULL. */
const char *cw_admin_report_lookup(const CwAdminReport *report, const char *key);

/* value as one printable line (allocated): backslash, tab, CR, LF and the
 * other C0 controls and DEL become \\, \t, \r, \n and \xNN; invalid UTF-8
 * bytes become \xNN. Reading it back is unambiguous. */
char *cw_admin_value_line(const char *value);
/* The report as "key: value\n" lines (allocated), values through
 * cw_admin_value_line. */
char *cw_admin_report_format(const CwAdminReport *report);
/* One tab-separated record: the fields through cw_admin_value_line (so no
 * field holds a tab or newline), then "\n"; a NULL field prints "-". */
void cw_admin_append_record(GString *out, const char *const *fields, gsize n);

/* The audit record of one administrator's action, at "message" level (so
 * always logged): "admin ACTOR: TEXT", with the journal fields
 * CAUSEWAY_ADMIN = actor and, when the action concerns one user,
 * CAUSEWAY_USER = target (hashed with `[gateway] log_user_jids = hash`).
 * actor: the administrator's full JID, or "LOGIN (shell, uid N)" for the
 * shell commands. TEXT says what was done and to whom, refusals and
 * failures included; never a password, a secret or a message body. */
void cw_admin_log(const char *actor, const char *target, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

G_END_DECLS
