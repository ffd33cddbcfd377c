/*
 * poster — see poster.h. One multi handle and `connections` easy handles,
 * each reused for request after request so libcurl keeps its connection
 * alive (the multi's connection cache is sized to hold them all).
 */
#include "poster.h"

#include "clock.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define POSTER_IDLE_WAIT_MS 100 /* longest curl_multi_poll before rechecking the deadline */

struct _poster_t {
    poster_config_t config;
    poster_result_t result;
    pthread_t thread;
};

/* Response bodies are not read. */
static size_t
s_discard (char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

/* When request i of this poster is due (0: now, no pacing). */
static int64_t
s_due_us (const poster_config_t *c, int64_t start_us, int i)
{
    return c->rate > 0 ? start_us + (int64_t)i * 1000000 / c->rate : 0;
}

/* Hands event number k to the free handle easy and stamps it. */
static void
s_send (poster_t *self, CURLM *multi, CURL *easy, int k)
{
    char body[128];
    snprintf (body, sizeof body, "{\"user_id\":\"bench\",\"description\":\"bench %d\"}", k);
    curl_easy_setopt (easy, CURLOPT_COPYPOSTFIELDS, body);
    self->config.sent_us[k] = clock_mono_us ();
    curl_multi_add_handle (multi, easy);
}

/* Takes the finished transfers off multi; each one's handle goes back to
   the free list. Returns how many finished. */
static int
s_collect (poster_t *self, CURLM *multi, CURL **free_list, int *n_free)
{
    int finished = 0, left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read (multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        long code = 0;
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (code == 201)
            self->result.created++;
        else
            self->result.failed++;
        self->result.last_us = clock_mono_us ();
        CURL *easy = msg->easy_handle;
        curl_multi_remove_handle (multi, easy);
        free_list[(*n_free)++] = easy;
        finished++;
    }
    return finished;
}

/* The thread: sends every event, paced or not, with at most `connections`
   in flight, until all are answered or the deadline passes. */
static void *
s_run (void *arg)
{
    poster_t *self = arg;
    const poster_config_t *c = &self->config;
    int n_handles = c->connections;
    CURL *handles[POSTER_CONNECTIONS_MAX], *free_list[POSTER_CONNECTIONS_MAX];
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    CURLM *multi = curl_multi_init ();
    int n_free = 0;
    for (int i = 0; i < n_handles; i++) {
        CURL *easy = curl_easy_init ();
        if (!easy)
            break;
        curl_easy_setopt (easy, CURLOPT_URL, c->url);
        curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long)POSTER_REQUEST_TIMEOUT_MS);
        handles[i] = free_list[n_free++] = easy;
    }
    n_handles = n_free;
    if (multi)
        curl_multi_setopt (multi, CURLMOPT_MAXCONNECTS, (long)n_handles);
    int next = 0, done = 0;
    int64_t start = clock_mono_us ();
    while (multi && n_handles > 0 && done < c->count && clock_mono_us () < c->deadline_us) {
        int64_t now = clock_mono_us ();
        while (n_free > 0 && next < c->count && s_due_us (c, start, next) <= now)
            s_send (self, multi, free_list[--n_free], c->first + next++);
        int running;
        curl_multi_perform (multi, &running);
        done += s_collect (self, multi, free_list, &n_free);
        if (done >= c->count)
            break;
        /* Sleep in the poll until a socket is ready, or the next paced
           request is due when a handle is free for it. */
        int wait_ms = POSTER_IDLE_WAIT_MS;
        if (n_free > 0 && next < c->count) {
            int64_t due = s_due_us (c, start, next) - clock_mono_us ();
            wait_ms = due <= 0 ? 0 : due < wait_ms * 1000LL ? (int)((due + 999) / 1000) : wait_ms;
        }
        if (wait_ms > 0)
            curl_multi_poll (multi, NULL, 0, wait_ms, NULL);
    }
    /* Whatever did not finish by the deadline failed. */
    self->result.failed += c->count - done;
    for (int i = 0; i < n_handles; i++) {
        if (multi)
            curl_multi_remove_handle (multi, handles[i]);
        curl_easy_cleanup (handles[i]);
    }
    if (multi)
        curl_multi_cleanup (multi);
    curl_slist_free_all (headers);
    return NULL;
}

poster_t *
poster_start (const poster_config_t *config)
{
    assert (config && config->url && config->sent_us);
    assert (config->connections > 0 && config->connections <= POSTER_CONNECTIONS_MAX);
    assert (config->count >= 0 && config->first >= 0 && config->rate >= 0);
    poster_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
poster_join (poster_t **self_p, poster_result_t *out)
{
    if (!self_p || !*self_p)
        return;
    poster_t *self = *self_p;
    pthread_join (self->thread, NULL);
    if (out)
        *out = self->result;
    free (self);
    *self_p = NULL;
}

int
poster_post_all (const char *gateway_url, int n, int rate, int posters, int connections,
                 int64_t *sent_us, int deadline_ms, int *failed, int64_t *last_us)
{
    assert (posters > 0 && posters <= POSTER_THREADS_MAX);
    char url[128];
    snprintf (url, sizeof url, "%s/events", gateway_url);
    poster_t *p[POSTER_THREADS_MAX] = { NULL };
    int64_t deadline = clock_mono_us () + (int64_t)deadline_ms * 1000;
    int created = 0;
    *failed = 0;
    *last_us = 0;
    for (int i = 0; i < posters; i++) {
        int first = i * (n / posters);
        poster_config_t c = { .url = url,
                              .first = first,
                              .count = i == posters - 1 ? n - first : n / posters,
                              .rate = rate / posters,
                              .connections = connections,
                              .sent_us = sent_us,
                              .deadline_us = deadline };
        p[i] = poster_start (&c);
        if (!p[i])
            *failed += c.count;
    }
    for (int i = 0; i < posters; i++) {
        poster_result_t r = { 0 };
        if (!p[i])
            continue;
        poster_join (&p[i], &r);
        created += r.created;
        *failed += r.failed;
        if (r.last_us > *last_us)
            *last_us = r.last_us;
    }
    return created;
}
