/*
 * bench_e2e — end-to-end figures for issues 4 and 15 (docs/ARCHITECTURE.md
 * §8), measured on the real binaries and a private RabbitMQ node, persistent
 * messages and publisher confirms on:
 *   1. sustained events/s from POST to `processed`, 1 and 2 workers: N
 *      events POSTed as fast as the gateway takes them by `posters` client
 *      threads, each with `connections` keep-alive connections in flight
 *      (poster.h); the clock runs from the first POST until the last event
 *      reads processed. Beside it, the POST side's own rate (201s per second
 *      of the posting phase), so a reader sees whether the clients and the
 *      gateway or what is behind them (notifier, broker, workers) set the
 *      pace;
 *   2. the bare broker's ceiling on the same node (broker_ceiling.h): a
 *      rabbitmq-c publisher with confirms and a consumer with manual acks,
 *      N persistent messages of the size Herald's notifier sends
 *      (notification_sample.h). The machine is shared and drifts, so the
 *      ceiling is measured before, between and after the two throughput
 *      runs, and Herald's rate is reported as a ratio to their median.
 *      Once more, "relayed", with the broker traffic Herald's design gives
 *      each event: the message, then its event.updated publish, confirmed
 *      and routed to no queue, as herald-notifier relays every change. The
 *      ratio to it says how much of the gap is that traffic (information
 *      beside issue 15's target, which is against the plain ceiling);
 *   3. p50/p99/max latency POST → processed at a fixed offered rate
 *      (default 500 events/s), 1 and 2 workers.
 * A summary closes the run: each figure against issue 15's targets, as
 * PASS or MISS (printed, never asserted: this is a benchmark, not a test).
 * Each throughput and ceiling run also says where the CPU went
 * (cpu_budget.h): every service's, RabbitMQ's and the benchmark clients'
 * microseconds per event (per message for the ceiling), and the summary
 * compares the two: the ratio to the ceiling that the CPU per event allows
 * on these shared cores.
 *
 * "Processed" is the moment the store applies the worker's PUT
 * {"status":"processed"}. A latency run stamps each event as it reads that
 * change on the store's live PUB stream (processed_watch.h). A throughput
 * run needs only the last one: it polls the store's head (one change per
 * create, one per update) every millisecond once the posts are answered, so
 * that no subscriber makes the store encode and send every update (CPU the
 * ceiling's run does not spend). PUB may drop under load, so every run
 * also checks the count through the API and the workers' lines, and says
 * how many latencies were measured. Every wait is bounded, so the program always ends by itself.
 */
#include "broker.h"
#include "broker_ceiling.h"
#include "cpu_budget.h"
#include "notification_sample.h"
#include "poster.h"
#include "processed_watch.h"
#include "stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE                                                                                      \
    "usage: bench_e2e [events=20000] [rate=500] [seconds=10] [posters=2] [connections=32] "        \
    "[queue=classic] [rounds=1]\n"                                                                 \
    "  events       N: events per throughput run, and messages per broker-ceiling run\n"           \
    "  rate         events/s offered in the latency runs (issue 15's target is for 500)\n"         \
    "  seconds      length of each latency run\n"                                                  \
    "  posters      client threads POSTing (at most %d)\n"                                         \
    "  connections  keep-alive connections in flight per poster thread (at most %d)\n"             \
    "  queue        classic or quorum: herald.notifications and the ceiling's queue\n"             \
    "               (the services' --queue-type)\n"                                                \
    "  rounds       throughput rounds (at most %d): each runs 1 and 2 workers, a ceiling\n"        \
    "               before each run and one after the last; medians are judged\n"

#define ROUNDS_MAX 5 /* throughput rounds of 1 and 2 workers */
/* A ceiling before, between and after the two throughput runs of a round,
   the one after a round being the next round's before. */
#define CEILINGS_MAX (2 * ROUNDS_MAX + 1)
/* The bare publisher and consumer run with the defaults of the services they
   stand for: herald-notifier's --window and herald-worker's --prefetch. */
#define CEILING_WINDOW 2000
#define CEILING_PREFETCH 256
#define CEILING_TIMEOUT_MS 300000
#define POST_DEADLINE_S 300  /* the whole posting phase of one run */
#define PROCESSED_WAIT_S 120 /* after the last POST, for the last processed */
/* Issue 15's targets. */
#define TARGET_RATIO 0.5              /* end to end ≥ 0.5 × the ceiling */
#define TARGET_RATE 3000.0            /* ≥ 3,000 events/s ... */
#define TARGET_RATE_IF_CEILING 6000.0 /* ... whenever the ceiling is ≥ 6,000/s */
#define TARGET_LATENCY_RATE 500       /* p99 at 500 events/s ... */
#define TARGET_P99_MS 50.0            /* ... ≤ 50 ms */
/* POST side faster than processing by this factor: what is behind the
   gateway set the pace, not the clients. */
#define BOUND_FACTOR 1.25

/* What one measured run found. */
typedef struct {
    int workers, events, rate; /* rate 0: a throughput run */
    double processed_rate;     /* events/s first POST → last processed */
    double post_rate;          /* 201s/s first POST → last POST answer */
    double p50_ms, p99_ms, max_ms;
    int measured;     /* latencies measured (PUB may drop some) */
    bool ok;          /* every posted event processed, and printed by a worker */
    double cpu_us;    /* CPU per event, every part (cpu_budget.h); -1 unknown */
    double herald_us; /* of which Herald's services */
    double cores;     /* cores busy on average during the run */
    /* Of a median over rounds (s_median_run): how many, and their events/s
       spread. */
    int rounds;
    double rate_lo, rate_hi;
} s_figures_t;

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* One measured run of Herald, printed as one line. rate 0 = throughput;
   else latency at that rate. Starts and ends its own scenario of stack. */
static s_figures_t
s_run (e2e_stack_t *stack, int workers, int n, int rate, int posters, int connections)
{
    s_figures_t f = { .workers = workers, .events = n, .rate = rate, .cpu_us = -1 };
    stack_begin (stack);
    /* The store as every deployment runs it (scripts/run.sh, compose): on a
       journal with its default --fsync always. The ceiling's messages are
       persistent and confirmed; Herald's events are as durable. */
    snprintf (stack->store_data_dir, sizeof stack->store_data_dir, "%s/run%d-store-data",
              harness_tmpdir (), stack->run);
    const char *quiet[] = { "--log-level", "warn", stack->quorum ? "--queue-type" : NULL, "quorum",
                            NULL };
    if (stack_start_store (stack, 1000000) || stack_start_gateway (stack)
        || stack_start_notifier_with (stack, quiet + 2)) {
        stack_end (stack);
        return f;
    }
    for (int w = 0; w < workers; w++)
        if (stack_start_worker (stack, w, quiet)) {
            stack_end (stack);
            return f;
        }
    int64_t *sent = calloc ((size_t)n, sizeof *sent);
    int64_t *lat = calloc ((size_t)n, sizeof *lat);
    processed_watch_t *watch = processed_watch_start (stack->pub_port, "bench ", n);
    if (!sent || !lat || !watch) {
        free (sent);
        free (lat);
        processed_watch_stop (&watch);
        stack_end (stack);
        return f;
    }
    /* Warm up: one event through the whole path, seen on the subscriber,
       before the clock starts (also proves the subscription is live). */
    char id[STACK_ID_LEN + 1];
    int64_t warm_deadline = clock_mono_us () + 30 * 1000000LL;
    int warm_posted = 0;
    while (!processed_watch_warm (watch) && clock_mono_us () < warm_deadline) {
        if (stack_post (stack, "warmup", "warmup", id) == 201)
            warm_posted++;
        for (int i = 0; i < 100 && !processed_watch_warm (watch); i++)
            harness_nap_ms (10);
    }
    int warm = stack_wait_processed (stack, warm_posted, 30000);
    /* A throughput run reads its end from the store's head (one change for
       each create, one for each "processed"), not from the PUB stream: a
       subscriber would have the store encode and send every update and this
       process read it, CPU that the ceiling's run does not spend and that no
       deployment without an observer does. */
    uint64_t head0 = 0, events0 = 0;
    if (rate == 0) {
        processed_watch_stop (&watch);
        stack_store_stats_t settled;
        if (stack_wait_store_settled (stack, 0, 30000, &settled) != 0) {
            free (sent);
            free (lat);
            stack_end (stack);
            return f;
        }
        head0 = settled.head;
        events0 = settled.events;
    }
    cpu_budget_t cpu;
    cpu_budget_init (&cpu);
    cpu_budget_add (&cpu, "store", CPU_BUDGET_HERALD, stack->store);
    cpu_budget_add (&cpu, "gateway", CPU_BUDGET_HERALD, stack->gateway);
    cpu_budget_add (&cpu, "notifier", CPU_BUDGET_HERALD, stack->notifier);
    for (int w = 0; w < workers; w++) {
        char name[24];
        snprintf (name, sizeof name, "worker%d", w + 1);
        cpu_budget_add (&cpu, name, CPU_BUDGET_HERALD, stack->workers[w]);
    }
    cpu_budget_add_rabbit (&cpu, stack->rabbit.dir);
    cpu_budget_add (&cpu, "bench", CPU_BUDGET_CLIENT, 0);
    cpu_budget_start (&cpu);

    int64_t t0 = clock_mono_us (), t_posted;
    int failed;
    int created = poster_post_all (stack->gateway_url, n, rate, posters, connections, sent,
                                   POST_DEADLINE_S * 1000, &failed, &t_posted);
    if (!t_posted)
        t_posted = clock_mono_us ();
    int seen;
    int64_t last = 0;
    if (watch)
        seen = processed_watch_wait (watch, created, PROCESSED_WAIT_S * 1000);
    else {
        /* The store's own count of creates, not the 201s: a POST the
           poster gave up on may still have made an event, and its update
           moves the head too. Each create is one change, each processed
           event one more. */
        stack_store_stats_t posted;
        uint64_t made = (uint64_t)created, head = 0;
        if (stack_store_stats (stack, &posted) == 0 && posted.events >= events0 + made)
            made = posted.events - events0;
        last = stack_wait_store_head (stack, head0 + 2 * made, PROCESSED_WAIT_S * 1000, &head);
        /* Not all processed in time: the updates the head shows, and the
           run is reported as such (seen < created). */
        uint64_t updates = head > head0 + made ? head - head0 - made : 0;
        seen = last ? created : (int)(updates < (uint64_t)created ? updates : (uint64_t)created);
    }
    int64_t t1 = clock_mono_us ();
    cpu_budget_stop (&cpu);
    int processed = stack_wait_processed (stack, created + warm, 30000) - warm;
    int lines = 0;
    for (int w = 0; w < workers; w++)
        lines += harness_count_lines (stack->worker_out[w], ": bench ");

    int m = 0;
    for (int k = 0; watch && k < n; k++) {
        int64_t done = processed_watch_at (watch, k);
        if (done && sent[k]) {
            lat[m++] = done - sent[k];
            if (done > last)
                last = done;
        }
    }
    processed_watch_stop (&watch);
    qsort (lat, (size_t)m, sizeof *lat, s_cmp);
    double secs = (double)((seen == created ? last : t1) - t0) / 1e6;
    double post_secs = (double)(t_posted - t0) / 1e6;
    f.processed_rate = secs > 0 ? seen / secs : 0;
    f.post_rate = post_secs > 0 ? created / post_secs : 0;
    f.measured = m;
    f.p50_ms = m ? lat[m / 2] / 1000.0 : -1;
    f.p99_ms = m ? lat[(m * 99) / 100] / 1000.0 : -1;
    f.max_ms = m ? lat[m - 1] / 1000.0 : -1;
    f.ok = created > 0 && processed == created && lines >= processed;
    if (rate == 0)
        printf ("throughput  workers=%d posters=%dx%d events=%d posted_in=%.2fs processed_in=%.2fs "
                "=> %.0f events/s POST->processed, POST side %.0f 201s/s; processed=%d lines=%d "
                "failed_posts=%d%s\n",
                workers, posters, connections, n, post_secs, secs, f.processed_rate, f.post_rate,
                processed, lines, failed,
                seen < created ? " (not all seen processed: time is an upper bound)" : "");
    if (rate == 0 && created > 0) {
        cpu_budget_print (&cpu, created, "event");
        f.cpu_us = cpu_budget_total (&cpu, -1, created);
        f.herald_us = cpu_budget_total (&cpu, CPU_BUDGET_HERALD, created);
        f.cores = cpu_budget_cores (&cpu);
    } else if (rate == 0)
        printf ("cpu         n/a (no event created)\n");
    if (rate != 0)
        printf ("latency     workers=%d offered=%d/s events=%d POST->processed p50=%.1fms "
                "p99=%.1fms max=%.1fms measured=%d processed=%d lines=%d failed_posts=%d\n",
                workers, rate, n, f.p50_ms, f.p99_ms, f.max_ms, m, processed, lines, failed);
    fflush (stdout);
    free (lat);
    free (sent);
    stack_end (stack);
    return f;
}

/* One broker-ceiling run of n messages shaped like sample, each followed
   by its event.updated publish when updates (broker_ceiling.h), printed as
   one line, then its CPU per message (RabbitMQ and this process's
   publisher and consumer) into *cpu_us (-1 unknown). Returns its rate, or
   0 when it failed. */
static double
s_ceiling (e2e_stack_t *stack, const notification_sample_t *sample, int n, const char *when,
           bool updates, double *cpu_us)
{
    broker_ceiling_config_t config = { .url = stack->rabbit.url,
                                       .messages = n,
                                       .body_len = sample->body_len,
                                       .message_id_len = sample->message_id_len,
                                       .correlation_id_len = sample->correlation_id_len,
                                       .window = CEILING_WINDOW,
                                       .prefetch = CEILING_PREFETCH,
                                       .queue_max = BROKER_QUEUE_MAX_DEFAULT,
                                       .timeout_ms = CEILING_TIMEOUT_MS,
                                       .updates = updates,
                                       .quorum = stack->quorum };
    broker_ceiling_result_t r;
    cpu_budget_t cpu;
    cpu_budget_init (&cpu);
    cpu_budget_add_rabbit (&cpu, stack->rabbit.dir);
    cpu_budget_add (&cpu, "bench", CPU_BUDGET_CLIENT, 0);
    cpu_budget_start (&cpu);
    int rc = broker_ceiling_run (&config, &r);
    cpu_budget_stop (&cpu);
    printf ("ceiling     %-7s  messages=%d acked=%d in %.2fs (all confirmed in %.2fs) => %.0f "
            "msg/s publish->ack, bare broker%s; nacked=%d%s\n",
            when, n, r.acked, r.seconds, r.confirm_seconds, r.rate,
            updates ? " + an event.updated publish per message" : "", r.nacked,
            rc ? " FAILED" : "");
    *cpu_us = rc ? -1 : cpu_budget_total (&cpu, -1, r.acked);
    if (!rc)
        cpu_budget_print (&cpu, r.acked, "message");
    fflush (stdout);
    return rc ? 0 : r.rate;
}

static const char *
s_verdict (bool pass)
{
    return pass ? "PASS" : "MISS";
}

/* The throughput runs of `workers` workers among tput, as one: the median
   of each figure over the rounds, ok when every run was, with the number of
   rounds and the spread of their events/s. */
static s_figures_t
s_median_run (const s_figures_t *tput, int n_tput, int workers)
{
    double rate[2 * ROUNDS_MAX], post[2 * ROUNDS_MAX], cpu[2 * ROUNDS_MAX], herald[2 * ROUNDS_MAX],
        cores[2 * ROUNDS_MAX];
    int n = 0, n_cpu = 0;
    s_figures_t out = { .workers = workers, .ok = true, .cpu_us = -1 };
    for (int i = 0; i < n_tput && n < 2 * ROUNDS_MAX; i++) {
        const s_figures_t *f = &tput[i];
        if (f->workers != workers)
            continue;
        out.events = f->events;
        out.ok = out.ok && f->ok;
        out.rate_lo = n == 0 || f->processed_rate < out.rate_lo ? f->processed_rate : out.rate_lo;
        out.rate_hi = n == 0 || f->processed_rate > out.rate_hi ? f->processed_rate : out.rate_hi;
        rate[n] = f->processed_rate;
        post[n++] = f->post_rate;
        if (f->cpu_us > 0) {
            cpu[n_cpu] = f->cpu_us;
            herald[n_cpu] = f->herald_us;
            cores[n_cpu++] = f->cores;
        }
    }
    out.rounds = n;
    if (n > 0) {
        out.processed_rate = harness_median (rate, n);
        out.post_rate = harness_median (post, n);
    }
    if (n_cpu > 0) {
        out.cpu_us = harness_median (cpu, n_cpu);
        out.herald_us = harness_median (herald, n_cpu);
        out.cores = harness_median (cores, n_cpu);
    }
    return out;
}

/* CPU per event of each throughput run against the ceiling's per message
   (median of its runs): the ratio to the ceiling this CPU allows if both
   kept the cores equally busy. */
static void
s_cpu_summary (const double *ceiling_cpu, int n_ceilings, const s_figures_t *tput, int n_tput)
{
    double sorted[CEILINGS_MAX];
    int n_ok = 0;
    for (int i = 0; i < n_ceilings && n_ok < CEILINGS_MAX; i++)
        if (ceiling_cpu[i] > 0)
            sorted[n_ok++] = ceiling_cpu[i];
    if (n_ok == 0) {
        printf ("  cpu: the ceiling's CPU per message is unknown; no cpu-bound ratio\n");
        return;
    }
    double per_msg = harness_median (sorted, n_ok);
    printf ("  cpu: the ceiling spends %.1f us per message (RabbitMQ + its bare clients, median)\n",
            per_msg);
    for (int i = 0; i < n_tput; i++) {
        const s_figures_t *f = &tput[i];
        if (f->cpu_us <= 0)
            continue;
        printf ("  cpu: %d worker%s: %.1f us per event (Herald's services %.1f), %.2f cores busy; "
                "cpu-bound ratio %.2f\n",
                f->workers, f->workers > 1 ? "s" : "", f->cpu_us, f->herald_us, f->cores,
                per_msg / f->cpu_us);
    }
    printf (
        "  cpu-bound ratio = the ceiling's CPU per message / the run's CPU per event: the x ceil "
        "this CPU allows\n  when both runs keep the same cores equally busy.\n");
}

/* The closing table: each throughput run against the median ceiling, each
   latency run against the p99 target. */
static void
s_summary (const double *ceilings, const double *ceiling_cpu, int n_ceilings,
           const s_figures_t *tput, int n_tput, const s_figures_t *lat, int n_lat)
{
    double sorted[CEILINGS_MAX];
    int n_ok = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < n_ceilings && n_ok < CEILINGS_MAX; i++)
        if (ceilings[i] > 0) {
            lo = n_ok == 0 || ceilings[i] < lo ? ceilings[i] : lo;
            hi = ceilings[i] > hi ? ceilings[i] : hi;
            sorted[n_ok++] = ceilings[i];
        }
    double ceiling = harness_median (sorted, n_ok);
    printf ("\nsummary (issue 15 targets; printed, not asserted)\n");
    if (n_ok == 0)
        printf ("  broker ceiling: no run succeeded; ratios not available\n");
    else
        printf ("  broker ceiling: median %.0f msg/s of %d runs (spread %.0f..%.0f)\n", ceiling,
                n_ok, lo, hi);
    printf ("  %-20s %10s %12s %-10s %8s  %s\n", "run", "events/s", "POST 201s/s", "bound by",
            "x ceil", "targets");
    for (int i = 0; i < n_tput; i++) {
        const s_figures_t *f = &tput[i];
        char run[32];
        snprintf (run, sizeof run, "throughput %d worker%s", f->workers, f->workers > 1 ? "s" : "");
        const char *bound = f->post_rate > BOUND_FACTOR * f->processed_rate ? "relay" : "POST side";
        char targets[160];
        if (n_ok == 0)
            snprintf (targets, sizeof targets, "n/a (no ceiling)");
        else {
            double ratio = f->processed_rate / ceiling;
            int at = snprintf (targets, sizeof targets, ">=%.1fx ceiling %s; ", TARGET_RATIO,
                               s_verdict (ratio >= TARGET_RATIO));
            if (ceiling >= TARGET_RATE_IF_CEILING)
                snprintf (targets + at, sizeof targets - (size_t)at, ">=%.0f/s %s", TARGET_RATE,
                          s_verdict (f->processed_rate >= TARGET_RATE));
            else
                snprintf (targets + at, sizeof targets - (size_t)at,
                          ">=%.0f/s n/a (ceiling < %.0f/s)", TARGET_RATE, TARGET_RATE_IF_CEILING);
        }
        char ratio[16] = "-";
        if (n_ok)
            snprintf (ratio, sizeof ratio, "%.2f", f->processed_rate / ceiling);
        printf ("  %-20s %10.0f %12.0f %-10s %8s  %s%s\n", run, f->processed_rate, f->post_rate,
                bound, ratio, targets, f->ok ? "" : " (run incomplete)");
        if (f->rounds > 1 && n_ok)
            printf ("  %-20s medians of %d rounds: x ceil %.2f..%.2f (%.0f..%.0f events/s)\n", "",
                    f->rounds, f->rate_lo / ceiling, f->rate_hi / ceiling, f->rate_lo, f->rate_hi);
    }
    s_cpu_summary (ceiling_cpu, n_ceilings, tput, n_tput);
    for (int i = 0; i < n_lat; i++) {
        const s_figures_t *f = &lat[i];
        char run[32];
        snprintf (run, sizeof run, "latency %d worker%s", f->workers, f->workers > 1 ? "s" : "");
        if (f->rate == TARGET_LATENCY_RATE)
            printf ("  %-20s p99 %.1f ms at %d/s: <=%.0f ms %s%s\n", run, f->p99_ms, f->rate,
                    TARGET_P99_MS, s_verdict (f->measured > 0 && f->p99_ms <= TARGET_P99_MS),
                    f->ok ? "" : " (run incomplete)");
        else
            printf ("  %-20s p99 %.1f ms at %d/s: n/a (the target is for %d/s)\n", run, f->p99_ms,
                    f->rate, TARGET_LATENCY_RATE);
    }
    fflush (stdout);
}

/* The throughput runs against the ceiling run with Herald's own broker
   traffic (an event.updated publish per message): how much of the gap to
   the plain ceiling is the broker work DESIGN gives each event, and how
   much is Herald's. Information beside the target, not a target. */
static void
s_relayed_summary (double relayed, double relayed_cpu, const s_figures_t *tput, int n_tput)
{
    if (relayed <= 0) {
        printf ("  relayed ceiling: the run failed; no ratio\n");
        return;
    }
    printf ("  relayed ceiling (each message also publishes its event.updated, confirmed, to no "
            "queue, as herald-notifier does):\n  %.0f msg/s, %.1f us per message;",
            relayed, relayed_cpu);
    for (int i = 0; i < n_tput; i++)
        printf (" %d worker%s %.2fx", tput[i].workers, tput[i].workers > 1 ? "s" : "",
                tput[i].processed_rate / relayed);
    printf (" of it (information, not a target)\n");
    fflush (stdout);
}

int
main (int argc, char *argv[])
{
    int n = argc > 1 ? atoi (argv[1]) : 20000;
    int rate = argc > 2 ? atoi (argv[2]) : 500;
    int seconds = argc > 3 ? atoi (argv[3]) : 10;
    int posters = argc > 4 ? atoi (argv[4]) : 2;
    int connections = argc > 5 ? atoi (argv[5]) : 32;
    const char *queue = argc > 6 ? argv[6] : "classic";
    bool quorum = strcmp (queue, "quorum") == 0;
    int rounds = argc > 7 ? atoi (argv[7]) : 1;
    if (argc > 8 || (!quorum && strcmp (queue, "classic") != 0) || n <= 0 || rate <= 0
        || seconds <= 0 || posters <= 0 || posters > POSTER_THREADS_MAX || connections <= 0
        || connections > POSTER_CONNECTIONS_MAX || rounds <= 0 || rounds > ROUNDS_MAX) {
        fprintf (stderr, USAGE, POSTER_THREADS_MAX, POSTER_CONNECTIONS_MAX, ROUNDS_MAX);
        return 2;
    }
    static e2e_stack_t stack;
    if (stack_init (&stack) != 0) {
        fprintf (stderr, "bench_e2e: cannot start RabbitMQ\n");
        return 1;
    }
    stack.quorum = quorum; /* how the services and the tests' own connections declare */
    printf ("bench_e2e: persistent messages, publisher confirms, %s queues, logs in %s\n", queue,
            harness_tmpdir ());
    /* The largest event number gives the longest description: the sample is
       the size of the bench's largest notification. */
    char description[32];
    snprintf (description, sizeof description, "bench %d", n - 1);
    notification_sample_t sample;
    int rc = 0;
    if (notification_sample_take (&stack, "bench", description, &sample) != 0) {
        fprintf (stderr, "bench_e2e: could not measure Herald's notification size\n");
        stack_fini (&stack);
        return 1;
    }
    printf (
        "notification: body %zu B MessagePack, message_id %zu B, correlation_id %zu B; "
        "ceiling: 1 publisher (window %d) + 1 consumer (prefetch %d), queue " BROKER_CEILING_QUEUE
        "\n",
        sample.body_len, sample.message_id_len, sample.correlation_id_len, CEILING_WINDOW,
        CEILING_PREFETCH);
    double ceilings[CEILINGS_MAX], ceiling_cpu[CEILINGS_MAX];
    s_figures_t tput[2 * ROUNDS_MAX], lat[2];
    int n_ceilings = 0, n_tput = 0;
    for (int r = 0; r < rounds; r++) {
        char when[2][16] = { "before", "between" };
        if (rounds > 1) {
            snprintf (when[0], sizeof when[0], "r%d a", r + 1);
            snprintf (when[1], sizeof when[1], "r%d b", r + 1);
        }
        for (int workers = 1; workers <= 2; workers++) {
            ceilings[n_ceilings] =
                s_ceiling (&stack, &sample, n, when[workers - 1], false, &ceiling_cpu[n_ceilings]);
            n_ceilings++;
            tput[n_tput++] = s_run (&stack, workers, n, 0, posters, connections);
        }
    }
    ceilings[n_ceilings] = s_ceiling (&stack, &sample, n, "after", false, &ceiling_cpu[n_ceilings]);
    n_ceilings++;
    double relayed_cpu, relayed = s_ceiling (&stack, &sample, n, "relayed", true, &relayed_cpu);
    lat[0] = s_run (&stack, 1, rate * seconds, rate, 2, connections);
    lat[1] = s_run (&stack, 2, rate * seconds, rate, 2, connections);
    s_figures_t runs[2] = { s_median_run (tput, n_tput, 1), s_median_run (tput, n_tput, 2) };
    s_summary (ceilings, ceiling_cpu, n_ceilings, runs, 2, lat, 2);
    s_relayed_summary (relayed, relayed_cpu, runs, 2);
    for (int i = 0; i < n_tput; i++)
        if (!tput[i].ok)
            rc = 1;
    for (int i = 0; i < 2; i++)
        if (!lat[i].ok)
            rc = 1;
    for (int i = 0; i < n_ceilings; i++)
        if (ceilings[i] <= 0)
            rc = 1;
    if (relayed <= 0)
        rc = 1;
    stack_fini (&stack);
    return rc;
}
