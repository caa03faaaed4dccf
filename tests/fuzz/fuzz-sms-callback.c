/* fuzz-sms-callback.c — libFuzzer harness for transports/sms/sms-callback.c.
 *
 * The input is one raw query string, NUL bytes and all, run through the whole
 * parse a callback gets: query -> token check -> MO parse and DLR parse.
 * Properties: a parse refused has an error and a parse accepted none; what is
 * accepted is within the contract (the MO text and fields valid UTF-8, a DLR's
 * m > 0, p <= 255, type one bit of 1..16, smsc_status valid UTF-8); the token
 * check agrees with a plain comparison; a refused MO or DLR leaves nothing
 * allocated (LeakSanitizer sees the rest).
 */
#include "fuzz-common.h"

#include <gio/gio.h>

#include "sms/sms-callback.h"

#define FUZZ_TOKEN "s3cret"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    return 0;
}

static void
check_token(GHashTable *params)
{
    GBytes *given = g_hash_table_lookup(params, "token");
    gboolean want = FALSE;
    if (given) {
        gsize len;
        const void *data = g_bytes_get_data(given, &len);
        want = len == strlen(FUZZ_TOKEN) && memcmp(data, FUZZ_TOKEN, len) == 0;
    }
    CW_FUZZ_CHECK(cw_sms_query_token_ok(params, FUZZ_TOKEN) == want);
    CW_FUZZ_CHECK(!cw_sms_query_token_ok(params, ""));
}

static gboolean
utf8_or_null(const char *s)
{
    return !s || g_utf8_validate(s, -1, NULL);
}

static void
check_mo(GHashTable *params)
{
    CwSmsMo mo;
    GError *error = NULL;
    gboolean ok = cw_sms_mo_parse(params, &mo, &error);
    CW_FUZZ_CHECK(ok == (error == NULL));
    if (!ok) {
        CW_FUZZ_CHECK(error->domain == G_IO_ERROR && g_utf8_validate(error->message, -1, NULL));
        CW_FUZZ_CHECK(!mo.sender && !mo.receiver && !mo.text && !mo.kannel_id);
        g_error_free(error);
        return;
    }
    CW_FUZZ_CHECK(mo.sender && *mo.sender && g_utf8_validate(mo.sender, -1, NULL));
    CW_FUZZ_CHECK(mo.receiver && *mo.receiver && g_utf8_validate(mo.receiver, -1, NULL));
    CW_FUZZ_CHECK(mo.text && g_utf8_validate(mo.text, -1, NULL));
    CW_FUZZ_CHECK(utf8_or_null(mo.kannel_id));
    CW_FUZZ_CHECK(mo.timestamp >= 0);
    CW_FUZZ_CHECK(g_hash_table_contains(params, "text"));
    cw_sms_mo_clear(&mo);
    CW_FUZZ_CHECK(!mo.sender && !mo.text);
}

static void
check_dlr(GHashTable *params)
{
    CwSmsDlr dlr;
    GError *error = NULL;
    gboolean ok = cw_sms_dlr_parse(params, &dlr, &error);
    CW_FUZZ_CHECK(ok == (error == NULL));
    if (!ok) {
        CW_FUZZ_CHECK(error->domain == G_IO_ERROR && g_utf8_validate(error->message, -1, NULL));
        CW_FUZZ_CHECK(!dlr.smsc_status);
        g_error_free(error);
        return;
    }
    CW_FUZZ_CHECK(dlr.message > 0 && dlr.part <= 255);
    CW_FUZZ_CHECK(dlr.type >= 1 && dlr.type <= 16 && (dlr.type & (dlr.type - 1)) == 0);
    CW_FUZZ_CHECK(utf8_or_null(dlr.smsc_status));
    CW_FUZZ_CHECK((dlr.smsc_status != NULL) == g_hash_table_contains(params, "smsc_status"));
    cw_sms_dlr_clear(&dlr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    GHashTable *params = cw_sms_query_parse((const char *)data, (gssize)size, &error);
    CW_FUZZ_CHECK((params == NULL) == (error != NULL));
    if (!params) {
        CW_FUZZ_CHECK(error->domain == G_IO_ERROR && g_utf8_validate(error->message, -1, NULL));
        g_error_free(error);
        return 0;
    }
    CW_FUZZ_CHECK(size <= CW_SMS_CALLBACK_MAX);
    check_token(params);
    check_mo(params);
    check_dlr(params);
    g_hash_table_unref(params);
    return 0;
}
