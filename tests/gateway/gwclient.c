/*
 * gwclient — see gwclient.h. The curl handle is reset before each call
 * (curl_easy_reset keeps the connection cache, so keep-alive still works)
 * and every call has a ceiling; the raw client polls a nonblocking socket
 * against a deadline so nothing here can hang a test.
 */
#define _GNU_SOURCE /* memmem, strcasestr */
#include "gwclient.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

#define GW_BODY_MAX (8 * 1024 * 1024)

void
gw_init (gw_t *self)
{
    int run = self->run;
    void *curl = self->curl;
    memset (self, 0, sizeof *self);
    self->run = run + 1;
    self->curl = curl ? curl : curl_easy_init ();
    self->store_port = harness_free_port ();
    self->pub_port = harness_free_port ();
    self->http_port = harness_free_port ();
    snprintf (self->store_ep, sizeof self->store_ep, "tcp://127.0.0.1:%d", self->store_port);
    snprintf (self->base_url, sizeof self->base_url, "http://127.0.0.1:%d", self->http_port);
}

static void
s_stop (pid_t *pid)
{
    if (*pid > 0) {
        kill (*pid, SIGCONT);
        harness_stop (*pid, SIGTERM, 5000);
    }
    *pid = 0;
}

void
gw_fini (gw_t *self)
{
    s_stop (&self->gateway);
    s_stop (&self->store);
    for (int i = 1; i < self->shards; i++)
        s_stop (&self->shard_pids[i]);
    if (self->curl)
        curl_easy_cleanup (self->curl);
    self->curl = NULL;
}

static pid_t
s_spawn (gw_t *self, const char *name, const char **argv, size_t argc, const char *const *extra)
{
    for (size_t i = 0; extra && extra[i] && argc < 31; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    char log[700];
    snprintf (log, sizeof log, "%s/%s-%d.log", harness_tmpdir (), name, self->run);
    return harness_spawn (argv, NULL, NULL, log);
}

/* The shards HERALD_TEST_SHARDS asks for: 0 (one store) when unset. */
static int
s_test_shards (void)
{
    const char *value = getenv ("HERALD_TEST_SHARDS");
    int n = value ? atoi (value) : 0;
    if (value && (n < 2 || n > GW_SHARDS_MAX))
        fail_msg ("HERALD_TEST_SHARDS=%s: give 2..%d", value, GW_SHARDS_MAX);
    return value ? n : 0;
}

/* Writes the map of self->shards shards, shard 0 on store_port and the
   others on fresh ports, the slots split evenly, epoch 1. 0 or -1. */
static int
s_write_map (gw_t *self, int *ports)
{
    char text[1024];
    int at = snprintf (text, sizeof text, "epoch 1\n");
    for (int i = 0; i < self->shards; i++) {
        ports[i] = i == 0 ? self->store_port : harness_free_port ();
        at += snprintf (text + at, sizeof text - (size_t)at, "shard tcp://127.0.0.1:%d %d-%d\n",
                        ports[i], i * 16384 / self->shards, (i + 1) * 16384 / self->shards - 1);
    }
    snprintf (self->map_path, sizeof self->map_path, "%s/gw-shards-%d.map", harness_tmpdir (),
              self->run);
    return harness_write_file (self->map_path, text);
}

int
gw_start_store (gw_t *self, const char *const *extra)
{
    self->shards = s_test_shards ();
    if (self->shards == 0) {
        char pub[64];
        snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", self->pub_port);
        const char *argv[32] = { harness_bin ("herald-store"), "--bind", self->store_ep,
                                 "--pub-bind", pub };
        self->store = s_spawn (self, "store", argv, 5, extra);
        return self->store > 0 ? harness_wait_tcp (self->store_port, 10000) : -1;
    }
    int ports[GW_SHARDS_MAX];
    if (s_write_map (self, ports) != 0)
        return -1;
    for (int i = 0; i < self->shards; i++) {
        char bind[64], pub[64], id[16], name[16];
        snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", ports[i]);
        snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d",
                  i == 0 ? self->pub_port : harness_free_port ());
        snprintf (id, sizeof id, "%d", i);
        snprintf (name, sizeof name, "store%d", i);
        const char *argv[32] = { harness_bin ("herald-store"),
                                 "--bind",
                                 bind,
                                 "--pub-bind",
                                 pub,
                                 "--shard-map",
                                 self->map_path,
                                 "--shard-id",
                                 id };
        self->shard_pids[i] = s_spawn (self, name, argv, 9, extra);
        if (self->shard_pids[i] <= 0 || harness_wait_tcp (ports[i], 10000) != 0)
            return -1;
    }
    self->store = self->shard_pids[0];
    self->shard_pids[0] = 0;
    return 0;
}

int
gw_start_gateway (gw_t *self, const char *const *extra)
{
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", self->http_port);
    const char *argv[32] = { harness_bin ("herald-gateway"),
                             "--listen",
                             listen,
                             "--store-endpoint",
                             self->store_ep,
                             "--shard-map",
                             self->map_path };
    self->gateway = s_spawn (self, "gateway", argv, self->map_path[0] ? 7 : 5, extra);
    return self->gateway > 0 ? harness_wait_tcp (self->http_port, 10000) : -1;
}

int
gw_wait_readyz (gw_t *self, long code, int timeout_ms)
{
    int64_t deadline = clock_mono_ms () + timeout_ms;
    gw_resp_t resp = { 0 };
    long got;
    do {
        got = gw_call (self, &resp, "GET", "/readyz", NULL, NULL, 0);
        if (got == code)
            break;
        struct timespec nap = { 0, 20 * 1000000L };
        nanosleep (&nap, NULL);
    } while (clock_mono_ms () < deadline);
    gw_resp_clear (&resp);
    return got == code ? 0 : -1;
}

int
gw_start_all (gw_t *self)
{
    if (gw_start_store (self, NULL) || gw_start_gateway (self, NULL))
        return -1;
    return gw_wait_readyz (self, 200, 10000);
}

int
gw_start_gateway_on (gw_t *self, const gw_t *other, const char *const *extra)
{
    memset (self, 0, sizeof *self);
    gw_init (self);
    snprintf (self->store_ep, sizeof self->store_ep, "%s", other->store_ep);
    snprintf (self->map_path, sizeof self->map_path, "%s", other->map_path);
    self->shards = other->shards; /* routes the same; other stops the shards */
    return gw_start_gateway (self, extra);
}

gw_t *
gw_shared (void)
{
    static gw_t gw;
    return &gw;
}

int
gw_shared_setup (void **state)
{
    gw_init (gw_shared ());
    return gw_start_all (gw_shared ());
}

int
gw_shared_teardown (void **state)
{
    gw_fini (gw_shared ());
    return 0;
}

void
gw_resp_clear (gw_resp_t *resp)
{
    free (resp->body);
    json_decref (resp->json);
    memset (resp, 0, sizeof *resp);
}

static void
s_append (gw_resp_t *resp, const char *data, size_t n)
{
    if (resp->len + n + 1 > resp->cap) {
        size_t cap = resp->cap ? resp->cap : 4096;
        while (cap < resp->len + n + 1)
            cap *= 2;
        resp->body = realloc (resp->body, cap);
        assert_non_null (resp->body);
        resp->cap = cap;
    }
    memcpy (resp->body + resp->len, data, n);
    resp->len += n;
    resp->body[resp->len] = '\0';
}

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    gw_resp_t *resp = arg;
    if (resp->len + size * nmemb > GW_BODY_MAX)
        return 0;
    s_append (resp, data, size * nmemb);
    return size * nmemb;
}

/* Copies the value of header `name` from line into dst when it matches. */
static void
s_header (const char *line, size_t n, const char *name, char *dst, size_t size)
{
    size_t len = strlen (name);
    if (n <= len || strncasecmp (line, name, len) != 0 || line[len] != ':')
        return;
    const char *v = line + len + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf (dst, size, "%.*s", (int)(end - v), v);
}

static void
s_headers (gw_resp_t *resp, const char *line, size_t n)
{
    s_header (line, n, "Location", resp->location, sizeof resp->location);
    s_header (line, n, "Allow", resp->allow, sizeof resp->allow);
    s_header (line, n, "Content-Type", resp->content_type, sizeof resp->content_type);
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *arg)
{
    s_headers (arg, data, size * nmemb);
    return size * nmemb;
}

static void
s_parse_json (gw_resp_t *resp)
{
    if (resp->len)
        resp->json = json_loadb (resp->body, resp->len, JSON_ALLOW_NUL, NULL);
}

long
gw_call (gw_t *self, gw_resp_t *resp, const char *method, const char *path, const char *ctype,
         const void *body, size_t len)
{
    gw_resp_clear (resp);
    s_append (resp, "", 0);
    CURL *curl = self->curl;
    curl_easy_reset (curl);
    char url[8192];
    snprintf (url, sizeof url, "%s%s", self->base_url, path);
    char ct[300];
    snprintf (ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "");
    /* "Content-Type:" with no value tells curl to send none at all. */
    struct curl_slist *headers = curl_slist_append (NULL, ct);
    headers = curl_slist_append (headers, "Expect:");
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)GW_REQUEST_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt (curl, CURLOPT_FRESH_CONNECT, self->fresh ? 1L : 0L);
    curl_easy_setopt (curl, CURLOPT_FORBID_REUSE, self->fresh ? 1L : 0L);
    if (body) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    } else
        curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
    if (strcmp (method, body ? "POST" : "GET") != 0)
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    int64_t start = clock_mono_ms ();
    if (curl_easy_perform (curl) == CURLE_OK) {
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->code);
        curl_easy_getinfo (curl, CURLINFO_NUM_CONNECTS, &resp->num_connects);
    }
    resp->elapsed_ms = clock_mono_ms () - start;
    curl_slist_free_all (headers);
    s_parse_json (resp);
    return resp->code;
}

long
gw_json (gw_t *self, gw_resp_t *resp, const char *method, const char *path, const char *body)
{
    return gw_call (self, resp, method, path, body ? "application/json" : NULL, body,
                    body ? strlen (body) : 0);
}

int
gw_resp_parse (gw_resp_t *resp, const char *raw, size_t len)
{
    gw_resp_clear (resp);
    const char *end = memmem (raw, len, "\r\n\r\n", 4);
    int major, minor, code;
    if (!end || sscanf (raw, "HTTP/%d.%d %d", &major, &minor, &code) != 3)
        return -1;
    resp->code = code;
    for (const char *line = raw; line < end;) {
        const char *eol = memmem (line, (size_t)(end + 2 - line), "\r\n", 2);
        s_headers (resp, line, (size_t)(eol - line));
        line = eol + 2;
    }
    s_append (resp, end + 4, len - (size_t)(end + 4 - raw));
    s_parse_json (resp);
    return 0;
}

int
gw_raw_connect (int port)
{
    return gw_raw_connect_from (port, NULL);
}

int
gw_raw_connect_from (int port, const char *from)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct sockaddr_in source = { .sin_family = AF_INET };
    if (fd >= 0 && from
        && (inet_pton (AF_INET, from, &source.sin_addr) != 1
            || bind (fd, (struct sockaddr *)&source, sizeof source) != 0)) {
        close (fd);
        return -1;
    }
    if (fd >= 0 && connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close (fd);
        fd = -1;
    }
    return fd;
}

/* True once raw holds a whole response (headers and, when it says so,
   Content-Length bytes of body). */
static bool
s_complete (const char *raw, size_t len)
{
    const char *end = memmem (raw, len, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t head = (size_t)(end + 4 - raw);
    for (const char *p = raw; p < end; p++)
        if ((p == raw || p[-1] == '\n') && strncasecmp (p, "Content-Length:", 15) == 0)
            return len - head >= strtoul (p + 15, NULL, 10);
    return true;
}

int
gw_raw_exchange (int port, const void *data, size_t len, gw_resp_t *resp, int timeout_ms)
{
    gw_resp_clear (resp);
    int fd = gw_raw_connect (port);
    if (fd < 0)
        return -1;
    fcntl (fd, F_SETFL, O_NONBLOCK);
    size_t sent = 0, got = 0, cap = 1 << 16;
    char *raw = malloc (cap + 1);
    assert_non_null (raw);
    int64_t deadline = clock_mono_ms () + timeout_ms;
    bool open = true;
    while (open && clock_mono_ms () < deadline && !(got && s_complete (raw, got))) {
        struct pollfd pfd = { fd, POLLIN | (sent < len ? POLLOUT : 0), 0 };
        if (poll (&pfd, 1, 50) <= 0)
            continue;
        if ((pfd.revents & POLLOUT) && sent < len) {
            ssize_t n = send (fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                sent = len; /* the peer stopped reading: keep reading its answer */
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (got == cap) {
                cap *= 2;
                char *grown = realloc (raw, cap + 1);
                assert_non_null (grown);
                raw = grown;
            }
            ssize_t n = recv (fd, raw + got, cap - got, 0);
            if (n > 0)
                got += (size_t)n;
            else if (n == 0 || errno != EAGAIN)
                open = false;
        }
    }
    close (fd);
    raw[got] = '\0';
    int rc = gw_resp_parse (resp, raw, got);
    free (raw);
    return rc;
}

bool
gw_is_uuid_v4 (const char *text)
{
    if (!text || strlen (text) != GW_ID_LEN)
        return false;
    for (int i = 0; i < GW_ID_LEN; i++) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return text[14] == '4' && strchr ("89ab", text[19]) != NULL;
}

bool
gw_is_time (const char *text)
{
    /* 2026-11-24T10:00:00.123Z */
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (!text || strlen (text) != strlen (shape))
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != shape[i])
            return false;
    int month = atoi (text + 5), day = atoi (text + 8), hour = atoi (text + 11);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23
           && atoi (text + 14) <= 59 && atoi (text + 17) <= 60;
}

static void
s_assert_member (json_t *ev, const char *key, const char *want)
{
    const char *got = json_string_value (json_object_get (ev, key));
    assert_non_null (got);
    if (want)
        assert_string_equal (got, want);
}

void
gw_assert_event (json_t *ev, const char *user_id, const char *description, const char *status)
{
    assert_true (json_is_object (ev));
    assert_int_equal (json_object_size (ev), 6);
    s_assert_member (ev, "user_id", user_id);
    s_assert_member (ev, "description", description);
    s_assert_member (ev, "status", status);
    assert_true (gw_is_uuid_v4 (json_string_value (json_object_get (ev, "event_id"))));
    assert_true (gw_is_time (json_string_value (json_object_get (ev, "created_at"))));
    assert_true (gw_is_time (json_string_value (json_object_get (ev, "updated_at"))));
}

void
gw_assert_detail (gw_resp_t *resp, long code, const char *detail)
{
    if (resp->code != code)
        fail_msg ("expected %ld, got %ld: %s", code, resp->code, resp->body ? resp->body : "");
    const char *got = json_string_value (json_object_get (resp->json, "detail"));
    if (!got || strcmp (got, detail) != 0)
        fail_msg ("expected detail \"%s\", got body %s", detail, resp->body ? resp->body : "");
}

/* loc array joined with '/'. */
static void
s_loc (json_t *loc, char *out, size_t size)
{
    out[0] = '\0';
    size_t i;
    json_t *part;
    json_array_foreach (loc, i, part)
    {
        size_t used = strlen (out);
        if (json_is_string (part))
            snprintf (out + used, size - used, "%s%s", i ? "/" : "", json_string_value (part));
        else
            snprintf (out + used, size - used, "%s%lld", i ? "/" : "",
                      (long long)json_integer_value (part));
    }
}

/* Checks resp against n (type, loc) pairs; NULL when it matches, else a
   description of the first mismatch (static buffer). */
static const char *
s_check_422 (gw_resp_t *resp, size_t n, va_list args)
{
    static char why[1024];
    const char *body = resp->body ? resp->body : "";
    if (resp->code != 422) {
        snprintf (why, sizeof why, "expected 422, got %ld: %.900s", resp->code, body);
        return why;
    }
    json_t *detail = json_object_get (resp->json, "detail");
    if (!json_is_array (detail) || json_array_size (detail) != n) {
        snprintf (why, sizeof why, "expected %zu problems, got %.900s", n, body);
        return why;
    }
    for (size_t k = 0; k < n; k++) {
        const char *type = va_arg (args, const char *);
        const char *loc = va_arg (args, const char *);
        bool found = false;
        size_t i;
        json_t *entry;
        json_array_foreach (detail, i, entry)
        {
            char got[256];
            s_loc (json_object_get (entry, "loc"), got, sizeof got);
            const char *t = json_string_value (json_object_get (entry, "type"));
            const char *msg = json_string_value (json_object_get (entry, "msg"));
            if (t && strcmp (t, type) == 0 && strcmp (got, loc) == 0)
                found = msg && *msg;
        }
        if (!found) {
            snprintf (why, sizeof why, "expected problem %s at %s (with a msg), got %.900s", type,
                      loc, body);
            return why;
        }
    }
    return NULL;
}

const char *
gw_check_422 (gw_resp_t *resp, size_t n, ...)
{
    va_list args;
    va_start (args, n);
    const char *why = s_check_422 (resp, n, args);
    va_end (args);
    return why;
}

void
gw_assert_422 (gw_resp_t *resp, size_t n, ...)
{
    va_list args;
    va_start (args, n);
    const char *why = s_check_422 (resp, n, args);
    va_end (args);
    if (why)
        fail_msg ("%s", why);
}

double
gw_metric (const char *text, const char *name, ...)
{
    size_t len = strlen (name);
    for (const char *line = text; line && *line;
         line = strchr (line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp (line, name, len) != 0 || (line[len] != '{' && line[len] != ' '))
            continue;
        const char *eol = strchr (line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen (line);
        char copy[1024];
        snprintf (copy, sizeof copy, "%.*s", (int)n, line);
        char *close = strrchr (copy, '}');
        char *value = close ? close + 1 : copy + len;
        if (close)
            *close = '\0';
        bool match = true;
        va_list args;
        va_start (args, name);
        for (const char *label; (label = va_arg (args, const char *));)
            if (!close || !strstr (copy, label))
                match = false;
        va_end (args);
        if (match)
            return strtod (value, NULL);
    }
    return 0;
}

double
gw_fetch_metric (gw_t *self, const char *name, const char *label)
{
    gw_resp_t resp = { 0 };
    assert_int_equal (gw_call (self, &resp, "GET", "/metrics", NULL, NULL, 0), 200);
    double v = gw_metric (resp.body, name, label, NULL);
    gw_resp_clear (&resp);
    return v;
}

void
gw_create (gw_t *self, const char *user_id, const char *description, char *id)
{
    gw_resp_t resp = { 0 };
    json_t *obj = json_pack ("{s:s, s:s}", "user_id", user_id, "description", description);
    char *text = json_dumps (obj, JSON_COMPACT);
    long code = gw_json (self, &resp, "POST", "/events", text);
    if (code != 201)
        fail_msg ("POST /events %s: expected 201, got %ld %s", text, code, resp.body);
    gw_assert_event (resp.json, user_id, description, "pending");
    snprintf (id, GW_ID_LEN + 1, "%s", json_string_value (json_object_get (resp.json, "event_id")));
    free (text);
    json_decref (obj);
    gw_resp_clear (&resp);
}

void
gw_assert_cursor (const gw_t *self, const json_t *next, const char *last_id)
{
    assert_true (json_is_string (next));
    if (self->shards == 0)
        assert_string_equal (json_string_value (next), last_id);
    else
        assert_true (json_string_length (next) > 0);
}

const char *
gw_cursor_error (const gw_t *self)
{
    return self->shards == 0 ? "uuid_parsing" : "cursor_invalid";
}

size_t
gw_list_all (gw_t *self, const char *query, int limit, char *ids, size_t n_max)
{
    size_t count = 0;
    char after[GW_CURSOR_MAX + 1] = "";
    gw_resp_t resp = { 0 };
    for (int page = 0; page < 100000; page++) {
        char path[1024];
        snprintf (path, sizeof path, "/events?%s%slimit=%d%s%s", query, *query ? "&" : "", limit,
                  after[0] ? "&after=" : "", after);
        if (gw_call (self, &resp, "GET", path, NULL, NULL, 0) != 200)
            fail_msg ("GET %s: %ld %s", path, resp.code, resp.body);
        json_t *items = json_object_get (resp.json, "items");
        json_t *next = json_object_get (resp.json, "next_after");
        assert_true (json_is_array (items));
        assert_true (json_array_size (items) <= (size_t)limit);
        assert_true (json_is_null (next) || json_is_string (next));
        size_t i;
        json_t *ev;
        json_array_foreach (items, i, ev)
        {
            gw_assert_event (ev, NULL, NULL, NULL);
            assert_true (count < n_max);
            snprintf (ids + count * (GW_ID_LEN + 1), GW_ID_LEN + 1, "%s",
                      json_string_value (json_object_get (ev, "event_id")));
            count++;
        }
        if (json_is_null (next))
            break;
        assert_true (count > 0);
        gw_assert_cursor (self, next, ids + (count - 1) * (GW_ID_LEN + 1));
        assert_true (strlen (json_string_value (next)) < sizeof after);
        snprintf (after, sizeof after, "%s", json_string_value (next));
    }
    gw_resp_clear (&resp);
    return count;
}

long
gw_read_head (int fd, int timeout_ms, char *head, size_t size)
{
    return gw_read_until (fd, timeout_ms, "\r\n\r\n", head, size);
}

long
gw_read_until (int fd, int timeout_ms, const char *want, char *text, size_t size)
{
    char buf[4096];
    size_t got = 0;
    buf[0] = '\0';
    int64_t deadline = clock_mono_ms () + timeout_ms;
    while (clock_mono_ms () < deadline && got < sizeof buf - 1 && !strstr (buf, want)) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        if (poll (&pfd, 1, 50) <= 0)
            continue;
        ssize_t n = recv (fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
    }
    if (text)
        snprintf (text, size, "%s", buf);
    long code = 0;
    return sscanf (buf, "HTTP/1.1 %ld", &code) == 1 ? code : 0;
}
