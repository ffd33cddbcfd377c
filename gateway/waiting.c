/*
 * waiting — see waiting.h.
 */
#include "waiting.h"

#include <assert.h>

void
waiting_add (waiting_t *self, request_t *req)
{
    assert (self && req);
    req->passes = 0;
    req->wait_prev = NULL;
    req->wait_next = self->head;
    if (self->head)
        self->head->wait_prev = req;
    self->head = req;
}

void
waiting_remove (waiting_t *self, request_t *req)
{
    assert (self && req);
    if (req->wait_prev)
        req->wait_prev->wait_next = req->wait_next;
    else
        self->head = req->wait_next;
    if (req->wait_next)
        req->wait_next->wait_prev = req->wait_prev;
    req->wait_prev = req->wait_next = NULL;
}

bool
waiting_any (const waiting_t *self)
{
    assert (self);
    return self->head != NULL;
}

void
waiting_park (waiting_t *self, bool all)
{
    assert (self);
    request_t *next;
    for (request_t *req = self->head; req; req = next) {
        next = req->wait_next;
        if (!all && ++req->passes <= WAITING_PASSES)
            continue;
        waiting_remove (self, req);
        req->parked = true;
        MHD_suspend_connection (req->conn);
    }
}

void
waiting_answered (waiting_t *self, request_t *req)
{
    assert (self && req);
    if (req->parked) {
        req->parked = false;
        MHD_resume_connection (req->conn);
    } else
        waiting_remove (self, req);
}
