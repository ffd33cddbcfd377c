/*
 * test_gateway_shard — herald-gateway routing over sharded herald-store
 * processes (issue 17, step 2), all real binaries on loopback:
 *   - 3 shards of an epoch-2 map and a gateway with that map: every event
 *     created through the gateway is held by the shard that owns its id
 *     (asked directly: the owner answers it, the others `moved`), a user's
 *     events land on one shard and users spread over all three, GET and PUT
 *     through the gateway answer the right event, a list filtered by user
 *     is the user's whole list (merged lists: test_gateway_shard_list),
 *     /metrics counts requests per shard;
 *   - a gateway started with a stale map (epoch 1, every slot owned by
 *     another shard): GET and PUT follow the `moved` redirect to the
 *     endpoint the store names while the file is unchanged, and once the
 *     file says epoch 2 the gateway reloads it (logged: epoch 1 -> 2) and
 *     routes without redirects from then on;
 *   - two shards whose maps disagree (each says the other owns a slot): a
 *     redirect loop answers 503 with a detail, never an event; /readyz is
 *     503 while one shard is frozen and 200 again when it is back.
 */
#include "proto.h"
#include "shardfx.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define SHARDS SHARDFX_SHARDS
#define USERS 12
#define PER_USER 3
#define EVENTS (USERS * PER_USER)
#define CALL_MS 5000

typedef struct {
    shardfx_store_t shards[SHARDS];
    char map[600], stale[600]; /* epoch 2 (the stores'), epoch 1 */
    gw_t gw;                   /* the gateway with the current map */
    char ids[EVENTS][GW_ID_LEN + 1];
    char users[EVENTS][16];
} fixture_t;

static fixture_t s_fx;

static int
s_setup (void **state)
{
    fixture_t *self = &s_fx;
    snprintf (self->map, sizeof self->map, "%s/current.map", harness_tmpdir ());
    snprintf (self->stale, sizeof self->stale, "%s/stale.map", harness_tmpdir ());
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

/* The status of a get of id asked of store directly. */
static proto_status_t
s_direct_get (shardfx_store_t *store, const char *id, char *status, size_t size)
{
    proto_request_t req = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    assert_int_equal (proto_uuid_parse (id, GW_ID_LEN, req.event_id), 0);
    proto_reply_t reply;
    assert_int_equal (store_client_call (store->client, &req, CALL_MS, &reply), 0);
    proto_status_t got = reply.status;
    if (status && got == PROTO_OK)
        snprintf (status, size, "%.*s", (int)reply.event.status.len, reply.event.status.ptr);
    proto_reply_clear (&reply);
    return got;
}

/* The one shard that holds id (the others must say moved). */
static int
s_holder (fixture_t *self, const char *id)
{
    int holder = -1;
    for (int s = 0; s < SHARDS; s++) {
        proto_status_t st = s_direct_get (&self->shards[s], id, NULL, 0);
        if (st == PROTO_OK) {
            assert_int_equal (holder, -1);
            holder = s;
        } else
            assert_int_equal (st, PROTO_E_MOVED);
    }
    assert_true (holder >= 0);
    return holder;
}

/* GET /events/id through gw: 200 with that very event of user. */
static void
s_assert_get (gw_t *gw, const char *id, const char *user, const char *status)
{
    char path[64];
    snprintf (path, sizeof path, "/events/%s", id);
    gw_resp_t resp = { 0 };
    if (gw_call (gw, &resp, "GET", path, NULL, NULL, 0) != 200)
        fail_msg ("GET %s: %ld %s", path, resp.code, resp.body);
    gw_assert_event (resp.json, user, NULL, status);
    assert_string_equal (json_string_value (json_object_get (resp.json, "event_id")), id);
    gw_resp_clear (&resp);
}

static void
s_assert_put (gw_t *gw, const char *id, const char *status)
{
    char path[64], body[64];
    snprintf (path, sizeof path, "/events/%s", id);
    snprintf (body, sizeof body, "{\"status\":\"%s\"}", status);
    gw_resp_t resp = { 0 };
    if (gw_json (gw, &resp, "PUT", path, body) != 200)
        fail_msg ("PUT %s: %ld %s", path, resp.code, resp.body);
    assert_string_equal (json_string_value (json_object_get (resp.json, "event_id")), id);
    gw_assert_event (resp.json, NULL, NULL, status);
    gw_resp_clear (&resp);
}

static void
test_events_live_on_the_shard_that_owns_their_id (void **state)
{
    fixture_t *self = *state;
    int per_shard[SHARDS] = { 0 };
    for (int u = 0; u < USERS; u++) {
        int user_shard = -1;
        for (int k = 0; k < PER_USER; k++) {
            int e = u * PER_USER + k;
            snprintf (self->users[e], sizeof self->users[e], "user-%d", u);
            gw_create (&self->gw, self->users[e], "sharded", self->ids[e]);
            int holder = s_holder (self, self->ids[e]);
            assert_int_equal (holder, shardfx_owner (self->ids[e]));
            /* Creates are spread by user: all of a user's on one shard. */
            if (user_shard < 0)
                user_shard = holder;
            assert_int_equal (holder, user_shard);
            per_shard[holder]++;
        }
    }
    for (int s = 0; s < SHARDS; s++)
        if (per_shard[s] == 0)
            fail_msg ("no event of %d users landed on shard %d", USERS, s);
    for (int e = 0; e < EVENTS; e++) {
        s_assert_get (&self->gw, self->ids[e], self->users[e], "pending");
        s_assert_put (&self->gw, self->ids[e], "seen");
        char status[32] = "";
        assert_int_equal (s_direct_get (&self->shards[shardfx_owner (self->ids[e])], self->ids[e],
                                        status, sizeof status),
                          PROTO_OK);
        assert_string_equal (status, "seen");
    }
    for (int s = 0; s < SHARDS; s++) {
        char label[32];
        snprintf (label, sizeof label, "shard=\"%d\"", s);
        assert_true (gw_fetch_metric (&self->gw, "herald_store_shard_requests_total", label) > 0);
    }
    assert_true (gw_fetch_metric (&self->gw, "herald_store_redirects_total", "followed") == 0);
}

/* A user's list spans shards like any list (test_gateway_shard_list pages
   through them): here, that it is whole and in creation order. */
static void
test_a_users_list_is_whole_across_shards (void **state)
{
    fixture_t *self = *state;
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (&self->gw, &resp, "GET", "/events?user_id=user-3", NULL, NULL, 0),
                      200);
    json_t *items = json_object_get (resp.json, "items");
    assert_int_equal (json_array_size (items), PER_USER);
    for (size_t i = 0; i < PER_USER; i++)
        assert_string_equal (
            json_string_value (json_object_get (json_array_get (items, i), "event_id")),
            self->ids[3 * PER_USER + i]);
    assert_true (json_is_null (json_object_get (resp.json, "next_after")));
    gw_resp_clear (&resp);
}

static void
test_a_stale_gateway_follows_the_redirect_then_reloads (void **state)
{
    fixture_t *self = *state;
    shardfx_write_map (self->stale, self->shards, 1, 1); /* every third owned by another shard */
    gw_t stale = { 0 };
    assert_int_equal (shardfx_gateway_start (&stale, 20, self->stale), 0);
    assert_int_equal (gw_wait_readyz (&stale, 200, 10000), 0);
    /* The file unchanged: the store's epoch 2 is newer but the file is not;
       the endpoint it names is in the map, so the request goes there. */
    for (int e = 0; e < 6; e++)
        s_assert_get (&stale, self->ids[e], self->users[e], "seen");
    assert_true (gw_fetch_metric (&stale, "herald_store_redirects_total", "followed") == 6);
    s_assert_put (&stale, self->ids[0], "stale-put");
    assert_true (gw_fetch_metric (&stale, "herald_store_redirects_total", "followed") == 7);
    /* The file says epoch 2 now: the next redirect reloads it, and the
       requests after it go straight to their owners. */
    shardfx_write_map (self->stale, self->shards, 2, 0);
    s_assert_get (&stale, self->ids[6], self->users[6], "seen");
    assert_true (gw_fetch_metric (&stale, "herald_store_redirects_total", "followed") == 8);
    char log[700];
    snprintf (log, sizeof log, "%s/gateway-%d.log", harness_tmpdir (), stale.run);
    assert_int_equal (harness_wait_lines (log, "(map epoch 1 -> 2, the store's 2)", 1, 5000), 1);
    for (int e = 0; e < EVENTS; e++)
        s_assert_get (&stale, self->ids[e], self->users[e], e == 0 ? "stale-put" : "seen");
    assert_true (gw_fetch_metric (&stale, "herald_store_redirects_total", "followed") == 8);
    assert_true (gw_fetch_metric (&stale, "herald_store_redirects_total", "refused") == 0);
    gw_fini (&stale);
}

static void
test_shards_that_disagree_get_503_never_an_event (void **state)
{
    (void)state;
    /* P and Q each think the other owns slots 0-8191; the gateway's map
       (Q's) sends slot 100 to P. */
    shardfx_store_t p = { 0 }, q = { 0 };
    shardfx_store_init (&p);
    shardfx_store_init (&q);
    char map_p[600], map_q[600], text[256];
    snprintf (map_p, sizeof map_p, "%s/p.map", harness_tmpdir ());
    snprintf (map_q, sizeof map_q, "%s/q.map", harness_tmpdir ());
    snprintf (text, sizeof text, "epoch 3\nshard %s 8192-16383\nshard %s 0-8191\n", p.endpoint,
              q.endpoint);
    assert_int_equal (harness_write_file (map_p, text), 0);
    snprintf (text, sizeof text, "epoch 3\nshard %s 0-8191\nshard %s 8192-16383\n", p.endpoint,
              q.endpoint);
    assert_int_equal (harness_write_file (map_q, text), 0);
    assert_int_equal (shardfx_store_start (&p, map_p, 0, "p"), 0);
    assert_int_equal (shardfx_store_start (&q, map_q, 1, "q"), 0);
    gw_t gw = { 0 };
    assert_int_equal (shardfx_gateway_start (&gw, 30, map_q), 0);
    assert_int_equal (gw_wait_readyz (&gw, 200, 10000), 0);

    const char *id = "00640000-0000-4000-8000-000000000001"; /* slot 100 */
    gw_resp_t resp = { 0 };
    assert_int_equal (
        gw_call (&gw, &resp, "GET", "/events/00640000-0000-4000-8000-000000000001", NULL, NULL, 0),
        503);
    gw_assert_detail (&resp, 503,
                      "The event's shard redirected again after one redirect was followed: the "
                      "shards' maps disagree, try again later");
    assert_int_equal (gw_json (&gw, &resp, "PUT", "/events/00640000-0000-4000-8000-000000000001",
                               "{\"status\":\"x\"}"),
                      503);
    assert_true (gw_fetch_metric (&gw, "herald_store_redirects_total", "followed") == 2);
    assert_true (gw_fetch_metric (&gw, "herald_store_redirects_total", "refused") == 2);
    assert_int_equal (s_direct_get (&p, id, NULL, 0), PROTO_E_MOVED);
    assert_int_equal (s_direct_get (&q, id, NULL, 0), PROTO_E_MOVED);

    /* /readyz needs every shard: P frozen is 503 naming it, then 200. */
    kill (p.pid, SIGSTOP);
    assert_int_equal (gw_call (&gw, &resp, "GET", "/readyz", NULL, NULL, 0), 503);
    char detail[128];
    snprintf (detail, sizeof detail, "Store unavailable (shard 0, %s)", p.endpoint);
    gw_assert_detail (&resp, 503, detail);
    kill (p.pid, SIGCONT);
    assert_int_equal (gw_wait_readyz (&gw, 200, 10000), 0);
    gw_resp_clear (&resp);
    gw_fini (&gw);
    shardfx_store_stop (&p);
    shardfx_store_stop (&q);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_events_live_on_the_shard_that_owns_their_id),
        cmocka_unit_test (test_a_users_list_is_whole_across_shards),
        cmocka_unit_test (test_a_stale_gateway_follows_the_redirect_then_reloads),
        cmocka_unit_test (test_shards_that_disagree_get_503_never_an_event),
    };
    return cmocka_run_group_tests_name ("gateway_shard", tests, s_setup, s_teardown);
}
