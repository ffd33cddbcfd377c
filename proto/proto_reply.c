/*
 * proto_reply — the store reply codec and the AMQP notification codec.
 *
 * A reply always carries "v", "op" (nil when the request's op could not be
 * determined), "rid" and "status". An error reply adds "message" and
 * optionally "field"; a success reply adds exactly the members its op
 * defines (see proto.h and PROTOCOL.md). Replies are untrusted on the
 * receiving side too, so the decoder checks them as hard as requests: every
 * string of an event is validated (against PROTO_LIMIT_CAP, the largest
 * limit any deployment can set), arrays are bounded by the protocol's own
 * maxima, and the arrays it allocates are released on every failure path.
 *
 * Any success reply may also carry the store's identity, "store_id"
 * (PROTOCOL.md §4.1): optional on the wire so that a reply without it still
 * decodes (identity unknown), but a present value that is not a canonical
 * UUID makes the whole reply malformed — a client that keeps state about
 * the store must never mistake garbage for a change of store.
 *
 * A "moved" error reply (a sharded store asked about an id in a slot it
 * does not own) also carries "endpoint", "epoch" and "slot", all required:
 * a client that follows the redirect must never connect to garbage.
 */
#include "proto_wire.h"
#include "shard_map.h"

#include <stdlib.h>
#include <string.h>

static const proto_limits_t s_reply_limits = {
    PROTO_LIMIT_CAP,
    PROTO_LIMIT_CAP,
    PROTO_LIMIT_CAP,
};

/* ---- Encoding ------------------------------------------------------------ */

/* Members of a success reply beyond the four common ones. */
static uint32_t
s_body_entries (const proto_reply_t *reply)
{
    switch (reply->op) {
    case PROTO_OP_CREATE:
    case PROTO_OP_GET:
    case PROTO_OP_UPDATE:
    case PROTO_OP_FEED_ACK:
    case PROTO_OP_STATS:
        return 1;
    case PROTO_OP_LIST:
        return 2;
    case PROTO_OP_FEED_READ:
        return 5;
    default:
        return 0;
    }
}

static int
s_pack_body (msgpack_packer *pk, const proto_reply_t *reply)
{
    int rc = 0;
    switch (reply->op) {
    case PROTO_OP_CREATE:
    case PROTO_OP_GET:
    case PROTO_OP_UPDATE:
        rc |= wire_pack_key (pk, PROTO_KEY_EVENT);
        rc |= wire_pack_event (pk, &reply->event);
        break;
    case PROTO_OP_LIST:
        rc |= wire_pack_key (pk, PROTO_KEY_ITEMS);
        rc |= msgpack_pack_array (pk, reply->n_items);
        for (size_t i = 0; i < reply->n_items; i++)
            rc |= wire_pack_event (pk, &reply->items[i]);
        rc |= wire_pack_key (pk, PROTO_KEY_NEXT_AFTER);
        rc |=
            reply->has_next_after ? wire_pack_uuid (pk, reply->next_after) : msgpack_pack_nil (pk);
        break;
    case PROTO_OP_FEED_READ:
        rc |= wire_pack_key (pk, PROTO_KEY_CHANGES);
        rc |= msgpack_pack_array (pk, reply->n_changes);
        for (size_t i = 0; i < reply->n_changes; i++) {
            const proto_change_t *c = &reply->changes[i];
            rc |= msgpack_pack_map (pk, 3);
            rc |= wire_pack_key (pk, PROTO_KEY_SEQ);
            rc |= msgpack_pack_uint64 (pk, c->seq);
            rc |= wire_pack_key (pk, PROTO_KEY_KIND);
            rc |= wire_pack_cstr (pk, proto_change_kind_name (c->kind));
            rc |= wire_pack_key (pk, PROTO_KEY_EVENT);
            rc |= wire_pack_event (pk, &c->event);
        }
        rc |= wire_pack_key (pk, PROTO_KEY_ACKED);
        rc |= msgpack_pack_uint64 (pk, reply->acked);
        rc |= wire_pack_key (pk, PROTO_KEY_HEAD);
        rc |= msgpack_pack_uint64 (pk, reply->head);
        rc |= wire_pack_key (pk, PROTO_KEY_FEED_LEN);
        rc |= msgpack_pack_uint64 (pk, reply->feed_len);
        rc |= wire_pack_key (pk, PROTO_KEY_FEED_MAX);
        rc |= msgpack_pack_uint64 (pk, reply->feed_max);
        break;
    case PROTO_OP_FEED_ACK:
        rc |= wire_pack_key (pk, PROTO_KEY_ACKED);
        rc |= msgpack_pack_uint64 (pk, reply->acked);
        break;
    case PROTO_OP_STATS:
        rc |= wire_pack_key (pk, PROTO_KEY_STATS);
        rc |= msgpack_pack_map (pk, reply->n_stats);
        for (size_t i = 0; i < reply->n_stats; i++) {
            rc |= wire_pack_str (pk, reply->stats[i].name);
            rc |= msgpack_pack_uint64 (pk, reply->stats[i].value);
        }
        break;
    default:
        break;
    }
    return rc;
}

int
proto_reply_encode (const proto_reply_t *reply, msgpack_sbuffer *out)
{
    if ((unsigned)reply->status >= PROTO_E_COUNT_ || (unsigned)reply->op >= PROTO_OP_COUNT_)
        return -1;
    if (reply->status == PROTO_E_MOVED
        && (!shard_map_endpoint_valid (reply->moved.endpoint.ptr, reply->moved.endpoint.len)
            || reply->moved.slot >= SHARD_MAP_SLOTS))
        return -1; /* what the decoder would refuse */
    bool ok = reply->status == PROTO_OK;
    uint32_t entries = 4;
    if (ok)
        entries +=
            s_body_entries (reply) + (reply->has_store_id ? 1 : 0) + (reply->has_receipt ? 1 : 0);
    else
        entries += (reply->message.ptr != NULL) + (reply->field.ptr != NULL)
                   + (reply->status == PROTO_E_MOVED ? 3 : 0);
    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc =
        wire_pack_head (&pk, entries, reply->op == PROTO_OP_NONE ? NULL : proto_op_name (reply->op),
                        reply->rid, proto_status_name (reply->status));
    if (ok) {
        rc |= s_pack_body (&pk, reply);
        if (reply->has_store_id) {
            rc |= wire_pack_key (&pk, PROTO_KEY_STORE_ID);
            rc |= wire_pack_uuid (&pk, reply->store_id);
        }
        if (reply->has_receipt) {
            rc |= wire_pack_key (&pk, PROTO_KEY_RECEIPT);
            rc |= wire_pack_receipt (&pk, reply->receipt);
        }
    } else {
        if (reply->message.ptr) {
            rc |= wire_pack_key (&pk, PROTO_KEY_MESSAGE);
            rc |= wire_pack_str (&pk, reply->message);
        }
        if (reply->field.ptr) {
            rc |= wire_pack_key (&pk, PROTO_KEY_FIELD);
            rc |= wire_pack_str (&pk, reply->field);
        }
        if (reply->status == PROTO_E_MOVED) {
            rc |= wire_pack_key (&pk, PROTO_KEY_ENDPOINT);
            rc |= wire_pack_str (&pk, reply->moved.endpoint);
            rc |= wire_pack_key (&pk, PROTO_KEY_EPOCH);
            rc |= msgpack_pack_uint64 (&pk, reply->moved.epoch);
            rc |= wire_pack_key (&pk, PROTO_KEY_SLOT);
            rc |= msgpack_pack_uint32 (&pk, reply->moved.slot);
        }
    }
    if (rc != 0) {
        out->size = start;
        return -1;
    }
    return 0;
}

int
proto_reply_encode_error (proto_op_t op, uint64_t rid, proto_status_t status, const char *message,
                          const char *field, msgpack_sbuffer *out)
{
    proto_reply_t reply;
    memset (&reply, 0, sizeof reply);
    reply.op = op;
    reply.rid = rid;
    reply.status = status;
    if (message)
        reply.message = (proto_str_t){ message, strlen (message) };
    if (field)
        reply.field = (proto_str_t){ field, strlen (field) };
    return proto_reply_encode (&reply, out);
}

/* ---- Decoding ------------------------------------------------------------ */

void
proto_reply_clear (proto_reply_t *reply)
{
    if (!reply)
        return;
    free (reply->items);
    free (reply->changes);
    free (reply->stats);
    memset (reply, 0, sizeof *reply);
}

/* A required array member of at most max elements. */
static proto_decode_t
s_array (const wire_map_t *m, proto_key_t key, size_t max, const msgpack_object_array **out,
         proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, key);
    if (!o)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s' is required",
                          wire_key_name (key));
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s': expected array",
                          wire_key_name (key));
    if (o->via.array.size > max)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s': more than %zu elements",
                          wire_key_name (key), max);
    *out = &o->via.array;
    return PROTO_DECODE_OK;
}

/* A required unsigned member. */
static proto_decode_t
s_uint (const wire_map_t *m, proto_key_t key, uint64_t *out, proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, key);
    if (!o)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key, "field '%s' is required",
                          wire_key_name (key));
    proto_decode_t rc = wire_read_uint (o, key, out, err);
    return rc == PROTO_DECODE_OK ? rc : PROTO_DECODE_MALFORMED;
}

static void *
s_calloc (size_t n, size_t size)
{
    return n ? calloc (n, size) : NULL;
}

static proto_decode_t
s_decode_change (const msgpack_object *o, proto_change_t *c, proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (o, "change", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if ((rc = s_uint (&m, PROTO_KEY_SEQ, &c->seq, err)) != PROTO_DECODE_OK)
        return rc;
    const msgpack_object *kind = wire_present (&m, PROTO_KEY_KIND);
    proto_str_t name;
    if (!kind || wire_read_str (kind, PROTO_KEY_KIND, &name, err) != PROTO_DECODE_OK)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_KIND,
                          "change: field 'kind' must be \"created\" or \"updated\"");
    if (name.len == 7 && memcmp (name.ptr, "created", 7) == 0)
        c->kind = PROTO_CHANGE_CREATED;
    else if (name.len == 7 && memcmp (name.ptr, "updated", 7) == 0)
        c->kind = PROTO_CHANGE_UPDATED;
    else
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_KIND,
                          "change: field 'kind' must be \"created\" or \"updated\"");
    const msgpack_object *ev = wire_present (&m, PROTO_KEY_EVENT);
    if (!ev)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_EVENT,
                          "change: field 'event' is required");
    return wire_event_decode (ev, &s_reply_limits, &c->event, err);
}

static proto_decode_t
s_decode_stats (const wire_map_t *m, proto_reply_t *reply, proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, PROTO_KEY_STATS);
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS,
                          "field 'stats': expected map");
    const msgpack_object_map *map = &o->via.map;
    if (map->size > PROTO_STATS_MAX)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS,
                          "field 'stats': more than %d counters", PROTO_STATS_MAX);
    reply->stats = s_calloc (map->size, sizeof *reply->stats);
    if (map->size && !reply->stats)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS, "out of memory");
    for (uint32_t i = 0; i < map->size; i++) {
        proto_stat_t *stat = &reply->stats[i];
        const msgpack_object *k = &map->ptr[i].key, *v = &map->ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR
            || proto_check_string (k->via.str.ptr, k->via.str.size, 64) != PROTO_STR_OK)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS,
                              "field 'stats': counter names must be strings of 1 to 64 bytes");
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS,
                              "field 'stats': counter values must be unsigned integers");
        stat->name = (proto_str_t){ k->via.str.ptr, k->via.str.size };
        stat->value = v->via.u64;
        for (uint32_t j = 0; j < i; j++)
            if (reply->stats[j].name.len == stat->name.len
                && memcmp (reply->stats[j].name.ptr, stat->name.ptr, stat->name.len) == 0)
                return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATS,
                                  "field 'stats': duplicate counter");
    }
    reply->n_stats = map->size;
    return PROTO_DECODE_OK;
}

static proto_decode_t
s_decode_body (const wire_map_t *m, proto_reply_t *reply, proto_error_t *err)
{
    proto_decode_t rc = PROTO_DECODE_OK;
    const msgpack_object_array *array;
    const msgpack_object *o;
    switch (reply->op) {
    case PROTO_OP_CREATE:
    case PROTO_OP_GET:
    case PROTO_OP_UPDATE:
        if (!(o = wire_present (m, PROTO_KEY_EVENT)))
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_EVENT,
                              "field 'event' is required");
        return wire_event_decode (o, &s_reply_limits, &reply->event, err);
    case PROTO_OP_LIST:
        if ((rc = s_array (m, PROTO_KEY_ITEMS, PROTO_LIST_LIMIT_MAX, &array, err)))
            return rc;
        reply->items = s_calloc (array->size, sizeof *reply->items);
        if (array->size && !reply->items)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_ITEMS, "out of memory");
        reply->n_items = array->size;
        for (uint32_t i = 0; i < array->size; i++)
            if ((rc = wire_event_decode (&array->ptr[i], &s_reply_limits, &reply->items[i], err)))
                return rc;
        if ((o = wire_present (m, PROTO_KEY_NEXT_AFTER))) {
            if ((rc = wire_read_uuid (o, PROTO_KEY_NEXT_AFTER, reply->next_after, err)))
                return rc;
            reply->has_next_after = true;
        }
        return PROTO_DECODE_OK;
    case PROTO_OP_FEED_READ:
        if ((rc = s_array (m, PROTO_KEY_CHANGES, PROTO_FEED_READ_MAX, &array, err)))
            return rc;
        reply->changes = s_calloc (array->size, sizeof *reply->changes);
        if (array->size && !reply->changes)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_CHANGES, "out of memory");
        reply->n_changes = array->size;
        for (uint32_t i = 0; i < array->size; i++)
            if ((rc = s_decode_change (&array->ptr[i], &reply->changes[i], err)))
                return rc;
        if ((rc = s_uint (m, PROTO_KEY_ACKED, &reply->acked, err))
            || (rc = s_uint (m, PROTO_KEY_HEAD, &reply->head, err))
            || (rc = s_uint (m, PROTO_KEY_FEED_LEN, &reply->feed_len, err))
            || (rc = s_uint (m, PROTO_KEY_FEED_MAX, &reply->feed_max, err)))
            return rc;
        return PROTO_DECODE_OK;
    case PROTO_OP_FEED_ACK:
        return s_uint (m, PROTO_KEY_ACKED, &reply->acked, err);
    case PROTO_OP_STATS:
        return s_decode_stats (m, reply, err);
    default:
        return PROTO_DECODE_OK;
    }
}

/* An optional string of an error reply; absent stays PROTO_STR_NONE. */
static proto_decode_t
s_error_text (const wire_map_t *m, proto_key_t key, proto_str_t *out, proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, key);
    if (!o)
        return PROTO_DECODE_OK;
    proto_decode_t rc = wire_read_str (o, key, out, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    proto_str_check_t check = proto_check_string (out->ptr, out->len, PROTO_MESSAGE_MAX);
    if (check != PROTO_STR_OK && check != PROTO_STR_EMPTY)
        return wire_fail (err, PROTO_DECODE_MALFORMED, key,
                          "field '%s': not a valid string of at most %d bytes", wire_key_name (key),
                          PROTO_MESSAGE_MAX);
    /* Present but empty: msgpack-c and the small-frame reader may give it a
       NULL pointer, which the encoder reads as "absent". Keep it present. */
    if (out->len == 0)
        out->ptr = "";
    return PROTO_DECODE_OK;
}

/* The redirect of a "moved" reply: every member required and checked. */
static proto_decode_t
s_decode_moved (const wire_map_t *m, proto_reply_t *reply, proto_error_t *err)
{
    const msgpack_object *o = wire_present (m, PROTO_KEY_ENDPOINT);
    proto_decode_t rc;
    if (!o)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_ENDPOINT,
                          "field 'endpoint' is required");
    if ((rc = wire_read_str (o, PROTO_KEY_ENDPOINT, &reply->moved.endpoint, err)))
        return rc;
    if (!shard_map_endpoint_valid (reply->moved.endpoint.ptr, reply->moved.endpoint.len))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_ENDPOINT,
                          "field 'endpoint': not tcp://HOST:PORT or ipc://PATH");
    uint64_t slot;
    if ((rc = s_uint (m, PROTO_KEY_EPOCH, &reply->moved.epoch, err))
        || (rc = s_uint (m, PROTO_KEY_SLOT, &slot, err)))
        return rc;
    if (slot >= SHARD_MAP_SLOTS)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_SLOT, "field 'slot': not below %d",
                          SHARD_MAP_SLOTS);
    reply->moved.slot = (uint32_t)slot;
    return PROTO_DECODE_OK;
}

static proto_decode_t
s_decode_reply (const msgpack_object *root, proto_reply_t *reply, proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (root, "reply", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if ((rc = wire_version (&m, err)) != PROTO_DECODE_OK)
        return rc;
    const msgpack_object *o;
    if ((rc = s_uint (&m, PROTO_KEY_RID, &reply->rid, err)))
        return rc;
    err->rid = reply->rid;
    err->has_rid = true;
    proto_str_t name;
    if ((o = wire_present (&m, PROTO_KEY_OP))) {
        if ((rc = wire_read_str (o, PROTO_KEY_OP, &name, err)))
            return rc;
        if ((reply->op = proto_op_lookup (name.ptr, name.len)) == PROTO_OP_NONE)
            return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_OP, "reply: unknown op");
    }
    if (!(o = wire_present (&m, PROTO_KEY_STATUS)))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATUS,
                          "field 'status' is required");
    if ((rc = wire_read_str (o, PROTO_KEY_STATUS, &name, err)))
        return rc;
    if (proto_status_lookup (name.ptr, name.len, &reply->status) != 0)
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_STATUS, "reply: unknown status");
    if (reply->status != PROTO_OK) {
        if ((rc = s_error_text (&m, PROTO_KEY_MESSAGE, &reply->message, err))
            || (rc = s_error_text (&m, PROTO_KEY_FIELD, &reply->field, err)))
            return rc;
        return reply->status == PROTO_E_MOVED ? s_decode_moved (&m, reply, err) : PROTO_DECODE_OK;
    }
    if ((o = wire_present (&m, PROTO_KEY_STORE_ID))) {
        if (wire_read_uuid (o, PROTO_KEY_STORE_ID, reply->store_id, err) != PROTO_DECODE_OK)
            return PROTO_DECODE_MALFORMED; /* err says why */
        reply->has_store_id = true;
    }
    if ((o = wire_present (&m, PROTO_KEY_RECEIPT))) {
        if (wire_read_receipt (o, PROTO_KEY_RECEIPT, reply->receipt, err) != PROTO_DECODE_OK)
            return PROTO_DECODE_MALFORMED; /* err says why */
        reply->has_receipt = true;
    }
    return s_decode_body (&m, reply, err);
}

proto_decode_t
proto_reply_decode (const void *buf, size_t len, proto_reply_t *reply, proto_error_t *err)
{
    proto_error_t scratch;
    err = wire_error_begin (err, &scratch);
    memset (reply, 0, sizeof *reply);
    wire_pool_t pool;
    msgpack_unpacked unpacked;
    const msgpack_object *root;
    proto_decode_t rc = wire_unpack_any (buf, len, WIRE_DEPTH_REPLY, &pool, &unpacked, &root, err);
    if (rc == PROTO_DECODE_OK)
        rc = s_decode_reply (root, reply, err);
    msgpack_unpacked_destroy (&unpacked);
    if (rc != PROTO_DECODE_OK)
        proto_reply_clear (reply);
    return rc;
}

/* ---- Notifications ------------------------------------------------------- */

int
proto_notification_encode (const proto_change_t *n, msgpack_sbuffer *out)
{
    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 4);
    rc |= wire_pack_key (&pk, PROTO_KEY_V);
    rc |= msgpack_pack_uint8 (&pk, PROTO_VERSION);
    rc |= wire_pack_key (&pk, PROTO_KEY_SEQ);
    rc |= msgpack_pack_uint64 (&pk, n->seq);
    rc |= wire_pack_key (&pk, PROTO_KEY_TYPE);
    rc |= wire_pack_cstr (&pk, proto_change_routing_key (n->kind));
    rc |= wire_pack_key (&pk, PROTO_KEY_EVENT);
    rc |= wire_pack_event (&pk, &n->event);
    if (rc != 0) {
        out->size = start;
        return -1;
    }
    return 0;
}

int
proto_feed_ring_encode (uint64_t head, msgpack_sbuffer *out)
{
    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 3);
    rc |= wire_pack_key (&pk, PROTO_KEY_V);
    rc |= msgpack_pack_uint8 (&pk, PROTO_VERSION);
    rc |= wire_pack_key (&pk, PROTO_KEY_TYPE);
    rc |= wire_pack_cstr (&pk, PROTO_FEED_TOPIC);
    rc |= wire_pack_key (&pk, PROTO_KEY_HEAD);
    rc |= msgpack_pack_uint64 (&pk, head);
    if (rc != 0) {
        out->size = start;
        return -1;
    }
    return 0;
}

static proto_decode_t
s_decode_notification (const msgpack_object *root, const proto_limits_t *limits, proto_change_t *n,
                       proto_error_t *err)
{
    wire_map_t m;
    proto_decode_t rc = wire_map_index (root, "notification", &m, err);
    if (rc != PROTO_DECODE_OK)
        return rc;
    if ((rc = wire_version (&m, err)) != PROTO_DECODE_OK)
        return rc;
    const msgpack_object *o;
    if ((rc = s_uint (&m, PROTO_KEY_SEQ, &n->seq, err)))
        return rc;
    proto_str_t type;
    if (!(o = wire_present (&m, PROTO_KEY_TYPE)))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_TYPE, "field 'type' is required");
    if ((rc = wire_read_str (o, PROTO_KEY_TYPE, &type, err)))
        return rc;
    if (type.len == 13 && memcmp (type.ptr, "event.created", 13) == 0)
        n->kind = PROTO_CHANGE_CREATED;
    else if (type.len == 13 && memcmp (type.ptr, "event.updated", 13) == 0)
        n->kind = PROTO_CHANGE_UPDATED;
    else
        return wire_fail (err, PROTO_DECODE_INVALID, PROTO_KEY_TYPE,
                          "field 'type' must be \"event.created\" or \"event.updated\"");
    if (!(o = wire_present (&m, PROTO_KEY_EVENT)))
        return wire_fail (err, PROTO_DECODE_MALFORMED, PROTO_KEY_EVENT,
                          "field 'event' is required");
    return wire_event_decode (o, limits, &n->event, err);
}

proto_decode_t
proto_notification_decode (const void *buf, size_t len, const proto_limits_t *limits,
                           proto_change_t *n, proto_error_t *err)
{
    proto_error_t scratch;
    err = wire_error_begin (err, &scratch);
    memset (n, 0, sizeof *n);
    proto_limits_t defaults = proto_limits_default ();
    if (!limits)
        limits = &defaults;
    wire_pool_t pool;
    msgpack_unpacked unpacked;
    const msgpack_object *root;
    proto_decode_t rc =
        wire_unpack_any (buf, len, WIRE_DEPTH_NOTIFICATION, &pool, &unpacked, &root, err);
    if (rc == PROTO_DECODE_OK)
        rc = s_decode_notification (root, limits, n, err);
    msgpack_unpacked_destroy (&unpacked);
    if (rc != PROTO_DECODE_OK)
        memset (n, 0, sizeof *n);
    return rc;
}
