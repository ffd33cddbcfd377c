/*
 * clients — see clients.h. The per-address counts live in a small hash
 * table (chained, keyed by the address bytes: IPv4 or IPv6, port left
 * out); the connections in a doubly linked list the sweep walks.
 */
#include "clients.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define S_BUCKETS 1024 /* per loop; chains stay short up to many thousand addresses */

typedef struct s_address {
    uint8_t bytes[16];
    uint8_t len; /* 4 or 16 */
    unsigned connections;
    uint32_t bucket;
    struct s_address *next;
} s_address_t;

struct _client_conn_t {
    struct MHD_Connection *conn;
    s_address_t *address; /* NULL if its address could not be read */
    int64_t deadline_ms;  /* 0 while a request is being answered */
    client_conn_t *prev, *next;
};

struct _clients_t {
    unsigned max_connections, max_per_client;
    int64_t timeout_ms;
    unsigned connections;
    client_conn_t *head;
    int64_t next_sweep_ms;
    s_address_t *buckets[S_BUCKETS];
};

clients_t *
clients_new (unsigned max_connections, unsigned max_per_client, int64_t request_timeout_ms)
{
    clients_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_connections = max_connections;
    self->max_per_client = max_per_client;
    self->timeout_ms = request_timeout_ms;
    return self;
}

void
clients_destroy (clients_t **self_p)
{
    assert (self_p);
    clients_t *self = *self_p;
    if (!self)
        return;
    while (self->head)
        clients_close (self, self->head);
    for (size_t i = 0; i < S_BUCKETS; i++)
        while (self->buckets[i]) {
            s_address_t *a = self->buckets[i];
            self->buckets[i] = a->next;
            free (a);
        }
    free (self);
    *self_p = NULL;
}

/* The address bytes of addr (no port); 0 for a family without one. */
static uint8_t
s_key (const struct sockaddr *addr, uint8_t bytes[16])
{
    if (addr && addr->sa_family == AF_INET) {
        memcpy (bytes, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, 4);
        return 4;
    }
    if (addr && addr->sa_family == AF_INET6) {
        memcpy (bytes, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

/* The entry for addr, made when create is set; NULL if none (or no memory). */
static s_address_t *
s_address (clients_t *self, const struct sockaddr *addr, bool create)
{
    uint8_t bytes[16];
    uint8_t len = s_key (addr, bytes);
    if (len == 0)
        return NULL;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint8_t i = 0; i < len; i++)
        h = (h ^ bytes[i]) * 16777619u;
    s_address_t **slot = &self->buckets[h % S_BUCKETS];
    for (s_address_t *a = *slot; a; a = a->next)
        if (a->len == len && memcmp (a->bytes, bytes, len) == 0)
            return a;
    if (!create)
        return NULL;
    s_address_t *a = calloc (1, sizeof *a);
    if (!a)
        return NULL;
    memcpy (a->bytes, bytes, len);
    a->len = len;
    a->bucket = h % S_BUCKETS;
    a->next = *slot;
    *slot = a;
    return a;
}

bool
clients_admit (clients_t *self, const struct sockaddr *addr)
{
    assert (self);
    if (self->connections >= self->max_connections)
        return false;
    const s_address_t *a = s_address (self, addr, false);
    return !a || a->connections < self->max_per_client;
}

client_conn_t *
clients_open (clients_t *self, struct MHD_Connection *conn, int64_t now_ms)
{
    assert (self);
    self->connections++;
    client_conn_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->conn = conn;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    c->address = info ? s_address (self, info->client_addr, true) : NULL;
    if (c->address)
        c->address->connections++;
    c->deadline_ms = now_ms + self->timeout_ms;
    c->next = self->head;
    if (self->head)
        self->head->prev = c;
    self->head = c;
    return c;
}

/* Unlinks an address no connection uses any more. */
static void
s_address_release (clients_t *self, s_address_t *gone)
{
    for (s_address_t **p = &self->buckets[gone->bucket]; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            free (gone);
            return;
        }
}

void
clients_close (clients_t *self, client_conn_t *c)
{
    assert (self);
    if (self->connections > 0)
        self->connections--;
    if (!c)
        return;
    if (c->address && --c->address->connections == 0)
        s_address_release (self, c->address);
    if (c->prev)
        c->prev->next = c->next;
    else
        self->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free (c);
}

void
clients_request_in (client_conn_t *c)
{
    if (c)
        c->deadline_ms = 0;
}

void
clients_response_out (clients_t *self, client_conn_t *c, int64_t now_ms)
{
    if (c)
        c->deadline_ms = now_ms + self->timeout_ms;
}

unsigned
clients_sweep (clients_t *self, int64_t now_ms)
{
    assert (self);
    if (now_ms < self->next_sweep_ms)
        return 0;
    self->next_sweep_ms = now_ms + CLIENTS_SWEEP_MS;
    unsigned cut = 0;
    for (client_conn_t *c = self->head; c; c = c->next) {
        if (c->deadline_ms == 0 || now_ms < c->deadline_ms)
            continue;
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info && shutdown (info->connect_fd, SHUT_RDWR) == 0)
            cut++;
        c->deadline_ms = 0; /* once: libmicrohttpd closes it on its next pass */
    }
    return cut;
}

long
clients_timeout (clients_t *self, int64_t now_ms)
{
    assert (self);
    if (self->connections == 0)
        return -1;
    return self->next_sweep_ms > now_ms ? (long)(self->next_sweep_ms - now_ms) : 0;
}

unsigned
clients_count (clients_t *self)
{
    assert (self);
    return self->connections;
}
