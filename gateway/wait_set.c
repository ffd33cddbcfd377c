/*
 * wait_set — see wait_set.h.
 */
#include "wait_set.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zmq.h>

enum { S_TAG_MHD, S_TAG_STOP, S_TAG_SOCKET };

static int
s_watch (int loop_fd, int fd, uint32_t tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
    return epoll_ctl (loop_fd, EPOLL_CTL_ADD, fd, &ev);
}

int
wait_set_open (wait_set_t *self, int mhd_fd, int stop_fd)
{
    *self = (wait_set_t){ .fd = epoll_create1 (EPOLL_CLOEXEC) };
    if (self->fd < 0 || s_watch (self->fd, mhd_fd, S_TAG_MHD) != 0
        || s_watch (self->fd, stop_fd, S_TAG_STOP) != 0) {
        log_error ("cannot make the loop's epoll set: %s", strerror (errno));
        return -1;
    }
    return 0;
}

void
wait_set_close (wait_set_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

void
wait_set_forget (wait_set_t *self, int fd)
{
    epoll_ctl (self->fd, EPOLL_CTL_DEL, fd, NULL);
}

/* After a reload the old sockets are closed already: a descriptor of
   theirs still open leaves the set here; a closed one left by itself, and
   its number, if a new socket took it, is not in the set yet (ENOENT). */
void
wait_set_watch (wait_set_t *self, backend_t *backend)
{
    for (size_t i = 0; i < self->n_watched; i++)
        epoll_ctl (self->fd, EPOLL_CTL_DEL, self->watched[i], NULL);
    self->n_watched = 0;
    self->n_sockets = backend_sockets (backend, self->sockets);
    for (size_t i = 0; i < self->n_sockets; i++) {
        int fd;
        size_t size = sizeof fd;
        if (zmq_getsockopt (self->sockets[i], ZMQ_FD, &fd, &size) != 0
            || s_watch (self->fd, fd, S_TAG_SOCKET) != 0) {
            if (!self->failed)
                log_error ("cannot watch a store connection (%s): polling it every %d ms until it "
                           "can",
                           strerror (errno), WAIT_SET_BLIND_MS);
            self->failed = true;
            return; /* the generation stays old: tried again next pass */
        }
        self->watched[self->n_watched++] = fd;
    }
    if (self->failed)
        log_info ("store connections watched again");
    self->failed = false;
    self->generation = backend_generation (backend);
}

/* 1 when a store socket has a message to read, 0 when none has, -1 on an
   error (EINTR included). */
static int
s_store_readable (wait_set_t *self)
{
    for (size_t i = 0; i < self->n_sockets; i++) {
        int events;
        size_t size = sizeof events;
        if (zmq_getsockopt (self->sockets[i], ZMQ_EVENTS, &events, &size) != 0)
            return -1;
        if (events & ZMQ_POLLIN)
            return 1;
    }
    return 0;
}

int
wait_set_wait (wait_set_t *self, long timeout_ms, bool *stop)
{
    if (self->failed && (timeout_ms < 0 || timeout_ms > WAIT_SET_BLIND_MS))
        timeout_ms = WAIT_SET_BLIND_MS;
    struct epoll_event events[2 + BACKEND_SOCKETS_MAX];
    int max = (int)(sizeof events / sizeof events[0]);
    int n = epoll_wait (self->fd, events, max, 0);
    if (n == 0) {
        int readable = s_store_readable (self);
        if (readable != 0)
            return readable;
        if (timeout_ms != 0)
            n = epoll_wait (self->fd, events, max,
                            timeout_ms < 0         ? -1
                            : timeout_ms > INT_MAX ? INT_MAX
                                                   : (int)timeout_ms);
    }
    for (int i = 0; i < n; i++)
        if (events[i].data.u32 == S_TAG_STOP)
            *stop = true;
    return n;
}
