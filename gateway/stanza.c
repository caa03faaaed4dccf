/* stanza.c — helpers around libstrophe stanzas, including the one error reply builder. */
#include "stanza.h"

#include <causeway/metrics.h>

#include <string.h>

#include "safetext.h"
#include "user-limits.h"
#include <causeway/core.h>
#include <gio/gio.h>

xmpp_stanza_t *
cw_stanza_new(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *s = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(s, name);
    if (ns)
        xmpp_stanza_set_ns(s, ns);
    return s;
}

xmpp_stanza_t *
cw_stanza_add_child(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    xmpp_stanza_add_child_ex(parent, child, 0);
    return child;
}

xmpp_stanza_t *
cw_stanza_add_text_child(xmpp_stanza_t *parent, const char *name, const char *ns, const char *text)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(parent);
    xmpp_stanza_t *child = cw_stanza_new(ctx, name, ns);
    if (text && *text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx);
        xmpp_stanza_set_text(t, text);
        xmpp_stanza_add_child_ex(child, t, 0);
    }
    return cw_stanza_add_child(parent, child);
}

char *
cw_stanza_child_text(xmpp_stanza_t *stanza, const char *name, const char *ns)
{
    xmpp_stanza_t *c = ns ? xmpp_stanza_get_child_by_name_and_ns(stanza, name, ns)
                          : xmpp_stanza_get_child_by_name(stanza, name);
    if (!c)
        return NULL;
    char *t = xmpp_stanza_get_text(c);
    char *copy = g_strdup(t ? t : "");
    if (t)
        xmpp_free(xmpp_stanza_get_context(stanza), t);
    return copy;
}

xmpp_stanza_t *
cw_stanza_first_element(xmpp_stanza_t *stanza)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            return c;
    return NULL;
}

char *
cw_stanza_to_string(xmpp_stanza_t *stanza)
{
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(stanza, &buf, &len) != 0 || !buf)
        return g_strdup("(unserialisable stanza)");
    char *copy = g_strndup(buf, len);
    xmpp_free(xmpp_stanza_get_context(stanza), buf);
    return copy;
}

void
cw_xml_append_escaped(GString *out, const char *text, gboolean attribute)
{
    cw_text_append_escaped(out, text, attribute);
}

void
cw_xml_append_attr(GString *out, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_c(out, ' ');
    g_string_append(out, name);
    g_string_append(out, "=\"");
    cw_text_append_escaped(out, value, TRUE);
    g_string_append_c(out, '"');
}

/* parent_ns: the namespace in scope, not repeated (libstrophe's parser
 * gives every child its inherited xmlns). */
static void
serialize_node(GString *out, xmpp_stanza_t *stanza, const char *parent_ns)
{
    if (xmpp_stanza_is_text(stanza)) {
        const char *text = xmpp_stanza_get_text_ptr(stanza);
        if (text)
            cw_text_append_escaped(out, text, FALSE);
        return;
    }
    const char *name = xmpp_stanza_get_name(stanza);
    if (!name)
        return;
    const char *ns = xmpp_stanza_get_ns(stanza);
    g_string_append_c(out, '<');
    g_string_append(out, name);
    int count = xmpp_stanza_get_attribute_count(stanza);
    if (count > 0) {
        const char *small[32];
        const char **attrs = count * 2 <= (int)G_N_ELEMENTS(small) ? small : g_new(const char *, count * 2);
        int n = MIN(xmpp_stanza_get_attributes(stanza, attrs, count * 2), count * 2);
        for (int i = 0; i + 1 < n; i += 2) {
            if (parent_ns && strcmp(attrs[i], "xmlns") == 0 && strcmp(attrs[i + 1], parent_ns) == 0)
                continue;
            g_string_append_c(out, ' ');
            g_string_append(out, attrs[i]);
            g_string_append(out, "=\"");
            cw_text_append_escaped(out, attrs[i + 1], TRUE);
            g_string_append_c(out, '"');
        }
        if (attrs != small)
            g_free(attrs);
    }
    xmpp_stanza_t *child = xmpp_stanza_get_children(stanza);
    if (!child) {
        g_string_append(out, "/>");
        return;
    }
    g_string_append_c(out, '>');
    for (; child; child = xmpp_stanza_get_next(child))
        serialize_node(out, child, ns ? ns : parent_ns);
    g_string_append(out, "</");
    g_string_append(out, name);
    g_string_append_c(out, '>');
}

void
cw_stanza_serialize(GString *out, xmpp_stanza_t *stanza)
{
    serialize_node(out, stanza, NULL);
}

static void
swap_addresses(xmpp_stanza_t *reply, xmpp_stanza_t *orig)
{
    const char *from = xmpp_stanza_get_from(orig);
    const char *to = xmpp_stanza_get_to(orig);
    if (from)
        xmpp_stanza_set_to(reply, from);
    if (to)
        xmpp_stanza_set_from(reply, to);
}

xmpp_stanza_t *
cw_iq_result(xmpp_stanza_t *iq)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(iq);
    xmpp_stanza_t *r = cw_stanza_new(ctx, "iq", NULL);
    xmpp_stanza_set_type(r, "result");
    const char *id = xmpp_stanza_get_id(iq);
    if (id)
        xmpp_stanza_set_id(r, id);
    swap_addresses(r, iq);
    return r;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

gsize
cw_short_id(char buf[CW_SHORT_ID_SIZE])
{
    static char prefix[9];
    static guint64 counter;
    if (!prefix[0]) {
        for (int i = 0; i < 8; i++)
            prefix[i] = b64url[g_random_int_range(0, 64)];
    }
    memcpy(buf, prefix, 8);
    gsize n = 8;
    guint64 c = counter++;
    do {
        buf[n++] = b64url[c & 63];
        c >>= 6;
    } while (c);
    buf[n] = '\0';
    return n;
}

xmpp_stanza_t *
cw_iq_new(xmpp_ctx_t *ctx, const char *type, const char *from, const char *to)
{
    static guint64 counter;
    char id[40];
    g_snprintf(id, sizeof id, "cw%" G_GUINT64_FORMAT "-%08x", ++counter, g_random_int());
    xmpp_stanza_t *iq = cw_stanza_new(ctx, "iq", NULL);
    xmpp_stanza_set_type(iq, type);
    xmpp_stanza_set_id(iq, id);
    if (from)
        xmpp_stanza_set_from(iq, from);
    if (to)
        xmpp_stanza_set_to(iq, to);
    return iq;
}

static const struct {
    const char *cond, *type;
} error_conditions[] = {
    { "bad-request", "modify" },          { "conflict", "cancel" },
    { "feature-not-implemented", "cancel" }, { "forbidden", "auth" },
    { "gone", "cancel" },                 { "internal-server-error", "cancel" },
    { "item-not-found", "cancel" },       { "jid-malformed", "modify" },
    { "not-acceptable", "modify" },       { "not-allowed", "cancel" },
    { "not-authorized", "auth" },         { "policy-violation", "modify" },
    { "recipient-unavailable", "wait" },  { "redirect", "modify" },
    { "registration-required", "auth" },  { "remote-server-not-found", "cancel" },
    { "remote-server-timeout", "wait" },  { "resource-constraint", "wait" },
    { "service-unavailable", "cancel" },  { "subscription-required", "auth" },
    { "undefined-condition", "cancel" },  { "unexpected-request", "wait" },
};

static gssize
condition_index(const char *condition)
{
    for (gsize i = 0; condition && i < G_N_ELEMENTS(error_conditions); i++)
        if (strcmp(error_conditions[i].cond, condition) == 0)
            return (gssize)i;
    return -1;
}

const char *
cw_error_type_for(const char *condition)
{
    gssize i = condition_index(condition);
    return i >= 0 ? error_conditions[i].type : "cancel";
}

const char *
cw_error_condition_checked(const char *condition)
{
    return condition_index(condition) >= 0 ? condition : "undefined-condition";
}

void
cw_stanza_count_error(const char *condition)
{
    cw_metrics_count("causeway_errors_sent_total", "Error stanzas the gateway sent, by condition",
                     "condition", cw_error_condition_checked(condition), 1);
}

xmpp_stanza_t *
cw_reply_error(xmpp_stanza_t *stanza, const char *condition, const char *text)
{
    condition = cw_error_condition_checked(condition);
    const char *name = xmpp_stanza_get_name(stanza);
    const char *type = xmpp_stanza_get_type(stanza);
    if (!name || (type && strcmp(type, "error") == 0))
        return NULL;
    if (strcmp(name, "iq") == 0 && type && strcmp(type, "result") == 0)
        return NULL;

    xmpp_ctx_t *ctx = xmpp_stanza_get_context(stanza);
    xmpp_stanza_t *reply = cw_stanza_new(ctx, name, NULL);
    xmpp_stanza_set_type(reply, "error");
    const char *id = xmpp_stanza_get_id(stanza);
    if (id)
        xmpp_stanza_set_id(reply, id);
    swap_addresses(reply, stanza);

    xmpp_stanza_t *error = cw_stanza_add_child(reply, cw_stanza_new(ctx, "error", NULL));
    xmpp_stanza_set_type(error, cw_error_type_for(condition));
    cw_stanza_add_child(error, cw_stanza_new(ctx, condition, CW_NS_STANZAS));
    if (text)
        cw_stanza_add_text_child(error, "text", CW_NS_STANZAS, text);
    cw_stanza_count_error(condition);
    return reply;
}

G_DEFINE_QUARK(cw-condition-error-quark, cw_condition_error)

const char *
cw_condition_name(int code)
{
    static const char *const names[] = {
        [CW_CONDITION_CONFLICT] = "conflict",
        [CW_CONDITION_FORBIDDEN] = "forbidden",
        [CW_CONDITION_NOT_ACCEPTABLE] = "not-acceptable",
        [CW_CONDITION_NOT_ALLOWED] = "not-allowed",
        [CW_CONDITION_ITEM_NOT_FOUND] = "item-not-found",
        [CW_CONDITION_SERVICE_UNAVAILABLE] = "service-unavailable",
        [CW_CONDITION_FEATURE_NOT_IMPLEMENTED] = "feature-not-implemented",
    };
    return code >= 0 && (gsize)code < G_N_ELEMENTS(names) && names[code] ? names[code]
                                                                         : "undefined-condition";
}

const char *
cw_error_condition_for(const GError *error)
{
    if (error->domain == CW_CONDITION_ERROR)
        return cw_condition_name(error->code);
    if (error->domain == G_IO_ERROR)
        return "not-acceptable";
    if (error->domain == CW_LIMITS_ERROR)
        return CW_LIMITS_CONDITION;
    return "internal-server-error";
}
