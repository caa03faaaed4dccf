/* sms-config.h — the keys of a [transport:NAME] section of type sms, read and
 * checked once (every error one line naming the key and the fix).
 *
 * The README's reference table lists them; cw_sms_config_keys is the list
 * the core accepts in the section.
 */
#pragma once
#include <glib.h>

#include "sms-numbers.h"

G_BEGIN_DECLS

typedef enum {
    CW_SMS_OWNERSHIP_DEDICATED, /* each gateway number belongs to one user */
    CW_SMS_OWNERSHIP_SHARED,    /* every user sends from the gateway's number(s) */
} CwSmsOwnership;

#define CW_SMS_TOKEN_MIN 16

typedef struct {
    char *kannel_url;          /* sendsms URL, http(s) */
    char *kannel_username, *kannel_password, *kannel_smsc; /* smsc may be NULL */
    char *callback_listen;     /* host:port of our HTTP listener */
    char *callback_url;        /* how Kannel reaches it, no trailing '/' */
    char *callback_token;      /* >= CW_SMS_TOKEN_MIN characters */
    CwSmsOwnership ownership;
    CwSmsNumberSet *numbers;
    gboolean approval_admin;   /* dedicated claims wait for an admin */
    gint64 reply_window_us;    /* shared: replies go to who wrote within this */
    char *inbox;               /* shared: bare JID for replies nobody asked for; may be NULL */
    char *default_country;     /* value cw_sms_country_lookup accepts, or NULL */
    guint max_in_flight;       /* concurrent sendsms requests */
    guint submit_timeout_s;
    guint retry_min_ms, retry_max_ms;
    guint max_attempts;        /* per part, for temporary failures */
    gint64 expire_after_us;    /* a message not delivered by then fails */
    gint64 resend_unconfirmed_us; /* resend parts without DLR 8 after this; 0 = never */
    guint dlr_mask;            /* asked of Kannel: 1|2|16, and 8 when resending unconfirmed */
    guint max_parts;           /* longest message, in SMS */
    char *stop_reply, *start_reply, *help_reply; /* texted back; "" = no answer */
} CwSmsConfig;

extern const char *const cw_sms_config_keys[];

/* Read and check the section. NULL with a one-line error naming the key. */
CwSmsConfig *cw_sms_config_read(GKeyFile *kf, const char *file, const char *group, GError **error);
void cw_sms_config_free(CwSmsConfig *c); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsConfig, cw_sms_config_free)

/* A phone number as typed (or as Kannel gives it) -> E.164 with the
 * configured default country; NULL when it is not a number. */
char *cw_sms_config_number(const CwSmsConfig *c, const char *typed);

G_END_DECLS
