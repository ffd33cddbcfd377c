/*
 * doorbell — the notifier's SUB on the store's live stream, used only as a
 * wake-up: it subscribes to the "feed" topic alone (PROTO_FEED_TOPIC; one
 * small message per store loop pass that changed something, not every
 * event in full), and a message on it means "the feed moved", so an idle
 * relay reads the feed now instead of at its next poll. A store that sends
 * no "feed" messages (older than this notifier) leaves the relay polling
 * every --poll-ms: later, never lost. What is published always
 * comes from the feed (relay.h), so a lost or dropped announcement costs at
 * most one poll interval; the SUB's queue is small and overflow is
 * harmless.
 */
#ifndef HERALD_DOORBELL_H
#define HERALD_DOORBELL_H

#include "curve.h"

#include <czmq.h>

#define DOORBELL_HWM 64 /* announcements queued; more are dropped (harmless) */

/* Opens the SUB on endpoint (with the CURVE keys when curve is not NULL).
   NULL, after a warning, when it cannot: the relay then polls only. */
zsock_t *doorbell_new (const char *endpoint, const curve_client_t *curve);

/* Takes every announcement queued, without blocking. */
void doorbell_drain (zsock_t *doorbell);

#endif
