/* test-irc-line.c — unit tests for irc-line: parsing, building (no injection), line buffer. */
#include <string.h>

#include "irc/irc-line.h"

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
    const char *raw;
    const char *command; /* NULL: the parse must fail */
    const char *nick, *user, *host;
    const char *params[24]; /* NULL-terminated */
    const char *tags[9];    /* key, value, ..., NULL */
} ParseCase;

#define P(...) .params = { __VA_ARGS__ }
#define T(...) .tags = { __VA_ARGS__ }
#define FROM(n, u, h) .nick = n, .user = u, .host = h

static const ParseCase parse_cases[] = {
    /* real InspIRCd 3 lines (shared/fixtures/irc-ircv3) */
    { "@time=2026-11-21T21:26:25.435Z;msgid=0IR~1795296383~0 :verifyB!verifyB@127.0.0.1 PRIVMSG "
      "#fixture :hello",
      .command = "PRIVMSG", FROM("verifyB", "verifyB", "127.0.0.1"), P("#fixture", "hello"),
      T("time", "2026-11-21T21:26:25.435Z", "msgid", "0IR~1795296383~0") },
    { "@time=2026-11-21T21:26:27.683Z;msgid=0IR~1795296383~5;inspircd.org/echo;account=saslbot "
      ":verifyD!verifyD@127.0.0.1 PRIVMSG #fixture :echo test 1795296387",
      .command = "PRIVMSG", FROM("verifyD", "verifyD", "127.0.0.1"),
      P("#fixture", "echo test 1795296387"),
      T("time", "2026-11-21T21:26:27.683Z", "msgid", "0IR~1795296383~5", "inspircd.org/echo", "",
        "account", "saslbot") },
    { "@time=2026-11-21T21:26:27.683Z :verifyB!verifyB@127.0.0.1 AWAY :gone fishing",
      .command = "AWAY", FROM("verifyB", "verifyB", "127.0.0.1"), P("gone fishing"),
      T("time", "2026-11-21T21:26:27.683Z") },
    { ":irc.test CAP * LS * :account-notify account-tag away-notify batch cap-notify",
      .command = "CAP", FROM("irc.test", NULL, NULL),
      P("*", "LS", "*", "account-notify account-tag away-notify batch cap-notify") },
    { ":irc.test CAP * LS :sasl=PLAIN,EXTERNAL server-time", .command = "CAP",
      FROM("irc.test", NULL, NULL), P("*", "LS", "sasl=PLAIN,EXTERNAL server-time") },
    { ":irc.test 001 verifyA :Welcome to the TestNet IRC Network verifyA!verifyA@127.0.0.1",
      .command = "001", FROM("irc.test", NULL, NULL),
      P("verifyA", "Welcome to the TestNet IRC Network verifyA!verifyA@127.0.0.1") },
    { ":irc.test 904 verifyC :SASL authentication failed", .command = "904",
      FROM("irc.test", NULL, NULL), P("verifyC", "SASL authentication failed") },
    { "AUTHENTICATE +", .command = "AUTHENTICATE", P("+") },
    { "PING :irc.test", .command = "PING", P("irc.test") },
    /* shapes */
    { "ping irc.test", .command = "PING", P("irc.test") },
    { "PRIVMSG #a :", .command = "PRIVMSG", P("#a", "") },
    { "PRIVMSG #a ::-) :x", .command = "PRIVMSG", P("#a", ":-) :x") },
    { "  :n!u@h   PRIVMSG   #a   :hi  there ", .command = "PRIVMSG", FROM("n", "u", "h"),
      P("#a", "hi  there ") },
    { "QUIT ", .command = "QUIT" },
    { "QUIT", .command = "QUIT" },
    { ":n@h.example CMD x", .command = "CMD", FROM("n", NULL, "h.example"), P("x") },
    { ":n!u CMD", .command = "CMD", FROM("n", "u", NULL) },
    { ":!@ CMD", .command = "CMD" },
    { ": CMD", .command = "CMD" },
    { "MODE #a +b n!*@*:x", .command = "MODE", P("#a", "+b", "n!*@*:x") },
    { "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 :20 x", .command = "CMD",
      P("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
        "18", "19", "20 x") },
    { "PRIVMSG #a :caf\xe9 \xff\xfe", .command = "PRIVMSG", P("#a", "caf\xe9 \xff\xfe") },
    { ":\xff!\xfe@\xfd PRIV\xe9 x", .command = "PRIV\xe9", FROM("\xff", "\xfe", "\xfd"), P("x") },
    /* tags: escaping, empty and missing values, duplicates, odd keys */
    { "@a=b\\:c\\sd\\\\e\\r\\n;empty=;novalue;+draft/reply=x\\q\\ :n!u@h TAGMSG #c",
      .command = "TAGMSG", FROM("n", "u", "h"), P("#c"),
      T("a", "b;c d\\e\r\n", "empty", "", "novalue", "", "+draft/reply", "xq") },
    { "@a=1;a=2;;=x;k=a=b CMD", .command = "CMD", T("a", "2", "k", "a=b") },
    { "@ CMD", .command = "CMD" },
    /* no command */
    { .raw = "" },
    { .raw = "     " },
    { .raw = "@a=b" },
    { .raw = "@a=b   " },
    { .raw = ":prefix" },
    { .raw = ":prefix   " },
    { .raw = "@a=b :n!u@h" },
    { .raw = "@a=b :n!u@h " },
    { .raw = ":" },
    { .raw = "@" },
};

static guint count_tags(const ParseCase *c)
{
    guint n = 0;
    while (c->tags[2 * n])
        n++;
    return n;
}

static void test_parse_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
        const ParseCase *c = &parse_cases[i];
        g_test_message("case %u: %s", i, c->raw);
        g_autoptr(CwIrcLine) line = cw_irc_line_parse(c->raw);
        if (!c->command) {
            g_assert_null(line);
            continue;
        }
        g_assert_nonnull(line);
        g_assert_cmpstr(line->command, ==, c->command);
        g_assert_cmpstr(line->nick, ==, c->nick);
        g_assert_cmpstr(line->user, ==, c->user);
        g_assert_cmpstr(line->host, ==, c->host);
        guint n = 0;
        while (c->params[n])
            n++;
        g_assert_cmpuint(line->params->len, ==, n);
        for (guint p = 0; p < n; p++)
            g_assert_cmpstr(cw_irc_line_param(line, p), ==, c->params[p]);
        g_assert_null(cw_irc_line_param(line, n));
        g_assert_cmpstr(cw_irc_line_last_param(line), ==, n ? c->params[n - 1] : NULL);
        g_assert_cmpuint(g_hash_table_size(line->tags), ==, count_tags(c));
        for (guint t = 0; c->tags[2 * t]; t++)
            g_assert_cmpstr(cw_irc_line_tag(line, c->tags[2 * t]), ==, c->tags[2 * t + 1]);
    }
}

static void test_parse_source(void)
{
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(":verifyA!verifyA@127.0.0.1 JOIN #fixture");
    g_assert_cmpstr(line->source, ==, "verifyA!verifyA@127.0.0.1");
    g_autoptr(CwIrcLine) bare = cw_irc_line_parse("JOIN #fixture");
    g_assert_null(bare->source);
    g_assert_null(cw_irc_line_tag(bare, "time"));
    g_assert_null(cw_irc_line_parse(NULL));
}

static void test_numeric(void)
{
    static const struct {
        const char *raw;
        int numeric;
    } cases[] = {
        { ":irc.test 001 a :hi", 1 },
        { ":irc.test 433 * a :in use", 433 },
        { "999 x", 999 },
        { "PRIVMSG #a :x", -1 },
        { "12 x", -1 },
        { "1234 x", -1 },
        { "1a3 x", -1 },
        { "0 x", -1 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CwIrcLine) line = cw_irc_line_parse(cases[i].raw);
        g_assert_cmpint(cw_irc_line_numeric(line), ==, cases[i].numeric);
    }
}

/* A very long line with many parameters and tags: no limit, no overrun. */
static void test_parse_many(void)
{
    g_autoptr(GString) raw = g_string_new("@");
    for (int i = 0; i < 300; i++)
        g_string_append_printf(raw, "k%d=v\\s%d;", i, i);
    g_string_append(raw, " :n!u@h CMD");
    for (int i = 0; i < 500; i++)
        g_string_append_printf(raw, " p%d", i);
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(raw->str);
    g_assert_nonnull(line);
    g_assert_cmpuint(g_hash_table_size(line->tags), ==, 300);
    g_assert_cmpstr(cw_irc_line_tag(line, "k299"), ==, "v 299");
    g_assert_cmpuint(line->params->len, ==, 500);
    g_assert_cmpstr(cw_irc_line_param(line, 499), ==, "p499");
}

/* ---- building ----------------------------------------------------------- */

typedef struct {
    const char *command;
    const char *params[18]; /* NULL-terminated */
    const char *expect;     /* NULL: refused */
} BuildCase;

static const BuildCase build_cases[] = {
    { "PRIVMSG", { "#chan", "hello world" }, "PRIVMSG #chan :hello world" },
    { "PRIVMSG", { "#chan", "hello" }, "PRIVMSG #chan hello" },
    { "PRIVMSG", { "#chan", ":-)" }, "PRIVMSG #chan ::-)" },
    { "PRIVMSG", { "#chan", "" }, "PRIVMSG #chan :" },
    { "PRIVMSG",
      { "#chan", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" },
      "PRIVMSG #chan :caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" },
    { "NICK", { "alice" }, "NICK alice" },
    { "USER", { "alice", "0", "*", "Alice Liddell" }, "USER alice 0 * :Alice Liddell" },
    { "CAP", { "LS", "302" }, "CAP LS 302" },
    { "QUIT", { NULL }, "QUIT" },
    { "privmsg", { "#a", "x" }, "privmsg #a x" },
    { "001", { "a", "hi there" }, "001 a :hi there" },
    { "C",
      { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15 x" },
      "C 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 x" },
    /* injection through the text */
    { "PRIVMSG", { "#chan", "hi\r\nQUIT :x" }, NULL },
    { "PRIVMSG", { "#chan", "hi\nQUIT :x" }, NULL },
    { "PRIVMSG", { "#chan", "hi\rQUIT :x" }, NULL },
    { "PRIVMSG", { "#chan", "\r\n" }, NULL },
    /* injection through a target (a middle parameter) */
    { "PRIVMSG", { "#chan :x", "hi" }, NULL },
    { "PRIVMSG", { "#chan\r\nQUIT", "hi" }, NULL },
    { "PRIVMSG", { ":#chan", "hi" }, NULL },
    { "PRIVMSG", { "", "hi" }, NULL },
    { "KICK", { "#a", "bob\n", "bye" }, NULL },
    /* bad commands */
    { "PRIV MSG", { "#a", "x" }, NULL },
    { "PRIVMSG\r\nQUIT", { "#a", "x" }, NULL },
    { "", { "#a" }, NULL },
    { ":x", { "#a" }, NULL },
    { "C",
      { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16" },
      NULL },
};

static void test_build_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(build_cases); i++) {
        const BuildCase *c = &build_cases[i];
        g_test_message("case %u: %s", i, c->command);
        g_autofree char *line = cw_irc_line_buildv(c->command, c->params);
        g_assert_cmpstr(line, ==, c->expect);
        if (!line)
            continue;
        g_assert_null(strpbrk(line, "\r\n"));
        /* what we build parses back into the same parameters */
        g_autoptr(CwIrcLine) parsed = cw_irc_line_parse(line);
        g_assert_nonnull(parsed);
        guint n = 0;
        while (c->params[n])
            n++;
        g_assert_cmpuint(parsed->params->len, ==, n);
        for (guint p = 0; p < n; p++)
            g_assert_cmpstr(cw_irc_line_param(parsed, p), ==, c->params[p]);
    }
}

static void test_build_varargs(void)
{
    g_autofree char *a = cw_irc_line_build("PRIVMSG", "#a", "hi there", NULL);
    g_assert_cmpstr(a, ==, "PRIVMSG #a :hi there");
    g_autofree char *b = cw_irc_line_build("QUIT", NULL);
    g_assert_cmpstr(b, ==, "QUIT");
    g_autofree char *c = cw_irc_line_build("PRIVMSG", "#a", "hi\r\nQUIT :x", NULL);
    g_assert_null(c);
    g_assert_null(cw_irc_line_buildv(NULL, NULL));
    /* a C string ends at NUL: the text after it is never sent */
    static const char with_nul[] = "hi\0QUIT :x";
    g_autofree char *d = cw_irc_line_build("PRIVMSG", "#a", with_nul, NULL);
    g_assert_cmpstr(d, ==, "PRIVMSG #a hi");
}

/* ---- line buffer -------------------------------------------------------- */

static GPtrArray *drain(CwIrcLineBuffer *buf)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    char *line;
    while ((line = cw_irc_line_buffer_next(buf, NULL)))
        g_ptr_array_add(lines, line);
    return lines;
}

typedef struct {
    const char *chunks[6]; /* NULL-terminated, pushed in order */
    const char *lines[6];  /* expected complete lines */
} BufferCase;

static const BufferCase buffer_cases[] = {
    { { "PING :a\r\n" }, { "PING :a" } },
    { { "PING :a\n" }, { "PING :a" } },
    { { "PING :a\r\nPI", "NG :b\n", "\r\n", "x" }, { "PING :a", "PING :b" } },
    { { "PING :a\r", "\n" }, { "PING :a" } },
    { { "\r\n\n\r\n\n" }, { NULL } },
    { { "a\rb\r\n" }, { "a\rb" } },
    { { "a\r\r\n" }, { "a\r" } },
    { { "no end" }, { NULL } },
    { { "", "a\n", "" }, { "a" } },
    { { "@time=2026-11-21T21:26:25.435Z;msgid=0IR~1795296383~0 :verifyB!verifyB@127.0.0.1 PRIVMSG "
        "#fixture :hello\r\n"
        ":irc.test CAP * LS * :account-notify\r\n:irc.test CAP * LS :sasl\r\n" },
      { "@time=2026-11-21T21:26:25.435Z;msgid=0IR~1795296383~0 :verifyB!verifyB@127.0.0.1 PRIVMSG "
        "#fixture :hello",
        ":irc.test CAP * LS * :account-notify", ":irc.test CAP * LS :sasl" } },
};

static void test_buffer_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(buffer_cases); i++) {
        const BufferCase *c = &buffer_cases[i];
        g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
        for (guint k = 0; c->chunks[k]; k++)
            cw_irc_line_buffer_push(buf, c->chunks[k], strlen(c->chunks[k]));
        g_autoptr(GPtrArray) lines = drain(buf);
        guint n = 0;
        while (c->lines[n])
            n++;
        g_assert_cmpuint(lines->len, ==, n);
        for (guint k = 0; k < n; k++)
            g_assert_cmpstr(g_ptr_array_index(lines, k), ==, c->lines[k]);
        g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 0);
    }
}

/* Every split point of a stream gives the same lines. */
static void test_buffer_any_split(void)
{
    static const char stream[] =
        ":a!b@c PRIVMSG #x :one\r\n\r\nPING :two\n@t=1 :s 001 n :three\r\n";
    gsize len = strlen(stream);
    for (gsize step = 1; step <= len; step++) {
        g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
        for (gsize off = 0; off < len; off += step)
            cw_irc_line_buffer_push(buf, stream + off, MIN(step, len - off));
        g_autoptr(GPtrArray) lines = drain(buf);
        g_assert_cmpuint(lines->len, ==, 3);
        g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, ":a!b@c PRIVMSG #x :one");
        g_assert_cmpstr(g_ptr_array_index(lines, 1), ==, "PING :two");
        g_assert_cmpstr(g_ptr_array_index(lines, 2), ==, "@t=1 :s 001 n :three");
    }
}

static char *repeat(char c, gsize n)
{
    char *s = g_malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_buffer_overlong(void)
{
    g_autofree char *max = repeat('a', CW_IRC_LINE_MAX);
    g_autofree char *over = repeat('b', CW_IRC_LINE_MAX + 1);
    g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();

    /* exactly the limit passes, with or without CR */
    cw_irc_line_buffer_push(buf, max, CW_IRC_LINE_MAX);
    cw_irc_line_buffer_push(buf, "\r\n", 2);
    cw_irc_line_buffer_push(buf, max, CW_IRC_LINE_MAX);
    cw_irc_line_buffer_push(buf, "\n", 1);
    /* one byte more is dropped, with or without CR, and the next line survives */
    cw_irc_line_buffer_push(buf, over, CW_IRC_LINE_MAX + 1);
    cw_irc_line_buffer_push(buf, "\r\nPING :after1\r\n", 16);
    cw_irc_line_buffer_push(buf, over, CW_IRC_LINE_MAX + 1);
    cw_irc_line_buffer_push(buf, "\nPING :after2\r\n", 15);

    gsize len = 0;
    g_autofree char *l1 = cw_irc_line_buffer_next(buf, &len);
    g_assert_cmpuint(len, ==, CW_IRC_LINE_MAX);
    g_assert_cmpstr(l1, ==, max);
    g_autofree char *l2 = cw_irc_line_buffer_next(buf, &len);
    g_assert_cmpstr(l2, ==, max);
    g_autofree char *l3 = cw_irc_line_buffer_next(buf, NULL);
    g_assert_cmpstr(l3, ==, "PING :after1");
    g_autofree char *l4 = cw_irc_line_buffer_next(buf, NULL);
    g_assert_cmpstr(l4, ==, "PING :after2");
    g_assert_null(cw_irc_line_buffer_next(buf, NULL));
    g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 2);
    g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 0);
}

/* A flood without LF, in small chunks and in one huge chunk: dropped once. */
static void test_buffer_flood(void)
{
    g_autofree char *chunk = repeat('x', 100);
    g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
    for (int i = 0; i < 1000; i++)
        cw_irc_line_buffer_push(buf, chunk, 100);
    g_assert_null(cw_irc_line_buffer_next(buf, NULL));
    cw_irc_line_buffer_push(buf, "tail\r\nPING :ok\r\n", 16);
    g_autofree char *l = cw_irc_line_buffer_next(buf, NULL);
    g_assert_cmpstr(l, ==, "PING :ok");
    g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 1);

    gsize huge_len = 1 << 20;
    g_autofree char *huge = repeat('y', huge_len);
    huge[huge_len - 1] = '\n';
    cw_irc_line_buffer_push(buf, huge, huge_len);
    cw_irc_line_buffer_push(buf, "PING :ok2\n", 10);
    g_autofree char *l2 = cw_irc_line_buffer_next(buf, NULL);
    g_assert_cmpstr(l2, ==, "PING :ok2");
    g_assert_cmpuint(cw_irc_line_buffer_take_dropped(buf), ==, 1);
}

/* NUL bytes are kept in the line; the length says so. */
static void test_buffer_nul(void)
{
    g_autoptr(CwIrcLineBuffer) buf = cw_irc_line_buffer_new();
    cw_irc_line_buffer_push(buf, "PRIVMSG #a :x\0QUIT\r\n", 20);
    gsize len = 0;
    g_autofree char *line = cw_irc_line_buffer_next(buf, &len);
    g_assert_cmpuint(len, ==, 18);
    g_assert_cmpmem(line, len, "PRIVMSG #a :x\0QUIT", 18);
    g_autoptr(CwIrcLine) parsed = cw_irc_line_parse(line);
    g_assert_cmpstr(cw_irc_line_last_param(parsed), ==, "x");
    cw_irc_line_buffer_push(buf, NULL, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc/line/parse/table", test_parse_table);
    g_test_add_func("/irc/line/parse/source", test_parse_source);
    g_test_add_func("/irc/line/parse/numeric", test_numeric);
    g_test_add_func("/irc/line/parse/many", test_parse_many);
    g_test_add_func("/irc/line/build/table", test_build_table);
    g_test_add_func("/irc/line/build/varargs", test_build_varargs);
    g_test_add_func("/irc/line/buffer/table", test_buffer_table);
    g_test_add_func("/irc/line/buffer/any-split", test_buffer_any_split);
    g_test_add_func("/irc/line/buffer/overlong", test_buffer_overlong);
    g_test_add_func("/irc/line/buffer/flood", test_buffer_flood);
    g_test_add_func("/irc/line/buffer/nul", test_buffer_nul);
    return g_test_run();
}
