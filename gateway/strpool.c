/* strpool.c — shared reference-counted strings (see strpool.h). */
#include <causeway/strpool.h>

/* string -> reference count, stored in the value pointer. No key destroy
 * function: g_hash_table_insert() on an existing key would free the key
 * passed in, which is the pooled copy itself. Keys are freed on removal. */
static GHashTable *pool;

const char *
cw_str_ref(const char *s)
{
    if (!s)
        return NULL;
    if (!pool)
        pool = g_hash_table_new(g_str_hash, g_str_equal);
    gpointer key, refs;
    if (g_hash_table_lookup_extended(pool, s, &key, &refs)) {
        g_hash_table_insert(pool, key, GUINT_TO_POINTER(GPOINTER_TO_UINT(refs) + 1));
        return key;
    }
    char *copy = g_strdup(s);
    g_hash_table_insert(pool, copy, GUINT_TO_POINTER(1));
    return copy;
}

void
cw_str_unref(const char *s)
{
    gpointer key, refs;
    if (!s || !pool || !g_hash_table_lookup_extended(pool, s, &key, &refs)) {
        g_return_if_fail(s == NULL);
        return;
    }
    guint left = GPOINTER_TO_UINT(refs) - 1;
    if (left > 0) {
        g_hash_table_insert(pool, key, GUINT_TO_POINTER(left));
        return;
    }
    g_hash_table_remove(pool, key);
    g_free(key);
    if (g_hash_table_size(pool) == 0)
        g_clear_pointer(&pool, g_hash_table_unref);
}

void
cw_str_unref_notify(gpointer s)
{
    cw_str_unref(s);
}

guint
cw_str_pool_size(void)
{
    return pool ? g_hash_table_size(pool) : 0;
}
