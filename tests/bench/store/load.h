/*
 * load — herald-bench-store's load generator: one DEALER with a window of
 * requests in flight (pipelining: the store's loop serves every queued
 * request per wake, and with a journal commits them as one group), phases
 * of creates, gets and updates, and the feed acknowledgement a notifier
 * would send. Latency is request-to-reply under a full window, so it
 * includes queueing behind the window.
 */
#ifndef HERALD_BENCH_LOAD_H
#define HERALD_BENCH_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LOAD_USER_LEN 16
#define LOAD_DESCRIPTION_LEN 40
#define LOAD_USERS 100000                  /* distinct user_ids in the load */
#define LOAD_HEAVY_USER "user-heavy-00000" /* load_set_heavy's (LOAD_USER_LEN bytes) */

typedef struct _load_t load_t;

/* How the load speaks to the store: a libzmq DEALER, or the bare ZMTP
   client of zmtp.h, which writes its requests to the socket itself, up to
   64 at a time, and has no I/O thread (tcp:// without CURVE only;
   herald-bench-store's default). */
typedef enum { LOAD_CLIENT_LIBZMQ, LOAD_CLIENT_ZMTP } load_client_t;

typedef struct {
    size_t ops;
    double secs;
    double ops_per_s;
    double p50_ms, p99_ms, max_ms;
    /* CPU per operation, us (user + system, all threads; -1: unknown):
       the store's (load_set_store_pid) and this process's, the load
       generator (with its libzmq I/O thread, through that client). */
    double store_cpu_us, client_cpu_us;
} load_result_t;

/* Connects to endpoint through client (load_reconnect keeps it). The ids
   of the first max_ids events created are kept for the get and update
   phases. A phase stops (fails) once *interrupted is set (may be NULL), so
   a signal never leaves a store or its data dir behind. Returns NULL on
   failure. */
load_t *load_new (const char *endpoint, load_client_t client, size_t max_ids,
                  volatile sig_atomic_t *interrupted);
void load_destroy (load_t **self_p);

/* Sends up to batch (1..PROTO_BATCH_MAX) requests per message from now on,
   as one batch (proto.h), rather than one message each (batch 1, the
   default). Returns 0, or -1 when batch is out of range. */
int load_set_batch (load_t *self, size_t batch);
/* From now on every create whose number (counted over all create phases
   from 0) is a multiple of every goes to one user, LOAD_HEAVY_USER (0:
   none does, the default): a user holding a share of a big store. */
void load_set_heavy (load_t *self, size_t every);
/* The store's process, whose CPU time the phases measure from now on
   (load_result_t; <= 0: none, the default). */
void load_set_store_pid (load_t *self, pid_t pid);
/* Talks to the store at endpoint from now on (a store restarted on other
   ports), keeping the ids and the last change seen. Returns 0 or -1. */
int load_reconnect (load_t *self, const char *endpoint);

/* Runs n creates (16-byte user_id, 40-byte description), gets or updates
   (status flipped between processed and pending, cycling over the kept
   ids) with up to window in flight; fills out (may be NULL). Blocks until
   every reply came; gives up when none comes for 10 s. Returns 0, or -1
   on a send failure, an error reply, that timeout or an interruption
   (reported on stderr). */
int load_create (load_t *self, size_t n, size_t window, load_result_t *out);
int load_get (load_t *self, size_t n, size_t window, load_result_t *out);
int load_update (load_t *self, size_t n, size_t window, load_result_t *out);

/* Sets the status of the kept events first .. first + n - 1 (creation
   order), window in flight. Returns 0 or -1 (as the phases above). */
int load_mark (load_t *self, size_t first, size_t n, const char *status, size_t window);

#define LOAD_NO_CURSOR SIZE_MAX

/* A list request: user and status filters (NULL: none), limit, and the
   cursor as the number of a kept event (LOAD_NO_CURSOR: from the start). */
typedef struct {
    const char *user_id;
    const char *status;
    uint32_t limit;
    size_t after;
} load_query_t;

/* Sends the same list request n times, one at a time, so each latency is
   the time the store takes to answer one page; fills out, and the fewest
   and most items a reply carried. Returns 0 or -1 (as the phases above). */
int load_list (load_t *self, const load_query_t *query, size_t n, load_result_t *out,
               size_t *items_min, size_t *items_max);

/* Acknowledges the change feed up to the last change seen. Returns 0 or -1. */
int load_ack (load_t *self);

/* What client names, for reports: "libzmq DEALER" or "bare ZMTP DEALER". */
const char *load_client_name (load_client_t client);

/* Ids kept so far. */
size_t load_ids (load_t *self);

/* One line: "name  N ops in S s: R ops/s  p50 X ms  p99 Y ms". */
void load_print (const char *name, const load_result_t *result);

#endif
