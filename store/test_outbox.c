/*
 * test_outbox — the group commit's outbox: a reply that waits for the
 * journal never leaves before a committed flush, the others leave at once,
 * everything in the order it was made; notes are published only once
 * committed. Identities are longer than libzmq's inline 33 bytes, so one
 * never closed is a leak under the valgrind and ASan stages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "outbox.h"

#include <stdio.h>
#include <string.h>

#define S_MAX 16

typedef struct {
    char sent[S_MAX][96]; /* "identity|delimiter|data" per reply sent */
    int n_sent;
    char published[S_MAX][64]; /* "topic|body" per note */
    int n_published;
} seen_t;

static void
s_send (void *arg, zmq_msg_t *identity, bool delimiter, const void *data, size_t size)
{
    seen_t *seen = arg;
    assert_true (seen->n_sent < S_MAX);
    snprintf (seen->sent[seen->n_sent++], sizeof seen->sent[0], "%.*s|%d|%.*s",
              (int)zmq_msg_size (identity), (const char *)zmq_msg_data (identity), delimiter,
              (int)size, (const char *)data);
    zmq_msg_close (identity);
}

static void
s_publish (void *arg, const char *topic, size_t topic_size, const void *body, size_t size)
{
    seen_t *seen = arg;
    assert_true (seen->n_published < S_MAX);
    snprintf (seen->published[seen->n_published++], sizeof seen->published[0], "%.*s|%.*s",
              (int)topic_size, topic, (int)size, (const char *)body);
}

/* Holds reply text for a peer named name (padded past the inline size);
   a durable one comes with a delimiter frame, to see that kept too. */
static void
s_hold (outbox_t *outbox, const char *name, bool durable, const char *text)
{
    char id[48];
    snprintf (id, sizeof id, "%-40s", name);
    zmq_msg_t identity;
    assert_int_equal (zmq_msg_init_size (&identity, strlen (id)), 0);
    memcpy (zmq_msg_data (&identity), id, strlen (id));
    assert_int_equal (outbox_hold_reply (outbox, &identity, durable, durable, text, strlen (text)),
                      0);
}

static void
s_expect_sent (const seen_t *seen, int index, const char *name, bool delimiter, const char *text)
{
    char want[96];
    snprintf (want, sizeof want, "%-40s|%d|%s", name, delimiter, text);
    assert_true (index < seen->n_sent);
    assert_string_equal (seen->sent[index], want);
}

static void
test_outbox_sends_everything_in_order_once_committed (void **state)
{
    (void)state;
    outbox_t *outbox = outbox_new ();
    assert_non_null (outbox);
    s_hold (outbox, "a", true, "created 1");
    s_hold (outbox, "b", false, "got 7");
    s_hold (outbox, "a", true, "created 2");
    assert_int_equal (outbox_hold_note (outbox, "event.created", "n1", 2), 0);
    assert_int_equal (outbox_hold_note (outbox, "event.updated", "n2", 2), 0);
    assert_int_equal (outbox_replies (outbox), 3);

    seen_t seen = { 0 };
    outbox_flush (outbox, true, s_send, s_publish, &seen);
    assert_int_equal (seen.n_sent, 3);
    s_expect_sent (&seen, 0, "a", true, "created 1");
    s_expect_sent (&seen, 1, "b", false, "got 7");
    s_expect_sent (&seen, 2, "a", true, "created 2");
    assert_int_equal (seen.n_published, 2);
    assert_string_equal (seen.published[0], "event.created|n1");
    assert_string_equal (seen.published[1], "event.updated|n2");
    assert_int_equal (outbox_replies (outbox), 0);

    seen_t again = { 0 };
    outbox_flush (outbox, true, s_send, s_publish, &again); /* nothing twice */
    assert_int_equal (again.n_sent, 0);
    assert_int_equal (again.n_published, 0);
    outbox_destroy (&outbox);
    assert_null (outbox);
    outbox_destroy (&outbox);
}

static void
test_outbox_uncommitted_flush_sends_only_what_did_not_wait (void **state)
{
    (void)state;
    outbox_t *outbox = outbox_new ();
    s_hold (outbox, "w1", true, "durable 1");
    s_hold (outbox, "r1", false, "read 1");
    s_hold (outbox, "w2", true, "durable 2");
    s_hold (outbox, "r2", false, "read 2");
    assert_int_equal (outbox_hold_note (outbox, "event.created", "n1", 2), 0);

    seen_t seen = { 0 };
    outbox_flush (outbox, false, s_send, s_publish, &seen);
    assert_int_equal (seen.n_sent, 2);
    s_expect_sent (&seen, 0, "r1", false, "read 1");
    s_expect_sent (&seen, 1, "r2", false, "read 2");
    assert_int_equal (seen.n_published, 0); /* no change is seen before its commit */
    assert_int_equal (outbox_replies (outbox), 2);

    /* The next pass's replies join those still waiting. */
    s_hold (outbox, "r3", false, "read 3");
    s_hold (outbox, "w3", true, "durable 3");
    seen_t second = { 0 };
    outbox_flush (outbox, false, s_send, s_publish, &second);
    assert_int_equal (second.n_sent, 1);
    s_expect_sent (&second, 0, "r3", false, "read 3");
    assert_int_equal (outbox_replies (outbox), 3);

    seen_t committed = { 0 };
    outbox_flush (outbox, true, s_send, s_publish, &committed);
    assert_int_equal (committed.n_sent, 3);
    s_expect_sent (&committed, 0, "w1", true, "durable 1");
    s_expect_sent (&committed, 1, "w2", true, "durable 2");
    s_expect_sent (&committed, 2, "w3", true, "durable 3");
    assert_int_equal (committed.n_published, 1);
    assert_int_equal (outbox_replies (outbox), 0);
    outbox_destroy (&outbox);
}

static void
test_outbox_destroy_lets_go_of_what_it_holds (void **state)
{
    (void)state;
    outbox_t *outbox = outbox_new ();
    s_hold (outbox, "w1", true, "never committed");
    s_hold (outbox, "w2", true, "nor this");
    assert_int_equal (outbox_hold_note (outbox, "event.created", "n1", 2), 0);
    seen_t seen = { 0 };
    outbox_flush (outbox, false, s_send, s_publish, &seen);
    assert_int_equal (seen.n_sent, 0);
    outbox_destroy (&outbox); /* the identities are closed: no leak */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_outbox_sends_everything_in_order_once_committed),
        cmocka_unit_test (test_outbox_uncommitted_flush_sends_only_what_did_not_wait),
        cmocka_unit_test (test_outbox_destroy_lets_go_of_what_it_holds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
