/*
 * test_dispatch_shard — a sharded store's dispatcher (dispatch_set_shard),
 * without sockets: creates mint ids in the shard's own slots (valid v4
 * UUIDs), from the first create after a new map too; a get or an update
 * naming another shard's slot is answered moved with the owner's endpoint,
 * the epoch and the slot, and changes nothing (no feed record, no journal,
 * no change); an id of our own slot that does not exist is still
 * not_found; stats report the shard. An unsharded dispatcher serves every
 * slot and reports epoch 0.
 */
#include "dispatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_MAP                                                                                      \
    "epoch 12\n"                                                                                   \
    "shard tcp://127.0.0.1:7001 0-99,8192-16383\n"                                                 \
    "shard tcp://127.0.0.1:7002 100-8191\n"

typedef struct {
    dispatch_t *dispatch;
    msgpack_sbuffer request, out;
    proto_reply_t reply;
    uint64_t rid;
    size_t changes, journaled;
} fixture_t;

static void
s_on_change (void *arg, const proto_change_t *change)
{
    (void)change;
    ((fixture_t *)arg)->changes++;
}

static int
s_on_journal (void *arg, bool ack, proto_change_kind_t kind, uint64_t seq,
              const proto_event_t *event)
{
    (void)ack, (void)kind, (void)seq, (void)event;
    ((fixture_t *)arg)->journaled++;
    return 0;
}

/* A dispatcher that is shard `shard` of S_MAP, or unsharded for -1. */
static fixture_t *
s_fixture_new (int shard)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    proto_limits_t limits = proto_limits_default ();
    self->dispatch = dispatch_new (100000, &limits);
    assert_non_null (self->dispatch);
    if (shard >= 0) {
        char err[256];
        shard_map_t *map = shard_map_parse (S_MAP, strlen (S_MAP), err, sizeof err);
        assert_non_null (map);
        dispatch_set_shard (self->dispatch, map, (size_t)shard);
    }
    dispatch_set_change_handler (self->dispatch, s_on_change, self);
    dispatch_set_journal_handler (self->dispatch, s_on_journal, self);
    msgpack_sbuffer_init (&self->request);
    msgpack_sbuffer_init (&self->out);
    return self;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    proto_reply_clear (&self->reply);
    msgpack_sbuffer_destroy (&self->request);
    msgpack_sbuffer_destroy (&self->out);
    dispatch_destroy (&self->dispatch);
    free (self);
    return 0;
}

static int
s_setup_shard0 (void **state)
{
    *state = s_fixture_new (0);
    return 0;
}

static int
s_setup_shard1 (void **state)
{
    *state = s_fixture_new (1);
    return 0;
}

static int
s_setup_unsharded (void **state)
{
    *state = s_fixture_new (-1);
    return 0;
}

/* Sends req through the dispatcher; the decoded reply is self->reply. */
static proto_reply_t *
s_call (fixture_t *self, proto_request_t *req)
{
    req->rid = ++self->rid;
    msgpack_sbuffer_clear (&self->request);
    assert_int_equal (proto_request_encode (req, &self->request), 0);
    proto_reply_clear (&self->reply);
    dispatch_frame (self->dispatch, self->request.data, self->request.size, &self->out);
    proto_error_t err;
    assert_int_equal (proto_reply_decode (self->out.data, self->out.size, &self->reply, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (self->reply.rid, self->rid);
    return &self->reply;
}

static proto_reply_t *
s_create (fixture_t *self)
{
    proto_request_t req = { .op = PROTO_OP_CREATE,
                            .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                            .user_id = PROTO_STR ("u"),
                            .description = PROTO_STR ("d") };
    return s_call (self, &req);
}

static proto_reply_t *
s_get (fixture_t *self, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (req.event_id, id, 16);
    return s_call (self, &req);
}

static proto_reply_t *
s_update (fixture_t *self, const uint8_t id[16])
{
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                            .status = PROTO_STR ("processed") };
    memcpy (req.event_id, id, 16);
    return s_call (self, &req);
}

static uint64_t
s_stat (fixture_t *self, const char *name)
{
    size_t n;
    const proto_stat_t *stats = dispatch_stats (self->dispatch, &n);
    for (size_t i = 0; i < n; i++)
        if (stats[i].name.len == strlen (name)
            && memcmp (stats[i].name.ptr, name, strlen (name)) == 0)
            return stats[i].value;
    fail_msg ("no stat %s", name);
    return 0;
}

/* An id in slot (v4 bits set, the rest a fixed pattern). */
static void
s_id_in_slot (uint16_t slot, uint8_t id[16])
{
    memset (id, 0x5c, 16);
    id[0] = (uint8_t)(slot >> 8);
    id[1] = (uint8_t)slot;
    id[6] = 0x4c;
    id[8] = 0x9c;
}

static void
test_creates_mint_ids_in_the_shards_own_slots (void **state)
{
    fixture_t *self = *state;
    const shard_map_t *map = dispatch_shard_map (self->dispatch);
    assert_non_null (map);
    bool low = false, high = false; /* shard 0 owns 0-99 and 8192-16383 */
    for (int i = 0; i < 3000; i++) {
        proto_reply_t *r = s_create (self);
        assert_int_equal (r->status, PROTO_OK);
        uint16_t slot = shard_map_slot_of (r->event.id);
        assert_int_equal (shard_map_owner (map, slot), 0);
        assert_int_equal (r->event.id[6] >> 4, 4);      /* version 4 */
        assert_int_equal (r->event.id[8] & 0xc0, 0x80); /* variant 10 */
        low |= slot < 100;
        high |= slot >= 8192;
        uint8_t id[16];
        memcpy (id, r->event.id, 16);
        assert_int_equal (s_get (self, id)->status, PROTO_OK);
    }
    assert_true (low && high); /* both ranges are used */
}

/* Each create mints the next create's id ahead (dispatch.c); a new map
   must not see one minted in a slot of the old map. */
static void
test_a_new_map_mints_in_its_own_slots_from_the_first_create (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_create (self)->status, PROTO_OK); /* the next id is minted */
    const char *swapped = "epoch 13\n"
                          "shard tcp://127.0.0.1:7001 100-8191\n"
                          "shard tcp://127.0.0.1:7002 0-99,8192-16383\n";
    char err[256];
    shard_map_t *map = shard_map_parse (swapped, strlen (swapped), err, sizeof err);
    assert_non_null (map);
    dispatch_set_shard (self->dispatch, map, 0);
    for (int i = 0; i < 200; i++) {
        proto_reply_t *r = s_create (self);
        assert_int_equal (r->status, PROTO_OK);
        uint16_t slot = shard_map_slot_of (r->event.id);
        assert_true (slot >= 100 && slot <= 8191);
    }
}

static void
test_other_shards_ids_are_moved_and_change_nothing (void **state)
{
    fixture_t *self = *state;
    uint8_t mine[16];
    memcpy (mine, s_create (self)->event.id, 16);
    size_t changes = self->changes, journaled = self->journaled;
    uint64_t head = s_stat (self, "head"), errors = s_stat (self, "errors");
    /* Even an id that exists in our table: it is not ours by the map (a
       journal from another map), and a stale answer must not go out. */
    uint16_t slots[] = { 100, 4000, 8191 };
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        uint8_t id[16];
        s_id_in_slot (slots[i], id);
        for (int op = 0; op < 2; op++) {
            proto_reply_t *r = op ? s_update (self, id) : s_get (self, id);
            assert_int_equal (r->status, PROTO_E_MOVED);
            assert_int_equal (r->op, op ? PROTO_OP_UPDATE : PROTO_OP_GET);
            assert_int_equal (r->moved.endpoint.len, strlen ("tcp://127.0.0.1:7002"));
            assert_memory_equal (r->moved.endpoint.ptr, "tcp://127.0.0.1:7002",
                                 r->moved.endpoint.len);
            assert_int_equal (r->moved.epoch, 12);
            assert_int_equal (r->moved.slot, slots[i]);
            assert_int_equal (r->field.len, 8);
            assert_non_null (r->message.ptr);
        }
    }
    assert_int_equal (self->changes, changes);
    assert_int_equal (self->journaled, journaled);
    assert_int_equal (s_stat (self, "head"), head);
    assert_int_equal (s_stat (self, "errors"), errors + 6);
    assert_int_equal (dispatch_counters (self->dispatch)->ops[PROTO_OP_GET][PROTO_E_MOVED], 3);
    assert_int_equal (dispatch_counters (self->dispatch)->ops[PROTO_OP_UPDATE][PROTO_E_MOVED], 3);
    /* Our own slots: served, or not_found, never moved. */
    assert_int_equal (s_update (self, mine)->status, PROTO_OK);
    uint8_t absent[16];
    s_id_in_slot (99, absent);
    assert_int_equal (s_get (self, absent)->status, PROTO_E_NOT_FOUND);
    s_id_in_slot (8192, absent);
    assert_int_equal (s_update (self, absent)->status, PROTO_E_NOT_FOUND);
}

static void
test_shard_1_redirects_to_shard_0 (void **state)
{
    fixture_t *self = *state;
    uint8_t id[16];
    s_id_in_slot (16383, id);
    proto_reply_t *r = s_get (self, id);
    assert_int_equal (r->status, PROTO_E_MOVED);
    assert_memory_equal (r->moved.endpoint.ptr, "tcp://127.0.0.1:7001", r->moved.endpoint.len);
    for (int i = 0; i < 500; i++) {
        uint16_t slot = shard_map_slot_of (s_create (self)->event.id);
        assert_true (slot >= 100 && slot <= 8191);
    }
}

static void
test_list_and_feed_are_the_shards_own (void **state)
{
    fixture_t *self = *state;
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_create (self)->status, PROTO_OK);
    proto_request_t list = { .op = PROTO_OP_LIST };
    assert_int_equal (s_call (self, &list)->n_items, 5);
    proto_request_t read = { .op = PROTO_OP_FEED_READ };
    proto_reply_t *r = s_call (self, &read);
    assert_int_equal (r->status, PROTO_OK);
    assert_int_equal (r->n_changes, 5);
    proto_request_t ack = { .op = PROTO_OP_FEED_ACK, .has = PROTO_HAS_SEQ, .seq = 5 };
    assert_int_equal (s_call (self, &ack)->acked, 5);
}

static void
test_stats_report_the_shard_and_the_epoch (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_stat (self, "shard_id"), 1);
    assert_int_equal (s_stat (self, "shard_epoch"), 12);
    assert_int_equal (s_stat (self, "shard_slots"), 8092);
}

static void
test_unsharded_store_serves_every_slot_at_epoch_0 (void **state)
{
    fixture_t *self = *state;
    assert_null (dispatch_shard_map (self->dispatch));
    assert_int_equal (s_stat (self, "shard_id"), 0);
    assert_int_equal (s_stat (self, "shard_epoch"), 0);
    assert_int_equal (s_stat (self, "shard_slots"), SHARD_MAP_SLOTS);
    uint8_t id[16];
    s_id_in_slot (4000, id);
    assert_int_equal (s_get (self, id)->status, PROTO_E_NOT_FOUND);
    /* Ids keep all their random bits: both halves of the slot space turn
       up among a few hundred creates. */
    bool low = false, high = false;
    for (int i = 0; i < 300; i++) {
        uint8_t made[16];
        memcpy (made, s_create (self)->event.id, 16);
        low |= shard_map_slot_of (made) < 8192;
        high |= shard_map_slot_of (made) >= 8192;
        assert_int_equal (s_get (self, made)->status, PROTO_OK);
    }
    assert_true (low && high);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_creates_mint_ids_in_the_shards_own_slots,
                                         s_setup_shard0, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_new_map_mints_in_its_own_slots_from_the_first_create, s_setup_shard0,
            s_teardown),
        cmocka_unit_test_setup_teardown (test_other_shards_ids_are_moved_and_change_nothing,
                                         s_setup_shard0, s_teardown),
        cmocka_unit_test_setup_teardown (test_shard_1_redirects_to_shard_0, s_setup_shard1,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_list_and_feed_are_the_shards_own, s_setup_shard1,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_stats_report_the_shard_and_the_epoch, s_setup_shard1,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_unsharded_store_serves_every_slot_at_epoch_0,
                                         s_setup_unsharded, s_teardown),
    };
    return cmocka_run_group_tests_name ("dispatch_shard", tests, NULL, NULL);
}
