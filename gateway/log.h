/* log.h — where g_log output goes: one line per record on stderr, with level and domain.
 * Control characters in a message are written escaped (\r, \n, \xNN): text from a
 * network can neither split a record nor forge one. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum { CW_LOG_NORMAL = 0, CW_LOG_VERBOSE, CW_LOG_DEBUG } CwLogLevel;

/* Install the writer: NORMAL shows message and worse, VERBOSE adds info,
 * DEBUG everything (G_MESSAGES_DEBUG is not needed). prefix names the process
 * (e.g. the transport) in every line. */
void cw_log_init(CwLogLevel level, const char *prefix);
void cw_log_set_prefix(const char *prefix);
CwLogLevel cw_log_get_level(void);

/* Where records go: stderr lines, or the systemd journal with structured
 * fields (log-journal.h). AUTO: the journal when stderr is the journal's stream
 * (JOURNAL_STREAM), else stderr. transport: CAUSEWAY_TRANSPORT (NULL in the
 * supervisor); hash_users: CAUSEWAY_USER carries a hash instead of the JID.
 * Falls back to stderr when the journal socket cannot be used. */
typedef enum { CW_LOG_TARGET_AUTO = 0, CW_LOG_TARGET_STDERR, CW_LOG_TARGET_JOURNAL } CwLogTarget;
void cw_log_set_target(CwLogTarget target, const char *transport, gboolean hash_users);
/* For the shell's admin commands (causeway --list-users ...): records go to
 * stderr and, unless target is STDERR, to the journal as well when its socket
 * can be opened (quietly skipped if not, except for JOURNAL), so the audit
 * records of what an administrator did from a shell land beside the
 * service's own. */
void cw_log_tee_journal(CwLogTarget target, gboolean hash_users);
void cw_log_deinit(void);

/* CW_LOG_USER (a record about one user) is in <causeway/core.h>. */

G_END_DECLS
