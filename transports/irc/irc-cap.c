/* irc-cap.c — IRC registration state machine: CAP LS 302, CAP REQ, SASL PLAIN/EXTERNAL, NICK. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-cap.h"

#include <string.h>

#define POISON_CAP "inspircd.org/poison" /* advertised by InspIRCd and always refused */
#define SASL_CHUNK 400                   /* AUTHENTICATE payload piece (IRCv3 SASL 3.1) */
#define REQ_MAX 400                      /* bytes of cap names per CAP REQ line */
#define NICK_ATTEMPTS 8

/* Where the negotiation stands; the public state is coarser. */
typedef enum {
    STEP_NONE,
    STEP_LS,        /* CAP LS 302 sent, collecting the (multi-line) list */
    STEP_REQ,       /* CAP REQ sent, pending_reqs replies outstanding */
    STEP_SASL_MECH, /* AUTHENTICATE <mech> sent, waiting for "AUTHENTICATE +" */
    STEP_SASL_DATA, /* payload sent, waiting for 903/904... */
    STEP_DONE,      /* CAP END sent, or no CAP at all */
} Step;

struct CwIrcCap {
    CwIrcCapState state;
    Step step;
    char **wanted;
    CwIrcSaslMech mech;
    char *account;
    char *password;
    gboolean sasl_required;
    char *nick_base;
    char *nick;
    char *username;
    char *realname;
    char *server_password;
    guint nick_attempts;
    GHashTable *offered; /* name -> value ("" when none) */
    GHashTable *enabled; /* name -> name */
    guint pending_reqs;
    CwIrcSaslOutcome sasl;
    char *sasl_reason;
    char *sasl_account;
    char *fail_reason;
};

// clang-format off
G_DEFINE_QUARK(causeway-irc-cap-error-quark, cw_irc_cap_error)
// clang-format on

static const char *const default_wanted[] = {
    "multi-prefix",   "sasl",         "message-tags",  "server-time", "away-notify",
    "account-notify", "echo-message", "extended-join", "account-tag", "userhost-in-names",
    "cap-notify",     NULL,
};

const char *const *cw_irc_cap_default_wanted(void)
{
    return default_wanted;
}

/* ---- set-up ------------------------------------------------------------- */

/* word: a middle parameter (non-empty, no space, no leading ':'). */
static gboolean check_field(const char *what, const char *value, gboolean word, GError **error)
{
    if (!value)
        return TRUE;
    if (strpbrk(value, "\r\n")) {
        g_set_error(error, CW_IRC_CAP_ERROR, CW_IRC_CAP_ERROR_INVALID_CONFIG,
                    "IRC %s must not hold CR or LF", what);
        return FALSE;
    }
    if (word && (!*value || strchr(value, ' ') || value[0] == ':')) {
        g_set_error(error, CW_IRC_CAP_ERROR, CW_IRC_CAP_ERROR_INVALID_CONFIG,
                    "IRC %s must be one word, not empty and not starting with ':' (got \"%s\")",
                    what, value);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_config(const CwIrcCapConfig *c, GError **error)
{
    if (!c->nick || !*c->nick) {
        g_set_error_literal(error, CW_IRC_CAP_ERROR, CW_IRC_CAP_ERROR_INVALID_CONFIG,
                            "IRC nick is required");
        return FALSE;
    }
    if (!check_field("nick", c->nick, TRUE, error) ||
        !check_field("username", c->username, TRUE, error) ||
        !check_field("realname", c->realname, FALSE, error) ||
        !check_field("server password", c->server_password, FALSE, error))
        return FALSE;
    for (const char *const *w = c->wanted_caps; w && *w; w++)
        if (!check_field("capability name", *w, TRUE, error))
            return FALSE;
    if (c->sasl_mech == CW_IRC_SASL_PLAIN &&
        (!c->sasl_account || !*c->sasl_account || !c->sasl_password)) {
        g_set_error_literal(error, CW_IRC_CAP_ERROR, CW_IRC_CAP_ERROR_INVALID_CONFIG,
                            "SASL PLAIN needs an account and a password");
        return FALSE;
    }
    return TRUE;
}

CwIrcCap *cw_irc_cap_new(const CwIrcCapConfig *config, GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_config(config, error))
        return NULL;

    CwIrcCap *cap = g_new0(CwIrcCap, 1);
    cap->wanted = g_strdupv((char **)(config->wanted_caps ? config->wanted_caps : default_wanted));
    cap->mech = config->sasl_mech;
    if (cap->mech == CW_IRC_SASL_PLAIN) {
        cap->account = g_strdup(config->sasl_account);
        cap->password = g_strdup(config->sasl_password);
    }
    cap->sasl_required = config->sasl_required;
    cap->nick_base = g_strdup(config->nick);
    cap->nick = g_strdup(config->nick);
    cap->username = g_strdup(config->username ? config->username : config->nick);
    cap->realname =
        g_strdup(config->realname && *config->realname ? config->realname : config->nick);
    cap->server_password = g_strdup(config->server_password);
    cap->offered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    cap->enabled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return cap;
}

static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    g_free(s);
}

void cw_irc_cap_free(CwIrcCap *cap)
{
    if (!cap)
        return;
    g_strfreev(cap->wanted);
    free_secret(cap->account);
    free_secret(cap->password);
    free_secret(cap->server_password);
    g_free(cap->nick_base);
    g_free(cap->nick);
    g_free(cap->username);
    g_free(cap->realname);
    g_hash_table_unref(cap->offered);
    g_hash_table_unref(cap->enabled);
    g_free(cap->sasl_reason);
    g_free(cap->sasl_account);
    g_free(cap->fail_reason);
    g_free(cap);
}

/* ---- helpers ------------------------------------------------------------ */

/* Lines come from validated config and fixed words, so a NULL here is a bug. */
static void emit(GPtrArray *out, char *line)
{
    g_return_if_fail(line != NULL);
    g_ptr_array_add(out, line);
}

/* Space-separated words of s, empty ones skipped (g_strfreev). */
static char **words(const char *s)
{
    char **parts = g_strsplit(s ? s : "", " ", -1);
    guint n = 0;
    for (guint i = 0; parts[i]; i++) {
        if (*parts[i])
            parts[n++] = parts[i];
        else
            g_free(parts[i]);
    }
    parts[n] = NULL;
    return parts;
}

static const char *mech_name(CwIrcSaslMech mech)
{
    return mech == CW_IRC_SASL_EXTERNAL ? "EXTERNAL" : "PLAIN";
}

static void set_sasl(CwIrcCap *cap, CwIrcSaslOutcome outcome, const char *reason)
{
    cap->sasl = outcome;
    g_free(cap->sasl_reason);
    cap->sasl_reason = g_strdup(reason);
}

static void fail(CwIrcCap *cap, char *reason, GPtrArray *out)
{
    cap->state = CW_IRC_CAP_STATE_FAILED;
    cap->step = STEP_DONE;
    g_free(cap->fail_reason);
    cap->fail_reason = reason;
    g_autofree char *escaped = cw_irc_log_escape(reason); /* it quotes the server */
    g_debug("IRC registration failed: %s", escaped);
    emit(out, cw_irc_line_build("QUIT", NULL));
}

/* End of negotiation: CAP END, unless SASL was required and did not work. */
static void finish(CwIrcCap *cap, GPtrArray *out)
{
    cap->step = STEP_DONE;
    if (cap->sasl_required && cap->sasl != CW_IRC_SASL_SUCCEEDED) {
        fail(cap,
             g_strdup_printf("SASL is required but did not succeed: %s",
                             cap->sasl_reason ? cap->sasl_reason : "not attempted"),
             out);
        return;
    }
    emit(out, cw_irc_line_build("CAP", "END", NULL));
    cap->state = CW_IRC_CAP_STATE_ENDED;
}

/* ---- CAP ---------------------------------------------------------------- */

/* Caps remembered from CAP LS / NEW: real servers offer a few dozen; a
 * server that sends LS lines forever does not grow us beyond this. */
#define OFFERED_MAX 256

static void add_offered(CwIrcCap *cap, const char *list)
{
    g_auto(GStrv) caps = words(list);
    for (guint i = 0; caps[i]; i++) {
        if (g_hash_table_size(cap->offered) >= OFFERED_MAX)
            return;
        const char *eq = strchr(caps[i], '=');
        char *name = eq ? g_strndup(caps[i], eq - caps[i]) : g_strdup(caps[i]);
        g_hash_table_replace(cap->offered, name, g_strdup(eq ? eq + 1 : ""));
    }
}

/* May SASL be requested? If not, say why in the outcome. */
static gboolean sasl_usable(CwIrcCap *cap)
{
    if (cap->mech == CW_IRC_SASL_NONE)
        return FALSE;
    const char *mechs = g_hash_table_lookup(cap->offered, "sasl");
    if (!mechs) {
        set_sasl(cap, CW_IRC_SASL_NOT_ATTEMPTED, "the server does not offer SASL");
        return FALSE;
    }
    if (!*mechs)
        return TRUE; /* no list (CAP 3.1): just try */
    g_auto(GStrv) list = g_strsplit(mechs, ",", -1);
    for (guint i = 0; list[i]; i++)
        if (g_ascii_strcasecmp(list[i], mech_name(cap->mech)) == 0)
            return TRUE;
    g_autofree char *why =
        g_strdup_printf("the server offers SASL %s, not %s", mechs, mech_name(cap->mech));
    set_sasl(cap, CW_IRC_SASL_NOT_ATTEMPTED, why);
    return FALSE;
}

static gboolean may_request(CwIrcCap *cap, const char *name, gboolean with_sasl)
{
    if (g_str_equal(name, POISON_CAP) || g_hash_table_contains(cap->enabled, name))
        return FALSE;
    if (g_str_equal(name, "sasl") && !with_sasl)
        return FALSE;
    return g_hash_table_contains(cap->offered, name);
}

/* One CAP REQ per REQ_MAX bytes of names; returns how many lines were sent. */
static guint send_reqs(GPtrArray *names, GPtrArray *out)
{
    guint lines = 0;
    g_autoptr(GString) cur = g_string_new(NULL);
    for (guint i = 0; i <= names->len; i++) {
        const char *name = i < names->len ? g_ptr_array_index(names, i) : NULL;
        if (cur->len && (!name || cur->len + 1 + strlen(name) > REQ_MAX)) {
            emit(out, cw_irc_line_build("CAP", "REQ", cur->str, NULL));
            lines++;
            g_string_truncate(cur, 0);
        }
        if (name) {
            if (cur->len)
                g_string_append_c(cur, ' ');
            g_string_append(cur, name);
        }
    }
    return lines;
}

static void after_req(CwIrcCap *cap, GPtrArray *out)
{
    if (cap->mech != CW_IRC_SASL_NONE && g_hash_table_contains(cap->enabled, "sasl")) {
        emit(out, cw_irc_line_build("AUTHENTICATE", mech_name(cap->mech), NULL));
        set_sasl(cap, CW_IRC_SASL_IN_PROGRESS, NULL);
        cap->step = STEP_SASL_MECH;
        return;
    }
    if (cap->mech != CW_IRC_SASL_NONE && !cap->sasl_reason)
        set_sasl(cap, CW_IRC_SASL_NOT_ATTEMPTED, "the server refused the sasl capability");
    finish(cap, out);
}

static void after_ls(CwIrcCap *cap, GPtrArray *out)
{
    gboolean with_sasl = sasl_usable(cap);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; cap->wanted[i]; i++)
        if (may_request(cap, cap->wanted[i], with_sasl) &&
            !g_ptr_array_find_with_equal_func(names, cap->wanted[i], g_str_equal, NULL))
            g_ptr_array_add(names, cap->wanted[i]);
    if (with_sasl && !g_ptr_array_find_with_equal_func(names, "sasl", g_str_equal, NULL))
        g_ptr_array_add(names, "sasl");
    if (names->len == 0) {
        finish(cap, out);
        return;
    }
    cap->pending_reqs = send_reqs(names, out);
    cap->step = STEP_REQ;
}

/* Is name one we would ask for (wanted, or sasl with a mechanism)? */
static gboolean is_wanted(CwIrcCap *cap, const char *name)
{
    if (g_str_equal(name, "sasl"))
        return cap->mech != CW_IRC_SASL_NONE;
    return g_strv_contains((const char *const *)cap->wanted, name);
}

/* Only caps we could have asked for are recorded: a server cannot switch on
 * behaviour (echo-message, say) the caller does not expect. */
static void apply_ack(CwIrcCap *cap, const char *list)
{
    g_auto(GStrv) caps = words(list);
    for (guint i = 0; caps[i]; i++) {
        const char *name = caps[i];
        if (name[0] == '-') {
            g_hash_table_remove(cap->enabled, name + 1);
            continue;
        }
        name += strspn(name, "~="); /* CAP 3.1 modifiers */
        if (is_wanted(cap, name) && !g_str_equal(name, POISON_CAP))
            g_hash_table_add(cap->enabled, g_strdup(name));
    }
}

/* A REQ of several caps is all-or-nothing: ask again one by one, so a
 * single refused cap does not cost the others. Only caps we want are asked
 * again, whatever the server lists. */
static void handle_nak(CwIrcCap *cap, const char *list, GPtrArray *out)
{
    g_auto(GStrv) caps = words(list);
    if (g_strv_length(caps) < 2)
        return;
    for (guint i = 0; caps[i]; i++) {
        if (!is_wanted(cap, caps[i]) || g_str_equal(caps[i], POISON_CAP))
            continue;
        emit(out, cw_irc_line_build("CAP", "REQ", caps[i], NULL));
        if (cap->step == STEP_REQ)
            cap->pending_reqs++;
    }
}

/* cap-notify: request what is newly offered and wanted (never sasl). */
static void handle_new(CwIrcCap *cap, const char *list, GPtrArray *out)
{
    add_offered(cap, list);
    if (cap->step != STEP_DONE)
        return; /* an LS still under way picks them up; otherwise wait */
    g_auto(GStrv) caps = words(list);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; caps[i]; i++) {
        caps[i][strcspn(caps[i], "=")] = '\0';
        if (g_strv_contains((const char *const *)cap->wanted, caps[i]) &&
            may_request(cap, caps[i], FALSE))
            g_ptr_array_add(names, caps[i]);
    }
    send_reqs(names, out);
}

static void handle_del(CwIrcCap *cap, const char *list)
{
    g_auto(GStrv) caps = words(list);
    for (guint i = 0; caps[i]; i++) {
        g_hash_table_remove(cap->offered, caps[i]);
        g_hash_table_remove(cap->enabled, caps[i]);
    }
}

/* "CAP <target> <sub> [*] [:list]"; a "*" before the list means more lines
 * follow (CAP LS/LIST 302). */
static void handle_cap(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out)
{
    const char *sub = cw_irc_line_param(line, 1);
    if (!sub)
        return;
    gboolean more = g_strcmp0(cw_irc_line_param(line, 2), "*") == 0;
    const char *list = cw_irc_line_param(line, more ? 3 : 2);
    if (!list)
        list = "";

    if (g_ascii_strcasecmp(sub, "LS") == 0) {
        add_offered(cap, list);
        if (!more && cap->step == STEP_LS)
            after_ls(cap, out);
    } else if (g_ascii_strcasecmp(sub, "ACK") == 0 || g_ascii_strcasecmp(sub, "NAK") == 0) {
        if (g_ascii_strcasecmp(sub, "ACK") == 0)
            apply_ack(cap, list);
        else
            handle_nak(cap, list, out);
        if (cap->step == STEP_REQ && cap->pending_reqs > 0 && --cap->pending_reqs == 0)
            after_req(cap, out);
    } else if (g_ascii_strcasecmp(sub, "NEW") == 0) {
        handle_new(cap, list, out);
    } else if (g_ascii_strcasecmp(sub, "DEL") == 0) {
        handle_del(cap, list);
    }
}

/* ---- SASL --------------------------------------------------------------- */

/* PLAIN: base64("account\0account\0password"); EXTERNAL: empty, sent as "+".
 * Pieces of SASL_CHUNK bytes; a final "+" when the last piece was full. */
static void send_payload(CwIrcCap *cap, GPtrArray *out)
{
    char *b64;
    if (cap->mech == CW_IRC_SASL_PLAIN) {
        gsize alen = strlen(cap->account), plen = strlen(cap->password);
        gsize n = 2 * alen + plen + 2;
        char *raw = g_malloc(n);
        memcpy(raw, cap->account, alen);
        raw[alen] = '\0';
        memcpy(raw + alen + 1, cap->account, alen);
        raw[2 * alen + 1] = '\0';
        memcpy(raw + 2 * alen + 2, cap->password, plen);
        b64 = g_base64_encode((const guchar *)raw, n);
        explicit_bzero(raw, n);
        g_free(raw);
    } else {
        b64 = g_strdup("");
    }
    gsize len = strlen(b64);
    for (gsize off = 0; off < len; off += SASL_CHUNK)
        emit(out, g_strdup_printf("AUTHENTICATE %.*s", (int)MIN(SASL_CHUNK, len - off), b64 + off));
    if (len % SASL_CHUNK == 0)
        emit(out, g_strdup("AUTHENTICATE +"));
    free_secret(b64);
}

static void handle_authenticate(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out)
{
    if (cap->step == STEP_SASL_MECH && g_strcmp0(cw_irc_line_param(line, 0), "+") == 0) {
        send_payload(cap, out);
        cap->step = STEP_SASL_DATA;
    } else if (cap->step == STEP_SASL_MECH || cap->step == STEP_SASL_DATA) {
        /* PLAIN and EXTERNAL have no challenges */
        emit(out, cw_irc_line_build("AUTHENTICATE", "*", NULL));
        set_sasl(cap, CW_IRC_SASL_FAILED, "unexpected SASL challenge from the server");
        finish(cap, out);
    }
}

static void sasl_finished(CwIrcCap *cap, const CwIrcLine *line, CwIrcSaslOutcome outcome,
                          GPtrArray *out)
{
    if (cap->step != STEP_SASL_MECH && cap->step != STEP_SASL_DATA)
        return;
    const char *text = cw_irc_line_last_param(line);
    g_autofree char *reason = NULL;
    if (outcome == CW_IRC_SASL_FAILED)
        reason = g_strdup_printf("%s (%s)", text && *text ? text : "SASL authentication failed",
                                 line->command);
    set_sasl(cap, outcome, reason);
    finish(cap, out);
}

/* ---- registration ------------------------------------------------------- */

static void next_nick(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out)
{
    if (++cap->nick_attempts > NICK_ATTEMPTS) {
        const char *text = cw_irc_line_last_param(line);
        fail(cap,
             g_strdup_printf("no nickname accepted (last tried %s: %s)", cap->nick,
                             text ? text : line->command),
             out);
        return;
    }
    char *next;
    if (cap->nick_attempts <= 3) {
        next = g_strdup_printf("%s%.*s", cap->nick_base, (int)cap->nick_attempts, "___");
    } else {
        gsize keep = MIN(strlen(cap->nick_base), 7);
        while (keep > 0 && ((guchar)cap->nick_base[keep] & 0xC0) == 0x80)
            keep--;
        next = g_strdup_printf("%.*s%u", (int)keep, cap->nick_base, cap->nick_attempts);
    }
    g_free(cap->nick);
    cap->nick = next;
    emit(out, cw_irc_line_build("NICK", cap->nick, NULL));
}

/* The server does not know CAP: registration goes on without it. */
static void no_cap(CwIrcCap *cap, GPtrArray *out)
{
    if (cap->step != STEP_LS)
        return;
    if (cap->mech != CW_IRC_SASL_NONE)
        set_sasl(cap, CW_IRC_SASL_NOT_ATTEMPTED, "the server does not support CAP");
    cap->step = STEP_DONE;
    if (cap->sasl_required)
        fail(cap, g_strdup_printf("SASL is required but %s", cap->sasl_reason), out);
    else
        cap->state = CW_IRC_CAP_STATE_ENDED;
}

static void handle_welcome(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out)
{
    const char *nick = cw_irc_line_param(line, 0);
    if (nick && *nick) {
        g_free(cap->nick);
        cap->nick = g_strdup(nick);
    }
    if (cap->step != STEP_DONE && cap->mech != CW_IRC_SASL_NONE &&
        cap->sasl != CW_IRC_SASL_SUCCEEDED)
        set_sasl(cap,
                 cap->sasl == CW_IRC_SASL_IN_PROGRESS ? CW_IRC_SASL_FAILED
                                                      : CW_IRC_SASL_NOT_ATTEMPTED,
                 cap->step == STEP_LS ? "the server does not support CAP"
                                      : "the server completed registration first");
    cap->step = STEP_DONE;
    if (cap->sasl_required && cap->sasl != CW_IRC_SASL_SUCCEEDED)
        fail(cap,
             g_strdup_printf(
                 "SASL is required but the server registered the connection without it (%s)",
                 cap->sasl_reason ? cap->sasl_reason : "not attempted"),
             out);
    else
        cap->state = CW_IRC_CAP_STATE_REGISTERED;
}

void cw_irc_cap_start(CwIrcCap *cap, GPtrArray *out)
{
    g_return_if_fail(cap != NULL && out != NULL);
    g_return_if_fail(cap->state == CW_IRC_CAP_STATE_NEW);
    cap->state = CW_IRC_CAP_STATE_NEGOTIATING;
    cap->step = STEP_LS;
    emit(out, cw_irc_line_build("CAP", "LS", "302", NULL));
    if (cap->server_password)
        emit(out, cw_irc_line_build("PASS", cap->server_password, NULL));
    emit(out, cw_irc_line_build("NICK", cap->nick, NULL));
    emit(out, cw_irc_line_build("USER", cap->username, "0", "*", cap->realname, NULL));
}

gboolean cw_irc_cap_feed(CwIrcCap *cap, const CwIrcLine *line, GPtrArray *out)
{
    g_return_val_if_fail(cap != NULL && line != NULL && out != NULL, FALSE);
    if (cap->state == CW_IRC_CAP_STATE_NEW || cap->state == CW_IRC_CAP_STATE_FAILED)
        return FALSE;
    if (g_str_equal(line->command, "CAP")) {
        handle_cap(cap, line, out);
        return TRUE;
    }
    if (cap->state == CW_IRC_CAP_STATE_REGISTERED)
        return FALSE;
    if (g_str_equal(line->command, "AUTHENTICATE")) {
        handle_authenticate(cap, line, out);
        return TRUE;
    }
    switch (cw_irc_line_numeric(line)) {
    case 1: /* RPL_WELCOME */ handle_welcome(cap, line, out); return FALSE;
    case 421: /* ERR_UNKNOWNCOMMAND */
        if (g_strcmp0(cw_irc_line_param(line, 1), "CAP") != 0)
            return FALSE;
        no_cap(cap, out);
        return TRUE;
    case 432: /* ERR_ERRONEUSNICKNAME */
    case 433: /* ERR_NICKNAMEINUSE */
    case 436: /* ERR_NICKCOLLISION */
    case 437: /* ERR_UNAVAILRESOURCE */ next_nick(cap, line, out); return TRUE;
    case 900: /* RPL_LOGGEDIN <nick> <nick!user@host> <account> :text */
        g_free(cap->sasl_account);
        cap->sasl_account = g_strdup(cw_irc_line_param(line, 2));
        return TRUE;
    case 903: /* RPL_SASLSUCCESS */
    case 907: /* ERR_SASLALREADY: we are authenticated */
        sasl_finished(cap, line, CW_IRC_SASL_SUCCEEDED, out);
        return TRUE;
    case 902: /* ERR_NICKLOCKED */
    case 904: /* ERR_SASLFAIL */
    case 905: /* ERR_SASLTOOLONG */
    case 906: /* ERR_SASLABORTED */ sasl_finished(cap, line, CW_IRC_SASL_FAILED, out); return TRUE;
    case 908: /* RPL_SASLMECHS: 904 follows */ return TRUE;
    default: return FALSE;
    }
}

void cw_irc_cap_timeout(CwIrcCap *cap, GPtrArray *out)
{
    g_return_if_fail(cap != NULL && out != NULL);
    if (cap->state != CW_IRC_CAP_STATE_NEGOTIATING)
        return;
    if (cap->step == STEP_SASL_MECH || cap->step == STEP_SASL_DATA) {
        emit(out, cw_irc_line_build("AUTHENTICATE", "*", NULL));
        set_sasl(cap, CW_IRC_SASL_FAILED, "timed out");
    } else if (cap->mech != CW_IRC_SASL_NONE && !cap->sasl_reason) {
        set_sasl(cap, CW_IRC_SASL_NOT_ATTEMPTED, "timed out during CAP negotiation");
    }
    finish(cap, out);
}

/* ---- results ------------------------------------------------------------ */

CwIrcCapState cw_irc_cap_state(const CwIrcCap *cap)
{
    g_return_val_if_fail(cap != NULL, CW_IRC_CAP_STATE_FAILED);
    return cap->state;
}

const char *cw_irc_cap_fail_reason(const CwIrcCap *cap)
{
    g_return_val_if_fail(cap != NULL, NULL);
    return cap->state == CW_IRC_CAP_STATE_FAILED ? cap->fail_reason : NULL;
}

const char *cw_irc_cap_nick(const CwIrcCap *cap)
{
    g_return_val_if_fail(cap != NULL, NULL);
    return cap->nick;
}

gboolean cw_irc_cap_has(const CwIrcCap *cap, const char *name)
{
    g_return_val_if_fail(cap != NULL && name != NULL, FALSE);
    return g_hash_table_contains(cap->enabled, name);
}

static int compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cw_irc_cap_dup_enabled(const CwIrcCap *cap)
{
    g_return_val_if_fail(cap != NULL, NULL);
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, cap->enabled);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(names, g_strdup(key));
    g_ptr_array_sort(names, compare_str);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

const char *cw_irc_cap_offered(const CwIrcCap *cap, const char *name)
{
    g_return_val_if_fail(cap != NULL && name != NULL, NULL);
    return g_hash_table_lookup(cap->offered, name);
}

CwIrcSaslOutcome cw_irc_cap_sasl_outcome(const CwIrcCap *cap, const char **reason)
{
    g_return_val_if_fail(cap != NULL, CW_IRC_SASL_NOT_ATTEMPTED);
    if (reason)
        *reason = cap->sasl == CW_IRC_SASL_SUCCEEDED ? NULL : cap->sasl_reason;
    return cap->sasl;
}

const char *cw_irc_cap_sasl_account(const CwIrcCap *cap)
{
    g_return_val_if_fail(cap != NULL, NULL);
    return cap->sasl_account;
}

static gboolean
prefix_part_ok(const char *s, gsize len, const char *forbidden)
{
    for (gsize i = 0; i < len; i++) {
        if (s[i] <= ' ' || s[i] > '~' || strchr(forbidden, s[i]))
            return FALSE;
        if (memchr(s, s[i], i)) /* a duplicate */
            return FALSE;
    }
    return TRUE;
}

gboolean
cw_irc_prefix_parse(const char *value, char **modes, char **chars)
{
    g_return_val_if_fail(modes != NULL && chars != NULL, FALSE);
    if (!value || value[0] != '(')
        return FALSE;
    const char *m = value + 1;
    const char *close = strchr(m, ')');
    if (!close)
        return FALSE;
    gsize n = (gsize)(close - m);
    const char *c = close + 1;
    if (n > CW_IRC_PREFIX_MAX || strlen(c) != n)
        return FALSE;
    if (!prefix_part_ok(m, n, "()") || !prefix_part_ok(c, n, ":,()"))
        return FALSE;
    *modes = g_strndup(m, n);
    *chars = g_strdup(c);
    return TRUE;
}
