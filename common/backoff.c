/* backoff — see backoff.h. */
#include "backoff.h"

#include <assert.h>
#include <time.h>
#include <unistd.h>

void
backoff_init (backoff_t *self, int64_t initial_ms, int64_t max_ms)
{
    assert (self);
    assert (initial_ms > 0 && max_ms >= initial_ms);
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    self->initial_ms = initial_ms;
    self->max_ms = max_ms;
    self->current_ms = initial_ms;
    self->attempts = 0;
    /* The process id tells apart services started in the same instant; it
       is read once, as getpid is a system call and the worker makes a
       backoff per delivery. (A forked child keeps its parent's: none of
       them makes a backoff.) */
    static uint64_t s_pid;
    if (!s_pid)
        s_pid = (uint64_t)getpid ();
    self->rng = ((uint64_t)ts.tv_nsec << 20) ^ s_pid ^ (uint64_t)(uintptr_t)self;
    if (self->rng == 0)
        self->rng = 0x9e3779b97f4a7c15ULL;
}

static uint64_t
s_xorshift (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

int64_t
backoff_next (backoff_t *self)
{
    assert (self);
    int64_t ceiling = self->current_ms;
    int64_t half = ceiling / 2;
    int64_t delay = half + (int64_t)(s_xorshift (&self->rng) % (uint64_t)(ceiling - half + 1));
    self->attempts++;
    self->current_ms = ceiling * 2 > self->max_ms ? self->max_ms : ceiling * 2;
    return delay;
}

void
backoff_reset (backoff_t *self)
{
    assert (self);
    self->current_ms = self->initial_ms;
    self->attempts = 0;
}
