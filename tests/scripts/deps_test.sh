#!/usr/bin/env bash
# Without root and sudo, scripts/deps.sh prints the exact apt-get line it needs and stops.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -eq 0 ]; then
  id nobody >/dev/null 2>&1 || { echo "SKIP: no 'nobody' user"; exit 0; }
  run() { runuser -u nobody -- env PATH="/usr/sbin:/usr/bin:/sbin:/bin" "$@"; }
else
  if sudo -n true 2>/dev/null; then echo "SKIP: this user has sudo"; exit 0; fi
  run() { "$@"; }
fi
out=$(ALMANAC_EXTRA_PACKAGES=almanac-test-no-such-package run bash scripts/deps.sh build 2>&1)
rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL: expected exit 1, got $rc"; exit 1; }
echo "$out" | grep -q "apt-get install -y .*almanac-test-no-such-package" || { echo "FAIL: no apt-get line"; exit 1; }
echo PASS
