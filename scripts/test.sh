#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with GCC and -Werror, runs every test,
# then builds the unit tests with Clang's AddressSanitizer + UndefinedBehaviorSanitizer and runs
# them again. Prints where the time went (docs/benchmarks.md, "Test command time").
#   ALMANAC_SKIP_ASAN=1 scripts/test.sh   skips the sanitizer pass
#   JOBS=N scripts/test.sh                 compile and test jobs (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
phase_start=$start
phases=()
phase() {  # phase NAME: records the time since the previous phase ended
  local now
  now=$(date +%s)
  phases+=("$(printf '%-28s %5d s' "$1" $((now - phase_start)))")
  phase_start=$now
}

scripts/deps.sh test
JOBS=${JOBS:-$(nproc)}
scripts/check_layout.sh
phase "install and layout check"

# One throwaway PostgreSQL server for the whole run (the store tests create a database per
# test in it); stopped and removed on exit, also when a step fails.
pgdir=$(mktemp -d /tmp/almanac-test-pg-XXXXXX)
trap 'scripts/pg_test_server.sh stop "$pgdir"' EXIT
ALMANAC_TEST_POSTGRES_URI=$(scripts/pg_test_server.sh start "$pgdir")
export ALMANAC_TEST_POSTGRES_URI
# PostgreSQL tests fail instead of skipping when no server can run.
export ALMANAC_REQUIRE_POSTGRES=1
phase "PostgreSQL start"

cmake --preset ci >/dev/null
phase "configure (ci)"
cmake --build --preset ci -j "$JOBS"
phase "build (ci, GCC, -O1)"
ctest --preset ci -j "$JOBS" --timeout 900
phase "tests (ci: all)"

if [ "${ALMANAC_SKIP_ASAN:-0}" != "1" ]; then
  cmake --preset asan >/dev/null
  phase "configure (asan)"
  cmake --build --preset asan -j "$JOBS"
  phase "build (asan, Clang -O0)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -j "$JOBS" --timeout 1800 -L unit
  phase "tests (asan: unit)"
fi
echo "Where the time went:"
printf '  %s\n' "${phases[@]}"
echo "All tests passed in $(( $(date +%s) - start )) s."
