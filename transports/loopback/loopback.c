/* loopback.c — a diagnostic transport whose "legacy network" echoes: every
 * contact sends back what it receives. It exercises the core end to end
 * (registration, sessions, roster, messages, receipts) without a real network;
 * the test-suite uses it and admins can use it to check a deployment. */
#define G_LOG_DOMAIN "causeway-loopback"
#include <causeway/transport.h>

#define ECHO_ID "echo"

static const CwFormField registration_fields[] = {
    { .var = "username", .label = "Username", .type = CW_FIELD_TEXT_SINGLE, .required = TRUE,
      .legacy_name = "username" },
    { .var = "password", .label = "Password", .type = CW_FIELD_TEXT_PRIVATE, .required = TRUE,
      .legacy_name = "password" },
    { .var = "nick", .label = "Nickname", .type = CW_FIELD_TEXT_SINGLE, .legacy_name = "nick" },
};

static const CwFormSpec registration_form = {
    .title = "Loopback registration",
    .instructions = "Choose any username and password: the loopback network accepts them all.",
    .fields = registration_fields,
    .n_fields = G_N_ELEMENTS(registration_fields),
};

static void
loopback_user_online(CwUser *user)
{
    cw_legacy_contact_add(user, ECHO_ID, "Echo");
    cw_legacy_contact_presence(user, ECHO_ID, CW_SHOW_ONLINE, "I repeat what you say");
}

static void
loopback_user_offline(CwUser *user)
{
    cw_legacy_contact_presence(user, ECHO_ID, CW_SHOW_OFFLINE, NULL);
}

static void
loopback_send_message(CwUser *user, const char *legacy_id, const CwMessage *msg)
{
    if (msg->want_receipt && msg->id)
        cw_legacy_receipt(user, legacy_id, msg->id);
    g_autofree char *echo = g_strdup_printf("echo: %s", msg->body);
    CwMessage reply = { .body = echo };
    cw_legacy_message(user, legacy_id, &reply);
}

static void
loopback_send_chat_state(CwUser *user, const char *legacy_id, CwChatState state)
{
    cw_legacy_chat_state(user, legacy_id, state);
}

static void
loopback_add_contact(CwUser *user, const char *legacy_id)
{
    cw_legacy_contact_presence(user, legacy_id, CW_SHOW_ONLINE, NULL);
}

const CwTransportOps cw_loopback_transport = {
    .type = "loopback",
    .description = "Loopback (echo) test network",
    .disco_type = "loopback",
    .registration_form = &registration_form,
    .requires_registration = TRUE,
    .user_online = loopback_user_online,
    .user_offline = loopback_user_offline,
    .send_message = loopback_send_message,
    .send_chat_state = loopback_send_chat_state,
    .add_contact = loopback_add_contact,
    .gateway_prompt = "Loopback id",
};
