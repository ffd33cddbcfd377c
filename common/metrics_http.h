/*
 * metrics_http — a service's /metrics (Prometheus text) on a port of its
 * own (--metrics-listen), for the services whose loop is not an HTTP server:
 * the store, the notifier and the worker.
 *
 * libmicrohttpd answers on a thread of its own, so a slow or hostile
 * scraper never holds up the service's loop. The numbers, though, belong
 * to the loop thread (plain counters, nothing atomic on the hot path), so
 * the text is made there: a scrape rings an eventfd the loop polls
 * (metrics_http_fd), the loop calls metrics_http_serve, which renders with
 * the service's callback and hands the text over under a mutex; the scrape
 * waits for it at most METRICS_HTTP_WAIT_MS and answers 503 if the loop did
 * not get to it. Nothing is spent while nobody scrapes; one render per
 * scrape when someone does, so what a scrape shows is the loop's state at
 * that moment, never an older copy.
 *
 * Same protected mode as the services' other ports: a non-loopback address
 * is refused unless insecure is set (--metrics-insecure: the metrics hold
 * no event data, but their rates and sizes are the operator's business, and
 * they are served without authentication). It is a flag of its own, so
 * opening the metrics never relaxes a service's other protections.
 */
#ifndef HERALD_METRICS_HTTP_H
#define HERALD_METRICS_HTTP_H

#include "options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_HTTP_WAIT_MS 2000   /* a scrape waits this long for the loop */
#define METRICS_HTTP_CONNECTIONS 16 /* scrapers served at once */
#define METRICS_HTTP_TIMEOUT_S 10   /* an idle scrape connection is closed */

/* The flags every service takes for it (two table entries). */
#define METRICS_HTTP_OPTION                                                                        \
    OPTION_S ("metrics-listen", "HERALD_METRICS_LISTEN", NULL, "HOST:PORT",                        \
              "serve Prometheus metrics at http://HOST:PORT/metrics (a loopback address unless "   \
              "--metrics-insecure; port 0 picks a free one); unset = off"),                        \
        OPTION_FE ("metrics-insecure", "HERALD_METRICS_INSECURE",                                  \
                   "serve --metrics-listen on a non-loopback address too (no authentication: "     \
                   "anyone who reaches it reads the service's rates and sizes)")

typedef struct _metrics_http_t metrics_http_t;

/* Makes the exposition text: a heap string (metrics_http frees it) and its
   length in *len, or NULL when out of memory. Called on the loop thread. */
typedef char *(metrics_render_fn)(void *arg, size_t *len);

/* Listens on listen ("host:port", port 0 picks a free one) and serves
   GET /metrics with what render makes. Returns NULL after logging why (not
   host:port, non-loopback without insecure, cannot bind). */
metrics_http_t *metrics_http_new (const char *listen, bool insecure, metrics_render_fn *render,
                                  void *arg);

/* metrics_http_new on what --metrics-listen and --metrics-insecure
   (METRICS_HTTP_OPTION) say, and a log line naming the port. Sets *out
   (NULL when the option is unset) and returns 0, or -1 after logging why
   it could not. */
int metrics_http_from_options (options_t *opts, metrics_render_fn *render, void *arg,
                               metrics_http_t **out);

/* Stops the HTTP thread (a scrape waiting is answered 503) and frees. */
void metrics_http_destroy (metrics_http_t **self_p);

/* The fd the loop polls for input: readable while a scrape waits. */
int metrics_http_fd (metrics_http_t *self);

/* Renders for the scrapes waiting; call when metrics_http_fd is readable.
   Never blocks. */
void metrics_http_serve (metrics_http_t *self);

/* The port listened on (the one picked when listen said 0). */
uint16_t metrics_http_port (metrics_http_t *self);

#endif
