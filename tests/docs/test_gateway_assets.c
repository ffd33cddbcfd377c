/*
 * test_gateway_assets — the arrays herald_gateway_assets compiles in hold
 * exactly the bytes of gateway/assets/openapi.json and docs.html, followed
 * by a NUL that the length does not count. Guards embed.cmake: a build that
 * embedded a stale or truncated copy would serve documentation that is not
 * the one in the repository.
 */
#include "assets.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Reads a whole file; the caller frees. Fails the test when it cannot. */
static unsigned char *
s_slurp (const char *name, size_t *len)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", ASSETS_DIR, name);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long size = ftell (file);
    assert_true (size >= 0);
    rewind (file);
    unsigned char *data = malloc ((size_t)size + 1);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, (size_t)size, file), (size_t)size);
    fclose (file);
    *len = (size_t)size;
    return data;
}

static void
s_assert_embedded (const char *name, const unsigned char *embedded, size_t embedded_len)
{
    size_t len;
    unsigned char *file = s_slurp (name, &len);
    assert_int_equal (embedded_len, len);
    assert_memory_equal (embedded, file, len);
    assert_int_equal (embedded[embedded_len], 0);
    free (file);
}

static void
test_openapi_json_embedded_byte_for_byte (void **state)
{
    s_assert_embedded ("openapi.json", gateway_asset_openapi_json, gateway_asset_openapi_json_len);
    assert_non_null (strstr ((const char *)gateway_asset_openapi_json, "\"openapi\": \"3.0.3\""));
}

static void
test_docs_html_embedded_byte_for_byte (void **state)
{
    s_assert_embedded ("docs.html", gateway_asset_docs_html, gateway_asset_docs_html_len);
    assert_memory_equal (gateway_asset_docs_html, "<!DOCTYPE html>", 15);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_openapi_json_embedded_byte_for_byte),
        cmocka_unit_test (test_docs_html_embedded_byte_for_byte),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
