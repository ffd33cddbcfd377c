/*
 * progress — whether the relay is getting anywhere, for `--check`.
 *
 * Being connected is not doing the job: a relay whose publishes are never
 * confirmed (RabbitMQ blocking publishers on a memory or disk alarm, a
 * window stuck behind a lost confirm) or that cannot reach the broker
 * while changes pile up in the store's feed is up and useless. The relay
 * reports what it sees — each feed reply's backlog (feed_len), each advance
 * of its confirmed cursor — and progress judges: changes pending and no
 * advance for stall_ms is a stall. An empty feed is never a stall, however
 * long it stays empty.
 *
 * progress_report keeps the health file (health.h) truthful: stalled, it
 * writes the reason (`--check` fails at once, printing it); otherwise it
 * touches the file while the relay is connected and reading, as before.
 * No I/O but that file and the logs; the caller passes the clock.
 */
#ifndef HERALD_PROGRESS_H
#define HERALD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_STALL_MS_DEFAULT 30000

typedef struct _progress_t progress_t;

/* A judge that calls stall_ms (> 0) without progress while changes are
   pending a stall; now_ms (monotonic) counts as the last progress. NULL
   when out of memory. */
progress_t *progress_new (int64_t stall_ms, int64_t now_ms);
void progress_destroy (progress_t **self_p);

/* A feed_read reply said feed_len changes are unacknowledged. An empty
   feed counts as progress: there is nothing to be late with. */
void progress_feed (progress_t *self, uint64_t feed_len, int64_t now_ms);

/* The confirmed cursor moved forward (or the store's cursor did). */
void progress_advanced (progress_t *self, int64_t now_ms);

/* Why the relay cannot make progress although connected (borrowed, a
   literal: e.g. RabbitMQ refusing publishes because the queue is full), or
   NULL when nothing is known to block it. Only names the stall in the
   health file and the log; what is a stall does not change. */
void progress_blocked (progress_t *self, const char *why);

/* How long the relay has been stalled at now_ms: the time since its last
   progress when changes are pending and that is at least stall_ms, else 0. */
int64_t progress_stalled_ms (progress_t *self, int64_t now_ms);

/* Updates health_file (NULL: none) for now_ms: the reason when stalled,
   else a touch when relaying (connected to the broker, the store
   answering), else nothing so the file ages out. Logs a warning when a
   stall begins and a note when it ends. */
void progress_report (progress_t *self, const char *health_file, bool relaying, int64_t now_ms);

#endif
