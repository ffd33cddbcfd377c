/*
 * wait_set — what a gateway loop sleeps on (server.c): one epoll set, for
 * the loop's life, of libmicrohttpd's epoll descriptor, the stop
 * descriptor and each store socket's ZMQ_FD.
 *
 * zmq_poll would cost, per call, a poll with no timeout over every
 * descriptor, then ZMQ_EVENTS on each socket (inside libzmq a getpid and a
 * poll of the socket's mailbox), and the same again before it sleeps:
 * about 1.2 syscalls per request under load, for what one epoll_wait
 * answers while the loop is busy. ZMQ_FD is the socket's mailbox: it is
 * readable when libzmq has news for the socket, and any call on the socket
 * (a send too) may take that news without the message it announces being
 * read. So it wakes the loop, but the loop never sleeps on it without
 * asking ZMQ_EVENTS first; every pass drains the sockets anyway.
 */

#ifndef HERALD_GATEWAY_WAIT_SET_H
#define HERALD_GATEWAY_WAIT_SET_H

#include "backend.h"

#include <stdbool.h>
#include <stddef.h>

#define WAIT_SET_BLIND_MS 10 /* the most a wait lasts while a socket is not watched */

typedef struct {
    int fd; /* the epoll set; -1 when closed */
    void *sockets[BACKEND_SOCKETS_MAX];
    size_t n_sockets;
    int watched[BACKEND_SOCKETS_MAX]; /* their ZMQ_FDs in the set */
    size_t n_watched;
    bool failed;         /* a socket could not be watched: waits are short */
    unsigned generation; /* backend_generation of the sockets watched */
} wait_set_t;

/* Makes the set with the daemon's epoll descriptor and the stop
   descriptor; the store sockets join it with wait_set_watch. 0 or -1. */
int wait_set_open (wait_set_t *self, int mhd_fd, int stop_fd);
void wait_set_close (wait_set_t *self);

/* Watches backend's current shard sockets in place of the last ones (call
   again when backend_generation changed). If one cannot be watched, the
   waits last at most WAIT_SET_BLIND_MS and generation stays old, so the
   loop tries again every pass. */
void wait_set_watch (wait_set_t *self, backend_t *backend);

/* Takes fd out of the set (the stop descriptor, once the stop began). */
void wait_set_forget (wait_set_t *self, int fd);

/* Waits up to timeout_ms (-1: no limit) for the daemon, the stop
   descriptor or the store; as zmq_poll: > 0 when something is ready, 0 on
   the timeout, -1 with errno on an error. *stop is set when the stop
   descriptor is readable. */
int wait_set_wait (wait_set_t *self, long timeout_ms, bool *stop);

#endif
