/* make-store-v2.c — how the schema-2 fixture in test-store.c (store_v2_dump) was made:
 * with the store and secrets code of main at 3e2354e, before ciphertexts were
 * bound to their row. Not built by the Makefile; to remake the fixture:
 *   cd <checkout of 3e2354e> && cc -std=c11 -D_GNU_SOURCE -Iinclude -Igateway \
 *     -o gen tests/unit/data/make-store-v2.c gateway/store.c gateway/secrets.c \
 *     $(pkg-config --cflags --libs glib-2.0 sqlite3 libsodium)
 *   ./gen store-v2.key store-v2.db && sqlite3 store-v2.db .dump; xxd -p store-v2.key
 */
#include "store.h"
#include <stdio.h>
int main(int argc, char **argv)
{
    GError *error = NULL;
    CwSecrets *s = cw_secrets_open(argv[1], &error);
    g_assert_no_error(error);
    CwStore *st = cw_store_open(argv[2], s, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cw_store_schema_version(st), ==, 2);
    const char *a = "alice@example.org", *b = "bob@example.org";
    g_assert_true(cw_store_user_add(st, a, &error));
    g_assert_true(cw_store_user_add(st, b, &error));
    g_assert_true(cw_store_value_set(st, a, "", "nick", "alice", FALSE, &error));
    g_assert_true(cw_store_value_set(st, a, "server:irc.example.net", "sasl_password", "alice-sasl-Secret", TRUE, &error));
    g_assert_true(cw_store_value_set(st, a, "server:irc.example.net", "after_connect", "PRIVMSG NickServ :IDENTIFY alice-ns-Secret", FALSE, &error));
    g_assert_true(cw_store_value_set(st, a, "server:irc.example.net", "client_cert", "/home/bob/bob.pem", FALSE, &error));
    g_assert_true(cw_store_value_set(st, b, "server:irc.example.net", "sasl_password", "bob-sasl-Secret", TRUE, &error));
    g_assert_true(cw_store_room_add(st, a, "#keyed%irc.example.net@irc.localhost", "alice", "alice-chan-Secret", &error));
    g_assert_true(cw_store_room_add(st, b, "#open%irc.example.net@irc.localhost", "bob", NULL, &error));
    g_assert_no_error(error);
    cw_store_close(st);
    cw_secrets_free(s);
    return 0;
}
