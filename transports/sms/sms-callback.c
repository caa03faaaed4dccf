/* sms-callback.c — Kannel's MO and DLR callbacks parsed from the query string (see sms-callback.h).
 */
#include "sms-callback.h"

#include <gio/gio.h>
#include <string.h>

void
cw_sms_mo_clear(CwSmsMo *mo)
{
    if (!mo)
        return;
    g_clear_pointer(&mo->sender, g_free);
    g_clear_pointer(&mo->receiver, g_free);
    g_clear_pointer(&mo->text, g_free);
    g_clear_pointer(&mo->kannel_id, g_free);
    mo->timestamp = 0;
}

void
cw_sms_dlr_clear(CwSmsDlr *dlr)
{
    if (!dlr)
        return;
    g_clear_pointer(&dlr->smsc_status, g_free);
    dlr->message = 0;
    dlr->part = 0;
    dlr->type = 0;
}

/* At most 32 bytes of s for an error message, valid UTF-8 (s came from the
 * network). */
static char *
excerpt(const char *s, gsize len)
{
    return g_utf8_make_valid(s, (gssize)MIN(len, 32));
}

/* ---- query strings ---- */

/* Decode one key or value: '+' is a space, %XX a byte. FALSE on a '%' not
 * followed by two hex digits. */
static gboolean
query_decode(const char *s, gsize len, GByteArray *out)
{
    for (gsize i = 0; i < len; i++) {
        guint8 c = (guint8)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3 || !g_ascii_isxdigit(s[i + 1]) || !g_ascii_isxdigit(s[i + 2]))
                return FALSE;
            c = (guint8)(g_ascii_xdigit_value(s[i + 1]) << 4 | g_ascii_xdigit_value(s[i + 2]));
            i += 2;
        }
        g_byte_array_append(out, &c, 1);
    }
    return TRUE;
}

/* One "key=value" (or a bare "key", an empty value) into params. */
static gboolean
query_add_pair(GHashTable *params, const char *pair, gsize len, GError **error)
{
    const char *eq = memchr(pair, '=', len);
    gsize klen = eq ? (gsize)(eq - pair) : len;
    g_autoptr(GByteArray) key = g_byte_array_new();
    g_autoptr(GByteArray) value = g_byte_array_new();
    if (!query_decode(pair, klen, key) || (eq && !query_decode(eq + 1, len - klen - 1, value))) {
        g_autofree char *what = excerpt(pair, len);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "query: bad %%-escape in \"%s\" ('%%' and two hex digits)", what);
        return FALSE;
    }
    /* an empty GByteArray's data may be NULL: neither memchr nor g_strndup
     * take that */
    if (key->len && memchr(key->data, 0, key->len)) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "query: a key holds a NUL byte");
        return FALSE;
    }
    g_autofree char *k = key->len ? g_strndup((const char *)key->data, key->len) : g_strdup("");
    if (g_hash_table_contains(params, k)) {
        g_autofree char *what = excerpt(k, key->len);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "query: parameter \"%s\" given twice", what);
        return FALSE;
    }
    g_hash_table_insert(params, g_steal_pointer(&k),
                        g_byte_array_free_to_bytes(g_steal_pointer(&value)));
    return TRUE;
}

/* Beyond the header's errors, a key that decodes to a NUL byte is refused: as
 * a C string it would collide with its prefix. */
GHashTable *
cw_sms_query_parse(const char *query, gssize len, GError **error)
{
    g_return_val_if_fail(query != NULL || len == 0, NULL);
    gsize n = len < 0 ? strnlen(query, CW_SMS_CALLBACK_MAX + 1) : (gsize)len;
    if (n > CW_SMS_CALLBACK_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "query: longer than %d bytes",
                    CW_SMS_CALLBACK_MAX);
        return NULL;
    }
    g_autoptr(GHashTable) params =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    gsize start = 0;
    for (gsize i = 0; i <= n; i++) {
        if (i < n && query[i] != '&')
            continue;
        /* empty pieces ("a=1&&b=2", a trailing '&') carry nothing */
        if (i > start && !query_add_pair(params, query + start, i - start, error))
            return NULL;
        start = i + 1;
    }
    return g_steal_pointer(&params);
}

gboolean
cw_sms_query_token_ok(GHashTable *params, const char *token)
{
    g_return_val_if_fail(params != NULL, FALSE);
    g_return_val_if_fail(token != NULL, FALSE);
    GBytes *given = g_hash_table_lookup(params, "token");
    gsize want_len = strlen(token);
    /* an unset token must not let an empty one in */
    if (!given || want_len == 0)
        return FALSE;
    gsize given_len;
    const guint8 *g = g_bytes_get_data(given, &given_len);
    /* Time depends on the expected token's length only, never on where the
     * bytes first differ. */
    volatile guint8 diff = given_len != want_len;
    for (gsize i = 0; i < want_len; i++) {
        guint8 b = i < given_len ? g[i] : 0;
        diff |= b ^ (guint8)token[i];
    }
    return diff == 0;
}

/* ---- parameters ---- */

/* A parameter's value as a C string when it is valid UTF-8 without NUL
 * bytes; *present says whether the key was there at all. */
static gboolean
param_string(GHashTable *params, const char *key, char **out, gboolean *present, GError **error)
{
    GBytes *b = g_hash_table_lookup(params, key);
    *out = NULL;
    if (present)
        *present = b != NULL;
    if (!b)
        return TRUE;
    gsize len;
    const char *data = g_bytes_get_data(b, &len);
    if (len > 0 && !g_utf8_validate(data, (gssize)len, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "parameter \"%s\": not valid UTF-8 text", key);
        return FALSE;
    }
    *out = g_strndup(data ? data : "", len);
    return TRUE;
}

/* A parameter that must be there and not empty. */
static gboolean
param_required(GHashTable *params, const char *key, char **out, GError **error)
{
    if (!param_string(params, key, out, NULL, error))
        return FALSE;
    if (!*out || !**out) {
        g_clear_pointer(out, g_free);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "parameter \"%s\" missing", key);
        return FALSE;
    }
    return TRUE;
}

/* An integer parameter of only ASCII digits in [min, max]. */
static gboolean
param_int(GHashTable *params, const char *key, gboolean required, gint64 min, gint64 max,
          gint64 *out, GError **error)
{
    g_autofree char *s = NULL;
    gboolean present;
    if (!param_string(params, key, &s, &present, error))
        return FALSE;
    if (!present || !*s) {
        if (required)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "parameter \"%s\" missing",
                        key);
        return !required;
    }
    gboolean digits = strlen(s) <= 19;
    for (const char *p = s; *p && digits; p++)
        digits = g_ascii_isdigit(*p);
    guint64 v = 0;
    if (!digits || !g_ascii_string_to_unsigned(s, 10, (guint64)min, (guint64)max, &v, NULL)) {
        g_autofree char *what = excerpt(s, strlen(s));
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "parameter \"%s\": \"%s\" is not a number from %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT,
                    key, what, min, max);
        return FALSE;
    }
    *out = (gint64)v;
    return TRUE;
}

/* ---- MO ---- */

/* The charsets we convert from, by the names Kannel gives (case-insensitive)
 * -> iconv name. Only these: a name from the network never reaches iconv. */
static const struct {
    const char *name, *iconv;
} mo_charsets[] = {
    {"UTF-8", "UTF-8"},          {"UTF8", "UTF-8"},        {"UTF-16BE", "UTF-16BE"},
    {"UCS-2", "UTF-16BE"},       {"UCS2", "UTF-16BE"},     {"ISO-8859-1", "ISO-8859-1"},
    {"ISO8859-1", "ISO-8859-1"}, {"LATIN1", "ISO-8859-1"}, {"WINDOWS-1252", "WINDOWS-1252"},
    {"CP1252", "WINDOWS-1252"},
};

static void
unknown_charset(const char *charset, GError **error)
{
    g_autofree char *what = excerpt(charset, strlen(charset));
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "parameter \"charset\": unknown charset \"%s\"", what);
}

/* Which charset the text is in: the charset parameter when given, else the
 * coding's (0 or none: UTF-8, 2: UTF-16BE). Binary (charset "binary", or
 * coding 1 without a charset) is refused. */
static gboolean
mo_charset(GHashTable *params, const char **iconv_name, GError **error)
{
    g_autofree char *charset = NULL;
    gint64 coding = 0;
    if (!param_string(params, "charset", &charset, NULL, error))
        return FALSE;
    if (!param_int(params, "coding", FALSE, 0, 2, &coding, NULL))
        coding = 0; /* unknown coding: the charset, or UTF-8, says what the text is */
    if (charset && *charset) {
        for (gsize i = 0; i < G_N_ELEMENTS(mo_charsets); i++) {
            if (g_ascii_strcasecmp(charset, mo_charsets[i].name) == 0) {
                *iconv_name = mo_charsets[i].iconv;
                return TRUE;
            }
        }
        if (g_ascii_strcasecmp(charset, "binary") == 0)
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                "parameter \"text\": a binary message is not text");
        else
            unknown_charset(charset, error);
        return FALSE;
    }
    if (coding == 1) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "parameter \"text\": a binary message (coding 1) is not text");
        return FALSE;
    }
    *iconv_name = coding == 2 ? "UTF-16BE" : "UTF-8";
    return TRUE;
}

/* Text decoding never refuses a message: smsbox drops an MO we answer with
 * 400, so a byte that does not decode (a lone surrogate, an undefined
 * Windows-1252 byte, invalid UTF-8) or a NUL character becomes U+FFFD and
 * the rest arrives. */
#define REPLACEMENT 0xFFFD

static void
append_char(GString *out, gunichar c)
{
    g_string_append_unichar(out, c == 0 ? REPLACEMENT : c);
}

static char *
decode_utf8(const guint8 *d, gsize len)
{
    GString *out = g_string_sized_new(len);
    const char *p = (const char *)d, *end = p + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0) {
            g_string_append_unichar(out, REPLACEMENT);
            p++;
            continue;
        }
        g_string_append_unichar(out, c);
        p = g_utf8_next_char(p);
    }
    return g_string_free(out, FALSE);
}

static char *
decode_utf16be(const guint8 *d, gsize len)
{
    GString *out = g_string_sized_new(len * 3 / 2);
    gsize i = 0;
    for (; i + 1 < len; i += 2) {
        gunichar u = (gunichar)d[i] << 8 | d[i + 1];
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            gunichar lo = (gunichar)d[i + 2] << 8 | d[i + 3];
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                g_string_append_unichar(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 2;
                continue;
            }
        }
        append_char(out, u >= 0xD800 && u <= 0xDFFF ? REPLACEMENT : u);
    }
    if (i < len) /* an odd byte at the end */
        g_string_append_unichar(out, REPLACEMENT);
    return g_string_free(out, FALSE);
}

static char *
decode_latin1(const guint8 *d, gsize len)
{
    GString *out = g_string_sized_new(len * 2);
    for (gsize i = 0; i < len; i++)
        append_char(out, d[i]);
    return g_string_free(out, FALSE);
}

/* The text bytes in charset (an iconv name from mo_charsets) -> valid UTF-8
 * without NUL characters. */
static char *
mo_text(GBytes *bytes, const char *charset)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(bytes, &len);
    if (len == 0)
        return g_strdup("");
    if (strcmp(charset, "UTF-8") == 0)
        return decode_utf8(data, len);
    if (strcmp(charset, "UTF-16BE") == 0)
        return decode_utf16be(data, len);
    if (strcmp(charset, "WINDOWS-1252") == 0) {
        gsize out_len = 0;
        g_autofree char *utf8 = g_convert((const char *)data, (gssize)len, "UTF-8", charset, NULL,
                                          &out_len, NULL);
        if (utf8 && g_utf8_validate(utf8, (gssize)out_len, NULL))
            return g_steal_pointer(&utf8);
        /* an undefined byte: read the message as Latin-1 instead */
    }
    return decode_latin1(data, len);
}

static gboolean
mo_fill(GHashTable *params, CwSmsMo *mo, GError **error)
{
    if (!param_required(params, "sender", &mo->sender, error) ||
        !param_required(params, "receiver", &mo->receiver, error))
        return FALSE;
    GBytes *text = g_hash_table_lookup(params, "text");
    if (!text) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "parameter \"text\" missing");
        return FALSE;
    }
    const char *charset = NULL;
    if (!mo_charset(params, &charset, error))
        return FALSE;
    mo->text = mo_text(text, charset);
    /* Kannel's id and time are extras: a bad one is dropped, not the SMS. */
    if (!param_string(params, "id", &mo->kannel_id, NULL, NULL) ||
        (mo->kannel_id && !*mo->kannel_id))
        g_clear_pointer(&mo->kannel_id, g_free);
    if (!param_int(params, "ts", FALSE, 0, G_MAXINT64, &mo->timestamp, NULL))
        mo->timestamp = 0;
    return TRUE;
}

/* *mo is zeroed first and cleared again on failure: the caller never frees
 * half a result. */
gboolean
cw_sms_mo_parse(GHashTable *params, CwSmsMo *mo, GError **error)
{
    g_return_val_if_fail(params != NULL, FALSE);
    g_return_val_if_fail(mo != NULL, FALSE);
    memset(mo, 0, sizeof *mo);
    if (!mo_fill(params, mo, error)) {
        cw_sms_mo_clear(mo);
        return FALSE;
    }
    return TRUE;
}

/* ---- DLR ---- */

static gboolean
dlr_type_ok(gint64 type)
{
    return type == 1 || type == 2 || type == 4 || type == 8 || type == 16;
}

/* Like cw_sms_mo_parse, *dlr holds nothing on failure. */
gboolean
cw_sms_dlr_parse(GHashTable *params, CwSmsDlr *dlr, GError **error)
{
    g_return_val_if_fail(params != NULL, FALSE);
    g_return_val_if_fail(dlr != NULL, FALSE);
    memset(dlr, 0, sizeof *dlr);
    gint64 m = 0, p = 0, type = 0;
    if (!param_int(params, "m", TRUE, 1, G_MAXINT64, &m, error) ||
        !param_int(params, "p", TRUE, 0, 255, &p, error) ||
        !param_int(params, "type", TRUE, 1, 16, &type, error))
        return FALSE;
    if (!dlr_type_ok(type)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "parameter \"type\": %" G_GINT64_FORMAT " is not 1, 2, 4, 8 or 16", type);
        return FALSE;
    }
    dlr->message = m;
    dlr->part = (guint)p;
    dlr->type = (guint)type;
    GBytes *status = g_hash_table_lookup(params, "smsc_status");
    if (status) {
        gsize len;
        const char *data = g_bytes_get_data(status, &len);
        dlr->smsc_status = len ? g_utf8_make_valid(data, (gssize)len) : g_strdup("");
    }
    return TRUE;
}
