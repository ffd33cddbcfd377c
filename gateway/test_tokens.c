/* test_tokens — the tokens file parser, the hash and the lookup
   (gateway/tokens.h): every kind of bad line is refused with its line
   number, limits at limit and limit + 1. */
#include "tokens.h"

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

/* SHA-256("test") and SHA-256("other"). */
#define S_HASH_TEST "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define S_HASH_OTHER "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa"

static tokens_t *
s_parse (const char *text, char *err, size_t size)
{
    err[0] = '\0';
    return tokens_parse (text, strlen (text), "tokens.txt", err, size);
}

/* Asserts text is refused with an error starting with prefix. */
static void
s_assert_refused (const char *text, const char *prefix)
{
    char err[512];
    tokens_t *t = s_parse (text, err, sizeof err);
    if (t || strncmp (err, prefix, strlen (prefix)) != 0)
        fail_msg ("'%s': expected an error starting '%s', got '%s'", text, prefix,
                  t ? "(accepted)" : err);
    tokens_destroy (&t);
}

static void
test_tokens_hash_is_sha256 (void **state)
{
    uint8_t hash[TOKENS_HASH_LEN];
    char hex[TOKENS_HASH_HEX + 1];
    tokens_hash ("test", 4, hash);
    tokens_hash_hex (hash, hex);
    assert_string_equal (hex, S_HASH_TEST);
    tokens_hash ("", 0, hash);
    tokens_hash_hex (hash, hex);
    assert_string_equal (hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
test_tokens_parses_lines_comments_and_blanks (void **state)
{
    char err[256];
    tokens_t *t = s_parse ("# Herald API tokens\n"
                           "\n"
                           "   \t\n"
                           "worker read,write " S_HASH_TEST "\n"
                           "  # an indented comment\n"
                           "ops\tadmin\t\t" S_HASH_OTHER "\r\n",
                           err, sizeof err);
    assert_non_null (t);
    assert_int_equal (tokens_size (t), 2);
    const char *name = NULL;
    assert_int_equal (tokens_lookup (t, "test", 4, &name), TOKENS_SCOPE_READ | TOKENS_SCOPE_WRITE);
    assert_string_equal (name, "worker");
    assert_int_equal (tokens_lookup (t, "other", 5, &name), TOKENS_SCOPE_ADMIN);
    assert_string_equal (name, "ops");
    tokens_destroy (&t);
    assert_null (t);
}

static void
test_tokens_lookup_refuses_unknown_empty_and_overlong_secrets (void **state)
{
    char err[256];
    tokens_t *t = s_parse ("w read " S_HASH_TEST, err, sizeof err); /* no final newline */
    assert_non_null (t);
    const char *name = "x";
    assert_int_equal (tokens_lookup (t, "tes", 3, &name), 0);
    assert_null (name);
    assert_int_equal (tokens_lookup (t, "test ", 5, NULL), 0);
    assert_int_equal (tokens_lookup (t, "TEST", 4, NULL), 0);
    assert_int_equal (tokens_lookup (t, "", 0, NULL), 0);
    char longest[TOKENS_SECRET_MAX + 1];
    memset (longest, 'a', sizeof longest);
    assert_int_equal (tokens_lookup (t, longest, TOKENS_SECRET_MAX + 1, NULL), 0);
    assert_int_equal (tokens_lookup (NULL, "test", 4, NULL), 0);
    tokens_destroy (&t);
}

static void
test_tokens_secret_at_its_length_limit_is_looked_up (void **state)
{
    char secret[TOKENS_SECRET_MAX];
    memset (secret, 's', sizeof secret);
    uint8_t hash[TOKENS_HASH_LEN];
    char hex[TOKENS_HASH_HEX + 1], text[256], err[256];
    tokens_hash (secret, sizeof secret, hash);
    tokens_hash_hex (hash, hex);
    snprintf (text, sizeof text, "long read %s\n", hex);
    tokens_t *t = s_parse (text, err, sizeof err);
    assert_non_null (t);
    assert_int_equal (tokens_lookup (t, secret, sizeof secret, NULL), TOKENS_SCOPE_READ);
    tokens_destroy (&t);
}

static void
test_tokens_empty_file_is_an_empty_set (void **state)
{
    char err[256];
    tokens_t *t = s_parse ("# nobody yet\n", err, sizeof err);
    assert_non_null (t);
    assert_int_equal (tokens_size (t), 0);
    assert_int_equal (tokens_lookup (t, "test", 4, NULL), 0);
    tokens_destroy (&t);
}

static void
test_tokens_refuses_each_bad_line_with_its_number (void **state)
{
    s_assert_refused ("# ok\nworker read\n", "tokens.txt:2: too few fields");
    s_assert_refused ("worker\n", "tokens.txt:1: too few fields");
    s_assert_refused ("\n\nw read " S_HASH_TEST " extra\n", "tokens.txt:3: too many fields");
    s_assert_refused ("w read " S_HASH_TEST " # trailing comment\n", "tokens.txt:1: too many");
    s_assert_refused ("wö read " S_HASH_TEST "\n", "tokens.txt:1: bad token name");
    s_assert_refused ("a/b read " S_HASH_TEST "\n", "tokens.txt:1: bad token name");
    s_assert_refused ("w reed " S_HASH_TEST "\n", "tokens.txt:1: bad scopes 'reed'");
    s_assert_refused ("w read, " S_HASH_TEST "\n", "tokens.txt:1: bad scopes 'read,'");
    s_assert_refused ("w read,,write " S_HASH_TEST "\n", "tokens.txt:1: bad scopes");
    s_assert_refused ("w read,read " S_HASH_TEST "\n", "tokens.txt:1: bad scopes");
    s_assert_refused ("w Read " S_HASH_TEST "\n", "tokens.txt:1: bad scopes");
    s_assert_refused ("w read 9f86d0\n", "tokens.txt:1: bad hash");
    s_assert_refused ("w read " S_HASH_TEST "0\n", "tokens.txt:1: bad hash");
    s_assert_refused ("w read 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\n",
                      "tokens.txt:1: bad hash");
}

static void
test_tokens_refuses_duplicate_names_and_hashes (void **state)
{
    s_assert_refused ("a read " S_HASH_TEST "\nb read " S_HASH_OTHER "\na write " S_HASH_OTHER "\n",
                      "tokens.txt:3: token name 'a' given twice");
    s_assert_refused ("a read " S_HASH_TEST "\n#\nb write " S_HASH_TEST "\n",
                      "tokens.txt:3: same hash as token 'a'");
    /* Hex case does not make a different hash. */
    char upper[] = "b write " S_HASH_TEST "\n";
    for (char *p = upper + 8; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    char text[256];
    snprintf (text, sizeof text, "a read %s\n%s", S_HASH_TEST, upper);
    s_assert_refused (text, "tokens.txt:2: same hash as token 'a'");
}

static void
test_tokens_refuses_nul_bytes (void **state)
{
    static const char text[] = "a read " S_HASH_TEST "\nb\0 read " S_HASH_OTHER "\n";
    char err[256];
    tokens_t *t = tokens_parse (text, sizeof text - 1, "f", err, sizeof err);
    assert_null (t);
    assert_string_equal (err, "f:2: NUL byte in the line");
}

static void
test_tokens_name_at_limit_and_over (void **state)
{
    char text[256], err[256], name[TOKENS_NAME_MAX + 2];
    memset (name, 'n', TOKENS_NAME_MAX);
    name[TOKENS_NAME_MAX] = '\0';
    snprintf (text, sizeof text, "%s read %s\n", name, S_HASH_TEST);
    tokens_t *t = s_parse (text, err, sizeof err);
    assert_non_null (t);
    const char *found = NULL;
    assert_int_equal (tokens_lookup (t, "test", 4, &found), TOKENS_SCOPE_READ);
    assert_string_equal (found, name);
    tokens_destroy (&t);
    assert_true (tokens_name_valid (name));
    strcat (name, "n");
    assert_false (tokens_name_valid (name));
    snprintf (text, sizeof text, "%s read %s\n", name, S_HASH_TEST);
    s_assert_refused (text, "tokens.txt:1: bad token name");
}

static void
test_tokens_line_at_limit_and_over (void **state)
{
    /* A line of exactly TOKENS_LINE_MAX bytes (blanks pad it) is fine. */
    char line[TOKENS_LINE_MAX + 3];
    int n = snprintf (line, sizeof line, "w read %s", S_HASH_TEST);
    memset (line + n, ' ', TOKENS_LINE_MAX - (size_t)n);
    line[TOKENS_LINE_MAX] = '\n';
    line[TOKENS_LINE_MAX + 1] = '\0';
    char err[256];
    tokens_t *t = s_parse (line, err, sizeof err);
    assert_non_null (t);
    tokens_destroy (&t);
    line[TOKENS_LINE_MAX] = ' ';
    line[TOKENS_LINE_MAX + 1] = '\n';
    line[TOKENS_LINE_MAX + 2] = '\0';
    s_assert_refused (line, "tokens.txt:1: line over 1024 bytes");
}

/* A file of n distinct tokens t0..t(n-1) with the secrets "s<i>". */
static char *
s_many (size_t n, size_t *len)
{
    char *text = malloc (n * 96 + 1);
    assert_non_null (text);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        char secret[32], hex[TOKENS_HASH_HEX + 1];
        uint8_t hash[TOKENS_HASH_LEN];
        snprintf (secret, sizeof secret, "s%zu", i);
        tokens_hash (secret, strlen (secret), hash);
        tokens_hash_hex (hash, hex);
        at += (size_t)sprintf (text + at, "t%zu read %s\n", i, hex);
    }
    *len = at;
    return text;
}

static void
test_tokens_count_at_limit_and_over (void **state)
{
    size_t len = 0;
    char err[256];
    char *text = s_many (TOKENS_MAX + 1, &len);
    /* The first TOKENS_MAX lines alone are accepted... */
    const char *last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    tokens_t *t = tokens_parse (text, (size_t)(last - text), "f", err, sizeof err);
    assert_non_null (t);
    assert_int_equal (tokens_size (t), TOKENS_MAX);
    assert_int_equal (tokens_lookup (t, "s4095", 5, NULL), TOKENS_SCOPE_READ);
    tokens_destroy (&t);
    /* ...one more is refused, at its line. */
    t = tokens_parse (text, len, "f", err, sizeof err);
    assert_null (t);
    assert_string_equal (err, "f:4097: more than 4096 tokens");
    free (text);
}

static void
test_tokens_file_size_at_limit_and_over (void **state)
{
    char *text = malloc (TOKENS_FILE_MAX + 1);
    assert_non_null (text);
    memset (text, '#', TOKENS_FILE_MAX + 1);
    for (size_t i = 1000; i < TOKENS_FILE_MAX + 1; i += 1000)
        text[i] = '\n';
    char err[256];
    tokens_t *t = tokens_parse (text, TOKENS_FILE_MAX, "f", err, sizeof err);
    assert_non_null (t);
    assert_int_equal (tokens_size (t), 0);
    tokens_destroy (&t);
    t = tokens_parse (text, TOKENS_FILE_MAX + 1, "f", err, sizeof err);
    assert_null (t);
    assert_string_equal (err, "f: file over 1048576 bytes");
    free (text);
}

static void
test_tokens_scopes_parse (void **state)
{
    unsigned s = 0;
    assert_int_equal (tokens_scopes_parse ("read", 4, &s), 0);
    assert_int_equal (s, TOKENS_SCOPE_READ);
    assert_int_equal (tokens_scopes_parse ("admin,write,read", 16, &s), 0);
    assert_int_equal (s, TOKENS_SCOPE_READ | TOKENS_SCOPE_WRITE | TOKENS_SCOPE_ADMIN);
    assert_int_equal (tokens_scopes_parse ("", 0, &s), -1);
    assert_int_equal (tokens_scopes_parse (",", 1, &s), -1);
    assert_int_equal (tokens_scopes_parse ("read,", 5, &s), -1);
    assert_int_equal (tokens_scopes_parse ("readwrite", 9, &s), -1);
    assert_int_equal (tokens_scopes_parse ("write,write", 11, &s), -1);
    assert_string_equal (tokens_scope_name (TOKENS_SCOPE_WRITE), "write");
    assert_string_equal (tokens_scope_name (3), "");
}

static void
test_tokens_load_reads_a_file_and_reports_world_readable (void **state)
{
    char path[] = "/tmp/herald-test-tokens-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    static const char text[] = "w read " S_HASH_TEST "\n";
    assert_int_equal (write (fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close (fd);
    char err[512];
    bool world = true;
    assert_int_equal (chmod (path, 0600), 0);
    tokens_t *t = tokens_load (path, &world, err, sizeof err);
    assert_non_null (t);
    assert_false (world);
    assert_int_equal (tokens_lookup (t, "test", 4, NULL), TOKENS_SCOPE_READ);
    tokens_destroy (&t);
    assert_int_equal (chmod (path, 0644), 0);
    t = tokens_load (path, &world, err, sizeof err);
    assert_non_null (t);
    assert_true (world);
    tokens_destroy (&t);
    unlink (path);
    t = tokens_load (path, &world, err, sizeof err);
    assert_null (t);
    assert_non_null (strstr (err, "No such file or directory"));
    assert_int_equal (strncmp (err, path, strlen (path)), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tokens_hash_is_sha256),
        cmocka_unit_test (test_tokens_parses_lines_comments_and_blanks),
        cmocka_unit_test (test_tokens_lookup_refuses_unknown_empty_and_overlong_secrets),
        cmocka_unit_test (test_tokens_secret_at_its_length_limit_is_looked_up),
        cmocka_unit_test (test_tokens_empty_file_is_an_empty_set),
        cmocka_unit_test (test_tokens_refuses_each_bad_line_with_its_number),
        cmocka_unit_test (test_tokens_refuses_duplicate_names_and_hashes),
        cmocka_unit_test (test_tokens_refuses_nul_bytes),
        cmocka_unit_test (test_tokens_name_at_limit_and_over),
        cmocka_unit_test (test_tokens_line_at_limit_and_over),
        cmocka_unit_test (test_tokens_count_at_limit_and_over),
        cmocka_unit_test (test_tokens_file_size_at_limit_and_over),
        cmocka_unit_test (test_tokens_scopes_parse),
        cmocka_unit_test (test_tokens_load_reads_a_file_and_reports_world_readable),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
