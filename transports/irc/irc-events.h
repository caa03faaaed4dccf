/* irc-events.h — what the IRC server says, turned into cw_legacy_* calls.
 *
 * One handler per command (PRIVMSG, JOIN, NAMES replies, ...): it updates
 * the session and its channels (irc-session.h, irc-chanstate.h) and tells
 * the core. The session does not call this itself: irc-transport.c gives
 * it as CwIrcTransport.handle_line, so the arrow runs one way (events ->
 * session). */
#pragma once
#include "irc-line.h"
#include "irc-session.h"

G_BEGIN_DECLS

/* One incoming line of s's connection (after CAP negotiation took its own). */
void cw_irc_events_handle_line(CwIrcSession *s, const CwIrcLine *line);

G_END_DECLS
