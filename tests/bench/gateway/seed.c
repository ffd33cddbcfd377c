/*
 * seed — readiness and seeding over HTTP with libcurl. Seeding is
 * sequential on one keep-alive connection: 10000 events take about a
 * second, and the ids come back in the Location header, so no JSON parsing
 * is needed here.
 */
#include "seed.h"

#include "clock.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SEED_TIMEOUT_MS 10000L
#define SEED_POLL_MS 50

static size_t
s_discard (char *data, size_t size, size_t nmemb, void *arg)
{
    return size * nmemb;
}

typedef struct {
    char id[40];
} seed_id_t;

/* Keeps the id from a "Location: /events/{id}" header. */
static size_t
s_location (char *data, size_t size, size_t nmemb, void *arg)
{
    char *id = ((seed_id_t *)arg)->id;
    size_t len = size * nmemb;
    static const char prefix[] = "location: /events/";
    if (len > sizeof prefix + 36 - 1 && strncasecmp (data, prefix, sizeof prefix - 1) == 0) {
        memcpy (id, data + sizeof prefix - 1, 36);
        id[36] = '\0';
    }
    return len;
}

static CURL *
s_curl_new (void)
{
    CURL *curl = curl_easy_init ();
    if (curl) {
        curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, SEED_TIMEOUT_MS);
    }
    return curl;
}

int
seed_wait_ready (const char *base, int timeout_ms, volatile sig_atomic_t *interrupted)
{
    char url[256];
    snprintf (url, sizeof url, "%s/readyz", base);
    CURL *curl = s_curl_new ();
    if (!curl)
        return -1;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    int rc = -1;
    int64_t deadline = clock_mono_ms () + timeout_ms;
    while (clock_mono_ms () < deadline && !*interrupted) {
        long code = 0;
        if (curl_easy_perform (curl) == CURLE_OK
            && curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200) {
            rc = 0;
            break;
        }
        usleep (SEED_POLL_MS * 1000);
    }
    curl_easy_cleanup (curl);
    return rc;
}

int
seed_events (const char *base, int n, const char *ids_path, volatile sig_atomic_t *interrupted)
{
    char url[256];
    seed_id_t seed_id;
    char *id = seed_id.id;
    snprintf (url, sizeof url, "%s/events", base);
    FILE *ids = fopen (ids_path, "w");
    CURL *curl = s_curl_new ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    int rc = -1, i = 0;
    if (!ids || !curl || !headers)
        goto cleanup;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_location);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, &seed_id);
    for (i = 0; i < n && !*interrupted; i++) {
        char body[128];
        snprintf (body, sizeof body,
                  "{\"user_id\":\"u-seed-%d\",\"description\":\"Seeded event number %d\"}",
                  i % 1000, i);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        id[0] = '\0';
        long code = 0;
        CURLcode res = curl_easy_perform (curl);
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
        if (res != CURLE_OK || code != 201 || strlen (id) != 36) {
            fprintf (stderr, "bench: seeding event %d: %s, HTTP %ld\n", i, curl_easy_strerror (res),
                     code);
            goto cleanup;
        }
        fprintf (ids, "%s\n", id);
    }
    rc = i == n ? 0 : -1;
cleanup:
    curl_slist_free_all (headers);
    if (curl)
        curl_easy_cleanup (curl);
    if (ids && fclose (ids) != 0)
        rc = -1;
    return rc;
}

int
seed_fake_ids (int n, const char *ids_path)
{
    FILE *ids = fopen (ids_path, "w");
    if (!ids)
        return -1;
    for (int i = 0; i < n; i++)
        fprintf (ids, "00000000-0000-4000-8000-%012d\n", i);
    return fclose (ids) == 0 ? 0 : -1;
}
