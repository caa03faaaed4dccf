/* fuzz-purple-html.c — libFuzzer harness for transports/purple/purple-html.c.
 *
 * The input is one string (up to its first NUL), taken as libpurple message
 * HTML: the text is valid UTF-8 without NUL and at most 4 times the input's
 * length + 64 bytes, and converting it again gives valid UTF-8 too. When the
 * input is valid UTF-8 it is also taken as plain text: cw_purple_text_to_html()
 * then cw_purple_html_to_text() gives it back, with runs of more than 2
 * newlines cut to 2 and ASCII whitespace trimmed at both ends (the only
 * changes html_to_text makes to escaped text).
 *
 * XEP-0071: cw_purple_html_to_xhtml() of the input, when not NULL, is a
 * well-formed XML fragment (GMarkup, a strict XML parser, accepts it inside a
 * <body/>), and so is its output fed back in; cw_purple_xhtml_to_html() of it
 * is valid UTF-8.
 */
#include "fuzz-common.h"

#include "purple/purple-html.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

static gboolean
trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What html_to_text(text_to_html(s)) should be: s with newline runs cut to 2, trimmed. */
static char *
expected_round_trip(const char *s)
{
    GString *e = g_string_new(NULL);
    for (const char *p = s; *p; p++) {
        if (*p == '\n' && e->len >= 2 && e->str[e->len - 1] == '\n' && e->str[e->len - 2] == '\n')
            continue;
        g_string_append_c(e, *p);
    }
    gsize lead = 0;
    while (lead < e->len && trim_space(e->str[lead]))
        lead++;
    g_string_erase(e, 0, lead);
    while (e->len > 0 && trim_space(e->str[e->len - 1]))
        g_string_truncate(e, e->len - 1);
    return g_string_free(e, FALSE);
}

static void
check_text(const char *in, const char *text)
{
    gsize in_len = strlen(in);
    CW_FUZZ_CHECK(text != NULL);
    gsize len = strlen(text);
    CW_FUZZ_CHECK(g_utf8_validate(text, len, NULL)); /* and no NUL before the end */
    CW_FUZZ_CHECK(len <= 4 * in_len + 64);
}

static void
check_well_formed(const char *fragment)
{
    char *doc = g_strdup_printf("<body xmlns='http://www.w3.org/1999/xhtml'>%s</body>", fragment);
    GMarkupParser parser = {0};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, NULL, NULL);
    gboolean ok = g_markup_parse_context_parse(ctx, doc, -1, NULL) &&
                  g_markup_parse_context_end_parse(ctx, NULL);
    CW_FUZZ_CHECK(ok);
    g_markup_parse_context_free(ctx);
    g_free(doc);
}

static void
check_xhtml(const char *s)
{
    char *xhtml = cw_purple_html_to_xhtml(s);
    if (!xhtml)
        return;
    check_well_formed(xhtml);
    char *again = cw_purple_html_to_xhtml(xhtml);
    CW_FUZZ_CHECK(again != NULL); /* its formatting survives */
    check_well_formed(again);
    char *html = cw_purple_xhtml_to_html(xhtml);
    CW_FUZZ_CHECK(html == NULL || g_utf8_validate(html, -1, NULL));
    g_free(html);
    g_free(again);
    g_free(xhtml);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = cw_fuzz_string(data, size);

    char *text = cw_purple_html_to_text(s);
    check_text(s, text);
    char *again = cw_purple_html_to_text(text);
    check_text(text, again);
    g_free(again);
    g_free(text);
    check_xhtml(s);

    if (g_utf8_validate(s, -1, NULL)) {
        char *html = cw_purple_text_to_html(s);
        CW_FUZZ_CHECK(html && g_utf8_validate(html, -1, NULL));
        if (strlen(html) > CW_PURPLE_HTML_MAX_INPUT) { /* would be cut: no round trip */
            g_free(html);
            g_free(s);
            return 0;
        }
        char *back = cw_purple_html_to_text(html);
        char *want = expected_round_trip(s);
        CW_FUZZ_CHECK(strcmp(back, want) == 0);
        g_free(want);
        g_free(back);
        g_free(html);
    }
    g_free(s);
    return 0;
}
