/* fuzz-irc-text.c — libFuzzer harness for irc-text.c: charsets, mIRC formatting, splitting, CTCP.
 *
 * The input is message text as it comes off an IRC socket (any bytes):
 *   - cw_irc_text_to_utf8() with a few fallback charsets gives valid UTF-8,
 *     and valid input passes through unchanged;
 *   - cw_irc_text_strip_format(), both styles, gives valid UTF-8 without C0
 *     controls except TAB and LF; the XEP-0393 output is the stripped text
 *     with '*' and '_' markers added, nothing else;
 *   - cw_irc_text_split() at limits from 4 to 600 gives chunks of valid UTF-8
 *     within the limit and without CR/LF that, put back together, are the
 *     text's lines less at most one space per cut;
 *   - CTCP parse/build agree.
 */
#include "fuzz-common.h"

#include "irc/irc-text.h"

static const char *const charsets[] = { NULL, "CP1252", "KOI8-R", "SHIFT_JIS", "no-such-charset" };

/* s without '*' and '_'. */
static char *
without_markers(const char *s)
{
    GString *out = g_string_new(NULL);
    for (const char *p = s; *p; p++)
        if (*p != '*' && *p != '_')
            g_string_append_c(out, *p);
    return g_string_free(out, FALSE);
}

static void
check_strip(const char *utf8)
{
    g_autofree char *plain = cw_irc_text_strip_format(utf8, CW_IRC_STYLE_STRIP);
    g_autofree char *styled = cw_irc_text_strip_format(utf8, CW_IRC_STYLE_XEP0393);
    CW_FUZZ_CHECK(plain && styled);
    CW_FUZZ_CHECK(g_utf8_validate(plain, -1, NULL));
    CW_FUZZ_CHECK(g_utf8_validate(styled, -1, NULL));
    CW_FUZZ_CHECK(!cw_fuzz_has_c0(plain, "\t\n"));
    CW_FUZZ_CHECK(!cw_fuzz_has_c0(styled, "\t\n"));
    CW_FUZZ_CHECK(strlen(plain) <= strlen(utf8) && strlen(styled) >= strlen(plain));
    g_autofree char *a = without_markers(plain);
    g_autofree char *b = without_markers(styled);
    CW_FUZZ_CHECK(strcmp(a, b) == 0);
    /* Stripping is idempotent. */
    g_autofree char *twice = cw_irc_text_strip_format(plain, CW_IRC_STYLE_STRIP);
    CW_FUZZ_CHECK(strcmp(twice, plain) == 0);
}

/* The chunks of one split, checked against the lines of the (repaired) text. */
static void
check_split(const char *text, gsize limit)
{
    g_autoptr(GPtrArray) chunks = cw_irc_text_split(text, limit);
    CW_FUZZ_CHECK(chunks != NULL);
    for (guint i = 0; i < chunks->len; i++) {
        const char *c = chunks->pdata[i];
        CW_FUZZ_CHECK(*c && strlen(c) <= limit);
        CW_FUZZ_CHECK(g_utf8_validate(c, -1, NULL));
        CW_FUZZ_CHECK(strpbrk(c, "\r\n") == NULL);
    }
    /* Nothing is lost but spaces, at most one per cut: the chunks, joined,
     * are the text's lines (joined too) with some spaces taken out. Greedy
     * matching is exact here: only spaces may be skipped. */
    g_autofree char *valid = g_utf8_make_valid(text, -1);
    g_autoptr(GString) lines = g_string_new(NULL);
    for (const char *p = valid; *p; p++)
        if (*p != '\r' && *p != '\n')
            g_string_append_c(lines, *p);
    g_autoptr(GString) joined = g_string_new(NULL);
    for (guint i = 0; i < chunks->len; i++)
        g_string_append(joined, chunks->pdata[i]);
    gsize i = 0, j = 0, skipped = 0;
    while (i < lines->len) {
        if (j < joined->len && lines->str[i] == joined->str[j]) {
            j++;
        } else {
            CW_FUZZ_CHECK(lines->str[i] == ' ');
            skipped++;
        }
        i++;
    }
    CW_FUZZ_CHECK(j == joined->len);
    CW_FUZZ_CHECK(skipped <= chunks->len);
}

static void
check_ctcp(const char *text)
{
    char *command = NULL, *args = NULL;
    if (cw_irc_ctcp_parse(text, &command, &args)) {
        CW_FUZZ_CHECK(command && *command && args);
        CW_FUZZ_CHECK(strchr(args, '\x01') == NULL);
        g_autofree char *built = cw_irc_ctcp_build(command, args);
        CW_FUZZ_CHECK(built != NULL);
        char *command2 = NULL, *args2 = NULL;
        CW_FUZZ_CHECK(cw_irc_ctcp_parse(built, &command2, &args2));
        CW_FUZZ_CHECK(strcmp(command, command2) == 0);
        /* "\x01CMD \x01" has args "" but is built without the space. */
        CW_FUZZ_CHECK(strcmp(args, args2) == 0);
        g_free(command2);
        g_free(args2);
    } else {
        CW_FUZZ_CHECK(command == NULL && args == NULL);
    }
    g_free(command);
    g_free(args);
    g_autofree char *action = cw_irc_ctcp_action(text);
    CW_FUZZ_CHECK(action != NULL && g_str_has_prefix(action, "\x01" "ACTION"));
    CW_FUZZ_CHECK(strchr(action + 1, '\x01') == action + strlen(action) - 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = cw_fuzz_string(data, size);
    gboolean valid = g_utf8_validate(text, -1, NULL);

    char *utf8 = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(charsets); i++) {
        g_autofree char *u = cw_irc_text_to_utf8((const char *)data, (gssize)size, charsets[i]);
        CW_FUZZ_CHECK(u != NULL && g_utf8_validate(u, -1, NULL));
        if (valid)
            CW_FUZZ_CHECK(strcmp(u, text) == 0);
        if (i == 0)
            utf8 = g_steal_pointer(&u);
    }
    g_autofree char *nul_terminated = cw_irc_text_to_utf8(text, -1, "CP1252");
    CW_FUZZ_CHECK(nul_terminated && g_utf8_validate(nul_terminated, -1, NULL));
    CW_FUZZ_CHECK(cw_irc_text_to_utf8(NULL, 3, NULL) == NULL);

    check_strip(utf8);
    /* Raw bytes too: no crash, and no control characters come through. */
    g_autofree char *raw_plain = cw_irc_text_strip_format(text, CW_IRC_STYLE_XEP0393);
    CW_FUZZ_CHECK(raw_plain && !cw_fuzz_has_c0(raw_plain, "\t\n"));

    /* Limits: the smallest ones, a common one, and two from the input. */
    gsize limits[6] = { 4, 5, 7, 400, 4, 4 };
    if (size >= 2) {
        limits[4] = 4 + (data[0] | data[1] << 8) % 597;
        limits[5] = 4 + data[size - 1] % 60;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(limits); i++)
        check_split(text, limits[i]);

    check_ctcp(text);
    g_free(utf8);
    return 0;
}
