/*
 * stack — see stack.h. Everything here polls with deadlines; nothing sleeps
 * blindly. The HTTP client is one libcurl handle with connection reuse so a
 * burst of POSTs measures the system rather than TCP setup.
 */
#include "stack.h"
#include "stack_internal.h"

#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STACK_BODY_MAX (1024 * 1024)

/* One HTTP client: a libcurl handle and the body of its last response. */
typedef struct {
    CURL *curl;
    harness_body_t body;
} client_t;

static client_t *
s_client_new (void)
{
    client_t *client = calloc (1, sizeof *client);
    if (!client)
        return NULL;
    client->body = (harness_body_t){ malloc (STACK_BODY_MAX + 1), 0, STACK_BODY_MAX };
    client->curl = curl_easy_init ();
    if (!client->body.data || !client->curl) {
        free (client->body.data);
        if (client->curl)
            curl_easy_cleanup (client->curl);
        free (client);
        return NULL;
    }
    curl_easy_setopt (client->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (client->curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (client->curl, CURLOPT_WRITEFUNCTION, harness_body_append);
    curl_easy_setopt (client->curl, CURLOPT_WRITEDATA, &client->body);
    curl_easy_setopt (client->curl, CURLOPT_TCP_NODELAY, 1L);
    return client;
}

static void
s_client_destroy (client_t **client_p)
{
    client_t *client = *client_p;
    if (!client)
        return;
    curl_easy_cleanup (client->curl);
    free (client->body.data);
    free (client);
    *client_p = NULL;
}

int
stack_init_on (e2e_stack_t *self, const harness_rabbit_t *rabbit)
{
    memset (self, 0, sizeof *self);
    signal (SIGPIPE, SIG_IGN);
    log_init ("e2e", LOG_LEVEL_WARN); /* the broker helpers log connects */
    curl_global_init (CURL_GLOBAL_DEFAULT);
    self->client = s_client_new ();
    if (!self->client)
        return -1;
    if (rabbit)
        self->rabbit = *rabbit;
    return 0;
}

int
stack_init (e2e_stack_t *self)
{
    if (stack_init_on (self, NULL) != 0 || harness_rabbit_start (&self->rabbit) != 0)
        return -1;
    self->rabbit_up = true;
    return 0;
}

int
stack_group_setup (void **state)
{
    static e2e_stack_t stack;
    if (stack_init (&stack) != 0)
        return -1;
    *state = &stack;
    return 0;
}

int
stack_group_teardown (void **state)
{
    stack_fini (*state);
    return 0;
}

void
stack_fini (e2e_stack_t *self)
{
    stack_end (self);
    if (self->rabbit_up)
        harness_rabbit_stop (&self->rabbit);
    self->rabbit_up = false;
    s_client_destroy ((client_t **)&self->client);
}

void
stack_begin (e2e_stack_t *self)
{
    stack_end (self);
    stack_purge (self);
    self->run++;
    self->store_data_dir[0] = '\0';
    self->n_shards = 0; /* stack_start_shards makes a sharded scenario */
    self->shard_map[0] = '\0';
    self->store_port = harness_free_port ();
    self->pub_port = harness_free_port ();
    self->http_port = harness_free_port ();
    self->http2_port = harness_free_port ();
    self->metrics = self->json_logs = self->debug_logs = false; /* set after this */
    self->store_metrics_port = harness_free_port ();
    self->notifier_metrics_port = harness_free_port ();
    for (int i = 0; i < STACK_WORKERS_MAX; i++)
        self->worker_metrics_port[i] = harness_free_port ();
    snprintf (self->store_ep, sizeof self->store_ep, "tcp://127.0.0.1:%d", self->store_port);
    snprintf (self->gateway_url, sizeof self->gateway_url, "http://127.0.0.1:%d", self->http_port);
    snprintf (self->worker_gateway_url, sizeof self->worker_gateway_url, "%s", self->gateway_url);
    for (int i = 0; i < STACK_WORKERS_MAX; i++) {
        snprintf (self->worker_out[i], sizeof self->worker_out[i], "%s/run%d-worker%d.out",
                  harness_tmpdir (), self->run, i);
        unlink (self->worker_out[i]);
    }
}

static void
s_stop (pid_t *pid)
{
    if (*pid > 0)
        harness_stop (*pid, SIGTERM, 10000);
    *pid = 0;
}

void
stack_end (e2e_stack_t *self)
{
    s_stop (&self->notifier);
    for (int i = 0; i < STACK_WORKERS_MAX; i++)
        s_stop (&self->workers[i]);
    s_stop (&self->gateway2);
    s_stop (&self->gateway);
    s_stop (&self->store);
    stack_end_shards (self);
}

int
stack_metrics_port (e2e_stack_t *self, const char *name)
{
    if (strcmp (name, "store") == 0)
        return self->store_metrics_port;
    if (strcmp (name, "notifier") == 0)
        return self->notifier_metrics_port;
    if (strcmp (name, "gateway") == 0)
        return self->http_port;
    if (strcmp (name, "gateway2") == 0)
        return self->http2_port;
    int i;
    if (sscanf (name, "worker%d", &i) == 1 && i >= 0 && i < STACK_WORKERS_MAX)
        return self->worker_metrics_port[i];
    return 0;
}

pid_t
stack_spawn (e2e_stack_t *self, const char *name, const char *const argv[], const char *const env[],
             const char *out)
{
    char err[600];
    snprintf (err, sizeof err, "%s/run%d-%s.log", harness_tmpdir (), self->run, name);
    /* With metrics on, every service but the gateways (theirs is on the
       API port) serves /metrics on its own port. */
    const char *all[16];
    size_t n = 0;
    for (; env && env[n] && n < 12; n++)
        all[n] = env[n];
    char metrics[64];
    int port =
        self->metrics && strncmp (name, "gateway", 7) != 0 ? stack_metrics_port (self, name) : 0;
    if (port > 0) {
        snprintf (metrics, sizeof metrics, "HERALD_METRICS_LISTEN=127.0.0.1:%d", port);
        all[n++] = metrics;
    }
    if (self->json_logs)
        all[n++] = "HERALD_LOG_FORMAT=json";
    if (self->debug_logs)
        all[n++] = "HERALD_LOG_LEVEL=debug"; /* after the list: it wins */
    all[n] = NULL;
    pid_t pid = harness_spawn (argv, all, out ? out : err, err);
    if (pid < 0)
        fprintf (stderr, "stack: cannot start %s\n", name);
    return pid;
}

/* Says on stderr why a step of the stack failed, with the last lines of
   the named service's log: CI shows a failing test's stderr, and nothing
   else of its run. */
static void s_report (e2e_stack_t *self, const char *name, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_report (e2e_stack_t *self, const char *name, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "stack: %s ", name);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
    harness_print_tail (stack_log_path (self, name), 20);
}

/* 0 once the service started as pid listens on port, else -1 (said). */
static int
s_wait_listening (e2e_stack_t *self, const char *name, pid_t pid, int port)
{
    if (pid <= 0)
        return -1;
    if (harness_wait_tcp (port, 10000) != 0) {
        s_report (self, name, "did not listen on 127.0.0.1:%d within 10 s (%s)", port,
                  harness_alive (pid) ? "running" : "exited");
        return -1;
    }
    return 0;
}

int
stack_spawn_store (e2e_stack_t *self, const char *name, int port, int pub_port,
                   const char *data_dir, long feed_max, const char *const *extra, pid_t *pid)
{
    char bind[80], pub[80], max[32];
    snprintf (bind, sizeof bind, "HERALD_STORE_BIND=tcp://127.0.0.1:%d", port);
    snprintf (pub, sizeof pub, "HERALD_STORE_PUB_BIND=tcp://127.0.0.1:%d", pub_port);
    snprintf (max, sizeof max, "%ld", feed_max);
    const char *env[] = { bind, pub, "HERALD_LOG_LEVEL=info", NULL };
    const char *argv[16] = { harness_bin ("herald-store") };
    int argc = 1;
    if (data_dir && data_dir[0]) {
        argv[argc++] = "--data-dir";
        argv[argc++] = data_dir;
    }
    if (feed_max > 0) {
        argv[argc++] = "--feed-max";
        argv[argc++] = max;
    }
    for (int k = 0; extra && extra[k] && argc < 15; k++)
        argv[argc++] = extra[k];
    *pid = stack_spawn (self, name, argv, env, NULL);
    return s_wait_listening (self, name, *pid, port);
}

int
stack_start_store (e2e_stack_t *self, long feed_max)
{
    return stack_spawn_store (self, "store", self->store_port, self->pub_port, self->store_data_dir,
                              feed_max, NULL, &self->store);
}

static long s_request_on (client_t *client, const char *base, const char *method, const char *path,
                          const char *body);

static int
s_start_gateway (e2e_stack_t *self, pid_t *pid, int port, const char *name)
{
    char listen[64], endpoint[96], map[600];
    snprintf (listen, sizeof listen, "HERALD_HTTP_LISTEN=127.0.0.1:%d", port);
    snprintf (endpoint, sizeof endpoint, "HERALD_STORE_ENDPOINT=%s", self->store_ep);
    snprintf (map, sizeof map, "HERALD_SHARD_MAP=%s", self->shard_map);
    /* A sharded scenario's gateway routes by the map (stack_start_shards). */
    const char *env[] = { listen, endpoint, self->n_shards > 0 ? map : NULL, NULL };
    const char *argv[] = { harness_bin ("herald-gateway"), NULL };
    *pid = stack_spawn (self, name, argv, env, NULL);
    if (s_wait_listening (self, name, *pid, port) != 0)
        return -1;
    /* Listening is not ready: until its DEALER has connected to the store
       the gateway answers 503. Wait for /readyz like a deployment would. */
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", port);
    int64_t until = clock_mono_ms () + 10000;
    long code;
    while ((code = s_request_on (self->client, base, "GET", "/readyz", NULL)) != 200) {
        if (clock_mono_ms () >= until) {
            s_report (self, name, "not ready within 10 s: GET /readyz answered %ld (%s)", code,
                      harness_alive (*pid) ? "running" : "exited");
            return -1;
        }
        harness_nap_ms (20);
    }
    return 0;
}

int
stack_start_gateway (e2e_stack_t *self)
{
    return s_start_gateway (self, &self->gateway, self->http_port, "gateway");
}

void
stack_use_gateway2 (e2e_stack_t *self)
{
    snprintf (self->worker_gateway_url, sizeof self->worker_gateway_url, "http://127.0.0.1:%d",
              self->http2_port);
}

int
stack_start_gateway2 (e2e_stack_t *self)
{
    return s_start_gateway (self, &self->gateway2, self->http2_port, "gateway2");
}

/* HERALD_HEALTH_FILE=<tmpdir>/run<N>-<name>.health for a service. */
static void
s_health_env (e2e_stack_t *self, const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "HERALD_HEALTH_FILE=%s/run%d-%s.health", harness_tmpdir (), self->run,
              name);
}

int
stack_check_health (e2e_stack_t *self, const char *name)
{
    char cmd[1600];
    const char *bin = strncmp (name, "worker", 6) == 0 ? "herald-worker" : "herald-notifier";
    snprintf (cmd, sizeof cmd, "'%s' --check --health-file '%s/run%d-%s.health' 2>/dev/null",
              harness_bin (bin), harness_tmpdir (), self->run, name);
    int rc = system (cmd);
    return rc == 0 ? 0 : -1;
}

int
stack_spawn_notifier (e2e_stack_t *self, const char *name, const char *store_ep, int pub_port,
                      const char *const *extra, pid_t *pid)
{
    char endpoint[96], pub[96], url[160];
    snprintf (endpoint, sizeof endpoint, "HERALD_STORE_ENDPOINT=%s", store_ep);
    snprintf (pub, sizeof pub, "HERALD_STORE_PUB_ENDPOINT=tcp://127.0.0.1:%d", pub_port);
    snprintf (url, sizeof url, "HERALD_AMQP_URL=%s", self->rabbit.url);
    char health[600];
    s_health_env (self, name, health, sizeof health);
    const char *env[] = { endpoint, pub, url, health, NULL };
    const char *argv[16] = { harness_bin ("herald-notifier") };
    for (size_t i = 0; extra && extra[i] && i + 2 < sizeof argv / sizeof argv[0]; i++)
        argv[i + 1] = extra[i];
    *pid = stack_spawn (self, name, argv, env, NULL);
    return *pid > 0 ? 0 : -1;
}

int
stack_start_notifier_with (e2e_stack_t *self, const char *const *extra)
{
    return stack_spawn_notifier (self, "notifier", self->store_ep, self->pub_port, extra,
                                 &self->notifier);
}

int
stack_start_notifier (e2e_stack_t *self)
{
    return stack_start_notifier_with (self, NULL);
}

int
stack_start_worker (e2e_stack_t *self, int i, const char *const *extra)
{
    char url[160], gw[96], name[32];
    snprintf (url, sizeof url, "HERALD_AMQP_URL=%s", self->rabbit.url);
    snprintf (gw, sizeof gw, "HERALD_GATEWAY_URL=%s", self->worker_gateway_url);
    snprintf (name, sizeof name, "worker%d", i);
    char health[600];
    s_health_env (self, name, health, sizeof health);
    const char *env[] = { url, gw, health, NULL };
    const char *argv[16] = { harness_bin ("herald-worker") };
    int argc = 1;
    for (int k = 0; extra && extra[k] && argc < 15; k++)
        argv[argc++] = extra[k];
    argv[argc] = NULL;
    self->workers[i] = stack_spawn (self, name, argv, env, self->worker_out[i]);
    return self->workers[i] > 0 ? 0 : -1;
}

int
stack_start_all_with (e2e_stack_t *self, const char *const *notifier_extra)
{
    if (stack_start_store (self, 0) || stack_start_gateway (self)
        || stack_start_notifier_with (self, notifier_extra) || stack_start_worker (self, 0, NULL))
        return -1;
    return 0;
}

int
stack_start_all (e2e_stack_t *self)
{
    return stack_start_all_with (self, NULL);
}

int
stack_start_all_delivering (e2e_stack_t *self, char *ids)
{
    if (stack_start_all (self) != 0)
        return -1;
    int code = stack_post (self, "u-0", "order 0 shipped", ids);
    if (code != 201) {
        s_report (self, "gateway", "answered POST /events with %d: %s", code,
                  ((client_t *)self->client)->body.data);
        return -1;
    }
    if (stack_wait_processed (self, 1, 30000) != 1) {
        s_report (self, "notifier", "or worker0: event %s not processed within 30 s", ids);
        harness_print_tail (self->worker_out[0], 20);
        harness_print_tail (stack_log_path (self, "worker0"), 20);
        return -1;
    }
    return 0;
}

/* Performs a request on client; returns the HTTP status or 0. Body in
   client->body. */
static long
s_request_on (client_t *client, const char *base, const char *method, const char *path,
              const char *body)
{
    char url[512];
    snprintf (url, sizeof url, "%s%s", base, path);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    CURL *curl = client->curl;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
        curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    } else {
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
    }
    client->body.len = 0;
    client->body.data[0] = '\0';
    long code = 0;
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all (headers);
    return code;
}

static long
s_request (e2e_stack_t *self, const char *method, const char *path, const char *body)
{
    return s_request_on (self->client, self->gateway_url, method, path, body);
}

/* POST /events on client; on 201 copies the id (37 bytes) into id. */
static int
s_post_on (client_t *client, const char *base, const char *user_id, const char *description,
           char *id)
{
    json_t *obj = json_pack ("{s:s, s:s}", "user_id", user_id, "description", description);
    char *text = json_dumps (obj, JSON_COMPACT);
    long code = s_request_on (client, base, "POST", "/events", text);
    free (text);
    json_decref (obj);
    if (code == 201 && id) {
        json_t *root = json_loads (client->body.data, 0, NULL);
        const char *value = json_string_value (json_object_get (root, "event_id"));
        snprintf (id, STACK_ID_LEN + 1, "%s", value ? value : "");
        json_decref (root);
    }
    return (int)code;
}

int
stack_post (e2e_stack_t *self, const char *user_id, const char *description, char *id)
{
    return s_post_on (self->client, self->gateway_url, user_id, description, id);
}

/* Posts event base+i as "u-<base+i>" / "order <base+i> shipped". */
static int
s_post_numbered (client_t *client, const char *base_url, int number, char *id)
{
    char user[32], desc[64];
    snprintf (user, sizeof user, "u-%d", number);
    snprintf (desc, sizeof desc, "order %d shipped", number);
    id[0] = '\0';
    return s_post_on (client, base_url, user, desc, id);
}

int
stack_post_many (e2e_stack_t *self, int base, int n, char *ids)
{
    int created = 0;
    for (int i = 0; i < n; i++)
        if (s_post_numbered (self->client, self->gateway_url, base + i,
                             ids + (size_t)i * (STACK_ID_LEN + 1))
            == 201)
            created++;
    return created;
}

struct _stack_burst_t {
    pthread_t thread;
    client_t *client;
    char url[64];
    int base, n, rate;
    char *ids;
    atomic_int posted, failed;
};

static void *
s_burst_thread (void *arg)
{
    stack_burst_t *burst = arg;
    int64_t start = clock_mono_ms ();
    for (int i = 0; i < burst->n; i++) {
        if (burst->rate > 0) {
            int64_t wait = start + (int64_t)i * 1000 / burst->rate - clock_mono_ms ();
            if (wait > 0)
                harness_nap_ms ((int)wait);
        }
        if (s_post_numbered (burst->client, burst->url, burst->base + i,
                             burst->ids + (size_t)i * (STACK_ID_LEN + 1))
            == 201)
            atomic_fetch_add (&burst->posted, 1);
        else
            atomic_fetch_add (&burst->failed, 1);
    }
    return NULL;
}

stack_burst_t *
stack_burst_start (e2e_stack_t *self, int base, int n, int rate, char *ids)
{
    stack_burst_t *burst = calloc (1, sizeof *burst);
    if (!burst)
        return NULL;
    burst->client = s_client_new ();
    snprintf (burst->url, sizeof burst->url, "%s", self->gateway_url);
    burst->base = base;
    burst->n = n;
    burst->rate = rate;
    burst->ids = ids;
    atomic_init (&burst->posted, 0);
    atomic_init (&burst->failed, 0);
    if (!burst->client || pthread_create (&burst->thread, NULL, s_burst_thread, burst) != 0) {
        s_client_destroy (&burst->client);
        free (burst);
        return NULL;
    }
    return burst;
}

int
stack_burst_posted (stack_burst_t *burst)
{
    return atomic_load (&burst->posted);
}

int
stack_burst_failed (stack_burst_t *burst)
{
    return atomic_load (&burst->failed);
}

int
stack_burst_wait (stack_burst_t *burst, int n, int timeout_ms)
{
    int64_t until = clock_mono_ms () + timeout_ms;
    while (atomic_load (&burst->posted) < n && clock_mono_ms () < until)
        harness_nap_ms (5);
    return atomic_load (&burst->posted);
}

int
stack_burst_join (stack_burst_t **burst_p)
{
    stack_burst_t *burst = *burst_p;
    if (!burst)
        return -1;
    pthread_join (burst->thread, NULL);
    int posted = atomic_load (&burst->posted);
    s_client_destroy (&burst->client);
    free (burst);
    *burst_p = NULL;
    return posted;
}

int
stack_get_status (e2e_stack_t *self, const char *id, char *status, size_t size)
{
    char path[96];
    snprintf (path, sizeof path, "/events/%s", id);
    long code = s_request (self, "GET", path, NULL);
    if (code == 200) {
        json_t *root = json_loads (((client_t *)self->client)->body.data, 0, NULL);
        const char *value = json_string_value (json_object_get (root, "status"));
        snprintf (status, size, "%s", value ? value : "");
        json_decref (root);
    }
    return (int)code;
}

int
stack_count_processed (e2e_stack_t *self)
{
    int count = 0;
    char after[STACK_ID_LEN + 1] = "";
    for (;;) {
        char path[160];
        snprintf (path, sizeof path, "/events?status=processed&limit=1000%s%s",
                  after[0] ? "&after=" : "", after);
        if (s_request (self, "GET", path, NULL) != 200)
            return -1;
        json_t *root = json_loads (((client_t *)self->client)->body.data, 0, NULL);
        json_t *items = json_object_get (root, "items");
        const char *next = json_string_value (json_object_get (root, "next_after"));
        count += (int)json_array_size (items);
        snprintf (after, sizeof after, "%s", next ? next : "");
        json_decref (root);
        if (!next)
            return count;
    }
}

int
stack_wait_processed (e2e_stack_t *self, int n, int timeout_ms)
{
    int64_t until = clock_mono_ms () + timeout_ms;
    int count = stack_count_processed (self);
    while (count < n && clock_mono_ms () < until) {
        harness_nap_ms (100);
        count = stack_count_processed (self);
    }
    return count;
}

const char *
stack_log_path (e2e_stack_t *self, const char *name)
{
    static char path[600];
    snprintf (path, sizeof path, "%s/run%d-%s.log", harness_tmpdir (), self->run, name);
    return path;
}
