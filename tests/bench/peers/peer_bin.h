/*
 * peer_bin — the programs a benchmark runs beside Herald: wrk and the
 * bench-only peers (redis-server, redis-benchmark, webdis, nginx). They
 * come from Debian packages a machine may lack, so a benchmark looks them up
 * first and skips what needs a missing one, saying so, instead of failing
 * at exec. /usr/bin and /usr/sbin are searched after PATH: nginx lives in
 * /usr/sbin, which a non-root user's PATH often leaves out. A peer server is
 * then started the one way: as this process's child (so a stop by PID and
 * harness_spawn's parent-death signal reach it), ready once it accepts TCP.
 */
#ifndef HERALD_BENCH_PEER_BIN_H
#define HERALD_BENCH_PEER_BIN_H

#include <stddef.h>
#include <sys/types.h>

/* The executable `name`, as an absolute path into out: name itself when it
   holds a slash, else the first of PATH, /usr/bin and /usr/sbin that has
   it. Returns 0, or -1 when there is none (or out is too small). */
int peer_bin_find (const char *name, char *out, size_t size);

/* Starts argv (argv[0] a path peer_bin_find gave), its stdout and stderr
   appended to out_path, and waits up to timeout_ms until it accepts TCP on
   127.0.0.1:port. Returns its PID, or 0 when it did not start, exited, or
   did not listen in time; then nothing of it runs. */
pid_t peer_bin_start (const char *const argv[], const char *out_path, int port, int timeout_ms);

/* A peer that will not run: "skipped: <why>" into skip (size bytes, for
   the benchmark's table) and "peer: <peer> skipped: <why>" on stdout. */
void peer_bin_skip (char *skip, size_t size, const char *peer, const char *why);

#endif
