/* legacy.c — what the legacy side does (cw_legacy_*), turned into XMPP stanzas for the user. */
#define G_LOG_DOMAIN "causeway"
#include "gateway.h"

#include <string.h>

#include "muc.h"
#include "roster.h"
#include "safetext.h"
#include "stanza.h"
#include "xhtml.h"

#define NS_DELAY "urn:xmpp:delay"
#define NS_RECEIPTS "urn:xmpp:receipts"
#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"

static xmpp_stanza_t *
message_new(CwUser *user, const char *from, const char *type, const char *id)
{
    xmpp_ctx_t *ctx = cw_gateway_ctx(user->gw);
    xmpp_stanza_t *m = cw_stanza_new(ctx, "message", NULL);
    xmpp_stanza_set_type(m, type);
    xmpp_stanza_set_from(m, from);
    /* To the bare JID: the server delivers to the right resources, or stores
     * the message offline. */
    xmpp_stanza_set_to(m, user->jid);
    if (id) {
        xmpp_stanza_set_id(m, id);
    } else {
        char *uuid = xmpp_uuid_gen(ctx);
        xmpp_stanza_set_id(m, uuid);
        xmpp_free(ctx, uuid);
    }
    return m;
}

void
cw_legacy_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    g_return_if_fail(user && legacy_id && msg && msg->body);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    CW_MESSAGE_BOUNDARY(msg);
    g_autofree char *from = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!from) {
        g_warning("dropping a message from an unaddressable legacy id");
        return;
    }
    g_autoptr(xmpp_stanza_t) m = message_new(user, from, "chat", msg->id);
    cw_stanza_add_text_child(m, "body", NULL, msg->body);
    xmpp_stanza_t *html = cw_xhtml_element(cw_gateway_ctx(user->gw), msg->xhtml);
    if (html)
        cw_stanza_add_child(m, html);
    cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(user->gw), "active", NS_CHATSTATES));
    if (msg->timestamp) {
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(msg->timestamp / G_USEC_PER_SEC);
        g_autofree char *stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
        xmpp_stanza_t *d = cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(user->gw), "delay", NS_DELAY));
        xmpp_stanza_set_attribute(d, "from", cw_gateway_domain(user->gw));
        xmpp_stanza_set_attribute(d, "stamp", stamp);
    }
    cw_gateway_send(user->gw, m);
}

void
cw_legacy_gateway_message(CwUser *user, const char *body)
{
    g_return_if_fail(user && body);
    CW_TEXT_BOUNDARY(body, CW_TEXT_MAX_TEXT);
    g_autoptr(xmpp_stanza_t) m = message_new(user, cw_gateway_domain(user->gw), "chat", NULL);
    cw_stanza_add_text_child(m, "body", NULL, body);
    cw_gateway_send(user->gw, m);
}

static const char *const show_names[] = {
    [CW_SHOW_CHAT] = "chat", [CW_SHOW_AWAY] = "away", [CW_SHOW_XA] = "xa", [CW_SHOW_DND] = "dnd",
};

void
cw_legacy_contact_presence(CwUser *user, const char *legacy_id, CwShow show, const char *status)
{
    g_return_if_fail(user && legacy_id);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    CW_TEXT_BOUNDARY(status, CW_TEXT_MAX_TEXT);
    g_autofree char *from = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!from)
        return;
    g_hash_table_replace(user->contact_presence, g_strdup(legacy_id), GINT_TO_POINTER(show));
    g_autoptr(xmpp_stanza_t) p = cw_stanza_new(cw_gateway_ctx(user->gw), "presence", NULL);
    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, user->jid);
    if (show == CW_SHOW_OFFLINE)
        xmpp_stanza_set_type(p, "unavailable");
    else if (show < G_N_ELEMENTS(show_names) && show_names[show])
        cw_stanza_add_text_child(p, "show", NULL, show_names[show]);
    if (status && *status)
        cw_stanza_add_text_child(p, "status", NULL, status);
    cw_gateway_send(user->gw, p);
}

void
cw_legacy_contact_add(CwUser *user, const char *legacy_id, const char *name)
{
    cw_legacy_contact_add_in_group(user, legacy_id, name, NULL);
}

void
cw_legacy_contact_add_in_group(CwUser *user, const char *legacy_id, const char *name,
                               const char *group)
{
    g_return_if_fail(user && legacy_id);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    CW_TEXT_BOUNDARY(name, CW_TEXT_MAX_NAME);
    CW_TEXT_BOUNDARY(group, CW_TEXT_MAX_NAME);
    if (group && !*group)
        group = NULL;
    g_autofree char *jid = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!jid)
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) known = cw_store_contact_list(user->gw->store, user->jid, &error);
    gboolean group_only = FALSE; /* known, with this name: only the group changes */
    for (guint i = 0; known && i < known->len; i++) {
        CwStoredContact *c = known->pdata[i];
        if (g_strcmp0(c->jid, jid) != 0 || g_strcmp0(c->name, name) != 0)
            continue;
        if (g_strcmp0(c->group, group) == 0)
            return; /* already in the roster, as it is */
        group_only = TRUE;
    }
    if (user->registered &&
        (!cw_store_contact_add(user->gw->store, user->jid, jid, legacy_id, name, &error) ||
         !cw_store_contact_set_group(user->gw->store, user->jid, jid, group, &error)))
        g_warning("cannot remember contact %s of %s: %s", jid, user->jid, error->message);
    if (!user->registered)
        cw_limits_note_contact(user, jid, TRUE); /* max_contacts_per_user */
    if (group_only && !cw_roster_can_push(user->gw))
        return; /* a subscription request again would carry no group: noise */
    cw_roster_add(user->gw, user->jid, jid, name, group);
}

void
cw_legacy_contact_remove(CwUser *user, const char *legacy_id)
{
    g_return_if_fail(user && legacy_id);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    g_autofree char *jid = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!jid)
        return;
    g_autoptr(GError) error = NULL;
    if (!cw_store_contact_remove(user->gw->store, user->jid, jid, &error))
        g_warning("cannot forget contact %s of %s: %s", jid, user->jid, error->message);
    g_hash_table_remove(user->contact_presence, legacy_id);
    cw_limits_note_contact(user, jid, FALSE);
    cw_roster_remove(user->gw, user->jid, jid);
}

static const char *const chat_state_names[] = {
    [CW_CHAT_STATE_ACTIVE] = "active",   [CW_CHAT_STATE_COMPOSING] = "composing",
    [CW_CHAT_STATE_PAUSED] = "paused",   [CW_CHAT_STATE_INACTIVE] = "inactive",
    [CW_CHAT_STATE_GONE] = "gone",
};

void
cw_legacy_chat_state(CwUser *user, const char *legacy_id, CwChatState state)
{
    g_return_if_fail(user && legacy_id);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    if (state <= CW_CHAT_STATE_NONE || state >= G_N_ELEMENTS(chat_state_names))
        return;
    g_autofree char *from = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!from)
        return;
    g_autoptr(xmpp_stanza_t) m = message_new(user, from, "chat", NULL);
    cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(user->gw), chat_state_names[state], NS_CHATSTATES));
    cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(user->gw), "no-store", "urn:xmpp:hints"));
    cw_gateway_send(user->gw, m);
}

/* One error message from `from` to the full JID `to`. */
static void
send_error(CwUser *user, const char *from, const char *to, const char *msg_id,
           const char *condition, const char *text)
{
    g_autoptr(xmpp_stanza_t) m = message_new(user, from, "error", msg_id);
    xmpp_stanza_set_to(m, to);
    xmpp_ctx_t *ctx = cw_gateway_ctx(user->gw);
    xmpp_stanza_t *error = cw_stanza_add_child(m, cw_stanza_new(ctx, "error", NULL));
    xmpp_stanza_set_type(error, cw_error_type_for(condition));
    cw_stanza_add_child(error, cw_stanza_new(ctx, condition, CW_NS_STANZAS));
    if (text)
        cw_stanza_add_text_child(error, "text", CW_NS_STANZAS, text);
    cw_gateway_send(user->gw, m);
}

void
cw_legacy_error(CwUser *user, const char *legacy_id, const char *msg_id, const char *condition,
                const char *text)
{
    g_return_if_fail(user && condition);
    condition = cw_error_condition_checked(condition);
    cw_stanza_count_error(condition);
    CW_ID_BOUNDARY(legacy_id); /* one no JID can carry: the error comes from the gateway */
    CW_TEXT_BOUNDARY(msg_id, CW_TEXT_MAX_NAME);
    CW_TEXT_BOUNDARY(text, CW_TEXT_MAX_TEXT);
    g_autofree char *from = legacy_id ? cw_legacy_id_to_jid(user->gw, legacy_id)
                                      : g_strdup(cw_gateway_domain(user->gw));
    if (!from)
        return;
    /* Servers drop type='error' messages to a bare JID (RFC 6121 §8.5.2.1.1):
     * address the resources that sent the failed message. */
    GList *targets = legacy_id ? cw_muc_room_resources(user, legacy_id) : NULL;
    if (!targets)
        targets = g_list_prepend(NULL, user->last_from ? user->last_from : user->jid);
    for (GList *t = targets; t; t = t->next)
        send_error(user, from, t->data, msg_id, condition, text);
    g_list_free(targets);
}

void
cw_legacy_receipt(CwUser *user, const char *legacy_id, const char *msg_id)
{
    g_return_if_fail(user && legacy_id && msg_id);
    CW_ID_BOUNDARY(legacy_id);
    if (!legacy_id)
        return;
    CW_TEXT_BOUNDARY(msg_id, CW_TEXT_MAX_NAME);
    g_autofree char *from = cw_legacy_id_to_jid(user->gw, legacy_id);
    if (!from)
        return;
    g_autoptr(xmpp_stanza_t) m = message_new(user, from, "chat", NULL);
    xmpp_stanza_t *r = cw_stanza_add_child(m, cw_stanza_new(cw_gateway_ctx(user->gw), "received", NS_RECEIPTS));
    xmpp_stanza_set_attribute(r, "id", msg_id);
    cw_gateway_send(user->gw, m);
}

void
cw_legacy_error_to(CwUser *user, const char *legacy_id, const char *to, const char *msg_id,
                   const char *condition, const char *text)
{
    g_return_if_fail(user && legacy_id && condition);
    const char *slash = to ? strchr(to, '/') : NULL;
    gboolean same_user = slash && (gsize)(slash - to) == strlen(user->jid) &&
                         g_ascii_strncasecmp(to, user->jid, slash - to) == 0;
    if (same_user && g_hash_table_contains(user->resources, slash + 1)) {
        condition = cw_error_condition_checked(condition);
        cw_stanza_count_error(condition);
        CW_TEXT_BOUNDARY(msg_id, CW_TEXT_MAX_NAME);
        CW_TEXT_BOUNDARY(text, CW_TEXT_MAX_TEXT);
        CW_ID_BOUNDARY(legacy_id);
        g_autofree char *from = legacy_id ? cw_legacy_id_to_jid(user->gw, legacy_id) : NULL;
        if (from)
            send_error(user, from, to, msg_id, condition, text);
        return;
    }
    /* The resource is gone: an error stanza to it would be dropped by the
     * server (RFC 6121 §8.5.3.2.1), so tell the bare JID in words. */
    CW_TEXT_BOUNDARY(text, CW_TEXT_MAX_TEXT);
    g_autofree char *body = g_strdup_printf("⚠ Not delivered (%s)%s%s", condition,
                                            text ? ": " : "", text ? text : "");
    CwMessage msg = { .body = body };
    cw_legacy_message(user, legacy_id, &msg);
}
