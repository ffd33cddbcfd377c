/*
 * test_store_bounds — what a client can make the real herald-store hold
 * (issue 14, containment), over real sockets:
 *   - the event cap (--max-events) and the memory cap (--max-memory):
 *     creates past it get store_full and change nothing, updates and reads
 *     go on; a journal holding more than a lowered cap still loads whole,
 *     and the store then refuses creates only;
 *   - a peer that sends many list requests (each reply ~1 MiB) and never
 *     reads: the store's RSS stays within the per-peer bound
 *     (store/server.c) while another client is served, and the stalled
 *     peer, when it reads at last, finds every reply, the later ones short
 *     pages it can go on from;
 *   - a peer that reads every page and sends back each page's receipt
 *     (PROTOCOL.md §4.3) keeps getting full pages where one that does not
 *     is cut once its last pages fill the bound, and a forged receipt
 *     frees nothing;
 *   - a peer that sends 4000 gets of the largest event and never reads:
 *     the RSS stays within the message bound times that event, the
 *     replies past it are dropped and counted;
 *   - a live-stream subscriber that never reads: the store's RSS stays
 *     within the PUB bound (1000 notes) while 20,000 changes of 4 KiB are
 *     published.
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
    assert_int_equal (
        harness_count_lines (self->log, "at start: store is full (3 events, max-events 2)"), 1);
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

#define BIG_EVENTS 1000
#define BIG_DESCRIPTION 1000
#define STALLED_LISTS 400
/* The per-peer bound for pages (store/server.c: 4 MiB) plus allocator
   slack. */
#define STALLED_RSS_BOUND_KIB (8 * 1024)
/* Gets of the largest event: the store queues 2048 of them at most (its
   SNDHWM, store/server.c), ~4.5 KB each: ~9 MB, plus allocator slack. The
   old HWM of 8192 let them grow to ~37 MB. */
#define STALLED_GETS 4000
#define STALLED_GETS_RSS_BOUND_KIB (14 * 1024)

/* Under AddressSanitizer (scripts/test.sh --asan builds the store with it
   too) freed memory sits in ASan's quarantine and every allocation has
   redzones, so RSS says nothing about what the store holds: the RSS bounds
   are checked in the normal build only; the rest of each test runs in
   both. */
#ifdef __SANITIZE_ADDRESS__
#define S_RSS_CHECKED 0
#else
#define S_RSS_CHECKED 1
#endif

static proto_reply_t *
s_list (fixture_t *self, uint32_t limit)
{
    proto_request_t req = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = limit };
    return dc_call (self, &req);
}

/* A peer that sends n copies of req (rids 1000000 + i) and does not read:
   a one-message receive queue and a small kernel buffer, so replies stay
   on the store's side. Then, while the store works through them, another
   client (self) is served, until the store has handled all n (its
   request counter counts them too). Returns the stalled socket. */
static zsock_t *
s_stall (fixture_t *self, proto_request_t *req, int n, const uint8_t served_id[16])
{
    uint64_t requests = s_stat (self, "requests");
    zsock_t *stalled = zsock_new (ZMQ_DEALER);
    assert_non_null (stalled);
    zsock_set_rcvhwm (stalled, 1);
    zsock_set_rcvbuf (stalled, 4096);
    zsock_set_sndhwm (stalled, n * 2);
    assert_int_equal (zsock_connect (stalled, "%s", self->endpoint), 0);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (int i = 0; i < n; i++) {
        req->rid = 1000000 + (uint64_t)i;
        msgpack_sbuffer_clear (&buf);
        assert_int_equal (proto_request_encode (req, &buf), 0);
        assert_int_equal (zmq_send (zsock_resolve (stalled), buf.data, buf.size, 0), (int)buf.size);
    }
    msgpack_sbuffer_destroy (&buf);
    uint64_t mine = 0;
    int64_t deadline = clock_mono_ms () + 30000;
    for (;;) {
        mine += 2;
        assert_int_equal (dc_get (self, served_id)->status, PROTO_OK);
        if (s_stat (self, "requests") >= requests + (uint64_t)n + mine)
            break;
        assert_true (clock_mono_ms () < deadline);
    }
    return stalled;
}

/* Creates BIG_EVENTS events of BIG_DESCRIPTION bytes (a page of 1000
   fills a ~1 MiB reply) and returns the items of a full page. */
static size_t
s_big_events (fixture_t *self, uint8_t first[16])
{
    char description[BIG_DESCRIPTION + 1];
    memset (description, 'd', BIG_DESCRIPTION);
    description[BIG_DESCRIPTION] = '\0';
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u"),
                               .description = { description, BIG_DESCRIPTION } };
    for (int i = 0; i < BIG_EVENTS; i++) {
        create.rid = ++self->rid;
        dc_send (self, &create);
    }
    for (int i = 0; i < BIG_EVENTS; i++)
        assert_int_equal (dc_recv (self)->status, PROTO_OK);
    proto_reply_t *page = s_list (self, 1000);
    assert_int_equal (page->status, PROTO_OK);
    if (first)
        memcpy (first, page->items[0].id, 16);
    assert_true (page->n_items > 500 && page->n_items < 1000); /* cut at the 1 MiB frame */
    return page->n_items;
}

/* A page of up to 1000, sending receipt back when not NULL; the reply's
   receipt (it must have one: this client is counted) in next. */
static size_t
s_page (fixture_t *self, const uint8_t *receipt, uint8_t next[16])
{
    proto_request_t req = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    if (receipt) {
        req.has |= PROTO_HAS_RECEIPT;
        memcpy (req.receipt, receipt, 16);
    }
    proto_reply_t *page = dc_call (self, &req);
    assert_int_equal (page->status, PROTO_OK);
    assert_true (page->has_receipt);
    memcpy (next, page->receipt, 16);
    return page->n_items;
}

static void
test_store_reader_that_returns_receipts_keeps_full_pages (void **state)
{
    fixture_t *self = *state;
    const char *const args[] = { "--fsync", "no", NULL };
    dc_start (self, args);
    size_t full = s_big_events (self, NULL);
    uint8_t last[16], forged[16];
    /* Without receipts: the creates' answers (~1.2 MB) and the pages of
       ~1 MiB fill the 4 MiB bound within a few pages, and pages are cut
       to what is left (one item once nothing is). */
    size_t pages[6];
    for (int i = 0; i < 6; i++)
        pages[i] = s_page (self, NULL, last);
    print_message ("without receipts: pages of %zu %zu %zu %zu %zu %zu items (full %zu)\n",
                   pages[0], pages[1], pages[2], pages[3], pages[4], pages[5], full);
    assert_int_equal (pages[5], 1);
    uint64_t cut = s_stat (self, "pages_cut");
    assert_true (cut >= 3);
    assert_int_equal (s_stat (self, "receipts"), 0);
    /* Each request carries the receipt of the reply before it: every page
       is full, however many. */
    for (int i = 0; i < 20; i++)
        assert_int_equal (s_page (self, last, last), full);
    /* Those pages ended at the frame limit, not the budget: not counted. */
    assert_int_equal (s_stat (self, "pages_cut"), cut);
    /* Four pages again without, then a forged receipt: still cut. */
    for (int i = 0; i < 4; i++)
        s_page (self, NULL, last);
    memcpy (forged, last, 16);
    forged[15] ^= 0x40;
    uint8_t unused[16];
    assert_true (s_page (self, forged, unused) < full);
    /* The genuine one of the page before it frees that page and all before. */
    assert_int_equal (s_page (self, last, last), full);
    /* Counted: 21 receipts that freed replies, the forged one refused, the
       pages cut by the budget (the stats requests are not pages). */
    assert_int_equal (s_stat (self, "receipts"), 21);
    assert_int_equal (s_stat (self, "receipts_refused"), 1);
    assert_true (s_stat (self, "pages_cut") > cut);
    /* feed_read pages carry one too. */
    proto_request_t read = { .op = PROTO_OP_FEED_READ, .has = PROTO_HAS_MAX, .max = 10 };
    proto_reply_t *feed = dc_call (self, &read);
    assert_int_equal (feed->status, PROTO_OK);
    assert_int_equal (feed->n_changes, 10);
    assert_true (feed->has_receipt);
}

static void
test_store_peer_that_never_reads_stays_within_its_bound (void **state)
{
    fixture_t *self = *state;
    const char *const args[] = { "--fsync", "no", NULL };
    dc_start (self, args);
    uint8_t first[16];
    size_t full_page = s_big_events (self, first);
    long rss_before = harness_rss_kib (self->pid);
    proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = 1000 };
    zsock_t *stalled = s_stall (self, &list, STALLED_LISTS, first);
    assert_int_equal (s_list (self, 1000)->n_items, full_page);
    long rss_after = harness_rss_kib (self->pid);
    print_message ("store RSS %ld KiB before the stalled peer, %ld KiB after %d unread lists "
                   "(bound %d KiB more)\n",
                   rss_before, rss_after, STALLED_LISTS, STALLED_RSS_BOUND_KIB);
    assert_true (rss_before > 0 && rss_after > 0);
    if (S_RSS_CHECKED)
        assert_true (rss_after - rss_before < STALLED_RSS_BOUND_KIB);

    /* When it reads at last, every reply is there: full pages first, then
       short ones that still say where to go on. */
    zsock_set_rcvtimeo (stalled, TIMEOUT_MS);
    size_t total = 0, short_pages = 0;
    for (int i = 0; i < STALLED_LISTS; i++) {
        zframe_t *frame = zframe_recv (stalled);
        assert_non_null (frame);
        proto_reply_t reply;
        proto_error_t err;
        assert_int_equal (
            proto_reply_decode (zframe_data (frame), zframe_size (frame), &reply, &err),
            PROTO_DECODE_OK);
        assert_int_equal (reply.status, PROTO_OK);
        assert_int_equal (reply.rid, 1000000 + (uint64_t)i);
        assert_true (reply.n_items >= 1 && reply.has_next_after);
        short_pages += reply.n_items < full_page;
        total += zframe_size (frame);
        proto_reply_clear (&reply);
        zframe_destroy (&frame);
    }
    print_message ("the stalled peer got %zu bytes in %d replies, %zu of them short pages\n", total,
                   STALLED_LISTS, short_pages);
    /* the page budget, then one item per reply past it */
    assert_true (total < (4u << 20) + STALLED_LISTS * (BIG_DESCRIPTION + 512));
    assert_true (short_pages >= STALLED_LISTS - 5); /* 4 MiB of full pages at most */
    zsock_destroy (&stalled);
}

static void
test_store_peer_flooding_gets_and_never_reading_stays_within_its_bound (void **state)
{
    fixture_t *self = *state;
    const char *const args[] = { "--fsync", "no", NULL };
    dc_start (self, args);
    /* The largest event the default limits allow. */
    char user[PROTO_USER_ID_MAX_DEFAULT + 1], description[PROTO_DESCRIPTION_MAX_DEFAULT + 1];
    memset (user, 'u', PROTO_USER_ID_MAX_DEFAULT);
    user[PROTO_USER_ID_MAX_DEFAULT] = '\0';
    memset (description, 'd', PROTO_DESCRIPTION_MAX_DEFAULT);
    description[PROTO_DESCRIPTION_MAX_DEFAULT] = '\0';
    proto_reply_t *reply = dc_create (self, user, description);
    assert_int_equal (reply->status, PROTO_OK);
    uint8_t id[16];
    memcpy (id, reply->event.id, 16);
    long rss_before = harness_rss_kib (self->pid);
    proto_request_t get = { .op = PROTO_OP_GET, .has = PROTO_HAS_EVENT_ID };
    memcpy (get.event_id, id, 16);
    zsock_t *stalled = s_stall (self, &get, STALLED_GETS, id);
    long rss_after = harness_rss_kib (self->pid);
    uint64_t unroutable = s_stat (self, "unroutable");
    print_message ("store RSS %ld KiB before the stalled peer, %ld KiB after %d unread gets of "
                   "a %d-byte event (bound %d KiB more); %llu replies dropped as unroutable\n",
                   rss_before, rss_after, STALLED_GETS, PROTO_DESCRIPTION_MAX_DEFAULT,
                   STALLED_GETS_RSS_BOUND_KIB, (unsigned long long)unroutable);
    assert_true (rss_before > 0 && rss_after > 0);
    if (S_RSS_CHECKED)
        assert_true (rss_after - rss_before < STALLED_GETS_RSS_BOUND_KIB);
    /* Past the queue's bound replies are dropped and counted, and the
       store serves on. */
    assert_true (unroutable > 0);
    assert_int_equal (dc_get (self, id)->status, PROTO_OK);
    zsock_destroy (&stalled);
}

#define SUB_UPDATES 20000
#define SUB_DESCRIPTION 4000
/* 1000 notes of ~4 KB (store/server.c S_PUB_HWM) plus allocator slack;
   20,000 queued would be ~80 MB. */
#define SUB_RSS_BOUND_KIB (16 * 1024)

static void
test_store_subscriber_that_never_reads_stays_within_its_bound (void **state)
{
    fixture_t *self = *state;
    const char *const args[] = { "--fsync", "no", NULL };
    dc_start (self, args);
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert_non_null (sub);
    zsock_set_rcvhwm (sub, 1);
    zsock_set_rcvbuf (sub, 4096);
    zsock_set_subscribe (sub, "");
    assert_int_equal (zsock_connect (sub, "%s", pub), 0);
    proto_reply_t *reply = dc_create (self, "u", "watched");
    assert_int_equal (reply->status, PROTO_OK);
    uint8_t id[16];
    memcpy (id, reply->event.id, 16);
    /* The subscription is in place once a note arrives. */
    zsock_set_rcvtimeo (sub, 200);
    zmsg_t *note = NULL;
    for (int i = 0; i < 50 && !note; i++) {
        assert_int_equal (s_update (self, id, "subscribed?")->status, PROTO_OK);
        note = zmsg_recv (sub);
    }
    assert_non_null (note);
    zmsg_destroy (&note);
    long rss_before = harness_rss_kib (self->pid);
    /* Same-size descriptions: the table does not grow, only the notes. */
    char description[2][SUB_DESCRIPTION + 1];
    memset (description[0], 'a', SUB_DESCRIPTION);
    memset (description[1], 'b', SUB_DESCRIPTION);
    description[0][SUB_DESCRIPTION] = description[1][SUB_DESCRIPTION] = '\0';
    proto_request_t update = { .op = PROTO_OP_UPDATE,
                               .has = PROTO_HAS_EVENT_ID | PROTO_HAS_DESCRIPTION };
    memcpy (update.event_id, id, 16);
    for (int sent = 0, done = 0; done < SUB_UPDATES;) {
        while (sent < SUB_UPDATES && sent - done < WINDOW) {
            update.description = (proto_str_t){ description[sent % 2], SUB_DESCRIPTION };
            update.rid = ++self->rid;
            dc_send (self, &update);
            sent++;
        }
        reply = dc_recv (self);
        assert_non_null (reply);
        assert_int_equal (reply->status, PROTO_OK);
        done++;
    }
    uint64_t published = s_stat (self, "published");
    long rss_after = harness_rss_kib (self->pid);
    print_message ("store RSS %ld KiB before, %ld KiB after %d notes of 4 KB to a subscriber "
                   "that does not read (%llu published; bound %d KiB more)\n",
                   rss_before, rss_after, SUB_UPDATES, (unsigned long long)published,
                   SUB_RSS_BOUND_KIB);
    assert_true (published >= SUB_UPDATES);
    assert_true (rss_before > 0 && rss_after > 0);
    if (S_RSS_CHECKED)
        assert_true (rss_after - rss_before < SUB_RSS_BOUND_KIB);
    zsock_destroy (&sub);
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
        cmocka_unit_test_setup_teardown (
            test_store_peer_flooding_gets_and_never_reading_stays_within_its_bound, dc_setup,
            dc_teardown),
        cmocka_unit_test_setup_teardown (test_store_peer_that_never_reads_stays_within_its_bound,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (test_store_reader_that_returns_receipts_keeps_full_pages,
                                         dc_setup, dc_teardown),
        cmocka_unit_test_setup_teardown (
            test_store_subscriber_that_never_reads_stays_within_its_bound, dc_setup, dc_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
