/* supervisor.c — one child process per transport, restarted with backoff; signals forwarded. */
#define G_LOG_DOMAIN "causeway"
#include "supervisor.h"

#include <causeway/backoff.h>
#include <causeway/metrics.h>

#include "gateway-metrics.h"
#include "metrics-http.h"
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

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
    int stats_fd;       /* our end of the child's snapshot socketpair, -1 when none */
    guint stats_id;
    char *snapshot;     /* the last exposition text the child sent (NULL before the first) */
    gboolean connected; /* from the last snapshot */
    gint64 since;       /* unix seconds: connect/disconnect (child's word) or exit (ours) */
    guint64 restarts;
} Child;

struct Supervisor {
    CwConfig *config;
    char *self_exe;
    CwLogLevel log_level;
    GHashTable *children; /* name -> Child */
    GMainLoop *loop;
    gboolean stopping;
    guint kill_timer;
    gboolean ready_sent;
    CwMetricsHttp *http;
};

static void child_spawn(Child *c);

static char *
fingerprint(CwTransportConfig *t)
{
    return g_strdup_printf("%s|%s|%s|%s|%u", t->type, t->domain, t->secret, t->host, t->port);
}

static void
stats_close(Child *c)
{
    g_clear_handle_id(&c->stats_id, g_source_remove);
    if (c->stats_fd >= 0)
        close(c->stats_fd);
    c->stats_fd = -1;
    c->connected = FALSE;
}

static void
child_free(gpointer p)
{
    Child *c = p;
    stats_close(c);
    g_free(c->snapshot);
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
    c->restarts++;
    g_message("restarting transport %s in %u ms", c->name, delay);
    c->restart_id = g_timeout_add(delay, on_restart, c);
}

static void
on_child_exit(GPid pid, gint status, gpointer data)
{
    Child *c = data;
    Supervisor *sup = c->sup;
    g_spawn_close_pid(pid);
    stats_close(c);
    c->since = g_get_real_time() / G_USEC_PER_SEC;
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
                       code == 78 ? "the XMPP server rejected its secret" : "configuration or data error, named in its last log line");
            g_main_loop_quit(sup->loop);
        } else {
            g_critical("transport %s stopped for good (status %d: %s); fix its configuration and "
                       "send SIGHUP to reload", c->name, code,
                       code == 78 ? "the XMPP server rejected its secret" : "configuration or data error, named in its last log line");
        }
        return;
    }
    if (g_get_monotonic_time() - c->started_us > HEALTHY_AFTER_US)
        c->attempt = 0;
    schedule_restart(c);
}

static void
update_ready(Supervisor *sup)
{
    guint n = g_hash_table_size(sup->children), up = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, sup->children);
    while (g_hash_table_iter_next(&it, NULL, &v))
        up += ((Child *)v)->pid && ((Child *)v)->connected;
    if (up == n && n > 0 && !sup->ready_sent) {
        cw_notify_send("READY=1");
        sup->ready_sent = TRUE;
    }
    cw_notify_status("%u of %u transports connected to the XMPP server", up, n);
}

/* One datagram per read: "CAUSEWAY-STATS 1 connected=N since=T\n" + exposition. */
static gboolean
on_stats(int fd, GIOCondition cond, gpointer data)
{
    Child *c = data;
    static char buf[CW_STATS_MAX + 1];
    for (;;) {
        ssize_t n = recv(fd, buf, CW_STATS_MAX, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) /* a zero-length datagram; the child's exit closes the channel */
            continue;
        buf[n] = '\0';
        int connected = 0;
        gint64 since = 0;
        char *body = strchr(buf, '\n');
        if (!body || sscanf(buf, "CAUSEWAY-STATS 1 connected=%d since=%" G_GINT64_FORMAT,
                            &connected, &since) != 2)
            continue; /* not ours: ignore */
        gboolean was = c->connected;
        c->connected = connected != 0;
        c->since = since;
        g_free(c->snapshot);
        c->snapshot = g_strdup(body + 1);
        if (was != c->connected || !c->sup->ready_sent)
            update_ready(c->sup);
    }
    return G_SOURCE_CONTINUE;
}

typedef struct {
    char *help, *type; /* the whole "# HELP ..." / "# TYPE ..." lines */
    GString *samples;
} MergedFamily;

static void
merged_free(gpointer p)
{
    MergedFamily *f = p;
    g_free(f->help);
    g_free(f->type);
    g_string_free(f->samples, TRUE);
    g_free(f);
}

/* Group the children's samples by family, so that each family appears once. */
static void
merge_snapshot(GPtrArray *order, GHashTable *families, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    MergedFamily *cur = NULL;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        if (g_str_has_prefix(*l, "# HELP ") || g_str_has_prefix(*l, "# TYPE ")) {
            const char *name = *l + 7;
            const char *sp = strchr(name, ' ');
            g_autofree char *fname = sp ? g_strndup(name, sp - name) : g_strdup(name);
            cur = g_hash_table_lookup(families, fname);
            if (!cur) {
                cur = g_new0(MergedFamily, 1);
                cur->samples = g_string_new(NULL);
                g_ptr_array_add(order, cur);
                g_hash_table_insert(families, g_steal_pointer(&fname), cur);
            }
            char **slot = (*l)[2] == 'H' ? &cur->help : &cur->type;
            if (!*slot)
                *slot = g_strdup(*l);
        } else if (**l != '#' && cur) {
            g_string_append(cur->samples, *l);
            g_string_append_c(cur->samples, '\n');
        }
    }
}

static char *
sup_metrics_body(gpointer data)
{
    Supervisor *sup = data;
    g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func(merged_free);
    g_autoptr(GHashTable) families = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GString *own = g_string_new(NULL);
    g_string_append(own, "# HELP causeway_child_up 1 while the transport's child process runs\n"
                         "# TYPE causeway_child_up gauge\n");
    GString *restarts = g_string_new(
        "# HELP causeway_child_restarts_total Restarts of the transport's child process by the "
        "supervisor\n# TYPE causeway_child_restarts_total counter\n");
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(sup->children), (GCompareFunc)strcmp);
    for (GList *l = names; l; l = l->next) {
        Child *c = g_hash_table_lookup(sup->children, l->data);
        CwTransportConfig *t = cw_config_transport(sup->config, c->name);
        GString *lab = g_string_new("transport=\"");
        cw_metrics_escape_label(lab, c->name);
        g_string_append(lab, "\",type=\"");
        cw_metrics_escape_label(lab, t ? t->type : "");
        g_string_append_c(lab, '"');
        g_string_append_printf(own, "causeway_child_up{%s} %d\n", lab->str, c->pid != 0);
        g_string_append_printf(restarts, "causeway_child_restarts_total{%s} %" G_GUINT64_FORMAT "\n",
                               lab->str, c->restarts);
        g_string_free(lab, TRUE);
        if (c->pid && c->snapshot)
            merge_snapshot(order, families, c->snapshot);
    }
    g_string_append(own, restarts->str);
    g_string_free(restarts, TRUE);
    for (guint i = 0; i < order->len; i++) {
        MergedFamily *f = order->pdata[i];
        if (f->samples->len == 0)
            continue;
        if (f->help)
            g_string_append_printf(own, "%s\n", f->help);
        if (f->type)
            g_string_append_printf(own, "%s\n", f->type);
        g_string_append(own, f->samples->str);
    }
    return g_string_free(own, FALSE);
}

static gboolean
sup_health(GString *reason, gpointer data)
{
    Supervisor *sup = data;
    gboolean ok = TRUE;
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(sup->children), (GCompareFunc)strcmp);
    for (GList *l = names; l; l = l->next) {
        Child *c = g_hash_table_lookup(sup->children, l->data);
        if (c->pid && c->connected)
            continue;
        ok = FALSE;
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(c->since);
        g_autofree char *when = g_date_time_format_iso8601(t);
        if (!c->pid)
            g_string_append_printf(reason, "transport %s: child process not running since %s%s\n",
                                   c->name, when, c->given_up ? " (stopped for good)" : "");
        else
            g_string_append_printf(reason, "transport %s: not connected to the XMPP server since %s\n",
                                   c->name, when);
    }
    return ok;
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
    /* The snapshot channel: a datagram socketpair, the child's end as fd 3. */
    int sv[2] = { -1, -1 };
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
        g_warning("transport %s: no metrics channel: %s", c->name, g_strerror(errno));
    else {
        int size = 4 * CW_STATS_MAX;
        setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    g_auto(GStrv) envp = g_get_environ();
    if (sv[1] >= 0)
        envp = g_environ_setenv(envp, CW_STATS_FD_ENV, "3", TRUE);
    int source_fds[1] = { sv[1] }, target_fds[1] = { 3 };
    gboolean ok = g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata,
                                                   (const char *const *)envp,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, -1, -1, -1,
                                                   source_fds, target_fds, sv[1] >= 0 ? 1 : 0,
                                                   &pid, NULL, NULL, NULL, &error);
    if (sv[1] >= 0)
        close(sv[1]);
    if (!ok) {
        if (sv[0] >= 0)
            close(sv[0]);
        g_warning("cannot start transport %s: %s", c->name, error->message);
        schedule_restart(c);
    } else {
        if (sv[0] >= 0) {
            g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
            c->stats_fd = sv[0];
            c->stats_id = g_unix_fd_add(sv[0], G_IO_IN, on_stats, c);
        }
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
    c->stats_fd = -1;
    c->since = g_get_real_time() / G_USEC_PER_SEC;
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
    cw_notify_send("STOPPING=1");
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

    if (config->metrics_listen) {
        g_autoptr(GError) error = NULL;
        sup.http = cw_metrics_http_new(config->metrics_listen, sup_metrics_body, sup_health, &sup,
                                       &error);
        if (!sup.http)
            g_warning("%s; metrics are off", error->message);
    }
    cw_notify_watchdog_start();
    for (guint i = 0; i < config->transports->len; i++)
        child_add(&sup, config->transports->pdata[i]);
    update_ready(&sup);
    g_main_loop_run(sup.loop);
    g_clear_pointer(&sup.http, cw_metrics_http_free);
    cw_notify_deinit();

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
