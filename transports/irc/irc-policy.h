/* irc-policy.h — which IRC servers the gateway may connect to, and how many
 * connections it opens: the admin's allowlist (`irc_servers`), the address
 * check for open gateways, and the IRC transport's own limits.
 *
 * The allowlist is a list of host[:port] entries (lower-cased, trailing dots
 * removed) and optionally "*":
 *   - a listed host is trusted as the admin wrote it: its addresses are not
 *     checked (an admin may list an internal server); an entry with a port
 *     allows only that port (the user's per-server port must match), one
 *     without lets the user choose the port (default irc_port);
 *   - "*" also allows every other host, but the connection is made only to
 *     its public addresses, checked after DNS resolution (loopback, RFC 1918,
 *     CGNAT 100.64/10, link-local, ULA fc00::/7, unspecified, multicast,
 *     reserved, and IPv4-mapped/embedded forms of those are refused), unless
 *     the admin sets `irc_allow_private = true`.
 * Without `irc_servers` the list is `default_server` alone; without either
 * the configuration is refused (the admin must say which networks to serve).
 *
 * Host names are compared after cw_irc_policy_normalise_host(): case and a
 * trailing dot never make a different server, for the allowlist and for the
 * per-server connection count alike.
 *
 * Everything here but the connection counter is pure; the functions take no
 * ownership of their arguments unless stated.
 */
#pragma once
#include <gio/gio.h>

G_BEGIN_DECLS

#define CW_IRC_POLICY_ERROR (cw_irc_policy_error_quark())
GQuark cw_irc_policy_error_quark(void);
typedef enum {
    CW_IRC_POLICY_ERROR_NOT_LISTED, /* the host is not in irc_servers (XMPP: not-allowed) */
    CW_IRC_POLICY_ERROR_PORT,       /* listed, but with another port (not-allowed) */
    CW_IRC_POLICY_ERROR_ADDRESS,    /* open gateway: only non-public addresses (not-allowed) */
    CW_IRC_POLICY_ERROR_USER_LIMIT, /* max_servers_per_user (policy-violation) */
    CW_IRC_POLICY_ERROR_SERVER_LIMIT, /* max_connections_per_server (resource-constraint) */
} CwIrcPolicyError;

/* The XMPP error condition for a CW_IRC_POLICY_ERROR (see the codes). */
const char *cw_irc_policy_condition(const GError *error);

typedef struct {
    char *host;    /* normalised */
    guint16 port;  /* 0: any port */
} CwIrcServerEntry;

typedef struct {
    GPtrArray *servers;      /* CwIrcServerEntry*, in the admin's order */
    gboolean open;           /* "*" listed */
    gboolean allow_private;  /* irc_allow_private: open gateways may reach private addresses */
    guint max_servers_per_user;       /* IRC servers one user is connected to at once */
    guint max_connections_per_server; /* sessions of all users to one host */
    guint max_queued_bytes;  /* a user's lines waiting to go out, all their connections together */
    GHashTable *connections; /* normalised host -> GUINT_TO_POINTER(sessions) */
} CwIrcPolicy;

/* Defaults of the limits (documented in conf/causeway.conf and README). */
#define CW_IRC_DEFAULT_MAX_SERVERS_PER_USER 5
#define CW_IRC_DEFAULT_MAX_CONNECTIONS_PER_SERVER 200
#define CW_IRC_DEFAULT_MAX_QUEUED_BYTES (256 * 1024)

CwIrcPolicy *cw_irc_policy_new(void);
void cw_irc_policy_free(CwIrcPolicy *policy); /* NULL-safe */

/* Lower-case, without trailing dots, IPv6 brackets removed; NULL when host
 * is empty or holds anything but letters, digits, '.', '-', '_' and ':'. */
char *cw_irc_policy_normalise_host(const char *host);

/* Parse one entry "host", "host:port", "[v6]:port" or a bare IPv6 address.
 * FALSE (and error with a message naming the entry) when malformed. */
gboolean cw_irc_policy_parse_entry(const char *text, char **host, guint16 *port, GError **error);

/* Parse the whole list (entries separated by commas and/or spaces; "*" for
 * an open gateway) into policy->servers / policy->open, replacing them.
 * An empty list is an error. */
gboolean cw_irc_policy_set_servers(CwIrcPolicy *policy, const char *list, GError **error);

/* The listed entry for host (any case, trailing dot), or NULL. */
const CwIrcServerEntry *cw_irc_policy_lookup(const CwIrcPolicy *policy, const char *host);

/* May the gateway connect to host on port? user_port: the port the user
 * configured for it (0: none). On success *port is the port to use (the
 * entry's, else user_port, else default_port) and *check_addresses tells
 * whether the addresses must be checked after resolution (allowed through
 * "*" without irc_allow_private). On refusal the error (NOT_LISTED or PORT)
 * says what is allowed, naming the allowed servers. */
gboolean cw_irc_policy_check_server(const CwIrcPolicy *policy, const char *host, guint16 user_port,
                                    guint16 default_port, guint16 *port, gboolean *check_addresses,
                                    GError **error);

/* What kind of address this is, for open gateways. */
typedef enum {
    CW_IRC_NET_PUBLIC = 0,
    CW_IRC_NET_LOOPBACK,    /* 127/8, ::1 */
    CW_IRC_NET_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fec0::/10 (site-local) */
    CW_IRC_NET_CGNAT,       /* 100.64/10 */
    CW_IRC_NET_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
    CW_IRC_NET_ULA,         /* fc00::/7 */
    CW_IRC_NET_UNSPECIFIED, /* 0.0.0.0/8, :: */
    CW_IRC_NET_MULTICAST,   /* 224/4, ff00::/8 */
    CW_IRC_NET_RESERVED,    /* 240/4 (broadcast too), 192.0.0/24, 198.18/15, ::/96 compat */
} CwIrcNetClass;

/* Classify an address; IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96)
 * and 6to4 (2002::/16) addresses are classified by the IPv4 address inside. */
CwIrcNetClass cw_irc_policy_classify(GInetAddress *address);
/* "loopback", "private", ... for messages. */
const char *cw_irc_policy_class_name(CwIrcNetClass klass);
/* Whether an open gateway may connect to the address. */
gboolean cw_irc_policy_address_allowed(gboolean allow_private, GInetAddress *address);

/* Sessions (connected or reconnecting) of every user to each host: the
 * transport counts one when it creates a session and uncounts it when the
 * session is freed. host is normalised here. */
guint cw_irc_policy_connections(const CwIrcPolicy *policy, const char *host);
void cw_irc_policy_count_connection(CwIrcPolicy *policy, const char *host, gboolean add);

/* May a user who has user_servers sessions open one more to host? FALSE
 * with a USER_LIMIT or SERVER_LIMIT error naming the key
 * (max_servers_per_user or max_connections_per_server) and its value. */
gboolean cw_irc_policy_check_limits(const CwIrcPolicy *policy, const char *host, guint user_servers,
                                    GError **error);

G_END_DECLS
