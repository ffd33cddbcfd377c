/*
 * consumer — the worker's loop: consume herald.notifications with a prefetch
 * window and manual acks, print each notification, mark its event processed
 * through the gateway, and only then ack (DESIGN §4).
 *
 * Retries happen in process: a transient gateway failure is retried with
 * backoff (the attempt count lives with the message being handled) while the
 * AMQP connection keeps being serviced, so heartbeats flow during the wait.
 * After max_attempts the message is rejected without requeue and RabbitMQ
 * dead-letters it to herald.notifications.dead. A message that was delivered
 * before (redelivered, or a retry) is first checked with GET: if its event
 * already reads "processed" it is acked without printing again.
 */
#ifndef HERALD_CONSUMER_H
#define HERALD_CONSUMER_H

#include <signal.h>

typedef struct {
    const char *amqp_url;
    const char *gateway_url;
    int prefetch;
    int max_attempts;
    int http_timeout_ms;
    int heartbeat_s;
    int retry_initial_ms; /* first retry delay ceiling; doubles up to retry_max_ms */
    int retry_max_ms;
} consumer_config_t;

/* Runs until *stop becomes non-zero; the message in hand is finished first.
   Returns 0, or -1 if it cannot start. */
int consumer_run (const consumer_config_t *config, volatile sig_atomic_t *stop);

#endif
