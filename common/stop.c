/*
 * stop — see stop.h.
 */
#include "stop.h"

#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop = 0;
static volatile sig_atomic_t s_cause = 0; /* the signal, or -1 for stop_request */
static int s_fd = -1;

/* Async-signal-safe: write on an eventfd is. */
static void
s_stop_now (int cause)
{
    if (!s_cause)
        s_cause = cause;
    s_stop = 1;
    if (s_fd >= 0) {
        uint64_t one = 1;
        ssize_t rc = write (s_fd, &one, sizeof one);
        (void)rc;
    }
}

static void
s_on_signal (int sig)
{
    s_stop_now (sig);
}

volatile sig_atomic_t *
stop_on_signals (void)
{
    if (s_fd < 0)
        s_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return &s_stop;
}

int
stop_fd (void)
{
    return s_fd;
}

void
stop_request (void)
{
    s_stop_now (-1);
}

const char *
stop_reason (void)
{
    switch (s_cause) {
    case 0:
        return NULL;
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "a failed loop";
    }
}
