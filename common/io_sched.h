/*
 * io_sched — the scheduling of ZeroMQ's own threads (its I/O thread and
 * reaper) in the gateway and the store, `--io-sched`.
 *
 * Under load each store round trip wakes both ends' I/O threads. Under
 * the default policy a woken thread preempts the loop thread running on
 * its core, in the middle of a pass; under SCHED_BATCH a wake-up does not
 * preempt (the scheduler's tick still shares the core): the I/O thread
 * runs on an idle core, or when the loop thread sleeps or its slice ends.
 * The nice value is unchanged, so it gets the same share of the CPU.
 * Measured on 2 cores (README, "Benchmarks"), gateway and store together
 * spent 7-10% less CPU per POST, and served 1-8% more of them. A batch
 * the gateway hands libzmq in mid-pass would then wait for the pass to
 * end: the gateway's loop yields its core when one goes (gateway/server.c).
 *
 * libzmq applies the policy inside each new thread and aborts the process
 * if the kernel refuses it (a seccomp profile may), so io_sched_policy
 * tries it first on a thread of its own.
 */
#ifndef HERALD_IO_SCHED_H
#define HERALD_IO_SCHED_H

#include <stdbool.h>

#define IO_SCHED_OPTION_HELP                                                                       \
    "scheduling of ZeroMQ's I/O threads: batch (SCHED_BATCH: a woken I/O thread does not "         \
    "preempt the loop thread; less CPU per request) or normal (the policy they inherit)"

/* The policy for ZMQ_THREAD_SCHED_POLICY (zmq_ctx_set) or
   zsys_set_thread_sched_policy: SCHED_BATCH when batch is asked for and the
   system allows it, else -1 (libzmq's default; a warning says why when
   batch was refused). Call before the context makes its first socket. */
int io_sched_policy (bool batch);

#endif
