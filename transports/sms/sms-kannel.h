/* sms-kannel.h — Kannel's sendsms HTTP interface, as a client (libsoup 3).
 *
 * One CwSmsKannel per transport: a SoupSession with keep-alive and at most
 * max_in_flight requests at once (the transport asks before each submit).
 * A part becomes one GET of
 *   SENDSMS_URL?username=U&password=P&from=F&to=T&text=X&coding=C
 *     [&charset=UTF-8][&udh=UDH][&smsc=ID]&dlr-mask=MASK&dlr-url=DLR_URL
 * with text UTF-8 (charset=UTF-8 for coding 2, so Kannel converts to UCS-2
 * itself), udh the concatenation header (05 00 03 REF TOTAL SEQ) when the
 * message has several parts, and DLR_URL our callback URL for this part.
 * The password never reaches a log line: the URL is logged without it.
 *
 * Results: Kannel answers 202 "0: Accepted for delivery" or "3: Queued for
 * later delivery" (OK); 4xx with a reason, e.g. 403 "Authorization failed"
 * or 400 "Missing receiver number" (PERMANENT: retrying cannot help);
 * 5xx, 503 "Sending failed", a refused connection or a timeout (TEMPORARY).
 *
 * Lifetime: callbacks run on the main loop; after cw_sms_kannel_free() no
 * callback runs (pending requests are cancelled and their callbacks
 * dropped).
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *sendsms_url;  /* http://127.0.0.1:13013/cgi-bin/sendsms */
    const char *username;
    const char *password;
    const char *smsc;         /* Kannel smsc-id to route through; may be NULL */
    guint max_in_flight;      /* >= 1 */
    guint timeout_s;          /* per request */
    guint dlr_mask;           /* 1 delivered, 2 failed, 4 buffered, 8 accepted, 16 rejected */
} CwSmsKannelConfig;

typedef enum {
    CW_SMS_SUBMIT_OK,
    CW_SMS_SUBMIT_TEMPORARY,
    CW_SMS_SUBMIT_PERMANENT,
} CwSmsSubmitResult;

typedef struct {
    const char *from, *to, *text;
    int coding;               /* CwSmsCoding */
    guint8 ref;               /* concatenation: reference, */
    guint part, n_parts;      /* part index (0-based) and count; n_parts 1 = no UDH */
    const char *dlr_url;      /* full URL, not yet escaped */
} CwSmsSubmit;

/* status: the HTTP status (0 when no answer), text: Kannel's body or the
 * transport error, one line (borrowed). */
typedef void (*CwSmsSubmitDone)(CwSmsSubmitResult result, guint status, const char *text,
                                gpointer data);

typedef struct CwSmsKannel CwSmsKannel;

/* Copies the config. NULL with an error when sendsms_url is not an http(s) URL. */
CwSmsKannel *cw_sms_kannel_new(const CwSmsKannelConfig *config, GError **error);
void cw_sms_kannel_free(CwSmsKannel *k); /* NULL-safe */
/* Requests in flight, and whether one more may start. */
guint cw_sms_kannel_in_flight(CwSmsKannel *k);
gboolean cw_sms_kannel_can_submit(CwSmsKannel *k);
/* Start one sendsms (the caller checked can_submit); done is called exactly
 * once, later, on the main loop (never from inside this call). */
void cw_sms_kannel_submit(CwSmsKannel *k, const CwSmsSubmit *s, CwSmsSubmitDone done,
                          gpointer data);
/* The GET URL for s, with the password (for tests; never log it). */
char *cw_sms_kannel_url(CwSmsKannel *k, const CwSmsSubmit *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsKannel, cw_sms_kannel_free)

G_END_DECLS
