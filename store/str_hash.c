/*
 * str_hash — see str_hash.h. SipHash as its paper (Aumasson and Bernstein,
 * 2012) defines it: four 64-bit words of state initialised from the key,
 * the message taken 8 bytes at a time little-endian, the last word holding
 * the remaining bytes and the length's low byte at the top.
 */
#define _GNU_SOURCE
#include "str_hash.h"

#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define S_ROTL(x, b) (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define S_ROUND(v0, v1, v2, v3)                                                                    \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = S_ROTL (v1, 13);                                                                      \
        v1 ^= v0;                                                                                  \
        v0 = S_ROTL (v0, 32);                                                                      \
        v2 += v3;                                                                                  \
        v3 = S_ROTL (v3, 16);                                                                      \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = S_ROTL (v3, 21);                                                                      \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = S_ROTL (v1, 17);                                                                      \
        v1 ^= v2;                                                                                  \
        v2 = S_ROTL (v2, 32);                                                                      \
    } while (0)

static uint64_t
s_load64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t
str_hash_siphash (const uint8_t key[16], const void *ptr, size_t len, int c, int d)
{
    const uint8_t *p = ptr;
    uint64_t k0 = s_load64 (key), k1 = s_load64 (key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = s_load64 (p + i);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            S_ROUND (v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)p[whole + i] << (8 * i);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        S_ROUND (v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        S_ROUND (v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint8_t s_key[16];
static bool s_keyed;

/* The process's key: getrandom, or (a kernel without it) the clock and the
   pid, which an outside client cannot read either. */
static void
s_make_key (void)
{
    if (getrandom (s_key, sizeof s_key, 0) != (ssize_t)sizeof s_key) {
        struct timespec ts;
        clock_gettime (CLOCK_MONOTONIC, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30;
        uint64_t b = (uint64_t)getpid () * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&ts;
        memcpy (s_key, &a, 8);
        memcpy (s_key + 8, &b, 8);
    }
    s_keyed = true;
}

uint32_t
str_hash (const char *ptr, size_t len)
{
    if (!s_keyed)
        s_make_key ();
    uint64_t h = str_hash_siphash (s_key, ptr, len, 1, 3);
    return (uint32_t)(h ^ h >> 32);
}
