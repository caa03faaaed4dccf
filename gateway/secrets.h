/* secrets.h — legacy credentials encrypted at rest (libsodium AEAD, bound to their row).
 *
 * One 32-byte key per data directory, kept raw in a key file created with
 * mode 0600 on first start (temp file O_EXCL 0600, fsync, then link() into
 * place, so it appears complete or not at all and never replaces a key another
 * process created meanwhile). A key file with any group/other mode bit is
 * refused (the error names the file and the fix: chmod 600 FILE).
 *
 * Ciphertexts are text: base64(version || nonce || XChaCha20-Poly1305(plaintext)),
 * version 2, a fresh random 24-byte nonce each time (equal plaintexts give
 * different ciphertexts). The key used is derived from the key file's key
 * (crypto_kdf, context "cwsecret"), never the raw key, so no key serves two
 * algorithms. Each ciphertext is bound to a *binding*: a list of strings naming
 * the row it belongs to (e.g. { "user_values", user JID, scope, key }); they are
 * the AEAD's associated data together with the version byte, so a ciphertext
 * copied to another row, user or table fails to decrypt (CORRUPT), as does one
 * whose version byte was changed.
 *
 * Version 1 (schema <= 2 of the store) was base64(nonce || secretbox(plaintext))
 * with the raw key and no binding; cw_secrets_decrypt_v1() still reads it so
 * the store can migrate old rows, and nothing writes it any more.
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

/* Encrypt a NUL-terminated string bound to binding (a NULL-terminated array
 * of at least one string, each encoded with its length, so { "ab", "c" } and
 * { "a", "bc" } differ); returns newly allocated base64 text (g_free).
 * Never fails for valid input. */
char *cw_secrets_encrypt(CwSecrets *secrets, const char *plaintext, const char *const *binding);
/* Decrypt what cw_secrets_encrypt produced with the same binding (g_free
 * the result, or better cw_secrets_free_plaintext, which wipes it). NULL +
 * CW_SECRETS_ERROR_CORRUPT if malformed, tampered, from another key or made
 * for another binding. */
char *cw_secrets_decrypt(CwSecrets *secrets, const char *ciphertext, const char *const *binding,
                         GError **error);
/* Read a version-1 ciphertext (unbound secretbox, from before the binding):
 * for migrations only. Same errors as cw_secrets_decrypt. */
char *cw_secrets_decrypt_v1(CwSecrets *secrets, const char *ciphertext, GError **error);
/* Wipe (sodium_memzero) and g_free a NUL-terminated secret. NULL-safe. */
void cw_secrets_free_plaintext(char *plaintext);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSecrets, cw_secrets_free)

G_END_DECLS
