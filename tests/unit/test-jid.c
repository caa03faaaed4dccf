/* test-jid.c — unit tests for jid.c: splitting, building, comparing and XEP-0106 escaping. */
#include <string.h>

#include "causeway/jid.h"

/* ---- cw_jid_split ---- */

typedef struct {
    const char *jid;
    gboolean ok;
    const char *node, *domain, *resource; /* expected parts when ok */
} SplitCase;

static const SplitCase split_cases[] = {
    { "user@example.com", TRUE, "user", "example.com", NULL },
    { "user@example.com/Res", TRUE, "user", "example.com", "Res" },
    { "User@EXAMPLE.Com/ReS", TRUE, "User", "example.com", "ReS" },
    { "example.com", TRUE, NULL, "example.com", NULL },
    { "Example.COM/res", TRUE, NULL, "example.com", "res" },
    { "a@b/c/d", TRUE, "a", "b", "c/d" },
    { "a@b/c@d", TRUE, "a", "b", "c@d" },
    { "a/b@c", TRUE, NULL, "a", "b@c" },
    { "a@b/ spaced res ", TRUE, "a", "b", " spaced res " },
    { "a@b/ ", TRUE, "a", "b", " " },
    { "j\xc3\xb6hn@EX\xc3\x84MPLE.org/r\xc3\xa9", TRUE, "j\xc3\xb6hn", "ex\xc3\x84mple.org",
      "r\xc3\xa9" },
    { "a\\40b@gw.example", TRUE, "a\\40b", "gw.example", NULL },
    { "\\@gw", TRUE, "\\", "gw", NULL },
    { .jid = "", .ok = FALSE },
    { .jid = "@", .ok = FALSE },
    { .jid = "/", .ok = FALSE },
    { .jid = "@/", .ok = FALSE },
    { .jid = "a@", .ok = FALSE },
    { .jid = "@b", .ok = FALSE },
    { .jid = "a@b/", .ok = FALSE },
    { .jid = "/res", .ok = FALSE },
    { .jid = "a@/r", .ok = FALSE },
    { .jid = "a@b@c", .ok = FALSE },
    { .jid = "a b@c", .ok = FALSE },
    { .jid = "a@b c", .ok = FALSE },
    { .jid = " @b", .ok = FALSE },
    { .jid = "a\t@b", .ok = FALSE },
    { .jid = "a@b\n", .ok = FALSE },
    { .jid = "a@b\x7f", .ok = FALSE },
    { .jid = "a\xc2\xa0" "b@c", .ok = FALSE }, /* NBSP */
    { .jid = "a\xc2\x85@c", .ok = FALSE },     /* C1 control NEL */
    { .jid = "\xff@b", .ok = FALSE },
    { .jid = "a@b/\xc3", .ok = FALSE },
    { .jid = "a@\xed\xa0\x80", .ok = FALSE }, /* UTF-16 surrogate */
};

static void test_split(gconstpointer data)
{
    const SplitCase *c = data;
    char *sentinel = (char *)"untouched";
    char *node = sentinel, *domain = sentinel, *resource = sentinel;

    gboolean ok = cw_jid_split(c->jid, &node, &domain, &resource);
    g_assert_cmpint(ok, ==, c->ok);
    g_assert_cmpint(cw_jid_is_valid(c->jid), ==, c->ok);
    if (!ok) {
        g_assert_true(node == sentinel && domain == sentinel && resource == sentinel);
        return;
    }
    g_assert_cmpstr(node, ==, c->node);
    g_assert_cmpstr(domain, ==, c->domain);
    g_assert_cmpstr(resource, ==, c->resource);
    g_free(node);
    g_free(domain);
    g_free(resource);

    /* Any out-parameter may be NULL. */
    g_autofree char *only_domain = NULL;
    g_assert_true(cw_jid_split(c->jid, NULL, &only_domain, NULL));
    g_assert_cmpstr(only_domain, ==, c->domain);
}

static void test_split_null(void)
{
    g_assert_false(cw_jid_split(NULL, NULL, NULL, NULL));
    g_assert_false(cw_jid_is_valid(NULL));
    g_assert_null(cw_jid_bare(NULL));
    g_assert_null(cw_jid_resource(NULL));
}

/* Each part may be CW_JID_PART_MAX bytes, not one more. */
static void test_split_part_limits(void)
{
    g_autofree char *max = g_strnfill(CW_JID_PART_MAX, 'x');
    g_autofree char *over = g_strnfill(CW_JID_PART_MAX + 1, 'x');
    g_autofree char *long_dom = g_strnfill(CW_JID_PART_MAX, 'D');
    struct {
        char *jid;
        gboolean ok;
    } cases[] = {
        { g_strconcat(max, "@d/", max, NULL), TRUE },
        { g_strconcat(max, "@", max, "/", max, NULL), TRUE },
        { g_strconcat(over, "@d", NULL), FALSE },
        { g_strconcat("n@", over, NULL), FALSE },
        { g_strdup(over), FALSE },
        { g_strconcat("n@d/", over, NULL), FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(cw_jid_is_valid(cases[i].jid), ==, cases[i].ok);
        g_free(cases[i].jid);
    }

    /* A domain at the limit is lower-cased whole. */
    g_autofree char *jid = g_strconcat("n@", long_dom, NULL);
    g_autofree char *domain = NULL;
    g_assert_true(cw_jid_split(jid, NULL, &domain, NULL));
    g_assert_cmpuint(strlen(domain), ==, CW_JID_PART_MAX);
    g_assert_true(domain[0] == 'd' && domain[CW_JID_PART_MAX - 1] == 'd');
}

/* ---- bare, resource, make, bare_equal ---- */

static void test_bare_resource(void)
{
    static const struct {
        const char *jid, *bare, *resource;
    } cases[] = {
        { "user@Example.COM/Res", "user@example.com", "Res" },
        { "User@example.com", "User@example.com", NULL },
        { "EXAMPLE.com/a/b", "example.com", "a/b" },
        { "a@b/c@d", "a@b", "c@d" },
        { "", NULL, NULL },
        { "a@b/", NULL, NULL },
        { "@b/c", NULL, NULL },
        { "a@b@c/r", NULL, NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *bare = cw_jid_bare(cases[i].jid);
        g_autofree char *resource = cw_jid_resource(cases[i].jid);
        g_assert_cmpstr(bare, ==, cases[i].bare);
        g_assert_cmpstr(resource, ==, cases[i].resource);
    }
}

static void test_make(void)
{
    static const struct {
        const char *node, *domain, *resource, *want;
    } cases[] = {
        { "user", "example.com", "res", "user@example.com/res" },
        { "user", "example.com", NULL, "user@example.com" },
        { NULL, "example.com", "res", "example.com/res" },
        { NULL, "example.com", NULL, "example.com" },
        { "", "example.com", "", "example.com" },
        /* no escaping: the caller escapes */
        { "a\\40b", "gw", "x y", "a\\40b@gw/x y" },
        { "a@b", "gw", NULL, "a@b@gw" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *jid = cw_jid_make(cases[i].node, cases[i].domain, cases[i].resource);
        g_assert_cmpstr(jid, ==, cases[i].want);
    }
}

static void test_make_round_trip(void)
{
    g_autofree char *jid = cw_jid_make("n", "d.example", "r/x");
    g_autofree char *node = NULL, *domain = NULL, *resource = NULL;

    g_assert_true(cw_jid_split(jid, &node, &domain, &resource));
    g_assert_cmpstr(node, ==, "n");
    g_assert_cmpstr(domain, ==, "d.example");
    g_assert_cmpstr(resource, ==, "r/x");
}

static void test_bare_equal(void)
{
    static const struct {
        const char *a, *b;
        gboolean equal;
    } cases[] = {
        { "user@example.com", "user@example.com", TRUE },
        { "User@EXAMPLE.com", "user@example.COM", TRUE },
        { "user@example.com/a", "user@example.com/b", TRUE },
        { "example.com", "EXAMPLE.COM", TRUE },
        { "user@example.com", "other@example.com", FALSE },
        { "user@example.com", "user@example.org", FALSE },
        { "user@example.com", "example.com", FALSE },
        { "example.com", "user@example.com", FALSE },
        { "a\\40b@gw", "A\\40B@gw", TRUE },
        { "", "", FALSE },
        { NULL, "a@b", FALSE },
        { "a@b", NULL, FALSE },
        { "a@b@c", "a@b@c", FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(cw_jid_bare_equal(cases[i].a, cases[i].b), ==, cases[i].equal);
        g_assert_cmpint(cw_jid_bare_equal(cases[i].b, cases[i].a), ==, cases[i].equal);
    }
}

/* ---- XEP-0106 ---- */

typedef struct {
    const char *in, *out; /* out NULL = expect NULL */
} MapCase;

static const MapCase escape_cases[] = {
    /* XEP-0106 §5 examples */
    { "space cadet", "space\\20cadet" },
    { "call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22" },
    { "at&t guy", "at\\26t\\20guy" },
    { "d'artagnan", "d\\27artagnan" },
    { "/.fanboy", "\\2f.fanboy" },
    { "::foo::", "\\3a\\3afoo\\3a\\3a" },
    { "<foo>", "\\3cfoo\\3e" },
    { "user@host", "user\\40host" },
    { "c:\\net", "c\\3a\\net" },
    { "c:\\\\net", "c\\3a\\\\net" },
    { "c:\\cool stuff", "c\\3a\\cool\\20stuff" },
    { "c:\\5commas", "c\\3a\\5c5commas" },
    /* backslashes */
    { "simple", "simple" },
    { "a\\5cb", "a\\5c5cb" },
    { "\\20", "\\5c20" },
    { "\\5c", "\\5c5c" },
    { "\\\\", "\\\\" },
    { "\\", "\\" },
    { "trail\\", "trail\\" },
    { "\\2f", "\\5c2f" },
    { "\\2F", "\\2F" },
    { "\\2", "\\2" },
    { "\\41", "\\41" },
    { "\\\\20", "\\\\5c20" },
    { "\\@", "\\\\40" },
    { "\\ ", "\\\\20" },
    { "@", "\\40" },
    { "/", "\\2f" },
    { " ", "\\20" },
    { "a@b/c d", "a\\40b\\2fc\\20d" },
    { "\xc3\xa9\xc3\xa8 \xe6\x97\xa5\xe6\x9c\xac", "\xc3\xa9\xc3\xa8\\20\xe6\x97\xa5\xe6\x9c\xac" },
    { "tab\there", "tab\there" },
    /* rejected */
    { "", NULL },
    { NULL, NULL },
    { "\xff", NULL },
    { "a\xc3", NULL },
    { "\xc0\xaf", NULL }, /* overlong '/' */
};

static const MapCase unescape_cases[] = {
    { "space\\20cadet", "space cadet" },
    { "\\2f\\3a\\3c\\3e\\40\\5c\\22\\26\\27\\20", "/:<>@\\\"&' " },
    { "c\\3a\\cool\\20stuff", "c:\\cool stuff" },
    { "\\5c5c", "\\5c" },
    { "\\5c20", "\\20" },
    { "\\\\40", "\\@" },
    { "\\2F", "\\2F" },
    { "\\41", "\\41" },
    { "a\\4", "a\\4" },
    { "\\", "\\" },
    { "x\\", "x\\" },
    { "plain", "plain" },
    { "", "" },
    { "\xc3\xa9\\40\xc3\xa8", "\xc3\xa9@\xc3\xa8" },
    { NULL, NULL },
    { "\xff", NULL },
    { "\\40\xc3", NULL },
};

static void test_escape(gconstpointer data)
{
    const MapCase *c = data;
    g_autofree char *out = cw_jid_escape_node(c->in);

    g_assert_cmpstr(out, ==, c->out);
}

static void test_unescape(gconstpointer data)
{
    const MapCase *c = data;
    g_autofree char *out = cw_jid_unescape_node(c->in);

    g_assert_cmpstr(out, ==, c->out);
}

/* Escape, check nothing escapable is left bare, unescape, compare. */
static void assert_round_trip(const char *id)
{
    g_autofree char *esc = cw_jid_escape_node(id);
    g_assert_nonnull(esc);
    g_assert_null(strpbrk(esc, " \"&'/:<>@"));
    g_autofree char *back = cw_jid_unescape_node(esc);
    g_assert_cmpstr(back, ==, id);
}

static void test_round_trip_cases(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(escape_cases); i++)
        if (escape_cases[i].out != NULL)
            assert_round_trip(escape_cases[i].in);
    for (gsize i = 0; i < G_N_ELEMENTS(unescape_cases); i++)
        if (unescape_cases[i].in != NULL && *unescape_cases[i].in != '\0'
            && unescape_cases[i].out != NULL)
            assert_round_trip(unescape_cases[i].in);
}

/* Every string up to length 5 over an alphabet built to make escapes collide. */
static void test_round_trip_exhaustive(void)
{
    static const char alphabet[] = "\\5c2f0@ x";
    const gsize n = sizeof alphabet - 1;
    char buf[6];
    guint count = 0;

    for (gsize len = 1; len <= 5; len++) {
        gsize total = 1;
        for (gsize i = 0; i < len; i++)
            total *= n;
        for (gsize k = 0; k < total; k++) {
            gsize v = k;
            for (gsize i = 0; i < len; i++, v /= n)
                buf[i] = alphabet[v % n];
            buf[len] = '\0';
            assert_round_trip(buf);
            count++;
        }
    }
    g_assert_cmpuint(count, ==, 9 + 81 + 729 + 6561 + 59049);
}

static void test_round_trip_random(void)
{
    static const char *const pieces[] = { "\\", "5c", "20", "2f", "40", "@", "/", " ", "a",
                                          "\xc3\xa9", "\xe2\x82\xac", "\"", "&", "'",
                                          ":", "<", ">", "5C", "\\5c" };
    for (int round = 0; round < 2000; round++) {
        g_autoptr(GString) s = g_string_new(NULL);
        int len = g_test_rand_int_range(1, 40);
        for (int i = 0; i < len; i++)
            g_string_append(s, pieces[g_test_rand_int_range(0, G_N_ELEMENTS(pieces))]);
        assert_round_trip(s->str);
    }
}

/* 3000-byte ids round-trip; escaped they are too long for a JID localpart. */
static void test_round_trip_long(void)
{
    g_autofree char *backslashes = g_strnfill(3000, '\\');
    g_autofree char *ats = g_strnfill(3000, '@');
    g_autoptr(GString) fives = g_string_new(NULL);
    g_autoptr(GString) mixed = g_string_new(NULL);
    while (fives->len < 3000)
        g_string_append(fives, "\\5c");
    while (mixed->len < 3000)
        g_string_append(mixed, "a\\b@c/d \xc3\xa9\\20");
    const char *ids[] = { backslashes, ats, fives->str, mixed->str };

    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_assert_cmpuint(strlen(ids[i]), >=, 3000);
        assert_round_trip(ids[i]);
        g_autofree char *esc = cw_jid_escape_node(ids[i]);
        g_autofree char *jid = cw_jid_make(esc, "gw.example", NULL);
        g_assert_false(cw_jid_is_valid(jid));
    }

    /* Plain backslashes need no escaping; "\5c" repeated does, each time. */
    g_autofree char *esc = cw_jid_escape_node(backslashes);
    g_assert_cmpstr(esc, ==, backslashes);
    g_autofree char *esc5 = cw_jid_escape_node(fives->str);
    g_assert_cmpuint(strlen(esc5), ==, fives->len / 3 * 5);
}

/* An escaped id of valid length makes a valid JID with the right node. */
static void test_escaped_jid(void)
{
    g_autofree char *esc = cw_jid_escape_node("alice@hotmail.com/x y");
    g_autofree char *jid = cw_jid_make(esc, "msn.example", "res");
    g_autofree char *node = NULL;

    g_assert_cmpstr(jid, ==, "alice\\40hotmail.com\\2fx\\20y@msn.example/res");
    g_assert_true(cw_jid_split(jid, &node, NULL, NULL));
    g_autofree char *id = cw_jid_unescape_node(node);
    g_assert_cmpstr(id, ==, "alice@hotmail.com/x y");
}

static void add_table(const char *prefix, const void *rows, gsize size, gsize n,
                      GTestDataFunc fn)
{
    for (gsize i = 0; i < n; i++) {
        g_autofree char *path = g_strdup_printf("%s/%02" G_GSIZE_FORMAT, prefix, i);
        g_test_add_data_func(path, (const char *)rows + i * size, fn);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_table("/jid/split", split_cases, sizeof split_cases[0], G_N_ELEMENTS(split_cases),
              test_split);
    g_test_add_func("/jid/split/null", test_split_null);
    g_test_add_func("/jid/split/part-limits", test_split_part_limits);
    g_test_add_func("/jid/bare-resource", test_bare_resource);
    g_test_add_func("/jid/make", test_make);
    g_test_add_func("/jid/make/round-trip", test_make_round_trip);
    g_test_add_func("/jid/bare-equal", test_bare_equal);
    add_table("/jid/escape", escape_cases, sizeof escape_cases[0],
              G_N_ELEMENTS(escape_cases), test_escape);
    add_table("/jid/unescape", unescape_cases, sizeof unescape_cases[0],
              G_N_ELEMENTS(unescape_cases), test_unescape);
    g_test_add_func("/jid/round-trip/cases", test_round_trip_cases);
    g_test_add_func("/jid/round-trip/exhaustive", test_round_trip_exhaustive);
    g_test_add_func("/jid/round-trip/random", test_round_trip_random);
    g_test_add_func("/jid/round-trip/long", test_round_trip_long);
    g_test_add_func("/jid/escaped-jid", test_escaped_jid);

    return g_test_run();
}
