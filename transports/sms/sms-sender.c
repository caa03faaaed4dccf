/* sms-sender.c — the outbox's way to Kannel and back (sms-sender.h). */
#define G_LOG_DOMAIN "causeway-sms"
#include "sms-sender.h"

#include <causeway/backoff.h>

#define SWEEP_INTERVAL_S 5

/* What a pending HTTP callback holds: the sender may be gone by then. */
typedef struct {
    gint ref;
    CwSmsSender *s; /* NULL once the sender is freed */
} Link;

/* What one fsync makes durable and may then happen: parts to submit,
 * finished messages to report. */
typedef struct {
    GPtrArray *jobs;     /* CwSmsPartJob * */
    GHashTable *finish;  /* message id (gint64*) */
    Link *link;          /* while its fsync is in flight */
} Batch;

struct CwSmsSender {
    CwSmsStore *store;
    CwSmsKannel *kannel;
    CwSmsSenderConfig cfg; /* strings owned */
    CwSmsReport report;
    gpointer data;
    Link *link;
    GHashTable *to_finish; /* message id (gint64*) -> NULL: check after the next commit */
    guint flush_id, due_id, sweep_id;
    /* Group commit: what waits for the WAL's fsync. next collects what the
     * commits since the fsync in flight (if any) wrote; at most one fsync is
     * in flight. */
    gboolean syncing;
    Batch *next;
    guint taken; /* parts taken (SUBMITTING) and not yet submitted */
};

typedef struct {
    Link *link;
    CwSmsPartJob *job;
} Submission;

static void schedule_flush(CwSmsSender *s);
static void submit(CwSmsSender *s, CwSmsPartJob *job);
static void schedule_due(CwSmsSender *s);

static Batch *
batch_new(void)
{
    Batch *b = g_new0(Batch, 1);
    b->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)cw_sms_part_job_free);
    b->finish = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    return b;
}

static void
batch_free(Batch *b)
{
    /* parts never submitted stay SUBMITTING: sent again after a restart */
    g_ptr_array_unref(b->jobs);
    g_hash_table_destroy(b->finish);
    g_free(b);
}

static gboolean
batch_empty(const Batch *b)
{
    return b->jobs->len == 0 && g_hash_table_size(b->finish) == 0;
}

static void
link_unref(Link *l)
{
    if (--l->ref == 0)
        g_free(l);
}

static gint64
now_us(void)
{
    return g_get_real_time();
}

/* Writes join one group, committed on the next idle turn. */
static void
write_begin(CwSmsSender *s)
{
    g_autoptr(GError) error = NULL;
    if (!cw_sms_store_in_group(s->store) && !cw_sms_store_begin(s->store, &error))
        g_warning("sms outbox: cannot start a write: %s", error->message);
    schedule_flush(s);
}

static void
commit(CwSmsSender *s)
{
    g_autoptr(GError) error = NULL;
    if (cw_sms_store_in_group(s->store) && !cw_sms_store_commit(s->store, &error))
        g_warning("sms outbox: commit failed: %s", error->message);
}

/* A write about a part whose message is gone (reported and removed while
 * the part was still out) is not a problem. */
static void
warn_unless_gone(const char *what, const GError *error)
{
    if (g_error_matches(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND))
        g_debug("sms outbox: %s: %s", what, error->message);
    else
        g_warning("sms outbox: %s: %s", what, error->message);
}

static void
finish_later(CwSmsSender *s, gint64 message)
{
    g_hash_table_add(s->to_finish, g_memdup2(&message, sizeof message));
    schedule_flush(s);
}

static CwSmsOutcome
outcome_of(const CwSmsMessage *m)
{
    if (m->state == CW_SMS_MESSAGE_DELIVERED)
        return CW_SMS_OUTCOME_DELIVERED;
    return g_strcmp0(m->last_error, "expired") == 0 ? CW_SMS_OUTCOME_EXPIRED : CW_SMS_OUTCOME_FAILED;
}

/* Report a finished message; remove it when the report went out. */
static void
report_message(CwSmsSender *s, const CwSmsMessage *m)
{
    CwSmsOutcome outcome = outcome_of(m);
    const char *text = outcome == CW_SMS_OUTCOME_DELIVERED ? NULL : m->last_error;
    if (!s->report(m, outcome, text, s->data))
        return; /* tried again on the next sweep */
    g_autoptr(GError) error = NULL;
    write_begin(s);
    if (!cw_sms_outbox_remove(s->store, m->id, &error))
        g_warning("sms outbox: cannot remove message %" G_GINT64_FORMAT ": %s", m->id, error->message);
}

static void
finish_pending(CwSmsSender *s, GHashTable *ids)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, ids);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        CwSmsMessage *m = cw_sms_outbox_get(s->store, *(gint64 *)key, NULL);
        if (m && m->state != CW_SMS_MESSAGE_PENDING)
            report_message(s, m);
        if (m)
            cw_sms_message_free(m);
    }
}

/* ---- submitting ---- */

static void
fail_part(CwSmsSender *s, const CwSmsPartJob *job, const char *text)
{
    g_autoptr(GError) error = NULL;
    write_begin(s);
    if (!cw_sms_part_set_state(s->store, job->message, job->part, CW_SMS_PART_FAILED, text, NULL,
                               &error))
        warn_unless_gone("failing a part", error);
    finish_later(s, job->message);
}

static void
submitted(CwSmsSubmitResult result, guint status, const char *text, gpointer data)
{
    Submission *sub = data;
    CwSmsSender *s = sub->link->s;
    CwSmsPartJob *job = sub->job;
    if (s) {
        g_autoptr(GError) error = NULL;
        gint64 now = now_us();
        if (result == CW_SMS_SUBMIT_OK) {
            write_begin(s);
            if (!cw_sms_part_submitted(s->store, job->message, job->part, now, &error))
                warn_unless_gone("a submitted part", error);
        } else if (result == CW_SMS_SUBMIT_PERMANENT) {
            g_autofree char *why = g_strdup_printf("Kannel refused the message (HTTP %u): %s", status,
                                                   text ? text : "");
            g_message("message %" G_GINT64_FORMAT " part %u: %s", job->message, job->part, why);
            fail_part(s, job, why);
        } else if (job->attempts + 1 >= s->cfg.max_attempts) {
            g_autofree char *why = g_strdup_printf("Kannel could not take the message after %u "
                                                   "attempts; last: %s", job->attempts + 1,
                                                   text ? text : "no answer");
            fail_part(s, job, why);
        } else {
            guint delay = cw_backoff_delay_ms(s->cfg.retry_min_ms, s->cfg.retry_max_ms, job->attempts);
            g_debug("message %" G_GINT64_FORMAT " part %u: %s; again in %u ms", job->message,
                    job->part, text ? text : "no answer", delay);
            write_begin(s);
            if (!cw_sms_part_retry(s->store, job->message, job->part,
                                   now + (gint64)delay * 1000, text, &error))
                warn_unless_gone("a part to retry", error);
        }
        schedule_flush(s); /* a slot is free */
    }
    link_unref(sub->link);
    cw_sms_part_job_free(job);
    g_free(sub);
}

static void
submit(CwSmsSender *s, CwSmsPartJob *job)
{
    g_autofree char *dlr_url = g_strdup_printf(
        "%s/dlr?token=%s&m=%" G_GINT64_FORMAT "&p=%u&type=%%d&smsc_status=%%A&to=%%p",
        s->cfg.callback_url, s->cfg.callback_token, job->message, job->part);
    CwSmsSubmit sub = {
        .from = job->from_number, .to = job->to_number, .text = job->text, .coding = job->coding,
        .ref = job->ref, .part = job->part, .n_parts = job->n_parts, .dlr_url = dlr_url,
    };
    Submission *pending = g_new0(Submission, 1);
    pending->link = s->link;
    s->link->ref++;
    pending->job = job;
    cw_sms_kannel_submit(s->kannel, &sub, submitted, pending);
}

static gboolean
due_fired(gpointer data)
{
    CwSmsSender *s = data;
    s->due_id = 0;
    schedule_flush(s);
    return G_SOURCE_REMOVE;
}

/* Wake up when the next retry is due (only while a slot is free: a finished
 * request wakes the sender anyway). */
static void
schedule_due(CwSmsSender *s)
{
    g_clear_handle_id(&s->due_id, g_source_remove);
    if (!cw_sms_kannel_can_submit(s->kannel))
        return;
    gint64 next = cw_sms_outbox_next_due(s->store);
    if (next <= 0)
        return;
    gint64 delay_ms = (next - now_us()) / 1000 + 1;
    s->due_id = g_timeout_add((guint)CLAMP(delay_ms, 1, 3600 * 1000), due_fired, s);
}

static void start_sync(CwSmsSender *s);

static void
on_synced(GObject *source, GAsyncResult *res, gpointer data)
{
    Batch *b = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = cw_sms_store_sync_finish(res, &error);
    CwSmsSender *s = b->link->s;
    link_unref(b->link);
    b->link = NULL;
    if (!s) {
        batch_free(b);
        return;
    }
    s->syncing = FALSE;
    if (!ok) {
        /* not durable: hold everything back; the parts go again after a
         * restart, the reports on a later sweep */
        g_warning("sms outbox: %s", error->message);
    } else {
        finish_pending(s, b->finish);
        for (guint i = 0; i < b->jobs->len; i++)
            submit(s, g_steal_pointer(&b->jobs->pdata[i]));
    }
    s->taken -= b->jobs->len;
    batch_free(b);
    if (!batch_empty(s->next))
        start_sync(s);
    schedule_due(s);
}

/* fsync what the commits so far wrote, then do what waited for it. */
static void
start_sync(CwSmsSender *s)
{
    Batch *b = s->next;
    s->next = batch_new();
    s->syncing = TRUE;
    b->link = s->link;
    s->link->ref++;
    cw_sms_store_sync_async(s->store, on_synced, b);
}

/* Take what is due, commit, and once the commit is on disk (the WAL's fsync,
 * in a worker thread, for every commit since the last one started) report
 * what finished and submit what was taken: nothing is submitted before the
 * message it belongs to is on disk, nothing reported before the state it
 * reports is. One commit per main-loop turn, at most one fsync in flight;
 * the reports' own writes (the removals) go into a later commit. */
static void
pump(CwSmsSender *s)
{
    g_autoptr(GPtrArray) jobs = NULL;
    /* The parts waiting for an fsync do not hold Kannel's slots: while
     * max_in_flight requests are out, up to as many more are made durable,
     * ready for the slots as they free (the client queues them). Counting
     * them as in flight left Kannel's window empty for every fsync (2-40 ms
     * here) and halved the MT rate. */
    guint cap = s->cfg.max_in_flight;
    guint out = cw_sms_kannel_in_flight(s->kannel) + s->taken;
    if (s->taken < cap && out < 2 * cap) {
        g_autoptr(GError) error = NULL;
        write_begin(s);
        jobs = cw_sms_outbox_take_due(s->store, now_us(), MIN(cap - s->taken, 2 * cap - out), &error);
        if (!jobs)
            g_warning("sms outbox: %s", error->message);
    }
    gboolean wrote = cw_sms_store_in_group(s->store);
    commit(s);
    for (guint i = 0; jobs && i < jobs->len; i++) {
        g_ptr_array_add(s->next->jobs, g_steal_pointer(&jobs->pdata[i]));
        s->taken++;
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, s->to_finish);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_hash_table_add(s->next->finish, key);
        g_hash_table_iter_steal(&it);
    }
    if (!s->syncing && (wrote || !batch_empty(s->next)))
        start_sync(s);
    schedule_due(s);
}

static gboolean
flush_idle(gpointer data)
{
    CwSmsSender *s = data;
    s->flush_id = 0;
    pump(s);
    /* pump's own writes scheduled another flush: nothing left to commit */
    if (!cw_sms_store_in_group(s->store))
        g_clear_handle_id(&s->flush_id, g_source_remove);
    return G_SOURCE_REMOVE;
}

/* At the default priority, beside the sockets: at the idle priority a busy
 * loop (DLR callbacks, sendsms answers, stanzas) left free submit slots
 * unfilled until it drained, which halved the MT rate under load. One commit
 * per main-loop turn that wrote anything. */
static void
schedule_flush(CwSmsSender *s)
{
    if (!s->flush_id)
        s->flush_id = g_idle_add_full(G_PRIORITY_DEFAULT, flush_idle, s, NULL);
}

/* ---- delivery reports, sweeps ---- */

void
cw_sms_sender_dlr(CwSmsSender *s, const CwSmsDlr *dlr)
{
    CwSmsPartState state;
    g_autofree char *why = NULL;
    switch (dlr->type) {
    case 1:
        state = CW_SMS_PART_DELIVERED;
        break;
    case 8:
        state = CW_SMS_PART_ACCEPTED;
        break;
    case 2:
    case 16:
        state = CW_SMS_PART_FAILED;
        why = g_strdup_printf("The %s reports the message undeliverable%s%s%s",
                              dlr->type == 2 ? "phone network" : "SMS centre",
                              dlr->smsc_status && *dlr->smsc_status ? " (" : "",
                              dlr->smsc_status && *dlr->smsc_status ? dlr->smsc_status : "",
                              dlr->smsc_status && *dlr->smsc_status ? ")" : "");
        break;
    default:
        return; /* 4: buffered, nothing to record */
    }
    gboolean changed = FALSE;
    g_autoptr(GError) error = NULL;
    write_begin(s);
    if (!cw_sms_part_set_state(s->store, dlr->message, dlr->part, state, why, &changed, &error)) {
        g_debug("DLR for message %" G_GINT64_FORMAT ": %s", dlr->message, error->message);
        return;
    }
    if (changed && state != CW_SMS_PART_ACCEPTED)
        finish_later(s, dlr->message);
}

void
cw_sms_sender_sweep(CwSmsSender *s)
{
    g_autoptr(GError) error = NULL;
    gint64 now = now_us();
    commit(s);
    g_autoptr(GPtrArray) expired = cw_sms_outbox_expire(s->store, now, &error);
    if (!expired)
        g_warning("sms outbox: %s", error->message);
    g_clear_error(&error);
    if (s->cfg.resend_unconfirmed_us > 0) {
        gint64 n = cw_sms_outbox_requeue_unconfirmed(s->store, now - s->cfg.resend_unconfirmed_us,
                                                     &error);
        if (n > 0)
            g_message("resending %" G_GINT64_FORMAT " SMS parts Kannel took but never confirmed", n);
        else if (n < 0)
            g_warning("sms outbox: %s", error->message);
        g_clear_error(&error);
    }
    g_autoptr(GPtrArray) finished = cw_sms_outbox_finished(s->store, &error);
    for (guint i = 0; finished && i < finished->len; i++) /* reported once on disk */
        finish_later(s, ((CwSmsMessage *)finished->pdata[i])->id);
    pump(s);
}

static gboolean
sweep_tick(gpointer data)
{
    cw_sms_sender_sweep(data);
    return G_SOURCE_CONTINUE;
}

/* ---- life cycle ---- */

CwSmsSender *
cw_sms_sender_new(CwSmsStore *store, CwSmsKannel *kannel, const CwSmsSenderConfig *config,
                  CwSmsReport report, gpointer data, GError **error)
{
    gint64 requeued = cw_sms_outbox_requeue_in_flight(store, error);
    if (requeued < 0)
        return NULL;
    if (requeued > 0)
        g_message("%" G_GINT64_FORMAT " SMS parts were in flight when Causeway stopped: "
                  "sending them again", requeued);
    CwSmsSender *s = g_new0(CwSmsSender, 1);
    s->store = store;
    s->kannel = kannel;
    s->cfg = *config;
    s->cfg.callback_url = g_strdup(config->callback_url);
    s->cfg.callback_token = g_strdup(config->callback_token);
    s->report = report;
    s->data = data;
    s->link = g_new0(Link, 1);
    s->link->ref = 1;
    s->link->s = s;
    s->to_finish = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    s->next = batch_new();
    g_autoptr(GError) local = NULL;
    if (!cw_sms_store_defer_sync(store, &local))
        g_warning("sms outbox: every commit is fsync'd in the main loop: %s", local->message);
    s->sweep_id = g_timeout_add_seconds(SWEEP_INTERVAL_S, sweep_tick, s);
    schedule_flush(s);
    return s;
}

void
cw_sms_sender_free(CwSmsSender *s)
{
    if (!s)
        return;
    commit(s);
    g_autoptr(GError) error = NULL;
    if (!cw_sms_store_sync(s->store, &error))
        g_warning("sms outbox: %s", error->message);
    batch_free(s->next); /* its parts go again after a restart, its reports on the next start */
    g_clear_handle_id(&s->flush_id, g_source_remove);
    g_clear_handle_id(&s->due_id, g_source_remove);
    g_clear_handle_id(&s->sweep_id, g_source_remove);
    s->link->s = NULL;
    link_unref(s->link);
    g_hash_table_destroy(s->to_finish);
    g_free((char *)s->cfg.callback_url);
    g_free((char *)s->cfg.callback_token);
    g_free(s);
}

gint64
cw_sms_sender_queue(CwSmsSender *s, const CwSmsOutgoing *m, GError **error)
{
    write_begin(s);
    return cw_sms_outbox_add(s->store, m, error);
}
