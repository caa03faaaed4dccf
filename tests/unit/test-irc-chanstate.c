/* test-irc-chanstate.c — the shared member table of an IRC channel: sharing, lead, handover, diffs. */
#include <causeway/strpool.h>
#include <string.h>

#include "irc/irc-chanstate.h"

static GPtrArray *resynced; /* members the resync hook was called on */

static void
on_resync(gpointer member)
{
    g_ptr_array_add(resynced, member);
}

static void
drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static void
setup(void)
{
    resynced = g_ptr_array_new();
}

static void
teardown(void)
{
    drain();
    g_clear_pointer(&resynced, g_ptr_array_unref);
    g_assert_cmpuint(cw_irc_chanstate_count(), ==, 0);
    g_assert_cmpuint(cw_str_pool_size(), ==, 0);
}

static gboolean
set(CwIrcChanState *st, const char *nick, const char *prefix)
{
    const char *p = cw_str_ref(prefix);
    gboolean changed = cw_irc_chanstate_set(st, nick, p, NULL);
    cw_str_unref(p);
    return changed;
}

/* One state per (server, casefolded channel), whatever the room id's spelling. */
static void
test_sharing(void)
{
    setup();
    int a, b, c;
    CwIrcChanState *sa = cw_irc_chanstate_attach("irc.example", "#Chan", "#Chan%irc.example", &a, on_resync);
    CwIrcChanState *sb = cw_irc_chanstate_attach("irc.example", "#chan", "#chan%irc.example", &b, on_resync);
    CwIrcChanState *sc = cw_irc_chanstate_attach("irc.other", "#chan", "#chan%irc.other", &c, on_resync);
    g_assert_true(sa == sb);
    g_assert_true(sa != sc);
    g_assert_cmpuint(cw_irc_chanstate_count(), ==, 2);
    g_assert_cmpuint(g_hash_table_size(cw_irc_chanstate_room_ids(sa)), ==, 2);
    g_assert_true(set(sa, "alice", ""));
    g_assert_cmpstr(cw_irc_chanstate_prefix(sb, "alice"), ==, "");
    g_assert_null(cw_irc_chanstate_prefix(sc, "alice"));
    cw_irc_chanstate_detach(sa, &a, "#Chan%irc.example");
    /* b still sees the members a left behind */
    g_assert_cmpuint(cw_irc_chanstate_size(sb), ==, 1);
    g_assert_cmpuint(g_hash_table_size(cw_irc_chanstate_room_ids(sb)), ==, 1);
    cw_irc_chanstate_detach(sb, &b, "#chan%irc.example");
    cw_irc_chanstate_detach(sc, &c, "#chan%irc.other");
    teardown();
}

/* set/remove/rename say whether anything changed: a second copy of a line is a no-op. */
static void
test_table(void)
{
    setup();
    int a;
    CwIrcChanState *st = cw_irc_chanstate_attach("s", "#c", "#c%s", &a, on_resync);
    g_assert_true(set(st, "bob", ""));
    g_assert_false(set(st, "bob", "")); /* the same JOIN again */
    g_assert_true(set(st, "bob", "@"));
    g_assert_false(set(st, "bob", "@"));
    g_assert_true(cw_irc_chanstate_rename(st, "bob", "bobby"));
    g_assert_false(cw_irc_chanstate_rename(st, "bob", "bobby"));
    g_assert_cmpstr(cw_irc_chanstate_prefix(st, "bobby"), ==, "@");
    g_assert_null(cw_irc_chanstate_prefix(st, "bob"));
    g_assert_true(cw_irc_chanstate_remove(st, "bobby"));
    g_assert_false(cw_irc_chanstate_remove(st, "bobby"));
    g_assert_false(cw_irc_chanstate_remove(st, NULL));
    g_assert_cmpuint(cw_irc_chanstate_size(st), ==, 0);
    cw_irc_chanstate_detach(st, &a, "#c%s");
    teardown();
}

/* The table is bounded: a full channel refuses new nicks (told once), not changes. */
static void
test_cap(void)
{
    setup();
    int a;
    CwIrcChanState *st = cw_irc_chanstate_attach("s", "#big", "#big%s", &a, on_resync);
    const char *none = cw_str_ref("");
    for (guint i = 0; i < CW_IRC_CHANNEL_MAX_MEMBERS; i++) {
        char nick[16];
        g_snprintf(nick, sizeof nick, "n%u", i);
        g_assert_true(cw_irc_chanstate_set(st, nick, none, NULL));
    }
    gboolean capped = FALSE;
    g_assert_false(cw_irc_chanstate_set(st, "late", none, &capped));
    g_assert_true(capped);
    capped = FALSE;
    g_assert_false(cw_irc_chanstate_set(st, "later", none, &capped));
    g_assert_false(capped); /* told once */
    const char *op = cw_str_ref("@");
    g_assert_true(cw_irc_chanstate_set(st, "n7", op, NULL)); /* a member's mode still counts */
    cw_str_unref(op);
    cw_str_unref(none);
    g_assert_cmpuint(cw_irc_chanstate_size(st), ==, CW_IRC_CHANNEL_MAX_MEMBERS);
    cw_irc_chanstate_detach(st, &a, "#big%s");
    teardown();
}

/* The first ready member leads; the others do not; the lead moves to a
 * ready member when the leader goes, which is then asked to resync. */
static void
test_leader(void)
{
    setup();
    int a, b, c;
    CwIrcChanState *st = cw_irc_chanstate_attach("s", "#c", "#c%s", &a, on_resync);
    cw_irc_chanstate_attach("s", "#c", "#c%s", &b, on_resync);
    cw_irc_chanstate_attach("s", "#c", "#c%s", &c, on_resync);
    g_assert_null(cw_irc_chanstate_leader(st));
    g_assert_true(cw_irc_chanstate_claim(st, &a));
    cw_irc_chanstate_set_ready(st, &a, TRUE);
    g_assert_false(cw_irc_chanstate_claim(st, &b));
    cw_irc_chanstate_set_ready(st, &b, TRUE);
    g_assert_true(cw_irc_chanstate_is_leader(st, &a));
    g_assert_false(cw_irc_chanstate_is_leader(st, &b));
    g_assert_false(cw_irc_chanstate_is_leader(st, &c));

    /* a's connection drops: b (the only other ready one) leads and resyncs, from idle */
    cw_irc_chanstate_set_ready(st, &a, FALSE);
    g_assert_true(cw_irc_chanstate_is_leader(st, &b));
    g_assert_cmpuint(resynced->len, ==, 0);
    drain();
    g_assert_cmpuint(resynced->len, ==, 1);
    g_assert_true(resynced->pdata[0] == &b);

    /* a comes back: b keeps the lead */
    g_assert_false(cw_irc_chanstate_claim(st, &a));
    cw_irc_chanstate_set_ready(st, &a, TRUE);
    g_assert_true(cw_irc_chanstate_is_leader(st, &b));

    /* b leaves the channel: a leads; c (not ready) never does */
    cw_irc_chanstate_detach(st, &b, "#c%s");
    g_assert_true(cw_irc_chanstate_is_leader(st, &a));
    cw_irc_chanstate_detach(st, &a, "#c%s");
    g_assert_null(cw_irc_chanstate_leader(st));
    /* the resync scheduled for a must not reach a freed member: c is not ready */
    drain();
    g_assert_cmpuint(resynced->len, ==, 1);
    g_assert_true(cw_irc_chanstate_claim(st, &c)); /* c's 366 later: it leads */
    cw_irc_chanstate_detach(st, &c, "#c%s");
    teardown();
}

/* A resync pending when the last member goes is cancelled with the state. */
static void
test_resync_cancelled(void)
{
    setup();
    int a, b;
    CwIrcChanState *st = cw_irc_chanstate_attach("s", "#c", "#c%s", &a, on_resync);
    cw_irc_chanstate_attach("s", "#c", "#c%s", &b, on_resync);
    cw_irc_chanstate_claim(st, &a);
    cw_irc_chanstate_set_ready(st, &b, TRUE);
    cw_irc_chanstate_detach(st, &a, "#c%s"); /* b leads, resync pending */
    cw_irc_chanstate_detach(st, &b, "#c%s"); /* state freed */
    drain();
    g_assert_cmpuint(resynced->len, ==, 0);
    teardown();
}

typedef struct {
    GString *log;
} DiffLog;

static void
diff_left(const char *nick, gpointer data)
{
    g_string_append_printf(((DiffLog *)data)->log, "-%s ", nick);
}

static void
diff_joined(const char *nick, const char *prefix, gpointer data)
{
    g_string_append_printf(((DiffLog *)data)->log, "+%s%s ", prefix, nick);
}

static GHashTable *
names(const char *const *list)
{
    GHashTable *t = cw_irc_member_table_new();
    for (const char *const *n = list; *n; n++) {
        const char *nick = *n;
        char prefix[2] = { 0, 0 };
        if (*nick == '@' || *nick == '+')
            prefix[0] = *nick++;
        g_hash_table_replace(t, (gpointer)cw_str_ref(nick), (gpointer)cw_str_ref(prefix));
    }
    return t;
}

/* A fresh NAMES replaces the members and reports exactly what differs. */
static void
test_replace(void)
{
    setup();
    int a;
    static const CwIrcChanStateDiff diff = { .left = diff_left, .joined = diff_joined };
    DiffLog d = { g_string_new(NULL) };
    CwIrcChanState *st = cw_irc_chanstate_attach("s", "#c", "#c%s", &a, on_resync);

    static const char *const first[] = { "@alice", "bob", NULL };
    GHashTable *t = names(first);
    cw_irc_chanstate_replace(st, t, &diff, &d);
    g_hash_table_unref(t);
    g_assert_true(strstr(d.log->str, "+@alice ") && strstr(d.log->str, "+bob "));
    g_assert_cmpuint(d.log->len, ==, strlen("+@alice +bob "));

    g_string_truncate(d.log, 0);
    static const char *const same[] = { "bob", "@alice", NULL };
    t = names(same);
    cw_irc_chanstate_replace(st, t, &diff, &d);
    g_hash_table_unref(t);
    g_assert_cmpstr(d.log->str, ==, ""); /* nothing changed: nothing told */

    g_string_truncate(d.log, 0);
    static const char *const next[] = { "alice", "carol", NULL };
    t = names(next);
    cw_irc_chanstate_replace(st, t, &diff, &d);
    g_hash_table_unref(t);
    g_assert_true(strstr(d.log->str, "-bob ") && strstr(d.log->str, "+alice ") &&
                  strstr(d.log->str, "+carol "));
    g_assert_cmpuint(d.log->len, ==, strlen("-bob +alice +carol "));
    g_assert_cmpuint(cw_irc_chanstate_size(st), ==, 2);

    g_string_free(d.log, TRUE);
    cw_irc_chanstate_detach(st, &a, "#c%s");
    teardown();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc-chanstate/sharing", test_sharing);
    g_test_add_func("/irc-chanstate/table", test_table);
    g_test_add_func("/irc-chanstate/cap", test_cap);
    g_test_add_func("/irc-chanstate/leader", test_leader);
    g_test_add_func("/irc-chanstate/resync-cancelled", test_resync_cancelled);
    g_test_add_func("/irc-chanstate/replace", test_replace);
    return g_test_run();
}
