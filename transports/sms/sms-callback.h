/* sms-callback.h — Kannel's HTTP callbacks to the SMS transport, parsed from
 * the raw query string. Pure functions, no I/O: the fuzz target is the whole
 * parse.
 *
 * Kannel calls two URLs the admin configures (DESIGN.md, "SMS via Kannel"):
 *
 *   MO  (sms-service get-url)
 *       /mo?token=T&sender=%p&receiver=%P&text=%b&coding=%c&charset=%C
 *          &id=%I&ts=%T&udh=%u
 *       text is the message bytes, URL-encoded, in charset: UTF-8 (coding 0,
 *       or any coding with mo-recode), UTF-16BE (coding 2), ISO-8859-1 /
 *       WINDOWS-1252 (some SMSCs), "binary" (coding 1: refused as text).
 *   DLR (the dlr-url we put into every sendsms)
 *       /dlr?token=T&m=MESSAGE&p=PART&type=%d&smsc_status=%A&to=%p
 *       m and p are ours (the outbox row and part index); type is Kannel's
 *       DLR type: 1 delivered, 2 failed at the phone, 4 buffered, 8 accepted
 *       by the SMSC, 16 rejected by the SMSC.
 *
 * A query string is key=value pairs separated by '&' (';' is not a
 * separator); '+' is a space; %XX escapes decode to bytes (a bad escape is
 * an error, not copied). The same key twice is an error (no "first wins"
 * ambiguity). Unknown keys are ignored. Everything is bounded: a query longer
 * than CW_SMS_CALLBACK_MAX bytes is refused.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SMS_CALLBACK_MAX 16384

typedef struct {
    char *sender;     /* as Kannel gave it (the phone's number, maybe national) */
    char *receiver;   /* the gateway number it was sent to */
    char *text;       /* valid UTF-8, converted from charset */
    char *kannel_id;  /* %I, may be NULL */
    gint64 timestamp; /* %T unix seconds, 0 when absent */
} CwSmsMo;

typedef struct {
    gint64 message;   /* m */
    guint part;       /* p */
    guint type;       /* 1, 2, 4, 8, 16 (a mask of one bit; other values refused) */
    char *smsc_status;/* %A, may be NULL; UTF-8 (invalid bytes replaced) */
} CwSmsDlr;

void cw_sms_mo_clear(CwSmsMo *mo);
void cw_sms_dlr_clear(CwSmsDlr *dlr);

/* Decode a query string into key (char *, g_free) -> value (GBytes *,
 * g_bytes_unref): the decoded bytes, which may hold NUL bytes (UTF-16BE
 * text). NULL with an
 * error (G_IO_ERROR_INVALID_DATA) on a bad escape, a duplicate key, or a
 * query longer than CW_SMS_CALLBACK_MAX. len may be -1 for NUL-terminated. */
GHashTable *cw_sms_query_parse(const char *query, gssize len, GError **error);

/* Does the query's token equal token (constant time)? FALSE when absent. */
gboolean cw_sms_query_token_ok(GHashTable *params, const char *token);

/* An MO callback's parameters -> *mo. FALSE with a message naming the bad
 * parameter when sender or receiver is missing or not UTF-8, the text is
 * missing or binary, or the charset is unknown. Text that does not decode in
 * its charset (invalid UTF-8, a lone surrogate, a NUL) is not refused: those
 * bytes become U+FFFD, because smsbox drops an MO answered with 400. A bad
 * ts, id or coding is ignored (0 / NULL / the charset's). */
gboolean cw_sms_mo_parse(GHashTable *params, CwSmsMo *mo, GError **error);

/* A DLR callback's parameters -> *dlr. FALSE when m, p or type is missing
 * or not a number in range. */
gboolean cw_sms_dlr_parse(GHashTable *params, CwSmsDlr *dlr, GError **error);

G_END_DECLS
