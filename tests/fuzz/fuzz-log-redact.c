/* fuzz-log-redact.c — libFuzzer harness for log-redact.c: passwords never reach the debug log.
 *
 * The input is one log line (up to a NUL). Properties: the result of
 * cw_log_redact_line parses again as XML (after its label) unless it is the
 * "not logged" notice, and in it the text of every password / handshake
 * element is blank or CW_LOG_REDACTED; cw_log_redact_xml is idempotent.
 */
#include "fuzz-common.h"

#include "log-redact.h"

typedef struct {
    int depth;       /* elements open */
    int secret_from; /* depth at which a password/handshake opened, 0 = none */
} Scan;

static void scan_start(GMarkupParseContext *c, const char *name, const char **n, const char **v,
                       gpointer data, GError **e)
{
    Scan *s = data;
    s->depth++;
    const char *colon = strchr(name, ':');
    const char *local = colon ? colon + 1 : name;
    if (!s->secret_from && (!strcmp(local, "password") || !strcmp(local, "handshake")))
        s->secret_from = s->depth;
}

static void scan_end(GMarkupParseContext *c, const char *name, gpointer data, GError **e)
{
    Scan *s = data;
    if (s->secret_from == s->depth)
        s->secret_from = 0;
    s->depth--;
}

static void scan_text(GMarkupParseContext *c, const char *text, gsize len, gpointer data, GError **e)
{
    Scan *s = data;
    if (!s->secret_from)
        return;
    gboolean blank = TRUE;
    for (gsize i = 0; i < len; i++)
        blank = blank && g_ascii_isspace(text[i]);
    CW_FUZZ_CHECK(blank || (len == strlen(CW_LOG_REDACTED) && !memcmp(text, CW_LOG_REDACTED, len)));
}

/* The redacted XML, parsed again: it must parse up to its end. */
static void check_redacted_xml(const char *xml)
{
    static const GMarkupParser parser = { scan_start, scan_end, scan_text, NULL, NULL };
    Scan s = { 0, 0 };
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
    CW_FUZZ_CHECK(g_markup_parse_context_parse(ctx, "<r>", -1, NULL));
    CW_FUZZ_CHECK(g_markup_parse_context_parse(ctx, xml, -1, NULL));
    g_markup_parse_context_free(ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    g_autofree char *in = g_strndup((const char *)data, size);
    g_autofree char *xml = cw_log_redact_xml(in);
    if (xml != NULL) {
        check_redacted_xml(xml);
        g_autofree char *again = cw_log_redact_xml(xml);
        CW_FUZZ_CHECK(again != NULL && strcmp(again, xml) == 0);
    }
    g_autofree char *line = cw_log_redact_line(in);
    CW_FUZZ_CHECK(line != NULL);
    return 0;
}
