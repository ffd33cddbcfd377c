/*
 * processed_watch — the store's PUB stream read by a thread of its own; see
 * processed_watch.h. The thread and the caller share only atomics and the
 * stamps array, whose slots the thread writes once each.
 */
#include "processed_watch.h"

#include "clock.h"
#include "harness.h"
#include "proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define WATCH_FRAME_MAX 8192 /* bytes of a notification read; bigger ones are no bench event's */

struct _processed_watch_t {
    int pub_port;
    char prefix[PROCESSED_WATCH_PREFIX_MAX + 1];
    size_t prefix_len;
    int total;
    _Atomic int64_t *done_us; /* per event number, 0 = not yet */
    atomic_int seen;
    atomic_bool warm;
    atomic_bool stop;
    pthread_t thread;
};

/* The event number of a "<prefix><k>" description, or -1. */
static int
s_number (processed_watch_t *self, const char *d, size_t len)
{
    if (len <= self->prefix_len || len > self->prefix_len + 10
        || memcmp (d, self->prefix, self->prefix_len) != 0)
        return -1;
    int k = 0;
    for (size_t i = self->prefix_len; i < len; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        k = k * 10 + (d[i] - '0');
        if (k >= self->total)
            return -1;
    }
    return k;
}

static void *
s_thread (void *arg)
{
    processed_watch_t *self = arg;
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int hwm = 0, linger = 0;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "event.updated", 13);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", self->pub_port);
    zmq_connect (sub, endpoint);
    proto_limits_t limits = proto_limits_default ();
    char buf[WATCH_FRAME_MAX];
    while (!atomic_load (&self->stop)) {
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
            atomic_store (&self->warm, true);
            continue;
        }
        int k = s_number (self, d, len);
        int64_t zero = 0;
        if (k >= 0 && atomic_compare_exchange_strong (&self->done_us[k], &zero, now))
            atomic_fetch_add (&self->seen, 1);
    }
    zmq_close (sub);
    zmq_ctx_term (ctx);
    return NULL;
}

processed_watch_t *
processed_watch_start (int pub_port, const char *prefix, int total)
{
    size_t prefix_len = strlen (prefix);
    if (prefix_len > PROCESSED_WATCH_PREFIX_MAX || total <= 0)
        return NULL;
    processed_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->done_us = calloc ((size_t)total, sizeof *self->done_us);
    if (!self->done_us) {
        free (self);
        return NULL;
    }
    self->pub_port = pub_port;
    memcpy (self->prefix, prefix, prefix_len + 1);
    self->prefix_len = prefix_len;
    self->total = total;
    atomic_init (&self->seen, 0);
    atomic_init (&self->warm, false);
    atomic_init (&self->stop, false);
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        free (self->done_us);
        free (self);
        return NULL;
    }
    return self;
}

void
processed_watch_stop (processed_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    processed_watch_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    free (self->done_us);
    free (self);
    *self_p = NULL;
}

int
processed_watch_seen (processed_watch_t *self)
{
    return atomic_load (&self->seen);
}

bool
processed_watch_warm (processed_watch_t *self)
{
    return atomic_load (&self->warm);
}

int
processed_watch_wait (processed_watch_t *self, int n, int timeout_ms)
{
    int64_t deadline = clock_mono_us () + (int64_t)timeout_ms * 1000;
    while (atomic_load (&self->seen) < n && clock_mono_us () < deadline)
        harness_nap_ms (1);
    return atomic_load (&self->seen);
}

int64_t
processed_watch_at (processed_watch_t *self, int k)
{
    return k >= 0 && k < self->total ? atomic_load (&self->done_us[k]) : 0;
}
