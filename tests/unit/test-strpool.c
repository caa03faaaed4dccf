/* test-strpool.c — shared reference-counted strings. */
#include <causeway/strpool.h>

static void test_sharing(void)
{
    g_assert_cmpuint(cw_str_pool_size(), ==, 0);
    g_assert_null(cw_str_ref(NULL));
    cw_str_unref(NULL);

    char buf[16];
    g_strlcpy(buf, "nick", sizeof buf);
    const char *a = cw_str_ref(buf);
    const char *b = cw_str_ref("nick");
    g_assert_true(a == b); /* one copy */
    g_assert_true(a != buf);
    g_assert_cmpstr(a, ==, "nick");
    buf[0] = 'X'; /* the pool holds its own copy */
    g_assert_cmpstr(a, ==, "nick");
    const char *c = cw_str_ref("other");
    g_assert_cmpuint(cw_str_pool_size(), ==, 2);

    cw_str_unref(a);
    g_assert_cmpstr(b, ==, "nick"); /* still referenced once */
    g_assert_cmpuint(cw_str_pool_size(), ==, 2);
    cw_str_unref("nick"); /* by content: the same entry */
    g_assert_cmpuint(cw_str_pool_size(), ==, 1);
    cw_str_unref_notify((gpointer)c);
    g_assert_cmpuint(cw_str_pool_size(), ==, 0);
}

/* As hash table keys: replacing an existing key drops the extra reference. */
static void test_as_keys(void)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, cw_str_unref_notify, NULL);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 100; i++) {
            g_autofree char *k = g_strdup_printf("k%d", i);
            g_hash_table_insert(t, (gpointer)cw_str_ref(k), GINT_TO_POINTER(round));
        }
    g_assert_cmpuint(cw_str_pool_size(), ==, 100);
    g_hash_table_unref(t);
    g_assert_cmpuint(cw_str_pool_size(), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/strpool/sharing", test_sharing);
    g_test_add_func("/strpool/as-keys", test_as_keys);
    return g_test_run();
}
