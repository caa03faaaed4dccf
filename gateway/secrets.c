/* secrets.c — key file handling and secretbox encryption of legacy credentials. */
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

struct CwSecrets {
    unsigned char *key; /* KEY_BYTES, sodium_malloc'd, read-only once loaded */
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
    unsigned char *key = sodium_malloc(KEY_BYTES); /* guarded and mlocked */
    if (key == NULL) {
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_IO,
                            "cannot allocate secure memory for the key");
        return NULL;
    }
    if (!secrets_load_or_create(key_path, key, error)) {
        sodium_free(key); /* wipes */
        return NULL;
    }
    sodium_mprotect_readonly(key);
    CwSecrets *secrets = g_new0(CwSecrets, 1);
    secrets->key = key;
    return secrets;
}

void cw_secrets_free(CwSecrets *secrets)
{
    if (secrets == NULL)
        return;
    sodium_free(secrets->key); /* makes it writable, zeroes, unmaps */
    g_free(secrets);
}

char *cw_secrets_encrypt(CwSecrets *secrets, const char *plaintext)
{
    g_return_val_if_fail(secrets != NULL, NULL);
    g_return_val_if_fail(plaintext != NULL, NULL);

    gsize len = strlen(plaintext);
    gsize blen = NONCE_BYTES + MAC_BYTES + len;
    g_autofree unsigned char *box = g_malloc(blen);
    randombytes_buf(box, NONCE_BYTES);
    crypto_secretbox_easy(box + NONCE_BYTES, (const unsigned char *)plaintext, len, box,
                          secrets->key);
    return g_base64_encode(box, blen);
}

char *cw_secrets_decrypt(CwSecrets *secrets, const char *ciphertext, GError **error)
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
        g_set_error_literal(error, CW_SECRETS_ERROR, CW_SECRETS_ERROR_CORRUPT,
                            "encrypted value fails authentication "
                            "(tampered, or encrypted with another key)");
        return NULL;
    }
    plaintext[len] = '\0';
    return plaintext;
}
