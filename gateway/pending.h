/*
 * pending — the requests a loop has sent to the store and not yet seen
 * answered, keyed by request id, each with its deadline.
 *
 * Request ids are a loop's own monotonic 64-bit counter, so the table is a
 * ring indexed by rid modulo its capacity: O(1) to add, to match a reply,
 * and to find the oldest deadline (every request gets the same timeout, so
 * deadlines grow with rids). The capacity is the bound on requests in
 * flight: when the slot of the next rid still holds an unanswered request,
 * pending_reserve refuses and the gateway answers 503. A reply whose rid
 * is not in the table (its request already answered 504) is simply not
 * found: late replies are discarded, never matched to the wrong request.
 *
 * With several store shards (shards.h) one table serves them all, so rids
 * are unique across shards; each entry also keeps the link (the store
 * connection) it went out on, and a reply is taken only by the link it
 * was sent on (pending_take_on): a reply can never complete a request
 * that another shard was asked.
 */
#ifndef HERALD_PENDING_H
#define HERALD_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _pending_t pending_t;

/* capacity is rounded up to a power of two. NULL when out of memory. */
pending_t *pending_new (size_t capacity);
void pending_destroy (pending_t **self_p);

/* The rid the next request will carry, or 0 when the table is full. Does
   not change the table: call pending_commit once the request is sent. */
uint64_t pending_reserve (pending_t *self);

/* Records item (borrowed) as waiting on rid, which must be the value
   pending_reserve just returned. */
void pending_commit (pending_t *self, uint64_t rid, void *item, int64_t deadline_ms);

/* pending_commit, remembering the link (store connection) it was sent on. */
void pending_commit_on (pending_t *self, uint64_t rid, void *item, int64_t deadline_ms,
                        uint32_t link);

/* Removes and returns the item waiting on rid; NULL when none is. */
void *pending_take (pending_t *self, uint64_t rid);

/* Removes and returns the item waiting on rid if it was sent on link; NULL
   (and the table unchanged) when none is, or it went out on another
   link. */
void *pending_take_on (pending_t *self, uint64_t rid, uint32_t link);

/* Removes and returns the oldest item whose deadline is <= now_ms; NULL
   when none has expired. Call until NULL. */
void *pending_expire (pending_t *self, int64_t now_ms);

/* pending_expire, also telling the link the item was sent on (link may be
   NULL). */
void *pending_expire_on (pending_t *self, int64_t now_ms, uint32_t *link);

/* Removes and returns an item whose link gone (ctx, link) says is gone
   (a connection a shard map reload closed: no reply will come on it),
   telling its link; NULL once none is left. *from is where the search
   resumes: 0 before the first call, then passed back unchanged, so one
   sweep reads each slot once. */
void *pending_take_gone (pending_t *self, bool (*gone) (void *ctx, uint32_t link), void *ctx,
                         uint64_t *from, uint32_t *link);

/* The earliest deadline, or -1 when nothing is pending. */
int64_t pending_next_deadline (pending_t *self);

/* Requests waiting. */
size_t pending_size (pending_t *self);

#endif
