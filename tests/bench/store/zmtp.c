/*
 * zmtp — see zmtp.h. The wire format is ZMTP 3.0 (rfc.zeromq.org, 23):
 * a 64-byte greeting each way naming the NULL mechanism, one READY
 * command each way carrying the socket type, then frames of a flags byte
 * (MORE 1, LONG 2, COMMAND 4) and a one-byte or eight-byte big-endian
 * size. The store's ROUTER sends PING every 10 s and drops a peer that
 * stays silent for 30 (server.c): a PING gets its PONG whenever the caller
 * is in zmtp_wait or zmtp_next, so a connection left idle longer than that
 * is dropped (the benchmark reconnects before each section).
 */
#include "zmtp.h"

#include "clock.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_GREETING 64
#define S_IN_START (256 * 1024)        /* the read buffer; grows for a bigger frame */
#define S_FRAME_MAX (64 * 1024 * 1024) /* refused beyond: no reply of the store is near */
#define S_FLAG_MORE 1
#define S_FLAG_LONG 2
#define S_FLAG_COMMAND 4

struct _zmtp_t {
    int fd;
    unsigned char *in; /* bytes read, in_off .. in_len not yet parsed */
    size_t in_off, in_len, in_cap;
    unsigned char *out; /* bytes queued, out_off .. out_len not yet written */
    size_t out_off, out_len, out_cap;
    bool quiet;      /* errors kept, not printed */
    char error[256]; /* the last error */
};

static int s_frame (zmtp_t *self, bool take, unsigned *flags, const unsigned char **body,
                    size_t *size, size_t *need);

/* Keeps the error for zmtp_error and prints it unless quiet. Returns -1. */
static int __attribute__ ((format (printf, 2, 3))) s_fail (zmtp_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
    if (!self->quiet)
        fprintf (stderr, "bench: zmtp: %s\n", self->error);
    return -1;
}

static int
s_reserve_out (zmtp_t *self, size_t more)
{
    if (self->out_off == self->out_len)
        self->out_off = self->out_len = 0;
    if (self->out_len + more <= self->out_cap)
        return 0;
    if (self->out_off > 0) { /* what the socket took goes before growing */
        memmove (self->out, self->out + self->out_off, self->out_len - self->out_off);
        self->out_len -= self->out_off;
        self->out_off = 0;
        if (self->out_len + more <= self->out_cap)
            return 0;
    }
    size_t cap = self->out_cap ? self->out_cap : 4096;
    while (cap < self->out_len + more)
        cap *= 2;
    unsigned char *out = realloc (self->out, cap);
    if (!out)
        return -1;
    self->out = out;
    self->out_cap = cap;
    return 0;
}

/* Queues one frame: flags, size (short or long form), body. */
static int
s_put_frame (zmtp_t *self, unsigned flags, const void *data, size_t size)
{
    if (s_reserve_out (self, 9 + size) != 0)
        return -1;
    unsigned char *p = self->out + self->out_len;
    if (size > 255) {
        *p++ = (unsigned char)(flags | S_FLAG_LONG);
        for (int i = 7; i >= 0; i--)
            *p++ = (unsigned char)((uint64_t)size >> (8 * i));
    } else {
        *p++ = (unsigned char)flags;
        *p++ = (unsigned char)size;
    }
    if (size)
        memcpy (p, data, size);
    self->out_len = (size_t)(p - self->out) + size;
    return 0;
}

int
zmtp_queue (zmtp_t *self, const void *data, size_t size)
{
    assert (self);
    return s_put_frame (self, 0, data, size);
}

int
zmtp_flush (zmtp_t *self)
{
    assert (self);
    while (self->out_off < self->out_len) {
        ssize_t n =
            send (self->fd, self->out + self->out_off, self->out_len - self->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* zmtp_wait writes the rest */
        if (n < 0)
            return s_fail (self, "send: %s", strerror (errno));
        self->out_off += (size_t)n;
    }
    return 0;
}

/* Waits up to timeout_ms for bytes to read, writing queued bytes as the
   socket takes them meanwhile: 1, 0 on timeout, -1 (errno). */
static int
s_poll (zmtp_t *self, int timeout_ms)
{
    int64_t deadline = clock_mono_ms () + timeout_ms;
    for (;;) {
        struct pollfd pfd = { self->fd, POLLIN, 0 };
        if (self->out_off < self->out_len)
            pfd.events |= POLLOUT;
        int64_t left = deadline - clock_mono_ms ();
        int rc = poll (&pfd, 1, left > 0 ? (int)left : 0);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        if ((pfd.revents & POLLOUT) && zmtp_flush (self) != 0)
            return -1;
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
            return 1; /* zmtp_next reads it, or reads the error */
    }
}

size_t
zmtp_pending (zmtp_t *self)
{
    assert (self);
    return self->out_len - self->out_off;
}

int
zmtp_wait (zmtp_t *self, int timeout_ms)
{
    assert (self);
    if (zmtp_flush (self) != 0)
        return -1;
    unsigned flags;
    const unsigned char *body;
    size_t len, need;
    if (s_frame (self, false, &flags, &body, &len, &need) != 0)
        return 1; /* a whole frame is buffered (or a bad one: zmtp_next says) */
    return s_poll (self, timeout_ms);
}

/* Reads what the socket has, without blocking. Returns 1 when bytes came,
   0 when none are there, -1 on an error or the store closing. */
static int
s_fill (zmtp_t *self, size_t need)
{
    if (self->in_off > 0 && (self->in_off == self->in_len || self->in_off + need > self->in_cap)) {
        /* Move the partial frame to the front. */
        memmove (self->in, self->in + self->in_off, self->in_len - self->in_off);
        self->in_len -= self->in_off;
        self->in_off = 0;
    }
    if (self->in_len == self->in_cap) {
        /* Full, and the frame is longer: grow by doubling as its bytes
           come, never to a size a header only declares. */
        size_t cap = self->in_cap * 2 < need ? self->in_cap * 2 : need;
        unsigned char *in = realloc (self->in, cap);
        if (!in)
            return s_fail (self, "out of memory for a frame of %zu bytes", need);
        self->in = in;
        self->in_cap = cap;
    }
    for (;;) {
        ssize_t n = recv (self->fd, self->in + self->in_len, self->in_cap - self->in_len, 0);
        if (n > 0) {
            self->in_len += (size_t)n;
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return s_fail (self, "%s", n == 0 ? "the store closed the connection" : strerror (errno));
    }
}

/* The frame at in_off when it is complete: 1 with its flags, body and
   size (in_off moves past it when take is set), 0 when more bytes are
   needed (*need says how many from in_off), -1 for a frame this client
   refuses. */
static int
s_frame (zmtp_t *self, bool take, unsigned *flags, const unsigned char **body, size_t *size,
         size_t *need)
{
    const unsigned char *p = self->in + self->in_off;
    size_t have = self->in_len - self->in_off, head = 2;
    *need = head;
    if (have < head)
        return 0;
    *flags = p[0];
    if (*flags & ~(unsigned)(S_FLAG_MORE | S_FLAG_LONG | S_FLAG_COMMAND))
        return s_fail (self, "reserved flag bits set (0x%02x)", *flags);
    uint64_t len = p[1];
    if (*flags & S_FLAG_LONG) {
        head = 9;
        *need = head;
        if (have < head)
            return 0;
        len = 0;
        for (int i = 1; i <= 8; i++)
            len = len << 8 | p[i];
    }
    if (len > S_FRAME_MAX) {
        return s_fail (self, "a frame of %llu bytes (at most %d)", (unsigned long long)len,
                       S_FRAME_MAX);
    }
    *need = head + (size_t)len;
    if (have < *need)
        return 0;
    *body = p + head;
    *size = (size_t)len;
    if (take)
        self->in_off += *need;
    return 1;
}

/* A command frame after the handshake: PING gets its PONG (same
   context), ERROR ends the connection, others are skipped. */
static int
s_command (zmtp_t *self, const unsigned char *body, size_t size)
{
    if (size < 1 || (size_t)body[0] + 1 > size)
        return 0;
    size_t name = body[0];
    if (name == 4 && memcmp (body + 1, "PING", 4) == 0 && size >= 7) {
        unsigned char pong[1 + 4 + 16];
        size_t context = size - 7 > 16 ? 16 : size - 7; /* RFC 37: at most 16 */
        pong[0] = 4;
        memcpy (pong + 1, "PONG", 4);
        memcpy (pong + 5, body + 7, context);
        return s_put_frame (self, S_FLAG_COMMAND, pong, 5 + context) == 0 ? zmtp_flush (self) : -1;
    }
    if (name == 5 && memcmp (body + 1, "ERROR", 5) == 0) {
        size_t reason = size > 7 ? body[6] : 0;
        if (reason > size - 7)
            reason = size - 7;
        return s_fail (self, "the store sent ERROR: %.*s", (int)reason, body + 7);
    }
    return 0;
}

int
zmtp_next (zmtp_t *self, const void **data, size_t *size)
{
    assert (self);
    for (;;) {
        unsigned flags;
        const unsigned char *body;
        size_t len, need;
        int rc = s_frame (self, true, &flags, &body, &len, &need);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            int got = s_fill (self, need);
            if (got <= 0)
                return got;
            continue;
        }
        if (flags & S_FLAG_COMMAND) {
            if (s_command (self, body, len) != 0)
                return -1;
            continue;
        }
        if (flags & S_FLAG_MORE) {
            return s_fail (self, "a multi-frame message (not expected from the store)");
        }
        *data = body;
        *size = len;
        return 1;
    }
}

/* Reads until need bytes from in_off are buffered, or the deadline. */
static int
s_await (zmtp_t *self, size_t need, int64_t deadline)
{
    while (self->in_len - self->in_off < need) {
        int64_t left = deadline - clock_mono_ms ();
        if (left <= 0 || s_poll (self, (int)left) <= 0 || s_fill (self, need) < 0) {
            return s_fail (self, "no handshake from the store (a store with CURVE? this "
                                 "client speaks only NULL: --client libzmq)");
        }
    }
    return 0;
}

/* The peer's greeting and READY: ZMTP 3 or later, NULL, a ROUTER. */
static int
s_handshake (zmtp_t *self, int64_t deadline)
{
    static const unsigned char greeting[S_GREETING] = {
        0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L',
    };
    static const char ready[] = "\5READY"
                                "\13Socket-Type\0\0\0\6DEALER"
                                "\10Identity\0\0\0\0";
    if (s_reserve_out (self, S_GREETING) != 0)
        return -1;
    memcpy (self->out + self->out_len, greeting, S_GREETING);
    self->out_len += S_GREETING;
    if (s_put_frame (self, S_FLAG_COMMAND, ready, sizeof ready - 1) != 0 || zmtp_flush (self) != 0
        || s_await (self, S_GREETING, deadline) != 0)
        return -1;
    const unsigned char *g = self->in + self->in_off;
    if (g[0] != 0xff || !(g[9] & 1) || g[10] < 3 || memcmp (g + 12, "NULL", 5) != 0) {
        return s_fail (self, "the peer is not a ZMTP 3 NULL-mechanism socket (CURVE on? "
                             "this client speaks only NULL)");
    }
    self->in_off += S_GREETING;
    unsigned flags;
    const unsigned char *body;
    size_t len, need;
    int rc;
    while ((rc = s_frame (self, true, &flags, &body, &len, &need)) == 0)
        if (s_await (self, need, deadline) != 0)
            return -1;
    if (rc < 0 || !(flags & S_FLAG_COMMAND) || len < 6 || memcmp (body, "\5READY", 6) != 0) {
        return s_fail (self, "no READY from the peer");
    }
    /* Its properties: a name (one-byte size), a value (four-byte size). */
    for (size_t at = 6; at < len;) {
        size_t name = body[at++];
        if (name > len - at || len - at - name < 4)
            break;
        const unsigned char *key = body + at, *v = body + at + name + 4;
        size_t value = (size_t)v[-4] << 24 | (size_t)v[-3] << 16 | (size_t)v[-2] << 8 | v[-1];
        at += name + 4;
        if (value > len - at)
            break;
        if (name == 11 && memcmp (key, "Socket-Type", 11) == 0) {
            if (value == 6 && memcmp (v, "ROUTER", 6) == 0)
                return 0;
            break;
        }
        at += value;
    }
    return s_fail (self, "the peer's READY does not name a ROUTER");
}

zmtp_t *
zmtp_adopt (int fd)
{
    zmtp_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->in_cap = S_IN_START;
    self->in = malloc (self->in_cap);
    if (!self->in) {
        free (self);
        return NULL;
    }
    self->fd = fd;
    return self;
}

void
zmtp_set_quiet (zmtp_t *self, bool quiet)
{
    assert (self);
    self->quiet = quiet;
}

const char *
zmtp_error (zmtp_t *self)
{
    assert (self);
    return self->error;
}

zmtp_t *
zmtp_connect (const char *endpoint, int timeout_ms)
{
    char host[64];
    unsigned port;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    if (sscanf (endpoint, "tcp://%63[0-9.]:%u", host, &port) != 2 || port == 0 || port > 65535
        || inet_pton (AF_INET, host, &addr.sin_addr) != 1) {
        fprintf (stderr, "bench: zmtp: %s is not tcp://IPv4:port\n", endpoint);
        return NULL;
    }
    addr.sin_port = htons ((uint16_t)port);
    int64_t deadline = clock_mono_ms () + timeout_ms;
    int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    zmtp_t *self = fd >= 0 ? zmtp_adopt (fd) : NULL;
    if (!self) {
        fprintf (stderr, "bench: zmtp: no socket: %s\n", strerror (errno));
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    if (setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        goto fail;
    if (connect (self->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        struct pollfd pfd = { self->fd, POLLOUT, 0 };
        int err = errno, ready = 0;
        socklen_t len = sizeof err;
        if (err == EINPROGRESS) {
            ready = poll (&pfd, 1, timeout_ms);
            err = ready < 0 ? errno : ready == 0 ? ETIMEDOUT : 0;
            if (ready == 1 && getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
        if (err != 0) {
            fprintf (stderr, "bench: zmtp: cannot connect to %s: %s\n", endpoint, strerror (err));
            goto fail;
        }
    }
    if (s_handshake (self, deadline) == 0)
        return self;
fail:
    zmtp_destroy (&self);
    return NULL;
}

void
zmtp_destroy (zmtp_t **self_p)
{
    assert (self_p);
    zmtp_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close (self->fd);
    free (self->in);
    free (self->out);
    free (self);
    *self_p = NULL;
}
