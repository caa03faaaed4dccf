/* supervisor.c — one child process per transport, restarted with backoff; signals forwarded. */
#define G_LOG_DOMAIN "causeway"
#include "supervisor.h"

#include <causeway/backoff.h>

#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
#define HEALTHY_AFTER_US (60 * G_USEC_PER_SEC)
#define STOP_GRACE_MS 10000

typedef struct Supervisor Supervisor;

typedef struct {
    Supervisor *sup;
    char *name;
    char *fingerprint;  /* what a reload compares: type, domain, secret, host, port */
    GPid pid;           /* 0 when not running */
    gint64 started_us;
    guint attempt;      /* restarts since the child was last healthy */
    guint restart_id, watch_id;
    gboolean given_up;
    gboolean removed;   /* stop and forget after exit (reload) */
} Child;

struct Supervisor {
    CwConfig *config;
    char *self_exe;
    CwLogLevel log_level;
    GHashTable *children; /* name -> Child */
    GMainLoop *loop;
    gboolean stopping;
    guint kill_timer;
};

static void child_spawn(Child *c);

static char *
fingerprint(CwTransportConfig *t)
{
    return g_strdup_printf("%s|%s|%s|%s|%u", t->type, t->domain, t->secret, t->host, t->port);
}

static void
child_free(gpointer p)
{
    Child *c = p;
    g_clear_handle_id(&c->restart_id, g_source_remove);
    g_clear_handle_id(&c->watch_id, g_source_remove);
    g_free(c->name);
    g_free(c->fingerprint);
    g_free(c);
}

static guint
running_children(Supervisor *sup)
{
    guint n = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sup->children);
    while (g_hash_table_iter_next(&it, NULL, &v))
        n += ((Child *)v)->pid != 0;
    return n;
}

static gboolean
all_given_up(Supervisor *sup)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sup->children);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!((Child *)v)->given_up)
            return FALSE;
    return g_hash_table_size(sup->children) > 0;
}

static gboolean
on_restart(gpointer data)
{
    Child *c = data;
    c->restart_id = 0;
    child_spawn(c);
    return G_SOURCE_REMOVE;
}

static void
schedule_restart(Child *c)
{
    guint delay = cw_backoff_delay_ms(RESTART_MIN_MS, RESTART_MAX_MS, c->attempt++);
    g_message("restarting transport %s in %u ms", c->name, delay);
    c->restart_id = g_timeout_add(delay, on_restart, c);
}

static void
on_child_exit(GPid pid, gint status, gpointer data)
{
    Child *c = data;
    Supervisor *sup = c->sup;
    g_spawn_close_pid(pid);
    c->pid = 0;
    c->watch_id = 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status))
        g_warning("transport %s (pid %d) was killed by signal %d", c->name, pid, WTERMSIG(status));
    else
        g_message("transport %s (pid %d) exited with status %d", c->name, pid, code);

    if (sup->stopping) {
        if (running_children(sup) == 0)
            g_main_loop_quit(sup->loop);
        return;
    }
    if (c->removed) {
        g_hash_table_remove(sup->children, c->name);
        return;
    }
    if (code == 1 || code == 78) {
        c->given_up = TRUE;
        if (all_given_up(sup)) {
            g_critical("transport %s stopped for good (status %d: %s), and so has every other; "
                       "exiting", c->name, code,
                       code == 78 ? "the XMPP server rejected its secret" : "configuration error");
            g_main_loop_quit(sup->loop);
        } else {
            g_critical("transport %s stopped for good (status %d: %s); fix its configuration and "
                       "send SIGHUP to reload", c->name, code,
                       code == 78 ? "the XMPP server rejected its secret" : "configuration error");
        }
        return;
    }
    if (g_get_monotonic_time() - c->started_us > HEALTHY_AFTER_US)
        c->attempt = 0;
    schedule_restart(c);
}

static void
child_spawn(Child *c)
{
    Supervisor *sup = c->sup;
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, sup->self_exe);
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, sup->config->path);
    g_ptr_array_add(argv, "--transport");
    g_ptr_array_add(argv, c->name);
    if (sup->log_level == CW_LOG_VERBOSE)
        g_ptr_array_add(argv, "-v");
    else if (sup->log_level == CW_LOG_DEBUG)
        g_ptr_array_add(argv, "--debug");
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) error = NULL;
    GPid pid;
    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                       &pid, &error)) {
        g_warning("cannot start transport %s: %s", c->name, error->message);
        schedule_restart(c);
    } else {
        c->pid = pid;
        c->given_up = FALSE;
        c->started_us = g_get_monotonic_time();
        c->watch_id = g_child_watch_add(pid, on_child_exit, c);
        g_message("started transport %s (pid %d)", c->name, pid);
    }
    g_ptr_array_free(argv, TRUE);
}

static Child *
child_add(Supervisor *sup, CwTransportConfig *t)
{
    Child *c = g_new0(Child, 1);
    c->sup = sup;
    c->name = g_strdup(t->name);
    c->fingerprint = fingerprint(t);
    g_hash_table_replace(sup->children, c->name, c);
    child_spawn(c);
    return c;
}

static void
child_stop(Child *c, gboolean forget)
{
    c->removed = forget;
    g_clear_handle_id(&c->restart_id, g_source_remove);
    if (c->pid)
        kill(c->pid, SIGTERM);
    else if (forget)
        g_hash_table_remove(c->sup->children, c->name);
}

static gboolean
on_kill_timeout(gpointer data)
{
    Supervisor *sup = data;
    sup->kill_timer = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sup->children);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Child *c = v;
        if (c->pid) {
            g_warning("transport %s did not stop in time; killing it", c->name);
            kill(c->pid, SIGKILL);
        }
    }
    return G_SOURCE_REMOVE;
}

static gboolean
on_sigterm(gpointer data)
{
    Supervisor *sup = data;
    if (sup->stopping)
        return G_SOURCE_CONTINUE;
    sup->stopping = TRUE;
    g_message("stopping all transports");
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sup->children);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Child *c = v;
        g_clear_handle_id(&c->restart_id, g_source_remove);
        if (c->pid)
            kill(c->pid, SIGTERM);
    }
    if (running_children(sup) == 0)
        g_main_loop_quit(sup->loop);
    else
        sup->kill_timer = g_timeout_add(STOP_GRACE_MS, on_kill_timeout, sup);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sighup(gpointer data)
{
    Supervisor *sup = data;
    g_autoptr(GError) error = NULL;
    CwConfig *fresh = cw_config_load(sup->config->path, &error);
    if (!fresh) {
        g_warning("reload failed, keeping the running transports: %s", error->message);
        return G_SOURCE_CONTINUE;
    }
    cw_config_free(sup->config);
    sup->config = fresh;

    GList *names = g_hash_table_get_keys(sup->children);
    for (GList *l = names; l; l = l->next) {
        Child *c = g_hash_table_lookup(sup->children, l->data);
        CwTransportConfig *t = cw_config_transport(fresh, c->name);
        if (!t) {
            g_message("transport %s was removed from the config; stopping it", c->name);
            child_stop(c, TRUE);
            continue;
        }
        g_autofree char *fp = fingerprint(t);
        if (strcmp(fp, c->fingerprint) != 0 || c->given_up) {
            g_message("transport %s changed; restarting it", c->name);
            g_free(c->fingerprint);
            c->fingerprint = g_steal_pointer(&fp);
            c->attempt = 0;
            if (c->pid)
                kill(c->pid, SIGTERM); /* on_child_exit restarts it */
            else {
                g_clear_handle_id(&c->restart_id, g_source_remove);
                child_spawn(c);
            }
        } else if (c->pid) {
            kill(c->pid, SIGHUP);
        }
    }
    g_list_free(names);
    for (guint i = 0; i < fresh->transports->len; i++) {
        CwTransportConfig *t = fresh->transports->pdata[i];
        if (!g_hash_table_contains(sup->children, t->name)) {
            g_message("transport %s was added to the config; starting it", t->name);
            child_add(sup, t);
        }
    }
    return G_SOURCE_CONTINUE;
}

int
cw_supervisor_run(CwConfig *config, const char *self_exe, CwLogLevel log_level)
{
    Supervisor sup = { .config = config, .self_exe = g_strdup(self_exe), .log_level = log_level };
    sup.children = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, child_free);
    sup.loop = g_main_loop_new(NULL, FALSE);
    guint term = g_unix_signal_add(SIGTERM, on_sigterm, &sup);
    guint intr = g_unix_signal_add(SIGINT, on_sigterm, &sup);
    guint hup = g_unix_signal_add(SIGHUP, on_sighup, &sup);

    for (guint i = 0; i < config->transports->len; i++)
        child_add(&sup, config->transports->pdata[i]);
    g_main_loop_run(sup.loop);

    int status = sup.stopping ? 0 : 1;
    g_clear_handle_id(&sup.kill_timer, g_source_remove);
    g_source_remove(term);
    g_source_remove(intr);
    g_source_remove(hup);
    g_hash_table_unref(sup.children);
    g_main_loop_unref(sup.loop);
    cw_config_free(sup.config);
    g_free(sup.self_exe);
    return status;
}
