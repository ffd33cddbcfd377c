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

/* Checks that encode (a proto_*_encode function) gives the same bytes for
   two decoded values a and b: the small-frame reader and msgpack-c agree
   (proto_wire.h, wire_set_generic_only). Needs msgpack.h and string.h. */
#define FUZZ_SAME_ENCODING(encode, a, b)                                                           \
    do {                                                                                           \
        msgpack_sbuffer x_, y_;                                                                    \
        msgpack_sbuffer_init (&x_);                                                                \
        msgpack_sbuffer_init (&y_);                                                                \
        FUZZ_CHECK (encode ((a), &x_) == 0 && encode ((b), &y_) == 0);                             \
        FUZZ_CHECK (x_.size == y_.size && memcmp (x_.data, y_.data, x_.size) == 0);                \
        msgpack_sbuffer_destroy (&x_);                                                             \
        msgpack_sbuffer_destroy (&y_);                                                             \
    } while (0)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#endif
