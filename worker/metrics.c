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
    worker_metrics_t *m = arg;
    prom_counter (out, "herald_worker_deliveries_total", "Messages delivered by RabbitMQ.",
                  m->deliveries);
    prom_counter (out, "herald_worker_redelivered_total",
                  "Deliveries RabbitMQ marked redelivered (a connection closed with them unacked).",
                  m->redelivered);
    prom_counter (out, "herald_worker_printed_total", "Notification lines printed.", m->printed);
    prom_counter (out, "herald_worker_acked_total",
                  "Deliveries acknowledged: printed and marked processed, already processed, or "
                  "event not found.",
                  m->acked);
    prom_counter (out, "herald_worker_already_processed_total",
                  "Redeliveries acked without printing: the event was already processed.",
                  m->already_processed);
    prom_counter (out, "herald_worker_not_found_total",
                  "Deliveries acked because the gateway no longer knows the event (404).",
                  m->not_found);
    prom_counter (out, "herald_worker_retries_total",
                  "Gateway attempts that failed transiently and were retried with backoff.",
                  m->retried);
    prom_counter (out, "herald_worker_dead_lettered_total",
                  "Deliveries rejected to herald.notifications.dead (attempts spent, a permanent "
                  "error, or an undecodable body).",
                  m->dead_lettered);
    prom_counter (out, "herald_worker_undecodable_total",
                  "Deliveries whose body was not a notification (dead-lettered).", m->undecodable);
    prom_family (out, "herald_worker_http_request_duration_seconds", "histogram",
                 "Time of each request to the gateway (GET checking a redelivery, PUT processed).");
    prom_histogram_write (out, "herald_worker_http_request_duration_seconds", NULL,
                          &m->http_latency);
    prom_counter (out, "herald_worker_http_errors_total",
                  "Requests to the gateway that failed (timeouts, 5xx, refused connections, 4xx).",
                  m->http_errors);
    prom_counter (out, "herald_worker_broker_connects_total",
                  "Connections to RabbitMQ opened (more than 1: it reconnected).",
                  m->broker_connects);
    prom_counter (out, "herald_worker_broker_connection_losses_total",
                  "RabbitMQ connections dropped.", m->broker_losses);
    prom_gauge (out, "herald_worker_inflight_deliveries",
                "Deliveries held unacked: in a request to the gateway, waiting for a connection "
                "to it, or waiting to retry.",
                m->inflight);
    prom_gauge (out, "herald_worker_waiting_deliveries",
                "Deliveries held that wait for a connection to the gateway (every one of "
                "--http-connections busy).",
                m->waiting);
    prom_process (out);
}

char *
worker_metrics_render (void *arg, size_t *len)
{
    assert (arg);
    return prom_text (s_write, arg, len);
}
