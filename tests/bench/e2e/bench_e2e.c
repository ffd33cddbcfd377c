/*
 * bench_e2e — end-to-end figures for issue 4 (DESIGN §7), measured on the
 * real binaries and a private RabbitMQ node, persistent messages and
 * publisher confirms on:
 *   1. sustained events/s from POST to the worker's line, 1 and 2 workers:
 *      N events POSTed by two client threads as fast as the gateway takes
 *      them; the clock stops when the last line appears, and the events are
 *      then checked "processed" through the API;
 *   2. p50/p99/max latency at a fixed offered rate (default 500 events/s):
 *      from just before the POST is sent to the moment the worker's line for
 *      that event is read from its stdout (a tailing thread polls every
 *      0.2 ms; the PUT that follows the line is not included).
 * Usage: bench_e2e [events=20000] [rate=500] [seconds=10]
 */
#include "stack.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POSTERS 2

typedef struct {
    e2e_stack_t *stack;
    int first, count; /* event numbers this poster sends */
    int rate;         /* events/s for this poster, 0 = as fast as possible */
    int64_t *sent_us; /* per event number */
    int failed;
} poster_t;

static atomic_int s_seen;
static int64_t *s_seen_us; /* per event number, 0 = not yet */
static int s_total;
static atomic_bool s_tail_stop;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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
    int64_t start = s_now_us ();
    for (int i = 0; i < p->count; i++) {
        int k = p->first + i;
        if (p->rate > 0) {
            int64_t due = start + (int64_t)i * 1000000 / p->rate;
            int64_t wait = due - s_now_us ();
            if (wait > 0) {
                struct timespec ts = { wait / 1000000, (wait % 1000000) * 1000 };
                nanosleep (&ts, NULL);
            }
        }
        snprintf (body, sizeof body, "{\"user_id\":\"bench\",\"description\":\"bench %d\"}", k);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        p->sent_us[k] = s_now_us ();
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

/* Tails the workers' stdout files, stamping each "bench <k>" line. */
static void *
s_tail_thread (void *arg)
{
    e2e_stack_t *stack = arg;
    int fds[STACK_WORKERS_MAX];
    static char buf[STACK_WORKERS_MAX][65536];
    size_t len[STACK_WORKERS_MAX] = { 0 };
    for (int w = 0; w < STACK_WORKERS_MAX; w++)
        fds[w] = -1;
    while (!atomic_load (&s_tail_stop)) {
        for (int w = 0; w < STACK_WORKERS_MAX; w++) {
            if (fds[w] < 0)
                fds[w] = open (stack->worker_out[w], O_RDONLY);
            if (fds[w] < 0)
                continue;
            ssize_t n;
            while ((n = read (fds[w], buf[w] + len[w], sizeof buf[w] - 1 - len[w])) > 0) {
                int64_t now = s_now_us ();
                len[w] += (size_t)n;
                char *start = buf[w], *nl;
                while ((nl = memchr (start, '\n', (size_t)(buf[w] + len[w] - start)))) {
                    *nl = '\0';
                    const char *tag = strstr (start, ": bench ");
                    int k = tag ? atoi (tag + 8) : -1;
                    if (k >= 0 && k < s_total && !s_seen_us[k]) {
                        s_seen_us[k] = now;
                        atomic_fetch_add (&s_seen, 1);
                    }
                    start = nl + 1;
                }
                len[w] = (size_t)(buf[w] + len[w] - start);
                memmove (buf[w], start, len[w]);
            }
        }
        struct timespec ts = { 0, 200000 };
        nanosleep (&ts, NULL);
    }
    for (int w = 0; w < STACK_WORKERS_MAX; w++)
        if (fds[w] >= 0)
            close (fds[w]);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* One measured run. rate 0 = throughput; else latency at that rate. */
static int
s_run (e2e_stack_t *stack, int workers, int n, int rate)
{
    stack_begin (stack);
    const char *quiet[] = { "--log-level", "warn", NULL };
    if (stack_start_store (stack, 1000000) || stack_start_gateway (stack)
        || stack_start_notifier (stack))
        return -1;
    for (int w = 0; w < workers; w++)
        if (stack_start_worker (stack, w, quiet))
            return -1;
    /* Warm up: one event through the whole path before the clock starts. */
    char id[STACK_ID_LEN + 1];
    if (stack_post (stack, "warmup", "warmup", id) != 201
        || stack_wait_processed (stack, 1, 30000) < 1)
        return -1;

    s_total = n;
    int64_t *sent = calloc ((size_t)n, sizeof *sent);
    s_seen_us = calloc ((size_t)n, sizeof *s_seen_us);
    atomic_store (&s_seen, 0);
    atomic_store (&s_tail_stop, false);
    pthread_t tail, posters[POSTERS];
    poster_t p[POSTERS];
    pthread_create (&tail, NULL, s_tail_thread, stack);
    int64_t t0 = s_now_us ();
    for (int i = 0; i < POSTERS; i++) {
        p[i] = (poster_t){ stack,
                           i * (n / POSTERS),
                           i == POSTERS - 1 ? n - i * (n / POSTERS) : n / POSTERS,
                           rate / POSTERS,
                           sent,
                           0 };
        pthread_create (&posters[i], NULL, s_post_thread, &p[i]);
    }
    int failed = 0;
    for (int i = 0; i < POSTERS; i++) {
        pthread_join (posters[i], NULL);
        failed += p[i].failed;
    }
    int64_t t_posted = s_now_us ();
    int64_t deadline = t_posted + 120 * 1000000LL;
    while (atomic_load (&s_seen) < n - failed && s_now_us () < deadline) {
        struct timespec ts = { 0, 1000000 };
        nanosleep (&ts, NULL);
    }
    int64_t t1 = s_now_us ();
    atomic_store (&s_tail_stop, true);
    pthread_join (tail, NULL);
    int seen = atomic_load (&s_seen);
    int processed = stack_wait_processed (stack, n + 1 - failed, 30000) - 1;

    int64_t *lat = calloc ((size_t)n, sizeof *lat);
    int m = 0;
    for (int k = 0; k < n; k++)
        if (s_seen_us[k] && sent[k])
            lat[m++] = s_seen_us[k] - sent[k];
    qsort (lat, (size_t)m, sizeof *lat, s_cmp);
    double secs = (double)(t1 - t0) / 1e6;
    if (rate == 0)
        printf ("throughput  workers=%d events=%d posted_in=%.2fs all_lines_in=%.2fs "
                "=> %.0f events/s end to end (POST alone %.0f/s); processed=%d failed_posts=%d\n",
                workers, n, (double)(t_posted - t0) / 1e6, secs, seen / secs,
                n / ((double)(t_posted - t0) / 1e6), processed, failed);
    else
        printf ("latency     workers=%d offered=%d/s events=%d p50=%.1fms p99=%.1fms max=%.1fms "
                "lines=%d processed=%d failed_posts=%d\n",
                workers, rate, n, m ? lat[m / 2] / 1000.0 : -1,
                m ? lat[(m * 99) / 100] / 1000.0 : -1, m ? lat[m - 1] / 1000.0 : -1, seen,
                processed, failed);
    fflush (stdout);
    free (lat);
    free (sent);
    free (s_seen_us);
    s_seen_us = NULL;
    stack_end (stack);
    return seen == n - failed ? 0 : -1;
}

int
main (int argc, char *argv[])
{
    int n = argc > 1 ? atoi (argv[1]) : 20000;
    int rate = argc > 2 ? atoi (argv[2]) : 500;
    int seconds = argc > 3 ? atoi (argv[3]) : 10;
    if (n <= 0 || rate <= 0 || seconds <= 0) {
        fprintf (stderr, "usage: bench_e2e [events] [rate] [seconds]\n");
        return 2;
    }
    static e2e_stack_t stack;
    if (stack_init (&stack) != 0) {
        fprintf (stderr, "bench_e2e: cannot start RabbitMQ\n");
        return 1;
    }
    printf ("bench_e2e: persistent messages, publisher confirms, logs in %s\n", harness_tmpdir ());
    int rc = 0;
    rc |= s_run (&stack, 1, n, 0);
    rc |= s_run (&stack, 2, n, 0);
    rc |= s_run (&stack, 1, rate * seconds, rate);
    rc |= s_run (&stack, 2, rate * seconds, rate);
    stack_fini (&stack);
    return rc ? 1 : 0;
}
