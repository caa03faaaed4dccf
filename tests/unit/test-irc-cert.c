/* test-irc-cert.c — unit tests for IRC client certificates kept in the store (irc-cert.c). */
#include "irc/irc-cert.h"

#include <string.h>

static gboolean is_sha256_hex(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            return FALSE;
    return TRUE;
}

static void test_generate_and_load(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = cw_irc_cert_generate("test", &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    g_assert_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    g_autoptr(GTlsCertificate) cert = cw_irc_cert_load(pem, &error);
    g_assert_no_error(error);
    g_autofree char *fp = cw_irc_cert_fingerprint(cert);
    g_assert_true(is_sha256_hex(fp));

    /* Each generation is a new key. */
    g_autofree char *pem2 = cw_irc_cert_generate("test", &error);
    g_autoptr(GTlsCertificate) cert2 = cw_irc_cert_load(pem2, &error);
    g_assert_no_error(error);
    g_autofree char *fp2 = cw_irc_cert_fingerprint(cert2);
    g_assert_cmpstr(fp, !=, fp2);
}

static void test_refused(void)
{
    g_autoptr(GError) error = NULL;
    /* A file name, even of a real certificate, is never opened. */
    g_autoptr(GTlsCertificate) path = cw_irc_cert_load("/etc/ssl/certs/ca-certificates.crt", &error);
    g_assert_null(path);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "file names are not accepted"));
    g_clear_error(&error);

    g_autofree char *pem = cw_irc_cert_generate("test", &error);
    char *key = strstr(pem, "-----BEGIN PRIVATE KEY-----");
    g_autofree char *cert_only = g_strndup(pem, key - pem);
    g_autoptr(GTlsCertificate) no_key = cw_irc_cert_load(cert_only, &error);
    g_assert_null(no_key);
    g_assert_nonnull(strstr(error->message, "no private key"));
    g_clear_error(&error);

    g_autoptr(GTlsCertificate) junk =
        cw_irc_cert_load("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", &error);
    g_assert_null(junk);
    g_assert_nonnull(strstr(error->message, "cannot be read"));
}

static const CwFormField cert_field = { .var = "client_cert_pem", .type = CW_FIELD_TEXT_MULTI,
                                        .flags = CW_FIELD_WRITE_ONLY,
                                        .check = cw_irc_cert_check_field };

static GHashTable *values_with(const char *cert)
{
    GHashTable *v = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(v, g_strdup("client_cert_pem"), g_strdup(cert));
    return v;
}

static void test_check_field(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) gen = values_with(" Generate\n");
    g_assert_true(cw_irc_cert_check_field(&cert_field, gen, &error));
    g_assert_no_error(error);
    const char *pem = g_hash_table_lookup(gen, "client_cert_pem");
    g_assert_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    const char *fp = g_hash_table_lookup(gen, "client_cert_pem_fingerprint");
    g_assert_true(is_sha256_hex(fp));

    /* Pasting that PEM gives the same fingerprint. */
    g_autoptr(GHashTable) pasted = values_with(pem);
    g_assert_true(cw_irc_cert_check_field(&cert_field, pasted, &error));
    g_assert_cmpstr(g_hash_table_lookup(pasted, "client_cert_pem_fingerprint"), ==, fp);
    g_assert_cmpstr(g_hash_table_lookup(pasted, "client_cert_pem"), ==, pem);

    g_autoptr(GHashTable) removed = values_with("remove");
    g_assert_true(cw_irc_cert_check_field(&cert_field, removed, &error));
    g_assert_cmpstr(g_hash_table_lookup(removed, "client_cert_pem"), ==, "");
    g_assert_cmpstr(g_hash_table_lookup(removed, "client_cert_pem_fingerprint"), ==, "");

    g_autoptr(GHashTable) bad = values_with("/home/bob/.irssi/bob.pem");
    g_assert_false(cw_irc_cert_check_field(&cert_field, bad, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint(g_hash_table_size(bad), ==, 1);
    g_assert_cmpstr(g_hash_table_lookup(bad, "client_cert_pem"), ==, "/home/bob/.irssi/bob.pem");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc-cert/generate-and-load", test_generate_and_load);
    g_test_add_func("/irc-cert/refused", test_refused);
    g_test_add_func("/irc-cert/check-field", test_check_field);
    return g_test_run();
}
