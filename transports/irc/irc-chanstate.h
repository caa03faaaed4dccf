/* irc-chanstate.h — one shared member table per (IRC server, channel), for every connection in it.
 *
 * Every bridged user has a connection of their own to the IRC server, and
 * every one of those connections that is in #chan hears the same JOIN, PART,
 * QUIT, NICK, MODE and KICK lines and the same NAMES. Keeping a member table
 * per connection costs N tables of N members (N^2) for N users in one
 * channel. Instead the connections' channels (CwIrcChannel, irc-session.h)
 * attach to one CwIrcChanState per (server, casefolded channel), which holds
 * the members once (pooled nick -> pooled prefix chars).
 *
 * Who applies the lines: the leader. Of the attached channels that are
 * ready (joined: 366 seen on their connection), one leads; only its lines
 * change the table and are reported to the XMPP side (once, for every user:
 * the MUC facade keeps one occupant set per room, see core.h). The other
 * connections' copies of the same line are recognised in O(1) — "not the
 * leader" — and skipped. The first channel to become ready with no leader
 * claims the lead and its NAMES fills the table (cw_irc_chanstate_replace,
 * which reports the differences, so a connection coming back after a
 * reconnect tells only what changed). When the leader goes (parts, is
 * kicked, its connection drops), another ready channel takes over at once
 * and, from an idle callback, the resync hook asks for a fresh NAMES on it:
 * whatever the two connections' streams differed by in between (lines the
 * old leader had not yet read, or the new one had already skipped) is
 * corrected by that NAMES' differences. A channel that leaves only detaches:
 * the others' view is untouched. With no ready channel left the table stays
 * as it was until the next one claims it.
 *
 * Lifetime: a state lives while channels are attached (a reference each)
 * and is freed with its pending resync source when the last one detaches.
 * Main thread only. Channels are opaque here (gpointer member): the
 * registry never dereferences them, and a member is never reached after its
 * detach.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* Members tracked per channel (NAMES and JOINs); beyond it a channel's
 * further nicks are ignored, with one log line. */
#define CW_IRC_CHANNEL_MAX_MEMBERS 20000

typedef struct CwIrcChanState CwIrcChanState;

/* Called (from an idle source of the state) on a channel that took the lead
 * from another one: it should ask its server for NAMES and feed the reply to
 * cw_irc_chanstate_replace(). */
typedef void (*CwIrcChanStateResync)(gpointer member);

/* The state of channel on server (the channel name is casefolded, the
 * server name taken as is), created empty if absent, with one more
 * reference for member; room_id is the core's id of the room member
 * bridges it to (several spellings of one channel may be in use). */
CwIrcChanState *cw_irc_chanstate_attach(const char *server, const char *channel,
                                        const char *room_id, gpointer member,
                                        CwIrcChanStateResync resync);
/* Drop member's reference (and its readiness, and its lead: another ready
 * channel takes over). Frees the state with the last one. */
void cw_irc_chanstate_detach(CwIrcChanState *st, gpointer member, const char *room_id);

/* member's connection is in the channel (366 seen) or not any more (the
 * connection dropped). Losing readiness gives up the lead. */
void cw_irc_chanstate_set_ready(CwIrcChanState *st, gpointer member, gboolean ready);
/* Take the lead if nobody has it; TRUE when member leads (now or already). */
gboolean cw_irc_chanstate_claim(CwIrcChanState *st, gpointer member);
gboolean cw_irc_chanstate_is_leader(const CwIrcChanState *st, gconstpointer member);
gpointer cw_irc_chanstate_leader(const CwIrcChanState *st);

/* Ask the leader for a fresh NAMES (from an idle source, through the
 * resync hook): it took the lead without a complete one. */
void cw_irc_chanstate_request_resync(CwIrcChanState *st);

/* The room ids in use for this channel (borrowed keys; a set). */
GHashTable *cw_irc_chanstate_room_ids(CwIrcChanState *st);

/* ---- the member table ---- */

/* nick's prefix chars (pooled, "" for none), or NULL when not a member. */
const char *cw_irc_chanstate_prefix(const CwIrcChanState *st, const char *nick);
guint cw_irc_chanstate_size(const CwIrcChanState *st);
/* The table itself (borrowed, read only): pooled nick -> pooled prefix. */
GHashTable *cw_irc_chanstate_members(CwIrcChanState *st);
/* Set nick's prefix (a pooled string; the table takes its own reference).
 * TRUE when that changed anything; FALSE when nick already had it, or when
 * the table is full (CW_IRC_CHANNEL_MAX_MEMBERS; *capped is then set TRUE
 * the first time, for one log line). */
gboolean cw_irc_chanstate_set(CwIrcChanState *st, const char *nick, const char *prefix,
                              gboolean *capped);
/* TRUE when nick was a member. */
gboolean cw_irc_chanstate_remove(CwIrcChanState *st, const char *nick);
/* TRUE when old_nick was a member (now new_nick, same prefix). */
gboolean cw_irc_chanstate_rename(CwIrcChanState *st, const char *old_nick, const char *new_nick);

/* What a fresh NAMES changes. */
typedef struct {
    void (*left)(const char *nick, gpointer data);
    /* new member, or prefix changed */
    void (*joined)(const char *nick, const char *prefix, gpointer data);
} CwIrcChanStateDiff;
/* Make fresh (a table from cw_irc_member_table_new(), one reference taken)
 * the members, telling diff what differs from the table so far. */
void cw_irc_chanstate_replace(CwIrcChanState *st, GHashTable *fresh, const CwIrcChanStateDiff *diff,
                              gpointer data);

/* A nick -> prefix table (the members, a NAMES being collected): keys and
 * values pooled (strpool.h, cw_str_ref), both released by the table. */
GHashTable *cw_irc_member_table_new(void);

/* States alive in the process (tests, statistics). */
guint cw_irc_chanstate_count(void);

G_END_DECLS
