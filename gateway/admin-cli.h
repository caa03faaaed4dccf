/* admin-cli.h — the shell's administration commands: causeway -c FILE
 * --list-users [TRANSPORT] | --show-user JID [TRANSPORT] |
 * --delete-user JID [TRANSPORT] | --stats [TRANSPORT] |
 * --forget-secrets [TRANSPORT] (a key file lost for good: the stored secrets
 * are deleted, the registrations stay; cw_store_forget_secrets).
 *
 * They work on the SQLite files of the configuration's transports directly
 * (DATA_DIR/NAME.db and the transports' own, e.g. NAME-sms.db), never load
 * the key file, and are safe while the service runs: the read commands open
 * the files read-only (WAL: they never block the service), the delete runs
 * one short BEGIN IMMEDIATE transaction per file (5 s busy timeout). The
 * running transport notices a deletion by itself (admin.h).
 *
 * Output on stdout (README "Administration" documents every line):
 *   --list-users  one tab-separated line per user:
 *                 TRANSPORT JID REGISTERED CONTACTS ROOMS
 *   --show-user, --delete-user, --stats, --forget-secrets   "key: value"
 *                 lines, one block per
 *                 transport, blocks separated by an empty line.
 * Values are escaped to one line (cw_admin_value_line). Diagnostics and the
 * audit log line (who ran it) go to the log (stderr or the journal).
 * Exit status: 0 done, 1 error, 2 the user is not registered (show, delete).
 */
#pragma once
#include "config.h"

G_BEGIN_DECLS

typedef enum {
    CW_ADMIN_CLI_LIST_USERS,
    CW_ADMIN_CLI_SHOW_USER,
    CW_ADMIN_CLI_DELETE_USER,
    CW_ADMIN_CLI_STATS,
    CW_ADMIN_CLI_FORGET_SECRETS,
} CwAdminCliCommand;

#define CW_ADMIN_EXIT_OK 0
#define CW_ADMIN_EXIT_ERROR 1
#define CW_ADMIN_EXIT_NOT_FOUND 2

/* Run one command; jid for show/delete, transport (a NAME, or NULL for all). */
int cw_admin_cli_run(CwConfig *config, CwAdminCliCommand command, const char *jid,
                     const char *transport);

G_END_DECLS
