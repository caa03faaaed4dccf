/* irc-events.c — what the IRC server says, turned into cw_legacy_* calls (one handler per command). */
#define G_LOG_DOMAIN "causeway-irc"
#include <string.h>

#include "irc-events.h"

#include "irc-address.h"
#include "irc-chanstate.h"
#include "irc-session.h"
#include "irc-text.h"

#include <causeway/strpool.h>

typedef void (*Handler)(CwIrcSession *s, const CwIrcLine *line);

static gboolean
is_self(CwIrcSession *s, const char *nick)
{
    return nick && s->nick && cw_irc_name_equal(nick, s->nick);
}

/* ---- roles from channel prefixes (~ & @ % +) ---- */

static void
role_of(const char *prefixes, CwRole *role, CwAffiliation *affiliation)
{
    *role = CW_ROLE_PARTICIPANT;
    *affiliation = CW_AFFILIATION_NONE;
    if (!prefixes)
        return;
    if (strchr(prefixes, '~')) {
        *role = CW_ROLE_MODERATOR;
        *affiliation = CW_AFFILIATION_OWNER;
    } else if (strchr(prefixes, '&') || strchr(prefixes, '@')) {
        *role = CW_ROLE_MODERATOR;
        *affiliation = CW_AFFILIATION_ADMIN;
    } else if (strchr(prefixes, '%')) {
        *role = CW_ROLE_MODERATOR;
        *affiliation = CW_AFFILIATION_MEMBER;
    } else if (strchr(prefixes, '+')) {
        *affiliation = CW_AFFILIATION_MEMBER;
    }
}

/* The pooled (cw_str_ref) canonical form of a member's prefixes: each of
 * the server's prefix characters present in given, once, in the server's
 * order. Only strings built from the validated PREFIX can be pooled this
 * way, so what a server sends cannot grow the pool beyond them. */
static const char *
pooled_prefix(CwIrcSession *s, const char *given)
{
    char canon[CW_IRC_PREFIX_MAX + 1];
    gsize n = 0;
    for (const char *p = s->prefix_chars; *p && n < CW_IRC_PREFIX_MAX; p++)
        if (given && strchr(given, *p))
            canon[n++] = *p;
    canon[n] = '\0';
    return cw_str_ref(canon);
}

/* Log once that c's channel is full (CW_IRC_CHANNEL_MAX_MEMBERS). */
static void
log_capped(CwIrcSession *s, CwIrcChannel *c)
{
    g_autofree char *chan = cw_irc_log_escape(c->name);
    g_message("%s: %s on %s has more than %u members: ignoring the others", cw_user_jid(s->user),
              chan, s->server, (guint)CW_IRC_CHANNEL_MAX_MEMBERS);
}

/* Room for nick in c's NAMES being collected? Logged once per NAMES when not. */
static gboolean
names_room(CwIrcSession *s, CwIrcChannel *c, GHashTable *table, const char *nick)
{
    if (g_hash_table_size(table) < CW_IRC_CHANNEL_MAX_MEMBERS || g_hash_table_contains(table, nick))
        return TRUE;
    if (!c->names_capped) {
        c->names_capped = TRUE;
        log_capped(s, c);
    }
    return FALSE;
}

/* ---- what the shared members tell the XMPP side ----
 * Reported once per change, by the channel's leader (irc-chanstate.h), for
 * every room id the channel is bridged to: the core keeps one occupant set
 * per room and shows it to every user in it (core.h, shared rooms). */

static void
tell_joined(CwIrcSession *s, CwIrcChannel *c, const char *nick, const char *prefixes)
{
    CwRole role;
    CwAffiliation aff;
    role_of(prefixes, &role, &aff);
    g_autofree char *real = cw_irc_session_user_id(s, nick);
    GHashTableIter it;
    gpointer room_id;
    g_hash_table_iter_init(&it, cw_irc_chanstate_room_ids(c->state));
    while (g_hash_table_iter_next(&it, &room_id, NULL))
        cw_legacy_occupant_joined(s->user, room_id, nick, role, aff, real);
}

static void
tell_left(CwIrcSession *s, CwIrcChannel *c, const char *nick, const char *reason)
{
    GHashTableIter it;
    gpointer room_id;
    g_hash_table_iter_init(&it, cw_irc_chanstate_room_ids(c->state));
    while (g_hash_table_iter_next(&it, &room_id, NULL))
        cw_legacy_occupant_left(s->user, room_id, nick, reason);
}

static void
tell_renamed(CwIrcSession *s, CwIrcChannel *c, const char *old_nick, const char *new_nick)
{
    GHashTableIter it;
    gpointer room_id;
    g_hash_table_iter_init(&it, cw_irc_chanstate_room_ids(c->state));
    while (g_hash_table_iter_next(&it, &room_id, NULL))
        cw_legacy_occupant_renamed(s->user, room_id, old_nick, new_nick);
}

static void
tell_kicked(CwIrcSession *s, CwIrcChannel *c, const char *nick, const char *actor, const char *reason)
{
    GHashTableIter it;
    gpointer room_id;
    g_hash_table_iter_init(&it, cw_irc_chanstate_room_ids(c->state));
    while (g_hash_table_iter_next(&it, &room_id, NULL))
        cw_legacy_occupant_kicked(s->user, room_id, nick, actor, reason);
}

static gboolean
leads(CwIrcChannel *c)
{
    return cw_irc_chanstate_is_leader(c->state, c);
}

void
cw_irc_session_sync_room(CwIrcSession *s, CwIrcChannel *c)
{
    /* Usually the set already matches (the leader keeps it): one count. */
    if (cw_legacy_room_occupant_count(s->user, c->room_id) == cw_irc_chanstate_size(c->state))
        return;
    CwRole role;
    CwAffiliation aff;
    GHashTableIter it;
    gpointer nick, prefix;
    g_hash_table_iter_init(&it, cw_irc_chanstate_members(c->state));
    while (g_hash_table_iter_next(&it, &nick, &prefix)) {
        role_of(prefix, &role, &aff);
        g_autofree char *real = cw_irc_session_user_id(s, nick);
        cw_legacy_occupant_joined(s->user, c->room_id, nick, role, aff, real);
    }
}

/* ---- registration ---- */

static void
on_welcome(CwIrcSession *s, const CwIrcLine *line)
{
    g_auto(GStrv) caps = cw_irc_cap_dup_enabled(s->cap);
    g_autofree char *cap_list = g_strjoinv(" ", caps);
    g_autofree char *nick = cw_irc_log_escape(cw_irc_line_param(line, 0)); /* the server's words */
    g_message("%s: logged in to %s as %s (caps: %s)", cw_user_jid(s->user), s->server, nick,
              *cap_list ? cap_list : "none");
    cw_irc_session_on_registered(s);
    cw_irc_session_start_monitor(s);
}

static void
on_isupport(CwIrcSession *s, const CwIrcLine *line)
{
    for (guint i = 1; i + 1 < line->params->len; i++) {
        const char *p = line->params->pdata[i];
        if (g_str_has_prefix(p, "MONITOR")) {
            gboolean had = s->has_monitor;
            s->has_monitor = TRUE;
            if (!had) {
                g_clear_handle_id(&s->ison_id, g_source_remove);
                cw_irc_session_start_monitor(s);
            }
        }
        if (g_str_has_prefix(p, "PREFIX=")) {
            char *modes, *chars;
            if (!cw_irc_prefix_parse(p + 7, &modes, &chars)) {
                g_autofree char *bad = cw_irc_log_escape(p);
                g_message("%s: ignoring a malformed ISUPPORT %s", s->server, bad);
                continue;
            }
            g_free(s->prefix_modes);
            g_free(s->prefix_chars);
            s->prefix_modes = modes;
            s->prefix_chars = chars;
        }
    }
}

static void
on_motd(CwIrcSession *s, const CwIrcLine *line)
{
    int n = cw_irc_line_numeric(line);
    if (n == 375) {
        if (s->motd)
            g_string_free(s->motd, TRUE);
        s->motd = g_string_new(NULL);
        s->motd_lines = 0;
        s->motd_truncated = FALSE;
        return;
    }
    if (n == 372) {
        if (!s->motd) {
            s->motd = g_string_new(NULL);
            s->motd_lines = 0;
            s->motd_truncated = FALSE;
        }
        if (s->motd_truncated)
            return; /* an endless MOTD: the rest is not kept */
        g_autofree char *text = cw_irc_session_text(s, cw_irc_line_last_param(line));
        gsize len = strlen(text ? text : "") + 1;
        if (s->motd_lines >= CW_IRC_MOTD_MAX_LINES || s->motd->len + len > CW_IRC_MOTD_MAX_BYTES) {
            s->motd_truncated = TRUE;
            return;
        }
        g_string_append_printf(s->motd, "%s%s", s->motd->len ? "\n" : "", text ? text : "");
        s->motd_lines++;
        return;
    }
    if (s->motd && s->motd->len) {
        if (s->motd_truncated)
            g_string_append(s->motd, "\n(truncated)");
        g_autofree char *id = cw_irc_session_user_id(s, NULL);
        CwMessage msg = { .body = s->motd->str };
        cw_legacy_message(s->user, id, &msg);
    }
    if (s->motd)
        g_string_free(s->motd, TRUE);
    s->motd = NULL;
    s->motd_lines = 0;
    s->motd_truncated = FALSE;
}

/* ---- channels ----
 * Every connection in a channel hears the same membership lines; only the
 * channel's leader applies them to the shared members and reports them
 * (irc-chanstate.h). The others skip them, but for what concerns their own
 * nick: their own join, part, kick and nick change. */

static void
on_join(CwIrcSession *s, const CwIrcLine *line)
{
    const char *chan = cw_irc_line_param(line, 0);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c || !line->nick)
        return;
    if (is_self(s, line->nick)) {
        g_free(c->name);
        c->name = g_strdup(chan);
        g_clear_pointer(&c->names_pending, g_hash_table_unref);
        c->names_pending = cw_irc_member_table_new();
        c->names_capped = FALSE;
        c->names_partial = FALSE;
        return;
    }
    cw_irc_session_set_online(s, line->nick, TRUE);
    /* A member already: a bridged user's own 366 put it in first (see
     * on_end_of_names); a JOIN never changes a member's prefix. */
    if (!leads(c) || cw_irc_chanstate_prefix(c->state, line->nick))
        return;
    gboolean capped = FALSE;
    const char *none = cw_str_ref("");
    gboolean changed = cw_irc_chanstate_set(c->state, line->nick, none, &capped);
    cw_str_unref(none);
    if (capped)
        log_capped(s, c);
    if (changed)
        tell_joined(s, c, line->nick, "");
}

static void
on_names(CwIrcSession *s, const CwIrcLine *line)
{
    /* 353 me = #chan :@op +voice plain */
    CwIrcChannel *c = cw_irc_session_channel(s, cw_irc_line_param(line, 2) ? cw_irc_line_param(line, 2) : "");
    if (!c)
        return;
    if (!c->names_pending)
        c->names_pending = cw_irc_member_table_new();
    gboolean partial = cw_irc_chanstate_leader(c->state) && !leads(c);
    c->names_partial |= partial;
    g_auto(GStrv) names = g_strsplit(cw_irc_line_last_param(line), " ", -1);
    for (char **n = names; *n; n++) {
        const char *nick = *n;
        while (*nick && strchr(s->prefix_chars, *nick))
            nick++;
        if (!*nick)
            continue;
        /* userhost-in-names: nick!user@host */
        g_autofree char *bare = g_strndup(nick, strcspn(nick, "!"));
        /* Another connection keeps the members: of this NAMES only the
         * user's own entry matters (no table of N per user, even for the
         * moment of a join storm). */
        if (partial && !is_self(s, bare))
            continue;
        if (!*bare || !names_room(s, c, c->names_pending, bare))
            continue;
        g_autofree char *prefix = g_strndup(*n, nick - *n);
        g_hash_table_replace(c->names_pending, (gpointer)cw_str_ref(bare),
                             (gpointer)pooled_prefix(s, prefix));
    }
}

typedef struct {
    CwIrcSession *s;
    CwIrcChannel *c;
} NamesDiff;

static void
names_left(const char *nick, gpointer data)
{
    NamesDiff *d = data;
    tell_left(d->s, d->c, nick, NULL);
}

static void
names_joined(const char *nick, const char *prefix, gpointer data)
{
    NamesDiff *d = data;
    tell_joined(d->s, d->c, nick, prefix);
}

/* The user's own connection is in the channel (its 366): if the leader's
 * copy of its JOIN has not been read yet, the user goes into the members now,
 * as its own NAMES shows it, so that its self-presence and everyone's view
 * carry the one occupant the leader's JOIN will then find there (and not
 * report again: on_join). Without it the user would first see itself as an
 * occupant the set does not know, then a second self-presence when the
 * leader's JOIN arrives — one extra presence per joiner of a join storm. */
static void
add_self(CwIrcSession *s, CwIrcChannel *c, GHashTable *fresh)
{
    const char *prefix = g_hash_table_lookup(fresh, s->nick);
    if (!prefix || cw_irc_chanstate_prefix(c->state, s->nick))
        return;
    gboolean capped = FALSE;
    if (cw_irc_chanstate_set(c->state, s->nick, prefix, &capped))
        tell_joined(s, c, s->nick, prefix);
    if (capped)
        log_capped(s, c);
}

static void
on_end_of_names(CwIrcSession *s, const CwIrcLine *line)
{
    CwIrcChannel *c = cw_irc_session_channel(s, cw_irc_line_param(line, 1) ? cw_irc_line_param(line, 1) : "");
    if (!c || !c->names_pending)
        return;
    g_autoptr(GHashTable) fresh = g_steal_pointer(&c->names_pending);
    c->names_capped = FALSE;
    gboolean partial = c->names_partial;
    c->names_partial = FALSE;
    if (cw_irc_chanstate_claim(c->state, c) && partial) {
        /* The leader went while this NAMES was kept short: a full one. */
        cw_irc_chanstate_request_resync(c->state);
    } else if (cw_irc_chanstate_is_leader(c->state, c)) {
        /* The first connection in, one coming back after a reconnect, or a
         * new leader's resync: the members are what this NAMES says, and
         * the rooms are told what differs from what they were told. */
        static const CwIrcChanStateDiff diff = { .left = names_left, .joined = names_joined };
        NamesDiff d = { s, c };
        cw_irc_chanstate_replace(c->state, fresh, &diff, &d);
    }
    /* else: another connection keeps the members; this NAMES only says how
     * the user is in the channel. */
    add_self(s, c, fresh);
    cw_irc_session_sync_room(s, c);
    CwRole role;
    CwAffiliation aff;
    role_of(g_hash_table_lookup(fresh, s->nick), &role, &aff);
    c->joined = TRUE;
    cw_irc_chanstate_set_ready(c->state, c, TRUE);
    if (!c->was_joined)
        cw_legacy_room_joined(s->user, c->room_id, s->nick, role, aff);
    c->was_joined = TRUE;
}

static void
on_topic(CwIrcSession *s, const CwIrcLine *line)
{
    /* 332 me #chan :topic   or   :nick TOPIC #chan :topic */
    gboolean numeric = cw_irc_line_numeric(line) == 332;
    const char *chan = cw_irc_line_param(line, numeric ? 1 : 0);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c)
        return;
    g_autofree char *text = cw_irc_session_text(s, cw_irc_line_last_param(line));
    cw_legacy_room_subject(s->user, c->room_id, numeric ? NULL : line->nick, text);
}

static void
on_part(CwIrcSession *s, const CwIrcLine *line)
{
    const char *chan = cw_irc_line_param(line, 0);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c || !line->nick)
        return;
    g_autofree char *reason = line->params->len > 1 ? cw_irc_session_text(s, cw_irc_line_last_param(line)) : NULL;
    if (is_self(s, line->nick)) {
        cw_legacy_room_left(s->user, c->room_id, reason);
        /* The leader tells the others now: the next leader may have read
         * this line already (its NAMES would tell them anyway). */
        if (leads(c) && cw_irc_chanstate_remove(c->state, line->nick))
            tell_left(s, c, line->nick, reason);
        cw_irc_session_remove_channel(s, chan);
        cw_irc_session_release_if_idle(s);
        return;
    }
    if (leads(c) && cw_irc_chanstate_remove(c->state, line->nick))
        tell_left(s, c, line->nick, reason);
}

static void
on_quit(CwIrcSession *s, const CwIrcLine *line)
{
    if (!line->nick)
        return;
    g_autofree char *reason = line->params->len ? cw_irc_session_text(s, cw_irc_line_last_param(line)) : NULL;
    cw_irc_session_set_online(s, line->nick, FALSE); /* a followed contact left IRC */
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwIrcChannel *c = value;
        if (leads(c) && cw_irc_chanstate_remove(c->state, line->nick))
            tell_left(s, c, line->nick, reason);
    }
}

static void
on_kick(CwIrcSession *s, const CwIrcLine *line)
{
    const char *chan = cw_irc_line_param(line, 0), *target = cw_irc_line_param(line, 1);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c || !target)
        return;
    g_autofree char *reason = line->params->len > 2 ? cw_irc_session_text(s, cw_irc_line_last_param(line)) : NULL;
    gboolean self = is_self(s, target);
    if (leads(c)) {
        if (cw_irc_chanstate_remove(c->state, target) || self)
            tell_kicked(s, c, target, line->nick, reason);
    } else if (self) {
        /* Told in the user's own room now (and to the others in it: the
         * leader's report of the same line then finds nothing to do). */
        cw_legacy_occupant_kicked(s->user, c->room_id, target, line->nick, reason);
    }
    if (self) {
        cw_irc_session_remove_channel(s, chan);
        cw_irc_session_release_if_idle(s);
    }
}

static void
on_nick(CwIrcSession *s, const CwIrcLine *line)
{
    const char *new_nick = cw_irc_line_param(line, 0);
    if (!line->nick || !new_nick)
        return;
    gboolean self = is_self(s, line->nick);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        CwIrcChannel *c = value;
        if (leads(c) && cw_irc_chanstate_rename(c->state, line->nick, new_nick))
            tell_renamed(s, c, line->nick, new_nick);
        else if (self && c->joined)
            /* The user's own room now; the others by the leader's report
             * (the core renames an occupant once, whoever tells first). */
            cw_legacy_occupant_renamed(s->user, c->room_id, line->nick, new_nick);
    }
    if (self) {
        g_free(s->nick);
        s->nick = g_strdup(new_nick);
    }
}

static void
on_mode(CwIrcSession *s, const CwIrcLine *line)
{
    const char *chan = cw_irc_line_param(line, 0), *modes = cw_irc_line_param(line, 1);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c || !modes || !leads(c))
        return;
    guint arg = 2;
    gboolean adding = TRUE;
    for (const char *m = modes; *m; m++) {
        if (*m == '+' || *m == '-') {
            adding = *m == '+';
            continue;
        }
        const char *pos = strchr(s->prefix_modes, *m);
        if (!pos) {
            /* Modes with an argument we do not track still consume it. */
            if (strchr("beIkfjl", *m) && (adding || *m != 'l'))
                arg++;
            continue;
        }
        const char *nick = cw_irc_line_param(line, arg++);
        if (!nick)
            break;
        char symbol = s->prefix_chars[pos - s->prefix_modes];
        const char *old = cw_irc_chanstate_prefix(c->state, nick);
        GString *prefixes = g_string_new(old ? old : "");
        char *at = strchr(prefixes->str, symbol);
        if (adding && !at)
            g_string_append_c(prefixes, symbol);
        else if (!adding && at)
            g_string_erase(prefixes, at - prefixes->str, 1);
        g_autofree char *built = g_string_free(prefixes, FALSE);
        const char *updated = pooled_prefix(s, built);
        gboolean capped = FALSE;
        gboolean changed = cw_irc_chanstate_set(c->state, nick, updated, &capped);
        if (capped)
            log_capped(s, c);
        if (changed)
            tell_joined(s, c, nick, updated);
        cw_str_unref(updated);
    }
}

/* ---- messages ---- */

static void
answer_ctcp(CwIrcSession *s, const char *nick, const char *command, const char *args)
{
    g_autofree char *reply = NULL;
    if (!strcmp(command, "VERSION"))
        reply = cw_irc_ctcp_build("VERSION", "Causeway " CW_VERSION " (XMPP gateway)");
    else if (!strcmp(command, "PING"))
        reply = cw_irc_ctcp_build("PING", args);
    else if (!strcmp(command, "TIME")) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S +0000");
        reply = cw_irc_ctcp_build("TIME", stamp);
    }
    if (!reply)
        return;
    g_autofree char *line = cw_irc_line_build("NOTICE", nick, reply, NULL);
    cw_irc_session_send(s, line);
}

static gint64
server_time(const CwIrcLine *line)
{
    const char *t = cw_irc_line_tag(line, "time");
    if (!t)
        return 0;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(t, NULL);
    if (!dt)
        return 0;
    gint64 us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    /* Only a message that waited (playback) needs a delay stamp. */
    return g_get_real_time() - us > 5 * G_USEC_PER_SEC ? us : 0;
}

static void
on_privmsg(CwIrcSession *s, const CwIrcLine *line)
{
    const char *target = cw_irc_line_param(line, 0);
    const char *raw = cw_irc_line_last_param(line);
    if (!target || !raw || line->params->len < 2)
        return;
    gboolean notice = strcmp(line->command, "NOTICE") == 0;
    g_autofree char *ctcp = NULL, *args = NULL;
    g_autofree char *body = NULL;
    if (cw_irc_ctcp_parse(raw, &ctcp, &args)) {
        if (strcmp(ctcp, "ACTION") != 0) {
            if (!notice && line->nick)
                answer_ctcp(s, line->nick, ctcp, args);
            return;
        }
        g_autofree char *text = cw_irc_session_text(s, args);
        body = g_strdup_printf("/me %s", text);
    } else {
        body = cw_irc_session_text(s, raw);
    }
    CwMessage msg = { .body = body, .id = cw_irc_line_tag(line, "msgid"),
                      .timestamp = server_time(line) };

    /* From the server itself (no nick!user@host), or before registration. */
    if (!line->user || !line->host || !line->nick || !*line->nick) {
        g_autofree char *id = cw_irc_session_user_id(s, NULL);
        cw_legacy_message(s->user, id, &msg);
        return;
    }
    if (cw_irc_is_channel_name(target)) {
        CwIrcChannel *c = cw_irc_session_channel(s, target);
        if (!c)
            return;
        if (is_self(s, line->nick)) {
            /* echo-message: our own line came back. */
            CwIrcEcho *e = g_queue_peek_head(&c->echoes);
            if (!e) {
                /* Sent another way (a raw command): show it as it is. */
                cw_legacy_room_message(s->user, c->room_id, line->nick, &msg);
                return;
            }
            if (--e->lines_left == 0) {
                g_queue_pop_head(&c->echoes);
                CwMessage mine = { .body = e->body, .id = e->id };
                cw_legacy_room_message(s->user, c->room_id, line->nick, &mine);
                cw_irc_echo_free(e);
            }
            return;
        }
        cw_legacy_room_message(s->user, c->room_id, line->nick, &msg);
        return;
    }
    g_autofree char *key = cw_irc_casefold(line->nick);
    const char *room_id = g_hash_table_lookup(s->private_rooms, key);
    if (room_id) {
        /* A private chat the user opened from a room: answer there. */
        cw_legacy_room_private(s->user, room_id, line->nick, &msg);
        return;
    }
    g_autofree char *from = cw_irc_session_user_id(s, line->nick);
    if (!notice && (g_hash_table_size(s->queries) < CW_IRC_SESSION_MAX_QUERIES ||
                    g_hash_table_contains(s->queries, key)))
        g_hash_table_replace(s->queries, g_steal_pointer(&key), g_strdup(line->nick));
    cw_legacy_message(s->user, from, &msg);
}

static void
on_list_start(CwIrcSession *s, const CwIrcLine *line)
{
    /* 321 RPL_LISTSTART: nothing to say. */
}

/* ---- contacts' presence ---- */

static void
on_monitor(CwIrcSession *s, const CwIrcLine *line)
{
    /* 730 me :nick!user@host,nick2...   731 me :nick,nick2 */
    gboolean online = cw_irc_line_numeric(line) == 730;
    const char *list = cw_irc_line_last_param(line);
    if (!list)
        return; /* a bare "730": g_strsplit(NULL) would give NULL */
    g_auto(GStrv) targets = g_strsplit(list, ",", -1);
    for (char **t = targets; *t; t++) {
        g_autofree char *nick = g_strndup(*t, strcspn(*t, "!"));
        if (*nick)
            cw_irc_session_set_online(s, nick, online);
    }
}

static void
on_ison(CwIrcSession *s, const CwIrcLine *line)
{
    /* 303 me :nick nick2 — everyone monitored and not listed is offline. */
    g_autoptr(GHashTable) present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *list = cw_irc_line_last_param(line);
    if (!list)
        return; /* a bare "303" says nothing */
    g_auto(GStrv) nicks = g_strsplit(list, " ", -1);
    for (char **n = nicks; *n; n++)
        if (**n) {
            cw_irc_session_set_online(s, *n, TRUE);
            g_hash_table_add(present, cw_irc_casefold(*n));
        }
    GList *known = g_hash_table_get_keys(s->online);
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    for (GList *l = known; l; l = l->next)
        if (!g_hash_table_contains(present, l->data))
            g_ptr_array_add(gone, g_strdup(g_hash_table_lookup(s->online, l->data)));
    g_list_free(known);
    for (guint i = 0; i < gone->len; i++)
        cw_irc_session_set_online(s, gone->pdata[i], FALSE);
}

/* ---- LIST (disco#items on the server's JID) ---- */

static void
on_list_item(CwIrcSession *s, const CwIrcLine *line)
{
    /* 322 me #chan users :topic */
    CwRoomList *list = g_queue_peek_head(&s->listings);
    const char *chan = cw_irc_line_param(line, 1);
    if (!list || !chan || s->listed >= s->list_max)
        return;
    g_autofree char *room_id = cw_irc_session_user_id(s, chan);
    g_autofree char *topic = line->params->len > 3 ? cw_irc_session_text(s, cw_irc_line_last_param(line)) : NULL;
    g_autofree char *name = g_strdup_printf("%s (%s)%s%s", chan, cw_irc_line_param(line, 2),
                                            topic && *topic ? ": " : "", topic ? topic : "");
    cw_room_list_add(list, room_id, name);
    s->listed++;
}

static void
on_list_end(CwIrcSession *s, const CwIrcLine *line)
{
    CwRoomList *list = g_queue_pop_head(&s->listings);
    s->listed = 0;
    if (list)
        cw_room_list_done(list, NULL, NULL);
    cw_irc_session_release_if_idle(s);
}

/* ---- errors ---- */

static void
on_join_error(CwIrcSession *s, const CwIrcLine *line)
{
    const char *chan = cw_irc_line_param(line, 1);
    CwIrcChannel *c = chan ? cw_irc_session_channel(s, chan) : NULL;
    if (!c)
        return;
    const char *condition;
    switch (cw_irc_line_numeric(line)) {
    case 471: condition = "service-unavailable"; break;   /* full */
    case 473: condition = "registration-required"; break; /* invite only */
    case 474: condition = "forbidden"; break;             /* banned */
    case 475: condition = "not-authorized"; break;        /* bad key */
    case 403: condition = "item-not-found"; break;
    default: condition = "not-allowed"; break;
    }
    g_autofree char *text = g_strdup_printf("%s: %s", chan, cw_irc_line_last_param(line));
    if (c->joined) {
        /* E.g. 477 "cannot send" is not a join failure. */
        g_autofree char *id = cw_irc_session_user_id(s, NULL);
        CwMessage msg = { .body = text };
        cw_legacy_message(s->user, id, &msg);
        return;
    }
    cw_legacy_room_join_failed(s->user, c->room_id, condition, text);
    cw_irc_session_remove_channel(s, chan);
    cw_irc_session_release_if_idle(s);
}

static void
on_cannot_send(CwIrcSession *s, const CwIrcLine *line)
{
    /* 404 me #chan :Cannot send to channel; 401 me nick :No such nick */
    const char *target = cw_irc_line_param(line, 1);
    if (!target)
        return;
    g_autofree char *text = g_strdup_printf("%s: %s", target, cw_irc_line_last_param(line));
    CwIrcChannel *c = cw_irc_is_channel_name(target) ? cw_irc_session_channel(s, target) : NULL;
    if (c)
        g_queue_clear_full(&c->echoes, cw_irc_echo_free); /* refused: no echo will come */
    g_autofree char *key = cw_irc_casefold(target);
    const char *private_room = g_hash_table_lookup(s->private_rooms, key);
    g_autofree char *id = c ? g_strdup(c->room_id) : cw_irc_session_user_id(s, target);
    if (!c && private_room) {
        g_free(id);
        id = g_strdup_printf("%s", private_room);
    }
    cw_legacy_error(s->user, id, cw_irc_session_last_id(s, target),
                    cw_irc_line_numeric(line) == 401 ? "item-not-found" : "not-allowed", text);
}

static void
on_nick_error(CwIrcSession *s, const CwIrcLine *line)
{
    /* After registration (the cap machine handles it before): a nick change failed. */
    const char *wanted = cw_irc_line_param(line, 1);
    g_autofree char *text = g_strdup_printf("Nick %s: %s", wanted ? wanted : "",
                                            cw_irc_line_last_param(line));
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->channels);
    while (g_hash_table_iter_next(&it, NULL, &value))
        cw_legacy_error(s->user, ((CwIrcChannel *)value)->room_id, NULL, "conflict", text);
}

static void
on_server_text(CwIrcSession *s, const CwIrcLine *line)
{
    /* Errors and notices worth showing: from the server's JID. */
    GString *text = g_string_new(NULL);
    for (guint i = 1; i < line->params->len; i++)
        g_string_append_printf(text, "%s%s", i > 1 ? " " : "", (char *)line->params->pdata[i]);
    g_autofree char *body = cw_irc_session_text(s, text->str);
    g_string_free(text, TRUE);
    g_autofree char *id = cw_irc_session_user_id(s, NULL);
    CwMessage msg = { .body = body };
    cw_legacy_message(s->user, id, &msg);
}

static const struct {
    const char *command;
    Handler handler;
} handlers[] = {
    { "001", on_welcome },      { "005", on_isupport },    { "375", on_motd },
    { "372", on_motd },         { "376", on_motd },        { "422", on_motd },
    { "JOIN", on_join },        { "353", on_names },       { "366", on_end_of_names },
    { "332", on_topic },        { "TOPIC", on_topic },     { "PART", on_part },
    { "QUIT", on_quit },        { "KICK", on_kick },       { "NICK", on_nick },
    { "MODE", on_mode },        { "PRIVMSG", on_privmsg }, { "NOTICE", on_privmsg },
    { "403", on_join_error },   { "405", on_join_error },  { "471", on_join_error },
    { "473", on_join_error },   { "474", on_join_error },  { "475", on_join_error },
    { "477", on_join_error },   { "401", on_cannot_send }, { "404", on_cannot_send },
    { "730", on_monitor },      { "731", on_monitor },     { "303", on_ison },
    { "322", on_list_item },    { "323", on_list_end },    { "321", on_list_start },
    { "432", on_nick_error },   { "433", on_nick_error },  { "436", on_nick_error },
};

static GHashTable *
handler_table(void)
{
    static GHashTable *table;
    if (!table) {
        table = g_hash_table_new(g_str_hash, g_str_equal);
        for (gsize i = 0; i < G_N_ELEMENTS(handlers); i++)
            g_hash_table_insert(table, (gpointer)handlers[i].command, handlers[i].handler);
    }
    return table;
}

void
cw_irc_events_handle_line(CwIrcSession *s, const CwIrcLine *line)
{
    Handler h = g_hash_table_lookup(handler_table(), line->command);
    if (h) {
        h(s, line);
        return;
    }
    int numeric = cw_irc_line_numeric(line);
    if (numeric >= 400 && numeric < 600) {
        on_server_text(s, line);
        return;
    }
    g_autofree char *command = cw_irc_log_escape(line->command);
    g_debug("%s: unhandled %s", s->server, command);
}
