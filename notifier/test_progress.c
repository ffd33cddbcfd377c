/* Unit tests for the notifier's progress judge (progress.c) and the health
   file it keeps for --check. */
#include "progress.h"

#include "health.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define STALL_MS 2000

static void
test_progress_an_empty_feed_is_never_a_stall (void **state)
{
    progress_t *p = progress_new (STALL_MS, 1000);
    assert_int_equal (progress_stalled_ms (p, 1000 + 10 * STALL_MS), 0); /* nothing read yet */
    progress_feed (p, 0, 2000);
    assert_int_equal (progress_stalled_ms (p, 2000 + 100 * STALL_MS), 0);
    progress_destroy (&p);
    assert_null (p);
}

static void
test_progress_changes_pending_without_an_advance_stall_after_the_bound (void **state)
{
    progress_t *p = progress_new (STALL_MS, 0);
    progress_feed (p, 0, 1000); /* idle until 1000, then changes arrive */
    progress_feed (p, 3, 1050);
    progress_feed (p, 3, 2500);
    assert_int_equal (progress_stalled_ms (p, 1000 + STALL_MS - 1), 0);
    assert_int_equal (progress_stalled_ms (p, 1000 + STALL_MS), STALL_MS);
    assert_int_equal (progress_stalled_ms (p, 1000 + 5 * STALL_MS), 5 * STALL_MS);
    progress_destroy (&p);
}

static void
test_progress_an_advance_or_a_drained_feed_ends_the_stall (void **state)
{
    progress_t *p = progress_new (STALL_MS, 0);
    progress_feed (p, 7, 10);
    assert_true (progress_stalled_ms (p, 3 * STALL_MS) > 0);
    progress_advanced (p, 3 * STALL_MS);
    assert_int_equal (progress_stalled_ms (p, 4 * STALL_MS - 1), 0);
    assert_true (progress_stalled_ms (p, 4 * STALL_MS) > 0); /* still pending, stuck again */
    progress_feed (p, 0, 4 * STALL_MS + 1);
    assert_int_equal (progress_stalled_ms (p, 10 * STALL_MS), 0);
    progress_destroy (&p);
}

/* Makes path (a mkstemp template) a name no file has yet. */
static void
s_fresh_path (char *path)
{
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    unlink (path);
}

static void
test_progress_report_keeps_the_health_file_truthful (void **state)
{
    char path[] = "/tmp/herald-test-progress-XXXXXX";
    s_fresh_path (path);
    int64_t t = 1000000;
    progress_t *p = progress_new (STALL_MS, t);
    /* not relaying (disconnected): the file is left to age out */
    progress_report (p, path, false, t);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    /* relaying, idle: healthy */
    progress_feed (p, 0, t);
    progress_report (p, path, true, t);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    /* connected and reading, but changes wait and nothing is confirmed */
    progress_feed (p, 4, t + 100);
    progress_report (p, path, true, t + STALL_MS - 1);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    progress_report (p, path, true, t + STALL_MS);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_true (st.st_size > 0); /* the reason, for --check to print */
    /* a confirm: healthy again at once */
    progress_advanced (p, t + STALL_MS + 10);
    progress_report (p, path, true, t + STALL_MS + 10);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    /* stalled while disconnected fails too, with the reason */
    progress_report (p, path, false, t + 3 * STALL_MS);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    assert_int_equal (stat (path, &st), 0);
    assert_true (st.st_size > 0);
    progress_destroy (&p);
    unlink (path);
}

/* A relay blocked by a full queue is connected and stalled: --check fails
   once the stall is long enough, and the health file says why. */
static void
test_progress_names_a_full_queue_in_the_stall (void **state)
{
    char path[] = "/tmp/herald-test-progress-XXXXXX";
    s_fresh_path (path);
    int64_t t = 1000000;
    progress_t *p = progress_new (STALL_MS, t);
    progress_feed (p, 7, t);
    progress_blocked (p, "RabbitMQ refuses publishes: the queue is full");
    progress_report (p, path, true, t + STALL_MS - 1);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    progress_report (p, path, true, t + STALL_MS);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), -1);
    char text[512] = "";
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    assert_non_null (strstr (text, "the queue is full"));
    /* the queue takes publishes again: healthy at the next report */
    progress_blocked (p, NULL);
    progress_advanced (p, t + STALL_MS + 5);
    progress_report (p, path, true, t + STALL_MS + 5);
    assert_int_equal (health_check (path, HEALTH_MAX_AGE_MS), 0);
    progress_destroy (&p);
    unlink (path);
}

int
main (void)
{
    log_init ("test_progress", LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_progress_an_empty_feed_is_never_a_stall),
        cmocka_unit_test (test_progress_changes_pending_without_an_advance_stall_after_the_bound),
        cmocka_unit_test (test_progress_an_advance_or_a_drained_feed_ends_the_stall),
        cmocka_unit_test (test_progress_report_keeps_the_health_file_truthful),
        cmocka_unit_test (test_progress_names_a_full_queue_in_the_stall),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
