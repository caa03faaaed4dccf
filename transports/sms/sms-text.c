/* sms-text.c — SMS codings, splitting into parts, E.164 numbers (see sms-text.h). */
#include "sms-text.h"

#include <string.h>

/* The GSM 03.38 default alphabet, by code point (3GPP TS 23.038 §6.2.1),
 * without ESC (0x1B); '\n' and '\r' are in it. */
static const gunichar gsm7_basic[] = {
    '@',    0x00A3, '$',    0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00E7, '\n',   0x00D8,
    0x00F8, '\r',   0x00C5, 0x00E5, 0x0394, '_',    0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, ' ',    '!',    '"',    '#',    0x00A4,
    '%',    '&',    '\'',   '(',    ')',    '*',    '+',    ',',    '-',    '.',    '/',    ':',
    ';',    '<',    '=',    '>',    '?',    0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF,
    0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* The extension table (ESC + code): two septets each. */
static const gunichar gsm7_extension[] = { '\f', '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC };

guint
cw_sms_gsm7_septets(gunichar c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    for (gsize i = 0; i < G_N_ELEMENTS(gsm7_basic); i++)
        if (gsm7_basic[i] == c)
            return 1;
    for (gsize i = 0; i < G_N_ELEMENTS(gsm7_extension); i++)
        if (gsm7_extension[i] == c)
            return 2;
    return 0;
}

CwSmsCoding
cw_sms_coding_for(const char *utf8)
{
    for (const char *p = utf8; *p; p = g_utf8_next_char(p))
        if (cw_sms_gsm7_septets(g_utf8_get_char(p)) == 0)
            return CW_SMS_UCS2;
    return CW_SMS_GSM7;
}

/* Size of one character in the coding's units: septets, or UTF-16 units. */
static guint
units_of(gunichar c, CwSmsCoding coding)
{
    if (coding == CW_SMS_GSM7)
        return cw_sms_gsm7_septets(c);
    return c > 0xFFFF ? 2 : 1;
}

char **
cw_sms_split(const char *utf8, CwSmsCoding *coding)
{
    CwSmsCoding cod = cw_sms_coding_for(utf8);
    if (coding)
        *coding = cod;
    guint total = 0;
    for (const char *p = utf8; *p; p = g_utf8_next_char(p))
        total += units_of(g_utf8_get_char(p), cod);
    guint single = cod == CW_SMS_GSM7 ? CW_SMS_GSM7_SINGLE : CW_SMS_UCS2_SINGLE;
    GPtrArray *parts = g_ptr_array_new();
    if (total <= single) {
        g_ptr_array_add(parts, g_strdup(utf8));
        g_ptr_array_add(parts, NULL);
        return (char **)g_ptr_array_free(parts, FALSE);
    }
    guint room = cod == CW_SMS_GSM7 ? CW_SMS_GSM7_PART : CW_SMS_UCS2_PART;
    const char *start = utf8;
    guint used = 0;
    for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
        guint n = units_of(g_utf8_get_char(p), cod);
        if (used + n > room) {
            g_ptr_array_add(parts, g_strndup(start, p - start));
            start = p;
            used = 0;
        }
        used += n;
    }
    g_ptr_array_add(parts, g_strdup(start));
    g_ptr_array_add(parts, NULL);
    return (char **)g_ptr_array_free(parts, FALSE);
}

char *
cw_sms_number_normalize(const char *number)
{
    if (!number)
        return NULL;
    GString *digits = g_string_new(NULL);
    const char *p = number;
    while (*p == ' ')
        p++;
    if (*p == '+')
        p++;
    else if (p[0] == '0' && p[1] == '0')
        p += 2;
    else {
        g_string_free(digits, TRUE);
        return NULL;
    }
    for (; *p; p++) {
        if (g_ascii_isdigit(*p))
            g_string_append_c(digits, *p);
        else if (!strchr(" .-/()", *p))
            break;
    }
    gboolean ok = !*p && digits->len >= 2 && digits->len <= 15 && digits->str[0] != '0';
    if (!ok) {
        g_string_free(digits, TRUE);
        return NULL;
    }
    g_string_prepend_c(digits, '+');
    return g_string_free(digits, FALSE);
}
