/*
 * jobs — the worker's messages in hand and its connections to the gateway.
 *
 * A job is one delivery the worker holds (at most `prefetch` of them, the
 * broker's window), from the moment it arrives until it is acked, rejected
 * or left to the broker. A slot is one of the gateway client's connections
 * (at most `http_connections`): a job holds a slot while its request is in
 * flight and between the check of a redelivery and its PUT. A job that finds
 * every slot taken, or others already waiting for one, queues for the next
 * slot that comes free, first come first served; a job waiting for a retry
 * holds none. This file keeps that bookkeeping (which job is free, which
 * holds which slot, who waits for one, who waits for a retry) so that
 * consumer.c only decides what happens to a message.
 *
 * Everything here is fixed-size, allocated by jobs_new: taking a job or a
 * slot never allocates. Not thread-safe (the worker's one loop owns it).
 */
#ifndef HERALD_JOBS_H
#define HERALD_JOBS_H

#include "backoff.h"
#include "proto.h"
#include "subscription.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    JOB_FREE = 0, /* not in use */
    JOB_HTTP,     /* owned by the consumer: a request in flight, or about to start */
    JOB_WAIT,     /* waiting for a retry (jobs_wait), holding no slot */
    JOB_QUEUED    /* waiting for a slot (jobs_claim_slot) */
} job_state_t;

typedef struct {
    job_state_t state;
    delivery_t delivery; /* owned */
    proto_change_t n;    /* strings borrow delivery.body */
    char id[PROTO_UUID_LEN + 1];
    char request_id[PROTO_REQUEST_ID_MAX + 1]; /* the change's (X-Request-Id), "" none */
    uint64_t epoch;                            /* connection the delivery came on */
    int slot;                                  /* the gateway client's slot held, -1 none */
    bool checked;                              /* GET done, or not needed (first delivery) */
    bool says_processed;                       /* the message carries status "processed" */
    bool printed;
    int failures;
    int64_t http_started; /* mono us of the request in flight */
    backoff_t backoff;
    int64_t due; /* JOB_WAIT: mono ms of the next attempt */
} job_t;

typedef struct _jobs_t jobs_t;

/* n_jobs jobs and n_slots slots (both > 0); NULL when out of memory. */
jobs_t *jobs_new (int n_jobs, int n_slots);

/* Releases the deliveries of jobs still held, frees self and sets *self_p
   to NULL; no-op on NULL. */
void jobs_destroy (jobs_t **self_p);

/* A free job, zeroed, state JOB_HTTP, holding no slot (-1); the caller
   fills it in and owns it until jobs_release. NULL when all are in use. */
job_t *jobs_take (jobs_t *self);

/* Gives job back: lets go of its slot, releases its delivery, leaves any
   wait or queue it was in. job must not be free. */
void jobs_release (jobs_t *self, job_t *job);

/* Jobs in use (not free). */
int jobs_busy (jobs_t *self);

/* Returns 0 once job holds a slot: the one it held, or a free one when no
   other job is queued ahead of it. Otherwise puts job at the end of the
   queue (JOB_QUEUED) and returns -1: jobs_next_queued hands it a slot in
   its turn. */
int jobs_claim_slot (jobs_t *self, job_t *job);

/* The oldest queued job, now holding a free slot (state JOB_HTTP), or NULL
   when none is queued or every slot is held. */
job_t *jobs_next_queued (jobs_t *self);

/* Jobs queued for a slot. */
int jobs_queued (jobs_t *self);

/* Lets go of job's slot, if it holds one (its gateway client status and
   error text stay readable until the slot's next request starts). */
void jobs_give_slot (jobs_t *self, job_t *job);

/* The job holding slot (0 <= slot < n_slots), or NULL. */
job_t *jobs_slot_holder (jobs_t *self, int slot);

/* Puts job to wait for a retry at due (mono ms), holding no slot. */
void jobs_wait (jobs_t *self, job_t *job, int64_t due);

/* Takes every waiting job whose time has come (due <= now) out of its wait
   (state JOB_HTTP) and returns them, borrowed until the next call, with
   their number in *count. *next is set to the earliest due time among the
   jobs still waiting, INT64_MAX for none. */
job_t **jobs_take_due (jobs_t *self, int64_t now, int *count, int64_t *next);

/* Releases every job waiting for a retry or for a slot (nothing of theirs
   is in flight) and empties the queue. */
void jobs_release_idle (jobs_t *self);

#endif
