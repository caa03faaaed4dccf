/* main.c — the causeway command line: supervisor, or one transport in the foreground. */
#define G_LOG_DOMAIN "causeway"
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin-cli.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "notify.h"
#include "supervisor.h"
#include "transports.h"

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    g_autofree char *config_path = NULL, *transport = NULL;
    g_autofree char *show_user = NULL, *delete_user = NULL;
    gboolean verbose = FALSE, debug = FALSE, version = FALSE, check = FALSE;
    gboolean list_users = FALSE, stats = FALSE, forget_secrets = FALSE;
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
        { "transport", 't', 0, G_OPTION_ARG_STRING, &transport,
          "Run only the transport of [transport:NAME], in the foreground", "NAME" },
        { "check", 0, 0, G_OPTION_ARG_NONE, &check, "Check the configuration and exit", NULL },
        { "list-users", 0, 0, G_OPTION_ARG_NONE, &list_users,
          "List the registered users (of TRANSPORT, else of all): TRANSPORT JID REGISTERED "
          "CONTACTS ROOMS, tab-separated", NULL },
        { "show-user", 0, 0, G_OPTION_ARG_STRING, &show_user,
          "Show a user's registrations, settings (never secrets) and counts", "JID" },
        { "delete-user", 0, 0, G_OPTION_ARG_STRING, &delete_user,
          "Delete a user's registration(s) and all their data, as unregistering does", "JID" },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &stats,
          "Per-transport counts: users, contacts, rooms, SMS outbox", NULL },
        { "forget-secrets", 0, 0, G_OPTION_ARG_NONE, &forget_secrets,
          "The key file is lost for good: delete the stored passwords (users enter them again)",
          NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log informational messages", NULL },
        { "debug", 'd', 0, G_OPTION_ARG_NONE, &debug,
          "Log everything, including stanzas (contains message bodies)", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[TRANSPORT] - XMPP gateway to IRC, SMS and libpurple networks");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autofree char *types = g_strdup_printf(
        "Without --transport, one child process runs per [transport:NAME] section and is\n"
        "restarted when it dies. Transport types in this build: %s.\n"
        "Exit status: 0 stopped, 1 configuration error, 78 the XMPP server rejected a secret.\n"
        "Administration: causeway -c FILE --list-users|--show-user JID|--delete-user JID|--stats|\n"
        "--forget-secrets [TRANSPORT] works on the transports' stores directly, safely while\n"
        "the service runs "
        "(reads are read-only; a deletion ends the user's running session within 2 s); an\n"
        "optional TRANSPORT (or --transport NAME) limits it to one transport. Output on stdout:\n"
        "tab-separated lines (--list-users) or \"key: value\" lines, secrets shown as (secret).\n"
        "Every admin action is logged (who, what, whom), to the journal too when there is one.\n"
        "Exit status 0 done, 1 error, 2 user not registered. README \"Administration\" has more.",
        cw_transports_names());
    g_option_context_set_description(ctx, types);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "causeway: %s; see causeway --help\n", error->message);
        return 2;
    }
    if (version) {
        printf("causeway %s\n", CW_VERSION);
        return 0;
    }
    int n_admin = list_users + stats + forget_secrets + (show_user != NULL) + (delete_user != NULL);
    if (n_admin > 1 || (n_admin && check)) {
        fprintf(stderr, "causeway: give one of --list-users, --show-user, --delete-user, --stats, "
                        "--forget-secrets "
                        "(without --check); see causeway --help\n");
        return 1;
    }
    if (argc > (n_admin ? 2 : 1)) {
        fprintf(stderr, "causeway: unexpected argument '%s'; see causeway --help\n", argv[n_admin ? 2 : 1]);
        return 1;
    }
    /* An admin command's TRANSPORT: the argument, or --transport NAME. */
    const char *admin_transport = argc > 1 ? argv[1] : transport;
    if (n_admin && argc > 1 && transport && g_strcmp0(argv[1], transport) != 0) {
        fprintf(stderr, "causeway: two transports named (%s and --transport %s); give one\n",
                argv[1], transport);
        return 1;
    }
    if (!config_path) {
        fprintf(stderr, "causeway: no configuration file; run causeway -c FILE (see conf/causeway.conf)\n");
        return 1;
    }
    cw_notify_init(); /* takes NOTIFY_SOCKET and WATCHDOG_USEC out of the children's environment */
    CwLogLevel level = debug ? CW_LOG_DEBUG : verbose ? CW_LOG_VERBOSE : CW_LOG_NORMAL;
    cw_log_init(level, n_admin ? NULL : transport);

    CwConfig *config = cw_config_load(config_path, &error);
    if (!config) {
        fprintf(stderr, "causeway: %s\n", error->message);
        return 1;
    }
    if (n_admin) /* the audit records go to the journal too, beside the service's */
        cw_log_tee_journal((CwLogTarget)config->log_target, config->log_hash_users);
    else
        cw_log_set_target((CwLogTarget)config->log_target, transport, config->log_hash_users);
    if (n_admin) {
        CwAdminCliCommand cmd = list_users ? CW_ADMIN_CLI_LIST_USERS
                              : stats      ? CW_ADMIN_CLI_STATS
                              : forget_secrets ? CW_ADMIN_CLI_FORGET_SECRETS
                              : show_user  ? CW_ADMIN_CLI_SHOW_USER
                                           : CW_ADMIN_CLI_DELETE_USER;
        int status = cw_admin_cli_run(config, cmd, show_user ? show_user : delete_user,
                                      admin_transport);
        cw_config_free(config);
        cw_log_deinit();
        return status;
    }
    if ((check || !transport) && !cw_gateway_check_transports(config, check, &error)) {
        fprintf(stderr, "causeway: %s\n", error->message);
        cw_config_free(config);
        return 1;
    }
    if (check) {
        printf("%s: OK, %u transport(s)\n", config_path, config->transports->len);
        cw_config_free(config);
        return 0;
    }
    if (!transport) {
        if (!cw_gateway_check_data_dir(config, &error)) {
            fprintf(stderr, "causeway: %s\n", error->message);
            cw_config_free(config);
            return 1;
        }
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        return cw_supervisor_run(config, self ? self : argv[0], level);
    }

    CwGateway *gw = cw_gateway_new(config, transport, &error);
    if (!gw) {
        fprintf(stderr, "causeway: %s\n", error->message);
        return 1;
    }
    int status = cw_gateway_run(gw);
    cw_gateway_free(gw);
    cw_notify_deinit();
    cw_log_deinit();
    return status;
}
