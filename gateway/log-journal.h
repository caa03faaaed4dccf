/* log-journal.h — log records to the systemd journal over its native protocol (no libsystemd).
 *
 * One datagram per record to /run/systemd/journal/socket (or
 * $CAUSEWAY_JOURNAL_SOCKET, for tests), fields:
 *   MESSAGE, PRIORITY (syslog 0-7), SYSLOG_IDENTIFIER=causeway, GLIB_DOMAIN,
 *   CAUSEWAY_TRANSPORT (the [transport:NAME] of the process, absent in the supervisor),
 *   CAUSEWAY_USER (when the record names a user: the bare JID, or with
 *                  `[gateway] log_user_jids = hash` the first 16 hex digits of its SHA-256),
 *   CAUSEWAY_ADMIN (an administrator's audit record: who acted, cw_admin_log),
 *   CODE_FILE, CODE_LINE, CODE_FUNC when GLib gives them.
 * A value holding a newline uses the protocol's binary form (name, LF,
 * little-endian 64-bit length, data, LF). Passwords never reach here: the
 * redaction happens where the text is made (log-redact.h).
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Append one field in the native protocol's form. */
void cw_journal_append_field(GString *out, const char *key, const char *value, gssize len);
/* Whether stderr is the journal's stream (JOURNAL_STREAM matches its dev:ino). */
gboolean cw_journal_stderr_is_journal(void);
/* Open the journal socket; FALSE when there is none. */
gboolean cw_journal_open(void);
void cw_journal_close(void);
/* Send one record's datagram (already formatted). FALSE when it could not be sent. */
gboolean cw_journal_send(const GString *record);

G_END_DECLS
