/* sms-numbers.c — gateway number sets, default countries, typed numbers (see sms-numbers.h). */
#include "sms-numbers.h"

#include <gio/gio.h>
#include <string.h>

#include "sms-text.h"

/* One entry of a set: the numbers lo..hi, all of `digits` digits after the
 * "+". E.164 has at most 15 digits and never a leading 0, so the digits fit a
 * guint64 and compare as numbers. A single number is lo == hi. */
typedef struct {
    guint64 lo, hi;
    guint digits;
} CwSmsRange;

struct CwSmsNumberSet {
    GArray *ranges; /* CwSmsRange, config order */
};

#define CW_SMS_SET_FORM                                                                            \
    "expected an E.164 number (+4930123450) or a range of numbers of the same length "             \
    "(+4930123450-+4930123459)"

/* "+digits" (already normalised) -> value and digit count. */
static gboolean
e164_value(const char *e164, guint64 *value, guint *digits)
{
    if (!e164 || e164[0] != '+')
        return FALSE;
    gsize n = strlen(e164 + 1);
    if (n < 2 || n > 15 || e164[1] == '0')
        return FALSE;
    guint64 v = 0;
    for (gsize i = 1; i <= n; i++) {
        if (!g_ascii_isdigit(e164[i]))
            return FALSE;
        v = v * 10 + (guint64)(e164[i] - '0');
    }
    *value = v;
    *digits = (guint)n;
    return TRUE;
}

/* A typed number of the set (international form only) -> value. */
static gboolean
entry_number(const char *text, guint64 *value, guint *digits)
{
    g_autofree char *e164 = cw_sms_number_normalize(text);
    return e164 && e164_value(e164, value, digits);
}

/* Where "FIRST-LAST" splits: the first '-' followed (after spaces) by '+'.
 * Dashes inside a number ("+49 30-1234") are separators, not ranges. */
static const char *
range_dash(const char *entry)
{
    for (const char *p = strchr(entry, '-'); p; p = strchr(p + 1, '-')) {
        const char *q = p + 1;
        while (*q == ' ')
            q++;
        if (*q == '+')
            return p;
    }
    return NULL;
}

static gboolean
parse_range(const char *entry, const char *dash, CwSmsRange *range, GError **error)
{
    g_autofree char *first = g_strndup(entry, dash - entry);
    guint digits_hi = 0;
    if (!entry_number(first, &range->lo, &range->digits) ||
        !entry_number(dash + 1, &range->hi, &digits_hi)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "bad entry \"%s\": " CW_SMS_SET_FORM, entry);
        return FALSE;
    }
    if (digits_hi != range->digits) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "bad range \"%s\": both ends must have the same number of digits",
                    entry);
        return FALSE;
    }
    if (range->hi < range->lo) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "bad range \"%s\": the first number is greater than the last", entry);
        return FALSE;
    }
    if (range->hi - range->lo >= CW_SMS_RANGE_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "range \"%s\" holds more than %d numbers", entry, CW_SMS_RANGE_MAX);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_entry(const char *entry, CwSmsRange *range, GError **error)
{
    if (!*entry) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "empty entry: " CW_SMS_SET_FORM);
        return FALSE;
    }
    const char *dash = range_dash(entry);
    if (dash)
        return parse_range(entry, dash, range, error);
    /* "+4930123450-" is a range cut short, not a number with a dash */
    if (g_str_has_suffix(entry, "-") || !entry_number(entry, &range->lo, &range->digits)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "bad entry \"%s\": " CW_SMS_SET_FORM, entry);
        return FALSE;
    }
    range->hi = range->lo;
    return TRUE;
}

static gboolean
ranges_overlap(const CwSmsRange *a, const CwSmsRange *b)
{
    return a->digits == b->digits && a->lo <= b->hi && b->lo <= a->hi;
}

static char *
range_describe(const CwSmsRange *r)
{
    if (r->lo == r->hi)
        return g_strdup_printf("+%" G_GUINT64_FORMAT, r->lo);
    return g_strdup_printf("+%" G_GUINT64_FORMAT "-+%" G_GUINT64_FORMAT, r->lo, r->hi);
}

/* An entry that overlaps one before it would count numbers twice. */
static gboolean
check_overlap(const GArray *ranges, const CwSmsRange *r, const char *entry, GError **error)
{
    for (guint i = 0; i < ranges->len; i++) {
        const CwSmsRange *o = &g_array_index(ranges, CwSmsRange, i);
        if (ranges_overlap(o, r)) {
            g_autofree char *before = range_describe(o);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "entry \"%s\" overlaps \"%s\"", entry, before);
            return FALSE;
        }
    }
    return TRUE;
}

CwSmsNumberSet *
cw_sms_number_set_parse(const char *spec, GError **error)
{
    g_return_val_if_fail(spec != NULL, NULL);
    g_auto(GStrv) entries = g_strsplit(spec, ",", -1);
    guint n = g_strv_length(entries);
    if (n > CW_SMS_SET_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "more than %d entries",
                    CW_SMS_SET_MAX);
        return NULL;
    }
    if (n == 0 || (n == 1 && !*g_strstrip(entries[0]))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "no number given: " CW_SMS_SET_FORM);
        return NULL;
    }
    g_autoptr(GArray) ranges = g_array_sized_new(FALSE, FALSE, sizeof(CwSmsRange), n);
    for (guint i = 0; i < n; i++) {
        const char *entry = g_strstrip(entries[i]);
        CwSmsRange r = {0};
        if (!parse_entry(entry, &r, error) || !check_overlap(ranges, &r, entry, error))
            return NULL;
        g_array_append_val(ranges, r);
    }
    CwSmsNumberSet *set = g_new0(CwSmsNumberSet, 1);
    set->ranges = g_steal_pointer(&ranges);
    return set;
}

void
cw_sms_number_set_free(CwSmsNumberSet *set)
{
    if (!set)
        return;
    g_array_unref(set->ranges);
    g_free(set);
}

gboolean
cw_sms_number_set_contains(const CwSmsNumberSet *set, const char *e164)
{
    g_return_val_if_fail(set != NULL, FALSE);
    guint64 v;
    guint digits;
    if (!e164_value(e164, &v, &digits))
        return FALSE;
    for (guint i = 0; i < set->ranges->len; i++) {
        const CwSmsRange *r = &g_array_index(set->ranges, CwSmsRange, i);
        if (r->digits == digits && v >= r->lo && v <= r->hi)
            return TRUE;
    }
    return FALSE;
}

guint64
cw_sms_number_set_size(const CwSmsNumberSet *set)
{
    g_return_val_if_fail(set != NULL, 0);
    guint64 size = 0;
    for (guint i = 0; i < set->ranges->len; i++) {
        const CwSmsRange *r = &g_array_index(set->ranges, CwSmsRange, i);
        size += r->hi - r->lo + 1;
    }
    return size;
}

char **
cw_sms_number_set_first(const CwSmsNumberSet *set, guint n)
{
    g_return_val_if_fail(set != NULL, NULL);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < set->ranges->len && out->len < n; i++) {
        const CwSmsRange *r = &g_array_index(set->ranges, CwSmsRange, i);
        for (guint64 v = r->lo; v <= r->hi && out->len < n; v++)
            g_ptr_array_add(out, g_strdup_printf("+%" G_GUINT64_FORMAT, v));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

char *
cw_sms_number_set_describe(const CwSmsNumberSet *set)
{
    g_return_val_if_fail(set != NULL, NULL);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < set->ranges->len; i++) {
        g_autofree char *one = range_describe(&g_array_index(set->ranges, CwSmsRange, i));
        if (i)
            g_string_append(s, ", ");
        g_string_append(s, one);
    }
    return g_string_free(s, FALSE);
}

/* ---- default countries ---- */

typedef struct {
    const char *iso, *code, *trunk;
} CwSmsCountry;

/* ISO 3166 alpha-2 -> calling code and trunk prefix. NANP countries share
 * "1" and dial "1" nationally; Italy, San Marino and the Vatican keep the
 * leading 0 in the number, so their trunk is "" as in the countries without
 * one. The first row of a calling code gives that code's trunk prefix. */
static const CwSmsCountry countries[] = {
    /* NANP */
    {"US", "1", "1"},
    {"CA", "1", "1"},
    {"PR", "1", "1"},
    {"VI", "1", "1"},
    {"GU", "1", "1"},
    {"AS", "1", "1"},
    {"MP", "1", "1"},
    {"AG", "1", "1"},
    {"AI", "1", "1"},
    {"BB", "1", "1"},
    {"BM", "1", "1"},
    {"BS", "1", "1"},
    {"DM", "1", "1"},
    {"DO", "1", "1"},
    {"GD", "1", "1"},
    {"JM", "1", "1"},
    {"KN", "1", "1"},
    {"KY", "1", "1"},
    {"LC", "1", "1"},
    {"MS", "1", "1"},
    {"SX", "1", "1"},
    {"TC", "1", "1"},
    {"TT", "1", "1"},
    {"VC", "1", "1"},
    {"VG", "1", "1"},
    /* Europe */
    {"RU", "7", "8"},
    {"KZ", "7", "8"},
    {"GR", "30", ""},
    {"NL", "31", "0"},
    {"BE", "32", "0"},
    {"FR", "33", "0"},
    {"ES", "34", ""},
    {"HU", "36", "06"},
    {"IT", "39", ""},
    {"VA", "39", ""},
    {"RO", "40", "0"},
    {"CH", "41", "0"},
    {"LI", "423", ""},
    {"AT", "43", "0"},
    {"GB", "44", "0"},
    {"GG", "44", "0"},
    {"IM", "44", "0"},
    {"JE", "44", "0"},
    {"DK", "45", ""},
    {"SE", "46", "0"},
    {"NO", "47", ""},
    {"PL", "48", ""},
    {"DE", "49", "0"},
    {"GI", "350", ""},
    {"PT", "351", ""},
    {"LU", "352", ""},
    {"IE", "353", "0"},
    {"IS", "354", ""},
    {"AL", "355", "0"},
    {"MT", "356", ""},
    {"CY", "357", ""},
    {"FI", "358", "0"},
    {"BG", "359", "0"},
    {"LT", "370", "0"},
    {"LV", "371", ""},
    {"EE", "372", ""},
    {"MD", "373", "0"},
    {"AM", "374", "0"},
    {"BY", "375", "8"},
    {"AD", "376", ""},
    {"MC", "377", ""},
    {"SM", "378", ""},
    {"UA", "380", "0"},
    {"RS", "381", "0"},
    {"ME", "382", "0"},
    {"XK", "383", "0"},
    {"HR", "385", "0"},
    {"SI", "386", "0"},
    {"BA", "387", "0"},
    {"MK", "389", "0"},
    {"CZ", "420", ""},
    {"SK", "421", "0"},
    {"TR", "90", "0"},
    {"GE", "995", "0"},
    /* Americas */
    {"MX", "52", ""},
    {"CU", "53", "0"},
    {"AR", "54", "0"},
    {"BR", "55", "0"},
    {"CL", "56", ""},
    {"CO", "57", ""},
    {"VE", "58", "0"},
    {"PE", "51", "0"},
    {"EC", "593", "0"},
    {"UY", "598", "0"},
    {"PY", "595", "0"},
    {"BO", "591", "0"},
    {"CR", "506", ""},
    {"PA", "507", ""},
    {"GT", "502", ""},
    /* Africa and the Middle East */
    {"EG", "20", "0"},
    {"ZA", "27", "0"},
    {"MA", "212", "0"},
    {"DZ", "213", "0"},
    {"TN", "216", ""},
    {"NG", "234", "0"},
    {"GH", "233", "0"},
    {"KE", "254", "0"},
    {"TZ", "255", "0"},
    {"UG", "256", "0"},
    {"ET", "251", "0"},
    {"SN", "221", ""},
    {"CI", "225", ""},
    {"IL", "972", "0"},
    {"PS", "970", "0"},
    {"JO", "962", "0"},
    {"LB", "961", "0"},
    {"SA", "966", "0"},
    {"AE", "971", "0"},
    {"QA", "974", ""},
    {"KW", "965", ""},
    {"BH", "973", ""},
    {"OM", "968", ""},
    {"IR", "98", "0"},
    {"IQ", "964", "0"},
    /* Asia and Oceania */
    {"MY", "60", "0"},
    {"AU", "61", "0"},
    {"ID", "62", "0"},
    {"PH", "63", "0"},
    {"NZ", "64", "0"},
    {"SG", "65", ""},
    {"TH", "66", "0"},
    {"JP", "81", "0"},
    {"KR", "82", "0"},
    {"VN", "84", "0"},
    {"CN", "86", "0"},
    {"IN", "91", "0"},
    {"PK", "92", "0"},
    {"AF", "93", "0"},
    {"LK", "94", "0"},
    {"MM", "95", "0"},
    {"HK", "852", ""},
    {"MO", "853", ""},
    {"KH", "855", "0"},
    {"TW", "886", "0"},
    {"BD", "880", "0"},
    {"NP", "977", "0"},
    {"UZ", "998", "8"},
};

static const CwSmsCountry *
country_by_iso(const char *iso)
{
    for (gsize i = 0; i < G_N_ELEMENTS(countries); i++)
        if (g_ascii_strcasecmp(countries[i].iso, iso) == 0)
            return &countries[i];
    return NULL;
}

static const CwSmsCountry *
country_by_code(const char *code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(countries); i++)
        if (strcmp(countries[i].code, code) == 0)
            return &countries[i];
    return NULL;
}

static gboolean
is_calling_code(const char *s)
{
    gsize n = strlen(s);
    if (n < 1 || n > 3 || s[0] == '0')
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    return TRUE;
}

gboolean
cw_sms_country_lookup(const char *value, const char **calling_code, const char **trunk_prefix)
{
    if (!value)
        return FALSE;
    const CwSmsCountry *c = NULL;
    const char *digits = value[0] == '+' ? value + 1 : value;
    if (is_calling_code(digits)) {
        c = country_by_code(digits);
        if (!c) {
            /* A code we have no row for: most countries dial "0". Interned so
             * the string is static like the table's. */
            if (calling_code)
                *calling_code = g_intern_string(digits);
            if (trunk_prefix)
                *trunk_prefix = "0";
            return TRUE;
        }
    } else if (strlen(value) == 2) {
        c = country_by_iso(value);
    }
    if (!c)
        return FALSE;
    if (calling_code)
        *calling_code = c->code;
    if (trunk_prefix)
        *trunk_prefix = c->trunk;
    return TRUE;
}

/* ---- typed numbers ---- */

/* typed without "tel:", separators and surrounding spaces: "+" or nothing,
 * then digits. NULL on anything else. */
static char *
compact_number(const char *typed)
{
    while (g_ascii_isspace(*typed))
        typed++;
    if (g_ascii_strncasecmp(typed, "tel:", 4) == 0)
        typed += 4;
    GString *s = g_string_new(NULL);
    for (const char *p = typed; *p; p++) {
        if (g_ascii_isdigit(*p) || (*p == '+' && s->len == 0))
            g_string_append_c(s, *p);
        else if (!strchr(" \t.-/()", *p)) {
            g_string_free(s, TRUE);
            return NULL;
        }
    }
    return g_string_free(s, FALSE);
}

static char *
national_number(const char *digits, const char *default_country)
{
    const char *code, *trunk;
    if (!default_country || !cw_sms_country_lookup(default_country, &code, &trunk))
        return NULL;
    if (*trunk && g_str_has_prefix(digits, trunk))
        digits += strlen(trunk);
    if (strlen(digits) < 2)
        return NULL;
    g_autofree char *full = g_strconcat("+", code, digits, NULL);
    return cw_sms_number_normalize(full);
}

char *
cw_sms_number_parse(const char *typed, const char *default_country)
{
    if (!typed)
        return NULL;
    g_autofree char *compact = compact_number(typed);
    if (!compact || !*compact)
        return NULL;
    if (compact[0] == '+' || g_str_has_prefix(compact, "00"))
        return cw_sms_number_normalize(compact);
    return national_number(compact, default_country);
}
