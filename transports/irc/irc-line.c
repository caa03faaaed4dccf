/* irc-line.c — IRC line parsing (IRCv3 message tags), building, and the input line splitter. */
#define G_LOG_DOMAIN "causeway-irc"
#include "irc-line.h"

#include <string.h>

/* ---- parsing ------------------------------------------------------------ */

static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

static const char *token_end(const char *p)
{
    return p + strcspn(p, " ");
}

/* Message-tags escaping: \: ; \s space \\ backslash \r CR \n LF. Any other
 * escaped character stands for itself and a lone trailing backslash is
 * dropped, as the spec asks. */
static char *unescape_tag_value(const char *s, gsize len)
{
    GString *out = g_string_sized_new(len);
    for (gsize i = 0; i < len; i++) {
        if (s[i] != '\\') {
            g_string_append_c(out, s[i]);
            continue;
        }
        if (++i == len)
            break;
        switch (s[i]) {
        case ':': g_string_append_c(out, ';'); break;
        case 's': g_string_append_c(out, ' '); break;
        case 'r': g_string_append_c(out, '\r'); break;
        case 'n': g_string_append_c(out, '\n'); break;
        default: g_string_append_c(out, s[i]); break;
        }
    }
    return g_string_free(out, FALSE);
}

static void parse_tags(GHashTable *tags, const char *s, const char *end)
{
    while (s < end) {
        const char *semi = memchr(s, ';', end - s);
        if (!semi)
            semi = end;
        const char *eq = memchr(s, '=', semi - s);
        const char *key_end = eq ? eq : semi;
        if (key_end > s) {
            char *value = eq ? unescape_tag_value(eq + 1, semi - eq - 1) : g_strdup("");
            g_hash_table_replace(tags, g_strndup(s, key_end - s), value);
        }
        if (semi == end)
            break;
        s = semi + 1;
    }
}

static char *dup_nonempty(const char *s, gsize len)
{
    return len ? g_strndup(s, len) : NULL;
}

/* "nick!user@host": nick up to the first '!' or '@'; user after '!' up to
 * '@'; host after '@'. */
static void parse_source(CwIrcLine *line, const char *s, gsize len)
{
    line->source = g_strndup(s, len);
    const char *src = line->source;
    gsize nick_len = strcspn(src, "!@");
    line->nick = dup_nonempty(src, nick_len);
    const char *rest = src + nick_len;
    if (*rest == '!') {
        rest++;
        gsize user_len = strcspn(rest, "@");
        line->user = dup_nonempty(rest, user_len);
        rest += user_len;
    }
    if (*rest == '@')
        line->host = dup_nonempty(rest + 1, strlen(rest + 1));
}

CwIrcLine *cw_irc_line_parse(const char *raw)
{
    if (!raw)
        return NULL;
    g_autoptr(CwIrcLine) line = g_new0(CwIrcLine, 1);
    line->tags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    line->params = g_ptr_array_new_with_free_func(g_free);

    const char *p = skip_spaces(raw);
    if (*p == '@') {
        const char *end = token_end(p);
        parse_tags(line->tags, p + 1, end);
        p = skip_spaces(end);
    }
    if (*p == ':') {
        const char *end = token_end(p);
        if (end > p + 1)
            parse_source(line, p + 1, end - p - 1);
        p = skip_spaces(end);
    }
    if (!*p)
        return NULL;
    const char *end = token_end(p);
    line->command = g_ascii_strup(p, end - p);
    p = end;

    for (;;) {
        p = skip_spaces(p);
        if (!*p)
            break;
        if (*p == ':') {
            g_ptr_array_add(line->params, g_strdup(p + 1));
            break;
        }
        end = token_end(p);
        g_ptr_array_add(line->params, g_strndup(p, end - p));
        p = end;
    }
    return g_steal_pointer(&line);
}

void cw_irc_line_free(CwIrcLine *line)
{
    if (!line)
        return;
    g_clear_pointer(&line->tags, g_hash_table_unref);
    g_free(line->source);
    g_free(line->nick);
    g_free(line->user);
    g_free(line->host);
    g_free(line->command);
    g_clear_pointer(&line->params, g_ptr_array_unref);
    g_free(line);
}

const char *cw_irc_line_param(const CwIrcLine *line, guint i)
{
    g_return_val_if_fail(line != NULL, NULL);
    return i < line->params->len ? g_ptr_array_index(line->params, i) : NULL;
}

const char *cw_irc_line_last_param(const CwIrcLine *line)
{
    g_return_val_if_fail(line != NULL, NULL);
    return line->params->len ? g_ptr_array_index(line->params, line->params->len - 1) : NULL;
}

const char *cw_irc_line_tag(const CwIrcLine *line, const char *key)
{
    g_return_val_if_fail(line != NULL && key != NULL, NULL);
    return g_hash_table_lookup(line->tags, key);
}

int cw_irc_line_numeric(const CwIrcLine *line)
{
    g_return_val_if_fail(line != NULL, -1);
    const char *c = line->command;
    if (!g_ascii_isdigit(c[0]) || !g_ascii_isdigit(c[1]) || !g_ascii_isdigit(c[2]) || c[3])
        return -1;
    return (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
}

/* ---- building ----------------------------------------------------------- */

static gboolean command_is_valid(const char *command)
{
    if (!command || !*command)
        return FALSE;
    for (const char *c = command; *c; c++)
        if (!g_ascii_isalnum(*c))
            return FALSE;
    return TRUE;
}

char *cw_irc_line_buildv(const char *command, const char *const *params)
{
    if (!command_is_valid(command))
        return NULL;
    guint n = params ? g_strv_length((char **)params) : 0;
    if (n > CW_IRC_LINE_MAX_PARAMS)
        return NULL;

    g_autoptr(GString) out = g_string_new(command);
    for (guint i = 0; i < n; i++) {
        const char *param = params[i];
        if (strpbrk(param, "\r\n"))
            return NULL;
        gboolean needs_colon = !*param || strchr(param, ' ') || *param == ':';
        if (needs_colon && i + 1 < n)
            return NULL; /* would split into several parameters or eat the rest */
        g_string_append(out, needs_colon ? " :" : " ");
        g_string_append(out, param);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *cw_irc_line_build(const char *command, ...)
{
    g_autoptr(GPtrArray) params = g_ptr_array_new();
    va_list ap;
    va_start(ap, command);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *))
        g_ptr_array_add(params, (gpointer)p);
    va_end(ap);
    g_ptr_array_add(params, NULL);
    return cw_irc_line_buildv(command, (const char *const *)params->pdata);
}

/* ---- line buffer -------------------------------------------------------- */

struct CwIrcLineBuffer {
    GByteArray
        *partial; /* the unfinished line, at most CW_IRC_LINE_MAX + 1 bytes (room for a CR) */
    GQueue lines; /* GString *, complete lines in arrival order */
    gboolean discarding; /* inside an overlong line: ignore bytes up to the next LF */
    guint dropped;
};

CwIrcLineBuffer *cw_irc_line_buffer_new(void)
{
    CwIrcLineBuffer *buf = g_new0(CwIrcLineBuffer, 1);
    buf->partial = g_byte_array_sized_new(512);
    g_queue_init(&buf->lines);
    return buf;
}

static void free_gstring(gpointer s)
{
    g_string_free(s, TRUE);
}

void cw_irc_line_buffer_free(CwIrcLineBuffer *buf)
{
    if (!buf)
        return;
    g_byte_array_unref(buf->partial);
    g_queue_clear_full(&buf->lines, free_gstring);
    g_free(buf);
}

static void finish_line(CwIrcLineBuffer *buf)
{
    GByteArray *p = buf->partial;
    gsize len = p->len;
    if (len && p->data[len - 1] == '\r')
        len--;
    if (len > CW_IRC_LINE_MAX)
        buf->dropped++;
    else if (len > 0)
        g_queue_push_tail(&buf->lines, g_string_new_len((const char *)p->data, len));
    g_byte_array_set_size(p, 0);
}

void cw_irc_line_buffer_push(CwIrcLineBuffer *buf, const void *data, gsize len)
{
    g_return_if_fail(buf != NULL);
    g_return_if_fail(data != NULL || len == 0);
    const guint8 *p = data;
    const guint8 *end = p + len;
    while (p < end) {
        const guint8 *lf = memchr(p, '\n', end - p);
        gsize n = (lf ? lf : end) - p;
        if (!buf->discarding) {
            if (buf->partial->len + n > CW_IRC_LINE_MAX + 1) {
                buf->discarding = TRUE;
                buf->dropped++;
                g_byte_array_set_size(buf->partial, 0);
            } else {
                g_byte_array_append(buf->partial, p, n);
            }
        }
        if (!lf)
            break;
        if (buf->discarding)
            buf->discarding = FALSE;
        else
            finish_line(buf);
        p = lf + 1;
    }
}

char *cw_irc_line_buffer_next(CwIrcLineBuffer *buf, gsize *len)
{
    g_return_val_if_fail(buf != NULL, NULL);
    GString *line = g_queue_pop_head(&buf->lines);
    if (!line)
        return NULL;
    if (len)
        *len = line->len;
    return g_string_free(line, FALSE);
}

guint cw_irc_line_buffer_take_dropped(CwIrcLineBuffer *buf)
{
    g_return_val_if_fail(buf != NULL, 0);
    guint n = buf->dropped;
    buf->dropped = 0;
    return n;
}

gsize
cw_irc_line_buffer_held(CwIrcLineBuffer *buf)
{
    g_return_val_if_fail(buf != NULL, 0);
    gsize n = buf->partial->len;
    for (GList *l = buf->lines.head; l; l = l->next)
        n += ((GString *)l->data)->len;
    return n;
}

#define LOG_ESCAPE_MAX 512

char *
cw_irc_log_escape(const char *text)
{
    if (!text)
        return g_strdup("(null)");
    GString *out = g_string_new(NULL);
    const char *p = text;
    while (*p && (gsize)(p - text) < LOG_ESCAPE_MAX) {
        guchar c = (guchar)*p;
        if (c >= 0x80) {
            const char *next = g_utf8_find_next_char(p, NULL);
            gunichar u = g_utf8_get_char_validated(p, -1);
            if (u != (gunichar)-1 && u != (gunichar)-2 && !g_unichar_iscntrl(u) && next) {
                g_string_append_len(out, p, next - p);
                p = next;
                continue;
            }
            g_string_append_printf(out, "\\x%02x", c);
        } else if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", c);
        } else if (c == '\\') {
            g_string_append(out, "\\\\");
        } else {
            g_string_append_c(out, (char)c);
        }
        p++;
    }
    if (*p)
        g_string_append(out, "...");
    return g_string_free(out, FALSE);
}
