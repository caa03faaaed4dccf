/* admin-log.c — the audit record of an administrator's action (causeway/admin.h). */
#define G_LOG_DOMAIN "causeway"
#include <causeway/admin.h>

#include <stdarg.h>

void
cw_admin_log(const char *actor, const char *target, const char *fmt, ...)
{
    g_return_if_fail(actor != NULL && fmt != NULL);
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *message = g_strdup_printf("admin %s: %s", actor, what);
    GLogField fields[] = {
        { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
        { "MESSAGE", message, -1 },
        { "CAUSEWAY_ADMIN", actor, -1 },
        { "CAUSEWAY_USER", target, -1 },
    };
    g_log_structured_array(G_LOG_LEVEL_MESSAGE, fields,
                           target ? G_N_ELEMENTS(fields) : G_N_ELEMENTS(fields) - 1);
}
