/*
 * zmtp — a bare ZMTP 3 DEALER over one TCP connection, for the store
 * benchmark's load generator: the NULL mechanism only, one frame per
 * message, requests written many to a write() and replies parsed in place
 * from one read buffer, with no I/O thread behind it.
 *
 * Why it exists: the load generator shares the machine's two cores with
 * the store it measures, and through libzmq it spent 1.0-1.4 us of CPU per
 * request (its I/O thread, the eventfd wake-ups between the two threads,
 * a message object per frame) against redis-benchmark's 0.13, which
 * writes its pipeline to the socket itself. The store's side is
 * unchanged: the same ROUTER, the same libzmq, whichever client speaks to
 * it. Not for production use: no CURVE, no reconnect, no multi-frame
 * messages (the store sends none to a DEALER that sends none). Its frame
 * parser reads the peer's bytes, so it has a fuzz target like every other
 * decoder (tests/fuzz/fuzz_bench_zmtp.c): frames up to 64 MiB, the read
 * buffer grown only as a frame's bytes arrive.
 */
#ifndef HERALD_BENCH_ZMTP_H
#define HERALD_BENCH_ZMTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _zmtp_t zmtp_t;

/* Connects to endpoint ("tcp://IPv4:port") and completes the handshake
   with a ROUTER within timeout_ms. Returns NULL on failure, with the
   reason on stderr. */
zmtp_t *zmtp_connect (const char *endpoint, int timeout_ms);

/* Wraps fd, a connected non-blocking stream socket past its handshake
   (the fuzz target's socketpair): takes ownership of fd on success; on
   failure (NULL, out of memory) fd is left open. */
zmtp_t *zmtp_adopt (int fd);
void zmtp_destroy (zmtp_t **self_p);

/* Errors are reported on stderr as they happen (the default), or only
   kept for zmtp_error when quiet. */
void zmtp_set_quiet (zmtp_t *self, bool quiet);

/* The last error of a call that returned -1 ("" before any). */
const char *zmtp_error (zmtp_t *self);

/* Queues one message (a single frame) to go out at the next zmtp_flush.
   Returns 0, or -1 when out of memory. */
int zmtp_queue (zmtp_t *self, const void *data, size_t size);

/* Writes what is queued without blocking; what the socket does not take
   now goes out from zmtp_wait. Returns 0, or -1 when the connection
   failed. */
int zmtp_flush (zmtp_t *self);

/* Bytes queued and not yet taken by the socket. */
size_t zmtp_pending (zmtp_t *self);

/* Writes what is queued (zmtp_flush), then waits up to timeout_ms for a
   reply to read, writing the rest as the socket takes it meanwhile. Returns 1 when a message is
   ready (or bytes to read), 0 on timeout, -1 on a connection error or EINTR (errno says which). */
int zmtp_wait (zmtp_t *self, int timeout_ms);

/* The next message received, read from the socket without blocking when
   none is buffered; *data is borrowed until the next call on self. PINGs
   are answered and other commands skipped. Returns 1 with a message, 0
   when none is complete yet, -1 on a connection or protocol error
   (reported on stderr). */
int zmtp_next (zmtp_t *self, const void **data, size_t *size);

#endif
