/* sms-poll.h — many sockets behind one main-loop source: an epoll set whose
 * one fd is what GLib polls. The sms transport keeps up to max_in_flight
 * sendsms connections and as many callback connections from Kannel open;
 * as one GSource each, every main-loop turn prepared, polled (the kernel's
 * sock_poll/tcp_poll per socket) and checked all of them, about a third of
 * Causeway's CPU per MT at 128 in flight. Here a turn polls one fd and
 * dispatches only the sockets that are ready.
 *
 * Level-triggered, like poll(2): a socket still ready after its callback
 * comes again on the next turn. At most CW_SMS_POLL_BATCH sockets are
 * dispatched per turn, the rest on the next (the set's fd stays readable).
 * Linux only (epoll).
 *
 * Lifetime: a callback may remove any watch (its own included) and add new
 * ones; once removed, a watch's callback never runs again, even if its
 * socket was ready in the same turn. Remove a watch before closing its fd.
 * cw_sms_poll_free() may be called from a callback: the set goes at the end
 * of that turn and no further callback runs. Every watch must be removed
 * before cw_sms_poll_free(). */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SMS_POLL_BATCH 64

typedef struct CwSmsPoll CwSmsPoll;
typedef struct CwSmsPollWatch CwSmsPollWatch;

/* revents: what is ready (G_IO_IN, G_IO_OUT, G_IO_HUP, G_IO_ERR, G_IO_PRI). */
typedef void (*CwSmsPollFunc)(CwSmsPollWatch *w, int fd, GIOCondition revents, gpointer data);

/* Attached to the thread-default main context at the default priority.
 * NULL with error set when the kernel gives no epoll fd. */
CwSmsPoll *cw_sms_poll_new(GError **error);
void cw_sms_poll_free(CwSmsPoll *p); /* NULL-safe */

/* Watch fd for cond (G_IO_HUP and G_IO_ERR are always reported). NULL if the
 * kernel refuses the fd (it is then not watched; errno says why). */
CwSmsPollWatch *cw_sms_poll_add(CwSmsPoll *p, int fd, GIOCondition cond, CwSmsPollFunc func,
                                gpointer data);
void cw_sms_poll_modify(CwSmsPollWatch *w, GIOCondition cond);
void cw_sms_poll_remove(CwSmsPollWatch *w); /* NULL-safe */

/* Watches in the set. */
guint cw_sms_poll_size(CwSmsPoll *p);

G_END_DECLS
