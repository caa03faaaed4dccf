/* test-purple-html.c — libpurple message HTML to plain text and back
 * (transports/purple/purple-html.c). */
#include <string.h>

#include "purple/purple-html.h"

typedef struct {
    const char *html;
    const char *text;
} Case;

static void
check_cases(const Case *cases, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        g_autofree char *got = cw_purple_html_to_text(cases[i].html);
        if (g_strcmp0(got, cases[i].text) != 0)
            g_test_message("input: %s", cases[i].html);
        g_assert_cmpstr(got, ==, cases[i].text);
        g_assert_true(g_utf8_validate(got, -1, NULL));
    }
}

static void
test_null(void)
{
    g_assert_null(cw_purple_html_to_text(NULL));
    g_assert_null(cw_purple_text_to_html(NULL));
    g_autofree char *empty = cw_purple_html_to_text("");
    g_assert_cmpstr(empty, ==, "");
}

/* What real prpls hand the UI. */
static void
test_real_output(void)
{
    static const Case cases[] = {
        /* prpl-jabber, XHTML-IM */
        {"<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
         "xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html>",
         "hi"},
        {"<html xmlns=\"http://jabber.org/protocol/xhtml-im\"><body "
         "xmlns=\"http://www.w3.org/1999/xhtml\"><p>line 1</p><p>line 2</p></body></html>",
         "line 1\nline 2"},
        {"<body xmlns='http://www.w3.org/1999/xhtml'><p style='font-weight: bold'>bold</p>"
         "<p><span style='color: #ff0000'>red</span> text</p></body>",
         "bold\nred text"},
        /* Pidgin */
        {"<font color=\"#FF0000\"><b>red</b></font>", "red"},
        {"<FONT COLOR=\"#0000ff\" FACE=\"Arial\" SIZE=\"3\"><I>blue</I> <U>under</U></FONT>",
         "blue under"},
        {"<span style=\"font-size: small; color: #1E90FF;\">styled</span>", "styled"},
        {"first line<br>second line<br/>third<br />fourth",
         "first line\nsecond line\nthird\nfourth"},
        /* AIM / ICQ (oscar) */
        {"<HTML><BODY BGCOLOR=\"#ffffff\">x</BODY></HTML>", "x"},
        {"<HTML><BODY BGCOLOR=\"#ffffff\"><FONT LANG=\"0\">hello <B>there</B></FONT></BODY></HTML>",
         "hello there"},
        {"<html><body ichatballooncolor=\"#7BB5EE\" ichattextcolor=\"#000000\"><font "
         "face=\"Helvetica\" ABSZ=12 color=\"#000000\">iChat says hi</font></body></html>",
         "iChat says hi"},
        /* plain text through purple_markup_escape_text */
        {"fish &amp; chips &lt;3 &quot;yes&quot; &gt;_&lt; it&apos;s",
         "fish & chips <3 \"yes\" >_< it's"},
        {"a &lt;b&gt; tag", "a <b> tag"},
        /* prpls that pass newlines as they are */
        {"one\ntwo", "one\ntwo"},
        {"<div>a</div><div>b</div>", "a\nb"},
        {"a<div>b</div>c", "a\nb\nc"},
        {"<ul><li>one</li><li>two</li></ul>after", "one\ntwo\nafter"},
        {"<!-- comment -->visible<!-- another\nline -->", "visible"},
        {"<!DOCTYPE html><html><head><title>t</title><style>p { color: red }</style></head>"
         "<body>body<script type=\"text/javascript\">alert('<b>x</b>');</script> end</body></html>",
         "body end"},
        {"<?xml version=\"1.0\"?><p>x</p>", "x"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_newlines(void)
{
    static const Case cases[] = {
        {"a<br><br><br><br>b", "a\n\nb"}, {"a\n\n\n\nb", "a\n\nb"},
        {"a<br>\n<br>\nb", "a\n\nb"},     {"<br><br>a<br><br>", "a"},
        {"  \n padded \t\n", "padded"},   {"<p>a<br></p><p>b</p>", "a\nb"},
        {"<p></p><p></p><p>x</p>", "x"},  {"a</br>b", "a\nb"},
        {"a<BR>b<Br/>c", "a\nb\nc"},      {"a&#10;&#10;&#10;b", "a\n\nb"},
        {"<div><p>a</p></div>b", "a\nb"}, {"<h1>Title</h1>text<hr>more", "Title\ntext\nmore"},
        {"a  b   c", "a  b   c"},         {"&nbsp;&nbsp;x&nbsp; y", "x  y"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_links(void)
{
    static const Case cases[] = {
        {"<a href=\"http://example.com/\">example</a>", "example (http://example.com/)"},
        {"see <a href=\"https://example.com/x?a=1&amp;b=2\">this</a>!",
         "see this (https://example.com/x?a=1&b=2)!"},
        /* Pidgin's linkified URL: text equals href */
        {"<A HREF=\"http://example.com/\">http://example.com/</A>", "http://example.com/"},
        {"<a href='https://pidgin.im'>https://pidgin.im</a> rocks", "https://pidgin.im rocks"},
        /* linkify's www. and e-mail forms */
        {"<a href=\"http://www.example.com\">www.example.com</a>", "www.example.com"},
        {"<a href=\"mailto:bob@example.com\">bob@example.com</a>", "bob@example.com"},
        {"<a href=\"mailto:bob@example.com\">Bob</a>", "Bob (mailto:bob@example.com)"},
        {"<a href=\"xmpp:room@conf.example.org?join\">the room</a>",
         "the room (xmpp:room@conf.example.org?join)"},
        /* schemes not shown */
        {"<a href=\"javascript:alert(1)\">click</a>", "click"},
        {"<a href=\"file:///etc/passwd\">file</a>", "file"},
        {"<a href=\"ftp://example.com/\">ftp</a>", "ftp"},
        {"<a href=\"data:text/html,x\">d</a>", "d"},
        {"<a href=\"http://a.example/\nb\">ctl</a>", "ctl"},
        {"<a name=\"anchor\">named</a>", "named"},
        /* empty text, unclosed, nested, case */
        {"<a href=\"http://example.com/\"></a>", "http://example.com/"},
        {"<a href=\"http://example.com/\">open", "open (http://example.com/)"},
        {"<a href=\"http://a/\">A<a href=\"http://b/\">B</a>", "A (http://a/)B (http://b/)"},
        {"<a href=HTTP://EXAMPLE.COM/>up</a>", "up (HTTP://EXAMPLE.COM/)"},
        {"<a href=\" http://example.com/ \">sp</a>", "sp (http://example.com/)"},
        {"<a title=\"t\" href='http://x.example/a\"b'>q</a>", "q (http://x.example/a\"b)"},
        {"<a href=\"http://example.com/\"><b>bold</b> link</a>", "bold link (http://example.com/)"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_images(void)
{
    static const Case cases[] = {
        {"<img src=\"smile.png\" alt=\":-)\">", ":-)"},
        {"I am <IMG ID=\"3\" ALT=\"&lt;3\"> you", "I am <3 you"},
        {"<img src=\"x.png\">no alt", "no alt"},
        {"<img alt=\"a&#10;&#10;&#10;b\"/>", "a\n\nb"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_entities(void)
{
    static const Case cases[] = {
        {"&amp;&lt;&gt;&quot;&apos;", "&<>\"'"},
        {"&AMP;&Lt;&GT;", "&<>"},
        {"&#65;&#x42;&#X43;&#0000068;", "ABCD"},
        {"&#233;&#x20AC;&#x1F642;", "é€🙂"},
        {"&#0;", "\xEF\xBF\xBD"},
        {"&#xD800;&#xDFFF;", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"&#x110000;&#99999999999999999999;", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"&#x10FFFF;", "\xF4\x8F\xBF\xBF"},
        {"&copy; &hellip; &mdash;", "© … —"},
        /* not entities */
        {"&amp", "&amp"},
        {"AT&T", "AT&T"},
        {"&unknown;", "&unknown;"},
        {"&#;&#x;&#12a;", "&#;&#x;&#12a;"},
        {"& ; &&amp;", "& ; &&"},
        {"&amp;lt;", "&lt;"},
        {"<b>&lt;b&gt;</b>", "<b>"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_broken(void)
{
    static const Case cases[] = {
        {"<b>unclosed", "unclosed"},
        {"<b><i><u>deep", "deep"},
        {"</b>stray end", "stray end"},
        {"<a href=\"x>y\">link</a>", "link"},
        {"<a href=\"http://e.example/?q=a>b\">q</a>", "q (http://e.example/?q=a>b)"},
        {"<font face='a>b' color=\"c>d\">text</font>", "text"},
        {"a < b", "a < b"},
        {"a > b", "a > b"},
        {"<3", "<3"},
        {"<<b>>", "<>"},
        {"1 <2 and 3> 2", "1 <2 and 3> 2"},
        {"1 <b and 3> 2", "1  2"},
        {"x <", "x <"},
        {"x </", "x </"},
        {"x </>", "x </>"},
        {"I <love you", "I <love you"},
        {"ok <b>then <i", "ok then <i"},
        {"<b", "<b"},
        {"a <b c='unmatched>d", "a d"},
        {"a <b c='x' d='unmatched", "a <b c='x' d='unmatched"},
        {"<b c=\"x\" <i>y</i>", "y"},
        {"<!-- never closed", "<!-- never closed"},
        {"<!-- a --><!-- b", "<!-- b"},
        {"<!doctype", "<!doctype"},
        {"<script>alert(1)", ""},
        {"a<style>x</STYLE >b", "ab"},
        {"<unknown attr=1>kept</unknown>", "kept"},
        {"<o:p></o:p>office", "office"},
        {"a<=b", "a<=b"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_utf8(void)
{
    static const Case cases[] = {
        {"emoji 🙂👍🏽 and 👨‍👩‍👧", "emoji 🙂👍🏽 and 👨‍👩‍👧"},
        {"<b>Привет</b>, 世界", "Привет, 世界"},
        {"bad \xFF byte", "bad \xEF\xBF\xBD byte"},
        {"\xC3(", "\xEF\xBF\xBD("},
        {"split \xC3<b>\xA9", "split \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"surrogate \xED\xA0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"truncated \xF0\x9F\x99", "truncated \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"<img alt=\"\xFE\">", "\xEF\xBF\xBD"},
    };
    check_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_plain_passthrough(void)
{
    static const char *const plain[] = {
        "hello",
        "just some text, with punctuation: 100% (really) - ok?",
        "multi\nline\n\ntext",
        "tabs\tand  spaces",
        "unicode: äöü ß ñ 🙂",
        "a = b; c == d",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(plain); i++) {
        g_autofree char *got = cw_purple_html_to_text(plain[i]);
        g_assert_cmpstr(got, ==, plain[i]);
    }
}

static void
test_text_to_html(void)
{
    static const Case cases[] = {
        {"", ""},
        {"hello", "hello"},
        {"a & b < c > d \"e\" 'f'", "a &amp; b &lt; c &gt; d &quot;e&quot; 'f'"},
        {"one\ntwo\n\nthree", "one<br>two<br><br>three"},
        {"<b>not bold</b>", "&lt;b&gt;not bold&lt;/b&gt;"},
        {"&amp;", "&amp;amp;"},
        {"🙂", "🙂"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_purple_text_to_html(cases[i].html);
        g_assert_cmpstr(got, ==, cases[i].text);
    }
}

/* Random text without leading or trailing whitespace (and without 3 newlines
 * in a row, which html_to_text limits to 2) survives the round trip. */
static void
test_round_trip(void)
{
    static const char *const atoms[] = {
        "a",
        "Z",
        "0",
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "&",
        "<",
        ">",
        "\"",
        "'",
        ";",
        "#",
        "=",
        "/",
        "!",
        "-",
        "&amp;",
        "&lt;",
        "&#65;",
        "&#x0;",
        "<b>",
        "</a>",
        "<br>",
        "<!--",
        "-->",
        "é",
        "€",
        "🙂",
        "\xC2\xA0",
        "x",
        "http://example.com/",
        "<a href=\"http://x/\">",
    };
    GRand *rand = g_rand_new_with_seed(20240611);
    for (int round = 0; round < 5000; round++) {
        GString *s = g_string_new(NULL);
        int n = g_rand_int_range(rand, 1, 40);
        for (int i = 0; i < n; i++)
            g_string_append(s, atoms[g_rand_int_range(rand, 0, G_N_ELEMENTS(atoms))]);
        /* no 3 newlines in a row */
        char *nnn;
        while ((nnn = strstr(s->str, "\n\n\n")))
            g_string_erase(s, nnn - s->str, 1);
        g_autofree char *trimmed = g_strdup(s->str);
        g_strstrip(trimmed);
        g_string_free(s, TRUE);
        g_autofree char *html = cw_purple_text_to_html(trimmed);
        g_autofree char *back = cw_purple_html_to_text(html);
        if (strcmp(back, trimmed) != 0)
            g_test_message("html: %s", html);
        g_assert_cmpstr(back, ==, trimmed);
    }
    g_rand_free(rand);
}

static void
test_long_input(void)
{
    /* 3 MiB of text: cut to 1 MiB. */
    gsize big = 3 * CW_PURPLE_HTML_MAX_INPUT;
    char *s = g_malloc(big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    g_autofree char *got = cw_purple_html_to_text(s);
    g_assert_cmpuint(strlen(got), ==, CW_PURPLE_HTML_MAX_INPUT);
    g_free(s);

    /* The cut falls inside a 4-byte character: it goes before it. */
    gsize m = CW_PURPLE_HTML_MAX_INPUT;
    s = g_malloc(m + 8);
    memset(s, 'y', m - 2);
    memcpy(s + m - 2, "\xF0\x9F\x99\x82zz", 6);
    s[m + 4] = '\0';
    g_autofree char *cut = cw_purple_html_to_text(s);
    g_assert_cmpuint(strlen(cut), ==, m - 2);
    g_assert_true(g_utf8_validate(cut, -1, NULL));
    g_free(s);

    /* Long pathological markup stays fast (linear): unclosed quotes, tags,
     * comments and entities repeated. */
    static const char *const units[] = {
        "<a \">\"", "<!--", "<a href='", "&#1111111", "<b ", "<a \"<", "<a href=\"http://x/\">y",
        "<br>",     "&"};
    for (gsize u = 0; u < G_N_ELEMENTS(units); u++) {
        GString *g = g_string_new(NULL);
        while (g->len < CW_PURPLE_HTML_MAX_INPUT)
            g_string_append(g, units[u]);
        gint64 start = g_get_monotonic_time();
        g_autofree char *t = cw_purple_html_to_text(g->str);
        gint64 ms = (g_get_monotonic_time() - start) / 1000;
        g_assert_true(g_utf8_validate(t, -1, NULL));
        g_assert_cmpuint(strlen(t), <=, 4 * g->len + 64);
        g_assert_cmpint(ms, <, 5000);
        g_string_free(g, TRUE);
    }
}

static void
test_deep_nesting(void)
{
    GString *g = g_string_new(NULL);
    for (int i = 0; i < 100000; i++)
        g_string_append(g, "<b>");
    g_string_append(g, "deep");
    for (int i = 0; i < 100000; i++)
        g_string_append(g, "</b>");
    g_autofree char *got = cw_purple_html_to_text(g->str);
    g_assert_cmpstr(got, ==, "deep");
    g_string_free(g, TRUE);

    /* 100000 open links: each is closed by the next, output stays bounded. */
    g = g_string_new(NULL);
    for (int i = 0; i < 100000; i++)
        g_string_append(g, "<a href=\"http://x/\">");
    g_autofree char *links = cw_purple_html_to_text(g->str);
    g_assert_cmpuint(strlen(links), <=, 4 * g->len + 64);
    g_assert_true(g_str_has_prefix(links, "http://x/http://x/"));
    g_string_free(g, TRUE);
}

/* ---- XHTML-IM (XEP-0071) ---- */

/* Is fragment well-formed XML inside a <body/>? GMarkup is a strict XML parser. */
static gboolean
well_formed(const char *fragment)
{
    g_autofree char *doc = g_strdup_printf("<body xmlns='http://www.w3.org/1999/xhtml'>%s</body>",
                                           fragment);
    GMarkupParser parser = {0};
    g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, NULL, NULL);
    g_autoptr(GError) error = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, doc, -1, &error) &&
                  g_markup_parse_context_end_parse(ctx, &error);
    if (!ok)
        g_test_message("not well-formed (%s): %s", error->message, doc);
    return ok;
}

static void
test_xhtml(void)
{
    static const Case cases[] = {
        /* plain messages get no XHTML-IM */
        {"hello", NULL},
        {"a &amp; b &lt;3", NULL},
        {"line<br>line", NULL},
        {"<p>just a paragraph</p>", NULL},
        {"<html><body>plain</body></html>", NULL},
        {"<a href='javascript:alert(1)'>x</a>", NULL},
        {"<font face='Arial'>no colour</font>", NULL},
        /* the whitelist */
        {"<b>bold</b> and <i>it</i>", "<strong>bold</strong> and <em>it</em>"},
        {"<strong>s</strong><em>e</em>", "<strong>s</strong><em>e</em>"},
        {"<u>under</u>", "<span style='text-decoration: underline'>under</span>"},
        {"<font color=\"#FF0000\">red</font>", "<span style='color: #ff0000'>red</span>"},
        {"<font color=red size=3>red</font>", "<span style='color: red'>red</span>"},
        {"<a href=\"https://example.org/?a=1&amp;b=2\">link</a>",
         "<a href='https://example.org/?a=1&amp;b=2'>link</a>"},
        {"<a href='mailto:x@y'>m</a> <a href='xmpp:a@b'>x</a>",
         "<a href='mailto:x@y'>m</a> <a href='xmpp:a@b'>x</a>"},
        {"<b>a<br>b</b>", "<strong>a<br/>b</strong>"},
        {"<b>a\nb</b>", "<strong>a<br/>b</strong>"},
        /* prpl-jabber's own XHTML-IM, as it hands it over */
        {"<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
         "<p><strong>hi</strong> <span style='color: blue; font-size: 40px'>there</span></p></body></html>",
         "<p><strong>hi</strong> <span style='color: blue'>there</span></p>"},
        {"<span style='font-weight: bold; font-style: italic; text-decoration: underline'>x</span>",
         "<span style='font-weight: bold; font-style: italic; text-decoration: underline'>x</span>"},
        /* what is dropped */
        {"<b onclick='evil()'>x</b><script>alert(1)</script>", "<strong>x</strong>"},
        {"<span style='color: expression(alert(1))'>x</span><b>y</b>", "x<strong>y</strong>"},
        {"<span style='background: url(http://e/)'>x</span><i>y</i>", "x<em>y</em>"},
        {"<b>x</b><img src='http://t/' alt='[pic]'>", "<strong>x</strong>[pic]"},
        {"<a href='http://a/\x01'>x</a><b>y</b>", "x<strong>y</strong>"},
        {"<b>a\x01" "b</b>", "<strong>ab</strong>"},
        {"<b>&#xFFFE;&#1;ok&#0;</b>", "<strong>ok\xEF\xBF\xBD</strong>"},
        /* nesting repaired */
        {"<b><i>x</b>y</i>", "<strong><em>x</em></strong>y"},
        {"<b>open", "<strong>open</strong>"},
        {"</i><b>x</b></b></u>", "<strong>x</strong>"},
        {"<b>a < b & c > d \"q\" 'a'</b>", "<strong>a &lt; b &amp; c &gt; d \"q\" 'a'</strong>"},
        {"<a href=\"http://x/'onmouseover='y\">q</a>",
         "<a href='http://x/&apos;onmouseover=&apos;y'>q</a>"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_purple_html_to_xhtml(cases[i].html);
        if (g_strcmp0(got, cases[i].text) != 0)
            g_test_message("input: %s", cases[i].html);
        g_assert_cmpstr(got, ==, cases[i].text);
        if (got)
            g_assert_true(well_formed(got));
    }
    g_assert_null(cw_purple_html_to_xhtml(NULL));
}

static void
test_xhtml_deep(void)
{
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 1000; i++)
        g_string_append(in, i % 2 ? "<i>" : "<b>");
    g_string_append(in, "deep");
    g_autofree char *got = cw_purple_html_to_xhtml(in->str);
    g_assert_nonnull(got);
    g_assert_true(well_formed(got));
    g_assert_nonnull(strstr(got, "deep"));
    g_string_free(in, TRUE);
}

static void
test_xhtml_to_html(void)
{
    static const Case cases[] = {
        {"plain &amp; simple", NULL},
        {"<p>one</p><p>two</p>", NULL},
        {"<strong>b</strong> <em>i</em>", "<b>b</b> <i>i</i>"},
        {"<span style='text-decoration: underline; color: #00F'>u</span>",
         "<font color=\"#00f\"><u>u</u></font>"},
        {"<p><strong>a</strong></p><p>b</p>", "<b>a</b><br>b"},
        {"<a href='https://x.org/a?b=1&amp;c=2'>l</a>", "<a href=\"https://x.org/a?b=1&amp;c=2\">l</a>"},
        {"<a href='data:text/html,x'>l</a><em>e</em>", "l<i>e</i>"},
        {"<strong>x<br/>y</strong>", "<b>x<br>y</b>"},
        {"<strong>&lt;script&gt;</strong>", "<b>&lt;script&gt;</b>"},
        {"<img src='x' onerror='y'/><strong>z</strong><script>bad()</script>", "<b>z</b>"},
        /* libpurple HTML escapes quotes in text as cw_purple_text_to_html does */
        {"<em>\"q\" &apos;s&apos;</em>", "<i>&quot;q&quot; 's'</i>"},
        {"<a href='http://e.org/?a=\"b\"'>l</a>", "<a href=\"http://e.org/?a=&quot;b&quot;\">l</a>"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_purple_xhtml_to_html(cases[i].html);
        if (g_strcmp0(got, cases[i].text) != 0)
            g_test_message("input: %s", cases[i].html);
        g_assert_cmpstr(got, ==, cases[i].text);
    }
    /* and the text a plain-text client sees of it */
    g_autofree char *html = cw_purple_xhtml_to_html("<strong>bold</strong> <a href='http://e.org/'>site</a>");
    g_autofree char *text = cw_purple_html_to_text(html);
    g_assert_cmpstr(text, ==, "bold site (http://e.org/)");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/purple/html/null", test_null);
    g_test_add_func("/purple/html/real-output", test_real_output);
    g_test_add_func("/purple/html/newlines", test_newlines);
    g_test_add_func("/purple/html/links", test_links);
    g_test_add_func("/purple/html/images", test_images);
    g_test_add_func("/purple/html/entities", test_entities);
    g_test_add_func("/purple/html/broken", test_broken);
    g_test_add_func("/purple/html/utf8", test_utf8);
    g_test_add_func("/purple/html/plain-passthrough", test_plain_passthrough);
    g_test_add_func("/purple/html/text-to-html", test_text_to_html);
    g_test_add_func("/purple/html/round-trip", test_round_trip);
    g_test_add_func("/purple/html/long-input", test_long_input);
    g_test_add_func("/purple/html/deep-nesting", test_deep_nesting);
    g_test_add_func("/purple/html/xhtml", test_xhtml);
    g_test_add_func("/purple/html/xhtml-deep", test_xhtml_deep);
    g_test_add_func("/purple/html/xhtml-to-html", test_xhtml_to_html);
    return g_test_run();
}
