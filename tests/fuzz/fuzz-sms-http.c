/* fuzz-sms-http.c — libFuzzer harness for transports/sms/sms-http.c, the head
 * parser of the callback listener (requests) and of the sendsms client
 * (answers).
 *
 * The input's first byte picks the parser (even: request, odd: answer) and
 * where to cut the rest in two; the rest is the bytes as they arrived.
 * Properties: the parse of the whole agrees with a parse of the first piece
 * followed by one of the whole that resumes where the first stopped (the
 * listener's way); a complete head lies inside the input and ends in a
 * blank line; a request's path starts with '/', path and query lie inside
 * the request line and hold no space, CR, LF or NUL; a refused request has
 * one of the statuses the header names and a reason; an answer's status is
 * 100-999 and its reason phrase lies inside its status line; the limits of
 * sms-http.h hold. Then the complete request goes through the callback
 * parse as the listener would (the query, or the body of a POST).
 */
#include "fuzz-common.h"

#include "sms/sms-callback.h"
#include "sms/sms-http.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

static gboolean
clean(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return FALSE;
    return TRUE;
}

static gboolean
inside(const char *buf, gsize len, const char *p, gsize n)
{
    return p >= buf && p + n <= buf + len;
}

static void
check_request(const char *buf, gsize len, gsize cut)
{
    CwSmsHttpRequest req, req2;
    guint status, status2;
    const char *why, *why2;
    CwSmsHttpParse r = cw_sms_http_parse(buf, len, 0, &req, &status, &why);
    /* in two pieces, the second parse resuming after the first */
    CwSmsHttpParse r1 = cw_sms_http_parse(buf, cut, 0, &req2, &status2, &why2);
    if (r1 == CW_SMS_HTTP_INCOMPLETE) {
        CwSmsHttpParse r2 = cw_sms_http_parse(buf, len, cut, &req2, &status2, &why2);
        CW_FUZZ_CHECK(r2 == r);
        if (r == CW_SMS_HTTP_COMPLETE)
            CW_FUZZ_CHECK(req2.head_len == req.head_len && req2.path == req.path);
        if (r == CW_SMS_HTTP_BAD)
            CW_FUZZ_CHECK(status2 == status);
    } else if (r1 == CW_SMS_HTTP_COMPLETE) {
        /* a complete head in the first piece is the same head in the whole */
        CW_FUZZ_CHECK(r == CW_SMS_HTTP_COMPLETE && req.head_len == req2.head_len);
    }
    if (r == CW_SMS_HTTP_INCOMPLETE) {
        CW_FUZZ_CHECK(len <= CW_SMS_HTTP_HEAD_MAX + 8);
        return;
    }
    if (r == CW_SMS_HTTP_BAD) {
        CW_FUZZ_CHECK(why != NULL && g_utf8_validate(why, -1, NULL));
        CW_FUZZ_CHECK(status == 400 || status == 414 || status == 417 || status == 431 ||
                      status == 501 || status == 505);
        return;
    }
    CW_FUZZ_CHECK(req.head_len >= 4 && req.head_len <= len);
    CW_FUZZ_CHECK(buf[req.head_len - 1] == '\n');
    CW_FUZZ_CHECK(req.head_len <= CW_SMS_HTTP_HEAD_MAX + 8);
    CW_FUZZ_CHECK(req.minor <= 1);
    CW_FUZZ_CHECK(req.path_len >= 1 && req.path[0] == '/');
    CW_FUZZ_CHECK(inside(buf, req.head_len, req.path, req.path_len));
    CW_FUZZ_CHECK(clean(req.path, req.path_len));
    CW_FUZZ_CHECK(req.path_len <= CW_SMS_HTTP_LINE_MAX);
    if (req.query) {
        CW_FUZZ_CHECK(req.query == req.path + req.path_len + 1 && req.query[-1] == '?');
        CW_FUZZ_CHECK(inside(buf, req.head_len, req.query, req.query_len));
        CW_FUZZ_CHECK(clean(req.query, req.query_len));
    } else {
        CW_FUZZ_CHECK(req.query_len == 0);
    }
    /* the listener's next step */
    const char *raw = req.query ? req.query : "";
    gsize rlen = req.query_len;
    if (req.method == CW_SMS_HTTP_POST && req.content_length <= len - req.head_len) {
        raw = buf + req.head_len;
        rlen = (gsize)req.content_length;
    }
    GError *error = NULL;
    GHashTable *params = cw_sms_query_parse(raw, (gssize)rlen, &error);
    CW_FUZZ_CHECK((params == NULL) == (error != NULL));
    if (params) {
        CwSmsMo mo;
        CwSmsDlr dlr;
        GError *e = NULL;
        if (cw_sms_mo_parse(params, &mo, &e))
            cw_sms_mo_clear(&mo);
        g_clear_error(&e);
        if (cw_sms_dlr_parse(params, &dlr, &e))
            cw_sms_dlr_clear(&dlr);
        g_clear_error(&e);
        g_hash_table_unref(params);
    }
    g_clear_error(&error);
}

static void
check_response(const char *buf, gsize len, gsize cut)
{
    CwSmsHttpResponse resp, resp2;
    const char *why, *why2;
    CwSmsHttpParse r = cw_sms_http_parse_response(buf, len, 0, &resp, &why);
    if (cw_sms_http_parse_response(buf, cut, 0, &resp2, &why2) == CW_SMS_HTTP_INCOMPLETE)
        CW_FUZZ_CHECK(cw_sms_http_parse_response(buf, len, cut, &resp2, &why2) == r);
    if (r == CW_SMS_HTTP_INCOMPLETE) {
        CW_FUZZ_CHECK(len <= CW_SMS_HTTP_HEAD_MAX);
        return;
    }
    if (r == CW_SMS_HTTP_BAD) {
        CW_FUZZ_CHECK(why != NULL);
        return;
    }
    CW_FUZZ_CHECK(resp.head_len <= len && resp.head_len <= CW_SMS_HTTP_HEAD_MAX);
    CW_FUZZ_CHECK(resp.status >= 100 && resp.status <= 999);
    CW_FUZZ_CHECK(resp.minor <= 1);
    CW_FUZZ_CHECK(resp.reason_at + resp.reason_len <= resp.head_len);
    CW_FUZZ_CHECK(memchr(buf + resp.reason_at, '\n', resp.reason_len) == NULL);
    CW_FUZZ_CHECK(!resp.keep_alive || (resp.has_length && !resp.chunked));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *buf = (const char *)data + 1;
    gsize len = size - 1;
    gsize cut = len ? (gsize)(data[0] >> 1) * len / 128 : 0;
    if (data[0] & 1)
        check_response(buf, len, cut);
    else
        check_request(buf, len, cut);
    return 0;
}
