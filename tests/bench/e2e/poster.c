/*
 * poster — see poster.h. One thread, `connections` non-blocking keep-alive
 * sockets and one poll(2) over them: each connection carries one request
 * at a time, written whole from a prepared buffer, and its answer is read
 * as far as the status line, the Content-Length header and that many body
 * bytes. That is all a load generator needs of HTTP/1.1 against our own
 * gateway, for a fraction of libcurl's CPU per request (the posters share
 * the two cores with everything they measure). Anything unexpected (a
 * closed connection, no Content-Length, a chunked or oversized answer, a
 * timeout) fails that request and the connection is opened again, except
 * that a request on a reused connection that got no byte back goes out
 * once more on a new one (the server may have closed it as it was sent).
 * An answer the server closes the connection after, or marks
 * "Connection: close", counts; the connection is then opened again at
 * once. Idle connections are watched, so one the server drops is not
 * used again.
 */
#include "poster.h"

#include "clock.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define POSTER_IDLE_WAIT_MS 100 /* longest poll before rechecking the deadline */
#define POSTER_RETRY_MS 100     /* before opening a connection that failed again */
#define POSTER_REQUEST_MAX 512  /* one request, headers and body */
#define POSTER_ANSWER_MAX 8192  /* one answer, headers and body */

/* One keep-alive connection and the request it carries. */
typedef struct {
    int fd;             /* -1: closed */
    int k;              /* event number in flight, -1: idle */
    int64_t started_us; /* when the request was sent (its timeout runs from here) */
    int64_t retry_us;   /* a closed connection is not opened again before */
    char request[POSTER_REQUEST_MAX];
    size_t request_len, written;
    char answer[POSTER_ANSWER_MAX];
    size_t got;
    int answers; /* answers read on this fd: above 0, the request in flight reused it */
} s_conn_t;

struct _poster_t {
    poster_config_t config;
    poster_result_t result;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[128];  /* host[:port] of the Host header */
    char path[128];  /* of the request line */
    s_conn_t *conns; /* config.connections of them */
    pthread_t thread;
};

/* When request i of this poster is due (0: now, no pacing). */
static int64_t
s_due_us (const poster_config_t *c, int64_t start_us, int i)
{
    return c->rate > 0 ? start_us + (int64_t)i * 1000000 / c->rate : 0;
}

/* Resolves config.url (http://host[:port][/path]) into addr, host and
   path. 0 or -1. */
static int
s_parse_url (poster_t *self)
{
    const char *url = self->config.url;
    if (strncmp (url, "http://", 7) != 0)
        return -1;
    const char *authority = url + 7, *slash = strchr (authority, '/');
    size_t len = slash ? (size_t)(slash - authority) : strlen (authority);
    if (len == 0 || len >= sizeof self->host)
        return -1;
    memcpy (self->host, authority, len);
    self->host[len] = '\0';
    snprintf (self->path, sizeof self->path, "%s", slash ? slash : "/");
    char name[128], port[16] = "80";
    snprintf (name, sizeof name, "%s", self->host);
    char *colon = strrchr (name, ':');
    if (colon) {
        snprintf (port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    if (getaddrinfo (name, port, &hints, &res) != 0)
        return -1;
    memcpy (&self->addr, res->ai_addr, res->ai_addrlen);
    self->addr_len = res->ai_addrlen;
    freeaddrinfo (res);
    return 0;
}

/* Closes conn; after a failure it is not opened again for
   POSTER_RETRY_MS, after an orderly close (Connection: close, an idle
   keep-alive the server dropped) at once. */
static void
s_close (s_conn_t *conn, int64_t now, bool failed)
{
    if (conn->fd >= 0)
        close (conn->fd);
    conn->fd = -1;
    conn->answers = 0;
    conn->retry_us = failed ? now + POSTER_RETRY_MS * 1000 : now;
}

/* Opens conn's socket (a blocking connect on loopback, then non-blocking).
   0 or -1. */
static int
s_open (poster_t *self, s_conn_t *conn, int64_t now)
{
    int fd = socket (self->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || connect (fd, (struct sockaddr *)&self->addr, self->addr_len) != 0
        || setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0
        || fcntl (fd, F_SETFL, O_NONBLOCK) != 0) {
        if (fd >= 0)
            close (fd);
        conn->fd = -1;
        conn->retry_us = now + POSTER_RETRY_MS * 1000;
        return -1;
    }
    conn->fd = fd;
    return 0;
}

/* Ends conn's request: 201 counts as created, anything else (code 0: no
   answer at all) as failed. last_us is the last answer's time. */
static void
s_finish (poster_t *self, s_conn_t *conn, int code, int64_t now)
{
    if (code == 201)
        self->result.created++;
    else
        self->result.failed++;
    if (code != 0)
        self->result.last_us = now;
    conn->k = -1;
    conn->got = 0;
}

/* Writes what is left of conn's request. 0, or -1 when the connection
   failed. */
static int
s_write (s_conn_t *conn)
{
    while (conn->written < conn->request_len) {
        ssize_t n = send (conn->fd, conn->request + conn->written,
                          conn->request_len - conn->written, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        conn->written += (size_t)n;
    }
    return 0;
}

/* Sends event number k on the idle, open conn and stamps it. 0 or -1. */
static int
s_send (poster_t *self, s_conn_t *conn, int k, int64_t now)
{
    char body[128];
    int body_len =
        snprintf (body, sizeof body, "{\"user_id\":\"bench\",\"description\":\"bench %d\"}", k);
    int n = snprintf (conn->request, sizeof conn->request,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      self->path, self->host, body_len, body);
    assert (n > 0 && (size_t)n < sizeof conn->request);
    conn->request_len = (size_t)n;
    conn->written = 0;
    conn->got = 0;
    conn->k = k;
    conn->started_us = now;
    self->config.sent_us[k] = now;
    return s_write (conn);
}

/* A request that went out on a reused keep-alive connection and got no
   byte back may have met the server closing it (the race every HTTP/1.1
   client has): it goes out once more, on a new connection, as libcurl
   does. 0 when it did, -1 when it is a failure to count. */
static int
s_resend (poster_t *self, s_conn_t *conn, int64_t now)
{
    if (conn->answers == 0 || conn->got > 0)
        return -1;
    close (conn->fd);
    conn->fd = -1;
    conn->answers = 0;
    if (s_open (self, conn, now) != 0)
        return -1;
    conn->written = 0;
    return s_write (conn);
}

/* The value of header name (with its colon) in the head, or NULL. */
static const char *
s_header (const char *head, size_t head_len, const char *name)
{
    size_t name_len = strlen (name);
    for (const char *line = memchr (head, '\n', head_len); line && line < head + head_len;
         line = memchr (line, '\n', (size_t)(head + head_len - line))) {
        line++;
        if ((size_t)(head + head_len - line) > name_len && strncasecmp (line, name, name_len) == 0)
            return line + name_len;
    }
    return NULL;
}

/* Reads what conn's answer has arrived. 1 when it is whole (*code set),
   2 when it is whole and the connection is to be closed (the server said
   so, or closed it after the answer), 0 for more to come, -1 when the
   connection is unusable. */
static int
s_read (s_conn_t *conn, int *code)
{
    bool ended = false; /* closed by the peer, failed, or the buffer full */
    while (!ended) {
        if (conn->got == sizeof conn->answer - 1) {
            ended = true;
            break;
        }
        ssize_t n =
            recv (conn->fd, conn->answer + conn->got, sizeof conn->answer - 1 - conn->got, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            ended = true;
        else
            conn->got += (size_t)n;
    }
    conn->answer[conn->got] = '\0';
    const char *end = strstr (conn->answer, "\r\n\r\n");
    if (!end)
        return ended ? -1 : 0;
    size_t head_len = (size_t)(end - conn->answer) + 4;
    const char *length = s_header (conn->answer, head_len, "Content-Length:");
    if (strncmp (conn->answer, "HTTP/1.1 ", 9) != 0 || !length)
        return -1;
    char *after;
    long body_len = strtol (length, &after, 10);
    if (after == length || body_len < 0 || (size_t)body_len > sizeof conn->answer)
        return -1;
    if (conn->got < head_len + (size_t)body_len)
        return ended ? -1 : 0;
    *code = atoi (conn->answer + 9);
    const char *connection = s_header (conn->answer, head_len, "Connection:");
    while (connection && *connection == ' ')
        connection++;
    return ended || (connection && strncasecmp (connection, "close", 5) == 0) ? 2 : 1;
}

/* The thread: sends every event, paced or not, with at most `connections`
   in flight, until all are answered or the deadline passes. */
static void *
s_run (void *arg)
{
    poster_t *self = arg;
    const poster_config_t *c = &self->config;
    int n_conns = c->connections;
    struct pollfd fds[POSTER_CONNECTIONS_MAX];
    s_conn_t *on[POSTER_CONNECTIONS_MAX];
    int next = 0, done = 0;
    int64_t start = clock_mono_us ();
    while (done < c->count && clock_mono_us () < c->deadline_us) {
        int64_t now = clock_mono_us ();
        int n_fds = 0, wait_ms = POSTER_IDLE_WAIT_MS;
        for (int i = 0; i < n_conns; i++) {
            s_conn_t *conn = &self->conns[i];
            if (conn->k >= 0 && now - conn->started_us > POSTER_REQUEST_TIMEOUT_MS * 1000LL) {
                s_finish (self, conn, 0, now);
                done++;
                s_close (conn, now, true);
            }
            if (conn->k < 0 && next < c->count && s_due_us (c, start, next) <= now
                && (conn->fd >= 0 || (now >= conn->retry_us && s_open (self, conn, now) == 0))) {
                if (s_send (self, conn, c->first + next++, now) != 0) {
                    s_finish (self, conn, 0, now);
                    done++;
                    s_close (conn, now, true);
                }
            }
            if (conn->fd >= 0) {
                /* An idle keep-alive connection is watched too: the server
                   may close it (its idle timeout), and the next request
                   must not go out on it. */
                short events =
                    conn->k >= 0 && conn->written < conn->request_len ? POLLIN | POLLOUT : POLLIN;
                fds[n_fds] = (struct pollfd){ .fd = conn->fd, .events = events };
                on[n_fds++] = conn;
            }
            if (conn->k < 0 && next < c->count) {
                /* Wake for the next paced request (on a closed connection
                   not before it may be opened again). */
                int64_t at = s_due_us (c, start, next);
                if (conn->fd < 0 && conn->retry_us > at)
                    at = conn->retry_us;
                int64_t ms = (at - now + 999) / 1000;
                if (ms < wait_ms)
                    wait_ms = ms < 0 ? 0 : (int)ms;
            }
        }
        if (poll (fds, (nfds_t)n_fds, wait_ms) <= 0)
            continue;
        now = clock_mono_us ();
        for (int i = 0; i < n_fds; i++) {
            s_conn_t *conn = on[i];
            if (!fds[i].revents)
                continue;
            if (conn->k < 0) {
                s_close (conn, now, false); /* idle: closed by the server, or unwanted bytes */
                continue;
            }
            int code = 0, rc = (fds[i].revents & POLLOUT) ? s_write (conn) : 0;
            if (rc == 0 && (fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
                rc = s_read (conn, &code);
            if (rc == 0 || (rc < 0 && s_resend (self, conn, now) == 0))
                continue;
            if (rc > 0)
                conn->answers++;
            s_finish (self, conn, rc > 0 ? code : 0, now);
            done++;
            if (rc != 1)
                s_close (conn, now, rc < 0);
        }
    }
    /* Whatever did not finish by the deadline failed. */
    self->result.failed += c->count - done;
    for (int i = 0; i < n_conns; i++)
        if (self->conns[i].fd >= 0)
            close (self->conns[i].fd);
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
    self->conns = calloc ((size_t)config->connections, sizeof *self->conns);
    if (!self->conns || s_parse_url (self) != 0) {
        fprintf (stderr, "poster: cannot reach %s\n", config->url);
        free (self->conns);
        free (self);
        return NULL;
    }
    for (int i = 0; i < config->connections; i++)
        self->conns[i] = (s_conn_t){ .fd = -1, .k = -1 };
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        free (self->conns);
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
    free (self->conns);
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
