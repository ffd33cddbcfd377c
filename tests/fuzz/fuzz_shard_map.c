/*
 * fuzz_shard_map — the shard map parser (proto/shard_map.h) on arbitrary
 * bytes. The map is configuration, not network input, but an operator's
 * typo or a truncated copy must be refused with a message, never crash a
 * store at start.
 *
 * The oracle: a refusal says why, and names either no line or a line that
 * exists in the input; a map that parses gives every slot exactly one
 * owner (the slot counts add up to 16384 and each slot's owner counts it),
 * has a non-zero epoch and valid, distinct endpoints, and minting in each
 * shard lands in that shard's slots.
 */
#include "fuzz_check.h"
#include "shard_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err[256];
    shard_map_t *map = shard_map_parse ((const char *)data, size, err, sizeof err);
    if (!map) {
        FUZZ_CHECK (err[0] != '\0');
        unsigned line;
        if (sscanf (err, "line %u:", &line) == 1) {
            size_t lines = 1;
            for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
            FUZZ_CHECK (line >= 1 && line <= lines);
        }
        return 0;
    }
    size_t shards = shard_map_shards (map);
    FUZZ_CHECK (shards >= 1 && shards <= SHARD_MAP_SHARDS_MAX);
    FUZZ_CHECK (shard_map_epoch (map) > 0);
    uint32_t *counted = calloc (shards, sizeof *counted);
    FUZZ_CHECK (counted != NULL);
    for (uint32_t slot = 0; slot < SHARD_MAP_SLOTS; slot++) {
        size_t owner = shard_map_owner (map, (uint16_t)slot);
        FUZZ_CHECK (owner < shards);
        counted[owner]++;
    }
    uint32_t total = 0;
    for (size_t s = 0; s < shards; s++) {
        const char *ep = shard_map_endpoint (map, s);
        FUZZ_CHECK (shard_map_endpoint_valid (ep, strlen (ep)));
        for (size_t t = 0; t < s; t++)
            FUZZ_CHECK (strcmp (ep, shard_map_endpoint (map, t)) != 0);
        FUZZ_CHECK (counted[s] == shard_map_slot_count (map, s) && counted[s] > 0);
        total += counted[s];
        uint8_t id[16] = { 0 };
        memcpy (id, data + (size >= 16 ? size - 16 : 0), size >= 16 ? 16 : size);
        for (uint32_t r = 0; r < 4; r++) {
            shard_map_mint (map, s, r * 0x9e3779b9u + (uint32_t)size, id);
            FUZZ_CHECK (shard_map_owner_of (map, id) == s);
        }
    }
    FUZZ_CHECK (total == SHARD_MAP_SLOTS);
    free (counted);
    shard_map_destroy (&map);
    return 0;
}
