/* strpool.h — one shared, reference-counted copy of each string that many
 * users hold at once: nicks and JIDs of room occupants (every user in a
 * channel of N people knows the same N nicks; N^2 copies otherwise).
 *
 * Main thread only. A pooled string must not be modified; it lives until
 * its last reference is dropped.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/* The pooled copy of s, with one more reference (NULL for NULL). */
const char *cw_str_ref(const char *s);
/* Drop a reference taken with cw_str_ref (NULL-safe). */
void cw_str_unref(const char *s);
/* cw_str_unref as a GDestroyNotify, for hash table keys and values. */
void cw_str_unref_notify(gpointer s);
/* Distinct strings in the pool (tests, statistics). */
guint cw_str_pool_size(void);

G_END_DECLS
