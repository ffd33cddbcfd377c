/*
 * stop — the one way a Herald service learns it should stop: SIGINT and
 * SIGTERM (a clean exit on either, in-flight work finished:
 * docs/ARCHITECTURE.md §1), or the program itself when one of its loops
 * fails. Every loop learns it the same way, by the flag stop_on_signals
 * returns, read on every pass.
 *
 * A loop that may block in poll for long, or that runs in a thread of its
 * own (the gateway's), also polls stop_fd: a signal lands in one arbitrary
 * thread and interrupts only that thread's poll, while the descriptor wakes
 * every poller at once. It stays readable once stopping has begun (nothing
 * drains it), so a loop that keeps running to finish its work removes it
 * from its poll set.
 */
#ifndef HERALD_STOP_H
#define HERALD_STOP_H

#include <signal.h>

/* Installs SIGINT and SIGTERM handlers that set the returned flag and make
   stop_fd readable, and ignores SIGPIPE (a peer gone is an error return,
   not a death). The flag is never NULL; the loop stops when it reads
   non-zero. The handlers are installed without SA_RESTART, so a blocking
   poll returns EINTR and the loop notices at once. A process using czmq
   must call zsys_handler_set (NULL) before its first socket, or czmq
   replaces these handlers with its own. Calling it again is harmless. */
volatile sig_atomic_t *stop_on_signals (void);

/* A descriptor (eventfd) that becomes readable, and stays so, when the stop
   is asked; -1 if it could not be made (then only the flag works). Owned by
   this module: poll it, never read or close it. */
int stop_fd (void);

/* Asks the stop from inside the program, as a signal would (for a loop
   that failed and takes the others down with it). Async-signal-safe. */
void stop_request (void);

/* What asked the stop, for the log: "SIGINT", "SIGTERM", "a failed loop",
   or NULL while nothing has. */
const char *stop_reason (void);

#endif
