/* test-sms-text.c — SMS codings, splitting and E.164 numbers. */
#include <string.h>

#include "sms/sms-text.h"

static void test_septets(void)
{
    g_assert_cmpuint(cw_sms_gsm7_septets('a'), ==, 1);
    g_assert_cmpuint(cw_sms_gsm7_septets('@'), ==, 1);
    g_assert_cmpuint(cw_sms_gsm7_septets('$'), ==, 1);
    g_assert_cmpuint(cw_sms_gsm7_septets(0x00E9), ==, 1); /* é */
    g_assert_cmpuint(cw_sms_gsm7_septets(0x03A9), ==, 1); /* Ω */
    g_assert_cmpuint(cw_sms_gsm7_septets('\n'), ==, 1);
    g_assert_cmpuint(cw_sms_gsm7_septets(0x20AC), ==, 2); /* € */
    g_assert_cmpuint(cw_sms_gsm7_septets('['), ==, 2);
    g_assert_cmpuint(cw_sms_gsm7_septets('|'), ==, 2);
    g_assert_cmpuint(cw_sms_gsm7_septets('`'), ==, 0);
    g_assert_cmpuint(cw_sms_gsm7_septets(0x00EA), ==, 0); /* ê */
    g_assert_cmpuint(cw_sms_gsm7_septets(0x041F), ==, 0); /* П */
    g_assert_cmpuint(cw_sms_gsm7_septets(0x1F642), ==, 0);
    g_assert_cmpuint(cw_sms_gsm7_septets('\t'), ==, 0);
}

static void test_coding(void)
{
    g_assert_cmpint(cw_sms_coding_for(""), ==, CW_SMS_GSM7);
    g_assert_cmpint(cw_sms_coding_for("Hello, world! 100 € [ok] ÄÖÜ"), ==, CW_SMS_GSM7);
    g_assert_cmpint(cw_sms_coding_for("Привет"), ==, CW_SMS_UCS2);
    g_assert_cmpint(cw_sms_coding_for("plain then 🙂"), ==, CW_SMS_UCS2);
    g_assert_cmpint(cw_sms_coding_for("back`tick"), ==, CW_SMS_UCS2);
}

static guint count_parts(char **parts)
{
    return g_strv_length(parts);
}

static void test_split_single(void)
{
    CwSmsCoding c;
    g_auto(GStrv) empty = cw_sms_split("", &c);
    g_assert_cmpuint(count_parts(empty), ==, 1);
    g_assert_cmpstr(empty[0], ==, "");

    g_autofree char *full = g_strnfill(160, 'x');
    g_auto(GStrv) one = cw_sms_split(full, &c);
    g_assert_cmpint(c, ==, CW_SMS_GSM7);
    g_assert_cmpuint(count_parts(one), ==, 1);

    /* 80 euro signs are 160 septets: still one SMS; 81 are not */
    GString *euros = g_string_new(NULL);
    for (int i = 0; i < 80; i++)
        g_string_append(euros, "€");
    g_auto(GStrv) e1 = cw_sms_split(euros->str, &c);
    g_assert_cmpuint(count_parts(e1), ==, 1);
    g_string_append(euros, "€");
    g_auto(GStrv) e2 = cw_sms_split(euros->str, &c);
    g_assert_cmpuint(count_parts(e2), ==, 2);
    /* 153 septets hold 76 euros (152): the 77th does not fit half in */
    g_assert_cmpuint(g_utf8_strlen(e2[0], -1), ==, 76);
    g_string_free(euros, TRUE);
}

static void test_split_gsm7_long(void)
{
    g_autofree char *text = g_strnfill(161, 'y');
    CwSmsCoding c;
    g_auto(GStrv) parts = cw_sms_split(text, &c);
    g_assert_cmpint(c, ==, CW_SMS_GSM7);
    g_assert_cmpuint(count_parts(parts), ==, 2);
    g_assert_cmpuint(strlen(parts[0]), ==, 153);
    g_assert_cmpuint(strlen(parts[1]), ==, 8);
}

static void test_split_ucs2(void)
{
    /* 70 Cyrillic letters: one SMS; 71: parts of 67 */
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 70; i++)
        g_string_append(s, "Ж");
    CwSmsCoding c;
    g_auto(GStrv) one = cw_sms_split(s->str, &c);
    g_assert_cmpint(c, ==, CW_SMS_UCS2);
    g_assert_cmpuint(count_parts(one), ==, 1);
    g_string_append(s, "Ж");
    g_auto(GStrv) two = cw_sms_split(s->str, &c);
    g_assert_cmpuint(count_parts(two), ==, 2);
    g_assert_cmpuint(g_utf8_strlen(two[0], -1), ==, 67);
    g_assert_cmpuint(g_utf8_strlen(two[1], -1), ==, 4);
    g_string_free(s, TRUE);

    /* emoji are surrogate pairs (2 units): 66 letters then an emoji leaves
     * one unit in the first part: the emoji goes whole into the second */
    GString *t = g_string_new(NULL);
    for (int i = 0; i < 66; i++)
        g_string_append(t, "Ж");
    for (int i = 0; i < 10; i++)
        g_string_append(t, "🙂");
    g_auto(GStrv) parts = cw_sms_split(t->str, &c);
    g_assert_cmpuint(count_parts(parts), ==, 2);
    g_assert_cmpuint(g_utf8_strlen(parts[0], -1), ==, 66);
    g_assert_true(g_str_has_prefix(parts[1], "🙂"));
    /* nothing lost, nothing added */
    g_autofree char *joined = g_strjoinv("", parts);
    g_assert_cmpstr(joined, ==, t->str);
    g_string_free(t, TRUE);
}

static void test_numbers(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "+15551234567", "+15551234567" },
        { "+1 (555) 123-4567", "+15551234567" },
        { "0049 30 1234567", "+49301234567" },
        { " +44.20.7946.0000", "+442079460000" },
        { "+123456789012345", "+123456789012345" },
        { "+1234567890123456", NULL }, /* 16 digits */
        { "+1", NULL },
        { "+0123", NULL },
        { "15551234567", NULL }, /* no country code marker */
        { "+1555abc", NULL },
        { "+1555\n123", NULL },
        { "", NULL },
        { NULL, NULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_sms_number_normalize(cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].out);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms/text/septets", test_septets);
    g_test_add_func("/sms/text/coding", test_coding);
    g_test_add_func("/sms/text/split-single", test_split_single);
    g_test_add_func("/sms/text/split-gsm7-long", test_split_gsm7_long);
    g_test_add_func("/sms/text/split-ucs2", test_split_ucs2);
    g_test_add_func("/sms/text/numbers", test_numbers);
    return g_test_run();
}
