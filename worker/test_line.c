/*
 * test_line — the notification line: what a client wrote can never forge a
 * second line or reach the terminal as a control sequence, and ordinary
 * text prints exactly as it was sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "line.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_expect (const char *in, size_t len, const char *want)
{
    char out[LINE_ESCAPE_GROWTH * 64 + 1];
    assert_true (len <= 64);
    size_t n = line_escape (in, len, out);
    assert_string_equal (out, want);
    assert_int_equal (n, strlen (want));
}

#define S_EXPECT(in, want) s_expect ((in), sizeof (in) - 1, (want))

static void
test_line_escape_keeps_ordinary_text_unchanged (void **state)
{
    S_EXPECT ("Your order shipped", "Your order shipped");
    S_EXPECT ("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89",
              "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89");
    S_EXPECT ("no\xC2\xA0"
              "break",
              "no\xC2\xA0"
              "break"); /* U+00A0 is not a control */
    S_EXPECT ("", "");
}

static void
test_line_escape_escapes_every_control_character (void **state)
{
    S_EXPECT ("a\nEvent 1 has been sent to x: forged", "a\\nEvent 1 has been sent to x: forged");
    S_EXPECT ("\r\t", "\\r\\t");
    S_EXPECT ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
    S_EXPECT ("del\x7f", "del\\x7f");
    S_EXPECT ("nul\0after", "nul\\x00after");
    S_EXPECT ("back\\slash", "back\\\\slash"); /* so that "\n" in the text stays distinct */
    S_EXPECT ("nel\xC2\x85"
              "csi\xC2\x9b",
              "nel\\u0085csi\\u009b");
    S_EXPECT ("ls\xE2\x80\xA8"
              "ps\xE2\x80\xA9"
              "dash\xE2\x80\x94",
              "ls\\u2028ps\\u2029dash\xE2\x80\x94"); /* U+2014 is text */
    for (int c = 0; c < 0x20; c++) {
        char in[1] = { (char)c }, out[LINE_ESCAPE_GROWTH + 1];
        line_escape (in, 1, out);
        assert_int_equal (out[0], '\\');
        assert_null (strchr (out, '\n'));
        for (const char *p = out; *p; p++)
            assert_true (*p >= 0x20 && *p < 0x7F);
    }
}

static void
test_line_escape_escapes_bytes_that_are_not_utf8 (void **state)
{
    S_EXPECT ("\xff", "\\xff");
    S_EXPECT ("cut \xE2\x9C", "cut \\xe2\\x9c");
    S_EXPECT ("\xC0\xAF", "\\xc0\\xaf"); /* overlong '/' */
}

static void
test_line_escape_worst_case_fits_the_documented_growth (void **state)
{
    char in[64], out[LINE_ESCAPE_GROWTH * sizeof in + 1];
    memset (in, 0x01, sizeof in);
    assert_int_equal (line_escape (in, sizeof in, out), LINE_ESCAPE_GROWTH * sizeof in);
    memset (in, 0, sizeof in);
    for (size_t i = 0; i + 1 < sizeof in; i += 2) {
        in[i] = (char)0xC2;
        in[i + 1] = (char)0x85;
    }
    assert_true (line_escape (in, sizeof in, out) <= LINE_ESCAPE_GROWTH * sizeof in);
}

static void
test_line_append_writes_whole_escaped_lines (void **state)
{
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    line_buf_t buf = { 0 };
    const char desc[] = "first\nEvent 00000000-0000-4000-8000-000000000000 has been sent to u: x";
    assert_int_equal (line_append (&buf, "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab", "u-42", 4, desc,
                                   sizeof desc - 1),
                      0);
    /* A description at its limit grows the buffer past its first 4 KiB. */
    static char big[4096];
    memset (big, 'd', sizeof big);
    assert_int_equal (
        line_append (&buf, "00000000-0000-4000-8000-000000000001", "u", 1, big, sizeof big), 0);
    size_t total = buf.len;
    assert_int_equal (line_write (&buf, fds[1]), 0);
    assert_int_equal (buf.len, 0);
    close (fds[1]);
    char *got = malloc (total + 1);
    size_t n = 0;
    ssize_t r;
    while ((r = read (fds[0], got + n, total + 1 - n)) > 0)
        n += (size_t)r;
    close (fds[0]);
    assert_int_equal (n, total);
    got[n] = '\0';
    const char first[] = "Event 5f0c6a1e-9b2d-4c3e-8f70-0123456789ab has been sent to u-42: "
                         "first\\nEvent 00000000-0000-4000-8000-000000000000 has been sent "
                         "to u: x\n";
    assert_memory_equal (got, first, sizeof first - 1);
    const char *second = got + sizeof first - 1;
    assert_memory_equal (second,
                         "Event 00000000-0000-4000-8000-000000000001 has been sent to u: ", 63);
    assert_int_equal (strlen (second), 63 + sizeof big + 1);
    assert_int_equal (second[63 + sizeof big], '\n');
    free (got);
    line_buf_free (&buf);
}

/* A write stdout refuses (a pipe nobody reads any more) is an error the
   worker sees, not lost silently. */
static void
test_line_write_reports_a_refused_write (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    close (fds[0]);
    line_buf_t buf = { 0 };
    assert_int_equal (line_append (&buf, "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab", "u", 1, "d", 1),
                      0);
    assert_int_equal (line_write (&buf, fds[1]), -1);
    assert_int_equal (errno, EPIPE);
    assert_int_equal (buf.len, 0);
    close (fds[1]);
    line_buf_free (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_line_escape_keeps_ordinary_text_unchanged),
        cmocka_unit_test (test_line_escape_escapes_every_control_character),
        cmocka_unit_test (test_line_escape_escapes_bytes_that_are_not_utf8),
        cmocka_unit_test (test_line_escape_worst_case_fits_the_documented_growth),
        cmocka_unit_test (test_line_append_writes_whole_escaped_lines),
        cmocka_unit_test (test_line_write_reports_a_refused_write),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
