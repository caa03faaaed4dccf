/* sms-kannel.c — Kannel's sendsms as an HTTP client (libsoup 3; see sms-kannel.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-kannel.h"

#include <libsoup/soup.h>
#include <string.h>

#include "sms-http-client.h"
#include "sms-text.h"

/* Kannel's answer is one short line ("0: Accepted for delivery"); anything
 * longer is cut here before it reaches a log line or an XMPP error. */
#define KANNEL_TEXT_MAX 200

typedef struct KannelRequest KannelRequest;

struct CwSmsKannel {
    char *sendsms_url, *username, *password, *smsc;
    guint max_in_flight, timeout_s, dlr_mask;
    SoupSession *session; /* https:// */
    CwSmsHttpClient *http; /* http://: our own client */
    gsize target_at;       /* where the path starts in a sendsms URL (http://) */
    GHashTable *pending; /* KannelRequest * (owned by its async operation) */
};

/* One submit. It lives until its async operation (or idle) completes, which
 * can be after cw_sms_kannel_free(): then k is NULL and done is dropped. */
struct KannelRequest {
    CwSmsKannel *k;
    GCancellable *cancel;
    SoupMessage *msg;
    guint timer; /* the request's deadline */
    guint idle;  /* a result delivered without a request (bad URL) */
    gboolean timed_out;
    gboolean raw; /* on k->http */
    CwSmsSubmitDone done;
    gpointer data;
};

static void
request_free(KannelRequest *r)
{
    if (r->timer)
        g_source_remove(r->timer);
    if (r->idle)
        g_source_remove(r->idle);
    g_clear_object(&r->cancel);
    g_clear_object(&r->msg);
    g_free(r);
}

/* Detach r from its client and hand the result to its caller. */
static void
request_finish(KannelRequest *r, CwSmsSubmitResult result, guint status, const char *text)
{
    CwSmsKannel *k = r->k;
    if (k) {
        g_hash_table_remove(k->pending, r);
        r->k = NULL;
        r->done(result, status, text, r->data);
    }
    request_free(r);
}

static gboolean
is_http_url(const char *url)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    if (!uri)
        return FALSE;
    const char *scheme = g_uri_get_scheme(uri);
    const char *host = g_uri_get_host(uri);
    return (g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0) &&
           host && *host;
}

/* For a plain http:// URL with a path and without user info: our own client
 * to its host and port, and where its path starts. */
static void
plain_http_setup(CwSmsKannel *k)
{
    g_autoptr(GUri) uri = g_uri_parse(k->sendsms_url, G_URI_FLAGS_ENCODED, NULL);
    if (!uri || g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") != 0 || g_uri_get_userinfo(uri))
        return;
    const char *after = strstr(k->sendsms_url, "://") + 3;
    const char *path = strchr(after, '/');
    const char *qm = strpbrk(after, "?#");
    if (!path || (qm && qm < path))
        return; /* no path: libsoup builds the request */
    gint port = g_uri_get_port(uri);
    k->target_at = (gsize)(path - k->sendsms_url);
    k->http = cw_sms_http_client_new(g_uri_get_host(uri), port > 0 ? (guint16)port : 80,
                                     k->max_in_flight, k->timeout_s, 60);
}

CwSmsKannel *
cw_sms_kannel_new(const CwSmsKannelConfig *config, GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    g_return_val_if_fail(config->max_in_flight >= 1, NULL);
    if (!config->sendsms_url || !is_http_url(config->sendsms_url)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "Kannel sendsms URL '%s' is not an http:// or https:// URL",
                    config->sendsms_url ? config->sendsms_url : "");
        return NULL;
    }
    CwSmsKannel *k = g_new0(CwSmsKannel, 1);
    k->sendsms_url = g_strdup(config->sendsms_url);
    k->username = g_strdup(config->username ? config->username : "");
    k->password = g_strdup(config->password ? config->password : "");
    k->smsc = config->smsc && *config->smsc ? g_strdup(config->smsc) : NULL;
    k->max_in_flight = config->max_in_flight;
    k->timeout_s = config->timeout_s;
    k->dlr_mask = config->dlr_mask;
    /* One host: max-conns bounds the concurrent requests (libsoup does not
     * pipeline), and idle connections stay open for the next part. */
    k->session = soup_session_new_with_options(
        "max-conns", (int)k->max_in_flight, "max-conns-per-host", (int)k->max_in_flight, "timeout",
        k->timeout_s, "idle-timeout", 60u, "user-agent", "Causeway", NULL);
    /* straight to Kannel: a proxy from the environment would see the password */
    soup_session_set_proxy_resolver(k->session, NULL);
    k->pending = g_hash_table_new(NULL, NULL);
    plain_http_setup(k);
    return k;
}

void
cw_sms_kannel_free(CwSmsKannel *k)
{
    if (!k)
        return;
    /* Detach every pending request: its completion (cancelled) only frees
     * it. A request waiting for its idle can go right away. */
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, k->pending);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        KannelRequest *r = key;
        r->k = NULL;
        g_hash_table_iter_remove(&it);
        if (r->idle || r->raw) { /* a raw call's callback goes with the client */
            request_free(r);
            continue;
        }
        if (r->timer) {
            g_source_remove(r->timer);
            r->timer = 0;
        }
        g_cancellable_cancel(r->cancel);
    }
    g_hash_table_unref(k->pending);
    cw_sms_http_client_free(k->http); /* drops its calls' callbacks */
    soup_session_abort(k->session);
    g_object_unref(k->session);
    g_free(k->sendsms_url);
    g_free(k->username);
    if (k->password)
        memset(k->password, 0, strlen(k->password));
    g_free(k->password);
    g_free(k->smsc);
    g_free(k);
}

guint
cw_sms_kannel_in_flight(CwSmsKannel *k)
{
    g_return_val_if_fail(k != NULL, 0);
    return g_hash_table_size(k->pending);
}

gboolean
cw_sms_kannel_can_submit(CwSmsKannel *k)
{
    g_return_val_if_fail(k != NULL, FALSE);
    return g_hash_table_size(k->pending) < k->max_in_flight;
}

static void
append_param(GString *url, const char *key, const char *value)
{
    g_autofree char *escaped = g_uri_escape_string(value, NULL, FALSE);
    g_string_append_printf(url, "&%s=%s", key, escaped);
}

char *
cw_sms_kannel_url(CwSmsKannel *k, const CwSmsSubmit *s)
{
    g_return_val_if_fail(k != NULL && s != NULL, NULL);
    g_return_val_if_fail(s->to != NULL && s->text != NULL, NULL);
    g_return_val_if_fail(s->n_parts >= 1 && s->n_parts <= 255 && s->part < s->n_parts, NULL);
    GString *url = g_string_new(k->sendsms_url);
    /* the first append_param's '&' becomes the query's start */
    gsize start = url->len;
    append_param(url, "username", k->username);
    url->str[start] = strchr(k->sendsms_url, '?') ? '&' : '?';
    append_param(url, "password", k->password);
    if (s->from)
        append_param(url, "from", s->from);
    append_param(url, "to", s->to);
    append_param(url, "text", s->text);
    g_string_append_printf(url, "&coding=%d", s->coding);
    if (s->coding == CW_SMS_UCS2)
        g_string_append(url, "&charset=UTF-8");
    if (s->n_parts > 1)
        /* every byte as %XX: Kannel takes udh as raw bytes */
        g_string_append_printf(url, "&udh=%%05%%00%%03%%%02X%%%02X%%%02X", s->ref, s->n_parts,
                               s->part + 1);
    if (k->smsc)
        append_param(url, "smsc", k->smsc);
    if (s->dlr_url) {
        g_string_append_printf(url, "&dlr-mask=%u", k->dlr_mask);
        append_param(url, "dlr-url", s->dlr_url);
    }
    return g_string_free(url, FALSE);
}

/* The first line of Kannel's body, at most KANNEL_TEXT_MAX bytes (not
 * cutting a character), valid UTF-8; or the status' reason phrase. */
static char *
answer_text(GBytes *body, SoupMessage *msg)
{
    gsize len = 0;
    const char *p = body ? g_bytes_get_data(body, &len) : NULL;
    gsize n = 0;
    while (n < len && p[n] != '\n' && p[n] != '\r' && p[n] != '\0')
        n++;
    if (n > KANNEL_TEXT_MAX) {
        n = KANNEL_TEXT_MAX;
        while (n > 0 && ((guchar)p[n] & 0xC0) == 0x80)
            n--;
    }
    if (n == 0) {
        const char *reason = soup_message_get_reason_phrase(msg);
        if (reason && *reason)
            return g_utf8_make_valid(reason, -1);
        return g_strdup_printf("HTTP %u", soup_message_get_status(msg));
    }
    return g_utf8_make_valid(p, (gssize)n);
}

/* Kannel's text from a raw answer: its first line, bounded, valid UTF-8. */
static char *
raw_text(guint status, const char *reason, const char *body, gsize len)
{
    gsize n = 0;
    while (n < len && body[n] != '\n' && body[n] != '\r' && body[n] != '\0')
        n++;
    if (n > KANNEL_TEXT_MAX) {
        n = KANNEL_TEXT_MAX;
        while (n > 0 && ((guchar)body[n] & 0xC0) == 0x80)
            n--;
    }
    if (n == 0 && *reason)
        return g_utf8_make_valid(reason, (gssize)MIN(strlen(reason), KANNEL_TEXT_MAX));
    if (n == 0)
        return g_strdup_printf("HTTP %u", status);
    return g_utf8_make_valid(body, (gssize)n);
}

static CwSmsSubmitResult
result_of(guint status)
{
    if (SOUP_STATUS_IS_SUCCESSFUL(status))
        return CW_SMS_SUBMIT_OK;
    if (SOUP_STATUS_IS_SERVER_ERROR(status))
        return CW_SMS_SUBMIT_TEMPORARY;
    return CW_SMS_SUBMIT_PERMANENT; /* 4xx; and 1xx/3xx, which Kannel never sends: a wrong URL */
}

static void
on_raw_done(guint status, const char *reason, const char *body, gsize len, const char *error,
            gpointer data)
{
    KannelRequest *r = data;
    if (!r->k) {
        request_free(r);
        return;
    }
    if (status == 0) {
        g_autofree char *text = g_str_has_prefix(error, "no answer within")
                                    ? g_strdup_printf("no answer from Kannel within %u s",
                                                      r->k->timeout_s)
                                    : g_strdup(error);
        request_finish(r, CW_SMS_SUBMIT_TEMPORARY, 0, text);
        return;
    }
    g_autofree char *text = raw_text(status, reason, body, len);
    request_finish(r, result_of(status), status, text);
}

static void
on_sent(GObject *source, GAsyncResult *res, gpointer user_data)
{
    KannelRequest *r = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    if (!r->k) { /* the client is gone: nobody to tell */
        request_free(r);
        return;
    }
    if (r->timer) {
        g_source_remove(r->timer);
        r->timer = 0;
    }
    if (!body) {
        if (r->timed_out) {
            g_autofree char *text =
                g_strdup_printf("no answer from Kannel within %u s", r->k->timeout_s);
            request_finish(r, CW_SMS_SUBMIT_TEMPORARY, 0, text);
        } else {
            /* refused, reset, DNS, TLS, libsoup's own I/O timeout */
            request_finish(r, CW_SMS_SUBMIT_TEMPORARY, 0, error->message);
        }
        return;
    }
    guint status = soup_message_get_status(r->msg);
    g_autofree char *text = answer_text(body, r->msg);
    request_finish(r, result_of(status), status, text);
}

static gboolean
on_deadline(gpointer user_data)
{
    KannelRequest *r = user_data;
    r->timer = 0;
    r->timed_out = TRUE;
    g_cancellable_cancel(r->cancel);
    return G_SOURCE_REMOVE;
}

static gboolean
on_idle_fail(gpointer user_data)
{
    KannelRequest *r = user_data;
    r->idle = 0;
    request_finish(r, CW_SMS_SUBMIT_PERMANENT, 0, "cannot build the sendsms URL");
    return G_SOURCE_REMOVE;
}

void
cw_sms_kannel_submit(CwSmsKannel *k, const CwSmsSubmit *s, CwSmsSubmitDone done, gpointer data)
{
    g_return_if_fail(k != NULL && s != NULL && done != NULL);
    KannelRequest *r = g_new0(KannelRequest, 1);
    r->k = k;
    r->done = done;
    r->data = data;
    g_hash_table_add(k->pending, r);

    g_autofree char *url = cw_sms_kannel_url(k, s);
    if (url && k->http) {
        r->raw = TRUE;
        cw_sms_http_client_get(k->http, url + k->target_at, on_raw_done, r);
        memset(url, 0, strlen(url)); /* it holds the password */
        return;
    }
    r->msg = url ? soup_message_new(SOUP_METHOD_GET, url) : NULL;
    if (url)
        memset(url, 0, strlen(url)); /* it holds the password */
    if (!r->msg) {
        r->idle = g_idle_add(on_idle_fail, r);
        return;
    }
    /* a redirect would take the password elsewhere */
    soup_message_add_flags(r->msg, SOUP_MESSAGE_NO_REDIRECT);
    r->cancel = g_cancellable_new();
    if (k->timeout_s)
        r->timer = g_timeout_add(k->timeout_s * 1000, on_deadline, r);
    /* completes from the main loop, never from inside this call */
    soup_session_send_and_read_async(k->session, r->msg, G_PRIORITY_DEFAULT, r->cancel, on_sent, r);
}
