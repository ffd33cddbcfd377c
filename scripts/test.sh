#!/bin/sh
# Runs Herald's whole test suite from a fresh clone: installs missing Debian
# packages, builds with warnings as errors, runs every CTest test.
#   scripts/test.sh                  # everything
#   scripts/test.sh -L unit          # extra arguments go to ctest
# Environment: BUILD_DIR (default build), HERALD_SANITIZE=ON for ASan+UBSan.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DHERALD_WERROR=ON \
      -DHERALD_SANITIZE="${HERALD_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 900 "$@"
