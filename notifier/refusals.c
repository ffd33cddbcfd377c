/*
 * refusals — see refusals.h.
 */
#include "refusals.h"

#include "broker.h"
#include "log.h"

#include <assert.h>
#include <stdio.h>

void
refusals_init (refusals_t *self, long queue_max)
{
    assert (self);
    *self = (refusals_t){ .queue_max = queue_max };
    backoff_init (&self->delay, REFUSALS_INITIAL_MS, REFUSALS_MAX_MS);
}

bool
refusals_note (refusals_t *self, int64_t now)
{
    assert (self);
    if (self->count++ == 0) {
        self->since = self->logged = now;
        char bound[64] = "bounded by a policy";
        if (self->queue_max > 0)
            snprintf (bound, sizeof bound, "x-max-length %ld, overflow reject-publish",
                      self->queue_max);
        log_warn ("RabbitMQ refused a publish (basic.nack): queue %s is full (%s; is a worker "
                  "consuming it?). The store's feed keeps the changes; publishing again with "
                  "backoff up to %d ms. If the feed fills, the API answers 503.",
                  BROKER_QUEUE, bound, REFUSALS_MAX_MS);
        return true;
    }
    if (now - self->logged >= REFUSALS_LOG_MS) {
        self->logged = now;
        log_warn ("queue %s still full: %llu publishes refused in %lld s", BROKER_QUEUE,
                  (unsigned long long)self->count, (long long)((now - self->since) / 1000));
    }
    return false;
}

int64_t
refusals_wait (refusals_t *self)
{
    assert (self);
    return backoff_next (&self->delay);
}

bool
refusals_active (const refusals_t *self)
{
    assert (self);
    return self->count > 0;
}

void
refusals_end (refusals_t *self, int64_t now)
{
    assert (self);
    log_info ("queue %s takes publishes again (%llu refused in %lld s)", BROKER_QUEUE,
              (unsigned long long)self->count, (long long)((now - self->since) / 1000));
    self->count = 0;
    backoff_reset (&self->delay);
}
