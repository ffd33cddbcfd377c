/*
 * herald-soak — the whole system under a steady mixed load while a fault
 * loop SIGKILLs and restarts, in turn, the notifier, a worker, a gateway
 * (a second gateway shares its port through SO_REUSEPORT and keeps
 * serving), RabbitMQ (issue 6) and the store, which comes back from its
 * journal (issue 12; fsync always). At the end it checks what
 * docs/ARCHITECTURE.md §4 promises: every event answered 201 exists and is
 * `processed`, every one has its exact worker line, no 5xx other than 503/504
 * inside a fault window, and no service's memory grew without bound; then
 * prints a summary table. Exit status 0 only when all of that holds.
 *
 *   herald-soak [--seconds N] [--clients N] [--fault-every S]
 *
 * CTest runs a short version (label soak); a long one is the same binary
 * with --seconds 600. Load is bounded by the duration; every process is
 * started and stopped by PID through tests/e2e/stack.c.
 */
#include "stack.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_EVENTS_MAX 2000000
#define S_CLIENTS_MAX 16
#define S_BODY_MAX (1024 * 1024) /* a 1000-event list page is ~200 KB */
#define S_GRACE_MS 5000          /* a fault window lasts until recovery + this */
#define S_DRAIN_MS 180000        /* time allowed for the backlog after the load */
#define S_GROWTH_MAX_KB 65536    /* a never-killed gateway may not grow more */

enum { OP_CREATE, OP_GET, OP_UPDATE, OP_LIST, OP_COUNT };
static const char *s_op_names[OP_COUNT] = { "create", "get", "update", "list" };
/* Outcome classes of one request. */
enum { RES_OK, RES_404, RES_4XX, RES_500, RES_503, RES_504, RES_OTHER5, RES_NET, RES_COUNT };
static const char *s_result_names[RES_COUNT] = { "2xx", "404", "other 4xx", "500",
                                                 "503", "504", "other 5xx", "transport" };

typedef struct {
    char id[STACK_ID_LEN + 1];
    int n; /* user "s-<n>", description "soak event <n>" */
} s_event_t;

static struct {
    e2e_stack_t stack;
    pthread_mutex_t lock; /* guards events, n_events */
    s_event_t *events;
    size_t n_events;
    atomic_int next_n;
    atomic_bool stop;
    atomic_llong window_until_ms; /* faults in effect until then */
    atomic_llong results[OP_COUNT][RES_COUNT];
    atomic_llong unexpected; /* errors outside a fault window, or never allowed */
    int faults[5];
} soak;

/* ---- Clients ------------------------------------------------------------- */

typedef struct {
    CURL *curl;
    harness_body_t body; /* S_BODY_MAX */
    unsigned seed;
} s_client_t;

/* One request; returns the HTTP status or 0 on a transport error. */
static long
s_http (s_client_t *c, const char *method, const char *path, const char *body)
{
    char url[256];
    snprintf (url, sizeof url, "%s%s", soak.stack.gateway_url, path);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    curl_easy_setopt (c->curl, CURLOPT_URL, url);
    curl_easy_setopt (c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c->curl, CURLOPT_POSTFIELDS, body);
    if (!body)
        curl_easy_setopt (c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (c->curl, CURLOPT_HTTPHEADER, body ? headers : NULL);
    c->body.len = 0;
    c->body.data[0] = '\0';
    long code = 0;
    if (curl_easy_perform (c->curl) == CURLE_OK)
        curl_easy_getinfo (c->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_setopt (c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all (headers);
    return code;
}

/* Classifies and counts one outcome. */
static void
s_count (int op, long code)
{
    int r = code == 0     ? RES_NET
            : code < 300  ? RES_OK
            : code == 404 ? RES_404
            : code < 500  ? RES_4XX
            : code == 500 ? RES_500
            : code == 503 ? RES_503
            : code == 504 ? RES_504
                          : RES_OTHER5;
    atomic_fetch_add (&soak.results[op][r], 1);
    bool in_window = clock_mono_ms () <= atomic_load (&soak.window_until_ms);
    /* The load sends only valid requests for events that exist: any 4xx is
       a bug or a lost event; 500 is never allowed; 503/504 and dropped
       connections only while a fault is in effect. */
    bool allowed = r == RES_OK || ((r == RES_503 || r == RES_504 || r == RES_NET) && in_window);
    if (!allowed && atomic_fetch_add (&soak.unexpected, 1) < 20)
        fprintf (stderr, "soak: unexpected %s -> %ld, %lld ms after the last fault window\n",
                 s_op_names[op], code,
                 (long long)(clock_mono_ms () - atomic_load (&soak.window_until_ms)));
}

/* A random event created so far; returns 0 or -1 when none yet. */
static int
s_pick (s_client_t *c, s_event_t *out)
{
    pthread_mutex_lock (&soak.lock);
    int rc = -1;
    if (soak.n_events > 0) {
        *out = soak.events[(size_t)rand_r (&c->seed) % soak.n_events];
        rc = 0;
    }
    pthread_mutex_unlock (&soak.lock);
    return rc;
}

static void
s_create (s_client_t *c)
{
    int n = atomic_fetch_add (&soak.next_n, 1);
    char body[128];
    snprintf (body, sizeof body, "{\"user_id\":\"s-%d\",\"description\":\"soak event %d\"}", n, n);
    long code = s_http (c, "POST", "/events", body);
    s_count (OP_CREATE, code);
    if (code != 201)
        return;
    json_t *root = json_loads (c->body.data, 0, NULL);
    const char *id = json_string_value (json_object_get (root, "event_id"));
    pthread_mutex_lock (&soak.lock);
    if (id && soak.n_events < S_EVENTS_MAX) {
        s_event_t *e = &soak.events[soak.n_events++];
        snprintf (e->id, sizeof e->id, "%s", id);
        e->n = n;
    }
    pthread_mutex_unlock (&soak.lock);
    json_decref (root);
}

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    while (!atomic_load (&soak.stop)) {
        int dice = rand_r (&c->seed) % 100;
        s_event_t e;
        char path[160], body[128];
        if (dice < 50 || s_pick (c, &e) != 0)
            s_create (c);
        else if (dice < 75) {
            snprintf (path, sizeof path, "/events/%s", e.id);
            s_count (OP_GET, s_http (c, "GET", path, NULL));
        } else if (dice < 90) {
            /* A real update (new sequence number, event.updated published)
               that leaves the printed fields as they were. */
            snprintf (path, sizeof path, "/events/%s", e.id);
            snprintf (body, sizeof body, "{\"description\":\"soak event %d\"}", e.n);
            s_count (OP_UPDATE, s_http (c, "PUT", path, body));
        } else {
            snprintf (path, sizeof path, "/events?limit=50&after=%s", e.id);
            s_count (OP_LIST, s_http (c, "GET", path, NULL));
        }
    }
    return NULL;
}

/* ---- Faults and memory --------------------------------------------------- */

static void
s_window (int64_t until_ms)
{
    if (until_ms > atomic_load (&soak.window_until_ms))
        atomic_store (&soak.window_until_ms, until_ms);
}

/* Injects fault k (0 notifier, 1 worker, 2 gateway, 3 RabbitMQ, 4 store). */
static int
s_fault (int k)
{
    e2e_stack_t *st = &soak.stack;
    s_window (clock_mono_ms () + 600000); /* open until recovery */
    int rc = 0;
    switch (k) {
    case 0:
        kill (st->notifier, SIGKILL);
        harness_stop (st->notifier, SIGKILL, 5000);
        rc = stack_start_notifier (st);
        break;
    case 1:
        kill (st->workers[0], SIGKILL);
        harness_stop (st->workers[0], SIGKILL, 5000);
        rc = stack_start_worker (st, 0, NULL);
        break;
    case 2:
        kill (st->gateway, SIGKILL);
        harness_stop (st->gateway, SIGKILL, 5000);
        rc = stack_start_gateway (st);
        break;
    case 3:
        rc = harness_rabbit_kill (&st->rabbit);
        harness_nap_ms (1000);
        rc = rc || harness_rabbit_restart (&st->rabbit);
        break;
    case 4:
        kill (st->store, SIGKILL);
        harness_stop (st->store, SIGKILL, 5000);
        rc = stack_start_store (st, 0);
        break;
    }
    atomic_store (&soak.window_until_ms, clock_mono_ms () + S_GRACE_MS);
    soak.faults[k]++;
    return rc;
}

/* ---- The final check ----------------------------------------------------- */

static int
s_cmp_id (const void *a, const void *b)
{
    return strcmp (((const s_event_t *)a)->id, ((const s_event_t *)b)->id);
}

/* Events (sorted by id) not reading `processed`; *lost gets those not found. */
static size_t
s_unprocessed (s_client_t *c, size_t *lost)
{
    unsigned char *state = calloc (soak.n_events, 1); /* 1 found, 2 processed */
    char after[STACK_ID_LEN + 1] = "";
    for (;;) {
        char path[160];
        snprintf (path, sizeof path, "/events?limit=1000%s%s", after[0] ? "&after=" : "", after);
        if (s_http (c, "GET", path, NULL) != 200)
            break;
        json_t *root = json_loads (c->body.data, 0, NULL);
        size_t i;
        json_t *item;
        json_array_foreach (json_object_get (root, "items"), i, item)
        {
            s_event_t key;
            snprintf (key.id, sizeof key.id, "%s",
                      json_string_value (json_object_get (item, "event_id")));
            s_event_t *e = bsearch (&key, soak.events, soak.n_events, sizeof key, s_cmp_id);
            if (e)
                state[e - soak.events] =
                    strcmp (json_string_value (json_object_get (item, "status")), "processed") == 0
                        ? 2
                        : 1;
        }
        const char *next = json_string_value (json_object_get (root, "next_after"));
        snprintf (after, sizeof after, "%s", next ? next : "");
        json_decref (root);
        if (!after[0])
            break;
    }
    size_t pending = 0;
    *lost = 0;
    for (size_t i = 0; i < soak.n_events; i++) {
        pending += state[i] != 2;
        *lost += state[i] == 0;
    }
    free (state);
    return pending;
}

/* Reads the workers' lines: missing = events without a correct line,
   dups = extra correct lines, malformed = lines that are neither. Lines
   for events whose 201 never reached the client are counted in unknown. */
static void
s_lines (size_t *missing, size_t *dups, size_t *malformed, size_t *unknown)
{
    int *seen = calloc (soak.n_events, sizeof *seen);
    *dups = *malformed = *unknown = 0;
    for (int w = 0; w < 2; w++) {
        FILE *f = fopen (soak.stack.worker_out[w], "r");
        char line[1024];
        while (f && fgets (line, sizeof line, f)) {
            s_event_t key;
            if (sscanf (line, "Event %36s has been sent to", key.id) != 1) {
                (*malformed)++;
                continue;
            }
            s_event_t *e = bsearch (&key, soak.events, soak.n_events, sizeof key, s_cmp_id);
            if (!e) {
                (*unknown)++;
                continue;
            }
            char expected[256];
            snprintf (expected, sizeof expected, "Event %s has been sent to s-%d: soak event %d\n",
                      e->id, e->n, e->n);
            if (strcmp (line, expected) != 0)
                (*malformed)++;
            else if (seen[e - soak.events]++)
                (*dups)++;
        }
        if (f)
            fclose (f);
    }
    *missing = 0;
    for (size_t i = 0; i < soak.n_events; i++)
        *missing += seen[i] == 0;
    free (seen);
}

int
main (int argc, char *argv[])
{
    int seconds = 60, clients = 4, fault_every = 8;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        long n = value ? strtol (value, &end, 10) : 0;
        if (!value || !*value || *end)
            bad = true;
        else if (strcmp (argv[i], "--seconds") == 0)
            seconds = (int)n;
        else if (strcmp (argv[i], "--clients") == 0)
            clients = (int)n;
        else if (strcmp (argv[i], "--fault-every") == 0)
            fault_every = (int)n;
        else
            bad = true;
    }
    if (bad || seconds < 10 || seconds > 86400 || clients < 1 || clients > S_CLIENTS_MAX
        || fault_every < 2) {
        bool help = argc == 2 && strcmp (argv[1], "--help") == 0;
        fprintf (help ? stdout : stderr,
                 "usage: herald-soak [--seconds N (10..86400, default 60)] [--clients 1..%d "
                 "(default 4)] [--fault-every S (>=2, default 8)]\n",
                 S_CLIENTS_MAX);
        return help ? 0 : 2;
    }
    pthread_mutex_init (&soak.lock, NULL);
    soak.events = calloc (S_EVENTS_MAX, sizeof *soak.events);
    e2e_stack_t *st = &soak.stack;
    if (!soak.events || stack_init (st) != 0) {
        fprintf (stderr, "soak: cannot start RabbitMQ\n");
        return 1;
    }
    stack_begin (st);
    /* Both gateways on one port: killing one leaves the other serving. */
    st->http2_port = st->http_port;
    /* The store keeps its events across its kills (fsync always). */
    snprintf (st->store_data_dir, sizeof st->store_data_dir, "%s/store-data", harness_tmpdir ());
    if (stack_start_store (st, 0) || stack_start_gateway (st) || stack_start_gateway2 (st)
        || stack_start_notifier (st) || stack_start_worker (st, 0, NULL)
        || stack_start_worker (st, 1, NULL)) {
        fprintf (stderr, "soak: cannot start the stack\n");
        stack_fini (st);
        return 1;
    }
    s_client_t *cs = calloc ((size_t)clients + 1, sizeof *cs);
    pthread_t tids[S_CLIENTS_MAX];
    for (int i = 0; i <= clients; i++) {
        cs[i].curl = curl_easy_init ();
        cs[i].body = (harness_body_t){ malloc (S_BODY_MAX + 1), 0, S_BODY_MAX };
        cs[i].seed = (unsigned)(i * 7919 + 1);
        curl_easy_setopt (cs[i].curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (cs[i].curl, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt (cs[i].curl, CURLOPT_WRITEFUNCTION, harness_body_append);
        curl_easy_setopt (cs[i].curl, CURLOPT_WRITEDATA, &cs[i].body);
    }
    for (int i = 0; i < clients; i++)
        pthread_create (&tids[i], NULL, s_client, &cs[i]);

    int64_t start = clock_mono_ms (), end = start + (int64_t)seconds * 1000;
    int64_t warm = start + (int64_t)seconds * 100; /* 10 % in */
    long gw2_warm = -1, store_warm = -1;
    int fault_errors = 0, k = 0;
    int64_t next_fault = start + (int64_t)fault_every * 1000;
    while (clock_mono_ms () < end) {
        harness_nap_ms (200);
        if (gw2_warm < 0 && clock_mono_ms () >= warm) {
            gw2_warm = harness_rss_kib (st->gateway2);
            store_warm = harness_rss_kib (st->store);
        }
        if (clock_mono_ms () >= next_fault && clock_mono_ms () < end - 2000) {
            /* The store second: a short run still kills it. */
            static const int order[5] = { 0, 4, 1, 2, 3 };
            fault_errors += s_fault (order[k % 5]) != 0;
            k++;
            next_fault = clock_mono_ms () + (int64_t)fault_every * 1000;
        }
    }
    atomic_store (&soak.stop, true);
    for (int i = 0; i < clients; i++)
        pthread_join (tids[i], NULL);
    long gw2_end = harness_rss_kib (st->gateway2), store_end = harness_rss_kib (st->store);

    qsort (soak.events, soak.n_events, sizeof *soak.events, s_cmp_id);
    size_t lost = 0, pending = s_unprocessed (&cs[clients], &lost);
    int64_t drain_until = clock_mono_ms () + S_DRAIN_MS;
    while (pending > 0 && lost == 0 && clock_mono_ms () < drain_until) {
        harness_nap_ms (500);
        pending = s_unprocessed (&cs[clients], &lost);
    }
    /* Let the last lines of a redelivery land before counting them. */
    harness_nap_ms (500);
    size_t missing, dups, malformed, unknown;
    s_lines (&missing, &dups, &malformed, &unknown);

    printf ("\nherald-soak: %d s, %d clients, a fault every %d s\n\n", seconds, clients,
            fault_every);
    printf ("%-8s", "request");
    for (int r = 0; r < RES_COUNT; r++)
        printf (" %10s", s_result_names[r]);
    printf ("\n");
    for (int op = 0; op < OP_COUNT; op++) {
        printf ("%-8s", s_op_names[op]);
        for (int r = 0; r < RES_COUNT; r++)
            printf (" %10lld", (long long)atomic_load (&soak.results[op][r]));
        printf ("\n");
    }
    printf ("\nfaults injected: notifier %d, worker %d, gateway %d, rabbitmq %d, store %d (%d "
            "failed to restart)\n",
            soak.faults[0], soak.faults[1], soak.faults[2], soak.faults[3], soak.faults[4],
            fault_errors);
    printf ("events created (201): %zu\n", soak.n_events);
    printf ("events lost: %zu\nevents not processed after drain: %zu\n", lost, pending);
    printf ("worker lines: missing %zu, duplicates printed %zu, malformed %zu, for events whose "
            "201 was lost %zu\n",
            missing, dups, malformed, unknown);
    printf ("errors outside a fault window or never allowed: %lld\n",
            (long long)atomic_load (&soak.unexpected));
    printf ("gateway (never killed) RSS: %ld kB at warm-up, %ld kB at end\n", gw2_warm, gw2_end);
    printf ("store RSS: %ld kB at warm-up, %ld kB at end (%zu events held; restarted from its "
            "journal %d times)\n",
            store_warm, store_end, soak.n_events, soak.faults[4]);

    bool ok = lost == 0 && pending == 0 && missing == 0 && malformed == 0
              && atomic_load (&soak.unexpected) == 0 && fault_errors == 0 && soak.n_events > 0
              && gw2_warm > 0 && gw2_end - gw2_warm < S_GROWTH_MAX_KB;
    printf ("\nresult: %s\n", ok ? "PASS" : "FAIL");
    for (int i = 0; i <= clients; i++) {
        curl_easy_cleanup (cs[i].curl);
        free (cs[i].body.data);
    }
    free (cs);
    stack_fini (st);
    free (soak.events);
    return ok ? 0 : 1;
}
