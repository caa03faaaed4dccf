/* sms-transport.c — the sms transport: phone numbers as XMPP contacts
 * through Kannel (DESIGN.md, "SMS via Kannel"; README, "SMS").
 *
 * Who sends from which number: with ownership = dedicated each user claims
 * one of the configured numbers at registration (one number, one JID; with
 * approval = admin an admin approves the claim first); with shared every
 * user sends from the gateway's number (their choice when there are
 * several) and a reply goes to whoever last wrote to that phone.
 *
 * The parts: sms-config (keys), sms-numbers (number sets, national forms),
 * sms-text (coding, splitting), sms-store (claims, outbox, conversations,
 * opt-outs), sms-sender (outbox -> Kannel -> delivery reports), sms-kannel
 * (sendsms client), sms-listener + sms-callback (Kannel's MO and DLR calls),
 * sms-keywords (STOP/START/HELP). This file joins them to the core.
 */
#define G_LOG_DOMAIN "causeway-sms"
#include <causeway/metrics.h>
#include <causeway/jid.h>
#include <causeway/transport.h>
#include <string.h>

#include "sms-admin.h"
#include "sms-keywords.h"
#include "sms-text.h"
#include "sms-commands.h"

#define NS_ADDRESS "http://jabber.org/protocol/address"
#define FORM_NUMBERS_MAX 100       /* numbers offered in a list-single */
#define KNOWN_CONTACTS_MAX 200000  /* roster entries remembered as already pushed */
#define DELAYED_MO_US (60 * G_USEC_PER_SEC) /* older MOs carry a XEP-0203 stamp */

static const char *const features[] = { NS_ADDRESS, NULL };

/* ---- addressing: the JID of a phone is +E164@DOMAIN ---- */

static char *
sms_legacy_to_node(CwGateway *gw, const char *legacy_id)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    char *number = t ? cw_sms_config_number(t->cfg, legacy_id) : NULL;
    /* An alphanumeric sender ("MyBank") keeps its name; it cannot be answered. */
    return number ? number : cw_jid_escape_node(legacy_id);
}

static char *
sms_node_to_legacy(CwGateway *gw, const char *node)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    return t ? cw_sms_config_number(t->cfg, node) : NULL;
}

/* ---- roster: a correspondent appears once, named by the number ---- */

static void
note_contact(SmsTransport *t, CwUser *user, const char *number)
{
    g_autofree char *key = g_strdup_printf("%s\n%s", cw_user_jid(user), number);
    if (g_hash_table_contains(t->known_contacts, key))
        return;
    if (g_hash_table_size(t->known_contacts) >= KNOWN_CONTACTS_MAX)
        g_hash_table_remove_all(t->known_contacts); /* cw_legacy_contact_add is idempotent */
    cw_legacy_contact_add(user, number, number);
    g_hash_table_add(t->known_contacts, g_steal_pointer(&key));
}

static void
forget_contacts(SmsTransport *t, const char *jid)
{
    g_autofree char *prefix = g_strdup_printf("%s\n", jid);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, t->known_contacts);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (g_str_has_prefix(key, prefix))
            g_hash_table_iter_remove(&it);
}

/* ---- registration: claiming a number ---- */

static void
build_registration_form(SmsTransport *t)
{
    g_autofree char *described = cw_sms_number_set_describe(t->cfg->numbers);
    CwFormField *f = &t->reg_fields[0];
    f->var = "number";
    f->legacy_name = "phone";
    f->max_bytes = 64;
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_SHARED) {
        t->reg_options = cw_sms_number_set_first(t->cfg->numbers, FORM_NUMBERS_MAX);
        f->type = CW_FIELD_LIST_SINGLE;
        f->label = "Send from";
        f->options = (const char *const *)t->reg_options;
        f->default_value = t->reg_options[0];
        t->reg_instructions = g_strdup("Register to text phone numbers from this gateway's number: "
                                       "write to +15551234567@ this gateway.");
    } else {
        f->type = CW_FIELD_TEXT_SINGLE;
        f->required = TRUE;
        f->label = "Your number";
        t->reg_desc = g_strdup_printf("One of %s, in international form", described);
        f->desc = t->reg_desc;
        t->reg_instructions = g_strdup_printf(
            "Claim one of this gateway's numbers (%s): texts to it reach you, and you text "
            "from it.%s", described,
            t->cfg->approval_admin ? " An administrator approves each claim." : "");
    }
    t->reg_spec = (CwFormSpec){ .title = "SMS gateway", .instructions = t->reg_instructions,
                                .fields = t->reg_fields, .n_fields = 1 };
}

static const CwFormSpec *
sms_registration_form(CwGateway *gw)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    return t ? &t->reg_spec : NULL;
}

/* Number refused: not-acceptable with the numbers one may choose. */
static gboolean
refuse_number(SmsTransport *t, const char *typed, GError **error)
{
    g_autofree char *described = cw_sms_number_set_describe(t->cfg->numbers);
    g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                "%.40s is not one of this gateway's numbers; choose one of %s", typed ? typed : "",
                described);
    return FALSE;
}

static gboolean
sms_check_registration(CwGateway *gw, const char *user_jid, GHashTable *values, GError **error)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    const char *typed = g_hash_table_lookup(values, "number");
    g_autofree char *number = cw_sms_config_number(t->cfg, typed);
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_SHARED && !typed)
        return TRUE; /* the form's default: the first number */
    if (!number || !cw_sms_number_set_contains(t->cfg->numbers, number))
        return refuse_number(t, typed, error);
    g_hash_table_replace(values, g_strdup("number"), g_strdup(number));
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_SHARED)
        return TRUE;

    g_autofree char *old_number = NULL;
    CwSmsClaimState old = cw_sms_claim_of(t->store, user_jid, &old_number);
    CwSmsClaimState want = t->assigning || !t->cfg->approval_admin ? CW_SMS_CLAIM_ACTIVE
                                                                    : CW_SMS_CLAIM_PENDING;
    g_autoptr(GError) serr = NULL;
    if (!cw_sms_claim_set(t->store, number, user_jid, want, &serr)) {
        if (g_error_matches(serr, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_CONFLICT)) {
            g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_CONFLICT,
                        "%s belongs to another user; choose another number", number);
            return FALSE;
        }
        g_propagate_error(error, g_steal_pointer(&serr));
        return FALSE;
    }
    g_autofree char *now_number = NULL;
    CwSmsClaimState now = cw_sms_claim_of(t->store, user_jid, &now_number);
    if (now == CW_SMS_CLAIM_PENDING && (old != CW_SMS_CLAIM_PENDING || g_strcmp0(old_number, number)))
    {
        g_free(t->announce_jid);
        t->announce_jid = g_strdup(user_jid);
    }
    return TRUE;
}

static void
sms_registered(CwUser *user, gboolean is_new)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    g_autofree char *number = NULL;
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_SHARED) {
        if (is_new)
            cw_legacy_gateway_message(user, "Registered: write to a phone number in international "
                                            "form, e.g. +15551234567@ this gateway.");
        return;
    }
    CwSmsClaimState state = cw_sms_claim_of(t->store, cw_user_jid(user), &number);
    if (state == CW_SMS_CLAIM_PENDING && g_strcmp0(t->announce_jid, cw_user_jid(user)) == 0) {
        g_autofree char *to_user = g_strdup_printf(
            "Your claim of %s is pending: an administrator has been asked to approve it. You will "
            "be told here.", number);
        cw_legacy_gateway_message(user, to_user);
        g_autofree char *to_admins = g_strdup_printf(
            "%s claims %s on %s. Approve or reject it with the ad-hoc command \"Approve number "
            "claims\" (node sms-approve).", cw_user_jid(user), number, cw_gateway_domain(t->gw));
        cw_gateway_notify_admins(t->gw, to_admins);
    } else if (state == CW_SMS_CLAIM_ACTIVE && is_new) {
        g_autofree char *text = g_strdup_printf(
            "Your number is %s: texts to it reach you here; write to +15551234567@%s to text a "
            "phone.", number, cw_gateway_domain(t->gw));
        cw_legacy_gateway_message(user, text);
    }
    g_clear_pointer(&t->announce_jid, g_free);
}

static void
sms_unregistered(CwUser *user)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    const char *jid = cw_user_jid(user);
    g_autoptr(GError) error = NULL;
    if (!cw_sms_claim_release(t->store, jid, &error) ||
        !cw_sms_outbox_remove_user(t->store, jid, &error) ||
        !cw_sms_conversation_forget_user(t->store, jid, &error))
        g_warning("forgetting %s's SMS data failed: %s", jid, error->message);
    forget_contacts(t, jid);
}

/* ---- outgoing (MT) ---- */

/* The number user sends from, or NULL with the condition and text. */
static char *
sending_number(SmsTransport *t, CwUser *user, const char **condition, char **text)
{
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_SHARED) {
        g_autofree char *chosen = cw_user_get_value(user, "", "number");
        if (chosen && cw_sms_number_set_contains(t->cfg->numbers, chosen))
            return g_steal_pointer(&chosen);
        g_auto(GStrv) first = cw_sms_number_set_first(t->cfg->numbers, 1);
        return g_strdup(first[0]);
    }
    char *number = NULL;
    switch (cw_sms_claim_of(t->store, cw_user_jid(user), &number)) {
    case CW_SMS_CLAIM_ACTIVE:
        return number;
    case CW_SMS_CLAIM_PENDING:
        *condition = "forbidden";
        *text = g_strdup_printf("Your claim of %s awaits an administrator's approval; you can "
                                "text once it is approved.", number);
        g_free(number);
        return NULL;
    default:
        *condition = "forbidden";
        *text = g_strdup("You have no number on this gateway (an administrator may have revoked "
                         "it): register again with one.");
        return NULL;
    }
}

static void
sms_send_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    const char *condition = NULL;
    g_autofree char *why = NULL;
    g_autofree char *from = sending_number(t, user, &condition, &why);
    if (!from) {
        cw_legacy_error(user, legacy_id, msg->id, condition, why);
        return;
    }
    if (cw_sms_optout_get(t->store, from, legacy_id)) {
        g_autofree char *text = g_strdup_printf(
            "%s replied STOP to %s: it gets no messages from this number until it texts START.",
            legacy_id, from);
        cw_legacy_error(user, legacy_id, msg->id, "forbidden", text);
        return;
    }
    CwSmsCoding coding;
    g_auto(GStrv) parts = cw_sms_split(msg->body, &coding);
    guint n_parts = g_strv_length(parts);
    if (n_parts > t->cfg->max_parts) {
        g_autofree char *text = g_strdup_printf(
            "This message needs %u SMS; this gateway sends at most %u: shorten it.", n_parts,
            t->cfg->max_parts);
        cw_legacy_error(user, legacy_id, msg->id, "not-acceptable", text);
        return;
    }
    gint64 now = g_get_real_time();
    CwSmsOutgoing out = {
        .jid = cw_user_jid(user), .sender = msg->sender, .xmpp_id = msg->id,
        .want_receipt = msg->want_receipt, .from_number = from, .to_number = legacy_id,
        .body = msg->body, .coding = coding, .parts = (const char *const *)parts,
        .expires = now + t->cfg->expire_after_us,
    };
    g_autoptr(GError) error = NULL;
    if (cw_sms_sender_queue(t->sender, &out, &error) < 0 ||
        !cw_sms_conversation_note(t->store, from, legacy_id, cw_user_jid(user), now, &error)) {
        g_warning("cannot store an SMS of %s: %s", cw_user_jid(user), error->message);
        cw_legacy_error(user, legacy_id, msg->id, "internal-server-error",
                        "The message could not be stored for sending; try again.");
        return;
    }
    note_contact(t, user, legacy_id);
}

/* What became of a message (sms-sender.h): a receipt or an error. */
static gboolean
report(const CwSmsMessage *m, CwSmsOutcome outcome, const char *text, gpointer data)
{
    SmsTransport *t = data;
    if (!m->jid || !*m->jid)
        return TRUE; /* the gateway's own answer to STOP/START/HELP */
    if (!cw_gateway_is_connected(t->gw))
        return FALSE;
    CwUser *user = cw_gateway_user_for(t->gw, m->jid);
    if (!user || !cw_user_is_registered(user))
        return TRUE; /* unregistered since */
    switch (outcome) {
    case CW_SMS_OUTCOME_DELIVERED:
        if (m->want_receipt && m->xmpp_id)
            cw_legacy_receipt(user, m->to_number, m->xmpp_id);
        break;
    case CW_SMS_OUTCOME_FAILED:
        cw_legacy_error_to(user, m->to_number, m->sender, m->xmpp_id, "recipient-unavailable",
                           text ? text : "The SMS could not be delivered.");
        break;
    case CW_SMS_OUTCOME_EXPIRED:
        cw_legacy_error_to(user, m->to_number, m->sender, m->xmpp_id, "remote-server-timeout",
                           "The SMS could not be delivered in time (expire_after); Kannel or the "
                           "phone network did not take it.");
        break;
    }
    return TRUE;
}

/* ---- incoming (MO) ---- */

/* The gateway's own SMS to a phone (the answer to STOP/START/HELP). */
static void
answer_phone(SmsTransport *t, const char *gateway_number, const char *phone, const char *text)
{
    if (!text || !*text)
        return;
    CwSmsCoding coding;
    g_auto(GStrv) parts = cw_sms_split(text, &coding);
    CwSmsOutgoing out = {
        .jid = "", .from_number = gateway_number, .to_number = phone, .body = text,
        .coding = coding, .parts = (const char *const *)parts,
        .expires = g_get_real_time() + t->cfg->expire_after_us,
    };
    g_autoptr(GError) error = NULL;
    if (cw_sms_sender_queue(t->sender, &out, &error) < 0)
        g_warning("cannot queue the answer to %s: %s", phone, error->message);
}

static void
handle_keyword(SmsTransport *t, const char *gateway_number, const char *phone, const char *text)
{
    g_autoptr(GError) error = NULL;
    switch (cw_sms_keyword(text)) {
    case CW_SMS_KEYWORD_STOP:
        if (!cw_sms_optout_set(t->store, gateway_number, phone, TRUE, &error))
            g_warning("cannot record STOP from %s: %s", phone, error->message);
        g_message("%s opted out of messages from %s", phone, gateway_number);
        answer_phone(t, gateway_number, phone, t->cfg->stop_reply);
        break;
    case CW_SMS_KEYWORD_START:
        if (!cw_sms_optout_set(t->store, gateway_number, phone, FALSE, &error))
            g_warning("cannot record START from %s: %s", phone, error->message);
        answer_phone(t, gateway_number, phone, t->cfg->start_reply);
        break;
    case CW_SMS_KEYWORD_HELP:
        answer_phone(t, gateway_number, phone, t->cfg->help_reply);
        break;
    case CW_SMS_KEYWORD_NONE:
        break;
    }
}

static void
deliver(SmsTransport *t, CwUser *user, const char *phone, const CwMessage *msg, gboolean roster)
{
    if (roster && cw_user_is_registered(user))
        note_contact(t, user, phone);
    cw_legacy_message(user, phone, msg);
}

/* The JIDs an MO to gateway_number from phone goes to; empty when nobody
 * owns the number. */
static GPtrArray *
recipients(SmsTransport *t, const char *gateway_number, const char *phone, gboolean *fallback)
{
    *fallback = FALSE;
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_DEDICATED) {
        GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
        char *owner = NULL;
        if (cw_sms_claim_owner(t->store, gateway_number, &owner) == CW_SMS_CLAIM_ACTIVE)
            g_ptr_array_add(to, owner);
        else
            g_free(owner);
        return to;
    }
    gint64 since = g_get_real_time() - t->cfg->reply_window_us;
    GPtrArray *to = cw_sms_conversation_recent(t->store, gateway_number, phone, since, NULL);
    if (to && to->len > 0)
        return to;
    if (!to)
        to = g_ptr_array_new_with_free_func(g_free);
    *fallback = TRUE; /* nobody wrote to this phone lately: the inbox and the admins */
    return to;
}

static CwSmsCallbackAnswer
on_mo(const CwSmsMo *mo, gpointer data)
{
    SmsTransport *t = data;
    if (!cw_gateway_is_connected(t->gw))
        return CW_SMS_CALLBACK_LATER; /* Kannel retries (http-request-retry) */
    g_autofree char *gateway_number = cw_sms_config_number(t->cfg, mo->receiver);
    if (!gateway_number || !cw_sms_number_set_contains(t->cfg->numbers, gateway_number)) {
        t->mo_unknown++;
        g_message("an SMS for %.32s, not one of this gateway's numbers, was dropped (%" G_GUINT64_FORMAT
                  " so far)", mo->receiver, t->mo_unknown);
        return CW_SMS_CALLBACK_TAKEN;
    }
    g_autofree char *number = cw_sms_config_number(t->cfg, mo->sender);
    const char *phone = number ? number : mo->sender;
    if (number)
        handle_keyword(t, gateway_number, number, mo->text);

    gint64 stamp = mo->timestamp * G_USEC_PER_SEC;
    CwMessage msg = {
        .body = mo->text, .id = mo->kannel_id,
        .timestamp = stamp > 0 && g_get_real_time() - stamp > DELAYED_MO_US ? stamp : 0,
    };
    gboolean fallback;
    g_autoptr(GPtrArray) to = recipients(t, gateway_number, phone, &fallback);
    for (guint i = 0; i < to->len; i++) {
        CwUser *user = cw_gateway_user_for(t->gw, to->pdata[i]);
        if (user && cw_user_is_registered(user))
            deliver(t, user, phone, &msg, number != NULL);
    }
    if (fallback) {
        /* Replies nobody asked for: the inbox and every admin (once each). */
        g_autoptr(GHashTable) told = g_hash_table_new(g_str_hash, g_str_equal);
        if (t->cfg->inbox)
            g_hash_table_add(told, t->cfg->inbox);
        for (const char *const *a = cw_gateway_admins(t->gw); a && *a; a++)
            g_hash_table_add(told, (gpointer)*a);
        GHashTableIter it;
        gpointer jid;
        g_hash_table_iter_init(&it, told);
        while (g_hash_table_iter_next(&it, &jid, NULL)) {
            CwUser *user = cw_gateway_user_for(t->gw, jid);
            if (user)
                deliver(t, user, phone, &msg, FALSE);
        }
        if (g_hash_table_size(told) == 0)
            g_message("an SMS from %.32s to %s had nobody to go to (no inbox, no admins)", phone,
                      gateway_number);
    }
    if (to->len == 0 && !fallback) {
        t->mo_unknown++;
        g_message("an SMS for %s, which nobody owns, was dropped (%" G_GUINT64_FORMAT " so far)",
                  gateway_number, t->mo_unknown);
        return CW_SMS_CALLBACK_TAKEN;
    }
    t->mo_taken++;
    return CW_SMS_CALLBACK_TAKEN;
}

static CwSmsCallbackAnswer
on_dlr(const CwSmsDlr *dlr, gpointer data)
{
    SmsTransport *t = data;
    cw_sms_sender_dlr(t->sender, dlr);
    return CW_SMS_CALLBACK_TAKEN;
}

/* ---- life cycle ---- */

static void
transport_free(SmsTransport *t)
{
    cw_sms_listener_free(t->listener);
    cw_sms_sender_free(t->sender);
    cw_sms_kannel_free(t->kannel);
    cw_sms_store_close(t->store);
    cw_sms_config_free(t->cfg);
    g_strfreev(t->reg_options);
    g_free(t->reg_desc);
    g_free(t->reg_instructions);
    cw_sms_commands_clear(t);
    g_hash_table_destroy(t->known_contacts);
    g_free(t->announce_jid);
    g_free(t);
}

static gboolean
sms_configure(CwGateway *gw, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    CwSmsConfig *cfg = cw_sms_config_read(kf, file, group, error);
    if (!cfg)
        return FALSE;
    SmsTransport *t = g_new0(SmsTransport, 1);
    t->gw = gw;
    t->cfg = cfg;
    t->known_contacts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    build_registration_form(t);
    cw_gateway_set_data(gw, t);
    return TRUE;
}

/* The outbox as Prometheus sees it: one indexed count per scrape (once a second). */
static void
collect_metrics(gpointer data)
{
    SmsTransport *t = data;
    if (!t->store)
        return;
    gint64 oldest = 0;
    gint64 depth = cw_sms_outbox_depth(t->store, &oldest);
    cw_metrics_gauge_set("causeway_sms_outbox_messages", "SMS messages waiting in the outbox", NULL,
                         NULL, (double)depth);
    gint64 now = g_get_real_time();
    cw_metrics_gauge_set("causeway_sms_outbox_oldest_age_seconds",
                         "Age of the oldest message in the SMS outbox (0 when empty)", NULL, NULL,
                         depth > 0 && oldest > 0 && oldest < now ? (now - oldest) / 1e6 : 0);
}

static gboolean
sms_init(CwGateway *gw, GError **error)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    g_autofree char *path = cw_gateway_data_file(gw, "sms.db");
    if (!(t->store = cw_sms_store_open(path, error)))
        return FALSE;
    CwSmsKannelConfig kc = {
        .sendsms_url = t->cfg->kannel_url, .username = t->cfg->kannel_username,
        .password = t->cfg->kannel_password, .smsc = t->cfg->kannel_smsc,
        .max_in_flight = t->cfg->max_in_flight, .timeout_s = t->cfg->submit_timeout_s,
        .dlr_mask = 31,
    };
    if (!(t->kannel = cw_sms_kannel_new(&kc, error)))
        return FALSE;
    CwSmsSenderConfig sc = {
        .callback_url = t->cfg->callback_url, .callback_token = t->cfg->callback_token,
        .max_in_flight = t->cfg->max_in_flight, .retry_min_ms = t->cfg->retry_min_ms,
        .retry_max_ms = t->cfg->retry_max_ms, .max_attempts = t->cfg->max_attempts,
        .resend_unconfirmed_us = t->cfg->resend_unconfirmed_us,
    };
    if (!(t->sender = cw_sms_sender_new(t->store, t->kannel, &sc, report, t, error)))
        return FALSE;
    static const CwSmsListenerHandlers handlers = { on_mo, on_dlr };
    if (!(t->listener = cw_sms_listener_new(t->cfg->callback_listen, t->cfg->callback_token,
                                            &handlers, t, error)))
        return FALSE;
    cw_metrics_add_collector(collect_metrics, t);
    gint64 oldest = 0;
    gint64 depth = cw_sms_outbox_depth(t->store, &oldest);
    g_message("SMS: Kannel at %s, callbacks on %s, %" G_GINT64_FORMAT " messages in the outbox",
              t->cfg->kannel_url, t->cfg->callback_listen, depth);
    return TRUE;
}

static void
sms_deinit(CwGateway *gw)
{
    SmsTransport *t = cw_sms_transport_of(gw);
    cw_metrics_remove_collector(collect_metrics, t);
    if (t)
        transport_free(t);
    cw_gateway_set_data(gw, NULL);
}

static void
sms_user_online(CwUser *user)
{
    /* SMS has no session to open: messages flow whether the user is online or not. */
}

static void
sms_user_offline(CwUser *user)
{
}

static gboolean
sms_gateway_command(CwUser *user, const char *text)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    if (g_ascii_strcasecmp(text, "number") != 0)
        return FALSE;
    const char *condition = NULL;
    g_autofree char *why = NULL;
    g_autofree char *number = sending_number(t, user, &condition, &why);
    g_autofree char *reply = number ? g_strdup_printf("You text from %s.", number) : g_steal_pointer(&why);
    cw_legacy_gateway_message(user, reply);
    return TRUE;
}

static const CwTransportCommand *const commands[] = {
    &cw_sms_command_approve, &cw_sms_command_assign, &cw_sms_command_revoke, NULL,
};

const CwTransportOps cw_sms_transport = {
    .type = "sms",
    .description = "SMS (Kannel)",
    .disco_type = "sms",
    .features = features,
    .config_keys = cw_sms_config_keys,
    .configure = sms_configure,
    .init = sms_init,
    .deinit = sms_deinit,
    .registration_form_for = sms_registration_form,
    .check_registration = sms_check_registration,
    .registered = sms_registered,
    .unregistered = sms_unregistered,
    .requires_registration = TRUE,
    .user_online = sms_user_online,
    .user_offline = sms_user_offline,
    .send_message = sms_send_message,
    .legacy_to_node = sms_legacy_to_node,
    .node_to_legacy = sms_node_to_legacy,
    .gateway_prompt = "Phone number",
    .address_help = "Write to a phone number in international form, e.g. +15551234567@ this "
                    "gateway's domain.",
    .multicast = TRUE,
    .vcard_tel = TRUE,
    .commands = commands,
    .gateway_command = sms_gateway_command,
    .commands_help = "  number — which number you text from\n",
    .admin_user_info = cw_sms_admin_user_info,
    .admin_user_delete = cw_sms_admin_user_delete,
    .admin_stats = cw_sms_admin_stats,
};
