/*
 * test_e2e_shards — the whole system over a sharded store (issue 17, step
 * 4): 3 durable herald-store shards of one map, a gateway with the map, one
 * herald-notifier per shard, two workers that PUT through the gateway (it
 * routes each event by its id), and the private RabbitMQ node.
 *
 *   - a burst through the gateway: every event lands on its user's shard,
 *     every shard holds some, each notifier reads its own shard's feed
 *     (its log names that shard's store id, no other), and every event is
 *     processed with exactly one worker line;
 *   - kill -9 of shard 1 in the middle of a burst: POSTs of users hashing
 *     to shard 1 and GETs of ids on shard 1 answer 503 while the other
 *     shards answer 201 and 200; shard 1 restarted from its journal (same
 *     data dir, same ports) takes writes again, its notifier finds it by
 *     itself, and every event that got 201 on any shard is processed with
 *     its exact line (at least once: second lines are counted and printed);
 *   - kill -9 of one shard's notifier mid-burst while its shard's feed
 *     grows, then a restart: nothing lost.
 *
 * Events are counted per event id (GET /events/{id}, routed by id) and per
 * shard (each store's stats), never by GET /events without user_id, which
 * a map of several shards answers 501 until lists are merged. Which user
 * goes to which shard is computed here with the gateway's own function
 * (gateway/shards.c's shards_user_slot, compiled in) and the map.
 */
#include "broker.h"
#include "proto.h"
#include "shard_map.h"
#include "shards.h"
#include "stack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_SIZE (STACK_ID_LEN + 1)
#define SHARDS 3
#define WORKERS 2
#define WORKER_MASK 0x3u
#define RATE 300 /* POSTs a second in a burst */
#define SPREAD_EVENTS 600
#define KILL_EVENTS 900 /* the burst outlives the outage */
#define KILL_AT 200     /* 201s before the kill */
#define PROBES 600      /* event numbers after a burst's for the probes */
#define NOTIFIER_EVENTS 600
#define NOTIFIER_KILL_AT 150
#define BACKLOG 30       /* records of the shard's feed left unrelayed while its notifier is dead */
#define POLL_MS 20       /* between two probes */
#define OUTAGE_MS 15000  /* deadline for a 503, and for a 201 again after the restart */
#define PROCESS_MS 90000 /* deadline for every 201'd event to read processed */

static shard_map_t *
s_map (e2e_stack_t *stack)
{
    char err[256];
    shard_map_t *map = shard_map_load (stack->shard_map, err, sizeof err);
    if (!map)
        fprintf (stderr, "# %s: %s\n", stack->shard_map, err);
    assert_non_null (map);
    return map;
}

/* The shard the gateway sends user "u-<k>"'s creates to. */
static int
s_user_shard (const shard_map_t *map, int k)
{
    char user[32];
    int len = snprintf (user, sizeof user, "u-%d", k);
    return (int)shard_map_owner (map, shards_user_slot (user, (size_t)len));
}

/* The shard that owns event id's slot. */
static int
s_id_shard (const shard_map_t *map, const char *id)
{
    uint8_t raw[16];
    assert_int_equal (proto_uuid_parse (id, STACK_ID_LEN, raw), 0);
    return (int)shard_map_owner_of (map, raw);
}

/* The first event number >= *k (and < limit) whose user goes to shard;
 *k moves past it. */
static int
s_next_on (const shard_map_t *map, int shard, int *k, int limit)
{
    while (*k < limit && s_user_shard (map, *k) != shard)
        (*k)++;
    assert_true (*k < limit);
    return (*k)++;
}

/* POSTs event k ("u-k" / "order k shipped"), its id into ids on 201. */
static int
s_post_k (e2e_stack_t *stack, int k, char *ids)
{
    char user[32], desc[64];
    snprintf (user, sizeof user, "u-%d", k);
    snprintf (desc, sizeof desc, "order %d shipped", k);
    return stack_post (stack, user, desc, ids + (size_t)k * ID_SIZE);
}

/* POSTs events of users on shard (numbers from *k on) until one is
   answered want or OUTAGE_MS passed; a number answered 503 (refused, so
   not stored) is tried again, any other answer moves on to the next, so
   a stored event always has its own number. Returns the time it took in
   ms, -1 on timeout; *uncertain counts the answers neither 503 nor 201
   (a 504 of a request the dead shard had taken). */
static int
s_post_until (e2e_stack_t *stack, const shard_map_t *map, int shard, int *k, int limit, char *ids,
              int want, int *uncertain)
{
    int64_t start = clock_mono_ms ();
    int number = s_next_on (map, shard, k, limit);
    for (;;) {
        int code = s_post_k (stack, number, ids);
        if (code == want)
            return (int)(clock_mono_ms () - start);
        if (code != 503 && code != 201)
            (*uncertain)++;
        if (want == 503)
            assert_int_not_equal (code, 201); /* the shard is dead */
        if (code != 503)
            number = s_next_on (map, shard, k, limit);
        if (clock_mono_ms () - start >= OUTAGE_MS)
            return -1;
        harness_nap_ms (POLL_MS);
    }
}

/* Every shard's feed relayed (acked == head); each holds some events.
   Fills events[s] with each shard's count. */
static void
s_wait_shards_settled (e2e_stack_t *stack, uint64_t events[SHARDS])
{
    for (int s = 0; s < SHARDS; s++) {
        stack_store_stats_t stats;
        assert_int_equal (stack_wait_shard_settled (stack, s, 1, 30000, &stats), 0);
        assert_true (stats.events > 0);
        events[s] = stats.events;
    }
}

/* A fresh scenario: 3 shards, their notifiers, the gateway and the
   workers; returns room for n event ids (the caller frees it). */
static char *
s_begin (e2e_stack_t *stack, int n)
{
    stack_begin (stack);
    assert_int_equal (stack_start_all_shards (stack, SHARDS, WORKERS), 0);
    char *ids = calloc ((size_t)n, ID_SIZE);
    assert_non_null (ids);
    return ids;
}

static void
test_three_shards_every_event_on_its_users_shard_processed_once (void **state)
{
    e2e_stack_t *stack = *state;
    char *ids = s_begin (stack, SPREAD_EVENTS);
    shard_map_t *map = s_map (stack);
    /* the gateway's hash is the one PROTOCOL.md §9 documents */
    assert_int_equal (shards_user_slot ("", 0), 10534);
    assert_int_equal (shards_user_slot ("a", 1), 3675);

    int64_t start = clock_mono_ms ();
    stack_burst_t *burst = stack_burst_start (stack, 0, SPREAD_EVENTS, RATE, ids);
    assert_non_null (burst);
    assert_int_equal (stack_burst_join (&burst), SPREAD_EVENTS);
    uint64_t per_shard[SHARDS] = { 0 };
    for (int k = 0; k < SPREAD_EVENTS; k++) {
        int shard = s_id_shard (map, ids + (size_t)k * ID_SIZE);
        assert_int_equal (shard, s_user_shard (map, k)); /* minted in its user's shard */
        per_shard[shard]++;
    }
    assert_int_equal (stack_wait_ids_processed (stack, ids, SPREAD_EVENTS, PROCESS_MS), 0);
    int64_t done = clock_mono_ms () - start;

    /* each shard holds its events; created and processed: 2 records each */
    for (int s = 0; s < SHARDS; s++) {
        stack_store_stats_t stats;
        assert_true (per_shard[s] > 0);
        assert_int_equal (stack_wait_shard_settled (stack, s, 2 * per_shard[s], 30000, &stats), 0);
        assert_int_equal (stats.events, per_shard[s]);
        assert_true (stats.store_id[0]);
        /* notifier s read shard s's feed, and no other shard's */
        for (int t = 0; t < SHARDS; t++) {
            char name[32];
            snprintf (name, sizeof name, "notifier%d", t);
            int lines = harness_count_lines (stack_log_path (stack, name), stats.store_id);
            if (t == s)
                assert_true (lines >= 1);
            else
                assert_int_equal (lines, 0);
        }
    }
    assert_true (stack_lines_exactly_once (stack, 0, SPREAD_EVENTS, ids, WORKER_MASK));
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    printf ("# %d events at %d/s over %d shards (%llu / %llu / %llu): all processed once in %lld "
            "ms\n",
            SPREAD_EVENTS, RATE, SHARDS, (unsigned long long)per_shard[0],
            (unsigned long long)per_shard[1], (unsigned long long)per_shard[2], (long long)done);
    shard_map_destroy (&map);
    stack_end (stack);
    free (ids);
}

static void
test_shard_killed_mid_burst_its_requests_503_others_serve_every_201_processed (void **state)
{
    e2e_stack_t *stack = *state;
    const int total = KILL_EVENTS + PROBES;
    char *ids = s_begin (stack, total);
    shard_map_t *map = s_map (stack);
    stack_burst_t *burst = stack_burst_start (stack, 0, KILL_EVENTS, RATE, ids);
    assert_non_null (burst);
    assert_true (stack_burst_wait (burst, KILL_AT, 30000) >= KILL_AT);

    /* an event on shard 1 and one on shard 2, to read during the outage */
    int k = KILL_EVENTS;
    int on1 = s_next_on (map, 1, &k, total), on2 = s_next_on (map, 2, &k, total);
    assert_int_equal (s_post_k (stack, on1, ids), 201);
    assert_int_equal (s_post_k (stack, on2, ids), 201);
    const char *id1 = ids + (size_t)on1 * ID_SIZE, *id2 = ids + (size_t)on2 * ID_SIZE;
    assert_int_equal (s_id_shard (map, id1), 1);
    assert_int_equal (s_id_shard (map, id2), 2);

    int64_t killed = clock_mono_ms ();
    assert_true (harness_stop (stack->shards[1].store, SIGKILL, 5000) >= 0);
    stack->shards[1].store = 0;
    int uncertain = 0;
    int to_503 = s_post_until (stack, map, 1, &k, total, ids, 503, &uncertain);
    assert_true (to_503 >= 0);

    /* shard 1's requests fail fast; the others serve on */
    char status[32];
    assert_int_equal (stack_get_status (stack, id1, status, sizeof status), 503);
    assert_int_equal (stack_get_status (stack, id2, status, sizeof status), 200);
    assert_int_equal (s_post_k (stack, s_next_on (map, 0, &k, total), ids), 201);
    assert_int_equal (s_post_k (stack, s_next_on (map, 2, &k, total), ids), 201);
    /* the burst meets the outage: its shard-1 POSTs fail, the rest go on */
    int64_t until = clock_mono_ms () + OUTAGE_MS;
    while (stack_burst_failed (burst) < 3 && clock_mono_ms () < until)
        harness_nap_ms (POLL_MS);
    assert_true (stack_burst_failed (burst) >= 3);
    int before = stack_burst_posted (burst);
    assert_true (stack_burst_wait (burst, before + 20, OUTAGE_MS) >= before + 20);
    int64_t outage = clock_mono_ms () - killed;

    int64_t restarted = clock_mono_ms ();
    assert_int_equal (stack_start_shard (stack, 1), 0);
    int listening = (int)(clock_mono_ms () - restarted);
    int back = s_post_until (stack, map, 1, &k, total, ids, 201, &uncertain);
    assert_true (back >= 0);
    int to_201 = (int)(clock_mono_ms () - restarted);
    assert_int_equal (stack_get_status (stack, id1, status, sizeof status), 200);
    int posted = stack_burst_join (&burst);
    assert_true (posted > KILL_AT && posted < KILL_EVENTS);

    /* every 201 on any shard processed; shard 1's notifier found it again */
    int64_t start = clock_mono_ms ();
    assert_int_equal (stack_wait_ids_processed (stack, ids, total, PROCESS_MS), 0);
    int64_t processed = clock_mono_ms () - start;
    uint64_t events[SHARDS];
    s_wait_shards_settled (stack, events);
    assert_true (harness_alive (stack->shards[1].notifier));
    int dups = 0, extra = 0;
    assert_int_equal (stack_check_posted_lines (stack, ids, total, WORKER_MASK, &dups, &extra), 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    assert_true (harness_count_lines (stack_log_path (stack, "shard1"), "replayed in") >= 2);
    printf ("# shard 1 killed after %d 201s: its POSTs 503 %d ms after the kill (%d answers "
            "neither 503 nor 201); out %lld ms; restarted, listening in %d ms, 201 again %d ms "
            "after the restart\n",
            KILL_AT, to_503, uncertain, (long long)outage, listening, to_201);
    printf ("# burst: %d of %d POSTs got 201, %d failed; shards hold %llu / %llu / %llu; every "
            "201 processed %lld ms after the burst; %d second lines, %d lines of events whose "
            "201 was lost\n",
            posted, KILL_EVENTS, KILL_EVENTS - posted, (unsigned long long)events[0],
            (unsigned long long)events[1], (unsigned long long)events[2], (long long)processed,
            dups, extra);
    shard_map_destroy (&map);
    stack_end (stack);
    free (ids);
}

static void
test_shard_notifier_killed_mid_burst_nothing_lost (void **state)
{
    e2e_stack_t *stack = *state;
    char *ids = s_begin (stack, NOTIFIER_EVENTS);
    stack_burst_t *burst = stack_burst_start (stack, 0, NOTIFIER_EVENTS, RATE, ids);
    assert_non_null (burst);
    assert_true (stack_burst_wait (burst, NOTIFIER_KILL_AT, 30000) >= NOTIFIER_KILL_AT);
    assert_true (harness_stop (stack->shards[2].notifier, SIGKILL, 5000) >= 0);
    stack->shards[2].notifier = 0;

    /* shard 2's feed grows unrelayed while the other shards' drain */
    stack_store_stats_t stats = { 0 };
    int64_t until = clock_mono_ms () + OUTAGE_MS;
    while (clock_mono_ms () < until
           && (stack_shard_stats (stack, 2, &stats) != 0 || stats.head < stats.acked + BACKLOG))
        harness_nap_ms (POLL_MS);
    assert_true (stats.head >= stats.acked + BACKLOG);
    uint64_t backlog = stats.head - stats.acked;

    int64_t restarted = clock_mono_ms ();
    assert_int_equal (stack_start_shard_notifier (stack, 2), 0);
    int posted = stack_burst_join (&burst);
    assert_int_equal (posted, NOTIFIER_EVENTS);
    assert_int_equal (stack_wait_ids_processed (stack, ids, NOTIFIER_EVENTS, PROCESS_MS), 0);
    int64_t processed = clock_mono_ms () - restarted;
    uint64_t events[SHARDS];
    s_wait_shards_settled (stack, events);
    int dups = 0, extra = 0;
    assert_int_equal (
        stack_check_posted_lines (stack, ids, NOTIFIER_EVENTS, WORKER_MASK, &dups, &extra), 0);
    assert_int_equal (extra, 0);
    assert_int_equal (stack_queue_depth (stack, BROKER_DEAD_QUEUE), 0);
    printf ("# notifier of shard 2 killed with %llu records of its feed unrelayed; restarted: all "
            "%d events processed %lld ms after its restart, %d second lines\n",
            (unsigned long long)backlog, NOTIFIER_EVENTS, (long long)processed, dups);
    stack_end (stack);
    free (ids);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_three_shards_every_event_on_its_users_shard_processed_once),
        cmocka_unit_test (
            test_shard_killed_mid_burst_its_requests_503_others_serve_every_201_processed),
        cmocka_unit_test (test_shard_notifier_killed_mid_burst_nothing_lost),
    };
    return cmocka_run_group_tests (tests, stack_group_setup, stack_group_teardown);
}
