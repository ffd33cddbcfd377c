/*
 * durable_client — what the durable-store tests share: a herald-store
 * started on a data dir (new ports at each start, a log per start), a
 * DEALER client with blocking calls and raw send/receive for pipelining,
 * bookkeeping of the events a test was told were stored, and the check
 * that they came back after a restart. Used by test_store_durable (kills
 * and compaction crashes) and test_store_faults (damaged journals, disks
 * that refuse).
 */
#ifndef HERALD_DURABLE_CLIENT_H
#define HERALD_DURABLE_CLIENT_H

#include "harness.h"
#include "proto.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TIMEOUT_MS 10000
#define WINDOW 200 /* requests in flight in a burst */
#define EVENTS_MAX 400000

typedef struct {
    uint8_t id[16];
    int acked_status;   /* last status whose update was acknowledged (0 = "pending") */
    int pending_status; /* an update in flight, 0 none */
} tracked_t;

typedef struct {
    char dir[700];
    char journal[720];
    int port, pub_port;
    char endpoint[64];
    pid_t pid;
    int starts;
    char log[640];
    zsock_t *dealer;
    uint64_t rid;
    zframe_t *frame;
    proto_reply_t reply;
    /* burst bookkeeping */
    tracked_t *events;
    size_t n_events;
    char mounted[600];        /* a tmpfs to unmount at teardown, "" none */
    uint64_t unsynced_max_ms; /* the store's last journal_unsynced_max_ms seen in a burst */
    uint64_t acked_cursor;    /* highest feed_ack acknowledged */
    uint64_t max_change_seq;
} fixture_t;

/* cmocka setup/teardown: a fixture with its own data dir under the
   harness's scratch dir; teardown stops the store and unmounts. */
int dc_setup (void **state);

/* Closes the client socket (the store keeps running). */
void dc_disconnect (fixture_t *self);

int dc_teardown (void **state);

/* Starts herald-store on self->dir (new ports each time) with extra
   arguments and environment (NULL-terminated, may be NULL). Returns the
   PID; the caller waits for readiness with dc_connect. */
pid_t dc_spawn (fixture_t *self, const char *const *extra, const char *const *env);

/* Waits for the store's port and connects a new DEALER. */
void dc_connect (fixture_t *self);

/* dc_spawn + dc_connect. */
void dc_start (fixture_t *self, const char *const *extra);

/* SIGKILLs the store and reaps it. */
void dc_kill9 (fixture_t *self);

/* Waits for the store to exit by itself; returns its exit code. */
int dc_wait_exit (fixture_t *self);

/* Encodes and sends req (rid as set). */
void dc_send (fixture_t *self, proto_request_t *req);

/* Receives one reply; NULL on timeout (when allowed). */
proto_reply_t *dc_recv (fixture_t *self);

/* Sends req with the next rid and waits for its reply (fails the test on
   timeout). The reply is valid until the next receive. */
proto_reply_t *dc_call (fixture_t *self, proto_request_t *req);

proto_reply_t *dc_create (fixture_t *self, const char *user, const char *description);

proto_reply_t *dc_get (fixture_t *self, const uint8_t id[16]);

/* The status an update number stands for: 0 "pending", n "s<n>". */
void dc_status_text (int status, char *out, size_t size);

/* Every acknowledged create is there, in its acknowledged state or the one
   of an update in flight at the kill (strict; else presence only). Returns
   how many are missing, marking them in missing (may be NULL). Strict
   checks settle the bookkeeping to what the store holds. */
size_t dc_check_events (fixture_t *self, size_t upto, bool *missing, bool strict);

/* n acknowledged creates, tracked. */
void dc_create_some (fixture_t *self, int n);

/* A file's size. */
off_t dc_size (const char *path);

/* Mounts a tmpfs of size bytes (read-only when ro) on dir. 0, or -1 when
   this machine does not let the test mount (then the test is skipped). */
int dc_mount (fixture_t *self, const char *dir, size_t size, bool ro);

#endif
