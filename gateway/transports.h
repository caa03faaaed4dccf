/* transports.h — the table of transport types compiled into this binary. */
#pragma once
#include <causeway/transport.h>

G_BEGIN_DECLS

/* The ops for a config `type =` value, or NULL. */
const CwTransportOps *cw_transports_find(const char *type);
/* The i-th transport type of this build (0, 1, ...), NULL past the last. */
const CwTransportOps *cw_transports_nth(guint i);
/* "irc, sms, ..." for messages (static string). */
const char *cw_transports_names(void);

G_END_DECLS
