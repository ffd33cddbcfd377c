/*
 * broker_ceiling — the bare broker's rate for the messages Herald relays,
 * measured on the same private RabbitMQ node as bench_e2e's Herald runs, so
 * Herald's POST→processed rate can be read as a fraction of what RabbitMQ
 * itself allows on this machine today (DESIGN.md §7: "end to end against
 * the broker's own ceiling"). Absolute rates drift by 2x between days on
 * these shared machines; a ratio taken in one run does not.
 *
 * One run is a bare rabbitmq-c publisher and a bare consumer, each on its
 * own connection in its own thread (rabbitmq-c connections belong to one
 * thread, and 0.11 cannot put a frame back, so a connection that publishes
 * does not consume). They do what herald-notifier and herald-worker do with
 * the broker and nothing else:
 *   - the publisher: confirm.select, persistent (delivery_mode 2) mandatory
 *     publishes of a fixed body of Herald's notification size with the
 *     properties the notifier sets, up to `window` unconfirmed in flight,
 *     reading basic.ack / basic.nack itself (0.11 has no confirm-wait
 *     helper); a nacked publish is sent again;
 *   - the consumer: basic.qos prefetch like the worker's, manual acks, one
 *     basic.ack per message right after it arrives (the worker acks after
 *     its PUT; here there is no work, which is what makes it a ceiling).
 * The queue is durable and declared with the arguments Herald gives
 * herald.notifications (x-dead-letter-exchange, x-max-length, x-overflow
 * reject-publish, and for a quorum queue x-queue-type and x-delivery-limit;
 * amqp/broker.c) behind a durable topic exchange and the
 * event.created key, but under its own names (BROKER_CEILING_EXCHANGE,
 * BROKER_CEILING_QUEUE, BROKER_CEILING_DEAD_EXCHANGE): Herald's queues are
 * never touched, and all three are deleted when the run ends.
 *
 * The figure is messages acked by the consumer per second, from the first
 * publish to the last ack. Note what it leaves out: herald-notifier also
 * publishes each event's update to `processed` (event.updated, confirmed but
 * routed to no queue), so for N events Herald's broker sees about 2N
 * confirmed publishes against the ceiling's N. With `updates` set, the
 * publisher does that too: each message is followed by a confirmed
 * persistent publish of the same body under BROKER_CEILING_UPDATE_KEY,
 * which no queue is bound to (not mandatory, so nothing comes back but its
 * ack). The figure is still messages acked per second: the broker's rate
 * for the traffic Herald's design gives it per event.
 */
#ifndef HERALD_BENCH_BROKER_CEILING_H
#define HERALD_BENCH_BROKER_CEILING_H

#include <stdbool.h>
#include <stddef.h>

#define BROKER_CEILING_EXCHANGE "bench.ceiling"
#define BROKER_CEILING_QUEUE "bench.ceiling"
#define BROKER_CEILING_DEAD_EXCHANGE "bench.ceiling.dead"
#define BROKER_CEILING_ROUTING_KEY "event.created"
#define BROKER_CEILING_UPDATE_KEY "event.updated"
#define BROKER_CEILING_BODY_MAX 65536   /* bytes of the fixed body */
#define BROKER_CEILING_PROPERTY_MAX 128 /* bytes of message_id / correlation_id */
#define BROKER_CEILING_WINDOW_MAX 100000

typedef struct {
    const char *url;           /* amqp://user:pass@127.0.0.1:port/ of the node (borrowed) */
    int messages;              /* messages the consumer must ack, > 0 */
    size_t body_len;           /* bytes of each body, 1..BROKER_CEILING_BODY_MAX */
    size_t message_id_len;     /* bytes of the message_id property, 0..PROPERTY_MAX */
    size_t correlation_id_len; /* bytes of correlation_id, 0 = none, ..PROPERTY_MAX */
    int window;                /* unconfirmed publishes in flight, 1..WINDOW_MAX */
    int prefetch;              /* the consumer's basic.qos, 1..65535 */
    long queue_max;            /* x-max-length with reject-publish; 0 = no bound argument */
    int timeout_ms;            /* bound on the whole run, connections included */
    bool updates;              /* each message followed by an event.updated publish (above) */
    bool quorum;               /* a quorum queue (x-queue-type quorum, x-delivery-limit as
                                  herald-notifier's default), replicated on every node of a
                                  cluster, as --queue-type quorum declares herald.notifications */
} broker_ceiling_config_t;

typedef struct {
    int acked;              /* messages the consumer received and acked */
    int nacked;             /* publishes the broker refused (each sent again) */
    double seconds;         /* first publish → last ack */
    double confirm_seconds; /* first publish → last confirm */
    double rate;            /* acked / seconds: the ceiling */
} broker_ceiling_result_t;

/* Runs one measurement as described above: declares the topology, starts
   the consumer, publishes config->messages, waits until all are acked or
   config->timeout_ms has passed, then deletes the queue and both exchanges.
   Blocks for the whole run (never longer than timeout_ms plus a few seconds
   of connection teardown). Returns 0 with *out filled when every message was
   confirmed and acked, else -1 after printing why to stderr (*out then holds
   what was done). */
int broker_ceiling_run (const broker_ceiling_config_t *config, broker_ceiling_result_t *out);

#endif
