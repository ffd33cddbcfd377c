/*
 * list_merge — see list_merge.h. Each shard's answer is copied into one
 * block: its events, then the bytes of all their strings, which the
 * copies point into.
 */
#include "list_merge.h"

#include "api_render.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t link;        /* the connection its request went out on; 0: not sent */
    bool waiting;         /* sent, not answered nor failed */
    bool more;            /* the shard has events after its answer's */
    proto_event_t *items; /* its answer (one block with the strings) */
    size_t n, pos;        /* events, and those given to the page */
} s_shard_t;

struct _list_merge_t {
    list_cursor_t *cursor;
    uint32_t limit;
    size_t shards;
    s_shard_t *shard;
    size_t outstanding;
    api_reply_t error;
    long failed; /* the shard whose error is kept, -1: none */
};

list_merge_t *
list_merge_new (list_cursor_t *cursor, uint32_t limit)
{
    assert (cursor && limit >= 1);
    list_merge_t *self = calloc (1, sizeof *self);
    if (!self) {
        list_cursor_destroy (&cursor);
        return NULL;
    }
    self->cursor = cursor;
    self->limit = limit;
    self->shards = list_cursor_shards (cursor);
    self->failed = -1;
    self->shard = calloc (self->shards, sizeof *self->shard);
    if (!self->shard)
        list_merge_destroy (&self);
    return self;
}

void
list_merge_destroy (list_merge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    list_merge_t *self = *self_p;
    for (size_t i = 0; self->shard && i < self->shards; i++)
        free (self->shard[i].items);
    free (self->shard);
    list_cursor_destroy (&self->cursor);
    api_reply_clear (&self->error);
    free (self);
    *self_p = NULL;
}

const list_cursor_t *
list_merge_cursor (const list_merge_t *self)
{
    assert (self);
    return self->cursor;
}

void
list_merge_sent (list_merge_t *self, size_t shard, uint32_t link)
{
    assert (self && shard < self->shards && link != 0 && !self->shard[shard].waiting);
    self->shard[shard].link = link;
    self->shard[shard].waiting = true;
    self->outstanding++;
}

int
list_merge_shard_of (const list_merge_t *self, uint32_t link)
{
    assert (self);
    for (size_t i = 0; i < self->shards; i++)
        if (self->shard[i].waiting && self->shard[i].link == link)
            return (int)i;
    return -1;
}

size_t
list_merge_outstanding (const list_merge_t *self)
{
    assert (self);
    return self->outstanding;
}

/* Shard is answered (or failed): no longer waited for. */
static void
s_answered (list_merge_t *self, size_t shard)
{
    if (self->shard[shard].waiting) {
        self->shard[shard].waiting = false;
        self->outstanding--;
    }
}

static void
s_copy_str (proto_str_t *s, char **bytes)
{
    if (!s->ptr)
        return;
    if (s->len)
        memcpy (*bytes, s->ptr, s->len);
    s->ptr = *bytes;
    *bytes += s->len;
}

int
list_merge_take (list_merge_t *self, size_t shard, const proto_event_t *items, size_t n, bool more)
{
    assert (self && shard < self->shards);
    s_shard_t *s = &self->shard[shard];
    s_answered (self, shard);
    size_t strings = 0;
    for (size_t i = 0; i < n; i++)
        strings += items[i].user_id.len + items[i].description.len + items[i].status.len
                   + items[i].request_id.len;
    free (s->items);
    s->items = malloc (n * sizeof *items + strings + 1);
    if (!s->items) {
        api_reply_t error = { 0 };
        api_reply_detail (&error, 500, "Out of memory");
        list_merge_fail (self, shard, &error);
        return -1;
    }
    if (n)
        memcpy (s->items, items, n * sizeof *items);
    char *bytes = (char *)(s->items + n);
    for (size_t i = 0; i < n; i++) {
        s_copy_str (&s->items[i].user_id, &bytes);
        s_copy_str (&s->items[i].description, &bytes);
        s_copy_str (&s->items[i].status, &bytes);
        s_copy_str (&s->items[i].request_id, &bytes);
    }
    s->n = n;
    s->pos = 0;
    s->more = more;
    return 0;
}

void
list_merge_fail (list_merge_t *self, size_t shard, api_reply_t *error)
{
    assert (self && shard < self->shards && error);
    s_answered (self, shard);
    if (self->failed < 0 || (long)shard < self->failed) {
        api_reply_clear (&self->error);
        self->error = *error;
        self->failed = (long)shard;
    } else
        api_reply_clear (error);
    memset (error, 0, sizeof *error);
}

bool
list_merge_failed (const list_merge_t *self)
{
    assert (self);
    return self->failed >= 0;
}

/* Whether a was created before b: by created_at, then created_us (0 from
   a store that does not send it). */
static bool
s_earlier (const proto_event_t *a, const proto_event_t *b)
{
    return a->created_at != b->created_at ? a->created_at < b->created_at
                                          : a->created_us < b->created_us;
}

/* The shard whose head comes next, -1 when none may: every shard used up,
   or one used up that has more to come (its head is unknown). */
static long
s_next (const list_merge_t *self)
{
    long best = -1;
    for (size_t i = 0; i < self->shards; i++) {
        const s_shard_t *s = &self->shard[i];
        if (s->pos == s->n) {
            if (s->more)
                return -1;
            continue;
        }
        /* Strictly earlier: on a tie the lower shard index, met first, wins. */
        if (best < 0
            || s_earlier (&s->items[s->pos], &self->shard[best].items[self->shard[best].pos]))
            best = (long)i;
    }
    return best;
}

size_t
list_merge_page (list_merge_t *self, proto_event_t *page, bool *more)
{
    assert (self && page && more && self->outstanding == 0);
    size_t n = 0;
    long i;
    while (n < self->limit && (i = s_next (self)) >= 0) {
        s_shard_t *s = &self->shard[i];
        page[n++] = s->items[s->pos];
        list_cursor_set (self->cursor, (size_t)i, s->items[s->pos].id);
        s->pos++;
    }
    *more = false;
    for (size_t k = 0; k < self->shards; k++)
        if (self->shard[k].pos < self->shard[k].n || self->shard[k].more)
            *more = true;
    return n;
}

int
list_merge_reply (list_merge_t *self, api_reply_t *reply)
{
    assert (self && reply);
    if (self->failed >= 0) {
        api_reply_clear (reply);
        *reply = self->error;
        memset (&self->error, 0, sizeof self->error);
        return 0;
    }
    proto_event_t *page = malloc (self->limit * sizeof *page);
    if (!page) {
        api_reply_detail (reply, 500, "Out of memory");
        return -1;
    }
    bool more = false;
    size_t n = list_merge_page (self, page, &more);
    char *next = more ? list_cursor_encode (self->cursor) : NULL;
    int rc;
    if (more && !next) {
        api_reply_detail (reply, 500, "Out of memory");
        rc = -1;
    } else
        rc = api_render_page (page, n, next, reply);
    free (next);
    free (page);
    return rc;
}
