/*
 * bench_e2e — end-to-end figures for issue 4 (docs/ARCHITECTURE.md §8),
 * measured on the real binaries and a private RabbitMQ node, persistent
 * messages and publisher confirms on:
 *   1. sustained events/s from POST to `processed`, 1 and 2 workers: N
 *      events POSTed by several client threads as fast as the gateway takes
 *      them; the clock runs from the first POST until the last event reads
 *      processed;
 *   2. p50/p99/max latency POST → processed at a fixed offered rate
 *      (default 500 events/s), 1 and 2 workers.
 * "Processed" is observed on the store's live PUB stream (an observer, which
 * is what it is for): the moment the store applies the worker's PUT
 * {"status":"processed"} is the moment the event is processed, stamped in a
 * subscriber thread. PUB may drop under load, so every run also checks the
 * count through the API and the workers' lines, and says how many latencies
 * were measured.
 * Usage: bench_e2e [events=20000] [rate=500] [seconds=10] [posters=4]
 */
#include "proto.h"
#include "stack.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define POSTERS_MAX 16

typedef struct {
    e2e_stack_t *stack;
    int first, count; /* event numbers this poster sends */
    int rate;         /* events/s for this poster, 0 = as fast as possible */
    int64_t *sent_us; /* per event number */
    int failed;
} poster_t;

static atomic_int s_seen;  /* bench events seen processed */
static atomic_bool s_warm; /* the warm-up event was seen processed */
static atomic_bool s_sub_stop;
static int64_t *s_done_us; /* per event number, 0 = not yet */
static int s_total;

static size_t
s_discard (char *data, size_t size, size_t nmemb, void *arg)
{
    return size * nmemb;
}

static void *
s_post_thread (void *arg)
{
    poster_t *p = arg;
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    char url[128], body[128];
    snprintf (url, sizeof url, "%s/events", p->stack->gateway_url);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 10000L);
    int64_t start = clock_mono_us ();
    for (int i = 0; i < p->count; i++) {
        int k = p->first + i;
        if (p->rate > 0) {
            int64_t wait = start + (int64_t)i * 1000000 / p->rate - clock_mono_us ();
            if (wait > 0) {
                struct timespec ts = { wait / 1000000, (wait % 1000000) * 1000 };
                nanosleep (&ts, NULL);
            }
        }
        snprintf (body, sizeof body, "{\"user_id\":\"bench\",\"description\":\"bench %d\"}", k);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        p->sent_us[k] = clock_mono_us ();
        long code = 0;
        if (curl_easy_perform (curl) == CURLE_OK)
            curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
        if (code != 201)
            p->failed++;
    }
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return NULL;
}

/* Stamps each "bench <k>" event when the store publishes it processed. */
static void *
s_sub_thread (void *arg)
{
    e2e_stack_t *stack = arg;
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int hwm = 0, linger = 0;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "event.updated", 13);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", stack->pub_port);
    zmq_connect (sub, endpoint);
    proto_limits_t limits = proto_limits_default ();
    char buf[8192];
    while (!atomic_load (&s_sub_stop)) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 50) <= 0)
            continue;
        int more = 0;
        size_t more_size = sizeof more;
        int n;
        do { /* frame 1 topic, frame 2 the notification: keep the last */
            n = zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT);
            zmq_getsockopt (sub, ZMQ_RCVMORE, &more, &more_size);
        } while (more && n >= 0);
        int64_t now = clock_mono_us ();
        proto_change_t note;
        proto_error_t err;
        if (n < 0 || (size_t)n > sizeof buf
            || proto_notification_decode (buf, (size_t)n, &limits, &note, &err) != PROTO_DECODE_OK
            || note.event.status.len != 9 || memcmp (note.event.status.ptr, "processed", 9) != 0)
            continue;
        const char *d = note.event.description.ptr;
        size_t len = note.event.description.len;
        if (len == 6 && memcmp (d, "warmup", 6) == 0) {
            atomic_store (&s_warm, true);
            continue;
        }
        if (len < 7 || len > 20 || memcmp (d, "bench ", 6) != 0)
            continue;
        char number[16];
        memcpy (number, d + 6, len - 6);
        number[len - 6] = '\0';
        int k = atoi (number);
        if (k >= 0 && k < s_total && !s_done_us[k]) {
            s_done_us[k] = now;
            atomic_fetch_add (&s_seen, 1);
        }
    }
    zmq_close (sub);
    zmq_ctx_term (ctx);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void
s_wait_us (int64_t us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep (&ts, NULL);
}

/* One measured run. rate 0 = throughput; else latency at that rate. */
static int
s_run (e2e_stack_t *stack, int workers, int n, int rate, int posters)
{
    stack_begin (stack);
    const char *quiet[] = { "--log-level", "warn", NULL };
    if (stack_start_store (stack, 1000000) || stack_start_gateway (stack)
        || stack_start_notifier (stack))
        return -1;
    for (int w = 0; w < workers; w++)
        if (stack_start_worker (stack, w, quiet))
            return -1;
    s_total = n;
    int64_t *sent = calloc ((size_t)n, sizeof *sent);
    s_done_us = calloc ((size_t)n, sizeof *s_done_us);
    atomic_store (&s_seen, 0);
    atomic_store (&s_warm, false);
    atomic_store (&s_sub_stop, false);
    pthread_t sub, threads[POSTERS_MAX];
    pthread_create (&sub, NULL, s_sub_thread, stack);
    /* Warm up: one event through the whole path, seen on the subscriber,
       before the clock starts (also proves the subscription is live). */
    char id[STACK_ID_LEN + 1];
    int64_t warm_deadline = clock_mono_us () + 30 * 1000000LL;
    while (!atomic_load (&s_warm) && clock_mono_us () < warm_deadline) {
        stack_post (stack, "warmup", "warmup", id);
        for (int i = 0; i < 100 && !atomic_load (&s_warm); i++)
            s_wait_us (10000);
    }
    int warm = stack_count_processed (stack);

    poster_t p[POSTERS_MAX];
    int64_t t0 = clock_mono_us ();
    for (int i = 0; i < posters; i++) {
        int first = i * (n / posters);
        p[i] = (poster_t){ stack,          first, i == posters - 1 ? n - first : n / posters,
                           rate / posters, sent,  0 };
        pthread_create (&threads[i], NULL, s_post_thread, &p[i]);
    }
    int failed = 0;
    for (int i = 0; i < posters; i++) {
        pthread_join (threads[i], NULL);
        failed += p[i].failed;
    }
    int64_t t_posted = clock_mono_us ();
    int64_t deadline = t_posted + 120 * 1000000LL;
    while (atomic_load (&s_seen) < n - failed && clock_mono_us () < deadline)
        s_wait_us (1000);
    int64_t t1 = clock_mono_us ();
    atomic_store (&s_sub_stop, true);
    pthread_join (sub, NULL);
    int seen = atomic_load (&s_seen);
    int processed = stack_wait_processed (stack, n + warm - failed, 30000) - warm;
    int lines = 0;
    for (int w = 0; w < workers; w++)
        lines += harness_count_lines (stack->worker_out[w], ": bench ");

    int64_t *lat = calloc ((size_t)n, sizeof *lat);
    int m = 0;
    int64_t last = 0;
    for (int k = 0; k < n; k++)
        if (s_done_us[k] && sent[k]) {
            lat[m++] = s_done_us[k] - sent[k];
            if (s_done_us[k] > last)
                last = s_done_us[k];
        }
    qsort (lat, (size_t)m, sizeof *lat, s_cmp);
    double secs = (double)((seen == n - failed ? last : t1) - t0) / 1e6;
    if (rate == 0)
        printf ("throughput  workers=%d posters=%d events=%d posted_in=%.2fs processed_in=%.2fs "
                "=> %.0f events/s POST->processed (POST alone %.0f/s); processed=%d lines=%d "
                "failed_posts=%d%s\n",
                workers, posters, n, (double)(t_posted - t0) / 1e6, secs, seen / secs,
                n / ((double)(t_posted - t0) / 1e6), processed, lines, failed,
                seen < n - failed ? " (PUB dropped some: time is an upper bound)" : "");
    else
        printf ("latency     workers=%d offered=%d/s events=%d POST->processed p50=%.1fms "
                "p99=%.1fms max=%.1fms measured=%d processed=%d lines=%d failed_posts=%d\n",
                workers, rate, n, m ? lat[m / 2] / 1000.0 : -1,
                m ? lat[(m * 99) / 100] / 1000.0 : -1, m ? lat[m - 1] / 1000.0 : -1, m, processed,
                lines, failed);
    fflush (stdout);
    free (lat);
    free (sent);
    free (s_done_us);
    s_done_us = NULL;
    stack_end (stack);
    return processed == n - failed && lines >= processed ? 0 : -1;
}

int
main (int argc, char *argv[])
{
    int n = argc > 1 ? atoi (argv[1]) : 20000;
    int rate = argc > 2 ? atoi (argv[2]) : 500;
    int seconds = argc > 3 ? atoi (argv[3]) : 10;
    int posters = argc > 4 ? atoi (argv[4]) : 4;
    if (n <= 0 || rate <= 0 || seconds <= 0 || posters <= 0 || posters > POSTERS_MAX) {
        fprintf (stderr, "usage: bench_e2e [events] [rate] [seconds] [posters<=%d]\n", POSTERS_MAX);
        return 2;
    }
    static e2e_stack_t stack;
    if (stack_init (&stack) != 0) {
        fprintf (stderr, "bench_e2e: cannot start RabbitMQ\n");
        return 1;
    }
    printf ("bench_e2e: persistent messages, publisher confirms, logs in %s\n", harness_tmpdir ());
    int rc = 0;
    rc |= s_run (&stack, 1, n, 0, posters);
    rc |= s_run (&stack, 2, n, 0, posters);
    rc |= s_run (&stack, 1, rate * seconds, rate, 2);
    rc |= s_run (&stack, 2, rate * seconds, rate, 2);
    stack_fini (&stack);
    return rc ? 1 : 0;
}
