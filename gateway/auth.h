/*
 * auth — who may call which endpoint of the gateway (docs/ARCHITECTURE.md
 * §8): bearer tokens with scopes when a tokens file is configured, and
 * Redis-style protected mode when none is.
 *
 *   endpoint                                 needs
 *   GET/HEAD /events, /events/{id}           read
 *   POST /events, PUT /events/{id}           write
 *   GET /metrics                             admin
 *   /ping /healthz /readyz /docs /openapi.json, unknown paths (404/405)
 *                                            nothing
 *
 * Each scope grants exactly its rows (admin does not imply read). With a
 * tokens file, a protected endpoint without "Authorization: Bearer <token>"
 * is 401 with WWW-Authenticate: Bearer; an unknown token is 401 with
 * error="invalid_token"; a known token without the scope is 403 with
 * error="insufficient_scope". Without a tokens file the gateway is in
 * protected mode: it refuses to start on a non-loopback listen address and
 * answers only loopback clients (anyone else gets 403), unless --insecure
 * turns both checks off.
 *
 * One auth_t is shared by every loop thread; the token set is swapped whole
 * by auth_reload (SIGHUP) under a read-write lock that a check holds only
 * while it looks a token up (no I/O under it), so a reload never blocks a
 * request for longer than one lookup.
 */
#ifndef HERALD_GATEWAY_AUTH_H
#define HERALD_GATEWAY_AUTH_H

#include "api_reply.h"
#include "api_route.h"

#include <stdbool.h>
#include <sys/socket.h>

typedef struct _auth_t auth_t;

/* tokens_path NULL: protected mode (or no checks at all when insecure).
   Otherwise the file is loaded now: NULL after logging "path:line: why"
   when it cannot be read or parsed. Warns when the file is world-readable. */
auth_t *auth_new (const char *tokens_path, bool insecure);
void auth_destroy (auth_t **self_p);

/* Loads the tokens file again and swaps it in. On an error the tokens in
   use stay and the error is logged. Returns 0 or -1; a no-op 0 without a
   tokens file. Safe while loop threads check requests. */
int auth_reload (auth_t *self);

/* Whether the gateway may listen on addr: yes with tokens, with insecure,
   or on a loopback address. Otherwise -1 after logging how to configure
   tokens or --insecure. */
int auth_check_listen (const auth_t *self, const struct sockaddr *addr);

/* The scope endpoint ep needs (TOKENS_SCOPE_*), 0 for an open one. */
unsigned auth_scope_for (api_endpoint_t ep);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool auth_is_loopback (const struct sockaddr *addr);

/* Decides one request: ep as routed, authorization the header's value (NULL
   when absent), client the peer address (NULL when unknown: refused in
   protected mode). Returns 0 when it may proceed, else -1 with reply
   holding the 401 or 403 (and its WWW-Authenticate). */
int auth_check (auth_t *self, api_endpoint_t ep, const char *authorization,
                const struct sockaddr *client, api_reply_t *reply);

#endif
