/*
 * herald-bench-floor — the floor the gateway is measured against
 * (docs/ARCHITECTURE.md §8): a libmicrohttpd server that answers every
 * request, whatever its method and path, with one fixed JSON body the size of
 * an event (~200 bytes, 200 OK, Content-Type: application/json). It does no
 * work beyond what any libmicrohttpd server must do, so the gateway's req/s
 * divided by the floor's, measured in the same run, is the share of
 * libmicrohttpd's throughput the gateway keeps after parsing, validation, the
 * store round trip and the JSON encoding.
 *
 * Configured the fastest way seen on this machine (LIBRARY-NOTES):
 * MHD_USE_EPOLL + MHD_USE_TURBO with libmicrohttpd's own polling thread(s),
 * --threads of them (default 1). A request without a body is answered on
 * the second callback (see s_answer); a body is drained first, so
 * keep-alive holds for every request.
 *
 * Usage: herald-bench-floor [--port N (0 = any, printed)] [--threads N (1)]
 * Listens on 127.0.0.1 only; runs until SIGINT or SIGTERM.
 */
#include "event_json.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOOR_MAX_THREADS 64
#define FLOOR_CONNECTION_LIMIT 4096

/* An event as the gateway returns it: 220 bytes (event_json.h). */
static const char s_body[] = EVENT_JSON (EVENT_JSON_FLOOR_ID);

/* Marks a request after its first callback. */
static int s_seen;

/* libmicrohttpd closes the connection after a response queued on the first
   callback (headers only), so even a GET is answered on the second; a body
   is drained first, keeping POST on keep-alive too. */
static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_p)
{
    struct MHD_Response *response = cls;
    if (*req_p == NULL) {
        *req_p = &s_seen;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response (connection, MHD_HTTP_OK, response);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: herald-bench-floor [--port N] [--threads N]\n"
             "A libmicrohttpd server answering every request with a fixed %zu-byte JSON\n"
             "body: the floor herald-bench-gateway measures the gateway against.\n\n"
             "  --port N      port on 127.0.0.1 (0 = any free port; default 0)\n"
             "  --threads N   libmicrohttpd polling threads, 1..%d (default 1)\n"
             "  --help\n"
             "Prints \"herald-bench-floor listening on 127.0.0.1:PORT\" once ready;\n"
             "runs until SIGINT or SIGTERM.\n",
             sizeof s_body - 1, FLOOR_MAX_THREADS);
}

int
main (int argc, char *argv[])
{
    long port = 0, threads = 1;
    static const struct option options[] = {
        { "port", required_argument, NULL, 'p' },
        { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "p:t:h", options, NULL)) != -1) {
        char *end = NULL;
        if (opt == 'p')
            port = strtol (optarg, &end, 10);
        else if (opt == 't')
            threads = strtol (optarg, &end, 10);
        else {
            s_usage (opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
        if (!end || *end) {
            fprintf (stderr, "herald-bench-floor: not a number: %s\n", optarg);
            return 2;
        }
    }
    if (optind < argc || port < 0 || port > 65535 || threads < 1 || threads > FLOOR_MAX_THREADS) {
        s_usage (stderr);
        return 2;
    }

    /* Block the stop signals before libmicrohttpd starts its threads, so
       they inherit the mask and sigwait below is the only receiver. */
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    signal (SIGPIPE, SIG_IGN);

    struct MHD_Response *response =
        MHD_create_response_from_buffer (sizeof s_body - 1, (void *)s_body, MHD_RESPMEM_PERSISTENT);
    if (!response
        || MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json")
               != MHD_YES)
        return 1;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t)port);
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    /* One polling thread unless asked for a pool (libmicrohttpd warns about
       a pool of 1). */
    struct MHD_OptionItem pool[] = {
        { MHD_OPTION_THREAD_POOL_SIZE, threads, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    if (threads == 1)
        pool[0].option = MHD_OPTION_END;
    struct MHD_Daemon *daemon = MHD_start_daemon (
        MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, s_answer, response, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)FLOOR_CONNECTION_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024U, MHD_OPTION_ARRAY, pool, MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "herald-bench-floor: cannot listen on 127.0.0.1:%ld\n", port);
        MHD_destroy_response (response);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf ("herald-bench-floor listening on 127.0.0.1:%u (%ld thread%s, %zu-byte body)\n",
            info ? info->port : (unsigned)port, threads, threads == 1 ? "" : "s",
            sizeof s_body - 1);
    fflush (stdout);

    int sig = 0;
    sigwait (&stop, &sig);
    MHD_stop_daemon (daemon);
    MHD_destroy_response (response);
    return 0;
}
