/*
 * jobs — see jobs.h. Free jobs and free slots are stacks of indexes; the
 * jobs queued for a slot are a ring of job indexes, oldest first, holding
 * exactly the jobs in JOB_QUEUED (at most every job: n_jobs entries never
 * overflow). A queued job released before its turn (the worker's
 * jobs_release_idle empties the whole queue instead) is taken out of the
 * ring there and then, the others keeping their order.
 */
#include "jobs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _jobs_t {
    job_t *jobs;
    int n_jobs;
    int *free_jobs; /* stack of free jobs' indexes */
    int n_free;
    int n_slots;
    int *slot_job;   /* per slot: the index of the job holding it, -1 none */
    int *free_slots; /* stack of slots nobody holds */
    int n_free_slots;
    int *queue; /* ring of job indexes queued for a slot, oldest first */
    int queue_head, queue_len;
    int waiting; /* jobs in JOB_WAIT */
    job_t **due; /* jobs_take_due's answer */
};

jobs_t *
jobs_new (int n_jobs, int n_slots)
{
    assert (n_jobs > 0 && n_slots > 0);
    jobs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->n_jobs = n_jobs;
    self->n_slots = n_slots;
    self->jobs = calloc ((size_t)n_jobs, sizeof *self->jobs);
    self->free_jobs = calloc ((size_t)n_jobs, sizeof *self->free_jobs);
    self->queue = calloc ((size_t)n_jobs, sizeof *self->queue);
    self->due = calloc ((size_t)n_jobs, sizeof *self->due);
    self->slot_job = calloc ((size_t)n_slots, sizeof *self->slot_job);
    self->free_slots = calloc ((size_t)n_slots, sizeof *self->free_slots);
    if (!self->jobs || !self->free_jobs || !self->queue || !self->due || !self->slot_job
        || !self->free_slots) {
        jobs_destroy (&self);
        return NULL;
    }
    /* Lowest index on top: jobs and slots are handed out 0, 1, 2, ... */
    for (int i = n_jobs - 1; i >= 0; i--)
        self->free_jobs[self->n_free++] = i;
    for (int i = n_slots - 1; i >= 0; i--) {
        self->slot_job[i] = -1;
        self->free_slots[self->n_free_slots++] = i;
    }
    return self;
}

void
jobs_destroy (jobs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobs_t *self = *self_p;
    for (int i = 0; self->jobs && i < self->n_jobs; i++)
        delivery_release (&self->jobs[i].delivery);
    free (self->jobs);
    free (self->free_jobs);
    free (self->queue);
    free (self->due);
    free (self->slot_job);
    free (self->free_slots);
    free (self);
    *self_p = NULL;
}

job_t *
jobs_take (jobs_t *self)
{
    assert (self);
    if (self->n_free == 0)
        return NULL;
    job_t *job = &self->jobs[self->free_jobs[--self->n_free]];
    memset (job, 0, sizeof *job);
    job->state = JOB_HTTP;
    job->slot = -1;
    return job;
}

void
jobs_give_slot (jobs_t *self, job_t *job)
{
    assert (self && job);
    if (job->slot < 0)
        return;
    self->slot_job[job->slot] = -1;
    self->free_slots[self->n_free_slots++] = job->slot;
    job->slot = -1;
}

/* Takes job out of a wait or the queue, if it is in one. */
static void
s_leave (jobs_t *self, job_t *job)
{
    if (job->state == JOB_WAIT)
        self->waiting--;
    if (job->state != JOB_QUEUED)
        return;
    int index = (int)(job - self->jobs), kept = 0;
    for (int i = 0; i < self->queue_len; i++) {
        int at = self->queue[(self->queue_head + i) % self->n_jobs];
        if (at != index)
            self->queue[(self->queue_head + kept++) % self->n_jobs] = at;
    }
    assert (kept == self->queue_len - 1);
    self->queue_len = kept;
}

void
jobs_release (jobs_t *self, job_t *job)
{
    assert (self && job && job->state != JOB_FREE);
    s_leave (self, job);
    jobs_give_slot (self, job);
    delivery_release (&job->delivery);
    job->state = JOB_FREE;
    self->free_jobs[self->n_free++] = (int)(job - self->jobs);
}

int
jobs_busy (jobs_t *self)
{
    assert (self);
    return self->n_jobs - self->n_free;
}

static int
s_take_slot (jobs_t *self, job_t *job)
{
    if (self->n_free_slots == 0)
        return -1;
    job->slot = self->free_slots[--self->n_free_slots];
    self->slot_job[job->slot] = (int)(job - self->jobs);
    return 0;
}

int
jobs_claim_slot (jobs_t *self, job_t *job)
{
    assert (self && job && job->state != JOB_FREE);
    if (job->slot >= 0)
        return 0;
    if (job->state == JOB_QUEUED)
        return -1; /* already in the queue: its place stays */
    if (self->queue_len == 0 && s_take_slot (self, job) == 0)
        return 0;
    s_leave (self, job);
    job->state = JOB_QUEUED;
    assert (self->queue_len < self->n_jobs);
    self->queue[(self->queue_head + self->queue_len++) % self->n_jobs] = (int)(job - self->jobs);
    return -1;
}

job_t *
jobs_next_queued (jobs_t *self)
{
    assert (self);
    if (self->queue_len == 0 || self->n_free_slots == 0)
        return NULL;
    job_t *job = &self->jobs[self->queue[self->queue_head]];
    self->queue_head = (self->queue_head + 1) % self->n_jobs;
    self->queue_len--;
    assert (job->state == JOB_QUEUED);
    job->state = JOB_HTTP;
    int rc = s_take_slot (self, job);
    assert (rc == 0);
    (void)rc;
    return job;
}

int
jobs_queued (jobs_t *self)
{
    assert (self);
    return self->queue_len;
}

job_t *
jobs_slot_holder (jobs_t *self, int slot)
{
    assert (self && slot >= 0 && slot < self->n_slots);
    int index = self->slot_job[slot];
    return index < 0 ? NULL : &self->jobs[index];
}

void
jobs_wait (jobs_t *self, job_t *job, int64_t due)
{
    assert (self && job && job->state != JOB_FREE);
    s_leave (self, job);
    job->state = JOB_WAIT;
    job->due = due;
    self->waiting++;
    jobs_give_slot (self, job); /* a wait holds no connection */
}

job_t **
jobs_take_due (jobs_t *self, int64_t now, int *count, int64_t *next)
{
    assert (self && count && next);
    *count = 0;
    *next = INT64_MAX;
    for (int i = 0; self->waiting > 0 && i < self->n_jobs; i++) {
        job_t *job = &self->jobs[i];
        if (job->state != JOB_WAIT)
            continue;
        if (job->due <= now) {
            self->waiting--;
            job->state = JOB_HTTP;
            self->due[(*count)++] = job;
        } else if (job->due < *next)
            *next = job->due;
    }
    return self->due;
}

void
jobs_release_idle (jobs_t *self)
{
    assert (self);
    for (int i = 0; i < self->n_jobs; i++)
        if (self->jobs[i].state == JOB_WAIT || self->jobs[i].state == JOB_QUEUED)
            jobs_release (self, &self->jobs[i]);
    self->queue_head = self->queue_len = 0;
}
