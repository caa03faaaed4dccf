/* adhoc.h — XEP-0050 ad-hoc commands offered by the gateway JID (used by disco). */
#pragma once
#include "router.h"

G_BEGIN_DECLS

#define CW_NS_COMMANDS "http://jabber.org/protocol/commands"

/* Who may run a command. */
typedef enum { CW_ADHOC_REGISTERED, CW_ADHOC_ADMIN } CwAdhocWho;

/* One command of the gateway JID (mod-adhoc.c runs the protocol). */
typedef struct CwAdhocCommand CwAdhocCommand;
struct CwAdhocCommand {
    const char *node;
    const char *name;
    CwAdhocWho who;
    /* First step: return the form to fill, or NULL when done in one step
     * (then *note is the result text and *result an optional result form). */
    xmpp_stanza_t *(*execute)(CwRequest *req, char **note, xmpp_stanza_t **result);
    /* Second step with the submitted values: FALSE + error shows the error
     * (the session stays open); TRUE sets *note (may stay NULL) and
     * *result (an optional result form, consumed). */
    gboolean (*complete)(CwRequest *req, GHashTable *values, char **note, xmpp_stanza_t **result,
                         GError **error);
};

/* The administrators' commands (mod-adhoc-admin.c): List users, Show user,
 * Delete user, Disconnect a user, Announce to all online users. */
extern const CwAdhocCommand cw_adhoc_admin_commands[];
extern const gsize cw_adhoc_admin_n_commands;

/* <query xmlns=disco#items node=commands> listing the commands this user may run on req->to. */
xmpp_stanza_t *cw_adhoc_items(CwRequest *req);
/* Is node one of our command nodes? */
gboolean cw_adhoc_is_command_node(CwGateway *gw, const char *node);

G_END_DECLS
