/*
 * herald-stat — a terminal view of a running Herald, one line a second, in
 * the manner of `redis-cli --stat`: creates/s, notifications processed/s
 * and published/s, the store's feed backlog, the notifier's lag, deliveries
 * in flight, the queue's ready messages, errors/s and dead letters.
 *
 * It reads the services' /metrics (README "Operating Herald"): the
 * defaults are where scripts/run.sh puts them. Its own wait between rounds
 * is the only sleep: each round scrapes every service once (1 s timeout
 * each), so a service that is down shows "-" and the view goes on.
 */
#include "herald_version.h"
#include "log.h"
#include "options.h"
#include "queue.h"
#include "sample.h"
#include "secret.h"
#include "stop.h"
#include "view.h"

#include "broker.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_WORKERS_MAX 64
#define S_BODY_MAX (8u << 20) /* a /metrics bigger than this is not ours */

static option_t s_options[] = {
    OPTION_S ("gateway", "HERALD_STAT_GATEWAY", "http://127.0.0.1:8000/metrics", "URL",
              "the gateway's metrics (its API port)"),
    OPTION_S ("store", "HERALD_STAT_STORE", "http://127.0.0.1:9101/metrics", "URL",
              "the store's metrics (--metrics-listen)"),
    OPTION_S ("notifier", "HERALD_STAT_NOTIFIER", "http://127.0.0.1:9102/metrics", "URL",
              "the notifier's metrics"),
    OPTION_S ("workers", "HERALD_STAT_WORKERS", "http://127.0.0.1:9111/metrics", "URL,...",
              "every worker's metrics, comma-separated (summed)"),
    OPTION_S ("gateway-token-file", "HERALD_STAT_GATEWAY_TOKEN_FILE", NULL, "FILE",
              "a token with the admin scope, when the gateway requires tokens"),
    OPTION_S ("amqp-url", "HERALD_STAT_AMQP_URL", NULL, "URL",
              "RabbitMQ, to show herald.notifications' ready messages (passive declare; "
              "unset: the queue column is -)"),
    OPTION_S ("amqp-password-file", "HERALD_STAT_AMQP_PASSWORD_FILE", NULL, "FILE",
              "the password for --amqp-url, read from this file"),
    OPTION_I ("interval-ms", "HERALD_STAT_INTERVAL_MS", "1000", 100, 60000, "MS",
              "time between lines"),
    OPTION_I ("count", "HERALD_STAT_COUNT", "0", 0, 1000000000, "N",
              "lines to print, then exit 0; 0 = until Ctrl-C"),
    OPTION_END,
};

typedef struct {
    char *data;
    size_t len;
    bool too_big;
} s_body_t;

static size_t
s_collect (char *data, size_t size, size_t nmemb, void *arg)
{
    s_body_t *body = arg;
    size_t n = size * nmemb;
    if (body->len + n > S_BODY_MAX) {
        body->too_big = true;
        return 0;
    }
    char *grown = realloc (body->data, body->len + n + 1);
    if (!grown)
        return 0;
    memcpy (grown + body->len, data, n);
    body->data = grown;
    body->len += n;
    return n;
}

/* Scrapes url into out. Returns 0, or -1 when it did not answer 200. */
static int
s_scrape (CURL *curl, const char *url, const char *authorization, scrape_t *out)
{
    s_body_t body = { 0 };
    struct curl_slist *headers = authorization ? curl_slist_append (NULL, authorization) : NULL;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    long status = 0;
    int rc = -1;
    if (curl_easy_perform (curl) == CURLE_OK
        && curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200
        && scrape_parse (out, body.data ? body.data : "", body.len) == 0)
        rc = 0;
    curl_slist_free_all (headers);
    free (body.data);
    return rc;
}

int
main (int argc, char *argv[])
{
    options_t opts = { .program = "herald-stat",
                       .summary = "A line a second about a running Herald, from its services' "
                                  "/metrics\n(defaults: where scripts/run.sh serves them).",
                       .options = s_options };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    const char *gateway = options_get (&opts, "gateway")->str;
    const char *store = options_get (&opts, "store")->str;
    const char *notifier = options_get (&opts, "notifier")->str;
    long interval_ms = (long)options_get (&opts, "interval-ms")->num;
    long count = (long)options_get (&opts, "count")->num;
    char *workers_list = strdup (options_get (&opts, "workers")->str);
    const char *workers[S_WORKERS_MAX];
    size_t n_workers = 0;
    char *save = NULL;
    for (char *w = strtok_r (workers_list, ",", &save); w && n_workers < S_WORKERS_MAX;
         w = strtok_r (NULL, ",", &save))
        workers[n_workers++] = w;

    char authorization[512] = "";
    const char *token_file = options_get (&opts, "gateway-token-file")->str;
    if (token_file) {
        char token[400], err[512];
        bool world_readable = false;
        if (secret_file_read (token_file, token, sizeof token, &world_readable, err, sizeof err)
            != 0) {
            fprintf (stderr, "herald-stat: --gateway-token-file: %s\n", err);
            return 2;
        }
        snprintf (authorization, sizeof authorization, "Authorization: Bearer %s", token);
    }
    queue_t *queue = NULL;
    const char *amqp_url = options_get (&opts, "amqp-url")->str;
    if (amqp_url) {
        static char url[BROKER_URL_LIST_MAX];
        if (broker_url_with_password_file (amqp_url, options_get (&opts, "amqp-password-file")->str,
                                           url, sizeof url)
            != 0) {
            fprintf (stderr, "herald-stat: --amqp-url: not a usable AMQP URL\n");
            return 2;
        }
        /* The services' list of cluster nodes: the queue depth is the same
           on every node, the first one is asked. */
        url[strcspn (url, ",")] = '\0';
        if (!(queue = queue_new (url))) {
            fprintf (stderr, "herald-stat: --amqp-url: not a usable AMQP URL\n");
            return 2;
        }
    }

    volatile sig_atomic_t *stop = stop_on_signals ();
    curl_global_init (CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init ();
    scrape_t g = { 0 }, s = { 0 }, n = { 0 }, w[S_WORKERS_MAX];
    memset (w, 0, sizeof w);
    view_point_t prev = { 0 }, now;
    struct timespec prev_at = { 0 }, at;
    long lines = 0;
    bool first = true;
    while (!*stop && (count == 0 || lines < count)) {
        const scrape_t *ws[S_WORKERS_MAX];
        for (size_t i = 0; i < n_workers; i++)
            ws[i] = s_scrape (curl, workers[i], NULL, &w[i]) == 0 ? &w[i] : NULL;
        const scrape_t *gs =
            s_scrape (curl, gateway, authorization[0] ? authorization : NULL, &g) == 0 ? &g : NULL;
        const scrape_t *ss = s_scrape (curl, store, NULL, &s) == 0 ? &s : NULL;
        const scrape_t *ns = s_scrape (curl, notifier, NULL, &n) == 0 ? &n : NULL;
        long depth = queue ? queue_depth (queue) : -1;
        clock_gettime (CLOCK_MONOTONIC, &at);
        view_point (&now, gs, ss, ns, ws, n_workers);
        if (first)
            first = false;
        else {
            if (lines % VIEW_HEADER_EVERY == 0)
                view_header (stdout);
            char clock[16];
            time_t wall = time (NULL);
            struct tm local;
            strftime (clock, sizeof clock, "%H:%M:%S", localtime_r (&wall, &local));
            double seconds =
                (double)(at.tv_sec - prev_at.tv_sec) + (double)(at.tv_nsec - prev_at.tv_nsec) / 1e9;
            view_line (stdout, clock, &prev, &now, seconds, depth);
            lines++;
        }
        prev = now;
        prev_at = at;
        if (count == 0 || lines < count)
            for (long slept = 0; slept < interval_ms && !*stop; slept += 50)
                usleep (50 * 1000);
    }
    scrape_clear (&g);
    scrape_clear (&s);
    scrape_clear (&n);
    for (size_t i = 0; i < n_workers; i++)
        scrape_clear (&w[i]);
    curl_easy_cleanup (curl);
    curl_global_cleanup ();
    queue_destroy (&queue);
    free (workers_list);
    return 0;
}
