/*
 * request — one HTTP request's state in the gateway, from its first
 * access-handler call to MHD's completion callback (server.c drives that
 * life), and how its response is queued: a JSON reply from api_*, a
 * detail error, or a static body. A request sent to the store waits on
 * its loop's waiting list (waiting.h), its connection left in
 * libmicrohttpd's loop while the loop is busy and suspended ("parked")
 * once it goes idle;
 * request_complete makes its reply ready (resuming a parked connection),
 * and MHD then calls the handler once more to queue it.
 */
#ifndef HERALD_GATEWAY_REQUEST_H
#define HERALD_GATEWAY_REQUEST_H

#include "api.h"
#include "list_merge.h"
#include "server.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

struct request_s { /* request_t, named in server.h */
    server_t *server;
    struct MHD_Connection *conn;
    api_endpoint_t ep;
    const char *id; /* path segment, in MHD's connection pool (valid until completion) */
    size_t id_len;
    char *body;
    size_t len, cap;
    bool too_large;
    bool ready;    /* reply holds the response to queue */
    bool queued;   /* a response was queued */
    bool received; /* the whole request is in (its deadline is off) */
    bool close;    /* "Connection: close" on the response (the gateway is stopping) */
    unsigned status;
    api_reply_t reply;
    char location[16 + PROTO_UUID_LEN];
    char request_id[PROTO_REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's, or one made */
    int64_t start_us, sent_us;
    int64_t deadline_ms; /* the store's answer is due by then (mono ms; 0: not sent yet);
                            kept by a redirect's resend, so a client waits --timeout-ms at most */
    /* The store side (backend.c). preq is kept, with the JSON document its
       strings borrow from, so that a `moved` answer can be sent on. */
    proto_request_t preq;
    json_t *doc;           /* owned; freed with the request */
    unsigned hops;         /* redirects followed (at most one) */
    unsigned outstanding;  /* readyz: shard pings not yet answered */
    bool down;             /* readyz: some shard did not answer */
    uint32_t down_link;    /* readyz: its connection (shards_link; 0: none known) */
    list_cursor_t *cursor; /* list over several shards: the client's after, owned */
    list_merge_t *merge;   /* list over several shards in flight, owned */
    /* Waiting for the store (server.c, waiting.c): */
    bool at_store;   /* sent, not answered yet (request_complete clears it) */
    bool parked;     /* its connection is suspended */
    bool orphan;     /* MHD closed the connection meanwhile: freed once answered */
    unsigned passes; /* loop passes waited unparked */
    request_t *wait_prev, *wait_next;
};

#define REQUEST_ID_HEADER "X-Request-Id"

/* Of a connection's memory pool (--max-header-size), what an answer's
   headers need beside the request's head: a 201 with a Location and an
   echoed 64-byte request id takes ~440 bytes. */
#define REQUEST_ANSWER_ROOM 1024
/* What libmicrohttpd 0.9.75 takes from the pool per header field, query
   argument or cookie: its struct MHD_HTTP_Header (56 bytes), aligned. */
#define REQUEST_POOL_RECORD 64

/* Whether req's head leaves REQUEST_ANSWER_ROOM in its connection's pool of
   pool_size bytes. The pool holds the head, a record per header field,
   query argument and cookie, and a copy of the Cookie header; a head that
   only just fits leaves libmicrohttpd no room for the answer's headers,
   and it closes the connection unanswered, after the store has done the
   work. So the server refuses such a head before anything is done (a 431
   while its headers fit, else a closed connection; a head past the pool is
   libmicrohttpd's own 431). */
bool request_head_leaves_room (const request_t *req, size_t pool_size);

/* Sets req->request_id: the client's X-Request-Id when it is a valid one
   (proto_request_id_valid), else a new one, unique in this process and
   across processes (a random prefix made once, then a counter). */
void request_identify (request_t *req);

/* At --log-level debug, one line for the answered request: route, status,
   the event's path, its request id (also the JSON line's request_id) and
   how long it took. The line to grep a request id by. */
void request_log (const request_t *req, int64_t took_us);

/* A response over data that outlives it (assets, fixed bodies), with its
   Content-Type. NULL when out of memory. */
struct MHD_Response *request_static_response (const void *data, size_t len, const char *type);

/* Queues response with status and records both on req (the response is
   the caller's to destroy). MHD_NO when response is NULL or MHD refuses. */
enum MHD_Result request_queue_response (request_t *req, unsigned status,
                                        struct MHD_Response *response);

/* Queues req->reply as JSON, handing its body to MHD (Allow, Retry-After
   WWW-Authenticate and Location headers as the reply says, X-Request-Id
   always). */
enum MHD_Result request_queue_reply (request_t *req);

/* Queues a {"detail": message} reply with status. */
enum MHD_Result request_queue_detail (request_t *req, unsigned status, const char *message);

/* The store's part is over: makes req->reply the response to queue and
   tells the loop (server_answered), or frees req when its connection is
   already gone (orphan). req must not be used after it returns. */
void request_complete (request_t *req);

/* Frees req and everything it owns (MHD's completion, or an orphan's answer). */
void request_free (request_t *req);

/* A query parameter of req's connection (percent-decoded by MHD,
   length-aware; borrowed from the connection's pool). */
api_param_t request_param (struct MHD_Connection *conn, const char *name);

/* Appends upload data to req->body; past max_body the rest is read and
   dropped (too_large set) so the 413 can be sent once the client has
   finished. */
void request_append (request_t *req, const char *data, size_t size, size_t max_body);

#endif
