/* transports.c — the table of transport types compiled into this binary. */
#include "transports.h"

#include <string.h>

extern const CwTransportOps cw_loopback_transport, cw_irc_transport, cw_sms_transport,
    cw_purple_transport;

static const CwTransportOps *const transports[] = {
    &cw_irc_transport,
    &cw_loopback_transport,
    &cw_sms_transport,
    &cw_purple_transport,
};

const CwTransportOps *
cw_transports_find(const char *type)
{
    for (gsize i = 0; i < G_N_ELEMENTS(transports); i++)
        if (strcmp(transports[i]->type, type) == 0)
            return transports[i];
    return NULL;
}

const CwTransportOps *
cw_transports_nth(guint i)
{
    return i < G_N_ELEMENTS(transports) ? transports[i] : NULL;
}

const char *
cw_transports_names(void)
{
    static char *names;
    if (!names) {
        GString *s = g_string_new(NULL);
        for (gsize i = 0; i < G_N_ELEMENTS(transports); i++)
            g_string_append_printf(s, "%s%s", i ? ", " : "", transports[i]->type);
        names = g_string_free(s, FALSE);
    }
    return names;
}
