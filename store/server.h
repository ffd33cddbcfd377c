/*
 * server — herald-store's event loop: a ROUTER socket for requests and a
 * PUB socket for the live change stream, around one dispatcher.
 *
 * One thread, one loop: zmq_poll on the ROUTER with a periodic tick, and on
 * each wake every message already queued is handled before polling again
 * (batching: under a pipelined client one wake serves hundreds of
 * requests). Nothing blocks: replies go out with ZMQ_DONTWAIT on a ROUTER
 * with ZMQ_ROUTER_MANDATORY, so a reply to a vanished or stalled peer is
 * counted as unroutable, never waited on. A request arrives as
 * [identity][payload] (DEALER) or [identity][empty][payload] (REQ-style
 * envelope) and the reply mirrors the envelope; anything else after the
 * identity cannot be framed and is dropped and counted. Each change is
 * published on PUB as [routing key][notification body], for observers only
 * (PUB drops at its high-water mark; delivery goes through the feed), and
 * after each loop pass that changed anything one small ["feed"][{"v","type",
 * "head"}] message, the notifier's wake-up. The socket is an XPUB, which
 * tells the loop what is subscribed: a note or "feed" message no
 * subscription covers is not encoded.
 *
 * With a journal (server_set_persist) the loop group-commits: the replies
 * and PUB notes of a batch are held while the batch is handled, the
 * journal is written (and synced, per policy) once, then they go out. When
 * the journal cannot be written, the replies of requests that appended
 * records stay held until a later commit succeeds (the client may time
 * out first: the change was not acknowledged, and is kept in memory and
 * written when the disk recovers); the others go out at once.
 */
#ifndef HERALD_SERVER_H
#define HERALD_SERVER_H

#include "curve.h"
#include "dispatch.h"
#include "metrics_http.h"
#include "persist.h"

#include <signal.h>

typedef struct _server_t server_t;

/* How the store's sockets are secured. */
typedef struct {
    const curve_keypair_t *keys; /* the store's CURVE keys; NULL = none (plain ZMTP) */
    const char *clients_dir;     /* with keys: the allowed clients' public keys (store/zap.h) */
} server_curve_t;

/* Binds the ROUTER to bind and the PUB to pub_bind, both as CURVE servers
   that let in only allowed clients when curve->keys is set (curve may be
   NULL). Borrows dispatch (which must outlive the server) and installs
   itself as its change handler. Returns NULL, after logging why, when a
   bind fails or the keys cannot be applied. */
server_t *server_new (dispatch_t *dispatch, const char *bind, const char *pub_bind,
                      const server_curve_t *curve);

/* Journals through persist (borrowed; must outlive the server), as above. */
void server_set_persist (server_t *self, persist_t *persist);

/* Serves the scrapes of metrics (common/metrics_http.h) from the loop: its
   fd is polled with the sockets. Borrowed; NULL for none. */
void server_set_metrics (server_t *self, metrics_http_t *metrics);

/* Closes the sockets, letting replies already queued leave (1 s linger). */
void server_destroy (server_t **self_p);

/* Runs until *stop becomes non-zero (common/stop.h), finishing the batch
   in hand and committing it. Returns 0, or -1 on a socket failure. */
int server_run (server_t *self, volatile sig_atomic_t *stop);

#endif
