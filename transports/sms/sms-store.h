/* sms-store.h — the SMS transport's own durable state, in its own SQLite file
 * (DATA_DIR/NAME-sms.db; the core's NAME.db keeps registrations):
 *
 *   claims        gateway number -> the JID that owns it (dedicated mode),
 *                 active or pending an admin's approval. One number, one JID.
 *   outbox        every message a user sent, written before anything else
 *                 happens to it, with its parts (one sendsms each), until it
 *                 is delivered, failed, or expired.
 *   conversations (gateway number, peer, JID) -> when JID last wrote to peer
 *                 from that number (shared mode routes replies with it).
 *   optouts       (gateway number, peer) that sent STOP.
 *
 * Durability: WAL with synchronous=FULL (every commit is fsync'd). Writes
 * may be grouped with cw_sms_store_begin()/_commit() (one fsync for many
 * messages); outside such a group every write is its own transaction.
 * Every statement is prepared once, with bound parameters. Times are unix
 * microseconds (g_get_real_time()), so they survive restarts.
 * Errors: FALSE/NULL/-1 with error set (domain CW_SMS_STORE_ERROR).
 */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define CW_SMS_STORE_ERROR (cw_sms_store_error_quark())
GQuark cw_sms_store_error_quark(void);
typedef enum {
    CW_SMS_STORE_ERROR_OPEN,
    CW_SMS_STORE_ERROR_QUERY,
    CW_SMS_STORE_ERROR_CONFLICT, /* the number is claimed by another JID */
    CW_SMS_STORE_ERROR_NOT_FOUND,
} CwSmsStoreError;

typedef struct CwSmsStore CwSmsStore;

CwSmsStore *cw_sms_store_open(const char *path, GError **error); /* file created 0600 */
void cw_sms_store_close(CwSmsStore *store);                        /* NULL-safe; commits an open group */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsStore, cw_sms_store_close)

/* Group the following writes in one transaction (not nestable: a second
 * begin while one is open is a no-op returning TRUE). */
gboolean cw_sms_store_begin(CwSmsStore *store, GError **error);
gboolean cw_sms_store_commit(CwSmsStore *store, GError **error);
gboolean cw_sms_store_in_group(CwSmsStore *store);

/* ---- claims (dedicated ownership) ---- */
typedef enum { CW_SMS_CLAIM_NONE = 0, CW_SMS_CLAIM_PENDING, CW_SMS_CLAIM_ACTIVE } CwSmsClaimState;

/* jid claims number (replacing jid's earlier claim, if any). CONFLICT when
 * another JID holds the number (pending or active). Re-claiming one's own
 * number keeps its state unless state is ACTIVE (then it becomes active). */
gboolean cw_sms_claim_set(CwSmsStore *store, const char *number, const char *jid,
                          CwSmsClaimState state, GError **error);
/* Remove jid's claim (TRUE when there was none). */
gboolean cw_sms_claim_release(CwSmsStore *store, const char *jid, GError **error);
/* Pending -> active; NOT_FOUND when the number has no pending claim. */
gboolean cw_sms_claim_approve(CwSmsStore *store, const char *number, GError **error);
/* The owner of number (allocated) and state, or CW_SMS_CLAIM_NONE (*jid NULL). */
CwSmsClaimState cw_sms_claim_owner(CwSmsStore *store, const char *number, char **jid);
/* jid's number (allocated) and state, or CW_SMS_CLAIM_NONE (*number NULL). */
CwSmsClaimState cw_sms_claim_of(CwSmsStore *store, const char *jid, char **number);
typedef struct {
    char *number, *jid;
    CwSmsClaimState state;
    gint64 since;
} CwSmsClaim;
void cw_sms_claim_free(CwSmsClaim *c);
/* Every claim (state NONE = all) ordered by number; CwSmsClaim* with free func. */
GPtrArray *cw_sms_claim_list(CwSmsStore *store, CwSmsClaimState state, GError **error);

/* ---- outbox ---- */
typedef enum {
    CW_SMS_PART_QUEUED = 0,   /* to send (at or after next_attempt) */
    CW_SMS_PART_SUBMITTING,   /* HTTP request in flight */
    CW_SMS_PART_SUBMITTED,    /* Kannel answered 2xx */
    CW_SMS_PART_ACCEPTED,     /* DLR 8: the SMSC has it */
    CW_SMS_PART_DELIVERED,    /* DLR 1 */
    CW_SMS_PART_FAILED,       /* DLR 2/16, 4xx, expired */
} CwSmsPartState;

typedef struct {
    const char *jid;          /* owner's bare JID */
    const char *sender;       /* the full JID that sent it (errors go there); may be NULL */
    const char *xmpp_id;      /* the message's id; may be NULL */
    gboolean want_receipt;
    const char *from_number;  /* gateway number, E.164 */
    const char *to_number;    /* peer, E.164 */
    const char *body;         /* the whole text, UTF-8 */
    int coding;               /* CwSmsCoding of the parts */
    const char *const *parts; /* NULL-terminated part texts (cw_sms_split) */
    gint64 expires;           /* give up after (unix us) */
} CwSmsOutgoing;

/* Store a message and its parts (all QUEUED, due now). Returns its id (> 0),
 * or -1 with error. */
gint64 cw_sms_outbox_add(CwSmsStore *store, const CwSmsOutgoing *m, GError **error);

typedef struct {
    gint64 message;
    guint part, n_parts;
    char *from_number, *to_number, *text;
    int coding;
    guint attempts;           /* sendsms attempts so far for this part */
    guint8 ref;               /* concatenation reference (message id mod 256) */
} CwSmsPartJob;
void cw_sms_part_job_free(CwSmsPartJob *job);
/* Up to limit QUEUED parts due at now (next_attempt <= now) of messages not
 * failed, oldest first, marked SUBMITTING. CwSmsPartJob* with free func. */
GPtrArray *cw_sms_outbox_take_due(CwSmsStore *store, gint64 now, guint limit, GError **error);
/* When the next QUEUED part is due (unix us), or 0 when none is queued. */
gint64 cw_sms_outbox_next_due(CwSmsStore *store);

/* After the HTTP answer: SUBMITTING -> SUBMITTED (at now). A part already
 * further (a DLR beat the answer) keeps its state. */
gboolean cw_sms_part_submitted(CwSmsStore *store, gint64 message, guint part, gint64 now,
                               GError **error);
/* Temporary failure: back to QUEUED, attempts + 1, due at next_attempt,
 * last_error kept for the final report. */
gboolean cw_sms_part_retry(CwSmsStore *store, gint64 message, guint part, gint64 next_attempt,
                           const char *error_text, GError **error);
/* A DLR or a permanent failure moves a part to state (ACCEPTED, DELIVERED,
 * FAILED); a part never goes back (DELIVERED stays DELIVERED). error_text
 * may be NULL. *changed tells whether the state moved. */
gboolean cw_sms_part_set_state(CwSmsStore *store, gint64 message, guint part,
                               CwSmsPartState state, const char *error_text, gboolean *changed,
                               GError **error);
/* Parts SUBMITTING (in flight when the process died) -> QUEUED; run at open
 * time by the transport. Returns how many (-1 on error). */
gint64 cw_sms_outbox_requeue_in_flight(CwSmsStore *store, GError **error);
/* Parts SUBMITTED before older_than without any DLR -> QUEUED (resent:
 * Kannel lost them). Returns how many. */
gint64 cw_sms_outbox_requeue_unconfirmed(CwSmsStore *store, gint64 older_than, GError **error);

typedef enum {
    CW_SMS_MESSAGE_PENDING = 0, /* some part not yet delivered nor failed */
    CW_SMS_MESSAGE_DELIVERED,   /* every part DELIVERED */
    CW_SMS_MESSAGE_FAILED,      /* a part FAILED (or expired) */
} CwSmsMessageState;

typedef struct {
    gint64 id;
    char *jid, *sender, *xmpp_id, *from_number, *to_number, *last_error;
    gboolean want_receipt;
    CwSmsMessageState state;
    gboolean accepted;        /* every part ACCEPTED or further */
    gint64 created, expires;
} CwSmsMessage;
void cw_sms_message_free(CwSmsMessage *m);
/* A message with its aggregate state, or NULL (NOT_FOUND). */
CwSmsMessage *cw_sms_outbox_get(CwSmsStore *store, gint64 id, GError **error);
/* Remove a finished message (after its receipt or error went out). */
gboolean cw_sms_outbox_remove(CwSmsStore *store, gint64 id, GError **error);
/* Messages past their expiry that are still pending, marked FAILED
 * ("expired"); CwSmsMessage* with free func. */
GPtrArray *cw_sms_outbox_expire(CwSmsStore *store, gint64 now, GError **error);
/* Messages whose parts all reached a final state but that were not
 * removed (the process died before reporting): report them at start. */
GPtrArray *cw_sms_outbox_finished(CwSmsStore *store, GError **error);
/* Messages not finished, and the creation time of the oldest (0 if none). */
gint64 cw_sms_outbox_depth(CwSmsStore *store, gint64 *oldest_created);
/* Remove every message of jid (unregistered). */
gboolean cw_sms_outbox_remove_user(CwSmsStore *store, const char *jid, GError **error);

/* ---- conversations (shared ownership) ---- */
gboolean cw_sms_conversation_note(CwSmsStore *store, const char *gateway_number,
                                  const char *peer, const char *jid, gint64 now, GError **error);
/* JIDs (char*, g_free) that wrote to peer from gateway_number at or after
 * since, most recent first. */
GPtrArray *cw_sms_conversation_recent(CwSmsStore *store, const char *gateway_number,
                                      const char *peer, gint64 since, GError **error);
gboolean cw_sms_conversation_forget_user(CwSmsStore *store, const char *jid, GError **error);

/* ---- opt-outs ---- */
gboolean cw_sms_optout_set(CwSmsStore *store, const char *gateway_number, const char *peer,
                           gboolean opted_out, GError **error);
gboolean cw_sms_optout_get(CwSmsStore *store, const char *gateway_number, const char *peer);

/* ---- administration (causeway --show-user / --delete-user / --stats) ---- */

/* Open an existing file read-only: no migration, no write; safe beside the
 * running transport (WAL). A missing file is CW_SMS_STORE_ERROR_NOT_FOUND; a
 * schema this build does not know is refused (CW_SMS_STORE_ERROR_OPEN). */
CwSmsStore *cw_sms_store_open_readonly(const char *path, GError **error);
/* Messages of jid in the outbox (finished or not) and their conversations;
 * FALSE on error. */
gboolean cw_sms_user_counts(CwSmsStore *store, const char *jid, gint64 *messages,
                            gint64 *conversations, GError **error);
/* What cw_sms_user_forget removed. */
typedef struct {
    char *number;             /* the claim released, or NULL */
    CwSmsClaimState state;    /* its state */
    gint64 messages, conversations;
} CwSmsForgotten;
void cw_sms_forgotten_clear(CwSmsForgotten *f);
/* Release jid's claim, remove its outbox messages and conversations, in one
 * transaction (not inside a group), filling *out. */
gboolean cw_sms_user_forget(CwSmsStore *store, const char *jid, CwSmsForgotten *out,
                            GError **error);

G_END_DECLS
