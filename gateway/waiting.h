/*
 * waiting — one gateway loop's requests that wait for the store with their
 * connection still in libmicrohttpd's loop, not suspended.
 *
 * libmicrohttpd's suspend and resume each cost an epoll_ctl in epoll mode:
 * two syscalls per request, 12% of the gateway's and the store's CPU under
 * load. A connection left in MHD's loop is instead handed to the access
 * handler on every pass (server.c returns at once while req->at_store) and
 * keeps MHD's timeout at zero. So a request waits unsuspended only while
 * the loop is busy anyway: server.c parks (suspends) every waiting request
 * after a pass in which nothing arrived, before its poll sleeps, and parks
 * one still unanswered after WAITING_PASSES busy passes, which bounds the
 * handler calls spent on it. A parked request is resumed by its answer.
 *
 * A list head, embedded in the loop's server_t (zero is empty); the
 * requests are linked through their wait_prev / wait_next, never owned.
 */
#ifndef HERALD_GATEWAY_WAITING_H
#define HERALD_GATEWAY_WAITING_H

#include "request.h"

#include <stdbool.h>

#define WAITING_PASSES 4 /* busy passes a request waits unparked */

typedef struct {
    request_t *head;
} waiting_t;

/* req was just sent to the store: it waits, unparked. */
void waiting_add (waiting_t *self, request_t *req);

/* Takes req off the list (its connection closed meanwhile: an orphan). */
void waiting_remove (waiting_t *self, request_t *req);

/* True while some request waits unparked. */
bool waiting_any (const waiting_t *self);

/* Suspends waiting connections: all of them (the loop is going to sleep),
   or those that have waited WAITING_PASSES passes (call once per pass). */
void waiting_park (waiting_t *self, bool all);

/* The store's part of req is over: resumes its connection if it was
   parked, else takes it off the list (MHD's next pass queues the reply). */
void waiting_answered (waiting_t *self, request_t *req);

#endif
