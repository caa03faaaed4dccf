/* test-sms-keywords.c — STOP/START/HELP are whole messages, any case. */
#include "sms/sms-keywords.h"

static void
test_keywords(void)
{
    static const struct {
        const char *text;
        CwSmsKeyword keyword;
    } cases[] = {
        { "STOP", CW_SMS_KEYWORD_STOP },   { "stop", CW_SMS_KEYWORD_STOP },
        { "  Stop.  ", CW_SMS_KEYWORD_STOP }, { "UNSUBSCRIBE", CW_SMS_KEYWORD_STOP },
        { "stopall!", CW_SMS_KEYWORD_STOP }, { "quit", CW_SMS_KEYWORD_STOP },
        { "START", CW_SMS_KEYWORD_START }, { "unstop", CW_SMS_KEYWORD_START },
        { "Yes", CW_SMS_KEYWORD_START },   { "help", CW_SMS_KEYWORD_HELP },
        { "INFO", CW_SMS_KEYWORD_HELP },   { "Stop by at 5", CW_SMS_KEYWORD_NONE },
        { "stopp", CW_SMS_KEYWORD_NONE },  { "", CW_SMS_KEYWORD_NONE },
        { ".", CW_SMS_KEYWORD_NONE },      { "stop..", CW_SMS_KEYWORD_NONE },
        { "s t o p", CW_SMS_KEYWORD_NONE }, { "STOP\n", CW_SMS_KEYWORD_STOP },
        { "ＳＴＯＰ", CW_SMS_KEYWORD_NONE }, /* fullwidth: not ASCII STOP */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(cw_sms_keyword(cases[i].text), ==, cases[i].keyword);
    g_assert_cmpint(cw_sms_keyword(NULL), ==, CW_SMS_KEYWORD_NONE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms-keywords/whole-message", test_keywords);
    return g_test_run();
}
