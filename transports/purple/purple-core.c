/* purple-core.c — libpurple on the GLib main loop, with non-blocking UI ops
 * (the policy is in purple-core.h). */
#define G_LOG_DOMAIN "causeway-purple"
#include "purple-core.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

static struct {
    gboolean ready, used;
    gboolean debug;
    const CwPurpleCoreEvents *events;
    gpointer data;
    GHashTable *pending; /* PendingAnswer * (the UI handles we gave out) */
    PurpleAccount *input_account; /* cw_purple_core_answer_next_input: armed for this account */
    char *input_answer;
} core;

/* ---- event loop (nullclient's, on GLib) ---- */

#define PURPLE_GLIB_READ_COND (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define PURPLE_GLIB_WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
    PurpleInputFunction function;
    guint result;
    gpointer data;
} IoClosure;

static gboolean
io_invoke(GIOChannel *source, GIOCondition condition, gpointer data)
{
    IoClosure *closure = data;
    PurpleInputCondition cond = 0;
    if (condition & PURPLE_GLIB_READ_COND)
        cond |= PURPLE_INPUT_READ;
    if (condition & PURPLE_GLIB_WRITE_COND)
        cond |= PURPLE_INPUT_WRITE;
    closure->function(closure->data, g_io_channel_unix_get_fd(source), cond);
    return TRUE;
}

static guint
input_add(gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data)
{
    IoClosure *closure = g_new0(IoClosure, 1);
    GIOCondition cond = 0;
    closure->function = function;
    closure->data = data;
    if (condition & PURPLE_INPUT_READ)
        cond |= PURPLE_GLIB_READ_COND;
    if (condition & PURPLE_INPUT_WRITE)
        cond |= PURPLE_GLIB_WRITE_COND;
    GIOChannel *channel = g_io_channel_unix_new(fd);
    closure->result = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, cond, io_invoke, closure,
                                          g_free);
    g_io_channel_unref(channel);
    return closure->result;
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

/* ---- debug ---- */

static void
debug_print(PurpleDebugLevel level, const char *category, const char *text)
{
    g_autofree char *line = g_strchomp(g_strdup(text));
    if (core.debug)
        g_debug("%s: %s", category ? category : "purple", line);
    else
        g_info("%s: %s", category ? category : "purple", line);
}

static gboolean
debug_is_enabled(PurpleDebugLevel level, const char *category)
{
    return core.debug || level >= PURPLE_DEBUG_ERROR;
}

static PurpleDebugUiOps debug_ops = {
    .print = debug_print,
    .is_enabled = debug_is_enabled,
};

/* ---- notifications and requests: told to the transport ---- */

static void
tell(PurpleAccount *account, const char *what, const char *title, const char *primary,
     const char *secondary)
{
    GString *s = g_string_new(what);
    const char *parts[] = { title, primary, secondary };
    for (gsize i = 0; i < G_N_ELEMENTS(parts); i++)
        if (parts[i] && *parts[i] && (i == 0 || g_strcmp0(parts[i], parts[i - 1]))) {
            const char *const *p = &parts[i];
            g_autofree char *plain = purple_markup_strip_html(*p);
            g_autofree char *text = purple_unescape_html(plain);
            g_string_append_printf(s, "%s%s", s->len ? ": " : "", text);
        }
    if (core.events && core.events->notify)
        core.events->notify(account, s->str, core.data);
    else
        g_info("libpurple%s%s: %s", account ? " for " : "",
               account ? purple_account_get_username(account) : "", s->str);
    g_string_free(s, TRUE);
}

static void *
notify_message(PurpleNotifyMsgType type, const char *title, const char *primary,
               const char *secondary)
{
    tell(NULL, "", title, primary, secondary);
    return NULL;
}

static void *
notify_formatted(const char *title, const char *primary, const char *secondary, const char *text)
{
    tell(NULL, "", title, primary, secondary);
    return NULL;
}

static void *
notify_email(PurpleConnection *gc, const char *subject, const char *from, const char *to,
             const char *url)
{
    tell(gc ? purple_connection_get_account(gc) : NULL, "New mail", from, subject, NULL);
    return NULL;
}

static void *
notify_emails(PurpleConnection *gc, size_t count, gboolean detailed, const char **subjects,
              const char **froms, const char **tos, const char **urls)
{
    g_autofree char *n = g_strdup_printf("%zu new mail(s)", count);
    tell(gc ? purple_connection_get_account(gc) : NULL, n, NULL, NULL, NULL);
    return NULL;
}

static void *
notify_userinfo(PurpleConnection *gc, const char *who, PurpleNotifyUserInfo *info)
{
    return NULL; /* only ever asked for by a UI; we never ask */
}

static void *
notify_uri(const char *uri)
{
    return NULL; /* never open a browser */
}

static PurpleNotifyUiOps notify_ops = {
    .notify_message = notify_message,
    .notify_email = notify_email,
    .notify_emails = notify_emails,
    .notify_formatted = notify_formatted,
    .notify_userinfo = notify_userinfo,
    .notify_uri = notify_uri,
};

/* One answer to give from an idle callback. The struct is the UI handle we
 * return; libpurple may close it first (close_request), which cancels it. */
typedef enum { ANSWER_CB_INT, ANSWER_CB_STR, ANSWER_CB_PTR, ANSWER_AUTH } AnswerKind;

typedef struct {
    AnswerKind kind;
    PurpleRequestType type;
    GCallback cb;          /* may be NULL: nothing to call */
    gpointer user_data;
    int int_arg;
    gpointer ptr_arg;      /* fields to destroy when closed */
    PurpleAccountRequestAuthorizationCb auth_cb;
    char *auth_who;
    char *str_arg;         /* ANSWER_CB_STR: the answer given (NULL: cancelled) */
    guint idle;
} PendingAnswer;

static void
pending_free(gpointer p)
{
    PendingAnswer *a = p;
    if (a->idle)
        g_source_remove(a->idle);
    if (a->kind == ANSWER_CB_PTR && a->ptr_arg)
        purple_request_fields_destroy(a->ptr_arg);
    g_free(a->auth_who);
    g_free(a->str_arg);
    g_free(a);
}

static gboolean
answer_now(gpointer p)
{
    PendingAnswer *a = p;
    a->idle = 0;
    switch (a->kind) {
    case ANSWER_CB_INT:
        if (a->cb)
            ((void (*)(gpointer, int))a->cb)(a->user_data, a->int_arg);
        break;
    case ANSWER_CB_STR:
        if (a->cb)
            ((void (*)(gpointer, const char *))a->cb)(a->user_data, a->str_arg);
        break;
    case ANSWER_CB_PTR:
        if (a->cb)
            ((void (*)(gpointer, gpointer))a->cb)(a->user_data, a->ptr_arg);
        break;
    case ANSWER_AUTH:
        if (a->auth_cb)
            a->auth_cb(a->user_data);
        /* libpurple does not close an authorisation request it answered */
        g_hash_table_remove(core.pending, a);
        return G_SOURCE_REMOVE;
    }
    /* Closing frees a through close_request, unless the callback already did
     * (then a is no longer in the table and this compares pointers only). */
    if (g_hash_table_contains(core.pending, a))
        purple_request_close(a->type, a);
    return G_SOURCE_REMOVE;
}

static PendingAnswer *
pending_new(AnswerKind kind, PurpleRequestType type, GCallback cb, gpointer user_data)
{
    PendingAnswer *a = g_new0(PendingAnswer, 1);
    a->kind = kind;
    a->type = type;
    a->cb = cb;
    a->user_data = user_data;
    a->idle = g_idle_add(answer_now, a);
    g_hash_table_add(core.pending, a);
    return a;
}

static void
close_request(PurpleRequestType type, void *handle)
{
    if (handle)
        g_hash_table_remove(core.pending, handle);
}

static void *
request_input(const char *title, const char *primary, const char *secondary,
              const char *default_value, gboolean multiline, gboolean masked, gchar *hint,
              const char *ok_text, GCallback ok_cb, const char *cancel_text, GCallback cancel_cb,
              PurpleAccount *account, const char *who, PurpleConversation *conv, void *user_data)
{
    if (core.input_answer && (!core.input_account || core.input_account == account)) {
        /* The transport asked for this one (e.g. prpl-jabber's room list asks
         * for the conference server): answered, not told. */
        PendingAnswer *a = pending_new(ANSWER_CB_STR, PURPLE_REQUEST_INPUT, ok_cb, user_data);
        a->str_arg = g_steal_pointer(&core.input_answer);
        core.input_account = NULL;
        return a;
    }
    tell(account, "Declined a request", title, primary, secondary);
    return pending_new(ANSWER_CB_STR, PURPLE_REQUEST_INPUT, cancel_cb, user_data);
}

static void *
request_choice(const char *title, const char *primary, const char *secondary, int default_value,
               const char *ok_text, GCallback ok_cb, const char *cancel_text, GCallback cancel_cb,
               PurpleAccount *account, const char *who, PurpleConversation *conv, void *user_data,
               va_list choices)
{
    tell(account, "Declined a request", title, primary, secondary);
    PendingAnswer *a = pending_new(ANSWER_CB_INT, PURPLE_REQUEST_CHOICE, cancel_cb, user_data);
    a->int_arg = default_value;
    return a;
}

/* The refusing action of a request: the label says Cancel, Reject, No, Deny
 * (English labels; under a translated locale the request's default action
 * is taken instead). */
static gboolean
is_refusal(const char *label)
{
    static const char *const refusals[] = { "cancel", "reject", "no", "deny", "decline", NULL };
    g_autofree char *plain = g_utf8_strdown(label ? label : "", -1);
    char *w = plain;
    while (*w == '_')
        w++;
    for (const char *const *r = refusals; *r; r++)
        if (g_str_has_prefix(w, *r))
            return TRUE;
    return FALSE;
}

static void *
request_action(const char *title, const char *primary, const char *secondary, int default_action,
               PurpleAccount *account, const char *who, PurpleConversation *conv, void *user_data,
               size_t action_count, va_list actions)
{
    GCallback chosen = NULL;
    int index = -1;
    GCallback default_cb = NULL;
    const char *default_label = NULL;
    for (size_t i = 0; i < action_count; i++) {
        const char *label = va_arg(actions, const char *);
        GCallback cb = va_arg(actions, GCallback);
        if ((int)i == default_action) {
            default_cb = cb;
            default_label = label;
        }
        if (index < 0 && is_refusal(label)) {
            index = (int)i;
            chosen = cb;
        }
    }
    if (index < 0) {
        /* Nothing refuses (prpl-jabber's "Create New Room": Configure Room
         * or Accept Defaults): the default, and the user is told which. */
        index = default_action;
        chosen = default_cb;
        g_autofree char *plain = g_strdup(default_label ? default_label : "the default");
        char *w = plain;
        for (char *r = plain; *r; r++)
            if (*r != '_')
                *w++ = *r;
        *w = '\0';
        g_autofree char *what = g_strdup_printf("Answered a request with \"%s\"", plain);
        tell(account, what, title, primary, secondary);
    } else {
        tell(account, "Refused a request", title, primary, secondary);
    }
    PendingAnswer *a = pending_new(ANSWER_CB_INT, PURPLE_REQUEST_ACTION, chosen, user_data);
    a->int_arg = index;
    return a;
}

static void *
request_fields(const char *title, const char *primary, const char *secondary,
               PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
               const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
               const char *who, PurpleConversation *conv, void *user_data)
{
    tell(account, "Declined a request", title, primary, secondary);
    PendingAnswer *a = pending_new(ANSWER_CB_PTR, PURPLE_REQUEST_FIELDS, cancel_cb, user_data);
    a->ptr_arg = fields; /* the UI owns the fields */
    return a;
}

static void *
request_file(const char *title, const char *filename, gboolean savedialog, GCallback ok_cb,
             GCallback cancel_cb, PurpleAccount *account, const char *who,
             PurpleConversation *conv, void *user_data)
{
    tell(account, "Declined a file request", title, NULL, NULL);
    return pending_new(ANSWER_CB_STR, PURPLE_REQUEST_FILE, cancel_cb, user_data);
}

static void *
request_folder(const char *title, const char *dirname, GCallback ok_cb, GCallback cancel_cb,
               PurpleAccount *account, const char *who, PurpleConversation *conv,
               void *user_data)
{
    tell(account, "Declined a folder request", title, NULL, NULL);
    return pending_new(ANSWER_CB_STR, PURPLE_REQUEST_FOLDER, cancel_cb, user_data);
}

static PurpleRequestUiOps request_ops = {
    .request_input = request_input,
    .request_choice = request_choice,
    .request_action = request_action,
    .request_fields = request_fields,
    .request_file = request_file,
    .close_request = close_request,
    .request_folder = request_folder,
};

/* ---- account ops: authorisation requests ---- */

static void *
request_authorize(PurpleAccount *account, const char *remote_user, const char *id,
                  const char *alias, const char *message, gboolean on_list,
                  PurpleAccountRequestAuthorizationCb authorize_cb,
                  PurpleAccountRequestAuthorizationCb deny_cb, void *user_data)
{
    gboolean grant = core.events && core.events->authorize &&
                     core.events->authorize(account, remote_user, alias, message, core.data);
    PendingAnswer *a = g_new0(PendingAnswer, 1);
    a->kind = ANSWER_AUTH;
    a->auth_cb = grant ? authorize_cb : deny_cb;
    a->user_data = user_data;
    a->auth_who = g_strdup(remote_user);
    a->idle = g_idle_add(answer_now, a);
    g_hash_table_add(core.pending, a);
    return a;
}

static void
close_account_request(void *handle)
{
    if (handle)
        g_hash_table_remove(core.pending, handle);
}

static PurpleAccountUiOps account_ops = {
    .request_authorize = request_authorize,
    .close_account_request = close_account_request,
};

/* ---- conversations: incoming IMs ---- */

static void
write_im(PurpleConversation *conv, const char *who, const char *message, PurpleMessageFlags flags,
         time_t mtime)
{
    if (!(flags & PURPLE_MESSAGE_RECV) || (flags & (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_SYSTEM)))
        return; /* our own sends, and libpurple's remarks */
    PurpleAccount *account = purple_conversation_get_account(conv);
    const char *from = purple_conversation_get_name(conv); /* the buddy, even when who is an alias */
    /* prpl-jabber binds a conversation to the resource that answered
     * (buddy@host/res): the buddy list entry it belongs to, found through the
     * plugin's normalisation, names the contact the roster has. */
    PurpleBuddy *buddy = from ? purple_find_buddy(account, from) : NULL;
    if (buddy && purple_buddy_get_name(buddy))
        from = purple_buddy_get_name(buddy);
    if (core.events && core.events->im)
        core.events->im(account, from ? from : who, message, mtime,
                        (flags & PURPLE_MESSAGE_DELAYED) != 0, core.data);
}

static void
chat_rename_user(PurpleConversation *conv, const char *old_name, const char *new_name,
                 const char *new_alias)
{
    if (core.events && core.events->chat_renamed)
        core.events->chat_renamed(conv, old_name, new_name, core.data);
}

static void
write_chat(PurpleConversation *conv, const char *who, const char *message,
           PurpleMessageFlags flags, time_t mtime)
{
    if (core.events && core.events->chat_write)
        core.events->chat_write(conv, who, message, flags, mtime, core.data);
}

static void
chat_add_users(PurpleConversation *conv, GList *cbuddies, gboolean new_arrivals)
{
    if (core.events && core.events->chat_users_added)
        core.events->chat_users_added(conv, cbuddies, new_arrivals, core.data);
}

static PurpleConversationUiOps conversation_ops = {
    .write_im = write_im,
    .write_chat = write_chat,
    .chat_add_users = chat_add_users,
    .chat_rename_user = chat_rename_user,
};

void
cw_purple_core_answer_next_input(PurpleAccount *account, const char *text)
{
    g_free(core.input_answer);
    core.input_answer = g_strdup(text);
    core.input_account = text ? account : NULL;
}

/* ---- core ---- */

static void
set_prefs(void)
{
    purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
    purple_prefs_set_bool("/purple/logging/log_chats", FALSE);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);
    purple_prefs_set_string("/purple/away/idle_reporting", "none");
    purple_prefs_set_bool("/purple/away/away_when_idle", FALSE);
}

static void
ui_init(void)
{
    purple_accounts_set_ui_ops(&account_ops);
    purple_conversations_set_ui_ops(&conversation_ops);
    purple_request_set_ui_ops(&request_ops);
    purple_notify_set_ui_ops(&notify_ops);
}

static GHashTable *
get_ui_info(void)
{
    static GHashTable *info;
    if (!info) {
        info = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(info, "name", "Causeway");
        g_hash_table_insert(info, "version", CW_VERSION);
        g_hash_table_insert(info, "client_type", "bot");
    }
    return info;
}

static PurpleCoreUiOps core_ops = {
    .ui_prefs_init = set_prefs,
    .ui_init = ui_init,
    .get_ui_info = get_ui_info,
};

gboolean
cw_purple_core_init(const char *user_dir, gboolean debug, const CwPurpleCoreEvents *events,
                    gpointer data, GError **error)
{
    g_return_val_if_fail(user_dir != NULL, FALSE);
    if (core.used) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "libpurple is initialised once per process");
        return FALSE;
    }
    core.used = TRUE;
    if (g_mkdir_with_parents(user_dir, 0700) != 0 || g_chmod(user_dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", user_dir,
                    g_strerror(e));
        return FALSE;
    }
    /* GStreamer (libpurple's media) must not scan every system plugin:
     * RSS 89 MB -> 25 MB; its registry cache goes into our directory. */
    g_autofree char *registry = g_build_filename(user_dir, "gst-registry.bin", NULL);
    g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
    g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
    g_setenv("GST_REGISTRY_1_0", registry, TRUE);

    core.debug = debug;
    core.events = events;
    core.data = data;
    core.pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, pending_free);

    purple_util_set_user_dir(user_dir);
    purple_debug_set_enabled(FALSE); /* our print op decides what is shown */
    purple_debug_set_ui_ops(&debug_ops);
    purple_core_set_ui_ops(&core_ops);
    purple_eventloop_set_ui_ops(&eventloop_ops);
    if (!purple_core_init(CW_PURPLE_UI_ID)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libpurple failed to initialise (its files: %s)", user_dir);
        g_clear_pointer(&core.pending, g_hash_table_unref);
        return FALSE;
    }
    set_prefs(); /* again: a prefs.xml loaded at init must not turn logs back on */
    purple_plugins_probe(G_MODULE_SUFFIX);
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    /* Accounts from accounts.xml stay off until their user comes online, and
     * none keeps a password (a file from an older version might). */
    for (GList *l = purple_accounts_get_all(); l; l = l->next) {
        purple_account_set_enabled(l->data, CW_PURPLE_UI_ID, FALSE);
        purple_account_set_remember_password(l->data, FALSE);
        purple_account_set_password(l->data, NULL);
    }
    core.ready = TRUE;
    return TRUE;
}

void
cw_purple_core_deinit(void)
{
    if (!core.ready)
        return;
    /* Our pending answers go first: purple_core_quit closes requests. */
    g_hash_table_remove_all(core.pending);
    /* purple_core_quit unloads the protocol plugins (dlclose). What a plugin
     * keeps in its statics until then (prpl-jabber: parsed stanzas it
     * caches) would look leaked to LeakSanitizer once the library is
     * unmapped, with frames it cannot name: the libraries stay mapped until
     * exit instead (resident). */
    for (GList *l = purple_plugins_get_protocols(); l; l = l->next) {
        const char *path = ((PurplePlugin *)l->data)->path;
        GModule *m = path ? g_module_open(path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL) : NULL;
        if (m)
            g_module_make_resident(m);
    }
    purple_core_quit();
    g_clear_pointer(&core.pending, g_hash_table_unref);
    g_clear_pointer(&core.input_answer, g_free);
    core.input_account = NULL;
    core.ready = FALSE;
    core.events = NULL;
    core.data = NULL;
}

gboolean
cw_purple_core_is_ready(void)
{
    return core.ready;
}

static int
compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
cw_purple_core_protocol_ids(void)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    if (!core.ready)
        return ids;
    for (GList *l = purple_plugins_get_protocols(); l; l = l->next) {
        const char *id = purple_plugin_get_id(l->data);
        if (id)
            g_ptr_array_add(ids, g_strdup(id));
    }
    g_ptr_array_sort(ids, compare_str);
    return ids;
}

char *
cw_purple_core_protocol_list(void)
{
    g_autoptr(GPtrArray) ids = cw_purple_core_protocol_ids();
    g_ptr_array_add(ids, NULL);
    return g_strjoinv(", ", (char **)ids->pdata);
}

PurplePlugin *
cw_purple_core_find_protocol(const char *id)
{
    if (!core.ready || !id)
        return NULL;
    PurplePlugin *p = purple_find_prpl(id);
    return p && PURPLE_PLUGIN_PROTOCOL_INFO(p) ? p : NULL;
}
