/*
 * gateway_client — the worker's HTTP client for herald-gateway (libcurl).
 * One easy handle is kept for the life of the worker so the TCP connection
 * is reused from one request to the next. Every request is bounded by the
 * configured timeout, which must stay well below the AMQP heartbeat because
 * the connection to RabbitMQ is not serviced while a request runs.
 *
 * Results are classified for the retry policy of DESIGN §4: a connect
 * error, a timeout, 5xx or 429 is transient (retry with backoff); 404 means
 * the event is gone; any other 4xx is permanent.
 */
#ifndef HERALD_GATEWAY_CLIENT_H
#define HERALD_GATEWAY_CLIENT_H

#include <stddef.h>

typedef enum {
    GATEWAY_OK = 0,    /* 2xx */
    GATEWAY_NOT_FOUND, /* 404 */
    GATEWAY_TRANSIENT, /* network error, timeout, 5xx, 429 */
    GATEWAY_PERMANENT, /* another 4xx, or a 2xx body that makes no sense */
} gateway_result_t;

typedef struct _gateway_client_t gateway_client_t;

/* base_url like "http://127.0.0.1:8000" (copied). NULL on failure. */
gateway_client_t *gateway_client_new (const char *base_url, long timeout_ms);
void gateway_client_destroy (gateway_client_t **self_p);

/* GET /events/{id}; on GATEWAY_OK copies the event's status into status
   (NUL-terminated, truncated to size). */
gateway_result_t gateway_client_get_status (gateway_client_t *self, const char *event_id,
                                            char *status, size_t size);

/* PUT /events/{id} {"status":"processed"}. */
gateway_result_t gateway_client_mark_processed (gateway_client_t *self, const char *event_id);

/* Text of the last failure (HTTP status or curl error), for logs. Borrowed. */
const char *gateway_client_error (gateway_client_t *self);

#endif
