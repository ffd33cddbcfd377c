#!/bin/sh
# check-asserts.sh BUILD_DIR — fails unless the build in BUILD_DIR keeps
# asserts on (docs/ARCHITECTURE.md §9): no translation unit compiled with
# NDEBUG (from BUILD_DIR/compile_commands.json), and each of the four
# service binaries in BUILD_DIR/bin calls __assert_fail, the libc function
# every assert expands to (a binary built with NDEBUG does not import it).
# Run by CTest (test_asserts_on) and by compose/Dockerfile after its build.
set -eu

build=${1:?usage: check-asserts.sh BUILD_DIR}
commands=$build/compile_commands.json
status=0

if [ ! -s "$commands" ]; then
    echo "check-asserts: $commands missing or empty" >&2
    exit 1
fi
units=$(grep -c '"file":' "$commands" || true)
if [ "$units" -eq 0 ]; then
    echo "check-asserts: no translation unit in $commands" >&2
    exit 1
fi
ndebug=$(grep -E -- '-D ?NDEBUG([ "=\\]|$)' "$commands" | grep -c '"command":' || true)
if [ "$ndebug" -ne 0 ]; then
    echo "check-asserts: $ndebug of $units translation units compiled with NDEBUG, e.g.:" >&2
    grep -E -- '-D ?NDEBUG([ "=\\]|$)' "$commands" | head -n 3 >&2
    status=1
fi

for name in herald-store herald-gateway herald-notifier herald-worker; do
    bin=$build/bin/$name
    if [ ! -x "$bin" ]; then
        echo "check-asserts: $bin not built" >&2
        status=1
    elif ! nm -D --undefined-only "$bin" | grep -Eq ' __assert_fail(@|$)'; then
        echo "check-asserts: $bin has no assert left (built with NDEBUG?)" >&2
        status=1
    fi
done

[ "$status" -eq 0 ] && echo "check-asserts: $units translation units without NDEBUG; the four services keep their asserts"
exit "$status"
