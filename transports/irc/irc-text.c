/* irc-text.c — IRC message text: charset fallback, mIRC formatting, splitting, CTCP. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-text.h"

#include <string.h>

/* ---- charset ------------------------------------------------------------ */

char *cw_irc_text_to_utf8(const char *data, gssize len, const char *fallback_charset)
{
    if (!data)
        return NULL;
    gsize n = len < 0 ? strlen(data) : strnlen(data, len);
    if (g_utf8_validate(data, n, NULL))
        return g_strndup(data, n);

    const char *charset =
        fallback_charset && *fallback_charset ? fallback_charset : CW_IRC_TEXT_FALLBACK_CHARSET;
    char *converted = g_convert(data, n, "UTF-8", charset, NULL, NULL, NULL);
    if (converted && g_utf8_validate(converted, -1, NULL))
        return converted;
    g_free(converted);
    return g_utf8_make_valid(data, n);
}

/* ---- mIRC formatting ---------------------------------------------------- */

enum { ATTR_BOLD = 1, ATTR_ITALIC = 2 };

/* A maximal run of text carrying one attribute, [start, end) in the
 * stripped text. */
typedef struct {
    gsize start, end;
    guint8 attr;
    char mark;
} Span;

typedef struct {
    gsize pos;
    gboolean open;
    const Span *span;
} Marker;

static const char *skip_digits(const char *p, int max)
{
    for (int i = 0; i < max && g_ascii_isdigit(*p); i++)
        p++;
    return p;
}

/* \x03 already consumed: FG[,BG], one or two digits each. A comma not
 * followed by a digit is text. */
static const char *skip_colour(const char *p)
{
    const char *q = skip_digits(p, 2);
    if (q > p && q[0] == ',' && g_ascii_isdigit(q[1]))
        q = skip_digits(q + 1, 2);
    return q;
}

/* Stops at the first non-hex byte, so never reads past the NUL. */
static gboolean is_hex6(const char *p)
{
    for (int i = 0; i < 6; i++)
        if (!g_ascii_isxdigit(p[i]))
            return FALSE;
    return TRUE;
}

/* \x04 already consumed: RRGGBB[,RRGGBB]; without digits it only resets. */
static const char *skip_hex_colour(const char *p)
{
    if (!is_hex6(p))
        return p;
    p += 6;
    if (p[0] == ',' && is_hex6(p + 1))
        p += 7;
    return p;
}

/* Pass one: copy the text without any control code, noting for each byte
 * whether it was bold and/or italic. */
static void strip_codes(const char *text, GString *plain, GByteArray *attrs)
{
    guint8 attr = 0;
    const char *p = text;
    while (*p) {
        guchar c = *p++;
        switch (c) {
        case 0x02: attr ^= ATTR_BOLD; break;
        case 0x1d: attr ^= ATTR_ITALIC; break;
        case 0x0f: attr = 0; break;
        case 0x03: p = skip_colour(p); break;
        case 0x04: p = skip_hex_colour(p); break;
        default:
            /* underline, strikethrough, monospace, reverse and any other C0 */
            if (c < 0x20 && c != '\t')
                break;
            g_string_append_c(plain, c);
            g_byte_array_append(attrs, &attr, 1);
        }
    }
}

static void collect_spans(GArray *spans, const GByteArray *attrs, guint8 attr, char mark)
{
    gsize i = 0;
    while (i < attrs->len) {
        if (!(attrs->data[i] & attr)) {
            i++;
            continue;
        }
        Span span = { .start = i, .attr = attr, .mark = mark };
        while (i < attrs->len && (attrs->data[i] & attr))
            i++;
        span.end = i;
        g_array_append_val(spans, span);
    }
}

/* XEP-0393 §6.2: an opening marker starts the text or follows whitespace (or
 * another opening marker, which here means the same position) and is not
 * followed by whitespace; a closing one is not preceded by whitespace; the
 * span cannot hold its own marker. Bold and italic must nest, not cross. */
static gboolean span_is_well_formed(const Span *span, const char *text, const GArray *spans)
{
    if (g_ascii_isspace(text[span->start]) || g_ascii_isspace(text[span->end - 1]))
        return FALSE;
    if (span->start > 0 && !g_ascii_isspace(text[span->start - 1]))
        return FALSE;
    if (memchr(text + span->start, span->mark, span->end - span->start))
        return FALSE;
    for (guint i = 0; i < spans->len; i++) {
        const Span *o = &g_array_index(spans, Span, i);
        if (o->attr == span->attr || o->end <= span->start || o->start >= span->end)
            continue;
        gboolean outside = o->start <= span->start && o->end >= span->end;
        gboolean inside = o->start >= span->start && o->end <= span->end;
        if (!outside && !inside)
            return FALSE;
    }
    return TRUE;
}

/* At one position closing markers come first, inner before outer; then
 * opening markers, outer before inner. Equal spans: bold is the outer. */
static int marker_compare(gconstpointer pa, gconstpointer pb)
{
    const Marker *a = pa, *b = pb;
    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    if (a->open != b->open)
        return a->open ? 1 : -1;
    const Span *sa = a->span, *sb = b->span;
    if (a->open) {
        if (sa->end != sb->end)
            return sa->end > sb->end ? -1 : 1;
        return sa->attr < sb->attr ? -1 : 1;
    }
    if (sa->start != sb->start)
        return sa->start > sb->start ? -1 : 1;
    return sa->attr > sb->attr ? -1 : 1;
}

static char *apply_styling(const GString *plain, const GByteArray *attrs)
{
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(Span));
    collect_spans(spans, attrs, ATTR_BOLD, '*');
    collect_spans(spans, attrs, ATTR_ITALIC, '_');

    g_autoptr(GArray) markers = g_array_new(FALSE, FALSE, sizeof(Marker));
    for (guint i = 0; i < spans->len; i++) {
        const Span *span = &g_array_index(spans, Span, i);
        if (!span_is_well_formed(span, plain->str, spans))
            continue;
        Marker open = { .pos = span->start, .open = TRUE, .span = span };
        Marker close = { .pos = span->end, .open = FALSE, .span = span };
        g_array_append_val(markers, open);
        g_array_append_val(markers, close);
    }
    g_array_sort(markers, marker_compare);

    GString *out = g_string_sized_new(plain->len + markers->len);
    guint m = 0;
    for (gsize i = 0; i <= plain->len; i++) {
        for (; m < markers->len && g_array_index(markers, Marker, m).pos == i; m++)
            g_string_append_c(out, g_array_index(markers, Marker, m).span->mark);
        if (i < plain->len)
            g_string_append_c(out, plain->str[i]);
    }
    return g_string_free(out, FALSE);
}

char *cw_irc_text_strip_format(const char *text, CwIrcStyle style)
{
    if (!text)
        return NULL;
    g_autoptr(GString) plain = g_string_sized_new(strlen(text));
    g_autoptr(GByteArray) attrs = g_byte_array_sized_new(strlen(text));
    strip_codes(text, plain, attrs);
    if (style == CW_IRC_STYLE_XEP0393)
        return apply_styling(plain, attrs);
    return g_string_free(g_steal_pointer(&plain), FALSE);
}

/* ---- splitting ---------------------------------------------------------- */

static void split_line(GPtrArray *out, const char *s, gsize n, gsize max)
{
    while (n > max) {
        gsize cut = max;
        while (((guchar)s[cut] & 0xC0) == 0x80) /* s[cut] exists: n > max */
            cut--;                              /* stops within 3 bytes, cut >= 1 */
        gsize skip = 0;
        gsize lowest = max - max / 4;
        for (gsize i = cut; i >= lowest && i > 0; i--) {
            if (s[i] == ' ') {
                cut = i;
                skip = 1;
                break;
            }
        }
        g_ptr_array_add(out, g_strndup(s, cut));
        s += cut + skip;
        n -= cut + skip;
    }
    if (n > 0)
        g_ptr_array_add(out, g_strndup(s, n));
}

GPtrArray *cw_irc_text_split(const char *text, gsize max_bytes)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_return_val_if_fail(max_bytes >= 4, out);
    if (!text)
        return out;
    g_autofree char *valid = g_utf8_make_valid(text, -1);
    const char *p = valid;
    while (*p) {
        gsize n = strcspn(p, "\r\n");
        split_line(out, p, n, max_bytes);
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return out;
}

/* ---- CTCP --------------------------------------------------------------- */

static gsize ctcp_command_len(const char *s)
{
    gsize n = 0;
    while (g_ascii_isalnum(s[n]) || s[n] == '_' || s[n] == '-')
        n++;
    return n;
}

gboolean cw_irc_ctcp_parse(const char *text, char **command, char **args)
{
    if (!text || text[0] != '\x01')
        return FALSE;
    const char *body = text + 1;
    gsize body_len = strcspn(body, "\x01");
    gsize cmd_len = ctcp_command_len(body);
    if (cmd_len == 0 || (cmd_len < body_len && body[cmd_len] != ' '))
        return FALSE;
    if (command)
        *command = g_ascii_strup(body, cmd_len);
    if (args)
        *args = cmd_len < body_len ? g_strndup(body + cmd_len + 1, body_len - cmd_len - 1)
                                   : g_strdup("");
    return TRUE;
}

char *cw_irc_ctcp_build(const char *command, const char *args)
{
    if (!command || !*command || ctcp_command_len(command) != strlen(command))
        return NULL;
    g_autofree char *upper = g_ascii_strup(command, -1);
    GString *out = g_string_new("\x01");
    g_string_append(out, upper);
    if (args && *args) {
        g_string_append_c(out, ' ');
        for (const char *a = args; *a; a++)
            if (*a != '\x01')
                g_string_append_c(out, *a);
    }
    g_string_append_c(out, '\x01');
    return g_string_free(out, FALSE);
}

char *cw_irc_ctcp_action(const char *text)
{
    return cw_irc_ctcp_build("ACTION", text);
}
