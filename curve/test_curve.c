/*
 * test_curve — key files load as herald-keygen writes them and fail with a
 * reason otherwise; two sockets given the keys talk, and a client that
 * expects another server key gets nothing; endpoints are judged local or
 * not the way protected mode needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "curve.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[] = "/tmp/herald-test-curve-XXXXXX";

/* Writes a new pair as DIR/name.key and DIR/name.key_secret. */
static zcert_t *
s_pair (const char *name, char *pub, char *sec, size_t size)
{
    zcert_t *cert = zcert_new ();
    assert_non_null (cert);
    snprintf (pub, size, "%s/%s.key", s_dir, name);
    snprintf (sec, size, "%s/%s.key_secret", s_dir, name);
    assert_int_equal (zcert_save_public (cert, pub), 0);
    assert_int_equal (zcert_save_secret (cert, sec), 0);
    chmod (sec, 0600);
    return cert;
}

static void
test_curve_loads_a_pair_and_refuses_the_wrong_files (void **state)
{
    char pub[512], sec[512], err[256];
    zcert_t *cert = s_pair ("store", pub, sec, sizeof pub);
    curve_keypair_t keys;
    assert_int_equal (curve_load_keypair (sec, &keys, err, sizeof err), 0);
    assert_memory_equal (keys.public_key, zcert_public_key (cert), CURVE_KEY_LEN);
    assert_memory_equal (keys.secret_key, zcert_secret_key (cert), CURVE_KEY_LEN);
    uint8_t key[CURVE_KEY_LEN];
    assert_int_equal (curve_load_public (pub, key, err, sizeof err), 0);
    assert_memory_equal (key, zcert_public_key (cert), CURVE_KEY_LEN);
    assert_int_equal (curve_load_public (sec, key, err, sizeof err), 0);
    assert_memory_equal (key, zcert_public_key (cert), CURVE_KEY_LEN);

    /* the public file where the secret one is needed */
    assert_int_equal (curve_load_keypair (pub, &keys, err, sizeof err), -1);
    assert_non_null (strstr (err, "no secret key"));
    /* missing, and not a certificate */
    char path[600];
    snprintf (path, sizeof path, "%s/missing.key_secret", s_dir);
    assert_int_equal (curve_load_keypair (path, &keys, err, sizeof err), -1);
    assert_non_null (strstr (err, "cannot read"));
    snprintf (path, sizeof path, "%s/garbage", s_dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs ("curve\n    public-key = \"short\"\n", f);
    fclose (f);
    assert_int_equal (curve_load_public (path, key, err, sizeof err), -1);
    assert_non_null (strstr (err, "not a CURVE certificate"));
    zcert_destroy (&cert);
}

/* A DEALER given client keys sends "hello" to a ROUTER given server keys;
   returns whether it arrived within timeout_ms. */
static bool
s_round (const curve_keypair_t *server, const curve_keypair_t *client,
         const uint8_t server_key[CURVE_KEY_LEN], int timeout_ms)
{
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER), *dealer = zmq_socket (ctx, ZMQ_DEALER);
    assert_int_equal (curve_make_server (router, server), 0);
    assert_int_equal (curve_make_client (dealer, client, server_key), 0);
    assert_int_equal (zmq_bind (router, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, ep, &len);
    assert_int_equal (zmq_connect (dealer, ep), 0);
    zmq_send (dealer, "hello", 5, ZMQ_DONTWAIT);
    zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
    bool got = false;
    if (zmq_poll (&item, 1, timeout_ms) == 1) {
        char id[256], body[16];
        got = zmq_recv (router, id, sizeof id, 0) > 0
              && zmq_recv (router, body, sizeof body, 0) == 5 && memcmp (body, "hello", 5) == 0;
    }
    int zero = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (dealer);
    zmq_close (router);
    zmq_ctx_term (ctx);
    return got;
}

static void
test_curve_sockets_talk_only_with_the_right_server_key (void **state)
{
    assert_true (curve_available ());
    char pub[512], sec[512], err[256];
    zcert_t *a = s_pair ("server", pub, sec, sizeof pub),
            *b = s_pair ("client", pub, sec, sizeof pub);
    zcert_t *c = s_pair ("other", pub, sec, sizeof pub);
    curve_keypair_t server, client;
    memcpy (server.public_key, zcert_public_key (a), CURVE_KEY_LEN);
    memcpy (server.secret_key, zcert_secret_key (a), CURVE_KEY_LEN);
    memcpy (client.public_key, zcert_public_key (b), CURVE_KEY_LEN);
    memcpy (client.secret_key, zcert_secret_key (b), CURVE_KEY_LEN);
    assert_true (s_round (&server, &client, server.public_key, 5000));
    /* a client that expects another server's key never completes the handshake */
    assert_false (s_round (&server, &client, zcert_public_key (c), 500));
    (void)err;
    zcert_destroy (&a);
    zcert_destroy (&b);
    zcert_destroy (&c);
}

static void
test_curve_judges_endpoints_local_or_not (void **state)
{
    const char *local[] = { "tcp://127.0.0.1:5555",    "tcp://127.8.9.10:1",
                            "tcp://localhost:5555",    "tcp://[::1]:5555",
                            "ipc:///run/herald/store", "inproc://x" };
    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        assert_true (curve_endpoint_is_local (local[i]));
    const char *open[] = { "tcp://*:5555",
                           "tcp://0.0.0.0:5555",
                           "tcp://10.0.0.5:5555",
                           "tcp://[::]:5555",
                           "tcp://store:5555",
                           "tcp://eth0:5555",
                           "tcp://127.0.0.1;10.0.0.1:5555",
                           "tcp://128.0.0.1:5555",
                           "pgm://x" };
    for (size_t i = 0; i < sizeof open / sizeof *open; i++)
        assert_false (curve_endpoint_is_local (open[i]));
}

static int
s_setup (void **state)
{
    zsys_handler_set (NULL);
    return mkdtemp (s_dir) ? 0 : -1;
}

static int
s_teardown (void **state)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system (cmd) == 0 ? 0 : -1;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_curve_loads_a_pair_and_refuses_the_wrong_files),
        cmocka_unit_test (test_curve_sockets_talk_only_with_the_right_server_key),
        cmocka_unit_test (test_curve_judges_endpoints_local_or_not),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
