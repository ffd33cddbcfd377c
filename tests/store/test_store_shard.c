/*
 * test_store_shard — the real herald-store binary as shards of a 2-shard
 * map (issue 17, step 1), over real sockets: each shard mints ids in its
 * own slots; a get or update of an id in the other shard's slots is
 * answered `moved` with that shard's endpoint, the map's epoch and the
 * slot, and following the redirect finds the event; list and the feed are
 * each shard's own; stats name the shard and the epoch; the environment
 * variables work like the flags; a broken map, a missing --shard-id or one
 * the map does not have stop start-up with exit 2 and a precise message;
 * and a store without a map serves every slot as before.
 */
#include "harness.h"
#include "proto.h"
#include "shard_map.h"

#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define TIMEOUT_MS 5000
#define EPOCH 41

typedef struct {
    pid_t pid;
    char endpoint[64];
    zsock_t *dealer;
    zframe_t *frame; /* the last reply; its strings point into it */
    proto_reply_t reply;
} store_t;

typedef struct {
    store_t shards[2];
    store_t plain; /* no map */
    char map_path[600];
    uint64_t rid;
} fixture_t;

static fixture_t s_fx;

static void
s_write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

/* Starts a store at a free port; map_args are extra argv entries (NULL
   terminated, may be empty), env extra environment (may be NULL). */
static int
s_store_start (store_t *store, int port, const char *name, const char *const map_args[],
               const char *const env[])
{
    char bind[64], pub[64], log[700];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    snprintf (store->endpoint, sizeof store->endpoint, "%s", bind);
    snprintf (log, sizeof log, "%s/%s.log", harness_tmpdir (), name);
    const char *argv[16] = { harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub };
    size_t n = 5;
    for (size_t i = 0; map_args[i]; i++)
        argv[n++] = map_args[i];
    argv[n] = NULL;
    store->pid = harness_spawn (argv, env, NULL, log);
    if (store->pid < 0 || harness_wait_tcp (port, 10000) != 0)
        return -1;
    store->dealer = zsock_new (ZMQ_DEALER);
    if (!store->dealer)
        return -1;
    zsock_set_rcvtimeo (store->dealer, TIMEOUT_MS);
    return zsock_connect (store->dealer, "%s", store->endpoint);
}

static void
s_store_stop (store_t *store)
{
    proto_reply_clear (&store->reply);
    zframe_destroy (&store->frame);
    zsock_destroy (&store->dealer);
    if (store->pid > 0 && harness_alive (store->pid))
        harness_stop (store->pid, SIGKILL, 5000);
}

static int
s_setup (void **state)
{
    fixture_t *self = &s_fx;
    int ports[2] = { harness_free_port (), harness_free_port () };
    snprintf (self->map_path, sizeof self->map_path, "%s/shards.map", harness_tmpdir ());
    char map[512];
    snprintf (map, sizeof map,
              "# a 2-shard map for test_store_shard\n"
              "epoch %d\n"
              "shard tcp://127.0.0.1:%d 0-8191\n"
              "shard tcp://127.0.0.1:%d 8192-16383\n",
              EPOCH, ports[0], ports[1]);
    s_write_file (self->map_path, map);
    const char *shard0[] = { "--shard-map", self->map_path, "--shard-id", "0", NULL };
    /* Shard 1 takes both from the environment. */
    char env_map[700];
    snprintf (env_map, sizeof env_map, "HERALD_SHARD_MAP=%s", self->map_path);
    const char *env1[] = { env_map, "HERALD_SHARD_ID=1", NULL };
    const char *none[] = { NULL };
    if (s_store_start (&self->shards[0], ports[0], "shard0", shard0, NULL) != 0
        || s_store_start (&self->shards[1], ports[1], "shard1", none, env1) != 0
        || s_store_start (&self->plain, harness_free_port (), "plain", none, NULL) != 0)
        return -1;
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    fixture_t *self = &s_fx;
    s_store_stop (&self->shards[0]);
    s_store_stop (&self->shards[1]);
    s_store_stop (&self->plain);
    return 0;
}

static proto_reply_t *
s_call (store_t *store, proto_request_t *req)
{
    req->rid = ++s_fx.rid;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (proto_request_encode (req, &buf), 0);
    assert_int_equal (zmq_send (zsock_resolve (store->dealer), buf.data, buf.size, 0),
                      (int)buf.size);
    msgpack_sbuffer_destroy (&buf);
    proto_reply_clear (&store->reply);
    zframe_destroy (&store->frame);
    store->frame = zframe_recv (store->dealer);
    assert_non_null (store->frame); /* answered within TIMEOUT_MS */
    proto_error_t err;
    assert_int_equal (proto_reply_decode (zframe_data (store->frame), zframe_size (store->frame),
                                          &store->reply, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (store->reply.rid, req->rid);
    assert_int_equal (store->reply.op, req->op);
    return &store->reply;
}

static void
s_create (store_t *store, const char *user, uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = { user, strlen (user) },
                            .description = PROTO_STR ("sharded") };
    proto_reply_t *r = s_call (store, &req);
    assert_int_equal (r->status, PROTO_OK);
    memcpy (id, r->event.id, 16);
}

static proto_reply_t *
s_get (store_t *store, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    return s_call (store, &req);
}

static proto_reply_t *
s_update (store_t *store, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                            .status = PROTO_STR ("processed") };
    memcpy (req.event_id, id, 16);
    return s_call (store, &req);
}

static uint64_t
s_stat (store_t *store, const char *name)
{
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *r = s_call (store, &req);
    assert_int_equal (r->status, PROTO_OK);
    for (size_t i = 0; i < r->n_stats; i++)
        if (r->stats[i].name.len == strlen (name)
            && memcmp (r->stats[i].name.ptr, name, r->stats[i].name.len) == 0)
            return r->stats[i].value;
    fail_msg ("no stat %s", name);
    return 0;
}

/* r is a moved reply naming store, the map's epoch and slot. */
static void
s_assert_moved_to (const proto_reply_t *r, const store_t *store, uint16_t slot)
{
    assert_int_equal (r->status, PROTO_E_MOVED);
    assert_int_equal (r->moved.endpoint.len, strlen (store->endpoint));
    assert_memory_equal (r->moved.endpoint.ptr, store->endpoint, r->moved.endpoint.len);
    assert_int_equal (r->moved.epoch, EPOCH);
    assert_int_equal (r->moved.slot, slot);
}

static bool
s_is_v4 (const uint8_t id[16])
{
    return (id[6] >> 4) == 4 && (id[8] & 0xc0) == 0x80;
}

static void
test_each_shard_mints_ids_in_its_own_slots (void **state)
{
    fixture_t *self = *state;
    for (int i = 0; i < 200; i++) {
        uint8_t id[16];
        s_create (&self->shards[0], "u-mint", id);
        assert_true (shard_map_slot_of (id) < 8192);
        assert_true (s_is_v4 (id));
        s_create (&self->shards[1], "u-mint", id);
        assert_true (shard_map_slot_of (id) >= 8192);
        assert_true (s_is_v4 (id));
    }
}

static void
test_other_shards_ids_are_moved_with_owner_and_epoch (void **state)
{
    fixture_t *self = *state;
    uint8_t id[16];
    s_create (&self->shards[1], "u-moved", id);
    uint16_t slot = shard_map_slot_of (id);
    uint64_t head = s_stat (&self->shards[0], "head");
    /* Shard 0 does not own the id: it redirects, for reads and writes. */
    s_assert_moved_to (s_get (&self->shards[0], id), &self->shards[1], slot);
    proto_reply_t *r = s_update (&self->shards[0], id);
    s_assert_moved_to (r, &self->shards[1], slot);
    assert_true (r->message.len > 0);
    assert_int_equal (s_stat (&self->shards[0], "head"), head); /* nothing written */
    /* Following the redirect finds the event; the update is the owner's. */
    r = s_update (&self->shards[1], id);
    assert_int_equal (r->status, PROTO_OK);
    assert_memory_equal (r->event.id, id, 16);
    /* And the other way round. */
    s_create (&self->shards[0], "u-moved", id);
    s_assert_moved_to (s_get (&self->shards[1], id), &self->shards[0], shard_map_slot_of (id));
    assert_int_equal (s_get (&self->shards[0], id)->status, PROTO_OK);
    /* An id of our own slots that does not exist is not_found, not moved. */
    id[15] ^= 0xff;
    assert_int_equal (s_get (&self->shards[0], id)->status, PROTO_E_NOT_FOUND);
}

static void
test_list_feed_and_stats_are_per_shard (void **state)
{
    fixture_t *self = *state;
    uint8_t id[16];
    for (int i = 0; i < 3; i++)
        s_create (&self->shards[0], "u-list-0", id);
    s_create (&self->shards[1], "u-list-1", id);
    proto_request_t list = { .op = PROTO_OP_LIST,
                             .has = PROTO_HAS_USER_ID,
                             .user_id = PROTO_STR ("u-list-0") };
    assert_int_equal (s_call (&self->shards[0], &list)->n_items, 3);
    assert_int_equal (s_call (&self->shards[1], &list)->n_items, 0);
    proto_request_t read = { .op = PROTO_OP_FEED_READ };
    proto_reply_t *r = s_call (&self->shards[1], &read);
    assert_int_equal (r->status, PROTO_OK);
    for (size_t i = 0; i < r->n_changes; i++)
        assert_true (shard_map_slot_of (r->changes[i].event.id) >= 8192);
    assert_true (r->n_changes > 0);
    assert_int_equal (s_stat (&self->shards[0], "shard_id"), 0);
    assert_int_equal (s_stat (&self->shards[1], "shard_id"), 1);
    assert_int_equal (s_stat (&self->shards[1], "shard_epoch"), EPOCH);
    assert_int_equal (s_stat (&self->shards[1], "shard_slots"), 8192);
}

static void
test_a_store_without_a_map_serves_every_slot (void **state)
{
    fixture_t *self = *state;
    store_t *plain = &self->plain;
    assert_int_equal (s_stat (plain, "shard_epoch"), 0);
    assert_int_equal (s_stat (plain, "shard_slots"), SHARD_MAP_SLOTS);
    bool low = false, high = false;
    for (int i = 0; i < 200; i++) {
        uint8_t id[16];
        s_create (plain, "u-plain", id);
        assert_true (s_is_v4 (id));
        low |= shard_map_slot_of (id) < 8192;
        high |= shard_map_slot_of (id) >= 8192;
        assert_int_equal (s_get (plain, id)->status, PROTO_OK);
        assert_int_equal (s_update (plain, id)->status, PROTO_OK);
    }
    assert_true (low && high);
    uint8_t absent[16];
    memset (absent, 0x77, 16); /* a slot shard 1 owns */
    assert_int_equal (s_get (plain, absent)->status, PROTO_E_NOT_FOUND);
}

/* Runs herald-store with args to completion; its exit status. */
static int
s_run (const char *const args[], const char *const env[], const char *log)
{
    const char *argv[16] = { harness_bin ("herald-store"), "--bind", "tcp://127.0.0.1:1",
                             "--pub-bind", "tcp://127.0.0.1:2" };
    size_t n = 5;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = harness_spawn (argv, env, NULL, log);
    assert_true (pid > 0);
    int status = harness_stop (pid, 0, 10000); /* signal 0: just wait */
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static void
s_refused_at_start (const char *const args[], const char *const env[], const char *expected)
{
    char log[700];
    snprintf (log, sizeof log, "%s/refused.log", harness_tmpdir ());
    unlink (log);
    assert_int_equal (s_run (args, env, log), 2);
    if (harness_count_lines (log, expected) != 1) {
        print_error ("expected '%s' in %s\n", expected, log);
        fail ();
    }
}

static void
test_a_wrong_map_or_shard_id_stops_start_up (void **state)
{
    fixture_t *self = *state;
    char bad[700];
    snprintf (bad, sizeof bad, "%s/overlap.map", harness_tmpdir ());
    s_write_file (bad, "epoch 2\nshard tcp://h:1 0-9000\nshard tcp://h:2 9000-16383\n");
    const char *overlap[] = { "--shard-map", bad, "--shard-id", "0", NULL };
    s_refused_at_start (overlap, NULL, "line 3: slot 9000 is already owned by shard 0 (line 2)");
    const char *range[] = { "--shard-map", self->map_path, "--shard-id", "2", NULL };
    s_refused_at_start (range, NULL, "--shard-id 2:");
    const char *alone[] = { "--shard-map", self->map_path, NULL };
    s_refused_at_start (alone, NULL, "--shard-map and --shard-id go together");
    const char *none[] = { NULL };
    const char *env_only_id[] = { "HERALD_SHARD_ID=0", NULL };
    s_refused_at_start (none, env_only_id, "--shard-map and --shard-id go together");
    snprintf (bad, sizeof bad, "%s/missing.map", harness_tmpdir ());
    const char *missing[] = { "--shard-map", bad, "--shard-id", "0", NULL };
    s_refused_at_start (missing, NULL, "No such file or directory");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_shard_mints_ids_in_its_own_slots),
        cmocka_unit_test (test_other_shards_ids_are_moved_with_owner_and_epoch),
        cmocka_unit_test (test_list_feed_and_stats_are_per_shard),
        cmocka_unit_test (test_a_store_without_a_map_serves_every_slot),
        cmocka_unit_test (test_a_wrong_map_or_shard_id_stops_start_up),
    };
    return cmocka_run_group_tests_name ("store_shard", tests, s_setup, s_teardown);
}
