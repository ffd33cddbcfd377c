/*
 * fuzz_list_cursor — the opaque cursor of a list merged across shards
 * (gateway/list_cursor.h), the `after` a client hands back, on arbitrary
 * bytes: first as the text itself, then as the binary a text would carry
 * (base64url-encoded here), which reaches the checks past the alphabet.
 *
 * The oracle: a refusal leaves nothing behind; an accepted cursor has 2 to
 * 1024 shards and at least one started, and encodes back to exactly the
 * text it came from (one cursor, one text), decoding again to the same
 * cursor.
 */
#include "fuzz_check.h"
#include "list_cursor.h"

#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

static void
s_check (const char *text, size_t len)
{
    list_cursor_t *cursor = (list_cursor_t *)1;
    list_cursor_result_t rc = list_cursor_decode (text, len, &cursor);
    if (rc != LIST_CURSOR_OK) {
        FUZZ_CHECK (cursor == NULL && rc == LIST_CURSOR_MALFORMED);
        return;
    }
    FUZZ_CHECK (len <= LIST_CURSOR_TEXT_MAX);
    size_t shards = list_cursor_shards (cursor), started = 0;
    FUZZ_CHECK (shards >= 2 && shards <= SHARD_MAP_SHARDS_MAX);
    for (size_t i = 0; i < shards; i++)
        started += list_cursor_last (cursor, i) != NULL;
    FUZZ_CHECK (started >= 1 && len == 15 + 24 * started);
    char *again = list_cursor_encode (cursor);
    FUZZ_CHECK (again && strlen (again) == len && memcmp (again, text, len) == 0);
    list_cursor_t *back = NULL;
    FUZZ_CHECK (list_cursor_decode (again, len, &back) == LIST_CURSOR_OK);
    FUZZ_CHECK (list_cursor_epoch (back) == list_cursor_epoch (cursor));
    for (size_t i = 0; i < shards; i++) {
        const uint8_t *a = list_cursor_last (cursor, i), *b = list_cursor_last (back, i);
        FUZZ_CHECK ((a == NULL) == (b == NULL) && (!a || memcmp (a, b, 16) == 0));
    }
    free (again);
    list_cursor_destroy (&back);
    list_cursor_destroy (&cursor);
    FUZZ_CHECK (cursor == NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check ((const char *)data, size);
    if (size > LIST_CURSOR_BYTES_MAX + 32)
        return 0;
    char *text = malloc (BASE64_ENCODE_LENGTH (size) + 4);
    FUZZ_CHECK (text != NULL);
    size_t n = list_cursor_text (data, size, text);
    s_check (text, n);
    free (text);
    return 0;
}
