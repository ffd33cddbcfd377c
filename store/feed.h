/*
 * feed — the store's change feed: every mutation, numbered, kept until the
 * notifier acknowledges it (docs/ARCHITECTURE.md §4.3).
 *
 * Sequence numbers start at 1 and every append takes the next one, so the
 * records held are exactly acked+1 .. head and a record is found by
 * arithmetic. A record is 4 bytes: the event's table index with the change
 * kind in the top bit; readers encode the event's CURRENT state (there is no
 * delete, so the index always resolves). The ring grows by doubling up to
 * the bound, so a large --feed-max costs memory only when used.
 *
 * The bound is the backpressure of the whole system: when head - acked
 * reaches it, feed_reserve says FULL to a create and the store refuses it
 * (feed_full) instead of dropping a change. Acknowledging frees slots.
 * Updates have a headroom above the bound, the bound again or
 * FEED_UPDATE_HEADROOM_MIN if that is more: a worker marking `processed` an
 * event whose notification it has already printed must not be refused
 * because creates filled the feed, or its message is retried and
 * dead-lettered after the line went out. Creates can never take that
 * headroom. While creates fill the feed (the notifier cannot publish: the
 * queue is full), workers may drain the whole queue, each delivery making
 * an update, so the headroom covers the queue's default bound
 * (--queue-max, 100,000 in amqp/broker.h); a larger --queue-max wants a
 * --feed-max at least as large. Clients' own PUTs can exhaust it and are
 * then refused like creates. Records are 4 bytes: the headroom costs
 * memory only when used (400 KB at the minimum).
 */
#ifndef HERALD_FEED_H
#define HERALD_FEED_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_DEFAULT 100000
#define FEED_MAX_LIMIT 100000000        /* 800 MB of ring at most, updates' headroom included */
#define FEED_UPDATE_HEADROOM_MIN 100000 /* updates past the bound: the queue's default bound */

typedef struct _feed_t feed_t;

typedef enum {
    FEED_OK = 0,
    FEED_FULL,  /* head - acked reached the bound for this kind: refuse */
    FEED_NOMEM, /* the ring could not grow */
} feed_room_t;

typedef struct {
    uint64_t seq;
    proto_change_kind_t kind;
    uint32_t ref; /* event table index */
} feed_record_t;

/* A feed holding at most max (1 .. FEED_MAX_LIMIT) unacknowledged records.
   Returns NULL when out of memory or max is out of range. */
feed_t *feed_new (size_t max);

void feed_destroy (feed_t **self_p);

/* Ensures feed_append has a slot for a change of this kind: call before
   mutating anything, so a refused write changes nothing. A create is
   refused at max unacknowledged records, an update at max + the larger of
   max and FEED_UPDATE_HEADROOM_MIN. */
feed_room_t feed_reserve (feed_t *self, proto_change_kind_t kind);

/* The seq the next append will take (head + 1). */
uint64_t feed_next_seq (feed_t *self);

/* Appends a record; a successful feed_reserve must precede it. Returns the
   record's seq. ref must be < 2^31. */
uint64_t feed_append (feed_t *self, proto_change_kind_t kind, uint32_t ref);

/* Copies up to max records starting at seq `from` into out (room for max).
   from == 0 means "from the acked cursor + 1"; a from at or below the
   cursor starts at cursor + 1 too (acknowledged records are gone). Returns
   the number copied (0 when from > head). */
size_t feed_read (feed_t *self, uint64_t from, size_t max, feed_record_t *out);

/* Acknowledges every record up to seq, freeing their slots. Returns 0 (a
   seq at or below the cursor is a no-op), or -1 when seq > head. */
int feed_ack (feed_t *self, uint64_t seq);

/* Changes the bound (1 .. FEED_MAX_LIMIT; -1 otherwise). Records already
   held stay even when more than the new bound: writes are then refused
   until acknowledgements bring the length under it. The journal's replay
   lifts the bound while it runs, so a store restarted with a smaller
   --feed-max loses nothing. */
int feed_set_max (feed_t *self, size_t max);

/* Starts an empty feed (head 0) at a cursor: head = acked = seq, as a
   journal snapshot recorded it. Returns 0, or -1 when the feed is not
   empty. */
int feed_restore (feed_t *self, uint64_t seq);

uint64_t feed_head (feed_t *self);
uint64_t feed_acked (feed_t *self);
uint64_t feed_len (feed_t *self);
uint64_t feed_max (feed_t *self);

#endif
