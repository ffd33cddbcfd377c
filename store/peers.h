/*
 * peers — how many reply bytes each ROUTER peer may still have queued in
 * the store, so that a peer that never reads costs a bounded number of
 * bytes (issue 14).
 *
 * libzmq bounds a peer's send queue in messages (ZMQ_SNDHWM), not bytes,
 * and does not say how much of it the peer has read. What it does
 * guarantee is enough for a bound in bytes: the queue is FIFO and holds at
 * most SNDHWM messages, and libzmq's I/O thread holds at most one or two
 * more while writing them to the kernel. So whatever a peer has not taken
 * yet is within the last `window` (= SNDHWM + 2) replies sent to it, and
 * their total is an upper bound on what it can pin in the store's memory.
 * peers keeps those sizes per peer and tells the server how much room the
 * next reply has under `budget`; list and feed_read replies are cut to fit
 * (a page may hold fewer items; the client follows the cursor), and the
 * others are small (one event at most).
 *
 * The bound is conservative: a peer that reads everything at once still
 * counts its last `window` replies, so a peer that received many big
 * replies lately gets smaller pages until newer replies push the old ones
 * out of its window. Nothing is refused.
 *
 * Unless the peer proves it took them. Each list and feed_read reply
 * carries a receipt (proto/PROTOCOL.md §4.3): the reply's index among the
 * replies counted for this peer and a MAC of it (SipHash-2-4 under a key
 * drawn at start, over the index and a salt of the peer's entry). Only a
 * peer that read the reply knows it; sent back with a later request, it
 * shows that reply and, the queue being FIFO, every earlier one have left
 * the store, and they stop counting. A reader that keeps one page request
 * in flight (the notifier) so gets full pages however many it has read,
 * where before its window of big pages left it a page of a few items.
 * A receipt that does not verify (forged, another peer's, an entry since
 * forgotten and made again) changes nothing. One exception to "first in,
 * first out" is known and bounded: after a journal commit fails, the
 * replies that waited for it stay held (outbox.h) while later ones go out,
 * so a receipt of a later reply stops counting them before they leave;
 * that is one loop pass's writes at most (writes are refused from then
 * on until the journal records again), each answered with one event.
 *
 * A peer is named by its ROUTER routing id. Entries of peers that sent
 * nothing for a while are forgotten (peers_expire): by then ZMTP
 * heartbeats have closed a connection that stopped reading, freeing its
 * queue.
 */
#ifndef HERALD_PEERS_H
#define HERALD_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _peers_t peers_t;

/* A table for windows of `window` replies (>= 1) and `budget` bytes per
   peer, with a receipt key from getrandom(2). Returns NULL when out of
   memory or without randomness. */
peers_t *peers_new (size_t window, size_t budget);

void peers_destroy (peers_t **self_p);

/* Makes the peer named by id (len bytes, len <= 255) the current one,
   creating its entry, and marks it seen at now_ms. receipt: one the
   peer's request carried (NULL: none); when it verifies, the replies it
   proves taken leave the window first. Returns the bytes its next reply
   may take so that its window stays within the budget: the budget minus
   the replies that stay in the window when the next one pushes the oldest
   out (0 when none is left). Returns 0 also when the entry cannot be made
   (out of memory): the reply is then kept minimal. */
size_t peers_room (peers_t *self, const void *id, size_t len, int64_t now_ms,
                   const uint8_t *receipt);

/* Receipts peers_room was shown that freed replies (verified) and that
   did not verify (refused: a bad MAC, or an index this entry never sent);
   one of replies already freed counts as neither. */
void peers_receipt_counts (peers_t *self, uint64_t *verified, uint64_t *refused);

/* The receipt of the current peer's next reply (the one peers_sent will
   count next), in receipt. Returns false, writing nothing, when there is
   no current entry. */
bool peers_receipt (peers_t *self, uint8_t receipt[16]);

/* Records a reply of size bytes to the current peer (as peers_room last
   named; no-op when its entry could not be made). */
void peers_sent (peers_t *self, size_t size);

/* Bytes the peer named by id may still have queued: the sum of its window
   (0 for an unknown peer). */
size_t peers_queued (peers_t *self, const void *id, size_t len);

/* Marks the peer named by id seen at now_ms, if it has an entry. */
void peers_touch (peers_t *self, const void *id, size_t len, int64_t now_ms);

/* Forgets the peers not seen since before now_ms - idle_ms. Returns how
   many are left. */
size_t peers_expire (peers_t *self, int64_t now_ms, int64_t idle_ms);

#endif
