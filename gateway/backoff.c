/* backoff.c — exponential backoff with jitter. */
#include <causeway/backoff.h>

guint
cw_backoff_delay_ms(guint min_ms, guint max_ms, guint attempt)
{
    guint64 delay = MAX(min_ms, 1);
    for (guint i = 0; i < attempt && delay < max_ms; i++)
        delay *= 2;
    delay = MIN(delay, (guint64)MAX(max_ms, min_ms));
    gint32 jitter = (gint32)(delay / 4);
    if (jitter > 0)
        delay = (guint64)((gint64)delay + g_random_int_range(-jitter, jitter + 1));
    return (guint)delay;
}
