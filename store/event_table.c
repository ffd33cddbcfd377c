/*
 * event_table — see event_table.h.
 *
 * Memory layout per event: one block of 56 fixed bytes (sizeof event_t,
 * padding included) followed by user_id, description and status back to
 * back (no NULs), plus 8 bytes in the creation-order array, 8 /
 * load-factor bytes in the id hash and about 4 in its user's index set
 * (index_set.h; none for a user's first two events), and per user 16 /
 * load-factor bytes in the user hash (the two hashes: event_table_hash.c).
 */
#include "event_table_internal.h"

#include "status_index.h"
#include "str_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

event_table_t *
event_table_new (void)
{
    event_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->statuses = status_index_new ();
    if (!self->statuses) {
        event_table_destroy (&self);
        return NULL;
    }
    if (event_table_hashes_init (self) != 0) {
        event_table_destroy (&self);
        return NULL;
    }
    return self;
}

void
event_table_destroy (event_table_t **self_p)
{
    assert (self_p);
    event_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free (self->order[i]);
    free (self->order);
    event_table_hashes_free (self);
    status_index_destroy (&self->statuses);
    free (self);
    *self_p = NULL;
}

size_t
event_table_size (event_table_t *self)
{
    assert (self);
    return self->count;
}

/* ---- Events ---------------------------------------------------------------- */

static event_t *
s_block_new (proto_str_t user_id, proto_str_t description, proto_str_t status,
             proto_str_t request_id)
{
    size_t rid_len = request_id.ptr && request_id.len <= PROTO_REQUEST_ID_MAX ? request_id.len : 0;
    event_t *event = malloc (sizeof *event + user_id.len + description.len + status.len + rid_len);
    if (!event)
        return NULL;
    event->user_len = (uint32_t)user_id.len;
    event->description_len = (uint32_t)description.len;
    event->status_len = (uint32_t)status.len;
    event->request_id_len = (uint8_t)rid_len;
    char *p = event->data;
    if (user_id.len)
        memcpy (p, user_id.ptr, user_id.len);
    p += user_id.len;
    if (description.len)
        memcpy (p, description.ptr, description.len);
    p += description.len;
    if (status.len)
        memcpy (p, status.ptr, status.len);
    p += status.len;
    if (rid_len)
        memcpy (p, request_id.ptr, rid_len);
    return event;
}

/* Bytes of an event's strings. */
static size_t
s_strings (const event_t *event)
{
    return (size_t)event->user_len + event->description_len + event->status_len
           + event->request_id_len;
}

static void
s_note_longest (event_table_t *self, const event_t *event)
{
    if (event->user_len > self->longest.user_id_max)
        self->longest.user_id_max = event->user_len;
    if (event->description_len > self->longest.description_max)
        self->longest.description_max = event->description_len;
    if (event->status_len > self->longest.status_max)
        self->longest.status_max = event->status_len;
}

int
event_table_create (event_table_t *self, const uint8_t id[16], proto_str_t user_id,
                    proto_str_t description, proto_str_t status, proto_str_t request_id,
                    int64_t now_ms, uint16_t now_us, uint64_t seq, uint32_t *index)
{
    assert (self);
    if (self->count >= EVENT_TABLE_MAX)
        return -1;
    if (self->count == self->order_cap) {
        size_t cap = self->order_cap ? self->order_cap * 2 : 1024;
        event_t **order = realloc (self->order, cap * sizeof *order);
        if (!order)
            return -1;
        self->order = order;
        self->order_cap = cap;
    }
    uint64_t id_hash = event_table_id_hash (id);
    uint32_t user_hash = str_hash (user_id.ptr, user_id.len);
    if (event_table_ids_reserve (self, id_hash) != 0
        || event_table_users_reserve (self, user_hash) != 0)
        return -1;
    uint64_t *slot = event_table_id_slot (self, id, id_hash);
    if (*slot != EVENT_TABLE_ID_EMPTY)
        return -1; /* the id exists */
    event_t *event = s_block_new (user_id, description, status, request_id);
    if (!event)
        return -1;
    uint32_t at = (uint32_t)self->count;
    if (status_index_add (self->statuses, status, at) != 0) {
        free (event);
        return -1;
    }
    if (event_table_user_add (self, user_id, user_hash, at) != 0) {
        status_index_remove (self->statuses, status, at);
        free (event);
        return -1;
    }
    memcpy (event->id, id, 16);
    event->created_at = event->updated_at = now_ms;
    event->created_us = now_us;
    event->seq = seq;
    self->count++;
    self->order[at] = event;
    event_table_id_put (self, slot, id_hash, at);
    self->string_bytes += s_strings (event);
    s_note_longest (self, event);
    *index = at;
    return 0;
}

int
event_table_update (event_table_t *self, uint32_t index, proto_str_t user_id,
                    proto_str_t description, proto_str_t status, proto_str_t request_id,
                    int64_t now_ms, uint64_t seq)
{
    assert (self);
    assert (index < self->count);
    event_t *old = self->order[index];
    proto_str_t cur_user = { old->data, old->user_len };
    proto_str_t cur_desc = { old->data + old->user_len, old->description_len };
    proto_str_t cur_status = { cur_desc.ptr + cur_desc.len, old->status_len };
    bool user_changes =
        user_id.ptr
        && (user_id.len != cur_user.len || memcmp (user_id.ptr, cur_user.ptr, user_id.len) != 0);
    size_t rid_len = request_id.ptr && request_id.len <= PROTO_REQUEST_ID_MAX ? request_id.len : 0;
    bool same_size = (!user_id.ptr || user_id.len == cur_user.len)
                     && (!description.ptr || description.len == cur_desc.len)
                     && (!status.ptr || status.len == cur_status.len)
                     && rid_len == old->request_id_len;
    bool status_changes =
        status.ptr
        && (status.len != cur_status.len || memcmp (status.ptr, cur_status.ptr, status.len) != 0);
    event_t *event = old;
    uint32_t user_hash = user_changes ? str_hash (user_id.ptr, user_id.len) : 0;
    uint32_t was_hash = user_changes ? str_hash (cur_user.ptr, cur_user.len) : 0;
    if (user_changes && event_table_users_reserve (self, user_hash) != 0)
        return -1;
    /* Everything that can fail comes first (the new status's place in the
       index, then the new block), so a failure leaves everything as it
       was. */
    if (status_changes && status_index_add (self->statuses, status, index) != 0)
        return -1;
    if (!same_size) {
        /* The new strings may point into the old block (they do not here,
           but nothing forbids it), so build before freeing. */
        event =
            s_block_new (user_id.ptr ? user_id : cur_user, description.ptr ? description : cur_desc,
                         status.ptr ? status : cur_status, request_id);
        if (!event) {
            if (status_changes)
                status_index_remove (self->statuses, status, index);
            return -1;
        }
        memcpy (event, old, offsetof (event_t, user_len));
        event->created_us = old->created_us; /* after the lengths: not in the copy */
    }
    /* The old user's slot is found, and the new user's taken, while every
       block still holds its own user_id (a probe reads the user_id from a
       slot's last event, and index may be the one read). Taking the new user's
       slot moves no other slot: the hash has room. */
    user_slot_t *was = NULL;
    if (user_changes) {
        was = event_table_user_slot (self, cur_user.ptr, cur_user.len, was_hash);
        assert (was->events.count > 0);
        if (event_table_user_add (self, user_id, user_hash, index) != 0) {
            if (event != old)
                free (event);
            if (status_changes)
                status_index_remove (self->statuses, status, index);
            return -1;
        }
    }
    /* The old status is read from the old block: before it is rewritten
       or freed. */
    if (status_changes)
        status_index_remove (self->statuses, cur_status, index);
    if (same_size) {
        /* Same lengths: rewrite in place (memmove tolerates overlap). */
        if (description.ptr)
            memmove (old->data + old->user_len, description.ptr, description.len);
        if (status.ptr)
            memmove (old->data + old->user_len + old->description_len, status.ptr, status.len);
        if (rid_len)
            memmove (old->data + old->user_len + old->description_len + old->status_len,
                     request_id.ptr, rid_len);
    }
    if (user_changes) {
        index_set_remove (&was->events, index, &self->user_set_bytes);
        if (was->events.count == 0)
            event_table_user_slot_delete (self, was_hash, was);
    }
    if (event != old) {
        self->string_bytes += s_strings (event);
        self->string_bytes -= s_strings (old);
        self->order[index] = event;
        free (old);
    } else if (user_id.ptr)
        memmove (event->data, user_id.ptr, user_id.len);
    event->updated_at = now_ms;
    event->seq = seq;
    s_note_longest (self, event);
    return 0;
}

void
event_table_view (event_table_t *self, uint32_t index, proto_event_t *out)
{
    assert (self);
    assert (index < self->count);
    const event_t *event = self->order[index];
    memcpy (out->id, event->id, 16);
    out->user_id = (proto_str_t){ event->data, event->user_len };
    out->description = (proto_str_t){ event->data + event->user_len, event->description_len };
    out->status = (proto_str_t){ out->description.ptr + event->description_len, event->status_len };
    out->created_at = event->created_at;
    out->created_us = event->created_us;
    out->updated_at = event->updated_at;
    out->seq = event->seq;
    out->request_id = event->request_id_len ? (proto_str_t){ out->status.ptr + event->status_len,
                                                             event->request_id_len }
                                            : PROTO_STR_NONE;
}

size_t
event_table_overhead_bytes (event_table_t *self)
{
    assert (self);
    return self->count * sizeof (event_t) + self->order_cap * sizeof (event_t *)
           + self->ids_slots * sizeof (uint64_t) + self->users_slots * sizeof (user_slot_t)
           + self->user_set_bytes + status_index_bytes (self->statuses);
}

proto_limits_t
event_table_longest (event_table_t *self)
{
    assert (self);
    return self->longest;
}

size_t
event_table_bytes (event_table_t *self)
{
    assert (self);
    return event_table_overhead_bytes (self) + self->string_bytes;
}
