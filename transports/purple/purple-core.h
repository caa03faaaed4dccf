/* purple-core.h — libpurple, once per process, headless on the GLib main loop
 * (DESIGN.md, "libpurple 2.14"): event loop, core, debug, request, notify,
 * account and conversation UI ops, and the installed protocol plugins.
 *
 * Contract: cw_purple_core_init() is called once per process (later calls
 * fail); cw_purple_core_deinit() undoes it and may be called when init was
 * never called or failed. libpurple's files go to user_dir, created 0700;
 * chat, IM and system logs are off, GStreamer is kept from scanning plugins
 * (its registry lives in user_dir) and no account remembers its password.
 *
 * Requests libpurple makes of a UI never block and never wait for a user:
 *   - action requests (certificate prompts, "accept this file?", ...) are
 *     answered with the refusing action (Cancel/Reject/No/Deny), else the
 *     request's default; an invalid certificate is therefore refused;
 *   - input, choice, fields, file and folder requests are cancelled (an input
 *     request the transport armed with cw_purple_core_answer_next_input()
 *     is answered);
 *   - authorisation requests ("bob wants to add you") go to
 *     events->authorize, whose answer is given to libpurple;
 *   - every request and notification is also told to events->notify as text
 *     (account NULL when libpurple does not say which account it is about).
 * Answers are given from an idle callback, never from inside the request.
 *
 * Incoming IMs arrive through events->im (libpurple's write_im UI op), with
 * the HTML as the plugin gave it; the user's own sends are not reported.
 */
#pragma once
#include <glib.h>
#include <purple.h>

G_BEGIN_DECLS

#define CW_PURPLE_UI_ID "causeway"

typedef struct {
    /* Text for the user of account (NULL: not known; the core logs it). */
    void (*notify)(PurpleAccount *account, const char *text, gpointer data);
    /* remote_user asks to see account's presence (message may be NULL):
     * TRUE grants it. */
    gboolean (*authorize)(PurpleAccount *account, const char *remote_user, const char *alias,
                          const char *message, gpointer data);
    /* An IM received from who (HTML); mtime: when it was sent (unix
     * seconds); delayed: an offline or history message. */
    void (*im)(PurpleAccount *account, const char *who, const char *html, time_t mtime,
               gboolean delayed, gpointer data);
    /* An occupant of a chat is now new_name (libpurple has no signal for it). */
    void (*chat_renamed)(PurpleConversation *conv, const char *old_name, const char *new_name,
                         gpointer data);
    /* A message in a chat (libpurple's write_chat UI op: our own sends too,
     * flagged PURPLE_MESSAGE_SEND, and the prpl's remarks, flagged SYSTEM). */
    void (*chat_write)(PurpleConversation *conv, const char *who, const char *html,
                       PurpleMessageFlags flags, time_t mtime, gpointer data);
    /* Occupants added to a chat, as one batch (PurpleConvChatBuddy *), after
     * libpurple's chat-buddy-joined signal of each. */
    void (*chat_users_added)(PurpleConversation *conv, GList *cbuddies, gboolean new_arrivals,
                             gpointer data);
} CwPurpleCoreEvents;

/* Initialise libpurple with its files in user_dir (created 0700); debug
 * routes libpurple's debug output into g_debug (contains message bodies),
 * else only its errors reach g_info. events (static storage) may be NULL. */
gboolean cw_purple_core_init(const char *user_dir, gboolean debug,
                             const CwPurpleCoreEvents *events, gpointer data, GError **error);
void cw_purple_core_deinit(void);
gboolean cw_purple_core_is_ready(void);

/* The ids of the installed protocol plugins ("prpl-jabber", ...), sorted;
 * free with g_ptr_array_unref. Requires init. */
GPtrArray *cw_purple_core_protocol_ids(void);
/* The same, joined with ", " (allocated). */
char *cw_purple_core_protocol_list(void);
/* Answer the next input request libpurple makes (for account, or any when
 * account is NULL) with text instead of cancelling it: for prpl requests a
 * call is known to make (prpl-jabber's room list asks for the conference
 * server). NULL disarms it. */
void cw_purple_core_answer_next_input(PurpleAccount *account, const char *text);

/* The protocol plugin of id, or NULL. Requires init. */
PurplePlugin *cw_purple_core_find_protocol(const char *id);

G_END_DECLS
