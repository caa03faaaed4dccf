/* test-sms-kannel.c — the sendsms client against an in-process libsoup server
 * playing Kannel on 127.0.0.1. */
#include <libsoup/soup.h>
#include <string.h>

#include "sms/sms-callback.h"
#include "sms/sms-kannel.h"
#include "sms/sms-text.h"

/* ---- the fake Kannel ---------------------------------------------------- */

typedef struct {
    SoupServer *server;
    char *url; /* http://127.0.0.1:PORT/cgi-bin/sendsms */
    guint status;
    char *body;
    gboolean pause;
    GPtrArray *paused;   /* SoupServerMessage * (not owned) */
    GPtrArray *queries;  /* char *: the raw query of each request */
    GHashTable *clients; /* remote port -> 1: one per connection */
    guint max_paused;
} FakeKannel;

static void
forget_paused(SoupServerMessage *msg, gpointer user_data)
{
    FakeKannel *f = user_data;
    g_ptr_array_remove(f->paused, msg);
}

static void
fake_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
             gpointer user_data)
{
    FakeKannel *f = user_data;
    const char *raw = g_uri_get_query(soup_server_message_get_uri(msg));
    g_ptr_array_add(f->queries, g_strdup(raw ? raw : ""));
    GSocketAddress *remote = soup_server_message_get_remote_address(msg);
    guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote));
    g_hash_table_add(f->clients, GUINT_TO_POINTER(port));
    soup_server_message_set_status(msg, f->status, NULL);
    soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_COPY, f->body, strlen(f->body));
    if (f->pause) {
        g_ptr_array_add(f->paused, msg);
        f->max_paused = MAX(f->max_paused, f->paused->len);
        g_signal_connect(msg, "finished", G_CALLBACK(forget_paused), f);
        g_signal_connect(msg, "disconnected", G_CALLBACK(forget_paused), f);
        soup_server_message_pause(msg);
    }
}

static void
fake_release(FakeKannel *f)
{
    f->pause = FALSE;
    while (f->paused->len) {
        SoupServerMessage *msg = g_ptr_array_steal_index(f->paused, 0);
        soup_server_message_unpause(msg);
    }
}

static FakeKannel *
fake_new(void)
{
    FakeKannel *f = g_new0(FakeKannel, 1);
    f->server = soup_server_new(NULL, NULL);
    f->status = 202;
    f->body = g_strdup("0: Accepted for delivery");
    f->paused = g_ptr_array_new();
    f->queries = g_ptr_array_new_with_free_func(g_free);
    f->clients = g_hash_table_new(NULL, NULL);
    soup_server_add_handler(f->server, NULL, fake_handler, f, NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(soup_server_listen_local(f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
    g_assert_no_error(error);
    GSList *uris = soup_server_get_uris(f->server);
    f->url = g_strdup_printf("http://127.0.0.1:%d/cgi-bin/sendsms", g_uri_get_port(uris->data));
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    return f;
}

static void
spin(guint ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
}

static void
fake_free(FakeKannel *f)
{
    fake_release(f);
    spin(50);
    soup_server_disconnect(f->server);
    g_object_unref(f->server);
    g_ptr_array_unref(f->paused);
    g_ptr_array_unref(f->queries);
    g_hash_table_unref(f->clients);
    g_free(f->url);
    g_free(f->body);
    g_free(f);
}

static void
fake_answer(FakeKannel *f, guint status, const char *body)
{
    f->status = status;
    g_free(f->body);
    f->body = g_strdup(body);
}

/* ---- the client's results ------------------------------------------------ */

typedef struct {
    guint calls;
    CwSmsSubmitResult result;
    guint status;
    char *text;
} Outcome;

static void
on_done(CwSmsSubmitResult result, guint status, const char *text, gpointer data)
{
    Outcome *o = data;
    o->calls++;
    o->result = result;
    o->status = status;
    g_free(o->text);
    o->text = g_strdup(text);
}

static void
outcome_clear(Outcome *o)
{
    g_clear_pointer(&o->text, g_free);
}

/* Run the main loop until *counter reaches n, at most timeout_ms. */
static gboolean
wait_for(guint *counter, guint n, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (*counter < n && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    return *counter >= n;
}

static CwSmsKannel *
client(const char *url, guint max_in_flight, guint timeout_s)
{
    CwSmsKannelConfig cfg = {
        .sendsms_url = url,
        .username = "causeway",
        .password = "s3cr&t=x",
        .smsc = NULL,
        .max_in_flight = max_in_flight,
        .timeout_s = timeout_s,
        .dlr_mask = 31,
    };
    g_autoptr(GError) error = NULL;
    CwSmsKannel *k = cw_sms_kannel_new(&cfg, &error);
    g_assert_no_error(error);
    g_assert_nonnull(k);
    return k;
}

static const CwSmsSubmit plain = {
    .from = "4711",
    .to = "+4915112345678",
    .text = "Hi & bye 100% = ok?",
    .coding = CW_SMS_GSM7,
    .n_parts = 1,
    .dlr_url = "http://127.0.0.1:13100/dlr?token=T&m=42&p=0&type=%d",
};

/* Submit and wait for the one answer. */
static void
submit_wait(CwSmsKannel *k, const CwSmsSubmit *s, Outcome *o, guint timeout_ms)
{
    guint before = o->calls;
    cw_sms_kannel_submit(k, s, on_done, o);
    g_assert_cmpuint(o->calls, ==, before); /* never from inside submit */
    g_assert_true(wait_for(&o->calls, before + 1, timeout_ms));
}

/* ---- tests ----------------------------------------------------------------- */

static void
test_new_bad_url(void)
{
    const char *bad[] = {"", "ftp://example.com/sendsms", "not a url", "http://", "/cgi-bin"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        CwSmsKannelConfig cfg = {.sendsms_url = bad[i], .max_in_flight = 1, .timeout_s = 1};
        g_autoptr(GError) error = NULL;
        g_assert_null(cw_sms_kannel_new(&cfg, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
    CwSmsKannelConfig none = {.max_in_flight = 1};
    g_autoptr(GError) error = NULL;
    g_assert_null(cw_sms_kannel_new(&none, &error));
    g_assert_nonnull(error);
}

static void
test_url(void)
{
    g_autoptr(CwSmsKannel) k = client("http://127.0.0.1:13013/cgi-bin/sendsms", 1, 5);
    g_autofree char *url = cw_sms_kannel_url(k, &plain);
    g_assert_cmpstr(url, ==,
                    "http://127.0.0.1:13013/cgi-bin/sendsms?username=causeway"
                    "&password=s3cr%26t%3Dx&from=4711&to=%2B4915112345678"
                    "&text=Hi%20%26%20bye%20100%25%20%3D%20ok%3F&coding=0&dlr-mask=31"
                    "&dlr-url=http%3A%2F%2F127.0.0.1%3A13100%2Fdlr%3Ftoken%3DT%26m%3D42%26p%3D0"
                    "%26type%3D%25d");

    /* a URL with a query of its own, an smsc, UCS-2 parts */
    CwSmsKannelConfig cfg = {.sendsms_url = "https://kannel.example/send?x=1",
                             .username = "u",
                             .password = "p",
                             .smsc = "fake",
                             .max_in_flight = 1,
                             .timeout_s = 1,
                             .dlr_mask = 3};
    g_autoptr(CwSmsKannel) k2 = cw_sms_kannel_new(&cfg, NULL);
    CwSmsSubmit s = {.to = "+1",
                     .text = "串🙂",
                     .coding = CW_SMS_UCS2,
                     .ref = 0xAB,
                     .part = 1,
                     .n_parts = 3,
                     .dlr_url = "http://h/dlr"};
    g_autofree char *url2 = cw_sms_kannel_url(k2, &s);
    g_assert_cmpstr(url2, ==,
                    "https://kannel.example/send?x=1&username=u&password=p&to=%2B1"
                    "&text=%E4%B8%B2%F0%9F%99%82&coding=2&charset=UTF-8"
                    "&udh=%05%00%03%AB%03%02&smsc=fake&dlr-mask=3&dlr-url=http%3A%2F%2Fh%2Fdlr");
}

static void
test_ok_exact_query(void)
{
    FakeKannel *f = fake_new();
    CwSmsKannel *k = client(f->url, 2, 5);
    Outcome o = {0};
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_OK);
    g_assert_cmpuint(o.status, ==, 202);
    g_assert_cmpstr(o.text, ==, "0: Accepted for delivery");
    g_assert_cmpuint(f->queries->len, ==, 1);
    g_autofree char *url = cw_sms_kannel_url(k, &plain);
    g_assert_cmpstr(f->queries->pdata[0], ==, strchr(url, '?') + 1);
    g_assert_cmpuint(cw_sms_kannel_in_flight(k), ==, 0);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static const guint8 *
param(GHashTable *p, const char *key, gsize *len)
{
    GBytes *b = g_hash_table_lookup(p, key);
    g_assert_nonnull(b);
    return g_bytes_get_data(b, len);
}

static void
test_ucs2_multipart(void)
{
    FakeKannel *f = fake_new();
    CwSmsKannel *k = client(f->url, 1, 5);
    GString *text = g_string_new(NULL);
    for (int i = 0; i < 80; i++) /* 100 UTF-16 units: 2 parts */
        g_string_append(text, i % 4 == 3 ? "🙂" : "串");
    CwSmsCoding coding;
    g_auto(GStrv) parts = cw_sms_split(text->str, &coding);
    g_assert_cmpint(coding, ==, CW_SMS_UCS2);
    guint n = g_strv_length(parts);
    g_assert_cmpuint(n, ==, 2);
    Outcome o = {0};
    for (guint i = 0; i < n; i++) {
        CwSmsSubmit s = {.from = "4711",
                         .to = "+4915112345678",
                         .text = parts[i],
                         .coding = coding,
                         .ref = 0x2A,
                         .part = i,
                         .n_parts = n,
                         .dlr_url = "http://127.0.0.1:1/dlr"};
        submit_wait(k, &s, &o, 5000);
        g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_OK);
    }
    GString *joined = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GHashTable) p = cw_sms_query_parse(f->queries->pdata[i], -1, &error);
        g_assert_no_error(error);
        gsize len;
        const guint8 *udh = param(p, "udh", &len);
        const guint8 want[] = {0x05, 0x00, 0x03, 0x2A, (guint8)n, (guint8)(i + 1)};
        g_assert_cmpmem(udh, len, want, sizeof want);
        const guint8 *v = param(p, "coding", &len);
        g_assert_cmpmem(v, len, "2", 1);
        v = param(p, "charset", &len);
        g_assert_cmpmem(v, len, "UTF-8", 5);
        v = param(p, "text", &len);
        g_assert_cmpmem(v, len, parts[i], strlen(parts[i]));
        g_string_append_len(joined, (const char *)v, (gssize)len);
    }
    g_assert_cmpstr(joined->str, ==, text->str);
    g_string_free(joined, TRUE);
    g_string_free(text, TRUE);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static void
test_results(void)
{
    FakeKannel *f = fake_new();
    CwSmsKannel *k = client(f->url, 1, 5);
    Outcome o = {0};

    fake_answer(f, 202, "3: Queued for later delivery");
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_OK);
    g_assert_cmpstr(o.text, ==, "3: Queued for later delivery");

    fake_answer(f, 403, "Authorization failed");
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_PERMANENT);
    g_assert_cmpuint(o.status, ==, 403);
    g_assert_cmpstr(o.text, ==, "Authorization failed");

    fake_answer(f, 400, "Missing receiver number\nmore");
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_PERMANENT);
    g_assert_cmpstr(o.text, ==, "Missing receiver number");

    fake_answer(f, 503, "Sending failed");
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_TEMPORARY);
    g_assert_cmpuint(o.status, ==, 503);
    g_assert_cmpstr(o.text, ==, "Sending failed");

    fake_answer(f, 500, "");
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_TEMPORARY);
    g_assert_cmpstr(o.text, ==, "Internal Server Error");

    /* long and invalid bodies: one line of at most 200 bytes, valid UTF-8 */
    GString *longbody = g_string_new("\xff");
    for (int i = 0; i < 300; i++)
        g_string_append(longbody, "é");
    fake_answer(f, 500, longbody->str);
    g_string_free(longbody, TRUE);
    submit_wait(k, &plain, &o, 5000);
    g_assert_true(g_utf8_validate(o.text, -1, NULL));
    g_assert_cmpuint(strlen(o.text), <=, 200 + 2); /* the \xff becomes U+FFFD (3 bytes) */
    g_assert_true(g_str_has_suffix(o.text, "é"));

    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static void
test_refused(void)
{
    /* a port nobody listens on */
    g_autoptr(GSocket) s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(s, any, FALSE, NULL));
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, NULL);
    guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_socket_close(s, NULL);

    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/cgi-bin/sendsms", port);
    CwSmsKannel *k = client(url, 1, 5);
    Outcome o = {0};
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_TEMPORARY);
    g_assert_cmpuint(o.status, ==, 0);
    g_assert_nonnull(o.text);
    g_assert_null(strstr(o.text, "s3cr"));
    g_test_message("refused: %s", o.text);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
}

static void
test_timeout(void)
{
    FakeKannel *f = fake_new();
    f->pause = TRUE;
    CwSmsKannel *k = client(f->url, 1, 1);
    Outcome o = {0};
    gint64 t0 = g_get_monotonic_time();
    submit_wait(k, &plain, &o, 5000);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_TEMPORARY);
    g_assert_cmpuint(o.status, ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, G_USEC_PER_SEC * 9 / 10);
    g_test_message("timeout: %s", o.text);
    g_assert_cmpuint(cw_sms_kannel_in_flight(k), ==, 0);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static void
test_in_flight_bound(void)
{
    FakeKannel *f = fake_new();
    f->pause = TRUE;
    CwSmsKannel *k = client(f->url, 2, 10);
    Outcome o = {0};
    g_assert_true(cw_sms_kannel_can_submit(k));
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    g_assert_true(cw_sms_kannel_can_submit(k));
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    g_assert_false(cw_sms_kannel_can_submit(k));
    g_assert_cmpuint(cw_sms_kannel_in_flight(k), ==, 2);
    /* a caller that submits anyway: the extra requests wait in the session */
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    g_assert_true(wait_for(&f->paused->len, 2, 5000));
    spin(300);
    g_assert_cmpuint(f->paused->len, ==, 2);
    g_assert_cmpuint(o.calls, ==, 0);
    /* answer them one round at a time */
    while (o.calls < 4) {
        g_assert_true(wait_for(&f->paused->len, MIN(2, 4 - o.calls), 5000));
        guint before = o.calls;
        fake_release(f);
        f->pause = TRUE;
        g_assert_true(wait_for(&o.calls, before + 1, 5000));
        spin(50);
    }
    g_assert_cmpuint(f->max_paused, ==, 2);
    g_assert_cmpuint(f->queries->len, ==, 4);
    g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_OK);
    g_assert_true(cw_sms_kannel_can_submit(k));
    g_assert_cmpuint(g_hash_table_size(f->clients), <=, 2);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static void
test_keep_alive(void)
{
    FakeKannel *f = fake_new();
    CwSmsKannel *k = client(f->url, 4, 5);
    Outcome o = {0};
    for (int i = 0; i < 6; i++) {
        submit_wait(k, &plain, &o, 5000);
        g_assert_cmpint(o.result, ==, CW_SMS_SUBMIT_OK);
    }
    g_assert_cmpuint(f->queries->len, ==, 6);
    g_assert_cmpuint(g_hash_table_size(f->clients), ==, 1);
    cw_sms_kannel_free(k);
    outcome_clear(&o);
    fake_free(f);
}

static void
test_free_pending(void)
{
    FakeKannel *f = fake_new();
    f->pause = TRUE;
    CwSmsKannel *k = client(f->url, 2, 5);
    Outcome o = {0};
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    cw_sms_kannel_submit(k, &plain, on_done, &o);
    g_assert_true(wait_for(&f->paused->len, 2, 5000));
    cw_sms_kannel_submit(k, &plain, on_done, &o); /* not yet sent */
    cw_sms_kannel_free(k);
    spin(300);
    fake_release(f);
    spin(300);
    g_assert_cmpuint(o.calls, ==, 0);
    fake_free(f);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms/kannel/new-bad-url", test_new_bad_url);
    g_test_add_func("/sms/kannel/url", test_url);
    g_test_add_func("/sms/kannel/ok-exact-query", test_ok_exact_query);
    g_test_add_func("/sms/kannel/ucs2-multipart", test_ucs2_multipart);
    g_test_add_func("/sms/kannel/results", test_results);
    g_test_add_func("/sms/kannel/refused", test_refused);
    g_test_add_func("/sms/kannel/timeout", test_timeout);
    g_test_add_func("/sms/kannel/in-flight-bound", test_in_flight_bound);
    g_test_add_func("/sms/kannel/keep-alive", test_keep_alive);
    g_test_add_func("/sms/kannel/free-pending", test_free_pending);
    return g_test_run();
}
