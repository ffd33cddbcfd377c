/*
 * stack_shards — a sharded store in an end-to-end scenario (see stack.h,
 * issue 17): the map file, the shards' stores and one notifier per shard.
 *
 * Each shard is what a deployment runs (README, "Running shards"): a
 * durable herald-store with its own data dir, request and live-stream
 * ports, started with the map and its --shard-id, and a herald-notifier
 * that reads that shard's change feed only. A shard is restarted on the
 * same ports and data dir, so a kill -9 and a restart is the store coming
 * back from its journal with the same store id: its notifier and the
 * gateway reconnect to it by themselves.
 *
 * The map gives shard i the i-th equal run of the 16384 slots, epoch 1;
 * the gateway is started with the same file (stack.c's s_start_gateway
 * passes HERALD_SHARD_MAP once n_shards is set).
 */
#include "stack.h"
#include "stack_internal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define STACK_SLOTS 16384 /* proto/PROTOCOL.md §9 */

/* Writes the map of self->n_shards shards into self->shard_map. */
static int
s_write_map (e2e_stack_t *self)
{
    char text[1024];
    int len = snprintf (text, sizeof text, "# %d shards, written by the e2e stack\nepoch 1\n",
                        self->n_shards);
    for (int i = 0; i < self->n_shards; i++) {
        int first = STACK_SLOTS * i / self->n_shards;
        int last = STACK_SLOTS * (i + 1) / self->n_shards - 1;
        len += snprintf (text + len, sizeof text - (size_t)len, "shard %s %d-%d\n",
                         self->shards[i].endpoint, first, last);
    }
    snprintf (self->shard_map, sizeof self->shard_map, "%s/run%d-shards.map", harness_tmpdir (),
              self->run);
    return harness_write_file (self->shard_map, text);
}

int
stack_start_shards (e2e_stack_t *self, int n)
{
    if (n < 1 || n > STACK_SHARDS_MAX)
        return -1;
    self->n_shards = n;
    for (int i = 0; i < n; i++) {
        stack_shard_t *shard = &self->shards[i];
        memset (shard, 0, sizeof *shard);
        shard->port = harness_free_port ();
        shard->pub_port = harness_free_port ();
        snprintf (shard->endpoint, sizeof shard->endpoint, "tcp://127.0.0.1:%d", shard->port);
        snprintf (shard->data_dir, sizeof shard->data_dir, "%s/run%d-shard%d-data",
                  harness_tmpdir (), self->run, i);
    }
    if (s_write_map (self) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (stack_start_shard (self, i) != 0)
            return -1;
    return 0;
}

int
stack_start_shard (e2e_stack_t *self, int i)
{
    if (i < 0 || i >= self->n_shards)
        return -1;
    stack_shard_t *shard = &self->shards[i];
    char id[16], name[32];
    snprintf (id, sizeof id, "%d", i);
    snprintf (name, sizeof name, "shard%d", i);
    const char *extra[] = { "--shard-map", self->shard_map, "--shard-id", id, NULL };
    return stack_spawn_store (self, name, shard->port, shard->pub_port, shard->data_dir, 0, extra,
                              &shard->store);
}

int
stack_start_shard_notifier (e2e_stack_t *self, int i)
{
    if (i < 0 || i >= self->n_shards)
        return -1;
    stack_shard_t *shard = &self->shards[i];
    char name[32];
    snprintf (name, sizeof name, "notifier%d", i);
    return stack_spawn_notifier (self, name, shard->endpoint, shard->pub_port, NULL,
                                 &shard->notifier);
}

int
stack_start_all_shards (e2e_stack_t *self, int n, int workers)
{
    if (stack_start_shards (self, n) != 0 || stack_start_gateway (self) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (stack_start_shard_notifier (self, i) != 0)
            return -1;
    for (int w = 0; w < workers && w < STACK_WORKERS_MAX; w++)
        if (stack_start_worker (self, w, NULL) != 0)
            return -1;
    return 0;
}

void
stack_end_shards (e2e_stack_t *self)
{
    for (int i = 0; i < STACK_SHARDS_MAX; i++) {
        if (self->shards[i].notifier > 0)
            harness_stop (self->shards[i].notifier, SIGTERM, 10000);
        self->shards[i].notifier = 0;
    }
    for (int i = 0; i < STACK_SHARDS_MAX; i++) {
        if (self->shards[i].store > 0)
            harness_stop (self->shards[i].store, SIGTERM, 10000);
        self->shards[i].store = 0;
    }
}
