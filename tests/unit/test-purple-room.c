/* test-purple-room.c — room ids, chat-buddy flags as roles/affiliations,
 * join-failure conditions (transports/purple/purple-room.c). */
#include <string.h>

#include "purple/purple-room.h"

static void
check_parse(const char *id, const char *room, const char *server)
{
    g_autofree char *r = NULL, *s = NULL;
    gboolean ok = cw_purple_room_id_parse(id, &r, &s);
    if (!room) {
        g_assert_false(ok);
        g_assert_null(r);
        g_assert_null(s);
        return;
    }
    g_assert_true(ok);
    g_assert_cmpstr(r, ==, room);
    g_assert_cmpstr(s, ==, server);
    g_autofree char *back = cw_purple_room_id_format(r, s);
    g_assert_cmpstr(back, ==, id);
}

static void
test_parse(void)
{
    check_parse("room%conference.legacy.test", "room", "conference.legacy.test");
    check_parse("#chan%irc.server", "#chan", "irc.server");
    check_parse("##weird%chan%irc.example.net", "##weird%chan", "irc.example.net");
    check_parse("#chan%127.0.0.1", "#chan", "127.0.0.1");
    /* not rooms */
    check_parse(NULL, NULL, NULL);
    check_parse("", NULL, NULL);
    check_parse("dave@legacy.test", NULL, NULL);
    check_parse("a%b@legacy.test", NULL, NULL);         /* a jabber buddy */
    check_parse("a%b@legacy.test/res", NULL, NULL);
    check_parse("%server", NULL, NULL);
    check_parse("room%", NULL, NULL);
    check_parse("room%serv er", NULL, NULL);
    check_parse("room%server/x", NULL, NULL);
    check_parse("room%a\tb", NULL, NULL);
    /* parse without out-parameters */
    g_assert_true(cw_purple_room_id_parse("r%s", NULL, NULL));
}

static void
test_format(void)
{
    g_autofree char *a = cw_purple_room_id_format("room", "conference.legacy.test");
    g_assert_cmpstr(a, ==, "room%conference.legacy.test");
    g_assert_null(cw_purple_room_id_format("", "s"));
    g_assert_null(cw_purple_room_id_format("r", ""));
    g_assert_null(cw_purple_room_id_format(NULL, "s"));
    g_assert_null(cw_purple_room_id_format("r", NULL));
    g_assert_null(cw_purple_room_id_format("r", "a@b"));
    g_assert_null(cw_purple_room_id_format("r", "a%b"));
}

static void
test_roles(void)
{
    static const struct {
        PurpleConvChatBuddyFlags flags;
        CwRole role;
        CwAffiliation aff;
    } cases[] = {
        { PURPLE_CBFLAGS_NONE, CW_ROLE_PARTICIPANT, CW_AFFILIATION_NONE },
        { PURPLE_CBFLAGS_VOICE, CW_ROLE_PARTICIPANT, CW_AFFILIATION_NONE },
        { PURPLE_CBFLAGS_HALFOP, CW_ROLE_MODERATOR, CW_AFFILIATION_NONE },
        { PURPLE_CBFLAGS_OP, CW_ROLE_MODERATOR, CW_AFFILIATION_ADMIN },
        { PURPLE_CBFLAGS_FOUNDER, CW_ROLE_MODERATOR, CW_AFFILIATION_OWNER },
        /* prpl-jabber: an owner with the moderator role */
        { PURPLE_CBFLAGS_FOUNDER | PURPLE_CBFLAGS_HALFOP, CW_ROLE_MODERATOR, CW_AFFILIATION_OWNER },
        { PURPLE_CBFLAGS_OP | PURPLE_CBFLAGS_VOICE, CW_ROLE_MODERATOR, CW_AFFILIATION_ADMIN },
        { PURPLE_CBFLAGS_FOUNDER | PURPLE_CBFLAGS_OP, CW_ROLE_MODERATOR, CW_AFFILIATION_OWNER },
        /* typing and away say nothing about the role */
        { PURPLE_CBFLAGS_TYPING | PURPLE_CBFLAGS_AWAY, CW_ROLE_PARTICIPANT, CW_AFFILIATION_NONE },
        { PURPLE_CBFLAGS_AWAY | PURPLE_CBFLAGS_OP, CW_ROLE_MODERATOR, CW_AFFILIATION_ADMIN },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(cw_purple_room_role(cases[i].flags), ==, cases[i].role);
        g_assert_cmpint(cw_purple_room_affiliation(cases[i].flags), ==, cases[i].aff);
    }
}

static void
test_conditions(void)
{
    g_assert_cmpstr(cw_purple_room_condition(NULL), ==, "service-unavailable");
    g_assert_cmpstr(cw_purple_room_condition(""), ==, "service-unavailable");
    g_assert_cmpstr(cw_purple_room_condition("Conflict"), ==, "conflict");
    g_assert_cmpstr(cw_purple_room_condition("Nickname is already in use"), ==, "conflict");
    g_assert_cmpstr(cw_purple_room_condition("Not Authorized"), ==, "not-authorized");
    g_assert_cmpstr(cw_purple_room_condition("Registration Required"), ==, "registration-required");
    g_assert_cmpstr(cw_purple_room_condition("Forbidden"), ==, "forbidden");
    g_assert_cmpstr(cw_purple_room_condition("You are banned from this channel"), ==, "forbidden");
    g_assert_cmpstr(cw_purple_room_condition("Item Not Found"), ==, "item-not-found");
    g_assert_cmpstr(cw_purple_room_condition("Service Unavailable"), ==, "service-unavailable");
    g_assert_cmpstr(cw_purple_room_condition("Channel is full"), ==, "service-unavailable");
    g_assert_cmpstr(cw_purple_room_condition("something else"), ==, "service-unavailable");
}

static void
check_kick(const char *text, gboolean kick, const char *actor, const char *reason)
{
    g_autofree char *a = NULL, *r = NULL;
    g_assert_cmpint(cw_purple_room_kick_text(text, &a, &r), ==, kick);
    g_assert_cmpstr(a, ==, actor);
    g_assert_cmpstr(r, ==, reason);
}

static void
test_kick_text(void)
{
    check_kick("Kicked by ircbob (go away)", TRUE, "ircbob", "go away");
    check_kick("Kicked by ircbob (ircbob)", TRUE, "ircbob", "ircbob");
    check_kick("Kicked by dave@legacy.test (No reason)", TRUE, "dave@legacy.test", NULL);
    check_kick("Kicked (out (really))", TRUE, NULL, "out (really)");
    check_kick("Kicked (No reason)", TRUE, NULL, NULL);
    check_kick("You have been kicked by ircbob: (bye)", TRUE, "ircbob", "bye");
    check_kick("You have been kicked: (spam)", TRUE, NULL, "spam");
    /* not kicks */
    check_kick(NULL, FALSE, NULL, NULL);
    check_kick("", FALSE, NULL, NULL);
    check_kick("Quit: Kicked by x (y)", FALSE, NULL, NULL);
    check_kick("Kicked by ircbob", FALSE, NULL, NULL);
    check_kick("Kicked by  (x)", FALSE, NULL, NULL);
    check_kick("Kicked by x (y", FALSE, NULL, NULL);
    check_kick("Kickedx (y)", FALSE, NULL, NULL);
    check_kick("Kicked ()", TRUE, NULL, NULL);
    check_kick("Kicked (", FALSE, NULL, NULL);
    check_kick("leaving", FALSE, NULL, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/purple-room/parse", test_parse);
    g_test_add_func("/purple-room/format", test_format);
    g_test_add_func("/purple-room/roles", test_roles);
    g_test_add_func("/purple-room/conditions", test_conditions);
    g_test_add_func("/purple-room/kick-text", test_kick_text);
    return g_test_run();
}
