/*
 * test_fail_alloc — see test_fail_alloc.h.
 */
#include "test_fail_alloc.h"

#include <stdbool.h>
#include <stddef.h>

void *__real_malloc (size_t size);
void *__real_realloc (void *ptr, size_t size);
void *__real_calloc (size_t n, size_t size);
void *__wrap_malloc (size_t size);
void *__wrap_realloc (void *ptr, size_t size);
void *__wrap_calloc (size_t n, size_t size);

static int s_fail_in;

void
test_fail_alloc_in (int n)
{
    s_fail_in = n;
}

static bool
s_fails (void)
{
    return s_fail_in > 0 && --s_fail_in == 0;
}

void *
__wrap_malloc (size_t size)
{
    return s_fails () ? NULL : __real_malloc (size);
}

void *
__wrap_realloc (void *ptr, size_t size)
{
    return s_fails () ? NULL : __real_realloc (ptr, size);
}

void *
__wrap_calloc (size_t n, size_t size)
{
    return s_fails () ? NULL : __real_calloc (n, size);
}
