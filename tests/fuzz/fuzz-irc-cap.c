/* fuzz-irc-cap.c — libFuzzer harness for irc-cap.c: the CAP / SASL / NICK registration machine.
 *
 * The input is what a server sends: lines cut at LF (a CR before it is
 * dropped), each parsed with cw_irc_line_parse() and fed to one CwIrcCap
 * configured with SASL PLAIN. A line "!timeout" calls cw_irc_cap_timeout()
 * instead. The first byte picks one of a few configurations (required SASL,
 * a server password, an unusual wanted list, a multi-byte nick, a password
 * whose payload fills a whole AUTHENTICATE piece).
 *
 * Every emitted line must be non-NULL, free of CR, LF (and so of NUL: C
 * strings), parse as an IRC line and fit in 510 bytes; the machine's
 * accessors must agree with its state.
 */
#include "fuzz-common.h"

#include "irc/irc-cap.h"

static const char *const odd_wanted[] = {
    "sasl", "inspircd.org/poison", "draft/chathistory", "echo-message", "cap-notify",
    "message-tags", "multi-prefix", "batch", NULL,
};

static const char *const no_wanted[] = { NULL };

/* 300 bytes of "account\0account\0password" encode to exactly 400 base64
 * bytes: one full AUTHENTICATE piece, then "AUTHENTICATE +". */
static char long_password[300 - 2 * 5 - 2 + 1];

static CwIrcCapConfig
pick_config(guint8 which)
{
    CwIrcCapConfig c = {
        .nick = "alice",
        .sasl_mech = CW_IRC_SASL_PLAIN,
        .sasl_account = "alice",
        .sasl_password = "s3cret",
    };
    switch (which % 6) {
    case 0: break;
    case 1:
        c.sasl_required = TRUE;
        c.server_password = "server pass with spaces";
        break;
    case 2:
        c.wanted_caps = odd_wanted;
        c.username = "ident";
        c.realname = "Alice Example: the real name";
        break;
    case 3:
        /* Multi-byte: from the 4th attempt the nick is cut to 7 bytes. */
        c.nick = "\xc3\xa4li\xc3\xa7\xc3\xa9\xe2\x82\xac";
        c.sasl_required = TRUE;
        break;
    case 4:
        c.sasl_password = long_password;
        break;
    case 5:
        c.sasl_account = "a";
        c.sasl_password = "";
        c.wanted_caps = no_wanted;
        break;
    }
    return c;
}

/* Lines appended to out since index from: each one well-formed. */
static void
check_emitted(GPtrArray *out, guint from)
{
    for (guint i = from; i < out->len; i++) {
        const char *l = out->pdata[i];
        CW_FUZZ_CHECK(l != NULL);
        CW_FUZZ_CHECK(strpbrk(l, "\r\n") == NULL);
        CW_FUZZ_CHECK(strlen(l) <= 510);
        g_autoptr(CwIrcLine) parsed = cw_irc_line_parse(l);
        CW_FUZZ_CHECK(parsed != NULL);
    }
}

static void
check_accessors(CwIrcCap *cap, const CwIrcCapConfig *config)
{
    CwIrcCapState state = cw_irc_cap_state(cap);
    CW_FUZZ_CHECK((cw_irc_cap_fail_reason(cap) != NULL) == (state == CW_IRC_CAP_STATE_FAILED));
    const char *nick = cw_irc_cap_nick(cap);
    CW_FUZZ_CHECK(nick != NULL && *nick);
    const char *reason = NULL;
    CwIrcSaslOutcome outcome = cw_irc_cap_sasl_outcome(cap, &reason);
    CW_FUZZ_CHECK(outcome <= CW_IRC_SASL_FAILED);
    if (outcome == CW_IRC_SASL_SUCCEEDED)
        CW_FUZZ_CHECK(reason == NULL);
    if (config->sasl_required && state == CW_IRC_CAP_STATE_REGISTERED)
        CW_FUZZ_CHECK(outcome == CW_IRC_SASL_SUCCEEDED);
    /* Only caps we could have asked for are ever enabled; never the poison. */
    const char *const *wanted =
        config->wanted_caps ? config->wanted_caps : cw_irc_cap_default_wanted();
    g_auto(GStrv) enabled = cw_irc_cap_dup_enabled(cap);
    for (char **e = enabled; *e; e++) {
        CW_FUZZ_CHECK(strcmp(*e, "inspircd.org/poison") != 0);
        CW_FUZZ_CHECK(g_strv_contains(wanted, *e) || strcmp(*e, "sasl") == 0);
        CW_FUZZ_CHECK(cw_irc_cap_has(cap, *e));
    }
    (void)cw_irc_cap_offered(cap, "sasl");
    (void)cw_irc_cap_sasl_account(cap);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_fuzz_init_logging();
    memset(long_password, 'p', sizeof long_password - 1);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    CwIrcCapConfig config = pick_config(data[0]);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwIrcCap) cap = cw_irc_cap_new(&config, &error);
    CW_FUZZ_CHECK(cap != NULL);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    cw_irc_cap_start(cap, out);
    check_emitted(out, 0);
    CW_FUZZ_CHECK(cw_irc_cap_state(cap) == CW_IRC_CAP_STATE_NEGOTIATING);

    g_autoptr(GPtrArray) lines = cw_fuzz_split(data + 1, size - 1, '\n');
    for (guint i = 0; i < lines->len; i++) {
        char *raw = lines->pdata[i];
        gsize len = strlen(raw);
        if (len && raw[len - 1] == '\r')
            raw[len - 1] = '\0';
        guint before = out->len;
        CwIrcCapState state = cw_irc_cap_state(cap);
        if (strcmp(raw, "!timeout") == 0) {
            cw_irc_cap_timeout(cap, out);
        } else {
            g_autoptr(CwIrcLine) line = cw_irc_line_parse(raw);
            if (!line)
                continue;
            gboolean consumed = cw_irc_cap_feed(cap, line, out);
            /* Once failed, the machine is silent and takes nothing. */
            if (state == CW_IRC_CAP_STATE_FAILED)
                CW_FUZZ_CHECK(!consumed && out->len == before);
        }
        check_emitted(out, before);
        if (state == CW_IRC_CAP_STATE_FAILED)
            CW_FUZZ_CHECK(cw_irc_cap_state(cap) == CW_IRC_CAP_STATE_FAILED);
        check_accessors(cap, &config);
        /* Keep per-input memory bounded on long inputs. */
        if (out->len > 4096)
            g_ptr_array_set_size(out, 0);
    }
    return 0;
}
