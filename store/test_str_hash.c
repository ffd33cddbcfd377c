/*
 * test_str_hash — the indices' keyed string hash: SipHash computed as its
 * paper defines it (the reference SipHash-2-4 vectors, the rounds being a
 * parameter), and str_hash a function of the string under one key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "str_hash.h"

#include <string.h>

static void
test_siphash_2_4_matches_the_reference_vectors (void **state)
{
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    /* The paper's appendix: 15 bytes 00..0e under key 00..0f. */
    assert_true (str_hash_siphash (key, msg, 15, 2, 4) == 0xa129ca6149be45e5ULL);
    /* The reference implementation's first vector: the empty message. */
    assert_true (str_hash_siphash (key, msg, 0, 2, 4) == 0x726fdb47dd0e0e31ULL);
}

static void
test_str_hash_depends_on_the_whole_string_only (void **state)
{
    char a[] = "user-000000000000042", b[] = "user-000000000000042";
    assert_int_equal (str_hash (a, sizeof a - 1), str_hash (b, sizeof b - 1));
    b[sizeof b - 2] = '3';
    assert_int_not_equal (str_hash (a, sizeof a - 1), str_hash (b, sizeof b - 1));
    assert_int_not_equal (str_hash (a, sizeof a - 1), str_hash (a, sizeof a - 2));
    /* FNV-1a without a key, as before, gave these two one hash. The keyed
       hash tells them apart (by 2^-32 chance it would not, on a given key). */
    assert_int_not_equal (str_hash ("costarring", 10), str_hash ("liquid", 6));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_siphash_2_4_matches_the_reference_vectors),
        cmocka_unit_test (test_str_hash_depends_on_the_whole_string_only),
    };
    return cmocka_run_group_tests_name ("str_hash", tests, NULL, NULL);
}
