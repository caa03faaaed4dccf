/* sms-commands.c — the admins' ad-hoc commands of the sms transport
 * (sms-commands.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include <causeway/admin.h>
#include <gio/gio.h>

#include "sms-commands.h"

#define PENDING_SHOWN_MAX 100

/* The user (registered or not) a claim belongs to; NULL for a bad JID. */
static void
tell(SmsTransport *t, const char *jid, const char *text)
{
    CwUser *user = cw_gateway_user_for(t->gw, jid);
    if (user)
        cw_legacy_gateway_message(user, text);
}

static gboolean
dedicated_only(SmsTransport *t, char **note)
{
    if (t->cfg->ownership == CW_SMS_OWNERSHIP_DEDICATED)
        return TRUE;
    *note = g_strdup("This gateway shares its numbers (ownership = shared): there are no claims.");
    return FALSE;
}

/* ---- Approve number claims ---- */

void
cw_sms_commands_clear(SmsTransport *t)
{
    g_clear_pointer(&t->approve_options, g_strfreev);
    g_clear_pointer(&t->approve_listing, g_free);
}

static const char *const decisions[] = { "approve", "reject", NULL };

static const CwFormSpec *
approve_form(CwUser *user, GHashTable **values, char **note)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    if (!dedicated_only(t, note))
        return NULL;
    g_autoptr(GPtrArray) pending = cw_sms_claim_list(t->store, CW_SMS_CLAIM_PENDING, NULL);
    if (!pending || pending->len == 0) {
        *note = g_strdup("No number claims are waiting.");
        return NULL;
    }
    cw_sms_commands_clear(t);
    GPtrArray *options = g_ptr_array_new();
    GString *listing = g_string_new(NULL);
    for (guint i = 0; i < pending->len && i < PENDING_SHOWN_MAX; i++) {
        CwSmsClaim *c = pending->pdata[i];
        g_ptr_array_add(options, g_strdup(c->number));
        g_string_append_printf(listing, "%s%s — %s", i ? "\n" : "", c->number, c->jid);
    }
    g_ptr_array_add(options, NULL);
    t->approve_options = (char **)g_ptr_array_free(options, FALSE);
    t->approve_listing = g_string_free(listing, FALSE);
    t->approve_fields[0] = (CwFormField){ .var = "pending", .label = "Waiting",
                                          .type = CW_FIELD_FIXED,
                                          .default_value = t->approve_listing };
    t->approve_fields[1] = (CwFormField){ .var = "claim", .label = "Number", .required = TRUE,
                                          .type = CW_FIELD_LIST_SINGLE,
                                          .options = (const char *const *)t->approve_options,
                                          .default_value = t->approve_options[0] };
    t->approve_fields[2] = (CwFormField){ .var = "decision", .label = "Decision",
                                          .required = TRUE, .type = CW_FIELD_LIST_SINGLE,
                                          .options = decisions, .default_value = "approve" };
    t->approve_spec = (CwFormSpec){ .title = "Approve number claims",
                                    .instructions = "Approve or reject one claim at a time.",
                                    .fields = t->approve_fields, .n_fields = 3 };
    return &t->approve_spec;
}

static gboolean
approve_complete(CwUser *user, GHashTable *values, char **note, GError **error)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    if (!t->approve_options) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND, "Start the command again.");
        return FALSE;
    }
    if (!cw_form_validate(&t->approve_spec, values, error))
        return FALSE;
    const char *number = g_hash_table_lookup(values, "claim");
    gboolean approve = g_strcmp0(g_hash_table_lookup(values, "decision"), "approve") == 0;
    g_autofree char *jid = NULL;
    if (cw_sms_claim_owner(t->store, number, &jid) != CW_SMS_CLAIM_PENDING) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "%s has no pending claim any more.", number);
        return FALSE;
    }
    g_autoptr(GError) serr = NULL;
    if (approve ? !cw_sms_claim_approve(t->store, number, &serr)
                : !cw_sms_claim_release(t->store, jid, &serr)) {
        g_propagate_error(error, g_steal_pointer(&serr));
        return FALSE;
    }
    cw_admin_log(cw_user_jid(user), jid, "%s the claim of %s by %s",
                 approve ? "approved" : "rejected", number, jid);
    g_autofree char *text = approve
        ? g_strdup_printf("Your claim of %s was approved: texts to it reach you here, and you can "
                          "text from it.", number)
        : g_strdup_printf("Your claim of %s was rejected by an administrator; register again "
                          "with another number.", number);
    tell(t, jid, text);
    *note = g_strdup_printf("%s %s for %s.", number, approve ? "approved" : "rejected", jid);
    return TRUE;
}

const CwTransportCommand cw_sms_command_approve = {
    .node = "sms-approve",
    .name = "Approve number claims",
    .admin_only = TRUE,
    .form = approve_form,
    .complete = approve_complete,
};

/* ---- Assign a number ---- */

static const CwFormField assign_fields[] = {
    { .var = "jid", .label = "User (bare JID)", .type = CW_FIELD_JID_SINGLE, .required = TRUE },
    { .var = "number", .label = "Number", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .max_bytes = 64 },
};
static const CwFormSpec assign_spec = {
    .title = "Assign a number",
    .instructions = "The user is registered with the number (or moved to it) at once.",
    .fields = assign_fields,
    .n_fields = G_N_ELEMENTS(assign_fields),
};

static const CwFormSpec *
assign_form(CwUser *user, GHashTable **values, char **note)
{
    return dedicated_only(cw_sms_transport_of_user(user), note) ? &assign_spec : NULL;
}

static gboolean
assign_complete(CwUser *user, GHashTable *values, char **note, GError **error)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    if (!cw_form_validate(&assign_spec, values, error))
        return FALSE;
    const char *jid = g_hash_table_lookup(values, "jid");
    CwUser *target = g_strrstr(jid, "/") ? NULL : cw_gateway_user_for(t->gw, jid);
    if (!target) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_NOT_ACCEPTABLE,
                    "%s is not a bare JID.", jid);
        return FALSE;
    }
    g_autoptr(GHashTable) reg = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(reg, g_strdup("number"), g_strdup(g_hash_table_lookup(values, "number")));
    t->assigning = TRUE;
    gboolean ok = cw_user_register(target, reg, error);
    t->assigning = FALSE;
    if (!ok)
        return FALSE;
    const char *number = g_hash_table_lookup(reg, "number"); /* normalised */
    cw_admin_log(cw_user_jid(user), cw_user_jid(target), "assigned %s to %s", number,
                 cw_user_jid(target));
    g_autofree char *text = g_strdup_printf("An administrator gave you the number %s: texts to it "
                                            "reach you here.", number);
    cw_legacy_gateway_message(target, text);
    *note = g_strdup_printf("%s now belongs to %s.", number, cw_user_jid(target));
    return TRUE;
}

const CwTransportCommand cw_sms_command_assign = {
    .node = "sms-assign",
    .name = "Assign a number",
    .admin_only = TRUE,
    .form = assign_form,
    .complete = assign_complete,
};

/* ---- Revoke a number ---- */

static const CwFormField revoke_fields[] = {
    { .var = "number", .label = "Number", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .max_bytes = 64 },
};
static const CwFormSpec revoke_spec = {
    .title = "Revoke a number",
    .instructions = "The owner keeps their registration but can no longer text from the number; "
                    "texts to it are dropped until somebody claims it.",
    .fields = revoke_fields,
    .n_fields = G_N_ELEMENTS(revoke_fields),
};

static const CwFormSpec *
revoke_form(CwUser *user, GHashTable **values, char **note)
{
    return dedicated_only(cw_sms_transport_of_user(user), note) ? &revoke_spec : NULL;
}

static gboolean
revoke_complete(CwUser *user, GHashTable *values, char **note, GError **error)
{
    SmsTransport *t = cw_sms_transport_of_user(user);
    if (!cw_form_validate(&revoke_spec, values, error))
        return FALSE;
    const char *typed = g_hash_table_lookup(values, "number");
    g_autofree char *number = cw_sms_config_number(t->cfg, typed);
    g_autofree char *jid = NULL;
    if (!number || cw_sms_claim_owner(t->store, number, &jid) == CW_SMS_CLAIM_NONE) {
        g_set_error(error, CW_CONDITION_ERROR, CW_CONDITION_ITEM_NOT_FOUND,
                    "Nobody holds %.40s.", typed);
        return FALSE;
    }
    g_autoptr(GError) serr = NULL;
    if (!cw_sms_claim_release(t->store, jid, &serr)) {
        g_propagate_error(error, g_steal_pointer(&serr));
        return FALSE;
    }
    cw_admin_log(cw_user_jid(user), jid, "revoked %s from %s", number, jid);
    g_autofree char *text = g_strdup_printf("An administrator took the number %s back: you can no "
                                            "longer text from it.", number);
    tell(t, jid, text);
    *note = g_strdup_printf("%s no longer belongs to %s.", number, jid);
    return TRUE;
}

const CwTransportCommand cw_sms_command_revoke = {
    .node = "sms-revoke",
    .name = "Revoke a number",
    .admin_only = TRUE,
    .form = revoke_form,
    .complete = revoke_complete,
};
