/*
 * shardfx — what the gateway's sharded tests share (test_gateway_shard,
 * test_gateway_shard_list): herald-store processes as shards of a map
 * file on free loopback ports (started and stopped by PID, each with a
 * store client to ask it directly), the map of three shards owning a third
 * of the slots each, and a gateway started on a map.
 */
#ifndef HERALD_SHARDFX_H
#define HERALD_SHARDFX_H

#include "gwclient.h"
#include "store_client.h"

#include <sys/types.h>

#define SHARDFX_SHARDS 3

typedef struct {
    pid_t pid;
    int port;
    char endpoint[64];
    store_client_t *client; /* to ask the shard directly */
} shardfx_store_t;

/* Picks store's port; starts nothing. */
void shardfx_store_init (shardfx_store_t *store);

/* Starts herald-store as shard id of map (log name.log in the test's
   directory) and connects its client. 0 or -1. */
int shardfx_store_start (shardfx_store_t *store, const char *map, int id, const char *name);

/* Stops it (SIGCONT first: it may be frozen) and closes its client. */
void shardfx_store_stop (shardfx_store_t *store);

/* Writes (atomically) the map of the SHARDFX_SHARDS stores at epoch, with
   store (i + rotate) % 3 owning the i-th third of the slots. */
void shardfx_write_map (const char *path, const shardfx_store_t *stores, int epoch, int rotate);

/* The store owning id's slot in a map of rotate 0. */
int shardfx_owner (const char *id);

/* A gateway (run numbers its log) on map, with a 1 s store deadline. */
int shardfx_gateway_start (gw_t *gw, int run, const char *map);

/* The fixture both tests stand up: SHARDFX_SHARDS stores as the shards
   of an epoch-2 map written to map (rotate 0, logs shard0.log ...), and a
   gateway (run 10) on it, ready. 0 or -1. */
int shardfx_start_all (shardfx_store_t *stores, const char *map, gw_t *gw);

/* Stops the gateway and the stores of shardfx_start_all. */
void shardfx_stop_all (shardfx_store_t *stores, gw_t *gw);

#endif
