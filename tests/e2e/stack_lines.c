/*
 * stack_lines — did every event get through (see stack.h): each event
 * reading processed through the API, and the workers' stdout holding each
 * event's one exact line. Lines are checked against what was posted
 * ("u-k" / "order k shipped" for event k), so a line printed for the wrong
 * event or garbled is caught, not only a missing one. At least once allows
 * a second line of an event, never a different one; the checks count the
 * extra lines for the caller to print or refuse.
 */
#include "stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_SIZE (STACK_ID_LEN + 1)

int
stack_wait_ids_processed (e2e_stack_t *self, const char *ids, int n, int timeout_ms)
{
    int64_t until = clock_mono_ms () + timeout_ms;
    int from = 0; /* events before it are known processed */
    for (;;) {
        while (from < n) {
            const char *id = ids + (size_t)from * ID_SIZE;
            char status[32] = "";
            if (id[0]
                && (stack_get_status (self, id, status, sizeof status) != 200
                    || strcmp (status, "processed") != 0))
                break;
            from++;
        }
        if (from == n || clock_mono_ms () >= until)
            return n - from;
        harness_nap_ms (100);
    }
}

int
stack_check_lines (e2e_stack_t *self, int base, int n, const char *ids, unsigned mask, int *dups,
                   int per_worker[STACK_WORKERS_MAX])
{
    int *seen = calloc ((size_t)n, sizeof *seen);
    int malformed = 0;
    *dups = 0;
    /* ids of a run are random UUIDs: sort indexes by id, then bsearch */
    for (int w = 0; w < STACK_WORKERS_MAX; w++) {
        if (per_worker)
            per_worker[w] = 0;
        if (!(mask & (1u << w)))
            continue;
        FILE *file = fopen (self->worker_out[w], "r");
        if (!file)
            continue;
        char line[8192];
        while (fgets (line, sizeof line, file)) {
            if (per_worker)
                per_worker[w]++;
            char id[STACK_ID_LEN + 1] = "";
            if (sscanf (line, "Event %36s has been sent to", id) != 1) {
                malformed++;
                continue;
            }
            int found = -1;
            for (int i = 0; i < n && found < 0; i++)
                if (strcmp (ids + (size_t)i * (STACK_ID_LEN + 1), id) == 0)
                    found = i;
            char expected[256] = "";
            if (found >= 0)
                snprintf (expected, sizeof expected,
                          "Event %s has been sent to u-%d: order %d shipped\n", id, base + found,
                          base + found);
            if (found < 0 || strcmp (line, expected) != 0) {
                malformed++;
                continue;
            }
            if (seen[found]++)
                (*dups)++;
        }
        fclose (file);
    }
    int missing = malformed;
    for (int i = 0; i < n; i++)
        if (!seen[i])
            missing++;
    free (seen);
    return missing;
}

bool
stack_lines_exactly_once (e2e_stack_t *self, int base, int n, const char *ids, unsigned mask)
{
    int dups = 0;
    return stack_check_lines (self, base, n, ids, mask, &dups, NULL) == 0 && dups == 0;
}

/* Counts worker file's lines against ids (stack_check_posted_lines) into
   seen; returns the malformed ones. */
static int
s_read_posted_lines (const char *path, const char *ids, int n, int *seen, int *extra)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    int malformed = 0;
    char line[8192];
    while (fgets (line, sizeof line, file)) {
        char id[ID_SIZE] = "", expected[256];
        int k = -1, k2 = -1;
        if (sscanf (line, "Event %36s has been sent to u-%d: order %d shipped", id, &k, &k2) != 3
            || k != k2 || k < 0 || k >= n) {
            malformed++;
            continue;
        }
        snprintf (expected, sizeof expected, "Event %s has been sent to u-%d: order %d shipped\n",
                  id, k, k);
        const char *want = ids + (size_t)k * ID_SIZE;
        if (strcmp (line, expected) != 0 || (want[0] && strcmp (id, want) != 0)) {
            malformed++;
            continue;
        }
        if (!want[0])
            (*extra)++;
        seen[k]++;
    }
    fclose (file);
    return malformed;
}

int
stack_check_posted_lines (e2e_stack_t *self, const char *ids, int n, unsigned mask, int *dups,
                          int *extra)
{
    int *seen = calloc ((size_t)n, sizeof *seen);
    *dups = *extra = 0;
    if (!seen)
        return n;
    int wrong = 0;
    for (int w = 0; w < STACK_WORKERS_MAX; w++)
        if (mask & (1u << w))
            wrong += s_read_posted_lines (self->worker_out[w], ids, n, seen, extra);
    for (int k = 0; k < n; k++) {
        if (!ids[(size_t)k * ID_SIZE])
            continue;
        if (!seen[k])
            wrong++;
        else
            *dups += seen[k] - 1;
    }
    free (seen);
    return wrong;
}
