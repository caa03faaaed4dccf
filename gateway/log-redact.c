/* log-redact.c — stanza text for the debug log with passwords replaced, by structure. */
#define G_LOG_DOMAIN "causeway"
#include "log-redact.h"

#include <string.h>

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_DATA "jabber:x:data"
#define NS_REGISTER "jabber:iq:register"
#define NS_AUTH "jabber:iq:auth"

/* The input is wrapped in this element so that a fragment of several
 * stanzas (or none) is one document; it is not copied to the output. */
#define WRAPPER "cw-log-redact"

typedef struct {
    char *local;      /* name without prefix */
    char *ns;         /* resolved namespace, NULL if unknown */
    char **xmlns;     /* this element's namespace declarations: prefix, uri, ... ("" = default) */
    gboolean redact;  /* text inside (at any depth) is replaced */
    gboolean field_secret; /* a data form field whose <value/>s are replaced */
} Frame;

typedef struct {
    GString *out;
    GPtrArray *stack; /* Frame*, the wrapper first */
} Redactor;

static void frame_free(gpointer p)
{
    Frame *f = p;
    g_free(f->local);
    g_free(f->ns);
    g_strfreev(f->xmlns);
    g_free(f);
}

/* The namespace bound to prefix ("" for the default) in scope at the top of the stack. */
static const char *redactor_lookup_ns(Redactor *r, const char *prefix)
{
    for (guint i = r->stack->len; i-- > 0;) {
        Frame *f = r->stack->pdata[i];
        for (char **d = f->xmlns; d && d[0]; d += 2)
            if (strcmp(d[0], prefix) == 0)
                return d[1];
    }
    return NULL;
}

static const char *attr(const char **names, const char **values, const char *name)
{
    for (gsize i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return values[i];
    return NULL;
}

static gboolean is_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return TRUE;
    return FALSE;
}

/* Does the text of element (local, ns) hold a secret by itself? */
static gboolean element_is_secret(const char *local, const char *ns)
{
    static const char *const sasl[] = { "auth", "response", "challenge", "success", NULL };
    static const char *const auth[] = { "digest", "token", NULL };
    if (strcmp(local, "password") == 0 || strcmp(local, "handshake") == 0)
        return TRUE;
    if (g_strcmp0(ns, NS_SASL) == 0)
        return is_one_of(local, sasl);
    if (g_strcmp0(ns, NS_AUTH) == 0)
        return is_one_of(local, auth);
    if (g_strcmp0(ns, NS_REGISTER) == 0)
        return strcmp(local, "key") == 0;
    return FALSE;
}

/* Are the values of this data form field possibly secret? All but the ones
 * whose values are public by their type (the options were offered to all)
 * and FORM_TYPE. */
static gboolean field_is_secret(const char **names, const char **values)
{
    static const char *const public_types[] = { "boolean", "list-single", "list-multi", "fixed", NULL };
    if (g_strcmp0(attr(names, values, "var"), "FORM_TYPE") == 0)
        return FALSE;
    return !is_one_of(attr(names, values, "type"), public_types);
}

/* g_markup_escape_text, and CR as a character reference: a raw CR would be
 * read back as LF (XML end-of-line handling), and it has no place in a log
 * line anyway. */
static char *redact_escape(const char *text, gssize len)
{
    g_autofree char *escaped = g_markup_escape_text(text, len);
    if (strchr(escaped, '\r') == NULL)
        return g_steal_pointer(&escaped);
    g_auto(GStrv) parts = g_strsplit(escaped, "\r", -1);
    return g_strjoinv("&#13;", parts);
}

static void on_start(GMarkupParseContext *ctx, const char *name, const char **names,
                     const char **values, gpointer data, GError **error)
{
    Redactor *r = data;
    Frame *parent = r->stack->len ? r->stack->pdata[r->stack->len - 1] : NULL;
    Frame *f = g_new0(Frame, 1);

    g_autoptr(GPtrArray) decl = g_ptr_array_new();
    for (gsize i = 0; names[i]; i++) {
        if (strcmp(names[i], "xmlns") == 0) {
            g_ptr_array_add(decl, g_strdup(""));
            g_ptr_array_add(decl, g_strdup(values[i]));
        } else if (g_str_has_prefix(names[i], "xmlns:")) {
            g_ptr_array_add(decl, g_strdup(names[i] + 6));
            g_ptr_array_add(decl, g_strdup(values[i]));
        }
    }
    g_ptr_array_add(decl, NULL);
    f->xmlns = (char **)g_ptr_array_free(g_steal_pointer(&decl), FALSE);
    g_ptr_array_add(r->stack, f);

    const char *colon = strchr(name, ':');
    g_autofree char *prefix = colon ? g_strndup(name, colon - name) : g_strdup("");
    f->local = g_strdup(colon ? colon + 1 : name);
    f->ns = g_strdup(redactor_lookup_ns(r, prefix));

    f->redact = (parent && parent->redact) || element_is_secret(f->local, f->ns);
    if (g_strcmp0(f->ns, NS_DATA) == 0) {
        if (strcmp(f->local, "field") == 0)
            f->field_secret = field_is_secret(names, values);
        else if (strcmp(f->local, "value") == 0 && parent && parent->field_secret)
            f->redact = TRUE;
    }

    if (r->stack->len == 1)
        return; /* the wrapper */
    g_string_append_printf(r->out, "<%s", name);
    for (gsize i = 0; names[i]; i++) {
        g_autofree char *v = redact_escape(values[i], -1);
        g_string_append_printf(r->out, " %s='%s'", names[i], v);
    }
    g_string_append_c(r->out, '>');
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer data, GError **error)
{
    Redactor *r = data;
    if (r->stack->len <= 1) { /* the text closed our wrapper: what follows would escape it */
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_PARSE, "wrapper closed");
        return;
    }
    g_string_append_printf(r->out, "</%s>", name);
    g_ptr_array_set_size(r->stack, r->stack->len - 1);
}

static gboolean is_blank(const char *text, gsize len)
{
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isspace(text[i]))
            return FALSE;
    return TRUE;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                    GError **error)
{
    Redactor *r = data;
    Frame *top = r->stack->pdata[r->stack->len - 1];
    gboolean outside = r->stack->len == 1;
    if (len == 0)
        return;
    if (!top->redact && !outside) {
        g_autofree char *escaped = redact_escape(text, (gssize)len);
        g_string_append(r->out, escaped);
        return;
    }
    /* Text outside any stanza is the tail of one cut by a write chunk: it
     * may be the end of a password, so it is never shown (white space
     * between stanzas is dropped). Secret text, even blank, is one
     * CW_LOG_REDACTED per run: the parser may hand a run over in pieces
     * (CDATA, comments), and the output must read the same when redacted
     * again. */
    if (outside && is_blank(text, len))
        return;
    if (!g_str_has_suffix(r->out->str, CW_LOG_REDACTED))
        g_string_append(r->out, CW_LOG_REDACTED);
}

/* <?xml ...?> and our own CW_LOG_CUT are kept; other comments and
 * processing instructions are dropped. */
static void on_passthrough(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                           GError **error)
{
    Redactor *r = data;
    if ((len >= 5 && strncmp(text, "<?xml", 5) == 0) ||
        (len == strlen(CW_LOG_CUT) && memcmp(text, CW_LOG_CUT, len) == 0))
        g_string_append_len(r->out, text, (gssize)len);
}

/* Does s end with '>' once trailing white space is dropped (or is it blank)? */
static gboolean ends_with_gt(const char *s)
{
    gsize len = strlen(s);
    while (len > 0 && g_ascii_isspace(s[len - 1]))
        len--;
    return len == 0 || s[len - 1] == '>';
}

char *cw_log_redact_xml(const char *text)
{
    g_return_val_if_fail(text != NULL, NULL);
    static const GMarkupParser parser = {
        .start_element = on_start,
        .end_element = on_end,
        .text = on_text,
        .passthrough = on_passthrough,
    };
    Redactor r = { g_string_new(NULL), g_ptr_array_new_with_free_func(frame_free) };
    GMarkupParseContext *ctx =
        g_markup_parse_context_new(&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &r, NULL);
    /* The wrapper is never closed, so end_parse always reports the end as
     * unexpected: that is the cut-off case, accepted. Any error while
     * parsing (a close tag without its open tag, a malformed tag) fails. */
    gboolean ok = g_markup_parse_context_parse(ctx, "<" WRAPPER ">", -1, NULL) &&
                  g_markup_parse_context_parse(ctx, text, -1, NULL) && r.stack->len >= 1;
    if (ok)
        g_markup_parse_context_end_parse(ctx, NULL);
    g_markup_parse_context_free(ctx);
    g_ptr_array_free(r.stack, TRUE);
    if (!ok) {
        g_string_free(r.out, TRUE);
        return NULL;
    }
    /* GMarkup delivers text only when the next '<' comes: a fragment cut
     * in the middle of text or of a tag ends with data never delivered
     * (input not ending with '>'), or with delivered text whose next tag
     * was cut (output not ending with '>'). Say so rather than show it. */
    gsize out_len = r.out->len;
    if (!ends_with_gt(text) || (out_len > 0 && r.out->str[out_len - 1] != '>'))
        if (!g_str_has_suffix(r.out->str, CW_LOG_CUT))
            g_string_append(r.out, CW_LOG_CUT);
    return g_string_free(r.out, FALSE);
}

/* libstrophe's labels of lines whose rest is stream data (stanzas, or a
 * write chunk that may start or end anywhere in one). */
static const char *const data_labels[] = { "RECV: ", "SENT: ", "QUEUED: ", "Q_CONTENT: ",
                                           "DROPPED: ", NULL };

char *cw_log_redact_line(const char *line)
{
    g_return_val_if_fail(line != NULL, NULL);
    const char *xml = NULL;
    for (const char *const *l = data_labels; *l && !xml; l++)
        if (g_str_has_prefix(line, *l))
            xml = line + strlen(*l);
    if (xml == NULL) {
        const char *lt = strchr(line, '<');
        if (lt == NULL)
            return g_strdup(line);
        /* The prefix is a label ending in ": " ("SM error: Stanza received
         * was: "); text after it, before the '<', is part of the data. */
        xml = line;
        for (const char *c = line; c + 1 < lt; c++)
            if (c[0] == ':' && c[1] == ' ')
                xml = c + 2;
    }
    g_autofree char *redacted = cw_log_redact_xml(xml);
    if (redacted == NULL)
        return g_strdup_printf("%.*s(%zu bytes of XML not logged: they do not parse, so they "
                               "cannot be checked for passwords)",
                               (int)(xml - line), line, strlen(xml));
    return g_strdup_printf("%.*s%s", (int)(xml - line), line, redacted);
}
