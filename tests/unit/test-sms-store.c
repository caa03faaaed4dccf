/* test-sms-store.c — unit tests for the SMS transport's store (sms/sms-store.c). */
#include "sms/sms-store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#define ALICE "alice@example.org"
#define BOB "bob@example.org"
#define GW "+15550001111"
#define GW2 "+15550002222"
#define PEER "+15557654321"
#define HOUR (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CwSmsMessage, cw_sms_message_free)

typedef struct {
    char *dir;
    char *path;
    CwSmsStore *store;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("cw-sms-store-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "test-sms.db", NULL);
    f->store = cw_sms_store_open(f->path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->store);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_sms_store_close);
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->path);
    g_free(f->dir);
}

static void
reopen(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_clear_pointer(&f->store, cw_sms_store_close);
    f->store = cw_sms_store_open(f->path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->store);
}

/* One integer from the file through a connection of its own (as tools read
 * it), with n integer parameters (gint64) bound to ?1..?n. */
static gint64
raw_int_args(const char *path, const char *sql, int n, ...)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
    va_list ap;
    va_start(ap, n);
    for (int i = 1; i <= n; i++)
        g_assert_cmpint(sqlite3_bind_int64(st, i, va_arg(ap, gint64)), ==, SQLITE_OK);
    va_end(ap);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}
#define raw_int(path, sql) raw_int_args((path), (sql), 0)

/* Add a message of the given parts from ALICE to PEER. */
static gint64
add_message(Fixture *f, const char *jid, const char *const *parts, gint64 expires)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *body = g_strjoinv("", (char **)parts);
    CwSmsOutgoing m = {
        .jid = jid,
        .sender = "alice@example.org/phone",
        .xmpp_id = "msg-1",
        .want_receipt = TRUE,
        .from_number = GW,
        .to_number = PEER,
        .body = body,
        .coding = 0,
        .parts = parts,
        .expires = expires != 0 ? expires : g_get_real_time() + HOUR,
    };
    gint64 id = cw_sms_outbox_add(f->store, &m, &error);
    g_assert_no_error(error);
    g_assert_cmpint(id, >, 0);
    return id;
}

static GPtrArray *
take(Fixture *f, guint limit)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *jobs = cw_sms_outbox_take_due(f->store, g_get_real_time(), limit, &error);
    g_assert_no_error(error);
    g_assert_nonnull(jobs);
    return jobs;
}

static CwSmsMessageState
message_state(Fixture *f, gint64 id)
{
    g_autoptr(GError) error = NULL;
    CwSmsMessage *m = cw_sms_outbox_get(f->store, id, &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
    CwSmsMessageState state = m->state;
    cw_sms_message_free(m);
    return state;
}

static gint64
part_state(Fixture *f, gint64 id, guint part)
{
    cw_sms_store_close(g_steal_pointer(&f->store)); /* read the committed file */
    gint64 state = raw_int_args(f->path, "SELECT state FROM parts WHERE message = ?1 AND part = ?2",
                                2, id, (gint64)part);
    reopen(f);
    return state;
}

static void
set_state(Fixture *f, gint64 id, guint part, CwSmsPartState state, gboolean expect_changed)
{
    g_autoptr(GError) error = NULL;
    gboolean changed = !expect_changed;
    g_assert_true(cw_sms_part_set_state(f->store, id, part, state, NULL, &changed, &error));
    g_assert_no_error(error);
    g_assert_cmpint(changed, ==, expect_changed);
}

static const char *const one_part[] = {"hello", NULL};
static const char *const three_parts[] = {"one ", "two ", "three", NULL};

/* ---- open ------------------------------------------------------------------ */

static void
test_open(Fixture *f, gconstpointer data)
{
    struct stat st;
    g_assert_cmpint(g_stat(f->path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(raw_int(f->path, "PRAGMA user_version"), ==, 1);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                     "('claims', 'messages', 'parts', 'conversations', 'optouts')"),
                    ==, 5);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 0);
    reopen(f); /* an up-to-date file opens again */
    g_assert_cmpint(raw_int(f->path, "PRAGMA user_version"), ==, 1);
}

static void
test_open_newer_schema(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->store, cw_sms_store_close);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsStore) store = cw_sms_store_open(f->path, &error);
    g_assert_null(store);
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_OPEN);
    g_assert_nonnull(strstr(error->message, "99"));
}

static void
test_open_unwritable(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsStore) store = cw_sms_store_open("/nonexistent-dir/x/sms.db", &error);
    g_assert_null(store);
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_OPEN);
}

/* ---- claims ---------------------------------------------------------------- */

static void
test_claims(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *jid = NULL, *number = NULL;

    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, &jid), ==, CW_SMS_CLAIM_NONE);
    g_assert_null(jid);
    g_assert_true(cw_sms_claim_set(f->store, GW, ALICE, CW_SMS_CLAIM_PENDING, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, &jid), ==, CW_SMS_CLAIM_PENDING);
    g_assert_cmpstr(jid, ==, ALICE);
    g_clear_pointer(&jid, g_free);

    /* pending or active, another JID conflicts */
    g_assert_false(cw_sms_claim_set(f->store, GW, BOB, CW_SMS_CLAIM_ACTIVE, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_CONFLICT);
    g_clear_error(&error);
    g_assert_cmpint(cw_sms_claim_of(f->store, BOB, &number), ==, CW_SMS_CLAIM_NONE);
    g_assert_null(number);

    /* re-claiming one's own number as pending keeps it pending */
    g_assert_true(cw_sms_claim_set(f->store, GW, ALICE, CW_SMS_CLAIM_PENDING, &error));
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, NULL), ==, CW_SMS_CLAIM_PENDING);

    g_assert_true(cw_sms_claim_approve(f->store, GW, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_of(f->store, ALICE, &number), ==, CW_SMS_CLAIM_ACTIVE);
    g_assert_cmpstr(number, ==, GW);
    g_clear_pointer(&number, g_free);
    g_assert_false(cw_sms_claim_approve(f->store, GW, &error)); /* no longer pending */
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_false(cw_sms_claim_approve(f->store, GW2, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    /* an active claim stays active when re-claimed as pending */
    g_assert_true(cw_sms_claim_set(f->store, GW, ALICE, CW_SMS_CLAIM_PENDING, &error));
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, NULL), ==, CW_SMS_CLAIM_ACTIVE);
    g_assert_false(cw_sms_claim_set(f->store, GW, BOB, CW_SMS_CLAIM_PENDING, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_CONFLICT);
    g_clear_error(&error);

    /* a pending own claim becomes active when re-claimed as active */
    g_assert_true(cw_sms_claim_set(f->store, GW2, BOB, CW_SMS_CLAIM_PENDING, &error));
    g_assert_true(cw_sms_claim_set(f->store, GW2, BOB, CW_SMS_CLAIM_ACTIVE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW2, NULL), ==, CW_SMS_CLAIM_ACTIVE);

    /* claiming another number replaces the JID's earlier claim */
    g_assert_true(cw_sms_claim_set(f->store, "+15550003333", BOB, CW_SMS_CLAIM_PENDING, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW2, NULL), ==, CW_SMS_CLAIM_NONE);
    g_assert_cmpint(cw_sms_claim_of(f->store, BOB, &number), ==, CW_SMS_CLAIM_PENDING);
    g_assert_cmpstr(number, ==, "+15550003333");
    g_clear_pointer(&number, g_free);

    /* list: all, then by state, ordered by number */
    g_autoptr(GPtrArray) all = cw_sms_claim_list(f->store, CW_SMS_CLAIM_NONE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 2);
    const CwSmsClaim *c0 = all->pdata[0], *c1 = all->pdata[1];
    g_assert_cmpstr(c0->number, ==, GW);
    g_assert_cmpstr(c0->jid, ==, ALICE);
    g_assert_cmpint(c0->state, ==, CW_SMS_CLAIM_ACTIVE);
    g_assert_cmpint(c0->since, >, 0);
    g_assert_cmpstr(c1->number, ==, "+15550003333");
    g_assert_cmpstr(c1->jid, ==, BOB);
    g_autoptr(GPtrArray) pending = cw_sms_claim_list(f->store, CW_SMS_CLAIM_PENDING, &error);
    g_assert_cmpuint(pending->len, ==, 1);
    g_assert_cmpstr(((CwSmsClaim *)pending->pdata[0])->jid, ==, BOB);

    /* release, then the number is free for another JID */
    g_assert_true(cw_sms_claim_release(f->store, ALICE, &error));
    g_assert_true(cw_sms_claim_release(f->store, ALICE, &error)); /* none: still TRUE */
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, NULL), ==, CW_SMS_CLAIM_NONE);
    g_assert_true(cw_sms_claim_set(f->store, GW, BOB, CW_SMS_CLAIM_ACTIVE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_claim_owner(f->store, GW, &jid), ==, CW_SMS_CLAIM_ACTIVE);
    g_assert_cmpstr(jid, ==, BOB);

    reopen(f);
    g_assert_cmpint(cw_sms_claim_of(f->store, BOB, &number), ==, CW_SMS_CLAIM_ACTIVE);
    g_assert_cmpstr(number, ==, GW);
}

/* ---- outbox ---------------------------------------------------------------- */

static void
test_add_get(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 before = g_get_real_time();
    gint64 id = add_message(f, ALICE, three_parts, before + HOUR);
    CwSmsMessage *got = cw_sms_outbox_get(f->store, id, &error);
    g_assert_no_error(error);
    g_assert_cmpint(got->id, ==, id);
    g_assert_cmpstr(got->jid, ==, ALICE);
    g_assert_cmpstr(got->sender, ==, "alice@example.org/phone");
    g_assert_cmpstr(got->xmpp_id, ==, "msg-1");
    g_assert_cmpstr(got->from_number, ==, GW);
    g_assert_cmpstr(got->to_number, ==, PEER);
    g_assert_null(got->last_error);
    g_assert_true(got->want_receipt);
    g_assert_cmpint(got->state, ==, CW_SMS_MESSAGE_PENDING);
    g_assert_false(got->accepted);
    g_assert_cmpint(got->created, >=, before);
    g_assert_cmpint(got->expires, ==, before + HOUR);
    cw_sms_message_free(got);

    g_assert_null(cw_sms_outbox_get(f->store, id + 1, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    /* NULL sender and id are fine */
    CwSmsOutgoing bare = {.jid = BOB,
                          .from_number = GW,
                          .to_number = PEER,
                          .body = "x",
                          .parts = one_part,
                          .expires = before + HOUR};
    gint64 id2 = cw_sms_outbox_add(f->store, &bare, &error);
    g_assert_no_error(error);
    g_assert_cmpint(id2, >, id);
    got = cw_sms_outbox_get(f->store, id2, &error);
    g_assert_null(got->sender);
    g_assert_null(got->xmpp_id);
    g_assert_false(got->want_receipt);
    cw_sms_message_free(got);

    cw_sms_store_close(g_steal_pointer(&f->store));
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 2);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM parts"), ==, 4);
    reopen(f);
}

static void
test_emoji(Fixture *f, gconstpointer data)
{
    const char *text = "caf\xc3\xa9 \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd "
                       "\xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87";
    const char *const parts[] = {text, NULL};
    gint64 id = add_message(f, ALICE, parts, 0);
    reopen(f);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    g_assert_cmpuint(jobs->len, ==, 1);
    const CwSmsPartJob *job = jobs->pdata[0];
    g_assert_cmpint(job->message, ==, id);
    g_assert_cmpstr(job->text, ==, text);
    g_assert_cmpuint(strlen(job->text), ==, strlen(text));
    g_assert_true(g_utf8_validate(job->text, -1, NULL));
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages WHERE body = 'caf\xc3\xa9 "
                                     "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd "
                                     "\xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87'"),
                    ==, 1);
}

static void
test_take_due(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(cw_sms_outbox_next_due(f->store), ==, 0);
    gint64 a = add_message(f, ALICE, three_parts, 0);
    gint64 b = add_message(f, BOB, one_part, 0);
    gint64 due = cw_sms_outbox_next_due(f->store);
    g_assert_cmpint(due, >, 0);
    g_assert_cmpint(due, <=, g_get_real_time());

    /* nothing is due before the messages were stored */
    g_autoptr(GPtrArray) none = cw_sms_outbox_take_due(f->store, due - 1, 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(none->len, ==, 0);

    g_autoptr(GPtrArray) first = take(f, 2);
    g_assert_cmpuint(first->len, ==, 2);
    for (guint i = 0; i < 2; i++) {
        const CwSmsPartJob *job = first->pdata[i];
        g_assert_cmpint(job->message, ==, a);
        g_assert_cmpuint(job->part, ==, i);
        g_assert_cmpuint(job->n_parts, ==, 3);
        g_assert_cmpstr(job->from_number, ==, GW);
        g_assert_cmpstr(job->to_number, ==, PEER);
        g_assert_cmpstr(job->text, ==, three_parts[i]);
        g_assert_cmpuint(job->attempts, ==, 0);
        g_assert_cmpuint(job->ref, ==, (guint)(a % 256));
    }
    g_autoptr(GPtrArray) rest = take(f, 10);
    g_assert_cmpuint(rest->len, ==, 2);
    g_assert_cmpint(((CwSmsPartJob *)rest->pdata[0])->message, ==, a);
    g_assert_cmpuint(((CwSmsPartJob *)rest->pdata[0])->part, ==, 2);
    g_assert_cmpint(((CwSmsPartJob *)rest->pdata[1])->message, ==, b);
    g_assert_cmpuint(((CwSmsPartJob *)rest->pdata[1])->n_parts, ==, 1);
    g_assert_cmpint(part_state(f, b, 0), ==, CW_SMS_PART_SUBMITTING);

    /* all taken: nothing queued any more */
    g_autoptr(GPtrArray) empty = take(f, 10);
    g_assert_cmpuint(empty->len, ==, 0);
    g_assert_cmpint(cw_sms_outbox_next_due(f->store), ==, 0);
    g_autoptr(GPtrArray) zero = take(f, 0);
    g_assert_cmpuint(zero->len, ==, 0);
}

static void
on_synced(GObject *source, GAsyncResult *res, gpointer data)
{
    int *state = data;
    g_autoptr(GError) error = NULL;
    *state = cw_sms_store_sync_finish(res, &error) ? 1 : 2;
    g_assert_no_error(error);
}

static void
wait_sync(Fixture *f)
{
    int state = 0;
    cw_sms_store_sync_async(f->store, on_synced, &state);
    g_assert_cmpint(state, ==, 0); /* never from inside the call */
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (state == 0 && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpint(state, ==, 1);
}

/* Deferred sync: group commits are not fsync'd by SQLite (synchronous =
 * NORMAL), sync_async fsyncs the WAL from a thread; the data is there after
 * a reopen either way, and a write outside a group still works. */
static void
test_deferred_sync(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    wait_sync(f); /* before defer_sync: completes at once (later, on the loop) */
    g_assert_true(cw_sms_store_defer_sync(f->store, &error));
    g_assert_no_error(error);
    g_assert_true(cw_sms_store_defer_sync(f->store, &error)); /* twice: no-op */
    g_assert_true(cw_sms_store_begin(f->store, &error));
    for (int i = 0; i < 20; i++)
        add_message(f, ALICE, one_part, 0);
    g_assert_true(cw_sms_store_commit(f->store, &error));
    wait_sync(f);
    add_message(f, ALICE, one_part, 0); /* its own transaction, fsync'd at once */
    g_assert_true(cw_sms_store_sync(f->store, &error));
    reopen(f);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 21);
}

static void
test_ref_wraps(Fixture *f, gconstpointer data)
{
    gint64 id = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(cw_sms_store_begin(f->store, &error));
    for (int i = 0; i < 300; i++)
        id = add_message(f, ALICE, one_part, 0);
    g_assert_true(cw_sms_store_commit(f->store, &error));
    g_assert_cmpint(id, >, 256);
    g_autoptr(GPtrArray) jobs = take(f, 1000);
    g_assert_cmpuint(jobs->len, ==, 300);
    const CwSmsPartJob *last = jobs->pdata[299];
    g_assert_cmpint(last->message, ==, id);
    g_assert_cmpuint(last->ref, ==, (guint)(id % 256));
}

static void
test_submitted_and_delivered(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *const two[] = {"a", "b", NULL};
    gint64 id = add_message(f, ALICE, two, 0);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    gint64 now = g_get_real_time();
    g_assert_true(cw_sms_part_submitted(f->store, id, 0, now, &error));
    g_assert_true(cw_sms_part_submitted(f->store, id, 1, now, &error));
    g_assert_no_error(error);
    g_assert_cmpint(part_state(f, id, 0), ==, CW_SMS_PART_SUBMITTED);

    set_state(f, id, 0, CW_SMS_PART_ACCEPTED, TRUE);
    set_state(f, id, 0, CW_SMS_PART_ACCEPTED, FALSE); /* again: no change */
    set_state(f, id, 1, CW_SMS_PART_ACCEPTED, TRUE);
    g_autoptr(CwSmsMessage) m = cw_sms_outbox_get(f->store, id, &error);
    g_assert_true(m->accepted);
    g_assert_cmpint(m->state, ==, CW_SMS_MESSAGE_PENDING);

    set_state(f, id, 0, CW_SMS_PART_DELIVERED, TRUE);
    g_assert_cmpint(message_state(f, id), ==, CW_SMS_MESSAGE_PENDING);
    /* never back: DELIVERED stays DELIVERED, also against FAILED */
    set_state(f, id, 0, CW_SMS_PART_ACCEPTED, FALSE);
    set_state(f, id, 0, CW_SMS_PART_FAILED, FALSE);
    set_state(f, id, 0, CW_SMS_PART_DELIVERED, FALSE);
    g_assert_cmpint(part_state(f, id, 0), ==, CW_SMS_PART_DELIVERED);
    g_assert_cmpint(message_state(f, id), ==, CW_SMS_MESSAGE_PENDING);

    set_state(f, id, 1, CW_SMS_PART_DELIVERED, TRUE);
    g_assert_cmpint(message_state(f, id), ==, CW_SMS_MESSAGE_DELIVERED);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, NULL), ==, 0);

    /* unknown parts */
    gboolean changed = TRUE;
    g_assert_false(
        cw_sms_part_set_state(f->store, id, 7, CW_SMS_PART_DELIVERED, NULL, &changed, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
    g_assert_false(changed);
    g_clear_error(&error);
    g_assert_false(cw_sms_part_submitted(f->store, id + 1, 0, now, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_false(cw_sms_part_retry(f->store, id + 1, 0, now, "x", &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
}

/* A DLR may arrive before Kannel's HTTP answer: the answer must not undo it. */
static void
test_dlr_before_answer(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 id = add_message(f, ALICE, one_part, 0);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    set_state(f, id, 0, CW_SMS_PART_DELIVERED, TRUE);
    g_assert_true(cw_sms_part_submitted(f->store, id, 0, g_get_real_time(), &error));
    g_assert_no_error(error);
    g_assert_cmpint(part_state(f, id, 0), ==, CW_SMS_PART_DELIVERED);
    g_assert_cmpint(message_state(f, id), ==, CW_SMS_MESSAGE_DELIVERED);

    /* the same with ACCEPTED: stays ACCEPTED, and is not resent as unconfirmed */
    gint64 id2 = add_message(f, ALICE, one_part, 0);
    g_autoptr(GPtrArray) jobs2 = take(f, 10);
    set_state(f, id2, 0, CW_SMS_PART_ACCEPTED, TRUE);
    g_assert_true(cw_sms_part_submitted(f->store, id2, 0, g_get_real_time(), &error));
    g_assert_cmpint(part_state(f, id2, 0), ==, CW_SMS_PART_ACCEPTED);
    g_assert_cmpint(cw_sms_outbox_requeue_unconfirmed(f->store, G_MAXINT64, &error), ==, 0);
}

static void
test_retry(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 id = add_message(f, ALICE, one_part, 0);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    gint64 later = g_get_real_time() + 30 * G_USEC_PER_SEC;
    g_assert_true(cw_sms_part_retry(f->store, id, 0, later, "HTTP 503", &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_outbox_next_due(f->store), ==, later);
    g_autoptr(GPtrArray) early = take(f, 10);
    g_assert_cmpuint(early->len, ==, 0);
    g_autoptr(GPtrArray) again = cw_sms_outbox_take_due(f->store, later, 10, &error);
    g_assert_cmpuint(again->len, ==, 1);
    g_assert_cmpuint(((CwSmsPartJob *)again->pdata[0])->attempts, ==, 1);
    g_autoptr(CwSmsMessage) m = cw_sms_outbox_get(f->store, id, &error);
    g_assert_cmpstr(m->last_error, ==, "HTTP 503");
    g_assert_cmpint(m->state, ==, CW_SMS_MESSAGE_PENDING);
    /* retried once more; retrying a part already queued changes nothing */
    g_assert_true(cw_sms_part_retry(f->store, id, 0, later, "x", &error));
    g_assert_true(cw_sms_part_retry(f->store, id, 0, later, "x", &error));
    g_autoptr(GPtrArray) third = cw_sms_outbox_take_due(f->store, later, 10, &error);
    g_assert_cmpuint(((CwSmsPartJob *)third->pdata[0])->attempts, ==, 2);
}

static void
test_part_failure_fails_message(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 id = add_message(f, ALICE, three_parts, 0);
    gint64 other = add_message(f, BOB, one_part, 0);
    g_autoptr(GPtrArray) jobs = take(f, 1); /* part 0 only */
    gboolean changed = FALSE;
    g_assert_true(
        cw_sms_part_set_state(f->store, id, 0, CW_SMS_PART_FAILED, "HTTP 403", &changed, &error));
    g_assert_no_error(error);
    g_assert_true(changed);
    g_autoptr(CwSmsMessage) m = cw_sms_outbox_get(f->store, id, &error);
    g_assert_cmpint(m->state, ==, CW_SMS_MESSAGE_FAILED);
    g_assert_cmpstr(m->last_error, ==, "HTTP 403");

    /* the failed message's other parts are never taken */
    g_autoptr(GPtrArray) rest = take(f, 10);
    g_assert_cmpuint(rest->len, ==, 1);
    g_assert_cmpint(((CwSmsPartJob *)rest->pdata[0])->message, ==, other);
    g_assert_cmpint(cw_sms_outbox_next_due(f->store), ==, 0);
    g_assert_cmpint(cw_sms_outbox_requeue_in_flight(f->store, &error), ==, 1); /* other's */

    g_autoptr(GPtrArray) done = cw_sms_outbox_finished(f->store, &error);
    g_assert_cmpuint(done->len, ==, 1);
    g_assert_cmpint(((CwSmsMessage *)done->pdata[0])->id, ==, id);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, NULL), ==, 1);
}

static void
test_requeue_in_flight(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 id = add_message(f, ALICE, three_parts, 0);
    g_autoptr(GPtrArray) jobs = take(f, 2);
    g_assert_true(cw_sms_part_submitted(f->store, id, 0, g_get_real_time(), &error));
    reopen(f); /* the process died with part 1 in flight */
    g_assert_cmpint(cw_sms_outbox_requeue_in_flight(f->store, &error), ==, 1);
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_outbox_requeue_in_flight(f->store, &error), ==, 0);
    g_autoptr(GPtrArray) again = take(f, 10);
    g_assert_cmpuint(again->len, ==, 2);
    const CwSmsPartJob *p1 = again->pdata[0], *p2 = again->pdata[1];
    g_assert_cmpuint(p1->part, ==, 1);
    g_assert_cmpuint(p1->attempts, ==, 1);
    g_assert_cmpuint(p2->part, ==, 2);
    g_assert_cmpuint(p2->attempts, ==, 0);
    g_assert_cmpint(part_state(f, id, 0), ==, CW_SMS_PART_SUBMITTED);
}

static void
test_requeue_unconfirmed(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *const two[] = {"a", "b", NULL};
    gint64 id = add_message(f, ALICE, two, 0);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    gint64 t = g_get_real_time();
    g_assert_true(cw_sms_part_submitted(f->store, id, 0, t - HOUR, &error));
    g_assert_true(cw_sms_part_submitted(f->store, id, 1, t, &error));
    g_assert_cmpint(cw_sms_outbox_requeue_unconfirmed(f->store, t - HOUR, &error), ==, 0);
    g_assert_cmpint(cw_sms_outbox_requeue_unconfirmed(f->store, t - 60 * G_USEC_PER_SEC, &error),
                    ==, 1);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) again = take(f, 10);
    g_assert_cmpuint(again->len, ==, 1);
    g_assert_cmpuint(((CwSmsPartJob *)again->pdata[0])->part, ==, 0);
    g_assert_cmpuint(((CwSmsPartJob *)again->pdata[0])->attempts, ==, 1);
}

static void
test_expire(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();
    gint64 old = add_message(f, ALICE, three_parts, now + 10);
    gint64 young = add_message(f, ALICE, one_part, now + HOUR);
    gint64 done = add_message(f, BOB, one_part, now + 10);
    g_autoptr(GPtrArray) jobs = cw_sms_outbox_take_due(f->store, G_MAXINT64, 1, &error);
    g_assert_cmpuint(jobs->len, ==, 1); /* old's part 0 in flight */
    g_autoptr(GPtrArray) all = take(f, 10);
    g_clear_pointer(&all, g_ptr_array_unref);
    /* done was delivered: not expired; put old's parts 1, 2 and young back */
    g_assert_true(cw_sms_part_submitted(f->store, done, 0, now, &error));
    set_state(f, done, 0, CW_SMS_PART_DELIVERED, TRUE);
    g_assert_cmpint(cw_sms_outbox_requeue_unconfirmed(f->store, G_MAXINT64, &error), ==, 0);
    g_assert_true(cw_sms_part_retry(f->store, old, 1, now, NULL, &error));
    g_assert_true(cw_sms_part_retry(f->store, young, 0, now, NULL, &error));

    g_autoptr(GPtrArray) expired = cw_sms_outbox_expire(f->store, now + 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(expired->len, ==, 1);
    const CwSmsMessage *m = expired->pdata[0];
    g_assert_cmpint(m->id, ==, old);
    g_assert_cmpint(m->state, ==, CW_SMS_MESSAGE_FAILED);
    g_assert_cmpstr(m->last_error, ==, "expired");
    g_assert_cmpint(part_state(f, old, 1), ==, CW_SMS_PART_FAILED);

    /* not again, and its parts are not taken */
    g_autoptr(GPtrArray) twice = cw_sms_outbox_expire(f->store, now + 10, &error);
    g_assert_cmpuint(twice->len, ==, 0);
    g_autoptr(GPtrArray) due = cw_sms_outbox_take_due(f->store, G_MAXINT64, 10, &error);
    g_assert_cmpuint(due->len, ==, 1);
    g_assert_cmpint(((CwSmsPartJob *)due->pdata[0])->message, ==, young);
}

static void
test_finished_after_reopen(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 delivered = add_message(f, ALICE, one_part, 0);
    gint64 failed = add_message(f, ALICE, one_part, 0);
    gint64 pending = add_message(f, ALICE, one_part, 0);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    set_state(f, delivered, 0, CW_SMS_PART_DELIVERED, TRUE);
    set_state(f, failed, 0, CW_SMS_PART_FAILED, TRUE);
    set_state(f, pending, 0, CW_SMS_PART_ACCEPTED, TRUE);
    reopen(f);
    g_autoptr(GPtrArray) done = cw_sms_outbox_finished(f->store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(done->len, ==, 2);
    const CwSmsMessage *d = done->pdata[0], *x = done->pdata[1];
    g_assert_cmpint(d->id, ==, delivered);
    g_assert_cmpint(d->state, ==, CW_SMS_MESSAGE_DELIVERED);
    g_assert_true(d->accepted);
    g_assert_cmpstr(d->xmpp_id, ==, "msg-1");
    g_assert_cmpint(x->id, ==, failed);
    g_assert_cmpint(x->state, ==, CW_SMS_MESSAGE_FAILED);

    /* reported: removed, and the rows are gone (parts too) */
    g_assert_true(cw_sms_outbox_remove(f->store, delivered, &error));
    g_assert_true(cw_sms_outbox_remove(f->store, failed, &error));
    g_autoptr(GPtrArray) none = cw_sms_outbox_finished(f->store, &error);
    g_assert_cmpuint(none->len, ==, 0);
    cw_sms_store_close(g_steal_pointer(&f->store));
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 1);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM parts"), ==, 1);
    reopen(f);
}

static void
test_depth(Fixture *f, gconstpointer data)
{
    gint64 oldest = -1;
    g_assert_cmpint(cw_sms_outbox_depth(f->store, &oldest), ==, 0);
    g_assert_cmpint(oldest, ==, 0);
    gint64 a = add_message(f, ALICE, one_part, 0);
    g_usleep(2000);
    gint64 b = add_message(f, ALICE, three_parts, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(CwSmsMessage) ma = cw_sms_outbox_get(f->store, a, &error);
    g_autoptr(CwSmsMessage) mb = cw_sms_outbox_get(f->store, b, &error);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, &oldest), ==, 2);
    g_assert_cmpint(oldest, ==, ma->created);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    set_state(f, a, 0, CW_SMS_PART_DELIVERED, TRUE);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, &oldest), ==, 1);
    g_assert_cmpint(oldest, ==, mb->created);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, NULL), ==, 1);
    set_state(f, b, 2, CW_SMS_PART_FAILED, TRUE);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, &oldest), ==, 0);
    g_assert_cmpint(oldest, ==, 0);
}

static void
test_remove_user(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    add_message(f, ALICE, three_parts, 0);
    add_message(f, ALICE, one_part, 0);
    gint64 bob = add_message(f, BOB, one_part, 0);
    g_assert_true(cw_sms_outbox_remove_user(f->store, ALICE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(cw_sms_outbox_depth(f->store, NULL), ==, 1);
    g_autoptr(GPtrArray) jobs = take(f, 10);
    g_assert_cmpuint(jobs->len, ==, 1);
    g_assert_cmpint(((CwSmsPartJob *)jobs->pdata[0])->message, ==, bob);
    cw_sms_store_close(g_steal_pointer(&f->store));
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 1);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM parts"), ==, 1);
    reopen(f);
}

/* ---- conversations, opt-outs ---------------------------------------------------- */

static void
test_conversations(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 t = g_get_real_time();
    g_assert_true(cw_sms_conversation_note(f->store, GW, PEER, ALICE, t - 300, &error));
    g_assert_true(cw_sms_conversation_note(f->store, GW, PEER, BOB, t - 200, &error));
    g_assert_true(
        cw_sms_conversation_note(f->store, GW, PEER, "carol@example.org", t - 900, &error));
    g_assert_true(cw_sms_conversation_note(f->store, GW2, PEER, "dave@example.org", t, &error));
    g_assert_no_error(error);

    g_autoptr(GPtrArray) recent = cw_sms_conversation_recent(f->store, GW, PEER, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(recent->len, ==, 3);
    g_assert_cmpstr(recent->pdata[0], ==, BOB);
    g_assert_cmpstr(recent->pdata[1], ==, ALICE);
    g_assert_cmpstr(recent->pdata[2], ==, "carol@example.org");

    /* alice writes again: first; since filters carol out */
    g_assert_true(cw_sms_conversation_note(f->store, GW, PEER, ALICE, t - 100, &error));
    g_autoptr(GPtrArray) since = cw_sms_conversation_recent(f->store, GW, PEER, t - 300, &error);
    g_assert_cmpuint(since->len, ==, 2);
    g_assert_cmpstr(since->pdata[0], ==, ALICE);
    g_assert_cmpstr(since->pdata[1], ==, BOB);
    /* an older note does not move a conversation back */
    g_assert_true(cw_sms_conversation_note(f->store, GW, PEER, ALICE, t - 1000, &error));
    g_autoptr(GPtrArray) still = cw_sms_conversation_recent(f->store, GW, PEER, t - 300, &error);
    g_assert_cmpstr(still->pdata[0], ==, ALICE);

    g_autoptr(GPtrArray) other =
        cw_sms_conversation_recent(f->store, GW, "+15550000000", 0, &error);
    g_assert_cmpuint(other->len, ==, 0);

    g_assert_true(cw_sms_conversation_forget_user(f->store, ALICE, &error));
    reopen(f);
    g_autoptr(GPtrArray) after = cw_sms_conversation_recent(f->store, GW, PEER, 0, &error);
    g_assert_cmpuint(after->len, ==, 2);
    g_assert_cmpstr(after->pdata[0], ==, BOB);
}

static void
test_optouts(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(cw_sms_optout_get(f->store, GW, PEER));
    g_assert_true(cw_sms_optout_set(f->store, GW, PEER, TRUE, &error));
    g_assert_true(cw_sms_optout_set(f->store, GW, PEER, TRUE, &error)); /* twice: fine */
    g_assert_no_error(error);
    g_assert_true(cw_sms_optout_get(f->store, GW, PEER));
    g_assert_false(cw_sms_optout_get(f->store, GW2, PEER));
    reopen(f);
    g_assert_true(cw_sms_optout_get(f->store, GW, PEER));
    g_assert_true(cw_sms_optout_set(f->store, GW, PEER, FALSE, &error));
    g_assert_true(cw_sms_optout_set(f->store, GW, PEER, FALSE, &error));
    g_assert_false(cw_sms_optout_get(f->store, GW, PEER));
}

/* ---- groups --------------------------------------------------------------------- */

/* A removed message's id is never given again, also after a restart: a late
 * DLR for it (Kannel sends DLRs for hours) must not reach a new message. */
static void
test_ids_not_reused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 first = add_message(f, ALICE, one_part, 0);
    g_assert_true(cw_sms_outbox_remove(f->store, first, &error));
    gint64 second = add_message(f, ALICE, one_part, 0);
    g_assert_cmpint(second, >, first);
    g_assert_true(cw_sms_outbox_remove(f->store, second, &error));
    reopen(f);
    gint64 third = add_message(f, ALICE, one_part, 0);
    g_assert_cmpint(third, >, second);
    gboolean changed = TRUE;
    g_assert_false(cw_sms_part_set_state(f->store, first, 0, CW_SMS_PART_DELIVERED, NULL,
                                         &changed, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_NOT_FOUND);
}

static void
test_group(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(cw_sms_store_in_group(f->store));
    g_assert_true(cw_sms_store_commit(f->store, &error)); /* none open: no-op */
    g_assert_true(cw_sms_store_begin(f->store, &error));
    g_assert_true(cw_sms_store_begin(f->store, &error)); /* not nestable: no-op */
    g_assert_no_error(error);
    g_assert_true(cw_sms_store_in_group(f->store));
    for (int i = 0; i < 5; i++)
        add_message(f, ALICE, three_parts, 0);
    g_assert_true(cw_sms_optout_set(f->store, GW, PEER, TRUE, &error));
    /* a failing write in the group leaves the group's other writes alone */
    g_assert_true(cw_sms_claim_set(f->store, GW, ALICE, CW_SMS_CLAIM_ACTIVE, &error));
    g_assert_false(cw_sms_claim_set(f->store, GW, BOB, CW_SMS_CLAIM_ACTIVE, &error));
    g_assert_error(error, CW_SMS_STORE_ERROR, CW_SMS_STORE_ERROR_CONFLICT);
    g_clear_error(&error);
    /* the writes are invisible to another connection until the commit */
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 0);
    g_autoptr(GPtrArray) jobs = take(f, 4); /* joins the group */
    g_assert_cmpuint(jobs->len, ==, 4);
    g_assert_true(cw_sms_store_commit(f->store, &error));
    g_assert_no_error(error);
    g_assert_false(cw_sms_store_in_group(f->store));
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 5);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM parts WHERE state = 1"), ==, 4);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM optouts"), ==, 1);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM claims"), ==, 1);

    /* outside a group each write is committed at once */
    add_message(f, BOB, one_part, 0);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 6);

    /* close commits an open group */
    g_assert_true(cw_sms_store_begin(f->store, &error));
    add_message(f, BOB, one_part, 0);
    reopen(f);
    g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM messages"), ==, 7);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                                              \
    g_test_add("/sms-store/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("open", test_open);
    ADD("open-newer-schema", test_open_newer_schema);
    g_test_add_func("/sms-store/open-unwritable", test_open_unwritable);
    ADD("claims", test_claims);
    ADD("add-get", test_add_get);
    ADD("emoji", test_emoji);
    ADD("take-due", test_take_due);
    ADD("ref-wraps", test_ref_wraps);
    ADD("submitted-delivered", test_submitted_and_delivered);
    ADD("dlr-before-answer", test_dlr_before_answer);
    ADD("retry", test_retry);
    ADD("part-failure-fails-message", test_part_failure_fails_message);
    ADD("requeue-in-flight", test_requeue_in_flight);
    ADD("requeue-unconfirmed", test_requeue_unconfirmed);
    ADD("expire", test_expire);
    ADD("finished-after-reopen", test_finished_after_reopen);
    ADD("depth", test_depth);
    ADD("remove-user", test_remove_user);
    ADD("conversations", test_conversations);
    ADD("optouts", test_optouts);
    ADD("group", test_group);
    ADD("ids-not-reused", test_ids_not_reused);
    ADD("deferred-sync", test_deferred_sync);
#undef ADD
    return g_test_run();
}
