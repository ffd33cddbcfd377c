/*
 * proto_journal — the payload of herald-store's journal records, the
 * on-disk message family (store/journal.c frames each payload with its
 * length, CRC32C and sequence number; this is what sits inside).
 *
 * A payload is one MessagePack map, like every other message of Herald,
 * with "v" and a "type":
 *   header   first record of every journal file: "format" and the store's
 *            identity "store_id" (a UUID made with the data dir)
 *   created  a create; "event" is the event as created (its seq = the
 *            record's)
 *   updated  an update; "event" is the whole event after it (so replay does
 *            not depend on what the update's request said)
 *   ack      the feed cursor moved to the record's seq
 *   event    snapshot: one live event as it stands (creation order)
 *   feed     snapshot: the feed's cursor "acked" and "head"
 *   tail     snapshot: the unacknowledged feed records from "from" on, as
 *            a bin of 4-byte little-endian slots (event index, top bit set
 *            for an update)
 * Self-describing maps cost a few dozen bytes a record over a fixed layout;
 * in exchange a journal is readable by any MessagePack tool and decoded by
 * the same checked readers as the wire protocol.
 *
 * The decoder takes untrusted bytes (a journal can be damaged or forged):
 * strings borrowed from buf, every field checked, strings against
 * PROTO_LIMIT_CAP (the store applies its own limits on input).
 */
#ifndef HERALD_PROTO_JOURNAL_H
#define HERALD_PROTO_JOURNAL_H

#include "proto.h"

#define PROTO_JOURNAL_FORMAT 2      /* 1: written before commit records; both are read */
#define PROTO_JOURNAL_TAIL_MAX 4096 /* slots per tail record */

typedef enum {
    PROTO_JOURNAL_HEADER = 1,
    PROTO_JOURNAL_CREATED,
    PROTO_JOURNAL_UPDATED,
    PROTO_JOURNAL_ACK,
    PROTO_JOURNAL_EVENT,
    PROTO_JOURNAL_FEED,
    PROTO_JOURNAL_TAIL,
    PROTO_JOURNAL_TYPE_COUNT_
} proto_journal_type_t;

typedef struct {
    proto_journal_type_t type;
    uint64_t format;      /* header */
    uint8_t store_id[16]; /* header */
    proto_event_t event;  /* created, updated, event */
    uint64_t acked;       /* feed */
    uint64_t head;        /* feed */
    uint64_t from;        /* tail: seq of the first slot */
    const uint8_t *slots; /* tail: n_slots * 4 bytes, borrowed */
    size_t n_slots;
} proto_journal_record_t;

/* Wire name of a record type ("header", "created", ...), "?" if invalid. */
const char *proto_journal_type_name (proto_journal_type_t type);

/* Appends the encoding of rec to out. Returns 0, or -1 on allocation
   failure or an invalid type. */
int proto_journal_encode (const proto_journal_record_t *rec, msgpack_sbuffer *out);

/* Decodes one payload. On success fills rec (strings and slots borrowed
   from buf). Unknown keys are ignored; a missing or mistyped field of the
   record's type, an unknown type, a format other than
   PROTO_JOURNAL_FORMAT, a tail that is not whole slots or holds more than
   PROTO_JOURNAL_TAIL_MAX, are errors with the reason in err. */
proto_decode_t proto_journal_decode (const void *buf, size_t len, proto_journal_record_t *rec,
                                     proto_error_t *err);

#endif
