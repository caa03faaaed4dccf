/* mod-register.c — XEP-0077 in-band registration, with XEP-0004 forms and legacy fields. */
#define G_LOG_DOMAIN "causeway"
#include <gio/gio.h>
#include <string.h>

#include "account.h"
#include "dataform.h"
#include "router.h"
#include "stanza.h"

#define NS_REGISTER "jabber:iq:register"

static void
register_get(CwRequest *req)
{
    if (req->to_node) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    CwGateway *gw = req->gw;
    const CwFormSpec *spec = cw_gateway_registration_form(gw);
    xmpp_ctx_t *ctx = cw_gateway_ctx(gw);
    g_autoptr(GHashTable) values = req->user->registered ? cw_account_values(req->user) : NULL;

    xmpp_stanza_t *query = cw_stanza_new(ctx, "query", NS_REGISTER);
    if (values)
        cw_stanza_add_child(query, cw_stanza_new(ctx, "registered", NULL));
    cw_stanza_add_text_child(query, "instructions", NULL,
                             spec->instructions ? spec->instructions
                                                : "Fill in your account details.");
    cw_dataform_add_legacy_fields(query, spec, values);
    cw_stanza_add_child(query, cw_dataform_build(ctx, spec, "form", NS_REGISTER, values));
    cw_request_result(req, query);
}

static void
register_set(CwRequest *req)
{
    if (req->to_node) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    CwUser *user = req->user;
    g_autoptr(GError) error = NULL;

    if (xmpp_stanza_get_child_by_name(req->payload, "remove")) {
        if (!user->registered) {
            cw_request_error(req, "registration-required", "You are not registered.");
            return;
        }
        if (!cw_account_unregister(user, &error)) {
            g_warning("unregistering %s failed: %s", user->jid, error->message);
            cw_request_error(req, "internal-server-error", "Your data could not be removed; try again.");
            return;
        }
        cw_request_result(req, NULL);
        return;
    }

    g_autoptr(GHashTable) values = NULL;
    xmpp_stanza_t *x = cw_dataform_find(req->payload);
    if (x)
        values = cw_dataform_parse_submit(x, NS_REGISTER, &error);
    else
        values = cw_dataform_parse_legacy(req->payload, cw_gateway_registration_form(req->gw));
    if (!values) {
        cw_request_error(req, "bad-request", error->message);
        return;
    }
    if (!cw_account_register(user, values, &error)) {
        const char *condition = cw_error_condition_for(error);
        if (strcmp(condition, "internal-server-error") != 0)
            cw_request_error(req, condition, error->message);
        else {
            g_warning("registration of %s failed: %s", user->jid, error->message);
            cw_request_error(req, "internal-server-error", "Your registration could not be stored; try again.");
        }
        return;
    }
    cw_request_result(req, NULL);
}

static const char *const features[] = { NS_REGISTER, "jabber:x:data", NULL };
static const CwHandler handlers[] = {
    { "iq", "get", NS_REGISTER, register_get },
    { "iq", "set", NS_REGISTER, register_set },
    { 0 },
};
const CwModule cw_mod_register = { "register", features, handlers };
