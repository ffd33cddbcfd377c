/*
 * stack_internal — what the parts of the stack (stack.c, stack_shards.c)
 * share and the tests do not call: starting a service with the scenario's
 * log files and options, and stopping a sharded scenario's processes.
 */
#ifndef HERALD_STACK_INTERNAL_H
#define HERALD_STACK_INTERNAL_H

#include "stack.h"

/* Starts argv with env (NULL-terminated, at most 12) plus the scenario's
   metrics, log format and level; stderr to <tmpdir>/run<N>-<name>.log,
   stdout to out (NULL: the same log). The PID, or -1. */
pid_t stack_spawn (e2e_stack_t *self, const char *name, const char *const argv[],
                   const char *const env[], const char *out);

/* herald-store as name, listening on port and pub_port, durable on data_dir
   when it is not "" (NULL = in memory), feed_max when > 0, extra arguments
   (NULL-terminated, at most 9). *pid set; waits until it listens. 0 or -1. */
int stack_spawn_store (e2e_stack_t *self, const char *name, int port, int pub_port,
                       const char *data_dir, long feed_max, const char *const *extra, pid_t *pid);

/* herald-notifier as name (also its health file) reading the feed of the
   store at store_ep, rung by its live stream on pub_port. 0 or -1. */
int stack_spawn_notifier (e2e_stack_t *self, const char *name, const char *store_ep, int pub_port,
                          const char *const *extra, pid_t *pid);

/* Stops every shard's notifier, then every shard's store (stack_end). */
void stack_end_shards (e2e_stack_t *self);

#endif
