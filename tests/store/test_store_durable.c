/*
 * test_store_durable — the real herald-store binary with a data dir, over
 * real sockets, killed where the journal must hold (issue 12):
 *   - kill -9 in the middle of a pipelined burst of creates, updates and
 *     feed acks, under fsync always and everysec: every change whose reply
 *     said ok is there after the restart, in its last acknowledged state
 *     (or a later one whose reply was in flight), the feed cursor no lower
 *     than acknowledged;
 *   - everysec's window: a power loss is simulated by cutting the journal
 *     back to the size the store last reported synced; what is lost is a
 *     suffix of what was acknowledged (never a hole), and its age is
 *     measured and printed;
 *   - a kill at each step of a compaction, the store replaying correctly;
 *   - every create of a batch whose reply said ok, after a kill -9.
 */
#include "durable_client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* ---- The burst ----------------------------------------------------------- */

/* What a request in flight was, by rid. */
typedef struct {
    uint64_t rid;
    proto_op_t op;
    size_t event; /* update: index into events */
    int status;   /* update: the status it sets */
    uint64_t seq; /* feed_ack */
} inflight_t;

/* Handles one reply of the burst. */
static void
s_burst_reply (fixture_t *self, inflight_t *slots, proto_reply_t *r, int64_t *ack_times)
{
    inflight_t *f = &slots[r->rid % (WINDOW * 4)];
    assert_int_equal (f->rid, r->rid);
    assert_int_equal (r->status, PROTO_OK);
    if (f->op == PROTO_OP_CREATE) {
        assert_true (self->n_events < EVENTS_MAX);
        if (ack_times)
            ack_times[self->n_events] = clock_mono_ms ();
        memcpy (self->events[self->n_events++].id, r->event.id, 16);
        if (r->event.seq > self->max_change_seq)
            self->max_change_seq = r->event.seq;
    } else if (f->op == PROTO_OP_UPDATE) {
        tracked_t *e = &self->events[f->event];
        e->acked_status = f->status;
        e->pending_status = 0;
        if (r->event.seq > self->max_change_seq)
            self->max_change_seq = r->event.seq;
    } else if (f->op == PROTO_OP_FEED_ACK) {
        if (r->acked > self->acked_cursor)
            self->acked_cursor = r->acked;
    }
    f->rid = 0;
}

/* Pipelines creates, updates of acknowledged events (one in flight per
   event) and feed acks, WINDOW in flight, until `creates` creates were
   acknowledged; then SIGKILLs the store with requests still in flight.
   ack_times (may be NULL) gets each create's acknowledgement time. On
   every `stats_every`th reply (0 never) a stats request is sent too and
   *synced gets the highest journal_synced_bytes seen, *synced_at its time;
   the burst then also goes on until the synced size grew `syncs` times and
   for `creates` more acknowledged creates after that, so the kill finds
   synced and unsynced records both. */
static void
s_burst_then_kill (fixture_t *self, size_t creates, int64_t *ack_times, int stats_every,
                   uint64_t *synced, int64_t *synced_at, int syncs)
{
    int grew = 0;
    inflight_t *slots = calloc (WINDOW * 4, sizeof *slots);
    size_t in_flight = 0, replies = 0;
    uint64_t stats_rid = 0;
    unsigned seed = 12345;
    size_t target = self->n_events + creates;
    int64_t deadline = clock_mono_ms () + 120000;
    while (self->n_events < target || grew < syncs) {
        assert_true (self->n_events < EVENTS_MAX - WINDOW); /* bounded */
        assert_true (clock_mono_ms () < deadline);
        if (grew < syncs)
            target = self->n_events + creates;
        /* Waiting for the syncs: past half the tracked events, updates and
           acks only (they grow the journal too), so a fast store cannot
           run out of tracked events before its sync thread has run. */
        bool hold = grew < syncs && self->n_events >= EVENTS_MAX / 2;
        while (in_flight < WINDOW) {
            proto_request_t req = { .rid = ++self->rid };
            inflight_t *f = &slots[req.rid % (WINDOW * 4)];
            assert_int_equal (f->rid, 0);
            *f = (inflight_t){ .rid = req.rid };
            unsigned dice = (unsigned)rand_r (&seed) % 10;
            size_t pick = self->n_events ? (size_t)rand_r (&seed) % self->n_events : 0;
            char status[16], desc[48]; /* encoded by dc_send below: same scope */
            if ((dice < 3 || hold) && self->n_events && self->events[pick].pending_status == 0) {
                tracked_t *e = &self->events[pick];
                req.op = PROTO_OP_UPDATE;
                req.has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS;
                memcpy (req.event_id, e->id, 16);
                e->pending_status = e->acked_status + 1;
                dc_status_text (e->pending_status, status, sizeof status);
                req.status = (proto_str_t){ status, strlen (status) };
                f->event = pick;
                f->status = e->pending_status;
            } else if ((dice == 3 || hold) && self->max_change_seq > 0) {
                req.op = PROTO_OP_FEED_ACK;
                req.has = PROTO_HAS_SEQ;
                req.seq = self->max_change_seq - self->max_change_seq / 8;
            } else {
                snprintf (desc, sizeof desc, "burst event %llu", (unsigned long long)req.rid);
                req.op = PROTO_OP_CREATE;
                req.has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION;
                req.user_id = PROTO_STR ("burst-user");
                req.description = (proto_str_t){ desc, strlen (desc) };
            }
            f->op = req.op;
            dc_send (self, &req);
            in_flight++;
        }
        proto_reply_t *r = dc_recv (self);
        assert_non_null (r);
        if (r->rid == stats_rid) {
            for (size_t i = 0; i < r->n_stats; i++) {
                if (r->stats[i].name.len == 23
                    && memcmp (r->stats[i].name.ptr, "journal_unsynced_max_ms", 23) == 0)
                    self->unsynced_max_ms = r->stats[i].value;
                if (r->stats[i].name.len == 20
                    && memcmp (r->stats[i].name.ptr, "journal_synced_bytes", 20) == 0
                    && r->stats[i].value > *synced) {
                    *synced = r->stats[i].value;
                    grew++;
                    *synced_at = clock_mono_ms ();
                }
            }
            stats_rid = 0;
            continue;
        }
        s_burst_reply (self, slots, r, ack_times);
        in_flight--;
        if (stats_every && ++replies % (size_t)stats_every == 0 && stats_rid == 0) {
            proto_request_t req = { .op = PROTO_OP_STATS, .rid = ++self->rid };
            stats_rid = req.rid;
            dc_send (self, &req);
        }
    }
    assert_true (in_flight > 0); /* killed mid-burst, requests unanswered */
    dc_kill9 (self);
    dc_disconnect (self);
    free (slots);
}

static void
s_kill9_burst (fixture_t *self, const char *fsync)
{
    const char *extra[] = { "--fsync", fsync, NULL };
    dc_start (self, extra);
    s_burst_then_kill (self, 3000, NULL, 0, NULL, NULL, 0);
    dc_start (self, extra);
    assert_int_equal (dc_check_events (self, self->n_events, NULL, true), 0);
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = 1 };
    proto_reply_t *r = dc_call (self, &read);
    assert_true (r->acked >= self->acked_cursor);
    assert_true (r->head >= self->max_change_seq);
    printf ("# fsync %s: %zu acknowledged creates, all back after kill -9; cursor %llu >= %llu, "
            "head %llu >= %llu\n",
            fsync, self->n_events, (unsigned long long)r->acked,
            (unsigned long long)self->acked_cursor, (unsigned long long)r->head,
            (unsigned long long)self->max_change_seq);
    /* Writes go on from the next sequence number. */
    r = dc_create (self, "after", "restart");
    assert_int_equal (r->status, PROTO_OK);
    assert_true (r->event.seq > self->max_change_seq);
}

static void
test_kill9_mid_burst_always_loses_no_acknowledged_change (void **state)
{
    s_kill9_burst (*state, "always");
}

static void
test_kill9_mid_burst_everysec_loses_nothing_written (void **state)
{
    /* A process crash keeps what write() handed the kernel, synced or not. */
    s_kill9_burst (*state, "everysec");
}

static void
test_everysec_power_loss_loses_a_suffix_within_the_window (void **state)
{
    fixture_t *self = *state;
    const char *extra[] = { "--fsync", "everysec", "--feed-max", "10000000", NULL };
    dc_start (self, extra);
    int64_t *ack_times = calloc (EVENTS_MAX, sizeof *ack_times);
    uint64_t synced = 0;
    int64_t synced_at = 0;
    s_burst_then_kill (self, 2000, ack_times, 50, &synced, &synced_at, 2);
    int64_t killed_at = clock_mono_ms ();
    assert_true (synced > 0); /* the sync thread ran during the burst */
    /* The power loss: what was not known synced is gone. */
    assert_int_equal (truncate (self->journal, (off_t)synced), 0);
    dc_start (self, extra);
    bool *missing = calloc (EVENTS_MAX, sizeof *missing);
    /* A power loss may also take acknowledged updates: presence only. */
    size_t lost = dc_check_events (self, self->n_events, missing, false);
    /* A log loses a suffix: nothing acknowledged before a survivor is gone. */
    size_t first_lost = self->n_events;
    for (size_t i = 0; i < self->n_events; i++)
        if (missing[i] && first_lost == self->n_events)
            first_lost = i;
    for (size_t i = first_lost; i < self->n_events; i++)
        assert_true (missing[i]);
    int64_t window = lost ? killed_at - ack_times[first_lost] : 0;
    printf ("# everysec power loss: %zu of %zu acknowledged creates lost, the oldest "
            "acknowledged %lld ms before the loss (last sync seen %lld ms before it); the "
            "store's longest wait of written data for its sync: %llu ms\n",
            lost, self->n_events, (long long)window, (long long)(killed_at - synced_at),
            (unsigned long long)self->unsynced_max_ms);
    free (missing);
    free (ack_times);
}

/* ---- Compaction ---------------------------------------------------------- */

static void
s_crash_during_compaction (fixture_t *self, const char *step)
{
    char env[64];
    snprintf (env, sizeof env, "HERALD_STORE_CRASH_AT=%s", step);
    const char *envs[] = { env, NULL };
    const char *extra[] = { "--compact-min-bytes", "4096", NULL };
    assert_true (dc_spawn (self, extra, envs) > 0);
    dc_connect (self);
    /* Updates grow the journal past twice the live data: the tick compacts,
       and the store kills itself at `step` (at once, when the journal the
       last step left is already over the bound). */
    if (self->n_events == 0)
        dc_create_some (self, 20);
    int rounds = 0;
    while (harness_alive (self->pid) && rounds < 3000) {
        tracked_t *e = &self->events[rounds % self->n_events];
        proto_request_t req = { .op = PROTO_OP_UPDATE,
                                .has = PROTO_HAS_EVENT_ID | PROTO_HAS_STATUS,
                                .rid = ++self->rid };
        memcpy (req.event_id, e->id, 16);
        char status[16];
        e->pending_status = e->acked_status + 1;
        dc_status_text (e->pending_status, status, sizeof status);
        req.status = (proto_str_t){ status, strlen (status) };
        dc_send (self, &req);
        zsock_set_rcvtimeo (self->dealer, 1500);
        proto_reply_t *r = dc_recv (self);
        if (!r)
            continue; /* died: the loop ends on harness_alive */
        assert_int_equal (r->status, PROTO_OK);
        e->acked_status = e->pending_status;
        e->pending_status = 0;
        rounds++;
    }
    assert_false (harness_alive (self->pid));
    self->pid = 0;
    char needle[80];
    snprintf (needle, sizeof needle, "HERALD_STORE_CRASH_AT=%s", step);
    assert_int_equal (harness_count_lines (self->log, needle), 1);
    /* The next start replays whichever journal the crash left. */
    dc_start (self, NULL);
    assert_int_equal (dc_check_events (self, self->n_events, NULL, true), 0);
    dc_kill9 (self);
    dc_disconnect (self);
    const char *verify[] = { "--journal-verify", NULL };
    assert_true (dc_spawn (self, verify, NULL) > 0);
    assert_int_equal (dc_wait_exit (self), 0);
}

static void
test_kill_at_each_compaction_step_replays_correctly (void **state)
{
    fixture_t *self = *state;
    const char *steps[] = { "rewrite-forked", "rewrite-copied", "rewrite-renamed", "rewrite-done" };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        s_crash_during_compaction (self, steps[i]);
        printf ("# killed at %s: %zu events back, journal verified\n", steps[i], self->n_events);
    }
}

/* The "feed" head in a live-stream body, or 0 when it is not one. */
static uint64_t
s_feed_head (zframe_t *body)
{
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    uint64_t head = 0;
    if (msgpack_unpack_next (&u, (const char *)zframe_data (body), zframe_size (body), NULL)
            == MSGPACK_UNPACK_SUCCESS
        && u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 4
                && memcmp (kv->key.via.str.ptr, "head", 4) == 0
                && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                head = kv->val.via.u64;
        }
    msgpack_unpacked_destroy (&u);
    return head;
}

/* With a journal a change is announced once committed, as without one: a
   subscriber to everything gets the create's note, then the "feed"
   message whose head is that create's seq (the notifier's wake-up). */
static void
test_journaled_change_is_announced_note_then_feed (void **state)
{
    fixture_t *self = *state;
    dc_start (self, NULL);
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    zsock_t *sub = zsock_new_sub (pub, "");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 200);
    zmsg_t *msg = NULL;
    for (int i = 0; i < 50 && !msg; i++) {
        assert_int_equal (dc_create (self, "u", "heard yet?")->status, PROTO_OK);
        msg = zmsg_recv (sub);
    }
    assert_non_null (msg); /* subscribed */
    zmsg_destroy (&msg);
    while ((msg = zmsg_recv (sub)) != NULL)
        zmsg_destroy (&msg);
    proto_reply_t *reply = dc_create (self, "u", "announced");
    assert_int_equal (reply->status, PROTO_OK);
    uint64_t seq = reply->event.seq;
    zsock_set_rcvtimeo (sub, TIMEOUT_MS);
    const char *topics[] = { "event.created", PROTO_FEED_TOPIC };
    for (int i = 0; i < 2; i++) {
        msg = zmsg_recv (sub);
        assert_non_null (msg);
        char *topic = zmsg_popstr (msg);
        assert_string_equal (topic, topics[i]);
        zstr_free (&topic);
        zframe_t *body = zmsg_pop (msg);
        assert_non_null (body);
        if (i == 0) {
            proto_change_t note;
            proto_error_t err;
            proto_limits_t limits = proto_limits_default ();
            assert_int_equal (proto_notification_decode (zframe_data (body), zframe_size (body),
                                                         &limits, &note, &err),
                              PROTO_DECODE_OK);
            assert_int_equal (note.seq, seq);
        } else
            assert_int_equal (s_feed_head (body), seq);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    zsock_destroy (&sub);
}

/* Every change a batch makes is journaled like a change made alone: the
   creates its ok reply names are all there after a kill -9 right after. */
static void
test_batch_reply_means_every_frame_is_journaled (void **state)
{
    fixture_t *self = *state;
    dc_start (self, NULL);
    enum { N = 20 };
    msgpack_sbuffer batch, one;
    msgpack_sbuffer_init (&batch);
    msgpack_sbuffer_init (&one);
    assert_int_equal (proto_batch_begin (++self->rid, false, N, &batch), 0);
    uint64_t first_rid = self->rid + 1;
    for (int i = 0; i < N; i++) {
        proto_request_t req = { .op = PROTO_OP_CREATE,
                                .rid = ++self->rid,
                                .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                                .user_id = PROTO_STR ("batch-user"),
                                .description = PROTO_STR ("batched create") };
        msgpack_sbuffer_clear (&one);
        assert_int_equal (proto_request_encode (&req, &one), 0);
        assert_int_equal (proto_batch_append (one.data, one.size, &batch), 0);
    }
    assert_int_equal (zmq_send (zsock_resolve (self->dealer), batch.data, batch.size, 0),
                      (int)batch.size);
    zframe_t *frame = zframe_recv (self->dealer);
    assert_non_null (frame);
    proto_str_t frames[PROTO_BATCH_MAX];
    size_t n;
    uint64_t rid;
    proto_error_t err;
    assert_int_equal (proto_batch_decode (zframe_data (frame), zframe_size (frame), true,
                                          PROTO_BATCH_MAX, &rid, frames, &n, &err),
                      PROTO_DECODE_OK);
    assert_int_equal (n, N);
    uint8_t ids[N][16];
    for (size_t i = 0; i < n; i++) {
        proto_reply_t r;
        assert_int_equal (proto_reply_decode (frames[i].ptr, frames[i].len, &r, &err),
                          PROTO_DECODE_OK);
        assert_int_equal (r.status, PROTO_OK);
        assert_int_equal (r.rid, first_rid + i);
        memcpy (ids[i], r.event.id, 16);
        proto_reply_clear (&r);
    }
    zframe_destroy (&frame);
    msgpack_sbuffer_destroy (&batch);
    msgpack_sbuffer_destroy (&one);
    dc_kill9 (self);
    dc_disconnect (self);
    dc_start (self, NULL);
    for (int i = 0; i < N; i++)
        assert_int_equal (dc_get (self, ids[i])->status, PROTO_OK);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_kill9_mid_burst_always_loses_no_acknowledged_change,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_kill9_mid_burst_everysec_loses_nothing_written,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_everysec_power_loss_loses_a_suffix_within_the_window,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_kill_at_each_compaction_step_replays_correctly,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_batch_reply_means_every_frame_is_journaled, dc_setup,
                                         dc_teardown),
        cmocka_unit_test_setup_teardown (test_journaled_change_is_announced_note_then_feed,
                                         dc_setup, dc_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
