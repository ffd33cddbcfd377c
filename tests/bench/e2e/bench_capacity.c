/*
 * bench_capacity — the figures behind the README's capacity model (issue
 * 16): what one gateway, one notifier, one worker, one store and one
 * RabbitMQ queue each carry on this machine, on a single broker node with a
 * classic queue, on the same node with a quorum queue, and on a 3-node
 * cluster with a quorum queue replicated on all three, in one run.
 *
 * Each stage runs alone, so its figure is that part's own rate and not the
 * slowest part of a pipeline (everything shares 2 cores here):
 *   1. gateway: N events POSTed with the notifier and workers stopped
 *      (poster.h: 2 client threads × 16 keep-alive connections; the clients
 *      run on the same cores, so this is a lower bound of the gateway's);
 *   2. notifier: then herald-notifier is started on the store's N-event
 *      feed and stopped once it has relayed it; its rate is changes
 *      relayed (published, confirmed, cursor acknowledged) per second,
 *      from its first acknowledgement to the store's cursor reaching the
 *      head. These are the `created` changes, queued and persisted;
 *   3. workers: then 1 (in a second scenario 2) herald-worker(s) drain the
 *      N notifications queued; the rate is events seen `processed` on the
 *      store's PUB stream (processed_watch.h) per second, first to last;
 *   4. notifier again, on the N `updated` changes the workers made
 *      (published to the exchange, bound to no queue, so confirmed without
 *      being stored). An event is one change of each kind, so the
 *      notifier's events/s is 1 / (1/created rate + 1/updated rate);
 *   5. the queue's ceiling: the bare broker (broker_ceiling.h), persistent
 *      messages of Herald's notification size, publisher confirms and
 *      manual acks, on a queue of the same type and arguments;
 *   6. the store: pipelined creates, then updates (one of each per event:
 *      the POST and the worker's PUT), on a journal with --fsync always,
 *      the default, from the store benchmark's load generator (load.h).
 * Stages 1–4 run twice per broker set-up (with 1 and with 2 workers); the
 * model uses the median of the gateway and notifier runs.
 *
 * The closing table turns them into a capacity model: gateways and workers
 * scale out (one more process, one more share), while one store, its one
 * notifier (the feed has one cursor) and one queue (a queue lives on, or is
 * led by, one node) do not, so the smallest of those three is the system's
 * ceiling, whatever is added around it.
 * For 10k, 100k and 1M events/s the table gives how many of each part the
 * rate takes, and whether Herald carries it today: it runs one store (the
 * sharded store of issue 17 is not finished), one notifier per store and
 * one queue. Printed, never asserted.
 */
#include "broker.h"
#include "broker_ceiling.h"
#include "load.h"
#include "notification_sample.h"
#include "poster.h"
#include "processed_watch.h"
#include "stack.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                      \
    "usage: bench_capacity [--events N] [--no-cluster]\n"                                          \
    "  --events N    events per stage and messages per ceiling run (default 20000)\n"              \
    "  --no-cluster  skip the 3-node cluster set-up (saves ~25 s of booting)\n"

#define CAP_EVENTS_DEFAULT 20000
#define CAP_EVENTS_MAX 1000000
#define CAP_POSTERS 2
#define CAP_CONNECTIONS 16
#define CAP_STAGE_TIMEOUT_MS 300000 /* any one stage */
#define CAP_STORE_WINDOW 1000       /* the store stage's requests in flight */
#define CAP_CLUSTER_NODES 3
#define CAP_WINDOW 2000  /* herald-notifier's --window, for the ceiling's publisher */
#define CAP_PREFETCH 256 /* herald-worker's --prefetch, for the ceiling's consumer */
#define CAP_SETUPS 3
static const double s_targets[] = { 10000, 100000, 1000000 };

/* One broker set-up and what was measured on it. */
typedef struct {
    const char *name;
    e2e_stack_t *stack;
    bool quorum;
    const char *urls;  /* --amqp-url for the services; NULL = the stack's node */
    double ceiling;    /* bare broker msg/s, 0 = failed */
    double gateway[2]; /* POST 201s/s, scenario with 1 and with 2 workers */
    double relay_created[2], relay_updated[2]; /* changes relayed/s: queued, unrouted */
    double notifier[2];                        /* events/s: one change of each kind per event */
    double workers[2];                         /* events processed/s by 1 worker, by 2 */
    double store; /* events/s (one create + one update each), journaled */
    bool ok;      /* every stage completed with every event accounted for */
} s_setup_t;

/* The extra arguments of the notifier and the workers on this set-up. */
static void
s_args (const s_setup_t *setup, const char *args[8])
{
    int n = 0;
    if (setup->urls) {
        args[n++] = "--amqp-url";
        args[n++] = setup->urls;
    }
    if (setup->quorum) {
        args[n++] = "--queue-type";
        args[n++] = "quorum";
    }
    args[n++] = "--log-level";
    args[n++] = "warn";
    args[n] = NULL;
}

/* Polls the store every 10 ms until its cursor reaches a head of at least
   n; returns changes relayed per second from the first acknowledgement
   past the cursor it found, or 0 on timeout. */
static double
s_relay_rate (e2e_stack_t *stack, uint64_t n)
{
    int64_t deadline = clock_mono_us () + CAP_STAGE_TIMEOUT_MS * 1000LL, first_us = 0;
    uint64_t from = UINT64_MAX, first_acked = 0;
    stack_store_stats_t st;
    while (clock_mono_us () < deadline) {
        if (stack_store_stats (stack, &st) == 0) {
            int64_t now = clock_mono_us ();
            if (from == UINT64_MAX)
                from = st.acked;
            if (!first_us && st.acked > from) {
                first_us = now;
                first_acked = st.acked;
            }
            if (st.head >= n && st.acked == st.head)
                return first_us && now > first_us && st.acked > first_acked
                           ? (double)(st.acked - first_acked) * 1e6 / (double)(now - first_us)
                           : 0;
        }
        harness_nap_ms (10);
    }
    fprintf (stderr, "bench_capacity: the notifier did not relay %llu changes in time\n",
             (unsigned long long)n);
    return 0;
}

/* Stages 1–4 with `workers` workers (1 or 2) on setup; fills slot
   workers - 1 of its arrays. Returns 0, or -1 when a stage failed. */
static int
s_scenario (s_setup_t *setup, int n, int workers)
{
    e2e_stack_t *stack = setup->stack;
    int slot = workers - 1, rc = -1;
    const char *args[8];
    s_args (setup, args);
    stack_begin (stack);
    int64_t *sent = calloc ((size_t)n, sizeof *sent);
    processed_watch_t *watch = NULL;
    if (!sent || stack_start_store (stack, 2L * n + 1000) || stack_start_gateway (stack))
        goto done;
    /* Subscribed long before the workers start: no slow-joiner loss. */
    watch = processed_watch_start (stack->pub_port, "bench ", n);
    if (!watch)
        goto done;
    int failed;
    int64_t t0 = clock_mono_us (), last;
    int created = poster_post_all (stack->gateway_url, n, 0, CAP_POSTERS, CAP_CONNECTIONS, sent,
                                   CAP_STAGE_TIMEOUT_MS, &failed, &last);
    if (created != n || last <= t0) {
        fprintf (stderr, "bench_capacity: %d of %d POSTs failed\n", n - created, n);
        goto done;
    }
    setup->gateway[slot] = created * 1e6 / (double)(last - t0);

    if (stack_start_notifier_with (stack, args))
        goto done;
    setup->relay_created[slot] = s_relay_rate (stack, (uint64_t)n);
    harness_stop (stack->notifier, SIGTERM, 10000);
    stack->notifier = 0;
    if (setup->relay_created[slot] <= 0)
        goto done;

    for (int w = 0; w < workers; w++)
        if (stack_start_worker (stack, w, args))
            goto done;
    int seen = processed_watch_wait (watch, n, CAP_STAGE_TIMEOUT_MS);
    int64_t first = 0, end = 0;
    for (int k = 0; k < n; k++) {
        int64_t at = processed_watch_at (watch, k);
        if (at && (!first || at < first))
            first = at;
        if (at > end)
            end = at;
    }
    /* The workers' updates wait in the feed: the notifier relays them
       alone, as it did the creates. */
    if (stack_start_notifier_with (stack, args))
        goto done;
    setup->relay_updated[slot] = s_relay_rate (stack, 2 * (uint64_t)n);
    if (setup->relay_updated[slot] > 0)
        setup->notifier[slot] =
            1.0 / (1.0 / setup->relay_created[slot] + 1.0 / setup->relay_updated[slot]);
    int processed = stack_wait_processed (stack, n, 60000);
    int lines = 0;
    for (int w = 0; w < workers; w++)
        lines += harness_count_lines (stack->worker_out[w], ": bench ");
    if (seen > 1 && end > first)
        setup->workers[slot] = (seen - 1) * 1e6 / (double)(end - first);
    printf ("  %-22s %d worker%s: gateway %6.0f POST/s; notifier %6.0f created + %6.0f updated "
            "changes/s => %6.0f events/s; worker%s %6.0f events/s (processed %d of %d, lines %d, "
            "seen on PUB %d)\n",
            setup->name, workers, workers > 1 ? "s" : " ", setup->gateway[slot],
            setup->relay_created[slot], setup->relay_updated[slot], setup->notifier[slot],
            workers > 1 ? "s" : " ", setup->workers[slot], processed, n, lines, seen);
    fflush (stdout);
    rc = processed == n && lines >= n && setup->workers[slot] > 0 && setup->notifier[slot] > 0 ? 0
                                                                                               : -1;
done:
    processed_watch_stop (&watch);
    free (sent);
    stack_end (stack);
    return rc;
}

/* Stage 6: one journaled store, n pipelined creates then n updates. Events
   per second, or 0 on failure. */
static double
s_store_rate (e2e_stack_t *stack, int n)
{
    stack_begin (stack);
    snprintf (stack->store_data_dir, sizeof stack->store_data_dir, "%s/capacity-store-%d",
              harness_tmpdir (), stack->run);
    double rate = 0;
    load_t *load = NULL;
    if (stack_start_store (stack, 2L * n + 1000) == 0
        && (load = load_new (stack->store_ep, LOAD_CLIENT_LIBZMQ, (size_t)n, NULL)) != NULL) {
        load_result_t create, update;
        if (load_create (load, (size_t)n, CAP_STORE_WINDOW, &create) == 0 && load_ack (load) == 0
            && load_update (load, (size_t)n, CAP_STORE_WINDOW, &update) == 0 && load_ack (load) == 0
            && create.ops_per_s > 0 && update.ops_per_s > 0) {
            rate = 1.0 / (1.0 / create.ops_per_s + 1.0 / update.ops_per_s);
            printf ("  store, --fsync always:  create %.0f/s, update %.0f/s => %.0f events/s "
                    "(one of each per event)\n",
                    create.ops_per_s, update.ops_per_s, rate);
            fflush (stdout);
        }
    }
    load_destroy (&load);
    stack_end (stack);
    return rate;
}

static double
s_ceiling (s_setup_t *setup, const notification_sample_t *sample, int n)
{
    broker_ceiling_config_t config = { .url = setup->stack->rabbit.url,
                                       .messages = n,
                                       .body_len = sample->body_len,
                                       .message_id_len = sample->message_id_len,
                                       .correlation_id_len = sample->correlation_id_len,
                                       .window = CAP_WINDOW,
                                       .prefetch = CAP_PREFETCH,
                                       .queue_max = BROKER_QUEUE_MAX_DEFAULT,
                                       .timeout_ms = CAP_STAGE_TIMEOUT_MS,
                                       .quorum = setup->quorum };
    broker_ceiling_result_t r;
    int rc = broker_ceiling_run (&config, &r);
    printf ("  %-22s bare broker: %.0f msg/s publish->ack (%d acked, %d nacked)%s\n", setup->name,
            rc ? 0 : r.rate, r.acked, r.nacked, rc ? " FAILED" : "");
    fflush (stdout);
    return rc ? 0 : r.rate;
}

/* Herald's queues go, so the next set-up can declare them of another
   type on the same node. */
static void
s_delete_queues (e2e_stack_t *stack)
{
    char out[256];
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_QUEUE, out, sizeof out);
    harness_rabbitmqctl (&stack->rabbit, "delete_queue " BROKER_DEAD_QUEUE, out, sizeof out);
}

static void
s_measure (s_setup_t *setup, const notification_sample_t *sample, int n)
{
    setup->stack->quorum = setup->quorum;
    setup->ceiling = s_ceiling (setup, sample, n);
    setup->ok = setup->ceiling > 0;
    for (int workers = 1; workers <= 2; workers++)
        if (s_scenario (setup, n, workers) != 0)
            setup->ok = false;
    s_delete_queues (setup->stack);
}

static double
s_median2 (const double v[2])
{
    return v[0] > 0 && v[1] > 0 ? (v[0] + v[1]) / 2 : (v[0] > 0 ? v[0] : v[1]);
}

/* How many of a part carrying `each` per second `rate` needs; 0 = unknown. */
static long
s_need (double rate, double each)
{
    return each > 0 ? (long)ceil (rate / each) : 0;
}

static void
s_model (const s_setup_t *setups, int n_setups, double store)
{
    printf ("\ncapacity model (printed, not asserted; each part measured alone on this 2-core "
            "machine; events/s)\n");
    printf ("  %-22s %9s %9s %9s %9s %9s %9s  %s\n", "set-up", "gateway", "worker", "2 workers",
            "notifier", "queue", "store", "ceiling = min(notifier, queue, store)");
    for (int i = 0; i < n_setups; i++) {
        const s_setup_t *s = &setups[i];
        double g = s_median2 (s->gateway), nt = s_median2 (s->notifier);
        double ceiling = nt;
        const char *first = "notifier";
        if (s->ceiling > 0 && s->ceiling < ceiling) {
            ceiling = s->ceiling;
            first = "queue";
        }
        if (store > 0 && store < ceiling) {
            ceiling = store;
            first = "store";
        }
        printf ("  %-22s %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f  %.0f, %s first%s\n", s->name, g,
                s->workers[0], s->workers[1], nt, s->ceiling, store, ceiling, first,
                s->ok ? "" : " (a stage failed: see above)");
        for (size_t t = 0; t < sizeof s_targets / sizeof s_targets[0]; t++) {
            double r = s_targets[t];
            long stores = s_need (r, store), notifiers = s_need (r, nt),
                 queues = s_need (r, s->ceiling);
            printf ("      %7.0f events/s: gateways %ld, workers %ld, stores %ld, notifiers %ld, "
                    "queues %ld: ",
                    r, s_need (r, g), s_need (r, s->workers[0]), stores, notifiers, queues);
            if (r <= ceiling)
                printf ("carried today (%.0f%% of the ceiling)\n", 100 * r / ceiling);
            else
                printf ("not today: Herald runs one store (shards: issue 17), one notifier per "
                        "store and one queue\n");
        }
    }
    fflush (stdout);
}

int
main (int argc, char *argv[])
{
    int n = CAP_EVENTS_DEFAULT;
    bool cluster = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--events") == 0 && i + 1 < argc)
            n = atoi (argv[++i]);
        else if (strcmp (argv[i], "--no-cluster") == 0)
            cluster = false;
        else {
            fputs (USAGE, strcmp (argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp (argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (n < 100 || n > CAP_EVENTS_MAX) {
        fprintf (stderr, "bench_capacity: --events must be in [100, %d]\n", CAP_EVENTS_MAX);
        return 2;
    }
    static e2e_stack_t single, clustered;
    static harness_cluster_t nodes;
    if (stack_init (&single) != 0) {
        fprintf (stderr, "bench_capacity: cannot start RabbitMQ\n");
        return 1;
    }
    printf ("bench_capacity: %d events per stage, logs in %s\n", n, harness_tmpdir ());
    char description[32];
    snprintf (description, sizeof description, "bench %d", n - 1);
    notification_sample_t sample;
    if (notification_sample_take (&single, "bench", description, &sample) != 0) {
        fprintf (stderr, "bench_capacity: could not measure Herald's notification size\n");
        stack_fini (&single);
        return 1;
    }
    s_setup_t setups[CAP_SETUPS] = {
        { .name = "1 node, classic", .stack = &single },
        { .name = "1 node, quorum", .stack = &single, .quorum = true },
        { .name = "3 nodes, quorum x3", .stack = &clustered, .quorum = true },
    };
    int n_setups = 2;
    s_measure (&setups[0], &sample, n);
    s_measure (&setups[1], &sample, n);
    double store = s_store_rate (&single, n);
    if (cluster) {
        if (harness_cluster_start (&nodes, CAP_CLUSTER_NODES) != 0
            || stack_init_on (&clustered, &nodes.nodes[0]) != 0)
            fprintf (stderr, "bench_capacity: the %d-node cluster did not start; skipped\n",
                     CAP_CLUSTER_NODES);
        else {
            setups[2].urls = nodes.urls;
            s_measure (&setups[2], &sample, n);
            n_setups = 3;
            stack_fini (&clustered);
        }
        harness_cluster_stop (&nodes);
    }
    s_model (setups, n_setups, store);
    stack_fini (&single);
    int rc = store > 0 ? 0 : 1;
    for (int i = 0; i < n_setups; i++)
        if (!setups[i].ok)
            rc = 1;
    return rc;
}
