/*
 * stack — the whole Herald system for end-to-end tests and the benchmark:
 * one private RabbitMQ node for the program, and herald-store,
 * herald-gateway, herald-notifier and herald-worker(s) on free loopback
 * ports, each started and stopped by PID. Services are configured through
 * their HERALD_* environment (docs/ARCHITECTURE.md §1) so the tests pin the
 * contract. Also the client side: POST/GET over libcurl, counting processed
 * events (stack.c), reading the workers' stdout (stack_lines.c), the broker
 * side — queue depths, publishing and requeueing by hand (stack_amqp.c) —
 * and the store's own counters over ZeroMQ (stack_store.c).
 *
 * A scenario may run a sharded store instead of the one store
 * (stack_shards.c, issue 17): N durable herald-store shards of a map file
 * the harness writes, one herald-notifier per shard reading that shard's
 * feed, and gateways started with the map, which route by event id and by
 * user. The single-store functions are unchanged; those that talk to one
 * store (its stats, waiting for its feed to settle) have per-shard
 * variants.
 */
#ifndef HERALD_STACK_H
#define HERALD_STACK_H

#include "broker.h"
#include "harness.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define STACK_WORKERS_MAX 4
#define STACK_SHARDS_MAX 4
#define STACK_ID_LEN 36

/* One shard of a sharded scenario: its store, its data dir and the
   notifier that reads its feed. */
typedef struct {
    int port, pub_port;
    char endpoint[64];
    char data_dir[512];
    pid_t store, notifier;
} stack_shard_t;

typedef struct {
    harness_rabbit_t rabbit;
    bool rabbit_up; /* started by stack_init, stopped by stack_fini */
    /* How the tests' own broker connections (stack_amqp.c) declare the
       queues: as the services were told (--queue-type, --delivery-limit). */
    bool quorum;
    int delivery_limit; /* 0 = the default */
    int run;            /* scenario counter, names log files */
    int store_port, pub_port, http_port, http2_port;
    char store_ep[64];
    char gateway_url[64];        /* where the tests POST */
    char worker_gateway_url[64]; /* where workers PUT (gateway or gateway2) */
    char store_data_dir[512];    /* --data-dir of the store; "" = in memory */
    pid_t store, gateway, gateway2, notifier;
    pid_t workers[STACK_WORKERS_MAX];
    char worker_out[STACK_WORKERS_MAX][512];
    bool metrics;    /* services started with --metrics-listen (stack_metrics_port) */
    bool json_logs;  /* services started with HERALD_LOG_FORMAT=json */
    bool debug_logs; /* services started with HERALD_LOG_LEVEL=debug */
    int store_metrics_port, notifier_metrics_port, worker_metrics_port[STACK_WORKERS_MAX];
    void *client; /* the tests' HTTP client (stack.c) */
    /* stack_start_shards: shards[0..n_shards-1] of the map file shard_map,
       which gateways are then started with. 0 = the one store above. */
    int n_shards;
    char shard_map[512];
    stack_shard_t shards[STACK_SHARDS_MAX];
} e2e_stack_t;

/* Boots the RabbitMQ node (once per program). */
int stack_init (e2e_stack_t *self);
/* The same on a node that runs already (a member of a cluster), which
   stack_fini leaves running. */
int stack_init_on (e2e_stack_t *self, const harness_rabbit_t *rabbit);
/* Stops every service and the node. */
void stack_fini (e2e_stack_t *self);

/* cmocka group setup/teardown: one stack (one RabbitMQ node) per program,
   passed to each test as *state. */
int stack_group_setup (void **state);
int stack_group_teardown (void **state);

/* Starts a fresh scenario: new ports, new log files, queues purged.
   Services are then started one by one. */
void stack_begin (e2e_stack_t *self);
/* Stops every service started in this scenario (SIGTERM, then SIGKILL). */
void stack_end (e2e_stack_t *self);

/* feed_max 0 = the store's default. Durable when store_data_dir is set
   (stack_begin clears it). */
int stack_start_store (e2e_stack_t *self, long feed_max);
int stack_start_gateway (e2e_stack_t *self);
/* A second gateway on its own port, for the workers only
   (stack_use_gateway2 first). */
void stack_use_gateway2 (e2e_stack_t *self);
int stack_start_gateway2 (e2e_stack_t *self);
int stack_start_notifier (e2e_stack_t *self);
/* The same with extra arguments (NULL-terminated, at most 14). */
int stack_start_notifier_with (e2e_stack_t *self, const char *const *extra);
/* Starts worker i (0..STACK_WORKERS_MAX-1); extra is NULL or a
   NULL-terminated list of extra arguments. */
int stack_start_worker (e2e_stack_t *self, int i, const char *const *extra);
/* Runs `<service> --check` against the health file the running "notifier"
   or "worker<i>" of this scenario touches. 0 when healthy, else -1. */
int stack_check_health (e2e_stack_t *self, const char *name);
/* Where the service started as name ("store", "notifier", "worker0",
   "gateway", ...) serves /metrics when self->metrics is set (a gateway: its
   API port); 0 for an unknown name. */
int stack_metrics_port (e2e_stack_t *self, const char *name);
/* Starts everything with one worker. */
int stack_start_all (e2e_stack_t *self);
/* The same, the notifier with extra arguments (as stack_start_notifier_with). */
int stack_start_all_with (e2e_stack_t *self, const char *const *notifier_extra);
/* stack_start_all, then one event through: event 0 posted (as
   stack_post_many, its id into ids) and the only one processed within 30 s.
   0 or -1. */
int stack_start_all_delivering (e2e_stack_t *self, char *ids);

/* POST /events. Returns the HTTP status (0 on transport error); on 201
   copies the event id into id (37 bytes). */
int stack_post (e2e_stack_t *self, const char *user_id, const char *description, char *id);
/* POST n events "u-<base+i>" / "order <base+i> shipped", ids into
   ids[i*37]. Returns how many got 201. */
int stack_post_many (e2e_stack_t *self, int base, int n, char *ids);
/* A background thread POSTing events base..base+n-1 like stack_post_many,
   on its own connection, at rate events/s (0 = as fast as it can). */
typedef struct _stack_burst_t stack_burst_t;
stack_burst_t *stack_burst_start (e2e_stack_t *self, int base, int n, int rate, char *ids);
/* Events that got 201 so far. */
int stack_burst_posted (stack_burst_t *burst);
/* POSTs answered anything but 201 so far (refused, timed out, no answer). */
int stack_burst_failed (stack_burst_t *burst);
/* Polls until at least n events got 201 or timeout_ms passed; returns
   the count. */
int stack_burst_wait (stack_burst_t *burst, int n, int timeout_ms);
/* Waits for the thread; returns how many got 201. */
int stack_burst_join (stack_burst_t **burst_p);

/* GET /events/{id}: returns HTTP status; status string copied on 200. */
int stack_get_status (e2e_stack_t *self, const char *id, char *status, size_t size);
/* Number of events reading "processed" (paged GET /events), -1 on error. */
int stack_count_processed (e2e_stack_t *self);
/* Polls until at least n events read processed. Returns the last count. */
int stack_wait_processed (e2e_stack_t *self, int n, int timeout_ms);
/* Polls (GET /events/{id} each, routed by id) until every event with an
   id in ids (n slots of STACK_ID_LEN + 1 bytes; "" = no id, skipped) reads
   processed. Returns how many do not when timeout_ms ran out, else 0. */
int stack_wait_ids_processed (e2e_stack_t *self, const char *ids, int n, int timeout_ms);

/* Empties herald.notifications and its dead-letter queue. */
void stack_purge (e2e_stack_t *self);
/* A disconnected broker (broker.h) for the stack's node that declares the
   queues as the services of this stack do (quorum, delivery limit); the
   caller destroys it. NULL when out of memory. */
broker_t *stack_broker_new (e2e_stack_t *self);
/* Messages ready in a queue (passive declare over AMQP), -1 on error. */
long stack_queue_depth (e2e_stack_t *self, const char *queue);
/* Messages in queue as rabbitmqctl lists them, without declaring anything
   (stack_queue_depth declares the topology, arguments included). -1 when
   rabbitmqctl fails or there is no such queue. */
long stack_queue_messages (e2e_stack_t *self, const char *queue);
/* The node leading quorum queue queue, as rabbitmqctl lists it: 0 for
   h1@..., the names tests/rabbitmq-cluster.sh gives; -1 when unknown. */
int stack_queue_leader (e2e_stack_t *self, const char *queue);
/* Polls until queue holds at least n messages. Returns the last depth. */
long stack_wait_depth (e2e_stack_t *self, const char *queue, long n, int timeout_ms);
/* Publishes body to the default exchange routed to queue. 0 or -1. */
int stack_publish_raw (e2e_stack_t *self, const char *queue, const void *body, size_t len);

/* Publishes by hand, confirmed, a well-formed notification (created) of
   event id, carrying status, to herald.notifications. 0 or -1. */
int stack_publish_notification (e2e_stack_t *self, const char *id, const char *user_id,
                                const char *description, const char *status);
/* Takes one message from queue without acking it and closes the channel,
   so RabbitMQ requeues it marked redelivered. 0, or -1 if none was taken. */
int stack_requeue_one (e2e_stack_t *self, const char *queue);

/* The store's view of its feed, from the stats op (stack_store.c). */
typedef struct {
    uint64_t head, acked, feed_len, events;
    char store_id[STACK_ID_LEN + 1]; /* "" when the store sends none */
} stack_store_stats_t;
/* Asks the scenario's store for its stats. 0, or -1 when it does not
   answer within 2 s. */
int stack_store_stats (e2e_stack_t *self, stack_store_stats_t *out);
/* Polls the store's stats every millisecond over one client kept open
   (cheap enough to run beside a benchmark) until its head reaches
   min_head. Returns clock_mono_us of the reply that showed it, or 0 when
   timeout_ms passed first; *head gets the last head read (0: none). */
int64_t stack_wait_store_head (e2e_stack_t *self, uint64_t min_head, int timeout_ms,
                               uint64_t *head);
/* Polls until the store's acked cursor equals its head and head is at
   least min_head (everything relayed). 0, or -1 on timeout; *out holds the
   last stats read. */
int stack_wait_store_settled (e2e_stack_t *self, uint64_t min_head, int timeout_ms,
                              stack_store_stats_t *out);
/* The same for shard i of a sharded scenario. */
int stack_shard_stats (e2e_stack_t *self, int i, stack_store_stats_t *out);
int stack_wait_shard_settled (e2e_stack_t *self, int i, uint64_t min_head, int timeout_ms,
                              stack_store_stats_t *out);

/* A sharded scenario (stack_shards.c), after stack_begin. Writes a map of
   n (1..STACK_SHARDS_MAX) shards on fresh ports, each owning an equal run
   of slots, epoch 1, into self->shard_map, and starts every shard durable
   (--data-dir <tmpdir>/run<N>-shard<i>-data, --shard-map, --shard-id i).
   Gateways started afterwards get the map (HERALD_SHARD_MAP). 0 or -1. */
int stack_start_shards (e2e_stack_t *self, int n);
/* (Re)starts shard i's store on its ports and data dir (a restart replays
   its journal); waits until it listens. Its log is "shard<i>". 0 or -1. */
int stack_start_shard (e2e_stack_t *self, int i);
/* (Re)starts shard i's notifier: --store-endpoint and the live stream of
   shard i only. Its log and health file are "notifier<i>". 0 or -1. */
int stack_start_shard_notifier (e2e_stack_t *self, int i);
/* n shards, the gateway with their map, a notifier per shard and workers
   0..workers-1. 0 or -1. */
int stack_start_all_shards (e2e_stack_t *self, int n, int workers);

/* Path of a service's stderr log in this scenario, e.g. "worker0".
   Static buffer. */
const char *stack_log_path (e2e_stack_t *self, const char *name);

/* Checks the workers' output against the n events posted as
   stack_post_many(base, n): returns the number of events whose line is
   missing or malformed; *dups gets the number of extra lines. Lines from
   workers in mask (bit i = worker i); per_worker[i] gets each one's count. */
int stack_check_lines (e2e_stack_t *self, int base, int n, const char *ids, unsigned mask,
                       int *dups, int per_worker[STACK_WORKERS_MAX]);
/* stack_check_lines for events that must each have exactly one line: true
   when none is missing or malformed and there is no extra line. */
bool stack_lines_exactly_once (e2e_stack_t *self, int base, int n, const char *ids, unsigned mask);
/* For a burst where some POSTs were refused: ids holds n slots, event k
   posted as "u-k" / "order k shipped", "" where the POST got no 201. Every
   line of the workers in mask must be exactly event k's line, with k's id
   when k has one. Returns the number of events with an id but no line plus
   the malformed lines; *dups gets the lines beyond the first of events
   with an id (at least once allows them), *extra the lines of events
   without one (stored, but the 201 was lost with the store). */
int stack_check_posted_lines (e2e_stack_t *self, const char *ids, int n, unsigned mask, int *dups,
                              int *extra);

#endif
