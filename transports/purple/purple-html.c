/* purple-html.c — libpurple's message HTML to plain UTF-8 text (one linear pass) and back. */
#include "purple-html.h"

#include <string.h>

#define REPLACEMENT 0xFFFD

/* The state of one conversion. Every scan below moves forward over the input
 * and never goes back over what an earlier scan consumed, which is what keeps
 * the whole conversion linear. */
typedef struct {
    const char *end;         /* end of the (possibly truncated) input */
    const char *last_dq;     /* the last '"' in the input, or NULL */
    const char *last_sq;     /* the last '\'' in the input, or NULL */
    gboolean no_comment_end; /* no "-->" after some earlier point: none after any later one */
    GString *out;
    GString *href;   /* the open link's URL (decoded), or NULL */
    gsize link_from; /* where the open link's text starts in out */
    /* Markup output (cw_purple_html_to_xhtml, cw_purple_xhtml_to_html):
     * MODE_TEXT for plain text. */
    int mode;
    gboolean formatted;  /* a formatting element was written */
    guint depth;         /* open elements on the stack */
    struct {
        char in[12];     /* the input element's name (lower case, cut) */
        char out[40];    /* what closes it in the output ("" = nothing) */
    } stack[CW_PURPLE_HTML_MAX_DEPTH];
} Conv;

enum { MODE_TEXT, MODE_XHTML, MODE_PURPLE };

/* ---- UTF-8 and entities ------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (before end), 0 when there is none:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static gsize
utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    gsize n;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if ((gsize)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (gsize i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static const struct {
    const char *name;
    gunichar c;
    gboolean any_case;
} entities[] = {
    {"amp", '&', TRUE},        {"lt", '<', TRUE},        {"gt", '>', TRUE},
    {"quot", '"', TRUE},       {"apos", '\'', TRUE},     {"nbsp", ' ', TRUE},
    {"copy", 0x00A9, FALSE},   {"reg", 0x00AE, FALSE},   {"trade", 0x2122, FALSE},
    {"euro", 0x20AC, FALSE},   {"pound", 0x00A3, FALSE}, {"yen", 0x00A5, FALSE},
    {"cent", 0x00A2, FALSE},   {"sect", 0x00A7, FALSE},  {"deg", 0x00B0, FALSE},
    {"middot", 0x00B7, FALSE}, {"bull", 0x2022, FALSE},  {"hellip", 0x2026, FALSE},
    {"ndash", 0x2013, FALSE},  {"mdash", 0x2014, FALSE}, {"lsquo", 0x2018, FALSE},
    {"rsquo", 0x2019, FALSE},  {"ldquo", 0x201C, FALSE}, {"rdquo", 0x201D, FALSE},
    {"laquo", 0x00AB, FALSE},  {"raquo", 0x00BB, FALSE}, {"times", 0x00D7, FALSE},
};

/* The entity at p ('&'), before end: its length, and *c the character it
 * stands for; 0 when p does not start an entity. */
static gsize
entity_at(const char *p, const char *end, gunichar *c)
{
    const char *q = p + 1;
    if (q < end && *q == '#') {
        q++;
        gboolean hex = q < end && (*q == 'x' || *q == 'X');
        if (hex)
            q++;
        const char *digits = q;
        guint32 v = 0;
        for (; q < end && (hex ? g_ascii_isxdigit(*q) : g_ascii_isdigit(*q)); q++) {
            int d = hex ? g_ascii_xdigit_value(*q) : *q - '0';
            v = v > 0x10FFFF ? v : v * (hex ? 16 : 10) + d; /* saturates above U+10FFFF */
        }
        if (q == digits || q >= end || *q != ';')
            return 0;
        *c = v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ? REPLACEMENT : v;
        return q + 1 - p;
    }
    const char *name = q;
    while (q < end && q - name <= 8 && g_ascii_isalnum(*q))
        q++;
    if (q == name || q >= end || *q != ';')
        return 0;
    gsize n = q - name;
    for (gsize i = 0; i < G_N_ELEMENTS(entities); i++) {
        const char *e = entities[i].name;
        if (strlen(e) == n &&
            (entities[i].any_case ? g_ascii_strncasecmp(e, name, n) : strncmp(e, name, n)) == 0) {
            *c = entities[i].c;
            return n + 2;
        }
    }
    return 0;
}

/* Append a newline to the text unless it already ends with two. */
static void
put_newline(GString *out)
{
    if (out->len >= 2 && out->str[out->len - 1] == '\n' && out->str[out->len - 2] == '\n')
        return;
    g_string_append_c(out, '\n');
}

/* A block boundary: a newline unless the text is empty or already ends with one. */
static void
put_soft_newline(GString *out)
{
    if (out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
}

static void
put_char(GString *out, gunichar c, gboolean text)
{
    if (c == '\n' && text)
        put_newline(out);
    else
        g_string_append_unichar(out, c);
}

/* Append [p, end) to out with entities decoded and bad bytes replaced. In
 * message text (text TRUE) the newline limit applies; in an attribute value
 * it does not (the value is copied out later). */
static void
put_decoded(GString *out, const char *p, const char *end, gboolean text)
{
    while (p < end) {
        unsigned char b = *p;
        if (b == '&') {
            gunichar c;
            gsize n = entity_at(p, end, &c);
            if (n) {
                put_char(out, c, text);
                p += n;
                continue;
            }
        }
        if (b < 0x80) {
            if (b == '\n' && text)
                put_newline(out);
            else
                g_string_append_c(out, b);
            p++;
            continue;
        }
        gsize n = utf8_seq_len((const unsigned char *)p, (const unsigned char *)end);
        if (n) {
            g_string_append_len(out, p, n);
            p += n;
        } else {
            g_string_append_unichar(out, REPLACEMENT);
            p++;
        }
    }
}

/* ---- links -------------------------------------------------------------- */

static gboolean
has_prefix_ci(const char *s, gsize len, const char *prefix)
{
    gsize n = strlen(prefix);
    return len >= n && g_ascii_strncasecmp(s, prefix, n) == 0;
}

static gboolean
url_shown(const char *url, gsize len)
{
    if (!(has_prefix_ci(url, len, "http:") || has_prefix_ci(url, len, "https:") ||
          has_prefix_ci(url, len, "xmpp:") || has_prefix_ci(url, len, "mailto:")))
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if ((unsigned char)url[i] < 0x20 || url[i] == 0x7F)
            return FALSE;
    return TRUE;
}

/* Is text the URL without one of the prefixes libpurple's linkify adds? */
static gboolean
is_bare_form(const char *text, gsize tlen, const char *url, gsize ulen)
{
    static const char *const prefixes[] = {"http://", "https://", "mailto:", "xmpp:"};
    for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        gsize n = strlen(prefixes[i]);
        if (has_prefix_ci(url, ulen, prefixes[i]) && ulen - n == tlen &&
            memcmp(url + n, text, tlen) == 0)
            return TRUE;
    }
    return FALSE;
}

static void
link_close(Conv *cv)
{
    if (!cv->href)
        return;
    g_autoptr(GString) href = g_steal_pointer(&cv->href);
    const char *url = href->str;
    gsize ulen = href->len;
    while (ulen > 0 && g_ascii_isspace(*url))
        url++, ulen--;
    while (ulen > 0 && g_ascii_isspace(url[ulen - 1]))
        ulen--;
    if (!url_shown(url, ulen))
        return;
    GString *out = cv->out;
    const char *text = out->str + cv->link_from;
    gsize tlen = out->len - cv->link_from;
    if (tlen == 0) {
        g_string_append_len(out, url, ulen);
    } else if ((tlen == ulen && memcmp(text, url, ulen) == 0) ||
               is_bare_form(text, tlen, url, ulen)) {
        /* the text is the address already */
    } else {
        g_string_append(out, " (");
        g_string_append_len(out, url, ulen);
        g_string_append_c(out, ')');
    }
}

/* ---- markup ------------------------------------------------------------- */

static gboolean
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static gboolean
name_is(const char *s, gsize len, const char *name)
{
    return strlen(name) == len && g_ascii_strncasecmp(s, name, len) == 0;
}

static gboolean
is_block(const char *s, gsize len)
{
    static const char *const blocks[] = {"p",  "div", "li", "ul", "ol", "blockquote", "pre",
                                         "h1", "h2",  "h3", "h4", "h5", "h6",         "table",
                                         "tr", "hr",  "dl", "dt", "dd"};
    for (gsize i = 0; i < G_N_ELEMENTS(blocks); i++)
        if (name_is(s, len, blocks[i]))
            return TRUE;
    return FALSE;
}

/* One tag's name and the attributes we use. */
typedef struct {
    const char *name;
    gsize name_len;
    const char *href, *href_end; /* the raw (undecoded) value, or NULL */
    const char *alt, *alt_end;
    const char *color, *color_end;
    const char *style, *style_end;
} Tag;

/* Scan the attributes of a tag from p (just after its name) to its end.
 * Returns where the tag ends (after its '>', or at a '<' that ends it
 * without one), or NULL when the input ends inside the tag. A quote opens a
 * quoted value only after '=' and only when the same quote appears again
 * later (cv->last_*q), so finding the closing quote never scans in vain. */
static const char *
scan_attributes(Conv *cv, const char *p, Tag *tag)
{
    const char *end = cv->end;
    for (;;) {
        while (p < end && (is_space(*p) || *p == '/'))
            p++;
        if (p >= end)
            return NULL;
        if (*p == '>')
            return p + 1;
        if (*p == '<')
            return p;
        const char *name = p;
        if (*p == '=')
            p++;
        while (p < end && !is_space(*p) && *p != '/' && *p != '>' && *p != '<' && *p != '=')
            p++;
        gsize name_len = p - name;
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p != '=')
            continue;
        p++;
        while (p < end && is_space(*p))
            p++;
        const char *val, *val_end;
        const char *last = p < end && *p == '"' ? cv->last_dq : cv->last_sq;
        if (p < end && (*p == '"' || *p == '\'') && last && last > p) {
            val = p + 1;
            val_end = memchr(val, *p, end - val);
            p = val_end + 1;
        } else {
            val = p;
            while (p < end && !is_space(*p) && *p != '>' && *p != '<')
                p++;
            val_end = p;
        }
        if (name_is(name, name_len, "href")) {
            tag->href = val;
            tag->href_end = val_end;
        } else if (name_is(name, name_len, "alt")) {
            tag->alt = val;
            tag->alt_end = val_end;
        } else if (name_is(name, name_len, "color")) {
            tag->color = val;
            tag->color_end = val_end;
        } else if (name_is(name, name_len, "style")) {
            tag->style = val;
            tag->style_end = val_end;
        }
    }
}

/* Where the raw text of a <script>, <style> or <title> element ends: at its end tag,
 * else at the end of the input. */
static const char *
skip_raw_text(Conv *cv, const char *p, const char *name, gsize name_len)
{
    const char *end = cv->end;
    while ((p = memchr(p, '<', end - p))) {
        const char *n = p + 2;
        if (end - p >= (gssize)(name_len + 2) && p[1] == '/' &&
            g_ascii_strncasecmp(n, name, name_len) == 0 &&
            (n + name_len == end || is_space(n[name_len]) || n[name_len] == '>' ||
             n[name_len] == '/'))
            return p;
        p++;
    }
    return end;
}

static void
handle_tag(Conv *cv, const Tag *tag, gboolean closing)
{
    const char *n = tag->name;
    gsize len = tag->name_len;
    if (name_is(n, len, "br")) {
        put_newline(cv->out);
    } else if (is_block(n, len)) {
        put_soft_newline(cv->out);
    } else if (name_is(n, len, "a")) {
        link_close(cv);
        if (!closing && tag->href) {
            cv->href = g_string_new(NULL);
            put_decoded(cv->href, tag->href, tag->href_end, FALSE);
            cv->link_from = cv->out->len;
        }
    } else if (name_is(n, len, "img") && !closing && tag->alt) {
        put_decoded(cv->out, tag->alt, tag->alt_end, TRUE);
    }
}

/* ---- markup output (XHTML-IM, libpurple HTML) ---------------------------- */

/* What markup writes for the character c, or NULL when c stands for itself:
 * & < > always escaped; " in an attribute value and everywhere in libpurple
 * HTML (as cw_purple_text_to_html promises), ' in an attribute value
 * (XHTML-IM's are quoted with it); a newline is the mode's <br> in text and
 * nothing in an attribute. The one table of both outputs. */
static const char *
markup_escape(gunichar c, int mode, gboolean attribute)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return attribute || mode == MODE_PURPLE ? "&quot;" : NULL;
    case '\'':
        return attribute ? "&apos;" : NULL;
    case '\n':
        return attribute ? "" : mode == MODE_XHTML ? "<br/>" : "<br>";
    default:
        return NULL;
    }
}

/* Append text (already decoded) escaped for markup (markup_escape); in
 * XHTML and libpurple HTML alike only XML 1.0 characters. */
static void
put_escaped(Conv *cv, const char *p, gsize len, gboolean attribute)
{
    GString *out = cv->out;
    const char *end = p + len;
    while (p < end) {
        gunichar c = g_utf8_get_char(p);
        const char *next = g_utf8_next_char(p);
        const char *markup = markup_escape(c, cv->mode, attribute);
        if (markup)
            g_string_append(out, markup);
        /* XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | ...
         * (surrogates never come out of the decoder). */
        else if (!((c < 0x20 && c != '\t') || c == 0xFFFE || c == 0xFFFF))
            g_string_append_len(out, p, next - p);
        p = next;
    }
}

/* Message text [p, end) in the output, entities decoded then escaped again. */
static void
put_text(Conv *cv, const char *p, const char *end)
{
    if (cv->mode == MODE_TEXT) {
        put_decoded(cv->out, p, end, TRUE);
        return;
    }
    if (p >= end)
        return;
    g_autoptr(GString) plain = g_string_sized_new(end - p);
    put_decoded(plain, p, end, FALSE);
    put_escaped(cv, plain->str, plain->len, FALSE);
}

/* A safe CSS colour from [p, end) ("#rgb", "#rrggbb" or a name of letters),
 * lower case, in buf; FALSE for anything else. */
static gboolean
safe_color(const char *p, const char *end, char buf[24])
{
    while (p < end && g_ascii_isspace(*p))
        p++;
    while (end > p && g_ascii_isspace(end[-1]))
        end--;
    gsize n = end - p;
    if (n == 0 || n > 20)
        return FALSE;
    if (*p == '#') {
        if (n != 4 && n != 7)
            return FALSE;
        for (gsize i = 1; i < n; i++)
            if (!g_ascii_isxdigit(p[i]))
                return FALSE;
    } else {
        for (gsize i = 0; i < n; i++)
            if (!g_ascii_isalpha(p[i]))
                return FALSE;
    }
    for (gsize i = 0; i < n; i++)
        buf[i] = g_ascii_tolower(p[i]);
    buf[n] = '\0';
    return TRUE;
}

typedef struct {
    gboolean bold, italic, underline;
    char color[24]; /* "" = none */
} Style;

/* What we keep of a style attribute (its raw value, entities decoded
 * first): color, font-weight bold, font-style italic, text-decoration
 * underline. Everything else is dropped. */
static void
parse_style(const char *raw, const char *raw_end, Style *st)
{
    g_autoptr(GString) v = g_string_new(NULL);
    put_decoded(v, raw, raw_end, FALSE);
    const char *p = v->str, *end = v->str + v->len;
    while (p < end) {
        const char *semi = memchr(p, ';', end - p);
        const char *decl_end = semi ? semi : end;
        const char *colon = memchr(p, ':', decl_end - p);
        if (colon) {
            const char *k = p, *k_end = colon;
            while (k < k_end && g_ascii_isspace(*k))
                k++;
            while (k_end > k && g_ascii_isspace(k_end[-1]))
                k_end--;
            const char *val = colon + 1, *val_end = decl_end;
            while (val < val_end && g_ascii_isspace(*val))
                val++;
            while (val_end > val && g_ascii_isspace(val_end[-1]))
                val_end--;
            gsize vn = val_end - val;
            if (name_is(k, k_end - k, "color")) {
                if (!safe_color(val, val_end, st->color))
                    st->color[0] = '\0';
            } else if (name_is(k, k_end - k, "font-weight")) {
                st->bold = name_is(val, vn, "bold") || name_is(val, vn, "bolder") ||
                           name_is(val, vn, "700") || name_is(val, vn, "800") ||
                           name_is(val, vn, "900");
            } else if (name_is(k, k_end - k, "font-style")) {
                st->italic = name_is(val, vn, "italic") || name_is(val, vn, "oblique");
            } else if (name_is(k, k_end - k, "text-decoration")) {
                st->underline = g_strstr_len(val, vn, "underline") != NULL;
            }
        }
        p = decl_end + (semi ? 1 : 0);
    }
}

/* Open an element: the output written now, and what closes it. */
static void
push(Conv *cv, const Tag *tag, const char *open, const char *close, gboolean formatting)
{
    if (cv->depth >= CW_PURPLE_HTML_MAX_DEPTH)
        return; /* deeper nesting keeps its text and loses its formatting */
    gsize n = MIN(tag->name_len, sizeof cv->stack[0].in - 1);
    for (gsize i = 0; i < n; i++)
        cv->stack[cv->depth].in[i] = g_ascii_tolower(tag->name[i]);
    cv->stack[cv->depth].in[n] = '\0';
    g_strlcpy(cv->stack[cv->depth].out, close, sizeof cv->stack[0].out);
    cv->depth++;
    g_string_append(cv->out, open);
    if (formatting && *open)
        cv->formatted = TRUE;
}

/* Close the innermost open element the end tag names, with every element
 * opened inside it; an end tag of nothing open is ignored. */
static void
pop(Conv *cv, const Tag *tag)
{
    char in[12];
    gsize n = MIN(tag->name_len, sizeof in - 1);
    for (gsize i = 0; i < n; i++)
        in[i] = g_ascii_tolower(tag->name[i]);
    in[n] = '\0';
    guint k = cv->depth;
    while (k > 0 && strcmp(cv->stack[k - 1].in, in) != 0)
        k--;
    if (k == 0)
        return;
    while (cv->depth >= k) {
        cv->depth--;
        g_string_append(cv->out, cv->stack[cv->depth].out);
    }
}

/* A span's opening and closing markup for a style, in the output's dialect. */
static gboolean
style_markup(Conv *cv, const Style *st, GString *open, GString *close)
{
    if (!st->bold && !st->italic && !st->underline && !st->color[0])
        return FALSE;
    if (cv->mode == MODE_XHTML) {
        g_string_append(open, "<span style='");
        const char *sep = "";
        if (st->color[0]) {
            g_string_append_printf(open, "color: %s", st->color);
            sep = "; ";
        }
        if (st->bold) {
            g_string_append_printf(open, "%sfont-weight: bold", sep);
            sep = "; ";
        }
        if (st->italic) {
            g_string_append_printf(open, "%sfont-style: italic", sep);
            sep = "; ";
        }
        if (st->underline)
            g_string_append_printf(open, "%stext-decoration: underline", sep);
        g_string_append(open, "'>");
        g_string_append(close, "</span>");
    } else {
        if (st->color[0]) {
            g_string_append_printf(open, "<font color=\"%s\">", st->color);
            g_string_prepend(close, "</font>");
        }
        if (st->bold) {
            g_string_append(open, "<b>");
            g_string_prepend(close, "</b>");
        }
        if (st->italic) {
            g_string_append(open, "<i>");
            g_string_prepend(close, "</i>");
        }
        if (st->underline) {
            g_string_append(open, "<u>");
            g_string_prepend(close, "</u>");
        }
    }
    return TRUE;
}

static void
handle_markup_tag(Conv *cv, const Tag *tag, gboolean closing)
{
    const char *n = tag->name;
    gsize len = tag->name_len;
    gboolean xhtml = cv->mode == MODE_XHTML;
    if (name_is(n, len, "br")) {
        g_string_append(cv->out, xhtml ? "<br/>" : "<br>");
        return;
    }
    if (name_is(n, len, "img")) {
        if (!closing && tag->alt)
            put_text(cv, tag->alt, tag->alt_end);
        return;
    }
    gboolean known = name_is(n, len, "b") || name_is(n, len, "strong") || name_is(n, len, "i") ||
                     name_is(n, len, "em") || name_is(n, len, "u") || name_is(n, len, "font") ||
                     name_is(n, len, "span") || name_is(n, len, "a") || name_is(n, len, "p");
    if (!known)
        return; /* html, body, div, ...: their text stays, the tag goes */
    if (closing) {
        pop(cv, tag);
        return;
    }
    if (name_is(n, len, "b") || name_is(n, len, "strong")) {
        push(cv, tag, xhtml ? "<strong>" : "<b>", xhtml ? "</strong>" : "</b>", TRUE);
    } else if (name_is(n, len, "i") || name_is(n, len, "em")) {
        push(cv, tag, xhtml ? "<em>" : "<i>", xhtml ? "</em>" : "</i>", TRUE);
    } else if (name_is(n, len, "u")) {
        push(cv, tag, xhtml ? "<span style='text-decoration: underline'>" : "<u>",
             xhtml ? "</span>" : "</u>", TRUE);
    } else if (name_is(n, len, "p")) {
        if (xhtml) {
            push(cv, tag, "<p>", "</p>", FALSE);
        } else {
            if (cv->out->len > 0)
                g_string_append(cv->out, "<br>");
            push(cv, tag, "", "", FALSE);
        }
    } else if (name_is(n, len, "a")) {
        g_autoptr(GString) url = g_string_new(NULL);
        if (tag->href)
            put_decoded(url, tag->href, tag->href_end, FALSE);
        g_strstrip(url->str);
        url->len = strlen(url->str);
        if (!tag->href || !url_shown(url->str, url->len)) {
            push(cv, tag, "", "", FALSE);
            return;
        }
        g_autoptr(GString) open = g_string_new(xhtml ? "<a href='" : "<a href=\"");
        GString *saved = cv->out;
        cv->out = open;
        put_escaped(cv, url->str, url->len, TRUE);
        cv->out = saved;
        g_string_append(open, xhtml ? "'>" : "\">");
        push(cv, tag, open->str, "</a>", TRUE);
    } else { /* font, span */
        Style st = {0};
        if (tag->style)
            parse_style(tag->style, tag->style_end, &st);
        if (tag->color && name_is(n, len, "font") && !safe_color(tag->color, tag->color_end, st.color))
            st.color[0] = '\0';
        g_autoptr(GString) open = g_string_new(NULL);
        g_autoptr(GString) close = g_string_new(NULL);
        if (style_markup(cv, &st, open, close))
            push(cv, tag, open->str, close->str, TRUE);
        else
            push(cv, tag, "", "", FALSE);
    }
}

/* The markup at p ('<'): handled, and where the input goes on; or NULL when
 * p is not markup and the '<' is text. *rest_is_text is set when a tag is
 * still open at the end of the input. */
static const char *
markup_at(Conv *cv, const char *p, gboolean *rest_is_text)
{
    const char *end = cv->end;
    const char *q = p + 1;
    if (q >= end)
        return NULL;
    if (*q == '!' || *q == '?') {
        if (*q == '!' && end - q >= 3 && q[1] == '-' && q[2] == '-') {
            if (cv->no_comment_end)
                return NULL;
            const char *c = g_strstr_len(q + 3, end - q - 3, "-->");
            if (c)
                return c + 3;
            cv->no_comment_end = TRUE;
            return NULL;
        }
        const char *gt = memchr(q, '>', end - q);
        if (!gt) {
            *rest_is_text = TRUE;
            return NULL;
        }
        return gt + 1;
    }
    gboolean closing = *q == '/';
    if (closing)
        q++;
    if (q >= end || !g_ascii_isalpha(*q))
        return NULL;
    Tag tag = {.name = q};
    while (q < end && !is_space(*q) && *q != '/' && *q != '>' && *q != '<')
        q++;
    tag.name_len = q - tag.name;
    const char *after = scan_attributes(cv, q, &tag);
    if (!after) {
        *rest_is_text = TRUE;
        return NULL;
    }
    if (cv->mode == MODE_TEXT)
        handle_tag(cv, &tag, closing);
    else
        handle_markup_tag(cv, &tag, closing);
    if (!closing &&
        (name_is(tag.name, tag.name_len, "script") || name_is(tag.name, tag.name_len, "style") ||
         name_is(tag.name, tag.name_len, "title")))
        after = skip_raw_text(cv, after, tag.name, tag.name_len);
    return after;
}

/* ---- entry points ------------------------------------------------------- */

static const char *
mem_last(const char *s, gsize len, char c)
{
    for (gsize i = len; i > 0; i--)
        if (s[i - 1] == c)
            return s + i - 1;
    return NULL;
}

/* One pass over html in cv->mode; the output, not yet trimmed. */
static GString *
convert(const char *html, int mode, gboolean *formatted)
{
    gsize len = strnlen(html, CW_PURPLE_HTML_MAX_INPUT + 1);
    if (len > CW_PURPLE_HTML_MAX_INPUT) {
        len = CW_PURPLE_HTML_MAX_INPUT;
        /* Back off to the start of the character the cut falls in. */
        for (int i = 0; i < 3 && len > 0 && ((unsigned char)html[len] & 0xC0) == 0x80; i++)
            len--;
    }
    Conv cv = {
        .end = html + len,
        .last_dq = mem_last(html, len, '"'),
        .last_sq = mem_last(html, len, '\''),
        .out = g_string_sized_new(len + 16),
        .mode = mode,
    };
    const char *p = html;
    while (p < cv.end) {
        const char *lt = memchr(p, '<', cv.end - p);
        if (!lt) {
            put_text(&cv, p, cv.end);
            break;
        }
        put_text(&cv, p, lt);
        gboolean rest_is_text = FALSE;
        const char *next = markup_at(&cv, lt, &rest_is_text);
        if (rest_is_text) {
            put_text(&cv, lt, cv.end);
            break;
        }
        if (next) {
            p = next;
        } else {
            static const char escaped_lt[] = "&lt;";
            put_text(&cv, escaped_lt, escaped_lt + sizeof escaped_lt - 1);
            p = lt + 1;
        }
    }
    if (mode == MODE_TEXT)
        link_close(&cv);
    while (cv.depth > 0) /* close what is still open */
        g_string_append(cv.out, cv.stack[--cv.depth].out);
    if (formatted)
        *formatted = cv.formatted;
    return cv.out;
}

char *
cw_purple_html_to_text(const char *html)
{
    if (!html)
        return NULL;
    GString *out = convert(html, MODE_TEXT, NULL);
    gsize lead = 0;
    while (lead < out->len && is_space(out->str[lead]) && out->str[lead] != '\f')
        lead++;
    g_string_erase(out, 0, lead);
    while (out->len > 0 && is_space(out->str[out->len - 1]) && out->str[out->len - 1] != '\f')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

static char *
convert_formatted(const char *in, int mode)
{
    if (!in)
        return NULL;
    gboolean formatted = FALSE;
    GString *out = convert(in, mode, &formatted);
    if (!formatted) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

char *
cw_purple_html_to_xhtml(const char *html)
{
    return convert_formatted(html, MODE_XHTML);
}

char *
cw_purple_xhtml_to_html(const char *xhtml)
{
    return convert_formatted(xhtml, MODE_PURPLE);
}

char *
cw_purple_text_to_html(const char *text)
{
    if (!text)
        return NULL;
    GString *out = g_string_sized_new(strlen(text) + 16);
    /* Byte by byte: what markup_escape changes is ASCII, which no byte of a
     * multi-byte UTF-8 sequence is; everything else is copied as it is. */
    for (const char *p = text; *p; p++) {
        const char *markup = markup_escape((unsigned char)*p, MODE_PURPLE, FALSE);
        if (markup)
            g_string_append(out, markup);
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}
