/*
 * fake_store — a stand-in for herald-store's change feed (ROUTER, one
 * thread), for notifier tests that need the store to do what the real one
 * does only when it crashes at the wrong instant: forget an acknowledgement
 * it answered (a store restarted from its journal before recording it).
 *
 * It answers feed_read with records from..head of made-up events (as
 * stack_post_many numbers them), feed_ack by moving its cursor unless told
 * to forget, and every other op with an empty ok. Counters are read while
 * it runs.
 */
#ifndef HERALD_FAKE_STORE_H
#define HERALD_FAKE_STORE_H

#include <stdint.h>

typedef struct _fake_store_t fake_store_t;

/* Binds endpoint (e.g. "tcp://127.0.0.1:5555") and serves a feed of head
   changes, none acknowledged, under a random store_id. The first
   forget_acks feed_acks of seq head are answered ok but not applied. NULL
   on failure. */
fake_store_t *fake_store_new (const char *endpoint, uint64_t head, int forget_acks);
void fake_store_destroy (fake_store_t **self_p);

/* The cursor, and how many feed_acks of seq head arrived (forgotten ones
   included). */
uint64_t fake_store_acked (fake_store_t *self);
int fake_store_acks_of_head (fake_store_t *self);

#endif
