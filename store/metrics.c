/*
 * metrics — see metrics.h.
 *
 * A table maps each stat to its family: name, type and help, and a scale
 * for stats kept in other units than Prometheus' base ones (microseconds
 * and milliseconds become seconds). Counters end in _total, sizes in
 * _bytes, times in _seconds.
 */
#include "metrics.h"

#include "prom.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *stat; /* as the stats op names it */
    const char *name; /* Prometheus family */
    const char *type;
    double scale; /* 0: integer as is */
    const char *help;
} s_family_t;

static const s_family_t s_families[] = {
    { "events", "herald_store_events", "gauge", 0, "Events held." },
    { "head", "herald_store_feed_head", "gauge", 0,
      "Sequence number of the last change in the feed." },
    { "acked", "herald_store_feed_acknowledged", "gauge", 0,
      "Sequence number the notifier acknowledged up to." },
    { "feed_len", "herald_store_feed_length", "gauge", 0,
      "Changes in the feed not yet acknowledged (head - acknowledged)." },
    { "feed_max", "herald_store_feed_max", "gauge", 0,
      "Unacknowledged changes at which creates are refused (--feed-max)." },
    { "requests", "herald_store_requests_total", "counter", 0, "Request frames handled." },
    { "errors", "herald_store_errors_total", "counter", 0, "Replies with a status other than ok." },
    { "malformed", "herald_store_malformed_total", "counter", 0,
      "Request frames that were not a well-formed request." },
    { "unroutable", "herald_store_unroutable_replies_total", "counter", 0,
      "Replies dropped: the peer was gone or its queue full." },
    { "dropped", "herald_store_dropped_messages_total", "counter", 0,
      "Messages dropped before decoding: not framed as a request." },
    { "refused", "herald_store_refused_handshakes_total", "counter", 0,
      "CurveZMQ handshakes refused: the client's key is not allowed." },
    { "published", "herald_store_published_notes_total", "counter", 0,
      "Change notes sent on the live PUB stream." },
    { "unjournaled", "herald_store_unjournaled_changes_total", "counter", 0,
      "Changes the journal could not record (out of memory)." },
    { "connections", "herald_store_connections_total", "counter", 0,
      "Client connections accepted (a service that reconnects or restarts makes a new one)." },
    { "disconnections", "herald_store_disconnections_total", "counter", 0,
      "Client connections lost." },
    { "feed_rereads", "herald_store_feed_reread_records_total", "counter", 0,
      "Change records feed_read gave out again: a notifier that restarted, reconnected or "
      "was refused by RabbitMQ reads its unconfirmed tail again (the at-least-once duplicates)." },
    { "pages_cut", "herald_store_pages_cut_total", "counter", 0,
      "List and feed_read pages ended early by the peer's reply budget: its last replies fill "
      "4 MiB and it sent no receipt for them (a client without a CURVE key)." },
    { "receipts", "herald_store_receipts_total", "counter", 0,
      "Receipts that verified, proving replies read: those stop counting against the peer's "
      "budget (in a slot still holding later replies, with a later receipt)." },
    { "receipts_refused", "herald_store_receipts_refused_total", "counter", 0,
      "Receipts that did not verify (another connection's, an older store's, forged)." },
    { "table_overhead_bytes", "herald_store_table_overhead_bytes", "gauge", 0,
      "Bytes of the event table beyond the events' strings." },
    { "rss_bytes", "herald_store_resident_memory_bytes", "gauge", 0,
      "Resident memory of the store process." },
    { "table_bytes", "herald_store_table_bytes", "gauge", 0,
      "Bytes the events take, as --max-memory counts them." },
    { "max_events", "herald_store_max_events", "gauge", 0, "--max-events; 0 when unbounded." },
    { "max_memory", "herald_store_max_memory_bytes", "gauge", 0,
      "--max-memory; 0 when unbounded." },
    { "shard_id", "herald_store_shard_id", "gauge", 0,
      "This store's shard in --shard-map; 0 without a map." },
    { "shard_epoch", "herald_store_shard_map_epoch", "gauge", 0,
      "Epoch of the shard map; 0 without a map." },
    { "shard_slots", "herald_store_shard_slots", "gauge", 0,
      "Slots of the 16384 this shard owns (all without a map)." },
    { "journal_bytes", "herald_store_journal_bytes", "gauge", 0, "Size of the journal file." },
    { "journal_live_bytes_estimate", "herald_store_journal_live_bytes", "gauge", 0,
      "Estimate of the journal bytes a compaction would keep." },
    { "journal_commits", "herald_store_journal_commits_total", "counter", 0,
      "Group commits: one write for all of a loop pass's records." },
    { "journal_records", "herald_store_journal_records_total", "counter", 0,
      "Records written to the journal (records / commits = the mean batch)." },
    { "journal_syncs", "herald_store_journal_syncs_total", "counter", 0,
      "fdatasync calls on the journal." },
    { "journal_sync_us_total", "herald_store_journal_sync_seconds_total", "counter", 1e-6,
      "Time spent in fdatasync on the journal." },
    { "journal_sync_us_max", "herald_store_journal_sync_max_seconds", "gauge", 1e-6,
      "The longest fdatasync of the journal." },
    { "journal_unsynced_max_ms", "herald_store_journal_unsynced_max_seconds", "gauge", 1e-3,
      "The longest written journal data waited for its sync." },
    { "journal_synced_bytes", "herald_store_journal_synced_bytes_total", "counter", 0,
      "Journal bytes made durable." },
    { "journal_write_errors", "herald_store_journal_write_errors_total", "counter", 0,
      "Journal writes or syncs that failed (writes are then refused until one succeeds)." },
    { "journal_rewrites", "herald_store_journal_compactions_total", "counter", 0,
      "Journal compactions completed." },
    { "journal_error_errno", "herald_store_journal_error_errno", "gauge", 0,
      "errno of the journal's current failure; 0 when it works." },
};
#define S_FAMILIES (sizeof s_families / sizeof s_families[0])

static const s_family_t *
s_find (const char *stat, size_t len)
{
    for (size_t i = 0; i < S_FAMILIES; i++)
        if (strlen (s_families[i].stat) == len && memcmp (s_families[i].stat, stat, len) == 0)
            return &s_families[i];
    return NULL;
}

bool
store_metrics_knows (const char *stat, size_t len)
{
    return s_find (stat, len) != NULL;
}

static void
s_write (FILE *out, void *arg)
{
    const store_metrics_t *sources = arg;
    dispatch_t *dispatch = sources->dispatch;
    size_t n = 0;
    const proto_stat_t *stats = dispatch_stats (dispatch, &n);
    for (size_t i = 0; i < n; i++) {
        const s_family_t *f = s_find (stats[i].name.ptr, stats[i].name.len);
        if (!f)
            continue; /* test_metrics keeps this from happening */
        prom_family (out, f->name, f->type, f->help);
        if (f->scale)
            prom_sample_double (out, f->name, NULL, (double)stats[i].value * f->scale);
        else
            prom_sample (out, f->name, NULL, stats[i].value);
    }
    const dispatch_counters_t *c = dispatch_counters (dispatch);
    prom_family (out, "herald_store_operations_total", "counter",
                 "Requests handled, by operation and the status of the reply (op none: the "
                 "frame did not name a known operation; op batch: a batch, each of whose "
                 "requests is also counted under its own op).");
    for (int op = 0; op < PROTO_OP_COUNT_; op++)
        for (int st = 0; st < PROTO_E_COUNT_; st++) {
            if (c->ops[op][st] == 0)
                continue;
            char labels[96];
            snprintf (labels, sizeof labels, "op=\"%s\",result=\"%s\"",
                      op == PROTO_OP_NONE ? "none" : proto_op_name ((proto_op_t)op),
                      proto_status_name ((proto_status_t)st));
            prom_sample (out, "herald_store_operations_total", labels, c->ops[op][st]);
        }
    prom_family (out, "herald_store_operation_duration_seconds", "histogram",
                 "Time from a request's frame to its encoded reply, by operation (the group "
                 "commit's wait for the journal is not in it).");
    for (int op = 0; op < PROTO_OP_COUNT_; op++) {
        prom_histogram_t *h = dispatch_op_latency (dispatch, (proto_op_t)op);
        if (prom_histogram_count (h) == 0)
            continue;
        char labels[64];
        snprintf (labels, sizeof labels, "op=\"%s\"",
                  op == PROTO_OP_NONE ? "none" : proto_op_name ((proto_op_t)op));
        prom_histogram_write (out, "herald_store_operation_duration_seconds", labels, h);
    }
    if (sources->persist) {
        prom_family (out, "herald_store_journal_sync_duration_seconds", "histogram",
                     "Time of each fdatasync of the journal.");
        prom_histogram_write (out, "herald_store_journal_sync_duration_seconds", NULL,
                              persist_sync_histogram (sources->persist));
    }
    prom_process (out);
}

char *
store_metrics_render (void *arg, size_t *len)
{
    assert (arg);
    return prom_text (s_write, arg, len);
}
