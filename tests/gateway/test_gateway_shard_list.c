/*
 * test_gateway_shard_list — GET /events merged across 3 real herald-store
 * shards behind the opaque cursor (issue 17, step 3), through a real
 * herald-gateway with the map:
 *   - events created by 12 users land on every shard (several each);
 *     paging with limit 1, 2, 7 and 1000 gives, concatenated, every event
 *     exactly once in the order they were created (the stores' clocks in
 *     microseconds: created_at, created_us), pages straddle shards, every
 *     page but the last is full and next_after is null only on the last;
 *   - the same with status filters after some events are marked processed,
 *     and with a user filter after a PUT moved an event to a user whose
 *     creates hash to another shard: it shows under the new user only;
 *   - cursors that are not this gateway's (text, an event id, another
 *     epoch, an id the shard does not hold) are 422 at ["query","after"];
 *   - one shard frozen (SIGSTOP): a list is 504 naming it, never a
 *     partial page, and whole again once the shard is back;
 *   - the map reloaded to fewer shards while a list and a get wait on a
 *     dropped one: both are 504 at the reload, saying the connection was
 *     closed (naming no shard), and the gateway lives.
 */
#include "list_cursor.h"
#include "proto.h"
#include "shardfx.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define USERS 12
#define PER_USER 4
#define EVENTS (USERS * PER_USER)

typedef struct {
    char id[GW_ID_LEN + 1];
    char user[16];
    char status[16];
    char created[32];
    int shard;
} event_t;

typedef struct {
    shardfx_store_t shards[SHARDFX_SHARDS];
    char map[600];
    gw_t gw;
    event_t ev[EVENTS]; /* in creation order */
} fixture_t;

static fixture_t s_fx;

static int
s_setup (void **state)
{
    fixture_t *self = &s_fx;
    snprintf (self->map, sizeof self->map, "%s/current.map", harness_tmpdir ());
    if (shardfx_start_all (self->shards, self->map, &self->gw) != 0)
        return -1;
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    shardfx_stop_all (s_fx.shards, &s_fx.gw);
    return 0;
}

/* Which events a list should give. */
typedef struct {
    const char *user, *status; /* NULL: no filter */
} filter_t;

static bool
s_matches (const event_t *ev, const filter_t *f)
{
    return (!f->user || strcmp (ev->user, f->user) == 0)
           && (!f->status || strcmp (ev->status, f->status) == 0);
}

/* The events f matches in merged order, as indices into self->ev; returns
   how many. The merge orders by the stores' creation time in microseconds
   (created_at, created_us), and this test, one client, made each event
   after the previous one's reply: that is the order it made them in, even
   within one millisecond, where the shard index decided before. */
static size_t
s_expected (fixture_t *self, const filter_t *f, int *out)
{
    size_t n = 0;
    for (int e = 0; e < EVENTS; e++)
        if (s_matches (&self->ev[e], f))
            out[n++] = e;
    return n;
}

static int
s_index_of (fixture_t *self, const char *id)
{
    for (int e = 0; e < EVENTS; e++)
        if (strcmp (self->ev[e].id, id) == 0)
            return e;
    fail_msg ("the list gave %s, which was never created", id);
    return -1;
}

/* Pages through the list f selects, limit at a time, and checks the
   concatenation against s_expected. Returns the pages whose events came
   from more than one shard. */
static int
s_check_paging (fixture_t *self, const filter_t *f, int limit)
{
    int expected[EVENTS], got[EVENTS + 1];
    size_t want = s_expected (self, f, expected), count = 0;
    char query[256], after[LIST_CURSOR_TEXT_MAX + 1] = "";
    int straddling = 0;
    gw_resp_t resp = { 0 };
    for (int page = 0; page <= EVENTS + 1; page++) {
        char *path = malloc (sizeof query + sizeof after + 64);
        snprintf (query, sizeof query, "%s%s%s%s", f->user ? "&user_id=" : "",
                  f->user ? f->user : "", f->status ? "&status=" : "", f->status ? f->status : "");
        sprintf (path, "/events?limit=%d%s%s%s", limit, query, after[0] ? "&after=" : "", after);
        if (gw_call (&self->gw, &resp, "GET", path, NULL, NULL, 0) != 200)
            fail_msg ("GET %s: %ld %s", path, resp.code, resp.body);
        free (path);
        json_t *items = json_object_get (resp.json, "items");
        json_t *next = json_object_get (resp.json, "next_after");
        size_t i;
        json_t *item;
        int shards_seen = 0;
        json_array_foreach (items, i, item)
        {
            gw_assert_event (item, f->user, NULL, f->status);
            assert_true (count < want + 1);
            got[count] = s_index_of (self, json_string_value (json_object_get (item, "event_id")));
            shards_seen |= 1 << self->ev[got[count]].shard;
            count++;
        }
        straddling += shards_seen != 0 && (shards_seen & (shards_seen - 1)) != 0;
        if (json_is_null (next))
            break;
        /* Opaque, not an event id, and only after a full page here. */
        assert_true (json_is_string (next));
        assert_false (gw_is_uuid_v4 (json_string_value (next)));
        assert_int_equal (json_array_size (items), (size_t)limit);
        snprintf (after, sizeof after, "%s", json_string_value (next));
    }
    gw_resp_clear (&resp);
    if (count != want)
        fail_msg ("limit %d, user %s, status %s: %zu events listed, %zu expected", limit,
                  f->user ? f->user : "-", f->status ? f->status : "-", count, want);
    for (size_t k = 0; k < count; k++)
        if (got[k] != expected[k])
            fail_msg ("limit %d: item %zu is event %d (%s, shard %d), expected event %d (%s, "
                      "shard %d)",
                      limit, k, got[k], self->ev[got[k]].created, self->ev[got[k]].shard,
                      expected[k], self->ev[expected[k]].created, self->ev[expected[k]].shard);
    return straddling;
}

static const int s_limits[] = { 1, 2, 7, 1000 };

static void
test_pages_merge_every_shard_in_creation_order (void **state)
{
    fixture_t *self = *state;
    int per_shard[SHARDFX_SHARDS] = { 0 };
    /* Users take turns, so consecutive events sit on different shards. */
    for (int k = 0; k < PER_USER; k++)
        for (int u = 0; u < USERS; u++) {
            event_t *ev = &self->ev[k * USERS + u];
            snprintf (ev->user, sizeof ev->user, "user-%d", u);
            snprintf (ev->status, sizeof ev->status, "pending");
            gw_resp_t resp = { 0 };
            char body[128];
            snprintf (body, sizeof body, "{\"user_id\":\"%s\",\"description\":\"merged\"}",
                      ev->user);
            assert_int_equal (gw_json (&self->gw, &resp, "POST", "/events", body), 201);
            snprintf (ev->id, sizeof ev->id, "%s",
                      json_string_value (json_object_get (resp.json, "event_id")));
            snprintf (ev->created, sizeof ev->created, "%s",
                      json_string_value (json_object_get (resp.json, "created_at")));
            ev->shard = shardfx_owner (ev->id);
            per_shard[ev->shard]++;
            gw_resp_clear (&resp);
        }
    for (int s = 0; s < SHARDFX_SHARDS; s++)
        if (per_shard[s] < 3)
            fail_msg ("shard %d holds %d events: the test needs several on each", s, per_shard[s]);
    filter_t all = { NULL, NULL };
    for (size_t l = 0; l < sizeof s_limits / sizeof s_limits[0]; l++) {
        int straddling = s_check_paging (self, &all, s_limits[l]);
        if (s_limits[l] > 1)
            assert_true (straddling > 0);
    }
}

static void
test_status_filters_merge_the_same_way (void **state)
{
    fixture_t *self = *state;
    for (int e = 0; e < EVENTS; e += 3) {
        char path[64];
        snprintf (path, sizeof path, "/events/%s", self->ev[e].id);
        gw_resp_t resp = { 0 };
        assert_int_equal (gw_json (&self->gw, &resp, "PUT", path, "{\"status\":\"processed\"}"),
                          200);
        snprintf (self->ev[e].status, sizeof self->ev[e].status, "processed");
        gw_resp_clear (&resp);
    }
    filter_t processed = { NULL, "processed" }, pending = { NULL, "pending" };
    for (size_t l = 0; l < sizeof s_limits / sizeof s_limits[0]; l++) {
        s_check_paging (self, &processed, s_limits[l]);
        s_check_paging (self, &pending, s_limits[l]);
    }
}

static void
test_an_event_given_to_another_user_lists_under_the_new_one (void **state)
{
    fixture_t *self = *state;
    /* Event 0 (user-0's first) goes to a user whose creates land on
       another shard: a list of the new user asked of its shard alone
       would miss it. */
    event_t *moved = &self->ev[0];
    const char *to = NULL;
    for (int u = 1; u < USERS && !to; u++)
        if (self->ev[u].shard != moved->shard)
            to = self->ev[u].user;
    assert_non_null (to);
    char path[64], body[64];
    snprintf (path, sizeof path, "/events/%s", moved->id);
    snprintf (body, sizeof body, "{\"user_id\":\"%s\"}", to);
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_json (&self->gw, &resp, "PUT", path, body), 200);
    gw_resp_clear (&resp);
    snprintf (moved->user, sizeof moved->user, "%s", to);
    filter_t new_user = { to, NULL }, old_user = { "user-0", NULL },
             new_pending = { to, "pending" };
    for (size_t l = 0; l < sizeof s_limits / sizeof s_limits[0]; l++) {
        s_check_paging (self, &new_user, s_limits[l]);
        s_check_paging (self, &old_user, s_limits[l]);
        s_check_paging (self, &new_pending, s_limits[l]);
    }
}

/* GET /events?after=cursor is a 422 of type at query/after. */
static void
s_assert_bad_cursor (fixture_t *self, const char *cursor, const char *type)
{
    char path[256];
    snprintf (path, sizeof path, "/events?limit=5&after=%s", cursor);
    gw_resp_t resp = { 0 };
    gw_call (&self->gw, &resp, "GET", path, NULL, NULL, 0);
    gw_assert_422 (&resp, 1, type, "query/after");
    gw_resp_clear (&resp);
}

/* A well-formed cursor of epoch over shards with shard 0 at id. */
static char *
s_cursor (uint64_t epoch, size_t shards, const char *id)
{
    list_cursor_t *cursor = list_cursor_new (epoch, shards);
    uint8_t bytes[16];
    assert_int_equal (proto_uuid_parse (id, GW_ID_LEN, bytes), 0);
    list_cursor_set (cursor, 0, bytes);
    char *text = list_cursor_encode (cursor);
    list_cursor_destroy (&cursor);
    return text;
}

static void
test_a_cursor_not_of_this_map_is_422 (void **state)
{
    fixture_t *self = *state;
    s_assert_bad_cursor (self, "not-a-cursor", "cursor_invalid");
    s_assert_bad_cursor (self, self->ev[0].id, "cursor_invalid");       /* one store's kind */
    s_assert_bad_cursor (self, "AQAAAAAAAAACAAMAAA", "cursor_invalid"); /* truncated */
    char *text = s_cursor (1, SHARDFX_SHARDS, self->ev[0].id);
    s_assert_bad_cursor (self, text, "cursor_stale");
    free (text);
    text = s_cursor (2, SHARDFX_SHARDS + 1, self->ev[0].id);
    s_assert_bad_cursor (self, text, "cursor_stale");
    free (text);
    /* Of this map, but naming an event shard 0 does not hold. */
    text = s_cursor (2, SHARDFX_SHARDS, "00000000-0000-4000-8000-000000000000");
    s_assert_bad_cursor (self, text, "cursor_not_found");
    free (text);
    /* A cursor that is not one is listed with the other problems. */
    gw_resp_t resp = { 0 };
    gw_call (&self->gw, &resp, "GET", "/events?limit=0&after=x", NULL, NULL, 0);
    gw_assert_422 (&resp, 2, "greater_than_equal", "query/limit", "cursor_invalid", "query/after");
    gw_resp_clear (&resp);
}

static void
test_a_frozen_shard_fails_the_list_never_a_partial_page (void **state)
{
    fixture_t *self = *state;
    shardfx_store_t *frozen = &self->shards[1];
    kill (frozen->pid, SIGSTOP);
    char detail[160];
    snprintf (detail, sizeof detail, "Store did not answer in time (shard 1, %s)",
              frozen->endpoint);
    const char *paths[] = { "/events", "/events?user_id=user-0", "/events?status=pending" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        gw_resp_t resp = { 0 };
        gw_call (&self->gw, &resp, "GET", paths[i], NULL, NULL, 0);
        gw_assert_detail (&resp, 504, detail);
        gw_resp_clear (&resp);
    }
    kill (frozen->pid, SIGCONT);
    assert_int_equal (gw_wait_readyz (&self->gw, 200, 10000), 0);
    filter_t all = { NULL, NULL };
    s_check_paging (self, &all, 7);
}

/* Fails the test unless fd (a raw connection) is answered code with a
   text containing want within about 10 s. */
static void
s_assert_answer (int fd, long code, const char *want, const char *what)
{
    char answer[4096];
    if (gw_read_until (fd, 10000, want, answer, sizeof answer) != code || !strstr (answer, want))
        fail_msg ("%s: wanted %ld saying \"%s\", got: %s", what, code, want, answer);
}

/* A list and a get wait on shard 2 (frozen) when a cursor of a newer map
   with two shards makes the gateway reload it, closing shard 2's
   connection. The waiting list's deadline then named a shard by an index
   the new map does not have: the gateway asserted and died (every client
   cut off). Both must be answered 504 at the reload (no reply can come on
   the closed connection), saying so, without naming a shard the gateway
   no longer knows. Runs last: the gateway keeps the two-shard map. */
static void
test_requests_waiting_on_a_shard_the_map_dropped_are_504 (void **state)
{
    fixture_t *self = *state;
    shardfx_store_t *frozen = &self->shards[2];
    const event_t *on_2 = NULL;
    for (int e = 0; e < EVENTS && !on_2; e++)
        if (self->ev[e].shard == 2)
            on_2 = &self->ev[e];
    assert_non_null (on_2);
    kill (frozen->pid, SIGSTOP);
    static const char *shard2 = "shard=\"2\"";
    double sent = gw_fetch_metric (&self->gw, "herald_store_shard_requests_total", shard2);
    int list_fd = gw_raw_connect (self->gw.http_port), get_fd = gw_raw_connect (self->gw.http_port);
    assert_true (list_fd >= 0 && get_fd >= 0);
    static const char list[] = "GET /events HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_int_equal (write (list_fd, list, sizeof list - 1), (ssize_t)(sizeof list - 1));
    char get[256];
    int len = snprintf (get, sizeof get, "GET /events/%s HTTP/1.1\r\nHost: t\r\n\r\n", on_2->id);
    assert_int_equal (write (get_fd, get, (size_t)len), (ssize_t)len);
    /* The reload must come after both went out to shard 2 (on a slow run
       it could come first, and the list would merge two shards). */
    for (int i = 0;
         i < 1000
         && gw_fetch_metric (&self->gw, "herald_store_shard_requests_total", shard2) < sent + 2;
         i++)
        usleep (10 * 1000);
    assert_true (gw_fetch_metric (&self->gw, "herald_store_shard_requests_total", shard2)
                 >= sent + 2);
    /* The same map file, a newer epoch, shard 2 left out. */
    char text[512];
    snprintf (text, sizeof text, "epoch 9\nshard %s 0-8191\nshard %s 8192-16383\n",
              self->shards[0].endpoint, self->shards[1].endpoint);
    assert_int_equal (harness_write_file (self->map, text), 0);
    char *cursor = s_cursor (9, 2, self->ev[0].id);
    char path[256];
    snprintf (path, sizeof path, "/events?limit=5&after=%s", cursor);
    free (cursor);
    gw_resp_t resp = { 0 };
    assert_true (gw_call (&self->gw, &resp, "GET", path, NULL, NULL, 0) > 0);
    gw_resp_clear (&resp);
    /* Answered at the reload, not at their deadline (which says "did not
       answer in time"). */
    static const char closed[] = "the shard map changed and its connection was closed";
    s_assert_answer (list_fd, 504, closed, "the list");
    s_assert_answer (get_fd, 504, closed, "the get");
    close (list_fd);
    close (get_fd);
    kill (frozen->pid, SIGCONT);
    assert_int_equal (gw_call (&self->gw, &resp, "GET", "/healthz", NULL, NULL, 0), 200);
    gw_resp_clear (&resp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pages_merge_every_shard_in_creation_order),
        cmocka_unit_test (test_status_filters_merge_the_same_way),
        cmocka_unit_test (test_an_event_given_to_another_user_lists_under_the_new_one),
        cmocka_unit_test (test_a_cursor_not_of_this_map_is_422),
        cmocka_unit_test (test_a_frozen_shard_fails_the_list_never_a_partial_page),
        cmocka_unit_test (test_requests_waiting_on_a_shard_the_map_dropped_are_504),
    };
    return cmocka_run_group_tests_name ("gateway_shard_list", tests, s_setup, s_teardown);
}
