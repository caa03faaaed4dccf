/* purple-floor.c — libpurple's own floor for the purple benchmark
 * (tests/bench/purple-bench.py): libpurple initialised headless the way
 * transports/purple/purple-core.c does it (GStreamer's plugin paths empty,
 * its registry in the user dir, logs off, no UI ops beyond the event loop),
 * then prpl-jabber accounts logged in in stages, with nothing else in the
 * process: no XMPP component, no store.
 *
 *   purple-floor USER_DIR HOST PORT DOMAIN PASSWORD STAGE...
 *
 * Accounts are l0@DOMAIN, l1@DOMAIN, ... (all with PASSWORD). Each STAGE is a
 * cumulative count: stage 50 after stage 1 logs in 49 more at once. Prints
 *   init RSS_KB PSS_KB
 *   stage N RSS_KB PSS_KB SECONDS
 * (VmRSS 2 s after the last of the N is signed on; SECONDS: from the first
 * connect of the stage to its last signed-on), then "done" and exits.
 */
#include <glib.h>
#include <purple.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define UI_ID "purple-floor"
#define READ_COND (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
    PurpleInputFunction function;
    gpointer data;
} IoClosure;

static gboolean
io_invoke(GIOChannel *source, GIOCondition condition, gpointer data)
{
    IoClosure *c = data;
    PurpleInputCondition cond = 0;
    if (condition & READ_COND)
        cond |= PURPLE_INPUT_READ;
    if (condition & WRITE_COND)
        cond |= PURPLE_INPUT_WRITE;
    c->function(c->data, g_io_channel_unix_get_fd(source), cond);
    return TRUE;
}

static guint
input_add(gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data)
{
    IoClosure *c = g_new0(IoClosure, 1);
    GIOCondition cond = 0;
    c->function = function;
    c->data = data;
    if (condition & PURPLE_INPUT_READ)
        cond |= READ_COND;
    if (condition & PURPLE_INPUT_WRITE)
        cond |= WRITE_COND;
    GIOChannel *ch = g_io_channel_unix_new(fd);
    guint id = g_io_add_watch_full(ch, G_PRIORITY_DEFAULT, cond, io_invoke, c, g_free);
    g_io_channel_unref(ch);
    return id;
}

static int
input_get_error(int fd, int *error)
{
    socklen_t len = sizeof(*error);
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, error, &len);
}

static PurpleEventLoopUiOps eventloop_ops = {
    .timeout_add = g_timeout_add,
    .timeout_remove = g_source_remove,
    .input_add = input_add,
    .input_remove = g_source_remove,
    .input_get_error = input_get_error,
    .timeout_add_seconds = g_timeout_add_seconds,
};

static void
ui_prefs(void)
{
    purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
    purple_prefs_set_bool("/purple/logging/log_chats", FALSE);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);
    purple_prefs_set_string("/purple/away/idle_reporting", "none");
}

static PurpleCoreUiOps core_ops = { .ui_prefs_init = ui_prefs };

static struct {
    GMainLoop *loop;
    int signed_on, wanted, failed;
    gint64 t0, t_last;
} st;

static long
kb_of(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    char line[256];
    long kb = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n))
            kb = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

#define RSS_PSS kb_of("/proc/self/status", "VmRSS:"), kb_of("/proc/self/smaps_rollup", "Pss:")

static gboolean
quit_loop(gpointer data)
{
    g_main_loop_quit(st.loop);
    return G_SOURCE_REMOVE;
}

static void
on_signed_on(PurpleConnection *gc, gpointer data)
{
    st.signed_on++;
    st.t_last = g_get_monotonic_time();
    if (st.signed_on >= st.wanted)
        g_timeout_add(2000, quit_loop, NULL);
}

static void
on_error(PurpleConnection *gc, PurpleConnectionError reason, const char *text, gpointer data)
{
    fprintf(stderr, "purple-floor: %s: %s\n",
            purple_account_get_username(purple_connection_get_account(gc)), text);
    st.failed++;
    g_main_loop_quit(st.loop);
}

static void
debug_print(PurpleDebugLevel level, const char *category, const char *text)
{
    if (level >= PURPLE_DEBUG_ERROR)
        fprintf(stderr, "purple-floor: %s: %s", category ? category : "", text);
}

static gboolean
debug_enabled(PurpleDebugLevel level, const char *category)
{
    return level >= PURPLE_DEBUG_ERROR;
}

static PurpleDebugUiOps debug_ops = { .print = debug_print, .is_enabled = debug_enabled };

int
main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s USER_DIR HOST PORT DOMAIN PASSWORD STAGE...\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *host = argv[2], *domain = argv[4], *password = argv[5];
    int port = atoi(argv[3]);
    g_autofree char *registry = g_build_filename(dir, "gst-registry.bin", NULL);
    g_mkdir_with_parents(dir, 0700);
    g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
    g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
    g_setenv("GST_REGISTRY_1_0", registry, TRUE);

    st.loop = g_main_loop_new(NULL, FALSE);
    purple_util_set_user_dir(dir);
    purple_debug_set_enabled(FALSE);
    purple_debug_set_ui_ops(&debug_ops);
    purple_core_set_ui_ops(&core_ops);
    purple_eventloop_set_ui_ops(&eventloop_ops);
    if (!purple_core_init(UI_ID)) {
        fprintf(stderr, "purple-floor: libpurple init failed\n");
        return 1;
    }
    purple_plugins_probe(G_MODULE_SUFFIX);
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    static int handle;
    purple_signal_connect(purple_connections_get_handle(), "signed-on", &handle,
                          PURPLE_CALLBACK(on_signed_on), NULL);
    purple_signal_connect(purple_connections_get_handle(), "connection-error", &handle,
                          PURPLE_CALLBACK(on_error), NULL);
    printf("init %ld %ld\n", RSS_PSS);
    fflush(stdout);

    int have = 0;
    for (int i = 6; i < argc; i++) {
        int want = atoi(argv[i]);
        st.wanted = want;
        st.t0 = g_get_monotonic_time();
        for (; have < want; have++) {
            g_autofree char *name = g_strdup_printf("l%d@%s", have, domain);
            PurpleAccount *a = purple_account_new(name, "prpl-jabber");
            purple_accounts_add(a);
            purple_account_set_remember_password(a, FALSE);
            purple_account_set_password(a, password);
            purple_account_set_string(a, "connect_server", host);
            purple_account_set_int(a, "port", port);
            purple_account_set_string(a, "connection_security", "opportunistic_tls");
            purple_account_set_bool(a, "auth_plain_in_clear", TRUE);
            purple_account_set_status(a, "available", TRUE, NULL);
            purple_account_set_enabled(a, UI_ID, TRUE);
        }
        g_main_loop_run(st.loop);
        if (st.failed)
            return 1;
        printf("stage %d %ld %ld %.3f\n", want, RSS_PSS, (st.t_last - st.t0) / 1e6);
        fflush(stdout);
    }
    printf("done\n");
    fflush(stdout);
    return 0;
}
