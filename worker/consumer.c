/*
 * consumer — see consumer.h.
 *
 * rabbitmq-c cannot put a frame back, so while a retry waits, deliveries
 * that arrive (at most `prefetch` of them) are parked in a FIFO of envelopes
 * and handled after the current message. Envelopes own their memory
 * (amqp_consume_message copies into them), so parking them is safe across
 * amqp_maybe_release_buffers. Everything parked is void when the connection
 * drops: the broker requeues those messages and delivers them again.
 */
#include "consumer.h"

#include "backoff.h"
#include "broker.h"
#include "clock.h"
#include "gateway_client.h"
#include "log.h"
#include "proto.h"

#include <amqp.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONSUMER_WAIT_MS 500 /* longest single wait inside the library */

typedef struct parked_s {
    amqp_envelope_t envelope;
    struct parked_s *next;
} parked_t;

typedef struct {
    const consumer_config_t *config;
    volatile sig_atomic_t *stop;
    broker_t *broker;
    gateway_client_t *gateway;
    proto_limits_t limits;
    parked_t *head, *tail;
    uint64_t printed, acked, dead;
} consumer_t;

static void
s_unpark_all (consumer_t *self)
{
    while (self->head) {
        parked_t *p = self->head;
        self->head = p->next;
        amqp_destroy_envelope (&p->envelope);
        free (p);
    }
    self->tail = NULL;
}

static void
s_drop (consumer_t *self, const char *why)
{
    if (broker_connected (self->broker))
        log_warn ("dropping RabbitMQ connection: %s", why);
    broker_drop (self->broker);
    s_unpark_all (self); /* their delivery tags died with the channel */
}

static int
s_connect (consumer_t *self)
{
    if (broker_connect (self->broker) != 0)
        return -1;
    amqp_connection_state_t conn = broker_conn (self->broker);
    amqp_basic_qos (conn, BROKER_CHANNEL, 0, (uint16_t)self->config->prefetch, 0);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "basic.qos"))
        goto failed;
    amqp_basic_consume (conn, BROKER_CHANNEL, amqp_cstring_bytes (BROKER_QUEUE), amqp_empty_bytes,
                        0, 0, 0, amqp_empty_table);
    if (broker_rpc_check (amqp_get_rpc_reply (conn), "basic.consume"))
        goto failed;
    log_info ("consuming %s (prefetch %d)", BROKER_QUEUE, self->config->prefetch);
    return 0;
failed:
    s_drop (self, "consumer setup failed");
    return -1;
}

/* Waits up to timeout_ms for one delivery. Returns 1 with *out filled, 0 on
   timeout or a frame handled, -1 when the connection was dropped. */
static int
s_receive (consumer_t *self, int timeout_ms, amqp_envelope_t *out)
{
    amqp_connection_state_t conn = broker_conn (self->broker);
    amqp_maybe_release_buffers (conn);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    amqp_rpc_reply_t r = amqp_consume_message (conn, out, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t frame;
        if (amqp_simple_wait_frame (conn, &frame) != AMQP_STATUS_OK) {
            s_drop (self, "socket error");
            return -1;
        }
        if (frame.frame_type == AMQP_FRAME_METHOD
            && frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
            s_drop (self, "the broker cancelled our consumer");
            return -1;
        }
        if (broker_handle_close (self->broker, &frame)) {
            s_drop (self, "closed by the server");
            return -1;
        }
        return 0; /* anything else (a stray ack) is of no interest */
    }
    broker_rpc_check (r, "consume");
    s_drop (self, "consume failed");
    return -1;
}

/* Sleeps up to ms while keeping the connection serviced; deliveries that
   arrive meanwhile are parked. Returns 0, or -1 if the connection dropped. */
static int
s_wait_serviced (consumer_t *self, int64_t ms)
{
    int64_t until = clock_mono_ms () + ms;
    while (!*self->stop) {
        int64_t left = until - clock_mono_ms ();
        if (left <= 0)
            return 0;
        parked_t *p = calloc (1, sizeof *p);
        if (!p)
            return 0;
        int rc = s_receive (self, (int)(left < CONSUMER_WAIT_MS ? left : CONSUMER_WAIT_MS),
                            &p->envelope);
        if (rc == 1) {
            if (self->tail)
                self->tail->next = p;
            else
                self->head = p;
            self->tail = p;
        } else
            free (p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Settles a delivery: ack, or reject without requeue (dead-letter). */
static void
s_settle (consumer_t *self, uint64_t tag, bool ack)
{
    amqp_connection_state_t conn = broker_conn (self->broker);
    if (!conn)
        return; /* tag void: the broker redelivers the message */
    int rc = ack ? amqp_basic_ack (conn, BROKER_CHANNEL, tag, 0)
                 : amqp_basic_reject (conn, BROKER_CHANNEL, tag, 0);
    if (rc != AMQP_STATUS_OK)
        s_drop (self, amqp_error_string2 (rc));
    else if (ack)
        self->acked++;
    else
        self->dead++;
}

static void
s_print (consumer_t *self, const char *id, const proto_notification_t *n)
{
    printf ("Event %s has been sent to %.*s: %.*s\n", id, (int)n->event.user_id.len,
            n->event.user_id.ptr, (int)n->event.description.len, n->event.description.ptr);
    fflush (stdout);
    self->printed++;
}

/* Handles one delivery to the end: settled, or left to the broker because
   the connection dropped (it will come back redelivered). */
static void
s_handle (consumer_t *self, amqp_envelope_t *env)
{
    proto_notification_t n;
    proto_error_t err;
    if (proto_notification_decode (env->message.body.bytes, env->message.body.len, &self->limits,
                                   &n, &err)
        != PROTO_DECODE_OK) {
        log_error ("undecodable message (delivery %llu, %zu bytes): %s; dead-lettering",
                   (unsigned long long)env->delivery_tag, env->message.body.len, err.message);
        s_settle (self, env->delivery_tag, false);
        return;
    }
    char id[PROTO_UUID_LEN + 1];
    proto_uuid_format (n.event.id, id);
    backoff_t backoff;
    backoff_init (&backoff, self->config->retry_initial_ms, self->config->retry_max_ms);
    bool check_first = env->redelivered;
    bool printed = false;
    for (int attempt = 1;; attempt++) {
        gateway_result_t result = GATEWAY_OK;
        if (check_first) {
            char status[64] = "";
            result = gateway_client_get_status (self->gateway, id, status, sizeof status);
            if (result == GATEWAY_OK && strcmp (status, "processed") == 0) {
                log_debug ("event %s already processed; acking without printing", id);
                s_settle (self, env->delivery_tag, true);
                return;
            }
        }
        if (result == GATEWAY_OK) {
            if (!printed)
                s_print (self, id, &n);
            printed = true;
            result = gateway_client_mark_processed (self->gateway, id);
        }
        switch (result) {
        case GATEWAY_OK:
            s_settle (self, env->delivery_tag, true);
            return;
        case GATEWAY_NOT_FOUND:
            log_warn ("event %s not found at the gateway; acking", id);
            s_settle (self, env->delivery_tag, true);
            return;
        case GATEWAY_PERMANENT:
            log_error ("event %s: %s; dead-lettering", id, gateway_client_error (self->gateway));
            s_settle (self, env->delivery_tag, false);
            return;
        case GATEWAY_TRANSIENT:
            break;
        }
        if (attempt >= self->config->max_attempts) {
            log_error ("event %s: giving up after %d attempts (%s); dead-lettering", id, attempt,
                       gateway_client_error (self->gateway));
            s_settle (self, env->delivery_tag, false);
            return;
        }
        int64_t delay = backoff_next (&backoff);
        log_warn ("event %s: attempt %d failed (%s); retrying in %lld ms", id, attempt,
                  gateway_client_error (self->gateway), (long long)delay);
        if (s_wait_serviced (self, delay) != 0 || *self->stop)
            return; /* unacked: the broker delivers it again */
        check_first = true;
    }
}

int
consumer_run (const consumer_config_t *config, volatile sig_atomic_t *stop)
{
    assert (config && stop);
    consumer_t self = { .config = config, .stop = stop };
    int rc = -1;
    if (proto_limits_from_env (&self.limits) != 0)
        return -1;
    self.broker = broker_new (config->amqp_url, config->heartbeat_s);
    self.gateway = gateway_client_new (config->gateway_url, config->http_timeout_ms);
    if (!self.broker || !self.gateway)
        goto cleanup;

    while (!*stop) {
        if (!broker_connected (self.broker) && s_connect (&self) != 0) {
            int64_t delay = broker_retry_delay_ms (self.broker);
            int64_t until = clock_mono_ms () + delay;
            while (!*stop && clock_mono_ms () < until) {
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep (&ts, NULL);
            }
            continue;
        }
        if (self.head) {
            parked_t *p = self.head;
            self.head = p->next;
            if (!self.head)
                self.tail = NULL;
            s_handle (&self, &p->envelope);
            amqp_destroy_envelope (&p->envelope);
            free (p);
            continue;
        }
        amqp_envelope_t env;
        if (s_receive (&self, CONSUMER_WAIT_MS, &env) == 1) {
            s_handle (&self, &env);
            amqp_destroy_envelope (&env);
        }
    }
    /* Stop: the message in hand is finished; parked ones go back to the
       queue when the channel closes. */
    s_unpark_all (&self);
    broker_disconnect (self.broker);
    log_info ("stopped: %llu printed, %llu acked, %llu dead-lettered",
              (unsigned long long)self.printed, (unsigned long long)self.acked,
              (unsigned long long)self.dead);
    rc = 0;

cleanup:
    gateway_client_destroy (&self.gateway);
    broker_destroy (&self.broker);
    return rc;
}
