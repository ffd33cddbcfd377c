/* test_secret — reading a secret from a file (common/secret.h): the line
   end trimmed, empty, over-long, multi-line and control bytes refused with
   the path and never the content, world-readable reported. */
#include "secret.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_path[] = "/tmp/herald-test-secret-XXXXXX";

static int
s_setup (void **state)
{
    int fd = mkstemp (s_path);
    if (fd < 0)
        return -1;
    close (fd);
    return 0;
}

static int
s_teardown (void **state)
{
    unlink (s_path);
    return 0;
}

static void
s_write (const char *text, size_t len)
{
    FILE *f = fopen (s_path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (text, 1, len, f), len);
    fclose (f);
}

/* secret_file_read into an 8-byte buffer (7 bytes of secret at most). */
static int
s_read (char *out, char *err)
{
    return secret_file_read (s_path, out, 8, NULL, err, 256);
}

static void
test_secret_trims_the_line_end_and_blanks (void **state)
{
    char out[8], err[256];
    s_write ("abc\n", 4);
    assert_int_equal (s_read (out, err), 0);
    assert_string_equal (out, "abc");
    s_write ("  a-b.c \r\n\n", 11);
    assert_int_equal (s_read (out, err), 0);
    assert_string_equal (out, "a-b.c");
    s_write ("1234567", 7); /* at the limit, no line end */
    assert_int_equal (s_read (out, err), 0);
    assert_string_equal (out, "1234567");
}

static void
test_secret_refuses_bad_files_without_quoting_them (void **state)
{
    char out[8], err[256];
    s_write ("12345678\n", 9); /* one byte over */
    assert_int_equal (s_read (out, err), -1);
    assert_non_null (strstr (err, "secret longer than 7 bytes"));
    assert_null (strstr (err, "12345678"));
    s_write (" \n\n", 3);
    assert_int_equal (s_read (out, err), -1);
    assert_non_null (strstr (err, "empty"));
    s_write ("ab\ncd\n", 6);
    assert_int_equal (s_read (out, err), -1);
    assert_non_null (strstr (err, "line break or control byte"));
    assert_null (strstr (err, "ab"));
    s_write ("a\0b", 3);
    assert_int_equal (s_read (out, err), -1);
    assert_int_equal (strncmp (err, s_path, strlen (s_path)), 0);
    assert_int_equal (secret_file_read ("/nonexistent/secret", out, 8, NULL, err, 256), -1);
    assert_string_equal (err, "/nonexistent/secret: No such file or directory");
}

static void
test_secret_reports_a_world_readable_file (void **state)
{
    char out[8], err[256];
    bool world = true;
    s_write ("abc\n", 4);
    assert_int_equal (chmod (s_path, 0600), 0);
    assert_int_equal (secret_file_read (s_path, out, sizeof out, &world, err, sizeof err), 0);
    assert_false (world);
    assert_int_equal (chmod (s_path, 0644), 0);
    assert_int_equal (secret_file_read (s_path, out, sizeof out, &world, err, sizeof err), 0);
    assert_true (world);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_secret_trims_the_line_end_and_blanks),
        cmocka_unit_test (test_secret_refuses_bad_files_without_quoting_them),
        cmocka_unit_test (test_secret_reports_a_world_readable_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
