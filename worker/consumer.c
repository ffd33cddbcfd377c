/*
 * consumer — see consumer.h.
 *
 * There are `prefetch` jobs and fewer (or as many) HTTP slots: the broker's
 * window and the gateway's load are set apart (jobs.h keeps which job holds
 * which slot, and who waits). A job that finds no slot waits for the next
 * one to come free, handed out only between passes' steps, never inside a
 * completion. Each job owns its delivery (a copy, independent of the
 * connection's buffers; amqp/subscription.h) and records the connection
 * epoch it arrived on: an ack is sent only on that same connection.
 */
#include "consumer.h"

#include "backoff.h"
#include "broker.h"
#include "clock.h"
#include "health.h"
#include "gateway_client.h"
#include "jobs.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "subscription.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSUMER_SERVICE_MS 200 /* the AMQP socket is read at least this often */

typedef struct {
    const consumer_config_t *config;
    worker_metrics_t *m; /* config->metrics */
    volatile sig_atomic_t *stop;
    broker_t *broker;
    subscription_t *subscription; /* BROKER_QUEUE on broker */
    gateway_client_t *gateway;
    proto_limits_t limits;
    jobs_t *jobs;
    int n_jobs;
    int n_slots;    /* HTTP requests in flight at most */
    uint64_t epoch; /* bumped on every connect and drop */
    bool draining;
    bool conflict; /* the queue exists with another type: stop (broker.h) */
    int64_t connect_at, last_pump;
    uint64_t printed, acked, dead, not_found;
    /* The pass's lines, written to stdout together (s_flush_lines); the
       jobs whose line is among them start their PUT only once it is out. */
    line_buf_t lines;
    job_t **unsent;
    int n_unsent;
    bool out_failed; /* stdout refused a write: stop, acking nothing more */
} consumer_t;

/* Forgets the connection. Jobs waiting for a retry or a slot are dropped at
   once (the broker redelivers them); jobs with a request in flight finish
   it, unacked. */
static void
s_drop (consumer_t *self, const char *why)
{
    if (broker_connected (self->broker)) {
        log_warn ("dropping RabbitMQ connection: %s", why);
        self->m->broker_losses++;
    }
    broker_drop (self->broker);
    self->epoch++;
    jobs_release_idle (self->jobs);
    self->connect_at = clock_mono_ms () + broker_retry_delay_ms (self->broker);
}

static void
s_connect (consumer_t *self)
{
    int rc = broker_connect (self->broker);
    /* A queue of the other type cannot change by waiting: exit non-zero
       with the one message that says what to do (see relay.c). */
    self->conflict = rc == BROKER_CONFLICT;
    if (rc != 0) {
        self->connect_at = clock_mono_ms () + broker_retry_delay_ms (self->broker);
        return;
    }
    self->epoch++;
    self->m->broker_connects++;
    if (subscription_start (self->subscription) != 0) {
        s_drop (self, "consumer setup failed");
        return;
    }
    self->last_pump = clock_mono_ms ();
}

/* Settles a job and frees it: ack (sent by the pass's s_flush_acks), or
   reject without requeue (RabbitMQ dead-letters it). A job from an older
   connection is only freed: its tag is void and the broker delivers the
   message again. */
static void
s_settle (consumer_t *self, job_t *job, bool ack)
{
    if (broker_connected (self->broker) && job->epoch == self->epoch) {
        const char *why;
        int rc = ack ? subscription_ack (self->subscription, job->delivery.tag, &why)
                     : subscription_reject (self->subscription, job->delivery.tag, &why);
        if (rc != 0)
            s_drop (self, why);
        else if (!ack) {
            self->dead++;
            self->m->dead_lettered++;
        }
    }
    jobs_release (self->jobs, job);
}

static void s_retry (consumer_t *self, job_t *job, const char *why);

/* Writes the lines printed since the last call to stdout, then starts the
   PUTs of their events: a line is out before its event is marked processed,
   in one write for a pass's lines. When stdout refuses the write (a closed
   pipe, a full disk), none of those PUTs starts: the jobs go back to the
   broker unacked and the worker stops (the others' printing would fail the
   same way), rather than mark events processed whose line went nowhere. */
static void
s_flush_lines (consumer_t *self)
{
    if (self->n_unsent == 0)
        return;
    int n = self->n_unsent;
    self->n_unsent = 0;
    if (!self->out_failed && line_write (&self->lines, STDOUT_FILENO) != 0) {
        log_error ("stdout refused %d notification line(s): %s; stopping: they and every "
                   "message not yet acked go back to the queue",
                   n, strerror (errno));
        self->out_failed = true;
        self->draining = true;
        jobs_release_idle (self->jobs);
    } else if (!self->out_failed) {
        self->printed += (uint64_t)n;
        self->m->printed += (uint64_t)n;
    }
    for (int i = 0; i < n; i++) {
        job_t *job = self->unsent[i];
        if (self->out_failed) {
            jobs_release (self->jobs, job); /* unacked: delivered again, elsewhere */
            continue;
        }
        const char *rid = job->request_id[0] ? job->request_id : NULL;
        if (gateway_client_start_put (self->gateway, job->slot, job->id, rid) != 0)
            s_retry (self, job, "cannot start the HTTP request");
    }
}

/* Sends the acks s_settle noted (subscription.h), counted once written,
   also those written before a failure dropped the connection. */
static void
s_flush_acks (consumer_t *self)
{
    s_flush_lines (self);
    if (!broker_connected (self->broker))
        return;
    const char *why;
    size_t sent;
    int rc = subscription_flush (self->subscription, &sent, &why);
    self->acked += sent;
    self->m->acked += sent;
    if (rc != 0)
        s_drop (self, why);
}

/* Adds the job's line to the pass's lines; its PUT waits for them to be
   written (s_flush_lines). Returns 0, or -1 when out of memory. */
static int
s_print (consumer_t *self, job_t *job)
{
    const proto_change_t *n = &job->n;
    if (line_append (&self->lines, job->id, n->event.user_id.ptr, n->event.user_id.len,
                     n->event.description.ptr, n->event.description.len)
        != 0)
        return -1;
    job->printed = true;
    self->unsent[self->n_unsent++] = job;
    log_debug ("event %s printed (request %s)", job->id,
               job->request_id[0] ? job->request_id : "-");
    return 0; /* counted as printed once written (s_flush_lines) */
}

/* Starts the job's next request: GET to check a redelivery, else print the
   line (once) and PUT the status. Without a slot (or behind jobs already
   waiting for one) the job queues for the next free slot (s_start_queued). */
static void
s_issue (consumer_t *self, job_t *job)
{
    if (jobs_claim_slot (self->jobs, job) != 0)
        return; /* queued: s_start_queued issues it in its turn */
    int slot = job->slot;
    int rc;
    job->state = JOB_HTTP;
    job->http_started = clock_mono_us ();
    const char *rid = job->request_id[0] ? job->request_id : NULL;
    if (!job->checked)
        rc = gateway_client_start_get (self->gateway, slot, job->id, rid);
    else if (!job->printed) {
        if (s_print (self, job) == 0)
            return; /* its PUT starts once the line is out (s_flush_lines) */
        s_retry (self, job, "out of memory for the notification line");
        return;
    } else
        rc = gateway_client_start_put (self->gateway, slot, job->id, rid);
    if (rc != 0)
        s_retry (self, job, "cannot start the HTTP request");
}

/* A transient failure: wait and try again, or dead-letter once the budget
   is spent. While stopping, the message is left to the broker instead. */
static void
s_retry (consumer_t *self, job_t *job, const char *why)
{
    job->failures++;
    if (job->failures >= self->config->max_attempts) {
        log_error ("event %s: giving up after %d attempts (%s); dead-lettering", job->id,
                   job->failures, why);
        s_settle (self, job, false);
        return;
    }
    if (self->draining || job->epoch != self->epoch) {
        jobs_release (self->jobs, job); /* unacked: the broker delivers it again */
        return;
    }
    int64_t delay = backoff_next (&job->backoff);
    self->m->retried++;
    log_warn ("event %s: attempt %d failed (%s); retrying in %lld ms", job->id, job->failures, why,
              (long long)delay);
    jobs_wait (self->jobs, job, clock_mono_ms () + delay);
}

/* The check of a redelivery is over and did not settle the job: go on to
   print and PUT, or, while stopping, leave the message to the broker. */
static void
s_checked (consumer_t *self, job_t *job)
{
    job->checked = true;
    if (self->draining)
        jobs_release (self->jobs, job); /* not started: back to the queue */
    else
        s_issue (self, job);
}

/* A request of the job finished. */
static void
s_on_done (consumer_t *self, job_t *job, gateway_result_t result)
{
    assert (job->state == JOB_HTTP);
    const char *error = gateway_client_error (self->gateway, job->slot);
    prom_observe_us (&self->m->http_latency, clock_mono_us () - job->http_started);
    if (result != GATEWAY_OK)
        self->m->http_errors++;
    if (job->epoch != self->epoch) {
        jobs_release (self->jobs, job); /* its connection is gone: redelivered later */
        return;
    }
    switch (result) {
    case GATEWAY_OK:
        if (!job->checked) {
            const char *status = gateway_client_status (self->gateway, job->slot);
            if (strcmp (status, "processed") == 0) {
                log_debug ("event %s already processed; acking without printing", job->id);
                self->m->already_processed++;
                s_settle (self, job, true);
                return;
            }
            s_checked (self, job);
            return;
        }
        s_settle (self, job, true);
        return;
    case GATEWAY_NOT_FOUND:
        if (!job->checked && !job->says_processed) {
            /* The GET that checks a redelivery found no event (an in-memory
               store restarted since). Whether an earlier delivery printed
               the line is unknowable, and a first delivery of this very
               message prints it, then learns of the 404 from its PUT: do
               exactly that, so that whether the broker delivered the
               message before changes nothing. */
            log_debug ("event %s: not found by the check of a redelivery; handling it as a "
                       "first delivery",
                       job->id);
            s_checked (self, job);
            return;
        }
        log_warn ("event %s not found at the gateway (%s); acking", job->id, error);
        self->not_found++;
        self->m->not_found++;
        s_settle (self, job, true);
        return;
    case GATEWAY_PERMANENT:
        log_error ("event %s: %s; dead-lettering", job->id, error);
        s_settle (self, job, false);
        return;
    case GATEWAY_TRANSIENT:
        s_retry (self, job, error);
        return;
    }
}

/* A new delivery (ownership taken). */
static void
s_on_delivery (consumer_t *self, delivery_t *delivery)
{
    if (self->draining) {
        delivery_release (delivery); /* unacked: requeued when we close */
        return;
    }
    job_t *job = jobs_take (self->jobs);
    if (!job) {
        /* More deliveries than the prefetch allows: should not happen. */
        delivery_release (delivery);
        s_drop (self, "more deliveries than the prefetch window");
        return;
    }
    job->delivery = *delivery;
    job->epoch = self->epoch;
    self->m->deliveries++;
    if (delivery->redelivered)
        self->m->redelivered++;
    /* Owned from here: jobs_release releases it. */
    proto_error_t err;
    if (proto_notification_decode (job->delivery.body, job->delivery.len, &self->limits, &job->n,
                                   &err)
        != PROTO_DECODE_OK) {
        self->m->undecodable++;
        log_error ("undecodable message (delivery %llu, %zu bytes): %s; dead-lettering",
                   (unsigned long long)job->delivery.tag, job->delivery.len, err.message);
        s_settle (self, job, false);
        return;
    }
    proto_uuid_format (job->n.event.id, job->id);
    job->request_id[0] = '\0';
    if (job->n.event.request_id.ptr)
        snprintf (job->request_id, sizeof job->request_id, "%.*s", (int)job->n.event.request_id.len,
                  job->n.event.request_id.ptr);
    log_context_set (job->id, job->request_id[0] ? job->request_id : NULL); /* s_pump clears it */
    /* Check first when the broker says it delivered this before, or when
       the notifier read the record after the event was already processed
       (a re-publish after a notifier restart carries the current state). */
    const proto_str_t *status = &job->n.event.status;
    job->says_processed = status->len == 9 && memcmp (status->ptr, "processed", 9) == 0;
    job->checked = !job->delivery.redelivered && !job->says_processed;
    backoff_init (&job->backoff, self->config->retry_initial_ms, self->config->retry_max_ms);
    s_issue (self, job);
}

/* Takes what the broker sent without blocking, at most one delivery per job
   and one more: deliveries become jobs, cancels and closes drop the
   connection. Reading is also what sends our heartbeats and notices
   missing ones. */
static void
s_pump (consumer_t *self)
{
    self->last_pump = clock_mono_ms ();
    for (int i = 0; i <= self->n_jobs && broker_connected (self->broker); i++) {
        delivery_t delivery;
        const char *why;
        int rc = subscription_next (self->subscription, &delivery, &why);
        if (rc == 0)
            return;
        if (rc < 0) {
            s_drop (self, why);
            return;
        }
        s_on_delivery (self, &delivery);
        log_context_set (NULL, NULL);
    }
}

/* Hands the free slots to the jobs waiting for one, oldest first. */
static void
s_start_queued (consumer_t *self)
{
    job_t *job;
    while ((job = jobs_next_queued (self->jobs))) {
        log_context_set (job->id, job->request_id[0] ? job->request_id : NULL);
        s_issue (self, job);
        log_context_set (NULL, NULL);
    }
}

/* Starts the retries whose time has come; returns the earliest due time of
   those still waiting (INT64_MAX for none). */
static int64_t
s_run_due (consumer_t *self, int64_t now)
{
    int count;
    int64_t next;
    job_t **due = jobs_take_due (self->jobs, now, &count, &next);
    for (int i = 0; i < count; i++) {
        if (due[i]->epoch != self->epoch) {
            /* An earlier one's failure dropped the connection: as a job
               still waiting would have been, it is left to the broker. */
            jobs_release (self->jobs, due[i]);
            continue;
        }
        log_context_set (due[i]->id, due[i]->request_id[0] ? due[i]->request_id : NULL);
        s_issue (self, due[i]);
        log_context_set (NULL, NULL);
    }
    return next;
}

/* One pass of the loop. Returns false once stopped and drained. */
static bool
s_step (consumer_t *self)
{
    int64_t now = clock_mono_ms ();
    if (*self->stop && !self->draining) {
        self->draining = true;
        log_info ("stopping: finishing %d request(s) in flight",
                  (int)gateway_client_active (self->gateway));
        jobs_release_idle (self->jobs);
    }
    if (self->draining && jobs_busy (self->jobs) == 0)
        return false;
    if (!broker_connected (self->broker) && !self->draining && jobs_busy (self->jobs) == 0
        && now >= self->connect_at) {
        s_connect (self);
        if (self->conflict)
            return false;
    }

    int64_t deadline = s_run_due (self, now);
    if (now + CONSUMER_SERVICE_MS < deadline)
        deadline = now + CONSUMER_SERVICE_MS;
    /* A reconnect is due only once nothing is in flight (above): until
       then the requests' answers, not the clock, wake the loop. */
    if (!broker_connected (self->broker) && !self->draining && jobs_busy (self->jobs) == 0
        && self->connect_at < deadline)
        deadline = self->connect_at;
    if (broker_has_buffered (self->broker))
        deadline = now;
    int timeout = deadline > now ? (int)(deadline - now) : 0;
    int fds[2] = { broker_fd (self->broker),
                   self->config->metrics_http ? metrics_http_fd (self->config->metrics_http) : -1 };
    bool ready[2];
    s_flush_lines (self);
    if (gateway_client_poll (self->gateway, fds, ready, 2, timeout) != 0)
        log_warn ("HTTP client poll failed");
    if (ready[1]) {
        self->m->inflight = (uint64_t)jobs_busy (self->jobs);
        self->m->waiting = (uint64_t)jobs_queued (self->jobs);
        metrics_http_serve (self->config->metrics_http);
    }

    gateway_result_t result;
    int slot;
    while ((slot = gateway_client_next_done (self->gateway, &result)) >= 0) {
        job_t *job = jobs_slot_holder (self->jobs, slot);
        assert (job);
        log_context_set (job->id, job->request_id[0] ? job->request_id : NULL);
        s_on_done (self, job, result);
        log_context_set (NULL, NULL);
    }
    /* The acks of every request this pass finished, in as few frames as
       the channel allows, before reading more deliveries. */
    s_flush_acks (self);
    s_start_queued (self);
    if (broker_connected (self->broker)
        && (ready[0] || broker_has_buffered (self->broker)
            || clock_mono_ms () - self->last_pump >= CONSUMER_SERVICE_MS))
        s_pump (self);
    s_start_queued (self);
    if (broker_connected (self->broker) && !self->draining)
        health_touch (self->config->health_file, clock_mono_ms ());
    return true;
}

int
consumer_run (const consumer_config_t *config, volatile sig_atomic_t *stop)
{
    assert (config && stop && config->prefetch > 0 && config->http_connections > 0
            && config->metrics);
    consumer_t self = { .config = config,
                        .m = config->metrics,
                        .stop = stop,
                        .n_jobs = config->prefetch,
                        .n_slots = config->http_connections < config->prefetch
                                       ? config->http_connections
                                       : config->prefetch };
    int rc = -1;
    if (proto_limits_from_env (&self.limits) != 0)
        return -1;
    self.broker = broker_new (config->broker_url, config->heartbeat_s);
    if (self.broker)
        broker_set_queue_args (self.broker, &config->queue);
    self.subscription =
        self.broker ? subscription_new (self.broker, BROKER_QUEUE, self.n_jobs) : NULL;
    self.gateway = gateway_client_new (config->gateway_url, config->http_timeout_ms, self.n_slots);
    self.jobs = jobs_new (self.n_jobs, self.n_slots);
    self.unsent = calloc ((size_t)self.n_jobs, sizeof *self.unsent);
    if (!self.broker || !self.subscription || !self.gateway || !self.jobs || !self.unsent)
        goto cleanup;
    if (config->gateway_token
        && gateway_client_set_token (self.gateway, config->gateway_token) != 0)
        goto cleanup;
    while (s_step (&self))
        ;
    if (self.conflict)
        goto cleanup;
    s_flush_acks (&self);
    /* Closing the channel returns every unacked delivery to the queue. */
    broker_disconnect (self.broker);
    log_info ("stopped: %llu printed, %llu acked, %llu dead-lettered, %llu not found",
              (unsigned long long)self.printed, (unsigned long long)self.acked,
              (unsigned long long)self.dead, (unsigned long long)self.not_found);
    rc = self.out_failed ? -1 : 0;

cleanup:
    line_buf_free (&self.lines);
    free (self.unsent);
    gateway_client_destroy (&self.gateway);
    subscription_destroy (&self.subscription);
    broker_destroy (&self.broker);
    jobs_destroy (&self.jobs);
    return rc;
}
