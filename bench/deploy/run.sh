#!/usr/bin/env bash
# The deployment figures (docs/benchmarks.md, "Issue 21"): image size and build time, container
# start to ready, and a rolling restart of the serve replicas under wrk load with zero failed
# requests. Not part of the test command. Needs what scripts/container_test.sh needs, and wrk.
#   bench/deploy/run.sh [ALMANAC_BINARY]   (default build/ci/src/cli/almanac)
set -euo pipefail
cd "$(dirname "$0")/../.."
ALMANAC_DEPLOY_BENCH=1 exec scripts/container_test.sh "${1:-build/ci/src/cli/almanac}" image compose
