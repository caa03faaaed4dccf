/* secrets.c — key file handling and bound AEAD encryption of legacy credentials. */
#define G_LOG_DOMAIN "causeway"
#include "secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_BYTES crypto_secretbox_KEYBYTES
#define NONCE_BYTES crypto_secretbox_NONCEBYTES
#define MAC_BYTES crypto_secretbox_MACBYTES

#define AEAD_VERSION 2
#define AEAD_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AEAD_MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
/* crypto_kdf subkey of the key file's key that the AEAD uses. */
#define AEAD_KDF_ID 2
#define AEAD_KDF_CONTEXT "cwsecret" /* crypto_kdf_CONTEXTBYTES (8) characters */

G_STATIC_ASSERT(KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
G_STATIC_ASSERT(KEY_BYTES == crypto_kdf_KEYBYTES);
G_STATIC_ASSERT(sizeof AEAD_KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES);

/* Both keys live in one sodium_malloc'd block: KEY_BYTES of the key file
 * (version 1 secretbox), then KEY_BYTES of the derived AEAD key. */
struct CwSecrets {
    unsigned char *key;      /* 2 * KEY_BYTES, sodium_malloc'd, read-only once loaded */
    unsigned char *aead_key; /* key + KEY_BYTES */
};

G_DEFINE_QUARK(cw-secrets-error-quark, cw_secrets_error)

static void secrets_set_errno(GError **error, const char *what, const char *path, int err)
{
    g_set_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_IO, "%s key file %s: %s", what,
                path, g_strerror(err));
}

/* Read the whole key file (exactly KEY_BYTES) from fd into key. */
static gboolean secrets_load(int fd, const char *path, unsigned char *key, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        secrets_set_errno(error, "reading", path, errno);
        return FALSE;
    }
    if ((st.st_mode & 077) != 0) {
        g_set_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_PERMISSIONS,
                    "key file %s is accessible by group or others (mode %04o); "
                    "fix it with: chmod 600 %s",
                    path, (unsigned)(st.st_mode & 07777), path);
        return FALSE;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != KEY_BYTES) {
        g_set_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                    "key file %s is not a %d-byte regular file", path, KEY_BYTES);
        return FALSE;
    }
    gsize got = 0;
    while (got < KEY_BYTES) {
        ssize_t n = read(fd, key + got, KEY_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            secrets_set_errno(error, "reading", path, errno);
            return FALSE;
        }
        if (n == 0) {
            g_set_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                        "key file %s is shorter than %d bytes", path, KEY_BYTES);
            return FALSE;
        }
        got += (gsize)n;
    }
    return TRUE;
}

static gboolean secrets_write_all(int fd, const unsigned char *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Best effort: make the new directory entry durable. */
static void secrets_sync_dir(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

typedef enum { CREATE_FAILED, CREATE_DONE, CREATE_EXISTS } SecretsCreate;

/* Generate a key into key and publish it at path atomically: a temp file
 * (O_EXCL, 0600) is written and fsynced, then link()ed into place. Unlike
 * rename(), link() never replaces a key that another process created
 * meanwhile (its ciphertexts would become undecryptable): we get EEXIST and
 * the caller loads that key instead. */
static SecretsCreate secrets_create(const char *path, unsigned char *key, GError **error)
{
    g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        secrets_set_errno(error, "creating", path, errno);
        return CREATE_FAILED;
    }
    crypto_secretbox_keygen(key);
    gboolean ok = secrets_write_all(fd, key, KEY_BYTES) && fsync(fd) == 0;
    int err = errno;
    if (close(fd) != 0 && ok) {
        ok = FALSE;
        err = errno;
    }
    SecretsCreate result = CREATE_DONE;
    if (ok && link(tmp, path) != 0) {
        err = errno;
        ok = FALSE;
        if (err == EEXIST)
            result = CREATE_EXISTS;
    }
    unlink(tmp);
    if (result == CREATE_EXISTS)
        return CREATE_EXISTS;
    if (!ok) {
        secrets_set_errno(error, "creating", path, err);
        return CREATE_FAILED;
    }
    secrets_sync_dir(path);
    return CREATE_DONE;
}

/* Fill key from path, creating the key file first if it does not exist. */
static gboolean secrets_load_or_create(const char *path, unsigned char *key, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        switch (secrets_create(path, key, error)) {
        case CREATE_DONE:
            g_info("created key file %s", path);
            return TRUE;
        case CREATE_FAILED:
            return FALSE;
        case CREATE_EXISTS: /* lost a race: use the winner's key */
            fd = open(path, O_RDONLY | O_CLOEXEC);
            break;
        }
    }
    if (fd < 0) {
        secrets_set_errno(error, "opening", path, errno);
        return FALSE;
    }
    gboolean ok = secrets_load(fd, path, key, error);
    close(fd);
    return ok;
}

CwSecrets *cw_secrets_open(const char *key_path, GError **error)
{
    g_return_val_if_fail(key_path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (sodium_init() < 0) {
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_IO,
                            "libsodium failed to initialise");
        return NULL;
    }
    unsigned char *key = sodium_malloc(2 * KEY_BYTES); /* guarded and mlocked */
    if (key == NULL) {
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_IO,
                            "cannot allocate secure memory for the key");
        return NULL;
    }
    if (!secrets_load_or_create(key_path, key, error)) {
        sodium_free(key); /* wipes */
        return NULL;
    }
    crypto_kdf_derive_from_key(key + KEY_BYTES, KEY_BYTES, AEAD_KDF_ID, AEAD_KDF_CONTEXT, key);
    sodium_mprotect_readonly(key);
    CwSecrets *secrets = g_new0(CwSecrets, 1);
    secrets->key = key;
    secrets->aead_key = key + KEY_BYTES;
    return secrets;
}

void cw_secrets_free(CwSecrets *secrets)
{
    if (secrets == NULL)
        return;
    sodium_free(secrets->key); /* makes it writable, zeroes, unmaps */
    g_free(secrets);
}

/* The associated data for binding: the version byte, then each string as a
 * 4-byte big-endian length and its bytes (lengths make the encoding
 * unambiguous: { "ab", "c" } != { "a", "bc" }). */
static GByteArray *secrets_associated_data(guint8 version, const char *const *binding)
{
    GByteArray *ad = g_byte_array_new();
    g_byte_array_append(ad, &version, 1);
    for (const char *const *part = binding; *part != NULL; part++) {
        gsize len = strlen(*part);
        guint8 be[4] = { (guint8)(len >> 24), (guint8)(len >> 16), (guint8)(len >> 8), (guint8)len };
        g_byte_array_append(ad, be, sizeof be);
        g_byte_array_append(ad, (const guint8 *)*part, (guint)len);
    }
    return ad;
}

char *cw_secrets_encrypt(CwSecrets *secrets, const char *plaintext, const char *const *binding)
{
    g_return_val_if_fail(secrets != NULL, NULL);
    g_return_val_if_fail(plaintext != NULL, NULL);
    g_return_val_if_fail(binding != NULL && binding[0] != NULL, NULL);

    gsize len = strlen(plaintext);
    gsize blen = 1 + AEAD_NONCE_BYTES + len + AEAD_MAC_BYTES;
    g_autofree unsigned char *box = g_malloc(blen);
    box[0] = AEAD_VERSION;
    randombytes_buf(box + 1, AEAD_NONCE_BYTES);
    g_autoptr(GByteArray) ad = secrets_associated_data(AEAD_VERSION, binding);
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + 1 + AEAD_NONCE_BYTES, NULL,
                                               (const unsigned char *)plaintext, len, ad->data,
                                               ad->len, NULL, box + 1, secrets->aead_key);
    return g_base64_encode(box, blen);
}

static void secrets_set_corrupt(GError **error)
{
    g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                        "encrypted value fails authentication (tampered, copied from "
                        "another row, or encrypted with another key)");
}

char *cw_secrets_decrypt(CwSecrets *secrets, const char *ciphertext, const char *const *binding,
                         GError **error)
{
    g_return_val_if_fail(secrets != NULL, NULL);
    g_return_val_if_fail(ciphertext != NULL, NULL);
    g_return_val_if_fail(binding != NULL && binding[0] != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    gsize blen = 0;
    g_autofree unsigned char *box = g_base64_decode(ciphertext, &blen);
    if (blen < 1 + AEAD_NONCE_BYTES + AEAD_MAC_BYTES) {
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                            "encrypted value is truncated or not base64");
        return NULL;
    }
    if (box[0] != AEAD_VERSION) {
        g_set_error(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                    "encrypted value has unknown format version %u", box[0]);
        return NULL;
    }
    gsize clen = blen - 1 - AEAD_NONCE_BYTES;
    gsize len = clen - AEAD_MAC_BYTES;
    char *plaintext = g_malloc(len + 1);
    unsigned long long plen = 0;
    g_autoptr(GByteArray) ad = secrets_associated_data(box[0], binding);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plaintext, &plen, NULL,
                                                   box + 1 + AEAD_NONCE_BYTES, clen, ad->data,
                                                   ad->len, box + 1, secrets->aead_key) != 0) {
        g_free(plaintext);
        secrets_set_corrupt(error);
        return NULL;
    }
    plaintext[len] = '\0';
    return plaintext;
}

char *cw_secrets_decrypt_v1(CwSecrets *secrets, const char *ciphertext, GError **error)
{
    g_return_val_if_fail(secrets != NULL, NULL);
    g_return_val_if_fail(ciphertext != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    gsize blen = 0;
    g_autofree unsigned char *box = g_base64_decode(ciphertext, &blen);
    if (blen < NONCE_BYTES + MAC_BYTES) {
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                            "encrypted value is truncated or not base64");
        return NULL;
    }
    gsize len = blen - NONCE_BYTES - MAC_BYTES;
    char *plaintext = g_malloc(len + 1);
    if (crypto_secretbox_open_easy((unsigned char *)plaintext, box + NONCE_BYTES,
                                   blen - NONCE_BYTES, box, secrets->key) != 0) {
        g_free(plaintext);
        secrets_set_corrupt(error);
        return NULL;
    }
    plaintext[len] = '\0';
    return plaintext;
}

void cw_secrets_free_plaintext(char *plaintext)
{
    if (plaintext == NULL)
        return;
    sodium_memzero(plaintext, strlen(plaintext));
    g_free(plaintext);
}
