/* transports.h — the table of transport types compiled into this binary. */
#pragma once
#include <causeway/transport.h>

G_BEGIN_DECLS

/* The ops for a config `type =` value, or NULL. */
const CwTransportOps *cw_transports_find(const char *type);
/* "irc, sms, ..." for messages (static string). */
const char *cw_transports_names(void);

G_END_DECLS
