/* safetext.c — legacy text made XML-safe: valid UTF-8 of XML 1.0 characters, bounded. */
#include "safetext.h"

#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

gboolean
cw_text_is_xml_char(gunichar c)
{
    if (c < 0x20)
        return c == 0x9 || c == 0xA || c == 0xD;
    return c <= 0xD7FF || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

typedef enum {
    CHAR_OK,      /* copy len bytes */
    CHAR_DROP,    /* a C0 control XML cannot carry: drop its byte */
    CHAR_REPLACE, /* not UTF-8, or not an XML Char: U+FFFD for len bytes */
} CharClass;

/* What the character at p (avail > 0 bytes left) is, and its length. */
static CharClass
classify(const char *p, gsize avail, gsize *len)
{
    guchar b = (guchar)*p;
    if (b < 0x80) {
        *len = 1;
        return b >= 0x20 || b == '\t' || b == '\n' || b == '\r' ? CHAR_OK : CHAR_DROP;
    }
    /* g_utf8_get_char_validated refuses overlong forms, surrogates and
     * values above U+10FFFF. */
    gunichar c = g_utf8_get_char_validated(p, (gssize)MIN(avail, 4));
    if (c == (gunichar)-1 || c == (gunichar)-2) {
        *len = 1; /* one U+FFFD per byte that does not start a character */
        return CHAR_REPLACE;
    }
    *len = (gsize)(g_utf8_next_char(p) - p);
    return cw_text_is_xml_char(c) ? CHAR_OK : CHAR_REPLACE;
}

gboolean
cw_text_is_xml_safe(const char *text, gsize max)
{
    if (!text)
        return TRUE;
    gsize avail = strlen(text);
    if (avail > max)
        return FALSE;
    const char *p = text, *end = text + avail;
    while (p < end) {
        if ((guchar)*p >= 0x20 && (guchar)*p < 0x80) {
            p++;
            continue;
        }
        gsize len;
        if (classify(p, (gsize)(end - p), &len) != CHAR_OK)
            return FALSE;
        p += len;
    }
    return TRUE;
}

char *
cw_text_make_xml_safe(const char *text, gsize max)
{
    if (!text)
        return NULL;
    gsize avail = strlen(text);
    GString *out = g_string_sized_new(MIN(avail, max) + 1);
    const char *p = text, *end = text + avail;
    while (p < end) {
        gsize len;
        CharClass cls = classify(p, (gsize)(end - p), &len);
        const char *bytes = cls == CHAR_REPLACE ? REPLACEMENT : p;
        gsize n = cls == CHAR_REPLACE ? 3 : cls == CHAR_OK ? len : 0;
        if (out->len + n > max)
            break; /* cut on a character boundary */
        g_string_append_len(out, bytes, (gssize)n);
        p += len;
    }
    return g_string_free(out, FALSE);
}

const char *
cw_text_boundary(const char *text, gsize max, char **owned)
{
    if (!text || cw_text_is_xml_safe(text, max))
        return text;
    g_free(*owned);
    *owned = cw_text_make_xml_safe(text, max);
    return *owned;
}

/* The entity for an ASCII byte that needs one, else NULL. */
static const char *
escape_of(guchar c, gboolean attribute)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\r': return "&#13;";
    case '\n': return attribute ? "&#10;" : NULL;
    case '\t': return attribute ? "&#9;" : NULL;
    default: return NULL;
    }
}

void
cw_text_append_escaped(GString *out, const char *text, gboolean attribute)
{
    const char *run = text; /* start of bytes copied as they are */
    const char *p = text;
    gsize avail = strlen(text);
    const char *end = text + avail;
    while (p < end) {
        guchar b = (guchar)*p;
        if (b >= 0x20 && b < 0x80 && b != '&' && b != '<' && b != '>' && b != '"') {
            p++; /* the common case: plain ASCII */
            continue;
        }
        gsize len;
        CharClass cls = classify(p, (gsize)(end - p), &len);
        const char *entity = cls == CHAR_OK && b < 0x80 ? escape_of(b, attribute) : NULL;
        if (cls == CHAR_OK && !entity) {
            p += len;
            continue;
        }
        g_string_append_len(out, run, p - run);
        if (entity)
            g_string_append(out, entity);
        else if (cls == CHAR_REPLACE)
            g_string_append(out, REPLACEMENT);
        p += len;
        run = p;
    }
    g_string_append_len(out, run, p - run);
}
