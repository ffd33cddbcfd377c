# shellcheck shell=bash
# Shared by the tests of scripts/run.sh (sourced, not run): starts run.sh the
# way a terminal runs a foreground pipeline, and checks that everything it
# started is gone afterwards.
#
# Each test gets its own state dir (HERALD_RUN_DIR) and four free loopback
# ports, so it neither meets a run.sh a developer has going in this checkout
# nor another test. "What run.sh started" is found three independent ways,
# so the check also works with a run.sh that records nothing (the old one,
# against which these tests must fail): the PIDs run.sh lists in
# $HERALD_RUN_DIR/pids; every process whose command line names one of our
# ports (127.0.0.1:PORT; they are unique to this test); every listener on
# our ports and on the epmd port of our RabbitMQ node. The test's own EXIT
# trap stops whatever a failing run.sh left behind, by PID, so a failure
# leaks nothing.

test_name=${test_name:?the test sets test_name before sourcing}
root=${HERALD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ -n "${HERALD_BIN_DIR:-}" ]; then
    export BUILD_DIR=${HERALD_BIN_DIR%/bin}
fi
# shellcheck disable=SC2034  # read by the tests that source this file
bin=${BUILD_DIR:-$root/build}/bin # the binaries run.sh --no-build uses
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-run-test.XXXXXX")
export HERALD_FREE_PORTS_FILE="$work/ports" # distinct ports (tests/free_port.py)
export HERALD_RUN_DIR=$work/state
t0=$SECONDS
group="" # process group of the run.sh pipeline under test

say() { printf '[%3ds] %s: %s\n' $((SECONDS - t0)) "$test_name" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$test_name" "$*" >&2
    exit 1
}

free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$root/tests/free_port.py"
}
HERALD_HTTP_PORT=$(free_port)
HERALD_STORE_PORT=$(free_port)
HERALD_STORE_PUB_PORT=$(free_port)
HERALD_AMQP_PORT=$(free_port)
# run.sh's /metrics ports: base+1 (store), +2 (notifier), +11.. (workers).
# A base whose ports are all free now, and none of the others.
HERALD_METRICS_PORT=$(python3 "$root/tests/free_port.py" --base 1,2,11,12,13,14)
export HERALD_HTTP_PORT HERALD_STORE_PORT HERALD_STORE_PUB_PORT HERALD_AMQP_PORT HERALD_METRICS_PORT
ports=("$HERALD_HTTP_PORT" "$HERALD_STORE_PORT" "$HERALD_STORE_PUB_PORT" "$HERALD_AMQP_PORT"
    $((HERALD_METRICS_PORT + 1)) $((HERALD_METRICS_PORT + 2)) $((HERALD_METRICS_PORT + 11))
    $((HERALD_METRICS_PORT + 12)) $((HERALD_METRICS_PORT + 13)) $((HERALD_METRICS_PORT + 14)))
api=http://127.0.0.1:$HERALD_HTTP_PORT

alive() { # pid: running and not a zombie
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# The RabbitMQ node dirs a run.sh of ours may have used: ours, and the old
# run.sh's fixed one when (and only when) it runs on our AMQP port.
rabbit_dirs() {
    local d port
    for d in "$HERALD_RUN_DIR/rabbitmq" "$root/.run/rabbitmq"; do
        [ -f "$d/node.env" ] || continue
        port=$(sed -n 's/^AMQP_PORT=//p' "$d/node.env")
        [ "$port" = "$HERALD_AMQP_PORT" ] && echo "$d"
    done
    return 0
}

starttime() { # pid: its start time in ticks since boot (field 22 of stat)
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

listeners() { # port: pids listening on 127.0.0.1:port
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2
}

# Every live process run.sh started (or left), one "pid name" per line.
leftovers() {
    local re p d epmd
    re="127\\.0\\.0\\.1:($(IFS='|'; echo "${ports[*]}"))([^0-9]|\$)"
    {
        # PIDs are reused (pid_max may be 32768): one counts only while the
        # process is the one seen, same start time.
        if [ -f "$work/pids.seen" ]; then
            while read -r _ p start; do
                [ "$(starttime "$p")" != "$start" ] || echo "$p"
            done <"$work/pids.seen"
        fi
        for p in "${ports[@]}"; do listeners "$p"; done
        for d in $(rabbit_dirs); do
            epmd=$(sed -n 's/^EPMD_PORT=//p' "$d/node.env")
            [ -z "$epmd" ] || listeners "$epmd"
            cat "$d/node.pid" 2>/dev/null
            echo
        done
        # grep's own command line has the pattern with backslashes: no match.
        grep -lEa -- "$re" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
    } | grep -E '^[0-9]+$' | sort -un | while read -r p; do
        if [ "$p" = $$ ] || ! alive "$p"; then continue; fi
        printf '%s %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"
    done
    return 0 # an empty answer is no error (the greps above then fail)
}

group_alive() { [ -n "$group" ] && kill -0 -- "-$group" 2>/dev/null; }

# Starts `bash -c PIPELINE` as a terminal starts a foreground job: in a
# process group of its own (the one Ctrl-C signals) and with SIGINT, SIGTERM,
# SIGHUP and SIGPIPE at their defaults, whatever this test inherited (a shell
# without job control starts background commands with SIGINT ignored, and
# ignored signals cannot be trapped again).
launch() { # pipeline
    python3 -c '
import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp("bash", ["bash", "-c", sys.argv[1]])
' "$1" </dev/null >>"$work/launch.log" 2>&1 &
    group=$!
    # The group exists once python3 has called setpgid: until then a
    # signal to it (or a liveness check) would miss.
    local i
    for ((i = 0; i < 100; i++)); do
        group_alive && return 0
        kill -0 "$group" 2>/dev/null || break
        sleep 0.05
    done
    fail "the process group of the run.sh pipeline did not appear"
}

# Up = the API answers /readyz, a worker runs, and run.sh printed its
# "Herald is running" banner (to wherever its output goes: one of files).
wait_up() { # seconds banner-files...
    local secs=$1 deadline=$((SECONDS + $1)) f
    shift
    while :; do
        if curl -sf -o /dev/null --max-time 2 "$api/readyz"; then
            for f in "$@"; do
                grep -qs 'Herald is running' "$f" && return 0
            done
        fi
        if [ $SECONDS -ge $deadline ] || ! group_alive; then
            say "run.sh output:"
            for f in "$@"; do [ ! -f "$f" ] || sed 's/^/    /' "$f"; done
            fail "run.sh was not up after $secs s (run.sh $(group_alive && echo running || echo gone))"
        fi
        sleep 0.5
    done
}

# Polls until nothing run.sh started is left, ≤ seconds; fails listing what is.
wait_all_gone() { # seconds
    local deadline=$((SECONDS + $1)) left
    while :; do
        left=$(leftovers)
        if [ -z "$left" ] && ! group_alive; then
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            group_alive && left="run.sh's process group $group still has members
$left"
            fail "still running $1 s after the signal:
$left"
        fi
        sleep 0.5
    done
}

# The test's own cleanup: whatever is left is stopped by PID, the node by
# its name; then the work dir goes.
cleanup_leftovers() {
    local rc=$? p d i
    set +e
    trap '' INT TERM
    if [ -n "$group" ]; then
        kill -KILL -- "-$group" 2>/dev/null
        kill -KILL "$group" 2>/dev/null # in case it never made its group
        wait "$group" 2>/dev/null
    fi
    for d in $(rabbit_dirs); do "$root/tests/rabbitmq-node.sh" stop "$d" >/dev/null 2>&1; done
    for p in $(leftovers | cut -d' ' -f1); do
        say "stopping leftover pid $p"
        kill -TERM "$p" 2>/dev/null
    done
    for ((i = 0; i < 50; i++)); do [ -z "$(leftovers)" ] && break; sleep 0.2; done
    for p in $(leftovers | cut -d' ' -f1); do kill -KILL "$p" 2>/dev/null; done
    if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -d "$HERALD_RUN_DIR/logs" ]; then
        say "run.sh's log ($HERALD_RUN_DIR/logs/run.log):"
        sed 's/^/    /' "$HERALD_RUN_DIR/logs/run.log" 2>/dev/null
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup_leftovers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PIDs run.sh recorded, kept in $work/pids.seen (run.sh deletes its file
# once it has stopped everything). Fails unless it lists every part, each
# running. Without the file, only notes it, so that a run.sh that records
# nothing is still judged on what it leaves running first; pids_file_seen
# fails the test at its end.
check_pids_file() {
    local f=$HERALD_RUN_DIR/pids name
    if [ ! -f "$f" ]; then
        say "run.sh wrote no $f"
        return 0
    fi
    for name in rabbitmq store gateway-1 notifier worker-1; do
        local pid
        pid=$(awk -v n="$name" '$1 == n { print $2 }' "$f")
        if [ -z "$pid" ] || ! alive "$pid"; then
            fail "$f: no running $name (file: $(tr '\n' ';' <"$f"))"
        fi
        echo "$name $pid $(starttime "$pid")" >>"$work/pids.seen"
    done
}
pids_file_seen() {
    [ -s "$work/pids.seen" ] || fail "run.sh wrote no $HERALD_RUN_DIR/pids"
}
