/*
 * shards — see shards.h. The clients are an array indexed by shard id of
 * the current map, each with its link; a reload builds the new array
 * beside the old one and swaps only when every client could be made, so
 * a failed reload leaves the loop exactly as it was.
 */
#include "shards.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    store_client_t *client;
    uint32_t link;
} s_conn_t;

struct _shards_t {
    char *map_path; /* NULL: the single map */
    shard_map_t *map;
    s_conn_t *conns; /* shard_map_shards (map) of them */
    store_client_config_t client;
    uint32_t next_link;
    unsigned generation;
};

/* A client for endpoint, with the next link. 0 or -1. */
static int
s_connect (shards_t *self, const char *endpoint, s_conn_t *conn)
{
    store_client_config_t config = self->client;
    config.endpoint = endpoint;
    conn->client = store_client_new (&config);
    if (!conn->client)
        return -1;
    conn->link = self->next_link++;
    self->generation++;
    return 0;
}

/* Closes n connections and frees the array. */
static void
s_close (shards_t *self, s_conn_t *conns, size_t n)
{
    for (size_t i = 0; conns && i < n; i++)
        if (conns[i].client) {
            store_client_destroy (&conns[i].client);
            self->generation++;
        }
    free (conns);
}

shards_t *
shards_new (const char *map_path, const char *endpoint, const store_client_config_t *client)
{
    shards_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client = *client;
    self->next_link = 1;
    char err[512];
    if (map_path) {
        self->map_path = strdup (map_path);
        self->map = self->map_path ? shard_map_load (map_path, err, sizeof err) : NULL;
        if (!self->map)
            log_error ("--shard-map: %s", self->map_path ? err : "out of memory");
    } else {
        self->map = shard_map_new_single (endpoint);
        if (!self->map)
            log_error ("--store-endpoint %s: not an endpoint a client can connect to", endpoint);
    }
    if (!self->map)
        goto fail;
    size_t n = shard_map_shards (self->map);
    self->conns = calloc (n, sizeof *self->conns);
    if (!self->conns)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (s_connect (self, shard_map_endpoint (self->map, i), &self->conns[i]) != 0)
            goto fail;
    return self;
fail:
    shards_destroy (&self);
    return NULL;
}

void
shards_destroy (shards_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shards_t *self = *self_p;
    if (self->map)
        s_close (self, self->conns, shard_map_shards (self->map));
    shard_map_destroy (&self->map);
    free (self->map_path);
    free (self);
    *self_p = NULL;
}

size_t
shards_size (shards_t *self)
{
    assert (self);
    return shard_map_shards (self->map);
}

uint64_t
shards_epoch (shards_t *self)
{
    assert (self);
    return shard_map_epoch (self->map);
}

const char *
shards_endpoint (shards_t *self, size_t shard)
{
    assert (self && shard < shards_size (self));
    return shard_map_endpoint (self->map, shard);
}

store_client_t *
shards_client (shards_t *self, size_t shard)
{
    assert (self && shard < shards_size (self));
    return self->conns[shard].client;
}

uint32_t
shards_link (shards_t *self, size_t shard)
{
    assert (self && shard < shards_size (self));
    return self->conns[shard].link;
}

int
shards_find_link (shards_t *self, uint32_t link)
{
    assert (self);
    for (size_t i = 0; i < shards_size (self); i++)
        if (self->conns[i].link == link)
            return (int)i;
    return -1;
}

int
shards_find_endpoint (shards_t *self, const char *endpoint, size_t len)
{
    assert (self);
    for (size_t i = 0; i < shards_size (self); i++) {
        const char *own = shard_map_endpoint (self->map, i);
        if (strlen (own) == len && memcmp (own, endpoint, len) == 0)
            return (int)i;
    }
    return -1;
}

size_t
shards_owner_of (shards_t *self, const uint8_t id[16])
{
    assert (self);
    return shard_map_owner_of (self->map, id);
}

uint16_t
shards_user_slot (const char *user, size_t len)
{
    uint64_t hash = 14695981039346656037ULL; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < len; i++) {
        hash ^= (unsigned char)user[i];
        hash *= 1099511628211ULL;
    }
    /* FNV-1a's low bits barely change with a name's last byte ("user-0" to
       "user-7" share a third of the slots): MurmurHash3's fmix64 mixes
       every bit into the low 14 before they are taken. */
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return (uint16_t)(hash % SHARD_MAP_SLOTS);
}

size_t
shards_owner_of_user (shards_t *self, const char *user, size_t len)
{
    assert (self);
    return shard_map_owner (self->map, shards_user_slot (user, len));
}

int
shards_reload (shards_t *self)
{
    assert (self);
    if (!self->map_path)
        return -1;
    char err[512];
    shard_map_t *map = shard_map_load (self->map_path, err, sizeof err);
    if (!map) {
        log_warn ("cannot reload the shard map: %s", err);
        return -1;
    }
    if (shard_map_epoch (map) <= shard_map_epoch (self->map)) {
        shard_map_destroy (&map);
        return 0;
    }
    size_t n = shard_map_shards (map), old_n = shards_size (self);
    s_conn_t *conns = calloc (n, sizeof *conns);
    for (size_t i = 0; conns && i < n; i++) {
        const char *endpoint = shard_map_endpoint (map, i);
        int old = shards_find_endpoint (self, endpoint, strlen (endpoint));
        if (old >= 0)
            continue; /* kept: moved over once every new client is made */
        if (s_connect (self, endpoint, &conns[i]) != 0) {
            s_close (self, conns, n);
            conns = NULL;
        }
    }
    if (!conns) {
        log_warn ("cannot adopt the shard map of epoch %llu: out of resources",
                  (unsigned long long)shard_map_epoch (map));
        shard_map_destroy (&map);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *endpoint = shard_map_endpoint (map, i);
        int old = shards_find_endpoint (self, endpoint, strlen (endpoint));
        if (old >= 0) {
            conns[i] = self->conns[old];
            self->conns[old].client = NULL;
        }
    }
    s_close (self, self->conns, old_n); /* those no longer in the map */
    shard_map_destroy (&self->map);
    self->map = map;
    self->conns = conns;
    return 1;
}

int
shards_reset (shards_t *self, size_t shard)
{
    assert (self && shard < shards_size (self));
    s_conn_t conn;
    if (s_connect (self, shard_map_endpoint (self->map, shard), &conn) != 0)
        return -1;
    store_client_destroy (&self->conns[shard].client);
    self->conns[shard] = conn;
    return 0;
}

unsigned
shards_generation (shards_t *self)
{
    assert (self);
    return self->generation;
}
