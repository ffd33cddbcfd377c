/*
 * metrics_http — see metrics_http.h.
 *
 * The handshake: `asked` counts scrapes, `served` the highest scrape a
 * render covered. A scrape takes the next number, rings the eventfd and
 * waits until served reaches it; the loop reads asked, renders outside the
 * lock (the render only reads the loop's own state) and publishes the text
 * with served = that asked. One render covers every scrape that asked
 * before it; a scrape that asked after waits for the next.
 */
#define _GNU_SOURCE
#include "metrics_http.h"

#include "listen_addr.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct _metrics_http_t {
    struct MHD_Daemon *daemon;
    int efd;
    uint16_t port;
    bool started;
    metrics_render_fn *render;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t done;
    uint64_t asked;  /* scrapes so far (under lock) */
    uint64_t served; /* the last scrape a render covered (under lock) */
    bool stopping;   /* under lock */
    char *text;      /* the last render (under lock), NULL when it failed */
    size_t len;
};

/* libmicrohttpd's messages: why it could not start (error), then about
   clients (debug), as the gateway does. */
__attribute__ ((format (printf, 2, 0))) static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    metrics_http_t *self = cls;
    log_library (self->started ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR, "metrics: libmicrohttpd", fmt,
                 ap);
}

/* Asks the loop for a render and waits for it. Returns a copy of the text
   (caller frees) or NULL when the loop did not answer in time, the render
   failed or we are stopping. Runs on the HTTP thread. */
static char *
s_scrape (metrics_http_t *self, size_t *len)
{
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += METRICS_HTTP_WAIT_MS / 1000;
    until.tv_nsec += (long)(METRICS_HTTP_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    char *copy = NULL;
    pthread_mutex_lock (&self->lock);
    uint64_t want = ++self->asked;
    uint64_t one = 1;
    if (write (self->efd, &one, sizeof one) != (ssize_t)sizeof one)
        log_debug ("metrics: eventfd write: %s", strerror (errno)); /* already rung */
    while (self->served < want && !self->stopping)
        if (pthread_cond_timedwait (&self->done, &self->lock, &until) == ETIMEDOUT)
            break;
    if (self->served >= want && self->text) {
        copy = malloc (self->len ? self->len : 1);
        if (copy) {
            memcpy (copy, self->text, self->len);
            *len = self->len;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return copy;
}

static enum MHD_Result
s_queue (struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len,
         enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (len, body, mode);
    if (!response) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    metrics_http_t *self = cls;
    static char s_not_found[] = "not found: the metrics are at /metrics\n";
    static char s_not_allowed[] = "method not allowed: GET /metrics\n";
    static char s_busy[] = "the service's loop did not answer in time\n";
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0 && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_queue (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", s_not_allowed,
                        sizeof s_not_allowed - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp (url, "/metrics") != 0 && strcmp (url, "/metrics/") != 0)
        return s_queue (conn, MHD_HTTP_NOT_FOUND, "text/plain", s_not_found, sizeof s_not_found - 1,
                        MHD_RESPMEM_PERSISTENT);
    size_t len = 0;
    char *text = s_scrape (self, &len);
    if (!text)
        return s_queue (conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", s_busy, sizeof s_busy - 1,
                        MHD_RESPMEM_PERSISTENT);
    return s_queue (conn, MHD_HTTP_OK, S_CONTENT_TYPE, text, len, MHD_RESPMEM_MUST_FREE);
}

metrics_http_t *
metrics_http_new (const char *listen, bool insecure, metrics_render_fn *render, void *arg)
{
    assert (listen);
    assert (render);
    struct sockaddr_storage addr;
    bool v6 = false;
    if (listen_addr_resolve (listen, &addr, &v6) != 0)
        return NULL;
    if (!insecure && !listen_addr_is_loopback ((struct sockaddr *)&addr)) {
        log_error ("protected mode: refusing to serve metrics on the non-loopback address %s. "
                   "Listen on 127.0.0.1, or give --metrics-insecure (HERALD_METRICS_INSECURE=1) "
                   "to serve them to anyone who can reach that address",
                   listen);
        return NULL;
    }
    metrics_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->render = render;
    self->arg = arg;
    self->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->done, &attr);
    pthread_condattr_destroy (&attr);
    if (self->efd < 0) {
        log_error ("metrics: eventfd: %s", strerror (errno));
        metrics_http_destroy (&self);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)METRICS_HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!self->daemon) {
        log_error ("metrics: cannot listen on %s", listen);
        metrics_http_destroy (&self);
        return NULL;
    }
    self->started = true;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (info && getsockname (info->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
        self->port = ntohs (bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    return self;
}

void
metrics_http_destroy (metrics_http_t **self_p)
{
    assert (self_p);
    metrics_http_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->done);
    pthread_mutex_unlock (&self->lock);
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    if (self->efd >= 0)
        close (self->efd);
    pthread_cond_destroy (&self->done);
    pthread_mutex_destroy (&self->lock);
    free (self->text);
    free (self);
    *self_p = NULL;
}

int
metrics_http_fd (metrics_http_t *self)
{
    assert (self);
    return self->efd;
}

void
metrics_http_serve (metrics_http_t *self)
{
    assert (self);
    uint64_t rung;
    if (read (self->efd, &rung, sizeof rung) < 0 && errno != EAGAIN)
        log_debug ("metrics: eventfd read: %s", strerror (errno));
    pthread_mutex_lock (&self->lock);
    uint64_t asked = self->asked, served = self->served;
    pthread_mutex_unlock (&self->lock);
    if (asked == served)
        return;
    size_t len = 0;
    char *text = self->render (self->arg, &len);
    pthread_mutex_lock (&self->lock);
    free (self->text);
    self->text = text;
    self->len = text ? len : 0;
    self->served = asked;
    pthread_cond_broadcast (&self->done);
    pthread_mutex_unlock (&self->lock);
}

uint16_t
metrics_http_port (metrics_http_t *self)
{
    assert (self);
    return self->port;
}

int
metrics_http_from_options (options_t *opts, metrics_render_fn *render, void *arg,
                           metrics_http_t **out)
{
    *out = NULL;
    const char *listen = options_get (opts, "metrics-listen")->str;
    if (!listen)
        return 0;
    *out = metrics_http_new (listen, options_get (opts, "metrics-insecure")->set, render, arg);
    if (!*out)
        return -1;
    log_info ("metrics at http://%s/metrics (port %u)", listen, (unsigned)metrics_http_port (*out));
    return 0;
}
