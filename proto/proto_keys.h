/*
 * proto_keys — every MessagePack map key of the Herald wire protocol,
 * spelled once.
 *
 * The list is an X-macro so the key enum, the name table the decoders
 * match against and the strings the encoders write all come from the same
 * line: a key cannot be renamed in one direction only. Keys are short ASCII
 * strings; PROTOCOL.md documents which message carries which.
 */
#ifndef HERALD_PROTO_KEYS_H
#define HERALD_PROTO_KEYS_H

#define PROTO_KEYS(X)                                                                              \
    /* every map */                                                                                \
    X (V, "v")                                                                                     \
    X (OP, "op")                                                                                   \
    X (RID, "rid")                                                                                 \
    /* request fields */                                                                           \
    X (EVENT_ID, "event_id")                                                                       \
    X (USER_ID, "user_id")                                                                         \
    X (DESCRIPTION, "description")                                                                 \
    X (STATUS, "status")                                                                           \
    X (AFTER, "after")                                                                             \
    X (LIMIT, "limit")                                                                             \
    X (FROM, "from")                                                                               \
    X (MAX, "max")                                                                                 \
    X (SEQ, "seq")                                                                                 \
    /* reply fields ("status" is shared with the event) */                                         \
    X (MESSAGE, "message")                                                                         \
    X (FIELD, "field")                                                                             \
    X (EVENT, "event")                                                                             \
    X (ITEMS, "items")                                                                             \
    X (NEXT_AFTER, "next_after")                                                                   \
    X (CHANGES, "changes")                                                                         \
    X (ACKED, "acked")                                                                             \
    X (HEAD, "head")                                                                               \
    X (FEED_LEN, "feed_len")                                                                       \
    X (FEED_MAX, "feed_max")                                                                       \
    X (STATS, "stats")                                                                             \
    /* a batch: whole request frames, or their whole reply frames, in order */                     \
    X (FRAMES, "frames")                                                                           \
    /* a "moved" error reply: the slot's owner and the map's epoch */                              \
    X (ENDPOINT, "endpoint")                                                                       \
    X (EPOCH, "epoch")                                                                             \
    X (SLOT, "slot")                                                                               \
    /* the store's identity: in replies, feed_ack's fence, the journal header */                   \
    X (STORE_ID, "store_id")                                                                       \
    X (REQUEST_ID, "request_id")                                                                   \
    /* a page reply's receipt, and a list or feed_read that returns it */                          \
    X (RECEIPT, "receipt")                                                                         \
    /* change records and notifications */                                                         \
    X (KIND, "kind")                                                                               \
    X (TYPE, "type")                                                                               \
    /* the event map */                                                                            \
    X (CREATED_AT, "created_at")                                                                   \
    X (CREATED_US, "created_us")                                                                   \
    X (UPDATED_AT, "updated_at")                                                                   \
    /* journal records (proto_journal.h; also "store_id", above) */                                \
    X (FORMAT, "format")                                                                           \
    X (SLOTS, "slots")

typedef enum {
#define PROTO_KEY_ENUM(id, text) PROTO_KEY_##id,
    PROTO_KEYS (PROTO_KEY_ENUM)
#undef PROTO_KEY_ENUM
        PROTO_KEY_COUNT_
} proto_key_t;

#endif
