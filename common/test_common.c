/* Unit tests for the shared helpers: config parsing, backoff, log levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "health.h"
#include "stop.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
test_time_format_is_rfc3339_utc_with_milliseconds (void **state)
{
    char out[CLOCK_UTC_LEN + 1];
    clock_format_utc (0, out);
    assert_string_equal (out, "1970-01-01T00:00:00.000Z");
    clock_format_utc (1795514400123LL, out);
    assert_string_equal (out, "2026-11-24T10:00:00.123Z");
    clock_format_utc (951782400000LL, out); /* leap day 2000 */
    assert_string_equal (out, "2000-02-29T00:00:00.000Z");
    clock_format_utc (-1, out);
    assert_string_equal (out, "1969-12-31T23:59:59.999Z");
    clock_format_utc (INT64_MAX, out);
    assert_string_equal (out, "9999-12-31T23:59:59.999Z");
    clock_format_utc (INT64_MIN, out);
    assert_string_equal (out, "0000-01-01T00:00:00.000Z");
    assert_int_equal (strlen (out), CLOCK_UTC_LEN);
}

static void
test_config_flag_beats_env_beats_default (void **state)
{
    (void)state;
    setenv ("HERALD_TEST_X", "from-env", 1);
    assert_string_equal (config_str ("from-flag", "HERALD_TEST_X", "def"), "from-flag");
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "from-env");
    setenv ("HERALD_TEST_X", "", 1);
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "def");
    unsetenv ("HERALD_TEST_X");
    assert_string_equal (config_str (NULL, "HERALD_TEST_X", "def"), "def");
}

static void
test_config_parse_int_rejects_garbage_and_out_of_range (void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal (config_parse_int ("42", 0, 100, &v), 0);
    assert_int_equal (v, 42);
    assert_int_equal (config_parse_int ("100", 0, 100, &v), 0);
    assert_int_equal (config_parse_int ("101", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("-1", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("12abc", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("", 0, 100, &v), -1);
    assert_int_equal (config_parse_int (" 5", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("+5", 0, 100, &v), -1);
    assert_int_equal (config_parse_int ("-5", -10, 100, &v), 0);
    assert_int_equal (v, -5);
    assert_int_equal (config_parse_int ("99999999999999999999999", 0, INT64_MAX, &v), -1);
}

static void
test_backoff_grows_within_jitter_bounds_and_resets (void **state)
{
    (void)state;
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
    (void)state;
    log_level_t level = LOG_LEVEL_INFO;
    assert_int_equal (log_level_parse ("debug", &level), 0);
    assert_int_equal (level, LOG_LEVEL_DEBUG);
    assert_int_equal (log_level_parse ("WARNING", &level), 0);
    assert_int_equal (level, LOG_LEVEL_WARN);
    assert_int_equal (log_level_parse ("loud", &level), -1);
    assert_int_equal (level, LOG_LEVEL_WARN);
}

static option_t s_table[] = {
    OPTION_S ("listen", "HERALD_TEST_LISTEN", "127.0.0.1:8000", "HOST:PORT", "where"),
    OPTION_I ("threads", "HERALD_TEST_THREADS", "1", 1, 8, "N", "loops"),
    OPTION_FE ("dry-run", "HERALD_TEST_DRY_RUN", "change nothing"),
    OPTION_C ("mode", "HERALD_TEST_MODE", "fast", "fast|safe|off", "how"),
    OPTION_SC ("endpoint", "HERALD_TEST_ENDPOINT", "tcp://127.0.0.1:5555", "EP", "store",
               options_check_endpoint),
    OPTION_END,
};

static int
s_parse (int argc, char **argv)
{
    for (option_t *o = s_table; o->name; o++) {
        o->str = NULL;
        o->num = 0;
        o->set = false;
    }
    options_t opts = { .program = "test", .summary = "summary", .options = s_table };
    return options_parse (&opts, argc, argv);
}

static void
test_options_flag_beats_env_beats_default (void **state)
{
    unsetenv ("HERALD_TEST_LISTEN");
    unsetenv ("HERALD_TEST_THREADS");
    char *none[] = { "test", NULL };
    assert_int_equal (s_parse (1, none), 0);
    assert_string_equal (s_table[0].str, "127.0.0.1:8000");
    assert_int_equal (s_table[1].num, 1);
    assert_false (s_table[2].set);

    setenv ("HERALD_TEST_THREADS", "4", 1);
    assert_int_equal (s_parse (1, none), 0);
    assert_int_equal (s_table[1].num, 4);

    char *flags[] = { "test", "--threads", "8", "--listen", "0.0.0.0:9", "--dry-run", NULL };
    assert_int_equal (s_parse (6, flags), 0);
    assert_int_equal (s_table[1].num, 8);
    assert_string_equal (s_table[0].str, "0.0.0.0:9");
    assert_true (s_table[2].set);
    unsetenv ("HERALD_TEST_THREADS");

    /* a flag's environment variable is 1 or 0, nothing else */
    setenv ("HERALD_TEST_DRY_RUN", "1", 1);
    assert_int_equal (s_parse (1, none), 0);
    assert_true (s_table[2].set);
    setenv ("HERALD_TEST_DRY_RUN", "0", 1);
    assert_int_equal (s_parse (1, none), 0);
    assert_false (s_table[2].set);
    setenv ("HERALD_TEST_DRY_RUN", "yes", 1);
    assert_int_equal (s_parse (1, none), 2);
    unsetenv ("HERALD_TEST_DRY_RUN");
}

static void
test_options_refuse_bad_values_with_exit_code_2 (void **state)
{
    char *over[] = { "test", "--threads", "9", NULL };
    assert_int_equal (s_parse (3, over), 2);
    char *text[] = { "test", "--threads", "2x", NULL };
    assert_int_equal (s_parse (3, text), 2);
    char *unknown[] = { "test", "--nope", NULL };
    assert_int_equal (s_parse (2, unknown), 2);
    char *stray[] = { "test", "stray", NULL };
    assert_int_equal (s_parse (2, stray), 2);
    setenv ("HERALD_TEST_THREADS", "0", 1);
    char *none[] = { "test", NULL };
    assert_int_equal (s_parse (1, none), 2);
    unsetenv ("HERALD_TEST_THREADS");
    char *level[] = { "test", "--log-level", "loud", NULL };
    assert_int_equal (s_parse (3, level), 2);
}

static void
test_options_check_choices_and_endpoints (void **state)
{
    unsetenv ("HERALD_TEST_MODE");
    unsetenv ("HERALD_TEST_ENDPOINT");
    char *none[] = { "test", NULL };
    assert_int_equal (s_parse (1, none), 0);
    assert_string_equal (s_table[3].str, "fast");
    assert_int_equal (s_table[3].num, 0);
    char *off[] = { "test", "--mode", "off", NULL };
    assert_int_equal (s_parse (3, off), 0);
    assert_int_equal (s_table[3].num, 2);
    char *prefix[] = { "test", "--mode", "of", NULL };
    assert_int_equal (s_parse (3, prefix), 2);
    char *longer[] = { "test", "--mode", "offf", NULL };
    assert_int_equal (s_parse (3, longer), 2);
    setenv ("HERALD_TEST_ENDPOINT", "tcp://127.0.0.1", 1); /* no port */
    assert_int_equal (s_parse (1, none), 2);
    unsetenv ("HERALD_TEST_ENDPOINT");
    char *ipc[] = { "test", "--endpoint", "ipc:///run/herald/store", NULL };
    assert_int_equal (s_parse (3, ipc), 0);
    assert_string_equal (s_table[4].str, "ipc:///run/herald/store");

    char err[128];
    const char *good[] = { "tcp://127.0.0.1:5555", "tcp://*:1", "tcp://[::1]:65535", "ipc://x" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal (options_check_endpoint (good[i], err, sizeof err), 0);
    const char *bad[] = { "tcp://:5555",   "tcp://h:0",   "tcp://h:65536", "tcp://h:x",
                          "tcp://h:",      "ipc://",      "inproc://x",    "udp://h:1",
                          "127.0.0.1:555", "tcp://h:+55", "none" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal (options_check_endpoint (bad[i], err, sizeof err), -1);
        assert_non_null (strstr (err, bad[i]));
    }
    assert_int_equal (options_check_endpoint_or_none ("none", err, sizeof err), 0);
    assert_int_equal (options_check_endpoint_or_none ("None", err, sizeof err), -1);
    assert_int_equal (options_check_http_url ("http://127.0.0.1:8000", err, sizeof err), 0);
    assert_int_equal (options_check_http_url ("https://gw", err, sizeof err), 0);
    assert_int_equal (options_check_http_url ("http://", err, sizeof err), -1);
    assert_int_equal (options_check_http_url ("ftp://gw", err, sizeof err), -1);
    assert_int_equal (options_check_http_url ("http:///path", err, sizeof err), -1);
}

static void
test_options_start_maps_results_to_exit_codes (void **state)
{
    options_t opts = { .program = "test", .summary = "summary", .options = s_table };
    char *version[] = { "test", "--version", NULL };
    assert_int_equal (options_start (&opts, 2, version), 0);
    char *bad[] = { "test", "--threads", "0", NULL };
    assert_int_equal (options_start (&opts, 3, bad), 2);
    char *level[] = { "test", "--log-level", "warn", NULL };
    assert_int_equal (options_start (&opts, 3, level), OPTIONS_RUN);
    assert_int_equal (log_get_level (), LOG_LEVEL_WARN);
    log_init ("test", LOG_LEVEL_INFO);
    /* --check exists where the service says what it checks */
    char *check[] = { "test", "--check", NULL };
    assert_int_equal (options_start (&opts, 2, check), 2);
    opts.check_help = "probe the running test";
    assert_int_equal (options_start (&opts, 2, check), OPTIONS_RUN);
    assert_true (opts.check);
    assert_int_equal (options_start (&opts, 1, check), OPTIONS_RUN);
    assert_false (opts.check);
    log_init ("test", LOG_LEVEL_INFO);
}

static void
test_health_check_fails_when_missing_or_stale (void **state)
{
    char path[] = "/tmp/herald-test-health-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    unlink (path);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    health_touch (path, 1000000);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    /* an hour-old file: the process stopped touching it */
    struct timespec old[2] = { { time (NULL) - 3600, 0 }, { time (NULL) - 3600, 0 } };
    assert_int_equal (utimensat (AT_FDCWD, path, old, 0), 0);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    /* touches are rate-limited, then refresh it again */
    health_touch (path, 1000000 + HEALTH_TOUCH_MS / 2);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    health_touch (path, 1000000 + HEALTH_TOUCH_MS);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    unlink (path);
}

static void
test_health_fail_fails_the_check_at_once_until_the_next_touch (void **state)
{
    char path[] = "/tmp/herald-test-health-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    int64_t now = 5000000; /* after the times the test above used */
    health_touch (path, now);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    /* a fresh file that says why: unhealthy however recent it is */
    health_fail (path, now + 10, "no progress for 31 s with 4 changes pending");
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    char text[128] = "";
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    assert_non_null (fgets (text, sizeof text, file));
    fclose (file);
    assert_string_equal (text, "no progress for 31 s with 4 changes pending\n");
    /* the next touch clears it at once, not a touch interval later */
    health_touch (path, now + 20);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_size, 0);
    /* without a reason it still fails */
    health_fail (path, now + 30, NULL);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    health_touch (path, now + 40);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    unlink (path);
}

/* Whether fd polls readable right now. */
static bool
s_readable (int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll (&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void
test_stop_flag_and_fd_set_by_sigterm_and_sigint_sigpipe_ignored (void **state)
{
    volatile sig_atomic_t *stop = stop_on_signals ();
    assert_non_null (stop);
    assert_int_equal (*stop, 0);
    assert_true (stop_fd () >= 0);
    assert_false (s_readable (stop_fd ()));
    assert_null (stop_reason ());
    raise (SIGPIPE); /* ignored: the test goes on */
    assert_int_equal (*stop, 0);
    assert_false (s_readable (stop_fd ()));
    raise (SIGTERM);
    assert_int_equal (*stop, 1);
    assert_string_equal (stop_reason (), "SIGTERM");
    /* Readable for every poller, and stays so: nothing drains it. */
    assert_true (s_readable (stop_fd ()));
    assert_true (s_readable (stop_fd ()));
    *stop = 0;
    raise (SIGINT);
    assert_int_equal (*stop, 1);
    assert_string_equal (stop_reason (), "SIGTERM"); /* the first cause is kept */
    *stop = 0;
    stop_request ();
    assert_int_equal (*stop, 1);
    *stop = 0;
    /* An interrupted blocking call returns EINTR instead of resuming. */
    struct sigaction sa;
    sigaction (SIGTERM, NULL, &sa);
    assert_false (sa.sa_flags & SA_RESTART);
}

static void
test_option_xstr_gives_a_macros_value (void **state)
{
#define S_ANSWER 42
    assert_string_equal (OPTION_XSTR (S_ANSWER), "42");
#undef S_ANSWER
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_time_format_is_rfc3339_utc_with_milliseconds),
        cmocka_unit_test (test_config_flag_beats_env_beats_default),
        cmocka_unit_test (test_config_parse_int_rejects_garbage_and_out_of_range),
        cmocka_unit_test (test_backoff_grows_within_jitter_bounds_and_resets),
        cmocka_unit_test (test_log_level_parse),
        cmocka_unit_test (test_options_flag_beats_env_beats_default),
        cmocka_unit_test (test_options_refuse_bad_values_with_exit_code_2),
        cmocka_unit_test (test_options_check_choices_and_endpoints),
        cmocka_unit_test (test_options_start_maps_results_to_exit_codes),
        cmocka_unit_test (test_health_check_fails_when_missing_or_stale),
        cmocka_unit_test (test_health_fail_fails_the_check_at_once_until_the_next_touch),
        cmocka_unit_test (test_stop_flag_and_fd_set_by_sigterm_and_sigint_sigpipe_ignored),
        cmocka_unit_test (test_option_xstr_gives_a_macros_value),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
