/* sms-keywords.c — STOP/START/HELP recognition (sms-keywords.h). */
#include "sms-keywords.h"

#include <string.h>

CwSmsKeyword
cw_sms_keyword(const char *text)
{
    static const struct {
        const char *word;
        CwSmsKeyword keyword;
    } words[] = {
        { "stop", CW_SMS_KEYWORD_STOP },     { "stopall", CW_SMS_KEYWORD_STOP },
        { "unsubscribe", CW_SMS_KEYWORD_STOP }, { "cancel", CW_SMS_KEYWORD_STOP },
        { "end", CW_SMS_KEYWORD_STOP },      { "quit", CW_SMS_KEYWORD_STOP },
        { "start", CW_SMS_KEYWORD_START },   { "unstop", CW_SMS_KEYWORD_START },
        { "yes", CW_SMS_KEYWORD_START },     { "help", CW_SMS_KEYWORD_HELP },
        { "info", CW_SMS_KEYWORD_HELP },
    };
    if (!text)
        return CW_SMS_KEYWORD_NONE;
    while (g_ascii_isspace(*text))
        text++;
    gsize len = strlen(text);
    while (len > 0 && g_ascii_isspace(text[len - 1]))
        len--;
    if (len > 0 && (text[len - 1] == '.' || text[len - 1] == '!'))
        len--;
    for (gsize i = 0; i < G_N_ELEMENTS(words); i++)
        if (strlen(words[i].word) == len && g_ascii_strncasecmp(text, words[i].word, len) == 0)
            return words[i].keyword;
    return CW_SMS_KEYWORD_NONE;
}
