#!/bin/bash
# scripts/run.sh stops everything it started however its output is
# redirected: the bug was that `./scripts/run.sh | tee run.log` and Ctrl-C
# left RabbitMQ and the four services running, because Ctrl-C also kills
# tee and the shutdown died of SIGPIPE on its first message to the pipe.
#
#   1. `run.sh 2>&1 | tee FILE`: once it is up, SIGINT to the pipeline's
#      process group, as a terminal's Ctrl-C does (tee dies with it), and a
#      second SIGINT 0.3 s later, as an impatient user presses it again:
#      the shutdown must neither die on the dead pipe nor stop halfway.
#   2. `run.sh 2>&1 | head -c 1`: the reader is gone before run.sh has even
#      started the services; run.sh must still start everything, say so in
#      its run.log, and stop everything on SIGTERM to the group.
#
# After each: within 60 s, no process of the group, no PID run.sh recorded,
# no process naming our ports, no listener on them or on our RabbitMQ's
# epmd port (runner_lib.sh). Fails against the run.sh before the fix (case 1
# leaves everything running; in case 2 run.sh dies during startup and leaves
# RabbitMQ running).
set -euo pipefail
test_name=test_run_sigpipe
# shellcheck source=runner_lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/runner_lib.sh"

run="$root/scripts/run.sh --no-build"
state=$HERALD_RUN_DIR

say "1: run.sh 2>&1 | tee, then Ctrl-C twice (ports $HERALD_HTTP_PORT $HERALD_STORE_PORT $HERALD_STORE_PUB_PORT $HERALD_AMQP_PORT)"
launch "$run 2>&1 | tee '$work/tee.out' >/dev/null"
wait_up 180 "$work/tee.out" "$state/logs/run.log"
check_pids_file
say "1: up (pids: $(awk '{ printf "%s=%s ", $1, $2 }' "$work/pids.seen" 2>/dev/null)); SIGINT to group $group"
kill -INT -- "-$group"
sleep 0.3
kill -INT -- "-$group" 2>/dev/null || true
wait_all_gone 60
pids_file_seen
grep -q 'run.sh: stopped' "$state/logs/run.log" ||
    fail "run.log does not say it stopped: $(cat "$state/logs/run.log")"
grep -q 'standard error is gone' "$state/logs/run.log" ||
    fail "run.log does not say it moved its messages there once tee was gone"
say "1: everything stopped (run.log: $(grep -c . "$state/logs/run.log") lines)"
rm -f "$work/pids.seen"

say "2: run.sh 2>&1 | head -c 1, then SIGTERM"
launch "$run 2>&1 | head -c 1 >'$work/head.out'"
wait_up 180 "$state/logs/run.log"
check_pids_file
[ "$(wc -c <"$work/head.out")" = 1 ] || fail "head got $(wc -c <"$work/head.out") bytes, not 1"
say "2: up with its reader gone; SIGTERM to group $group"
kill -TERM -- "-$group"
wait_all_gone 60
pids_file_seen
grep -q 'standard error is gone' "$state/logs/run.log" ||
    fail "run.log does not say run.sh lost its standard error"
grep -q 'run.sh: stopped' "$state/logs/run.log" ||
    fail "run.log does not say it stopped: $(cat "$state/logs/run.log")"
say "2: everything stopped"
say "PASS"
