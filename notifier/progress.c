/* progress — see progress.h. */
#include "progress.h"

#include "health.h"
#include "log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

struct _progress_t {
    int64_t stall_ms;
    int64_t since;       /* mono ms of the last progress */
    uint64_t pending;    /* feed_len of the last feed reply */
    bool stalled;        /* a stall was reported (logged once per stall) */
    const char *blocked; /* progress_blocked's reason, NULL none */
};

progress_t *
progress_new (int64_t stall_ms, int64_t now_ms)
{
    assert (stall_ms > 0);
    progress_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->stall_ms = stall_ms;
    self->since = now_ms;
    return self;
}

void
progress_destroy (progress_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
progress_feed (progress_t *self, uint64_t feed_len, int64_t now_ms)
{
    assert (self);
    self->pending = feed_len;
    if (feed_len == 0)
        self->since = now_ms;
}

void
progress_advanced (progress_t *self, int64_t now_ms)
{
    assert (self);
    self->since = now_ms;
}

void
progress_blocked (progress_t *self, const char *why)
{
    assert (self);
    self->blocked = why;
}

int64_t
progress_stalled_ms (progress_t *self, int64_t now_ms)
{
    assert (self);
    int64_t idle = now_ms - self->since;
    return self->pending > 0 && idle >= self->stall_ms ? idle : 0;
}

void
progress_report (progress_t *self, const char *health_file, bool relaying, int64_t now_ms)
{
    assert (self);
    int64_t stalled = progress_stalled_ms (self, now_ms);
    if (stalled) {
        char why[256];
        snprintf (why, sizeof why,
                  "no progress for %lld s with %llu changes pending in the store's feed "
                  "(%s)",
                  (long long)(stalled / 1000), (unsigned long long)self->pending,
                  self->blocked ? self->blocked
                  : relaying    ? "connected, but nothing confirmed"
                                : "RabbitMQ or the store unreachable");
        if (!self->stalled)
            log_warn ("%s: --check fails until a change is relayed", why);
        self->stalled = true;
        health_fail (health_file, now_ms, why);
        return;
    }
    if (self->stalled)
        log_info ("relaying again: the stall is over");
    self->stalled = false;
    if (relaying)
        health_touch (health_file, now_ms);
}
