/*
 * position — where the relay stands in ONE store's change feed: the next
 * seq to read, the highest seq RabbitMQ confirmed with nothing missing
 * below, the highest seq sent to the store in a feed_ack, and the id of the
 * store all of these were counted in (relay.c's invariants).
 *
 * Seqs mean nothing across stores. A feed reply from another store, or
 * from one whose head is behind these positions (it lost changes it had
 * given out: restarted in memory, or from an older journal), voids them
 * all; they start over at that store's cursor, and the relay drops what
 * it derived from the old seqs (the channel, the window). Every feed_ack
 * is fenced with the store id, so an ack already on its way when the store
 * was replaced is refused by the new one rather than moving its cursor.
 *
 * A plain value type, embedded in the relay: no allocation. Zero is a
 * relay that has read nothing from no known store.
 */
#ifndef HERALD_POSITION_H
#define HERALD_POSITION_H

#include "proto.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t next_from;   /* next seq to read; 0 = from the store's cursor */
    uint64_t confirmed;   /* highest seq confirmed with nothing missing below */
    uint64_t acked_sent;  /* highest seq sent in a feed_ack */
    uint64_t ack_rid;     /* rid of that feed_ack */
    bool has_store_id;    /* the store the positions belong to is known */
    uint8_t store_id[16]; /* valid when has_store_id */
} position_t;

/* The highest seq the relay holds a position at: read, confirmed or
   acknowledged. The store that gave it out has a head at least as high. */
uint64_t position_highest (const position_t *self);

/* Checks a feed_read reply answered ok against the store the positions
   belong to. Returns false when they still hold: the same store, the
   first one that names itself (its id is then adopted, and logged), or a
   reply that names no store, with a head at least as high as
   position_highest. Returns true, after logging which store and what was
   held, when they are void: another store_id, or a head behind them. They
   then start over at that store: confirmed and acked_sent at its cursor
   (reply->acked), next_from 0 (read from the cursor), its id recorded (or
   none, when the reply names none: feed_acks then go unfenced). The caller
   drops everything else derived from the old seqs. */
bool position_store_changed (position_t *self, const proto_reply_t *reply);

/* Takes in the cursor that a feed_read reply of the same store reports
   (after position_store_changed returned false): an ack the store never
   recorded (its cursor is behind acked_sent in the reply to a read sent
   after that ack: a store restarted from its journal before recording it)
   is due again, since only sending it again frees the feed; a relay that reads from the store's
   cursor (next_from 0) counts everything up to it as confirmed and acknowledged. */
void position_note_cursor (position_t *self, const proto_reply_t *reply);

/* RabbitMQ confirmed everything up to seq. Returns true when that moves
   confirmed forward. */
bool position_confirm (position_t *self, uint64_t seq);

/* True when confirmed is ahead of the last feed_ack sent. */
bool position_ack_due (const position_t *self);

/* A feed_ack of confirmed went out with request id rid. */
void position_ack_sent (position_t *self, uint64_t rid);

/* The store id that fences feed_acks (borrowed), NULL while none is known. */
const uint8_t *position_store_id (const position_t *self);

#endif
