#!/bin/bash
# Sets up and runs the whole Herald system on this machine, on 127.0.0.1:
# installs missing Debian packages (scripts/install-deps.sh), builds the four
# services (cmake, build dir `build`), starts a private RabbitMQ node
# (tests/rabbitmq-node.sh, state in .run/rabbitmq), then herald-store,
# herald-gateway, herald-notifier and herald-worker, waiting for each to be
# healthy before the next. It prints where the API and its docs are, streams
# the workers' notification lines to the terminal (service logs go to
# .run/logs/), and on Ctrl-C or SIGTERM stops everything it started, by PID,
# in dependency order: workers, notifier, gateways, store, RabbitMQ.
#
# Services run in their own sessions (setsid), so Ctrl-C reaches only this
# script and the shutdown happens in order instead of all at once. A port
# already in use is reported before anything starts: a second gateway would
# otherwise share the port silently (SO_REUSEPORT).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    cat <<EOF
Usage: scripts/run.sh [--workers N] [--gateways N] [--threads N] [--no-build]

  --workers N    herald-worker processes (default 1)
  --gateways N   herald-gateway processes sharing the HTTP port (default 1)
  --threads N    event loops per gateway (HERALD_GATEWAY_THREADS, default 1)
  --no-build     skip package installation and the build; use \$BUILD_DIR/bin

Ports on 127.0.0.1 (environment, default): HERALD_HTTP_PORT 8000,
HERALD_STORE_PORT 5555, HERALD_STORE_PUB_PORT 5556, HERALD_AMQP_PORT 5672.
BUILD_DIR (default build). Other HERALD_* variables reach the services as
their usual fallbacks (e.g. HERALD_LOG_LEVEL=debug). Logs: .run/logs/.
EOF
}

workers=1 gateways=1 threads=${HERALD_GATEWAY_THREADS:-1} build_it=1
while [ $# -gt 0 ]; do
    case "$1" in
    --workers) workers=${2:?}; shift 2 ;;
    --gateways) gateways=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
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
build=${BUILD_DIR:-$root/build}
[[ "$build" = /* ]] || build=$root/$build
bin=$build/bin
run=$root/.run
logs=$run/logs
rabbit_dir=$run/rabbitmq
node_sh=$root/tests/rabbitmq-node.sh

say() { printf 'run.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- one runner per checkout ------------------------------------------------
mkdir -p "$logs"
if [ -f "$run/run.pid" ]; then
    other=$(cat "$run/run.pid")
    if [ "$other" != $$ ] && [ -r "/proc/$other/cmdline" ] &&
        tr '\0' ' ' <"/proc/$other/cmdline" | grep -q 'scripts/run.sh'; then
        die "another scripts/run.sh (pid $other) is running from this checkout; stop it first"
    fi
fi
echo $$ >"$run/run.pid"

# --- packages and build --------------------------------------------------------
if [ "$build_it" = 1 ]; then
    say "checking Debian packages (scripts/install-deps.sh)"
    "$root/scripts/install-deps.sh"
    say "building into $build"
    cmake -S "$root" -B "$build" -DHERALD_WERROR=ON >"$logs/cmake.log" 2>&1 ||
        { tail -30 "$logs/cmake.log" >&2; die "cmake configure failed (full log: $logs/cmake.log)"; }
    cmake --build "$build" -j"$(nproc)" --target herald-store herald-gateway herald-notifier \
        herald-worker >>"$logs/cmake.log" 2>&1 ||
        { tail -30 "$logs/cmake.log" >&2; die "build failed (full log: $logs/cmake.log)"; }
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
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}
busy=0
for spec in "HERALD_HTTP_PORT:$http_port" "HERALD_STORE_PORT:$store_port" \
    "HERALD_STORE_PUB_PORT:$pub_port" "HERALD_AMQP_PORT:$amqp_port"; do
    var=${spec%%:*} port=${spec#*:}
    if port_busy "$port"; then
        busy=1
        who=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:.*' | head -1 || true)
        say "port $port on 127.0.0.1 is already in use${who:+ ($who)}: set $var to a free port"
    fi
done
[ "$busy" = 0 ] || die "not starting: ports busy"

# --- process bookkeeping ------------------------------------------------------
names=() pids=() tail_pid="" rabbit_started=0 stopping=0

# Runs a service in its own session, stderr (and stdout unless given) to a log.
start() { # name stdout-file command...
    local name=$1 out=$2
    shift 2
    if [ "$out" = "$logs/$name.log" ]; then
        setsid "$@" >"$out" 2>&1 </dev/null &
    else
        setsid "$@" >"$out" 2>"$logs/$name.log" </dev/null &
    fi
    names+=("$name") pids+=($!)
}

alive() { # pid: running and not a zombie
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

stop_pid() { # name pid
    local i
    [ "$2" != 0 ] || return 0
    alive "$2" || { wait "$2" 2>/dev/null || true; return; }
    kill -TERM "$2" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do alive "$2" || break; sleep 0.1; done
    if alive "$2"; then
        say "$1 (pid $2) did not stop in 15 s; killing it"
        kill -KILL "$2" 2>/dev/null || true
    fi
    wait "$2" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    [ "$stopping" = 0 ] || return
    stopping=1
    trap '' INT TERM
    [ -z "$tail_pid" ] || { kill "$tail_pid" 2>/dev/null || true; wait "$tail_pid" 2>/dev/null || true; }
    if [ ${#pids[@]} -gt 0 ] || [ "$rabbit_started" = 1 ]; then
        say "stopping"
    fi
    # Reverse start order: workers, notifier, gateways, store.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${names[i]}" "${pids[i]}"
    done
    if [ "$rabbit_started" = 1 ]; then
        "$node_sh" stop "$rabbit_dir" || true
        local rpid
        rpid=$(cat "$rabbit_dir/node.pid" 2>/dev/null || true)
        if [ -n "$rpid" ]; then
            for ((i = 0; i < 150; i++)); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$rpid" 2>/dev/null && { say "RabbitMQ (pid $rpid) still running; killing it"; kill -KILL "$rpid" || true; }
        fi
    fi
    rm -f "$run/run.pid"
    [ ${#pids[@]} -eq 0 ] || say "stopped; logs in $logs"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Polls `check` until it succeeds while the service's process lives.
wait_healthy() { # name pid seconds check-command...
    local name=$1 pid=$2 secs=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ! alive "$pid"; then
            tail -15 "$logs/$name.log" >&2 || true
            die "$name exited during startup; log: $logs/$name.log"
        fi
        if [ $SECONDS -ge $deadline ]; then
            tail -15 "$logs/$name.log" >&2 || true
            die "$name not healthy after ${secs}s; log: $logs/$name.log"
        fi
        sleep 0.2
    done
    say "$name healthy (pid $pid)"
}

# RabbitMQ's own view, through our node's CLI (its cookie lives in its dir).
rabbitctl() {
    (. "$rabbit_dir/node.env" &&
        HOME=$rabbit_dir ERL_EPMD_PORT=$EPMD_PORT /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$NODE" "$@")
}
broker_connections_at_least() { [ "$(rabbitctl list_connections pid | grep -c .)" -ge "$1" ]; }
queue_consumers_at_least() {
    rabbitctl list_queues name consumers | awk -v n="$1" '$1 == "herald.notifications" && $2 >= n { ok = 1 } END { exit !ok }'
}

# --- RabbitMQ ------------------------------------------------------------------
# A leftover node of an earlier run of this checkout (killed -9) is stopped by
# its own node name; every run starts from an empty node.
if [ -f "$rabbit_dir/node.env" ]; then
    "$node_sh" stop "$rabbit_dir" >/dev/null 2>&1 || true
fi
rm -rf "$rabbit_dir"
say "starting RabbitMQ on 127.0.0.1:$amqp_port (state in $rabbit_dir)"
rabbit_started=1
setsid -w "$node_sh" start "$rabbit_dir" "$amqp_port" ||
    die "RabbitMQ did not start; logs in $rabbit_dir/log"
say "RabbitMQ healthy (pid $(cat "$rabbit_dir/node.pid" 2>/dev/null || echo '?'))"
amqp_url="amqp://guest:guest@127.0.0.1:$amqp_port/"
store_ep="tcp://127.0.0.1:$store_port"

# --- the four services ------------------------------------------------------------
start store "$logs/store.log" "$bin/herald-store" --bind "$store_ep" \
    --pub-bind "tcp://127.0.0.1:$pub_port"
wait_healthy store "${pids[-1]}" 30 "$bin/herald-store" --check --bind "$store_ep"

for ((g = 1; g <= gateways; g++)); do
    start "gateway-$g" "$logs/gateway-$g.out" "$bin/herald-gateway" \
        --listen "127.0.0.1:$http_port" --store-endpoint "$store_ep" --threads "$threads"
    wait_healthy "gateway-$g" "${pids[-1]}" 30 "$bin/herald-gateway" --check \
        --listen "127.0.0.1:$http_port"
done

start notifier "$logs/notifier.out" "$bin/herald-notifier" --store-endpoint "$store_ep" \
    --store-pub-endpoint "tcp://127.0.0.1:$pub_port" --amqp-url "$amqp_url"
wait_healthy notifier "${pids[-1]}" 60 broker_connections_at_least 1

outs=()
for ((w = 1; w <= workers; w++)); do
    : >"$logs/worker-$w.out"
    outs+=("$logs/worker-$w.out")
    start "worker-$w" "$logs/worker-$w.out" "$bin/herald-worker" --amqp-url "$amqp_url" \
        --gateway-url "http://127.0.0.1:$http_port"
    wait_healthy "worker-$w" "${pids[-1]}" 60 queue_consumers_at_least "$w"
done

api="http://127.0.0.1:$http_port"
cat <<EOF

Herald is running (healthy $((SECONDS - t0)) s after the build).
  API   $api
  docs  $api/docs
  try   curl -s -X POST $api/events -H 'Content-Type: application/json' \\
             -d '{"user_id":"u-42","description":"Your order shipped"}'
        curl -s $api/events
  logs  $logs/   (RabbitMQ: $rabbit_dir/log/)
Notifications from the worker(s) follow. Ctrl-C stops everything.

EOF

tail -q -n +1 -F "${outs[@]}" 2>/dev/null &
tail_pid=$!

# Supervise: any service exiting on its own ends the run (and stops the rest).
set +e
while :; do
    done_pid=""
    wait -n -p done_pid "${pids[@]}"
    st=$?
    [ -n "$done_pid" ] || continue
    for ((i = 0; i < ${#pids[@]}; i++)); do
        [ "${pids[i]}" = "$done_pid" ] || continue
        say "${names[i]} (pid $done_pid) exited with status $st; its log: $logs/${names[i]}.log"
        tail -10 "$logs/${names[i]}.log" >&2
        pids[i]=0 # reaped: nothing left to stop
        exit 1
    done
done
