/*
 * conn_monitor — counts a ZeroMQ socket's connections made and lost, from
 * libzmq's socket monitor, for the services' /metrics (a reconnecting
 * client, a restarted peer).
 *
 * The monitor's PAIR lives in the socket's own context (inproc endpoints
 * are per context: a PAIR elsewhere never connects, and libzmq's I/O thread
 * then blocks on the monitor's full queue, stalling every socket). Its
 * receive queue is unbounded (RCVHWM 0) so that thread never waits, and the
 * owner drains it regularly (conn_monitor_drain, never blocking): events
 * are a few bytes each.
 */
#ifndef HERALD_CONN_MONITOR_H
#define HERALD_CONN_MONITOR_H

#include <stdint.h>

typedef struct _conn_monitor_t conn_monitor_t;

/* Monitors socket (a raw libzmq socket of ctx) for up (e.g.
   ZMQ_EVENT_CONNECTED or ZMQ_EVENT_ACCEPTED) and down
   (ZMQ_EVENT_DISCONNECTED) events. NULL when libzmq refuses: the socket
   works the same, unmonitored. Call before the socket connects or binds so
   its first connection is counted. */
conn_monitor_t *conn_monitor_new (void *ctx, void *socket, int up, int down);

void conn_monitor_destroy (conn_monitor_t **self_p);

/* Takes the events queued, without blocking, and gives the totals since
   conn_monitor_new (either pointer may be NULL). */
void conn_monitor_drain (conn_monitor_t *self, uint64_t *ups, uint64_t *downs);

#endif
