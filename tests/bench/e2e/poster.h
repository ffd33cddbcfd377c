/*
 * poster — one of bench_e2e's client threads: POSTs its share of the bench
 * events "bench <k>" to the gateway over many keep-alive connections at
 * once (plain sockets and poll(2), see poster.c), so that the clients are
 * not what bounds the figure, and spend little of the CPU they share with
 * what they measure. A blocking client with one request in flight per thread would
 * measure its own round trips: at ~0.3 ms each, four of them cap the POST
 * side near the rate being measured on this 2-core machine.
 *
 * Each request is stamped (sent_us) when its first byte is written, which is
 * when bench_e2e's latency starts. With a rate the requests are paced on a
 * fixed timeline (request i at start + i/rate), never more than
 * `connections` in flight; a request that cannot start on time starts as
 * soon as a connection is free, so a slow server shows as latency, not as a
 * lower offered rate. Everything is bounded by a deadline: requests not
 * finished by then count as failed.
 */
#ifndef HERALD_BENCH_POSTER_H
#define HERALD_BENCH_POSTER_H

#include <stdint.h>

#define POSTER_CONNECTIONS_MAX 256
#define POSTER_THREADS_MAX 16           /* posters of one poster_post_all */
#define POSTER_REQUEST_TIMEOUT_MS 10000 /* one POST, connect included */

typedef struct {
    const char *url;     /* POST target, e.g. http://127.0.0.1:port/events (borrowed) */
    int first, count;    /* event numbers first..first+count-1 */
    int rate;            /* events/s for this poster, 0 = as fast as its connections go */
    int connections;     /* requests in flight, each on its own keep-alive connection */
    int64_t *sent_us;    /* per event number (borrowed, written by the thread) */
    int64_t deadline_us; /* clock_mono_us after which the poster gives up */
} poster_config_t;

typedef struct {
    int created;     /* answered 201 */
    int failed;      /* any other answer, a transport error, or not sent in time */
    int64_t last_us; /* clock_mono_us of the last answer, 0 if none */
} poster_result_t;

typedef struct _poster_t poster_t;

/* Starts a thread POSTing config's events (config is copied; sent_us stays
   the caller's, and is written until poster_join returns). Returns NULL
   when the url cannot be resolved or the thread not started. */
poster_t *poster_start (const poster_config_t *config);

/* Waits for the thread (it stops by itself at the deadline at the latest),
   fills *out and frees the poster; *self_p becomes NULL. No-op on NULL. */
void poster_join (poster_t **self_p, poster_result_t *out);

/* POSTs events 0..n-1 to gateway_url's /events from `posters` threads
   (1..POSTER_THREADS_MAX) of `connections` each, at rate events/s in all
   (0 = as fast as they go), giving up after deadline_ms; sent_us (n slots)
   gets each POST's start. Blocks until every poster is done. Returns the
   201s; *failed gets the rest, *last_us the last answer's time (0 if
   none). */
int poster_post_all (const char *gateway_url, int n, int rate, int posters, int connections,
                     int64_t *sent_us, int deadline_ms, int *failed, int64_t *last_us);

#endif
