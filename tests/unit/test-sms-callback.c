/* test-sms-callback.c — Kannel's MO and DLR callbacks: query strings, token, parameters. */
#include <gio/gio.h>
#include <string.h>

#include "sms/sms-callback.h"

/* The value of key in params as bytes. */
static GBytes *
value_of(GHashTable *params, const char *key)
{
    GBytes *b = g_hash_table_lookup(params, key);
    g_assert_nonnull(b);
    return b;
}

static void
assert_value(GHashTable *params, const char *key, const char *want, gsize want_len)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(value_of(params, key), &len);
    g_assert_cmpmem(data, len, want, want_len);
}

static void
test_query_basic(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) p =
        cw_sms_query_parse("a=1&b=hello+world&c=%41%62%2B&d=&e&unknown=x&f=a=b", -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(p), ==, 7);
    assert_value(p, "a", "1", 1);
    assert_value(p, "b", "hello world", 11);
    assert_value(p, "c", "Ab+", 3);
    assert_value(p, "d", "", 0);
    assert_value(p, "e", "", 0);
    assert_value(p, "f", "a=b", 3);
}

static void
test_query_separators(void)
{
    g_autoptr(GError) error = NULL;
    /* ';' is not a separator; empty pieces carry nothing */
    g_autoptr(GHashTable) p = cw_sms_query_parse("&a=1;b=2&&c=%3B&", -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(p), ==, 2);
    assert_value(p, "a", "1;b=2", 5);
    assert_value(p, "c", ";", 1);
    /* an empty key is a key like another (found by fuzzing: "=pt") */
    g_autoptr(GHashTable) nokey = cw_sms_query_parse("=pt&a=1", -1, &error);
    g_assert_no_error(error);
    assert_value(nokey, "", "pt", 2);
    g_autoptr(GHashTable) nokey2 = cw_sms_query_parse("=1&=2", -1, &error);
    g_assert_null(nokey2);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_autoptr(GHashTable) empty = cw_sms_query_parse("", -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
    /* an escaped key, and the length bound instead of the NUL */
    g_autoptr(GHashTable) k = cw_sms_query_parse("%74ext=a&x=yyy", 10, &error);
    g_assert_no_error(error);
    assert_value(k, "text", "a", 1);
    assert_value(k, "x", "", 0);
}

static void
test_query_nul(void)
{
    /* %00 inside UTF-16BE text survives as a byte */
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) p = cw_sms_query_parse("text=%00H%00i&z=%00", -1, &error);
    g_assert_no_error(error);
    assert_value(p, "text", "\0H\0i", 4);
    assert_value(p, "z", "\0", 1);
    /* a NUL in a key cannot be a C string key */
    g_autoptr(GHashTable) bad = cw_sms_query_parse("te%00xt=1", -1, &error);
    g_assert_null(bad);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_query_errors(void)
{
    static const char *const bad[] = {
        "text=%4", "text=%",      "text=%zz", "text=%4g", "text=a%",   "%zz=1",
        "a=1&a=2", "a=1&b=2&a=1", "a&a",      "a=%G1",    "text=%%41",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GHashTable) p = cw_sms_query_parse(bad[i], -1, &error);
        if (p)
            g_error("accepted \"%s\"", bad[i]);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
    }
    /* the duplicate's name is in the message */
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) dup = cw_sms_query_parse("sender=1&sender=2", -1, &error);
    g_assert_null(dup);
    g_assert_nonnull(strstr(error->message, "sender"));
    /* an escape cut by the length is bad too */
    g_clear_error(&error);
    g_autoptr(GHashTable) cut = cw_sms_query_parse("a=%41", 4, &error);
    g_assert_null(cut);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_query_length(void)
{
    g_autofree char *q = g_malloc(CW_SMS_CALLBACK_MAX + 2);
    memcpy(q, "text=", 5);
    memset(q + 5, 'a', CW_SMS_CALLBACK_MAX - 5);
    q[CW_SMS_CALLBACK_MAX] = '\0';
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) max = cw_sms_query_parse(q, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_bytes_get_size(value_of(max, "text")), ==, CW_SMS_CALLBACK_MAX - 5);
    q[CW_SMS_CALLBACK_MAX] = 'a';
    q[CW_SMS_CALLBACK_MAX + 1] = '\0';
    g_autoptr(GHashTable) over = cw_sms_query_parse(q, -1, &error);
    g_assert_null(over);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_autoptr(GHashTable) over_len = cw_sms_query_parse(q, CW_SMS_CALLBACK_MAX + 1, &error);
    g_assert_null(over_len);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static GHashTable *
parse_ok(const char *query)
{
    g_autoptr(GError) error = NULL;
    GHashTable *p = cw_sms_query_parse(query, -1, &error);
    g_assert_no_error(error);
    return p;
}

static void
test_token(void)
{
    g_autoptr(GHashTable) right = parse_ok("token=s3cret&m=1");
    g_assert_true(cw_sms_query_token_ok(right, "s3cret"));
    g_assert_false(cw_sms_query_token_ok(right, "s3creT"));
    g_assert_false(cw_sms_query_token_ok(right, "s3cre"));
    g_assert_false(cw_sms_query_token_ok(right, "s3crets"));
    g_assert_false(cw_sms_query_token_ok(right, ""));
    g_autoptr(GHashTable) absent = parse_ok("m=1");
    g_assert_false(cw_sms_query_token_ok(absent, "s3cret"));
    g_autoptr(GHashTable) empty = parse_ok("token=&m=1");
    g_assert_false(cw_sms_query_token_ok(empty, "s3cret"));
    g_assert_false(cw_sms_query_token_ok(empty, ""));
    g_autoptr(GHashTable) nul = parse_ok("token=s3cret%00x");
    g_assert_false(cw_sms_query_token_ok(nul, "s3cret"));
    g_autoptr(GHashTable) escaped = parse_ok("token=a%2Bb+c");
    g_assert_true(cw_sms_query_token_ok(escaped, "a+b c"));
}

/* Parse query as an MO; returns the error (NULL on success). */
static GError *
mo_of(const char *query, CwSmsMo *mo)
{
    g_autoptr(GHashTable) p = parse_ok(query);
    GError *error = NULL;
    gboolean ok = cw_sms_mo_parse(p, mo, &error);
    g_assert_true(ok == (error == NULL));
    return error;
}

static void
test_mo_utf8(void)
{
    CwSmsMo mo;
    g_assert_null(mo_of("token=t&sender=%2B4917012345&receiver=%2B4930123450"
                        "&text=Gr%C3%BC%C3%9Fe+%E2%82%AC&coding=0&charset=UTF-8"
                        "&id=abc-123&ts=1700000000&udh=",
                        &mo));
    g_assert_cmpstr(mo.sender, ==, "+4917012345");
    g_assert_cmpstr(mo.receiver, ==, "+4930123450");
    g_assert_cmpstr(mo.text, ==, "Grüße €");
    g_assert_cmpstr(mo.kannel_id, ==, "abc-123");
    g_assert_cmpint(mo.timestamp, ==, 1700000000);
    cw_sms_mo_clear(&mo);
    g_assert_null(mo.sender);
    g_assert_null(mo.text);

    /* no charset, no coding, no id, no ts: UTF-8 */
    g_assert_null(mo_of("sender=0170123&receiver=%2B4930123450&text=hi", &mo));
    g_assert_cmpstr(mo.text, ==, "hi");
    g_assert_cmpstr(mo.sender, ==, "0170123");
    g_assert_null(mo.kannel_id);
    g_assert_cmpint(mo.timestamp, ==, 0);
    cw_sms_mo_clear(&mo);

    /* an empty SMS */
    g_assert_null(mo_of("sender=1&receiver=2&text=&id=&ts=&charset=&coding=", &mo));
    g_assert_cmpstr(mo.text, ==, "");
    g_assert_null(mo.kannel_id);
    cw_sms_mo_clear(&mo);

    /* mo-recode: coding 1 with charset UTF-8 is text */
    g_assert_null(mo_of("sender=1&receiver=2&text=%C3%A9&coding=1&charset=utf-8", &mo));
    g_assert_cmpstr(mo.text, ==, "é");
    cw_sms_mo_clear(&mo);
}

static void
test_mo_ucs2(void)
{
    CwSmsMo mo;
    /* "Hi 🙂": U+1F642 is the surrogate pair D83D DE42 */
    g_assert_null(mo_of("sender=1&receiver=2&text=%00H%00i%00+%D8%3D%DE%42"
                        "&coding=2&charset=UTF-16BE",
                        &mo));
    g_assert_cmpstr(mo.text, ==, "Hi \xF0\x9F\x99\x82");
    cw_sms_mo_clear(&mo);
    /* no charset: coding 2 is UTF-16BE */
    g_assert_null(mo_of("sender=1&receiver=2&text=%04%1F%04%40%04%38&coding=2", &mo));
    g_assert_cmpstr(mo.text, ==, "При");
    cw_sms_mo_clear(&mo);
    /* UCS-2 as a charset name */
    g_assert_null(mo_of("sender=1&receiver=2&text=%00a&charset=UCS-2", &mo));
    g_assert_cmpstr(mo.text, ==, "a");
    cw_sms_mo_clear(&mo);
}

static void
test_mo_8bit(void)
{
    CwSmsMo mo;
    g_assert_null(mo_of("sender=1&receiver=2&text=caf%E9&charset=ISO-8859-1", &mo));
    g_assert_cmpstr(mo.text, ==, "café");
    cw_sms_mo_clear(&mo);
    g_assert_null(mo_of("sender=1&receiver=2&text=%80+%93x%94&charset=WINDOWS-1252", &mo));
    g_assert_cmpstr(mo.text, ==, "€ “x”");
    cw_sms_mo_clear(&mo);
    /* 0x80 is a C1 control in ISO-8859-1, not the euro sign */
    g_assert_null(mo_of("sender=1&receiver=2&text=%80&charset=iso-8859-1", &mo));
    g_assert_cmpstr(mo.text, ==, "\xC2\x80");
    cw_sms_mo_clear(&mo);
}

static void
assert_mo_error(const char *query, const char *names)
{
    CwSmsMo mo;
    g_autoptr(GError) error = mo_of(query, &mo);
    if (!error)
        g_error("accepted \"%s\"", query);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    if (!strstr(error->message, names))
        g_error("\"%s\": message \"%s\" does not name %s", query, error->message, names);
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
    /* nothing half-filled is left behind */
    g_assert_null(mo.sender);
    g_assert_null(mo.receiver);
    g_assert_null(mo.text);
    g_assert_null(mo.kannel_id);
}

/* What does not decode is replaced, never refused: smsbox would drop it. */
static void
assert_mo_text(const char *query, const char *want)
{
    CwSmsMo mo = { 0 };
    GError *error = mo_of(query, &mo);
    g_assert_no_error(error);
    g_assert_cmpstr(mo.text, ==, want);
    cw_sms_mo_clear(&mo);
}

static void
test_mo_lenient(void)
{
    assert_mo_text("sender=1&receiver=2&text=%FF%FE", "\uFFFD\uFFFD");  /* not UTF-8 */
    assert_mo_text("sender=1&receiver=2&text=a%00b", "a\uFFFDb");        /* NUL */
    assert_mo_text("sender=1&receiver=2&text=ok%C3", "ok\uFFFD");        /* cut sequence */
    assert_mo_text("sender=1&receiver=2&text=%00H%00&coding=2", "H\uFFFD");  /* odd byte */
    assert_mo_text("sender=1&receiver=2&text=%D8%3D%00a&coding=2", "\uFFFDa"); /* lone high */
    assert_mo_text("sender=1&receiver=2&text=%DE%42&charset=UTF-16BE", "\uFFFD"); /* lone low */
    assert_mo_text("sender=1&receiver=2&text=%00%00&coding=2", "\uFFFD");     /* U+0000 */
    assert_mo_text("sender=1&receiver=2&text=a%81&charset=WINDOWS-1252", "a\xc2\x81");
    assert_mo_text("sender=1&receiver=2&text=%80&charset=WINDOWS-1252", "\u20AC");
    assert_mo_text("sender=1&receiver=2&text=%E9%00&charset=ISO-8859-1", "\u00E9\uFFFD");
    assert_mo_text("sender=1&receiver=2&text=hi&coding=3", "hi");
    assert_mo_text("sender=1&receiver=2&text=hi&coding=x", "hi");
    CwSmsMo mo = { 0 };
    GError *error = mo_of("sender=1&receiver=2&text=hi&ts=-5&id=%FF", &mo);
    g_assert_no_error(error);
    g_assert_cmpint(mo.timestamp, ==, 0);
    g_assert_null(mo.kannel_id);
    cw_sms_mo_clear(&mo);
    error = mo_of("sender=1&receiver=2&text=hi&ts=99999999999999999999", &mo);
    g_assert_no_error(error);
    g_assert_cmpint(mo.timestamp, ==, 0);
    cw_sms_mo_clear(&mo);
}

static void
test_mo_errors(void)
{
    assert_mo_error("receiver=2&text=hi", "sender");
    assert_mo_error("sender=&receiver=2&text=hi", "sender");
    assert_mo_error("sender=1&text=hi", "receiver");
    assert_mo_error("sender=1&receiver=2", "text");
    assert_mo_error("sender=%FF&receiver=2&text=hi", "sender");
    assert_mo_error("sender=1&receiver=%C0%80&text=hi", "receiver"); /* overlong NUL */
    assert_mo_error("sender=1&receiver=2&text=%01%02&coding=1", "text");
    assert_mo_error("sender=1&receiver=2&text=%01%02&coding=1&charset=binary", "text");
    assert_mo_error("sender=1&receiver=2&text=%01&charset=BINARY", "text");
    assert_mo_error("sender=1&receiver=2&text=hi&charset=EBCDIC-US", "charset");
    assert_mo_error("sender=1&receiver=2&text=hi&charset=UTF-8//TRANSLIT", "charset");
    assert_mo_error("sender=1&receiver=2&text=hi&charset=%FF", "charset");
}

/* Parse query as a DLR; returns the error (NULL on success). */
static GError *
dlr_of(const char *query, CwSmsDlr *dlr)
{
    g_autoptr(GHashTable) p = parse_ok(query);
    GError *error = NULL;
    gboolean ok = cw_sms_dlr_parse(p, dlr, &error);
    g_assert_true(ok == (error == NULL));
    return error;
}

static void
test_dlr(void)
{
    CwSmsDlr dlr;
    g_assert_null(dlr_of("token=t&m=42&p=0&type=1&smsc_status=id%3Aabc+stat%3ADELIVRD"
                         "&to=%2B4917012345",
                         &dlr));
    g_assert_cmpint(dlr.message, ==, 42);
    g_assert_cmpuint(dlr.part, ==, 0);
    g_assert_cmpuint(dlr.type, ==, 1);
    g_assert_cmpstr(dlr.smsc_status, ==, "id:abc stat:DELIVRD");
    cw_sms_dlr_clear(&dlr);
    g_assert_null(dlr.smsc_status);

    static const guint types[] = {1, 2, 4, 8, 16};
    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        g_autofree char *q = g_strdup_printf("m=9223372036854775807&p=255&type=%u", types[i]);
        g_assert_null(dlr_of(q, &dlr));
        g_assert_cmpint(dlr.message, ==, G_MAXINT64);
        g_assert_cmpuint(dlr.part, ==, 255);
        g_assert_cmpuint(dlr.type, ==, types[i]);
        g_assert_null(dlr.smsc_status);
        cw_sms_dlr_clear(&dlr);
    }

    /* invalid bytes in the status are replaced, NUL included */
    g_assert_null(dlr_of("m=1&p=1&type=2&smsc_status=a%FFb%00c", &dlr));
    g_assert_cmpstr(dlr.smsc_status, ==,
                    "a\xEF\xBF\xBD"
                    "b\xEF\xBF\xBD"
                    "c");
    cw_sms_dlr_clear(&dlr);
    g_assert_null(dlr_of("m=1&p=1&type=2&smsc_status=", &dlr));
    g_assert_cmpstr(dlr.smsc_status, ==, "");
    cw_sms_dlr_clear(&dlr);
}

static void
test_dlr_errors(void)
{
    static const struct {
        const char *query, *names;
    } bad[] = {
        {"p=0&type=1", "\"m\""},
        {"m=&p=0&type=1", "\"m\""},
        {"m=0&p=0&type=1", "\"m\""},
        {"m=-1&p=0&type=1", "\"m\""},
        {"m=%2B1&p=0&type=1", "\"m\""},
        {"m=+1&p=0&type=1", "\"m\""},
        {"m=9223372036854775808&p=0&type=1", "\"m\""},
        {"m=1x&p=0&type=1", "\"m\""},
        {"m=0x10&p=0&type=1", "\"m\""},
        {"m=1&type=1", "\"p\""},
        {"m=1&p=256&type=1", "\"p\""},
        {"m=1&p=-1&type=1", "\"p\""},
        {"m=1&p=1%00&type=1", "\"p\""},
        {"m=1&p=0", "\"type\""},
        {"m=1&p=0&type=0", "\"type\""},
        {"m=1&p=0&type=3", "\"type\""},
        {"m=1&p=0&type=5", "\"type\""},
        {"m=1&p=0&type=32", "\"type\""},
        {"m=1&p=0&type=", "\"type\""},
        {"m=1&p=0&type=1.0", "\"type\""},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        CwSmsDlr dlr;
        g_autoptr(GError) error = dlr_of(bad[i].query, &dlr);
        if (!error)
            g_error("accepted \"%s\"", bad[i].query);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        if (!strstr(error->message, bad[i].names))
            g_error("\"%s\": message \"%s\"", bad[i].query, error->message);
        g_assert_null(dlr.smsc_status);
    }
}

static void
test_clear_null(void)
{
    cw_sms_mo_clear(NULL);
    cw_sms_dlr_clear(NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms/callback/query-basic", test_query_basic);
    g_test_add_func("/sms/callback/query-separators", test_query_separators);
    g_test_add_func("/sms/callback/query-nul", test_query_nul);
    g_test_add_func("/sms/callback/query-errors", test_query_errors);
    g_test_add_func("/sms/callback/query-length", test_query_length);
    g_test_add_func("/sms/callback/token", test_token);
    g_test_add_func("/sms/callback/mo-utf8", test_mo_utf8);
    g_test_add_func("/sms/callback/mo-ucs2", test_mo_ucs2);
    g_test_add_func("/sms/callback/mo-8bit", test_mo_8bit);
    g_test_add_func("/sms/callback/mo-lenient", test_mo_lenient);
    g_test_add_func("/sms/callback/mo-errors", test_mo_errors);
    g_test_add_func("/sms/callback/dlr", test_dlr);
    g_test_add_func("/sms/callback/dlr-errors", test_dlr_errors);
    g_test_add_func("/sms/callback/clear-null", test_clear_null);
    return g_test_run();
}
