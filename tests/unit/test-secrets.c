/* test-secrets.c — unit tests for the key file and bound AEAD encryption (secrets.c). */
#include "secrets.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

/* A temp dir holding the key file "key"; removed (with its files) at teardown. */
typedef struct {
    char *dir;
    char *key_path;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("cw-secrets-XXXXXX", &error);
    g_assert_no_error(error);
    f->key_path = g_build_filename(f->dir, "key", NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->key_path);
    g_free(f->dir);
}

/* The binding most tests use: a user_values row. */
#define ROW ((const char *const[]){ "user_values", "alice@example.org", "server:irc", "sasl_password", NULL })

static guint count_files(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    guint n = 0;
    while (dir != NULL && g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

static void test_key_created_0600(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(s);

    struct stat st;
    g_assert_cmpint(g_stat(f->key_path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    g_assert_cmpint(st.st_size, ==, 32);
    g_assert_cmpuint(count_files(f->dir), ==, 1); /* no temp file left behind */
}

static void test_round_trip(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);

    const char *inputs[] = {"hunter2", "", "pässwörd ✓ with spaces", "'; DROP TABLE users; --"};
    for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *c = cw_secrets_encrypt(s, inputs[i], ROW);
        g_assert_nonnull(c);
        if (*inputs[i] != '\0')
            g_assert_null(strstr(c, inputs[i]));
        g_autofree char *p = cw_secrets_decrypt(s, c, ROW, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(p, ==, inputs[i]);
    }
}

static void test_fresh_nonce(Fixture *f, gconstpointer data)
{
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, NULL);
    g_autofree char *a = cw_secrets_encrypt(s, "same", ROW);
    g_autofree char *b = cw_secrets_encrypt(s, "same", ROW);
    g_assert_cmpstr(a, !=, b);
}

static void test_reopen_same_key(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *c = NULL;
    {
        g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
        g_assert_no_error(error);
        c = cw_secrets_encrypt(s, "persisted", ROW);
    }
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);
    g_autofree char *p = cw_secrets_decrypt(s, c, ROW, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p, ==, "persisted");
}

static void test_tampered(Fixture *f, gconstpointer data)
{
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, NULL);
    g_autofree char *c = cw_secrets_encrypt(s, "hunter2", ROW);

    /* Flip one bit in each byte of nonce || box in turn: all must fail. */
    gsize len = 0;
    g_autofree guchar *raw = g_base64_decode(c, &len);
    for (gsize i = 0; i < len; i++) {
        raw[i] ^= 0x01;
        g_autofree char *bad = g_base64_encode(raw, len);
        raw[i] ^= 0x01;
        g_autoptr(GError) error = NULL;
        g_autofree char *p = cw_secrets_decrypt(s, bad, ROW, &error);
        g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
        g_assert_null(p);
    }

    const char *malformed[] = {"", "AAAA", "not base64 at all!", "////"};
    for (gsize i = 0; i < G_N_ELEMENTS(malformed); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *p = cw_secrets_decrypt(s, malformed[i], ROW, &error);
        g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
        g_assert_null(p);
    }

    /* Truncated by one byte. */
    g_autofree char *trunc = g_base64_encode(raw, len - 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *p = cw_secrets_decrypt(s, trunc, ROW, &error);
    g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
    g_assert_null(p);
}

static void test_other_key_fails(Fixture *f, gconstpointer data)
{
    g_autofree char *other_path = g_build_filename(f->dir, "other-key", NULL);
    g_autoptr(CwSecrets) a = cw_secrets_open(f->key_path, NULL);
    g_autoptr(CwSecrets) b = cw_secrets_open(other_path, NULL);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_autofree char *c = cw_secrets_encrypt(a, "hunter2", ROW);
    g_autoptr(GError) error = NULL;
    g_autofree char *p = cw_secrets_decrypt(b, c, ROW, &error);
    g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
    g_assert_null(p);
}

/* A ciphertext only opens under the exact binding it was made for: another
 * user, scope, key or table (a row it was copied to) fails, and so does a
 * binding whose parts split the same bytes differently. */
static void test_bound_to_row(Fixture *f, gconstpointer data)
{
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, NULL);
    g_autofree char *c = cw_secrets_encrypt(s, "hunter2", ROW);
    const char *const *others[] = {
        (const char *const[]){ "user_values", "bob@example.org", "server:irc", "sasl_password", NULL },
        (const char *const[]){ "user_values", "alice@example.org", "server:other", "sasl_password", NULL },
        (const char *const[]){ "user_values", "alice@example.org", "server:irc", "server_password", NULL },
        (const char *const[]){ "rooms", "alice@example.org", "server:irc", "sasl_password", NULL },
        (const char *const[]){ "user_values", "alice@example.org", "server:irc", NULL },
        (const char *const[]){ "user_values", "alice@example.org", "server:irc", "sasl_password", "x", NULL },
        (const char *const[]){ "user_values", "alice@example.orgserver:irc", "", "sasl_password", NULL },
        (const char *const[]){ "user_valuesalice@example.org", "server:irc", "sasl_password", NULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(others); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *p = cw_secrets_decrypt(s, c, others[i], &error);
        g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
        g_assert_null(p);
    }
    g_autoptr(GError) error = NULL;
    g_autofree char *p = cw_secrets_decrypt(s, c, ROW, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p, ==, "hunter2");
}

/* Version 1 (secretbox with the key file's raw key, no binding: what the
 * store wrote before schema 3) is only read by cw_secrets_decrypt_v1, for the
 * migration; cw_secrets_decrypt refuses it, and decrypt_v1 refuses version 2. */
static void test_v1_for_migration_only(Fixture *f, gconstpointer data)
{
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, NULL);
    g_autofree char *raw_key = NULL;
    gsize key_len = 0;
    g_assert_true(g_file_get_contents(f->key_path, &raw_key, &key_len, NULL));
    g_assert_cmpuint(key_len, ==, crypto_secretbox_KEYBYTES);

    /* Exactly what the old cw_secrets_encrypt did. */
    const char *plain = "old-Secret";
    gsize blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + strlen(plain);
    g_autofree guchar *box = g_malloc(blen);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const guchar *)plain, strlen(plain),
                          box, (const guchar *)raw_key);
    g_autofree char *v1 = g_base64_encode(box, blen);

    g_autoptr(GError) error = NULL;
    g_autofree char *p = cw_secrets_decrypt_v1(s, v1, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p, ==, plain);

    g_autofree char *q = cw_secrets_decrypt(s, v1, ROW, &error);
    g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
    g_assert_null(q);
    g_clear_error(&error);

    g_autofree char *v2 = cw_secrets_encrypt(s, plain, ROW);
    g_autofree char *r = cw_secrets_decrypt_v1(s, v2, &error);
    g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
    g_assert_null(r);

    /* Version 2 starts with its version byte; the AEAD does not use the raw
     * key (a derived one), so secretbox and AEAD never share a key. */
    gsize len = 0;
    g_autofree guchar *bytes = g_base64_decode(v2, &len);
    g_assert_cmpuint(len, ==, 1 + 24 + strlen(plain) + 16);
    g_assert_cmpuint(bytes[0], ==, 2);
    g_autofree guchar *out = g_malloc(strlen(plain) + 1);
    unsigned long long out_len = 0;
    guchar ad[1] = { 2 };
    g_assert_cmpint(crypto_aead_xchacha20poly1305_ietf_decrypt(out, &out_len, NULL, bytes + 25,
                                                               len - 25, ad, 1, bytes + 1,
                                                               (const guchar *)raw_key),
                    ==, -1);
}

static void test_loose_mode_refused(Fixture *f, gconstpointer data)
{
    cw_secrets_free(cw_secrets_open(f->key_path, NULL));
    g_autofree char *hint = g_strdup_printf("chmod 600 %s", f->key_path);

    const int modes[] = {0640, 0604, 0620, 0601, 0644};
    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_assert_cmpint(g_chmod(f->key_path, modes[i]), ==, 0);
        g_autoptr(GError) error = NULL;
        g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
        g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_PERMISSIONS);
        g_assert_null(s);
        g_assert_nonnull(strstr(error->message, hint));
    }

    /* The fix the message suggests works. */
    g_assert_cmpint(g_chmod(f->key_path, 0600), ==, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(s);
}

static void test_wrong_size_refused(Fixture *f, gconstpointer data)
{
    const gssize sizes[] = {0, 31, 33};
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *junk = g_malloc0(sizes[i] + 1);
        g_assert_true(g_file_set_contents_full(f->key_path, junk, sizes[i],
                                               G_FILE_SET_CONTENTS_NONE, 0600, NULL));
        g_autoptr(GError) error = NULL;
        g_autoptr(CwSecrets) s = cw_secrets_open(f->key_path, &error);
        g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT);
        g_assert_null(s);
        g_assert_nonnull(strstr(error->message, f->key_path));
    }
}

static void test_missing_dir(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->dir, "nope", "key", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSecrets) s = cw_secrets_open(path, &error);
    g_assert_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_IO);
    g_assert_null(s);
    g_assert_nonnull(strstr(error->message, path));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/secrets/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("key-created-0600", test_key_created_0600);
    ADD("round-trip", test_round_trip);
    ADD("fresh-nonce", test_fresh_nonce);
    ADD("reopen-same-key", test_reopen_same_key);
    ADD("tampered", test_tampered);
    ADD("other-key-fails", test_other_key_fails);
    ADD("bound-to-row", test_bound_to_row);
    ADD("v1-for-migration-only", test_v1_for_migration_only);
    ADD("loose-mode-refused", test_loose_mode_refused);
    ADD("wrong-size-refused", test_wrong_size_refused);
    ADD("missing-dir", test_missing_dir);
#undef ADD
    return g_test_run();
}
