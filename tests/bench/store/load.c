/*
 * load — see load.h. Request ids are numbered across phases (rid_base), so
 * a reply is matched to its request by subtraction, and a stray reply of
 * an earlier phase is recognised and refused.
 */
#include "load.h"

#include "clock.h"
#include "harness.h"
#include "proto.h"
#include "zmtp.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#define LOAD_REPLY_WAIT_MS 10000
#define S_FLUSH_EVERY 64 /* requests the bare client queues between writes */

struct _load_t {
    void *ctx;
    void *dealer;
    zmtp_t *raw; /* in place of dealer, with LOAD_CLIENT_ZMTP */
    load_client_t client;
    msgpack_sbuffer buf;
    int64_t *sent_at; /* per request of the phase, us */
    int64_t *latency;
    size_t cap; /* of sent_at and latency */
    uint8_t (*ids)[16];
    size_t n_ids, max_ids;
    size_t updated; /* updates sent by earlier phases */
    size_t created; /* creates sent by earlier phases */
    size_t heavy_every;
    uint64_t last_seq;
    uint64_t rid_base;
    volatile sig_atomic_t *interrupted;
    pid_t store_pid; /* <= 0: its CPU is not measured */
    /* The mark and list phases' parameters, read by their make_fn. */
    size_t mark_first;
    const char *mark_status;
    const load_query_t *query;
    size_t items_min, items_max; /* the list phase's page sizes seen */
    size_t batch;                /* requests per message, 1 = no batches */
    size_t phase_batch;          /* the current phase's: batch, or 1 */
    msgpack_sbuffer envelope;    /* a batch being built */
    proto_str_t frames[PROTO_BATCH_MAX];
};

/* Fills req for request i of a phase; scratch holds its strings. */
typedef void (make_fn) (load_t *self, size_t i, proto_request_t *req, char *scratch);

/* A fresh DEALER to endpoint in place of the current one. */
static int
s_connect (load_t *self, const char *endpoint)
{
    if (self->dealer)
        zmq_close (self->dealer);
    self->dealer = NULL;
    zmtp_destroy (&self->raw);
    if (self->client == LOAD_CLIENT_ZMTP)
        return (self->raw = zmtp_connect (endpoint, LOAD_REPLY_WAIT_MS)) ? 0 : -1;
    self->dealer = zmq_socket (self->ctx, ZMQ_DEALER);
    /* No high-water marks: the window bounds what is queued. */
    int zero = 0;
    if (!self->dealer || zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &zero, sizeof zero) != 0
        || zmq_setsockopt (self->dealer, ZMQ_RCVHWM, &zero, sizeof zero) != 0
        || zmq_setsockopt (self->dealer, ZMQ_LINGER, &zero, sizeof zero) != 0
        || zmq_connect (self->dealer, endpoint) != 0) {
        fprintf (stderr, "bench: cannot connect to %s\n", endpoint);
        return -1;
    }
    return 0;
}

load_t *
load_new (const char *endpoint, load_client_t client, size_t max_ids,
          volatile sig_atomic_t *interrupted)
{
    load_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = client;
    self->interrupted = interrupted;
    self->batch = 1;
    msgpack_sbuffer_init (&self->buf);
    msgpack_sbuffer_init (&self->envelope);
    self->max_ids = max_ids;
    self->ids = max_ids ? malloc (max_ids * sizeof *self->ids) : NULL;
    self->ctx = zmq_ctx_new ();
    if ((max_ids && !self->ids) || !self->ctx || s_connect (self, endpoint) != 0)
        load_destroy (&self);
    return self;
}

int
load_set_batch (load_t *self, size_t batch)
{
    assert (self);
    if (batch == 0 || batch > PROTO_BATCH_MAX)
        return -1;
    self->batch = batch;
    return 0;
}

void
load_set_store_pid (load_t *self, pid_t pid)
{
    assert (self);
    self->store_pid = pid;
}

int
load_reconnect (load_t *self, const char *endpoint)
{
    assert (self);
    return s_connect (self, endpoint);
}

void
load_destroy (load_t **self_p)
{
    assert (self_p);
    load_t *self = *self_p;
    if (!self)
        return;
    if (self->dealer)
        zmq_close (self->dealer);
    zmtp_destroy (&self->raw);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    msgpack_sbuffer_destroy (&self->buf);
    msgpack_sbuffer_destroy (&self->envelope);
    free (self->sent_at);
    free (self->latency);
    free (self->ids);
    free (self);
    *self_p = NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Checks one reply frame; returns its request's index in the phase, or
   -2 for an error or a stray reply. */
static long
s_check_reply (load_t *self, const void *data, size_t size, size_t n)
{
    proto_reply_t reply;
    proto_error_t err;
    long index = -2;
    if (proto_reply_decode (data, size, &reply, &err) == PROTO_DECODE_OK) {
        if (reply.status != PROTO_OK)
            fprintf (stderr, "bench: %s failed: %s %.*s\n", proto_op_name (reply.op),
                     proto_status_name (reply.status), (int)reply.message.len,
                     reply.message.ptr ? reply.message.ptr : "");
        else if (reply.rid > self->rid_base && reply.rid <= self->rid_base + n) {
            index = (long)(reply.rid - self->rid_base - 1);
            if (reply.op == PROTO_OP_CREATE && self->n_ids < self->max_ids)
                memcpy (self->ids[self->n_ids++], reply.event.id, 16);
            if (reply.event.seq > self->last_seq)
                self->last_seq = reply.event.seq;
            if (reply.op == PROTO_OP_FEED_ACK && reply.acked > self->last_seq)
                self->last_seq = reply.acked;
            if (reply.op == PROTO_OP_LIST) {
                if (reply.n_items < self->items_min)
                    self->items_min = reply.n_items;
                if (reply.n_items > self->items_max)
                    self->items_max = reply.n_items;
            }
        }
        proto_reply_clear (&reply);
    } else
        fprintf (stderr, "bench: undecodable reply: %s\n", err.message);
    return index;
}

/* Receives one message, a reply or a batch of them, and records the
   latency of each request it answers (done counts them). Returns 1 when
   one was taken, 0 when nothing is queued, -1 for an error or a stray
   reply. */
static int
s_recv (load_t *self, size_t n, size_t *done)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    const void *data;
    size_t size, count = 1;
    if (self->raw) {
        int got = zmtp_next (self->raw, &data, &size);
        if (got <= 0)
            return got;
    } else if (zmq_msg_recv (&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return 0;
    } else {
        data = zmq_msg_data (&msg);
        size = zmq_msg_size (&msg);
    }
    proto_str_t one = { data, size }, *frames = &one;
    int rc = 1;
    if (self->phase_batch > 1) {
        uint64_t rid;
        proto_error_t err;
        frames = self->frames;
        if (proto_batch_decode (data, size, true, PROTO_BATCH_MAX, &rid, frames, &count, &err)
            != PROTO_DECODE_OK) {
            fprintf (stderr, "bench: not a batch reply: %s\n", err.message);
            (void)s_check_reply (self, data, size, n); /* says what the store answered */
            rc = -1;
            count = 0;
        }
    }
    int64_t now = clock_mono_us ();
    for (size_t i = 0; i < count; i++) {
        long index = s_check_reply (self, frames[i].ptr, frames[i].len, n);
        if (index < 0) {
            rc = -1;
            break;
        }
        self->latency[(*done)++] = now - self->sent_at[index];
    }
    zmq_msg_close (&msg); /* a no-op for the bare client's empty one */
    return rc;
}

static int
s_reserve (load_t *self, size_t n)
{
    if (n <= self->cap)
        return 0;
    int64_t *sent_at = realloc (self->sent_at, n * sizeof *sent_at);
    if (sent_at)
        self->sent_at = sent_at;
    int64_t *latency = realloc (self->latency, n * sizeof *latency);
    if (latency)
        self->latency = latency;
    if (!sent_at || !latency)
        return -1;
    self->cap = n;
    return 0;
}

/* One message out: to the DEALER, or queued for the bare client's next
   flush. */
static int
s_out (load_t *self, const void *data, size_t size)
{
    if (self->raw)
        return zmtp_queue (self->raw, data, size);
    return zmq_send (self->dealer, data, size, 0) < 0 ? -1 : 0;
}

/* Sends requests first .. first + k - 1 made by make: alone, or as one
   batch when the phase batches (then k <= self->phase_batch). */
static int
s_send (load_t *self, make_fn *make, size_t first, size_t k, char *scratch)
{
    bool batched = self->phase_batch > 1;
    msgpack_sbuffer_clear (&self->envelope);
    if (batched && proto_batch_begin (self->rid_base + first + 1, false, k, &self->envelope) != 0)
        return -1;
    int64_t now = clock_mono_us ();
    for (size_t i = first; i < first + k; i++) {
        proto_request_t req;
        memset (&req, 0, sizeof req);
        make (self, i, &req, scratch);
        req.rid = self->rid_base + i + 1;
        msgpack_sbuffer_clear (&self->buf);
        if (proto_request_encode (&req, &self->buf) != 0)
            return -1;
        self->sent_at[i] = now;
        if (!batched)
            return s_out (self, self->buf.data, self->buf.size);
        if (proto_batch_append (self->buf.data, self->buf.size, &self->envelope) != 0)
            return -1;
    }
    return s_out (self, self->envelope.data, self->envelope.size);
}

/* Waits up to timeout_ms for a reply: 1 when one is there (for the bare
   client: bytes, which may be a PING only), 0 on timeout, -1 on an error
   or EINTR (errno). */
static int
s_wait (load_t *self, int timeout_ms)
{
    if (self->raw)
        return zmtp_wait (self->raw, timeout_ms);
    zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
    int ready = zmq_poll (&item, 1, timeout_ms);
    if (ready < 0)
        errno = zmq_errno ();
    return ready;
}

/* Runs n requests made by make with up to window in flight, batched when
   batched is set and load_set_batch asked for it (point operations only:
   proto_batch_allows). */
static int
s_phase (load_t *self, const char *name, size_t n, size_t window, make_fn *make, load_result_t *out,
         bool batched)
{
    if (n == 0 || window == 0 || s_reserve (self, n) != 0)
        return -1;
    self->phase_batch = batched ? self->batch : 1;
    size_t sent = 0, done = 0;
    char scratch[128];
    long long store0 = self->store_pid > 0 ? harness_cpu_ticks (self->store_pid) : -1;
    long long client0 = harness_rusage_us (RUSAGE_SELF);
    int64_t start = clock_mono_us ();
    /* The phase fails once no reply came for LOAD_REPLY_WAIT_MS: counted
       from the last one, so neither the bare client's PINGs nor a reply
       arriving a byte at a time hold it off. */
    int64_t last_reply = clock_mono_ms ();
    while (done < n) {
        if (self->interrupted && *self->interrupted) {
            fprintf (stderr, "bench: %s: interrupted (%zu of %zu done)\n", name, done, n);
            return -1;
        }
        while (sent < n && sent - done < window) {
            size_t k = n - sent < window - (sent - done) ? n - sent : window - (sent - done);
            if (k > self->phase_batch)
                k = self->phase_batch;
            if (s_send (self, make, sent, k, scratch) != 0)
                return -1;
            sent += k;
            /* The bare client writes as it goes, so the first requests of
               a window do not wait for the rest to be encoded. */
            if (self->raw && sent % S_FLUSH_EVERY < k && zmtp_flush (self->raw) != 0)
                return -1;
        }
        /* Wait for one reply, then take every reply already queued. */
        int64_t left = last_reply + LOAD_REPLY_WAIT_MS - clock_mono_ms ();
        int ready = left > 0 ? s_wait (self, (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue; /* the loop's top sees the flag */
        if (ready <= 0) {
            fprintf (stderr, "bench: %s: no reply for %d ms (%zu of %zu done)\n", name,
                     LOAD_REPLY_WAIT_MS, done, n);
            return -1;
        }
        size_t before = done;
        int got;
        while ((got = s_recv (self, n, &done)) != 0)
            if (got < 0)
                return -1;
        if (done > before)
            last_reply = clock_mono_ms ();
    }
    int64_t elapsed = clock_mono_us () - start;
    long long store1 = self->store_pid > 0 ? harness_cpu_ticks (self->store_pid) : -1;
    long long client1 = harness_rusage_us (RUSAGE_SELF);
    self->rid_base += n;
    if (out) {
        qsort (self->latency, n, sizeof *self->latency, s_cmp);
        out->ops = n;
        out->secs = (double)elapsed / 1e6;
        out->ops_per_s = (double)n * 1e6 / (double)elapsed;
        out->p50_ms = (double)self->latency[n / 2] / 1e3;
        out->p99_ms = (double)self->latency[n * 99 / 100] / 1e3;
        out->max_ms = (double)self->latency[n - 1] / 1e3;
        out->store_cpu_us = harness_cpu_us_per_op (store0, store1, sysconf (_SC_CLK_TCK), n);
        out->client_cpu_us = harness_cpu_us_per_op (client0, client1, 1000000, n);
    }
    return 0;
}

/* The decimal digits of v, zero-padded, in the width bytes ending at end
   (the digits above width are dropped: the callers' numbers fit). */
static void
s_put_digits (char *end, size_t width, size_t v)
{
    for (size_t k = 0; k < width; k++, v /= 10)
        *--end = (char)('0' + v % 10);
}

static void
s_make_create (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    /* user "user-00000000042" (16 bytes), description of 40 bytes
       ("Your order " and 29 digits). Formatted by hand: through snprintf
       the two strings cost the load generator ~1.7k instructions per
       create, about a sixth of all it spends per operation, on the same
       two cores as the store it measures. */
    static const char user[] = "user-", description[] = "Your order ";
    char *desc = scratch + LOAD_USER_LEN + 1;
    memcpy (scratch, user, sizeof user - 1);
    size_t number = self->created + i;
    if (self->heavy_every && number % self->heavy_every == 0)
        memcpy (scratch, LOAD_HEAVY_USER, LOAD_USER_LEN);
    else
        s_put_digits (scratch + LOAD_USER_LEN, LOAD_USER_LEN - (sizeof user - 1),
                      (i * 7919) % LOAD_USERS);
    memcpy (desc, description, sizeof description - 1);
    s_put_digits (desc + LOAD_DESCRIPTION_LEN, LOAD_DESCRIPTION_LEN - (sizeof description - 1), i);
    req->op = PROTO_OP_CREATE;
    req->has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
    req->user_id = (proto_str_t){ scratch, LOAD_USER_LEN };
    req->description = (proto_str_t){ desc, LOAD_DESCRIPTION_LEN };
}

/* Get i asks for an id scattered over the events (a prime stride: an
   order unrelated to creation, as the store's own layout would otherwise
   favour), and starts loading the id of get i + S_GET_AHEAD now: among a
   million ids each pick is a cache miss, which this one client thread
   should not wait for while it is measuring the store (redis-benchmark
   makes its keys from a counter). */
#define S_GET_STRIDE 104729
#define S_GET_AHEAD 16

static void
s_make_get (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    (void)scratch;
    req->op = PROTO_OP_GET;
    req->has = PROTO_HAS_EVENT_ID;
    memcpy (req->event_id, self->ids[(i * S_GET_STRIDE) % self->n_ids], 16);
    __builtin_prefetch (self->ids[((i + S_GET_AHEAD) * S_GET_STRIDE) % self->n_ids]);
}

static void
s_make_update (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    /* Counting across phases makes each update phase go on flipping
       statuses rather than rewrite the values the last one set. */
    size_t k = self->updated + i;
    req->op = PROTO_OP_UPDATE;
    req->has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS;
    memcpy (req->event_id, self->ids[k % self->n_ids], 16);
    req->status = (k / self->n_ids) % 2 ? PROTO_STR ("pending") : PROTO_STR ("processed");
}

static void
s_make_mark (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    req->op = PROTO_OP_UPDATE;
    req->has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS;
    memcpy (req->event_id, self->ids[self->mark_first + i], 16);
    req->status = (proto_str_t){ self->mark_status, strlen (self->mark_status) };
}

static void
s_make_list (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    const load_query_t *q = self->query;
    req->op = PROTO_OP_LIST;
    req->has = PROTO_HAS_LIMIT;
    req->limit = q->limit;
    if (q->user_id) {
        req->has |= PROTO_HAS_USER_ID;
        req->user_id = (proto_str_t){ q->user_id, strlen (q->user_id) };
    }
    if (q->status) {
        req->has |= PROTO_HAS_STATUS;
        req->status = (proto_str_t){ q->status, strlen (q->status) };
    }
    if (q->after != LOAD_NO_CURSOR) {
        req->has |= PROTO_HAS_AFTER;
        memcpy (req->after, self->ids[q->after], 16);
    }
}

static void
s_make_ack (load_t *self, size_t i, proto_request_t *req, char *scratch)
{
    req->op = PROTO_OP_FEED_ACK;
    req->has = PROTO_HAS_SEQ;
    req->seq = self->last_seq;
}

int
load_create (load_t *self, size_t n, size_t window, load_result_t *out)
{
    assert (self);
    int rc = s_phase (self, "create", n, window, s_make_create, out, true);
    self->created += n;
    return rc;
}

void
load_set_heavy (load_t *self, size_t every)
{
    assert (self);
    self->heavy_every = every;
}

int
load_get (load_t *self, size_t n, size_t window, load_result_t *out)
{
    assert (self);
    if (self->n_ids == 0)
        return -1;
    return s_phase (self, "get", n, window, s_make_get, out, true);
}

int
load_update (load_t *self, size_t n, size_t window, load_result_t *out)
{
    assert (self);
    if (self->n_ids == 0)
        return -1;
    int rc = s_phase (self, "update", n, window, s_make_update, out, true);
    self->updated += n;
    return rc;
}

int
load_mark (load_t *self, size_t first, size_t n, const char *status, size_t window)
{
    assert (self);
    if (n == 0)
        return 0;
    if (first + n > self->n_ids)
        return -1;
    self->mark_first = first;
    self->mark_status = status;
    return s_phase (self, "mark", n, window, s_make_mark, NULL, true);
}

int
load_list (load_t *self, const load_query_t *query, size_t n, load_result_t *out, size_t *items_min,
           size_t *items_max)
{
    assert (self);
    if (query->after != LOAD_NO_CURSOR && query->after >= self->n_ids)
        return -1;
    self->query = query;
    self->items_min = SIZE_MAX;
    self->items_max = 0;
    int rc = s_phase (self, "list", n, 1, s_make_list, out, false);
    *items_min = self->items_min;
    *items_max = self->items_max;
    return rc;
}

int
load_ack (load_t *self)
{
    assert (self);
    return s_phase (self, "ack", 1, 1, s_make_ack, NULL, false);
}

const char *
load_client_name (load_client_t client)
{
    return client == LOAD_CLIENT_ZMTP ? "bare ZMTP DEALER" : "libzmq DEALER";
}

size_t
load_ids (load_t *self)
{
    assert (self);
    return self->n_ids;
}

void
load_print (const char *name, const load_result_t *r)
{
    printf ("%-7s %9zu ops in %7.3f s: %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms\n", name, r->ops,
            r->secs, r->ops_per_s, r->p50_ms, r->p99_ms);
    fflush (stdout);
}
