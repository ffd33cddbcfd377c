/*
 * stop — the one way a Herald service learns it should stop: SIGINT and
 * SIGTERM set a flag that its loop reads on every pass (a clean exit on
 * either, in-flight work finished: docs/ARCHITECTURE.md §1). The store,
 * the notifier and the worker poll it; the gateway, whose libmicrohttpd
 * threads must never take a signal, blocks signals in every thread and
 * waits for them with sigwait in main instead.
 */
#ifndef HERALD_STOP_H
#define HERALD_STOP_H

#include <signal.h>

/* Installs SIGINT and SIGTERM handlers that set the returned flag, and
   ignores SIGPIPE (a peer gone is an error return, not a death). The flag
   is never NULL; the loop stops when it reads non-zero. The handlers are
   installed without SA_RESTART, so a blocking poll returns EINTR and the
   loop notices at once. A process using czmq must call
   zsys_handler_set (NULL) before its first socket, or czmq replaces these
   handlers with its own. */
volatile sig_atomic_t *stop_on_signals (void);

#endif
