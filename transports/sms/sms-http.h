/* sms-http.h — the head of one HTTP/1.x request, parsed from a byte buffer
 * (the callback listener's own small server; sms-listener.h). Pure, no I/O,
 * no allocation: the fuzz target is the whole parse.
 *
 * What is taken (RFC 9112, the part Kannel and hand-made callers use):
 *   request-line  METHOD SP TARGET SP HTTP/1.0|HTTP/1.1, METHOD a token of
 *                 at most 16 characters, TARGET origin-form ("/path?query")
 *                 or absolute-form ("http://host/path?query"), no CTL or
 *                 space in it
 *   header lines  NAME ":" OWS VALUE OWS; NAME a token; a line folded onto
 *                 the one before (obs-fold) is refused
 *   line ends     CRLF, or a bare LF (a CR elsewhere is refused)
 *   read          Content-Length (digits only, at most 10; the same value
 *                 twice is fine, two values are not), Transfer-Encoding (any:
 *                 501, the listener takes no chunked bodies), Connection
 *                 (close / keep-alive), Expect (100-continue; anything else
 *                 417), Content-Type (is it application/x-www-form-urlencoded)
 * Limits: the request line at most CW_SMS_HTTP_LINE_MAX bytes (else 414), the
 * header lines after it at most CW_SMS_HTTP_HEADERS_MAX bytes and
 * CW_SMS_HTTP_HEADERS_N lines (else 431). Everything returned points into
 * the caller's buffer.
 */
#pragma once
#include <glib.h>

#include "sms-callback.h"

G_BEGIN_DECLS

#define CW_SMS_HTTP_LINE_MAX (CW_SMS_CALLBACK_MAX + 1024)
#define CW_SMS_HTTP_HEADERS_MAX 8192
#define CW_SMS_HTTP_HEADERS_N 64
/* The longest head the parser can take. */
#define CW_SMS_HTTP_HEAD_MAX (CW_SMS_HTTP_LINE_MAX + CW_SMS_HTTP_HEADERS_MAX)

typedef enum {
    CW_SMS_HTTP_OTHER = 0, /* a well-formed method we do not serve */
    CW_SMS_HTTP_GET,
    CW_SMS_HTTP_HEAD,
    CW_SMS_HTTP_POST,
} CwSmsHttpMethod;

typedef struct {
    CwSmsHttpMethod method;
    guint minor;              /* HTTP/1.minor: 0 or 1 */
    const char *path;         /* starts with '/'; not decoded */
    gsize path_len;
    const char *query;        /* after '?', not decoded; NULL when the target has none */
    gsize query_len;
    gboolean keep_alive;      /* 1.1 unless "close"; 1.0 only with "keep-alive" */
    gboolean expect_continue; /* Expect: 100-continue */
    gboolean form;            /* Content-Type: application/x-www-form-urlencoded */
    guint64 content_length;   /* 0 when absent */
    gsize head_len;           /* bytes of the head, blank line included: the body follows */
} CwSmsHttpRequest;

typedef enum {
    CW_SMS_HTTP_INCOMPLETE, /* no blank line yet and no limit passed: read more */
    CW_SMS_HTTP_COMPLETE,   /* *req holds the head */
    CW_SMS_HTTP_BAD,        /* *status (400, 414, 417, 431, 501, 505) and *why (static) */
} CwSmsHttpParse;

/* Parse the request head at the start of buf[0..len). from: how many bytes
 * of buf an earlier call already saw without finding the head's end (0 the
 * first time), so a head arriving a byte at a time costs O(len) in all. */
CwSmsHttpParse cw_sms_http_parse(const char *buf, gsize len, gsize from, CwSmsHttpRequest *req,
                                 guint *status, const char **why);

/* The head of an HTTP/1.x response (the sendsms client's; sms-http-client.h).
 * Taken: status line "HTTP/1.x NNN reason", Content-Length, Connection
 * (close / keep-alive), Transfer-Encoding (chunked is reported, not decoded).
 * Limits as for requests: the head at most CW_SMS_HTTP_HEAD_MAX bytes. */
typedef struct {
    guint minor;
    guint status;             /* 100..999 */
    gsize reason_at, reason_len; /* the reason phrase, as offsets into the buffer */
    gboolean has_length;
    guint64 content_length;
    gboolean chunked;         /* Transfer-Encoding other than identity */
    gboolean keep_alive;      /* the connection may carry the next request */
    gsize head_len;
} CwSmsHttpResponse;

/* Parse the response head at the start of buf (from as for requests).
 * BAD: *why says what (static). */
CwSmsHttpParse cw_sms_http_parse_response(const char *buf, gsize len, gsize from,
                                          CwSmsHttpResponse *resp, const char **why);

/* The reason phrase for status ("OK", "Not Found", ...); "Unknown" else. */
const char *cw_sms_http_reason(guint status);

G_END_DECLS
