/* test_log — the JSON log format (common/log.h): one object per line with
   time, level, service and message, the thread's event and request ids
   when set and gone when cleared, and a message that would break a naive
   writer (quotes, backslashes, a line break, control and invalid UTF-8
   bytes) escaped so the line still parses; valid UTF-8 passes unchanged. */
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs the log calls of fn with stderr going to a file; returns what was
   written (caller frees). */
static char *
s_capture (void (*fn) (void))
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    int saved = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    fn ();
    dup2 (saved, STDERR_FILENO);
    close (saved);
    off_t size = lseek (fd, 0, SEEK_END);
    char *text = calloc (1, (size_t)size + 1);
    assert_int_equal (pread (fd, text, (size_t)size, 0), size);
    close (fd);
    unlink (path);
    return text;
}

static void
s_lines (void)
{
    log_init ("herald-test", LOG_LEVEL_DEBUG);
    log_set_json (true);
    log_write (LOG_LEVEL_WARN, "said \"%s\" \\ then\n%s", "hi", "next\x01\x7f \xff\xc3\xa9");
    log_context_set ("5f0c1d2e-0000-4000-8000-000000000001", "req-42");
    log_write (LOG_LEVEL_INFO, "with context");
    log_context_set (NULL, NULL);
    log_write (LOG_LEVEL_ERROR, "without");
    log_set_json (false);
    log_write (LOG_LEVEL_INFO, "text again");
}

static void
test_json_lines_escape_everything_and_carry_the_context (void **state)
{
    (void)state;
    char *text = s_capture (s_lines);
    char *line1 = text, *line2 = strchr (line1, '\n') + 1, *line3 = strchr (line2, '\n') + 1,
         *line4 = strchr (line3, '\n') + 1;
    assert_memory_equal (line1, "{\"time\":\"", 9);
    assert_non_null (strstr (line1, "\",\"level\":\"warn\",\"service\":\"herald-test\","
                                    "\"message\":\"said \\\"hi\\\" \\\\ then\\u000anext\\u0001"
                                    "\\u007f \\ufffd\xc3\xa9\"}\n"));
    assert_true (strstr (line1, "}\n") + 2 == line2);
    assert_non_null (strstr (line2, "\"level\":\"info\",\"service\":\"herald-test\",\"message\":"
                                    "\"with context\",\"event_id\":\"5f0c1d2e-0000-4000-8000-"
                                    "000000000001\",\"request_id\":\"req-42\"}\n"));
    assert_non_null (strstr (line3, "\"message\":\"without\"}\n"));
    assert_true (strstr (line3, "}\n") + 2 == line4);
    assert_non_null (strstr (line4, " INFO herald-test: text again\n"));
    free (text);
}

static void
test_log_format_parses_text_and_json_only (void **state)
{
    (void)state;
    bool json = true;
    assert_int_equal (log_format_parse ("text", &json), 0);
    assert_false (json);
    assert_int_equal (log_format_parse ("json", &json), 0);
    assert_true (json);
    assert_int_equal (log_format_parse ("JSON", &json), -1);
    assert_int_equal (log_format_parse (NULL, &json), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_json_lines_escape_everything_and_carry_the_context),
        cmocka_unit_test (test_log_format_parses_text_and_json_only),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
