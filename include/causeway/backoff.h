/* backoff.h — reconnect delays: exponential backoff with jitter, one rule for
 * the component, the supervisor and every transport's legacy connections. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* The delay before retry number attempt (0 for the first retry): min_ms
 * doubled attempt times, capped at max_ms, then +-25% random jitter so that
 * many clients do not retry in lockstep. */
guint cw_backoff_delay_ms(guint min_ms, guint max_ms, guint attempt);

G_END_DECLS
