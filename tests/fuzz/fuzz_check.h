/*
 * fuzz_check — the assertion fuzz targets use for the properties they
 * check beyond "no crash": a failed FUZZ_CHECK prints where and aborts, so
 * libFuzzer records the input as a crash artifact. (assert() would vanish
 * under NDEBUG in release builds.)
 */
#ifndef HERALD_FUZZ_CHECK_H
#define HERALD_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

/* True when [ptr, ptr + len) lies inside [base, base + size). */
#define FUZZ_INSIDE(ptr, len, base, size)                                                          \
    ((const uint8_t *)(ptr) >= (const uint8_t *)(base)                                             \
     && (const uint8_t *)(ptr) + (len) <= (const uint8_t *)(base) + (size))

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#endif
