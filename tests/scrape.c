/*
 * scrape — see scrape.h.
 */
#include "scrape.h"

#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef HERALD_SOURCE_DIR
#error HERALD_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)
#endif

int
scrape_metrics (int port, scrape_t *out)
{
    static int s_count;
    scrape_clear (out);
    char url[64], path[600];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    snprintf (path, sizeof path, "%s/scrape-%d-%d.txt", harness_tmpdir (), port, ++s_count);
    const char *argv[] = { "/usr/bin/python3", HERALD_SOURCE_DIR "/tests/promparse.py", url, NULL };
    pid_t pid = harness_spawn (argv, NULL, path, NULL);
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid || !WIFEXITED (status)
        || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "scrape: %s did not parse (see above)\n", url);
        return -1;
    }
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line[1024];
    size_t cap = 0;
    while (fgets (line, sizeof line, file)) {
        char *space = strrchr (line, ' ');
        if (!space)
            continue;
        *space = '\0';
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            out->series = realloc (out->series, cap * sizeof *out->series);
            out->values = realloc (out->values, cap * sizeof *out->values);
            if (!out->series || !out->values)
                abort ();
        }
        out->series[out->n] = strdup (line);
        out->values[out->n] = strtod (space + 1, NULL);
        out->n++;
    }
    fclose (file);
    return 0;
}

double
scrape_value (const scrape_t *self, const char *series)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->series[i], series) == 0)
            return self->values[i];
    return NAN;
}

void
scrape_clear (scrape_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free (self->series[i]);
    free (self->series);
    free (self->values);
    self->series = NULL;
    self->values = NULL;
    self->n = 0;
}
