/*
 * redis_server — a private redis-server for a benchmark's peer column: on a
 * free 127.0.0.1 port, memory only (--save '' --appendonly no, so neither
 * an RDB snapshot nor an AOF fsync lands in the figures), in the
 * foreground as this process's child, stopped by PID. Each benchmark finds
 * the binary itself (peer_bin.h), so it can name every missing package in
 * one message.
 */
#ifndef HERALD_BENCH_REDIS_SERVER_H
#define HERALD_BENCH_REDIS_SERVER_H

#include <sys/types.h>

typedef struct {
    pid_t pid; /* 0: not running */
    int port;
} redis_server_t;

/* Starts the redis-server at path `server`, its output in
   <harness_tmpdir>/<name>.log, and waits (bounded) until it accepts
   connections. Returns 0, or -1 after printing why, with nothing left
   running. */
int redis_server_start (redis_server_t *self, const char *server, const char *name);

/* Stops it (SIGTERM, then SIGKILL) when it runs; a no-op otherwise. */
void redis_server_stop (redis_server_t *self);

#endif
