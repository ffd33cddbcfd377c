/*
 * view — see view.h.
 */
#include "view.h"

void
view_point (view_point_t *out, const scrape_t *gateway, const scrape_t *store,
            const scrape_t *notifier, const scrape_t *const workers[], size_t n_workers)
{
    *out = (view_point_t){ 0 };
    if (gateway) {
        out->gateway = true;
        out->server_errors = scrape_sum (gateway, "herald_http_requests_total", "code=\"5", NULL);
    }
    if (store) {
        out->store = true;
        out->creates = scrape_sum (store, "herald_store_operations_total",
                                   "op=\"create\",result=\"ok\"", NULL);
        out->updates = scrape_sum (store, "herald_store_operations_total",
                                   "op=\"update\",result=\"ok\"", NULL);
        out->feed_length = scrape_sum (store, "herald_store_feed_length", NULL, NULL);
    }
    if (notifier) {
        out->notifier = true;
        out->confirmed = scrape_sum (notifier, "herald_notifier_confirmed_total", NULL, NULL);
        out->lag_s = scrape_sum (notifier, "herald_notifier_feed_lag_seconds", NULL, NULL);
    }
    out->workers = n_workers > 0;
    for (size_t i = 0; i < n_workers; i++) {
        if (!workers[i]) {
            out->workers = false;
            continue;
        }
        out->printed += scrape_sum (workers[i], "herald_worker_printed_total", NULL, NULL);
        out->inflight += scrape_sum (workers[i], "herald_worker_inflight_deliveries", NULL, NULL);
        out->retries += scrape_sum (workers[i], "herald_worker_retries_total", NULL, NULL);
        out->dead += scrape_sum (workers[i], "herald_worker_dead_lettered_total", NULL, NULL);
    }
}

void
view_header (FILE *out)
{
    fprintf (out, "%-8s %9s %11s %11s %7s %6s %8s %7s %8s %6s\n", "time", "creates/s",
             "processed/s", "published/s", "feed", "lag s", "inflight", "queue", "errors/s",
             "dead");
}

/* A rate column: "-" when either side is down or the counter went back. */
static void
s_rate (char *buf, size_t size, bool up, double before, double after, double seconds)
{
    if (!up || after < before || seconds <= 0)
        snprintf (buf, size, "-");
    else
        snprintf (buf, size, "%.0f", (after - before) / seconds);
}

/* A gauge column: "-" when down, else the value with decimals places. */
static void
s_gauge (char *buf, size_t size, bool up, double value, int decimals)
{
    if (!up)
        snprintf (buf, size, "-");
    else
        snprintf (buf, size, "%.*f", decimals, value);
}

void
view_line (FILE *out, const char *clock, const view_point_t *prev, const view_point_t *now,
           double seconds, long queue)
{
    char creates[32], processed[32], published[32], feed[32], lag[32], inflight[32], q[32],
        errors[32], dead[32];
    s_rate (creates, sizeof creates, prev->store && now->store, prev->creates, now->creates,
            seconds);
    s_rate (processed, sizeof processed, prev->workers && now->workers, prev->printed, now->printed,
            seconds);
    s_rate (published, sizeof published, prev->notifier && now->notifier, prev->confirmed,
            now->confirmed, seconds);
    s_gauge (feed, sizeof feed, now->store, now->feed_length, 0);
    s_gauge (lag, sizeof lag, now->notifier, now->lag_s, 1);
    s_gauge (inflight, sizeof inflight, now->workers, now->inflight, 0);
    s_gauge (q, sizeof q, queue >= 0, (double)queue, 0);
    bool errors_up = prev->gateway && now->gateway && prev->workers && now->workers;
    s_rate (errors, sizeof errors, errors_up, prev->server_errors + prev->retries,
            now->server_errors + now->retries, seconds);
    s_gauge (dead, sizeof dead, now->workers, now->dead, 0);
    fprintf (out, "%-8s %9s %11s %11s %7s %6s %8s %7s %8s %6s\n", clock, creates, processed,
             published, feed, lag, inflight, q, errors, dead);
    fflush (out);
}
