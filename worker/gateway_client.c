/*
 * gateway_client — see gateway_client.h. Response bodies are collected into
 * a small fixed buffer: the worker only ever reads one event's status, and a
 * larger body is cut off rather than allowed to grow memory.
 */
#include "gateway_client.h"

#include <assert.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATEWAY_BODY_MAX (16 * 1024)

struct _gateway_client_t {
    CURL *curl;
    struct curl_slist *headers;
    char *base_url;
    char url[512];
    char body[GATEWAY_BODY_MAX + 1];
    size_t body_len;
    char error[512 + CURL_ERROR_SIZE + 64];
    char curl_error[CURL_ERROR_SIZE];
};

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    gateway_client_t *self = arg;
    size_t n = size * nmemb;
    size_t room = GATEWAY_BODY_MAX - self->body_len;
    size_t take = n < room ? n : room;
    memcpy (self->body + self->body_len, data, take);
    self->body_len += take;
    return n;
}

gateway_client_t *
gateway_client_new (const char *base_url, long timeout_ms)
{
    static int s_global_init = 0;
    if (!s_global_init) {
        if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        s_global_init = 1;
    }
    gateway_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t len = strlen (base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--; /* "http://h:p/" and "http://h:p" name the same gateway */
    self->base_url = strndup (base_url, len);
    self->curl = curl_easy_init ();
    self->headers = curl_slist_append (NULL, "Content-Type: application/json");
    if (!self->base_url || !self->curl || !self->headers) {
        gateway_client_destroy (&self);
        return NULL;
    }
    curl_easy_setopt (self->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (self->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (self->curl, CURLOPT_CONNECTTIMEOUT_MS,
                      timeout_ms < 2000 ? timeout_ms : 2000L);
    curl_easy_setopt (self->curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (self->curl, CURLOPT_WRITEDATA, self);
    curl_easy_setopt (self->curl, CURLOPT_ERRORBUFFER, self->curl_error);
    curl_easy_setopt (self->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt (self->curl, CURLOPT_USERAGENT, "herald-worker");
    return self;
}

void
gateway_client_destroy (gateway_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gateway_client_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup (self->curl);
    curl_slist_free_all (self->headers);
    free (self->base_url);
    free (self);
    *self_p = NULL;
}

/* Performs the prepared request. Returns the classified result. */
static gateway_result_t
s_perform (gateway_client_t *self, const char *event_id)
{
    snprintf (self->url, sizeof self->url, "%s/events/%s", self->base_url, event_id);
    curl_easy_setopt (self->curl, CURLOPT_URL, self->url);
    self->body_len = 0;
    self->curl_error[0] = '\0';
    CURLcode rc = curl_easy_perform (self->curl);
    self->body[self->body_len] = '\0';
    if (rc != CURLE_OK) {
        snprintf (self->error, sizeof self->error, "%s: %s", self->url,
                  self->curl_error[0] ? self->curl_error : curl_easy_strerror (rc));
        return GATEWAY_TRANSIENT;
    }
    long code = 0;
    curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &code);
    snprintf (self->error, sizeof self->error, "%s: HTTP %ld", self->url, code);
    if (code >= 200 && code < 300)
        return GATEWAY_OK;
    if (code == 404)
        return GATEWAY_NOT_FOUND;
    if (code >= 500 || code == 429 || code == 408)
        return GATEWAY_TRANSIENT;
    return GATEWAY_PERMANENT;
}

gateway_result_t
gateway_client_get_status (gateway_client_t *self, const char *event_id, char *status, size_t size)
{
    assert (self);
    curl_easy_setopt (self->curl, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt (self->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, NULL);
    gateway_result_t result = s_perform (self, event_id);
    if (result != GATEWAY_OK)
        return result;
    json_t *root = json_loadb (self->body, self->body_len, 0, NULL);
    const char *text = json_string_value (json_object_get (root, "status"));
    if (!text) {
        snprintf (self->error, sizeof self->error, "%s: 2xx without a status", self->url);
        json_decref (root);
        return GATEWAY_TRANSIENT;
    }
    snprintf (status, size, "%s", text);
    json_decref (root);
    return GATEWAY_OK;
}

gateway_result_t
gateway_client_mark_processed (gateway_client_t *self, const char *event_id)
{
    assert (self);
    static const char body[] = "{\"status\":\"processed\"}";
    curl_easy_setopt (self->curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (self->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (self->curl, CURLOPT_POSTFIELDSIZE, (long)(sizeof body - 1));
    return s_perform (self, event_id);
}

const char *
gateway_client_error (gateway_client_t *self)
{
    assert (self);
    return self->error;
}
