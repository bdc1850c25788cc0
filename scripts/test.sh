#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with -Werror, runs every test, then
# builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit tests again.
#   ALMANAC_SKIP_ASAN=1 scripts/test.sh   skips the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
JOBS=${JOBS:-$(nproc)}
start=$(date +%s)

scripts/check_layout.sh

# One throwaway PostgreSQL server for the whole run (the store tests create a database per
# test in it); stopped and removed on exit, also when a step fails.
pgdir=$(mktemp -d /tmp/almanac-test-pg-XXXXXX)
trap 'scripts/pg_test_server.sh stop "$pgdir"' EXIT
ALMANAC_TEST_POSTGRES_URI=$(scripts/pg_test_server.sh start "$pgdir")
export ALMANAC_TEST_POSTGRES_URI
# PostgreSQL tests fail instead of skipping when no server can run.
export ALMANAC_REQUIRE_POSTGRES=1

cmake --preset ci >/dev/null
cmake --build --preset ci -j "$JOBS"
ctest --preset ci -j "$JOBS" --timeout 900

if [ "${ALMANAC_SKIP_ASAN:-0}" != "1" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -j "$JOBS" --timeout 1800 -L unit
fi
echo "All tests passed in $(( $(date +%s) - start )) s."
