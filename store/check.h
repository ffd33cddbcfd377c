/*
 * check — `herald-store --check`: is a store answering at this endpoint?
 * Sends one ping over a fresh DEALER and waits for its reply. Docker
 * health checks and scripts use it; it never touches the store's state.
 */
#ifndef HERALD_CHECK_H
#define HERALD_CHECK_H

#include "curve.h"

/* Returns 0 when a ping to endpoint is answered "ok" within timeout_ms,
   -1 otherwise (after logging why). Blocks up to timeout_ms. With keys
   (the store's own: its ZAP handler lets its own key in), connects as a
   CURVE client of the store whose key pair it is. */
int check_store (const char *endpoint, const curve_keypair_t *keys, int timeout_ms);

#endif
