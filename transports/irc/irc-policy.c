/* irc-policy.c — the IRC server allowlist, address classes for open gateways, connection limits. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-policy.h"

#include <string.h>

G_DEFINE_QUARK(causeway-irc-policy-error-quark, cw_irc_policy_error)

const char *
cw_irc_policy_condition(const GError *error)
{
    if (!error || error->domain != CW_IRC_POLICY_ERROR)
        return "internal-server-error";
    switch (error->code) {
    case CW_IRC_POLICY_ERROR_USER_LIMIT:
        return "policy-violation";
    case CW_IRC_POLICY_ERROR_SERVER_LIMIT:
        return "resource-constraint";
    default:
        return "not-allowed";
    }
}

static void
entry_free(gpointer p)
{
    CwIrcServerEntry *e = p;
    g_free(e->host);
    g_free(e);
}

CwIrcPolicy *
cw_irc_policy_new(void)
{
    CwIrcPolicy *p = g_new0(CwIrcPolicy, 1);
    p->servers = g_ptr_array_new_with_free_func(entry_free);
    p->max_servers_per_user = CW_IRC_DEFAULT_MAX_SERVERS_PER_USER;
    p->max_connections_per_server = CW_IRC_DEFAULT_MAX_CONNECTIONS_PER_SERVER;
    p->max_queued_bytes = CW_IRC_DEFAULT_MAX_QUEUED_BYTES;
    p->connections = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return p;
}

void
cw_irc_policy_free(CwIrcPolicy *policy)
{
    if (!policy)
        return;
    g_ptr_array_unref(policy->servers);
    g_hash_table_unref(policy->connections);
    g_free(policy);
}

/* ---- host names and entries ---- */

char *
cw_irc_policy_normalise_host(const char *host)
{
    if (!host)
        return NULL;
    gsize len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    /* "irc.example.net." is the same host as "irc.example.net" (the
     * root label): without this it would pass as another server. */
    while (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 0 || len > 255)
        return NULL;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum(host[i]) && !strchr(".-_:", host[i]))
            return NULL;
    return g_ascii_strdown(host, (gssize)len);
}

gboolean
cw_irc_policy_parse_entry(const char *text, char **host, guint16 *port, GError **error)
{
    g_autofree char *h = NULL;
    const char *port_s = NULL;
    const char *colon = strchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close && close[1] == ':')
            port_s = close + 2;
        else if (close && close[1])
            close = NULL;
        if (close)
            h = g_strndup(text + 1, (gsize)(close - text - 1));
    } else if (colon && !strchr(colon + 1, ':')) {
        h = g_strndup(text, (gsize)(colon - text));
        port_s = colon + 1;
    } else {
        h = g_strdup(text); /* a name, or an IPv6 address without a port */
    }
    guint64 p = 0;
    if (port_s && !g_ascii_string_to_unsigned(port_s, 10, 1, 65535, &p, NULL)) {
        g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED,
                    "'%s' has a bad port; write host or host:port with a port from 1 to 65535", text);
        return FALSE;
    }
    g_autofree char *norm = cw_irc_policy_normalise_host(h);
    if (!norm) {
        g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED,
                    "'%s' is not a host name; write host or host:port, e.g. irc.libera.chat:6697", text);
        return FALSE;
    }
    *host = g_steal_pointer(&norm);
    *port = (guint16)p;
    return TRUE;
}

gboolean
cw_irc_policy_set_servers(CwIrcPolicy *policy, const char *list, GError **error)
{
    g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func(entry_free);
    gboolean open = FALSE;
    g_auto(GStrv) parts = g_strsplit_set(list ? list : "", ", \t", -1);
    for (char **p = parts; *p; p++) {
        if (!**p)
            continue;
        if (strcmp(*p, "*") == 0) {
            open = TRUE;
            continue;
        }
        CwIrcServerEntry *e = g_new0(CwIrcServerEntry, 1);
        if (!cw_irc_policy_parse_entry(*p, &e->host, &e->port, error)) {
            g_free(e);
            return FALSE;
        }
        g_ptr_array_add(servers, e);
    }
    if (!open && servers->len == 0) {
        g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED,
                    "empty; list the IRC servers users may reach (host[:port], comma-separated), "
                    "or * for any public server");
        return FALSE;
    }
    g_ptr_array_unref(policy->servers);
    policy->servers = g_steal_pointer(&servers);
    policy->open = open;
    return TRUE;
}

const CwIrcServerEntry *
cw_irc_policy_lookup(const CwIrcPolicy *policy, const char *host)
{
    g_autofree char *norm = cw_irc_policy_normalise_host(host);
    if (!norm)
        return NULL;
    for (guint i = 0; i < policy->servers->len; i++) {
        const CwIrcServerEntry *e = policy->servers->pdata[i];
        if (strcmp(e->host, norm) == 0)
            return e;
    }
    return NULL;
}

/* "irc.libera.chat:6697, irc.oftc.net" for messages. */
static char *
allowed_list(const CwIrcPolicy *policy)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < policy->servers->len; i++) {
        const CwIrcServerEntry *e = policy->servers->pdata[i];
        if (s->len)
            g_string_append(s, ", ");
        g_string_append(s, e->host);
        if (e->port)
            g_string_append_printf(s, ":%u", e->port);
    }
    return g_string_free(s, FALSE);
}

gboolean
cw_irc_policy_check_server(const CwIrcPolicy *policy, const char *host, guint16 user_port,
                           guint16 default_port, guint16 *port, gboolean *check_addresses,
                           GError **error)
{
    g_autofree char *norm = cw_irc_policy_normalise_host(host);
    const CwIrcServerEntry *e = norm ? cw_irc_policy_lookup(policy, norm) : NULL;
    if (e) {
        if (e->port && user_port && user_port != e->port) {
            g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_PORT,
                        "This gateway connects to %s on port %u only (your setting for it says "
                        "port %u); clear or change the port in the server's Configure command.",
                        e->host, e->port, user_port);
            return FALSE;
        }
        *port = e->port ? e->port : user_port ? user_port : default_port;
        *check_addresses = FALSE;
        return TRUE;
    }
    if (policy->open && norm) {
        *port = user_port ? user_port : default_port;
        *check_addresses = !policy->allow_private;
        return TRUE;
    }
    g_autofree char *list = allowed_list(policy);
    g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_NOT_LISTED,
                "This gateway does not connect to %s; the IRC servers it serves are: %s.",
                norm ? norm : "that server", list);
    return FALSE;
}

/* ---- address classes ---- */

static CwIrcNetClass
classify_v4(const guint8 *b)
{
    if (b[0] == 127)
        return CW_IRC_NET_LOOPBACK;
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
        return CW_IRC_NET_PRIVATE;
    if (b[0] == 100 && (b[1] & 0xc0) == 64)
        return CW_IRC_NET_CGNAT;
    if (b[0] == 169 && b[1] == 254)
        return CW_IRC_NET_LINK_LOCAL;
    if (b[0] == 0)
        return CW_IRC_NET_UNSPECIFIED; /* "this network": 0.0.0.0 reaches the host itself */
    if ((b[0] & 0xf0) == 224)
        return CW_IRC_NET_MULTICAST;
    if ((b[0] & 0xf0) == 240 || (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
        (b[0] == 198 && (b[1] & 0xfe) == 18))
        return CW_IRC_NET_RESERVED;
    return CW_IRC_NET_PUBLIC;
}

CwIrcNetClass
cw_irc_policy_classify(GInetAddress *address)
{
    const guint8 *b = g_inet_address_to_bytes(address);
    if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4)
        return classify_v4(b);
    static const guint8 zero[12] = { 0 };
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const guint8 nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return classify_v4(b + 12);
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: the IPv4 address follows the prefix */
        return classify_v4(b + 2);
    if (memcmp(b, zero, 12) == 0) {
        if (b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0)
            return CW_IRC_NET_UNSPECIFIED;
        if (b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 1)
            return CW_IRC_NET_LOOPBACK;
        return CW_IRC_NET_RESERVED; /* ::a.b.c.d, the deprecated IPv4-compatible form */
    }
    if (b[0] == 0xff)
        return CW_IRC_NET_MULTICAST;
    if ((b[0] & 0xfe) == 0xfc)
        return CW_IRC_NET_ULA;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return CW_IRC_NET_LINK_LOCAL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return CW_IRC_NET_PRIVATE; /* site-local, deprecated but routable inside a site */
    return CW_IRC_NET_PUBLIC;
}

const char *
cw_irc_policy_class_name(CwIrcNetClass klass)
{
    static const char *const names[] = {
        [CW_IRC_NET_PUBLIC] = "public",           [CW_IRC_NET_LOOPBACK] = "loopback",
        [CW_IRC_NET_PRIVATE] = "private",         [CW_IRC_NET_CGNAT] = "carrier-grade NAT",
        [CW_IRC_NET_LINK_LOCAL] = "link-local",   [CW_IRC_NET_ULA] = "unique local",
        [CW_IRC_NET_UNSPECIFIED] = "unspecified", [CW_IRC_NET_MULTICAST] = "multicast",
        [CW_IRC_NET_RESERVED] = "reserved",
    };
    return (guint)klass < G_N_ELEMENTS(names) ? names[klass] : "unknown";
}

gboolean
cw_irc_policy_address_allowed(gboolean allow_private, GInetAddress *address)
{
    CwIrcNetClass c = cw_irc_policy_classify(address);
    if (c == CW_IRC_NET_PUBLIC)
        return TRUE;
    /* Multicast and unspecified are never an IRC server, whatever the admin allows. */
    return allow_private && c != CW_IRC_NET_MULTICAST && c != CW_IRC_NET_UNSPECIFIED;
}

/* ---- connection counts and limits ---- */

guint
cw_irc_policy_connections(const CwIrcPolicy *policy, const char *host)
{
    g_autofree char *norm = cw_irc_policy_normalise_host(host);
    return norm ? GPOINTER_TO_UINT(g_hash_table_lookup(policy->connections, norm)) : 0;
}

void
cw_irc_policy_count_connection(CwIrcPolicy *policy, const char *host, gboolean add)
{
    g_autofree char *norm = cw_irc_policy_normalise_host(host);
    if (!norm)
        return;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(policy->connections, norm));
    if (add)
        g_hash_table_replace(policy->connections, g_steal_pointer(&norm), GUINT_TO_POINTER(n + 1));
    else if (n > 1)
        g_hash_table_replace(policy->connections, g_steal_pointer(&norm), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(policy->connections, norm);
}

gboolean
cw_irc_policy_check_limits(const CwIrcPolicy *policy, const char *host, guint user_servers,
                           GError **error)
{
    if (user_servers >= policy->max_servers_per_user) {
        g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_USER_LIMIT,
                    "You are connected to %u IRC servers, the most this gateway allows per user "
                    "(max_servers_per_user = %u); leave the rooms and conversations of one first.",
                    user_servers, policy->max_servers_per_user);
        return FALSE;
    }
    g_autofree char *norm = cw_irc_policy_normalise_host(host);
    if (cw_irc_policy_connections(policy, host) >= policy->max_connections_per_server) {
        g_set_error(error, CW_IRC_POLICY_ERROR, CW_IRC_POLICY_ERROR_SERVER_LIMIT,
                    "The gateway has %u connections to %s, the most it opens to one IRC server "
                    "(max_connections_per_server = %u); try again later.",
                    cw_irc_policy_connections(policy, host), norm ? norm : host,
                    policy->max_connections_per_server);
        return FALSE;
    }
    return TRUE;
}
