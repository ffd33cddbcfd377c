/*
 * gateway_client — the worker's HTTP client for herald-gateway, on libcurl's
 * multi interface: up to `slots` requests in flight at once, each slot an
 * easy handle kept for the life of the worker, so TCP connections are reused
 * from one request to the next (the multi handle's connection cache).
 *
 * Nothing here blocks for longer than the caller allows: gateway_client_poll
 * waits on curl's sockets AND on one extra descriptor (the AMQP socket), so
 * the worker keeps servicing RabbitMQ — heartbeats included — while requests
 * are in flight. Every request is bounded by the configured timeout.
 *
 * Results are classified for the retry policy of docs/ARCHITECTURE.md §4.4: a
 * connect error, a timeout, 5xx, 408 or 429 is transient (retry with
 * backoff); 404 means the event is gone; any other 4xx is permanent, but
 * 401 and 403: the gateway refused the worker's token, a configuration error
 * an operator fixes (a token file, a SIGHUP), so those are transient too and
 * the message is retried, then dead-lettered, never dropped.
 */
#ifndef HERALD_GATEWAY_CLIENT_H
#define HERALD_GATEWAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest bearer token accepted (the gateway's TOKENS_SECRET_MAX). */
#define GATEWAY_TOKEN_MAX 256

typedef enum {
    GATEWAY_OK = 0,    /* 2xx */
    GATEWAY_NOT_FOUND, /* 404 */
    GATEWAY_TRANSIENT, /* network error, timeout, 5xx, 408, 429, 401, 403 */
    GATEWAY_PERMANENT, /* another 4xx */
} gateway_result_t;

typedef struct _gateway_client_t gateway_client_t;

/* base_url like "http://127.0.0.1:8000" (copied): http or https, a path
   prefix allowed, no query or fragment; slots in [1, 65535]. NULL on
   failure (a base URL refused says why in the log). */
gateway_client_t *gateway_client_new (const char *base_url, long timeout_ms, int slots);

/* Sends "Authorization: Bearer <token>" on every later request (token is
   copied). Call it before any request is started (none may be in flight).
   Returns 0, or -1 for an empty or over-long token, one holding a line
   break, or out of memory. */
int gateway_client_set_token (gateway_client_t *self, const char *token);

/* Aborts whatever is in flight and frees. No-op on NULL. */
void gateway_client_destroy (gateway_client_t **self_p);

/* Starts GET /events/{id} on an idle slot, with X-Request-Id: request_id
   when that is a valid request id (NULL: none). Returns 0, or -1 (slot busy
   or curl refused the transfer). */
int gateway_client_start_get (gateway_client_t *self, int slot, const char *event_id,
                              const char *request_id);

/* Starts PUT /events/{id} {"status":"processed"} on an idle slot, the same
   way: the gateway records the request id on the event, so the update the
   notifier publishes carries the id of the notification it closes. */
int gateway_client_start_put (gateway_client_t *self, int slot, const char *event_id,
                              const char *request_id);

#define GATEWAY_CLIENT_POLL_FDS 4 /* other fds gateway_client_poll waits on at most */

/* Runs the transfers that are due (those just started among them), then
   waits up to timeout_ms (< 0: no limit but curl's own timeouts) for curl activity
   or for one of the n_fds fds (-1 entries are skipped) to become readable,
   and runs the transfers that became ready. Sets ready[i] when fds[i] is
   readable, hung up or in error (reading it tells which). Returns 0, or -1
   on a curl failure or when a socket could not be watched for lack of
   memory (its transfer then ends at its timeout). */
int gateway_client_poll (gateway_client_t *self, const int fds[], bool ready[], int n_fds,
                         int timeout_ms);

/* Takes the next finished request: returns its slot (idle again) with
   *result set, or -1 when none is finished. For a GET that returned 2xx,
   gateway_client_status gives the event's status. */
int gateway_client_next_done (gateway_client_t *self, gateway_result_t *result);

/* Status read by the slot's last GET ("" if none). Borrowed. */
const char *gateway_client_status (gateway_client_t *self, int slot);

/* Text of the slot's last failure (HTTP status or curl error). Borrowed. */
const char *gateway_client_error (gateway_client_t *self, int slot);

/* Requests in flight. */
size_t gateway_client_active (gateway_client_t *self);

#endif
