/*
 * conn_monitor — see conn_monitor.h.
 */
#include "conn_monitor.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct _conn_monitor_t {
    void *pair;
    int up, down;
    uint64_t ups, downs;
};

conn_monitor_t *
conn_monitor_new (void *ctx, void *socket, int up, int down)
{
    assert (ctx && socket);
    conn_monitor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->up = up;
    self->down = down;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://herald-monitor-%p", (void *)self);
    int unbounded = 0;
    if (zmq_socket_monitor (socket, endpoint, up | down) != 0
        || !(self->pair = zmq_socket (ctx, ZMQ_PAIR))
        || zmq_setsockopt (self->pair, ZMQ_RCVHWM, &unbounded, sizeof unbounded) != 0
        || zmq_setsockopt (self->pair, ZMQ_LINGER, &unbounded, sizeof unbounded) != 0
        || zmq_connect (self->pair, endpoint) != 0) {
        if (self->pair)
            zmq_close (self->pair);
        free (self);
        return NULL;
    }
    return self;
}

void
conn_monitor_destroy (conn_monitor_t **self_p)
{
    assert (self_p);
    conn_monitor_t *self = *self_p;
    if (!self)
        return;
    zmq_close (self->pair);
    free (self);
    *self_p = NULL;
}

void
conn_monitor_drain (conn_monitor_t *self, uint64_t *ups, uint64_t *downs)
{
    assert (self);
    for (;;) {
        /* An event is two frames: 2 bytes of event and 4 of value, then
           the endpoint. */
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, self->pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            break;
        }
        uint16_t event = 0;
        if (zmq_msg_size (&frame) >= 2)
            memcpy (&event, zmq_msg_data (&frame), 2);
        bool more = zmq_msg_more (&frame);
        zmq_msg_close (&frame);
        while (more) {
            zmq_msg_init (&frame);
            more = zmq_msg_recv (&frame, self->pair, ZMQ_DONTWAIT) >= 0 && zmq_msg_more (&frame);
            zmq_msg_close (&frame);
        }
        if (event & self->up)
            self->ups++;
        else if (event & self->down)
            self->downs++;
    }
    if (ups)
        *ups = self->ups;
    if (downs)
        *downs = self->downs;
}
