/* sms-sender.h — the way out: messages from the outbox to Kannel, and what
 * becomes of them (delivery reports, retries, expiry) until each is reported
 * delivered or failed exactly once.
 *
 * A message is queued into the outbox (durable once the write group is
 * committed, which happens on the main loop's next idle turn, before any
 * part of it is submitted). Parts are submitted at most max_in_flight at a
 * time; a temporary failure puts the part back with backoff (retry_min
 * doubling to retry_max) until max_attempts; a permanent one (Kannel's 4xx)
 * fails the message. DLR 8 marks a part accepted, 1 delivered, 2/16 failed.
 * Parts Kannel took but never confirmed with any DLR within
 * resend_unconfirmed are submitted again (Kannel lost them in a crash).
 * Messages past their expiry fail with "expired".
 *
 * Reports: when a message is finished the report callback runs; it returns
 * FALSE when it cannot report now (the XMPP side is down): the message then
 * stays in the outbox and the report is tried again on the next sweep (every
 * few seconds), also after a restart. A report that returned TRUE removes the
 * message.
 *
 * Lifetime: no callback runs after cw_sms_sender_free().
 */
#pragma once
#include <glib.h>

#include "sms-callback.h"
#include "sms-kannel.h"
#include "sms-store.h"

G_BEGIN_DECLS

typedef struct {
    const char *callback_url;   /* base URL of our listener, no trailing '/' */
    const char *callback_token;
    guint max_in_flight;
    guint retry_min_ms, retry_max_ms, max_attempts;
    gint64 resend_unconfirmed_us; /* 0 = never */
} CwSmsSenderConfig;

typedef enum {
    CW_SMS_OUTCOME_DELIVERED,
    CW_SMS_OUTCOME_FAILED,      /* Kannel refused it, or the network did */
    CW_SMS_OUTCOME_EXPIRED,     /* not delivered in time */
} CwSmsOutcome;

/* m is borrowed; text: why it failed (NULL when delivered). */
typedef gboolean (*CwSmsReport)(const CwSmsMessage *m, CwSmsOutcome outcome, const char *text,
                                gpointer data);

typedef struct CwSmsSender CwSmsSender;

/* Uses store and kannel (borrowed, they outlive the sender). Parts that were
 * in flight when the process died are queued again; finished messages are
 * reported on the first sweep. */
CwSmsSender *cw_sms_sender_new(CwSmsStore *store, CwSmsKannel *kannel,
                               const CwSmsSenderConfig *config, CwSmsReport report, gpointer data,
                               GError **error);
void cw_sms_sender_free(CwSmsSender *s); /* NULL-safe; commits what is written */

/* Queue a message (see CwSmsOutgoing). Returns its id, or -1 with error. */
gint64 cw_sms_sender_queue(CwSmsSender *s, const CwSmsOutgoing *m, GError **error);
/* A delivery report from the listener. */
void cw_sms_sender_dlr(CwSmsSender *s, const CwSmsDlr *dlr);
/* Run the sweep now (reports, expiry, resends): e.g. when the XMPP side is
 * back. */
void cw_sms_sender_sweep(CwSmsSender *s);

G_END_DECLS
