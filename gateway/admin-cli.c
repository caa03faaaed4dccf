/* admin-cli.c — causeway --list-users / --show-user / --delete-user / --stats /
 * --forget-secrets. */
#define G_LOG_DOMAIN "causeway"
#include "admin-cli.h"

#include <causeway/transport.h>
#include <stdio.h>
#include <unistd.h>

#include "admin.h"
#include "store.h"

/* Who ran the command, for the audit line (and who became root with sudo). */
static char *
shell_actor(void)
{
    const char *sudo = g_getenv("SUDO_USER");
    if (sudo && *sudo && getuid() == 0)
        return g_strdup_printf("%s (shell, uid 0, sudo by %s)", g_get_user_name(), sudo);
    return g_strdup_printf("%s (shell, uid %u)", g_get_user_name(), (unsigned)getuid());
}

static char *
db_path(CwConfig *config, CwTransportConfig *t)
{
    g_autofree char *name = g_strdup_printf("%s.db", t->name);
    return g_build_filename(config->data_dir, name, NULL);
}

static char *
file_prefix(CwConfig *config, CwTransportConfig *t)
{
    return g_build_filename(config->data_dir, t->name, NULL);
}

/* The read-only store of t; NULL and error unset when it has no file yet. */
static CwStore *
open_readonly(CwConfig *config, CwTransportConfig *t, GError **error)
{
    g_autofree char *path = db_path(config, t);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return NULL;
    return cw_store_open_readonly(path, error);
}

static void
print_report(const CwAdminReport *report, gboolean *first)
{
    g_autofree char *text = cw_admin_report_format(report);
    printf("%s%s", *first ? "" : "\n", text);
    *first = FALSE;
}

static int
list_users(CwConfig *config, GPtrArray *transports)
{
    g_autoptr(GString) out = g_string_new(NULL);
    for (guint i = 0; i < transports->len; i++) {
        CwTransportConfig *t = transports->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(CwStore) store = open_readonly(config, t, &error);
        if (!store && error) {
            g_printerr("causeway: %s\n", error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        if (!store)
            continue;
        g_autoptr(GPtrArray) infos = cw_store_user_infos(store, &error);
        if (!infos) {
            g_printerr("causeway: %s\n", error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        for (guint j = 0; j < infos->len; j++)
            cw_admin_user_record(out, t->name, infos->pdata[j]);
    }
    fputs(out->str, stdout);
    return CW_ADMIN_EXIT_OK;
}

static int
show_user(CwConfig *config, GPtrArray *transports, const char *jid)
{
    gboolean first = TRUE;
    for (guint i = 0; i < transports->len; i++) {
        CwTransportConfig *t = transports->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(CwStore) store = open_readonly(config, t, &error);
        if (!store && error) {
            g_printerr("causeway: %s\n", error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        if (!store)
            continue;
        g_autofree char *prefix = file_prefix(config, t);
        g_autoptr(CwAdminReport) report = cw_admin_report_new();
        CwAdminStatus st = cw_admin_user_report(store, t->name, t->ops, prefix, jid, report, &error);
        if (st == CW_ADMIN_ERROR) {
            g_printerr("causeway: %s: %s\n", t->name, error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        if (st == CW_ADMIN_OK)
            print_report(report, &first);
    }
    if (first) {
        g_printerr("causeway: %s is not registered%s\n", jid,
                   transports->len == 1 ? " on that transport" : " on any transport");
        return CW_ADMIN_EXIT_NOT_FOUND;
    }
    return CW_ADMIN_EXIT_OK;
}

static int
delete_user(CwConfig *config, GPtrArray *transports, const char *jid, const char *actor)
{
    gboolean first = TRUE;
    int status = CW_ADMIN_EXIT_OK;
    for (guint i = 0; i < transports->len && status == CW_ADMIN_EXIT_OK; i++) {
        CwTransportConfig *t = transports->pdata[i];
        g_autofree char *path = db_path(config, t);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        g_autoptr(GError) error = NULL;
        /* Read-write, without the key: deleting needs no secret. */
        g_autoptr(CwStore) store = cw_store_open_admin(path, &error);
        CwStoreUserInfo *removed = NULL;
        if (!store || !cw_store_user_delete(store, jid, &removed, &error)) {
            g_printerr("causeway: %s: %s\n", t->name, error->message);
            cw_admin_log(actor, jid, "delete %s from transport %s: failed: %s", jid, t->name,
                         error->message);
            status = CW_ADMIN_EXIT_ERROR;
            break;
        }
        if (!removed)
            continue;
        g_autoptr(CwStoreUserInfo) gone = removed;
        g_autoptr(CwAdminReport) report = cw_admin_report_new();
        cw_admin_report_add(report, "transport", "%s", t->name);
        cw_admin_report_add(report, "deleted", "%s", jid);
        cw_admin_report_removed(report, gone);
        g_autofree char *prefix = file_prefix(config, t);
        if (t->ops->admin_user_delete &&
            !t->ops->admin_user_delete(prefix, jid, report, &error)) {
            /* The registration is gone; say what is left behind. */
            g_printerr("causeway: %s: %s's registration was deleted, but not the transport's "
                       "own data: %s\n", t->name, jid, error->message);
            cw_admin_log(actor, jid, "delete %s from transport %s: the transport's own data "
                         "stays: %s", jid, t->name, error->message);
            status = CW_ADMIN_EXIT_ERROR;
        }
        cw_admin_log(actor, jid, "deleted %s from transport %s (%" G_GINT64_FORMAT
                     " contacts, %" G_GINT64_FORMAT " rooms, %" G_GINT64_FORMAT " values)",
                     jid, t->name, gone->contacts, gone->rooms, gone->values);
        print_report(report, &first);
    }
    if (status == CW_ADMIN_EXIT_OK && first) {
        g_printerr("causeway: %s is not registered%s\n", jid,
                   transports->len == 1 ? " on that transport" : " on any transport");
        return CW_ADMIN_EXIT_NOT_FOUND;
    }
    return status;
}

static int
forget_secrets(CwConfig *config, GPtrArray *transports, const char *actor)
{
    gboolean first = TRUE;
    for (guint i = 0; i < transports->len; i++) {
        CwTransportConfig *t = transports->pdata[i];
        g_autofree char *path = db_path(config, t);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        g_autoptr(GError) error = NULL;
        g_autoptr(CwStore) store = cw_store_open_admin(path, &error);
        gint64 values = 0, rooms = 0;
        if (!store || !cw_store_forget_secrets(store, &values, &rooms, &error)) {
            g_printerr("causeway: %s: %s\n", t->name, error->message);
            cw_admin_log(actor, NULL, "forget the secrets of transport %s: failed: %s",
                         t->name, error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        cw_admin_log(actor, NULL, "forgot the secrets of transport %s (%" G_GINT64_FORMAT
                     " values, %" G_GINT64_FORMAT " room passwords)", t->name, values, rooms);
        g_autoptr(CwAdminReport) report = cw_admin_report_new();
        cw_admin_report_add(report, "transport", "%s", t->name);
        cw_admin_report_add(report, "secrets_removed", "%" G_GINT64_FORMAT, values);
        cw_admin_report_add(report, "room_passwords_removed", "%" G_GINT64_FORMAT, rooms);
        print_report(report, &first);
    }
    return CW_ADMIN_EXIT_OK;
}

static int
stats(CwConfig *config, GPtrArray *transports)
{
    gboolean first = TRUE;
    for (guint i = 0; i < transports->len; i++) {
        CwTransportConfig *t = transports->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(CwStore) store = open_readonly(config, t, &error);
        if (!store && error) {
            g_printerr("causeway: %s\n", error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        g_autofree char *prefix = file_prefix(config, t);
        g_autoptr(CwAdminReport) report = cw_admin_report_new();
        cw_admin_report_add(report, "transport", "%s", t->name);
        cw_admin_report_add(report, "type", "%s", t->type);
        gboolean ok;
        if (store) {
            ok = cw_admin_stats_report(store, t->ops, prefix, report, &error);
        } else { /* never started: nothing stored yet */
            for (const char *const *k = (const char *const[]){ "users", "contacts", "rooms",
                                                               "room_resources", NULL };
                 *k; k++)
                cw_admin_report_add(report, *k, "0");
            ok = !t->ops->admin_stats || t->ops->admin_stats(prefix, report, &error);
        }
        if (!ok) {
            g_printerr("causeway: %s: %s\n", t->name, error->message);
            return CW_ADMIN_EXIT_ERROR;
        }
        print_report(report, &first);
    }
    return CW_ADMIN_EXIT_OK;
}

int
cw_admin_cli_run(CwConfig *config, CwAdminCliCommand command, const char *jid,
                 const char *transport)
{
    g_autoptr(GPtrArray) transports = g_ptr_array_new();
    if (transport) {
        CwTransportConfig *t = cw_config_transport(config, transport);
        if (!t) {
            g_printerr("causeway: %s: no [transport:%s] section; name one of the config's "
                       "transports\n", config->path, transport);
            return CW_ADMIN_EXIT_ERROR;
        }
        g_ptr_array_add(transports, t);
    } else {
        for (guint i = 0; i < config->transports->len; i++)
            g_ptr_array_add(transports, config->transports->pdata[i]);
    }
    g_autofree char *key = NULL;
    if (command == CW_ADMIN_CLI_SHOW_USER || command == CW_ADMIN_CLI_DELETE_USER) {
        key = cw_admin_normalize_jid(jid);
        if (!key) {
            g_printerr("causeway: '%s' is not a bare JID (user@domain)\n", jid ? jid : "");
            return CW_ADMIN_EXIT_ERROR;
        }
    }
    g_autofree char *actor = shell_actor();
    g_autofree char *scope = transport ? g_strdup_printf("transport %s", transport)
                                       : g_strdup("all transports");
    int status;
    /* The audit record follows the outcome (the error itself went to stderr). */
    static const char *const outcome[] = { [CW_ADMIN_EXIT_OK] = "",
                                           [CW_ADMIN_EXIT_ERROR] = ": failed",
                                           [CW_ADMIN_EXIT_NOT_FOUND] = ": not registered" };
    switch (command) {
    case CW_ADMIN_CLI_LIST_USERS:
        status = list_users(config, transports);
        cw_admin_log(actor, NULL, "listed the users of %s%s", scope, outcome[status]);
        break;
    case CW_ADMIN_CLI_SHOW_USER:
        status = show_user(config, transports, key);
        cw_admin_log(actor, key, "showed %s on %s%s", key, scope, outcome[status]);
        break;
    case CW_ADMIN_CLI_DELETE_USER:
        status = delete_user(config, transports, key, actor);
        if (status == CW_ADMIN_EXIT_NOT_FOUND) /* the deletions log one line each */
            cw_admin_log(actor, key, "delete %s on %s: not registered", key, scope);
        break;
    case CW_ADMIN_CLI_FORGET_SECRETS:
        status = forget_secrets(config, transports, actor); /* logs one line per file */
        break;
    case CW_ADMIN_CLI_STATS:
        status = stats(config, transports);
        cw_admin_log(actor, NULL, "read the statistics of %s%s", scope, outcome[status]);
        break;
    default:
        g_return_val_if_reached(CW_ADMIN_EXIT_ERROR);
    }
    fflush(stdout);
    return status;
}
