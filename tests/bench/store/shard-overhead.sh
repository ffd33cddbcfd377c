#!/bin/bash
# The store's cost of being a shard (issue 17): herald-bench-store's
# create, get and update phases against one herald-store started three
# ways, interleaved round by round on the same port so drift hits all
# three alike:
#   plain  no map: the unsharded store
#   map1   the one shard of a 1-shard map (every slot its own)
#   map3   shard 0 of a 3-shard map (the other two need not run: the load
#          touches only ids the store minted, which are all its own)
# It prints each round, then each phase's median ops/s and its ratio to
# plain. A benchmark, not a test: nothing is asserted.
#
#   tests/bench/store/shard-overhead.sh [BUILD_DIR=build] [ROUNDS=5] [OPS=200000]
set -eu
build=${1:-build}
rounds=${2:-5}
ops=${3:-200000}
bin=$build/bin
for b in herald-store herald-bench-store; do
    [ -x "$bin/$b" ] || { echo "shard-overhead: $bin/$b not built" >&2; exit 2; }
done
tmp=$(mktemp -d)
export HERALD_FREE_PORTS_FILE="$tmp/ports" # distinct ports (tests/free_port.py)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
tests_dir=$(cd "$(dirname "$0")/../.." && pwd)
free_port() { # below the ephemeral range: see tests/free_port.py
    python3 "$tests_dir/free_port.py"
}
port=$(free_port)
pub=$(free_port)
ep=tcp://127.0.0.1:$port
printf 'epoch 1\nshard %s 0-16383\n' "$ep" > "$tmp/map1"
printf 'epoch 1\nshard %s 0-5460\nshard tcp://127.0.0.1:%d 5461-10921\nshard tcp://127.0.0.1:%d 10922-16383\n' \
    "$ep" "$(free_port)" "$(free_port)" > "$tmp/map3"

for r in $(seq 1 "$rounds"); do
    for mode in plain map1 map3; do
        extra=()
        [ "$mode" = plain ] || extra=(--shard-map "$tmp/$mode" --shard-id 0)
        "$bin/herald-store" --bind "$ep" --pub-bind "tcp://127.0.0.1:$pub" --feed-max 100000000 \
            --log-level warn "${extra[@]}" > "$tmp/store-$mode.log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
        timeout 300 "$bin/herald-bench-store" --endpoint "$ep" --ops "$ops" --no-peers \
            --events 0 --list-events 0 > "$tmp/bench.out" 2>&1 || {
            echo "shard-overhead: round $r $mode failed:" >&2
            cat "$tmp/bench.out" "$tmp/store-$mode.log" >&2
            exit 1
        }
        kill "$pid"
        wait "$pid" || true
        pid=
        line="round $r $mode$(awk '/^(create|get|update) / { printf " %s=%s", $1, $7 }' \
            "$tmp/bench.out")"
        echo "$line" | tee -a "$tmp/rounds"
    done
done

echo "medians over $rounds rounds (ops/s; ratio to plain):"
python3 - "$tmp/rounds" <<'EOF'
import statistics, sys
data = {}
for line in open(sys.argv[1]):
    words = line.split()
    mode = words[2]
    for kv in words[3:]:
        k, v = kv.split("=")
        data.setdefault((mode, k), []).append(float(v))
for op in ("create", "get", "update"):
    base = statistics.median(data[("plain", op)])
    cols = " ".join("%s %.0f (%.2f)" % (m, statistics.median(data[(m, op)]),
                                       statistics.median(data[(m, op)]) / base)
                    for m in ("map1", "map3"))
    print("  %-6s plain %.0f  %s" % (op, base, cols))
EOF
