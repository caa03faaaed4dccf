/* sms-config.c — reading and checking the sms transport's keys. */
#include "sms-config.h"

#include <causeway/jid.h>
#include <causeway/keyfile.h>
#include <string.h>

const char *const cw_sms_config_keys[] = {
    "kannel_url", "kannel_username", "kannel_password", "kannel_smsc", "callback_listen",
    "callback_url", "callback_token", "ownership", "numbers", "approval", "reply_window", "inbox",
    "default_country", "max_in_flight", "submit_timeout", "retry_min", "retry_max",
    "max_attempts", "expire_after", "resend_unconfirmed_after", "dlr_mask", "max_parts", "stop_reply",
    "start_reply", "help_reply", NULL,
};

#define DEFAULT_LISTEN "127.0.0.1:13100"
#define DEFAULT_STOP_REPLY "You will get no more messages from this number. Reply START to resume."
#define DEFAULT_START_REPLY "You will get messages from this number again. Reply STOP to stop."
#define DEFAULT_HELP_REPLY "Messages from this number come from an XMPP user. Reply STOP to stop them."

void
cw_sms_config_free(CwSmsConfig *c)
{
    if (!c)
        return;
    g_free(c->kannel_url);
    g_free(c->kannel_username);
    g_free(c->kannel_password);
    g_free(c->kannel_smsc);
    g_free(c->callback_listen);
    g_free(c->callback_url);
    g_free(c->callback_token);
    cw_sms_number_set_free(c->numbers);
    g_free(c->inbox);
    g_free(c->default_country);
    g_free(c->stop_reply);
    g_free(c->start_reply);
    g_free(c->help_reply);
    g_free(c);
}

static char *
required(GKeyFile *kf, const char *file, const char *group, const char *key, const char *fix,
         GError **error)
{
    char *v = cw_keyfile_get_string(kf, group, key, NULL);
    if (!v)
        cw_keyfile_error(error, file, group, key, "missing; %s", fix);
    return v;
}

static gboolean
is_http_url(const char *url)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
        return FALSE;
    const char *scheme = g_uri_get_scheme(uri);
    return g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0;
}

/* kannel_* keys. */
static gboolean
read_kannel(CwSmsConfig *c, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    if (!(c->kannel_url = required(kf, file, group, "kannel_url",
                                   "write Kannel's sendsms URL, e.g. "
                                   "http://127.0.0.1:13013/cgi-bin/sendsms", error)))
        return FALSE;
    if (!is_http_url(c->kannel_url)) {
        cw_keyfile_error(error, file, group, "kannel_url",
                         "'%s' is not an http:// or https:// URL; write Kannel's sendsms URL, e.g. "
                         "http://127.0.0.1:13013/cgi-bin/sendsms", c->kannel_url);
        return FALSE;
    }
    if (!(c->kannel_username = required(kf, file, group, "kannel_username",
                                        "write the username of a sendsms-user group of kannel.conf",
                                        error)) ||
        !(c->kannel_password = required(kf, file, group, "kannel_password",
                                        "write the password of that sendsms-user", error)))
        return FALSE;
    c->kannel_smsc = cw_keyfile_get_string(kf, group, "kannel_smsc", NULL);
    return TRUE;
}

/* callback_* keys. */
static gboolean
read_callback(CwSmsConfig *c, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    c->callback_listen = cw_keyfile_get_string(kf, group, "callback_listen", DEFAULT_LISTEN);
    const char *colon = strrchr(c->callback_listen, ':');
    guint64 port = 0;
    if (!colon || colon == c->callback_listen ||
        !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL)) {
        cw_keyfile_error(error, file, group, "callback_listen",
                         "'%s' is not host:port; write e.g. 127.0.0.1:13100", c->callback_listen);
        return FALSE;
    }
    g_autofree char *url = cw_keyfile_get_string(kf, group, "callback_url", NULL);
    if (!url)
        url = g_strdup_printf("http://%s", c->callback_listen);
    if (!is_http_url(url)) {
        cw_keyfile_error(error, file, group, "callback_url",
                         "'%s' is not an http:// or https:// URL; write how Kannel's smsbox reaches "
                         "callback_listen, e.g. http://127.0.0.1:13100", url);
        return FALSE;
    }
    gsize len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    c->callback_url = g_steal_pointer(&url);
    if (!(c->callback_token = required(kf, file, group, "callback_token",
                                       "write a random secret of 16 or more characters (e.g. from "
                                       "`openssl rand -hex 16`) and put it into kannel.conf's "
                                       "get-url too", error)))
        return FALSE;
    gboolean plain = strlen(c->callback_token) >= CW_SMS_TOKEN_MIN;
    for (const char *p = c->callback_token; plain && *p; p++)
        plain = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~';
    if (!plain) {
        cw_keyfile_error(error, file, group, "callback_token",
                         "too short or not URL-safe; write 16 or more letters, digits or -_.~ "
                         "(e.g. from `openssl rand -hex 16`)");
        return FALSE;
    }
    return TRUE;
}

/* ownership, numbers, approval, reply_window, inbox, default_country. */
static gboolean
read_numbers(CwSmsConfig *c, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    g_autofree char *ownership = cw_keyfile_get_string(kf, group, "ownership", "dedicated");
    if (g_ascii_strcasecmp(ownership, "dedicated") == 0)
        c->ownership = CW_SMS_OWNERSHIP_DEDICATED;
    else if (g_ascii_strcasecmp(ownership, "shared") == 0)
        c->ownership = CW_SMS_OWNERSHIP_SHARED;
    else {
        cw_keyfile_error(error, file, group, "ownership",
                         "'%s' is not dedicated or shared; write dedicated (each user claims a "
                         "number) or shared (every user sends from the gateway's number)", ownership);
        return FALSE;
    }
    g_autofree char *numbers = required(kf, file, group, "numbers",
                                        "list the gateway's numbers in E.164 form, ranges allowed, "
                                        "e.g. +4930123450-+4930123459, +15551230000", error);
    if (!numbers)
        return FALSE;
    g_autoptr(GError) perr = NULL;
    if (!(c->numbers = cw_sms_number_set_parse(numbers, &perr))) {
        cw_keyfile_error(error, file, group, "numbers", "%s", perr->message);
        return FALSE;
    }
    g_autofree char *approval = cw_keyfile_get_string(kf, group, "approval", "auto");
    if (g_ascii_strcasecmp(approval, "auto") != 0 && g_ascii_strcasecmp(approval, "admin") != 0) {
        cw_keyfile_error(error, file, group, "approval",
                         "'%s' is not auto or admin; write auto (claims take effect at once) or "
                         "admin (an admin approves each claim)", approval);
        return FALSE;
    }
    c->approval_admin = g_ascii_strcasecmp(approval, "admin") == 0;
    double window;
    if (!cw_keyfile_get_duration(kf, file, group, "reply_window", 30 * 86400.0, 60, 3650 * 86400.0,
                                 &window, error))
        return FALSE;
    c->reply_window_us = (gint64)(window * G_USEC_PER_SEC);
    c->inbox = cw_keyfile_get_string(kf, group, "inbox", NULL);
    if (c->inbox && (!cw_jid_is_valid(c->inbox) || strchr(c->inbox, '/'))) {
        cw_keyfile_error(error, file, group, "inbox",
                         "'%s' is not a bare JID; write the JID that gets replies nobody asked "
                         "for, e.g. office@example.org", c->inbox);
        return FALSE;
    }
    c->default_country = cw_keyfile_get_string(kf, group, "default_country", NULL);
    const char *code, *trunk;
    if (c->default_country && !cw_sms_country_lookup(c->default_country, &code, &trunk)) {
        cw_keyfile_error(error, file, group, "default_country",
                         "'%s' is not a country; write an ISO 3166 code (DE, US, GB) or a calling "
                         "code (49, 1, 44)", c->default_country);
        return FALSE;
    }
    return TRUE;
}

/* Delivery: concurrency, timeouts, retries, expiry, sizes. */
static gboolean
read_delivery(CwSmsConfig *c, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    guint64 in_flight, attempts, parts;
    double timeout, rmin, rmax, expire, resend;
    if (!cw_keyfile_get_uint(kf, file, group, "max_in_flight", 8, 1, 1000, &in_flight, error) ||
        !cw_keyfile_get_duration(kf, file, group, "submit_timeout", 30, 1, 600, &timeout, error) ||
        !cw_keyfile_get_duration(kf, file, group, "retry_min", 2, 0.01, 3600, &rmin, error) ||
        !cw_keyfile_get_duration(kf, file, group, "retry_max", 300, 0.01, 86400, &rmax, error) ||
        !cw_keyfile_get_uint(kf, file, group, "max_attempts", 30, 1, 100000, &attempts, error) ||
        !cw_keyfile_get_duration(kf, file, group, "expire_after", 2 * 86400.0, 10, 30 * 86400.0,
                                 &expire, error) ||
        !cw_keyfile_get_duration(kf, file, group, "resend_unconfirmed_after", 300, 0, 7 * 86400.0,
                                 &resend, error) ||
        !cw_keyfile_get_uint(kf, file, group, "max_parts", 10, 1, 255, &parts, error))
        return FALSE;
    if (rmax < rmin) {
        cw_keyfile_error(error, file, group, "retry_max", "is shorter than retry_min; make it longer");
        return FALSE;
    }
    c->max_in_flight = (guint)in_flight;
    c->submit_timeout_s = (guint)(timeout + 0.5);
    c->retry_min_ms = (guint)(rmin * 1000 + 0.5);
    c->retry_max_ms = (guint)(rmax * 1000 + 0.5);
    c->max_attempts = (guint)attempts;
    c->expire_after_us = (gint64)(expire * G_USEC_PER_SEC);
    c->resend_unconfirmed_us = (gint64)(resend * G_USEC_PER_SEC);
    c->max_parts = (guint)parts;
    return TRUE;
}

/* dlr_mask: auto, a number, or DLR types joined by '+', '|' or ','. */
static gboolean
read_dlr_mask(CwSmsConfig *c, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    g_autofree char *v = cw_keyfile_get_string(kf, group, "dlr_mask", "auto");
    g_strstrip(v);
    guint mask = 0;
    if (g_ascii_strcasecmp(v, "auto") == 0) {
        /* what the sender uses: 1 and 2/16 finish a message, 8 confirms a part
         * for resend_unconfirmed_after; 4 (buffered) nobody reads */
        mask = 1 | 2 | 16 | (c->resend_unconfirmed_us > 0 ? 8 : 0);
    } else {
        g_auto(GStrv) bits = g_strsplit_set(v, "+|,", -1);
        guint n = 0;
        for (char **b = bits; *b; b++) {
            g_strstrip(*b);
            guint64 x;
            if (!g_ascii_string_to_unsigned(*b, 10, 1, 31, &x, NULL)) {
                cw_keyfile_error(error, file, group, "dlr_mask",
                                 "'%s' is not auto or a Kannel dlr-mask (1 to 31, e.g. 27 or "
                                 "1+2+8+16)", v);
                return FALSE;
            }
            mask |= (guint)x;
            n++;
        }
        if (n == 0) {
            cw_keyfile_error(error, file, group, "dlr_mask", "is empty; write auto or e.g. 1+2+16");
            return FALSE;
        }
    }
    if ((mask & 19) != 19) {
        cw_keyfile_error(error, file, group, "dlr_mask",
                         "%u lacks 1, 2 or 16: without them no message is reported delivered or "
                         "failed before it expires; include 1+2+16", mask);
        return FALSE;
    }
    if (!(mask & 8) && c->resend_unconfirmed_us > 0) {
        cw_keyfile_error(error, file, group, "dlr_mask",
                         "%u lacks 8, which resend_unconfirmed_after waits for (every part "
                         "would be sent again); add 8, or set resend_unconfirmed_after = 0", mask);
        return FALSE;
    }
    c->dlr_mask = mask;
    return TRUE;
}

static void
read_replies(CwSmsConfig *c, GKeyFile *kf, const char *group)
{
    /* Present but empty: no answer at all (g_key_file gives "" for "key ="). */
    c->stop_reply = g_key_file_has_key(kf, group, "stop_reply", NULL)
                        ? cw_keyfile_get_string(kf, group, "stop_reply", "")
                        : g_strdup(DEFAULT_STOP_REPLY);
    c->start_reply = g_key_file_has_key(kf, group, "start_reply", NULL)
                         ? cw_keyfile_get_string(kf, group, "start_reply", "")
                         : g_strdup(DEFAULT_START_REPLY);
    c->help_reply = g_key_file_has_key(kf, group, "help_reply", NULL)
                        ? cw_keyfile_get_string(kf, group, "help_reply", "")
                        : g_strdup(DEFAULT_HELP_REPLY);
}

CwSmsConfig *
cw_sms_config_read(GKeyFile *kf, const char *file, const char *group, GError **error)
{
    g_autoptr(CwSmsConfig) c = g_new0(CwSmsConfig, 1);
    if (!read_kannel(c, kf, file, group, error) || !read_callback(c, kf, file, group, error) ||
        !read_numbers(c, kf, file, group, error) || !read_delivery(c, kf, file, group, error) ||
        !read_dlr_mask(c, kf, file, group, error))
        return NULL;
    read_replies(c, kf, group);
    return g_steal_pointer(&c);
}

char *
cw_sms_config_number(const CwSmsConfig *c, const char *typed)
{
    return typed ? cw_sms_number_parse(typed, c->default_country) : NULL;
}
