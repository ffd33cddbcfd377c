/*
 * peers — see peers.h.
 *
 * A czmq hash keyed by the routing id in hex (ids are binary, up to 255
 * bytes; libzmq's own are 5) to a ring of reply byte counts and their
 * running sum, so room and accounting are O(1) per request. A slot per
 * reply would cost 16 KiB per peer at the store's window of 2050, and an
 * entry is made for every connection that sends anything, so replies are
 * counted in groups of `group` (window / 128) per slot: ceil((window - 1)
 * / group) full slots and the one being filled cover at least the last
 * `window` replies, and a group leaves only once all of it is older than
 * that (a reply counts up to group - 1 replies longer than it must). An
 * entry is then ~1 KiB (groups of 16).
 *
 * A receipt is 16 bytes: the reply's index (big-endian) and its MAC,
 * SipHash-2-4 of the entry's salt and the index. Salts come from a counter
 * (the key is secret, so they need not be), which makes a receipt good for
 * the entry it was made for only. A verified receipt for index i empties
 * every slot whose replies all have indices <= i. The slot being filled
 * also keeps each reply's size (s_recent), so a receipt that falls in it
 * takes out exactly the replies up to i: a reader's next request usually
 * names a reply of that slot, with a few later ones (answers to its other
 * requests) behind it. One falling in an older slot leaves that slot
 * counted (up to a group too many) until a later receipt.
 */
#include "peers.h"

#include "str_hash.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef struct {
    size_t filling; /* the slot replies go into */
    size_t in_slot; /* replies counted in it */
    size_t sum;     /* bytes of all slots */
    uint64_t sent;  /* replies counted since the entry was made: the next one's index */
    uint64_t taken; /* replies a receipt proved taken (indices below this) */
    uint64_t salt;  /* this entry's, in its receipts */
    int64_t seen_ms;
    size_t bytes[]; /* per slot, then the filling slot's replies one by one (s_recent) */
} s_peer_t;

struct _peers_t {
    zhashx_t *peers; /* hex routing id -> s_peer_t */
    size_t group;    /* replies per slot */
    size_t slots;    /* slots per peer */
    size_t budget;
    uint8_t key[16];            /* the receipts' MAC key */
    uint64_t salts;             /* entries made: the next entry's salt */
    uint64_t verified, refused; /* receipts shown (peers_receipt_counts) */
    s_peer_t *current;          /* the peer peers_room last named, or NULL */
};

static void
s_peer_free (void **item)
{
    free (*item);
    *item = NULL;
}

peers_t *
peers_new (size_t window, size_t budget)
{
    assert (window >= 1);
    peers_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (getrandom (self->key, sizeof self->key, 0) != (ssize_t)sizeof self->key) {
        free (self);
        return NULL;
    }
    self->peers = zhashx_new ();
    if (!self->peers) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->peers, s_peer_free);
    self->group = window / 128 ? window / 128 : 1;
    self->slots = (window - 1 + self->group - 1) / self->group + 1;
    self->budget = budget;
    return self;
}

void
peers_destroy (peers_t **self_p)
{
    assert (self_p);
    peers_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

/* The hex key of a routing id, in key (room for 2 * 255 + 1). */
static void
s_key (const void *id, size_t len, char *key)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *bytes = id;
    if (len > 255)
        len = 255;
    for (size_t i = 0; i < len; i++) {
        key[2 * i] = hex[bytes[i] >> 4];
        key[2 * i + 1] = hex[bytes[i] & 15];
    }
    key[2 * len] = '\0';
}

/* The entry of the peer named by id, or NULL; its hex key in key. */
static s_peer_t *
s_lookup (peers_t *self, const void *id, size_t len, char *key)
{
    s_key (id, len, key);
    return zhashx_lookup (self->peers, key);
}

/* The sizes of the filling slot's replies, one by one: `group` of them
   after the slots in the entry's block. */
static size_t *
s_recent (const peers_t *self, s_peer_t *peer)
{
    return peer->bytes + self->slots;
}

/* The MAC of reply index for the entry with salt. */
static uint64_t
s_mac (const peers_t *self, uint64_t salt, uint64_t index)
{
    uint64_t input[2] = { salt, index };
    return str_hash_siphash (self->key, input, sizeof input, 2, 4);
}

static void
s_put_be64 (uint8_t *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t
s_get_be64 (const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

/* Empties the slots whose replies a verified receipt proves taken. */
static void
s_apply_receipt (peers_t *self, s_peer_t *peer, const uint8_t receipt[16])
{
    uint64_t index = s_get_be64 (receipt);
    /* Compared in full, in constant time: the MAC is the secret. */
    if (index >= peer->sent || (s_mac (self, peer->salt, index) ^ s_get_be64 (receipt + 8)) != 0) {
        self->refused++; /* never made for this entry */
        return;
    }
    if (index < peer->taken)
        return; /* nothing new */
    self->verified++;
    peer->taken = index + 1;
    uint64_t first = peer->sent - peer->in_slot; /* the filling slot's first index */
    size_t *recent = s_recent (self, peer);
    if (index >= first)
        for (uint64_t k = 0; k <= index - first; k++) {
            peer->bytes[peer->filling] -= recent[k];
            peer->sum -= recent[k];
            recent[k] = 0;
        }
    /* Slot j back from the filling one ends (exclusive) where the one
       after it starts: slot 1 at first, each further one a group earlier. */
    uint64_t end = first;
    for (size_t j = 1; j < self->slots; j++) {
        if (end <= peer->taken) {
            size_t slot = (peer->filling + self->slots - j) % self->slots;
            peer->sum -= peer->bytes[slot];
            peer->bytes[slot] = 0;
        }
        if (end < self->group)
            break; /* the entry's first reply is behind */
        end -= self->group;
    }
}

size_t
peers_room (peers_t *self, const void *id, size_t len, int64_t now_ms, const uint8_t *receipt)
{
    assert (self);
    char key[2 * 255 + 1];
    s_peer_t *peer = s_lookup (self, id, len, key);
    if (!peer) {
        peer = calloc (1, sizeof *peer + (self->slots + self->group) * sizeof peer->bytes[0]);
        if (peer && zhashx_insert (self->peers, key, peer) != 0) {
            free (peer);
            peer = NULL;
        }
        if (peer)
            peer->salt = self->salts++;
    }
    self->current = peer;
    if (!peer)
        return 0;
    peer->seen_ms = now_ms;
    if (receipt)
        s_apply_receipt (self, peer, receipt);
    /* A full slot makes the next reply start the oldest one over. */
    size_t leaving =
        peer->in_slot == self->group ? peer->bytes[(peer->filling + 1) % self->slots] : 0;
    size_t staying = peer->sum - leaving;
    return staying < self->budget ? self->budget - staying : 0;
}

void
peers_receipt_counts (peers_t *self, uint64_t *verified, uint64_t *refused)
{
    assert (self && verified && refused);
    *verified = self->verified;
    *refused = self->refused;
}

bool
peers_receipt (peers_t *self, uint8_t receipt[16])
{
    assert (self);
    s_peer_t *peer = self->current;
    if (!peer)
        return false;
    s_put_be64 (receipt, peer->sent);
    s_put_be64 (receipt + 8, s_mac (self, peer->salt, peer->sent));
    return true;
}

void
peers_sent (peers_t *self, size_t size)
{
    assert (self);
    s_peer_t *peer = self->current;
    if (!peer)
        return;
    if (peer->in_slot == self->group) {
        peer->filling = (peer->filling + 1) % self->slots;
        peer->sum -= peer->bytes[peer->filling];
        peer->bytes[peer->filling] = 0;
        peer->in_slot = 0;
    }
    peer->bytes[peer->filling] += size;
    peer->sum += size;
    s_recent (self, peer)[peer->in_slot] = size;
    peer->in_slot++;
    peer->sent++;
}

size_t
peers_queued (peers_t *self, const void *id, size_t len)
{
    assert (self);
    char key[2 * 255 + 1];
    s_peer_t *peer = s_lookup (self, id, len, key);
    return peer ? peer->sum : 0;
}

void
peers_touch (peers_t *self, const void *id, size_t len, int64_t now_ms)
{
    assert (self);
    char key[2 * 255 + 1];
    s_peer_t *peer = s_lookup (self, id, len, key);
    if (peer)
        peer->seen_ms = now_ms;
}

size_t
peers_expire (peers_t *self, int64_t now_ms, int64_t idle_ms)
{
    assert (self);
    self->current = NULL;
    /* zhashx cannot delete while it iterates: collect the keys first. */
    zlistx_t *stale = zlistx_new ();
    if (!stale)
        return zhashx_size (self->peers);
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
        if (peer->seen_ms < now_ms - idle_ms)
            zlistx_add_end (stale, (void *)zhashx_cursor (self->peers));
    for (const char *key = zlistx_first (stale); key; key = zlistx_next (stale))
        zhashx_delete (self->peers, key);
    zlistx_destroy (&stale);
    return zhashx_size (self->peers);
}
