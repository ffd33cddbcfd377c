/*
 * str_hash — the one string hash of the store's in-memory indices (the
 * event table's user chains, the status index): FNV-1a, 32 bits. Keys are
 * short client strings (user_id, status); both tables probe linearly and
 * compare the full key on a hash match, so the hash only has to spread.
 */
#ifndef HERALD_STR_HASH_H
#define HERALD_STR_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
str_hash (const char *ptr, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)ptr[i]) * 16777619u;
    return h;
}

#endif
