/* sms-keywords.h — the commands a phone user texts to a gateway number
 * (CTIA/carrier conventions): STOP and its synonyms opt out, START opts back
 * in, HELP asks who is texting. The whole message must be the keyword
 * (any case, surrounding spaces and one trailing '.' or '!' ignored): "Stop
 * by at 5" is a message, not an opt-out. Pure function. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    CW_SMS_KEYWORD_NONE = 0,
    CW_SMS_KEYWORD_STOP,  /* STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT */
    CW_SMS_KEYWORD_START, /* START, UNSTOP, YES */
    CW_SMS_KEYWORD_HELP,  /* HELP, INFO */
} CwSmsKeyword;

CwSmsKeyword cw_sms_keyword(const char *text);

G_END_DECLS
