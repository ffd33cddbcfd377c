/*
 * position — see position.h.
 */
#include "position.h"

#include "log.h"

#include <assert.h>
#include <string.h>

uint64_t
position_highest (const position_t *self)
{
    assert (self);
    uint64_t at = self->next_from ? self->next_from - 1 : 0;
    if (self->confirmed > at)
        at = self->confirmed;
    return self->acked_sent > at ? self->acked_sent : at;
}

bool
position_store_changed (position_t *self, const proto_reply_t *reply)
{
    assert (self && reply);
    bool other = reply->has_store_id && self->has_store_id
                 && memcmp (reply->store_id, self->store_id, 16) != 0;
    if (!other && reply->head >= position_highest (self)) {
        if (reply->has_store_id && !self->has_store_id) {
            char id[PROTO_UUID_LEN + 1];
            proto_uuid_format (reply->store_id, id);
            log_info ("reading the feed of store %s (cursor %llu, head %llu)", id,
                      (unsigned long long)reply->acked, (unsigned long long)reply->head);
            memcpy (self->store_id, reply->store_id, 16);
            self->has_store_id = true;
        }
        return false;
    }
    char was[PROTO_UUID_LEN + 1] = "unknown", now[PROTO_UUID_LEN + 1] = "unknown";
    if (self->has_store_id)
        proto_uuid_format (self->store_id, was);
    if (reply->has_store_id)
        proto_uuid_format (reply->store_id, now);
    log_warn ("%s (store %s, now %s: head %llu, cursor %llu; this notifier had read up to %llu, "
              "confirmed %llu, acknowledged %llu): starting over from the store's cursor",
              other ? "the store was replaced" : "the store lost changes it had given out", was,
              now, (unsigned long long)reply->head, (unsigned long long)reply->acked,
              (unsigned long long)(self->next_from ? self->next_from - 1 : 0),
              (unsigned long long)self->confirmed, (unsigned long long)self->acked_sent);
    self->next_from = 0;
    self->confirmed = self->acked_sent = reply->acked;
    self->has_store_id = reply->has_store_id;
    memcpy (self->store_id, reply->store_id, 16);
    return true;
}

void
position_note_cursor (position_t *self, const proto_reply_t *reply)
{
    assert (self && reply);
    if (reply->acked < self->acked_sent && reply->rid > self->ack_rid)
        self->acked_sent = reply->acked;
    if (self->next_from == 0 && reply->acked > self->confirmed)
        self->confirmed = self->acked_sent = reply->acked;
}

bool
position_confirm (position_t *self, uint64_t seq)
{
    assert (self);
    if (seq <= self->confirmed)
        return false;
    self->confirmed = seq;
    return true;
}

bool
position_ack_due (const position_t *self)
{
    assert (self);
    return self->confirmed > self->acked_sent;
}

void
position_ack_sent (position_t *self, uint64_t rid)
{
    assert (self);
    self->acked_sent = self->confirmed;
    self->ack_rid = rid;
}

const uint8_t *
position_store_id (const position_t *self)
{
    assert (self);
    return self->has_store_id ? self->store_id : NULL;
}
