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

/* Units of one part in its coding, as the splitter counts them. */
static guint part_units(const char *part, CwSmsCoding coding)
{
    guint n = 0;
    for (const char *p = part; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        n += coding == CW_SMS_GSM7 ? cw_sms_gsm7_septets(c) : (c > 0xFFFF ? 2 : 1);
    }
    return n;
}

/* s repeated n times. */
static char *repeat(const char *s, guint n)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < n; i++)
        g_string_append(out, s);
    return g_string_free(out, FALSE);
}

static void test_boundary_gsm7(void)
{
    /* 160 characters from all over the default alphabet: one SMS; 161: two */
    g_autofree char *base = repeat("aZ9@£$¥èéΩ_ !?Ä§¿ñà\n", 8);
    g_assert_cmpuint(g_utf8_strlen(base, -1), ==, 160);
    CwSmsCoding c;
    g_auto(GStrv) one = cw_sms_split(base, &c);
    g_assert_cmpint(c, ==, CW_SMS_GSM7);
    g_assert_cmpuint(count_parts(one), ==, 1);
    g_assert_cmpstr(one[0], ==, base);
    g_autofree char *more = g_strconcat(base, "x", NULL);
    g_auto(GStrv) two = cw_sms_split(more, &c);
    g_assert_cmpint(c, ==, CW_SMS_GSM7);
    g_assert_cmpuint(count_parts(two), ==, 2);
    g_assert_cmpuint(part_units(two[0], c), ==, 153);
    g_assert_cmpuint(part_units(two[1], c), ==, 8);

    /* 159 septets and one extension character: 161 septets, two parts */
    g_autofree char *a159 = g_strnfill(159, 'a');
    g_autofree char *brace = g_strconcat(a159, "{", NULL);
    g_auto(GStrv) b = cw_sms_split(brace, &c);
    g_assert_cmpuint(count_parts(b), ==, 2);
    g_autofree char *a158 = g_strnfill(158, 'a');
    g_autofree char *fits = g_strconcat(a158, "{", NULL);
    g_auto(GStrv) f = cw_sms_split(fits, &c);
    g_assert_cmpuint(count_parts(f), ==, 1);
}

static void test_boundary_gsm7_extension(void)
{
    CwSmsCoding c;
    /* 152 septets, then '€' (2 septets) would end at 154: it opens part 2 */
    g_autofree char *a152 = g_strnfill(152, 'a');
    g_autofree char *straddle = g_strconcat(a152, "€bbbbbbbbbb", NULL);
    g_auto(GStrv) s = cw_sms_split(straddle, &c);
    g_assert_cmpint(c, ==, CW_SMS_GSM7);
    g_assert_cmpuint(count_parts(s), ==, 2);
    g_assert_cmpstr(s[0], ==, a152);
    g_assert_cmpstr(s[1], ==, "€bbbbbbbbbb");
    /* the same with '{' */
    g_autofree char *curly = g_strconcat(a152, "{bbbbbbbbbb", NULL);
    g_auto(GStrv) cu = cw_sms_split(curly, &c);
    g_assert_cmpuint(count_parts(cu), ==, 2);
    g_assert_cmpstr(cu[0], ==, a152);
    g_assert_true(g_str_has_prefix(cu[1], "{"));
    /* 151 septets then '€' end exactly at 153: the '€' stays in part 1 */
    g_autofree char *a151 = g_strnfill(151, 'a');
    g_autofree char *exact = g_strconcat(a151, "€bbbbbbbbbb", NULL);
    g_auto(GStrv) e = cw_sms_split(exact, &c);
    g_assert_cmpuint(count_parts(e), ==, 2);
    g_assert_cmpuint(part_units(e[0], c), ==, 153);
    g_assert_true(g_str_has_suffix(e[0], "€"));
    g_assert_cmpstr(e[1], ==, "bbbbbbbbbb");
}

static void test_boundary_ucs2(void)
{
    CwSmsCoding c;
    /* 35 emoji are 70 units: one SMS; 69 letters and an emoji are 71: two */
    g_autofree char *emoji35 = repeat("🙂", 35);
    g_auto(GStrv) one = cw_sms_split(emoji35, &c);
    g_assert_cmpint(c, ==, CW_SMS_UCS2);
    g_assert_cmpuint(count_parts(one), ==, 1);
    g_autofree char *zh69 = repeat("Ж", 69);
    g_autofree char *over = g_strconcat(zh69, "🙂", NULL);
    g_auto(GStrv) two = cw_sms_split(over, &c);
    g_assert_cmpuint(count_parts(two), ==, 2);
    g_assert_cmpuint(part_units(two[0], c), ==, 67);
    g_assert_cmpuint(part_units(two[1], c), ==, 4);
    g_autofree char *zh70 = repeat("Ж", 70);
    g_auto(GStrv) seventy = cw_sms_split(zh70, &c);
    g_assert_cmpuint(count_parts(seventy), ==, 1);

    /* 65 letters then an emoji end exactly at 67: the pair stays in part 1 */
    g_autofree char *zh65 = repeat("Ж", 65);
    g_autofree char *exact = g_strconcat(zh65, "🙂", zh65, NULL);
    g_auto(GStrv) e = cw_sms_split(exact, &c);
    g_assert_cmpuint(count_parts(e), ==, 2);
    g_assert_cmpuint(part_units(e[0], c), ==, 67);
    g_assert_true(g_str_has_suffix(e[0], "🙂"));
    g_assert_cmpstr(e[1], ==, zh65);
    /* 66 letters: the pair would straddle 67 and opens part 2 */
    g_autofree char *zh66 = repeat("Ж", 66);
    g_autofree char *straddle = g_strconcat(zh66, "🙂", "ЖЖЖЖ", NULL);
    g_auto(GStrv) s = cw_sms_split(straddle, &c);
    g_assert_cmpuint(count_parts(s), ==, 2);
    g_assert_cmpstr(s[0], ==, zh66);
    g_assert_cmpstr(s[1], ==, "🙂ЖЖЖЖ");
}

/* A long text splits into parts that fit and join back to the text. */
static void check_long(const char *text, CwSmsCoding want, guint want_parts)
{
    CwSmsCoding c;
    g_auto(GStrv) parts = cw_sms_split(text, &c);
    g_assert_cmpint(c, ==, want);
    g_assert_cmpuint(count_parts(parts), ==, want_parts);
    guint room = c == CW_SMS_GSM7 ? CW_SMS_GSM7_PART : CW_SMS_UCS2_PART;
    for (guint i = 0; parts[i]; i++) {
        g_assert_true(g_utf8_validate(parts[i], -1, NULL));
        g_assert_cmpuint(part_units(parts[i], c), <=, room);
        g_assert_cmpuint(part_units(parts[i], c), >, 0);
    }
    g_autofree char *joined = g_strjoinv("", parts);
    g_assert_cmpstr(joined, ==, text);
}

static void test_long_texts(void)
{
    /* 500 GSM characters, every fifth an extension one: 600 septets */
    g_autofree char *gsm = repeat("abc€defgh{", 50);
    g_assert_cmpuint(g_utf8_strlen(gsm, -1), ==, 500);
    check_long(gsm, CW_SMS_GSM7, 4);
    g_autofree char *plain = g_strnfill(500, 'q');
    check_long(plain, CW_SMS_GSM7, 4); /* 153 * 3 = 459 < 500 */
    /* 500 characters with emoji: 400 letters + 100 emoji = 600 units */
    g_autofree char *ucs2 = repeat("ЖзЫ🙂щ", 100);
    g_assert_cmpuint(g_utf8_strlen(ucs2, -1), ==, 500);
    /* 600 units need 9 parts of 67, but the pairs that would straddle a
     * boundary each leave a unit free: 10 */
    check_long(ucs2, CW_SMS_UCS2, 10);
    g_autofree char *cyr = repeat("Ж", 500);
    check_long(cyr, CW_SMS_UCS2, 8); /* 67 * 7 = 469 < 500 */
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
    g_test_add_func("/sms/text/boundary-gsm7", test_boundary_gsm7);
    g_test_add_func("/sms/text/boundary-gsm7-extension", test_boundary_gsm7_extension);
    g_test_add_func("/sms/text/boundary-ucs2", test_boundary_ucs2);
    g_test_add_func("/sms/text/long-texts", test_long_texts);
    g_test_add_func("/sms/text/numbers", test_numbers);
    return g_test_run();
}
