/*
 * test_store_bounds — what a client can make the real herald-store hold
 * (issue 14, containment), over real sockets:
 *   - the event cap (--max-events) and the memory cap (--max-memory):
 *     creates past it get store_full and change nothing, updates and reads
 *     go on; a journal holding more than a lowered cap still loads whole,
 *     and the store then refuses creates only.
 */
#include "durable_client.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* The stat named name; fails the test when absent. */
static uint64_t
s_stat (fixture_t *self, const char *name)
{
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t *reply = dc_call (self, &req);
    assert_int_equal (reply->status, PROTO_OK);
    for (size_t i = 0; i < reply->n_stats; i++)
        if (reply->stats[i].name.len == strlen (name)
            && memcmp (reply->stats[i].name.ptr, name, strlen (name)) == 0)
            return reply->stats[i].value;
    fail_msg ("no stat %s", name);
    return 0;
}

static proto_reply_t *
s_update (fixture_t *self, const uint8_t id[16], const char *status)
{
    proto_request_t req = { .op = PROTO_OP_UPDATE,
                            .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                            .status = { status, strlen (status) } };
    memcpy (req.event_id, id, 16);
    return dc_call (self, &req);
}

/* Stops the store with SIGTERM; it must exit 0. */
static void
s_stop (fixture_t *self)
{
    dc_disconnect (self);
    int status = harness_stop (self->pid, SIGTERM, TIMEOUT_MS);
    self->pid = 0;
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

static void
test_store_event_cap_refuses_creates_only_and_survives_a_lowered_cap (void **state)
{
    fixture_t *self = *state;
    const char *const three[] = { "--max-events", "3", NULL };
    dc_start (self, three);
    assert_int_equal (s_stat (self, "max_events"), 3);
    uint8_t ids[3][16];
    for (int i = 0; i < 3; i++) {
        proto_reply_t *reply = dc_create (self, "u", "within the cap");
        assert_int_equal (reply->status, PROTO_OK);
        memcpy (ids[i], reply->event.id, 16);
    }
    proto_reply_t *reply = dc_create (self, "u", "one too many");
    assert_int_equal (reply->status, PROTO_E_STORE_FULL);
    assert_non_null (strstr (reply->message.ptr, "max-events 3"));
    assert_int_equal (s_stat (self, "events"), 3);
    assert_int_equal (s_stat (self, "head"), 3);
    assert_int_equal (s_update (self, ids[0], "processed")->status, PROTO_OK);
    s_stop (self);

    /* A lower cap than the journal holds: loaded whole, warned about,
       creates refused, the rest served. */
    const char *const two[] = { "--max-events", "2", NULL };
    dc_start (self, two);
    assert_int_equal (s_stat (self, "events"), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (dc_get (self, ids[i])->status, PROTO_OK);
    assert_int_equal (dc_create (self, "u", "still full")->status, PROTO_E_STORE_FULL);
    assert_int_equal (s_update (self, ids[1], "processed")->status, PROTO_OK);
    assert_int_equal (harness_count_lines (self->log, "the store is full"), 1);
    s_stop (self);

    /* No cap: creates go in again. */
    const char *const none[] = { "--max-events", "0", NULL };
    dc_start (self, none);
    assert_int_equal (dc_create (self, "u", "room again")->status, PROTO_OK);
    assert_int_equal (s_stat (self, "events"), 4);
}

static void
test_store_memory_cap_refuses_creates_once_reached (void **state)
{
    fixture_t *self = *state;
    dc_start (self, NULL);
    assert_int_equal (dc_create (self, "u", "first")->status, PROTO_OK);
    uint64_t bytes = s_stat (self, "table_bytes");
    assert_true (bytes > 0);
    s_stop (self);

    /* One byte of room: the next create goes in, the one after is refused. */
    char cap[32];
    snprintf (cap, sizeof cap, "%llu", (unsigned long long)bytes + 1);
    const char *const args[] = { "--max-memory", cap, NULL };
    dc_start (self, args);
    assert_int_equal (s_stat (self, "table_bytes"), bytes);
    assert_int_equal (s_stat (self, "max_memory"), bytes + 1);
    assert_int_equal (dc_create (self, "u", "second")->status, PROTO_OK);
    proto_reply_t *reply = dc_create (self, "u", "third");
    assert_int_equal (reply->status, PROTO_E_STORE_FULL);
    assert_non_null (strstr (reply->message.ptr, "max-memory"));
    assert_int_equal (s_stat (self, "events"), 2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_store_event_cap_refuses_creates_only_and_survives_a_lowered_cap, dc_setup,
            dc_teardown),
        cmocka_unit_test_setup_teardown (test_store_memory_cap_refuses_creates_once_reached,
                                         dc_setup, dc_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
