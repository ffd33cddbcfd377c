/*
 * test_proto_pack — the hand-packed event (wire_pack_event) against
 * msgpack-c's own packing of it (wire_pack_event_generic), byte for byte:
 * strings at every header boundary (fixstr, str8, str16), absent strings
 * (nil), integers at every width boundary of both signs, with and without
 * a request id, and events too big for the fast path.
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

/* Packs ev both ways and checks the bytes are the same. */
static void
s_assert_same (const proto_event_t *ev)
{
    msgpack_sbuffer fast, generic;
    msgpack_sbuffer_init (&fast);
    msgpack_sbuffer_init (&generic);
    msgpack_packer pf, pg;
    msgpack_packer_init (&pf, &fast, msgpack_sbuffer_write);
    msgpack_packer_init (&pg, &generic, msgpack_sbuffer_write);
    assert_int_equal (wire_pack_event (&pf, ev), 0);
    assert_int_equal (wire_pack_event_generic (&pg, ev), 0);
    assert_int_equal (fast.size, generic.size);
    assert_memory_equal (fast.data, generic.data, fast.size);
    msgpack_sbuffer_destroy (&fast);
    msgpack_sbuffer_destroy (&generic);
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
        s_assert_same (&ev);
    }
    ev.seq = UINT64_MAX;
    s_assert_same (&ev);
}

int
test_proto_pack_run (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pack_event_matches_msgpack_c_at_every_string_boundary),
        cmocka_unit_test (test_pack_event_matches_msgpack_c_at_every_integer_width),
    };
    return cmocka_run_group_tests_name ("proto_pack", tests, NULL, NULL);
}
