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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
test_line_print_writes_one_line (void **state)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    assert_non_null (out);
    const char desc[] = "first\nEvent 00000000-0000-4000-8000-000000000000 has been sent to u: x";
    assert_int_equal (
        line_print (out, "5f0c6a1e-9b2d-4c3e-8f70-0123456789ab", "u-42", 4, desc, sizeof desc - 1),
        0);
    fclose (out);
    assert_string_equal (buf, "Event 5f0c6a1e-9b2d-4c3e-8f70-0123456789ab has been sent to u-42: "
                              "first\\nEvent 00000000-0000-4000-8000-000000000000 has been sent "
                              "to u: x\n");
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_line_escape_keeps_ordinary_text_unchanged),
        cmocka_unit_test (test_line_escape_escapes_every_control_character),
        cmocka_unit_test (test_line_escape_escapes_bytes_that_are_not_utf8),
        cmocka_unit_test (test_line_escape_worst_case_fits_the_documented_growth),
        cmocka_unit_test (test_line_print_writes_one_line),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
