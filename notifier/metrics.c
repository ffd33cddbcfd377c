/*
 * metrics — see metrics.h.
 */
#include "metrics.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

static void
s_write (FILE *out, void *arg)
{
    notifier_metrics_t *m = arg;
    prom_family (out, "herald_notifier_published_total", "counter",
                 "Changes published to RabbitMQ, by kind (re-publishes included).");
    prom_sample (out, "herald_notifier_published_total", "kind=\"created\"", m->published_created);
    prom_sample (out, "herald_notifier_published_total", "kind=\"updated\"", m->published_updated);
    prom_counter (out, "herald_notifier_republished_total",
                  "Publishes of a change this notifier had published before (after a lost "
                  "connection, a nack or a replaced store): the at-least-once duplicates.",
                  m->republished);
    prom_counter (out, "herald_notifier_confirmed_total",
                  "Publishes RabbitMQ confirmed (basic.ack).", m->confirmed);
    prom_counter (
        out, "herald_notifier_nacked_total",
        "Publishes RabbitMQ refused (basic.nack: the queue is full); published again later.",
        m->nacked);
    prom_counter (out, "herald_notifier_returned_total",
                  "event.created publishes RabbitMQ returned as unroutable (no queue bound).",
                  m->returned);
    prom_family (out, "herald_notifier_confirm_duration_seconds", "histogram",
                 "Time from a publish to its basic.ack.");
    prom_histogram_write (out, "herald_notifier_confirm_duration_seconds", NULL,
                          &m->confirm_latency);
    prom_counter (out, "herald_notifier_broker_connects_total",
                  "Connections to RabbitMQ opened (more than 1: it reconnected).",
                  m->broker_connects);
    prom_counter (out, "herald_notifier_broker_connection_losses_total",
                  "RabbitMQ connections dropped (socket error, heartbeat timeout, close, doubt).",
                  m->broker_losses);
    prom_counter (out, "herald_notifier_store_connects_total",
                  "Connections to the store made (ZeroMQ connects and reconnects).",
                  m->store_connects);
    prom_counter (out, "herald_notifier_store_disconnects_total", "Connections to the store lost.",
                  m->store_disconnects);
    prom_counter (out, "herald_notifier_store_replaced_total",
                  "Times the store answering was another (or had lost changes): the relay started "
                  "over from its cursor.",
                  m->store_replaced);
    prom_counter (out, "herald_notifier_store_read_timeouts_total",
                  "feed_read requests the store did not answer in time (sent again).",
                  m->store_read_timeouts);
    prom_gauge (out, "herald_notifier_feed_length",
                "Changes the store held unacknowledged at the last feed_read.", m->feed_length);
    prom_family (out, "herald_notifier_feed_lag_seconds", "gauge",
                 "Age of the oldest change read and not yet confirmed, at the last feed_read; "
                 "0 when caught up.");
    prom_sample_double (out, "herald_notifier_feed_lag_seconds", NULL,
                        (double)(m->feed_lag_ms > 0 ? m->feed_lag_ms : 0) / 1e3);
    prom_gauge (out, "herald_notifier_confirmed_seq",
                "Highest change seq confirmed by RabbitMQ with nothing missing below.",
                m->confirmed_seq);
    prom_gauge (out, "herald_notifier_acknowledged_seq",
                "Highest change seq acknowledged to the store (its cursor).", m->acked_seq);
    prom_gauge (out, "herald_notifier_inflight_publishes",
                "Publishes waiting for RabbitMQ's confirm.", m->inflight);
    prom_gauge (out, "herald_notifier_broker_blocked",
                "1 while RabbitMQ blocks the notifier's publishes (a memory or disk alarm).",
                m->broker_blocked ? 1 : 0);
    prom_process (out);
}

char *
notifier_metrics_render (void *arg, size_t *len)
{
    assert (arg);
    return prom_text (s_write, arg, len);
}
