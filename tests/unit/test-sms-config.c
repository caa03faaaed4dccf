/* test-sms-config.c — the sms transport's keys: defaults, values, and one
 * line naming the key for each mistake. */
#include <string.h>

#include "sms/sms-config.h"

#define FILE_NAME "/etc/causeway/causeway.conf"
#define GROUP "transport:sms"
#define BASE                                                                                   \
    "[transport:sms]\n"                                                                       \
    "kannel_url = http://127.0.0.1:13013/cgi-bin/sendsms\n"                                   \
    "kannel_username = causeway\n"                                                            \
    "kannel_password = pw\n"                                                                  \
    "callback_token = 0123456789abcdef\n"                                                     \
    "numbers = +4930123450-+4930123459, +15551230000\n"

static CwSmsConfig *
read_text(const char *text, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
    return cw_sms_config_read(kf, FILE_NAME, GROUP, error);
}

static void
test_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsConfig) c = read_text(BASE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(c->ownership, ==, CW_SMS_OWNERSHIP_DEDICATED);
    g_assert_false(c->approval_admin);
    g_assert_cmpstr(c->callback_listen, ==, "127.0.0.1:13100");
    g_assert_cmpstr(c->callback_url, ==, "http://127.0.0.1:13100");
    g_assert_cmpint(c->reply_window_us, ==, (gint64)30 * 86400 * G_USEC_PER_SEC);
    g_assert_cmpuint(c->max_in_flight, ==, 8);
    g_assert_cmpuint(c->retry_min_ms, ==, 2000);
    g_assert_cmpuint(c->retry_max_ms, ==, 300000);
    g_assert_cmpuint(c->max_attempts, ==, 30);
    g_assert_cmpint(c->expire_after_us, ==, (gint64)2 * 86400 * G_USEC_PER_SEC);
    g_assert_cmpint(c->resend_unconfirmed_us, ==, (gint64)300 * G_USEC_PER_SEC);
    g_assert_cmpuint(c->max_parts, ==, 10);
    g_assert_cmpuint(c->dlr_mask, ==, 1 | 2 | 8 | 16); /* auto, with resend_unconfirmed_after */
    g_assert_nonnull(strstr(c->stop_reply, "START"));
    g_assert_null(c->inbox);
    g_assert_null(c->default_country);
    g_assert_true(cw_sms_number_set_contains(c->numbers, "+4930123455"));
    g_assert_true(cw_sms_number_set_contains(c->numbers, "+15551230000"));
    g_assert_false(cw_sms_number_set_contains(c->numbers, "+4930123460"));
}

static void
test_values(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsConfig) c = read_text(
        BASE "ownership = shared\napproval = admin\nreply_window = 7d\ninbox = office@example.org\n"
             "default_country = DE\ncallback_url = https://gw.example.org/sms/\nretry_min = 500ms\n",
        &error);
    /* "500ms" is not a duration this reader knows */
    g_assert_null(c);
    g_assert_nonnull(strstr(error->message, "retry_min"));
    g_clear_error(&error);
    g_autoptr(CwSmsConfig) d = read_text(
        BASE "ownership = shared\napproval = admin\nreply_window = 7d\ninbox = office@example.org\n"
             "default_country = DE\ncallback_url = https://gw.example.org/sms/\nretry_min = 0.5\n"
             "stop_reply =\n",
        &error);
    g_assert_no_error(error);
    g_assert_cmpint(d->ownership, ==, CW_SMS_OWNERSHIP_SHARED);
    g_assert_true(d->approval_admin);
    g_assert_cmpint(d->reply_window_us, ==, (gint64)7 * 86400 * G_USEC_PER_SEC);
    g_assert_cmpstr(d->inbox, ==, "office@example.org");
    g_assert_cmpstr(d->callback_url, ==, "https://gw.example.org/sms"); /* no trailing '/' */
    g_assert_cmpuint(d->retry_min_ms, ==, 500);
    g_assert_cmpstr(d->stop_reply, ==, ""); /* present and empty: no answer */
    g_autofree char *n = cw_sms_config_number(d, "030 1234567");
    g_assert_cmpstr(n, ==, "+49301234567");
}

static void
test_dlr_mask(void)
{
    static const struct {
        const char *text;
        guint mask;
    } cases[] = {
        { BASE "resend_unconfirmed_after = 0\n", 1 | 2 | 16 },  /* auto: nobody needs 8 */
        { BASE "dlr_mask = auto\n", 1 | 2 | 8 | 16 },
        { BASE "dlr_mask = 31\n", 31 },
        { BASE "dlr_mask = 1+2+8+16\n", 27 },
        { BASE "dlr_mask = 1|2|16\nresend_unconfirmed_after = 0\n", 19 },
        { BASE "dlr_mask = 1, 2, 16, 8\n", 27 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CwSmsConfig) c = read_text(cases[i].text, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(c->dlr_mask, ==, cases[i].mask);
    }
}

static void
test_errors(void)
{
    static const struct {
        const char *text, *key;
    } cases[] = {
        { "[transport:sms]\n", "kannel_url" },
        { BASE "kannel_url = ftp://k/cgi-bin/sendsms\n", "kannel_url" },
        { BASE "kannel_url = not a url\n", "kannel_url" },
        { BASE "callback_token = short\n", "callback_token" },
        { BASE "callback_token = 0123456789abcdef&x=1\n", "callback_token" },
        { BASE "numbers = 030123\n", "numbers" },
        { BASE "numbers = +4930123459-+4930123450\n", "numbers" },
        { BASE "ownership = mine\n", "ownership" },
        { BASE "approval = maybe\n", "approval" },
        { BASE "inbox = not a jid\n", "inbox" },
        { BASE "inbox = a@b/c\n", "inbox" },
        { BASE "default_country = XX\n", "default_country" },
        { BASE "callback_listen = 13100\n", "callback_listen" },
        { BASE "callback_listen = 127.0.0.1:99999\n", "callback_listen" },
        { BASE "max_in_flight = 0\n", "max_in_flight" },
        { BASE "retry_min = 10\nretry_max = 5\n", "retry_max" },
        { BASE "expire_after = 1\n", "expire_after" },
        { BASE "max_parts = 300\n", "max_parts" },
        { BASE "dlr_mask = 0\n", "dlr_mask" },
        { BASE "dlr_mask = 32\n", "dlr_mask" },
        { BASE "dlr_mask = lots\n", "dlr_mask" },
        { BASE "dlr_mask = 1+16\n", "dlr_mask" },      /* no 2: failures only by expiry */
        { BASE "dlr_mask = 1+2+16\n", "dlr_mask" },    /* resend_unconfirmed_after needs 8 */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CwSmsConfig) c = read_text(cases[i].text, &error);
        if (c)
            g_error("accepted: %s", cases[i].text);
        g_autofree char *want = g_strdup_printf("[" GROUP "] %s:", cases[i].key);
        if (!strstr(error->message, want))
            g_error("error for %s does not name it: %s", cases[i].key, error->message);
        g_assert_null(strchr(error->message, '\n')); /* one line */
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms-config/defaults", test_defaults);
    g_test_add_func("/sms-config/values", test_values);
    g_test_add_func("/sms-config/errors", test_errors);
    g_test_add_func("/sms-config/dlr-mask", test_dlr_mask);
    return g_test_run();
}
