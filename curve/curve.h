/*
 * curve — the CurveZMQ keys that secure the store's sockets, for both ends:
 * the store (a CURVE server on its ROUTER and PUB) and its clients (the
 * gateways and the notifier, each with a key pair of its own, knowing the
 * store's public key). With them, everything on the wire between services
 * is encrypted, and the store talks only to clients whose public key it
 * holds (store/zap.c checks each handshake).
 *
 * Keys live in czmq's certificate files (zcert, ZPL text, keys in Z85), as
 * herald-keygen writes them: NAME.key holds the public key and may be
 * copied anywhere; NAME.key_secret holds both keys and stays with its
 * owner, mode 0600.
 */
#ifndef HERALD_CURVE_H
#define HERALD_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURVE_KEY_LEN 32 /* bytes of a public or secret key */
#define CURVE_Z85_LEN 40 /* its Z85 text */

typedef struct {
    uint8_t public_key[CURVE_KEY_LEN];
    uint8_t secret_key[CURVE_KEY_LEN];
} curve_keypair_t;

/* Whether this libzmq can do CURVE at all. */
bool curve_available (void);

/* Loads a key pair from a secret certificate file (NAME.key_secret).
   Returns 0, or -1 with the reason in err: the file is missing or
   unreadable, is not a certificate, or holds no secret key (a public
   certificate given by mistake). Warns when the file is readable by
   others than its owner. */
int curve_load_keypair (const char *path, curve_keypair_t *keys, char *err, size_t size);

/* Loads the public key of a certificate file (NAME.key or NAME.key_secret).
   Returns 0, or -1 with the reason in err. */
int curve_load_public (const char *path, uint8_t key[CURVE_KEY_LEN], char *err, size_t size);

/* A client's CURVE settings as its options give them: its own secret
   certificate and the store's public one, both or neither. */
typedef struct {
    curve_keypair_t keys;
    uint8_t server_key[CURVE_KEY_LEN];
} curve_client_t;

/* Loads both files into *client. Returns 1 when loaded, 0 when neither
   file is given (no CURVE), -1 with the reason in err when only one is or
   a file does not load. */
int curve_load_client (const char *key_file, const char *server_file, curve_client_t *client,
                       char *err, size_t size);

/* Makes a libzmq socket a CURVE server with keys, before it binds.
   Returns 0, or -1 (errno from libzmq). */
int curve_make_server (void *socket, const curve_keypair_t *keys);

/* Makes a libzmq socket a CURVE client of the server whose public key is
   server_key, with its own keys, before it connects. Returns 0 or -1. */
int curve_make_client (void *socket, const curve_keypair_t *keys,
                       const uint8_t server_key[CURVE_KEY_LEN]);

/* Whether a ZeroMQ endpoint can only be reached from this machine: ipc://,
   inproc://, and tcp:// on a loopback address (127.0.0.0/8, ::1,
   localhost). tcp on "*", 0.0.0.0 or any other address is not. */
bool curve_endpoint_is_local (const char *endpoint);

#endif
