/* sms-text.h — SMS text and numbers: which coding a text needs, how it splits
 * into parts, and E.164 numbers. Pure functions, no Kannel.
 *
 * Kannel turns text that is not GSM 03.38 into '?' unless it is sent as
 * UCS-2, so the coding is chosen per message: GSM 7-bit (coding 0) when every
 * character has a GSM 03.38 form (the default alphabet, or the extension table
 * at two septets each), else UCS-2 (coding 2). One SMS holds 160 septets or
 * 70 UTF-16 units; a longer text goes in parts of 153 septets or 67 units
 * (room for the concatenation header). A part never ends between the two
 * septets of an extension character or the two halves of a surrogate pair.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    CW_SMS_GSM7 = 0, /* Kannel coding=0 */
    CW_SMS_UCS2 = 2, /* Kannel coding=2 */
} CwSmsCoding;

#define CW_SMS_GSM7_SINGLE 160
#define CW_SMS_GSM7_PART 153
#define CW_SMS_UCS2_SINGLE 70
#define CW_SMS_UCS2_PART 67

/* Septets of one character in GSM 03.38: 1, 2 (extension table) or 0 when it
 * has no GSM 03.38 form. */
guint cw_sms_gsm7_septets(gunichar c);

/* The coding text needs (valid UTF-8). */
CwSmsCoding cw_sms_coding_for(const char *utf8);

/* Split valid UTF-8 into the parts to send (a NULL-terminated array of UTF-8
 * strings, g_strfreev) in the coding *coding is set to. An empty text is one
 * empty part. */
char **cw_sms_split(const char *utf8, CwSmsCoding *coding);

/* A phone number in E.164 form ("+" and 2 to 15 digits, not starting with 0),
 * allocated, or NULL. Spaces, dots, dashes, slashes and parentheses are
 * ignored; a leading "00" stands for "+". */
char *cw_sms_number_normalize(const char *number);

G_END_DECLS
