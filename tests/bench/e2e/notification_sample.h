/*
 * notification_sample — the size of what herald-notifier really publishes
 * for one of bench_e2e's events, measured rather than computed, so the
 * broker ceiling (broker_ceiling.h) moves messages of the same size as
 * Herald's: the MessagePack body (proto_notification_encode of the event as
 * the store recorded it, request id and timestamps included) and the two
 * properties whose length varies, message_id ("<event id>:<seq>") and
 * correlation_id (the request id the gateway gave the POST).
 *
 * It runs Herald without a worker, POSTs one event and takes its
 * notification off herald.notifications with basic.get (auto-ack: the
 * scenario ends right after, and the next one purges the queues anyway).
 */
#ifndef HERALD_BENCH_NOTIFICATION_SAMPLE_H
#define HERALD_BENCH_NOTIFICATION_SAMPLE_H

#include "stack.h"

#include <stddef.h>

typedef struct {
    size_t body_len;           /* bytes of the MessagePack body */
    size_t message_id_len;     /* bytes of the message_id property */
    size_t correlation_id_len; /* bytes of correlation_id, 0 when absent */
} notification_sample_t;

/* In a fresh scenario of stack, starts herald-store, herald-gateway and
   herald-notifier (no worker), POSTs {"user_id":user_id,
   "description":description}, takes the event.created notification the
   notifier published and records its sizes into *out; then ends the
   scenario. Returns 0, or -1 after printing why to stderr. Blocks for a few
   seconds (at most about 20 s plus service start-up). */
int notification_sample_take (e2e_stack_t *stack, const char *user_id, const char *description,
                              notification_sample_t *out);

#endif
