/* fuzz-sms-text.c — libFuzzer harness for transports/sms/sms-text.c.
 *
 * The input is one string. When it is valid UTF-8 it is split into SMS parts:
 * the parts joined give the input back, each part fits its coding's limit
 * (160/70 alone, else 153/67 each), the coding is GSM 7-bit exactly when every
 * character has a GSM 03.38 form, and no part is empty unless the input is.
 * Any input as a phone number: a result is "+" and 2..15 digits, stable when
 * normalised again.
 */
#include "fuzz-common.h"

#include "sms/sms-text.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

static guint
units(const char *s, CwSmsCoding coding)
{
    guint n = 0;
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        n += coding == CW_SMS_GSM7 ? cw_sms_gsm7_septets(c) : (c > 0xFFFF ? 2 : 1);
    }
    return n;
}

static void
check_split(const char *text)
{
    CwSmsCoding coding;
    char **parts = cw_sms_split(text, &coding);
    guint n = g_strv_length(parts);
    CW_FUZZ_CHECK(n >= 1);
    gboolean all_gsm = TRUE;
    for (const char *p = text; *p; p = g_utf8_next_char(p))
        if (cw_sms_gsm7_septets(g_utf8_get_char(p)) == 0)
            all_gsm = FALSE;
    CW_FUZZ_CHECK((coding == CW_SMS_GSM7) == all_gsm);
    guint single = coding == CW_SMS_GSM7 ? CW_SMS_GSM7_SINGLE : CW_SMS_UCS2_SINGLE;
    guint room = coding == CW_SMS_GSM7 ? CW_SMS_GSM7_PART : CW_SMS_UCS2_PART;
    for (guint i = 0; i < n; i++) {
        CW_FUZZ_CHECK(g_utf8_validate(parts[i], -1, NULL));
        CW_FUZZ_CHECK(units(parts[i], coding) <= (n == 1 ? single : room));
        CW_FUZZ_CHECK(n == 1 || *parts[i]);
    }
    char *joined = g_strjoinv("", parts);
    CW_FUZZ_CHECK(strcmp(joined, text) == 0);
    g_free(joined);
    g_strfreev(parts);
}

static void
check_number(const char *s)
{
    char *n = cw_sms_number_normalize(s);
    if (!n)
        return;
    gsize len = strlen(n);
    CW_FUZZ_CHECK(n[0] == '+' && len >= 3 && len <= 16 && n[1] != '0');
    for (gsize i = 1; i < len; i++)
        CW_FUZZ_CHECK(g_ascii_isdigit(n[i]));
    char *again = cw_sms_number_normalize(n);
    CW_FUZZ_CHECK(again && strcmp(again, n) == 0);
    g_free(again);
    g_free(n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = g_strndup((const char *)data, size);
    if (g_utf8_validate(s, -1, NULL))
        check_split(s);
    check_number(s);
    g_free(s);
    return 0;
}
