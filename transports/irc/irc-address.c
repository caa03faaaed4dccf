/* irc-address.c — legacy ids of the IRC transport: #chan%server, nick%server, server. */
#include "irc-address.h"

#include <string.h>

gboolean
cw_irc_is_channel_name(const char *name)
{
    return name && (name[0] == '#' || name[0] == '&' || name[0] == '+' || name[0] == '!');
}

static gboolean
valid_name(const char *s)
{
    return s && *s && !strpbrk(s, " ,\r\n\a") && g_utf8_validate(s, -1, NULL);
}

static gboolean
valid_server(const char *s)
{
    if (!s || !*s)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != ':' && *p != '_')
            return FALSE;
    return TRUE;
}

CwIrcAddress
cw_irc_address_parse(const char *legacy_id, const char *default_server)
{
    CwIrcAddress a = { 0 };
    if (!legacy_id || !*legacy_id)
        return a;
    const char *pct = strrchr(legacy_id, '%');
    g_autofree char *name = NULL, *server = NULL;
    if (pct) {
        name = g_strndup(legacy_id, pct - legacy_id);
        server = g_ascii_strdown(pct + 1, -1);
    } else if (cw_irc_is_channel_name(legacy_id) ||
               (default_server && *default_server && !strchr(legacy_id, '.') &&
                g_ascii_strcasecmp(legacy_id, default_server) != 0)) {
        /* A nick never holds a dot (RFC 2812; every ircd refuses one), so
         * with a default server "irc.example.net" still names a server, as
         * does the default server's own name. */
        if (!default_server || !*default_server)
            return a;
        name = g_strdup(legacy_id);
        server = g_ascii_strdown(default_server, -1);
    } else {
        server = g_ascii_strdown(legacy_id, -1);
    }
    if (!valid_server(server) || (name && !valid_name(name)))
        return a;
    a.kind = !name ? CW_IRC_ADDRESS_SERVER
           : cw_irc_is_channel_name(name) ? CW_IRC_ADDRESS_CHANNEL : CW_IRC_ADDRESS_USER;
    a.name = g_steal_pointer(&name);
    a.server = g_steal_pointer(&server);
    return a;
}

void
cw_irc_address_clear(CwIrcAddress *address)
{
    g_clear_pointer(&address->name, g_free);
    g_clear_pointer(&address->server, g_free);
    address->kind = CW_IRC_ADDRESS_INVALID;
}

char *
cw_irc_address_format(const char *name, const char *server)
{
    return name ? g_strdup_printf("%s%%%s", name, server) : g_strdup(server);
}

static char
fold_char(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    switch (c) {
    case '[': return '{';
    case ']': return '}';
    case '\\': return '|';
    case '~': return '^';
    default: return c;
    }
}

char *
cw_irc_casefold(const char *name)
{
    char *s = g_strdup(name);
    for (char *p = s; *p; p++)
        *p = fold_char(*p);
    return s;
}

gboolean
cw_irc_name_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    for (; *a && *b; a++, b++)
        if (fold_char(*a) != fold_char(*b))
            return FALSE;
    return *a == *b;
}
