/*
 * test_shards — a gateway loop's shard routing (shards.h) without any
 * store running: ZeroMQ connects lazily, so the clients exist while
 * nothing answers. Pins the user slot function, owners by id and by user,
 * the single map, and what a reload keeps, makes and refuses.
 */
#include "shards.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char s_path[64];

static void
s_write_map (const char *text)
{
    FILE *f = fopen (s_path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static int
s_setup (void **state)
{
    (void)state;
    snprintf (s_path, sizeof s_path, "/tmp/test_shards-%d.map", (int)getpid ());
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    unlink (s_path);
    return 0;
}

static shards_t *
s_new (const char *map_path, const char *endpoint)
{
    store_client_config_t client = { 0 };
    return shards_new (map_path, endpoint, &client);
}

/* An id naming slot (the rest of it arbitrary). */
static void
s_id (uint16_t slot, uint8_t id[16])
{
    memset (id, 0xa5, 16);
    id[0] = (uint8_t)((id[0] & 0xc0) | (slot >> 8));
    id[1] = (uint8_t)(slot & 0xff);
}

static void
test_user_slot_is_fnv1a_mixed_modulo_the_slot_count (void **state)
{
    (void)state;
    /* fmix64 (FNV-1a 64) % 16384, computed apart (PROTOCOL.md §9 has them). */
    assert_int_equal (shards_user_slot ("", 0), 10534);
    assert_int_equal (shards_user_slot ("a", 1), 3675);
    assert_int_equal (shards_user_slot ("u-42", 4), shards_user_slot ("u-42xyz", 4));
    /* Names that differ in their last byte alone still spread. */
    unsigned hit[3] = { 0 };
    for (char c = '0'; c <= '9'; c++)
        hit[shards_user_slot ((char[]){ 'u', c }, 2) * 3 / SHARD_MAP_SLOTS]++;
    assert_true (hit[0] > 0 && hit[1] > 0 && hit[2] > 0);
    /* Users spread: 3000 of them over 3 equal shards, none near empty. */
    unsigned thirds[3] = { 0 };
    for (int i = 0; i < 3000; i++) {
        char user[32];
        int n = snprintf (user, sizeof user, "user-%d", i);
        thirds[shards_user_slot (user, (size_t)n) * 3 / SHARD_MAP_SLOTS]++;
    }
    for (int i = 0; i < 3; i++)
        assert_true (thirds[i] > 800 && thirds[i] < 1200);
}

static void
test_without_a_map_one_shard_owns_everything (void **state)
{
    (void)state;
    shards_t *shards = s_new (NULL, "tcp://127.0.0.1:5999");
    assert_non_null (shards);
    assert_int_equal (shards_size (shards), 1);
    assert_int_equal (shards_epoch (shards), 0);
    assert_string_equal (shards_endpoint (shards, 0), "tcp://127.0.0.1:5999");
    uint8_t id[16];
    s_id (16383, id);
    assert_int_equal (shards_owner_of (shards, id), 0);
    assert_int_equal (shards_owner_of_user (shards, "anyone", 6), 0);
    assert_int_equal (shards_reload (shards), -1); /* no file to reload */
    shards_destroy (&shards);
    assert_null (shards);
    shards_destroy (&shards);
}

static void
test_ids_and_users_go_to_their_slots_owner (void **state)
{
    (void)state;
    s_write_map ("epoch 3\nshard tcp://127.0.0.1:5901 0-99\n"
                 "shard tcp://127.0.0.1:5902 100-8191\nshard tcp://127.0.0.1:5903 8192-16383\n");
    shards_t *shards = s_new (s_path, NULL);
    assert_non_null (shards);
    assert_int_equal (shards_size (shards), 3);
    assert_int_equal (shards_epoch (shards), 3);
    uint8_t id[16];
    s_id (99, id);
    assert_int_equal (shards_owner_of (shards, id), 0);
    s_id (100, id);
    assert_int_equal (shards_owner_of (shards, id), 1);
    s_id (8192, id);
    assert_int_equal (shards_owner_of (shards, id), 2);
    for (int i = 0; i < 50; i++) {
        char user[16];
        int n = snprintf (user, sizeof user, "u%d", i);
        uint16_t slot = shards_user_slot (user, (size_t)n);
        size_t want = slot < 100 ? 0 : slot < 8192 ? 1 : 2;
        assert_int_equal (shards_owner_of_user (shards, user, (size_t)n), want);
    }
    assert_int_equal (shards_find_endpoint (shards, "tcp://127.0.0.1:5903", 20), 2);
    assert_int_equal (shards_find_endpoint (shards, "tcp://127.0.0.1:590", 19), -1);
    assert_int_equal (shards_find_endpoint (shards, "tcp://127.0.0.1:5904", 20), -1);
    shards_destroy (&shards);
}

static void
test_a_reload_keeps_shared_connections_and_refuses_older_maps (void **state)
{
    (void)state;
    s_write_map ("epoch 5\nshard tcp://127.0.0.1:5901 0-8191\nshard tcp://127.0.0.1:5902 "
                 "8192-16383\n");
    shards_t *shards = s_new (s_path, NULL);
    assert_non_null (shards);
    uint32_t link0 = shards_link (shards, 0), link1 = shards_link (shards, 1);
    assert_true (link0 != 0 && link1 != 0 && link0 != link1);
    unsigned generation = shards_generation (shards);
    /* The same epoch, or an older one, changes nothing. */
    s_write_map ("epoch 5\nshard tcp://127.0.0.1:5909 0-16383\n");
    assert_int_equal (shards_reload (shards), 0);
    s_write_map ("epoch 4\nshard tcp://127.0.0.1:5909 0-16383\n");
    assert_int_equal (shards_reload (shards), 0);
    assert_int_equal (shards_size (shards), 2);
    assert_int_equal (shards_generation (shards), generation);
    /* A broken file changes nothing either. */
    s_write_map ("epoch 9\nshard tcp://127.0.0.1:5901 0-100\n");
    assert_int_equal (shards_reload (shards), -1);
    assert_int_equal (shards_epoch (shards), 5);
    /* A newer map: 5902 kept (now shard 0, same link), 5901 closed, 5903 new. */
    s_write_map ("epoch 6\nshard tcp://127.0.0.1:5902 0-8191\nshard tcp://127.0.0.1:5903 "
                 "8192-16383\n");
    assert_int_equal (shards_reload (shards), 1);
    assert_int_equal (shards_epoch (shards), 6);
    assert_int_equal (shards_link (shards, 0), link1);
    assert_int_equal (shards_find_link (shards, link1), 0);
    assert_int_equal (shards_find_link (shards, link0), -1);
    uint32_t link2 = shards_link (shards, 1);
    assert_true (link2 != link0 && link2 != link1);
    assert_true (shards_generation (shards) != generation);
    uint8_t id[16];
    s_id (9000, id);
    assert_int_equal (shards_owner_of (shards, id), 1);
    assert_string_equal (shards_endpoint (shards, 1), "tcp://127.0.0.1:5903");
    /* A reset gives a shard a new link. */
    assert_int_equal (shards_reset (shards, 1), 0);
    assert_true (shards_link (shards, 1) != link2);
    assert_int_equal (shards_find_link (shards, link2), -1);
    shards_destroy (&shards);
}

static void
test_a_missing_or_broken_map_is_refused (void **state)
{
    (void)state;
    s_write_map ("epoch 1\nshard tcp://127.0.0.1:5901 0-16382\n");
    assert_null (s_new (s_path, NULL));
    unlink (s_path);
    assert_null (s_new (s_path, NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_user_slot_is_fnv1a_mixed_modulo_the_slot_count),
        cmocka_unit_test (test_without_a_map_one_shard_owns_everything),
        cmocka_unit_test (test_ids_and_users_go_to_their_slots_owner),
        cmocka_unit_test (test_a_reload_keeps_shared_connections_and_refuses_older_maps),
        cmocka_unit_test (test_a_missing_or_broken_map_is_refused),
    };
    return cmocka_run_group_tests_name ("shards", tests, s_setup, s_teardown);
}
