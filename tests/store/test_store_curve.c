/*
 * test_store_curve — the store's CurveZMQ security with the real binaries:
 * herald-keygen makes pairs and never overwrites one; a store reachable
 * beyond loopback without keys refuses to start unless --insecure; with
 * keys, a client whose public key is in --curve-clients gets in on both
 * sockets, while a client with another key, or none, gets nothing and the
 * refusals are counted in the store's stats; a key added to the directory
 * lets its client in without a restart; `herald-store --check` gets in with
 * the store's own key.
 */
#include "curve.h"
#include "harness.h"
#include "store_client.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define S_DENIED_MS 1500 /* a refused client's ping waits this long for nothing */

static char s_keys[512], s_clients[600];

/* Runs argv to completion (at most 10 s); its exit status, or -1. */
static int
s_run (const char *const argv[], const char *log)
{
    pid_t pid = harness_spawn (argv, NULL, NULL, log);
    assert_true (pid > 0);
    for (int i = 0; i < 1000; i++) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
        harness_nap_ms (10);
    }
    harness_stop (pid, SIGKILL, 1000);
    return -1;
}

static int
s_keygen (const char *dir, const char *name)
{
    char log[700];
    snprintf (log, sizeof log, "%s/keygen-%s.log", harness_tmpdir (), name);
    const char *argv[] = { harness_bin ("herald-keygen"), dir, name, NULL };
    return s_run (argv, log);
}

static void
s_path (char *out, size_t size, const char *name, const char *suffix)
{
    snprintf (out, size, "%s/%s.key%s", s_keys, name, suffix);
}

static void
s_copy (const char *from, const char *to)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal (system (cmd), 0);
}

/* A client of the store at endpoint with name's keys (NULL: plain ZMTP). */
static store_client_t *
s_client (const char *endpoint, const char *name, curve_client_t *curve)
{
    store_client_config_t config = { .endpoint = endpoint };
    if (name) {
        char key[700], server[700], err[256];
        s_path (key, sizeof key, name, "_secret");
        s_path (server, sizeof server, "store", "");
        assert_int_equal (curve_load_client (key, server, curve, err, sizeof err), 1);
        config.curve_keys = &curve->keys;
        config.curve_server_key = curve->server_key;
    }
    store_client_t *client = store_client_new (&config);
    assert_non_null (client);
    return client;
}

/* Whether a ping through a fresh client with name's keys is answered. */
static bool
s_pings (const char *endpoint, const char *name, int timeout_ms)
{
    curve_client_t curve;
    store_client_t *client = s_client (endpoint, name, &curve);
    proto_request_t req = { .op = PROTO_OP_PING };
    proto_reply_t reply;
    bool ok = store_client_call (client, &req, timeout_ms, &reply) == 0;
    if (ok) {
        ok = reply.status == PROTO_OK;
        proto_reply_clear (&reply);
    }
    store_client_destroy (&client);
    return ok;
}

/* The store's stat name, through a client with name's keys. */
static uint64_t
s_stat (const char *endpoint, const char *name, const char *stat)
{
    curve_client_t curve;
    store_client_t *client = s_client (endpoint, name, &curve);
    proto_request_t req = { .op = PROTO_OP_STATS };
    proto_reply_t reply;
    assert_int_equal (store_client_call (client, &req, 5000, &reply), 0);
    uint64_t value = UINT64_MAX;
    for (size_t i = 0; i < reply.n_stats; i++)
        if (reply.stats[i].name.len == strlen (stat)
            && memcmp (reply.stats[i].name.ptr, stat, reply.stats[i].name.len) == 0)
            value = reply.stats[i].value;
    proto_reply_clear (&reply);
    store_client_destroy (&client);
    assert_true (value != UINT64_MAX);
    return value;
}

/* Starts a store on loopback ports with the keys (or with extra args). */
static pid_t
s_store (const char *bind, const char *pub, const char *const *extra, const char *log)
{
    const char *argv[16] = { harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub };
    int n = 5;
    for (; extra && *extra; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    return harness_spawn (argv, NULL, NULL, log);
}

static void
test_keygen_writes_a_private_pair_and_never_overwrites (void **state)
{
    char pub[700], sec[700];
    s_path (pub, sizeof pub, "store", "");
    s_path (sec, sizeof sec, "store", "_secret");
    struct stat st;
    assert_int_equal (stat (sec, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (stat (pub, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0644);
    curve_keypair_t before, after;
    char err[256];
    assert_int_equal (curve_load_keypair (sec, &before, err, sizeof err), 0);
    assert_int_equal (s_keygen (s_keys, "store"), 1); /* exists: refused */
    assert_int_equal (curve_load_keypair (sec, &after, err, sizeof err), 0);
    assert_memory_equal (before.secret_key, after.secret_key, CURVE_KEY_LEN);
    /* the public file is no key pair */
    assert_int_equal (curve_load_keypair (pub, &after, err, sizeof err), -1);
}

static void
test_store_without_keys_refuses_an_open_bind_unless_insecure (void **state)
{
    char bind[64], pub[64], log[700];
    snprintf (bind, sizeof bind, "tcp://0.0.0.0:%d", harness_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
    snprintf (log, sizeof log, "%s/open.log", harness_tmpdir ());
    const char *argv[] = { harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, NULL };
    assert_int_equal (s_run (argv, log), 2);
    assert_int_equal (harness_count_lines (log, "refusing to bind"), 1);

    /* keys half given */
    char sec[700];
    s_path (sec, sizeof sec, "store", "_secret");
    const char *half[] = {
        harness_bin ("herald-store"), "--bind", bind, "--pub-bind", pub, "--curve-key", sec, NULL
    };
    assert_int_equal (s_run (half, log), 2);
    assert_int_equal (harness_count_lines (log, "go together"), 1);

    /* --insecure says so, and the store serves plain clients */
    const char *insecure[] = { "--insecure", NULL };
    pid_t pid = s_store (bind, pub, insecure, log);
    assert_true (pid > 0);
    char local[64];
    snprintf (local, sizeof local, "tcp://127.0.0.1:%s", strrchr (bind, ':') + 1);
    assert_true (s_pings (local, NULL, 5000));
    assert_int_equal (harness_count_lines (log, "--insecure:"), 1);
    assert_int_equal (harness_stop (pid, SIGTERM, 5000), 0);
}

static void
test_only_allowed_keys_get_in_and_refusals_are_counted (void **state)
{
    int port = harness_free_port (), pub_port = harness_free_port ();
    char bind[64], pub[64], sec[700], log[700];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pub_port);
    s_path (sec, sizeof sec, "store", "_secret");
    snprintf (log, sizeof log, "%s/curve.log", harness_tmpdir ());
    const char *keys[] = { "--curve-key", sec, "--curve-clients", s_clients, NULL };
    pid_t pid = s_store (bind, pub, keys, log);
    assert_true (pid > 0);
    assert_int_equal (harness_wait_tcp (port, 10000), 0);

    assert_true (s_pings (bind, "gateway", 5000));
    assert_false (s_pings (bind, "intruder", S_DENIED_MS));
    assert_false (s_pings (bind, NULL, S_DENIED_MS)); /* no CURVE at all */
    assert_true (s_stat (bind, "gateway", "refused") >= 1);
    assert_true (harness_count_lines (log, "is not in --curve-clients") >= 1);

    /* the live stream: the allowed key hears a create, the other does not */
    curve_client_t good, bad;
    char key[700], server[700], err[256], ep[64];
    s_path (key, sizeof key, "gateway", "_secret");
    s_path (server, sizeof server, "store", "");
    assert_int_equal (curve_load_client (key, server, &good, err, sizeof err), 1);
    s_path (key, sizeof key, "intruder", "_secret");
    assert_int_equal (curve_load_client (key, server, &bad, err, sizeof err), 1);
    zsock_t *subs[2] = { zsock_new (ZMQ_SUB), zsock_new (ZMQ_SUB) };
    const curve_client_t *who[2] = { &good, &bad };
    for (int i = 0; i < 2; i++) {
        assert_int_equal (
            curve_make_client (zsock_resolve (subs[i]), &who[i]->keys, who[i]->server_key), 0);
        zsock_set_subscribe (subs[i], "");
        zsock_set_rcvtimeo (subs[i], S_DENIED_MS);
        snprintf (ep, sizeof ep, "%s", pub);
        assert_int_equal (zsock_connect (subs[i], "%s", ep), 0);
    }
    harness_nap_ms (500); /* the subscriptions reach the PUB */
    curve_client_t curve;
    store_client_t *client = s_client (bind, "gateway", &curve);
    proto_request_t create = { .op = PROTO_OP_CREATE,
                               .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                               .user_id = PROTO_STR ("u-curve"),
                               .description = PROTO_STR ("over CURVE") };
    proto_reply_t reply;
    assert_int_equal (store_client_call (client, &create, 5000, &reply), 0);
    assert_int_equal (reply.status, PROTO_OK);
    proto_reply_clear (&reply);
    store_client_destroy (&client);
    char *topic = zstr_recv (subs[0]);
    assert_non_null (topic);
    assert_string_equal (topic, "event.created");
    zstr_free (&topic);
    assert_null (zstr_recv (subs[1])); /* times out: never let in */
    zsock_destroy (&subs[0]);
    zsock_destroy (&subs[1]);

    /* a key added to the directory counts from the next handshake */
    char from[700], to[700];
    s_path (from, sizeof from, "intruder", "");
    snprintf (to, sizeof to, "%s/intruder.key", s_clients);
    s_copy (from, to);
    assert_true (s_pings (bind, "intruder", 5000));
    unlink (to);

    /* --check gets in with the store's own key */
    const char *check[] = { harness_bin ("herald-store"),
                            "--check",
                            "--bind",
                            bind,
                            "--curve-key",
                            sec,
                            "--curve-clients",
                            s_clients,
                            NULL };
    char check_log[700];
    snprintf (check_log, sizeof check_log, "%s/check.log", harness_tmpdir ());
    assert_int_equal (s_run (check, check_log), 0);
    const char *plain_check[] = { harness_bin ("herald-store"), "--check", "--bind", bind, NULL };
    assert_int_equal (s_run (plain_check, check_log), 1);
    assert_int_equal (harness_stop (pid, SIGTERM, 5000), 0);
}

/* Fills a store with N_BIG events of 4000-byte descriptions through client,
   then lists them LISTS times, reading each page; returns the items of the
   last page, and in receipts how many pages carried a receipt. A page of
   N_BIG is ~0.8 MB (under the 1 MiB frame limit); the LISTS pages together
   pass the store's 4 MiB budget per peer. */
#define N_BIG 200
#define LISTS 14
static size_t
s_big_lists (store_client_t *client, int *receipts)
{
    *receipts = 0;
    static char text[4001];
    memset (text, 'x', 4000);
    for (int i = 0; i < N_BIG; i++) {
        proto_request_t create = { .op = PROTO_OP_CREATE,
                                   .has = PROTO_HAS_USER_ID | PROTO_HAS_DESCRIPTION,
                                   .user_id = PROTO_STR ("u-big"),
                                   .description = { text, 4000 } };
        proto_reply_t reply;
        assert_int_equal (store_client_call (client, &create, 5000, &reply), 0);
        assert_int_equal (reply.status, PROTO_OK);
        proto_reply_clear (&reply);
    }
    size_t items = 0;
    for (int i = 0; i < LISTS; i++) {
        proto_request_t list = { .op = PROTO_OP_LIST, .has = PROTO_HAS_LIMIT, .limit = N_BIG };
        proto_reply_t reply;
        assert_int_equal (store_client_call (client, &list, 5000, &reply), 0);
        assert_int_equal (reply.status, PROTO_OK);
        items = reply.n_items;
        *receipts += reply.has_receipt;
        proto_reply_clear (&reply);
    }
    return items;
}

/* The store counts the reply bytes of a peer it does not know and cuts its
   pages past its budget, unless the peer proves it read them: store_client
   sends each page's receipt back with the next list, so its pages stay
   full (PROTOCOL.md §4.3; test_store_bounds has a peer that does not, and
   is cut). A client let in by its CURVE key is one of Herald's own
   services: its replies are not counted, its pages never cut, and they
   carry no receipt. */
static void
test_pages_stay_full_for_allowed_clients_and_plain_ones_returning_receipts (void **state)
{
    char sec[700], log[700], bind[64], pub[64];
    s_path (sec, sizeof sec, "store", "_secret");
    const char *keys[] = { "--curve-key", sec, "--curve-clients", s_clients, NULL };
    for (int curve = 0; curve < 2; curve++) {
        int port = harness_free_port ();
        snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
        snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", harness_free_port ());
        snprintf (log, sizeof log, "%s/pages-%d.log", harness_tmpdir (), curve);
        pid_t pid = s_store (bind, pub, curve ? keys : NULL, log);
        assert_true (pid > 0);
        assert_int_equal (harness_wait_tcp (port, 10000), 0);
        curve_client_t keys_of;
        store_client_t *client = s_client (bind, curve ? "gateway" : NULL, &keys_of);
        int receipts;
        size_t last = s_big_lists (client, &receipts);
        print_message ("%s client: last page of %zu items, %d pages with a receipt\n",
                       curve ? "CURVE" : "plain", last, receipts);
        assert_int_equal (last, N_BIG); /* 11 MB of pages, more than 4 MiB */
        assert_int_equal (receipts, curve ? 0 : LISTS);
        store_client_destroy (&client);
        assert_int_equal (harness_stop (pid, SIGTERM, 5000), 0);
    }
}

static int
s_setup (void **state)
{
    zsys_handler_set (NULL);
    snprintf (s_keys, sizeof s_keys, "%s/keys", harness_tmpdir ());
    snprintf (s_clients, sizeof s_clients, "%s/clients", harness_tmpdir ());
    if (mkdir (s_clients, 0700) != 0)
        return -1;
    if (s_keygen (s_keys, "store") != 0 || s_keygen (s_keys, "gateway") != 0
        || s_keygen (s_keys, "intruder") != 0)
        return -1;
    char from[700], to[700];
    s_path (from, sizeof from, "gateway", "");
    snprintf (to, sizeof to, "%s/gateway.key", s_clients);
    s_copy (from, to);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_keygen_writes_a_private_pair_and_never_overwrites),
        cmocka_unit_test (test_store_without_keys_refuses_an_open_bind_unless_insecure),
        cmocka_unit_test (test_only_allowed_keys_get_in_and_refusals_are_counted),
        cmocka_unit_test (
            test_pages_stay_full_for_allowed_clients_and_plain_ones_returning_receipts),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
