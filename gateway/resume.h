/* resume.h — after the component reconnects: the users' resources that are
 * not heard from again are gone.
 *
 * While the component was down the XMPP server may have restarted, and with
 * it every client connection: the resources and room occupancies the core
 * remembers may be ghosts. Nothing will tell us so (the server does not
 * replay unavailable presences to a component), so their legacy sessions
 * would stay in IRC channels forever and stanzas would keep going to dead
 * full JIDs. So on every reconnect each known resource becomes "unconfirmed";
 * it is confirmed by any stanza from it other than an error (a client that stayed connected
 * answers the presence probe, or the XMPP ping sent to each one) and the
 * unconfirmed ones are dropped after the grace period ([xmpp] resume_grace),
 * exactly as if they had sent unavailable presence — except that a
 * registered user's stored rooms are kept, so the resource is put back into
 * them when it returns (cw_muc_restore).
 */
#pragma once
#include "gateway.h"

G_BEGIN_DECLS

/* The component is connected again (not the first time): every resource
 * known now is unconfirmed until heard from; pings go out to them. */
void cw_resume_begin(CwGateway *gw);
/* A stanza came from the user's resource: it is alive. */
void cw_resume_confirm(CwUser *user, const char *resource);
/* Stop the grace timer and forget (gateway teardown). */
void cw_resume_deinit(CwGateway *gw);

G_END_DECLS
