/*
 * test_list_cursor — the opaque cursor of a list merged across shards
 * (list_cursor.h): round trips, the bounds (1024 shards, the longest text,
 * one past each), and every way a client may hand back text that is not a
 * cursor, each refused as malformed without reading past it.
 */
#include "list_cursor.h"

#include <nettle/base64.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The text form of bytes, in a new string. */
static char *
s_text (const uint8_t *bytes, size_t len)
{
    char *out = malloc (BASE64_ENCODE_LENGTH (len) + 4);
    assert_non_null (out);
    list_cursor_text (bytes, len, out);
    return out;
}

/* A binary cursor: version 1, epoch, shards, then entries (index, id of
   sixteen bytes of index + 1); returns its length. */
static size_t
s_binary (uint8_t *buf, uint64_t epoch, unsigned shards, const unsigned *index, size_t entries)
{
    size_t n = 0;
    buf[n++] = LIST_CURSOR_VERSION;
    for (int shift = 56; shift >= 0; shift -= 8)
        buf[n++] = (uint8_t)(epoch >> shift);
    buf[n++] = (uint8_t)(shards >> 8);
    buf[n++] = (uint8_t)shards;
    for (size_t e = 0; e < entries; e++) {
        buf[n++] = (uint8_t)(index[e] >> 8);
        buf[n++] = (uint8_t)index[e];
        memset (buf + n, (int)(index[e] + 1), 16);
        n += 16;
    }
    return n;
}

static list_cursor_result_t
s_decode_binary (const uint8_t *buf, size_t len)
{
    char *text = s_text (buf, len);
    list_cursor_t *cursor = NULL;
    list_cursor_result_t rc = list_cursor_decode (text, strlen (text), &cursor);
    assert_true ((rc == LIST_CURSOR_OK) == (cursor != NULL));
    list_cursor_destroy (&cursor);
    free (text);
    return rc;
}

static void
test_cursor_round_trips_its_started_shards (void **state)
{
    (void)state;
    list_cursor_t *cursor = list_cursor_new (0x0102030405060708ULL, 3);
    assert_non_null (cursor);
    assert_null (list_cursor_encode (cursor)); /* nothing given: never handed out */
    uint8_t a[16], c[16];
    memset (a, 0xaa, 16);
    memset (c, 0xcc, 16);
    list_cursor_set (cursor, 2, c);
    list_cursor_set (cursor, 0, a);
    char *text = list_cursor_encode (cursor);
    assert_non_null (text);
    assert_int_equal (strlen (text), 15 + 24 * 2);
    list_cursor_t *back = NULL;
    assert_int_equal (list_cursor_decode (text, strlen (text), &back), LIST_CURSOR_OK);
    assert_int_equal (list_cursor_epoch (back), 0x0102030405060708ULL);
    assert_int_equal (list_cursor_shards (back), 3);
    assert_memory_equal (list_cursor_last (back, 0), a, 16);
    assert_null (list_cursor_last (back, 1));
    assert_memory_equal (list_cursor_last (back, 2), c, 16);
    char *again = list_cursor_encode (back);
    assert_string_equal (again, text);
    free (again);
    free (text);
    list_cursor_destroy (&back);
    list_cursor_destroy (&cursor);
    assert_null (cursor);
}

static void
test_cursor_takes_1024_shards_and_refuses_1025 (void **state)
{
    (void)state;
    assert_null (list_cursor_new (1, SHARD_MAP_SHARDS_MAX + 1));
    assert_null (list_cursor_new (1, 1)); /* one shard keeps the plain event id */
    list_cursor_t *cursor = list_cursor_new (9, SHARD_MAP_SHARDS_MAX);
    assert_non_null (cursor);
    uint8_t id[16] = { 1 };
    for (size_t i = 0; i < SHARD_MAP_SHARDS_MAX; i++)
        list_cursor_set (cursor, i, id);
    char *text = list_cursor_encode (cursor);
    assert_int_equal (strlen (text), LIST_CURSOR_TEXT_MAX);
    list_cursor_t *back = NULL;
    assert_int_equal (list_cursor_decode (text, strlen (text), &back), LIST_CURSOR_OK);
    assert_int_equal (list_cursor_shards (back), SHARD_MAP_SHARDS_MAX);
    list_cursor_destroy (&back);
    /* One character past the longest text: refused before decoding. */
    char *longer = malloc (LIST_CURSOR_TEXT_MAX + 2);
    memcpy (longer, text, LIST_CURSOR_TEXT_MAX);
    longer[LIST_CURSOR_TEXT_MAX] = 'A';
    assert_int_equal (list_cursor_decode (longer, LIST_CURSOR_TEXT_MAX + 1, &back),
                      LIST_CURSOR_MALFORMED);
    assert_null (back);
    free (longer);
    free (text);
    list_cursor_destroy (&cursor);

    uint8_t *buf = malloc (LIST_CURSOR_BYTES_MAX + LIST_CURSOR_ENTRY);
    unsigned index[2] = { 0, 1024 };
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 1, 1024, index, 1)), LIST_CURSOR_OK);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 1, 1025, index, 1)),
                      LIST_CURSOR_MALFORMED);
    index[1] = 1023;
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 1, 1024, index, 2)), LIST_CURSOR_OK);
    index[1] = 1024; /* an index past the map's shards */
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 1, 1024, index, 2)),
                      LIST_CURSOR_MALFORMED);
    free (buf);
}

static void
test_cursor_refuses_what_it_could_not_have_written (void **state)
{
    (void)state;
    uint8_t buf[LIST_CURSOR_HEAD + 4 * LIST_CURSOR_ENTRY];
    unsigned ok[2] = { 0, 2 }, unsorted[2] = { 2, 0 }, twice[2] = { 1, 1 };
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, ok, 2)), LIST_CURSOR_OK);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, unsorted, 2)),
                      LIST_CURSOR_MALFORMED);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, twice, 2)), LIST_CURSOR_MALFORMED);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, ok, 0)), LIST_CURSOR_MALFORMED);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 1, ok, 1)), LIST_CURSOR_MALFORMED);
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, ok, 2) - 1),
                      LIST_CURSOR_MALFORMED); /* truncated entry */
    unsigned three[4] = { 0, 1, 2, 2 };
    assert_int_equal (s_decode_binary (buf, s_binary (buf, 5, 3, three, 4)),
                      LIST_CURSOR_MALFORMED); /* more entries than shards */
    size_t n = s_binary (buf, 5, 3, ok, 1);
    buf[0] = LIST_CURSOR_VERSION + 1;
    assert_int_equal (s_decode_binary (buf, n), LIST_CURSOR_MALFORMED);

    s_binary (buf, 5, 3, ok, 1);
    char *good = s_text (buf, n);
    size_t len = strlen (good);
    list_cursor_t *cursor = NULL;
    assert_int_equal (list_cursor_decode (good, len, &cursor), LIST_CURSOR_OK);
    list_cursor_destroy (&cursor);
    const char *bad[] = {
        "",
        "00000000-0000-4000-8000-000000000000", /* an event id: one shard's cursor */
        "not a cursor",
        "%%%%",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (list_cursor_decode (bad[i], strlen (bad[i]), &cursor),
                          LIST_CURSOR_MALFORMED);
        assert_null (cursor);
    }
    char *edit = malloc (len + 3);
    const char swaps[] = { '+', '/', '=', ' ', '\n', '\0', '.' };
    for (size_t i = 0; i < sizeof swaps; i++) {
        memcpy (edit, good, len);
        edit[len / 2] = swaps[i];
        assert_int_equal (list_cursor_decode (edit, len, &cursor), LIST_CURSOR_MALFORMED);
    }
    memcpy (edit, good, len);
    memcpy (edit + len, "==", 2); /* padding */
    assert_int_equal (list_cursor_decode (edit, len + 2, &cursor), LIST_CURSOR_MALFORMED);
    assert_int_equal (list_cursor_decode (good, len - 1, &cursor), LIST_CURSOR_MALFORMED);
    /* 29 bytes are 39 characters, the last carrying 4 data bits and 2 zero
       ones: setting one would be a second text for the same bytes. */
    memcpy (edit, good, len);
    assert_int_equal (len % 4, 3);
    edit[len - 1] = edit[len - 1] == 'A' ? 'B' : (char)(edit[len - 1] + 1);
    assert_int_equal (list_cursor_decode (edit, len, &cursor), LIST_CURSOR_MALFORMED);
    assert_null (cursor);
    free (edit);
    free (good);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cursor_round_trips_its_started_shards),
        cmocka_unit_test (test_cursor_takes_1024_shards_and_refuses_1025),
        cmocka_unit_test (test_cursor_refuses_what_it_could_not_have_written),
    };
    return cmocka_run_group_tests_name ("list_cursor", tests, NULL, NULL);
}
