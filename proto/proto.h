/*
 * proto — Herald's wire model: events, store requests and replies, change
 * records and the AMQP notification body, with their MessagePack codecs
 * (msgpack-c) and the validation limits every service agrees on.
 *
 * The store protocol is DEALER → ROUTER over ZeroMQ; each request and each
 * reply is one frame holding one MessagePack map (proto/PROTOCOL.md is the
 * reference a third-party client needs). Every map starts with the protocol
 * version "v" and carries the request id "rid" that the reply echoes, so a
 * client keeps many requests in flight on one socket.
 *
 * Decoders take untrusted bytes. They check every type and length, never
 * assert, never read past the buffer, never allocate more than a small
 * multiple of the input size, and reject trailing bytes after the map.
 * Decoded strings are BORROWED: they point into the caller's input buffer
 * and stay valid only as long as it does (msgpack-c does not copy str
 * payloads). An empty string decodes as { NULL, 0 }, i.e. reads as absent;
 * it is accepted only as an error reply's message or field. Encoders append to a
 * msgpack_sbuffer owned by the caller.
 */
#ifndef HERALD_PROTO_H
#define HERALD_PROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1

/* Validation limits (docs/ARCHITECTURE.md §2); defaults, overridable by the
   environment through proto_limits_from_env so every service applies the
   same ones. */
#define PROTO_USER_ID_MAX_DEFAULT 256
#define PROTO_DESCRIPTION_MAX_DEFAULT 4096
#define PROTO_STATUS_MAX_DEFAULT 64
#define PROTO_LIST_LIMIT_DEFAULT 100
#define PROTO_LIST_LIMIT_MAX 1000
#define PROTO_FEED_READ_MAX 1000      /* records per feed_read reply */
#define PROTO_FRAME_MAX (1024 * 1024) /* bytes; larger frames are malformed */
#define PROTO_UUID_LEN 36             /* canonical text form, no NUL */
#define PROTO_RECEIPT_LEN 32          /* a receipt's text form: 32 hex digits, no NUL */
#define PROTO_REQUEST_ID_MAX 64       /* bytes of a request id (X-Request-Id) */
/* Largest configurable string limit; strings in replies are checked
   against it (the reply decoder takes no limits). */
#define PROTO_LIMIT_CAP 65536
/* Bytes of an error reply's message; counters in a stats reply. */
#define PROTO_MESSAGE_MAX 1024
#define PROTO_STATS_MAX 256

typedef struct {
    size_t user_id_max;
    size_t description_max;
    size_t status_max;
} proto_limits_t;

/* The compiled-in defaults. */
proto_limits_t proto_limits_default (void);

/* Defaults overridden by HERALD_USER_ID_MAX, HERALD_DESCRIPTION_MAX,
   HERALD_STATUS_MAX when set. Returns 0, or -1 (and prints why to stderr)
   when a variable is not an integer in [1, 65536]. */
int proto_limits_from_env (proto_limits_t *limits);

/* A borrowed string slice; ptr == NULL means "absent". Not NUL-terminated. */
typedef struct {
    const char *ptr;
    size_t len;
} proto_str_t;

#define PROTO_STR_NONE ((proto_str_t){ NULL, 0 })
#define PROTO_STR(literal) ((proto_str_t){ (literal), sizeof (literal) - 1 })

/* ---- String and identifier validation ------------------------------------ */

typedef enum {
    PROTO_STR_OK = 0,
    PROTO_STR_EMPTY,    /* zero length */
    PROTO_STR_TOO_LONG, /* longer than the limit, in bytes */
    PROTO_STR_BAD_UTF8, /* not well-formed UTF-8 (overlongs, surrogates, > U+10FFFF) */
    PROTO_STR_HAS_NUL,  /* contains a U+0000 byte */
} proto_str_check_t;

/* Checks a field value against max bytes. Order of precedence when several
   apply: EMPTY, TOO_LONG, BAD_UTF8, HAS_NUL. */
proto_str_check_t proto_check_string (const char *ptr, size_t len, size_t max);

/* Length of the well-formed UTF-8 sequence at ptr (1 to 4 bytes, reading
   at most n, n >= 1), or 0 when the bytes there are not one: strict RFC
   3629, no overlongs, no surrogates, nothing above U+10FFFF, a sequence cut
   by n is not one. NUL counts as a sequence of 1. The step of
   proto_check_string, for callers that must find the bad bytes (the
   gateway marks them in a body that is not Unicode). */
size_t proto_utf8_len (const char *ptr, size_t n);

/* Human-readable message for a check result, e.g. "String should have at
   most 256 bytes". Writes into buf (NUL-terminated, truncated to size). */
void proto_check_message (proto_str_check_t check, size_t max, char *buf, size_t size);

/* Parses a UUID in canonical 8-4-4-4-12 hex form (either case) into 16
   bytes. Returns 0, or -1 for anything else (braces, urn:, missing dashes,
   wrong length). */
int proto_uuid_parse (const char *text, size_t len, uint8_t out[16]);

/* The value of one hexadecimal digit (either case), or -1. */
int proto_hex_value (char c);

/* Formats 16 bytes as canonical lowercase text; out gets 36 chars + NUL. */
void proto_uuid_format (const uint8_t id[16], char out[PROTO_UUID_LEN + 1]);

/* A receipt (PROTOCOL.md §4.3) on the wire: its 16 bytes as 32 hexadecimal
   digits. Parse takes either case and returns 0, or -1 for anything else;
   format writes lowercase, 32 chars + NUL. */
int proto_receipt_parse (const char *text, size_t len, uint8_t out[16]);
void proto_receipt_format (const uint8_t receipt[16], char out[PROTO_RECEIPT_LEN + 1]);

/* ---- The event ----------------------------------------------------------- */

/* Largest created_us: (created_at, created_us) is the creation time in
   microseconds, which orders events made by different stores (shards)
   within one millisecond. Optional on the wire, absent = 0. */
#define PROTO_CREATED_US_MAX 999

/* An event as it travels. Strings borrowed (from a decoded buffer, or from
   the store's memory while encoding). */
typedef struct {
    uint8_t id[16];
    proto_str_t user_id;
    proto_str_t description;
    proto_str_t status;
    int64_t created_at;     /* Unix ms */
    uint16_t created_us;    /* microseconds within created_at's ms, 0..PROTO_CREATED_US_MAX */
    int64_t updated_at;     /* Unix ms */
    uint64_t seq;           /* sequence number of the event's latest mutation */
    proto_str_t request_id; /* the request of that mutation (X-Request-Id); ptr NULL: none */
} proto_event_t;

/* Whether text is a request id: 1..PROTO_REQUEST_ID_MAX bytes of printable
   ASCII without spaces (0x21..0x7e), so it is safe in a header, a log line
   and an AMQP property as it is. */
bool proto_request_id_valid (const char *text, size_t len);

/* ---- Requests ------------------------------------------------------------ */

typedef enum {
    PROTO_OP_NONE = 0,
    PROTO_OP_PING,
    PROTO_OP_CREATE,
    PROTO_OP_GET,
    PROTO_OP_UPDATE,
    PROTO_OP_LIST,
    PROTO_OP_FEED_READ,
    PROTO_OP_FEED_ACK,
    PROTO_OP_STATS,
    PROTO_OP_BATCH,
    PROTO_OP_COUNT_
} proto_op_t;

/* Wire name of an op ("ping", "create", ...); "?" for an invalid value. */
const char *proto_op_name (proto_op_t op);

/* The op named by a wire string (not NUL-terminated); PROTO_OP_NONE when
   no op has that name. */
proto_op_t proto_op_lookup (const char *name, size_t len);

/* Which optional request fields are present (bit set). */
enum {
    PROTO_HAS_EVENT_ID = 1u << 0,
    PROTO_HAS_USER_ID = 1u << 1,
    PROTO_HAS_DESCRIPTION = 1u << 2,
    PROTO_HAS_STATUS = 1u << 3,
    PROTO_HAS_AFTER = 1u << 4,
    PROTO_HAS_LIMIT = 1u << 5,
    PROTO_HAS_FROM = 1u << 6,
    PROTO_HAS_MAX = 1u << 7,
    PROTO_HAS_SEQ = 1u << 8,
    PROTO_HAS_STORE_ID = 1u << 9,
    PROTO_HAS_REQUEST_ID = 1u << 10,
    PROTO_HAS_RECEIPT = 1u << 11,
};

/* One store request. Which fields an op takes (PROTOCOL.md has the table):
     ping      —
     create    user_id, description (both required); optional request_id
     get       event_id (required)
     update    event_id (required) + at least one of status, user_id, description;
               optional request_id
     list      optional user_id, status (exact filters), after, limit, receipt
     feed_read optional from (first seq wanted; absent = acked cursor + 1), max,
               receipt (list and feed_read: the last one a reply brought,
               proof that this client took that reply; PROTOCOL.md §4.3)
     feed_ack  seq (required): every record with seq <= this is acknowledged;
               optional store_id: acknowledge only if the store has this id
     stats     —                                                             */
typedef struct {
    proto_op_t op;
    uint64_t rid;
    unsigned has; /* PROTO_HAS_* bits */
    uint8_t event_id[16];
    proto_str_t user_id;
    proto_str_t description;
    proto_str_t status;
    uint8_t after[16];
    uint32_t limit;
    uint64_t from;
    uint32_t max;
    uint64_t seq;
    uint8_t store_id[16];
    proto_str_t request_id; /* create / update: recorded on the event (proto_request_id_valid) */
    uint8_t receipt[16];
} proto_request_t;

/* ---- Replies ------------------------------------------------------------- */

typedef enum {
    PROTO_OK = 0,
    PROTO_E_MALFORMED,  /* not a well-formed request map */
    PROTO_E_VERSION,    /* unsupported protocol version */
    PROTO_E_UNKNOWN_OP, /* op not known */
    PROTO_E_INVALID,    /* well-formed but a field fails validation */
    PROTO_E_NOT_FOUND,  /* no such event (or list cursor) */
    PROTO_E_FEED_FULL,  /* change feed full: write refused */
    PROTO_E_STORE_FULL, /* the store's event cap reached: create refused */
    PROTO_E_INTERNAL,   /* out of memory or another server-side failure */
    PROTO_E_MOVED,      /* the event id's slot is another shard's (reply.moved says whose) */
    PROTO_E_COUNT_
} proto_status_t;

/* Wire name of a status ("ok", "malformed", "version", "unknown_op",
   "invalid", "not_found", "feed_full", "store_full", "internal", "moved"). */
const char *proto_status_name (proto_status_t status);

/* The status named by a wire string. Returns 0, or -1 for an unknown name. */
int proto_status_lookup (const char *name, size_t len, proto_status_t *status);

typedef enum {
    PROTO_CHANGE_CREATED = 1,
    PROTO_CHANGE_UPDATED = 2,
} proto_change_kind_t;

/* One record of the change feed. */
typedef struct {
    uint64_t seq;
    proto_change_kind_t kind;
    proto_event_t event;
} proto_change_t;

/* A named counter of the stats reply. */
typedef struct {
    proto_str_t name;
    uint64_t value;
} proto_stat_t;

/* One store reply. Which members are meaningful depends on op and status:
     error (status != OK)   message (human readable), field (which request
                            field failed, for INVALID; may be absent)
     error MOVED            moved: the endpoint of the shard that owns the
                            id's slot (shard_map_endpoint_valid), the
                            replying shard's map epoch and the slot
     create, get, update    event
     list                   items[n_items], has_next_after + next_after
     feed_read              changes[n_changes], acked (cursor), head (last
                            seq assigned), feed_len, feed_max
     feed_ack               acked
     stats                  stats[n_stats]
   and any success reply    has_store_id + store_id: the store's identity
                            (the store sends it with ping, stats, feed_read
                            and feed_ack; absent = unknown)
                            has_receipt + receipt: what the client may send
                            back with its next list or feed_read (the
                            store sends it with those two when it counts
                            this client's reply bytes; PROTOCOL.md §4.3)
   When encoding, arrays are borrowed from the caller. When decoding, the
   arrays are allocated by the decoder (free with proto_reply_clear) and
   strings are borrowed from the input buffer. */
typedef struct {
    proto_op_t op;
    uint64_t rid;
    proto_status_t status;
    proto_str_t message;
    proto_str_t field;
    proto_event_t event;
    proto_event_t *items;
    size_t n_items;
    bool has_next_after;
    uint8_t next_after[16];
    proto_change_t *changes;
    size_t n_changes;
    uint64_t acked;
    uint64_t head;
    uint64_t feed_len;
    uint64_t feed_max;
    proto_stat_t *stats;
    size_t n_stats;
    bool has_store_id;
    uint8_t store_id[16];
    bool has_receipt;
    uint8_t receipt[16];
    struct {
        proto_str_t endpoint; /* the owner's, e.g. "tcp://10.0.0.2:5555" */
        uint64_t epoch;       /* of the map the replying shard holds */
        uint32_t slot;        /* the id's slot, < SHARD_MAP_SLOTS */
    } moved;
} proto_reply_t;

/* ---- Codecs -------------------------------------------------------------- */

/* Decode results. Malformed input of every kind maps to one of these; the
   message written to err (if non-NULL) says exactly what was wrong, e.g.
   "field 'limit': expected unsigned integer". */
typedef enum {
    PROTO_DECODE_OK = 0,
    PROTO_DECODE_MALFORMED,  /* bytes are not the expected map */
    PROTO_DECODE_VERSION,    /* "v" missing or not PROTO_VERSION */
    PROTO_DECODE_UNKNOWN_OP, /* "op" is a string but not a known op */
    PROTO_DECODE_INVALID,    /* a field value fails validation (bad uuid,
                                limit out of range, string over its limit,
                                bad UTF-8, NUL, required field missing) */
} proto_decode_t;

typedef struct {
    char message[160];
    char field[32]; /* request field at fault, "" if none */
    uint64_t rid;   /* request id if it could be read, else 0 (proto_request_decode */
    bool has_rid;   /* sets the two only when it fails: the request holds its rid) */
} proto_error_t;

/* Decodes one request frame. On success fills req (strings borrowed from
   buf). Field validation against limits (string lengths, UTF-8, NUL,
   required fields per op, limit in [1, PROTO_LIST_LIMIT_MAX], max in
   [1, PROTO_FEED_READ_MAX]) happens here so the store only sees valid
   requests. Unknown keys are ignored (forward compatibility). */
proto_decode_t proto_request_decode (const void *buf, size_t len, const proto_limits_t *limits,
                                     proto_request_t *req, proto_error_t *err);

/* Hints, not a decode: what a store wants of a request frame before it
   handles it (to start a lookup's cache misses, to apply a receipt before
   it makes the reply), read in one walk of the frame's top map without
   msgpack-c. Only a top map of strings, numbers, nil and booleans (what
   clients send) is read: every hint is false for any other frame (a batch
   included), and a walk stops at a container. Each hint is decided by the
   first entry of its key, unless an "op" entry before it names an op that
   does not carry it (as encoders write the op first; an op named after it
   is not seen, which costs the store only a wasted load, and a receipt
   proves what it proves whatever op carries it). Never reads outside buf;
   nothing else is checked: the frame is decoded for real when it is
   handled. When the frame decodes, a hint found is the decoded field. */
typedef struct {
    bool has_event_id; /* a get's or an update's "event_id", a UUID */
    uint8_t event_id[16];
    proto_str_t user_id; /* a create's "user_id", borrowed from buf; ptr NULL: none */
    bool has_receipt;    /* a list's or a feed_read's "receipt", 32 hex digits */
    uint8_t receipt[16];
} proto_request_hints_t;

void proto_request_peek (const void *buf, size_t len, proto_request_hints_t *hints);

/* One hint each, from the same walk: true with the value, or false (the
   output untouched). */
bool proto_request_peek_event_id (const void *buf, size_t len, uint8_t id[16]);
bool proto_request_peek_user_id (const void *buf, size_t len, proto_str_t *user_id);
bool proto_request_peek_receipt (const void *buf, size_t len, uint8_t receipt[16]);

/* Appends the encoding of req to out. Only fields flagged in req->has are
   written. Returns 0, or -1 on allocation failure. */
int proto_request_encode (const proto_request_t *req, msgpack_sbuffer *out);

/* Decodes one reply frame (untrusted too: the gateway and notifier decode
   what arrives on their sockets). On success reply->items / changes / stats
   are heap arrays owned by reply; call proto_reply_clear. On failure
   nothing is left allocated. */
proto_decode_t proto_reply_decode (const void *buf, size_t len, proto_reply_t *reply,
                                   proto_error_t *err);

/* Frees the arrays a successful proto_reply_decode allocated and zeroes
   the struct. Safe on a zeroed struct. */
void proto_reply_clear (proto_reply_t *reply);

/* Appends the encoding of reply to out. Returns 0, or -1 on allocation
   failure or a reply the decoder would refuse (a MOVED one without a
   valid endpoint or slot). */
int proto_reply_encode (const proto_reply_t *reply, msgpack_sbuffer *out);

/* Convenience: encodes an error reply. message is a NUL-terminated string,
   field may be NULL. */
int proto_reply_encode_error (proto_op_t op, uint64_t rid, proto_status_t status,
                              const char *message, const char *field, msgpack_sbuffer *out);

/* ---- Batches: several requests in one frame (PROTOCOL.md §3.1) ---------- */

/* A batch carries whole request frames, each exactly as it would be sent
   alone, as the binary elements of "frames":
     request {"v":1,"op":"batch","rid":R,"frames":[bin, ...]}
     reply   {"v":1,"op":"batch","rid":R,"status":"ok","frames":[bin, ...]}
   and the reply carries one whole reply frame per request frame, in the
   same order. What a batch saves is the per-message cost of ZeroMQ on both
   ends (Redis's pipelining, in one message): each request is otherwise
   handled exactly as if it came alone. Only point operations may be
   batched (proto_batch_allows): their replies hold at most one event, so
   a batch reply's size is bounded (proto_batch_max). */
#define PROTO_BATCH_MAX 128 /* frames in one batch, whatever the limits */

/* Whether op may be one of a batch's frames: ping, create, get, update. */
bool proto_batch_allows (proto_op_t op);

/* The most frames a batch may carry under limits (NULL: the defaults):
   PROTO_BATCH_MAX, or fewer when limits let one reply grow so large that
   PROTO_BATCH_MAX of them would not fit in PROTO_FRAME_MAX. At least 1. */
size_t proto_batch_max (const proto_limits_t *limits);

/* Starts a batch of n (1..PROTO_BATCH_MAX) frames in out: a request
   (is_reply false) or an ok reply. Append exactly n frames after it with
   proto_batch_append. Returns 0, or -1 on allocation failure or n out of
   range. */
int proto_batch_begin (uint64_t rid, bool is_reply, size_t n, msgpack_sbuffer *out);

/* Appends one whole frame (len >= 1 bytes) to the batch begun in out.
   Returns 0 or -1 (allocation failure, or len 0). */
int proto_batch_append (const void *frame, size_t len, msgpack_sbuffer *out);

/* Decodes a batch (untrusted): a request (is_reply false; a "status" is
   not read) or an ok reply (is_reply true; an error reply to a batch is an
   ordinary reply: read it with proto_reply_decode). On success *rid is the
   batch's, frames[0..*n) the frames it carries, borrowed from buf, each
   1..PROTO_FRAME_MAX bytes (their content is not looked at: decode each
   as a frame of its own). max (1..PROTO_BATCH_MAX) is the most frames
   accepted: more is INVALID. Other errors: MALFORMED (shape, types,
   missing members, op not "batch"), VERSION. */
proto_decode_t proto_batch_decode (const void *buf, size_t len, bool is_reply, size_t max,
                                   uint64_t *rid, proto_str_t *frames, size_t *n,
                                   proto_error_t *err);

/* ---- The AMQP notification body (notifier → RabbitMQ → worker) ---------- */

/* Routing key / AMQP type for a change kind: "event.created" or
   "event.updated". */
const char *proto_change_routing_key (proto_change_kind_t kind);

/* Wire name of a change kind in a feed_read reply: "created" / "updated". */
const char *proto_change_kind_name (proto_change_kind_t kind);

/* The body of each message on herald.events is the change record itself
   (proto_change_t), tagged with type "event.created" / "event.updated":
   one record type from the feed to the worker. */
int proto_notification_encode (const proto_change_t *n, msgpack_sbuffer *out);

/* The live stream's wake-up (topic PROTO_FEED_TOPIC): {"v":1,"type":"feed",
   "head":N}, N the feed's head when it was sent. The store sends one per
   loop pass that changed something, after that pass's notes; a reader of
   the feed subscribes to it instead of to every note (proto/PROTOCOL.md
   section 1). */
#define PROTO_FEED_TOPIC "feed"
int proto_feed_ring_encode (uint64_t head, msgpack_sbuffer *out);

/* Decodes a message body (untrusted: anything can be published to the
   queue). Strings borrowed from buf; validated against limits. */
proto_decode_t proto_notification_decode (const void *buf, size_t len, const proto_limits_t *limits,
                                          proto_change_t *n, proto_error_t *err);

#endif
