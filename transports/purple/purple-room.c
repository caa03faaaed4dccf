/* purple-room.c — room ids, roles, join-failure conditions (purple-room.h). */
#include "purple-room.h"

#include <string.h>

static gboolean
valid_server(const char *s)
{
    if (!*s)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (*p == '@' || *p == '/' || *p == '%' || g_ascii_isspace(*p) || (unsigned char)*p < 0x20)
            return FALSE;
    return TRUE;
}

gboolean
cw_purple_room_id_parse(const char *id, char **room, char **server)
{
    const char *pct = id ? strrchr(id, '%') : NULL;
    if (!pct || pct == id || !valid_server(pct + 1))
        return FALSE;
    if (room)
        *room = g_strndup(id, pct - id);
    if (server)
        *server = g_strdup(pct + 1);
    return TRUE;
}

char *
cw_purple_room_id_format(const char *room, const char *server)
{
    if (!room || !*room || !server || !valid_server(server))
        return NULL;
    return g_strconcat(room, "%", server, NULL);
}

CwRole
cw_purple_room_role(PurpleConvChatBuddyFlags flags)
{
    if (flags & (PURPLE_CBFLAGS_FOUNDER | PURPLE_CBFLAGS_OP | PURPLE_CBFLAGS_HALFOP))
        return CW_ROLE_MODERATOR;
    return CW_ROLE_PARTICIPANT;
}

CwAffiliation
cw_purple_room_affiliation(PurpleConvChatBuddyFlags flags)
{
    if (flags & PURPLE_CBFLAGS_FOUNDER)
        return CW_AFFILIATION_OWNER;
    if (flags & PURPLE_CBFLAGS_OP)
        return CW_AFFILIATION_ADMIN;
    return CW_AFFILIATION_NONE;
}

const char *
cw_purple_room_condition(const char *text)
{
    static const struct {
        const char *word, *condition;
    } map[] = {
        { "conflict", "conflict" },
        { "in use", "conflict" },
        { "not authorized", "not-authorized" },
        { "not-authorized", "not-authorized" },
        { "password", "not-authorized" },
        { "bad channel key", "not-authorized" },
        { "registration required", "registration-required" },
        { "registration-required", "registration-required" },
        { "members", "registration-required" },
        { "invite", "registration-required" },
        { "forbidden", "forbidden" },
        { "banned", "forbidden" },
        { "item not found", "item-not-found" },
        { "item-not-found", "item-not-found" },
        { "no such", "item-not-found" },
        { "not allowed", "not-allowed" },
        { "not-allowed", "not-allowed" },
        { "full", "service-unavailable" },
    };
    if (!text)
        return "service-unavailable";
    g_autofree char *low = g_ascii_strdown(text, -1);
    for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
        if (strstr(low, map[i].word))
            return map[i].condition;
    return "service-unavailable";
}

gboolean
cw_purple_room_kick_text(const char *text, char **actor, char **reason)
{
    *actor = *reason = NULL;
    if (!text)
        return FALSE;
    const char *p;
    const char *who = NULL;
    gsize who_len = 0;
    if (g_str_has_prefix(text, "Kicked by ") || g_str_has_prefix(text, "You have been kicked by ")) {
        who = strstr(text, " by ") + 4;
        who_len = strcspn(who, " :");
        if (who_len == 0)
            return FALSE;
        p = who + who_len;
        if (*p == ':')
            p++;
    } else if (g_str_has_prefix(text, "Kicked")) {
        p = text + strlen("Kicked");
    } else if (g_str_has_prefix(text, "You have been kicked:")) {
        p = text + strlen("You have been kicked:");
    } else {
        return FALSE;
    }
    /* then " (REASON)" to the end */
    if (p[0] != ' ' || p[1] != '(')
        return FALSE;
    p += 2;
    gsize len = strlen(p);
    if (len == 0 || p[len - 1] != ')')
        return FALSE;
    if (who)
        *actor = g_strndup(who, who_len);
    if (len > 1 && strcmp(p, "No reason)") != 0)
        *reason = g_strndup(p, len - 1);
    return TRUE;
}
