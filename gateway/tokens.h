/*
 * tokens — the gateway's API tokens (docs/ARCHITECTURE.md §8): the tokens
 * file parsed into a set of (name, scopes, SHA-256 of the secret), and the
 * lookup of a presented bearer token in that set.
 *
 * The file is text, one token a line, fields separated by blanks:
 *
 *     # NAME    SCOPES       SHA256 OF THE SECRET (64 hex digits)
 *     worker    read,write   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *
 * NAME is 1..TOKENS_NAME_MAX of [A-Za-z0-9._-] (it only names the token in
 * logs); SCOPES a comma-separated subset of read, write, admin; a line whose
 * first non-blank character is '#' is a comment, blank lines are ignored. A
 * name or a hash given twice, an unknown scope, a field too many or too few,
 * a line over TOKENS_LINE_MAX bytes, a NUL byte, more than TOKENS_MAX tokens
 * or a file over TOKENS_FILE_MAX bytes is an error naming the file and line.
 *
 * Only hashes are stored, so the file (and a core dump of the gateway) never
 * holds a secret; secrets are random (herald-token makes them), so a plain
 * SHA-256 is enough: there is nothing to guess from a hash. A lookup hashes
 * the presented secret and compares it with every entry in constant time
 * (nettle's memeql_sec), so timing tells an attacker nothing about how much
 * of a hash matched. A token set is immutable once parsed: the gateway swaps
 * whole sets on reload (auth.h).
 */
#ifndef HERALD_GATEWAY_TOKENS_H
#define HERALD_GATEWAY_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENS_NAME_MAX 64
#define TOKENS_LINE_MAX 1024
#define TOKENS_MAX 4096
#define TOKENS_FILE_MAX (1024 * 1024)
#define TOKENS_HASH_LEN 32                    /* SHA-256 */
#define TOKENS_HASH_HEX (2 * TOKENS_HASH_LEN) /* as written in the file */
/* A presented secret longer than this is refused unhashed (herald-token
   makes 71-byte ones). */
#define TOKENS_SECRET_MAX 256

/* Scopes, a bit mask. */
#define TOKENS_SCOPE_READ 1u
#define TOKENS_SCOPE_WRITE 2u
#define TOKENS_SCOPE_ADMIN 4u

typedef struct _tokens_t tokens_t;

/* Parses a tokens file's text (len bytes, need not be NUL-terminated).
   origin names it in errors (the path). Returns the set (the caller's to
   destroy), or NULL with err holding "origin:LINE: why" (or "origin: why"
   for what is no line's fault: too large, out of memory). */
tokens_t *tokens_parse (const char *text, size_t len, const char *origin, char *err,
                        size_t err_size);

/* Reads and parses the file at path. NULL with err as tokens_parse, or
   "path: <strerror>" when it cannot be read. *world_readable (may be NULL)
   tells whether others may read the file, which the caller warns about. */
tokens_t *tokens_load (const char *path, bool *world_readable, char *err, size_t err_size);

void tokens_destroy (tokens_t **self_p);

/* Tokens in the set. */
size_t tokens_size (const tokens_t *self);

/* Looks up the secret (len bytes): returns its scopes and points *name
   (may be NULL) at its name (borrowed, valid while self lives), or 0 when
   no token matches. Every entry is compared, in constant time. */
unsigned tokens_lookup (const tokens_t *self, const char *secret, size_t len, const char **name);

/* SHA-256 of the secret. */
void tokens_hash (const char *secret, size_t len, uint8_t hash[TOKENS_HASH_LEN]);

/* Writes the hash as TOKENS_HASH_HEX lowercase hex digits and a NUL. */
void tokens_hash_hex (const uint8_t hash[TOKENS_HASH_LEN], char hex[TOKENS_HASH_HEX + 1]);

/* Parses "read,write" (len bytes) into a scope mask. Returns 0, or -1 for
   an empty list, an empty item, an unknown or repeated scope. */
int tokens_scopes_parse (const char *text, size_t len, unsigned *scopes);

/* "read", "write" or "admin" for one scope bit; "" otherwise. */
const char *tokens_scope_name (unsigned scope);

/* True when name is a valid token name (NUL-terminated). */
bool tokens_name_valid (const char *name);

#endif
