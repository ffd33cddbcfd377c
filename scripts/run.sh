#!/bin/bash
# Sets up and runs the whole Herald system on this machine, on 127.0.0.1:
# installs missing Debian packages (scripts/install-deps.sh), builds the four
# services (cmake, build dir `build`), starts a private RabbitMQ node
# (tests/rabbitmq-node.sh, state in .run/rabbitmq) whose only users are the
# notifier's and the worker's (scripts/broker-users.sh: passwords made once in
# .run/broker-users, imported at the node's boot; no guest), then herald-store,
# herald-gateway, herald-notifier and herald-worker, waiting for each to be
# healthy before the next. It prints where the API and its docs are, streams
# the workers' notification lines to the terminal (service logs go to
# .run/logs/), and on Ctrl-C, SIGTERM or a hang-up stops everything it
# started, by PID, in dependency order: workers, notifier, gateways, store,
# RabbitMQ.
#
# State lives in .run/ (HERALD_RUN_DIR) and is kept from one run to the
# next: the store's journal in .run/store (HERALD_STORE_DATA_DIR) and
# RabbitMQ's node in .run/rabbitmq, together, so neither an event nor a
# notification still queued for it is lost by a restart. --fresh deletes both.
#
# Services run in their own sessions (setsid), so Ctrl-C reaches only this
# script and the shutdown happens in order instead of all at once. A port
# already in use is reported before anything starts: a second gateway would
# otherwise share the port silently (SO_REUSEPORT).
#
# The shutdown must happen however the output is redirected. With
# `run.sh 2>&1 | tee run.log`, Ctrl-C kills tee too, and a shell that writes
# to a pipe nobody reads dies of SIGPIPE, before it has stopped anything.
# So this script catches SIGPIPE (its children keep the default), writes its
# own output through to_out/to_err, which move a stream that has gone away
# to .run/logs/run.log for good, and runs the shutdown with every signal
# ignored, so a second Ctrl-C cannot cut it short either.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    cat <<EOF
Usage: scripts/run.sh [--workers N] [--gateways N] [--threads N] [--fresh] [--no-build]

  --workers N    herald-worker processes (default 1)
  --gateways N   herald-gateway processes sharing the HTTP port (default 1)
  --threads N    event loops per gateway (HERALD_GATEWAY_THREADS, default 1)
  --fresh        delete the store's data and RabbitMQ's queues before starting:
                 start with no events and no pending notifications
  --no-build     skip package installation and the build; use \$BUILD_DIR/bin

State is kept across runs in HERALD_RUN_DIR (default .run): the store's data
in .run/store (given to herald-store as HERALD_STORE_DATA_DIR), RabbitMQ's
node in .run/rabbitmq, the RabbitMQ users' passwords in .run/broker-users
(scripts/broker-users.sh), logs in .run/logs/ (this script's own: run.log).
Ports on 127.0.0.1 (environment, default): HERALD_HTTP_PORT 8000,
HERALD_STORE_PORT 5555, HERALD_STORE_PUB_PORT 5556, HERALD_AMQP_PORT 5672,
and /metrics from HERALD_METRICS_PORT 9100 up: the store on +1, the
notifier on +2, worker N on +10+N (the gateways' is on the API port).
BUILD_DIR (default build). Other HERALD_* variables reach the services as
their usual fallbacks (e.g. HERALD_LOG_LEVEL=debug, HERALD_STORE_FSYNC),
but HERALD_MAX_CONNECTIONS_PER_CLIENT: on 127.0.0.1 every client has the
same address, so the gateways get HERALD_MAX_CONNECTIONS (default 1024)
unless it is set.
EOF
}

workers=1 gateways=1 threads=${HERALD_GATEWAY_THREADS:-1} build_it=1 fresh=0
while [ $# -gt 0 ]; do
    case "$1" in
    --workers) workers=${2:?}; shift 2 ;;
    --gateways) gateways=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --no-build) build_it=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for n in "$workers" "$gateways" "$threads"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: counts must be positive integers" >&2; exit 2; }
done

http_port=${HERALD_HTTP_PORT:-8000}
store_port=${HERALD_STORE_PORT:-5555}
pub_port=${HERALD_STORE_PUB_PORT:-5556}
amqp_port=${HERALD_AMQP_PORT:-5672}
metrics_port=${HERALD_METRICS_PORT:-9100}
build=${BUILD_DIR:-$root/build}
[[ "$build" = /* ]] || build=$root/$build
bin=$build/bin
run=${HERALD_RUN_DIR:-$root/.run}
[[ "$run" = /* ]] || run=$PWD/$run
logs=$run/logs
runlog=/dev/null # $logs/run.log once this run owns $run
rabbit_dir=$run/rabbitmq
broker_users=$run/broker-users
store_data=$run/store
node_sh=$root/tests/rabbitmq-node.sh

# --- output that survives its reader ----------------------------------------
# A write to a pipe whose reader is gone raises SIGPIPE; caught here, it only
# makes the write fail (children still get the default and simply die).
# to_out/to_err then send that stream to run.log from here on, so neither a
# closed pipe nor a hung-up terminal can stop this script between starting a
# service and stopping it. run.log also gets a copy of every message.
trap ':' PIPE
out_lost=0 err_lost=0
to_err() { # text (a newline is added)
    printf '%s\n' "$1" >>"$runlog" 2>/dev/null || true
    [ "$err_lost" = 0 ] || return 0
    # >&2 first, then 2>/dev/null: printf writes to the old stderr, and its
    # "write error" complaint goes nowhere.
    printf '%s\n' "$1" >&2 2>/dev/null && return 0
    err_lost=1
    exec 2>>"$runlog"
    printf 'run.sh: standard error is gone (closed pipe or terminal); messages continue here\n' >>"$runlog" 2>/dev/null || true
}
to_out() { # text (a newline is added)
    printf '%s\n' "$1" >>"$runlog" 2>/dev/null || true
    [ "$out_lost" = 0 ] || return 0
    printf '%s\n' "$1" 2>/dev/null && return 0
    out_lost=1
    exec 1>>"$runlog"
    printf 'run.sh: standard output is gone (closed pipe or terminal); messages continue here\n' >>"$runlog" 2>/dev/null || true
}
say() { to_err "run.sh: $*"; }
die() { say "$*"; exit 1; }
show_log() { # file lines: the end of a service's log, on stderr
    local text
    text=$(tail -n "$2" "$1" 2>/dev/null) || return 0
    [ -z "$text" ] || to_err "$text"
}

# --- one runner per state dir -------------------------------------------------
mkdir -p "$logs"
if [ -f "$run/run.pid" ]; then
    other=$(cat "$run/run.pid")
    if [ "$other" != $$ ] && [ -r "/proc/$other/cmdline" ] &&
        tr '\0' ' ' <"/proc/$other/cmdline" | grep -q 'scripts/run.sh'; then
        die "another scripts/run.sh (pid $other) is running with state in $run; stop it first"
    fi
fi
echo $$ >"$run/run.pid"
runlog=$logs/run.log
: >"$runlog"

alive() { # pid: running and not a zombie
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# Sends TERM, waits up to 15 s, then KILL. Reaps it when it is our child.
stop_pid() { # name pid
    local i
    [ "$2" != 0 ] || return 0
    alive "$2" || { wait "$2" 2>/dev/null || true; return 0; }
    kill -TERM "$2" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do alive "$2" || break; sleep 0.1; done
    if alive "$2"; then
        say "$1 (pid $2) did not stop in 15 s; killing it"
        kill -KILL "$2" 2>/dev/null || true
    fi
    wait "$2" 2>/dev/null || true
}

# --- leftovers of a run.sh that could not clean up (kill -9) ---------------------
# $run/pids names every process a run started. Any still alive (and still the
# binary it was: pids are reused) is stopped now, before anything else, so
# that no second store ever opens the same data dir.
if [ -f "$run/pids" ]; then
    while read -r name pid; do
        case "$name" in rabbitmq) continue ;; esac # its node is stopped by name below
        if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'herald-' || continue
        say "stopping $name (pid $pid), left running by an earlier run.sh"
        stop_pid "$name" "$pid"
    done <"$run/pids"
    rm -f "$run/pids"
fi
if [ -f "$rabbit_dir/node.env" ]; then
    # A leftover node of this state dir is stopped by its own node name.
    "$node_sh" stop "$rabbit_dir" >>"$runlog" 2>&1 || true
fi

# --- packages and build --------------------------------------------------------
if [ "$build_it" = 1 ]; then
    say "checking Debian packages (scripts/install-deps.sh)"
    "$root/scripts/install-deps.sh"
    say "building into $build"
    cmake -S "$root" -B "$build" -DHERALD_WERROR=ON >"$logs/cmake.log" 2>&1 ||
        { show_log "$logs/cmake.log" 30; die "cmake configure failed (full log: $logs/cmake.log)"; }
    cmake --build "$build" -j"$(nproc)" --target herald-store herald-gateway herald-notifier \
        herald-worker herald-keygen herald-stat >>"$logs/cmake.log" 2>&1 ||
        { show_log "$logs/cmake.log" 30; die "build failed (full log: $logs/cmake.log)"; }
    # Asserts stay on in what we run (docs/ARCHITECTURE.md §9).
    "$root/scripts/check-asserts.sh" "$build" >>"$logs/cmake.log" 2>&1 ||
        { show_log "$logs/cmake.log" 10; die "the build lost its asserts (NDEBUG)"; }
fi
for b in herald-store herald-gateway herald-notifier herald-worker; do
    [ -x "$bin/$b" ] || die "$bin/$b is missing (build failed or --no-build without a build)"
done
t0=$SECONDS

# --- ports -----------------------------------------------------------------------
# A port is busy when something listens on it, SO_REUSEPORT listeners
# included: on Linux a bind with SO_REUSEADDR (and without SO_REUSEPORT)
# fails exactly then. Without SO_REUSEADDR it would also fail for a minute
# after a stop, on the connections left in TIME_WAIT, which the services
# themselves (all SO_REUSEADDR) do not mind.
port_busy() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
busy=0
metrics_specs=("HERALD_METRICS_PORT:$((metrics_port + 1))" "HERALD_METRICS_PORT:$((metrics_port + 2))")
for ((w = 1; w <= workers; w++)); do
    metrics_specs+=("HERALD_METRICS_PORT:$((metrics_port + 10 + w))")
done
for spec in "HERALD_HTTP_PORT:$http_port" "HERALD_STORE_PORT:$store_port" \
    "HERALD_STORE_PUB_PORT:$pub_port" "HERALD_AMQP_PORT:$amqp_port" "${metrics_specs[@]}"; do
    var=${spec%%:*} port=${spec#*:}
    if port_busy "$port"; then
        busy=1
        who=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:.*' | head -1 || true)
        say "port $port on 127.0.0.1 is already in use${who:+ ($who)}: set $var to a free port"
    fi
done
[ "$busy" = 0 ] || die "not starting: ports busy"

# --- state kept across runs --------------------------------------------------------
# The store's events and RabbitMQ's queued notifications belong together:
# keeping one without the other loses notifications (or replays them for
# events that no longer exist), so --fresh deletes both.
if [ "$fresh" = 1 ]; then
    say "--fresh: deleting the store's data ($store_data) and RabbitMQ's state ($rabbit_dir)"
    rm -rf -- "$store_data" "$rabbit_dir"
fi
mkdir -p "$store_data"
store_help=$("$bin/herald-store" --help 2>&1 || true)
if [[ "$store_help" == *--data-dir* ]]; then
    say "store data in $store_data (kept across runs; --fresh starts empty)"
else
    say "warning: this herald-store has no --data-dir (no journal): its events live in memory" \
        "and are gone when it stops"
fi

# --- process bookkeeping ------------------------------------------------------
names=() pids=() tail_pid="" rabbit_started=0 stopping=0

# Runs a service in its own session, stderr (and stdout unless given) to a
# log, and records it in $run/pids.
start() { # name stdout-file command...
    local name=$1 out=$2
    shift 2
    if [ "$out" = "$logs/$name.log" ]; then
        setsid "$@" >"$out" 2>&1 </dev/null &
    else
        setsid "$@" >"$out" 2>"$logs/$name.log" </dev/null &
    fi
    names+=("$name") pids+=($!)
    echo "$name $!" >>"$run/pids"
}

cleanup() { # exit status
    local rc=$1 i
    # Nothing may cut the shutdown short: no second Ctrl-C, no SIGTERM, no
    # SIGPIPE from a reader that is gone (for the commands run from here on
    # too: they inherit the ignored signals), and no `set -e` exit on a
    # failed command.
    trap '' INT TERM HUP PIPE
    set +e
    [ -z "$tail_pid" ] || { kill "$tail_pid" 2>/dev/null; wait "$tail_pid" 2>/dev/null; }
    if [ ${#pids[@]} -gt 0 ] || [ "$rabbit_started" = 1 ]; then
        say "stopping"
    fi
    # Reverse start order: workers, notifier, gateways, store.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${names[i]}" "${pids[i]}"
    done
    if [ "$rabbit_started" = 1 ]; then
        local rpid
        rpid=$(cat "$rabbit_dir/node.pid" 2>/dev/null)
        "$node_sh" stop "$rabbit_dir" >>"$runlog" 2>&1
        if [ -n "$rpid" ]; then
            for ((i = 0; i < 150; i++)); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$rpid" 2>/dev/null; then
                say "RabbitMQ (pid $rpid) still running; killing it"
                kill -KILL "$rpid" 2>/dev/null
            fi
        fi
    fi
    rm -f "$run/pids" "$run/run.pid"
    [ ${#pids[@]} -eq 0 ] || say "stopped; logs in $logs"
    exit "$rc"
}
# A signal handler that exits runs the EXIT trap, cleanup. One that arrives
# while cleanup runs is ignored rather than allowed to exit halfway through
# it: `stopping` is set in the same simple command that reads the exit
# status, so there is no point at which a handler could still exit.
on_signal() { # exit status
    [ "$stopping" = 0 ] || return 0
    exit "$1"
}
trap 'stopping=1 rc=$?; cleanup "$rc"' EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# Polls `check` until it succeeds while the service's process lives.
wait_healthy() { # name pid seconds check-command...
    local name=$1 pid=$2 secs=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ! alive "$pid"; then
            show_log "$logs/$name.log" 15
            die "$name exited during startup; log: $logs/$name.log"
        fi
        if [ $SECONDS -ge $deadline ]; then
            show_log "$logs/$name.log" 15
            die "$name not healthy after ${secs}s; log: $logs/$name.log"
        fi
        sleep 0.2
    done
    say "$name healthy (pid $pid)"
}

# RabbitMQ's own view, through our node's CLI (its cookie lives in its dir).
rabbitctl() {
    # shellcheck source=/dev/null  # written by tests/rabbitmq-node.sh
    (. "$rabbit_dir/node.env" &&
        HOME=$rabbit_dir ERL_EPMD_PORT=$EPMD_PORT /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$NODE" "$@")
}
broker_connections_at_least() { [ "$(rabbitctl list_connections pid | grep -c .)" -ge "$1" ]; }
queue_consumers_at_least() {
    rabbitctl list_queues name consumers | awk -v n="$1" '$1 == "herald.notifications" && $2 >= n { ok = 1 } END { exit !ok }'
}

# --- RabbitMQ ------------------------------------------------------------------
# The node keeps its state in $rabbit_dir across runs (durable queue,
# persistent messages): notifications published but not yet processed when
# the last run stopped are delivered in this one. Its users are the
# notifier's and the worker's, with the passwords kept in $broker_users
# (made on the first run) and the definitions the node imports at boot
# (rewritten at every run); a node from before them loses guest.
"$root/scripts/broker-users.sh" "$broker_users" >>"$runlog" 2>&1 ||
    die "could not make the RabbitMQ users in $broker_users; see $runlog"
say "starting RabbitMQ on 127.0.0.1:$amqp_port (state in $rabbit_dir, users herald-notifier" \
    "and herald-worker, passwords in $broker_users)"
rabbit_started=1
setsid -w "$node_sh" start "$rabbit_dir" "$amqp_port" "$broker_users/definitions.json" \
    >>"$runlog" 2>&1 || die "RabbitMQ did not start; logs in $rabbit_dir/log and $runlog"
rabbit_pid=$(cat "$rabbit_dir/node.pid" 2>/dev/null || echo '?')
echo "rabbitmq $rabbit_pid" >>"$run/pids"
say "RabbitMQ healthy (pid $rabbit_pid)"
# A node made before herald.notifications was bounded (--queue-max) keeps
# the queue it has: the definitions do not change an existing queue, and
# the services' declarations with the bound would be refused. Empty, it is
# deleted and the definitions make it anew; holding notifications, it is
# left alone and the user told how to go on.
if rabbitctl list_queues name arguments messages |
    awk '$1 == "herald.notifications" && !/x-max-length/ { found = 1 } END { exit !found }'; then
    held=$(rabbitctl list_queues name messages | awk '$1 == "herald.notifications" { print $2 }')
    [ "$held" = 0 ] || die "herald.notifications was made without its length bound and holds" \
        "$held notification(s): run an older Herald to deliver them, or start over with --fresh"
    say "herald.notifications predates its length bound and is empty: making it again"
    if ! rabbitctl delete_queue herald.notifications >>"$runlog" 2>&1 ||
        ! rabbitctl import_definitions "$broker_users/definitions.json" >>"$runlog" 2>&1; then
        die "could not remake herald.notifications; see $runlog"
    fi
fi
# Each service logs in as its own user. The password stays in its file,
# named by environment: never in argv (any local user reads it with ps),
# never in an environment variable.
amqp_url() { echo "amqp://$1@127.0.0.1:$amqp_port/"; }
store_ep="tcp://127.0.0.1:$store_port"

# --- CurveZMQ keys ------------------------------------------------------------------
# The store speaks CurveZMQ to the gateways' and the notifier's keys only, as
# under compose: made once and kept in $run/keys (no setup asked of anyone).
keys=$run/keys
for name in store gateway notifier; do
    [ -e "$keys/$name.key_secret" ] || "$bin/herald-keygen" "$keys" "$name" >>"$runlog" 2>&1 ||
        die "cannot make the CURVE keys in $keys (log: $runlog)"
done
mkdir -p "$keys/clients" && cp "$keys/gateway.key" "$keys/notifier.key" "$keys/clients/"
export HERALD_STORE_PUBLIC_KEY="$keys/store.key"

export HERALD_STORE_CURVE_KEY="$keys/store.key_secret" HERALD_STORE_CURVE_CLIENTS="$keys/clients"

# --- the four services ------------------------------------------------------------
# The data dir goes by environment, the store's documented fallback for
# --data-dir: a herald-store without a journal ignores it instead of failing.
start store "$logs/store.log" env HERALD_STORE_DATA_DIR="$store_data" \
    HERALD_METRICS_LISTEN="127.0.0.1:$((metrics_port + 1))" "$bin/herald-store" \
    --bind "$store_ep" --pub-bind "tcp://127.0.0.1:$pub_port"
# A long journal takes a while to replay before the store answers.
wait_healthy store "${pids[-1]}" 120 "$bin/herald-store" --check --bind "$store_ep"

# The gateways listen on 127.0.0.1, where every client has the same address:
# a limit per client address would cap the workers and any local client all
# together, so it is the gateways' whole --max-connections here (unless set).
for ((g = 1; g <= gateways; g++)); do
    start "gateway-$g" "$logs/gateway-$g.out" env HERALD_CURVE_KEY="$keys/gateway.key_secret" \
        "$bin/herald-gateway" \
        --listen "127.0.0.1:$http_port" --store-endpoint "$store_ep" --threads "$threads" \
        --max-connections-per-client "${HERALD_MAX_CONNECTIONS_PER_CLIENT:-${HERALD_MAX_CONNECTIONS:-1024}}"
    wait_healthy "gateway-$g" "${pids[-1]}" 30 "$bin/herald-gateway" --check \
        --listen "127.0.0.1:$http_port"
done

HERALD_AMQP_URL=$(amqp_url herald-notifier) \
    HERALD_AMQP_PASSWORD_FILE=$broker_users/herald-notifier.password \
    start notifier "$logs/notifier.out" env HERALD_CURVE_KEY="$keys/notifier.key_secret" \
    HERALD_METRICS_LISTEN="127.0.0.1:$((metrics_port + 2))" \
    "$bin/herald-notifier" --store-endpoint "$store_ep" \
    --store-pub-endpoint "tcp://127.0.0.1:$pub_port"
wait_healthy notifier "${pids[-1]}" 60 broker_connections_at_least 1

outs=()
for ((w = 1; w <= workers; w++)); do
    : >"$logs/worker-$w.out"
    outs+=("$logs/worker-$w.out")
    HERALD_AMQP_URL=$(amqp_url herald-worker) \
        HERALD_AMQP_PASSWORD_FILE=$broker_users/herald-worker.password \
        HERALD_METRICS_LISTEN="127.0.0.1:$((metrics_port + 10 + w))" \
        start "worker-$w" "$logs/worker-$w.out" "$bin/herald-worker" \
        --gateway-url "http://127.0.0.1:$http_port"
    wait_healthy "worker-$w" "${pids[-1]}" 60 queue_consumers_at_least "$w"
done

api="http://127.0.0.1:$http_port"
stat_workers=""
for ((w = 1; w <= workers; w++)); do
    stat_workers+="${stat_workers:+,}http://127.0.0.1:$((metrics_port + 10 + w))/metrics"
done
to_out "
Herald is running (healthy $((SECONDS - t0)) s after the build).
  API   $api
  docs  $api/docs
  try   curl -s -X POST $api/events -H 'Content-Type: application/json' \\
             -d '{\"user_id\":\"u-42\",\"description\":\"Your order shipped\"}'
        curl -s $api/events
  metrics $api/metrics (gateway), http://127.0.0.1:$((metrics_port + 1))/metrics (store),
        :$((metrics_port + 2)) (notifier), :$((metrics_port + 11)).. (workers)
  watch $bin/herald-stat --gateway $api/metrics \\
          --store http://127.0.0.1:$((metrics_port + 1))/metrics \\
          --notifier http://127.0.0.1:$((metrics_port + 2))/metrics --workers $stat_workers
  logs  $logs/   (RabbitMQ: $rabbit_dir/log/)
  data  $store_data   (kept across runs; --fresh starts empty)
Notifications from the worker(s) follow. Ctrl-C stops everything.
"

# Streams the notification lines, unless nobody reads our output any more
# (they stay in the worker-N.out files). When the reader goes later, tail
# dies of SIGPIPE; the services do not notice.
if [ "$out_lost" = 0 ]; then
    tail -q -n +1 -F "${outs[@]}" 2>/dev/null &
    tail_pid=$!
fi

# Supervise: any service exiting on its own ends the run (and stops the rest).
# Each wait is bounded by a one-second sleep: a signal that lands just
# before `wait` blocks can leave its trap pending until a child exits
# (seen once in a test: Ctrl-C ignored for a minute), and the sleep's
# exit runs it within a second.
set +e
while :; do
    done_pid=""
    sleep 1 &
    nap_pid=$!
    wait -n -p done_pid "${pids[@]}" "$nap_pid"
    st=$?
    [ "$done_pid" != "$nap_pid" ] || continue
    kill "$nap_pid" 2>/dev/null
    [ -n "$done_pid" ] || continue
    for ((i = 0; i < ${#pids[@]}; i++)); do
        [ "${pids[i]}" = "$done_pid" ] || continue
        say "${names[i]} (pid $done_pid) exited with status $st; its log: $logs/${names[i]}.log"
        show_log "$logs/${names[i]}.log" 10
        pids[i]=0 # reaped: nothing left to stop
        exit 1
    done
done
