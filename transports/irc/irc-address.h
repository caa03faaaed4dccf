/* irc-address.h — the IRC transport's legacy ids (biboumi's forms):
 *   "#chan%server"  a channel           "nick%server"  a user
 *   "server"        the server itself    "#chan", "nick" on the default server
 * Pure functions. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    CW_IRC_ADDRESS_INVALID = 0,
    CW_IRC_ADDRESS_CHANNEL,
    CW_IRC_ADDRESS_USER,
    CW_IRC_ADDRESS_SERVER,
} CwIrcAddressKind;

typedef struct {
    CwIrcAddressKind kind;
    char *name;   /* channel or nick; NULL for a server */
    char *server; /* lower-case */
} CwIrcAddress;

/* Parse a legacy id. default_server (may be NULL) completes channels and
 * nicks without "%server"; an id with a dot stays a server (nicks have
 * none); without a default server an id without "%" other than a channel
 * names a server. Names holding spaces,
 * commas, CR, LF, NUL or BEL, and empty parts, are INVALID. */
CwIrcAddress cw_irc_address_parse(const char *legacy_id, const char *default_server);
void cw_irc_address_clear(CwIrcAddress *address);
/* "name%server", or "server" when name is NULL. */
char *cw_irc_address_format(const char *name, const char *server);
/* Does name start with a channel prefix (# & + !)? */
gboolean cw_irc_is_channel_name(const char *name);
/* IRC case folding (rfc1459: A-Z[]\~ -> a-z{}|^) for map keys. */
char *cw_irc_casefold(const char *name);
/* Whether two names are the same under that folding (no allocation); two
 * NULLs are equal, one NULL is not. */
gboolean cw_irc_name_equal(const char *a, const char *b);

G_END_DECLS
