/*
 * doorbell — see doorbell.h.
 */
#include "doorbell.h"

#include "log.h"
#include "proto.h"

zsock_t *
doorbell_new (const char *endpoint, const curve_client_t *curve)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (!sub)
        return NULL;
    if (curve && curve_make_client (zsock_resolve (sub), &curve->keys, curve->server_key) != 0) {
        log_warn ("cannot apply the CURVE keys to the live stream: polling only");
        zsock_destroy (&sub);
        return NULL;
    }
    zsock_set_rcvhwm (sub, DOORBELL_HWM);
    zsock_set_reconnect_ivl (sub, 100);
    zsock_set_reconnect_ivl_max (sub, 2000);
    /* The store's "feed" message, not its notes: a wake-up needs no event. */
    zsock_set_subscribe (sub, PROTO_FEED_TOPIC);
    if (zsock_connect (sub, "%s", endpoint) != 0) {
        log_warn ("cannot connect to the store's live stream '%s': polling only", endpoint);
        zsock_destroy (&sub);
    }
    return sub;
}

void
doorbell_drain (zsock_t *doorbell)
{
    void *sub = zsock_resolve (doorbell);
    char part[1];
    while (zmq_recv (sub, part, sizeof part, ZMQ_DONTWAIT) >= 0)
        ;
}
