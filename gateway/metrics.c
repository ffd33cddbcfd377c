/*
 * metrics — see metrics.h. Histograms and the text format are common/prom.h.
 * Status codes outside the fixed list are counted under code "other" so the
 * label set stays bounded whatever clients send.
 */
#include "metrics.h"

#include "prom.h"
#include "shard_map.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const unsigned s_codes[] = {
    200, 201, 400, 401, 403, 404, 405, 413, 415, 422, 500, 503, 504
};
#define S_CODES (sizeof s_codes / sizeof s_codes[0])
#define S_CODE_OTHER S_CODES

struct _metrics_t {
    atomic_uint_fast64_t requests[API_EP_COUNT_][S_CODES + 1];
    prom_histogram_t latency[API_EP_COUNT_];
    prom_histogram_t store_rtt;
    atomic_int_fast64_t inflight;
    atomic_int store_up;
    atomic_uint_fast64_t late_replies;
    atomic_uint_fast64_t abandoned;
    atomic_uint_fast64_t refused_connections;
    atomic_uint_fast64_t cut_connections;
    atomic_uint_fast64_t shard_requests[SHARD_MAP_SHARDS_MAX];
    atomic_uint_fast64_t redirects_followed, redirects_refused;
    atomic_uint_fast64_t full_batches, loop_yields;
};

metrics_t *
metrics_new (void)
{
    metrics_t *self = calloc (1, sizeof *self);
    if (self)
        atomic_init (&self->store_up, 0);
    return self;
}

void
metrics_destroy (metrics_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
metrics_request (metrics_t *self, api_endpoint_t ep, unsigned status, int64_t duration_us)
{
    if (ep < 0 || ep >= API_EP_COUNT_)
        ep = API_EP_UNKNOWN;
    size_t code = S_CODE_OTHER;
    for (size_t i = 0; i < S_CODES; i++)
        if (s_codes[i] == status)
            code = i;
    atomic_fetch_add_explicit (&self->requests[ep][code], 1, memory_order_relaxed);
    prom_observe_us (&self->latency[ep], duration_us);
}

void
metrics_store_roundtrip (metrics_t *self, int64_t duration_us)
{
    prom_observe_us (&self->store_rtt, duration_us);
}

void
metrics_inflight (metrics_t *self, int delta)
{
    atomic_fetch_add_explicit (&self->inflight, delta, memory_order_relaxed);
}

void
metrics_store_up (metrics_t *self, int up)
{
    atomic_store_explicit (&self->store_up, up ? 1 : 0, memory_order_relaxed);
}

int
metrics_store_is_up (metrics_t *self)
{
    return atomic_load_explicit (&self->store_up, memory_order_relaxed);
}

void
metrics_late_reply (metrics_t *self)
{
    atomic_fetch_add_explicit (&self->late_replies, 1, memory_order_relaxed);
}

void
metrics_full_batch (metrics_t *self)
{
    atomic_fetch_add_explicit (&self->full_batches, 1, memory_order_relaxed);
}

void
metrics_loop_yield (metrics_t *self)
{
    atomic_fetch_add_explicit (&self->loop_yields, 1, memory_order_relaxed);
}

void
metrics_abandoned (metrics_t *self)
{
    atomic_fetch_add_explicit (&self->abandoned, 1, memory_order_relaxed);
}

void
metrics_refused_connection (metrics_t *self)
{
    atomic_fetch_add_explicit (&self->refused_connections, 1, memory_order_relaxed);
}

void
metrics_cut_connections (metrics_t *self, unsigned n)
{
    atomic_fetch_add_explicit (&self->cut_connections, n, memory_order_relaxed);
}

void
metrics_shard_request (metrics_t *self, size_t shard)
{
    if (shard < SHARD_MAP_SHARDS_MAX)
        atomic_fetch_add_explicit (&self->shard_requests[shard], 1, memory_order_relaxed);
}

void
metrics_redirect (metrics_t *self, bool followed)
{
    atomic_fetch_add_explicit (followed ? &self->redirects_followed : &self->redirects_refused, 1,
                               memory_order_relaxed);
}

static uint64_t
s_load (atomic_uint_fast64_t *v)
{
    return atomic_load_explicit (v, memory_order_relaxed);
}

static void
s_write (FILE *out, void *arg)
{
    metrics_t *self = arg;
    prom_family (out, "herald_http_requests_total", "counter",
                 "HTTP requests answered, by route and status code.");
    for (int ep = 0; ep < API_EP_COUNT_; ep++)
        for (size_t c = 0; c <= S_CODES; c++) {
            uint64_t n = s_load (&self->requests[ep][c]);
            if (n == 0)
                continue;
            char code[16];
            if (c == S_CODE_OTHER)
                snprintf (code, sizeof code, "other");
            else
                snprintf (code, sizeof code, "%u", s_codes[c]);
            char labels[96];
            snprintf (labels, sizeof labels, "route=\"%s\",code=\"%s\"",
                      api_endpoint_name ((api_endpoint_t)ep), code);
            prom_sample (out, "herald_http_requests_total", labels, n);
        }
    prom_family (out, "herald_http_request_duration_seconds", "histogram",
                 "Time from a request's headers to its response, by route.");
    for (int ep = 0; ep < API_EP_COUNT_; ep++) {
        if (prom_histogram_count (&self->latency[ep]) == 0)
            continue;
        char labels[64];
        snprintf (labels, sizeof labels, "route=\"%s\"", api_endpoint_name ((api_endpoint_t)ep));
        prom_histogram_write (out, "herald_http_request_duration_seconds", labels,
                              &self->latency[ep]);
    }
    prom_family (out, "herald_store_roundtrip_seconds", "histogram",
                 "Time from sending a store request to its reply.");
    prom_histogram_write (out, "herald_store_roundtrip_seconds", NULL, &self->store_rtt);
    fprintf (out,
             "# HELP herald_http_inflight_requests Requests received and not yet answered.\n"
             "# TYPE herald_http_inflight_requests gauge\nherald_http_inflight_requests %lld\n",
             (long long)atomic_load_explicit (&self->inflight, memory_order_relaxed));
    fprintf (out,
             "# HELP herald_store_up 1 when the store answered the last request, 0 when it was "
             "unreachable or timed out.\n# TYPE herald_store_up gauge\nherald_store_up %d\n",
             metrics_store_is_up (self));
    fprintf (out,
             "# HELP herald_store_late_replies_total Store replies that came after their "
             "request was answered 504.\n# TYPE herald_store_late_replies_total counter\n"
             "herald_store_late_replies_total %llu\n",
             (unsigned long long)s_load (&self->late_replies));
    fprintf (out,
             "# HELP herald_store_full_batches_total Store batches that filled up "
             "(--store-batch) and went at once, in the middle of a loop pass.\n"
             "# TYPE herald_store_full_batches_total counter\n"
             "herald_store_full_batches_total %llu\n",
             (unsigned long long)s_load (&self->full_batches));
    fprintf (out,
             "# HELP herald_loop_yields_total Times a loop gave up its core after a full batch "
             "went, so that libzmq's I/O thread (under --io-sched batch) sends it now.\n"
             "# TYPE herald_loop_yields_total counter\nherald_loop_yields_total %llu\n",
             (unsigned long long)s_load (&self->loop_yields));
    fprintf (out,
             "# HELP herald_http_abandoned_requests_total Requests whose connection closed while "
             "the store was working on them (seen while the loop was busy; the answer is "
             "dropped).\n# TYPE herald_http_abandoned_requests_total counter\n"
             "herald_http_abandoned_requests_total %llu\n",
             (unsigned long long)s_load (&self->abandoned));
    fprintf (out,
             "# HELP herald_http_refused_connections_total Connections closed at once because "
             "max-connections (in all, or from that client) were open.\n"
             "# TYPE herald_http_refused_connections_total counter\n"
             "herald_http_refused_connections_total %llu\n"
             "# HELP herald_http_cut_connections_total Connections shut down because their "
             "request did not arrive within request-timeout.\n"
             "# TYPE herald_http_cut_connections_total counter\n"
             "herald_http_cut_connections_total %llu\n",
             (unsigned long long)s_load (&self->refused_connections),
             (unsigned long long)s_load (&self->cut_connections));
    prom_family (out, "herald_store_shard_requests_total", "counter",
                 "Store requests sent, by shard (its index in the shard map).");
    for (size_t i = 0; i < SHARD_MAP_SHARDS_MAX; i++) {
        uint64_t n = s_load (&self->shard_requests[i]);
        if (n == 0)
            continue;
        char labels[32];
        snprintf (labels, sizeof labels, "shard=\"%zu\"", i);
        prom_sample (out, "herald_store_shard_requests_total", labels, n);
    }
    prom_family (out, "herald_store_redirects_total", "counter",
                 "Store answers `moved` (a stale shard map): sent on to the owner (followed) or "
                 "answered 503 (refused).");
    prom_sample (out, "herald_store_redirects_total", "result=\"followed\"",
                 s_load (&self->redirects_followed));
    prom_sample (out, "herald_store_redirects_total", "result=\"refused\"",
                 s_load (&self->redirects_refused));
    prom_process (out);
}

char *
metrics_render (metrics_t *self, size_t *len)
{
    return prom_text (s_write, self, len);
}
