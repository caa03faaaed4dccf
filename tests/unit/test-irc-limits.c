/* test-irc-limits.c — unit tests for what a hostile IRC server can send: ISUPPORT PREFIX
 * validation, the line buffer's bound on a line without newline, log escaping. */
#include <string.h>

#include "irc/irc-cap.h"
#include "irc/irc-line.h"

/* ---- ISUPPORT PREFIX ---------------------------------------------------- */

typedef struct {
    const char *value;
    const char *modes, *chars; /* NULL: must be refused */
} PrefixCase;

static const PrefixCase prefix_cases[] = {
    { "(ov)@+", "ov", "@+" },
    { "(qaohv)~&@%+", "qaohv", "~&@%+" },
    { "(Yqaohv)!~&@%+", "Yqaohv", "!~&@%+" },
    { "()", "", "" },
    /* finding 7: more modes than chars read past the table */
    { "(qaohv)~", NULL, NULL },
    { "(ov)@+%", NULL, NULL },
    { "(ov)", NULL, NULL },
    { "ov)@+", NULL, NULL },
    { "(ov@+", NULL, NULL },
    { "", NULL, NULL },
    { "(oo)@+", NULL, NULL },       /* duplicate mode */
    { "(ov)@@", NULL, NULL },       /* duplicate char */
    { "(o v)@ +", NULL, NULL },     /* space */
    { "(o\x01)@+", NULL, NULL },    /* control */
    { "(o\xc3)@+", NULL, NULL },    /* not ASCII */
    { "(ov):+", NULL, NULL },       /* ':' would start a trailing parameter */
    { "(ov),+", NULL, NULL },       /* ',' separates nicks */
    { "(ov)(+", NULL, NULL },
    { "(abcdefghijklmnopq)!\"#$%&'*+-./01234", NULL, NULL }, /* 17 > CW_IRC_PREFIX_MAX */
    { "(abcdefghijklmnop)!\"#$%&'*+-./0123", "abcdefghijklmnop", "!\"#$%&'*+-./0123" },
};

static void
test_prefix_table(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(prefix_cases); i++) {
        const PrefixCase *c = &prefix_cases[i];
        char *modes = (char *)"untouched", *chars = (char *)"untouched";
        gboolean ok = cw_irc_prefix_parse(c->value, &modes, &chars);
        g_test_message("PREFIX=%s", c->value);
        if (!c->modes) {
            g_assert_false(ok);
            g_assert_cmpstr(modes, ==, "untouched");
            g_assert_cmpstr(chars, ==, "untouched");
            continue;
        }
        g_assert_true(ok);
        g_assert_cmpstr(modes, ==, c->modes);
        g_assert_cmpstr(chars, ==, c->chars);
        g_assert_cmpuint(strlen(modes), ==, strlen(chars));
        g_free(modes);
        g_free(chars);
    }
    char *m = NULL, *ch = NULL;
    g_assert_false(cw_irc_prefix_parse(NULL, &m, &ch));
}

/* ---- line buffer: a line that never ends -------------------------------- */

static void
test_endless_line_bounded(void)
{
    g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
    g_autofree char *chunk = g_malloc(4096);
    memset(chunk, 'A', 4096);
    /* 10 MB without a newline, as a server would send it: in socket-sized chunks */
    for (int i = 0; i < 10 * 256; i++) {
        cw_irc_line_buffer_push(buf, chunk, 4096);
        g_assert_cmpuint(cw_irc_line_buffer_held(buf), <=, CW_IRC_LINE_MAX + 1);
    }
    g_assert_null(cw_irc_line_buffer_next(buf, NULL));
    /* the same in one push */
    gsize big = 10 * 1024 * 1024;
    g_autofree char *huge = g_malloc(big);
    memset(huge, 'B', big);
    cw_irc_line_buffer_push(buf, huge, big);
    g_assert_cmpuint(cw_irc_line_buffer_held(buf), <=, CW_IRC_LINE_MAX + 1);
    /* the end of it, then a normal line: only the normal line comes out */
    cw_irc_line_buffer_push(buf, "tail\r\nPING :ok\r\n", 16);
    g_autofree char *line = cw_irc_line_buffer_next(buf, NULL);
    g_assert_cmpstr(line, ==, "PING :ok");
    g_assert_null(cw_irc_line_buffer_next(buf, NULL));
    g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 1);
    g_assert_cmpuint(cw_irc_line_buffer_held(buf), ==, 0);
}

/* ---- log escaping --------------------------------------------------------- */

static void
test_log_escape(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "alice", "alice" },
        { "evil\rnick", "evil\\x0dnick" },
        { "a\nb\x1b[31mc", "a\\x0ab\\x1b[31mc" },
        { "back\\slash", "back\\\\slash" },
        { "caf\xc3\xa9", "caf\xc3\xa9" }, /* valid UTF-8 stays */
        { "bad\xff\xfe", "bad\\xff\\xfe" },
        { "del\x7f", "del\\x7f" },
        { "c1\xc2\x85", "c1\\xc2\\x85" }, /* U+0085 (NEL) is a control too */
        { "", "" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_irc_log_escape(cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].out);
    }
    g_autofree char *null = cw_irc_log_escape(NULL);
    g_assert_cmpstr(null, ==, "(null)");
    g_autofree char *longer = g_strnfill(2000, 'x');
    g_autofree char *cut = cw_irc_log_escape(longer);
    g_assert_cmpuint(strlen(cut), ==, 512 + 3);
    g_assert_true(g_str_has_suffix(cut, "..."));
    for (const char *p = cut; *p; p++)
        g_assert_true(*p >= 0x20);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/limits/prefix", test_prefix_table);
    g_test_add_func("/irc/limits/endless-line", test_endless_line_bounded);
    g_test_add_func("/irc/limits/log-escape", test_log_escape);
    return g_test_run();
}
