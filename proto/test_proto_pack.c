/*
 * test_proto_pack — the hand-packed event (wire_pack_event) against
 * msgpack-c's own packing of it (wire_pack_event_generic), byte for byte:
 * strings at every header boundary (fixstr, str8, str16), absent strings
 * (nil), integers at every width boundary of both signs, with and without
 * a request id, and events too big for the fast path; and the common head
 * of requests and replies (wire_pack_head) the same way.
 */
#include "proto_wire.h"
#include "test_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Two buffers with their packers: the hand-packed side and msgpack-c's. */
typedef struct {
    msgpack_sbuffer fast, generic;
    msgpack_packer pf, pg;
} pair_t;

static void
s_pair_init (pair_t *pair)
{
    msgpack_sbuffer_init (&pair->fast);
    msgpack_sbuffer_init (&pair->generic);
    msgpack_packer_init (&pair->pf, &pair->fast, msgpack_sbuffer_write);
    msgpack_packer_init (&pair->pg, &pair->generic, msgpack_sbuffer_write);
}

/* Checks both sides hold the same bytes, and frees them. */
static void
s_pair_check (pair_t *pair)
{
    assert_int_equal (pair->fast.size, pair->generic.size);
    assert_memory_equal (pair->fast.data, pair->generic.data, pair->fast.size);
    msgpack_sbuffer_destroy (&pair->fast);
    msgpack_sbuffer_destroy (&pair->generic);
}

/* Packs ev both ways and checks the bytes are the same. */
static void
s_assert_same (const proto_event_t *ev)
{
    pair_t pair;
    s_pair_init (&pair);
    assert_int_equal (wire_pack_event (&pair.pf, ev), 0);
    assert_int_equal (wire_pack_event_generic (&pair.pg, ev), 0);
    s_pair_check (&pair);
}

static void
test_pack_event_matches_msgpack_c_at_every_string_boundary (void **state)
{
    static char text[70000];
    memset (text, 'x', sizeof text);
    const size_t lens[] = { 0, 1, 31, 32, 200, 255, 256, 700, 1000, 65535, 65536, 69999 };
    size_t n = sizeof lens / sizeof lens[0];
    proto_event_t ev = { .id = { 0x5f, 0x0c, 0xff }, .created_at = 1, .updated_at = 2, .seq = 3 };
    for (size_t u = 0; u < n; u++)
        for (size_t d = 0; d < n; d++) {
            ev.user_id = (proto_str_t){ text, lens[u] };
            ev.description = (proto_str_t){ text, lens[d] };
            ev.status = (proto_str_t){ text, lens[(u + d) % n] };
            ev.request_id = (u + d) % 2 ? (proto_str_t){ text, 1 + lens[u] % 64 } : PROTO_STR_NONE;
            s_assert_same (&ev);
        }
    /* Absent strings pack as nil. */
    ev.user_id = ev.description = ev.status = PROTO_STR_NONE;
    s_assert_same (&ev);
}

static void
test_pack_event_matches_msgpack_c_at_every_integer_width (void **state)
{
    const int64_t ints[] = { INT64_MIN,
                             -2147483649ll,
                             -2147483648ll,
                             -32769,
                             -32768,
                             -129,
                             -128,
                             -33,
                             -32,
                             -1,
                             0,
                             1,
                             127,
                             128,
                             255,
                             256,
                             65535,
                             65536,
                             4294967295ll,
                             4294967296ll,
                             1764670000123ll,
                             INT64_MAX };
    size_t n = sizeof ints / sizeof ints[0];
    proto_event_t ev = { .user_id = PROTO_STR ("u"),
                         .description = PROTO_STR ("d"),
                         .status = PROTO_STR ("pending") };
    for (size_t i = 0; i < n; i++) {
        ev.created_at = ints[i];
        ev.updated_at = ints[n - 1 - i];
        ev.seq = (uint64_t)ints[i];
        ev.created_us = (uint16_t)(i * 97 % 1000); /* 0 (not written), 1 to 3 bytes */
        s_assert_same (&ev);
    }
    ev.seq = UINT64_MAX;
    ev.created_us = PROTO_CREATED_US_MAX;
    s_assert_same (&ev);
}

/* msgpack-c's own packing of the common head, call by call: what
   wire_pack_head replaced in the request and reply encoders. */
static void
s_head_generic (msgpack_packer *pk, uint32_t entries, const char *op, uint64_t rid,
                const char *status)
{
    msgpack_pack_map (pk, entries);
    wire_pack_key (pk, PROTO_KEY_V);
    msgpack_pack_uint8 (pk, PROTO_VERSION);
    wire_pack_key (pk, PROTO_KEY_OP);
    if (op)
        wire_pack_cstr (pk, op);
    else
        msgpack_pack_nil (pk);
    wire_pack_key (pk, PROTO_KEY_RID);
    msgpack_pack_uint64 (pk, rid);
    if (status) {
        wire_pack_key (pk, PROTO_KEY_STATUS);
        wire_pack_cstr (pk, status);
    }
}

static void
test_pack_head_matches_msgpack_c (void **state)
{
    const uint32_t entries[] = { 3, 4, 15, 16, 65535, 65536 };
    const char *ops[] = { NULL, "ping", "feed_read" };
    const char *statuses[] = { NULL, "ok", "feed_full" };
    const uint64_t rids[] = { 0,     127,   128,           255,           256,
                              65535, 65536, 4294967295ull, 4294967296ull, UINT64_MAX };
    for (size_t e = 0; e < sizeof entries / sizeof entries[0]; e++)
        for (size_t o = 0; o < 3; o++)
            for (size_t s = 0; s < 3; s++)
                for (size_t r = 0; r < sizeof rids / sizeof rids[0]; r++) {
                    pair_t pair;
                    s_pair_init (&pair);
                    assert_int_equal (
                        wire_pack_head (&pair.pf, entries[e], ops[o], rids[r], statuses[s]), 0);
                    s_head_generic (&pair.pg, entries[e], ops[o], rids[r], statuses[s]);
                    s_pair_check (&pair);
                }
}

int
test_proto_pack_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pack_event_matches_msgpack_c_at_every_string_boundary),
        cmocka_unit_test (test_pack_event_matches_msgpack_c_at_every_integer_width),
        cmocka_unit_test (test_pack_head_matches_msgpack_c),
    };
    return cmocka_run_group_tests_name ("proto_pack", tests, NULL, NULL);
}
