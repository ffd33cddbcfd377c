/*
 * test_shard_map — the shard map (proto/shard_map.h): the slot rule, the
 * map file parser and every error it names, lookups at range edges, the
 * one-shard default, the limits at limit and limit + 1, and minting: every
 * minted id is in one of the shard's slots and still a version 4 UUID.
 */
#include "shard_map.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define TWO_SHARDS                                                                                 \
    "# two shards\n"                                                                               \
    "epoch 7\n"                                                                                    \
    "shard tcp://127.0.0.1:5555 0-8191\n"                                                          \
    "\n"                                                                                           \
    "shard\ttcp://127.0.0.1:5565   8192-16383   # the upper half\n"

static shard_map_t *
s_parse (const char *text, char *err, size_t size)
{
    return shard_map_parse (text, strlen (text), err, size);
}

/* Parsing text fails with an error that contains expected. */
static void
s_refused (const char *text, const char *expected)
{
    char err[512];
    shard_map_t *map = s_parse (text, err, sizeof err);
    if (map || !strstr (err, expected)) {
        print_error ("map:\n%s\nerror: '%s'\nexpected to contain: '%s'\n", text, err, expected);
        shard_map_destroy (&map);
        fail ();
    }
}

static void
test_slot_is_the_low_14_bits_of_the_first_two_bytes (void **state)
{
    (void)state;
    uint8_t id[16] = { 0 };
    assert_int_equal (shard_map_slot_of (id), 0);
    id[0] = 0x2a;
    id[1] = 0xbc;
    assert_int_equal (shard_map_slot_of (id), 0x2abc);
    id[0] = 0xff; /* the top two bits are not the slot's */
    id[1] = 0xff;
    assert_int_equal (shard_map_slot_of (id), 16383);
    id[0] = 0xc0;
    id[1] = 0x00;
    memset (id + 2, 0xff, 14); /* nor are the other bytes */
    assert_int_equal (shard_map_slot_of (id), 0);
}

static void
test_parses_two_shards_with_comments_blank_lines_and_tabs (void **state)
{
    (void)state;
    char err[256];
    shard_map_t *map = s_parse (TWO_SHARDS, err, sizeof err);
    assert_non_null (map);
    assert_int_equal (shard_map_epoch (map), 7);
    assert_int_equal (shard_map_shards (map), 2);
    assert_string_equal (shard_map_endpoint (map, 0), "tcp://127.0.0.1:5555");
    assert_string_equal (shard_map_endpoint (map, 1), "tcp://127.0.0.1:5565");
    assert_int_equal (shard_map_slot_count (map, 0), 8192);
    assert_int_equal (shard_map_slot_count (map, 1), 8192);
    shard_map_destroy (&map);
    assert_null (map);
    shard_map_destroy (&map); /* no-op on NULL */
}

static void
test_lookup_at_range_edges (void **state)
{
    (void)state;
    char err[256];
    shard_map_t *map = s_parse ("epoch 1\r\n"
                                "shard tcp://a:1 0,100-199,16383\r\n"
                                "shard tcp://b:2 1-99\r\n"
                                "shard ipc:///tmp/c 200-16382\r\n",
                                err, sizeof err);
    assert_non_null (map);
    assert_int_equal (shard_map_owner (map, 0), 0);
    assert_int_equal (shard_map_owner (map, 1), 1);
    assert_int_equal (shard_map_owner (map, 99), 1);
    assert_int_equal (shard_map_owner (map, 100), 0);
    assert_int_equal (shard_map_owner (map, 199), 0);
    assert_int_equal (shard_map_owner (map, 200), 2);
    assert_int_equal (shard_map_owner (map, 16382), 2);
    assert_int_equal (shard_map_owner (map, 16383), 0);
    assert_int_equal (shard_map_slot_count (map, 0), 102);
    assert_int_equal (shard_map_slot_count (map, 1), 99);
    assert_int_equal (shard_map_slot_count (map, 2), 16183);
    uint8_t id[16] = { 0x00, 0x63 }; /* slot 99 */
    assert_int_equal (shard_map_owner_of (map, id), 1);
    id[0] = 0x40 | 0x3f; /* slot 16383 with a top bit set */
    id[1] = 0xff;
    assert_int_equal (shard_map_owner_of (map, id), 0);
    shard_map_destroy (&map);
}

static void
test_single_shard_owns_every_slot_at_epoch_0 (void **state)
{
    (void)state;
    shard_map_t *map = shard_map_new_single ("tcp://127.0.0.1:5555");
    assert_non_null (map);
    assert_int_equal (shard_map_epoch (map), 0);
    assert_int_equal (shard_map_shards (map), 1);
    assert_int_equal (shard_map_slot_count (map, 0), SHARD_MAP_SLOTS);
    assert_int_equal (shard_map_owner (map, 0), 0);
    assert_int_equal (shard_map_owner (map, 16383), 0);
    assert_string_equal (shard_map_endpoint (map, 0), "tcp://127.0.0.1:5555");
    shard_map_destroy (&map);
    assert_null (shard_map_new_single ("tcp://*:5555")); /* not connectable */
    assert_null (shard_map_new_single (NULL));
}

static void
test_endpoint_must_be_connectable_tcp_or_ipc (void **state)
{
    (void)state;
    const char *good[] = { "tcp://127.0.0.1:5555", "tcp://h:1", "tcp://[::1]:65535", "ipc:///tmp/x",
                           "ipc://x" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true (shard_map_endpoint_valid (good[i], strlen (good[i])));
    const char *bad[] = { "",
                          "tcp://",
                          "ipc://",
                          "tcp://host",
                          "tcp://:5555",
                          "tcp://host:",
                          "tcp://host:0",
                          "tcp://host:65536",
                          "tcp://host:55x",
                          "tcp://*:5555",
                          "tcp://ho st:1",
                          "udp://host:1",
                          "TCP://host:1",
                          "tcp://host:-1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false (shard_map_endpoint_valid (bad[i], strlen (bad[i])));
    assert_false (shard_map_endpoint_valid (NULL, 0));
    /* SHARD_MAP_ENDPOINT_MAX bytes, and one more */
    char ep[SHARD_MAP_ENDPOINT_MAX + 2];
    memset (ep, 'h', sizeof ep);
    memcpy (ep, "tcp://", 6);
    memcpy (ep + SHARD_MAP_ENDPOINT_MAX - 5, ":5555", 5);
    assert_true (shard_map_endpoint_valid (ep, SHARD_MAP_ENDPOINT_MAX));
    ep[SHARD_MAP_ENDPOINT_MAX - 5] = 'h';
    memcpy (ep + SHARD_MAP_ENDPOINT_MAX - 4, ":5555", 5);
    assert_false (shard_map_endpoint_valid (ep, SHARD_MAP_ENDPOINT_MAX + 1));
}

static void
test_every_error_names_its_line_and_fault (void **state)
{
    (void)state;
    s_refused ("epoch 1\nshard tcp://a:1 0-8191\nshard tcp://b:1 8000-16383\n",
               "line 3: slot 8000 is already owned by shard 0 (line 2)");
    s_refused ("epoch 1\nshard tcp://a:1 0-10,5-16383\n",
               "line 2: slot 5 is already owned by shard 0 (line 2)");
    s_refused ("epoch 1\nshard tcp://a:1 0-8191\nshard tcp://b:1 8193-16383\n",
               "slots 8192-8192 are owned by no shard");
    s_refused ("epoch 1\nshard tcp://a:1 1-16383\n", "slots 0-0 are owned by no shard");
    s_refused ("epoch 1\nshard tcp://a:1 0-100\n", "slots 101-16383 are owned by no shard");
    s_refused ("epoch 1\nshard tcp://*:1 0-16383\n", "line 2: endpoint 'tcp://*:1' is not");
    s_refused ("epoch 1\nshard 127.0.0.1:5555 0-16383\n", "line 2: endpoint '127.0.0.1:5555'");
    s_refused ("epoch 1\nshard tcp://a:1 0-16383\nshard tcp://a:1 0\n",
               "line 3: endpoint tcp://a:1 is already shard 0 (line 2)");
    s_refused ("epoch 1\nshard tcp://a:1 0-16384\n",
               "line 2: slot range '0-16384' is not N or N-M with slots in [0, 16383]");
    s_refused ("epoch 1\nshard tcp://a:1 0-x\n", "line 2: slot range '0-x' is not");
    s_refused ("epoch 1\nshard tcp://a:1 -5\n", "line 2: slot range '-5' is not");
    s_refused ("epoch 1\nshard tcp://a:1 0-16383,\n", "line 2: slot range '' is not");
    s_refused ("epoch 1\nshard tcp://a:1 +1-16383,0\n", "line 2: slot range '+1-16383' is not");
    s_refused ("epoch 1\nshard tcp://a:1 9-3\n", "line 2: slot range '9-3' ends before it starts");
    s_refused ("epoch 1\nshard tcp://a:1\n", "line 2: expected 'shard ENDPOINT RANGES'");
    s_refused ("epoch 1\nshard tcp://a:1 0-8191 8192-16383\n",
               "line 2: unexpected '8192-16383' after the slot ranges");
    s_refused ("epoch x\n", "line 1: epoch 'x' is not a number in [1, 18446744073709551615]");
    s_refused ("epoch 0\n", "line 1: epoch '0' is not a number");
    s_refused ("epoch 18446744073709551616\n", "line 1: epoch '18446744073709551616' is not");
    s_refused ("epoch\n", "line 1: expected 'epoch N'");
    s_refused ("epoch 1 2\n", "line 1: expected 'epoch N'");
    s_refused ("epoch 1\n\nepoch 2\n", "line 3: epoch given again (first on line 1)");
    s_refused ("epoch 1\nshards tcp://a:1 0-16383\n",
               "line 2: unknown directive 'shards' (expected 'epoch' or 'shard')");
    s_refused ("shard tcp://a:1 0-16383\n", "no 'epoch N' line");
    s_refused ("epoch 3\n# nothing else\n", "no 'shard ENDPOINT RANGES' line");
    s_refused ("", "no 'epoch N' line");
    char err[256];
    assert_null (shard_map_parse ("epoch 1\0x", 9, err, sizeof err));
    assert_non_null (strstr (err, "NUL byte"));
}

static void
test_epoch_accepts_the_largest_uint64 (void **state)
{
    (void)state;
    char err[256];
    shard_map_t *map =
        s_parse ("epoch 18446744073709551615\nshard tcp://a:1 0-16383\n", err, sizeof err);
    assert_non_null (map);
    assert_true (shard_map_epoch (map) == UINT64_MAX);
    shard_map_destroy (&map);
}

/* A map of n shards, each owning one slot and the last the rest. */
static char *
s_many_shards (size_t n)
{
    size_t size = 64 + n * 64;
    char *text = malloc (size);
    assert_non_null (text);
    size_t used = (size_t)snprintf (text, size, "epoch 1\n");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf (text + used, size - used, "shard tcp://h:%zu %zu%s\n", i + 1, i,
                                  i + 1 == n ? "-16383" : "");
    return text;
}

static void
test_shards_max_is_allowed_and_one_more_is_refused (void **state)
{
    (void)state;
    char err[256];
    char *text = s_many_shards (SHARD_MAP_SHARDS_MAX);
    shard_map_t *map = s_parse (text, err, sizeof err);
    assert_non_null (map);
    assert_int_equal (shard_map_shards (map), SHARD_MAP_SHARDS_MAX);
    assert_int_equal (shard_map_owner (map, SHARD_MAP_SHARDS_MAX - 2), SHARD_MAP_SHARDS_MAX - 2);
    assert_int_equal (shard_map_owner (map, 16383), SHARD_MAP_SHARDS_MAX - 1);
    shard_map_destroy (&map);
    free (text);
    text = s_many_shards (SHARD_MAP_SHARDS_MAX + 1);
    char expected[64];
    snprintf (expected, sizeof expected, "line %d: more than %d shards", SHARD_MAP_SHARDS_MAX + 2,
              SHARD_MAP_SHARDS_MAX);
    s_refused (text, expected);
    free (text);
}

static void
test_file_over_the_size_limit_is_refused (void **state)
{
    (void)state;
    size_t len = SHARD_MAP_FILE_MAX + 1;
    char *text = malloc (len);
    assert_non_null (text);
    const char *head = "epoch 1\nshard tcp://a:1 0-16383\n";
    memset (text, '\n', len);
    memcpy (text, head, strlen (head));
    char err[256];
    assert_null (shard_map_parse (text, len, err, sizeof err));
    assert_non_null (strstr (err, "more than 1048576 bytes"));
    shard_map_t *map = shard_map_parse (text, len - 1, err, sizeof err); /* at the limit */
    assert_non_null (map);
    shard_map_destroy (&map);
    free (text);
}

static void
test_load_reads_a_file_and_names_it_in_errors (void **state)
{
    (void)state;
    char path[] = "/tmp/test_shard_map_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    assert_non_null (f);
    fputs (TWO_SHARDS, f);
    fclose (f);
    char err[512];
    shard_map_t *map = shard_map_load (path, err, sizeof err);
    assert_non_null (map);
    assert_int_equal (shard_map_shards (map), 2);
    shard_map_destroy (&map);
    f = fopen (path, "w");
    assert_non_null (f);
    fputs ("epoch 1\nshard tcp://a:1 0-1\n", f);
    fclose (f);
    assert_null (shard_map_load (path, err, sizeof err));
    char expected[128];
    snprintf (expected, sizeof expected, "%s: slots 2-16383 are owned by no shard", path);
    assert_non_null (strstr (err, expected));
    unlink (path);
    assert_null (shard_map_load (path, err, sizeof err));
    assert_non_null (strstr (err, "No such file"));
}

static bool
s_is_v4 (const uint8_t id[16])
{
    return (id[6] >> 4) == 4 && (id[8] & 0xc0) == 0x80;
}

static void
test_minted_ids_are_in_the_shards_slots_and_stay_v4 (void **state)
{
    (void)state;
    char err[256];
    /* Shard 1 owns scattered ranges, given out of order. */
    shard_map_t *map = s_parse ("epoch 2\n"
                                "shard tcp://a:1 0-99,300-16381\n"
                                "shard tcp://b:2 16382-16383,100-199,250\n"
                                "shard tcp://c:3 200-249,251-299\n",
                                err, sizeof err);
    assert_non_null (map);
    uint32_t count = shard_map_slot_count (map, 1);
    assert_int_equal (count, 103);
    /* random = 0 .. count - 1 walks every slot of the shard once, in
       increasing order; the id's other bits are left alone. */
    int last = -1;
    for (uint32_t r = 0; r < 2 * count; r++) {
        uint8_t id[16];
        memset (id, 0xa5, sizeof id);
        id[6] = 0x4a;
        id[8] = 0xbf;
        shard_map_mint (map, 1, r, id);
        uint16_t slot = shard_map_slot_of (id);
        assert_int_equal (shard_map_owner (map, slot), 1);
        assert_true (s_is_v4 (id));
        assert_int_equal (id[0] & 0xc0, 0x80); /* 0xa5's top bits kept */
        for (int i = 2; i < 16; i++)
            if (i != 6 && i != 8)
                assert_int_equal (id[i], 0xa5);
        if (r < count) {
            assert_true ((int)slot > last);
            last = slot;
        } else {
            uint8_t again[16];
            memcpy (again, id, 16);
            shard_map_mint (map, 1, r - count, again);
            assert_memory_equal (again, id, 16); /* random wraps modulo the count */
        }
    }
    assert_int_equal (last, 16383);
    /* Random ids of every shard: always theirs. */
    srand (17);
    for (size_t shard = 0; shard < 3; shard++)
        for (int i = 0; i < 2000; i++) {
            uint8_t id[16];
            for (int b = 0; b < 16; b++)
                id[b] = (uint8_t)rand ();
            id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
            id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
            shard_map_mint (map, shard, (uint32_t)rand (), id);
            assert_int_equal (shard_map_owner_of (map, id), shard);
            assert_true (s_is_v4 (id));
        }
    shard_map_destroy (&map);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_slot_is_the_low_14_bits_of_the_first_two_bytes),
        cmocka_unit_test (test_parses_two_shards_with_comments_blank_lines_and_tabs),
        cmocka_unit_test (test_lookup_at_range_edges),
        cmocka_unit_test (test_single_shard_owns_every_slot_at_epoch_0),
        cmocka_unit_test (test_endpoint_must_be_connectable_tcp_or_ipc),
        cmocka_unit_test (test_every_error_names_its_line_and_fault),
        cmocka_unit_test (test_epoch_accepts_the_largest_uint64),
        cmocka_unit_test (test_shards_max_is_allowed_and_one_more_is_refused),
        cmocka_unit_test (test_file_over_the_size_limit_is_refused),
        cmocka_unit_test (test_load_reads_a_file_and_names_it_in_errors),
        cmocka_unit_test (test_minted_ids_are_in_the_shards_slots_and_stay_v4),
    };
    return cmocka_run_group_tests_name ("shard_map", tests, NULL, NULL);
}
