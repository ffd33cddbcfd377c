/*
 * outbox — what herald-store holds back for the group commit (DESIGN §3):
 * the replies of a loop pass and the live stream's notes of its changes.
 *
 * With a journal, a reply whose request appended records may leave only
 * once the commit that writes them has succeeded; the other replies of the
 * pass (reads, errors) need not wait, but go out in the order they were
 * made. The notes of the changes are published once the commit succeeded,
 * so an observer never sees a change a crash could take back. The server
 * holds everything here while it handles a pass, commits, then flushes:
 * everything when the commit succeeded, else only the replies that did not
 * wait for it, keeping the rest, in order, for a later flush.
 *
 * Replies are kept as the identity frame (moved in, no copy) and a copy of
 * the encoded reply; notes as their topic and body. Out of memory, a reply
 * is dropped (its client times out, as for any lost reply) and a note too
 * (the live stream is for observers, never the delivery path).
 */
#ifndef HERALD_OUTBOX_H
#define HERALD_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct _outbox_t outbox_t;

/* An empty outbox; NULL when out of memory. */
outbox_t *outbox_new (void);

/* Closes the identities of the replies still held, frees the outbox and
   sets the caller's pointer to NULL; no-op on NULL. */
void outbox_destroy (outbox_t **self_p);

/* Holds a reply: identity's content is moved in (identity is closed either
   way), data copied. durable: its request appended records, so it waits
   for a committed flush. Returns 0, or -1 when out of memory (the reply is
   dropped). */
int outbox_hold_reply (outbox_t *self, zmq_msg_t *identity, bool delimiter, bool durable,
                       const void *data, size_t size);

/* Replies held. */
size_t outbox_replies (outbox_t *self);

/* Holds a note: topic (at most 255 bytes) and body, copied. Returns 0, or
   -1 when out of memory (the note is dropped). */
int outbox_hold_note (outbox_t *self, const char *topic, const void *body, size_t size);

/* Sends one reply: identity is the caller's to consume (send or close). */
typedef void (outbox_send_fn) (void *arg, zmq_msg_t *identity, bool delimiter, const void *data,
                               size_t size);

/* Publishes one note. */
typedef void (outbox_note_fn) (void *arg, const char *topic, size_t topic_size, const void *body,
                               size_t size);

/* After a commit: hands to send, in the order held, every reply when
   committed, else only those that did not wait for it (the others stay
   held, in order); when committed, then hands every note to publish and
   forgets them. */
void outbox_flush (outbox_t *self, bool committed, outbox_send_fn *send, outbox_note_fn *publish,
                   void *arg);

#endif
