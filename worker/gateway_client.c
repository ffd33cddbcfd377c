/*
 * gateway_client — see gateway_client.h. Each slot owns an easy handle, a
 * response buffer that grows on demand up to GATEWAY_BODY_MAX (a larger body
 * is cut off rather than allowed to grow memory), and its last status and
 * error text. Finished transfers are collected from curl_multi_info_read
 * into a small queue of slot numbers the caller drains.
 *
 * Transfers run on libcurl's socket interface (curl_multi_socket_action):
 * curl says which sockets it waits on and when its next timeout falls
 * (s_on_socket, s_on_timer), one poll(2) waits on those and the caller's
 * descriptors, and only the transfers whose socket is ready or whose timer
 * is due are run. curl_multi_perform would run every transfer in flight at
 * each call, and each one polls its own socket first: with 32 requests in
 * flight that was a poll(2) per request per call, more system calls than
 * the requests themselves. A request started by gateway_client_start_* goes
 * out at the next gateway_client_poll (curl asks for a timeout of 0 when a
 * transfer is added).
 */
#include "gateway_client.h"

#include "clock.h"
#include "gateway_url.h"
#include "proto.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATEWAY_BODY_MAX (64 * 1024)
#define GATEWAY_STATUS_MAX 64
#define GATEWAY_URL_MAX 512

typedef struct {
    CURL *easy;
    bool busy;
    bool is_get;
    gateway_result_t result;
    char url[GATEWAY_URL_MAX]; /* for error messages: the URL requested (s_url) */
    char *body;
    size_t body_len, body_cap;
    char status[GATEWAY_STATUS_MAX + 1];
    char error[GATEWAY_URL_MAX + CURL_ERROR_SIZE + 64];
    char curl_error[CURL_ERROR_SIZE];
    /* This request's X-Request-Id: our node in front of the shared headers
       (curl only reads a header list), rid.next set at each request. */
    struct curl_slist rid;
    char rid_line[32 + PROTO_REQUEST_ID_MAX];
    CURLU *target; /* the gateway's URL, parsed once; each request sets its path */
} slot_t;

struct _gateway_client_t {
    CURLM *multi;
    struct curl_slist *headers;     /* PUT: User-Agent, Content-Type (and Authorization) */
    struct curl_slist *get_headers; /* GET: User-Agent (and Authorization) */
    bool has_token;
    char *base_url;
    CURLU *base;     /* base_url parsed (s_easy copies it for each slot) */
    char *base_path; /* its path, without the trailing slash ("" for "/") */
    long timeout_ms;
    slot_t *slots;
    int n_slots;
    int *done; /* ring of finished slots */
    int done_head, done_count;
    size_t active;
    /* The sockets curl waits on (fd and POLLIN/POLLOUT, as s_on_socket was
       told). Grown only by s_on_socket; `polled`, what one poll(2) reads (the
       caller's descriptors, then a copy of watch), is grown only by
       gateway_client_poll before it polls, never while it reads the results
       (running a transfer may add sockets). */
    struct pollfd *watch;
    int n_watch, watch_cap;
    struct pollfd *polled;
    int polled_cap;
    int64_t timer_at; /* clock_mono_ms when curl's timeout falls; -1: none */
    bool failed;      /* s_on_socket could not record a socket */
};

/* Sockets one transfer may have at once in libcurl 7.88
   (MAX_SOCKSPEREASYHANDLE): happy eyeballs' two attempts, the threaded
   resolver's pair. Room for all of them from the start, so the list only
   grows past it if a later libcurl uses more. */
#define S_SOCKETS_PER_TRANSFER 5

/* CURLMOPT_SOCKETFUNCTION: what curl waits for on fd from now on. Always
   0; a socket the list has no room for is noted in `failed`. */
static int
s_on_socket (CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    (void)easy;
    (void)socket_arg;
    gateway_client_t *self = arg;
    int i = 0;
    while (i < self->n_watch && self->watch[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < self->n_watch)
            self->watch[i] = self->watch[--self->n_watch];
        return 0;
    }
    if (i == self->n_watch) {
        if (self->n_watch == self->watch_cap) {
            int cap = self->watch_cap * 2;
            struct pollfd *watch = realloc (self->watch, (size_t)cap * sizeof *watch);
            if (!watch) {
                /* Not -1: libcurl 7.88 takes that as the whole multi handle
                   failing. The transfer on this socket goes unwatched and
                   ends at its timeout (a transient failure, retried). */
                self->failed = true;
                return 0;
            }
            self->watch = watch;
            self->watch_cap = cap;
        }
        self->n_watch++;
    }
    self->watch[i] = (struct pollfd){
        .fd = fd,
        .events =
            (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0)),
    };
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl's next timeout, in timeout_ms (-1: none). */
static int
s_on_timer (CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    gateway_client_t *self = arg;
    self->timer_at = timeout_ms < 0 ? -1 : clock_mono_ms () + timeout_ms;
    return 0;
}

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    slot_t *slot = arg;
    size_t n = size * nmemb;
    size_t room = GATEWAY_BODY_MAX - slot->body_len;
    size_t take = n < room ? n : room;
    if (slot->body_len + take + 1 > slot->body_cap) {
        size_t cap = slot->body_cap ? slot->body_cap : 1024;
        while (cap < slot->body_len + take + 1)
            cap *= 2;
        char *grown = realloc (slot->body, cap);
        if (!grown)
            return 0; /* curl fails the transfer: a transient error */
        slot->body = grown;
        slot->body_cap = cap;
    }
    memcpy (slot->body + slot->body_len, data, take);
    slot->body_len += take;
    slot->body[slot->body_len] = '\0';
    return n;
}

/* Every request's headers: User-Agent (not CURLOPT_USERAGENT, which libcurl
   formats per request), Content-Type for a PUT, and authorization (a whole
   "Authorization: ..." line) unless NULL. NULL when out of memory. */
static struct curl_slist *
s_headers (bool put, const char *authorization)
{
    struct curl_slist *list = curl_slist_append (NULL, "User-Agent: herald-worker"), *grown;
    if (list && put) {
        if (!(grown = curl_slist_append (list, "Content-Type: application/json")))
            goto failed;
        list = grown;
    }
    if (list && authorization) {
        if (!(grown = curl_slist_append (list, authorization)))
            goto failed;
        list = grown;
    }
    return list;
failed:
    curl_slist_free_all (list);
    return NULL;
}

gateway_client_t *
gateway_client_new (const char *base_url, long timeout_ms, int slots)
{
    static bool s_global_init = false;
    assert (slots > 0);
    if (!s_global_init) {
        if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        s_global_init = true;
    }
    gateway_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t len = strlen (base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--; /* "http://h:p/" and "http://h:p" name the same gateway */
    if (len + sizeof "/events/" + 36 > GATEWAY_URL_MAX) {
        free (self);
        return NULL; /* a URL this long would be cut off */
    }
    self->base_url = strndup (base_url, len);
    if (!self->base_url || !(self->base = gateway_url_parse (self->base_url, &self->base_path))) {
        gateway_client_destroy (&self);
        return NULL;
    }
    self->multi = curl_multi_init ();
    self->headers = s_headers (true, NULL);
    self->get_headers = s_headers (false, NULL);
    self->slots = calloc ((size_t)slots, sizeof *self->slots);
    self->done = calloc ((size_t)slots, sizeof *self->done);
    self->n_slots = slots;
    self->timeout_ms = timeout_ms;
    self->timer_at = -1;
    self->watch_cap = S_SOCKETS_PER_TRANSFER * slots;
    self->watch = calloc ((size_t)self->watch_cap, sizeof *self->watch);
    self->polled_cap = self->watch_cap + GATEWAY_CLIENT_POLL_FDS;
    self->polled = calloc ((size_t)self->polled_cap, sizeof *self->polled);
    if (!self->base_url || !self->multi || !self->headers || !self->get_headers || !self->slots
        || !self->done || !self->watch || !self->polled) {
        gateway_client_destroy (&self);
        return NULL;
    }
    /* One cached connection per slot: each keeps its keep-alive socket. */
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, (long)slots);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

void
gateway_client_destroy (gateway_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gateway_client_t *self = *self_p;
    for (int i = 0; self->slots && i < self->n_slots; i++) {
        slot_t *slot = &self->slots[i];
        if (slot->easy) {
            if (slot->busy)
                curl_multi_remove_handle (self->multi, slot->easy);
            curl_easy_cleanup (slot->easy);
        }
        curl_url_cleanup (slot->target);
        free (slot->body);
    }
    if (self->multi)
        curl_multi_cleanup (self->multi);
    curl_slist_free_all (self->headers);
    curl_slist_free_all (self->get_headers);
    free (self->slots);
    free (self->done);
    free (self->watch);
    free (self->polled);
    free (self->base_url);
    curl_url_cleanup (self->base);
    curl_free (self->base_path);
    free (self);
    *self_p = NULL;
}

/* The slot's easy handle, created on first use with the fixed options. */
static CURL *
s_easy (gateway_client_t *self, slot_t *slot)
{
    if (slot->easy)
        return slot->easy;
    if (!slot->target && !(slot->target = curl_url_dup (self->base)))
        return NULL;
    CURL *easy = curl_easy_init ();
    if (!easy)
        return NULL;
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS,
                      self->timeout_ms < 2000 ? self->timeout_ms : 2000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, slot);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, slot);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, slot->curl_error);
    curl_easy_setopt (easy, CURLOPT_TCP_NODELAY, 1L);
    slot->easy = easy;
    return easy;
}

static int
s_start (gateway_client_t *self, int slot_i, const char *event_id, const char *request_id,
         bool is_get)
{
    assert (self && slot_i >= 0 && slot_i < self->n_slots);
    slot_t *slot = &self->slots[slot_i];
    CURL *easy = s_easy (self, slot);
    if (slot->busy || !easy)
        return -1;
    struct curl_slist *headers = is_get ? self->get_headers : self->headers;
    if (request_id && proto_request_id_valid (request_id, strlen (request_id))) {
        snprintf (slot->rid_line, sizeof slot->rid_line, "X-Request-Id: %s", request_id);
        slot->rid = (struct curl_slist){ .data = slot->rid_line, .next = headers };
        headers = &slot->rid;
    }
    char path[GATEWAY_URL_MAX];
    snprintf (path, sizeof path, "%s/events/%s", self->base_path, event_id);
    if (curl_url_set (slot->target, CURLUPART_PATH, path, 0) != CURLUE_OK)
        return -1;
    curl_easy_setopt (easy, CURLOPT_CURLU, slot->target);
    if (is_get) {
        curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt (easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
    } else {
        static const char body[] = "{\"status\":\"processed\"}";
        curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt (easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE, (long)(sizeof body - 1));
    }
    slot->body_len = 0;
    slot->curl_error[0] = '\0';
    slot->status[0] = '\0';
    slot->is_get = is_get;
    if (curl_multi_add_handle (self->multi, easy) != CURLM_OK)
        return -1;
    slot->busy = true;
    self->active++;
    return 0;
}

int
gateway_client_start_get (gateway_client_t *self, int slot, const char *event_id,
                          const char *request_id)
{
    return s_start (self, slot, event_id, request_id, true);
}

int
gateway_client_start_put (gateway_client_t *self, int slot, const char *event_id,
                          const char *request_id)
{
    return s_start (self, slot, event_id, request_id, false);
}

int
gateway_client_set_token (gateway_client_t *self, const char *token)
{
    assert (self && token);
    /* Transfers in flight read the lists it replaces (their X-Request-Id
       node points into them): before any request only. */
    assert (self->active == 0);
    char header[GATEWAY_TOKEN_MAX + 32];
    size_t len = strlen (token);
    if (len == 0 || len > GATEWAY_TOKEN_MAX || strpbrk (token, "\r\n"))
        return -1;
    snprintf (header, sizeof header, "Authorization: Bearer %s", token);
    struct curl_slist *put = s_headers (true, header);
    struct curl_slist *get = s_headers (false, header);
    if (!put || !get) {
        curl_slist_free_all (put);
        curl_slist_free_all (get);
        memset (header, 0, sizeof header);
        return -1;
    }
    curl_slist_free_all (self->headers);
    curl_slist_free_all (self->get_headers);
    self->headers = put;
    self->get_headers = get;
    self->has_token = true;
    /* The header is in curl's copies now; ours goes. */
    memset (header, 0, sizeof header);
    return 0;
}

/* The URL slot's request went to, for an error message (formatted only
   then, not for every request). */
static const char *
s_url (slot_t *slot)
{
    return gateway_url_text (slot->target, slot->url, sizeof slot->url);
}

/* Classifies a finished transfer and reads a GET's status. A 401 or 403 is
   the worker's configuration, not the message's fault: transient, so the
   message waits (retries, then the dead-letter queue) for the operator to
   fix the token rather than being dropped. */
static gateway_result_t
s_classify (const gateway_client_t *self, slot_t *slot, CURLcode rc)
{
    if (rc != CURLE_OK) {
        snprintf (slot->error, sizeof slot->error, "%s: %s", s_url (slot),
                  slot->curl_error[0] ? slot->curl_error : curl_easy_strerror (rc));
        return GATEWAY_TRANSIENT;
    }
    long code = 0;
    curl_easy_getinfo (slot->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300) {
        if (code == 401 || code == 403) {
            snprintf (slot->error, sizeof slot->error,
                      "%s: HTTP %ld: the gateway refused %s (configuration: check "
                      "--gateway-token-file / HERALD_GATEWAY_TOKEN_FILE and the token's scopes)",
                      s_url (slot), code,
                      self->has_token ? "this worker's token" : "a request without a token");
            return GATEWAY_TRANSIENT;
        }
        snprintf (slot->error, sizeof slot->error, "%s: HTTP %ld", s_url (slot), code);
        if (code == 404)
            return GATEWAY_NOT_FOUND;
        return code >= 500 || code == 429 || code == 408 ? GATEWAY_TRANSIENT : GATEWAY_PERMANENT;
    }
    if (!slot->is_get)
        return GATEWAY_OK;
    json_t *root = slot->body ? json_loadb (slot->body, slot->body_len, 0, NULL) : NULL;
    const char *text = json_string_value (json_object_get (root, "status"));
    gateway_result_t result = GATEWAY_OK;
    if (text)
        snprintf (slot->status, sizeof slot->status, "%s", text);
    else {
        snprintf (slot->error, sizeof slot->error, "%s: 2xx without a status", s_url (slot));
        result = GATEWAY_TRANSIENT;
    }
    json_decref (root);
    return result;
}

/* Moves finished transfers to the done queue. */
static void
s_collect (gateway_client_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        slot_t *slot = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
        CURLcode rc = msg->data.result; /* msg is void after remove_handle */
        curl_multi_remove_handle (self->multi, msg->easy_handle);
        slot->result = s_classify (self, slot, rc);
        slot->busy = false;
        self->active--;
        int index = (int)(slot - self->slots);
        self->done[(self->done_head + self->done_count++) % self->n_slots] = index;
    }
}

/* Runs curl's transfers whose timeout is due (those just started among
   them). Returns 0, or -1 on a curl failure. */
static int
s_run_due (gateway_client_t *self)
{
    if (self->timer_at < 0 || clock_mono_ms () < self->timer_at)
        return 0;
    int running;
    self->timer_at = -1; /* curl sets the next one */
    return curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_OK
               ? 0
               : -1;
}

int
gateway_client_poll (gateway_client_t *self, const int fds[], bool ready[], int n_fds,
                     int timeout_ms)
{
    assert (self);
    assert (n_fds >= 0 && n_fds <= GATEWAY_CLIENT_POLL_FDS);
    for (int i = 0; i < n_fds; i++)
        ready[i] = false;
    int rc = s_run_due (self);
    s_collect (self);
    if (self->done_count > 0)
        timeout_ms = 0; /* results are waiting for the caller */
    if (self->timer_at >= 0) {
        int64_t left = self->timer_at - clock_mono_ms ();
        if (timeout_ms < 0 || left < timeout_ms)
            timeout_ms = left > 0 ? (int)left : 0;
    }
    /* The caller's descriptors first, then a copy of curl's: running a
       transfer may change the watch list while the results are read. */
    if (self->n_watch + GATEWAY_CLIENT_POLL_FDS > self->polled_cap) {
        int cap = self->watch_cap + GATEWAY_CLIENT_POLL_FDS;
        struct pollfd *grown = realloc (self->polled, (size_t)cap * sizeof *grown);
        if (grown) {
            self->polled = grown;
            self->polled_cap = cap;
        } else
            rc = -1; /* the sockets past the room wait for their timers */
    }
    struct pollfd *polled = self->polled;
    int n = 0;
    for (int i = 0; i < n_fds; i++)
        if (fds[i] >= 0)
            polled[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
    int first_curl = n;
    int copied = self->n_watch < self->polled_cap - n ? self->n_watch : self->polled_cap - n;
    memcpy (polled + n, self->watch, (size_t)copied * sizeof *polled);
    n += copied;
    if (poll (polled, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
        return -1;
    for (int i = 0, k = 0; i < n_fds; i++)
        if (fds[i] >= 0)
            ready[i] = (polled[k++].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    for (int i = first_curl; i < n; i++) {
        short revents = polled[i].revents;
        if (!revents)
            continue;
        /* A hang-up or an error is read as readable: curl's read then
           meets the end or the error and fails the transfer with it. */
        int mask = ((revents & (POLLIN | POLLHUP | POLLERR)) ? CURL_CSELECT_IN : 0)
                   | ((revents & POLLOUT) ? CURL_CSELECT_OUT : 0);
        int running;
        if (curl_multi_socket_action (self->multi, polled[i].fd, mask, &running) != CURLM_OK)
            rc = -1;
    }
    if (s_run_due (self) != 0)
        rc = -1;
    s_collect (self);
    if (self->failed) {
        self->failed = false;
        rc = -1;
    }
    return rc;
}

int
gateway_client_next_done (gateway_client_t *self, gateway_result_t *result)
{
    assert (self);
    if (self->done_count == 0)
        return -1;
    int slot = self->done[self->done_head];
    self->done_head = (self->done_head + 1) % self->n_slots;
    self->done_count--;
    *result = self->slots[slot].result;
    return slot;
}

const char *
gateway_client_status (gateway_client_t *self, int slot)
{
    assert (self && slot >= 0 && slot < self->n_slots);
    return self->slots[slot].status;
}

const char *
gateway_client_error (gateway_client_t *self, int slot)
{
    assert (self && slot >= 0 && slot < self->n_slots);
    return self->slots[slot].error;
}

size_t
gateway_client_active (gateway_client_t *self)
{
    assert (self);
    return self->active;
}
