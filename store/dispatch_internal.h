/*
 * dispatch_internal — what dispatch.c (the handlers and their table) and
 * dispatch_frame.c (a frame's way through them: decode, checks, handler,
 * feed, journal, encode, counters) share: the dispatcher's state and the
 * command table. Not for the rest of the store, which goes by dispatch.h.
 */
#ifndef HERALD_DISPATCH_INTERNAL_H
#define HERALD_DISPATCH_INTERNAL_H

#include "dispatch.h"

#include <stdbool.h>

#define DISPATCH_CMD_WRITE 1u     /* takes a feed slot; refused when the feed is full */
#define DISPATCH_CMD_JOURNALED 2u /* changes journaled state; refused while writes are */
#define DISPATCH_CMD_GROWS 4u     /* adds an event; refused when the store is full */
#define DISPATCH_CMD_KEYED 8u     /* names an event by id: moved when its slot is not ours */

struct _dispatch_t {
    event_table_t *table;
    feed_t *feed;
    proto_limits_t limits;
    dispatch_counters_t counters;
    dispatch_change_fn *on_change;
    void *on_change_arg;
    dispatch_journal_fn *on_journal;
    void *on_journal_arg;
    dispatch_stats_fn *on_stats;
    void *on_stats_arg;
    dispatch_receipt_fn *on_receipt;
    void *on_receipt_arg;
    char refusal[256];              /* non-empty: writes refused with this message */
    uint64_t durable;               /* highest seq feed_read may hand out */
    uint64_t max_events, max_bytes; /* the store's caps; 0 = none */
    size_t reply_budget;            /* bytes a list / feed_read reply may take */
    uint64_t handed_upto;           /* highest seq a feed_read reply gave out */
    /* The frame being handled: its op and reply status, for the counters. */
    proto_op_t last_op;
    proto_status_t last_status;
    prom_histogram_t op_latency[PROTO_OP_COUNT_];
    /* Result of the current write handler. */
    uint32_t changed;
    proto_change_kind_t changed_kind;
    /* Reply arrays, sized for the largest reply. */
    uint32_t indices[PROTO_LIST_LIMIT_MAX];
    proto_event_t items[PROTO_LIST_LIMIT_MAX];
    feed_record_t records[PROTO_FEED_READ_MAX];
    proto_change_t changes[PROTO_FEED_READ_MAX];
    proto_stat_t stats[48];
    char message[160];
    uint8_t id_pool[4096]; /* kernel randomness for new ids */
    size_t id_pool_used;
    uint8_t next_id[16]; /* the next create's id, when next_id_ready (dispatch.c) */
    bool next_id_ready;
    uint8_t store_id[16];   /* this store's identity (PROTOCOL.md §4.1) */
    shard_map_t *shard_map; /* NULL: unsharded, every id is ours */
    size_t shard;           /* our shard id in shard_map */
    /* A batch being handled (dispatch_frame.c): its frames, borrowed from
       the request, and each one's reply before it is wrapped. */
    proto_str_t batch_frames[PROTO_BATCH_MAX];
    msgpack_sbuffer batch_reply;
};

typedef proto_status_t (dispatch_handler_fn) (dispatch_t *self, const proto_request_t *req,
                                              proto_reply_t *reply);

typedef struct {
    dispatch_handler_fn *handler;
    unsigned required; /* PROTO_HAS_* bits */
    unsigned flags;    /* DISPATCH_CMD_* */
} dispatch_command_t;

/* Indexed by op; an entry without a handler is an op the store does not
   serve. */
extern const dispatch_command_t dispatch_commands[PROTO_OP_COUNT_];

/* Encodes an error reply into out and counts it. */
void dispatch_encode_error (dispatch_t *self, proto_op_t op, uint64_t rid, proto_status_t status,
                            const char *message, const char *field, msgpack_sbuffer *out);

#endif
