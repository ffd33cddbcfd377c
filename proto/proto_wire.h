/*
 * proto_wire — internal helpers shared by the proto codecs: the bounded
 * pre-scan and unpack of an untrusted frame, the keyed view of a map, typed
 * field readers that fill a proto_error_t, and the event map codec.
 *
 * Not part of the public API; only the proto sources, their tests and the
 * proto fuzz targets include it.
 */
#ifndef HERALD_PROTO_WIRE_H
#define HERALD_PROTO_WIRE_H

#include "proto.h"
#include "proto_keys.h"

#define WIRE_MAP_ENTRIES_MAX 64 /* entries of any protocol map but stats */

/* Deepest nesting each message family needs (the top map is level 1):
   a request may carry one level of nested value under an unknown key for
   forward compatibility; a notification is map → event; a feed_read reply
   is map → changes → change → event. */
#define WIRE_DEPTH_REQUEST 2
#define WIRE_DEPTH_NOTIFICATION 2
#define WIRE_DEPTH_REPLY 4
#define WIRE_DEPTH_LIMIT 4

/* Key name, for encoders and error messages ("" for no key), and its
   length. */
const char *wire_key_name (proto_key_t key);
size_t wire_key_len (proto_key_t key);

/* Records a failure in err (message printf-style, field = the key's name
   unless key is PROTO_KEY_COUNT_) and returns code. */
proto_decode_t wire_fail (proto_error_t *err, proto_decode_t code, proto_key_t key, const char *fmt,
                          ...) __attribute__ ((format (printf, 4, 5)));

/* Checks the raw bytes (size, structure, declared counts against the bytes
   left, nesting, trailing bytes) and only then unpacks them with msgpack-c
   into out, which it initializes: the caller destroys it
   (msgpack_unpacked_destroy) whatever the result. The root must be a map.
   Strings in out point into buf. */
proto_decode_t wire_unpack (const void *buf, size_t len, int max_depth, msgpack_unpacked *out,
                            proto_error_t *err);

/* Objects wire_unpack_small may hand out: a frame whose maps hold more
   entries, or whose arrays more elements, goes through msgpack-c. Enough
   for any request, any single-event reply, notification or journal
   record. ~7 KB: meant for the stack. */
#define WIRE_POOL_KV 128
#define WIRE_POOL_OBJECTS 64
typedef struct {
    msgpack_object root;
    msgpack_object_kv kv[WIRE_POOL_KV];
    msgpack_object objects[WIRE_POOL_OBJECTS];
    size_t kv_used, objects_used;
} wire_pool_t;

/* A small frame read without msgpack-c (see proto_wire.c): it passes
   exactly the frames wire_unpack passes, with the same errors, and its
   objects come from pool, root the top map. When the frame needs more
   than the pool holds, returns OK with root NIL. Strings point into buf;
   objects live as long as pool. */
proto_decode_t wire_unpack_small (const void *buf, size_t len, int max_depth, wire_pool_t *pool,
                                  msgpack_object *root, proto_error_t *err);

/* What every decoder calls: wire_unpack_small, and wire_unpack when the
   frame is too big for the pool. *root is the top map, in pool or in
   unpacked; the caller destroys unpacked (msgpack_unpacked_destroy)
   whatever the result. */
proto_decode_t wire_unpack_any (const void *buf, size_t len, int max_depth, wire_pool_t *pool,
                                msgpack_unpacked *unpacked, const msgpack_object **root,
                                proto_error_t *err);

/* For tests and fuzz targets: with on, every frame goes through msgpack-c
   (the reference the small-frame reader must agree with). Process-wide,
   not thread-safe; never set by the services. */
void wire_set_generic_only (bool on);

/* The item at p, of at most len bytes, when it is not a container: its
   size (header and payload) and, for a string, its text in *text (else
   PROTO_STR_NONE). 0 for a map or an array, a byte MessagePack never uses
   or an item longer than len. For readers that skip through a frame
   without unpacking it. */
size_t wire_item (const uint8_t *p, size_t len, proto_str_t *text);

/* A map viewed by key: val[k] is the value of key k when bit k of has is
   set, and unset otherwise (a map is indexed for every message it comes
   in, and clearing all the slots was a quarter of that; read it through
   wire_present). */
typedef struct {
    uint64_t has;
    const msgpack_object *val[PROTO_KEY_COUNT_];
} wire_map_t;

/* Indexes a map object: every key must be a string, no key may repeat
   (known or not) and there are at most WIRE_MAP_ENTRIES_MAX entries.
   parent names the map in messages ("request", "event", ...). */
proto_decode_t wire_map_index (const msgpack_object *obj, const char *parent, wire_map_t *map,
                               proto_error_t *err);

/* The value of key, or NULL when absent or nil (nil means absent). */
const msgpack_object *wire_present (const wire_map_t *map, proto_key_t key);

/* Checks "v": VERSION when it is absent or not PROTO_VERSION. */
proto_decode_t wire_version (const wire_map_t *map, proto_error_t *err);

/* Typed readers of a present value; each fails MALFORMED on a wrong type
   and names the key in err. */
proto_decode_t wire_read_uint (const msgpack_object *o, proto_key_t key, uint64_t *out,
                               proto_error_t *err);
proto_decode_t wire_read_int (const msgpack_object *o, proto_key_t key, int64_t *out,
                              proto_error_t *err);
proto_decode_t wire_read_str (const msgpack_object *o, proto_key_t key, proto_str_t *out,
                              proto_error_t *err);
/* A string that must pass proto_check_string against max (INVALID if not). */
proto_decode_t wire_read_text (const msgpack_object *o, proto_key_t key, size_t max,
                               proto_str_t *out, proto_error_t *err);
/* A request id (proto_request_id_valid; INVALID if the text is not one). */
proto_decode_t wire_read_request_id (const msgpack_object *o, proto_key_t key, proto_str_t *out,
                                     proto_error_t *err);
/* A canonical UUID string (INVALID if the text is not one). */
proto_decode_t wire_read_uuid (const msgpack_object *o, proto_key_t key, uint8_t out[16],
                               proto_error_t *err);
/* A receipt: 32 hexadecimal digits (INVALID if the text is not that). */
proto_decode_t wire_read_receipt (const msgpack_object *o, proto_key_t key, uint8_t out[16],
                                  proto_error_t *err);

/* Decodes an event map; every member is required but request_id and
   created_us (absent = 0; over PROTO_CREATED_US_MAX is INVALID), strings
   checked against limits. Strings borrowed from the unpacked buffer. */
proto_decode_t wire_event_decode (const msgpack_object *o, const proto_limits_t *limits,
                                  proto_event_t *ev, proto_error_t *err);

/* Packing helpers; each returns 0 or -1 like msgpack_pack_*. */
int wire_pack_key (msgpack_packer *pk, proto_key_t key);
int wire_pack_cstr (msgpack_packer *pk, const char *text);
int wire_pack_str (msgpack_packer *pk, proto_str_t s); /* nil when s.ptr is NULL */
int wire_pack_uuid (msgpack_packer *pk, const uint8_t id[16]);
int wire_pack_receipt (msgpack_packer *pk, const uint8_t receipt[16]);
/* The map header and the members every request (v, op, rid: status
   NULL) or reply (and status) starts with, packed by hand in one write;
   op NULL packs nil. Names are the protocol's own (< 32 bytes). */
int wire_pack_head (msgpack_packer *pk, uint32_t entries, const char *op, uint64_t rid,
                    const char *status);

/* An event map; ordinary-sized events are packed by hand in one write
   (the bytes msgpack-c would produce), bigger ones as _generic does.
   created_us is written only when non-zero (absent reads as 0); over
   PROTO_CREATED_US_MAX, -1 and nothing written. */
int wire_pack_event (msgpack_packer *pk, const proto_event_t *ev);
/* The event through msgpack-c call by call: the fallback, and for tests
   the reference wire_pack_event must match byte for byte. */
int wire_pack_event_generic (msgpack_packer *pk, const proto_event_t *ev);

/* Starts the error record of a decode: err may be NULL (then scratch is
   used); returns the record to write to, cleared (empty message and field,
   no rid). */
proto_error_t *wire_error_begin (proto_error_t *err, proto_error_t *scratch);

#endif
