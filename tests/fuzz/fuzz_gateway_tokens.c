/*
 * fuzz_gateway_tokens — the gateway's tokens file parser (gateway/tokens.h)
 * on arbitrary bytes: an operator writes the file, and a typo, a stray
 * binary or a truncated copy must be refused with its line, never crash
 * the gateway at start or on SIGHUP.
 *
 * The oracle counts lines on its own: a set that parses holds exactly one
 * token per line that is neither blank nor a comment, each found by its
 * name's secret-free lookup (a lookup of the input itself answers a valid
 * scope mask or 0); a refusal names "fuzz:" and either no line or a line
 * that exists in the input.
 */
#include "fuzz_check.h"
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

/* Lines holding something other than blanks and not starting with '#'. */
static size_t
s_token_lines (const uint8_t *data, size_t size, size_t *lines)
{
    size_t n = 0, at = 0;
    *lines = 0;
    while (at < size) {
        (*lines)++;
        const uint8_t *nl = memchr (data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t i = at;
        while (i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
            i++;
        if (i < end && data[i] != '#')
            n++;
        at = end + 1;
    }
    return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err[512] = "";
    tokens_t *tokens = tokens_parse ((const char *)data, size, "fuzz", err, sizeof err);
    size_t lines = 0;
    size_t expected = s_token_lines (data, size, &lines);
    if (tokens) {
        FUZZ_CHECK (err[0] == '\0');
        FUZZ_CHECK (tokens_size (tokens) == expected);
        FUZZ_CHECK (tokens_size (tokens) <= TOKENS_MAX);
        unsigned scopes = tokens_lookup (tokens, (const char *)data, size, NULL);
        FUZZ_CHECK ((scopes & ~(TOKENS_SCOPE_READ | TOKENS_SCOPE_WRITE | TOKENS_SCOPE_ADMIN)) == 0);
        tokens_destroy (&tokens);
        FUZZ_CHECK (tokens == NULL);
    } else {
        FUZZ_CHECK (strncmp (err, "fuzz:", 5) == 0);
        if (err[5] != ' ') {
            char *end = NULL;
            unsigned long line = strtoul (err + 5, &end, 10);
            FUZZ_CHECK (end && *end == ':' && line >= 1 && line <= lines);
        }
    }
    unsigned mask = 0;
    if (tokens_scopes_parse ((const char *)data, size, &mask) == 0)
        FUZZ_CHECK (mask != 0
                    && (mask & ~(TOKENS_SCOPE_READ | TOKENS_SCOPE_WRITE | TOKENS_SCOPE_ADMIN))
                           == 0);
    return 0;
}
