/* mod-muc-admin.c — XEP-0045 muc#admin (kick, ban) and muc#owner (configuration) IQs on rooms. */
#include "muc.h"
#include "router.h"

#define NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"

static void
admin(CwRequest *req)
{
    g_autofree char *room_id = NULL;
    if (!cw_muc_is_room_request(req, &room_id) || req->to_resource) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    cw_muc_handle_admin(req, room_id);
}

static void
owner(CwRequest *req)
{
    g_autofree char *room_id = NULL;
    if (!cw_muc_is_room_request(req, &room_id) || req->to_resource) {
        cw_request_error(req, "service-unavailable", NULL);
        return;
    }
    cw_muc_handle_owner(req, room_id);
}

static const CwHandler handlers[] = {
    { "iq", "get", NS_MUC_ADMIN, admin },
    { "iq", "set", NS_MUC_ADMIN, admin },
    { "iq", "get", NS_MUC_OWNER, owner },
    { "iq", "set", NS_MUC_OWNER, owner },
    { 0 },
};
const CwModule cw_mod_muc_admin = { "muc-admin", NULL, handlers };
