/*
 * crc32c — see crc32c.h. The table is built on first use (256 entries,
 * one byte at a time): recovery reads the journal at a few hundred MB/s
 * through it on a CPU without the instruction, enough for the 3 s budget
 * of a million events.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define S_POLY 0x82f63b78u /* 0x1EDC6F41 bit-reversed */

static uint32_t s_table[256];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static bool s_hw;

static void
s_init (void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ S_POLY : c >> 1;
        s_table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init ();
    s_hw = __builtin_cpu_supports ("sse4.2");
#endif
}

uint32_t
crc32c_portable (uint32_t crc, const void *buf, size_t len)
{
    pthread_once (&s_once, s_init);
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--)
        crc = s_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__ ((target ("sse4.2"))) static uint32_t
s_hardware (uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = ~crc;
    while (len >= 8) {
        uint64_t word;
        memcpy (&word, p, 8);
        c = __builtin_ia32_crc32di (c, word);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi (c32, *p++);
    return ~c32;
}
#endif

uint32_t
crc32c (uint32_t crc, const void *buf, size_t len)
{
    pthread_once (&s_once, s_init);
#if defined(__x86_64__)
    if (s_hw)
        return s_hardware (crc, buf, len);
#endif
    return crc32c_portable (crc, buf, len);
}

bool
crc32c_hardware (void)
{
    pthread_once (&s_once, s_init);
    return s_hw;
}
