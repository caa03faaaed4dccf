/* test-irc-cap.c — unit tests for irc-cap: scripted CAP / SASL / NICK exchanges. */
#include <string.h>

#include "irc/irc-cap.h"

/* One line from the server and what the machine must answer. */
typedef struct {
    const char *recv;
    gboolean consumed;
    const char *send[8]; /* NULL-terminated */
} Exchange;

typedef struct {
    const char *name;
    CwIrcCapConfig config;
    const char *start[5]; /* expected opening lines */
    Exchange script[16];  /* until recv == NULL */
    CwIrcCapState state;
    CwIrcSaslOutcome sasl;
    const char *reason_has; /* in the SASL reason (fail reason when FAILED); NULL: none */
    const char *enabled;    /* space-separated, sorted */
    const char *nick;
    const char *account;
} Scenario;

/* InspIRCd 3 from shared/fixtures/irc-ircv3, its CAP LS 302 split over two lines. */
// clang-format off
#define LS1 ":irc.test CAP * LS * :account-notify account-tag away-notify batch cap-notify " \
            "chghost echo-message extended-join extended-monitor inspircd.org/poison " \
            "inspircd.org/standard-replies"
#define LS2 ":irc.test CAP * LS :invite-notify labeled-response message-tags multi-prefix " \
            "sasl=PLAIN,EXTERNAL server-time setname tls userhost-in-names"
#define REQ_ALL "CAP REQ :multi-prefix sasl message-tags server-time away-notify " \
                "account-notify echo-message extended-join account-tag userhost-in-names " \
                "cap-notify"
#define ALL_SORTED "account-notify account-tag away-notify cap-notify echo-message " \
                   "extended-join message-tags multi-prefix sasl server-time userhost-in-names"
#define ACK_ALL ":irc.test CAP verifyA ACK :" ALL_SORTED
#define OPEN(nick) { "CAP LS 302", "NICK " nick, "USER " nick " 0 * " nick }
#define PLAIN(acct, pass) \
    .sasl_mech = CW_IRC_SASL_PLAIN, .sasl_account = acct, .sasl_password = pass
/* saslbot\0saslbot\0saslpass */
#define SASLBOT_PAYLOAD "AUTHENTICATE c2FzbGJvdABzYXNsYm90AHNhc2xwYXNz"
// clang-format on

static const Scenario scenarios[] = {
    { "inspircd: CAP LS 302 continuation, REQ, SASL PLAIN success",
      { .nick = "verifyA", PLAIN("saslbot", "saslpass") },
      OPEN("verifyA"),
      { { LS1, TRUE, { NULL } },
        { LS2, TRUE, { REQ_ALL } },
        { ACK_ALL, TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE +", TRUE, { SASLBOT_PAYLOAD } },
        { ":irc.test 900 verifyA verifyA!verifyA@127.0.0.1 saslbot :You are now logged in as "
          "saslbot",
          TRUE,
          { NULL } },
        { ":irc.test 903 verifyA :SASL authentication successful", TRUE, { "CAP END" } },
        { ":irc.test 001 verifyA :Welcome to the TestNet IRC Network verifyA!verifyA@127.0.0.1",
          FALSE,
          { NULL } },
        { ":irc.test 002 verifyA :Your host is irc.test", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_SUCCEEDED,
      NULL,
      ALL_SORTED,
      "verifyA",
      "saslbot" },

    { "SASL PLAIN wrong password: 904, CAP END, registers unauthenticated",
      { .nick = "verifyC", PLAIN("saslbot", "wrong") },
      OPEN("verifyC"),
      { { LS1, TRUE, { NULL } },
        { LS2, TRUE, { REQ_ALL } },
        { ACK_ALL, TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE +", TRUE, { "AUTHENTICATE c2FzbGJvdABzYXNsYm90AHdyb25n" } },
        { ":irc.test 904 verifyC :SASL authentication failed", TRUE, { "CAP END" } },
        { ":irc.test 001 verifyC :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_FAILED,
      "SASL authentication failed (904)",
      ALL_SORTED,
      "verifyC",
      NULL },

    { "SASL required and failing: no CAP END, QUIT, FAILED",
      { .nick = "verifyC", PLAIN("saslbot", "wrong"), .sasl_required = TRUE },
      OPEN("verifyC"),
      { { LS1, TRUE, { NULL } },
        { LS2, TRUE, { REQ_ALL } },
        { ACK_ALL, TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE +", TRUE, { "AUTHENTICATE c2FzbGJvdABzYXNsYm90AHdyb25n" } },
        { ":irc.test 908 verifyC PLAIN,EXTERNAL :are available SASL mechanisms", TRUE, { NULL } },
        { ":irc.test 904 verifyC :SASL authentication failed", TRUE, { "QUIT" } },
        { ":irc.test 001 verifyC :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_FAILED,
      CW_IRC_SASL_FAILED,
      "SASL is required",
      ALL_SORTED,
      "verifyC",
      NULL },

    { "SASL EXTERNAL: empty payload is a single +",
      { .nick = "verifyE", .sasl_mech = CW_IRC_SASL_EXTERNAL },
      OPEN("verifyE"),
      { { LS1, TRUE, { NULL } },
        { LS2, TRUE, { REQ_ALL } },
        { ACK_ALL, TRUE, { "AUTHENTICATE EXTERNAL" } },
        { "AUTHENTICATE +", TRUE, { "AUTHENTICATE +" } },
        { ":irc.test 900 verifyE verifyE!verifyE@127.0.0.1 saslbot :You are now logged in as "
          "saslbot",
          TRUE,
          { NULL } },
        { ":irc.test 903 verifyE :SASL authentication successful", TRUE, { "CAP END" } },
        { ":irc.test 001 verifyE :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_SUCCEEDED,
      NULL,
      ALL_SORTED,
      "verifyE",
      "saslbot" },

    { "no SASL configured: sasl never requested",
      { .nick = "bob" },
      OPEN("bob"),
      { { LS1, TRUE, { NULL } },
        { LS2,
          TRUE,
          { "CAP REQ :multi-prefix message-tags server-time away-notify account-notify "
            "echo-message extended-join account-tag userhost-in-names cap-notify" } },
        { ":irc.test CAP bob ACK :multi-prefix message-tags", TRUE, { "CAP END" } },
        { ":irc.test 001 bob :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "message-tags multi-prefix",
      "bob",
      NULL },

    { "poison is never requested, even when wanted",
      { .nick = "bob",
        .wanted_caps =
            (const char *const[]){ "inspircd.org/poison", "server-time", "server-time", NULL } },
      OPEN("bob"),
      { { LS1, TRUE, { NULL } },
        { LS2, TRUE, { "CAP REQ server-time" } },
        { ":irc.test CAP * ACK server-time", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "server-time",
      "bob",
      NULL },

    { "sasl requested with a mechanism even when not in the wanted list",
      { .nick = "a",
        .wanted_caps = (const char *const[]){ "server-time", NULL },
        PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :server-time sasl", TRUE, { "CAP REQ :server-time sasl" } },
        { ":srv CAP * ACK :server-time sasl", TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE +", TRUE, { "AUTHENTICATE YWxpY2UAYWxpY2UAc2VjcmV0" } },
        { ":srv 903 a :SASL authentication successful", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_SUCCEEDED,
      NULL,
      "sasl server-time",
      "a",
      NULL },

    { "NAK of the whole REQ: retried one by one, refused ones left out",
      { .nick = "a",
        .wanted_caps = (const char *const[]){ "multi-prefix", "sasl", "bogus", NULL },
        PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :multi-prefix sasl bogus other",
          TRUE,
          { "CAP REQ :multi-prefix sasl bogus" } },
        { ":srv CAP * NAK :multi-prefix sasl bogus",
          TRUE,
          { "CAP REQ multi-prefix", "CAP REQ sasl", "CAP REQ bogus" } },
        { ":srv CAP * ACK :multi-prefix", TRUE, { NULL } },
        { ":srv CAP * NAK :bogus", TRUE, { NULL } },
        { ":srv CAP * ACK :sasl", TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE +", TRUE, { "AUTHENTICATE YWxpY2UAYWxpY2UAc2VjcmV0" } },
        { ":srv 903 a :ok", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_SUCCEEDED,
      NULL,
      "multi-prefix sasl",
      "a",
      NULL },

    { "a NAK naming caps we never wanted asks again only for wanted ones",
      { .nick = "a", .wanted_caps = (const char *const[]){ "multi-prefix", NULL } },
      OPEN("a"),
      { { ":srv CAP * LS :multi-prefix", TRUE, { "CAP REQ multi-prefix" } },
        { ":srv CAP * NAK :multi-prefix evil inspircd.org/poison",
          TRUE,
          { "CAP REQ multi-prefix" } },
        { ":srv CAP * NAK :multi-prefix", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "",
      "a",
      NULL },

    { "sasl NAKed: continue without, outcome says why",
      { .nick = "a",
        .wanted_caps = (const char *const[]){ "sasl", NULL },
        PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :sasl", TRUE, { "CAP REQ sasl" } },
        { ":srv CAP * NAK :sasl", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "refused",
      "",
      "a",
      NULL },

    { "server without sasl: NOT_ATTEMPTED, other caps still requested",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :multi-prefix server-time",
          TRUE,
          { "CAP REQ :multi-prefix server-time" } },
        { ":srv CAP * ACK :multi-prefix server-time", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "does not offer SASL",
      "multi-prefix server-time",
      "a",
      NULL },

    { "server offers another mechanism only",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :sasl=EXTERNAL,SCRAM-SHA-256 server-time",
          TRUE,
          { "CAP REQ server-time" } },
        { ":srv CAP * ACK :server-time", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "EXTERNAL,SCRAM-SHA-256, not PLAIN",
      "server-time",
      "a",
      NULL },

    { "nothing wanted is offered: CAP END at once",
      { .nick = "a" },
      OPEN("a"),
      { { ":srv CAP * LS :tls inspircd.org/poison", TRUE, { "CAP END" } },
        { ":srv 001 a :hi", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "",
      "a",
      NULL },

    { "server without CAP answers 421",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":old.server 421 * CAP :Unknown command", TRUE, { NULL } },
        { ":old.server 421 a FOO :Unknown command", FALSE, { NULL } },
        { ":old.server 001 a :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "does not support CAP",
      "",
      "a",
      NULL },

    { "server ignoring CAP just registers us; SASL required fails",
      { .nick = "a", PLAIN("alice", "secret"), .sasl_required = TRUE },
      OPEN("a"),
      { { ":old.server 001 a :Welcome", FALSE, { "QUIT" } } },
      CW_IRC_CAP_STATE_FAILED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "without it",
      "",
      "a",
      NULL },

    { "nick in use during registration: alternatives, then 001 confirms",
      { .nick = "alice", .username = "al", .realname = "Alice Liddell" },
      { "CAP LS 302", "NICK alice", "USER al 0 * :Alice Liddell" },
      { { ":srv 433 * alice :Nickname is already in use.", TRUE, { "NICK alice_" } },
        { ":srv CAP * LS :multi-prefix", TRUE, { "CAP REQ multi-prefix" } },
        { ":srv 433 * alice_ :Nickname is already in use.", TRUE, { "NICK alice__" } },
        { ":srv CAP alice__ ACK :multi-prefix", TRUE, { "CAP END" } },
        { ":srv 432 * alice__ :Erroneous Nickname", TRUE, { "NICK alice___" } },
        { ":srv 437 * alice___ :Nick/channel is temporarily unavailable", TRUE, { "NICK alice4" } },
        { ":srv 001 alice4 :Welcome", FALSE, { NULL } },
        { ":srv 433 alice4 bob :Nickname is already in use.", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "multi-prefix",
      "alice4",
      NULL },

    { "no nick accepted: gives up after eight tries",
      { .nick = "averylongnick" },
      OPEN("averylongnick"),
      { { ":srv 433 * x :in use", TRUE, { "NICK averylongnick_" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylongnick__" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylongnick___" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylo4" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylo5" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylo6" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylo7" } },
        { ":srv 433 * x :in use", TRUE, { "NICK averylo8" } },
        { ":srv 433 * x :in use", TRUE, { "QUIT" } },
        { ":srv 433 * x :in use", FALSE, { NULL } },
        { ":srv CAP * LS :sasl", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_FAILED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "no nickname accepted (last tried averylo8: in use)",
      "",
      "averylo8",
      NULL },

    { "server password and CAP 3.1 ACK modifiers",
      { .nick = "a",
        .server_password = "hunter 2",
        .wanted_caps = (const char *const[]){ "multi-prefix", "x", NULL } },
      { "CAP LS 302", "PASS :hunter 2", "NICK a", "USER a 0 * a" },
      { { ":srv CAP * LS :multi-prefix x", TRUE, { "CAP REQ :multi-prefix x" } },
        { ":srv CAP * ACK :~multi-prefix =x -gone", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      NULL,
      "multi-prefix x",
      "a",
      NULL },

    { "unexpected SASL challenge: abort, CAP END",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :sasl", TRUE, { "CAP REQ sasl" } },
        { ":srv CAP * ACK :sasl", TRUE, { "AUTHENTICATE PLAIN" } },
        { "AUTHENTICATE Y2hhbGxlbmdl", TRUE, { "AUTHENTICATE *", "CAP END" } },
        { ":srv 906 a :SASL authentication aborted", TRUE, { NULL } },
        { ":srv 001 a :Welcome", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_FAILED,
      "unexpected SASL challenge",
      "sasl",
      "a",
      NULL },

    { "mechanism rejected at once (904 before AUTHENTICATE +)",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :sasl", TRUE, { "CAP REQ sasl" } },
        { ":srv CAP * ACK :sasl", TRUE, { "AUTHENTICATE PLAIN" } },
        { ":srv 908 a EXTERNAL :are available SASL mechanisms", TRUE, { NULL } },
        { ":srv 904 a :SASL authentication failed", TRUE, { "CAP END" } },
        { ":srv 903 a :stray", TRUE, { NULL } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_FAILED,
      "904",
      "sasl",
      "a",
      NULL },

    { "cap-notify after registration: NEW requests wanted caps, DEL removes",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { ":srv CAP * LS :cap-notify", TRUE, { "CAP REQ cap-notify" } },
        { ":srv CAP * ACK :cap-notify", TRUE, { "CAP END" } },
        { ":srv 001 a :Welcome", FALSE, { NULL } },
        { ":srv CAP a NEW :away-notify batch sasl=PLAIN server-time=x",
          TRUE,
          { "CAP REQ :away-notify server-time" } },
        { ":srv CAP a ACK :away-notify server-time", TRUE, { NULL } },
        { ":srv CAP a DEL :server-time", TRUE, { NULL } },
        { ":srv CAP a NEW :batch", TRUE, { NULL } },
        { ":srv 903 a :stray after registration", FALSE, { NULL } },
        { "AUTHENTICATE +", FALSE, { NULL } } },
      CW_IRC_CAP_STATE_REGISTERED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "does not offer SASL",
      "away-notify cap-notify",
      "a",
      NULL },

    { "malformed CAP and AUTHENTICATE lines are ignored",
      { .nick = "a", PLAIN("alice", "secret") },
      OPEN("a"),
      { { "CAP", TRUE, { NULL } },
        { "CAP *", TRUE, { NULL } },
        { ":srv CAP * ACK :server-time evil", TRUE, { NULL } },
        { ":srv CAP * LS *", TRUE, { NULL } },
        { ":srv CAP * BOGUS :x", TRUE, { NULL } },
        { "AUTHENTICATE", TRUE, { NULL } },
        { ":srv 903", TRUE, { NULL } },
        { ":srv 900", TRUE, { NULL } },
        { ":srv CAP * LS :", TRUE, { "CAP END" } } },
      CW_IRC_CAP_STATE_ENDED,
      CW_IRC_SASL_NOT_ATTEMPTED,
      "does not offer SASL",
      "server-time",
      "a",
      NULL },
};

static void run_scenario(gconstpointer data)
{
    const Scenario *s = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&s->config, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cw_irc_cap_state(cap), ==, CW_IRC_CAP_STATE_NEW);

    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(cap, out);
    guint n = 0;
    while (s->start[n])
        n++;
    g_assert_cmpuint(out->len, ==, n);
    for (guint i = 0; i < n; i++)
        g_assert_cmpstr(g_ptr_array_index(out, i), ==, s->start[i]);

    for (const Exchange *x = s->script; x->recv; x++) {
        g_test_message("<- %s", x->recv);
        g_autoptr(CwIrcLine) line = cw_irc_line_parse(x->recv);
        g_assert_nonnull(line);
        g_ptr_array_set_size(out, 0);
        g_assert_cmpint(cw_irc_cap_feed(cap, line, out), ==, x->consumed);
        n = 0;
        while (x->send[n])
            n++;
        for (guint i = 0; i < out->len; i++)
            g_test_message("-> %s", (char *)g_ptr_array_index(out, i));
        g_assert_cmpuint(out->len, ==, n);
        for (guint i = 0; i < n; i++)
            g_assert_cmpstr(g_ptr_array_index(out, i), ==, x->send[i]);
    }

    g_assert_cmpint(cw_irc_cap_state(cap), ==, s->state);
    const char *reason = NULL;
    g_assert_cmpint(cw_irc_cap_sasl_outcome(cap, &reason), ==, s->sasl);
    if (s->state == CW_IRC_CAP_STATE_FAILED)
        reason = cw_irc_cap_fail_reason(cap);
    else
        g_assert_null(cw_irc_cap_fail_reason(cap));
    if (s->reason_has) {
        g_assert_nonnull(reason);
        g_assert_nonnull(strstr(reason, s->reason_has));
    } else {
        g_assert_null(reason);
    }
    g_auto(GStrv) enabled = cw_irc_cap_dup_enabled(cap);
    g_autofree char *joined = g_strjoinv(" ", enabled);
    g_assert_cmpstr(joined, ==, s->enabled);
    g_assert_cmpstr(cw_irc_cap_nick(cap), ==, s->nick);
    g_assert_cmpstr(cw_irc_cap_sasl_account(cap), ==, s->account);
}

/* Payload pieces: 400 bytes each, and a final "+" when the last was full. */
static void test_sasl_chunks(void)
{
    /* base64 length of "a\0a\0" + password: 4 * ceil((4 + len) / 3) */
    static const struct {
        gsize password_len;
        gsize b64_len;
        guint lines;
        gboolean plus;
    } cases[] = {
        { 8, 16, 1, FALSE },   { 296, 400, 2, TRUE },    { 299, 404, 2, FALSE },
        { 596, 800, 3, TRUE }, { 1000, 1340, 4, FALSE },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *password = g_strnfill(cases[i].password_len, 'p');
        CwIrcCapConfig config = { .nick = "a", PLAIN("a", password) };
        g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&config, NULL);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        cw_irc_cap_start(cap, out);
        static const char *const script[] = { ":s CAP * LS :sasl", ":s CAP * ACK :sasl",
                                              "AUTHENTICATE +" };
        for (guint k = 0; k < G_N_ELEMENTS(script); k++) {
            g_ptr_array_set_size(out, 0);
            g_autoptr(CwIrcLine) line = cw_irc_line_parse(script[k]);
            cw_irc_cap_feed(cap, line, out);
        }
        g_assert_cmpuint(out->len, ==, cases[i].lines);
        g_autoptr(GString) joined = g_string_new(NULL);
        for (guint k = 0; k < out->len; k++) {
            const char *l = g_ptr_array_index(out, k);
            g_assert_true(g_str_has_prefix(l, "AUTHENTICATE "));
            const char *piece = l + strlen("AUTHENTICATE ");
            if (k + 1 < out->len || !cases[i].plus)
                g_assert_cmpuint(strlen(piece), ==,
                                 k + 1 < out->len ? 400 : cases[i].b64_len % 400);
            if (cases[i].plus && k + 1 == out->len)
                g_assert_cmpstr(piece, ==, "+");
            else
                g_string_append(joined, piece);
        }
        g_assert_cmpuint(joined->len, ==, cases[i].b64_len);
        gsize raw_len = 0;
        g_autofree guchar *raw = g_base64_decode(joined->str, &raw_len);
        g_assert_cmpuint(raw_len, ==, 4 + cases[i].password_len);
        g_assert_cmpmem(raw, 4, "a\0a\0", 4);
    }
}

/* A long wanted list is requested over several REQ lines, each ACKed. */
static void test_req_split(void)
{
    g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) ls = g_string_new(":s CAP * LS :");
    for (int i = 0; i < 60; i++) {
        g_ptr_array_add(wanted, g_strdup_printf("vendor.example/capability-%02d", i));
        g_string_append_printf(ls, "vendor.example/capability-%02d ", i);
    }
    g_ptr_array_add(wanted, NULL);
    CwIrcCapConfig config = { .nick = "a", .wanted_caps = (const char *const *)wanted->pdata };
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&config, NULL);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(cap, out);
    g_ptr_array_set_size(out, 0);
    g_autoptr(CwIrcLine) line = cw_irc_line_parse(ls->str);
    cw_irc_cap_feed(cap, line, out);
    g_assert_cmpuint(out->len, >, 1);
    g_autoptr(GPtrArray) reqs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < out->len; i++) {
        const char *l = g_ptr_array_index(out, i);
        g_assert_true(g_str_has_prefix(l, "CAP REQ :"));
        g_assert_cmpuint(strlen(l), <=, 510);
        g_ptr_array_add(reqs, g_strdup(l + strlen("CAP REQ :")));
    }
    for (guint i = 0; i < reqs->len; i++) {
        g_ptr_array_set_size(out, 0);
        g_autofree char *ack =
            g_strdup_printf(":s CAP a ACK :%s", (char *)g_ptr_array_index(reqs, i));
        g_autoptr(CwIrcLine) ack_line = cw_irc_line_parse(ack);
        cw_irc_cap_feed(cap, ack_line, out);
        g_assert_cmpuint(out->len, ==, i + 1 == reqs->len ? 1 : 0);
    }
    g_assert_cmpstr(g_ptr_array_index(out, 0), ==, "CAP END");
    g_auto(GStrv) enabled = cw_irc_cap_dup_enabled(cap);
    g_assert_cmpuint(g_strv_length(enabled), ==, 60);
}

static void test_timeout(void)
{
    CwIrcCapConfig config = { .nick = "a", PLAIN("alice", "secret") };
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&config, NULL);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_timeout(cap, out); /* not started: nothing */
    g_assert_cmpuint(out->len, ==, 0);
    cw_irc_cap_start(cap, out);
    static const char *const script[] = { ":s CAP * LS :sasl", ":s CAP * ACK :sasl" };
    for (guint k = 0; k < G_N_ELEMENTS(script); k++) {
        g_autoptr(CwIrcLine) line = cw_irc_line_parse(script[k]);
        cw_irc_cap_feed(cap, line, out);
    }
    g_ptr_array_set_size(out, 0);
    cw_irc_cap_timeout(cap, out);
    g_assert_cmpuint(out->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(out, 0), ==, "AUTHENTICATE *");
    g_assert_cmpstr(g_ptr_array_index(out, 1), ==, "CAP END");
    const char *reason = NULL;
    g_assert_cmpint(cw_irc_cap_sasl_outcome(cap, &reason), ==, CW_IRC_SASL_FAILED);
    g_assert_cmpstr(reason, ==, "timed out");
    g_assert_cmpint(cw_irc_cap_state(cap), ==, CW_IRC_CAP_STATE_ENDED);
    g_ptr_array_set_size(out, 0);
    cw_irc_cap_timeout(cap, out); /* ended: nothing more */
    g_assert_cmpuint(out->len, ==, 0);
}

static void test_offered(void)
{
    CwIrcCapConfig config = { .nick = "a" };
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&config, NULL);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(cap, out);
    g_autoptr(CwIrcLine) l1 = cw_irc_line_parse(LS1);
    g_autoptr(CwIrcLine) l2 = cw_irc_line_parse(LS2);
    cw_irc_cap_feed(cap, l1, out);
    cw_irc_cap_feed(cap, l2, out);
    g_assert_cmpstr(cw_irc_cap_offered(cap, "sasl"), ==, "PLAIN,EXTERNAL");
    g_assert_cmpstr(cw_irc_cap_offered(cap, "tls"), ==, "");
    g_assert_null(cw_irc_cap_offered(cap, "draft/chathistory"));
    g_assert_false(cw_irc_cap_has(cap, "inspircd.org/poison"));
    for (guint i = 0; i < out->len; i++)
        g_assert_null(strstr(g_ptr_array_index(out, i), "poison"));
    g_assert_true(g_strv_contains(cw_irc_cap_default_wanted(), "echo-message"));
}

static void test_bad_config(void)
{
    const CwIrcCapConfig bad[] = {
        { .nick = NULL },
        { .nick = "" },
        { .nick = "a b" },
        { .nick = ":a" },
        { .nick = "a\r\nQUIT" },
        { .nick = "a", .username = "u v" },
        { .nick = "a", .username = "" },
        { .nick = "a", .realname = "Real\nQUIT :x" },
        { .nick = "a", .server_password = "p\r\nQUIT" },
        { .nick = "a", .wanted_caps = (const char *const[]){ "multi-prefix sasl", NULL } },
        { .nick = "a", .sasl_mech = CW_IRC_SASL_PLAIN, .sasl_account = "acct" },
        { .nick = "a", .sasl_mech = CW_IRC_SASL_PLAIN, .sasl_password = "pw" },
        { .nick = "a", .sasl_mech = CW_IRC_SASL_PLAIN, .sasl_account = "", .sasl_password = "pw" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&bad[i], &error);
        g_assert_null(cap);
        g_assert_error(error, CW_IRC_CAP_ERROR, CW_IRC_CAP_ERROR_INVALID_CONFIG);
    }
    /* a password may hold anything but NUL: it only travels in base64 */
    CwIrcCapConfig ok = { .nick = "a", PLAIN("acct with space", "p\r\n :x") };
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&ok, NULL);
    g_assert_nonnull(cap);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(scenarios); i++) {
        g_autofree char *path = g_strdup_printf("/irc/cap/scenario/%02u", i);
        g_test_add_data_func(path, &scenarios[i], run_scenario);
    }
    g_test_add_func("/irc/cap/sasl-chunks", test_sasl_chunks);
    g_test_add_func("/irc/cap/req-split", test_req_split);
    g_test_add_func("/irc/cap/timeout", test_timeout);
    g_test_add_func("/irc/cap/offered", test_offered);
    g_test_add_func("/irc/cap/bad-config", test_bad_config);
    return g_test_run();
}
