/* Unit tests for the shared helpers: config parsing, backoff, log levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "backoff.h"
#include "config.h"
#include "log.h"

static void
test_config_flag_beats_env_beats_default (void **state)
{
    (void) state;
    setenv ("HERALD_TEST_X", "from-env", 1);
    assert_string_equal (config_str ("from-flag", "HERALD_TEST_X", "def"), "from-flag");
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "from-env");
    setenv ("HERALD_TEST_X", "", 1);
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "def");
    unsetenv ("HERALD_TEST_X");
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "def");
}

static void
test_config_int_rejects_garbage_and_out_of_range (void **state)
{
    (void) state;
    int64_t v = 0;
    assert_int_equal (config_parse_int ("42", 0, 100, &v), 0);
    assert_int_equal (v, 42);
    assert_int_equal (config_parse_int ("100", 0, 100, &v), 0);
    assert_int_equal (config_parse_int ("101", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("-1", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("12abc", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("99999999999999999999999", 0, INT64_MAX, &v), -1);
    setenv ("HERALD_TEST_N", "7", 1);
    assert_int_equal (config_int (NULL, "HERALD_TEST_N", 3, 1, 10, "--n", &v), 0);
    assert_int_equal (v, 7);
    setenv ("HERALD_TEST_N", "70", 1);
    assert_int_equal (config_int (NULL, "HERALD_TEST_N", 3, 1, 10, "--n", &v), -1);
    unsetenv ("HERALD_TEST_N");
    assert_int_equal (config_int (NULL, "HERALD_TEST_N", 3, 1, 10, "--n", &v), 0);
    assert_int_equal (v, 3);
}

static void
test_backoff_grows_within_jitter_bounds_and_resets (void **state)
{
    (void) state;
    backoff_t b;
    backoff_init (&b, 100, 1000);
    int64_t ceiling = 100;
    for (int i = 0; i < 10; i++) {
        int64_t d = backoff_next (&b);
        assert_true (d >= ceiling / 2);
        assert_true (d <= ceiling);
        ceiling = ceiling * 2 > 1000 ? 1000 : ceiling * 2;
    }
    assert_int_equal (b.attempts, 10);
    backoff_reset (&b);
    int64_t d = backoff_next (&b);
    assert_true (d >= 50 && d <= 100);
}

static void
test_log_level_parse (void **state)
{
    (void) state;
    log_level_t level = LOG_LEVEL_INFO;
    assert_int_equal (log_level_parse ("debug", &level), 0);
    assert_int_equal (level, LOG_LEVEL_DEBUG);
    assert_int_equal (log_level_parse ("WARNING", &level), 0);
    assert_int_equal (level, LOG_LEVEL_WARN);
    assert_int_equal (log_level_parse ("loud", &level), -1);
    assert_int_equal (level, LOG_LEVEL_WARN);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_config_flag_beats_env_beats_default),
        cmocka_unit_test (test_config_int_rejects_garbage_and_out_of_range),
        cmocka_unit_test (test_backoff_grows_within_jitter_bounds_and_resets),
        cmocka_unit_test (test_log_level_parse),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
