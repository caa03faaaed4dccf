/* jid.c — JID splitting and building, and XEP-0106 (JID Escaping) of legacy ids. */
#include "causeway/jid.h"

#include <string.h>

/* The XEP-0106 table: the ten characters and their escapes, in lowercase hex
 * as the XEP writes them. */
static const struct {
    char c;
    const char *esc;
} cw_jid_escapes[] = {
    { ' ', "20" },  { '"', "22" }, { '&', "26" }, { '\'', "27" }, { '/', "2f" },
    { ':', "3a" },  { '<', "3c" }, { '>', "3e" }, { '@', "40" },  { '\\', "5c" },
};

/* The character that "\XX" at s names (s points just past the backslash), or
 * 0 when it names none. Lowercase only: nodeprep folds a localpart to
 * lowercase, so a conforming server never hands us "\2F". s[1] is read only
 * when s[0] matched a non-NUL digit, so this never reads past the string. */
static char cw_jid_escaped_char(const char *s)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cw_jid_escapes); i++)
        if (s[0] == cw_jid_escapes[i].esc[0] && s[1] == cw_jid_escapes[i].esc[1])
            return cw_jid_escapes[i].c;
    return 0;
}

static const char *cw_jid_escape_of(char c)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cw_jid_escapes); i++)
        if (c == cw_jid_escapes[i].c)
            return cw_jid_escapes[i].esc;
    return NULL;
}

/* No control characters and no white space (checked as Unicode, so NBSP and
 * U+2028 count too). s must already be valid UTF-8. */
static gboolean cw_jid_part_is_clean(const char *s, gsize len)
{
    for (const char *p = s; p < s + len; p = g_utf8_next_char(p)) {
        gunichar u = g_utf8_get_char(p);
        if (g_unichar_iscntrl(u) || g_unichar_isspace(u))
            return FALSE;
    }
    return TRUE;
}

gboolean cw_jid_split(const char *jid, char **node, char **domain, char **resource)
{
    if (jid == NULL || *jid == '\0' || !g_utf8_validate(jid, -1, NULL))
        return FALSE;

    /* RFC 7622 §3.2: the first '/' starts the resource (which may itself hold
     * '/' and '@'); in what precedes it, the first '@' ends the localpart. */
    const char *slash = strchr(jid, '/');
    gsize bare_len = slash ? (gsize)(slash - jid) : strlen(jid);
    const char *at = memchr(jid, '@', bare_len);

    const char *d = at ? at + 1 : jid;
    gsize node_len = at ? (gsize)(at - jid) : 0;
    gsize dom_len = bare_len - (gsize)(d - jid);
    gsize res_len = slash ? strlen(slash + 1) : 0;

    if (at && node_len == 0)
        return FALSE;
    if (dom_len == 0 || memchr(d, '@', dom_len) != NULL)
        return FALSE;
    if (slash && res_len == 0)
        return FALSE;
    if (node_len > CW_JID_PART_MAX || dom_len > CW_JID_PART_MAX || res_len > CW_JID_PART_MAX)
        return FALSE;
    if (!cw_jid_part_is_clean(jid, node_len) || !cw_jid_part_is_clean(d, dom_len))
        return FALSE;

    if (node)
        *node = at ? g_strndup(jid, node_len) : NULL;
    if (domain)
        *domain = g_ascii_strdown(d, (gssize)dom_len);
    if (resource)
        *resource = slash ? g_strdup(slash + 1) : NULL;
    return TRUE;
}

gboolean cw_jid_is_valid(const char *jid)
{
    return cw_jid_split(jid, NULL, NULL, NULL);
}

char *cw_jid_bare(const char *jid)
{
    g_autofree char *node = NULL;
    g_autofree char *domain = NULL;

    if (!cw_jid_split(jid, &node, &domain, NULL))
        return NULL;
    return cw_jid_make(node, domain, NULL);
}

char *cw_jid_resource(const char *jid)
{
    char *resource = NULL;

    if (!cw_jid_split(jid, NULL, NULL, &resource))
        return NULL;
    return resource;
}

char *cw_jid_make(const char *node, const char *domain, const char *resource)
{
    g_return_val_if_fail(domain != NULL, NULL);

    gboolean has_node = node != NULL && *node != '\0';
    gboolean has_res = resource != NULL && *resource != '\0';
    return g_strconcat(has_node ? node : "", has_node ? "@" : "", domain,
                       has_res ? "/" : "", has_res ? resource : "", NULL);
}

gboolean cw_jid_bare_equal(const char *a, const char *b)
{
    g_autofree char *node_a = NULL, *dom_a = NULL;
    g_autofree char *node_b = NULL, *dom_b = NULL;

    if (!cw_jid_split(a, &node_a, &dom_a, NULL) || !cw_jid_split(b, &node_b, &dom_b, NULL))
        return FALSE;
    if (strcmp(dom_a, dom_b) != 0) /* already lower-cased by cw_jid_split */
        return FALSE;
    if (node_a == NULL || node_b == NULL)
        return node_a == node_b;
    return g_ascii_strcasecmp(node_a, node_b) == 0;
}

char *cw_jid_escape_node(const char *legacy_id)
{
    if (legacy_id == NULL || *legacy_id == '\0' || !g_utf8_validate(legacy_id, -1, NULL))
        return NULL;

    GString *out = g_string_sized_new(strlen(legacy_id) + 8);
    for (const char *p = legacy_id; *p != '\0'; p++) {
        const char *esc = cw_jid_escape_of(*p);
        /* A backslash is escaped only when the two characters after it would
         * read as an escape. Those are hex digits, which are never escaped
         * themselves, so after escaping they still follow it; a backslash
         * left bare is followed by the same non-escape, or by another
         * backslash. Either way cw_jid_unescape_node() reads it back as is. */
        if (esc != NULL && (*p != '\\' || cw_jid_escaped_char(p + 1) != 0)) {
            g_string_append_c(out, '\\');
            g_string_append(out, esc);
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

char *cw_jid_unescape_node(const char *node)
{
    if (node == NULL || !g_utf8_validate(node, -1, NULL))
        return NULL;

    GString *out = g_string_sized_new(strlen(node));
    for (const char *p = node; *p != '\0'; p++) {
        char c = *p == '\\' ? cw_jid_escaped_char(p + 1) : 0;
        if (c != 0) {
            g_string_append_c(out, c);
            p += 2;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}
