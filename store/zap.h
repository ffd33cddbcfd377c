/*
 * zap — the store's ZAP handler (ZeroMQ RFC 27). When the store runs with
 * CURVE keys, libzmq asks this handler about every handshake on the
 * store's ROUTER and PUB, and a client is let in only if its public key is
 * allowed: a certificate in the clients directory (--curve-clients, the
 * public NAME.key files herald-keygen writes), or the store's own key
 * (herald-store --check presents it). The directory is read again when it
 * changes, so a key added or removed counts from the next handshake, with
 * no restart; connections already made stay until they close.
 *
 * It answers in the store's own loop (poll zap_socket, then zap_handle):
 * no thread, no lock, and the count of refused handshakes lands straight
 * in the store's stats. A refused client gets nothing at all: libzmq drops
 * the connection without delivering a message.
 */
#ifndef HERALD_STORE_ZAP_H
#define HERALD_STORE_ZAP_H

#include "curve.h"

#include <stdint.h>

typedef struct _zap_t zap_t;

/* Binds the handler (in czmq's context, which the store's sockets share)
   before any CURVE socket binds. clients_dir is copied; own_key is the
   store's public key. NULL, after logging why, if it cannot bind (another
   handler in the process) or the directory is missing. */
zap_t *zap_new (const char *clients_dir, const uint8_t own_key[CURVE_KEY_LEN]);

/* Unbinds and frees. No-op on NULL. */
void zap_destroy (zap_t **self_p);

/* The socket to poll for requests. Borrowed. */
void *zap_socket (zap_t *self);

/* Answers every request waiting, without blocking. Returns how many
   handshakes it refused. */
uint64_t zap_handle (zap_t *self);

/* How many client keys the directory holds now (for the log). */
size_t zap_allowed (zap_t *self);

#endif
