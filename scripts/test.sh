#!/bin/sh
# shellcheck disable=SC2317  # stage_* functions are called by name
# Runs Herald's whole test suite from a fresh clone: installs missing Debian
# packages, then runs the selected stages, each in its own build directory,
# and fails if any stage failed (every selected stage runs regardless, and
# a summary with each stage's time closes the run). .ci/run calls this with
# no arguments: every stage.
usage() {
    cat <<'EOF'
usage: scripts/test.sh [STAGE...] [-- CTEST-ARGS...]

Stages (default: all of them, in this order):
  --quick     normal build (gcc, warnings as errors) and every CTest test
              (unit, integration, docs, e2e); extra CTEST-ARGS apply here,
              e.g. scripts/test.sh --quick -- -L unit
  --valgrind  valgrind memcheck over every unit test of the normal build;
              any error or definite/indirect leak fails (suppressions:
              tests/valgrind.supp, reviewed entries only)
  --asan      build with -DHERALD_SANITIZE=ON (ASan + UBSan + LeakSanitizer)
              and run the unit and integration labels; any sanitizer report,
              also from a service the tests started, fails
  --fuzz      build the libFuzzer targets with clang (-DHERALD_FUZZ=ON) and
              run each for HERALD_FUZZ_SECONDS; any crash, leak, sanitizer
              report or failed property check fails
  --all       every stage (the default)
  -h, --help  this text

Environment:
  BUILD_DIR            normal build (default: build)
  ASAN_BUILD_DIR       sanitizer build (default: build-asan)
  FUZZ_BUILD_DIR       fuzz build (default: build-fuzz)
  HERALD_FUZZ_SECONDS  seconds each fuzz target runs (default: 60)
  JOBS                 parallel build / fuzz jobs (default: nproc)
  HERALD_SANITIZE=ON   also sanitize the normal build (as before stages)

For backward compatibility, arguments that are not stages go to ctest in
the quick stage: scripts/test.sh -L unit = scripts/test.sh --quick -- -L unit
(and then only the quick stage runs).
EOF
}
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
asan_build=${ASAN_BUILD_DIR:-$root/build-asan}
fuzz_build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
fuzz_seconds=${HERALD_FUZZ_SECONDS:-60}
jobs=${JOBS:-$(nproc)}

stages=""
ctest_args=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) stages="$stages quick" ;;
    --valgrind) stages="$stages valgrind" ;;
    --asan) stages="$stages asan" ;;
    --fuzz) stages="$stages fuzz" ;;
    --all) stages="$stages quick valgrind asan fuzz" ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    # Left-over arguments are ctest's (the script's original interface).
    [ -z "$stages" ] && stages="quick"
    for arg in "$@"; do
        ctest_args="$ctest_args '$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")'"
    done
fi
[ -z "$stages" ] && stages="quick valgrind asan fuzz"

"$root/scripts/install-deps.sh"

# The normal build (the valgrind stage needs it too).
build_normal() {
    cmake -S "$root" -B "$build" -DHERALD_WERROR=ON \
          -DHERALD_SANITIZE="${HERALD_SANITIZE:-OFF}" >/dev/null
    cmake --build "$build" -j"$jobs"
}

stage_quick() {
    build_normal
    (cd "$build" && eval "ctest --output-on-failure --timeout 900 $ctest_args")
}

stage_valgrind() {
    build_normal
    # Each unit test's command line, as CTest would run it.
    cmds=$(cd "$build" && ctest -N -V -L '^unit$' | sed -n 's/^[0-9]*: Test command: //p')
    [ -n "$cmds" ] || { echo "valgrind: no unit tests found" >&2; return 1; }
    failed=0
    for cmd in $cmds; do
        name=$(basename "$cmd")
        log="$build/valgrind-$name.log"
        if valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
                --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
                --track-origins=yes --suppressions="$root/tests/valgrind.supp" \
                --gen-suppressions=all --log-file="$log" "$cmd" >/dev/null 2>&1; then
            echo "valgrind: $name clean"
        else
            echo "valgrind: $name FAILED (exit $?); log:" >&2
            cat "$log" >&2
            failed=1
        fi
    done
    return "$failed"
}

# Runs ctest with sanitizer reports written to files under $1/sanitizer-logs
# (so reports from services the tests start are caught too, not only the
# test programs' own), then fails on any report.
sanitized_ctest() {
    logs="$1/sanitizer-logs"
    shift
    rm -rf "$logs"
    mkdir -p "$logs"
    rc=0
    ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_exe_name=1:log_path=$logs/asan" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_exe_name=1:log_path=$logs/ubsan" \
        ctest --output-on-failure "$@" || rc=1
    if [ -n "$(ls -A "$logs")" ]; then
        echo "sanitizer reports (in $logs):" >&2
        for f in "$logs"/*; do
            echo "==== $f" >&2
            cat "$f" >&2
        done
        rc=1
    fi
    return "$rc"
}

stage_asan() {
    cmake -S "$root" -B "$asan_build" -DHERALD_WERROR=ON -DHERALD_SANITIZE=ON >/dev/null
    cmake --build "$asan_build" -j"$jobs"
    (cd "$asan_build" && sanitized_ctest "$asan_build" --timeout 900 -L '^(unit|integration)$')
}

stage_fuzz() {
    CC=clang cmake -S "$root" -B "$fuzz_build" -DHERALD_WERROR=ON -DHERALD_FUZZ=ON \
          -DHERALD_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
    cmake --build "$fuzz_build" -j"$jobs" --target herald_fuzz_all
    # Each target is one process on one core: run them side by side.
    (cd "$fuzz_build" && ctest --output-on-failure -L '^fuzz$' -j"$jobs") || {
        echo "fuzz: crash inputs are $fuzz_build/tests/fuzz/<target>-crash-*" >&2
        return 1
    }
}

summary=""
status=0
for stage in $stages; do
    echo "==== test.sh: stage $stage"
    start=$(date +%s)
    # A subshell outside any if/&&/||, so set -e stops the stage at its
    # first failing command (inside "if f" the shell would ignore -e).
    set +e
    (set -e; "stage_$stage")
    rc=$?
    set -e
    if [ $rc -eq 0 ]; then result=ok; else result=FAILED; status=1; fi
    secs=$(($(date +%s) - start))
    summary="$summary$(printf '  %-9s %-7s %5d s' "$stage" "$result" "$secs")
"
done
echo "==== test.sh: summary"
printf '%s' "$summary"
exit $status
