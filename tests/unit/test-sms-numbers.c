/* test-sms-numbers.c — gateway number sets, default countries, typed numbers. */
#include <gio/gio.h>
#include <string.h>

#include "sms/sms-numbers.h"

static void
test_set_single(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsNumberSet) set = cw_sms_number_set_parse("+4930123450", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_sms_number_set_size(set), ==, 1);
    g_assert_true(cw_sms_number_set_contains(set, "+4930123450"));
    g_assert_false(cw_sms_number_set_contains(set, "+4930123451"));
    g_assert_false(cw_sms_number_set_contains(set, "+49301234500"));
    g_assert_false(cw_sms_number_set_contains(set, "4930123450"));
    g_assert_false(cw_sms_number_set_contains(set, NULL));
    g_autofree char *d = cw_sms_number_set_describe(set);
    g_assert_cmpstr(d, ==, "+4930123450");
}

static void
test_set_ranges(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsNumberSet) set = cw_sms_number_set_parse(
        " +49 30 123450 - +49 30 123459 ,+1 (555) 123-0000, 0044 20 7946 0000", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_sms_number_set_size(set), ==, 12);
    g_assert_true(cw_sms_number_set_contains(set, "+4930123450"));
    g_assert_true(cw_sms_number_set_contains(set, "+4930123455"));
    g_assert_true(cw_sms_number_set_contains(set, "+4930123459"));
    g_assert_false(cw_sms_number_set_contains(set, "+4930123449"));
    g_assert_false(cw_sms_number_set_contains(set, "+4930123460"));
    g_assert_true(cw_sms_number_set_contains(set, "+15551230000"));
    g_assert_true(cw_sms_number_set_contains(set, "+442079460000"));
    g_autofree char *d = cw_sms_number_set_describe(set);
    g_assert_cmpstr(d, ==, "+4930123450-+4930123459, +15551230000, +442079460000");

    g_auto(GStrv) first = cw_sms_number_set_first(set, 3);
    g_assert_cmpuint(g_strv_length(first), ==, 3);
    g_assert_cmpstr(first[0], ==, "+4930123450");
    g_assert_cmpstr(first[2], ==, "+4930123452");
    g_auto(GStrv) all = cw_sms_number_set_first(set, 100);
    g_assert_cmpuint(g_strv_length(all), ==, 12);
    g_assert_cmpstr(all[10], ==, "+15551230000");
    g_assert_cmpstr(all[11], ==, "+442079460000");
    g_auto(GStrv) none = cw_sms_number_set_first(set, 0);
    g_assert_cmpuint(g_strv_length(none), ==, 0);

    /* a range across a digit carry, still the same length */
    g_autoptr(CwSmsNumberSet) carry = cw_sms_number_set_parse("+4930123459-+4930123461", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_sms_number_set_size(carry), ==, 3);
    g_assert_true(cw_sms_number_set_contains(carry, "+4930123460"));
}

static void
test_set_range_max(void)
{
    g_autoptr(GError) error = NULL;
    /* exactly CW_SMS_RANGE_MAX numbers */
    g_autoptr(CwSmsNumberSet) set = cw_sms_number_set_parse("+4930100000-+4930199999", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_sms_number_set_size(set), ==, CW_SMS_RANGE_MAX);
    /* one more */
    g_autoptr(CwSmsNumberSet) big = cw_sms_number_set_parse("+4930100000-+4930200000", &error);
    g_assert_null(big);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "+4930100000-+4930200000"));
    g_clear_error(&error);
    g_autoptr(CwSmsNumberSet) huge = cw_sms_number_set_parse("+100000000000-+199999999999", &error);
    g_assert_null(huge);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_set_errors(void)
{
    static const char *const bad[] = {
        "",
        " ",
        "+4930123450-+493012345",  /* ends of different length */
        "+493012345-+4930123459",  /* likewise */
        "+4930123459-+4930123450", /* reversed */
        "+4930123450,",            /* empty entry */
        ",+4930123450",
        "+4930123450,,+4930123451",
        "4930123450", /* not international */
        "+49301234x0",
        "+0123456",
        "+1234567890123456", /* 16 digits */
        "+4930123450-",
        "-+4930123450",
        "+4930123450-+4930123455, +4930123455", /* overlap */
        "+4930123450, +4930123450",             /* the same twice */
        "+4930123450;+4930123451",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CwSmsNumberSet) set = cw_sms_number_set_parse(bad[i], &error);
        if (set)
            g_error("accepted \"%s\"", bad[i]);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        /* the config reader puts "[transport:NAME] numbers:" in front */
        g_assert_false(g_str_has_prefix(error->message, "numbers: "));
        g_assert_cmpuint(strlen(error->message), >, 10);
    }
    /* the message names the entry and the expected form */
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsNumberSet) set = cw_sms_number_set_parse("+4930123450, bogus", &error);
    g_assert_null(set);
    g_assert_nonnull(strstr(error->message, "\"bogus\""));
    g_assert_nonnull(strstr(error->message, "+4930123450-+4930123459"));
}

static void
test_set_full(void)
{
    GString *spec = g_string_new(NULL);
    for (int i = 0; i < CW_SMS_SET_MAX; i++)
        g_string_append_printf(spec, "%s+4930%06d", i ? "," : "", i);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsNumberSet) full = cw_sms_number_set_parse(spec->str, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cw_sms_number_set_size(full), ==, CW_SMS_SET_MAX);
    g_assert_true(cw_sms_number_set_contains(full, "+4930000999"));
    g_string_append(spec, ",+4931000000");
    g_autoptr(CwSmsNumberSet) over = cw_sms_number_set_parse(spec->str, &error);
    g_assert_null(over);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_string_free(spec, TRUE);
    cw_sms_number_set_free(NULL);
}

static void
test_country_lookup(void)
{
    static const struct {
        const char *value, *code, *trunk;
    } cases[] = {
        {"DE", "49", "0"},   {"de", "49", "0"},   {"US", "1", "1"},  {"CA", "1", "1"},
        {"JM", "1", "1"},    {"IT", "39", ""},    {"GB", "44", "0"}, {"FR", "33", "0"},
        {"ES", "34", ""},    {"RU", "7", "8"},    {"JP", "81", "0"}, {"AU", "61", "0"},
        {"BR", "55", "0"},   {"IN", "91", "0"},   {"CN", "86", "0"}, {"CH", "41", "0"},
        {"49", "49", "0"},   {"1", "1", "1"},     {"39", "39", ""},  {"+44", "44", "0"},
        {"353", "353", "0"}, {"999", "999", "0"}, /* no row: most countries dial 0 */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *code = NULL, *trunk = NULL;
        g_assert_true(cw_sms_country_lookup(cases[i].value, &code, &trunk));
        g_assert_cmpstr(code, ==, cases[i].code);
        g_assert_cmpstr(trunk, ==, cases[i].trunk);
    }
    static const char *const bad[] = {NULL, "", "D", "DEU", "ZZ", "1234", "049", "0", "4x", "+"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *code = NULL, *trunk = NULL;
        g_assert_false(cw_sms_country_lookup(bad[i], &code, &trunk));
    }
}

static void
test_country_table(void)
{
    /* enough of the common countries are there */
    static const char *const iso[] = {
        "AT", "BE", "BG", "CZ", "DK", "EE", "FI", "GR", "HR", "HU", "IE", "LT", "LU", "LV",
        "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "NO", "IS", "TR", "UA", "RS", "IL",
        "AE", "SA", "EG", "ZA", "NG", "KE", "MA", "MX", "AR", "CL", "CO", "PE", "VE", "KR",
        "SG", "HK", "TW", "TH", "VN", "PH", "ID", "MY", "PK", "BD", "NZ", "PR", "DO",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(iso); i++) {
        const char *code = NULL, *trunk = NULL;
        if (!cw_sms_country_lookup(iso[i], &code, &trunk))
            g_error("no country %s", iso[i]);
        g_assert_true(strlen(code) >= 1 && strlen(code) <= 3);
    }
}

static void
test_parse(void)
{
    static const struct {
        const char *typed, *country, *out;
    } cases[] = {
        /* international forms, with or without a default country */
        {"+49 30 1234567", NULL, "+49301234567"},
        {"+49 30 1234567", "US", "+49301234567"},
        {"0049 (30) 123-4567", NULL, "+49301234567"},
        {"0049 30 1234567", "DE", "+49301234567"},
        {"tel:+1-201-555-0123", NULL, "+12015550123"},
        {"TEL:+12015550123", "DE", "+12015550123"},
        {"  +44.20.7946.0000  ", NULL, "+442079460000"},
        /* national numbers */
        {"030 1234567", "DE", "+49301234567"},
        {"030/1234567", "49", "+49301234567"},
        {"0171 2345678", "DE", "+491712345678"},
        {"(201) 555-0123", "US", "+12015550123"},
        {"1 201 555 0123", "US", "+12015550123"},
        {"201.555.0123", "1", "+12015550123"},
        {"06 1234 5678", "IT", "+390612345678"}, /* Italy keeps the 0 */
        {"333 123 4567", "IT", "+393331234567"},
        {"020 7946 0000", "GB", "+442079460000"},
        {"07700 900123", "GB", "+447700900123"},
        {"tel:030 1234567", "DE", "+49301234567"},
        /* national without a default country: refused */
        {"030 1234567", NULL, NULL},
        {"2015550123", NULL, NULL},
        /* a bad default country */
        {"030 1234567", "XX", NULL},
        /* junk */
        {"", "DE", NULL},
        {"   ", "DE", NULL},
        {"0", "DE", NULL},
        {"abc", "DE", NULL},
        {"+49 30 12a4567", NULL, NULL},
        {"030 1234567 ext 5", "DE", NULL},
        {"+49+301234567", NULL, NULL},
        {"tel:+12015550123;ext=1", NULL, NULL},
        {"+0049301234567", NULL, NULL},
        {"+1234567890123456", NULL, NULL},
        {"030 1234567890123456", "DE", NULL}, /* too long */
        {"+49 30\n1234567", NULL, NULL},
        {NULL, "DE", NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cw_sms_number_parse(cases[i].typed, cases[i].country);
        if (g_strcmp0(got, cases[i].out) != 0)
            g_error("\"%s\" in %s: got %s, want %s", cases[i].typed, cases[i].country, got,
                    cases[i].out);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sms/numbers/set-single", test_set_single);
    g_test_add_func("/sms/numbers/set-ranges", test_set_ranges);
    g_test_add_func("/sms/numbers/set-range-max", test_set_range_max);
    g_test_add_func("/sms/numbers/set-errors", test_set_errors);
    g_test_add_func("/sms/numbers/set-full", test_set_full);
    g_test_add_func("/sms/numbers/country-lookup", test_country_lookup);
    g_test_add_func("/sms/numbers/country-table", test_country_table);
    g_test_add_func("/sms/numbers/parse", test_parse);
    return g_test_run();
}
