/*
 * test_fail_alloc — allocation failures on demand for the store's unit
 * tests. A test linked with test_fail_alloc.c and
 * -Wl,--wrap=malloc,--wrap=realloc (and --wrap=calloc) (store/CMakeLists.txt)
 * has every malloc and realloc (and calloc) of its own code and of
 * herald_store_core go through here.
 */
#ifndef HERALD_TEST_FAIL_ALLOC_H
#define HERALD_TEST_FAIL_ALLOC_H

/* The n-th malloc, realloc or calloc (where wrapped) from now fails (returns NULL); 0: none does.
   Each call replaces the previous countdown. */
void test_fail_alloc_in (int n);

#endif
