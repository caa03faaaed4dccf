/* sms-http.c — an HTTP/1.x request head parsed from a buffer (see sms-http.h). */
#include "sms-http.h"

#include <string.h>

#define METHOD_MAX 16

/* RFC 9110 tchar */
static gboolean
is_tchar(guchar c)
{
    return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_ctl(guchar c)
{
    return c < 0x20 || c == 0x7f;
}

static gboolean
span_eq(const char *s, gsize len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static gboolean
span_caseeq(const char *s, gsize len, const char *lit)
{
    return strlen(lit) == len && g_ascii_strncasecmp(s, lit, len) == 0;
}

/* Where the head ends (just past its blank line), or 0 when it does not
 * within buf[0..len); scanning starts at from. */
static gsize
head_end(const char *buf, gsize len, gsize start, gsize from)
{
    /* back up over a line end split across two reads */
    gsize i = from > start + 2 ? from - 2 : start;
    for (; i < len; i++) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl)
            return 0;
        i = (gsize)(nl - buf);
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The line at buf[*pos..end) up to its LF, without the CR before it; *pos
 * moves past the LF. FALSE when a CR or another control character (HTAB
 * aside) is inside the line. */
static gboolean
next_line(const char *buf, gsize end, gsize *pos, const char **line, gsize *line_len)
{
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', end - *pos);
    gsize n = nl ? (gsize)(nl - s) : end - *pos; /* the caller knows an LF follows */
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    for (gsize i = 0; i < n; i++)
        if (is_ctl((guchar)s[i]) && s[i] != '\t')
            return FALSE;
    *line = s;
    *line_len = n;
    return TRUE;
}

static CwSmsHttpParse
bad(guint code, const char *text, guint *status, const char **why)
{
    *status = code;
    *why = text;
    return CW_SMS_HTTP_BAD;
}

static CwSmsHttpParse
parse_request_line(const char *line, gsize n, CwSmsHttpRequest *req, guint *status,
                   const char **why)
{
    gsize m = 0;
    while (m < n && is_tchar((guchar)line[m]))
        m++;
    if (m == 0 || m > METHOD_MAX || m == n || line[m] != ' ')
        return bad(400, "bad request line (METHOD TARGET HTTP/1.1)", status, why);
    if (span_eq(line, m, "GET"))
        req->method = CW_SMS_HTTP_GET;
    else if (span_eq(line, m, "HEAD"))
        req->method = CW_SMS_HTTP_HEAD;
    else if (span_eq(line, m, "POST"))
        req->method = CW_SMS_HTTP_POST;
    else
        req->method = CW_SMS_HTTP_OTHER;

    const char *target = line + m + 1;
    const char *sp = memchr(target, ' ', n - m - 1);
    if (!sp || sp == target)
        return bad(400, "bad request line (METHOD TARGET HTTP/1.1)", status, why);
    gsize tlen = (gsize)(sp - target);
    const char *version = sp + 1;
    gsize vlen = n - (gsize)(version - line);
    if (span_eq(version, vlen, "HTTP/1.1"))
        req->minor = 1;
    else if (span_eq(version, vlen, "HTTP/1.0"))
        req->minor = 0;
    else if (vlen == 8 && memcmp(version, "HTTP/", 5) == 0 && g_ascii_isdigit(version[5]) &&
             version[6] == '.' && g_ascii_isdigit(version[7]))
        return bad(505, "only HTTP/1.0 and HTTP/1.1", status, why);
    else
        return bad(400, "bad request line (METHOD TARGET HTTP/1.1)", status, why);

    for (gsize i = 0; i < tlen; i++)
        if ((guchar)target[i] >= 0x80 || target[i] == '\t')
            return bad(400, "bad request target (not %-escaped)", status, why);
    /* absolute-form: the path after scheme://authority */
    const char *path = target;
    gsize plen = tlen;
    if (target[0] != '/') {
        gsize skip;
        if (tlen >= 7 && g_ascii_strncasecmp(target, "http://", 7) == 0)
            skip = 7;
        else if (tlen >= 8 && g_ascii_strncasecmp(target, "https://", 8) == 0)
            skip = 8;
        else
            return bad(400, "bad request target (expected /PATH?QUERY)", status, why);
        const char *slash = memchr(target + skip, '/', tlen - skip);
        const char *q = memchr(target + skip, '?', tlen - skip);
        if (!slash || (q && q < slash))
            return bad(400, "bad request target (expected /PATH?QUERY)", status, why);
        path = slash;
        plen = tlen - (gsize)(slash - target);
    }
    const char *q = memchr(path, '?', plen);
    req->path = path;
    req->path_len = q ? (gsize)(q - path) : plen;
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? plen - req->path_len - 1 : 0;
    return CW_SMS_HTTP_COMPLETE;
}

/* Is token (case-insensitive) one of the comma-separated list value? */
static gboolean
list_has(const char *value, gsize n, const char *token)
{
    gsize i = 0;
    while (i < n) {
        while (i < n && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        gsize start = i;
        while (i < n && value[i] != ',' && value[i] != ' ' && value[i] != '\t')
            i++;
        if (i > start && span_caseeq(value + start, i - start, token))
            return TRUE;
    }
    return FALSE;
}

static CwSmsHttpParse
parse_header(const char *line, gsize n, CwSmsHttpRequest *req, gboolean *have_length,
             gboolean *have_host, gboolean *close, gboolean *keep, guint *status,
             const char **why)
{
    if (line[0] == ' ' || line[0] == '\t')
        return bad(400, "folded header line", status, why);
    gsize k = 0;
    while (k < n && is_tchar((guchar)line[k]))
        k++;
    if (k == 0 || k == n || line[k] != ':')
        return bad(400, "bad header line (NAME: VALUE)", status, why);
    const char *v = line + k + 1;
    gsize vlen = n - k - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;

    if (span_caseeq(line, k, "Content-Length")) {
        if (vlen == 0 || vlen > 10)
            return bad(400, "bad Content-Length", status, why);
        guint64 value = 0;
        for (gsize i = 0; i < vlen; i++) {
            if (!g_ascii_isdigit(v[i]))
                return bad(400, "bad Content-Length", status, why);
            value = value * 10 + (guint64)(v[i] - '0');
        }
        if (*have_length && value != req->content_length)
            return bad(400, "two different Content-Lengths", status, why);
        *have_length = TRUE;
        req->content_length = value;
    } else if (span_caseeq(line, k, "Transfer-Encoding")) {
        return bad(501, "no Transfer-Encoding is taken: send Content-Length", status, why);
    } else if (span_caseeq(line, k, "Connection")) {
        *close = *close || list_has(v, vlen, "close");
        *keep = *keep || list_has(v, vlen, "keep-alive");
    } else if (span_caseeq(line, k, "Expect")) {
        if (!span_caseeq(v, vlen, "100-continue"))
            return bad(417, "only Expect: 100-continue", status, why);
        req->expect_continue = TRUE;
    } else if (span_caseeq(line, k, "Content-Type")) {
        const char *semi = memchr(v, ';', vlen);
        gsize tlen = semi ? (gsize)(semi - v) : vlen;
        while (tlen && (v[tlen - 1] == ' ' || v[tlen - 1] == '\t'))
            tlen--;
        req->form = span_caseeq(v, tlen, "application/x-www-form-urlencoded");
    } else if (span_caseeq(line, k, "Host")) {
        *have_host = TRUE;
    }
    return CW_SMS_HTTP_COMPLETE;
}

CwSmsHttpParse
cw_sms_http_parse(const char *buf, gsize len, gsize from, CwSmsHttpRequest *req, guint *status,
                  const char **why)
{
    g_return_val_if_fail(buf != NULL || len == 0, CW_SMS_HTTP_INCOMPLETE);
    g_return_val_if_fail(req != NULL && status != NULL && why != NULL, CW_SMS_HTTP_INCOMPLETE);
    memset(req, 0, sizeof *req);
    *status = 0;
    *why = NULL;
    if (len == 0)
        return CW_SMS_HTTP_INCOMPLETE;
    /* empty lines before a request line are ignored (RFC 9112, 2.2) */
    gsize start = 0;
    while (start < len && start < 8 && (buf[start] == '\r' || buf[start] == '\n'))
        start++;
    gsize end = head_end(buf, len, start, from);
    /* bounded scan: a line longer than that is refused anyway */
    const char *first_nl =
        memchr(buf + start, '\n', MIN((end ? end : len) - start, CW_SMS_HTTP_LINE_MAX + 1));
    gsize line_len = first_nl ? (gsize)(first_nl - buf) - start : len - start;
    if (line_len > CW_SMS_HTTP_LINE_MAX)
        return bad(414, "request line too long", status, why);
    if (!end) {
        if (len - start > CW_SMS_HTTP_HEAD_MAX ||
            (first_nl && len - (gsize)(first_nl - buf) > CW_SMS_HTTP_HEADERS_MAX))
            return bad(431, "request headers too large", status, why);
        return CW_SMS_HTTP_INCOMPLETE;
    }
    if (end - (gsize)(first_nl - buf) > CW_SMS_HTTP_HEADERS_MAX + 4)
        return bad(431, "request headers too large", status, why);

    gsize pos = start;
    const char *line;
    gsize n;
    if (!next_line(buf, end, &pos, &line, &n))
        return bad(400, "control character in the request line", status, why);
    if (n == 0) /* a head of blank lines only */
        return bad(400, "bad request line (METHOD TARGET HTTP/1.1)", status, why);
    CwSmsHttpParse r = parse_request_line(line, n, req, status, why);
    if (r != CW_SMS_HTTP_COMPLETE)
        return r;
    gboolean have_length = FALSE, have_host = FALSE, close = FALSE, keep = FALSE;
    guint headers = 0;
    for (;;) {
        if (!next_line(buf, end, &pos, &line, &n))
            return bad(400, "control character in a header line", status, why);
        if (n == 0)
            break; /* the blank line */
        if (++headers > CW_SMS_HTTP_HEADERS_N)
            return bad(431, "too many header lines", status, why);
        r = parse_header(line, n, req, &have_length, &have_host, &close, &keep, status, why);
        if (r != CW_SMS_HTTP_COMPLETE)
            return r;
    }
    if (req->minor == 1 && !have_host)
        return bad(400, "HTTP/1.1 request without Host", status, why);
    req->keep_alive = req->minor == 1 ? !close : keep && !close;
    req->head_len = end;
    return CW_SMS_HTTP_COMPLETE;
}

CwSmsHttpParse
cw_sms_http_parse_response(const char *buf, gsize len, gsize from, CwSmsHttpResponse *resp,
                           const char **why)
{
    g_return_val_if_fail(buf != NULL || len == 0, CW_SMS_HTTP_INCOMPLETE);
    g_return_val_if_fail(resp != NULL && why != NULL, CW_SMS_HTTP_INCOMPLETE);
    memset(resp, 0, sizeof *resp);
    *why = NULL;
    if (len == 0)
        return CW_SMS_HTTP_INCOMPLETE;
    guint status;
    gsize end = head_end(buf, len, 0, from);
    if (!end) {
        if (len > CW_SMS_HTTP_HEAD_MAX)
            return bad(0, "answer head too large", &status, why);
        return CW_SMS_HTTP_INCOMPLETE;
    }
    if (end > CW_SMS_HTTP_HEAD_MAX)
        return bad(0, "answer head too large", &status, why);
    gsize pos = 0;
    const char *line;
    gsize n;
    if (!next_line(buf, end, &pos, &line, &n) || n < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
        (line[7] != '0' && line[7] != '1') || line[8] != ' ' || !g_ascii_isdigit(line[9]) ||
        !g_ascii_isdigit(line[10]) || !g_ascii_isdigit(line[11]) || (n > 12 && line[12] != ' ') ||
        line[9] == '0')
        return bad(0, "not an HTTP/1.x status line", &status, why);
    resp->minor = (guint)(line[7] - '0');
    resp->status = (guint)((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    resp->reason_at = n > 13 ? (gsize)(line - buf) + 13 : 0;
    resp->reason_len = n > 13 ? n - 13 : 0;
    gboolean close = FALSE, keep = FALSE;
    guint headers = 0;
    for (;;) {
        if (!next_line(buf, end, &pos, &line, &n))
            return bad(0, "control character in a header line", &status, why);
        if (n == 0)
            break;
        if (++headers > CW_SMS_HTTP_HEADERS_N)
            return bad(0, "too many header lines", &status, why);
        if (line[0] == ' ' || line[0] == '\t')
            return bad(0, "folded header line", &status, why);
        gsize k = 0;
        while (k < n && is_tchar((guchar)line[k]))
            k++;
        if (k == 0 || k == n || line[k] != ':')
            return bad(0, "bad header line (NAME: VALUE)", &status, why);
        const char *v = line + k + 1;
        gsize vlen = n - k - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (span_caseeq(line, k, "Content-Length")) {
            if (vlen == 0 || vlen > 10)
                return bad(0, "bad Content-Length", &status, why);
            guint64 value = 0;
            for (gsize i = 0; i < vlen; i++) {
                if (!g_ascii_isdigit(v[i]))
                    return bad(0, "bad Content-Length", &status, why);
                value = value * 10 + (guint64)(v[i] - '0');
            }
            if (resp->has_length && value != resp->content_length)
                return bad(0, "two different Content-Lengths", &status, why);
            resp->has_length = TRUE;
            resp->content_length = value;
        } else if (span_caseeq(line, k, "Transfer-Encoding")) {
            resp->chunked = resp->chunked || !span_caseeq(v, vlen, "identity");
        } else if (span_caseeq(line, k, "Connection")) {
            close = close || list_has(v, vlen, "close");
            keep = keep || list_has(v, vlen, "keep-alive");
        }
    }
    resp->keep_alive = (resp->minor == 1 ? !close : keep && !close) && !resp->chunked &&
                       resp->has_length;
    resp->head_len = end;
    return CW_SMS_HTTP_COMPLETE;
}

const char *
cw_sms_http_reason(guint status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
