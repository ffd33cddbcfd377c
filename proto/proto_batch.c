/*
 * proto_batch — the batch envelope (see proto.h, PROTOCOL.md §3.1): whole
 * request frames in, whole reply frames out, as binary elements of
 * "frames".
 *
 * Why frames as bytes rather than nested maps: each frame in a batch is
 * then exactly the frame a client would send alone, checked by the same
 * decoder with the same errors, and the store answers each with the same
 * reply bytes; the envelope adds 2 to 5 bytes per frame, and decoding it
 * is one pass over the binary headers, no per-frame map. A client adds
 * batching by wrapping what it already encodes.
 */
#include "proto_wire.h"
#include "shard_map.h"

#include <string.h>

#define S_ENVELOPE_MAX 64  /* the envelope's map, keys, rid and array header */
#define S_REPLY_FIXED 1024 /* a point reply's keys, numbers, id, timestamps */
#define S_BIN_HEADER_MAX 5

bool
proto_batch_allows (proto_op_t op)
{
    return op == PROTO_OP_PING || op == PROTO_OP_CREATE || op == PROTO_OP_GET
           || op == PROTO_OP_UPDATE;
}

size_t
proto_batch_max (const proto_limits_t *limits)
{
    proto_limits_t defaults = proto_limits_default ();
    if (!limits)
        limits = &defaults;
    /* The largest reply a point operation can get: an event with every
       string at its limit, or an error with the longest message and a
       moved redirect. Both are counted, which is generous. */
    size_t reply_max = S_REPLY_FIXED + limits->user_id_max + limits->description_max
                       + limits->status_max + PROTO_REQUEST_ID_MAX + PROTO_MESSAGE_MAX
                       + SHARD_MAP_ENDPOINT_MAX + 6 * S_BIN_HEADER_MAX;
    size_t fits = (PROTO_FRAME_MAX - S_ENVELOPE_MAX) / (reply_max + S_BIN_HEADER_MAX);
    if (fits > PROTO_BATCH_MAX)
        return PROTO_BATCH_MAX;
    return fits ? fits : 1;
}

int
proto_batch_begin (uint64_t rid, bool is_reply, size_t n, msgpack_sbuffer *out)
{
    if (n == 0 || n > PROTO_BATCH_MAX)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = wire_pack_head (&pk, is_reply ? 5 : 4, proto_op_name (PROTO_OP_BATCH), rid,
                             is_reply ? proto_status_name (PROTO_OK) : NULL);
    rc |= wire_pack_key (&pk, PROTO_KEY_FRAMES);
    rc |= msgpack_pack_array (&pk, (uint32_t)n);
    return rc ? -1 : 0;
}

int
proto_batch_append (const void *frame, size_t len, msgpack_sbuffer *out)
{
    if (len == 0 || len > PROTO_FRAME_MAX)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    if (msgpack_pack_bin (&pk, len) != 0 || msgpack_pack_bin_body (&pk, frame, len) != 0)
        return -1;
    return 0;
}

static proto_decode_t
s_decode (const msgpack_object *root, bool is_reply, size_t max, uint64_t *rid, proto_str_t *frames,
          size_t *n, proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (root, is_reply ? "reply" : "request", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if ((rc = wire_version (&m, err)) != PROTO_DECODE_OK)
        return rc;
    const msgpack_object *o = wire_present (&m, PROTO_KEY_RID);
    if (!o)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_RID, "field 'rid' is required");
    if ((rc = wire_read_uint (o, PROTO_KEY_RID, rid, err)) != PROTO_DECODE_OK)
        return rc;
    err->rid = *rid;
    err->has_rid = true;
    proto_str_t text;
    if (!(o = wire_present (&m, PROTO_KEY_OP)))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_OP, "field 'op' is required");
    if ((rc = wire_read_str (o, PROTO_KEY_OP, &text, err)) != PROTO_DECODE_OK)
        return rc;
    if (proto_op_lookup (text.ptr, text.len) != PROTO_OP_BATCH)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_OP, "not a batch");
    if (is_reply) {
        if (!(o = wire_present (&m, PROTO_KEY_STATUS)))
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATUS,
                              "field 'status' is required");
        if ((rc = wire_read_str (o, PROTO_KEY_STATUS, &text, err)) != PROTO_DECODE_OK)
            return rc;
        if (text.len != 2 || memcmp (text.ptr, "ok", 2) != 0)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATUS,
                              "not an ok batch reply");
    }
    if (!(o = wire_present (&m, PROTO_KEY_FRAMES)))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_FRAMES,
                          "field 'frames' is required");
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_FRAMES,
                          "field 'frames': not an array");
    const msgpack_object_array *a = &o->via.array;
    if (a->size == 0 || a->size > max)
        return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_FRAMES,
                          "field 'frames': %u frames, not 1..%zu", (unsigned)a->size, max);
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *f = &a->ptr[i];
        if (f->type != MSGPACK_OBJECT_BIN || f->via.bin.size == 0)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_FRAMES,
                              "field 'frames': element %u is not a non-empty binary", i);
        frames[i] = (proto_str_t){ f->via.bin.ptr, f->via.bin.size };
    }
    *n = a->size;
    return PROTO_DECODE_OK;
}

proto_decode_t
proto_batch_decode (const void *buf, size_t len, bool is_reply, size_t max, uint64_t *rid,
                    proto_str_t *frames, size_t *n, proto_error_t *err)
{
    proto_error_t scratch;
    err = wire_error_begin (err, &scratch);
    *rid = 0;
    *n = 0;
    if (max == 0 || max > PROTO_BATCH_MAX)
        max = PROTO_BATCH_MAX;
    wire_pool_t pool;
    msgpack_unpacked unpacked;
    const msgpack_object *root;
    /* A frame nested in a batch is a scalar (bytes): the envelope is map →
       array → bin, within a request's depth. */
    proto_decode_t rc =
        wire_unpack_any (buf, len, WIRE_DEPTH_REQUEST, &pool, &unpacked, &root, err);
    if (rc == PROTO_DECODE_OK)
        rc = s_decode (root, is_reply, max, rid, frames, n, err);
    msgpack_unpacked_destroy (&unpacked);
    if (rc != PROTO_DECODE_OK)
        *n = 0;
    return rc;
}
