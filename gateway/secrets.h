/* secrets.h — legacy credentials encrypted at rest (libsodium secretbox).
 *
 * One 32-byte key per data directory, kept raw in a key file created with
 * mode 0600 on first start (temp file O_EXCL 0600, fsync, then link() into
 * place, so it appears complete or not at all and never replaces a key another
 * process created meanwhile). A key file with any group/other mode bit is
 * refused (the error names the file and the fix: chmod 600 FILE). Ciphertexts
 * are text: base64(nonce || secretbox(plaintext)), a fresh random nonce each
 * time, so equal plaintexts give different ciphertexts.
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SECRETS_ERROR (cw_secrets_error_quark())
GQuark cw_secrets_error_quark(void);
typedef enum {
    CW_SECRETS_ERROR_IO,          /* key file cannot be read/created */
    CW_SECRETS_ERROR_PERMISSIONS, /* key file readable by group/others */
    CW_SECRETS_ERROR_CORRUPT,     /* key file wrong size, or ciphertext malformed / fails auth */
} CwSecretsError;

typedef struct CwSecrets CwSecrets;

/* Load the key from key_path, creating it (0600, random key) if missing; the
 * directory must exist. Calls sodium_init(). The key is kept in sodium_malloc'd
 * (guard pages, mlocked, read-only) memory. NULL + error on failure:
 * IO (cannot open/create), PERMISSIONS (group/other bits), CORRUPT (not 32 bytes). */
CwSecrets *cw_secrets_open(const char *key_path, GError **error);
void cw_secrets_free(CwSecrets *secrets);   /* NULL-safe; wipes the key */

/* Encrypt a NUL-terminated string; returns newly allocated base64 text (g_free).
 * Never fails for valid input. */
char *cw_secrets_encrypt(CwSecrets *secrets, const char *plaintext);
/* Decrypt what cw_secrets_encrypt produced (g_free the result);
 * NULL + CW_SECRETS_ERROR_CORRUPT if malformed, tampered or from another key. */
char *cw_secrets_decrypt(CwSecrets *secrets, const char *ciphertext, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSecrets, cw_secrets_free)

G_END_DECLS
