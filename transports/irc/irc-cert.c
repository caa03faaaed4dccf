/* irc-cert.c — IRC client certificates from the user's store: check, load, generate (GnuTLS). */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-cert.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

void cw_irc_cert_free_pem(char *pem)
{
    if (pem == NULL)
        return;
    explicit_bzero(pem, strlen(pem));
    g_free(pem);
}

GTlsCertificate *cw_irc_cert_load(const char *pem, GError **error)
{
    g_return_val_if_fail(pem != NULL, NULL);
    if (strstr(pem, "-----BEGIN") == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "The client certificate must be the PEM text of a certificate and "
                            "its private key (-----BEGIN CERTIFICATE----- ... -----BEGIN PRIVATE "
                            "KEY----- ...), pasted here; file names are not accepted. Or type '"
                            CW_IRC_CERT_GENERATE "' to have one made for you.");
        return NULL;
    }
    g_autoptr(GError) local = NULL;
    g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_pem(pem, -1, &local);
    if (cert == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "The client certificate cannot be read: %s", local->message);
        return NULL;
    }
    g_autoptr(GByteArray) key = NULL;
    g_object_get(cert, "private-key", &key, NULL);
    if (key == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "The client certificate has no private key: paste the certificate "
                            "and its unencrypted private key (-----BEGIN PRIVATE KEY-----) together.");
        return NULL;
    }
    /* our copy of the key, a GByteArray: wipe it */
    explicit_bzero(key->data, key->len);
    return g_steal_pointer(&cert);
}

char *cw_irc_cert_fingerprint(GTlsCertificate *cert)
{
    g_return_val_if_fail(G_IS_TLS_CERTIFICATE(cert), NULL);
    g_autoptr(GByteArray) der = NULL;
    g_object_get(cert, "certificate", &der, NULL);
    return der ? g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len) : NULL;
}

static gboolean gnutls_failed(int rc, const char *what, GError **error)
{
    if (rc >= 0)
        return FALSE;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Generating a certificate failed (%s: %s).",
                what, gnutls_strerror(rc));
    return TRUE;
}

char *cw_irc_cert_generate(const char *cn, GError **error)
{
    g_return_val_if_fail(cn != NULL, NULL);
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t crt_pem = { NULL, 0 }, key_pem = { NULL, 0 };
    char *pem = NULL;
    guchar serial[16];
    time_t now = time(NULL);

    if (gnutls_failed(gnutls_x509_privkey_init(&key), "key", error) ||
        gnutls_failed(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                                   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                      "key", error) ||
        gnutls_failed(gnutls_x509_crt_init(&crt), "certificate", error) ||
        gnutls_failed(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "serial", error))
        goto out;
    serial[0] &= 0x7f; /* a positive INTEGER */
    if (gnutls_failed(gnutls_x509_crt_set_version(crt, 3), "version", error) ||
        gnutls_failed(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), "serial", error) ||
        gnutls_failed(gnutls_x509_crt_set_activation_time(crt, now - 3600), "validity", error) ||
        gnutls_failed(gnutls_x509_crt_set_expiration_time(crt, now + 10 * 365 * 86400L), "validity", error) ||
        gnutls_failed(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                    (unsigned)strlen(cn)), "name", error) ||
        gnutls_failed(gnutls_x509_crt_set_key(crt, key), "key", error) ||
        gnutls_failed(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "constraints", error) ||
        gnutls_failed(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "usage", error) ||
        gnutls_failed(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0), "purpose", error) ||
        gnutls_failed(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "signing", error) ||
        gnutls_failed(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem), "export", error) ||
        gnutls_failed(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                        &key_pem), "export", error))
        goto out;
    pem = g_strdup_printf("%.*s%.*s", (int)crt_pem.size, (const char *)crt_pem.data,
                          (int)key_pem.size, (const char *)key_pem.data);
out:
    if (key_pem.data != NULL) {
        gnutls_memset(key_pem.data, 0, key_pem.size);
        gnutls_free(key_pem.data);
    }
    gnutls_free(crt_pem.data);
    if (crt != NULL)
        gnutls_x509_crt_deinit(crt);
    if (key != NULL)
        gnutls_x509_privkey_deinit(key); /* wipes the key */
    return pem;
}

gboolean cw_irc_cert_check_field(const CwFormField *field, GHashTable *values, GError **error)
{
    const char *v = g_hash_table_lookup(values, field->var);
    g_autofree char *fp_var = g_strconcat(field->var, "_fingerprint", NULL);
    g_autofree char *stripped = g_strstrip(g_strdup(v));
    gboolean remove = g_ascii_strcasecmp(stripped, CW_IRC_CERT_REMOVE) == 0;
    gboolean generate = g_ascii_strcasecmp(stripped, CW_IRC_CERT_GENERATE) == 0;
    explicit_bzero(stripped, strlen(stripped)); /* it may be the private key */
    if (remove) {
        g_hash_table_replace(values, g_strdup(field->var), g_strdup(""));
        g_hash_table_replace(values, g_steal_pointer(&fp_var), g_strdup(""));
        return TRUE;
    }
    char *pem = NULL;
    if (generate) {
        pem = cw_irc_cert_generate("Causeway IRC client", error);
        if (pem == NULL)
            return FALSE;
    } else {
        pem = g_strdup(v);
    }
    g_autoptr(GTlsCertificate) cert = cw_irc_cert_load(pem, error);
    if (cert == NULL) {
        cw_irc_cert_free_pem(pem);
        return FALSE;
    }
    g_hash_table_replace(values, g_steal_pointer(&fp_var), cw_irc_cert_fingerprint(cert));
    g_hash_table_replace(values, g_strdup(field->var), pem); /* the table now owns it */
    return TRUE;
}
