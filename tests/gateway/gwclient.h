/*
 * gwclient — what the herald-gateway integration tests share: a real
 * herald-store and herald-gateway on free loopback ports (started and
 * stopped by PID), an HTTP client over libcurl that keeps the status, the
 * headers that matter (Location, Allow, Content-Type), the body and the body
 * parsed as JSON, a raw-socket client for bytes curl would never send, and
 * assertions for the shapes docs/ARCHITECTURE.md §2 pins (an event, a
 * {"detail":...} error, a 422 list, a Prometheus sample).
 *
 * Every wait is bounded: curl requests have a 10 s ceiling, raw exchanges a
 * caller-given deadline, readiness is polled.
 */
#ifndef HERALD_GWCLIENT_H
#define HERALD_GWCLIENT_H

#include "harness.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GW_ID_LEN 36
#define GW_REQUEST_TIMEOUT_MS 10000

#define GW_SHARDS_MAX 4

typedef struct {
    int store_port, pub_port, http_port;
    char store_ep[64];
    char base_url[64]; /* http://127.0.0.1:<http_port> */
    pid_t store, gateway;
    /* HERALD_TEST_SHARDS=N (2..GW_SHARDS_MAX) in the environment: the
       store is N herald-store shards of the map at map_path (shard 0 on
       store_port, its PID in store; the others' here) and the gateway
       routes with --shard-map, so a test written for one store runs
       unchanged against a sharded deployment. */
    int shards; /* 0: one store, no map */
    pid_t shard_pids[GW_SHARDS_MAX];
    char map_path[600];
    int run;    /* names log files */
    void *curl; /* one handle: connections are reused across calls */
    bool fresh; /* when set, every call opens a new connection and closes it */
} gw_t;

typedef struct {
    long code;  /* 0 when the transport failed */
    char *body; /* NUL-terminated, may hold NULs before len */
    size_t len, cap;
    json_t *json; /* body parsed, NULL when it is not JSON */
    char location[256];
    char allow[256];
    char content_type[256];
    long num_connects; /* CURLINFO_NUM_CONNECTS of the last call */
    int64_t elapsed_ms;
} gw_resp_t;

/* Picks fresh ports; starts nothing. */
void gw_init (gw_t *self);
/* Stops whatever is running (SIGCONT first, then SIGTERM, SIGKILL after 5 s)
   and frees the client. */
void gw_fini (gw_t *self);

/* Starts herald-store on store_port (or, with HERALD_TEST_SHARDS, the
   shards: see gw_t); extra is NULL or NULL-terminated flags, given to every
   shard. Returns 0 once its port (every shard's) accepts, -1 otherwise. */
int gw_start_store (gw_t *self, const char *const *extra);
/* Starts herald-gateway on http_port pointed at store_ep (and the map of
   the shards gw_start_store started). Returns 0 once the HTTP port
   accepts, -1 otherwise. */
int gw_start_gateway (gw_t *self, const char *const *extra);
/* Both, then waits for /readyz to say 200. Returns 0 or -1. */
int gw_start_all (gw_t *self);
/* Polls GET /readyz until it answers code. Returns 0 or -1 on timeout. */
int gw_wait_readyz (gw_t *self, long code, int timeout_ms);
/* A second herald-gateway (fresh ports, extra flags) on other's store,
   which self never stops. self is overwritten. Returns gw_start_gateway's
   answer (it does not wait for /readyz). */
int gw_start_gateway_on (gw_t *self, const gw_t *other, const char *const *extra);

/* The store and gateway a program's tests share: gw_shared_setup and
   gw_shared_teardown are the cmocka group setup and teardown that start
   (gw_start_all) and stop them; gw_shared is them, in between. */
gw_t *gw_shared (void);
int gw_shared_setup (void **state);
int gw_shared_teardown (void **state);

/* One request on self's curl handle. ctype NULL sends no Content-Type at
   all; body NULL sends no body (body "" with len 0 sends an empty one).
   Returns the status (0 on transport error). */
long gw_call (gw_t *self, gw_resp_t *resp, const char *method, const char *path, const char *ctype,
              const void *body, size_t len);
/* gw_call with Content-Type: application/json and a text body (or NULL). */
long gw_json (gw_t *self, gw_resp_t *resp, const char *method, const char *path, const char *body);
/* Frees what resp holds and zeroes it (safe on a zeroed resp). */
void gw_resp_clear (gw_resp_t *resp);
/* Fills resp from the raw bytes of an HTTP/1.1 response. 0 or -1. */
int gw_resp_parse (gw_resp_t *resp, const char *raw, size_t len);

/* A page's next_after, given the last event of the page: with one store
   the cursor is that event's id (DESIGN.md §2: "today an event_id"); over
   shards it is opaque, and only its being a non-empty string is checked. */
#define GW_CURSOR_MAX 1024 /* bytes of a cursor the tests pass back */
void gw_assert_cursor (const gw_t *self, const json_t *next, const char *last_id);
/* The 422 type of a malformed `after`: "uuid_parsing" with one store,
   "cursor_invalid" over shards. */
const char *gw_cursor_error (const gw_t *self);

/* POSTs {"user_id","description"}, asserts 201 and a valid event, copies
   the id into id (GW_ID_LEN + 1 bytes). */
void gw_create (gw_t *self, const char *user_id, const char *description, char *id);
/* Pages through GET /events?<query> with limit, collecting ids into ids
   (n_max * (GW_ID_LEN + 1) bytes). Asserts every page 200 and next_after
   null only on the last. Returns how many. */
size_t gw_list_all (gw_t *self, const char *query, int limit, char *ids, size_t n_max);

/* Raw TCP to 127.0.0.1:port, blocking, -1 on failure. */
int gw_raw_connect (int port);
/* The same from source address from ("127.0.0.2": another client to the
   gateway, still on loopback). */
int gw_raw_connect_from (int port, const char *from);
/* Reads one response head from fd within timeout_ms: its status, or 0 when
   none came; the head's text into head (size bytes) unless NULL. */
long gw_read_head (int fd, int timeout_ms, char *head, size_t size);
/* The same, reading until the text read contains want (the end of the
   head, or a string of the body) rather than the head's end; the text
   read into text (size bytes) unless NULL. */
long gw_read_until (int fd, int timeout_ms, const char *want, char *text, size_t size);
/* Sends data (while also reading, so an early answer is never lost to a
   reset) and reads one response until it is complete, the peer closes or
   timeout_ms passes. Returns 0 with resp filled, -1 when no response came. */
int gw_raw_exchange (int port, const void *data, size_t len, gw_resp_t *resp, int timeout_ms);

/* Shape checks (docs/ARCHITECTURE.md §2). */
bool gw_is_uuid_v4 (const char *text);
bool gw_is_time (const char *text);
/* Asserts ev is an event with exactly the six members, a canonical v4 id and
   RFC 3339 ms UTC times; NULL fields are not compared. */
void gw_assert_event (json_t *ev, const char *user_id, const char *description, const char *status);
/* Asserts resp is code with body {"detail": detail}. */
void gw_assert_detail (gw_resp_t *resp, long code, const char *detail);
/* Asserts resp is 422 with exactly n problems, each given as a (type, loc)
   pair of strings, loc written with '/' between its parts ("body/user_id").
   Every entry must carry a non-empty msg. */
void gw_assert_422 (gw_resp_t *resp, size_t n, ...);
/* The same check without failing: NULL when resp matches, else why not
   (a static buffer, valid until the next call). */
const char *gw_check_422 (gw_resp_t *resp, size_t n, ...);

/* Value of the first sample of metric `name` whose label text contains
   every given string (NULL-terminated list, e.g. "code=\"200\""); 0 when
   none (a counter that has not moved yet). */
double gw_metric (const char *text, const char *name, ...);
/* GETs /metrics (asserting 200) and returns gw_metric of it for one label. */
double gw_fetch_metric (gw_t *self, const char *name, const char *label);

#endif
