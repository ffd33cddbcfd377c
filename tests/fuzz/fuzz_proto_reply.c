/*
 * fuzz_proto_reply — proto_reply_decode on arbitrary bytes: what the
 * gateway and the notifier decode from their store sockets.
 *
 * Checks that failures explain themselves and leave nothing allocated
 * (LeakSanitizer), that a decoded reply's arrays respect the protocol's
 * bounds and its strings point into the input, and that re-encoding a
 * decoded reply gives a frame that decodes to the same counts and values;
 * and that the small-frame reader (no msgpack-c, wire_unpack_small) and
 * msgpack-c agree: the same result and error, and decoded replies that
 * re-encode to the same bytes. A "moved" reply's redirect (endpoint,
 * epoch, slot) is valid and survives the round trip. Every input is also
 * read as an ok batch reply (fuzz_batch.h).
 */
#include "fuzz_batch.h"
#include "fuzz_check.h"
#include "proto.h"
#include "proto_wire.h"
#include "shard_map.h"

#include <string.h>

static void
s_check_event (const proto_event_t *ev, const uint8_t *data, size_t size)
{
    FUZZ_CHECK (FUZZ_INSIDE (ev->user_id.ptr, ev->user_id.len, data, size));
    FUZZ_CHECK (FUZZ_INSIDE (ev->description.ptr, ev->description.len, data, size));
    FUZZ_CHECK (FUZZ_INSIDE (ev->status.ptr, ev->status.len, data, size));
    FUZZ_CHECK (proto_check_string (ev->status.ptr, ev->status.len, PROTO_LIMIT_CAP)
                == PROTO_STR_OK);
}

static void
s_same_event (const proto_event_t *a, const proto_event_t *b)
{
    FUZZ_CHECK (memcmp (a->id, b->id, 16) == 0);
    FUZZ_CHECK (a->user_id.len == b->user_id.len);
    FUZZ_CHECK (memcmp (a->user_id.ptr, b->user_id.ptr, a->user_id.len) == 0);
    FUZZ_CHECK (a->description.len == b->description.len);
    FUZZ_CHECK (a->created_at == b->created_at && a->updated_at == b->updated_at);
    FUZZ_CHECK (a->created_us == b->created_us && a->created_us <= PROTO_CREATED_US_MAX);
    FUZZ_CHECK (a->seq == b->seq);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_check_batch (data, size, true);
    proto_reply_t reply, generic;
    proto_error_t err, generic_err;
    proto_decode_t rc = proto_reply_decode (data, size, &reply, &err);
    wire_set_generic_only (true);
    FUZZ_CHECK (proto_reply_decode (data, size, &generic, &generic_err) == rc);
    wire_set_generic_only (false);
    FUZZ_CHECK (strcmp (err.message, generic_err.message) == 0);
    FUZZ_CHECK (strcmp (err.field, generic_err.field) == 0);
    if (rc == PROTO_DECODE_OK) {
        FUZZ_SAME_ENCODING (proto_reply_encode, &reply, &generic);
        proto_reply_clear (&generic);
    }
    if (rc != PROTO_DECODE_OK) {
        FUZZ_CHECK (err.message[0] != '\0');
        FUZZ_CHECK (reply.items == NULL && reply.changes == NULL && reply.stats == NULL);
        return 0;
    }
    FUZZ_CHECK (reply.n_items <= PROTO_LIST_LIMIT_MAX);
    FUZZ_CHECK (reply.n_changes <= PROTO_FEED_READ_MAX);
    FUZZ_CHECK (reply.n_stats <= PROTO_STATS_MAX);
    if (reply.status == PROTO_OK && reply.op >= PROTO_OP_CREATE && reply.op <= PROTO_OP_UPDATE)
        s_check_event (&reply.event, data, size);
    for (size_t i = 0; i < reply.n_items; i++)
        s_check_event (&reply.items[i], data, size);
    for (size_t i = 0; i < reply.n_changes; i++)
        s_check_event (&reply.changes[i].event, data, size);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    FUZZ_CHECK (proto_reply_encode (&reply, &sb) == 0);
    proto_reply_t again;
    FUZZ_CHECK (proto_reply_decode (sb.data, sb.size, &again, &err) == PROTO_DECODE_OK);
    FUZZ_CHECK (again.op == reply.op && again.rid == reply.rid && again.status == reply.status);
    FUZZ_CHECK (again.n_items == reply.n_items && again.n_changes == reply.n_changes);
    FUZZ_CHECK (again.n_stats == reply.n_stats && again.has_next_after == reply.has_next_after);
    FUZZ_CHECK (again.acked == reply.acked && again.head == reply.head);
    FUZZ_CHECK (again.has_store_id == reply.has_store_id);
    FUZZ_CHECK (!again.has_store_id || memcmp (again.store_id, reply.store_id, 16) == 0);
    if (reply.status == PROTO_E_MOVED) {
        FUZZ_CHECK (shard_map_endpoint_valid (reply.moved.endpoint.ptr, reply.moved.endpoint.len));
        FUZZ_CHECK (FUZZ_INSIDE (reply.moved.endpoint.ptr, reply.moved.endpoint.len, data, size));
        FUZZ_CHECK (reply.moved.slot < SHARD_MAP_SLOTS);
        FUZZ_CHECK (again.moved.endpoint.len == reply.moved.endpoint.len);
        FUZZ_CHECK (
            memcmp (again.moved.endpoint.ptr, reply.moved.endpoint.ptr, reply.moved.endpoint.len)
            == 0);
        FUZZ_CHECK (again.moved.epoch == reply.moved.epoch);
        FUZZ_CHECK (again.moved.slot == reply.moved.slot);
    }
    if (reply.status == PROTO_OK && reply.op >= PROTO_OP_CREATE && reply.op <= PROTO_OP_UPDATE)
        s_same_event (&again.event, &reply.event);
    for (size_t i = 0; i < reply.n_items; i++)
        s_same_event (&again.items[i], &reply.items[i]);
    for (size_t i = 0; i < reply.n_changes; i++) {
        FUZZ_CHECK (again.changes[i].seq == reply.changes[i].seq);
        FUZZ_CHECK (again.changes[i].kind == reply.changes[i].kind);
        s_same_event (&again.changes[i].event, &reply.changes[i].event);
    }
    for (size_t i = 0; i < reply.n_stats; i++)
        FUZZ_CHECK (again.stats[i].value == reply.stats[i].value);
    proto_reply_clear (&again);
    proto_reply_clear (&reply);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
