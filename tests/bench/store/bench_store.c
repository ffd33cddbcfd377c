/*
 * herald-bench-store — how fast and how small is herald-store?
 *
 * Starts herald-store on free loopback ports (or uses --endpoint), drives
 * it over one DEALER with a window of requests in flight (pipelining: the
 * store's loop serves every queued request per wake), and prints ops/s and
 * p50/p99 latency for create, get and update. Then it loads the store up
 * to --events events (16-byte user_id, 40-byte description, acking the
 * feed as it goes) and prints the store's RSS and the memory per event
 * beyond its strings, measured as the RSS growth over the events added.
 * Latency here is request-to-reply under a full window, so it includes
 * queueing behind the window.
 */
#include "clock.h"
#include "harness.h"
#include "proto.h"

#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_LEN 16
#define DESCRIPTION_LEN 40
#define USERS 100000 /* distinct user_ids in the load */
#define REPLY_WAIT_MS 10000

typedef struct {
    void *dealer;
    msgpack_sbuffer buf;
    int64_t *sent_at; /* per request of the phase, us */
    int64_t *latency;
    uint8_t (*ids)[16]; /* ids created by the create phase */
    size_t n_ids;
    uint64_t last_seq;
    uint64_t rid_base;
} bench_t;

/* Fills req for request i of a phase. */
typedef void (make_fn) (bench_t *self, size_t i, proto_request_t *req, char *scratch);

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Receives and checks one reply; returns its index in the phase or -1. */
static long
s_recv_one (bench_t *self, size_t n, int flags)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->dealer, flags) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    proto_reply_t reply;
    proto_error_t err;
    long index = -2;
    if (proto_reply_decode (zmq_msg_data (&msg), zmq_msg_size (&msg), &reply, &err)
        == PROTO_DECODE_OK) {
        if (reply.status != PROTO_OK)
            fprintf (stderr, "bench: %s failed: %s %.*s\n", proto_op_name (reply.op),
                     proto_status_name (reply.status), (int)reply.message.len,
                     reply.message.ptr ? reply.message.ptr : "");
        else if (reply.rid > self->rid_base && reply.rid <= self->rid_base + n) {
            index = (long)(reply.rid - self->rid_base - 1);
            if (reply.op == PROTO_OP_CREATE && self->ids)
                memcpy (self->ids[self->n_ids++], reply.event.id, 16);
            if (reply.event.seq > self->last_seq)
                self->last_seq = reply.event.seq;
        }
        proto_reply_clear (&reply);
    } else
        fprintf (stderr, "bench: undecodable reply: %s\n", err.message);
    zmq_msg_close (&msg);
    return index;
}

/* Runs n requests with up to window in flight. Returns 0 or -1. */
static int
s_phase (bench_t *self, const char *name, size_t n, size_t window, make_fn *make, bool print)
{
    size_t sent = 0, done = 0;
    char scratch[128];
    int64_t start = clock_mono_us ();
    while (done < n) {
        while (sent < n && sent - done < window) {
            proto_request_t req;
            memset (&req, 0, sizeof req);
            make (self, sent, &req, scratch);
            req.rid = self->rid_base + sent + 1;
            msgpack_sbuffer_clear (&self->buf);
            proto_request_encode (&req, &self->buf);
            self->sent_at[sent] = clock_mono_us ();
            if (zmq_send (self->dealer, self->buf.data, self->buf.size, 0) < 0)
                return -1;
            sent++;
        }
        /* Wait for one reply, then take every reply already queued. */
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, REPLY_WAIT_MS) <= 0) {
            fprintf (stderr, "bench: %s: no reply for %d ms (%zu of %zu done)\n", name,
                     REPLY_WAIT_MS, done, n);
            return -1;
        }
        long index;
        while ((index = s_recv_one (self, n, ZMQ_DONTWAIT)) != -1) {
            if (index < 0)
                return -1;
            self->latency[done++] = clock_mono_us () - self->sent_at[index];
        }
    }
    int64_t elapsed = clock_mono_us () - start;
    self->rid_base += n;
    if (print) {
        qsort (self->latency, n, sizeof *self->latency, s_cmp);
        printf ("%-7s %9zu ops in %7.3f s: %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms\n", name, n,
                (double)elapsed / 1e6, (double)n * 1e6 / (double)elapsed,
                (double)self->latency[n / 2] / 1e3, (double)self->latency[n * 99 / 100] / 1e3);
        fflush (stdout);
    }
    return 0;
}

static void
s_make_create (bench_t *self, size_t i, proto_request_t *req, char *scratch)
{
    /* user "user-00000000042" (16 bytes), description of 40 bytes. */
    snprintf (scratch, 17, "user-%011zu", (i * 7919) % USERS);
    snprintf (scratch + 17, 41, "Your order %029zu", i);
    req->op = PROTO_OP_CREATE;
    req->has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
    req->user_id = (proto_str_t){ scratch, USER_LEN };
    req->description = (proto_str_t){ scratch + 17, DESCRIPTION_LEN };
}

static void
s_make_get (bench_t *self, size_t i, proto_request_t *req, char *scratch)
{
    req->op = PROTO_OP_GET;
    req->has = PROTO_HAS_EVENT_ID;
    memcpy (req->event_id, self->ids[(i * 104729) % self->n_ids], 16);
}

static void
s_make_update (bench_t *self, size_t i, proto_request_t *req, char *scratch)
{
    req->op = PROTO_OP_UPDATE;
    req->has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS;
    memcpy (req->event_id, self->ids[i % self->n_ids], 16);
    req->status = (i / self->n_ids) % 2 ? PROTO_STR ("pending") : PROTO_STR ("processed");
}

static void
s_make_ack (bench_t *self, size_t i, proto_request_t *req, char *scratch)
{
    req->op = PROTO_OP_FEED_ACK;
    req->has = PROTO_HAS_SEQ;
    req->seq = self->last_seq;
}

static long
s_vmrss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen (path, "r");
    long kb = -1;
    while (file && fgets (line, sizeof line, file))
        if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (file)
        fclose (file);
    return kb;
}

static long
s_stats_rss_kb (bench_t *self)
{
    proto_request_t req = { .op = PROTO_OP_STATS, .rid = ++self->rid_base };
    msgpack_sbuffer_clear (&self->buf);
    proto_request_encode (&req, &self->buf);
    zmq_send (self->dealer, self->buf.data, self->buf.size, 0);
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    long kb = -1;
    if (zmq_msg_recv (&msg, self->dealer, 0) >= 0) {
        proto_reply_t reply;
        proto_error_t err;
        if (proto_reply_decode (zmq_msg_data (&msg), zmq_msg_size (&msg), &reply, &err) == 0) {
            for (size_t i = 0; i < reply.n_stats; i++)
                if (reply.stats[i].name.len == 9
                    && !memcmp (reply.stats[i].name.ptr, "rss_bytes", 9))
                    kb = (long)(reply.stats[i].value / 1024);
            proto_reply_clear (&reply);
        }
    }
    zmq_msg_close (&msg);
    return kb;
}

static long
s_rss_kb (bench_t *self, pid_t pid)
{
    return pid > 0 ? s_vmrss_kb (pid) : s_stats_rss_kb (self);
}

int
main (int argc, char *argv[])
{
    const char *endpoint = NULL;
    size_t ops = 200000, window = 1000, events = 1000000;
    static const struct option options[] = {
        { "endpoint", required_argument, NULL, 'e' }, { "ops", required_argument, NULL, 'o' },
        { "window", required_argument, NULL, 'w' },   { "events", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "e:o:w:n:h", options, NULL)) != -1) {
        if (opt == 'e')
            endpoint = optarg;
        else if (opt == 'o')
            ops = strtoul (optarg, NULL, 10);
        else if (opt == 'w')
            window = strtoul (optarg, NULL, 10);
        else if (opt == 'n')
            events = strtoul (optarg, NULL, 10);
        else {
            printf ("Usage: herald-bench-store [--endpoint EP] [--ops N (200000)] "
                    "[--window W (1000)] [--events N (1000000), 0 skips the load]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (ops < 1 || window < 1)
        return 2;
    signal (SIGPIPE, SIG_IGN);
    pid_t pid = -1;
    char bind[64];
    if (!endpoint) {
        int port = harness_free_port ();
        char pub[64];
        snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
        snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
        const char *args[] = { harness_bin ("herald-store"),
                               "--bind",
                               bind,
                               "--pub-bind",
                               pub,
                               "--feed-max",
                               "10000000",
                               "--log-level",
                               "warn",
                               NULL };
        pid = harness_spawn (args, NULL, NULL, NULL);
        if (pid < 0 || harness_wait_tcp (port, 10000) != 0) {
            fprintf (stderr, "bench: cannot start %s\n", args[0]);
            return 1;
        }
        endpoint = bind;
        printf ("herald-store pid %d on %s\n", (int)pid, bind);
    }
    zsys_init ();
    zsys_handler_set (NULL);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (dealer, 0);
    zsock_set_rcvhwm (dealer, 0);
    zsock_connect (dealer, "%s", endpoint);
    size_t chunk = ops > 100000 ? ops : 100000;
    bench_t self = { .dealer = zsock_resolve (dealer) };
    msgpack_sbuffer_init (&self.buf);
    self.sent_at = malloc (chunk * sizeof *self.sent_at);
    self.latency = malloc (chunk * sizeof *self.latency);
    self.ids = malloc (ops * sizeof *self.ids);
    int rc = -1;
    if (!self.sent_at || !self.latency || !self.ids)
        goto cleanup;
    printf ("window %zu requests in flight on one DEALER, %zu ops per phase\n", window, ops);
    if (s_phase (&self, "create", ops, window, s_make_create, true)
        || s_phase (&self, "ack", 1, 1, s_make_ack, false)
        || s_phase (&self, "get", ops, window, s_make_get, true)
        || s_phase (&self, "update", ops, window, s_make_update, true)
        || s_phase (&self, "ack", 1, 1, s_make_ack, false))
        goto cleanup;
    free (self.ids);
    self.ids = NULL;
    if (events > self.n_ids) {
        size_t added = events - self.n_ids;
        long before = s_rss_kb (&self, pid);
        int64_t start = clock_mono_us ();
        for (size_t done = 0; done < added; done += chunk) {
            size_t n = added - done < chunk ? added - done : chunk;
            if (s_phase (&self, "load", n, window, s_make_create, false)
                || s_phase (&self, "ack", 1, 1, s_make_ack, false))
                goto cleanup;
        }
        double secs = (double)(clock_mono_us () - start) / 1e6;
        long after = s_rss_kb (&self, pid);
        double per_event = (double)(after - before) * 1024.0 / (double)added;
        printf ("load    %9zu events in %7.3f s (%.0f/s): store RSS %.1f MB for %zu events\n",
                added, secs, (double)added / secs, (double)after / 1024.0, events);
        printf ("memory  %.1f bytes per event (RSS growth / events added), %.1f beyond the "
                "%d bytes of user_id + description\n",
                per_event, per_event - (USER_LEN + DESCRIPTION_LEN), USER_LEN + DESCRIPTION_LEN);
    }
    rc = 0;
cleanup:
    zsock_destroy (&dealer);
    msgpack_sbuffer_destroy (&self.buf);
    free (self.sent_at);
    free (self.latency);
    free (self.ids);
    if (pid > 0)
        harness_stop (pid, SIGTERM, 10000);
    return rc == 0 ? 0 : 1;
}
