/* check — see check.h. */
#include "check.h"

#include "clock.h"
#include "log.h"
#include "proto.h"

#include <czmq.h>

int
check_store (const char *endpoint, int timeout_ms)
{
    int result = -1;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer)
        goto cleanup;
    zsock_set_linger (dealer, 0);
    if (zsock_connect (dealer, "%s", endpoint) != 0) {
        log_error ("cannot connect to %s", endpoint);
        goto cleanup;
    }
    uint64_t rid = (uint64_t)clock_mono_us ();
    proto_request_t req = { .op = PROTO_OP_PING, .rid = rid };
    if (proto_request_encode (&req, &buf) != 0
        || zmq_send (zsock_resolve (dealer), buf.data, buf.size, ZMQ_DONTWAIT) < 0) {
        log_error ("cannot send a ping to %s", endpoint);
        goto cleanup;
    }
    int64_t deadline = clock_mono_ms () + timeout_ms;
    char frame[4096];
    for (int64_t now = clock_mono_ms (); now < deadline; now = clock_mono_ms ()) {
        zmq_pollitem_t item = { zsock_resolve (dealer), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long)(deadline - now)) <= 0)
            continue;
        int size = zmq_recv (zsock_resolve (dealer), frame, sizeof frame, ZMQ_DONTWAIT);
        if (size < 0 || (size_t)size > sizeof frame)
            continue;
        proto_reply_t reply;
        proto_error_t err;
        if (proto_reply_decode (frame, (size_t)size, &reply, &err) != PROTO_DECODE_OK)
            continue;
        bool ok = reply.rid == rid && reply.op == PROTO_OP_PING && reply.status == PROTO_OK;
        proto_reply_clear (&reply);
        if (ok) {
            result = 0;
            goto cleanup;
        }
    }
    log_error ("no answer to ping from %s within %d ms", endpoint, timeout_ms);
cleanup:
    zsock_destroy (&dealer);
    msgpack_sbuffer_destroy (&buf);
    return result;
}
