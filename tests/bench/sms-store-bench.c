/* sms-store-bench.c — throughput of the SMS store (sms-store.c) on a real file; not in make check.
 *   sms-store-bench [DIR]   (default: g_get_tmp_dir(), i.e. $TMPDIR or /tmp)
 * Prints the median of 3 runs of each figure. */
#include "sms/sms-store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#define RUNS 3
#define N_SINGLE 300   /* messages added with one commit each */
#define N_GROUPED 6400 /* messages added in groups of 64 */
#define GROUP 64
#define N_CYCLE 2000  /* messages sent through take/submitted/delivered/remove */
#define N_DEEP 100000 /* queued parts for the take_due at depth figure */

static const char *const one_part[] = {"Hello from the bench \xf0\x9f\x98\x80", NULL};
static const char *const two_parts[] = {"first part of the text, ", "second part", NULL};

static CwSmsStore *
bench_open(const char *dir, char **path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_build_filename(dir, "sms-bench-XXXXXX", NULL);
    if (g_mkdtemp(tmp) == NULL) {
        fprintf(stderr, "sms-store-bench: cannot create a directory in %s\n", dir);
        exit(1);
    }
    *path = g_build_filename(tmp, "bench-sms.db", NULL);
    CwSmsStore *store = cw_sms_store_open(*path, &error);
    if (store == NULL) {
        fprintf(stderr, "sms-store-bench: %s\n", error->message);
        exit(1);
    }
    return store;
}

static void
bench_close(CwSmsStore *store, char *path)
{
    cw_sms_store_close(store);
    g_autofree char *dir = g_path_get_dirname(path);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *f = g_strconcat(path, suffixes[i], NULL);
        g_unlink(f);
    }
    g_rmdir(dir);
    g_free(path);
}

static void
check(gboolean ok, GError *error)
{
    if (!ok) {
        fprintf(stderr, "sms-store-bench: %s\n", error ? error->message : "failed");
        exit(1);
    }
}

static void
add(CwSmsStore *store, int i, const char *const *parts)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *jid = g_strdup_printf("user%d@example.org", i % 50);
    CwSmsOutgoing m = {
        .jid = jid,
        .sender = jid,
        .xmpp_id = "bench",
        .want_receipt = TRUE,
        .from_number = "+15550001111",
        .to_number = "+15557654321",
        .body = parts[0],
        .parts = parts,
        .expires = g_get_real_time() + G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC,
    };
    check(cw_sms_outbox_add(store, &m, &error) > 0, error);
}

/* Messages added per second, a commit every group messages (1: each its own). */
static double
bench_add(const char *dir, int n, int group)
{
    char *path = NULL;
    CwSmsStore *store = bench_open(dir, &path);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < n; i++) {
        if (group > 1 && i % group == 0)
            check(cw_sms_store_begin(store, &error), error);
        add(store, i, one_part);
        if (group > 1 && (i % group == group - 1 || i == n - 1))
            check(cw_sms_store_commit(store, &error), error);
    }
    double s = (g_get_monotonic_time() - t0) / 1e6;
    bench_close(store, path);
    return n / s;
}

/* Messages per second through take_due (64 at a time), part_submitted,
 * set_state DELIVERED and remove; grouped: one commit per batch of 64,
 * else each write its own transaction. */
static double
bench_cycle(const char *dir, gboolean grouped)
{
    char *path = NULL;
    CwSmsStore *store = bench_open(dir, &path);
    g_autoptr(GError) error = NULL;
    check(cw_sms_store_begin(store, &error), error);
    for (int i = 0; i < N_CYCLE; i++)
        add(store, i, one_part);
    check(cw_sms_store_commit(store, &error), error);

    gint64 t0 = g_get_monotonic_time();
    int done = 0;
    while (done < N_CYCLE) {
        if (grouped)
            check(cw_sms_store_begin(store, &error), error);
        g_autoptr(GPtrArray) jobs = cw_sms_outbox_take_due(store, g_get_real_time(), GROUP, &error);
        check(jobs != NULL && jobs->len > 0, error);
        for (guint j = 0; j < jobs->len; j++) {
            const CwSmsPartJob *job = jobs->pdata[j];
            gboolean changed = FALSE;
            check(cw_sms_part_submitted(store, job->message, job->part, g_get_real_time(), &error),
                  error);
            check(cw_sms_part_set_state(store, job->message, job->part, CW_SMS_PART_DELIVERED, NULL,
                                        &changed, &error) &&
                      changed,
                  error);
            check(cw_sms_outbox_remove(store, job->message, &error), error);
            done++;
        }
        if (grouped)
            check(cw_sms_store_commit(store, &error), error);
    }
    double s = (g_get_monotonic_time() - t0) / 1e6;
    bench_close(store, path);
    return N_CYCLE / s;
}

/* Microseconds of one take_due(64) (and of next_due) with N_DEEP parts queued. */
static void
bench_deep(const char *dir, double *take_us, double *next_due_us, double *fill_s)
{
    char *path = NULL;
    CwSmsStore *store = bench_open(dir, &path);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < N_DEEP / 2; i++) {
        if (i % 1024 == 0)
            check(cw_sms_store_begin(store, &error), error);
        add(store, i, two_parts);
        if (i % 1024 == 1023)
            check(cw_sms_store_commit(store, &error), error);
    }
    check(cw_sms_store_commit(store, &error), error);
    *fill_s = (g_get_monotonic_time() - t0) / 1e6;

    double takes[RUNS], nexts[RUNS];
    for (int r = 0; r < RUNS; r++) {
        t0 = g_get_monotonic_time();
        g_autoptr(GPtrArray) jobs = cw_sms_outbox_take_due(store, g_get_real_time(), GROUP, &error);
        takes[r] = (double)(g_get_monotonic_time() - t0);
        check(jobs != NULL && jobs->len == GROUP, error);
        t0 = g_get_monotonic_time();
        check(cw_sms_outbox_next_due(store) > 0, NULL);
        nexts[r] = (double)(g_get_monotonic_time() - t0);
    }
    /* median of 3 */
    for (int i = 0; i < RUNS; i++)
        for (int j = i + 1; j < RUNS; j++) {
            if (takes[j] < takes[i]) {
                double t = takes[i];
                takes[i] = takes[j];
                takes[j] = t;
            }
            if (nexts[j] < nexts[i]) {
                double t = nexts[i];
                nexts[i] = nexts[j];
                nexts[j] = t;
            }
        }
    *take_us = takes[RUNS / 2];
    *next_due_us = nexts[RUNS / 2];
    bench_close(store, path);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median3(double (*fn)(const char *, int, int), const char *dir, int n, int group)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++)
        v[r] = fn(dir, n, group);
    qsort(v, RUNS, sizeof v[0], cmp_double);
    return v[RUNS / 2];
}

static double
cycle_adapter(const char *dir, int n, int grouped)
{
    return bench_cycle(dir, grouped);
}

int
main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : g_get_tmp_dir();
    printf("sms-store-bench: files in %s (WAL, synchronous=FULL); medians of %d runs\n", dir, RUNS);
    printf("  outbox_add, one commit each     %9.0f messages/s  (%d messages)\n",
           median3(bench_add, dir, N_SINGLE, 1), N_SINGLE);
    printf("  outbox_add, grouped by %d       %9.0f messages/s  (%d messages)\n", GROUP,
           median3(bench_add, dir, N_GROUPED, GROUP), N_GROUPED);
    printf("  take+submitted+DELIVERED+remove %9.0f messages/s  (each write its own commit)\n",
           median3(cycle_adapter, dir, 0, FALSE));
    printf("  take+submitted+DELIVERED+remove %9.0f messages/s  (one commit per batch of %d)\n",
           median3(cycle_adapter, dir, 0, TRUE), GROUP);
    double take_us = 0, next_us = 0, fill_s = 0;
    bench_deep(dir, &take_us, &next_us, &fill_s);
    printf("  with %d parts queued (filled in %.1f s): take_due(%d) %.0f us, next_due %.0f us\n",
           N_DEEP, fill_s, GROUP, take_us, next_us);
    return 0;
}
