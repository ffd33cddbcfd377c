/*
 * str_hash — the one string hash of the store's in-memory indices (the
 * event table's user index, the status index). Keys are client strings
 * (user_id, status): both tables probe linearly and compare the full key on
 * a hash match, so a client able to choose many strings of one hash would
 * make every probe among them walk the whole run (hash flooding: a create
 * or a list costing as many cache misses as there are such users). The hash
 * is therefore keyed: SipHash-1-3 (the reduced-round SipHash hash tables
 * use, Rust's HashMap for one),
 * with a key drawn from getrandom(2) once per process: nothing outside the
 * process sees a hash, and every index is rebuilt from the events at start.
 */
#ifndef HERALD_STR_HASH_H
#define HERALD_STR_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of len bytes at ptr under this process's key (drawn at the
   first call). */
uint32_t str_hash (const char *ptr, size_t len);

/* SipHash with c compression and d finalization rounds under the 16-byte
   key, 64 bits: str_hash is siphash (its key, ptr, len, 1, 3). For tests
   (the reference vectors are SipHash-2-4's). */
uint64_t str_hash_siphash (const uint8_t key[16], const void *ptr, size_t len, int c, int d);

#endif
