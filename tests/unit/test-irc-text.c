/* test-irc-text.c — unit tests for irc-text: charset, mIRC formatting, splitting, CTCP. */
#include <string.h>

#include "irc/irc-text.h"

/* ---- charset ------------------------------------------------------------ */

typedef struct {
    const char *in;
    gssize len;
    const char *charset;
    const char *expect;
} Utf8Case;

// clang-format off
static const Utf8Case utf8_cases[] = {
    { "caf\xe9", -1, NULL, "caf\xc3\xa9" },
    { "caf\xe9", -1, "", "caf\xc3\xa9" },
    { "caf\xe9", -1, "latin1", "caf\xc3\xa9" },
    { "\xe9t\xe9 \xe0 Paris", -1, "ISO-8859-1", "\xc3\xa9t\xc3\xa9 \xc3\xa0 Paris" },
    { "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", -1, NULL,
      "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" },
    { "plain ascii", -1, NULL, "plain ascii" },
    { "", -1, NULL, "" },
    { "\x93quoted\x94", -1, "CP1252", "\xe2\x80\x9cquoted\xe2\x80\x9d" },
    { "\xf0\xd2\xc9\xd7\xc5\xd4", -1, "KOI8-R",
      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
    /* no such charset, or bytes invalid there too: replacement characters */
    { "caf\xe9", -1, "no-such-charset", "caf\xef\xbf\xbd" },
    { "caf\xe9", -1, "UTF-8", "caf\xef\xbf\xbd" },
    { "a\x81" "b", -1, "CP1252", "a\xef\xbf\xbd" "b" },
    /* length: stops at len, and at a NUL */
    { "caf\xe9xyz", 4, NULL, "caf\xc3\xa9" },
    { "ab\0cd", 5, NULL, "ab" },
    { "\xe9\0\xe9", 3, NULL, "\xc3\xa9" },
};
// clang-format on

static void test_to_utf8(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(utf8_cases); i++) {
        const Utf8Case *c = &utf8_cases[i];
        g_test_message("case %u", i);
        g_autofree char *out = cw_irc_text_to_utf8(c->in, c->len, c->charset);
        g_assert_cmpstr(out, ==, c->expect);
        g_assert_true(g_utf8_validate(out, -1, NULL));
    }
    g_assert_null(cw_irc_text_to_utf8(NULL, -1, NULL));
}

/* ---- formatting --------------------------------------------------------- */

typedef struct {
    const char *in;
    const char *plain;  /* CW_IRC_STYLE_STRIP */
    const char *styled; /* CW_IRC_STYLE_XEP0393 */
} FormatCase;

/* mIRC codes, so the tables read as they would on the wire */
#define B "\x02" /* bold */
#define C "\x03" /* colour */
#define H "\x04" /* hex colour */
#define O "\x0f" /* reset */
#define I "\x1d" /* italic */

// clang-format off
static const FormatCase format_cases[] = {
    { "no codes at all", "no codes at all", "no codes at all" },
    { "", "", "" },
    /* colours */
    { C "04,12red" C " x", "red x", "red x" },
    { C "4red", "red", "red" },
    { C "123", "3", "3" },
    { C "1,2345", "45", "45" },
    { C ",5x", ",5x", ",5x" },
    { C "12,x", ",x", ",x" },
    { C "12,", ",", "," },
    { "end" C, "end", "end" },
    { "end" C "1", "end", "end" },
    { H "FF0000red" H, "red", "red" },
    { H "ff0000,00ff00x", "x", "x" },
    { H "ff0000,00ffx", ",00ffx", ",00ffx" },
    { H "GG", "GG", "GG" },
    { H "12345", "12345", "12345" },
    /* other codes: underline, strikethrough, monospace, reverse; any C0 */
    { "\x1fu\x1f\x1es\x1e\x11m\x11\x16r\x16", "usmr", "usmr" },
    { "\x01" "ACTION\x01 \x07" "bell\x1b[0m", "ACTION bell[0m", "ACTION bell[0m" },
    { "tab\tkept", "tab\tkept", "tab\tkept" },
    /* bold and italic */
    { B "bold" B " text", "bold text", "*bold* text" },
    { I "italic" I, "italic", "_italic_" },
    { "a " B "b" B " c " I "d" I " e", "a b c d e", "a *b* c _d_ e" },
    { B "unterminated", "unterminated", "*unterminated*" },
    { B "bold " O "plain", "bold plain", "bold plain" },
    { B "bold" O " plain", "bold plain", "*bold* plain" },
    { B " bold" B, " bold", " bold" },
    { "foo" B "bar" B, "foobar", "foobar" },
    { B "foo" B "bar", "foobar", "*foo*bar" },
    { B I "both" I B, "both", "*_both_*" },
    { I B "both" B I, "both", "*_both_*" },
    { B "bold " I "and italic" I B, "bold and italic", "*bold _and italic_*" },
    { I "it " B "bo" B " it" I, "it bo it", "_it *bo* it_" },
    { B "a " I "b" B " c" I, "a b c", "a b c" },
    { B "2*3" B, "2*3", "2*3" },
    { I "snake_case" I, "snake_case", "snake_case" },
    { B B, "", "" },
    { B, "", "" },
    { B "a" B B "b" B, "ab", "*ab*" },
    { B "a" C "04b" C "c" B, "abc", "*abc*" },
    { B "\xe4\xb8\xad\xe6\x96\x87" B " emoji \xf0\x9f\x98\x80",
      "\xe4\xb8\xad\xe6\x96\x87 emoji \xf0\x9f\x98\x80",
      "*\xe4\xb8\xad\xe6\x96\x87* emoji \xf0\x9f\x98\x80" },
};
// clang-format on

static void assert_no_controls(const char *s)
{
    for (const char *p = s; *p; p++)
        g_assert_true((guchar)*p >= 0x20 || *p == '\t');
}

static void test_format(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(format_cases); i++) {
        const FormatCase *c = &format_cases[i];
        g_test_message("case %u", i);
        g_autofree char *plain = cw_irc_text_strip_format(c->in, CW_IRC_STYLE_STRIP);
        g_autofree char *styled = cw_irc_text_strip_format(c->in, CW_IRC_STYLE_XEP0393);
        g_assert_cmpstr(plain, ==, c->plain);
        g_assert_cmpstr(styled, ==, c->styled);
        assert_no_controls(plain);
        assert_no_controls(styled);
    }
    g_assert_null(cw_irc_text_strip_format(NULL, CW_IRC_STYLE_STRIP));
}

/* Every byte string made of codes, digits and text: no control code survives. */
static void test_format_fuzz(void)
{
    static const char alphabet[] =
        "\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f\x01\x07\t ,0123456789abcdefF*_x";
    GRand *rand = g_rand_new_with_seed(42);
    for (int round = 0; round < 5000; round++) {
        char buf[24];
        int len = g_rand_int_range(rand, 0, sizeof buf);
        for (int i = 0; i < len; i++)
            buf[i] = alphabet[g_rand_int_range(rand, 0, sizeof alphabet - 1)];
        buf[len] = '\0';
        g_autofree char *plain = cw_irc_text_strip_format(buf, CW_IRC_STYLE_STRIP);
        g_autofree char *styled = cw_irc_text_strip_format(buf, CW_IRC_STYLE_XEP0393);
        assert_no_controls(plain);
        assert_no_controls(styled);
    }
    g_rand_free(rand);
}

/* ---- splitting ---------------------------------------------------------- */

typedef struct {
    const char *in;
    gsize max;
    const char *chunks[12];
} SplitCase;

#define ZH "\xe4\xb8\xad"       /* 中, 3 bytes */
#define WEN "\xe6\x96\x87"      /* 文, 3 bytes */
#define GRIN "\xf0\x9f\x98\x80" /* U+1F600, 4 bytes */

static const SplitCase split_cases[] = {
    { "hello world", 100, { "hello world" } },
    { "a\n\nb\r\nc\rd\n", 100, { "a", "b", "c", "d" } },
    { "", 10, { NULL } },
    { "\n\r\n\n", 10, { NULL } },
    { "hello world foo", 11, { "hello world", "foo" } },
    { "abcdefghij", 4, { "abcd", "efgh", "ij" } },
    { "aaaa bbbbbbbb", 8, { "aaaa bbb", "bbbbb" } },
    { "aaaaaaa bbbb", 8, { "aaaaaaa", "bbbb" } },
    { "aaaaaaaa bbbb", 8, { "aaaaaaaa", "bbbb" } },
    { "aaaa ", 4, { "aaaa" } },
    { "  ", 4, { "  " } },
    { ZH WEN ZH WEN ZH WEN, 4, { ZH, WEN, ZH, WEN, ZH, WEN } },
    { ZH WEN ZH WEN ZH WEN, 7, { ZH WEN, ZH WEN, ZH WEN } },
    { ZH WEN ZH WEN ZH WEN, 8, { ZH WEN, ZH WEN, ZH WEN } },
    { ZH WEN " " ZH WEN ZH WEN, 8, { ZH WEN, ZH WEN, ZH WEN } },
    { ZH WEN " " ZH WEN ZH WEN, 9, { ZH WEN " ", ZH WEN ZH, WEN } },
    { GRIN GRIN GRIN GRIN, 4, { GRIN, GRIN, GRIN, GRIN } },
    { GRIN GRIN GRIN GRIN, 7, { GRIN, GRIN, GRIN, GRIN } },
    { GRIN GRIN GRIN GRIN, 8, { GRIN GRIN, GRIN GRIN } },
    { "a" GRIN "b", 4, { "a", GRIN, "b" } },
    { "caf\xe9 au lait", 8, { "caf\xef\xbf\xbd", "au lait" } },
};

static void test_split_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(split_cases); i++) {
        const SplitCase *c = &split_cases[i];
        g_test_message("case %u", i);
        g_autoptr(GPtrArray) chunks = cw_irc_text_split(c->in, c->max);
        guint n = 0;
        while (c->chunks[n])
            n++;
        g_assert_cmpuint(chunks->len, ==, n);
        for (guint k = 0; k < n; k++)
            g_assert_cmpstr(g_ptr_array_index(chunks, k), ==, c->chunks[k]);
    }
    g_autoptr(GPtrArray) none = cw_irc_text_split(NULL, 10);
    g_assert_cmpuint(none->len, ==, 0);
}

/* For one line of text: every chunk fits, is valid UTF-8 and non-empty, and
 * the chunks put back together give the input, minus the spaces split at. */
static void check_split(const char *in, gsize max)
{
    g_autoptr(GPtrArray) chunks = cw_irc_text_split(in, max);
    const char *cursor = in;
    for (guint k = 0; k < chunks->len; k++) {
        const char *chunk = g_ptr_array_index(chunks, k);
        gsize len = strlen(chunk);
        g_assert_cmpuint(len, >, 0);
        g_assert_cmpuint(len, <=, max);
        g_assert_true(g_utf8_validate(chunk, -1, NULL));
        g_assert_null(strpbrk(chunk, "\r\n"));
        if (strncmp(cursor, chunk, len) != 0 && *cursor == ' ')
            cursor++; /* the one space the previous chunk was split at */
        g_assert_cmpint(strncmp(cursor, chunk, len), ==, 0);
        cursor += len;
    }
    g_assert_true(*cursor == '\0' || g_str_equal(cursor, " "));
}

static void test_split_property(void)
{
    static const char *const texts[] = {
        "我能吞下玻璃而不伤身体。你好，世界！",
        "你好 世界 我能 吞下 玻璃 而不 伤身体",
        "😀👍🏽🇫🇷 mixed 👨‍👩‍👧 café 😀😀 end",
        "The quick brown fox jumps over the lazy dog and keeps running through the field",
        "word  double  spaces   and trailing ",
        "nospacesatallinthislongwordthatgoesonandonandonandon",
        "Привет мир καλημέρα שלום",
    };
    for (guint t = 0; t < G_N_ELEMENTS(texts); t++)
        for (gsize max = 4; max <= 64; max++)
            check_split(texts[t], max);
}

/* Multi-line text: lines split separately, empty ones skipped. */
static void test_split_lines(void)
{
    g_autoptr(GPtrArray) chunks = cw_irc_text_split("first line\n\n" ZH WEN ZH "\r\nlast", 6);
    static const char *const expect[] = { "first", "line", ZH WEN, ZH, "last" };
    g_assert_cmpuint(chunks->len, ==, G_N_ELEMENTS(expect));
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++)
        g_assert_cmpstr(g_ptr_array_index(chunks, i), ==, expect[i]);
}

/* ---- CTCP --------------------------------------------------------------- */

typedef struct {
    const char *in;
    const char *command; /* NULL: not CTCP */
    const char *args;
} CtcpCase;

#define Q "\x01" /* CTCP quote */

// clang-format off
static const CtcpCase ctcp_cases[] = {
    { Q "ACTION waves" Q, "ACTION", "waves" },
    { Q "ACTION waves", "ACTION", "waves" },
    { Q "action waves \xf0\x9f\x91\x8b" Q, "ACTION", "waves \xf0\x9f\x91\x8b" },
    { Q "ACTION" Q, "ACTION", "" },
    { Q "ACTION " Q, "ACTION", "" },
    { Q "VERSION" Q, "VERSION", "" },
    { Q "PING 1795296387 123" Q, "PING", "1795296387 123" },
    { Q "ACTION a" Q "b" Q, "ACTION", "a" },
    { Q "X-FOO_1 y" Q, "X-FOO_1", "y" },
    { "hello", NULL, NULL },
    { "", NULL, NULL },
    { Q, NULL, NULL },
    { Q Q, NULL, NULL },
    { Q " ACTION x" Q, NULL, NULL },
    { Q "AC.TION x" Q, NULL, NULL },
    { "x" Q "ACTION y" Q, NULL, NULL },
};
// clang-format on

static void test_ctcp_parse(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(ctcp_cases); i++) {
        const CtcpCase *c = &ctcp_cases[i];
        g_test_message("case %u", i);
        g_autofree char *command = NULL;
        g_autofree char *args = NULL;
        gboolean ok = cw_irc_ctcp_parse(c->in, &command, &args);
        g_assert_cmpint(ok, ==, c->command != NULL);
        g_assert_cmpstr(command, ==, c->command);
        g_assert_cmpstr(args, ==, c->args);
        g_assert_cmpint(cw_irc_ctcp_parse(c->in, NULL, NULL), ==, ok);
    }
    g_assert_false(cw_irc_ctcp_parse(NULL, NULL, NULL));
}

static void test_ctcp_build(void)
{
    // clang-format off
    static const struct {
        const char *command, *args, *expect;
    } cases[] = {
        { "ACTION", "waves", Q "ACTION waves" Q },
        { "version", NULL, Q "VERSION" Q },
        { "PING", "", Q "PING" Q },
        { "ACTION", "a" Q "b" Q, Q "ACTION ab" Q },
        { "BAD CMD", "x", NULL },
        { "", "x", NULL },
        { NULL, "x", NULL },
        { "A" Q, "x", NULL },
    };
    // clang-format on
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = cw_irc_ctcp_build(cases[i].command, cases[i].args);
        g_assert_cmpstr(out, ==, cases[i].expect);
    }
    g_autofree char *action = cw_irc_ctcp_action("dances " GRIN);
    g_assert_cmpstr(action, ==, Q "ACTION dances " GRIN Q);
    g_autofree char *command = NULL;
    g_autofree char *args = NULL;
    g_assert_true(cw_irc_ctcp_parse(action, &command, &args));
    g_assert_cmpstr(command, ==, "ACTION");
    g_assert_cmpstr(args, ==, "dances " GRIN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/text/to-utf8", test_to_utf8);
    g_test_add_func("/irc/text/format/table", test_format);
    g_test_add_func("/irc/text/format/fuzz", test_format_fuzz);
    g_test_add_func("/irc/text/split/table", test_split_table);
    g_test_add_func("/irc/text/split/property", test_split_property);
    g_test_add_func("/irc/text/split/lines", test_split_lines);
    g_test_add_func("/irc/text/ctcp/parse", test_ctcp_parse);
    g_test_add_func("/irc/text/ctcp/build", test_ctcp_build);
    return g_test_run();
}
